/*
 * conv_x86_im2col.h - strided convolutions on small output planes, and
 * stride-1 ones of one or two taps, as a column matrix and the 1x1 GEMM,
 * on the AVX2 fast path.
 *
 * The direct kernel broadcasts one input pixel a step and reads the weights
 * of a channel tile; on an output plane of 49 to 784 pixels, with a
 * stride above 1 (or a kernel of two taps: the stride phases of a strided
 * layer's dx), it streams a long reduction's weights for every row of
 * 7 to 28 pixels. Copying the input into columns instead, row r = c *
 * taps + t of tap t of channel c, column p the output pixel p (zeros where
 * the tap reads padding), turns the convolution into the 1x1 product of
 * the weights, read as (M, C * taps), with the columns: the GEMM kernels,
 * whose tiles reuse each weight for 24 pixels. The columns are written in
 * the GEMM's whole tiles (each tile's rows a tile apart,
 * cp_x86_conv_run_tiled, by the spans of cp_x86_conv_plan_tiled), so that
 * its blocks read them from consecutive lines with no copy of their own;
 * with stride 2 along W each channel's rows are first split into their
 * even and odd columns, so that a tap's outputs along a row are one copy.
 * Its
 * sums run over the channels and taps in the weights' order, padding taps
 * included as zeros (only finite weights reach this impl, so such a term
 * adds a zero): results differ from the direct kernel's by rounding and
 * the sign of a zero sum only, and are the same for any thread count.
 *
 * Ops qualify at creation (cp_x86_im2col_prepare: one group, a stride
 * above 1 or at most X86_IM2COL_STRIDE1_MAX_TAPS taps, a reduction of at
 * least X86_IM2COL_MIN_STEPS, the direct
 * algorithm, AVX2: the AVX-512 direct tiles were at oneDNN's speed on
 * these layers), keeping the GEMM's packed copy of the weights; a run
 * takes this path where its output plane has 49 to 784 pixels
 * (cp_x86_im2col_takes), else the direct algorithm.
 */
#ifndef CP_KERNELS_X86_CONV_X86_IM2COL_H
#define CP_KERNELS_X86_CONV_X86_IM2COL_H

#include "kernels/x86/conv_x86.h"

typedef struct x86_im2col {
    convpool_op *gemm; /* 1x1 Conv (M, C * taps) with the op's bias */
    int64_t rows;      /* C * taps */
} x86_im2col;

/* xc->im2col for an op that qualifies (else leaves it NULL): CONVPOOL_OK
 * or OUT_OF_MEMORY. */
convpool_status cp_x86_im2col_prepare(const convpool_op *op, x86_conv *xc, const float *weight,
                                      const float *bias);
void cp_x86_im2col_release(x86_im2col *c);

/* Whether a run of geometry g takes the im2col path (whatever the thread
 * count: each output's sum is the same on any). */
int cp_x86_im2col_takes(const x86_conv *xc, const cp_geom *g);
size_t cp_x86_im2col_workspace_size(const x86_conv *xc, const cp_geom *g, int32_t threads);
void cp_x86_im2col_run(const cp_run_args *a);

#endif
