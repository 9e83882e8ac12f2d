/* oneDNN 2.x C API runner for the benchmark (see dnnl_runner.h). */
#include "dnnl_runner.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

struct dnnl_runner {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t src_reorder, prim, dst_reorder; /* reorders may be NULL */
    dnnl_memory_t user_src, user_dst, src, dst, weights, bias;
    int weighted; /* Conv, ConvTranspose: weights and bias arguments */
};

#define CHECK(call)                                                                                \
    do {                                                                                           \
        dnnl_status_t st_ = (call);                                                                \
        if (st_ != dnnl_success) {                                                                 \
            fprintf(stderr, "oneDNN: %s failed (status %d)\n", #call, (int)st_);                   \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

void dnnl_runner_set_threads(int threads)
{
    omp_set_num_threads(threads);
}

const char *dnnl_runner_version(void)
{
    static char text[64];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

/* A reorder from memory `from` to a new memory of layout `to_md` (or
 * `from` itself if the layouts agree). */
static int make_reorder(dnnl_runner *r, dnnl_memory_t from, const dnnl_memory_desc_t *from_md,
                        const dnnl_memory_desc_t *to_md, dnnl_memory_t *to,
                        dnnl_primitive_t *reorder)
{
    *reorder = NULL;
    if (dnnl_memory_desc_equal(from_md, to_md)) {
        *to = from;
        return 1;
    }
    dnnl_primitive_desc_t pd = NULL;
    CHECK(dnnl_memory_create(to, to_md, r->engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_reorder_primitive_desc_create(&pd, from_md, r->engine, to_md, r->engine, NULL));
    CHECK(dnnl_primitive_create(reorder, pd));
    dnnl_primitive_desc_destroy(pd);
    return 1;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return 0;
}

static void run_reorder(dnnl_runner *r, dnnl_primitive_t reorder, dnnl_memory_t from,
                        dnnl_memory_t to)
{
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    dnnl_primitive_execute(reorder, r->stream, 2, args);
}

/* The pooling algorithm oneDNN runs for a pool case; Lp pooling, which
 * oneDNN lacks, is compared with the average pool of the same window
 * including the pads: the same sum over the same taps. */
static dnnl_alg_kind_t pooling_alg(const bench_case *c)
{
    switch (c->kind) {
    case BENCH_MAX_POOL:
    case BENCH_GLOBAL_MAX_POOL: return dnnl_pooling_max;
    case BENCH_AVERAGE_POOL:
        return c->count_include_pad ? dnnl_pooling_avg_include_padding
                                    : dnnl_pooling_avg_exclude_padding;
    case BENCH_LP_POOL:
    case BENCH_GLOBAL_LP_POOL: return dnnl_pooling_avg_include_padding;
    default: return dnnl_pooling_avg_exclude_padding;
    }
}

const char *dnnl_runner_primitive(const bench_case *c)
{
    switch (c->kind) {
    case BENCH_CONV: return "convolution";
    case BENCH_CONV_TRANSPOSE: return "deconvolution";
    case BENCH_LP_POOL:
    case BENCH_GLOBAL_LP_POOL: return "pooling_avg_include_padding (no Lp pooling in oneDNN)";
    default:
        return pooling_alg(c) == dnnl_pooling_max                   ? "pooling_max"
               : pooling_alg(c) == dnnl_pooling_avg_include_padding ? "pooling_avg_include_padding"
                                                                    : "pooling_avg_exclude_padding";
    }
}

/* The geometry every primitive takes (2-D). */
typedef struct dnnl_geom {
    dnnl_dims_t src, dst, strides, pad_l, pad_r, kernel;
    dnnl_memory_desc_t user_src_md, user_dst_md;
} dnnl_geom;

/* A Conv or ConvTranspose primitive `pd` on user weights w (layout
 * user_wei_md) and bias b: the primitive, the src reorder into and the dst
 * reorder out of the layouts oneDNN chose, the weights reordered once. */
static int setup_weighted(dnnl_runner *r, const dnnl_geom *g, const_dnnl_primitive_desc_t pd,
                          const dnnl_memory_desc_t *user_wei_md, const float *w,
                          const dnnl_memory_desc_t *bias_md, const float *b)
{
    dnnl_memory_t user_wei = NULL;
    dnnl_primitive_t wei_reorder = NULL;
    r->weighted = 1;
    CHECK(dnnl_primitive_create(&r->prim, pd));
    CHECK(dnnl_memory_create(&user_wei, user_wei_md, r->engine, (void *)w));
    CHECK(dnnl_memory_create(&r->bias, bias_md, r->engine, (void *)b));
    if (!make_reorder(r, r->user_src, &g->user_src_md,
                      dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), &r->src,
                      &r->src_reorder) ||
        !make_reorder(r, user_wei, user_wei_md,
                      dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &r->weights,
                      &wei_reorder))
        goto fail;
    /* the dst reorder goes the other way: from oneDNN's layout to NCHW */
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (dnnl_memory_desc_equal(dst_md, &g->user_dst_md)) {
        r->dst = r->user_dst;
    } else {
        dnnl_primitive_desc_t rpd;
        CHECK(dnnl_memory_create(&r->dst, dst_md, r->engine, DNNL_MEMORY_ALLOCATE));
        CHECK(dnnl_reorder_primitive_desc_create(&rpd, dst_md, r->engine, &g->user_dst_md,
                                                 r->engine, NULL));
        CHECK(dnnl_primitive_create(&r->dst_reorder, rpd));
        dnnl_primitive_desc_destroy(rpd);
    }
    if (wei_reorder) { /* once: weights are packed at setup, as ours are */
        run_reorder(r, wei_reorder, user_wei, r->weights);
        dnnl_stream_wait(r->stream);
        dnnl_primitive_destroy(wei_reorder);
        dnnl_memory_destroy(user_wei);
    } /* else r->weights is user_wei itself */
    return 1;
fail:
    if (wei_reorder)
        dnnl_primitive_destroy(wei_reorder);
    if (user_wei && user_wei != r->weights)
        dnnl_memory_destroy(user_wei);
    return 0;
}

/* Creates r's engine and stream and gives a case's NCHW geometry and user
 * memory descriptors (src and dst). */
static int runner_open(dnnl_runner *r, const bench_case *c, dnnl_geom *g)
{
    const int64_t m = bench_has_weights(c) ? c->m : c->c;
    const dnnl_dims_t src = {c->n, c->c, c->h, c->w},
                      dst = {c->n, m, bench_out_h(c), bench_out_w(c)}, strides = {c->sh, c->sw},
                      pad_l = {c->pads[0], c->pads[1]}, pad_r = {c->pads[2], c->pads[3]},
                      kernel = {c->kh, c->kw};
    memcpy(g->src, src, sizeof src);
    memcpy(g->dst, dst, sizeof dst);
    memcpy(g->strides, strides, sizeof strides);
    memcpy(g->pad_l, pad_l, sizeof pad_l);
    memcpy(g->pad_r, pad_r, sizeof pad_r);
    memcpy(g->kernel, kernel, sizeof kernel);
    CHECK(dnnl_engine_create(&r->engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&r->stream, r->engine, dnnl_stream_default_flags));
    CHECK(dnnl_memory_desc_init_by_tag(&g->user_src_md, 4, g->src, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&g->user_dst_md, 4, g->dst, dnnl_f32, dnnl_nchw));
    return 1;
fail:
    return 0;
}

/* The memory descriptors of a Conv or ConvTranspose case: src, weights and
 * dst with format_tag any (oneDNN picks), the user's weights in ONNX layout
 * and the bias. Conv's W (M, C/group, k) is oneDNN's (g)oihw; ConvTranspose's
 * (C, M/group, k) is oneDNN's deconvolution weights (g, M/group, C/group, k)
 * in layout (g)iohw. */
typedef struct weighted_mds {
    dnnl_memory_desc_t src, wei, dst, user_wei, bias;
} weighted_mds;

static int init_weighted_mds(const bench_case *c, const dnnl_geom *g, weighted_mds *md)
{
    const int grouped = c->group > 1, wrank = grouped ? 5 : 4;
    const int transposed = c->kind == BENCH_CONV_TRANSPOSE;
    dnnl_dims_t wdims_g = {c->group, c->m / c->group, c->c / c->group, c->kh, c->kw};
    dnnl_dims_t wdims = {c->m, c->c, c->kh, c->kw}, bdims = {c->m};
    const dnnl_format_tag_t tag =
        grouped ? (transposed ? dnnl_giohw : dnnl_goihw) : (transposed ? dnnl_iohw : dnnl_oihw);
    CHECK(dnnl_memory_desc_init_by_tag(&md->src, 4, g->src, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&md->dst, 4, g->dst, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&md->wei, wrank, grouped ? wdims_g : wdims, dnnl_f32,
                                       dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&md->user_wei, wrank, grouped ? wdims_g : wdims, dnnl_f32,
                                       tag));
    CHECK(dnnl_memory_desc_init_by_tag(&md->bias, 1, bdims, dnnl_f32, dnnl_x));
    return 1;
fail:
    return 0;
}

/* The primitive of op descriptor `od` and everything around it. */
static int create_weighted(dnnl_runner *r, const dnnl_geom *g, const_dnnl_op_desc_t od,
                           const weighted_mds *md, const float *w, const float *b)
{
    dnnl_primitive_desc_t pd = NULL;
    CHECK(dnnl_primitive_desc_create(&pd, od, NULL, r->engine, NULL));
    int ok = setup_weighted(r, g, pd, &md->user_wei, w, &md->bias, b);
    dnnl_primitive_desc_destroy(pd);
    return ok;
fail:
    return 0;
}

/* A Conv case on oneDNN's convolution, a ConvTranspose case on its
 * deconvolution (whose pads crop the full output as ONNX's do; no
 * output_padding here). */
static int setup_weighted_case(dnnl_runner *r, const bench_case *c, const dnnl_geom *g,
                               const float *w, const float *b)
{
    weighted_mds md;
    if (!init_weighted_mds(c, g, &md))
        return 0;
    if (c->kind == BENCH_CONV_TRANSPOSE) {
        dnnl_deconvolution_desc_t dd;
        CHECK(dnnl_deconvolution_forward_desc_init(
            &dd, dnnl_forward_inference, dnnl_deconvolution_direct, &md.src, &md.wei, &md.bias,
            &md.dst, g->strides, g->pad_l, g->pad_r));
        return create_weighted(r, g, &dd, &md, w, b);
    }
    dnnl_convolution_desc_t cd;
    CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                             &md.src, &md.wei, &md.bias, &md.dst, g->strides,
                                             g->pad_l, g->pad_r));
    return create_weighted(r, g, &cd, &md, w, b);
fail:
    return 0;
}

/* A global pool's window is the whole plane. */
static void pool_window(const bench_case *c, dnnl_geom *g)
{
    if (bench_is_global(c)) {
        g->kernel[0] = c->h;
        g->kernel[1] = c->w;
        g->strides[0] = g->strides[1] = 1;
        g->pad_l[0] = g->pad_l[1] = g->pad_r[0] = g->pad_r[1] = 0;
    }
}

/* Pools run directly on NCHW src and dst. */
static int setup_pooling(dnnl_runner *r, const bench_case *c, dnnl_geom *g)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_pooling_desc_t pdsc;
    pool_window(c, g);
    CHECK(dnnl_pooling_forward_desc_init(&pdsc, dnnl_forward_inference, pooling_alg(c),
                                         &g->user_src_md, &g->user_dst_md, g->strides, g->kernel,
                                         g->pad_l, g->pad_r));
    CHECK(dnnl_primitive_desc_create(&pd, &pdsc, NULL, r->engine, NULL));
    CHECK(dnnl_primitive_create(&r->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    r->src = r->user_src;
    r->dst = r->user_dst;
    return 1;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return 0;
}

dnnl_runner *dnnl_runner_create(const bench_case *c, const float *x, const float *w, const float *b,
                                float *y)
{
    dnnl_runner *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    dnnl_geom g;
    if (!runner_open(r, c, &g))
        goto fail;
    CHECK(dnnl_memory_create(&r->user_src, &g.user_src_md, r->engine, (void *)x));
    CHECK(dnnl_memory_create(&r->user_dst, &g.user_dst_md, r->engine, y));
    int ok = 0;
    switch (c->kind) {
    case BENCH_CONV:
    case BENCH_CONV_TRANSPOSE: ok = setup_weighted_case(r, c, &g, w, b); break;
    case BENCH_MAX_POOL:
    case BENCH_AVERAGE_POOL:
    case BENCH_GLOBAL_MAX_POOL:
    case BENCH_GLOBAL_AVERAGE_POOL:
    case BENCH_LP_POOL:
    case BENCH_GLOBAL_LP_POOL: ok = setup_pooling(r, c, &g); break;
    case BENCH_UNKNOWN: break;
    }
    if (ok)
        return r;
fail:
    dnnl_runner_destroy(r);
    return NULL;
}

void dnnl_runner_run(dnnl_runner *r)
{
    if (r->src_reorder)
        run_reorder(r, r->src_reorder, r->user_src, r->src);
    if (r->weighted) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, r->src},
                                   {DNNL_ARG_WEIGHTS, r->weights},
                                   {DNNL_ARG_BIAS, r->bias},
                                   {DNNL_ARG_DST, r->dst}};
        dnnl_primitive_execute(r->prim, r->stream, 4, args);
    } else {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_DST, r->dst}};
        dnnl_primitive_execute(r->prim, r->stream, 2, args);
    }
    if (r->dst_reorder)
        run_reorder(r, r->dst_reorder, r->dst, r->user_dst);
    dnnl_stream_wait(r->stream);
}

