/*
 * tensor.h - an ONNX TensorProto decoded into plain memory: what
 * initializers, Constant values and test-data files become. Free of
 * protobuf types, so tests (and tools built on the internals) can use it.
 */
#ifndef CP_ONNX_TENSOR_H
#define CP_ONNX_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"

/* Highest tensor rank the loader accepts anywhere (ops need at most 5). */
#define CP_TENSOR_MAX_RANK 8

typedef struct cp_tensor {
    char *name;    /* malloc'd; "" if the proto has none */
    int32_t dtype; /* convpool_dtype */
    size_t rank;
    int64_t dims[CP_TENSOR_MAX_RANK];
    int64_t count; /* elements */
    size_t bytes;
    void *data; /* cp_alloc'd, host byte order; NULL if bytes == 0 */
} cp_tensor;

/* Where a tensor's bytes may come from, and how many it may take. */
typedef struct cp_tensor_source {
    const char *dir; /* directory for external data; NULL: external data refused */
    size_t *budget;  /* bytes still allowed (decremented); NULL: no limit */
} cp_tensor_source;

/* Bytes of one element of `dtype`, or 0 for types the loader does not handle. */
size_t cp_dtype_size(int32_t dtype);

/* "FLOAT", "DOUBLE", ... for any TensorProto data type, for messages. */
const char *cp_dtype_name(int32_t dtype);

/*
 * Reads a serialized TensorProto file (the ONNX test-data format) into *t.
 * External data resolves against the file's directory. Errors: IO,
 * INVALID_MODEL, UNSUPPORTED, OVERFLOW, OUT_OF_MEMORY, with a message.
 */
convpool_status cp_tensor_read_file(const char *path, cp_tensor *t);

/* Frees what *t owns and zeroes it. */
void cp_tensor_free(cp_tensor *t);

/*
 * Reads a whole file into cp_alloc'd memory (*data; NULL for an empty file).
 * Errors: IO, OUT_OF_MEMORY (also when the file exceeds `max_bytes`, 0: none).
 */
convpool_status cp_read_whole_file(const char *path, size_t max_bytes, void **data, size_t *size);

/* The directory part of `path` ("." if none), malloc'd; NULL if out of memory. */
char *cp_dir_of(const char *path);

/*
 * Reads `length` bytes at `offset` of the file `location`, which must lie
 * inside directory `dir` after resolving symlinks (no absolute paths, no
 * ".."), into `dest`. `what` names the tensor in messages.
 * Errors: INVALID_MODEL (escaping path, size mismatch), IO.
 */
convpool_status cp_read_external(const char *dir, const char *location, uint64_t offset,
                                 size_t length, void *dest, const char *what);

#endif
