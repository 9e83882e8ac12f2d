/*
 * Winograd F(2x2, 3x3) on the x86 fast paths (kernels/x86/conv_x86_winograd.h).
 */
#include "kernels/x86/conv_x86_winograd.h"

#include <string.h>

#include "runtime/error.h"
#include "runtime/threadpool.h"

/* Both channel counts at least this: below, the transforms weigh more than
 * the multiply-adds they save. */
#define WINO_MIN_CHANNELS 16
/* Output planes of at least this many pixels: smaller ones leave the inner
 * GEMM too few tiles to run well (7 x 7 planes run at the FMA peak direct). */
#define WINO_MIN_PIXELS 400
/* A band's V and products take at most this share of L2 (in 64ths), and a
 * band holds at least WINO_MIN_BAND_TILES tiles (two GEMM pixel tiles on
 * AVX-512). At 1 thread shares of 16 to 128 64ths and 16 to 128 tiles
 * measured within the noise of one another (C = M = 32 to 512, 28 x 28 to
 * 256 x 256); at 2 threads half of L2 ran 64 -> 64 on 56 x 56 in
 * 0.41-0.42 ms against 0.45-0.46 with all of it. */
#define WINO_BAND_L2_64THS  32
#define WINO_MIN_BAND_TILES 32
/* Below this many bands per thread, bands shrink so that the threads
 * finish together: 64 -> 64 on 20 x 20 took 0.065-0.069 ms at 2 threads
 * with 2 tasks a thread, 0.085-0.10 with 3 or 4, 0.087 with 1; larger
 * planes level. Bands are of equal length in tiles, not whole tile rows
 * (128 -> 128 on 28 x 28 has 14 rows: bands of 3 rows left one thread 8
 * rows, the other 6): at 2 threads, alternating with whole-row bands,
 * that case took 0.87-1.0x the time, 128 -> 256 on 56 x 56 0.88-0.98x,
 * 256 -> 256 0.93-1.0x, 64 -> 64 on 56 x 56 level. */
#define WINO_TASKS_PER_THREAD 2
/* The 16 values of a transformed tile */
#define WINO_VALUES 16

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Dense ops only. Grouped ones were tried (the inner Conv with 16 x group
 * groups), alternating with their direct runs at 1 thread: 64 channels a
 * group 0.91-0.96x the time (128 on 56 x 56 in 2 groups, 256 on 28 x 28 in
 * 4), 32 a group 1.45-1.6x (256 on 56 x 56 in 8 groups, 512 on 28 x 28 in
 * 16): a band sized for all the channels leaves each group's products a
 * few dozen tiles. */
static int qualifies(const convpool_op *op)
{
    const cp_attrs *a = &op->attrs;
    return a->rank == 2 && a->group == 1 && a->kernel_shape[0] == 3 && a->kernel_shape[1] == 3 &&
           a->strides[0] == 1 && a->strides[1] == 1 && a->dilations[0] == 1 &&
           a->dilations[1] == 1 && op->c_per_group >= WINO_MIN_CHANNELS &&
           op->m >= WINO_MIN_CHANNELS;
}

