/*
 * test_pool_diff.c - randomised differential test of the pooling fast paths.
 *
 * Thousands of random MaxPool / AveragePool / LpPool configurations (1-D, 2-D, 3-D;
 * kernel, strides, dilations, asymmetric pads, auto_pad, ceil_mode,
 * count_include_pad, storage_order, with and without Indices, LpPool's p =
 * 1, 2 and others, N and C > 1,
 * widths that leave SIMD tails), 2x2 stride-2 and 3x3 pools and global pools, each run on every ISA
 * path this CPU has and compared with the reference kernels (the SCALAR
 * path). MaxPool values and Indices must match exactly (NaN matches NaN);
 * averages and LpPool within |got - want| <= 1e-5 * (1 + |want|) (the fast
 * path sums in float, the reference in double; LpPool's float sums that
 * under- or overflow are redone in double by the fast path). Each fast run is done at 1 and 2
 * threads and must be bitwise identical. The seed is fixed; the maximum error is reported. The
 * backward pass (dx) of each fast path's op is compared with the reference's the same way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convpool.h"
#include "diff_setup.h"
#include "ops/op.h"
#include "runtime/cpu.h"

#define WINDOW_CASES 8000
#define GLOBAL_CASES 1000
#define PAIR_CASES   600
#define WIN3_CASES   800

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static int failures;
static double max_avg_error, max_lp_error;
static long compared_outputs, skipped_cases, tested_cases;
static long fast_backward_cases, ref_backward_cases; /* per fast path */
static int32_t first_isa, last_isa; /* the fast paths under test */

static void fail(const char *what, const char *config, const char *isa, int64_t at, double want,
                 double got)
{
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] isa=%s at %lld: want %.9g got %.9g\n", what, config, isa,
                (long long)at, want, got);
}

/* Input values: for MaxPool often few distinct values (ties), and now and
 * then NaN, +-inf and -0 (also for LpPool), sometimes a quarter of them
 * (windows of -inf only, next to padding, which must not win); for
 * averages, finite values. */
static void fill_input(float *x, int64_t count, int specials)
{
    int mode = (int)rnd(0, 2);
    const int64_t special_odds = rnd(0, 4) ? 199 : 3;
    for (int64_t i = 0; i < count; i++) {
        float v = mode == 0 ? (float)rnd(-3, 3) : (float)((double)rnd(-1000000, 1000000) / 1e6);
        if (specials && rnd(0, special_odds) == 0) {
            static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f};
            v = special[rnd(0, 4)];
        }
        x[i] = v;
    }
}

static int same_float(float a, float b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

typedef struct run_result {
    float *y;
    int64_t *indices;
} run_result;

/* Runs op on (shape, rank, x) with ctx; indices only if want_indices. */
static int run(const convpool_op *op, convpool_context *ctx, const int64_t *shape, size_t rank,
               const float *x, int64_t out_count, int want_indices, run_result *r)
{
    convpool_status st = convpool_op_run_ex(op, ctx, shape, rank, x, r->y, (size_t)out_count,
                                            want_indices ? r->indices : NULL, NULL, 0);
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "run failed: %s\n", convpool_last_error());
        failures++;
        return 0;
    }
    return 1;
}

/* Compares one fast path with the reference for a descriptor and input. */
/* The backward pass of `fast` against the reference op's: dx from a
 * fixed dy (MaxPool also from the reference's Indices), on 1 and 2
 * threads (bitwise equal). Max and average gradients are exact (the same
 * sums in the same order); the Lp pools' within 1e-5. The max and average
 * pools must take a fast backward pass. */
