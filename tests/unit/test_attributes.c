/*
 * Attribute semantics: each edge case against values computed by hand
 * (written out in the comments) and against the naive oracle in
 * cpt_naive.c; then a few hundred random configurations (fixed seed)
 * compared with the oracle.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt.h"

#define TOL 1e-5

/* Runs `c` on x (shape `shape`) in the library and in the oracle and
 * asserts they agree: the same output shape, values within TOL, Indices
 * (MaxPool) exactly. If `want` is not NULL the library output must also
 * equal it exactly, and `want_indices` likewise. Returns the output count. */
static int64_t check_op(const cpt_cfg *c, const int64_t *shape, const float *x, const float *w,
                        const float *b, const float *want, const int64_t *want_indices,
                        const char *what)
{
    size_t rank = (size_t)c->rank + 2;
    convpool_op *op = cpt_make_op(c, shape[1], w, b);
    int64_t naive_shape[5];
    ck_assert_msg(cpt_naive_output_shape(c, shape, naive_shape), "%s: oracle: empty output",
                  what);
    int is_max = c->kind == CONVPOOL_OP_MAX_POOL;
    int64_t out_shape[5], count, *indices = NULL;
    float *y = cpt_run(op, NULL, shape, rank, x, out_shape, &count, is_max ? &indices : NULL);
    cpt_assert_int64s_equal(out_shape, naive_shape, (int64_t)rank, what);
    float *ny = malloc((size_t)count * sizeof *ny);
    int64_t *nidx = malloc((size_t)count * sizeof *nidx);
    int64_t empty = cpt_naive_run(c, shape, x, w, b, ny, nidx);
    ck_assert_msg(empty == 0, "%s: the oracle found %lld windows without input", what,
                  (long long)empty);
    cpt_assert_close(y, ny, count, TOL, what);
    if (is_max)
        cpt_assert_int64s_equal(indices, nidx, count, what);
    if (want)
        cpt_assert_floats_equal(y, want, count, what);
    if (want_indices)
        cpt_assert_int64s_equal(indices, want_indices, count, what);
    free(ny);
    free(nidx);
    free(indices);
    free(y);
    convpool_op_destroy(op);
    return count;
}

static const float x1to6[6] = {1, 2, 3, 4, 5, 6};

/* 1-D, in = 5, k = 2, s = 1: SAME gives out = 5 and total pad 1, at the end
 * (UPPER) or at the start (LOWER). */
START_TEST(same_upper_vs_lower_odd_padding)
{
    const int64_t shape[3] = {1, 1, 5};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 1);
    c.kernel[0] = 2;
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
    /* windows [1,2] [2,3] [3,4] [4,5] [5,pad] */
    const float max_upper[5] = {2, 3, 4, 5, 5};
    ck_assert_int_eq(check_op(&c, shape, x1to6, NULL, NULL, max_upper, NULL, "max SAME_UPPER"),
                     5);
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_LOWER;
    /* windows [pad,1] [1,2] ... [4,5] */
    const float max_lower[5] = {1, 2, 3, 4, 5};
    check_op(&c, shape, x1to6, NULL, NULL, max_lower, NULL, "max SAME_LOWER");

    c.kind = CONVPOOL_OP_AVERAGE_POOL;
    const float avg_lower[5] = {1, 1.5f, 2.5f, 3.5f, 4.5f};
    check_op(&c, shape, x1to6, NULL, NULL, avg_lower, NULL, "avg SAME_LOWER");
    c.count_include_pad = 1; /* the padded tap counts: 1 / 2 */
    const float avg_lower_incl[5] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f};
    check_op(&c, shape, x1to6, NULL, NULL, avg_lower_incl, NULL, "avg SAME_LOWER incl pad");
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
    const float avg_upper_incl[5] = {1.5f, 2.5f, 3.5f, 4.5f, 2.5f};
    check_op(&c, shape, x1to6, NULL, NULL, avg_upper_incl, NULL, "avg SAME_UPPER incl pad");

    /* Conv w = [1, 10]: UPPER y[i] = x[i] + 10 x[i+1], LOWER x[i-1] + 10 x[i] */
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.kernel[0] = 2;
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
    const float w[2] = {1, 10};
    const float conv_upper[5] = {21, 32, 43, 54, 5};
    check_op(&c, shape, x1to6, w, NULL, conv_upper, NULL, "conv SAME_UPPER");
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_LOWER;
    const float conv_lower[5] = {10, 21, 32, 43, 54};
    check_op(&c, shape, x1to6, w, NULL, conv_lower, NULL, "conv SAME_LOWER");
}
END_TEST

