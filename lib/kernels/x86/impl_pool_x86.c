/*
 * The AVX-512 and AVX2 pooling implementations (MaxPool, AveragePool,
 * LpPool and their global forms): every pooling attribute (pads, auto_pad,
 * ceil_mode, dilations, count_include_pad, storage_order, Indices, p) is
 * handled by the SIMD kernels of kernels/x86/pool_*, so supports() accepts
 * every op. Work is split over strips (bands of columns
 * of one plane: 1-D and 2-D windows), output rows (3-D windows) or groups
 * of planes (global pools); each is computed the same way whichever thread
 * takes it, so results are bitwise identical for any thread count.
 */
#include "kernels/x86/pool_x86.h"
#include "ops/impl.h"
#include "runtime/threadpool.h"

/* Below this many taps (window elements read) per thread a run stays on
 * fewer threads: waking one and joining it costs a few microseconds, about
 * what this many taps take from L2 (a GlobalAveragePool of 2048x7x7, 100K
 * taps, took 4.5 us on one thread and 6.3 on two), so a thread below it
 * would cost more than it saves. */
#define CP_POOL_MIN_TAPS_PER_THREAD 65536

/* A run split into tasks: a kernel over a task range. */
typedef struct pool_job {
    const cp_run_args *a;
    cp_pool_fn fn;
} pool_job;

static void pool_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const pool_job *j = arg;
    j->fn(j->a->geom, j->a->x, j->a->y, j->a->indices, begin, end);
}

/* Runs fn over `tasks` tasks. */
static void run_tasks(const cp_run_args *a, int64_t tasks, int32_t threads, cp_pool_fn fn)
{
    pool_job job = {a, fn};
    cp_parallel_for(a->ctx, tasks, threads, pool_task, &job);
}

/* The reference impl of the same kind, for geometries too large for the
 * kernels' int32 positions (planes of 2^30 elements and more). */
static const cp_impl *reference_for(int32_t kind)
{
    switch (kind) {
    case CONVPOOL_OP_MAX_POOL: return &cp_impl_max_pool_ref;
    case CONVPOOL_OP_AVERAGE_POOL: return &cp_impl_avg_pool_ref;
    case CONVPOOL_OP_GLOBAL_MAX_POOL: return &cp_impl_global_max_pool_ref;
    case CONVPOOL_OP_LP_POOL: return &cp_impl_lp_pool_ref;
    case CONVPOOL_OP_GLOBAL_LP_POOL: return &cp_impl_global_lp_pool_ref;
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
    const int64_t planes = g->n * g->c;
    const int64_t taps = planes * cp_geom_out_plane(g) * g->kernel[0] * g->kernel[1] * g->kernel[2];
    const int32_t threads = cp_threads_for_work(taps, CP_POOL_MIN_TAPS_PER_THREAD);
    /* MaxPool with Indices is a reduction of its own (the maximum and its
     * position), on the same walks as the others */
    const cp_pool_red red =
        cp_pool_red_of(kind == CONVPOOL_OP_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_MAX_POOL,
                       kind == CONVPOOL_OP_LP_POOL || kind == CONVPOOL_OP_GLOBAL_LP_POOL, g->p,
                       a->indices != NULL);
    if (kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
        kind == CONVPOOL_OP_GLOBAL_LP_POOL) {
        run_tasks(a, (planes + k->lanes - 1) / k->lanes, threads, k->global[red]);
        return;
    }
    /* the dedicated window shapes, then the general walks */
    const int64_t pair_rows = k->pair_rows(g);
    if (pair_rows > 0) {
        run_tasks(a, pair_rows, threads, k->pairs[red]);
        return;
    }
    const int64_t win3_tasks = k->win3_tasks(g);
    if (win3_tasks > 0) {
        run_tasks(a, win3_tasks, threads, k->win3[red]);
        return;
    }
    const int64_t strips = k->strip_tasks(g);
    if (strips > 0) {
        run_tasks(a, strips, threads, k->strips[red]);
        return;
    }
    run_tasks(a, planes * g->out[0] * g->out[1], threads, k->rows[red]);
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
POOL_IMPL(cp_impl_lp_pool_avx512, "lp_pool.avx512", CONVPOOL_OP_LP_POOL, CONVPOOL_ISA_AVX512,
          run_avx512);
POOL_IMPL(cp_impl_global_lp_pool_avx512, "global_lp_pool.avx512", CONVPOOL_OP_GLOBAL_LP_POOL,
          CONVPOOL_ISA_AVX512, run_avx512);
POOL_IMPL(cp_impl_max_pool_avx2, "max_pool.avx2", CONVPOOL_OP_MAX_POOL, CONVPOOL_ISA_AVX2,
          run_avx2);
POOL_IMPL(cp_impl_avg_pool_avx2, "avg_pool.avx2", CONVPOOL_OP_AVERAGE_POOL, CONVPOOL_ISA_AVX2,
          run_avx2);
POOL_IMPL(cp_impl_global_max_pool_avx2, "global_max_pool.avx2", CONVPOOL_OP_GLOBAL_MAX_POOL,
          CONVPOOL_ISA_AVX2, run_avx2);
POOL_IMPL(cp_impl_global_avg_pool_avx2, "global_avg_pool.avx2", CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
          CONVPOOL_ISA_AVX2, run_avx2);
POOL_IMPL(cp_impl_lp_pool_avx2, "lp_pool.avx2", CONVPOOL_OP_LP_POOL, CONVPOOL_ISA_AVX2, run_avx2);
POOL_IMPL(cp_impl_global_lp_pool_avx2, "global_lp_pool.avx2", CONVPOOL_OP_GLOBAL_LP_POOL,
          CONVPOOL_ISA_AVX2, run_avx2);
