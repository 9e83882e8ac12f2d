/*
 * pool_body.h - the SIMD pooling kernels, written once over a small vector
 * vocabulary (vf, vi, vm, LANES and the vf_/vi_/vm_ helpers) that
 * pool_avx512.c and pool_avx2.c define before including this file.
 *
 * Outputs are computed LANES at a time along the contiguous W dimension,
 * in one pass with no temporaries. Along W a chunk of LANES outputs is
 * "interior" when every tap of every lane lies inside the row: it uses
 * plain loads (stride 1), two loads and an even-lane permute (stride 2), or
 * a gather (other strides). Other chunks (padding, ceil_mode windows, the
 * tail) use the same loads masked lane by lane, with the masks of the
 * chunks at both ends computed once per call; masked-off lanes read no
 * memory, so nothing outside the input is touched. Dilation only changes
 * tap offsets, so it stays on these paths.
 *
 * Two walks:
 *  - strips (no depth): a task is a band of chunks of one plane walked top
 *    to bottom; each input row is reduced along W once into a small ring
 *    (AVX-512 without Indices: the row's columns are loaded once and each
 *    tap's lanes taken by permutes; with Indices: value, column and
 *    any-tap mask per lane), and each output row combines the ring rows of
 *    its window in order;
 *  - rows (3-D): a task is an output row; its input rows are listed once,
 *    then each chunk reads them tap by tap in row-major order, tracking
 *    value and int32 position with blends for Indices.
 *
 * MaxPool rule (as cp_ref_max_pool): taps in row-major order; a tap wins if
 * it is greater than the best so far, or NaN while the best is not: the
 * first maximum and the first NaN win. With Indices this is done per tap
 * (compare, two blends). Without, a plain vector max (which keeps the
 * earlier value on ties) and a running sum of the values read, which turns
 * NaN if one was NaN; the rare outputs whose window may hold a NaN are
 * recomputed by scalar code under the reference rule. (Only the sign of a
 * zero maximum can differ from the reference when -0 and +0 tie.)
 *
 * AveragePool: a float sum per lane divided by the per-lane tap count
 * (from the same masks, with the padded bounds when count_include_pad is
 * set); strips multiply by its reciprocal, computed once per divisor.
 *
 * Global pools: each plane summed (or maxed) into a vector, then LANES
 * planes reduced together by a transpose tree, so small planes (7x7) cost
 * a few instructions each instead of a horizontal reduction apiece.
 */
#include <math.h>
#include <stddef.h>

#define POOL_CAT_(a, b) a##_##b
#define POOL_CAT(a, b) POOL_CAT_(a, b)
#define POOL_FN(name) POOL_CAT(name, CP_POOL_ISA)
/* Helpers specialised on constant arguments (stride kind, Indices). */
#define POOL_INLINE static inline __attribute__((always_inline))

/* One output row: its plane and the input rows (D and H taps) it reads. */
typedef struct pool_row {
    int64_t p, od, oh;
    int64_t d_lo, d_hi, h_lo, h_hi; /* taps inside the input */
    int64_t count_dh;               /* AveragePool divisor from D and H */
} pool_row;

/* Fills row's tap ranges for its (od, oh); p, od, oh are set by the caller. */
static void row_taps(const cp_geom *g, pool_row *row)
{
    cp_tap_range(row->od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0,
                 g->in[0], &row->d_lo, &row->d_hi);
    cp_tap_range(row->oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1], 0,
                 g->in[1], &row->h_lo, &row->h_hi);
    if (g->count_include_pad) {
        int64_t a, b, c, d;
        cp_tap_range(row->od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0],
                     -g->pad_begin[0], g->in[0] + g->pad_end[0], &a, &b);
        cp_tap_range(row->oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1],
                     -g->pad_begin[1], g->in[1] + g->pad_end[1], &c, &d);
        row->count_dh = (b - a) * (d - c);
    } else {
        row->count_dh = (row->d_hi - row->d_lo) * (row->h_hi - row->h_lo);
    }
}

/* Row r's plane and (od, oh): divisions once per task, then next_row(). */
static void row_start(const cp_geom *g, int64_t r, pool_row *row)
{
    const int64_t rows_per_plane = g->out[0] * g->out[1];
    row->p = r / rows_per_plane;
    int64_t rem = r - row->p * rows_per_plane;
    row->od = rem / g->out[1];
    row->oh = rem - row->od * g->out[1];
    row_taps(g, row);
}

static void row_next(const cp_geom *g, pool_row *row)
{
    if (++row->oh == g->out[1]) {
        row->oh = 0;
        if (++row->od == g->out[0]) {
            row->od = 0;
            row->p++;
        }
    }
    row_taps(g, row);
}

/* Input row of tap (kd, kh) of `row`, as an offset in the plane. */
static inline int64_t tap_row(const cp_geom *g, const pool_row *row, int64_t kd, int64_t kh,
                              int64_t *id, int64_t *ih)
{
    *id = row->od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
    *ih = row->oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
    return (*id * g->in[1] + *ih) * g->in[2];
}

/* MaxPool of one output (ow) of `row` by the reference rule: for the lanes
 * whose fast max (no Indices) saw a NaN. */
static float max_one(const cp_geom *g, const pool_row *row, const float *xp, int64_t ow)
{
    int64_t w_lo, w_hi;
    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], g->kernel[2], 0, g->in[2],
                 &w_lo, &w_hi);
    float best = -INFINITY;
    int have = 0;
    for (int64_t kd = row->d_lo; kd < row->d_hi; kd++)
        for (int64_t kh = row->h_lo; kh < row->h_hi; kh++) {
            int64_t id, ih;
            const float *r = xp + tap_row(g, row, kd, kh, &id, &ih) + ow * g->stride[2] -
                             g->pad_begin[2];
            for (int64_t kw = w_lo; kw < w_hi; kw++) {
                float v = r[kw * g->dilation[2]];
                if (!have || v > best || (isnan(v) && !isnan(best)))
                    best = v;
                have = 1;
            }
        }
    return best;
}

