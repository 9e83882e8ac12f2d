/*
 * The x86 convolution's thread-pool tasks (kernels/x86/conv_x86.h): one per
 * algorithm, plus one that packs a band all threads share. Each decodes its
 * task index, packs (or finds) its input and calls the micro-kernels.
 */
#include "kernels/x86/conv_x86.h"

#include <string.h>

/*
 * A packed GEMM tile's input comes from beyond L2, one short piece from
 * each of the group's input planes: far more streams than the hardware
 * prefetchers follow, so the copy waited on every line (on a Zen 3, 29% of
 * r1x1b's time). Each block's pass over the packed tile therefore first
 * asks for its share of the next tile's lines, so that they arrive while
 * the FMAs run. next_np == 0: no next tile.
 */
typedef struct next_tile {
    const float *x; /* the group's first input plane */
    int64_t plane, channels, q, np;
} next_tile;

static void prefetch_share(const next_tile *t, int64_t share, int64_t shares)
{
    if (t->np == 0)
        return;
    const int64_t c_hi = t->channels * (share + 1) / shares;
    for (int64_t c = t->channels * share / shares; c < c_hi; c++) {
        const float *first = t->x + c * t->plane + t->q;
        const uintptr_t last = (uintptr_t)(first + t->np - 1) & ~(uintptr_t)63;
        for (uintptr_t at = (uintptr_t)first & ~(uintptr_t)63; at <= last; at += 64)
            __builtin_prefetch((const void *)at, 0, 3);
    }
}

/* The GEMM's blocks b_lo .. b_hi - 1 of group grp on pixels q .. q + np - 1
 * of image n, stored depth to space: with stride 2 along W, a whole tile
 * whose vectors each lie in one input row goes straight to y, row pairs
 * zipped in registers (the rows come in pairs of taps kw = 0, 1: the taps
 * K and the blocks' rows are even); any other tile through an L1 buffer.
 * xt: the tile's input, its channels xs floats apart (in place or packed). */
static void d2s_pixel_tile(const x86_conv_job *job, const float *xt, int64_t xs, int64_t n,
                           int64_t grp, int64_t b_lo, int64_t b_hi, int64_t q, int64_t np,
                           const next_tile *next)
{
    const x86_conv *xc = job->xc;
    const x86_conv_d2s *d = job->d2s;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const int64_t vw = k->vw, tile = (int64_t)k->gemm_nv * vw, mr = xc->block;
    const int64_t o1 = d->out[1], o2 = d->out[2];
    float *y = job->a->y + n * d->image;
    const int zip = d->block[2] == 2 && g->in[2] % vw == 0 && np == tile;
    int64_t vectors_at[CP_CONV_GEMM_TILE_PIXELS_MAX];
    for (int64_t v = 0; zip && v < k->gemm_nv; v++) {
        const int64_t p = q + v * vw, i2 = p % g->in[2], i1 = p / g->in[2] % g->in[1];
        const int64_t i0 = p / g->in[2] / g->in[1];
        vectors_at[v] = (i0 * d->block[0] * o1 + i1 * d->block[1]) * o2 + i2 * 2;
    }
    /* the next even row's channel m and tap (kd, kh, 0), counted on
     * without dividing */
    const int64_t r_lo = grp * xc->mpg + b_lo * mr, half = r_lo % d->k / 2;
    int64_t m = r_lo / d->k, kh = half % d->block[1], kd = half / d->block[1];
    for (int64_t b = b_lo; b < b_hi; b++) {
        const int64_t slot = grp * xc->blocks + b, rows = min64(mr, xc->mpg - b * mr);
        const float *w = xc->w + slot * xc->cpg * mr, *bias = xc->bias + slot * mr;
        prefetch_share(next, b - b_lo, b_hi - b_lo);
        if (!zip) {
            float buf[CP_CONV_GEMM_TILE_MAX];
            k->gemm(xc->cpg, xt, xs, w, bias, buf, tile, rows, np, 0);
            cp_x86_conv_d2s_store(k, d, g, buf, tile, y, grp * xc->mpg + b * mr, rows, q, np);
            continue;
        }
        int64_t rows_at[CP_CONV_GEMM_MR_MAX / 2];
        for (int64_t i = 0; i < rows; i += 2) {
            rows_at[i / 2] = (m * d->out[0] + kd) * o1 * o2 + kh * o2;
            if (++kh == d->block[1]) {
                kh = 0;
                if (++kd == d->block[0])
                    kd = 0, m++;
            }
        }
        k->gemm_zip(xc->cpg, xt, xs, w, bias, y, rows_at, vectors_at, rows);
    }
}

