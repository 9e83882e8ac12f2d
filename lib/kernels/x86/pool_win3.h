/*
 * pool_win3.h - 3x3 windows at stride 1 or 2 with at most one row and
 * column of padding on each side: ResNet's stem MaxPool (3x3/2, pads 1)
 * and the 3x3/1 "same" AveragePool of Inception-style blocks.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 *
 * These windows are the one shape the general strip walk (pool_strips.h)
 * does not take when this path can: a task is a band of up to WIN3_BAND
 * column chunks of one plane, walked down its output rows. Each input row
 * is loaded once per band (plain loads, masked ones only for the blocks
 * that can touch the row's ends) and its three taps per output taken by
 * lane shifts at stride 1, by even/odd lane selection at stride 2. Each
 * row is reduced along W into three registers per chunk and each output
 * row combines its three reduced rows, or, at stride 2 along H without
 * Indices, each output row combines its three input rows first and
 * reduces the result along W (see win3_band): the strip walk's permutes,
 * ring and per-tap masks cost about a third more here. Results do not
 * depend on how tasks are split, so any thread count gives the same bits.
 */
/* Chunks per band: the three reduced rows of a band (3 * WIN3_BAND
 * vectors) and its blocks stay in registers; AVX2 has half as many. */
#if LANES == 16
#define WIN3_BAND 4
#else
#define WIN3_BAND 2
#endif

static inline int win3_ok(const cp_geom *g)
{
    if (g->in[0] != 1 || g->kernel[0] != 1 || g->pad_begin[0] != 0 || g->pad_end[0] != 0)
        return 0;
    for (int i = 1; i < 3; i++)
        if (g->kernel[i] != 3 || g->dilation[i] != 1 || g->stride[i] < 1 || g->stride[i] > 2 ||
            g->pad_begin[i] > 1 || g->pad_end[i] > 1)
            return 0;
    return 1;
}

/*
 * The input blocks a band reads from each row, LANES columns each, at
 * positions fixed per task; each row's blocks are loaded once and the
 * window taps taken from them by lane shifts and even/odd selection.
 * Stride 1: block j holds columns [(c0 - 1 + j) * LANES, + LANES), i.e. the
 * columns of output chunk c0 - 1 + j, so a chunk's taps come from its own
 * block and its neighbours'. Stride 2: two blocks per chunk (its 2 * LANES
 * columns from 2 * ow0 - pad) and the first of the next chunk.
 *
 * Only the first block and the last chunk's blocks (win3_edge) can reach
 * past the row: every other block belongs to a chunk of LANES outputs with
 * a chunk after it, so its columns are inside the row. Those are plain
 * loads and the edge blocks masked ones (`fill` outside the row), decided
 * by the block's index alone, a constant once the loops unroll. Testing
 * each block of each row for whether it was inside (a branch each) cost
 * maxpool_stem 7%-10% on 1 thread (docs/performance.md).
 */
#define WIN3_MAX_BLOCKS (2 * WIN3_BAND + 2)

/* Blocks a row of a band of nb chunks needs (a constant where nb and sw are). */
static inline int win3_block_count(int nb, int sw)
{
    return sw == 1 ? nb + 2 : 2 * nb + 1;
}

/* Whether block j of a band of nb chunks may reach past the row. */
static inline int win3_edge(int j, int nb, int sw)
{
    return j == 0 || j >= (sw == 1 ? nb : 2 * (nb - 1));
}

typedef struct win3_blocks {
    int32_t pos[WIN3_MAX_BLOCKS];
    vm mask[WIN3_MAX_BLOCKS];
} win3_blocks;

static void win3_blocks_setup(win3_blocks *b, int32_t c0, int nb, int sw, int32_t pw, int32_t W)
{
    for (int j = 0; j < win3_block_count(nb, sw); j++) {
        int32_t pos =
            sw == 1 ? (c0 - 1 + j) * LANES : 2 * (c0 + j / 2) * LANES - pw + (j % 2) * LANES;
        b->pos[j] = pos;
        b->mask[j] = vm_range(vi_add(vi_set1(pos), vi_iota()), 0, W);
    }
}

/* Block j of row rp in a band of nb chunks. Masked-off lanes read nothing;
 * the address is formed as an integer because the block may start before
 * the buffer. */
CP_INLINE vf win3_block(const win3_blocks *b, int j, int nb, int sw, const float *rp, vf fill)
{
    if (!win3_edge(j, nb, sw))
        return vf_loadu(rp + b->pos[j]);
    const float *p = (const float *)((uintptr_t)rp + (uintptr_t)((intptr_t)b->pos[j] * 4));
    return vf_select(b->mask[j], fill, vf_loadz(b->mask[j], p));
}

