/* Compiled with -std=c99 -Wall -Wextra -pedantic -Werror by check-header.sh:
 * the public header must be clean C99 on its own. Also checks that the
 * header and the loaded library agree on the version. */
#include <convpool.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char want[32];
    convpool_desc *desc = NULL;
    convpool_status st;
    sprintf(want, "%d.%d.%d", CONVPOOL_VERSION_MAJOR, CONVPOOL_VERSION_MINOR,
            CONVPOOL_VERSION_PATCH);
    if (strcmp(convpool_version(), want) != 0 ||
        convpool_version_number() != CONVPOOL_VERSION_NUMBER) {
        printf("FAIL: header %s (%d), library %s (%d)\n", want, CONVPOOL_VERSION_NUMBER,
               convpool_version(), (int)convpool_version_number());
        return 1;
    }
    st = convpool_desc_create(CONVPOOL_OP_MAX_POOL, 2, &desc);
    convpool_desc_destroy(desc);
    printf("C99: libconvpool %s, desc_create: %s\n", convpool_version(),
           convpool_status_string(st));
    return st == CONVPOOL_OK ? 0 : 1;
}
