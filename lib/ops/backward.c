/*
 * The training calls: gradients of an op's output with respect to its input
 * (backward_data) and its weights and bias (backward_weights). Checks and
 * workspace handling live here, once for every kind; the passes themselves
 * are the op's cp_backward_impl (ops/select.c).
 */
#include <stdint.h>
#include <string.h>

#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

static int is_conv(const convpool_op *op)
{
    return cp_kind_has_weights(op->attrs.kind);
}

/* op->transposed: the op of the other kind with the same weights W. A Conv's
 * W (M, C/group, K...) is, read as a ConvTranspose weight (C', M'/group,
 * K...), the ConvTranspose from M channels to C, and the other way round:
 * no copy in another layout is needed beyond what the inner op packs.
 * Its pads are resolved per run (cp_backward_data_geom), but implementations
 * may choose an algorithm by the attributes (a 1x1 stride-1 Conv without pads
 * goes to a GEMM that assumes none): explicit pads are passed on as they
 * are, and pads that auto_pad or output_shape decide per input size are
 * announced as pads of 1, which only rules out the padding-free algorithms,
 * and flagged (pads_per_run) for those that build on the pads' values. So
 * is a ConvTranspose's output_padding: its dx Conv then has less end
 * padding than the attributes say (negative for a 1x1 stride-1 op, whose
 * outputs past the input's end the Conv must leave out). */
convpool_status cp_op_enable_backward(convpool_op *op, const float *weight)
{
    convpool_desc d;
    d.attrs = op->attrs;
    d.attrs.kind =
        op->attrs.kind == CONVPOOL_OP_CONV ? CONVPOOL_OP_CONV_TRANSPOSE : CONVPOOL_OP_CONV;
    int output_padding = 0;
    for (int i = 0; i < op->attrs.rank; i++)
        output_padding |= op->attrs.output_padding[i] != 0;
    if (op->attrs.auto_pad != CONVPOOL_AUTO_PAD_NOTSET || op->attrs.has_output_shape ||
        output_padding) {
        for (int i = 0; i < 2 * CP_MAX_SPATIAL; i++)
            d.attrs.pads[i] = 1;
        d.attrs.has_pads = 1;
        d.attrs.pads_per_run = 1;
    }
    d.attrs.auto_pad = CONVPOOL_AUTO_PAD_NOTSET;
    memset(d.attrs.output_padding, 0, sizeof d.attrs.output_padding);
    memset(d.attrs.output_shape, 0, sizeof d.attrs.output_shape);
    d.attrs.has_output_shape = 0;
    int64_t ws[2 + CP_MAX_SPATIAL];
    size_t rank;
    convpool_status st = cp_op_weight_shape(op, ws, 2 + CP_MAX_SPATIAL, &rank);
    if (st != CONVPOOL_OK)
        return st;
    st = cp_op_create(&d, ws, rank, weight, NULL, op->isa, &op->transposed);
    if (st == CONVPOOL_OK && op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE &&
        op->isa > CONVPOOL_ISA_SCALAR &&
        (op->attrs.has_output_shape || op->attrs.auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ||
         op->attrs.auto_pad == CONVPOOL_AUTO_PAD_SAME_LOWER))
        st = cp_op_create(&d, ws, rank, weight, NULL, CONVPOOL_ISA_SCALAR, &op->transposed_ref);
    return st;
}

convpool_status cp_conv_create_ex(const convpool_desc *desc, const int64_t *weight_shape,
                                  size_t weight_rank, const float *weight, const float *bias,
                                  uint32_t flags, convpool_op **op)
{
    if (flags & ~(uint32_t)CONVPOOL_CREATE_BACKWARD)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "convpool_conv_create_ex: unknown flag bits 0x%x (known: "
                       "CONVPOOL_CREATE_BACKWARD = 0x%x)",
                       (unsigned)(flags & ~(uint32_t)CONVPOOL_CREATE_BACKWARD),
                       (unsigned)CONVPOOL_CREATE_BACKWARD);
    convpool_op *made = NULL;
    convpool_status st = cp_conv_create(desc, weight_shape, weight_rank, weight, bias, &made);
    if (st != CONVPOOL_OK)
        return st;
    if (flags & CONVPOOL_CREATE_BACKWARD) {
        st = cp_op_enable_backward(made, weight);
        if (st != CONVPOOL_OK) {
            cp_op_destroy(made);
            return st;
        }
    }
    *op = made;
    return CONVPOOL_OK;
}

