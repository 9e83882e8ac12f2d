/* Public calls: the long-running calls with a caller-supplied message buffer,
 * for FFI callers whose runtime runs a call on one thread and reads its
 * result on another (see "Messages for callers that change threads" in
 * convpool.h). Thin by rule (lib/README.md): the buffer handling is
 * runtime/error.c's, the work the same cp_ function as the call extended. */
#include "onnx/loader.h"
#include "ops/op.h"
#include "runtime/error.h"

CONVPOOL_API convpool_status convpool_model_load_file_msg(const char *path, size_t memory_limit,
                                                          convpool_model **model, char *message,
                                                          size_t message_capacity)
{
    convpool_status s = cp_message_begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    return cp_message_end(cp_model_load_file(path, memory_limit, model), message, message_capacity);
}

CONVPOOL_API convpool_status convpool_model_load_memory_msg(const void *data, size_t size,
                                                            size_t memory_limit,
                                                            convpool_model **model, char *message,
                                                            size_t message_capacity)
{
    convpool_status s = cp_message_begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    return cp_message_end(cp_model_load_memory(data, size, memory_limit, model), message,
                          message_capacity);
}

CONVPOOL_API convpool_status convpool_op_run_msg(const convpool_op *op, convpool_context *ctx,
                                                 const int64_t *input_shape, size_t input_rank,
                                                 const float *x, float *y, size_t y_count,
                                                 int64_t *indices, void *workspace,
                                                 size_t workspace_size, char *message,
                                                 size_t message_capacity)
{
    convpool_status s = cp_message_begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    return cp_message_end(cp_op_run_ex(op, ctx, input_shape, input_rank, x, y, y_count, indices,
                                       workspace, workspace_size),
                          message, message_capacity);
}

CONVPOOL_API convpool_status convpool_session_run_msg(convpool_session *session,
                                                      convpool_context *ctx, char *message,
                                                      size_t message_capacity)
{
    convpool_status s = cp_message_begin(message, message_capacity);
    if (s != CONVPOOL_OK)
        return s;
    return cp_message_end(cp_session_run(session, ctx), message, message_capacity);
}
