/*
 * pool_common.h - what every walk shares: the reduction (max, or a sum of
 * per-tap terms) and its finish, output rows and their vertical taps, the W
 * geometry with the edge-chunk masks, tap loads, and the one place where a
 * chunk of results is finished, fixed up by the reference rule and stored.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 */
/* One output row: its plane and the input rows (D and H taps) it reads. */
typedef struct pool_row {
    int64_t p, od, oh;
    int64_t d_lo, d_hi, h_lo, h_hi; /* taps inside the input */
    int64_t count_dh;               /* AveragePool divisor from D and H; -1: taps not set */
} pool_row;

/* Row (od, oh) of plane p with its taps not computed yet (put_chunk
 * computes them in the rare case it needs them). */
static inline pool_row row_at(int64_t p, int64_t od, int64_t oh)
{
    return (pool_row){p, od, oh, 0, 0, 0, 0, -1};
}

/* Fills row's tap ranges for its (od, oh); p, od, oh are set by the caller. */
static void row_taps(const cp_geom *g, pool_row *row)
{
    cp_tap_range(row->od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0, g->in[0],
                 &row->d_lo, &row->d_hi);
    cp_tap_range(row->oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1], 0, g->in[1],
                 &row->h_lo, &row->h_hi);
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

/* The reduction of a walk (cp_pool_red), a constant in each of its
 * specialisations. */
#define RED_IS_MAX(red) ((red) == CP_POOL_MAX || (red) == CP_POOL_MAX_IDX)
#define RED_IS_SUM(red) (!RED_IS_MAX(red))
#define RED_IS_LP(red)  ((red) >= CP_POOL_LP1)

/* LpPool sums below this are finished in double from the input: a float
 * |x|^p under it may have lost bits to gradual underflow (terms below
 * FLT_MIN), which a float sum of at least 2^-100 cannot notice. Above
 * FLT_MAX the float sum overflowed where the reference's double did not. */
#define POOL_LP_SUM_MIN 0x1p-100f

/* put_chunk prefetches the output lines (with Indices, theirs too) this
 * many chunks ahead of the one it stores: the walks along W store chunk
 * after chunk forward through memory, so the stores find their lines in
 * L1. On the Sapphire Rapids-class Xeon (docs/performance.md), 1 thread:
 * MaxPool with Indices 0.89-0.94 of the time on maxpool_stem and
 * maxpool_vgg, 0.75 on maxpool_hires, 0.70 on a 2x2 pool of 64 x 56 x 56;
 * value-only 2x2 pools within L2 0.70-0.90, the benchmark's other pools
 * level (0.96-1.03); on the AVX2 path avgpool3_pad 0.91, MaxPool with
 * Indices 0.97-1.01 (16 chunks ahead: 1.03x slower). On a Zen 5 a
 * prefetch of the Indices lines was level. */
#define POOL_STORE_AHEAD 8

/* Prefetches the line `bytes` after p, which may lie past the buffer (a
 * prefetch never faults; integer arithmetic, no pointer past it). */
#define POOL_PREFETCH_BYTES(p, bytes)                                                              \
    __builtin_prefetch((const void *)((uintptr_t)(p) + (uintptr_t)(bytes)), 0, 3)

/* The reduction's identity: what a tap outside the input contributes.
 * MaxPool's -inf never wins over a value read (see red_acc_at); where it
 * may have (a maximum of -inf), put_chunk recomputes the lane. */
CP_INLINE vf red_fill(int red)
{
    return RED_IS_MAX(red) ? vf_set1(-INFINITY) : vf_zero();
}

/* v^p for an integer p >= 1, by squaring: about 2 log2(p) products, each
 * rounded, so the relative error is about p float ulps, which the p-th
 * root divides by p again. */
static inline vf vf_powi(vf v, int32_t p)
{
    vf r = (p & 1) ? v : vf_set1(1.0f);
    for (p >>= 1; p; p >>= 1) {
        v = vf_mul(v, v);
        if (p & 1)
            r = vf_mul(r, v);
    }
    return r;
}

/* A tap's term: the value (max, average), |v|, v^2 or |v|^p. Zeros (the
 * masked-off lanes of a load) stay zeros. */
CP_INLINE vf red_term(int red, vf v, int32_t p)
{
    if (red == CP_POOL_LP1)
        return vf_abs(v);
    if (red == CP_POOL_LP2)
        return vf_mul(v, v);
    if (red == CP_POOL_LPP)
        return vf_powi(vf_abs(v), p);
    return v;
}

