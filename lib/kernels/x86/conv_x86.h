/*
 * conv_x86.h - the parts of the x86 convolution fast paths and what they
 * share.
 *
 * The x86 convolution fast paths (AVX2+FMA and AVX-512): weight packing,
 * input packing, tiling and threading around the micro-kernels of
 * kernels/x86/conv_kernels.h. One of four algorithms is fixed per op at
 * creation from its attributes:
 *
 *  - GEMM: 1x1 kernel, stride 1, no pads. y_g = W_g x_g straight on the
 *    NCHW planes (no copy of the input), tiles of output channels x pixels.
 *  - depthwise: one input channel per group (group = C, any channel
 *    multiplier up to a few). Each task copies the rows it needs of one
 *    channel, zero padded and split into stride phases, then the kernel
 *    runs contiguous vector loads along output rows; three taps along W at
 *    stride 1 have a kernel that loads each row once, and at stride 2 one
 *    that reads the input itself (masked loads, no copy).
 *  - rows: few input channels per group (the 7x7 stride-2 stem): the GEMM
 *    tile over packed, phase-split input rows, one reduction step per
 *    (channel, tap); stores are contiguous rows. Also ops with at most
 *    narrow_mr output channels per group (the stem's dx, a DCGAN output
 *    layer), on a narrower, wider tile (rows_narrow), where the direct
 *    kernel would fill a few lanes of each channel vector; and, where it
 *    pads the output channels less (16 or 32 of them on AVX-512), on a
 *    taller, narrower tile (rows_tall). On AVX-512 a direct op (below)
 *    with a short reduction at stride 1 also keeps its weights packed for
 *    the tall tile, which runs it where the output planes put a direct
 *    tile's channel rows in a few L1 sets (cp_x86_conv_for).
 *    The GEMM and rows tiles of short reductions store in a mode chosen
 *    for the CPU where the output is far beyond L2
 *    (X86_CONV_STORE_MODE_MAX_STEPS).
 *  - direct: everything else (any kernel, stride, dilation, pads, groups,
 *    1-D/2-D/3-D). Each task copies a band of zero-padded input rows of one
 *    group (deep layers on small planes, whose padding taps are all left
 *    out, read the input in place instead); the kernel vectorises over
 *    output channels and broadcasts input pixels, so output rows of any
 *    width (7, 14, 112) fill whole tiles;
 *    rows overhanging the top or bottom padding skip those taps, and so do
 *    the first and last pixel of a row for taps in the left/right padding.
 *    Short rows (up to 7 pixels) go two at a time where the kernel has
 *    two-row tiles, which load each weight vector once for both rows.
 *
 * Dense 3x3 stride-1 ops of at least 16 channels each way also keep
 * their weights Winograd-transformed: runs on output planes of 400 pixels
 * and more, and on smaller ones with enough channels, take Winograd F(2x2,
 * 3x3) instead of their algorithm (kernels/x86/conv_x86_winograd.h), 2.25x
 * fewer multiply-adds on the GEMM kernels. Strided direct ops with long
 * reductions keep the GEMM's packing of their weights as well: on AVX2,
 * runs on output planes of 49 to 784 pixels copy the input into columns
 * and run the 1x1 GEMM on them (kernels/x86/conv_x86_im2col.h).
 *
 * Runs of a few dozen multiply-adds (X86_CONV_TINY_MAX_WORK, e.g. the D2L
 * edge detector) skip all of this: kernels/conv_tiny.c loops over a plain copy
 * of the weights that small ops keep.
 *
 * Tasks split batch, groups, depth, bands of output rows and, when those
 * are too few, output channels; each output element is computed by one
 * task in a fixed order, so results are the same for every thread count
 * (the plan picks tile shapes and whether threads share one packed band
 * by the thread count, and band sizes by the cache sizes the CPU
 * reports, but none of these changes any element's order).
 *
 * The parts:
 *  - kernels/x86/impl_conv_x86.c: the algorithm choice, weight packing (prepare,
 *    release), run (plan, reduction-step tables, tasks) and the AVX-512
 *    and AVX2 cp_impl tables;
 *  - kernels/x86/conv_x86_plan.c: run planning (bands of output rows, tile shapes,
 *    output-channel and pixel chunks, whether to read the input in place),
 *    shared by workspace_size and run;
 *  - kernels/x86/conv_x86_pack.c: input packing (zero-padded, stride-phase-split
 *    bands of rows) and the reduction-step tables the kernels walk (input
 *    offsets; for the direct kernel, weight codes with edge bits);
 *  - kernels/x86/conv_x86_tasks.c: the thread-pool tasks, one per algorithm plus
 *    one that packs a band all threads share;
 *  - kernels/x86/conv_x86_winograd.c: the Winograd path, around the
 *    transforms of kernels/x86/conv_kernels_wino.inc.
 *  - kernels/x86/conv_x86_im2col.c: strided ops as columns and the GEMM.
 */
