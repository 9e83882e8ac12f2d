/*
 * pool_strips.h - the strip walk (no depth): input rows reduced along W once
 * into a ring, windows combined from it.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 */
/*
 * Strips (pools on planes without depth): one task is a band of column
 * chunks of one plane, walked down all its output rows. Each input row is
 * reduced along W once (the horizontal window of every lane: AVX-512 loads
 * the row's columns once and takes each tap's lanes with permutes; AVX2
 * loads per tap) and kept in a small ring of rows (with Indices, each
 * lane's maximum with its position); each output row then combines the
 * ring rows of its window. Rows shared by consecutive windows (stride <
 * kernel) are not recomputed, and there is no per-row setup beyond a tag
 * check.
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
CP_INLINE vf row_block(const pool_w *w, const float *rp, int32_t pos, vf fill)
{
    if (pos >= 0 && pos + LANES <= w->W)
        return vf_loadu(rp + pos);
    if (pos + LANES > 0 && pos < w->W)
        return vf_loadm(vm_range(vi_add(vi_set1(pos), vi_iota()), 0, w->W), rp + pos, fill);
    return fill;
}
#endif

/* Horizontal window of every lane of the chunk at `first`, on input row rp,
 * reduced by `red`; *nan gets a sum of the values read (NaN if one was;
 * max only); with Indices, *pos the position of each lane's maximum, given
 * `base`, the position of each lane's first tap. */