void cp_x86_conv_gemm_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const int64_t plane = cp_geom_out_plane(g), tile = job->plan.tile;
    const int64_t tiles = x86_conv_gemm_tiles(&job->plan, job->pixels);
    const int64_t mr = xc->block, ys = job->y_stride;
    for (int64_t t = begin; t < end; t++) {
        int64_t mc = t % job->plan.m_chunks, rest = t / job->plan.m_chunks;
        int64_t pc = rest % job->plan.p_chunks, ng = rest / job->plan.p_chunks;
        int64_t n = ng / xc->groups, grp = ng % xc->groups;
        const float *x = job->a->x + (n * g->c + grp * xc->cpg) * plane;
        float *y = job->y + (n * g->m + grp * xc->mpg) * ys;
        int64_t b_lo = mc * job->plan.m_chunk, b_hi = min64(b_lo + job->plan.m_chunk, xc->blocks);
        int64_t pt_lo = pc * job->plan.p_chunk;
        int64_t pt_hi = min64(pt_lo + job->plan.p_chunk, tiles);
        for (int64_t pt = pt_lo; pt < pt_hi; pt++) {
            int64_t q, np;
            x86_conv_gemm_tile_span(&job->plan, job->pixels, pt, &q, &np);
            q += job->q0;
            const float *xt = job->tiled_x ? job->a->x + pt * xc->cpg * tile : x + q;
            int64_t xs = job->tiled_x ? tile : plane;
            next_tile next = {x, plane, xc->cpg, 0, 0};
            if (job->plan.gemm_packs) { /* the tile's channels a tile apart, in L1 */
                float *pack = job->pack + thread_index * job->plan.thread_floats;
                k->pack_rows(x + q, plane, xc->cpg, np, 1, pack, NULL, tile);
                xt = pack, xs = tile;
                if (pt + 1 < tiles) { /* (at 1 thread, the next task's first tile too) */
                    x86_conv_gemm_tile_span(&job->plan, job->pixels, pt + 1, &next.q, &next.np);
                    next.q += job->q0;
                }
            }
            if (job->d2s) {
                d2s_pixel_tile(job, xt, xs, n, grp, b_lo, b_hi, q, np, &next);
                continue;
            }
            /* part by part of the input channels (plan.k_chunk), each
             * block's sums carried in y from one part to the next */
            for (int64_t c0 = 0; c0 < xc->cpg; c0 += job->plan.k_chunk) {
                const int64_t cc = min64(job->plan.k_chunk, xc->cpg - c0);
                for (int64_t b = b_lo; b < b_hi; b++) {
                    const int64_t slot = grp * xc->blocks + b;
                    prefetch_share(&next, b - b_lo, b_hi - b_lo);
                    k->gemm(cc, xt + c0 * xs, xs, xc->w + (slot * xc->cpg + c0) * mr,
                            c0 ? NULL : xc->bias + slot * mr, y + b * mr * ys + (q - job->q0), ys,
                            xc->mpg - b * mr, np, job->store);
                }
            }
        }
    }
}

