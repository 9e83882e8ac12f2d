/*
 * ref_kernels.h - the portable reference kernels: the oracle every fast
 * path is tested against. Plain C, no allocation, double accumulation.
 *
 * Each kernel computes the output planes [plane_begin, plane_end) of a run
 * with geometry g, where plane p is (n, channel) = (p / channels, p % channels)
 * over the output channels, so that callers can split work across threads.
 */
#ifndef CP_KERNELS_REF_H
#define CP_KERNELS_REF_H

#include <stdint.h>

#include "kernels/geom.h"

/* y = conv(x, w) + bias. w is (M, C/group, K0, K1, K2) row-major, bias has M
 * values (never NULL: zeros when the op has none). */
void cp_ref_conv(const cp_geom *g, const float *x, const float *w, const float *bias, float *y,
                 int64_t plane_begin, int64_t plane_end);

/* Max over each window's input elements (padding never wins). NaN wins over
 * numbers; on ties the first element in row-major window order wins.
 * indices may be NULL; else each receives the flattened input position of
 * its max (row-major over N, C, D, H, W; spatial part column-major if
 * g->storage_order is 1). A window with no input element (possible only
 * through dilation gaps) yields -inf and index -1. */
void cp_ref_max_pool(const cp_geom *g, const float *x, float *y, int64_t *indices,
                     int64_t plane_begin, int64_t plane_end);

/* Mean over each window: the sum of its input elements divided by their
 * count, or with g->count_include_pad by the count of its taps inside the
 * padded input [-pad_begin, in + pad_end) (taps that ceil_mode pushes past
 * the end padding never count). */
void cp_ref_avg_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                     int64_t plane_end);

/* y = ConvTranspose(x, w) + bias: each output element is the sum over input
 * elements i and kernel taps k with i*stride + k*dilation == o + pad_begin
 * (per dim) of x * w. w is (C, M/group, K0, K1, K2) row-major, bias has M
 * values (never NULL). Planes are output planes (n, m). */
void cp_ref_conv_transpose(const cp_geom *g, const float *x, const float *w, const float *bias,
                           float *y, int64_t plane_begin, int64_t plane_end);

/* LpPool: (sum over each window's input elements of |x|^p)^(1/p), p =
 * g->p >= 1; padding adds nothing. Global LpPool is the window of the whole
 * plane. */
void cp_ref_lp_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                    int64_t plane_end);

/* ---- Gradients. Pool kernels write the dx planes [plane_begin,
 * plane_end) (input planes (n, c)), overwriting them; dy has the forward
 * output's shape. ---- */

/* MaxPool and GlobalMaxPool: each dy element goes to its window's maximum,
 * read from `indices` (the forward Indices, each already checked to lie in
 * its plane or be -1) or, when indices is NULL, found in x by the forward
 * rule of cp_ref_max_pool. */
void cp_ref_max_pool_backward(const cp_geom *g, const float *x, const int64_t *indices,
                              const float *dy, float *dx, int64_t plane_begin, int64_t plane_end);

/* AveragePool and GlobalAveragePool: dy / (the forward divisor) to each of
 * the window's input elements. */
void cp_ref_avg_pool_backward(const cp_geom *g, const float *dy, float *dx, int64_t plane_begin,
                              int64_t plane_end);

/* LpPool and GlobalLpPool: dy * sign(x) |x|^(p-1) / y^(p-1) to each of the
 * window's input elements, y the forward value; nothing where y is 0. */
void cp_ref_lp_pool_backward(const cp_geom *g, const float *x, const float *dy, float *dx,
                             int64_t plane_begin, int64_t plane_end);

/* The row-major in-plane position of an Indices value's spatial part
 * (index - plane * in_plane), stored in g->storage_order. */
int64_t cp_ref_index_to_row_major(const cp_geom *g, int64_t spatial);

/*
 * The weight gradient of a Conv (transposed = 0) or ConvTranspose
 * (transposed = 1) of forward geometry g, input x and output gradient dy:
 * rows [row_begin, row_end) of dw, a row being the taps of one (M, C/group)
 * pair of Conv's W, or one (C, M/group) pair of ConvTranspose's. Each
 * element is a double sum over the batch, then the positions in row-major
 * order: the result does not depend on how rows are split.
 */
void cp_ref_conv_weight_grad(const cp_geom *g, int transposed, const float *x, const float *dy,
                             float *dw, int64_t row_begin, int64_t row_end);

/* db[m] = the sum of dy over the batch and the positions of channel m, for
 * m in [m_begin, m_end); double sums in a fixed order. */
void cp_ref_bias_grad(const cp_geom *g, const float *dy, float *db, int64_t m_begin, int64_t m_end);

#endif
