/*
 * libFuzzer target for the ONNX loader: any bytes must load cleanly or be
 * refused with a message; a model that loads must also run on small inputs
 * (symbolic dims set to 1) without a crash. Build with clang and
 * -Dfuzz=enabled, then e.g.:
 *   build-fuzz/tests/fuzz/fuzz_load -max_len=65536 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

#define MAX_ELEMENTS (1 << 20)

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
    if (ok && convpool_session_run(s, NULL) != CONVPOOL_OK && !*convpool_last_error())
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
