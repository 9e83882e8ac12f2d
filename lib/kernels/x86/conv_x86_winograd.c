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
/* Output planes of at least this many pixels take it; smaller ones where
 * their pixels times the harmonic mean of the channel counts reach
 * WINO_SMALL_PLANE_MIN_WORK (the transforms cost each tile in proportion
 * to C + M, the GEMM saves in proportion to C * M), and not below
 * WINO_SMALL_PLANE_MIN_PIXELS. */
#define WINO_MIN_PIXELS             400
#define WINO_SMALL_PLANE_MIN_WORK   12000
#define WINO_SMALL_PLANE_MIN_PIXELS 16
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
/* Where splitting the tiles for the threads would leave bands shorter
 * than WINO_MIN_BAND_TILES, and U is larger than this share of L2 (64ths),
 * a band runs on all the threads at once (wide, see run_wide); a smaller U
 * costs the short bands little and the wide steps more. */
#define WINO_WIDE_U_L2_64THS 32
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
    if (!xc->wino)
        return 0;
    const int64_t pixels = g->out[1] * g->out[2], c = xc->wino->c, m = xc->wino->m;
    return pixels >= WINO_MIN_PIXELS || (pixels >= WINO_SMALL_PLANE_MIN_PIXELS &&
                                         pixels * 2 * c * m >= WINO_SMALL_PLANE_MIN_WORK * (c + m));
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
    /* Wide: each band runs on all the threads (below), else on one. */
    int wide;
    int32_t threads;
    /* tiled: thread_bytes for each thread, of V, products, split rows and
     * the GEMM's scratch; wide: one V and one products for all, split rows
     * for each thread, the GEMM's scratch for all threads */
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
    p->threads = threads;
    const int64_t u_bytes = WINO_VALUES * w->c * w->m * (int64_t)sizeof(float);
    p->wide = threads > 1 && g->n * bands < want &&
              ceil_div(p->tiles, ceil_div(want, g->n)) < WINO_MIN_BAND_TILES &&
              u_bytes > (int64_t)cp_cache()->l2_bytes / 64 * WINO_WIDE_U_L2_64THS;
    if (threads > 1 && g->n * bands < want && !p->wide)
        bands = ceil_div(want, g->n);
    /* and a multiple of the threads in all, where the bands stay at least
     * WINO_MIN_BAND_TILES long. 64 -> 64 on 56 x 56 at 2 threads: 14
     * bands of 56 tiles (7 a thread) took 0.93x the time of 13 of 61 (7
     * on one thread, 6 on the other); 128 -> 128 on 28 x 28 as 8 bands of
     * 25 tiles instead of 7 of 28: 1.06x slower (the GEMM's vectors of
     * tiles were as many, the bands' overheads more). */
    int64_t even = bands;
    while (threads > 1 && !p->wide && (g->n * even) % threads != 0 && even < p->tiles)
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
    /* the inner GEMM's scratch (run_pixels on the band: 1 thread, or all
     * of them wide) */
    x86_conv_plan gp;
    cp_x86_conv_plan_gemm(w->gemm->packed, 1, p->band_tiles, p->band_tiles, 0, 0, 0, &gp);
    p->gemm_bytes =
        cp_align_up((size_t)(p->wide ? threads : 1) * (size_t)gp.thread_floats * sizeof(float));
    p->thread_bytes = p->v_bytes + p->p_bytes + p->split_bytes + p->gemm_bytes;
}

/* A run's workspace: tiled, thread_bytes a thread; wide, V, products and
 * the GEMM's scratch once and split rows a thread. */
static size_t plan_bytes(const wino_plan *p)
{
    if (p->wide)
        return p->v_bytes + p->p_bytes + p->gemm_bytes + (size_t)p->threads * p->split_bytes;
    return (size_t)p->threads * p->thread_bytes;
}

