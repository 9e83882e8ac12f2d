/* The weight-gradient micro-kernels for AVX2 + FMA (8 floats per vector). */
#include "kernels/x86/simd_avx2.h"

/* GEMM: 4 rows x 3 vectors, 12 accumulators and the 3 vectors of b */
#define GRAD_GEMM_MR 4
#define GRAD_GEMM_NV 3
/* lanes: up to 3 rows, 12 accumulators (3 x 4, 1 x 12), the vectors of a, 1 of b */
#define GRAD_LANE_MR  3
#define GRAD_LANE_ACC 12
/* outer: none (0 row vectors): on 8-float vectors the lanes path, which
 * needs no transposition, measured 2%-10% faster on the same runs */
#define GRAD_OUTER_MV  0
#define GRAD_OUTER_ACC 0
/* gather_columns by scalar loads: on AVX2-only CPUs (Haswell to Tiger
 * Lake, more so under the Downfall microcode; Zen 1 to 3) gathers are
 * reported no faster than scalar loads (not measured: no such CPU here) */
#define GRAD_GATHER_VECTORS 0
#define GRAD_CONV_KERNELS   cp_conv_kernels_avx2
#define GRAD_KERNELS_NAME   cp_grad_kernels_avx2

#include "kernels/x86/grad_kernels.inc"
