/*
 * Depthwise ConvTranspose with a stride above 1 (one input and one output
 * channel per group: MobileNet's up-sampling layers, and the dx pass of
 * every strided depthwise Conv) on the x86 depthwise kernel, in one pass.
 *
 * Output o (per dim) receives the taps k with o + pad_begin - k*dilation
 * = i*stride for an input position i. Split the outputs of a dim into
 * their residue classes r = (o + pad_begin) mod stride: class r is o =
 * j*stride + r - pad_begin, and its taps are the k with (r - k*dilation)
 * divisible by the stride, each reading input i = j + (r - k*dilation) /
 * stride: contiguous in j. So each class of an output row band is a
 * stride-1 depthwise correlation of the input with that class's taps,
 * which the depthwise kernel computes from a zero-padded copy of the input
 * rows the band reads (taps that fall outside the input read zeros).
 *
 * One task is a band of output rows of one (image, channel, output depth):
 * it copies the input rows the band reads into its thread's pack, runs
 * the depthwise kernel once per (H class, W class) into an L1 buffer (or,
 * with stride 1 along W, straight into y's rows of that H class), and
 * merges the W classes of each H class's rows into y (zip_rows for
 * stride 2).
 * The generic phase way (ops/impl_conv_transpose.c) instead runs one
 * depthwise Conv per phase over the whole tensor, each a parallel pass with
 * its own packing, and then a pass that interleaves the phases through
 * memory: the dx of MobileNet's 3x3 s2 layers ran 3x to 5x slower so.
 *
 * Any pads (negative too), dilations, output_padding, output_shape and
 * auto_pad: every quantity comes from the run's geometry. Stride 1 in every
 * dim stays on the phase way, a single depthwise Conv writing y (its
 * three-tap kernel shifts rows in registers). Each output's taps are summed
 * in (kd, kh, kw) order on one thread: results do not depend on the thread
 * count. Steady state allocates nothing: packs, buffers and tap tables are
 * per-thread slices of the run's workspace.
 */
#include <string.h>

#include "kernels/x86/conv_kernels.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Multiply-adds below which a second thread costs more than it saves. */
#define DW_T_MIN_WORK_PER_THREAD (1 << 16)
/* Floats of class buffers per band: with the band's input rows, about L1. */
#define DW_T_BAND_FLOATS 4096

typedef struct dw_t_packed {
    const cp_conv_kernels *k;
    float *w;    /* C x K weights, (kd, kh, kw) order per channel */
    float *bias; /* C values, zeros if the op has none */
} dw_t_packed;

static int64_t round_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b * b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int dw_t_supports(const convpool_op *op)
{
    const cp_attrs *a = &op->attrs;
    if (op->c_per_group != 1 || op->m != a->group)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->strides[i] > 1)
            return 1;
    return 0; /* stride 1: the phase way's single depthwise Conv */
}

static void dw_t_release(convpool_op *op)
{
    dw_t_packed *p = op->packed;
    if (!p)
        return;
    cp_free(p->w);
    cp_free(p->bias);
    cp_free(p);
    op->packed = NULL;
}

static convpool_status dw_t_prepare_with(convpool_op *op, const float *weight, const float *bias,
                                         const cp_conv_kernels *k)
{
    int64_t taps = 1;
    for (int i = 0; i < op->attrs.rank; i++)
        taps *= op->attrs.kernel_shape[i];
    const size_t wbytes = (size_t)(op->m * taps) * sizeof(float);
    const size_t bbytes = (size_t)op->m * sizeof(float);
    dw_t_packed *p = cp_calloc(1, sizeof *p);
    if (p) {
        op->packed = p;
        p->k = k;
        p->w = cp_alloc(wbytes);
        p->bias = cp_calloc(1, bbytes);
    }
    if (!p || !p->w || !p->bias) {
        dw_t_release(op);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %lld depthwise weights",
                       (long long)(op->m * taps));
    }
    /* ConvTranspose W (C, M/group = 1, K...) is already per channel */
    memcpy(p->w, weight, wbytes);
    if (bias)
        memcpy(p->bias, bias, bbytes);
    op->packed_bytes = sizeof *p + wbytes + bbytes;
    return CONVPOOL_OK;
}

/* One residue class r of a dim between outputs o_lo and o_hi: outputs
 * o = (j0 + e)*stride + r - pad_begin for e < count. */
