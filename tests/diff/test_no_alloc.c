/*
 * test_no_alloc: a steady-state run performs no heap allocation.
 *
 * This executable defines malloc, calloc, realloc, free, aligned_alloc,
 * posix_memalign and memalign itself (forwarding to glibc's __libc_*
 * entry points), so every allocation the library makes, from any thread,
 * is counted. Conv on each of its algorithms (GEMM, direct, depthwise at
 * stride 1 and 2, stem-like rows, grouped 3-D) and every pool kind run a
 * few times to warm up, then repeatedly with counting on: with a caller
 * workspace, without one (the context's cached scratch), on a 2-thread
 * context and on the default one. Any allocation fails the test. Each run
 * is followed by the op's backward passes (dx; dw and db for the
 * convolutions), with the caller's workspace or none alike.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *p);

static atomic_int counting;
static atomic_long allocations;

static void count(void)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t size)
{
    count();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    count();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    count();
    return __libc_realloc(p, size);
}

void free(void *p)
{
    if (p)
        count();
    __libc_free(p);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    count();
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    count();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    count();
    void *p = __libc_memalign(alignment, size);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

static void check(convpool_status st, const char *what)
{
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "test_no_alloc: %s: %s\n", what, convpool_last_error());
        exit(1);
    }
}

typedef struct op_case {
    const char *name;
    int32_t kind, rank;
    int64_t shape[5];         /* input N, C, spatial */
    int64_t weight_shape[5];  /* Conv */
    int64_t kernel[3], strides[3], pads[6];
    int64_t group;
    int with_indices;         /* MaxPool */
} op_case;

static const op_case cases[] = {
    {"conv gemm 1x1", CONVPOOL_OP_CONV, 2, {1, 32, 20, 21}, {48, 32, 1, 1}, {0}, {1, 1}, {0}, 1, 0},
    {"conv direct 3x3", CONVPOOL_OP_CONV, 2, {2, 16, 17, 19}, {40, 16, 3, 3}, {0}, {1, 1},
     {1, 1, 1, 1}, 1, 0},
    {"conv depthwise s2", CONVPOOL_OP_CONV, 2, {1, 24, 30, 30}, {24, 1, 3, 3}, {0}, {2, 2},
     {1, 0, 1, 2}, 24, 0},
    {"conv depthwise s1", CONVPOOL_OP_CONV, 2, {1, 24, 30, 30}, {24, 1, 3, 3}, {0}, {1, 1},
     {1, 1, 1, 1}, 24, 0},
    {"conv stem 7x7 s2", CONVPOOL_OP_CONV, 2, {1, 3, 40, 40}, {16, 3, 7, 7}, {0}, {2, 2},
     {3, 3, 3, 3}, 1, 0},
    {"conv grouped 3-D", CONVPOOL_OP_CONV, 3, {1, 8, 5, 6, 7}, {12, 4, 2, 3, 3}, {0}, {1, 1, 1},
     {0, 1, 1, 1, 0, 1}, 2, 0},
    {"maxpool + indices", CONVPOOL_OP_MAX_POOL, 2, {1, 8, 17, 17}, {0}, {3, 3}, {2, 2},
     {1, 1, 1, 1}, 1, 1},
    {"maxpool, dx from x", CONVPOOL_OP_MAX_POOL, 2, {1, 8, 17, 17}, {0}, {3, 3}, {2, 2},
     {1, 1, 1, 1}, 1, 0},
    {"averagepool", CONVPOOL_OP_AVERAGE_POOL, 2, {1, 8, 16, 16}, {0}, {3, 3}, {1, 1},
     {1, 1, 1, 1}, 1, 0},
    {"globalmaxpool", CONVPOOL_OP_GLOBAL_MAX_POOL, 2, {2, 8, 7, 7}, {0}, {0}, {0}, {0}, 1, 0},
    {"globalaveragepool", CONVPOOL_OP_GLOBAL_AVERAGE_POOL, 2, {2, 8, 7, 7}, {0}, {0}, {0}, {0},
     1, 0},
    {"convtranspose k4 s2 p1", CONVPOOL_OP_CONV_TRANSPOSE, 2, {2, 16, 6, 7}, {16, 12, 4, 4}, {0},
     {2, 2}, {1, 1, 1, 1}, 1, 0},
    {"convtranspose grouped 3-D", CONVPOOL_OP_CONV_TRANSPOSE, 3, {1, 8, 3, 4, 5},
     {8, 3, 2, 3, 3}, {0}, {1, 2, 2}, {0, 1, 1, 0, 1, 0}, 2, 0},
    {"lppool", CONVPOOL_OP_LP_POOL, 2, {1, 8, 16, 16}, {0}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 1, 0},
    {"globallppool", CONVPOOL_OP_GLOBAL_LP_POOL, 2, {2, 8, 7, 7}, {0}, {0}, {0}, {0}, 1, 0},
};

