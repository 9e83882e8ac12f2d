/*
 * test_loader DATA_DIR: the model and session API on dag.onnx (see
 * make_loader_models.py): input/output queries, symbolic dims, a DAG run
 * checked against the same ops run one by one through the op API, plans
 * cached per batch size, caller-owned outputs, the error states,
 * concurrent sessions on one model, node introspection (names, op types,
 * descriptors with the opset's defaults, value shapes), and that a program
 * running on its own context never starts the default one.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "onnx_check.h"

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

static int names_are(const char *got, const char *want)
{
    return got && strcmp(got, want) == 0;
}

/* The nodes in file order, Constant and Identity included (see
 * make_loader_models.py), and their descriptors with opset-8 defaults. */
static void test_nodes(const convpool_model *m)
{
    static const char *names[7] = {"gap", "mp_with_indices", "id", "conv2", "conv1", "avg",
                                   "w2_const"};
    static const char *types[7] = {"GlobalAveragePool", "MaxPool", "Identity", "Conv", "Conv",
                                   "AveragePool", "Constant"};
    for (size_t i = 0; i < 7; i++) {
        CHECK(names_are(convpool_model_node_name(m, i), names[i]), "node %zu name", i);
        CHECK(names_are(convpool_model_node_op_type(m, i), types[i]), "node %zu op type", i);
    }
    CHECK(convpool_model_node_name(m, 7) == NULL && convpool_model_node_op_type(m, 7) == NULL &&
              convpool_model_node_desc(m, 7) == NULL && convpool_model_node_input_count(m, 7) == 0 &&
              convpool_model_node_input_name(m, 7, 0) == NULL &&
              convpool_model_node_name(NULL, 0) == NULL,
          "out-of-range node index");
    CHECK(convpool_model_node_input_count(m, 4) == 3 &&
              names_are(convpool_model_node_input_name(m, 4, 0), "x") &&
              names_are(convpool_model_node_input_name(m, 4, 1), "W1") &&
              names_are(convpool_model_node_input_name(m, 4, 2), "B1") &&
              convpool_model_node_input_name(m, 4, 3) == NULL,
          "conv1 inputs");
    CHECK(convpool_model_node_output_count(m, 1) == 2 &&
              names_are(convpool_model_node_output_name(m, 1, 1), "mp_idx") &&
              convpool_model_node_output_name(m, 1, 2) == NULL,
          "MaxPool outputs");
    CHECK(convpool_model_node_input_count(m, 6) == 0 &&
              names_are(convpool_model_node_output_name(m, 6, 0), "W2"),
          "Constant node");
    CHECK(convpool_model_node_desc(m, 2) == NULL && convpool_model_node_desc(m, 6) == NULL,
          "Identity and Constant have no descriptor");

    int64_t v[6];
    size_t count = 99;
    int64_t value = -1;
    const convpool_desc *conv1 = convpool_model_node_desc(m, 4);
    CHECK(convpool_desc_kind(conv1) == CONVPOOL_OP_CONV && convpool_desc_spatial_rank(conv1) == 2,
          "conv1 kind and rank");
    CHECK(convpool_desc_get_ints(conv1, CONVPOOL_ATTR_KERNEL_SHAPE, v, 6, &count) ==
              CONVPOOL_OK && count == 2 && v[0] == 3 && v[1] == 3,
          "conv1 kernel_shape from W1");
    CHECK(convpool_desc_get_ints(conv1, CONVPOOL_ATTR_PADS, v, 6, &count) == CONVPOOL_OK &&
              count == 4 && v[0] == 1 && v[3] == 1, "conv1 pads as set");
    CHECK(convpool_desc_get_ints(conv1, CONVPOOL_ATTR_DILATIONS, v, 6, &count) == CONVPOOL_OK &&
              count == 2 && v[0] == 1 && v[1] == 1, "conv1 default dilations");
    CHECK(convpool_desc_get_int(conv1, CONVPOOL_ATTR_GROUP, &value) == CONVPOOL_OK && value == 1,
          "conv1 default group");
    CHECK(convpool_desc_get_int(conv1, CONVPOOL_ATTR_AUTO_PAD, &value) == CONVPOOL_OK &&
              value == CONVPOOL_AUTO_PAD_NOTSET, "conv1 default auto_pad");
    CHECK(convpool_desc_get_ints(convpool_model_node_desc(m, 3), CONVPOOL_ATTR_KERNEL_SHAPE, v,
                                 6, &count) == CONVPOOL_OK && count == 2 && v[0] == 1 &&
              v[1] == 1, "conv2 kernel_shape from the Constant's W2 (3, 2, 1, 1)");
    CHECK(convpool_desc_get_ints(convpool_model_node_desc(m, 3), CONVPOOL_ATTR_PADS, v, 6,
                                 &count) == CONVPOOL_OK && count == 4 &&
              v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0, "unset pads read as zeros");

    const convpool_desc *mp = convpool_model_node_desc(m, 1);
    CHECK(convpool_desc_kind(mp) == CONVPOOL_OP_MAX_POOL, "MaxPool kind");
    CHECK(convpool_desc_get_ints(mp, CONVPOOL_ATTR_STRIDES, v, 6, &count) == CONVPOOL_OK &&
              count == 2 && v[0] == 2 && v[1] == 2, "MaxPool strides");
    CHECK(convpool_desc_get_int(mp, CONVPOOL_ATTR_STORAGE_ORDER, &value) == CONVPOOL_OK &&
              value == 0, "MaxPool-8 default storage_order");
    CHECK(convpool_desc_get_int(mp, CONVPOOL_ATTR_CEIL_MODE, &value) == CONVPOOL_OK &&
              value == 0, "ceil_mode (absent before MaxPool-10) reads as its value, 0");
    CHECK(convpool_desc_get_int(mp, CONVPOOL_ATTR_GROUP, &value) ==
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "MaxPool has no group");
    CHECK(convpool_desc_get_ints(mp, CONVPOOL_ATTR_STRIDES, v, 1, &count) ==
              CONVPOOL_ERROR_BUFFER_TOO_SMALL && count == 2, "small values buffer");
    CHECK(convpool_desc_get_int(mp, CONVPOOL_ATTR_STRIDES, &value) ==
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "an ints attribute through get_int");
    CHECK(convpool_desc_get_int(convpool_model_node_desc(m, 5), CONVPOOL_ATTR_COUNT_INCLUDE_PAD,
                                &value) == CONVPOOL_OK && value == 1, "count_include_pad");
    CHECK(convpool_desc_kind(convpool_model_node_desc(m, 0)) ==
              CONVPOOL_OP_GLOBAL_AVERAGE_POOL, "global pool kind");

    /* A fresh Conv descriptor: kernel_shape is W's, unknown: count 0. */
    convpool_desc *fresh;
    CHECK(convpool_desc_create(CONVPOOL_OP_CONV, 3, &fresh) == CONVPOOL_OK, "create");
    CHECK(convpool_desc_get_ints(fresh, CONVPOOL_ATTR_KERNEL_SHAPE, NULL, 0, &count) ==
              CONVPOOL_OK && count == 0, "unset Conv kernel_shape reads as count 0");
    CHECK(convpool_desc_get_ints(fresh, CONVPOOL_ATTR_STRIDES, v, 6, &count) == CONVPOOL_OK &&
              count == 3 && v[2] == 1, "3-D default strides");
    convpool_desc_destroy(fresh);
    printf("ok  node names, op types, inputs/outputs, descriptors with defaults\n");
}