void cp_x86_conv_d2s_store(const cp_conv_kernels *k, const x86_conv_d2s *d, const cp_geom *g,
                           const float *src, int64_t src_stride, float *y_image, int64_t r0,
                           int64_t rows, int64_t q, int64_t np)
{
    const int64_t in1 = g->in[1], in2 = g->in[2];
    const int64_t b1 = d->block[1], b2 = d->block[2], o1 = d->out[1], o2 = d->out[2];
    const int64_t out_plane = d->out[0] * o1 * o2;
    /* the pixels as runs along input rows: run s is pixels at[s] ..
     * at[s + 1] - 1 of the tile, whose tap-0 outputs start at base[s] */
    int64_t at[CP_CONV_GEMM_TILE_PIXELS_MAX + 1], base[CP_CONV_GEMM_TILE_PIXELS_MAX];
    int64_t runs = 0;
    for (int64_t p = q; p < q + np; runs++) {
        const int64_t i2 = p % in2, i1 = p / in2 % in1, i0 = p / in2 / in1;
        at[runs] = p - q;
        base[runs] = (i0 * d->block[0] * o1 + i1 * b1) * o2 + i2 * b2;
        p += min64(in2 - i2, q + np - p);
    }
    at[runs] = np;
    for (int64_t r = 0; r < rows;) {
        const int64_t row = r0 + r, m = row / d->k, tap = row % d->k;
        const int64_t kw = tap % b2, kh = tap / b2 % b1, kd = tap / b2 / b1;
        float *ym = y_image + m * out_plane + (kd * o1 + kh) * o2 + kw;
        const float *sr = src + r * src_stride;
        /* with stride 2 along W, the next row is this one's odd phase */
        const int pair = b2 == 2 && kw == 0 && r + 1 < rows;
        for (int64_t s = 0; s < runs; s++) {
            const int64_t len = at[s + 1] - at[s];
            float *dr = ym + base[s];
            if (pair)
                k->zip_rows(sr + at[s], sr + src_stride + at[s], 0, len, 1, dr, 0);
            else if (b2 == 1)
                memcpy(dr, sr + at[s], (size_t)len * sizeof(float));
            else
                for (int64_t j = 0; j < len; j++)
                    dr[j * b2] = sr[at[s] + j];
        }
        r += pair ? 2 : 1;
    }
}

/* *t % count, leaving *t / count; no division for the common count 1
 * (tiny ops pay for every divide). */
static int64_t split_index(int64_t *t, int64_t count)
{
    if (count == 1)
        return 0;
    int64_t r = *t % count;
    *t /= count;
    return r;
}

/* Decodes an outer task index into image, group, output depth and band. */
static void decode_outer(const x86_conv_job *job, int64_t t, int64_t groups, int64_t *n,
                         int64_t *grp, int64_t *od, int64_t *oh0, int64_t *oh1)
{
    const cp_geom *g = job->a->geom;
    int64_t band = split_index(&t, job->plan.bands);
    *od = split_index(&t, g->out[0]);
    *grp = split_index(&t, groups);
    *n = t;
    *oh0 = band * job->plan.band_rows;
    *oh1 = min64(*oh0 + job->plan.band_rows, g->out[1]);
}

/*
 * Depthwise with three taps along W at stride 1 or 2, from the input itself:
 * output rows whose windows lie wholly inside the input in D and H go to
 * the kernel together; the others one by one, with only their inside taps.
 */
static void depthwise_unpacked(const x86_conv *xc, const cp_geom *g, const float *x, int64_t m,
                               int64_t od, int64_t oh0, int64_t oh1, float *y)
{
    /* y: output row oh0 of the plane */
    const int64_t H = g->in[1], W = g->in[2], KH = g->kernel[1];
    const int64_t sh = g->stride[1], ph = g->pad_begin[1], dh = g->dilation[1];
    int64_t d_lo, d_hi;
    cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0, g->in[0],
                 &d_lo, &d_hi);
    int64_t tap_rows[X86_CONV_DW_MAX_ROW_TAPS];
    float tap_w[3 * X86_CONV_DW_MAX_ROW_TAPS];
    const float *w = xc->w + m * xc->taps;
    int64_t oh = oh0;
    while (oh < oh1) {
        int64_t h_lo, h_hi;
        cp_tap_range(oh, sh, ph, dh, KH, 0, H, &h_lo, &h_hi);
        /* rows with the same (full) tap range go together */
        int64_t rows = 1;
        if (h_lo == 0 && h_hi == KH)
            while (oh + rows < oh1 && (oh + rows) * sh - ph + (KH - 1) * dh < H)
                rows++;
        int64_t taps = 0;
        for (int64_t kd = d_lo; kd < d_hi; kd++) {
            int64_t id = od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            for (int64_t kh = h_lo; kh < h_hi; kh++, taps++) {
                tap_rows[taps] = (id * H + oh * sh - ph + kh * dh) * W;
                memcpy(tap_w + 3 * taps, w + (kd * KH + kh) * 3, 3 * sizeof(float));
            }
        }
        (g->stride[2] == 1 ? xc->k->depthwise3s1 : xc->k->depthwise3s2)(
            taps, tap_rows, tap_w, x, sh * W, W, g->pad_begin[2], xc->bias[m],
            y + (oh - oh0) * g->out[2], g->out[2], rows, g->out[2]);
        oh += rows;
    }
}

