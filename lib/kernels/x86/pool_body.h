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
 * Two walks:
 *  - strips (no depth): a task is a band of chunks of one plane walked top
 *    to bottom; each input row is reduced along W once into a small ring
 *    (AVX-512 without Indices: the row's columns are loaded once and each
 *    tap's lanes taken by permutes; with Indices: value, column and
 *    any-tap mask per lane), and each output row combines the ring rows of
 *    its window in order;
 *  - rows (3-D): a task is an output row; its input rows are listed once,
 *    then each chunk reads them tap by tap in row-major order, tracking
 *    value and int32 position with blends for Indices.
 *
 * MaxPool rule (as cp_ref_max_pool): taps in row-major order; a tap wins if
 * it is greater than the best so far, or NaN while the best is not: the
 * first maximum and the first NaN win. With Indices this is done per tap
 * (compare, two blends). Without, a plain vector max (which keeps the
 * earlier value on ties) and a running sum of the values read, which turns
 * NaN if one was NaN; the rare outputs whose window may hold a NaN are
 * recomputed by scalar code under the reference rule. (Only the sign of a
 * zero maximum can differ from the reference when -0 and +0 tie.)
 *
 * AveragePool: a float sum per lane divided by the per-lane tap count
 * (from the same masks, with the padded bounds when count_include_pad is
 * set); strips multiply by its reciprocal, computed once per divisor.
 *
 * Global pools: each plane summed (or maxed) into a vector, then LANES
 * planes reduced together by a transpose tree, so small planes (7x7) cost
 * a few instructions each instead of a horizontal reduction apiece.
 */
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

const cp_pool_kernels POOL_CAT(cp_pool_kernels, CP_POOL_ISA) = {
    .lanes = LANES,
    .max_rows = POOL_FN(max_rows),
    .avg_rows = POOL_FN(avg_rows),
    .global_max = POOL_FN(global_max),
    .global_avg = POOL_FN(global_avg),
    .strip_tasks = POOL_FN(strip_tasks),
    .max_strips = POOL_FN(max_strips),
    .avg_strips = POOL_FN(avg_strips),
    .pair_rows = POOL_FN(pair_rows),
    .max_pairs = POOL_FN(max_pairs),
    .avg_pairs = POOL_FN(avg_pairs),
    .win3_tasks = POOL_FN(win3_tasks),
    .max_win3 = POOL_FN(max_win3),
    .avg_win3 = POOL_FN(avg_win3),
};
