/*
 * The weight gradient's outer path (see kernels/x86/conv_x86_wgrad.h for
 * the operands): vectors run along dw's rows (a's channels) and b's floats
 * are broadcast from its frame where they lie. a is read in slabs of mv
 * vectors of rows, transposed pixel by pixel (zeros past the group's last
 * row); a tile of a slab's rows x nc columns then adds one outer product
 * per pixel: no gather of b, no lanes to reduce, no waste between a's rows.
 * For long reductions on groups of many rows (dense convolutions on large
 * planes and batches).
 *
 * A task owns a block of tiles of one slab. It walks the reduction chunk
 * by chunk of a's rows: it transposes the slab's chunk into its thread's
 * scratch (sized to stay in L2 while the task's tiles read it in turn),
 * each tile pausing its sums in the task's part of a [column][row] block
 * between chunks, and at the end writes its columns of dw from that block.
 * Transposing per task, not once per run into a layout all threads share,
 * keeps the slab out of memory and off the other core: with one slab split
 * between two threads each transposes all of it, and still r1x1b's dw ran
 * 3%-7% faster at 2 threads than reading the shared layout, half of which
 * the other core had written (and 2%-6% faster at 1 thread).
 *
 * Order: each dw element is one fused multiply-add chain over the pixels
 * in (n, u0, u1, u2) order, paused and resumed unchanged between chunks;
 * the chunk length comes from the cache sizes alone, and a task owns its
 * elements over the whole reduction: the same result for any thread count.
 *
 * A Conv's db is taken along: a pass of its own read all of dy from L3
 * again (6%-7% of r1x1a's dw, 7% of the stem's). Where a is dy, the task
 * of each slab's first columns sums each block of pixels it has just
 * transposed, from L1, into its rows' sums (one chain of adds per block,
 * the blocks' sums added in order). Where the operands are swapped (b is
 * dy, read in place), the tasks of each group's first slab sum their
 * columns' chunks of dy right after the tile that read them, from L1 and
 * L2 (about two thirds of the pass's cost stay), each element the
 * kernels' sum of each chunk added in chunk order. Either way the order
 * follows the chunks and blocks, not the threads.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* Fewest pixels per batch item: a tile's start and end (its sums read,
 * stored and written to dw transposed) stay a small part of its work. */
#define OUTER_MIN_PIXELS 256
/* Fewest columns a group: below it a's transposition and the tiles' starts
 * and ends weigh more than the outer products save over the lanes path.
 * Measured against the lanes path at 1 and 2 threads: on Zen 5 the stem's
 * 147 columns and a 1x1 on 64 ran level or faster on lanes; on a Sapphire
 * Rapids-class Xeon the outer path ran the stem in 0.85x / 0.96x of
 * lanes' time, a 1x1 on 128 (112 x 112) 0.67x / 0.63x, on 64 and 96
 * 0.71x-0.84x, while 3x3s on 4 and 6 channels (36 and 54 columns) ran
 * 1.03x-1.2x slower and on 8 (72) level. */
#define OUTER_MIN_COLUMNS 64
/* The most rows a slab may hold past the group's last, in eighths of the
 * group's rows (zeros multiplied for nothing). */
#define OUTER_MAX_WASTE_EIGHTHS 2
/* a's transposition: pixels per call of the kernel (its rows and
 * transposed pixels in L1) */
#define OUTER_TRANSPOSE_PIXELS 256
/* Tasks per thread. Each task reads and transposes its slab of a whole:
 * one task a thread does it least (two a thread, which let a thread
 * finishing early take more, made b8_r3x3's dw at 2 threads about 2.5%
 * slower and r3x3's 1%). */
#define OUTER_TASKS_PER_THREAD 1

typedef struct outer_plan {
    int64_t mv, nc;                          /* tile: row vectors, columns */
    int64_t mrows;                           /* rows per slab: mv * vw */
    int64_t m_blocks;                        /* slabs per group */
    int64_t tiles;                           /* column tiles per slab */
    int64_t plane;                           /* a's pixels per batch item */
    int64_t chunk_rows;                      /* rows of a's grid (u1) per chunk */
    size_t pad_bytes, out_bytes, coff_bytes; /* workspace parts... */
    size_t chunk_bytes;                      /* ... and per thread */
} outer_plan;

static int64_t min64(int64_t x, int64_t y)
{
    return x < y ? x : y;
}

/* Whether slabs of mv vectors leave at most the waste allowed past the
 * group's last row. */
