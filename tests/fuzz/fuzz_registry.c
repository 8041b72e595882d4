/*
 * fuzz_registry: libFuzzer target for registry_parse_registration (the body
 * of POST /api/v1/jobs), with the answer rendered from what it accepted.
 *
 * Checks: an accepted body names a valid job ID of a known profile and labels
 * of the allow-list, sorted, unique, with valid values; the answer rendered
 * from it is valid JSON; a refused body says why in one NUL-terminated line
 * and leaves the output untouched. The same input also goes through the
 * reference and duration parsers, which must not crash either.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_labels(const struct job_labels *l)
{
    unsigned i;

    if (l->n > JOB_LABELS_MAX)
        abort();
    for (i = 0; i < l->n; i++) {
        if (!joblabels_name_allowed(l->kv[i].name, strlen(l->kv[i].name)) ||
            !joblabels_value_valid(l->kv[i].value, strlen(l->kv[i].value)))
            abort();
        if (i && strcmp(l->kv[i - 1].name, l->kv[i].name) >= 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct registry_reg r, untouched;
    const struct api_profile *p;
    char err[REGISTRY_ERR_MAX], id[JOB_ID_MAX + 1], *text;
    struct json_doc *d = NULL;
    struct strbuf b;
    uint64_t ms;
    int rc;

    memset(&r, 0x5a, sizeof(r));
    untouched = r;
    memset(err, 'X', sizeof(err));
    rc = registry_parse_registration((const char *)data, size, profile_default(),
                                     "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32", &r, err, sizeof(err));
    if (rc == 0) {
        if (!r.profile || !job_id_valid(r.id, strlen(r.id)))
            abort();
        check_labels(&r.labels);
        strbuf_init(&b, REGISTRY_JOB_JSON_MAX);
        if (registry_render_registration(&b, &r, 1, 1) != 0)
            abort();
        if (json_parse(b.data, b.len, &d) != 0)
            abort();
        json_free(d);
        strbuf_release(&b);
    } else {
        if (rc != -EINVAL || memchr(err, '\0', sizeof(err)) == NULL || strchr(err, '\n'))
            abort();
        if (memcmp(&r, &untouched, sizeof(r)) != 0)
            abort();
    }

    /* the same bytes as a job reference and as a ?wait= duration */
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (registry_parse_ref(text, profile_default(), &p, id, err, sizeof(err)) == 0 &&
        (!p || !job_id_valid(id, strlen(id))))
        abort();
    if (registry_parse_duration(text, &ms, err, sizeof(err)) == 0 && ms > (uint64_t)INT64_MAX)
        abort();
    strbuf_init(&b, 4096);
    if (registry_json_string(&b, text) == 0 && json_parse(b.data, b.len, &d) == 0)
        json_free(d);
    else if (b.len)
        abort(); /* rendered, yet not valid JSON */
    strbuf_release(&b);
    free(text);
    return 0;
}
