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

#if defined(CP_X86_64)
/* kernels/x86/impl_conv_x86.c: AVX-512 and AVX2+FMA convolution fast paths */
extern const cp_impl cp_impl_conv_avx512;
extern const cp_impl cp_impl_conv_avx2;
#endif
#if defined(CP_X86_64)
/* kernels/x86/impl_pool_x86.c: AVX-512 and AVX2 pooling fast paths (all attributes) */
extern const cp_impl cp_impl_max_pool_avx512;
extern const cp_impl cp_impl_avg_pool_avx512;
extern const cp_impl cp_impl_global_max_pool_avx512;
extern const cp_impl cp_impl_global_avg_pool_avx512;
extern const cp_impl cp_impl_max_pool_avx2;
extern const cp_impl cp_impl_avg_pool_avx2;
extern const cp_impl cp_impl_global_max_pool_avx2;
extern const cp_impl cp_impl_global_avg_pool_avx2;
#endif
extern const cp_impl cp_impl_conv_ref;
extern const cp_impl cp_impl_max_pool_ref;
extern const cp_impl cp_impl_avg_pool_ref;
extern const cp_impl cp_impl_global_max_pool_ref;
extern const cp_impl cp_impl_global_avg_pool_ref;
extern const cp_impl cp_impl_conv_transpose_ref;
/* ops/impl_conv_transpose_gemm.c: on the Conv fast paths (a Conv per stride
 * phase, or a 1x1 Conv then col2im) */
extern const cp_impl cp_impl_conv_transpose_gemm;
extern const cp_impl cp_impl_lp_pool_ref;
extern const cp_impl cp_impl_global_lp_pool_ref;

#endif
