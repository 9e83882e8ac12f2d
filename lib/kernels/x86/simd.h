/*
 * simd.h - the one vector vocabulary every x86 kernel family (conv_*,
 * pool_*) is written in. simd_avx2.h and simd_avx512.h define it for their
 * ISA; a kernel file includes exactly one of them, then the ISA-free body
 * (conv_kernels.inc, pool_body.h), so each body is written once and built
 * once per ISA. A new ISA (or a wider one) defines the same names.
 *
 *   LANES                      floats per vector
 *   vf, vi, vm                 float vector, int32 vector, lane mask
 *   vf_set1, vf_zero, vf_loadu, vf_storeu
 *   vf_load_once(p)            vf_loadu, held in a register (not folded
 *                              into each use as a memory operand)
 *   vf_loadz(m, p)             lanes in m from p, 0 elsewhere (no fault)
 *   vf_storem(p, m, v)         store the lanes in m (no fault elsewhere)
 *   vf_storeu_halves(p, v)     vf_storeu as 256-bit stores (AVX2: the same)
 *   vf_store_first(p, v, n)    store the first n lanes
 *   vf_add, vf_sub, vf_mul, vf_div, vf_fma(a, b, acc), vf_max (NaN in a ignored)
 *   vf_abs, vf_sqrt
 *   vf_select(m, a, b)         m ? b : a; vi_select likewise
 *   vf_even(a, b), vf_odd(a, b)  even / odd lanes of the pair a:b
 *   vf_zip_lo(a, b), vf_zip_hi(a, b)  first / last LANES of a0 b0 a1 b1 ...
 *   vf_shift_in(a, b, k)       lanes k .. k+LANES-1 of a:b (k constant)
 *   vf_next(a, b, p, k)        the same, given that a was loaded from p and
 *                              b from p + LANES (AVX2 reloads instead)
 *   vf_gather, vf_count, vf_reduce_each
 *   vf_gather64(base, pos)     base[pos[i]] for LANES int64 positions pos[i]
 *                              (AVX-512 only: GRAD_GATHER_VECTORS)
 *   vi_set1, vi_iota, vi_loadu, vi_storeu, vi_add, vi_mul, vi_store_index64
 *   vm_first(n), vm_all, vm_none, vm_and, vm_or, vm_andnot(a, b) = ~a & b,
 *   vm_bits, vm_range(pos, lo, hi), vm_isnan, vm_either_nan
 *   vm_gt(a, b)                a > b (false where either is NaN)
 *   vm_outside(v, lo, hi)       lanes where v is not in [lo, hi] (NaN too)
 *
 * Everything is a static inline function over intrinsics; the kernels'
 * own helpers that take tile shapes as constant arguments are CP_INLINE,
 * so that each specialisation is compiled with its constants.
 */
#ifndef CP_KERNELS_X86_SIMD_H
#define CP_KERNELS_X86_SIMD_H

#define CP_INLINE static inline __attribute__((always_inline))

#endif
