/*
 * error.h - the thread-local detail message behind convpool_last_error().
 */
#ifndef CP_RUNTIME_ERROR_H
#define CP_RUNTIME_ERROR_H

#include "convpool.h"

/*
 * Records a printf-style detail message for this thread and returns
 * `status`, so that a failure is reported in one statement:
 *     return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "strides[%zu] = %lld: ...", ...);
 */
convpool_status cp_fail(convpool_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with a printf-style context ("node 3 (conv1): ")
 * and returns `status`. */
convpool_status cp_fail_context(convpool_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* convpool_last_error / convpool_status_string (lib/api/error.c). */
const char *cp_last_error(void);
const char *cp_status_string(int32_t status);

#endif
