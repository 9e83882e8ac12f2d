/*
 * impl_conv_transpose.c - ConvTranspose on the convolution fast paths, in one of
 * three ways chosen at creation (conv_transpose_prepare). Depthwise ops with a
 * stride above 1 are not among them: ops/select.c gives those to
 * kernels/x86/impl_conv_transpose_dw_x86.c.
 *
 * Depth to space. Where kernel = stride and nothing is padded (U-Net's k2
 * s2 up-convolutions), each output o = i*stride + k receives exactly one
 * tap: y[m, o] = b[m] + sum_c W[c, m, k] x[c, i], a 1x1 Conv of x to M*K
 * channels (m, k) whose channel (m, k) belongs at positions k, k + stride,
 * ... of y. The 1x1 Conv's fast path stores each tile it computes straight
 * to those positions (cp_impl.run_depth_to_space), so no phase output
 * round-trips through memory to be interleaved; outputs past in*stride
 * (output_padding, or a backward pass's larger geometry) get the bias.
 *
 * Stride phases (conv_transpose_phases.c): one stride-1 Conv per stride
 * phase on the direct convolution kernels, then an interleave; where the
 * pads are fixed by the attributes and each phase has enough output
 * channels.
 *
 * Otherwise a GEMM, then a scatter-add (conv_transpose_col2im.c): the
 * products of every input with every tap as a 1x1 Conv, then each column
 * added into the output where its tap lands.
 *
 * Determinism: the Convs' results do not depend on the thread count, the
 * interleave only copies, and in col2im each output element receives its
 * contributions in one fixed tap order on one thread, whatever the bands.
 * Steady state allocates nothing: the phases' outputs, cols and the Convs'
 * scratch live in the run's workspace.
 */
#include <string.h>

#include "ops/conv_transpose.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/error.h"

static void conv_transpose_release(convpool_op *op)
{
    cp_conv_transpose_packed *pk = op->packed;
    if (!pk)
        return;
    cp_op_destroy(pk->inner);
    for (int64_t p = 0; p < pk->phases; p++)
        cp_op_destroy(pk->phase[p]);
    cp_free(pk->bias);
    cp_free(pk);
    op->packed = NULL;
}

/* Whether the op takes the depth-to-space way: kernel = stride per dim
 * (dilation 1 where the kernel is above 1), pads 0 for any input size (no
 * pads, or auto_pad VALID, or SAME without output_padding, whose pads then
 * sum to kernel - stride = 0), and more than one tap. */
static int depth_to_space_fits(const cp_attrs *a)
{
    if (a->has_output_shape || a->pads_per_run)
        return 0;
    int64_t taps = 1;
    for (int i = 0; i < a->rank; i++) {
        const int64_t k = a->kernel_shape[i];
        if (k != a->strides[i] || (k > 1 && a->dilations[i] != 1))
            return 0;
        if (a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET && (a->pads[i] || a->pads[a->rank + i]))
            return 0;
        if ((a->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ||
             a->auto_pad == CONVPOOL_AUTO_PAD_SAME_LOWER) &&
            a->output_padding[i])
            return 0;
        taps *= k;
    }
    return taps > 1;
}

/* The GEMM and depth-to-space ways: inner = 1x1 Conv with Wt (group *
 * M/group * K, C/group) and row_bias (NULL, or M*K values); wt has room
 * for Wt. */
static convpool_status gemm_inner_prepare(convpool_op *op, cp_conv_transpose_packed *pk,
                                          const float *weight, const float *row_bias, float *wt)
{
    const cp_attrs *a = &op->attrs;
    const int64_t group = a->group, cpg = op->c_per_group, mpg = op->m / group, taps = pk->taps;
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
    return cp_op_create(&d, ws, (size_t)a->rank + 2, wt, row_bias, op->isa, &pk->inner);
}

/* The depth-to-space way, if the inner Conv's impl stores depth to space;
 * else nothing is kept and *taken is 0. wt as for gemm_inner_prepare,
 * row_bias room for M*K values. */
static convpool_status depth_to_space_prepare(convpool_op *op, cp_conv_transpose_packed *pk,
                                              const float *weight, float *wt, float *row_bias,
                                              int *taken)
{
    *taken = 0;
    for (int64_t r = 0; r < op->m * pk->taps; r++)
        row_bias[r] = pk->bias[r / pk->taps];
    convpool_status st = gemm_inner_prepare(op, pk, weight, row_bias, wt);
    if (st != CONVPOOL_OK)
        return st;
    if (!pk->inner->impl->run_depth_to_space) {
        cp_op_destroy(pk->inner);
        pk->inner = NULL;
        return CONVPOOL_OK;
    }
    const cp_attrs *a = &op->attrs;
    const int lead = CP_MAX_SPATIAL - a->rank;
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        pk->block[i] = i < lead ? 1 : a->strides[i - lead];
    pk->depth_to_space = *taken = 1;
    return CONVPOOL_OK;
}

