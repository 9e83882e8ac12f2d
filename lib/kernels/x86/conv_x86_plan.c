/*
 * Run planning for the x86 convolution (kernels/x86/conv_x86.h), shared by
 * workspace_size and run: bands of output rows sized for the L2 the CPU
 * reports (runtime/cpu.h), output-channel and pixel chunks, direct tile
 * shapes balanced over the threads, and whether the input is read in
 * place; runs the Winograd path takes are sized by it
 * (kernels/x86/conv_x86_winograd.h).
 */
#include "kernels/x86/conv_x86.h"

#include <string.h>

#include "kernels/x86/conv_x86_im2col.h"
#include "kernels/x86/conv_x86_winograd.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* A band's packed input should stay in L2 next to the weights it meets:
 * it may take this share of the L2 the CPU reports (in 1/64ths: 192 KiB
 * and 400 KiB of a 1 MiB L2). */
#define X86_CONV_BAND_L2_64THS       12
#define X86_CONV_HEAVY_BAND_L2_64THS 25
/* ... and a direct tile's weights and the packed band together this
 * share (800 KiB of 1 MiB). */
#define X86_CONV_TILE_L2_64THS 50
/* A GEMM pixel tile's input may be copied into a pack of its own, or the
 * tile narrowed, so that it fits in this share of L1d (in 1/64ths), next to
 * the weights streamed. */
#define X86_CONV_GEMM_PACK_L1_64THS 48
/* A run's own GEMM packs every pixel tile where the reduction is at least
 * this long and runs in whole passes (cp_x86_conv_plan_gemm's pack_long):
 * read in place, each step of a tile touches a line or two of its plane
 * (planes 196 bytes apart on 7 x 7), block after block; packed, the
 * blocks stream the tile from consecutive lines, and no head tile costs a
 * pass of its own. 1x1 at 1 thread on a Zen 3, both builds in one
 * process: 2304 -> 512 on 7 x 7 0.72x-0.83x the time, 2048 -> 512 0.69x,
 * 512 -> 2048 0.88x, 256 -> 512 on 6 x 8 0.64x-0.67x, 256 -> 1024 on 14 x
 * 14 0.87x, 128 -> 128 on 56 x 56 0.87x, 512 -> 128 on 28 x 28 0.90x-0.95x,
 * 256 -> 64 on 56 x 56 0.94x-1.0x; at 2 threads 0.90x-1.04x. Where the
 * pass is cut into parts of the input channels (gemm_k_chunk) the parts
 * stay. Not for run_pixels (the inner GEMM of Winograd, whose tiles are
 * contiguous runs already: 128 -> 128 on 28 x 28 1.06x-1.1x slower
 * packed, and of ConvTranspose's GEMM way); 64 channels (1.09x slower on
 * 56 x 56) and 3 (1.4x) keep the tiles in place. */
#define X86_CONV_GEMM_PACK_MIN_CHANNELS 128
/* The fewest accumulators a narrowed GEMM tile may keep: two FMA ports of
 * 4 cycles' latency need 8 chains in flight, and a few more cover the
 * loads. */
#define X86_CONV_GEMM_MIN_ACC 12
/* The most L1 sets a CPU may report for gemm_tile_crowds_l1 (else: no
 * packing). */
#define X86_CONV_L1_SETS_MAX 256
/* Input planes up to this size the direct kernel reads in place. */
#define X86_CONV_IN_PLACE_PLANE_BYTES (64 * 1024)

/* Tile shapes are balanced over at most CP_BALANCE_MAX_THREADS threads
 * and this many tasks (more tasks split evenly enough) ... */
#define X86_CONV_BALANCE_MAX_TASKS 1024
/* ... until the longest thread's share is within this of an even split. */
#define X86_CONV_BALANCED 1.03
/* A direct tile of fewer than X86_CONV_GEMM_MIN_ACC accumulators is taken
 * for balance only where the larger tile's split is further off than
 * this: on a Zen 3 at 2 threads, DCGAN's 4 x 4 and 8 x 8 layers (rows of
 * 8: 4 x 2 tiles of 8 sums against 4 x 3 of 12, 6% off an even split)
 * ran 0.70x-0.74x the time with the larger tiles. */
