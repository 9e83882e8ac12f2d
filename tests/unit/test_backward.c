/*
 * The training calls (convpool_op_backward_data, _weights, _workspace_size,
 * convpool_conv_create_ex, convpool_op_weight_shape) through the public API:
 * a case by hand, central finite differences of L = sum(r * y) on small
 * cases of every op kind and attribute, MaxPool with and without Indices,
 * caller workspaces, and every error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt.h"

static int64_t shape_count(const int64_t *s, size_t rank)
{
    return cpt_count(s, rank);
}

static convpool_op *make(const cpt_cfg *c, int64_t channels, const float *w, const float *b)
{
    convpool_op *op = NULL;
    CPT_OK(cpt_try_make_op_ex(c, channels, w, b, CONVPOOL_CREATE_BACKWARD, &op));
    ck_assert_ptr_nonnull(op);
    return op;
}

/* sum(r * op(x)) in double */
static double loss(const convpool_op *op, const int64_t *shape, size_t rank, const float *x,
                   const float *r)
{
    int64_t out_shape[5], count;
    float *y = cpt_run(op, NULL, shape, rank, x, out_shape, &count, NULL);
    double l = 0;
    for (int64_t i = 0; i < count; i++)
        l += (double)r[i] * y[i];
    free(y);
    return l;
}

static void assert_near(double got, double want, double tol, const char *what, int64_t i)
{
    ck_assert_msg(fabs(got - want) <= tol * (1 + fabs(want)), "%s[%lld]: got %.7g, expected %.7g",
                  what, (long long)i, got, want);
}

/* x with distinct values at least 0.01 apart (no ties for a max to flip
 * under a finite-difference step), away from 0 (|x| is smooth there). */
