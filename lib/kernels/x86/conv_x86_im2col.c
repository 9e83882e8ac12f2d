/*
 * Convolutions on small output planes as columns and the 1x1 GEMM
 * (kernels/x86/conv_x86_im2col.h).
 */
#include "kernels/x86/conv_x86_im2col.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

/* A reduction (C * taps) at least this long: the GEMM packs its tiles
 * (X86_CONV_GEMM_PACK_MIN_CHANNELS) */
#define X86_IM2COL_MIN_STEPS 128
/* Output planes of this many pixels. 3x3 stride 2 on a Zen 3, this way
 * against the direct kernel (the benchmark alternating the two builds,
 * three runs each, 1 / 2 threads): on 7 x 7 outputs 128 -> 256
 * 0.77x-0.89x / 0.67x-1.04x the time, 256 -> 256 0.84x-0.89x /
 * 0.73x-1.15x, 256 -> 512 (r3x3_s2) 0.77x-0.93x / 0.55x-1.05x, 512 -> 512
 * 0.71x-0.81x / 0.80x-0.83x; on 14 x 14 128 -> 256 0.86x-1.08x /
 * 0.56x-0.95x, 256 -> 512 0.68x-0.71x / 0.62x-0.68x; 64 -> 128 on 28 x 28
 * 0.90x-1.09x / 0.61x-1.10x. */
#define X86_IM2COL_MIN_PIXELS 49
#define X86_IM2COL_MAX_PIXELS 784
/* Below this many column floats the copy stays on one thread. */
#define X86_IM2COL_MIN_FLOATS_PER_THREAD 16384

/* Stride 1 with kernels of at most this many taps (the columns copy the
 * input once a tap; the direct kernel reads it once for all): the stride
 * phases of a 3x3 stride-2 layer's dx are 2x2, 2x1, 1x2 and 1x1 Convs. On
 * a Zen 3 (the two builds alternating in one process, 1 / 2 threads), the
 * dx of 3x3 stride-2 layers: 256 -> 512 on 14 x 14 (r3x3_s2) 0.93x /
 * 0.94x the time, 512 -> 512 0.84x / 0.91x, 128 -> 256 on 28 x 28 0.81x /
 * 0.90x, 64 -> 128 on 56 x 56 0.94x / 0.97x; alone, 2x1 256 -> 128 on 14
 * x 14 0.81x / 0.76x, but 1x2 512 -> 256 on 7 x 7 (its padding after the
 * row) 1.21x / 1.07x, and 2x2 kernels with their padding after the rows
 * 1.1x-1.2x (before them 0.77x-0.84x: left to the direct kernel). */
#define X86_IM2COL_STRIDE1_MAX_TAPS 2

static int qualifies(const convpool_op *op, const x86_conv *xc)
{
    const cp_attrs *a = &op->attrs;
    int strided = 0;
    for (int i = 0; i < a->rank; i++)
        strided |= a->strides[i] > 1;
    return (strided || xc->taps <= X86_IM2COL_STRIDE1_MAX_TAPS) && a->group == 1 &&
           xc->algo == X86_CONV_DIRECT && xc->k->vw < 16 &&
           xc->cpg * xc->taps >= X86_IM2COL_MIN_STEPS;
}

convpool_status cp_x86_im2col_prepare(const convpool_op *op, x86_conv *xc, const float *weight,
                                      const float *bias)
{
    if (!qualifies(op, xc))
        return CONVPOOL_OK;
    x86_im2col *c = cp_calloc(1, sizeof *c);
    if (!c)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate the im2col plan");
    c->rows = xc->cpg * xc->taps;
    /* the weights (M, C, K...) are, read flat, the 1x1's (M, C * taps) */
    convpool_desc d;
    cp_attrs_init(&d.attrs, CONVPOOL_OP_CONV, op->attrs.rank);
    int64_t ws[2 + CP_MAX_SPATIAL] = {op->m, c->rows, 1, 1, 1};
    convpool_status st =
        cp_op_create(&d, ws, (size_t)op->attrs.rank + 2, weight, bias, op->isa, &c->gemm);
    if (st != CONVPOOL_OK) {
        cp_x86_im2col_release(c);
        return st;
    }
    xc->im2col = c;
    return CONVPOOL_OK;
}

void cp_x86_im2col_release(x86_im2col *c)
{
    if (!c)
        return;
    cp_op_destroy(c->gemm);
    cp_free(c);
}

int cp_x86_im2col_takes(const x86_conv *xc, const cp_geom *g)
{
    const int64_t pixels = cp_geom_out_plane(g);
    return xc->im2col && pixels >= X86_IM2COL_MIN_PIXELS && pixels <= X86_IM2COL_MAX_PIXELS;
}

