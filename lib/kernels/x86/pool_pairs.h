/*
 * pool_pairs.h - 2x2 windows at stride 2 that lie wholly inside the plane
 * (no padding, no dilation): the downsampling pools of VGG-style networks.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 *
 * The general strip walk handles these too, but through per-tap permutes,
 * ring rows and edge masks; here each output vector is four plain loads
 * (two input rows, 2 * LANES columns), a vertical combine and an
 * even/odd lane combine, which is about twice as fast on the benchmark's
 * shapes (with Indices, the even/odd split of each row and then the four
 * taps in window order). Where rows end in half a vector, a vector may
 * take its halves from two rows (pairs_halves). Each output is computed
 * from its own window alone, whichever vector or thread takes it.
 */
static inline int pairs_ok(const cp_geom *g)
{
    return g->in[0] == 1 && g->kernel[0] == 1 && g->pad_begin[0] == 0 && g->pad_end[0] == 0 &&
           g->kernel[1] == 2 && g->kernel[2] == 2 && g->stride[1] == 2 && g->stride[2] == 2 &&
           g->dilation[1] == 1 && g->dilation[2] == 1 && g->pad_begin[1] == 0 &&
           g->pad_begin[2] == 0 && 2 * g->out[1] <= g->in[1] && 2 * g->out[2] <= g->in[2];
}

/* Each vector's lines are prefetched this many input rows ahead: the
 * hardware's prefetch alone left maxpool_vgg (2x2 on 128 x 112 x 112) at
 * about half of the L3 copy speed, 0.16 ms on 1 thread; with it 0.10-0.11
 * (2 to 12 rows measured alike). */
#define PAIRS_PREFETCH_ROWS 8

/* The lines of the 2 * LANES input columns of a vector's window, from its
 * top row's halves at lo and hi, PAIRS_PREFETCH_ROWS input rows on (past
 * the plane: the next plane's; past the buffer: an address a prefetch
 * does not fault on, formed as an integer). */
CP_INLINE void pairs_prefetch(const float *lo, const float *hi, int64_t W)
{
    const uintptr_t step = (uintptr_t)(W * 4), ahead = PAIRS_PREFETCH_ROWS * step;
    __builtin_prefetch((const void *)((uintptr_t)lo + ahead));
    __builtin_prefetch((const void *)((uintptr_t)hi + ahead));
    __builtin_prefetch((const void *)((uintptr_t)lo + ahead + step));
    __builtin_prefetch((const void *)((uintptr_t)hi + ahead + step));
}

/* The plane's row length and Indices position steps per input row and
 * column (no depth: the column-major position is w * H + h), read once
 * per call: the Indices stores (int64_t) could alias the geometry's
 * fields, so each vector would read them again. */
typedef struct pairs_steps {
    int64_t W;
    int32_t hmul, wmul;
} pairs_steps;

static inline pairs_steps pairs_steps_of(const cp_geom *g)
{
    const pairs_steps st = {g->in[2], g->storage_order ? 1 : (int32_t)g->in[2],
                            g->storage_order ? (int32_t)g->in[1] : 1};
    return st;
}

/*
 * One vector of outputs: its windows' top row holds input columns [0,
 * LANES) of the vector at lo, [LANES, 2 LANES) at hi (the same row,
 * LANES on, or the start of a later output row's window), the bottom row
 * W further on; m_lo, m_hi mask the loads of a partial vector (masked-off
 * lanes read nothing and give outputs not stored). `base`: Indices, each
 * lane's top-left tap position.
 */
