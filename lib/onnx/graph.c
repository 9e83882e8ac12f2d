/*
 * GraphProto -> values and nodes: names defined once, every input defined,
 * nodes in topological order (cycles refused), Constant nodes folded into
 * constant values, and types and ranks known for every value.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/graph.h"
#include "onnx/names.h"
#include "runtime/checked.h"
#include "runtime/error.h"

/* Per file node, while building. */
typedef struct file_node {
    const Onnx__NodeProto *np;
    const cp_op_rule *rule;
    int32_t *inputs;  /* value index per input; -1 for an empty (absent) name */
    int32_t *outputs; /* value index per output; -1 for an empty name */
    int32_t pending;  /* unsorted producers it waits for (Kahn) */
} file_node;

typedef struct builder {
    convpool_model *m;
    const Onnx__GraphProto *g;
    const cp_tensor_source *src;
    cp_names names;
    file_node *fn;
    int32_t *value_producer; /* file node index of NODE values, else -1 */
} builder;

static const char *str(const char *s)
{
    return s ? s : "";
}

static convpool_status fail_node(convpool_status st, const Onnx__NodeProto *np, size_t i)
{
    return cp_fail_context(st, "node %d ('%s'): ", (int)i, str(np->name));
}

/* Appends a value named `name` (copied); returns its index or -1 after cp_fail. */
static int32_t add_value(builder *b, const char *name, int32_t source, const char *who)
{
    convpool_model *m = b->m;
    int32_t prev = cp_names_find(&b->names, name);
    if (prev >= 0) {
        int32_t ps = m->values[prev].source;
        cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "%s'%s' is defined twice (already %s)", who, name,
                ps == CP_VALUE_INPUT   ? "a graph input"
                : ps == CP_VALUE_CONST ? "an initializer"
                                       : "a node output");
        return -1;
    }
    cp_value *v = &m->values[m->value_count];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    if (!v->name) {
        cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a name");
        return -1;
    }
    v->source = source;
    v->producer = -1;
    v->last_use = -1;
    int32_t index = (int32_t)m->value_count++;
    cp_names_add(&b->names, v->name, index);
    b->value_producer[index] = -1;
    return index;
}

/* Value v becomes the constant tensor t, taking its data (t is consumed). */
static void make_constant(convpool_model *m, int32_t v, cp_tensor *t)
{
    cp_value *val = &m->values[v];
    val->source = CP_VALUE_CONST;
    val->dtype = t->dtype;
    val->shape.rank = t->rank;
    memcpy(val->shape.dims, t->dims, sizeof t->dims);
    val->data = val->owned = t->data;
    val->bytes = t->bytes;
    m->weight_bytes += t->bytes;
    free(t->name);
}

static convpool_status add_initializers(builder *b)
{
    for (size_t i = 0; i < b->g->n_initializer; i++) {
        cp_tensor t;
        convpool_status st = cp_tensor_decode(b->g->initializer[i], b->src, &t);
        if (st != CONVPOOL_OK)
            return cp_fail_context(st, "initializer %zu: ", i);
        int32_t v = add_value(b, t.name, CP_VALUE_CONST, "initializer ");
        if (v < 0) {
            cp_tensor_free(&t);
            return CONVPOOL_ERROR_INVALID_MODEL;
        }
        make_constant(b->m, v, &t);
    }
    if (b->g->n_sparse_initializer)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "sparse initializers are not supported");
    return CONVPOOL_OK;
}

