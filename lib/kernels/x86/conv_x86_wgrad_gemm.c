/*
 * The weight gradient's GEMM path (see kernels/x86/conv_x86_wgrad.h for
 * the operands): per group, dw (rows x columns) is a GEMM whose reduction
 * runs over the pixels of the batch.
 *  - b is read through its zero-padded copy (or in place), so a column is
 *    b at a constant offset from the pixel's window origin and no term
 *    needs a bounds test; strides and dilations are in the offsets.
 *  - a is packed once per run, per block of gemm_mr rows, as gemm_mr values
 *    per pixel (zeros past the group's last row), shared by all threads;
 *    a Conv's db (a is dy) is summed from each block as it is packed.
 *  - b's columns are gathered per task, a panel of up to gemm_nv vectors of
 *    columns over a chunk of pixels sized to stay in L1 while every row
 *    block of the task runs over it.
 *  - The panels' vectors fall on dw's vector boundaries: where dw's rows
 *    start off them (a caller's buffer, 16 bytes off a 64-byte line from
 *    malloc), the first panel starts that many lanes early (cp_grad_gemm_fn's
 *    lead), so that no store straddles two lines (r3x3_s2's and r3x3_7's
 *    dw took 1.10x the time with every store across two). The vectors are
 *    shared out evenly among the panels.
 * Suits short reductions (small planes) with many rows: the tile is
 * filled whatever the plane's shape.
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

/* Fewest pixels per chunk, so that a tile's final adds stay a small part. */
#define WGRAD_MIN_CHUNK 32

typedef struct wgrad_plan {
    cp_wgrad_operands o;
    int64_t mr, width; /* tile rows, widest panel in floats */
    int64_t chunk;     /* pixels per chunk */
    int64_t m_blocks;
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

static void plan_run(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k,
                     wgrad_plan *p)
{
    p->o = *o;
    p->mr = k->gemm_mr;
    p->width = (int64_t)k->gemm_nv * k->vw;
    /* a panel of the chunk in half of L1, the other half for a and dw */
    p->chunk =
        max64(WGRAD_MIN_CHUNK, cp_cache()->l1d_bytes / 2 / (p->width * (int64_t)sizeof(float)));
    p->m_blocks = (o->a_pg + p->mr - 1) / p->mr;
    p->pad_bytes =
        o->padded ? cp_align_up((size_t)(g->n * o->b_ch * o->pplane) * sizeof(float)) : 0;
    p->a_bytes = cp_align_up((size_t)(o->group * p->m_blocks * p->mr * o->pixels) * sizeof(float));
    p->coff_bytes = cp_align_up((size_t)o->cols * sizeof(int64_t));
    p->panel_bytes = cp_align_up((size_t)(p->chunk * p->width) * sizeof(float));
}

size_t cp_x86_wgrad_gemm_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                   const cp_grad_kernels *k)
{
    wgrad_plan p;
    plan_run(o, g, k, &p);
    return p.pad_bytes + p.a_bytes + p.coff_bytes + (size_t)threads * p.panel_bytes;
}

typedef struct wgrad_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
    wgrad_plan p;
    float *bpad;     /* b as read (padded copy or b itself) */
    float *apack;    /* [group][m block][pixel][mr] */
    int64_t *coff;   /* per column: offset from a pixel's window origin */
    char *panels;    /* per thread: one packed panel of a chunk */
    int64_t m_slabs; /* slabs of row blocks per (group, panel) */
    int64_t lead;    /* lanes of dw's first vector before column 0 */
    /* n_panels panels of per_panel vectors, the first `wider` one more */
    int64_t n_panels, per_panel, wider;
    int64_t pad_tasks; /* preparation: b planes to copy, then a blocks */
    float *db;         /* a Conv's db (a is dy), summed as a is packed; else NULL */
} wgrad_job;

/* Row block `blk` (group-major) of a: mr values per pixel, zeros past the
 * group's rows. A Conv's db of those rows is summed right after, from the
 * rows just read (by the bias pass's own sum over the batch: the same
 * result), instead of by a pass of its own over dy. */
