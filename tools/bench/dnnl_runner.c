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
    int conv;
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

/* Creates r's engine and stream, and gives a case's NCHW src and dst dims
 * and memory descriptors and its 2-D geometry. */
static int runner_open(dnnl_runner *r, const bench_case *c, dnnl_dims_t src_dims,
                       dnnl_dims_t dst_dims, dnnl_dims_t strides, dnnl_dims_t pad_l,
                       dnnl_dims_t pad_r, dnnl_dims_t kernel, dnnl_memory_desc_t *user_src_md,
                       dnnl_memory_desc_t *user_dst_md)
{
    const int64_t src[4] = {c->n, c->c, c->h, c->w},
                  dst[4] = {c->n, bench_is_conv(c) ? c->m : c->c, bench_out_h(c), bench_out_w(c)};
    memcpy(src_dims, src, sizeof src);
    memcpy(dst_dims, dst, sizeof dst);
    strides[0] = c->sh;
    strides[1] = c->sw;
    pad_l[0] = c->pads[0];
    pad_l[1] = c->pads[1];
    pad_r[0] = c->pads[2];
    pad_r[1] = c->pads[3];
    kernel[0] = c->kh;
    kernel[1] = c->kw;
    CHECK(dnnl_engine_create(&r->engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&r->stream, r->engine, dnnl_stream_default_flags));
    CHECK(dnnl_memory_desc_init_by_tag(user_src_md, 4, src_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(user_dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw));
    return 1;
fail:
    return 0;
}

/* A Conv case's memory descriptors: src, weights and dst in format any
 * (oneDNN picks its layout), the user's weights (oihw, goihw when grouped)
 * and the bias. */
static int conv_mds(const bench_case *c, const dnnl_dims_t src_dims, const dnnl_dims_t dst_dims,
                    dnnl_memory_desc_t *src_any, dnnl_memory_desc_t *wei_any,
                    dnnl_memory_desc_t *dst_any, dnnl_memory_desc_t *user_wei_md,
                    dnnl_memory_desc_t *bias_md)
{
    const int grouped = c->group > 1;
    dnnl_dims_t wdims_g = {c->group, c->m / c->group, c->c / c->group, c->kh, c->kw};
    dnnl_dims_t wdims = {c->m, c->c, c->kh, c->kw}, bdims = {c->m};
    CHECK(dnnl_memory_desc_init_by_tag(src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(wei_any, grouped ? 5 : 4, grouped ? wdims_g : wdims,
                                       dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(user_wei_md, grouped ? 5 : 4, grouped ? wdims_g : wdims,
                                       dnnl_f32, grouped ? dnnl_goihw : dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(bias_md, 1, bdims, dnnl_f32, dnnl_x));
    return 1;
fail:
    return 0;
}

/* A pooling case's oneDNN algorithm; a global pool's window is the whole
 * plane (the geometry arrays are set from the case by the caller). */
static dnnl_alg_kind_t pool_geometry(const bench_case *c, dnnl_dims_t strides, dnnl_dims_t kernel,
                                     dnnl_dims_t pad_l, dnnl_dims_t pad_r)
{
    if (bench_is_global(c)) {
        kernel[0] = c->h;
        kernel[1] = c->w;
        strides[0] = strides[1] = 1;
        pad_l[0] = pad_l[1] = pad_r[0] = pad_r[1] = 0;
    }
    return c->op[0] == 'M' || strcmp(c->op, "GlobalMaxPool") == 0 ? dnnl_pooling_max
           : c->count_include_pad                                 ? dnnl_pooling_avg_include_padding
                                  : dnnl_pooling_avg_exclude_padding;
}

dnnl_runner *dnnl_runner_create(const bench_case *c, const float *x, const float *w, const float *b,
                                float *y)
{
    dnnl_runner *r = calloc(1, sizeof *r);
    dnnl_primitive_desc_t pd = NULL;
    if (!r)
        return NULL;
    r->conv = bench_is_conv(c);
    dnnl_dims_t src_dims, dst_dims, strides, pad_l, pad_r, kernel;
    dnnl_memory_desc_t user_src_md, user_dst_md;
    if (!runner_open(r, c, src_dims, dst_dims, strides, pad_l, pad_r, kernel, &user_src_md,
                     &user_dst_md))
        goto fail;
    CHECK(dnnl_memory_create(&r->user_src, &user_src_md, r->engine, (void *)x));
    CHECK(dnnl_memory_create(&r->user_dst, &user_dst_md, r->engine, y));
    if (r->conv) {
        dnnl_memory_desc_t src_any, dst_any, wei_any, user_wei_md, bias_md;
        if (!conv_mds(c, src_dims, dst_dims, &src_any, &wei_any, &dst_any, &user_wei_md, &bias_md))
            goto fail;
        dnnl_convolution_desc_t cd;
        CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                 dnnl_convolution_direct, &src_any, &wei_any,
                                                 &bias_md, &dst_any, strides, pad_l, pad_r));
        CHECK(dnnl_primitive_desc_create(&pd, &cd, NULL, r->engine, NULL));
        CHECK(dnnl_primitive_create(&r->prim, pd));
        dnnl_memory_t user_wei;
        dnnl_primitive_t wei_reorder;
        CHECK(dnnl_memory_create(&user_wei, &user_wei_md, r->engine, (void *)w));
        CHECK(dnnl_memory_create(&r->bias, &bias_md, r->engine, (void *)b));
        if (!make_reorder(r, r->user_src, &user_src_md,
                          dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), &r->src,
                          &r->src_reorder) ||
            !make_reorder(r, user_wei, &user_wei_md,
                          dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &r->weights,
                          &wei_reorder))
            goto fail;
        /* the dst reorder goes the other way: from oneDNN's layout to NCHW */
        const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        if (dnnl_memory_desc_equal(dst_md, &user_dst_md)) {
            r->dst = r->user_dst;
        } else {
            dnnl_primitive_desc_t rpd;
            CHECK(dnnl_memory_create(&r->dst, dst_md, r->engine, DNNL_MEMORY_ALLOCATE));
            CHECK(dnnl_reorder_primitive_desc_create(&rpd, dst_md, r->engine, &user_dst_md,
                                                     r->engine, NULL));
            CHECK(dnnl_primitive_create(&r->dst_reorder, rpd));
            dnnl_primitive_desc_destroy(rpd);
        }
        if (wei_reorder) { /* once: weights are packed at setup, as ours are */
            run_reorder(r, wei_reorder, user_wei, r->weights);
            dnnl_stream_wait(r->stream);
            dnnl_primitive_destroy(wei_reorder);
            dnnl_memory_destroy(user_wei);
        }
    } else {
        const dnnl_alg_kind_t alg = pool_geometry(c, strides, kernel, pad_l, pad_r);
        dnnl_pooling_desc_t pdsc;
        CHECK(dnnl_pooling_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &user_src_md,
                                             &user_dst_md, strides, kernel, pad_l, pad_r));
        CHECK(dnnl_primitive_desc_create(&pd, &pdsc, NULL, r->engine, NULL));
        CHECK(dnnl_primitive_create(&r->prim, pd));
        r->src = r->user_src;
        r->dst = r->user_dst;
    }
    dnnl_primitive_desc_destroy(pd);
    return r;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    dnnl_runner_destroy(r);
    return NULL;
}

