/*
 * test_sim: the API simulator (src/sim.c) checked through a real HTTP client.
 *
 * Each test starts its own simulator on 127.0.0.1, port 0, and asks it with
 * libcurl, comparing answers with api-notes.md sections 1 and 3 and the script
 * at the top of sim.c (the classic ELB jobs, then the ECS, EVS and ELB v3 jobs
 * on their own paths, with the v3 envelope and its rollback): bodies byte for
 * byte where they are a contract, status codes and headers for every fault, the
 * token and project checks, step-mode progression, the control endpoints,
 * sim_stop returning promptly with a slow answer pending, and AK/SK: requests
 * signed by the exporter's signer (src/auth/aksk.c; the simulator checks them
 * with its own code) are accepted, and every flipped bit of the signature and a
 * changed byte of every signed header, of the path and of the query are refused
 * with 401. A small strict JSON checker (written here, sharing nothing with the
 * exporter's parser) tells valid bodies from the deliberately broken ones. No
 * fixed sleeps: anything that waits polls against a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aksk.h"
#include "api_examples.h"
#include "sim.h"
#include "timeutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TOKEN "sim-token"
#define PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"
#define SLOW_MS 200u        /* slow job delay in the shared fixture */
#define BODY_MAX (8u << 20) /* cap on a received body */
#define HDR_MAX 128         /* cap on a captured header value */
#define URL_MAX 512
#define REQ_TIMEOUT_MS 20000L   /* safety net per request; never reached when all is well */
#define POLL_DEADLINE_MS 10000u /* for loops that wait for something to happen */
#define STOP_LIMIT_MS 1500u     /* sim_stop promises "about a second" */
#define JSON_DEPTH_MAX 64

#define ID_SEED "ff8080825ecc523f015ecd0a98f82f77"
#define ID_RUNEX "4010b39b4fd3d5ff014fd943bac41619"
#define ID_J(n) "2c9eb2c15e1d4e1a015e1e0c3b8a000" #n
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
#define ID_UNKNOWN "0123456789abcdef0123456789abcdef"

/* The seed's example response, as printed in querying_the_job_status.rst. */
static const char seed_body[] = API_EXAMPLE_SEED;

/* api-notes.md "Running example (real)". */
static const char runex_body[] = API_EXAMPLE_RUNNING;

static const char body_401[] =
    "{\"error\":{\"message\":\"Incorrect IAM authentication "
    "information: verify aksk signature fail\",\"code\":\"APIGW.0301\"}}";
static const char body_403[] =
    "{\"error_msg\":\"project id mismatch\",\"error_code\":\"ELB.1001\"}";
static const char body_404[] = "{\"message\":\"Job not found\",\"code\":\"ELB.1017\"}";
static const char body_429[] = "{\"error\":{\"message\":\"Too many requests, please wait up to "
                               "one minute\",\"code\":\"APIGW.0308\"}}";
static const char body_500[] =
    "{\"error\":{\"message\":\"Internal Server Error\",\"code\":\"ELB.0500\"}}";
static const char body_503[] =
    "{\"error_msg\":\"Service Unavailable\",\"error_code\":\"ELB.0503\"}";
static const char body_504[] = "{\"message\":\"Gateway Timeout\",\"code\":\"APIGW.0504\"}";

/* ---- a strict JSON checker (RFC 8259 grammar, no semantics) ---------------------------- */

struct jv {
    const char *p, *end;
    int depth;
};

static int jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static int jv_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int jv_digit(struct jv *v)
{
    return v->p < v->end && *v->p >= '0' && *v->p <= '9';
}

/* Each jv_* returns 1 when a well-formed item was consumed, else 0. */
static int jv_string(struct jv *v)
{
    int i;

    if (v->p >= v->end || *v->p != '"')
        return 0;
    v->p++;
    while (v->p < v->end) {
        unsigned char c = (unsigned char)*v->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c != '\\')
            continue;
        if (v->p >= v->end)
            return 0;
        c = (unsigned char)*v->p++;
        if (c == 'u') {
            for (i = 0; i < 4; i++)
                if (v->p >= v->end || !jv_hex(*v->p++))
                    return 0;
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return 0;
        }
    }
    return 0;
}

static int jv_number(struct jv *v)
{
    if (v->p < v->end && *v->p == '-')
        v->p++;
    if (v->p < v->end && *v->p == '0') {
        v->p++;
    } else {
        if (!jv_digit(v))
            return 0;
        while (jv_digit(v))
            v->p++;
    }
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (!jv_digit(v))
            return 0;
        while (jv_digit(v))
            v->p++;
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        if (!jv_digit(v))
            return 0;
        while (jv_digit(v))
            v->p++;
    }
    return 1;
}

static int jv_lit(struct jv *v, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
        return 0;
    v->p += n;
    return 1;
}

/* Object (close '}') or array (close ']') after its opening byte. */
static int jv_container(struct jv *v, char close)
{
    if (++v->depth > JSON_DEPTH_MAX)
        return 0;
    jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return 1;
    }
    for (;;) {
        jv_ws(v);
        if (close == '}') {
            if (!jv_string(v))
                return 0;
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':')
                return 0;
            jv_ws(v);
        }
        if (!jv_value(v))
            return 0;
        jv_ws(v);
        if (v->p >= v->end)
            return 0;
        if (*v->p == ',') {
            v->p++;
            continue;
        }
        if (*v->p++ != close)
            return 0;
        v->depth--;
        return 1;
    }
}

static int jv_value(struct jv *v)
{
    if (v->p >= v->end)
        return 0;
    switch (*v->p) {
    case '{':
        v->p++;
        return jv_container(v, '}');
    case '[':
        v->p++;
        return jv_container(v, ']');
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return jv_number(v);
    }
}

/* Is s (len bytes) exactly one well-formed JSON value? */
static int json_valid(const char *s, size_t len)
{
    struct jv v = {s, s + len, 0};

    jv_ws(&v);
    if (!jv_value(&v))
        return 0;
    jv_ws(&v);
    return v.p == v.end;
}

/* json_valid on a string literal. */
#define JV(lit) json_valid(lit, sizeof(lit) - 1)

static void test_json_checker(void **state)
{
    (void)state;
    assert_true(JV("{\"a\":[1,-2.5e3,true,false,null,\"\\u00fc\\n\"]}"));
    assert_true(JV(" {} "));
    assert_true(JV("[0.5,{\"b\":{}},[]]"));
    assert_false(JV("{\"status\":\"RUNNING\",,\"job_id\":}"));
    assert_false(JV("{\"a\":1"));
    assert_false(JV("{\"a\":01}"));
    assert_false(JV("{\"a\":\"\\x\"}"));
    assert_false(JV("{\"a\":\"\\u00g0\"}"));
    assert_false(JV("{\"a\":\"line\nbreak\"}"));
    assert_false(JV("{\"a\" 1}"));
    assert_false(JV("[1,]"));
    assert_false(JV("{} {}"));
    assert_false(JV("nul"));
    assert_false(JV(""));
}

/* ---- an HTTP client --------------------------------------------------------------------- */

struct resp {
    CURLcode rc;
    long code;
    char *body; /* NUL-terminated, never NULL after http() */
    size_t len;
    curl_off_t clen; /* Content-Length, -1 if none */
    char ctype[HDR_MAX];
    char retry_after[HDR_MAX];
    char allow[HDR_MAX];
    uint64_t ms; /* wall time the request took */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t add = size * n;
    char *nb;