static void pack_a(const wgrad_job *j, int64_t blk)
{
    const wgrad_plan *p = &j->p;
    const int64_t grp = blk / p->m_blocks, r0 = blk % p->m_blocks * p->mr;
    const int64_t rows = min64(p->mr, p->o.a_pg - r0), plane = p->o.pixels / j->args->geom->n;
    float *dst = j->apack + blk * p->mr * p->o.pixels;
    const float *src[CP_GRAD_GEMM_MR_MAX];
    for (int64_t n = 0; n < j->args->geom->n; n++, dst += plane * p->mr) {
        for (int64_t i = 0; i < rows; i++)
            src[i] = p->o.a + (n * p->o.a_ch + grp * p->o.a_pg + r0 + i) * plane;
        /* pixel by pixel: mr contiguous floats per store run */
        if (rows == 4 && p->mr == 4) {
            for (int64_t u = 0; u < plane; u++) {
                dst[u * 4] = src[0][u];
                dst[u * 4 + 1] = src[1][u];
                dst[u * 4 + 2] = src[2][u];
                dst[u * 4 + 3] = src[3][u];
            }
            continue;
        }
        for (int64_t u = 0; u < plane; u++)
            for (int64_t i = 0; i < p->mr; i++)
                dst[u * p->mr + i] = i < rows ? src[i][u] : 0.0f;
    }
    for (int64_t i = 0; j->db && i < rows; i++) {
        const int64_t m = grp * p->o.a_pg + r0 + i;
        j->db[m] = j->k->sum(p->o.a + m * plane, plane, j->args->geom->n, p->o.a_ch * plane);
    }
}

static void prepare_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const wgrad_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        if (t < j->pad_tasks)
            cp_wgrad_frame_plane(&j->p.o, t, j->bpad + t * j->p.o.pplane);
        else
            pack_a(j, t - j->pad_tasks);
    }
}

/* Columns [j0, j0 + cols) of group grp over pixels [p0, p0 + count), as
 * `width` floats per pixel from float `lead` on (zeros around them). Run
 * by run of pixels along a's rows, pixel by pixel: a pixel's columns are
 * stored contiguously, read from the few lines of its window (column by
 * column, the stores strided by the panel's width cost r3x3_s2's dw 3%
 * more at 2 threads), by gather instructions where the ISA's are fast
 * (with scalar loads the gather took 7% of r3x3_7's and r3x3_s2's dw at 1
 * thread). */
static void pack_panel(const wgrad_job *j, int64_t grp, int64_t j0, int64_t cols, int64_t width,
                       int64_t lead, int64_t p0, int64_t count, float *dst)
{
    const wgrad_plan *p = &j->p;
    const cp_geom *g = j->args->geom;
    const int64_t *ad = p->o.a_dims;
    const int64_t *coff = j->coff + j0;
    const int64_t s2 = g->stride[2];
    const int64_t s0 = g->stride[0] * p->o.pdims[1] * p->o.pdims[2],
                  s1 = g->stride[1] * p->o.pdims[2];
    for (int64_t q = 0; q < count; q++) {
        for (int64_t c = 0; c < lead; c++)
            dst[q * width + c] = 0.0f;
        for (int64_t c = lead + cols; c < width; c++)
            dst[q * width + c] = 0.0f;
    }
    for (int64_t q = 0; q < count;) {
        const int64_t pix = p0 + q, u2 = pix % ad[2], row = pix / ad[2];
        const int64_t u1 = row % ad[1], u0 = row / ad[1] % ad[0], n = row / (ad[0] * ad[1]);
        const int64_t run = min64(ad[2] - u2, count - q);
        const float *base =
            j->bpad + (n * p->o.b_ch + grp * p->o.b_pg) * p->o.pplane + u0 * s0 + u1 * s1 + u2 * s2;
        float *d = dst + q * width + lead;
        for (int64_t i = 0; i < run; i++, d += width)
            j->k->gather_columns(base + i * s2, coff, cols, d);
        q += run;
    }
}

/* Panel pi's columns [*j0, *j0 + *cols), its vectors `*width` floats
 * starting *lead lanes before *j0. */
static void panel_span(const wgrad_job *j, int64_t pi, int64_t *j0, int64_t *cols, int64_t *width,
                       int64_t *lead)
{
    const int64_t vw = j->k->vw;
    const int64_t v0 = pi * j->per_panel + min64(pi, j->wider);
    const int64_t start = v0 * vw - j->lead; /* column of its first vector's lane 0 */
    *width = (j->per_panel + (pi < j->wider)) * vw;
    *j0 = max64(0, start);
    *lead = *j0 - start;
    *cols = min64(j->p.o.cols, start + *width) - *j0;
}

