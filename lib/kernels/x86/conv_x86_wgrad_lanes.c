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
 * order, whether the reduction runs in one call or batch item by batch
 * item (paused in between). One task owns a tile (or a block of tiles)
 * over the whole reduction: the same result for any thread count.
 */
#include "kernels/x86/conv_x86_wgrad.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* Fewest vectors per tile reduction, and the least share of a's laid-out
 * rows that holds pixels, for the lanes path on groups of many rows. */
#define LANES_MIN_VECTORS      32
#define LANES_MIN_FILL_PERCENT 75
/* A batch's block of tiles (a task's): at most this many row blocks and
 * tiles, their chains paused in the thread's scratch between batch items. */
#define LANES_BLOCK_ROWS  8
#define LANES_BLOCK_TILES 64
/* Floats of a batch item's reduction per step of a block, where every
 * column is a plane of its own (1x1 kernels): a column block's lines of b
 * (up to CP_GRAD_LANE_NB_MAX of them) stay in L1 while the block's row
 * blocks read them in turn. (With more taps, a channel's lines are one
 * plane at several offsets, which the cache shares unchunked: chunks only
 * add the pauses, 5%-10% on 3x3 kernels.) */
#define LANES_CHUNK_FLOATS 512

typedef struct lanes_plan {
    int64_t nph;                /* phase planes per channel: stride0 * stride1 * stride2 */
    int64_t qd[3];              /* a phase plane's dims */
    int64_t lph;                /* floats per phase plane (with a vector of slack if copied) */
    int64_t qlen;               /* floats per laid-out row of a, whole vectors */
    int64_t nb;                 /* columns per tile */
    int64_t r_blocks, c_blocks; /* tiles per group */
    /* a and b read where they are, when their layout is already this one;
     * staged: each task lays out one group's operands in its thread's
     * scratch right before its tiles (groups are small), else one layout of
     * everything is shared by all tasks */
    int a_in_place, b_in_place, staged;
    int rows_inner; /* tile order, see tile_task */
    /* one batch item, columns inner: each thread lays out the rows of a of
     * its tiles' row block in its own scratch, where they stay in L2 for
     * the block's tiles (a_bytes per thread), instead of the whole of a in
     * the shared layout: the stem's 3.2 MB dy is then not written to and
     * read back from L3 (a sixth of its dw at 2 threads) */
    int a_by_block;
    /* batches and long reductions (shared layout) run in blocks of tiles:
     * chunk by chunk of each batch item over a block, whose rows of a
     * chunk stay in L2 and a column block's lines in L1 */
    int blocked;
    int64_t chunk;                       /* floats of a chunk (whole vectors) */
    int64_t block_rows, block_cols;      /* row and column blocks per block */
    size_t a_bytes, b_bytes, loff_bytes; /* workspace parts; staged: per thread */
    size_t part_bytes;                   /* blocked, per thread: a block's paused chains */
} lanes_plan;

static int64_t tap_offset(const cp_wgrad_operands *o, const cp_geom *g, const int64_t *qd,
                          int64_t lph, int64_t t, int64_t *phase)
{
    const int64_t kk[3] = {t / (g->kernel[1] * g->kernel[2]), t / g->kernel[2] % g->kernel[1],
                           t % g->kernel[2]};
    int64_t at = 0;
    *phase = 0;
    for (int i = 0; i < 3; i++) {
        const int64_t w = kk[i] * g->dilation[i] - g->pad_begin[i] + o->shift[i];
        *phase = *phase * g->stride[i] + w % g->stride[i];
        at = at * qd[i] + w / g->stride[i];
    }
    return *phase * lph + at;
}

