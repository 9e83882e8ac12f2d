/*
 * Kernel-level tests: each x86 micro-kernel and pooling walk called
 * directly, on every ISA this machine has, against a scalar loop (for
 * pools, the reference kernels of kernels/ref). A kernel bug is reported
 * here with the kernel's name and tile shape, not three layers up.
 *
 * One file per kernel family, each a table of tests run over shapes chosen
 * to reach every tile size, tail and edge path of its kernels:
 * conv_kernel_tests.c, grad_kernel_tests.c, pool_walk_tests.c; the shared
 * checks in kernel_check.c. Prints one line per test and ISA, one per
 * failure and a summary; exits 77 (skip) when the CPU has neither AVX2 nor
 * AVX-512.
 */
#include <stdio.h>

#include "convpool.h"
#include "kernel_check.h"
#include "runtime/cpu.h"

typedef struct isa_kernels {
    const char *name;
    int32_t isa;
    const cp_conv_kernels *conv;
    const cp_pool_kernels *pool;
    const cp_grad_kernels *grad;
} isa_kernels;

int main(void)
{
    const isa_kernels isas[] = {
        {"avx2", CONVPOOL_ISA_AVX2, &cp_conv_kernels_avx2, &cp_pool_kernels_avx2,
         &cp_grad_kernels_avx2},
        {"avx512", CONVPOOL_ISA_AVX512, &cp_conv_kernels_avx512, &cp_pool_kernels_avx512,
         &cp_grad_kernels_avx512},
    };
    const int32_t supported = cp_isa_supported();
    int tested = 0;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (isas[i].isa > supported) {
            printf("%s: not supported by this CPU, skipped\n", isas[i].name);
            continue;
        }
        tested++;
        test_conv_kernels(isas[i].conv, isas[i].name);
        test_grad_kernels(isas[i].grad, isas[i].name);
        test_pool_walks(isas[i].pool, isas[i].name);
    }
    if (!tested) {
        printf("no x86 SIMD path on this CPU\n");
        return 77;
    }
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
