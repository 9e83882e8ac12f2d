/*
 * test_determinism: outputs are bitwise identical whatever the thread
 * count and wherever the caller's buffers start. Conv on each algorithm and on shapes that split into bands,
 * channel chunks and batch, and every pool kind (MaxPool with Indices,
 * LpPool at p = 1, 2 and another p),
 * run on contexts of 1, 2 and 3 threads on every ISA path up to the active
 * one (and through the public entry points); outputs (and Indices) of the
 * 2- and 3-thread runs must equal the 1-thread run byte for byte. The same
 * holds for the backward passes: dx of every case (MaxPool from Indices and
 * from x), dw and db of the convolutions. On the AVX2 and AVX-512 paths
 * each forward run, and each convolution's dx, is also made on 1 thread
 * with x and y (dy and dx) copied to 16 and 36 bytes past a 64-byte line
 * (the GEMM places its pixel tiles by the input's alignment) and must
 * equal the run on line-aligned buffers.
 *
 * Exit 77 (skip) when CONVPOOL_ISA names a path this CPU lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "diff_setup.h"
#include "ops/op.h"
#include "runtime/cpu.h"

typedef struct det_case {
    const char *name;
    int32_t kind, rank;
    int64_t shape[5];
    int64_t weight_shape[5];
    int64_t kernel[3], strides[3], dilations[3], pads[6];
    int64_t group; /* Conv's group; LpPool's p */
    int32_t ceil_mode, count_include_pad;
} det_case;