/* Output rows oh0 .. oh1 - 1 (at most a band of plan p) at depth od of the
 * output channels of group grp, from that group's input plane x: channel j
 * of the group's row oh0 at y + j*y_plane. Packed plans copy the band's
 * input rows into `pack` first (`zeroed`: the pack's state, see
 * cp_x86_conv_pack_band). */
static void depthwise_band(const x86_conv *xc, const cp_geom *g, const x86_conv_plan *p,
                           const int64_t *offsets, float *pack, unsigned char *zeroed,
                           const float *x, int64_t grp, int64_t od, int64_t oh0, int64_t oh1,
                           float *y, int64_t y_plane)
{
    if (p->unpacked) {
        for (int64_t j = 0; j < xc->mpg; j++)
            depthwise_unpacked(xc, g, x, grp * xc->mpg + j, od, oh0, oh1, y + j * y_plane);
        return;
    }
    cp_x86_conv_pack_band(p, g, xc->k, x, 1, od, oh0, pack, zeroed);
    /* rows of three taps at dilation 1 and stride 1 or 2 have their own kernel */
    const int three_taps = g->kernel[2] == 3 && g->dilation[2] == 1 && g->stride[2] <= 2;
    for (int64_t j = 0; j < xc->mpg; j++) {
        const int64_t m = grp * xc->mpg + j;
        if (three_taps)
            xc->k->depthwise3(g->stride[2], xc->taps / 3, offsets, p->phase_len, pack,
                              g->stride[1] * p->row_pitch, xc->w + m * xc->taps, xc->bias[m],
                              y + j * y_plane, g->out[2], oh1 - oh0, g->out[2]);
        else
            xc->k->depthwise(xc->taps, offsets, pack, g->stride[1] * p->row_pitch,
                             xc->w + m * xc->taps, xc->bias[m], y + j * y_plane, g->out[2],
                             oh1 - oh0, g->out[2]);
    }
}

void cp_x86_conv_depthwise_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const x86_conv_plan *p = &job->plan;
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    float *pack = job->pack + thread_index * p->thread_floats;
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, oh0, oh1;
        decode_outer(job, t, xc->groups, &n, &grp, &od, &oh0, &oh1);
        depthwise_band(xc, g, p, job->offsets, pack, &job->per_thread[thread_index].zeroed,
                       job->a->x + (n * g->c + grp) * in_plane, grp, od, oh0, oh1,
                       job->a->y + (n * g->m + grp * xc->mpg) * out_plane +
                           (od * g->out[1] + oh0) * g->out[2],
                       out_plane);
    }
}

size_t cp_x86_conv_depthwise_rows_workspace(const x86_conv *xc, const cp_geom *g, int64_t max_rows)
{
    x86_conv_plan p;
    cp_x86_conv_plan_depthwise_rows(xc, g, max_rows, &p);
    return p.unpacked
               ? 0
               : cp_x86_conv_offsets_bytes(&p) + cp_align_up((size_t)p.pack_floats * sizeof(float));
}

