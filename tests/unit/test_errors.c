/*
 * Bad input: every invalid argument or attribute combination returns the
 * documented status, leaves output parameters alone, and leaves a message in
 * convpool_last_error() that names the attribute and the offending values.
 * Check forks each case, so a crash fails that case instead of the run.
 */
#include <stdint.h>
#include <string.h>

#include "cpt.h"

#define INVALID_ARGUMENT CONVPOOL_ERROR_INVALID_ARGUMENT
#define INVALID_ATTRIBUTE CONVPOOL_ERROR_INVALID_ATTRIBUTE
#define SHAPE_MISMATCH CONVPOOL_ERROR_SHAPE_MISMATCH
#define OVERFLOW_ CONVPOOL_ERROR_OVERFLOW
#define BUFFER_TOO_SMALL CONVPOOL_ERROR_BUFFER_TOO_SMALL

/* A recognisable non-NULL value to check that failing calls leave output
 * pointers untouched; never dereferenced. */
static convpool_op *const untouched_op = (convpool_op *)(uintptr_t)0x5eed;

static convpool_desc *new_desc(int32_t kind, int32_t rank)
{
    convpool_desc *d = NULL;
    CPT_OK(convpool_desc_create(kind, rank, &d));
    return d;
}

/* A 2-D MaxPool 2x2 and a 2-D Conv with a (1, 2, 2, 2) weight of ones. */
static convpool_op *new_max_pool(void)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    return cpt_make_op(&c, 1, NULL, NULL);
}

static const float ones8[8] = {1, 1, 1, 1, 1, 1, 1, 1};

static convpool_op *new_conv(void)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 2;
    return cpt_make_op(&c, 2, ones8, NULL);
}

START_TEST(desc_create_errors)
{
    convpool_desc *d = (convpool_desc *)(uintptr_t)0x5eed;
    CPT_FAILS(convpool_desc_create(CONVPOOL_OP_CONV, 2, NULL), INVALID_ARGUMENT, "desc is NULL");
    CPT_FAILS(convpool_desc_create(0, 2, &d), INVALID_ARGUMENT, "op kind 0");
    CPT_FAILS(convpool_desc_create(9, 2, &d), INVALID_ARGUMENT, "op kind 9");
    CPT_FAILS(convpool_desc_create(CONVPOOL_OP_MAX_POOL, 0, &d), INVALID_ARGUMENT,
              "spatial rank 0");
    CPT_FAILS(convpool_desc_create(CONVPOOL_OP_MAX_POOL, 4, &d), INVALID_ARGUMENT,
              "spatial rank 4");
    ck_assert_ptr_eq(d, (convpool_desc *)(uintptr_t)0x5eed);
    convpool_desc_destroy(NULL); /* a no-op */
}
END_TEST

