/*
 * sim: a simulator of the job APIs (see sim.h), for tests and for --demo.
 *
 * Written from docs/api-notes.md sections 1 and 3, the seed document and the
 * public API pages of ECS, EVS and ELB v3 only; it shares no code with the
 * parser (src/job.c, src/json.c) so that the two cannot agree on a mistake.
 *
 * THE SCRIPT
 *
 * Every job answer below needs credentials and the configured project id in
 * the path (else 403 ELB.1001, error shape 2). Credentials are either
 * `X-Auth-Token: <token>` (else 401 APIGW.0301, error shape 1) or, when the
 * request carries `Authorization: SDK-HMAC-SHA256 ...`, an AK/SK signature
 * for the configured access key pair, checked by sim_aksk.c (its own
 * implementation of api-notes.md section 2, never the exporter's): host,
 * x-project-id and x-sdk-date must be signed, X-Sdk-Date within 15 minutes of
 * the clock; any failure is 401
 * `{"error_msg":"Incorrect IAM authentication information: <reason>","error_code":"APIGW.0301"}`
 * with the reason (bad signature: "verify aksk signature fail"), and an
 * X-Project-Id other than the project is 403 ELB.1001. Order of checks: path
 * (404), method (405, Allow: GET), credentials (401), project (403), fault
 * mode, job script. Unknown job ids (but the synthetic "b0..." ones of
 * packaging/bench.sh, see reply_synthetic) answer
 * 404 `{"message":"Job not found","code":"ELB.1017"}` (shape 3). JSON answers
 * carry `Content-Type: application/json;charset=utf-8`.
 *
 * Scripted jobs answering 200 (sim_demo_jobs(), the contract of the integration tests):
 *   ff8080825ecc523f015ecd0a98f82f77  the seed example response, byte for byte
 *                                     (pretty-printed, odd indentation and all)
 *   4010b39b4fd3d5ff014fd943bac41619  the api-notes RUNNING deleteELB example, byte for byte
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0001  INIT createELB, entities {}, begin without fraction
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0002  FAIL createELB, ELB.1003, fail_reason with \" \n
 *                                     \u00fc, a surrogate pair and \\
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0003  RUNNING batchCreateMembers with sub_jobs: 1031 SUCCESS
 *                                     (sub_jobs [1034 SUCCESS, sub_jobs null]), 1032 RUNNING
 *                                     (sub_jobs ""), 1033 INIT (no sub_jobs key)
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0004  SUCCESS deleteELB, sub_jobs null
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0005  SUCCESS modifyELB (undocumented type), sub_jobs "",
 *                                     "message": null, "code": null
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0006  RUNNING createELB, begin without fraction, end_time null
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0007  status "QUEUED" (undocumented)
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0008  progressing createELB: INIT, RUNNING, RUNNING, SUCCESS
 *   2c9eb2c15e1d4e1a015e1e0c3b8a0009  progressing deleteELB: INIT, RUNNING, FAIL ELB.2001
 *                                     "backend busy"
 *   2c9eb2c15e1d4e1a015e1e0c3b8a000a  progressing modifyELB: INIT, INIT, RUNNING, RUNNING,
 *                                     SUCCESS
 *   2c9eb2c15e1d4e1a015e1e0c3b8a000b  progressing createELB: INIT x3, RUNNING x2, SUCCESS
 * Progression: with step_ms == 0 the step is the number of 200 answers this job
 * already gave (401/403/405 and fault-mode answers do not count), and the times
 * are fixed (begin 2026-11-28T12:00:00.000Z, end 12:00:42.500Z / 12:00:21.000Z /
 * 12:00:35.750Z / 12:00:58.125Z). With step_ms > 0 the step is
 * (now - origin) / step_ms, begin is the origin's wall time and end is
 * origin + final_step * step_ms. The origin is sim_start or the last
 * /_sim/reset. While not finished: end_time "", error fields null.
 *
 * Times: with step_ms == 0 (the tests) every other body is served byte for byte
 * as written here. With step_ms > 0 (the demo) each job's timestamps are moved
 * by one amount so that it began age_s (in the script table) before the origin:
 * finished jobs began minutes ago (12 to 45), running ones seconds ago, and
 * durations, sub-job offsets and the fraction-or-not of each timestamp are
 * kept; nothing is in the future and nothing older than an hour.
 *
 * Jobs of the other APIs (sim_demo_jobs_profiled(), as "PROFILE:ID"), each
 * answering 200 on its own path only and 404 on the others. ECS and EVS write
 * the classic field order with sub-jobs inside entities; ELB v3 writes
 * {"job":{status, begin_time, end_time, job_id, resource_id, job_type,
 * error_code, error_msg, project_id, sub_jobs},"request_id":...}, whole-second
 * times, "" for empty error fields, sub-jobs whose entities are arrays, and the
 * default project's id as project_id:
 *   ff80808288d41e1b0189902609551a00  ecs-v1 SUCCESS createServer, sub_jobs_total 1, one
 *                                     SUCCESS createSingleServer (server_id)
 *   ff80808288d41e1b0189902609552b00  ecs-v1 FAIL createServer, error fields null, sub_jobs_total
 *                                     2: a SUCCESS sub-job and a FAIL one with error_code
 *                                     Ecs.0013, a terse fail_reason and the reason in
 *                                     entities.errorcode_message
 *   ff80808288d41e1b0189902609553c00  ecs-v1 RUNNING deleteServer, sub_jobs_total 2: RUNNING and
 *                                     INIT deleteSingleServer
 *   ff808082739334d80173943ec9b20a00  evs-v1 SUCCESS batchCreateVolume, two SUCCESS createVolume
 *                                     sub-jobs (volume_id, size, ...), no total
 *   ff808082739334d80173943ec9b20b00  evs-v1 FAIL extendVolume EVS.2024, entities of one volume
 *                                     with sub_jobs ""
 *   6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0  elb-v3 progressing cloneLoadbalancer: RUNNING,
 *                                     ROLLBACKING, ROLLBACKING, ROLLBACK_FAIL ELB.8907 with an
 *                                     error_msg; end_time null and error fields "" until then
 *                                     (step mode: begin 2026-11-28T12:00:00Z, end 12:00:33Z)
 *   2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70  elb-v3 COMPLETE UPGRADE, sub_jobs []
 *   8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d  elb-v3 CANCEL batchCreateV3Loadbalancer, sub-jobs
 *                                     SUCCESS and CANCEL
 * A job asked on another API's path answers that API's 404: /v1.0/ the one
 * above, /v1/ {"error":{"message":"Job not found","code":"Ecs.0114"}}, /v3/
 * {"error_msg":"Job not found","error_code":"ELB.8904","request_id":"..."}
 * (the shapes are the services'; the code numbers are the simulator's). The
 * 401, 403, 405 and fault answers are the same on every path.
 *
 * Fault jobs (not in sim_demo_jobs()):
 *   fa170000000000000000000000000429  first answer 429 APIGW.0308 + Retry-After: 1,
 *                                     later answers SUCCESS createELB
 *   fa170000000000000000000000000500  always 500 {"error":{..."ELB.0500"}}
 *   fa170000000000000000000000000503  always 503 {"error_msg":...,"error_code":"ELB.0503"}
 *   fa17000000000000000000000000000a  answers RUNNING createELB only after slow_ms
 *   fa17000000000000000000000000000b  200, malformed JSON
 *   fa17000000000000000000000000000c  200, a valid job body cut in half (honest Content-Length)
 *   fa17000000000000000000000000000d  200, Content-Length of the full body, the
 *                                     connection closes after half of it
 *   fa17000000000000000000000000000e  200, a valid job of about 2 MiB (entities.padding)
 *   fa17000000000000000000000000000f  200, "status": 3
 *   fa170000000000000000000000000010  200, text/html "Bad Gateway" page
 *
 * Control (no token): GET /_sim/requests lists "<job_id> <count>\n" sorted by id,
 * counting every request on the job path (any method, token or project) whose id
 * is 1..64 of [A-Za-z0-9_-], up to SIM_MAX_TRACKED ids; POST /_sim/fault/<mode>
 * (none 500 503 401 404 429 timeout) makes every authorised job answer that fault
 * (timeout: wait slow_ms, then 504 APIGW.0504); POST /_sim/reset zeroes the
 * counters, clears the fault and restarts the progression. Control POSTs answer
 * 200 "ok\n", an unknown mode 400, a wrong method 405.
 *
 * HTTPS: given a certificate and key (sim_options.tls_cert_pem/tls_key_pem,
 * elb_api_sim --tls-cert-file/--tls-key-file), everything above is served over
 * TLS by libmicrohttpd itself (GnuTLS), for the exporter's TLS tests.
 *
 * DESIGN
 *
 * libmicrohttpd runs one thread per connection, so the slow job holds only its
 * own connection. Everything that changes (counters, fault mode, time origin,
 * the stop flag) lives in struct sim behind one mutex, held only for short
 * bookkeeping, never while answering. Slow answers wait on a condition variable
 * (monotonic clock) that sim_stop broadcasts before stopping the daemon, so a
 * pending slow answer gives up at once (the connection is dropped) and
 * MHD_stop_daemon can join its thread promptly.
 */
#include "sim.h"

#include "sim_aksk.h"
#include "sim_iam.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#define SIM_DEFAULT_HOST "127.0.0.1"
#define SIM_DEFAULT_TOKEN "sim-token"
#define SIM_DEFAULT_AK "sim-ak"
#define SIM_DEFAULT_SK "sim-sk"
#define SIM_DEFAULT_PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"
#define SIM_DEFAULT_SLOW_MS 3000u

