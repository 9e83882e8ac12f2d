/*
 * simd_avx2.h - the vector vocabulary (kernels/x86/simd.h) on 8-lane AVX2
 * + FMA vectors. Masks are vectors of all-ones / all-zeros lanes (AVX2 has
 * no mask registers); masked loads and stores use vmaskmov, which never
 * faults on masked-off lanes. Included by the kernel files compiled with
 * -mavx2 -mfma.
 */
#ifndef CP_KERNELS_X86_SIMD_AVX2_H
#define CP_KERNELS_X86_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "kernels/x86/simd.h"

#define LANES 8

typedef __m256 vf;
typedef __m256i vi;
typedef __m256i vm;

static inline vf vf_set1(float v)
{
    return _mm256_set1_ps(v);
}
static inline vf vf_zero(void)
{
    return _mm256_setzero_ps();
}
static inline vf vf_loadu(const float *p)
{
    return _mm256_loadu_ps(p);
}
static inline vf vf_loadz(vm m, const float *p)
{
    return _mm256_maskload_ps(p, m);
}
static inline void vf_storeu(float *p, vf v)
{
    _mm256_storeu_ps(p, v);
}
/* A vector is one 256-bit store already. */
static inline void vf_storeu_halves(float *p, vf v)
{
    vf_storeu(p, v);
}
static inline vi vi_iota(void)
{
    return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
}
static inline vi vi_set1(int32_t v)
{
    return _mm256_set1_epi32(v);
}
static inline vm vm_first(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), vi_iota());
}
/* Stores the lanes in m; the others are not touched (no fault). */
static inline void vf_storem(float *p, vm m, vf v)
{
    _mm256_maskstore_ps(p, m, v);
}
static inline void vf_store_first(float *p, vf v, int n)
{
    vf_storem(p, vm_first(n), v);
}
static inline vf vf_add(vf a, vf b)
{
    return _mm256_add_ps(a, b);
}
static inline vf vf_sub(vf a, vf b)
{
    return _mm256_sub_ps(a, b);
}

static inline vf vf_div(vf a, vf b)
{
    return _mm256_div_ps(a, b);
}
static inline vf vf_mul(vf a, vf b)
{
    return _mm256_mul_ps(a, b);
}
/* a * b + acc, one rounding */
static inline vf vf_fma(vf a, vf b, vf acc)
{
    return _mm256_fmadd_ps(a, b, acc);
}
/* a > b ? a : b: b (the earlier value) wins ties; NaN in a is ignored. */
static inline vf vf_max(vf a, vf b)
{
    return _mm256_max_ps(a, b);
}
/* m ? b : a */
static inline vf vf_select(vm m, vf a, vf b)
{
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(m));
}
static inline vi vi_select(vm m, vi a, vi b)
{
    return _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _mm256_castsi256_ps(m)));
}

/* The even elements of the 2*LANES elements a:b (a stride-2 row). */
static inline vf vf_even(vf a, vf b)
{
    /* per 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6; then order the quads */
    vf t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Lanes k .. k+LANES-1 of the 2*LANES elements a:b (0 < k < LANES, a
 * constant after inlining): the middle 8 elements a4..b3, then a byte
 * shift per 128-bit half against a or b. */
static inline vf vf_shift_in(vf a, vf b, int k)
{
    const __m256i mid = _mm256_castps_si256(_mm256_permute2f128_ps(a, b, 0x21));
    const __m256i ia = _mm256_castps_si256(a), ib = _mm256_castps_si256(b);
    switch (k) {
    case 1: return _mm256_castsi256_ps(_mm256_alignr_epi8(mid, ia, 4));
    case 2: return _mm256_castsi256_ps(_mm256_alignr_epi8(mid, ia, 8));
    case 3: return _mm256_castsi256_ps(_mm256_alignr_epi8(mid, ia, 12));
    case 4: return _mm256_castsi256_ps(mid);
    case 5: return _mm256_castsi256_ps(_mm256_alignr_epi8(ib, mid, 4));
    case 6: return _mm256_castsi256_ps(_mm256_alignr_epi8(ib, mid, 8));
    default: return _mm256_castsi256_ps(_mm256_alignr_epi8(ib, mid, 12));
    }
}

/* vf_loadu(p), kept in a register: the compiler cannot fold the load into
 * each instruction that uses the value (one load serves them all). */
static inline vf vf_load_once(const float *p)
{
    vf v = vf_loadu(p);
    __asm__("" : "+x"(v));
    return v;
}

/* The vector k (1 or 2) floats on from a, where a was loaded from p and b
 * from p + LANES: AVX2 has no cross-lane shift of a register pair, so it
 * loads again (from cache). */
static inline vf vf_next(vf a, vf b, const float *p, int k)
{
    (void)a;
    (void)b;
    return _mm256_loadu_ps(p + k);
}

/* The odd elements of the 2*LANES elements a:b. */
static inline vf vf_odd(vf a, vf b)
{
    vf t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* The first (vf_zip_lo) and last (vf_zip_hi) LANES elements of a0 b0 a1 b1
 * ...: the inverse of vf_even / vf_odd. */
static inline vf vf_zip_lo(vf a, vf b)
{
    /* per 128-bit half: a0 b0 a1 b1 | a4 b4 a5 b5 and a2 b2 a3 b3 | a6 b6 a7 b7 */
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x20);
}
static inline vf vf_zip_hi(vf a, vf b)
{
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x31);
}

