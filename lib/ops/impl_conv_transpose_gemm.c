/*
 * ConvTranspose on the convolution fast paths, in one of three ways chosen
 * at creation (gemm_prepare). Depthwise ops with a stride above 1 are not
 * among them: ops/select.c gives those to kernels/x86/impl_conv_transpose_dw_x86.c.
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
 * Stride phases. Output o receives x[i] * W[k] where o = i*stride +
 * k*dilation - pad_begin. Split the outputs by their phase r = (o +
 * pad_begin) mod stride (per dim; dilation 1 where the stride is above 1):
 * phase r receives only the taps k = r, r + stride, ..., and with o =
 * q*stride + r - pad_begin reads x[q - t] for its t-th tap. That is a
 * stride-1 Conv of x with those taps flipped and transposed to (M, C/group,
 * taps...), whose pads follow from the attributes (phase_dim_of). Each phase
 * runs as such a Conv on the direct convolution kernels, bias included, into
 * the workspace; one pass then interleaves the phases into y. Stride 1 is a
 * single phase: the whole op is one Conv writing y, with pads
 * dilation*(k-1) - pad_begin before and dilation*(k-1) - pad_end +
 * output_padding after. The FLOPs are those of the op, and no column buffer
 * or scatter-add is needed. This needs pads fixed by the attributes
 * (NOTSET without output_shape, or VALID), and pays only with enough output
 * channels per phase.
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
 * memory pass over K * input-size floats per output channel. Where a 2-D
 * plane's columns outgrow a share of L2, the two steps alternate band by
 * band of input rows (col_plan, below), so the scatter reads the columns
 * from L2.
 *
 * Determinism: the Convs' results do not depend on the thread count, the
 * interleave only copies, and in col2im each output element receives its
 * contributions in one fixed tap order on one thread, whatever the bands.
 * Steady state allocates nothing: the phases' outputs, cols and the Convs'
 * scratch live in the run's workspace.
 */
#include <stdatomic.h>
#include <string.h>

#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Below this many scatter-adds a plane loop stays on one thread. */
#define CP_COL2IM_MIN_WORK_PER_THREAD 32768
/* col2im tasks per thread when output channels are fewer */
#define CP_COL2IM_TASKS_PER_THREAD 4
/* At most this many stride phases (the product of the strides) take the
 * phase way; more small Convs would each be too small to run well. */
#define CP_MAX_PHASES 16

typedef struct gemm_packed {
    /* GEMM and depth-to-space ways: the 1x1 Conv (N, C, in...) -> (N, M*K,
     * in...), without bias (GEMM way) or with bias[m] on rows (m, k...) */
    convpool_op *inner;
    int depth_to_space;            /* inner runs depth to space, stride = kernel */
    int64_t block[CP_MAX_SPATIAL]; /* that way: the strides, 3-D as in cp_geom */
    float *bias;                   /* M values, zeros if the op has none */
    int64_t taps;                  /* K = prod(kernel) */
    /* Phase way (inner NULL): one Conv per stride phase, and each phase's
     * residue (o + pad_begin) mod stride per dim, 3-D as in cp_geom. */
    int64_t phases;
    convpool_op *phase[CP_MAX_PHASES];
    int64_t residue[CP_MAX_PHASES][CP_MAX_SPATIAL];
} gemm_packed;

static void gemm_release(convpool_op *op)
{
    gemm_packed *gp = op->packed;
    if (!gp)
        return;
    cp_op_destroy(gp->inner);
    for (int64_t p = 0; p < gp->phases; p++)
        cp_op_destroy(gp->phase[p]);
    cp_free(gp->bias);
    cp_free(gp);
    op->packed = NULL;
}

/* One spatial dim of one stride phase: the outputs o with (o + pad_begin)
 * mod stride = r are o = q*stride + r - pad_begin for q >= q0, and receive
 * the taps k = r, r + stride, ... below the kernel size: a stride-1 Conv of
 * x with those taps flipped, whose output j is q = q0 + j. */
typedef struct phase_dim {
    int64_t taps, q0, pad_begin, pad_end; /* pads of that Conv */
} phase_dim;

/* Only for pads fixed by the attributes (see phases_fit). */
static phase_dim phase_dim_of(const cp_attrs *a, int i, int64_t r)
{
    const int64_t k = a->kernel_shape[i], s = a->strides[i], d = a->dilations[i];
    const int notset = a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET;
    const int64_t pb = notset ? a->pads[i] : 0, pe = notset ? a->pads[a->rank + i] : 0;
    phase_dim pd;
    pd.taps = (k - r + s - 1) / s;
    pd.q0 = cp_ceil_div(pb - r, s);
    pd.pad_begin = d * (pd.taps - 1) - pd.q0;
    pd.pad_end = cp_floor_div(d * (k - 1) - r + a->output_padding[i] - pe, s);
    return pd;
}

/* Below this many output channels per group a phase's Conv runs its
 * kernels mostly empty (they block M), and the one GEMM with M * K rows is
 * faster: a DCGAN output layer (64 -> 3, k4 s2) runs 6x slower in 4 phases. */
#define CP_PHASE_MIN_M_PER_GROUP 16

/* Whether the op splits into stride phases: pads fixed by the attributes
 * (not those of a backward pass's inner op, which come with each run),
 * per dim stride 1 or dilation 1 (then the taps of a phase are evenly
 * spaced), every phase with a tap and its Conv's pads >= 0 (a phase may
 * have no output for a small input: phase_layout leaves it out). Stride 1
 * everywhere is one phase, a Conv writing y itself. More phases need enough
 * output channels to be worth it (a depthwise op with a stride above 1 does
 * not come here: kernels/x86/impl_conv_transpose_dw_x86.c runs it in one
 * pass). Even where every phase
 * is a 1x1 Conv (kernel = stride with pads, which depth to space does not
 * take) they beat the one GEMM: each phase's weights are a 1/phases slice
 * (the GEMM's M*K x C/group weights can outgrow L2 and stream from L3 for
 * every pixel tile), and the interleave only copies where col2im fills with
 * bias and adds. */
static int phases_fit(const convpool_op *op)
{
    const cp_attrs *a = &op->attrs;
    if (a->has_output_shape || a->pads_per_run ||
        (a->auto_pad != CONVPOOL_AUTO_PAD_NOTSET && a->auto_pad != CONVPOOL_AUTO_PAD_VALID))
        return 0;
    int64_t phases = 1;
    for (int i = 0; i < a->rank; i++) {
        const int64_t s = a->strides[i], d = a->dilations[i];
        if ((s != 1 && d != 1) || a->kernel_shape[i] < s)
            return 0;
        phases *= s;
        if (phases > CP_MAX_PHASES)
            return 0;
        for (int64_t r = 0; r < s; r++) {
            phase_dim pd = phase_dim_of(a, i, r);
            if (pd.pad_begin < 0 || pd.pad_end < 0)
                return 0;
        }
    }
    return phases == 1 || op->m / a->group >= CP_PHASE_MIN_M_PER_GROUP;
}

