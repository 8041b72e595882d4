# Registered by tests/CMakeLists.txt: unit test of the log module.
elb_unit_test(test_log ${S}/log.c ${S}/strbuf.c)