void dnnl_runner_destroy(dnnl_runner *r)
{
    if (!r)
        return;
    dnnl_primitive_t prims[3] = {r->src_reorder, r->prim, r->dst_reorder};
    for (int i = 0; i < 3; i++)
        if (prims[i])
            dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[6] = {r->src != r->user_src ? r->src : NULL,
                             r->dst != r->user_dst ? r->dst : NULL,
                             r->user_src,
                             r->user_dst,
                             r->weights,
                             r->bias};
    for (int i = 0; i < 6; i++)
        if (mems[i])
            dnnl_memory_destroy(mems[i]);
    if (r->stream)
        dnnl_stream_destroy(r->stream);
    if (r->engine)
        dnnl_engine_destroy(r->engine);
    free(r);
}

/* ---- Backward passes ---------------------------------------------------- */

struct dnnl_bwd_runner {
    dnnl_runner core; /* its engine and stream (for make_reorder()); nothing else */
    dnnl_primitive_t prim;
    /* reorders from the user's NCHW / oihw buffers to the primitive's layouts
     * (before it) and back (after it), all timed */
    dnnl_primitive_t in_reorder[2], out_reorder[2];
    dnnl_memory_t in_from[2], in_to[2], out_from[2], out_to[2];
    int inputs, outputs;
    dnnl_exec_arg_t args[5];
    int nargs;
    dnnl_memory_t owned[16]; /* every memory object created, for destroy */
    int nowned;
};