START_TEST(zero_or_negative_list_values)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_CONV, 2);
    const int64_t s01[2] = {1, 0}, d01[2] = {0, 1}, k0[2] = {2, 0}, sneg[2] = {-3, 1};
    const int64_t pneg[4] = {0, -1, 0, 0};
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, s01, 2), INVALID_ATTRIBUTE,
              "strides[1] = 0", "strides must be >= 1");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, sneg, 2), INVALID_ATTRIBUTE,
              "strides[0] = -3");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, d01, 2), INVALID_ATTRIBUTE,
              "dilations[0] = 0", "dilations must be >= 1");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k0, 2), INVALID_ATTRIBUTE,
              "kernel_shape[1] = 0");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pneg, 4), INVALID_ATTRIBUTE,
              "pads[1] = -1", "pads must be >= 0");
    const int64_t huge[2] = {INT64_C(1) << 40, 1};
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, huge, 2), INVALID_ATTRIBUTE,
              "strides[0] = 1099511627776", "too large");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(wrong_length_lists)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_AVERAGE_POOL, 2);
    const int64_t v[6] = {1, 1, 1, 1, 1, 1};
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, v, 2), INVALID_ATTRIBUTE,
              "pads has 2 values", "needs 4");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, v, 6), INVALID_ATTRIBUTE,
              "pads has 6 values", "needs 4");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, v, 3), INVALID_ATTRIBUTE,
              "strides has 3 values", "needs 2");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, v, 1), INVALID_ATTRIBUTE,
              "kernel_shape has 1 values", "needs 2");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, v, 0), INVALID_ATTRIBUTE,
              "dilations has 0 values");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(scalar_attribute_values)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_CONV, 1);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, 0), INVALID_ATTRIBUTE,
              "group = 0", ">= 1");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, -2), INVALID_ATTRIBUTE,
              "group = -2");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, 7), INVALID_ATTRIBUTE,
              "auto_pad = 7", "SAME_UPPER");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, -1), INVALID_ATTRIBUTE,
              "auto_pad = -1");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_MAX_POOL, 1);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_CEIL_MODE, 2), INVALID_ATTRIBUTE,
              "ceil_mode = 2", "0 or 1");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_STORAGE_ORDER, -1), INVALID_ATTRIBUTE,
              "storage_order = -1", "0 or 1");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_AVERAGE_POOL, 1);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, 5), INVALID_ATTRIBUTE,
              "count_include_pad = 5", "0 or 1");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(attribute_not_applicable_to_op)
{
    const int64_t two[2] = {2, 2};
    convpool_desc *d = new_desc(CONVPOOL_OP_MAX_POOL, 2);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, 2), INVALID_ATTRIBUTE,
              "MaxPool has no attribute group");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, 1), INVALID_ATTRIBUTE,
              "MaxPool has no attribute count_include_pad");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_AVERAGE_POOL, 2);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_STORAGE_ORDER, 1), INVALID_ATTRIBUTE,
              "AveragePool has no attribute storage_order");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_CONV, 2);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_CEIL_MODE, 1), INVALID_ATTRIBUTE,
              "Conv has no attribute ceil_mode");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_GLOBAL_MAX_POOL, 2);
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, two, 2), INVALID_ATTRIBUTE,
              "GlobalMaxPool has no attribute strides");
    convpool_desc_destroy(d);
    d = new_desc(CONVPOOL_OP_GLOBAL_AVERAGE_POOL, 2);
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, two, 2), INVALID_ATTRIBUTE,
              "GlobalAveragePool has no attribute kernel_shape");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(unknown_attribute_or_wrong_setter)
{
    const int64_t two[2] = {2, 2};
    convpool_desc *d = new_desc(CONVPOOL_OP_CONV, 2);
    CPT_FAILS(convpool_desc_set_int(d, 42, 1), INVALID_ATTRIBUTE, "attribute key 42");
    CPT_FAILS(convpool_desc_set_ints(d, 0, two, 2), INVALID_ATTRIBUTE, "attribute key 0");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_STRIDES, 1), INVALID_ATTRIBUTE,
              "strides is an ints attribute", "convpool_desc_set_ints");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_GROUP, two, 1), INVALID_ATTRIBUTE,
              "group is an int attribute", "convpool_desc_set_int()");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(desc_null_pointers)
{
    const int64_t two[2] = {2, 2};
    CPT_FAILS(convpool_desc_set_ints(NULL, CONVPOOL_ATTR_STRIDES, two, 2), INVALID_ARGUMENT,
              "descriptor is NULL");
    CPT_FAILS(convpool_desc_set_int(NULL, CONVPOOL_ATTR_GROUP, 1), INVALID_ARGUMENT,
              "descriptor is NULL");
    convpool_desc *d = new_desc(CONVPOOL_OP_MAX_POOL, 2);
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, NULL, 2), INVALID_ARGUMENT,
              "strides: values is NULL");
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(pads_with_auto_pad)
{
    const int64_t pads[4] = {0, 1, 0, 0};
    const int32_t modes[3] = {CONVPOOL_AUTO_PAD_SAME_UPPER, CONVPOOL_AUTO_PAD_SAME_LOWER,
                              CONVPOOL_AUTO_PAD_VALID};
    const char *names[3] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    const int64_t k[2] = {2, 2};
    for (int i = 0; i < 3; i++) {
        convpool_desc *d = new_desc(CONVPOOL_OP_MAX_POOL, 2);
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2));
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pads, 4));
        CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, modes[i]));
        convpool_op *op = untouched_op;
        CPT_FAILS(convpool_pool_create(d, &op), INVALID_ATTRIBUTE, "pads[1] = 1", names[i],
                  "NOTSET");
        ck_assert_ptr_eq(op, untouched_op);
        convpool_desc_destroy(d);
    }
}
END_TEST

