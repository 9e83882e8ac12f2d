/*
 * conv_transpose_col2im.c - the GEMM way of a ConvTranspose
 * (ops/impl_conv_transpose.c chooses it).
 *
 * Where neither other way fits: a GEMM, then a scatter-add. Every input
 * element x[c, i] meets every tap k of every output channel m of its group
 * once, so the products form a matrix product
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
 * Each output element receives its contributions in one fixed tap order
 * on one thread, whatever the bands, so any thread count gives the same
 * bits; the columns and the pairs' state live in the run's workspace.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "ops/conv_transpose.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* col2im tasks per thread when output channels are fewer */
#define CP_COL2IM_TASKS_PER_THREAD 4

/* The GEMM's geometry: one batch item at a time. */
static convpool_status inner_geom(const cp_conv_transpose_packed *pk, const cp_geom *g, cp_geom *ig)
{
    return cp_conv_transpose_inner_geom(pk->inner, g, 1, ig);
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
    const cp_conv_transpose_packed *pk;
    /* one batch item's columns: (M*K, ring input rows), input row i in
     * slot i % ring of cols, or of cols_hi from row `split` on (a seam
     * between two segments' rings; else cols_hi = cols) */
    const float *cols, *cols_hi;
    int64_t split;
    int64_t col_plane;  /* floats per row (m, k) of cols: ring * in[2] */
    int64_t ring;       /* input rows cols holds */
    float *y;           /* one batch item: (M, out_plane) */
    int64_t y_lo, y_hi; /* the output rows (dim 1) this scatter finishes */
    int64_t bands;      /* tasks per output channel (zipped: in all): bands of those rows */
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

/* The row's sources so far into the row yr of every output channel (the
 * sources are channel 0's; channel m's lie m * taps column planes on, its
 * row m output planes on): onto its bias if `first`, else added to what
 * earlier calls wrote. */
static void zip_flush(const col2im_args *a, zip_call *z, int first, float *yr)
{
    const int64_t out_plane = cp_geom_out_plane(a->g);
    cp_zip_phase ph[2];
    for (int64_t m = 0; m < a->g->m; m++) {
        const int64_t offset = m * a->pk->taps * a->col_plane;
        for (int p = 0; p < 2; p++)
            ph[p] = (cp_zip_phase){z->src[p], z->shift[p], z->lo[p], z->hi[p], z->count[p], offset};
        a->pk->inner->impl->zip_phase_sums(a->pk->inner, &ph[0], &ph[1], a->g->out[2],
                                           a->pk->bias[m], !first, yr + m * out_plane);
    }
    z->count[0] = z->count[1] = 0;
}

/* Output row (od, oh) of every channel, yr channel 0's, with stride 2
 * and dilation 1 along W: every tap that reaches the row, by rows
 * (kd, kh) in order and along W in order within a row, added to its
 * phase's sum by the zip kernel, which writes the whole row (more than
 * CP_COL2IM_ZIP_ROWS rows of taps: group by group, the first onto the
 * bias, the others onto the row). The taps and their columns' places are
 * worked out once for all channels. runs[kw]: tap_run_of(g, kw). */
static void zip_output_row(const col2im_args *a, const tap_run *runs, int64_t od, int64_t oh,
                           float *yr)
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
                zip_flush(a, &z, first, yr);
                first = 0;
                rows = 0;
            }
            rows++;
            /* channel 0's tap (kd, kh, 0) at the input row this row of taps reads */
            const float *c = col_row(a, id * g->in[1] + ih) + (kd * K1 + kh) * K2 * a->col_plane;
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
        zip_flush(a, &z, first, yr);
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

/* Whether W's taps take the zipped scatter: stride 2, dilation 1 and at
 * most CP_COL2IM_ZIP_KW taps. */
static int zipped_scatter(const cp_geom *g)
{
    return g->stride[2] == 2 && g->dilation[2] == 1 && g->kernel[2] <= CP_COL2IM_ZIP_KW;
}

/* Task t: band t % bands of rows y_lo .. y_hi - 1 (dim 1) of output
 * channel t / bands (zipped: of every channel, t < bands): the bias, then
 * every tap that reaches them. Each output element gets its taps in a
 * fixed order on one thread: zipped, the bias plus the sum of its taps in
 * (kd, kh, kw) order (see zip_output_row), else the bias, then each tap
 * in (kd, kh, kw) order. */
static void col2im_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const col2im_args *a = arg;
    const cp_geom *g = a->g;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t K0 = g->kernel[0], K1 = g->kernel[1], K2 = g->kernel[2];
    const int64_t band = cp_ceil_div(a->y_hi - a->y_lo, a->bands);
    const int64_t y_step = g->stride[1] * g->out[2];
    const int zipped = zipped_scatter(g);
    tap_run runs[CP_COL2IM_ZIP_KW];
    for (int64_t kw = 0; zipped && kw < K2; kw++)
        runs[kw] = tap_run_of(g, kw);
    for (int64_t t = begin; t < end; t++) {
        const int64_t m = t / a->bands, oh0 = a->y_lo + t % a->bands * band;
        const int64_t oh1 = oh0 + band < a->y_hi ? oh0 + band : a->y_hi;
        if (oh0 >= oh1)
            continue;
        if (zipped) {
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = oh0; oh < oh1; oh++)
                    zip_output_row(a, runs, od, oh, a->y + (od * g->out[1] + oh) * g->out[2]);
            continue;
        }
        float *yp = a->y + m * out_plane;
        const float b = a->pk->bias[m];
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
                    const int64_t ck = (m * a->pk->taps + (kd * K1 + kh) * K2 + kw) * a->col_plane;
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

