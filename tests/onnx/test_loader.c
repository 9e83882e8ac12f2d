/*
 * test_loader DATA_DIR: the model and session API on dag.onnx (see
 * make_loader_models.py): input/output queries, symbolic dims, a DAG run
 * checked against the same ops run one by one through the op API, plans
 * cached per batch size, caller-owned outputs, the error states, and
 * concurrent sessions on one model.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

static int failures;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
            printf(__VA_ARGS__);                          \
            printf(" [%s]\n", convpool_last_error());     \
            failures++;                                   \
        }                                                 \
    } while (0)

static void pattern(float *v, size_t n, size_t offset)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((long)(((i + offset) * 37) % 17) - 8) / 8.0f;
}

/* The DAG's outputs for batch n, op by op through the public op API. */
typedef struct expected {
    float c1[8 * 4 * 36], mp[8 * 4 * 9], gap[8 * 3];
    int64_t idx[8 * 4 * 9];
} expected;

static convpool_op *make_op(int32_t kind, const int64_t *ints[], const int32_t *keys,
                            int count, const int64_t *wshape, const float *w, const float *b)
{
    convpool_desc *d;
    convpool_op *op = NULL;
    convpool_desc_create(kind, 2, &d);
    for (int i = 0; i < count; i++) {
        if (keys[i] == CONVPOOL_ATTR_COUNT_INCLUDE_PAD)
            convpool_desc_set_int(d, keys[i], 1);
        else
            convpool_desc_set_ints(d, keys[i], ints[i], keys[i] == CONVPOOL_ATTR_PADS ? 4 : 2);
    }
    if (kind == CONVPOOL_OP_CONV)
        convpool_conv_create(d, wshape, 4, w, b, &op);
    else
        convpool_pool_create(d, &op);
    convpool_desc_destroy(d);
    return op;
}

static void reference(const float *x, int64_t n, expected *e)
{
    static float w1[4 * 2 * 9], b1[4], w2[3 * 2], p1[8 * 2 * 36], c2[8 * 3 * 36];
    pattern(w1, 72, 0);
    pattern(b1, 4, 100);
    pattern(w2, 6, 200);
    const int64_t pads[4] = {1, 1, 1, 1}, k3[2] = {3, 3}, k2[2] = {2, 2};
    const int64_t w1s[4] = {4, 2, 3, 3}, w2s[4] = {3, 2, 1, 1};
    const int64_t *conv1_v[] = {pads};
    const int32_t conv1_k[] = {CONVPOOL_ATTR_PADS};
    const int64_t *avg_v[] = {k3, pads, NULL};
    const int32_t avg_k[] = {CONVPOOL_ATTR_KERNEL_SHAPE, CONVPOOL_ATTR_PADS,
                             CONVPOOL_ATTR_COUNT_INCLUDE_PAD};
    const int64_t *mp_v[] = {k2, k2};
    const int32_t mp_k[] = {CONVPOOL_ATTR_KERNEL_SHAPE, CONVPOOL_ATTR_STRIDES};
    convpool_op *conv1 = make_op(CONVPOOL_OP_CONV, conv1_v, conv1_k, 1, w1s, w1, b1);
    convpool_op *avg = make_op(CONVPOOL_OP_AVERAGE_POOL, avg_v, avg_k, 3, NULL, NULL, NULL);
    convpool_op *conv2 = make_op(CONVPOOL_OP_CONV, NULL, NULL, 0, w2s, w2, NULL);
    convpool_op *mp = make_op(CONVPOOL_OP_MAX_POOL, mp_v, mp_k, 2, NULL, NULL, NULL);
    convpool_op *gap = make_op(CONVPOOL_OP_GLOBAL_AVERAGE_POOL, NULL, NULL, 0, NULL, NULL, NULL);
    int64_t xs[4] = {n, 2, 6, 6}, c1s[4] = {n, 4, 6, 6}, p1s[4] = {n, 2, 6, 6};
    int64_t c2s[4] = {n, 3, 6, 6};
    CHECK(conv1 && avg && conv2 && mp && gap, "reference ops");
    CHECK(convpool_op_run(conv1, xs, 4, x, e->c1, sizeof e->c1 / 4) == CONVPOOL_OK &&
          convpool_op_run(avg, xs, 4, x, p1, sizeof p1 / 4) == CONVPOOL_OK &&
          convpool_op_run(conv2, p1s, 4, p1, c2, sizeof c2 / 4) == CONVPOOL_OK &&
          convpool_op_run_ex(mp, NULL, c1s, 4, e->c1, e->mp, sizeof e->mp / 4, e->idx, NULL,
                             0) == CONVPOOL_OK &&
          convpool_op_run(gap, c2s, 4, c2, e->gap, sizeof e->gap / 4) == CONVPOOL_OK,
          "reference run");
    convpool_op_destroy(conv1);
    convpool_op_destroy(avg);
    convpool_op_destroy(conv2);
    convpool_op_destroy(mp);
    convpool_op_destroy(gap);
}