convpool_status cp_x86_wino_prepare(const convpool_op *op, x86_conv *xc, const float *weight,
                                    const float *bias)
{
    if (!qualifies(op) || !cp_env_winograd())
        return CONVPOOL_OK;
    const int64_t C = op->c_per_group, M = op->m;
    x86_wino *w = cp_calloc(1, sizeof *w);
    float *u = cp_alloc((size_t)(WINO_VALUES * M * C) * sizeof(float));
    if (w)
        w->bias = cp_calloc((size_t)M, sizeof(float));
    if (!w || !u || !w->bias) {
        cp_free(u);
        cp_x86_wino_release(w);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate Winograd weights");
    }
    w->c = C;
    w->m = M;
    if (bias)
        memcpy(w->bias, bias, (size_t)M * sizeof(float));
    /* U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], value
     * (r, s) of pair (m, c) as weight (r*4 + s)*M + m, c of the inner Conv */
    for (int64_t m = 0; m < M; m++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = weight + (m * C + c) * 9;
            float t[4][3]; /* G g */
            for (int j = 0; j < 3; j++) {
                const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            for (int r = 0; r < 4; r++) {
                const float v[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]),
                                    0.5f * (t[r][0] - t[r][1] + t[r][2]), t[r][2]};
                for (int s = 0; s < 4; s++)
                    u[((r * 4 + s) * M + m) * C + c] = v[s];
            }
        }
    convpool_desc d;
    cp_attrs_init(&d.attrs, CONVPOOL_OP_CONV, 2);
    d.attrs.group = WINO_VALUES;
    const int64_t ws[4] = {WINO_VALUES * M, C, 1, 1};
    convpool_status st = cp_op_create(&d, ws, 4, u, NULL, op->isa, &w->gemm);
    cp_free(u);
    if (st == CONVPOOL_OK && !w->gemm->impl->run_pixels)
        st = cp_fail(CONVPOOL_ERROR_INTERNAL, "the Winograd GEMM's Conv lacks run_pixels");
    if (st != CONVPOOL_OK) {
        cp_x86_wino_release(w);
        return st;
    }
    xc->wino = w;
    return CONVPOOL_OK;
}

void cp_x86_wino_release(x86_wino *w)
{
    if (!w)
        return;
    cp_op_destroy(w->gemm);
    cp_free(w->bias);
    cp_free(w);
}

int cp_x86_wino_takes(const x86_conv *xc, const cp_geom *g)
{
    return xc->wino && g->out[1] * g->out[2] >= WINO_MIN_PIXELS;
}

/* How a run is cut up (by the thread count too, which changes no tile's
 * values). */
typedef struct wino_plan {
    int64_t tiles_h, tiles_w; /* tiles a plane: ceil(out / 2) */
    int64_t tiles;            /* tiles an image: tiles_h * tiles_w */
    int64_t band_tiles;       /* tiles a band (the last of an image may have fewer) */
    int64_t bands;            /* bands an image */
    int64_t band_rows;        /* the most tile rows a band touches */
    int64_t line;             /* floats of a split input row: (tiles_w + 1), rounded up */
    size_t v_bytes, p_bytes, split_bytes, gemm_bytes, thread_bytes;
} wino_plan;

static void plan_of(const x86_wino *w, const cp_geom *g, int32_t threads, wino_plan *p)
{
    p->tiles_h = (g->out[1] + 1) / 2;
    p->tiles_w = (g->out[2] + 1) / 2;
    p->tiles = p->tiles_h * p->tiles_w;
    const int64_t tile_bytes = WINO_VALUES * (w->c + w->m) * (int64_t)sizeof(float);
    const int64_t budget = (int64_t)cp_cache()->l2_bytes / 64 * WINO_BAND_L2_64THS;
    const int64_t fit = max64(WINO_MIN_BAND_TILES, budget / tile_bytes);
    int64_t bands = ceil_div(p->tiles, fit);
    /* enough tasks for the threads to finish together, of equal size:
     * each tile's values do not depend on its band, so the bands may
     * follow the thread count */
    const int64_t want = (int64_t)threads * WINO_TASKS_PER_THREAD;
    if (threads > 1 && g->n * bands < want)
        bands = ceil_div(want, g->n);
    /* and a multiple of the threads in all, where the bands stay at least
     * WINO_MIN_BAND_TILES long. 64 -> 64 on 56 x 56 at 2 threads: 14
     * bands of 56 tiles (7 a thread) took 0.93x the time of 13 of 61 (7
     * on one thread, 6 on the other); 128 -> 128 on 28 x 28 as 8 bands of
     * 25 tiles instead of 7 of 28: 1.06x slower (the GEMM's vectors of
     * tiles were as many, the bands' overheads more). */
    int64_t even = bands;
    while (threads > 1 && (g->n * even) % threads != 0 && even < p->tiles)
        even++;
    if (ceil_div(p->tiles, even) >= WINO_MIN_BAND_TILES)
        bands = even;
    bands = bands < p->tiles ? bands : p->tiles;
    p->band_tiles = ceil_div(p->tiles, bands);
    p->bands = ceil_div(p->tiles, p->band_tiles);
    /* a run of band_tiles tiles from any column touches at most this many rows */
    p->band_rows = (p->band_tiles - 1) / p->tiles_w + 2;
    p->band_rows = p->band_rows < p->tiles_h ? p->band_rows : p->tiles_h;
    /* tiles_w + 1 floats of each phase, rows 64 bytes apart */
    p->line = round_up(p->tiles_w + 1, 16);
    p->v_bytes = cp_align_up((size_t)(WINO_VALUES * w->c * p->band_tiles) * sizeof(float));
    p->p_bytes = cp_align_up((size_t)(WINO_VALUES * w->m * p->band_tiles) * sizeof(float));
    /* the 2 * band_rows + 2 input rows a band reads, split */
    p->split_bytes = cp_align_up((size_t)(2 * p->line * (2 * p->band_rows + 2)) * sizeof(float));
    /* the inner GEMM's scratch (run_pixels on the band, 1 thread) */
    x86_conv_plan gp;
    cp_x86_conv_plan_gemm(w->gemm->packed, 1, p->band_tiles, p->band_tiles, 0, 0, &gp);
    p->gemm_bytes = cp_align_up((size_t)gp.thread_floats * sizeof(float));
    p->thread_bytes = p->v_bytes + p->p_bytes + p->split_bytes + p->gemm_bytes;
}