/* With dilation: in = 6, k = 2, d = 2 (effective extent 3), s = 2:
 * out = 3, total pad = 2*2 + 3 - 6 = 1. UPPER windows start at 0, 2, 4
 * (taps 0,2 / 2,4 / 4,pad); LOWER at -1, 1, 3 (taps pad,1 / 1,3 / 3,5). */
START_TEST(same_with_dilations)
{
    const int64_t shape[3] = {1, 1, 6};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 1);
    c.kernel[0] = 2;
    c.dilations[0] = 2;
    c.strides[0] = 2;
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
    const float max_upper[3] = {3, 5, 5};
    const int64_t idx_upper[3] = {2, 4, 4};
    check_op(&c, shape, x1to6, NULL, NULL, max_upper, idx_upper, "dilated max SAME_UPPER");
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_LOWER;
    const float max_lower[3] = {2, 4, 6};
    const int64_t idx_lower[3] = {1, 3, 5};
    check_op(&c, shape, x1to6, NULL, NULL, max_lower, idx_lower, "dilated max SAME_LOWER");

    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.kernel[0] = 2;
    c.dilations[0] = 2;
    c.strides[0] = 2;
    const float w[2] = {1, 10};
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
    const float conv_upper[3] = {31, 53, 5};
    check_op(&c, shape, x1to6, w, NULL, conv_upper, NULL, "dilated conv SAME_UPPER");
    c.auto_pad = CONVPOOL_AUTO_PAD_SAME_LOWER;
    const float conv_lower[3] = {20, 42, 64};
    check_op(&c, shape, x1to6, w, NULL, conv_lower, NULL, "dilated conv SAME_LOWER");

    /* 2-D: SAME on a 5x6 input with k 3x2, d 2x3, s 2x1 (odd totals in both) */
    const int64_t shape2[4] = {1, 2, 5, 6};
    float x[60];
    cpt_rng r;
    cpt_rng_seed(&r, 11);
    cpt_rng_fill(&r, x, 60);
    for (int kind = CONVPOOL_OP_MAX_POOL; kind <= CONVPOOL_OP_AVERAGE_POOL; kind++)
        for (int ap = CONVPOOL_AUTO_PAD_SAME_UPPER; ap <= CONVPOOL_AUTO_PAD_SAME_LOWER; ap++) {
            cpt_cfg_init(&c, kind, 2);
            c.kernel[0] = 3, c.kernel[1] = 2;
            c.dilations[0] = 2, c.dilations[1] = 3;
            c.strides[0] = 2;
            c.auto_pad = ap;
            c.count_include_pad = ap == CONVPOOL_AUTO_PAD_SAME_LOWER;
            check_op(&c, shape2, x, NULL, NULL, NULL, NULL, "2-D SAME pool with dilations");
        }
}
END_TEST

START_TEST(ceil_mode_drops_window_starting_in_right_padding)
{
    /* in = 4, k = 2, s = 3, pads (1, 1): ceil((4 + 2 - 2) / 3) + 1 = 3, but
     * the third window would start at 2*3 - 1 = 5 >= 4: dropped, out = 2.
     * Windows start at -1 (taps pad, 1) and 2 (taps 3, 4). */
    const int64_t shape[3] = {1, 1, 4};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 1);
    c.kernel[0] = 2;
    c.strides[0] = 3;
    c.pads[0] = c.pads[1] = 1;
    c.ceil_mode = 1;
    const float want[2] = {1, 4};
    const int64_t want_idx[2] = {0, 3};
    ck_assert_int_eq(check_op(&c, shape, x1to6, NULL, NULL, want, want_idx, "ceil drop"), 2);
    c.kind = CONVPOOL_OP_AVERAGE_POOL;
    c.count_include_pad = 1;
    const float want_avg[2] = {0.5f, 3.5f};
    check_op(&c, shape, x1to6, NULL, NULL, want_avg, NULL, "ceil drop avg");

    /* 2-D: H as above, W = 5, k 2, s 2, no pads: ceil adds a last window
     * starting at 4 (inside the input), which is kept: out W = 3. */
    const int64_t shape2[4] = {1, 1, 4, 5};
    float x[20];
    for (int i = 0; i < 20; i++)
        x[i] = (float)i;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = 2, c.kernel[1] = 2;
    c.strides[0] = 3, c.strides[1] = 2;
    c.pads[0] = 1, c.pads[2] = 1; /* H begin/end */
    c.ceil_mode = 1;
    /* rows: window -1 (row 0), window 2 (rows 2, 3); cols 0-1, 2-3, 4 */
    const float want2[6] = {1, 3, 4, 16, 18, 19};
    check_op(&c, shape2, x, NULL, NULL, want2, NULL, "ceil 2-D max");
}
END_TEST

