# Unit test of the API simulator (src/sim/sim.c): a real libmicrohttpd server on
# 127.0.0.1 (and ::1 when available) queried with libcurl, with threads.
elb_unit_test(test_sim ${S}/sim/sim.c ${S}/sim/sim_iam.c ${S}/strbuf.c ${S}/timeutil.c ${S}/log.c)
target_link_libraries(test_sim PkgConfig::MHD PkgConfig::CURL)
set_tests_properties(test_sim PROPERTIES LABELS "unit;threads")

# The simulator's scripted jobs through the parser, each with its own profile.
elb_unit_test(test_sim_parse ${S}/sim/sim.c ${S}/sim/sim_iam.c ${S}/strbuf.c ${S}/timeutil.c
              ${S}/log.c ${S}/job.c ${S}/json.c ${S}/profile.c)
target_link_libraries(test_sim_parse PkgConfig::MHD PkgConfig::CURL)
set_tests_properties(test_sim_parse PROPERTIES LABELS "unit;threads")
