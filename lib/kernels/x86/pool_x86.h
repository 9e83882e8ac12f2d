/*
 * pool_x86.h - AVX2 and AVX-512 pooling kernels (NCHW, float32).
 *
 * Windowed pools compute LANES outputs at a time across the contiguous W
 * dimension, walking either strips (no depth: a band of chunks of LANES
 * columns of one plane, top to bottom) or output rows (row r is (plane,
 * od, oh) flattened, plane = n*C + c). Global pools work on groups of
 * LANES planes (group g = planes [g*LANES, (g+1)*LANES)), reduced together.
 * Each strip, row or group is computed the same way whichever range it is
 * part of, so results do not depend on how work is split across threads.
 *
 * Semantics are those of cp_ref_max_pool / cp_ref_avg_pool / cp_ref_lp_pool
 * exactly, except that sums accumulate in float (the reference uses
 * double); LpPool outputs whose float sum under- or overflows are finished
 * by the reference's formula in double.
 */
#ifndef CP_KERNELS_X86_POOL_X86_H
#define CP_KERNELS_X86_POOL_X86_H

#include <stdint.h>

#include "kernels/geom.h"

/* A kernel over tasks [begin, end) (rows, strips, bands or plane groups):
 * y gets the outputs, and `indices` MaxPool's Indices for the reduction
 * CP_POOL_MAX_IDX (NULL for the others). */
typedef void (*cp_pool_fn)(const cp_geom *g, const float *x, float *y, int64_t *indices,
                           int64_t begin, int64_t end);

/*
 * What a pooling kernel reduces over each window: the maximum (MaxPool;
 * with its Indices, the position of the maximum too), or the sum of a
 * per-tap term: x (AveragePool, then divided by the tap count), |x|, x^2
 * or |x|^p (LpPool with p = 1, 2 or another p, then the p-th root). Every
 * walk is written once over it; the kernel tables below hold one
 * specialisation per reduction.
 */
typedef enum cp_pool_red {
    CP_POOL_AVG,
    CP_POOL_MAX,
    CP_POOL_MAX_IDX, /* MaxPool writing Indices: windowed walks only */
    CP_POOL_LP1,
    CP_POOL_LP2,
    CP_POOL_LPP,
    CP_POOL_REDS /* the number of reductions */
} cp_pool_red;

/* The reduction of an op kind (CONVPOOL_OP_*_POOL) with LpPool's p, and
 * for MaxPool whether the run writes Indices. */
static inline cp_pool_red cp_pool_red_of(int is_max, int is_lp, int64_t p, int with_indices)
{
    if (is_max)
        return with_indices ? CP_POOL_MAX_IDX : CP_POOL_MAX;
    if (!is_lp)
        return CP_POOL_AVG;
    return p == 1 ? CP_POOL_LP1 : p == 2 ? CP_POOL_LP2 : CP_POOL_LPP;
}

typedef struct cp_pool_kernels {
    int32_t lanes;
    /* The walks, one kernel per reduction:
     *  - rows: output rows [row_begin, row_end) of all planes (any window);
     *  - strips: geometries without depth, as tasks of a band of column
     *    chunks of one plane; strip_tasks() is their count, 0 if the
     *    geometry does not suit them;
     *  - pairs: 2x2 windows at stride 2 wholly inside the plane (no padding
     *    or dilation), as tasks of output rows; pair_rows() counts them, 0
     *    if the geometry does not suit them;
     *  - win3: 3x3 windows at stride 1 or 2, dilation 1, pads of at most 1,
     *    as tasks of a band of column chunks of one plane; win3_tasks()
     *    counts them, 0 if the geometry does not suit them;
     *  - global: global pools over plane groups [group_begin, group_end)
     *    (no CP_POOL_MAX_IDX: global pools have no Indices). */
    cp_pool_fn rows[CP_POOL_REDS];
    cp_pool_fn strips[CP_POOL_REDS];
    cp_pool_fn pairs[CP_POOL_REDS];
    cp_pool_fn win3[CP_POOL_REDS];
    cp_pool_fn global[CP_POOL_REDS];
    int64_t (*strip_tasks)(const cp_geom *g);
    int64_t (*pair_rows)(const cp_geom *g);
    int64_t (*win3_tasks)(const cp_geom *g);
} cp_pool_kernels;

extern const cp_pool_kernels cp_pool_kernels_avx2;
extern const cp_pool_kernels cp_pool_kernels_avx512;

/*
 * Whether the kernels can take this geometry: they keep positions and
 * Indices within a plane in int32 lanes, so every position they form
 * (padding and the widest window included) must fit.
 */
static inline int cp_pool_x86_fits(const cp_geom *g)
{
    const int64_t limit = INT64_C(1) << 30;
    if (g->in[0] * g->in[1] * g->in[2] >= limit)
        return 0;
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        if (g->out[i] >= limit || g->stride[i] >= limit || g->kernel[i] >= limit ||
            g->dilation[i] >= limit || g->pad_begin[i] >= limit || g->pad_end[i] >= limit)
            return 0;
        /* each factor < 2^30: no int64 overflow */
        int64_t reach = (g->out[i] + 32) * g->stride[i] + g->kernel[i] * g->dilation[i] +
                        g->pad_begin[i] + g->pad_end[i];
        if (reach >= limit)
            return 0;
    }
    return 1;
}

#endif