/* A memory object on `data` (NULL: allocated by oneDNN), owned by b. */
static int backward_memory(dnnl_bwd_runner *b, const dnnl_memory_desc_t *md, void *data,
                           dnnl_memory_t *mem)
{
    CHECK(dnnl_memory_create(mem, md, b->core.engine, data ? data : DNNL_MEMORY_ALLOCATE));
    b->owned[b->nowned++] = *mem;
    return 1;
fail:
    return 0;
}

/* Argument `arg` of the primitive, read in layout `md` from the user's
 * buffer `data` (layout `user_md`): reordered before each run, or only once
 * now if `once` (weights, packed at setup as ours are). */
static int backward_input(dnnl_bwd_runner *b, const dnnl_memory_desc_t *user_md, const float *data,
                          const dnnl_memory_desc_t *md, int arg, int once)
{
    dnnl_memory_t user, to;
    dnnl_primitive_t reorder;
    if (!backward_memory(b, user_md, (void *)data, &user) ||
        !make_reorder(&b->core, user, user_md, md, &to, &reorder))
        return 0;
    if (to != user)
        b->owned[b->nowned++] = to;
    if (reorder && once) {
        run_reorder(&b->core, reorder, user, to);
        dnnl_stream_wait(b->core.stream);
        dnnl_primitive_destroy(reorder);
    } else if (reorder) {
        b->in_reorder[b->inputs] = reorder;
        b->in_from[b->inputs] = user;
        b->in_to[b->inputs++] = to;
    }
    b->args[b->nargs++] = (dnnl_exec_arg_t){arg, to};
    return 1;
}