START_TEST(pool_without_kernel_shape)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_AVERAGE_POOL, 2);
    convpool_op *op = untouched_op;
    CPT_FAILS(convpool_pool_create(d, &op), INVALID_ATTRIBUTE,
              "kernel_shape is required for AveragePool");
    ck_assert_ptr_eq(op, untouched_op);
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(create_null_pointers_and_wrong_kind)
{
    const int64_t ws[4] = {1, 2, 2, 2};
    convpool_desc *conv = new_desc(CONVPOOL_OP_CONV, 2);
    convpool_desc *pool = new_desc(CONVPOOL_OP_GLOBAL_MAX_POOL, 2);
    convpool_op *op = untouched_op;
    CPT_FAILS(convpool_conv_create(NULL, ws, 4, ones8, NULL, &op), INVALID_ARGUMENT,
              "descriptor is NULL");
    CPT_FAILS(convpool_conv_create(conv, NULL, 4, ones8, NULL, &op), INVALID_ARGUMENT,
              "weight_shape is NULL");
    CPT_FAILS(convpool_conv_create(conv, ws, 4, NULL, NULL, &op), INVALID_ARGUMENT,
              "weight is NULL");
    CPT_FAILS(convpool_conv_create(conv, ws, 4, ones8, NULL, NULL), INVALID_ARGUMENT, "op out-pointer is NULL");
    CPT_FAILS(convpool_conv_create(pool, ws, 4, ones8, NULL, &op), INVALID_ARGUMENT,
              "GlobalMaxPool", "not Conv");
    CPT_FAILS(convpool_pool_create(NULL, &op), INVALID_ARGUMENT, "descriptor is NULL");
    CPT_FAILS(convpool_pool_create(pool, NULL), INVALID_ARGUMENT, "op out-pointer is NULL");
    CPT_FAILS(convpool_pool_create(conv, &op), INVALID_ARGUMENT, "Conv",
              "convpool_conv_create");
    ck_assert_ptr_eq(op, untouched_op);
    convpool_desc_destroy(conv);
    convpool_desc_destroy(pool);
    convpool_op_destroy(NULL);
    ck_assert_int_eq(convpool_op_kind_of(NULL), 0);
}
END_TEST

START_TEST(weight_shape_mismatch)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_CONV, 2);
    convpool_op *op = untouched_op;
    const int64_t rank3[3] = {1, 2, 2};
    CPT_FAILS(convpool_conv_create(d, rank3, 3, ones8, NULL, &op), SHAPE_MISMATCH,
              "weight has rank 3", "rank 4");
    const int64_t zero_dim[4] = {1, 0, 2, 2};
    CPT_FAILS(convpool_conv_create(d, zero_dim, 4, ones8, NULL, &op), SHAPE_MISMATCH,
              "weight_shape[1] = 0");
    const int64_t k[2] = {2, 3};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2));
    const int64_t ws[4] = {1, 2, 2, 2};
    CPT_FAILS(convpool_conv_create(d, ws, 4, ones8, NULL, &op), SHAPE_MISMATCH,
              "kernel_shape[1] = 3", "is 2");
    /* M = 3 output channels cannot be split into group = 2 */
    convpool_desc *g = new_desc(CONVPOOL_OP_CONV, 2);
    CPT_OK(convpool_desc_set_int(g, CONVPOOL_ATTR_GROUP, 2));
    const int64_t ws3[4] = {3, 1, 1, 1};
    CPT_FAILS(convpool_conv_create(g, ws3, 4, ones8, NULL, &op), SHAPE_MISMATCH, "M = 3",
              "group = 2");
    ck_assert_ptr_eq(op, untouched_op);
    convpool_desc_destroy(d);
    convpool_desc_destroy(g);
}
END_TEST