CP_INLINE void pairs_vector(const cp_geom *g, const pairs_steps *st, const pool_lanes *at,
                            const float *lo, const float *hi, int partial, vm m_lo, vm m_hi,
                            vi base, int red, float *yo, int64_t *io)
{
    const int64_t W = st->W;
    const int32_t wmul = st->wmul, hmul = st->hmul;
    pairs_prefetch(lo, hi, W);
    vf a0, a1, b0, b1;
    if (!partial) {
        a0 = vf_loadu(lo);
        a1 = vf_loadu(hi);
        b0 = vf_loadu(lo + W);
        b1 = vf_loadu(hi + W);
    } else {
        a0 = vf_loadz(m_lo, lo);
        a1 = vf_loadz(m_hi, hi);
        b0 = vf_loadz(m_lo, lo + W);
        b1 = vf_loadz(m_hi, hi + W);
    }
    unsigned nan_seen = 0;
    if (RED_IS_MAX(red))
        nan_seen = vm_bits(vm_isnan(vf_add(vf_add(a0, a1), vf_add(b0, b1)))) ? ~0u : 0u;
    vf out;
    vi pos = vi_set1(0);
    if (red == CP_POOL_MAX_IDX) {
        /* each row's pair first, then the rows: the first maximum in
         * row-major order (columns first would take (1, 0) over an equal
         * (0, 1)) */
        out = vf_even(a0, a1);
        red_acc_at(red, &out, &pos, vf_odd(a0, a1), vi_set1(wmul));
        red_acc_at(red, &out, &pos, vf_even(b0, b1), vi_set1(hmul));
        red_acc_at(red, &out, &pos, vf_odd(b0, b1), vi_set1(hmul + wmul));
        pos = vi_add(pos, base);
    } else {
        const int32_t lp = (int32_t)g->p;
        a0 = red_term(red, a0, lp);
        a1 = red_term(red, a1, lp);
        b0 = red_term(red, b0, lp);
        b1 = red_term(red, b1, lp);
        const vf v0 = red_acc(red, a0, b0), v1 = red_acc(red, a1, b1);
        out = red_acc(red, vf_even(v0, v1), vf_odd(v0, v1));
        if (red == CP_POOL_AVG)
            out = vf_mul(out, vf_set1(0.25f));
    }
    put_chunk(g, at, out, pos, nan_seen, red, yo, io);
}

/* Output rows [row_begin, row_end) of all planes (row = plane * OH + oh),
 * row by row: each row's last vector partial where OW is not a multiple
 * of LANES. */
CP_INLINE void pairs_by_row(const cp_geom *g, const float *x, float *y, int64_t *indices,
                            int64_t row_begin, int64_t row_end, int red)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t whole = OW / LANES;
    const int32_t rest = (int32_t)(OW % LANES);
    /* the last, partial vector: its 2 * rest input columns */
    const vm m0 = vm_range(vi_iota(), 0, 2 * rest), m1 = vm_range(vi_iota(), 0, 2 * rest - LANES);
    /* Indices: each lane's first tap relative to the chunk's */
    const pairs_steps st = pairs_steps_of(g);
    const int32_t hmul = st.hmul, wmul = st.wmul;
    const vi lane_pos = vi_mul(vi_iota(), vi_set1(2 * wmul));
    /* (plane, output row) of r, counted on rather than divided per row */
    int64_t p = row_begin / OH, oh = row_begin - p * OH;
    for (int64_t r = row_begin; r < row_end; r++, oh = oh + 1 < OH ? oh + 1 : (p++, 0)) {
        const float *r0 = x + (p * H + 2 * oh) * W;
        const pool_row row = row_at(p, 0, oh);
        for (int64_t c = 0; c < whole + (rest > 0); c++) {
            const int64_t ow0 = c * LANES;
            const pool_lanes at = {&row,      x + p * H * W, ow0, 1, 0, c < whole ? LANES : rest,
                                   p * H * W, NULL,          0,   0};
            const vi base = vi_add(lane_pos, vi_set1((int32_t)(2 * (oh * hmul + ow0 * wmul))));
            pairs_vector(g, &st, &at, r0 + 2 * ow0, r0 + 2 * ow0 + LANES, c == whole, m0, m1, base,
                         red, y + r * OW + ow0, indices ? indices + r * OW + ow0 : NULL);
        }
    }
}

/* Rows of whole half vectors (LANES / 2 outputs, LANES input columns of
 * each window row): where a row ends in a half, the next row of the plane
 * starts the vector with it (the outputs of consecutive rows are
 * consecutive), so that no vector is partial but the last. Row by row,
 * each row would end in a partial vector of half the work: maxpool_vgg's
 * rows of 56 outputs take 3.5 vectors instead of 4, 0.84-0.94 of the time.
 * Not with Indices, which ran 1.05-1.15x slower this way than row by row
 * (not understood: the same loads, stores and lines). */
