/*
 * libFuzzer target for the CLI's .npy reader (tools/convpool-run/tensor_npy.c);
 * the checks are in fuzz_codec.h. Build with clang and -Dfuzz=enabled, then:
 *   build-fuzz/tests/fuzz/fuzz_npy -max_len=4096 tests/fuzz/corpus_npy
 */
#include "fuzz_codec.h"
#include "tensor_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_codec_check(data, size, cli_npy_decode, cli_npy_encode);
}
