/*
 * pool_rows.h - the row walk (3-D pools): one task per output row, taps read
 * one by one in row-major order.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 */
/* Running state of one chunk of MaxPool outputs. */
typedef struct max_state {
    vf best, nan_sum;
    vi bidx;
    vm have;
} max_state;

CP_INLINE void max_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
                        const pool_edge *e, int with_idx, max_state *st)
{
    for (int32_t r = 0; r < t->count; r++) {
        const float *p = t->ptr[r] + first;
        const vi ibase =
            with_idx ? vi_add(vi_set1(t->pos[r] + first * w->wmul), w->lane_ioff) : vi_set1(0);
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

CP_INLINE vf avg_taps(const pool_w *w, const pool_taps *t, int32_t first, int S, int mode,
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

CP_INLINE void max_row(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                       float *yr, int64_t *ir, int64_t index_base, int S, int with_idx)
{
    pool_taps t;
    const int64_t total = list_taps(g, w, row, xp, 0, &t);
    for (int32_t c = 0; c < w->chunks; c++) {
        const pool_chunk ch = chunk_at(w, c);
        const int32_t ow0 = ch.ow0, first = ch.first;
        const int n = ch.n, mode = ch.mode;
        const pool_edge *e = ch.e;
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

CP_INLINE void avg_row(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                       float *yr, int S)
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
        const vf count = mode == 0
                             ? count_interior
                             : vf_mul(mode == 1 ? e->count_w : count_w_of(g, w, first), count_dh);
        vf avg = vf_div(sum, count);
        if (n == LANES)
            vf_storeu(yr + ow0, avg);
        else
            vf_store_first(yr + ow0, avg, n);
    }
}

/* The row kernels specialised per stride kind (S: 1, 2, 0 = other), so
 * each inner loop is compiled for its load pattern. */
typedef void (*pool_row_fn)(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                            float *yr, int64_t *ir, int64_t index_base);
#define POOL_ROW_KERNELS(S)                                                                        \
    static void avg_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,               \
                             const float *xp, float *yr, int64_t *ir, int64_t index_base)          \
    {                                                                                              \
        (void)ir;                                                                                  \
        (void)index_base;                                                                          \
        avg_row(g, w, row, xp, yr, S);                                                             \
    }                                                                                              \
    static void max_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,               \
                             const float *xp, float *yr, int64_t *ir, int64_t index_base)          \
    {                                                                                              \
        max_row(g, w, row, xp, yr, ir, index_base, S, 0);                                          \
    }                                                                                              \
    static void max_idx_row_s##S(const cp_geom *g, const pool_w *w, const pool_row *row,           \
                                 const float *xp, float *yr, int64_t *ir, int64_t index_base)      \
    {                                                                                              \
        max_row(g, w, row, xp, yr, ir, index_base, S, 1);                                          \
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