size_t cp_x86_wino_workspace_size(const x86_conv *xc, const cp_geom *g, int32_t threads)
{
    wino_plan p;
    plan_of(xc->wino, g, threads, &p);
    return (size_t)threads * p.thread_bytes;
}

typedef struct wino_job {
    const cp_run_args *a;
    const x86_wino *w;
    const cp_conv_kernels *k;
    wino_plan p;
    cp_geom gemm_geom; /* the inner Conv on one full band: (1, 16 C, 1, band_tiles) */
    int nonfinite;     /* set (relaxed atomic) by a task that computed an inf or NaN */
} wino_job;

/* Zeros over [from, to) of p. */
static void zero_range(float *p, int64_t from, int64_t to)
{
    if (to > from)
        memset(p + from, 0, (size_t)(to - from) * sizeof(float));
}

/* Input row `row` of channel plane x, zero padded (pad_left zeros, the
 * row, zeros to 2 * (tiles_w + 1) columns), as its even and odd columns:
 * split and split + line, tiles_w + 1 floats each. Rows outside the plane
 * are zeros. The row is split where it lies, into the phases its first
 * column falls on. */
static void split_row(const wino_job *j, const float *x, int64_t row, float *split)
{
    const cp_geom *g = j->a->geom;
    const int64_t half = j->p.tiles_w + 1, pl = g->pad_begin[2];
    float *even = split, *odd = split + j->p.line;
    int64_t n = 0; /* columns of the row inside the padded row */
    if (row >= 0 && row < g->in[1] && pl < 2 * half)
        n = g->in[2] < 2 * half - pl ? g->in[2] : 2 * half - pl;
    /* column pl takes the row's column 0, pl + 1 its column 1 */
    float *first = pl % 2 ? odd : even, *second = pl % 2 ? even : odd;
    const int64_t f0 = pl / 2, s0 = (pl + 1) / 2;
    const int64_t f1 = n ? f0 + (n + 1) / 2 : 0, s1 = n ? s0 + n / 2 : 0;
    if (n)
        j->k->pack_rows(x + row * g->in[2], 0, 1, n, 2, first + f0, second + s0, 0);
    zero_range(first, 0, n ? f0 : half);
    zero_range(first, f1, half);
    zero_range(second, 0, n ? s0 : half);
    zero_range(second, s1, half);
}

