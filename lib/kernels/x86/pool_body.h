/*
 * pool_body.h - the SIMD pooling kernels, written once over a small vector
 * vocabulary (vf, vi, vm, LANES and the vf_/vi_/vm_ helpers) that
 * pool_avx512.c and pool_avx2.c define before including this file.
 *
 * Windowed pools (MaxPool, AveragePool): one output row at a time, LANES
 * outputs per vector along W, one pass over the taps with no temporaries.
 * The D and H taps of a row are clipped to the input once per row
 * (cp_tap_range), so only W needs care. A chunk of LANES outputs is
 * "interior" when every tap of every lane lies inside the row: it uses
 * plain loads (stride 1), two loads and an even-lane permute (stride 2), or
 * a gather (other strides) with no checks. Other chunks (left/right padding,
 * ceil_mode windows, the tail) use the same loads masked lane by lane:
 * masked-off lanes read no memory, so nothing past the row is touched.
 * Dilation only changes the tap offsets, so it stays on these paths.
 *
 * MaxPool rule (as cp_ref_max_pool): taps in row-major order, a tap wins if
 * it is greater than the best so far or NaN while the best is not, so the
 * first maximum and the first NaN win. With Indices this is done per tap
 * with a compare and two blends (value and int32 position). Without
 * Indices, a plain vector max (which keeps the earlier value on ties, as
 * the reference does) plus a running sum that turns NaN if any tap was NaN;
 * the rare lanes that saw a NaN are recomputed exactly by scalar code.
 *
 * AveragePool: a float sum per lane divided by the per-lane tap count
 * (counted from the same masks, with the padded bounds for
 * count_include_pad).
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

static void row_setup(const cp_geom *g, int64_t r, pool_row *row)
{
    const int64_t rows_per_plane = g->out[0] * g->out[1];
    row->p = r / rows_per_plane;
    int64_t rem = r - row->p * rows_per_plane;
    row->od = rem / g->out[1];
    row->oh = rem - row->od * g->out[1];
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

/* Tap values of LANES outputs whose first tap is at p, all inside the row. */
POOL_INLINE vf load_full(const float *p, int S, vi lane_off)
{
    if (S == 1)
        return vf_loadu(p);
    if (S == 2)
        return vf_even(vf_loadu(p), vf_loadu(p + LANES));
    return vf_gather(vm_all(), p, lane_off);
}

/*
 * Tap values at positions pos0 + lane_off of `row` (W wide). Lanes outside
 * [0, W) read nothing and are 0; *valid gets the lanes inside.
 */
POOL_INLINE vf load_edge(const float *row, int32_t pos0, int S, vi lane_off, int32_t W,
                         vm *valid)
{
    vi pos = vi_add(vi_set1(pos0), lane_off);
    vm m = vm_range(pos, 0, W);
    *valid = m;
    if (S == 1)
        return vf_loadz(m, row + pos0);
    if (S == 2) { /* element masks: the odd elements in range are read and dropped */
        vi e = vi_add(vi_set1(pos0), vi_iota());
        return vf_even(vf_loadz(vm_range(e, 0, W), row + pos0),
                       vf_loadz(vm_range(vi_add(e, vi_set1(LANES)), 0, W), row + pos0 + LANES));
    }
    return vf_gather(m, row, pos);
}

/* Row geometry along W, as int32 (cp_pool_x86_fits guarantees the range). */
typedef struct pool_w {
    int32_t W, OW, s, dil, K, pb, pe;
    int32_t wmul;   /* Indices: position step per input column */
    vi lane_off;    /* lane * s */
    vi lane_ioff;   /* lane * s * wmul */
} pool_w;

static inline void w_setup(const cp_geom *g, pool_w *w)
{
    w->W = (int32_t)g->in[2];
    w->OW = (int32_t)g->out[2];
    w->s = (int32_t)g->stride[2];
    w->dil = (int32_t)g->dilation[2];
    w->K = (int32_t)g->kernel[2];
    w->pb = (int32_t)g->pad_begin[2];
    w->pe = (int32_t)g->pad_end[2];
    w->wmul = g->storage_order ? (int32_t)(g->in[0] * g->in[1]) : 1;
    w->lane_off = vi_mul(vi_iota(), vi_set1(w->s));
    w->lane_ioff = vi_mul(w->lane_off, vi_set1(w->wmul));
}

/* Whether the chunk at ow0 is full and every position it loads is inside. */
static inline int chunk_interior(const pool_w *w, int32_t ow0, int S)
{
    int32_t first = ow0 * w->s - w->pb;
    int32_t last = (ow0 + LANES - 1) * w->s - w->pb + (w->K - 1) * w->dil + (S == 2);
    return ow0 + LANES <= w->OW && first >= 0 && last < w->W;
}