static void compare_backward(const convpool_op *ref, const convpool_op *fast, const int64_t *shape,
                             size_t rank, const float *x, int64_t out_count, const int64_t *indices,
                             const char *config, const char *isa, convpool_context *ctx1,
                             convpool_context *ctx2)
{
    int64_t in_count = 1;
    for (size_t i = 0; i < rank; i++)
        in_count *= shape[i];
    float *dy = malloc((size_t)out_count * sizeof(float));
    float *want = malloc((size_t)in_count * sizeof(float));
    float *got[2] = {malloc((size_t)in_count * sizeof(float)),
                     malloc((size_t)in_count * sizeof(float))};
    for (int64_t i = 0; i < out_count; i++)
        dy[i] = (float)(i % 17) * 0.125f - 1.0f;
    const int32_t kind = cp_op_kind_of(ref);
    const int exact = kind != CONVPOOL_OP_LP_POOL && kind != CONVPOOL_OP_GLOBAL_LP_POOL;
    if (strstr(fast->backward->name, ".ref"))
        ref_backward_cases++;
    else
        fast_backward_cases++;
    if (exact && kind != CONVPOOL_OP_GLOBAL_MAX_POOL && strstr(fast->backward->name, ".ref"))
        fail("fast backward pass not chosen", config, isa, 0, 0, 0);
    for (int with_idx = indices != NULL; with_idx >= 0; with_idx--) {
        const int64_t *idx = with_idx ? indices : NULL;
        if (convpool_op_backward_data(ref, ctx1, shape, rank, x, idx, dy, (size_t)out_count, want,
                                      (size_t)in_count, NULL, 0) != CONVPOOL_OK) {
            fail("backward (reference)", config, isa, 0, 0, 0);
            break;
        }
        for (int t = 0; t < 2; t++)
            if (convpool_op_backward_data(fast, t ? ctx2 : ctx1, shape, rank, x, idx, dy,
                                          (size_t)out_count, got[t], (size_t)in_count, NULL,
                                          0) != CONVPOOL_OK)
                fail("backward", config, isa, 0, 0, 0);
        if (memcmp(got[0], got[1], (size_t)in_count * sizeof(float)) != 0)
            fail("backward: 1 vs 2 threads differ", config, isa, 0, 0, 0);
        for (int64_t i = 0; i < in_count; i++) {
            const double w = want[i], g = got[0][i];
            /* inputs with NaN and infinities give the same non-finite dx */
            if (!same_float(want[i], got[0][i]) &&
                (exact || !(fabs(w - g) <= 1e-5 * (1.0 + fabs(w))))) {
                fail(with_idx ? "backward dx (Indices)" : "backward dx", config, isa, i, w, g);
                break;
            }
        }
    }
    free(dy);
    free(want);
    free(got[0]);
    free(got[1]);
}