/* Up to this many input rows (D x H taps) of an output row are listed once
 * per row; larger windows are listed in batches, chunk by chunk. */
#define POOL_ROW_CAP 64
/* Edge chunks whose masks are computed once per call: this many at each
 * end of a row, for kernels up to POOL_KW_CAP wide along W. */
#define POOL_EDGE_CHUNKS 4
#define POOL_KW_CAP 8

/* The input rows one output row reads, in row-major tap order. */
typedef struct pool_taps {
    int32_t count;
    const float *ptr[POOL_ROW_CAP];  /* start of each input row */
    int32_t pos[POOL_ROW_CAP];       /* Indices: plane position of its column 0 */
} pool_taps;

/* Masks of one edge chunk, per tap kw: the lanes whose tap is inside the
 * row, and (stride 2) the elements of the two loads that are inside. */
typedef struct pool_edge {
    vm tap[POOL_KW_CAP], elem_a[POOL_KW_CAP], elem_b[POOL_KW_CAP];
    vf count_w; /* AveragePool: taps per lane along W (padded bounds if counted) */
} pool_edge;

/* Row geometry along W, as int32 (cp_pool_x86_fits guarantees the range). */
typedef struct pool_w {
    int32_t W, OW, s, dil, K, pb, pe, chunks;
    int32_t wmul;    /* Indices: position step per input column */
    int S;           /* stride kind: 1, 2, or 0 (other) */
    vi lane_off;     /* lane * s */
    vi lane_ioff;    /* lane * s * wmul */
    int edge_cached; /* K <= POOL_KW_CAP: edge[] holds the edge chunks */
    pool_edge edge[2 * POOL_EDGE_CHUNKS];
#ifdef POOL_SEPARABLE
    /* tap kw of a separable window: permute indices into the reduced
     * vectors v0:v1 (take_idx) and v1:v2 (take_idx2, lanes take_hi) */
    vi take_idx[POOL_KW_CAP], take_idx2[POOL_KW_CAP];
    vm take_hi[POOL_KW_CAP];
#endif
} pool_w;

/* Tap kw of the LANES outputs of a chunk whose first tap is at p (row
 * start + first position). mode 0: interior, plain loads; 1: edge with
 * masks from e; 2: edge, masks computed here from the positions. */
POOL_INLINE vf load_tap(const pool_w *w, const float *p, int32_t first, int32_t kw, int S,
                        int mode, const pool_edge *e, vm *valid)
{
    const float *q = p + kw * w->dil;
    if (mode == 0) {
        *valid = vm_all();
        if (S == 1)
            return vf_loadu(q);
        if (S == 2)
            return vf_even(vf_loadu(q), vf_loadu(q + LANES));
        return vf_gather(vm_all(), q, w->lane_off);
    }
    if (mode == 1) {
        *valid = e->tap[kw];
        if (S == 1)
            return vf_loadz(e->tap[kw], q);
        if (S == 2)
            return vf_even(vf_loadz(e->elem_a[kw], q), vf_loadz(e->elem_b[kw], q + LANES));
        return vf_gather(e->tap[kw], q, w->lane_off);
    }
    /* masked-off lanes read nothing, so q may point outside the row */
    const int32_t pos0 = first + kw * w->dil;
    vm m = vm_range(vi_add(vi_set1(pos0), w->lane_off), 0, w->W);
    *valid = m;
    if (S == 1)
        return vf_loadz(m, q);
    if (S == 2) { /* element masks: odd elements in range are read and dropped */
        vi el = vi_add(vi_set1(pos0), vi_iota());
        return vf_even(vf_loadz(vm_range(el, 0, w->W), q),
                       vf_loadz(vm_range(vi_add(el, vi_set1(LANES)), 0, w->W), q + LANES));
    }
    return vf_gather(m, q, w->lane_off);
}

/* Taps per lane along W of the chunk starting at `first`: inside the row,
 * or inside the padded row for count_include_pad. */
static inline vf count_w_of(const cp_geom *g, const pool_w *w, int32_t first)
{
    const int32_t lo = g->count_include_pad ? -w->pb : 0;
    const int32_t hi = g->count_include_pad ? w->W + w->pe : w->W;
    vf cw = vf_zero();
    for (int32_t kw = 0; kw < w->K; kw++)
        cw = vf_count(vm_range(vi_add(vi_set1(first + kw * w->dil), w->lane_off), lo, hi), cw);
    return cw;
}

/* Edge slot of chunk c, or -1: the first and last POOL_EDGE_CHUNKS. */
static inline int edge_slot(const pool_w *w, int32_t c)
{
    if (c < POOL_EDGE_CHUNKS)
        return c;
    if (c >= w->chunks - POOL_EDGE_CHUNKS)
        return POOL_EDGE_CHUNKS + c - (w->chunks - POOL_EDGE_CHUNKS);
    return -1;
}

