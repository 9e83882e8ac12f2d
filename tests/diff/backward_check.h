/*
 * backward_check.h - the backward half of the conv differential tests
 * (test_conv_diff, test_conv_transpose_diff): given the reference op of a
 * random configuration, its twin on |w| and the same op created for a fast
 * ISA path, compares that path's backward passes with the reference.
 */
#ifndef CP_TESTS_DIFF_BACKWARD_CHECK_H
#define CP_TESTS_DIFF_BACKWARD_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"

typedef struct backward_check {
    /* Conv or ConvTranspose ops of one configuration, all with
     * cp_op_enable_backward: the reference (SCALAR), the reference on
     * |w|, and the op under test. */
    convpool_op *ref, *ref_abs, *op;
    const int64_t *shape; /* forward input */
    size_t rank;
    const float *x, *x_abs;
    convpool_context *const *ctx; /* 3 contexts: 1, 2 and 3 threads */
    double max_rel_error;
} backward_check;

/* dx and dw, db of bc->op on a random dy (seeded by `seed`) against the
 * reference, each element within max_rel_error of the reference run on
 * |dy|, |x|, |w| (a bound on float rounding in any order); results on 1, 2
 * and 3 threads bitwise equal, each written to buffers at another place in
 * a 64-byte line, with a caller workspace of the queried size.
 * Returns the worst relative error seen; on a mismatch prints it (with
 * `what`) and exits 1. */
double backward_check_run(const backward_check *bc, uint64_t seed, const char *what);

#endif