#define SIM_HOST_MAX 64                   /* numeric IPv4/IPv6 address text */
#define SIM_SECRET_MAX 4096               /* token length cap */
#define SIM_PROJECT_MAX 128               /* project id length cap */
#define SIM_ID_MAX 64                     /* job ids that are counted: 1..64 of [A-Za-z0-9_-] */
#define SIM_MAX_TRACKED 1024              /* distinct job ids counted for /_sim/requests */
#define SIM_IAM_BODY_MAX 65536            /* bytes of an IAM login body */
#define SIM_MAX_CONNECTIONS 64            /* concurrent connections (one thread each) */
#define SIM_CONN_TIMEOUT_S 60u            /* idle keep-alive connections are closed after this */
#define SIM_BODY_MAX (4u * 1024u * 1024u) /* cap on any generated body */
#define SIM_HUGE_PADDING (2u * 1024u * 1024u) /* size of the huge job's padding string */
#define SIM_PAD_CHUNK 4096u
#define SIM_TS_MAX 80 /* a formatted timestamp, with room for any int the compiler imagines */
#define SIM_LIST_MAX ((size_t)SIM_MAX_TRACKED * (SIM_ID_MAX + 24))
#define SIM_PEM_MAX (64u * 1024u) /* bytes of the TLS certificate chain or key */
#define SIM_ERR_MAX 512           /* bytes of a generated error body */

#define CT_JSON "application/json;charset=utf-8"
#define CT_TEXT "text/plain;charset=utf-8"
#define CT_HTML "text/html;charset=utf-8"

/* ---- the script ------------------------------------------------------------------------ */

#define Q(s) "\"" s "\""
/* One job object in the field order the real service uses (see the RUNNING example). */
#define JOB(status, entities, id, type, begin, end, ec, fr, tail)                                  \
    "{\"status\":" status ",\"entities\":" entities ",\"job_id\":\"" id "\",\"job_type\":\"" type  \
    "\",\"begin_time\":" begin ",\"end_time\":" end ",\"error_code\":" ec                          \
    ",\"fail_reason\":" fr tail "}"

#define ID_SEED "ff8080825ecc523f015ecd0a98f82f77"
#define ID_RUNEX "4010b39b4fd3d5ff014fd943bac41619"
#define ID_J1 "2c9eb2c15e1d4e1a015e1e0c3b8a0001"
#define ID_J2 "2c9eb2c15e1d4e1a015e1e0c3b8a0002"
#define ID_J3 "2c9eb2c15e1d4e1a015e1e0c3b8a0003"
#define ID_J4 "2c9eb2c15e1d4e1a015e1e0c3b8a0004"
#define ID_J5 "2c9eb2c15e1d4e1a015e1e0c3b8a0005"
#define ID_J6 "2c9eb2c15e1d4e1a015e1e0c3b8a0006"
#define ID_J7 "2c9eb2c15e1d4e1a015e1e0c3b8a0007"
#define ID_J8 "2c9eb2c15e1d4e1a015e1e0c3b8a0008"
#define ID_J9 "2c9eb2c15e1d4e1a015e1e0c3b8a0009"
#define ID_JA "2c9eb2c15e1d4e1a015e1e0c3b8a000a"
#define ID_JB "2c9eb2c15e1d4e1a015e1e0c3b8a000b"
#define ID_F429 "fa170000000000000000000000000429"
#define ID_F500 "fa170000000000000000000000000500"
#define ID_F503 "fa170000000000000000000000000503"
#define ID_FSLOW "fa17000000000000000000000000000a"
#define ID_FMAL "fa17000000000000000000000000000b"
#define ID_FCUT "fa17000000000000000000000000000c"
#define ID_FCLOSE "fa17000000000000000000000000000d"
#define ID_FHUGE "fa17000000000000000000000000000e"
#define ID_FTYPE "fa17000000000000000000000000000f"
#define ID_FHTML "fa170000000000000000000000000010"
#define ID_ECS_OK "ff80808288d41e1b0189902609551a00"
#define ID_ECS_FAIL "ff80808288d41e1b0189902609552b00"
#define ID_ECS_RUN "ff80808288d41e1b0189902609553c00"
#define ID_EVS_OK "ff808082739334d80173943ec9b20a00"
#define ID_EVS_FAIL "ff808082739334d80173943ec9b20b00"
#define ID_V3_ROLLBACK "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define ID_V3_COMPLETE "2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70"
#define ID_V3_CANCEL "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"

/* The seed's example response exactly as printed (its code block, unindented). */
static const char body_seed[] = "{\n"
                                "    \"status\": \"SUCCESS\",\n"
                                "    \"entities\":\n"
                                "     {\n"
                                "      \"elb\":\n"
                                "       {\n"
                                "        \"id\": \"ef265755daf84333baf4ddc1d91cbc2f\",\n"
                                "        \"name\": \"1\",\n"
                                "        \"type\": \"External\",\n"
                                "        \"status\": \"ACTIVE\",\n"
                                "        \"bandwidth\": 1,\n"
                                "        \"vip_address\": \"10.154.53.4\",\n"
                                "        \"tenant_id\": \"cbc08e2f8c354c7aa7abb88d0a7d11dc\",\n"
                                "        \"admin_state_up\": false,\n"
                                "        \"vpc_id\": \"21838be1-c1ce-4c09-9184-228cdb43038d\"\n"
                                "        }\n"
                                "      },\n"
                                "     \"job_id\": \"ff8080825ecc523f015ecd0a98f82f77\",\n"
                                "     \"job_type\": \"createELB\",\n"
                                "     \"begin_time\": \"2017-09-29T09:49:37.399Z\",\n"
                                "     \"end_time\": \"2017-09-29T09:50:03.272Z\",\n"
                                "     \"error_code\": null,\n"
                                "     \"fail_reason\": null\n"
                                "}";

/* The api-notes "Running example (real)", byte for byte. */
static const char body_runex[] =
    "{\"status\":\"RUNNING\",\"entities\":{\"elb_id\":\"ea3e5715b68850a747ec41f335625c08\"},"
    "\"job_id\":\"4010b39b4fd3d5ff014fd943bac41619\",\"job_type\":\"deleteELB\","
    "\"begin_time\":\"2015-09-17T03:05:38.756Z\",\"end_time\":\"\",\"error_code\":null,"
    "\"fail_reason\":null}";

static const char body_j1[] =
    JOB(Q("INIT"), "{}", ID_J1, "createELB", Q("2017-09-29T10:00:00Z"), Q(""), "null", "null", "");

static const char body_j2[] = JOB(
    Q("FAIL"), "{\"elb\":{\"id\":\"0f7e6b7c1d2e4f5a8b9c0d1e2f3a4b5c\",\"name\":\"web\"}}", ID_J2,
    "createELB", Q("2017-09-29T09:49:37.399Z"), Q("2017-09-29T09:49:40.001Z"), Q("ELB.1003"),
    Q("Quota exceeded: \\\"elb\\\" limit 10\\nsee \\u00fcber-docs \\ud83d\\ude80 \\\\ done"), "");

#define SUB_1034                                                                                   \
    JOB(Q("SUCCESS"), "{\"member_id\":\"m1\"}", "2c9eb2c15e1d4e1a015e1e0c3b8a1034",                \
        "createMember", Q("2017-09-29T11:00:00.200Z"), Q("2017-09-29T11:00:01.900Z"), "null",      \
        "null", ",\"sub_jobs\":null")
#define SUB_1031                                                                                   \
    JOB(Q("SUCCESS"), "{\"members\":[{\"id\":\"m1\"}]}", "2c9eb2c15e1d4e1a015e1e0c3b8a1031",       \
        "createMember", Q("2017-09-29T11:00:00.100Z"), Q("2017-09-29T11:00:02.300Z"), "null",      \
        "null", ",\"sub_jobs\":[" SUB_1034 "]")
#define SUB_1032                                                                                   \
    JOB(Q("RUNNING"), "{\"members\":[{\"id\":\"m2\"}]}", "2c9eb2c15e1d4e1a015e1e0c3b8a1032",       \
        "createMember", Q("2017-09-29T11:00:00.150Z"), Q(""), "null", "null",                      \
        ",\"sub_jobs\":\"\"")
#define SUB_1033                                                                                   \
    JOB(Q("INIT"), "{}", "2c9eb2c15e1d4e1a015e1e0c3b8a1033", "createMember",                       \
        Q("2017-09-29T11:00:00.160Z"), Q(""), "null", "null", "")

static const char body_j3[] =
    JOB(Q("RUNNING"), "{\"members\":[{\"id\":\"m1\"},{\"id\":\"m2\"}]}", ID_J3,
        "batchCreateMembers", Q("2017-09-29T11:00:00.000Z"), Q(""), "null", "null",
        ",\"sub_jobs\":[" SUB_1031 "," SUB_1032 "," SUB_1033 "]");

static const char body_j4[] =
    JOB(Q("SUCCESS"), "{\"elb_id\":\"5d3f1c2b4a6e4f708192a3b4c5d6e7f8\"}", ID_J4, "deleteELB",
        Q("2017-09-29T12:00:00.000Z"), Q("2017-09-29T12:00:07.250Z"), "null", "null",
        ",\"sub_jobs\":null");

static const char body_j5[] =
    JOB(Q("SUCCESS"), "{}", ID_J5, "modifyELB", Q("2017-09-29T12:30:00.500Z"),
        Q("2017-09-29T12:30:01.000Z"), "null", "null",
        ",\"sub_jobs\":\"\",\"message\":null,\"code\":null");

static const char body_j6[] = JOB(Q("RUNNING"), "{\"elb\":{\"id\":\"6a\"}}", ID_J6, "createELB",
                                  Q("2017-09-29T13:00:00Z"), "null", "null", "null", "");

static const char body_j7[] = JOB(Q("QUEUED"), "{}", ID_J7, "createELB",
                                  Q("2017-09-29T14:00:00.000Z"), Q(""), "null", "null", "");

