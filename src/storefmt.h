/*
 * storefmt: the on-disk format of the durable store's log (store.c), as pure
 * functions over buffers: no I/O, no clock, no logging. Fuzzed (fuzz_store).
 *
 * A log is a file header followed by records, appended and never rewritten in
 * place (store.c compacts by writing a new file). Everything is little-endian
 * whatever the host, and a double travels as its IEEE-754 bits, so a log
 * moves between machines and every value round-trips exactly.
 *
 *   file header (16 bytes): "ELBJSTOR", u32 format version, u32 CRC-32 of the 12 bytes before
 *   record:                 u8 0xE5 (magic), u8 type, u16 payload length,
 *                           u32 CRC-32 (zlib's) of the 4 bytes before and the payload,
 *                           payload
 *   payload:                u8 payload version (1), str profile name, str job ID, then by type
 *     REGISTER              f64 registered_at, u8 n, n x (str name, str value)
 *     FORGET, EXPIRE        nothing more
 *     FINISHED              f64 finished_at, f64 observed_at, the job record:
 *                           str job_id, str job_type, str status_raw, u8 status,
 *                           u8 has_begin, u8 has_end, f64 begin_time, f64 end_time,
 *                           str error_code, str fail_reason, str resource_id,
 *                           u8 has_sub_jobs, u8 n, n x u32 sub_jobs[status],
 *                           u8 has_sub_jobs_total, u32 sub_jobs_total
 *   str:                    u16 length, bytes (no NUL inside, at most the field's cap)
 *
 * A record is valid only if all of it is there, its CRC matches and its
 * payload decodes exactly (every length within its cap, IDs valid, statuses
 * and flags in range, no byte left over), so a decoded record never carries
 * garbage into the caller's structures.
 */
#ifndef ELB_STOREFMT_H
#define ELB_STOREFMT_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "joblabels.h"
#include "profile.h"

#define STOREFMT_VERSION 1        /* of the file header; a newer one is refused */
#define STOREFMT_FILE_HEADER 16   /* bytes of the file header */
#define STOREFMT_REC_HEADER 8     /* bytes of a record header */
#define STOREFMT_PAYLOAD_MAX 4096 /* bytes of a payload at most (ours stay under 1 KiB) */
#define STOREFMT_RECORD_MAX (STOREFMT_REC_HEADER + STOREFMT_PAYLOAD_MAX)
#define STOREFMT_PROFILE_NAME_MAX 32    /* bytes of a profile name */
#define STOREFMT_RESYNC_MAX (16u << 20) /* bytes past a damage searched for valid records */

enum storefmt_type {
    STOREFMT_REGISTER = 1, /* registered over the API (with labels) */
    STOREFMT_FORGET = 2,   /* the registration ended (DELETE, or the retention) */
    STOREFMT_FINISHED = 3, /* the job's terminal answer */
    STOREFMT_EXPIRE = 4    /* forgotten for good: registration and finished state */
};

/* One record, decoded or to encode. Which fields count depends on type. */
struct storefmt_rec {
    enum storefmt_type type;
    const struct api_profile *profile; /* decoded: NULL for a profile this version lacks */
    char profile_name[STOREFMT_PROFILE_NAME_MAX + 1];
    char id[JOB_ID_MAX + 1];
    double registered_at;     /* REGISTER */
    struct job_labels labels; /* REGISTER */
    double finished_at;       /* FINISHED */
    double observed_at;       /* FINISHED */
    struct job_record rec;    /* FINISHED */
};

/* Write the file header into out. */
void storefmt_file_header(uint8_t out[STOREFMT_FILE_HEADER]);
/*
 * Check a file header (len bytes available). Returns 0; -EAGAIN when len is
 * shorter than a header (a file torn while it was created); -EPROTONOSUPPORT
 * for a version newer than this one's; -EBADMSG for anything else (not a log).
 */
int storefmt_check_file_header(const uint8_t *b, size_t len);

/*
 * Do labels keep joblabels.h's promises (n <= JOB_LABELS_MAX, names 1..NAME_MAX
 * bytes, sorted and unique, values at most VALUE_MAX bytes, all NUL-terminated
 * within their arrays)? 1 or 0.
 */
int storefmt_labels_valid(const struct job_labels *l);

/*
 * Encode r (type, profile or profile_name, id and the type's fields) as one
 * record into out (cap bytes; STOREFMT_RECORD_MAX always suffices). Returns the
 * record's size, or -EINVAL for a record that could not be decoded back (an
 * invalid ID, labels or string, an unknown type), or -E2BIG when cap is short.
 */
long storefmt_encode(const struct storefmt_rec *r, uint8_t *out, size_t cap);

/*
 * Decode the record at b (len bytes available) into *r: the key and the fields
 * of its type (zeroed first, then filled; other types' fields are left as they
 * were). Returns its size (> 0);
 * -EAGAIN when len ends before the record does (a torn tail); -EBADMSG when it
 * is damaged (magic, type, length, CRC or payload). A valid record of a profile
 * this version does not know decodes with r->profile NULL.
 */
long storefmt_decode(const uint8_t *b, size_t len, struct storefmt_rec *r);

/* What storefmt_replay found. */
struct storefmt_replay {
    size_t good_end;      /* bytes from the start that are the header and whole valid records */
    uint64_t records;     /* valid records before good_end */
    int damage;           /* 0: none; -EAGAIN: a torn last record; -EBADMSG: a damaged one */
    uint64_t valid_after; /* valid records found past the damage (a damage in the middle) */
};

/*
 * Walk a whole log b[0..len) (header included): call fn(arg, r, offset, size)
 * for every valid record in order, up to the first one that is torn or
 * damaged; then count the valid records that follow it (searched byte by byte,
 * at most STOREFMT_RESYNC_MAX bytes). Returns 0 with *out filled, or the
 * header's error (storefmt_check_file_header). r is scratch, valid during fn.
 */
int storefmt_replay(const uint8_t *b, size_t len,
                    void (*fn)(void *arg, const struct storefmt_rec *r, size_t off, size_t size),
                    void *arg, struct storefmt_replay *out);

#endif