#ifndef CP_KERNELS_X86_CONV_X86_H
#define CP_KERNELS_X86_CONV_X86_H

#include "ops/impl.h"

#include <stddef.h>
#include <stdint.h>

#include "kernels/x86/conv_kernels.h"
#include "kernels/conv_tiny.h"
#include "runtime/alloc.h"
#include "runtime/cpu.h"

/* The tuning constants more than one part needs (the others are in their
 * part). */

/* Aim for this many tasks, so that two or three threads finish together. */
#define X86_CONV_TASK_TARGET 32
/* Depthwise 3-tap stride-2 rows read the input directly when the kernel
 * has at most this many rows (D x H): their taps are listed on the stack. */
#define X86_CONV_DW_MAX_ROW_TAPS 64
/* Reduction-step tables per thread for rows that skip taps in the top or
 * bottom padding: one for each half of the output rows. */
#define X86_CONV_COMPACT_SLOTS 2

typedef enum x86_conv_algo {
    X86_CONV_GEMM,
    X86_CONV_DEPTHWISE,
    X86_CONV_ROWS,
    X86_CONV_DIRECT,
} x86_conv_algo;

/* An op's packed weights and what its runs need of it (op->packed). */
typedef struct x86_conv {
    x86_conv_algo algo;
    const cp_conv_kernels *k;
    int64_t groups, cpg, mpg, taps;
    int64_t block; /* output channels per packed block: gemm_mr, narrow_mr, tall_mr, vw or 1 */
    /* the rows algorithm's tile: rows, rows_narrow or rows_tall, and its
     * pixel vectors */
    cp_conv_rows_fn rows_fn;
    int64_t rows_nv;
    int64_t blocks; /* blocks per group */
    float *w;
    float *bias; /* groups * blocks * block values, zero padded */
    /* small ops: the weights as given and the bias (zeros if none), for
     * runs too small to pay for planning and packing (kernels/conv_tiny.h) */
    float *plain_w, *plain_bias;
    /* direct ops of short reductions, stride 1: the same op packed for the
     * rows algorithm (tall tile), for runs cp_x86_conv_for gives it; or NULL */
    struct x86_conv *rows_alt;
    /* 3x3 stride-1 ops: Winograd F(2x2, 3x3) for the runs it takes
     * (kernels/x86/conv_x86_winograd.h); or NULL */
    struct x86_wino *wino;
    /* strided ops: columns and the 1x1 GEMM for the runs it takes
     * (kernels/x86/conv_x86_im2col.h); or NULL */
    struct x86_im2col *im2col;
} x86_conv;

/* How one run is split into tasks and laid out in the workspace
 * (cp_x86_conv_make_plan). */
