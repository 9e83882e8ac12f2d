/*
 * simd_avx512.h - the vector vocabulary (kernels/x86/simd.h) on 16-lane
 * AVX-512 vectors, with mask registers. Included by the kernel files
 * compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl.
 */
#ifndef CP_KERNELS_X86_SIMD_AVX512_H
#define CP_KERNELS_X86_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "kernels/x86/simd.h"

#define LANES 16

typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;

static inline vf vf_set1(float v)
{
    return _mm512_set1_ps(v);
}
static inline vf vf_zero(void)
{
    return _mm512_setzero_ps();
}
static inline vf vf_loadu(const float *p)
{
    return _mm512_loadu_ps(p);
}
/* Lanes outside m read nothing (no fault) and are 0. */
static inline vf vf_loadz(vm m, const float *p)
{
    return _mm512_maskz_loadu_ps(m, p);
}
static inline void vf_storeu(float *p, vf v)
{
    _mm512_storeu_ps(p, v);
}
/* The same store as two 256-bit halves (see X86_CONV_STORE_MODE_MAX_STEPS). */
static inline void vf_storeu_halves(float *p, vf v)
{
    _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
    _mm256_storeu_ps(p + 8, _mm512_extractf32x8_ps(v, 1));
}
/* The first n lanes (0 <= n <= LANES). */
static inline vm vm_first(int n)
{
    return (vm)((1u << n) - 1u);
}
/* Stores the lanes in m; the others are not touched (no fault). */
static inline void vf_storem(float *p, vm m, vf v)
{
    _mm512_mask_storeu_ps(p, m, v);
}
static inline void vf_store_first(float *p, vf v, int n)
{
    vf_storem(p, vm_first(n), v);
}
static inline vf vf_add(vf a, vf b)
{
    return _mm512_add_ps(a, b);
}
static inline vf vf_sub(vf a, vf b)
{
    return _mm512_sub_ps(a, b);
}

static inline vf vf_div(vf a, vf b)
{
    return _mm512_div_ps(a, b);
}
static inline vf vf_mul(vf a, vf b)
{
    return _mm512_mul_ps(a, b);
}
/* a * b + acc, one rounding */
static inline vf vf_fma(vf a, vf b, vf acc)
{
    return _mm512_fmadd_ps(a, b, acc);
}
/* a > b ? a : b, so b (the earlier value) wins ties and NaN in a is
 * ignored: callers detect NaN separately. */
static inline vf vf_max(vf a, vf b)
{
    return _mm512_max_ps(a, b);
}
/* m ? b : a */
static inline vf vf_select(vm m, vf a, vf b)
{
    return _mm512_mask_mov_ps(a, m, b);
}
static inline vi vi_select(vm m, vi a, vi b)
{
    return _mm512_mask_mov_epi32(a, m, b);
}

/* The even elements of the 2*LANES elements a:b (a stride-2 row). */
static inline vf vf_even(vf a, vf b)
{
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
}

/* Lanes k .. k+LANES-1 of the 2*LANES elements a:b (k a constant after
 * inlining, 0 < k < LANES). */
static inline vf vf_shift_in(vf a, vf b, int k)
{
    /* The shift count must be an immediate (clang checks before inlining):
     * one case per k, folded to one instruction once k is known. */
    const __m512i ia = _mm512_castps_si512(a), ib = _mm512_castps_si512(b);
    switch (k) {
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 2));
    case 3: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 3));
    case 4: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 4));
    case 5: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 5));
    case 6: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 6));
    case 7: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 7));
    case 8: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 8));
    case 9: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 9));
    case 10: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 10));
    case 11: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 11));
    case 12: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 12));
    case 13: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 13));
    case 14: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 14));
    default: return _mm512_castsi512_ps(_mm512_alignr_epi32(ib, ia, 15));
    }
}

/* vf_loadu(p), kept in a register: the compiler cannot fold the load into
 * each instruction that uses the value (one load serves them all). */
static inline vf vf_load_once(const float *p)
{
    vf v = vf_loadu(p);
    __asm__("" : "+v"(v));
    return v;
}

/* The vector k (1 or 2) floats on from a, where a was loaded from p and b
 * from p + LANES: a shift of the register pair, no load. */
static inline vf vf_next(vf a, vf b, const float *p, int k)
{
    (void)p;
    return vf_shift_in(a, b, k);
}

/* The odd elements of the 2*LANES elements a:b. */
static inline vf vf_odd(vf a, vf b)
{
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(a, odd, b);
}

/* The first (vf_zip_lo) and last (vf_zip_hi) LANES elements of a0 b0 a1 b1
 * ...: the inverse of vf_even / vf_odd. */
static inline vf vf_zip_lo(vf a, vf b)
{
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    return _mm512_permutex2var_ps(a, lo, b);
}
static inline vf vf_zip_hi(vf a, vf b)
{
    const __m512i hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return _mm512_permutex2var_ps(a, hi, b);
}

/* base[pos[i]] for lanes in m, 0 elsewhere. */
static inline vf vf_gather(vm m, const float *base, vi pos)
{
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, pos, base, 4);
}

