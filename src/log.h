/*
 * log: one line per event to stderr, as logfmt or JSON.
 *
 *   ts=2026-11-28T17:00:00.123Z level=warn msg="job ff80...: HTTP 503"
 *   {"ts":"2026-11-28T17:00:00.123Z","level":"warn","msg":"job ff80...: HTTP 503"}
 *
 * The message is printf-formatted and escaped for the chosen format. Each line is
 * written with a single write(2), so lines from different threads never interleave.
 * Library-like modules (job, json, expfmt, timeutil) never log: their callers do.
 */
#ifndef ELB_LOG_H
#define ELB_LOG_H

/* Bytes of a formatted message; a longer one is cut on a UTF-8 boundary and ends in "...". */
#define LOG_MSG_MAX 4096

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR };
enum log_format { LOGF_LOGFMT = 0, LOGF_JSON };

/* Parse "debug|info|warn|error". Returns 0 or -EINVAL (out untouched). */
int log_level_parse(const char *s, enum log_level *out);
/* Parse "logfmt|json". Returns 0 or -EINVAL (out untouched). */
int log_format_parse(const char *s, enum log_format *out);

/* Set the threshold and format; call before threads start. Default: info, logfmt. */
void log_setup(enum log_level level, enum log_format format);

/*
 * Send lines to fd instead of stderr (default 2); for tests and for main, which
 * may redirect before threads start. The fd is not closed by the log module.
 */
void log_set_fd(int fd);

/* Is a message at this level written? (to skip building expensive messages) */
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

#endif
