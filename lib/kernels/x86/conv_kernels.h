/*
 * conv_kernels.h - the x86 convolution micro-kernels, one table per ISA.
 *
 * The kernels are pure compute on raw pointers (no allocation, no
 * threading); kernels/x86/impl_conv_x86.c and its parts (kernels/x86/conv_x86.h) pack
 * weights and input and walk the tiles. The same source (conv_kernels.inc)
 * is compiled twice, once with AVX2+FMA and once with AVX-512 flags, so
 * both paths do identical work per output element, only the vector width
 * differs.
 *
 * Every output element is one fused multiply-add chain in a fixed order
 * (bias first, then input channels, then taps in kernel order, leaving out
 * some taps that read padding, chosen by the element's position alone),
 * whatever tile it falls in: results do not depend on how the work is split.
 */
#ifndef CP_KERNELS_X86_CONV_KERNELS_H
#define CP_KERNELS_X86_CONV_KERNELS_H

#include <stdint.h>
#include "kernels/geom.h"

/* How the GEMM-shaped tiles store their whole vectors (the glue's choice,
 * store_mode in impl_conv_x86.c): plainly; as two 256-bit halves
 * (vf_storeu_halves); or plainly, each after a prefetch of the line one
 * tile further along its row, so that the next tile's stores find their
 * lines in L1. Every mode stores the same values. */
enum { CP_CONV_STORE_PLAIN, CP_CONV_STORE_HALVES, CP_CONV_STORE_AHEAD, CP_CONV_STORE_MODES };

/* GEMM on NCHW (1x1, stride 1, no pads): y[MR rows][pixels] for one tile of
 * up to GEMM_NV vectors of pixels. x is input channel 0 at the tile's first
 * pixel, channel c at x + c*x_stride. w holds, per input channel, MR
 * weights (zero past the group's last output channel); bias MR values,
 * or NULL: the sums start from y's values instead (a part of the input
 * channels after another; rows below m_valid, pixels below n).
 * Only `m_valid` rows and `n` pixels (1 .. nv_max*vw) are read and stored,
 * so tails need no padding. `store`: a CP_CONV_STORE_* mode. */
typedef void (*cp_conv_gemm_fn)(int64_t channels, const float *x, int64_t x_stride, const float *w,
                                const float *bias, float *y, int64_t y_stride, int64_t m_valid,
                                int64_t n, int store);

/* The GEMM of a whole tile (gemm_nv*vw pixels) stored with each pair of
 * rows zipped: for even i < m_valid (m_valid even), rows i and i + 1 of
 * pixel vector v go to y + rows_at[i/2] + vectors_at[v] as a0 b0 a1 b1 ...
 * (2*vw floats): the two W phases of a stride-2 ConvTranspose written
 * straight into the output row they share. */
typedef void (*cp_conv_gemm_zip_fn)(int64_t channels, const float *x, int64_t x_stride,
                                    const float *w, const float *bias, float *y,
                                    const int64_t *rows_at, const int64_t *vectors_at,
                                    int64_t m_valid);

/* The GEMM tile over packed input rows (any kernel, stride, dilation):
 * step k (input channel, tap) of pixel p reads x + offsets[k] + p and the
 * MR weights at w + k*MR. The glue splits strided rows into phases and
 * pads them to whole vectors; used where input channels are few (the
 * stem), so that the direct kernel's transposed store would not pay.
 * `store` as for the GEMM. */
typedef void (*cp_conv_rows_fn)(int64_t steps, const int64_t *offsets, const float *x,
                                const float *w, const float *bias, float *y, int64_t y_stride,
                                int64_t m_valid, int64_t n, int store);

/* Direct convolution on a zero-padded copy of the input: np output pixels
 * of one row (np = 1 .. direct_np_max) times mv vectors of output channels
 * (mv = 1 .. 3). Pixel j's window starts at x + j*stride; step k of the
 * reduction (input channel, tap) reads x + offsets[k] and the vw weights at
 * w + (w_codes[k] >> CP_CONV_EDGE_BITS) (next channel vector at w_mv_stride
 * more), so that rows overhanging the padding can leave those taps out.
 * The low bits of w_codes[k], masked by `edges`, leave the step out for the
 * tile's first pixel (CP_CONV_EDGE_FIRST) and/or its last one
 * (CP_CONV_EDGE_LAST): the glue sets them where that pixel's tap lies in
 * the left or right padding, and sets `edges` for tiles at a row's ends
 * (the row bits below are for two-row tiles; here they are ignored).
 * bias has mv*vw values. Output channel i of the tile goes to
 * y + i*y_stride + j, for i < m_valid. */
typedef void (*cp_conv_direct_fn)(int64_t stride, int64_t steps, const int64_t *offsets,
                                  const int64_t *w_codes, const float *x, const float *w,
                                  int64_t w_mv_stride, const float *bias, float *y,
                                  int64_t y_stride, int64_t m_valid, int64_t edges);
