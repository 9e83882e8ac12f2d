/*
 * The x86 convolution fast paths (AVX2+FMA and AVX-512): weight packing,
 * input packing, tiling and threading around the micro-kernels of
 * kernels/x86/conv_kernels.h. One of four algorithms is fixed per op at
 * creation from its attributes:
 *
 *  - GEMM: 1x1 kernel, stride 1, no pads. y_g = W_g x_g straight on the
 *    NCHW planes (no copy of the input), tiles of output channels x pixels.
 *  - depthwise: one input channel per group (group = C, any channel
 *    multiplier up to a few). Each task copies the rows it needs of one
 *    channel, zero padded and split into stride phases, then the kernel
 *    runs contiguous vector loads along output rows; three taps along W at
 *    stride 1 have a kernel that loads each row once, and at stride 2 one
 *    that reads the input itself (masked loads, no copy).
 *  - rows: few input channels per group (the 7x7 stride-2 stem): the GEMM
 *    tile over packed, phase-split input rows, one reduction step per
 *    (channel, tap); stores are contiguous rows.
 *  - direct: everything else (any kernel, stride, dilation, pads, groups,
 *    1-D/2-D/3-D). Each task copies a band of zero-padded input rows of one
 *    group (deep layers on small planes, whose padding taps are all left
 *    out, read the input in place instead); the kernel vectorises over
 *    output channels and broadcasts input pixels, so output rows of any
 *    width (7, 14, 112) fill whole tiles;
 *    rows overhanging the top or bottom padding skip those taps, and so do
 *    the first and last pixel of a row for taps in the left/right padding.
 *    Short rows (up to 7 pixels) go two at a time where the kernel has
 *    two-row tiles, which load each weight vector once for both rows.
 *
 * Runs of a few dozen multiply-adds (CP_CONV_TINY_MAX_WORK, e.g. the D2L
 * edge detector) skip all of this: ops/conv_tiny.c loops over a plain copy
 * of the weights that small ops keep.
 *
 * Tasks split batch, groups, depth, bands of output rows and, when those
 * are too few, output channels; each output element is computed by one
 * task in a fixed order, so results are the same for every thread count
 * (the plan picks tile shapes and whether threads share one packed band
 * by the thread count, but neither changes any element's order).
 */
#include "ops/impl.h"

#if defined(__x86_64__)

#include <string.h>

#include "kernels/x86/conv_kernels.h"
#include "ops/conv_tiny.h"
#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Aim for this many tasks, so that two or three threads finish together. */
#define X86_CONV_TASK_TARGET 32
/* A band's packed input should stay in L2 next to the weights it meets. */
#define X86_CONV_BAND_BYTES (192 * 1024)
#define X86_CONV_HEAVY_BAND_BYTES (400 * 1024)
/* Multiply-adds below which a second thread costs more than it saves. */
#define X86_CONV_MIN_WORK_PER_THREAD (1 << 17)
/* The thread pool's limit on threads per context. */
#define CP_MAX_THREADS_PER_RUN 1024
/* Depthwise 3-tap stride-2 rows read the input directly when the kernel
 * has at most this many rows (D x H): their taps are listed on the stack. */
#define X86_CONV_DW_MAX_ROW_TAPS 64
/* Up to this many input channels per group (the stem's 3), the row kernel
 * (vectors along output rows) beats the direct one, whose transposed store
 * is then not paid for by a long reduction. */
#define X86_CONV_ROWS_MAX_CHANNELS 4
/* Input planes up to this size the direct kernel reads in place. */
#define X86_CONV_IN_PLACE_PLANE_BYTES (64 * 1024)
/* A direct tile's weights and the packed band should fit this together:
 * L2 per core is 1 MiB on Zen 4/5 and more on recent Intel. */
#define X86_CONV_TILE_L2_BYTES (800 * 1024)
/* Tile shapes are balanced over at most this many threads and tasks
 * (more tasks split evenly enough) ... */
#define X86_CONV_BALANCE_MAX_THREADS 64
#define X86_CONV_BALANCE_MAX_TASKS 1024
/* ... until the longest thread's share is within this of an even split. */
#define X86_CONV_BALANCED 1.03
/* Reduction-step tables per thread for rows that skip taps in the top or
 * bottom padding: one for each half of the output rows. */
#define X86_CONV_COMPACT_SLOTS 2
/* Channel multipliers up to this go to the depthwise kernel; above, the
 * direct kernel fills its output-channel vectors better. */
#define X86_CONV_DEPTHWISE_MAX_MULTIPLIER 4

typedef enum x86_conv_algo {
    X86_CONV_GEMM,
    X86_CONV_DEPTHWISE,
    X86_CONV_ROWS,
    X86_CONV_DIRECT,
} x86_conv_algo;

