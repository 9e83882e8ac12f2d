/*
 * onnx_check.h - the loader tests' CHECK: on a false condition, prints
 * FAIL with the place, the message and the library's last error, and
 * counts it in `failures` (each test's main() reports the count).
 */
#ifndef CP_TESTS_ONNX_CHECK_H
#define CP_TESTS_ONNX_CHECK_H

#include <stdio.h>

#include "convpool.h"

static int failures;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
            printf(__VA_ARGS__);                          \
            printf(" [%s]\n", convpool_last_error());     \
            failures++;                                   \
        }                                                 \
    } while (0)

#endif
