/*
 * api: requests to the job API on reusable libcurl easy handles (see api.h).
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"
#include "timeutil.h"

/* Body sink: keep at most API_MAX_BODY bytes, then abort the transfer. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct api_request *r = ud;
    size_t len = size * n;
    int rc = strbuf_append(&r->body, p, len);

    if (rc != 0) {
        r->too_large = rc == -E2BIG; /* out of memory is not the answer's fault */
        return 0;                    /* CURLE_WRITE_ERROR */
    }
    return len;
}

long api_parse_retry_after(const char *v, size_t len, double now)
{
    char tmp[64];
    size_t i;
    long secs = 0;
    time_t t;

    while (len && isspace((unsigned char)*v))
        v++, len--;
    while (len && isspace((unsigned char)v[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    for (i = 0; i < len && isdigit((unsigned char)v[i]); i++) {
        if (secs > API_RETRY_AFTER_MAX)
            continue; /* keep scanning, clamp below */
        secs = secs * 10 + (v[i] - '0');
    }
    if (i == len)
        return secs > API_RETRY_AFTER_MAX ? API_RETRY_AFTER_MAX : secs;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    t = curl_getdate(tmp, NULL);
    if (t == (time_t)-1)
        return -1;
    if ((double)t <= now)
        return 0;
    secs = (long)((double)t - now + 0.999);
    return secs > API_RETRY_AFTER_MAX ? API_RETRY_AFTER_MAX : secs;
}

/* Keep the trimmed value of a header line (a login's token) in a fresh, exactly sized buffer. */
static void keep_subject_token(struct api_request *r, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    secret_free(r->subject_token);
    r->subject_token = len && len <= AUTH_TOKEN_MAX ? strndup(v, len) : NULL;
}

/* Header sink: Retry-After, and X-Subject-Token (IAM logins). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct api_request *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    static const char subject[] = "x-subject-token:";

    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
        r->retry_after =
            api_parse_retry_after(p + sizeof(name) - 1, len - (sizeof(name) - 1), time_now());
    else if (len > sizeof(subject) - 1 && strncasecmp(p, subject, sizeof(subject) - 1) == 0)
        keep_subject_token(r, p + sizeof(subject) - 1, len - (sizeof(subject) - 1));
    return len;
}

int api_request_init(struct api_request *r, const struct api_client *c)
{
    CURLcode rc;
    CURL *e;

    memset(r, 0, sizeof(*r));
    strbuf_init(&r->body, API_MAX_BODY);
    r->retry_after = -1;
    e = curl_easy_init();
    if (!e)
        return -ENOMEM;
    r->easy = e;
    /* The poller thread owns the handle: no signals, bounded everything. */
    if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)API_MAX_BODY) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent) != CURLE_OK)
        return -ENOMEM;
#if LIBCURL_VERSION_NUM >= 0x075700
    /*
     * A transfer given up on (timeout, shutdown) while its name is still being
     * resolved would otherwise block the poller thread until getaddrinfo returns.
     */
    if (curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK)
        return -ENOMEM;
#endif
    /*
     * TLS: libcurl verifies the peer and its host name against the system CAs
     * unless told otherwise. Proxy options are left alone on purpose, so that
     * libcurl reads http_proxy, https_proxy, no_proxy, ... as curl users expect.
     *
     * The CAs are one bundle file only: libcurl's compiled-in bundle (Debian:
     * /etc/ssl/certs/ca-certificates.crt, which update-ca-certificates writes
     * with the same certificates as the hashed directory) or --tls.ca-file.
     * Debian's libcurl also sets CAPATH=/etc/ssl/certs by default, and with
     * it (1) OpenSSL looks up issuers there too, so --tls.ca-file did not
     * replace the system CAs, and (2) libcurl does not cache the parsed CA
     * store (CURLOPT_CA_CACHE_TIMEOUT, 24 h): every new TLS connection parsed
     * the whole bundle again, about 0.7 MB of heap per pooled connection.
     */
    r->ca_file_set = c->ca_file != NULL;
    if (c->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK)
        return -ENOMEM;
    /* a TLS backend without CA directories has nothing to turn off */
    rc = curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    if (rc != CURLE_OK && rc != CURLE_NOT_BUILT_IN && rc != CURLE_UNKNOWN_OPTION)
        return -ENOMEM;
    if (c->insecure_skip_verify && (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
                                    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK))
        return -ENOMEM;
    return 0;
}

int api_check_ca_file(const char *path, char *err, size_t errsz)
{
    static const char marker[] = "-----BEGIN CERTIFICATE-----";
    char line[128]; /* longer lines come in pieces: the marker starts a short one */
    struct stat st;
    FILE *f;
    int fd, rc = -EINVAL;

    /* non-blocking: a FIFO is refused after the fstat, never waited on for a writer */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errsz, "--tls.ca-file: \"%s\": %s", path, strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "--tls.ca-file: \"%s\" is not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    f = fdopen(fd, "r");
    if (!f) {
        rc = -errno;
        snprintf(err, errsz, "--tls.ca-file: \"%s\": %s", path, strerror(-rc));
        close(fd);
        return rc;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, marker, sizeof(marker) - 1) == 0) {
            rc = 0;
            break;
        }
    }
    if (rc != 0 && ferror(f)) {
        rc = -EIO;
        snprintf(err, errsz, "--tls.ca-file: \"%s\": cannot read it", path);
    } else if (rc != 0) {
        snprintf(err, errsz, "--tls.ca-file: \"%s\" holds no PEM certificate (%s)", path, marker);
    }
    fclose(f);
    return rc;
}