START_TEST(ceil_mode_keeps_partial_window_inside_input)
{
    /* in = 5, k = 2, s = 2, no pads: floor gives 2 windows, ceil adds a
     * third starting at 4 with one tap inside. */
    const int64_t shape[3] = {1, 1, 5};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 1);
    c.kernel[0] = 2;
    c.strides[0] = 2;
    const float floor_max[2] = {2, 4};
    ck_assert_int_eq(check_op(&c, shape, x1to6, NULL, NULL, floor_max, NULL, "floor"), 2);
    c.ceil_mode = 1;
    const float ceil_max[3] = {2, 4, 5};
    ck_assert_int_eq(check_op(&c, shape, x1to6, NULL, NULL, ceil_max, NULL, "ceil max"), 3);
    c.kind = CONVPOOL_OP_AVERAGE_POOL;
    const float ceil_avg[3] = {1.5f, 3.5f, 5};
    check_op(&c, shape, x1to6, NULL, NULL, ceil_avg, NULL, "ceil avg");
    /* count_include_pad counts only taps inside the padded input (no pads
     * here), not the tap beyond it: 5 / 1. */
    c.count_include_pad = 1;
    check_op(&c, shape, x1to6, NULL, NULL, ceil_avg, NULL, "ceil avg incl pad");
}
END_TEST

static const float x0to8[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

START_TEST(count_include_pad_asymmetric_pads)
{
    /* 3x3 grid 0..8, k 2x2, s 1, pads top 1, left 0, bottom 0, right 1:
     * out 3x3; row windows start -1, 0, 1; column windows 0, 1, 2.
     * Sums: row -1: 1, 3, 2; row 0: 8, 12, 7; row 1: 20, 24, 13.
     * Inside taps: 2 2 1 / 4 4 2 / 4 4 2; padded taps: always 4. */
    const int64_t shape[4] = {1, 1, 3, 3};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_AVERAGE_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    const int64_t pads[4] = {1, 0, 0, 1};
    memcpy(c.pads, pads, sizeof pads);
    const float excl[9] = {0.5f, 1.5f, 2, 2, 3, 3.5f, 5, 6, 6.5f};
    check_op(&c, shape, x0to8, NULL, NULL, excl, NULL, "count_include_pad 0");
    c.count_include_pad = 1;
    const float incl[9] = {0.25f, 0.75f, 0.5f, 2, 3, 1.75f, 5, 6, 3.25f};
    check_op(&c, shape, x0to8, NULL, NULL, incl, NULL, "count_include_pad 1");
}
END_TEST

START_TEST(dilated_pools)
{
    /* arange(16) 4x4, k 2x2, d 2 (extent 3): taps (i, j), (i, j+2),
     * (i+2, j), (i+2, j+2). Window (0,0): 0 2 8 10; (0,1): 1 3 9 11;
     * (1,0): 4 6 12 14; (1,1): 5 7 13 15. */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    const int64_t shape[4] = {1, 1, 4, 4};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    c.dilations[0] = c.dilations[1] = 2;
    const float want_max[4] = {10, 11, 14, 15};
    const int64_t want_idx[4] = {10, 11, 14, 15};
    check_op(&c, shape, x, NULL, NULL, want_max, want_idx, "dilated max");
    c.kind = CONVPOOL_OP_AVERAGE_POOL;
    const float want_avg[4] = {5, 6, 9, 10};
    check_op(&c, shape, x, NULL, NULL, want_avg, NULL, "dilated avg");
    /* with pads 1 and stride 2, both count modes, against the oracle */
    for (int i = 0; i < 4; i++)
        c.pads[i] = 1;
    c.strides[0] = c.strides[1] = 2;
    for (int incl = 0; incl <= 1; incl++) {
        c.count_include_pad = incl;
        check_op(&c, shape, x, NULL, NULL, NULL, NULL, "dilated padded avg");
    }
    c.kind = CONVPOOL_OP_MAX_POOL;
    check_op(&c, shape, x, NULL, NULL, NULL, NULL, "dilated padded max");
}
END_TEST

START_TEST(indices_storage_order_2d)
{
    /* (N, C, H, W) = (2, 2, 2, 3), x[i] = i, k 2x2, s 1: out (2, 2, 1, 2);
     * each window's max is its bottom-right tap (h 1, w ow + 1). For plane
     * p = n*C + c: row-major index p*6 + 1*3 + ow + 1; column-major
     * p*6 + (ow + 1)*H + 1 (= n*C*H*W + c*H*W + w*H + h). */
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    const int64_t shape[4] = {2, 2, 2, 3};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    const float want[8] = {4, 5, 10, 11, 16, 17, 22, 23};
    const int64_t row_major[8] = {4, 5, 10, 11, 16, 17, 22, 23};
    check_op(&c, shape, x, NULL, NULL, want, row_major, "storage_order 0");
    c.storage_order = 1;
    const int64_t col_major[8] = {3, 5, 9, 11, 15, 17, 21, 23};
    check_op(&c, shape, x, NULL, NULL, want, col_major, "storage_order 1");
}
END_TEST

START_TEST(indices_storage_order_random_1d_2d_3d)
{
    cpt_rng r;
    cpt_rng_seed(&r, 5);
    float x[2 * 3 * 4 * 5 * 3];
    cpt_rng_fill(&r, x, (int64_t)(sizeof x / sizeof x[0]));
    const int64_t shapes[3][5] = {{2, 3, 60}, {2, 3, 4, 15}, {2, 3, 4, 5, 3}};
    for (int rank = 1; rank <= 3; rank++)
        for (int order = 0; order <= 1; order++) {
            cpt_cfg c;
            cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, rank);
            for (int i = 0; i < rank; i++) {
                c.kernel[i] = 2;
                c.strides[i] = 1 + (i % 2);
                c.pads[i] = 1;
            }
            c.storage_order = order;
            check_op(&c, shapes[rank - 1], x, NULL, NULL, NULL, NULL, "random indices");
        }
}
END_TEST

