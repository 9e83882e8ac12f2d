/*
 * tensor_pb.c - TensorProto decode/encode on the protobuf wire format.
 *
 * Wire format recap: each field is a varint key (field_number << 3 | wire
 * type) then a varint (type 0), 8 bytes (1), a varint length and that many
 * bytes (2), or 4 bytes (5). Repeated scalars arrive packed (one type-2
 * field) or one per field; a decoder must accept both.
 */
#include "tensor_pb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_BYTES = 2,
    WIRE_FIXED32 = 5,
};

enum {
    FIELD_DIMS = 1,
    FIELD_DATA_TYPE = 2,
    FIELD_SEGMENT = 3,
    FIELD_FLOAT_DATA = 4,
    FIELD_INT32_DATA = 5,
    FIELD_INT64_DATA = 7,
    FIELD_NAME = 8,
    FIELD_RAW_DATA = 9,
    FIELD_DATA_LOCATION = 14,
};

typedef struct reader {
    const unsigned char *p, *end;
} reader;

/* One decoded field: for WIRE_BYTES, bytes/len; otherwise value. */
typedef struct field {
    uint32_t number;
    int wire;
    uint64_t value;
    const unsigned char *bytes;
    size_t len;
} field;

static int read_varint(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        unsigned char b = *r->p++;
        if (shift == 63 && b > 1)
            return -1; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

/* Reads the next field; -1 on a truncated or malformed one. */
static int next_field(reader *r, field *f, char err[CLI_ERR_LEN])
{
    uint64_t key;
    if (read_varint(r, &key) != 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX) {
        snprintf(err, CLI_ERR_LEN, "not a TensorProto: bad field key");
        return -1;
    }
    f->number = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    f->bytes = NULL;
    f->len = 0;
    f->value = 0;
    switch (f->wire) {
    case WIRE_VARINT:
        if (read_varint(r, &f->value) == 0)
            return 0;
        break;
    case WIRE_FIXED64:
        if (r->end - r->p >= 8) {
            f->value = load_le64(r->p);
            r->p += 8;
            return 0;
        }
        break;
    case WIRE_FIXED32:
        if (r->end - r->p >= 4) {
            f->value = load_le32(r->p);
            r->p += 4;
            return 0;
        }
        break;
    case WIRE_BYTES: {
        uint64_t len;
        if (read_varint(r, &len) == 0 && len <= (uint64_t)(r->end - r->p)) {
            f->bytes = r->p;
            f->len = (size_t)len;
            r->p += len;
            return 0;
        }
        break;
    }
    default:
        snprintf(err, CLI_ERR_LEN, "not a TensorProto: field %u has wire type %d",
                 f->number, f->wire);
        return -1;
    }
    snprintf(err, CLI_ERR_LEN, "truncated TensorProto: field %u runs past the end", f->number);
    return -1;
}

/*
 * Visits the scalar elements of a repeated field occurrence: a packed run
 * (WIRE_BYTES) or a single value of the field's own wire type. Each element
 * is passed to `store` with its index; elements past `capacity` are only
 * counted (so a first pass can count with capacity 0). Returns the number of
 * elements, or -1 if the run is malformed.
 */
typedef void (*store_fn)(void *dst, size_t index, uint64_t raw);

static long long visit_repeated(const field *f, int scalar_wire, void *dst, size_t start,
                                size_t capacity, store_fn store)
{
    if (f->wire == scalar_wire) {
        if (start < capacity)
            store(dst, start, f->value);
        return 1;
    }
    if (f->wire != WIRE_BYTES)
        return -1;
    reader r = {f->bytes, f->bytes + f->len};
    long long n = 0;
    while (r.p < r.end) {
        uint64_t v;
        if (scalar_wire == WIRE_FIXED32) {
            if (r.end - r.p < 4)
                return -1;
            v = load_le32(r.p);
            r.p += 4;
        } else if (read_varint(&r, &v) != 0) {
            return -1;
        }
        if (start + (size_t)n < capacity)
            store(dst, start + (size_t)n, v);
        n++;
    }
    return n;
}

static void store_dim(void *dst, size_t i, uint64_t raw)
{
    ((int64_t *)dst)[i] = (int64_t)raw;
}

static void store_float(void *dst, size_t i, uint64_t raw)
{
    uint32_t bits = (uint32_t)raw;
    memcpy((float *)dst + i, &bits, 4);
}

static void store_i64(void *dst, size_t i, uint64_t raw)
{
    ((int64_t *)dst)[i] = (int64_t)raw;
}

/* int32_data carries uint8/int8 values as int32 varints; range-checked later. */
static void store_i32_as_i64(void *dst, size_t i, uint64_t raw)
{
    ((int64_t *)dst)[i] = (int32_t)(uint32_t)raw;
}

/* What the first pass learns about the message. */
typedef struct summary {
    int64_t dims[CLI_MAX_RANK];
    size_t rank;
    int64_t data_type;
    size_t n_float, n_int32, n_int64;
    const unsigned char *raw;
    size_t raw_len;
    int has_raw;
} summary;

static int scan(const unsigned char *data, size_t size, summary *s, cli_tensor *t,
                char err[CLI_ERR_LEN])
{
    reader r = {data, data + size};
    field f;
    memset(s, 0, sizeof *s);
    while (r.p < r.end) {
        if (next_field(&r, &f, err) != 0)
            return -1;
        long long n = 0;
        switch (f.number) {
        case FIELD_DIMS:
            n = visit_repeated(&f, WIRE_VARINT, s->dims, s->rank, CLI_MAX_RANK, store_dim);
            if (n >= 0 && s->rank + (size_t)n > CLI_MAX_RANK) {
                snprintf(err, CLI_ERR_LEN, "tensor has more than %d dims", CLI_MAX_RANK);
                return -1;
            }
            if (n >= 0)
                s->rank += (size_t)n;
            break;
        case FIELD_DATA_TYPE:
            if (f.wire != WIRE_VARINT)
                n = -1;
            s->data_type = (int64_t)f.value;
            break;
        case FIELD_SEGMENT:
            snprintf(err, CLI_ERR_LEN, "segmented tensors are not supported");
            return -1;
        case FIELD_FLOAT_DATA:
            n = visit_repeated(&f, WIRE_FIXED32, NULL, 0, 0, NULL);
            if (n >= 0)
                s->n_float += (size_t)n;
            break;
        case FIELD_INT32_DATA:
            n = visit_repeated(&f, WIRE_VARINT, NULL, 0, 0, NULL);
            if (n >= 0)
                s->n_int32 += (size_t)n;
            break;
        case FIELD_INT64_DATA:
            n = visit_repeated(&f, WIRE_VARINT, NULL, 0, 0, NULL);
            if (n >= 0)
                s->n_int64 += (size_t)n;
            break;
        case FIELD_NAME:
            if (f.wire != WIRE_BYTES) {
                n = -1;
            } else {
                size_t len = f.len < sizeof t->name - 1 ? f.len : sizeof t->name - 1;
                memcpy(t->name, f.bytes, len);
                t->name[len] = '\0';
            }
            break;
        case FIELD_RAW_DATA:
            if (f.wire != WIRE_BYTES)
                n = -1;
            s->raw = f.bytes;
            s->raw_len = f.len;
            s->has_raw = 1;
            break;
        case FIELD_DATA_LOCATION:
            if (f.wire == WIRE_VARINT && f.value != 0) {
                snprintf(err, CLI_ERR_LEN,
                         "tensor data is stored externally; only embedded data is supported");
                return -1;
            }
            break;
        default:
            break; /* unknown or unused field: skipped */
        }
        if (n < 0) {
            snprintf(err, CLI_ERR_LEN, "malformed TensorProto field %u (wire type %d)",
                     f.number, f.wire);
            return -1;
        }
    }
    return 0;
}

/* Second pass: copies the typed data field that matches t->dtype. */
static void fill_typed(const unsigned char *data, size_t size, uint32_t wanted,
                       int scalar_wire, void *dst, size_t capacity, store_fn store)
{
    reader r = {data, data + size};
    field f;
    char ignored[CLI_ERR_LEN];
    size_t at = 0;
    while (r.p < r.end && next_field(&r, &f, ignored) == 0) {
        if (f.number != wanted)
            continue;
        long long n = visit_repeated(&f, scalar_wire, dst, at, capacity, store);
        if (n > 0)
            at += (size_t)n;
    }
}

static int fill_from_raw(const summary *s, cli_tensor *t, char err[CLI_ERR_LEN])
{
    size_t elem = cli_dtype_size(t->dtype);
    if (s->raw_len != t->count * elem) {
        snprintf(err, CLI_ERR_LEN, "raw_data holds %zu bytes; shape and type need %zu",
                 s->raw_len, t->count * elem);
        return -1;
    }
    cli_load_le(t->data, s->raw, t->count, elem);
    return 0;
}

static int fill_small_ints(const unsigned char *data, size_t size, cli_tensor *t,
                           char err[CLI_ERR_LEN])
{
    int64_t *wide = malloc((t->count ? t->count : 1) * sizeof *wide);
    if (!wide) {
        snprintf(err, CLI_ERR_LEN, "out of memory");
        return -1;
    }
    fill_typed(data, size, FIELD_INT32_DATA, WIRE_VARINT, wide, t->count, store_i32_as_i64);
    int is_unsigned = t->dtype == CONVPOOL_DTYPE_UINT8;
    int64_t lo = is_unsigned ? 0 : -128, hi = is_unsigned ? 255 : 127;
    for (size_t i = 0; i < t->count; i++) {
        if (wide[i] < lo || wide[i] > hi) {
            snprintf(err, CLI_ERR_LEN, "int32_data[%zu] = %lld is out of range for %s", i,
                     (long long)wide[i], cli_dtype_name(t->dtype));
            free(wide);
            return -1;
        }
        if (is_unsigned)
            ((uint8_t *)t->data)[i] = (uint8_t)wide[i];
        else
            ((int8_t *)t->data)[i] = (int8_t)wide[i];
    }
    free(wide);
    return 0;
}

int cli_pb_decode(const unsigned char *data, size_t size, cli_tensor *t,
                  char err[CLI_ERR_LEN])
{
    summary s;
    memset(t, 0, sizeof *t);
    if (scan(data, size, &s, t, err) != 0)
        return -1;
    if (cli_dtype_size((int32_t)s.data_type) == 0 || s.data_type > INT32_MAX) {
        snprintf(err, CLI_ERR_LEN,
                 "data_type %lld is not supported (float32=1, uint8=2, int8=3, int64=7)",
                 (long long)s.data_type);
        return -1;
    }
    char name[sizeof t->name];
    memcpy(name, t->name, sizeof name);
    /* Every value takes at least one byte of the file (a varint) and at
     * most 8 in memory. */
    size_t max_bytes = size <= SIZE_MAX / 8 ? size * 8 : SIZE_MAX;
    if (cli_tensor_alloc_within(t, (int32_t)s.data_type, s.dims, s.rank, max_bytes, err) != 0)
        return -1;
    memcpy(t->name, name, sizeof name);

    size_t n_float = t->dtype == CONVPOOL_DTYPE_FLOAT ? s.n_float : 0;
    size_t n_int32 = (t->dtype == CONVPOOL_DTYPE_UINT8 || t->dtype == CONVPOOL_DTYPE_INT8)
                         ? s.n_int32 : 0;
    size_t n_int64 = t->dtype == CONVPOOL_DTYPE_INT64 ? s.n_int64 : 0;
    size_t n_typed = n_float + n_int32 + n_int64;
    size_t n_other = s.n_float + s.n_int32 + s.n_int64 - n_typed;
    int rc = 0;
    if (n_other > 0) {
        snprintf(err, CLI_ERR_LEN, "a data field does not match data_type %s",
                 cli_dtype_name(t->dtype));
        rc = -1;
    } else if (s.has_raw && n_typed > 0) {
        snprintf(err, CLI_ERR_LEN, "both raw_data and a typed data field are set");
        rc = -1;
    } else if (s.has_raw) {
        rc = fill_from_raw(&s, t, err);
    } else if (n_typed != t->count) {
        snprintf(err, CLI_ERR_LEN, "the tensor holds %zu values; its shape needs %zu",
                 n_typed, t->count);
        rc = -1;
    } else if (n_float) {
        fill_typed(data, size, FIELD_FLOAT_DATA, WIRE_FIXED32, t->data, t->count, store_float);
    } else if (n_int64) {
        fill_typed(data, size, FIELD_INT64_DATA, WIRE_VARINT, t->data, t->count, store_i64);
    } else if (n_int32) {
        rc = fill_small_ints(data, size, t, err);
    }
    if (rc != 0)
        cli_tensor_free(t);
    return rc;
}

/* ---- encoding ---- */

typedef struct writer {
    unsigned char *buf;
    size_t len;
} writer;

static void put_varint(writer *w, uint64_t v)
{
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        w->buf[w->len++] = (unsigned char)(b | (v ? 0x80 : 0));
    } while (v);
}

