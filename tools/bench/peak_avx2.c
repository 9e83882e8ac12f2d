/* FMA and copy loops for the peak measurement, AVX2+FMA (per-file flags). */
#include <immintrin.h>
#include <string.h>

#include "peak.h"

/* 12 independent chains in named registers (an array may be kept in
 * memory): enough to cover FMA latency (4 cycles) x 2 pipes with room. */
double bench_fma_avx2(int64_t iters)
{
    const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0);
    __m256 a1 = _mm256_set1_ps(1);
    __m256 a2 = _mm256_set1_ps(2);
    __m256 a3 = _mm256_set1_ps(3);
    __m256 a4 = _mm256_set1_ps(4);
    __m256 a5 = _mm256_set1_ps(5);
    __m256 a6 = _mm256_set1_ps(6);
    __m256 a7 = _mm256_set1_ps(7);
    __m256 a8 = _mm256_set1_ps(8);
    __m256 a9 = _mm256_set1_ps(9);
    __m256 a10 = _mm256_set1_ps(10);
    __m256 a11 = _mm256_set1_ps(11);
    for (int64_t i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, b, c);
        a1 = _mm256_fmadd_ps(a1, b, c);
        a2 = _mm256_fmadd_ps(a2, b, c);
        a3 = _mm256_fmadd_ps(a3, b, c);
        a4 = _mm256_fmadd_ps(a4, b, c);
        a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c);
        a7 = _mm256_fmadd_ps(a7, b, c);
        a8 = _mm256_fmadd_ps(a8, b, c);
        a9 = _mm256_fmadd_ps(a9, b, c);
        a10 = _mm256_fmadd_ps(a10, b, c);
        a11 = _mm256_fmadd_ps(a11, b, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8];
    memcpy(lanes, &s, sizeof lanes);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)iters * 12 * 8 * 2;
}

void bench_copy_avx2(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i += 64)
        for (size_t j = 0; j < 64; j += 16) {
            __m256 v0 = _mm256_loadu_ps(src + i + j), v1 = _mm256_loadu_ps(src + i + j + 8);
            _mm256_storeu_ps(dst + i + j, v0);
            _mm256_storeu_ps(dst + i + j + 8, v1);
        }
}