static void check_paths(const convpool_desc *desc, int32_t kind, const int64_t *shape, size_t rank,
                        const float *x, const char *config, convpool_context *ctx1,
                        convpool_context *ctx2)
{
    int64_t out_shape[5];
    convpool_op *ref = NULL;
    if (cp_op_create(desc, NULL, 0, NULL, NULL, CONVPOOL_ISA_SCALAR, &ref) != CONVPOOL_OK) {
        skipped_cases++;
        return;
    }
    if (convpool_op_output_shape(ref, shape, rank, out_shape, 5) != CONVPOOL_OK) {
        skipped_cases++; /* e.g. kernel larger than the padded input */
        convpool_op_destroy(ref);
        return;
    }
    tested_cases++;
    int64_t out_count = 1;
    for (size_t i = 0; i < rank; i++)
        out_count *= out_shape[i];
    const int is_max = kind == CONVPOOL_OP_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_MAX_POOL;
    const int is_lp = kind == CONVPOOL_OP_LP_POOL || kind == CONVPOOL_OP_GLOBAL_LP_POOL;
    const char *what = is_lp ? "lp" : "average";
    double *max_error = is_lp ? &max_lp_error : &max_avg_error;
    const int has_indices = kind == CONVPOOL_OP_MAX_POOL;
    run_result want = {malloc((size_t)out_count * sizeof(float)),
                       malloc((size_t)out_count * sizeof(int64_t))};
    run_result got[2];
    for (int t = 0; t < 2; t++) {
        got[t].y = malloc((size_t)out_count * sizeof(float));
        got[t].indices = malloc((size_t)out_count * sizeof(int64_t));
    }
    if (!run(ref, ctx1, shape, rank, x, out_count, has_indices, &want))
        goto done;
    for (int32_t isa = first_isa; isa <= last_isa; isa++) {
        convpool_op *fast = NULL;
        if (cp_op_create(desc, NULL, 0, NULL, NULL, isa, &fast) != CONVPOOL_OK) {
            fail("create", config, convpool_isa_name(isa), 0, 0, 0);
            continue;
        }
        if (strstr(fast->impl->name, ".ref")) {
            fail("fast path not chosen", config, convpool_isa_name(isa), 0, 0, 0);
            convpool_op_destroy(fast);
            continue;
        }
        /* MaxPool twice: the value-only kernel differs from the Indices one */
        for (int with_idx = has_indices; with_idx >= 0; with_idx--) {
            for (int t = 0; t < 2; t++) {
                memset(got[t].indices, 0x55, (size_t)out_count * sizeof(int64_t));
                if (!run(fast, t ? ctx2 : ctx1, shape, rank, x, out_count, with_idx, &got[t]))
                    goto next_isa;
            }
            if (memcmp(got[0].y, got[1].y, (size_t)out_count * sizeof(float)) != 0 ||
                (with_idx &&
                 memcmp(got[0].indices, got[1].indices, (size_t)out_count * sizeof(int64_t)) != 0))
                fail("1 vs 2 threads differ", config, convpool_isa_name(isa), 0, 0, 0);
            for (int64_t i = 0; i < out_count; i++) {
                float w = want.y[i], g = got[0].y[i];
                compared_outputs++;
                if (is_max) {
                    if (!same_float(w, g)) {
                        fail(with_idx ? "max value (with Indices)" : "max value", config,
                             convpool_isa_name(isa), i, w, g);
                        break;
                    }
                    if (with_idx && want.indices[i] != got[0].indices[i]) {
                        fail("Indices", config, convpool_isa_name(isa), i, (double)want.indices[i],
                             (double)got[0].indices[i]);
                        break;
                    }
                } else {
                    if (isnan(w) || isnan(g)) {
                        if (!(isnan(w) && isnan(g))) {
                            fail(what, config, convpool_isa_name(isa), i, w, g);
                            break;
                        }
                        continue;
                    }
                    double err = fabs((double)w - (double)g);
                    if (err > *max_error)
                        *max_error = err;
                    if (err > 1e-5 * (1.0 + fabs((double)w))) {
                        fail(what, config, convpool_isa_name(isa), i, w, g);
                        break;
                    }
                }
            }
        }
        compare_backward(ref, fast, shape, rank, x, out_count, has_indices ? want.indices : NULL,
                         config, convpool_isa_name(isa), ctx1, ctx2);
    next_isa:
        convpool_op_destroy(fast);
    }
done:
    free(want.y);
    free(want.indices);
    for (int t = 0; t < 2; t++) {
        free(got[t].y);
        free(got[t].indices);
    }
    convpool_op_destroy(ref);
}

/*
 * Runs check_paths on a fresh random input of `shape` placed so that it ends
 * right before an inaccessible page (and starts right after one): a kernel
 * that reads outside the input faults instead of passing by luck.
 */
static void check_random_input(const convpool_desc *desc, int32_t kind, const int64_t *shape,
                               size_t rank, const char *config, convpool_context *ctx1,
                               convpool_context *ctx2)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t count = 1;
    for (size_t i = 0; i < rank; i++)
        count *= (size_t)shape[i];
    const size_t bytes = count * sizeof(float), pages = (bytes + page - 1) / page;
    char *map =
        mmap(NULL, (pages + 2) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        failures++;
        return;
    }
    mprotect(map, page, PROT_NONE);
    mprotect(map + (pages + 1) * page, page, PROT_NONE);
    float *x = (float *)(map + (pages + 1) * page - bytes);
    fill_input(x, (int64_t)count,
               kind == CONVPOOL_OP_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_MAX_POOL ||
                   kind == CONVPOOL_OP_LP_POOL || kind == CONVPOOL_OP_GLOBAL_LP_POOL);
    check_paths(desc, kind, shape, rank, x, config, ctx1, ctx2);
    munmap(map, (pages + 2) * page);
}