/* Reads a ValueInfoProto's tensor type into io (dims -1 where symbolic). */
static convpool_status read_value_info(const Onnx__ValueInfoProto *vi, cp_io *io, int required)
{
    const char *name = str(vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        if (!required && !tp)
            return CONVPOOL_OK;
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                       "'%s' is not a tensor (sequences, maps, "
                       "optionals and sparse tensors are not supported)",
                       name);
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    io->dtype = tt->has_elem_type ? tt->elem_type : 0;
    if (io->dtype != 0 && !cp_dtype_size(io->dtype))
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                       "'%s' has element type %s; supported: "
                       "FLOAT, UINT8, INT8, INT64",
                       name, cp_dtype_name(io->dtype));
    if (required && io->dtype == 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "graph input '%s' has no element type", name);
    if (!tt->shape) {
        if (required)
            return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                           "graph input '%s' has no shape; the "
                           "loader needs the rank of every input",
                           name);
        return CONVPOOL_OK;
    }
    if (tt->shape->n_dim > CP_MAX_RANK)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "'%s' has rank %zu; at most %d is supported",
                       name, tt->shape->n_dim, CP_MAX_RANK);
    io->has_shape = 1;
    io->shape.rank = tt->shape->n_dim;
    for (size_t d = 0; d < io->shape.rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        io->shape.dims[d] = -1;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dim->dim_value < 0)
                return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "'%s': dim %zu = %lld is negative",
                               name, d, (long long)dim->dim_value);
            io->shape.dims[d] = dim->dim_value;
        } else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   dim->dim_param && *dim->dim_param) {
            io->dim_names[d] = strdup(dim->dim_param);
            if (!io->dim_names[d])
                return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a dim name");
        }
    }
    return CONVPOOL_OK;
}

static convpool_status add_inputs(builder *b)
{
    convpool_model *m = b->m;
    m->inputs = calloc(b->g->n_input + 1, sizeof *m->inputs);
    if (!m->inputs)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate inputs");
    for (size_t i = 0; i < b->g->n_input; i++) {
        const char *name = str(b->g->input[i]->name);
        int32_t prev = cp_names_find(&b->names, name);
        /* IR < 4 lists initializers among the inputs: they stay constants. */
        if (prev >= 0 && m->values[prev].source == CP_VALUE_CONST)
            continue;
        if (!*name)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "graph input %zu has no name", i);
        cp_io *io = &m->inputs[m->input_count];
        convpool_status st = read_value_info(b->g->input[i], io, 1);
        if (st != CONVPOOL_OK)
            return st;
        int32_t v = add_value(b, name, CP_VALUE_INPUT, "graph input ");
        if (v < 0)
            return CONVPOOL_ERROR_INVALID_MODEL;
        io->value = v;
        m->input_count++;
        m->values[v].dtype = io->dtype;
        m->values[v].shape = io->shape;
    }
    return CONVPOOL_OK;
}

/* Input and output counts each op type allows. */
static convpool_status check_arity(const file_node *f)
{
    static const struct {
        int32_t kind, in_min, in_max, out_max;
    } arity[] = {
        {CONVPOOL_OP_CONV, 2, 3, 1},
        {CONVPOOL_OP_MAX_POOL, 1, 1, 2},
        {CONVPOOL_OP_AVERAGE_POOL, 1, 1, 1},
        {CONVPOOL_OP_GLOBAL_AVERAGE_POOL, 1, 1, 1},
        {CONVPOOL_OP_GLOBAL_MAX_POOL, 1, 1, 1},
        {CP_FILE_NODE_CONSTANT, 0, 0, 1},
        {CP_FILE_NODE_IDENTITY, 1, 1, 1},
    };
    const Onnx__NodeProto *np = f->np;
    for (size_t i = 0; i < sizeof arity / sizeof arity[0]; i++) {
        if (arity[i].kind != f->rule->kind)
            continue;
        if ((int64_t)np->n_input < arity[i].in_min || (int64_t)np->n_input > arity[i].in_max)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "%s has %zu inputs; it takes %d to %d",
                           f->rule->op_type, np->n_input, arity[i].in_min, arity[i].in_max);
        if (np->n_output < 1 || (int64_t)np->n_output > arity[i].out_max)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "%s has %zu outputs; it has 1 to %d",
                           f->rule->op_type, np->n_output, arity[i].out_max);
    }
    for (size_t i = 0; i < np->n_input; i++)
        if (!*str(np->input[i]) && (i < 2 || f->rule->kind != CONVPOOL_OP_CONV))
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "required input %zu has an empty name", i);
    if (!*str(np->output[0]))
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "output 0 has an empty name");
    return CONVPOOL_OK;
}

/* The names of a file node's inputs or outputs as the model keeps them
 * (borrowed from the values; "" where the file leaves one out). */
static const char **link_names(const convpool_model *m, const int32_t *values, size_t count)
{
    const char **names = malloc((count + 1) * sizeof *names);
    for (size_t k = 0; names && k < count; k++)
        names[k] = values[k] >= 0 ? m->values[values[k]].name : "";
    return names;
}