static void distinct_fill(cpt_rng *rng, float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(0.1 + 0.01 * (double)i) * (i % 2 ? -1.0f : 1.0f);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = cpt_rng_int(rng, 0, i);
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

typedef struct fd_case {
    cpt_cfg cfg;
    int64_t shape[5]; /* forward input */
} fd_case;

/* Checks dx, and for Conv/ConvTranspose dw and db, against central
 * differences of L(x, w, b) = sum(r * y). */
static void check_fd(const fd_case *fc, const char *name)
{
    const cpt_cfg *c = &fc->cfg;
    const size_t rank = (size_t)c->rank + 2;
    const int is_conv = c->kind == CONVPOOL_OP_CONV || c->kind == CONVPOOL_OP_CONV_TRANSPOSE;
    cpt_rng rng;
    cpt_rng_seed(&rng, 1234);
    const int64_t xn = shape_count(fc->shape, rank), channels = fc->shape[1];
    int64_t wn = 0;
    float *w = NULL, *b = NULL;
    if (is_conv) {
        wn = c->m * channels / c->group;
        for (int i = 0; i < c->rank; i++)
            wn *= c->kernel[i];
        w = malloc((size_t)wn * sizeof *w);
        b = malloc((size_t)c->m * sizeof *b);
        cpt_rng_fill(&rng, w, wn);
        cpt_rng_fill(&rng, b, c->m);
    }
    float *x = malloc((size_t)xn * sizeof *x);
    distinct_fill(&rng, x, xn);
    convpool_op *op = make(c, channels, w, b);
    int64_t out_shape[5];
    CPT_OK(convpool_op_output_shape(op, fc->shape, rank, out_shape, rank));
    const int64_t yn = shape_count(out_shape, rank);
    float *r = malloc((size_t)yn * sizeof *r);
    cpt_rng_fill(&rng, r, yn);

    /* dx */
    float *dx = malloc((size_t)xn * sizeof *dx);
    const int needs_x = c->kind == CONVPOOL_OP_MAX_POOL || c->kind == CONVPOOL_OP_GLOBAL_MAX_POOL ||
                        c->kind == CONVPOOL_OP_LP_POOL || c->kind == CONVPOOL_OP_GLOBAL_LP_POOL;
    CPT_OK(convpool_op_backward_data(op, NULL, fc->shape, rank, needs_x ? x : NULL, NULL, r,
                                     (size_t)yn, dx, (size_t)xn, NULL, 0));
    const float h = 1e-3f;
    const double tol = 2e-3;
    char what[160];
    snprintf(what, sizeof what, "%s: dx", name);
    for (int64_t i = 0; i < xn; i++) {
        const float keep = x[i];
        x[i] = keep + h;
        double lp = loss(op, fc->shape, rank, x, r);
        x[i] = keep - h;
        double lm = loss(op, fc->shape, rank, x, r);
        x[i] = keep;
        /* the step as float rounds it */
        assert_near(dx[i], (lp - lm) / ((double)(keep + h) - (double)(keep - h)), tol, what, i);
    }

    if (c->kind == CONVPOOL_OP_MAX_POOL) { /* Indices give exactly the same dx */
        int64_t count, *idx;
        float *y = cpt_run(op, NULL, fc->shape, rank, x, out_shape, &count, &idx);
        float *dx2 = malloc((size_t)xn * sizeof *dx2);
        CPT_OK(convpool_op_backward_data(op, NULL, fc->shape, rank, NULL, idx, r, (size_t)yn, dx2,
                                         (size_t)xn, NULL, 0));
        snprintf(what, sizeof what, "%s: dx from indices", name);
        cpt_assert_floats_equal(dx2, dx, xn, what);
        free(dx2);
        free(idx);
        free(y);
    }

    if (is_conv) {
        float *dw = malloc((size_t)wn * sizeof *dw), *db = malloc((size_t)c->m * sizeof *db);
        CPT_OK(convpool_op_backward_weights(op, NULL, fc->shape, rank, x, r, (size_t)yn, dw,
                                            (size_t)wn, db, (size_t)c->m, NULL, 0));
        snprintf(what, sizeof what, "%s: dw", name);
        for (int64_t i = 0; i < wn + c->m; i++) {
            float *v = i < wn ? &w[i] : &b[i - wn];
            const float keep = *v;
            *v = keep + h;
            convpool_op *opp = make(c, channels, w, b);
            *v = keep - h;
            convpool_op *opm = make(c, channels, w, b);
            *v = keep;
            double fd = (loss(opp, fc->shape, rank, x, r) - loss(opm, fc->shape, rank, x, r)) /
                        ((double)(keep + h) - (double)(keep - h));
            convpool_op_destroy(opp);
            convpool_op_destroy(opm);
            if (i == wn)
                snprintf(what, sizeof what, "%s: db", name);
            assert_near(i < wn ? dw[i] : db[i - wn], fd, tol, what, i < wn ? i : i - wn);
        }
        free(dw);
        free(db);
    }
    convpool_op_destroy(op);
    free(dx);
    free(r);
    free(x);
    free(w);
    free(b);
}

static fd_case conv_case(int32_t kind, int rank, int64_t n, int64_t c, int64_t m, int64_t group,
                         const int64_t *spatial, const int64_t *kernel)
{
    fd_case fc;
    cpt_cfg_init(&fc.cfg, kind, rank);
    fc.cfg.m = m;
    fc.cfg.group = group;
    fc.shape[0] = n;
    fc.shape[1] = c;
    for (int i = 0; i < rank; i++) {
        fc.shape[2 + i] = spatial[i];
        fc.cfg.kernel[i] = kernel[i];
    }
    return fc;
}

/* y = conv([1, 2, 4], [1, -1]) + 0.5 = [-0.5, -1.5]; with dy = [1, 10]:
 * dx = [1, 10 - 1, -10], dw = [1*1 + 10*2, 1*2 + 10*4] = [21, 42], db = 11. */
START_TEST(conv_by_hand)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.kernel[0] = 2;
    const float w[2] = {1, -1}, b = 0.5f, x[3] = {1, 2, 4}, dy[2] = {1, 10};
    convpool_op *op = make(&c, 1, w, &b);
    const int64_t shape[3] = {1, 1, 3};
    float dx[3], dw[2], db;
    CPT_OK(convpool_op_backward_data(op, NULL, shape, 3, NULL, NULL, dy, 2, dx, 3, NULL, 0));
    const float want_dx[3] = {1, 9, -10}, want_dw[2] = {21, 42};
    cpt_assert_floats_equal(dx, want_dx, 3, "dx");
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 2, dw, 2, &db, 1, NULL, 0));
    cpt_assert_floats_equal(dw, want_dw, 2, "dw");
    ck_assert_float_eq(db, 11.0f);
    /* only db wanted */
    db = 0;
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 2, NULL, 0, &db, 1, NULL, 0));
    ck_assert_float_eq(db, 11.0f);
    int64_t ws[3];
    size_t wr = 0;
    CPT_OK(convpool_op_weight_shape(op, ws, 3, &wr));
    ck_assert_uint_eq(wr, 3);
    ck_assert(ws[0] == 1 && ws[1] == 1 && ws[2] == 2);
    convpool_op_destroy(op);
}
END_TEST

