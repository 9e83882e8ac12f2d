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

static int setup_convolution(dnnl_runner *r, const bench_case *c, const dnnl_geom *g,
                             const float *w, const float *b)
{
    weighted_mds md;
    dnnl_convolution_desc_t cd;
    if (!init_weighted_mds(c, g, &md))
        return 0;
    CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                             &md.src, &md.wei, &md.bias, &md.dst, g->strides,
                                             g->pad_l, g->pad_r));
    return create_weighted(r, g, &cd, &md, w, b);
fail:
    return 0;
}

/* oneDNN's pads crop the full output as ONNX's do (no output_padding here). */
static int setup_deconvolution(dnnl_runner *r, const bench_case *c, const dnnl_geom *g,
                               const float *w, const float *b)
{
    weighted_mds md;
    dnnl_deconvolution_desc_t dd;
    if (!init_weighted_mds(c, g, &md))
        return 0;
    CHECK(dnnl_deconvolution_forward_desc_init(&dd, dnnl_forward_inference,
                                               dnnl_deconvolution_direct, &md.src, &md.wei,
                                               &md.bias, &md.dst, g->strides, g->pad_l, g->pad_r));
    return create_weighted(r, g, &dd, &md, w, b);
fail:
    return 0;
}

/* Pools run directly on NCHW src and dst. */
static int setup_pooling(dnnl_runner *r, const bench_case *c, dnnl_geom *g)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_pooling_desc_t pdsc;
    if (bench_is_global(c)) {
        g->kernel[0] = c->h;
        g->kernel[1] = c->w;
        g->strides[0] = g->strides[1] = 1;
        g->pad_l[0] = g->pad_l[1] = g->pad_r[0] = g->pad_r[1] = 0;
    }
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
    const int64_t m = bench_has_weights(c) ? c->m : c->c;
    const dnnl_dims_t src = {c->n, c->c, c->h, c->w},
                      dst = {c->n, m, bench_out_h(c), bench_out_w(c)}, strides = {c->sh, c->sw},
                      pad_l = {c->pads[0], c->pads[1]}, pad_r = {c->pads[2], c->pads[3]},
                      kernel = {c->kh, c->kw};
    dnnl_geom g;
    memcpy(g.src, src, sizeof src);
    memcpy(g.dst, dst, sizeof dst);
    memcpy(g.strides, strides, sizeof strides);
    memcpy(g.pad_l, pad_l, sizeof pad_l);
    memcpy(g.pad_r, pad_r, sizeof pad_r);
    memcpy(g.kernel, kernel, sizeof kernel);
    CHECK(dnnl_engine_create(&r->engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&r->stream, r->engine, dnnl_stream_default_flags));
    CHECK(dnnl_memory_desc_init_by_tag(&g.user_src_md, 4, g.src, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&g.user_dst_md, 4, g.dst, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_create(&r->user_src, &g.user_src_md, r->engine, (void *)x));
    CHECK(dnnl_memory_create(&r->user_dst, &g.user_dst_md, r->engine, y));
    int ok = 0;
    switch (c->kind) {
    case BENCH_CONV: ok = setup_convolution(r, c, &g, w, b); break;
    case BENCH_CONV_TRANSPOSE: ok = setup_deconvolution(r, c, &g, w, b); break;
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
