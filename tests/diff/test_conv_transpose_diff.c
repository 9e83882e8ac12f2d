/*
 * test_conv_transpose_diff: randomised differential test of the
 * ConvTranspose fast path (on the convolution fast paths: one Conv with the
 * flipped kernel for stride 1 and fixed pads, one Conv per stride phase, or
 * a 1x1 Conv then col2im) against the reference impl, on every ISA path up to the active
 * one (cp_op_create with that ISA).
 *
 * Thousands of random configurations (fixed seed): 1-D/2-D/3-D, groups,
 * strides, dilations, output_padding, asymmetric pads, output_shape (also
 * larger than the full output), every auto_pad, batch > 1, with and without
 * bias; a sixth of them have stride 1 in every dim, a sixth are drawn to
 * split into stride phases, a sixth to go depth to space (kernel =
 * stride, no pads) and a sixth are depthwise with a stride above 1 (one
 * channel in and out per group, any other attribute); the test checks that
 * each of the last three took its way (a depthwise op with a stride above
 * 1, however drawn, takes the depthwise impl),
 * so that every way of the fast path is well covered. A few fixed
 * configurations follow: depth to space on inputs large enough for its
 * tiles to be packed. The error of an element is measured against the reference run
 * on |x|, |w|, |b|, which bounds float rounding for any summation order. Each fast run is repeated
 * on contexts of 1, 2 and 3 threads and must be bitwise identical, with a caller workspace of the
 * queried size.
 *
 * Exit 77 (skip) when CONVPOOL_ISA names a path this CPU lacks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backward_check.h"
#include "convpool.h"
#include "diff_setup.h"
#include "ops/impl.h"
#include "ops/op.h"
#include "runtime/cpu.h"

#define CONFIGS       2500
#define MAX_REL_ERROR 2e-5

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (int64_t)((rng_state >> 16) % (uint64_t)(hi - lo + 1));
}

static void fail(const char *what, int config)
{
    fprintf(stderr, "test_conv_transpose_diff: config %d: %s: %s\n", config, what,
            convpool_last_error());
    exit(1);
}

typedef struct tcase {
    int rank;
    int64_t xs[5], ws[5], strides[3], dilations[3], opad[3], pads[6], os[3];
    int64_t group;
    int32_t auto_pad;
    int has_os, has_bias;
    int64_t mode; /* how it was drawn (draw()) */
} tcase;