/* Two output rows at once: as cp_conv_direct_fn, with the second row's
 * pixels reading x + x_row and writing y + y_row; the tile reads each
 * weight vector once for both. `edges` may also hold CP_CONV_EDGE_TOP
 * (the first row leaves out the steps with that bit: the glue sets it for
 * taps in the padding of output row 0) and CP_CONV_EDGE_BOTTOM (the
 * second row, likewise for the last output row). */
typedef void (*cp_conv_direct2_fn)(int64_t stride, int64_t steps, const int64_t *offsets,
                                   const int64_t *w_codes, const float *x, int64_t x_row,
                                   const float *w, int64_t w_mv_stride, const float *bias, float *y,
                                   int64_t y_stride, int64_t y_row, int64_t m_valid, int64_t edges);
#define CP_CONV_EDGE_FIRST  1
#define CP_CONV_EDGE_LAST   2
#define CP_CONV_EDGE_TOP    4 /* two-row tiles: the step skips the first row */
#define CP_CONV_EDGE_BOTTOM 8 /* two-row tiles: the step skips the second row */
#define CP_CONV_EDGE_BITS   4

/* Depthwise: `rows` output rows of `n` pixels of one channel, row r read
 * from x + r*x_row_stride and written to y + r*y_row_stride. Tap t reads
 * the row at x + offsets[t] + pixel (the glue splits strided input into
 * phases so that loads are contiguous, and pads rows to whole vectors) and
 * weighs it by w[t]. */
typedef void (*cp_conv_depthwise_fn)(int64_t taps, const int64_t *offsets, const float *x,
                                     int64_t x_row_stride, const float *w, float bias, float *y,
                                     int64_t y_row_stride, int64_t rows, int64_t n);

/* Depthwise with three taps along W at dilation 1 and stride 1 or 2 (the
 * common 3x3 and 3x3-stride-2 cases): as cp_conv_depthwise_fn, with
 * `row_taps` rows of three taps; row tap t starts at x + offsets[3t]
 * (phase 0), stride 2's odd phase phase_len floats on. Packed rows and x
 * must be vector aligned. */
typedef void (*cp_conv_depthwise3_fn)(int64_t stride, int64_t row_taps, const int64_t *offsets,
                                      int64_t phase_len, const float *x, int64_t x_row_stride,
                                      const float *w, float bias, float *y, int64_t y_row_stride,
                                      int64_t rows, int64_t n);

/* Depthwise with three taps along W, stride 2, dilation 1, read straight
 * from one input channel: output row r (of `rows`, n pixels each) sums,
 * for row tap t < taps, input row x + tap_rows[t] + r*x_row_stride at
 * columns 2*ow - pad + (0, 1, 2) weighed by tap_w[3t .. 3t+2]. Columns
 * outside [0, width) count as zero padding; they are never read. */
typedef void (*cp_conv_depthwise3s2_fn)(int64_t taps, const int64_t *tap_rows, const float *tap_w,
                                        const float *x, int64_t x_row_stride, int64_t width,
                                        int64_t pad, float bias, float *y, int64_t y_row_stride,
                                        int64_t rows, int64_t n);

/* Input packing: for each of `rows` rows (src and dst advance by their
 * strides), copies n floats to dst_even (phases 1), or sends the even ones
 * of n floats to dst_even and the odd ones to dst_odd (phases 2):
 * dst_even[i] = src[2i], dst_odd[i] = src[2i + 1]. */
typedef void (*cp_conv_pack_rows_fn)(const float *src, int64_t src_stride, int64_t rows, int64_t n,
                                     int64_t phases, float *dst_even, float *dst_odd,
                                     int64_t dst_stride);

/* The inverse of pack_rows' split, over `rows` rows (even, odd advance by
 * src_stride, dst by dst_stride): dst[2i] = even[i], dst[2i + 1] = odd[i]
 * for i < n (two stride-2 phases of output rows merged); nothing past
 * dst[2n - 1] is written. */
typedef void (*cp_conv_zip_rows_fn)(const float *even, const float *odd, int64_t src_stride,
                                    int64_t n, int64_t rows, float *dst, int64_t dst_stride);
/* Winograd F(2x2, 3x3) (kernels/x86/conv_x86_winograd.h; its input rows
 * are split into even and odd columns by pack_rows).
 * wino_input: B^T d B of `tiles` tiles of one tile row of one channel:
 * tile t reads columns 2t .. 2t + 3 of four input rows, row i given split
 * as even[i], odd[i] (tiles + 1 floats each); value (r, s) of tile t goes
 * to dst[(4r + s) * pitch + t]. */
typedef void (*cp_conv_wino_input_fn)(const float *const *even, const float *const *odd,
                                      int64_t tiles, float *dst, int64_t pitch);
