/*
 * ConvTranspose, LpPool and GlobalLpPool through the public API: values
 * computed by hand (in the comments), every new attribute's errors, and a
 * few hundred random configurations against a scatter-form oracle written
 * here (each input element adds its kernel into the full output, which is
 * then cropped or extended by the pads): a different algorithm from the
 * library's gather-form reference kernel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt.h"

static convpool_desc *make_desc(int32_t kind, int32_t rank)
{
    convpool_desc *d = NULL;
    CPT_OK(convpool_desc_create(kind, rank, &d));
    return d;
}

static void set_ints1(convpool_desc *d, int32_t attr, int64_t v)
{
    CPT_OK(convpool_desc_set_ints(d, attr, &v, 1));
}

/* Runs a 1-D op on x[n] (N = C = 1) and asserts the output equals want[count]. */
static void expect_1d(const convpool_op *op, const float *x, int64_t n, const float *want,
                      int64_t count, double tol, const char *what)
{
    int64_t shape[3] = {1, 1, n}, out_shape[3], got_count;
    float *y = cpt_run(op, NULL, shape, 3, x, out_shape, &got_count, NULL);
    ck_assert_msg(got_count == count, "%s: %lld outputs, expected %lld", what, (long long)got_count,
                  (long long)count);
    cpt_assert_close(y, want, count, tol, what);
    free(y);
}

static convpool_op *transpose_1d(convpool_desc *d, const float *w, int64_t k, float bias)
{
    const int64_t ws[3] = {1, 1, k};
    convpool_op *op = NULL;
    CPT_OK(convpool_conv_create(d, ws, 3, w, &bias, &op));
    convpool_desc_destroy(d);
    return op;
}

/* x = [1, 2, 3], w = [1, 10], stride 2: the full output is
 * [1, 10, 2, 20, 3, 30] (length 2*(3-1) + 2 = 6), plus the bias 0.5. */
START_TEST(transpose_by_hand)
{
    const float x[3] = {1, 2, 3}, w[2] = {1, 10};
    convpool_desc *d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    convpool_op *op = transpose_1d(d, w, 2, 0.5f);
    const float full[6] = {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f};
    expect_1d(op, x, 3, full, 6, 0, "full");
    convpool_op_destroy(op);

    /* pads [1, 2] crop one at the start, two at the end */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    const int64_t pads[2] = {1, 2};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pads, 2));
    op = transpose_1d(d, w, 2, 0.5f);
    expect_1d(op, x, 3, full + 1, 3, 0, "pads");
    convpool_op_destroy(op);

    /* output_padding 1 adds one position at the end: only the bias */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    set_ints1(d, CONVPOOL_ATTR_OUTPUT_PADDING, 1);
    op = transpose_1d(d, w, 2, 0.5f);
    const float padded[7] = {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f, 0.5f};
    expect_1d(op, x, 3, padded, 7, 0, "output_padding");
    convpool_op_destroy(op);

    /* output_shape 7 > 6: total padding -1; NOTSET puts floor(-1/2) = -1 at
     * the end, so the extra position is appended (as output_padding 1). */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    set_ints1(d, CONVPOOL_ATTR_OUTPUT_SHAPE, 7);
    op = transpose_1d(d, w, 2, 0.5f);
    expect_1d(op, x, 3, padded, 7, 0, "output_shape 7");
    convpool_op_destroy(op);

    /* output_shape 5: total 1; NOTSET and SAME_LOWER crop at the start,
     * SAME_UPPER at the end */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    set_ints1(d, CONVPOOL_ATTR_OUTPUT_SHAPE, 5);
    op = transpose_1d(d, w, 2, 0.5f);
    expect_1d(op, x, 3, full + 1, 5, 0, "output_shape 5 NOTSET");
    convpool_op_destroy(op);
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    set_ints1(d, CONVPOOL_ATTR_OUTPUT_SHAPE, 5);
    CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, CONVPOOL_AUTO_PAD_SAME_UPPER));
    op = transpose_1d(d, w, 2, 0.5f);
    expect_1d(op, x, 3, full, 5, 0, "output_shape 5 SAME_UPPER");
    convpool_op_destroy(op);

    /* SAME_LOWER without output_shape: out = 3*2 = 6 with k = 3 (full 7):
     * w = [1, 10, 100] gives full [1, 10, 102, 20, 203, 30, 300]; the odd
     * position goes at the start. */
    const float w3[3] = {1, 10, 100};
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
    CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, CONVPOOL_AUTO_PAD_SAME_LOWER));
    op = transpose_1d(d, w3, 3, 0);
    const float lower[6] = {10, 102, 20, 203, 30, 300};
    expect_1d(op, x, 3, lower, 6, 0, "SAME_LOWER");
    convpool_op_destroy(op);

    /* dilation 2, stride 1, w = [1, 10]: taps at 0 and 2:
     * [1, 2, 3 + 10, 20, 30] */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 1);
    set_ints1(d, CONVPOOL_ATTR_DILATIONS, 2);
    op = transpose_1d(d, w, 2, 0);
    const float dil[5] = {1, 2, 13, 20, 30};
    expect_1d(op, x, 3, dil, 5, 0, "dilations");
    convpool_op_destroy(op);
}
END_TEST

