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
 * taps in window order). Results are computed per output row, the same
 * whichever thread takes it.
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

/* Output rows [row_begin, row_end) of all planes (row = plane * OH + oh). */
CP_INLINE void pairs(const cp_geom *g, const float *x, float *y, int64_t *indices,
                     int64_t row_begin, int64_t row_end, int red)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int32_t lp = (int32_t)g->p;
    const int64_t whole = OW / LANES;
    const int32_t rest = (int32_t)(OW % LANES);
    /* the last, partial vector: its 2 * rest input columns */
    const vm m0 = vm_range(vi_iota(), 0, 2 * rest), m1 = vm_range(vi_iota(), 0, 2 * rest - LANES);
    const vf quarter = vf_set1(0.25f);
    /* Indices: position steps per input row and column (no depth: the
     * column-major position is w * H + h), the window's taps relative to
     * its first, and each lane's first tap relative to the chunk's */
    const int32_t hmul = g->storage_order ? 1 : (int32_t)W;
    const int32_t wmul = g->storage_order ? (int32_t)H : 1;
    const vi tap01 = vi_set1(wmul), tap10 = vi_set1(hmul), tap11 = vi_set1(hmul + wmul);
    const vi lane_pos = vi_mul(vi_iota(), vi_set1(2 * wmul));
    /* (plane, output row) of r, counted on rather than divided per row */
    int64_t p = row_begin / OH, oh = row_begin - p * OH;
    for (int64_t r = row_begin; r < row_end; r++, oh = oh + 1 < OH ? oh + 1 : (p++, 0)) {
        const float *r0 = x + (p * H + 2 * oh) * W, *r1 = r0 + W;
        float *yo = y + r * OW;
        int64_t *io = indices ? indices + r * OW : NULL;
        const pool_row row = row_at(p, 0, oh);
        for (int64_t c = 0; c <= whole; c++) {
            const int64_t ow0 = c * LANES;
            if (c == whole && rest == 0)
                break;
            const float *q0 = r0 + 2 * ow0, *q1 = r1 + 2 * ow0;
            /* the lines of this vector PAIRS_PREFETCH_ROWS input rows on
             * (past the plane: the next plane's; past the buffer: an
             * address a prefetch does not fault on, formed as an integer) */
            const uintptr_t ahead = (uintptr_t)q0 + (uintptr_t)(PAIRS_PREFETCH_ROWS * W * 4);
            __builtin_prefetch((const void *)ahead);
            __builtin_prefetch((const void *)(ahead + LANES * 4));
            __builtin_prefetch((const void *)(ahead + (uintptr_t)(W * 4)));
            __builtin_prefetch((const void *)(ahead + (uintptr_t)(W * 4) + LANES * 4));
            vf a0, a1, b0, b1;
            if (c < whole) {
                a0 = vf_loadu(q0);
                a1 = vf_loadu(q0 + LANES);
                b0 = vf_loadu(q1);
                b1 = vf_loadu(q1 + LANES);
            } else { /* masked-off lanes read nothing and give outputs not stored */
                a0 = vf_loadz(m0, q0);
                a1 = vf_loadz(m1, q0 + LANES);
                b0 = vf_loadz(m0, q1);
                b1 = vf_loadz(m1, q1 + LANES);
            }
            unsigned nan_seen = 0;
            if (RED_IS_MAX(red))
                nan_seen = vm_bits(vm_isnan(vf_add(vf_add(a0, a1), vf_add(b0, b1)))) ? ~0u : 0u;
            vf out;
            vi pos = vi_set1(0);
            if (red == CP_POOL_MAX_IDX) {
                /* each row's pair first, then the rows: the first maximum
                 * in row-major order (columns first would take (1, 0)
                 * over an equal (0, 1)) */
                out = vf_even(a0, a1);
                red_acc_at(red, &out, &pos, vf_odd(a0, a1), tap01);
                red_acc_at(red, &out, &pos, vf_even(b0, b1), tap10);
                red_acc_at(red, &out, &pos, vf_odd(b0, b1), tap11);
                pos =
                    vi_add(pos, vi_add(lane_pos, vi_set1((int32_t)(2 * (oh * hmul + ow0 * wmul)))));
            } else {
                a0 = red_term(red, a0, lp);
                a1 = red_term(red, a1, lp);
                b0 = red_term(red, b0, lp);
                b1 = red_term(red, b1, lp);
                const vf v0 = red_acc(red, a0, b0), v1 = red_acc(red, a1, b1);
                out = red_acc(red, vf_even(v0, v1), vf_odd(v0, v1));
                if (red == CP_POOL_AVG)
                    out = vf_mul(out, quarter);
            }
            const pool_lanes at = {&row,     x + p * H * W, ow0, 1, 0, c < whole ? LANES : rest,
                                   p * H * W};
            put_chunk(g, &at, out, pos, nan_seen, red, yo + ow0, io ? io + ow0 : NULL);
        }
    }
}

/* Tasks for pairs: output rows of all planes; 0 if the geometry does not
 * suit them. */
static int64_t POOL_FN(pair_rows)(const cp_geom *g)
{
    return pairs_ok(g) ? g->n * g->c * g->out[1] : 0;
}

POOL_WALK_KERNELS(pairs, pairs)
