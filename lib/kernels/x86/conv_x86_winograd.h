/*
 * conv_x86_winograd.h - 3x3 stride-1 convolutions as Winograd F(2x2, 3x3)
 * on the x86 fast paths.
 *
 * Each 2x2 block of output pixels (a tile) of output channel m is
 *     A^T [ sum over c of U[m, c] (.) V[c] ] A + bias[m]
 * with V[c] = B^T d B the tile's 4x4 window d of input channel c and U =
 * G g G^T each 3x3 kernel g transformed once, at creation: 16
 * multiply-adds per tile and channel pair instead of 36, 2.25x fewer. The
 * 16 sums are 16 independent matrix products (M x C times C x tiles), run
 * as one grouped 1x1 Conv of 16 groups on the GEMM kernels (the inner op).
 * F(2x2, 3x3)'s transforms only add and subtract, and U holds halves and
 * quarters of sums of weights, so its rounding stays near the direct
 * kernel's (larger tiles, F(4x4, 3x3), multiply by up to 8 and divide by
 * 24 and lose about two more digits).
 *
 * A run splits each image's tiles, in row-major order, into bands of
 * equal length (sized from L2 and the channel counts, shorter where that
 * leaves the threads too few; a band may start and end inside a tile row)
 * that tasks take whole: a task transforms its band's input into V, runs the
 * inner GEMM on V on its own thread, and transforms the products into the
 * band's output rows. A tile's values do not depend on its band (the
 * GEMM sums each pixel's channels in one order wherever the pixel lies in
 * its range), so every output element is the same whatever the thread
 * count.
 *
 * Ops qualify at creation (cp_x86_wino_prepare: 2-D, 3x3, stride 1,
 * dilation 1, one group, enough channels); a run takes this path when its
 * output plane is large enough (cp_x86_wino_takes), else the op's direct
 * algorithm.
 */
#ifndef CP_KERNELS_X86_CONV_X86_WINOGRAD_H
#define CP_KERNELS_X86_CONV_X86_WINOGRAD_H

#include "kernels/x86/conv_x86.h"

typedef struct x86_wino {
    convpool_op *gemm; /* 1x1 Conv, 16 groups of M x C: U, transposed */
    float *bias;       /* M values, zeros if the op has none */
    int64_t c, m;
} x86_wino;

/* xc->wino for an op that qualifies (else leaves it NULL): CONVPOOL_OK or
 * OUT_OF_MEMORY. */
convpool_status cp_x86_wino_prepare(const convpool_op *op, x86_conv *xc, const float *weight,
                                    const float *bias);
void cp_x86_wino_release(x86_wino *w);

/* Whether a run of geometry g takes the Winograd path. */
int cp_x86_wino_takes(const x86_conv *xc, const cp_geom *g);
size_t cp_x86_wino_workspace_size(const x86_conv *xc, const cp_geom *g, int32_t threads);
/* Runs a; returns 0, leaving y to be computed again by the op's direct
 * algorithm, if an output it computed is an infinity or NaN: the
 * transforms subtract inputs, so an infinite input gives inf - inf = NaN
 * where a direct sum gives the infinity (a NaN input gives NaN either
 * way, and a rerun costs only runs that have such values). */
int cp_x86_wino_run(const cp_run_args *a);

#endif
