/*
 * tensor_npy.c - NumPy .npy reader and writer.
 *
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.x,
 * uint32 LE for 2.x/3.x), then a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 6, 8), }
 * padded with spaces and a newline, then the raw array bytes.
 */
#include "tensor_npy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static const struct {
    const char *descr;
    int32_t dtype;
} npy_types[] = {
    {"<f4", CONVPOOL_DTYPE_FLOAT},
    {"<i8", CONVPOOL_DTYPE_INT64},
    {"|u1", CONVPOOL_DTYPE_UINT8},
    {"|i1", CONVPOOL_DTYPE_INT8},
};

int cli_npy_is_npy(const unsigned char *data, size_t size)
{
    return size >= sizeof npy_magic && memcmp(data, npy_magic, sizeof npy_magic) == 0;
}

/* The header text, NUL-terminated, so that the parser cannot run off it. */
typedef struct header {
    char *text;
    const char *cursor;
} header;

static void skip_spaces(header *h)
{
    while (*h->cursor && isspace((unsigned char)*h->cursor))
        h->cursor++;
}

/* Positions the cursor after "'key':" (either quote style); 0 if absent. */
static int find_key(header *h, const char *key)
{
    for (const char *p = h->text; (p = strstr(p, key)) != NULL; p++) {
        if (p == h->text || (p[-1] != '\'' && p[-1] != '"') || p[strlen(key)] != p[-1])
            continue;
        h->cursor = p + strlen(key) + 1;
        skip_spaces(h);
        if (*h->cursor != ':')
            continue;
        h->cursor++;
        skip_spaces(h);
        return 1;
    }
    return 0;
}

static int parse_descr(header *h, char *descr, size_t cap)
{
    char quote = *h->cursor;
    if (quote != '\'' && quote != '"')
        return -1;
    const char *end = strchr(h->cursor + 1, quote);
    if (!end || (size_t)(end - h->cursor - 1) >= cap)
        return -1;
    memcpy(descr, h->cursor + 1, (size_t)(end - h->cursor - 1));
    descr[end - h->cursor - 1] = '\0';
    return 0;
}

static int parse_shape(header *h, int64_t *dims, size_t *rank, char err[CLI_ERR_LEN])
{
    if (*h->cursor != '(')
        return -1;
    h->cursor++;
    *rank = 0;
    for (;;) {
        skip_spaces(h);
        if (*h->cursor == ')')
            return 0;
        if (!isdigit((unsigned char)*h->cursor))
            return -1;
        int64_t v = 0;
        while (isdigit((unsigned char)*h->cursor)) {
            if (__builtin_mul_overflow(v, 10, &v) ||
                __builtin_add_overflow(v, *h->cursor - '0', &v)) {
                snprintf(err, CLI_ERR_LEN, "a dim in the .npy shape overflows int64");
                return -2;
            }
            h->cursor++;
        }
        if (*rank == CLI_MAX_RANK) {
            snprintf(err, CLI_ERR_LEN, ".npy array has more than %d dims", CLI_MAX_RANK);
            return -2;
        }
        dims[(*rank)++] = v;
        skip_spaces(h);
        if (*h->cursor == ',')
            h->cursor++;
        else if (*h->cursor != ')')
            return -1;
    }
}