/* Runs session s on batch n and compares every output with the reference.
 * Returns the number of mismatching elements. */
static int run_and_compare(convpool_session *s, int64_t n, int quiet)
{
    static _Thread_local float x[8 * 2 * 36];
    static _Thread_local expected e;
    pattern(x, (size_t)(n * 72), 7);
    reference(x, n, &e);
    int64_t shape[4] = {n, 2, 6, 6};
    if (convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) != CONVPOOL_OK ||
        convpool_session_run(s, NULL) != CONVPOOL_OK) {
        CHECK(0, "run with batch %lld", (long long)n);
        return 1;
    }
    const void *want[4] = {e.c1, e.mp, e.idx, e.gap};
    const int64_t counts[4] = {n * 144, n * 36, n * 36, n * 3};
    int bad = 0;
    for (size_t j = 0; j < 4; j++) {
        int32_t dtype;
        size_t rank;
        const int64_t *dims;
        const void *data;
        CHECK(convpool_session_output(s, j, &dtype, &rank, &dims, &data) == CONVPOOL_OK &&
              rank == 4 && dims[0] == n, "output %zu", j);
        for (int64_t i = 0; i < counts[j]; i++) {
            int same = dtype == CONVPOOL_DTYPE_INT64
                           ? ((const int64_t *)data)[i] == ((const int64_t *)want[j])[i]
                           : fabsf(((const float *)data)[i] - ((const float *)want[j])[i]) <=
                                 1e-5f;
            bad += !same;
        }
    }
    if (!quiet)
        printf("%s batch %lld: graph outputs %s the op-by-op reference\n", bad ? "FAIL" : "ok ",
               (long long)n, bad ? "differ from" : "match");
    return bad;
}

static void test_queries(const convpool_model *m)
{
    CHECK(convpool_model_input_count(m) == 1, "initializers listed as inputs are not inputs");
    CHECK(convpool_model_output_count(m) == 4 && convpool_model_node_count(m) == 7, "counts");
    CHECK(strcmp(convpool_model_input_name(m, 0), "x") == 0, "input name");
    CHECK(strcmp(convpool_model_output_name(m, 2), "mp_idx") == 0, "output name");
    CHECK(convpool_model_input_name(m, 1) == NULL, "out-of-range name is NULL");
    size_t index;
    CHECK(convpool_model_output_index(m, "gap", &index) == CONVPOOL_OK && index == 3, "index");
    CHECK(convpool_model_input_index(m, "W1", &index) == CONVPOOL_ERROR_NOT_FOUND, "NOT_FOUND");
    int32_t dtype;
    size_t rank;
    int64_t dims[4];
    CHECK(convpool_model_input_info(m, 0, &dtype, &rank, dims, 4) == CONVPOOL_OK &&
          dtype == CONVPOOL_DTYPE_FLOAT && rank == 4 && dims[0] == -1 && dims[3] == 6,
          "input info");
    CHECK(strcmp(convpool_model_input_dim_name(m, 0, 0), "N") == 0 &&
          convpool_model_input_dim_name(m, 0, 1) == NULL, "dim names");
    CHECK(convpool_model_output_info(m, 2, &dtype, &rank, dims, 2) ==
              CONVPOOL_ERROR_BUFFER_TOO_SMALL && rank == 4 && dtype == CONVPOOL_DTYPE_INT64,
          "output info with a small dims buffer");
    printf("ok  model queries\n");
}