START_TEST(weight_shape_overflow)
{
    convpool_desc *d = new_desc(CONVPOOL_OP_CONV, 2);
    convpool_op *op = untouched_op;
    const int64_t ws[4] = {INT64_C(1) << 32, INT64_C(1) << 32, 2, 2};
    CPT_FAILS(convpool_conv_create(d, ws, 4, ones8, NULL, &op), OVERFLOW_, "weight",
              "overflow");
    ck_assert_ptr_eq(op, untouched_op);
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(channels_not_matching_weight_or_group)
{
    /* group 2 with C/group = 1: the input must have 2 channels; 3 is not
     * divisible by the group */
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.group = 2;
    c.m = 2;
    convpool_op *op = cpt_make_op(&c, 2, ones8, NULL);
    const int64_t in3[4] = {1, 3, 4, 4};
    int64_t out[4] = {-7, -7, -7, -7};
    float x[48] = {0}, y[64];
    CPT_FAILS(convpool_op_output_shape(op, in3, 4, out, 4), SHAPE_MISMATCH, "C = 3",
              "group = 2", "needs C = 2");
    ck_assert_int_eq(out[0], -7);
    CPT_FAILS(convpool_op_run(op, in3, 4, x, y, 64), SHAPE_MISMATCH, "C = 3");
    convpool_op_destroy(op);
    /* group 1, weight C = 2, input C = 3 */
    convpool_op *conv = new_conv();
    CPT_FAILS(convpool_op_run(conv, in3, 4, x, y, 64), SHAPE_MISMATCH, "C = 3", "C = 2");
    convpool_op_destroy(conv);
}
END_TEST

START_TEST(kernel_larger_than_padded_input)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = 2;
    c.kernel[1] = 5;
    c.pads[1] = 1; /* W: 3 + 1 + 0 = 4 < 5 */
    convpool_op *op = cpt_make_op(&c, 1, NULL, NULL);
    const int64_t in[4] = {1, 1, 3, 3};
    int64_t out[4];
    CPT_FAILS(convpool_op_output_shape(op, in, 4, out, 4), SHAPE_MISMATCH, "kernel_shape[1] = 5",
              "larger than the padded input", "W = 3", "output size would be <= 0");
    float x[9] = {0}, y[9];
    CPT_FAILS(convpool_op_run(op, in, 4, x, y, 9), SHAPE_MISMATCH, "kernel_shape[1] = 5");
    convpool_op_destroy(op);

    /* dilation: k 3, d 3 spans 7 > 6 */
    cpt_cfg_init(&c, CONVPOOL_OP_AVERAGE_POOL, 1);
    c.kernel[0] = 3;
    c.dilations[0] = 3;
    op = cpt_make_op(&c, 1, NULL, NULL);
    const int64_t in1[3] = {1, 1, 6};
    CPT_FAILS(convpool_op_output_shape(op, in1, 3, out, 4), SHAPE_MISMATCH, "dilations[0] = 3",
              "spans 7");
    convpool_op_destroy(op);

    /* VALID on a Conv whose kernel is larger than the input */
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 2;
    c.auto_pad = CONVPOOL_AUTO_PAD_VALID;
    op = cpt_make_op(&c, 1, ones8, NULL);
    const int64_t tiny[4] = {1, 1, 1, 4};
    CPT_FAILS(convpool_op_output_shape(op, tiny, 4, out, 4), SHAPE_MISMATCH,
              "kernel_shape[0] = 2", "output size would be <= 0");
    convpool_op_destroy(op);
}
END_TEST

