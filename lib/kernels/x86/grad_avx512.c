/* The weight-gradient micro-kernels for AVX-512 (16 floats per vector). */
#include "kernels/x86/simd_avx512.h"

/* 32 registers: 8 accumulators, the b vector and the a loads */
#define GRAD_MR           8
#define GRAD_KERNELS_NAME cp_grad_kernels_avx512

#include "kernels/x86/grad_kernels.inc"