void cp_x86_conv_depthwise_rows(const x86_conv *xc, const cp_geom *g, const float *x, int64_t oh0,
                                int64_t oh1, int64_t max_rows, float *y, int64_t y_plane,
                                void *workspace)
{
    x86_conv_plan p;
    cp_x86_conv_plan_depthwise_rows(xc, g, max_rows, &p);
    int64_t *offsets = workspace;
    float *pack = NULL;
    unsigned char zeroed = 0;
    if (!p.unpacked) {
        cp_x86_conv_make_offsets(&p, g, 1, offsets);
        pack = (float *)((char *)workspace + cp_x86_conv_offsets_bytes(&p));
    }
    const int64_t in_plane = cp_geom_in_plane(g);
    for (int64_t b0 = oh0; b0 < oh1; b0 += p.band_rows) {
        const int64_t b1 = min64(b0 + p.band_rows, oh1);
        for (int64_t grp = 0; grp < xc->groups; grp++)
            depthwise_band(xc, g, &p, offsets, pack, &zeroed, x + grp * in_plane, grp, 0, b0, b1,
                           y + grp * xc->mpg * y_plane + (b0 - oh0) * g->out[2], y_plane);
    }
}

/* Decodes direct or rows task t into image, group, depth, band and
 * output-channel chunk, and packs the band's input unless this thread's
 * pack holds it already (an earlier chunk of the same band). */
static void start_band_task(x86_conv_job *job, int64_t t, int32_t thread_index, float *pack,
                            int64_t *n, int64_t *grp, int64_t *od, int64_t *oh0, int64_t *oh1,
                            int64_t *mc)
{
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    int64_t outer = t / job->plan.m_chunks;
    *mc = t % job->plan.m_chunks;
    decode_outer(job, outer, xc->groups, n, grp, od, oh0, oh1);
    int64_t *packed_outer = &job->per_thread[thread_index].packed_outer;
    if (!job->plan.unpacked && outer != *packed_outer) {
        cp_x86_conv_pack_band(&job->plan, g, xc->k,
                              job->a->x + (*n * g->c + *grp * xc->cpg) * cp_geom_in_plane(g),
                              xc->cpg, *od, *oh0, pack, &job->per_thread[thread_index].zeroed);
        *packed_outer = outer;
    }
}

/* Packs chunk t of min(cpg, X86_CONV_TASK_TARGET) chunks of the input
 * channels of the run's one band into thread 0's pack. */
void cp_x86_conv_shared_pack_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const int64_t chunks = min64(xc->cpg, X86_CONV_TASK_TARGET);
    int64_t n, grp, od, oh0, oh1;
    decode_outer(job, 0, xc->groups, &n, &grp, &od, &oh0, &oh1);
    for (int64_t t = begin; t < end; t++) {
        int64_t c0 = t * xc->cpg / chunks, c1 = (t + 1) * xc->cpg / chunks;
        unsigned char zeroed = 0;
        cp_x86_conv_pack_band(&job->plan, g, xc->k,
                              job->a->x + (n * g->c + grp * xc->cpg + c0) * cp_geom_in_plane(g),
                              c1 - c0, od, oh0, job->pack + c0 * job->plan.chan_pitch, &zeroed);
    }
}

/* Whether every tap along dimension dim (0 depth, 1 height) of output
 * position o reads inside the input. */
static int all_taps_inside(const cp_geom *g, int dim, int64_t o)
{
    int64_t lo, hi;
    cp_tap_range(o, g->stride[dim], g->pad_begin[dim], g->dilation[dim], g->kernel[dim], 0,
                 g->in[dim], &lo, &hi);
    return lo == 0 && hi == g->kernel[dim];
}

/*
 * The reduction steps of output row (od, oh): all of them, or, where the
 * window overhangs the top or bottom (or depth) padding, only the taps
 * inside, listed in one of the X86_CONV_COMPACT_SLOTS tables at `compact`
 * (input offsets, then weight codes; kept while the same taps are needed,
 * keys[slot] names them): rows in the top half use the first, the others
 * the second, so that a tile's top and bottom rows do not rebuild them.
 * Skipping a tap that reads padding only drops an exact +0 from the sum.
 * Returns the count.
 */
