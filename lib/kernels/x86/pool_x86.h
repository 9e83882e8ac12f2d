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
 * Semantics are those of cp_ref_max_pool / cp_ref_avg_pool exactly, except
 * that averages accumulate in float (the reference uses double).
 */
#ifndef CP_KERNELS_X86_POOL_X86_H
#define CP_KERNELS_X86_POOL_X86_H

#include <stdint.h>

#include "kernels/geom.h"

/* A kernel over tasks [begin, end) (rows, strips, bands or plane groups). */
typedef void (*cp_pool_range_fn)(const cp_geom *g, const float *x, float *y, int64_t begin,
                                 int64_t end);
/* The same for MaxPool kernels that also write Indices (may be NULL). */
typedef void (*cp_pool_indexed_fn)(const cp_geom *g, const float *x, float *y, int64_t *indices,
                                   int64_t begin, int64_t end);

typedef struct cp_pool_kernels {
    int32_t lanes;
    /* MaxPool over rows [row_begin, row_end); indices may be NULL. */
    cp_pool_indexed_fn max_rows;
    cp_pool_range_fn avg_rows;
    /* Global pools over plane groups [group_begin, group_end). */
    cp_pool_range_fn global_max;
    cp_pool_range_fn global_avg;
    /* Strips: MaxPool (indices may be NULL) and AveragePool on geometries
     * without depth, as tasks of a band of column chunks of one plane each.
     * strip_tasks() is their count, 0 if the geometry does not suit them. */
    int64_t (*strip_tasks)(const cp_geom *g);
    cp_pool_indexed_fn max_strips;
    cp_pool_range_fn avg_strips;
    /* 2x2 windows at stride 2 wholly inside the plane (no padding or
     * dilation; MaxPool without Indices, AveragePool), as tasks of output
     * rows [row_begin, row_end) over all planes; pair_rows() is their
     * count, 0 if the geometry does not suit them. */
    int64_t (*pair_rows)(const cp_geom *g);
    cp_pool_range_fn max_pairs;
    cp_pool_range_fn avg_pairs;
    /* 3x3 windows at stride 1 or 2, dilation 1, pads of at most 1 (MaxPool
     * without Indices, AveragePool), as tasks of a band of column chunks
     * of one plane; win3_tasks() is their count, 0 if the geometry does
     * not suit them. */
    int64_t (*win3_tasks)(const cp_geom *g);
    cp_pool_range_fn max_win3;
    cp_pool_range_fn avg_win3;
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
