/*
 * kernel_check.h - what the kernel tests share: a fixed random source,
 * buffers that show stray reads, and the checks, which count and print
 * the first failures with the kernel's name, ISA and shape.
 */
#ifndef CP_TESTS_KERNELS_KERNEL_CHECK_H
#define CP_TESTS_KERNELS_KERNEL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/x86/conv_kernels.h"
#include "kernels/x86/grad_kernels.h"
#include "kernels/x86/pool_x86.h"

extern int failures; /* checks failed so far (the first 20 are printed) */
extern int checks;   /* checks made so far */

/* uniform in [-1, 1), the same sequence on every run */
float rnd(void);
/* in [lo, hi] */
int64_t rnd_int(int64_t lo, int64_t hi);
/* n floats, 64-byte aligned, random; exits on allocation failure */
float *buffer(size_t n);
/* n doubles, zero; exits on allocation failure */
double *sums(size_t n);

/* got vs want (a double-precision sum of terms whose magnitudes add up to
 * `scale`): float FMA chains differ from it by rounding only. */
void expect_close(const char *what, const char *isa, float got, double want, double scale,
                  const char *shape);
/* Exact equality (NaN equals NaN): for kernels that promise the
 * reference's rounding and order, and for what a kernel must not write. */
void expect_same(const char *what, const char *isa, float got, float want, const char *shape);

/* Prints one summary line for a test of `name` on `isa`: the checks made
 * since checks_before, FAILED if failures moved since failures_before. */
void report(const char *name, const char *isa, int checks_before, int failures_before);

/* The kernel families, each over its own table of shapes. */
void test_conv_kernels(const cp_conv_kernels *k, const char *isa);
void test_grad_kernels(const cp_grad_kernels *k, const char *isa);
void test_pool_walks(const cp_pool_kernels *k, const char *isa);

#endif