/* The phase way: one Conv per phase with the weights of its taps, flipped
 * and transposed to (M, C/group, taps...); wf has room for all weights. */
static convpool_status phases_prepare(convpool_op *op, gemm_packed *gp, const float *weight,
                                      const float *bias, float *wf)
{
    const cp_attrs *a = &op->attrs;
    const int rank = a->rank, lead = CP_MAX_SPATIAL - rank;
    const int64_t group = a->group, cpg = op->c_per_group, mpg = op->m / group;
    gp->phases = 1;
    for (int i = 0; i < rank; i++)
        gp->phases *= a->strides[i];
    for (int64_t p = 0; p < gp->phases; p++) {
        phase_dim pd[CP_MAX_SPATIAL];
        int64_t r[CP_MAX_SPATIAL] = {0, 0, 0}, ptaps = 1, rest = p;
        for (int i = rank - 1; i >= 0; i--) {
            r[i] = rest % a->strides[i];
            rest /= a->strides[i];
            pd[i] = phase_dim_of(a, i, r[i]);
            ptaps *= pd[i].taps;
            gp->residue[p][lead + i] = r[i];
        }
        /* W (group, C/group, M/group, K) -> W' (group, M/group, C/group,
         * phase taps), tap t of a dim reading kernel index r + (taps-1-t)*s */
        for (int64_t t = 0; t < ptaps; t++) {
            int64_t k = 0, tr = t, kstride = 1;
            for (int i = rank - 1; i >= 0; i--) {
                const int64_t ti = tr % pd[i].taps;
                tr /= pd[i].taps;
                k += (r[i] + (pd[i].taps - 1 - ti) * a->strides[i]) * kstride;
                kstride *= a->kernel_shape[i];
            }
            for (int64_t gi = 0; gi < group; gi++)
                for (int64_t c = 0; c < cpg; c++)
                    for (int64_t m = 0; m < mpg; m++)
                        wf[((gi * mpg + m) * cpg + c) * ptaps + t] =
                            weight[((gi * cpg + c) * mpg + m) * gp->taps + k];
        }
        convpool_desc d;
        cp_attrs_init(&d.attrs, CONVPOOL_OP_CONV, rank);
        d.attrs.group = group;
        d.attrs.has_pads = 1;
        int64_t ws[2 + CP_MAX_SPATIAL] = {op->m, cpg};
        for (int i = 0; i < rank; i++) {
            d.attrs.dilations[i] = a->dilations[i];
            d.attrs.pads[i] = pd[i].pad_begin;
            /* Each run sets the end padding its output needs
             * (phase_fill_output); the op's own gives at least one output
             * for any input, and is at least 1 for a one-tap phase along a
             * strided dim: there a run may need end padding (a dx pass's
             * output has the rows no window of the strided Conv reached),
             * which the 1x1 algorithms (no padding at all) cannot give.
             * Along a stride-1 dim every output has its tap, so a 1x1
             * stride-1 op (the dx of a pointwise Conv) keeps the GEMM. */
            const int64_t least = ptaps == 1 && a->strides[i] > 1
                                      ? 1
                                      : a->dilations[i] * (pd[i].taps - 1) - pd[i].pad_begin;
            d.attrs.pads[rank + i] = pd[i].pad_end > least ? pd[i].pad_end : least;
            ws[2 + i] = pd[i].taps;
        }
        convpool_status st =
            cp_op_create(&d, ws, (size_t)rank + 2, wf, bias, op->isa, &gp->phase[p]);
        if (st != CONVPOOL_OK)
            return st;
    }
    return CONVPOOL_OK;
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
static convpool_status gemm_inner_prepare(convpool_op *op, gemm_packed *gp, const float *weight,
                                          const float *row_bias, float *wt)
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
    return cp_op_create(&d, ws, (size_t)a->rank + 2, wt, row_bias, op->isa, &gp->inner);
}

/* The depth-to-space way, if the inner Conv's impl stores depth to space;
 * else nothing is kept and *taken is 0. wt as for gemm_inner_prepare,
 * row_bias room for M*K values. */
static convpool_status depth_to_space_prepare(convpool_op *op, gemm_packed *gp, const float *weight,
                                              float *wt, float *row_bias, int *taken)
{
    *taken = 0;
    for (int64_t r = 0; r < op->m * gp->taps; r++)
        row_bias[r] = gp->bias[r / gp->taps];
    convpool_status st = gemm_inner_prepare(op, gp, weight, row_bias, wt);
    if (st != CONVPOOL_OK)
        return st;
    if (!gp->inner->impl->run_depth_to_space) {
        cp_op_destroy(gp->inner);
        gp->inner = NULL;
        return CONVPOOL_OK;
    }
    const cp_attrs *a = &op->attrs;
    const int lead = CP_MAX_SPATIAL - a->rank;
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        gp->block[i] = i < lead ? 1 : a->strides[i - lead];
    gp->depth_to_space = *taken = 1;
    return CONVPOOL_OK;
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
    float *row_bias = cp_alloc((size_t)rows * sizeof(float));
    if (gp)
        gp->bias = cp_calloc((size_t)op->m, sizeof(float));
    if (!gp || !wt || !row_bias || !gp->bias) {
        cp_free(wt);
        cp_free(row_bias);
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
    int taken = 0;
    convpool_status st = depth_to_space_fits(&op->attrs)
                             ? depth_to_space_prepare(op, gp, weight, wt, row_bias, &taken)
                             : CONVPOOL_OK;
    if (st == CONVPOOL_OK && !taken)
        st = phases_fit(op) ? phases_prepare(op, gp, weight, bias, wt)
                            : gemm_inner_prepare(op, gp, weight, NULL, wt);
    /* unreachable: the inner Conv gets an x86 impl, which has both */
    if (st == CONVPOOL_OK && gp->inner && !gp->depth_to_space &&
        (!gp->inner->impl->run_pixels || !gp->inner->impl->zip_phase_sums))
        st = cp_fail(CONVPOOL_ERROR_INTERNAL,
                     "the GEMM way's Conv lacks run_pixels or zip_phase_sums");
    cp_free(wt);
    cp_free(row_bias);
    if (st != CONVPOOL_OK)
        gemm_release(op);
    return st;
}

/* The geometry of an inner Conv on n items of the op's input. */
static convpool_status conv_geom(const convpool_op *conv, const cp_geom *g, int64_t n, cp_geom *cg)
{
    int64_t shape[2 + CP_MAX_SPATIAL] = {n, g->c};
    const int lead = CP_MAX_SPATIAL - g->spatial_rank;
    for (int i = 0; i < g->spatial_rank; i++)
        shape[2 + i] = g->in[lead + i];
    return cp_geom_resolve(conv, shape, (size_t)g->spatial_rank + 2, cg);
}

/* The GEMM's geometry: one batch item at a time. */
static convpool_status inner_geom(const gemm_packed *gp, const cp_geom *g, cp_geom *ig)
{
    return conv_geom(gp->inner, g, 1, ig);
}

/* Phase p's first output along dim i of y. */
static int64_t phase_first_output(const gemm_packed *gp, int64_t p, const cp_geom *g, int i)
{
    const int64_t r = gp->residue[p][i], st = g->stride[i];
    return cp_ceil_div(g->pad_begin[i] - r, st) * st + r - g->pad_begin[i];
}

/* Whether phase p has an output in y (a small y can leave a phase none). */
static int phase_has_output(const gemm_packed *gp, int64_t p, const cp_geom *g)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        if (phase_first_output(gp, p, g, i) >= g->out[i])
            return 0;
    return 1;
}

