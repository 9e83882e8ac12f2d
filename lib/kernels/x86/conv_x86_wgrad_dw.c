/*
 * The weight gradient's depthwise path (see kernels/x86/conv_x86_wgrad.h
 * for the operands): where every dw row reads one channel of b (depthwise,
 * with or without a channel multiplier) on planes (1-D, 2-D), each row is
 * one task of the kernels' depthwise micro-kernel, which reads a and b
 * where they are (no frame, no phase split, no workspace) and sums a Conv's
 * db in the same walk. The lanes path
 * would lay both out first, which costs more than the products on these
 * short per-channel reductions.
 *
 * Order: fixed by the geometry (the micro-kernel's), one task per row: the
 * same result for any thread count.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include "runtime/threadpool.h"

/* Planes and columns small enough for the micro-kernel's int32 positions. */
#define DW_DIM_MAX (1 << 28)

int cp_x86_wgrad_dw_fit(const cp_wgrad_operands *o, const cp_geom *g)
{
    if (o->b_pg != 1 || o->a_dims[0] != 1 || o->b_dims[0] != 1 || g->kernel[0] != 1 ||
        g->pad_begin[0] != 0)
        return 0;
    if (g->stride[2] > 2 || g->kernel[2] > CP_GRAD_DW_KW_MAX)
        return 0;
    const int64_t reach = (g->kernel[2] - 1) * g->dilation[2] + 2 * 16 + g->pad_begin[2];
    for (int i = 1; i < 3; i++)
        if (o->a_dims[i] > DW_DIM_MAX || o->b_dims[i] > DW_DIM_MAX || g->stride[i] > DW_DIM_MAX ||
            g->dilation[i] > DW_DIM_MAX || g->pad_begin[i] > DW_DIM_MAX)
            return 0;
    return o->a_dims[2] * g->stride[2] + reach <= DW_DIM_MAX;
}

typedef struct dw_job {
    const cp_grad_kernels *k;
    const cp_wgrad_operands *o;
    cp_grad_dw_geom d;
    float *dw;
    float *db; /* Conv's db (a is dy), or NULL */
} dw_job;

static void dw_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const dw_job *j = arg;
    const cp_wgrad_operands *o = j->o;
    const int64_t a_plane = o->a_dims[1] * o->a_dims[2], b_plane = o->b_dims[1] * o->b_dims[2];
    for (int64_t r = begin; r < end; r++)
        j->k->depthwise(&j->d, o->a + r * a_plane, o->b + (r / o->a_pg) * b_plane,
                        j->dw + r * o->taps, j->db ? j->db + r : NULL);
}

int cp_x86_wgrad_dw(const cp_backward_args *a, const cp_grad_kernels *k, const cp_wgrad_operands *o)
{
    const cp_geom *g = a->geom;
    dw_job j = {.k = k, .o = o, .dw = a->dw};
    if (a->op->attrs.kind == CONVPOOL_OP_CONV)
        j.db = a->db;
    j.d = (cp_grad_dw_geom){
        .batch = g->n,
        .a_batch = o->a_ch * o->a_dims[1] * o->a_dims[2],
        .b_batch = o->b_ch * o->b_dims[1] * o->b_dims[2],
        .a_h = (int32_t)o->a_dims[1],
        .a_w = (int32_t)o->a_dims[2],
        .b_h = (int32_t)o->b_dims[1],
        .b_w = (int32_t)o->b_dims[2],
        .kh = (int32_t)g->kernel[1],
        .kw = (int32_t)g->kernel[2],
        .stride_h = (int32_t)g->stride[1],
        .stride_w = (int32_t)g->stride[2],
        .dil_h = (int32_t)g->dilation[1],
        .dil_w = (int32_t)g->dilation[2],
        .pad_h = (int32_t)g->pad_begin[1],
        .pad_w = (int32_t)g->pad_begin[2],
    };
    cp_parallel_for(a->ctx, o->a_ch, cp_wgrad_threads(a, o), dw_task, &j);
    return j.db != NULL;
}