static int64_t row_reduction(const x86_conv_job *job, int64_t od, int64_t oh, int64_t *compact,
                             int64_t *keys, const int64_t **x_off, const int64_t **w_off)
{
    const cp_geom *g = job->a->geom;
    const x86_conv *xc = job->xc;
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t steps = xc->cpg * xc->taps;
    int64_t d_lo, d_hi, h_lo, h_hi;
    cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], KD, 0, g->in[0], &d_lo, &d_hi);
    cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], KH, 0, g->in[1], &h_lo, &h_hi);
    if (d_lo == 0 && d_hi == KD && h_lo == 0 && h_hi == KH)
        return steps;
    int64_t count = (d_hi - d_lo) * (h_hi - h_lo) * KW * xc->cpg;
    int64_t want = ((d_lo * (KD + 1) + d_hi) * (KH + 1) + h_lo) * (KH + 1) + h_hi;
    int64_t slot = 2 * oh < g->out[1] ? 0 : 1;
    compact += slot * 2 * steps;
    if (keys[slot] != want) {
        int64_t i = 0;
        for (int64_t c = 0; c < xc->cpg; c++)
            for (int64_t kd = d_lo; kd < d_hi; kd++)
                for (int64_t kh = h_lo; kh < h_hi; kh++)
                    for (int64_t kw = 0; kw < KW; kw++, i++) {
                        int64_t k = ((c * KD + kd) * KH + kh) * KW + kw;
                        compact[i] = job->offsets[k];
                        compact[steps + i] = job->w_offsets[k];
                    }
        keys[slot] = want;
    }
    *x_off = compact;
    *w_off = compact + steps;
    return count;
}

void cp_x86_conv_direct_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const x86_conv_plan *p = &job->plan;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t ow = g->out[2], sw = g->stride[2], vw = k->vw;
    const int64_t steps = xc->cpg * xc->taps;
    const int stride_class = sw == 1 ? 1 : sw == 2 ? 2 : 0;
    float *own = job->pack + thread_index * p->thread_floats;
    float *pack = job->shared_pack ? job->pack : own;
    int64_t *compact = (int64_t *)(own + p->pack_floats);
    int64_t *compact_keys = job->per_thread[thread_index].compact_keys;
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, band0, band1, mc;
        int64_t part = t % p->row_parts;
        start_band_task(job, t / p->row_parts, thread_index, pack, &n, &grp, &od, &band0, &band1,
                        &mc);
        /* the band's first row: packed, or in the input */
        const float *band = pack;
        if (p->unpacked)
            band = job->a->x + (n * g->c + grp * xc->cpg) * cp_geom_in_plane(g) +
                   (od * g->stride[0] * g->in[1] + band0 * g->stride[1]) * g->in[2];
        /* this task's rows of the band: parts start at even rows (pairs) */
        int64_t part_rows = round_up(ceil_div(band1 - band0, p->row_parts), 2);
        int64_t oh0 = min64(band0 + part * part_rows, band1);
        int64_t oh1 = min64(oh0 + part_rows, band1);
        int64_t tiles = ceil_div(xc->blocks, p->mv);
        int64_t mt_lo = mc * p->m_chunk, mt_hi = min64(mt_lo + p->m_chunk, tiles);
        for (int64_t mt = mt_lo; mt < mt_hi; mt++) {
            int64_t b0 = x86_conv_tile_block(xc->blocks, p->mv, mt);
            int64_t mv = x86_conv_tile_block(xc->blocks, p->mv, mt + 1) - b0;
            int64_t slot = grp * xc->blocks + b0;
            const float *w = xc->w + slot * steps * vw;
            const float *bias = xc->bias + slot * vw;
            int64_t np_max = cp_conv_direct_np(k, mv, ow);
            int64_t col_tiles = ceil_div(ow, np_max);
            float *y =
                job->a->y + (n * g->m + grp * xc->mpg + b0 * vw) * out_plane + od * g->out[1] * ow;
            /* Whole rows of the two-row tile's width and vectors go in
             * pairs where both take every reduction step, but for taps
             * in the padding of output row 0 (first of a pair) or of the
             * last output row (second of a pair), which the codes mark. */
            const int pairs =
                mv == k->direct2_mv && ow <= k->direct2_np_max && all_taps_inside(g, 0, od);
            const int64_t x_row = g->stride[1] * p->row_pitch, last_row = g->out[1] - 1;
            for (int64_t oh = oh0; oh < oh1;) {
                const float *row = band + (oh - band0) * x_row;
                if (pairs && oh + 1 < oh1 && (oh == 0 || all_taps_inside(g, 1, oh)) &&
                    (oh + 1 == last_row || all_taps_inside(g, 1, oh + 1))) {
                    int64_t edges = CP_CONV_EDGE_FIRST | CP_CONV_EDGE_LAST |
                                    (oh == 0 ? CP_CONV_EDGE_TOP : 0) |
                                    (oh + 1 == last_row ? CP_CONV_EDGE_BOTTOM : 0);
                    k->direct2[stride_class][ow - 1](sw, steps, job->offsets, job->w_offsets, row,
                                                     x_row, w, steps * vw, bias, y + oh * ow,
                                                     out_plane, ow, xc->mpg - b0 * vw, edges);
                    oh += 2;
                    continue;
                }
                const int64_t *x_off = job->offsets, *w_off = job->w_offsets;
                int64_t row_steps =
                    row_reduction(job, od, oh, compact, compact_keys, &x_off, &w_off);
                /* Tiles of near-equal width: no narrow leftover tile. */
                for (int64_t ct = 0; ct < col_tiles; ct++) {
                    int64_t c0 = ct * ow / col_tiles, c1 = (ct + 1) * ow / col_tiles;
                    int64_t edges =
                        (c0 == 0 ? CP_CONV_EDGE_FIRST : 0) | (c1 == ow ? CP_CONV_EDGE_LAST : 0);
                    k->direct[mv - 1][stride_class][c1 - c0 - 1](
                        sw, row_steps, x_off, w_off, row + c0 * sw, w, steps * vw, bias,
                        y + oh * ow + c0, out_plane, xc->mpg - b0 * vw, edges);
                }
                oh++;
            }
        }
    }
}