/* A run's output can extend past what the attributes give (the dx pass of
 * a Conv whose last input rows no window reached: cp_backward_data_geom),
 * so phase p's Conv covers every output of its phase below g->out: its out
 * size from g, its end padding (the rows no tap reaches: zeros, or the bias)
 * to match. 0 if that leaves the phase no output or needs negative padding
 * (unreachable: phase_layout asks only phases with an output, and the
 * Convs' own end padding gives each at least one). */
static int phase_fill_output(const gemm_packed *gp, int64_t p, const cp_geom *g, cp_geom *q)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        const int64_t st = g->stride[i], o0 = phase_first_output(gp, p, g, i);
        if (o0 >= g->out[i])
            return 0;
        const int64_t count = (g->out[i] - 1 - o0) / st + 1;
        const int64_t eff = (q->kernel[i] - 1) * q->dilation[i] + 1;
        const int64_t pad_end = count - 1 + eff - q->in[i] - q->pad_begin[i];
        if (pad_end < 0)
            return 0;
        q->out[i] = count;
        q->pad_end[i] = pad_end;
    }
    return 1;
}

/* The phase way's workspace: phase p's output (N, M, its out...) at
 * off[p], then the Convs' scratch; *outs gets the bytes of those outputs: 0
 * with one phase, whose Conv writes y itself. pg gets each phase's
 * geometry, all zeros for a phase without output in this run (skipped).
 * 0 if one does not resolve (unreachable, see phase_fill_output). */
static int phase_layout(const gemm_packed *gp, const cp_geom *g, cp_geom *pg, size_t *off,
                        size_t *outs)
{
    *outs = 0;
    for (int64_t p = 0; p < gp->phases; p++) {
        off[p] = *outs;
        if (!phase_has_output(gp, p, g)) {
            memset(&pg[p], 0, sizeof pg[p]);
            continue;
        }
        if (conv_geom(gp->phase[p], g, g->n, &pg[p]) != CONVPOOL_OK ||
            !phase_fill_output(gp, p, g, &pg[p]))
            return 0;
        if (gp->phases > 1)
            *outs += cp_align_up((size_t)(g->n * g->m * cp_geom_out_plane(&pg[p])) * sizeof(float));
    }
    return 1;
}

typedef struct interleave_args {
    const cp_geom *g, *pg; /* the op's and each phase's geometry */
    const gemm_packed *gp;
    const char *outs; /* the phases' outputs */
    const size_t *off;
    float *y;
} interleave_args;

/* With stride 2 along W, the phase that shares p's D and H residues and
 * has the other W residue, if both have outputs; -1 otherwise. */
static int64_t w_partner(const gemm_packed *gp, const cp_geom *g, const cp_geom *pg, int64_t p)
{
    if (g->stride[2] != 2)
        return -1;
    for (int64_t q = 0; q < gp->phases; q++)
        if (q != p && gp->residue[q][0] == gp->residue[p][0] &&
            gp->residue[q][1] == gp->residue[p][1])
            return cp_geom_out_plane(&pg[p]) && cp_geom_out_plane(&pg[q]) ? q : -1;
    return -1;
}

/* Copies each phase's output planes into y's at their positions
 * q*stride + residue - pad_begin; with stride 2 along W, the two phases of
 * an output row together (cp_zip_row). */
static void interleave_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const interleave_args *a = arg;
    const cp_geom *g = a->g;
    const int64_t out_plane = cp_geom_out_plane(g), s2 = g->stride[2];
    for (int64_t plane = begin; plane < end; plane++) {
        float *yp = a->y + plane * out_plane;
        for (int64_t p = 0; p < a->gp->phases; p++) {
            const cp_geom *q = &a->pg[p];
            if (!cp_geom_out_plane(q))
                continue; /* no output in this run */
            const float *src = (const float *)(a->outs + a->off[p]) + plane * cp_geom_out_plane(q);
            int64_t o0[CP_MAX_SPATIAL]; /* the phase's first output per dim */
            for (int i = 0; i < CP_MAX_SPATIAL; i++)
                o0[i] = phase_first_output(a->gp, p, g, i);
            const int64_t partner = w_partner(a->gp, g, a->pg, p);
            if (partner >= 0 && o0[2] != 0)
                continue; /* the odd W phase: copied with its even partner */
            const cp_geom *qo = partner >= 0 ? &a->pg[partner] : NULL;
            const float *odd =
                qo ? (const float *)(a->outs + a->off[partner]) + plane * cp_geom_out_plane(qo)
                   : NULL;
            for (int64_t jd = 0; jd < q->out[0]; jd++) {
                const int64_t od = o0[0] + jd * g->stride[0];
                for (int64_t jh = 0; jh < q->out[1]; jh++) {
                    const int64_t oh = o0[1] + jh * g->stride[1];
                    const float *sr = src + (jd * q->out[1] + jh) * q->out[2];
                    float *dr = yp + (od * g->out[1] + oh) * g->out[2] + o0[2];
                    if (qo) {
                        cp_zip_row(dr, sr, odd + (jd * qo->out[1] + jh) * qo->out[2], q->out[2],
                                   qo->out[2]);
                        continue;
                    }
                    for (int64_t jw = 0; jw < q->out[2]; jw++)
                        dr[jw * s2] = sr[jw];
                }
            }
        }
    }
}