/* LpPool's p: mostly 1 and 2 (their own kernels), else 3..12 (repeated
 * squaring, the root in double), now and then a large p whose float terms
 * underflow or overflow on these inputs (the double fallback). */
static int64_t random_p(void)
{
    const int64_t r = rnd(0, 9);
    return r < 3 ? 1 : r < 6 ? 2 : r < 9 ? rnd(3, 12) : rnd(20, 60);
}

static const char *kind_name(int32_t kind)
{
    switch (kind) {
    case CONVPOOL_OP_MAX_POOL: return "MaxPool";
    case CONVPOOL_OP_AVERAGE_POOL: return "AveragePool";
    case CONVPOOL_OP_LP_POOL: return "LpPool";
    case CONVPOOL_OP_GLOBAL_MAX_POOL: return "GlobalMaxPool";
    case CONVPOOL_OP_GLOBAL_AVERAGE_POOL: return "GlobalAveragePool";
    default: return "GlobalLpPool";
    }
}

/* A windowed pool kind: MaxPool, AveragePool or (a quarter) LpPool. */
static int32_t window_kind(void)
{
    const int64_t r = rnd(0, 7);
    return r < 2 ? CONVPOOL_OP_LP_POOL : r < 5 ? CONVPOOL_OP_MAX_POOL : CONVPOOL_OP_AVERAGE_POOL;
}

/* Sets LpPool's p (a random one) on desc; *p gets it (0 for other kinds). */
static int set_p(convpool_desc *desc, int32_t kind, int64_t *p)
{
    *p = 0;
    if (kind != CONVPOOL_OP_LP_POOL && kind != CONVPOOL_OP_GLOBAL_LP_POOL)
        return 1;
    *p = random_p();
    return convpool_desc_set_int(desc, CONVPOOL_ATTR_P, *p) == CONVPOOL_OK;
}