/* Progressing jobs: %s for status, begin (unquoted), end (raw), error_code, fail_reason. */
static const char fmt_j8[] =
    JOB(Q("%s"), "{\"elb\":{\"id\":\"8b\"}}", ID_J8, "createELB", Q("%s"), "%s", "%s", "%s", "");
static const char fmt_j9[] =
    JOB(Q("%s"), "{\"elb_id\":\"9c\"}", ID_J9, "deleteELB", Q("%s"), "%s", "%s", "%s", "");
static const char fmt_ja[] =
    JOB(Q("%s"), "{\"elb_id\":\"aa\"}", ID_JA, "modifyELB", Q("%s"), "%s", "%s", "%s", "");
static const char fmt_jb[] =
    JOB(Q("%s"), "{\"elb\":{\"id\":\"bb\"}}", ID_JB, "createELB", Q("%s"), "%s", "%s", "%s", "");

static const char body_f429_later[] =
    JOB(Q("SUCCESS"), "{\"elb_id\":\"4290\"}", ID_F429, "createELB", Q("2017-09-29T15:00:00.000Z"),
        Q("2017-09-29T15:00:01.000Z"), "null", "null", "");
static const char body_slow[] = JOB(Q("RUNNING"), "{}", ID_FSLOW, "createELB",
                                    Q("2017-09-29T16:00:00.000Z"), Q(""), "null", "null", "");
static const char body_malformed[] = "{\"status\":\"RUNNING\",,\"job_id\":}";
static const char body_cut_full[] =
    JOB(Q("RUNNING"), "{\"elb\":{\"id\":\"cc\"}}", ID_FCUT, "createELB",
        Q("2017-09-29T17:00:00.000Z"), Q(""), "null", "null", "");
static const char body_close_full[] =
    JOB(Q("RUNNING"), "{\"elb\":{\"id\":\"dd\"}}", ID_FCLOSE, "createELB",
        Q("2017-09-29T18:00:00.000Z"), Q(""), "null", "null", "");
static const char body_huge_head[] = "{\"status\":\"RUNNING\",\"entities\":{\"padding\":\"";
static const char body_huge_tail[] =
    "\"},\"job_id\":\"" ID_FHUGE "\",\"job_type\":\"createELB\","
    "\"begin_time\":\"2017-09-29T19:00:00.000Z\",\"end_time\":\"\",\"error_code\":null,"
    "\"fail_reason\":null}";
static const char body_badtype[] =
    JOB("3", "{}", ID_FTYPE, "createELB", Q("2017-09-29T20:00:00.000Z"), Q(""), "null", "null", "");
static const char body_html[] = "<html><body>Bad Gateway</body></html>";

/* ECS (api-notes.md section 3): the classic order, sub-jobs and their total inside entities. */
#define ECS_SUB(status, entities, id, type, begin, end, ec, fr)                                    \
    JOB(Q(status), entities, id, type, Q(begin), end, ec, fr, "")

static const char body_ecs_ok[] =
    JOB(Q("SUCCESS"),
        "{\"sub_jobs_total\":1,\"sub_jobs\":[" ECS_SUB(
            "SUCCESS", "{\"server_id\":\"5d2b7f0e-8c1a-4e0b-9a57-3c6f1d2e4b10\"}",
            "ff80808288d41e1b0189902609551a01", "createSingleServer", "2023-07-25T09:30:12.104Z",
            Q("2023-07-25T09:31:40.877Z"), "null", "null") "]}",
        ID_ECS_OK, "createServer", Q("2023-07-25T09:30:10.512Z"), Q("2023-07-25T09:31:44.020Z"),
        "null", "null", "");

static const char body_ecs_fail[] =
    JOB(Q("FAIL"),
        "{\"sub_jobs_total\":2,\"sub_jobs\":[" ECS_SUB(
            "SUCCESS", "{\"server_id\":\"0e3c5a1b-2d4f-4a6b-8c9d-1e2f3a4b5c6d\"}",
            "ff80808288d41e1b0189902609552b01", "createSingleServer", "2023-07-25T10:00:02.000Z",
            Q("2023-07-25T10:01:12.345Z"), "null",
            "null") "," ECS_SUB("FAIL",
                                "{\"errorcode_message\":"
                                "\"Insufficient EIP quota. "
                                "Apply for more, or release "
                                "unused EIPs.\"}",
                                "ff80808288d41e1b0189902609552b"
                                "02",
                                "createSingleServer", "2023-07-25T10:00:02.010Z",
                                Q("2023-07-25T10:00:09.500Z"), Q("Ecs.0013"),
                                Q("create eip failed")) "]}",
        ID_ECS_FAIL, "createServer", Q("2023-07-25T10:00:01.000Z"), Q("2023-07-25T10:01:13.000Z"),
        "null", "null", "");

static const char body_ecs_run[] =
    JOB(Q("RUNNING"),
        "{\"sub_jobs_total\":2,\"sub_jobs\":[" ECS_SUB(
            "RUNNING", "{\"server_id\":\"7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d\"}",
            "ff80808288d41e1b0189902609553c01", "deleteSingleServer", "2023-07-25T12:00:01.250Z",
            Q(""), "null",
            "null") "," ECS_SUB("INIT", "{\"server_id\":\"8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e\"}",
                                "ff80808288d41e1b0189902609553c02", "deleteSingleServer",
                                "2023-07-25T12:00:01.260Z", Q(""), "null", "null") "]}",
        ID_ECS_RUN, "deleteServer", Q("2023-07-25T12:00:00.500Z"), Q(""), "null", "null", "");

/* EVS: sub-jobs inside entities, no total; a single-volume job's entities describe the volume. */
static const char body_evs_ok[] =
    JOB(Q("SUCCESS"),
        "{\"sub_jobs\":[" ECS_SUB("SUCCESS",
                                  "{\"volume_type\":\"SSD\",\"size\":100,\"volume_id\":"
                                  "\"3b5a1f2c-6d7e-4f80-9a1b-2c3d4e5f6a70\",\"name\":\"data-1\"}",
                                  "ff808082739334d80173943ec9b20a01", "createVolume",
                                  "2023-07-25T11:00:00.120Z", Q("2023-07-25T11:00:18.400Z"), "null",
                                  "null") "," ECS_SUB("SUCCESS",
                                                      "{\"volume_type\":\"SSD\",\"size\":100,"
                                                      "\"volume_id\":\"4c6b2a3d-7e8f-4091-8b2c-"
                                                      "3d4e5f6a7b81\",\"name\":\"data-2\"}",
                                                      "ff808082739334d80173943ec9b20a02",
                                                      "createVolume", "2023-07-25T11:00:00.130Z",
                                                      Q("2023-07-25T11:00:21.050Z"), "null",
                                                      "null") "]}",
        ID_EVS_OK, "batchCreateVolume", Q("2023-07-25T11:00:00.000Z"),
        Q("2023-07-25T11:00:22.000Z"), "null", "null", "");

static const char body_evs_fail[] =
    JOB(Q("FAIL"),
        "{\"volume_type\":\"SAS\",\"size\":40,\"volume_id\":"
        "\"5d7c3b4e-8f90-41a2-9c3d-4e5f6a7b8c92\",\"name\":\"data-3\",\"sub_jobs\":\"\"}",
        ID_EVS_FAIL, "extendVolume", Q("2023-07-25T11:30:00.000Z"), Q("2023-07-25T11:30:04.250Z"),
        Q("EVS.2024"), Q("the disk is being backed up, try again later"), "");

/*
 * ELB v3 (api-notes.md section 3): the job object in its envelope, in the order
 * of the v3 API page. The project_id is the default project's.
 */
#define V3_ENVELOPE(job, request_id) "{\"job\":" job ",\"request_id\":\"" request_id "\"}"
#define V3_JOB(status, begin, end, id, rid, type, ec, em, subs)                                    \
    "{\"status\":" status ",\"begin_time\":" begin ",\"end_time\":" end ",\"job_id\":\"" id        \
    "\",\"resource_id\":" rid ",\"job_type\":\"" type "\",\"error_code\":" ec ",\"error_msg\":" em \
    ",\"project_id\":\"" SIM_DEFAULT_PROJECT "\",\"sub_jobs\":" subs "}"
#define V3_SUB(status, begin, end, id, type, ec, em, rid, entities)                                \
    "{\"status\":\"" status "\",\"begin_time\":\"" begin "\",\"end_time\":\"" end                  \
    "\",\"job_id\":\"" id "\",\"job_type\":\"" type "\",\"error_code\":" ec ",\"error_msg\":" em   \
    ",\"project_id\":\"" SIM_DEFAULT_PROJECT "\",\"resource_id\":" rid ",\"entities\":" entities   \
    "}"
#define V3_LB "c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7"

/* Progressing: %s for status, begin (unquoted), end (raw), error_code, error_msg. */
static const char fmt_v3_rollback[] = V3_ENVELOPE(
    V3_JOB(Q("%s"), Q("%s"), "%s", ID_V3_ROLLBACK, Q(V3_LB), "cloneLoadbalancer", "%s", "%s", "[]"),
    "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f");

static const char body_v3_complete[] =
    V3_ENVELOPE(V3_JOB(Q("COMPLETE"), Q("2024-03-23T08:20:42Z"), Q("2024-03-23T08:49:11Z"),
                       ID_V3_COMPLETE, Q(V3_LB), "UPGRADE", Q(""), Q(""), "[]"),
                "0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e");

