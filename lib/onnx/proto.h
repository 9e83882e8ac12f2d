/*
 * proto.h - the only door to the generated protobuf-c parser: unpacks
 * ModelProto / TensorProto bytes after a bounded-nesting pre-check, so that
 * hostile input cannot exhaust the stack in the recursive unpacker.
 * Internal to lib/onnx (protobuf-c types never leave this folder).
 */
#ifndef CP_ONNX_PROTO_H
#define CP_ONNX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"
#include "onnx/onnx.pb-c.h"

/* Message nesting deeper than this is refused (ONNX models need < 10). */
#define CP_PROTO_MAX_DEPTH 32

/* Each returns NULL after cp_fail(INVALID_MODEL or OUT_OF_MEMORY, ...);
 * `what` names the input in messages ("model", "tensor file 'x.pb'").
 * Free with the matching onnx__*__free_unpacked(m, NULL). */
Onnx__ModelProto *cp_proto_unpack_model(const uint8_t *data, size_t size, const char *what);
Onnx__TensorProto *cp_proto_unpack_tensor(const uint8_t *data, size_t size, const char *what);

#include "onnx/tensor.h"

/*
 * Decodes TensorProto `p` into *t (zeroed first): checks dims, element type,
 * that exactly one data field holds exactly the elements the dims need
 * (float_data / int32_data / int64_data, little-endian raw_data, or external
 * data inside src->dir), and the byte budget. Messages start with
 * "tensor '<name>': ". On failure *t owns nothing.
 */
convpool_status cp_tensor_decode(const Onnx__TensorProto *p, const cp_tensor_source *src,
                                 cp_tensor *t);
#endif