/* A random windowed pool; input shape and a description into config. */
static void window_case(convpool_context *ctx1, convpool_context *ctx2)
{
    const int32_t kind = window_kind();
    const int rank = (int)rnd(1, 3);
    int64_t kernel[3], strides[3], dil[3], pads[6], shape[5];
    shape[0] = rnd(1, 2);
    shape[1] = rnd(0, 7) ? rnd(1, 3) : rnd(14, 40); /* sometimes many planes */
    /* input elements per plane, at most; now and then a large plane (the
     * kernels walk planes of more than 8192 elements in wider strips) */
    const int large = rnd(0, 9) == 0 && shape[1] <= 3;
    int64_t budget = large ? 40000 : shape[1] > 3 ? 600 : 6000;
    for (int i = 0; i < rank; i++) {
        const int last = i == rank - 1;
        kernel[i] = rnd(1, last ? 5 : 3);
        strides[i] = rnd(0, 3) ? rnd(1, 2) : rnd(3, 4);
        dil[i] = rnd(0, 3) ? 1 : rnd(2, 3);
        int64_t extent = (kernel[i] - 1) * dil[i] + 1;
        /* pads up to the window extent (ONNX allows pads >= kernel; the
         * reference defines it) */
        pads[i] = rnd(0, 2) ? rnd(0, extent - 1 < 3 ? extent - 1 : 3) : rnd(0, extent);
        pads[rank + i] = rnd(0, 2) ? rnd(0, extent - 1 < 3 ? extent - 1 : 3) : rnd(0, extent);
        int64_t hi = last ? (rank == 1 ? 200
                             : large   ? 300
                                       : 80)
                          : (rank == 3 ? 8
                             : large   ? 200
                                       : 24);
        if (hi > budget)
            hi = budget;
        shape[2 + i] = rnd(1, hi < 1 ? 1 : hi);
        budget /= shape[2 + i];
        if (budget < 1)
            budget = 1;
    }
    int64_t auto_pad = rnd(0, 4) ? CONVPOOL_AUTO_PAD_NOTSET : rnd(1, 3);
    int64_t ceil_mode = rnd(0, 2) == 0, include_pad = rnd(0, 1), storage = rnd(0, 3) == 0;
    convpool_desc *desc = NULL;
    if (convpool_desc_create(kind, rank, &desc) != CONVPOOL_OK) {
        failures++;
        return;
    }
    int ok = convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, kernel, rank) == 0 &&
             convpool_desc_set_ints(desc, CONVPOOL_ATTR_STRIDES, strides, rank) == 0 &&
             convpool_desc_set_ints(desc, CONVPOOL_ATTR_DILATIONS, dil, rank) == 0 &&
             convpool_desc_set_int(desc, CONVPOOL_ATTR_AUTO_PAD, auto_pad) == 0 &&
             convpool_desc_set_int(desc, CONVPOOL_ATTR_CEIL_MODE, ceil_mode) == 0;
    if (ok && auto_pad == CONVPOOL_AUTO_PAD_NOTSET)
        ok = convpool_desc_set_ints(desc, CONVPOOL_ATTR_PADS, pads, 2 * (size_t)rank) == 0;
    if (ok && kind == CONVPOOL_OP_AVERAGE_POOL)
        ok = convpool_desc_set_int(desc, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, include_pad) == 0;
    if (ok && kind == CONVPOOL_OP_MAX_POOL)
        ok = convpool_desc_set_int(desc, CONVPOOL_ATTR_STORAGE_ORDER, storage) == 0;
    int64_t p = 0;
    ok = ok && set_p(desc, kind, &p);
    if (!ok) {
        fprintf(stderr, "descriptor setup failed: %s\n", convpool_last_error());
        failures++;
        convpool_desc_destroy(desc);
        return;
    }
    char config[400];
    int len = snprintf(config, sizeof config, "%s p %lld rank %d in", kind_name(kind), (long long)p,
                       rank);
    for (int i = 0; i < rank + 2; i++)
        len += snprintf(config + len, sizeof config - (size_t)len, " %lld", (long long)shape[i]);
    len += snprintf(config + len, sizeof config - (size_t)len, " k/s/d/pb/pe");
    for (int i = 0; i < rank; i++)
        len += snprintf(config + len, sizeof config - (size_t)len, " %lld/%lld/%lld/%lld/%lld",
                        (long long)kernel[i], (long long)strides[i], (long long)dil[i],
                        (long long)pads[i], (long long)pads[rank + i]);
    snprintf(config + len, sizeof config - (size_t)len,
             " auto_pad %lld ceil %lld incl_pad %lld storage %lld", (long long)auto_pad,
             (long long)ceil_mode, (long long)include_pad, (long long)storage);
    check_random_input(desc, kind, shape, (size_t)rank + 2, config, ctx1, ctx2);
    convpool_desc_destroy(desc);
}