/* acc combined with term t: max (t wins only if greater: the earlier value
 * keeps ties) or sum. */
CP_INLINE vf red_acc(int red, vf acc, vf t)
{
    return RED_IS_MAX(red) ? vf_max(t, acc) : vf_add(acc, t);
}

/*
 * The same, carrying each lane's in-plane position for CP_POOL_MAX_IDX:
 * term t (read at positions tpos) replaces acc and its position *pos only
 * where it is greater, so the earlier tap keeps ties, and a NaN never
 * replaces: walks combine taps in window order (row-major, each row's
 * taps first when a row is reduced on its own, which gives the same first
 * maximum), and put_chunk recomputes the lanes that read a NaN. Other
 * reductions ignore the positions (dead code once red is a constant).
 */
CP_INLINE void red_acc_at(int red, vf *acc, vi *pos, vf t, vi tpos)
{
    if (red == CP_POOL_MAX_IDX)
        *pos = vi_select(vm_gt(t, *acc), *pos, tpos);
    *acc = red_acc(red, *acc, t);
}

/* One output (ow) of `row` in the plane xp by the reference rule: MaxPool
 * for the lanes whose fast max saw a NaN or is -inf (taps in row-major
 * order, the first maximum or the first NaN wins; *pos gets its in-plane
 * Indices position, -1 for a window without taps), LpPool for the lanes
 * whose float sum left the range it is exact in (the terms summed in
 * double). */
static float ref_one(const cp_geom *g, const pool_row *row_in, const float *xp, int64_t ow, int red,
                     int32_t *pos)
{
    pool_row row = *row_in;
    if (row.count_dh < 0)
        row_taps(g, &row);
    int64_t w_lo, w_hi;
    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], g->kernel[2], 0, g->in[2],
                 &w_lo, &w_hi);
    float best = -INFINITY;
    double sum = 0.0;
    int have = 0;
    *pos = -1;
    for (int64_t kd = row.d_lo; kd < row.d_hi; kd++)
        for (int64_t kh = row.h_lo; kh < row.h_hi; kh++) {
            int64_t id, ih;
            const int64_t w0 = ow * g->stride[2] - g->pad_begin[2];
            const float *r = xp + tap_row(g, &row, kd, kh, &id, &ih) + w0;
            for (int64_t kw = w_lo; kw < w_hi; kw++) {
                float v = r[kw * g->dilation[2]];
                if (RED_IS_LP(red)) {
                    sum += cp_lp_term(v, g->p);
                } else if (!have || v > best || (isnan(v) && !isnan(best))) {
                    const int64_t iw = w0 + kw * g->dilation[2];
                    best = v;
                    *pos = (int32_t)(g->storage_order ? (iw * g->in[1] + ih) * g->in[0] + id
                                                      : (id * g->in[1] + ih) * g->in[2] + iw);
                }
                have = 1;
            }
        }
    return RED_IS_LP(red) ? (float)cp_lp_root(sum, g->p) : best;
}

/* Stores the first n lanes of v at y. */
CP_INLINE void store_n(float *y, vf v, int n)
{
    if (n == LANES)
        vf_storeu(y, v);
    else
        vf_store_first(y, v, n);
}

/*
 * Where the lanes of a chunk of results are: lane l is output
 * ow0 + l * ow_step of `row` in the plane at xp + l * plane_step (a chunk
 * along W: steps 1 and 0; LANES global pools: 0 and the plane size).
 */
typedef struct pool_lanes {
    const pool_row *row;
    const float *xp;
    int64_t ow0, ow_step, plane_step;
    int n;              /* lanes that are outputs */
    int64_t index_base; /* Indices: the flat index of the plane's first element */
    /* if row_hi is set, lanes from `split` on are outputs ow0_hi + (l -
     * split) * ow_step of row_hi instead (a chunk that spans two rows) */
    const pool_row *row_hi;
    int split;
    int64_t ow0_hi;
} pool_lanes;

