/* Bounded-nesting check of protobuf wire data, then protobuf-c unpacking. */
#include "onnx/proto.h"

#include "runtime/error.h"

/* Reads a base-128 varint; 0 on truncation or more than 10 bytes. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/*
 * Walks the fields of a message of type `d` in [p, end) and recurses into
 * submessage fields, refusing nesting deeper than CP_PROTO_MAX_DEPTH and
 * wire data that does not even tokenize. protobuf-c's unpacker recurses
 * without a limit; this walk is what bounds it.
 */
static int nesting_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                      int depth)
{
    if (depth > CP_PROTO_MAX_DEPTH)
        return 0;
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key))
            return 0;
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &len))
                return 0;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return 0;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !nesting_ok(f->descriptor, p, p + len, depth + 1))
                return 0;
            p += len;
            break;
        }
        default: /* groups (3, 4) are not used by onnx.proto; 6, 7 do not exist */ return 0;
        }
    }
    return 1;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                size_t size, const char *what)
{
    if (size == 0) {
        cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "%s is empty (0 bytes)", what);
        return NULL;
    }
    if (!nesting_ok(d, data, data + size, 0)) {
        cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                "%s is not a valid ONNX %s: the protobuf encoding is malformed, truncated "
                "or nested deeper than %d levels",
                what, d->short_name, CP_PROTO_MAX_DEPTH);
        return NULL;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size, data);
    if (!m)
        cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                "%s is not a valid ONNX %s: protobuf decoding failed (wrong field types, "
                "truncated data or not an ONNX file)",
                what, d->short_name);
    return m;
}

Onnx__ModelProto *cp_proto_unpack_model(const uint8_t *data, size_t size, const char *what)
{
    return (Onnx__ModelProto *)unpack(&onnx__model_proto__descriptor, data, size, what);
}

Onnx__TensorProto *cp_proto_unpack_tensor(const uint8_t *data, size_t size, const char *what)
{
    return (Onnx__TensorProto *)unpack(&onnx__tensor_proto__descriptor, data, size, what);
}