static void draw(tcase *t)
{
    memset(t, 0, sizeof *t);
    /* 0: stride 1 everywhere (one Conv); 1: stride phases (dilation 1,
     * kernel >= stride, >= 16 output channels per group, fixed pads);
     * 4: depth to space (kernel = stride, no pads); 5: depthwise, a
     * stride above 1; else anything (mostly the GEMM) */
    const int64_t mode = t->mode = rnd_range(0, 5);
    t->rank = (int)rnd_range(1, 3);
    /* planes of 256 pixels and more on 16 input channels a group: the
     * weight gradient's outer path (a = x) where the kernel gives 256
     * columns a group or more (M/group * taps) */
    const int big = mode == 0 && t->rank == 2 && rnd_range(0, 7) == 0;
    /* planes of 100-150 rows, a stride above 1 and few output channels:
     * the GEMM way's columns (over 512 KiB) in bands of input rows, one
     * segment of output rows per thread */
    const int banded = (mode == 2 || mode == 3) && t->rank == 2 && rnd_range(0, 11) == 0;
    /* 15-18 taps along W with stride 2: col2im's zipped scatter up to 16
     * (CP_COL2IM_ZIP_KW), the scatter in (kd, kh, kw) order beyond */
    const int wide = (mode == 2 || mode == 3) && !banded && rnd_range(0, 7) == 0;
    t->group = mode == 5 ? rnd_range(1, 12) : rnd_range(1, 3);
    int64_t cpg = mode == 5 ? 1 : big ? 16 : rnd_range(1, rnd_range(0, 3) == 0 ? 20 : 4);
    int64_t mpg = mode == 1   ? rnd_range(16, 20)
                  : mode == 5 ? 1
                  : big       ? 64
                  : banded    ? rnd_range(3, 5)
                              : rnd_range(1, rnd_range(0, 3) == 0 ? 20 : 4);
    t->xs[0] = rnd_range(1, 2);
    t->xs[1] = t->ws[0] = cpg * t->group;
    t->ws[1] = mpg;
    t->auto_pad = mode == 1 ? 3 * (int32_t)rnd_range(0, 1) : (int32_t)rnd_range(0, 3);
    t->has_os = mode != 1 && mode != 4 && t->auto_pad != CONVPOOL_AUTO_PAD_VALID &&
                rnd_range(0, 3) == 0;
    t->has_bias = (int)rnd_range(0, 1);
    for (int i = 0; i < t->rank; i++) {
        t->xs[2 + i] = big      ? rnd_range(16, 24)
                       : banded ? rnd_range(i ? 40 : 100, i ? 64 : 150)
                                : rnd_range(1, t->rank == 3 ? 5 : 11);
        const int wide_dim = wide && i == t->rank - 1;
        t->strides[i] = mode == 0 ? 1 : wide_dim ? 2 : rnd_range(banded && !i ? 2 : 1, 3);
        t->ws[2 + i] =
            wide_dim ? rnd_range(15, 18) : rnd_range(mode == 1 ? t->strides[i] : big || banded ? 3 : 1, 4);
        t->dilations[i] = mode == 1 || wide_dim ? 1 : rnd_range(1, 2);
        int64_t most = t->strides[i] > t->dilations[i] ? t->strides[i] : t->dilations[i];
        t->opad[i] = rnd_range(0, most - 1);
        int64_t full = t->strides[i] * (t->xs[2 + i] - 1) + t->opad[i] +
                       (t->ws[2 + i] - 1) * t->dilations[i] + 1;
        if (t->auto_pad == CONVPOOL_AUTO_PAD_NOTSET && !t->has_os) {
            /* keep at least one output: crop at most full - 1 in all */
            t->pads[i] = rnd_range(0, (full - 1) / 2 < 2 ? (full - 1) / 2 : 2);
            t->pads[t->rank + i] = rnd_range(0, (full - 1) / 2 < 2 ? (full - 1) / 2 : 2);
        }
        t->os[i] = rnd_range(full > 3 ? full - 3 : 1, full + t->strides[i] - 1);
        if (mode == 4) {
            /* kernel = stride, any dilation of a 1-tap dim, output_padding
             * (not with SAME, whose pads it would make non-zero) */
            t->ws[2 + i] = t->strides[i];
            if (t->strides[i] > 1)
                t->dilations[i] = 1;
            int64_t most4 = t->strides[i] > t->dilations[i] ? t->strides[i] : t->dilations[i];
            t->opad[i] = t->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ||
                                 t->auto_pad == CONVPOOL_AUTO_PAD_SAME_LOWER
                             ? 0
                             : rnd_range(0, most4 - 1);
            t->pads[i] = t->pads[t->rank + i] = 0;
        }
    }
    if (mode == 5 && t->strides[t->rank - 1] == 1) /* a stride above 1 */
        t->strides[t->rank - 1] = rnd_range(2, 3);
    if (mode == 5 && rnd_range(0, 2) == 0)
        t->xs[1 + t->rank] = rnd_range(12, 40); /* rows of several vectors */
    if (mode == 4 && t->ws[2] == 1) /* at least two taps */
        t->strides[0] = t->ws[2] = 2, t->dilations[0] = 1, t->opad[0] = 0;
    if (mode == 4 && rnd_range(0, 2) == 0) {
        /* rows of whole vectors (8 and 16 floats) with stride 2 along W:
         * the GEMM's tiles store zipped row pairs straight to y */
        const int w = t->rank - 1;
        t->xs[2 + w] = 16 * rnd_range(1, 2);
        t->strides[w] = t->ws[2 + w] = 2;
        t->dilations[w] = 1;
        t->opad[w] = t->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER ||
                             t->auto_pad == CONVPOOL_AUTO_PAD_SAME_LOWER
                         ? 0
                         : rnd_range(0, 1);
        for (int i = 0; i < w; i++)
            t->xs[2 + i] = rnd_range(1, 4);
    }
}

/* Run after the drawn ones: depth to space where each pixel tile's input
 * is first copied into the thread's pack (conv_x86_plan.c, gemm_packs):
 * a group's input of 3 MiB and more on planes a multiple of 1 KiB, so
 * that it outgrows L2 and a tile's lines crowd a few of L1's sets (with
 * 48 KiB of L1 and 2 MiB of L2, on AVX-512 and AVX2): tiles stored as
 * zipped row pairs (2-D and 3-D), through the L1 buffer (stride 1 along
 * W, W not a multiple of the vector), output_padding, groups and batch,
 * partial row blocks */
