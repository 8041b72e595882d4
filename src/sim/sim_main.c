/*
 * elb_api_sim: the job API simulator (src/sim.c) as a program, for the
 * integration tests and for trying the exporter by hand.
 *
 *   elb_api_sim [--listen-address=HOST:PORT] [--token=T] [--project-id=P]
 *               [--access-key=AK] [--secret-key=SK] [--step-ms=N] [--slow-ms=N]
 *               [--iam-user=U] [--iam-password=P] [--iam-domain=D] [--iam-token-ttl-s=N]
 *               [--tls-cert-file=PEM --tls-key-file=PEM] [--help]
 *
 * Once it serves, it prints exactly "listening on http://HOST:PORT/" (https://
 * with a certificate and key) and a
 * newline on stdout (IPv6 hosts in brackets, PORT the real one when 0 was
 * asked for) and flushes: tests read that line to learn the port. It then runs
 * until SIGTERM or SIGINT, which are blocked in every thread and taken with
 * sigwait, so no signal handler runs. Exit 0 after a clean stop, 1 when the
 * simulator cannot start, 2 on a bad command line.
 */
#include "log.h"
#include "sim.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_MAX 64              /* numeric address text, without brackets */
#define PEM_FILE_MAX (64 * 1024) /* bytes of --tls-cert-file or --tls-key-file */
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: elb_api_sim [--listen-address=HOST:PORT] [--token=T] [--project-id=P]\n"
    "                   [--access-key=AK] [--secret-key=SK] [--step-ms=N] [--slow-ms=N]\n"
    "                   [--iam-user=U] [--iam-password=P] [--iam-domain=D] [--iam-token-ttl-s=N]\n"
    "                   [--tls-cert-file=PEM --tls-key-file=PEM] [--help]\n"
    "\n"
    "Simulates the classic ELB job API (GET /v1.0/{project_id}/jobs/{job_id}) with a\n"
    "fixed script of jobs, quirks and faults; see the comment at the top of src/sim/sim.c.\n"
    "\n"
    "  --listen-address=HOST:PORT  numeric address, IPv6 in brackets (default 127.0.0.1:0,\n"
    "                              port 0 = any free port; the real one is printed)\n"
    "  --token=T                   required X-Auth-Token (default sim-token)\n"
    "  --project-id=P              project id in the path (default\n"
    "                              0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32)\n"
    "  --access-key=AK             access key of AK/SK-signed requests (default sim-ak)\n"
    "  --secret-key=SK             its secret key (default sim-sk; a test fixture's, so a\n"
    "                              flag is fine here)\n"
    "  --step-ms=N                 progressing jobs advance one step per N ms of wall\n"
    "                              time, and all times are relative to the start;\n"
    "                              0 = one step per answer, fixed times (default 0)\n"
    "  --slow-ms=N                 delay of the slow job and the timeout fault (default 3000)\n"
    "  --iam-user=U, --iam-password=P, --iam-domain=D\n"
    "                              the one IAM login POST /v3/auth/tokens accepts (default\n"
    "                              sim-user, sim-password, sim-domain; scope: the project id,\n"
    "                              or the name eu-de)\n"
    "  --iam-token-ttl-s=N         lifetime of an issued token (default 86400)\n"
    "  --tls-cert-file=PEM         serve HTTPS with this certificate (chain), PEM\n"
    "  --tls-key-file=PEM          and this private key, PEM; both or neither\n"
    "\n"
    "Prints \"listening on http://HOST:PORT/\" (https:// with --tls-cert-file) once\n"
    "serving; stops on SIGTERM or SIGINT.\n";

struct args {
    char host[HOST_MAX + 1];
    int ipv6;
    const char *cert_file, *key_file;
    struct sim_options opt;
};

/* Parse a decimal unsigned number <= max. Returns 0, or -EINVAL (*out untouched). */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/*
 * Parse "HOST:PORT" or "[HOST]:PORT" into a (host text without brackets, port,
 * ipv6 flag). Returns 0 or -EINVAL. The address itself is checked by sim_start.
 */
static int parse_listen(const char *s, struct args *a)
{
    const char *host, *colon;
    size_t n;
    unsigned long port;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        host = s + 1;
        n = (size_t)(close - host);
        colon = close + 1;
        a->ipv6 = 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        host = s;
        n = (size_t)(colon - s);
        if (memchr(host, ':', n))
            return -EINVAL; /* a bare IPv6 address needs brackets */
        a->ipv6 = 0;
    }
    if (n == 0 || n > HOST_MAX || parse_uint(colon + 1, 65535, &port) < 0)
        return -EINVAL;
    memcpy(a->host, host, n);
    a->host[n] = '\0';
    a->opt.host = a->host;
    a->opt.port = (uint16_t)port;
    return 0;
}

/* The value of argument arg for flag name ("--name=value"), or NULL when it is another flag. */
static const char *flag_value(const char *arg, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return NULL;
    return arg + n + 1;
}

/*
 * Parse the command line into a. Returns 0, 1 when --help was printed, or
 * -EINVAL after printing one line about the bad argument on stderr.
 */
