/*
 * test_conv_diff: randomised differential test of the Conv fast paths.
 *
 * Thousands of random Conv configurations (fixed seed): 1-D/2-D/3-D,
 * groups incl. depthwise and channel multipliers, dilations, strides,
 * asymmetric pads, every auto_pad mode, batch > 1, with and without bias,
 * sizes that leave vector and tile tails. Each runs on every ISA path up
 * to the active one (cp_op_create with that ISA) and is compared with the
 * reference impl (ISA scalar). The error of an output element is measured
 * against the reference run on |x|, |w|, |b| (the sum of the magnitudes of
 * its terms), which bounds float rounding for any summation order.
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
#include "ops/op.h"
#if defined(CP_X86_64)
#include "kernels/x86/conv_x86_im2col.h"
#include "kernels/x86/conv_x86_winograd.h"
#endif
#include "runtime/cpu.h"

#define CONFIGS 5000
#define BACKWARD_EVERY 4
/* float32 rounding over the longest reduction here (< 1000 terms) stays
 * well below this fraction of the sum of the terms' magnitudes */
#define MAX_REL_ERROR 2e-5

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static float rnd_float(void)
{
    return (float)((int64_t)(rnd() % 20001) - 10000) / 10000.0f;
}

typedef struct conv_case {
    int rank;
    int64_t n, c, m, group;
    int64_t in[3], kernel[3], stride[3], dilation[3], pads[6];
    int32_t auto_pad;
    int has_bias;
} conv_case;

static void fail(const char *what)
{
    fprintf(stderr, "test_conv_diff: %s: %s\n", what, convpool_last_error());
    exit(1);
}

static convpool_desc *make_desc(const conv_case *cc)
{
    convpool_desc *d;
    if (convpool_desc_create(CONVPOOL_OP_CONV, cc->rank, &d) != CONVPOOL_OK)
        fail("desc_create");
    if (convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, cc->stride, (size_t)cc->rank) ||
        convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, cc->dilation, (size_t)cc->rank) ||
        convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, cc->group) ||
        convpool_desc_set_int(d, CONVPOOL_ATTR_AUTO_PAD, cc->auto_pad))
        fail("desc_set");
    if (cc->auto_pad == CONVPOOL_AUTO_PAD_NOTSET &&
        convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, cc->pads, 2 * (size_t)cc->rank))
        fail("desc_set pads");
    return d;
}

/* A random case; pointwise (the GEMM path) a quarter of the time. */
static void random_case(conv_case *cc)
{
    memset(cc, 0, sizeof *cc);
    uint32_t r = rnd() % 10;
    cc->rank = r < 2 ? 1 : r < 8 ? 2 : 3;
    int pointwise = rnd() % 4 == 0;
    int64_t max_in = cc->rank == 1 ? 70 : cc->rank == 2 ? 24 : 7;
    int64_t max_k = cc->rank == 3 ? 3 : 5;
    cc->n = rnd_range(1, 3);
    uint32_t kind = rnd() % 6;
    int64_t cpg = rnd_range(1, kind == 5 ? 24 : 6);
    int64_t mpg = rnd_range(1, kind == 4 ? 40 : 20);
    if (kind == 0) { /* depthwise, multiplier 1 */
        cc->group = rnd_range(1, 20);
        cpg = 1;
        mpg = 1;
    } else if (kind == 1) { /* depthwise with a channel multiplier */
        cc->group = rnd_range(1, 8);
        cpg = 1;
        mpg = rnd_range(2, 6);
    } else if (kind == 2) {
        cc->group = rnd_range(2, 4);
    } else {
        cc->group = 1;
    }
    cc->c = cpg * cc->group;
    cc->m = mpg * cc->group;
    for (int i = 0; i < cc->rank; i++) {
        cc->in[i] = rnd_range(1, max_in);
        cc->kernel[i] = pointwise ? 1 : rnd_range(1, max_k);
        cc->stride[i] = pointwise ? 1 : rnd_range(1, 3);
        cc->dilation[i] = rnd() % 3 == 0 ? rnd_range(2, 3) : 1;
        cc->pads[i] = pointwise ? 0 : rnd_range(0, 3);
        cc->pads[cc->rank + i] = pointwise ? 0 : rnd_range(0, 3);
    }
    if (pointwise && rnd() % 2) /* planes past a few GEMM tiles */
        cc->in[cc->rank - 1] = rnd_range(60, 300);
    r = rnd() % 8;
    cc->auto_pad = r < 5 ? CONVPOOL_AUTO_PAD_NOTSET : (int32_t)(r - 4);
    cc->has_bias = rnd() % 4 != 0;
    if (rnd() % 6 == 0) { /* tiny (a few dozen multiply-adds: kernels/conv_tiny.c) */
        cc->n = rnd_range(1, 2);
        cc->group = rnd_range(1, 2);
        cc->c = cc->group * rnd_range(1, 2);
        cc->m = cc->group * rnd_range(1, 2);
        for (int i = 0; i < cc->rank; i++) {
            cc->in[i] = rnd_range(1, cc->rank == 1 ? 12 : 5);
            if (cc->kernel[i] > 3)
                cc->kernel[i] = rnd_range(1, 3);
        }
    }
}