static void put_bytes_field(writer *w, uint32_t number, const void *bytes, size_t len)
{
    put_varint(w, (uint64_t)number << 3 | WIRE_BYTES);
    put_varint(w, len);
    if (len)
        memcpy(w->buf + w->len, bytes, len);
    w->len += len;
}

int cli_pb_encode(const cli_tensor *t, unsigned char **out, size_t *out_size)
{
    size_t elem = cli_dtype_size(t->dtype);
    size_t payload = t->count * elem;
    size_t name_len = strlen(t->name);
    /* Each key/varint is at most 10 bytes; generous fixed overhead. */
    size_t cap = payload + name_len + 11 * (t->rank + 8) + 64;
    writer w = {malloc(cap), 0};
    if (!w.buf)
        return -1;
    for (size_t i = 0; i < t->rank; i++) {
        put_varint(&w, FIELD_DIMS << 3 | WIRE_VARINT);
        put_varint(&w, (uint64_t)t->dims[i]);
    }
    put_varint(&w, FIELD_DATA_TYPE << 3 | WIRE_VARINT);
    put_varint(&w, (uint64_t)t->dtype);
    if (name_len)
        put_bytes_field(&w, FIELD_NAME, t->name, name_len);
    put_varint(&w, FIELD_RAW_DATA << 3 | WIRE_BYTES);
    put_varint(&w, payload);
    cli_store_le(w.buf + w.len, t->data, t->count, elem);
    w.len += payload;
    *out = w.buf;
    *out_size = w.len;
    return 0;
}