/* group 2: x channels (a, b), W (2, 1, 1) = [2, 3]: y = (2a, 3b). */
START_TEST(transpose_groups_and_shape)
{
    convpool_desc *d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, 2));
    const int64_t ws[4] = {2, 1, 1, 1};
    const float w[2] = {2, 3};
    convpool_op *op = NULL;
    CPT_OK(convpool_conv_create(d, ws, 4, w, NULL, &op));
    const int64_t in[4] = {1, 2, 1, 2};
    const float x[4] = {1, 2, 5, 7};
    int64_t out[4], count;
    float *y = cpt_run(op, NULL, in, 4, x, out, &count, NULL);
    const float want[4] = {2, 4, 15, 21};
    ck_assert_int_eq(out[1], 2);
    cpt_assert_floats_equal(y, want, 4, "group 2");
    free(y);
    CPT_FAILS(convpool_op_output_shape(op, (const int64_t[]){1, 3, 1, 2}, 4, out, 4),
              CONVPOOL_ERROR_SHAPE_MISMATCH, "C = 3");
    convpool_op_destroy(op);

    /* W (C = 3, M/group = 1, ...) with group 2: C not divisible */
    const int64_t bad_ws[4] = {3, 1, 1, 1};
    const float w3[3] = {1, 1, 1};
    CPT_FAILS(convpool_conv_create(d, bad_ws, 4, w3, NULL, &op), CONVPOOL_ERROR_SHAPE_MISMATCH,
              "C = 3", "group = 2");
    convpool_desc_destroy(d);

    /* output shape from the op API: 2-D, k 4 s 2 p 1 on 4x4 gives 8x8 (DCGAN) */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    const int64_t s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, s2, 2));
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, p1, 4));
    const int64_t ws2[4] = {3, 5, 4, 4};
    float *w2 = calloc(3 * 5 * 16, sizeof *w2);
    CPT_OK(convpool_conv_create(d, ws2, 4, w2, NULL, &op));
    CPT_OK(convpool_op_output_shape(op, (const int64_t[]){2, 3, 4, 4}, 4, out, 4));
    const int64_t want_shape[4] = {2, 5, 8, 8};
    cpt_assert_int64s_equal(out, want_shape, 4, "DCGAN shape");
    int64_t v[4];
    size_t n;
    CPT_OK(convpool_desc_get_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, v, 4, &n));
    ck_assert_uint_eq(n, 0); /* unset */
    CPT_OK(convpool_desc_get_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, v, 4, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(v[0] == 0 && v[1] == 0);
    free(w2);
    convpool_op_destroy(op);
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(transpose_attribute_errors)
{
    convpool_desc *d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    const int64_t neg[2] = {0, -1}, zero[2] = {0, 4};
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, neg, 2),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "output_padding[1] = -1");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, neg, 1),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "output_padding has 1 values", "needs 2");
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, zero, 2),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "output_shape[0] = 0");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_P, 2), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "ConvTranspose has no attribute p");
    const float w[4] = {1, 1, 1, 1};
    const int64_t ws[4] = {1, 1, 2, 2};
    convpool_op *op = (convpool_op *)(uintptr_t)0x5eed;

    /* output_padding must be below the stride or the dilation */
    const int64_t s2[2] = {2, 2}, op2[2] = {1, 2};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, s2, 2));
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, op2, 2));
    CPT_FAILS(convpool_conv_create(d, ws, 4, w, NULL, &op), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "output_padding[1] = 2", "strides[1] = 2", "dilations[1] = 1");
    const int64_t d3[2] = {1, 3};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, d3, 2));
    convpool_op *ok = NULL;
    CPT_OK(convpool_conv_create(d, ws, 4, w, NULL, &ok)); /* 2 < dilation 3 */
    convpool_op_destroy(ok);
    convpool_desc_destroy(d);

    /* output_shape with nonzero pads */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    const int64_t os[2] = {5, 5}, pads[4] = {0, 1, 0, 0};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, os, 2));
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pads, 4));
    CPT_FAILS(convpool_conv_create(d, ws, 4, w, NULL, &op), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "pads[1] = 1", "output_shape");
    convpool_desc_destroy(d);

    /* output_shape beyond full + stride - 1: input 3x3, k 2, s 1: full 4 */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    const int64_t big[2] = {4, 5};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, big, 2));
    CPT_OK(convpool_conv_create(d, ws, 4, w, NULL, &ok));
    int64_t out[4];
    CPT_FAILS(convpool_op_output_shape(ok, (const int64_t[]){1, 1, 3, 3}, 4, out, 4),
              CONVPOOL_ERROR_SHAPE_MISMATCH, "output_shape[1] = 5", "W = 3", "at most 4");
    convpool_op_destroy(ok);
    convpool_desc_destroy(d);

    /* pads that crop everything */
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    const int64_t crop[4] = {2, 0, 2, 0};
    CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, crop, 4));
    CPT_OK(convpool_conv_create(d, ws, 4, w, NULL, &ok));
    CPT_FAILS(convpool_op_output_shape(ok, (const int64_t[]){1, 1, 3, 3}, 4, out, 4),
              CONVPOOL_ERROR_SHAPE_MISMATCH, "pads[0] = 2", "output size would be 0");
    convpool_op_destroy(ok);
    convpool_desc_destroy(d);

    /* the attributes belong to ConvTranspose only */
    d = make_desc(CONVPOOL_OP_CONV, 2);
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, zero, 2),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "Conv has no attribute output_padding");
    convpool_desc_destroy(d);
    d = make_desc(CONVPOOL_OP_LP_POOL, 2);
    CPT_FAILS(convpool_conv_create(d, ws, 4, w, NULL, &op), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "descriptor is for LpPool");
    convpool_desc_destroy(d);
    d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
    CPT_FAILS(convpool_pool_create(d, &op), CONVPOOL_ERROR_INVALID_ARGUMENT, "ConvTranspose",
              "convpool_conv_create");
    convpool_desc_destroy(d);
    ck_assert_ptr_eq(op, (convpool_op *)(uintptr_t)0x5eed);
}
END_TEST

