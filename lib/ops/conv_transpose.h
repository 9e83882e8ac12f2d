/*
 * conv_transpose.h - what the three files of the ConvTranspose fast path
 * share: impl_conv_transpose.c (the cp_impl, which way an op takes, its
 * packed state, the depth-to-space way), conv_transpose_phases.c (the
 * stride-phase way) and conv_transpose_col2im.c (the GEMM way: columns,
 * then the scatter-add). Private to them.
 */
#ifndef CP_OPS_CONV_TRANSPOSE_H
#define CP_OPS_CONV_TRANSPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "ops/impl.h"

/* Below this many element writes (the phases' interleave, the scatter) a
 * plane loop stays on one thread. */
#define CP_COL2IM_MIN_WORK_PER_THREAD 32768
/* At most this many stride phases (the product of the strides) take the
 * phase way; more small Convs would each be too small to run well. */
#define CP_MAX_PHASES 16

/* An op's packed state (op->packed), for whichever way it took. */
typedef struct cp_conv_transpose_packed {
    /* GEMM and depth-to-space ways: the 1x1 Conv (N, C, in...) -> (N, M*K,
     * in...), without bias (GEMM way) or with bias[m] on rows (m, k...) */
    convpool_op *inner;
    int depth_to_space;            /* inner runs depth to space, stride = kernel */
    int64_t block[CP_MAX_SPATIAL]; /* that way: the strides, 3-D as in cp_geom */
    float *bias;                   /* M values, zeros if the op has none */
    int64_t taps;                  /* K = prod(kernel) */
    /* Phase way (inner NULL): one Conv per stride phase, and each phase's
     * residue (o + pad_begin) mod stride per dim, 3-D as in cp_geom. */
    int64_t phases;
    convpool_op *phase[CP_MAX_PHASES];
    int64_t residue[CP_MAX_PHASES][CP_MAX_SPATIAL];
} cp_conv_transpose_packed;

/* The geometry of an inner Conv (the GEMM's 1x1, a phase's) on n items of
 * the op's input. */
convpool_status cp_conv_transpose_inner_geom(const convpool_op *conv, const cp_geom *g, int64_t n,
                                             cp_geom *cg);

/* conv_transpose_phases.c: whether the op splits into stride phases; their
 * Convs (wf: room for all weights); a run's workspace (0 if the geometry
 * does not resolve, unreachable); a run. */
int cp_phases_fit(const convpool_op *op);
convpool_status cp_phases_prepare(convpool_op *op, cp_conv_transpose_packed *pk,
                                  const float *weight, const float *bias, float *wf);
size_t cp_phases_workspace_size(const cp_conv_transpose_packed *pk, const cp_geom *g,
                                int32_t threads);
void cp_phases_run(const cp_run_args *a, const cp_conv_transpose_packed *pk);

/* conv_transpose_col2im.c: the GEMM way's workspace and run (pk->inner is
 * the 1x1 Conv without bias). */
size_t cp_col2im_workspace_size(const cp_conv_transpose_packed *pk, const cp_geom *g,
                                int32_t threads);
void cp_col2im_run(const cp_run_args *a, const cp_conv_transpose_packed *pk);

#endif
