#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CP_ERROR_CAPACITY 1024

static _Thread_local char last_error[CP_ERROR_CAPACITY];

convpool_status cp_fail(convpool_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

convpool_status cp_fail_context(convpool_status status, const char *fmt, ...)
{
    char previous[CP_ERROR_CAPACITY];
    memcpy(previous, last_error, sizeof previous);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, "%s", previous);
    return status;
}

const char *cp_last_error(void)
{
    return last_error;
}

const char *cp_status_string(int32_t status)
{
    switch (status) {
    case CONVPOOL_OK: return "ok";
    case CONVPOOL_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case CONVPOOL_ERROR_INVALID_ATTRIBUTE: return "invalid attribute";
    case CONVPOOL_ERROR_SHAPE_MISMATCH: return "shape mismatch";
    case CONVPOOL_ERROR_OVERFLOW: return "size overflow";
    case CONVPOOL_ERROR_OUT_OF_MEMORY: return "out of memory";
    case CONVPOOL_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case CONVPOOL_ERROR_UNSUPPORTED: return "unsupported";
    case CONVPOOL_ERROR_INVALID_MODEL: return "invalid model";
    case CONVPOOL_ERROR_IO: return "i/o error";
    case CONVPOOL_ERROR_NOT_FOUND: return "not found";
    case CONVPOOL_ERROR_INVALID_STATE: return "invalid state";
    case CONVPOOL_ERROR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}