static void w_setup(const cp_geom *g, pool_w *w)
{
    w->W = (int32_t)g->in[2];
    w->OW = (int32_t)g->out[2];
    w->s = (int32_t)g->stride[2];
    w->dil = (int32_t)g->dilation[2];
    w->K = (int32_t)g->kernel[2];
    w->pb = (int32_t)g->pad_begin[2];
    w->pe = (int32_t)g->pad_end[2];
    w->chunks = (w->OW + LANES - 1) / LANES;
    w->S = w->s == 1 ? 1 : w->s == 2 ? 2 : 0;
    w->wmul = g->storage_order ? (int32_t)(g->in[0] * g->in[1]) : 1;
    w->lane_off = vi_mul(vi_iota(), vi_set1(w->s));
    w->lane_ioff = vi_mul(w->lane_off, vi_set1(w->wmul));
    w->edge_cached = w->K <= POOL_KW_CAP;
#ifdef POOL_SEPARABLE
    for (int32_t kw = 0; kw < w->K && kw < POOL_KW_CAP; kw++) {
        const vi idx = vi_add(vi_set1(kw * w->dil), vi_mul(vi_iota(), vi_set1(w->S == 2 ? 2 : 1)));
        w->take_idx[kw] = idx;
        w->take_idx2[kw] = vi_add(idx, vi_set1(-LANES));
        w->take_hi[kw] = vm_range(idx, 2 * LANES, 3 * LANES);
    }
#endif
    if (!w->edge_cached)
        return;
    for (int32_t c = 0; c < w->chunks; c++) {
        int slot = edge_slot(w, c);
        if (slot < 0) {
            c = w->chunks - POOL_EDGE_CHUNKS - 1; /* skip the middle */
            continue;
        }
        pool_edge *e = &w->edge[slot];
        const int32_t first = c * LANES * w->s - w->pb;
        for (int32_t kw = 0; kw < w->K; kw++) {
            const int32_t pos0 = first + kw * w->dil;
            vi el = vi_add(vi_set1(pos0), vi_iota());
            e->tap[kw] = vm_range(vi_add(vi_set1(pos0), w->lane_off), 0, w->W);
            e->elem_a[kw] = vm_range(el, 0, w->W);
            e->elem_b[kw] = vm_range(vi_add(el, vi_set1(LANES)), 0, w->W);
        }
        e->count_w = count_w_of(g, w, first);
    }
}

/* Lists up to POOL_ROW_CAP input rows of `row` from tap number `start`
 * (taps numbered row-major over D and H); returns the total tap rows. */
static int64_t list_taps(const cp_geom *g, const pool_w *w, const pool_row *row,
                         const float *xp, int64_t start, pool_taps *t)
{
    const int64_t nh = row->h_hi - row->h_lo, total = (row->d_hi - row->d_lo) * nh;
    const int64_t d0 = row->od * g->stride[0] - g->pad_begin[0];
    const int64_t h0 = row->oh * g->stride[1] - g->pad_begin[1];
    int64_t i = 0;
    t->count = 0;
    for (int64_t kd = row->d_lo; kd < row->d_hi; kd++) {
        const int64_t id = d0 + kd * g->dilation[0];
        for (int64_t kh = row->h_lo; kh < row->h_hi; kh++, i++) {
            if (i < start)
                continue;
            if (t->count == POOL_ROW_CAP)
                return total;
            const int64_t ih = h0 + kh * g->dilation[1];
            t->ptr[t->count] = xp + (id * g->in[1] + ih) * w->W;
            t->pos[t->count] = g->storage_order ? (int32_t)(ih * g->in[0] + id)
                                                : (int32_t)((id * g->in[1] + ih) * w->W);
            t->count++;
        }
    }
    return total;
}

/* Whether the chunk at ow0 is full and every position it loads is inside. */
static inline int chunk_interior(const pool_w *w, int32_t ow0)
{
    int32_t first = ow0 * w->s - w->pb;
    int32_t last = (ow0 + LANES - 1) * w->s - w->pb + (w->K - 1) * w->dil + (w->S == 2);
    return ow0 + LANES <= w->OW && first >= 0 && last < w->W;
}

/* Running state of one chunk of MaxPool outputs. */
typedef struct max_state {
    vf best, nan_sum;
    vi bidx;
    vm have;
} max_state;

POOL_INLINE void max_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
                          const pool_edge *e, int with_idx, max_state *st)
{
    for (int32_t r = 0; r < t->count; r++) {
        const float *p = t->ptr[r] + first;
        const vi ibase = with_idx ? vi_add(vi_set1(t->pos[r] + first * w->wmul), w->lane_ioff)
                                  : vi_set1(0);
        for (int32_t kw = 0; kw < w->K; kw++) {
            vm valid;
            vf v = load_tap(w, p, first, kw, S, mode, e, &valid);
            if (with_idx) {
                vm take = vm_takes(v, st->best);
                if (mode != 0) {
                    take = vm_and(valid, vm_or(vm_andnot(st->have, vm_all()), take));
                    st->have = vm_or(st->have, valid);
                }
                st->best = vf_select(take, st->best, v);
                st->bidx = vi_select(take, st->bidx, vi_add(ibase, vi_set1(kw * w->dil * w->wmul)));
            } else {
                vf m = vf_max(v, st->best);
                st->best = mode == 0 ? m : vf_select(valid, st->best, m);
                st->nan_sum = vf_add(st->nan_sum, v);
            }
        }
    }
}

POOL_INLINE vf avg_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
                        const pool_edge *e, vf sum)
{
    for (int32_t r = 0; r < t->count; r++) {
        const float *p = t->ptr[r] + first;
        vf row_sum = vf_zero(); /* a second chain: rows and taps overlap */
        for (int32_t kw = 0; kw < w->K; kw++) {
            vm valid;
            row_sum = vf_add(row_sum, load_tap(w, p, first, kw, S, mode, e, &valid));
        }
        sum = vf_add(sum, row_sum);
    }
    return sum;
}

/* Runs one of the calls with the stride kind as a constant (1, 2, other). */
#define POOL_BY_STRIDE(s, call1, call2, call0) \
    do {                                         \
        if ((s) == 1)                            \
            call1;                               \
        else if ((s) == 2)                       \
            call2;                               \
        else                                     \
            call0;                               \
    } while (0)

/* Runs `call` with mode as a constant: 0 interior, 1 cached edge, 2 edge. */
#define POOL_BY_MODE(mode, call0, call1, call2) \
    do {                                        \
        if ((mode) == 0)                        \
            call0;                              \
        else if ((mode) == 1)                   \
            call1;                              \
        else                                    \
            call2;                              \
    } while (0)

