/*
 * fuzz_job: libFuzzer target for job_parse (every profile of the table on
 * every input), job_parse_error and the json reader underneath.
 *
 * Besides "no crash, no leak, no UB", it checks the promises of job.h and
 * json.h on every input: known return codes, output untouched on error, a
 * NUL-terminated error line, every record string NUL-terminated, within its
 * cap and valid UTF-8, a status the profile lists (or UNKNOWN), sub_jobs_total
 * only where the profile has it and within its cap, and json_string cuts
 * landing on character boundaries. The seeds include the simulator's answers
 * of all four profiles (corpus/fuzz_job/sim_*.json).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s[0..n) well-formed UTF-8 without NUL bytes? */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    uint32_t cp;

    while (i < n) {
        unsigned c = s[i];

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* A record string: NUL inside its array, at most max bytes, valid UTF-8. */
static void check_text(const char *s, size_t arrsz)
{
    const char *nul = memchr(s, '\0', arrsz);

    if (nul == NULL || !utf8_ok((const unsigned char *)s, (size_t)(nul - s)))
        abort();
}

static void check_job(const struct api_profile *p, const uint8_t *data, size_t size)
{
    struct job_record r, before;
    char err[160];
    unsigned total = 0;
    int rc, s;

    memset(&r, 0x5A, sizeof(r));
    before = r;
    memset(err, 'X', sizeof(err));
    rc = job_parse(p, (const char *)data, size, &r, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    if (rc != JOB_PARSE_OK) {
        if (rc != JOB_PARSE_INVALID && rc != JOB_PARSE_TOO_LARGE)
            abort();
        if (memcmp(&r, &before, sizeof(r)) != 0 || err[0] == '\0')
            abort();
        return;
    }
    if (err[0] != '\0' || (unsigned)r.status >= JOB_STATUS_COUNT)
        abort();
    if (r.status != JOB_UNKNOWN && !profile_has_status(p, r.status))
        abort();
    if (profile_failed(p, r.status) && !profile_terminal(p, r.status))
        abort();
    if ((r.has_sub_jobs_total != 0 && r.has_sub_jobs_total != 1) ||
        (r.has_sub_jobs_total && p->sub_jobs_total_key == NULL) ||
        r.sub_jobs_total > (r.has_sub_jobs_total ? JOB_SUB_JOBS_TOTAL_MAX : 0))
        abort();
    check_text(r.job_id, sizeof(r.job_id));
    if (r.job_id[0] != '\0' && !job_id_valid(r.job_id, strlen(r.job_id)))
        abort();
    check_text(r.job_type, sizeof(r.job_type));
    check_text(r.status_raw, sizeof(r.status_raw));
    check_text(r.error_code, sizeof(r.error_code));
    check_text(r.fail_reason, sizeof(r.fail_reason));
    check_text(r.resource_id, sizeof(r.resource_id));
    if ((r.has_begin != 0 && r.has_begin != 1) || (r.has_end != 0 && r.has_end != 1))
        abort();
    if ((r.has_begin && !isfinite(r.begin_time)) || (r.has_end && !isfinite(r.end_time)))
        abort();
    for (s = 0; s < JOB_STATUS_COUNT; s++)
        total += r.sub_jobs[s];
    if (total > JOB_SUB_JOBS_MAX || (total > 0) != (r.has_sub_jobs != 0))
        abort();
}

static void check_error_body(const uint8_t *data, size_t size)
{
    struct api_error e, before;
    int rc;

    memset(&e, 0x5A, sizeof(e));
    before = e;
    rc = job_parse_error((const char *)data, size, &e);
    if (rc == JOB_PARSE_OK) {
        check_text(e.code, sizeof(e.code));
        check_text(e.message, sizeof(e.message));
    } else if (rc != JOB_PARSE_INVALID || memcmp(&e, &before, sizeof(e)) != 0) {
        abort();
    }
}

/* Every string token decodes to valid UTF-8, and a cut lands on a character boundary. */
static void check_json(const uint8_t *data, size_t size)
{
    struct json_doc *d = NULL;
    char full[512], part[8];
    size_t n, m;
    double v;
    int rc, rc2, t;

    if (json_parse((const char *)data, size, &d) != 0)
        return;
    for (t = 0; json_type(d, t) != 0; t++) {
        switch (json_type(d, t)) {
        case JSON_STRING:
            rc = json_string(d, t, full, sizeof(full), &n);
            if (rc != 0 && rc != -E2BIG && rc != -EINVAL)
                abort();
            if (rc == -EINVAL)
                break;
            if (n != strlen(full) || !utf8_ok((unsigned char *)full, n))
                abort();
            rc2 = json_string(d, t, part, sizeof(part), &m);
            if (m > n || m >= sizeof(part) || memcmp(part, full, m) != 0)
                abort();
            if ((rc2 == 0) != (rc == 0 && n < sizeof(part)))
                abort();
            if (rc2 == -E2BIG && m + 4 < sizeof(part))
                abort(); /* a cut never drops more than one character */
            if (rc == 0 && !json_streq(d, t, full))
                abort();
            break;
        case JSON_NUMBER:
            if (json_number(d, t, &v) == 0 && !isfinite(v))
                abort();
            break;
        case JSON_OBJECT:
        case JSON_ARRAY:
            if (json_size(d, t) < 0)
                abort();
            break;
        default:
            break;
        }
    }
    json_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct api_profile *p;
    size_t i;

    for (i = 0; (p = profile_at(i)) != NULL; i++)
        check_job(p, data, size);
    check_error_body(data, size);
    check_json(data, size);
    return 0;
}
