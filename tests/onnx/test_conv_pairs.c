/*
 * test_conv_pairs DATA_DIR: the model path's depthwise + pointwise pairs
 * (ops/conv_pair.h) on separable.onnx (make_loader_models.py). For input
 * shapes from a few rows to several bands, batches 1 and 2, contexts of 1
 * to 3 threads: which node pairs the plan runs together (the first two on
 * the AVX2 and AVX-512 paths where the intermediate outgrows L2: AVX2's
 * stride-1 depthwise rows run on packed bands, AVX-512's read the input in
 * place; never the one whose intermediate is a graph output, none on the
 * scalar path), that a paired intermediate gets no arena block, that every graph
 * output is bit for bit what the same ops give run one after the other,
 * and that a profiled run gives both nodes of a pair a time. Run once per
 * ISA path (CONVPOOL_ISA, set by meson).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "onnx_check.h"
#include "onnx/model.h"
#include "onnx/plan.h"
#include "ops/conv_pair.h"
#include "ops/op.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* The graph: dw1 pw1 dw2 pw2 dw3 pw3 dw4 pw4, values x a b c d e f g h;
 * outputs d g h. */
enum { NODES = 8, OUTPUTS = 3 };

static float *fill(size_t n, unsigned seed)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 9) % 2001) / 1000.0f - 1.0f;
    }
    return v;
}

static int64_t count(const int64_t *dims)
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

/* The nodes' own ops run one after the other through the op API; out[k]
 * receives node k's output (malloc'd). */
static int run_op_by_op(const convpool_model *m, const int64_t *shape, const float *x,
                        convpool_context *ctx, float *out[NODES], int64_t dims[NODES][4])
{
    const float *in = x;
    const int64_t *in_dims = shape;
    for (size_t k = 0; k < NODES; k++) {
        const convpool_op *op = m->nodes[k].op;
        if (cp_op_output_shape(op, in_dims, 4, dims[k], 4) != CONVPOOL_OK)
            return 1;
        out[k] = malloc((size_t)(count(dims[k]) ? count(dims[k]) : 1) * sizeof(float));
        if (!out[k] || cp_op_run_ex(op, ctx, in_dims, 4, in, out[k], (size_t)count(dims[k]), NULL,
                                    NULL, 0) != CONVPOOL_OK)
            return 1;
        in = out[k];
        in_dims = dims[k];
    }
    return 0;
}