/* base[pos[i]] for the 16 int64 positions at pos (two 8-lane gathers). */
static inline vf vf_gather64(const float *base, const int64_t *pos)
{
    const __m256 lo = _mm512_i64gather_ps(_mm512_loadu_si512(pos), base, 4);
    const __m256 hi = _mm512_i64gather_ps(_mm512_loadu_si512(pos + 8), base, 4);
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

static inline vi vi_set1(int32_t v)
{
    return _mm512_set1_epi32(v);
}
static inline vi vi_iota(void)
{
    return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
static inline vi vi_loadu(const int32_t *p)
{
    return _mm512_loadu_si512(p);
}
static inline void vi_storeu(int32_t *p, vi v)
{
    _mm512_storeu_si512(p, v);
}
static inline vi vi_add(vi a, vi b)
{
    return _mm512_add_epi32(a, b);
}
static inline vi vi_mul(vi a, vi b)
{
    return _mm512_mullo_epi32(a, b);
}

static inline vm vm_all(void)
{
    return (vm)0xFFFF;
}
static inline vm vm_none(void)
{
    return (vm)0;
}
static inline vm vm_and(vm a, vm b)
{
    return a & b;
}
static inline vm vm_or(vm a, vm b)
{
    return a | b;
}
static inline vm vm_andnot(vm a, vm b)
{
    return (vm)(~a & b);
}
static inline unsigned vm_bits(vm m)
{
    return m;
}
/* lo <= pos < hi, lane by lane. */
static inline vm vm_range(vi pos, int32_t lo, int32_t hi)
{
    return _mm512_mask_cmplt_epi32_mask(_mm512_cmpge_epi32_mask(pos, _mm512_set1_epi32(lo)), pos,
                                        _mm512_set1_epi32(hi));
}
/* Lanes where a or b is NaN. */
static inline vm vm_either_nan(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
}
static inline vm vm_isnan(vf v)
{
    return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
}
/* a > b lane by lane; false where either is NaN. */
static inline vm vm_gt(vf a, vf b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
}
/* acc + 1 in lanes m. */
static inline vf vf_count(vm m, vf acc)
{
    return _mm512_mask_add_ps(acc, m, acc, _mm512_set1_ps(1.0f));
}

/* |v| */
static inline vf vf_abs(vf v)
{
    return _mm512_abs_ps(v);
}
static inline vf vf_sqrt(vf v)
{
    return _mm512_sqrt_ps(v);
}
/* Lanes where v is not in [lo, hi] (NaN included). */
static inline vm vm_outside(vf v, float lo, float hi)
{
    return (vm)(~(_mm512_cmp_ps_mask(v, _mm512_set1_ps(lo), _CMP_GE_OQ) &
                  _mm512_cmp_ps_mask(v, _mm512_set1_ps(hi), _CMP_LE_OQ)) &
                0xFFFFu);
}

/* Writes the first n lanes of idx + base as int64. */
static inline void vi_store_index64(int64_t *dst, vi idx, int64_t base, int n)
{
    const __m512i b = _mm512_set1_epi64(base);
    const __m512i lo = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(idx)), b);
    const __m512i hi =
        _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(idx, 1)), b);
    if (n >= 16) {
        _mm512_storeu_si512(dst, lo);
        _mm512_storeu_si512(dst + 8, hi);
        return;
    }
    const unsigned m = (1u << n) - 1;
    _mm512_mask_storeu_epi64(dst, (__mmask8)(m & 0xFF), lo);
    _mm512_mask_storeu_epi64(dst + 8, (__mmask8)(m >> 8), hi);
}

/*
 * r[j] = sum (or max) of the lanes of v[j], for j < LANES: each vector
 * reduced on its own (halving, a fixed order), the 16 results gathered
 * through memory. Faster than a 16-vector transpose tree (which AVX2
 * uses): the tree's shuffles form long dependency chains, the per-vector
 * reductions do not.
 */
static inline vf vf_reduce_each(const vf *v, int is_max)
{
    float r[LANES];
    for (int j = 0; j < LANES; j++)
        r[j] = is_max ? _mm512_reduce_max_ps(v[j]) : _mm512_reduce_add_ps(v[j]);
    return _mm512_loadu_ps(r);
}

/* Of the LANES / 2 int64 at p: bit i set where p[i] lies outside [lo, hi)
 * and is not -1 (MaxPool's Indices check). */
static inline unsigned vq_bad_bits(const int64_t *p, int64_t lo, int64_t hi)
{
    const __m512i v = _mm512_loadu_si512(p);
    const __mmask8 out = _mm512_cmplt_epi64_mask(v, _mm512_set1_epi64(lo)) |
                         _mm512_cmpge_epi64_mask(v, _mm512_set1_epi64(hi));
    return out & ~_mm512_cmpeq_epi64_mask(v, _mm512_set1_epi64(-1)) & 0xFFu;
}

/* m ? p[i] : fill[i]; masked-off lanes read nothing. */
static inline vf vf_loadm(vm m, const float *p, vf fill)
{
    return _mm512_mask_loadu_ps(fill, m, p);
}

/* Lanes i of the 3*LANES elements a:b:c at idx[i] (< 3*LANES): from a:b by
 * idx, or from b:c by idx2 = idx - LANES in the lanes `hi`. */
static inline vf vf_take(vf a, vf b, vf c, vi idx, vi idx2, vm hi)
{
    vf lo = _mm512_permutex2var_ps(a, idx, b);
    return hi ? _mm512_mask_mov_ps(lo, hi, _mm512_permutex2var_ps(b, idx2, c)) : lo;
}

#endif