convpool_status cp_op_weight_shape(const convpool_op *op, int64_t *shape, size_t capacity,
                                   size_t *rank)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (!rank)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "rank is NULL");
    if (!shape && capacity > 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "shape is NULL with capacity %zu",
                       capacity);
    if (!is_conv(op))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s has no weights",
                       cp_op_kind_name(op->attrs.kind));
    const cp_attrs *a = &op->attrs;
    *rank = (size_t)a->rank + 2;
    if (capacity < *rank)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "shape has room for %zu dims; the weight has %zu", capacity, *rank);
    if (a->kind == CONVPOOL_OP_CONV_TRANSPOSE) {
        shape[0] = op->c_per_group * a->group;
        shape[1] = op->m / a->group;
    } else {
        shape[0] = op->m;
        shape[1] = op->c_per_group;
    }
    for (int i = 0; i < a->rank; i++)
        shape[2 + i] = a->kernel_shape[i];
    return CONVPOOL_OK;
}

/* The element counts of the forward input and output. */
static void counts(const cp_geom *g, int64_t *in_count, int64_t *out_count)
{
    *in_count = g->n * g->c * cp_geom_in_plane(g);
    *out_count = g->n * g->m * cp_geom_out_plane(g); /* checked by resolve */
}

static convpool_status check_dy(const float *dy, size_t dy_count, int64_t out_count)
{
    if (!dy)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "dy is NULL");
    if ((uint64_t)out_count > (uint64_t)dy_count)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "dy has %zu elements; the op's output has %lld", dy_count,
                       (long long)out_count);
    return CONVPOOL_OK;
}

/* Which of x and indices backward_data needs or accepts for this op. */
static convpool_status check_data_inputs(const convpool_op *op, const float *x,
                                         const int64_t *indices)
{
    const int32_t kind = op->attrs.kind;
    const char *name = cp_op_kind_name(kind);
    if (is_conv(op)) {
        if (!op->transposed)
            return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                           "%s: backward_data needs an op created by convpool_conv_create_ex "
                           "with CONVPOOL_CREATE_BACKWARD",
                           name);
        if (x || indices)
            return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                           "%s: backward_data takes neither x nor indices (%s given)", name,
                           x ? "x" : "indices");
        return CONVPOOL_OK;
    }
    if (indices && kind != CONVPOOL_OP_MAX_POOL)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "indices given for %s: only MaxPool's backward_data takes Indices", name);
    const int needs_x = (kind == CONVPOOL_OP_MAX_POOL && !indices) ||
                        kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_LP_POOL ||
                        kind == CONVPOOL_OP_GLOBAL_LP_POOL;
    if (needs_x && !x)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s: backward_data needs x%s", name,
                       kind == CONVPOOL_OP_MAX_POOL ? " (the forward input) or indices" : "");
    return CONVPOOL_OK;
}

/* Below this many indices the check stays on one thread. */
#define CP_INDEX_CHECK_MIN_PER_THREAD 65536

typedef struct index_check {
    const cp_geom *g;
    const int64_t *indices;
    /* the backward impl's vector check, or NULL (first_bad_in_plane) */
    int64_t (*first_bad_index)(const int64_t *ip, int64_t n, int64_t lo, int64_t hi);
    int64_t first_bad; /* the first bad position found, or INT64_MAX (an atomic minimum) */
} index_check;

static int64_t first_bad_in_plane(const int64_t *ip, int64_t n, int64_t lo, int64_t hi)
{
    for (int64_t o = 0; o < n; o++)
        if ((ip[o] < lo || ip[o] >= hi) && ip[o] != -1)
            return o;
    return -1;
}

