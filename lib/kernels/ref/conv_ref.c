#include "kernels/ref/ref_kernels.h"

void cp_ref_conv(const cp_geom *g, const float *x, const float *w, const float *bias, float *y,
                 int64_t plane_begin, int64_t plane_end)
{
    const int64_t m_per_group = g->m / g->group;
    const int64_t c_per_group = g->c / g->group;
    const int64_t in_plane = cp_geom_in_plane(g);
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t K1 = g->kernel[1], K2 = g->kernel[2];
    const int64_t kernel_size = g->kernel[0] * K1 * K2;
    const int64_t H = g->in[1], W = g->in[2];

    for (int64_t p = plane_begin; p < plane_end; p++) {
        const int64_t n = p / g->m, m = p % g->m;
        const float *xg = x + (n * g->c + (m / m_per_group) * c_per_group) * in_plane;
        const float *wm = w + m * c_per_group * kernel_size;
        float *yp = y + p * out_plane;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d_lo, d_hi;
            cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0,
                         g->in[0], &d_lo, &d_hi);
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h_lo, h_hi;
                cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], K1, 0, H, &h_lo,
                             &h_hi);
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    int64_t w_lo, w_hi;
                    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], K2, 0, W, &w_lo,
                                 &w_hi);
                    const int64_t id0 = od * g->stride[0] - g->pad_begin[0];
                    const int64_t ih0 = oh * g->stride[1] - g->pad_begin[1];
                    const int64_t iw0 = ow * g->stride[2] - g->pad_begin[2];
                    double acc = 0.0;
                    for (int64_t ci = 0; ci < c_per_group; ci++) {
                        const float *xc = xg + ci * in_plane;
                        const float *wc = wm + ci * kernel_size;
                        for (int64_t kd = d_lo; kd < d_hi; kd++) {
                            const int64_t id = id0 + kd * g->dilation[0];
                            for (int64_t kh = h_lo; kh < h_hi; kh++) {
                                const int64_t ih = ih0 + kh * g->dilation[1];
                                const int64_t row = (id * H + ih) * W + iw0;
                                const float *wrow = wc + (kd * K1 + kh) * K2;
                                for (int64_t kw = w_lo; kw < w_hi; kw++)
                                    acc += (double)xc[row + kw * g->dilation[2]] * wrow[kw];
                            }
                        }
                    }
                    yp[(od * g->out[1] + oh) * g->out[2] + ow] = (float)(acc + bias[m]);
                }
            }
        }
    }
}