static void test_session_states(const convpool_model *m)
{
    convpool_session *s;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK, "session");
    CHECK(convpool_session_run(s, NULL) == CONVPOOL_ERROR_INVALID_STATE, "run unbound");
    CHECK(strstr(convpool_last_error(), "'x' is not bound") != NULL, "message names input");
    const void *data;
    CHECK(convpool_session_output(s, 0, NULL, NULL, NULL, &data) ==
              CONVPOOL_ERROR_INVALID_STATE, "output before a run");
    float x[2 * 2 * 36] = {0};
    int64_t bad_shape[4] = {2, 3, 6, 6}, shape[4] = {2, 2, 6, 6};
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, bad_shape, 4, x) ==
              CONVPOOL_ERROR_SHAPE_MISMATCH, "static dim mismatch");
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_UINT8, shape, 4, x) ==
              CONVPOOL_ERROR_UNSUPPORTED, "dtype mismatch");
    CHECK(convpool_session_set_input(s, 1, CONVPOOL_DTYPE_FLOAT, shape, 4, x) ==
              CONVPOOL_ERROR_NOT_FOUND, "input index");
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) == CONVPOOL_OK,
          "bind");
    int32_t dtype;
    size_t rank;
    int64_t dims[4];
    CHECK(convpool_session_output_shape(s, 1, &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 4 && dims[0] == 2 && dims[1] == 4 && dims[2] == 3 && dims[3] == 3,
          "output shape before the run");
    /* Caller-owned output: too small is refused, the right size is used. */
    static float small[10], mine[2 * 4 * 36];
    CHECK(convpool_session_set_output(s, 0, small, sizeof small) == CONVPOOL_OK, "bind small");
    CHECK(convpool_session_run(s, NULL) == CONVPOOL_ERROR_BUFFER_TOO_SMALL, "small buffer");
    CHECK(convpool_session_set_output(s, 0, mine, sizeof mine) == CONVPOOL_OK &&
              convpool_session_run(s, NULL) == CONVPOOL_OK, "bind right size");
    CHECK(convpool_session_output(s, 0, NULL, NULL, NULL, &data) == CONVPOOL_OK &&
              data == (const void *)mine, "output written to the caller's buffer");
    CHECK(convpool_session_set_output(s, 0, NULL, 0) == CONVPOOL_OK &&
              convpool_session_run(s, NULL) == CONVPOOL_OK &&
              convpool_session_output(s, 0, NULL, NULL, NULL, &data) == CONVPOOL_OK &&
              data != (const void *)mine && memcmp(data, mine, sizeof mine) == 0,
          "back to session memory, same values");
    convpool_session_destroy(s);
    printf("ok  session states, caller-owned outputs\n");
}

static void *thread_main(void *arg)
{
    const convpool_model *m = arg;
    convpool_session *s;
    int bad = convpool_session_create(m, &s) != CONVPOOL_OK;
    for (int r = 0; !bad && r < 20; r++)
        bad += run_and_compare(s, 1 + r % 4, 1);
    convpool_session_destroy(s);
    return (void *)(intptr_t)bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/data/onnx-loader\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/dag.onnx", argv[1]);
    convpool_model *m = NULL;
    CHECK(convpool_model_load_file(path, 0, &m) == CONVPOOL_OK, "load %s", path);
    if (!m)
        return 1;
    test_queries(m);
    convpool_session *s;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK, "session");
    /* Batches 3, 1, 3, 5: new plans, then a cached one. */
    int64_t batches[] = {3, 1, 3, 5, 8};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
        CHECK(run_and_compare(s, batches[i], 0) == 0, "batch %lld", (long long)batches[i]);
    convpool_session_destroy(s);
    test_session_states(m);
    pthread_t threads[4];
    for (int t = 0; t < 4; t++)
        pthread_create(&threads[t], NULL, thread_main, m);
    for (int t = 0; t < 4; t++) {
        void *bad;
        pthread_join(threads[t], &bad);
        CHECK(bad == NULL, "thread %d: %ld mismatches", t, (long)(intptr_t)bad);
    }
    printf("ok  4 threads, one session each, on one model\n");
    convpool_model_destroy(m);
    printf(failures ? "FAILED: %d checks\n" : "PASS\n", failures);
    return failures ? 1 : 0;
}
