#include "kernels/ref/ref_kernels.h"

/*
 * The taps along one dim that reach output position o: input i and kernel
 * tap k with i*stride + k*dil == o + pad_begin, 0 <= i < in, 0 <= k < kernel.
 * Writes the first tap and the last (inclusive) that can satisfy the range
 * conditions; the caller still tests divisibility by the stride.
 */
static void taps_for(int64_t o, int64_t in, int64_t stride, int64_t dil, int64_t pad,
                     int64_t kernel, int64_t *k_first, int64_t *k_last)
{
    const int64_t t = o + pad; /* position on the uncropped output */
    const int64_t top = (in - 1) * stride;
    /* k*dil <= t, and t - k*dil <= top */
    int64_t lo = 0, hi = kernel - 1;
    if (t < 0) {
        *k_first = 0;
        *k_last = -1;
        return;
    }
    if (t / dil < hi)
        hi = t / dil;
    if (t > top) {
        int64_t need = t - top; /* k*dil >= need */
        lo = (need + dil - 1) / dil;
    }
    *k_first = lo;
    *k_last = hi;
}

void cp_ref_conv_transpose(const cp_geom *g, const float *x, const float *w, const float *bias,
                           float *y, int64_t plane_begin, int64_t plane_end)
{
    const int64_t m_per_group = g->m / g->group;
    const int64_t c_per_group = g->c / g->group;
    const int64_t in_plane = cp_geom_in_plane(g);
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t K0 = g->kernel[0], K1 = g->kernel[1], K2 = g->kernel[2];
    const int64_t kernel_size = K0 * K1 * K2;
    const int64_t H = g->in[1], W = g->in[2];

    for (int64_t p = plane_begin; p < plane_end; p++) {
        const int64_t n = p / g->m, m = p % g->m;
        const int64_t grp = m / m_per_group, mg = m % m_per_group;
        const float *xg = x + (n * g->c + grp * c_per_group) * in_plane;
        /* W is (C, M/group, K...): input channel c of this group, output mg */
        const float *wm = w + (grp * c_per_group * m_per_group + mg) * kernel_size;
        float *yp = y + p * out_plane;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d_lo, d_hi;
            taps_for(od, g->in[0], g->stride[0], g->dilation[0], g->pad_begin[0], K0, &d_lo, &d_hi);
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h_lo, h_hi;
                taps_for(oh, H, g->stride[1], g->dilation[1], g->pad_begin[1], K1, &h_lo, &h_hi);
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    int64_t w_lo, w_hi;
                    taps_for(ow, W, g->stride[2], g->dilation[2], g->pad_begin[2], K2, &w_lo,
                             &w_hi);
                    double acc = 0.0;
                    for (int64_t kd = d_lo; kd <= d_hi; kd++) {
                        const int64_t td = od + g->pad_begin[0] - kd * g->dilation[0];
                        if (td % g->stride[0] != 0)
                            continue;
                        const int64_t id = td / g->stride[0];
                        for (int64_t kh = h_lo; kh <= h_hi; kh++) {
                            const int64_t th = oh + g->pad_begin[1] - kh * g->dilation[1];
                            if (th % g->stride[1] != 0)
                                continue;
                            const int64_t ih = th / g->stride[1];
                            for (int64_t kw = w_lo; kw <= w_hi; kw++) {
                                const int64_t tw = ow + g->pad_begin[2] - kw * g->dilation[2];
                                if (tw % g->stride[2] != 0)
                                    continue;
                                const int64_t at = (id * H + ih) * W + tw / g->stride[2];
                                const int64_t tap = (kd * K1 + kh) * K2 + kw;
                                for (int64_t ci = 0; ci < c_per_group; ci++)
                                    acc += (double)xg[ci * in_plane + at] *
                                           wm[ci * m_per_group * kernel_size + tap];
                            }
                        }
                    }
                    yp[(od * g->out[1] + oh) * g->out[2] + ow] = (float)(acc + bias[m]);
                }
            }
        }
    }
}