/* MaxPool with Indices: where the taps of a band are in the plane. */
typedef struct win3_pos {
    vi col[WIN3_BAND]; /* each lane's first tap column, as a position */
    vi tap1, tap2;     /* the second and third tap relative to the first */
    int32_t hmul;      /* position step per input row */
} win3_pos;

static void win3_pos_setup(const cp_geom *g, win3_pos *ps, int32_t c0, int sw, int32_t pw)
{
    /* no depth: the column-major position is w * H + h */
    const int32_t wmul = g->storage_order ? (int32_t)g->in[1] : 1;
    ps->hmul = g->storage_order ? 1 : (int32_t)g->in[2];
    ps->tap1 = vi_set1(wmul);
    ps->tap2 = vi_set1(2 * wmul);
    for (int cc = 0; cc < WIN3_BAND; cc++) {
        const vi col = vi_add(vi_set1((c0 + cc) * LANES * sw - pw), vi_mul(vi_iota(), vi_set1(sw)));
        ps->col[cc] = vi_mul(col, vi_set1(wmul));
    }
}

/* Row rp's blocks into blk[] (LpPool: each column's term, taken once
 * before the taps take their lanes); returns whether a value read was NaN
 * (max only). */
CP_INLINE int win3_load(const win3_blocks *b, const float *rp, int nb, int sw, int red, int32_t p,
                        vf *blk)
{
    const int is_max = RED_IS_MAX(red);
    const vf fill = red_fill(red);
    vm nan = vm_none();
    const int count = win3_block_count(nb, sw);
#pragma GCC unroll 10
    for (int j = 0; j < count; j++) {
        blk[j] = win3_block(b, j, nb, sw, rp, fill);
        if (is_max && j % 2 == 1)
            nan = vm_or(nan, vm_either_nan(blk[j - 1], blk[j]));
    }
    if (is_max && count % 2 == 1)
        nan = vm_or(nan, vm_isnan(blk[count - 1]));
    if (RED_IS_LP(red))
        for (int j = 0; j < count; j++)
            blk[j] = red_term(red, blk[j], p);
    return is_max && vm_bits(nan) != 0;
}

/* The three window taps along W of chunk cc, from a row's blocks. */
CP_INLINE void win3_taps(const vf *blk, int cc, int sw, int32_t pw, vf *t0, vf *t1, vf *t2)
{
    if (sw == 1) {
        /* block cc + 1 is the chunk's own columns: window taps are
         * columns ow - pw .. ow - pw + 2 */
        const vf prev = blk[cc], cur = blk[cc + 1], next = blk[cc + 2];
        if (pw == 1) {
            *t0 = vf_shift_in(prev, cur, LANES - 1);
            *t1 = cur;
            *t2 = vf_shift_in(cur, next, 1);
        } else {
            *t0 = cur;
            *t1 = vf_shift_in(cur, next, 1);
            *t2 = vf_shift_in(cur, next, 2);
        }
    } else {
        const vf a = blk[2 * cc], c = blk[2 * cc + 1];
        *t0 = vf_even(a, c);
        *t1 = vf_odd(a, c);
        *t2 = vf_shift_in(*t0, blk[2 * cc + 2], 1);
    }
}

/* Row r at rp reduced along W for every chunk of the band into h[] (with
 * Indices, the positions of each lane's maximum into hp[]); returns
 * whether a value read was NaN (max only). */
CP_INLINE int win3_row(const win3_blocks *b, const float *rp, int32_t r, int nb, int sw, int32_t pw,
                       int red, int32_t p, const win3_pos *ps, vf *h, vi *hp)
{
    vf blk[WIN3_MAX_BLOCKS];
    const int nan = win3_load(b, rp, nb, sw, red, p, blk);
#pragma GCC unroll 4
    for (int cc = 0; cc < nb; cc++) {
        vf t0, t1, t2;
        win3_taps(blk, cc, sw, pw, &t0, &t1, &t2);
        vi at = vi_set1(0); /* tap of the maximum, relative to the first */
        h[cc] = t0;
        red_acc_at(red, &h[cc], &at, t1, ps->tap1);
        red_acc_at(red, &h[cc], &at, t2, ps->tap2);
        if (red == CP_POOL_MAX_IDX)
            hp[cc] = vi_add(at, vi_add(ps->col[cc], vi_set1(r * ps->hmul)));
    }
    return nan;
}

/* AveragePool: taps per lane along W of the chunk whose first tap is at
 * column `first`: inside the row, or inside the padded row for
 * count_include_pad (the reference's rule). */
