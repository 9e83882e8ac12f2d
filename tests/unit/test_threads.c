/*
 * Threading contracts: one op run from several threads at once gives the
 * single-threaded results; any context thread count gives bitwise identical
 * outputs; a caller workspace of convpool_op_workspace_size() bytes works;
 * the error message is per thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt.h"

/* Big enough that the library splits the work over several threads. */
static const int64_t conv_in[4] = {2, 8, 20, 20};
static const int64_t pool_in[4] = {2, 8, 64, 64};

enum { OP_CONV, OP_MAX, OP_AVG, OP_GLOBAL_MAX, OP_GLOBAL_AVG, OP_COUNT };

static convpool_op *make_test_op(int which, cpt_rng *r)
{
    cpt_cfg c;
    static const int32_t kinds[OP_COUNT] = {
        CONVPOOL_OP_CONV, CONVPOOL_OP_MAX_POOL, CONVPOOL_OP_AVERAGE_POOL,
        CONVPOOL_OP_GLOBAL_MAX_POOL, CONVPOOL_OP_GLOBAL_AVERAGE_POOL};
    cpt_cfg_init(&c, kinds[which], 2);
    for (int i = 0; i < 4; i++)
        c.pads[i] = 1;
    c.kernel[0] = c.kernel[1] = 3;
    if (which != OP_CONV)
        return cpt_make_op(&c, pool_in[1], NULL, NULL);
    c.m = 8;
    c.group = 2;
    float w[8 * 4 * 9], b[8];
    cpt_rng_fill(r, w, 8 * 4 * 9);
    cpt_rng_fill(r, b, 8);
    return cpt_make_op(&c, conv_in[1], w, b);
}

static const int64_t *input_shape(int which)
{
    return which == OP_CONV ? conv_in : pool_in;
}

static float *random_input(int which, cpt_rng *r)
{
    int64_t n = cpt_count(input_shape(which), 4);
    float *x = malloc((size_t)n * sizeof *x);
    cpt_rng_fill(r, x, n);
    return x;
}

/* The op under test for loop index `which`, its input shape and one random
 * input, all from one seed. */
typedef struct op_case {
    convpool_op *op;
    const int64_t *shape;
    float *x;
} op_case;

static op_case op_case_make(int which, uint64_t seed)
{
    cpt_rng rng;
    cpt_rng_seed(&rng, seed);
    op_case c;
    c.op = make_test_op(which, &rng);
    c.shape = input_shape(which);
    c.x = random_input(which, &rng);
    return c;
}

static void op_case_free(op_case *c)
{
    free(c->x);
    convpool_op_destroy(c->op);
}

#define RUNNERS 4
#define REPEATS 5

typedef struct runner {
    const convpool_op *op;
    convpool_context *ctx; /* NULL (the shared default) or the runner's own */
    const int64_t *shape;
    const float *x;
    int with_indices;
    float *y;
    int64_t *indices;
    int64_t count;
    int32_t status;
    int mismatches;
} runner;

/* Runs the op REPEATS times on the runner's context; every run must give
 * the first run's output exactly. */
static void *runner_main(void *p)
{
    runner *r = p;
    float *again = malloc((size_t)r->count * sizeof *again);
    int64_t *again_idx = malloc((size_t)r->count * sizeof *again_idx);
    for (int i = 0; i < REPEATS && r->status == CONVPOOL_OK; i++) {
        float *dst = i == 0 ? r->y : again;
        int64_t *idx = r->with_indices ? (i == 0 ? r->indices : again_idx) : NULL;
        r->status = convpool_op_run_ex(r->op, r->ctx, r->shape, 4, r->x, dst, (size_t)r->count,
                                       idx, NULL, 0);
        if (i > 0 && (memcmp(again, r->y, (size_t)r->count * sizeof *again) != 0 ||
                      (idx && memcmp(again_idx, r->indices,
                                     (size_t)r->count * sizeof *again_idx) != 0)))
            r->mismatches++;
    }
    free(again);
    free(again_idx);
    return NULL;
}

START_TEST(one_op_from_four_threads)
{
    cpt_rng rng;
    cpt_rng_seed(&rng, 100 + (uint64_t)_i);
    convpool_op *op = make_test_op(_i, &rng);
    const int64_t *shape = input_shape(_i);
    convpool_context *single = NULL;
    CPT_OK(convpool_context_create(1, &single));
    runner runners[RUNNERS];
    pthread_t threads[RUNNERS];
    for (int t = 0; t < RUNNERS; t++) {
        runner *r = &runners[t];
        memset(r, 0, sizeof *r);
        r->op = op;
        r->shape = shape;
        r->x = random_input(_i, &rng);
        r->with_indices = _i == OP_MAX;
        /* half share the default context, half have their own two threads */
        if (t % 2)
            CPT_OK(convpool_context_create(2, &r->ctx));
        int64_t out[4];
        CPT_OK(convpool_op_output_shape(op, shape, 4, out, 4));
        r->count = cpt_count(out, 4);
        r->y = malloc((size_t)r->count * sizeof *r->y);
        r->indices = malloc((size_t)r->count * sizeof *r->indices);
    }
    for (int t = 0; t < RUNNERS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, runner_main, &runners[t]), 0);
    for (int t = 0; t < RUNNERS; t++)
        ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < RUNNERS; t++) {
        runner *r = &runners[t];
        ck_assert_msg(r->status == CONVPOOL_OK, "thread %d: status %d", t, (int)r->status);
        ck_assert_msg(r->mismatches == 0, "thread %d: %d repeated runs differed", t,
                      r->mismatches);
        int64_t out[4], count, *idx = NULL;
        float *want = cpt_run(op, single, shape, 4, r->x, out, &count,
                              r->with_indices ? &idx : NULL);
        cpt_assert_floats_equal(r->y, want, count, "concurrent vs single-threaded");
        if (idx)
            cpt_assert_int64s_equal(r->indices, idx, count, "concurrent indices");
        free(want);
        free(idx);
        free((void *)r->x);
        free(r->y);
        free(r->indices);
        convpool_context_destroy(r->ctx);
    }
    convpool_context_destroy(single);
    convpool_op_destroy(op);
}
END_TEST