int api_request_prepare(struct api_request *r, const struct api_client *c, const char *job_id,
                        uint64_t job)
{
    struct curl_slist *h = NULL, *t;
    char path[API_URL_MAX];
    int n, rc;

    n = snprintf(path, sizeof(path), c->profile->path_fmt, c->project_id, job_id);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -EINVAL;
    n = snprintf(r->url, sizeof(r->url), "%s%s", c->endpoint, path);
    if (n < 0 || (size_t)n >= sizeof(r->url))
        return -EINVAL;
    t = curl_slist_append(h, "Accept: application/json");
    if (!t)
        return -ENOMEM;
    h = t;
    rc = auth_decorate(c->auth, &h, "GET", r->url, NULL, 0);
    if (rc != 0) {
        auth_headers_free(h);
        return rc;
    }
    r->auth_gen = auth_generation(c->auth);
    auth_headers_free(r->headers);
    r->headers = h;
    strbuf_truncate(&r->body, 0);
    r->too_large = 0;
    r->retry_after = -1;
    r->errbuf[0] = '\0';
    r->job = job;
    secret_free(r->subject_token);
    r->subject_token = NULL;
    if (curl_easy_setopt(r->easy, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK)
        return -ENOMEM;
    return 0;
}

int api_request_prepare_login(struct api_request *r, const char *url, const char *body, size_t len)
{
    static const char *const lines[] = {"Content-Type: application/json;charset=utf8",
                                        "Accept: application/json"};
    struct curl_slist *h = NULL, *t;
    size_t i;
    int n;

    n = snprintf(r->url, sizeof(r->url), "%s", url);
    if (n < 0 || (size_t)n >= sizeof(r->url))
        return -EINVAL;
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        t = curl_slist_append(h, lines[i]);
        if (!t) {
            curl_slist_free_all(h);
            return -ENOMEM;
        }
        h = t;
    }
    auth_headers_free(r->headers);
    r->headers = h;
    strbuf_truncate(&r->body, 0);
    r->too_large = 0;
    r->retry_after = -1;
    r->errbuf[0] = '\0';
    r->auth_gen = 0;
    secret_free(r->subject_token);
    r->subject_token = NULL;
    /* CURLOPT_POSTFIELDS does not copy: the password is in no buffer we cannot wipe */
    if (curl_easy_setopt(r->easy, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK)
        return -ENOMEM;
    return 0;
}

/* Map a libcurl failure to a reason label. */
static enum api_err_reason classify(CURLcode rc, int too_large)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return API_ERR_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return API_ERR_RESOLVE;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return API_ERR_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
        return API_ERR_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return API_ERR_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return too_large ? API_ERR_TOO_LARGE : API_ERR_OTHER;
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
        return API_ERR_PARSE; /* an answer came, but not one we can read */
    default:
        return API_ERR_OTHER;
    }
}

/*
 * A certificate that does not verify is the one TLS failure an operator fixes
 * with a flag: say so in the text the caller logs. libcurl's own text is kept.
 */
static void add_tls_hint(struct api_request *r, CURLcode rc)
{
    char reason[CURL_ERROR_SIZE];
    const char *what, *hint;

    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        what = "certificate verify failed";
        hint = r->ca_file_set ? "(is --tls.ca-file the CA that signed the API's certificate?)"
                              : "(set --tls.ca-file to the CA that signed the API's certificate)";
    } else if (rc == CURLE_SSL_CACERT_BADFILE) {
        what = "CA file not usable";
        hint = "(check --tls.ca-file)";
    } else {
        return;
    }
    snprintf(reason, sizeof(reason), "%.*s", (int)sizeof(reason) - 1,
             r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
    snprintf(r->errbuf, sizeof(r->errbuf), "%s: %s %s", what, reason, hint);
}

void api_request_outcome(struct api_request *r, CURLcode rc, struct api_outcome *out)
{
    long code = 0;
    double t = 0;

    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &t);
    out->http_code = code;
    out->seconds = t;
    out->retry_after = r->retry_after;
    out->transport_ok = rc == CURLE_OK;
    out->err = rc == CURLE_OK ? API_ERR_COUNT : classify(rc, r->too_large);
    add_tls_hint(r, rc);
}

void api_request_cleanup(struct api_request *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    auth_headers_free(r->headers);
    strbuf_release(&r->body);
    secret_free(r->subject_token);
    r->easy = NULL;
    r->headers = NULL;
    r->subject_token = NULL;
}