static void check_shape(const convpool_model *m, const int64_t *shape, convpool_context *ctx,
                        int32_t isa)
{
    const int32_t threads = cp_context_threads(ctx);
    char what[96];
    snprintf(what, sizeof what, "N %lld, %lld x %lld, %d threads", (long long)shape[0],
             (long long)shape[2], (long long)shape[3], threads);
    /* the plan's pairs */
    cp_shape in = {4, {shape[0], shape[1], shape[2], shape[3]}};
    cp_plan *p = NULL;
    CHECK(cp_plan_build(m, &in, ctx, &p) == CONVPOOL_OK, "plan, %s", what);
    if (!p)
        return;
    const int64_t l2 = cp_cache()->l2_bytes;
    const int64_t images = shape[0] ? shape[0] : 1;
    const int fast = isa != CONVPOOL_ISA_SCALAR;
    /* past L2 (twice the threshold): a clear yes; within a quarter of it
     * (half the threshold), or rows too wide for bands of
     * CP_CONV_PAIR_MIN_BAND_ROWS: a clear no */
    for (int k = 0; k < NODES; k += 2) {
        const int64_t bytes = p->counts[m->nodes[k].y] / images * 4;
        const cp_shape *mid = &p->shapes[m->nodes[k].y];
        const int64_t row_bytes = mid->dims[1] * mid->dims[3] * 4;
        const int thin = row_bytes > 0 && l2 * CP_CONV_PAIR_BAND_L2_64THS / 64 / row_bytes <
                         CP_CONV_PAIR_MIN_BAND_ROWS;
        const int can = k != 6; /* dw4's output is a graph output */
        if (fast && can && shape[0] && bytes > l2 && !thin)
            CHECK(p->pairs[k].bands > 0 && p->offset[m->nodes[k].y] == CP_NOT_IN_ARENA,
                  "nodes %d and %d not paired (%lld bytes between them), %s", k, k + 1,
                  (long long)bytes, what);
        if (!fast || !can || bytes <= l2 / 4 || thin)
            CHECK(!p->pairs[k].bands, "nodes %d and %d paired (%lld bytes between them), %s", k,
                  k + 1, (long long)bytes, what);
        CHECK(!p->pairs[k + 1].bands, "a pair starts at the pointwise node %d, %s", k + 1, what);
    }
    for (int k = 0; k < NODES; k++)
        if (p->pairs[k].bands)
            CHECK(p->pairs[k].threads <= threads && p->pairs[k].band_rows >= 1 &&
                      (p->pairs[k].bands - 1) * p->pairs[k].band_rows < p->pairs[k].dw.out[1],
                  "pair %d: %lld bands of %lld rows, %s", k, (long long)p->pairs[k].bands,
                  (long long)p->pairs[k].band_rows, what);
    int paired = 0;
    for (int k = 0; k < NODES; k++)
        paired += p->pairs[k].bands > 0;
    cp_plan_free(p);

    /* the outputs against the ops one by one */
    const size_t nx = (size_t)count(shape);
    float *x = fill(nx ? nx : 1, (unsigned)(shape[2] * 131 + shape[3]));
    float *want[NODES] = {0};
    int64_t dims[NODES][4];
    CHECK(run_op_by_op(m, shape, x, ctx, want, dims) == 0, "op by op, %s", what);
    convpool_session *s = NULL;
    CHECK(convpool_session_create(m, &s) == CONVPOOL_OK &&
              convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) ==
                  CONVPOOL_OK &&
              convpool_session_run(s, ctx) == CONVPOOL_OK,
          "session run, %s", what);
    const int node_of_output[OUTPUTS] = {3, 6, 7};
    for (size_t j = 0; s && j < OUTPUTS; j++) {
        int32_t dtype;
        size_t rank;
        const int64_t *got_dims;
        const void *data;
        const int k = node_of_output[j];
        if (convpool_session_output(s, j, &dtype, &rank, &got_dims, &data) != CONVPOOL_OK ||
            rank != 4 || memcmp(got_dims, dims[k], sizeof dims[k]) != 0) {
            CHECK(0, "output %zu's shape, %s", j, what);
            continue;
        }
        size_t n = (size_t)count(dims[k]), first = n;
        for (size_t i = 0; i < n && first == n; i++)
            if (memcmp((const float *)data + i, want[k] + i, sizeof(float)) != 0)
                first = i;
        CHECK(first == n, "output %zu differs from the ops run one by one at %zu: %.9g, not %.9g, %s",
              j, first, first < n ? ((const float *)data)[first] : 0.0,
              first < n ? want[k][first] : 0.0, what);
    }
    /* a profiled run times both nodes of a pair */
    int64_t ns[NODES];
    if (s && shape[0] > 0) {
        CHECK(convpool_session_run_profiled(s, ctx, ns, NODES) == CONVPOOL_OK, "profiled, %s",
              what);
        for (int k = 0; k < NODES; k++)
            CHECK(ns[k] > 0, "node %d's time %lld, %s", k, (long long)ns[k], what);
    }
    convpool_session_destroy(s);
    for (int k = 0; k < NODES; k++)
        free(want[k]);
    free(x);
    printf("ok  %s, %d pairs\n", what, paired);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/data/onnx-loader\n", argv[0]);
        return 2;
    }
    const char *want_isa = getenv("CONVPOOL_ISA");
    const int32_t isa = convpool_isa_active();
    if (want_isa && strcmp(want_isa, convpool_isa_name(isa)) != 0) {
        printf("SKIP: CONVPOOL_ISA=%s is not available here\n", want_isa);
        return 77;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/separable.onnx", argv[1]);
    convpool_model *m = NULL;
    CHECK(convpool_model_load_file(path, 0, &m) == CONVPOOL_OK && m && m->node_count == NODES,
          "load %s", path);
    if (!m || m->node_count != NODES)
        return 1;
    /* rows: a few (one band), bands that divide evenly and not, W not a
     * multiple of the vector, rows narrow enough for bands of
     * CP_CONV_PAIR_MIN_BAND_ROWS on a 512 KiB L2; 0: an empty batch */
    const int64_t shapes[][4] = {{1, 32, 7, 9},     {1, 32, 300, 260}, {2, 32, 151, 97},
                                 {1, 32, 257, 131}, {2, 32, 64, 300},  {1, 32, 600, 40},
                                 {0, 32, 200, 180}};
    for (int32_t threads = 1; threads <= 3; threads++) {
        convpool_context *ctx = NULL;
        CHECK(convpool_context_create(threads, &ctx) == CONVPOOL_OK, "context of %d", threads);
        for (size_t i = 0; ctx && i < sizeof shapes / sizeof shapes[0]; i++)
            check_shape(m, shapes[i], ctx, isa);
        convpool_context_destroy(ctx);
    }
    convpool_model_destroy(m);
    if (failures)
        printf("FAILED: %d checks\n", failures);
    else
        printf("PASS (ISA path %s)\n", convpool_isa_name(isa));
    return failures ? 1 : 0;
}
