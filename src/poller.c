/* poller: placeholder until written. */
#include <stddef.h>