    if (add > BODY_MAX - r->len)
        return 0;
    nb = realloc(r->body, r->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, p, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Copy the value of header line "Name: value\r\n" into dst when it is the named one. */
static void grab_header(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name), vlen;
    const char *v;

    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    v = line + nl + 1;
    vlen = n - nl - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;

    grab_header(p, len, "Content-Type", r->ctype, sizeof(r->ctype));
    grab_header(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
    grab_header(p, len, "Allow", r->allow, sizeof(r->allow));
    return len;
}

static uint64_t now_ms(void)
{
    return time_mono_ms();
}

/* Sleep a few milliseconds between polls. */
static void nap(void)
{
    struct timespec ts = {0, 10 * 1000000L};

    nanosleep(&ts, NULL);
}

/*
 * Ask host:port (host "127.0.0.1" or "[::1]") with method for path, with an
 * X-Auth-Token header unless token is NULL (header_name picks its spelling).
 * Always fills r; free r->body with resp_free.
 */
static void http_ex(const char *host, uint16_t port, const char *method, const char *path,
                    const char *header_name, const char *token, struct resp *r)
{
    char url[URL_MAX], hdr[URL_MAX];
    struct curl_slist *headers = NULL;
    CURL *c;
    uint64_t t0;

    memset(r, 0, sizeof(*r));
    r->body = calloc(1, 1);
    assert_non_null(r->body);
    r->clen = -1;
    snprintf(url, sizeof(url), "http://%s:%u%s", host, (unsigned)port, path);
    c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (token) {
        snprintf(hdr, sizeof(hdr), "%s: %s", header_name, token);
        headers = curl_slist_append(headers, hdr);
        assert_non_null(headers);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    }
    t0 = now_ms();
    r->rc = curl_easy_perform(c);
    r->ms = now_ms() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->clen);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
}

static void http(const struct sim *s, const char *method, const char *path, const char *token,
                 struct resp *r)
{
    http_ex("127.0.0.1", sim_port(s), method, path, "X-Auth-Token", token, r);
}

/* GET the job id with the simulator's own token and project. */
static void get_job(const struct sim *s, const char *id, struct resp *r)
{
    char path[URL_MAX];

    snprintf(path, sizeof(path), "/v1.0/%s/jobs/%s", sim_project_id(s), id);
    http(s, "GET", path, sim_token(s), r);
}

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* Assert a JSON answer with this status code and exactly this body. */
static void assert_json_answer(const struct resp *r, long code, const char *body)
{
    assert_int_equal(r->rc, CURLE_OK);
    assert_int_equal(r->code, code);
    assert_string_equal(r->ctype, "application/json;charset=utf-8");
    assert_string_equal(r->body, body);
    assert_int_equal(r->len, strlen(body));
}

/* Value of the first "key":"..." string in body, copied into out (cap bytes); "" if absent. */
static void field(const char *body, const char *key, char *out, size_t cap)
{
    char pat[HDR_MAX];
    const char *p, *q;
    size_t n;

    out[0] = '\0';
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    p = strstr(body, pat);
    if (!p)
        return;
    p += strlen(pat);
    q = strchr(p, '"');
    if (!q)
        return;
    n = (size_t)(q - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* How often needle occurs in hay. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/* ---- fixture ------------------------------------------------------------------------------ */

static struct sim *start_sim(unsigned step_ms, unsigned slow_ms)
{
    struct sim_options o = {0};
    struct sim *s;

    o.host = "127.0.0.1";
    o.step_ms = step_ms;
    o.slow_ms = slow_ms;
    s = sim_start(&o);
    assert_non_null(s);
    assert_int_not_equal(sim_port(s), 0);
    return s;
}

static int setup(void **state)
{
    *state = start_sim(0, SLOW_MS);
    return 0;
}

static int teardown(void **state)
{
    sim_stop(*state);
    return 0;
}

/* ---- scripted jobs ------------------------------------------------------------------------ */

static void test_seed_example_verbatim(void **state)
{
    struct resp r;

    get_job(*state, ID_SEED, &r);
    assert_json_answer(&r, 200, seed_body);
    assert_true(json_valid(r.body, r.len));
    assert_int_equal(r.clen, (curl_off_t)strlen(seed_body));
    resp_free(&r);
}

static void test_running_example_verbatim(void **state)
{
    struct resp r;

    get_job(*state, ID_RUNEX, &r);
    assert_json_answer(&r, 200, runex_body);
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
}

struct expect {
    const char *id;
    const char *has[6]; /* substrings the body must contain, NULL-terminated */
};

static const struct expect scripted[] = {
    {ID_J(1),
     {"{\"status\":\"INIT\",\"entities\":{},", "\"job_type\":\"createELB\"",
      "\"begin_time\":\"2017-09-29T10:00:00Z\",\"end_time\":\"\",\"error_code\":null,"
      "\"fail_reason\":null}",
      NULL}},
    {ID_J(2),
     {"{\"status\":\"FAIL\",",
      "{\"elb\":{\"id\":\"0f7e6b7c1d2e4f5a8b9c0d1e2f3a4b5c\",\"name\":\"web\"}}",
      "\"begin_time\":\"2017-09-29T09:49:37.399Z\",\"end_time\":\"2017-09-29T09:49:40.001Z\"",
      "\"error_code\":\"ELB.1003\",\"fail_reason\":\"Quota exceeded: \\\"elb\\\" limit 10\\nsee "
      "\\u00fcber-docs \\ud83d\\ude80 \\\\ done\"}",
      NULL}},
    {ID_J(3),
     {"{\"status\":\"RUNNING\",\"entities\":{\"members\":[{\"id\":\"m1\"},{\"id\":\"m2\"}]},",
      "\"job_type\":\"batchCreateMembers\",\"begin_time\":\"2017-09-29T11:00:00.000Z\","
      "\"end_time\":\"\",\"error_code\":null,\"fail_reason\":null,\"sub_jobs\":[{",
      /* 1031 SUCCESS holding 1034 (sub_jobs null) */
      "\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a1031\"",
      "\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a1034\",\"job_type\":\"createMember\"",
      /* 1032 RUNNING with sub_jobs "", 1033 INIT without sub_jobs, closing both arrays */
      "\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a1032\"",
      "\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a1033\",\"job_type\":\"createMember\","
      "\"begin_time\":\"2017-09-29T11:00:00.160Z\",\"end_time\":\"\",\"error_code\":null,"
      "\"fail_reason\":null}]}"}},
    {ID_J(4),
     {"{\"status\":\"SUCCESS\",\"entities\":{\"elb_id\":\"5d3f1c2b4a6e4f708192a3b4c5d6e7f8\"},",
      "\"job_type\":\"deleteELB\"",
      "\"begin_time\":\"2017-09-29T12:00:00.000Z\",\"end_time\":\"2017-09-29T12:00:07.250Z\","
      "\"error_code\":null,\"fail_reason\":null,\"sub_jobs\":null}",
      NULL}},
    {ID_J(5),
     {"{\"status\":\"SUCCESS\",\"entities\":{},", "\"job_type\":\"modifyELB\"",
      "\"begin_time\":\"2017-09-29T12:30:00.500Z\",\"end_time\":\"2017-09-29T12:30:01.000Z\"",
      "\"sub_jobs\":\"\"", "\"message\":null,\"code\":null}", NULL}},
    {ID_J(6),
     {"{\"status\":\"RUNNING\",\"entities\":{\"elb\":{\"id\":\"6a\"}},",
      "\"job_type\":\"createELB\"", "\"begin_time\":\"2017-09-29T13:00:00Z\",\"end_time\":null,",
      NULL}},
    {ID_J(7),
     {"{\"status\":\"QUEUED\",\"entities\":{},", "\"job_type\":\"createELB\"",
      "\"begin_time\":\"2017-09-29T14:00:00.000Z\",\"end_time\":\"\",", NULL}},
};

static void test_scripted_jobs(void **state)
{
    char want_id[HDR_MAX];
    struct resp r;
    size_t i, k;

    for (i = 0; i < sizeof(scripted) / sizeof(scripted[0]); i++) {
        get_job(*state, scripted[i].id, &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.ctype, "application/json;charset=utf-8");
        assert_true(json_valid(r.body, r.len));
        snprintf(want_id, sizeof(want_id), "\"job_id\":\"%s\"", scripted[i].id);
        assert_non_null(strstr(r.body, want_id));
        for (k = 0; k < 6 && scripted[i].has[k]; k++) {
            if (!strstr(r.body, scripted[i].has[k]))
                fail_msg("job %s: missing %s in %s", scripted[i].id, scripted[i].has[k], r.body);
        }
        resp_free(&r);
    }
}

static void test_sub_jobs_shapes(void **state)
{
    struct resp r;

    get_job(*state, ID_J(3), &r);
    assert_int_equal(r.code, 200);
    /* top-level array + 1031's array + 1034 null + 1032 ""; 1033 has none */
    assert_int_equal(count_of(r.body, "\"sub_jobs\""), 4);
    assert_int_equal(count_of(r.body, "\"sub_jobs\":["), 2);
    assert_int_equal(count_of(r.body, "\"sub_jobs\":null"), 1);
    assert_int_equal(count_of(r.body, "\"sub_jobs\":\"\""), 1);
    assert_int_equal(count_of(r.body, "\"job_type\":\"createMember\""), 4);
    /* 1034 is nested inside 1031, i.e. it comes before 1032 starts */
    assert_true(strstr(r.body, "8a1034") < strstr(r.body, "8a1032"));
    assert_true(strstr(r.body, "8a1031") < strstr(r.body, "8a1034"));
    resp_free(&r);
}

static void test_demo_jobs_list(void **state)
{
    const char *const *ids = sim_demo_jobs();
    char want_id[HDR_MAX];
    struct resp r;
    size_t n, k;

    for (n = 0; ids[n]; n++) {
        assert_int_equal(strlen(ids[n]), 32);
        assert_int_not_equal(strncmp(ids[n], "fa17", 4), 0);
        for (k = 0; k < n; k++)
            assert_string_not_equal(ids[k], ids[n]);
        get_job(*state, ids[n], &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        snprintf(want_id, sizeof(want_id), "\"%s\"", ids[n]);
        assert_non_null(strstr(r.body, want_id));
        resp_free(&r);
    }
    /* the seed, the running example, 0001..0009, 000a, 000b */
    assert_int_equal(n, 13);
    assert_string_equal(ids[0], ID_SEED);
    assert_string_equal(ids[1], ID_RUNEX);
    assert_string_equal(ids[10], ID_J(9));
    assert_string_equal(ids[11], ID_JA);
    assert_string_equal(ids[12], ID_JB);
}

/* ---- routing, token, project -------------------------------------------------------------- */

static void test_auth_and_routing(void **state)
{
    struct sim *s = *state;
    const char *job = "/v1.0/" PROJECT "/jobs/" ID_SEED;
    struct resp r;

    http(s, "GET", job, NULL, &r);
    assert_json_answer(&r, 401, body_401);
    resp_free(&r);
    http(s, "GET", job, "sim-token-2", &r);
    assert_json_answer(&r, 401, body_401);
    resp_free(&r);
    http(s, "GET", job, "", &r); /* curl sends "X-Auth-Token:" with an empty value */
    assert_int_equal(r.code, 401);
    resp_free(&r);
    /* header names are case-insensitive */
    http_ex("127.0.0.1", sim_port(s), "GET", job, "x-auth-token", TOKEN, &r);
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);

    http(s, "GET", "/v1.0/0b3d6ac6dbd84d5aaa0c2a7bfe4c2b33/jobs/" ID_SEED, TOKEN, &r);
    assert_json_answer(&r, 403, body_403);
    resp_free(&r);
    http(s, "GET", "/v1.0/" PROJECT "x/jobs/" ID_SEED, TOKEN, &r);
    assert_json_answer(&r, 403, body_403);
    resp_free(&r);
    /* the token is checked before the project */
    http(s, "GET", "/v1.0/other/jobs/" ID_SEED, "bad", &r);
    assert_json_answer(&r, 401, body_401);
    resp_free(&r);

    http(s, "GET", "/v1.0/" PROJECT "/jobs/" ID_UNKNOWN, TOKEN, &r);
    assert_json_answer(&r, 404, body_404);
    resp_free(&r);
    http(s, "GET", "/v1.0/" PROJECT "/jobs/not%20an%20id", TOKEN, &r);
    assert_json_answer(&r, 404, body_404);
    resp_free(&r);

    http(s, "POST", job, TOKEN, &r);
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "GET");
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
    http(s, "DELETE", job, TOKEN, &r);
    assert_int_equal(r.code, 405);
    resp_free(&r);
}

static void test_other_paths_404(void **state)
{
    static const char *const paths[] = {
        "/",
        "/v1/" PROJECT "/jobs/" ID_SEED,
        "/v1.0/" PROJECT "/jobs/",
        "/v1.0/" PROJECT "/jobs/" ID_SEED "/",
        "/v1.0/" PROJECT "/jobs/" ID_SEED "/x",
        "/v1.0//jobs/" ID_SEED,
        "/v1.0/" PROJECT "/job/" ID_SEED,
        "/v1.0/" PROJECT,
        "/_sim/nope",
        "/_sim",
    };
    struct resp r;
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        http(*state, "GET", paths[i], TOKEN, &r);
        if (r.code != 404)
            fail_msg("%s: got %ld", paths[i], r.code);
        assert_string_equal(r.ctype, "application/json;charset=utf-8");
        assert_true(json_valid(r.body, r.len));
        assert_non_null(strstr(r.body, "\"message\":"));
        resp_free(&r);
    }
}

static void test_custom_token_and_project(void **state)
{
    struct sim_options o = {0};
    struct sim *s;
    struct resp r;

    (void)state;
    o.token = "t-0123";
    o.project_id = "p42";
    s = sim_start(&o);
    assert_non_null(s);
    assert_string_equal(sim_token(s), "t-0123");
    assert_string_equal(sim_project_id(s), "p42");
    http(s, "GET", "/v1.0/p42/jobs/" ID_RUNEX, "t-0123", &r);
    assert_json_answer(&r, 200, runex_body);
    resp_free(&r);
    http(s, "GET", "/v1.0/p42/jobs/" ID_RUNEX, TOKEN, &r);
    assert_int_equal(r.code, 401);
    resp_free(&r);
    http(s, "GET", "/v1.0/" PROJECT "/jobs/" ID_RUNEX, "t-0123", &r);
    assert_int_equal(r.code, 403);
    resp_free(&r);
    sim_stop(s);
}

static void test_defaults_and_null(void **state)
{
    struct sim_options o = {0};
    struct sim *s;
    struct resp r;

    (void)state;
    sim_stop(NULL);
    s = sim_start(&o);
    assert_non_null(s);
    assert_string_equal(sim_token(s), TOKEN);
    assert_string_equal(sim_project_id(s), PROJECT);
    get_job(s, ID_SEED, &r); /* default host is 127.0.0.1 */
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);
    sim_stop(s);