/* The phase way: each phase's Conv (bias included), then the interleave. */
static void phases_run(const cp_run_args *a, const gemm_packed *gp)
{
    const cp_geom *g = a->geom;
    cp_geom pg[CP_MAX_PHASES];
    size_t off[CP_MAX_PHASES], outs;
    if (!phase_layout(gp, g, pg, off, &outs))
        return;
    char *base = a->workspace;
    for (int64_t p = 0; p < gp->phases; p++) {
        if (!cp_geom_out_plane(&pg[p]))
            continue;
        float *py = gp->phases == 1 ? a->y : (float *)(base + off[p]);
        cp_run_args run = {gp->phase[p], &pg[p], a->ctx, a->x, py, NULL, base + outs};
        gp->phase[p]->impl->run(&run);
    }
    if (gp->phases == 1)
        return;
    const int64_t planes = g->n * g->m;
    interleave_args ia = {g, pg, gp, base, off, a->y};
    cp_parallel_for(
        a->ctx, planes,
        cp_threads_for_work(planes * cp_geom_out_plane(g), CP_COL2IM_MIN_WORK_PER_THREAD),
        interleave_task, &ia);
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
static void depth_to_space_run(const cp_run_args *a, const gemm_packed *gp)
{
    const cp_geom *g = a->geom;
    cp_geom ig;
    if (conv_geom(gp->inner, g, g->n, &ig) != CONVPOOL_OK)
        return; /* unreachable: the op's own geometry resolved */
    const cp_run_args inner = {gp->inner, &ig, a->ctx, a->x, a->y, NULL, a->workspace};
    gp->inner->impl->run_depth_to_space(&inner, gp->block, g->out);
    int64_t covered[CP_MAX_SPATIAL];
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        covered[i] = g->in[i] * gp->block[i];
    fill_margin(g, covered, gp->bias, a->y);
}

/* The inputs i in [*lo, *hi) whose tap k lands inside the output [0, out). */
static void input_range(const cp_geom *g, int dim, int64_t k, int64_t *lo, int64_t *hi)
{
    const int64_t off = k * g->dilation[dim] - g->pad_begin[dim];
    int64_t a = cp_ceil_div(-off, g->stride[dim]);
    int64_t b = cp_floor_div(g->out[dim] - 1 - off, g->stride[dim]) + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > g->in[dim] ? g->in[dim] : b;
    if (*hi < *lo)
        *hi = *lo;
}

/* The taps k of one dimension that reach output o: those for which
 * o + pad_begin - k * dilation is a multiple of the stride, the input it
 * reads, i = (o + pad_begin - k * dilation) / stride, inside [0, in). The
 * walk keeps i as a quotient and remainder while k rises, so that an
 * output row's taps cost one division, not several per tap (the stem's dx
 * spent about 1% of its time dividing here). */
typedef struct tap_walk {
    int64_t k, kernel, q, r, stride, step_q, step_r, in;
} tap_walk;

static void tap_walk_start(tap_walk *w, const cp_geom *g, int dim, int64_t o)
{
    const int64_t t = o + g->pad_begin[dim];
    w->k = 0;
    w->kernel = g->kernel[dim];
    w->stride = g->stride[dim];
    w->in = g->in[dim];
    w->q = t < 0 ? -1 : t / w->stride; /* t < 0: no tap reaches o */
    w->r = t < 0 ? 0 : t - w->q * w->stride;
    w->step_q = g->dilation[dim] / w->stride;
    w->step_r = g->dilation[dim] - w->step_q * w->stride;
}

/* The next tap that reaches the output, its k and input i; 0 when none is
 * left (the inputs only fall as k rises, so a negative one ends the walk). */
static int tap_walk_next(tap_walk *w, int64_t *k, int64_t *i)
{
    while (w->k < w->kernel && w->q >= 0) {
        const int hit = w->r == 0 && w->q < w->in;
        *k = w->k++;
        *i = w->q;
        w->q -= w->step_q;
        w->r -= w->step_r;
        if (w->r < 0) {
            w->r += w->stride;
            w->q--;
        }
        if (hit)
            return 1;
    }
    return 0;
}

typedef struct col2im_args {
    const cp_geom *g;
    const gemm_packed *gp;
    /* one batch item's columns: (M*K, ring input rows), input row i in
     * slot i % ring of cols, or of cols_hi from row `split` on (a seam
     * between two segments' rings; else cols_hi = cols) */
    const float *cols, *cols_hi;
    int64_t split;
    int64_t col_plane;  /* floats per row (m, k) of cols: ring * in[2] */
    int64_t ring;       /* input rows cols holds */
    float *y;           /* one batch item: (M, out_plane) */
    int64_t y_lo, y_hi; /* the output rows (dim 1) this scatter finishes */
    int64_t bands;      /* tasks per output channel: bands of those rows */
} col2im_args;

/* Input row `row`'s columns in row (m, k) = 0 of cols; row (m, k) lies
 * (m * taps + k) col_planes on. */
static const float *col_row(const col2im_args *a, int64_t row)
{
    return (row >= a->split ? a->cols_hi : a->cols) + row % a->ring * a->g->in[2];
}

/* Tap kw along W with stride 2 and dilation 1 (the zipped scatter): it
 * reaches inputs [w_lo, w_hi), and input iw lands on output column 2 iw +
 * kw - pad_begin = 2 j + phase, at zipped position j = iw + shift. */
typedef struct tap_run {
    int64_t w_lo, w_hi, shift;
    int phase;
} tap_run;

static tap_run tap_run_of(const cp_geom *g, int64_t kw)
{
    tap_run t;
    input_range(g, 2, kw, &t.w_lo, &t.w_hi);
    t.shift = cp_floor_div(kw - g->pad_begin[2], 2);
    t.phase = (int)(kw - g->pad_begin[2] - 2 * t.shift);
    return t;
}

/* Rows (kd, kh) of taps that reach one output row, handed to the zip
 * kernel at once; more are added in further calls, in order. */
#define CP_COL2IM_ZIP_ROWS 16
/* Kernels up to this wide along W take the zipped scatter (stride 2): a
 * task works out their taps' runs once, not once per output row. */
#define CP_COL2IM_ZIP_KW 16
/* Sources of one phase in a call: every tap of that many rows. */
#define CP_COL2IM_ZIP_SOURCES (CP_COL2IM_ZIP_ROWS * CP_COL2IM_ZIP_KW)

/* The sources of the two phases of one output row, gathered for a call of
 * the zip kernel. */
typedef struct zip_call {
    const float *src[2][CP_COL2IM_ZIP_SOURCES];
    int64_t shift[2][CP_COL2IM_ZIP_SOURCES], lo[2][CP_COL2IM_ZIP_SOURCES],
        hi[2][CP_COL2IM_ZIP_SOURCES];
    int64_t count[2];
} zip_call;

/* The row's sources so far into yr: onto the bias if `first`, else added
 * to what earlier calls wrote. */
static void zip_flush(const col2im_args *a, zip_call *z, float bias, int first, float *yr)
{
    cp_zip_phase ph[2];
    for (int p = 0; p < 2; p++)
        ph[p] = (cp_zip_phase){z->src[p], z->shift[p], z->lo[p], z->hi[p], z->count[p]};
    a->gp->inner->impl->zip_phase_sums(a->gp->inner, &ph[0], &ph[1], a->g->out[2], bias, !first,
                                       yr);
    z->count[0] = z->count[1] = 0;
}

/* Output row yr, (od, oh), of channel m (its bias `bias`)
 * with stride 2 and dilation 1 along W: every tap that reaches the row,
 * by rows (kd, kh) in order and along W in order within a row, added to
 * its phase's sum by the zip kernel, which writes the whole row (more
 * than CP_COL2IM_ZIP_ROWS rows of taps: group by group, the first onto
 * the bias, the others onto the row). runs[kw]: tap_run_of(g, kw). */
static void zip_output_row(const col2im_args *a, const tap_run *runs, int64_t m, float bias,
                           int64_t od, int64_t oh, float *yr)
{
    const cp_geom *g = a->g;
    const int64_t K1 = g->kernel[1], K2 = g->kernel[2];
    zip_call z;
    z.count[0] = z.count[1] = 0;
    int64_t rows = 0, kd, id, kh, ih;
    int first = 1;
    tap_walk wd, wh;
    tap_walk_start(&wd, g, 0, od);
    while (tap_walk_next(&wd, &kd, &id)) {
        tap_walk_start(&wh, g, 1, oh);
        while (tap_walk_next(&wh, &kh, &ih)) {
            if (rows == CP_COL2IM_ZIP_ROWS) {
                zip_flush(a, &z, bias, first, yr);
                first = 0;
                rows = 0;
            }
            rows++;
            /* tap (kd, kh, 0)'s columns at the input row this row of taps reads */
            const float *c = col_row(a, id * g->in[1] + ih) +
                             (m * a->gp->taps + (kd * K1 + kh) * K2) * a->col_plane;
            for (int64_t kw = 0; kw < K2; kw++) {
                const tap_run *t = &runs[kw];
                if (t->w_hi <= t->w_lo)
                    continue;
                const int p = t->phase;
                const int64_t at = z.count[p]++;
                z.src[p][at] = c + kw * a->col_plane;
                z.shift[p][at] = t->shift;
                z.lo[p][at] = t->w_lo + t->shift;
                z.hi[p][at] = t->w_hi + t->shift;
            }
        }
    }
    if (first || z.count[0] || z.count[1]) /* a row no tap reaches still gets its bias */
        zip_flush(a, &z, bias, first, yr);
}

/* Adds `rows` rows of tap kw's columns (c) into y's rows from yr0, y_step
 * apart; W stride other than 2 (or dilated). */
static void add_tap_rows(const cp_geom *g, int64_t kw, const float *c, int64_t rows, float *yr0,
                         int64_t y_step)
{
    const int64_t in2 = g->in[2], s2 = g->stride[2];
    int64_t w_lo, w_hi;
    input_range(g, 2, kw, &w_lo, &w_hi);
    for (int64_t r = 0; r < rows; r++) {
        const float *cr = c + r * in2;
        float *yr = yr0 + r * y_step;
        if (s2 == 1)
            for (int64_t iw = w_lo; iw < w_hi; iw++)
                yr[iw] += cr[iw];
        else
            for (int64_t iw = w_lo; iw < w_hi; iw++)
                yr[iw * s2] += cr[iw];
    }
}

/* Task t: band t % bands of rows y_lo .. y_hi - 1 (dim 1) of output
 * channel t / bands: the bias, then every tap that reaches them. Each
 * output element gets its taps in a fixed order on one thread: with
 * stride 2 and dilation 1 along W and at most CP_COL2IM_ZIP_KW taps, the
 * bias plus the sum of its taps in (kd, kh, kw) order (see
 * zip_output_row), else the bias, then each tap in (kd, kh, kw) order. */
static void col2im_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const col2im_args *a = arg;
    const cp_geom *g = a->g;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t K0 = g->kernel[0], K1 = g->kernel[1], K2 = g->kernel[2];
    const int64_t band = cp_ceil_div(a->y_hi - a->y_lo, a->bands);
    const int64_t y_step = g->stride[1] * g->out[2];
    const int zipped = g->stride[2] == 2 && g->dilation[2] == 1 && K2 <= CP_COL2IM_ZIP_KW;
    tap_run runs[CP_COL2IM_ZIP_KW];
    for (int64_t kw = 0; zipped && kw < K2; kw++)
        runs[kw] = tap_run_of(g, kw);
    for (int64_t t = begin; t < end; t++) {
        const int64_t m = t / a->bands, oh0 = a->y_lo + t % a->bands * band;
        const int64_t oh1 = oh0 + band < a->y_hi ? oh0 + band : a->y_hi;
        if (oh0 >= oh1)
            continue;
        float *yp = a->y + m * out_plane;
        const float b = a->gp->bias[m];
        if (zipped) {
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = oh0; oh < oh1; oh++)
                    zip_output_row(a, runs, m, b, od, oh, yp + (od * g->out[1] + oh) * g->out[2]);
            continue;
        }
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t o = oh0 * g->out[2]; o < oh1 * g->out[2]; o++)
                yp[od * g->out[1] * g->out[2] + o] = b;
        for (int64_t kd = 0; kd < K0; kd++) {
            int64_t d_lo, d_hi;
            input_range(g, 0, kd, &d_lo, &d_hi);
            for (int64_t kh = 0; kh < K1; kh++) {
                int64_t h_lo, h_hi;
                input_range(g, 1, kh, &h_lo, &h_hi);
                /* the input rows whose outputs fall in the band */
                const int64_t h_off = kh * g->dilation[1] - g->pad_begin[1];
                const int64_t b_lo = cp_ceil_div(oh0 - h_off, g->stride[1]);
                const int64_t b_hi = cp_floor_div(oh1 - 1 - h_off, g->stride[1]) + 1;
                h_lo = b_lo > h_lo ? b_lo : h_lo;
                h_hi = b_hi < h_hi ? b_hi : h_hi;
                for (int64_t kw = 0; kw < K2; kw++) {
                    const int64_t ck = (m * a->gp->taps + (kd * K1 + kh) * K2 + kw) * a->col_plane;
                    const int64_t w_off = kw * g->dilation[2] - g->pad_begin[2];
                    for (int64_t id = d_lo; id < d_hi; id++) {
                        const int64_t od =
                            id * g->stride[0] + kd * g->dilation[0] - g->pad_begin[0];
                        const int64_t oh_lo = h_lo * g->stride[1] + h_off;
                        float *yr = yp + (od * g->out[1] + oh_lo) * g->out[2] + w_off;
                        /* the rows in cols' slots, split where they wrap
                         * and where two rings meet */
                        for (int64_t row = id * g->in[1] + h_lo, left = h_hi - h_lo; left > 0;) {
                            const int64_t slot = row % a->ring;
                            int64_t n = left < a->ring - slot ? left : a->ring - slot;
                            n = row < a->split && a->split - row < n ? a->split - row : n;
                            add_tap_rows(g, kw, col_row(a, row) + ck, n, yr, y_step);
                            row += n;
                            left -= n;
                            yr += n * y_step;
                        }
                    }
                }
            }
        }
    }
}