static const tcase fixed[] = {
    {.rank = 2, .xs = {1, 128, 64, 128}, .ws = {128, 5, 2, 2}, .strides = {2, 2},
     .dilations = {1, 1}, .group = 1, .has_bias = 1, .mode = 4},
    {.rank = 2, .xs = {2, 256, 32, 200}, .ws = {256, 4, 2, 1}, .strides = {2, 1},
     .dilations = {1, 1}, .opad = {1, 0}, .group = 2, .has_bias = 1, .mode = 4},
    {.rank = 3, .xs = {1, 128, 4, 32, 64}, .ws = {128, 3, 2, 2, 2}, .strides = {2, 2, 2},
     .dilations = {1, 1, 1}, .group = 1, .has_bias = 0, .mode = 4},
};
#define FIXED (int)(sizeof fixed / sizeof fixed[0])

static convpool_op *create(const tcase *t, const float *w, const float *b, int32_t isa, int config)
{
    convpool_desc *d;
    size_t r = (size_t)t->rank;
    if (convpool_desc_create(CONVPOOL_OP_CONV_TRANSPOSE, t->rank, &d) != CONVPOOL_OK ||
        convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, t->strides, r) != CONVPOOL_OK ||
        convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, t->dilations, r) != CONVPOOL_OK ||
        convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_PADDING, t->opad, r) != CONVPOOL_OK ||
        convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, t->group) != CONVPOOL_OK ||
        convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, t->auto_pad) != CONVPOOL_OK ||
        (t->auto_pad == CONVPOOL_AUTO_PAD_NOTSET && !t->has_os &&
         convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, t->pads, 2 * r) != CONVPOOL_OK) ||
        (t->has_os &&
         convpool_desc_set_ints(d, CONVPOOL_ATTR_OUTPUT_SHAPE, t->os, r) != CONVPOOL_OK))
        fail("descriptor", config);
    convpool_op *op;
    if (cp_op_create(d, t->ws, r + 2, w, t->has_bias ? b : NULL, isa, &op) != CONVPOOL_OK)
        fail("create", config);
    convpool_desc_destroy(d);
    return op;
}

/* Runs op on ctx with a caller workspace of the queried size. */
static void run(convpool_op *op, convpool_context *ctx, const tcase *t, const float *x, float *y,
                int64_t count, int config)
{
    size_t rank = (size_t)t->rank + 2, bytes;
    if (convpool_op_workspace_size(op, ctx, t->xs, rank, &bytes) != CONVPOOL_OK)
        fail("workspace_size", config);
    void *ws = bytes ? malloc(bytes) : NULL;
    if (convpool_op_run_ex(op, ctx, t->xs, rank, x, y, (size_t)count, NULL, ws, bytes) !=
        CONVPOOL_OK)
        fail("run", config);
    free(ws);
}

static int64_t count_of(const int64_t *s, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= s[i];
    return n;
}

