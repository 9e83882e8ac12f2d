/*
 * test_tensor_io.c - convpool-run's own file codecs and printing, without
 * the library: .npy and TensorProto round trips, hand-made protobuf
 * encodings (packed and unpacked fields, unknown fields), every malformed
 * input we can think of (truncations and byte flips of valid files, bad
 * sizes, bad types) giving an error and never a crash, and the torch-style
 * printing of the D2L edge detector's result, character for character.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "print.h"
#include "tensor.h"
#include "tensor_npy.h"
#include "tensor_pb.h"

static int failures;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            failures++;                                               \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,    \
                    __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
        }                                                             \
    } while (0)

static void fill_pattern(cli_tensor *t)
{
    for (size_t i = 0; i < t->count; i++) {
        switch (t->dtype) {
        case CONVPOOL_DTYPE_FLOAT: ((float *)t->data)[i] = (float)i * 0.25f - 3.0f; break;
        case CONVPOOL_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)i * -123456789012LL; break;
        case CONVPOOL_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)(i * 37); break;
        default: ((int8_t *)t->data)[i] = (int8_t)(i * 37); break;
        }
    }
}

static int same_tensor(const cli_tensor *a, const cli_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank || a->count != b->count)
        return 0;
    for (size_t d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return memcmp(a->data, b->data, a->count * cli_dtype_size(a->dtype)) == 0;
}

typedef int (*encode_fn)(const cli_tensor *, unsigned char **, size_t *);
typedef int (*decode_fn)(const unsigned char *, size_t, cli_tensor *, char *);

static void test_round_trips(const char *codec, encode_fn encode, decode_fn decode)
{
    static const int32_t dtypes[] = {CONVPOOL_DTYPE_FLOAT, CONVPOOL_DTYPE_INT64,
                                     CONVPOOL_DTYPE_UINT8, CONVPOOL_DTYPE_INT8};
    static const struct {
        size_t rank;
        int64_t dims[5];
    } shapes[] = {{0, {0}}, {1, {5}}, {4, {1, 1, 6, 8}}, {5, {2, 1, 3, 2, 2}}, {2, {3, 0}}};
    char err[CLI_ERR_LEN];
    for (size_t d = 0; d < 4; d++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            cli_tensor t = {0}, back = {0};
            CHECK(cli_tensor_alloc(&t, dtypes[d], shapes[s].dims, shapes[s].rank, err) == 0,
                  "%s", err);
            fill_pattern(&t);
            snprintf(t.name, sizeof t.name, "x");
            unsigned char *bytes = NULL;
            size_t size = 0;
            CHECK(encode(&t, &bytes, &size) == 0, "%s encode", codec);
            int rc = decode(bytes, size, &back, err);
            CHECK(rc == 0, "%s decode of its own encoding: %s", codec, err);
            CHECK(rc != 0 || same_tensor(&t, &back), "%s round trip of %s rank %zu", codec,
                  cli_dtype_name(dtypes[d]), shapes[s].rank);
            /* Every truncation must be refused cleanly (never read past the end). */
            for (size_t cut = 0; cut < size; cut++) {
                cli_tensor junk = {0};
                unsigned char *copy = malloc(cut ? cut : 1);
                memcpy(copy, bytes, cut);
                if (decode(copy, cut, &junk, err) == 0) {
                    /* Only a cut on a field boundary can still parse; it then
                     * lacks data, which must not look like the original. */
                    CHECK(!same_tensor(&t, &junk) || t.count == 0, "%s cut at %zu accepted",
                          codec, cut);
                    cli_tensor_free(&junk);
                }
                free(copy);
            }
            /* Byte flips: any result is fine as long as nothing crashes or leaks. */
            for (size_t at = 0; at < size; at++) {
                for (int bit = 0; bit < 8; bit += 3) {
                    cli_tensor junk = {0};
                    bytes[at] ^= (unsigned char)(1u << bit);
                    if (decode(bytes, size, &junk, err) == 0)
                        cli_tensor_free(&junk);
                    bytes[at] ^= (unsigned char)(1u << bit);
                }
            }
            free(bytes);
            cli_tensor_free(&t);
            cli_tensor_free(&back);
        }
    }
}

/* A decoder must refuse `bytes` with a message containing message_part. */
static void expect_error(decode_fn decode, const char *what, const unsigned char *bytes,
                         size_t size, const char *message_part)
{
    cli_tensor t = {0};
    char err[CLI_ERR_LEN] = "";
    int rc = decode(bytes, size, &t, err);
    CHECK(rc != 0, "%s was accepted", what);
    CHECK(rc == 0 || strstr(err, message_part), "%s: message '%s' lacks '%s'", what, err,
          message_part);
    if (rc == 0)
        cli_tensor_free(&t);
}

