/* Public calls for status names and the thread's last error message.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "runtime/error.h"

CONVPOOL_API const char *convpool_last_error(void)
{
    return cp_last_error();
}

CONVPOOL_API const char *convpool_status_string(int32_t status)
{
    return cp_status_string(status);
}