START_TEST(conv_fd)
{
    const int64_t s1[1] = {9}, k1[1] = {3}, s2[2] = {5, 6}, k2[2] = {3, 2}, s3[3] = {3, 4, 5},
                  k3[3] = {2, 2, 3};
    /* 1-D: stride 2, dilation 2, asymmetric pads; the last input position is
     * reached by no window (its gradient is 0) */
    fd_case fc = conv_case(CONVPOOL_OP_CONV, 1, 2, 2, 3, 1, s1, k1);
    fc.cfg.strides[0] = 2;
    fc.cfg.dilations[0] = 2;
    fc.cfg.pads[0] = 1;
    fc.cfg.pads[1] = 0;
    check_fd(&fc, "conv 1-D stride dilation pads");
    /* 2-D groups, asymmetric pads, strides */
    fc = conv_case(CONVPOOL_OP_CONV, 2, 1, 4, 6, 2, s2, k2);
    fc.cfg.strides[0] = 2;
    fc.cfg.pads[0] = 1;
    fc.cfg.pads[1] = 0;
    fc.cfg.pads[2] = 0;
    fc.cfg.pads[3] = 2;
    check_fd(&fc, "conv 2-D groups");
    /* depthwise with multiplier 2 */
    fc = conv_case(CONVPOOL_OP_CONV, 2, 2, 3, 6, 3, s2, k2);
    fc.cfg.dilations[1] = 2;
    check_fd(&fc, "conv depthwise");
    /* every auto_pad */
    for (int32_t ap = CONVPOOL_AUTO_PAD_SAME_UPPER; ap <= CONVPOOL_AUTO_PAD_VALID; ap++) {
        fc = conv_case(CONVPOOL_OP_CONV, 2, 1, 2, 2, 1, s2, k2);
        fc.cfg.auto_pad = ap;
        fc.cfg.strides[0] = fc.cfg.strides[1] = 2;
        check_fd(&fc, "conv auto_pad");
    }
    /* 3-D */
    fc = conv_case(CONVPOOL_OP_CONV, 3, 1, 2, 2, 1, s3, k3);
    fc.cfg.strides[2] = 2;
    fc.cfg.pads[0] = fc.cfg.pads[5] = 1;
    check_fd(&fc, "conv 3-D");
}
END_TEST

START_TEST(conv_transpose_fd)
{
    const int64_t s1[1] = {4}, k1[1] = {3}, s2[2] = {3, 4}, k2[2] = {2, 3};
    fd_case fc = conv_case(CONVPOOL_OP_CONV_TRANSPOSE, 1, 2, 2, 3, 1, s1, k1);
    fc.cfg.strides[0] = 2;
    fc.cfg.output_padding[0] = 1;
    fc.cfg.pads[0] = 1;
    fc.cfg.pads[1] = 2;
    check_fd(&fc, "conv_transpose 1-D pads output_padding");
    fc = conv_case(CONVPOOL_OP_CONV_TRANSPOSE, 2, 1, 4, 2, 2, s2, k2);
    fc.cfg.strides[1] = 3;
    fc.cfg.dilations[0] = 2;
    check_fd(&fc, "conv_transpose 2-D groups");
    /* output_shape beyond the full output: zero rows appended */
    fc = conv_case(CONVPOOL_OP_CONV_TRANSPOSE, 1, 1, 1, 2, 1, s1, k1);
    fc.cfg.strides[0] = 2;
    fc.cfg.has_output_shape = 1;
    fc.cfg.output_shape[0] = 10;
    check_fd(&fc, "conv_transpose output_shape");
    fc = conv_case(CONVPOOL_OP_CONV_TRANSPOSE, 2, 1, 2, 2, 1, s2, k2);
    fc.cfg.auto_pad = CONVPOOL_AUTO_PAD_SAME_LOWER;
    fc.cfg.strides[0] = 2;
    check_fd(&fc, "conv_transpose SAME_LOWER");
}
END_TEST