#define PAIRS_HALF (LANES / 2)

static inline int pairs_halves_ok(const cp_geom *g)
{
    return g->out[2] % PAIRS_HALF == 0;
}

CP_INLINE void pairs_halves(const cp_geom *g, const float *x, float *y, int64_t *indices,
                            int64_t row_begin, int64_t row_end, int red)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const pairs_steps st = pairs_steps_of(g);
    const int32_t hmul = st.hmul, wmul = st.wmul;
    /* Indices: each lane's first tap relative to its vector's (both
     * halves in one row) or its half's */
    const vm upper = vm_range(vi_iota(), PAIRS_HALF, LANES);
    const vi lane_pos = vi_mul(vi_iota(), vi_set1(2 * wmul));
    const vi half_pos = vi_select(upper, lane_pos, vi_add(lane_pos, vi_set1(-LANES * wmul)));
    const vm all = vm_first(LANES);
    /* the half a row ended in: its row, top-left input and output */
    pool_row last = row_at(0, 0, 0);
    const float *last_top = NULL;
    int64_t last_ow0 = 0, last_out = 0;
    int64_t p = row_begin / OH, oh = row_begin - p * OH;
    for (int64_t r = row_begin; r <= row_end; r++, oh = oh + 1 < OH ? oh + 1 : (p++, 0)) {
        const int64_t plane = p * H * W;
        const pool_row row = row_at(p, 0, oh);
        int64_t ow0 = 0;
        if (last_top) {
            /* with this row's first half, if there is one in the plane; else alone */
            const int two = r < row_end && oh > 0;
            const int64_t last_plane = oh > 0 ? plane : plane - H * W;
            const pool_lanes at = {
                &last,      x + last_plane, last_ow0,   1, 0, two ? LANES : PAIRS_HALF,
                last_plane, &row,           PAIRS_HALF, 0};
            vi base = vi_set1(0);
            if (red == CP_POOL_MAX_IDX)
                base = vi_add(half_pos,
                              vi_select(upper,
                                        vi_set1((int32_t)(2 * (last.oh * hmul + last_ow0 * wmul))),
                                        vi_set1((int32_t)(2 * oh * hmul))));
            pairs_vector(g, &st, &at, last_top, two ? x + plane + 2 * oh * W : last_top, !two, all,
                         vm_none(), base, red, y + last_out, indices ? indices + last_out : NULL);
            ow0 = two ? PAIRS_HALF : 0;
            last_top = NULL;
        }
        if (r == row_end)
            break;
        const float *r0 = x + plane + 2 * oh * W;
        for (; ow0 + LANES <= OW; ow0 += LANES) {
            const pool_lanes at = {&row, x + plane, ow0, 1, 0, LANES, plane, NULL, 0, 0};
            const vi base = vi_add(lane_pos, vi_set1((int32_t)(2 * (oh * hmul + ow0 * wmul))));
            pairs_vector(g, &st, &at, r0 + 2 * ow0, r0 + 2 * ow0 + LANES, 0, all, all, base, red,
                         y + r * OW + ow0, indices ? indices + r * OW + ow0 : NULL);
        }
        if (ow0 < OW) {
            last = row;
            last_top = r0 + 2 * ow0;
            last_ow0 = ow0;
            last_out = r * OW + ow0;
        }
    }
}

CP_INLINE void pairs(const cp_geom *g, const float *x, float *y, int64_t *indices,
                     int64_t row_begin, int64_t row_end, int red)
{
    if (pairs_halves_ok(g) && red != CP_POOL_MAX_IDX)
        pairs_halves(g, x, y, indices, row_begin, row_end, red);
    else
        pairs_by_row(g, x, y, indices, row_begin, row_end, red);
}

/* Tasks for pairs: output rows of all planes; 0 if the geometry does not
 * suit them. */
static int64_t POOL_FN(pair_rows)(const cp_geom *g)
{
    return pairs_ok(g) ? g->n * g->c * g->out[1] : 0;
}

POOL_WALK_KERNELS(pairs, pairs)