/* Argument `arg` of the primitive, written in layout `md` and reordered
 * after each run into the user's buffer `data` (layout `user_md`). */
static int backward_output(dnnl_bwd_runner *b, const dnnl_memory_desc_t *user_md, float *data,
                           const dnnl_memory_desc_t *md, int arg)
{
    dnnl_memory_t user, from;
    dnnl_primitive_desc_t rpd = NULL;
    if (!backward_memory(b, user_md, data, &user))
        return 0;
    if (dnnl_memory_desc_equal(md, user_md)) {
        from = user;
    } else {
        if (!backward_memory(b, md, NULL, &from))
            return 0;
        CHECK(dnnl_reorder_primitive_desc_create(&rpd, md, b->core.engine, user_md, b->core.engine,
                                                 NULL));
        CHECK(dnnl_primitive_create(&b->out_reorder[b->outputs], rpd));
        dnnl_primitive_desc_destroy(rpd);
        b->out_from[b->outputs] = from;
        b->out_to[b->outputs++] = user;
    }
    b->args[b->nargs++] = (dnnl_exec_arg_t){arg, from};
    return 1;
fail:
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    return 0;
}

enum { ARG_IN, ARG_ONCE, ARG_OUT };

/* One argument of a backward primitive: its layout is the primitive
 * descriptor's answer to (query, index); the user's buffer `data` has layout
 * `user_md`. ARG_IN: reordered before each run; ARG_ONCE: reordered once at
 * setup (weights, packed then as ours are); ARG_OUT: written, reordered
 * after each run. */