typedef struct prepared {
    convpool_op *op;
    size_t rank, y_count;
    float *x, *y;
    int64_t *indices;
    void *ws;
    size_t ws_bytes;
    /* backward: dy = y; one workspace serves both passes */
    float *dx, *dw, *db;
    size_t x_count, w_count, m;
} prepared;

static int64_t product(const int64_t *v, size_t n)
{
    int64_t p = 1;
    for (size_t i = 0; i < n; i++)
        p *= v[i];
    return p;
}

static void prepare(const op_case *c, convpool_context *ctx, prepared *p)
{
    memset(p, 0, sizeof *p);
    convpool_desc *d;
    check(convpool_desc_create(c->kind, c->rank, &d), "desc_create");
    int global = c->kind == CONVPOOL_OP_GLOBAL_MAX_POOL ||
                 c->kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL ||
                 c->kind == CONVPOOL_OP_GLOBAL_LP_POOL;
    if (!global) {
        check(convpool_desc_set_ints(d, CONVPOOL_ATTR_STRIDES, c->strides, (size_t)c->rank),
              "strides");
        check(convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, c->pads, 2 * (size_t)c->rank),
              "pads");
    }
    p->rank = (size_t)c->rank + 2;
    if (c->kind == CONVPOOL_OP_CONV || c->kind == CONVPOOL_OP_CONV_TRANSPOSE) {
        check(convpool_desc_set_int(d, CONVPOOL_ATTR_GROUP, c->group), "group");
        size_t wc = (size_t)product(c->weight_shape, p->rank);
        /* M: W is (M, C/group, k...) for Conv, (C, M/group, k...) for ConvTranspose */
        int64_t m = c->kind == CONVPOOL_OP_CONV ? c->weight_shape[0]
                                                : c->weight_shape[1] * c->group;
        float *w = malloc(wc * sizeof(float)), *b = malloc((size_t)m * sizeof(float));
        for (size_t i = 0; i < wc; i++)
            w[i] = (float)(i % 11) * 0.1f - 0.5f;
        for (int64_t i = 0; i < m; i++)
            b[i] = (float)i;
        check(convpool_conv_create_ex(d, c->weight_shape, p->rank, w, b, CONVPOOL_CREATE_BACKWARD,
                                      &p->op),
              c->name);
        p->w_count = wc;
        p->m = (size_t)m;
        free(w);
        free(b);
    } else {
        if (!global)
            check(convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, c->kernel,
                                         (size_t)c->rank), "kernel_shape");
        check(convpool_pool_create(d, &p->op), c->name);
    }
    convpool_desc_destroy(d);
    int64_t out[5];
    check(convpool_op_output_shape(p->op, c->shape, p->rank, out, 5), "output_shape");
    size_t x_count = (size_t)product(c->shape, p->rank);
    p->y_count = (size_t)product(out, p->rank);
    p->x = malloc(x_count * sizeof(float));
    p->y = malloc(p->y_count * sizeof(float));
    p->indices = c->with_indices ? malloc(p->y_count * sizeof(int64_t)) : NULL;
    for (size_t i = 0; i < x_count; i++)
        p->x[i] = (float)((i * 7) % 23) * 0.25f - 2.0f;
    check(convpool_op_workspace_size(p->op, ctx, c->shape, p->rank, &p->ws_bytes),
          "workspace_size");
    p->x_count = x_count;
    p->dx = malloc(x_count * sizeof(float));
    p->dw = p->w_count ? malloc(p->w_count * sizeof(float)) : NULL;
    p->db = p->m ? malloc(p->m * sizeof(float)) : NULL;
    for (int32_t pass = CONVPOOL_BACKWARD_DATA; pass <= (p->w_count ? 2 : 1); pass++) {
        size_t bytes;
        check(convpool_op_backward_workspace_size(p->op, ctx, c->shape, p->rank, pass, &bytes),
              "backward_workspace_size");
        if (bytes > p->ws_bytes)
            p->ws_bytes = bytes;
    }
    p->ws = p->ws_bytes ? malloc(p->ws_bytes) : NULL;
}