START_TEST(group_depthwise_and_partial)
{
    /* depthwise (group = C = 2): channel 0 = 0..8 with K [0 1; 2 3] gives
     * corr2d's 19 25 37 43; channel 1 = 1..9 with K [1 2; 3 4] gives
     * 37 47 67 77 (their sums are the multi-input seed 56 72 104 120). */
    const float x[18] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float k[8] = {0, 1, 2, 3, 1, 2, 3, 4};
    const int64_t shape[4] = {1, 2, 3, 3};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 2;
    c.group = 2;
    c.m = 2;
    const float want_dw[8] = {19, 25, 37, 43, 37, 47, 67, 77};
    check_op(&c, shape, x, k, NULL, want_dw, NULL, "depthwise");
    const float bias[2] = {0.5f, -1};
    const float want_dw_bias[8] = {19.5f, 25.5f, 37.5f, 43.5f, 36, 46, 66, 76};
    check_op(&c, shape, x, k, bias, want_dw_bias, NULL, "depthwise with bias");

    /* group 2 of C = 4 (two copies of the 2-channel input), M = 2: group 0
     * uses K, group 1 uses K + 1: the first two channels of the 3-output
     * seed, 56 72 104 120 and 76 100 148 172. */
    float x4[36], k2[16];
    memcpy(x4, x, sizeof x);
    memcpy(x4 + 18, x, sizeof x);
    for (int i = 0; i < 8; i++) {
        k2[i] = k[i];
        k2[8 + i] = k[i] + 1;
    }
    const int64_t shape4[4] = {1, 4, 3, 3};
    c.m = 2;
    c.group = 2;
    const float want_g2[8] = {56, 72, 104, 120, 76, 100, 148, 172};
    check_op(&c, shape4, x4, k2, NULL, want_g2, NULL, "group 2 of 4 channels");

    /* random: depthwise with channel multiplier 2, and group 3 of C = 6 */
    cpt_rng r;
    cpt_rng_seed(&r, 9);
    float xr[2 * 6 * 5 * 5], wr[12 * 2 * 9], br[12];
    cpt_rng_fill(&r, xr, 300);
    cpt_rng_fill(&r, wr, 216);
    cpt_rng_fill(&r, br, 12);
    const int64_t shape6[4] = {2, 6, 5, 5};
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 3;
    c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
    c.group = 6;
    c.m = 12;
    check_op(&c, shape6, xr, wr, br, NULL, NULL, "depthwise multiplier 2");
    c.group = 3;
    c.m = 6;
    check_op(&c, shape6, xr, wr, br, NULL, NULL, "group 3 of 6 channels");
}
END_TEST

