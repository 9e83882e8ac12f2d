/*
 * tensor.h - the CLI's own in-memory tensor: element type, shape and a
 * malloc'd buffer, with the element types libconvpool models use. File
 * codecs (tensor_pb.c, tensor_npy.c) read into and write from it.
 */
#ifndef CLI_TENSOR_H
#define CLI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* Deep enough for any NCDHW tensor and then some; deeper files are refused. */
#define CLI_MAX_RANK 8

/* Room for a codec's error message ("file.pb: raw_data holds 12 bytes, ..."). */
#define CLI_ERR_LEN 512

typedef struct cli_tensor {
    int32_t dtype;              /* a convpool_dtype */
    size_t rank;
    int64_t dims[CLI_MAX_RANK];
    size_t count;               /* product of dims */
    void *data;                 /* count elements, little-endian host order */
    char name[256];             /* TensorProto name, "" if none */
} cli_tensor;

/* Bytes per element of a supported dtype; 0 for any other. */
size_t cli_dtype_size(int32_t dtype);

/* "float32", "uint8", "int8", "int64", or "dtype(N)". Static string for known
 * types; unknown ones are formatted into a thread-unsafe static buffer. */
const char *cli_dtype_name(int32_t dtype);

/*
 * Sets t's dtype and shape and allocates a zeroed buffer for it (at least one
 * byte, so a tensor with a 0 dim still has a non-NULL pointer). Checks that
 * dims are >= 0 and the byte size does not overflow. Returns 0, or -1 with a
 * message in err.
 */
int cli_tensor_alloc(cli_tensor *t, int32_t dtype, const int64_t *dims, size_t rank,
                     char err[CLI_ERR_LEN]);

/* As cli_tensor_alloc(), refusing without allocating a tensor of more than
 * max_bytes: decoders pass what their file can hold, so that a few bytes
 * declaring a huge shape cannot take the machine's memory. */
int cli_tensor_alloc_within(cli_tensor *t, int32_t dtype, const int64_t *dims, size_t rank,
                            size_t max_bytes, char err[CLI_ERR_LEN]);

/* Frees the buffer and zeroes t. Safe on a zeroed tensor. */
void cli_tensor_free(cli_tensor *t);

/* Element i as a double (for summaries and comparisons). */
double cli_tensor_get(const cli_tensor *t, size_t i);

/* Copy `count` elements of `elem_size` (1, 4 or 8) bytes from little-endian
 * bytes to host order and back; files are little-endian whatever the host. */
void cli_load_le(void *dst, const unsigned char *src, size_t count, size_t elem_size);
void cli_store_le(unsigned char *dst, const void *src, size_t count, size_t elem_size);

/* Formats "[1, 1, 6, 8]" into buf. */
void cli_format_shape(const int64_t *dims, size_t rank, char *buf, size_t buf_size);

/* Reads a whole file into a malloc'd buffer; "-" reads standard input. A
 * directory is refused as such. Returns 0 or -1 with err set. */
int cli_read_file(const char *path, unsigned char **data, size_t *size, char err[CLI_ERR_LEN]);

/* Writes size bytes to path (created or truncated). Returns 0 or -1. */
int cli_write_file(const char *path, const void *data, size_t size,
                   char err[CLI_ERR_LEN]);

/* Decodes the bytes of a .npy (recognised by its magic) or a TensorProto .pb
 * file read from `path` (named in err). Returns 0 or -1 with err set. */
int cli_tensor_decode(const unsigned char *bytes, size_t size, const char *path, cli_tensor *t,
                      char err[CLI_ERR_LEN]);

/* Reads (cli_read_file) and decodes a .npy or .pb file. */
int cli_tensor_load(const char *path, cli_tensor *t, char err[CLI_ERR_LEN]);

#endif