POOL_INLINE void max_row(const cp_geom *g, const pool_w *w, const pool_row *row,
                         const float *xp, float *yr, int64_t *ir, int64_t index_base, int S,
                         int with_idx)
{
    const vf neg_inf = vf_set1(-INFINITY);
    for (int32_t ow0 = 0; ow0 < w->OW; ow0 += LANES) {
        const int n = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        const int32_t first = ow0 * w->s - w->pb;
        const int interior = chunk_interior(w, ow0, S);
        vf best = neg_inf, nan_sum = vf_zero();
        vi bidx = vi_set1(-1);
        vm have = vm_none();
        int started = 0;
        for (int64_t kd = row->d_lo; kd < row->d_hi; kd++)
            for (int64_t kh = row->h_lo; kh < row->h_hi; kh++) {
                int64_t id, ih;
                const float *rp = xp + tap_row(g, row, kd, kh, &id, &ih);
                vi ibase = vi_set1(0);
                if (with_idx) {
                    int32_t rowpos = g->storage_order ? (int32_t)(ih * g->in[0] + id)
                                                      : (int32_t)(id * g->in[1] + ih) * w->W;
                    ibase = vi_add(vi_set1(rowpos + first * w->wmul), w->lane_ioff);
                    if (interior && !started) /* all -inf taps: the first one wins */
                        bidx = ibase;
                    started = 1;
                }
                for (int32_t kw = 0; kw < w->K; kw++) {
                    const int32_t pos0 = first + kw * w->dil;
                    vm valid = vm_all();
                    vf v = interior ? load_full(rp + pos0, S, w->lane_off)
                                    : load_edge(rp, pos0, S, w->lane_off, w->W, &valid);
                    if (with_idx) {
                        vi iv = vi_add(ibase, vi_set1(kw * w->dil * w->wmul));
                        vm take = vm_takes(v, best);
                        if (!interior) {
                            take = vm_and(valid, vm_or(vm_andnot(have, vm_all()), take));
                            have = vm_or(have, valid);
                        }
                        best = vf_select(take, best, v);
                        bidx = vi_select(take, bidx, iv);
                    } else {
                        vf m = vf_max(v, best);
                        best = interior ? m : vf_select(valid, best, m);
                        nan_sum = vf_add(nan_sum, v);
                    }
                }
            }
        if (!with_idx) {
            unsigned nan_lanes = vm_bits(vm_isnan(nan_sum)) & ((1u << n) - 1);
            if (nan_lanes) {
                float tmp[LANES];
                vf_storeu(tmp, best);
                for (int l = 0; l < n; l++)
                    if (nan_lanes & (1u << l))
                        tmp[l] = max_one(g, row, xp, ow0 + l);
                best = vf_loadu(tmp);
            }
        }
        if (n == LANES)
            vf_storeu(yr + ow0, best);
        else
            vf_store_first(yr + ow0, best, n);
        if (with_idx)
            vi_store_index64(ir + ow0, bidx, index_base, n);
    }
}

POOL_INLINE void avg_row(const cp_geom *g, const pool_w *w, const pool_row *row,
                         const float *xp, float *yr, int S)
{
    const float count_dh = (float)row->count_dh;
    for (int32_t ow0 = 0; ow0 < w->OW; ow0 += LANES) {
        const int n = w->OW - ow0 < LANES ? w->OW - ow0 : LANES;
        const int32_t first = ow0 * w->s - w->pb;
        const int interior = chunk_interior(w, ow0, S);
        vf sum = vf_zero(), count;
        if (interior) {
            count = vf_set1(count_dh * (float)w->K);
        } else {
            /* taps per lane along W, inside the input or the padded input */
            const int32_t lo = g->count_include_pad ? -w->pb : 0;
            const int32_t hi = g->count_include_pad ? w->W + w->pe : w->W;
            vf cw = vf_zero();
            for (int32_t kw = 0; kw < w->K; kw++)
                cw = vf_count(vm_range(vi_add(vi_set1(first + kw * w->dil), w->lane_off), lo, hi),
                              cw);
            count = vf_mul(cw, vf_set1(count_dh));
        }
        for (int64_t kd = row->d_lo; kd < row->d_hi; kd++)
            for (int64_t kh = row->h_lo; kh < row->h_hi; kh++) {
                int64_t id, ih;
                const float *rp = xp + tap_row(g, row, kd, kh, &id, &ih);
                for (int32_t kw = 0; kw < w->K; kw++) {
                    const int32_t pos0 = first + kw * w->dil;
                    vm valid;
                    vf v = interior ? load_full(rp + pos0, S, w->lane_off)
                                    : load_edge(rp, pos0, S, w->lane_off, w->W, &valid);
                    sum = vf_add(sum, v);
                }
            }
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
    const pool_row_fn kernel = kernels[op][w.s == 1 ? 1 : w.s == 2 ? 2 : 0];
    for (int64_t r = row_begin; r < row_end; r++) {
        pool_row row;
        row_setup(g, r, &row);
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
};
