/* Test helpers: assertions, op construction from a cpt_cfg, running, RNG. */
#include "cpt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cpt_expect_ok(int32_t got, const char *expr, const char *file, int line)
{
    ck_assert_msg(got == CONVPOOL_OK, "%s:%d: %s returned %d (%s): %s", file, line, expr,
                  (int)got, convpool_status_string(got), convpool_last_error());
}

void cpt_expect_fail(int32_t got, int32_t want, const char *expr, const char *file, int line,
                     const char *const *substrings)
{
    const char *msg = convpool_last_error();
    ck_assert_msg(got == want, "%s:%d: %s returned %d (%s), expected %d (%s); message: %s",
                  file, line, expr, (int)got, convpool_status_string(got), (int)want,
                  convpool_status_string(want), msg);
    ck_assert_msg(msg != NULL && msg[0] != '\0', "%s:%d: %s: empty error message", file, line,
                  expr);
    for (const char *const *s = substrings; *s; s++)
        ck_assert_msg(strstr(msg, *s) != NULL,
                      "%s:%d: %s: message \"%s\" does not contain \"%s\"", file, line, expr,
                      msg, *s);
}

void cpt_cfg_init(cpt_cfg *c, int32_t kind, int32_t rank)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->rank = rank;
    for (int i = 0; i < 3; i++)
        c->kernel[i] = c->strides[i] = c->dilations[i] = 1;
    c->auto_pad = CONVPOOL_AUTO_PAD_NOTSET;
    c->group = 1;
    c->m = 1;
    c->p = 2;
}

static int is_global(int32_t kind)
{
    return kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
           kind == CONVPOOL_OP_GLOBAL_LP_POOL;
}

static int has_weights(int32_t kind)
{
    return kind == CONVPOOL_OP_CONV || kind == CONVPOOL_OP_CONV_TRANSPOSE;
}

/* Sets every attribute of c that applies to its kind. */
static int32_t configure(convpool_desc *d, const cpt_cfg *c)
{
    int32_t st = CONVPOOL_OK;
    size_t k = (size_t)c->rank;
    if (c->kind == CONVPOOL_OP_GLOBAL_LP_POOL || c->kind == CONVPOOL_OP_LP_POOL)
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_P, c->p);
    if (st || is_global(c->kind))
        return st;
    if (!has_weights(c->kind))
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, c->kernel, k);
    if (!st)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, c->strides, k);
    if (!st)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, c->dilations, k);
    if (!st && c->auto_pad == CONVPOOL_AUTO_PAD_NOTSET)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, c->pads, 2 * k);
    if (!st)
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, c->auto_pad);
    if (!st && has_weights(c->kind))
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, c->group);
    if (!st && c->kind == CONVPOOL_OP_CONV_TRANSPOSE)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, c->output_padding, k);
    if (!st && c->kind == CONVPOOL_OP_CONV_TRANSPOSE && c->has_output_shape)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, c->output_shape, k);
    if (!st && !has_weights(c->kind))
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_CEIL_MODE, c->ceil_mode);
    if (!st && c->kind == CONVPOOL_OP_AVERAGE_POOL)
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, c->count_include_pad);
    if (!st && c->kind == CONVPOOL_OP_MAX_POOL)
        st = convpool_desc_set_int(d, CONVPOOL_ATTR_STORAGE_ORDER, c->storage_order);
    return st;
}

int32_t cpt_try_make_op(const cpt_cfg *c, int64_t channels, const float *w, const float *b,
                        convpool_op **op)
{
    return cpt_try_make_op_ex(c, channels, w, b, 0, op);
}

int32_t cpt_try_make_op_ex(const cpt_cfg *c, int64_t channels, const float *w, const float *b,
                           uint32_t flags, convpool_op **op)
{
    *op = NULL;
    convpool_desc *d = NULL;
    int32_t st = convpool_desc_create(c->kind, c->rank, &d);
    if (st)
        return st;
    st = configure(d, c);
    if (!st && has_weights(c->kind)) {
        int64_t ws[5] = {c->m, channels / c->group};
        if (c->kind == CONVPOOL_OP_CONV_TRANSPOSE) {
            ws[0] = channels;
            ws[1] = c->m / c->group;
        }
        for (int i = 0; i < c->rank; i++)
            ws[2 + i] = c->kernel[i];
        st = flags ? convpool_conv_create_ex(d, ws, (size_t)c->rank + 2, w, b, flags, op)
                   : convpool_conv_create(d, ws, (size_t)c->rank + 2, w, b, op);
    } else if (!st) {
        st = convpool_pool_create(d, op);
    }
    convpool_desc_destroy(d);
    return st;
}

convpool_op *cpt_make_op(const cpt_cfg *c, int64_t channels, const float *w, const float *b)
{
    convpool_op *op = NULL;
    CPT_OK(cpt_try_make_op(c, channels, w, b, &op));
    ck_assert_ptr_nonnull(op);
    return op;
}

int64_t cpt_count(const int64_t *shape, size_t rank)
{
    int64_t n = 1;
    for (size_t i = 0; i < rank; i++)
        n *= shape[i];
    return n;
}

float *cpt_run(const convpool_op *op, convpool_context *ctx, const int64_t *in, size_t rank,
               const float *x, int64_t *out_shape, int64_t *count, int64_t **indices)
{
    CPT_OK(convpool_op_output_shape(op, in, rank, out_shape, rank));
    *count = cpt_count(out_shape, rank);
    float *y = malloc((size_t)*count * sizeof *y);
    ck_assert_ptr_nonnull(y);
    int64_t *idx = NULL;
    if (indices) {
        idx = malloc((size_t)*count * sizeof *idx);
        ck_assert_ptr_nonnull(idx);
        *indices = idx;
    }
    CPT_OK(convpool_op_run_ex(op, ctx, in, rank, x, y, (size_t)*count, idx, NULL, 0));
    return y;
}

void cpt_rng_seed(cpt_rng *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint64_t cpt_rng_next(cpt_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

int64_t cpt_rng_int(cpt_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(cpt_rng_next(r) % (uint64_t)(hi - lo + 1));
}

float cpt_rng_float(cpt_rng *r)
{
    return (float)((double)(cpt_rng_next(r) >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

void cpt_rng_fill(cpt_rng *r, float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        v[i] = cpt_rng_float(r);
}

void cpt_assert_close(const float *got, const float *want, int64_t n, double tol,
                      const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(want[i])) {
            ck_assert_msg(isnan(want[i]) ? isnan(got[i]) : got[i] == want[i],
                          "%s: element %lld is %.9g, expected %.9g", what, (long long)i,
                          (double)got[i], (double)want[i]);
            continue;
        }
        double err = fabs((double)got[i] - (double)want[i]);
        ck_assert_msg(err <= tol * (1.0 + fabs((double)want[i])),
                      "%s: element %lld is %.9g, expected %.9g (error %.3g)", what,
                      (long long)i, (double)got[i], (double)want[i], err);
    }
}

void cpt_assert_floats_equal(const float *got, const float *want, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof got[i]) == 0,
                      "%s: element %lld is %.9g, expected exactly %.9g", what, (long long)i,
                      (double)got[i], (double)want[i]);
}

void cpt_assert_int64s_equal(const int64_t *got, const int64_t *want, int64_t n,
                             const char *what)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: element %lld is %lld, expected %lld", what,
                      (long long)i, (long long)got[i], (long long)want[i]);
}

int cpt_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
