/*
 * The x86 convolution fast paths' entry points (kernels/x86/conv_x86.h describes
 * the algorithms and the other parts): the algorithm choice, weight
 * packing (prepare, release), run and the AVX-512 and AVX2 cp_impl tables.
 */
#include "kernels/x86/conv_x86.h"

#include <string.h>

#include "kernels/x86/conv_x86_im2col.h"
#include "kernels/x86/conv_x86_winograd.h"
#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Multiply-adds below which a second thread costs more than it saves. */
#define X86_CONV_MIN_WORK_PER_THREAD (1 << 17)
/* Up to this many input channels per group (the stem's 3), the row kernel
 * (vectors along output rows) beats the direct one, whose transposed store
 * is then not paid for by a long reduction. */
#define X86_CONV_ROWS_MAX_CHANNELS 4
/* On AVX-512, direct ops with up to this many reduction steps (input
 * channels per group x taps: 64 channels of 3x3) and stride 1 also keep
 * their weights for the row kernel's tall tile, which runs them where a
 * direct tile's output rows would share a few L1 sets (cp_x86_conv_for).
 * On AVX2, whose direct tiles hold half as many channel rows, the same
 * switch measured 0.95x-1.04x the time: not taken. */
#define X86_CONV_ROWS_ALT_MAX_STEPS 576
/* GEMM-shaped tiles (the 1x1 GEMM, the row kernel) of at most this many
 * reduction steps store in a mode of their own where the op's output is
 * at least twice L2 (store_mode). Such a tile stores a vector every 27 to
 * 64 FMAs into memory beyond L2, and those stores took time the FMAs
 * could not hide. On AMD (a Zen 5, docs/performance.md) two 256-bit halves
 * a vector helped: VGG's first layer (3 -> 64 on 224 x 224, 27 steps)
 * 0.96-0.98 of the time at 1 thread, 1x1 64 -> 256 on 56 x 56 0.96-0.99,
 * while a prefetch of the next output lines was 1.02-1.11x slower. On
 * Intel (a Sapphire Rapids-class Xeon) the halves were level and the
 * prefetch of each line one tile ahead gave VGG's first layer 0.91-0.94
 * of the time at 1 thread and 0.95 at 2. Outputs within L2, longer
 * reductions (the stem, 147 steps; 576) and the depthwise kernel measured
 * slower either way and store plainly. */
#define X86_CONV_STORE_MODE_MAX_STEPS 64
/* Channel multipliers up to this go to the depthwise kernel; above, the
 * direct kernel fills its output-channel vectors better. */
#define X86_CONV_DEPTHWISE_MAX_MULTIPLIER 4

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
    /* A few output channels (the stem's dx, a DCGAN output layer) would
     * fill a direct tile's channel vector a few lanes wide: the narrow row
     * tile puts pixels along the vectors instead. */
    if (mpg <= k->narrow_mr)
        return X86_CONV_ROWS;
    return X86_CONV_DIRECT;
}

/*
 * The rows algorithm's tile: the narrow one for at most narrow_mr output
 * channels per group; else the tall one where it pads the channels to
 * fewer (on AVX-512 64 = 8 x 8 against 11 x 6, 32, 16), the GEMM-shaped
 * one where both pad alike (96, 24) or it pads less (6): its wider pixel
 * tiles leave fewer tiles a row. On AVX-512 the tall tile ran 3 -> 32 and
 * 3 -> 16 channels at stride 2 (MobileNet's, EfficientNet's first layers)
 * 7% faster, the ResNet stem 3% and VGG's first layer 1%.
 */
static void choose_rows_tile(x86_conv *xc, const cp_conv_kernels *k)
{
    if (xc->mpg <= k->narrow_mr) {
        xc->block = k->narrow_mr;
        xc->rows_fn = k->rows_narrow;
        xc->rows_nv = k->narrow_nv;
    } else if (round_up(xc->mpg, k->tall_mr) < round_up(xc->mpg, k->gemm_mr)) {
        xc->block = k->tall_mr;
        xc->rows_fn = k->rows_tall;
        xc->rows_nv = k->tall_nv;
    } else {
        xc->block = k->gemm_mr;
        xc->rows_fn = k->rows;
        xc->rows_nv = k->gemm_nv;
    }
}