#define X86_CONV_BALANCED_SHORT_TILES 1.07

/* The reported L2's share `n` 64ths. */
static int64_t l2_share(int64_t n)
{
    return cp_cache()->l2_bytes / 64 * n;
}

static void plan_m_chunks(x86_conv_plan *p, int64_t outer, int64_t units)
{
    int64_t want = outer >= X86_CONV_TASK_TARGET ? 1 : ceil_div(X86_CONV_TASK_TARGET, outer);
    p->m_chunks = min64(want, units);
    p->m_chunk = ceil_div(units, p->m_chunks);
    p->m_chunks = ceil_div(units, p->m_chunk);
}

static int weights_outweigh_input(const x86_conv *xc, const cp_geom *g, int64_t channels)
{
    return xc->mpg * xc->cpg * xc->taps > channels * cp_geom_in_plane(g);
}

/*
 * Whether the direct kernel can read the input itself: every tap it would
 * read in the padding is one the codes and reduction lists leave out,
 * i.e. output columns other than the first and last read inside the row
 * (rows overhanging the padding and the two edge columns skip such taps).
 */
static int direct_reads_input(const cp_geom *g)
{
    const int64_t ow = g->out[2], sw = g->stride[2], pw = g->pad_begin[2];
    if (ow < 3)
        return 1;
    return sw - pw >= 0 && (ow - 2) * sw - pw + (g->kernel[2] - 1) * g->dilation[2] < g->in[2];
}

