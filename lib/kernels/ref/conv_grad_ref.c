#include "kernels/ref/ref_kernels.h"

/*
 * Conv and ConvTranspose share one weight-gradient kernel: both are a
 * correlation of a tensor "a" (read at every position u) with a tensor "b"
 * (read at u*stride - pad_begin + k*dilation). For Conv, a is dy (on the
 * output grid) and b is x; for ConvTranspose, a is x (on the input grid) and
 * b is dy, since its output o = i*stride + k*dilation - pad_begin.
 */

void cp_ref_conv_weight_grad(const cp_geom *g, int transposed, const float *x, const float *dy,
                             float *dw, int64_t row_begin, int64_t row_end)
{
    const float *a = transposed ? x : dy, *b = transposed ? dy : x;
    const int64_t a_ch = transposed ? g->c : g->m, b_ch = transposed ? g->m : g->c;
    const int64_t a_pg = a_ch / g->group, b_pg = b_ch / g->group;
    const int64_t *a_dims = transposed ? g->in : g->out, *b_dims = transposed ? g->out : g->in;
    const int64_t a_plane = a_dims[0] * a_dims[1] * a_dims[2];
    const int64_t b_plane = b_dims[0] * b_dims[1] * b_dims[2];
    const int64_t K0 = g->kernel[0], K1 = g->kernel[1], K2 = g->kernel[2];
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t ac = r / b_pg, bc = (ac / a_pg) * b_pg + r % b_pg;
        float *dwr = dw + r * K0 * K1 * K2;
        for (int64_t kd = 0; kd < K0; kd++)
            for (int64_t kh = 0; kh < K1; kh++)
                for (int64_t kw = 0; kw < K2; kw++) {
                    const int64_t off[3] = {kd * g->dilation[0] - g->pad_begin[0],
                                            kh * g->dilation[1] - g->pad_begin[1],
                                            kw * g->dilation[2] - g->pad_begin[2]};
                    int64_t lo[3], hi[3];
                    for (int i = 0; i < 3; i++)
                        cp_pos_range(off[i], g->stride[i], a_dims[i], b_dims[i], &lo[i], &hi[i]);
                    double acc = 0.0;
                    for (int64_t n = 0; n < g->n; n++) {
                        const float *ap = a + (n * a_ch + ac) * a_plane;
                        const float *bp = b + (n * b_ch + bc) * b_plane;
                        for (int64_t u0 = lo[0]; u0 < hi[0]; u0++) {
                            const int64_t v0 = u0 * g->stride[0] + off[0];
                            for (int64_t u1 = lo[1]; u1 < hi[1]; u1++) {
                                const int64_t v1 = u1 * g->stride[1] + off[1];
                                const float *arow = ap + (u0 * a_dims[1] + u1) * a_dims[2];
                                const float *brow = bp + (v0 * b_dims[1] + v1) * b_dims[2] + off[2];
                                for (int64_t u2 = lo[2]; u2 < hi[2]; u2++)
                                    acc += (double)arow[u2] * brow[u2 * g->stride[2]];
                            }
                        }
                    }
                    dwr[(kd * K1 + kh) * K2 + kw] = (float)acc;
                }
    }
}

void cp_ref_bias_grad(const cp_geom *g, const float *dy, float *db, int64_t m_begin, int64_t m_end)
{
    const int64_t out_plane = cp_geom_out_plane(g);
    for (int64_t m = m_begin; m < m_end; m++) {
        double acc = 0.0;
        for (int64_t n = 0; n < g->n; n++) {
            const float *p = dy + (n * g->m + m) * out_plane;
            for (int64_t o = 0; o < out_plane; o++)
                acc += p[o];
        }
        db[m] = (float)acc;
    }
}
