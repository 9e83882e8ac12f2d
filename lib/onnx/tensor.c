/* TensorProto -> cp_tensor: every size is checked before it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/proto.h"
#include "runtime/alloc.h"
#include "runtime/checked.h"
#include "runtime/error.h"

size_t cp_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case CONVPOOL_DTYPE_FLOAT: return 4;
    case CONVPOOL_DTYPE_UINT8:
    case CONVPOOL_DTYPE_INT8: return 1;
    case CONVPOOL_DTYPE_INT64: return 8;
    default: return 0;
    }
}

const char *cp_dtype_name(int32_t dtype)
{
    static const char *names[] = {
        "UNDEFINED",      "FLOAT",      "UINT8",          "INT8",       "UINT16",   "INT16",
        "INT32",          "INT64",      "STRING",         "BOOL",       "FLOAT16",  "DOUBLE",
        "UINT32",         "UINT64",     "COMPLEX64",      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",      "INT4",     "FLOAT4E2M1"};
    if (dtype >= 0 && (size_t)dtype < sizeof names / sizeof names[0])
        return names[dtype];
    return "unknown";
}

void cp_tensor_free(cp_tensor *t)
{
    if (!t)
        return;
    free(t->name);
    cp_free(t->data);
    memset(t, 0, sizeof *t);
}

/* Converts little-endian element bytes to host order in place. */
static void from_little_endian(void *data, size_t bytes, size_t elem)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint8_t *b = data;
    for (size_t i = 0; i + elem <= bytes; i += elem)
        for (size_t j = 0; j < elem / 2; j++) {
            uint8_t tmp = b[i + j];
            b[i + j] = b[i + elem - 1 - j];
            b[i + elem - 1 - j] = tmp;
        }
#else
    (void)data;
    (void)bytes;
    (void)elem;
#endif
}

/* Reads the external_data entries; refuses unknown keys so that nothing
 * the file asks for is silently ignored. */
static convpool_status external_location(const Onnx__TensorProto *p, const char *name,
                                         const char **location, uint64_t *offset, int64_t *length)
{
    *location = NULL;
    *offset = 0;
    *length = -1;
    for (size_t i = 0; i < p->n_external_data; i++) {
        const char *key = p->external_data[i]->key ? p->external_data[i]->key : "";
        const char *value = p->external_data[i]->value ? p->external_data[i]->value : "";
        if (strcmp(key, "location") == 0) {
            *location = value;
        } else if (strcmp(key, "offset") == 0 || strcmp(key, "length") == 0) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(value, &end, 10);
            if (errno || end == value || *end || value[0] == '-' || v > INT64_MAX)
                return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                               "tensor '%s': external_data %s = '%s' is not a byte count", name,
                               key, value);
            if (key[0] == 'o')
                *offset = v;
            else
                *length = (int64_t)v;
        } else if (strcmp(key, "checksum") != 0) {
            return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                           "tensor '%s': external_data key '%s' is not supported "
                           "(known: location, offset, length, checksum)",
                           name, key);
        }
    }
    if (!*location || !**location)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': external data without a 'location'", name);
    return CONVPOOL_OK;
}

/* Number of values in the typed field that holds `dtype`, and whether raw_data is set. */
static size_t typed_count(const Onnx__TensorProto *p, int32_t dtype)
{
    switch (dtype) {
    case CONVPOOL_DTYPE_FLOAT: return p->n_float_data;
    case CONVPOOL_DTYPE_INT64: return p->n_int64_data;
    default: return p->n_int32_data; /* uint8 / int8 are stored widened to int32 */
    }
}

static convpool_status copy_typed(const Onnx__TensorProto *p, cp_tensor *t)
{
    switch (t->dtype) {
    case CONVPOOL_DTYPE_FLOAT: memcpy(t->data, p->float_data, t->bytes); break;
    case CONVPOOL_DTYPE_INT64: memcpy(t->data, p->int64_data, t->bytes); break;
    default: {
        int32_t lo = t->dtype == CONVPOOL_DTYPE_UINT8 ? 0 : -128;
        int32_t hi = t->dtype == CONVPOOL_DTYPE_UINT8 ? 255 : 127;
        uint8_t *out = t->data;
        for (int64_t i = 0; i < t->count; i++) {
            int32_t v = p->int32_data[i];
            if (v < lo || v > hi)
                return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                               "tensor '%s': int32_data[%lld] = %d is out of range for %s", t->name,
                               (long long)i, (int)v, cp_dtype_name(t->dtype));
            out[i] = (uint8_t)v;
        }
    }
    }
    return CONVPOOL_OK;
}