START_TEST(thread_count_does_not_change_results)
{
    op_case oc = op_case_make(_i, 200 + (uint64_t)_i);
    convpool_op *op = oc.op;
    const int64_t *shape = oc.shape;
    const float *x = oc.x;
    float *first = NULL;
    int64_t *first_idx = NULL, count = 0;
    for (int32_t threads = 1; threads <= 3; threads++) {
        convpool_context *ctx = NULL;
        CPT_OK(convpool_context_create(threads, &ctx));
        ck_assert_int_eq(convpool_context_num_threads(ctx), threads);
        int64_t out[4], *idx = NULL;
        float *y = cpt_run(op, ctx, shape, 4, x, out, &count, _i == OP_MAX ? &idx : NULL);
        if (!first) {
            first = y;
            first_idx = idx;
        } else {
            cpt_assert_floats_equal(y, first, count, "threads vs 1 thread");
            if (idx)
                cpt_assert_int64s_equal(idx, first_idx, count, "indices vs 1 thread");
            free(y);
            free(idx);
        }
        convpool_context_destroy(ctx);
    }
    free(first);
    free(first_idx);
    op_case_free(&oc);
}
END_TEST

START_TEST(caller_workspace)
{
    op_case oc = op_case_make(_i, 300 + (uint64_t)_i);
    convpool_op *op = oc.op;
    const int64_t *shape = oc.shape;
    const float *x = oc.x;
    convpool_context *ctx = NULL;
    CPT_OK(convpool_context_create(2, &ctx));
    int64_t out[4], count;
    float *want = cpt_run(op, ctx, shape, 4, x, out, &count, NULL);
    size_t size = 12345;
    CPT_OK(convpool_op_workspace_size(op, ctx, shape, 4, &size));
    ck_assert_uint_ne(size, 12345);
    /* any alignment is allowed: offset the buffer by one byte */
    unsigned char *raw = malloc(size + 1);
    float *y = malloc((size_t)count * sizeof *y);
    CPT_OK(convpool_op_run_ex(op, ctx, shape, 4, x, y, (size_t)count, NULL, raw + 1, size));
    cpt_assert_floats_equal(y, want, count, "with caller workspace");
    if (size > 0) {
        /* the reported size includes slack for the worst alignment, so only
         * a buffer below the bare need is certain to be refused */
        CPT_FAILS(convpool_op_run_ex(op, ctx, shape, 4, x, y, (size_t)count, NULL, raw + 1, 0),
                  CONVPOOL_ERROR_BUFFER_TOO_SMALL, "workspace has 0 bytes",
                  "convpool_op_workspace_size");
        /* the exact reported size at the worst alignment (an aligned start
         * minus one byte) also works */
        unsigned char *big = malloc(size + 128);
        uintptr_t worst = (((uintptr_t)big + 127) & ~(uintptr_t)63) + 1;
        memset(y, 0, (size_t)count * sizeof *y);
        CPT_OK(convpool_op_run_ex(op, ctx, shape, 4, x, y, (size_t)count, NULL,
                                  (void *)worst, size));
        cpt_assert_floats_equal(y, want, count, "with worst-aligned caller workspace");
        free(big);
    }
    free(raw);
    free(y);
    free(want);
    convpool_context_destroy(ctx);
    op_case_free(&oc);
}
END_TEST

/* Each thread fails with its own message and must read back its own. */
static void *fail_in_thread(void *p)
{
    intptr_t rank = (intptr_t)p;
    convpool_desc *d = NULL;
    convpool_desc_create(CONVPOOL_OP_CONV, (int32_t)rank, &d);
    for (int i = 0; i < 1000; i++) {
        char want[64];
        snprintf(want, sizeof want, "spatial rank %d", (int)rank);
        if (!strstr(convpool_last_error(), want))
            return (void *)1;
    }
    return NULL;
}

START_TEST(last_error_is_thread_local)
{
    pthread_t threads[RUNNERS];
    for (intptr_t t = 0; t < RUNNERS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, fail_in_thread, (void *)(10 + t)), 0);
    for (int t = 0; t < RUNNERS; t++) {
        void *res = NULL;
        ck_assert_int_eq(pthread_join(threads[t], &res), 0);
        ck_assert_msg(res == NULL, "thread %d saw another thread's error message", t);
    }
}
END_TEST

static void add_loop(Suite *s, const char *name, const TTest *test)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test, 0, OP_COUNT); /* conv, max, avg, global max, global avg */
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("threads");
    add_loop(s, "one_op_from_four_threads", one_op_from_four_threads);
    add_loop(s, "thread_count_does_not_change_results", thread_count_does_not_change_results);
    add_loop(s, "caller_workspace", caller_workspace);
    CPT_ADD(s, last_error_is_thread_local);
    return cpt_run_suite(s);
}
