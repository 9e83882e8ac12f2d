/*
 * grad_kernels.h - the x86 micro-kernels of the weight gradient and of
 * AveragePool's dx, one table per ISA (grad_kernels.inc built with AVX2+FMA
 * and with AVX-512 flags). kernels/x86/conv_x86_wgrad.c and
 * kernels/x86/impl_backward_x86.c pack the operands, walk the tiles and
 * call them; they only multiply, divide and add.
 */
#ifndef CP_KERNELS_X86_GRAD_KERNELS_H
#define CP_KERNELS_X86_GRAD_KERNELS_H

#include <stdint.h>

#include "kernels/x86/conv_kernels.h"

/*
 * AveragePool's dx. pool_quotients: q[r * q_pitch + i * stride] = dy[r * n
 * + i] / divisor[r * n + i] for rows r < rows, i < n (each divisor an
 * exact float integer below 2^24), and 0 at the positions in between; the
 * rest of each row is left alone. A float quotient of a float by an exact
 * integer rounds as the reference's double quotient rounded to
 * float. pool_gather: for dx rows t < dx_rows (at dx + t * dx_pitch) and
 * i < n, dx[i] = 0 plus src[t * src_step + r][i + j * step] for r < rows,
 * j < taps, added one at a time in that order (r, then j): the order fixes
 * each element's rounding. src_step is rows (a list of its own per dx row)
 * or 1 (dx row t sums src[t .. t + rows): neighbouring dx rows share their
 * src rows, which the kernel then loads once). The src rows may be read up to
 * CP_GRAD_GATHER_OVERREAD floats past position n (their values unused).
 */
typedef void (*cp_grad_pool_quotients_fn)(const float *dy, const float *divisor, int64_t rows,
                                          int64_t n, int64_t stride, float *q, int64_t q_pitch);
#define CP_GRAD_GATHER_OVERREAD (3 * 16)
typedef void (*cp_grad_pool_gather_fn)(float *dx, int64_t dx_pitch, int64_t dx_rows,
                                       const float *const *src, int64_t src_step, int64_t rows,
                                       int64_t n, int64_t taps, int64_t step);

/*
 * The weight gradient as a GEMM whose reduction runs over pixels: for rows
 * i < m_valid and columns j < n,
 *     s[i][j] = sum over p < steps, ascending, of a[p*gemm_mr + i] * b[p*b_pitch + lead + j]
 * (one fused multiply-add chain from +0 per element), then c[i*ldc + j] =
 * s[i][j], or c[i*ldc + j] += s[i][j] when `accumulate`. a holds gemm_mr
 * values per step (rows of the tile), b a packed row of at least
 * ceil((lead + n) / vw) whole vectors per step (the lanes before `lead`
 * and past lead + n are read, never stored). The tile's vectors start
 * `lead` columns before c (0 <= lead < vw, lead + n <= gemm_nv * vw), so a
 * caller whose rows of c start off a vector boundary chooses the lead that
 * puts its vectors on c's lines: the partial first and last vectors are
 * stored masked, nothing outside the columns is written. Each element's
 * sum depends on its column of b and row of a alone, not on the tile or
 * lane it falls in.
 */
typedef void (*cp_grad_gemm_fn)(int64_t steps, const float *a, const float *b, int64_t b_pitch,
                                float *c, int64_t ldc, int64_t m_valid, int64_t n, int64_t lead,
                                int accumulate);

/* The most rows of a gemm tile of any table. */
#define CP_GRAD_GEMM_MR_MAX 4

/* The largest lane tile dimensions (rows, columns) of any table. */
#define CP_GRAD_LANE_MR_MAX 4
#define CP_GRAD_LANE_NB_MAX 12

/*
 * The weight gradient with vectors along the reduction, for a tile of R
 * rows and NB columns (the table's lane[R - 1][NB - 1]): for i < R, j < NB,
 *     dw[i*ldc + j] = sum over n < batch, q < vecs * vw of
 *                     a[n*a_batch + i*a_row + q] * b[n*b_batch + loff[j] + q]
 * where lane l (q % vw == l) sums its terms in (n, q) order in one fused
 * multiply-add chain and the lanes are then added in a fixed order. Rows
 * of a are read whole vectors at a time, lines of b from any offset.
 * A reduction may be split over calls: the chains start from +0, or from
 * the R*NB vectors at `part` with CP_GRAD_LANE_RESUME; with
 * CP_GRAD_LANE_PAUSE they are stored back to `part` and dw is not written.
 * Split or not, every lane sums the same terms in the same order.
 */
#define CP_GRAD_LANE_RESUME 1
#define CP_GRAD_LANE_PAUSE  2
typedef void (*cp_grad_lane_fn)(int64_t batch, int64_t vecs, const float *a, int64_t a_row,
                                int64_t a_batch, const float *b, const int64_t *loff,
                                int64_t b_batch, float *part, int flags, float *dw, int64_t ldc);

/* The most floats per vector of any table. */
#define CP_GRAD_VW_MAX 16

/* The largest outer tile dimensions (row vectors, columns) of any table. */
#define CP_GRAD_OUTER_MV_MAX 4
#define CP_GRAD_OUTER_NC_MAX 12

/*
 * The weight gradient with vectors along a's rows, for a tile of MV
 * vectors of rows and NC columns (the table's outer[MV - 1][NC - 1]):
 * for i < MV * vw, j < NC,
 *     s[j][i] = sum over r < rows, then u < width, of
 *               a[(r*width + u)*a_pitch + i] * b[r*b_row + coff[j] + u*stride]
 * in one fused multiply-add chain per element, started from +0, or from
 * out[j*out_pitch + i] with `resume`; then out[j*out_pitch + i] = s[j][i].
 * a holds a's rows transposed (a_pitch floats per pixel, the tile's rows
 * first), b is read one float at a time (broadcast) from any offset: a
 * reduction split over calls sums the same terms in the same order.
 */