static void plan_lanes(const cp_wgrad_operands *o, const cp_geom *g, const cp_grad_kernels *k,
                       lanes_plan *p)
{
    const int64_t vw = k->vw, *ad = o->a_dims, plane = ad[0] * ad[1] * ad[2];
    p->nph = g->stride[0] * g->stride[1] * g->stride[2];
    for (int i = 0; i < 3; i++)
        p->qd[i] = (o->pdims[i] + g->stride[i] - 1) / g->stride[i];
    p->qlen = (((ad[0] - 1) * p->qd[1] + ad[1] - 1) * p->qd[2] + ad[2] + vw - 1) / vw * vw;
    p->a_in_place = p->qd[1] == ad[1] && p->qd[2] == ad[2] && plane % vw == 0;
    /* in place, b's lines end inside their own plane */
    p->b_in_place = !o->padded && p->nph == 1;
    for (int64_t t = 0, phase; p->b_in_place && t < o->taps; t++)
        p->b_in_place = p->qlen + tap_offset(o, g, p->qd, o->pplane, t, &phase) <= o->pplane;
    /* the last vector of a row reads past the last pixel's line by < vw */
    p->lph = p->b_in_place ? o->pplane : p->qd[0] * p->qd[1] * p->qd[2] + vw;
    p->r_blocks = (o->a_pg + k->lane_mr - 1) / k->lane_mr;
    /* groups of fewer rows than lane_mr (depthwise) take wider tiles */
    p->nb = k->lane_acc / (o->a_pg < k->lane_mr ? o->a_pg : k->lane_mr);
    p->nb = p->nb < CP_GRAD_LANE_NB_MAX ? p->nb : CP_GRAD_LANE_NB_MAX;
    p->c_blocks = (o->cols + p->nb - 1) / p->nb;
    p->staged = o->group > 1;
    const int64_t a_rows = p->staged ? o->a_pg : o->a_ch, b_planes = p->staged ? o->b_pg : o->b_ch;
    p->a_bytes = p->a_in_place ? 0 : cp_align_up((size_t)(g->n * a_rows * p->qlen) * sizeof(float));
    p->b_bytes = p->b_in_place
                     ? 0
                     : cp_align_up((size_t)(g->n * b_planes * p->nph * p->lph) * sizeof(float));
    p->loff_bytes = cp_align_up((size_t)o->cols * sizeof(int64_t));
    /* reread from L2 if it fits there, else the fewer bytes */
    const int64_t a_group = g->n * o->a_pg * p->qlen * 4,
                  b_group = g->n * o->b_pg * p->nph * p->lph * 4;
    const int64_t l2 = cp_cache()->l2_bytes;
    if ((a_group <= l2) != (b_group <= l2))
        p->rows_inner = a_group <= l2;
    else
        p->rows_inner = p->c_blocks * a_group < p->r_blocks * b_group;
    p->chunk = LANES_CHUNK_FLOATS / vw * vw;
    if (o->taps > 1)
        p->chunk = p->qlen;
    p->blocked = !p->staged && (g->n > 1 || p->qlen > p->chunk);
    p->block_rows = p->r_blocks < LANES_BLOCK_ROWS ? p->r_blocks : LANES_BLOCK_ROWS;
    p->block_cols = LANES_BLOCK_TILES / p->block_rows;
    p->block_cols = p->c_blocks < p->block_cols ? p->c_blocks : p->block_cols;
    p->part_bytes = p->blocked
                        ? cp_align_up((size_t)(p->block_rows * p->block_cols * k->lane_acc * vw) *
                                      sizeof(float))
                        : 0;
    p->a_by_block = !p->a_in_place && !p->staged && !p->blocked && !p->rows_inner;
    if (p->a_by_block)
        p->a_bytes = cp_align_up((size_t)(k->lane_mr * p->qlen) * sizeof(float));
}

/* Scratch bytes of each kind: one shared layout (or none), and per thread. */
static size_t shared_bytes(const lanes_plan *p)
{
    return p->staged ? 0 : p->a_by_block ? p->b_bytes : p->a_bytes + p->b_bytes;
}

