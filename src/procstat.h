/*
 * procstat: read the standard process_* values for this process from /proc.
 */
#ifndef ELB_PROCSTAT_H
#define ELB_PROCSTAT_H

#include "expfmt.h"

/* Fill *out (out->ok = 1) from /proc/self; out->ok = 0 if /proc is unreadable. */
void procstat_read(struct proc_stats *out);

#endif
