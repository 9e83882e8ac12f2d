/*
 * An empty batch (N = 0) is a valid ONNX tensor: every op kind and spatial
 * rank gives an output of shape (0, M, out...) computed by the same geometry
 * as N = 1, a run succeeds without touching any buffer (NULL is accepted for
 * x, y and indices as there is nothing to read or write) and needs no
 * workspace. Zero channels, a zero spatial size, a negative batch and the
 * spatial errors of a non-empty batch stay errors.
 */
#include <stdint.h>
#include <string.h>

#include "cpt.h"

#define INVALID_ARGUMENT CONVPOOL_ERROR_INVALID_ARGUMENT
#define SHAPE_MISMATCH   CONVPOOL_ERROR_SHAPE_MISMATCH

static const int32_t kinds[] = {CONVPOOL_OP_CONV, CONVPOOL_OP_MAX_POOL, CONVPOOL_OP_AVERAGE_POOL,
                                CONVPOOL_OP_GLOBAL_MAX_POOL, CONVPOOL_OP_GLOBAL_AVERAGE_POOL};

/* A kernel-2, stride-2, pad-1 op of `kind` over `rank` dims with 2 input
 * channels (Conv: 3 output channels, group 1). */
static convpool_op *make(int32_t kind, int32_t rank)
{
    static float w[3 * 2 * 8];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        w[i] = (float)i;
    cpt_cfg c;
    cpt_cfg_init(&c, kind, rank);
    if (kind != CONVPOOL_OP_GLOBAL_MAX_POOL && kind != CONVPOOL_OP_GLOBAL_AVERAGE_POOL) {
        for (int i = 0; i < rank; i++) {
            c.kernel[i] = c.strides[i] = 2;
            c.pads[i] = c.pads[rank + i] = 1;
        }
    }
    c.m = 3;
    return cpt_make_op(&c, 2, kind == CONVPOOL_OP_CONV ? w : NULL, NULL);
}

START_TEST(zero_batch_has_the_shape_of_one_with_n_zero)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int32_t rank = 1; rank <= 3; rank++) {
            convpool_op *op = make(kinds[k], rank);
            int64_t in[5] = {1, 2, 5, 6, 7};
            size_t r = (size_t)rank + 2;
            int64_t one[5], zero[5];
            CPT_OK(convpool_op_output_shape(op, in, r, one, r));
            in[0] = 0;
            CPT_OK(convpool_op_output_shape(op, in, r, zero, r));
            ck_assert_int_eq(zero[0], 0);
            for (size_t d = 1; d < r; d++)
                ck_assert_msg(zero[d] == one[d], "kind %d rank %d dim %zu: %lld vs %lld",
                              (int)kinds[k], (int)rank, d, (long long)zero[d], (long long)one[d]);
            ck_assert_int_eq(one[1], kinds[k] == CONVPOOL_OP_CONV ? 3 : 2);
            size_t ws = 12345;
            CPT_OK(convpool_op_workspace_size(op, NULL, in, r, &ws));
            ck_assert_uint_eq(ws, 0);
            convpool_op_destroy(op);
        }
    }
}
END_TEST

START_TEST(zero_batch_runs_touch_nothing)
{
    convpool_context *ctx = NULL;
    CPT_OK(convpool_context_create(2, &ctx));
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        convpool_op *op = make(kinds[k], 2);
        const int64_t in[4] = {0, 2, 5, 6};
        /* NULL buffers: there is nothing to read or write */
        CPT_OK(convpool_op_run(op, in, 4, NULL, NULL, 0));
        CPT_OK(convpool_op_run_ex(op, ctx, in, 4, NULL, NULL, 0, NULL, NULL, 0));
        /* real buffers stay as they were */
        float x[4] = {1, 2, 3, 4}, y[4] = {-7, -7, -7, -7};
        CPT_OK(convpool_op_run_ex(op, ctx, in, 4, x, y, 4, NULL, NULL, 0));
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(y[i], -7.0f);
        if (kinds[k] == CONVPOOL_OP_MAX_POOL) {
            int64_t idx[2] = {-9, -9};
            CPT_OK(convpool_op_run_ex(op, ctx, in, 4, x, y, 0, idx, NULL, 0));
            ck_assert(idx[0] == -9 && idx[1] == -9);
        } else {
            /* the Indices rule does not depend on the batch */
            int64_t idx[1];
            CPT_FAILS(convpool_op_run_ex(op, ctx, in, 4, x, y, 0, idx, NULL, 0), INVALID_ARGUMENT,
                      "indices given");
        }
        convpool_op_destroy(op);
    }
    convpool_context_destroy(ctx);
}
END_TEST

START_TEST(other_zero_or_negative_dims_stay_errors)
{
    convpool_op *pool = make(CONVPOOL_OP_MAX_POOL, 2);
    convpool_op *conv = make(CONVPOOL_OP_CONV, 2);
    int64_t out[4];
    const int64_t no_channels[4] = {0, 0, 4, 4};
    CPT_FAILS(convpool_op_output_shape(pool, no_channels, 4, out, 4), INVALID_ARGUMENT,
              "input shape[1] = 0", "channel and spatial dims must be >= 1");
    const int64_t no_width[4] = {0, 2, 4, 0};
    CPT_FAILS(convpool_op_output_shape(pool, no_width, 4, out, 4), INVALID_ARGUMENT,
              "input shape[3] = 0");
    CPT_FAILS(convpool_op_run(conv, no_width, 4, NULL, NULL, 0), INVALID_ARGUMENT,
              "input shape[3] = 0");
    const int64_t negative[4] = {-1, 2, 4, 4};
    CPT_FAILS(convpool_op_output_shape(pool, negative, 4, out, 4), INVALID_ARGUMENT,
              "input shape[0] = -1", "batch size must be >= 0");
    /* the channel count and the spatial geometry are checked as for N >= 1 */
    const int64_t wrong_channels[4] = {0, 5, 4, 4};
    CPT_FAILS(convpool_op_run(conv, wrong_channels, 4, NULL, NULL, 0), SHAPE_MISMATCH, "C = 5");
    convpool_op_destroy(conv);
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_AVERAGE_POOL, 2);
    c.kernel[0] = c.kernel[1] = 9;
    convpool_op *big = cpt_make_op(&c, 1, NULL, NULL);
    const int64_t small[4] = {0, 1, 4, 4};
    CPT_FAILS(convpool_op_run(big, small, 4, NULL, NULL, 0), SHAPE_MISMATCH, "kernel");
    convpool_op_destroy(big);
    /* one sample must still be addressable: an empty batch does not hide an
     * element count that overflows */
    const int64_t huge = INT64_C(1) << 31;
    const int64_t overflow[4] = {0, huge, huge, huge};
    CPT_FAILS(convpool_op_output_shape(pool, overflow, 4, out, 4), CONVPOOL_ERROR_OVERFLOW,
              "overflow");
    convpool_op_destroy(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("empty_batch");
    CPT_ADD(s, zero_batch_has_the_shape_of_one_with_n_zero);
    CPT_ADD(s, zero_batch_runs_touch_nothing);
    CPT_ADD(s, other_zero_or_negative_dims_stay_errors);
    return cpt_run_suite(s);
}