CP_INLINE vf win3_count_w(const cp_geom *g, int32_t first, int sw)
{
    const int32_t lo = g->count_include_pad ? -(int32_t)g->pad_begin[2] : 0;
    const int32_t hi = (int32_t)g->in[2] + (g->count_include_pad ? (int32_t)g->pad_end[2] : 0);
    const vi pos = vi_add(vi_set1(first), vi_mul(vi_iota(), vi_set1(sw)));
    vf cw = vf_zero();
    for (int k = 0; k < 3; k++)
        cw = vf_count(vm_range(vi_add(pos, vi_set1(k)), lo, hi), cw);
    return cw;
}

static int64_t POOL_FN(win3_tasks)(const cp_geom *g)
{
    const int64_t chunks = (g->out[2] + LANES - 1) / LANES;
    return win3_ok(g) ? g->n * g->c * ((chunks + WIN3_BAND - 1) / WIN3_BAND) : 0;
}

/* MaxPool without Indices, which streams its input with little work per
 * line, prefetches each fetched row's band lines this many rows ahead:
 * the hardware's prefetch alone left maxpool_stem (3x3/2 on 64 x 112 x
 * 112) at 0.076-0.078 ms on 1 thread; with it 0.070-0.074 (8 rows
 * measured alike). With Indices or averaging (more work per line) the
 * prefetches cost more than they gave: maxpool_stem+Indices 0.117 ->
 * 0.13, avgpool3_pad 0.032 -> 0.038. */
#define WIN3_PREFETCH_ROWS 4

/* The band's lines of row r + WIN3_PREFETCH_ROWS (MaxPool without
 * Indices only; past the plane: the next plane's, or an address a
 * prefetch does not fault on, formed as an integer, as it may lie past
 * the buffer). */
CP_INLINE void win3_prefetch(const win3_blocks *b, const float *xp, int32_t r, int32_t W, int nb,
                             int sw, int red)
{
    const uintptr_t ahead = (uintptr_t)xp + (uintptr_t)((int64_t)(r + WIN3_PREFETCH_ROWS) * W * 4);
    const int32_t lo = b->pos[0] > 0 ? b->pos[0] : 0;
    const int32_t last = b->pos[win3_block_count(nb, sw) - 1] + LANES;
    for (int32_t c = lo; red == CP_POOL_MAX && c < (last < W ? last : W); c += 16) /* a line */
        __builtin_prefetch((const void *)(ahead + (uintptr_t)c * 4));
}

/* Input row r reduced along W into h[] and hp[] (the identity outside the
 * plane); returns whether it read a NaN (max only). */
CP_INLINE int win3_fetch(const win3_blocks *b, const float *xp, int32_t r, int32_t H, int32_t W,
                         int nb, int sw, int32_t pw, int red, int32_t p, const win3_pos *ps, vf *h,
                         vi *hp)
{
    if (r < 0 || r >= H) {
        for (int cc = 0; cc < nb; cc++) {
            h[cc] = red_fill(red);
            if (red == CP_POOL_MAX_IDX)
                hp[cc] = vi_set1(0); /* -inf never wins: any position */
        }
        return 0;
    }
    win3_prefetch(b, xp, r, W, nb, sw, red);
    return win3_row(b, xp + (int64_t)r * W, r, nb, sw, pw, red, p, ps, h, hp);
}

/* Input row r's blocks into blk[] (the identity outside the plane);
 * returns whether it read a NaN (max only). */
CP_INLINE int win3_fetch_blocks(const win3_blocks *b, const float *xp, int32_t r, int32_t H,
                                int32_t W, int nb, int sw, int red, int32_t p, vf *blk)
{
    if (r < 0 || r >= H) {
        for (int j = 0; j < win3_block_count(nb, sw); j++)
            blk[j] = red_fill(red);
        return 0;
    }
    win3_prefetch(b, xp, r, W, nb, sw, red);
    return win3_load(b, xp + (int64_t)r * W, nb, sw, red, p, blk);
}

/*
 * One band of NB chunks of plane p (input xp, outputs yp, Indices ip),
 * all output rows. NB, the W stride sw and `rows_first` are constants
 * after inlining, so that the loops over chunks and blocks unroll and what
 * is kept between output rows stays in registers:
 *  - columns first: each input row reduced along W, the three reduced rows
 *    h0, h1, h2 (and with Indices their positions) kept; at stride 1 along
 *    H each row is reduced once for all three output rows it reaches;
 *  - rows first (stride 2 along H, no Indices): the window's three rows of
 *    blocks combined, then the one result reduced along W; the last row's
 *    blocks kept for the next output row. Each output row then takes one
 *    reduction along W (its permutes) instead of two: maxpool_stem 4%-8%
 *    faster on 1 thread, 3% on 2 (docs/performance.md).
 */
