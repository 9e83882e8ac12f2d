/*
 * The reference backward passes: the oracle for the backward fast paths.
 *
 * Conv and ConvTranspose compute dx on op->transposed, the op of the other
 * kind with the same weights created for the same ISA path (ops/backward.c):
 * on the scalar path that is the reference kernel of the other kind, on the
 * fast paths its fast implementation. Every backward impl of these kinds
 * shares that data pass (cp_backward_conv_data).
 */
#include "kernels/ref/ref_kernels.h"
#include "ops/impl.h"
#include "runtime/threadpool.h"

/* As the forward reference: below this many multiply-adds (or taps) a
 * backward pass stays on one thread. */
#define CP_REF_BACKWARD_MIN_WORK_PER_THREAD 65536

void cp_backward_data_geom(const convpool_op *op, const cp_geom *g, cp_geom *t)
{
    *t = *g;
    t->c = g->m;
    t->m = g->c;
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        const int64_t eff = (g->kernel[i] - 1) * g->dilation[i] + 1;
        t->in[i] = g->out[i];
        t->out[i] = g->in[i];
        /* Conv -> ConvTranspose: crop pad_begin from the full output
         * (in-1)*stride + eff and what is left past the forward input at the
         * end (negative: input rows no window reached, which get zeros).
         * ConvTranspose -> Conv: the end padding that makes the windows of
         * the forward input's size fit the forward output. */
        t->pad_end[i] = (t->out[i] - 1) * g->stride[i] + eff - t->in[i] - g->pad_begin[i];
        if (op->attrs.kind == CONVPOOL_OP_CONV)
            t->pad_end[i] = (t->in[i] - 1) * g->stride[i] + eff - g->pad_begin[i] - t->out[i];
    }
}

/* The op that runs the dx pass of geometry t (see op->transposed_ref). */
static const convpool_op *data_op(const convpool_op *op, const cp_geom *t)
{
    if (op->transposed_ref)
        for (int i = 0; i < CP_MAX_SPATIAL; i++)
            if (t->pad_begin[i] < 0)
                return op->transposed_ref;
    return op->transposed;
}

size_t cp_backward_conv_data_workspace(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    if (!op->transposed)
        return 0;
    cp_geom t;
    cp_backward_data_geom(op, g, &t);
    const convpool_op *inner = data_op(op, &t);
    return inner->impl->workspace_size ? inner->impl->workspace_size(inner, &t, threads) : 0;
}

void cp_backward_conv_data(const cp_backward_args *a)
{
    cp_geom t;
    cp_backward_data_geom(a->op, a->geom, &t);
    const convpool_op *inner = data_op(a->op, &t);
    cp_run_args r = {inner, &t, a->ctx, a->dy, a->dx, NULL, a->workspace};
    inner->impl->run(&r);
}

static size_t ref_conv_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                 int32_t pass)
{
    return pass == CONVPOOL_BACKWARD_DATA ? cp_backward_conv_data_workspace(op, g, threads) : 0;
}

static void ref_weight_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_backward_args *a = arg;
    cp_ref_conv_weight_grad(a->geom, a->op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE, a->x, a->dy,
                            a->dw, begin, end);
}

static void ref_bias_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_backward_args *a = arg;
    cp_ref_bias_grad(a->geom, a->dy, a->db, begin, end);
}

void cp_backward_bias(const cp_backward_args *a)
{
    const cp_geom *g = a->geom;
    cp_parallel_for(a->ctx, g->m,
                    cp_threads_for_work(g->m * g->n * cp_geom_out_plane(g),
                                        CP_REF_BACKWARD_MIN_WORK_PER_THREAD),
                    ref_bias_task, (void *)a);
}

