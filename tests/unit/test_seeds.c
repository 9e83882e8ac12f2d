/*
 * Every value printed in the seed notebooks (D2L chapter 7 and the pooling
 * notebook of seed 003), reproduced through the public API and asserted
 * exactly. PyTorch's padding=p is ONNX pads [p_h, p_w, p_h, p_w]; PyTorch's
 * MaxPool2d stride defaults to the kernel size.
 */
#include <stdlib.h>

#include "cpt.h"

/* Runs a 2-D Conv (no bias) of weight (m, cin, kh, kw) on one image of
 * (cin, h, w) and asserts the output equals `want` (m, oh, ow) exactly. */
static void check_conv2d(const float *x, int64_t cin, int64_t h, int64_t w, const float *weight,
                         int64_t m, int64_t kh, int64_t kw, const float *want, int64_t oh,
                         int64_t ow, const char *what)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.m = m;
    c.kernel[0] = kh;
    c.kernel[1] = kw;
    convpool_op *op = cpt_make_op(&c, cin, weight, NULL);
    const int64_t in[4] = {1, cin, h, w};
    int64_t out[4], count;
    float *y = cpt_run(op, NULL, in, 4, x, out, &count, NULL);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], m);
    ck_assert_int_eq(out[2], oh);
    ck_assert_int_eq(out[3], ow);
    cpt_assert_floats_equal(y, want, count, what);
    free(y);
    convpool_op_destroy(op);
}

static const float x3x3[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

START_TEST(seed_corr2d)
{
    const float k[4] = {0, 1, 2, 3};
    const float want[4] = {19, 25, 37, 43};
    check_conv2d(x3x3, 1, 3, 3, k, 1, 2, 2, want, 2, 2, "corr2d");
}
END_TEST

/* The 6x8 image: ones with a zero band in columns 2..5. */
static void edge_image(float *x)
{
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++)
            x[i * 8 + j] = (j >= 2 && j < 6) ? 0.0f : 1.0f;
}

START_TEST(seed_edge_detection)
{
    float x[48];
    edge_image(x);
    const float k[2] = {1, -1};
    float want[42];
    const float row[7] = {0, 1, 0, 0, 0, -1, 0};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 7; j++)
            want[i * 7 + j] = row[j];
    check_conv2d(x, 1, 6, 8, k, 1, 1, 2, want, 6, 7, "edge detection on X");
}
END_TEST

START_TEST(seed_edge_detection_transposed)
{
    float x[48], xt[48];
    edge_image(x);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++)
            xt[j * 6 + i] = x[i * 8 + j];
    const float k[2] = {1, -1};
    float want[40] = {0};
    check_conv2d(xt, 1, 8, 6, k, 1, 1, 2, want, 8, 5, "edge detection on X.T");
}
END_TEST

static const float x2ch[18] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9};
static const float k2ch[8] = {0, 1, 2, 3, 1, 2, 3, 4};

START_TEST(seed_multi_input_channels)
{
    const float want[4] = {56, 72, 104, 120};
    check_conv2d(x2ch, 2, 3, 3, k2ch, 1, 2, 2, want, 2, 2, "corr2d_multi_in");
}
END_TEST

START_TEST(seed_multi_output_channels)
{
    float k[24]; /* stack(K, K + 1, K + 2) */
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 8; i++)
            k[o * 8 + i] = k2ch[i] + (float)o;
    const float want[12] = {56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224};
    check_conv2d(x2ch, 2, 3, 3, k, 3, 2, 2, want, 2, 2, "corr2d_multi_in_out");
}
END_TEST