static size_t thread_bytes(const lanes_plan *p)
{
    return p->staged ? p->a_bytes + p->b_bytes : p->a_by_block ? p->a_bytes : 0;
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

size_t cp_x86_wgrad_lanes_workspace(const cp_wgrad_operands *o, const cp_geom *g, int32_t threads,
                                    const cp_grad_kernels *k)
{
    lanes_plan p;
    plan_lanes(o, g, k, &p);
    return p.loff_bytes + shared_bytes(&p) + (thread_bytes(&p) + p.part_bytes) * (size_t)threads;
}

typedef struct lanes_job {
    const cp_backward_args *args;
    const cp_grad_kernels *k;
    const cp_wgrad_operands *o;
    lanes_plan p;
    char *scratch; /* the shared layout, then each thread's (shared_bytes, thread_bytes) */
    int64_t *loff; /* per column: its line's offset in the group's phase planes */
    int with_db;   /* a is dy: db comes with the tiles */
    char *parts;   /* blocked, per thread: paused chains */
} lanes_job;

/* Where a group's operands are read: a's row r of batch item n at
 * a + n*a_batch + (r - a_row0)*qlen (a_row0: the first row laid out, 0
 * but for a_by_block), b's channel c at b + n*b_batch + c*nph*lph. */
typedef struct lanes_view {
    const float *a, *b;
    int64_t a_batch, b_batch;
    int64_t a_row0;
} lanes_view;

/* Zeros dst[*done, to), then *done = to: the gaps of a layout, so that
 * each float is written once. */
static void zero_until(float *dst, int64_t *done, int64_t to)
{
    if (to > *done)
        memset(dst + *done, 0, (size_t)(to - *done) * sizeof(float));
    *done = to > *done ? to : *done;
}

/* One plane of a (its rows at the phase planes' pitch, zeros between). */
static void lay_out_a(const lanes_job *j, const float *src, float *dst)
{
    const int64_t *ad = j->o->a_dims, *qd = j->p.qd;
    int64_t done = 0;
    for (int64_t u0 = 0; u0 < ad[0]; u0++)
        for (int64_t u1 = 0; u1 < ad[1]; u1++, src += ad[2]) {
            const int64_t at = (u0 * qd[1] + u1) * qd[2];
            zero_until(dst, &done, at);
            memcpy(dst + at, src, (size_t)ad[2] * sizeof(float));
            done = at + ad[2];
        }
    zero_until(dst, &done, j->p.qlen);
}

/* split_b for strides up to 2 along W: the rows of one depth that land on
 * one phase plane (every s1-th) in one call of the conv kernels' row
 * packing, which splits each into its two phases (or copies it). The
 * phase planes are zero already. */
static void split_b_rows(const lanes_job *j, const float *src, float *dst)
{
    const cp_wgrad_operands *o = j->o;
    const int64_t *bd = o->b_dims, *qd = j->p.qd, *sh = o->shift, *s = j->args->geom->stride;
    const int64_t lph = j->p.lph;
    for (int64_t v0 = 0; v0 < bd[0]; v0++)
        for (int64_t f = 0; f < s[1] && f < bd[1]; f++) {
            const int64_t w0 = v0 + sh[0], w1 = f + sh[1], rows = (bd[1] - f + s[1] - 1) / s[1];
            float *row = dst + ((w0 % s[0]) * s[1] + w1 % s[1]) * s[2] * lph +
                         ((w0 / s[0]) * qd[1] + w1 / s[1]) * qd[2];
            const float *from = src + (v0 * bd[1] + f) * bd[2];
            if (s[2] == 2) /* even v2 = 2i on phase sh2 % 2 at i + sh2 / 2, odd on the other */
                j->k->conv->pack_rows(from, s[1] * bd[2], rows, bd[2], 2,
                                      row + sh[2] % 2 * lph + sh[2] / 2,
                                      row + (sh[2] + 1) % 2 * lph + (sh[2] + 1) / 2, qd[2]);
            else
                j->k->conv->pack_rows(from, s[1] * bd[2], rows, bd[2], 1, row + sh[2], NULL, qd[2]);
        }
}

/* One plane of b into its phase planes: row by row of the frame, each
 * phase of a row a strided copy (no division per element or row). With
 * one phase plane only its gaps are zeroed, so each float is written
 * once. */
static void split_b(const lanes_job *j, const float *src, float *dst)
{
    const cp_wgrad_operands *o = j->o;
    const cp_geom *g = j->args->geom;
    const int64_t *bd = o->b_dims, *qd = j->p.qd, *sh = o->shift, *s = g->stride;
    const int64_t lph = j->p.lph;
    int64_t done = 0;
    if (j->p.nph > 1)
        memset(dst, 0, (size_t)(j->p.nph * lph) * sizeof(float));
    if (j->p.nph > 1 && s[2] <= 2) {
        split_b_rows(j, src, dst);
        return;
    }
    for (int64_t v0 = 0, p0 = sh[0] % s[0], i0 = sh[0] / s[0]; v0 < bd[0]; v0++) {
        for (int64_t v1 = 0, p1 = sh[1] % s[1], i1 = sh[1] / s[1]; v1 < bd[1]; v1++, src += bd[2]) {
            float *row = dst + (p0 * s[1] + p1) * s[2] * lph + (i0 * qd[1] + i1) * qd[2];
            if (j->p.nph == 1) {
                zero_until(dst, &done, row + sh[2] - dst);
                memcpy(row + sh[2], src, (size_t)bd[2] * sizeof(float));
                done = row + sh[2] + bd[2] - dst;
            } else {
                /* v2 = v_first, v_first + s2, ... land on phase (v_first + sh2) % s2 */
                for (int64_t v_first = 0; v_first < s[2] && v_first < bd[2]; v_first++) {
                    const int64_t w2 = v_first + sh[2];
                    float *d = row + (w2 % s[2]) * lph + w2 / s[2];
                    for (int64_t v2 = v_first, i = 0; v2 < bd[2]; v2 += s[2], i++)
                        d[i] = src[v2];
                }
            }
            if (++p1 == s[1])
                p1 = 0, i1++;
        }
        if (++p0 == s[0])
            p0 = 0, i0++;
    }
    if (j->p.nph == 1)
        zero_until(dst, &done, lph);
}

/* Lays out channels [c0, c0 + count) of batch item n (a if `is_a`, else b)
 * at dst, one plane after the other; nothing when read in place. */
static void lay_out(const lanes_job *j, int is_a, int64_t n, int64_t c0, int64_t count, float *dst)
{
    const cp_wgrad_operands *o = j->o;
    const int64_t *d = is_a ? o->a_dims : o->b_dims, plane = d[0] * d[1] * d[2];
    const int64_t pitch = is_a ? j->p.qlen : j->p.nph * j->p.lph;
    const float *src = (is_a ? o->a : o->b) + (n * (is_a ? o->a_ch : o->b_ch) + c0) * plane;
    if (is_a ? j->p.a_in_place : j->p.b_in_place)
        return;
    for (int64_t c = 0; c < count; c++, src += plane, dst += pitch) {
        if (is_a)
            lay_out_a(j, src, dst);
        else
            split_b(j, src, dst);
    }
}

/* Planes of a in the shared layout (none when read in place or laid out
 * by row block), and where b's layout starts in it. */
static int64_t shared_a_planes(const lanes_job *j)
{
    return j->p.a_in_place || j->p.a_by_block ? 0 : j->args->geom->n * j->o->a_ch;
}

static size_t shared_b_offset(const lanes_plan *p)
{
    return p->a_by_block ? 0 : p->a_bytes;
}

/* The shared layout: task t < shared_a_planes lays out a plane of a, the
 * rest b's. */
static void prepare_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const lanes_job *j = arg;
    const int64_t a_tasks = shared_a_planes(j);
    float *aq = (float *)j->scratch, *bq = (float *)(j->scratch + shared_b_offset(&j->p));
    for (int64_t t = begin; t < end; t++) {
        if (t < a_tasks)
            lay_out(j, 1, t / j->o->a_ch, t % j->o->a_ch, 1, aq + t * j->p.qlen);
        else
            lay_out(j, 0, (t - a_tasks) / j->o->b_ch, (t - a_tasks) % j->o->b_ch, 1,
                    bq + (t - a_tasks) * j->p.nph * j->p.lph);
    }
}