static void index_check_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    index_check *c = arg;
    const int64_t in_plane = cp_geom_in_plane(c->g), out_plane = cp_geom_out_plane(c->g);
    for (int64_t p = begin; p < end; p++) {
        const int64_t lo = p * in_plane;
        const int64_t o =
            c->first_bad_index(c->indices + p * out_plane, out_plane, lo, lo + in_plane);
        if (o >= 0) {
            const int64_t at = p * out_plane + o;
            int64_t seen = __atomic_load_n(&c->first_bad, __ATOMIC_RELAXED);
            while (at < seen && !__atomic_compare_exchange_n(&c->first_bad, &seen, at, 1,
                                                             __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                ;
            return; /* the task's later planes come after it */
        }
    }
}

/* Each index is -1 (a window without input element) or lies in its own
 * (n, c) plane; checked before any dx element is written, the planes split
 * over the context's threads; the first bad index is the one reported. */
static convpool_status check_indices(const convpool_op *op, convpool_context *ctx, const cp_geom *g,
                                     const int64_t *indices)
{
    index_check c = {.g = g, .indices = indices, .first_bad = INT64_MAX};
    c.first_bad_index =
        op->backward->first_bad_index ? op->backward->first_bad_index : first_bad_in_plane;
    const int64_t planes = g->n * g->c, out_plane = cp_geom_out_plane(g);
    cp_parallel_for(cp_context_resolve(ctx), planes,
                    cp_threads_for_work(planes * out_plane, CP_INDEX_CHECK_MIN_PER_THREAD),
                    index_check_task, &c);
    const int64_t at = c.first_bad;
    if (at == INT64_MAX)
        return CONVPOOL_OK;
    const int64_t p = at / out_plane, lo = p * cp_geom_in_plane(g);
    return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                   "indices[%lld] = %lld lies outside its (n, c) = (%lld, %lld) plane of the "
                   "input, [%lld, %lld)",
                   (long long)at, (long long)indices[at], (long long)(p / g->c),
                   (long long)(p % g->c), (long long)lo, (long long)(lo + cp_geom_in_plane(g)));
}

static size_t backward_workspace(const convpool_op *op, const cp_geom *g, convpool_context *ctx,
                                 int32_t pass)
{
    if (g->n == 0 || !op->backward->workspace_size)
        return 0;
    return op->backward->workspace_size(op, g, cp_context_threads(ctx), pass);
}

static const char *const workspace_query = "convpool_op_backward_workspace_size";

/* Runs pass (args filled in but for the workspace and the resolved context)
 * on the caller's workspace or the context's scratch. */
static convpool_status run_pass(cp_backward_args *args, int32_t pass, void *workspace,
                                size_t workspace_size)
{
    args->ctx = cp_context_resolve(args->ctx);
    cp_workspace ws;
    convpool_status st =
        cp_workspace_acquire(args->ctx, backward_workspace(args->op, args->geom, args->ctx, pass),
                             workspace, workspace_size, workspace_query, &ws);
    if (st != CONVPOOL_OK)
        return st;
    args->workspace = ws.ptr;
    if (pass == CONVPOOL_BACKWARD_DATA)
        args->op->backward->data(args);
    else
        args->op->backward->weights(args);
    cp_workspace_release(args->ctx, &ws);
    return CONVPOOL_OK;
}

convpool_status cp_op_backward_data(const convpool_op *op, convpool_context *ctx,
                                    const int64_t *input_shape, size_t input_rank, const float *x,
                                    const int64_t *indices, const float *dy, size_t dy_count,
                                    float *dx, size_t dx_count, void *workspace,
                                    size_t workspace_size)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    convpool_status st = check_data_inputs(op, x, indices);
    if (st != CONVPOOL_OK)
        return st;
    cp_geom g;
    st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    int64_t in_count, out_count;
    counts(&g, &in_count, &out_count);
    if (in_count == 0)
        return CONVPOOL_OK; /* an empty batch: nothing to read or write */
    if ((st = check_dy(dy, dy_count, out_count)) != CONVPOOL_OK)
        return st;
    if (!dx)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "dx is NULL");
    if ((uint64_t)in_count > (uint64_t)dx_count)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "dx has room for %zu elements; the input has %lld", dx_count,
                       (long long)in_count);
    if (indices && (st = check_indices(op, ctx, &g, indices)) != CONVPOOL_OK)
        return st;
    cp_backward_args args = {
        .op = op, .geom = &g, .ctx = ctx, .x = x, .indices = indices, .dy = dy, .dx = dx};
    return run_pass(&args, CONVPOOL_BACKWARD_DATA, workspace, workspace_size);
}