typedef struct x86_conv_plan {
    int64_t band_rows; /* output rows per band (direct, depthwise) */
    int64_t bands;
    int64_t in_rows;       /* packed input rows per band and kernel depth */
    int64_t phases;        /* stride phases a packed row is split into */
    int64_t phase_len;     /* floats per phase row */
    int64_t row_pitch;     /* floats per packed row: phases * phase_len */
    int64_t chan_pitch;    /* floats per packed channel */
    int64_t pack_floats;   /* per thread, rounded to 64 bytes */
    int64_t thread_floats; /* per thread: the pack, then (direct) the reduction
                            * steps of rows that skip taps in the padding */
    int64_t offset_count;  /* reduction steps in the offset table */
    int64_t tasks_outer;   /* batch x groups (or channels) x depth x bands */
    int64_t m_chunks;      /* output-channel chunks per outer task */
    int64_t m_chunk;       /* blocks per chunk (GEMM) or tiles per chunk (direct) */
    int64_t p_chunks;      /* GEMM: pixel chunks */
    int64_t p_chunk;       /* GEMM: pixel tiles per chunk */
    int64_t tile;          /* GEMM: pixels per tile */
    int64_t head;          /* GEMM: pixels of a first, shorter tile that starts the
                            * others' input on 64-byte lines (0: none) */
    int64_t k_chunk;       /* GEMM: input channels per pass of a tile over its blocks */
    int64_t short_last;    /* GEMM: pixels of the last but one tile where the last two
                            * share their vectors evenly (0: whole tiles, then the rest) */
    int gemm_packs;        /* GEMM: each pixel tile's input copied into the thread's pack */
    int unpacked;          /* depthwise, direct: read straight from the input (no pack) */
    int64_t mv;            /* direct: output-channel vectors per tile, at most */
    int64_t row_parts;     /* direct: tasks a band's rows are split into (else 1) */
} x86_conv_plan;

/* What one thread of a run remembers between its tasks. The run keeps one
 * per thread of its context in the workspace (cp_x86_conv_thread_bytes), so
 * the stack holds nothing that grows with the thread count. */
typedef struct x86_conv_thread {
    int64_t packed_outer; /* band in its pack, or -1 */
    /* which taps its compact tables hold (row_reduction in
     * kernels/x86/conv_x86_tasks.c), or -1 */
    int64_t compact_keys[X86_CONV_COMPACT_SLOTS];
    unsigned char zeroed; /* pack padding cleared */
} x86_conv_thread;

/* Where a depth-to-space run (cp_impl.run_depth_to_space) stores the GEMM's
 * output channel m*k + tap of an image: y has m channels of `out`. */
typedef struct x86_conv_d2s {
    int64_t block[CP_MAX_SPATIAL];
    int64_t k; /* taps: the product of block */
    int64_t out[CP_MAX_SPATIAL];
    int64_t m;
    int64_t image; /* floats of y per image: m * out[0] * out[1] * out[2] */
} x86_conv_d2s;

/* One run, as its tasks see it. */
typedef struct x86_conv_job {
    const cp_run_args *a;
    const x86_conv *xc;
    const x86_conv_d2s *d2s; /* GEMM: store depth to space; NULL: plainly */
    /* GEMM: pixels q0 .. q0 + pixels - 1 of each plane, output channel r
     * of pixel q at y[r * y_stride + q - q0] (a whole run: 0, the plane,
     * args->y and the plane; cp_impl.run_pixels: a range of one image) */
    int64_t q0, pixels, y_stride;
    float *y;
    int store; /* GEMM, rows: the tiles' CP_CONV_STORE_* mode (X86_CONV_STORE_MODE_MAX_STEPS) */
    /* GEMM: args->x holds one image of one group in tiles, pixel tile pt's
     * channels a tile apart from x + pt * cpg * tile (cp_x86_conv_run_tiled) */
    int tiled_x;
    x86_conv_plan plan;
    const int64_t *offsets;
    const int64_t *w_offsets;    /* direct: weight codes (cp_x86_conv_make_direct_codes) */
    float *pack;                 /* per thread: thread_floats each */
    int shared_pack;             /* the one band is packed once, in thread 0's pack, for all */
    x86_conv_thread *per_thread; /* one per context thread, in the workspace */
} x86_conv_job;

static inline int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static inline int64_t round_up(int64_t a, int64_t b)
{
    return ceil_div(a, b) * b;
}

static inline int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The first output-channel vector (block) of direct tile mt: a group's
 * blocks split into ceil(blocks / mv) tiles of near-equal size, the larger
 * first (the last tasks claimed are the short ones), so that 16 vectors
 * on tiles of 3 take 3 3 3 3 2 2, not 3 3 3 3 3 1 (a 1-vector tile loads
 * a weight vector per 12 FMAs, not per 24-36). */
static inline int64_t x86_conv_tile_block(int64_t blocks, int64_t mv, int64_t mt)
{
    const int64_t tiles = ceil_div(blocks, mv), small = blocks / tiles, big = blocks % tiles;
    return mt * small + min64(mt, big);
}