static convpool_status decode_data(const Onnx__TensorProto *p, const cp_tensor_source *src,
                                   cp_tensor *t)
{
    const char *name = t->name;
    int external =
        p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t n_typed = typed_count(p, t->dtype);
    size_t n_other = p->n_float_data + p->n_int32_data + p->n_int64_data + p->n_double_data +
                     p->n_uint64_data + p->n_string_data - n_typed;
    int sources = (p->has_raw_data ? 1 : 0) + (n_typed ? 1 : 0) + external;
    if (n_other)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': a %s tensor has values in a data field of another type", name,
                       cp_dtype_name(t->dtype));
    if (sources > 1)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': data given in more than one place (raw_data, typed "
                       "data, external data)",
                       name);
    if (external && p->has_raw_data)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "tensor '%s': external data with raw_data",
                       name);
    if (sources == 0 && t->count > 0)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': dims need %lld elements but the tensor has no data", name,
                       (long long)t->count);
    if (p->has_raw_data && p->raw_data.len != t->bytes)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': raw_data has %zu bytes; dims need %lld %s elements = %zu "
                       "bytes",
                       name, p->raw_data.len, (long long)t->count, cp_dtype_name(t->dtype),
                       t->bytes);
    if (n_typed && n_typed != (uint64_t)t->count)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': the typed data field has %zu values; dims need %lld", name,
                       n_typed, (long long)t->count);
    const char *location = NULL;
    uint64_t offset = 0;
    int64_t length = -1;
    if (external) {
        if (!src->dir)
            return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                           "tensor '%s': has external data, which a model loaded from memory "
                           "cannot use (load it from its file)",
                           name);
        convpool_status st = external_location(p, name, &location, &offset, &length);
        if (st != CONVPOOL_OK)
            return st;
        if (length >= 0 && (uint64_t)length != t->bytes)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                           "tensor '%s': external_data length %lld; dims need %zu bytes", name,
                           (long long)length, t->bytes);
    }
    if (t->bytes == 0)
        return CONVPOOL_OK;
    if (src->budget) {
        if (t->bytes > *src->budget)
            return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY,
                           "tensor '%s': %zu bytes exceed the memory limit (%zu bytes left)", name,
                           t->bytes, *src->budget);
        *src->budget -= t->bytes;
    }
    t->data = cp_alloc(t->bytes);
    if (!t->data)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "tensor '%s': cannot allocate %zu bytes", name,
                       t->bytes);
    if (external)
        return cp_read_external(src->dir, location, offset, t->bytes, t->data, name);
    if (p->has_raw_data) {
        memcpy(t->data, p->raw_data.data, t->bytes);
        from_little_endian(t->data, t->bytes, cp_dtype_size(t->dtype));
        return CONVPOOL_OK;
    }
    return copy_typed(p, t);
}

convpool_status cp_tensor_decode(const Onnx__TensorProto *p, const cp_tensor_source *src,
                                 cp_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->name = strdup(p->name ? p->name : "");
    if (!t->name)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a tensor name");
    const char *name = t->name;
    convpool_status st = CONVPOOL_OK;
    if (p->n_dims > CP_TENSOR_MAX_RANK) {
        st = cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "tensor '%s': rank %zu exceeds the maximum %d",
                     name, p->n_dims, CP_TENSOR_MAX_RANK);
        goto fail;
    }
    if (p->segment) {
        st = cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                     "tensor '%s': segmented tensors are not "
                     "supported",
                     name);
        goto fail;
    }
    t->dtype = p->has_data_type ? p->data_type : 0;
    size_t elem = cp_dtype_size(t->dtype);
    if (!elem) {
        st = cp_fail(p->has_data_type && t->dtype != 0 ? CONVPOOL_ERROR_UNSUPPORTED
                                                       : CONVPOOL_ERROR_INVALID_MODEL,
                     "tensor '%s': element type %d (%s) is not supported (FLOAT, UINT8, INT8, "
                     "INT64 are)",
                     name, (int)t->dtype, cp_dtype_name(t->dtype));
        goto fail;
    }
    t->rank = p->n_dims;
    for (size_t i = 0; i < t->rank; i++) {
        if (p->dims[i] < 0) {
            st = cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                         "tensor '%s': dims[%zu] = %lld is "
                         "negative",
                         name, i, (long long)p->dims[i]);
            goto fail;
        }
        t->dims[i] = p->dims[i];
    }
    if (!cp_element_count(t->dims, t->rank, elem, &t->count)) {
        st = cp_fail(CONVPOOL_ERROR_OVERFLOW,
                     "tensor '%s': the element count of its dims "
                     "overflows",
                     name);
        goto fail;
    }
    t->bytes = (size_t)t->count * elem;
    st = decode_data(p, src, t);
    if (st == CONVPOOL_OK)
        return st;
fail:
    cp_tensor_free(t);
    return st;
}

convpool_status cp_read_whole_file(const char *path, size_t max_bytes, void **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cp_fail(CONVPOOL_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    convpool_status st = CONVPOOL_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cp_fail(CONVPOOL_ERROR_IO, "'%s' is not a readable regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX || (max_bytes && (size_t)sb.st_size > max_bytes)) {
        st = cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY,
                     "'%s' has %lld bytes, more than the memory "
                     "limit %zu",
                     path, (long long)sb.st_size, max_bytes);
        goto done;
    }
    size_t n = (size_t)sb.st_size;
    if (n) {
        buf = cp_alloc(n);
        if (!buf) {
            st = cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes for '%s'", n,
                         path);
            goto done;
        }
    }
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = cp_fail(CONVPOOL_ERROR_IO, "cannot read '%s': %s", path,
                         r < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        got += (size_t)r;
    }
    *data = buf;
    *size = n;
    buf = NULL;
done:
    cp_free(buf);
    close(fd);
    return st;
}

char *cp_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

convpool_status cp_tensor_read_file(const char *path, cp_tensor *t)
{
    if (!path || !t)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "path or tensor is NULL");
    void *bytes = NULL;
    size_t size = 0;
    convpool_status st = cp_read_whole_file(path, 0, &bytes, &size);
    if (st != CONVPOOL_OK)
        return st;
    char what[300];
    snprintf(what, sizeof what, "tensor file '%s'", path);
    Onnx__TensorProto *p = cp_proto_unpack_tensor(bytes, size, what);
    cp_free(bytes);
    if (!p)
        return CONVPOOL_ERROR_INVALID_MODEL;
    char *dir = cp_dir_of(path);
    if (!dir) {
        onnx__tensor_proto__free_unpacked(p, NULL);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a path");
    }
    cp_tensor_source src = {dir, NULL};
    st = cp_tensor_decode(p, &src, t);
    free(dir);
    onnx__tensor_proto__free_unpacked(p, NULL);
    return st;
}