/* x = [1, -2, 3, -4], k 2 s 2: p 1 -> [3, 7]; p 2 -> [sqrt 5, 5];
 * p 3 -> [9^(1/3), 91^(1/3)]. Padding adds nothing: pads [1, 1], k 2 s 2
 * gives windows {pad,1}, {-2,3}, {-4,pad}. */
START_TEST(lp_pool_by_hand)
{
    const float x[4] = {1, -2, 3, -4};
    const struct {
        int64_t p;
        int pads;
        float want[3];
        int64_t n;
    } cases[] = {
        {1, 0, {3, 7}, 2},
        {2, 0, {2.2360680f, 5}, 2},
        {3, 0, {2.0800838f, 4.4979414f}, 2},
        {2, 1, {1, 3.6055513f, 4}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        convpool_desc *d = make_desc(CONVPOOL_OP_LP_POOL, 1);
        set_ints1(d, CONVPOOL_ATTR_KERNEL_SHAPE, 2);
        set_ints1(d, CONVPOOL_ATTR_STRIDES, 2);
        CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_P, cases[i].p));
        if (cases[i].pads) {
            const int64_t pads[2] = {1, 1};
            CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pads, 2));
        }
        convpool_op *op = NULL;
        CPT_OK(convpool_pool_create(d, &op));
        char what[32];
        snprintf(what, sizeof what, "p = %lld", (long long)cases[i].p);
        expect_1d(op, x, 4, cases[i].want, cases[i].n, 1e-6, what);
        convpool_op_destroy(op);
        convpool_desc_destroy(d);
    }
    /* GlobalLpPool, default p = 2: |(3, -4)| = 5 */
    convpool_desc *d = make_desc(CONVPOOL_OP_GLOBAL_LP_POOL, 1);
    int64_t p;
    CPT_OK(convpool_desc_get_int(d, CONVPOOL_ATTR_P, &p));
    ck_assert_int_eq(p, 2);
    convpool_op *op = NULL;
    CPT_OK(convpool_pool_create(d, &op));
    const float x2[2] = {3, -4}, five = 5;
    expect_1d(op, x2, 2, &five, 1, 0, "GlobalLpPool");
    convpool_op_destroy(op);
    convpool_desc_destroy(d);
}
END_TEST

