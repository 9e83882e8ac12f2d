/* The reference implementations: weights kept in ONNX layout, work split
 * over output planes. They accept every attribute combination. */
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Below this many multiply-adds (or window taps) a run stays on one thread:
 * waking another costs more than it saves. */
#define CP_REF_MIN_WORK_PER_THREAD 65536

typedef struct ref_conv_weights {
    float *weight; /* (M, C/group, K0, K1, K2) */
    float *bias;   /* M values, zeros if the op has none */
} ref_conv_weights;

static convpool_status ref_conv_prepare(convpool_op *op, const float *weight, const float *bias)
{
    int64_t ksize = op->attrs.kernel_shape[0];
    for (int i = 1; i < op->attrs.rank; i++)
        ksize *= op->attrs.kernel_shape[i]; /* checked by op creation */
    size_t wcount = (size_t)(op->m * op->c_per_group * ksize);
    ref_conv_weights *rw = cp_calloc(1, sizeof *rw);
    if (rw) {
        rw->weight = cp_alloc(wcount * sizeof(float));
        rw->bias = cp_calloc((size_t)op->m, sizeof(float));
    }
    if (!rw || !rw->weight || !rw->bias) {
        if (rw) {
            cp_free(rw->weight);
            cp_free(rw->bias);
        }
        cp_free(rw);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %zu weights", wcount);
    }
    memcpy(rw->weight, weight, wcount * sizeof(float));
    if (bias)
        memcpy(rw->bias, bias, (size_t)op->m * sizeof(float));
    op->packed = rw;
    return CONVPOOL_OK;
}

static void ref_conv_release(convpool_op *op)
{
    ref_conv_weights *rw = op->packed;
    if (rw) {
        cp_free(rw->weight);
        cp_free(rw->bias);
        cp_free(rw);
    }
}

/* Conv and ConvTranspose share the packed weights, the split into output
 * planes and the thread count; only the kernel and the work count differ. */
static void ref_conv_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_run_args *a = arg;
    const ref_conv_weights *rw = a->op->packed;
    if (a->op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE)
        cp_ref_conv_transpose(a->geom, a->x, rw->weight, rw->bias, a->y, begin, end);
    else
        cp_ref_conv(a->geom, a->x, rw->weight, rw->bias, a->y, begin, end);
}

static void ref_conv_run(const cp_run_args *a)
{
    const cp_geom *g = a->geom;
    int64_t planes = g->n * g->m;
    int64_t taps = g->kernel[0] * g->kernel[1] * g->kernel[2];
    /* Conv: every output element meets every tap of its group's channels;
     * ConvTranspose: every input element meets every tap once per output
     * channel of its group. */
    int64_t work = a->op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE
                       ? g->n * g->c * cp_geom_in_plane(g) * (g->m / g->group) * taps
                       : planes * cp_geom_out_plane(g) * (g->c / g->group) * taps;
    cp_parallel_for(a->ctx, planes, cp_threads_for_work(work, CP_REF_MIN_WORK_PER_THREAD),
                    ref_conv_task, (void *)a);
}

static void ref_max_pool_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_run_args *a = arg;
    cp_ref_max_pool(a->geom, a->x, a->y, a->indices, begin, end);
}

static void ref_avg_pool_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_run_args *a = arg;
    cp_ref_avg_pool(a->geom, a->x, a->y, begin, end);
}

static void ref_lp_pool_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_run_args *a = arg;
    cp_ref_lp_pool(a->geom, a->x, a->y, begin, end);
}

static void ref_pool_run(const cp_run_args *a)
{
    const cp_geom *g = a->geom;
    int64_t planes = g->n * g->c;
    int64_t work = planes * cp_geom_out_plane(g) * g->kernel[0] * g->kernel[1] * g->kernel[2];
    const int32_t kind = a->op->attrs.kind;
    void (*task)(void *, int64_t, int64_t, int32_t) = ref_avg_pool_task;
    if (kind == CONVPOOL_OP_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_MAX_POOL)
        task = ref_max_pool_task;
    else if (kind == CONVPOOL_OP_LP_POOL || kind == CONVPOOL_OP_GLOBAL_LP_POOL)
        task = ref_lp_pool_task;
    cp_parallel_for(a->ctx, planes, cp_threads_for_work(work, CP_REF_MIN_WORK_PER_THREAD), task,
                    (void *)a);
}

const cp_impl cp_impl_conv_ref = {
    .name = "conv.ref",
    .kind = CONVPOOL_OP_CONV,
    .isa = CONVPOOL_ISA_SCALAR,
    .prepare = ref_conv_prepare,
    .release = ref_conv_release,
    .run = ref_conv_run,
};

/* ConvTranspose's W (C, M/group, K...) has as many elements as a Conv's
 * (M, C/group, K...) of the same op: the Conv prepare serves both. */
const cp_impl cp_impl_conv_transpose_ref = {
    .name = "conv_transpose.ref",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_SCALAR,
    .prepare = ref_conv_prepare,
    .release = ref_conv_release,
    .run = ref_conv_run,
};

const cp_impl cp_impl_lp_pool_ref = {
    .name = "lp_pool.ref",
    .kind = CONVPOOL_OP_LP_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};

const cp_impl cp_impl_global_lp_pool_ref = {
    .name = "global_lp_pool.ref",
    .kind = CONVPOOL_OP_GLOBAL_LP_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};

const cp_impl cp_impl_max_pool_ref = {
    .name = "max_pool.ref",
    .kind = CONVPOOL_OP_MAX_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};

const cp_impl cp_impl_avg_pool_ref = {
    .name = "avg_pool.ref",
    .kind = CONVPOOL_OP_AVERAGE_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};

const cp_impl cp_impl_global_max_pool_ref = {
    .name = "global_max_pool.ref",
    .kind = CONVPOOL_OP_GLOBAL_MAX_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};

const cp_impl cp_impl_global_avg_pool_ref = {
    .name = "global_avg_pool.ref",
    .kind = CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
    .isa = CONVPOOL_ISA_SCALAR,
    .run = ref_pool_run,
};
