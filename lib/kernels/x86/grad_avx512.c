/* The weight-gradient micro-kernels for AVX-512 (16 floats per vector). */
#include "kernels/x86/simd_avx512.h"

/* GEMM: 4 rows x 6 vectors, 24 accumulators and the 6 vectors of b */
#define GRAD_GEMM_MR 4
#define GRAD_GEMM_NV 6
/* lanes: up to 4 rows, 24 accumulators (4 x 6, 2 x 12), the vectors of a, 1 of b */
#define GRAD_LANE_MR  4
#define GRAD_LANE_ACC 24
/* outer: up to 4 row vectors, 24 accumulators (4 x 6, 3 x 8, 2 x 12, 1 x 12),
 * the vectors of a, 1 broadcast of b */
#define GRAD_OUTER_MV  4
#define GRAD_OUTER_ACC 24
/* gather_columns by gather instructions: 3x the scalar loads' rate on the
 * Xeon (Sapphire Rapids-class) */
#define GRAD_GATHER_VECTORS 1
#define GRAD_CONV_KERNELS   cp_conv_kernels_avx512
#define GRAD_KERNELS_NAME   cp_grad_kernels_avx512

#include "kernels/x86/grad_kernels.inc"