static int slab_fits(const cp_wgrad_operands *o, const cp_grad_kernels *k, int64_t mv)
{
    const int64_t mrows = mv * k->vw, padded = (o->a_pg + mrows - 1) / mrows * mrows;
    return (padded - o->a_pg) * 8 <= o->a_pg * OUTER_MAX_WASTE_EIGHTHS;
}

static int64_t slab_count(const cp_wgrad_operands *o, const cp_grad_kernels *k, int64_t mv)
{
    return o->group * ((o->a_pg + mv * k->vw - 1) / (mv * k->vw));
}

/* The slab's row vectors for a run on `threads` threads: the widest that
 * fits (fewest slabs, so fewest transpositions of a), or 0 if none. Where
 * that leaves fewer slabs than threads, the threads would split a slab's
 * columns and each transpose the whole slab; a narrower slab of at least
 * 2 vectors that gives every thread a slab of its own is taken instead.
 * 64 rows at 2 threads, 2 slabs of 2 vectors against 1 of 4 split by
 * columns (whole processes alternating): r1x1b's dw 2%-6% faster,
 * b8_r3x3's 1%, r3x3's and r1x1a's level; the 2 x 12 tile ran level with
 * the 4 x 6 at 1 thread. */
static int64_t slab_vectors(const cp_wgrad_operands *o, const cp_grad_kernels *k, int32_t threads)
{
    int64_t widest = 0;
    for (int64_t mv = k->outer_mv; mv >= 1 && widest == 0; mv--)
        widest = slab_fits(o, k, mv) ? mv : 0;
    if (widest == 0 || slab_count(o, k, widest) >= threads)
        return widest;
    for (int64_t mv = widest - 1; mv >= 2; mv--)
        if (slab_fits(o, k, mv) && slab_count(o, k, mv) >= threads)
            return mv;
    return widest;
}

/* The plan for slabs of mv row vectors. */
static void plan_outer(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k,
                       int64_t mv, outer_plan *p)
{
    p->mv = mv < 1 ? 1 : mv; /* 0: sizing only, outer_fit() says no */
    p->nc = min64(CP_GRAD_OUTER_NC_MAX, k->outer_acc / p->mv);
    p->mrows = p->mv * k->vw;
    p->m_blocks = (o->a_pg + p->mrows - 1) / p->mrows;
    p->tiles = (o->cols + p->nc - 1) / p->nc;
    p->plane = o->a_dims[0] * o->a_dims[1] * o->a_dims[2];
    /* a chunk of the widest slab in half of L2, the rest for b's rows and
     * the sums; the same chunks for narrower slabs, so that a swapped
     * run's db (summed chunk by chunk) does not depend on the thread count.
     * Where a's plane takes more than one such chunk anyway, chunks of a
     * quarter: the rows of a being transposed stream through L2 as well
     * (the stem's dw 0.96x-0.99x at 1 thread, level at 2; the large cases'
     * dw level, hires_1x1's 0.97x) */
    const int64_t widest = slab_vectors(o, k, 1) > 0 ? slab_vectors(o, k, 1) : 1;
    const int64_t row_bytes = o->a_dims[2] * widest * k->vw * (int64_t)sizeof(float);
    const int64_t l2 = (int64_t)cp_cache()->l2_bytes;
    p->chunk_rows = l2 / 2 / row_bytes < o->a_dims[1] ? l2 / 4 / row_bytes : l2 / 2 / row_bytes;
    p->chunk_rows = p->chunk_rows < 1 ? 1 : min64(p->chunk_rows, o->a_dims[1]);
    p->pad_bytes =
        o->padded ? cp_align_up((size_t)(g->n * o->b_ch * o->pplane) * sizeof(float)) : 0;
    p->out_bytes =
        cp_align_up((size_t)(o->group * p->m_blocks * o->cols * p->mrows) * sizeof(float));
    p->coff_bytes = cp_align_up((size_t)o->cols * sizeof(int64_t));
    p->chunk_bytes = cp_align_up((size_t)(p->chunk_rows * o->a_dims[2] * p->mrows) * sizeof(float));
}

/* A 1x1 convolution at stride 1 reads a and b (unpadded) at the same
 * pixels: dw transposed is the same correlation with a and b swapped. The
 * path then transposes the operand with fewer channels a group (less to
 * transpose, more columns to share each load of a) and writes its tiles'
 * columns as dw's rows. *use gets the operands the path runs on; returns
 * whether they are swapped. */
static int operands_to_use(const cp_wgrad_operands *o, const cp_geom *g, cp_wgrad_operands *use)
{
    *use = *o;
    int swap = o->taps == 1 && !o->padded && o->b_pg < o->a_pg;
    for (int i = 0; i < 3; i++)
        swap &= g->stride[i] == 1;
    if (!swap)
        return 0;
    use->a = o->b, use->b = o->a;
    use->a_ch = o->b_ch, use->b_ch = o->a_ch;
    use->a_pg = o->b_pg, use->b_pg = o->a_pg;
    use->cols = o->a_pg; /* one tap */
    return 1;
}