/* The output rows (dim 1) all of whose taps read input rows below r1: an
 * output row oh reads input rows up to (oh + pad_begin) / stride. */
static int64_t rows_done(const cp_geom *g, int64_t r1)
{
    const int64_t done = r1 * g->stride[1] - g->pad_begin[1];
    return done < 0 ? 0 : done < g->out[1] ? done : g->out[1];
}

/* The first output row from which on every row's taps read input rows at
 * r0 or later (the mirror of rows_done). */
static int64_t rows_from(const cp_geom *g, int64_t r0)
{
    if (r0 <= 0)
        return 0;
    const int64_t from =
        (r0 - 1) * g->stride[1] + 1 - g->pad_begin[1] + (g->kernel[1] - 1) * g->dilation[1];
    return from < 0 ? 0 : from < g->out[1] ? from : g->out[1];
}

/* The first input row (dim 1) that output rows from y0 on read. */
static int64_t first_row_read(const cp_geom *g, int64_t y0)
{
    const int64_t lo =
        cp_ceil_div(y0 + g->pad_begin[1] - (g->kernel[1] - 1) * g->dilation[1], g->stride[1]);
    return lo > 0 ? lo : 0;
}

/* One past the last input row (dim 1) that output rows below y1 read. */
static int64_t end_row_read(const cp_geom *g, int64_t y1, int64_t rows)
{
    const int64_t end = cp_floor_div(y1 - 1 + g->pad_begin[1], g->stride[1]) + 1;
    return end < 0 ? 0 : end < rows ? end : rows;
}

