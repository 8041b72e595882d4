/*
 * The two answers the API documents give verbatim, shared by the tests: the
 * seed's example response (querying_the_job_status.rst, its code block
 * unindented, no trailing newline) and api-notes.md's real RUNNING answer.
 * src/sim.c keeps its own transcription on purpose: test_sim checks it
 * against these.
 */
#ifndef ELB_TESTS_API_EXAMPLES_H
#define ELB_TESTS_API_EXAMPLES_H

#define API_EXAMPLE_SEED                                                                           \
    "{\n"                                                                                          \
    "    \"status\": \"SUCCESS\",\n"                                                               \
    "    \"entities\":\n"                                                                          \
    "     {\n"                                                                                     \
    "      \"elb\":\n"                                                                             \
    "       {\n"                                                                                   \
    "        \"id\": \"ef265755daf84333baf4ddc1d91cbc2f\",\n"                                      \
    "        \"name\": \"1\",\n"                                                                   \
    "        \"type\": \"External\",\n"                                                            \
    "        \"status\": \"ACTIVE\",\n"                                                            \
    "        \"bandwidth\": 1,\n"                                                                  \
    "        \"vip_address\": \"10.154.53.4\",\n"                                                  \
    "        \"tenant_id\": \"cbc08e2f8c354c7aa7abb88d0a7d11dc\",\n"                               \
    "        \"admin_state_up\": false,\n"                                                         \
    "        \"vpc_id\": \"21838be1-c1ce-4c09-9184-228cdb43038d\"\n"                               \
    "        }\n"                                                                                  \
    "      },\n"                                                                                   \
    "     \"job_id\": \"ff8080825ecc523f015ecd0a98f82f77\",\n"                                     \
    "     \"job_type\": \"createELB\",\n"                                                          \
    "     \"begin_time\": \"2017-09-29T09:49:37.399Z\",\n"                                         \
    "     \"end_time\": \"2017-09-29T09:50:03.272Z\",\n"                                           \
    "     \"error_code\": null,\n"                                                                 \
    "     \"fail_reason\": null\n"                                                                 \
    "}"

#define API_EXAMPLE_RUNNING                                                                        \
    "{\"status\":\"RUNNING\",\"entities\":{\"elb_id\":\"ea3e5715b68850a747ec41f335625c08\"},"      \
    "\"job_id\":\"4010b39b4fd3d5ff014fd943bac41619\",\"job_type\":\"deleteELB\","                  \
    "\"begin_time\":\"2015-09-17T03:05:38.756Z\",\"end_time\":\"\",\"error_code\":null,"           \
    "\"fail_reason\":null}"

#endif
