#include "convpool.h"

/* CONVPOOL_VERSION_STRING comes from meson's project version, which must
 * agree with the header's macros; meson.build checks that at configure time. */
CONVPOOL_API const char *convpool_version(void)
{
    return CONVPOOL_VERSION_STRING;
}

CONVPOOL_API int32_t convpool_version_number(void)
{
    return CONVPOOL_VERSION_NUMBER;
}