/* A GEMM plan's pixel tiles over `pixels` pixels. */
static inline int64_t x86_conv_gemm_tiles(const x86_conv_plan *p, int64_t pixels)
{
    return (p->head > 0) + ceil_div(pixels - p->head, p->tile);
}

/* GEMM pixel tile pt of a plan: its first pixel (from the run's first)
 * and its length, of `pixels` in all. */
static inline void x86_conv_gemm_tile_span(const x86_conv_plan *p, int64_t pixels, int64_t pt,
                                           int64_t *q, int64_t *np)
{
    *q = p->head && pt ? p->head + (pt - 1) * p->tile : pt * p->tile;
    *np = min64(pt == 0 && p->head ? p->head : p->tile, pixels - *q);
    if (!p->short_last || (pt == 0 && p->head))
        return;
    const int64_t last = x86_conv_gemm_tiles(p, pixels) - 1;
    if (pt == last - 1) {
        *np = p->short_last;
    } else if (pt == last) { /* after the shorter last but one */
        *q -= p->tile - p->short_last;
        *np = pixels - *q;
    }
}

/* A direct op's rows_alt runs where the output plane is a multiple of
 * this fraction of the L1 way size: a direct tile's channel rows, one
 * plane apart, then fall in at most this many L1 set positions. */
#define X86_CONV_ROWS_ALT_WAY_PARTS 4

/*
 * The packed op a run of geometry g takes: a direct op's rows_alt where the
 * output plane is a multiple of a quarter of the L1 way size (1 KiB of 4).
 * There the 32-48 channel rows of a direct tile, one plane apart, fall in
 * at most 4 set positions, as many rows in each as the L1 has ways, and
 * the tile's stores evict one another; the row kernel's tall tile stores
 * 8 channel rows of whole vectors. unet_c2 (planes of 256 KiB) 0.85-0.90
 * of the time, hires64 0.93-0.95, vgg_c2 (49 KiB) 0.98, and on a vCPU in
 * the slow state (docs/performance.md) 0.82-0.94 for planes of 1 KiB
 * multiples. On planes of 100 x 100, 120 x 120 or 200 x 200 (64 or 16
 * positions), and 56 x 56, the direct kernel is faster, and on rows
 * shorter than a tall tile (ct_dcgan16's stride phases, 16 x 16: 1.6x the
 * time), where the tile runs mostly empty.
 */
static inline const x86_conv *cp_x86_conv_for(const x86_conv *xc, const cp_geom *g)
{
    const cp_cache_info *c = cp_cache();
    const int64_t way = c->l1d_ways > 0 ? c->l1d_bytes / c->l1d_ways : 4096;
    const int64_t part = way / X86_CONV_ROWS_ALT_WAY_PARTS;
    const int64_t plane_bytes = cp_geom_out_plane(g) * (int64_t)sizeof(float);
    const x86_conv *alt = xc->rows_alt;
    /* rows of at least one whole tall tile (48 pixels on AVX-512) */
    const int wide = alt && g->out[2] >= alt->rows_nv * alt->k->vw;
    return wide && part > 0 && plane_bytes % part == 0 ? alt : xc;
}

/* Reduction-step tables at the head of the workspace: input offsets and,
 * for the direct kernel, weight offsets. */
static inline size_t cp_x86_conv_offsets_bytes(const x86_conv_plan *p)
{
    return (size_t)round_up(p->offset_count * (int64_t)sizeof(int64_t) * 2, CP_ALIGNMENT);
}

/* The per-thread state after the tables, for `threads` context threads. */
static inline size_t cp_x86_conv_thread_bytes(int32_t threads)
{
    return (size_t)round_up((int64_t)threads * (int64_t)sizeof(x86_conv_thread), CP_ALIGNMENT);
}

/* Multiply-adds of a run (padding taps included). */
static inline int64_t cp_x86_conv_work(const x86_conv *xc, const cp_geom *g)
{
    return g->n * g->m * cp_geom_out_plane(g) * xc->cpg * xc->taps;
}

