/*
 * fuzz_codec.h - the check shared by the CLI codec fuzz targets (fuzz_npy.c,
 * fuzz_pb.c): any bytes decode cleanly or are refused with a message; a
 * decoded tensor is self-consistent (a known dtype, count = product of dims,
 * a buffer), and encoding it then decoding the result gives the same tensor
 * back bit for bit. Anything else aborts, which libFuzzer reports.
 */
#ifndef FUZZ_CODEC_H
#define FUZZ_CODEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor.h"

typedef int (*fuzz_decode_fn)(const unsigned char *, size_t, cli_tensor *, char[CLI_ERR_LEN]);
typedef int (*fuzz_encode_fn)(const cli_tensor *, unsigned char **, size_t *);

static void fuzz_check_consistent(const cli_tensor *t)
{
    size_t elem = cli_dtype_size(t->dtype);
    if (elem == 0 || t->rank > CLI_MAX_RANK || !t->data)
        abort();
    size_t count = 1;
    for (size_t d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0)
            abort();
        count *= (size_t)t->dims[d];
    }
    if (count != t->count)
        abort();
    if (memchr(t->name, '\0', sizeof t->name) == NULL)
        abort(); /* the name must be terminated */
}

static int fuzz_codec_check(const uint8_t *data, size_t size, fuzz_decode_fn decode,
                            fuzz_encode_fn encode)
{
    cli_tensor t;
    char err[CLI_ERR_LEN];
    memset(&t, 0, sizeof t);
    err[0] = '\0';
    if (decode(data, size, &t, err) != 0) {
        if (err[0] == '\0' || t.data != NULL)
            abort(); /* a refusal says why and leaves the tensor empty */
        return 0;
    }
    fuzz_check_consistent(&t);

    unsigned char *bytes = NULL;
    size_t n = 0;
    if (encode(&t, &bytes, &n) == 0) {
        cli_tensor back;
        memset(&back, 0, sizeof back);
        if (decode(bytes, n, &back, err) != 0)
            abort(); /* what we write, we must read */
        fuzz_check_consistent(&back);
        if (back.dtype != t.dtype || back.rank != t.rank || back.count != t.count ||
            memcmp(back.dims, t.dims, t.rank * sizeof t.dims[0]) != 0 ||
            memcmp(back.data, t.data, t.count * cli_dtype_size(t.dtype)) != 0)
            abort();
        cli_tensor_free(&back);
        free(bytes);
    }
    cli_tensor_free(&t);
    return 0;
}

#endif
