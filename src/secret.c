/*
 * secret: wiping memory that held a secret (see secret.h).
 */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

void secret_clear(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
}

void secret_free(char *s)
{
    secret_clear(s);
    free(s);
}
