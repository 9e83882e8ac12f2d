/* The convolution micro-kernels for AVX-512 (16 floats per vector). */
#include "kernels/x86/simd_avx512.h"

/* 32 registers: GEMM 6x4 vectors, the narrow row tile 3x8, the tall row
 * tile 8x3 and direct 12 pixels x 2 vectors (or 8 x 3) leave room for the
 * operands. */
#define GEMM_MR        6
#define NARROW_NV      8
#define GEMM_NV        4
#define TALL_MR        8
#define TALL_NV        3
#define DIRECT_NP_MAX1 12
#define DIRECT_NP_MAX2 12
#define DIRECT_NP_MAX3 8
/* the stride-2 depthwise kernel reads each input row once per block of
 * output rows, its nine weights in registers */
#define DW_S2_ROWS_SHARED 1
/* the stride-1 depthwise 3x3 reads its input in place (no packed copy) */
#define DW_S1_IN_PLACE 1
/* and reads each input row once per block of output rows */
#define DW_S1_ROWS_SHARED 1
#define DEPTHWISE_ACC     12
/* two rows of up to 7 pixels x 2 vectors: 28 accumulators */
#define DIRECT2_MV 2
/* the zipped scatter sums 8 vectors of each stride-2 phase in registers */
#define ZIP_NV       8
#define KERNELS_NAME cp_conv_kernels_avx512

#include "kernels/x86/conv_kernels.inc"