static const char body_v3_cancel[] = V3_ENVELOPE(
    V3_JOB(Q("CANCEL"), Q("2024-03-23T09:00:00Z"), Q("2024-03-23T09:02:20Z"), ID_V3_CANCEL, "null",
           "batchCreateV3Loadbalancer", Q(""), Q(""),
           "[" V3_SUB(
               "SUCCESS", "2024-03-23T09:00:01Z", "2024-03-23T09:01:30Z",
               "9b0c1d2e-3f4a-4b5c-9d6e-8f9a0b1c2d3e", "createLoadbalancer", Q(""), Q(""),
               Q("d4e2b3c5-6f70-4b81-9ca2-b3c4d5e6f708"),
               "[{\"resource_id\":\"d4e2b3c5-6f70-4b81-9ca2-b3c4d5e6f708\","
               "\"resource_type\":\"loadbalancer\"}]") "," V3_SUB("CANCEL", "2024-03-23T09:01:30Z",
                                                                  "2024-03-23T09:02:20Z",
                                                                  "0c1d2e3f-4a5b-4c6d-"
                                                                  "8e7f-9a0b1c2d3e4f",
                                                                  "createLoadbalancer", Q(""),
                                                                  Q(""), "null", "[]") "]"),
    "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f");

/* Error bodies, in the three shapes the real service uses. */
static const char err_401[] = "{\"error\":{\"message\":\"Incorrect IAM authentication information: "
                              "verify aksk signature fail\",\"code\":\"APIGW.0301\"}}";
static const char err_403[] = "{\"error_msg\":\"project id mismatch\",\"error_code\":\"ELB.1001\"}";
/* An AK/SK refusal, as the API gateway words it: %s is sim_aksk_reason(). */
static const char err_401_aksk_fmt[] = "{\"error_msg\":\"Incorrect IAM authentication information: "
                                       "%s\",\"error_code\":\"APIGW.0301\"}";
static const char err_job_404[] = "{\"message\":\"Job not found\",\"code\":\"ELB.1017\"}";
static const char err_v1_job_404[] =
    "{\"error\":{\"message\":\"Job not found\",\"code\":\"Ecs.0114\"}}";
static const char err_v3_job_404[] = "{\"error_msg\":\"Job not found\",\"error_code\":\"ELB.8904\","
                                     "\"request_id\":\"2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a\"}";
static const char err_path_404[] = "{\"message\":\"Not Found\",\"code\":\"APIGW.0101\"}";
static const char err_405[] = "{\"message\":\"Method Not Allowed\",\"code\":\"APIGW.0405\"}";
static const char err_429[] = "{\"error\":{\"message\":\"Too many requests, please wait up to one "
                              "minute\",\"code\":\"APIGW.0308\"}}";
static const char err_500[] =
    "{\"error\":{\"message\":\"Internal Server Error\",\"code\":\"ELB.0500\"}}";
static const char err_503[] = "{\"error_msg\":\"Service Unavailable\",\"error_code\":\"ELB.0503\"}";
static const char err_504[] = "{\"message\":\"Gateway Timeout\",\"code\":\"APIGW.0504\"}";

enum sim_kind {
    SK_STATIC,   /* 200 with body */
    SK_PROGRESS, /* 200, body from progress */
    SK_429_ONCE, /* 429 on the first answer, then 200 with body */
    SK_500,      /* always 500 */
    SK_503,      /* always 503 */
    SK_SLOW,     /* 200 with body after slow_ms */
    SK_CUT,      /* 200 with the first half of body, honest Content-Length */
    SK_CLOSE,    /* 200, Content-Length of body, connection dropped after half */
    SK_HUGE,     /* 200 with a ~2 MiB valid job */
    SK_HTML,     /* 200 text/html with body */
};

/* How a progression names its phases and writes what is not known before its end. */
struct sim_phases {
    const char *early;    /* status before run_step */
    const char *middle;   /* status from run_step to final_step */
    const char *open_err; /* raw JSON of both error fields before the end */
    const char *open_end; /* raw JSON of end_time before the end */
    int whole_seconds;    /* time mode writes times without the fraction */
};

static const struct sim_phases classic_phases = {"INIT", "RUNNING", "null", "\"\"", 0};
/* ELB v3: a failed job rolls back; error fields "" and no end_time until it ends. */
static const struct sim_phases v3_rollback_phases = {"RUNNING", "ROLLBACKING", Q(""), "null", 1};

struct sim_progress {
    const char *fmt;     /* status, begin, end, error_code, fail_reason */
    unsigned run_step;   /* steps 0..run_step-1 are early (INIT) */
    unsigned final_step; /* steps run_step..final_step-1 are middle (RUNNING), final_step+ end */
    const char *final_status;
    const char *final_ec;   /* raw JSON */
    const char *final_fr;   /* raw JSON */
    const char *step_begin; /* step-mode timestamps */
    const char *step_end;
    const struct sim_phases *phases; /* NULL: classic_phases */
};

static const struct sim_progress progress_j8 = {
    fmt_j8, 1, 3, "SUCCESS", "null", "null", "2026-11-28T12:00:00.000Z", "2026-11-28T12:00:42.500Z",
    NULL,
};
static const struct sim_progress progress_j9 = {
    fmt_j9,
    1,
    2,
    "FAIL",
    Q("ELB.2001"),
    Q("backend busy"),
    "2026-11-28T12:00:00.000Z",
    "2026-11-28T12:00:21.000Z",
    NULL,
};
static const struct sim_progress progress_ja = {
    fmt_ja, 2, 4, "SUCCESS", "null", "null", "2026-11-28T12:00:00.000Z", "2026-11-28T12:00:35.750Z",
    NULL,
};
static const struct sim_progress progress_jb = {
    fmt_jb, 3, 5, "SUCCESS", "null", "null", "2026-11-28T12:00:00.000Z", "2026-11-28T12:00:58.125Z",
    NULL,
};
static const struct sim_progress progress_v3_rollback = {
    .fmt = fmt_v3_rollback,
    .run_step = 1,
    .final_step = 3,
    .final_status = "ROLLBACK_FAIL",
    .final_ec = Q("ELB.8907"),
    .final_fr = Q("Rollback failed: listener \\\"web-443\\\" is still in use."),
    .step_begin = "2026-11-28T12:00:00Z",
    .step_end = "2026-11-28T12:00:33Z",
    .phases = &v3_rollback_phases,
};

/* The API a scripted job belongs to (the profiles of profile.h). */
enum sim_api { API_ELB_V1 = 0, API_ECS_V1, API_EVS_V1, API_ELB_V3 };

struct sim_script {
    const char *id;
    enum sim_kind kind;
    const char *body;                    /* every kind but SK_PROGRESS; SK_HUGE: the tail */
    const struct sim_progress *progress; /* SK_PROGRESS only */
    unsigned age_s;   /* time mode: the job began this long before the origin (not SK_PROGRESS) */
    enum sim_api api; /* the API whose path it answers on */
};

/* Ages (time mode) tell a story: old finished jobs, running ones started seconds ago. */
static const struct sim_script script[] = {
    {ID_SEED, SK_STATIC, body_seed, NULL, 1200, API_ELB_V1},
    {ID_RUNEX, SK_STATIC, body_runex, NULL, 95, API_ELB_V1},
    {ID_J1, SK_STATIC, body_j1, NULL, 5, API_ELB_V1},
    {ID_J2, SK_STATIC, body_j2, NULL, 720, API_ELB_V1},
    {ID_J3, SK_STATIC, body_j3, NULL, 180, API_ELB_V1},
    {ID_J4, SK_STATIC, body_j4, NULL, 1800, API_ELB_V1},
    {ID_J5, SK_STATIC, body_j5, NULL, 2700, API_ELB_V1},
    {ID_J6, SK_STATIC, body_j6, NULL, 40, API_ELB_V1},
    {ID_J7, SK_STATIC, body_j7, NULL, 10, API_ELB_V1},
    {ID_J8, SK_PROGRESS, NULL, &progress_j8, 0, API_ELB_V1},
    {ID_J9, SK_PROGRESS, NULL, &progress_j9, 0, API_ELB_V1},
    {ID_JA, SK_PROGRESS, NULL, &progress_ja, 0, API_ELB_V1},
    {ID_JB, SK_PROGRESS, NULL, &progress_jb, 0, API_ELB_V1},
    {ID_F429, SK_429_ONCE, body_f429_later, NULL, 600, API_ELB_V1},
    {ID_F500, SK_500, err_500, NULL, 0, API_ELB_V1},
    {ID_F503, SK_503, err_503, NULL, 0, API_ELB_V1},
    {ID_FSLOW, SK_SLOW, body_slow, NULL, 60, API_ELB_V1},
    {ID_FMAL, SK_STATIC, body_malformed, NULL, 0, API_ELB_V1},
    {ID_FCUT, SK_CUT, body_cut_full, NULL, 60, API_ELB_V1},
    {ID_FCLOSE, SK_CLOSE, body_close_full, NULL, 60, API_ELB_V1},
    {ID_FHUGE, SK_HUGE, body_huge_tail, NULL, 60, API_ELB_V1},
    {ID_FTYPE, SK_STATIC, body_badtype, NULL, 60, API_ELB_V1},
    {ID_FHTML, SK_HTML, body_html, NULL, 0, API_ELB_V1},
    {ID_ECS_OK, SK_STATIC, body_ecs_ok, NULL, 1500, API_ECS_V1},
    {ID_ECS_FAIL, SK_STATIC, body_ecs_fail, NULL, 900, API_ECS_V1},
    {ID_ECS_RUN, SK_STATIC, body_ecs_run, NULL, 30, API_ECS_V1},
    {ID_EVS_OK, SK_STATIC, body_evs_ok, NULL, 2400, API_EVS_V1},
    {ID_EVS_FAIL, SK_STATIC, body_evs_fail, NULL, 600, API_EVS_V1},
    {ID_V3_ROLLBACK, SK_PROGRESS, NULL, &progress_v3_rollback, 0, API_ELB_V3},
    {ID_V3_COMPLETE, SK_STATIC, body_v3_complete, NULL, 2000, API_ELB_V3},
    {ID_V3_CANCEL, SK_STATIC, body_v3_cancel, NULL, 1300, API_ELB_V3},
};