    s = sim_start(NULL);
    assert_non_null(s);
    assert_string_equal(sim_token(s), TOKEN);
    sim_stop(s);
}

/* ---- AK/SK ------------------------------------------------------------------------------- */

#define SIM_AK "sim-ak"
#define SIM_SK "sim-sk"
#define AKSK_JOB "/v1.0/" PROJECT "/jobs/" ID_SEED
#define AKSK_401(reason)                                                                           \
    "{\"error_msg\":\"Incorrect IAM authentication information: " reason                           \
    "\",\"error_code\":\"APIGW.0301\"}"

/* The header values of an AK/SK request, as sent; the flip tests change them in place. */
struct signed_req {
    char path[URL_MAX]; /* the request target */
    char host[64];
    char project[64];
    char date[AKSK_DATE_LEN + 1];
    char auth[AKSK_AUTH_MAX];
    int send_project, send_date; /* send those headers */
    const char *extra;           /* one more header line, unsigned, or NULL */
};

/*
 * Sign GET path for the simulator on port with ak/sk at time when, the way the
 * exporter does (Host, X-Project-Id: project, X-Sdk-Date), with src/auth/aksk.c.
 * sign_project 0: X-Project-Id is sent but left out of the signature.
 */
static void sign_req_for(struct signed_req *q, uint16_t port, const char *ak, const char *sk,
                         const char *path, time_t when, const char *project, int sign_project)
{
    struct aksk_header h[3];
    struct aksk_request r;
    struct strbuf b;
    char url[URL_MAX + 96];

    memset(q, 0, sizeof(*q));
    snprintf(q->path, sizeof(q->path), "%s", path);
    snprintf(q->host, sizeof(q->host), "127.0.0.1:%u", (unsigned)port);
    snprintf(q->project, sizeof(q->project), "%s", project);
    assert_int_equal(aksk_format_date(when, q->date), 0);
    q->send_project = q->send_date = 1;
    h[0] = (struct aksk_header){"Host", q->host};
    h[1] = (struct aksk_header){"X-Sdk-Date", q->date};
    h[2] = (struct aksk_header){"X-Project-Id", q->project};
    snprintf(url, sizeof(url), "http://%s%s", q->host, path);
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.url = url;
    r.headers = h;
    r.n_headers = sign_project ? 3 : 2;
    strbuf_init(&b, sizeof(q->auth) - 1);
    assert_int_equal(aksk_sign(&r, ak, sk, &b), 0);
    memcpy(q->auth, b.data, b.len + 1);
    strbuf_release(&b);
}

/* sign_req_for the simulator's project. */
static void sign_req(struct signed_req *q, uint16_t port, const char *ak, const char *sk,
                     const char *path, time_t when, int sign_project)
{
    sign_req_for(q, port, ak, sk, path, when, PROJECT, sign_project);
}

/* Send q on c (a reused handle: the flip tests send hundreds). Fills r (resp_free it). */
static void send_signed(CURL *c, uint16_t port, const struct signed_req *q, struct resp *r)
{
    char url[URL_MAX + 96], line[5][AKSK_AUTH_MAX + 32];
    struct curl_slist *headers = NULL, *t;
    size_t i, n = 0;

    memset(r, 0, sizeof(*r));
    r->body = calloc(1, 1);
    assert_non_null(r->body);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, q->path);
    snprintf(line[n++], sizeof(line[0]), "Host: %s", q->host);
    if (q->send_project)
        snprintf(line[n++], sizeof(line[0]), "X-Project-Id: %s", q->project);
    if (q->send_date)
        snprintf(line[n++], sizeof(line[0]), "X-Sdk-Date: %s", q->date);
    snprintf(line[n++], sizeof(line[0]), "Authorization: %s", q->auth);
    if (q->extra)
        snprintf(line[n++], sizeof(line[0]), "%s", q->extra);
    for (i = 0; i < n; i++) {
        t = curl_slist_append(headers, line[i]);
        assert_non_null(t);
        headers = t;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    curl_slist_free_all(headers);
}

/* Send q and expect code (and body, unless NULL). */
static void expect_signed(CURL *c, uint16_t port, const struct signed_req *q, long code,
                          const char *body, const char *what)
{
    struct resp r;

    send_signed(c, port, q, &r);
    if (r.rc != CURLE_OK || r.code != code || (body && strcmp(r.body, body) != 0))
        fail_msg("%s: got %ld (curl %d) %s, want %ld %s", what, r.code, (int)r.rc, r.body, code,
                 body ? body : "");
    if (!json_valid(r.body, r.len))
        fail_msg("%s: not JSON: %s", what, r.body);
    resp_free(&r);
}

static void test_aksk_accepted(void **state)
{
    struct sim *s = *state;
    uint16_t port = sim_port(s);
    struct signed_req q;
    CURL *c = curl_easy_init();

    assert_non_null(c);
    assert_string_equal(sim_access_key(s), SIM_AK);
    assert_string_equal(sim_secret_key(s), SIM_SK);
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL), 1);
    expect_signed(c, port, &q, 200, seed_body, "signed request");
    /* with a query, which the job path ignores but the signature covers */
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB "?b=2&a=x+y&a=%7E&flag", time(NULL), 1);
    expect_signed(c, port, &q, 200, seed_body, "signed request with a query");
    /* the clock may be up to 15 minutes off either way */
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL) - 14 * 60, 1);
    expect_signed(c, port, &q, 200, seed_body, "14 minutes behind");
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL) + 14 * 60, 1);
    expect_signed(c, port, &q, 200, seed_body, "14 minutes ahead");
    curl_easy_cleanup(c);
}

static void test_aksk_refused(void **state)
{
    struct sim *s = *state;
    uint16_t port = sim_port(s);
    struct signed_req q;
    CURL *c = curl_easy_init();

    assert_non_null(c);
    sign_req(&q, port, SIM_AK, "sim-sk-wrong", AKSK_JOB, time(NULL), 1);
    expect_signed(c, port, &q, 401, AKSK_401("verify aksk signature fail"), "wrong SK");
    sign_req(&q, port, "other-ak", SIM_SK, AKSK_JOB, time(NULL), 1);
    expect_signed(c, port, &q, 401, AKSK_401("the access key does not exist"), "unknown AK");
    /* X-Sdk-Date: absent, garbled, 16 minutes off either way */
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL), 1);
    q.send_date = 0;
    expect_signed(c, port, &q, 401, AKSK_401("X-Sdk-Date is missing (or given twice)"),
                  "no X-Sdk-Date");
    q.send_date = 1;
    memcpy(q.date, "2026-11-28T12:00", AKSK_DATE_LEN);
    expect_signed(c, port, &q, 401, AKSK_401("X-Sdk-Date is not a UTC time YYYYMMDDTHHMMSSZ"),
                  "garbled X-Sdk-Date");
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL) - 16 * 60, 1);
    expect_signed(c, port, &q, 401,
                  AKSK_401("X-Sdk-Date is more than 15 minutes away from the server's clock"),
                  "16 minutes behind");
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL) + 16 * 60, 1);
    expect_signed(c, port, &q, 401,
                  AKSK_401("X-Sdk-Date is more than 15 minutes away from the server's clock"),
                  "16 minutes ahead");
    /* X-Project-Id: unsigned, absent, another project (signed: 403) */
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL), 0);
    expect_signed(c, port, &q, 401,
                  AKSK_401("SignedHeaders lacks a header that must be signed (host, x-project-id, "
                           "x-sdk-date)"),
                  "X-Project-Id not signed");
    q.send_project = 0;
    expect_signed(c, port, &q, 401, NULL, "no X-Project-Id");
    sign_req_for(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL), "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b33",
                 1);
    expect_signed(c, port, &q, 403, body_403, "X-Project-Id of another project");
    /* the path's project is still checked */
    sign_req(&q, port, SIM_AK, SIM_SK, "/v1.0/0b3d6ac6dbd84d5aaa0c2a7bfe4c2b33/jobs/" ID_SEED,
             time(NULL), 1);
    expect_signed(c, port, &q, 403, body_403, "another project in the path");
    /* a signed request is judged by its signature, whatever X-Auth-Token it carries */
    sign_req(&q, port, SIM_AK, "sim-sk-wrong", AKSK_JOB, time(NULL), 1);
    q.extra = "X-Auth-Token: " TOKEN;
    expect_signed(c, port, &q, 401, AKSK_401("verify aksk signature fail"),
                  "good token, bad signature");
    /* ...and an unsigned extra header changes nothing */
    sign_req(&q, port, SIM_AK, SIM_SK, AKSK_JOB, time(NULL), 1);
    q.extra = "X-Whatever: 1";
    expect_signed(c, port, &q, 200, seed_body, "unsigned extra header");
    curl_easy_cleanup(c);
}

/* Another byte of the same kind (digit, letter, other), so that the request stays sendable. */
static char other_byte(char ch)
{
    if (ch >= '0' && ch <= '9')
        return (char)('0' + (ch - '0' + 1) % 10);
    if (ch >= 'a' && ch <= 'z')
        return (char)('a' + (ch - 'a' + 1) % 26);
    if (ch >= 'A' && ch <= 'Z')
        return (char)('A' + (ch - 'A' + 1) % 26);
    return ch == '-' ? '_' : '-';
}

/* Change each byte of s[from..to) in turn (other_byte); each must get 401. Returns the count. */
static unsigned change_each(CURL *c, uint16_t port, struct signed_req *q, char *s, size_t from,
                            size_t to, const char *what)
{
    char label[128];
    size_t i;

    for (i = from; i < to; i++) {
        char keep = s[i];
        s[i] = other_byte(keep);
        snprintf(label, sizeof(label), "%s: byte %zu '%c' -> '%c'", what, i, keep, s[i]);
        expect_signed(c, port, q, 401, NULL, label);
        s[i] = keep;
    }
    expect_signed(c, port, q, 200, seed_body, what); /* restored: accepted again */
    return (unsigned)(to - from);
}

/*
 * The verifier refuses any flipped bit: every bit of the signature, and a
 * changed byte anywhere in every signed header value, in the path's project
 * and job segments (the fixed parts route elsewhere: 404) and in the query.
 */