typedef struct dw_t_class {
    int64_t j0, count;
    int64_t col; /* W classes: where the class's columns start in a buffer row */
} dw_t_class;

static dw_t_class class_of(const cp_geom *g, int i, int64_t r, int64_t o_lo, int64_t o_hi)
{
    dw_t_class c;
    c.j0 = cp_ceil_div(o_lo + g->pad_begin[i] - r, g->stride[i]);
    c.count = max64(0, cp_ceil_div(o_hi + g->pad_begin[i] - r, g->stride[i]) - c.j0);
    c.col = 0;
    return c;
}

/* Whether kernel index k is a tap of class r of dim i; if so its input
 * offset (r - k*dilation) / stride goes to *off. */
static int tap_of(const cp_geom *g, int i, int64_t r, int64_t k, int64_t *off)
{
    const int64_t t = r - k * g->dilation[i];
    if (cp_floor_div(t, g->stride[i]) * g->stride[i] != t)
        return 0;
    *off = t / g->stride[i];
    return 1;
}

/* The taps of each class of one dim: class r has kernel indices k[i] and
 * input offsets off[i] for start[r] <= i < start[r + 1]. */
typedef struct dw_t_taps {
    int64_t *start, *k, *off;
} dw_t_taps;

static size_t taps_table_bytes(const cp_geom *g, int i)
{
    return cp_align_up((size_t)(g->stride[i] + 1 + 2 * g->kernel[i]) * sizeof(int64_t));
}

static dw_t_taps taps_table(const cp_geom *g, int i, char *at)
{
    dw_t_taps t;
    t.start = (int64_t *)at;
    t.k = t.start + g->stride[i] + 1;
    t.off = t.k + g->kernel[i];
    int64_t n = 0;
    for (int64_t r = 0; r < g->stride[i]; r++) {
        t.start[r] = n;
        for (int64_t k = 0; k < g->kernel[i]; k++)
            if (tap_of(g, i, r, k, &t.off[n]))
                t.k[n++] = k;
    }
    t.start[g->stride[i]] = n;
    return t;
}

/* The run's plan, the same for every task. The workspace holds the W
 * classes (shared, written before the tasks start), then one slice per
 * thread: pack, class buffers, tap tables and the kd of each pack slot. */
typedef struct dw_t_plan {
    int64_t band, bands;  /* output rows per band; bands per output depth */
    int64_t iw_lo, pitch; /* the pack's first input column; floats per pack row */
    int64_t pack_rows;    /* input rows per pack slot */
    int64_t slots;        /* most input depths one output depth reads */
    int64_t class_pitch;  /* floats per buffer row: every W class, rounded to vectors */
    int64_t taps;         /* K */
    size_t classes_bytes; /* the shared W classes */
    size_t pack_bytes, buf_bytes, taps_bytes, thread_bytes;
} dw_t_plan;

