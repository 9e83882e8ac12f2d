/* Shape inference and arena layout for one set of input shapes. */
#include "onnx/plan.h"

#include <string.h>

#include "ops/conv_pair.h"
#include "ops/desc.h"
#include "ops/op.h"
#include "runtime/alloc.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

int cp_value_is_direct_output(const convpool_model *m, int32_t v, size_t *output_index)
{
    if (m->values[v].source != CP_VALUE_NODE)
        return 0;
    for (size_t j = 0; j < m->output_count; j++)
        if (m->outputs[j].value == v) {
            if (output_index)
                *output_index = j;
            return 1;
        }
    return 0;
}

int cp_node_needs_float_copies(const convpool_model *m, const cp_node *n)
{
    return n->kind == CP_NODE_OP && m->values[n->x].dtype != CONVPOOL_DTYPE_FLOAT;
}

convpool_status cp_node_op(const cp_node *n, const cp_shape *ws, const void *w, const void *b,
                           convpool_op **op, convpool_op **temp)
{
    *temp = NULL;
    *op = n->op;
    if (n->op)
        return CONVPOOL_OK;
    convpool_status st = cp_conv_create(n->desc, ws->dims, ws->rank, w, b, temp);
    *op = *temp;
    return st;
}

void cp_plan_free(cp_plan *p)
{
    if (!p)
        return;
    cp_free(p->inputs);
    cp_free(p->shapes);
    cp_free(p->counts);
    cp_free(p->bytes);
    cp_free(p->offset);
    cp_free(p->scratch);
    cp_free(p->workspace);
    cp_free(p->pairs);
    cp_free(p);
}

int cp_plan_matches(const cp_plan *p, const convpool_model *m, const cp_shape *inputs,
                    int32_t threads)
{
    if (threads >= 0 && p->threads != threads)
        return 0;
    for (size_t i = 0; i < m->input_count; i++) {
        if (p->inputs[i].rank != inputs[i].rank ||
            memcmp(p->inputs[i].dims, inputs[i].dims, inputs[i].rank * sizeof(int64_t)) != 0)
            return 0;
    }
    return 1;
}

/* Symbolic dims of the same name must have one size across all inputs. */
static convpool_status check_symbols(const convpool_model *m, const cp_shape *inputs)
{
    for (size_t i = 0; i < m->input_count; i++)
        for (size_t d = 0; d < inputs[i].rank; d++) {
            const char *sym = m->inputs[i].dim_names[d];
            for (size_t j = 0; sym && j <= i; j++)
                for (size_t e = 0; e < (j == i ? d : inputs[j].rank); e++) {
                    const char *other = m->inputs[j].dim_names[e];
                    if (other && strcmp(sym, other) == 0 && inputs[j].dims[e] != inputs[i].dims[d])
                        return cp_fail(
                            CONVPOOL_ERROR_SHAPE_MISMATCH,
                            "dim '%s' is %lld in input '%s' but %lld in input '%s'", sym,
                            (long long)inputs[j].dims[e], m->values[m->inputs[j].value].name,
                            (long long)inputs[i].dims[d], m->values[m->inputs[i].value].name);
                }
        }
    return CONVPOOL_OK;
}