typedef struct x86_conv {
    x86_conv_algo algo;
    const cp_conv_kernels *k;
    int64_t groups, cpg, mpg, taps;
    int64_t block;  /* output channels per packed block: gemm_mr, vw or 1 */
    int64_t blocks; /* blocks per group */
    float *w;
    float *bias;    /* groups * blocks * block values, zero padded */
    /* small ops: the weights as given and the bias (zeros if none), for
     * runs too small to pay for planning and packing (ops/conv_tiny.h) */
    float *plain_w, *plain_bias;
} x86_conv;

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t round_up(int64_t a, int64_t b)
{
    return ceil_div(a, b) * b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int is_pointwise(const cp_attrs *a)
{
    for (int i = 0; i < a->rank; i++)
        if (a->kernel_shape[i] != 1 || a->strides[i] != 1)
            return 0;
    /* auto_pad SAME_* and VALID give no padding for a 1x1 stride-1 kernel */
    if (a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET)
        for (int i = 0; i < 2 * a->rank; i++)
            if (a->pads[i] != 0)
                return 0;
    return 1;
}

static x86_conv_algo choose_algo(const convpool_op *op, const cp_conv_kernels *k)
{
    const int64_t mpg = op->m / op->attrs.group;
    if (is_pointwise(&op->attrs))
        return X86_CONV_GEMM;
    if (op->c_per_group == 1 && mpg <= X86_CONV_DEPTHWISE_MAX_MULTIPLIER)
        return X86_CONV_DEPTHWISE;
    if (op->c_per_group <= X86_CONV_ROWS_MAX_CHANNELS && mpg >= k->gemm_mr)
        return X86_CONV_ROWS;
    return X86_CONV_DIRECT;
}

static void x86_conv_release(convpool_op *op)
{
    x86_conv *xc = op->packed;
    if (xc) {
        cp_free(xc->w);
        cp_free(xc->bias);
        cp_free(xc->plain_w);
        cp_free(xc->plain_bias);
        cp_free(xc);
    }
}

/* Packs weights (M, C/group, taps) so that a tile's weights are contiguous:
 * GEMM [g][block][c][mr]; direct [g][block][c][tap][vw]; depthwise as is. */
static void pack_weights(x86_conv *xc, const float *weight, const float *bias)
{
    const int64_t steps = xc->cpg * xc->taps;
    for (int64_t g = 0; g < xc->groups; g++)
        for (int64_t b = 0; b < xc->blocks; b++)
            for (int64_t i = 0; i < xc->block; i++) {
                int64_t mi = b * xc->block + i;
                int64_t slot = g * xc->blocks + b;
                if (mi >= xc->mpg)
                    continue; /* stays zero */
                int64_t m = g * xc->mpg + mi;
                xc->bias[slot * xc->block + i] = bias ? bias[m] : 0.0f;
                const float *src = weight + m * steps;
                float *dst = xc->w + slot * steps * xc->block + i;
                for (int64_t s = 0; s < steps; s++)
                    dst[s * xc->block] = src[s];
            }
}

static convpool_status x86_conv_prepare_with(convpool_op *op, const float *weight,
                                             const float *bias, const cp_conv_kernels *k)
{
    x86_conv *xc = cp_calloc(1, sizeof *xc);
    if (!xc)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate packed Conv weights");
    xc->algo = choose_algo(op, k);
    xc->k = k;
    xc->groups = op->attrs.group;
    xc->cpg = op->c_per_group;
    xc->mpg = op->m / op->attrs.group;
    xc->taps = 1;
    for (int i = 0; i < op->attrs.rank; i++)
        xc->taps *= op->attrs.kernel_shape[i]; /* checked by op creation */
    xc->block = xc->algo == X86_CONV_GEMM || xc->algo == X86_CONV_ROWS ? k->gemm_mr
                : xc->algo == X86_CONV_DIRECT ? k->vw : 1;
    xc->blocks = ceil_div(xc->mpg, xc->block);
    size_t slots = (size_t)(xc->groups * xc->blocks * xc->block);
    size_t wcount = slots * (size_t)(xc->cpg * xc->taps);
    xc->w = cp_calloc(wcount, sizeof(float));
    xc->bias = cp_calloc(slots, sizeof(float));
    op->packed = xc;
    const size_t plain = (size_t)(op->m * xc->cpg * xc->taps);
    int plain_failed = 0;
    if (plain <= CP_CONV_TINY_MAX_WEIGHTS) {
        xc->plain_w = cp_alloc(plain * sizeof(float));
        xc->plain_bias = cp_calloc((size_t)op->m, sizeof(float));
        plain_failed = !xc->plain_w || !xc->plain_bias;
        if (!plain_failed) {
            memcpy(xc->plain_w, weight, plain * sizeof(float));
            if (bias)
                memcpy(xc->plain_bias, bias, (size_t)op->m * sizeof(float));
        }
    }
    if (!xc->w || !xc->bias || plain_failed) {
        x86_conv_release(op);
        op->packed = NULL;
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %zu packed weights",
                       wcount);
    }
    pack_weights(xc, weight, bias);
    return CONVPOOL_OK;
}

/* ---- run planning: shared by workspace_size and run -------------------- */

typedef struct x86_conv_plan {
    int64_t band_rows;   /* output rows per band (direct, depthwise) */
    int64_t bands;
    int64_t in_rows;     /* packed input rows per band and kernel depth */
    int64_t phases;      /* stride phases a packed row is split into */
    int64_t phase_len;   /* floats per phase row */
    int64_t row_pitch;   /* floats per packed row: phases * phase_len */
    int64_t chan_pitch;  /* floats per packed channel */
    int64_t pack_floats; /* per thread, rounded to 64 bytes */
    int64_t thread_floats; /* per thread: the pack, then (direct) the reduction
                            * steps of rows that skip taps in the padding */
    int64_t offset_count;/* reduction steps in the offset table */
    int64_t tasks_outer; /* batch x groups (or channels) x depth x bands */
    int64_t m_chunks;    /* output-channel chunks per outer task */
    int64_t m_chunk;     /* blocks per chunk (GEMM) or tiles per chunk (direct) */
    int64_t p_chunks;    /* GEMM: pixel chunks */
    int64_t p_chunk;     /* GEMM: pixel tiles per chunk */
    int unpacked;        /* depthwise, direct: read straight from the input (no pack) */
    int64_t mv;          /* direct: output-channel vectors per tile */
    int64_t row_parts;   /* direct: tasks a band's rows are split into (else 1) */
} x86_conv_plan;

static void plan_m_chunks(x86_conv_plan *p, int64_t outer, int64_t units)
{
    int64_t want = outer >= X86_CONV_TASK_TARGET ? 1 : ceil_div(X86_CONV_TASK_TARGET, outer);
    p->m_chunks = min64(want, units);
    p->m_chunk = ceil_div(units, p->m_chunks);
    p->m_chunks = ceil_div(units, p->m_chunk);
}

static int weights_outweigh_input(const x86_conv *xc, const cp_geom *g, int64_t channels)
{
    return xc->mpg * xc->cpg * xc->taps > channels * cp_geom_in_plane(g);
}

/*
 * Whether the direct kernel can read the input itself: every tap it would
 * read in the padding is one the codes and reduction lists leave out,
 * i.e. output columns other than the first and last read inside the row
 * (rows overhanging the padding and the two edge columns skip such taps).
 */
static int direct_reads_input(const cp_geom *g)
{
    const int64_t ow = g->out[2], sw = g->stride[2], pw = g->pad_begin[2];
    if (ow < 3)
        return 1;
    return sw - pw >= 0 && (ow - 2) * sw - pw + (g->kernel[2] - 1) * g->dilation[2] < g->in[2];
}