START_TEST(input_shape_errors)
{
    convpool_op *op = new_max_pool();
    int64_t out[4];
    const int64_t rank3[3] = {1, 1, 4};
    CPT_FAILS(convpool_op_output_shape(op, rank3, 3, out, 4), INVALID_ARGUMENT,
              "input has rank 3", "rank 4");
    const int64_t zero[4] = {1, 1, 0, 4};
    CPT_FAILS(convpool_op_output_shape(op, zero, 4, out, 4), INVALID_ARGUMENT,
              "input shape[2] = 0");
    const int64_t neg[4] = {-1, 1, 4, 4};
    CPT_FAILS(convpool_op_output_shape(op, neg, 4, out, 4), INVALID_ARGUMENT,
              "input shape[0] = -1");
    const int64_t ok[4] = {1, 1, 4, 4};
    CPT_FAILS(convpool_op_output_shape(op, ok, 4, out, 3), BUFFER_TOO_SMALL, "room for 3");
    convpool_op_destroy(op);
}
END_TEST

START_TEST(dims_whose_product_overflows)
{
    convpool_op *pool = new_max_pool();
    convpool_op *conv = new_conv();
    int64_t out[4];
    size_t ws;
    float x[4], y[4];
    const int64_t big = INT64_C(1) << 31;
    const int64_t huge[4] = {big, big, big, big};
    CPT_FAILS(convpool_op_output_shape(pool, huge, 4, out, 4), OVERFLOW_, "overflow");
    CPT_FAILS(convpool_op_run(pool, huge, 4, x, y, 4), OVERFLOW_, "overflow");
    CPT_FAILS(convpool_op_workspace_size(pool, NULL, huge, 4, &ws), OVERFLOW_, "overflow");
    /* fits int64 elements, but not in bytes */
    const int64_t bytes[4] = {INT64_C(1) << 31, 2, INT64_C(1) << 29, 2}; /* 2^62 */
    CPT_FAILS(convpool_op_output_shape(pool, bytes, 4, out, 4), OVERFLOW_, "overflow");
    const int64_t conv_huge[4] = {big, 2, big, big};
    CPT_FAILS(convpool_op_output_shape(conv, conv_huge, 4, out, 4), OVERFLOW_, "overflow");
    convpool_op_destroy(pool);
    convpool_op_destroy(conv);
}
END_TEST

START_TEST(huge_attributes_overflow_cleanly)
{
    /* the largest accepted values: the effective kernel d*(k-1)+1 and the
     * padded size must not wrap around */
    const int64_t big = INT64_C(1) << 32;
    int64_t out[4];
    const int64_t in[4] = {1, 1, 1, 1};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = big;
    c.dilations[0] = c.dilations[1] = big;
    convpool_op *op = cpt_make_op(&c, 1, NULL, NULL);
    /* (2^32 - 1) * 2^32 + 1 does not fit int64 */
    CPT_FAILS(convpool_op_output_shape(op, in, 4, out, 4), OVERFLOW_, "overflow");
    convpool_op_destroy(op);
    /* pads of 2^32 on every side of a 1x1 input: each output dim is about
     * 2^33, and 2^66 output elements overflow */
    cpt_cfg_init(&c, CONVPOOL_OP_AVERAGE_POOL, 2);
    for (int i = 0; i < 4; i++)
        c.pads[i] = big;
    op = cpt_make_op(&c, 1, NULL, NULL);
    CPT_FAILS(convpool_op_output_shape(op, in, 4, out, 4), OVERFLOW_, "output",
              "overflow");
    float x[1] = {1}, y[1];
    CPT_FAILS(convpool_op_run(op, in, 4, x, y, 1), OVERFLOW_, "overflow");
    convpool_op_destroy(op);
}
END_TEST

