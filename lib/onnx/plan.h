/*
 * plan.h - everything that depends on the input shapes: every value's shape
 * and size, and one arena holding all intermediates, each node's scratch
 * (workspace, 8-bit conversion buffers) at offsets chosen by liveness so
 * that buffers whose lifetimes do not overlap share memory. Plans are
 * immutable; sessions cache them per input-shape set and thread count.
 */
#ifndef CP_ONNX_PLAN_H
#define CP_ONNX_PLAN_H

#include "onnx/model.h"

#define CP_NOT_IN_ARENA SIZE_MAX

typedef struct cp_plan {
    int32_t threads;   /* workspace sizes depend on the thread count */
    cp_shape *inputs;  /* the key: shape of each graph input */
    cp_shape *shapes;  /* per value */
    int64_t *counts;   /* per value: elements */
    size_t *bytes;     /* per value */
    size_t *offset;    /* per value: arena offset or CP_NOT_IN_ARENA */
    size_t *scratch;   /* per node: arena offset of its scratch */
    size_t *workspace; /* per node: workspace bytes within the scratch */
    /* per node: pairs[i].bands > 0 where node i, a depthwise Conv, runs
     * together with node i + 1, the pointwise Conv that alone reads its
     * output (ops/conv_pair.h): the intermediate gets no arena block, node
     * i's scratch is the pair's workspace, node i + 1 runs nothing itself */
    struct cp_conv_pair *pairs;
    size_t arena_bytes;
    size_t output_bytes;    /* the graph outputs' buffers, one per output */
    size_t transient_bytes; /* the most a Conv op rebuilt at each run takes (weights
                             * bound as graph inputs): its packed copy */
} cp_plan;

/* Whether value v is written straight into a graph output's buffer (the
 * first graph output naming a node-computed value). */
int cp_value_is_direct_output(const convpool_model *m, int32_t v, size_t *output_index);

/*
 * Builds the plan for inputs of shapes `inputs` (one per graph input) run
 * on `ctx`, whose thread count sizes the workspaces (NULL: one thread, for
 * load-time checks and shape queries; the default context is never
 * touched, so a program using only its own contexts never starts it):
 * shape inference through every node (errors name the node), declared
 * static dims checked, symbolic dims consistent across inputs, sizes
 * overflow-checked, arena laid out, and everything a run holds at once
 * (weights and their packed copies, the arena, the outputs' buffers, an op
 * rebuilt for the run) checked against the model's memory limit.
 */
convpool_status cp_plan_build(const convpool_model *m, const cp_shape *inputs,
                              convpool_context *ctx, cp_plan **out);

/* Whether plan p was built for these input shapes and thread count
 * (threads < 0: any thread count, for shape queries). */
int cp_plan_matches(const cp_plan *p, const convpool_model *m, const cp_shape *inputs,
                    int32_t threads);

void cp_plan_free(cp_plan *p);

/* The Conv op for node n given W (shape ws, data w) and B (b or NULL): n->op
 * if the weights are constant, else a new op the caller destroys. */
convpool_status cp_node_op(const cp_node *n, const cp_shape *ws, const void *w, const void *b,
                           convpool_op **op, convpool_op **temp);

/* Whether node n is an 8-bit MaxPool, run through float copies. */
int cp_node_needs_float_copies(const convpool_model *m, const cp_node *n);

#endif
