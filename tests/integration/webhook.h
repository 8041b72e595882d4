/*
 * webhook: a tiny HTTP receiver on 127.0.0.1 for the end-to-end tests, standing
 * in for what an Alertmanager webhook receiver would be: it answers every POST
 * with 200 and keeps its body, with the wall-clock time it arrived, for the
 * test to read.
 *
 * It listens on a port the kernel picks (port 0), so there is no free-port
 * race. At most H_WEBHOOK_BODIES bodies of at most H_WEBHOOK_BODY_MAX bytes
 * each are kept: a longer body is refused with 413, and past the count a body
 * is answered 200 but only counted as dropped, so the sender never retries
 * for ever and the test sees that something was left out. Anything but POST
 * gets 405. libmicrohttpd serves it from its own thread in the test process;
 * h_webhook_stop() ends that thread.
 */
#ifndef ELB_IT_WEBHOOK_H
#define ELB_IT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define H_WEBHOOK_BODIES 256            /* bodies kept */
#define H_WEBHOOK_BODY_MAX (256u << 10) /* bytes of one body */

struct h_webhook;

/* Listen on 127.0.0.1 (a port the kernel picks) and serve. Returns 0 or a negative errno. */
int h_webhook_start(struct h_webhook **out);
/* The bound port. */
uint16_t h_webhook_port(const struct h_webhook *w);
/* Bodies kept so far; *dropped (if non-NULL): bodies answered but not kept. */
size_t h_webhook_count(struct h_webhook *w, size_t *dropped);
/*
 * A copy of body i (< h_webhook_count), NUL-terminated, malloc'd (free() it);
 * *len its length and *received_wall (seconds since the epoch, when it had
 * fully arrived), each if non-NULL. NULL if i is out of range or out of memory.
 */
char *h_webhook_body(struct h_webhook *w, size_t i, size_t *len, double *received_wall);
/* Stop serving, join the server's thread, free; accepts NULL. */
void h_webhook_stop(struct h_webhook *w);

#endif
