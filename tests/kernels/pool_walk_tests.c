/*
 * pool_walk_tests.c - each pooling walk (rows, strips, pairs, the 3x3
 * window, global) with each reduction it has, against the reference
 * kernels of kernels/ref, run in two halves as two threads would.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_check.h"
#include "kernels/ref/ref_kernels.h"

typedef struct pool_shape {
    int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, ph0, pw0, ph1, pw1;
} pool_shape;

static const pool_shape pool_shapes[] = {
    /* n  c   h   w  kh kw sh sw dh dw ph0 pw0 ph1 pw1 */
    {1, 3, 9, 37, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0},  /* pairs: rows of a vector and more */
    {2, 3, 5, 13, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0},  /* pairs: rows shorter than a vector */
    {2, 2, 11, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* 3x3 stride 1, pad 1 */
    {1, 2, 14, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, /* 3x3 stride 2, pad 1 */
    {1, 2, 13, 29, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0}, /* 3x3 stride 2, no pad */
    {1, 1, 12, 50, 5, 4, 1, 3, 1, 1, 2, 1, 2, 2}, /* general strip, stride 3 */
    {1, 2, 10, 21, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}, /* dilated */
    {1, 1, 8, 70, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3},  /* wide 1-row window */
    {1, 17, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0},  /* global over 7x7 planes */
};

static void make_geom(const pool_shape *s, int count_include_pad, cp_geom *g)
{
    memset(g, 0, sizeof *g);
    g->n = s->n, g->c = g->m = s->c, g->group = 1;
    const int64_t in[3] = {1, s->h, s->w}, k[3] = {1, s->kh, s->kw}, st[3] = {1, s->sh, s->sw},
                  d[3] = {1, s->dh, s->dw}, p0[3] = {0, s->ph0, s->pw0},
                  p1[3] = {0, s->ph1, s->pw1};
    for (int i = 0; i < 3; i++) {
        g->in[i] = in[i], g->kernel[i] = k[i], g->stride[i] = st[i], g->dilation[i] = d[i];
        g->pad_begin[i] = p0[i], g->pad_end[i] = p1[i];
        g->out[i] = (in[i] + p0[i] + p1[i] - d[i] * (k[i] - 1) - 1) / st[i] + 1;
    }
    g->count_include_pad = count_include_pad;
    g->spatial_rank = 2;
}

/* A walk: its task count for a geometry and its kernels (one per
 * reduction; NULL for a reduction it does not take). */
typedef struct pool_walk {
    const char *name;
    int is_global;
    int64_t (*tasks)(const cp_pool_kernels *k, const cp_geom *g);
    const cp_pool_fn *(*kernels)(const cp_pool_kernels *k);
} pool_walk;

static int64_t rows_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    (void)k;
    return g->n * g->c * g->out[0] * g->out[1];
}
static int64_t global_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return (g->n * g->c + k->lanes - 1) / k->lanes;
}
static int64_t strip_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->strip_tasks(g);
}
static int64_t pair_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->pair_rows(g);
}
static int64_t win3_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->win3_tasks(g);
}
static const cp_pool_fn *rows(const cp_pool_kernels *k)
{
    return k->rows;
}
static const cp_pool_fn *strips(const cp_pool_kernels *k)
{
    return k->strips;
}
static const cp_pool_fn *pairs(const cp_pool_kernels *k)
{
    return k->pairs;
}
static const cp_pool_fn *win3(const cp_pool_kernels *k)
{
    return k->win3;
}
static const cp_pool_fn *global(const cp_pool_kernels *k)
{
    return k->global;
}
static const pool_walk pool_walks[] = {
    {"rows", 0, rows_tasks, rows},       {"strips", 0, strip_tasks, strips},
    {"pairs", 0, pair_tasks, pairs},     {"win3", 0, win3_tasks, win3},
    {"global", 1, global_tasks, global},
};

/* The reductions each walk is tested with: MaxPool with Indices (the
 * windowed walks; also in column-major storage order, and on inputs of a
 * few values, whose windows tie), MaxPool, AveragePool, LpPool at p = 1, 2
 * and two others (odd and even, by repeated squaring). */
typedef struct pool_red_case {
    const char *name;
    int red; /* cp_pool_red */
    int64_t p;
    int storage_order;
    int ties; /* inputs rounded to a few values */
} pool_red_case;

static const pool_red_case pool_reds[] = {
    {"max+idx", CP_POOL_MAX_IDX, 0, 0, 0},
    {"max+idx/col", CP_POOL_MAX_IDX, 0, 1, 0},
    {"max+idx/tie", CP_POOL_MAX_IDX, 0, 0, 1},
    {"max", CP_POOL_MAX, 0, 0, 0},
    {"avg", CP_POOL_AVG, 0, 0, 0},
    {"lp1", CP_POOL_LP1, 1, 0, 0},
    {"lp2", CP_POOL_LP2, 2, 0, 0},
    {"lp3", CP_POOL_LPP, 3, 0, 0},
    {"lp6", CP_POOL_LPP, 6, 0, 0},
};