static void global_case(convpool_context *ctx1, convpool_context *ctx2)
{
    const int64_t r = rnd(0, 5);
    const int32_t kind = r < 2   ? CONVPOOL_OP_GLOBAL_LP_POOL
                         : r < 4 ? CONVPOOL_OP_GLOBAL_MAX_POOL
                                 : CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
    const int rank = (int)rnd(1, 3);
    int64_t shape[5] = {rnd(1, 3), rnd(1, 40)};
    for (int i = 0; i < rank; i++)
        shape[2 + i] = rnd(1, rank == 1 ? 300 : rank == 2 ? 20 : 7);
    convpool_desc *desc = NULL;
    if (convpool_desc_create(kind, rank, &desc) != CONVPOOL_OK) {
        failures++;
        return;
    }
    int64_t p = 0;
    if (!set_p(desc, kind, &p)) {
        failures++;
        convpool_desc_destroy(desc);
        return;
    }
    char config[200];
    snprintf(config, sizeof config, "%s p %lld rank %d in %lld %lld %lld %lld %lld",
             kind_name(kind), (long long)p, rank, (long long)shape[0], (long long)shape[1],
             (long long)shape[2], (long long)(rank > 1 ? shape[3] : 0),
             (long long)(rank > 2 ? shape[4] : 0));
    check_random_input(desc, kind, shape, (size_t)rank + 2, config, ctx1, ctx2);
    convpool_desc_destroy(desc);
}

/* MaxPool: a random storage_order (a quarter column-major), returned. */
static int64_t set_storage_order(convpool_desc *desc, int32_t kind)
{
    if (kind != CONVPOOL_OP_MAX_POOL)
        return 0;
    const int64_t storage = rnd(0, 3) == 0;
    convpool_desc_set_int(desc, CONVPOOL_ATTR_STORAGE_ORDER, storage);
    return storage;
}

/* 2x2 windows at stride 2 without padding (the dedicated pairs path when
 * every window lies inside the plane): odd and even sizes, ceil_mode (a
 * last window that overhangs sends the op to the general path), end pads,
 * widths around the vector length, a third of them rows of whole half
 * vectors (4 or 8 outputs a half; vectors that span two rows, NaN in them
 * recomputed per row), MaxPool with and without Indices. */
static void pair_case(convpool_context *ctx1, convpool_context *ctx2)
{
    const int32_t kind = window_kind();
    const int64_t width = rnd(0, 2) ? rnd(2, 80) : 8 * rnd(1, 10) + rnd(0, 1);
    int64_t shape[4] = {rnd(1, 2), rnd(1, 20), rnd(2, 40), width};
    int64_t k[2] = {2, 2}, pads[4] = {0, 0, rnd(0, 3) == 0, rnd(0, 3) == 0};
    const int64_t ceil_mode = rnd(0, 3) == 0;
    convpool_desc *desc = NULL;
    if (convpool_desc_create(kind, 2, &desc) != CONVPOOL_OK) {
        failures++;
        return;
    }
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2);
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_STRIDES, k, 2);
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_PADS, pads, 4);
    convpool_desc_set_int(desc, CONVPOOL_ATTR_CEIL_MODE, ceil_mode);
    const int64_t storage = set_storage_order(desc, kind);
    int64_t p = 0;
    set_p(desc, kind, &p);
    char config[200];
    snprintf(config, sizeof config,
             "%s p %lld 2x2/2 in %lld %lld %lld %lld end pads %lld %lld ceil %lld storage %lld",
             kind_name(kind), (long long)p, (long long)shape[0], (long long)shape[1],
             (long long)shape[2], (long long)shape[3], (long long)pads[2], (long long)pads[3],
             (long long)ceil_mode, (long long)storage);
    check_random_input(desc, kind, shape, 4, config, ctx1, ctx2);
    convpool_desc_destroy(desc);
}

/* 3x3 windows at stride 1 or 2 (per axis) with pads of 0 or 1 per side:
 * the dedicated win3 path. Sizes around the vector lengths and the band
 * width (4 vectors), ceil_mode, count_include_pad, MaxPool with and
 * without Indices, in either storage order. */
