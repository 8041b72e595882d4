# Unit test of the API simulator (src/sim/sim.c): a real libmicrohttpd server on
# 127.0.0.1 (and ::1 when available) queried with libcurl, with threads. Its AK/SK
# requests are signed by the exporter's signer (src/auth/aksk.c), so that the two
# independent implementations meet.
elb_unit_test(test_sim ${S}/sim/sim.c ${S}/sim/sim_iam.c ${S}/sim/sim_aksk.c ${S}/auth/aksk.c ${S}/strbuf.c
              ${S}/timeutil.c ${S}/log.c)
target_link_libraries(test_sim PkgConfig::MHD PkgConfig::CURL PkgConfig::CRYPTO)
# The simulator's own AK/SK verifier (src/sim/sim_aksk.c): the published vectors, and
# every flipped bit refused.
elb_unit_test(test_sim_aksk ${S}/sim/sim_aksk.c ${S}/strbuf.c)
target_link_libraries(test_sim_aksk PkgConfig::CRYPTO)
set_tests_properties(test_sim PROPERTIES LABELS "unit;threads")

# The simulator's scripted jobs through the parser, each with its own profile.
elb_unit_test(test_sim_parse ${S}/sim/sim.c ${S}/sim/sim_iam.c ${S}/sim/sim_aksk.c ${S}/strbuf.c ${S}/timeutil.c
              ${S}/log.c ${S}/job.c ${S}/json.c ${S}/profile.c)
target_link_libraries(test_sim_parse PkgConfig::MHD PkgConfig::CURL PkgConfig::CRYPTO)
set_tests_properties(test_sim_parse PROPERTIES LABELS "unit;threads")