static fd_case pool_case(int32_t kind, int rank, const int64_t *spatial, const int64_t *kernel)
{
    fd_case fc;
    cpt_cfg_init(&fc.cfg, kind, rank);
    fc.shape[0] = 2;
    fc.shape[1] = 2;
    for (int i = 0; i < rank; i++) {
        fc.shape[2 + i] = spatial[i];
        fc.cfg.kernel[i] = kernel ? kernel[i] : 1;
    }
    return fc;
}

START_TEST(pool_fd)
{
    const int64_t s1[1] = {10}, s2[2] = {5, 7}, k2[2] = {3, 2}, s3[3] = {3, 4, 4},
                  k3[3] = {2, 3, 2}, k1[1] = {3};
    const int32_t kinds[3] = {CONVPOOL_OP_MAX_POOL, CONVPOOL_OP_AVERAGE_POOL, CONVPOOL_OP_LP_POOL};
    for (int k = 0; k < 3; k++) {
        for (int variant = 0; variant < 4; variant++) {
            fd_case fc = pool_case(kinds[k], 2, s2, k2);
            fc.cfg.strides[0] = 2;
            fc.cfg.pads[0] = 1;
            fc.cfg.pads[3] = 1;
            fc.cfg.ceil_mode = variant & 1;
            fc.cfg.count_include_pad = kinds[k] == CONVPOOL_OP_AVERAGE_POOL && (variant & 2);
            fc.cfg.storage_order = kinds[k] == CONVPOOL_OP_MAX_POOL && (variant & 2);
            fc.cfg.p = 1 + variant % 3;
            if (variant == 3)
                fc.cfg.dilations[1] = 2;
            check_fd(&fc, "pool 2-D");
        }
        fd_case fc = pool_case(kinds[k], 1, s1, k1);
        fc.cfg.strides[0] = 3;
        fc.cfg.dilations[0] = 2;
        fc.cfg.auto_pad = CONVPOOL_AUTO_PAD_SAME_UPPER;
        check_fd(&fc, "pool 1-D SAME_UPPER");
        fc = pool_case(kinds[k], 3, s3, k3);
        fc.cfg.strides[2] = 2;
        fc.cfg.pads[2] = 1;
        fc.cfg.p = 3;
        check_fd(&fc, "pool 3-D");
    }
    const int32_t globals[3] = {CONVPOOL_OP_GLOBAL_MAX_POOL, CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
                                CONVPOOL_OP_GLOBAL_LP_POOL};
    for (int k = 0; k < 3; k++) {
        fd_case fc = pool_case(globals[k], 2, s2, NULL);
        check_fd(&fc, "global pool");
        fc = pool_case(globals[k], 1, s1, NULL);
        fc.cfg.p = 3;
        check_fd(&fc, "global pool 1-D");
    }
}
END_TEST