/* base[pos[i]] for lanes in m, 0 elsewhere. */
static inline vf vf_gather(vm m, const float *base, vi pos)
{
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, pos, _mm256_castsi256_ps(m), 4);
}

static inline vi vi_loadu(const int32_t *p)
{
    return _mm256_loadu_si256((const __m256i *)p);
}
static inline void vi_storeu(int32_t *p, vi v)
{
    _mm256_storeu_si256((__m256i *)p, v);
}
static inline vi vi_add(vi a, vi b)
{
    return _mm256_add_epi32(a, b);
}
static inline vi vi_mul(vi a, vi b)
{
    return _mm256_mullo_epi32(a, b);
}

static inline vm vm_all(void)
{
    return _mm256_set1_epi32(-1);
}
static inline vm vm_none(void)
{
    return _mm256_setzero_si256();
}
static inline vm vm_and(vm a, vm b)
{
    return _mm256_and_si256(a, b);
}
static inline vm vm_or(vm a, vm b)
{
    return _mm256_or_si256(a, b);
}
static inline vm vm_andnot(vm a, vm b)
{
    return _mm256_andnot_si256(a, b);
}
static inline unsigned vm_bits(vm m)
{
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m));
}
/* Of the LANES / 2 int64 at p: bit i set where p[i] lies outside [lo, hi)
 * and is not -1 (MaxPool's Indices check). */
static inline unsigned vq_bad_bits(const int64_t *p, int64_t lo, int64_t hi)
{
    const __m256i v = _mm256_loadu_si256((const __m256i *)p);
    const __m256i below = _mm256_cmpgt_epi64(_mm256_set1_epi64x(lo), v);
    const __m256i inside_hi = _mm256_cmpgt_epi64(_mm256_set1_epi64x(hi), v);
    const __m256i bad = _mm256_andnot_si256(
        _mm256_cmpeq_epi64(v, _mm256_set1_epi64x(-1)),
        _mm256_or_si256(below, _mm256_xor_si256(inside_hi, _mm256_set1_epi64x(-1))));
    return (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(bad));
}

/* lo <= pos < hi, lane by lane. */
static inline vm vm_range(vi pos, int32_t lo, int32_t hi)
{
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), pos),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), pos));
}
/* Lanes where a or b is NaN. */
static inline vm vm_either_nan(vf a, vf b)
{
    return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}
static inline vm vm_isnan(vf v)
{
    return _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
/* a > b lane by lane; false where either is NaN. */
static inline vm vm_gt(vf a, vf b)
{
    return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ));
}
/* acc + 1 in lanes m. */
static inline vf vf_count(vm m, vf acc)
{
    return _mm256_add_ps(acc, _mm256_and_ps(_mm256_castsi256_ps(m), _mm256_set1_ps(1.0f)));
}

/* |v| */
static inline vf vf_abs(vf v)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}
static inline vf vf_sqrt(vf v)
{
    return _mm256_sqrt_ps(v);
}
/* Lanes where v is not in [lo, hi] (NaN included). */
static inline vm vm_outside(vf v, float lo, float hi)
{
    const __m256 in = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(lo), _CMP_GE_OQ),
                                    _mm256_cmp_ps(v, _mm256_set1_ps(hi), _CMP_LE_OQ));
    return _mm256_andnot_si256(_mm256_castps_si256(in), _mm256_set1_epi32(-1));
}

/* Writes the first n lanes of idx + base as int64. */
static inline void vi_store_index64(int64_t *dst, vi idx, int64_t base, int n)
{
    const __m256i b = _mm256_set1_epi64x(base);
    const __m256i lo = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(idx)), b);
    const __m256i hi = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(idx, 1)), b);
    if (n >= 8) {
        _mm256_storeu_si256((__m256i *)dst, lo);
        _mm256_storeu_si256((__m256i *)(dst + 4), hi);
        return;
    }
    const __m256i q = _mm256_setr_epi64x(0, 1, 2, 3);
    _mm256_maskstore_epi64((long long *)dst, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), q), lo);
    _mm256_maskstore_epi64((long long *)(dst + 4), _mm256_cmpgt_epi64(_mm256_set1_epi64x(n - 4), q),
                           hi);
}

/*
 * r[j] = sum (or max) of the lanes of v[j], for j < LANES: a transpose
 * tree with a fixed pairing, so a plane's result does not depend on its
 * neighbours.
 */
static inline vf vf_reduce_each(const vf *v, int is_max)
{
#define COMBINE(a, b) (is_max ? _mm256_max_ps((a), (b)) : _mm256_add_ps((a), (b)))
    vf u[4], w[2];
    for (int i = 0; i < 4; i++) /* 128-bit half 0: plane 2i, half 1: plane 2i+1 */
        u[i] = COMBINE(_mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x20),
                       _mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x31));
    for (int k = 0; k < 2; k++) /* half h: planes 4k+h, 4k+2+h, two partials each */
        w[k] = COMBINE(_mm256_shuffle_ps(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm256_shuffle_ps(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    vf r = COMBINE(_mm256_shuffle_ps(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                   _mm256_shuffle_ps(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
#undef COMBINE
    /* half h holds planes h, 2+h, 4+h, 6+h */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    return _mm256_permutevar8x32_ps(r, order);
}

#endif
