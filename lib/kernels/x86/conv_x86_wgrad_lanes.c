/*
 * The weight gradient's lanes path (see kernels/x86/conv_x86_wgrad.h for
 * the operands): vectors run along the reduction. b's frame is split into
 * stride phases (plane (p0, p1, p2) holds the frame positions w with
 * w % stride = p, at w / stride), so that tap k of pixel u reads phase
 * plane phase(k) at u + off(k): a contiguous line for any stride and
 * dilation. a is laid out at the phase planes' pitch (its row u0, u1 at
 * (u0*qd1 + u1)*qd2), zeros between its rows, so one flat index q serves
 * both and a row of a's grid never needs a bounds test. A tile of rows x
 * columns then correlates rows of a with column lines of b, lane by lane,
 * over the whole batch, and reduces each lane sum once at the end.
 *
 * The zeros between a's rows cost (qd2 - a2) / qd2 of the work, and each
 * tile's final reduction a fixed amount: the path is for long reductions
 * (large planes, batches) and for groups of few rows (depthwise), whose
 * GEMM tiles would be mostly empty.
 *
 * Order: lane l of a tile's accumulator sums the terms at q = l (mod vw)
 * in batch order then q order; the lanes are reduced in the kernel's fixed
 * order. One task owns a tile over the whole reduction: the same result
 * for any thread count.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/threadpool.h"

/* Fewest vectors per tile reduction, and the least share of a's laid-out
 * rows that holds pixels, for the lanes path on groups of many rows. */
#define LANES_MIN_VECTORS      32
#define LANES_MIN_FILL_PERCENT 75

typedef struct lanes_plan {
    int64_t nph;                /* phase planes per channel: stride0 * stride1 * stride2 */
    int64_t qd[3];              /* a phase plane's dims */
    int64_t lph;                /* floats per phase plane, with a vector of slack */
    int64_t qlen;               /* floats per laid-out row of a, whole vectors */
    int64_t r_blocks, c_blocks; /* tiles per group */
    size_t a_bytes, b_bytes, loff_bytes;
} lanes_plan;

static void plan_lanes(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k,
                       lanes_plan *p)
{
    const int64_t vw = k->vw, *ad = o->a_dims;
    p->nph = g->stride[0] * g->stride[1] * g->stride[2];
    for (int i = 0; i < 3; i++)
        p->qd[i] = (o->pdims[i] + g->stride[i] - 1) / g->stride[i];
    /* the last vector of a row reads past the last pixel's line by < vw */
    p->lph = p->qd[0] * p->qd[1] * p->qd[2] + vw;
    p->qlen = (((ad[0] - 1) * p->qd[1] + ad[1] - 1) * p->qd[2] + ad[2] + vw - 1) / vw * vw;
    p->r_blocks = (o->a_pg + k->lane_mr - 1) / k->lane_mr;
    p->c_blocks = (o->cols + k->lane_nb - 1) / k->lane_nb;
    p->a_bytes = cp_align_up((size_t)(g->n * o->a_ch * p->qlen) * sizeof(float));
    p->b_bytes = cp_align_up((size_t)(g->n * o->b_ch * p->nph * p->lph) * sizeof(float));
    p->loff_bytes = cp_align_up((size_t)o->cols * sizeof(int64_t));
}

int cp_x86_wgrad_lanes_fit(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k)
{
    lanes_plan p;
    plan_lanes(o, g, k, &p);
    const int64_t plane = o->a_dims[0] * o->a_dims[1] * o->a_dims[2];
    if (o->a_pg < k->gemm_mr)
        return 1;
    return g->n * p.qlen >= LANES_MIN_VECTORS * k->vw &&
           plane * 100 >= p.qlen * LANES_MIN_FILL_PERCENT;
}

size_t cp_x86_wgrad_lanes_workspace(const cp_wgrad_operands *o, const cp_geom *g,
                                    const cp_grad_kernels *k)
{
    lanes_plan p;
    plan_lanes(o, g, k, &p);
    return p.a_bytes + p.b_bytes + p.loff_bytes;
}

typedef struct lanes_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
    const cp_wgrad_operands *o;
    lanes_plan p;
    float *aq, *bq; /* a laid out, b's phase planes */
    int64_t *loff;  /* per column: its line's offset in the group's phase planes */
    int64_t a_tasks;
} lanes_job;

/* a's plane `row` (n, channel) at the phase planes' pitch. */
static void lay_out_a(const lanes_job *j, int64_t row)
{
    const cp_wgrad_operands *o = j->o;
    const int64_t *ad = o->a_dims, *qd = j->p.qd;
    float *dst = j->aq + row * j->p.qlen;
    const float *src = o->a + row * ad[0] * ad[1] * ad[2];
    memset(dst, 0, (size_t)j->p.qlen * sizeof(float));
    for (int64_t u0 = 0; u0 < ad[0]; u0++)
        for (int64_t u1 = 0; u1 < ad[1]; u1++, src += ad[2])
            memcpy(dst + (u0 * qd[1] + u1) * qd[2], src, (size_t)ad[2] * sizeof(float));
}