size_t cp_x86_wino_workspace_size(const x86_conv *xc, const cp_geom *g, int32_t threads)
{
    wino_plan p;
    plan_of(xc->wino, g, threads, &p);
    return plan_bytes(&p);
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

/* The tiles t0 .. t1 - 1 of one image: tile rows ty0 .. ty1, the first from
 * column t0 % tiles_w on, the last up to column (t1 - 1) % tiles_w. */
typedef struct band {
    int64_t n, t0, t1, ty0, ty1;
} band;

static band band_of(const wino_plan *p, int64_t task)
{
    band b = {.n = task / p->bands, .t0 = task % p->bands * p->band_tiles};
    b.t1 = b.t0 + p->band_tiles < p->tiles ? b.t0 + p->band_tiles : p->tiles;
    b.ty0 = b.t0 / p->tiles_w;
    b.ty1 = (b.t1 - 1) / p->tiles_w;
    return b;
}

/* Tile row ty's first and one-past-last column in band b. */
static void row_span(const wino_plan *p, const band *b, int64_t ty, int64_t *tx0, int64_t *tx1)
{
    *tx0 = ty == b->ty0 ? b->t0 % p->tiles_w : 0;
    *tx1 = ty == b->ty1 ? (b->t1 - 1) % p->tiles_w + 1 : p->tiles_w;
}

/* V of band b for input channels c0 .. c1 - 1 (split: this thread's rows). */
static void transform_input(const wino_job *j, const band *b, int64_t c0, int64_t c1, float *split,
                            float *v)
{
    const wino_plan *p = &j->p;
    const cp_geom *g = j->a->geom;
    const int64_t in_plane = g->in[1] * g->in[2], pitch = p->band_tiles;
    const int64_t top = 2 * b->ty0 - g->pad_begin[1];
    for (int64_t c = c0; c < c1; c++) {
        const float *x = j->a->x + (b->n * j->w->c + c) * in_plane;
        for (int64_t r = 0; r < 2 * (b->ty1 - b->ty0) + 4; r++)
            split_row(j, x, top + r, split + r * 2 * p->line);
        for (int64_t ty = b->ty0; ty <= b->ty1; ty++) {
            int64_t tx0, tx1;
            row_span(p, b, ty, &tx0, &tx1);
            const float *even[4], *odd[4];
            for (int i = 0; i < 4; i++) {
                even[i] = split + (2 * (ty - b->ty0) + i) * 2 * p->line + tx0;
                odd[i] = even[i] + p->line;
            }
            j->k->wino_input(even, odd, tx1 - tx0, v + c * pitch + ty * p->tiles_w + tx0 - b->t0,
                             j->w->c * pitch);
        }
    }
}

/* The output rows of band b for output channels m0 .. m1 - 1 from the
 * products; whether one of them is an infinity or NaN. */
static int transform_output(const wino_job *j, const band *b, int64_t m0, int64_t m1,
                            const float *prod)
{
    const wino_plan *p = &j->p;
    const cp_geom *g = j->a->geom;
    const int64_t out_plane = g->out[1] * g->out[2], pitch = p->band_tiles;
    int nonfinite = 0;
    for (int64_t m = m0; m < m1; m++) {
        float *y = j->a->y + (b->n * j->w->m + m) * out_plane;
        for (int64_t ty = b->ty0; ty <= b->ty1; ty++) {
            int64_t tx0, tx1;
            row_span(p, b, ty, &tx0, &tx1);
            const int64_t oy = 2 * ty, ox = 2 * tx0;
            const int64_t width =
                g->out[2] - ox < 2 * (tx1 - tx0) ? g->out[2] - ox : 2 * (tx1 - tx0);
            float *y0 = y + oy * g->out[2] + ox;
            nonfinite |= j->k->wino_output(prod + m * pitch + ty * p->tiles_w + tx0 - b->t0,
                                           j->w->m * pitch, tx1 - tx0, j->w->bias[m], y0,
                                           oy + 1 < g->out[1] ? y0 + g->out[2] : NULL, width);
        }
    }
    return nonfinite;
}

static void note_nonfinite(wino_job *j, int nonfinite)
{
    if (nonfinite)
        __atomic_store_n(&j->nonfinite, 1, __ATOMIC_RELAXED);
}

/* Tiled: whole bands a task, each on its thread (V, the inner GEMM, the
 * output rows) in scratch of its own. */
static void band_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    wino_job *j = arg;
    const wino_plan *p = &j->p;
    char *scratch = (char *)j->a->workspace + (size_t)thread_index * p->thread_bytes;
    float *v = (float *)scratch, *prod = (float *)(scratch + p->v_bytes);
    float *split = (float *)(scratch + p->v_bytes + p->p_bytes);
    void *gemm_scratch = scratch + p->v_bytes + p->p_bytes + p->split_bytes;
    int nonfinite = 0;
    for (int64_t task = begin; task < end; task++) {
        const band b = band_of(p, task);
        transform_input(j, &b, 0, j->w->c, split, v);
        cp_run_args inner = {j->w->gemm, &j->gemm_geom, j->a->ctx, v, prod, NULL, gemm_scratch};
        j->w->gemm->impl->run_pixels(&inner, 0, b.t1 - b.t0, p->band_tiles, 1);
        nonfinite |= transform_output(j, &b, 0, j->w->m, prod);
    }
    note_nonfinite(j, nonfinite);
}

