/*
 * conv_x86_wgrad.h - the weight gradient dw of Conv and ConvTranspose on
 * the x86 kernels of kernels/x86/grad_kernels.h, and what its two paths
 * share.
 *
 * With the correlation of cp_ref_conv_weight_grad (Conv: a = dy, b = x;
 * ConvTranspose: a = x, b = dy), row r of dw is an a channel and column
 * j = (b channel in the group, tap) of dw's own layout, so
 *     dw[r, j] = sum over pixels of a[r, u] * b[channel(j), u*stride + off(tap(j))]
 * over every position u of a's grid in every batch item. b is read in a
 * zero-padded frame (pdims) that holds every position a tap reaches, so no
 * term needs a bounds test; terms that read the padding add exact zeros.
 *
 * Four paths (conv_x86_wgrad.c picks one per run):
 *  - depthwise (conv_x86_wgrad_dw.c): one b channel per row of dw, on
 *    planes: each row reads a and b in place, vectors along a's rows.
 *  - outer (conv_x86_wgrad_outer.c): vectors run along dw's rows over a
 *    transposed chunk by chunk in each task's scratch; b broadcast from its
 *    frame in place. For long
 *    reductions on groups of many rows: dense convolutions on large planes
 *    (AVX-512; on AVX2 the lanes path measured faster).
 *  - lanes (conv_x86_wgrad_lanes.c): vectors run along the reduction, over
 *    rows of a laid out at b's padded (stride-phase) pitch; no gather.
 *    For long reductions: large planes, depthwise.
 *  - gemm (conv_x86_wgrad_gemm.c): vectors run along dw's columns over
 *    gathered panels of b. For short reductions on many rows: small planes.
 * In both, every dw element is summed by one task in an order fixed by the
 * geometry (and the cache sizes) alone: the same for any thread count.
 */
#ifndef CP_KERNELS_X86_CONV_X86_WGRAD_H
#define CP_KERNELS_X86_CONV_X86_WGRAD_H

#include "kernels/x86/grad_kernels.h"
#include "ops/impl.h"

typedef struct cp_wgrad_operands {
    const float *a, *b;
    int64_t a_ch, b_ch, a_pg, b_pg, group;
    int64_t a_dims[3], b_dims[3];
    int64_t pdims[3];   /* b's frame: padded, or b's own dims when none is needed */
    int64_t shift[3];   /* where b's position 0 lies in the frame */
    int64_t pplane;     /* pdims[0] * pdims[1] * pdims[2] */
    int padded;         /* the frame is larger than b */
    int64_t taps, cols; /* columns of a group: b_pg * taps */
    int64_t pixels;     /* the reduction: batch times a's plane */
} cp_wgrad_operands;

/* The operands of a run (x, dy may be NULL when only sizing). */
void cp_wgrad_operands_of(const convpool_op *op, const cp_geom *g, const float *x, const float *dy,
                          cp_wgrad_operands *o);

/* coff[j] for every column j < cols: its offset in b's frame from its
 * pixel's window origin (position u*stride of the frame), within its
 * group's planes. */
void cp_wgrad_column_offsets(const cp_wgrad_operands *o, const cp_geom *g, int64_t *coff);

/* Threads for a run: by its multiply-adds, at most the context's. */
int32_t cp_wgrad_threads(const cp_backward_args *a, const cp_wgrad_operands *o);

/* b's plane `plane` (n, channel) into its frame at dst (pplane floats). */
void cp_wgrad_frame_plane(const cp_wgrad_operands *o, int64_t plane, float *dst);

size_t cp_x86_wgrad_gemm_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                   const cp_grad_kernels *k);
/* Also writes a Conv's db when a->db is set (a is dy): returns whether
 * it did. */
int cp_x86_wgrad_gemm(const cp_backward_args *a, const cp_grad_kernels *k,
                      const cp_wgrad_operands *o);

/* Whether the depthwise path takes this run: every dw row reads one
 * channel of b, on planes, stride_w 1 or 2, kernel_w up to
 * CP_GRAD_DW_KW_MAX. It needs no workspace. */
int cp_x86_wgrad_dw_fit(const cp_wgrad_operands *o, const cp_geom *g);
/* Also writes a Conv's db when a->db is set (a is dy): returns whether
 * it did. */
int cp_x86_wgrad_dw(const cp_backward_args *a, const cp_grad_kernels *k,
                    const cp_wgrad_operands *o);

/* Whether the outer path suits this run: planes of at least a few hundred
 * pixels, groups of many columns, and a group's rows filling the slabs of
 * vectors. */
int cp_x86_wgrad_outer_fit(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k);
size_t cp_x86_wgrad_outer_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k);
/* Also writes a Conv's db when a->db is set and the path runs on a and b
 * swapped (b is dy): returns whether it did. */
int cp_x86_wgrad_outer(const cp_backward_args *a, const cp_grad_kernels *k,
                       const cp_wgrad_operands *o);

/* Whether the lanes path suits this run (else the gemm path). */
int cp_x86_wgrad_lanes_fit(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k);
size_t cp_x86_wgrad_lanes_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k);
/* Also writes a Conv's db when a->db is set (a is dy): returns whether
 * it did. */
int cp_x86_wgrad_lanes(const cp_backward_args *a, const cp_grad_kernels *k,
                       const cp_wgrad_operands *o);

/* The workspace bytes cp_x86_weight_grad needs on `threads` threads. */
size_t cp_x86_weight_grad_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k);

/* dw of a backward_weights run (a->dw not NULL) on a->workspace, and db
 * when a->db is set and the path takes it along: returns whether it did. */
int cp_x86_weight_grad(const cp_backward_args *a, const cp_grad_kernels *k);

/* db (a->db not NULL): per channel, the kernels' sum of dy, one task per
 * channel. */
void cp_x86_bias_grad(const cp_backward_args *a, const cp_grad_kernels *k);

#endif