/* Records every file node as it appears in the file, for the node
 * introspection calls (convpool_model_node_*). */
static convpool_status record_graph_nodes(builder *b)
{
    convpool_model *m = b->m;
    for (size_t i = 0; i < b->g->n_node; i++) {
        const file_node *f = &b->fn[i];
        cp_graph_node *gn = &m->graph_nodes[i];
        gn->op_type = f->rule->op_type;
        gn->name = strdup(str(f->np->name));
        gn->inputs = link_names(m, f->inputs, f->np->n_input);
        gn->input_count = f->np->n_input;
        gn->outputs = link_names(m, f->outputs, f->np->n_output);
        gn->output_count = f->np->n_output;
        if (!gn->name || !gn->inputs || !gn->outputs)
            return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate node names");
    }
    return CONVPOOL_OK;
}

/* Creates the values of every node output (so nodes may come in any order). */
static convpool_status add_node_outputs(builder *b)
{
    for (size_t i = 0; i < b->g->n_node; i++) {
        file_node *f = &b->fn[i];
        convpool_status st = check_arity(f);
        if (st != CONVPOOL_OK)
            return fail_node(st, f->np, i);
        f->inputs = malloc((f->np->n_input + 1) * sizeof *f->inputs);
        f->outputs = malloc(f->np->n_output * sizeof *f->outputs);
        if (!f->inputs || !f->outputs)
            return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate node links");
        for (size_t o = 0; o < f->np->n_output; o++) {
            const char *name = str(f->np->output[o]);
            f->outputs[o] = -1;
            if (!*name)
                continue;
            int32_t v = add_value(b, name, CP_VALUE_NODE, "output ");
            if (v < 0)
                return fail_node(CONVPOOL_ERROR_INVALID_MODEL, f->np, i);
            b->value_producer[v] = (int32_t)i;
            f->outputs[o] = v;
        }
    }
    return CONVPOOL_OK;
}

/* Resolves every node input name; counts each node's unsorted producers. */
static convpool_status link_node_inputs(builder *b)
{
    for (size_t i = 0; i < b->g->n_node; i++) {
        file_node *f = &b->fn[i];
        f->pending = 0;
        for (size_t k = 0; k < f->np->n_input; k++) {
            const char *name = str(f->np->input[k]);
            f->inputs[k] = -1;
            if (!*name)
                continue;
            int32_t v = cp_names_find(&b->names, name);
            if (v < 0)
                return fail_node(cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                                         "input '%s' is not "
                                         "defined (no graph input, initializer or node "
                                         "output has that name)",
                                         name),
                                 f->np, i);
            f->inputs[k] = v;
            if (b->value_producer[v] >= 0)
                f->pending++;
        }
    }
    return CONVPOOL_OK;
}

/*
 * Kahn's algorithm: `order` receives the file node indices, producers first.
 * Ready nodes are taken in file order, so a sorted file keeps its order.
 * Consumers are found through a per-value list (CSR), keeping this linear.
 */
static convpool_status sort_nodes(builder *b, int32_t *order)
{
    size_t n = b->g->n_node, nv = b->m->value_count, head = 0, tail = 0, links = 0;
    size_t *start = calloc(nv + 1, sizeof *start);
    for (size_t i = 0; start && i < n; i++)
        for (size_t k = 0; k < b->fn[i].np->n_input; k++)
            if (b->fn[i].inputs[k] >= 0) {
                start[b->fn[i].inputs[k] + 1]++;
                links++;
            }
    int32_t *consumer = malloc((links + 1) * sizeof *consumer);
    size_t *fill = malloc((nv + 1) * sizeof *fill);
    if (!start || !consumer || !fill) {
        free(start);
        free(consumer);
        free(fill);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate the node order");
    }
    for (size_t v = 0; v < nv; v++)
        start[v + 1] += start[v];
    memcpy(fill, start, (nv + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < b->fn[i].np->n_input; k++)
            if (b->fn[i].inputs[k] >= 0)
                consumer[fill[b->fn[i].inputs[k]]++] = (int32_t)i;
    for (size_t i = 0; i < n; i++)
        if (b->fn[i].pending == 0)
            order[tail++] = (int32_t)i;
    while (head < tail) {
        const file_node *f = &b->fn[order[head++]];
        for (size_t o = 0; o < f->np->n_output; o++) {
            int32_t v = f->outputs[o];
            for (size_t c = v < 0 ? 0 : start[v]; v >= 0 && c < start[v + 1]; c++)
                if (--b->fn[consumer[c]].pending == 0)
                    order[tail++] = consumer[c];
        }
    }
    free(start);
    free(consumer);
    free(fill);
    if (tail < n) {
        for (size_t i = 0; i < n; i++)
            if (b->fn[i].pending > 0)
                return fail_node(cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                                         "the graph has a cycle through this node (%zu of %zu "
                                         "nodes cannot be ordered)",
                                         n - tail, n),
                                 b->fn[i].np, i);
    }
    return CONVPOOL_OK;
}

