/*
 * The thread pool's parallel-for (lib/runtime/threadpool.c), white-box:
 * every task runs exactly once, in ranges inside [0, count) handed to
 * participating threads only, for any thread count, task count and cap,
 * including task counts past 32 bits (homes in slots of several tasks);
 * and cp_parallel_for_balance() plays the claims out as they are made.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/threadpool.h"

/* What one parallel-for saw. */
typedef struct seen {
    int64_t count;
    int32_t participants;
    _Atomic int *runs; /* per task, when count is small enough */
    _Atomic int64_t covered;
    _Atomic int bad; /* a range outside [0, count), empty, or a thread index out of range */
    pthread_mutex_t lock;
    int64_t (*ranges)[2]; /* every range handed out, when counting ranges */
    int64_t range_count, range_room;
} seen;

static void record(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    seen *s = arg;
    if (begin < 0 || end > s->count || begin >= end || thread_index < 0 ||
        thread_index >= s->participants)
        atomic_store(&s->bad, 1);
    atomic_fetch_add(&s->covered, end - begin);
    if (s->runs)
        for (int64_t t = begin; t < end && t < s->count; t++)
            atomic_fetch_add(&s->runs[t], 1);
    if (s->ranges) {
        pthread_mutex_lock(&s->lock);
        if (s->range_count < s->range_room) {
            s->ranges[s->range_count][0] = begin;
            s->ranges[s->range_count][1] = end;
        }
        s->range_count++;
        pthread_mutex_unlock(&s->lock);
    }
}

static int32_t participants_for(int32_t threads, int32_t cap, int64_t count)
{
    int32_t p = threads;
    if (cap > 0 && cap < p)
        p = cap;
    return count < p ? (int32_t)count : p;
}

START_TEST(every_task_once)
{
    static const int64_t counts[] = {1, 2, 3, 5, 7, 8, 31, 64, 1000, 4099, 100003};
    static const int32_t caps[] = {0, 1, 2, 3};
    const int32_t threads = 1 + _i; /* 1 .. 5 */
    convpool_context *ctx = NULL;
    ck_assert_int_eq(cp_context_create(threads, &ctx), CONVPOOL_OK);
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
            for (int rep = 0; rep < 3; rep++) {
                const int64_t count = counts[c];
                seen s = {.count = count,
                          .participants = participants_for(threads, caps[k], count)};
                s.runs = calloc((size_t)count, sizeof *s.runs);
                ck_assert_ptr_nonnull(s.runs);
                cp_parallel_for(ctx, count, caps[k], record, &s);
                ck_assert_msg(!atomic_load(&s.bad),
                              "%d threads, cap %d, %lld tasks: a bad range or thread index",
                              (int)threads, (int)caps[k], (long long)count);
                ck_assert_int_eq(atomic_load(&s.covered), count);
                for (int64_t t = 0; t < count; t++)
                    ck_assert_msg(atomic_load(&s.runs[t]) == 1,
                                  "%d threads, cap %d, %lld tasks: task %lld ran %d times",
                                  (int)threads, (int)caps[k], (long long)count, (long long)t,
                                  atomic_load(&s.runs[t]));
                free(s.runs);
            }
    cp_context_destroy(ctx);
}
END_TEST

static int by_begin(const void *a, const void *b)
{
    const int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

/* Past 2^32 tasks the homes count slots of several tasks: the ranges
 * handed out still tile [0, count) exactly. */
START_TEST(task_counts_past_32_bits)
{
    static const int64_t counts[] = {(int64_t)UINT32_MAX, (int64_t)UINT32_MAX + 1,
                                     3 * ((int64_t)1 << 32) + 5, (int64_t)1 << 40};
    convpool_context *ctx = NULL;
    ck_assert_int_eq(cp_context_create(3, &ctx), CONVPOOL_OK);
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        seen s = {.count = counts[c], .participants = 3, .range_room = 1 << 16};
        pthread_mutex_init(&s.lock, NULL);
        s.ranges = calloc((size_t)s.range_room, sizeof *s.ranges);
        ck_assert_ptr_nonnull(s.ranges);
        cp_parallel_for(ctx, counts[c], 0, record, &s);
        ck_assert(!atomic_load(&s.bad));
        ck_assert_int_le(s.range_count, s.range_room);
        qsort(s.ranges, (size_t)s.range_count, sizeof *s.ranges, by_begin);
        int64_t at = 0;
        for (int64_t i = 0; i < s.range_count; i++) {
            ck_assert_int_eq(s.ranges[i][0], at);
            at = s.ranges[i][1];
        }
        ck_assert_int_eq(at, counts[c]);
        ck_assert_int_eq(atomic_load(&s.covered), counts[c]);
        free(s.ranges);
        pthread_mutex_destroy(&s.lock);
    }
    cp_context_destroy(ctx);
}
END_TEST

