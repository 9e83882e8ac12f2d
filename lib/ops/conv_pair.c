#include "ops/conv_pair.h"

#include <time.h>

#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/*
 * A pair runs band by band only where one image's intermediate outgrows
 * this share of L2 (64ths): smaller ones stay in L2 from one op to the
 * next anyway, and bands would only add kernel calls. Measured on the Xeon
 * (2 MiB L2) with MobileNet's separable blocks (tools/bench/models,
 * mobilenet_dw, 1 thread, node times of `convpool-run --profile` against
 * the ops run one after the other): 32 -> 64 on 112 x 112 0.89x and 128 ->
 * 128 on 56 x 56 0.97x (1.6 MB between them), the stride-2 64 -> 128 (0.8
 * MB) 1.02x; bands of a quarter of L2 gained less, of a 32nd lost. The
 * band's share and its fewest rows: ops/conv_pair.h.
 */
#define CP_CONV_PAIR_MIN_L2_64THS 32

static int is_pointwise(const cp_geom *g)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_begin[i] || g->pad_end[i] ||
            g->out[i] != g->in[i])
            return 0;
    return 1;
}

/* Bands per image: as few as the band budget allows, rounded up to a
 * multiple of the threads (one image's bands split evenly), at most one
 * row each. */
static int64_t plan_bands(int64_t rows, int64_t row_bytes, int64_t budget, int32_t threads)
{
    const int64_t max_rows = budget / row_bytes > 1 ? budget / row_bytes : 1;
    int64_t bands = cp_ceil_div(rows, max_rows);
    if (threads > 1)
        bands = cp_ceil_div(bands, threads) * threads;
    return bands < rows ? bands : rows;
}

static size_t pair_thread_bytes(const cp_conv_pair *pr);

int cp_conv_pair_plan(const convpool_op *dw, const convpool_op *pw, const int64_t *shape,
                      size_t rank, int32_t threads, cp_conv_pair *pair)
{
    if (rank != 4 || dw->attrs.kind != CONVPOOL_OP_CONV || pw->attrs.kind != CONVPOOL_OP_CONV ||
        !dw->impl->run_rows || !dw->impl->rows_supported || !dw->impl->rows_workspace_size ||
        !pw->impl->run_pixels || !pw->impl->pixels_workspace_size)
        return 0;
    cp_geom gd, gp;
    if (cp_geom_resolve(dw, shape, rank, &gd) != CONVPOOL_OK || gd.n < 1)
        return 0;
    const int64_t mid[4] = {gd.n, gd.m, gd.out[1], gd.out[2]};
    if (cp_geom_resolve(pw, mid, 4, &gp) != CONVPOOL_OK || !is_pointwise(&gp))
        return 0;
    cp_geom one = gd;
    one.n = 1;
    if (!dw->impl->rows_supported(dw, &one))
        return 0;
    const int64_t l2 = cp_cache()->l2_bytes;
    const int64_t row_bytes = gd.m * gd.out[2] * (int64_t)sizeof(float);
    const int64_t band_budget = l2 * CP_CONV_PAIR_BAND_L2_64THS / 64;
    if (row_bytes * gd.out[1] <= l2 * CP_CONV_PAIR_MIN_L2_64THS / 64 ||
        band_budget / row_bytes < CP_CONV_PAIR_MIN_BAND_ROWS)
        return 0;
    pair->dw = gd;
    pair->pw = gp;
    pair->bands = plan_bands(gd.out[1], row_bytes, band_budget, threads);
    pair->band_rows = cp_ceil_div(gd.out[1], pair->bands);
    pair->bands = cp_ceil_div(gd.out[1], pair->band_rows);
    const int64_t tasks = gd.n * pair->bands;
    pair->threads = tasks < threads ? (int32_t)tasks : threads;
    pair->band_bytes = cp_align_up((size_t)(row_bytes * pair->band_rows));
    /* the GEMM's scratch depends on the plane only through its tile
     * choice: the largest of a full band's and the last band's */
    cp_geom band = gp;
    band.n = 1;
    band.in[1] = band.out[1] = pair->band_rows;
    size_t px = pw->impl->pixels_workspace_size(pw, &band, 1);
    band.in[1] = band.out[1] = gd.out[1] - (pair->bands - 1) * pair->band_rows;
    const size_t last = pw->impl->pixels_workspace_size(pw, &band, 1);
    pair->pixels_bytes = cp_align_up(px > last ? px : last);
    pair->rows_bytes = cp_align_up(dw->impl->rows_workspace_size(dw, &one, pair->band_rows));
    pair->workspace = (size_t)pair->threads * pair_thread_bytes(pair) +
                      cp_align_up((size_t)pair->threads * 2 * sizeof(int64_t));
    return 1;
}