POOL_INLINE void max_row(const cp_geom *g, const pool_w *w, const pool_row *row,
                         const float *xp, float *yr, int64_t *ir, int64_t index_base, int S,
                         int with_idx)
{
    pool_taps t;
    const int64_t total = list_taps(g, w, row, xp, 0, &t);
    for (int32_t c = 0; c < w->chunks; c++) {
        const int32_t ow0 = c * LANES, first = ow0 * w->s - w->pb;
        const int n = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        const int slot = w->edge_cached ? edge_slot(w, c) : -1;
        const int mode = chunk_interior(w, ow0) ? 0 : slot >= 0 ? 1 : 2;
        const pool_edge *e = slot >= 0 ? &w->edge[slot] : NULL;
        max_state st = {vf_set1(-INFINITY), vf_zero(), vi_set1(-1), vm_none()};
        if (with_idx && mode == 0 && t.count > 0) /* all -inf: the first tap wins */
            st.bidx = vi_add(vi_set1(t.pos[0] + first * w->wmul), w->lane_ioff);
        for (int64_t start = 0;;) {
            POOL_BY_MODE(mode, max_taps(w, &t, first, S, 0, e, with_idx, &st),
                         max_taps(w, &t, first, S, 1, e, with_idx, &st),
                         max_taps(w, &t, first, S, 2, e, with_idx, &st));
            start += POOL_ROW_CAP;
            if (start >= total)
                break;
            list_taps(g, w, row, xp, start, &t);
        }
        if (total > POOL_ROW_CAP)
            list_taps(g, w, row, xp, 0, &t);
        if (!with_idx) {
            unsigned nan_lanes = vm_bits(vm_isnan(st.nan_sum)) & ((1u << n) - 1);
            if (nan_lanes) {
                float tmp[LANES];
                vf_storeu(tmp, st.best);
                for (int l = 0; l < n; l++)
                    if (nan_lanes & (1u << l))
                        tmp[l] = max_one(g, row, xp, ow0 + l);
                st.best = vf_loadu(tmp);
            }
        }
        if (n == LANES)
            vf_storeu(yr + ow0, st.best);
        else
            vf_store_first(yr + ow0, st.best, n);
        if (with_idx)
            vi_store_index64(ir + ow0, st.bidx, index_base, n);
    }
}

POOL_INLINE void avg_row(const cp_geom *g, const pool_w *w, const pool_row *row,
                         const float *xp, float *yr, int S)
{
    pool_taps t;
    const int64_t total = list_taps(g, w, row, xp, 0, &t);
    const vf count_dh = vf_set1((float)row->count_dh);
    const vf count_interior = vf_set1((float)row->count_dh * (float)w->K);
    for (int32_t c = 0; c < w->chunks; c++) {
        const int32_t ow0 = c * LANES, first = ow0 * w->s - w->pb;
        const int n = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        const int slot = w->edge_cached ? edge_slot(w, c) : -1;
        const int mode = chunk_interior(w, ow0) ? 0 : slot >= 0 ? 1 : 2;
        const pool_edge *e = slot >= 0 ? &w->edge[slot] : NULL;
        vf sum = vf_zero();
        for (int64_t start = 0;;) {
            POOL_BY_MODE(mode, sum = avg_taps(w, &t, first, S, 0, e, sum),
                         sum = avg_taps(w, &t, first, S, 1, e, sum),
                         sum = avg_taps(w, &t, first, S, 2, e, sum));
            start += POOL_ROW_CAP;
            if (start >= total)
                break;
            list_taps(g, w, row, xp, start, &t);
        }
        if (total > POOL_ROW_CAP)
            list_taps(g, w, row, xp, 0, &t);
        const vf count = mode == 0 ? count_interior
                                   : vf_mul(mode == 1 ? e->count_w : count_w_of(g, w, first),
                                            count_dh);
        vf avg = vf_div(sum, count);
        if (n == LANES)
            vf_storeu(yr + ow0, avg);
        else
            vf_store_first(yr + ow0, avg, n);
    }
}

/* The row kernels specialised per stride kind (S: 1, 2, 0 = other), so
 * each inner loop is compiled for its load pattern. */
typedef void (*pool_row_fn)(const cp_geom *g, const pool_w *w, const pool_row *row,
                            const float *xp, float *yr, int64_t *ir, int64_t index_base);
#define POOL_ROW_KERNELS(S)                                                                 \
    static void avg_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,        \
                             const float *xp, float *yr, int64_t *ir, int64_t index_base)   \
    {                                                                                       \
        (void)ir;                                                                           \
        (void)index_base;                                                                   \
        avg_row(g, w, row, xp, yr, S);                                                      \
    }                                                                                       \
    static void max_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,        \
                             const float *xp, float *yr, int64_t *ir, int64_t index_base)   \
    {                                                                                       \
        max_row(g, w, row, xp, yr, ir, index_base, S, 0);                                   \
    }                                                                                       \
    static void max_idx_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,    \
                                 const float *xp, float *yr, int64_t *ir, int64_t index_base) \
    {                                                                                       \
        max_row(g, w, row, xp, yr, ir, index_base, S, 1);                                   \
    }
POOL_ROW_KERNELS(0)
POOL_ROW_KERNELS(1)
POOL_ROW_KERNELS(2)

/* Rows [row_begin, row_end) of AveragePool (op 0), MaxPool (1) or MaxPool
 * with Indices (2). */
static void pool_rows(const cp_geom *g, const float *x, float *y, int64_t *indices,
                      int64_t row_begin, int64_t row_end, int op)
{
    static const pool_row_fn kernels[3][3] = {
        {avg_row_s0, avg_row_s1, avg_row_s2},
        {max_row_s0, max_row_s1, max_row_s2},
        {max_idx_row_s0, max_idx_row_s1, max_idx_row_s2},
    };
    const int64_t in_plane = cp_geom_in_plane(g), OW = g->out[2];
    pool_w w;
    w_setup(g, &w);
    const pool_row_fn kernel = kernels[op][w.S];
    pool_row row;
    for (int64_t r = row_begin; r < row_end; r++) {
        if (r == row_begin)
            row_start(g, r, &row);
        else
            row_next(g, &row);
        kernel(g, &w, &row, x + row.p * in_plane, y + r * OW, indices ? indices + r * OW : NULL,
               row.p * in_plane);
    }
}