/* Wide: one band at a time on all the threads, which share out its input
 * channels, then the GEMM's output channels (run_pixels), then its output
 * channels again. Where the tiled split would leave bands of few tiles,
 * each streaming all of U through the GEMM, this reads U once a band: 512
 * -> 512 on 7 x 7 (16 tiles) at 2 threads took 1.9x the time of one
 * thread as 4 tiled bands of 4. */
typedef struct wide_step {
    wino_job *j;
    const band *b;
    char *base; /* the workspace: V, products, the GEMM's scratch, split rows */
} wide_step;

static void wide_input_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const wide_step *s = arg;
    const wino_plan *p = &s->j->p;
    float *split = (float *)(s->base + p->v_bytes + p->p_bytes + p->gemm_bytes +
                             (size_t)thread_index * p->split_bytes);
    transform_input(s->j, s->b, begin, end, split, (float *)s->base);
}

static void wide_output_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const wide_step *s = arg;
    note_nonfinite(
        s->j, transform_output(s->j, s->b, begin, end, (const float *)(s->base + s->j->p.v_bytes)));
}

static void run_wide(wino_job *j)
{
    const wino_plan *p = &j->p;
    char *base = j->a->workspace;
    float *v = (float *)base, *prod = (float *)(base + p->v_bytes);
    for (int64_t task = 0; task < j->a->geom->n * p->bands; task++) {
        const band b = band_of(p, task);
        wide_step s = {j, &b, base};
        cp_parallel_for(j->a->ctx, j->w->c, p->threads, wide_input_task, &s);
        cp_run_args inner = {
            j->w->gemm, &j->gemm_geom, j->a->ctx, v, prod, NULL, base + p->v_bytes + p->p_bytes};
        j->w->gemm->impl->run_pixels(&inner, 0, b.t1 - b.t0, p->band_tiles, p->threads);
        cp_parallel_for(j->a->ctx, j->w->m, p->threads, wide_output_task, &s);
    }
}

int cp_x86_wino_run(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    wino_job j = {.a = a, .w = xc->wino, .k = xc->k};
    plan_of(j.w, a->geom, cp_context_threads(a->ctx), &j.p);
    const int64_t shape[4] = {1, WINO_VALUES * j.w->c, 1, j.p.band_tiles};
    if (cp_geom_resolve(j.w->gemm, shape, 4, &j.gemm_geom) != CONVPOOL_OK)
        return 0; /* unreachable: a 1x1 Conv takes any plane */
    if (j.p.wide) {
        run_wide(&j);
    } else {
        const int64_t tasks = a->geom->n * j.p.bands;
        int32_t threads = cp_context_threads(a->ctx);
        threads = tasks < threads ? (int32_t)tasks : threads;
        cp_parallel_for(a->ctx, tasks, threads, band_task, &j);
    }
    return !__atomic_load_n(&j.nonfinite, __ATOMIC_RELAXED);
}