static void test_pool_walk(const cp_pool_kernels *k, const char *isa, const pool_walk *walk,
                           const pool_red_case *rc, int *ran)
{
    const int is_max = rc->red == CP_POOL_MAX_IDX || rc->red == CP_POOL_MAX;
    for (size_t si = 0; si < sizeof pool_shapes / sizeof pool_shapes[0]; si++) {
        pool_shape s = pool_shapes[si];
        if (walk->is_global) { /* the window is the whole plane */
            s.kh = s.h, s.kw = s.w, s.sh = s.sw = s.dh = s.dw = 1;
            s.ph0 = s.pw0 = s.ph1 = s.pw1 = 0;
        }
        for (int cip = 0; cip <= (rc->red == CP_POOL_AVG ? 1 : 0); cip++) {
            cp_geom g;
            make_geom(&s, cip, &g);
            g.p = rc->p;
            g.storage_order = rc->storage_order;
            const int64_t tasks = walk->tasks(k, &g);
            if (tasks <= 0)
                continue; /* this walk does not take this shape */
            (*ran)++;
            const int64_t planes = g.n * g.c, out = planes * cp_geom_out_plane(&g);
            float *x = buffer((size_t)(planes * cp_geom_in_plane(&g)));
            for (int64_t i = 0; rc->ties && i < planes * cp_geom_in_plane(&g); i++)
                x[i] = floorf(x[i] * 2.0f);
            float *y = buffer((size_t)out), *want = buffer((size_t)out);
            int64_t *idx = calloc((size_t)out, sizeof *idx);
            int64_t *want_idx = calloc((size_t)out, sizeof *want_idx);
            if (!idx || !want_idx)
                exit(1);
            /* two halves, as two threads would take them */
            for (int64_t half = 0; half < 2; half++) {
                int64_t b = half * tasks / 2, e = (half + 1) * tasks / 2;
                walk->kernels(k)[rc->red](&g, x, y, rc->red == CP_POOL_MAX_IDX ? idx : NULL, b, e);
            }
            if (is_max)
                cp_ref_max_pool(&g, x, want, want_idx, 0, planes);
            else if (rc->red == CP_POOL_AVG)
                cp_ref_avg_pool(&g, x, want, 0, planes);
            else
                cp_ref_lp_pool(&g, x, want, 0, planes);
            char shape[96];
            snprintf(shape, sizeof shape, "shape %zu (%lldx%lld k%lldx%lld s%lldx%lld) cip=%d", si,
                     (long long)s.h, (long long)s.w, (long long)s.kh, (long long)s.kw,
                     (long long)s.sh, (long long)s.sw, cip);
            for (int64_t i = 0; i < out; i++) {
                /* max is exact; sums accumulate in float in the kernels
                 * (inputs in [-1, 1): the terms add up to at most the tap count) */
                double scale = is_max ? 0 : (double)g.kernel[1] * g.kernel[2];
                expect_close(walk->name, isa, y[i], want[i], scale, shape);
                if (rc->red == CP_POOL_MAX_IDX) {
                    checks++;
                    if (idx[i] != want_idx[i] && failures++ < 20)
                        fprintf(stderr, "FAIL %s [%s] %s: index %lld, want %lld at %lld\n",
                                walk->name, isa, shape, (long long)idx[i], (long long)want_idx[i],
                                (long long)i);
                }
            }
            free(x), free(y), free(want), free(idx), free(want_idx);
        }
    }
}

void test_pool_walks(const cp_pool_kernels *k, const char *isa)
{
    for (size_t w = 0; w < sizeof pool_walks / sizeof pool_walks[0]; w++)
        for (size_t r = 0; r < sizeof pool_reds / sizeof pool_reds[0]; r++) {
            if (!pool_walks[w].kernels(k)[pool_reds[r].red])
                continue;
            int before = checks, failed = failures, ran = 0;
            test_pool_walk(k, isa, &pool_walks[w], &pool_reds[r], &ran);
            printf("%-7s %-11s %-7s %6d checks on %d shapes%s\n", pool_walks[w].name,
                   pool_reds[r].name, isa, checks - before, ran,
                   failures > failed ? "  FAILED" : "");
            if (ran == 0) {
                fprintf(stderr, "FAIL %s %s [%s]: no shape of the table reaches this walk\n",
                        pool_walks[w].name, pool_reds[r].name, isa);
                failures++;
            }
        }
}
