/*
 * The weight gradient of Conv and ConvTranspose as one GEMM per group whose
 * reduction runs over the pixels of the batch. With the correlation of
 * cp_ref_conv_weight_grad (Conv: a = dy, b = x; ConvTranspose: a = x,
 * b = dy), row r of dw is an a channel and column j = (b channel in the
 * group, tap) of dw's own layout, so
 *     dw[r, j] = sum over pixels p of a[r, p] * b[channel(j), p*stride + off(tap(j))]
 * where p runs over every position u of a's grid in every batch item.
 *
 * Operands:
 *  - b is read through a zero-padded copy whose borders hold every
 *    position a tap reaches outside b (or in place when none does), so a
 *    column is b at a constant offset from the pixel's window origin
 *    (coff[j]) and no term needs a bounds test; strides and dilations are
 *    in the offsets. The terms that read padding add exact zeros.
 *  - a is packed once per run, per block of gemm_mr rows, as gemm_mr values
 *    per pixel (zeros past the group's last row), shared by all threads.
 *  - b's columns are gathered per task, a panel of up to gemm_nv vectors of
 *    columns over a chunk of pixels sized to stay in L1 while every row
 *    block of the task runs over it.
 *
 * Order: each dw element is summed chunk by chunk in ascending pixel order,
 * a chunk's products in one chain from zero, then added to the element
 * (two levels: the chunk keeps the rounding error of long reductions
 * small). The chunk length comes from the cache sizes alone, and a task
 * (group, column panel, slab of row blocks) owns its elements over the
 * whole reduction: bitwise the same result for any thread count.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* Multiply-adds below which a second thread costs more than it saves. */
#define WGRAD_MIN_WORK_PER_THREAD (1 << 17)
/* Fewest pixels per chunk, so that a tile's final adds stay a small part. */
#define WGRAD_MIN_CHUNK 32

typedef struct wgrad_plan {
    const float *a, *b;
    int64_t a_ch, b_ch, a_pg, b_pg, group;
    int64_t a_dims[3];
    int64_t pdims[3]; /* b's dims as read: padded, or b's own */
    int64_t shift[3]; /* where b's position 0 lies in pdims */
    int64_t pplane;   /* pdims[0] * pdims[1] * pdims[2] */
    int padded;
    int64_t taps, cols; /* columns of a group: b_pg * taps */
    int64_t pixels;     /* the reduction: batch times a's plane */
    int64_t mr, width;  /* tile rows, widest panel in floats */
    int64_t chunk;      /* pixels per chunk */
    int64_t m_blocks, panels;
    size_t pad_bytes, a_bytes, coff_bytes, panel_bytes; /* workspace parts */
} wgrad_plan;

static int64_t min64(int64_t x, int64_t y)
{
    return x < y ? x : y;
}

static int64_t max64(int64_t x, int64_t y)
{
    return x > y ? x : y;
}

static void plan_run(const convpool_op *op, const cp_geom *g, const cp_grad_kernels *k,
                     const float *x, const float *dy, wgrad_plan *p)
{
    const int t = op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE;
    const int64_t *a_dims = t ? g->in : g->out, *b_dims = t ? g->out : g->in;
    memset(p, 0, sizeof *p);
    p->a = t ? x : dy;
    p->b = t ? dy : x;
    p->a_ch = t ? g->c : g->m;
    p->b_ch = t ? g->m : g->c;
    p->group = g->group;
    p->a_pg = p->a_ch / g->group;
    p->b_pg = p->b_ch / g->group;
    p->pplane = 1;
    p->taps = 1;
    for (int i = 0; i < 3; i++) {
        /* the positions u*stride + k*dilation - pad_begin reached, over
         * every u of a's grid and every tap */
        const int64_t lo = -g->pad_begin[i];
        const int64_t hi = (a_dims[i] - 1) * g->stride[i] + (g->kernel[i] - 1) * g->dilation[i] -
                           g->pad_begin[i] + 1;
        p->a_dims[i] = a_dims[i];
        p->shift[i] = max64(0, -lo);
        p->pdims[i] = max64(hi, b_dims[i]) + p->shift[i];
        p->padded |= p->shift[i] > 0 || hi > b_dims[i];
        p->taps *= g->kernel[i];
    }
    if (!p->padded)
        for (int i = 0; i < 3; i++)
            p->pdims[i] = b_dims[i];
    p->pplane = p->pdims[0] * p->pdims[1] * p->pdims[2];
    p->cols = p->b_pg * p->taps;
    p->pixels = g->n * a_dims[0] * a_dims[1] * a_dims[2];
    p->mr = k->gemm_mr;
    p->width = (int64_t)k->gemm_nv * k->vw;
    /* a panel of the chunk in half of L1, the other half for a and dw */
    p->chunk =
        max64(WGRAD_MIN_CHUNK, cp_cache()->l1d_bytes / 2 / (p->width * (int64_t)sizeof(float)));
    p->m_blocks = (p->a_pg + p->mr - 1) / p->mr;
    p->panels = (p->cols + p->width - 1) / p->width;
    p->pad_bytes =
        p->padded ? cp_align_up((size_t)(g->n * p->b_ch * p->pplane) * sizeof(float)) : 0;
    p->a_bytes = cp_align_up((size_t)(p->group * p->m_blocks * p->mr * p->pixels) * sizeof(float));
    p->coff_bytes = cp_align_up((size_t)p->cols * sizeof(int64_t));
    p->panel_bytes = cp_align_up((size_t)(p->chunk * p->width) * sizeof(float));
}

