/*
 * ConvTranspose on the convolution fast paths, in one of two ways chosen
 * at creation.
 *
 * Stride 1 with pads fixed by the attributes (NOTSET without output_shape,
 * or VALID): ConvTranspose is then exactly a Conv of x with the kernel
 * flipped in every spatial dim and transposed to (M, C/group, k...), with
 * pads dilation*(k-1) - pad_begin before and dilation*(k-1) - pad_end +
 * output_padding after: y[o] gathers x[o + pad_begin - tap*dilation] * W[tap],
 * and the flipped tap k-1-tap reads x[o - pad' + tap'*dilation]. That Conv
 * runs on the direct convolution kernels with their blocking and threads,
 * bias included, and needs no column buffer (when a pad would be negative the
 * op takes the other way).
 *
 * Otherwise a GEMM, then a scatter-add. Every input element x[c, i] meets
 * every tap k of every output channel m of its group once, so the products
 * form a matrix product
 *     cols[(m, k), i] = sum_c W[c, m, k] * x[c, i]
 * which is exactly a 1x1 Conv of x with the weight transposed to
 * (group * M/group * K, C/group): that Conv is created for the same ISA
 * path and runs on its packed kernels and threads. The second step adds
 * each column into the output at o = i*stride + k*dilation - pad_begin
 * ("col2im"), plane by plane over the output channels. The GEMM does exactly
 * the FLOPs of the op whatever the stride, dilation, groups, pads,
 * output_padding or output_shape, with one code path; the scatter is a
 * memory pass over K * input-size floats per output channel.
 *
 * Determinism: the Conv's results do not depend on the thread count, and each
 * output element receives its contributions in tap order on one thread.
 * Steady state allocates nothing: cols and the Conv's scratch live in the
 * run's workspace.
 */
#include <string.h>

#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Below this many scatter-adds a plane loop stays on one thread. */
#define CP_COL2IM_MIN_WORK_PER_THREAD 32768

typedef struct gemm_packed {
    convpool_op *inner; /* the 1x1 Conv: (N, C, in...) -> (N, M*K, in...),
                           or when direct the whole op as one Conv */
    float *bias;        /* M values, zeros if the op has none */
    int64_t taps;       /* K = prod(kernel) */
    int direct;         /* inner is the op itself (stride 1) */
} gemm_packed;

static void gemm_release(convpool_op *op)
{
    gemm_packed *gp = op->packed;
    if (!gp)
        return;
    cp_op_destroy(gp->inner);
    cp_free(gp->bias);
    cp_free(gp);
    op->packed = NULL;
}

/* Whether the op is a Conv with flipped kernel: stride 1 everywhere and
 * pads fixed by the attributes that leave the Conv's pads >= 0. */
static int direct_conv_fits(const cp_attrs *a)
{
    if (a->has_output_shape ||
        (a->auto_pad != CONVPOOL_AUTO_PAD_NOTSET && a->auto_pad != CONVPOOL_AUTO_PAD_VALID))
        return 0;
    for (int i = 0; i < a->rank; i++) {
        const int64_t span = a->dilations[i] * (a->kernel_shape[i] - 1);
        const int notset = a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET;
        const int64_t pb = notset ? a->pads[i] : 0, pe = notset ? a->pads[a->rank + i] : 0;
        if (a->strides[i] != 1 || span - pb < 0 || span - pe + a->output_padding[i] < 0)
            return 0;
    }
    return 1;
}

/* The direct way: inner = Conv with W' (M, C/group, K) flipped, its pads;
 * wf has room for W'. */
static convpool_status direct_prepare(convpool_op *op, gemm_packed *gp, const float *weight,
                                      const float *bias, float *wf)
{
    const cp_attrs *a = &op->attrs;
    const int64_t group = a->group, cpg = op->c_per_group, mpg = op->m / group, taps = gp->taps;
    /* W (group, C/group, M/group, K) -> W' (group, M/group, C/group, K reversed):
     * reversing the flat tap index reverses every spatial dim. */
    for (int64_t gi = 0; gi < group; gi++)
        for (int64_t c = 0; c < cpg; c++)
            for (int64_t m = 0; m < mpg; m++)
                for (int64_t k = 0; k < taps; k++)
                    wf[((gi * mpg + m) * cpg + c) * taps + (taps - 1 - k)] =
                        weight[((gi * cpg + c) * mpg + m) * taps + k];
    convpool_desc d;
    cp_attrs_init(&d.attrs, CONVPOOL_OP_CONV, a->rank);
    d.attrs.group = group;
    d.attrs.has_pads = 1;
    int64_t ws[2 + CP_MAX_SPATIAL] = {op->m, cpg};
    const int notset = a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET;
    for (int i = 0; i < a->rank; i++) {
        const int64_t span = a->dilations[i] * (a->kernel_shape[i] - 1);
        d.attrs.dilations[i] = a->dilations[i];
        d.attrs.pads[i] = span - (notset ? a->pads[i] : 0);
        d.attrs.pads[a->rank + i] =
            span - (notset ? a->pads[a->rank + i] : 0) + a->output_padding[i];
        ws[2 + i] = a->kernel_shape[i];
    }
    gp->direct = 1;
    return cp_op_create(&d, ws, (size_t)a->rank + 2, wf, bias, op->isa, &gp->inner);
}