static void run(const op_case *c, convpool_context *ctx, prepared *p, int caller_workspace)
{
    check(convpool_op_run_ex(p->op, ctx, c->shape, p->rank, p->x, p->y, p->y_count, p->indices,
                             caller_workspace ? p->ws : NULL,
                             caller_workspace ? p->ws_bytes : 0),
          c->name);
    const int needs_x = c->kind != CONVPOOL_OP_CONV && c->kind != CONVPOOL_OP_CONV_TRANSPOSE;
    check(convpool_op_backward_data(p->op, ctx, c->shape, p->rank, needs_x ? p->x : NULL,
                                    p->indices, p->y, p->y_count, p->dx, p->x_count,
                                    caller_workspace ? p->ws : NULL,
                                    caller_workspace ? p->ws_bytes : 0),
          c->name);
    if (p->w_count)
        check(convpool_op_backward_weights(p->op, ctx, c->shape, p->rank, p->x, p->y, p->y_count,
                                           p->dw, p->w_count, p->db, p->m,
                                           caller_workspace ? p->ws : NULL,
                                           caller_workspace ? p->ws_bytes : 0),
              c->name);
}

int main(void)
{
    enum { N = sizeof cases / sizeof cases[0] };
    convpool_context *two;
    check(convpool_context_create(2, &two), "context_create");
    convpool_context *contexts[2] = {two, NULL}; /* NULL: the default context */
    long failures = 0;
    for (int k = 0; k < 2; k++) {
        convpool_context *ctx = contexts[k];
        prepared p[N];
        for (int i = 0; i < N; i++)
            prepare(&cases[i], ctx, &p[i]);
        for (int caller_ws = 1; caller_ws >= 0; caller_ws--) {
            for (int i = 0; i < N; i++) /* warm-up: grows the cached scratch */
                run(&cases[i], ctx, &p[i], caller_ws);
            for (int i = 0; i < N; i++) {
                atomic_store(&allocations, 0);
                atomic_store(&counting, 1);
                for (int r = 0; r < 5; r++)
                    run(&cases[i], ctx, &p[i], caller_ws);
                atomic_store(&counting, 0);
                long n = atomic_load(&allocations);
                printf("%-8s context, %-18s workspace: %-18s %ld allocations\n",
                       ctx ? "2-thread" : "default", caller_ws ? "caller" : "none (cached)",
                       cases[i].name, n);
                if (n != 0)
                    failures++;
            }
        }
        for (int i = 0; i < N; i++) {
            convpool_op_destroy(p[i].op);
            free(p[i].x);
            free(p[i].y);
            free(p[i].indices);
            free(p[i].ws);
            free(p[i].dx);
            free(p[i].dw);
            free(p[i].db);
        }
    }
    convpool_context_destroy(two);
    if (failures) {
        fprintf(stderr, "test_no_alloc: %ld steady-state runs allocated\n", failures);
        return 1;
    }
    return 0;
}
