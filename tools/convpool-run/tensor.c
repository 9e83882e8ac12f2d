/*
 * tensor.c - allocation, element access and file helpers for cli_tensor.
 */
#include "tensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convpool.h"
#include "tensor_npy.h"
#include "tensor_pb.h"

size_t cli_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case CONVPOOL_DTYPE_FLOAT: return 4;
    case CONVPOOL_DTYPE_UINT8: return 1;
    case CONVPOOL_DTYPE_INT8: return 1;
    case CONVPOOL_DTYPE_INT64: return 8;
    default: return 0;
    }
}

const char *cli_dtype_name(int32_t dtype)
{
    static char unknown[32];
    switch (dtype) {
    case CONVPOOL_DTYPE_FLOAT: return "float32";
    case CONVPOOL_DTYPE_UINT8: return "uint8";
    case CONVPOOL_DTYPE_INT8: return "int8";
    case CONVPOOL_DTYPE_INT64: return "int64";
    default:
        snprintf(unknown, sizeof unknown, "dtype(%d)", (int)dtype);
        return unknown;
    }
}

int cli_tensor_alloc(cli_tensor *t, int32_t dtype, const int64_t *dims, size_t rank,
                     char err[CLI_ERR_LEN])
{
    return cli_tensor_alloc_within(t, dtype, dims, rank, SIZE_MAX, err);
}

int cli_tensor_alloc_within(cli_tensor *t, int32_t dtype, const int64_t *dims, size_t rank,
                            size_t max_bytes, char err[CLI_ERR_LEN])
{
    size_t elem = cli_dtype_size(dtype);
    if (elem == 0) {
        snprintf(err, CLI_ERR_LEN, "unsupported element type %s", cli_dtype_name(dtype));
        return -1;
    }
    if (rank > CLI_MAX_RANK) {
        snprintf(err, CLI_ERR_LEN, "rank %zu is more than the %d dims supported",
                 rank, CLI_MAX_RANK);
        return -1;
    }
    size_t count = 1, bytes;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0) {
            snprintf(err, CLI_ERR_LEN, "dim %zu is negative (%lld)", i, (long long)dims[i]);
            return -1;
        }
        if ((uint64_t)dims[i] > SIZE_MAX ||
            __builtin_mul_overflow(count, (size_t)dims[i], &count)) {
            snprintf(err, CLI_ERR_LEN, "the element count overflows");
            return -1;
        }
    }
    if (__builtin_mul_overflow(count, elem, &bytes)) {
        snprintf(err, CLI_ERR_LEN, "the byte size overflows");
        return -1;
    }
    if (bytes > max_bytes) {
        snprintf(err, CLI_ERR_LEN, "the shape needs %zu bytes, more than the file can hold (%zu)",
                 bytes, max_bytes);
        return -1;
    }
    void *data = calloc(bytes ? bytes : 1, 1);
    if (!data) {
        snprintf(err, CLI_ERR_LEN, "out of memory allocating %zu bytes", bytes);
        return -1;
    }
    free(t->data);
    t->data = data;
    t->dtype = dtype;
    t->rank = rank;
    for (size_t i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->count = count;
    return 0;
}

void cli_tensor_free(cli_tensor *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

double cli_tensor_get(const cli_tensor *t, size_t i)
{
    switch (t->dtype) {
    case CONVPOOL_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case CONVPOOL_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    case CONVPOOL_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case CONVPOOL_DTYPE_INT64: return (double)((const int64_t *)t->data)[i];
    default: return 0.0;
    }
}

void cli_load_le(void *dst, const unsigned char *src, size_t count, size_t elem_size)
{
    unsigned char *out = dst;
    for (size_t i = 0; i < count; i++, src += elem_size, out += elem_size) {
        uint64_t v = 0;
        for (size_t b = 0; b < elem_size; b++)
            v |= (uint64_t)src[b] << (8 * b);
        if (elem_size == 8) {
            memcpy(out, &v, 8);
        } else if (elem_size == 4) {
            uint32_t v32 = (uint32_t)v;
            memcpy(out, &v32, 4);
        } else {
            *out = (unsigned char)v;
        }
    }
}

void cli_store_le(unsigned char *dst, const void *src, size_t count, size_t elem_size)
{
    const unsigned char *in = src;
    for (size_t i = 0; i < count; i++, in += elem_size, dst += elem_size) {
        uint64_t v;
        if (elem_size == 8) {
            memcpy(&v, in, 8);
        } else if (elem_size == 4) {
            uint32_t v32;
            memcpy(&v32, in, 4);
            v = v32;
        } else {
            v = *in;
        }
        for (size_t b = 0; b < elem_size; b++)
            dst[b] = (unsigned char)(v >> (8 * b));
    }
}

void cli_format_shape(const int64_t *dims, size_t rank, char *buf, size_t buf_size)
{
    size_t used = (size_t)snprintf(buf, buf_size, "[");
    for (size_t i = 0; i < rank && used < buf_size; i++)
        used += (size_t)snprintf(buf + used, buf_size - used, "%s%lld", i ? ", " : "",
                                 (long long)dims[i]);
    if (used < buf_size)
        snprintf(buf + used, buf_size - used, "]");
}

/* Reads all of f into a malloc'd buffer; NULL on a read error or no memory. */
static unsigned char *read_all(FILE *f, size_t *size, const char **why)
{
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    *why = buf ? "read error" : "out of memory";
    if (buf && ferror(f)) {
        *why = strerror(errno);
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

int cli_read_file(const char *path, unsigned char **data, size_t *size, char err[CLI_ERR_LEN])
{
    int from_stdin = strcmp(path, "-") == 0;
    struct stat sb;
    if (!from_stdin && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, CLI_ERR_LEN, "%s is a directory, not a file", path);
        return -1;
    }
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, CLI_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    const char *why;
    unsigned char *buf = read_all(f, size, &why);
    if (!from_stdin)
        fclose(f);
    if (!buf) {
        snprintf(err, CLI_ERR_LEN, "%s: %s", from_stdin ? "standard input" : path, why);
        return -1;
    }
    *data = buf;
    return 0;
}

int cli_write_file(const char *path, const void *data, size_t size, char err[CLI_ERR_LEN])
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, CLI_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t written = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || written != size) {
        snprintf(err, CLI_ERR_LEN, "%s: write error", path);
        return -1;
    }
    return 0;
}

int cli_tensor_decode(const unsigned char *bytes, size_t size, const char *path, cli_tensor *t,
                      char err[CLI_ERR_LEN])
{
    char detail[CLI_ERR_LEN];
    int rc = cli_npy_is_npy(bytes, size) ? cli_npy_decode(bytes, size, t, detail)
                                         : cli_pb_decode(bytes, size, t, detail);
    if (rc != 0)
        snprintf(err, CLI_ERR_LEN, "%.200s: %.300s",
                 strcmp(path, "-") == 0 ? "standard input" : path, detail);
    return rc;
}

int cli_tensor_load(const char *path, cli_tensor *t, char err[CLI_ERR_LEN])
{
    unsigned char *bytes;
    size_t size;
    if (cli_read_file(path, &bytes, &size, err) != 0)
        return -1;
    int rc = cli_tensor_decode(bytes, size, path, t, err);
    free(bytes);
    return rc;
}
