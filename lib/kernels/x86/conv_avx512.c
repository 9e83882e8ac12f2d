/* The convolution micro-kernels for AVX-512 (16 floats per vector). */
#include <immintrin.h>

typedef __m512 V;
typedef __mmask16 VMASK;
#define VW                  16
#define VMASK_N(n)          ((__mmask16)((1u << (n)) - 1u))
#define VMASK_RANGE(lo, hi) ((__mmask16)(((1u << (hi)) - 1u) & ~((1u << (lo)) - 1u)))
#define V_LOAD(p)           _mm512_loadu_ps(p)
#define V_LOADM(p, m)       _mm512_maskz_loadu_ps((m), (p))
#define V_STORE(p, v)       _mm512_storeu_ps((p), (v))
#define V_STOREM(p, m, v)   _mm512_mask_storeu_ps((p), (m), (v))
#define V_SET1(x)           _mm512_set1_ps(x)
#define V_FMA(a, b, acc)    _mm512_fmadd_ps((a), (b), (acc))
#define V_NEXT1(a, b, p)                                                                           \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 1))
#define V_NEXT2(a, b, p)                                                                           \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 2))
#define V_SHIFT_IN(a, b) V_NEXT1(a, b, 0)
#define V_EVEN(a, b)                                                                               \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), (b))
#define V_ODD(a, b)                                                                                \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), (b))

/* 32 registers: GEMM 6x4 vectors and direct 12 pixels x 2 vectors (or
 * 8 x 3) leave room for the operands. */
#define GEMM_MR        6
#define GEMM_NV        4
#define DIRECT_NP_MAX1 12
#define DIRECT_NP_MAX2 12
#define DIRECT_NP_MAX3 8
#define DEPTHWISE_ACC  12
/* two rows of up to 7 pixels x 2 vectors: 28 accumulators */
#define DIRECT2_MV   2
#define KERNELS_NAME cp_conv_kernels_avx512

#include "kernels/x86/conv_kernels.inc"
