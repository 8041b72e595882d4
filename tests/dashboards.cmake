# Registered by tests/CMakeLists.txt: checks of what dashboards/ ships to users.
#   dashboards_rules           promtool check rules (with lint) on the alerting rules
#   dashboards_rules_unit      promtool test rules: every alert fires, and does not, as specified
#   dashboards_json            static checks of the Grafana dashboard (structure, metric and label
#                              names against the product's Metrics contract)
#   dashboards_json_selftest   the dashboard checker rejects broken copies of the dashboard
#   dashboards_shellcheck      the scripts pass shellcheck
#   dashboards_promql (e2e)    a real Prometheus parses every expression of the dashboard
# The tools (promtool, prometheus, jq, curl, ss, shellcheck) are looked up in
# tests/CMakeLists.txt (tools.cmake): a missing one has stopped the configuration unless a
# partial run was asked for with ELB_ALLOW_MISSING_TOOLS, which leaves its tests out.

set(DASH_DIR ${CMAKE_SOURCE_DIR}/dashboards)

if(ELB_PROMTOOL)
  add_test(NAME dashboards_rules
           COMMAND ${ELB_PROMTOOL} check rules --lint=all --lint-fatal ${DASH_DIR}/alerts.yml)
  # rule_files in alerts_test.yml is relative: run it from dashboards/.
  add_test(NAME dashboards_rules_unit
           COMMAND ${ELB_PROMTOOL} test rules alerts_test.yml
           WORKING_DIRECTORY ${DASH_DIR})
  set_tests_properties(dashboards_rules dashboards_rules_unit PROPERTIES LABELS unit TIMEOUT 60)
endif()

if(ELB_JQ)
  add_test(NAME dashboards_json
           COMMAND bash ${DASH_DIR}/check_dashboard.sh ${DASH_DIR}/elb_jobs.json)
  add_test(NAME dashboards_json_selftest
           COMMAND bash ${DASH_DIR}/check_dashboard.sh --self-test ${DASH_DIR}/elb_jobs.json)
  set_tests_properties(dashboards_json dashboards_json_selftest PROPERTIES LABELS unit TIMEOUT 120)
endif()

if(ELB_SHELLCHECK)
  add_test(NAME dashboards_shellcheck
           COMMAND ${ELB_SHELLCHECK} ${DASH_DIR}/check_dashboard.sh ${DASH_DIR}/check_promql.sh)
  set_tests_properties(dashboards_shellcheck PROPERTIES LABELS unit TIMEOUT 60)
endif()

if(ELB_PROMETHEUS AND ELB_JQ AND ELB_CURL AND ELB_SS)
  add_test(NAME dashboards_promql
           COMMAND bash ${DASH_DIR}/check_promql.sh ${DASH_DIR}/elb_jobs.json)
  set_tests_properties(dashboards_promql PROPERTIES
                       LABELS e2e TIMEOUT 240 ENVIRONMENT "PROMETHEUS=${ELB_PROMETHEUS}")
endif()
