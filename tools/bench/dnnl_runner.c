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

dnnl_runner *dnnl_runner_create(const bench_case *c, const float *x, const float *w, const float *b,
                                float *y)
{
    dnnl_runner *r = calloc(1, sizeof *r);
    dnnl_primitive_desc_t pd = NULL;
    if (!r)
        return NULL;
    const int64_t oh = bench_out_h(c), ow = bench_out_w(c);
    r->conv = bench_is_conv(c);
    const int64_t m = r->conv ? c->m : c->c;
    dnnl_dims_t src_dims = {c->n, c->c, c->h, c->w}, dst_dims = {c->n, m, oh, ow};
    dnnl_dims_t strides = {c->sh, c->sw}, pad_l = {c->pads[0], c->pads[1]},
                pad_r = {c->pads[2], c->pads[3]}, kernel = {c->kh, c->kw};
    dnnl_memory_desc_t user_src_md, user_dst_md;
    CHECK(dnnl_engine_create(&r->engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&r->stream, r->engine, dnnl_stream_default_flags));
    CHECK(dnnl_memory_desc_init_by_tag(&user_src_md, 4, src_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&user_dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_create(&r->user_src, &user_src_md, r->engine, (void *)x));
    CHECK(dnnl_memory_create(&r->user_dst, &user_dst_md, r->engine, y));
    if (r->conv) {
        const int grouped = c->group > 1;
        dnnl_dims_t wdims_g = {c->group, c->m / c->group, c->c / c->group, c->kh, c->kw};
        dnnl_dims_t wdims = {c->m, c->c, c->kh, c->kw}, bdims = {c->m};
        dnnl_memory_desc_t src_any, dst_any, wei_any, user_wei_md, bias_md;
        CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&wei_any, grouped ? 5 : 4, grouped ? wdims_g : wdims,
                                           dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&user_wei_md, grouped ? 5 : 4, grouped ? wdims_g : wdims,
                                           dnnl_f32, grouped ? dnnl_goihw : dnnl_oihw));
        CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bdims, dnnl_f32, dnnl_x));
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
        dnnl_alg_kind_t alg = c->op[0] == 'M' || strcmp(c->op, "GlobalMaxPool") == 0
                                  ? dnnl_pooling_max
                              : c->count_include_pad ? dnnl_pooling_avg_include_padding
                                                     : dnnl_pooling_avg_exclude_padding;
        if (bench_is_global(c)) {
            kernel[0] = c->h;
            kernel[1] = c->w;
            strides[0] = strides[1] = 1;
            pad_l[0] = pad_l[1] = pad_r[0] = pad_r[1] = 0;
        }
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
