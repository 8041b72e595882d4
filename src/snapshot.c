/* snapshot: placeholder until written. */
#include <stddef.h>