static void free_packed(x86_conv *xc)
{
    if (xc) {
        free_packed(xc->rows_alt);
        cp_x86_wino_release(xc->wino);
        cp_x86_im2col_release(xc->im2col);
        cp_free(xc->w);
        cp_free(xc->bias);
        cp_free(xc->plain_w);
        cp_free(xc->plain_bias);
        cp_free(xc);
    }
}

static void x86_conv_release(convpool_op *op)
{
    free_packed(op->packed);
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

/* The op's weights packed for algorithm `algo`, or NULL (out of memory). */
static x86_conv *pack_for(const convpool_op *op, const float *weight, const float *bias,
                          const cp_conv_kernels *k, x86_conv_algo algo)
{
    x86_conv *xc = cp_calloc(1, sizeof *xc);
    if (!xc)
        return NULL;
    xc->algo = algo;
    xc->k = k;
    xc->groups = op->attrs.group;
    xc->cpg = op->c_per_group;
    xc->mpg = op->m / op->attrs.group;
    xc->taps = 1;
    for (int i = 0; i < op->attrs.rank; i++)
        xc->taps *= op->attrs.kernel_shape[i]; /* checked by op creation */
    xc->block = xc->algo == X86_CONV_GEMM ? k->gemm_mr : xc->algo == X86_CONV_DIRECT ? k->vw : 1;
    if (xc->algo == X86_CONV_ROWS)
        choose_rows_tile(xc, k);
    xc->blocks = ceil_div(xc->mpg, xc->block);
    size_t slots = (size_t)(xc->groups * xc->blocks * xc->block);
    size_t wcount = slots * (size_t)(xc->cpg * xc->taps);
    xc->w = cp_calloc(wcount, sizeof(float));
    xc->bias = cp_calloc(slots, sizeof(float));
    if (!xc->w || !xc->bias) {
        free_packed(xc);
        return NULL;
    }
    pack_weights(xc, weight, bias);
    return xc;
}

/* Whether a direct op also keeps its weights for the row kernel's tall
 * tile (see X86_CONV_ROWS_ALT_MAX_STEPS). */
static int wants_rows_alt(const convpool_op *op, const x86_conv *xc)
{
    if (xc->algo != X86_CONV_DIRECT || xc->k->vw < 16 ||
        xc->cpg * xc->taps > X86_CONV_ROWS_ALT_MAX_STEPS || xc->mpg <= xc->k->narrow_mr)
        return 0;
    for (int i = 0; i < op->attrs.rank; i++)
        if (op->attrs.strides[i] != 1)
            return 0;
    return 1;
}

static convpool_status x86_conv_prepare_with(convpool_op *op, const float *weight,
                                             const float *bias, const cp_conv_kernels *k)
{
    x86_conv *xc = pack_for(op, weight, bias, k, choose_algo(op, k));
    if (!xc)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate packed Conv weights");
    op->packed = xc;
    int failed = 0;
    if (wants_rows_alt(op, xc)) {
        xc->rows_alt = pack_for(op, weight, bias, k, X86_CONV_ROWS);
        failed = !xc->rows_alt;
    }
    if (!failed) {
        convpool_status st = cp_x86_wino_prepare(op, xc, weight, bias);
        if (st == CONVPOOL_OK)
            st = cp_x86_im2col_prepare(op, xc, weight, bias);
        if (st != CONVPOOL_OK) {
            x86_conv_release(op);
            op->packed = NULL;
            return st;
        }
    }
    const size_t plain = (size_t)(op->m * xc->cpg * xc->taps);
    if (!failed && plain <= X86_CONV_TINY_MAX_WORK) {
        xc->plain_w = cp_alloc(plain * sizeof(float));
        xc->plain_bias = cp_calloc((size_t)op->m, sizeof(float));
        failed = !xc->plain_w || !xc->plain_bias;
        if (!failed) {
            memcpy(xc->plain_w, weight, plain * sizeof(float));
            if (bias)
                memcpy(xc->plain_bias, bias, (size_t)op->m * sizeof(float));
        }
    }
    if (failed) {
        x86_conv_release(op);
        op->packed = NULL;
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate packed Conv weights");
    }
    return CONVPOOL_OK;
}

static void run_job(const cp_run_args *a, const x86_conv_d2s *d2s);
static int store_mode(const x86_conv *xc, const cp_geom *g);

static void x86_conv_run(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    const cp_geom *g = a->geom;
    if (cp_x86_conv_run_is_tiny(xc, g)) {
        cp_conv_tiny(g, xc->plain_w, xc->plain_bias, a->x, a->y);
        return;
    }
    if (cp_x86_im2col_takes(xc, g)) {
        cp_x86_im2col_run(a);
        return;
    }
    /* Winograd, or the direct algorithm where it met an infinity or NaN */
    if (cp_x86_wino_takes(xc, g) && cp_x86_wino_run(a))
        return;
    run_job(a, NULL);
}

/* A job over a whole run of xc (every pixel of every image, stored
 * plainly at y), and in *threads how many threads it is worth. */
static x86_conv_job whole_run_job(const cp_run_args *a, const x86_conv *xc, int32_t *threads)
{
    x86_conv_job job = {.a = a, .xc = xc, .y = a->y, .store = store_mode(xc, a->geom)};
    job.pixels = job.y_stride = cp_geom_out_plane(a->geom);
    *threads = cp_threads_for_work(cp_x86_conv_work(xc, a->geom), X86_CONV_MIN_WORK_PER_THREAD);
    if (*threads > cp_context_threads(a->ctx))
        *threads = cp_context_threads(a->ctx);
    return job;
}

void cp_x86_conv_run_tiled(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    int32_t threads;
    x86_conv_job job = whole_run_job(a, xc, &threads);
    job.tiled_x = 1;
    cp_x86_conv_plan_tiled(xc, job.pixels, &job.plan);
    if (threads <= 1) { /* each pixel tile meets all blocks while in L1 */
        job.plan.m_chunks = 1;
        job.plan.m_chunk = xc->blocks;
    }
    cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks, threads,
                    cp_x86_conv_gemm_task, &job);
}

