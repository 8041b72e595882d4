/* http: placeholder until written. */
#include <stddef.h>