/* Band b of image n: V, the inner GEMM, the output rows. */
static void band_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    wino_job *j = arg;
    int nonfinite = 0;
    const wino_plan *p = &j->p;
    const cp_geom *g = j->a->geom;
    const x86_wino *w = j->w;
    char *scratch = (char *)j->a->workspace + (size_t)thread_index * p->thread_bytes;
    float *v = (float *)scratch, *prod = (float *)(scratch + p->v_bytes);
    float *split = (float *)(scratch + p->v_bytes + p->p_bytes);
    void *gemm_scratch = scratch + p->v_bytes + p->p_bytes + p->split_bytes;
    const int64_t in_plane = g->in[1] * g->in[2], out_plane = g->out[1] * g->out[2];
    const int64_t pitch = p->band_tiles; /* floats per inner channel */
    for (int64_t task = begin; task < end; task++) {
        const int64_t n = task / p->bands, t0 = task % p->bands * p->band_tiles;
        const int64_t t1 = t0 + p->band_tiles < p->tiles ? t0 + p->band_tiles : p->tiles;
        /* tile rows ty0 .. ty1, the first from column t0 % tiles_w on, the
         * last up to column (t1 - 1) % tiles_w */
        const int64_t ty0 = t0 / p->tiles_w, ty1 = (t1 - 1) / p->tiles_w;
        const int64_t top = 2 * ty0 - g->pad_begin[1];
        for (int64_t c = 0; c < w->c; c++) {
            const float *x = j->a->x + (n * w->c + c) * in_plane;
            for (int64_t r = 0; r < 2 * (ty1 - ty0) + 4; r++)
                split_row(j, x, top + r, split + r * 2 * p->line);
            for (int64_t ty = ty0; ty <= ty1; ty++) {
                const int64_t tx0 = ty == ty0 ? t0 % p->tiles_w : 0;
                const int64_t tx1 = ty == ty1 ? (t1 - 1) % p->tiles_w + 1 : p->tiles_w;
                const float *even[4], *odd[4];
                for (int i = 0; i < 4; i++) {
                    even[i] = split + (2 * (ty - ty0) + i) * 2 * p->line + tx0;
                    odd[i] = even[i] + p->line;
                }
                j->k->wino_input(even, odd, tx1 - tx0, v + c * pitch + ty * p->tiles_w + tx0 - t0,
                                 w->c * pitch);
            }
        }
        cp_run_args inner = {w->gemm, &j->gemm_geom, j->a->ctx, v, prod, NULL, gemm_scratch};
        w->gemm->impl->run_pixels(&inner, 0, t1 - t0, pitch, 1);
        for (int64_t m = 0; m < w->m; m++) {
            float *y = j->a->y + (n * w->m + m) * out_plane;
            for (int64_t ty = ty0; ty <= ty1; ty++) {
                const int64_t tx0 = ty == ty0 ? t0 % p->tiles_w : 0;
                const int64_t tx1 = ty == ty1 ? (t1 - 1) % p->tiles_w + 1 : p->tiles_w;
                const int64_t oy = 2 * ty, ox = 2 * tx0;
                const int64_t width =
                    g->out[2] - ox < 2 * (tx1 - tx0) ? g->out[2] - ox : 2 * (tx1 - tx0);
                float *y0 = y + oy * g->out[2] + ox;
                nonfinite |= j->k->wino_output(prod + m * pitch + ty * p->tiles_w + tx0 - t0,
                                               w->m * pitch, tx1 - tx0, w->bias[m], y0,
                                               oy + 1 < g->out[1] ? y0 + g->out[2] : NULL, width);
            }
        }
    }
    if (nonfinite)
        __atomic_store_n(&j->nonfinite, 1, __ATOMIC_RELAXED);
}

int cp_x86_wino_run(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    wino_job j = {.a = a, .w = xc->wino, .k = xc->k};
    plan_of(j.w, a->geom, cp_context_threads(a->ctx), &j.p);
    const int64_t shape[4] = {1, WINO_VALUES * j.w->c, 1, j.p.band_tiles};
    if (cp_geom_resolve(j.w->gemm, shape, 4, &j.gemm_geom) != CONVPOOL_OK)
        return 0; /* unreachable: a 1x1 Conv takes any plane */
    const int64_t tasks = a->geom->n * j.p.bands;
    int32_t threads = cp_context_threads(a->ctx);
    threads = tasks < threads ? (int32_t)tasks : threads;
    cp_parallel_for(a->ctx, tasks, threads, band_task, &j);
    return !__atomic_load_n(&j.nonfinite, __ATOMIC_RELAXED);
}
