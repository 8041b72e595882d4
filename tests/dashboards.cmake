# Registered by tests/CMakeLists.txt: checks of what dashboards/ ships to users.
#   dashboards_rules           promtool check rules (with lint) on the alerting rules
#   dashboards_rules_unit      promtool test rules: every alert fires, and does not, as specified
#   dashboards_json            static checks of the Grafana dashboard (structure, metric and label
#                              names against the product's Metrics contract)
#   dashboards_json_selftest   the dashboard checker rejects broken copies of the dashboard
#   dashboards_shellcheck      the scripts pass shellcheck (when shellcheck is installed)
#   dashboards_promql (e2e)    a real Prometheus parses every expression of the dashboard
# A tool that is missing leaves its tests unregistered, with a note at configure time.

set(DASH_DIR ${CMAKE_SOURCE_DIR}/dashboards)
find_program(DASH_PROMTOOL promtool)
find_program(DASH_PROMETHEUS prometheus)
find_program(DASH_JQ jq)
find_program(DASH_CURL curl)
find_program(DASH_SS ss)
find_program(DASH_SHELLCHECK shellcheck)

if(DASH_PROMTOOL)
  add_test(NAME dashboards_rules
           COMMAND ${DASH_PROMTOOL} check rules --lint=all --lint-fatal ${DASH_DIR}/alerts.yml)
  # rule_files in alerts_test.yml is relative: run it from dashboards/.
  add_test(NAME dashboards_rules_unit
           COMMAND ${DASH_PROMTOOL} test rules alerts_test.yml
           WORKING_DIRECTORY ${DASH_DIR})
  set_tests_properties(dashboards_rules dashboards_rules_unit PROPERTIES LABELS unit TIMEOUT 60)
else()
  message(STATUS "promtool not found: the dashboards_rules* tests are not registered")
endif()

if(DASH_JQ)
  add_test(NAME dashboards_json
           COMMAND bash ${DASH_DIR}/check_dashboard.sh ${DASH_DIR}/elb_jobs.json)
  add_test(NAME dashboards_json_selftest
           COMMAND bash ${DASH_DIR}/check_dashboard.sh --self-test ${DASH_DIR}/elb_jobs.json)
  set_tests_properties(dashboards_json dashboards_json_selftest PROPERTIES LABELS unit TIMEOUT 120)
else()
  message(STATUS "jq not found: the dashboards_json* and dashboards_promql tests are not registered")
endif()

if(DASH_SHELLCHECK)
  add_test(NAME dashboards_shellcheck
           COMMAND ${DASH_SHELLCHECK} ${DASH_DIR}/check_dashboard.sh ${DASH_DIR}/check_promql.sh)
  set_tests_properties(dashboards_shellcheck PROPERTIES LABELS unit TIMEOUT 60)
endif()

if(DASH_PROMETHEUS AND DASH_JQ AND DASH_CURL AND DASH_SS)
  add_test(NAME dashboards_promql
           COMMAND bash ${DASH_DIR}/check_promql.sh ${DASH_DIR}/elb_jobs.json)
  set_tests_properties(dashboards_promql PROPERTIES
                       LABELS e2e TIMEOUT 240 ENVIRONMENT "PROMETHEUS=${DASH_PROMETHEUS}")
elseif(DASH_JQ)
  message(STATUS "prometheus, curl or ss not found: the dashboards_promql test is not registered")
endif()