static const char *const demo_jobs[] = {
    ID_SEED, ID_RUNEX, ID_J1, ID_J2, ID_J3, ID_J4, ID_J5,
    ID_J6,   ID_J7,    ID_J8, ID_J9, ID_JA, ID_JB, NULL,
};

static const char *const demo_jobs_profiled[] = {
    "ecs-v1:" ID_ECS_OK,      "ecs-v1:" ID_ECS_FAIL,  "ecs-v1:" ID_ECS_RUN,
    "evs-v1:" ID_EVS_OK,      "evs-v1:" ID_EVS_FAIL,  "elb-v3:" ID_V3_ROLLBACK,
    "elb-v3:" ID_V3_COMPLETE, "elb-v3:" ID_V3_CANCEL, NULL,
};

/* The job paths: "<prefix>{project}<jobs>{id}", and the 404 of a job that is not there. */
enum sim_path { PATH_ELB_V1, PATH_V1, PATH_ELB_V3 };

static const struct {
    const char *prefix, *jobs, *not_found;
} job_paths[] = {
    [PATH_ELB_V1] = {"/v1.0/", "/jobs/", err_job_404},
    [PATH_V1] = {"/v1/", "/jobs/", err_v1_job_404},
    [PATH_ELB_V3] = {"/v3/", "/elb/jobs/", err_v3_job_404},
};

/* Does a job of api answer on path? (ECS and EVS share one path shape.) */
static int path_serves(enum sim_path path, enum sim_api api)
{
    switch (path) {
    case PATH_ELB_V1:
        return api == API_ELB_V1;
    case PATH_V1:
        return api == API_ECS_V1 || api == API_EVS_V1;
    case PATH_ELB_V3:
        return api == API_ELB_V3;
    }
    return 0;
}

enum sim_fault {
    FAULT_NONE = 0,
    FAULT_500,
    FAULT_503,
    FAULT_401,
    FAULT_404,
    FAULT_429,
    FAULT_TIMEOUT,
};

static const struct {
    const char *name;
    enum sim_fault fault;
} fault_names[] = {
    {"none", FAULT_NONE}, {"500", FAULT_500}, {"503", FAULT_503},         {"401", FAULT_401},
    {"404", FAULT_404},   {"429", FAULT_429}, {"timeout", FAULT_TIMEOUT},
};

/* ---- state ------------------------------------------------------------------------------ */

struct sim_count {
    char id[SIM_ID_MAX + 1];
    unsigned long long requests; /* every request on the job path */
    unsigned long long answers;  /* scripted answers given (the step in step mode) */
};

struct sim {
    struct MHD_Daemon *daemon;
    struct sim_iam *iam; /* the IAM token service (thread-safe on its own) */
    uint16_t port;
    unsigned step_ms;
    unsigned slow_ms;
    char host[SIM_HOST_MAX + 1];
    char token[SIM_SECRET_MAX + 1];
    char ak[SIM_SECRET_MAX + 1], sk[SIM_SECRET_MAX + 1];
    char project[SIM_PROJECT_MAX + 1];
    char *tls_cert, *tls_key; /* PEM copies, NULL for plain HTTP; the key is wiped when freed */

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* broadcast by sim_stop */
    int mu_ok, cv_ok;   /* for a clean teardown of a half-built sim */
    int stopping;
    enum sim_fault fault;
    uint64_t origin_mono_ms;  /* progression origin, monotonic */
    uint64_t origin_wall_ms;  /* the same instant, wall clock */
    struct sim_count *counts; /* sorted by id, SIM_MAX_TRACKED slots */
    size_t ncounts;
};

/* Milliseconds on the monotonic clock. */
static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Milliseconds since the Unix epoch. */
static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Format ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (frac) or
 * "YYYY-MM-DDTHH:MM:SSZ" into buf (SIM_TS_MAX bytes).
 */
static void format_ts(uint64_t ms, int frac, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, frac ? "1970-01-01T00:00:00.000Z" : "1970-01-01T00:00:00Z");
        return;
    }
    if (frac)
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
    else
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Value of the n decimal digits at p, or -1 if one is not a digit. */
static int digits(const char *p, size_t n)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/*
 * Is there a script timestamp, "YYYY-MM-DDTHH:MM:SSZ" or "...:SS.mmmZ", at
 * p[0..n)? Returns its length with its time in *ms and whether it has the
 * fraction in *frac, or 0.
 */
static size_t ts_scan(const char *p, size_t n, uint64_t *ms, int *frac)
{
    static const size_t at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[] = "--T::";
    struct tm tm;
    int v[6], f = 0;
    size_t i, end = 19;
    time_t t;

    if (n < 20)
        return 0;
    for (i = 0; i < 6; i++) {
        v[i] = digits(p + at[i], len[i]);
        if (v[i] < 0 || (i < 5 && p[at[i] + len[i]] != sep[i]))
            return 0;
    }
    *frac = p[end] == '.';
    if (*frac) {
        if (n < 24 || (f = digits(p + 20, 3)) < 0)
            return 0;
        end = 23;
    }
    if (p[end] != 'Z')
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    t = timegm(&tm);
    if (t < 0)
        return 0;
    *ms = (uint64_t)t * 1000u + (uint64_t)f;
    return end + 1;
}

/*
 * Time mode: append body[0..len) to out with every quoted timestamp moved by
 * the same amount, so that the first one (the job's begin_time) becomes
 * begin_ms and the others (end_time, sub-jobs) keep their distance to it; the
 * fraction is kept or left out as in the script. Returns 0, -E2BIG or -ENOMEM.
 */
static int shift_times(const char *body, size_t len, uint64_t begin_ms, struct strbuf *out)
{
    char ts[SIM_TS_MAX];
    size_t i = 0, run = 0, k;
    int64_t shift = 0;
    int have = 0, frac, rc = 0;
    uint64_t ms;

    while (i < len && rc == 0) {
        if (body[i] != '"' || (k = ts_scan(body + i + 1, len - i - 1, &ms, &frac)) == 0 ||
            i + 1 + k >= len || body[i + 1 + k] != '"') {
            i++;
            continue;
        }
        if (!have) {
            shift = (int64_t)begin_ms - (int64_t)ms;
            have = 1;
        }
        format_ts((uint64_t)((int64_t)ms + shift), frac, ts, sizeof(ts));
        rc = strbuf_append(out, body + run, i + 1 - run);
        if (rc == 0)
            rc = strbuf_puts(out, ts);
        i += 1 + k;
        run = i;
    }
    if (rc == 0)
        rc = strbuf_append(out, body + run, len - run);
    return rc;
}

/* Is id (len bytes) one we count: 1..SIM_ID_MAX of [A-Za-z0-9_-]? */
static int id_countable(const char *id, size_t len)
{
    size_t i;

    if (len == 0 || len > SIM_ID_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/*
 * Find or insert the counter for id (countable, NUL-terminated). Caller holds mu.
 * Returns the entry, or NULL when the table is full and id is new.
 */
static struct sim_count *count_slot(struct sim *s, const char *id)
{
    size_t lo = 0, hi = s->ncounts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->counts[mid].id, id);
        if (c == 0)
            return &s->counts[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->ncounts == SIM_MAX_TRACKED)
        return NULL;
    memmove(&s->counts[lo + 1], &s->counts[lo], (s->ncounts - lo) * sizeof(s->counts[0]));
    memset(&s->counts[lo], 0, sizeof(s->counts[0]));
    snprintf(s->counts[lo].id, sizeof(s->counts[lo].id), "%s", id);
    s->ncounts++;
    return &s->counts[lo];
}

/*
 * Wait ms milliseconds, or less if sim_stop begins. Returns 1 when stopping
 * (the caller should drop the connection), else 0.
 */
static int sim_wait(struct sim *s, unsigned ms)
{
    struct timespec dl;
    int stopping;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000u);
    dl.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    }
    stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stopping;
}

/* ---- answering -------------------------------------------------------------------------- */

/*
 * Queue a response. body (len bytes) is copied unless must_free, in which case
 * MHD owns it (also on failure). ctype and the extra header (hname/hval) may be NULL.
 * Returns MHD's verdict.
 */
static enum MHD_Result reply_ex(struct MHD_Connection *conn, unsigned code, const char *ctype,
                                const char *body, size_t len, int must_free, const char *hname,
                                const char *hval)
{
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    r = MHD_create_response_from_buffer(len, (void *)body,
                                        must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!r) {
        if (must_free)
            free((void *)body);
        return MHD_NO;
    }
    if (ctype && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
        goto out;
    if (hname && MHD_add_response_header(r, hname, hval) != MHD_YES)
        goto out;
    ret = MHD_queue_response(conn, code, r);
out:
    MHD_destroy_response(r);
    return ret;
}

/* Queue a copied NUL-terminated body. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *ctype,
                             const char *body)
{
    return reply_ex(conn, code, ctype, body, strlen(body), 0, NULL, NULL);
}

/* The body an SK_CLOSE answer promises (a copy the response owns). */
struct close_body {
    size_t len;
    char data[];
};

/* Content reader for SK_CLOSE: hands out the first half of the body, then fails. */
static ssize_t close_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    const struct close_body *cb = cls;
    size_t half = cb->len / 2, n;

    if (pos >= half)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, cb->data + pos, n);
    return (ssize_t)n;
}

/* Answer SK_CLOSE: Content-Length of the whole body[0..len), connection dropped after half. */
static enum MHD_Result reply_close(struct MHD_Connection *conn, const char *body, size_t len)
{
    struct MHD_Response *r;
    struct close_body *cb;
    enum MHD_Result ret = MHD_NO;

    cb = malloc(sizeof(*cb) + len);
    if (!cb)
        return MHD_NO;
    cb->len = len;
    memcpy(cb->data, body, len);
    r = MHD_create_response_from_callback(len, SIM_PAD_CHUNK, close_reader, cb, free);
    if (!r) {
        free(cb);
        return MHD_NO;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_JSON) == MHD_YES)
        ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answer SK_HUGE: a valid job whose entities.padding is SIM_HUGE_PADDING bytes, then tail. */