CP_INLINE vf horizontal(const pool_w *w, const float *rp, int32_t first, int S, int mode,
                        const pool_edge *e, int red, vi base, vf *nan, vi *pos)
{
    const int is_max = RED_IS_MAX(red);
    const vf fill = red_fill(red);
    vf nan_sum = vf_zero(), acc = fill;
    vi at = vi_set1(0); /* Indices: tap of the maximum, relative to the first */
#ifdef POOL_SEPARABLE
    if ((S == 1 || S == 2) && w->K <= POOL_KW_CAP && (w->K - 1) * w->dil <= 16) {
        const int32_t ext = (w->K - 1) * w->dil;
        const int nvec = S == 1 ? 1 + (ext > 0) : 2 + (ext > 1);
        /* the row's columns [first, first + nvec * LANES), in registers */
        /* cached edge chunks: masked loads with the masks of w_setup */
#define POOL_BLOCK(j)                                                                              \
    (mode == 1 ? vf_loadm(e->block[j], rp + first + (j)*LANES, fill)                               \
               : row_block(w, rp, first + (j)*LANES, fill))
        vf v0 = POOL_BLOCK(0), v1 = v0, v2;
        if (nvec > 1)
            v1 = POOL_BLOCK(1);
        v2 = nvec > 2 ? POOL_BLOCK(2) : v1;
#undef POOL_BLOCK
        if (is_max)
            nan_sum = vf_add(vf_add(v0, nvec > 1 ? v1 : vf_zero()), nvec > 2 ? v2 : vf_zero());
        /* each column's term once, before the taps take their lanes */
        v0 = red_term(red, v0, w->p);
        v1 = red_term(red, v1, w->p);
        v2 = red_term(red, v2, w->p);
        for (int32_t kw = 0; kw < w->K; kw++) {
            vf h = S == 1 && kw == 0
                       ? v0
                       : vf_take(v0, v1, v2, w->take_idx[kw], w->take_idx2[kw], w->take_hi[kw]);
            red_acc_at(red, &acc, &at, h, vi_set1(kw * w->dil * w->wmul));
        }
        *nan = nan_sum;
        *pos = vi_add(base, at);
        return acc;
    }
#endif
    for (int32_t kw = 0; kw < w->K; kw++) {
        vm valid;
        vf v = load_tap(w, rp + first, first, kw, S, mode, e, &valid);
        if (is_max) {
            nan_sum = vf_add(nan_sum, v);
            if (mode != 0) /* lanes whose tap is outside the row: the identity */
                v = vf_select(valid, fill, v);
            red_acc_at(red, &acc, &at, v, vi_set1(kw * w->dil * w->wmul));
        } else {
            acc = vf_add(acc, red_term(red, v, w->p));
        }
    }
    *nan = nan_sum;
    *pos = vi_add(base, at);
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

/* Fills *row: output row oh (of a plane without depth), its vertical taps. */
CP_INLINE void table_row(const cp_geom *g, const pool_row_table *rt, int64_t oh, pool_row *row)
{
    *row = (pool_row){0, 0, oh, 0, 1, 0, 0, 0};
    if (oh < rt->rows) {
        row->h_lo = rt->h_lo[oh];
        row->h_hi = rt->h_hi[oh];
        row->count_dh = rt->count_dh[oh];
    } else {
        row_taps(g, row);
    }
}

/* AveragePool: taps per lane along W of chunk ch. */
CP_INLINE vf chunk_count_w(const cp_geom *g, const pool_w *w, const pool_chunk *ch)
{
    return ch->mode == 0   ? vf_set1((float)w->K)
           : ch->mode == 1 ? ch->e->count_w
                           : count_w_of(g, w, ch->first);
}

/* Up to this many chunks side by side form one strip, so that each input
 * row is read in runs of up to POOL_STRIP_CHUNKS * LANES * stride columns
 * (the hardware prefetcher follows those; it loses narrower columns). */
#define POOL_STRIP_CHUNKS 4

/* One strip: the band of chunks from c0 of plane xp (outputs yp, Indices
 * ip, the plane's first element at flat index index_base). */
CP_INLINE void strip(const cp_geom *g, const pool_w *w, const pool_row_table *rt, const float *xp,
                     float *yp, int64_t *ip, int64_t index_base, int32_t c0, int S, int red,
                     int band)
{
    const int is_max = RED_IS_MAX(red);
    const int cc_n = band == 1 || w->chunks - c0 >= band ? band : w->chunks - c0; /* >= 1 */
    pool_chunk ch[POOL_STRIP_CHUNKS];
    vf count_w[POOL_STRIP_CHUNKS], scale[POOL_STRIP_CHUNKS];
    for (int cc = 0; cc < cc_n; cc++) {
        ch[cc] = chunk_at(w, c0 + cc);
        scale[cc] = vf_zero(); /* set at the first output row */
        count_w[cc] = red == CP_POOL_AVG ? chunk_count_w(g, w, &ch[cc]) : vf_zero();
    }
    const int64_t OH = g->out[1], sh = g->stride[1], dh = g->dilation[1];
    const int64_t ph = g->pad_begin[1];
    vf ring[POOL_RING][POOL_STRIP_CHUNKS];
    vi ring_pos[POOL_RING][POOL_STRIP_CHUNKS]; /* Indices */
    int64_t tag[POOL_RING];
    unsigned char ring_nan[POOL_RING];
    for (int i = 0; i < POOL_RING; i++)
        tag[i] = -1;
    int64_t scale_count = -1;
    for (int64_t oh = 0; oh < OH; oh++) {
        pool_row row;
        table_row(g, rt, oh, &row);
        vf acc[POOL_STRIP_CHUNKS];
        vi pos[POOL_STRIP_CHUNKS];
        int nan_seen = 0;
        for (int cc = 0; cc < cc_n; cc++) {
            acc[cc] = red_fill(red);
            pos[cc] = vi_set1(0);
        }
        for (int64_t kh = row.h_lo; kh < row.h_hi; kh++) {
            const int64_t ih = oh * sh - ph + kh * dh;
            const int i = (int)(ih & (POOL_RING - 1));
            if (tag[i] != ih) { /* a new input row: reduce it along W once */
                vf nan = vf_zero();
                /* Indices: position of this row's column 0 in the plane (no
                 * depth: the column-major position is w * H + h) */
                const int32_t row_pos = g->storage_order ? (int32_t)ih : (int32_t)ih * w->W;
                for (int cc = 0; cc < cc_n; cc++) {
                    const float *rp = xp + ih * w->W;
                    const int32_t first = ch[cc].first;
                    const vi base = vi_add(vi_set1(row_pos + first * w->wmul), w->lane_ioff);
                    vf nan_cc;
                    vi *rpos = &ring_pos[i][cc];
                    POOL_BY_MODE(ch[cc].mode,
                                 ring[i][cc] = horizontal(w, rp, first, S, 0, ch[cc].e, red, base,
                                                          &nan_cc, rpos),
                                 ring[i][cc] = horizontal(w, rp, first, S, 1, ch[cc].e, red, base,
                                                          &nan_cc, rpos),
                                 ring[i][cc] = horizontal(w, rp, first, S, 2, ch[cc].e, red, base,
                                                          &nan_cc, rpos));
                    if (is_max)
                        nan = vf_add(nan, nan_cc);
                }
                ring_nan[i] = is_max && vm_bits(vm_isnan(nan)) != 0;
                tag[i] = ih;
            }
            for (int cc = 0; cc < cc_n; cc++)
                red_acc_at(red, &acc[cc], &pos[cc], ring[i][cc], ring_pos[i][cc]);
            nan_seen |= ring_nan[i];
        }
        if (red == CP_POOL_AVG && row.count_dh != scale_count) { /* divide once per divisor */
            for (int cc = 0; cc < cc_n; cc++)
                scale[cc] =
                    vf_div(vf_set1(1.0f), vf_mul(count_w[cc], vf_set1((float)row.count_dh)));
            scale_count = row.count_dh;
        }
        for (int cc = 0; cc < cc_n; cc++) {
            const int32_t ow0 = (c0 + cc) * LANES;
            const int64_t at_out = oh * w->OW + ow0;
            const pool_lanes at = {&row, xp, ow0, 1, 0, ch[cc].n, index_base, NULL, 0, 0};
            put_chunk(g, &at, red == CP_POOL_AVG ? vf_mul(acc[cc], scale[cc]) : acc[cc], pos[cc],
                      nan_seen ? ~0u : 0u, red, yp + at_out, ip ? ip + at_out : NULL);
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
CP_INLINE void strips(const cp_geom *g, const float *x, float *y, int64_t *indices,
                      int64_t task_begin, int64_t task_end, int red)
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
        int64_t *ip = indices ? indices + p * out_plane : NULL;
#define POOL_STRIP(S, band) strip(g, &w, &rt, xp, yp, ip, p *in_plane, c, S, red, band)
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

POOL_WALK_KERNELS(strips, strips)