CP_INLINE void win3_band(const cp_geom *g, const float *xp, float *yp, int64_t *ip, int64_t p,
                         int32_t c0, const int NB, const int sw, const int rows_first, int red)
{
    const int32_t lp = (int32_t)g->p;
    const int32_t H = (int32_t)g->in[1], W = (int32_t)g->in[2];
    const int32_t OH = (int32_t)g->out[1], OW = (int32_t)g->out[2];
    const int sh = (int)g->stride[1];
    const int32_t ph = (int32_t)g->pad_begin[1], pw = (int32_t)g->pad_begin[2];
    const int32_t last_n = OW - (c0 + NB - 1) * LANES < LANES ? OW - (c0 + NB - 1) * LANES : LANES;
    win3_blocks blocks;
    win3_blocks_setup(&blocks, c0, NB, sw, pw, W);
    win3_pos ps;
    if (red == CP_POOL_MAX_IDX)
        win3_pos_setup(g, &ps, c0, sw, pw);
    vf count_w[WIN3_BAND], scale[WIN3_BAND];
    for (int cc = 0; cc < NB; cc++)
        scale[cc] = count_w[cc] =
            red == CP_POOL_AVG ? win3_count_w(g, (c0 + cc) * LANES * sw - pw, sw) : vf_zero();
    vf h0[WIN3_BAND], h1[WIN3_BAND], h2[WIN3_BAND];
    vi hp0[WIN3_BAND], hp1[WIN3_BAND], hp2[WIN3_BAND]; /* Indices */
    for (int cc = 0; cc < NB; cc++) {                  /* read only after the first row sets it */
        h2[cc] = red_fill(red);
        hp0[cc] = hp1[cc] = hp2[cc] = vi_set1(0);
    }
    vf kept[WIN3_MAX_BLOCKS]; /* rows first: the last row's blocks */
    int nan0 = 0, nan1 = 0, nan2 = 0;
    int32_t scale_count = -1;
    for (int32_t oh = 0; oh < OH; oh++) {
        const int32_t top = oh * sh - ph;
        vf out[WIN3_BAND];
        vi out_pos[WIN3_BAND];
        if (rows_first) {
            vf rows[WIN3_MAX_BLOCKS], next[WIN3_MAX_BLOCKS];
            if (oh == 0)
                nan0 = win3_fetch_blocks(&blocks, xp, top, H, W, NB, sw, red, lp, kept);
            nan1 = win3_fetch_blocks(&blocks, xp, top + 1, H, W, NB, sw, red, lp, rows);
            nan2 = win3_fetch_blocks(&blocks, xp, top + 2, H, W, NB, sw, red, lp, next);
#pragma GCC unroll 10
            for (int j = 0; j < win3_block_count(NB, sw); j++) {
                rows[j] = red_acc(red, red_acc(red, kept[j], rows[j]), next[j]);
                kept[j] = next[j];
            }
#pragma GCC unroll 4
            for (int cc = 0; cc < NB; cc++) {
                vf t0, t1, t2;
                win3_taps(rows, cc, sw, pw, &t0, &t1, &t2);
                out[cc] = red_acc(red, red_acc(red, t0, t1), t2);
                out_pos[cc] = vi_set1(0);
            }
        } else {
            if (oh == 0) {
                nan0 = win3_fetch(&blocks, xp, top, H, W, NB, sw, pw, red, lp, &ps, h0, hp0);
                nan1 = win3_fetch(&blocks, xp, top + 1, H, W, NB, sw, pw, red, lp, &ps, h1, hp1);
            } else if (sh == 1) { /* rows top, top + 1 were the last two */
                for (int cc = 0; cc < NB; cc++) {
                    h0[cc] = h1[cc];
                    h1[cc] = h2[cc];
                    if (red == CP_POOL_MAX_IDX) {
                        hp0[cc] = hp1[cc];
                        hp1[cc] = hp2[cc];
                    }
                }
                nan0 = nan1;
                nan1 = nan2;
            } else { /* stride 2: row top was the last one */
                for (int cc = 0; cc < NB; cc++) {
                    h0[cc] = h2[cc];
                    if (red == CP_POOL_MAX_IDX)
                        hp0[cc] = hp2[cc];
                }
                nan0 = nan2;
                nan1 = win3_fetch(&blocks, xp, top + 1, H, W, NB, sw, pw, red, lp, &ps, h1, hp1);
            }
            nan2 = win3_fetch(&blocks, xp, top + 2, H, W, NB, sw, pw, red, lp, &ps, h2, hp2);
#pragma GCC unroll 4
            for (int cc = 0; cc < NB; cc++) {
                out[cc] = h0[cc];
                out_pos[cc] = hp0[cc];
                red_acc_at(red, &out[cc], &out_pos[cc], h1[cc], hp1[cc]);
                red_acc_at(red, &out[cc], &out_pos[cc], h2[cc], hp2[cc]);
            }
        }
        const int nan_seen = nan0 | nan1 | nan2;
        if (rows_first) /* the next output row's first input row is this one's last */
            nan0 = nan2;
        if (red == CP_POOL_AVG) {
            /* the window's rows inside the input (or inside the padded input
             * for count_include_pad), as row_taps() counts them */
            const int32_t lo = g->count_include_pad || top >= 0 ? top : 0;
            const int32_t end = H + (g->count_include_pad ? (int32_t)g->pad_end[1] : 0);
            const int32_t count_h = (top + 3 < end ? top + 3 : end) - lo;
            if (count_h != scale_count) {
                for (int cc = 0; cc < NB; cc++)
                    scale[cc] = vf_div(vf_set1(1.0f), vf_mul(count_w[cc], vf_set1((float)count_h)));
                scale_count = count_h;
            }
        }
        const pool_row row = row_at(p, 0, oh);
#pragma GCC unroll 4
        for (int cc = 0; cc < NB; cc++) {
            const int32_t ow0 = (c0 + cc) * LANES;
            const int64_t at_out = (int64_t)oh * OW + ow0;
            const pool_lanes at = {&row,      xp,   ow0, 1, 0, cc == NB - 1 ? last_n : LANES,
                                   p * H * W, NULL, 0,   0};
            put_chunk(g, &at, red == CP_POOL_AVG ? vf_mul(out[cc], scale[cc]) : out[cc],
                      out_pos[cc], nan_seen ? ~0u : 0u, red, yp + at_out, ip ? ip + at_out : NULL);
        }
    }
}