static enum MHD_Result reply_huge(struct MHD_Connection *conn, const char *tail, size_t tail_len)
{
    char chunk[SIM_PAD_CHUNK];
    struct strbuf b;
    size_t done, len;
    char *data;

    memset(chunk, 'x', sizeof(chunk));
    strbuf_init(&b, SIM_BODY_MAX);
    if (strbuf_puts(&b, body_huge_head) < 0)
        goto fail;
    for (done = 0; done < SIM_HUGE_PADDING; done += sizeof(chunk))
        if (strbuf_append(&b, chunk, sizeof(chunk)) < 0)
            goto fail;
    if (strbuf_append(&b, tail, tail_len) < 0)
        goto fail;
    data = strbuf_detach(&b, &len);
    if (!data)
        goto fail;
    return reply_ex(conn, MHD_HTTP_OK, CT_JSON, data, len, 1, NULL, NULL);
fail:
    strbuf_release(&b);
    return MHD_NO;
}

/*
 * Answer a progressing job. step_answer is the number of answers this job
 * already gave; elapsed/origin_wall describe time mode (step_ms > 0).
 */
static enum MHD_Result reply_progress(struct sim *s, struct MHD_Connection *conn,
                                      const struct sim_progress *p, unsigned long long answers,
                                      uint64_t elapsed, uint64_t origin_wall)
{
    char begin[SIM_TS_MAX], end_ts[SIM_TS_MAX], end[SIM_TS_MAX + 3];
    unsigned long long step;
    const struct sim_phases *ph = p->phases ? p->phases : &classic_phases;
    const char *status, *ec = ph->open_err, *fr = ph->open_err;
    struct strbuf b;
    enum MHD_Result ret;

    if (s->step_ms == 0) {
        step = answers;
        snprintf(begin, sizeof(begin), "%s", p->step_begin);
        snprintf(end_ts, sizeof(end_ts), "%s", p->step_end);
    } else {
        step = elapsed / s->step_ms;
        format_ts(origin_wall, !ph->whole_seconds, begin, sizeof(begin));
        format_ts(origin_wall + (uint64_t)p->final_step * s->step_ms, !ph->whole_seconds, end_ts,
                  sizeof(end_ts));
    }
    snprintf(end, sizeof(end), "%s", ph->open_end);
    if (step < p->run_step) {
        status = ph->early;
    } else if (step < p->final_step) {
        status = ph->middle;
    } else {
        status = p->final_status;
        ec = p->final_ec;
        fr = p->final_fr;
        snprintf(end, sizeof(end), "\"%s\"", end_ts);
    }
    strbuf_init(&b, SIM_BODY_MAX);
    if (strbuf_printf(&b, p->fmt, status, begin, end, ec, fr) < 0) {
        strbuf_release(&b);
        return MHD_NO;
    }
    ret = reply_ex(conn, MHD_HTTP_OK, CT_JSON, b.data, b.len, 0, NULL, NULL);
    strbuf_release(&b);
    return ret;
}

/* Answer the current fault mode (not FAULT_NONE). */
static enum MHD_Result reply_fault(struct sim *s, struct MHD_Connection *conn, enum sim_fault f)
{
    switch (f) {
    case FAULT_500:
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, err_500);
    case FAULT_503:
        return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, CT_JSON, err_503);
    case FAULT_401:
        return reply(conn, MHD_HTTP_UNAUTHORIZED, CT_JSON, err_401);
    case FAULT_404:
        return reply(conn, MHD_HTTP_NOT_FOUND, CT_JSON, err_job_404);
    case FAULT_429:
        return reply_ex(conn, MHD_HTTP_TOO_MANY_REQUESTS, CT_JSON, err_429, strlen(err_429), 0,
                        MHD_HTTP_HEADER_RETRY_AFTER, "1");
    case FAULT_TIMEOUT:
        if (sim_wait(s, s->slow_ms))
            return MHD_NO;
        return reply(conn, MHD_HTTP_GATEWAY_TIMEOUT, CT_JSON, err_504);
    case FAULT_NONE:
        break;
    }
    return MHD_NO;
}

/* The script entry for id (len bytes), or NULL. */
static const struct sim_script *script_find(const char *id, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(script) / sizeof(script[0]); i++)
        if (strlen(script[i].id) == len && memcmp(script[i].id, id, len) == 0)
            return &script[i];
    return NULL;
}

/*
 * Split a job path of job_paths ("/v1.0/{project}/jobs/{id}", ...) into its
 * kind and its two non-empty segments. Returns 0, or -EINVAL for any other path.
 */
static int parse_job_path(const char *url, enum sim_path *kind, const char **proj, size_t *proj_len,
                          const char **id, size_t *id_len)
{
    const char *p, *slash, *jobs;
    size_t i;

    for (i = 0; i < sizeof(job_paths) / sizeof(job_paths[0]); i++)
        if (strncmp(url, job_paths[i].prefix, strlen(job_paths[i].prefix)) == 0)
            break;
    if (i == sizeof(job_paths) / sizeof(job_paths[0]))
        return -EINVAL;
    jobs = job_paths[i].jobs;
    p = url + strlen(job_paths[i].prefix);
    slash = strchr(p, '/');
    if (!slash || slash == p || strncmp(slash, jobs, strlen(jobs)) != 0)
        return -EINVAL;
    *kind = (enum sim_path)i;
    *proj = p;
    *proj_len = (size_t)(slash - p);
    p = slash + strlen(jobs);
    if (*p == '\0' || strchr(p, '/'))
        return -EINVAL;
    *id = p;
    *id_len = strlen(p);
    return 0;
}

/*
 * Answer a scripted job other than SK_PROGRESS. In time mode (step_ms > 0) its
 * timestamps are first moved next to the origin: it began j->age_s before it.
 */
static enum MHD_Result reply_script(struct sim *s, struct MHD_Connection *conn,
                                    const struct sim_script *j, unsigned long long answers,
                                    uint64_t origin_wall)
{
    const char *body = j->body;
    size_t len = strlen(body);
    struct strbuf moved;
    enum MHD_Result ret = MHD_NO;

    strbuf_init(&moved, SIM_BODY_MAX);
    if (s->step_ms != 0) {
        if (shift_times(body, len, origin_wall - (uint64_t)j->age_s * 1000u, &moved) < 0 ||
            !moved.data)
            goto out;
        body = moved.data;
        len = moved.len;
    }
    switch (j->kind) {
    case SK_STATIC:
        ret = reply_ex(conn, MHD_HTTP_OK, CT_JSON, body, len, 0, NULL, NULL);
        break;
    case SK_429_ONCE:
        if (answers == 0)
            ret = reply_fault(s, conn, FAULT_429);
        else
            ret = reply_ex(conn, MHD_HTTP_OK, CT_JSON, body, len, 0, NULL, NULL);
        break;
    case SK_500:
        ret = reply_ex(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, body, len, 0, NULL, NULL);
        break;
    case SK_503:
        ret = reply_ex(conn, MHD_HTTP_SERVICE_UNAVAILABLE, CT_JSON, body, len, 0, NULL, NULL);
        break;
    case SK_SLOW:
        if (!sim_wait(s, s->slow_ms))
            ret = reply_ex(conn, MHD_HTTP_OK, CT_JSON, body, len, 0, NULL, NULL);
        break;
    case SK_CUT:
        ret = reply_ex(conn, MHD_HTTP_OK, CT_JSON, body, len / 2, 0, NULL, NULL);
        break;
    case SK_CLOSE:
        ret = reply_close(conn, body, len);
        break;
    case SK_HUGE:
        ret = reply_huge(conn, body, len);
        break;
    case SK_HTML:
        ret = reply_ex(conn, MHD_HTTP_OK, CT_HTML, body, len, 0, NULL, NULL);
        break;
    case SK_PROGRESS:
        break;
    }
out:
    strbuf_release(&moved);
    return ret;
}

/*
 * Synthetic jobs, for packaging/bench.sh: a classic ELB job ID of "b0" and 30
 * lowercase hex digits answers a job made up from the ID (FNV-1a of it picks
 * everything): 80 % SUCCESS, 10 % RUNNING, 3 % INIT, 7 % FAIL with an error
 * code and a fail_reason; five job types; a load balancer ID for 70 %;
 * sub-jobs for 20 %. Real answers' shape and size, ten thousand distinct
 * ones, without a script. No other ID is affected (scripted IDs are not of
 * this form; any other unknown ID is still 404).
 */
#define SYNTH_ID_LEN 32