typedef void (*cp_grad_outer_fn)(int64_t rows, int64_t width, const float *a, int64_t a_pitch,
                                 const float *b, int64_t b_row, int64_t stride, const int64_t *coff,
                                 float *out, int64_t out_pitch, int resume);

/* dst[c*dst_pitch + r] = src[r*src_pitch + c] for r < rows, c < cols. */
typedef void (*cp_grad_transpose_fn)(const float *src, int64_t src_pitch, int64_t rows,
                                     int64_t cols, float *dst, int64_t dst_pitch);

/*
 * The weight gradient of a depthwise correlation on planes (2-D, or 1-D
 * with h = 1), one row of dw: for ki < kh, kj < kw,
 *     dw[ki*kw + kj] = sum over n < batch, oh < a_h, ow < a_w of
 *                      a[n*a_batch + oh*a_w + ow] * b[n*b_batch + ih*b_w + iw]
 * with ih = oh*stride_h + ki*dil_h - pad_h, iw = ow*stride_w + kj*dil_w -
 * pad_w; terms whose (ih, iw) lies outside b's plane are left out (rows)
 * or add a * 0 (columns). stride_w is 1 or 2, kw at most
 * CP_GRAD_DW_KW_MAX. Vectors run along ow: lane l of tap (ki, kj)'s
 * accumulator sums the terms of ow % vw == l in (n, oh, ow) order, then
 * the lanes are added in a fixed order. With db not NULL, *db = the sum of
 * the row's a in the same way (Conv's bias gradient, a being dy).
 */
#define CP_GRAD_DW_KW_MAX 8
typedef struct cp_grad_dw_geom {
    int64_t batch, a_batch, b_batch;
    int32_t a_h, a_w, b_h, b_w;
    int32_t kh, kw, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
} cp_grad_dw_geom;
typedef void (*cp_grad_dw_fn)(const cp_grad_dw_geom *d, const float *a, const float *b, float *dw,
                              float *db);

/*
 * db of one channel: the sum over n < batch and i < len of
 * x[n*batch_stride + i]. Element i is added to partial sum i % (4 * vw) in
 * (n, i) order; the partial sums are then added in a fixed order.
 */
typedef float (*cp_grad_sum_fn)(const float *x, int64_t len, int64_t batch, int64_t batch_stride);

/*
 * A Conv's db on the outer path, from a's rows transposed (a being dy): for
 * i < vectors * vw, acc[i] += the sum over u < pixels of a[u*pitch + i],
 * that sum one chain of adds from +0 in u order. Summing a block of pixels
 * while the transposition has it in L1 saves db's own pass over dy.
 */
typedef void (*cp_grad_column_sums_fn)(const float *a, int64_t pixels, int64_t pitch,
                                       int64_t vectors, float *acc);

/* Whether the n floats at x are all finite (no infinity, no NaN). */
typedef int (*cp_grad_all_finite_fn)(const float *x, int64_t n);

/* MaxPool's Indices check: the first i < n with ip[i] outside [lo, hi) and
 * not -1, or -1 if there is none. */
typedef int64_t (*cp_grad_first_bad_index_fn)(const int64_t *ip, int64_t n, int64_t lo, int64_t hi);

/* dst[c] = src[offsets[c]] for c < cols: a pixel's columns of b, gathered
 * into the GEMM path's panel (offsets from the pixel's window origin). */
typedef void (*cp_grad_gather_columns_fn)(const float *src, const int64_t *offsets, int64_t cols,
                                          float *dst);

typedef struct cp_grad_kernels {
    int32_t vw;      /* floats per vector */
    int32_t gemm_mr; /* rows per gemm tile */
    int32_t gemm_nv; /* column vectors per gemm tile */
    cp_grad_gemm_fn gemm;
    cp_grad_gather_columns_fn gather_columns;
    /* lane tiles: up to lane_mr rows and lane_acc accumulators (rows x
     * columns), columns up to CP_GRAD_LANE_NB_MAX; NULL past those */
    int32_t lane_mr, lane_acc;
    cp_grad_lane_fn lane[CP_GRAD_LANE_MR_MAX][CP_GRAD_LANE_NB_MAX];
    /* outer tiles: up to outer_mv row vectors and outer_acc accumulators
     * (row vectors x columns), columns up to CP_GRAD_OUTER_NC_MAX; NULL
     * past those (outer_mv 0: none, the outer path is not taken) */
    int32_t outer_mv, outer_acc;
    cp_grad_outer_fn outer[CP_GRAD_OUTER_MV_MAX][CP_GRAD_OUTER_NC_MAX];
    cp_grad_transpose_fn transpose;
    cp_grad_dw_fn depthwise;
    cp_grad_sum_fn sum;
    cp_grad_column_sums_fn column_sums;
    cp_grad_all_finite_fn all_finite;
    cp_grad_first_bad_index_fn first_bad_index;
    /* the conv kernels of the same ISA, whose row packing splits strided
     * rows of b into phases */
    const cp_conv_kernels *conv;
    cp_grad_pool_quotients_fn pool_quotients;
    cp_grad_pool_gather_fn pool_gather;
} cp_grad_kernels;

extern const cp_grad_kernels cp_grad_kernels_avx2;
extern const cp_grad_kernels cp_grad_kernels_avx512;

#endif
