/*
 * conv_transpose_phases.c - the stride-phase way of a ConvTranspose
 * (ops/impl_conv_transpose.c chooses it).
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
 */
#include <string.h>

#include "ops/conv_transpose.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/threadpool.h"

/* One spatial dim of one stride phase: the outputs o with (o + pad_begin)
 * mod stride = r are o = q*stride + r - pad_begin for q >= q0, and receive
 * the taps k = r, r + stride, ... below the kernel size: a stride-1 Conv of
 * x with those taps flipped, whose output j is q = q0 + j. */
typedef struct phase_dim {
    int64_t taps, q0, pad_begin, pad_end; /* pads of that Conv */
} phase_dim;

/* Only for pads fixed by the attributes (see cp_phases_fit). */
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
int cp_phases_fit(const convpool_op *op)
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
convpool_status cp_phases_prepare(convpool_op *op, cp_conv_transpose_packed *pk,
                                  const float *weight, const float *bias, float *wf)
{
    const cp_attrs *a = &op->attrs;
    const int rank = a->rank, lead = CP_MAX_SPATIAL - rank;
    const int64_t group = a->group, cpg = op->c_per_group, mpg = op->m / group;
    pk->phases = 1;
    for (int i = 0; i < rank; i++)
        pk->phases *= a->strides[i];
    for (int64_t p = 0; p < pk->phases; p++) {
        phase_dim pd[CP_MAX_SPATIAL];
        int64_t r[CP_MAX_SPATIAL] = {0, 0, 0}, ptaps = 1, rest = p;
        for (int i = rank - 1; i >= 0; i--) {
            r[i] = rest % a->strides[i];
            rest /= a->strides[i];
            pd[i] = phase_dim_of(a, i, r[i]);
            ptaps *= pd[i].taps;
            pk->residue[p][lead + i] = r[i];
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
                            weight[((gi * cpg + c) * mpg + m) * pk->taps + k];
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
            cp_op_create(&d, ws, (size_t)rank + 2, wf, bias, op->isa, &pk->phase[p]);
        if (st != CONVPOOL_OK)
            return st;
    }
    return CONVPOOL_OK;
}

/* Phase p's first output along dim i of y. */
static int64_t phase_first_output(const cp_conv_transpose_packed *pk, int64_t p, const cp_geom *g,
                                  int i)
{
    const int64_t r = pk->residue[p][i], st = g->stride[i];
    return cp_ceil_div(g->pad_begin[i] - r, st) * st + r - g->pad_begin[i];
}

/* Whether phase p has an output in y (a small y can leave a phase none). */
static int phase_has_output(const cp_conv_transpose_packed *pk, int64_t p, const cp_geom *g)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        if (phase_first_output(pk, p, g, i) >= g->out[i])
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
static int phase_fill_output(const cp_conv_transpose_packed *pk, int64_t p, const cp_geom *g,
                             cp_geom *q)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        const int64_t st = g->stride[i], o0 = phase_first_output(pk, p, g, i);
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
static int phase_layout(const cp_conv_transpose_packed *pk, const cp_geom *g, cp_geom *pg,
                        size_t *off, size_t *outs)
{
    *outs = 0;
    for (int64_t p = 0; p < pk->phases; p++) {
        off[p] = *outs;
        if (!phase_has_output(pk, p, g)) {
            memset(&pg[p], 0, sizeof pg[p]);
            continue;
        }
        if (cp_conv_transpose_inner_geom(pk->phase[p], g, g->n, &pg[p]) != CONVPOOL_OK ||
            !phase_fill_output(pk, p, g, &pg[p]))
            return 0;
        if (pk->phases > 1)
            *outs += cp_align_up((size_t)(g->n * g->m * cp_geom_out_plane(&pg[p])) * sizeof(float));
    }
    return 1;
}

typedef struct interleave_args {
    const cp_geom *g, *pg; /* the op's and each phase's geometry */
    const cp_conv_transpose_packed *pk;
    const char *outs; /* the phases' outputs */
    const size_t *off;
    float *y;
} interleave_args;

/* With stride 2 along W, the phase that shares p's D and H residues and
 * has the other W residue, if both have outputs; -1 otherwise. */
static int64_t w_partner(const cp_conv_transpose_packed *pk, const cp_geom *g, const cp_geom *pg,
                         int64_t p)
{
    if (g->stride[2] != 2)
        return -1;
    for (int64_t q = 0; q < pk->phases; q++)
        if (q != p && pk->residue[q][0] == pk->residue[p][0] &&
            pk->residue[q][1] == pk->residue[p][1])
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
        for (int64_t p = 0; p < a->pk->phases; p++) {
            const cp_geom *q = &a->pg[p];
            if (!cp_geom_out_plane(q))
                continue; /* no output in this run */
            const float *src = (const float *)(a->outs + a->off[p]) + plane * cp_geom_out_plane(q);
            int64_t o0[CP_MAX_SPATIAL]; /* the phase's first output per dim */
            for (int i = 0; i < CP_MAX_SPATIAL; i++)
                o0[i] = phase_first_output(a->pk, p, g, i);
            const int64_t partner = w_partner(a->pk, g, a->pg, p);
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
void cp_phases_run(const cp_run_args *a, const cp_conv_transpose_packed *pk)
{
    const cp_geom *g = a->geom;
    cp_geom pg[CP_MAX_PHASES];
    size_t off[CP_MAX_PHASES], outs;
    if (!phase_layout(pk, g, pg, off, &outs))
        return;
    char *base = a->workspace;
    for (int64_t p = 0; p < pk->phases; p++) {
        if (!cp_geom_out_plane(&pg[p]))
            continue;
        float *py = pk->phases == 1 ? a->y : (float *)(base + off[p]);
        cp_run_args run = {pk->phase[p], &pg[p], a->ctx, a->x, py, NULL, base + outs};
        pk->phase[p]->impl->run(&run);
    }
    if (pk->phases == 1)
        return;
    const int64_t planes = g->n * g->m;
    interleave_args ia = {g, pg, pk, base, off, a->y};
    cp_parallel_for(
        a->ctx, planes,
        cp_threads_for_work(planes * cp_geom_out_plane(g), CP_COL2IM_MIN_WORK_PER_THREAD),
        interleave_task, &ia);
}

size_t cp_phases_workspace_size(const cp_conv_transpose_packed *pk, const cp_geom *g,
                                int32_t threads)
{
    cp_geom pg[CP_MAX_PHASES];
    size_t off[CP_MAX_PHASES], outs, scratch = 0;
    if (!phase_layout(pk, g, pg, off, &outs))
        return 0;
    for (int64_t p = 0; p < pk->phases; p++) {
        const convpool_op *conv = pk->phase[p];
        size_t bytes = conv->impl->workspace_size && cp_geom_out_plane(&pg[p])
                           ? conv->impl->workspace_size(conv, &pg[p], threads)
                           : 0;
        scratch = bytes > scratch ? bytes : scratch;
    }
    return outs + scratch;
}