static dw_t_plan plan_of(const cp_geom *g, const cp_conv_kernels *k)
{
    dw_t_plan p;
    const int64_t vw = k->vw, sd = g->stride[0], sh = g->stride[1], sw = g->stride[2];
    p.taps = g->kernel[0] * g->kernel[1] * g->kernel[2];
    /* columns: from the least input column a tap reads to the last one a
     * class's vectors read (whole vectors: the kernel loads past a row's
     * end and stores only the row) */
    p.iw_lo = cp_floor_div(g->pad_begin[2] - (g->kernel[2] - 1) * g->dilation[2], sw);
    /* start the pack earlier so that the most taps' loads are aligned (a
     * vector load across two cache lines costs two) */
    int64_t at_residue[64] = {0}, best = 0;
    for (int64_t r = 0; r < sw; r++) {
        const dw_t_class c = class_of(g, 2, r, 0, g->out[2]);
        for (int64_t kw = 0, off; kw < g->kernel[2] && c.count; kw++)
            if (tap_of(g, 2, r, kw, &off))
                at_residue[(c.j0 + off - p.iw_lo) % vw]++;
    }
    for (int64_t i = 1; i < vw; i++)
        best = at_residue[i] > at_residue[best] ? i : best;
    p.iw_lo -= (vw - best) % vw;
    int64_t hi = p.iw_lo;
    p.class_pitch = 0;
    for (int64_t r = 0; r < sw; r++) {
        const dw_t_class c = class_of(g, 2, r, 0, g->out[2]);
        p.class_pitch += round_up(c.count, vw);
        if (c.count)
            hi = max64(hi, c.j0 + round_up(c.count, vw) - 1); /* a tap's offset is <= 0 */
    }
    p.pitch = round_up(hi - p.iw_lo + 1, vw);
    /* balanced bands whose class buffers stay near DW_T_BAND_FLOATS */
    const int64_t oh = g->out[1];
    const int64_t most = sw > 1 ? max64(1, DW_T_BAND_FLOATS / p.class_pitch) : oh;
    p.bands = cp_ceil_div(oh, min64(most, oh));
    p.band = cp_ceil_div(oh, p.bands);
    p.pack_rows = (p.band - 1 + (g->kernel[1] - 1) * g->dilation[1]) / sh + 2;
    p.slots = min64(g->kernel[0], (g->kernel[0] - 1) * g->dilation[0] / sd + 1);
    p.classes_bytes = cp_align_up((size_t)sw * sizeof(dw_t_class)) + taps_table_bytes(g, 1) +
                      taps_table_bytes(g, 2);
    p.pack_bytes = cp_align_up((size_t)(p.slots * p.pack_rows * p.pitch) * sizeof(float));
    p.buf_bytes = sw > 1 ? cp_align_up((size_t)(p.band * p.class_pitch) * sizeof(float)) : 0;
    p.taps_bytes = cp_align_up((size_t)p.taps * sizeof(int64_t)) +
                   cp_align_up((size_t)p.taps * sizeof(float)) +
                   cp_align_up((size_t)p.slots * sizeof(int64_t));
    p.thread_bytes = p.pack_bytes + p.buf_bytes + p.taps_bytes;
    return p;
}

static size_t dw_t_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    const dw_t_packed *pk = op->packed;
    const dw_t_plan p = plan_of(g, pk->k);
    return p.classes_bytes + (size_t)threads * p.thread_bytes;
}

typedef struct dw_t_job {
    const cp_run_args *a;
    const dw_t_packed *pk;
    dw_t_plan plan;
    const dw_t_class *wc; /* the W classes over the whole output row */
    dw_t_taps h_taps, w_taps;
    unsigned char *zeroed; /* per thread: whether its pack's margins are zeros */
} dw_t_job;

/* A thread's slice of the workspace. */
typedef struct dw_t_scratch {
    float *pack, *buf, *tap_w;
    int64_t *tap_off, *kd_of;
} dw_t_scratch;

static dw_t_scratch scratch_of(const dw_t_job *job, int32_t thread_index)
{
    const dw_t_plan *p = &job->plan;
    char *at =
        (char *)job->a->workspace + p->classes_bytes + (size_t)thread_index * p->thread_bytes;
    dw_t_scratch s;
    s.pack = (float *)at;
    at += p->pack_bytes;
    s.buf = (float *)at;
    at += p->buf_bytes;
    s.tap_off = (int64_t *)at;
    at += cp_align_up((size_t)p->taps * sizeof(int64_t));
    s.tap_w = (float *)at;
    at += cp_align_up((size_t)p->taps * sizeof(float));
    s.kd_of = (int64_t *)at;
    return s;
}

/* Copies into the pack, for each input depth that output depth od reads
 * (one slot each, its kernel index in kd_of), input rows ih_lo ..
 * ih_lo + pack_rows - 1 at columns iw_lo .., zeros where no input is.
 * Returns the slot count. The columns outside the input's are the same in
 * every task: zeroed once per run and thread. */
