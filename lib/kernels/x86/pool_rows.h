/*
 * pool_rows.h - the row walk (3-D pools): one task per output row, taps read
 * one by one in row-major order.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 */
/* Running state of one chunk of MaxPool outputs: the maximum, a sum of the
 * values read (NaN if one was) and with Indices the positions. */
typedef struct max_state {
    vf best, nan_sum;
    vi pos;
} max_state;

CP_INLINE void max_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
                        const pool_edge *e, int red, max_state *st)
{
    for (int32_t r = 0; r < t->count; r++) {
        const float *p = t->ptr[r] + first;
        const vi base = vi_add(vi_set1(t->pos[r] + first * w->wmul), w->lane_ioff);
        for (int32_t kw = 0; kw < w->K; kw++) {
            vm valid;
            vf v = load_tap(w, p, first, kw, S, mode, e, &valid);
            st->nan_sum = vf_add(st->nan_sum, v);
            if (mode != 0) /* lanes whose tap is outside the row: the identity */
                v = vf_select(valid, red_fill(red), v);
            red_acc_at(red, &st->best, &st->pos, v, vi_add(base, vi_set1(kw * w->dil * w->wmul)));
        }
    }
}

/* Sum pools: each tap's term added, row by row. */
CP_INLINE vf sum_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
                      const pool_edge *e, int red, vf sum)
{
    for (int32_t r = 0; r < t->count; r++) {
        const float *p = t->ptr[r] + first;
        vf row_sum = vf_zero(); /* a second chain: rows and taps overlap */
        for (int32_t kw = 0; kw < w->K; kw++) {
            vm valid;
            row_sum =
                vf_add(row_sum, red_term(red, load_tap(w, p, first, kw, S, mode, e, &valid), w->p));
        }
        sum = vf_add(sum, row_sum);
    }
    return sum;
}

CP_INLINE void max_row(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                       float *yr, int64_t *ir, int64_t index_base, int S, int red)
{
    pool_taps t;
    const int64_t total = list_taps(g, w, row, xp, 0, &t);
    for (int32_t c = 0; c < w->chunks; c++) {
        const pool_chunk ch = chunk_at(w, c);
        const int32_t ow0 = ch.ow0, first = ch.first;
        const int mode = ch.mode;
        const pool_edge *e = ch.e;
        max_state st = {red_fill(red), vf_zero(), vi_set1(0)};
        for (int64_t start = 0;;) {
            POOL_BY_MODE(mode, max_taps(w, &t, first, S, 0, e, red, &st),
                         max_taps(w, &t, first, S, 1, e, red, &st),
                         max_taps(w, &t, first, S, 2, e, red, &st));
            start += POOL_ROW_CAP;
            if (start >= total)
                break;
            list_taps(g, w, row, xp, start, &t);
        }
        if (total > POOL_ROW_CAP)
            list_taps(g, w, row, xp, 0, &t);
        /* the lanes that read a NaN (rare) by the reference rule */
        const pool_lanes at = {row, xp, ow0, 1, 0, ch.n, index_base, NULL, 0, 0};
        put_chunk(g, &at, st.best, st.pos, vm_bits(vm_isnan(st.nan_sum)), red, yr + ow0,
                  ir ? ir + ow0 : NULL);
    }
}

CP_INLINE void sum_row(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                       float *yr, int S, int red)
{
    pool_taps t;
    const int64_t total = list_taps(g, w, row, xp, 0, &t);
    const vf count_dh = vf_set1((float)row->count_dh);
    const vf count_interior = vf_set1((float)row->count_dh * (float)w->K);
    for (int32_t c = 0; c < w->chunks; c++) {
        const pool_chunk ch = chunk_at(w, c);
        const int32_t ow0 = ch.ow0, first = ch.first;
        const int n = ch.n, mode = ch.mode;
        const pool_edge *e = ch.e;
        vf sum = vf_zero();
        for (int64_t start = 0;;) {
            POOL_BY_MODE(mode, sum = sum_taps(w, &t, first, S, 0, e, red, sum),
                         sum = sum_taps(w, &t, first, S, 1, e, red, sum),
                         sum = sum_taps(w, &t, first, S, 2, e, red, sum));
            start += POOL_ROW_CAP;
            if (start >= total)
                break;
            list_taps(g, w, row, xp, start, &t);
        }
        if (total > POOL_ROW_CAP)
            list_taps(g, w, row, xp, 0, &t);
        if (red == CP_POOL_AVG)
            sum = vf_div(sum, mode == 0 ? count_interior
                                        : vf_mul(mode == 1 ? e->count_w : count_w_of(g, w, first),
                                                 count_dh));
        const pool_lanes at = {row, xp, ow0, 1, 0, n, 0, NULL, 0, 0};
        put_chunk(g, &at, sum, vi_set1(0), 0, red, yr + ow0, NULL);
    }
}

/* The row kernels specialised per stride kind (S: 1, 2, 0 = other) and
 * reduction, so each inner loop is compiled for its load pattern. */
typedef void (*pool_row_fn)(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                            float *yr, int64_t *ir, int64_t index_base);
#define POOL_SUM_ROW(name, S, red)                                                                 \
    static void name##_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,            \
                                const float *xp, float *yr, int64_t *ir, int64_t index_base)       \
    {                                                                                              \
        (void)ir;                                                                                  \
        (void)index_base;                                                                          \
        sum_row(g, w, row, xp, yr, S, red);                                                        \
    }
#define POOL_MAX_ROW(name, S, red)                                                                 \
    static void name##_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,            \
                                const float *xp, float *yr, int64_t *ir, int64_t index_base)       \
    {                                                                                              \
        max_row(g, w, row, xp, yr, ir, index_base, S, red);                                        \
    }
#define POOL_ROW_KERNELS(S)                                                                        \
    POOL_SUM_ROW(avg, S, CP_POOL_AVG)                                                              \
    POOL_MAX_ROW(max, S, CP_POOL_MAX)                                                              \
    POOL_MAX_ROW(max_idx, S, CP_POOL_MAX_IDX)                                                      \
    POOL_SUM_ROW(lp1, S, CP_POOL_LP1)                                                              \
    POOL_SUM_ROW(lp2, S, CP_POOL_LP2)                                                              \
    POOL_SUM_ROW(lpp, S, CP_POOL_LPP)
POOL_ROW_KERNELS(0)
POOL_ROW_KERNELS(1)
POOL_ROW_KERNELS(2)

/* Output rows [row_begin, row_end) of all planes, reduced by `red`. */
CP_INLINE void pool_rows(const cp_geom *g, const float *x, float *y, int64_t *indices,
                         int64_t row_begin, int64_t row_end, int red)
{
    static const pool_row_fn kernels[CP_POOL_REDS][3] = {
        [CP_POOL_AVG] = {avg_row_s0, avg_row_s1, avg_row_s2},
        [CP_POOL_MAX] = {max_row_s0, max_row_s1, max_row_s2},
        [CP_POOL_MAX_IDX] = {max_idx_row_s0, max_idx_row_s1, max_idx_row_s2},
        [CP_POOL_LP1] = {lp1_row_s0, lp1_row_s1, lp1_row_s2},
        [CP_POOL_LP2] = {lp2_row_s0, lp2_row_s1, lp2_row_s2},
        [CP_POOL_LPP] = {lpp_row_s0, lpp_row_s1, lpp_row_s2},
    };
    const int64_t in_plane = cp_geom_in_plane(g), OW = g->out[2];
    pool_w w;
    w_setup(g, &w);
    const pool_row_fn kernel = kernels[red][w.S];
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

POOL_WALK_KERNELS(rows, pool_rows)