int cp_x86_wgrad_outer_fit(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k)
{
    cp_wgrad_operands u;
    operands_to_use(o, g, &u);
    const int64_t plane = u.a_dims[0] * u.a_dims[1] * u.a_dims[2];
    return plane >= OUTER_MIN_PIXELS && u.cols >= OUTER_MIN_COLUMNS && u.pixels > 0 &&
           slab_vectors(&u, k, 1) > 0;
}

size_t cp_x86_wgrad_outer_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k)
{
    cp_wgrad_operands u;
    operands_to_use(o, g, &u);
    /* a run takes the slab of its own thread count, at most `threads`:
     * room for the largest of them */
    size_t most = 0;
    for (int64_t mv = 1; mv <= k->outer_mv; mv++) {
        outer_plan p;
        plan_outer(&u, g, k, mv, &p);
        const size_t bytes =
            p.pad_bytes + p.out_bytes + p.coff_bytes + (size_t)threads * p.chunk_bytes;
        most = bytes > most ? bytes : most;
    }
    return most;
}

typedef struct outer_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
    const cp_wgrad_operands *o; /* as run: swapped, if so */
    int swapped;                /* o is the run's operands swapped */
    outer_plan p;
    float *bpad;            /* b as read (its padded frame, or b itself) */
    char *chunks;           /* per thread: a chunk of a slab, [pixel][mrows] */
    float *out;             /* [group][slab][column][mrows]: the tiles' sums */
    int64_t *coff;          /* per column: offset from a pixel's window origin */
    int64_t tiles_per_task; /* column tiles per task */
    int64_t task_blocks;    /* tasks per slab */
    float *db;              /* a Conv's db, taken along, else NULL */
} outer_job;

/* Pixels [q0, q0 + count) of slab s (group-major) of batch item n into
 * dst: mrows floats per pixel, zeros past the group's rows. With sums not
 * NULL, each block's column sums are added to sums[0 .. mrows). */
static void transpose_chunk(const outer_job *j, int64_t s, int64_t n, int64_t q0, int64_t count,
                            float *dst, float *sums)
{
    const outer_plan *p = &j->p;
    const cp_wgrad_operands *o = j->o;
    const int64_t grp = s / p->m_blocks, r0 = s % p->m_blocks * p->mrows;
    const int64_t rows = min64(p->mrows, o->a_pg - r0), mrows = p->mrows;
    const float *src = o->a + (n * o->a_ch + grp * o->a_pg + r0) * p->plane + q0;
    for (int64_t b0 = 0; b0 < count; b0 += OUTER_TRANSPOSE_PIXELS) {
        const int64_t b1 = min64(count, b0 + OUTER_TRANSPOSE_PIXELS);
        j->k->transpose(src + b0, p->plane, rows, b1 - b0, dst + b0 * mrows, mrows);
        for (int64_t u = b0; rows < mrows && u < b1; u++)
            memset(dst + u * mrows + rows, 0, (size_t)(mrows - rows) * sizeof(float));
        if (sums)
            j->k->column_sums(dst + b0 * mrows, b1 - b0, mrows, p->mv, sums);
    }
}

/* Preparation: b's planes into their frames. */
static void frame_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const outer_job *j = arg;
    for (int64_t plane = begin; plane < end; plane++)
        cp_wgrad_frame_plane(j->o, plane, j->bpad + plane * j->o->pplane);
}

/* Task: a block of column tiles [j0, j1) of slab s over the whole
 * reduction, then those columns of the slab's rows of dw. */