static void ref_conv_weights(const cp_backward_args *a)
{
    const cp_geom *g = a->geom;
    /* Both kinds have M * C/group weight rows of K taps; each meets every
     * output position of its channel once per batch item. */
    const int64_t rows = g->m * (g->c / g->group);
    const int64_t taps = g->kernel[0] * g->kernel[1] * g->kernel[2];
    const int64_t positions =
        g->n * (a->op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE ? cp_geom_in_plane(g)
                                                                : cp_geom_out_plane(g));
    if (a->dw)
        cp_parallel_for(
            a->ctx, rows,
            cp_threads_for_work(rows * taps * positions, CP_REF_BACKWARD_MIN_WORK_PER_THREAD),
            ref_weight_task, (void *)a);
    if (a->db)
        cp_backward_bias(a);
}

const cp_backward_impl cp_backward_conv_ref = {
    .name = "conv.backward.ref",
    .kind = CONVPOOL_OP_CONV,
    .isa = CONVPOOL_ISA_SCALAR,
    .workspace_size = ref_conv_workspace,
    .data = cp_backward_conv_data,
    .weights = ref_conv_weights,
};

const cp_backward_impl cp_backward_conv_transpose_ref = {
    .name = "conv_transpose.backward.ref",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_SCALAR,
    .workspace_size = ref_conv_workspace,
    .data = cp_backward_conv_data,
    .weights = ref_conv_weights,
};

static void ref_pool_grad_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_backward_args *a = arg;
    switch (a->op->attrs.kind) {
    case CONVPOOL_OP_MAX_POOL:
    case CONVPOOL_OP_GLOBAL_MAX_POOL:
        cp_ref_max_pool_backward(a->geom, a->x, a->indices, a->dy, a->dx, begin, end);
        break;
    case CONVPOOL_OP_LP_POOL:
    case CONVPOOL_OP_GLOBAL_LP_POOL:
        cp_ref_lp_pool_backward(a->geom, a->x, a->dy, a->dx, begin, end);
        break;
    default: cp_ref_avg_pool_backward(a->geom, a->dy, a->dx, begin, end); break;
    }
}

/* Planes (n, c) are independent: one thread per plane keeps each dx
 * element's sum in window order whatever the thread count. */
static void ref_pool_data(const cp_backward_args *a)
{
    const cp_geom *g = a->geom;
    const int64_t planes = g->n * g->c;
    const int64_t work = planes * (cp_geom_in_plane(g) + cp_geom_out_plane(g) * g->kernel[0] *
                                                             g->kernel[1] * g->kernel[2]);
    cp_parallel_for(a->ctx, planes, cp_threads_for_work(work, CP_REF_BACKWARD_MIN_WORK_PER_THREAD),
                    ref_pool_grad_task, (void *)a);
}

#define REF_POOL_BACKWARD(var, op_kind, label)                                                     \
    const cp_backward_impl var = {                                                                 \
        .name = label,                                                                             \
        .kind = op_kind,                                                                           \
        .isa = CONVPOOL_ISA_SCALAR,                                                                \
        .data = ref_pool_data,                                                                     \
    }

REF_POOL_BACKWARD(cp_backward_max_pool_ref, CONVPOOL_OP_MAX_POOL, "max_pool.backward.ref");
REF_POOL_BACKWARD(cp_backward_avg_pool_ref, CONVPOOL_OP_AVERAGE_POOL, "avg_pool.backward.ref");
REF_POOL_BACKWARD(cp_backward_global_max_pool_ref, CONVPOOL_OP_GLOBAL_MAX_POOL,
                  "global_max_pool.backward.ref");
REF_POOL_BACKWARD(cp_backward_global_avg_pool_ref, CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
                  "global_avg_pool.backward.ref");
REF_POOL_BACKWARD(cp_backward_lp_pool_ref, CONVPOOL_OP_LP_POOL, "lp_pool.backward.ref");
REF_POOL_BACKWARD(cp_backward_global_lp_pool_ref, CONVPOOL_OP_GLOBAL_LP_POOL,
                  "global_lp_pool.backward.ref");