/* Tile (row block rb, column block cb) of group grp over batch items
 * [n0, n0 + count), of each the vecs vectors from float q0 of the
 * reduction, its chains resumed from or paused to `part` by flags
 * (cp_grad_lane_fn). */
static void run_tile(const lanes_job *j, const lanes_view *v, int64_t grp, int64_t rb, int64_t cb,
                     int64_t n0, int64_t count, int64_t q0, int64_t vecs, float *part, int flags)
{
    const cp_wgrad_operands *o = j->o;
    const int64_t mr = j->k->lane_mr, nb = j->p.nb, r = rb * mr, c0 = cb * nb;
    const int64_t rows = o->a_pg - r < mr ? o->a_pg - r : mr;
    const int64_t cols = o->cols - c0 < nb ? o->cols - c0 : nb;
    const float *a_rows = v->a + (r - v->a_row0) * j->p.qlen; /* of batch item 0 */
    j->k->lane[rows - 1][cols - 1](count, vecs, a_rows + n0 * v->a_batch + q0, j->p.qlen,
                                   v->a_batch, v->b + n0 * v->b_batch + q0, j->loff + c0,
                                   v->b_batch, part, flags,
                                   j->args->dw + (grp * o->a_pg + r) * o->cols + c0, o->cols);
    /* a Conv's db: its rows of a (dy), while the first column block has
     * them in cache (the zeros between rows add nothing) */
    if (cb == 0 && j->with_db && !(flags & CP_GRAD_LANE_PAUSE))
        for (int64_t i = 0; i < rows; i++)
            j->args->db[grp * o->a_pg + r + i] =
                j->k->sum(a_rows + i * j->p.qlen, j->p.qlen, j->args->geom->n, v->a_batch);
}