static void test_aksk_flips_refused(void **state)
{
    static const char path[] = AKSK_JOB "?limit=2&marker=13551d6b-755d";
    struct sim *s = *state;
    uint16_t port = sim_port(s);
    struct signed_req q;
    CURL *c = curl_easy_init();
    char *sig, label[96];
    size_t i, n, proj_at, query_at;
    unsigned bit, sent = 0;

    assert_non_null(c);
    sign_req(&q, port, SIM_AK, SIM_SK, path, time(NULL), 1);
    expect_signed(c, port, &q, 200, seed_body, "unchanged");
    sig = strstr(q.auth, "Signature=") + strlen("Signature=");
    n = strlen(sig);
    assert_int_equal(n, AKSK_HEX_LEN);
    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            sig[i] ^= (char)(1u << bit);
            snprintf(label, sizeof(label), "signature byte %zu bit %u", i, bit);
            expect_signed(c, port, &q, 401, NULL, label);
            sig[i] ^= (char)(1u << bit);
            sent++;
        }
    }
    assert_int_equal(sent, 8 * AKSK_HEX_LEN);
    sent += change_each(c, port, &q, q.host, 0, strlen(q.host), "Host");
    sent += change_each(c, port, &q, q.project, 0, strlen(q.project), "X-Project-Id");
    sent += change_each(c, port, &q, q.date, 0, strlen(q.date), "X-Sdk-Date");
    proj_at = strlen("/v1.0/");
    query_at = strlen(AKSK_JOB) + 1;
    sent += change_each(c, port, &q, q.path, proj_at, proj_at + strlen(PROJECT), "path project");
    sent += change_each(c, port, &q, q.path, query_at - 1 - strlen(ID_SEED), query_at - 1,
                        "path job id");
    sent += change_each(c, port, &q, q.path, query_at, strlen(q.path), "query");
    assert_true(sent > 600);
    curl_easy_cleanup(c);
}

static void test_start_errors(void **state)
{
    static const char *const bad_hosts[] = {"localhost", "",      "1.2.3",
                                            "::1::",     "[::1]", "127.0.0.1:80"};
    struct sim_options o = {0};
    struct sim *s;
    size_t i;

    for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
        o.host = bad_hosts[i];
        errno = 0;
        assert_null(sim_start(&o));
        assert_int_equal(errno, EINVAL);
    }
    o.host = "127.0.0.1";
    o.token = "";
    errno = 0;
    assert_null(sim_start(&o));
    assert_int_equal(errno, EINVAL);

    /* the port of a running simulator is taken */
    o.token = NULL;
    o.port = sim_port(*state);
    errno = 0;
    s = sim_start(&o);
    if (s)
        sim_stop(s);
    assert_null(s);
    assert_int_not_equal(errno, 0);
}

/* HTTPS takes a certificate and a key together; a pair libmicrohttpd cannot load is refused. */
static void test_tls_option_errors(void **state)
{
    static const char junk[] =
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    struct sim_options o = {.host = "127.0.0.1"};
    struct sim *s;

    (void)state;
    o.tls_cert_pem = junk;
    errno = 0;
    assert_null(sim_start(&o));
    assert_int_equal(errno, EINVAL);
    o.tls_cert_pem = NULL;
    o.tls_key_pem = junk;
    errno = 0;
    assert_null(sim_start(&o));
    assert_int_equal(errno, EINVAL);
    o.tls_cert_pem = "";
    errno = 0;
    assert_null(sim_start(&o));
    assert_int_equal(errno, EINVAL);
    /* both given but unusable: no daemon, an error, nothing leaked (ASan) */
    o.tls_cert_pem = junk;
    errno = 0;
    s = sim_start(&o);
    if (s)
        sim_stop(s);
    assert_null(s);
    assert_int_not_equal(errno, 0);
}

static void test_ipv6(void **state)
{
    struct sim_options o = {0};
    struct sim *s;
    struct resp r;

    (void)state;
    o.host = "::1";
    s = sim_start(&o);
    if (!s && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
        skip();
    assert_non_null(s);
    http_ex("[::1]", sim_port(s), "GET", "/v1.0/" PROJECT "/jobs/" ID_SEED, "X-Auth-Token", TOKEN,
            &r);
    if (r.rc == CURLE_COULDNT_CONNECT) {
        resp_free(&r);
        sim_stop(s);
        skip();
    }
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);
    sim_stop(s);
}

/* ---- progression -------------------------------------------------------------------------- */

#define J8_HEAD "{\"status\":\""
#define J8_MID                                                                                     \
    "\",\"entities\":{\"elb\":{\"id\":\"8b\"}},\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a0008\","   \
    "\"job_type\":\"createELB\",\"begin_time\":\"2026-11-28T12:00:00.000Z\",\"end_time\":"
#define J9_MID                                                                                     \
    "\",\"entities\":{\"elb_id\":\"9c\"},\"job_id\":\"2c9eb2c15e1d4e1a015e1e0c3b8a0009\","         \
    "\"job_type\":\"deleteELB\",\"begin_time\":\"2026-11-28T12:00:00.000Z\",\"end_time\":"
#define OPEN_TAIL "\"\",\"error_code\":null,\"fail_reason\":null}"

static void test_progress_step_mode(void **state)
{
    static const char *const j8[] = {
        J8_HEAD "INIT" J8_MID OPEN_TAIL,
        J8_HEAD "RUNNING" J8_MID OPEN_TAIL,
        J8_HEAD "RUNNING" J8_MID OPEN_TAIL,
        J8_HEAD "SUCCESS" J8_MID
                "\"2026-11-28T12:00:42.500Z\",\"error_code\":null,\"fail_reason\":null}",
        J8_HEAD "SUCCESS" J8_MID
                "\"2026-11-28T12:00:42.500Z\",\"error_code\":null,\"fail_reason\":null}",
    };
    static const char *const j9[] = {
        J8_HEAD "INIT" J9_MID OPEN_TAIL,
        J8_HEAD "RUNNING" J9_MID OPEN_TAIL,
        J8_HEAD "FAIL" J9_MID "\"2026-11-28T12:00:21.000Z\",\"error_code\":\"ELB.2001\","
                "\"fail_reason\":\"backend busy\"}",
        J8_HEAD "FAIL" J9_MID "\"2026-11-28T12:00:21.000Z\",\"error_code\":\"ELB.2001\","
                "\"fail_reason\":\"backend busy\"}",
    };
    struct sim *s = *state;
    struct resp r;
    size_t i;

    for (i = 0; i < 5; i++) {
        get_job(s, ID_J(8), &r);
        assert_json_answer(&r, 200, j8[i]);
        assert_true(json_valid(r.body, r.len));
        resp_free(&r);
        /* refused requests do not advance the job */
        http(s, "GET", "/v1.0/" PROJECT "/jobs/" ID_J(8), NULL, &r);
        assert_int_equal(r.code, 401);
        resp_free(&r);
        http(s, "GET", "/v1.0/wrong/jobs/" ID_J(8), TOKEN, &r);
        assert_int_equal(r.code, 403);
        resp_free(&r);
        /* and the jobs advance independently */
        if (i < 4) {
            get_job(s, ID_J(9), &r);
            assert_json_answer(&r, 200, j9[i]);
            assert_true(json_valid(r.body, r.len));
            resp_free(&r);
        }
    }
}

/* Milliseconds since the epoch of a "…Z" timestamp; fails the test if it does not parse. */
static uint64_t ts_ms(const char *ts)
{
    double secs = 0;

    assert_int_equal(time_parse_rfc3339(ts, strlen(ts), &secs), 0);
    return (uint64_t)(secs * 1000.0 + 0.5);
}

static int status_rank(const char *st)
{
    if (strcmp(st, "INIT") == 0)
        return 0;
    if (strcmp(st, "RUNNING") == 0)
        return 1;
    if (strcmp(st, "SUCCESS") == 0)
        return 2;
    fail_msg("unexpected status %s", st);
    return -1;
}

static void test_progress_time_mode(void **state)
{
    char st[HDR_MAX], begin[HDR_MAX], end[HDR_MAX], first_begin[HDR_MAX];
    uint64_t before, after, deadline;
    struct sim *s;
    struct resp r;
    int i, rank = 0, prev = 0;

    (void)state;
    /* a long step: answers do not advance the job, begin is the start time */
    before = (uint64_t)(time_now() * 1000.0);
    s = start_sim(60000, SLOW_MS);
    after = (uint64_t)(time_now() * 1000.0) + 1;
    for (i = 0; i < 4; i++) {
        get_job(s, ID_J(8), &r);
        assert_int_equal(r.code, 200);
        field(r.body, "status", st, sizeof(st));
        assert_string_equal(st, "INIT");
        field(r.body, "begin_time", begin, sizeof(begin));
        assert_in_range(ts_ms(begin), before, after);
        assert_non_null(strstr(r.body, "\"end_time\":\"\","));
        resp_free(&r);
    }
    sim_stop(s);

    /* a short step: watch 0008 go INIT -> RUNNING -> SUCCESS, ending 3 steps after begin */
    s = start_sim(50, SLOW_MS);
    deadline = now_ms() + POLL_DEADLINE_MS;
    first_begin[0] = '\0';
    do {
        get_job(s, ID_J(8), &r);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        field(r.body, "status", st, sizeof(st));
        field(r.body, "begin_time", begin, sizeof(begin));
        field(r.body, "end_time", end, sizeof(end));
        if (!first_begin[0])
            snprintf(first_begin, sizeof(first_begin), "%s", begin);
        assert_string_equal(begin, first_begin);
        rank = status_rank(st);
        assert_true(rank >= prev);
        prev = rank;
        if (rank < 2)
            assert_string_equal(end, "");
        resp_free(&r);
        if (rank < 2)
            nap();
    } while (rank < 2 && now_ms() < deadline);
    assert_int_equal(rank, 2);
    assert_int_equal(ts_ms(end) - ts_ms(begin), 150);
    sim_stop(s);
}

/* 000a and 000b in step mode: INIT for longer, then RUNNING, then SUCCESS, fixed times. */
static void test_progress_step_mode_late_starters(void **state)
{
    static const struct {
        const char *id, *statuses[7], *end;
    } jobs[] = {
        {ID_JA,
         {"INIT", "INIT", "RUNNING", "RUNNING", "SUCCESS", "SUCCESS", NULL},
         "2026-11-28T12:00:35.750Z"},
        {ID_JB,
         {"INIT", "INIT", "INIT", "RUNNING", "RUNNING", "SUCCESS", "SUCCESS"},
         "2026-11-28T12:00:58.125Z"},
    };
    char st[HDR_MAX], begin[HDR_MAX], end[HDR_MAX];
    struct resp r;
    size_t i, k;

    for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
        for (k = 0; k < 7 && jobs[i].statuses[k]; k++) {
            get_job(*state, jobs[i].id, &r);
            assert_int_equal(r.code, 200);
            assert_true(json_valid(r.body, r.len));
            field(r.body, "status", st, sizeof(st));
            field(r.body, "begin_time", begin, sizeof(begin));
            field(r.body, "end_time", end, sizeof(end));
            if (strcmp(st, jobs[i].statuses[k]) != 0)
                fail_msg("%s answer %zu: %s, want %s", jobs[i].id, k, st, jobs[i].statuses[k]);
            assert_string_equal(begin, "2026-11-28T12:00:00.000Z");
            assert_string_equal(end, strcmp(st, "SUCCESS") == 0 ? jobs[i].end : "");
            resp_free(&r);
        }
    }
}

/* ---- time mode (step_ms > 0, the demo): times relative to the start ------------------------- */

#define HOUR_MS 3600000u
/*
 * Slack for "not in the future": the simulator adds monotonic elapsed time to
 * its start's wall time, in whole milliseconds, while the test reads the wall
 * clock itself.
 */
#define CLOCK_SLACK_MS 50u

static uint64_t wall_now_ms(void)
{
    return (uint64_t)(time_now() * 1000.0);
}

