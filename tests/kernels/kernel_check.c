/*
 * kernel_check.c - the kernel tests' shared helpers (kernel_check.h).
 */
#include "kernel_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int failures;
int checks;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xFFFF) / 32768.0f - 1.0f;
}

float *buffer(size_t n)
{
    /* 64-byte aligned (the depthwise kernels need vector-aligned rows),
     * filled with random values so that stray reads show up in the sums */
    float *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = rnd();
    return p;
}

void expect_close(const char *what, const char *isa, float got, double want, double scale,
                  const char *shape)
{
    checks++;
    if (fabs((double)got - want) <= 1e-5 * (scale + 1.0))
        return;
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] %s: got %.9g, want %.9g\n", what, isa, shape, got, want);
}

int64_t rnd_int(int64_t lo, int64_t hi)
{
    return lo + (int64_t)((rnd() + 1.0f) * 0.5f * (float)(hi - lo + 1)) % (hi - lo + 1);
}

double *sums(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

void expect_same(const char *what, const char *isa, float got, float want, const char *shape)
{
    checks++;
    if (got == want || (isnan(got) && isnan(want)))
        return;
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] %s: got %.9g, want %.9g\n", what, isa, shape, got, want);
}

void report(const char *name, const char *isa, int checks_before, int failures_before)
{
    printf("%-12s %-7s %6d checks%s\n", name, isa, checks - checks_before,
           failures > failures_before ? "  FAILED" : "");
}