void dnnl_runner_run(dnnl_runner *r)
{
    if (r->src_reorder)
        run_reorder(r, r->src_reorder, r->user_src, r->src);
    if (r->conv) {
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
    dnnl_dims_t src_dims, dst_dims, strides, pad_l, pad_r, kernel;
    dnnl_memory_desc_t user_src_md, user_dst_md;
    if (!runner_open(r, c, src_dims, dst_dims, strides, pad_l, pad_r, kernel, &user_src_md,
                     &user_dst_md))
        goto fail;
    int ok;
    if (bench_is_conv(c)) {
        dnnl_memory_desc_t src_any, dst_any, wei_any, user_wei_md, bias_md;
        if (!conv_mds(c, src_dims, dst_dims, &src_any, &wei_any, &dst_any, &user_wei_md, &bias_md))
            goto fail;
        dnnl_convolution_desc_t fd, bd;
        CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                 dnnl_convolution_direct, &src_any, &wei_any,
                                                 &bias_md, &dst_any, strides, pad_l, pad_r));
        CHECK(dnnl_primitive_desc_create(&fwd, &fd, NULL, r->engine, NULL));
        if (weights) {
            CHECK(dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct,
                                                              &src_any, &wei_any, &bias_md,
                                                              &dst_any, strides, pad_l, pad_r));
            const backward_arg args[] = {
                {DNNL_ARG_SRC, dnnl_query_src_md, 0, &user_src_md, (float *)x, ARG_IN},
                {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &user_dst_md, (float *)dy, ARG_IN},
                {DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0, &user_wei_md, dw, ARG_OUT},
                {DNNL_ARG_DIFF_BIAS, dnnl_query_diff_weights_md, 1, &bias_md, db, ARG_OUT}};
            ok = backward_args(b, &bd, fwd, args, 4, &pd);
        } else {
            CHECK(dnnl_convolution_backward_data_desc_init(
                &bd, dnnl_convolution_direct, &src_any, &wei_any, &dst_any, strides, pad_l, pad_r));
            const backward_arg args[] = {
                {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &user_wei_md, (float *)w, ARG_ONCE},
                {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &user_dst_md, (float *)dy, ARG_IN},
                {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, &user_src_md, dx, ARG_OUT}};
            ok = backward_args(b, &bd, fwd, args, 3, &pd);
        }
    } else {
        const dnnl_alg_kind_t alg = pool_geometry(c, strides, kernel, pad_l, pad_r);
        dnnl_pooling_desc_t fd, bd;
        CHECK(dnnl_pooling_forward_desc_init(&fd, dnnl_forward_training, alg, &user_src_md,
                                             &user_dst_md, strides, kernel, pad_l, pad_r));
        CHECK(dnnl_primitive_desc_create(&fwd, &fd, NULL, r->engine, NULL));
        CHECK(dnnl_pooling_backward_desc_init(&bd, alg, &user_src_md, &user_dst_md, strides, kernel,
                                              pad_l, pad_r));
        const backward_arg args[] = {
            {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &user_dst_md, (float *)dy, ARG_IN},
            {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, &user_src_md, dx, ARG_OUT}};
        ok = backward_args(b, &bd, fwd, args, 2, &pd) &&
             backward_pool_workspace(b, fwd, &user_src_md, &user_dst_md, x);
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