/* A Constant node: its 'value' tensor becomes a constant value. */
static convpool_status fold_constant(builder *b, const file_node *f)
{
    const Onnx__NodeProto *np = f->np;
    if (np->n_attribute != 1 || strcmp(str(np->attribute[0]->name), "value") != 0)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "Constant: only a single 'value' (tensor) "
                                                   "attribute is supported");
    const Onnx__AttributeProto *ap = np->attribute[0];
    if (!ap->has_type || ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR || !ap->t)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "Constant: attribute 'value' must "
                                                         "have type TENSOR");
    cp_tensor t;
    convpool_status st = cp_tensor_decode(ap->t, b->src, &t);
    if (st != CONVPOOL_OK)
        return st;
    make_constant(b->m, f->outputs[0], &t);
    return CONVPOOL_OK;
}

/* Sets up file node f (in topological order) as a constant or an executable node. */
static convpool_status setup_node(builder *b, const file_node *f)
{
    convpool_model *m = b->m;
    if (f->rule->kind == CP_FILE_NODE_CONSTANT)
        return fold_constant(b, f);
    if (f->np->n_attribute && f->rule->kind == CP_FILE_NODE_IDENTITY)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "Identity takes no attributes");
    const cp_value *in = &m->values[f->inputs[0]];
    if (f->rule->kind == CP_FILE_NODE_IDENTITY && in->source == CP_VALUE_CONST) {
        cp_value *out = &m->values[f->outputs[0]];
        out->source = CP_VALUE_CONST; /* an alias: `owned` stays NULL */
        out->dtype = in->dtype;
        out->shape = in->shape;
        out->data = in->data;
        out->bytes = in->bytes;
        return CONVPOOL_OK;
    }
    cp_node *n = &m->nodes[m->node_count];
    memset(n, 0, sizeof *n);
    n->graph_index = (int32_t)(f - b->fn);
    n->name = strdup(str(f->np->name));
    if (!n->name)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a name");
    m->node_count++;
    n->x = f->inputs[0];
    n->w = f->np->n_input > 1 ? f->inputs[1] : -1;
    n->b = f->np->n_input > 2 ? f->inputs[2] : -1;
    n->y = f->outputs[0];
    n->indices = f->np->n_output > 1 ? f->outputs[1] : -1;
    int32_t self = (int32_t)(m->node_count - 1);
    m->values[n->y].producer = self;
    if (n->indices >= 0)
        m->values[n->indices].producer = self;
    if (f->rule->kind == CP_FILE_NODE_IDENTITY) {
        n->kind = CP_NODE_IDENTITY;
        m->values[n->y].dtype = in->dtype;
        m->values[n->y].shape = in->shape;
        return CONVPOOL_OK;
    }
    n->kind = CP_NODE_OP;
    n->op_kind = f->rule->kind;
    return cp_node_setup_op(m, n, f->rule, f->np);
}