START_TEST(run_null_pointers)
{
    convpool_op *op = new_max_pool();
    const int64_t in[4] = {1, 1, 2, 2};
    float x[4] = {1, 2, 3, 4}, y[1];
    int64_t out[4];
    size_t ws;
    CPT_FAILS(convpool_op_output_shape(NULL, in, 4, out, 4), INVALID_ARGUMENT, "op is NULL");
    CPT_FAILS(convpool_op_output_shape(op, NULL, 4, out, 4), INVALID_ARGUMENT,
              "input shape is NULL");
    CPT_FAILS(convpool_op_output_shape(op, in, 4, NULL, 4), INVALID_ARGUMENT,
              "output_shape is NULL");
    CPT_FAILS(convpool_op_run(NULL, in, 4, x, y, 1), INVALID_ARGUMENT, "op is NULL");
    CPT_FAILS(convpool_op_run(op, NULL, 4, x, y, 1), INVALID_ARGUMENT, "input shape is NULL");
    CPT_FAILS(convpool_op_run(op, in, 4, NULL, y, 1), INVALID_ARGUMENT, "x is NULL");
    CPT_FAILS(convpool_op_run(op, in, 4, x, NULL, 1), INVALID_ARGUMENT, "y is NULL");
    CPT_FAILS(convpool_op_run_ex(NULL, NULL, in, 4, x, y, 1, NULL, NULL, 0), INVALID_ARGUMENT,
              "op is NULL");
    CPT_FAILS(convpool_op_run_ex(op, NULL, NULL, 4, x, y, 1, NULL, NULL, 0), INVALID_ARGUMENT,
              "input shape is NULL");
    CPT_FAILS(convpool_op_run_ex(op, NULL, in, 4, NULL, y, 1, NULL, NULL, 0), INVALID_ARGUMENT,
              "x is NULL");
    CPT_FAILS(convpool_op_run_ex(op, NULL, in, 4, x, NULL, 1, NULL, NULL, 0), INVALID_ARGUMENT,
              "y is NULL");
    CPT_FAILS(convpool_op_workspace_size(NULL, NULL, in, 4, &ws), INVALID_ARGUMENT,
              "op is NULL");
    CPT_FAILS(convpool_op_workspace_size(op, NULL, NULL, 4, &ws), INVALID_ARGUMENT,
              "input shape is NULL");
    CPT_FAILS(convpool_op_workspace_size(op, NULL, in, 4, NULL), INVALID_ARGUMENT,
              "workspace_size is NULL");
    convpool_op_destroy(op);
}
END_TEST

START_TEST(output_buffer_too_small)
{
    convpool_op *op = new_max_pool();
    const int64_t in[4] = {1, 2, 3, 3}; /* output (1, 2, 2, 2): 8 elements */
    float x[18] = {0}, y[8];
    const float sentinel = -123.0f;
    for (int i = 0; i < 8; i++)
        y[i] = sentinel;
    CPT_FAILS(convpool_op_run(op, in, 4, x, y, 7), BUFFER_TOO_SMALL, "y has room for 7",
              "the output has 8");
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(y[i], sentinel);
    CPT_FAILS(convpool_op_run(op, in, 4, x, y, 0), BUFFER_TOO_SMALL, "y has room for 0");
    CPT_OK(convpool_op_run(op, in, 4, x, y, 8));
    convpool_op_destroy(op);
}
END_TEST

START_TEST(indices_for_non_max_pool)
{
    const int64_t in[4] = {1, 2, 3, 3};
    float x[18] = {0}, y[18];
    int64_t idx[18];
    convpool_op *conv = new_conv();
    CPT_FAILS(convpool_op_run_ex(conv, NULL, in, 4, x, y, 18, idx, NULL, 0), INVALID_ARGUMENT,
              "indices given for Conv", "only MaxPool");
    convpool_op_destroy(conv);
    const int32_t kinds[3] = {CONVPOOL_OP_AVERAGE_POOL, CONVPOOL_OP_GLOBAL_MAX_POOL,
                              CONVPOOL_OP_GLOBAL_AVERAGE_POOL};
    const char *names[3] = {"AveragePool", "GlobalMaxPool", "GlobalAveragePool"};
    for (int i = 0; i < 3; i++) {
        cpt_cfg c;
        cpt_cfg_init(&c, kinds[i], 2);
        c.kernel[0] = c.kernel[1] = 2;
        convpool_op *op = cpt_make_op(&c, 2, NULL, NULL);
        CPT_FAILS(convpool_op_run_ex(op, NULL, in, 4, x, y, 18, idx, NULL, 0),
                  INVALID_ARGUMENT, names[i], "only MaxPool has an Indices output");
        convpool_op_destroy(op);
    }
}
END_TEST