static void plan_bands(x86_conv_plan *p, const x86_conv *xc, const cp_geom *g,
                       int64_t channels, int64_t base_tasks)
{
    const int64_t oh = g->out[1];
    /* Every band streams the group's weights once more, every channel
     * chunk packs the band once more (per thread): where the weights
     * outweigh the input, split output channels, not rows, and let the
     * band take more of L2 (a tile's weights are the rest). */
    const int weights_heavier = weights_outweigh_input(xc, g, channels);
    int64_t bands = base_tasks >= X86_CONV_TASK_TARGET || weights_heavier
                        ? 1 : min64(oh, ceil_div(X86_CONV_TASK_TARGET, base_tasks));
    int64_t rows = ceil_div(oh, bands);
    for (;;) {
        p->band_rows = rows;
        p->in_rows = (rows - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dilation[1] + 1;
        p->chan_pitch = g->kernel[0] * p->in_rows * p->row_pitch;
        int64_t bytes = channels * p->chan_pitch * (int64_t)sizeof(float);
        if (rows == 1 ||
            bytes <= (weights_heavier ? X86_CONV_HEAVY_BAND_BYTES : X86_CONV_BAND_BYTES))
            break;
        rows = ceil_div(rows, 2);
    }
    p->bands = ceil_div(oh, p->band_rows);
    p->pack_floats = round_up(channels * p->chan_pitch, 16);
    p->thread_floats = p->pack_floats;
    p->tasks_outer = base_tasks * p->bands;
    (void)xc;
}

/*
 * How much longer than an even split `threads` threads take over the
 * direct tasks of plan p with tiles of mv vectors, a task costing its
 * vectors: the pool's guided claims (the thread free first takes the next
 * remaining / (2 * threads) tasks, at least one) played out.
 */
static double direct_imbalance(const x86_conv *xc, const x86_conv_plan *p, int64_t mv,
                               int32_t threads)
{
    double load[X86_CONV_BALANCE_MAX_THREADS] = {0};
    const int64_t tiles = ceil_div(xc->blocks, mv);
    const int64_t total = p->tasks_outer * xc->blocks, tasks = p->tasks_outer * p->m_chunks;
    for (int64_t t = 0; t < tasks;) {
        int32_t first = 0;
        for (int32_t i = 1; i < threads; i++)
            if (load[i] < load[first])
                first = i;
        int64_t claim = (tasks - t) / (2 * threads);
        for (int64_t end = t + (claim < 1 ? 1 : claim); t < end; t++) {
            int64_t chunk = t % p->m_chunks;
            int64_t b_lo = chunk * p->m_chunk * mv;
            int64_t b_hi = min64(min64((chunk + 1) * p->m_chunk, tiles) * mv, xc->blocks);
            load[first] += (double)(b_hi - b_lo);
        }
    }
    double longest = 0.0;
    for (int32_t i = 0; i < threads; i++)
        longest = load[i] > longest ? load[i] : longest;
    return longest * threads / (double)total;
}

/*
 * Output-channel vectors per direct tile. A tile of v vectors by p pixels
 * keeps v*p accumulators (the more, the better latency is hidden) and
 * loads v + p operands per step for v*p FMAs: it scores (v*p)^2 / (v + p),
 * averaged over rows of `ow` pixels cut into tiles of at most
 * direct_np_max pixels and over the group's vectors (a last tile of fewer
 * vectors counts as such); rows that two-row tiles take count twice their
 * pixels. Short rows (7 pixels) take more vectors, unless
 * a tile's weights and the band would not stay in L2 together (the tile
 * walks its weights once per output row). With several threads, fewer
 * vectors per tile are taken where that splits the work evenly and the
 * best score does not (32 vectors: 16 tiles of 2, not 10 of 3 and one of
 * 2). The tile shape does not change any element's summation order.
 */
static void plan_direct_tiles(const x86_conv *xc, int64_t ow, int32_t threads, x86_conv_plan *p)
{
    const int64_t step_bytes = xc->cpg * xc->taps * xc->k->vw * (int64_t)sizeof(float);
    int64_t best = 1;
    double best_score = 0.0;
    for (int64_t mv = 1; mv <= CP_CONV_DIRECT_MV_MAX && mv <= xc->blocks; mv++) {
        if (mv > 1 && mv * step_bytes + p->pack_floats * (int64_t)sizeof(float) >
                          X86_CONV_TILE_L2_BYTES)
            break;
        double col_tiles = (double)ceil_div(ow, xc->k->direct_np_max[mv - 1]);
        double vectors = (double)xc->blocks / (double)ceil_div(xc->blocks, mv);
        double pixels = (double)ow / col_tiles;
        if (mv == xc->k->direct2_mv && ow <= xc->k->direct2_np_max && p->band_rows > 1)
            pixels *= 2; /* two-row tiles (most rows pair) */
        double score = vectors * pixels * vectors * pixels / (vectors + pixels);
        if (score > best_score * 1.001) {
            best = mv;
            best_score = score;
        }
    }
    p->mv = best;
    plan_m_chunks(p, p->tasks_outer, ceil_div(xc->blocks, best));
    if (threads < 2 || threads > X86_CONV_BALANCE_MAX_THREADS ||
        p->tasks_outer * p->m_chunks > X86_CONV_BALANCE_MAX_TASKS ||
        direct_imbalance(xc, p, best, threads) <= X86_CONV_BALANCED)
        return;
    for (int64_t mv = best - 1; mv >= 2; mv--) {
        x86_conv_plan q = *p;
        plan_m_chunks(&q, q.tasks_outer, ceil_div(xc->blocks, mv));
        if (direct_imbalance(xc, &q, mv, threads) <= X86_CONV_BALANCED) {
            *p = q;
            p->mv = mv;
            return;
        }
    }
}

/* `threads`: how many take part in the run (tile shapes that split evenly) */
static void make_plan(const x86_conv *xc, const cp_geom *g, int32_t threads, x86_conv_plan *p)
{
    memset(p, 0, sizeof *p);
    p->row_parts = 1;
    const int64_t vw = xc->k->vw;
    if (xc->algo == X86_CONV_GEMM) {
        int64_t tile = (int64_t)xc->k->gemm_nv * vw;
        int64_t tiles = ceil_div(cp_geom_out_plane(g), tile);
        p->p_chunk = min64(tiles, 4);
        p->p_chunks = ceil_div(tiles, p->p_chunk);
        p->tasks_outer = g->n * xc->groups * p->p_chunks;
        plan_m_chunks(p, p->tasks_outer, xc->blocks);
        return;
    }
    const int64_t ow = g->out[2], sw = g->stride[2], kw_span = (g->kernel[2] - 1) * g->dilation[2];
    if (xc->algo == X86_CONV_DEPTHWISE || xc->algo == X86_CONV_ROWS) {
        /* Whole vectors past the row end stay inside the packed row. */
        p->phases = sw;
        p->phase_len = round_up(round_up(ow, vw) + kw_span / sw, 16);
        p->row_pitch = p->phases * p->phase_len;
    }
    if (xc->algo == X86_CONV_ROWS) {
        p->offset_count = xc->cpg * xc->taps;
        plan_bands(p, xc, g, xc->cpg, g->n * xc->groups * g->out[0]);
        plan_m_chunks(p, p->tasks_outer, xc->blocks);
        return;
    }
    if (xc->algo == X86_CONV_DEPTHWISE) {
        p->offset_count = xc->taps;
        plan_bands(p, xc, g, 1, g->n * xc->groups * g->out[0]);
        p->m_chunks = 1;
        p->unpacked = g->kernel[2] == 3 && g->dilation[2] == 1 && sw == 2 &&
                      g->kernel[0] * g->kernel[1] <= X86_CONV_DW_MAX_ROW_TAPS;
        if (p->unpacked) {
            p->pack_floats = p->thread_floats = 0;
            p->offset_count = 0;
        }
        return;
    }
    p->phases = 1;
    p->phase_len = (ow - 1) * sw + kw_span + 1;
    p->row_pitch = p->phase_len;
    p->offset_count = xc->cpg * xc->taps;
    plan_bands(p, xc, g, xc->cpg, g->n * xc->groups * g->out[0]);
    /* Where the kernel can, it reads the input in place (no copy, and no
     * thread waiting for one), if the input planes are small or outweighed
     * by the weights (larger ones are worth packing into L2-sized bands)
     * and not a multiple of 4 KiB (all channels' rows would fall in the
     * same L1 sets). */
    const int64_t plane_bytes = cp_geom_in_plane(g) * (int64_t)sizeof(float);
    p->unpacked = direct_reads_input(g) && plane_bytes % 4096 != 0 &&
                  (plane_bytes <= X86_CONV_IN_PLACE_PLANE_BYTES ||
                   weights_outweigh_input(xc, g, xc->cpg));
    if (p->unpacked) {
        p->row_pitch = g->in[2];
        p->chan_pitch = cp_geom_in_plane(g);
        p->pack_floats = 0;
    }
    plan_direct_tiles(xc, ow, threads, p);
    /* Few tasks (a deep layer on a small plane): halves of a band's rows
     * as tasks of their own, so that the last claims are small enough to
     * even out the threads; consecutive halves mostly go to one thread,
     * whose L2 still holds the tile's weights. */
    if (threads > 1 && p->tasks_outer * p->m_chunks < X86_CONV_TASK_TARGET && p->band_rows >= 4)
        p->row_parts = 2;
    /* compact tables: input offsets and weight codes, int64 each */
    p->thread_floats =
        p->pack_floats + round_up(X86_CONV_COMPACT_SLOTS * 2 * p->offset_count * 2, 16);
}

/* Reduction-step tables at the head of the workspace: input offsets and,
 * for the direct kernel, weight offsets. */
static size_t offsets_bytes(const x86_conv_plan *p)
{
    return (size_t)round_up(p->offset_count * (int64_t)sizeof(int64_t) * 2, CP_ALIGNMENT);
}

/* Whether this run takes the tiny path (no plan, no workspace). */
static int run_is_tiny(const x86_conv *xc, const cp_geom *g)
{
    return xc->plain_w && cp_conv_tiny_suits(g, xc->taps);
}

static size_t x86_conv_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    if (run_is_tiny(op->packed, g))
        return 0;
    x86_conv_plan p;
    make_plan(op->packed, g, threads, &p);
    return offsets_bytes(&p) + (size_t)threads * (size_t)p.thread_floats * sizeof(float);
}