static convpool_status add_outputs(builder *b)
{
    convpool_model *m = b->m;
    if (b->g->n_output == 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "the graph has no outputs");
    m->outputs = calloc(b->g->n_output, sizeof *m->outputs);
    if (!m->outputs)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate outputs");
    for (size_t i = 0; i < b->g->n_output; i++) {
        const char *name = str(b->g->output[i]->name);
        cp_io *io = &m->outputs[i];
        m->output_count++;
        int32_t v = cp_names_find(&b->names, name);
        if (v < 0)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                           "graph output '%s' is not produced by "
                           "any node, input or initializer",
                           name);
        io->value = v;
        convpool_status st = read_value_info(b->g->output[i], io, 0);
        if (st != CONVPOOL_OK)
            return cp_fail_context(st, "graph output '%s': ", name);
        const cp_value *val = &m->values[v];
        if (io->dtype && io->dtype != val->dtype)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                           "graph output '%s' is declared %s but "
                           "is %s",
                           name, cp_dtype_name(io->dtype), cp_dtype_name(val->dtype));
        if (io->has_shape && io->shape.rank != val->shape.rank)
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "graph output '%s' is declared with "
                           "rank %zu but has rank %zu",
                           name, io->shape.rank, val->shape.rank);
        io->dtype = val->dtype;
        if (!io->has_shape) {
            io->shape = val->shape;
            io->has_shape = 1;
        }
    }
    return CONVPOOL_OK;
}

/* last_use of every value read by an executable node. */
static void mark_last_uses(convpool_model *m)
{
    for (size_t i = 0; i < m->node_count; i++) {
        const cp_node *n = &m->nodes[i];
        int32_t reads[3] = {n->x, n->w, n->b};
        for (int k = 0; k < 3; k++)
            if (reads[k] >= 0)
                m->values[reads[k]].last_use = (int32_t)i;
    }
}

static convpool_status build(builder *b, int32_t *order)
{
    const Onnx__GraphProto *g = b->g;
    convpool_status st;
    for (size_t i = 0; i < g->n_node; i++) {
        b->fn[i].np = g->node[i];
        b->fn[i].rule = cp_op_lookup(g->node[i], (int32_t)i);
        if (!b->fn[i].rule)
            return CONVPOOL_ERROR_UNSUPPORTED;
    }
    if ((st = add_initializers(b)) != CONVPOOL_OK || (st = add_inputs(b)) != CONVPOOL_OK ||
        (st = add_node_outputs(b)) != CONVPOOL_OK || (st = link_node_inputs(b)) != CONVPOOL_OK ||
        (st = sort_nodes(b, order)) != CONVPOOL_OK || (st = record_graph_nodes(b)) != CONVPOOL_OK)
        return st;
    for (size_t i = 0; i < g->n_node; i++) {
        const file_node *f = &b->fn[order[i]];
        st = setup_node(b, f);
        if (st != CONVPOOL_OK)
            return fail_node(st, f->np, (size_t)order[i]);
        if (f->rule->kind > 0) /* an op: setup_node made it the last executable node */
            b->m->graph_nodes[order[i]].desc = b->m->nodes[b->m->node_count - 1].desc;
    }
    mark_last_uses(b->m);
    return add_outputs(b);
}

convpool_status cp_graph_build(convpool_model *m, const Onnx__GraphProto *g,
                               const cp_tensor_source *src)
{
    size_t names = g->n_input + g->n_initializer, count;
    for (size_t i = 0; i < g->n_node; i++)
        names += g->node[i]->n_output;
    builder b = {m, g, src, {0}, NULL, NULL};
    if (!cp_mul_size(names + 1, sizeof(cp_value), &count))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "too many names in the graph");
    m->graph_node_count = g->n_node;
    m->values = calloc(names + 1, sizeof *m->values);
    m->nodes = calloc(g->n_node + 1, sizeof *m->nodes);
    m->graph_nodes = calloc(g->n_node + 1, sizeof *m->graph_nodes);
    m->names = calloc(1, sizeof *m->names);
    b.value_producer = malloc((names + 1) * sizeof *b.value_producer);
    b.fn = calloc(g->n_node + 1, sizeof *b.fn);
    int32_t *order = malloc((g->n_node + 1) * sizeof *order);
    convpool_status st;
    if (!m->values || !m->nodes || !m->graph_nodes || !m->names || !b.value_producer || !b.fn ||
        !order || !cp_names_init(&b.names, names))
        st = cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate the graph");
    else
        st = build(&b, order);
    for (size_t i = 0; b.fn && i < g->n_node; i++) {
        free(b.fn[i].inputs);
        free(b.fn[i].outputs);
    }
    free(b.fn);
    free(order);
    free(b.value_producer);
    if (m->names)
        *m->names = b.names; /* kept for convpool_session_value_shape(); keys are value names */
    else
        cp_names_free(&b.names);
    return st;
}