/* A pointwise op stored depth to space; pointwise ops always take the GEMM
 * algorithm (choose_algo), whose tasks do the store. */
static void x86_conv_run_depth_to_space(const cp_run_args *a, const int64_t *block,
                                        const int64_t *y_dims)
{
    const x86_conv *xc = a->op->packed;
    const cp_geom *g = a->geom;
    x86_conv_d2s d = {.k = 1, .m = g->m};
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        d.block[i] = block[i];
        d.k *= block[i];
        d.out[i] = y_dims[i];
    }
    d.m /= d.k;
    d.image = d.m * d.out[0] * d.out[1] * d.out[2];
    if (!cp_x86_conv_run_is_tiny(xc, g)) {
        run_job(a, &d);
        return;
    }
    /* a tiny run's whole output (at most its work) goes through a buffer */
    float buf[X86_CONV_TINY_MAX_WORK];
    cp_conv_tiny(g, xc->plain_w, xc->plain_bias, a->x, buf);
    const int64_t plane = cp_geom_out_plane(g);
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t q = 0; q < plane; q += CP_CONV_GEMM_TILE_PIXELS_MAX)
            cp_x86_conv_d2s_store(xc->k, &d, g, buf + n * g->m * plane + q, plane,
                                  a->y + n * d.image, 0, g->m, q,
                                  min64(CP_CONV_GEMM_TILE_PIXELS_MAX, plane - q));
}

/* The GEMM and row tiles' CP_CONV_STORE_* mode for a run of xc on g that
 * stores into the output (see X86_CONV_STORE_MODE_MAX_STEPS). */