static void tile_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const outer_job *j = arg;
    const outer_plan *p = &j->p;
    const cp_wgrad_operands *o = j->o;
    const cp_geom *g = j->args->geom;
    const int64_t *ad = o->a_dims, mrows = p->mrows;
    const int64_t s1 = g->stride[1] * o->pdims[2], s0 = g->stride[0] * o->pdims[1] * o->pdims[2];
    float *a = (float *)(j->chunks + (size_t)thread_index * p->chunk_bytes);
    for (int64_t t = begin; t < end; t++) {
        const int64_t s = t / j->task_blocks, grp = s / p->m_blocks;
        const int64_t j0 = t % j->task_blocks * j->tiles_per_task * p->nc;
        const int64_t j1 = min64(o->cols, j0 + j->tiles_per_task * p->nc);
        float *out = j->out + (s * o->cols + j0) * mrows;
        /* a is dy: the slab's rows' db, summed by its first columns' task */
        float row_sums[CP_GRAD_OUTER_MV_MAX * CP_GRAD_VW_MAX];
        float *sums = j->db && !j->swapped && j0 == 0 ? row_sums : NULL;
        if (sums)
            memset(row_sums, 0, sizeof row_sums);
        for (int64_t n = 0; n < g->n; n++)
            for (int64_t u0 = 0; u0 < ad[0]; u0++)
                for (int64_t u1 = 0; u1 < ad[1]; u1 += p->chunk_rows) {
                    const int64_t rows = min64(p->chunk_rows, ad[1] - u1);
                    transpose_chunk(j, s, n, (u0 * ad[1] + u1) * ad[2], rows * ad[2], a, sums);
                    const float *b =
                        j->bpad + (n * o->b_ch + grp * o->b_pg) * o->pplane + u0 * s0 + u1 * s1;
                    const int resume = n > 0 || u0 > 0 || u1 > 0;
                    for (int64_t c = j0; c < j1; c += p->nc) {
                        const int64_t nc = min64(p->nc, j1 - c);
                        j->k->outer[p->mv - 1][nc - 1](rows, ad[2], a, mrows, b, s1, g->stride[2],
                                                       j->coff + c, out + (c - j0) * mrows, mrows,
                                                       resume);
                        /* swapped: a 1x1 at stride 1 on unpadded planes, so a
                         * column's chunk is rows * ad[2] floats in a line */
                        for (int64_t i = c;
                             j->db && j->swapped && s % p->m_blocks == 0 && i < c + nc; i++) {
                            const float sum = j->k->sum(b + j->coff[i], rows * ad[2], 1, 0);
                            float *d = j->db + grp * o->b_pg + i;
                            *d = resume ? *d + sum : sum;
                        }
                    }
                }
        const int64_t r0 = s % p->m_blocks * mrows, rows = min64(mrows, o->a_pg - r0);
        if (sums)
            memcpy(j->db + grp * o->a_pg + r0, sums, (size_t)rows * sizeof(float));
        if (!j->swapped) {
            j->k->transpose(out, mrows, j1 - j0, rows,
                            j->args->dw + (grp * o->a_pg + r0) * o->cols + j0, o->cols);
            continue;
        }
        /* swapped: column c is dw's row, the slab's rows its columns */
        for (int64_t c = j0; c < j1; c++)
            memcpy(j->args->dw + (grp * o->b_pg + c) * o->a_pg + r0, out + (c - j0) * mrows,
                   (size_t)rows * sizeof(float));
    }
}

int cp_x86_wgrad_outer(const cp_backward_args *a, const cp_grad_kernels *k,
                       const cp_wgrad_operands *run)
{
    const cp_geom *g = a->geom;
    cp_wgrad_operands use;
    const cp_wgrad_operands *o = &use;
    outer_job j;
    j.args = a;
    j.k = k;
    j.o = o;
    j.swapped = operands_to_use(run, g, &use);
    j.db = a->db && a->op->attrs.kind == CONVPOOL_OP_CONV ? a->db : NULL;
    const int32_t threads = cp_wgrad_threads(a, o);
    plan_outer(o, g, k, slab_vectors(o, k, threads), &j.p);
    const outer_plan *p = &j.p;
    char *ws = a->workspace;
    j.bpad = o->padded ? (float *)ws : (float *)o->b;
    j.out = (float *)(ws + p->pad_bytes);
    j.coff = (int64_t *)(ws + p->pad_bytes + p->out_bytes);
    j.chunks = ws + p->pad_bytes + p->out_bytes + p->coff_bytes;
    cp_wgrad_column_offsets(o, g, j.coff);
    const int64_t slabs = o->group * p->m_blocks;
    if (o->padded)
        cp_parallel_for(a->ctx, g->n * o->b_ch, threads, frame_task, &j);
    /* blocks of tiles: enough tasks to balance the threads, and as few as
     * that allows (each task transposes its slab of a whole) */
    const int64_t want = (int64_t)threads * OUTER_TASKS_PER_THREAD;
    j.task_blocks = threads == 1 ? 1 : min64(p->tiles, (want + slabs - 1) / slabs);
    j.tiles_per_task = (p->tiles + j.task_blocks - 1) / j.task_blocks;
    j.task_blocks = (p->tiles + j.tiles_per_task - 1) / j.tiles_per_task;
    cp_parallel_for(a->ctx, slabs * j.task_blocks, threads, tile_task, &j);
    return j.db != NULL;
}