/*
 * The one place a chunk of results is finished and stored: `acc` is the
 * reduction (AveragePool: already divided); LpPool takes its p-th root
 * (p = 2 in vector, other p in double per lane); the lanes in `redo`
 * (MaxPool: a NaN may have been read), MaxPool's lanes whose maximum is
 * -inf with Indices (the walks read padding as -inf, so a padded tap may
 * hold the position) and LpPool's lanes whose float sum left
 * [POOL_LP_SUM_MIN, FLT_MAX] are recomputed by ref_one. Rare for MaxPool
 * and LpPool p <= 2; every chunk for other p (the root). With Indices
 * (CP_POOL_MAX_IDX), `pos` holds each lane's in-plane position, written
 * to ip as int64 with the plane's index_base added.
 */
CP_INLINE void put_chunk(const cp_geom *g, const pool_lanes *at, vf acc, vi pos, unsigned redo,
                         int red, float *y, int64_t *ip)
{
    if (red == CP_POOL_LP2 || red == CP_POOL_LPP)
        redo |= vm_bits(vm_outside(acc, POOL_LP_SUM_MIN, FLT_MAX));
    if (red == CP_POOL_MAX_IDX) /* -inf (NaN is in redo already) */
        redo |= vm_bits(vm_gt(vf_set1(-FLT_MAX), acc));
    if (red == CP_POOL_LP2)
        acc = vf_sqrt(acc);
    redo &= (1u << at->n) - 1u;
    unsigned empty = 0; /* Indices: lanes of windows without taps (-1) */
    if (redo || red == CP_POOL_LPP) {
        float tmp[LANES];
        int32_t tmp_pos[LANES];
        vf_storeu(tmp, acc);
        if (red == CP_POOL_MAX_IDX)
            vi_storeu(tmp_pos, pos);
        for (int l = 0; l < at->n; l++) {
            if (redo & (1u << l)) {
                const int hi = at->row_hi && l >= at->split;
                const int64_t ow =
                    hi ? at->ow0_hi + (l - at->split) * at->ow_step : at->ow0 + l * at->ow_step;
                tmp[l] = ref_one(g, hi ? at->row_hi : at->row, at->xp + l * at->plane_step, ow, red,
                                 &tmp_pos[l]);
                empty |= (unsigned)(tmp_pos[l] < 0) << l;
            } else if (red == CP_POOL_LPP)
                tmp[l] = (float)cp_lp_root(tmp[l], g->p);
        }
        acc = vf_loadu(tmp);
        if (red == CP_POOL_MAX_IDX)
            pos = vi_loadu(tmp_pos);
    }
    if (at->plane_step == 0) { /* along W (the global pools store once a block) */
        POOL_PREFETCH_BYTES(y, POOL_STORE_AHEAD * LANES * sizeof(float));
        if (red == CP_POOL_MAX_IDX) {
            POOL_PREFETCH_BYTES(ip, POOL_STORE_AHEAD * LANES * sizeof(int64_t));
            if (LANES * sizeof(int64_t) > 64) /* a chunk's Indices span two lines */
                POOL_PREFETCH_BYTES(ip, POOL_STORE_AHEAD * LANES * sizeof(int64_t) + 64);
        }
    }
    store_n(y, acc, at->n);
    if (red == CP_POOL_MAX_IDX) {
        vi_store_index64(ip, pos, at->index_base, at->n);
        for (int l = 0; empty; l++, empty >>= 1)
            if (empty & 1u)
                ip[l] = -1;
    }
}

/* Up to this many input rows (D x H taps) of an output row are listed once
 * per row; larger windows are listed in batches, chunk by chunk. */
#define POOL_ROW_CAP 64
/* Edge chunks whose masks are computed once per call: this many at each
 * end of a row, for kernels up to POOL_KW_CAP wide along W. */
#define POOL_EDGE_CHUNKS 4
#define POOL_KW_CAP      8

/* The input rows one output row reads, in row-major tap order. */
typedef struct pool_taps {
    int32_t count;
    const float *ptr[POOL_ROW_CAP]; /* start of each input row */
    int32_t pos[POOL_ROW_CAP];      /* Indices: plane position of its column 0 */
} pool_taps;

/* Masks of one edge chunk, per tap kw: the lanes whose tap is inside the
 * row, and (stride 2) the elements of the two loads that are inside. */
typedef struct pool_edge {
    vm tap[POOL_KW_CAP], elem_a[POOL_KW_CAP], elem_b[POOL_KW_CAP];
    vf count_w; /* AveragePool: taps per lane along W (padded bounds if counted) */
#ifdef POOL_SEPARABLE
    vm block[3]; /* columns first + j*LANES + [0, LANES) inside the row */
#endif
} pool_edge;

