/*
 * The weight gradient on x86: its operands, what both paths share, the
 * choice of path per run (kernels/x86/conv_x86_wgrad.h), and db.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include <string.h>

#include "runtime/threadpool.h"

/* Multiply-adds below which a second thread costs more than it saves. */
#define WGRAD_MIN_WORK_PER_THREAD (1 << 17)

static int64_t max64(int64_t x, int64_t y)
{
    return x > y ? x : y;
}

void cp_wgrad_operands_of(const convpool_op *op, const cp_geom *g, const float *x, const float *dy,
                          cp_wgrad_operands *o)
{
    const int t = op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE;
    const int64_t *a_dims = t ? g->in : g->out, *b_dims = t ? g->out : g->in;
    memset(o, 0, sizeof *o);
    o->a = t ? x : dy;
    o->b = t ? dy : x;
    o->a_ch = t ? g->c : g->m;
    o->b_ch = t ? g->m : g->c;
    o->group = g->group;
    o->a_pg = o->a_ch / g->group;
    o->b_pg = o->b_ch / g->group;
    o->taps = 1;
    for (int i = 0; i < 3; i++) {
        /* the positions u*stride + k*dilation - pad_begin reached, over
         * every u of a's grid and every tap: [-pad_begin, hi) */
        const int64_t hi = (a_dims[i] - 1) * g->stride[i] + (g->kernel[i] - 1) * g->dilation[i] -
                           g->pad_begin[i] + 1;
        o->a_dims[i] = a_dims[i];
        o->b_dims[i] = b_dims[i];
        o->shift[i] = max64(0, g->pad_begin[i]);
        o->pdims[i] = max64(hi, b_dims[i]) + o->shift[i];
        o->padded |= o->shift[i] > 0 || hi > b_dims[i];
        o->taps *= g->kernel[i];
    }
    if (!o->padded)
        for (int i = 0; i < 3; i++)
            o->pdims[i] = b_dims[i];
    o->pplane = o->pdims[0] * o->pdims[1] * o->pdims[2];
    o->cols = o->b_pg * o->taps;
    o->pixels = g->n * a_dims[0] * a_dims[1] * a_dims[2];
}

static int64_t column_offset(const cp_wgrad_operands *o, const cp_geom *g, int64_t j)
{
    const int64_t c = j / o->taps, t = j % o->taps;
    const int64_t kk[3] = {t / (g->kernel[1] * g->kernel[2]), t / g->kernel[2] % g->kernel[1],
                           t % g->kernel[2]};
    int64_t v[3];
    for (int i = 0; i < 3; i++)
        v[i] = kk[i] * g->dilation[i] - g->pad_begin[i] + o->shift[i];
    return c * o->pplane + (v[0] * o->pdims[1] + v[1]) * o->pdims[2] + v[2];
}

void cp_wgrad_column_offsets(const cp_wgrad_operands *o, const cp_geom *g, int64_t *coff)
{
    /* a channel's columns are the first channel's a plane further on (the
     * divisions of each column's own offset cost 4% of a 512 x 512 x 3 x 3
     * dw) */
    for (int64_t j = 0; j < o->cols; j++)
        coff[j] = j < o->taps ? column_offset(o, g, j) : coff[j - o->taps] + o->pplane;
}

int32_t cp_wgrad_threads(const cp_backward_args *a, const cp_wgrad_operands *o)
{
    const int32_t threads =
        cp_threads_for_work(o->group * o->a_pg * o->cols * o->pixels, WGRAD_MIN_WORK_PER_THREAD);
    const int32_t most = cp_context_threads(a->ctx);
    return threads < most ? threads : most;
}

void cp_wgrad_frame_plane(const cp_wgrad_operands *o, int64_t plane, float *dst)
{
    const int64_t *bd = o->b_dims;
    const float *src = o->b + plane * bd[0] * bd[1] * bd[2];
    memset(dst, 0, (size_t)o->pplane * sizeof(float));
    for (int64_t v0 = 0; v0 < bd[0]; v0++)
        for (int64_t v1 = 0; v1 < bd[1]; v1++, src += bd[2])
            memcpy(dst + ((v0 + o->shift[0]) * o->pdims[1] + v1 + o->shift[1]) * o->pdims[2] +
                       o->shift[2],
                   src, (size_t)bd[2] * sizeof(float));
}

size_t cp_x86_weight_grad_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k)
{
    cp_wgrad_operands o;
    cp_wgrad_operands_of(op, g, NULL, NULL, &o);
    if (cp_x86_wgrad_dw_fit(&o, g))
        return 0;
    if (cp_x86_wgrad_outer_fit(&o, g, k))
        return cp_x86_wgrad_outer_workspace(&o, g, threads, k);
    return cp_x86_wgrad_lanes_fit(&o, g, k) ? cp_x86_wgrad_lanes_workspace(&o, g, threads, k)
                                            : cp_x86_wgrad_gemm_workspace(&o, g, threads, k);
}

typedef struct bias_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
} bias_job;

static void bias_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const bias_job *j = arg;
    const cp_geom *g = j->args->geom;
    const int64_t plane = cp_geom_out_plane(g);
    for (int64_t m = begin; m < end; m++)
        j->args->db[m] = j->k->sum(j->args->dy + m * plane, plane, g->n, g->m * plane);
}

void cp_x86_bias_grad(const cp_backward_args *a, const cp_grad_kernels *k)
{
    const cp_geom *g = a->geom;
    bias_job j = {a, k};
    cp_parallel_for(
        a->ctx, g->m,
        cp_threads_for_work(g->m * g->n * cp_geom_out_plane(g), WGRAD_MIN_WORK_PER_THREAD),
        bias_task, &j);
}

int cp_x86_weight_grad(const cp_backward_args *a, const cp_grad_kernels *k)
{
    cp_wgrad_operands o;
    cp_wgrad_operands_of(a->op, a->geom, a->x, a->dy, &o);
    if (cp_x86_wgrad_dw_fit(&o, a->geom))
        return cp_x86_wgrad_dw(a, k, &o);
    if (cp_x86_wgrad_outer_fit(&o, a->geom, k))
        return cp_x86_wgrad_outer(a, k, &o);
    if (cp_x86_wgrad_lanes_fit(&o, a->geom, k))
        return cp_x86_wgrad_lanes(a, k, &o);
    return cp_x86_wgrad_gemm(a, k, &o);
}
