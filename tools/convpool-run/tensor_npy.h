/*
 * tensor_npy.h - NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding
 * '<f4', '<i8', '|u1' or '|i1' arrays in C order. Fortran-order arrays and
 * other dtypes are refused with a message saying how to convert them.
 */
#ifndef CLI_TENSOR_NPY_H
#define CLI_TENSOR_NPY_H

#include <stddef.h>

#include "tensor.h"

/* 1 if the bytes start with the .npy magic string. */
int cli_npy_is_npy(const unsigned char *data, size_t size);

/* Decodes `size` bytes into t (zeroed or freed). Returns 0, or -1 with err. */
int cli_npy_decode(const unsigned char *data, size_t size, cli_tensor *t,
                   char err[CLI_ERR_LEN]);

/* Encodes t as a version 1.0 .npy into a malloc'd buffer. 0 or -1 (memory). */
int cli_npy_encode(const cli_tensor *t, unsigned char **out, size_t *out_size);

#endif
