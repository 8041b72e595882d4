/*
 * api: requests to the job API on reusable libcurl easy handles (see api.h).
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* Header sink: only Retry-After matters to us. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct api_request *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";

    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
        r->retry_after =
            api_parse_retry_after(p + sizeof(name) - 1, len - (sizeof(name) - 1), time_now());
    return len;
}

int api_request_init(struct api_request *r, const struct api_client *c)
{
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
    return 0;
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
    auth_headers_free(r->headers);
    r->headers = h;
    strbuf_truncate(&r->body, 0);
    r->too_large = 0;
    r->retry_after = -1;
    r->errbuf[0] = '\0';
    r->job = job;
    if (curl_easy_setopt(r->easy, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK)
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
}

void api_request_cleanup(struct api_request *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    auth_headers_free(r->headers);
    strbuf_release(&r->body);
    r->easy = NULL;
    r->headers = NULL;
}