/* The 1x1's geometry on one image of g's columns. */
static int gemm_geom(const x86_im2col *c, const cp_geom *g, cp_geom *gg)
{
    const int rank = g->spatial_rank, lead = CP_MAX_SPATIAL - rank;
    int64_t shape[2 + CP_MAX_SPATIAL] = {1, c->rows};
    for (int i = 0; i < rank; i++)
        shape[2 + i] = g->out[lead + i];
    return cp_geom_resolve(c->gemm, shape, (size_t)rank + 2, gg) == CONVPOOL_OK;
}

/* Where tap (kd, kh, kw) reads: the outputs of each dim whose tap lies
 * inside the input, lo[i] <= o < hi[i], and the input offset the tap reads
 * for output (0, 0, 0) (outside the input where there is padding; each
 * output inside adds its own stride steps). */
typedef struct im2col_tap {
    int64_t lo[CP_MAX_SPATIAL], hi[CP_MAX_SPATIAL];
    int64_t origin;
} im2col_tap;

/* The columns of one image in the GEMM's whole tiles (cp_x86_conv_run_tiled),
 * then the taps' table, then for each thread a row of the output plane
 * and, with stride 2 along W, a channel's input plane with each row split
 * into its even and odd columns (split_w). */
typedef struct im2col_layout {
    x86_conv_plan gemm; /* the tiles' spans */
    int64_t tile, tiles, taps;
    int split_w;
    size_t columns_bytes, taps_bytes, row_bytes, thread_bytes;
} im2col_layout;

static im2col_layout layout_of(const x86_im2col *c, const cp_geom *g)
{
    im2col_layout l;
    l.tile = x86_conv_gemm_full_tile(c->gemm->packed);
    cp_x86_conv_plan_tiled(c->gemm->packed, cp_geom_out_plane(g), &l.gemm);
    l.tiles = x86_conv_gemm_tiles(&l.gemm, cp_geom_out_plane(g));
    l.taps = g->kernel[0] * g->kernel[1] * g->kernel[2];
    l.columns_bytes = cp_align_up((size_t)(l.tiles * c->rows * l.tile) * sizeof(float));
    l.taps_bytes = cp_align_up((size_t)l.taps * sizeof(im2col_tap));
    l.row_bytes = cp_align_up((size_t)cp_geom_out_plane(g) * sizeof(float));
    l.split_w = g->stride[2] == 2;
    l.thread_bytes =
        l.row_bytes + (l.split_w ? cp_align_up((size_t)cp_geom_in_plane(g) * sizeof(float)) : 0);
    return l;
}

size_t cp_x86_im2col_workspace_size(const x86_conv *xc, const cp_geom *g, int32_t threads)
{
    const im2col_layout l = layout_of(xc->im2col, g);
    return l.columns_bytes + l.taps_bytes + (size_t)threads * l.thread_bytes;
}

typedef struct im2col_job {
    const cp_geom *g;
    const im2col_layout *l;
    const cp_conv_kernels *k;
    const im2col_tap *tap; /* the taps' table, in the workspace */
    const float *x;        /* one image */
    float *columns;
    char *threads_at; /* each thread's row (and split plane) */
    int64_t rows;     /* C * taps */
} im2col_job;

/* The outputs o of one dim whose tap k reads inside the input: lo <= o < hi. */
static void inside_span(const cp_geom *g, int i, int64_t k, int64_t *lo, int64_t *hi)
{
    const int64_t off = k * g->dilation[i] - g->pad_begin[i], s = g->stride[i];
    /* o * s + off in [0, in) */
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t b = g->in[i] - off <= 0 ? 0 : (g->in[i] - off + s - 1) / s;
    *lo = a < g->out[i] ? a : g->out[i];
    *hi = b < g->out[i] ? b : g->out[i];
    if (*hi < *lo)
        *hi = *lo;
}

/* The taps' table: once a run, so that a column row costs no divisions
 * beyond its channel's (they and the element-wise gather were most of the
 * copy's time, 14% of a 3x3 stride-2 layer's on 7 x 7 outputs). With
 * split_w, the offsets are into the split plane: input column 2i + e is
 * float e * ceil(W / 2) + i of its row, so that a tap's outputs along a
 * row read consecutive floats. */