/*
 * How the GEMM way schedules its columns and scatter. Where the columns of
 * a 2-D plane outgrow a share of L2 (the stem's dx: 7.4 MB), they are
 * computed a band of input rows (dim 1) at a time, and the output rows a
 * band finishes are scattered before the next band, so the scatter reads
 * the columns from L2, not from DRAM. cols then holds `ring` input rows of
 * each row (m, k), input row i in slot i % ring: the band's and the
 * others that unfinished output rows still read.
 *
 * With more than one thread, each runs a segment on its own (its own ring,
 * no section to wait for between bands). Segments go in pairs that share a
 * run of output rows and the input rows these read: the first claims bands
 * from the top down, the second from the bottom up, each band as it starts
 * it, until the two meet at some input row R. Where they meet follows how
 * fast each ran, so a thread slowed by other load (a busy core, more
 * threads than cores) does fewer rows instead of keeping the other
 * waiting. Neither computes a row twice; the output rows that read rows on
 * both sides of R (the seam) are scattered after both are done, from the
 * first's ring (rows below R, its last) and the second's (rows from R, its
 * last too, as it ran upwards). Between pairs the output rows split evenly
 * and each pair computes the few input rows the next one reads too. Each
 * output element still receives its taps in tap order on one thread, from
 * column values that do not depend on the band: the result is bitwise
 * that of one band, wherever R falls. Otherwise (columns that fit, 3-D
 * with depth, 1-D) one band of all rows, each step's sections parallel.
 */
typedef struct col_plan {
    int64_t rows;     /* input rows in all: in[0] * in[1] */
    int64_t band;     /* input rows per band */
    int64_t ring;     /* input rows a segment's columns hold */
    int64_t segments; /* one task each; 1: parallel sections */
    int32_t threads;  /* the context's */
} col_plan;

/* The columns of all bands may take this share of the L2 the CPU reports
 * (in 64ths) ... */
#define CP_COL_BANDS_L2_64THS 32
/* ... and a band has at least this many pixels. */
#define CP_COL_BAND_MIN_PIXELS 512

/* A segment: the output rows [y0, y1) (dim 1) that it, with its partner if
 * `paired`, finishes, and the input rows [lo, hi) they read; it runs its
 * bands downwards (up 0) or upwards. */
typedef struct segment {
    int64_t y0, y1, lo, hi;
    int up, paired;
} segment;

static segment segment_of(const cp_geom *g, const col_plan *cp, int64_t s)
{
    const int64_t S = cp->segments, out = g->out[1];
    /* the pair's first segment, and the next pair's (S past the last) */
    const int64_t first = s - s % 2, next = first + 2 < S ? first + 2 : S;
    segment sg = {out * first / S, out * next / S, 0, cp->rows, (int)(s % 2), next - first == 2};
    if (first > 0)
        sg.lo = first_row_read(g, sg.y0);
    if (next < S)
        sg.hi = end_row_read(g, sg.y1, cp->rows);
    sg.hi = sg.hi > sg.lo ? sg.hi : sg.lo;
    return sg;
}

/* The bands of a segment in the order it runs them alone: band b is input
 * rows [*r0, *r1); 0 past the last. */
static int segment_band(const segment *sg, int64_t band, int64_t b, int64_t *r0, int64_t *r1)
{
    if (sg->up) {
        *r1 = sg->hi - b * band;
        *r0 = *r1 - band > sg->lo ? *r1 - band : sg->lo;
        return *r1 > sg->lo;
    }
    *r0 = sg->lo + b * band;
    *r1 = *r0 + band < sg->hi ? *r0 + band : sg->hi;
    return *r0 < sg->hi;
}