static int store_mode(const x86_conv *xc, const cp_geom *g)
{
    if ((xc->algo != X86_CONV_GEMM && xc->algo != X86_CONV_ROWS) ||
        xc->cpg * xc->taps > X86_CONV_STORE_MODE_MAX_STEPS)
        return CP_CONV_STORE_PLAIN;
    const int64_t out_bytes = g->n * g->m * cp_geom_out_plane(g) * (int64_t)sizeof(float);
    if (out_bytes < 2 * (int64_t)cp_cache()->l2_bytes)
        return CP_CONV_STORE_PLAIN;
    return cp_cache()->vendor == CP_CPU_INTEL ? CP_CONV_STORE_AHEAD : CP_CONV_STORE_HALVES;
}

static void run_job(const cp_run_args *a, const x86_conv_d2s *d2s)
{
    const x86_conv *xc = cp_x86_conv_for(a->op->packed, a->geom);
    const cp_geom *g = a->geom;
    int32_t threads;
    x86_conv_job job = whole_run_job(a, xc, &threads);
    job.d2s = d2s;
    cp_x86_conv_make_plan(xc, g, threads, d2s != NULL, a->x, a->y, &job.plan);
    if (xc->algo == X86_CONV_GEMM) {
        job.pack = (float *)((char *)a->workspace + cp_x86_conv_offsets_bytes(&job.plan) +
                             cp_x86_conv_thread_bytes(cp_context_threads(a->ctx)));
        cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks, threads,
                        cp_x86_conv_gemm_task, &job);
        return;
    }
    int64_t *offsets = a->workspace;
    if (xc->algo == X86_CONV_DIRECT && job.plan.unpacked)
        cp_x86_conv_make_input_offsets(g, xc->cpg, offsets);
    else if (job.plan.offset_count)
        cp_x86_conv_make_offsets(&job.plan, g, xc->algo == X86_CONV_DEPTHWISE ? 1 : xc->cpg,
                                 offsets);
    job.offsets = offsets;
    job.w_offsets = offsets + job.plan.offset_count;
    if (xc->algo == X86_CONV_DIRECT)
        cp_x86_conv_make_direct_codes(job.plan.offset_count, g, xc->k->vw,
                                      offsets + job.plan.offset_count);
    const int32_t ctx_threads = cp_context_threads(a->ctx);
    char *after_tables = (char *)a->workspace + cp_x86_conv_offsets_bytes(&job.plan);
    job.per_thread = (x86_conv_thread *)after_tables;
    for (int32_t i = 0; i < ctx_threads; i++) {
        job.per_thread[i].packed_outer = -1;
        for (int j = 0; j < X86_CONV_COMPACT_SLOTS; j++)
            job.per_thread[i].compact_keys[j] = -1;
        job.per_thread[i].zeroed = 0;
    }
    job.pack = (float *)(after_tables + cp_x86_conv_thread_bytes(ctx_threads));
    job.shared_pack = 0;
    if (xc->algo != X86_CONV_DEPTHWISE && !job.plan.unpacked && threads > 1 &&
        job.plan.tasks_outer == 1 && job.plan.m_chunks >= threads) {
        /* Every task reads the same band: pack it once, split over the
         * threads, rather than once per thread. */
        cp_parallel_for(a->ctx, min64(xc->cpg, X86_CONV_TASK_TARGET), threads,
                        cp_x86_conv_shared_pack_task, &job);
        job.shared_pack = 1;
        for (int32_t i = 0; i < ctx_threads; i++)
            job.per_thread[i].packed_outer = 0;
    }
    cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks * job.plan.row_parts, threads,
                    xc->algo == X86_CONV_DIRECT ? cp_x86_conv_direct_task
                    : xc->algo == X86_CONV_ROWS ? cp_x86_conv_rows_task
                                                : cp_x86_conv_depthwise_task,
                    &job);
}

/* A pointwise op's GEMM on a range of one image's pixels (pointwise ops
 * always take the GEMM algorithm). On one thread, each pixel tile meets
 * all output-channel blocks while it is in L1. */