/*
 * Every "key": "timestamp" in body (any spacing; sub-jobs too) as ms since the
 * epoch into out (cap entries); "" and null are skipped. Returns how many.
 */
static size_t times_of(const char *body, const char *key, uint64_t *out, size_t cap)
{
    char pat[HDR_MAX], ts[HDR_MAX];
    const char *p = body, *q;
    size_t n = 0, len;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    while ((p = strstr(p, pat)) != NULL) {
        p += strlen(pat);
        while (*p == ' ' || *p == ':' || *p == '\n')
            p++;
        if (*p != '"')
            continue; /* null */
        q = strchr(p + 1, '"');
        assert_non_null(q);
        len = (size_t)(q - p - 1);
        if (len == 0)
            continue; /* "" while running */
        assert_true(len < sizeof(ts));
        memcpy(ts, p + 1, len);
        ts[len] = '\0';
        assert_true(n < cap);
        out[n++] = ts_ms(ts);
    }
    return n;
}

/*
 * A newcomer's demo must not show jobs that began years ago: with step_ms > 0
 * every demo job began within the last hour, no end_time is in the future,
 * and the scripted durations are kept.
 */
static void test_time_mode_times_are_recent(void **state)
{
    const char *const *ids = sim_demo_jobs();
    uint64_t b[8], e[8], now;
    size_t nb, ne, i, k;
    struct sim *s;
    struct resp r;

    (void)state;
    s = start_sim(60000, SLOW_MS);
    for (i = 0; ids[i]; i++) {
        get_job(s, ids[i], &r);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        now = wall_now_ms();
        nb = times_of(r.body, "begin_time", b, 8);
        ne = times_of(r.body, "end_time", e, 8);
        assert_true(nb >= 1);
        for (k = 0; k < nb; k++)
            if (b[k] + HOUR_MS < now || b[k] > now + CLOCK_SLACK_MS)
                fail_msg("%s: begin_time %.3f s from now, want within the last hour: %s", ids[i],
                         ((double)b[k] - (double)now) / 1000.0, r.body);
        for (k = 0; k < ne; k++)
            if (e[k] > now + CLOCK_SLACK_MS || e[k] + HOUR_MS < now)
                fail_msg("%s: end_time %.3f s from now: %s", ids[i],
                         ((double)e[k] - (double)now) / 1000.0, r.body);
        /* the seed keeps its 25.873 s, the FAIL job its 2.602 s */
        if (strcmp(ids[i], ID_SEED) == 0) {
            assert_int_equal(ne, 1);
            assert_int_equal(e[0] - b[0], 25873);
        }
        if (strcmp(ids[i], ID_J(2)) == 0) {
            assert_int_equal(ne, 1);
            assert_int_equal(e[0] - b[0], 2602);
        }
        resp_free(&r);
    }
    sim_stop(s);
}

static int status_rank_any(const char *st)
{
    if (strcmp(st, "INIT") == 0)
        return 0;
    if (strcmp(st, "RUNNING") == 0)
        return 1;
    if (strcmp(st, "SUCCESS") == 0 || strcmp(st, "FAIL") == 0)
        return 2;
    fail_msg("unexpected status %s", st);
    return -1;
}

/*
 * The progressing demo jobs move while someone watches: three end in SUCCESS
 * and one in FAIL, each within 6 steps of the start (a minute at the demo's
 * 10 s step), never going back, never ending in the future.
 */
static void test_time_mode_progression(void **state)
{
    enum { STEP_MS = 50, N_PROG = 4 };
    static const struct {
        const char *id, *final;
    } prog[N_PROG] = {
        {ID_J(8), "SUCCESS"},
        {ID_J(9), "FAIL"},
        {ID_JA, "SUCCESS"},
        {ID_JB, "SUCCESS"},
    };
    char st[HDR_MAX], begin[HDR_MAX], end[HDR_MAX];
    int rank[N_PROG] = {0}, done[N_PROG] = {0}, n_done = 0, k, rk;
    uint64_t deadline;
    struct sim *s;
    struct resp r;

    (void)state;
    s = start_sim(STEP_MS, SLOW_MS);
    deadline = now_ms() + POLL_DEADLINE_MS;
    while (n_done < N_PROG && now_ms() < deadline) {
        for (k = 0; k < N_PROG; k++) {
            if (done[k])
                continue;
            get_job(s, prog[k].id, &r);
            assert_int_equal(r.code, 200);
            assert_true(json_valid(r.body, r.len));
            field(r.body, "status", st, sizeof(st));
            field(r.body, "begin_time", begin, sizeof(begin));
            field(r.body, "end_time", end, sizeof(end));
            rk = status_rank_any(st);
            if (rk < rank[k])
                fail_msg("%s went back to %s", prog[k].id, st);
            rank[k] = rk;
            if (rk < 2) {
                assert_string_equal(end, "");
            } else {
                assert_string_equal(st, prog[k].final);
                assert_true(ts_ms(end) <= wall_now_ms() + CLOCK_SLACK_MS);
                assert_true(ts_ms(end) - ts_ms(begin) <= 6 * STEP_MS);
                done[k] = 1;
                n_done++;
            }
            resp_free(&r);
        }
        if (n_done < N_PROG)
            nap();
    }
    assert_int_equal(n_done, N_PROG);
    sim_stop(s);
}

static void test_reset_restarts_progression(void **state)
{
    struct sim *s = *state;
    char st[HDR_MAX];
    struct resp r;
    int i;

    for (i = 0; i < 4; i++) {
        get_job(s, ID_J(8), &r);
        resp_free(&r);
    }
    get_job(s, ID_J(8), &r);
    field(r.body, "status", st, sizeof(st));
    assert_string_equal(st, "SUCCESS");
    resp_free(&r);
    http(s, "POST", "/_sim/reset", NULL, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body, "ok\n");
    resp_free(&r);
    get_job(s, ID_J(8), &r);
    field(r.body, "status", st, sizeof(st));
    assert_string_equal(st, "INIT");
    resp_free(&r);
}

/* ---- fault jobs ----------------------------------------------------------------------------- */

static void test_fault_429_first_answer(void **state)
{
    static const char later[] =
        "{\"status\":\"SUCCESS\",\"entities\":{\"elb_id\":\"4290\"},\"job_id\":\"" ID_F429
        "\",\"job_type\":\"createELB\",\"begin_time\":\"2017-09-29T15:00:00.000Z\","
        "\"end_time\":\"2017-09-29T15:00:01.000Z\",\"error_code\":null,\"fail_reason\":null}";
    struct sim *s = *state;
    struct resp r;
    int i;

    /* a refused request is not "the first answer" */
    http(s, "GET", "/v1.0/" PROJECT "/jobs/" ID_F429, NULL, &r);
    assert_int_equal(r.code, 401);
    resp_free(&r);
    get_job(s, ID_F429, &r);
    assert_json_answer(&r, 429, body_429);
    assert_string_equal(r.retry_after, "1");
    resp_free(&r);
    for (i = 0; i < 2; i++) {
        get_job(s, ID_F429, &r);
        assert_json_answer(&r, 200, later);
        assert_string_equal(r.retry_after, "");
        resp_free(&r);
    }
    http(s, "POST", "/_sim/reset", NULL, &r);
    resp_free(&r);
    get_job(s, ID_F429, &r);
    assert_json_answer(&r, 429, body_429);
    resp_free(&r);
}

static void test_fault_500_503_always(void **state)
{
    struct resp r;
    int i;

    for (i = 0; i < 3; i++) {
        get_job(*state, ID_F500, &r);
        assert_json_answer(&r, 500, body_500);
        resp_free(&r);
        get_job(*state, ID_F503, &r);
        assert_json_answer(&r, 503, body_503);
        resp_free(&r);
    }
}

static void test_fault_slow(void **state)
{
    static const char body[] =
        "{\"status\":\"RUNNING\",\"entities\":{},\"job_id\":\"" ID_FSLOW
        "\",\"job_type\":\"createELB\",\"begin_time\":\"2017-09-29T16:00:00.000Z\","
        "\"end_time\":\"\",\"error_code\":null,\"fail_reason\":null}";
    struct resp r;

    get_job(*state, ID_FSLOW, &r);
    assert_json_answer(&r, 200, body);
    assert_true(r.ms >= SLOW_MS);
    resp_free(&r);
}

static void test_fault_malformed(void **state)
{
    struct resp r;

    get_job(*state, ID_FMAL, &r);
    assert_json_answer(&r, 200, "{\"status\":\"RUNNING\",,\"job_id\":}");
    assert_false(json_valid(r.body, r.len));
    resp_free(&r);
}

static void test_fault_cut_body(void **state)
{
    struct resp r;

    get_job(*state, ID_FCUT, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "application/json;charset=utf-8");
    assert_int_equal(r.clen, (curl_off_t)r.len);
    assert_true(r.len > 20);
    assert_memory_equal(r.body, "{\"status\":\"RUNNING\",", 20);
    assert_false(json_valid(r.body, r.len));
    assert_null(strstr(r.body, "fail_reason")); /* the second half is missing */
    resp_free(&r);
}

static void test_fault_connection_closed(void **state)
{
    struct resp r;

    get_job(*state, ID_FCLOSE, &r);
    assert_int_equal(r.rc, CURLE_PARTIAL_FILE);
    assert_int_equal(r.code, 200);
    assert_true(r.len > 20);
    assert_true(r.clen > (curl_off_t)r.len);
    assert_int_equal(r.len, (size_t)r.clen / 2);
    assert_memory_equal(r.body, "{\"status\":\"RUNNING\",", 20);
    resp_free(&r);
}

static void test_fault_huge(void **state)
{
    struct resp r;

    get_job(*state, ID_FHUGE, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "application/json;charset=utf-8");
    assert_true(r.len > (2u << 20));
    assert_true(r.len < (3u << 20));
    assert_int_equal(r.clen, (curl_off_t)r.len);
    assert_true(json_valid(r.body, r.len));
    assert_non_null(strstr(r.body, "\"entities\":{\"padding\":\"xxxx"));
    assert_non_null(strstr(r.body, "\"job_id\":\"" ID_FHUGE "\""));
    resp_free(&r);
}

static void test_fault_wrong_type(void **state)
{
    struct resp r;

    get_job(*state, ID_FTYPE, &r);
    assert_int_equal(r.code, 200);
    assert_true(json_valid(r.body, r.len));
    assert_memory_equal(r.body, "{\"status\":3,", 12);
    assert_non_null(strstr(r.body, "\"job_id\":\"" ID_FTYPE "\""));
    resp_free(&r);
}

static void test_fault_html(void **state)
{
    struct resp r;

    get_job(*state, ID_FHTML, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "text/html;charset=utf-8");
    assert_string_equal(r.body, "<html><body>Bad Gateway</body></html>");
    resp_free(&r);
}

/* ---- control endpoints ---------------------------------------------------------------------- */