/* The view of group grp's operands: in place, in the shared layout, or (base
 * not NULL) in a staged layout at base. */
static lanes_view view_of(const lanes_job *j, int64_t grp, char *base)
{
    const cp_wgrad_operands *o = j->o;
    const int64_t cpitch = j->p.nph * j->p.lph;
    const int64_t a_plane = o->a_dims[0] * o->a_dims[1] * o->a_dims[2];
    lanes_view v;
    v.a_row0 = 0;
    if (j->p.a_in_place) {
        v.a = o->a + grp * o->a_pg * a_plane;
        v.a_batch = o->a_ch * a_plane;
    } else {
        v.a = base ? (const float *)base : (const float *)j->scratch + grp * o->a_pg * j->p.qlen;
        v.a_batch = (base ? o->a_pg : o->a_ch) * j->p.qlen;
    }
    if (j->p.b_in_place) {
        v.b = o->b + grp * o->b_pg * cpitch;
        v.b_batch = o->b_ch * cpitch;
    } else {
        const float *b =
            (const float *)(base ? base + j->p.a_bytes : j->scratch + shared_b_offset(&j->p));
        v.b = base ? b : b + grp * o->b_pg * cpitch;
        v.b_batch = (base ? o->b_pg : o->b_ch) * cpitch;
    }
    return v;
}

/* Shared layout: one tile per task. A thread's consecutive tiles share
 * their rows of a (columns inner: all of b is read once per row block) or
 * their lines of b (rows inner: all of a once per column block). With
 * a_by_block, the thread lays out each row block it comes to in its
 * scratch (a block split between two threads' task ranges is laid out by
 * both: the same floats). */
static void tile_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const lanes_job *j = arg;
    const lanes_plan *p = &j->p;
    const int64_t rbs = p->r_blocks, cbs = p->c_blocks, mr = j->k->lane_mr;
    const int rows_inner = p->rows_inner;
    float *own = (float *)(j->scratch + shared_bytes(p) + (size_t)thread_index * thread_bytes(p));
    lanes_view v = view_of(j, 0, NULL);
    int64_t laid = -1; /* the row block in own */
    for (int64_t t = begin; t < end; t++) {
        const int64_t inner = t % (rows_inner ? rbs : cbs), outer = t / (rows_inner ? rbs : cbs);
        const int64_t rb = rows_inner ? inner : outer, cb = rows_inner ? outer : inner;
        if (p->a_by_block && rb != laid) {
            const int64_t r0 = rb * mr, rows = j->o->a_pg - r0 < mr ? j->o->a_pg - r0 : mr;
            lay_out(j, 1, 0, r0, rows, own);
            v.a = own, v.a_row0 = r0, v.a_batch = mr * p->qlen;
            laid = rb;
        }
        run_tile(j, &v, 0, rb, cb, 0, j->args->geom->n, 0, p->qlen / j->k->vw, NULL, 0);
    }
}

/* Shared layout of a batch or a long reduction: one block of tiles per
 * task, chunk by chunk of each batch item (columns outer within a chunk,
 * so that a column block's lines serve the block's rows in turn). */