/* ---- input packing ----------------------------------------------------- */

/*
 * Copies, for `channels` channels from x (channel stride in_plane), the
 * input rows a band of output rows reads at output depth od: layout
 * [channel][kd][row][phase][phase_len], zero where the window lies in the
 * padding. Phase ph of a row holds padded columns i*phases + ph, i.e.
 * src[i*phases + ph - pw]. Only input columns are written: the padding
 * columns are the same for every row and stay zero from the thread's first
 * band of the run (*zeroed says whether that happened). Wide strides
 * (phases > 2) copy column by column.
 */
static void pack_band(const x86_conv_plan *p, const cp_geom *g, const cp_conv_kernels *k,
                      const float *x, int64_t channels, int64_t od, int64_t oh0, float *dst,
                      unsigned char *zeroed)
{
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t pw = g->pad_begin[2], phases = p->phases, len = p->phase_len;
    const int64_t ih0 = oh0 * g->stride[1] - g->pad_begin[1];
    /* rows [r_lo, r_hi) of the band lie inside the input */
    const int64_t r_lo = min64(ih0 < 0 ? -ih0 : 0, p->in_rows);
    const int64_t r_hi = H - ih0 < r_lo ? r_lo : min64(H - ih0, p->in_rows);
    /* Input column iw goes to phase (iw + pw) % phases at (iw + pw) / phases.
     * The vector copy takes columns [0, n_vec), all of which land inside a
     * phase row; any later ones that still do are copied one by one. */
    int64_t n_vec = 0;
    if (phases == 1)
        n_vec = len - pw;
    else if (phases == 2)
        n_vec = 2 * (len - (pw + 1) / 2);
    n_vec = n_vec < 0 ? 0 : min64(n_vec, W);
    const int fresh = !*zeroed; /* all zero now: padding rows need no clearing */
    if (fresh) {
        memset(dst, 0, (size_t)(channels * p->chan_pitch) * sizeof(float));
        *zeroed = 1;
    }
    for (int64_t c = 0; c < channels; c++) {
        const float *xc = x + c * D * H * W;
        for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
            int64_t id = od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            float *plane = dst + c * p->chan_pitch + kd * p->in_rows * p->row_pitch;
            int inside = id >= 0 && id < D;
            /* rows in the padding: zero (an earlier band may have filled them) */
            for (int64_t r = 0; r < p->in_rows && !fresh; r++)
                if (!inside || r < r_lo || r >= r_hi)
                    memset(plane + r * p->row_pitch, 0, (size_t)p->row_pitch * sizeof(float));
            if (!inside || r_hi <= r_lo)
                continue;
            const float *src = xc + (id * H + ih0 + r_lo) * W;
            float *rows = plane + r_lo * p->row_pitch;
            /* the rows of the channel after next: short streams that the
             * hardware prefetcher picks up only after a few misses (batch
             * 8 3x3 64->64 on 56x56: the pack took 11% of the run, now 5%) */
            for (int64_t f = 0; c + 2 < channels && f < (r_hi - r_lo) * W; f += 16)
                __builtin_prefetch(src + 2 * D * H * W + f, 0, 3);
            if (n_vec > 0)
                k->pack_rows(src, W, r_hi - r_lo, n_vec, phases,
                             rows + (pw % phases) * len + pw / phases,
                             rows + ((pw + 1) % phases) * len + (pw + 1) / phases,
                             p->row_pitch);
            for (int64_t r = 0; r < r_hi - r_lo; r++)
                for (int64_t iw = n_vec; iw < W; iw++) {
                    int64_t i = (iw + pw) / phases;
                    if (i < len)
                        rows[r * p->row_pitch + ((iw + pw) % phases) * len + i] = src[r * W + iw];
                }
        }
    }
}

