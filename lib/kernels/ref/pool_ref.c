#include <math.h>

#include "kernels/ref/ref_kernels.h"

/* The flattened position of spatial (d, h, w) within its plane, as Indices
 * report it: row-major, or column-major when storage_order is 1. */
static int64_t spatial_index(const cp_geom *g, int64_t d, int64_t h, int64_t w)
{
    if (g->storage_order)
        return (w * g->in[1] + h) * g->in[0] + d;
    return (d * g->in[1] + h) * g->in[2] + w;
}

void cp_ref_max_pool(const cp_geom *g, const float *x, float *y, int64_t *indices,
                     int64_t plane_begin, int64_t plane_end)
{
    const int64_t in_plane = cp_geom_in_plane(g);
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t H = g->in[1], W = g->in[2];
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *xp = x + p * in_plane;
        int64_t o = p * out_plane;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d_lo, d_hi;
            cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0,
                         g->in[0], &d_lo, &d_hi);
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h_lo, h_hi;
                cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1], 0, H,
                             &h_lo, &h_hi);
                for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
                    int64_t w_lo, w_hi;
                    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], g->kernel[2], 0,
                                 W, &w_lo, &w_hi);
                    float best = -INFINITY;
                    int64_t bd = -1, bh = -1, bw = -1;
                    for (int64_t kd = d_lo; kd < d_hi; kd++) {
                        const int64_t id =
                            od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
                        for (int64_t kh = h_lo; kh < h_hi; kh++) {
                            const int64_t ih =
                                oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
                            for (int64_t kw = w_lo; kw < w_hi; kw++) {
                                const int64_t iw =
                                    ow * g->stride[2] - g->pad_begin[2] + kw * g->dilation[2];
                                const float v = xp[(id * H + ih) * W + iw];
                                if (bd < 0 || v > best || (isnan(v) && !isnan(best))) {
                                    best = v;
                                    bd = id;
                                    bh = ih;
                                    bw = iw;
                                }
                            }
                        }
                    }
                    y[o] = best;
                    if (indices)
                        indices[o] = bd < 0 ? -1 : p * in_plane + spatial_index(g, bd, bh, bw);
                }
            }
        }
    }
}

/* AveragePool (lp == 0) and LpPool (lp = p >= 1) walk the same windows and
 * sum over their input elements; only the summand and the finish differ. */
static void sum_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                     int64_t plane_end, int64_t lp)
{
    const int64_t in_plane = cp_geom_in_plane(g);
    const int64_t out_plane = cp_geom_out_plane(g);
    const int64_t H = g->in[1], W = g->in[2];
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *xp = x + p * in_plane;
        int64_t o = p * out_plane;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d_lo, d_hi, pd_lo, pd_hi;
            cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0], 0,
                         g->in[0], &d_lo, &d_hi);
            cp_tap_range(od, g->stride[0], g->pad_begin[0], g->dilation[0], g->kernel[0],
                         -g->pad_begin[0], g->in[0] + g->pad_end[0], &pd_lo, &pd_hi);
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h_lo, h_hi, ph_lo, ph_hi;
                cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1], 0, H,
                             &h_lo, &h_hi);
                cp_tap_range(oh, g->stride[1], g->pad_begin[1], g->dilation[1], g->kernel[1],
                             -g->pad_begin[1], H + g->pad_end[1], &ph_lo, &ph_hi);
                for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
                    int64_t w_lo, w_hi, pw_lo, pw_hi;
                    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], g->kernel[2], 0,
                                 W, &w_lo, &w_hi);
                    cp_tap_range(ow, g->stride[2], g->pad_begin[2], g->dilation[2], g->kernel[2],
                                 -g->pad_begin[2], W + g->pad_end[2], &pw_lo, &pw_hi);
                    double sum = 0.0;
                    for (int64_t kd = d_lo; kd < d_hi; kd++) {
                        const int64_t id =
                            od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
                        for (int64_t kh = h_lo; kh < h_hi; kh++) {
                            const int64_t ih =
                                oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
                            const int64_t row =
                                (id * H + ih) * W + ow * g->stride[2] - g->pad_begin[2];
                            for (int64_t kw = w_lo; kw < w_hi; kw++) {
                                const float v = xp[row + kw * g->dilation[2]];
                                sum += lp ? cp_lp_term(v, lp) : v;
                            }
                        }
                    }
                    if (lp) { /* padding adds |0|^p = 0 */
                        y[o] = (float)cp_lp_root(sum, lp);
                        continue;
                    }
                    int64_t count = g->count_include_pad
                                        ? (pd_hi - pd_lo) * (ph_hi - ph_lo) * (pw_hi - pw_lo)
                                        : (d_hi - d_lo) * (h_hi - h_lo) * (w_hi - w_lo);
                    y[o] = (float)(sum / (double)count);
                }
            }
        }
    }
}

void cp_ref_avg_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                     int64_t plane_end)
{
    sum_pool(g, x, y, plane_begin, plane_end, 0);
}

void cp_ref_lp_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                    int64_t plane_end)
{
    sum_pool(g, x, y, plane_begin, plane_end, g->p);
}
