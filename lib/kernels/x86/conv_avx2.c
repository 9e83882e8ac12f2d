/* The convolution micro-kernels for AVX2 + FMA (8 floats per vector). */
#include <immintrin.h>

typedef __m256 V;
typedef __m256i VMASK;

/* A mask with the first n of 8 lanes set: a window into -1s then 0s. */
static const int32_t lane_mask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                             0,  0,  0,  0,  0,  0,  0,  0};
#define VW                  8
#define VMASK_N(n)          _mm256_loadu_si256((const __m256i *)(lane_mask_window + 8 - (n)))
#define VMASK_RANGE(lo, hi) _mm256_andnot_si256(VMASK_N(lo), VMASK_N(hi))
#define V_LOAD(p)           _mm256_loadu_ps(p)
#define V_LOADM(p, m)       _mm256_maskload_ps((p), (m))
#define V_STORE(p, v)       _mm256_storeu_ps((p), (v))
#define V_STOREM(p, m, v)   _mm256_maskstore_ps((p), (m), (v))
#define V_SET1(x)           _mm256_set1_ps(x)
#define V_FMA(a, b, acc)    _mm256_fmadd_ps((a), (b), (acc))
/* no cross-lane align in AVX2: a load (half of them within one line) */
#define V_NEXT1(a, b, p) _mm256_loadu_ps((p) + 1)
#define V_NEXT2(a, b, p) _mm256_loadu_ps((p) + 2)
/* [a1..a3 | a4], [a5..a7 | b0]: byte-align a with (a's high half, b's low) */
#define V_SHIFT_IN(a, b)                                                                           \
    _mm256_castsi256_ps(_mm256_alignr_epi8(                                                        \
        _mm256_castps_si256(_mm256_permute2f128_ps((a), (b), 0x21)), _mm256_castps_si256(a), 4))
/* shuffle picks even (odd) lanes within each 128-bit half; the permute
 * puts the four 64-bit pieces in order */
#define V_EVEN(a, b)                                                                               \
    _mm256_castpd_ps(_mm256_permute4x64_pd(                                                        \
        _mm256_castps_pd(_mm256_shuffle_ps((a), (b), _MM_SHUFFLE(2, 0, 2, 0))),                    \
        _MM_SHUFFLE(3, 1, 2, 0)))
#define V_ODD(a, b)                                                                                \
    _mm256_castpd_ps(_mm256_permute4x64_pd(                                                        \
        _mm256_castps_pd(_mm256_shuffle_ps((a), (b), _MM_SHUFFLE(3, 1, 3, 1))),                    \
        _MM_SHUFFLE(3, 1, 2, 0)))

/* 16 registers: GEMM 4x3 vectors and direct 6 pixels x 2 vectors (or 12 x
 * 1, or 4 x 3) leave room for the operands. */
#define GEMM_MR        4
#define GEMM_NV        3
#define DIRECT_NP_MAX1 12
#define DIRECT_NP_MAX2 6
#define DIRECT_NP_MAX3 4
#define DEPTHWISE_ACC  10
/* no two-row direct tiles: 16 registers hold no more pixels */
#define DIRECT2_MV   0
#define KERNELS_NAME cp_conv_kernels_avx2

#include "kernels/x86/conv_kernels.inc"