static int parse_args(int argc, char **argv, struct args *a)
{
    unsigned long v;
    const char *val;
    int i;

    memset(a, 0, sizeof(*a));
    snprintf(a->host, sizeof(a->host), "127.0.0.1");
    a->opt.host = a->host;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else if ((val = flag_value(arg, "--listen-address")) != NULL) {
            if (parse_listen(val, a) < 0)
                goto bad;
        } else if ((val = flag_value(arg, "--token")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->opt.token = val;
        } else if ((val = flag_value(arg, "--project-id")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->opt.project_id = val;
        } else if ((val = flag_value(arg, "--access-key")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->opt.access_key = val;
        } else if ((val = flag_value(arg, "--secret-key")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->opt.secret_key = val;
        } else if ((val = flag_value(arg, "--step-ms")) != NULL) {
            if (parse_uint(val, UINT_MAX, &v) < 0)
                goto bad;
            a->opt.step_ms = (unsigned)v;
        } else if ((val = flag_value(arg, "--iam-user")) != NULL) {
            a->opt.iam_user = val;
        } else if ((val = flag_value(arg, "--iam-password")) != NULL) {
            a->opt.iam_password = val;
        } else if ((val = flag_value(arg, "--iam-domain")) != NULL) {
            a->opt.iam_domain = val;
        } else if ((val = flag_value(arg, "--iam-token-ttl-s")) != NULL) {
            if (parse_uint(val, 7 * 86400, &v) < 0 || v == 0)
                goto bad;
            a->opt.iam_token_ttl_s = (unsigned)v;
        } else if ((val = flag_value(arg, "--slow-ms")) != NULL) {
            if (parse_uint(val, UINT_MAX, &v) < 0 || v == 0)
                goto bad;
            a->opt.slow_ms = (unsigned)v;
        } else if ((val = flag_value(arg, "--tls-cert-file")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->cert_file = val;
        } else if ((val = flag_value(arg, "--tls-key-file")) != NULL) {
            if (*val == '\0')
                goto bad;
            a->key_file = val;
        } else {
            fprintf(stderr, "elb_api_sim: unknown argument '%s' (see --help)\n", arg);
            return -EINVAL;
        }
    }
    if (!a->cert_file != !a->key_file) {
        fprintf(stderr, "elb_api_sim: --tls-cert-file and --tls-key-file go together\n");
        return -EINVAL;
    }
    return 0;
bad:
    fprintf(stderr, "elb_api_sim: bad value in '%s' (see --help)\n", argv[i]);
    return -EINVAL;
}

/*
 * Read the PEM file path (at most PEM_FILE_MAX bytes) into a NUL-terminated
 * malloc'd string. Returns it, or NULL after printing one line on stderr.
 */
static char *read_pem(const char *flag, const char *path)
{
    char *buf = malloc(PEM_FILE_MAX + 1);
    FILE *f = fopen(path, "r");
    size_t n = 0;

    if (!buf || !f) {
        fprintf(stderr, "elb_api_sim: %s=%s: %s\n", flag, path, strerror(buf ? errno : ENOMEM));
        goto fail;
    }
    n = fread(buf, 1, PEM_FILE_MAX + 1, f);
    if (ferror(f) || n == 0 || n > PEM_FILE_MAX) {
        fprintf(stderr, "elb_api_sim: %s=%s: %s\n", flag, path,
                ferror(f) ? "cannot read it"
                : n == 0  ? "empty"
                          : "larger than 64 KiB");
        goto fail;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
fail:
    if (f)
        fclose(f);
    if (buf)
        explicit_bzero(buf, n < PEM_FILE_MAX ? n : PEM_FILE_MAX);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    struct args a;
    struct sim *s;
    sigset_t set;
    struct sigaction ign;
    char *cert = NULL, *key = NULL; /* PEM text; sim_start copies it */
    int sig = 0, rc, serr;

    rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_USAGE;
    if (a.cert_file) {
        cert = read_pem("--tls-cert-file", a.cert_file);
        key = cert ? read_pem("--tls-key-file", a.key_file) : NULL;
        if (!key) {
            free(cert);
            return EXIT_USAGE;
        }
        a.opt.tls_cert_pem = cert;
        a.opt.tls_key_pem = key;
    }

    /* Block the stop signals before any thread exists, so every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        log_error("elb_api_sim: cannot block signals");
        return 1;
    }
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);

    s = sim_start(&a.opt);
    serr = errno;
    free(cert);
    if (key)
        explicit_bzero(key, strlen(key));
    free(key);
    if (!s) {
        log_error("elb_api_sim: cannot listen on %s%s%s:%u%s: %s", a.ipv6 ? "[" : "", a.host,
                  a.ipv6 ? "]" : "", (unsigned)a.opt.port,
                  a.cert_file ? " with that certificate and key" : "", strerror(serr));
        return 1;
    }
    printf("listening on %s://%s%s%s:%u/\n", a.cert_file ? "https" : "http", a.ipv6 ? "[" : "",
           a.host, a.ipv6 ? "]" : "", (unsigned)sim_port(s));
    if (fflush(stdout) != 0)
        log_warn("elb_api_sim: cannot write to stdout: %s", strerror(errno));
    log_info("elb_api_sim: serving project %s, step_ms=%u", sim_project_id(s), a.opt.step_ms);

    rc = sigwait(&set, &sig);
    if (rc != 0)
        log_error("elb_api_sim: sigwait: %s", strerror(rc));
    log_info("elb_api_sim: signal %d, stopping", sig);
    sim_stop(s);
    return 0;
}