typedef struct backward_arg {
    int arg;
    dnnl_query_t query;
    int index;
    const dnnl_memory_desc_t *user_md;
    float *data;
    int kind;
} backward_arg;

/* Creates *pd from the backward descriptor `desc` (with `fwd` as its hint)
 * and binds `count` arguments. */
static int backward_args(dnnl_bwd_runner *b, const void *desc, dnnl_primitive_desc_t fwd,
                         const backward_arg *args, int count, dnnl_primitive_desc_t *pd)
{
    CHECK(dnnl_primitive_desc_create(pd, desc, NULL, b->core.engine, fwd));
    for (int i = 0; i < count; i++) {
        const backward_arg *a = &args[i];
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(*pd, a->query, a->index);
        if (a->kind == ARG_OUT
                ? !backward_output(b, a->user_md, a->data, md, a->arg)
                : !backward_input(b, a->user_md, a->data, md, a->arg, a->kind == ARG_ONCE))
            return 0;
    }
    return 1;
fail:
    return 0;
}

/* The primitive of pd, and for max pooling the workspace that a forward
 * training run of `fwd` on x fills (oneDNN's form of the Indices). */
static int backward_pool_workspace(dnnl_bwd_runner *b, dnnl_primitive_desc_t fwd,
                                   const dnnl_memory_desc_t *src_md,
                                   const dnnl_memory_desc_t *dst_md, const float *x)
{
    const dnnl_memory_desc_t *ws_md = dnnl_primitive_desc_query_md(fwd, dnnl_query_workspace_md, 0);
    if (!ws_md || dnnl_memory_desc_get_size(ws_md) == 0)
        return 1;
    dnnl_memory_t src, dst, ws;
    dnnl_primitive_t prim = NULL;
    if (!backward_memory(b, src_md, (void *)x, &src) || !backward_memory(b, dst_md, NULL, &dst) ||
        !backward_memory(b, ws_md, NULL, &ws))
        return 0;
    CHECK(dnnl_primitive_create(&prim, fwd));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}};
    CHECK(dnnl_primitive_execute(prim, b->core.stream, 3, args));
    dnnl_stream_wait(b->core.stream);
    dnnl_primitive_destroy(prim);
    b->args[b->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ws};
    return 1;
fail:
    if (prim)
        dnnl_primitive_destroy(prim);
    return 0;
}