/* Where reduction step (c, kd, kh, kw) reads, relative to a pixel's window
 * origin in the packed band: channel 0's taps, then each further channel
 * at chan_pitch more (built every run: no division per step). */
static void make_offsets(const x86_conv_plan *p, const cp_geom *g, int64_t channels,
                         int64_t *off)
{
    const int64_t dw = g->dilation[2];
    int64_t k = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                int64_t col = kw * dw;
                off[k++] = (kd * p->in_rows + kh * g->dilation[1]) * p->row_pitch +
                           (col % p->phases) * p->phase_len + col / p->phases;
            }
    for (int64_t c = 1; c < channels; c++)
        for (int64_t t = 0; t < k; t++)
            off[c * k + t] = off[t] + c * p->chan_pitch;
}

/* make_offsets for the direct kernel reading the input in place: step
 * (c, kd, kh, kw) of the window whose origin (top left, in the padding
 * when pads are) is a row pointer at (od*sd, oh*sh, ow*sw) in the input. */
static void make_input_offsets(const cp_geom *g, int64_t channels, int64_t *off)
{
    const int64_t H = g->in[1], W = g->in[2];
    const int64_t origin = (g->pad_begin[0] * H + g->pad_begin[1]) * W + g->pad_begin[2];
    int64_t k = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++)
                off[k++] = (kd * g->dilation[0] * H + kh * g->dilation[1]) * W +
                           kw * g->dilation[2] - origin;
    for (int64_t c = 1; c < channels; c++)
        for (int64_t t = 0; t < k; t++)
            off[c * k + t] = off[t] + c * cp_geom_in_plane(g);
}

/* Whether tap t along one dimension reads padding for output position o
 * (input size `in`; stride, dilation and pad at the start along it). */
static int tap_in_padding(int64_t o, int64_t t, int64_t stride, int64_t dilation, int64_t pad,
                          int64_t in)
{
    int64_t i = o * stride - pad + t * dilation;
    return i < 0 || i >= in;
}

/* The direct kernel's weight offset of each reduction step, with the
 * edge bits that let a row's first (last) output pixel leave out the step
 * when its tap lies in the left (right) padding, and let two-row tiles
 * leave it out for output row 0 (the last output row) when its tap lies
 * in the padding above (below). Built for channel 0's taps, then repeated. */
static void make_direct_codes(int64_t steps, const cp_geom *g, int64_t vw, int64_t *codes)
{
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t taps = KD * KH * KW, last_row = g->out[1] - 1, last_col = g->out[2] - 1;
    for (int64_t t = 0; t < taps; t++) {
        int64_t kh = t / KW % KH, kw = t % KW;
        codes[t] = (t * vw) << CP_CONV_EDGE_BITS |
                   (tap_in_padding(0, kw, g->stride[2], g->dilation[2], g->pad_begin[2],
                                   g->in[2]) ? CP_CONV_EDGE_FIRST : 0) |
                   (tap_in_padding(last_col, kw, g->stride[2], g->dilation[2], g->pad_begin[2],
                                   g->in[2]) ? CP_CONV_EDGE_LAST : 0) |
                   (tap_in_padding(0, kh, g->stride[1], g->dilation[1], g->pad_begin[1],
                                   g->in[1]) ? CP_CONV_EDGE_TOP : 0) |
                   (tap_in_padding(last_row, kh, g->stride[1], g->dilation[1], g->pad_begin[1],
                                   g->in[1]) ? CP_CONV_EDGE_BOTTOM : 0);
    }
    /* from channel 0's codes, not the previous ones: no chain through memory */
    for (int64_t k0 = taps; k0 < steps; k0 += taps)
        for (int64_t t = 0; t < taps; t++)
            codes[k0 + t] = codes[t] + ((k0 * vw) << CP_CONV_EDGE_BITS);
}

/* ---- tasks ------------------------------------------------------------- */

typedef struct x86_conv_job {
    const cp_run_args *a;
    const x86_conv *xc;
    x86_conv_plan plan;
    const int64_t *offsets;
    const int64_t *w_offsets; /* direct: weight codes (make_direct_codes) */
    float *pack; /* per thread: thread_floats each */
    unsigned char zeroed[CP_MAX_THREADS_PER_RUN]; /* per thread: pack padding cleared */
    int shared_pack; /* the one band is packed once, in thread 0's pack, for all */
    int64_t packed_outer[CP_MAX_THREADS_PER_RUN]; /* per thread: band in its pack, or -1 */
    /* per thread: which taps its compact tables hold (row_reduction), or -1 */
    int64_t compact_keys[CP_MAX_THREADS_PER_RUN][X86_CONV_COMPACT_SLOTS];
} x86_conv_job;

static void gemm_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const int64_t plane = cp_geom_out_plane(g), tile = (int64_t)k->gemm_nv * k->vw;
    const int64_t mr = xc->block;
    for (int64_t t = begin; t < end; t++) {
        int64_t mc = t % job->plan.m_chunks, rest = t / job->plan.m_chunks;
        int64_t pc = rest % job->plan.p_chunks, ng = rest / job->plan.p_chunks;
        int64_t n = ng / xc->groups, grp = ng % xc->groups;
        const float *x = job->a->x + (n * g->c + grp * xc->cpg) * plane;
        float *y = job->a->y + (n * g->m + grp * xc->mpg) * plane;
        int64_t b_lo = mc * job->plan.m_chunk, b_hi = min64(b_lo + job->plan.m_chunk, xc->blocks);
        int64_t pt_lo = pc * job->plan.p_chunk;
        int64_t pt_hi = min64(pt_lo + job->plan.p_chunk, ceil_div(plane, tile));
        for (int64_t pt = pt_lo; pt < pt_hi; pt++) {
            int64_t q = pt * tile, np = min64(tile, plane - q);
            for (int64_t b = b_lo; b < b_hi; b++) {
                int64_t slot = grp * xc->blocks + b;
                k->gemm(xc->cpg, x + q, plane, xc->w + slot * xc->cpg * mr, xc->bias + slot * mr,
                        y + b * mr * plane + q, plane, xc->mpg - b * mr, np);
            }
        }
    }
}

