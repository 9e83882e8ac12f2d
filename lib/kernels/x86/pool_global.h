/*
 * pool_global.h - GlobalMaxPool, GlobalAveragePool and GlobalLpPool: planes
 * reduced to vectors, LANES planes at a time by a transpose tree.
 * Part of the pooling kernel template: included only by pool_body.h, once
 * per ISA, after the vector vocabulary is defined.
 */
/* The reduction of one plane's n values as a vector of partial results;
 * *nan_seen is set if a value was NaN (max only). Fixed order for a given n. */
CP_INLINE vf plane_reduce(const float *p, int64_t n, int red, int32_t lp, int *nan_seen)
{
    const int is_max = red == CP_POOL_MAX;
    const vf init = red_fill(red);
    vf a0 = init, a1 = init, a2 = init, a3 = init, nan_sum = vf_zero();
#define POOL_ACC(a, v) ((a) = red_acc(red, (a), red_term(red, (v), lp)))
    int64_t i = 0;
    for (; i + 4 * LANES <= n; i += 4 * LANES) {
        vf v0 = vf_loadu(p + i), v1 = vf_loadu(p + i + LANES);
        vf v2 = vf_loadu(p + i + 2 * LANES), v3 = vf_loadu(p + i + 3 * LANES);
        POOL_ACC(a0, v0);
        POOL_ACC(a1, v1);
        POOL_ACC(a2, v2);
        POOL_ACC(a3, v3);
        if (is_max)
            nan_sum = vf_add(nan_sum, vf_add(vf_add(v0, v1), vf_add(v2, v3)));
    }
    for (; i + LANES <= n; i += LANES) {
        vf v = vf_loadu(p + i);
        POOL_ACC(a0, v);
        if (is_max)
            nan_sum = vf_add(nan_sum, v);
    }
    if (i < n) {
        vm m = vm_range(vi_iota(), 0, (int32_t)(n - i));
        vf v = vf_loadz(m, p + i);
        if (is_max) {
            nan_sum = vf_add(nan_sum, v);
            v = vf_select(m, init, v);
        }
        POOL_ACC(a1, v);
    }
#undef POOL_ACC
    if (is_max)
        *nan_seen = vm_bits(vm_isnan(nan_sum)) != 0;
    return red_acc(red, red_acc(red, a0, a1), red_acc(red, a2, a3));
}

/*
 * The same for planes of at most 4 * LANES values (7x7 and smaller, the
 * usual global pools): four loads, no loop. The first `full` loads are
 * plain (a masked load is slower, even with every lane set); the rest
 * take `masks`, the lanes of each load that lie in the plane (a load with
 * an empty mask reads nothing, so it cannot fault). Both fixed per call.
 */
CP_INLINE vf small_load(const float *p, int k, int full, vm mask)
{
    return k < full ? vf_loadu(p + k * LANES) : vf_loadz(mask, p + k * LANES);
}

CP_INLINE vf small_plane_reduce(const float *p, int full, const vm masks[4], int red, int32_t lp,
                                int *nan_seen)
{
    vf v0 = small_load(p, 0, full, masks[0]), v1 = small_load(p, 1, full, masks[1]);
    vf v2 = small_load(p, 2, full, masks[2]), v3 = small_load(p, 3, full, masks[3]);
    if (red != CP_POOL_MAX) /* masked-off lanes are 0, whose term is 0 */
        return vf_add(vf_add(red_term(red, v0, lp), red_term(red, v1, lp)),
                      vf_add(red_term(red, v2, lp), red_term(red, v3, lp)));
    *nan_seen = vm_bits(vm_isnan(vf_add(vf_add(v0, v1), vf_add(v2, v3)))) != 0;
    const vf lo = vf_set1(-INFINITY);
    v0 = vf_select(masks[0], lo, v0);
    v1 = vf_select(masks[1], lo, v1);
    v2 = vf_select(masks[2], lo, v2);
    v3 = vf_select(masks[3], lo, v3);
    return vf_max(vf_max(v0, v1), vf_max(v2, v3));
}

CP_INLINE void global_groups(const cp_geom *g, const float *x, float *y, int64_t group_begin,
                             int64_t group_end, int red, const int full)
{
    const int64_t S = cp_geom_in_plane(g), planes = g->n * g->c;
    const int32_t lp = (int32_t)g->p;
    const int small = S <= 4 * LANES;
    vm masks[4];
    for (int k = 0; k < 4; k++)
        masks[k] = vm_range(vi_iota(), 0, small ? (int32_t)(S - k * LANES) : 0);
    const pool_row row = row_at(0, 0, 0); /* the one output of every plane */
    for (int64_t grp = group_begin; grp < group_end; grp++) {
        const int64_t p0 = grp * LANES;
        const int np = planes - p0 < LANES ? (int)(planes - p0) : LANES;
        vf acc[LANES];
        unsigned nan_planes = 0;
        if (small && np == LANES) {
            /* the common case, unrolled so that acc stays in registers */
#pragma GCC unroll 16
            for (int j = 0; j < LANES; j++) {
                int nan_seen = 0;
                acc[j] = small_plane_reduce(x + (p0 + j) * S, full, masks, red, lp, &nan_seen);
                nan_planes |= (unsigned)nan_seen << j;
            }
        } else {
            for (int j = 0; j < LANES; j++) {
                int nan_seen = 0;
                if (j >= np)
                    acc[j] = vf_zero();
                else if (small)
                    acc[j] = small_plane_reduce(x + (p0 + j) * S, full, masks, red, lp, &nan_seen);
                else
                    acc[j] = plane_reduce(x + (p0 + j) * S, S, red, lp, &nan_seen);
                nan_planes |= (unsigned)nan_seen << j;
            }
        }
        vf r = vf_reduce_each(acc, red == CP_POOL_MAX);
        if (red == CP_POOL_AVG)
            r = vf_div(r, vf_set1((float)S));
        /* lane j is plane p0 + j: the first NaN of a plane by the reference rule */
        const pool_lanes at = {&row, x + p0 * S, 0, 0, S, np, 0, NULL, 0, 0};
        put_chunk(g, &at, r, vi_set1(0), nan_planes, red, y + p0, NULL);
    }
}

/* Small planes dispatched on their count of whole vectors, a constant in
 * each variant, so that their loads need no test. */
CP_INLINE void global_pool(const cp_geom *g, const float *x, float *y, int64_t *indices,
                           int64_t group_begin, int64_t group_end, int red)
{
    (void)indices; /* global pools have no Indices */
    const int64_t S = cp_geom_in_plane(g);
    switch (S <= 4 * LANES ? S / LANES : 0) {
    case 1: global_groups(g, x, y, group_begin, group_end, red, 1); break;
    case 2: global_groups(g, x, y, group_begin, group_end, red, 2); break;
    case 3: global_groups(g, x, y, group_begin, group_end, red, 3); break;
    case 4: global_groups(g, x, y, group_begin, group_end, red, 4); break;
    default: global_groups(g, x, y, group_begin, group_end, red, 0); break;
    }
}

POOL_VALUE_KERNELS(global, global_pool)