static convpool_status conv_transpose_prepare(convpool_op *op, const float *weight,
                                              const float *bias)
{
    const cp_attrs *a = &op->attrs;
    const int64_t cpg = op->c_per_group;
    int64_t taps = 1;
    for (int i = 0; i < a->rank; i++)
        taps *= a->kernel_shape[i];    /* W's element count is checked */
    const int64_t rows = op->m * taps; /* (group, M/group, K) */
    cp_conv_transpose_packed *pk = cp_calloc(1, sizeof *pk);
    float *wt = cp_alloc((size_t)(rows * cpg) * sizeof(float));
    float *row_bias = cp_alloc((size_t)rows * sizeof(float));
    if (pk)
        pk->bias = cp_calloc((size_t)op->m, sizeof(float));
    if (!pk || !wt || !row_bias || !pk->bias) {
        cp_free(wt);
        cp_free(row_bias);
        if (pk)
            cp_free(pk->bias);
        cp_free(pk);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %lld weights",
                       (long long)(rows * cpg));
    }
    pk->taps = taps;
    if (bias)
        memcpy(pk->bias, bias, (size_t)op->m * sizeof(float));
    op->packed = pk;
    int taken = 0;
    convpool_status st = depth_to_space_fits(&op->attrs)
                             ? depth_to_space_prepare(op, pk, weight, wt, row_bias, &taken)
                             : CONVPOOL_OK;
    if (st == CONVPOOL_OK && !taken)
        st = cp_phases_fit(op) ? cp_phases_prepare(op, pk, weight, bias, wt)
                               : gemm_inner_prepare(op, pk, weight, NULL, wt);
    /* unreachable: the inner Conv gets an x86 impl, which has them all */
    if (st == CONVPOOL_OK && pk->inner && !pk->depth_to_space &&
        (!pk->inner->impl->run_pixels || !pk->inner->impl->pixels_workspace_size ||
         !pk->inner->impl->zip_phase_sums))
        st = cp_fail(CONVPOOL_ERROR_INTERNAL,
                     "the GEMM way's Conv lacks run_pixels, pixels_workspace_size or "
                     "zip_phase_sums");
    cp_free(wt);
    cp_free(row_bias);
    if (st != CONVPOOL_OK)
        conv_transpose_release(op);
    return st;
}

convpool_status cp_conv_transpose_inner_geom(const convpool_op *conv, const cp_geom *g, int64_t n,
                                             cp_geom *cg)
{
    int64_t shape[2 + CP_MAX_SPATIAL] = {n, g->c};
    const int lead = CP_MAX_SPATIAL - g->spatial_rank;
    for (int i = 0; i < g->spatial_rank; i++)
        shape[2 + i] = g->in[lead + i];
    return cp_geom_resolve(conv, shape, (size_t)g->spatial_rank + 2, cg);
}

/* Sets y's outputs at or past `covered` in some dim (those no tap reaches)
 * to the bias of their channel. */
static void fill_margin(const cp_geom *g, const int64_t *covered, const float *bias, float *y)
{
    const int64_t o0 = g->out[0], o1 = g->out[1], o2 = g->out[2];
    if (o0 <= covered[0] && o1 <= covered[1] && o2 <= covered[2])
        return;
    for (int64_t plane = 0; plane < g->n * g->m; plane++) {
        const float b = bias[plane % g->m];
        float *yp = y + plane * o0 * o1 * o2;
        for (int64_t od = 0; od < o0; od++)
            for (int64_t oh = 0; oh < o1; oh++) {
                float *yr = yp + (od * o1 + oh) * o2;
                const int64_t from = od >= covered[0] || oh >= covered[1] ? 0 : covered[2];
                for (int64_t ow = from; ow < o2; ow++)
                    yr[ow] = b;
            }
    }
}

/* The depth-to-space way: the 1x1 Conv storing each tile at its outputs,
 * then the bias where no tap reaches. */
static void depth_to_space_run(const cp_run_args *a, const cp_conv_transpose_packed *pk)
{
    const cp_geom *g = a->geom;
    cp_geom ig;
    if (cp_conv_transpose_inner_geom(pk->inner, g, g->n, &ig) != CONVPOOL_OK)
        return; /* unreachable: the op's own geometry resolved */
    const cp_run_args inner = {pk->inner, &ig, a->ctx, a->x, a->y, NULL, a->workspace};
    pk->inner->impl->run_depth_to_space(&inner, pk->block, g->out);
    int64_t covered[CP_MAX_SPATIAL];
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        covered[i] = g->in[i] * pk->block[i];
    fill_margin(g, covered, pk->bias, a->y);
}

static size_t conv_transpose_workspace_size(const convpool_op *op, const cp_geom *g,
                                            int32_t threads)
{
    const cp_conv_transpose_packed *pk = op->packed;
    if (pk->depth_to_space) {
        cp_geom ig;
        if (!pk->inner->impl->workspace_size ||
            cp_conv_transpose_inner_geom(pk->inner, g, g->n, &ig) != CONVPOOL_OK)
            return 0;
        return pk->inner->impl->workspace_size(pk->inner, &ig, threads);
    }
    return pk->inner ? cp_col2im_workspace_size(pk, g, threads)
                     : cp_phases_workspace_size(pk, g, threads);
}

static void conv_transpose_run(const cp_run_args *a)
{
    const cp_conv_transpose_packed *pk = a->op->packed;
    if (pk->depth_to_space)
        depth_to_space_run(a, pk);
    else if (pk->inner)
        cp_col2im_run(a, pk);
    else
        cp_phases_run(a, pk);
}

const char *cp_conv_transpose_way(const convpool_op *op)
{
    if (op->impl != &cp_impl_conv_transpose_on_conv)
        return op->impl->name;
    const cp_conv_transpose_packed *pk = op->packed;
    return pk->depth_to_space ? "depth_to_space" : pk->inner ? "gemm" : "phases";
}

const cp_impl cp_impl_conv_transpose_on_conv = {
    .name = "conv_transpose.on_conv",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_AVX2,
    .prepare = conv_transpose_prepare,
    .release = conv_transpose_release,
    .workspace_size = conv_transpose_workspace_size,
    .run = conv_transpose_run,
};
