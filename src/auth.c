/* auth: placeholder until written. */
#include <stddef.h>