START_TEST(lp_pool_errors)
{
    convpool_desc *d = make_desc(CONVPOOL_OP_LP_POOL, 2);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_P, 0), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "p = 0");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_P, 1025), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "p = 1025");
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, 1),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "LpPool has no attribute count_include_pad");
    convpool_op *op = NULL;
    CPT_FAILS(convpool_pool_create(d, &op), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "kernel_shape is required", "LpPool");
    convpool_desc_destroy(d);
    d = make_desc(CONVPOOL_OP_GLOBAL_LP_POOL, 2);
    const int64_t k[2] = {2, 2};
    CPT_FAILS(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2),
              CONVPOOL_ERROR_INVALID_ATTRIBUTE, "GlobalLpPool has no attribute kernel_shape");
    convpool_desc_destroy(d);
    d = make_desc(CONVPOOL_OP_MAX_POOL, 2);
    CPT_FAILS(convpool_desc_set_int(d, CONVPOOL_ATTR_P, 2), CONVPOOL_ERROR_INVALID_ATTRIBUTE,
              "MaxPool has no attribute p");
    convpool_desc_destroy(d);
}
END_TEST

/* ---- random configurations against the scatter-form oracle ---- */

typedef struct tcfg {
    int rank;
    int64_t n, c, m_per_group, group, in[3], k[3], s[3], d[3], op[3], pads[6], os[3];
    int auto_pad, has_os;
} tcfg;

/* Full (uncropped) size and resolved pads of dim i, following the ONNX
 * ConvTranspose text. Returns the output size. */
static int64_t oracle_dim(const tcfg *t, int i, int64_t *pb)
{
    int64_t full = t->s[i] * (t->in[i] - 1) + t->op[i] + (t->k[i] - 1) * t->d[i] + 1;
    if (t->has_os || t->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ||
        t->auto_pad == CONVPOOL_AUTO_PAD_SAME_LOWER) {
        int64_t out = t->has_os ? t->os[i] : t->in[i] * t->s[i];
        int64_t total = full - out;
        int64_t half = (int64_t)floor((double)total / 2.0);
        *pb = t->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ? half : total - half;
        return out;
    }
    int64_t b = t->auto_pad == CONVPOOL_AUTO_PAD_VALID ? 0 : t->pads[i];
    int64_t e = t->auto_pad == CONVPOOL_AUTO_PAD_VALID ? 0 : t->pads[t->rank + i];
    *pb = b;
    return full - b - e;
}

static void oracle_transpose(const tcfg *t, const float *x, const float *w, const float *b,
                             const int64_t *out, const int64_t *pb, float *y)
{
    int64_t in[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1},
            dl[3] = {1, 1, 1}, p[3] = {0, 0, 0};
    int lead = 3 - t->rank;
    for (int i = 0; i < t->rank; i++) {
        in[lead + i] = t->in[i];
        o3[lead + i] = out[i];
        k[lead + i] = t->k[i];
        s[lead + i] = t->s[i];
        dl[lead + i] = t->d[i];
        p[lead + i] = pb[i];
    }
    const int64_t M = t->m_per_group * t->group, cg = t->c / t->group;
    const int64_t oplane = o3[0] * o3[1] * o3[2], iplane = in[0] * in[1] * in[2];
    const int64_t ks = k[0] * k[1] * k[2];
    double *acc = calloc((size_t)(t->n * M * oplane), sizeof *acc);
    for (int64_t n = 0; n < t->n; n++)
        for (int64_t c = 0; c < t->c; c++)
            for (int64_t i = 0; i < iplane; i++) {
                int64_t id = i / (in[1] * in[2]), ih = i / in[2] % in[1], iw = i % in[2];
                double xv = x[(n * t->c + c) * iplane + i];
                for (int64_t mg = 0; mg < t->m_per_group; mg++) {
                    int64_t m = c / cg * t->m_per_group + mg;
                    for (int64_t kk = 0; kk < ks; kk++) {
                        int64_t kd = kk / (k[1] * k[2]), kh = kk / k[2] % k[1], kw = kk % k[2];
                        int64_t od = id * s[0] + kd * dl[0] - p[0];
                        int64_t oh = ih * s[1] + kh * dl[1] - p[1];
                        int64_t ow = iw * s[2] + kw * dl[2] - p[2];
                        if (od < 0 || od >= o3[0] || oh < 0 || oh >= o3[1] || ow < 0 || ow >= o3[2])
                            continue;
                        acc[(n * M + m) * oplane + (od * o3[1] + oh) * o3[2] + ow] +=
                            xv * w[(c * t->m_per_group + mg) * ks + kk];
                    }
                }
            }
    for (int64_t i = 0; i < t->n * M * oplane; i++)
        y[i] = (float)(acc[i] + (b ? b[i / oplane % M] : 0));
    free(acc);
}