dnnl_bwd_runner *dnnl_bwd_runner_create(const bench_case *c, int weights, const float *x,
                                        const float *w, const float *dy, float *dx, float *dw,
                                        float *db)
{
    dnnl_bwd_runner *b = calloc(1, sizeof *b);
    dnnl_primitive_desc_t fwd = NULL, pd = NULL;
    if (!b)
        return NULL;
    dnnl_runner *r = &b->core;
    dnnl_geom g;
    if (!runner_open(r, c, &g))
        goto fail;
    int ok;
    if (c->kind == BENCH_CONV) {
        weighted_mds md;
        if (!init_weighted_mds(c, &g, &md))
            goto fail;
        dnnl_convolution_desc_t fd, bd;
        CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                 dnnl_convolution_direct, &md.src, &md.wei,
                                                 &md.bias, &md.dst, g.strides, g.pad_l, g.pad_r));
        CHECK(dnnl_primitive_desc_create(&fwd, &fd, NULL, r->engine, NULL));
        if (weights) {
            CHECK(dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &md.src,
                                                              &md.wei, &md.bias, &md.dst, g.strides,
                                                              g.pad_l, g.pad_r));
            const backward_arg args[] = {
                {DNNL_ARG_SRC, dnnl_query_src_md, 0, &g.user_src_md, (float *)x, ARG_IN},
                {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &g.user_dst_md, (float *)dy, ARG_IN},
                {DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0, &md.user_wei, dw, ARG_OUT},
                {DNNL_ARG_DIFF_BIAS, dnnl_query_diff_weights_md, 1, &md.bias, db, ARG_OUT}};
            ok = backward_args(b, &bd, fwd, args, 4, &pd);
        } else {
            CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &md.src,
                                                           &md.wei, &md.dst, g.strides, g.pad_l,
                                                           g.pad_r));
            const backward_arg args[] = {
                {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &md.user_wei, (float *)w, ARG_ONCE},
                {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &g.user_dst_md, (float *)dy, ARG_IN},
                {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, &g.user_src_md, dx, ARG_OUT}};
            ok = backward_args(b, &bd, fwd, args, 3, &pd);
        }
    } else {
        const dnnl_alg_kind_t alg = pooling_alg(c);
        pool_window(c, &g);
        dnnl_pooling_desc_t fd, bd;
        CHECK(dnnl_pooling_forward_desc_init(&fd, dnnl_forward_training, alg, &g.user_src_md,
                                             &g.user_dst_md, g.strides, g.kernel, g.pad_l,
                                             g.pad_r));
        CHECK(dnnl_primitive_desc_create(&fwd, &fd, NULL, r->engine, NULL));
        CHECK(dnnl_pooling_backward_desc_init(&bd, alg, &g.user_src_md, &g.user_dst_md, g.strides,
                                              g.kernel, g.pad_l, g.pad_r));
        const backward_arg args[] = {
            {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &g.user_dst_md, (float *)dy, ARG_IN},
            {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, &g.user_src_md, dx, ARG_OUT}};
        ok = backward_args(b, &bd, fwd, args, 2, &pd) &&
             backward_pool_workspace(b, fwd, &g.user_src_md, &g.user_dst_md, x);
    }
    if (!ok)
        goto fail;
    CHECK(dnnl_primitive_create(&b->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(fwd);
    return b;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd)
        dnnl_primitive_desc_destroy(fwd);
    dnnl_bwd_runner_destroy(b);
    return NULL;
}

void dnnl_bwd_runner_run(dnnl_bwd_runner *b)
{
    for (int i = 0; i < b->inputs; i++)
        run_reorder(&b->core, b->in_reorder[i], b->in_from[i], b->in_to[i]);
    dnnl_primitive_execute(b->prim, b->core.stream, b->nargs, b->args);
    for (int i = 0; i < b->outputs; i++)
        run_reorder(&b->core, b->out_reorder[i], b->out_from[i], b->out_to[i]);
    dnnl_stream_wait(b->core.stream);
}

void dnnl_bwd_runner_destroy(dnnl_bwd_runner *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->inputs; i++)
        dnnl_primitive_destroy(b->in_reorder[i]);
    for (int i = 0; i < b->outputs; i++)
        dnnl_primitive_destroy(b->out_reorder[i]);
    if (b->prim)
        dnnl_primitive_destroy(b->prim);
    for (int i = 0; i < b->nowned; i++)
        dnnl_memory_destroy(b->owned[i]);
    if (b->core.stream)
        dnnl_stream_destroy(b->core.stream);
    if (b->core.engine)
        dnnl_engine_destroy(b->core.engine);
    free(b);
}