/* Runs of at most this many multiply-adds take the tiny path: scalar, it
 * costs a few times more per multiply-add than the tiled path, but skips
 * its fixed cost (planning, packing, the thread pool), which a run this
 * small never earns back. Ops with at most as many weights (all others have
 * more work per run) keep a plain copy for it. */
#define X86_CONV_TINY_MAX_WORK 128
/* a run's output row and kernel width are at most its work */
_Static_assert(X86_CONV_TINY_MAX_WORK <= CP_CONV_TINY_MAX_OW &&
                   X86_CONV_TINY_MAX_WORK <= CP_CONV_TINY_MAX_KW,
               "tiny runs must fit the tiny kernel's buffers");

/* Whether this run takes the tiny path (no plan, no workspace). */
static inline int cp_x86_conv_run_is_tiny(const x86_conv *xc, const cp_geom *g)
{
    return xc->plain_w && cp_x86_conv_work(xc, g) <= X86_CONV_TINY_MAX_WORK;
}

/* ---- kernels/x86/conv_x86_plan.c ---- */

/* Plans a run of xc on g; `threads`: how many take part in it;
 * `whole_tiles`: a GEMM's tiles keep gemm_nv vectors (depth to space zips
 * them); `x`, `y`: the run's input and output (a GEMM reads x in place and
 * places its tiles by their alignment), NULL for a workspace query. A plan
 * with whole_tiles 0 needs at least the workspace of one with 1, whatever
 * x and y. */
void cp_x86_conv_make_plan(const x86_conv *xc, const cp_geom *g, int32_t threads, int whole_tiles,
                           const float *x, const float *y, x86_conv_plan *p);
/* A depthwise run's one-thread plan for runs of at most `rows` output rows
 * (cp_x86_conv_depthwise_rows): packed bands of at most that many rows. */
void cp_x86_conv_plan_depthwise_rows(const x86_conv *xc, const cp_geom *g, int64_t rows,
                                     x86_conv_plan *p);
/* The GEMM's plan for `pixels` pixels of each of `items` images whose
 * input planes are `plane` floats apart (what cp_x86_conv_make_plan gives
 * the GEMM for a whole run), the first tile `head` pixels long if head >
 * 0 (cp_x86_conv_gemm_head) and the tiles are read in place. pack_long:
 * 1 for a run's own GEMM (cp_x86_conv_make_plan), which packs the tiles
 * of long reductions (X86_CONV_GEMM_PACK_MIN_CHANNELS); 0 for run_pixels
 * and its workspace. */
void cp_x86_conv_plan_gemm(const x86_conv *xc, int64_t items, int64_t pixels, int64_t plane,
                           int whole_tiles, int pack_long, int64_t head, x86_conv_plan *p);
/* The GEMM's plan for one image of `pixels` pixels laid out in whole tiles
 * (cp_x86_conv_run_tiled; its caller lays the tiles out by this plan's
 * spans): no head, no parts, nothing to pack. */
void cp_x86_conv_plan_tiled(const x86_conv *xc, int64_t pixels, x86_conv_plan *p);
/* The head of xc's GEMM reading `pixels` pixels of planes `x_plane`
 * floats apart from x and writing them to planes `y_plane` floats apart
 * from y: the pixels before the next 64-byte line of whichever of x and y
 * has more planes to a tile (input channels per group, or output),
 * where all its planes start at the same place in a line; else of the
 * other; else 0. A vector load or store across two lines takes both: at 1
 * thread, 256 -> 64 on 56 x 56 read 16 bytes off its lines ran 1.10x-1.14x
 * slower, and with x and y at different places in their lines, 64 -> 256
 * ran 1.06x-1.09x slower with its tiles on x's lines than on y's and 256
 * -> 64 1.09x slower on y's than on x's. */
int64_t cp_x86_conv_gemm_head(const x86_conv *xc, const float *x, int64_t x_plane, const float *y,
                              int64_t y_plane, int64_t pixels);
/* The cp_impl workspace_size: the reduction-step tables, then each
 * thread's share (pack, compact tables); 0 on the tiny path. */
size_t cp_x86_conv_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads);

/* ---- kernels/x86/conv_x86_pack.c ---- */

/* Copies the input rows of `channels` channels that the band of output
 * rows from oh0 reads at output depth od into dst, in plan p's layout. */