START_TEST(one_d_and_three_d)
{
    /* 3-D: 2x2x2 input 0..7, k 2x2x2: max 7 (index 7), avg 3.5; Conv with
     * all-ones weight and bias 1: 0+...+7 + 1 = 29. */
    const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int64_t shape[5] = {1, 1, 2, 2, 2};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 3);
    c.kernel[0] = c.kernel[1] = c.kernel[2] = 2;
    const float want_max[1] = {7};
    const int64_t want_idx[1] = {7};
    check_op(&c, shape, x, NULL, NULL, want_max, want_idx, "3-D max");
    c.kind = CONVPOOL_OP_AVERAGE_POOL;
    const float want_avg[1] = {3.5f};
    check_op(&c, shape, x, NULL, NULL, want_avg, NULL, "3-D avg");
    c.kind = CONVPOOL_OP_CONV;
    const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1}, bias[1] = {1};
    const float want_conv[1] = {29};
    check_op(&c, shape, x, ones, bias, want_conv, NULL, "3-D conv");

    /* 1-D Conv, 2 input channels, k 3, s 2, pads (2, 1), dilation 2 */
    cpt_rng r;
    cpt_rng_seed(&r, 3);
    float x1[2 * 2 * 11], w1[3 * 2 * 3], b1[3];
    cpt_rng_fill(&r, x1, 44);
    cpt_rng_fill(&r, w1, 18);
    cpt_rng_fill(&r, b1, 3);
    const int64_t shape1[3] = {2, 2, 11};
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.m = 3;
    c.kernel[0] = 3;
    c.strides[0] = 2;
    c.dilations[0] = 2;
    c.pads[0] = 2, c.pads[1] = 1;
    check_op(&c, shape1, x1, w1, b1, NULL, NULL, "1-D conv");
    /* 3-D Conv with strides, dilations and asymmetric pads */
    float x3[1 * 2 * 4 * 5 * 6], w3[2 * 2 * 2 * 3 * 2];
    cpt_rng_fill(&r, x3, 240);
    cpt_rng_fill(&r, w3, 48);
    const int64_t shape3[5] = {1, 2, 4, 5, 6};
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 3);
    c.m = 2;
    c.kernel[0] = 2, c.kernel[1] = 3, c.kernel[2] = 2;
    c.strides[0] = 1, c.strides[1] = 2, c.strides[2] = 3;
    c.dilations[2] = 2;
    const int64_t pads[6] = {1, 0, 2, 0, 1, 1};
    memcpy(c.pads, pads, sizeof pads);
    check_op(&c, shape3, x3, w3, NULL, NULL, NULL, "3-D conv");
}
END_TEST

START_TEST(global_pools)
{
    /* (1, 2, 2, 2): channel 0 = 1 2 3 4, channel 1 = -1 -5 -2 -3 */
    const float x[8] = {1, 2, 3, 4, -1, -5, -2, -3};
    const int64_t shape[4] = {1, 2, 2, 2};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_GLOBAL_MAX_POOL, 2);
    const float want_max[2] = {4, -1};
    check_op(&c, shape, x, NULL, NULL, want_max, NULL, "global max");
    c.kind = CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
    const float want_avg[2] = {2.5f, -2.75f};
    check_op(&c, shape, x, NULL, NULL, want_avg, NULL, "global avg");
    cpt_rng r;
    cpt_rng_seed(&r, 4);
    float xr[2 * 3 * 3 * 4 * 5];
    cpt_rng_fill(&r, xr, 360);
    const int64_t shapes[3][5] = {{2, 3, 60}, {2, 3, 12, 5}, {2, 3, 3, 4, 5}};
    for (int rank = 1; rank <= 3; rank++)
        for (int kind = CONVPOOL_OP_GLOBAL_MAX_POOL; kind <= CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
             kind++) {
            cpt_cfg_init(&c, kind, rank);
            check_op(&c, shapes[rank - 1], xr, NULL, NULL, NULL, NULL, "global pool");
        }
}
END_TEST

START_TEST(conv_without_bias_equals_zero_bias)
{
    cpt_rng r;
    cpt_rng_seed(&r, 8);
    float x[3 * 6 * 6], w[4 * 3 * 9];
    const float zero[4] = {0};
    cpt_rng_fill(&r, x, 108);
    cpt_rng_fill(&r, w, 108);
    const int64_t shape[4] = {1, 3, 6, 6};
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 3;
    c.m = 4;
    convpool_op *a = cpt_make_op(&c, 3, w, NULL);
    convpool_op *b = cpt_make_op(&c, 3, w, zero);
    int64_t out[4], na, nb;
    float *ya = cpt_run(a, NULL, shape, 4, x, out, &na, NULL);
    float *yb = cpt_run(b, NULL, shape, 4, x, out, &nb, NULL);
    ck_assert_int_eq(na, 4 * 16);
    cpt_assert_floats_equal(ya, yb, na, "no bias vs zero bias");
    check_op(&c, shape, x, w, NULL, NULL, NULL, "no bias vs oracle");
    free(ya);
    free(yb);
    convpool_op_destroy(a);
    convpool_op_destroy(b);
}
END_TEST

/* A 2-D Conv case for the non-finite tests: channels in, out, group,
 * kernel, stride, pads (the same each side). */
typedef struct non_finite_case {
    int64_t c, m, group, k, s, pad;
} non_finite_case;

/* Runs case `cs` (number i) on random weights and input (size x size
 * planes, at most 16 channels) after plant() has made some of them
 * infinite or NaN, against the oracle (which gives each output the
 * infinity or NaN a direct sum gives it). */