static col_plan col_plan_of(const cp_conv_transpose_packed *pk, const cp_geom *g, int32_t threads)
{
    const int64_t rows = g->in[0] * g->in[1];
    col_plan cp = {rows, rows, rows, 1, threads};
    const int64_t row_bytes = g->m * pk->taps * g->in[2] * (int64_t)sizeof(float);
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

static size_t cols_bytes(const cp_geom *g, const cp_conv_transpose_packed *pk, const col_plan *cp)
{
    return cp_align_up((size_t)(g->m * pk->taps * cp->ring * g->in[2]) * sizeof(float));
}

/* A segment's scratch for the inner Conv's run_pixels (on the segment's
 * threads: all of the run's when it is alone, else 1). */
static size_t inner_bytes(const cp_conv_transpose_packed *pk, const cp_geom *g, const col_plan *cp)
{
    cp_geom ig;
    if (inner_geom(pk, g, &ig) != CONVPOOL_OK)
        return 0; /* unreachable: the op's own geometry resolved */
    return pk->inner->impl->pixels_workspace_size(pk->inner, &ig,
                                                  cp->segments == 1 ? cp->threads : 1);
}

/* The workspace of a GEMM-way run: each segment's ring, each segment's
 * inner scratch, then each pair's state. */
static size_t plan_bytes(const cp_geom *g, const cp_conv_transpose_packed *pk, const col_plan *cp)
{
    return (size_t)cp->segments * (cols_bytes(g, pk, cp) + inner_bytes(pk, g, cp)) +
           (size_t)(cp->segments / 2) * sizeof(pair_state);
}

/* One batch item of a GEMM-way run, as its segments see it. */
typedef struct item_args {
    const cp_geom *g;
    const cp_conv_transpose_packed *pk;
    const col_plan *cp;
    cp_run_args inner; /* the 1x1 Conv on this item's x */
    float *cols;       /* segment s's ring at s * cols_bytes */
    size_t ring_bytes;
    char *inner_ws; /* segment s's scratch for the inner Conv at s * inner_bytes */
    size_t inner_ws_bytes;
    pair_state *pairs; /* pair p's (segments 2p, 2p + 1) after the scratches */
    float *y;
} item_args;

/* Segment s's columns of input rows [r0, r1) into their slots of cols, on
 * at most `threads` threads. */
static void band_columns(const item_args *it, int64_t s, int64_t r0, int64_t r1, float *cols,
                         int32_t threads)
{
    const convpool_op *conv = it->inner.op;
    const int64_t in2 = it->g->in[2], ring = it->cp->ring;
    while (r0 < r1) {
        const int64_t slot = r0 % ring;
        const int64_t n = r1 - r0 < ring - slot ? r1 - r0 : ring - slot;
        cp_run_args part = it->inner;
        part.y = cols + slot * in2;
        part.workspace = it->inner_ws + (size_t)s * it->inner_ws_bytes;
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
        cp_threads_for_work(it->pk->taps * g->m * cp_geom_in_plane(g) * rows / g->out[1],
                            CP_COL2IM_MIN_WORK_PER_THREAD);
    threads = threads < worth ? threads : worth;
    col2im_args ca = {g,     it->pk, cols, cols_hi, split, it->cp->ring * g->in[2], it->cp->ring,
                      it->y, y0,     y1,   1};
    /* The zipped scatter's tasks are bands of rows of every channel; the
     * other's are channels, split into bands of rows where they are few,
     * so that every thread gets about CP_COL2IM_TASKS_PER_THREAD tasks. */
    const int64_t channels = zipped_scatter(g) ? 1 : g->m;
    if (threads > 1 && channels < (int64_t)threads * CP_COL2IM_TASKS_PER_THREAD) {
        ca.bands = cp_ceil_div((int64_t)threads * CP_COL2IM_TASKS_PER_THREAD, channels);
        ca.bands = ca.bands < rows ? ca.bands : rows;
    }
    cp_parallel_for(it->inner.ctx, channels * ca.bands, threads, col2im_task, &ca);
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
        band_columns(it, s, r0, r1, cols, threads);
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

size_t cp_col2im_workspace_size(const cp_conv_transpose_packed *pk, const cp_geom *g,
                                int32_t threads)
{
    const col_plan cp = col_plan_of(pk, g, threads);
    return plan_bytes(g, pk, &cp);
}

void cp_col2im_run(const cp_run_args *a, const cp_conv_transpose_packed *pk)
{
    const cp_geom *g = a->geom;
    cp_geom ig;
    if (inner_geom(pk, g, &ig) != CONVPOOL_OK)
        return; /* unreachable: the op's own geometry resolved */
    const col_plan cp = col_plan_of(pk, g, cp_context_threads(a->ctx));
    const int64_t in_item = g->c * cp_geom_in_plane(g), out_item = g->m * cp_geom_out_plane(g);
    const size_t ring_bytes = cols_bytes(g, pk, &cp), scratch_bytes = inner_bytes(pk, g, &cp);
    char *inner_ws = (char *)a->workspace + (size_t)cp.segments * ring_bytes;
    for (int64_t n = 0; n < g->n; n++) {
        item_args it = {g,
                        pk,
                        &cp,
                        {pk->inner, &ig, a->ctx, a->x + n * in_item, NULL, NULL, NULL},
                        a->workspace,
                        ring_bytes,
                        inner_ws,
                        scratch_bytes,
                        (pair_state *)(inner_ws + (size_t)cp.segments * scratch_bytes),
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
