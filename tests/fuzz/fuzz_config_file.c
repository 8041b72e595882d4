/*
 * fuzz_config_file: libFuzzer target for config_file_apply_text (a
 * --config.file body, YAML through libyaml and the flag setters).
 *
 * Starts from a zeroed struct config, as config_parse's file layer would see
 * it minus the flags, and checks what the file layer promises: on success
 * every job ID is valid and unique, the values it set are in range; on error
 * err holds NUL-terminated lines, each starting with the file's name, without
 * control bytes (hostile values are escaped); then everything is released
 * (ASan reports leaks).
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
    char err[CONFIG_ERR_MAX];
    const char *line;
    size_t i, j;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(err, 'X', sizeof(err));
    rc = config_file_apply_text(&c, "fuzz.yml", (const char *)data, size, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    if (rc == 0) {
        if (err[0] != '\0' || c.n_jobs > CONFIG_MAX_JOBS)
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
        if (c.poll_concurrency > 256 || (c.poll_interval_ms && c.poll_interval_ms < 100))
            abort();
        if (c.telemetry_path && c.telemetry_path[0] != '/')
            abort();
    } else {
        /* every line names the file (or is the "N more problems" count) */
        for (line = err; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, "fuzz.yml", 8) != 0 && strncmp(line, "(", 1) != 0)
                abort();
        for (i = 0; err[i]; i++)
            if (((unsigned char)err[i] < 0x20 && err[i] != '\n') || (unsigned char)err[i] >= 0x7f)
                abort();
    }
    config_release(&c);
    return 0;
}
