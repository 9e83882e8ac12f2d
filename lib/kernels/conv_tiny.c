#include "kernels/conv_tiny.h"

/* The taps [lo, hi) of output position o along dim d that read the input. */
static void taps(const cp_geom *g, int d, int64_t o, int64_t *lo, int64_t *hi)
{
    cp_tap_range(o, g->stride[d], g->pad_begin[d], g->dilation[d], g->kernel[d], 0, g->in[d], lo,
                 hi);
}

/* The outputs [*lo, *hi) of a row of `out` whose tap at input offset
 * ow * stride + off lies in [0, in). */
static void outputs_reading(int64_t off, int64_t stride, int64_t in, int64_t out, int64_t *lo,
                            int64_t *hi)
{
    if (stride == 1) { /* the usual case, without divisions */
        *lo = off >= 0 ? 0 : -off;
        *hi = in - off <= 0 ? 0 : in - off;
    } else {
        *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        *hi = in - off <= 0 ? 0 : (in - off + stride - 1) / stride;
    }
    if (*hi > out)
        *hi = out;
}

/*
 * Row by row: each output row's sums are built in `acc` tap by tap, every
 * tap over the outputs whose input it reads (no test per element), so an
 * element still takes its terms in the reference's order (channel, then
 * taps in D, H, W order). Summing output by output in a register instead
 * was slower here: the loop nest per element costs more than its few
 * multiply-adds.
 */
void cp_conv_tiny(const cp_geom *g, const float *w, const float *bias, const float *x, float *y)
{
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t sw = g->stride[2], dw = g->dilation[2], pw = g->pad_begin[2];
    const int64_t cpg = g->c / g->group, mpg = g->m / g->group;
    float acc[CP_CONV_TINY_MAX_OW];
    /* each W tap's outputs, the same on every row */
    int64_t kw_lo[CP_CONV_TINY_MAX_KW], kw_hi[CP_CONV_TINY_MAX_KW];
    for (int64_t kw = 0; kw < KW; kw++)
        outputs_reading(kw * dw - pw, sw, W, OW, &kw_lo[kw], &kw_hi[kw]);
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = 0; m < g->m; m++) {
            const float *xg = x + (n * g->c + m / mpg * cpg) * D * H * W;
            const float *wm = w + m * cpg * KD * KH * KW;
            for (int64_t od = 0; od < g->out[0]; od++) {
                int64_t d_lo, d_hi;
                taps(g, 0, od, &d_lo, &d_hi);
                const int64_t d0 = od * g->stride[0] - g->pad_begin[0];
                for (int64_t oh = 0; oh < g->out[1]; oh++, y += OW) {
                    int64_t h_lo, h_hi;
                    taps(g, 1, oh, &h_lo, &h_hi);
                    const int64_t h0 = oh * g->stride[1] - g->pad_begin[1];
                    for (int64_t ow = 0; ow < OW; ow++)
                        acc[ow] = 0.0f;
                    for (int64_t c = 0; c < cpg; c++)
                        for (int64_t kd = d_lo; kd < d_hi; kd++)
                            for (int64_t kh = h_lo; kh < h_hi; kh++) {
                                const float *xr = xg + ((c * D + d0 + kd * g->dilation[0]) * H +
                                                        h0 + kh * g->dilation[1]) *
                                                           W;
                                const float *wr = wm + ((c * KD + kd) * KH + kh) * KW;
                                for (int64_t kw = 0; kw < KW; kw++) {
                                    const int64_t off = kw * dw - pw; /* may be < 0 */
                                    const float wv = wr[kw];
                                    for (int64_t ow = kw_lo[kw]; ow < kw_hi[kw]; ow++)
                                        acc[ow] += xr[ow * sw + off] * wv;
                                }
                            }
                    for (int64_t ow = 0; ow < OW; ow++)
                        y[ow] = acc[ow] + bias[m];
                }
            }
        }
}
