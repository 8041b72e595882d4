/*
 * sim: a simulator of the job APIs, for tests and for --demo.
 *
 * It answers the job queries of the four profiles the way the real services
 * do (api-notes.md sections 1 and 3), including their quirks and faults, from
 * a fixed script of jobs, each belonging to one API:
 *   GET /v1.0/{project_id}/jobs/{job_id}      classic ELB (elb-v1)
 *   GET /v1/{project_id}/jobs/{job_id}        ECS and EVS (ecs-v1, evs-v1): one path
 *                                             shape, on different hosts in the real
 *                                             cloud, told apart here by the job id
 *   GET /v3/{project_id}/elb/jobs/{job_id}    ELB v3 (elb-v3), {"job":{...},"request_id":...}
 * A job asked on a path of an API it does not belong to answers 404, as the
 * other service would. It is written from the API notes, not from our parser:
 * it must never share code with src/job.c. Served by libmicrohttpd on loopback,
 * one thread per connection, so a slow answer does not hold the others.
 *
 * A job request is authorised by X-Auth-Token or by an AK/SK signature
 * (SDK-HMAC-SHA256) for the configured key pair, which sim_aksk.c checks
 * (refusals: 401 APIGW.0301 with the reason; X-Sdk-Date more than 15 minutes
 * off is one).
 *
 * Control endpoints for tests (no token needed):
 *   GET  /_sim/requests          "<job_id> <count>\n" per job asked for so far
 *   POST /_sim/fault/<mode>      every job answer becomes: none | 500 | 503 | 401 | 404 | 429 |
 *                                timeout (wait slow_ms, then 504)
 *   POST /_sim/reset             counters to 0, fault to none, progression restarts
 *   GET  /_sim/iam               "logins N\nissued N\nrefused N\n" of the IAM service
 *   POST /_sim/iam/revoke        every token issued so far stops working (401)
 *   POST /_sim/iam/fault/<mode>  every login answers: none | 500 | 429 (Retry-After: 1)
 */
#ifndef ELB_SIM_H
#define ELB_SIM_H

#include <stddef.h>
#include <stdint.h>

struct sim_options {
    const char *host;       /* numeric address to bind, default "127.0.0.1" */
    uint16_t port;          /* 0: any free port */
    const char *token;      /* required X-Auth-Token value, default "sim-token" */
    const char *access_key; /* AK/SK requests: the access key, default "sim-ak" */
    const char *secret_key; /* ... and its secret key, default "sim-sk" */
    const char *project_id; /* default "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32" */
    /*
     * 0: the test mode. Progressing jobs advance one step per answer and every
     * answer is the documented example byte for byte, with its fixed times.
     *
     * > 0: the wall-clock mode, for the demo. Progressing jobs advance one step
     * per step_ms, and every job's times are relative to the start (or the last
     * /_sim/reset): finished jobs began 12 to 45 minutes before it, running ones
     * seconds to minutes before it, the progressing ones at it. Four jobs move:
     * 0008 INIT -> RUNNING at step 1 -> SUCCESS at 3, 0009 -> RUNNING at 1 ->
     * FAIL at 2, 000a -> RUNNING at 2 -> SUCCESS at 4, 000b -> RUNNING at 3 ->
     * SUCCESS at 5; with the demo's 10 s step, a state changes every 10 s for
     * the first 50 s. The ELB v3 job 6f1e2d3c-... moves too: RUNNING, then
     * ROLLBACKING at step 1, ROLLBACK_FAIL at 3. No job appears later: the
     * demo's job list is fixed at start (sim_demo_jobs), and a job polled
     * before it exists would show 404.
     */
    unsigned step_ms;
    unsigned slow_ms; /* delay of the "slow" job's answer; 0 = the default, 3000 */
    /*
     * The IAM token service on the same port (sim_iam.h): POST /v3/auth/tokens.
     * Job answers also take any token it issued that has not expired or been
     * revoked. NULL fields take sim_iam's defaults (sim-user, sim-password,
     * sim-domain, project name eu-de); iam_token_ttl_s 0 = 24 h.
     */
    const char *iam_user, *iam_password, *iam_domain, *iam_project_name;
    unsigned iam_token_ttl_s;
    /*
     * HTTPS: a certificate chain and its private key, both PEM text (copied), or
     * both NULL for plain HTTP. Served by libmicrohttpd's own TLS (GnuTLS); a
     * build without it makes sim_start fail with ENOTSUP, and one of the two
     * without the other with EINVAL.
     */
    const char *tls_cert_pem;
    const char *tls_key_pem;
};

struct sim;

/* Start serving. Returns NULL (and errno) on failure. */
struct sim *sim_start(const struct sim_options *o);
/* The bound port. */
uint16_t sim_port(const struct sim *s);
/* The project id, token and access key pair in use. */
const char *sim_project_id(const struct sim *s);
const char *sim_token(const struct sim *s);
const char *sim_access_key(const struct sim *s);
const char *sim_secret_key(const struct sim *s);
/*
 * IDs of the scripted classic ELB jobs that answer 200 (every state, sub-jobs,
 * quirks, progressing ones): what --demo tracks. NULL-terminated, static.
 */
const char *const *sim_demo_jobs(void);
/*
 * The scripted jobs of the other APIs, as "PROFILE:ID" (profile names of
 * profile.h: ecs-v1, evs-v1, elb-v3), for --demo once jobs carry their own
 * profile. NULL-terminated, static; sim.c's script comment lists them:
 *   ecs-v1:ff80808288d41e1b0189902609551a00  SUCCESS createServer, one sub-job
 *   ecs-v1:ff80808288d41e1b0189902609552b00  FAIL createServer, a failed sub-job with
 *                                            entities.errorcode_message
 *   ecs-v1:ff80808288d41e1b0189902609553c00  RUNNING deleteServer, sub-jobs RUNNING and INIT
 *   evs-v1:ff808082739334d80173943ec9b20a00  SUCCESS batchCreateVolume, two sub-jobs
 *   evs-v1:ff808082739334d80173943ec9b20b00  FAIL extendVolume, sub_jobs ""
 *   elb-v3:6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0  progressing cloneLoadbalancer: RUNNING,
 *                                            ROLLBACKING x2, ROLLBACK_FAIL ELB.8907
 *   elb-v3:2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70  COMPLETE UPGRADE, error fields ""
 *   elb-v3:8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d  CANCEL batchCreateV3Loadbalancer, sub-jobs
 *                                            SUCCESS and CANCEL
 */
const char *const *sim_demo_jobs_profiled(void);
/* Stop and free; accepts NULL. Returns within about a second even with slow answers pending. */
void sim_stop(struct sim *s);

#endif