/* Output shape(s) of node n from its input shapes; also its workspace. */
static convpool_status infer_node(const convpool_model *m, const cp_node *n, cp_plan *p,
                                  size_t index, convpool_context *ctx)
{
    const cp_shape *xs = &p->shapes[n->x];
    cp_shape *ys = &p->shapes[n->y];
    if (n->kind == CP_NODE_IDENTITY) {
        *ys = *xs;
        return CONVPOOL_OK;
    }
    convpool_op *op = n->op, *temp = NULL;
    convpool_status st = CONVPOOL_OK;
    float *zeros = NULL;
    size_t transient = 0;
    if (!op) {
        /* Conv with run-time weights: an op from zero weights of W's shape
         * answers the shape and workspace questions. */
        const cp_shape *ws = &p->shapes[n->w];
        const int64_t wm = ws->rank >= 2 ? cp_weight_out_channels(&n->desc->attrs, ws->dims) : 0;
        if (n->b >= 0 &&
            (p->shapes[n->b].rank != 1 || ws->rank < 2 || p->shapes[n->b].dims[0] != wm))
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "bias '%s' must have M = %lld "
                           "elements",
                           m->values[n->b].name, (long long)wm);
        zeros = cp_calloc(p->counts[n->w] ? (size_t)p->counts[n->w] : 1, sizeof(float));
        if (!zeros)
            return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %lld weights",
                           (long long)p->counts[n->w]);
        /* What the op allocates is what the run's op, made from the bound
         * weights, will hold while it runs. */
        const size_t before = cp_alloc_thread_total();
        st = cp_node_op(n, ws, zeros, NULL, &op, &temp);
        transient = cp_alloc_thread_total() - before;
    }
    if (st == CONVPOOL_OK) {
        ys->rank = xs->rank;
        st = cp_op_output_shape(op, xs->dims, xs->rank, ys->dims, CP_MAX_RANK);
    }
    if (st == CONVPOOL_OK)
        st = cp_op_workspace_size(op, ctx, xs->dims, xs->rank, &p->workspace[index]);
    cp_op_destroy(temp);
    cp_free(zeros);
    if (transient > p->transient_bytes)
        p->transient_bytes = transient;
    if (st == CONVPOOL_OK && n->indices >= 0)
        p->shapes[n->indices] = *ys;
    return st;
}

static int is_graph_output(const convpool_model *m, int32_t v)
{
    for (size_t j = 0; j < m->output_count; j++)
        if (m->outputs[j].value == v)
            return 1;
    return 0;
}

/* Node i runs with node i + 1 as a pair (ops/conv_pair.h) where i's output
 * is read by i + 1 alone, as its X, and nowhere else (not a graph output),
 * both are Conv nodes with their own ops (constant weights), and the ops
 * take the pair on these shapes. */
static void choose_pairs(const convpool_model *m, cp_plan *p)
{
    for (size_t i = 0; i + 1 < m->node_count; i++) {
        const cp_node *a = &m->nodes[i], *b = &m->nodes[i + 1];
        if (a->kind != CP_NODE_OP || b->kind != CP_NODE_OP || a->op_kind != CONVPOOL_OP_CONV ||
            b->op_kind != CONVPOOL_OP_CONV || !a->op || !b->op || b->x != a->y ||
            m->values[a->y].last_use != (int32_t)i + 1 || is_graph_output(m, a->y) ||
            m->values[a->x].dtype != CONVPOOL_DTYPE_FLOAT)
            continue;
        const cp_shape *xs = &p->shapes[a->x];
        if (!cp_conv_pair_plan(a->op, b->op, xs->dims, xs->rank, p->threads, &p->pairs[i]))
            continue;
        p->workspace[i] = p->pairs[i].workspace;
        p->workspace[i + 1] = 0;
        i++;
    }
}

static convpool_status size_value(const convpool_model *m, cp_plan *p, int32_t v)
{
    const cp_value *val = &m->values[v];
    if (!cp_element_count(p->shapes[v].dims, p->shapes[v].rank, cp_dtype_size(val->dtype),
                          &p->counts[v]))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "the size of '%s' overflows", val->name);
    p->bytes[v] = (size_t)p->counts[v] * cp_dtype_size(val->dtype);
    return CONVPOOL_OK;
}

/* First-fit placement among live blocks, kept sorted by offset. */
typedef struct block {
    size_t offset, size;
    int32_t free_after; /* node index after which the block is free */
} block;

typedef struct arena_layout {
    block *live;
    size_t count;
    size_t top;
} arena_layout;

static convpool_status place(arena_layout *a, size_t size, int32_t free_after, size_t *offset)
{
    size_t rounded;
    if (!cp_add_size(size, CP_ALIGNMENT - 1, &rounded))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "an intermediate buffer size overflows");
    rounded &= ~(size_t)(CP_ALIGNMENT - 1);
    if (rounded == 0)
        rounded = CP_ALIGNMENT;
    size_t at = 0, pos = 0;
    for (; pos < a->count; pos++) {
        if (a->live[pos].offset >= at && a->live[pos].offset - at >= rounded)
            break;
        size_t end = a->live[pos].offset + a->live[pos].size;
        if (end > at)
            at = end;
    }
    size_t end;
    if (!cp_add_size(at, rounded, &end))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "the intermediate arena size overflows");
    memmove(&a->live[pos + 1], &a->live[pos], (a->count - pos) * sizeof *a->live);
    a->live[pos] = (block){at, rounded, free_after};
    a->count++;
    if (end > a->top)
        a->top = end;
    *offset = at;
    return CONVPOOL_OK;
}