/* *t % count, leaving *t / count; no division for the common count 1
 * (tiny ops pay for every divide). */
static int64_t split_index(int64_t *t, int64_t count)
{
    if (count == 1)
        return 0;
    int64_t r = *t % count;
    *t /= count;
    return r;
}

/* Decodes an outer task index into image, group, output depth and band. */
static void decode_outer(const x86_conv_job *job, int64_t t, int64_t groups, int64_t *n,
                         int64_t *grp, int64_t *od, int64_t *oh0, int64_t *oh1)
{
    const cp_geom *g = job->a->geom;
    int64_t band = split_index(&t, job->plan.bands);
    *od = split_index(&t, g->out[0]);
    *grp = split_index(&t, groups);
    *n = t;
    *oh0 = band * job->plan.band_rows;
    *oh1 = min64(*oh0 + job->plan.band_rows, g->out[1]);
}

/*
 * Depthwise with three taps along W at stride 2, from the input itself:
 * output rows whose windows lie wholly inside the input in D and H go to
 * the kernel together; the others one by one, with only their inside taps.
 */
static void depthwise_unpacked(const x86_conv *xc, const cp_geom *g, const float *x, int64_t m,
                               int64_t od, int64_t oh0, int64_t oh1, float *y)
{
    const int64_t H = g->in[1], W = g->in[2], KH = g->kernel[1];
    const int64_t sh = g->stride[1], ph = g->pad_begin[1], dh = g->dilation[1];
    int64_t d_lo, d_hi;
    cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0, g->in[0],
                 &d_lo, &d_hi);
    int64_t tap_rows[X86_CONV_DW_MAX_ROW_TAPS];
    float tap_w[3 * X86_CONV_DW_MAX_ROW_TAPS];
    const float *w = xc->w + m * xc->taps;
    int64_t oh = oh0;
    while (oh < oh1) {
        int64_t h_lo, h_hi;
        cp_tap_range(oh, sh, ph, dh, KH, 0, H, &h_lo, &h_hi);
        /* rows with the same (full) tap range go together */
        int64_t rows = 1;
        if (h_lo == 0 && h_hi == KH)
            while (oh + rows < oh1 && (oh + rows) * sh - ph + (KH - 1) * dh < H)
                rows++;
        int64_t taps = 0;
        for (int64_t kd = d_lo; kd < d_hi; kd++) {
            int64_t id = od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            for (int64_t kh = h_lo; kh < h_hi; kh++, taps++) {
                tap_rows[taps] = (id * H + oh * sh - ph + kh * dh) * W;
                memcpy(tap_w + 3 * taps, w + (kd * KH + kh) * 3, 3 * sizeof(float));
            }
        }
        xc->k->depthwise3s2(taps, tap_rows, tap_w, x, sh * W, W, g->pad_begin[2], xc->bias[m],
                            y + oh * g->out[2], g->out[2], rows, g->out[2]);
        oh += rows;
    }
}

static void depthwise_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const x86_conv_plan *p = &job->plan;
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    float *pack = job->pack + thread_index * p->thread_floats;
    /* rows of three taps at dilation 1 and stride 1 or 2 have their own kernel */
    const int three_taps = g->kernel[2] == 3 && g->dilation[2] == 1 && g->stride[2] <= 2;
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, oh0, oh1;
        decode_outer(job, t, xc->groups, &n, &grp, &od, &oh0, &oh1);
        if (p->unpacked) {
            for (int64_t j = 0; j < xc->mpg; j++) {
                int64_t m = grp * xc->mpg + j;
                depthwise_unpacked(xc, g, job->a->x + (n * g->c + grp) * in_plane, m, od, oh0,
                                   oh1, job->a->y + (n * g->m + m) * out_plane +
                                            od * g->out[1] * g->out[2]);
            }
            continue;
        }
        pack_band(p, g, xc->k, job->a->x + (n * g->c + grp) * in_plane, 1, od, oh0, pack,
                  &job->zeroed[thread_index]);
        for (int64_t j = 0; j < xc->mpg; j++) {
            int64_t m = grp * xc->mpg + j;
            float *y = job->a->y + (n * g->m + m) * out_plane + od * g->out[1] * g->out[2];
            if (three_taps)
                xc->k->depthwise3(g->stride[2], xc->taps / 3, job->offsets, p->phase_len, pack,
                                  g->stride[1] * p->row_pitch, xc->w + m * xc->taps,
                                  xc->bias[m], y + oh0 * g->out[2], g->out[2], oh1 - oh0,
                                  g->out[2]);
            else
                xc->k->depthwise(xc->taps, job->offsets, pack, g->stride[1] * p->row_pitch,
                                 xc->w + m * xc->taps, xc->bias[m], y + oh0 * g->out[2],
                                 g->out[2], oh1 - oh0, g->out[2]);
        }
    }
}

/* Decodes direct or rows task t into image, group, depth, band and
 * output-channel chunk, and packs the band's input unless this thread's
 * pack holds it already (an earlier chunk of the same band). */
static void start_band_task(x86_conv_job *job, int64_t t, int32_t thread_index, float *pack,
                            int64_t *n, int64_t *grp, int64_t *od, int64_t *oh0, int64_t *oh1,
                            int64_t *mc)
{
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    int64_t outer = t / job->plan.m_chunks;
    *mc = t % job->plan.m_chunks;
    decode_outer(job, outer, xc->groups, n, grp, od, oh0, oh1);
    int64_t *packed_outer = &job->packed_outer[thread_index];
    if (!job->plan.unpacked && outer != *packed_outer) {
        pack_band(&job->plan, g, xc->k,
                  job->a->x + (*n * g->c + *grp * xc->cpg) * cp_geom_in_plane(g), xc->cpg, *od,
                  *oh0, pack, &job->zeroed[thread_index]);
        *packed_outer = outer;
    }
}

/* Packs chunk t of min(cpg, X86_CONV_TASK_TARGET) chunks of the input
 * channels of the run's one band into thread 0's pack. */