/* A band, rows first where that takes fewer permutes (see win3_band). */
CP_INLINE void win3_band_any(const cp_geom *g, const float *xp, float *yp, int64_t *ip, int64_t p,
                             int32_t c0, const int NB, const int sw, int red)
{
    if (g->stride[1] == 2 && red != CP_POOL_MAX_IDX)
        win3_band(g, xp, yp, ip, p, c0, NB, sw, 1, red);
    else
        win3_band(g, xp, yp, ip, p, c0, NB, sw, 0, red);
}

CP_INLINE void win3(const cp_geom *g, const float *x, float *y, int64_t *indices,
                    int64_t task_begin, int64_t task_end, int red)
{
    const int64_t plane_in = g->in[1] * g->in[2], plane_out = g->out[1] * g->out[2];
    const int32_t chunks = (int32_t)((g->out[2] + LANES - 1) / LANES);
    const int32_t bands = (chunks + WIN3_BAND - 1) / WIN3_BAND;
    for (int64_t t = task_begin; t < task_end; t++) {
        const int64_t p = t / bands;
        const int32_t c0 = (int32_t)(t % bands) * WIN3_BAND;
        const float *xp = x + p * plane_in;
        float *yp = y + p * plane_out;
        int64_t *ip = indices ? indices + p * plane_out : NULL;
        const int nb = chunks - c0 < WIN3_BAND ? chunks - c0 : WIN3_BAND;
        /* band width and W stride as constants, so loops unroll */
        switch (g->stride[2] == 1 ? nb : -nb) {
        case 1: win3_band_any(g, xp, yp, ip, p, c0, 1, 1, red); break;
        case 2: win3_band_any(g, xp, yp, ip, p, c0, 2, 1, red); break;
#if WIN3_BAND == 4
        case 3: win3_band_any(g, xp, yp, ip, p, c0, 3, 1, red); break;
        case 4: win3_band_any(g, xp, yp, ip, p, c0, 4, 1, red); break;
        case -3: win3_band_any(g, xp, yp, ip, p, c0, 3, 2, red); break;
        case -4: win3_band_any(g, xp, yp, ip, p, c0, 4, 2, red); break;
#endif
        case -1: win3_band_any(g, xp, yp, ip, p, c0, 1, 2, red); break;
        default: win3_band_any(g, xp, yp, ip, p, c0, 2, 2, red); break;
        }
    }
}

POOL_WALK_KERNELS(win3, win3)