static void POOL_FN(max_rows)(const cp_geom *g, const float *x, float *y, int64_t *indices,
                              int64_t row_begin, int64_t row_end)
{
    pool_rows(g, x, y, indices, row_begin, row_end, indices ? 2 : 1);
}

static void POOL_FN(avg_rows)(const cp_geom *g, const float *x, float *y, int64_t row_begin,
                              int64_t row_end)
{
    pool_rows(g, x, y, NULL, row_begin, row_end, 0);
}

/*
 * Strips (MaxPool without Indices and AveragePool on planes without depth):
 * one task is one column chunk of one plane, walked down all its output
 * rows. Each input row is reduced along W once (the horizontal window of
 * every lane: AVX-512 loads the row's columns once and takes each tap's
 * lanes with permutes; AVX2 loads per tap) and kept in a small ring of
 * rows; each output row then reduces the ring rows of its window. Rows
 * shared by consecutive windows (stride < kernel) are not recomputed, and
 * there is no per-row setup beyond a tag check.
 */
#define POOL_RING 32

static inline int strips_ok(const cp_geom *g)
{
    return g->in[0] == 1 && g->kernel[0] == 1 && g->pad_begin[0] == 0 && g->pad_end[0] == 0 &&
           (g->kernel[1] - 1) * g->dilation[1] + g->stride[1] <= POOL_RING;
}

#ifdef POOL_SEPARABLE
/* Columns [pos, pos + LANES) of row rp; columns outside the row are `fill`
 * (masked-off lanes read nothing, so rp + pos may lie outside the row). */
POOL_INLINE vf row_block(const pool_w *w, const float *rp, int32_t pos, vf fill)
{
    if (pos >= 0 && pos + LANES <= w->W)
        return vf_loadu(rp + pos);
    if (pos + LANES > 0 && pos < w->W)
        return vf_loadm(vm_range(vi_add(vi_set1(pos), vi_iota()), 0, w->W), rp + pos, fill);
    return fill;
}
#endif

/* Horizontal window of every lane of the chunk at `first`, on input row rp;
 * *nan gets a sum of the values read (NaN if one was; max only). */
POOL_INLINE vf horizontal(const pool_w *w, const float *rp, int32_t first, int S, int mode,
                          const pool_edge *e, int is_max, vf *nan)
{
    const vf fill = is_max ? vf_set1(-INFINITY) : vf_zero();
    vf nan_sum = vf_zero(), acc = fill;
#ifdef POOL_SEPARABLE
    if ((S == 1 || S == 2) && w->K <= POOL_KW_CAP && (w->K - 1) * w->dil <= 16) {
        const int32_t ext = (w->K - 1) * w->dil;
        const int nvec = S == 1 ? 1 + (ext > 0) : 2 + (ext > 1);
        /* the row's columns [first, first + nvec * LANES), in registers */
        vf v0 = row_block(w, rp, first, fill), v1 = v0, v2;
        if (nvec > 1)
            v1 = row_block(w, rp, first + LANES, fill);
        v2 = nvec > 2 ? row_block(w, rp, first + 2 * LANES, fill) : v1;
        if (is_max)
            nan_sum = vf_add(vf_add(v0, nvec > 1 ? v1 : vf_zero()), nvec > 2 ? v2 : vf_zero());
        for (int32_t kw = 0; kw < w->K; kw++) {
            vf h = S == 1 && kw == 0 ? v0
                                     : vf_take(v0, v1, v2, w->take_idx[kw], w->take_idx2[kw],
                                               w->take_hi[kw]);
            acc = is_max ? vf_max(h, acc) : vf_add(acc, h);
        }
        *nan = nan_sum;
        return acc;
    }
#endif
    for (int32_t kw = 0; kw < w->K; kw++) {
        vm valid;
        vf v = load_tap(w, rp + first, first, kw, S, mode, e, &valid);
        if (is_max) {
            vf m = vf_max(v, acc);
            acc = mode == 0 ? m : vf_select(valid, acc, m);
            nan_sum = vf_add(nan_sum, v);
        } else {
            acc = vf_add(acc, v);
        }
    }
    *nan = nan_sum;
    return acc;
}

/* The vertical taps of output rows 0 .. POOL_ROW_TABLE-1, the same for every
 * strip: computed once per call. */
#define POOL_ROW_TABLE 256
typedef struct pool_row_table {
    int32_t rows;
    int32_t h_lo[POOL_ROW_TABLE], h_hi[POOL_ROW_TABLE], count_dh[POOL_ROW_TABLE];
} pool_row_table;

static void row_table_setup(const cp_geom *g, pool_row_table *t)
{
    t->rows = g->out[1] < POOL_ROW_TABLE ? (int32_t)g->out[1] : POOL_ROW_TABLE;
    for (int32_t oh = 0; oh < t->rows; oh++) {
        pool_row row = {0, 0, oh, 0, 1, 0, 0, 0};
        row_taps(g, &row);
        t->h_lo[oh] = (int32_t)row.h_lo;
        t->h_hi[oh] = (int32_t)row.h_hi;
        t->count_dh[oh] = (int32_t)row.count_dh;
    }
}

/* Up to this many chunks side by side form one strip, so that each input
 * row is read in runs of up to POOL_STRIP_CHUNKS * LANES * stride columns
 * (the hardware prefetcher follows those; it loses narrower columns). */
#define POOL_STRIP_CHUNKS 4