START_TEST(transpose_random)
{
    cpt_rng r;
    cpt_rng_seed(&r, 1300);
    int ran = 0;
    for (int iter = 0; iter < 400; iter++) {
        tcfg t;
        memset(&t, 0, sizeof t);
        t.rank = (int)cpt_rng_int(&r, 1, 3);
        t.group = cpt_rng_int(&r, 1, 3);
        t.n = cpt_rng_int(&r, 1, 2);
        t.c = t.group * cpt_rng_int(&r, 1, 3);
        t.m_per_group = cpt_rng_int(&r, 1, 3);
        t.auto_pad = (int)cpt_rng_int(&r, 0, 3);
        t.has_os = t.auto_pad != CONVPOOL_AUTO_PAD_VALID && cpt_rng_int(&r, 0, 3) == 0;
        for (int i = 0; i < t.rank; i++) {
            t.in[i] = cpt_rng_int(&r, 1, t.rank == 3 ? 4 : 7);
            t.k[i] = cpt_rng_int(&r, 1, 4);
            t.s[i] = cpt_rng_int(&r, 1, 3);
            t.d[i] = cpt_rng_int(&r, 1, 2);
            t.op[i] = cpt_rng_int(&r, 0, (t.s[i] > t.d[i] ? t.s[i] : t.d[i]) - 1);
            if (t.auto_pad == CONVPOOL_AUTO_PAD_NOTSET && !t.has_os) {
                t.pads[i] = cpt_rng_int(&r, 0, 2);
                t.pads[t.rank + i] = cpt_rng_int(&r, 0, 2);
            }
        }
        int64_t out[3], pb[3];
        int empty = 0;
        for (int i = 0; i < t.rank; i++) {
            if (t.has_os) {
                int64_t full = t.s[i] * (t.in[i] - 1) + t.op[i] + (t.k[i] - 1) * t.d[i] + 1;
                t.os[i] = cpt_rng_int(&r, full > 3 ? full - 3 : 1, full + t.s[i] - 1);
            }
            out[i] = oracle_dim(&t, i, &pb[i]);
            empty |= out[i] < 1;
        }
        convpool_desc *d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, t.rank);
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, t.s, (size_t)t.rank));
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, t.d, (size_t)t.rank));
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, t.op, (size_t)t.rank));
        CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, t.group));
        CPT_OK(convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, t.auto_pad));
        if (t.auto_pad == CONVPOOL_AUTO_PAD_NOTSET && !t.has_os)
            CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, t.pads, 2 * (size_t)t.rank));
        if (t.has_os)
            CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, t.os, (size_t)t.rank));
        int64_t ws[5] = {t.c, t.m_per_group}, xs[5] = {t.n, t.c};
        for (int i = 0; i < t.rank; i++) {
            ws[2 + i] = t.k[i];
            xs[2 + i] = t.in[i];
        }
        int64_t wcount = cpt_count(ws, (size_t)t.rank + 2),
                xcount = cpt_count(xs, (size_t)t.rank + 2);
        float *w = malloc((size_t)wcount * sizeof *w), *x = malloc((size_t)xcount * sizeof *x);
        float b[9];
        cpt_rng_fill(&r, w, wcount);
        cpt_rng_fill(&r, x, xcount);
        cpt_rng_fill(&r, b, 9);
        const float *bias = cpt_rng_int(&r, 0, 1) ? b : NULL;
        convpool_op *op = NULL;
        CPT_OK(convpool_conv_create(d, ws, (size_t)t.rank + 2, w, bias, &op));
        char what[96];
        snprintf(what, sizeof what, "random case %d (rank %d, auto_pad %d, output_shape %d)", iter,
                 t.rank, t.auto_pad, t.has_os);
        if (empty) {
            int64_t os[5];
            CPT_FAILS(convpool_op_output_shape(op, xs, (size_t)t.rank + 2, os, 5),
                      CONVPOOL_ERROR_SHAPE_MISMATCH, "output size would be");
        } else {
            int64_t out_shape[5], count;
            float *y = cpt_run(op, NULL, xs, (size_t)t.rank + 2, x, out_shape, &count, NULL);
            ck_assert_int_eq(out_shape[1], t.m_per_group * t.group);
            for (int i = 0; i < t.rank; i++)
                ck_assert_msg(out_shape[2 + i] == out[i], "%s: dim %d is %lld, oracle %lld", what,
                              i, (long long)out_shape[2 + i], (long long)out[i]);
            float *want = malloc((size_t)count * sizeof *want);
            oracle_transpose(&t, x, w, bias, out, pb, want);
            cpt_assert_close(y, want, count, 1e-5, what);
            free(want);
            free(y);
            ran++;
        }
        convpool_op_destroy(op);
        convpool_desc_destroy(d);
        free(w);
        free(x);
    }
    ck_assert_msg(ran > 300, "only %d of 400 random cases had an output", ran);
}
END_TEST