/* The queried workspace works at any alignment; one byte less fails. */
START_TEST(caller_workspace)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 3;
    c.m = 16;
    c.strides[0] = 2;
    const int64_t shape[4] = {2, 8, 12, 13};
    cpt_rng rng;
    cpt_rng_seed(&rng, 7);
    float *w = malloc(16 * 8 * 9 * sizeof *w);
    cpt_rng_fill(&rng, w, 16 * 8 * 9);
    convpool_op *op = make(&c, 8, w, NULL);
    int64_t os[4];
    CPT_OK(convpool_op_output_shape(op, shape, 4, os, 4));
    const int64_t xn = cpt_count(shape, 4), yn = cpt_count(os, 4);
    float *x = malloc((size_t)xn * sizeof *x), *dy = malloc((size_t)yn * sizeof *dy);
    float *dx = malloc((size_t)xn * sizeof *dx), *dx2 = malloc((size_t)xn * sizeof *dx2);
    float *dw = malloc(16 * 8 * 9 * sizeof *dw), *dw2 = malloc(16 * 8 * 9 * sizeof *dw2);
    cpt_rng_fill(&rng, x, xn);
    cpt_rng_fill(&rng, dy, yn);
    CPT_OK(convpool_op_backward_data(op, NULL, shape, 4, NULL, NULL, dy, (size_t)yn, dx,
                                     (size_t)xn, NULL, 0));
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 4, x, dy, (size_t)yn, dw, 16 * 8 * 9,
                                        NULL, 0, NULL, 0));
    for (int32_t pass = CONVPOOL_BACKWARD_DATA; pass <= CONVPOOL_BACKWARD_WEIGHTS; pass++) {
        size_t need = 0;
        CPT_OK(convpool_op_backward_workspace_size(op, NULL, shape, 4, pass, &need));
        if (!need)
            continue;
        char *buf = malloc(need + 1);
        for (int off = 0; off <= 1; off++) {
            if (pass == CONVPOOL_BACKWARD_DATA) {
                CPT_OK(convpool_op_backward_data(op, NULL, shape, 4, NULL, NULL, dy, (size_t)yn,
                                                 dx2, (size_t)xn, buf + off, need));
                cpt_assert_floats_equal(dx2, dx, xn, "dx with a caller workspace");
                CPT_FAILS(convpool_op_backward_data(op, NULL, shape, 4, NULL, NULL, dy,
                                                    (size_t)yn, dx2, (size_t)xn, buf + off,
                                                    need - 65),
                          CONVPOOL_ERROR_BUFFER_TOO_SMALL, "convpool_op_backward_workspace_size");
            } else {
                CPT_OK(convpool_op_backward_weights(op, NULL, shape, 4, x, dy, (size_t)yn, dw2,
                                                    16 * 8 * 9, NULL, 0, buf + off, need));
                cpt_assert_floats_equal(dw2, dw, 16 * 8 * 9, "dw with a caller workspace");
            }
        }
        free(buf);
    }
    convpool_op_destroy(op);
    free(w);
    free(x);
    free(dy);
    free(dx);
    free(dx2);
    free(dw);
    free(dw2);
}
END_TEST