/* b's plane `plane` (n, channel) into its phase planes. */
static void split_b(const lanes_job *j, int64_t plane)
{
    const cp_wgrad_operands *o = j->o;
    const cp_geom *g = j->args->geom;
    const int64_t *bd = o->b_dims, *qd = j->p.qd, *sh = o->shift, *s = g->stride;
    const int64_t lph = j->p.lph;
    float *dst = j->bq + plane * j->p.nph * lph;
    const float *src = o->b + plane * bd[0] * bd[1] * bd[2];
    memset(dst, 0, (size_t)(j->p.nph * lph) * sizeof(float));
    for (int64_t v0 = 0; v0 < bd[0]; v0++)
        for (int64_t v1 = 0; v1 < bd[1]; v1++, src += bd[2]) {
            const int64_t w0 = v0 + sh[0], w1 = v1 + sh[1];
            float *row = dst + ((w0 % s[0]) * s[1] + w1 % s[1]) * s[2] * lph +
                         ((w0 / s[0]) * qd[1] + w1 / s[1]) * qd[2];
            if (s[2] == 1) {
                memcpy(row + sh[2], src, (size_t)bd[2] * sizeof(float));
                continue;
            }
            for (int64_t v2 = 0; v2 < bd[2]; v2++) {
                const int64_t w2 = v2 + sh[2];
                row[(w2 % s[2]) * lph + w2 / s[2]] = src[v2];
            }
        }
}

static void prepare_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const lanes_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        if (t < j->a_tasks)
            lay_out_a(j, t);
        else
            split_b(j, t - j->a_tasks);
    }
}

/* Task: one tile (group, block of rows, block of columns), columns inner
 * so that a thread's consecutive tiles share their rows of a. */
static void tile_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const lanes_job *j = arg;
    const cp_wgrad_operands *o = j->o;
    const cp_geom *g = j->args->geom;
    const int64_t mr = j->k->lane_mr, nb = j->k->lane_nb, lph = j->p.lph;
    for (int64_t t = begin; t < end; t++) {
        const int64_t cb = t % j->p.c_blocks, rb = t / j->p.c_blocks % j->p.r_blocks;
        const int64_t grp = t / j->p.c_blocks / j->p.r_blocks;
        const int64_t r0 = grp * o->a_pg + rb * mr, c0 = cb * nb;
        const int64_t rows = o->a_pg - rb * mr < mr ? o->a_pg - rb * mr : mr;
        const int64_t cols = o->cols - c0 < nb ? o->cols - c0 : nb;
        j->k->lane[rows - 1][cols - 1](
            g->n, j->p.qlen / j->k->vw, j->aq + r0 * j->p.qlen, j->p.qlen, o->a_ch * j->p.qlen,
            j->bq + grp * o->b_pg * j->p.nph * lph, j->loff + c0, o->b_ch * j->p.nph * lph,
            j->args->dw + r0 * o->cols + c0, o->cols);
    }
}

void cp_x86_wgrad_lanes(const cp_backward_args *a, const cp_grad_kernels *k,
                        const cp_wgrad_operands *o)
{
    const cp_geom *g = a->geom;
    lanes_job j = {a, k, o, {0}, NULL, NULL, NULL, 0};
    plan_lanes(o, g, k, &j.p);
    char *ws = a->workspace;
    j.aq = (float *)ws;
    j.bq = (float *)(ws + j.p.a_bytes);
    j.loff = (int64_t *)(ws + j.p.a_bytes + j.p.b_bytes);
    for (int64_t c = 0; c < o->cols; c++) {
        const int64_t ch = c / o->taps, t = c % o->taps;
        const int64_t kk[3] = {t / (g->kernel[1] * g->kernel[2]), t / g->kernel[2] % g->kernel[1],
                               t % g->kernel[2]};
        int64_t phase = 0, at = 0;
        for (int i = 0; i < 3; i++) {
            const int64_t w = kk[i] * g->dilation[i] - g->pad_begin[i] + o->shift[i];
            phase = phase * g->stride[i] + w % g->stride[i];
            at = at * j.p.qd[i] + w / g->stride[i];
        }
        j.loff[c] = (ch * j.p.nph + phase) * j.p.lph + at;
    }
    const int32_t threads = cp_wgrad_threads(a, o);
    j.a_tasks = g->n * o->a_ch;
    cp_parallel_for(a->ctx, j.a_tasks + g->n * o->b_ch, threads, prepare_task, &j);
    cp_parallel_for(a->ctx, o->group * j.p.r_blocks * j.p.c_blocks, threads, tile_task, &j);
}