static void test_control_requests(void **state)
{
    struct sim *s = *state;
    struct resp r;

    http(s, "GET", "/_sim/requests", NULL, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "text/plain;charset=utf-8");
    assert_string_equal(r.body, "");
    resp_free(&r);

    get_job(s, ID_J(1), &r);
    resp_free(&r);
    get_job(s, ID_J(1), &r);
    resp_free(&r);
    http(s, "GET", "/v1.0/" PROJECT "/jobs/" ID_J(4), "wrong", &r); /* 401, still counted */
    resp_free(&r);
    http(s, "POST", "/v1.0/" PROJECT "/jobs/" ID_J(2), TOKEN, &r); /* 405, still counted */
    resp_free(&r);
    get_job(s, "zz-unknown_1", &r); /* 404, still counted */
    resp_free(&r);
    get_job(s, "bad.id", &r); /* not an id we count */
    assert_int_equal(r.code, 404);
    resp_free(&r);
    http(s, "GET", "/_sim/requests", NULL, &r);
    assert_string_equal(r.body, ID_J(1) " 2\n" ID_J(2) " 1\n" ID_J(4) " 1\nzz-unknown_1 1\n");
    resp_free(&r);

    http(s, "POST", "/_sim/reset", NULL, &r);
    assert_string_equal(r.body, "ok\n");
    resp_free(&r);
    http(s, "GET", "/_sim/requests", NULL, &r);
    assert_string_equal(r.body, "");
    resp_free(&r);
}

static void test_control_methods(void **state)
{
    struct sim *s = *state;
    struct resp r;

    http(s, "GET", "/_sim/reset", NULL, &r);
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "POST");
    resp_free(&r);
    http(s, "GET", "/_sim/fault/500", NULL, &r);
    assert_int_equal(r.code, 405);
    resp_free(&r);
    http(s, "POST", "/_sim/requests", NULL, &r);
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "GET");
    resp_free(&r);
    http(s, "POST", "/_sim/fault/418", NULL, &r);
    assert_int_equal(r.code, 400);
    resp_free(&r);
    http(s, "POST", "/_sim/fault/", NULL, &r);
    assert_int_equal(r.code, 400);
    resp_free(&r);
    /* none of these changed anything */
    get_job(s, ID_SEED, &r);
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);
}

struct fault_case {
    const char *mode;
    long code;
    const char *body;
    const char *retry_after;
};

static void test_control_fault_modes(void **state)
{
    static const struct fault_case cases[] = {
        {"500", 500, body_500, ""}, {"503", 503, body_503, ""},  {"401", 401, body_401, ""},
        {"404", 404, body_404, ""}, {"429", 429, body_429, "1"}, {"timeout", 504, body_504, ""},
    };
    static const char *const ids[] = {ID_SEED, ID_J(8), ID_UNKNOWN, ID_FHTML};
    char path[URL_MAX];
    struct sim *s = *state;
    char st[HDR_MAX];
    struct resp r;
    size_t i, k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "/_sim/fault/%s", cases[i].mode);
        http(s, "POST", path, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.body, "ok\n");
        resp_free(&r);
        for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
            get_job(s, ids[k], &r);
            assert_json_answer(&r, cases[i].code, cases[i].body);
            assert_string_equal(r.retry_after, cases[i].retry_after);
            if (strcmp(cases[i].mode, "timeout") == 0)
                assert_true(r.ms >= SLOW_MS);
            resp_free(&r);
        }
        http(s, "POST", "/_sim/fault/none", NULL, &r);
        assert_string_equal(r.body, "ok\n");
        resp_free(&r);
        get_job(s, ID_SEED, &r);
        assert_json_answer(&r, 200, seed_body);
        resp_free(&r);
    }
    /* fault answers did not advance the progressing job */
    get_job(s, ID_J(8), &r);
    field(r.body, "status", st, sizeof(st));
    assert_string_equal(st, "INIT");
    resp_free(&r);

    /* reset clears the fault */
    http(s, "POST", "/_sim/fault/503", NULL, &r);
    resp_free(&r);
    http(s, "POST", "/_sim/reset", NULL, &r);
    resp_free(&r);
    get_job(s, ID_SEED, &r);
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);
}

/* ---- the other job APIs: ECS, EVS (/v1/) and ELB v3 (/v3/.../elb/jobs/) ----------------- */

#define ID_ECS_OK "ff80808288d41e1b0189902609551a00"
#define ID_ECS_FAIL "ff80808288d41e1b0189902609552b00"
#define ID_ECS_RUN "ff80808288d41e1b0189902609553c00"
#define ID_EVS_OK "ff808082739334d80173943ec9b20a00"
#define ID_EVS_FAIL "ff808082739334d80173943ec9b20b00"
#define ID_V3_ROLLBACK "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define ID_V3_COMPLETE "2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70"
#define ID_V3_CANCEL "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"

static const char body_v1_404[] =
    "{\"error\":{\"message\":\"Job not found\",\"code\":\"Ecs.0114\"}}";
static const char body_v3_404[] = "{\"error_msg\":\"Job not found\",\"error_code\":\"ELB.8904\","
                                  "\"request_id\":\"2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a\"}";

/* The path of job id under profile (elb-v1, ecs-v1, evs-v1, elb-v3) in project. */
static void profile_path(const char *profile, const char *project, const char *id, char *out,
                         size_t cap)
{
    if (strcmp(profile, "elb-v1") == 0)
        snprintf(out, cap, "/v1.0/%s/jobs/%s", project, id);
    else if (strcmp(profile, "ecs-v1") == 0 || strcmp(profile, "evs-v1") == 0)
        snprintf(out, cap, "/v1/%s/jobs/%s", project, id);
    else if (strcmp(profile, "elb-v3") == 0)
        snprintf(out, cap, "/v3/%s/elb/jobs/%s", project, id);
    else
        fail_msg("unknown profile %s", profile);
}

/* GET job id of profile with the simulator's own token and project. */
static void get_job_as(const struct sim *s, const char *profile, const char *id, struct resp *r)
{
    char path[URL_MAX];

    profile_path(profile, sim_project_id(s), id, path, sizeof(path));
    http(s, "GET", path, sim_token(s), r);
}

/* GET a "PROFILE:ID" of sim_demo_jobs_profiled(); the ID goes to id (cap bytes). */
static void get_profiled(const struct sim *s, const char *pid, char *id, size_t cap, struct resp *r)
{
    char profile[16];
    const char *colon = strchr(pid, ':');

    assert_non_null(colon);
    assert_true((size_t)(colon - pid) < sizeof(profile));
    memcpy(profile, pid, (size_t)(colon - pid));
    profile[colon - pid] = '\0';
    snprintf(id, cap, "%s", colon + 1);
    get_job_as(s, profile, id, r);
}

/* Do the keys appear in body in this order (first occurrence of each, as "key":)? */
static void assert_key_order(const char *body, const char *const *keys, size_t n)
{
    char pat[HDR_MAX];
    const char *prev = body, *at;
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(pat, sizeof(pat), "\"%s\":", keys[i]);
        at = strstr(body, pat);
        if (!at || at < prev)
            fail_msg("key %s missing or out of order in %s", keys[i], body);
        prev = at;
    }
}

static const char ecs_fail_body[] =
    "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs_total\":2,"
    "\"sub_jobs\":[{\"status\":\"SUCCESS\","
    "\"entities\":{\"server_id\":\"0e3c5a1b-2d4f-4a6b-8c9d-1e2f3a4b5c6d\"},"
    "\"job_id\":\"ff80808288d41e1b0189902609552b01\",\"job_type\":\"createSingleServer\","
    "\"begin_time\":\"2023-07-25T10:00:02.000Z\",\"end_time\":\"2023-07-25T10:01:12.345Z\","
    "\"error_code\":null,\"fail_reason\":null},{\"status\":\"FAIL\","
    "\"entities\":{\"errorcode_message\":\"Insufficient EIP quota. Apply for more,"
    " or release unused EIPs.\"},\"job_id\":\"ff80808288d41e1b0189902609552b02\","
    "\"job_type\":\"createSingleServer\",\"begin_time\":\"2023-07-25T10:00:02.010Z\","
    "\"end_time\":\"2023-07-25T10:00:09.500Z\",\"error_code\":\"Ecs.0013\","
    "\"fail_reason\":\"create eip failed\"}]},"
    "\"job_id\":\"ff80808288d41e1b0189902609552b00\",\"job_type\":\"createServer\","
    "\"begin_time\":\"2023-07-25T10:00:01.000Z\",\"end_time\":\"2023-07-25T10:01:13.000Z\","
    "\"error_code\":null,\"fail_reason\":null}";

static const char evs_fail_body[] =
    "{\"status\":\"FAIL\",\"entities\":{\"volume_type\":\"SAS\",\"size\":40,"
    "\"volume_id\":\"5d7c3b4e-8f90-41a2-9c3d-4e5f6a7b8c92\",\"name\":\"data-3\","
    "\"sub_jobs\":\"\"},\"job_id\":\"ff808082739334d80173943ec9b20b00\","
    "\"job_type\":\"extendVolume\",\"begin_time\":\"2023-07-25T11:30:00.000Z\","
    "\"end_time\":\"2023-07-25T11:30:04.250Z\",\"error_code\":\"EVS.2024\","
    "\"fail_reason\":\"the disk is being backed up, try again later\"}";

static const char v3_complete_body[] =
    "{\"job\":{\"status\":\"COMPLETE\",\"begin_time\":\"2024-03-23T08:20:42Z\","
    "\"end_time\":\"2024-03-23T08:49:11Z\","
    "\"job_id\":\"2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70\","
    "\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\",\"job_type\":\"UPGRADE\","
    "\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\",\"sub_jobs\":[]},"
    "\"request_id\":\"0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e\"}";

static const char v3_cancel_body[] =
    "{\"job\":{\"status\":\"CANCEL\",\"begin_time\":\"2024-03-23T09:00:00Z\","
    "\"end_time\":\"2024-03-23T09:02:20Z\","
    "\"job_id\":\"8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d\",\"resource_id\":null,"
    "\"job_type\":\"batchCreateV3Loadbalancer\",\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\","
    "\"sub_jobs\":[{\"status\":\"SUCCESS\",\"begin_time\":\"2024-03-23T09:00:01Z\","
    "\"end_time\":\"2024-03-23T09:01:30Z\","
    "\"job_id\":\"9b0c1d2e-3f4a-4b5c-9d6e-8f9a0b1c2d3e\",\"job_type\":\"createLoadbalancer\","
    "\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\","
    "\"resource_id\":\"d4e2b3c5-6f70-4b81-9ca2-b3c4d5e6f708\","
    "\"entities\":[{\"resource_id\":\"d4e2b3c5-6f70-4b81-9ca2-b3c4d5e6f708\","
    "\"resource_type\":\"loadbalancer\"}]},{\"status\":\"CANCEL\","
    "\"begin_time\":\"2024-03-23T09:01:30Z\",\"end_time\":\"2024-03-23T09:02:20Z\","
    "\"job_id\":\"0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f\",\"job_type\":\"createLoadbalancer\","
    "\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\",\"resource_id\":null,"
    "\"entities\":[]}]},\"request_id\":\"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\"}";