size_t cp_x86_weight_grad_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k)
{
    wgrad_plan p;
    plan_run(op, g, k, NULL, NULL, &p);
    return p.pad_bytes + p.a_bytes + p.coff_bytes + (size_t)threads * p.panel_bytes;
}

typedef struct wgrad_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
    wgrad_plan p;
    float *bpad;       /* b as read (padded copy or b itself) */
    float *apack;      /* [group][m block][pixel][mr] */
    int64_t *coff;     /* per column: offset from a pixel's window origin */
    char *panels;      /* per thread: one packed panel of a chunk */
    int64_t m_slabs;   /* slabs of row blocks per (group, panel) */
    int64_t pad_tasks; /* preparation: b planes to copy, then a blocks */
} wgrad_job;

/* b's plane (n, channel) into its zero-padded copy. */
static void pad_plane(const wgrad_job *j, int64_t plane)
{
    const wgrad_plan *p = &j->p;
    const cp_geom *g = j->args->geom;
    const int64_t *bd = j->args->op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE ? g->out : g->in;
    float *dst = j->bpad + plane * p->pplane;
    const float *src = p->b + plane * bd[0] * bd[1] * bd[2];
    memset(dst, 0, (size_t)p->pplane * sizeof(float));
    for (int64_t v0 = 0; v0 < bd[0]; v0++)
        for (int64_t v1 = 0; v1 < bd[1]; v1++, src += bd[2])
            memcpy(dst + ((v0 + p->shift[0]) * p->pdims[1] + v1 + p->shift[1]) * p->pdims[2] +
                       p->shift[2],
                   src, (size_t)bd[2] * sizeof(float));
}

/* Row block `blk` (group-major) of a: mr values per pixel, zeros past the
 * group's rows. */
static void pack_a(const wgrad_job *j, int64_t blk)
{
    const wgrad_plan *p = &j->p;
    const int64_t grp = blk / p->m_blocks, r0 = blk % p->m_blocks * p->mr;
    const int64_t rows = min64(p->mr, p->a_pg - r0), plane = p->pixels / j->args->geom->n;
    float *dst = j->apack + blk * p->mr * p->pixels;
    for (int64_t n = 0; n < j->args->geom->n; n++, dst += plane * p->mr) {
        for (int64_t i = 0; i < p->mr; i++) {
            float *d = dst + i;
            if (i >= rows) {
                for (int64_t u = 0; u < plane; u++)
                    d[u * p->mr] = 0.0f;
                continue;
            }
            const float *s = p->a + (n * p->a_ch + grp * p->a_pg + r0 + i) * plane;
            for (int64_t u = 0; u < plane; u++)
                d[u * p->mr] = s[u];
        }
    }
}

static void prepare_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const wgrad_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        if (t < j->pad_tasks)
            pad_plane(j, t);
        else
            pack_a(j, t - j->pad_tasks);
    }
}

/* Columns [j0, j0 + cols) of group grp over pixels [p0, p0 + count), as
 * `width` floats per pixel (zeros past cols). Run by run of pixels along
 * a's rows, column by column: each column of a run reads b at one stride,
 * from the few lines of its rows. */
