/*
 * libFuzzer target for the ONNX loader: any bytes must load cleanly or be
 * refused with a message; a model that loads must also run on small inputs
 * (symbolic dims set to 1) without a crash, where its work is small enough
 * for the fuzzer's timeout (MAX_WORK). Build with clang and
 * -Dfuzz=enabled, then e.g.:
 *   build-fuzz/tests/fuzz/fuzz_load -max_len=65536 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

#define MAX_ELEMENTS (1 << 20)
/* Runs whose work (multiply-adds or window taps) could exceed this many are
 * not run: the fuzz build's SIMD kernels (coverage and ASan on every
 * access) run thousands of times slower than a release build's, so a
 * legitimate but large window (a 59x5 MaxPool with pads of 126 on a
 * 93x97x5 input: 3.9e8 taps, 8 ms released) took 27 s, past the fuzzer's
 * 10 s timeout, without finding anything. */
#define MAX_WORK ((int64_t)1 << 22)

/* Elements of value `name` as the session inferred it; 0 if the session
 * cannot plan the bound inputs (the run then fails at once, with its
 * message), INT64_MAX past int64. */
static int64_t value_elements(convpool_session *s, const char *name)
{
    int32_t dtype;
    size_t rank;
    int64_t dims[8], n = 1;
    if (!name || !*name || convpool_session_value_shape(s, name, &dtype, &rank, dims, 8) != CONVPOOL_OK)
        return 0;
    for (size_t d = 0; d < rank; d++)
        if (dims[d] < 0 || __builtin_mul_overflow(n, dims[d], &n))
            return INT64_MAX;
    return n;
}

/* An upper bound of node `node`'s work for the bound inputs: each output
 * element reads its window's taps (pools), each of the larger of X and Y's
 * elements meets W's elements over its first dim (Conv: W is (M, C/group,
 * k...), ConvTranspose: (C, M/group, k...)), global pools read X once.
 * 0 where the run fails in planning, INT64_MAX past int64. */
static int64_t node_work(const convpool_model *m, convpool_session *s, size_t node)
{
    const convpool_desc *d = convpool_model_node_desc(m, node);
    if (!d)
        return 0; /* Constant, Identity */
    const int64_t x = value_elements(s, convpool_model_node_input_name(m, node, 0));
    const int64_t y = value_elements(s, convpool_model_node_output_name(m, node, 0));
    const int32_t kind = convpool_desc_kind(d);
    int64_t per = 1, work;
    if (x == 0 || y == 0)
        return 0;
    if (kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
        kind == CONVPOOL_OP_GLOBAL_LP_POOL)
        return x;
    if (kind == CONVPOOL_OP_CONV || kind == CONVPOOL_OP_CONV_TRANSPOSE) {
        int32_t dtype;
        size_t rank;
        int64_t w[8];
        const int64_t wn = value_elements(s, convpool_model_node_input_name(m, node, 1));
        if (wn == 0 ||
            convpool_session_value_shape(s, convpool_model_node_input_name(m, node, 1), &dtype,
                                         &rank, w, 8) != CONVPOOL_OK ||
            rank < 1 || w[0] < 1)
            return 0;
        per = wn / w[0];
    } else {
        int64_t k[3];
        size_t kn;
        if (convpool_desc_get_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k, 3, &kn) != CONVPOOL_OK)
            return 0; /* a pool needs kernel_shape: refused at load or in planning */
        for (size_t i = 0; i < kn && i < 3; i++)
            if (k[i] < 0 || __builtin_mul_overflow(per, k[i], &per))
                return INT64_MAX;
    }
    return __builtin_mul_overflow(x > y ? x : y, per, &work) ? INT64_MAX : work;
}

/* Whether the run's work is at most MAX_WORK. */
static int small_enough(const convpool_model *m, convpool_session *s)
{
    int64_t total = 0;
    for (size_t node = 0; node < convpool_model_node_count(m); node++)
        if (__builtin_add_overflow(total, node_work(m, s, node), &total) || total > MAX_WORK)
            return 0;
    return 1;
}

static void run_small(const convpool_model *m)
{
    convpool_session *s;
    if (convpool_session_create(m, &s) != CONVPOOL_OK)
        return;
    size_t n_in = convpool_model_input_count(m);
    void **buffers = calloc(n_in + 1, sizeof *buffers);
    int ok = buffers != NULL;
    for (size_t i = 0; ok && i < n_in; i++) {
        int32_t dtype;
        size_t rank;
        int64_t dims[8];
        ok = convpool_model_input_info(m, i, &dtype, &rank, dims, 8) == CONVPOOL_OK;
        int64_t count = 1;
        for (size_t d = 0; ok && d < rank; d++) {
            if (dims[d] < 0)
                dims[d] = 1;
            ok = dims[d] <= MAX_ELEMENTS && (count *= dims[d]) <= MAX_ELEMENTS;
        }
        if (ok)
            ok = (buffers[i] = calloc((size_t)count + 1, 8)) != NULL &&
                 convpool_session_set_input(s, i, dtype, dims, rank, buffers[i]) == CONVPOOL_OK;
    }
    if (ok && small_enough(m, s) && convpool_session_run(s, NULL) != CONVPOOL_OK &&
        !*convpool_last_error())
        abort(); /* a failure must always say why */
    for (size_t i = 0; buffers && i < n_in; i++)
        free(buffers[i]);
    free(buffers);
    convpool_session_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    convpool_model *m = NULL;
    /* A memory limit keeps huge declared tensors from exhausting the fuzzer. */
    convpool_status st = convpool_model_load_memory(data, size, (size_t)256 << 20, &m);
    if (st != CONVPOOL_OK) {
        if (m || !*convpool_last_error())
            abort();
        return 0;
    }
    run_small(m);
    convpool_model_destroy(m);
    return 0;
}
