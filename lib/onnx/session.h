/*
 * session.h - what the rest of the library may ask of a session beyond the
 * public calls: per-node timing for convpool_session_run_profiled().
 */
#ifndef CP_ONNX_SESSION_H
#define CP_ONNX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"

/* Nodes in the file of the session's model (convpool_model_node_count). */
size_t cp_session_node_count(const convpool_session *s);

/* Makes the session's runs store each executed node's nanoseconds into
 * node_ns[file index] until called again with NULL. */
void cp_session_time_nodes(convpool_session *s, int64_t *node_ns);

#endif