POOL_INLINE void strip(const cp_geom *g, const pool_w *w, const pool_row_table *rt,
                       const float *xp, float *yp, int32_t c0, int S, int is_max, int band)
{
    const int cc_n = band == 1 || w->chunks - c0 >= band ? band : w->chunks - c0; /* >= 1 */
    int32_t first[POOL_STRIP_CHUNKS];
    int mode[POOL_STRIP_CHUNKS], n[POOL_STRIP_CHUNKS];
    const pool_edge *e[POOL_STRIP_CHUNKS];
    vf count_w[POOL_STRIP_CHUNKS], scale[POOL_STRIP_CHUNKS];
    for (int cc = 0; cc < cc_n; cc++) {
        const int32_t c = c0 + cc, ow0 = c * LANES;
        const int slot = w->edge_cached ? edge_slot(w, c) : -1;
        first[cc] = ow0 * w->s - w->pb;
        scale[cc] = vf_zero(); /* set at the first output row */
        n[cc] = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        mode[cc] = chunk_interior(w, ow0) ? 0 : slot >= 0 ? 1 : 2;
        e[cc] = slot >= 0 ? &w->edge[slot] : NULL;
        count_w[cc] = is_max ? vf_zero()
                      : mode[cc] == 0 ? vf_set1((float)w->K)
                      : mode[cc] == 1 ? e[cc]->count_w
                                      : count_w_of(g, w, first[cc]);
    }
    const int64_t OH = g->out[1], sh = g->stride[1], dh = g->dilation[1];
    const int64_t ph = g->pad_begin[1];
    vf ring[POOL_RING][POOL_STRIP_CHUNKS];
    int64_t tag[POOL_RING];
    unsigned char ring_nan[POOL_RING];
    for (int i = 0; i < POOL_RING; i++)
        tag[i] = -1;
    int64_t scale_count = -1;
    for (int64_t oh = 0; oh < OH; oh++) {
        pool_row row = {0, 0, oh, 0, 1, 0, 0, 0};
        if (oh < rt->rows) {
            row.h_lo = rt->h_lo[oh];
            row.h_hi = rt->h_hi[oh];
            row.count_dh = rt->count_dh[oh];
        } else {
            row_taps(g, &row);
        }
        vf acc[POOL_STRIP_CHUNKS];
        int nan_seen = 0;
        for (int cc = 0; cc < cc_n; cc++)
            acc[cc] = is_max ? vf_set1(-INFINITY) : vf_zero();
        for (int64_t kh = row.h_lo; kh < row.h_hi; kh++) {
            const int64_t ih = oh * sh - ph + kh * dh;
            const int i = (int)(ih & (POOL_RING - 1));
            if (tag[i] != ih) { /* a new input row: reduce it along W once */
                vf nan = vf_zero();
                for (int cc = 0; cc < cc_n; cc++) {
                    vf nan_cc;
                    POOL_BY_MODE(mode[cc],
                                 ring[i][cc] = horizontal(w, xp + ih * w->W, first[cc], S, 0,
                                                          e[cc], is_max, &nan_cc),
                                 ring[i][cc] = horizontal(w, xp + ih * w->W, first[cc], S, 1,
                                                          e[cc], is_max, &nan_cc),
                                 ring[i][cc] = horizontal(w, xp + ih * w->W, first[cc], S, 2,
                                                          e[cc], is_max, &nan_cc));
                    if (is_max)
                        nan = vf_add(nan, nan_cc);
                }
                ring_nan[i] = is_max && vm_bits(vm_isnan(nan)) != 0;
                tag[i] = ih;
            }
            for (int cc = 0; cc < cc_n; cc++)
                acc[cc] = is_max ? vf_max(ring[i][cc], acc[cc]) : vf_add(acc[cc], ring[i][cc]);
            nan_seen |= ring_nan[i];
        }
        if (!is_max && row.count_dh != scale_count) { /* divide once per divisor */
            for (int cc = 0; cc < cc_n; cc++)
                scale[cc] = vf_div(vf_set1(1.0f), vf_mul(count_w[cc], vf_set1((float)row.count_dh)));
            scale_count = row.count_dh;
        }
        for (int cc = 0; cc < cc_n; cc++) {
            const int32_t ow0 = (c0 + cc) * LANES;
            vf out = is_max ? acc[cc] : vf_mul(acc[cc], scale[cc]);
            if (nan_seen) { /* rare: these lanes by the reference rule */
                float tmp[LANES];
                vf_storeu(tmp, out);
                for (int l = 0; l < n[cc]; l++)
                    tmp[l] = max_one(g, &row, xp, ow0 + l);
                out = vf_loadu(tmp);
            }
            if (n[cc] == LANES)
                vf_storeu(yp + oh * w->OW + ow0, out);
            else
                vf_store_first(yp + oh * w->OW + ow0, out, n[cc]);
        }
    }
}

/* MaxPool with Indices along W on input row rp: per lane the winning tap
 * by the reference rule (kw order), its column, and whether any tap of the
 * lane was inside the row. */
POOL_INLINE void horizontal_idx(const pool_w *w, const float *rp, int32_t first, int S, int mode,
                                const pool_edge *e, vf *best, vi *col, vm *have)
{
    vf b = vf_set1(-INFINITY);
    vi c = vi_set1(-1);
    vm h = vm_none();
    const vi lane_col = vi_add(vi_set1(first), w->lane_off);
    for (int32_t kw = 0; kw < w->K; kw++) {
        vm valid;
        vf v = load_tap(w, rp + first, first, kw, S, mode, e, &valid);
        vm take = vm_takes(v, b);
        if (mode == 0 && kw == 0)
            take = vm_all(); /* all -inf: the first tap wins */
        else if (mode != 0)
            take = vm_and(valid, vm_or(vm_andnot(h, vm_all()), take));
        b = vf_select(take, b, v);
        c = vi_select(take, c, vi_add(lane_col, vi_set1(kw * w->dil)));
        h = vm_or(h, valid);
    }
    *best = b;
    *col = c;
    *have = h;
}

/* The strip walk for MaxPool with Indices: rows reduced along W into a ring
 * of (value, column, any-tap) triples, combined down the window in kh order
 * by the same rule, so the first maximum and the first NaN win as in the
 * reference (row-major tap order). */