/* Row geometry along W, as int32 (cp_pool_x86_fits guarantees the range). */
typedef struct pool_w {
    int32_t W, OW, s, dil, K, pb, pe, chunks;
    int32_t wmul;    /* Indices: position step per input column */
    int32_t p;       /* LpPool's exponent */
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
CP_INLINE vf load_tap(const pool_w *w, const float *p, int32_t first, int32_t kw, int S, int mode,
                      const pool_edge *e, vm *valid)
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
    w->p = (int32_t)g->p;
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
#ifdef POOL_SEPARABLE
        for (int j = 0; j < 3; j++)
            e->block[j] = vm_range(vi_add(vi_set1(first + j * LANES), vi_iota()), 0, w->W);
#endif
    }
}

/* Lists up to POOL_ROW_CAP input rows of `row` from tap number `start`
 * (taps numbered row-major over D and H); returns the total tap rows. */
static int64_t list_taps(const cp_geom *g, const pool_w *w, const pool_row *row, const float *xp,
                         int64_t start, pool_taps *t)
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

/* Chunk c of LANES outputs along W: its first tap's position, how many of
 * its lanes are outputs, and how it loads (mode 0: interior, 1: edge with
 * the masks cached in *e, 2: edge with masks computed per tap). */
typedef struct pool_chunk {
    int32_t ow0, first;
    int n, mode;
    const pool_edge *e;
} pool_chunk;

static inline pool_chunk chunk_at(const pool_w *w, int32_t c)
{
    pool_chunk ch;
    const int slot = w->edge_cached ? edge_slot(w, c) : -1;
    ch.ow0 = c * LANES;
    ch.first = ch.ow0 * w->s - w->pb;
    ch.n = w->OW - ch.ow0 < LANES ? w->OW - ch.ow0 : LANES;
    ch.mode = chunk_interior(w, ch.ow0) ? 0 : slot >= 0 ? 1 : 2;
    ch.e = slot >= 0 ? &w->edge[slot] : NULL;
    return ch;
}

/* Runs one of the calls with the stride kind as a constant (1, 2, other). */
#define POOL_BY_STRIDE(s, call1, call2, call0)                                                     \
    do {                                                                                           \
        if ((s) == 1)                                                                              \
            call1;                                                                                 \
        else if ((s) == 2)                                                                         \
            call2;                                                                                 \
        else                                                                                       \
            call0;                                                                                 \
    } while (0)

/* Runs `call` with mode as a constant: 0 interior, 1 cached edge, 2 edge. */
#define POOL_BY_MODE(mode, call0, call1, call2)                                                    \
    do {                                                                                           \
        if ((mode) == 0)                                                                           \
            call0;                                                                                 \
        else if ((mode) == 1)                                                                      \
            call1;                                                                                 \
        else                                                                                       \
            call2;                                                                                 \
    } while (0)

/* Defines the kernels avg_<walk> .. lpp_<walk> (POOL_FN-suffixed, the
 * cp_pool_fn of each reduction: pool_body.h lists them), each a call of
 * body(g, x, y, indices, begin, end, red) with red a constant;
 * POOL_WALK_KERNELS includes max_idx_<walk> (MaxPool with Indices),
 * POOL_VALUE_KERNELS not. */
#define POOL_WALK_KERNEL(walk, body, name, red)                                                    \
    static void POOL_FN(name##_##walk)(const cp_geom *g, const float *x, float *y,                 \
                                       int64_t *indices, int64_t begin, int64_t end)               \
    {                                                                                              \
        body(g, x, y, indices, begin, end, red);                                                   \
    }
#define POOL_VALUE_KERNELS(walk, body)                                                             \
    POOL_WALK_KERNEL(walk, body, avg, CP_POOL_AVG)                                                 \
    POOL_WALK_KERNEL(walk, body, max, CP_POOL_MAX)                                                 \
    POOL_WALK_KERNEL(walk, body, lp1, CP_POOL_LP1)                                                 \
    POOL_WALK_KERNEL(walk, body, lp2, CP_POOL_LP2)                                                 \
    POOL_WALK_KERNEL(walk, body, lpp, CP_POOL_LPP)
#define POOL_WALK_KERNELS(walk, body)                                                              \
    POOL_VALUE_KERNELS(walk, body)                                                                 \
    POOL_WALK_KERNEL(walk, body, max_idx, CP_POOL_MAX_IDX)
