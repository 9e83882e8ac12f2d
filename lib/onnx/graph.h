/*
 * graph.h - the steps of turning a GraphProto into a convpool_model, shared
 * by load.c (model-level checks), graph.c (names, order, values) and
 * attrs.c (each node's op, attributes and types under the imported opset).
 */
#ifndef CP_ONNX_GRAPH_H
#define CP_ONNX_GRAPH_H

#include "onnx/model.h"
#include "onnx/proto.h"

/* Kinds of file node beyond the op kinds. */
#define CP_FILE_NODE_CONSTANT (-1)
#define CP_FILE_NODE_IDENTITY (-2)

/* Highest default-domain opset this loader knows. */
#define CP_MAX_OPSET 22

/* The loader's view of one op type: its kind and the op's versions. */
typedef struct cp_op_rule {
    const char *op_type;
    int32_t kind;        /* convpool_op_kind or CP_FILE_NODE_* */
    int32_t versions[8]; /* ascending, 0-terminated */
} cp_op_rule;

/*
 * The rule for a node's domain and op type, or NULL after cp_fail(UNSUPPORTED,
 * "node 3 ('name'): op type 'Relu' is not supported; supported: ...").
 */
const cp_op_rule *cp_op_lookup(const Onnx__NodeProto *np, int32_t index);

/* The version of `rule`'s op that opset `opset` imports (0 if none yet). */
int32_t cp_op_version(const cp_op_rule *rule, int64_t opset);

/*
 * Completes executable node `n` of kind rule->kind from its NodeProto: checks
 * the input types and ranks (values already resolved and typed), reads the
 * attributes the imported version defines into n->desc, creates n->op when
 * its weights are constant, and sets the output values' types and ranks.
 */
convpool_status cp_node_setup_op(convpool_model *m, cp_node *n, const cp_op_rule *rule,
                                 const Onnx__NodeProto *np);

/* Builds values, nodes, inputs and outputs of `m` from graph `g`. */
convpool_status cp_graph_build(convpool_model *m, const Onnx__GraphProto *g,
                               const cp_tensor_source *src);

#endif
