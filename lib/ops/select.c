/* Picks an op's implementation once, at creation: the first entry of the
 * table below, best first, whose ISA is enabled and which supports the op.
 * The reference impls close the table and accept everything. */
#include <stddef.h>

#include "ops/impl.h"

static const cp_impl *const impls[] = {
#if defined(CP_X86_64)
    &cp_impl_conv_avx512,
    &cp_impl_conv_avx2,
#endif
    &cp_impl_conv_ref,
#if defined(CP_X86_64)
    &cp_impl_max_pool_avx512,
    &cp_impl_avg_pool_avx512,
    &cp_impl_global_max_pool_avx512,
    &cp_impl_global_avg_pool_avx512,
    &cp_impl_max_pool_avx2,
    &cp_impl_avg_pool_avx2,
    &cp_impl_global_max_pool_avx2,
    &cp_impl_global_avg_pool_avx2,
#endif
    &cp_impl_max_pool_ref,
    &cp_impl_avg_pool_ref,
    &cp_impl_global_max_pool_ref,
    &cp_impl_global_avg_pool_ref,
#if defined(CP_X86_64)
    &cp_impl_conv_transpose_depthwise_avx512,
    &cp_impl_conv_transpose_depthwise_avx2,
#endif
    &cp_impl_conv_transpose_on_conv,
    &cp_impl_conv_transpose_ref,
#if defined(CP_X86_64)
    &cp_impl_lp_pool_avx512,
    &cp_impl_global_lp_pool_avx512,
    &cp_impl_lp_pool_avx2,
    &cp_impl_global_lp_pool_avx2,
#endif
    &cp_impl_lp_pool_ref,
    &cp_impl_global_lp_pool_ref,
};

const cp_impl *cp_select_impl(const convpool_op *op, int32_t isa)
{
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        const cp_impl *impl = impls[i];
        if (impl->kind == op->attrs.kind && impl->isa <= isa &&
            (!impl->supports || impl->supports(op)))
            return impl;
    }
    return NULL; /* unreachable: every kind has a reference impl */
}

static const cp_backward_impl *const backward_impls[] = {
#if defined(CP_X86_64)
    &cp_backward_conv_avx512,
    &cp_backward_conv_avx2,
    &cp_backward_conv_transpose_avx512,
    &cp_backward_conv_transpose_avx2,
#endif
    &cp_backward_conv_ref,
    &cp_backward_conv_transpose_ref,
#if defined(CP_X86_64)
    &cp_backward_max_pool_avx512,
    &cp_backward_max_pool_avx2,
    &cp_backward_global_avg_pool_x86,
    &cp_backward_avg_pool_avx512,
    &cp_backward_avg_pool_avx2,
#endif
    &cp_backward_max_pool_ref,
    &cp_backward_avg_pool_ref,
    &cp_backward_global_max_pool_ref,
    &cp_backward_global_avg_pool_ref,
    &cp_backward_lp_pool_ref,
    &cp_backward_global_lp_pool_ref,
};

const cp_backward_impl *cp_select_backward_impl(const convpool_op *op, int32_t isa)
{
    for (size_t i = 0; i < sizeof backward_impls / sizeof backward_impls[0]; i++) {
        const cp_backward_impl *impl = backward_impls[i];
        if (impl->kind == op->attrs.kind && impl->isa <= isa &&
            (!impl->supports || impl->supports(op)))
            return impl;
    }
    return NULL; /* unreachable: every kind has a reference backward impl */
}
