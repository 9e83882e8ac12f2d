/* The convolution micro-kernels for AVX2 + FMA (8 floats per vector). */
#include "kernels/x86/simd_avx2.h"

/* 16 registers: GEMM 4x3 vectors, the narrow row tile 3x4, the tall row
 * tile 6x2 and direct 12 pixels x 1 vector or 4 x 3 leave room for the
 * operands. Direct 7 x 2 does not (GCC keeps one sum on the stack), but
 * it takes a row of 7 (ResNet's last stage) in one tile, where 6 x 2 took
 * two that each streamed the tile's weights: on a Zen 3 (512 KiB L2,
 * weights of 512 -> 512 3x3 from L3) the 3x3 convolutions of 7-wide
 * output rows ran 1.1x-1.5x faster against oneDNN in the same runs
 * (docs/performance.md). */
#define GEMM_MR        4
#define NARROW_NV      4
#define GEMM_NV        3
#define TALL_MR        6
#define TALL_NV        2
#define DIRECT_NP_MAX1 12
#define DIRECT_NP_MAX2 7
#define DIRECT_NP_MAX3 4
/* the stride-2 depthwise kernel reads input rows per tap: 16 registers
 * cannot keep nine weights beside the sums */
#define DW_S2_ROWS_SHARED 0
/* the stride-1 depthwise 3x3 packs its input: in place, with two-op lane
 * shifts, dw112 ran 1.06-1.14x slower on 1 thread, level on 2 */
#define DW_S1_IN_PLACE 0
#define DEPTHWISE_ACC  10
/* no two-row direct tiles: 16 registers hold no more pixels */
#define DIRECT2_MV 0
/* the zipped scatter sums 6 vectors of each stride-2 phase in registers:
 * 12 accumulators of 16 registers */
#define ZIP_NV       6
#define KERNELS_NAME cp_conv_kernels_avx2

#include "kernels/x86/conv_kernels.inc"