/* A pair's shared state, a line of its own in the workspace. */
typedef struct pair_state {
    /* its input rows not claimed yet, [front, back) as front | back << 32:
     * one compare-exchange claims a band at either end */
    _Atomic uint64_t unclaimed;
    /* when both are done: the first's next unfinished output row and the
     * second's last unfinished one plus one, the seam between them */
    int64_t seam_y0, seam_y1;
} __attribute__((aligned(64))) pair_state;

static void pair_start(pair_state *ps, const segment *sg)
{
    atomic_init(&ps->unclaimed, (uint64_t)sg->lo | (uint64_t)sg->hi << 32);
    ps->seam_y0 = sg->y0;
    ps->seam_y1 = sg->y1;
}

/* The row where the pair's claims met, once both are done. */
static int64_t pair_split(pair_state *ps)
{
    return (int64_t)(atomic_load_explicit(&ps->unclaimed, memory_order_relaxed) & 0xffffffffu);
}

/* The segment's next band, [*r0, *r1), claimed at its end of the pair's
 * unclaimed rows: the band segment_band gives, cut short where the
 * partner's claims begin; 0 when none are left. The claims hand over no
 * data (each segment reads only the rows it computed until the join), so
 * relaxed order serves. */
static int claim_band(pair_state *ps, const segment *sg, int64_t band, int64_t *r0, int64_t *r1)
{
    uint64_t u = atomic_load_explicit(&ps->unclaimed, memory_order_relaxed), next;
    int64_t front, back;
    do {
        front = (int64_t)(u & 0xffffffffu);
        back = (int64_t)(u >> 32);
        if (front >= back)
            return 0;
        if (sg->up) {
            *r1 = back;
            *r0 = back - band > front ? back - band : front;
            next = (uint64_t)front | (uint64_t)*r0 << 32;
        } else {
            *r0 = front;
            *r1 = front + band < back ? front + band : back;
            next = (uint64_t)*r1 | (uint64_t)back << 32;
        }
    } while (!atomic_compare_exchange_weak_explicit(&ps->unclaimed, &u, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    return 1;
}

/* After band [r0, r1) of sg, the output rows it has finished: [sg->y0, *y)
 * so far going down (*y the next unfinished), [*y, sg->y1) going up. Going
 * up, a row that reads no input row at all (stride above the kernel's
 * reach) can lie below rows_done(r0) too, where the first segment of the
 * pair finishes it if they meet at r0: such rows are left to the seam. */
static void segment_done(const cp_geom *g, const segment *sg, int64_t r0, int64_t r1, int64_t *y)
{
    if (sg->up) {
        int64_t from = sg->y0;
        if (r0 > sg->lo) {
            from = rows_from(g, r0);
            from = from > rows_done(g, r0) ? from : rows_done(g, r0);
        }
        *y = from > sg->y0 ? (from < *y ? from : *y) : sg->y0;
    } else {
        const int64_t done = r1 >= sg->hi ? sg->y1 : rows_done(g, r1);
        *y = done < sg->y1 ? (done > *y ? done : *y) : sg->y1;
    }
}

/* The input rows a segment's columns must hold: per band, the band and the
 * rows the output rows not yet finished read beyond it. A paired segment's
 * bands are a prefix of those it would run alone (the last perhaps cut
 * short, which holds fewer), so its walk alone bounds them. */
static int64_t ring_rows(const cp_geom *g, const col_plan *cp)
{
    int64_t ring = 1;
    for (int64_t s = 0; s < cp->segments; s++) {
        const segment sg = segment_of(g, cp, s);
        int64_t y = sg.up ? sg.y1 : sg.y0, r0, r1;
        for (int64_t b = 0; segment_band(&sg, cp->band, b, &r0, &r1); b++) {
            /* the unfinished rows: below y going down (to the seam's,
             * read after the pair), above y going up (from the seam's) */
            int64_t held;
            if (sg.up) {
                const int64_t end = end_row_read(g, y, cp->rows);
                held = (end > r1 ? end : r1) - r0;
            } else {
                const int64_t first = first_row_read(g, y);
                held = r1 - (first < r0 ? first : r0);
            }
            ring = held > ring ? held : ring;
            segment_done(g, &sg, r0, r1, &y);
        }
    }
    return ring < cp->rows ? ring : cp->rows;
}

static col_plan col_plan_of(const gemm_packed *gp, const cp_geom *g, int32_t threads)
{
    const int64_t rows = g->in[0] * g->in[1];
    col_plan cp = {rows, rows, rows, 1, threads};
    const int64_t row_bytes = g->m * gp->taps * g->in[2] * (int64_t)sizeof(float);
    const int64_t budget = cp_cache()->l2_bytes / 64 * CP_COL_BANDS_L2_64THS;
    if (g->in[0] != 1 || rows * row_bytes <= budget)
        return cp;
    /* the rows a band's output rows read beyond it, plus one */
    const int64_t halo = (g->kernel[1] - 1) * g->dilation[1] / g->stride[1] + 1;
    const int64_t least = cp_ceil_div(CP_COL_BAND_MIN_PIXELS, g->in[2]);
    int64_t band = budget / row_bytes - halo;
    band = band > least ? band : least;
    if (band >= rows)
        return cp;
    cp.band = band;
    /* pair_state's claims keep a row in 32 bits */
    if (threads > 1 && rows >= threads * band && rows <= (int64_t)UINT32_MAX)
        cp.segments = threads;
    cp.ring = ring_rows(g, &cp);
    return cp;
}

static size_t cols_bytes(const cp_geom *g, const gemm_packed *gp, const col_plan *cp)
{
    return cp_align_up((size_t)(g->m * gp->taps * cp->ring * g->in[2]) * sizeof(float));
}

/* The workspace of a GEMM-way run: each segment's ring, then each pair's state. */
static size_t plan_bytes(const cp_geom *g, const gemm_packed *gp, const col_plan *cp)
{
    return (size_t)cp->segments * cols_bytes(g, gp, cp) +
           (size_t)(cp->segments / 2) * sizeof(pair_state);
}

/* One batch item of a GEMM-way run, as its segments see it. */
typedef struct item_args {
    const cp_geom *g;
    const gemm_packed *gp;
    const col_plan *cp;
    cp_run_args inner; /* the 1x1 Conv on this item's x */
    float *cols;       /* segment s's ring at s * cols_bytes */
    size_t ring_bytes;
    pair_state *pairs; /* pair p's (segments 2p, 2p + 1) after the rings */
    float *y;
} item_args;

/* The columns of input rows [r0, r1) into their slots of cols, on at most
 * `threads` threads. */
static void band_columns(const item_args *it, int64_t r0, int64_t r1, float *cols, int32_t threads)
{
    const convpool_op *conv = it->inner.op;
    const int64_t in2 = it->g->in[2], ring = it->cp->ring;
    while (r0 < r1) {
        const int64_t slot = r0 % ring;
        const int64_t n = r1 - r0 < ring - slot ? r1 - r0 : ring - slot;
        cp_run_args part = it->inner;
        part.y = cols + slot * in2;
        conv->impl->run_pixels(&part, r0 * in2, n * in2, ring * in2, threads);
        r0 += n;
    }
}

/* Output rows [y0, y1) of every channel from the columns in cols (input
 * rows from `split` on in cols_hi), on at most `threads` threads. */
static void scatter(const item_args *it, const float *cols, const float *cols_hi, int64_t split,
                    int64_t y0, int64_t y1, int32_t threads)
{
    const cp_geom *g = it->g;
    const int64_t rows = y1 - y0;
    const int32_t worth =
        cp_threads_for_work(it->gp->taps * g->m * cp_geom_in_plane(g) * rows / g->out[1],
                            CP_COL2IM_MIN_WORK_PER_THREAD);
    threads = threads < worth ? threads : worth;
    col2im_args ca = {g,     it->gp, cols, cols_hi, split, it->cp->ring * g->in[2], it->cp->ring,
                      it->y, y0,     y1,   1};
    /* Few output channels (the stem's dx: 3) split into bands of rows, so
     * that every thread gets about CP_COL2IM_TASKS_PER_THREAD tasks. */
    if (threads > 1 && g->m < (int64_t)threads * CP_COL2IM_TASKS_PER_THREAD) {
        ca.bands = cp_ceil_div((int64_t)threads * CP_COL2IM_TASKS_PER_THREAD, g->m);
        ca.bands = ca.bands < rows ? ca.bands : rows;
    }
    cp_parallel_for(it->inner.ctx, g->m * ca.bands, threads, col2im_task, &ca);
}

static float *segment_cols(const item_args *it, int64_t s)
{
    return (float *)((char *)it->cols + (size_t)s * it->ring_bytes);
}

/* Segment s, band by band; its steps use `threads` threads (1 inside a
 * task of the segments' section). */
static void run_segment(const item_args *it, int64_t s, int32_t threads)
{
    const cp_geom *g = it->g;
    float *cols = segment_cols(it, s);
    const segment sg = segment_of(g, it->cp, s);
    pair_state *ps = sg.paired ? &it->pairs[s / 2] : NULL;
    int64_t y = sg.up ? sg.y1 : sg.y0, r0, r1;
    for (int64_t b = 0; ps ? claim_band(ps, &sg, it->cp->band, &r0, &r1)
                           : segment_band(&sg, it->cp->band, b, &r0, &r1);
         b++) {
        band_columns(it, r0, r1, cols, threads);
        const int64_t before = y;
        segment_done(g, &sg, r0, r1, &y);
        if (y != before)
            scatter(it, cols, cols, INT64_MAX, sg.up ? y : before, sg.up ? before : y, threads);
    }
    if (ps && sg.up)
        ps->seam_y1 = y;
    else if (ps)
        ps->seam_y0 = y;
}

static void segment_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    for (int64_t s = begin; s < end; s++)
        run_segment(arg, s, 1);
}

/* The seams of the segments' pairs, after all segments are done. */
static void scatter_seams(const item_args *it)
{
    for (int64_t s = 0; s + 1 < it->cp->segments; s += 2) {
        pair_state *ps = &it->pairs[s / 2];
        if (ps->seam_y1 > ps->seam_y0)
            scatter(it, segment_cols(it, s), segment_cols(it, s + 1), pair_split(ps), ps->seam_y0,
                    ps->seam_y1, it->cp->threads);
    }
}

static size_t gemm_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    const gemm_packed *gp = op->packed;
    if (gp->depth_to_space) {
        cp_geom ig;
        if (!gp->inner->impl->workspace_size || conv_geom(gp->inner, g, g->n, &ig) != CONVPOOL_OK)
            return 0;
        return gp->inner->impl->workspace_size(gp->inner, &ig, threads);
    }
    if (!gp->inner) {
        cp_geom pg[CP_MAX_PHASES];
        size_t off[CP_MAX_PHASES], outs, scratch = 0;
        if (!phase_layout(gp, g, pg, off, &outs))
            return 0;
        for (int64_t p = 0; p < gp->phases; p++) {
            const convpool_op *conv = gp->phase[p];
            size_t bytes = conv->impl->workspace_size && cp_geom_out_plane(&pg[p])
                               ? conv->impl->workspace_size(conv, &pg[p], threads)
                               : 0;
            scratch = bytes > scratch ? bytes : scratch;
        }
        return outs + scratch;
    }
    const col_plan cp = col_plan_of(gp, g, threads);
    return plan_bytes(g, gp, &cp);
}

