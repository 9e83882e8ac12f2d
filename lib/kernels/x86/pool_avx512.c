/*
 * pool_avx512.c - the pooling kernels of pool_body.h on 16-lane AVX-512 vectors: the
 * body is written once in the vector vocabulary of kernels/x86/simd.h and
 * built once per ISA.
 */
#include "kernels/x86/simd_avx512.h"
#include "kernels/x86/pool_x86.h"

#define CP_POOL_ISA avx512
/* The separable window kernels need two-source permutes (pool_body.h). */
#define POOL_SEPARABLE 1

#include "kernels/x86/pool_body.h"