static void check_non_finite(cpt_rng *r, const non_finite_case *cs, size_t i, int64_t size,
                             void (*plant)(const non_finite_case *cs, float *w, float *x,
                                           int64_t size))
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.m = cs->m;
    c.group = cs->group;
    c.kernel[0] = c.kernel[1] = cs->k;
    c.strides[0] = c.strides[1] = cs->s;
    for (int j = 0; j < 4; j++)
        c.pads[j] = cs->pad;
    const int64_t wn = c.m * cs->c / cs->group * cs->k * cs->k, xn = size * size * 16;
    const int64_t shape[4] = {1, cs->c, size, size};
    float *w = malloc((size_t)wn * sizeof *w), *x = malloc((size_t)xn * sizeof *x);
    cpt_rng_fill(r, w, wn);
    cpt_rng_fill(r, x, xn);
    plant(cs, w, x, size);
    char what[80];
    snprintf(what, sizeof what, "case %zu: %lld -> %lld, %lldx%lld, pads %lld", i,
             (long long)cs->c, (long long)c.m, (long long)cs->k, (long long)cs->k,
             (long long)cs->pad);
    check_op(&c, shape, x, w, NULL, NULL, NULL, what);
    free(w);
    free(x);
}

/* Output channel 0's first tap (input channel 0), output channel 1's
 * last (its last input channel): in the padding for the first (last)
 * outputs, inside for the others; a NaN in output channel 2's middle row
 * of taps, first column. */
static void plant_weights(const non_finite_case *cs, float *w, float *x, int64_t size)
{
    (void)x;
    (void)size;
    const int64_t k = cs->k, cg = cs->c / cs->group;
    w[0] = INFINITY;
    w[(1 * cg + cg - 1) * k * k + k * k - 1] = -INFINITY;
    w[(2 * cg) * k * k + k * (k / 2)] = NAN;
}

/* An infinite or NaN weight: a tap of it that falls in the padding adds
 * nothing (README, Semantics), so outputs whose windows have it only
 * there stay finite, on every ISA path. The fast paths multiply some such
 * taps by the padding's zeros (inf x 0 is NaN): the op runs on the
 * reference kernels instead. Shapes that take each fast algorithm: the
 * stem's rows (3 input channels), the narrow rows tile (3 outputs),
 * depthwise, and the direct kernel with 2 columns of padding. */
START_TEST(conv_non_finite_weights)
{
    static const non_finite_case cases[] = {
        {3, 8, 1, 7, 2, 3}, {16, 3, 1, 3, 1, 1}, {16, 16, 16, 3, 1, 1}, {16, 16, 1, 5, 1, 2},
    };
    cpt_rng r;
    cpt_rng_seed(&r, 2026);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_non_finite(&r, &cases[i], i, 20, plant_weights);
}
END_TEST

/* +inf inside channel 0, -inf two pixels from it in channel 1 (the
 * windows between take both), NaN at channel 2's last pixel. */
static void plant_inputs(const non_finite_case *cs, float *w, float *x, int64_t size)
{
    (void)cs;
    (void)w;
    x[5 * size + 7] = INFINITY;
    x[size * size + 5 * size + 9] = -INFINITY;
    x[3 * size * size - 1] = NAN;
}

/* An infinite or NaN input reaches the outputs whose windows take it as
 * a direct sum would (an infinity with the sign of its products, NaN
 * where infinities of both signs or a NaN meet), on every ISA path.
 * Winograd F(2x2, 3x3) subtracts inputs in its transforms (inf - inf is
 * NaN): its runs that meet such values are computed again directly.
 * Shapes that take each fast algorithm: Winograd (16 -> 16, 3x3 on 24 x
 * 24), the 1x1 GEMM, the direct kernel, the stem's rows, depthwise. */
START_TEST(conv_non_finite_inputs)
{
    static const non_finite_case cases[] = {
        {16, 16, 1, 3, 1, 1}, {16, 24, 1, 1, 1, 0},   {16, 16, 1, 5, 1, 2},
        {3, 8, 1, 7, 2, 3},   {16, 16, 16, 3, 1, 1},
    };
    cpt_rng r;
    cpt_rng_seed(&r, 2027);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_non_finite(&r, &cases[i], i, 24, plant_inputs);
}
END_TEST

/* Size limits of random configurations. */
typedef struct random_limits {
    int64_t max_batch;
    int64_t max_channels_per_group; /* pools: channels */
    int64_t max_groups;
    int64_t max_multiplier;         /* output channels per group */
    int64_t max_dim[3];             /* largest spatial dim for rank 1, 2, 3 */
    int64_t max_kernel;
    int depthwise_percent;          /* Conv: chance of group = C */
} random_limits;