/* One thread's share of the workspace: its band, the depthwise rows'
 * scratch, the pointwise GEMM's scratch. */
static size_t pair_thread_bytes(const cp_conv_pair *pr)
{
    return pr->band_bytes + pr->rows_bytes + pr->pixels_bytes;
}

typedef struct pair_job {
    const convpool_op *dw, *pw;
    const cp_conv_pair *pair;
    convpool_context *ctx;
    const float *x;
    float *y;
    char *scratch; /* thread t's band, then its GEMM scratch */
    int64_t *ns;   /* per thread: depthwise, pointwise; NULL: not timed */
} pair_job;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Task: (image, band). */
static void pair_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const pair_job *job = arg;
    const cp_conv_pair *pr = job->pair;
    const cp_geom *gd = &pr->dw;
    const int64_t out_plane = cp_geom_out_plane(gd), width = gd->out[2];
    char *mine = job->scratch + (size_t)thread_index * pair_thread_bytes(pr);
    float *band = (float *)mine;
    cp_geom one = *gd, rows = pr->pw;
    one.n = rows.n = 1;
    for (int64_t t = begin; t < end; t++) {
        const int64_t n = t / pr->bands, oh0 = t % pr->bands * pr->band_rows;
        const int64_t oh1 = oh0 + pr->band_rows < gd->out[1] ? oh0 + pr->band_rows : gd->out[1];
        const int64_t pixels = (oh1 - oh0) * width;
        int64_t t0 = job->ns ? now_ns() : 0;
        const cp_run_args da = {job->dw,
                                &one,
                                job->ctx,
                                job->x + n * gd->c * cp_geom_in_plane(gd),
                                band,
                                NULL,
                                mine + pr->band_bytes};
        job->dw->impl->run_rows(&da, oh0, oh1, pr->band_rows, pixels);
        int64_t t1 = job->ns ? now_ns() : 0;
        rows.in[1] = rows.out[1] = oh1 - oh0;
        const cp_run_args pa = {job->pw,
                                &rows,
                                job->ctx,
                                band,
                                job->y + n * pr->pw.m * out_plane + oh0 * width,
                                NULL,
                                mine + pr->band_bytes + pr->rows_bytes};
        job->pw->impl->run_pixels(&pa, 0, pixels, out_plane, 1);
        if (job->ns) {
            int64_t t2 = now_ns();
            job->ns[2 * thread_index] += t1 - t0;
            job->ns[2 * thread_index + 1] += t2 - t1;
        }
    }
}

void cp_conv_pair_run(const convpool_op *dw, const convpool_op *pw, const cp_conv_pair *pair,
                      convpool_context *ctx, const float *x, float *y, void *workspace,
                      int64_t part_ns[2])
{
    char *scratch = workspace;
    int64_t *ns = NULL;
    if (part_ns) {
        ns = (int64_t *)(scratch + (size_t)pair->threads * pair_thread_bytes(pair));
        for (int32_t i = 0; i < 2 * pair->threads; i++)
            ns[i] = 0;
    }
    pair_job job = {dw, pw, pair, ctx, x, y, scratch, ns};
    cp_parallel_for(ctx, pair->dw.n * pair->bands, pair->threads, pair_task, &job);
    if (part_ns) {
        part_ns[0] = part_ns[1] = 0;
        for (int32_t i = 0; i < pair->threads; i++) {
            part_ns[0] += ns[2 * i];
            part_ns[1] += ns[2 * i + 1];
        }
    }
}