/* Bands of `rows` output rows: the packed input rows each needs, the pack. */
static void set_band_rows(x86_conv_plan *p, const cp_geom *g, int64_t channels, int64_t rows)
{
    p->band_rows = rows;
    p->bands = ceil_div(g->out[1], rows);
    p->in_rows = (rows - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dilation[1] + 1;
    p->chan_pitch = g->kernel[0] * p->in_rows * p->row_pitch;
    p->pack_floats = round_up(channels * p->chan_pitch, 16);
    p->thread_floats = p->pack_floats;
}

static void plan_bands(x86_conv_plan *p, const x86_conv *xc, const cp_geom *g, int64_t channels,
                       int64_t base_tasks)
{
    const int64_t oh = g->out[1];
    /* Every band streams the group's weights once more, every channel
     * chunk packs the band once more (per thread): where the weights
     * outweigh the input, split output channels, not rows, and let the
     * band take more of L2 (a tile's weights are the rest). */
    const int weights_heavier = weights_outweigh_input(xc, g, channels);
    int64_t bands = base_tasks >= X86_CONV_TASK_TARGET || weights_heavier
                        ? 1
                        : min64(oh, ceil_div(X86_CONV_TASK_TARGET, base_tasks));
    int64_t rows = ceil_div(oh, bands);
    for (;;) {
        set_band_rows(p, g, channels, rows);
        int64_t bytes = channels * p->chan_pitch * (int64_t)sizeof(float);
        if (rows == 1 || bytes <= l2_share(weights_heavier ? X86_CONV_HEAVY_BAND_L2_64THS
                                                           : X86_CONV_BAND_L2_64THS))
            break;
        rows = ceil_div(rows, 2);
    }
    p->tasks_outer = base_tasks * p->bands;
    (void)xc;
}

/* A direct task's cost for direct_imbalance: its output-channel vectors. */
typedef struct direct_costs {
    const x86_conv *xc;
    const x86_conv_plan *p;
    int64_t mv;
} direct_costs;

static double direct_task_cost(const void *arg, int64_t t)
{
    const direct_costs *d = arg;
    const int64_t blocks = d->xc->blocks, tiles = ceil_div(blocks, d->mv);
    const int64_t chunk = t / d->p->row_parts % d->p->m_chunks;
    const int64_t mt_lo = chunk * d->p->m_chunk, mt_hi = min64(mt_lo + d->p->m_chunk, tiles);
    return (double)(x86_conv_tile_block(blocks, d->mv, mt_hi) -
                    x86_conv_tile_block(blocks, d->mv, mt_lo));
}

/* How much longer than an even split `threads` threads take over the
 * direct tasks of plan p with tiles of mv vectors (the pool's claims
 * played out). */
static double direct_imbalance(const x86_conv *xc, const x86_conv_plan *p, int64_t mv,
                               int32_t threads)
{
    const direct_costs d = {xc, p, mv};
    return cp_parallel_for_balance(p->tasks_outer * p->m_chunks * p->row_parts, threads,
                                   direct_task_cost, &d);
}

/* Output-channel tiles of mv vectors, chunked into tasks. Few tasks (a
 * deep layer on a small plane): halves of a band's rows as tasks of their
 * own, so that the last claims are small enough to even out the threads;
 * consecutive halves mostly go to one thread, whose L2 still holds the
 * tile's weights. */
static void plan_direct_tasks(x86_conv_plan *p, const x86_conv *xc, int64_t mv, int32_t threads)
{
    p->mv = mv;
    plan_m_chunks(p, p->tasks_outer, ceil_div(xc->blocks, mv));
    p->row_parts =
        threads > 1 && p->tasks_outer * p->m_chunks < X86_CONV_TASK_TARGET && p->band_rows >= 4 ? 2
                                                                                                : 1;
}

/* The mean pixels of a direct tile of mv vectors on rows of ow */
static double direct_tile_pixels(const x86_conv *xc, const x86_conv_plan *p, int64_t mv, int64_t ow)
{
    const double col_tiles = (double)ceil_div(ow, cp_conv_direct_np(xc->k, mv, ow));
    double pixels = (double)ow / col_tiles;
    if (mv == xc->k->direct2_mv && ow <= xc->k->direct2_np_max && p->band_rows > 1)
        pixels *= 2; /* two-row tiles (most rows pair) */
    return pixels;
}

/*
 * Output-channel vectors per direct tile. A tile of v vectors by p pixels
 * keeps v*p accumulators (the more, the better latency is hidden) and
 * loads v + p operands per step for v*p FMAs: it scores (v*p)^2 / (v + p),
 * averaged over rows of `ow` pixels cut into tiles of at most
 * direct_np_max pixels (rows of up to direct_whole_np_max: one tile)
 * and over the group's vectors (tiles of near-equal
 * size, x86_conv_tile_block); rows that two-row tiles take count twice their
 * pixels. Short rows (7 pixels) take more vectors, unless
 * a tile's weights and the band would not stay in L2 together (the tile
 * walks its weights once per output row). With several threads, fewer
 * vectors per tile are taken where that splits the work evenly and the
 * best score does not (32 vectors: 16 tiles of 2, not 10 of 3 and one of
 * 2), counting the tasks as they run, rows halved where they are few
 * (16 vectors on 8 x 8, a DCGAN layer's phase: 6 tiles of 3 or 2 in
 * halves of 4 rows split evenly). The tile shape does not change any
 * element's summation order.
 */
static void plan_direct_tiles(const x86_conv *xc, int64_t ow, int32_t threads, x86_conv_plan *p)
{
    const int64_t step_bytes = xc->cpg * xc->taps * xc->k->vw * (int64_t)sizeof(float);
    int64_t best = 1;
    double best_score = 0.0;
    for (int64_t mv = 1; mv <= CP_CONV_DIRECT_MV_MAX && mv <= xc->blocks; mv++) {
        if (mv > 1 && mv * step_bytes + p->pack_floats * (int64_t)sizeof(float) >
                          l2_share(X86_CONV_TILE_L2_64THS))
            break;
        double vectors = (double)xc->blocks / (double)ceil_div(xc->blocks, mv);
        double pixels = direct_tile_pixels(xc, p, mv, ow);
        double score = vectors * pixels * vectors * pixels / (vectors + pixels);
        if (score > best_score * 1.001) {
            best = mv;
            best_score = score;
        }
    }
    plan_direct_tasks(p, xc, best, threads);
    if (threads < 2 || threads > CP_BALANCE_MAX_THREADS ||
        p->tasks_outer * p->m_chunks * p->row_parts > X86_CONV_BALANCE_MAX_TASKS)
        return;
    const double off = direct_imbalance(xc, p, best, threads);
    if (off <= X86_CONV_BALANCED)
        return;
    for (int64_t mv = best - 1; mv >= 2; mv--) {
        if ((double)mv * direct_tile_pixels(xc, p, mv, ow) < X86_CONV_GEMM_MIN_ACC &&
            off <= X86_CONV_BALANCED_SHORT_TILES)
            return;
        x86_conv_plan q = *p;
        plan_direct_tasks(&q, xc, mv, threads);
        if (direct_imbalance(xc, &q, mv, threads) <= X86_CONV_BALANCED) {
            *p = q;
            return;
        }
    }
}

/*
 * Where a GEMM pixel tile's input lines, read in place, fall in L1: the
 * tile reads `lines` lines from each of `channels` planes `plane_bytes`
 * apart, and every output-channel block reads them all again. Planes a
 * multiple of 1 KiB apart (112 x 112, 128 x 128) put those lines in a few
 * sets; where a set gets more of them than it has ways, they are evicted
 * between blocks. Returns how many of L1's sets they fall in (0 if the
 * CPU reports more sets than X86_CONV_L1_SETS_MAX), *crowded whether a set
 * gets more than its ways. Counting stops there if stop_when_crowded,
 * and once the lines have filled more than stop_past_sets sets (the plan
 * is made at every run). The planes' start within a line is ignored: a
 * tile may touch one line more per plane.
 */
static int64_t gemm_tile_l1_sets(int64_t channels, int64_t plane_bytes, int64_t lines,
                                 int stop_when_crowded, int64_t stop_past_sets, int *crowded)
{
    const cp_cache_info *c = cp_cache();
    int64_t sets = c->l1d_bytes / 64 / (c->l1d_ways > 0 ? c->l1d_ways : 1);
    int32_t count[X86_CONV_L1_SETS_MAX];
    int64_t used = 0;
    *crowded = 0;
    if (sets < 1 || sets > X86_CONV_L1_SETS_MAX)
        return 0;
    memset(count, 0, (size_t)sets * sizeof count[0]);
    int64_t next = 0; /* the first line not yet counted (planes closer than a tile share lines) */
    for (int64_t ch = 0; ch < channels; ch++) {
        const int64_t first = ch * plane_bytes / 64;
        int64_t line = first > next ? first : next;
        /* one division a plane: the lines then go round the sets (the
         * ConvTranspose GEMM of the stem's dx plans every band; with a
         * division a line this count had 0.5% of its dx+dw samples) */
        for (int64_t set = line % sets; line < first + lines; line++) {
            used += count[set]++ == 0;
            *crowded |= count[set] > c->l1d_ways;
            if ((*crowded && stop_when_crowded) || used > stop_past_sets)
                return used;
            set = set + 1 == sets ? 0 : set + 1;
        }
        next = line > next ? line : next;
    }
    return used;
}

static int gemm_tile_crowds_l1(int64_t channels, int64_t plane_bytes, int64_t lines)
{
    int crowded;
    gemm_tile_l1_sets(channels, plane_bytes, lines, 1, X86_CONV_L1_SETS_MAX, &crowded);
    return crowded;
}

/*
 * The GEMM's pixels per tile: gemm_nv vectors, or half as many where the
 * tile's input (its pixels of every input channel of the group) comes from
 * beyond L2 (the input planes outgrow it), overfills the share of L1 a
 * pack may take at full width and, read in place, falls in at most half
 * of L1's sets (planes a multiple of 1 KiB apart), but fits the share at
 * half width: the half tile is then packed (gemm_packs), and every
 * output-channel block reads it from L1 rather than from L2. Only where
 * the half tile keeps X86_CONV_GEMM_MIN_ACC accumulators (the FMAs'
 * latency). Measured at 1 thread on the Xeon (new / old time, 48 KiB L1,
 * 2 MiB L2), 1x1 on 112 x 112 and 128 x 128: 160 -> 64 0.78x, 256 -> 64
 * 0.77x, 240 -> 240 0.72x, 192 -> 96 0.82x. Not where the lines spread
 * over L1's sets: 256 -> 64 on 56 x 56 ran 0.92x with the vCPU in its slow
 * state but 1.11x in its fast one; nor where the input stays in L2 (256
 * -> 128 on 28 x 28 1.04x, 288 -> 96 on 14 x 14 1.17x).
 */
static int64_t gemm_tile_pixels(const x86_conv *xc, int64_t plane_bytes, int whole_tiles)
{
    const cp_conv_kernels *k = xc->k;
    const cp_cache_info *c = cp_cache();
    const int64_t full = (int64_t)k->gemm_nv * k->vw, half = full / 2;
    const int64_t share = c->l1d_bytes * X86_CONV_GEMM_PACK_L1_64THS / 64;
    const int64_t full_bytes = xc->cpg * full * (int64_t)sizeof(float);
    if (whole_tiles || k->gemm_nv % 2 || k->gemm_mr * (k->gemm_nv / 2) < X86_CONV_GEMM_MIN_ACC ||
        full_bytes <= share || full_bytes / 2 > share || xc->cpg * plane_bytes <= c->l2_bytes)
        return full;
    const int64_t sets = c->l1d_bytes / 64 / (c->l1d_ways > 0 ? c->l1d_ways : 1);
    int crowded;
    const int64_t used = gemm_tile_l1_sets(xc->cpg, plane_bytes, full / 16, 0, sets / 2, &crowded);
    return used > 0 && 2 * used <= sets ? half : full;
}

/*
 * Input channels per pass of a GEMM pixel tile over its output-channel
 * blocks: all of them, or, where a full tile read in place overfills the
 * share of L1 a pack may take, its lines crowd some of L1's sets past
 * their ways (so every block reads most of them from L2 again) and the
 * input planes outgrow L2, equal parts that fit the share and whose lines
 * do not crowd any set (planes a multiple of 1 KiB apart put every part's
 * lines in a few sets: the half tile's case). Each block's
 * sums then run part by part, carried in y between the parts: the same
 * chain of FMAs in channel order, so the same bits. Measured at 1 thread
 * on the Xeon (new / old time, 48 KiB L1 of 12 ways, 2 MiB L2), 1x1 on
 * 56 x 56: 256 -> 64 (ResNet-50's, also the dx of 64 -> 256)
 * 0.91x-0.93x, 512 -> 128 0.92x; 192 channels, whose lines fill the sets'
 * ways just to the brim, ran 1.08x slower in halves and keep whole passes.
 * At 2 threads level. (Packing each part as well measured the same where
 * this gains, and slower where the input's pages happened to suit the
 * whole pass.) Depth-to-space runs keep whole passes: their tiles are
 * stored zipped, not carried.
 */
static int64_t gemm_k_chunk(const x86_conv *xc, int64_t plane_bytes, int64_t tile, int packs,
                            int whole_tiles)
{
    const cp_cache_info *c = cp_cache();
    const int64_t tile_bytes = tile * (int64_t)sizeof(float);
    const int64_t parts =
        ceil_div(xc->cpg * tile_bytes, c->l1d_bytes * X86_CONV_GEMM_PACK_L1_64THS / 64);
    if (whole_tiles || packs || parts < 2 || xc->cpg * plane_bytes <= c->l2_bytes ||
        !gemm_tile_crowds_l1(xc->cpg, plane_bytes, tile_bytes / 64))
        return xc->cpg;
    const int64_t part = ceil_div(xc->cpg, parts);
    /* a part whose lines crowd the sets as well would only add the carries */
    return gemm_tile_crowds_l1(part, plane_bytes, tile_bytes / 64) ? xc->cpg : part;
}

/* The pixels before p's next 64-byte line where planes `plane` floats
 * apart all start at the same place in a line; else -1. */
static int64_t pixels_to_line(const float *p, int64_t plane)
{
    const uintptr_t at = (uintptr_t)p % 64;
    if (plane * (int64_t)sizeof(float) % 64 != 0 || at % sizeof(float) != 0)
        return -1;
    return (int64_t)((64 - at) % 64 / sizeof(float));
}

int64_t cp_x86_conv_gemm_head(const x86_conv *xc, const float *x, int64_t x_plane, const float *y,
                              int64_t y_plane, int64_t pixels)
{
    const int y_first = xc->mpg > xc->cpg;
    int64_t head = y_first ? pixels_to_line(y, y_plane) : pixels_to_line(x, x_plane);
    if (head < 0)
        head = y_first ? pixels_to_line(x, x_plane) : pixels_to_line(y, y_plane);
    return head > 0 && head < pixels ? head : 0;
}

void cp_x86_conv_plan_gemm(const x86_conv *xc, int64_t items, int64_t pixels, int64_t plane,
                           int whole_tiles, int pack_long, int64_t head, x86_conv_plan *p)
{
    memset(p, 0, sizeof *p);
    p->row_parts = 1;
    const int64_t plane_bytes = plane * (int64_t)sizeof(float);
    const int64_t tile = gemm_tile_pixels(xc, plane_bytes, whole_tiles);
    p->tile = tile;
    /* Where the tile's input crowds L1 and the input planes outgrow L2,
     * each task first copies the tile's input into a pack of its own (its
     * channels a tile apart), which every block then reads from L1.
     * Measured at 1 thread (new / old time), 1x1 on 112 x 112: 64 -> 147
     * (ConvTranspose's GEMM way of the stem's dx: 0.79x-0.80x, 1 and 2
     * threads) and 96 -> 96 0.80x, 128 -> 128 0.80x-1.0x (0.86x at 2
     * threads); 64 -> 64 on 224 x 224 0.91x. Crowded planes within L2 ran
     * 1.0x-1.05x slower packed (64 channels of 32 x 32 and 64 x 64), and
     * 32 channels of 112 x 112 (8 lines a set of 12 ways) 1.2x slower.
     * Depth-to-space runs read their tiles from the pack the same way:
     * ct_unet112 (ConvTranspose 128 -> 64, 2x2 stride 2, on 112 x 112, as
     * a 1x1 128 -> 256) 0.67x-0.71x at 1 and 2 threads. */
    const int64_t tile_bytes = tile * (int64_t)sizeof(float);
    p->gemm_packs =
        xc->cpg * tile_bytes <= cp_cache()->l1d_bytes * X86_CONV_GEMM_PACK_L1_64THS / 64 &&
        xc->cpg * plane_bytes > cp_cache()->l2_bytes &&
        gemm_tile_crowds_l1(xc->cpg, plane_bytes, tile_bytes / 64);
    p->k_chunk = gemm_k_chunk(xc, plane_bytes, tile, p->gemm_packs, whole_tiles);
    /* long reductions that run whole passes (X86_CONV_GEMM_PACK_MIN_CHANNELS) */
    if (pack_long && !whole_tiles && p->k_chunk == xc->cpg &&
        xc->cpg >= X86_CONV_GEMM_PACK_MIN_CHANNELS)
        p->gemm_packs = 1;
    p->pack_floats = p->thread_floats = p->gemm_packs ? round_up(xc->cpg * tile, 16) : 0;
    /* A head tile where the blocks read the tile in place: a packed tile
     * is read from aligned lines anyway, and the head's short tile cost
     * more than its copy's loads gained (the stem's dx 1.05x slower). */
    p->head = whole_tiles || p->gemm_packs ? 0 : head;
    const int64_t tiles = x86_conv_gemm_tiles(p, pixels);
    /* A last tile of one vector keeps GEMM_MR sums (4 on AVX2), fewer than
     * the FMAs' latency needs (X86_CONV_GEMM_MIN_ACC): there the last two
     * tiles share their vectors evenly (a 7 x 7 plane's 24 + 24 + 1 pixels
     * as 24 + 16 + 9), the same FMAs with twice the sums in flight. On a
     * Zen 3 (the two builds alternating in one process, 1 / 2 threads), 1x1
     * on 7 x 7: 2048 -> 512 0.88x / 0.92x the time, 512 -> 2048 0.93x /
     * 0.96x, 2304 -> 512 0.89x-0.97x; 1024 -> 256 on 14 x 14 0.97x. */
    const int64_t body = pixels - p->head, rest = body % tile, vw = xc->k->vw;
    const int64_t rest_vectors = ceil_div(rest, vw);
    if (rest && body > tile && xc->block * rest_vectors < X86_CONV_GEMM_MIN_ACC) {
        const int64_t shared = tile / vw + rest_vectors;
        p->short_last = ceil_div(shared, 2) * vw;
    }
    p->p_chunk = min64(tiles, 4);
    /* each task packs its tiles for its own blocks, or runs them part by
     * part over its blocks: where tasks are too few, more of them by
     * pixels rather than by output channels, so that every block meets
     * the tile's input (or a part of it) in L1 (packs: 64 -> 48 on 32 x 32
     * in blocks of one took 1.9x the time; parts: r1x1b at 2 threads
     * 0.95x) */
    const int64_t spread = items * xc->groups * tiles / X86_CONV_TASK_TARGET;
    if (p->gemm_packs || p->k_chunk < xc->cpg)
        p->p_chunk = spread < 1 ? 1 : min64(p->p_chunk, spread);
    p->p_chunks = ceil_div(tiles, p->p_chunk);
    p->tasks_outer = items * xc->groups * p->p_chunks;
    plan_m_chunks(p, p->tasks_outer, xc->blocks);
}

void cp_x86_conv_plan_tiled(const x86_conv *xc, int64_t pixels, x86_conv_plan *p)
{
    cp_x86_conv_plan_gemm(xc, 1, pixels, x86_conv_gemm_full_tile(xc), 1, 0, 0, p);
    p->gemm_packs = 0;
}

void cp_x86_conv_plan_depthwise_rows(const x86_conv *xc, const cp_geom *g, int64_t rows,
                                     x86_conv_plan *p)
{
    cp_x86_conv_make_plan(xc, g, 1, 0, NULL, NULL, p);
    if (!p->unpacked && p->band_rows > rows)
        set_band_rows(p, g, 1, rows);
}

/* `threads`: how many take part in the run (tile shapes that split evenly) */
void cp_x86_conv_make_plan(const x86_conv *xc, const cp_geom *g, int32_t threads, int whole_tiles,
                           const float *x, const float *y, x86_conv_plan *p)
{
    memset(p, 0, sizeof *p);
    p->row_parts = 1;
    const int64_t vw = xc->k->vw;
    if (xc->algo == X86_CONV_GEMM) {
        const int64_t pixels = cp_geom_out_plane(g), plane = cp_geom_in_plane(g);
        cp_x86_conv_plan_gemm(xc, g->n, pixels, plane, whole_tiles, 1,
                              x ? cp_x86_conv_gemm_head(xc, x, plane, y, pixels, pixels) : 0, p);
        if (threads <= 1) { /* each pixel tile meets all blocks while in L1 (packed once) */
            p->m_chunks = 1;
            p->m_chunk = xc->blocks;
        }
        return;
    }
    const int64_t ow = g->out[2], sw = g->stride[2], kw_span = (g->kernel[2] - 1) * g->dilation[2];
    if (xc->algo == X86_CONV_DEPTHWISE || xc->algo == X86_CONV_ROWS) {
        /* Whole vectors past the row end stay inside the packed row. */
        p->phases = sw;
        p->phase_len = round_up(round_up(ow, vw) + kw_span / sw, 16);
        p->row_pitch = p->phases * p->phase_len;
    }
    if (xc->algo == X86_CONV_ROWS) {
        p->offset_count = xc->cpg * xc->taps;
        plan_bands(p, xc, g, xc->cpg, g->n * xc->groups * g->out[0]);
        plan_m_chunks(p, p->tasks_outer, xc->blocks);
        return;
    }
    if (xc->algo == X86_CONV_DEPTHWISE) {
        p->offset_count = xc->taps;
        plan_bands(p, xc, g, 1, g->n * xc->groups * g->out[0]);
        p->m_chunks = 1;
        /* three taps along W read in place: at stride 2 always, at stride
         * 1 where the ISA has the kernel and the left pad is 0 or 1 */
        p->unpacked = g->kernel[2] == 3 && g->dilation[2] == 1 &&
                      (sw == 2 || (sw == 1 && xc->k->depthwise3s1 && g->pad_begin[2] <= 1)) &&
                      g->kernel[0] * g->kernel[1] <= X86_CONV_DW_MAX_ROW_TAPS;
        if (p->unpacked) {
            p->pack_floats = p->thread_floats = 0;
            p->offset_count = 0;
        }
        return;
    }
    p->phases = 1;
    p->phase_len = (ow - 1) * sw + kw_span + 1;
    p->row_pitch = p->phase_len;
    p->offset_count = xc->cpg * xc->taps;
    plan_bands(p, xc, g, xc->cpg, g->n * xc->groups * g->out[0]);
    /* Where the kernel can, it reads the input in place (no copy, and no
     * thread waiting for one), if the input planes are small or outweighed
     * by the weights (larger ones are worth packing into L2-sized bands)
     * and not a multiple of 4 KiB (all channels' rows would fall in the
     * same L1 sets). */
    const int64_t plane_bytes = cp_geom_in_plane(g) * (int64_t)sizeof(float);
    p->unpacked =
        direct_reads_input(g) && plane_bytes % 4096 != 0 &&
        (plane_bytes <= X86_CONV_IN_PLACE_PLANE_BYTES || weights_outweigh_input(xc, g, xc->cpg));
    if (p->unpacked) {
        p->row_pitch = g->in[2];
        p->chan_pitch = cp_geom_in_plane(g);
        p->pack_floats = 0;
    }
    plan_direct_tiles(xc, ow, threads, p);
    /* compact tables: input offsets and weight codes, int64 each */
    p->thread_floats =
        p->pack_floats + round_up(X86_CONV_COMPACT_SLOTS * 2 * p->offset_count * 2, 16);
}

size_t cp_x86_conv_workspace_size(const convpool_op *op, const cp_geom *g, int32_t threads)
{
    if (cp_x86_conv_run_is_tiny(op->packed, g))
        return 0;
    if (cp_x86_im2col_takes(op->packed, g))
        return cp_x86_im2col_workspace_size(op->packed, g, threads);
    x86_conv_plan p;
    cp_x86_conv_make_plan(cp_x86_conv_for(op->packed, g), g, threads, 0, NULL, NULL, &p);
    const size_t direct = cp_x86_conv_offsets_bytes(&p) + cp_x86_conv_thread_bytes(threads) +
                          (size_t)threads * (size_t)p.thread_floats * sizeof(float);
    if (!cp_x86_wino_takes(op->packed, g))
        return direct;
    /* a Winograd run may leave the output to the direct algorithm */
    const size_t wino = cp_x86_wino_workspace_size(op->packed, g, threads);
    return wino > direct ? wino : direct;
}
