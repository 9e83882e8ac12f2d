/* Public calls for sessions: bind inputs and outputs of a model, run it.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "onnx/loader.h"

CONVPOOL_API convpool_status convpool_session_create(const convpool_model *model,
                                                     convpool_session **session)
{
    return cp_session_create(model, session);
}

CONVPOOL_API void convpool_session_destroy(convpool_session *session)
{
    cp_session_destroy(session);
}

CONVPOOL_API convpool_status convpool_session_set_input(convpool_session *session, size_t index,
                                                        int32_t dtype, const int64_t *shape,
                                                        size_t rank, const void *data)
{
    return cp_session_set_input(session, index, dtype, shape, rank, data);
}

CONVPOOL_API convpool_status convpool_session_output_shape(convpool_session *session, size_t index,
                                                           int32_t *dtype, size_t *rank,
                                                           int64_t *dims, size_t dims_capacity)
{
    return cp_session_output_shape(session, index, dtype, rank, dims, dims_capacity);
}

CONVPOOL_API convpool_status convpool_session_value_shape(convpool_session *session,
                                                          const char *value_name, int32_t *dtype,
                                                          size_t *rank, int64_t *dims,
                                                          size_t dims_capacity)
{
    return cp_session_value_shape(session, value_name, dtype, rank, dims, dims_capacity);
}

CONVPOOL_API convpool_status convpool_session_set_output(convpool_session *session, size_t index,
                                                         void *data, size_t size_bytes)
{
    return cp_session_set_output(session, index, data, size_bytes);
}

CONVPOOL_API convpool_status convpool_session_run(convpool_session *session, convpool_context *ctx)
{
    return cp_session_run(session, ctx);
}

CONVPOOL_API convpool_status convpool_session_output(const convpool_session *session, size_t index,
                                                     int32_t *dtype, size_t *rank,
                                                     const int64_t **dims, const void **data)
{
    return cp_session_output(session, index, dtype, rank, dims, data);
}