/* The GEMM way: inner = 1x1 Conv with Wt (group * M/group * K, C/group);
 * wt has room for Wt. */
static convpool_status gemm_inner_prepare(convpool_op *op, gemm_packed *gp, const float *weight,
                                          float *wt)
{
    const cp_attrs *a = &op->attrs;
    const int64_t group = a->group, cpg = op->c_per_group, mpg = op->m / group, taps = gp->taps;
    /* W (group, C/group, M/group, K) -> Wt (group, M/group, K, C/group) */
    for (int64_t gi = 0; gi < group; gi++)
        for (int64_t c = 0; c < cpg; c++)
            for (int64_t m = 0; m < mpg; m++)
                for (int64_t k = 0; k < taps; k++)
                    wt[((gi * mpg + m) * taps + k) * cpg + c] =
                        weight[((gi * cpg + c) * mpg + m) * taps + k];
    convpool_desc d;
    cp_attrs_init(&d.attrs, CONVPOOL_OP_CONV, a->rank);
    d.attrs.group = group;
    int64_t ws[2 + CP_MAX_SPATIAL] = {op->m * taps, cpg, 1, 1, 1};
    return cp_op_create(&d, ws, (size_t)a->rank + 2, wt, NULL, op->isa, &gp->inner);
}

static convpool_status gemm_prepare(convpool_op *op, const float *weight, const float *bias)
{
    const cp_attrs *a = &op->attrs;
    const int64_t cpg = op->c_per_group;
    int64_t taps = 1;
    for (int i = 0; i < a->rank; i++)
        taps *= a->kernel_shape[i];    /* W's element count is checked */
    const int64_t rows = op->m * taps; /* (group, M/group, K) */
    gemm_packed *gp = cp_calloc(1, sizeof *gp);
    float *wt = cp_alloc((size_t)(rows * cpg) * sizeof(float));
    if (gp)
        gp->bias = cp_calloc((size_t)op->m, sizeof(float));
    if (!gp || !wt || !gp->bias) {
        cp_free(wt);
        if (gp)
            cp_free(gp->bias);
        cp_free(gp);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %lld weights",
                       (long long)(rows * cpg));
    }
    gp->taps = taps;
    if (bias)
        memcpy(gp->bias, bias, (size_t)op->m * sizeof(float));
    op->packed = gp;
    convpool_status st = direct_conv_fits(a) ? direct_prepare(op, gp, weight, bias, wt)
                                             : gemm_inner_prepare(op, gp, weight, wt);
    cp_free(wt);
    if (st != CONVPOOL_OK)
        gemm_release(op);
    return st;
}

/* The inner Conv's geometry: for one batch item of the op's input (GEMM),
 * or for all of it (direct). */
static convpool_status inner_geom(const gemm_packed *gp, const cp_geom *g, cp_geom *ig)
{
    int64_t shape[2 + CP_MAX_SPATIAL] = {gp->direct ? g->n : 1, g->c};
    const int lead = CP_MAX_SPATIAL - g->spatial_rank;
    for (int i = 0; i < g->spatial_rank; i++)
        shape[2 + i] = g->in[lead + i];
    return cp_geom_resolve(gp->inner, shape, (size_t)g->spatial_rank + 2, ig);
}

static size_t cols_bytes(const cp_geom *g, const gemm_packed *gp)
{
    if (gp->direct)
        return 0;
    size_t bytes = (size_t)(g->m * gp->taps * cp_geom_in_plane(g)) * sizeof(float);
    return (bytes + CP_ALIGNMENT - 1) & ~(size_t)(CP_ALIGNMENT - 1);
}

static size_t gemm_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    const gemm_packed *gp = op->packed;
    cp_geom ig;
    size_t inner = 0;
    if (gp->inner->impl->workspace_size && inner_geom(gp, g, &ig) == CONVPOOL_OK)
        inner = gp->inner->impl->workspace_size(gp->inner, &ig, threads);
    return cols_bytes(g, gp) + inner;
}

