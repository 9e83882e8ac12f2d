/*
 * The AVX-512 and AVX2 pooling implementations: every pooling attribute
 * (pads, auto_pad, ceil_mode, dilations, count_include_pad, storage_order,
 * Indices) is handled by the SIMD kernels of kernels/x86/pool_*, so
 * supports() accepts every op. Work is split over strips (bands of columns
 * of one plane: 1-D and 2-D windows), output rows (3-D windows) or groups
 * of planes (global pools); each is computed the same way whichever thread
 * takes it, so results are bitwise identical for any thread count.
 */
#include "kernels/x86/pool_x86.h"
#include "ops/impl.h"
#include "runtime/threadpool.h"

/* Below this many taps (window elements read) per thread a run stays on
 * fewer threads: waking one costs a few microseconds. 16384 taps are about
 * 1-2 us of work; on an idle machine GlobalAveragePool over 2048 7x7 planes
 * (100352 taps) then takes 4 us on 2 threads instead of 7 on 1. */
#define CP_POOL_MIN_TAPS_PER_THREAD 16384

typedef struct pool_job {
    const cp_run_args *a;
    const cp_pool_kernels *k;
} pool_job;

static void max_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->max_rows(j->a->geom, j->a->x, j->a->y, j->a->indices, begin, end);
}

static void avg_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->avg_rows(j->a->geom, j->a->x, j->a->y, begin, end);
}

static void max_pair_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->max_pairs(j->a->geom, j->a->x, j->a->y, begin, end);
}

static void avg_pair_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->avg_pairs(j->a->geom, j->a->x, j->a->y, begin, end);
}

static void max_strip_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->max_strips(j->a->geom, j->a->x, j->a->y, j->a->indices, begin, end);
}

static void avg_strip_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->avg_strips(j->a->geom, j->a->x, j->a->y, begin, end);
}

static void global_max_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->global_max(j->a->geom, j->a->x, j->a->y, begin, end);
}

static void global_avg_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->k->global_avg(j->a->geom, j->a->x, j->a->y, begin, end);
}

/* The reference impl of the same kind, for geometries too large for the
 * kernels' int32 positions (planes of 2^30 elements and more). */
static const cp_impl *reference_for(int32_t kind)
{
    switch (kind) {
    case CONVPOOL_OP_MAX_POOL: return &cp_impl_max_pool_ref;
    case CONVPOOL_OP_AVERAGE_POOL: return &cp_impl_avg_pool_ref;
    case CONVPOOL_OP_GLOBAL_MAX_POOL: return &cp_impl_global_max_pool_ref;
    default: return &cp_impl_global_avg_pool_ref;
    }
}

static void pool_run(const cp_run_args *a, const cp_pool_kernels *k)
{
    const cp_geom *g = a->geom;
    const int32_t kind = a->op->attrs.kind;
    if (!cp_pool_x86_fits(g)) {
        reference_for(kind)->run(a);
        return;
    }
    pool_job job = {a, k};
    const int64_t planes = g->n * g->c;
    const int64_t taps = planes * cp_geom_out_plane(g) * g->kernel[0] * g->kernel[1] * g->kernel[2];
    const int32_t threads = cp_threads_for_work(taps, CP_POOL_MIN_TAPS_PER_THREAD);
    if (kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL) {
        int64_t groups = (planes + k->lanes - 1) / k->lanes;
        cp_parallel_for(a->ctx, groups, threads,
                        kind == CONVPOOL_OP_GLOBAL_MAX_POOL ? global_max_task : global_avg_task,
                        &job);
        return;
    }
    const int64_t pair_rows = a->indices ? 0 : k->pair_rows(g);
    if (pair_rows > 0) {
        cp_parallel_for(a->ctx, pair_rows, threads,
                        kind == CONVPOOL_OP_MAX_POOL ? max_pair_task : avg_pair_task, &job);
        return;
    }
    const int64_t strips = k->strip_tasks(g);
    if (strips > 0) {
        cp_parallel_for(a->ctx, strips, threads,
                        kind == CONVPOOL_OP_MAX_POOL ? max_strip_task : avg_strip_task, &job);
        return;
    }
    int64_t rows = planes * g->out[0] * g->out[1];
    cp_parallel_for(a->ctx, rows, threads, kind == CONVPOOL_OP_MAX_POOL ? max_task : avg_task,
                    &job);
}

static void run_avx512(const cp_run_args *a)
{
    pool_run(a, &cp_pool_kernels_avx512);
}

static void run_avx2(const cp_run_args *a)
{
    pool_run(a, &cp_pool_kernels_avx2);
}

#define POOL_IMPL(var, label, op_kind, isa_level, run_fn)                                          \
    const cp_impl var = {.name = label, .kind = op_kind, .isa = isa_level, .run = run_fn}

POOL_IMPL(cp_impl_max_pool_avx512, "max_pool.avx512", CONVPOOL_OP_MAX_POOL, CONVPOOL_ISA_AVX512,
          run_avx512);
POOL_IMPL(cp_impl_avg_pool_avx512, "avg_pool.avx512", CONVPOOL_OP_AVERAGE_POOL, CONVPOOL_ISA_AVX512,
          run_avx512);
POOL_IMPL(cp_impl_global_max_pool_avx512, "global_max_pool.avx512", CONVPOOL_OP_GLOBAL_MAX_POOL,
          CONVPOOL_ISA_AVX512, run_avx512);
POOL_IMPL(cp_impl_global_avg_pool_avx512, "global_avg_pool.avx512", CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
          CONVPOOL_ISA_AVX512, run_avx512);
POOL_IMPL(cp_impl_max_pool_avx2, "max_pool.avx2", CONVPOOL_OP_MAX_POOL, CONVPOOL_ISA_AVX2,
          run_avx2);
POOL_IMPL(cp_impl_avg_pool_avx2, "avg_pool.avx2", CONVPOOL_OP_AVERAGE_POOL, CONVPOOL_ISA_AVX2,
          run_avx2);
POOL_IMPL(cp_impl_global_max_pool_avx2, "global_max_pool.avx2", CONVPOOL_OP_GLOBAL_MAX_POOL,
          CONVPOOL_ISA_AVX2, run_avx2);
POOL_IMPL(cp_impl_global_avg_pool_avx2, "global_avg_pool.avx2", CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
          CONVPOOL_ISA_AVX2, run_avx2);