static void test_profiled_jobs_verbatim(void **state)
{
    struct resp r;

    get_job_as(*state, "ecs-v1", ID_ECS_FAIL, &r);
    assert_json_answer(&r, 200, ecs_fail_body);
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
    get_job_as(*state, "evs-v1", ID_EVS_FAIL, &r);
    assert_json_answer(&r, 200, evs_fail_body);
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
    get_job_as(*state, "elb-v3", ID_V3_COMPLETE, &r);
    assert_json_answer(&r, 200, v3_complete_body);
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
    get_job_as(*state, "elb-v3", ID_V3_CANCEL, &r);
    assert_json_answer(&r, 200, v3_cancel_body);
    assert_true(json_valid(r.body, r.len));
    resp_free(&r);
}

/* ECS and EVS: the classic field order, sub-jobs (and ECS's total) inside entities. */
static void test_ecs_evs_shapes(void **state)
{
    static const char *const order[] = {"status",     "entities", "job_id",     "job_type",
                                        "begin_time", "end_time", "error_code", "fail_reason"};
    static const struct {
        const char *profile, *id, *has[4];
    } jobs[] = {
        {"ecs-v1",
         ID_ECS_OK,
         {"{\"status\":\"SUCCESS\",\"entities\":{\"sub_jobs_total\":1,\"sub_jobs\":[{",
          "\"job_type\":\"createSingleServer\"", "\"server_id\":\"", NULL}},
        {"ecs-v1",
         ID_ECS_FAIL,
         {"\"entities\":{\"sub_jobs_total\":2,\"sub_jobs\":[{\"status\":\"SUCCESS\"",
          "{\"status\":\"FAIL\",\"entities\":{\"errorcode_message\":\"Insufficient EIP quota.",
          "\"error_code\":\"Ecs.0013\"", "\"error_code\":null,\"fail_reason\":null}"}},
        {"ecs-v1",
         ID_ECS_RUN,
         {"{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs_total\":2,\"sub_jobs\":[{\"status\":"
          "\"RUNNING\"",
          "{\"status\":\"INIT\"", "\"job_type\":\"deleteServer\"", "\"end_time\":\"\""}},
        {"evs-v1",
         ID_EVS_OK,
         {"{\"status\":\"SUCCESS\",\"entities\":{\"sub_jobs\":[{\"status\":\"SUCCESS\"",
          "\"volume_id\":\"3b5a1f2c-6d7e-4f80-9a1b-2c3d4e5f6a70\"",
          "\"volume_id\":\"4c6b2a3d-7e8f-4091-8b2c-3d4e5f6a7b81\"",
          "\"job_type\":\"batchCreateVolume\""}},
        {"evs-v1", ID_EVS_FAIL, {"\"name\":\"data-3\",\"sub_jobs\":\"\"}", NULL}},
    };
    char want_id[HDR_MAX];
    struct resp r;
    size_t i, k;

    for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
        get_job_as(*state, jobs[i].profile, jobs[i].id, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.ctype, "application/json;charset=utf-8");
        assert_true(json_valid(r.body, r.len));
        assert_key_order(r.body, order, sizeof(order) / sizeof(order[0]));
        snprintf(want_id, sizeof(want_id), "\"job_id\":\"%s\",", jobs[i].id);
        assert_non_null(strstr(r.body, want_id));
        assert_null(strstr(r.body, "\"job\":"));       /* no envelope */
        assert_null(strstr(r.body, "\"request_id\"")); /* nor its request id */
        for (k = 0; k < 4 && jobs[i].has[k]; k++)
            if (!strstr(r.body, jobs[i].has[k]))
                fail_msg("%s: missing %s in %s", jobs[i].id, jobs[i].has[k], r.body);
        /* sub-jobs sit in entities: their array closes it, the job's own fields follow */
        if (count_of(r.body, "\"sub_jobs\":["))
            assert_non_null(strstr(r.body, "}]},\"job_id\":\""));
        resp_free(&r);
    }
}

/* ELB v3: {"job":{...},"request_id":"..."}, the v3 field order, whole seconds. */
static void test_v3_envelope(void **state)
{
    static const char *const order[] = {"job",       "status",      "begin_time", "end_time",
                                        "job_id",    "resource_id", "job_type",   "error_code",
                                        "error_msg", "project_id",  "sub_jobs",   "request_id"};
    static const char *const ids[] = {ID_V3_ROLLBACK, ID_V3_COMPLETE, ID_V3_CANCEL};
    char want_id[HDR_MAX], ts[HDR_MAX];
    const char *tail;
    struct resp r;
    size_t i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        get_job_as(*state, "elb-v3", ids[i], &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.ctype, "application/json;charset=utf-8");
        assert_true(json_valid(r.body, r.len));
        assert_int_equal(strncmp(r.body, "{\"job\":{\"status\":\"", 18), 0);
        tail = strstr(r.body, "},\"request_id\":\"");
        assert_non_null(tail);
        assert_int_equal(strlen(tail), strlen("},\"request_id\":\"") + 36 + 2); /* a UUID */
        assert_string_equal(r.body + r.len - 2, "\"}");
        assert_key_order(r.body, order, sizeof(order) / sizeof(order[0]));
        snprintf(want_id, sizeof(want_id), "\"job_id\":\"%s\",", ids[i]);
        assert_non_null(strstr(r.body, want_id));
        assert_non_null(strstr(r.body, "\"project_id\":\"" PROJECT "\""));
        assert_null(strstr(r.body, "\"fail_reason\"")); /* v3 says error_msg */
        field(r.body, "begin_time", ts, sizeof(ts));
        assert_int_equal(strlen(ts), 20); /* YYYY-MM-DDTHH:MM:SSZ */
        assert_int_equal(ts[19], 'Z');
        resp_free(&r);
    }
    /* the CANCEL job's sub-jobs carry entities as arrays of resources */
    get_job_as(*state, "elb-v3", ID_V3_CANCEL, &r);
    assert_int_equal(count_of(r.body, "{\"status\":\""), 3);
    assert_int_equal(count_of(r.body, "\"entities\":["), 2);
    assert_non_null(strstr(r.body, "\"resource_type\":\"loadbalancer\""));
    assert_non_null(strstr(r.body, "\"resource_id\":null,\"job_type\""));
    resp_free(&r);
}

/* Each API answers only for its own jobs: another API's path gets that API's 404. */
static void test_profiled_paths_404(void **state)
{
    static const struct {
        const char *profile, *id;
        long code;
        const char *body; /* NULL: 200 */
    } cases[] = {
        /* ECS and EVS share the /v1/ path shape: both answer there, nowhere else */
        {"evs-v1", ID_ECS_OK, 200, NULL},          {"ecs-v1", ID_EVS_OK, 200, NULL},
        {"elb-v1", ID_ECS_OK, 404, body_404},      {"elb-v3", ID_ECS_FAIL, 404, body_v3_404},
        {"elb-v1", ID_EVS_FAIL, 404, body_404},    {"elb-v3", ID_EVS_OK, 404, body_v3_404},
        {"elb-v1", ID_V3_COMPLETE, 404, body_404}, {"ecs-v1", ID_V3_CANCEL, 404, body_v1_404},
        {"ecs-v1", ID_SEED, 404, body_v1_404},     {"elb-v3", ID_SEED, 404, body_v3_404},
        {"elb-v3", ID_J(8), 404, body_v3_404},     {"ecs-v1", ID_UNKNOWN, 404, body_v1_404},
        {"elb-v3", ID_UNKNOWN, 404, body_v3_404},  {"elb-v3", ID_F500, 404, body_v3_404},
    };
    struct sim *s = *state;
    char st[HDR_MAX];
    struct resp r;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get_job_as(s, cases[i].profile, cases[i].id, &r);
        if (r.code != cases[i].code)
            fail_msg("%s on %s: %ld, want %ld", cases[i].id, cases[i].profile, r.code,
                     cases[i].code);
        if (cases[i].body)
            assert_json_answer(&r, cases[i].code, cases[i].body);
        resp_free(&r);
    }
    /* asked on the wrong paths, the progressing jobs do not move */
    get_job_as(s, "ecs-v1", ID_V3_ROLLBACK, &r);
    assert_json_answer(&r, 404, body_v1_404);
    resp_free(&r);
    get_job_as(s, "elb-v1", ID_V3_ROLLBACK, &r);
    assert_json_answer(&r, 404, body_404);
    resp_free(&r);
    get_job_as(s, "elb-v3", ID_V3_ROLLBACK, &r);
    field(r.body, "status", st, sizeof(st));
    assert_string_equal(st, "RUNNING");
    resp_free(&r);
    get_job(s, ID_J(8), &r);
    field(r.body, "status", st, sizeof(st));
    assert_string_equal(st, "INIT");
    resp_free(&r);
}

/* The token and project checks, the method check and the faults hold on every path. */
static void test_profiled_paths_auth_and_faults(void **state)
{
    static const char *const paths[] = {
        "/v1/" PROJECT "/jobs/" ID_ECS_OK,
        "/v3/" PROJECT "/elb/jobs/" ID_V3_COMPLETE,
    };
    struct sim *s = *state;
    char path[URL_MAX];
    struct resp r;
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        http(s, "GET", paths[i], NULL, &r);
        assert_json_answer(&r, 401, body_401);
        resp_free(&r);
        http(s, "POST", paths[i], TOKEN, &r);
        assert_int_equal(r.code, 405);
        assert_string_equal(r.allow, "GET");
        resp_free(&r);
    }
    profile_path("ecs-v1", "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b33", ID_ECS_OK, path, sizeof(path));
    http(s, "GET", path, TOKEN, &r);
    assert_json_answer(&r, 403, body_403);
    resp_free(&r);
    profile_path("elb-v3", "other", ID_V3_CANCEL, path, sizeof(path));
    http(s, "GET", path, TOKEN, &r);
    assert_json_answer(&r, 403, body_403);
    resp_free(&r);

    http(s, "POST", "/_sim/fault/503", NULL, &r);
    resp_free(&r);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        http(s, "GET", paths[i], TOKEN, &r);
        assert_json_answer(&r, 503, body_503);
        resp_free(&r);
    }
    http(s, "POST", "/_sim/fault/none", NULL, &r);
    resp_free(&r);
    /* and the requests are counted by job id, whatever the path */
    http(s, "GET", "/_sim/requests", NULL, &r);
    assert_non_null(strstr(r.body, ID_V3_COMPLETE " 3\n")); /* 401, 405, 503 */
    assert_non_null(strstr(r.body, ID_ECS_OK " 4\n"));      /* and 403 */
    resp_free(&r);
    /* malformed v3 and v1 paths are not job paths */
    http(s, "GET", "/v3/" PROJECT "/jobs/" ID_V3_COMPLETE, TOKEN, &r);
    assert_int_equal(r.code, 404);
    assert_non_null(strstr(r.body, "APIGW.0101"));
    resp_free(&r);
    http(s, "GET", "/v3/" PROJECT "/elb/jobs/" ID_V3_COMPLETE "/x", TOKEN, &r);
    assert_non_null(strstr(r.body, "APIGW.0101"));
    resp_free(&r);
    http(s, "GET", "/v3//elb/jobs/" ID_V3_COMPLETE, TOKEN, &r);
    assert_non_null(strstr(r.body, "APIGW.0101"));
    resp_free(&r);
    http(s, "GET", "/v1/" PROJECT "/jobs/", TOKEN, &r);
    assert_non_null(strstr(r.body, "APIGW.0101"));
    resp_free(&r);
}

