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
 * shapes. Results are computed per output row, the same whichever thread
 * takes it.
 */
static inline int pairs_ok(const cp_geom *g)
{
    return g->in[0] == 1 && g->kernel[0] == 1 && g->pad_begin[0] == 0 && g->pad_end[0] == 0 &&
           g->kernel[1] == 2 && g->kernel[2] == 2 && g->stride[1] == 2 && g->stride[2] == 2 &&
           g->dilation[1] == 1 && g->dilation[2] == 1 && g->pad_begin[1] == 0 &&
           g->pad_begin[2] == 0 && 2 * g->out[1] <= g->in[1] && 2 * g->out[2] <= g->in[2];
}

/* Output rows [row_begin, row_end) of all planes (row = plane * OH + oh). */
CP_INLINE void pairs(const cp_geom *g, const float *x, float *y, int64_t row_begin, int64_t row_end,
                     int is_max)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t whole = OW / LANES;
    const int32_t rest = (int32_t)(OW % LANES);
    /* the last, partial vector: its 2 * rest input columns */
    const vm m0 = vm_range(vi_iota(), 0, 2 * rest), m1 = vm_range(vi_iota(), 0, 2 * rest - LANES);
    const vf quarter = vf_set1(0.25f);
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t p = r / OH, oh = r - p * OH;
        const float *r0 = x + (p * H + 2 * oh) * W, *r1 = r0 + W;
        float *yo = y + r * OW;
        for (int64_t c = 0; c <= whole; c++) {
            const int64_t ow0 = c * LANES;
            if (c == whole && rest == 0)
                break;
            const float *q0 = r0 + 2 * ow0, *q1 = r1 + 2 * ow0;
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
            vf out;
            int nan_seen = 0;
            if (is_max) {
                vf v0 = vf_max(a0, b0), v1 = vf_max(a1, b1);
                out = vf_max(vf_even(v0, v1), vf_odd(v0, v1));
                nan_seen = vm_bits(vm_isnan(vf_add(vf_add(a0, a1), vf_add(b0, b1)))) != 0;
            } else {
                vf s0 = vf_add(a0, b0), s1 = vf_add(a1, b1);
                out = vf_mul(vf_add(vf_even(s0, s1), vf_odd(s0, s1)), quarter);
            }
            const int n = c < whole ? LANES : rest;
            if (nan_seen) { /* rare: these lanes by the reference rule */
                float tmp[LANES];
                pool_row row = {p, 0, oh, 0, 1, 0, 0, 0};
                row_taps(g, &row);
                vf_storeu(tmp, out);
                for (int l = 0; l < n; l++)
                    tmp[l] = max_one(g, &row, x + p * H * W, ow0 + l);
                out = vf_loadu(tmp);
            }
            if (n == LANES)
                vf_storeu(yo + ow0, out);
            else
                vf_store_first(yo + ow0, out, n);
        }
    }
}

/* Tasks for pairs: output rows of all planes; 0 if the geometry does not
 * suit them. */
static int64_t POOL_FN(pair_rows)(const cp_geom *g)
{
    return pairs_ok(g) ? g->n * g->c * g->out[1] : 0;
}

static void POOL_FN(max_pairs)(const cp_geom *g, const float *x, float *y, int64_t row_begin,
                               int64_t row_end)
{
    pairs(g, x, y, row_begin, row_end, 1);
}

static void POOL_FN(avg_pairs)(const cp_geom *g, const float *x, float *y, int64_t row_begin,
                               int64_t row_end)
{
    pairs(g, x, y, row_begin, row_end, 0);
}
