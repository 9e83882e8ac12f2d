/*
 * tensor_pb.h - ONNX TensorProto (.pb) files on the protobuf wire format,
 * without protobuf: the CLI uses only libconvpool's public API and libc.
 *
 * Read: dims (1, packed or not), data_type (2), float_data (4), int32_data
 * (5, which carries uint8/int8), int64_data (7), name (8), raw_data (9,
 * little-endian). Unknown fields are skipped; external data and segments
 * are refused. Every length and count is checked against the buffer.
 * Write: name, dims, data_type and raw_data, as onnx.numpy_helper does.
 */
#ifndef CLI_TENSOR_PB_H
#define CLI_TENSOR_PB_H

#include <stddef.h>

#include "tensor.h"

/* Decodes `size` bytes into t (which must be zeroed or freed). Returns 0, or
 * -1 with a message in err and t left empty. */
int cli_pb_decode(const unsigned char *data, size_t size, cli_tensor *t,
                  char err[CLI_ERR_LEN]);

/* Encodes t into a malloc'd buffer. Returns 0 or -1 (out of memory). */
int cli_pb_encode(const cli_tensor *t, unsigned char **out, size_t *out_size);

#endif