#define V3R_HEAD "{\"job\":{\"status\":\""
#define V3R_MID "\",\"begin_time\":\"2026-11-28T12:00:00Z\",\"end_time\":"
#define V3R_JOB                                                                                    \
    ",\"job_id\":\"" ID_V3_ROLLBACK "\",\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\"," \
    "\"job_type\":\"cloneLoadbalancer\",\"error_code\":"
#define V3R_TAIL                                                                                   \
    ",\"project_id\":\"" PROJECT "\",\"sub_jobs\":[]},"                                            \
    "\"request_id\":\"5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f\"}"
#define V3R_OPEN(st) V3R_HEAD st V3R_MID "null" V3R_JOB "\"\",\"error_msg\":\"\"" V3R_TAIL
#define V3R_END                                                                                    \
    V3R_HEAD "ROLLBACK_FAIL" V3R_MID "\"2026-11-28T12:00:33Z\"" V3R_JOB                            \
             "\"ELB.8907\",\"error_msg\":\"Rollback failed: listener \\\"web-443\\\" is still in " \
             "use.\"" V3R_TAIL

/* Step mode: RUNNING, ROLLBACKING twice, then ROLLBACK_FAIL with its code and text, for good. */
static void test_v3_rollback_step_mode(void **state)
{
    static const char *const answers[] = {
        V3R_OPEN("RUNNING"), V3R_OPEN("ROLLBACKING"), V3R_OPEN("ROLLBACKING"), V3R_END, V3R_END,
    };
    struct sim *s = *state;
    struct resp r;
    size_t i;

    for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        get_job_as(s, "elb-v3", ID_V3_ROLLBACK, &r);
        assert_json_answer(&r, 200, answers[i]);
        assert_true(json_valid(r.body, r.len));
        resp_free(&r);
        /* refused requests do not advance it */
        http(s, "GET", "/v3/" PROJECT "/elb/jobs/" ID_V3_ROLLBACK, NULL, &r);
        assert_int_equal(r.code, 401);
        resp_free(&r);
    }
    http(s, "POST", "/_sim/reset", NULL, &r);
    resp_free(&r);
    get_job_as(s, "elb-v3", ID_V3_ROLLBACK, &r);
    assert_json_answer(&r, 200, answers[0]);
    resp_free(&r);
}

static int v3_rank(const char *st)
{
    if (strcmp(st, "RUNNING") == 0)
        return 0;
    if (strcmp(st, "ROLLBACKING") == 0)
        return 1;
    if (strcmp(st, "ROLLBACK_FAIL") == 0)
        return 2;
    fail_msg("unexpected status %s", st);
    return -1;
}

/* Time mode: the rollback moves with the clock, times in whole seconds, never in the future. */
static void test_v3_rollback_time_mode(void **state)
{
    enum { STEP_MS = 50 };
    char st[HDR_MAX], begin[HDR_MAX], end[HDR_MAX], ec[HDR_MAX];
    int rank = 0, rk, seen_rollbacking = 0;
    uint64_t deadline, before;
    struct sim *s;
    struct resp r;

    (void)state;
    before = wall_now_ms() / 1000 * 1000;
    s = start_sim(STEP_MS, SLOW_MS);
    deadline = now_ms() + POLL_DEADLINE_MS;
    do {
        get_job_as(s, "elb-v3", ID_V3_ROLLBACK, &r);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        field(r.body, "status", st, sizeof(st));
        field(r.body, "begin_time", begin, sizeof(begin));
        field(r.body, "error_code", ec, sizeof(ec));
        assert_int_equal(strlen(begin), 20);
        assert_true(ts_ms(begin) >= before);
        rk = v3_rank(st);
        if (rk < rank)
            fail_msg("went back to %s", st);
        rank = rk;
        seen_rollbacking |= rk == 1;
        if (rk < 2) {
            assert_non_null(strstr(r.body, "\"end_time\":null,"));
            assert_string_equal(ec, "");
        } else {
            field(r.body, "end_time", end, sizeof(end));
            assert_int_equal(strlen(end), 20);
            assert_true(ts_ms(end) >= ts_ms(begin));
            assert_true(ts_ms(end) <= wall_now_ms() + CLOCK_SLACK_MS);
            assert_true(ts_ms(end) - ts_ms(begin) <= 1000); /* 3 steps of 50 ms, whole seconds */
            assert_string_equal(ec, "ELB.8907");
        }
        resp_free(&r);
        if (rk < 2)
            nap();
    } while (rank < 2 && now_ms() < deadline);
    assert_int_equal(rank, 2);
    assert_true(seen_rollbacking);
    sim_stop(s);
}

static void test_demo_jobs_profiled_list(void **state)
{
    static const char *const want[] = {
        "ecs-v1:" ID_ECS_OK,      "ecs-v1:" ID_ECS_FAIL,  "ecs-v1:" ID_ECS_RUN,
        "evs-v1:" ID_EVS_OK,      "evs-v1:" ID_EVS_FAIL,  "elb-v3:" ID_V3_ROLLBACK,
        "elb-v3:" ID_V3_COMPLETE, "elb-v3:" ID_V3_CANCEL,
    };
    const char *const *ids = sim_demo_jobs_profiled();
    const char *const *classic = sim_demo_jobs();
    char id[HDR_MAX / 2], want_id[HDR_MAX];
    struct resp r;
    size_t n, k;

    for (n = 0; ids[n]; n++) {
        assert_true(n < sizeof(want) / sizeof(want[0]));
        assert_string_equal(ids[n], want[n]);
        get_profiled(*state, ids[n], id, sizeof(id), &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        snprintf(want_id, sizeof(want_id), "\"job_id\":\"%s\"", id);
        assert_non_null(strstr(r.body, want_id));
        resp_free(&r);
        for (k = 0; classic[k]; k++)
            assert_string_not_equal(classic[k], id);
    }
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
}

/* With step_ms > 0 the profiled jobs, too, began within the last hour and never end later. */
static void test_time_mode_profiled_times_are_recent(void **state)
{
    const char *const *ids = sim_demo_jobs_profiled();
    uint64_t b[8], e[8], now;
    char id[HDR_MAX], ts[HDR_MAX];
    size_t nb, ne, i, k;
    struct sim *s;
    struct resp r;

    (void)state;
    s = start_sim(60000, SLOW_MS);
    for (i = 0; ids[i]; i++) {
        get_profiled(s, ids[i], id, sizeof(id), &r);
        assert_int_equal(r.code, 200);
        assert_true(json_valid(r.body, r.len));
        now = wall_now_ms();
        nb = times_of(r.body, "begin_time", b, 8);
        ne = times_of(r.body, "end_time", e, 8);
        assert_true(nb >= 1);
        for (k = 0; k < nb; k++)
            if (b[k] + HOUR_MS < now || b[k] > now + CLOCK_SLACK_MS)
                fail_msg("%s: begin_time %.3f s from now: %s", ids[i],
                         ((double)b[k] - (double)now) / 1000.0, r.body);
        for (k = 0; k < ne; k++)
            if (e[k] > now + CLOCK_SLACK_MS || e[k] + HOUR_MS < now)
                fail_msg("%s: end_time %.3f s from now: %s", ids[i],
                         ((double)e[k] - (double)now) / 1000.0, r.body);
        /* ELB v3 keeps its whole seconds, ECS and EVS their milliseconds */
        field(r.body, "begin_time", ts, sizeof(ts));
        assert_int_equal(strlen(ts), strncmp(ids[i], "elb-v3:", 7) == 0 ? 20 : 24);
        resp_free(&r);
    }
    sim_stop(s);
}

/* ---- stopping with a slow answer pending ---------------------------------------------------- */

struct slow_client {
    uint16_t port;
    struct resp r;
    atomic_int done;
};

static void *slow_client_main(void *arg)
{
    struct slow_client *c = arg;

    http_ex("127.0.0.1", c->port, "GET", "/v1.0/" PROJECT "/jobs/" ID_FSLOW, "X-Auth-Token", TOKEN,
            &c->r);
    atomic_store(&c->done, 1);
    return NULL;
}

static void test_stop_with_slow_answer_pending(void **state)
{
    struct slow_client c;
    struct resp r;
    struct sim *s;
    pthread_t th;
    uint64_t deadline, t0, took;
    int seen = 0;

    (void)state;
    s = start_sim(0, 30000);
    memset(&c, 0, sizeof(c));
    c.port = sim_port(s);
    atomic_init(&c.done, 0);
    assert_int_equal(pthread_create(&th, NULL, slow_client_main, &c), 0);

    /* wait until the simulator has the slow request in hand */
    deadline = now_ms() + POLL_DEADLINE_MS;
    while (!seen && now_ms() < deadline) {
        http(s, "GET", "/_sim/requests", NULL, &r);
        seen = strstr(r.body, ID_FSLOW " 1\n") != NULL;
        resp_free(&r);
        if (!seen)
            nap();
    }
    assert_true(seen);

    /* other connections are served meanwhile */
    get_job(s, ID_SEED, &r);
    assert_json_answer(&r, 200, seed_body);
    resp_free(&r);
    assert_int_equal(atomic_load(&c.done), 0);

    t0 = now_ms();
    sim_stop(s);
    took = now_ms() - t0;
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(took < STOP_LIMIT_MS);
    assert_int_equal(atomic_load(&c.done), 1);
    assert_int_not_equal(c.r.rc, CURLE_OK); /* the connection was dropped, not answered */
    assert_true(c.r.ms < 30000);
    resp_free(&c.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_checker),
        cmocka_unit_test(test_tls_option_errors),
        cmocka_unit_test_setup_teardown(test_seed_example_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_running_example_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scripted_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sub_jobs_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_jobs_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_and_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_paths_404, setup, teardown),
        cmocka_unit_test(test_custom_token_and_project),
        cmocka_unit_test(test_defaults_and_null),
        cmocka_unit_test_setup_teardown(test_aksk_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aksk_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aksk_flips_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test_setup_teardown(test_progress_step_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_step_mode_late_starters, setup, teardown),
        cmocka_unit_test(test_progress_time_mode),
        cmocka_unit_test(test_time_mode_times_are_recent),
        cmocka_unit_test(test_time_mode_progression),
        cmocka_unit_test_setup_teardown(test_reset_restarts_progression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_429_first_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_500_503_always, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_slow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_cut_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_connection_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_huge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_fault_modes, setup, teardown),
        cmocka_unit_test(test_stop_with_slow_answer_pending),
        cmocka_unit_test_setup_teardown(test_profiled_jobs_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_evs_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiled_paths_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiled_paths_auth_and_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_rollback_step_mode, setup, teardown),
        cmocka_unit_test(test_v3_rollback_time_mode),
        cmocka_unit_test_setup_teardown(test_demo_jobs_profiled_list, setup, teardown),
        cmocka_unit_test(test_time_mode_profiled_times_are_recent),
    };
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