static void release_before(arena_layout *a, int32_t step)
{
    size_t keep = 0;
    for (size_t i = 0; i < a->count; i++)
        if (a->live[i].free_after >= step)
            a->live[keep++] = a->live[i];
    a->count = keep;
}

/* Scratch of node i: [float x][float y] for 8-bit MaxPool, then workspace. */
static convpool_status scratch_bytes(const convpool_model *m, const cp_plan *p, size_t i,
                                     size_t *bytes)
{
    const cp_node *n = &m->nodes[i];
    size_t total = p->workspace[i], fx, fy;
    if (cp_node_needs_float_copies(m, n)) {
        if (!cp_mul_size((size_t)p->counts[n->x], sizeof(float), &fx) ||
            !cp_mul_size((size_t)p->counts[n->y], sizeof(float), &fy) ||
            !cp_add_size(total, fx, &total) || !cp_add_size(total, fy, &total) ||
            !cp_add_size(total, 2 * CP_ALIGNMENT, &total))
            return cp_fail(CONVPOOL_ERROR_OVERFLOW, "scratch size overflows");
    }
    *bytes = total;
    return CONVPOOL_OK;
}

static convpool_status layout(const convpool_model *m, cp_plan *p)
{
    arena_layout a = {cp_zalloc(m->value_count + 2, sizeof(block)), 0, 0};
    if (!a.live)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate the arena layout");
    for (size_t v = 0; v < m->value_count; v++)
        p->offset[v] = CP_NOT_IN_ARENA;
    convpool_status st = CONVPOOL_OK;
    for (size_t i = 0; i < m->node_count && st == CONVPOOL_OK; i++) {
        const cp_node *n = &m->nodes[i];
        release_before(&a, (int32_t)i);
        p->scratch[i] = CP_NOT_IN_ARENA;
        if (i > 0 && p->pairs[i - 1].bands)
            continue; /* placed with its pair's first node */
        /* a pair's output is written while its input is read */
        int32_t outs[2] = {p->pairs[i].bands ? m->nodes[i + 1].y : n->y, n->indices};
        for (int k = 0; k < 2 && st == CONVPOOL_OK; k++) {
            int32_t v = outs[k];
            if (v < 0 || cp_value_is_direct_output(m, v, NULL))
                continue;
            int32_t last = m->values[v].last_use > (int32_t)i ? m->values[v].last_use : (int32_t)i;
            st = place(&a, p->bytes[v], last, &p->offset[v]);
        }
        size_t scratch = 0;
        if (st == CONVPOOL_OK)
            st = scratch_bytes(m, p, i, &scratch);
        if (st == CONVPOOL_OK && scratch)
            st = place(&a, scratch, (int32_t)i, &p->scratch[i]);
    }
    p->arena_bytes = a.top;
    cp_free(a.live);
    return st;
}

static convpool_status check_declared_outputs(const convpool_model *m, const cp_plan *p)
{
    for (size_t j = 0; j < m->output_count; j++) {
        const cp_io *io = &m->outputs[j];
        const cp_shape *s = &p->shapes[io->value];
        for (size_t d = 0; d < io->shape.rank && d < s->rank; d++)
            if (io->shape.dims[d] >= 0 && io->shape.dims[d] != s->dims[d])
                return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                               "graph output '%s' is declared with dim %zu = %lld but computes "
                               "to %lld",
                               m->values[io->value].name, d, (long long)io->shape.dims[d],
                               (long long)s->dims[d]);
    }
    return CONVPOOL_OK;
}

/* Outputs get a buffer each (the session's, or the caller's, counted the
 * same: the memory exists either way); then the sum of what a run holds. */
