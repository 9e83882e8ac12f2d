/* The convolution micro-kernels for AVX2 + FMA (8 floats per vector). */
#include "kernels/x86/simd_avx2.h"

/* 16 registers: GEMM 4x3 vectors, the narrow row tile 3x4, the tall row
 * tile 6x2 and direct 6 pixels x 2 vectors (or 12 x 1, or 4 x 3) leave
 * room for the operands. */
#define GEMM_MR        4
#define NARROW_NV      4
#define GEMM_NV        3
#define TALL_MR        6
#define TALL_NV        2
#define DIRECT_NP_MAX1 12
#define DIRECT_NP_MAX2 6
/* A row of 7 (ResNet's last stage) is one 7 x 2 tile, although GCC keeps
 * one of its sums on the stack: as two tiles (4 + 3 pixels) it streamed
 * the tile's weights twice a row. On a Zen 3 (512 KiB L2) 3x3
 * convolutions onto 7 x 7 ran 0.57x-0.98x the time; on wider rows 7 x 2
 * tiles were slower than 4 x 3 (docs/performance.md). */
#define DIRECT_WHOLE_NP2 7
#define DIRECT_NP_MAX3   4
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
#define ZIP_NV 6
/* two reduction steps per pass of the GEMM tile's loop: half the loop's
 * own instructions beside the 24 FMAs. On a Zen 3 VM: level while the
 * host was quiet, 0.86x-0.96x the time (1x1s on 56 x 56 and 28 x 28, the
 * stem and its dx) while it was busy, which the VM's core then shares */
#define GEMM_K_UNROLL 2
#define KERNELS_NAME  cp_conv_kernels_avx2

#include "kernels/x86/conv_kernels.inc"