/* A random configuration within `lim`; fills shape and c. */
static void random_config(cpt_rng *r, const random_limits *lim, cpt_cfg *c, int64_t *shape)
{
    int32_t kind = (int32_t)cpt_rng_int(r, CONVPOOL_OP_CONV, CONVPOOL_OP_GLOBAL_AVERAGE_POOL);
    int rank = (int)cpt_rng_int(r, 1, 3);
    cpt_cfg_init(c, kind, rank);
    shape[0] = cpt_rng_int(r, 1, lim->max_batch);
    shape[1] = cpt_rng_int(r, 1, lim->max_channels_per_group);
    if (kind == CONVPOOL_OP_CONV) {
        if (cpt_rng_int(r, 0, 99) < lim->depthwise_percent) {
            c->group = shape[1] * lim->max_groups; /* depthwise: one channel per group */
            shape[1] = c->group;
        } else {
            c->group = cpt_rng_int(r, 1, lim->max_groups);
            shape[1] *= c->group;
        }
        c->m = c->group * cpt_rng_int(r, 1, lim->max_multiplier);
    }
    for (int i = 0; i < rank; i++) {
        shape[2 + i] = cpt_rng_int(r, 1, lim->max_dim[rank - 1]);
        c->kernel[i] = cpt_rng_int(r, 1, lim->max_kernel);
        c->strides[i] = cpt_rng_int(r, 1, 3);
        c->dilations[i] = cpt_rng_int(r, 1, 2);
        c->pads[i] = cpt_rng_int(r, 0, 2);
        c->pads[rank + i] = cpt_rng_int(r, 0, 2);
    }
    c->auto_pad = cpt_rng_int(r, 0, 4) < 3 ? CONVPOOL_AUTO_PAD_NOTSET
                                           : (int32_t)cpt_rng_int(r, 1, 3);
    c->ceil_mode = (int32_t)cpt_rng_int(r, 0, 1);
    c->count_include_pad = (int32_t)cpt_rng_int(r, 0, 1);
    c->storage_order = (int32_t)cpt_rng_int(r, 0, 1);
}

static void describe(char *buf, size_t size, int iter, const cpt_cfg *c, const int64_t *shape)
{
    snprintf(buf, size,
             "random #%d: kind %d rank %d shape (%lld,%lld,%lld,%lld,%lld) k (%lld,%lld,%lld)"
             " s (%lld,%lld,%lld) d (%lld,%lld,%lld) pads (%lld,%lld,%lld,%lld,%lld,%lld)"
             " auto_pad %d ceil %d cip %d order %d group %lld m %lld",
             iter, c->kind, c->rank, (long long)shape[0], (long long)shape[1],
             (long long)shape[2], (long long)(c->rank > 1 ? shape[3] : 0),
             (long long)(c->rank > 2 ? shape[4] : 0), (long long)c->kernel[0],
             (long long)c->kernel[1], (long long)c->kernel[2], (long long)c->strides[0],
             (long long)c->strides[1], (long long)c->strides[2], (long long)c->dilations[0],
             (long long)c->dilations[1], (long long)c->dilations[2], (long long)c->pads[0],
             (long long)c->pads[1], (long long)c->pads[2], (long long)c->pads[3],
             (long long)c->pads[4], (long long)c->pads[5], c->auto_pad, c->ceil_mode,
             c->count_include_pad, c->storage_order, (long long)c->group, (long long)c->m);
}

typedef struct random_tally {
    int compared, rejected, skipped;
} random_tally;

/* Runs `iterations` random configurations within `lim` through the library
 * and the oracle: the same output shape (or both refusing an empty output),
 * values within TOL, Indices exactly. */