POOL_INLINE void strip_idx(const cp_geom *g, const pool_w *w, const pool_row_table *rt,
                           const float *xp, float *yp, int64_t *ip, int64_t index_base,
                           int32_t c0, int S, int band)
{
    const int cc_n = band == 1 || w->chunks - c0 >= band ? band : w->chunks - c0; /* >= 1 */
    int32_t first[POOL_STRIP_CHUNKS];
    int mode[POOL_STRIP_CHUNKS], n[POOL_STRIP_CHUNKS];
    const pool_edge *e[POOL_STRIP_CHUNKS];
    for (int cc = 0; cc < cc_n; cc++) {
        const int32_t c = c0 + cc, ow0 = c * LANES;
        const int slot = w->edge_cached ? edge_slot(w, c) : -1;
        first[cc] = ow0 * w->s - w->pb;
        n[cc] = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        mode[cc] = chunk_interior(w, ow0) ? 0 : slot >= 0 ? 1 : 2;
        e[cc] = slot >= 0 ? &w->edge[slot] : NULL;
    }
    vf ring_best[POOL_RING][POOL_STRIP_CHUNKS];
    vi ring_pos[POOL_RING][POOL_STRIP_CHUNKS]; /* column * wmul */
    vm ring_have[POOL_RING][POOL_STRIP_CHUNKS];
    int64_t tag[POOL_RING];
    for (int i = 0; i < POOL_RING; i++)
        tag[i] = -1;
    const vi wmul = vi_set1(w->wmul);
    for (int64_t oh = 0; oh < g->out[1]; oh++) {
        pool_row row = {0, 0, oh, 0, 1, 0, 0, 0};
        if (oh < rt->rows) {
            row.h_lo = rt->h_lo[oh];
            row.h_hi = rt->h_hi[oh];
        } else {
            row_taps(g, &row);
        }
        vf best[POOL_STRIP_CHUNKS];
        vi idx[POOL_STRIP_CHUNKS];
        vm have[POOL_STRIP_CHUNKS];
        for (int cc = 0; cc < cc_n; cc++) {
            best[cc] = vf_set1(-INFINITY);
            idx[cc] = vi_set1(-1);
            have[cc] = vm_none();
        }
        for (int64_t kh = row.h_lo; kh < row.h_hi; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
            const int i = (int)(ih & (POOL_RING - 1));
            if (tag[i] != ih) { /* a new input row: reduce it along W once */
                for (int cc = 0; cc < cc_n; cc++) {
                    vi col;
                    POOL_BY_MODE(mode[cc],
                                 horizontal_idx(w, xp + ih * w->W, first[cc], S, 0, e[cc],
                                                &ring_best[i][cc], &col, &ring_have[i][cc]),
                                 horizontal_idx(w, xp + ih * w->W, first[cc], S, 1, e[cc],
                                                &ring_best[i][cc], &col, &ring_have[i][cc]),
                                 horizontal_idx(w, xp + ih * w->W, first[cc], S, 2, e[cc],
                                                &ring_best[i][cc], &col, &ring_have[i][cc]));
                    ring_pos[i][cc] = vi_mul(col, wmul);
                }
                tag[i] = ih;
            }
            /* position of this row's column 0 in the plane (no depth) */
            const vi rowpos = vi_set1(g->storage_order ? (int32_t)ih : (int32_t)ih * w->W);
            for (int cc = 0; cc < cc_n; cc++) {
                vm take = vm_and(ring_have[i][cc], vm_or(vm_andnot(have[cc], vm_all()),
                                                         vm_takes(ring_best[i][cc], best[cc])));
                best[cc] = vf_select(take, best[cc], ring_best[i][cc]);
                idx[cc] = vi_select(take, idx[cc], vi_add(rowpos, ring_pos[i][cc]));
                have[cc] = vm_or(have[cc], ring_have[i][cc]);
            }
        }
        for (int cc = 0; cc < cc_n; cc++) {
            const int64_t at = oh * w->OW + (c0 + cc) * LANES;
            if (n[cc] == LANES)
                vf_storeu(yp + at, best[cc]);
            else
                vf_store_first(yp + at, best[cc], n[cc]);
            vi_store_index64(ip + at, idx[cc], index_base, n[cc]);
        }
    }
}

/* Chunks per strip: one for small planes (held in L1/L2, the strip's
 * state stays in registers), POOL_STRIP_CHUNKS for larger ones. */
static inline int strip_band(const cp_geom *g)
{
    return g->in[1] * g->in[2] <= 8192 ? 1 : POOL_STRIP_CHUNKS;
}

/* Strips [task_begin, task_end): task = plane * strips per plane + strip. */
POOL_INLINE void strips(const cp_geom *g, const float *x, float *y, int64_t *indices,
                        int64_t task_begin, int64_t task_end, int is_max)
{
    pool_w w;
    pool_row_table rt;
    w_setup(g, &w);
    row_table_setup(g, &rt);
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    const int band = strip_band(g);
    const int32_t strips_per_plane = (w.chunks + band - 1) / band;
    for (int64_t t = task_begin; t < task_end; t++) {
        const int64_t p = t / strips_per_plane;
        const int32_t c = (int32_t)(t - p * strips_per_plane) * band;
        const float *xp = x + p * in_plane;
        float *yp = y + p * out_plane;
        if (indices) {
            int64_t *ip = indices + p * out_plane, base = p * in_plane;
#define POOL_STRIP_IDX(S, band) strip_idx(g, &w, &rt, xp, yp, ip, base, c, S, band)
            if (band == 1)
                POOL_BY_STRIDE(w.S, POOL_STRIP_IDX(1, 1), POOL_STRIP_IDX(2, 1),
                               POOL_STRIP_IDX(0, 1));
            else
                POOL_BY_STRIDE(w.S, POOL_STRIP_IDX(1, POOL_STRIP_CHUNKS),
                               POOL_STRIP_IDX(2, POOL_STRIP_CHUNKS),
                               POOL_STRIP_IDX(0, POOL_STRIP_CHUNKS));
#undef POOL_STRIP_IDX
            continue;
        }
#define POOL_STRIP(S, band) strip(g, &w, &rt, xp, yp, c, S, is_max, band)
        if (band == 1)
            POOL_BY_STRIDE(w.S, POOL_STRIP(1, 1), POOL_STRIP(2, 1), POOL_STRIP(0, 1));
        else
            POOL_BY_STRIDE(w.S, POOL_STRIP(1, POOL_STRIP_CHUNKS), POOL_STRIP(2, POOL_STRIP_CHUNKS),
                           POOL_STRIP(0, POOL_STRIP_CHUNKS));
#undef POOL_STRIP
    }
}

