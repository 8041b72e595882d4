/*
 * secret: wiping memory that held a secret (the API token) before it goes
 * back to the allocator, so that a later allocation, a core dump or a heap
 * read through some other bug does not find it there.
 *
 * The wipe uses explicit_bzero, which the compiler may not drop as a dead
 * store. It covers the bytes up to the string's NUL: callers keep secrets in
 * exactly sized, NUL-terminated buffers (no slack holding older copies).
 */
#ifndef ELB_SECRET_H
#define ELB_SECRET_H

/* Overwrite the strlen(s) bytes of s with NULs (s stays allocated). Accepts NULL. */
void secret_clear(char *s);

/* secret_clear(s), then free(s). Accepts NULL. */
void secret_free(char *s);

#endif