static convpool_status check_memory(const convpool_model *m, cp_plan *p)
{
    p->output_bytes = 0;
    for (size_t j = 0; j < m->output_count; j++)
        if (!cp_add_size(p->output_bytes, p->bytes[m->outputs[j].value], &p->output_bytes))
            return cp_fail(CONVPOOL_ERROR_OVERFLOW, "the outputs' total size overflows");
    const size_t parts[] = {m->weight_bytes, m->packed_bytes, p->arena_bytes, p->output_bytes,
                            p->transient_bytes};
    size_t total = 0;
    int overflow = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        overflow |= !cp_add_size(total, parts[i], &total);
    if (!overflow && total <= m->memory_limit)
        return CONVPOOL_OK;
    return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY,
                   "a run needs %s%zu bytes (weights %zu, their packed copies %zu, "
                   "intermediates and workspaces %zu, outputs %zu, Conv ops rebuilt from "
                   "weights given as inputs %zu): more than the memory limit of %zu bytes",
                   overflow ? "more than " : "", overflow ? SIZE_MAX : total, m->weight_bytes,
                   m->packed_bytes, p->arena_bytes, p->output_bytes, p->transient_bytes,
                   m->memory_limit);
}

static convpool_status plan_all(const convpool_model *m, const cp_shape *inputs,
                                convpool_context *ctx, cp_plan *p)
{
    convpool_status st = check_symbols(m, inputs);
    if (st != CONVPOOL_OK)
        return st;
    for (size_t v = 0; v < m->value_count; v++)
        p->shapes[v] = m->values[v].shape;
    for (size_t i = 0; i < m->input_count; i++)
        p->shapes[m->inputs[i].value] = inputs[i];
    for (size_t v = 0; v < m->value_count; v++)
        if (m->values[v].source != CP_VALUE_NODE && (st = size_value(m, p, (int32_t)v)))
            return st;
    for (size_t i = 0; i < m->node_count; i++) {
        const cp_node *n = &m->nodes[i];
        st = infer_node(m, n, p, i, ctx);
        if (st == CONVPOOL_OK)
            st = size_value(m, p, n->y);
        if (st == CONVPOOL_OK && n->indices >= 0)
            st = size_value(m, p, n->indices);
        if (st != CONVPOOL_OK)
            return cp_fail_context(st, CP_NODE_FMT, CP_NODE_ARGS(n));
    }
    choose_pairs(m, p);
    if ((st = check_declared_outputs(m, p)) != CONVPOOL_OK || (st = layout(m, p)) != CONVPOOL_OK)
        return st;
    return check_memory(m, p);
}

convpool_status cp_plan_build(const convpool_model *m, const cp_shape *inputs,
                              convpool_context *ctx, cp_plan **out)
{
    /* Without a context, plan for one thread on a context of our own: asking
     * the default context would start its threads in programs that never use
     * it. A one-thread context starts no thread. */
    convpool_context *own = NULL;
    if (!ctx) {
        convpool_status st = cp_context_create(1, &own);
        if (st != CONVPOOL_OK)
            return st;
        ctx = own;
    }
    cp_plan *p = cp_zalloc(1, sizeof *p);
    size_t nv = m->value_count + 1, nn = m->node_count + 1;
    if (p) {
        p->threads = cp_context_threads(ctx);
        p->inputs = cp_malloc((m->input_count + 1) * sizeof *p->inputs);
        p->shapes = cp_malloc(nv * sizeof *p->shapes);
        p->counts = cp_zalloc(nv, sizeof *p->counts);
        p->bytes = cp_zalloc(nv, sizeof *p->bytes);
        p->offset = cp_malloc(nv * sizeof *p->offset);
        p->scratch = cp_malloc(nn * sizeof *p->scratch);
        p->workspace = cp_zalloc(nn, sizeof *p->workspace);
        p->pairs = cp_zalloc(nn, sizeof *p->pairs);
    }
    if (!p || !p->inputs || !p->shapes || !p->counts || !p->bytes || !p->offset || !p->scratch ||
        !p->workspace || !p->pairs) {
        cp_plan_free(p);
        cp_context_destroy(own);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a plan");
    }
    memcpy(p->inputs, inputs, m->input_count * sizeof *inputs);
    convpool_status st = plan_all(m, inputs, ctx, p);
    cp_context_destroy(own);
    if (st != CONVPOOL_OK) {
        cp_plan_free(p);
        return st;
    }
    *out = p;
    return CONVPOOL_OK;
}