static int64_t pack_band(const dw_t_job *job, const float *x, int64_t od, int64_t ih_lo,
                         const dw_t_scratch *s, int32_t thread_index)
{
    const cp_geom *g = job->a->geom;
    const dw_t_plan *p = &job->plan;
    const int64_t H = g->in[1], W = g->in[2];
    const int64_t c0 = max64(0, p->iw_lo), c1 = min64(W, p->iw_lo + p->pitch);
    if (!job->zeroed[thread_index]) {
        memset(s->pack, 0, (size_t)(p->slots * p->pack_rows * p->pitch) * sizeof(float));
        job->zeroed[thread_index] = 1;
    }
    if (c1 <= c0)
        return 0; /* every tap reads padding */
    int64_t slots = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        int64_t id;
        if (!tap_of(g, 0, od + g->pad_begin[0], kd, &id) || id < 0 || id >= g->in[0])
            continue; /* id = (od + pad - kd*dilation) / stride */
        s->kd_of[slots] = kd;
        float *at = s->pack + slots * p->pack_rows * p->pitch + (c0 - p->iw_lo);
        for (int64_t r = 0; r < p->pack_rows; r++, at += p->pitch) {
            const int64_t ih = ih_lo + r;
            if (ih >= 0 && ih < H)
                memcpy(at, x + (id * H + ih) * W + c0, (size_t)(c1 - c0) * sizeof(float));
            else
                memset(at, 0, (size_t)(c1 - c0) * sizeof(float));
        }
        slots++;
    }
    return slots;
}

/* The taps of H class rh (index q from q_lo) and W class rw (index j from
 * j0), as pack offsets and weights in (kd, kh, kw) order. */
static int64_t class_taps(const dw_t_job *job, const dw_t_scratch *s, int64_t slots, const float *w,
                          int64_t rh, int64_t q_lo, int64_t ih_lo, int64_t rw, int64_t j0)
{
    const cp_geom *g = job->a->geom;
    const dw_t_plan *p = &job->plan;
    const int64_t KH = g->kernel[1], KW = g->kernel[2];
    const dw_t_taps *ht = &job->h_taps, *wt = &job->w_taps;
    int64_t taps = 0;
    for (int64_t sl = 0; sl < slots; sl++)
        for (int64_t a = ht->start[rh]; a < ht->start[rh + 1]; a++)
            for (int64_t b = wt->start[rw]; b < wt->start[rw + 1]; b++) {
                s->tap_off[taps] = (sl * p->pack_rows + q_lo + ht->off[a] - ih_lo) * p->pitch + j0 +
                                   wt->off[b] - p->iw_lo;
                s->tap_w[taps++] = w[(s->kd_of[sl] * KH + ht->k[a]) * KW + wt->k[b]];
            }
    return taps;
}

/* Output rows y_row, y_row + y_stride, ... (`rows` of them) from buffer
 * rows buf, buf + class_pitch, ...: each W class's values to their
 * columns; stride 2 zips the classes of even and odd columns. */
static void merge_rows(const dw_t_job *job, const float *buf, int64_t rows, float *y_row,
                       int64_t y_stride)
{
    const cp_geom *g = job->a->geom;
    const int64_t sw = g->stride[2], pw = g->pad_begin[2], bp = job->plan.class_pitch;
    const dw_t_class *wc = job->wc;
    if (sw == 2) {
        const int64_t ev = (wc[0].j0 * 2 - pw) % 2 == 0 ? 0 : 1; /* class of column 0 */
        const dw_t_class *e = &wc[ev], *o = &wc[1 - ev];
        job->pk->k->zip_rows(buf + e->col, buf + o->col, bp, o->count, rows, y_row, y_stride);
        if (e->count > o->count) /* an odd row length: the last column */
            for (int64_t r = 0; r < rows; r++)
                y_row[r * y_stride + 2 * o->count] = buf[r * bp + e->col + o->count];
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < sw; c++) {
            float *dst = y_row + r * y_stride + wc[c].j0 * sw + c - pw;
            for (int64_t e = 0; e < wc[c].count; e++)
                dst[e * sw] = buf[r * bp + wc[c].col + e];
        }
}

/* Task t: band t % bands of output depth t / bands % out[0] of plane
 * t / (bands * out[0]). */