static convpool_status check_grad_buffer(const char *name, const float *buf, size_t count,
                                         int64_t need)
{
    if (!buf) {
        if (count)
            return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL with %s_count = %zu", name,
                           name, count);
        return CONVPOOL_OK;
    }
    if ((uint64_t)need > (uint64_t)count)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "%s has room for %zu elements; the gradient has %lld", name, count,
                       (long long)need);
    return CONVPOOL_OK;
}

convpool_status cp_op_backward_weights(const convpool_op *op, convpool_context *ctx,
                                       const int64_t *input_shape, size_t input_rank,
                                       const float *x, const float *dy, size_t dy_count, float *dw,
                                       size_t dw_count, float *db, size_t db_count, void *workspace,
                                       size_t workspace_size)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (!is_conv(op))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "%s has no weights: backward_weights is for Conv and ConvTranspose",
                       cp_op_kind_name(op->attrs.kind));
    cp_geom g;
    convpool_status st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    const int64_t w_count =
        g.m * op->c_per_group * g.kernel[0] * g.kernel[1] * g.kernel[2]; /* checked at creation */
    if ((st = check_grad_buffer("dw", dw, dw_count, w_count)) != CONVPOOL_OK ||
        (st = check_grad_buffer("db", db, db_count, g.m)) != CONVPOOL_OK)
        return st;
    int64_t in_count, out_count;
    counts(&g, &in_count, &out_count);
    if (in_count == 0) { /* sums over an empty batch */
        if (dw)
            memset(dw, 0, (size_t)w_count * sizeof(float));
        if (db)
            memset(db, 0, (size_t)g.m * sizeof(float));
        return CONVPOOL_OK;
    }
    if (!x)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "x is NULL");
    if ((st = check_dy(dy, dy_count, out_count)) != CONVPOOL_OK)
        return st;
    if (!dw && !db)
        return CONVPOOL_OK;
    cp_backward_args args = {
        .op = op, .geom = &g, .ctx = ctx, .x = x, .dy = dy, .dw = dw, .db = db};
    return run_pass(&args, CONVPOOL_BACKWARD_WEIGHTS, workspace, workspace_size);
}

convpool_status cp_op_backward_workspace_size(const convpool_op *op, convpool_context *ctx,
                                              const int64_t *input_shape, size_t input_rank,
                                              int32_t pass, size_t *workspace_size)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (!workspace_size)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "workspace_size is NULL");
    if (pass != CONVPOOL_BACKWARD_DATA && pass != CONVPOOL_BACKWARD_WEIGHTS)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "pass = %d: expected CONVPOOL_BACKWARD_DATA (1) or "
                       "CONVPOOL_BACKWARD_WEIGHTS (2)",
                       (int)pass);
    if (pass == CONVPOOL_BACKWARD_WEIGHTS && !is_conv(op))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "%s has no weights: CONVPOOL_BACKWARD_WEIGHTS is for Conv and "
                       "ConvTranspose",
                       cp_op_kind_name(op->attrs.kind));
    if (pass == CONVPOOL_BACKWARD_DATA && is_conv(op) && !op->transposed)
        return check_data_inputs(op, NULL, NULL);
    cp_geom g;
    convpool_status st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    size_t bytes = backward_workspace(op, &g, cp_context_resolve(ctx), pass);
    *workspace_size = bytes ? bytes + CP_ALIGNMENT : 0;
    return CONVPOOL_OK;
}
