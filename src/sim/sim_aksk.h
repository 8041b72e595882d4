/*
 * sim_aksk: the simulator's check of AK/SK signatures (SDK-HMAC-SHA256, the
 * API-gateway variant), the server's side of api-notes.md section 2.
 *
 * Written from the algorithm text alone, not from the exporter's signer
 * (src/auth/aksk.c), with which it shares no code: where both pass the same
 * published vectors and accept each other's requests, they agree because
 * the text says so, not because they share a mistake. Pure apart from
 * libcrypto: the caller passes the time; no I/O, no globals.
 *
 * A request is accepted when its Authorization header reads
 *   SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=<64 lower-case hex>
 * (the three parameters in any order, each once, spaces after commas
 * optional), AK is the configured one, X-Sdk-Date is present exactly once, is
 * YYYYMMDDTHHMMSSZ and within SIM_AKSK_SKEW_MAX_S of now, every header the
 * caller requires is among SignedHeaders (x-sdk-date always is required),
 * and the signature recomputed from the request with the configured SK is
 * the one sent. The server rebuilds the canonical request from what it
 * received: the raw request target (path percent-decoded and re-encoded, a
 * '/' added; query pairs decoded with '+' as a space, re-encoded, sorted),
 * the headers SignedHeaders names (each present exactly once, value trimmed
 * of spaces and tabs), SignedHeaders as sent (lower-case, strictly sorted),
 * and the body's SHA-256.
 */
#ifndef ELB_SIM_AKSK_H
#define ELB_SIM_AKSK_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

#define SIM_AKSK_SKEW_MAX_S (15 * 60) /* the gateway's tolerance of clock skew */
#define SIM_AKSK_TARGET_MAX 16384     /* bytes of a request target */
#define SIM_AKSK_HEADERS_MAX 128      /* headers of a request */
#define SIM_AKSK_PARAMS_MAX 512       /* query parameters */
#define SIM_AKSK_CANON_MAX (1u << 20) /* bytes of a canonical request */

struct sim_aksk_header {
    const char *name, *value; /* as received */
};

struct sim_aksk_req {
    const char *method;
    const char *target; /* the request line's target: "/path?query" (or absolute) */
    const struct sim_aksk_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
};

enum sim_aksk_verdict {
    SIM_AKSK_OK = 0,
    SIM_AKSK_NO_SIGNATURE,  /* no Authorization header of this algorithm */
    SIM_AKSK_MALFORMED,     /* Authorization header not in the form above */
    SIM_AKSK_UNKNOWN_AK,    /* Access is not the configured access key */
    SIM_AKSK_DATE_MISSING,  /* no X-Sdk-Date (or more than one) */
    SIM_AKSK_DATE_GARBLED,  /* X-Sdk-Date is not YYYYMMDDTHHMMSSZ */
    SIM_AKSK_DATE_SKEW,     /* X-Sdk-Date more than SIM_AKSK_SKEW_MAX_S from now */
    SIM_AKSK_UNSIGNED,      /* a required header is not among SignedHeaders */
    SIM_AKSK_UNCANONICAL,   /* a signed header absent or repeated, a broken target */
    SIM_AKSK_BAD_SIGNATURE, /* the signature is not the one the request deserves */
};

/* A one-line reason for a verdict, for the error body: plain text, no '"' or '\'. */
const char *sim_aksk_reason(enum sim_aksk_verdict v);

/*
 * The canonical request of r for the signed header list signed_list ("a;b;c")
 * into out. Returns 0, -EINVAL (cannot be canonicalised), -E2BIG or -ENOMEM.
 */
int sim_aksk_canonical(const struct sim_aksk_req *r, const char *signed_list, struct strbuf *out);

/*
 * hex(HMAC-SHA256(sk, "SDK-HMAC-SHA256\n" date "\n" hex(sha256(canonical))))
 * into sig (65 bytes). Returns 0 or -EIO.
 */
int sim_aksk_signature(const char *canonical, size_t len, const char *date, const char *sk,
                       char sig[65]);

/*
 * Judge r against the configured ak/sk at time now. must_sign: NULL or a
 * NULL-terminated list of lower-case header names that SignedHeaders must
 * include (x-sdk-date always must).
 */
enum sim_aksk_verdict sim_aksk_verify(const struct sim_aksk_req *r, const char *ak, const char *sk,
                                      const char *const *must_sign, time_t now);

#endif
