/*
 * ratelimit: how many of a burst of like events to log (see ratelimit.h).
 */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *r, unsigned burst, uint64_t window_ms, uint64_t now_ms)
{
    r->window_ms = window_ms;
    r->burst = burst;
    r->window_start = now_ms;
    r->used = 0;
    r->suppressed = 0;
}

uint64_t ratelimit_roll(struct ratelimit *r, uint64_t now_ms)
{
    uint64_t dropped;

    /* a clock that went backwards (it should not) also ends the window, never stalls it */
    if (now_ms >= r->window_start && now_ms - r->window_start < r->window_ms)
        return 0;
    dropped = r->suppressed;
    r->window_start = now_ms;
    r->used = 0;
    r->suppressed = 0;
    return dropped;
}

int ratelimit_allow(struct ratelimit *r)
{
    if (r->used < r->burst) {
        r->used++;
        return 1;
    }
    r->suppressed++;
    return 0;
}

uint64_t ratelimit_drain(struct ratelimit *r)
{
    uint64_t dropped = r->suppressed;

    r->suppressed = 0;
    return dropped;
}