static void gemm_run(const cp_run_args *a)
{
    const cp_geom *g = a->geom;
    const gemm_packed *gp = a->op->packed;
    if (gp->depth_to_space) {
        depth_to_space_run(a, gp);
        return;
    }
    if (!gp->inner) {
        phases_run(a, gp);
        return;
    }
    cp_geom ig;
    if (inner_geom(gp, g, &ig) != CONVPOOL_OK)
        return; /* unreachable: the op's own geometry resolved */
    const col_plan cp = col_plan_of(gp, g, cp_context_threads(a->ctx));
    const int64_t in_item = g->c * cp_geom_in_plane(g), out_item = g->m * cp_geom_out_plane(g);
    for (int64_t n = 0; n < g->n; n++) {
        item_args it = {
            g,
            gp,
            &cp,
            {gp->inner, &ig, a->ctx, a->x + n * in_item, NULL, NULL, NULL},
            a->workspace,
            cols_bytes(g, gp, &cp),
            (pair_state *)((char *)a->workspace + (size_t)cp.segments * cols_bytes(g, gp, &cp)),
            a->y + n * out_item};
        if (cp.segments == 1) {
            run_segment(&it, 0, cp.threads);
        } else {
            for (int64_t s = 0; s + 1 < cp.segments; s += 2) {
                const segment sg = segment_of(g, &cp, s);
                pair_start(&it.pairs[s / 2], &sg);
            }
            cp_parallel_for(a->ctx, cp.segments, cp.threads, segment_task, &it);
            scatter_seams(&it);
        }
    }
}

const char *cp_conv_transpose_way(const convpool_op *op)
{
    if (op->impl != &cp_impl_conv_transpose_gemm)
        return op->impl->name;
    const gemm_packed *gp = op->packed;
    return gp->depth_to_space ? "depth_to_space" : gp->inner ? "gemm" : "phases";
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