/* One thread of a context runs everything itself, in one call. */
START_TEST(one_thread_one_call)
{
    convpool_context *ctx = NULL;
    ck_assert_int_eq(cp_context_create(4, &ctx), CONVPOOL_OK);
    seen s = {.count = 1000, .participants = 1, .range_room = 16};
    pthread_mutex_init(&s.lock, NULL);
    s.ranges = calloc((size_t)s.range_room, sizeof *s.ranges);
    cp_parallel_for(ctx, 1000, 1, record, &s);
    ck_assert_int_eq(s.range_count, 1);
    ck_assert_int_eq(s.ranges[0][0], 0);
    ck_assert_int_eq(s.ranges[0][1], 1000);
    free(s.ranges);
    pthread_mutex_destroy(&s.lock);
    cp_context_destroy(ctx);
}
END_TEST

static double unit_cost(const void *arg, int64_t t)
{
    (void)arg;
    (void)t;
    return 1.0;
}

/* Tasks of costs[t % period] (arg: the costs, period first). */
static double listed_cost(const void *arg, int64_t t)
{
    const double *c = arg;
    return c[1 + t % (int64_t)c[0]];
}

START_TEST(balance_played_out)
{
    /* equal tasks: homes of equal size split evenly */
    ck_assert_double_eq_tol(cp_parallel_for_balance(64, 2, unit_cost, NULL), 1.0, 1e-12);
    ck_assert_double_eq_tol(cp_parallel_for_balance(1000, 4, unit_cost, NULL), 1.0, 1e-12);
    /* 3 tasks on 2 threads: one thread runs 2 of them */
    ck_assert_double_eq_tol(cp_parallel_for_balance(3, 2, unit_cost, NULL), 4.0 / 3.0, 1e-12);
    /* 7 on 2: homes of 3 and 4; the first steals one of the second's */
    ck_assert_double_eq_tol(cp_parallel_for_balance(7, 2, unit_cost, NULL), 8.0 / 7.0, 1e-12);
    /* the dear tasks all in the first home: steals even it out to within
     * one dear task */
    const double front_heavy[] = {8, 10, 10, 10, 10, 1, 1, 1, 1};
    const double one_dear = 2.0 * 10.0 / (4 * 10 + 4);
    ck_assert_double_le(cp_parallel_for_balance(8, 2, listed_cost, front_heavy), 1.0 + one_dear);
    /* what it cannot tell */
    ck_assert_double_eq(cp_parallel_for_balance(100, 1, unit_cost, NULL), 1.0);
    ck_assert_double_eq(cp_parallel_for_balance(100, CP_BALANCE_MAX_THREADS + 1, unit_cost, NULL),
                        1.0);
    ck_assert_double_eq(cp_parallel_for_balance(0, 4, unit_cost, NULL), 1.0);
    /* fewer tasks than threads: the others idle */
    ck_assert_double_eq_tol(cp_parallel_for_balance(1, 2, unit_cost, NULL), 2.0, 1e-12);
    ck_assert_double_eq_tol(cp_parallel_for_balance(3, 4, unit_cost, NULL), 4.0 / 3.0, 1e-12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threadpool");
    TCase *tc = tcase_create("threadpool");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_task_once, 0, 5);
    tcase_add_test(tc, task_counts_past_32_bits);
    tcase_add_test(tc, one_thread_one_call);
    tcase_add_test(tc, balance_played_out);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