int main(void)
{
    rng_state = diff_seed(rng_state); /* CPT_SEED: a search by hand */
    const int32_t active = cp_isa_active();
    if (diff_forced_isa_missing())
        return 77;
    convpool_context *ctx[3];
    for (int i = 0; i < 3; i++)
        if (convpool_context_create(i + 1, &ctx[i]) != CONVPOOL_OK)
            fail("context_create", -1);
    int64_t compared = 0, fast_paths = 0, drawn[6] = {0, 0, 0, 0, 0, 0}, drawn_depthwise = 0;
    double worst = 0, worst_backward = 0;
    for (int config = 0; config < CONFIGS + FIXED; config++) {
        tcase t;
        if (config < CONFIGS)
            draw(&t);
        else
            t = fixed[config - CONFIGS];
        int rank = t.rank + 2;
        int64_t wn = count_of(t.ws, rank), xn = count_of(t.xs, rank);
        int64_t mn = t.ws[1] * t.group;
        float *w = malloc((size_t)wn * sizeof *w), *aw = malloc((size_t)wn * sizeof *aw);
        float *x = malloc((size_t)xn * sizeof *x), *ax = malloc((size_t)xn * sizeof *ax);
        float *b = malloc((size_t)mn * sizeof *b), *ab = malloc((size_t)mn * sizeof *ab);
        for (int64_t i = 0; i < wn; i++)
            aw[i] = fabsf(w[i] = (float)(rnd_range(-10000, 10000) / 10000.0));
        for (int64_t i = 0; i < xn; i++)
            ax[i] = fabsf(x[i] = (float)(rnd_range(-10000, 10000) / 10000.0));
        for (int64_t i = 0; i < mn; i++)
            ab[i] = fabsf(b[i] = (float)(rnd_range(-10000, 10000) / 10000.0));
        drawn[t.mode]++;
        convpool_op *ref = create(&t, w, b, CONVPOOL_ISA_SCALAR, config);
        convpool_op *aref = create(&t, aw, ab, CONVPOOL_ISA_SCALAR, config);
        int64_t out[5];
        if (convpool_op_output_shape(ref, t.xs, (size_t)rank, out, 5) != CONVPOOL_OK)
            fail("output_shape", config);
        int64_t yn = count_of(out, rank);
        float *want = malloc((size_t)yn * sizeof *want), *mag = malloc((size_t)yn * sizeof *mag);
        float *got = malloc((size_t)yn * sizeof *got), *again = malloc((size_t)yn * sizeof *again);
        run(ref, ctx[0], &t, x, want, yn, config);
        run(aref, ctx[0], &t, ax, mag, yn, config);
        if (cp_op_enable_backward(ref, w) != CONVPOOL_OK ||
            cp_op_enable_backward(aref, aw) != CONVPOOL_OK)
            fail("cp_op_enable_backward", config);
        for (int32_t isa = CONVPOOL_ISA_AVX2; isa <= active; isa++) {
            convpool_op *op = create(&t, w, b, isa, config);
            if (op->impl == ref->impl)
                fail("the fast path did not take the op", config);
            const char *way = cp_conv_transpose_way(op);
            const int depthwise = strncmp(way, "conv_transpose.depthwise", 24) == 0;
            if (t.mode == 5 && !depthwise)
                fail("a strided depthwise op did not take the depthwise impl", config);
            if (t.mode == 4 && !depthwise && strcmp(way, "depth_to_space") != 0)
                fail("kernel = stride without pads did not go depth to space", config);
            drawn_depthwise += depthwise;
            fast_paths++;
            run(op, ctx[1], &t, x, got, yn, config);
            for (int64_t i = 0; i < yn; i++) {
                double err = fabs((double)got[i] - want[i]) / ((double)mag[i] + 1e-30);
                if (err > worst)
                    worst = err;
                if (!(fabs((double)got[i] - want[i]) <= MAX_REL_ERROR * ((double)mag[i] + 1e-6))) {
                    fprintf(stderr,
                            "config %d isa %d element %lld: got %.9g, reference %.9g "
                            "(magnitude %.9g)\n",
                            config, (int)isa, (long long)i, got[i], want[i], mag[i]);
                    return 1;
                }
            }
            for (int c = 0; c < 3; c += 2) {
                run(op, ctx[c], &t, x, again, yn, config);
                if (memcmp(got, again, (size_t)yn * sizeof *got) != 0)
                    fail("results differ between 2 threads and another count", config);
            }
            compared += yn;
            if (cp_op_enable_backward(op, w) != CONVPOOL_OK)
                fail("cp_op_enable_backward", config);
            backward_check bc = {ref, aref, op, t.xs, (size_t)rank, x, ax, ctx, MAX_REL_ERROR};
            double e = backward_check_run(&bc, (uint64_t)config, "conv_transpose_diff");
            worst_backward = e > worst_backward ? e : worst_backward;
            convpool_op_destroy(op);
        }
        convpool_op_destroy(ref);
        convpool_op_destroy(aref);
        free(w), free(aw), free(x), free(ax), free(b), free(ab);
        free(want), free(mag), free(got), free(again);
    }
    for (int i = 0; i < 3; i++)
        convpool_context_destroy(ctx[i]);
    printf("%d configurations (%lld with stride 1, %lld for stride phases, %lld depth to "
           "space (%d of them fixed, packed tiles), %lld depthwise strided), %lld fast-path runs "
           "(%lld on the depthwise impl), %lld elements compared; worst relative error %.3g "
           "(bound %.1g); 1/2/3 threads bitwise equal\n",
           CONFIGS + FIXED, (long long)drawn[0], (long long)drawn[1], (long long)drawn[4],
           FIXED, (long long)drawn[5], (long long)fast_paths, (long long)drawn_depthwise,
           (long long)compared, worst, MAX_REL_ERROR);
    printf("backward passes (dx on the Conv fast path, dw, db): worst relative error %.3g\n",
           worst_backward);
    return 0;
}