/* The benchmark's shapes, smaller: whole-size tiles, several bands and
 * channel chunks, the stem's stride-2 7x7 on 3 channels, depthwise; and
 * deep layers whose weights outgrow L2. Run first, then the random ones. */
static const conv_case fixed_cases[] = {
    /* rank, n, c, m, group, in, kernel, stride, dilation, pads, auto_pad, bias */
    {2, 1, 3, 64, 1, {46, 50}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, 0, 1},
    {2, 1, 64, 64, 1, {20, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 64, 96, 1, {19, 20}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 128, 160, 1, {14, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 96, 128, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 32, 32, 32, {56, 57}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 48, 48, 48, {56, 55}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 3, 16, 32, 1, {30, 31}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* deep layers on small planes: weights outweigh the input */
    {2, 1, 400, 40, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 0, 1, 1}, 0, 1},
    {2, 2, 600, 20, 2, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 0, 1}, 0, 0},
    /* direct tiles at a row's ends skip taps in the left/right padding:
     * one-pixel rows (both ends at once), two pixels, asymmetric and wide
     * pads, dilation, stride 2 with a 5-wide kernel, groups, rows of
     * several tiles, 1-D and 3-D */
    {2, 1, 8, 20, 1, {5, 1}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 8, 40, 1, {6, 2}, {3, 3}, {1, 1}, {1, 1}, {1, 2, 0, 2}, 0, 1},
    {2, 1, 12, 36, 2, {9, 13}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, 0, 1},
    {2, 1, 16, 48, 1, {11, 15}, {5, 5}, {2, 2}, {1, 1}, {2, 2, 1, 1}, 0, 1},
    {2, 1, 10, 70, 1, {7, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 8, 16, 1, {3, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 9, 33, 1, {4, 7}, {3, 3}, {1, 1}, {1, 1}, {0, 3, 0, 3}, 0, 0},
    {1, 2, 6, 50, 1, {9}, {3}, {1}, {1}, {1, 1}, 0, 1},
    {3, 1, 6, 20, 1, {4, 5, 6}, {3, 3, 3}, {1, 1, 2}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    /* deep layers on small planes: the direct kernel reading the input in
     * place (pads up to the stride), and one band that all output-channel
     * tasks share, packed once by all threads (wider pads; and the row
     * kernel on few input channels) */
    {2, 1, 160, 100, 1, {9, 8}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {3, 1, 40, 50, 1, {4, 5, 6}, {3, 3, 3}, {2, 1, 2}, {1, 2, 1}, {0, 2, 1, 2, 1, 2}, 0, 1},
    {2, 1, 160, 100, 1, {9, 8}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 0, 1},
    {2, 1, 3, 96, 1, {8, 8}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 0, 1},
    /* two-row tiles on short rows (AVX-512, 2 channel vectors): output
     * rows 0 and last paired with their top/bottom taps left out (3 and 2
     * rows, the pair of 2 at both edges), one row at both edges, dilation
     * and stride 2 down H with asymmetric pads, 3-D depths at the edges */
    {2, 1, 20, 32, 1, {3, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 20, 32, 1, {2, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 18, 32, 1, {1, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 24, 32, 1, {9, 7}, {3, 3}, {2, 1}, {2, 1}, {2, 0, 1, 2}, 0, 1},
    {2, 2, 16, 64, 2, {10, 12}, {3, 3}, {1, 2}, {1, 1}, {0, 1, 2, 0}, 0, 0},
    {3, 1, 8, 32, 1, {3, 4, 5}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    /* large planes (a multiple of 4 KiB, the L1 way size, whose channel
     * rows share L1 sets) on the direct path: rows of many tiles, a last
     * channel vector partly used, stride 2 with asymmetric pads, groups
     * and batch, 3-D, many input channels */
    {2, 1, 8, 20, 1, {16, 256}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 16, 40, 1, {32, 32}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 12, 24, 1, {64, 64}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 0, 1}, 0, 0},
    {2, 2, 16, 36, 2, {32, 32}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {3, 1, 6, 20, 1, {2, 32, 32}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    {2, 1, 96, 48, 1, {16, 64}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* output planes a multiple of 1 KiB with short reductions at stride 1
     * and rows of at least 48 pixels: on AVX-512 the row kernel's tall
     * tile runs them instead of the direct one (cp_x86_conv_for): 3x3 on
     * 4 KiB and 1 KiB planes, grouped with batch 2, 7x7, dilation 2 with
     * 21 channels (a partial tall block), no pads, 3-D and 1-D; and at
     * stride 2 and on 32-pixel rows, which stay direct */
    {2, 1, 32, 32, 1, {64, 64}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 32, 40, 1, {16, 48}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 16, 40, 2, {16, 64}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 0},
    {2, 1, 8, 64, 1, {32, 64}, {7, 7}, {1, 1}, {1, 1}, {3, 3, 3, 3}, 0, 1},
    {2, 1, 24, 21, 1, {16, 64}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, 0, 1},
    {2, 1, 16, 24, 1, {18, 66}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {3, 1, 8, 20, 1, {4, 8, 64}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    {1, 2, 32, 48, 1, {1024}, {9}, {1}, {1}, {4, 4}, 0, 1},
    {2, 1, 32, 32, 1, {128, 128}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 16, 40, 1, {32, 32}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* output-channel vectors split into direct tiles of near-equal size
     * (AVX-512: 16 vectors, the last partly used, on tiles of up to 3:
     * 3 3 3 3 2 2) */
    {2, 1, 24, 248, 1, {6, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* the row kernel's tall tile (few input channels, 32 or 40 output
     * channels): rows of several near-equal tiles of whole vectors, and a
     * partial last vector; batch 2 */
    {2, 1, 3, 32, 1, {9, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 4, 40, 1, {6, 100}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* short reductions (at most 64 steps) whose output is at least twice
     * L2 (4 MiB and more, for L2s of up to 2 MiB): the GEMM and row tiles
     * store their vectors in the CPU's store mode (impl_conv_x86.c,
     * X86_CONV_STORE_MODE_MAX_STEPS; the kernel tests run every mode): the
     * tall, GEMM-shaped and narrow row
     * tiles (partial last vectors, batch), a direct op run on the tall
     * tile, the 1x1 GEMM with groups and batch */
    {2, 1, 3, 40, 1, {160, 170}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 3, 24, 1, {150, 150}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 4, 7, 3, 1, {300, 300}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 7, 32, 1, {128, 128}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 32, 48, 1, {150, 150}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 64, 64, 2, {100, 90}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    /* the 1x1 GEMM on input planes a multiple of 1 KiB whose channels
     * outgrow L2 (over 4 MiB): each pixel tile's input copied into the
     * thread's pack first (conv_x86_plan.c, gemm_packs); partial row
     * blocks, groups and batch (and partial pixel tiles on AVX2) */
    {2, 1, 72, 13, 1, {128, 128}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 140, 30, 2, {96, 128}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* the 1x1 GEMM on tiles of half its vectors, packed (conv_x86_plan.c,
     * gemm_tile_pixels), where a group's input outgrows L2 and a tile's
     * channels overfill L1's share at full width on planes a multiple of
     * 1 KiB (AVX-512 with 48 KiB of L1 and 2 MiB of L2: 145 to 288
     * channels): partial row blocks, groups and batch */
    {2, 1, 256, 70, 1, {64, 64}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 400, 26, 2, {48, 64}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    {2, 1, 160, 13, 1, {64, 64}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* the 1x1 GEMM in parts of its input channels, sums carried in y
     * (conv_x86_plan.c, gemm_k_chunk), where a group's input outgrows L2
     * and a full tile overfills L1's share with lines that crowd some of
     * its sets (48 KiB of L1 and 2 MiB of L2: on AVX-512 2 parts of 128
     * channels, 6 of 134 (the last 130), 2 of 130; on AVX2, whose tiles
     * read one line a channel, 3 parts of 267 of the 800): partial row
     * blocks and pixel tiles, batch, groups */
    {2, 1, 256, 70, 1, {56, 57}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 800, 7, 1, {30, 50}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    {2, 1, 520, 18, 2, {56, 40}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* the 1x1 GEMM's long reductions on small planes, every tile packed
     * (conv_x86_plan.c, X86_CONV_GEMM_PACK_MIN_CHANNELS): a one-pixel
     * last tile (7 x 7), planes of whole lines (6 x 8: no head tile),
     * groups of 128 channels, batch */
    {2, 2, 300, 200, 1, {7, 7}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 256, 36, 1, {6, 8}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    {2, 1, 256, 48, 2, {9, 11}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
};

/* Winograd F(2x2, 3x3) (kernels/x86/conv_x86_winograd.h: 3x3, stride 1,
 * one group, at least 16 channels each way, output planes of 400 pixels
 * and more, smaller ones with enough channels), each checked to take that
 * path (and not to with CONVPOOL_WINOGRAD=0): odd and even output sizes
 * (a last tile half outside), pads 0 to 3 each side (even and odd left
 * pads, the input's last columns and rows unread), auto_pad, batches, no
 * bias, channel counts off the GEMM tiles, one tile column, several bands
 * (runs of tiles that start and end inside tile rows, a short last one),
 * rows split with a float past their vectors (every length: test_kernels). */
static const conv_case winograd_cases[] = {
    /* rank, n, c, m, group, in, kernel, stride, dilation, pads, auto_pad, bias */
    {2, 1, 16, 16, 1, {20, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 17, 33, 1, {25, 23}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 40, 24, 1, {30, 31}, {3, 3}, {1, 1}, {1, 1}, {0, 2, 3, 1}, 0, 0},
    {2, 1, 20, 50, 1, {41, 19}, {3, 3}, {1, 1}, {1, 1}, {3, 0, 0, 3}, 0, 1},
    {2, 3, 16, 20, 1, {24, 24}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 24, 16, 1, {27, 26}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_UPPER, 1},
    {2, 1, 16, 24, 1, {26, 27}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_LOWER, 0},
    {2, 1, 16, 16, 1, {400, 2}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 16, 16, 1, {3, 300}, {3, 3}, {1, 1}, {1, 1}, {1, 2, 1, 1}, 0, 1},
    {2, 1, 16, 18, 1, {22, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 3, 2, 0}, 0, 1},
    {2, 1, 130, 140, 1, {60, 58}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 96, 64, 1, {45, 47}, {3, 3}, {1, 1}, {1, 1}, {2, 1, 1, 2}, 0, 1},
    /* rows of 33 columns: one float past the vectors when split */
    {2, 1, 16, 20, 1, {20, 33}, {3, 3}, {1, 1}, {1, 1}, {0, 1, 0, 0}, 0, 1},
    /* small planes with many channels (ResNet's last stage: 7 x 7); with
     * more than one thread their bands run wide (all threads on one band,
     * U larger than half of an L2 of up to 2 MiB), the batch-2 one band by
     * band, the 6 x 9 one with a half tile column and asymmetric pads */
    {2, 1, 256, 256, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 200, 208, 1, {10, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 300, 400, 1, {6, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 0, 1, 2}, 0, 0},
};

/* Convolutions as columns and the 1x1 GEMM
 * (kernels/x86/conv_x86_im2col.h: one group, a stride above 1 or one or
 * two taps, at least 128 reduction steps, output planes of 49 to 784
 * pixels; AVX2), each
 * checked to take that path on AVX2: asymmetric pads, dilation, a stride
 * along one dim only, stride 3, auto_pad, batches, no bias, 1-D and 3-D,
 * reductions off the GEMM's tiles, a last tile of one pixel (7 x 7: the
 * last two tiles share their vectors); stride 2 along W (rows split into
 * even and odd columns) on odd and even widths, negative and dilated
 * offsets; stride 1 with 2x1 and 1x2 kernels (a dx's stride phases),
 * dilated, 1-D and 3-D, and a padded 1x1. */
static const conv_case im2col_cases[] = {
    /* rank, n, c, m, group, in, kernel, stride, dilation, pads, auto_pad, bias */
    {2, 2, 128, 40, 1, {14, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 64, 48, 1, {28, 28}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 40, 30, 1, {25, 27}, {3, 3}, {2, 2}, {2, 1}, {2, 0, 1, 3}, 0, 0},
    {2, 1, 32, 40, 1, {10, 30}, {3, 3}, {1, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 20, 16, 1, {40, 40}, {3, 3}, {3, 3}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 32, 24, 1, {23, 21}, {4, 4}, {2, 2}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_UPPER, 1},
    {1, 1, 64, 20, 1, {300}, {5}, {2}, {1}, {2, 2}, 0, 1},
    {3, 1, 16, 12, 1, {8, 10, 12}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    {2, 1, 48, 20, 1, {15, 29}, {3, 4}, {2, 2}, {1, 3}, {1, 3, 0, 2}, 0, 1},
    {2, 1, 36, 16, 1, {12, 24}, {2, 5}, {1, 2}, {1, 1}, {0, 0, 1, 0}, 0, 1},
    {2, 2, 256, 40, 1, {7, 7}, {2, 1}, {1, 1}, {1, 1}, {0, 0, 1, 0}, 0, 1},
    {2, 1, 80, 36, 1, {9, 10}, {1, 2}, {1, 1}, {1, 2}, {1, 0, 0, 1}, 0, 0},
    {1, 1, 64, 20, 1, {300}, {2}, {1}, {1}, {0, 1}, 0, 1},
    {3, 1, 80, 12, 1, {4, 6, 8}, {1, 1, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1, 0, 0, 0}, 0, 1},
    {2, 1, 160, 28, 1, {10, 10}, {1, 1}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
};

/* The weight gradient's four x86 paths and their variants, each run with
 * the backward passes (besides every BACKWARD_EVERY-th case above):
 * depthwise on planes (one input channel per group, 1-D/2-D, W stride 1
 * or 2, kernels up to 8 wide) on the depthwise path; planes of 256 pixels
 * and more on groups of rows that fill vectors (16, 30, 32, 64, 70 rows)
 * and 64 columns and more (C/group * taps) on the outer path (AVX-512;
 * the lanes path on AVX2) (partial
 * slabs and column tiles, chunks of a's rows paused between them and
 * between batch items); long reductions on few rows (at most 6 a group, or
 * 9, which fills no slab), on fewer columns, and batches of smaller planes
 * on the lanes path (one group: a layout shared by all
 * tasks, tiles rows- or columns-inner, batches in blocks of tiles paused
 * between batch items; several groups and the depthwise ops the depthwise
 * path leaves: staged per task; 1x1 stride 1 on planes of whole vectors:
 * read in place), short ones on many channels on the GEMM path; every one
 * with rows and columns that leave partial tiles (M, C*K not multiples of
 * 4, 6, 16). */
static const conv_case backward_cases[] = {
    /* rank, n, c, m, group, in, kernel, stride, dilation, pads, auto_pad, bias */
    /* outer: strides, dilations, asymmetric pads, 1-D, 3-D, groups, auto_pad,
     * batches (at least 64 columns a group: C/group * taps); the stem's
     * 147 columns and a 1x1's 100, tiles of fewer columns than a slab's
     * widest */
    {2, 1, 57, 16, 1, {37, 41}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 35, 32, 1, {40, 33}, {3, 5}, {2, 2}, {1, 2}, {0, 2, 3, 1}, 0, 1},
    {2, 1, 11, 64, 1, {45, 46}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, 0, 0},
    {2, 1, 58, 30, 1, {50, 31}, {3, 3}, {3, 1}, {2, 3}, {2, 0, 1, 2}, 0, 1},
    {1, 2, 103, 16, 1, {600}, {5}, {2}, {3}, {4, 1}, 0, 1},
    {3, 2, 19, 16, 1, {8, 14, 16}, {3, 3, 3}, {1, 1, 1}, {1, 1, 2}, {1, 0, 1, 1, 2, 2}, 0, 1},
    {2, 1, 114, 32, 2, {20, 30}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_UPPER, 1},
    {2, 1, 520, 70, 1, {16, 20}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 3, 64, 1, {41, 44}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 2, 3}, 0, 1},
    {2, 2, 100, 61, 1, {20, 24}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* outer, 1x1 at stride 1 with fewer input than output channels: x
     * transposed, dy's channels the columns, db summed by the first slab's
     * tasks chunk by chunk (a partial slab; groups and a batch; two slabs
     * and a batch) */
    {2, 1, 30, 300, 1, {16, 20}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 32, 600, 2, {16, 17}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    {2, 2, 80, 260, 1, {16, 17}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* ... and x's rows in chunks (128 rows of 16 pixels x 64 channels on
     * 1 MiB of L2) */
    {2, 1, 60, 256, 1, {136, 16}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* outer, a's rows in chunks (a chunk's slab in half of L2: 2048 pixels
     * of 64 rows on 1 MiB, 4096 on 2 MiB) */
    {2, 1, 57, 64, 1, {130, 32}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* lanes, shared layout: strides, dilations, asymmetric pads */
    {2, 1, 7, 5, 1, {37, 41}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 5, 6, 1, {40, 33}, {3, 5}, {2, 2}, {1, 2}, {0, 2, 3, 1}, 0, 1},
    {2, 1, 3, 5, 1, {45, 46}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, 0, 1},
    {2, 1, 6, 5, 1, {30, 31}, {3, 3}, {3, 2}, {2, 3}, {2, 0, 1, 2}, 0, 0},
    {1, 3, 5, 6, 1, {300}, {5}, {2}, {3}, {4, 1}, 0, 1},
    {3, 2, 4, 6, 1, {6, 12, 13}, {3, 3, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 1, 2, 2}, 0, 1},
    {2, 1, 6, 5, 1, {28, 28}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_UPPER, 1},
    {2, 1, 5, 6, 1, {27, 29}, {2, 3}, {2, 1}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_LOWER, 1},
    /* lanes, a batch in blocks of tiles: several blocks of rows (planes
     * below the outer path's), and of columns */
    {2, 3, 6, 70, 1, {12, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 48, 3, 1, {20, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* lanes, in place (1x1 stride 1, planes of whole vectors), many rows
     * or many columns */
    {2, 4, 9, 70, 1, {8, 16}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 1, 70, 5, 1, {32, 16}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* lanes, 1x1 reductions longer than a chunk (chunk by chunk of each
     * batch item): laid out or in place, batch of 1 or 2, 1-D */
    {2, 1, 40, 5, 1, {33, 35}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {2, 2, 70, 9, 1, {32, 48}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    {1, 1, 9, 6, 1, {1300}, {1}, {1}, {1}, {0, 0}, 0, 0},
    /* depthwise: strides 1 and 2, batch, asymmetric pads, a channel
     * multiplier with dilation and pads past a vector (kernel rows in
     * blocks), 1-D; an 8-wide kernel at W stride 2 and dilation 2; rows
     * whose every kernel row reads padding; rows all edge vectors (pads
     * wider than a vector) */
    {2, 1, 13, 13, 13, {40, 37}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 6, 6, 6, {33, 35}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 0, 1}, 0, 1},
    {2, 1, 4, 12, 4, {30, 30}, {5, 5}, {1, 1}, {2, 2}, {4, 4, 4, 4}, 0, 1},
    {1, 1, 8, 8, 8, {500}, {3}, {1}, {1}, {1, 1}, 0, 1},
    {2, 2, 5, 5, 5, {20, 70}, {2, 8}, {1, 2}, {3, 2}, {1, 7, 2, 3}, 0, 1},
    {2, 1, 4, 8, 4, {5, 40}, {3, 3}, {1, 2}, {1, 1}, {4, 1, 4, 1}, 0, 1},
    {2, 1, 3, 3, 3, {9, 10}, {3, 7}, {2, 1}, {1, 3}, {2, 20, 1, 20}, 0, 0},
    /* lanes, staged per group: groups, and depthwise the depthwise path
     * leaves (3-D, W stride 3, kernels 9 wide) */
    {2, 1, 9, 15, 3, {36, 34}, {3, 3}, {1, 2}, {1, 1}, {1, 1, 1, 1}, 0, 0},
    {3, 1, 5, 5, 5, {8, 14, 16}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 0, 1},
    {2, 1, 6, 6, 6, {30, 31}, {3, 3}, {3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 6, 6, 6, {12, 40}, {1, 9}, {1, 1}, {1, 1}, {0, 4, 0, 4}, 0, 1},
    /* dx on ConvTranspose's GEMM way with the columns in bands of input
     * rows (more than half of a 1 MiB L2; the first three also of 2 MiB):
     * a ring of rows that wraps inside a band, a segment of output rows
     * per thread at 2 and 3 threads; the stem's 7x7 stride 2, stride 3
     * and dilation 2 down H with asymmetric pads, groups and a batch,
     * auto_pad (pads per run) */
    {2, 1, 3, 32, 1, {200, 96}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, 0, 1},
    {2, 1, 6, 24, 1, {300, 70}, {5, 4}, {3, 2}, {2, 1}, {4, 1, 2, 3}, 0, 0},
    {2, 2, 4, 8, 2, {150, 60}, {7, 7}, {2, 2}, {1, 1}, {2, 3, 3, 2}, 0, 1},
    {2, 1, 3, 16, 1, {160, 64}, {5, 5}, {2, 2}, {1, 1}, {0, 0, 0, 0}, CONVPOOL_AUTO_PAD_SAME_LOWER, 1},
    /* ... and dy's planes a multiple of 1 KiB, its channels over 4 MiB:
     * the inner GEMM's pixel tiles packed (bands of 2 x 128 pixels, and
     * partial pixel tiles on AVX2) */
    {2, 1, 3, 72, 1, {256, 256}, {4, 4}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    /* the same way in 3-D, W stride 2: 25 rows of taps reach an output row,
     * more than the scatter hands to its kernel at once */
    {3, 1, 2, 6, 1, {9, 8, 42}, {5, 5, 4}, {1, 1, 2}, {1, 1, 1}, {2, 1, 2, 2, 1, 1}, 0, 1},
    /* GEMM: short reductions on many rows, partial row and column tiles */
    {2, 1, 30, 45, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 1, 40, 33, 1, {14, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 17, 23, 1, {5, 6}, {3, 2}, {1, 2}, {2, 1}, {2, 0, 1, 1}, 0, 1},
    {2, 1, 24, 40, 2, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {1, 1, 20, 37, 1, {9}, {4}, {2}, {2}, {3, 1}, 0, 1},
    {3, 1, 12, 22, 1, {3, 4, 5}, {3, 3, 3}, {1, 2, 1}, {1, 1, 1}, {1, 1, 0, 1, 1, 2}, 0, 1},
    {2, 3, 19, 14, 1, {4, 4}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 1},
    /* GEMM, rows of dw a whole number of vectors (C/group * taps = 288):
     * the panels start on dw's lines, the first after a lead where dw
     * starts off one (the buffers are at every place in a line) */
    {2, 1, 32, 45, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {2, 2, 64, 22, 2, {8, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0, 0},
};

#if defined(CP_X86_64)
typedef int (*path_rule)(const x86_conv *xc, const cp_geom *g);
#else
typedef void *path_rule;
#endif

/* Whether a run of op on this input takes the x86 path whose rule is
 * `takes` (cp_x86_wino_takes, cp_x86_im2col_takes). */
static int takes_path(const convpool_op *op, const int64_t *shape, size_t rank, path_rule takes)
{
#if defined(CP_X86_64)
    cp_geom g;
    if (strncmp(op->impl->name, "conv.avx", 8) != 0 ||
        cp_geom_resolve(op, shape, rank, &g) != CONVPOOL_OK)
        return 0;
    return takes(op->packed, &g);
#else
    (void)op, (void)shape, (void)rank, (void)takes;
    return 0;
#endif
}

#if defined(CP_X86_64)
#define WINOGRAD_RULE cp_x86_wino_takes
#define IM2COL_RULE   cp_x86_im2col_takes
#else
#define WINOGRAD_RULE NULL
#define IM2COL_RULE   NULL
#endif

static convpool_op *create(const conv_case *cc, const float *w, const float *b, int32_t isa)
{
    convpool_desc *d = make_desc(cc);
    int64_t ws[5] = {cc->m, cc->c / cc->group};
    for (int i = 0; i < cc->rank; i++)
        ws[2 + i] = cc->kernel[i];
    convpool_op *op = NULL;
    convpool_status st = cp_op_create(d, ws, (size_t)cc->rank + 2, w, cc->has_bias ? b : NULL,
                                      isa, &op);
    convpool_desc_destroy(d);
    if (st != CONVPOOL_OK)
        fail("cp_op_create");
    return op;
}

static void run(convpool_op *op, convpool_context *ctx, const int64_t *shape, size_t rank,
                const float *x, float *y, size_t count)
{
    /* the caller-workspace path: the library's own allocation is covered
     * by test_no_alloc */
    size_t bytes = 0;
    if (convpool_op_workspace_size(op, ctx, shape, rank, &bytes) != CONVPOOL_OK)
        fail("workspace_size");
    void *ws = bytes ? malloc(bytes) : NULL;
    if (convpool_op_run_ex(op, ctx, shape, rank, x, y, count, NULL, ws, bytes) != CONVPOOL_OK)
        fail("run");
    free(ws);
}

static float *random_floats(size_t count)
{
    float *p = malloc((count ? count : 1) * sizeof(float));
    if (!p)
        fail("malloc");
    for (size_t i = 0; i < count; i++)
        p[i] = rnd_float();
    return p;
}

static float *abs_copy(const float *p, size_t count)
{
    float *q = malloc((count ? count : 1) * sizeof(float));
    if (!q)
        fail("malloc");
    for (size_t i = 0; i < count; i++)
        q[i] = fabsf(p[i]);
    return q;
}

int main(void)
{
    rng_state = diff_seed(rng_state); /* CPT_SEED: a search by hand */
    const int32_t active = cp_isa_active();
    if (diff_forced_isa_missing())
        return 77;
    /* the cache sizes the x86 plans are sized from: reported or defaulted,
     * never zero */
    const cp_cache_info *cache = cp_cache();
    printf("caches: L1d %lld bytes %lld-way, L2 %lld bytes\n", (long long)cache->l1d_bytes,
           (long long)cache->l1d_ways, (long long)cache->l2_bytes);
    if (cache->l1d_bytes < 4096 || cache->l1d_ways < 1 || cache->l2_bytes < cache->l1d_bytes ||
        cache->l1d_bytes % cache->l1d_ways != 0)
        fail("cp_cache: implausible cache sizes");
    convpool_context *ctx;
    if (convpool_context_create(2, &ctx) != CONVPOOL_OK)
        fail("context_create");
    convpool_context *bctx[3]; /* backward passes: 1, 2, 3 threads */
    for (int t = 0; t < 3; t++)
        if (convpool_context_create(t + 1, &bctx[t]) != CONVPOOL_OK)
            fail("context_create");
    double worst_backward = 0;
    long backward_runs = 0;

    double worst[3] = {0, 0, 0};
    long runs[3] = {0, 0, 0};
    long fast_runs[3] = {0, 0, 0};
    int done = 0;
    const int forward_fixed = (int)(sizeof fixed_cases / sizeof fixed_cases[0]);
    const int winograd_end = forward_fixed + (int)(sizeof winograd_cases / sizeof winograd_cases[0]);
    const int im2col_end = winograd_end + (int)(sizeof im2col_cases / sizeof im2col_cases[0]);
    const int fixed = im2col_end + (int)(sizeof backward_cases / sizeof backward_cases[0]);
    long im2col_runs = 0;
    long winograd_runs = 0;
    /* CONVPOOL_WINOGRAD=0: no op takes it */
    const char *winograd_env = getenv("CONVPOOL_WINOGRAD");
    const int winograd_on = !(winograd_env && strcmp(winograd_env, "0") == 0);
    while (done < CONFIGS + fixed) {
        conv_case cc;
        if (done < forward_fixed)
            memcpy(&cc, &fixed_cases[done], sizeof cc);
        else if (done < winograd_end)
            memcpy(&cc, &winograd_cases[done - forward_fixed], sizeof cc);
        else if (done < im2col_end)
            memcpy(&cc, &im2col_cases[done - winograd_end], sizeof cc);
        else if (done < fixed)
            memcpy(&cc, &backward_cases[done - im2col_end], sizeof cc);
        else
            random_case(&cc);
        int64_t ws[5] = {cc.m, cc.c / cc.group};
        int64_t wcount = cc.m * (cc.c / cc.group), xcount = cc.n * cc.c;
        for (int i = 0; i < cc.rank; i++) {
            ws[2 + i] = cc.kernel[i];
            wcount *= cc.kernel[i];
            xcount *= cc.in[i];
        }
        int64_t shape[5] = {cc.n, cc.c};
        for (int i = 0; i < cc.rank; i++)
            shape[2 + i] = cc.in[i];
        size_t rank = (size_t)cc.rank + 2;

        float *w = random_floats((size_t)wcount), *b = random_floats((size_t)cc.m);
        convpool_op *ref = create(&cc, w, b, CONVPOOL_ISA_SCALAR);
        int64_t out_shape[5];
        if (convpool_op_output_shape(ref, shape, rank, out_shape, 5) != CONVPOOL_OK) {
            convpool_op_destroy(ref); /* kernel larger than the padded input */
            free(w);
            free(b);
            continue;
        }
        int64_t ycount = 1;
        for (size_t i = 0; i < rank; i++)
            ycount *= out_shape[i];
        float *x = random_floats((size_t)xcount);
        float *y_ref = malloc((size_t)ycount * sizeof(float));
        float *y_mag = malloc((size_t)ycount * sizeof(float));
        float *y = malloc((size_t)ycount * sizeof(float));
        float *xa = abs_copy(x, (size_t)xcount), *wa = abs_copy(w, (size_t)wcount);
        float *ba = abs_copy(b, (size_t)cc.m);
        if (!y_ref || !y_mag || !y)
            fail("malloc");
        run(ref, ctx, shape, rank, x, y_ref, (size_t)ycount);
        convpool_op *mag = create(&cc, wa, ba, CONVPOOL_ISA_SCALAR);
        run(mag, ctx, shape, rank, xa, y_mag, (size_t)ycount);
        /* every BACKWARD_EVERY-th configuration also checks the backward passes */
        const int backward =
            done % BACKWARD_EVERY == 0 || (done >= winograd_end && done < fixed);
        if (backward && (cp_op_enable_backward(ref, w) != CONVPOOL_OK ||
                         cp_op_enable_backward(mag, wa) != CONVPOOL_OK))
            fail("cp_op_enable_backward");

        for (int32_t isa = CONVPOOL_ISA_AVX2; isa <= active + 1; isa++) {
            /* isa = active + 1 stands for the public entry point */
            convpool_op *op = NULL;
            if (isa <= active) {
                op = create(&cc, w, b, isa);
            } else {
                convpool_desc *d = make_desc(&cc);
                if (convpool_conv_create(d, ws, rank, w, cc.has_bias ? b : NULL, &op))
                    fail("convpool_conv_create");
                convpool_desc_destroy(d);
            }
            int slot = isa <= active ? isa : 0;
            if (strcmp(op->impl->name, "conv.ref") != 0)
                fast_runs[slot]++;
            for (int64_t i = 0; i < ycount; i++)
                y[i] = NAN;
            run(op, ctx, shape, rank, x, y, (size_t)ycount);
            if (done >= forward_fixed && done < winograd_end && isa <= active &&
                takes_path(op, shape, rank, WINOGRAD_RULE) != winograd_on) {
                fprintf(stderr, "Winograd case %d on %s: %s the Winograd path\n",
                        done - forward_fixed, op->impl->name, winograd_on ? "not on" : "on");
                return 1;
            }
            winograd_runs += takes_path(op, shape, rank, WINOGRAD_RULE);
            if (done >= winograd_end && done < im2col_end && isa == CONVPOOL_ISA_AVX2 && isa <= active &&
                !takes_path(op, shape, rank, IM2COL_RULE)) {
                fprintf(stderr, "im2col case %d on %s: not on the im2col path\n",
                        done - winograd_end, op->impl->name);
                return 1;
            }
            im2col_runs += takes_path(op, shape, rank, IM2COL_RULE);
            for (int64_t i = 0; i < ycount; i++) {
                double err = fabs((double)y[i] - y_ref[i]) / ((double)y_mag[i] + 1e-30);
                if (!(err <= MAX_REL_ERROR)) {
                    fprintf(stderr,
                            "MISMATCH %s: rank %d N %lld C %lld M %lld group %lld in %lld %lld "
                            "%lld k %lld %lld %lld s %lld %lld %lld d %lld %lld %lld pads "
                            "%lld %lld %lld %lld %lld %lld auto_pad %d bias %d: y[%lld] = %g, "
                            "reference %g\n",
                            op->impl->name, cc.rank, (long long)cc.n, (long long)cc.c,
                            (long long)cc.m, (long long)cc.group, (long long)cc.in[0],
                            (long long)cc.in[1], (long long)cc.in[2], (long long)cc.kernel[0],
                            (long long)cc.kernel[1], (long long)cc.kernel[2],
                            (long long)cc.stride[0], (long long)cc.stride[1],
                            (long long)cc.stride[2], (long long)cc.dilation[0],
                            (long long)cc.dilation[1], (long long)cc.dilation[2],
                            (long long)cc.pads[0], (long long)cc.pads[1], (long long)cc.pads[2],
                            (long long)cc.pads[3], (long long)cc.pads[4], (long long)cc.pads[5],
                            cc.auto_pad, cc.has_bias, (long long)i, y[i], y_ref[i]);
                    return 1;
                }
                if (err > worst[slot])
                    worst[slot] = err;
            }
            runs[slot]++;
            if (backward && isa <= active) {
                if (cp_op_enable_backward(op, w) != CONVPOOL_OK)
                    fail("cp_op_enable_backward");
                if (isa >= CONVPOOL_ISA_AVX2 && strstr(op->backward->name, ".ref")) {
                    fprintf(stderr, "case %d: the backward passes fell back to %s\n", done,
                            op->backward->name);
                    return 1;
                }
                backward_check bc = {ref, mag, op, shape, rank, x, xa, bctx, MAX_REL_ERROR};
                double e = backward_check_run(&bc, (uint64_t)done, "conv_diff");
                worst_backward = e > worst_backward ? e : worst_backward;
                backward_runs++;
            }
            convpool_op_destroy(op);
        }
        convpool_op_destroy(ref);
        convpool_op_destroy(mag);
        free(w);
        free(b);
        free(x);
        free(xa);
        free(wa);
        free(ba);
        free(y_ref);
        free(y_mag);
        free(y);
        done++;
    }
    static const char *names[] = {"public API", "avx2", "avx512"};
    for (int s = 0; s < 3; s++)
        if (runs[s])
            printf("%-10s %ld configurations (%ld on a fast path), max relative error %.3g\n",
                   names[s], runs[s], fast_runs[s], worst[s]);
    for (int32_t isa = CONVPOOL_ISA_AVX2; isa <= active; isa++)
        if (fast_runs[isa] != runs[isa]) {
            fprintf(stderr, "%s: %ld configurations fell back to the reference\n", names[isa],
                    runs[isa] - fast_runs[isa]);
            return 1;
        }
    printf("Winograd F(2x2, 3x3): %ld runs\n", winograd_runs);
    printf("im2col and the 1x1 GEMM: %ld runs\n", im2col_runs);
    printf("backward passes: %ld fast-path runs, max relative error %.3g\n", backward_runs,
           worst_backward);
    convpool_context_destroy(ctx);
    for (int t = 0; t < 3; t++)
        convpool_context_destroy(bctx[t]);
    return 0;
}