void cp_x86_conv_rows_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    x86_conv_job *job = arg;
    const x86_conv *xc = job->xc;
    const cp_geom *g = job->a->geom;
    const cp_conv_kernels *k = xc->k;
    const x86_conv_plan *p = &job->plan;
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t ow = g->out[2], mr = xc->block;
    const cp_conv_rows_fn rows = xc->rows_fn;
    /* a row's tiles of near-equal whole vectors (112 pixels on 3-vector
     * tiles: 2 + 2 + 3 vectors, not 3 + 3 + 1) */
    const int64_t row_vecs = ceil_div(ow, k->vw), tiles = ceil_div(row_vecs, xc->rows_nv);
    const int64_t steps = xc->cpg * xc->taps;
    float *pack = job->shared_pack ? job->pack : job->pack + thread_index * p->thread_floats;
    for (int64_t t = begin; t < end; t++) {
        int64_t n, grp, od, oh0, oh1, mc;
        start_band_task(job, t, thread_index, pack, &n, &grp, &od, &oh0, &oh1, &mc);
        int64_t b_lo = mc * p->m_chunk, b_hi = min64(b_lo + p->m_chunk, xc->blocks);
        for (int64_t b = b_lo; b < b_hi; b++) {
            int64_t slot = grp * xc->blocks + b;
            float *y =
                job->a->y + (n * g->m + grp * xc->mpg + b * mr) * out_plane + od * g->out[1] * ow;
            for (int64_t oh = oh0; oh < oh1; oh++) {
                const float *row = pack + (oh - oh0) * g->stride[1] * p->row_pitch;
                for (int64_t ct = 0; ct < tiles; ct++) {
                    int64_t c0 = ct * row_vecs / tiles * k->vw;
                    int64_t c1 = min64((ct + 1) * row_vecs / tiles * k->vw, ow);
                    rows(steps, job->offsets, row + c0, xc->w + slot * steps * mr,
                         xc->bias + slot * mr, y + oh * ow + c0, out_plane, xc->mpg - b * mr,
                         c1 - c0, job->store);
                }
            }
        }
    }
}
