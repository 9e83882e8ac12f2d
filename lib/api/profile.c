/*
 * profile.c - convpool_session_run_profiled(): a session run that also
 * reports each node's time. It goes through convpool_session_run() itself,
 * so a profiled run takes the same path as an ordinary one.
 */
#include "convpool.h"
#include "onnx/session.h"
#include "runtime/error.h"

CONVPOOL_API convpool_status convpool_session_run_profiled(convpool_session *session,
                                                           convpool_context *ctx, int64_t *node_ns,
                                                           size_t node_count)
{
    if (!session)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "session is NULL");
    size_t expected = cp_session_node_count(session);
    if (node_count != expected)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "node_count is %zu; the model has %zu "
                       "nodes (convpool_model_node_count)",
                       node_count, expected);
    if (!node_ns && node_count)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "node_ns is NULL");
    for (size_t i = 0; i < node_count; i++)
        node_ns[i] = -1; /* stays -1 for the nodes folded away at load time */
    cp_session_time_nodes(session, node_ns);
    convpool_status st = convpool_session_run(session, ctx);
    cp_session_time_nodes(session, NULL);
    return st;
}
