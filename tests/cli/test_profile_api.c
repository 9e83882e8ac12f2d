/*
 * test_profile_api.c - convpool_session_run_profiled(), the call behind
 * convpool-run --profile, through the public API only:
 *   test_profile_api DAG_ONNX
 * DAG_ONNX is tests/data/onnx-loader/dag.onnx: seven nodes in file order,
 * the last a Constant the loader folds away, one an Identity that copies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " (last error: %s)\n", convpool_last_error());                         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

enum { MAX_INPUTS = 8, MAX_ELEMS = 1 << 16 };

/* Binds every input with a fixed pattern; symbolic dims get 2. */
static void bind_inputs(const convpool_model *m, convpool_session *s, float data[][MAX_ELEMS])
{
    for (size_t i = 0; i < convpool_model_input_count(m) && i < MAX_INPUTS; i++) {
        int32_t dtype;
        size_t rank, count = 1;
        int64_t dims[8];
        CHECK(convpool_model_input_info(m, i, &dtype, &rank, dims, 8) == CONVPOOL_OK, "info");
        for (size_t d = 0; d < rank; d++) {
            dims[d] = dims[d] < 0 ? 2 : dims[d];
            count *= (size_t)dims[d];
        }
        for (size_t k = 0; k < count && k < MAX_ELEMS; k++)
            data[i][k] = (float)((int)(k * 37 % 17) - 8) / 8.0f;
        CHECK(convpool_session_set_input(s, i, dtype, dims, rank, data[i]) == CONVPOOL_OK,
              "bind input %zu", i);
    }
}

/* Copies every output of the last run. */
static size_t snapshot(const convpool_model *m, const convpool_session *s, unsigned char *buf,
                       size_t cap)
{
    size_t used = 0;
    for (size_t j = 0; j < convpool_model_output_count(m); j++) {
        int32_t dtype;
        size_t rank, count = 1;
        const int64_t *dims;
        const void *data;
        CHECK(convpool_session_output(s, j, &dtype, &rank, &dims, &data) == CONVPOOL_OK,
              "output %zu", j);
        for (size_t d = 0; d < rank; d++)
            count *= (size_t)dims[d];
        size_t bytes = count * (dtype == CONVPOOL_DTYPE_INT64 ? 8 : 4);
        if (used + bytes <= cap)
            memcpy(buf + used, data, bytes);
        used += bytes;
    }
    return used;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_profile_api DAG_ONNX\n");
        return 2;
    }
    convpool_model *m;
    convpool_session *s;
    if (convpool_model_load_file(argv[1], 0, &m) != CONVPOOL_OK ||
        convpool_session_create(m, &s) != CONVPOOL_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], convpool_last_error());
        return 1;
    }
    static float inputs[MAX_INPUTS][MAX_ELEMS];
    static unsigned char plain[1 << 20], profiled[1 << 20];
    size_t n = convpool_model_node_count(m);
    CHECK(n == 7, "dag.onnx has 7 nodes in the file, got %zu", n);
    int64_t ns[7];

    /* Bad arguments are refused before anything runs. */
    CHECK(convpool_session_run_profiled(NULL, NULL, ns, n) == CONVPOOL_ERROR_INVALID_ARGUMENT,
          "NULL session");
    CHECK(convpool_session_run_profiled(s, NULL, ns, n - 1) == CONVPOOL_ERROR_INVALID_ARGUMENT,
          "node_count one short");
    CHECK(strstr(convpool_last_error(), "node_count is 6; the model has 7") != NULL,
          "the message names both counts");
    CHECK(convpool_session_run_profiled(s, NULL, NULL, n) == CONVPOOL_ERROR_INVALID_ARGUMENT,
          "NULL node_ns");
    /* Unbound inputs fail as convpool_session_run() does. */
    CHECK(convpool_session_run_profiled(s, NULL, ns, n) == CONVPOOL_ERROR_INVALID_STATE,
          "unbound inputs");

    bind_inputs(m, s, inputs);
    CHECK(convpool_session_run(s, NULL) == CONVPOOL_OK, "plain run");
    size_t bytes = snapshot(m, s, plain, sizeof plain);
    CHECK(bytes > 0 && bytes <= sizeof plain, "outputs fit (%zu bytes)", bytes);

    for (int repeat = 0; repeat < 3; repeat++) {
        int constants = 0;
        for (size_t i = 0; i < n; i++)
            ns[i] = -12345;
        CHECK(convpool_session_run_profiled(s, NULL, ns, n) == CONVPOOL_OK, "profiled run");
        for (size_t i = 0; i < n; i++) {
            const char *op = convpool_model_node_op_type(m, i);
            constants += strcmp(op, "Constant") == 0;
            if (strcmp(op, "Constant") == 0)
                CHECK(ns[i] == -1, "node %zu (Constant) is folded: -1, got %lld", i,
                      (long long)ns[i]);
            else
                CHECK(ns[i] >= 0 && ns[i] < 10000000000LL, "node %zu (%s) time %lld ns", i, op,
                      (long long)ns[i]);
        }
        CHECK(constants == 1, "dag.onnx has one Constant node, found %d", constants);
        /* The same results as the plain run, bit for bit. */
        CHECK(snapshot(m, s, profiled, sizeof profiled) == bytes &&
                  memcmp(plain, profiled, bytes) == 0,
              "profiled outputs equal the plain run's");
    }

    /* A later plain run takes no times (the array is not written). */
    for (size_t i = 0; i < n; i++)
        ns[i] = -7;
    CHECK(convpool_session_run(s, NULL) == CONVPOOL_OK, "plain run after profiling");
    for (size_t i = 0; i < n; i++)
        CHECK(ns[i] == -7, "node %zu: a plain run left the times alone", i);

    /* On several threads too. */
    convpool_context *ctx;
    CHECK(convpool_context_create(2, &ctx) == CONVPOOL_OK, "context");
    CHECK(convpool_session_run_profiled(s, ctx, ns, n) == CONVPOOL_OK, "profiled, 2 threads");
    CHECK(snapshot(m, s, profiled, sizeof profiled) == bytes && memcmp(plain, profiled, bytes) == 0,
          "2-thread profiled outputs equal the plain run's");
    convpool_context_destroy(ctx);

    convpool_session_destroy(s);
    convpool_model_destroy(m);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("convpool_session_run_profiled: all checks passed\n");
    return failures ? 1 : 0;
}