START_TEST(errors)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.kernel[0] = 2;
    c.m = 2;
    const float w[4] = {1, 2, 3, 4};
    const int64_t shape[3] = {1, 1, 4};
    float x[4] = {1, 2, 3, 4}, dy[6] = {0}, dx[4], dw[4], db[2];
    convpool_op *plain = cpt_make_op(&c, 1, w, NULL), *op = make(&c, 1, w, NULL);
    convpool_op *bad = NULL;
    CPT_FAILS(cpt_try_make_op_ex(&c, 1, w, NULL, 6, &bad), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "unknown flag", "0x6");
    ck_assert_ptr_null(bad);
    CPT_FAILS(convpool_op_backward_data(plain, NULL, shape, 3, NULL, NULL, dy, 6, dx, 4, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "CONVPOOL_CREATE_BACKWARD");
    size_t need;
    CPT_FAILS(convpool_op_backward_workspace_size(plain, NULL, shape, 3, CONVPOOL_BACKWARD_DATA,
                                                  &need),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "CONVPOOL_CREATE_BACKWARD");
    CPT_OK(convpool_op_backward_weights(plain, NULL, shape, 3, x, dy, 6, dw, 4, db, 2, NULL, 0));
    CPT_FAILS(convpool_op_backward_data(op, NULL, shape, 3, x, NULL, dy, 6, dx, 4, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "neither x nor indices");
    CPT_FAILS(convpool_op_backward_data(op, NULL, shape, 3, NULL, NULL, dy, 5, dx, 4, NULL, 0),
              CONVPOOL_ERROR_BUFFER_TOO_SMALL, "dy has 5 elements", "6");
    CPT_FAILS(convpool_op_backward_data(op, NULL, shape, 3, NULL, NULL, dy, 6, dx, 3, NULL, 0),
              CONVPOOL_ERROR_BUFFER_TOO_SMALL, "dx has room for 3");
    CPT_FAILS(convpool_op_backward_data(op, NULL, shape, 3, NULL, NULL, NULL, 6, dx, 4, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "dy is NULL");
    CPT_FAILS(convpool_op_backward_data(NULL, NULL, shape, 3, NULL, NULL, dy, 6, dx, 4, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    const int64_t wrong_c[3] = {1, 2, 4};
    CPT_FAILS(convpool_op_backward_data(op, NULL, wrong_c, 3, NULL, NULL, dy, 6, dx, 4, NULL, 0),
              CONVPOOL_ERROR_SHAPE_MISMATCH, "C = 2");
    CPT_FAILS(convpool_op_backward_weights(op, NULL, shape, 3, NULL, dy, 6, dw, 4, db, 2, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "x is NULL");
    CPT_FAILS(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 6, dw, 3, db, 2, NULL, 0),
              CONVPOOL_ERROR_BUFFER_TOO_SMALL, "dw has room for 3", "4");
    CPT_FAILS(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 6, dw, 4, db, 1, NULL, 0),
              CONVPOOL_ERROR_BUFFER_TOO_SMALL, "db has room for 1");
    CPT_FAILS(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 6, NULL, 4, db, 2, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "dw is NULL");
    CPT_FAILS(convpool_op_backward_weights(op, NULL, shape, 3, x, dy, 5, dw, 4, db, 2, NULL, 0),
              CONVPOOL_ERROR_BUFFER_TOO_SMALL, "dy has 5");
    CPT_FAILS(convpool_op_backward_workspace_size(op, NULL, shape, 3, 3, &need),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "pass = 3");
    int64_t ws[3];
    size_t wr = 0;
    CPT_FAILS(convpool_op_weight_shape(op, ws, 2, &wr), CONVPOOL_ERROR_BUFFER_TOO_SMALL, "room");
    ck_assert_uint_eq(wr, 3);
    CPT_FAILS(convpool_op_weight_shape(op, NULL, 3, &wr), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "shape is NULL");
    CPT_FAILS(convpool_op_weight_shape(op, ws, 3, NULL), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "rank is NULL");
    convpool_op_destroy(plain);
    convpool_op_destroy(op);

    /* pools */
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 1);
    c.kernel[0] = 2;
    c.strides[0] = 2;
    convpool_op *mp = cpt_make_op(&c, 2, NULL, NULL);
    const int64_t ps[3] = {1, 2, 4};
    float px[8] = {0}, pdy[4] = {0}, pdx[8];
    int64_t idx[4] = {0, 3, 4, 6};
    CPT_OK(convpool_op_backward_data(mp, NULL, ps, 3, NULL, idx, pdy, 4, pdx, 8, NULL, 0));
    CPT_FAILS(convpool_op_backward_data(mp, NULL, ps, 3, NULL, NULL, pdy, 4, pdx, 8, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "needs x", "indices");
    idx[2] = 3; /* plane (0, 1) is [4, 8) */
    CPT_FAILS(convpool_op_backward_data(mp, NULL, ps, 3, NULL, idx, pdy, 4, pdx, 8, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "indices[2] = 3", "(0, 1)", "[4, 8)");
    idx[2] = 8;
    CPT_FAILS(convpool_op_backward_data(mp, NULL, ps, 3, NULL, idx, pdy, 4, pdx, 8, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "indices[2] = 8");
    CPT_FAILS(convpool_op_backward_weights(mp, NULL, ps, 3, px, pdy, 4, dw, 4, NULL, 0, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "MaxPool has no weights");
    CPT_FAILS(convpool_op_backward_workspace_size(mp, NULL, ps, 3, CONVPOOL_BACKWARD_WEIGHTS,
                                                  &need),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "MaxPool has no weights");
    CPT_FAILS(convpool_op_weight_shape(mp, ws, 3, &wr), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "MaxPool has no weights");
    convpool_op_destroy(mp);
    cpt_cfg_init(&c, CONVPOOL_OP_AVERAGE_POOL, 1);
    c.kernel[0] = 2;
    convpool_op *ap = cpt_make_op(&c, 2, NULL, NULL);
    CPT_FAILS(convpool_op_backward_data(ap, NULL, ps, 3, NULL, idx, pdy, 6, pdx, 8, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "only MaxPool");
    convpool_op_destroy(ap);
    cpt_cfg_init(&c, CONVPOOL_OP_GLOBAL_MAX_POOL, 1);
    convpool_op *gp = cpt_make_op(&c, 2, NULL, NULL);
    CPT_FAILS(convpool_op_backward_data(gp, NULL, ps, 3, NULL, NULL, pdy, 2, pdx, 8, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "GlobalMaxPool", "needs x");
    convpool_op_destroy(gp);
}
END_TEST

/* An empty batch: nothing to compute; the weight gradients are zeros. */
START_TEST(empty_batch)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 1);
    c.kernel[0] = 2;
    const float w[2] = {1, 2};
    convpool_op *op = make(&c, 1, w, NULL);
    const int64_t shape[3] = {0, 1, 4};
    float dw[2] = {5, 5}, db = 5;
    CPT_OK(convpool_op_backward_data(op, NULL, shape, 3, NULL, NULL, NULL, 0, NULL, 0, NULL, 0));
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 3, NULL, NULL, 0, dw, 2, &db, 1, NULL,
                                        0));
    ck_assert(dw[0] == 0 && dw[1] == 0 && db == 0);
    convpool_op_destroy(op);
}
END_TEST

/* dx of a stride-2 3x3 Conv on 22x22: the last input row and column are in
 * no window, so their dx is exactly 0; the rest is checked against the
 * sum written out. With 16 channels (the fast path's stride phases, one of
 * them 1x1, whose output a dx run must pad) and depthwise (each phase a
 * depthwise Conv). */
START_TEST(conv_dx_unreached_rows)
{
    const int64_t C = 16, H = 22, OH = 10;
    for (int depthwise = 0; depthwise < 2; depthwise++) {
        cpt_cfg c;
        cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
        c.kernel[0] = c.kernel[1] = 3;
        c.strides[0] = c.strides[1] = 2;
        c.m = C;
        c.group = depthwise ? C : 1;
        const int64_t cpg = C / c.group, wn = C * cpg * 9, xn = C * H * H, yn = C * OH * OH;
        float *w = malloc((size_t)wn * sizeof *w), *dy = malloc((size_t)yn * sizeof *dy);
        float *dx = malloc((size_t)xn * sizeof *dx);
        for (int64_t i = 0; i < wn; i++)
            w[i] = (float)((i * 7 % 13) - 6) / 8;
        for (int64_t i = 0; i < yn; i++)
            dy[i] = (float)((i * 5 % 11) - 5) / 4;
        convpool_op *op = make(&c, C, w, NULL);
        const int64_t shape[4] = {1, C, H, H};
        CPT_OK(convpool_op_backward_data(op, NULL, shape, 4, NULL, NULL, dy, (size_t)yn, dx,
                                         (size_t)xn, NULL, 0));
        for (int64_t ci = 0; ci < C; ci++)
            for (int64_t ih = 0; ih < H; ih++)
                for (int64_t iw = 0; iw < H; iw++) {
                    double want = 0; /* dy[m, oh, ow] * w[m, ci, ih - 2oh, iw - 2ow] */
                    for (int64_t m = 0; m < C; m++) {
                        if (depthwise && m != ci)
                            continue;
                        const int64_t cw = depthwise ? 0 : ci;
                        for (int64_t oh = 0; oh < OH; oh++)
                            for (int64_t ow = 0; ow < OH; ow++) {
                                const int64_t kh = ih - 2 * oh, kw = iw - 2 * ow;
                                if (kh >= 0 && kh < 3 && kw >= 0 && kw < 3)
                                    want += (double)dy[(m * OH + oh) * OH + ow] *
                                            w[((m * cpg + cw) * 3 + kh) * 3 + kw];
                            }
                    }
                    const int64_t i = (ci * H + ih) * H + iw;
                    if (ih == H - 1 || iw == H - 1)
                        ck_assert_msg(dx[i] == 0.0f, "dx[%lld] = %g, not reached by any window",
                                      (long long)i, dx[i]);
                    else
                        assert_near(dx[i], want, 1e-5, "dx", i);
                }
        convpool_op_destroy(op);
        free(w), free(dy), free(dx);
    }
}
END_TEST

/* Bad Indices in several planes of an input large enough for the check to
 * split over threads: the error names the first one, and dx is untouched. */
START_TEST(indices_first_bad)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    c.strides[0] = c.strides[1] = 2;
    convpool_op *mp = cpt_make_op(&c, 80, NULL, NULL);
    const int64_t shape[4] = {2, 40, 64, 64}, in_plane = 64 * 64, out_plane = 32 * 32;
    const int64_t planes = 80, outs = planes * out_plane, ins = planes * in_plane;
    int64_t *idx = malloc((size_t)outs * sizeof *idx);
    float *dy = calloc((size_t)outs, sizeof *dy), *dx = malloc((size_t)ins * sizeof *dx);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t o = 0; o < out_plane; o++)
            idx[p * out_plane + o] = p * in_plane + (o / 32) * 128 + (o % 32) * 2;
    idx[70 * out_plane + 5] = -7;
    idx[11 * out_plane + 900] = 12 * in_plane; /* the next plane's first element */
    idx[60 * out_plane] = 0;
    for (int64_t i = 0; i < ins; i++)
        dx[i] = 42.0f;
    convpool_context *ctx;
    CPT_OK(convpool_context_create(2, &ctx));
    CPT_FAILS(convpool_op_backward_data(mp, ctx, shape, 4, NULL, idx, dy, (size_t)outs, dx,
                                        (size_t)ins, NULL, 0),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "indices[12164] = 49152", "(0, 11)");
    for (int64_t i = 0; i < ins; i++)
        ck_assert_msg(dx[i] == 42.0f, "dx[%lld] written before the check failed", (long long)i);
    convpool_context_destroy(ctx);
    convpool_op_destroy(mp);
    free(idx), free(dy), free(dx);
}
END_TEST

/* dw and db with an infinity in an input column no window reaches (3x3
 * stride 2 on 114 columns: the last one): finite, as the reference's sums,
 * which leave that column out; on the fast paths, whose sums run over
 * padded frames, such runs take the reference (the depthwise path does
 * not read it). An infinity in dy makes its channel's db infinite. Dense
 * and depthwise (_i 1). */
START_TEST(weights_non_finite)
{
    const int64_t C = 8, M = 8, H = 114, OH = 56;
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_CONV, 2);
    c.kernel[0] = c.kernel[1] = 3;
    c.strides[0] = c.strides[1] = 2;
    c.m = M;
    c.group = _i ? C : 1;
    const int64_t wn = M * C / c.group * 9, xn = C * H * H, yn = M * OH * OH;
    float *w = calloc((size_t)wn, sizeof *w), *x = malloc((size_t)xn * sizeof *x);
    float *dy = malloc((size_t)yn * sizeof *dy), *dw = malloc((size_t)wn * sizeof *dw), db[8];
    for (int64_t i = 0; i < xn; i++)
        x[i] = (i % 2 ? 1.0f : -1.0f) / (float)(1 + i % 5);
    for (int64_t i = 0; i < yn; i++)
        dy[i] = (float)(i % 3) - 1.0f;
    for (int64_t ci = 0; ci < C; ci++)
        x[(ci * H + 7) * H + H - 1] = INFINITY;
    convpool_op *op = make(&c, C, w, NULL);
    const int64_t shape[4] = {1, C, H, H};
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 4, x, dy, (size_t)yn, dw, (size_t)wn,
                                        db, (size_t)M, NULL, 0));
    for (int64_t i = 0; i < wn; i++)
        ck_assert_msg(isfinite(dw[i]), "dw[%lld] = %g", (long long)i, dw[i]);
    dy[3 * OH * OH + 100] = INFINITY;
    CPT_OK(convpool_op_backward_weights(op, NULL, shape, 4, x, dy, (size_t)yn, dw, (size_t)wn,
                                        db, (size_t)M, NULL, 0));
    for (int64_t m = 0; m < M; m++)
        ck_assert_msg(m == 3 ? isinf(db[m]) : isfinite(db[m]), "db[%lld] = %g", (long long)m,
                      db[m]);
    convpool_op_destroy(op);
    free(w), free(x), free(dy), free(dw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backward");
    CPT_ADD(s, conv_by_hand);
    CPT_ADD(s, conv_fd);
    CPT_ADD(s, conv_dx_unreached_rows);
    CPT_ADD_LOOP(s, weights_non_finite, 0, 2);
    CPT_ADD(s, conv_transpose_fd);
    CPT_ADD(s, pool_fd);
    CPT_ADD(s, caller_workspace);
    CPT_ADD(s, errors);
    CPT_ADD(s, indices_first_bad);
    CPT_ADD(s, empty_batch);
    return cpt_run_suite(s);
}
