/*
 * impl.h - the implementations ops/select.c chooses from. Each fast path
 * adds its cp_impl here and to the table in select.c.
 */
#ifndef CP_OPS_IMPL_H
#define CP_OPS_IMPL_H

#include "ops/op.h"

/* Threads worth using for `work` units when each thread should get at least
 * `min_work_per_thread` of them (>= 1, at most CP_MAX_THREADS). In
 * ops/impl_common.c, the home of helpers every implementation shares. */
int32_t cp_threads_for_work(int64_t work, int64_t min_work_per_thread);

/* dr[2j] = even[j] for j < n_even and dr[2j + 1] = odd[j] for j < n_odd
 * (n_even is n_odd or n_odd + 1): two stride-2 phases of a row merged
 * (ConvTranspose's phase interleave, AveragePool's dx where windows tile
 * the input). ISA-free; the x86 conv kernels have their own for the GEMM
 * tiles they store. */
void cp_zip_row(float *dr, const float *even, const float *odd, int64_t n_even, int64_t n_odd);

/* ops/impl_conv_transpose.c: which way a ConvTranspose op took at
 * creation: "depth_to_space", "phases" or "gemm" on that impl, else the
 * name of its impl (for tests and diagnostics). */
const char *cp_conv_transpose_way(const convpool_op *op);

#if defined(CP_X86_64)
/* kernels/x86/impl_conv_x86.c: AVX-512 and AVX2+FMA convolution fast paths */
extern const cp_impl cp_impl_conv_avx512;
extern const cp_impl cp_impl_conv_avx2;
/* kernels/x86/impl_pool_x86.c: AVX-512 and AVX2 pooling fast paths (all attributes) */
extern const cp_impl cp_impl_max_pool_avx512;
extern const cp_impl cp_impl_avg_pool_avx512;
extern const cp_impl cp_impl_global_max_pool_avx512;
extern const cp_impl cp_impl_global_avg_pool_avx512;
extern const cp_impl cp_impl_lp_pool_avx512;
extern const cp_impl cp_impl_global_lp_pool_avx512;
extern const cp_impl cp_impl_max_pool_avx2;
extern const cp_impl cp_impl_avg_pool_avx2;
extern const cp_impl cp_impl_global_max_pool_avx2;
extern const cp_impl cp_impl_global_avg_pool_avx2;
extern const cp_impl cp_impl_lp_pool_avx2;
extern const cp_impl cp_impl_global_lp_pool_avx2;
/* kernels/x86/impl_conv_transpose_dw_x86.c: depthwise ConvTranspose with a
 * stride above 1, in one pass on the depthwise kernel */
extern const cp_impl cp_impl_conv_transpose_depthwise_avx512;
extern const cp_impl cp_impl_conv_transpose_depthwise_avx2;
#endif
extern const cp_impl cp_impl_conv_ref;
extern const cp_impl cp_impl_max_pool_ref;
extern const cp_impl cp_impl_avg_pool_ref;
extern const cp_impl cp_impl_global_max_pool_ref;
extern const cp_impl cp_impl_global_avg_pool_ref;
extern const cp_impl cp_impl_conv_transpose_ref;
/* ops/impl_conv_transpose.c: on the Conv fast paths (a 1x1 Conv stored
 * depth to space, a Conv per stride phase, or a 1x1 Conv then col2im) */
extern const cp_impl cp_impl_conv_transpose_on_conv;
extern const cp_impl cp_impl_lp_pool_ref;
extern const cp_impl cp_impl_global_lp_pool_ref;

/* ops/impl_backward_ref.c: the reference backward passes, and the dx pass
 * of Conv and ConvTranspose (on op->transposed) that every backward impl
 * of those kinds shares. */
extern const cp_backward_impl cp_backward_conv_ref;
extern const cp_backward_impl cp_backward_conv_transpose_ref;
extern const cp_backward_impl cp_backward_max_pool_ref;
extern const cp_backward_impl cp_backward_avg_pool_ref;
extern const cp_backward_impl cp_backward_global_max_pool_ref;
extern const cp_backward_impl cp_backward_global_avg_pool_ref;
extern const cp_backward_impl cp_backward_lp_pool_ref;
extern const cp_backward_impl cp_backward_global_lp_pool_ref;
/* The geometry of op->transposed's run computing dx of a forward run of
 * geometry g; that run's workspace; the run itself. */
void cp_backward_data_geom(const convpool_op *op, const cp_geom *g, cp_geom *t);
size_t cp_backward_conv_data_workspace(const convpool_op *op, const cp_geom *g, int32_t threads);
void cp_backward_conv_data(const cp_backward_args *args);
/* db of a Conv or ConvTranspose (reference sums, split over channels). */
void cp_backward_bias(const cp_backward_args *args);
#if defined(CP_X86_64)
/* kernels/x86/impl_backward_x86.c: dw and db on the x86 weight-gradient kernels */
extern const cp_backward_impl cp_backward_conv_avx512;
extern const cp_backward_impl cp_backward_conv_avx2;
extern const cp_backward_impl cp_backward_conv_transpose_avx512;
extern const cp_backward_impl cp_backward_conv_transpose_avx2;
/* ... the pool backward passes that are a scatter or a fill */
extern const cp_backward_impl cp_backward_max_pool_avx512;
extern const cp_backward_impl cp_backward_max_pool_avx2;
extern const cp_backward_impl cp_backward_global_avg_pool_x86;
/* ... and AveragePool, on the grad kernels */
extern const cp_backward_impl cp_backward_avg_pool_avx512;
extern const cp_backward_impl cp_backward_avg_pool_avx2;
#endif

#endif