/* Task: (group, column panel, slab of row blocks). */
static void gemm_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const wgrad_job *j = arg;
    const wgrad_plan *p = &j->p;
    float *panel = (float *)(j->panels + (size_t)thread_index * p->panel_bytes);
    const int64_t per_slab = (p->m_blocks + j->m_slabs - 1) / j->m_slabs;
    for (int64_t t = begin; t < end; t++) {
        const int64_t slab = t % j->m_slabs, pi = t / j->m_slabs % j->n_panels;
        const int64_t grp = t / j->m_slabs / j->n_panels;
        const int64_t b0 = slab * per_slab, b1 = min64(p->m_blocks, b0 + per_slab);
        int64_t j0, cols, width, lead;
        panel_span(j, pi, &j0, &cols, &width, &lead);
        for (int64_t p0 = 0; b0 < b1 && p0 < p->o.pixels; p0 += p->chunk) {
            const int64_t count = min64(p->chunk, p->o.pixels - p0);
            pack_panel(j, grp, j0, cols, width, lead, p0, count, panel);
            for (int64_t blk = b0; blk < b1; blk++) {
                const float *a = j->apack + ((grp * p->m_blocks + blk) * p->o.pixels + p0) * p->mr;
                float *c = j->args->dw + (grp * p->o.a_pg + blk * p->mr) * p->o.cols + j0;
                j->k->gemm(count, a, panel, width, c, p->o.cols,
                           min64(p->mr, p->o.a_pg - blk * p->mr), cols, lead, p0 > 0);
            }
        }
    }
}

/* The lead that puts the tile's vectors on dw's vector boundaries: where
 * every row of dw starts at the same place in a vector (cols a whole number
 * of vectors), the floats from the last boundary to dw; else 0. */
static int64_t dw_lead(const float *dw, int64_t cols, int vw)
{
    const uintptr_t at = (uintptr_t)dw % ((uintptr_t)vw * sizeof(float));
    if (cols % vw != 0 || at % sizeof(float) != 0)
        return 0;
    return (int64_t)(at / sizeof(float));
}

int cp_x86_wgrad_gemm(const cp_backward_args *a, const cp_grad_kernels *k,
                      const cp_wgrad_operands *o)
{
    const cp_geom *g = a->geom;
    wgrad_job j;
    j.args = a;
    j.k = k;
    plan_run(o, g, k, &j.p);
    const wgrad_plan *p = &j.p;
    char *ws = a->workspace;
    j.bpad = p->o.padded ? (float *)ws : (float *)p->o.b;
    j.apack = (float *)(ws + p->pad_bytes);
    j.coff = (int64_t *)(ws + p->pad_bytes + p->a_bytes);
    j.panels = ws + p->pad_bytes + p->a_bytes + p->coff_bytes;
    cp_wgrad_column_offsets(o, g, j.coff);
    const int32_t threads = cp_wgrad_threads(a, o);
    j.pad_tasks = p->o.padded ? g->n * p->o.b_ch : 0;
    j.db = a->db && a->op->attrs.kind == CONVPOOL_OP_CONV ? a->db : NULL;
    cp_parallel_for(a->ctx, j.pad_tasks + p->o.group * p->m_blocks, threads, prepare_task, &j);
    /* the vectors of a row (a first one in part after the lead) shared
     * out evenly among the fewest panels, or a few more for a whole number
     * of tasks per thread while a panel stays within a vector of the widest
     * (r3x3_s2's 145 vectors in 25 panels cost it 1.02x the time at 2
     * threads, one thread running 13) */
    j.lead = dw_lead(a->dw, o->cols, k->vw);
    const int64_t vectors = (j.lead + o->cols + k->vw - 1) / k->vw;
    j.n_panels = (vectors + k->gemm_nv - 1) / k->gemm_nv;
    while (threads > 1 && p->o.group * j.n_panels % threads != 0 &&
           vectors / (j.n_panels + 1) >= k->gemm_nv - 1)
        j.n_panels++;
    j.per_panel = vectors / j.n_panels;
    j.wider = vectors % j.n_panels;
    /* enough tasks to balance the threads; each slab gathers its own panels */
    const int64_t tasks = p->o.group * j.n_panels;
    j.m_slabs = threads == 1 || tasks >= 2 * threads
                    ? 1
                    : min64(p->m_blocks, (2 * threads + tasks - 1) / tasks);
    cp_parallel_for(a->ctx, tasks * j.m_slabs, threads, gemm_task, &j);
    return j.db != NULL;
}