/* floor(a / b) and ceil(a / b) for b > 0 and any sign of a */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return -floor_div(-a, b);
}

/* The inputs i in [*lo, *hi) whose tap k lands inside the output [0, out). */
static void input_range(const cp_geom *g, int dim, int64_t k, int64_t *lo, int64_t *hi)
{
    const int64_t off = k * g->dilation[dim] - g->pad_begin[dim];
    int64_t a = ceil_div(-off, g->stride[dim]);
    int64_t b = floor_div(g->out[dim] - 1 - off, g->stride[dim]) + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > g->in[dim] ? g->in[dim] : b;
    if (*hi < *lo)
        *hi = *lo;
}

typedef struct col2im_args {
    const cp_geom *g;
    const gemm_packed *gp;
    const float *cols; /* one batch item: (M*K, in_plane) */
    float *y;          /* one batch item: (M, out_plane) */
} col2im_args;

static void col2im_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const col2im_args *a = arg;
    const cp_geom *g = a->g;
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    const int64_t K0 = g->kernel[0], K1 = g->kernel[1], K2 = g->kernel[2];
    const int64_t s2 = g->stride[2];
    for (int64_t m = begin; m < end; m++) {
        float *yp = a->y + m * out_plane;
        const float b = a->gp->bias[m];
        for (int64_t o = 0; o < out_plane; o++)
            yp[o] = b;
        const float *cm = a->cols + m * a->gp->taps * in_plane;
        for (int64_t kd = 0; kd < K0; kd++) {
            int64_t d_lo, d_hi;
            input_range(g, 0, kd, &d_lo, &d_hi);
            for (int64_t kh = 0; kh < K1; kh++) {
                int64_t h_lo, h_hi;
                input_range(g, 1, kh, &h_lo, &h_hi);
                for (int64_t kw = 0; kw < K2; kw++) {
                    int64_t w_lo, w_hi;
                    input_range(g, 2, kw, &w_lo, &w_hi);
                    const float *ck = cm + ((kd * K1 + kh) * K2 + kw) * in_plane;
                    const int64_t w_off = kw * g->dilation[2] - g->pad_begin[2];
                    for (int64_t id = d_lo; id < d_hi; id++) {
                        const int64_t od =
                            id * g->stride[0] + kd * g->dilation[0] - g->pad_begin[0];
                        for (int64_t ih = h_lo; ih < h_hi; ih++) {
                            const int64_t oh =
                                ih * g->stride[1] + kh * g->dilation[1] - g->pad_begin[1];
                            const float *cr = ck + (id * g->in[1] + ih) * g->in[2];
                            float *yr = yp + (od * g->out[1] + oh) * g->out[2] + w_off;
                            if (s2 == 1) {
                                for (int64_t iw = w_lo; iw < w_hi; iw++)
                                    yr[iw] += cr[iw];
                            } else {
                                for (int64_t iw = w_lo; iw < w_hi; iw++)
                                    yr[iw * s2] += cr[iw];
                            }
                        }
                    }
                }
            }
        }
    }
}

static void gemm_run(const cp_run_args *a)
{
    const cp_geom *g = a->geom;
    const gemm_packed *gp = a->op->packed;
    cp_geom ig;
    if (inner_geom(gp, g, &ig) != CONVPOOL_OK)
        return; /* unreachable: the op's own geometry resolved */
    if (gp->direct) {
        cp_run_args inner = {gp->inner, &ig, a->ctx, a->x, a->y, NULL, a->workspace};
        gp->inner->impl->run(&inner);
        return;
    }
    float *cols = a->workspace;
    void *inner_ws = (char *)a->workspace + cols_bytes(g, gp);
    const int64_t in_item = g->c * cp_geom_in_plane(g), out_item = g->m * cp_geom_out_plane(g);
    const int32_t threads =
        cp_threads_for_work(g->m * gp->taps * cp_geom_in_plane(g), CP_COL2IM_MIN_WORK_PER_THREAD);
    for (int64_t n = 0; n < g->n; n++) {
        cp_run_args inner = {gp->inner, &ig, a->ctx, a->x + n * in_item, cols, NULL, inner_ws};
        gp->inner->impl->run(&inner);
        col2im_args ca = {g, gp, cols, a->y + n * out_item};
        cp_parallel_for(a->ctx, g->m, threads, col2im_task, &ca);
    }
}

const cp_impl cp_impl_conv_transpose_gemm = {
    .name = "conv_transpose.gemm",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_AVX2,
    .prepare = gemm_prepare,
    .release = gemm_release,
    .workspace_size = gemm_workspace_size,
    .run = gemm_run,
};
