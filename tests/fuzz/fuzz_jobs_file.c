/*
 * fuzz_jobs_file: libFuzzer target for config_add_jobs_text (a --jobs.file body).
 *
 * Starts from a zeroed struct config, as a fresh daemon does, and checks that
 * every ID it accepts is a valid job ID, that there are no duplicates, that an
 * error leaves the list empty and names the file, then releases everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char err[512];
    size_t i, j;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(err, 'X', sizeof(err));
    rc = config_add_jobs_text(&c, "fuzz.jobs", (const char *)data, size, err, sizeof(err));
    if (rc == 0) {
        if (c.n_jobs > CONFIG_MAX_JOBS)
            abort();
        for (i = 0; i < c.n_jobs; i++) {
            const struct api_profile *prof;
            const char *id;
            /* kept as given ("ID" or "PROFILE:ID"): the ID part is valid, the profile known */
            config_job_ref(&c, c.jobs[i], &prof, &id);
            if (!prof || !job_id_valid(id, strlen(id)))
                abort();
            for (j = 0; j < i && c.n_jobs <= 64; j++)
                if (strcmp(c.jobs[i], c.jobs[j]) == 0)
                    abort();
        }
    } else {
        if (c.n_jobs != 0 || memchr(err, '\0', sizeof(err)) == NULL ||
            strncmp(err, "fuzz.jobs", 9) != 0)
            abort();
    }
    config_release(&c);
    return 0;
}