static random_tally check_random(uint64_t seed, int iterations, const random_limits *lim)
{
    cpt_rng r;
    cpt_rng_seed(&r, seed);
    random_tally t = {0, 0, 0};
    for (int iter = 0; iter < iterations; iter++) {
        cpt_cfg c;
        int64_t shape[5];
        random_config(&r, lim, &c, shape);
        size_t rank = (size_t)c.rank + 2;
        int64_t xcount = cpt_count(shape, rank);
        int64_t wcount = c.m * (shape[1] / c.group) * cpt_count(c.kernel, (size_t)c.rank);
        float *x = malloc((size_t)xcount * sizeof *x);
        float *w = malloc((size_t)wcount * sizeof *w);
        float *b = malloc((size_t)c.m * sizeof *b);
        cpt_rng_fill(&r, x, xcount);
        cpt_rng_fill(&r, w, wcount);
        cpt_rng_fill(&r, b, c.m);
        const float *bias = cpt_rng_int(&r, 0, 1) ? b : NULL;
        char what[320];
        describe(what, sizeof what, iter, &c, shape);

        convpool_op *op = cpt_make_op(&c, shape[1], w, bias);
        int64_t naive_shape[5], out_shape[5];
        if (!cpt_naive_output_shape(&c, shape, naive_shape)) {
            /* kernel larger than the padded input: the library must refuse */
            CPT_FAILS(convpool_op_output_shape(op, shape, rank, out_shape, 5),
                      CONVPOOL_ERROR_SHAPE_MISMATCH, "larger than the padded input");
            t.rejected++;
        } else {
            int64_t ycount = cpt_count(naive_shape, rank);
            float *ny = malloc((size_t)ycount * sizeof *ny);
            int64_t *nidx = malloc((size_t)ycount * sizeof *nidx);
            int64_t empty = cpt_naive_run(&c, shape, x, w, bias, ny, nidx);
            int64_t count, *idx = NULL;
            int is_max = c.kind == CONVPOOL_OP_MAX_POOL;
            float *y = cpt_run(op, NULL, shape, rank, x, out_shape, &count,
                               is_max ? &idx : NULL);
            cpt_assert_int64s_equal(out_shape, naive_shape, (int64_t)rank, what);
            int undefined = empty > 0 && (is_max || c.kind == CONVPOOL_OP_GLOBAL_MAX_POOL ||
                                          (c.kind == CONVPOOL_OP_AVERAGE_POOL &&
                                           !c.count_include_pad));
            if (undefined) {
                t.skipped++; /* a window with no input element has no ONNX value */
            } else {
                cpt_assert_close(y, ny, count, TOL, what);
                if (is_max)
                    cpt_assert_int64s_equal(idx, nidx, count, what);
                t.compared++;
            }
            free(y);
            free(idx);
            free(ny);
            free(nidx);
        }
        convpool_op_destroy(op);
        free(x);
        free(w);
        free(b);
    }
    printf("random configurations (seed %llu): %d compared, %d rejected as empty, %d with "
           "windows outside the input skipped\n", (unsigned long long)seed, t.compared,
           t.rejected, t.skipped);
    return t;
}

/* CPT_RANDOM_ROUNDS=n (default 1) repeats the random tests with n seeds,
 * for a longer search by hand; meson runs one round. */
static int random_rounds(void)
{
    const char *env = getenv("CPT_RANDOM_ROUNDS");
    int n = env ? atoi(env) : 1;
    return n < 1 ? 1 : n;
}

START_TEST(random_small_configurations_match_oracle)
{
    /* small sizes: many attribute combinations, all edges */
    const random_limits lim = {2, 3, 3, 2, {13, 8, 5}, 3, 0};
    random_tally t = check_random(20261121, 600, &lim);
    for (int round = 1; round < random_rounds(); round++)
        check_random(20261121 + (uint64_t)round, 600, &lim);
    ck_assert_msg(t.compared >= 300, "only %d of 600 random configurations compared "
                  "(%d rejected, %d skipped)", t.compared, t.rejected, t.skipped);
    ck_assert_msg(t.rejected >= 10, "only %d configurations exercised the rejection",
                  t.rejected);
}
END_TEST

START_TEST(random_larger_configurations_match_oracle)
{
    /* channel counts and widths that fill SIMD registers and blocks of the
     * fast kernels, with their tails; a third of the Convs depthwise */
    const random_limits lim = {2, 12, 3, 8, {70, 24, 9}, 4, 30};
    random_tally t = check_random(77, 150, &lim);
    for (int round = 1; round < random_rounds(); round++)
        check_random(77 + (uint64_t)round * 1000, 150, &lim);
    ck_assert_msg(t.compared >= 75, "only %d of 150 random configurations compared "
                  "(%d rejected, %d skipped)", t.compared, t.rejected, t.skipped);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attributes");
    CPT_ADD(s, same_upper_vs_lower_odd_padding);
    CPT_ADD(s, same_with_dilations);
    CPT_ADD(s, ceil_mode_drops_window_starting_in_right_padding);
    CPT_ADD(s, ceil_mode_keeps_partial_window_inside_input);
    CPT_ADD(s, count_include_pad_asymmetric_pads);
    CPT_ADD(s, dilated_pools);
    CPT_ADD(s, indices_storage_order_2d);
    CPT_ADD(s, indices_storage_order_random_1d_2d_3d);
    CPT_ADD(s, group_depthwise_and_partial);
    CPT_ADD(s, one_d_and_three_d);
    CPT_ADD(s, global_pools);
    CPT_ADD(s, conv_without_bias_equals_zero_bias);
    CPT_ADD(s, conv_non_finite_weights);
    CPT_ADD(s, conv_non_finite_inputs);
    CPT_ADD(s, random_small_configurations_match_oracle);
    CPT_ADD(s, random_larger_configurations_match_oracle);
    return cpt_run_suite(s);
}