int cli_npy_decode(const unsigned char *data, size_t size, cli_tensor *t,
                   char err[CLI_ERR_LEN])
{
    memset(t, 0, sizeof *t);
    if (!cli_npy_is_npy(data, size) || size < 10) {
        snprintf(err, CLI_ERR_LEN, "not a .npy file (bad magic or too short)");
        return -1;
    }
    unsigned major = data[6];
    size_t header_len, header_at;
    if (major == 1) {
        header_len = (size_t)data[8] | (size_t)data[9] << 8;
        header_at = 10;
    } else if ((major == 2 || major == 3) && size >= 12) {
        header_len = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 |
                     (size_t)data[11] << 24;
        header_at = 12;
    } else {
        snprintf(err, CLI_ERR_LEN, ".npy format version %u is not supported (1, 2, 3 are)",
                 major);
        return -1;
    }
    if (header_len > size - header_at) {
        snprintf(err, CLI_ERR_LEN, "truncated .npy header");
        return -1;
    }
    header h = {malloc(header_len + 1), NULL};
    if (!h.text) {
        snprintf(err, CLI_ERR_LEN, "out of memory");
        return -1;
    }
    memcpy(h.text, data + header_at, header_len);
    h.text[header_len] = '\0';

    char descr[16];
    int64_t dims[CLI_MAX_RANK];
    size_t rank = 0;
    int rc = -1, shape_rc;
    int32_t dtype = 0;
    if (!find_key(&h, "descr") || parse_descr(&h, descr, sizeof descr) != 0) {
        snprintf(err, CLI_ERR_LEN, "the .npy header has no readable 'descr'");
    } else if (!find_key(&h, "fortran_order") ||
               (strncmp(h.cursor, "False", 5) != 0 && strncmp(h.cursor, "True", 4) != 0)) {
        snprintf(err, CLI_ERR_LEN, "the .npy header has no readable 'fortran_order'");
    } else if (strncmp(h.cursor, "True", 4) == 0) {
        snprintf(err, CLI_ERR_LEN,
                 "Fortran-order .npy arrays are not supported; save a C-order copy "
                 "(numpy.save(path, numpy.ascontiguousarray(a)))");
    } else if (!find_key(&h, "shape") || (shape_rc = parse_shape(&h, dims, &rank, err)) == -1) {
        snprintf(err, CLI_ERR_LEN, "the .npy header has no readable 'shape'");
    } else if (shape_rc == 0) {
        for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
            if (strcmp(descr, npy_types[i].descr) == 0)
                dtype = npy_types[i].dtype;
        if (dtype == 0)
            snprintf(err, CLI_ERR_LEN,
                     ".npy dtype '%s' is not supported ('<f4' float32, '<i8' int64, "
                     "'|u1' uint8, '|i1' int8); convert with a.astype(numpy.float32)",
                     descr);
        else
            rc = 0;
    }
    free(h.text);
    size_t body = size - header_at - header_len;
    if (rc != 0 || cli_tensor_alloc_within(t, dtype, dims, rank, body, err) != 0)
        return -1;
    size_t elem = cli_dtype_size(dtype);
    if (body != t->count * elem) {
        snprintf(err, CLI_ERR_LEN, ".npy data holds %zu bytes; shape and dtype need %zu",
                 body, t->count * elem);
        cli_tensor_free(t);
        return -1;
    }
    cli_load_le(t->data, data + header_at + header_len, t->count, elem);
    return 0;
}

int cli_npy_encode(const cli_tensor *t, unsigned char **out, size_t *out_size)
{
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == t->dtype)
            descr = npy_types[i].descr;
    if (!descr)
        return -1;
    char dict[64 + CLI_MAX_RANK * 24];
    char shape[CLI_MAX_RANK * 24];
    size_t used = (size_t)snprintf(shape, sizeof shape, "(");
    for (size_t i = 0; i < t->rank; i++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%lld,%s",
                                 (long long)t->dims[i], i + 1 < t->rank ? " " : "");
    if (t->rank > 1)
        used--; /* "(1, 2)" not "(1, 2,)"; a 1-D shape keeps "(5,)" */
    snprintf(shape + used, sizeof shape - used, ")");
    int dict_len = snprintf(dict, sizeof dict,
                            "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                            descr, shape);
    /* Pad so that the data starts on a 64-byte boundary, as numpy does. */
    size_t header_len = (size_t)dict_len + 1;
    header_len += (64 - (10 + header_len) % 64) % 64;
    size_t elem = cli_dtype_size(t->dtype);
    size_t total = 10 + header_len + t->count * elem;
    unsigned char *buf = malloc(total);
    if (!buf)
        return -1;
    memcpy(buf, npy_magic, sizeof npy_magic);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (unsigned char)(header_len & 0xff);
    buf[9] = (unsigned char)(header_len >> 8);
    memset(buf + 10, ' ', header_len);
    memcpy(buf + 10, dict, (size_t)dict_len);
    buf[10 + header_len - 1] = '\n';
    cli_store_le(buf + 10 + header_len, t->data, t->count, elem);
    *out = buf;
    *out_size = total;
    return 0;
}
