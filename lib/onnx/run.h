/*
 * run.h - executes a model's nodes in order for one plan. Every op node
 * goes through convpool_op_run_ex(), the same path as the public op API,
 * but the depthwise + pointwise pairs the plan chose, which run together
 * (ops/conv_pair.h) on the same op objects and give the same bits.
 */
#ifndef CP_ONNX_RUN_H
#define CP_ONNX_RUN_H

#include "onnx/plan.h"

/* `ptr[v]` is the data of every value v (inputs, constants, arena slots and
 * output buffers already resolved); `arena` is the plan's arena. With
 * `node_ns` not NULL, node_ns[graph_index] receives each executed node's
 * wall-clock nanoseconds (entries of nodes not executed are left alone). */
convpool_status cp_run_nodes(const convpool_model *m, const cp_plan *p, void *const *ptr,
                             uint8_t *arena, convpool_context *ctx, int64_t *node_ns);

#endif