static int synthetic_id(const char *id, size_t len)
{
    size_t i;

    if (len != SYNTH_ID_LEN || id[0] != 'b' || id[1] != '0')
        return 0;
    for (i = 2; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

static enum MHD_Result reply_synthetic(struct MHD_Connection *conn, const char *id)
{
    static const char *const types[] = {"createELB", "deleteELB", "modifyELB", "batchCreateMembers",
                                        "createListener"};
    char body[2048], lb[64] = "{}", subs[256] = "";
    uint64_t h = 14695981039346656037u;
    unsigned roll, begin_ms, dur_ms;
    const char *status;
    size_t i;
    int n;

    for (i = 0; i < SYNTH_ID_LEN; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211u;
    roll = (unsigned)(h % 100);
    status = roll < 80 ? "SUCCESS" : roll < 90 ? "RUNNING" : roll < 93 ? "INIT" : "FAIL";
    begin_ms = (unsigned)((h >> 8) % 86400000u);
    dur_ms = (unsigned)((h >> 40) % 600000u);
    if ((h >> 20) % 10 < 7)
        snprintf(lb, sizeof(lb), "{\"elb\":{\"id\":\"%016llx%016llx\"}}", (unsigned long long)h,
                 (unsigned long long)(h * 31));
    if ((h >> 24) % 5 == 0)
        snprintf(subs, sizeof(subs),
                 ",\"sub_jobs\":[{\"status\":\"SUCCESS\",\"job_id\":\"%.30s01\",\"job_type\":"
                 "\"createMember\",\"entities\":{}},{\"status\":\"%s\",\"job_id\":\"%.30s02\","
                 "\"job_type\":\"createMember\",\"entities\":{}}]",
                 id, status, id);
    n = snprintf(body, sizeof(body),
                 "{\"status\":\"%s\",\"entities\":%s,\"job_id\":\"%s\",\"job_type\":\"%s\","
                 "\"begin_time\":\"2026-11-28T%02u:%02u:%02u.%03uZ\",\"end_time\":\"%s%s\","
                 "\"error_code\":%s,\"fail_reason\":%s%s}",
                 status, lb, id, types[(h >> 12) % 5], begin_ms / 3600000, begin_ms / 60000 % 60,
                 begin_ms / 1000 % 60, begin_ms % 1000,
                 roll < 80 || roll >= 93 ? "2026-11-28T23:59:59." : "",
                 roll < 80 || roll >= 93 ? (dur_ms % 2 ? "500Z" : "125Z") : "",
                 roll >= 93 ? "\"ELB.1003\"" : "null",
                 roll >= 93 ? "\"Quota exceeded: \\\"elb\\\" limit 10 in this project\"" : "null",
                 subs);
    if (n < 0 || (size_t)n >= sizeof(body))
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, "{}");
    return reply_ex(conn, MHD_HTTP_OK, CT_JSON, body, (size_t)n, 0, NULL, NULL);
}

/* The request's headers, for the AK/SK check. */
struct sim_headers {
    struct sim_aksk_header h[SIM_AKSK_HEADERS_MAX];
    size_t n;
    int overflow; /* more than SIM_AKSK_HEADERS_MAX */
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct sim_headers *hs = cls;

    (void)kind;
    if (hs->n == SIM_AKSK_HEADERS_MAX) {
        hs->overflow = 1;
        return MHD_NO;
    }
    hs->h[hs->n].name = key;
    hs->h[hs->n].value = value ? value : "";
    hs->n++;
    return MHD_YES;
}

/*
 * Judge an AK/SK request (it carries Authorization: SDK-HMAC-SHA256 ...): the
 * signature over the raw target (NULL when it was too long to keep) and the
 * headers, then X-Project-Id. Returns MHD_HTTP_OK, MHD_HTTP_FORBIDDEN, or
 * MHD_HTTP_UNAUTHORIZED with the reason in *why.
 */
static unsigned check_aksk(const struct sim *s, struct MHD_Connection *conn, const char *method,
                           const char *target, const char **why)
{
    static const char *const must_sign[] = {"host", "x-project-id", "x-sdk-date", NULL};
    struct sim_headers hs;
    struct sim_aksk_req r;
    enum sim_aksk_verdict v;
    const char *pid;

    memset(&hs, 0, sizeof(hs));
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hs);
    if (hs.overflow || !target) {
        *why = sim_aksk_reason(SIM_AKSK_UNCANONICAL);
        return MHD_HTTP_UNAUTHORIZED;
    }
    memset(&r, 0, sizeof(r));
    r.method = method;
    r.target = target;
    r.headers = hs.h;
    r.n_headers = hs.n;
    v = sim_aksk_verify(&r, s->ak, s->sk, must_sign, time(NULL));
    if (v != SIM_AKSK_OK) {
        *why = sim_aksk_reason(v);
        return MHD_HTTP_UNAUTHORIZED;
    }
    pid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Project-Id");
    return pid && strcmp(pid, s->project) == 0 ? MHD_HTTP_OK : MHD_HTTP_FORBIDDEN;
}

/* Answer an AK/SK refusal: 401 with the API gateway's error shape and the reason. */
static enum MHD_Result reply_aksk_401(struct MHD_Connection *conn, const char *why)
{
    char body[SIM_ERR_MAX];

    snprintf(body, sizeof(body), err_401_aksk_fmt, why);
    return reply(conn, MHD_HTTP_UNAUTHORIZED, CT_JSON, body);
}

/* Serve the job API path; target is the raw request target (NULL if not kept). */
static enum MHD_Result serve_api(struct sim *s, struct MHD_Connection *conn, const char *url,
                                 const char *target, const char *method)
{
    const char *proj, *id, *tok, *authz, *why = NULL;
    size_t proj_len, id_len;
    char idbuf[SIM_ID_MAX + 1];
    unsigned verdict = MHD_HTTP_OK;
    enum sim_fault fault;
    unsigned long long answers = 0;
    uint64_t elapsed, origin_wall;
    const struct sim_script *j;
    struct sim_count *c;
    enum sim_path kind;

    if (parse_job_path(url, &kind, &proj, &proj_len, &id, &id_len) < 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, CT_JSON, err_path_404);
    /* a job asked on another API's path is not there: its progression does not move */
    j = script_find(id, id_len);
    if (j && !path_serves(kind, j->api))
        j = NULL;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        verdict = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else {
        authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");
        if (authz && strncmp(authz, "SDK-HMAC-SHA256", 15) == 0)
            verdict = check_aksk(s, conn, method, target, &why);
        else if (!tok ||
                 (strcmp(tok, s->token) != 0 && !sim_iam_token_valid(s->iam, tok, wall_ms())))
            verdict = MHD_HTTP_UNAUTHORIZED;
        if (verdict == MHD_HTTP_OK &&
            (proj_len != strlen(s->project) || memcmp(proj, s->project, proj_len) != 0))
            verdict = MHD_HTTP_FORBIDDEN;
    }

    pthread_mutex_lock(&s->mu);
    fault = s->fault;
    c = NULL;
    if (id_countable(id, id_len)) {
        memcpy(idbuf, id, id_len);
        idbuf[id_len] = '\0';
        c = count_slot(s, idbuf);
    }
    if (c)
        c->requests++;
    if (c && j && verdict == MHD_HTTP_OK && fault == FAULT_NONE)
        answers = c->answers++;
    elapsed = mono_ms() - s->origin_mono_ms;
    origin_wall = s->origin_wall_ms;
    pthread_mutex_unlock(&s->mu);

    switch (verdict) {
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        return reply_ex(conn, verdict, CT_JSON, err_405, strlen(err_405), 0, MHD_HTTP_HEADER_ALLOW,
                        MHD_HTTP_METHOD_GET);
    case MHD_HTTP_UNAUTHORIZED:
        return why ? reply_aksk_401(conn, why) : reply(conn, verdict, CT_JSON, err_401);
    case MHD_HTTP_FORBIDDEN:
        return reply(conn, verdict, CT_JSON, err_403);
    default:
        break;
    }
    if (fault != FAULT_NONE)
        return reply_fault(s, conn, fault);

    if (!j && kind == PATH_ELB_V1 && synthetic_id(id, id_len))
        return reply_synthetic(conn, id);
    if (!j)
        return reply(conn, MHD_HTTP_NOT_FOUND, CT_JSON, job_paths[kind].not_found);
    if (j->kind == SK_PROGRESS)
        return reply_progress(s, conn, j->progress, answers, elapsed, origin_wall);
    return reply_script(s, conn, j, answers, origin_wall);
}

/* GET /_sim/requests: "<id> <count>\n" per counted id, sorted. */
static enum MHD_Result serve_requests(struct sim *s, struct MHD_Connection *conn)
{
    struct strbuf b;
    enum MHD_Result ret;
    size_t i;
    int rc = 0;

    strbuf_init(&b, SIM_LIST_MAX);
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->ncounts && rc == 0; i++)
        rc = strbuf_printf(&b, "%s %llu\n", s->counts[i].id, s->counts[i].requests);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        strbuf_release(&b);
        return MHD_NO;
    }
    ret = reply_ex(conn, MHD_HTTP_OK, CT_TEXT, b.data ? b.data : "", b.len, 0, NULL, NULL);
    strbuf_release(&b);
    return ret;
}