static void expect_pb_error(const char *what, const unsigned char *bytes, size_t size,
                            const char *message_part)
{
    expect_error(cli_pb_decode, what, bytes, size, message_part);
}

static void test_pb_encodings(void)
{
    char err[CLI_ERR_LEN];
    cli_tensor t = {0};
    /* dims packed [2, 3], data_type 1, float_data packed 6 floats, an unknown
     * varint (field 15), fixed64 (field 16) and bytes (field 12: doc_string). */
    unsigned char packed[] = {
        0x0a, 0x02, 0x02, 0x03, 0x10, 0x01,
        0x22, 0x18,
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
        0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40,
        0x78, 0x05, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x62, 0x02, 'h', 'i',
        0x42, 0x01, 'w'};
    CHECK(cli_pb_decode(packed, sizeof packed, &t, err) == 0, "packed: %s", err);
    CHECK(t.rank == 2 && t.dims[0] == 2 && t.dims[1] == 3 && t.dtype == CONVPOOL_DTYPE_FLOAT,
          "packed shape");
    CHECK(t.count == 6 && ((float *)t.data)[5] == 6.0f, "packed values");
    CHECK(strcmp(t.name, "w") == 0, "name '%s'", t.name);
    cli_tensor_free(&t);

    /* Unpacked dims [2], unpacked float_data (wire type 5). */
    unsigned char unpacked[] = {0x08, 0x02, 0x10, 0x01, 0x25, 0x00, 0x00, 0x80, 0xbf,
                                0x25, 0x00, 0x00, 0x00, 0x3f};
    CHECK(cli_pb_decode(unpacked, sizeof unpacked, &t, err) == 0, "unpacked: %s", err);
    CHECK(t.count == 2 && ((float *)t.data)[0] == -1.0f && ((float *)t.data)[1] == 0.5f,
          "unpacked values");
    cli_tensor_free(&t);

    /* uint8 in int32_data (packed varints 7, 200), int64 unpacked (-1). */
    unsigned char u8[] = {0x08, 0x02, 0x10, 0x02, 0x2a, 0x03, 0x07, 0xc8, 0x01};
    CHECK(cli_pb_decode(u8, sizeof u8, &t, err) == 0, "uint8: %s", err);
    CHECK(t.dtype == CONVPOOL_DTYPE_UINT8 && ((uint8_t *)t.data)[1] == 200, "uint8 values");
    cli_tensor_free(&t);
    unsigned char i64[] = {0x08, 0x01, 0x10, 0x07, 0x38, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(cli_pb_decode(i64, sizeof i64, &t, err) == 0, "int64: %s", err);
    CHECK(t.dtype == CONVPOOL_DTYPE_INT64 && ((int64_t *)t.data)[0] == -1, "int64 value");
    cli_tensor_free(&t);

    unsigned char wrong_raw[] = {0x08, 0x02, 0x10, 0x01, 0x4a, 0x04, 0, 0, 0, 0};
    expect_pb_error("raw_data too short", wrong_raw, sizeof wrong_raw, "raw_data holds 4");
    unsigned char external[] = {0x08, 0x01, 0x10, 0x01, 0x70, 0x01};
    expect_pb_error("external data", external, sizeof external, "externally");
    unsigned char bad_type[] = {0x08, 0x01, 0x10, 0x0b, 0x4a, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_pb_error("double data_type", bad_type, sizeof bad_type, "data_type 11");
    unsigned char u8_range[] = {0x08, 0x01, 0x10, 0x02, 0x28, 0xac, 0x02};
    expect_pb_error("uint8 300", u8_range, sizeof u8_range, "out of range");
    unsigned char negative[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0x01, 0x10, 0x01};
    expect_pb_error("negative dim", negative, sizeof negative, "negative");
    /* dims packed [2^62, 2^62]: each 8 bytes of 0x80 then 0x40. */
    unsigned char overflow[22] = {0x0a, 0x12};
    for (int i = 0; i < 18; i++)
        overflow[2 + i] = (i % 9 == 8) ? 0x40 : 0x80;
    overflow[20] = 0x10;
    overflow[21] = 0x01;
    expect_pb_error("dims overflow", overflow, sizeof overflow, "overflow");
    /* A huge shape and no data: refused before any allocation (a fuzzer's
     * find: the decoder used to calloc 32 GiB first). */
    unsigned char huge[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0x7e, 0x10, 0x03};
    expect_pb_error("huge shape, no data", huge, sizeof huge, "more than the file can hold");
    unsigned char count_mismatch[] = {0x08, 0x03, 0x10, 0x01, 0x25, 0, 0, 0, 0};
    expect_pb_error("too few floats", count_mismatch, sizeof count_mismatch, "needs 3");
    unsigned char mixed[] = {0x08, 0x01, 0x10, 0x01, 0x38, 0x01};
    expect_pb_error("int64_data in a float", mixed, sizeof mixed, "does not match");
    unsigned char group[] = {0x0b, 0x0c};
    expect_pb_error("group wire type", group, sizeof group, "wire type");
    unsigned char deep[20] = {0};
    for (int i = 0; i < 9; i++) {
        deep[2 * i] = 0x08;
        deep[2 * i + 1] = 0x01;
    }
    deep[18] = 0x10;
    deep[19] = 0x01;
    expect_pb_error("rank 9", deep, sizeof deep, "more than 8 dims");
    expect_pb_error("empty", (const unsigned char *)"", 0, "data_type 0");
    const char *text = "this is not a protobuf message\n";
    expect_pb_error("text file", (const unsigned char *)text, strlen(text), "TensorProto");
}

static void expect_npy_error(const char *what, const char *header, const char *message_part)
{
    unsigned char buf[256];
    size_t len = strlen(header);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)len;
    buf[9] = 0;
    memcpy(buf + 10, header, len);
    memset(buf + 10 + len, 0, 16);
    expect_error(cli_npy_decode, what, buf, 10 + len + 16, message_part);
}

static void test_npy_errors(void)
{
    expect_npy_error("fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                     "Fortran-order");
    expect_npy_error("float64", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                     "'<f8' is not supported");
    expect_npy_error("big-endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }",
                     "not supported");
    expect_npy_error("size mismatch", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                     "need 12");
    expect_npy_error("huge shape, no data",
                     "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1, 2999999999), }",
                     "more than the file can hold");
    expect_npy_error("no shape", "{'descr': '<f4', 'fortran_order': False, }", "'shape'");
    expect_npy_error("bad shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
                     "'shape'");
    expect_npy_error("huge dim",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                     "overflows");
    /* A version 2.0 header (uint32 length) decodes too. */
    const char *dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n";
    unsigned char v2[128];
    size_t len = strlen(dict);
    memcpy(v2, "\x93NUMPY\x02\x00", 8);
    v2[8] = (unsigned char)len;
    v2[9] = v2[10] = v2[11] = 0;
    memcpy(v2 + 12, dict, len);
    memcpy(v2 + 12 + len, "\x01\x02\x03", 3);
    cli_tensor t = {0};
    char err[CLI_ERR_LEN];
    CHECK(cli_npy_decode(v2, 12 + len + 3, &t, err) == 0, "v2: %s", err);
    CHECK(t.count == 3 && ((uint8_t *)t.data)[2] == 3, "v2 values");
    cli_tensor_free(&t);
}

/* The seed notebook's In [27]: corr2d(X, K) of the 6x8 edge image. */
static const char edge_expected[] =
    "tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],\n"
    "        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],\n"
    "        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],\n"
    "        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],\n"
    "        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],\n"
    "        [ 0.,  1.,  0.,  0.,  0., -1.,  0.]])\n";

/* The seed's In [21]: MaxPool2d(3, padding=1, stride=2) of two channels. */
static const char pool_expected[] =
    "tensor([[[[ 5.,  7.],\n"
    "          [13., 15.]],\n"
    "\n"
    "         [[ 6.,  8.],\n"
    "          [14., 16.]]]])\n";

static void expect_printed(const cli_tensor *t, const char *expected)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    cli_print_torch_style(mem, t);
    fclose(mem);
    CHECK(strcmp(text, expected) == 0, "printed\n%s\nexpected\n%s", text, expected);
    free(text);
}

static void test_torch_style(void)
{
    char err[CLI_ERR_LEN];
    cli_tensor t = {0};
    int64_t edge_dims[] = {6, 7};
    cli_tensor_alloc(&t, CONVPOOL_DTYPE_FLOAT, edge_dims, 2, err);
    for (size_t r = 0; r < 6; r++) {
        ((float *)t.data)[r * 7 + 1] = 1.0f;
        ((float *)t.data)[r * 7 + 5] = -1.0f;
    }
    expect_printed(&t, edge_expected);
    int64_t pool_dims[] = {1, 2, 2, 2};
    const float pooled[] = {5, 7, 13, 15, 6, 8, 14, 16};
    cli_tensor_alloc(&t, CONVPOOL_DTYPE_FLOAT, pool_dims, 4, err);
    memcpy(t.data, pooled, sizeof pooled);
    expect_printed(&t, pool_expected);
    cli_tensor_free(&t);
}

int main(void)
{
    test_round_trips("npy", cli_npy_encode, cli_npy_decode);
    test_round_trips("pb", cli_pb_encode, cli_pb_decode);
    test_pb_encodings();
    test_npy_errors();
    test_torch_style();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all tensor I/O checks passed\n");
    return 0;
}
