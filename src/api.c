/* api: placeholder until written. */
#include <stddef.h>
