/*
 * model.h - what a loaded convpool_model is: a validated, topologically
 * sorted graph whose executable nodes hold the library's own op objects.
 * Immutable after loading, so any number of sessions may share it.
 */
#ifndef CP_ONNX_MODEL_H
#define CP_ONNX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"
#include "onnx/tensor.h"

#define CP_MAX_RANK CP_TENSOR_MAX_RANK

/* Where a value's data comes from. */
enum {
    CP_VALUE_INPUT = 1, /* a graph input bound by the caller */
    CP_VALUE_CONST = 2, /* an initializer, Constant output or Identity of one */
    CP_VALUE_NODE = 3   /* computed by an executable node */
};

/* A shape whose dims may be unknown (-1) until run time. */
typedef struct cp_shape {
    size_t rank;
    int64_t dims[CP_MAX_RANK];
} cp_shape;

typedef struct cp_value {
    char *name;
    int32_t source;   /* CP_VALUE_* */
    int32_t dtype;    /* convpool_dtype */
    cp_shape shape;   /* static dims known at load time; -1 where symbolic */
    const void *data; /* CONST: the elements (owned by `owned` or another value) */
    void *owned;
    size_t bytes;     /* CONST: size of data */
    int32_t producer; /* NODE: index into model->nodes */
    int32_t last_use; /* last node index reading it; -1 if none */
} cp_value;

/* A graph input or output as declared in the file (dims -1 where symbolic
 * or unknown, with the symbol in dim_names). */
typedef struct cp_io {
    int32_t value;
    int32_t dtype;
    cp_shape shape;
    char *dim_names[CP_MAX_RANK];
    int has_shape; /* outputs may omit their shape */
} cp_io;

enum {
    CP_NODE_OP = 1,      /* Conv or a pooling op, run via convpool_op_run_ex */
    CP_NODE_IDENTITY = 2 /* a copy */
};

typedef struct cp_node {
    char *name;
    int32_t graph_index; /* position in the file, for messages */
    int32_t kind;        /* CP_NODE_* */
    int32_t op_kind;     /* convpool_op_kind for CP_NODE_OP */
    convpool_desc *desc; /* attributes, as the imported opset defines them */
    /* Made at load time; NULL for a Conv whose W or B is a graph input, whose
     * op is then made from the bound tensors at each run. */
    convpool_op *op;
    int32_t x, w, b;    /* value indices; -1 if absent */
    int32_t y, indices; /* value indices; -1 if absent */
} cp_node;

/* A node as it appears in the file (Constant and Identity included), for
 * the introspection calls; indexed like the file's graph. */
typedef struct cp_graph_node {
    char *name;
    const char *op_type; /* static: the loader's spelling of the op type */
    const char **inputs; /* value names (owned by the values); "" if omitted */
    size_t input_count;
    const char **outputs;
    size_t output_count;
    const convpool_desc *desc; /* the executable node's (defaults filled in); NULL for
                                * Constant and Identity */
} cp_graph_node;

struct convpool_model {
    cp_value *values;
    size_t value_count;
    cp_node *nodes; /* executable nodes in execution order */
    size_t node_count;
    size_t graph_node_count;    /* nodes in the file, Constant ones included */
    cp_graph_node *graph_nodes; /* graph_node_count, in file order */
    struct cp_names *names;     /* value name -> value index */
    cp_io *inputs;
    size_t input_count;
    cp_io *outputs;
    size_t output_count;
    int64_t opset;
    size_t memory_limit; /* 0: none */
    size_t weight_bytes;
    size_t packed_bytes; /* the ops' own copies of their weights, layout of the ISA path */
    /* The plan made at load time when every input shape is static (for one
     * thread); sessions running on one thread, and shape queries, use it
     * instead of planning again. */
    struct cp_plan *static_plan;
};

/* Writes dtype, rank and dims the way the *_info calls document
 * (BUFFER_TOO_SMALL with *rank set when capacity < rank). */
convpool_status cp_report_shape(const cp_shape *shape, int32_t dtype, int32_t *dtype_out,
                                size_t *rank, int64_t *dims, size_t capacity);

/* Frees everything a model owns (NULL-safe); used on every failure path. */
void cp_model_free(convpool_model *model);

/* "node 3 ('conv1')" style context for messages about node `n`. */
#define CP_NODE_FMT     "node %d ('%s'): "
#define CP_NODE_ARGS(n) (int)(n)->graph_index, (n)->name

#endif
