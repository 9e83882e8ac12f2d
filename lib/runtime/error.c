#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/escape.h"

/* A message buffer of the public capacity always holds a whole message. */
#define CP_ERROR_CAPACITY CONVPOOL_MESSAGE_CAPACITY

static _Thread_local char last_error[CP_ERROR_CAPACITY];

/* Formats into last_error, escaped (runtime/escape.h): messages name things
 * from model files (node, value and attribute names, op types, external
 * locations), and callers print them on terminals. Returns the length. */
static size_t format_escaped(const char *fmt, va_list ap)
{
    char raw[CP_ERROR_CAPACITY];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    size_t raw_len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    cp_escape(last_error, sizeof last_error, raw, raw_len, CP_ESCAPE_TEXT);
    return strlen(last_error);
}

convpool_status cp_fail(convpool_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_escaped(fmt, ap);
    va_end(ap);
    return status;
}

convpool_status cp_fail_context(convpool_status status, const char *fmt, ...)
{
    char previous[CP_ERROR_CAPACITY]; /* already escaped */
    memcpy(previous, last_error, sizeof previous);
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_escaped(fmt, ap);
    va_end(ap);
    snprintf(last_error + n, sizeof last_error - n, "%s", previous);
    return status;
}

convpool_status cp_message_begin(const char *message, size_t capacity)
{
    if (message == NULL && capacity != 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "message is NULL but message_capacity = %zu (pass 0 with NULL)", capacity);
    last_error[0] = '\0';
    return CONVPOOL_OK;
}

convpool_status cp_message_end(convpool_status status, char *message, size_t capacity)
{
    if (capacity == 0)
        return status;
    const char *text = "";
    if (status != CONVPOOL_OK)
        text = last_error[0] != '\0' ? last_error : cp_status_string(status);
    size_t n = strlen(text);
    if (n >= capacity) {
        n = capacity - 1;
        /* Back off over continuation bytes (10xxxxxx) so that a multi-byte
         * character is dropped whole rather than split. */
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(message, text, n);
    message[n] = '\0';
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