void cp_x86_conv_pack_band(const x86_conv_plan *p, const cp_geom *g, const cp_conv_kernels *k,
                           const float *x, int64_t channels, int64_t od, int64_t oh0, float *dst,
                           unsigned char *zeroed);
/* The input offset of each reduction step in a packed band. */
void cp_x86_conv_make_offsets(const x86_conv_plan *p, const cp_geom *g, int64_t channels,
                              int64_t *off);
/* The input offset of each reduction step where the direct kernel reads the
 * input in place. */
void cp_x86_conv_make_input_offsets(const cp_geom *g, int64_t channels, int64_t *off);
/* The direct kernel's weight offset and edge bits of each of `steps`
 * reduction steps. */
void cp_x86_conv_make_direct_codes(int64_t steps, const cp_geom *g, int64_t vw, int64_t *codes);

/* ---- kernels/x86/conv_x86_tasks.c: cp_parallel_for tasks, arg an x86_conv_job ---- */

/* Stores rows r0 .. r0 + rows - 1 (the GEMM's output channels, group
 * offset included) of pixels q .. q + np - 1 (np <= CP_CONV_GEMM_TILE_PIXELS_MAX)
 * of one image, row r read from src + r*src_stride, depth to space into
 * that image's y (geometry g of the GEMM). */
void cp_x86_conv_d2s_store(const cp_conv_kernels *k, const x86_conv_d2s *d, const cp_geom *g,
                           const float *src, int64_t src_stride, float *y_image, int64_t r0,
                           int64_t rows, int64_t q, int64_t np);

/* GEMM: (image, group, pixel chunk) x output-channel chunk. */
void cp_x86_conv_gemm_task(void *arg, int64_t begin, int64_t end, int32_t thread_index);
/* The pixels of a whole GEMM tile of xc. */
static inline int64_t x86_conv_gemm_full_tile(const x86_conv *xc)
{
    return (int64_t)xc->k->gemm_nv * xc->k->vw;
}
/* Runs a pointwise op (the GEMM algorithm, one group) on one image whose
 * input the caller laid out in whole tiles (x86_conv_gemm_full_tile
 * pixels): tile pt's channels a tile apart from args->x + pt * C * tile,
 * the last tile's pixels past the plane unread. The blocks read each
 * tile from consecutive lines with no copy (x86_conv_job.tiled_x); each
 * output is the same sum run gives. args->workspace is not used. */
void cp_x86_conv_run_tiled(const cp_run_args *args);
/* Depthwise: (image, channel, depth, band of rows). */
void cp_x86_conv_depthwise_task(void *arg, int64_t begin, int64_t end, int32_t thread_index);
/* Output rows oh0 .. oh1 - 1 (at most max_rows) of every channel of one
 * image x of a 2-D depthwise run, on the calling thread: channel m's row
 * oh at y + m*y_plane + (oh - oh0)*out[2]; `workspace` of
 * cp_x86_conv_depthwise_rows_workspace bytes (the offsets table and one
 * band's pack, where the plan packs: bands of at most max_rows rows). Each
 * row goes through the same kernel as in the run's tasks (which rows share
 * a band or a kernel call does not change a row's sums), so the same
 * bits. */
size_t cp_x86_conv_depthwise_rows_workspace(const x86_conv *xc, const cp_geom *g, int64_t max_rows);
void cp_x86_conv_depthwise_rows(const x86_conv *xc, const cp_geom *g, const float *x, int64_t oh0,
                                int64_t oh1, int64_t max_rows, float *y, int64_t y_plane,
                                void *workspace);
/* Packs a share of the input channels of the run's one band into thread
 * 0's pack, for every thread's direct or rows tasks. */
void cp_x86_conv_shared_pack_task(void *arg, int64_t begin, int64_t end, int32_t thread_index);
/* Direct: (image, group, depth, band) x output-channel chunk x row part. */
void cp_x86_conv_direct_task(void *arg, int64_t begin, int64_t end, int32_t thread_index);
/* Rows: (image, group, depth, band) x output-channel chunk. */
void cp_x86_conv_rows_task(void *arg, int64_t begin, int64_t end, int32_t thread_index);

#endif