static void win3_case(convpool_context *ctx1, convpool_context *ctx2)
{
    const int32_t kind = window_kind();
    int64_t shape[4] = {rnd(1, 2), rnd(1, 12), rnd(2, 40), rnd(2, rnd(0, 3) ? 40 : 150)};
    int64_t k[2] = {3, 3}, strides[2] = {rnd(1, 2), rnd(1, 2)};
    int64_t pads[4] = {rnd(0, 1), rnd(0, 1), rnd(0, 1), rnd(0, 1)};
    const int64_t ceil_mode = rnd(0, 3) == 0, include_pad = rnd(0, 1);
    convpool_desc *desc = NULL;
    if (convpool_desc_create(kind, 2, &desc) != CONVPOOL_OK) {
        failures++;
        return;
    }
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2);
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_STRIDES, strides, 2);
    convpool_desc_set_ints(desc, CONVPOOL_ATTR_PADS, pads, 4);
    convpool_desc_set_int(desc, CONVPOOL_ATTR_CEIL_MODE, ceil_mode);
    if (kind == CONVPOOL_OP_AVERAGE_POOL)
        convpool_desc_set_int(desc, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, include_pad);
    const int64_t storage = set_storage_order(desc, kind);
    int64_t p = 0;
    set_p(desc, kind, &p);
    char config[240];
    snprintf(
        config, sizeof config,
        "%s p %lld 3x3 strides %lld %lld pads %lld %lld %lld %lld in %lld %lld %lld %lld ceil %lld "
        "include_pad %lld storage %lld",
        kind_name(kind), (long long)p, (long long)strides[0], (long long)strides[1],
        (long long)pads[0], (long long)pads[1], (long long)pads[2], (long long)pads[3],
        (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3],
        (long long)ceil_mode, (long long)include_pad, (long long)storage);
    check_random_input(desc, kind, shape, 4, config, ctx1, ctx2);
    convpool_desc_destroy(desc);
}

/* The benchmark's pool shapes (fewer channels), so the paths the benchmark
 * times are checked too. */
static void bench_like_cases(convpool_context *ctx1, convpool_context *ctx2)
{
    static const struct {
        int32_t kind;
        int64_t h, w, k, s, pad, p; /* p: LpPool's p, MaxPool's storage_order */
    } cases[] = {
        {CONVPOOL_OP_MAX_POOL, 112, 112, 3, 2, 1, 0},
        {CONVPOOL_OP_MAX_POOL, 112, 112, 2, 2, 0, 0},
        {CONVPOOL_OP_MAX_POOL, 112, 112, 3, 2, 1, 1},
        {CONVPOOL_OP_MAX_POOL, 224, 224, 2, 2, 0, 1},
        {CONVPOOL_OP_AVERAGE_POOL, 56, 56, 2, 2, 0, 0},
        {CONVPOOL_OP_AVERAGE_POOL, 28, 28, 3, 1, 1, 0},
        {CONVPOOL_OP_GLOBAL_AVERAGE_POOL, 7, 7, 7, 1, 0, 0},
        {CONVPOOL_OP_LP_POOL, 112, 112, 3, 2, 0, 2},
        {CONVPOOL_OP_LP_POOL, 56, 56, 2, 2, 0, 1},
        {CONVPOOL_OP_LP_POOL, 28, 28, 3, 1, 1, 3},
        {CONVPOOL_OP_GLOBAL_LP_POOL, 7, 7, 7, 1, 0, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        convpool_desc *desc = NULL;
        int64_t k[2] = {cases[i].k, cases[i].k}, s[2] = {cases[i].s, cases[i].s};
        int64_t p[4] = {cases[i].pad, cases[i].pad, cases[i].pad, cases[i].pad};
        const int global = cases[i].kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
                           cases[i].kind == CONVPOOL_OP_GLOBAL_LP_POOL;
        convpool_desc_create(cases[i].kind, 2, &desc);
        if (!global) {
            convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2);
            convpool_desc_set_ints(desc, CONVPOOL_ATTR_STRIDES, s, 2);
            convpool_desc_set_ints(desc, CONVPOOL_ATTR_PADS, p, 4);
        }
        if (cases[i].p)
            convpool_desc_set_int(desc,
                                  cases[i].kind == CONVPOOL_OP_MAX_POOL ? CONVPOOL_ATTR_STORAGE_ORDER
                                                                        : CONVPOOL_ATTR_P,
                                  cases[i].p);
        int64_t shape[4] = {1, 3, cases[i].h, cases[i].w};
        check_random_input(desc, cases[i].kind, shape, 4, "bench shape", ctx1, ctx2);
        convpool_desc_destroy(desc);
    }
}