/* Shapes of every kind of value for the bound batch size. */
static void test_value_shapes(const convpool_model *m)
{
    convpool_session *s;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK, "session");
    int32_t dtype;
    size_t rank;
    int64_t dims[4];
    CHECK(convpool_session_value_shape(s, "p1", &dtype, &rank, dims, 4) ==
              CONVPOOL_ERROR_INVALID_STATE, "value shape with unbound inputs");
    static float x[5 * 2 * 36];
    int64_t shape[4] = {5, 2, 6, 6};
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) == CONVPOOL_OK,
          "bind");
    CHECK(convpool_session_value_shape(s, "p1", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              dtype == CONVPOOL_DTYPE_FLOAT && rank == 4 && dims[0] == 5 && dims[1] == 2 &&
              dims[2] == 6 && dims[3] == 6, "intermediate p1");
    CHECK(convpool_session_value_shape(s, "c2", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 4 && dims[0] == 5 && dims[1] == 3 && dims[2] == 6, "intermediate c2");
    CHECK(convpool_session_value_shape(s, "mp_idx", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              dtype == CONVPOOL_DTYPE_INT64 && dims[0] == 5 && dims[1] == 4 && dims[2] == 3,
          "Indices output");
    CHECK(convpool_session_value_shape(s, "W1", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 4 && dims[0] == 4 && dims[1] == 2 && dims[3] == 3, "initializer");
    CHECK(convpool_session_value_shape(s, "W2", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 4 && dims[0] == 3 && dims[3] == 1, "Constant output");
    CHECK(convpool_session_value_shape(s, "B1", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 1 && dims[0] == 4, "1-D initializer");
    CHECK(convpool_session_value_shape(s, "x", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              dims[0] == 5, "graph input");
    CHECK(convpool_session_value_shape(s, "gap", &dtype, &rank, dims, 2) ==
              CONVPOOL_ERROR_BUFFER_TOO_SMALL && rank == 4, "small dims buffer");
    CHECK(convpool_session_value_shape(s, "nope", &dtype, &rank, dims, 4) ==
              CONVPOOL_ERROR_NOT_FOUND && strstr(convpool_last_error(), "'nope'") != NULL,
          "unknown name is NOT_FOUND");
    CHECK(convpool_session_value_shape(s, "", &dtype, &rank, dims, 4) ==
              CONVPOOL_ERROR_NOT_FOUND, "the empty name is NOT_FOUND");
    CHECK(convpool_session_value_shape(s, NULL, &dtype, &rank, dims, 4) ==
              CONVPOOL_ERROR_INVALID_ARGUMENT, "NULL name");
    convpool_session_destroy(s);
    printf("ok  value shapes: inputs, initializers, constants, intermediates, outputs\n");
}

/* Threads of this process (Linux), to see whether a pool was started. */
static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int threads = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &threads) == 1)
            break;
    if (f)
        fclose(f);
    return threads;
}

/* Loading, planning, shape queries and runs on a caller's context must not
 * start the library's default context (CONVPOOL_NUM_THREADS=3 makes it
 * start two workers if anything does). Runs before anything touches it. */
static void test_own_context_only(const char *path)
{
    int before = thread_count();
    convpool_model *m = NULL;
    convpool_context *ctx = NULL;
    convpool_session *s = NULL;
    static float x[2 * 2 * 36];
    int64_t shape[4] = {2, 2, 6, 6}, dims[4];
    int32_t dtype;
    size_t rank;
    CHECK(convpool_model_load_file(path, 0, &m) == CONVPOOL_OK &&
              convpool_context_create(1, &ctx) == CONVPOOL_OK &&
              convpool_session_create(m, &s) == CONVPOOL_OK &&
              convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) == CONVPOOL_OK &&
              convpool_session_output_shape(s, 0, &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              convpool_session_value_shape(s, "c2", &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              convpool_session_run(s, ctx) == CONVPOOL_OK,
          "load and run on one's own context");
    CHECK(before > 0 && thread_count() == before, "threads before %d, after %d: the default "
          "context was started", before, thread_count());
    convpool_session_destroy(s);
    convpool_context_destroy(ctx);
    convpool_model_destroy(m);
    printf("ok  a program using only its own context never starts the default one\n");
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

/*
 * The binding contract (convpool.h): a binding lasts until it is rebound or
 * the session is destroyed, and a run reads only what is bound now. Under
 * ASan (the sanitizer build runs this suite) any read of a freed buffer
 * fails the test: bind, run, rebind, free the old buffer, run again; bind,
 * run, drop the data (set_input_shape), free, run: refused, naming the
 * input; an output buffer released the same way is never written again.
 */
/* Runs s and compares output 0 with `want`. */
static int run_matches(convpool_session *s, const float *want, size_t bytes)
{
    const void *data;
    return convpool_session_run(s, NULL) == CONVPOOL_OK &&
           convpool_session_output(s, 0, NULL, NULL, NULL, &data) == CONVPOOL_OK &&
           memcmp(data, want, bytes) == 0;
}

static void test_binding_lifetime(const convpool_model *m)
{
    convpool_session *s;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK, "session");
    const size_t n = 2 * 2 * 36;
    int64_t shape[4] = {2, 2, 6, 6};
    float *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2);
    pattern(x1, n, 0);
    pattern(x2, n, 0);
    const void *data;
    float first[2 * 4 * 36];
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x1) == CONVPOOL_OK &&
              convpool_session_run(s, NULL) == CONVPOOL_OK &&
              convpool_session_output(s, 0, NULL, NULL, NULL, &data) == CONVPOOL_OK,
          "bind and run");
    memcpy(first, data, sizeof first);
    /* Runs again on the same binding: the same result. */
    CHECK(run_matches(s, first, sizeof first), "run again on the same binding");
    /* Rebound to x2 (same values), x1 freed: the run reads x2 only. */
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x2) == CONVPOOL_OK,
          "rebind");
    free(x1);
    CHECK(run_matches(s, first, sizeof first), "run after rebinding and freeing the old buffer");
    /* The data dropped, x2 freed: shape queries work, a run is refused. */
    CHECK(convpool_session_set_input_shape(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4) == CONVPOOL_OK,
          "set_input_shape");
    free(x2);
    int32_t dtype;
    size_t rank;
    int64_t dims[4];
    CHECK(convpool_session_output_shape(s, 0, &dtype, &rank, dims, 4) == CONVPOOL_OK &&
              rank == 4 && dims[0] == 2 && dims[1] == 4,
          "shape query on a shape-only binding");
    CHECK(convpool_session_run(s, NULL) == CONVPOOL_ERROR_INVALID_STATE &&
              strstr(convpool_last_error(), "input 'x' is bound to a shape only"),
          "run on a shape-only binding");
    CHECK(convpool_session_set_input_shape(s, 0, CONVPOOL_DTYPE_FLOAT, dims, 3) ==
              CONVPOOL_ERROR_SHAPE_MISMATCH,
          "set_input_shape checks the rank");
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, NULL) ==
              CONVPOOL_ERROR_INVALID_ARGUMENT,
          "set_input with NULL data");
    /* An output buffer: bound, run, released, freed; the next run writes
     * session memory and the old results are no longer reachable. */
    float *x3 = malloc(n * sizeof *x3), *y = malloc(sizeof first);
    pattern(x3, n, 0);
    CHECK(convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x3) == CONVPOOL_OK &&
              convpool_session_set_output(s, 0, y, sizeof first) == CONVPOOL_OK &&
              convpool_session_run(s, NULL) == CONVPOOL_OK && memcmp(y, first, sizeof first) == 0,
          "run into a bound output");
    CHECK(convpool_session_set_output(s, 0, NULL, 0) == CONVPOOL_OK &&
              convpool_session_output(s, 0, NULL, NULL, NULL, &data) ==
                  CONVPOOL_ERROR_INVALID_STATE,
          "results unreachable after the output is released");
    free(y);
    CHECK(run_matches(s, first, sizeof first), "run after releasing and freeing the output buffer");
    convpool_session_destroy(s);
    free(x3);
    printf("ok  bindings last until rebound; no freed buffer is read or written\n");
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
    setenv("CONVPOOL_NUM_THREADS", "3", 1);
    test_own_context_only(path);
    convpool_model *m = NULL;
    CHECK(convpool_model_load_file(path, 0, &m) == CONVPOOL_OK, "load %s", path);
    if (!m)
        return 1;
    test_queries(m);
    test_nodes(m);
    test_value_shapes(m);
    convpool_session *s;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK, "session");
    /* Batches 3, 1, 0, 3, 5: new plans, then a cached one; 0 is an empty
     * batch, whose outputs are empty. */
    int64_t batches[] = {3, 1, 0, 3, 5, 8};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
        CHECK(run_and_compare(s, batches[i], 0) == 0, "batch %lld", (long long)batches[i]);
    convpool_session_destroy(s);
    test_session_states(m);
    test_binding_lifetime(m);
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