static void dw_t_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const dw_t_job *job = arg;
    const cp_geom *g = job->a->geom;
    const dw_t_plan *p = &job->plan;
    const dw_t_scratch s = scratch_of(job, thread_index);
    const int64_t sh = g->stride[1], sw = g->stride[2], ph = g->pad_begin[1];
    const int64_t OH = g->out[1], OW = g->out[2];
    for (int64_t t = begin; t < end; t++) {
        const int64_t band = t % p->bands, od = t / p->bands % g->out[0];
        const int64_t plane = t / p->bands / g->out[0], c = plane % g->m;
        const int64_t oh0 = band * p->band, oh1 = min64(OH, oh0 + p->band);
        float *y = job->a->y + plane * cp_geom_out_plane(g) + od * OH * OW;
        const float *w = job->pk->w + c * p->taps;
        const int64_t ih_lo = cp_floor_div(oh0 + ph - (g->kernel[1] - 1) * g->dilation[1], sh);
        const int64_t slots =
            pack_band(job, job->a->x + plane * cp_geom_in_plane(g), od, ih_lo, &s, thread_index);
        int64_t rows = 0; /* buffer rows so far: H classes one after another */
        for (int64_t rh = 0; rh < sh; rh++) {
            const dw_t_class hc = class_of(g, 1, rh, oh0, oh1);
            if (!hc.count)
                continue;
            /* this class's output rows: oh = q*sh + rh - ph for q from j0 */
            float *y_first = y + (hc.j0 * sh + rh - ph) * OW;
            float *buf = s.buf + rows * p->class_pitch;
            rows += hc.count;
            for (int64_t rw = 0; rw < sw; rw++) {
                const dw_t_class *wc = &job->wc[rw];
                if (!wc->count)
                    continue;
                const int64_t taps = class_taps(job, &s, slots, w, rh, hc.j0, ih_lo, rw, wc->j0);
                /* stride 1 along W: the class is the whole row, straight to y */
                job->pk->k->depthwise(taps, s.tap_off, s.pack, p->pitch, s.tap_w, job->pk->bias[c],
                                      sw > 1 ? buf + wc->col : y_first,
                                      sw > 1 ? p->class_pitch : sh * OW, hc.count, wc->count);
            }
            if (sw > 1)
                merge_rows(job, buf, hc.count, y_first, sh * OW);
        }
    }
}

static void dw_t_run(const cp_run_args *a)
{
    const cp_geom *g = a->geom;
    dw_t_job job;
    job.a = a;
    job.pk = a->op->packed;
    job.plan = plan_of(g, job.pk->k);
    const int64_t tasks = g->n * g->m * g->out[0] * job.plan.bands;
    if (tasks == 0)
        return;
    dw_t_class *wc = a->workspace;
    int64_t col = 0;
    for (int64_t r = 0; r < g->stride[2]; r++) {
        wc[r] = class_of(g, 2, r, 0, g->out[2]);
        wc[r].col = col;
        col += round_up(wc[r].count, job.pk->k->vw);
    }
    job.wc = wc;
    char *at = (char *)a->workspace + cp_align_up((size_t)g->stride[2] * sizeof(dw_t_class));
    job.h_taps = taps_table(g, 1, at);
    job.w_taps = taps_table(g, 2, at + taps_table_bytes(g, 1));
    unsigned char zeroed[CP_MAX_THREADS] = {0};
    job.zeroed = zeroed;
    const int64_t strides = g->stride[0] * g->stride[1] * g->stride[2];
    const int64_t work = g->n * g->m * cp_geom_out_plane(g) * max64(1, job.plan.taps / strides);
    int32_t threads = cp_threads_for_work(work, DW_T_MIN_WORK_PER_THREAD);
    if (threads > cp_context_threads(a->ctx))
        threads = cp_context_threads(a->ctx);
    cp_parallel_for(a->ctx, tasks, threads, dw_t_task, &job);
}

static convpool_status prepare_avx2(convpool_op *op, const float *weight, const float *bias)
{
    return dw_t_prepare_with(op, weight, bias, &cp_conv_kernels_avx2);
}

static convpool_status prepare_avx512(convpool_op *op, const float *weight, const float *bias)
{
    return dw_t_prepare_with(op, weight, bias, &cp_conv_kernels_avx512);
}

const cp_impl cp_impl_conv_transpose_depthwise_avx512 = {
    .name = "conv_transpose.depthwise.avx512",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_AVX512,
    .supports = dw_t_supports,
    .prepare = prepare_avx512,
    .release = dw_t_release,
    .workspace_size = dw_t_workspace_size,
    .run = dw_t_run,
};

const cp_impl cp_impl_conv_transpose_depthwise_avx2 = {
    .name = "conv_transpose.depthwise.avx2",
    .kind = CONVPOOL_OP_CONV_TRANSPOSE,
    .isa = CONVPOOL_ISA_AVX2,
    .supports = dw_t_supports,
    .prepare = prepare_avx2,
    .release = dw_t_release,
    .workspace_size = dw_t_workspace_size,
    .run = dw_t_run,
};