/* wino_output: A^T m A + bias of `tiles` tiles, m's value (r, s) of tile t
 * at src[(4r + s) * pitch + t]: their two output rows into y0 and y1 (NULL:
 * past the output's last row), `width` <= 2 * tiles floats each. Returns
 * nonzero if a value it computed for those rows (stored or past `width`)
 * is an infinity or NaN. */
typedef int (*cp_conv_wino_output_fn)(const float *src, int64_t pitch, int64_t tiles, float bias,
                                      float *y0, float *y1, int64_t width);
/* ConvTranspose's scatter of stride-2 taps into one output row of `width`
 * floats: each phase's sources summed into s (see cp_zip_phase; in an
 * order fixed by the sources and j, so the same call gives the same bits),
 * then dst[2j] = base + s_even(j) and dst[2j + 1] = base + s_odd(j), base
 * `init` or (accumulate) dst's own value. Every float of the row is
 * written, nothing past it. */
typedef void (*cp_conv_zip_phase_sums_fn)(const cp_zip_phase *even, const cp_zip_phase *odd,
                                          int64_t width, float init, int accumulate, float *dst);

/* Bounds of a GEMM tile on every ISA: pixels, and floats (rows x pixels),
 * for buffers that hold one tile. */
#define CP_CONV_GEMM_MR_MAX          8
#define CP_CONV_GEMM_TILE_PIXELS_MAX 64
#define CP_CONV_GEMM_TILE_MAX        384

#define CP_CONV_DIRECT_NP_MAX  12
#define CP_CONV_DIRECT_MV_MAX  3
#define CP_CONV_DIRECT2_NP_MAX 7

typedef struct cp_conv_kernels {
    int32_t vw;               /* floats per vector */
    int32_t gemm_mr;          /* output channels per GEMM tile */
    int32_t gemm_nv;          /* pixel vectors per GEMM tile */
    int32_t narrow_mr;        /* output channels per narrow row tile (rows_narrow) */
    int32_t narrow_nv;        /* pixel vectors per narrow row tile */
    int32_t tall_mr;          /* output channels per tall row tile (rows_tall) */
    int32_t tall_nv;          /* pixel vectors per tall row tile */
    int32_t direct_np_max[3]; /* pixels per direct tile, for mv = 1, 2, 3 */
    /* pixels of a row that one direct tile takes whole (>= direct_np_max):
     * a tile past the registers' room may still pay where it saves
     * streaming the tile's weights a second time for the row's rest */
    int32_t direct_whole_np_max[3];
    cp_conv_gemm_fn gemm;
    cp_conv_gemm_zip_fn gemm_zip;
    cp_conv_rows_fn rows;
    /* rows with narrow_mr output channels and narrow_nv pixel vectors a
     * tile (weights w + k*narrow_mr), for ops with at most narrow_mr
     * output channels per group */
    cp_conv_rows_fn rows_narrow;
    /* rows with tall_mr (> gemm_mr) output channels and tall_nv pixel
     * vectors a tile (weights w + k*tall_mr), for ops whose output
     * channels per group it pads less than the gemm_mr tile would */
    cp_conv_rows_fn rows_tall;
    /* [mv - 1][stride class: 0 any, 1 stride 1, 2 stride 2][np - 1]; the
     * stride-1 and stride-2 variants ignore their stride argument; NULL
     * past direct_np_max[mv - 1] */
    cp_conv_direct_fn direct[CP_CONV_DIRECT_MV_MAX][3][CP_CONV_DIRECT_NP_MAX];
    /* two-row tiles: only of direct2_mv vectors (0: none) and up to
     * direct2_np_max pixels a row; [stride class][np - 1] */
    int32_t direct2_mv;
    int32_t direct2_np_max;
    cp_conv_direct2_fn direct2[3][CP_CONV_DIRECT2_NP_MAX];
    cp_conv_depthwise_fn depthwise;
    cp_conv_depthwise3_fn depthwise3;
    cp_conv_depthwise3s2_fn depthwise3s2;
    /* as depthwise3s2 at stride 1 along W (columns ow - pad + (0, 1, 2)),
     * for pad 0 or 1; NULL where the ISA packs instead (AVX2) */
    cp_conv_depthwise3s2_fn depthwise3s1;
    cp_conv_pack_rows_fn pack_rows;
    cp_conv_zip_rows_fn zip_rows;
    cp_conv_zip_phase_sums_fn zip_phase_sums;
    cp_conv_wino_input_fn wino_input;
    cp_conv_wino_output_fn wino_output;
} cp_conv_kernels;

extern const cp_conv_kernels cp_conv_kernels_avx2;
extern const cp_conv_kernels cp_conv_kernels_avx512;

/* Pixels per direct tile of mv vectors on output rows of ow pixels. */
static inline int64_t cp_conv_direct_np(const cp_conv_kernels *k, int64_t mv, int64_t ow)
{
    return ow <= k->direct_whole_np_max[mv - 1] ? ow : k->direct_np_max[mv - 1];
}

#endif