START_TEST(context_errors)
{
    convpool_context *ctx = (convpool_context *)(uintptr_t)0x5eed;
    CPT_FAILS(convpool_context_create(2, NULL), INVALID_ARGUMENT, "ctx is NULL");
    CPT_FAILS(convpool_context_create(-1, &ctx), INVALID_ARGUMENT, "num_threads = -1");
    CPT_FAILS(convpool_context_create(1025, &ctx), INVALID_ARGUMENT, "num_threads = 1025");
    ck_assert_ptr_eq(ctx, (convpool_context *)(uintptr_t)0x5eed);
    convpool_context_destroy(NULL);
    ck_assert_int_ge(convpool_context_num_threads(NULL), 1);
    ck_assert_str_eq(convpool_isa_name(99), "unknown");
    ck_assert_str_eq(convpool_isa_name(CONVPOOL_ISA_AVX2), "avx2");
}
END_TEST

START_TEST(status_strings)
{
    const char *want[] = {"ok", "invalid argument", "invalid attribute", "shape mismatch",
                          "size overflow", "out of memory", "buffer too small", "unsupported",
                          "invalid model", "i/o error", "not found", "invalid state",
                          "internal error"};
    const int n = (int)(sizeof want / sizeof want[0]);
    ck_assert_int_eq(n, CONVPOOL_ERROR_INTERNAL + 1);
    for (int i = 0; i < n; i++) {
        ck_assert_str_eq(convpool_status_string(i), want[i]);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(convpool_status_string(i), convpool_status_string(j));
    }
    ck_assert_str_eq(convpool_status_string(-1), "unknown status");
    ck_assert_str_eq(convpool_status_string(CONVPOOL_ERROR_INTERNAL + 1), "unknown status");
    ck_assert_str_eq(convpool_status_string(INT32_MAX), "unknown status");
}
END_TEST

START_TEST(last_error_is_per_call)
{
    /* the message of a later failure replaces the earlier one */
    convpool_desc *d = NULL;
    CPT_FAILS(convpool_desc_create(9, 1, &d), INVALID_ARGUMENT, "op kind 9");
    CPT_FAILS(convpool_desc_create(1, 9, &d), INVALID_ARGUMENT, "spatial rank 9");
    ck_assert_ptr_null(strstr(convpool_last_error(), "op kind"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    CPT_ADD(s, desc_create_errors);
    CPT_ADD(s, zero_or_negative_list_values);
    CPT_ADD(s, wrong_length_lists);
    CPT_ADD(s, scalar_attribute_values);
    CPT_ADD(s, attribute_not_applicable_to_op);
    CPT_ADD(s, unknown_attribute_or_wrong_setter);
    CPT_ADD(s, desc_null_pointers);
    CPT_ADD(s, pads_with_auto_pad);
    CPT_ADD(s, pool_without_kernel_shape);
    CPT_ADD(s, create_null_pointers_and_wrong_kind);
    CPT_ADD(s, weight_shape_mismatch);
    CPT_ADD(s, weight_shape_overflow);
    CPT_ADD(s, channels_not_matching_weight_or_group);
    CPT_ADD(s, kernel_larger_than_padded_input);
    CPT_ADD(s, input_shape_errors);
    CPT_ADD(s, dims_whose_product_overflows);
    CPT_ADD(s, huge_attributes_overflow_cleanly);
    CPT_ADD(s, run_null_pointers);
    CPT_ADD(s, output_buffer_too_small);
    CPT_ADD(s, indices_for_non_max_pool);
    CPT_ADD(s, context_errors);
    CPT_ADD(s, status_strings);
    CPT_ADD(s, last_error_is_per_call);
    return cpt_run_suite(s);
}