static void shared_pack_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const int64_t chunks = min64(xc->cpg, X86_CONV_TASK_TARGET);
    int64_t n, grp, od, oh0, oh1;
    decode_outer(job, 0, xc->groups, &n, &grp, &od, &oh0, &oh1);
    for (int64_t t = begin; t < end; t++) {
        int64_t c0 = t * xc->cpg / chunks, c1 = (t + 1) * xc->cpg / chunks;
        unsigned char zeroed = 0;
        pack_band(&job->plan, g, xc->k,
                  job->a->x + (n * g->c + grp * xc->cpg + c0) * cp_geom_in_plane(g), c1 - c0,
                  od, oh0, job->pack + c0 * job->plan.chan_pitch, &zeroed);
    }
}

/* Whether every tap along dimension dim (0 depth, 1 height) of output
 * position o reads inside the input. */
static int all_taps_inside(const cp_geom *g, int dim, int64_t o)
{
    int64_t lo, hi;
    cp_tap_range(o, g->stride[dim], g->pad_begin[dim], g->dilation[dim], g->kernel[dim], 0,
                 g->in[dim], &lo, &hi);
    return lo == 0 && hi == g->kernel[dim];
}

/*
 * The reduction steps of output row (od, oh): all of them, or, where the
 * window overhangs the top or bottom (or depth) padding, only the taps
 * inside, listed in one of the X86_CONV_COMPACT_SLOTS tables at `compact`
 * (input offsets, then weight codes; kept while the same taps are needed,
 * keys[slot] names them): rows in the top half use the first, the others
 * the second, so that a tile's top and bottom rows do not rebuild them.
 * Skipping a tap that reads padding only drops an exact +0 from the sum.
 * Returns the count.
 */
static int64_t row_reduction(const x86_conv_job *job, int64_t od, int64_t oh, int64_t *compact,
                             int64_t *keys, const int64_t **x_off, const int64_t **w_off)
{
    const cp_geom *g = job->a->geom;
    const x86_conv *xc = job->xc;
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t steps = xc->cpg * xc->taps;
    int64_t d_lo, d_hi, h_lo, h_hi;
    cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], KD, 0, g->in[0], &d_lo,
                 &d_hi);
    cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], KH, 0, g->in[1], &h_lo,
                 &h_hi);
    if (d_lo == 0 && d_hi == KD && h_lo == 0 && h_hi == KH)
        return steps;
    int64_t count = (d_hi - d_lo) * (h_hi - h_lo) * KW * xc->cpg;
    int64_t want = ((d_lo * (KD + 1) + d_hi) * (KH + 1) + h_lo) * (KH + 1) + h_hi;
    int64_t slot = 2 * oh < g->out[1] ? 0 : 1;
    compact += slot * 2 * steps;
    if (keys[slot] != want) {
        int64_t i = 0;
        for (int64_t c = 0; c < xc->cpg; c++)
            for (int64_t kd = d_lo; kd < d_hi; kd++)
                for (int64_t kh = h_lo; kh < h_hi; kh++)
                    for (int64_t kw = 0; kw < KW; kw++, i++) {
                        int64_t k = ((c * KD + kd) * KH + kh) * KW + kw;
                        compact[i] = job->offsets[k];
                        compact[steps + i] = job->w_offsets[k];
                    }
        keys[slot] = want;
    }
    *x_off = compact;
    *w_off = compact + steps;
    return count;
}

static void direct_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const x86_conv_plan *p = &job->plan;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t ow = g->out[2], sw = g->stride[2], vw = k->vw;
    const int64_t steps = xc->cpg * xc->taps;
    const int stride_class = sw == 1 ? 1 : sw == 2 ? 2 : 0;
    float *own = job->pack + thread_index * p->thread_floats;
    float *pack = job->shared_pack ? job->pack : own;
    int64_t *compact = (int64_t *)(own + p->pack_floats);
    int64_t *compact_keys = job->compact_keys[thread_index];
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, band0, band1, mc;
        int64_t part = t % p->row_parts;
        start_band_task(job, t / p->row_parts, thread_index, pack, &n, &grp, &od, &band0,
                        &band1, &mc);
        /* the band's first row: packed, or in the input */
        const float *band = pack;
        if (p->unpacked)
            band = job->a->x + (n * g->c + grp * xc->cpg) * cp_geom_in_plane(g) +
                   (od * g->stride[0] * g->in[1] + band0 * g->stride[1]) * g->in[2];
        /* this task's rows of the band: parts start at even rows (pairs) */
        int64_t part_rows = round_up(ceil_div(band1 - band0, p->row_parts), 2);
        int64_t oh0 = min64(band0 + part * part_rows, band1);
        int64_t oh1 = min64(oh0 + part_rows, band1);
        int64_t tiles = ceil_div(xc->blocks, p->mv);
        int64_t mt_lo = mc * p->m_chunk, mt_hi = min64(mt_lo + p->m_chunk, tiles);
        for (int64_t mt = mt_lo; mt < mt_hi; mt++) {
            int64_t b0 = p->mv * mt, mv = min64(p->mv, xc->blocks - b0);
            int64_t slot = grp * xc->blocks + b0;
            const float *w = xc->w + slot * steps * vw;
            const float *bias = xc->bias + slot * vw;
            int64_t np_max = k->direct_np_max[mv - 1];
            int64_t col_tiles = ceil_div(ow, np_max);
            float *y = job->a->y + (n * g->m + grp * xc->mpg + b0 * vw) * out_plane +
                       od * g->out[1] * ow;
            /* Whole rows of the two-row tile's width and vectors go in
             * pairs where both take every reduction step, but for taps
             * in the padding of output row 0 (first of a pair) or of the
             * last output row (second of a pair), which the codes mark. */
            const int pairs = mv == k->direct2_mv && ow <= k->direct2_np_max &&
                              all_taps_inside(g, 0, od);
            const int64_t x_row = g->stride[1] * p->row_pitch, last_row = g->out[1] - 1;
            for (int64_t oh = oh0; oh < oh1;) {
                const float *row = band + (oh - band0) * x_row;
                if (pairs && oh + 1 < oh1 && (oh == 0 || all_taps_inside(g, 1, oh)) &&
                    (oh + 1 == last_row || all_taps_inside(g, 1, oh + 1))) {
                    int64_t edges = CP_CONV_EDGE_FIRST | CP_CONV_EDGE_LAST |
                                    (oh == 0 ? CP_CONV_EDGE_TOP : 0) |
                                    (oh + 1 == last_row ? CP_CONV_EDGE_BOTTOM : 0);
                    k->direct2[stride_class][ow - 1](sw, steps, job->offsets, job->w_offsets,
                                                     row, x_row, w, steps * vw, bias,
                                                     y + oh * ow, out_plane, ow,
                                                     xc->mpg - b0 * vw, edges);
                    oh += 2;
                    continue;
                }
                const int64_t *x_off = job->offsets, *w_off = job->w_offsets;
                int64_t row_steps = row_reduction(job, od, oh, compact, compact_keys, &x_off,
                                                  &w_off);
                /* Tiles of near-equal width: no narrow leftover tile. */
                for (int64_t ct = 0; ct < col_tiles; ct++) {
                    int64_t c0 = ct * ow / col_tiles, c1 = (ct + 1) * ow / col_tiles;
                    int64_t edges = (c0 == 0 ? CP_CONV_EDGE_FIRST : 0) |
                                    (c1 == ow ? CP_CONV_EDGE_LAST : 0);
                    k->direct[mv - 1][stride_class][c1 - c0 - 1](
                        sw, row_steps, x_off, w_off, row + c0 * sw, w, steps * vw, bias,
                        y + oh * ow + c0, out_plane, xc->mpg - b0 * vw, edges);
                }
                oh++;
            }
        }
    }
}

