/*
 * pool_avx2.c - the pooling kernels of pool_body.h on 8-lane AVX2 vectors: the
 * body is written once in the vector vocabulary of kernels/x86/simd.h and
 * built once per ISA.
 */
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/pool_x86.h"

#define CP_POOL_ISA avx2

#include "kernels/x86/pool_body.h"
