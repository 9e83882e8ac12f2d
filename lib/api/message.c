/*
 * message.c - the long-running calls with a caller-supplied message buffer,
 * for FFI callers whose runtime runs a call on one thread and reads its
 * result on another, where the thread-local convpool_last_error() cannot
 * reach (see "Messages for callers that change threads" in convpool.h).
 */
#include <string.h>

#include "convpool.h"
#include "runtime/error.h"

/* Fails, before anything runs, a buffer that is NULL but said to have room;
 * else empties this thread's message so that the one found after the call
 * is the call's own. */
static convpool_status begin(const char *message, size_t capacity)
{
    if (message == NULL && capacity != 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "message is NULL but message_capacity = %zu (pass 0 with NULL)", capacity);
    cp_error_clear();
    return CONVPOOL_OK;
}

/* Writes the outcome of a call that has just returned `status` in this thread
 * into the caller's buffer: "" on success, else this thread's message (the
 * status string if the call left none), cut at a UTF-8 character boundary. */
static convpool_status report(convpool_status status, char *message, size_t capacity)
{
    if (capacity == 0)
        return status;
    const char *text = "";
    if (status != CONVPOOL_OK) {
        text = convpool_last_error();
        if (text[0] == '\0')
            text = convpool_status_string(status);
    }
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

CONVPOOL_API convpool_status convpool_model_load_file_msg(const char *path, size_t memory_limit,
                                                          convpool_model **model, char *message,
                                                          size_t message_capacity)
{
    convpool_status s = begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    s = convpool_model_load_file(path, memory_limit, model);
    return report(s, message, message_capacity);
}

CONVPOOL_API convpool_status convpool_model_load_memory_msg(const void *data, size_t size,
                                                            size_t memory_limit,
                                                            convpool_model **model, char *message,
                                                            size_t message_capacity)
{
    convpool_status s = begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    s = convpool_model_load_memory(data, size, memory_limit, model);
    return report(s, message, message_capacity);
}

CONVPOOL_API convpool_status convpool_op_run_msg(const convpool_op *op, convpool_context *ctx,
                                                 const int64_t *input_shape, size_t input_rank,
                                                 const float *x, float *y, size_t y_count,
                                                 int64_t *indices, void *workspace,
                                                 size_t workspace_size, char *message,
                                                 size_t message_capacity)
{
    convpool_status s = begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    s = convpool_op_run_ex(op, ctx, input_shape, input_rank, x, y, y_count, indices, workspace,
                           workspace_size);
    return report(s, message, message_capacity);
}

CONVPOOL_API convpool_status convpool_session_run_msg(convpool_session *session,
                                                      convpool_context *ctx, char *message,
                                                      size_t message_capacity)
{
    convpool_status s = begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    s = convpool_session_run(session, ctx);
    return report(s, message, message_capacity);
}