static void block_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const lanes_job *j = arg;
    const lanes_plan *p = &j->p;
    const int64_t slabs = (p->r_blocks + p->block_rows - 1) / p->block_rows,
                  batch = j->args->geom->n;
    const int64_t tile_floats = (int64_t)j->k->lane_acc * j->k->vw;
    float *part = (float *)(j->parts + (size_t)thread_index * p->part_bytes);
    const lanes_view v = view_of(j, 0, NULL);
    for (int64_t t = begin; t < end; t++) {
        const int64_t rb0 = t % slabs * p->block_rows, cb0 = t / slabs * p->block_cols;
        const int64_t rb1 = rb0 + p->block_rows < p->r_blocks ? rb0 + p->block_rows : p->r_blocks;
        const int64_t cb1 = cb0 + p->block_cols < p->c_blocks ? cb0 + p->block_cols : p->c_blocks;
        for (int64_t n = 0; n < batch; n++)
            for (int64_t q0 = 0; q0 < p->qlen; q0 += p->chunk) {
                const int first = n == 0 && q0 == 0,
                          last = n == batch - 1 && q0 + p->chunk >= p->qlen;
                const int flags =
                    (first ? 0 : CP_GRAD_LANE_RESUME) | (last ? 0 : CP_GRAD_LANE_PAUSE);
                const int64_t vecs = (p->qlen - q0 < p->chunk ? p->qlen - q0 : p->chunk) / j->k->vw;
                float *tile_part = part;
                for (int64_t cb = cb0; cb < cb1; cb++)
                    for (int64_t rb = rb0; rb < rb1; rb++, tile_part += tile_floats)
                        run_tile(j, &v, 0, rb, cb, n, 1, q0, vecs, tile_part, flags);
            }
    }
}

/* Staged: one group per task, laid out in the thread's scratch (still in
 * cache for its tiles). */
static void group_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const lanes_job *j = arg;
    const cp_wgrad_operands *o = j->o;
    char *base = j->scratch + (size_t)thread_index * thread_bytes(&j->p);
    for (int64_t grp = begin; grp < end; grp++) {
        for (int64_t n = 0; n < j->args->geom->n; n++) {
            lay_out(j, 1, n, grp * o->a_pg, o->a_pg, (float *)base + n * o->a_pg * j->p.qlen);
            lay_out(j, 0, n, grp * o->b_pg, o->b_pg,
                    (float *)(base + j->p.a_bytes) + n * o->b_pg * j->p.nph * j->p.lph);
        }
        const lanes_view v = view_of(j, grp, base);
        for (int64_t rb = 0; rb < j->p.r_blocks; rb++)
            for (int64_t cb = 0; cb < j->p.c_blocks; cb++)
                run_tile(j, &v, grp, rb, cb, 0, j->args->geom->n, 0, j->p.qlen / j->k->vw, NULL, 0);
    }
}

int cp_x86_wgrad_lanes(const cp_backward_args *a, const cp_grad_kernels *k,
                       const cp_wgrad_operands *o)
{
    const cp_geom *g = a->geom;
    lanes_job j = {a, k, o, {0}, NULL, NULL, a->db && a->op->attrs.kind == CONVPOOL_OP_CONV, NULL};
    plan_lanes(o, g, k, &j.p);
    j.loff = (int64_t *)a->workspace;
    j.parts = (char *)a->workspace + j.p.loff_bytes;
    j.scratch = j.parts + (size_t)cp_context_threads(a->ctx) * j.p.part_bytes;
    for (int64_t c = 0, phase; c < o->cols; c++)
        j.loff[c] = c / o->taps * j.p.nph * j.p.lph +
                    tap_offset(o, g, j.p.qd, j.p.lph, c % o->taps, &phase);
    const int32_t threads = cp_wgrad_threads(a, o);
    if (j.p.staged) {
        cp_parallel_for(a->ctx, o->group, threads, group_task, &j);
        return j.with_db;
    }
    const int64_t layouts = shared_a_planes(&j) + (j.p.b_in_place ? 0 : g->n * o->b_ch);
    if (layouts > 0)
        cp_parallel_for(a->ctx, layouts, threads, prepare_task, &j);
    if (j.p.blocked)
        cp_parallel_for(a->ctx,
                        (j.p.r_blocks + j.p.block_rows - 1) / j.p.block_rows *
                            ((j.p.c_blocks + j.p.block_cols - 1) / j.p.block_cols),
                        threads, block_task, &j);
    else
        cp_parallel_for(a->ctx, j.p.r_blocks * j.p.c_blocks, threads, tile_task, &j);
    return j.with_db;
}