static void pack_panel(const wgrad_job *j, int64_t grp, int64_t j0, int64_t cols, int64_t width,
                       int64_t p0, int64_t count, float *dst)
{
    const wgrad_plan *p = &j->p;
    const cp_geom *g = j->args->geom;
    const int64_t *ad = p->a_dims;
    const int64_t *coff = j->coff + j0;
    const int64_t s2 = g->stride[2];
    const int64_t s0 = g->stride[0] * p->pdims[1] * p->pdims[2], s1 = g->stride[1] * p->pdims[2];
    for (int64_t q = 0; q < count; q++)
        for (int64_t c = cols; c < width; c++)
            dst[q * width + c] = 0.0f;
    for (int64_t q = 0; q < count;) {
        const int64_t pix = p0 + q, u2 = pix % ad[2], row = pix / ad[2];
        const int64_t u1 = row % ad[1], u0 = row / ad[1] % ad[0], n = row / (ad[0] * ad[1]);
        const int64_t run = min64(ad[2] - u2, count - q);
        const float *base =
            j->bpad + (n * p->b_ch + grp * p->b_pg) * p->pplane + u0 * s0 + u1 * s1 + u2 * s2;
        float *d = dst + q * width;
        for (int64_t c = 0; c < cols; c++) {
            const float *src = base + coff[c];
            for (int64_t i = 0; i < run; i++)
                d[i * width + c] = src[i * s2];
        }
        q += run;
    }
}

/* Task: (group, column panel, slab of row blocks). */
static void gemm_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const wgrad_job *j = arg;
    const wgrad_plan *p = &j->p;
    const int vw = j->k->vw;
    float *panel = (float *)(j->panels + (size_t)thread_index * p->panel_bytes);
    const int64_t per_slab = (p->m_blocks + j->m_slabs - 1) / j->m_slabs;
    for (int64_t t = begin; t < end; t++) {
        const int64_t slab = t % j->m_slabs, pi = t / j->m_slabs % p->panels;
        const int64_t grp = t / j->m_slabs / p->panels;
        const int64_t b0 = slab * per_slab, b1 = min64(p->m_blocks, b0 + per_slab);
        const int64_t j0 = pi * p->width, cols = min64(p->width, p->cols - j0);
        const int64_t width = (cols + vw - 1) / vw * vw;
        for (int64_t p0 = 0; b0 < b1 && p0 < p->pixels; p0 += p->chunk) {
            const int64_t count = min64(p->chunk, p->pixels - p0);
            pack_panel(j, grp, j0, cols, width, p0, count, panel);
            for (int64_t blk = b0; blk < b1; blk++) {
                const float *a = j->apack + ((grp * p->m_blocks + blk) * p->pixels + p0) * p->mr;
                float *c = j->args->dw + (grp * p->a_pg + blk * p->mr) * p->cols + j0;
                j->k->gemm(count, a, panel, width, c, p->cols, min64(p->mr, p->a_pg - blk * p->mr),
                           cols, p0 > 0);
            }
        }
    }
}

void cp_x86_weight_grad(const cp_backward_args *a, const cp_grad_kernels *k)
{
    const cp_geom *g = a->geom;
    wgrad_job j;
    j.args = a;
    j.k = k;
    plan_run(a->op, g, k, a->x, a->dy, &j.p);
    const wgrad_plan *p = &j.p;
    char *ws = a->workspace;
    j.bpad = p->padded ? (float *)ws : (float *)p->b;
    j.apack = (float *)(ws + p->pad_bytes);
    j.coff = (int64_t *)(ws + p->pad_bytes + p->a_bytes);
    j.panels = ws + p->pad_bytes + p->a_bytes + p->coff_bytes;
    for (int64_t c = 0; c < p->b_pg; c++)
        for (int64_t t = 0; t < p->taps; t++) {
            const int64_t kk[3] = {t / (g->kernel[1] * g->kernel[2]),
                                   t / g->kernel[2] % g->kernel[1], t % g->kernel[2]};
            const int64_t v[3] = {kk[0] * g->dilation[0] - g->pad_begin[0] + p->shift[0],
                                  kk[1] * g->dilation[1] - g->pad_begin[1] + p->shift[1],
                                  kk[2] * g->dilation[2] - g->pad_begin[2] + p->shift[2]};
            j.coff[c * p->taps + t] =
                c * p->pplane + (v[0] * p->pdims[1] + v[1]) * p->pdims[2] + v[2];
        }
    const int64_t work = p->group * p->a_pg * p->cols * p->pixels;
    int32_t threads = cp_threads_for_work(work, WGRAD_MIN_WORK_PER_THREAD);
    if (threads > cp_context_threads(a->ctx))
        threads = cp_context_threads(a->ctx);
    j.pad_tasks = p->padded ? g->n * p->b_ch : 0;
    cp_parallel_for(a->ctx, j.pad_tasks + p->group * p->m_blocks, threads, prepare_task, &j);
    /* enough tasks to balance the threads; each slab gathers its own panels */
    const int64_t tasks = p->group * p->panels;
    j.m_slabs = threads == 1 || tasks >= 2 * threads
                    ? 1
                    : min64(p->m_blocks, (2 * threads + tasks - 1) / tasks);
    cp_parallel_for(a->ctx, tasks * j.m_slabs, threads, gemm_task, &j);
}