static int64_t POOL_FN(strip_tasks)(const cp_geom *g)
{
    const int64_t chunks = (g->out[2] + LANES - 1) / LANES;
    return strips_ok(g) ? g->n * g->c * ((chunks + strip_band(g) - 1) / strip_band(g)) : 0;
}

static void POOL_FN(max_strips)(const cp_geom *g, const float *x, float *y, int64_t *indices,
                                int64_t task_begin, int64_t task_end)
{
    strips(g, x, y, indices, task_begin, task_end, 1);
}

static void POOL_FN(avg_strips)(const cp_geom *g, const float *x, float *y, int64_t task_begin,
                                int64_t task_end)
{
    strips(g, x, y, NULL, task_begin, task_end, 0);
}

/* Sum (or max) of one plane's n values as a vector of partial results;
 * *nan_seen is set if a value was NaN (max only). Fixed order for a given n. */
POOL_INLINE vf plane_reduce(const float *p, int64_t n, int is_max, int *nan_seen)
{
    const vf init = is_max ? vf_set1(-INFINITY) : vf_zero();
    vf a0 = init, a1 = init, a2 = init, a3 = init, nan_sum = vf_zero();
#define POOL_ACC(a, v) ((a) = is_max ? vf_max((v), (a)) : vf_add((a), (v)))
    int64_t i = 0;
    for (; i + 4 * LANES <= n; i += 4 * LANES) {
        vf v0 = vf_loadu(p + i), v1 = vf_loadu(p + i + LANES);
        vf v2 = vf_loadu(p + i + 2 * LANES), v3 = vf_loadu(p + i + 3 * LANES);
        POOL_ACC(a0, v0);
        POOL_ACC(a1, v1);
        POOL_ACC(a2, v2);
        POOL_ACC(a3, v3);
        if (is_max)
            nan_sum = vf_add(nan_sum, vf_add(vf_add(v0, v1), vf_add(v2, v3)));
    }
    for (; i + LANES <= n; i += LANES) {
        vf v = vf_loadu(p + i);
        POOL_ACC(a0, v);
        if (is_max)
            nan_sum = vf_add(nan_sum, v);
    }
    if (i < n) {
        vm m = vm_range(vi_iota(), 0, (int32_t)(n - i));
        vf v = vf_loadz(m, p + i);
        if (is_max) {
            nan_sum = vf_add(nan_sum, v);
            v = vf_select(m, init, v);
        }
        POOL_ACC(a1, v);
    }
#undef POOL_ACC
    if (is_max) {
        *nan_seen = vm_bits(vm_isnan(nan_sum)) != 0;
        return vf_max(vf_max(a0, a1), vf_max(a2, a3));
    }
    return vf_add(vf_add(a0, a1), vf_add(a2, a3));
}

POOL_INLINE void global_pool(const cp_geom *g, const float *x, float *y, int64_t group_begin,
                             int64_t group_end, int is_max)
{
    const int64_t S = cp_geom_in_plane(g), planes = g->n * g->c;
    for (int64_t grp = group_begin; grp < group_end; grp++) {
        const int64_t p0 = grp * LANES;
        const int np = planes - p0 < LANES ? (int)(planes - p0) : LANES;
        vf acc[LANES];
        unsigned nan_planes = 0;
        for (int j = 0; j < LANES; j++) {
            int nan_seen = 0;
            acc[j] = j < np ? plane_reduce(x + (p0 + j) * S, S, is_max, &nan_seen) : vf_zero();
            nan_planes |= (unsigned)nan_seen << j;
        }
        vf r = vf_reduce_each(acc, is_max);
        if (!is_max)
            r = vf_div(r, vf_set1((float)S));
        if (np == LANES)
            vf_storeu(y + p0, r);
        else
            vf_store_first(y + p0, r, np);
        for (int j = 0; j < np; j++) /* rare: the first NaN, by the reference rule */
            if (nan_planes & (1u << j)) {
                const float *xp = x + (p0 + j) * S;
                float best = xp[0];
                for (int64_t i = 1; i < S && !isnan(best); i++)
                    if (xp[i] > best || isnan(xp[i]))
                        best = xp[i];
                y[p0 + j] = best;
            }
    }
}

static void POOL_FN(global_max)(const cp_geom *g, const float *x, float *y, int64_t group_begin,
                                int64_t group_end)
{
    global_pool(g, x, y, group_begin, group_end, 1);
}

static void POOL_FN(global_avg)(const cp_geom *g, const float *x, float *y, int64_t group_begin,
                                int64_t group_end)
{
    global_pool(g, x, y, group_begin, group_end, 0);
}

const cp_pool_kernels POOL_CAT(cp_pool_kernels, CP_POOL_ISA) = {
    .lanes = LANES,
    .max_rows = POOL_FN(max_rows),
    .avg_rows = POOL_FN(avg_rows),
    .global_max = POOL_FN(global_max),
    .global_avg = POOL_FN(global_avg),
    .strip_tasks = POOL_FN(strip_tasks),
    .max_strips = POOL_FN(max_strips),
    .avg_strips = POOL_FN(avg_strips),
};
