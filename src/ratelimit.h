/*
 * ratelimit: how many of a burst of like events to log. Pure.
 *
 * Fixed windows: the first `burst` events of a window are let through, the rest
 * are only counted. When a window is over, the next ratelimit_roll() starts a
 * new one and hands back what the old one suppressed, so that the caller can
 * log one line saying so. No clock and no lock: the caller passes the time and
 * serialises calls.
 */
#ifndef ELB_RATELIMIT_H
#define ELB_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
    uint64_t window_ms;    /* length of a window */
    unsigned burst;        /* events let through per window */
    uint64_t window_start; /* monotonic ms the current window began */
    unsigned used;         /* events let through in the current window */
    uint64_t suppressed;   /* events held back in the current window */
};

/* A limiter whose first window begins at now_ms. */
void ratelimit_init(struct ratelimit *r, unsigned burst, uint64_t window_ms, uint64_t now_ms);
/*
 * If the current window is over at now_ms, start a new one there and return
 * how many events the old one suppressed; else (or if none were) return 0.
 */
uint64_t ratelimit_roll(struct ratelimit *r, uint64_t now_ms);
/* Count one event in the current window: 1 = let it through, 0 = suppressed. */
int ratelimit_allow(struct ratelimit *r);
/* Events suppressed in the current window so far; they are forgotten (for a last report). */
uint64_t ratelimit_drain(struct ratelimit *r);

#endif