/* An infinite or NaN weight reaches only the outputs its input elements
 * land on (the oracle's scatter adds nothing else), on every ISA path:
 * the stride phases (16 output channels a group) run Convs whose taps in
 * the padding the fast kernels would multiply by zero (inf x 0 is NaN), so
 * such ops run on the reference kernels. k5 and k7 at stride 2 without
 * pads: the phases' Convs have 2 and 3 columns of padding. */
START_TEST(transpose_non_finite_weights)
{
    cpt_rng r;
    cpt_rng_seed(&r, 77);
    for (int64_t k = 5; k <= 7; k += 2) {
        tcfg t;
        memset(&t, 0, sizeof t);
        t.rank = 2;
        t.n = 1, t.c = 16, t.m_per_group = 16, t.group = 1;
        for (int i = 0; i < 2; i++) {
            t.in[i] = 9, t.k[i] = k, t.s[i] = 2, t.d[i] = 1;
        }
        convpool_desc *d = make_desc(CONVPOOL_OP_CONV_TRANSPOSE, 2);
        CPT_OK(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, t.s, 2));
        const int64_t ws[4] = {16, 16, k, k}, xs[4] = {1, 16, 9, 9};
        const int64_t wn = 16 * 16 * k * k;
        float *w = malloc((size_t)wn * sizeof *w), x[16 * 81];
        cpt_rng_fill(&r, w, wn);
        cpt_rng_fill(&r, x, 16 * 81);
        w[0] = INFINITY;                        /* c 0 -> m 0, tap (0, 0) */
        w[(16 + 5) * k * k + k * k - 1] = NAN;  /* c 1 -> m 5, the last tap */
        w[(32 + 9) * k * k + k] = -INFINITY;    /* c 2 -> m 9, tap (1, 0) */
        convpool_op *op = NULL;
        CPT_OK(convpool_conv_create(d, ws, 4, w, NULL, &op));
        int64_t out[2], pb[2], out_shape[4], count;
        for (int i = 0; i < 2; i++)
            out[i] = oracle_dim(&t, i, &pb[i]);
        float *y = cpt_run(op, NULL, xs, 4, x, out_shape, &count, NULL);
        float *want = malloc((size_t)count * sizeof *want);
        oracle_transpose(&t, x, w, NULL, out, pb, want);
        cpt_assert_close(y, want, count, 1e-5, k == 5 ? "k5 s2" : "k7 s2");
        free(want);
        free(y);
        free(w);
        convpool_op_destroy(op);
        convpool_desc_destroy(d);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transpose_lp");
    CPT_ADD(s, transpose_by_hand);
    CPT_ADD(s, transpose_groups_and_shape);
    CPT_ADD(s, transpose_attribute_errors);
    CPT_ADD(s, lp_pool_by_hand);
    CPT_ADD(s, lp_pool_errors);
    CPT_ADD(s, transpose_random);
    CPT_ADD(s, transpose_non_finite_weights);
    return cpt_run_suite(s);
}