static void x86_conv_run_pixels(const cp_run_args *a, int64_t q0, int64_t pixels, int64_t y_stride,
                                int32_t max_threads)
{
    const x86_conv *xc = a->op->packed;
    x86_conv_job job = {.a = a, .xc = xc, .q0 = q0, .pixels = pixels, .y_stride = y_stride};
    /* job.store plain: the callers' columns are bands sized for L2 */
    job.y = a->y;
    int32_t threads =
        cp_threads_for_work(a->geom->m * pixels * xc->cpg, X86_CONV_MIN_WORK_PER_THREAD);
    if (threads > max_threads)
        threads = max_threads;
    const int64_t plane = cp_geom_in_plane(a->geom);
    cp_x86_conv_plan_gemm(xc, 1, pixels, plane, 0, 0,
                          cp_x86_conv_gemm_head(xc, a->x + q0, plane, a->y, y_stride, pixels),
                          &job.plan);
    job.pack = a->workspace;
    if (threads <= 1) {
        job.plan.m_chunks = 1;
        job.plan.m_chunk = xc->blocks;
    }
    cp_parallel_for(a->ctx, job.plan.tasks_outer * job.plan.m_chunks, threads,
                    cp_x86_conv_gemm_task, &job);
}

/* Rows of a 2-D depthwise run (the run's tasks take those rows the same
 * way, band by band). */
static int x86_conv_rows_supported(const convpool_op *op, const cp_geom *g)
{
    const x86_conv *xc = cp_x86_conv_for(op->packed, g);
    return g->n == 1 && g->out[0] == 1 && xc->algo == X86_CONV_DEPTHWISE &&
           !cp_x86_conv_run_is_tiny(xc, g) && !cp_x86_wino_takes(xc, g);
}

static size_t x86_conv_rows_workspace_size(const convpool_op *op, const cp_geom *g,
                                           int64_t max_rows)
{
    return cp_x86_conv_depthwise_rows_workspace(cp_x86_conv_for(op->packed, g), g, max_rows);
}

static void x86_conv_run_rows(const cp_run_args *a, int64_t oh0, int64_t oh1, int64_t max_rows,
                              int64_t y_plane)
{
    cp_x86_conv_depthwise_rows(cp_x86_conv_for(a->op->packed, a->geom), a->geom, a->x, oh0, oh1,
                               max_rows, a->y, y_plane, a->workspace);
}

static size_t x86_conv_pixels_workspace_size(const convpool_op *op, const cp_geom *g,
                                             int32_t max_threads)
{
    x86_conv_plan p;
    cp_x86_conv_plan_gemm(op->packed, 1, cp_geom_in_plane(g), cp_geom_in_plane(g), 0, 0, 0, &p);
    return cp_align_up((size_t)max_threads * (size_t)p.thread_floats * sizeof(float));
}

static void x86_conv_zip_phase_sums(const convpool_op *op, const cp_zip_phase *even,
                                    const cp_zip_phase *odd, int64_t width, float init,
                                    int accumulate, float *dst)
{
    const x86_conv *xc = op->packed;
    xc->k->zip_phase_sums(even, odd, width, init, accumulate, dst);
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
    .workspace_size = cp_x86_conv_workspace_size,
    .run = x86_conv_run,
    .run_depth_to_space = x86_conv_run_depth_to_space,
    .run_pixels = x86_conv_run_pixels,
    .rows_supported = x86_conv_rows_supported,
    .rows_workspace_size = x86_conv_rows_workspace_size,
    .run_rows = x86_conv_run_rows,
    .pixels_workspace_size = x86_conv_pixels_workspace_size,
    .zip_phase_sums = x86_conv_zip_phase_sums,
};

const cp_impl cp_impl_conv_avx2 = {
    .name = "conv.avx2",
    .kind = CONVPOOL_OP_CONV,
    .isa = CONVPOOL_ISA_AVX2,
    .prepare = prepare_avx2,
    .release = x86_conv_release,
    .workspace_size = cp_x86_conv_workspace_size,
    .run = x86_conv_run,
    .run_depth_to_space = x86_conv_run_depth_to_space,
    .run_pixels = x86_conv_run_pixels,
    .rows_supported = x86_conv_rows_supported,
    .rows_workspace_size = x86_conv_rows_workspace_size,
    .run_rows = x86_conv_run_rows,
    .pixels_workspace_size = x86_conv_pixels_workspace_size,
    .zip_phase_sums = x86_conv_zip_phase_sums,
};