static void rows_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const x86_conv_plan *p = &job->plan;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t ow = g->out[2], mr = xc->block, tile = (int64_t)k->gemm_nv * k->vw;
    const int64_t steps = xc->cpg * xc->taps;
    float *pack = job->shared_pack ? job->pack : job->pack + thread_index * p->thread_floats;
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, oh0, oh1, mc;
        start_band_task(job, t, thread_index, pack, &n, &grp, &od, &oh0, &oh1, &mc);
        int64_t b_lo = mc * p->m_chunk, b_hi = min64(b_lo + p->m_chunk, xc->blocks);
        for (int64_t b = b_lo; b < b_hi; b++) {
            int64_t slot = grp * xc->blocks + b;
            float *y = job->a->y + (n * g->m + grp * xc->mpg + b * mr) * out_plane +
                       od * g->out[1] * ow;
            for (int64_t oh = oh0; oh < oh1; oh++) {
                const float *row = pack + (oh - oh0) * g->stride[1] * p->row_pitch;
                for (int64_t c0 = 0; c0 < ow; c0 += tile)
                    k->rows(steps, job->offsets, row + c0, xc->w + slot * steps * mr,
                            xc->bias + slot * mr, y + oh * ow + c0, out_plane,
                            xc->mpg - b * mr, min64(tile, ow - c0));
            }
        }
    }
}

static void x86_conv_run(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    const cp_geom *g = a->geom;
    if (run_is_tiny(xc, g)) {
        cp_conv_tiny(g, xc->plain_w, xc->plain_bias, a->x, a->y);
        return;
    }
    x86_conv_job job;
    job.a = a;
    job.xc = xc;
    int64_t work = g->n * g->m * cp_geom_out_plane(g) * xc->cpg * xc->taps;
    int32_t threads = cp_threads_for_work(work, X86_CONV_MIN_WORK_PER_THREAD);
    if (threads > cp_context_threads(a->ctx))
        threads = cp_context_threads(a->ctx);
    make_plan(xc, g, threads, &job.plan);
    if (xc->algo == X86_CONV_GEMM) {
        cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks, threads, gemm_task,
                        &job);
        return;
    }
    memset(job.zeroed, 0, (size_t)cp_context_threads(a->ctx));
    for (int32_t i = 0; i < cp_context_threads(a->ctx); i++) {
        job.packed_outer[i] = -1;
        for (int j = 0; j < X86_CONV_COMPACT_SLOTS; j++)
            job.compact_keys[i][j] = -1;
    }
    int64_t *offsets = a->workspace;
    if (xc->algo == X86_CONV_DIRECT && job.plan.unpacked)
        make_input_offsets(g, xc->cpg, offsets);
    else if (job.plan.offset_count)
        make_offsets(&job.plan, g, xc->algo == X86_CONV_DEPTHWISE ? 1 : xc->cpg, offsets);
    job.offsets = offsets;
    job.w_offsets = offsets + job.plan.offset_count;
    if (xc->algo == X86_CONV_DIRECT)
        make_direct_codes(job.plan.offset_count, g, xc->k->vw, offsets + job.plan.offset_count);
    job.pack = (float *)((char *)a->workspace + offsets_bytes(&job.plan));
    job.shared_pack = 0;
    if (xc->algo != X86_CONV_DEPTHWISE && !job.plan.unpacked && threads > 1 &&
        job.plan.tasks_outer == 1 && job.plan.m_chunks >= threads) {
        /* Every task reads the same band: pack it once, split over the
         * threads, rather than once per thread. */
        cp_parallel_for(a->ctx, min64(xc->cpg, X86_CONV_TASK_TARGET), threads, shared_pack_task,
                        &job);
        job.shared_pack = 1;
        for (int32_t i = 0; i < cp_context_threads(a->ctx); i++)
            job.packed_outer[i] = 0;
    }
    cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks * job.plan.row_parts,
                    threads, xc->algo == X86_CONV_DIRECT ? direct_task
                    : xc->algo == X86_CONV_ROWS ? rows_task : depthwise_task, &job);
}

static convpool_status prepare_avx2(convpool_op *op, const float *weight, const float *bias)
{
    return x86_conv_prepare_with(op, weight, bias, &cp_conv_kernels_avx2);
}

static convpool_status prepare_avx512(convpool_op *op, const float *weight, const float *bias)
{
    return x86_conv_prepare_with(op, weight, bias, &cp_conv_kernels_avx512);
}

const cp_impl cp_impl_conv_avx512 = {
    .name = "conv.avx512",
    .kind = CONVPOOL_OP_CONV,
    .isa = CONVPOOL_ISA_AVX512,
    .prepare = prepare_avx512,
    .release = x86_conv_release,
    .workspace_size = x86_conv_workspace_size,
    .run = x86_conv_run,
};

const cp_impl cp_impl_conv_avx2 = {
    .name = "conv.avx2",
    .kind = CONVPOOL_OP_CONV,
    .isa = CONVPOOL_ISA_AVX2,
    .prepare = prepare_avx2,
    .release = x86_conv_release,
    .workspace_size = x86_conv_workspace_size,
    .run = x86_conv_run,
};

#endif