static const det_case cases[] = {
    /* x86: Winograd F(2x2, 3x3), bands of tile rows taken by whole tasks
     * (13 here; the batch-2 case bands that start and end inside tile rows) */
    {"conv 3x3 64->64 56x56", CONVPOOL_OP_CONV, 2, {1, 64, 56, 56}, {64, 64, 3, 3}, {0}, {1, 1},
     {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    {"conv 3x3 40->36 batch 2 Winograd", CONVPOOL_OP_CONV, 2, {2, 40, 45, 47}, {36, 40, 3, 3},
     {0}, {1, 1}, {1, 1}, {2, 1, 1, 2}, 1, 0, 0},
    /* ... and bands that shrink with the thread count (2, 4, 6 of them) */
    {"conv 3x3 64->48 20x20 Winograd", CONVPOOL_OP_CONV, 2, {1, 64, 20, 20}, {48, 64, 3, 3},
     {0}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    /* ... and a small plane whose bands run wide above 1 thread (all the
     * threads on one band) */
    {"conv 3x3 256->256 7x7 Winograd", CONVPOOL_OP_CONV, 2, {1, 256, 7, 7}, {256, 256, 3, 3},
     {0}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    /* x86: a 1x1 GEMM's long reduction on a small plane, every pixel tile
     * packed (the last of one pixel) */
    {"conv 1x1 256->96 7x7 batch 2", CONVPOOL_OP_CONV, 2, {2, 256, 7, 7}, {96, 256, 1, 1}, {0},
     {1, 1}, {1, 1}, {0}, 1, 0, 0},
    /* x86 (AVX2): a strided convolution as columns and the 1x1 GEMM */
    {"conv 3x3 s2 64->48 14x14 out im2col", CONVPOOL_OP_CONV, 2, {2, 64, 28, 28},
     {48, 64, 3, 3}, {0}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    {"conv 1x1 64->72 batch 2", CONVPOOL_OP_CONV, 2, {2, 64, 30, 31}, {72, 64, 1, 1}, {0},
     {1, 1}, {1, 1}, {0}, 1, 0, 0},
    /* planes of whole lines (560 pixels): off a line, a head tile first */
    {"conv 1x1 48->40 grouped batch 2", CONVPOOL_OP_CONV, 2, {2, 48, 20, 28}, {40, 24, 1, 1},
     {0}, {1, 1}, {1, 1}, {0}, 2, 0, 0},
    /* dw on x86: the outer path with its operands swapped, db summed by
     * chunks of rows, and slabs narrower at 2 threads than at 1 */
    {"conv 1x1 64->256 70x64 batch 2", CONVPOOL_OP_CONV, 2, {2, 64, 70, 64}, {256, 64, 1, 1},
     {0}, {1, 1}, {1, 1}, {0}, 1, 0, 0},
    {"conv 3x3 s2 128->96 7x7 out", CONVPOOL_OP_CONV, 2, {1, 128, 14, 14}, {96, 128, 3, 3},
     {0}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    {"conv stem 7x7 s2", CONVPOOL_OP_CONV, 2, {1, 3, 64, 64}, {32, 3, 7, 7}, {0}, {2, 2},
     {1, 1}, {3, 3, 3, 3}, 1, 0, 0},
    /* dx on x86: the GEMM way's columns in bands, one segment of rows per
     * thread: at 2 threads a pair (down, up) meeting where their claims
     * meet, and its seam; at 3 a pair and a segment after it that shares
     * input rows with the pair */
    {"conv stem 7x7 s2 160x160", CONVPOOL_OP_CONV, 2, {1, 3, 160, 160}, {32, 3, 7, 7}, {0},
     {2, 2}, {1, 1}, {3, 3, 3, 3}, 1, 0, 0},
    {"conv depthwise s2", CONVPOOL_OP_CONV, 2, {1, 40, 40, 40}, {40, 1, 3, 3}, {0}, {2, 2},
     {1, 1}, {1, 1, 1, 1}, 40, 0, 0},
    {"conv depthwise dilated x2", CONVPOOL_OP_CONV, 2, {2, 8, 33, 35}, {16, 1, 3, 3}, {0},
     {1, 1}, {2, 2}, {2, 1, 2, 3}, 8, 0, 0},
    {"conv grouped dilated", CONVPOOL_OP_CONV, 2, {1, 24, 29, 27}, {36, 8, 3, 3}, {0}, {1, 2},
     {2, 1}, {2, 0, 1, 3}, 3, 0, 0},
    {"conv 3x3 32->48 64x64", CONVPOOL_OP_CONV, 2, {1, 32, 64, 64},
     {48, 32, 3, 3}, {0}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    /* AVX-512: the row kernel's tall tile on 4 KiB output planes */
    {"conv 3x3 16->40 grouped 16x64 batch 2", CONVPOOL_OP_CONV, 2, {2, 16, 16, 64},
     {40, 8, 3, 3}, {0}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 2, 0, 0},
    {"conv 3-D", CONVPOOL_OP_CONV, 3, {1, 6, 9, 10, 11}, {20, 6, 3, 3, 3}, {0}, {1, 1, 1},
     {1, 1, 1}, {1, 1, 1, 1, 1, 1}, 1, 0, 0},
    {"conv 1-D", CONVPOOL_OP_CONV, 1, {3, 10, 301}, {50, 10, 5}, {0}, {1}, {1}, {2, 2}, 1, 0,
     0},
    {"maxpool 3x3 s2 ceil", CONVPOOL_OP_MAX_POOL, 2, {2, 16, 33, 33}, {0}, {3, 3}, {2, 2},
     {1, 1}, {1, 1, 1, 1}, 1, 1, 0},
    {"averagepool 3x3 pad", CONVPOOL_OP_AVERAGE_POOL, 2, {1, 32, 28, 28}, {0}, {3, 3},
     {1, 1}, {1, 1}, {1, 1, 1, 1}, 1, 0, 0},
    {"averagepool count pad", CONVPOOL_OP_AVERAGE_POOL, 2, {1, 16, 20, 20}, {0}, {2, 2},
     {2, 2}, {1, 1}, {1, 0, 0, 1}, 1, 1, 1},
    {"globalmaxpool", CONVPOOL_OP_GLOBAL_MAX_POOL, 2, {2, 256, 9, 9}, {0}, {0}, {0}, {0}, {0},
     1, 0, 0},
    {"globalaveragepool", CONVPOOL_OP_GLOBAL_AVERAGE_POOL, 2, {2, 256, 9, 9}, {0}, {0}, {0},
     {0}, {0}, 1, 0, 0},
    {"lppool p1 3x3 s2 ceil", CONVPOOL_OP_LP_POOL, 2, {2, 16, 33, 33}, {0}, {3, 3}, {2, 2},
     {1, 1}, {1, 1, 1, 1}, 1, 1, 0},
    {"lppool p2 2x2 s2", CONVPOOL_OP_LP_POOL, 2, {1, 32, 56, 56}, {0}, {2, 2}, {2, 2}, {1, 1},
     {0}, 2, 0, 0},
    {"lppool p3 3-D dilated", CONVPOOL_OP_LP_POOL, 3, {1, 8, 6, 20, 21}, {0}, {2, 3, 3},
     {1, 2, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 1}, 3, 0, 0},
    {"globallppool p2", CONVPOOL_OP_GLOBAL_LP_POOL, 2, {2, 256, 9, 9}, {0}, {0}, {0}, {0}, {0},
     2, 0, 0},
    {"globallppool p5", CONVPOOL_OP_GLOBAL_LP_POOL, 1, {2, 40, 100}, {0}, {0}, {0}, {0}, {0}, 5,
     0, 0},
};

static void check(convpool_status st, const char *what)
{
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "test_determinism: %s: %s\n", what, convpool_last_error());
        exit(1);
    }
}

static int64_t product(const int64_t *v, size_t n)
{
    int64_t p = 1;
    for (size_t i = 0; i < n; i++)
        p *= v[i];
    return p;
}

/* isa < 0: the public create functions (active path) */
static convpool_op *create(const det_case *c, int32_t isa)
{
    convpool_desc *d;
    size_t rank = (size_t)c->rank;
    check(convpool_desc_create(c->kind, c->rank, &d), "desc_create");
    int global = c->kind == CONVPOOL_OP_GLOBAL_MAX_POOL ||
                 c->kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
                 c->kind == CONVPOOL_OP_GLOBAL_LP_POOL;
    if (c->kind == CONVPOOL_OP_LP_POOL || c->kind == CONVPOOL_OP_GLOBAL_LP_POOL)
        check(convpool_desc_set_int(d, CONVPOOL_ATTR_P, c->group), "p");
    if (!global) {
        check(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, c->strides, rank), "strides");
        check(convpool_desc_set_ints(d, CONVPOOL_ATTR_DILATIONS, c->dilations, rank),
              "dilations");
        check(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, c->pads, 2 * rank), "pads");
    }
    convpool_op *op = NULL;
    if (c->kind == CONVPOOL_OP_CONV) {
        check(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, c->group), "group");
        size_t wc = (size_t)product(c->weight_shape, rank + 2);
        float *w = malloc(wc * sizeof(float)), *b = malloc((size_t)c->weight_shape[0] * 4);
        for (size_t i = 0; i < wc; i++)
            w[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
        for (int64_t i = 0; i < c->weight_shape[0]; i++)
            b[i] = (float)i / 7.0f;
        if (isa < 0)
            check(convpool_conv_create_ex(d, c->weight_shape, rank + 2, w, b,
                                          CONVPOOL_CREATE_BACKWARD, &op),
                  c->name);
        else {
            check(cp_op_create(d, c->weight_shape, rank + 2, w, b, isa, &op), c->name);
            check(cp_op_enable_backward(op, w), c->name);
        }
        free(w);
        free(b);
    } else {
        if (!global) {
            check(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, c->kernel, rank),
                  "kernel_shape");
            check(convpool_desc_set_int(d, CONVPOOL_ATTR_CEIL_MODE, c->ceil_mode), "ceil");
            if (c->kind == CONVPOOL_OP_AVERAGE_POOL)
                check(convpool_desc_set_int(d, CONVPOOL_ATTR_COUNT_INCLUDE_PAD,
                                            c->count_include_pad), "count_include_pad");
        }
        if (isa < 0)
            check(convpool_pool_create(d, &op), c->name);
        else
            check(cp_op_create(d, NULL, 0, NULL, NULL, isa, &op), c->name);
    }
    convpool_desc_destroy(d);
    return op;
}

/* Further dx runs of a convolution on 2 and 3 threads. */
#define DX_REPEATS 6

/* Backward passes of op on 1, 2, 3 threads: dx (MaxPool also from the
 * Indices of a forward run), and dw, db for a convolution. */
static int backward_differs(const det_case *c, const convpool_op *op, convpool_context *ctx[3],
                            const float *x, size_t x_count, size_t y_count, const int64_t *ind)
{
    const size_t rank = (size_t)c->rank + 2;
    const int conv = c->kind == CONVPOOL_OP_CONV;
    int64_t ws[5];
    size_t wr;
    size_t w_count = 0, m = 0;
    if (conv) {
        check(convpool_op_weight_shape(op, ws, 5, &wr), "weight_shape");
        w_count = (size_t)product(ws, wr);
        m = (size_t)ws[0];
    }
    float *dy = malloc(y_count * sizeof(float));
    for (size_t i = 0; i < y_count; i++) /* not multiples of a power of 2: sums round */
        dy[i] = (float)((i * 613) % 997) / 100.0f - 5.0f;
    int differ = 0;
    for (int form = 0; form < (c->kind == CONVPOOL_OP_MAX_POOL ? 2 : 1); form++) {
        float *dx[3], *dw[3] = {NULL}, *db[3] = {NULL};
        for (int t = 0; t < 3; t++) {
            dx[t] = malloc(x_count * sizeof(float));
            check(convpool_op_backward_data(op, ctx[t], c->shape, rank, conv ? NULL : x,
                                            form ? ind : NULL, dy, y_count, dx[t], x_count, NULL,
                                            0),
                  c->name);
            if (conv) {
                dw[t] = malloc(w_count * sizeof(float));
                db[t] = malloc(m * sizeof(float));
                check(convpool_op_backward_weights(op, ctx[t], c->shape, rank, x, dy, y_count,
                                                   dw[t], w_count, db[t], m, NULL, 0),
                      c->name);
            }
        }
        /* Where the GEMM way's segment pairs meet depends on how fast each
         * thread ran: repeated runs meet at other rows */
        float *again = malloc(x_count * sizeof(float));
        for (int t = 1; t < 3 && conv; t++)
            for (int r = 0; r < DX_REPEATS; r++) {
                check(convpool_op_backward_data(op, ctx[t], c->shape, rank, NULL, NULL, dy,
                                                y_count, again, x_count, NULL, 0),
                      c->name);
                if (memcmp(dx[0], again, x_count * sizeof(float)) != 0) {
                    fprintf(stderr, "%s backward on %s: %d threads, repeat %d, differ\n",
                            c->name, op->backward->name, t + 1, r + 1);
                    differ = 1;
                }
            }
        free(again);
        for (int t = 1; t < 3; t++)
            if (memcmp(dx[0], dx[t], x_count * sizeof(float)) != 0 ||
                (conv && (memcmp(dw[0], dw[t], w_count * sizeof(float)) != 0 ||
                          memcmp(db[0], db[t], m * sizeof(float)) != 0))) {
                fprintf(stderr, "%s backward on %s: %d threads differ from 1 thread\n", c->name,
                        op->backward->name, t + 1);
                differ = 1;
            }
        printf("%-30s %-22s backward%s 1/2/3 threads %s\n", c->name, op->backward->name,
               form ? " (indices)" : "", differ ? "DIFFER" : "identical");
        for (int t = 0; t < 3; t++) {
            free(dx[t]);
            free(dw[t]);
            free(db[t]);
        }
    }
    free(dy);
    return differ;
}

/* Byte offsets past a 64-byte line the placement runs copy their buffers to. */
static const size_t placements[] = {16, 36};

/* src copied to `bytes` past a 64-byte line of a new buffer (*base to
 * free); NULL src: left uninitialised. */
static void *placed(const void *src, size_t size, size_t bytes, void **base)
{
    *base = aligned_alloc(64, (size + bytes + 63) / 64 * 64 + 64);
    char *p = (char *)*base + bytes;
    if (src)
        memcpy(p, src, size);
    return p;
}

/* 1-thread runs with the buffers off their lines (placements): the forward
 * output (and Indices) against y_ref, a convolution's dx against an
 * aligned run's. */
static int placement_differs(const det_case *c, const convpool_op *op, convpool_context *ctx,
                             const float *x, size_t x_count, size_t y_count, const float *y_ref,
                             const int64_t *ind_ref)
{
    const size_t rank = (size_t)c->rank + 2, xb = x_count * 4, yb = y_count * 4;
    const int conv = c->kind == CONVPOOL_OP_CONV;
    void *b_dy, *b_dx;
    float *dy = placed(NULL, yb, 0, &b_dy), *dx_ref = placed(NULL, xb, 0, &b_dx);
    for (size_t i = 0; i < y_count; i++)
        dy[i] = (float)((i * 613) % 997) / 100.0f - 5.0f;
    if (conv)
        check(convpool_op_backward_data(op, ctx, c->shape, rank, NULL, NULL, dy, y_count, dx_ref,
                                        x_count, NULL, 0),
              c->name);
    int differ = 0;
    for (size_t k = 0; k < sizeof placements / sizeof placements[0]; k++) {
        const size_t at = placements[k];
        void *bx, *by, *bi = NULL, *bdy, *bdx;
        const float *xp = placed(x, xb, at, &bx);
        float *yp = placed(NULL, yb, at, &by);
        int64_t *ip = ind_ref ? placed(NULL, y_count * 8, at, &bi) : NULL;
        check(convpool_op_run_ex(op, ctx, c->shape, rank, xp, yp, y_count, ip, NULL, 0),
              c->name);
        int same = memcmp(yp, y_ref, yb) == 0 && (!ip || memcmp(ip, ind_ref, y_count * 8) == 0);
        if (conv) {
            const float *dyp = placed(dy, yb, at, &bdy);
            float *dxp = placed(NULL, xb, at, &bdx);
            check(convpool_op_backward_data(op, ctx, c->shape, rank, NULL, NULL, dyp, y_count,
                                            dxp, x_count, NULL, 0),
                  c->name);
            same = same && memcmp(dxp, dx_ref, xb) == 0;
            free(bdy);
            free(bdx);
        }
        if (!same) {
            fprintf(stderr, "%s on %s: buffers %zu bytes off their lines differ\n", c->name,
                    op->impl->name, at);
            differ = 1;
        }
        free(bx);
        free(by);
        free(bi);
    }
    printf("%-30s %-22s buffers off their lines %s\n", c->name, op->impl->name,
           differ ? "DIFFER" : "identical");
    free(b_dy);
    free(b_dx);
    return differ;
}

int main(void)
{
    if (diff_forced_isa_missing())
        return 77;
    convpool_context *ctx[3];
    for (int t = 0; t < 3; t++)
        check(convpool_context_create(t + 1, &ctx[t]), "context_create");
    const int32_t active = cp_isa_active();
    int failures = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const det_case *c = &cases[k];
        size_t rank = (size_t)c->rank + 2;
        size_t x_count = (size_t)product(c->shape, rank);
        float *x = malloc(x_count * sizeof(float));
        for (size_t i = 0; i < x_count; i++) /* repeats: MaxPool ties matter too */
            x[i] = (float)((i * 7919) % 1009) / 64.0f - 8.0f;
        for (int32_t isa = -1; isa <= active; isa++) {
            convpool_op *op = create(c, isa);
            int64_t out[5];
            check(convpool_op_output_shape(op, c->shape, rank, out, 5), "output_shape");
            size_t y_count = (size_t)product(out, rank);
            float *y[3];
            int64_t *ind[3];
            for (int t = 0; t < 3; t++) {
                y[t] = malloc(y_count * sizeof(float));
                ind[t] = c->kind == CONVPOOL_OP_MAX_POOL ? malloc(y_count * sizeof(int64_t))
                                                         : NULL;
                check(convpool_op_run_ex(op, ctx[t], c->shape, rank, x, y[t], y_count, ind[t],
                                         NULL, 0), c->name);
            }
            int differ = 0;
            for (int t = 1; t < 3; t++) {
                int same = memcmp(y[0], y[t], y_count * sizeof(float)) == 0 &&
                           (!ind[0] || memcmp(ind[0], ind[t], y_count * sizeof(int64_t)) == 0);
                if (!same) {
                    fprintf(stderr, "%s on %s: %d threads differ from 1 thread\n", c->name,
                            op->impl->name, t + 1);
                    differ = 1;
                }
            }
            printf("%-30s %-22s 1/2/3 threads %s\n", c->name, op->impl->name,
                   differ ? "DIFFER" : "identical");
            failures += differ;
            if ((isa < 0 ? active : isa) != CONVPOOL_ISA_SCALAR)
                failures += placement_differs(c, op, ctx[0], x, x_count, y_count, y[0], ind[0]);
            failures += backward_differs(c, op, ctx, x, x_count, y_count, ind[0]);
            for (int t = 0; t < 3; t++) {
                free(y[t]);
                free(ind[t]);
            }
            convpool_op_destroy(op);
        }
        free(x);
    }
    for (int t = 0; t < 3; t++)
        convpool_context_destroy(ctx[t]);
    return failures ? 1 : 0;
}
