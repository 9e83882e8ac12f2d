/*
 * cpt.h - helpers shared by the unit tests: status assertions that show
 * convpool_last_error(), building ops from a plain configuration, a fixed
 * seed random source, and an independent naive implementation of the ONNX
 * ops (written from the operator docs, one bounds check per tap) that the
 * tests use as a second oracle next to hand-computed values.
 */
#ifndef CPT_H
#define CPT_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include <convpool.h>

/* Asserts that `expr` returns CONVPOOL_OK; on failure shows the message. */
#define CPT_OK(expr) cpt_expect_ok((expr), #expr, __FILE__, __LINE__)

/* Asserts that `expr` fails with `want` and that convpool_last_error()
 * contains every one of the given substrings. */
#define CPT_FAILS(expr, want, ...)                                          \
    cpt_expect_fail((expr), (want), #expr, __FILE__, __LINE__,              \
                    (const char *const[]){__VA_ARGS__, NULL})

void cpt_expect_ok(int32_t got, const char *expr, const char *file, int line);
void cpt_expect_fail(int32_t got, int32_t want, const char *expr, const char *file, int line,
                     const char *const *substrings);

/* An op configuration in ONNX terms; every field is set on the descriptor
 * when it applies to the op kind. */
typedef struct cpt_cfg {
    int32_t kind;          /* convpool_op_kind */
    int32_t rank;          /* spatial rank, 1..3 */
    int64_t kernel[3];     /* pools; Conv takes it from the weight */
    int64_t strides[3];
    int64_t dilations[3];
    int64_t pads[6];       /* all begins, then all ends */
    int32_t auto_pad;      /* convpool_auto_pad */
    int32_t ceil_mode;
    int32_t count_include_pad;
    int32_t storage_order;
    int64_t group;         /* Conv */
    int64_t m;             /* Conv output channels */
    /* ConvTranspose, LpPool (set only for those kinds) */
    int64_t output_padding[3];
    int64_t output_shape[3];
    int32_t has_output_shape;
    int64_t p; /* LpPool exponent, default 2 */
} cpt_cfg;

/* Fills `c` with ONNX defaults (kernel 1, stride 1, dilation 1, no pads,
 * NOTSET, group 1, one output channel). */
void cpt_cfg_init(cpt_cfg *c, int32_t kind, int32_t rank);

/* Creates the library op for `c` (asserting success). For Conv, `channels`
 * is the input channel count, `w` has m * channels/group * prod(kernel)
 * elements and `b` m or is NULL. */
convpool_op *cpt_make_op(const cpt_cfg *c, int64_t channels, const float *w, const float *b);

/* The same, returning the status instead of asserting (for the random
 * tests, which also expect failures). *op is NULL on failure. */
int32_t cpt_try_make_op(const cpt_cfg *c, int64_t channels, const float *w, const float *b,
                        convpool_op **op);

/* cpt_try_make_op through convpool_conv_create_ex with `flags` for Conv and
 * ConvTranspose (whose w is (channels, m/group, kernel...)). */
int32_t cpt_try_make_op_ex(const cpt_cfg *c, int64_t channels, const float *w, const float *b,
                           uint32_t flags, convpool_op **op);

/* The element count of a shape. */
int64_t cpt_count(const int64_t *shape, size_t rank);

/* Runs `op` on x (shape `in`, rank `rank`) with ctx, asserting success, into
 * a freshly allocated y (and indices if want_indices); returns y and its
 * element count in *count, output shape in out_shape. Free with free(). */
float *cpt_run(const convpool_op *op, convpool_context *ctx, const int64_t *in, size_t rank,
               const float *x, int64_t *out_shape, int64_t *count, int64_t **indices);

/* A small deterministic generator (xorshift64*), so results do not depend
 * on the C library's rand(). */
typedef struct cpt_rng { uint64_t s; } cpt_rng;
void cpt_rng_seed(cpt_rng *r, uint64_t seed);
uint64_t cpt_rng_next(cpt_rng *r);
int64_t cpt_rng_int(cpt_rng *r, int64_t lo, int64_t hi); /* inclusive */
float cpt_rng_float(cpt_rng *r);                          /* in [-1, 1) */
void cpt_rng_fill(cpt_rng *r, float *v, int64_t n);

/* Asserts |got - want| <= tol * (1 + |want|) elementwise, and where want
 * is not finite, got the same infinity or a NaN alike; `what` names the
 * comparison in the failure message. */
void cpt_assert_close(const float *got, const float *want, int64_t n, double tol,
                      const char *what);

/* Asserts exact (bitwise for floats) equality. */
void cpt_assert_floats_equal(const float *got, const float *want, int64_t n, const char *what);
void cpt_assert_int64s_equal(const int64_t *got, const int64_t *want, int64_t n,
                             const char *what);

/* ---- the naive oracle ---- */

/* Output spatial dims and resolved pads for input spatial dims `in`, from
 * the ONNX operator docs. Returns 0 if the output would be empty (kernel
 * larger than the padded input). */
int cpt_naive_geometry(const cpt_cfg *c, const int64_t *in, int64_t *out, int64_t *pad_begin,
                       int64_t *pad_end);

/* Runs the op naively on x of shape `shape` (rank c->rank + 2) into y (and
 * indices for MaxPool if not NULL). `w`/`b` as for cpt_make_op. Returns the
 * number of output windows that contain no input element (for such windows
 * max and exclusive-average pooling have no defined value). Requires
 * cpt_naive_geometry() to have succeeded. */
int64_t cpt_naive_run(const cpt_cfg *c, const int64_t *shape, const float *x, const float *w,
                      const float *b, float *y, int64_t *indices);

/* Output shape (rank c->rank + 2) of the naive op; 0 if empty. */
int cpt_naive_output_shape(const cpt_cfg *c, const int64_t *shape, int64_t *out_shape);

/* Adds the given test case function to a new TCase named like it. */
#define CPT_ADD(suite, fn)                          \
    do {                                            \
        TCase *tc_ = tcase_create(#fn);             \
        tcase_add_test(tc_, fn);                    \
        tcase_set_timeout(tc_, 60);                 \
        suite_add_tcase((suite), tc_);              \
    } while (0)

/* The same for a loop test: fn runs with _i from lo to hi - 1. */
#define CPT_ADD_LOOP(suite, fn, lo, hi)             \
    do {                                            \
        TCase *tc_ = tcase_create(#fn);             \
        tcase_add_loop_test(tc_, fn, (lo), (hi));   \
        tcase_set_timeout(tc_, 60);                 \
        suite_add_tcase((suite), tc_);              \
    } while (0)

/* Runs a suite with CK_NORMAL output; returns the process exit status. */
int cpt_run_suite(Suite *s);

#endif
