/*
 * pool_body.h - the SIMD pooling kernels, written once over a small vector
 * vocabulary (vf, vi, vm, LANES and the vf_/vi_/vm_ helpers) that
 * pool_avx512.c and pool_avx2.c define before including this file.
 *
 * Outputs are computed LANES at a time along the contiguous W dimension,
 * in one pass with no temporaries. Along W a chunk of LANES outputs is
 * "interior" when every tap of every lane lies inside the row: it uses
 * plain loads (stride 1), two loads and an even-lane permute (stride 2), or
 * a gather (other strides). Other chunks (padding, ceil_mode windows, the
 * tail) use the same loads masked lane by lane, with the masks of the
 * chunks at both ends computed once per call; masked-off lanes read no
 * memory, so nothing outside the input is touched. Dilation only changes
 * tap offsets, so it stays on these paths.
 *
 * Every walk is written once over the reduction (cp_pool_red: max, max
 * with its position for Indices, or a sum of per-tap terms for AveragePool
 * and LpPool) and specialised per reduction; one walk per window shape:
 * 2x2/2 windows inside the plane (pool_pairs.h), 3x3 windows at stride
 * <= 2 with pads <= 1 (pool_win3.h), then the general walks:
 *  - strips (no depth): a task is a band of chunks of one plane walked top
 *    to bottom; each input row is reduced along W once into a small ring
 *    (AVX-512: the row's columns are loaded once and each tap's lanes taken
 *    by permutes), and each output row combines the ring rows of its
 *    window in order;
 *  - rows (3-D): a task is an output row; its input rows are listed once,
 *    then each chunk reads them tap by tap in row-major order.
 *
 * MaxPool rule (as cp_ref_max_pool): taps in row-major order; a tap wins if
 * it is greater than the best so far, or NaN while the best is not: the
 * first maximum and the first NaN win. Without Indices, a plain vector max
 * (which keeps the earlier value on ties); with them, the same max and
 * each lane's position as an int32 (in the op's storage order, within the
 * plane), replaced by a blend where the tap is greater (red_acc_at), and
 * widened to the int64 flat index only when stored. Both keep a running
 * sum of the values read, which turns NaN if one was NaN; the rare outputs
 * whose window may hold a NaN, and with Indices those whose maximum is
 * -inf (padding reads as -inf, so a padded tap may hold the position),
 * are recomputed by scalar code under the reference rule. (Without
 * Indices, only the sign of a zero maximum can differ from the reference
 * when -0 and +0 tie.)
 *
 * AveragePool: a float sum per lane divided by the per-lane tap count
 * (from the same masks, with the padded bounds when count_include_pad is
 * set); strips multiply by its reciprocal, computed once per divisor.
 *
 * LpPool: a float sum per lane of |x| (p = 1), x*x (p = 2) or |x|^p by
 * repeated squaring (other p), then the root: sqrt in vector, other roots
 * in double per output. Padding adds nothing. Outputs whose float sum left
 * [POOL_LP_SUM_MIN, FLT_MAX] (a term underflowed or the sum overflowed,
 * where the reference's double did not) are recomputed by the reference's
 * formula, so the fast path stays within a few float ulps of the
 * reference (see put_chunk).
 *
 * All of these results go through put_chunk (pool_common.h), the one place
 * where a chunk is finished, fixed up by the reference rule and stored.
 *
 * Global pools: each plane summed (or maxed) into a vector, then LANES
 * planes reduced together by a transpose tree, so small planes (7x7) cost
 * a few instructions each instead of a horizontal reduction apiece.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>

#define POOL_CAT_(a, b) a##_##b
#define POOL_CAT(a, b)  POOL_CAT_(a, b)
#define POOL_FN(name)   POOL_CAT(name, CP_POOL_ISA)

#include "kernels/x86/pool_common.h"
#include "kernels/x86/pool_rows.h"
#include "kernels/x86/pool_strips.h"
#include "kernels/x86/pool_global.h"
#include "kernels/x86/pool_pairs.h"
#include "kernels/x86/pool_win3.h"

/* One kernel per reduction, in cp_pool_red order (global pools: no
 * CP_POOL_MAX_IDX). */
#define POOL_VALUE_REDS(walk)                                                                      \
    [CP_POOL_AVG] = POOL_FN(avg_##walk), [CP_POOL_MAX] = POOL_FN(max_##walk),                      \
    [CP_POOL_LP1] = POOL_FN(lp1_##walk), [CP_POOL_LP2] = POOL_FN(lp2_##walk),                      \
    [CP_POOL_LPP] = POOL_FN(lpp_##walk)
#define POOL_BY_RED(walk)                                                                          \
    {                                                                                              \
        POOL_VALUE_REDS(walk)                                                                      \
    }
#define POOL_BY_RED_IDX(walk)                                                                      \
    {                                                                                              \
        POOL_VALUE_REDS(walk), [CP_POOL_MAX_IDX] = POOL_FN(max_idx_##walk)                         \
    }

const cp_pool_kernels POOL_CAT(cp_pool_kernels, CP_POOL_ISA) = {
    .lanes = LANES,
    .rows = POOL_BY_RED_IDX(rows),
    .strips = POOL_BY_RED_IDX(strips),
    .pairs = POOL_BY_RED_IDX(pairs),
    .win3 = POOL_BY_RED_IDX(win3),
    .global = POOL_BY_RED(global),
    .strip_tasks = POOL_FN(strip_tasks),
    .pair_rows = POOL_FN(pair_rows),
    .win3_tasks = POOL_FN(win3_tasks),
};
