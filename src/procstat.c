/*
 * procstat: the standard process_* values of this process, read from /proc
 * (see procstat.h). Linux only; anything unreadable or unparsable gives
 * ok = 0 and the renderer leaves the process_* family set out.
 *
 * Every read goes through a fixed-size buffer and every number through a
 * checked strtoull: /proc is trusted, but a comm field may hold spaces and
 * ')' (the process name is user-chosen), so fields are counted from the
 * last ')' of /proc/self/stat.
 */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROC_SELF_STAT "/proc/self/stat"
#define PROC_STAT "/proc/stat"
#define PROC_SELF_FD "/proc/self/fd"
#define STAT_BUF_MAX 4096 /* /proc/self/stat is well under 1 KiB */
#define STAT_LINE_MAX 256 /* chunk of a /proc/stat line; its "btime" line is short */
#define NUM_TEXT_MAX 32   /* digits of one field */

/* Fields of /proc/self/stat (1-based, proc(5)); counting resumes after the comm field (2). */
#define F_UTIME 14
#define F_STIME 15
#define F_STARTTIME 22
#define F_VSIZE 23
#define F_RSS 24

/* Parse the decimal digits s[0..n) (no sign, no blanks) into *v. Returns 0 or -EINVAL. */
static int parse_u64(const char *s, size_t n, unsigned long long *v)
{
    char text[NUM_TEXT_MAX];
    char *end;
    unsigned long long x;

    if (n == 0 || n >= sizeof(text) || s[0] < '0' || s[0] > '9')
        return -EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';
    errno = 0;
    x = strtoull(text, &end, 10);
    if (errno || *end != '\0')
        return -EINVAL;
    *v = x;
    return 0;
}

/* Read up to cap-1 bytes of path into buf, NUL-terminated. Returns the length or -errno. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    int fd, err = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (len < cap - 1) {
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return err ? err : (ssize_t)len;
}

struct self_stat {
    unsigned long long utime, stime, starttime, vsize, rss;
};

/* Parse the text of /proc/self/stat. Returns 0 or -EINVAL. */
static int parse_self_stat(const char *buf, size_t len, struct self_stat *st)
{
    const char *p = NULL, *end = buf + len, *tok;
    unsigned long long v;
    unsigned field = 2; /* the comm field ends at the last ')' */
    size_t i;

    for (i = len; i > 0; i--)
        if (buf[i - 1] == ')') {
            p = buf + i;
            break;
        }
    if (!p)
        return -EINVAL;
    while (field < F_RSS) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p == '\n')
            return -EINVAL;
        tok = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        field++;
        if (field != F_UTIME && field != F_STIME && field != F_STARTTIME && field != F_VSIZE &&
            field != F_RSS)
            continue;
        if (parse_u64(tok, (size_t)(p - tok), &v))
            return -EINVAL;
        if (field == F_UTIME)
            st->utime = v;
        else if (field == F_STIME)
            st->stime = v;
        else if (field == F_STARTTIME)
            st->starttime = v;
        else if (field == F_VSIZE)
            st->vsize = v;
        else
            st->rss = v;
    }
    return 0;
}

/*
 * Find "btime N" (boot time, seconds since the epoch) in /proc/stat. The file
 * has arbitrarily long lines (intr), so it is read in chunks and only a chunk
 * that starts a line is looked at. Returns 0 or -errno/-EINVAL.
 */
static int read_btime(unsigned long long *btime)
{
    char line[STAT_LINE_MAX];
    int at_start = 1, rc = -EINVAL;
    FILE *f;

    f = fopen(PROC_STAT, "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        int whole = n > 0 && line[n - 1] == '\n';

        if (at_start && whole && strncmp(line, "btime ", 6) == 0) {
            rc = parse_u64(line + 6, n - 7, btime);
            break;
        }
        at_start = whole;
    }
    fclose(f);
    return rc;
}

/* Count the open fds of this process (not the one used to count). Returns >= 0 or -errno. */
static long count_open_fds(void)
{
    struct dirent *de;
    long n = 0;
    DIR *d;

    d = opendir(PROC_SELF_FD);
    if (!d)
        return -errno;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

void procstat_read(struct proc_stats *out)
{
    char buf[STAT_BUF_MAX];
    struct self_stat st = {0};
    struct proc_stats r = {0};
    unsigned long long btime = 0;
    struct rlimit rl;
    long tck, page, fds;
    ssize_t len;

    memset(out, 0, sizeof(*out));
    tck = sysconf(_SC_CLK_TCK);
    page = sysconf(_SC_PAGESIZE);
    if (tck <= 0 || page <= 0)
        return;
    len = read_small_file(PROC_SELF_STAT, buf, sizeof(buf));
    if (len <= 0 || parse_self_stat(buf, (size_t)len, &st))
        return;
    if (read_btime(&btime))
        return;
    fds = count_open_fds();
    if (fds < 0)
        return;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;

    r.cpu_seconds = (double)(st.utime + st.stime) / (double)tck;
    r.start_time = (double)btime + (double)st.starttime / (double)tck;
    r.virtual_bytes = (double)st.vsize;
    r.resident_bytes = (double)st.rss * (double)page;
    r.open_fds = (double)fds;
    r.max_fds = (double)rl.rlim_cur;
    r.ok = 1;
    *out = r;
}
