/*
 * libFuzzer target for the CLI's TensorProto .pb reader (tools/convpool-run/tensor_pb.c);
 * the checks are in fuzz_codec.h. Build with clang and -Dfuzz=enabled, then:
 *   build-fuzz/tests/fuzz/fuzz_pb -max_len=4096 tests/fuzz/corpus_pb
 */
#include "fuzz_codec.h"
#include "tensor_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_codec_check(data, size, cli_pb_decode, cli_pb_encode);
}
