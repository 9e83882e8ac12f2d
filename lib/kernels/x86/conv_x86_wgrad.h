/*
 * conv_x86_wgrad.h - the weight gradient dw of Conv and ConvTranspose on
 * the x86 GEMM kernel of kernels/x86/grad_kernels.h (conv_x86_wgrad.c).
 */
#ifndef CP_KERNELS_X86_CONV_X86_WGRAD_H
#define CP_KERNELS_X86_CONV_X86_WGRAD_H

#include "kernels/x86/grad_kernels.h"
#include "ops/impl.h"

/* The workspace bytes cp_x86_weight_grad needs on `threads` threads. */
size_t cp_x86_weight_grad_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k);

/* dw of a backward_weights run (a->dw not NULL) on a->workspace. */
void cp_x86_weight_grad(const cp_backward_args *a, const cp_grad_kernels *k);

#endif