/* The paths to test: the one CONVPOOL_ISA forces (so meson runs one test
 * per path, in parallel), else every fast path this CPU has. */
static int paths_to_test(int32_t *lo, int32_t *hi)
{
    const char *env = getenv("CONVPOOL_ISA");
    *lo = CONVPOOL_ISA_AVX2;
    *hi = cp_isa_supported();
    if (env && *env) {
        if (strcmp(env, convpool_isa_name(cp_isa_active())) != 0) {
            printf("CONVPOOL_ISA=%s: this CPU lacks that path; skipped\n", env);
            return 77;
        }
        *lo = *hi = cp_isa_active();
    }
    return 0;
}

int main(void)
{
    rng_state = diff_seed(rng_state); /* CPT_SEED: a search by hand */
    int32_t isa_lo, isa_hi;
    if (paths_to_test(&isa_lo, &isa_hi))
        return 77; /* meson: skipped */
    if (isa_hi < CONVPOOL_ISA_AVX2) {
        /* scalar forced: the public constructor must pick the reference */
        static const int32_t kinds[] = {CONVPOOL_OP_MAX_POOL,
                                        CONVPOOL_OP_AVERAGE_POOL,
                                        CONVPOOL_OP_LP_POOL,
                                        CONVPOOL_OP_GLOBAL_MAX_POOL,
                                        CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
                                        CONVPOOL_OP_GLOBAL_LP_POOL};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            convpool_desc *desc = NULL;
            convpool_op *op = NULL;
            int64_t k = 2;
            convpool_desc_create(kinds[i], 1, &desc);
            if (i < 3)
                convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, &k, 1);
            if (convpool_pool_create(desc, &op) != CONVPOOL_OK || !strstr(op->impl->name, ".ref"))
                fail("scalar path not the reference", op ? op->impl->name : "create", "scalar", 0,
                     0, 0);
            convpool_op_destroy(op);
            convpool_desc_destroy(desc);
        }
        printf("scalar path: pools use the reference impls; failures %d\n", failures);
        return failures ? 1 : 0;
    }
    first_isa = isa_lo;
    last_isa = isa_hi;
    convpool_context *ctx1 = NULL, *ctx2 = NULL;
    if (convpool_context_create(1, &ctx1) != CONVPOOL_OK ||
        convpool_context_create(2, &ctx2) != CONVPOOL_OK) {
        fprintf(stderr, "context: %s\n", convpool_last_error());
        return 1;
    }
    bench_like_cases(ctx1, ctx2);
    for (int i = 0; i < WINDOW_CASES; i++)
        window_case(ctx1, ctx2);
    for (int i = 0; i < GLOBAL_CASES; i++)
        global_case(ctx1, ctx2);
    for (int i = 0; i < PAIR_CASES; i++)
        pair_case(ctx1, ctx2);
    for (int i = 0; i < WIN3_CASES; i++)
        win3_case(ctx1, ctx2);
    printf("paths: %s..%s; configurations tested %ld (skipped as invalid %ld), outputs "
           "compared %ld; max average error %.3g; max LpPool error %.3g; failures %d\n",
           convpool_isa_name(isa_lo), convpool_isa_name(isa_hi), tested_cases, skipped_cases,
           compared_outputs, max_avg_error, max_lp_error, failures);
    printf("backward passes: %ld configurations on a fast path, %ld on the reference\n",
           fast_backward_cases, ref_backward_cases);
    convpool_context_destroy(ctx1);
    convpool_context_destroy(ctx2);
    return failures ? 1 : 0;
}