static void fill_taps(const cp_geom *g, int split_w, im2col_tap *tap)
{
    int64_t t = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++, t++) {
                const int64_t k[CP_MAX_SPATIAL] = {kd, kh, kw};
                int64_t origin = 0;
                for (int i = 0; i < CP_MAX_SPATIAL; i++) {
                    inside_span(g, i, k[i], &tap[t].lo[i], &tap[t].hi[i]);
                    origin = origin * g->in[i] + k[i] * g->dilation[i] - g->pad_begin[i];
                }
                if (split_w) { /* the column part: off = 2 * half + odd */
                    const int64_t off = kw * g->dilation[2] - g->pad_begin[2];
                    const int64_t half = cp_floor_div(off, 2), odd = off - 2 * half;
                    origin += -off + odd * ((g->in[2] + 1) / 2) + half;
                }
                tap[t].origin = origin;
            }
}

/* Column row r (tap t of channel c, r = c * taps + t) over the output
 * plane into `row`: the input element each output pixel's tap reads, 0 in
 * the padding. */
static void column_row(const im2col_job *j, int64_t r, const float *xc, float *row)
{
    const cp_geom *g = j->g;
    const int64_t ow = g->out[2], sw = j->l->split_w ? 1 : g->stride[2];
    const im2col_tap *tp = &j->tap[r % j->l->taps];
    const int64_t step_h = g->stride[1] * g->in[2], step_d = g->stride[0] * g->in[1] * g->in[2];
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < g->out[1]; oh++) {
            float *dst = row + (od * g->out[1] + oh) * ow;
            const int inside =
                od >= tp->lo[0] && od < tp->hi[0] && oh >= tp->lo[1] && oh < tp->hi[1];
            const int64_t w0 = inside ? tp->lo[2] : ow, w1 = inside ? tp->hi[2] : ow;
            const int64_t at = tp->origin + od * step_d + oh * step_h;
            int64_t o = 0;
            for (; o < w0; o++)
                dst[o] = 0.0f;
            if (sw == 1 && w1 > o) {
                memcpy(dst + o, xc + at + o, (size_t)(w1 - o) * sizeof(float));
                o = w1;
            }
            for (; o < w1; o++)
                dst[o] = xc[at + o * sw];
            for (; o < ow; o++)
                dst[o] = 0.0f;
        }
}

/* Column rows begin .. end - 1, each through this thread's row into its
 * place in every tile. */
static void im2col_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const im2col_job *j = arg;
    const im2col_layout *l = j->l;
    const int64_t pixels = cp_geom_out_plane(j->g);
    char *mine = j->threads_at + (size_t)thread_index * l->thread_bytes;
    float *row = (float *)mine, *split = (float *)(mine + l->row_bytes);
    const int64_t in_plane = cp_geom_in_plane(j->g), w = j->g->in[2];
    int64_t split_c = -1;
    for (int64_t r = begin; r < end; r++) {
        const int64_t c = r / l->taps;
        const float *xc = j->x + c * in_plane;
        if (l->split_w) {
            if (c != split_c) /* each of the channel's rows: evens, then odds */
                j->k->pack_rows(xc, w, in_plane / w, w, 2, split, split + (w + 1) / 2, w);
            split_c = c;
            xc = split;
        }
        column_row(j, r, xc, row);
        for (int64_t t = 0; t < l->tiles; t++) {
            int64_t p0, np;
            x86_conv_gemm_tile_span(&l->gemm, pixels, t, &p0, &np);
            memcpy(j->columns + (t * j->rows + r) * l->tile, row + p0, (size_t)np * sizeof(float));
        }
    }
}

void cp_x86_im2col_run(const cp_run_args *a)
{
    const x86_conv *xc = a->op->packed;
    const x86_im2col *c = xc->im2col;
    const cp_geom *g = a->geom;
    cp_geom gg;
    if (!gemm_geom(c, g, &gg))
        return; /* unreachable: a 1x1 takes any plane */
    const im2col_layout l = layout_of(c, g);
    const int64_t out_plane = cp_geom_out_plane(g);
    char *ws = a->workspace;
    im2col_tap *tap = (im2col_tap *)(ws + l.columns_bytes);
    fill_taps(g, l.split_w, tap);
    im2col_job j = {g,      &l, xc->k, tap, NULL, (float *)ws, ws + l.columns_bytes + l.taps_bytes,
                    c->rows};
    const int32_t threads =
        cp_threads_for_work(c->rows * out_plane, X86_IM2COL_MIN_FLOATS_PER_THREAD);
    for (int64_t n = 0; n < g->n; n++) {
        j.x = a->x + n * g->c * cp_geom_in_plane(g);
        cp_parallel_for(a->ctx, c->rows, threads, im2col_task, &j);
        cp_run_args inner = {
            c->gemm, &gg, a->ctx, (const float *)a->workspace, a->y + n * g->m * out_plane,
            NULL,    NULL};
        cp_x86_conv_run_tiled(&inner);
    }
}