START_TEST(seed_1x1_conv_is_matmul)
{
    cpt_rng r;
    cpt_rng_seed(&r, 7);
    float x[27], k[6], want[18];
    cpt_rng_fill(&r, x, 27);
    cpt_rng_fill(&r, k, 6);
    /* Y = K (2x3) @ X (3 x 9) */
    for (int o = 0; o < 2; o++)
        for (int p = 0; p < 9; p++) {
            float s = 0.0f;
            for (int c = 0; c < 3; c++)
                s += k[o * 3 + c] * x[c * 9 + p];
            want[o * 9 + p] = s;
        }
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.m = 2;
    convpool_op *op = cpt_make_op(&c, 3, k, NULL);
    const int64_t in[4] = {1, 3, 3, 3};
    int64_t out[4], count;
    float *y = cpt_run(op, NULL, in, 4, x, out, &count, NULL);
    ck_assert_int_eq(count, 18);
    ck_assert_int_eq(out[1], 2);
    ck_assert_int_eq(out[2], 3);
    ck_assert_int_eq(out[3], 3);
    double diff = 0.0; /* the seed's criterion: sum |Y1 - Y2| < 1e-6 */
    for (int i = 0; i < 18; i++)
        diff += y[i] > want[i] ? y[i] - want[i] : want[i] - y[i];
    ck_assert_msg(diff < 1e-6, "1x1 conv differs from matmul by %g", diff);
    free(y);
    convpool_op_destroy(op);
}
END_TEST

/* Output shape of a 1->1 channel Conv on an 8x8 input. */
static void check_conv_shape(int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t sh,
                             int64_t sw, int64_t want_h, int64_t want_w)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = kh;
    c.kernel[1] = kw;
    c.strides[0] = sh;
    c.strides[1] = sw;
    c.pads[0] = c.pads[2] = ph;
    c.pads[1] = c.pads[3] = pw;
    float *w = calloc((size_t)(kh * kw), sizeof *w);
    convpool_op *op = cpt_make_op(&c, 1, w, NULL);
    const int64_t in[4] = {1, 1, 8, 8};
    int64_t out[4] = {0};
    CPT_OK(convpool_op_output_shape(op, in, 4, out, 4));
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 1);
    ck_assert_int_eq(out[2], want_h);
    ck_assert_int_eq(out[3], want_w);
    convpool_op_destroy(op);
    free(w);
}

START_TEST(seed_padding_and_stride_shapes)
{
    check_conv_shape(3, 3, 1, 1, 1, 1, 8, 8);
    check_conv_shape(5, 3, 2, 1, 1, 1, 8, 8);
    check_conv_shape(3, 3, 1, 1, 2, 2, 4, 4);
    check_conv_shape(3, 5, 0, 1, 3, 4, 2, 2);
}
END_TEST

/* Input images of the pooling seeds. */
enum seed_image { IMAGE_0_TO_8, IMAGE_ARANGE16_AND_PLUS1, IMAGE_1_TO_16 };

static void seed_image_fill(enum seed_image which, float *x)
{
    for (int i = 0; i < 16; i++) {
        switch (which) {
        case IMAGE_0_TO_8: /* the 3x3 grid 0..8 */
            if (i < 9)
                x[i] = (float)i;
            break;
        case IMAGE_ARANGE16_AND_PLUS1: /* arange(16) 4x4; channel 1 is X + 1 */
            x[i] = (float)i;
            x[16 + i] = (float)i + 1.0f;
            break;
        case IMAGE_1_TO_16: /* seed 003's 4x4 grid */
            x[i] = (float)(i + 1);
            break;
        }
    }
}

/* One pooling seed: (kind, image, channels, size, kernel, stride, pad)
 * and the printed result. PyTorch padding=(ph, pw) -> pads [ph, pw, ph, pw]. */
typedef struct pool_seed {
    const char *what;
    int32_t kind;
    enum seed_image image;
    int64_t ch, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
    float want[9];
} pool_seed;