/* Serve /_sim/<rest> (the control endpoints). */
static enum MHD_Result serve_control(struct sim *s, struct MHD_Connection *conn, const char *rest,
                                     const char *method)
{
    static const char fault_prefix[] = "fault/";
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    size_t i;

    if (strcmp(rest, "requests") == 0) {
        if (!is_get)
            return reply_ex(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, "GET only\n", 9, 0,
                            MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
        return serve_requests(s, conn);
    }
    if (strcmp(rest, "reset") == 0) {
        if (!is_post)
            return reply_ex(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, "POST only\n", 10, 0,
                            MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
        pthread_mutex_lock(&s->mu);
        s->ncounts = 0;
        s->fault = FAULT_NONE;
        s->origin_mono_ms = mono_ms();
        s->origin_wall_ms = wall_ms();
        pthread_mutex_unlock(&s->mu);
        return reply(conn, MHD_HTTP_OK, CT_TEXT, "ok\n");
    }
    if (strcmp(rest, "iam") == 0 && is_get) {
        char text[128];
        sim_iam_stats(s->iam, text, sizeof(text));
        return reply(conn, MHD_HTTP_OK, CT_TEXT, text);
    }
    if (strcmp(rest, "iam/revoke") == 0 && is_post) {
        sim_iam_revoke_all(s->iam);
        return reply(conn, MHD_HTTP_OK, CT_TEXT, "ok\n");
    }
    if (strncmp(rest, "iam/fault/", 10) == 0 && is_post) {
        if (sim_iam_set_fault(s->iam, rest + 10) != 0)
            return reply(conn, MHD_HTTP_BAD_REQUEST, CT_TEXT,
                         "unknown IAM fault mode (none 500 429)\n");
        return reply(conn, MHD_HTTP_OK, CT_TEXT, "ok\n");
    }
    if (strncmp(rest, fault_prefix, sizeof(fault_prefix) - 1) == 0) {
        const char *mode = rest + sizeof(fault_prefix) - 1;
        if (!is_post)
            return reply_ex(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, "POST only\n", 10, 0,
                            MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
        for (i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++) {
            if (strcmp(mode, fault_names[i].name) == 0) {
                pthread_mutex_lock(&s->mu);
                s->fault = fault_names[i].fault;
                pthread_mutex_unlock(&s->mu);
                return reply(conn, MHD_HTTP_OK, CT_TEXT, "ok\n");
            }
        }
        return reply(conn, MHD_HTTP_BAD_REQUEST, CT_TEXT,
                     "unknown fault mode (none 500 503 401 404 429 timeout)\n");
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, CT_JSON, err_path_404);
}

/* POST /v3/auth/tokens with the whole body in b: the IAM service answers. */
static enum MHD_Result serve_iam(struct sim *s, struct MHD_Connection *conn, const struct strbuf *b)
{
    struct sim_iam_answer *a = malloc(sizeof(*a));
    enum MHD_Result ret;

    if (!a)
        return MHD_NO;
    sim_iam_login(s->iam, b->data ? b->data : "", b->len, wall_ms(), a);
    if (a->status == 201)
        ret = reply_ex(conn, a->status, CT_JSON, a->body, strlen(a->body), 0, "X-Subject-Token",
                       a->token);
    else if (a->status == 429)
        ret = reply_ex(conn, a->status, CT_JSON, a->body, strlen(a->body), 0,
                       MHD_HTTP_HEADER_RETRY_AFTER, "1");
    else
        ret = reply(conn, a->status, CT_JSON, a->body);
    free(a);
    return ret;
}

/*
 * Per request: the raw request target as on the request line (MHD hands the
 * access handler the path decoded and the query parsed; the AK/SK check needs
 * them as signed), kept by on_uri, and an IAM login's body while it is
 * uploaded (up to SIM_IAM_BODY_MAX); both freed by on_completed.
 */
struct sim_req {
    int seen;                /* the access handler was called for it */
    struct strbuf *iam_body; /* POST /v3/auth/tokens: the body so far, else NULL */
    char target[];
};

/* Marks a request whose target was not kept (too long, out of memory). */
static int no_target;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    size_t n = strnlen(uri, SIM_AKSK_TARGET_MAX + 1);
    struct sim_req *q;

    (void)cls;
    (void)conn;
    if (n > SIM_AKSK_TARGET_MAX)
        return NULL;
    q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    q->seen = 0;
    q->iam_body = NULL;
    memcpy(q->target, uri, n + 1);
    return q;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct sim_req *q = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (q && *con_cls != &no_target) {
        if (q->iam_body) {
            strbuf_release(q->iam_body);
            free(q->iam_body);
        }
        free(q);
    }
    *con_cls = NULL;
}

/*
 * MHD access handler. The first call for a request only marks it (and, for an
 * IAM login, sets up its body buffer); other upload data (control POSTs may
 * carry some) is discarded; the answer is queued on the final call.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static const char control_prefix[] = "/_sim/";
    struct sim *s = cls;
    struct sim_req *q = *con_cls == &no_target ? NULL : *con_cls;

    (void)version;
    if (*con_cls == NULL) {
        *con_cls = &no_target;
        return MHD_YES;
    }
    if (q && !q->seen) {
        q->seen = 1;
        if (strcmp(url, "/v3/auth/tokens") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
            q->iam_body = malloc(sizeof(*q->iam_body));
            if (!q->iam_body)
                return MHD_NO;
            strbuf_init(q->iam_body, SIM_IAM_BODY_MAX);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (q && q->iam_body && strbuf_append(q->iam_body, upload_data, *upload_data_size))
            return MHD_NO; /* over the cap: drop the connection */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q && q->iam_body)
        return serve_iam(s, conn, q->iam_body);
    if (strncmp(url, control_prefix, sizeof(control_prefix) - 1) == 0)
        return serve_control(s, conn, url + sizeof(control_prefix) - 1, method);
    return serve_api(s, conn, url, q ? q->target : NULL, method);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

/* Free a (possibly half-built) sim whose daemon is already stopped or absent. */
static void sim_free(struct sim *s)
{
    if (!s)
        return;
    sim_iam_free(s->iam);
    if (s->cv_ok)
        pthread_cond_destroy(&s->cv);
    if (s->mu_ok)
        pthread_mutex_destroy(&s->mu);
    if (s->tls_key)
        explicit_bzero(s->tls_key, strlen(s->tls_key));
    free(s->tls_key);
    free(s->tls_cert);
    free(s->counts);
    free(s);
}

/*
 * Take the TLS options: both PEM texts or neither. Returns 0, -EINVAL (one
 * without the other, empty or over SIM_PEM_MAX), -ENOTSUP (libmicrohttpd built
 * without TLS) or -ENOMEM.
 */
static int copy_tls(struct sim *s, const struct sim_options *o)
{
    size_t nc, nk;

    if (!o->tls_cert_pem && !o->tls_key_pem)
        return 0;
    if (!o->tls_cert_pem || !o->tls_key_pem)
        return -EINVAL;
    nc = strnlen(o->tls_cert_pem, SIM_PEM_MAX + 1);
    nk = strnlen(o->tls_key_pem, SIM_PEM_MAX + 1);
    if (nc == 0 || nk == 0 || nc > SIM_PEM_MAX || nk > SIM_PEM_MAX)
        return -EINVAL;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return -ENOTSUP;
    s->tls_cert = strndup(o->tls_cert_pem, nc);
    s->tls_key = strndup(o->tls_key_pem, nk);
    return s->tls_cert && s->tls_key ? 0 : -ENOMEM;
}

/* Copy src into dst (cap bytes plus NUL). Returns 0 or -EINVAL when too long or empty. */
static int copy_opt(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n == 0 || n > cap)
        return -EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

struct sim *sim_start(const struct sim_options *o)
{
    static const struct sim_options defaults = {0};
    struct sim *s = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    const union MHD_DaemonInfo *info;
    /* the TLS options when serving HTTPS, else just the end marker */
    struct MHD_OptionItem tls_opts[3] = {
        {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    pthread_condattr_t ca;
    int err = 0;

    if (!o)
        o = &defaults;
    s = calloc(1, sizeof(*s));
    if (!s) {
        err = ENOMEM;
        goto fail;
    }
    s->counts = calloc(SIM_MAX_TRACKED, sizeof(s->counts[0]));
    if (!s->counts) {
        err = ENOMEM;
        goto fail;
    }
    if (copy_opt(s->host, SIM_HOST_MAX, o->host ? o->host : SIM_DEFAULT_HOST) < 0 ||
        copy_opt(s->token, SIM_SECRET_MAX, o->token ? o->token : SIM_DEFAULT_TOKEN) < 0 ||
        copy_opt(s->ak, SIM_SECRET_MAX, o->access_key ? o->access_key : SIM_DEFAULT_AK) < 0 ||
        copy_opt(s->sk, SIM_SECRET_MAX, o->secret_key ? o->secret_key : SIM_DEFAULT_SK) < 0 ||
        copy_opt(s->project, SIM_PROJECT_MAX, o->project_id ? o->project_id : SIM_DEFAULT_PROJECT) <
            0) {
        err = EINVAL;
        goto fail;
    }
    s->step_ms = o->step_ms;
    s->slow_ms = o->slow_ms ? o->slow_ms : SIM_DEFAULT_SLOW_MS;
    s->iam = sim_iam_new(&(struct sim_iam_options){.user = o->iam_user,
                                                   .password = o->iam_password,
                                                   .domain = o->iam_domain,
                                                   .project_id = s->project,
                                                   .project_name = o->iam_project_name,
                                                   .token_ttl_s = o->iam_token_ttl_s});
    if (!s->iam) {
        err = errno;
        goto fail;
    }
    err = -copy_tls(s, o);
    if (err)
        goto fail;
    if (s->tls_cert) {
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
    }

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, s->host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(o->port);
        sa = (const struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, s->host, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(o->port);
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        err = EINVAL;
        goto fail;
    }

    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        err = ENOMEM;
        goto fail;
    }
    s->mu_ok = 1;
    if (pthread_condattr_init(&ca) != 0) {
        err = ENOMEM;
        goto fail;
    }
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&s->cv, &ca) == 0)
        s->cv_ok = 1;
    pthread_condattr_destroy(&ca);
    if (!s->cv_ok) {
        err = ENOMEM;
        goto fail;
    }
    s->origin_mono_ms = mono_ms();
    s->origin_wall_ms = wall_ms();

    errno = 0;
    s->daemon = MHD_start_daemon(flags, o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                                 sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)s,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, SIM_CONN_TIMEOUT_S,
                                 MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!s->daemon) {
        /* without an errno from libmicrohttpd, TLS means a certificate or key it cannot load */
        err = errno ? errno : s->tls_cert ? EINVAL : EADDRNOTAVAIL;
        goto fail;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        err = EIO;
        goto fail;
    }
    s->port = info->port;
    return s;

fail:
    if (s && s->daemon)
        MHD_stop_daemon(s->daemon);
    sim_free(s);
    errno = err;
    return NULL;
}

uint16_t sim_port(const struct sim *s)
{
    return s->port;
}

const char *sim_project_id(const struct sim *s)
{
    return s->project;
}

const char *sim_token(const struct sim *s)
{
    return s->token;
}

const char *sim_access_key(const struct sim *s)
{
    return s->ak;
}

const char *sim_secret_key(const struct sim *s)
{
    return s->sk;
}

const char *const *sim_demo_jobs(void)
{
    return demo_jobs;
}

const char *const *sim_demo_jobs_profiled(void)
{
    return demo_jobs_profiled;
}

void sim_stop(struct sim *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->daemon);
    sim_free(s);
}
