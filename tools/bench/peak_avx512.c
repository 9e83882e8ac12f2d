/* FMA and copy loops for the peak measurement, AVX-512 (per-file flags). */
#include <immintrin.h>
#include <string.h>

#include "peak.h"

/* 12 independent chains in named registers (an array may be kept in
 * memory): enough to cover FMA latency (4 cycles) x 2 pipes with room. */
double bench_fma_avx512(int64_t iters)
{
    const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0);
    __m512 a1 = _mm512_set1_ps(1);
    __m512 a2 = _mm512_set1_ps(2);
    __m512 a3 = _mm512_set1_ps(3);
    __m512 a4 = _mm512_set1_ps(4);
    __m512 a5 = _mm512_set1_ps(5);
    __m512 a6 = _mm512_set1_ps(6);
    __m512 a7 = _mm512_set1_ps(7);
    __m512 a8 = _mm512_set1_ps(8);
    __m512 a9 = _mm512_set1_ps(9);
    __m512 a10 = _mm512_set1_ps(10);
    __m512 a11 = _mm512_set1_ps(11);
    for (int64_t i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, b, c);
        a1 = _mm512_fmadd_ps(a1, b, c);
        a2 = _mm512_fmadd_ps(a2, b, c);
        a3 = _mm512_fmadd_ps(a3, b, c);
        a4 = _mm512_fmadd_ps(a4, b, c);
        a5 = _mm512_fmadd_ps(a5, b, c);
        a6 = _mm512_fmadd_ps(a6, b, c);
        a7 = _mm512_fmadd_ps(a7, b, c);
        a8 = _mm512_fmadd_ps(a8, b, c);
        a9 = _mm512_fmadd_ps(a9, b, c);
        a10 = _mm512_fmadd_ps(a10, b, c);
        a11 = _mm512_fmadd_ps(a11, b, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    float lanes[16];
    memcpy(lanes, &s, sizeof lanes);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)iters * 12 * 16 * 2;
}

void bench_copy_avx512(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i += 64) {
        __m512 v0 = _mm512_loadu_ps(src + i), v1 = _mm512_loadu_ps(src + i + 16);
        __m512 v2 = _mm512_loadu_ps(src + i + 32), v3 = _mm512_loadu_ps(src + i + 48);
        _mm512_storeu_ps(dst + i, v0);
        _mm512_storeu_ps(dst + i + 16, v1);
        _mm512_storeu_ps(dst + i + 32, v2);
        _mm512_storeu_ps(dst + i + 48, v3);
    }
}