#define MAXP CONVPOOL_OP_MAX_POOL
#define AVGP CONVPOOL_OP_AVERAGE_POOL
static const pool_seed pool_seeds[] = {
    {"pool2d max (2,2)", MAXP, IMAGE_0_TO_8, 1, 3, 3, 2, 2, 1, 1, 0, 0, 2, 2,
     {4, 5, 7, 8}},
    {"pool2d avg (2,2)", AVGP, IMAGE_0_TO_8, 1, 3, 3, 2, 2, 1, 1, 0, 0, 2, 2,
     {2, 3, 5, 6}},
    {"MaxPool2d(3)", MAXP, IMAGE_ARANGE16_AND_PLUS1, 1, 4, 4, 3, 3, 3, 3, 0, 0, 1, 1, {10}},
    {"MaxPool2d(3, padding=1, stride=2)", MAXP, IMAGE_ARANGE16_AND_PLUS1, 1, 4, 4, 3, 3, 2, 2,
     1, 1, 2, 2, {5, 7, 13, 15}},
    {"MaxPool2d((2,3), stride=(2,3), padding=(0,1))", MAXP, IMAGE_ARANGE16_AND_PLUS1, 1, 4, 4,
     2, 3, 2, 3, 0, 1, 2, 2, {5, 7, 13, 15}},
    {"MaxPool2d((2,3), padding=(1,1), stride=(2,3))", MAXP, IMAGE_ARANGE16_AND_PLUS1, 1, 4, 4,
     2, 3, 2, 3, 1, 1, 3, 2, {1, 3, 9, 11, 13, 15}},
    {"MaxPool2d(3, padding=1, stride=2) on cat(X, X+1)", MAXP, IMAGE_ARANGE16_AND_PLUS1, 2, 4,
     4, 3, 3, 2, 2, 1, 1, 2, 2, {5, 7, 13, 15, 6, 8, 14, 16}},
    {"seed 003 MaxPool2d(2, stride=2)", MAXP, IMAGE_1_TO_16, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2,
     {6, 8, 14, 16}},
    {"seed 003 AvgPool2d(2, stride=2)", AVGP, IMAGE_1_TO_16, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2,
     {3.5f, 5.5f, 11.5f, 13.5f}},
    /* every 2x2 window's max is its bottom-right element */
    {"seed 003 MaxPool2d(2, stride=1, padding=0)", MAXP, IMAGE_1_TO_16, 1, 4, 4, 2, 2, 1, 1, 0,
     0, 3, 3, {6, 7, 8, 10, 11, 12, 14, 15, 16}},
};
#define POOL_SEED_COUNT ((int)(sizeof pool_seeds / sizeof pool_seeds[0]))

START_TEST(seed_pooling)
{
    const pool_seed *t = &pool_seeds[_i];
    float x[32] = {0};
    seed_image_fill(t->image, x);
    cpt_cfg c;
    cpt_cfg_init(&c, t->kind, 2);
    c.kernel[0] = t->kh;
    c.kernel[1] = t->kw;
    c.strides[0] = t->sh;
    c.strides[1] = t->sw;
    c.pads[0] = c.pads[2] = t->ph;
    c.pads[1] = c.pads[3] = t->pw;
    convpool_op *op = cpt_make_op(&c, t->ch, NULL, NULL);
    const int64_t in[4] = {1, t->ch, t->h, t->w};
    int64_t out[4], count;
    float *y = cpt_run(op, NULL, in, 4, x, out, &count, NULL);
    ck_assert_msg(out[1] == t->ch && out[2] == t->oh && out[3] == t->ow,
                  "%s: output shape (%lld, %lld, %lld), expected (%lld, %lld, %lld)", t->what,
                  (long long)out[1], (long long)out[2], (long long)out[3], (long long)t->ch,
                  (long long)t->oh, (long long)t->ow);
    cpt_assert_floats_equal(y, t->want, count, t->what);
    free(y);
    convpool_op_destroy(op);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seeds");
    CPT_ADD(s, seed_corr2d);
    CPT_ADD(s, seed_edge_detection);
    CPT_ADD(s, seed_edge_detection_transposed);
    CPT_ADD(s, seed_multi_input_channels);
    CPT_ADD(s, seed_multi_output_channels);
    CPT_ADD(s, seed_1x1_conv_is_matmul);
    CPT_ADD(s, seed_padding_and_stride_shapes);
    TCase *pools = tcase_create("seed_pooling");
    tcase_add_loop_test(pools, seed_pooling, 0, POOL_SEED_COUNT);
    suite_add_tcase(s, pools);
    return cpt_run_suite(s);
}
