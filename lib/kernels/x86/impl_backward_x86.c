/*
 * The AVX-512 and AVX2 backward passes of Conv and ConvTranspose, and the
 * pool backward passes that are a scatter or a fill (at the end).
 *
 * dx runs on op->transposed (cp_backward_conv_data), which is already on
 * this ISA path's fast kernels; dw and db run on the weight-gradient
 * kernels (kernels/x86/conv_x86_wgrad.h), for every attribute.
 */
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/x86/conv_x86_wgrad.h"
#include "kernels/x86/grad_kernels.h"
#include "ops/impl.h"
#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/threadpool.h"

/* The fast paths sum over padded frames: a tap that reads padding adds
 * 0 x dy, and the lanes path adds 0 x x at the gaps between rows. With an
 * infinity or a NaN in x or dy, 0 x inf makes NaN of a sum the reference
 * leaves those terms out of; with finite inputs those terms are zeros and
 * the fast result stands. So a run whose dw holds a NaN or an infinity and
 * whose inputs do too is computed again by the reference, which gives the
 * exact result in either case. The first check reads whichever is smaller,
 * the inputs or dw (dw can be megabytes: 512 x 512 x 3 x 3 is 9.4 MB, a
 * pass that cost 14% of that dw). */
static int x86_weights_need_reference(const cp_backward_args *a, const cp_grad_kernels *k)
{
    const cp_geom *g = a->geom;
    const int64_t dw_count = g->m * a->op->c_per_group * g->kernel[0] * g->kernel[1] * g->kernel[2];
    const int64_t x_count = g->n * g->c * cp_geom_in_plane(g),
                  dy_count = g->n * g->m * cp_geom_out_plane(g);
    if (x_count + dy_count < dw_count && k->all_finite(a->x, x_count) &&
        k->all_finite(a->dy, dy_count))
        return 0;
    return !k->all_finite(a->dw, dw_count);
}

static void x86_weights(const cp_backward_args *a, const cp_grad_kernels *k)
{
    const int db_done = a->dw && cp_x86_weight_grad(a, k);
    if (a->db && !db_done)
        cp_x86_bias_grad(a, k);
    if (a->dw && x86_weights_need_reference(a, k))
        cp_backward_conv_ref.weights(a);
}

static void weights_avx512(const cp_backward_args *a)
{
    x86_weights(a, &cp_grad_kernels_avx512);
}

static void weights_avx2(const cp_backward_args *a)
{
    x86_weights(a, &cp_grad_kernels_avx2);
}

static size_t workspace(const convpool_op *op, const cp_geom *g, int32_t threads, int32_t pass,
                        const cp_grad_kernels *k)
{
    return pass == CONVPOOL_BACKWARD_DATA ? cp_backward_conv_data_workspace(op, g, threads)
                                          : cp_x86_weight_grad_workspace(op, g, threads, k);
}

static size_t workspace_avx512(const convpool_op *op, const cp_geom *g, int32_t threads,
                               int32_t pass)
{
    return workspace(op, g, threads, pass, &cp_grad_kernels_avx512);
}

static size_t workspace_avx2(const convpool_op *op, const cp_geom *g, int32_t threads, int32_t pass)
{
    return workspace(op, g, threads, pass, &cp_grad_kernels_avx2);
}

#define X86_CONV_BACKWARD(var, op_kind, label, min_isa, weights_fn, workspace_fn)                  \
    const cp_backward_impl var = {                                                                 \
        .name = label,                                                                             \
        .kind = op_kind,                                                                           \
        .isa = min_isa,                                                                            \
        .workspace_size = workspace_fn,                                                            \
        .data = cp_backward_conv_data,                                                             \
        .weights = weights_fn,                                                                     \
    }

X86_CONV_BACKWARD(cp_backward_conv_avx512, CONVPOOL_OP_CONV, "conv.backward.avx512",
                  CONVPOOL_ISA_AVX512, weights_avx512, workspace_avx512);
X86_CONV_BACKWARD(cp_backward_conv_avx2, CONVPOOL_OP_CONV, "conv.backward.avx2", CONVPOOL_ISA_AVX2,
                  weights_avx2, workspace_avx2);
X86_CONV_BACKWARD(cp_backward_conv_transpose_avx512, CONVPOOL_OP_CONV_TRANSPOSE,
                  "conv_transpose.backward.avx512", CONVPOOL_ISA_AVX512, weights_avx512,
                  workspace_avx512);
X86_CONV_BACKWARD(cp_backward_conv_transpose_avx2, CONVPOOL_OP_CONV_TRANSPOSE,
                  "conv_transpose.backward.avx2", CONVPOOL_ISA_AVX2, weights_avx2, workspace_avx2);

/*
 * Pool backward passes at memory speed where the walk is simple: MaxPool
 * from Indices is a scatter of dy into zeroed dx planes (in window order,
 * as the reference adds them: bitwise the same), GlobalAveragePool a fill
 * of each plane with dy / (plane size). One plane per task, so the result
 * does not depend on the thread count. MaxPool without Indices scatters
 * from the Indices of its own forward pass; AveragePool sums each dx row
 * from the quotients dy / divisor of the output rows reaching it (below);
 * the Lp pools run the reference.
 */

/* Below this many dx elements per thread a pool backward pass stays on
 * fewer threads. */
#define X86_POOL_GRAD_MIN_PER_THREAD 32768

static void scatter_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_backward_args *a = arg;
    const cp_geom *g = a->geom;
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    for (int64_t p = begin; p < end; p++) {
        float *dxp = a->dx + p * in_plane;
        const float *dyp = a->dy + p * out_plane;
        const int64_t *ip = a->indices + p * out_plane;
        memset(dxp, 0, (size_t)in_plane * sizeof(float));
        if (!g->storage_order) {
            /* Row-major Indices are positions in the whole of dx (checked to
             * lie in their plane), added in order four to a loop step: the
             * one-index loop ran 15%-20% slower on maxpool_stem (and 10%
             * faster or slower with where its code happened to lie) */
            float *const dx = a->dx;
            int64_t o = 0;
            for (; o + 4 <= out_plane; o += 4) {
#pragma GCC unroll 4
                for (int u = 0; u < 4; u++)
                    if (ip[o + u] >= 0) /* -1: a window without input element */
                        dx[ip[o + u]] += dyp[o + u];
            }
            for (; o < out_plane; o++)
                if (ip[o] >= 0)
                    dx[ip[o]] += dyp[o];
            continue;
        }
        for (int64_t o = 0; o < out_plane; o++) {
            if (ip[o] < 0)
                continue; /* a window without input element */
            dxp[cp_ref_index_to_row_major(g, ip[o] - p * in_plane)] += dyp[o];
        }
    }
}

/* MaxPool without Indices: the op's own forward pass finds the argmax (by
 * the reference's tie and NaN rule, which the forward Indices keep) into the
 * workspace, laid out as y (out_count floats), Indices (out_count int64),
 * then that forward run's own workspace, each 64-byte aligned. */
static size_t max_pool_forward_bytes(const cp_geom *g)
{
    const size_t outputs = (size_t)(g->n * g->c * cp_geom_out_plane(g));
    return cp_align_up(outputs * sizeof(float)) + cp_align_up(outputs * sizeof(int64_t));
}

static size_t max_pool_workspace(const convpool_op *op, const cp_geom *g, int32_t threads,
                                 int32_t pass)
{
    if (pass != CONVPOOL_BACKWARD_DATA)
        return 0;
    return max_pool_forward_bytes(g) +
           (op->impl->workspace_size ? op->impl->workspace_size(op, g, threads) : 0);
}

static void max_pool_data(const cp_backward_args *a)
{
    const cp_geom *g = a->geom;
    cp_backward_args scatter = *a;
    if (!a->indices) {
        const size_t outputs = (size_t)(g->n * g->c * cp_geom_out_plane(g));
        char *ws = a->workspace;
        int64_t *indices = (int64_t *)(ws + cp_align_up(outputs * sizeof(float)));
        const cp_run_args r = {
            a->op, g, a->ctx, a->x, (float *)ws, indices, ws + max_pool_forward_bytes(g)};
        a->op->impl->run(&r);
        scatter.indices = indices;
    }
    const int64_t planes = g->n * g->c;
    cp_parallel_for(a->ctx, planes,
                    cp_threads_for_work(planes * cp_geom_in_plane(g), X86_POOL_GRAD_MIN_PER_THREAD),
                    scatter_task, &scatter);
}

static void global_avg_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    (void)thread_index;
    const cp_backward_args *a = arg;
    const int64_t in_plane = cp_geom_in_plane(a->geom);
    for (int64_t p = begin; p < end; p++) {
        /* the reference's rounding: dy / count in double, then to float */
        const float v = (float)((double)a->dy[p] / (double)in_plane);
        float *dxp = a->dx + p * in_plane;
        for (int64_t i = 0; i < in_plane; i++)
            dxp[i] = v;
    }
}

static void global_avg_pool_data(const cp_backward_args *a)
{
    const int64_t planes = a->geom->n * a->geom->c;
    cp_parallel_for(
        a->ctx, planes,
        cp_threads_for_work(planes * cp_geom_in_plane(a->geom), X86_POOL_GRAD_MIN_PER_THREAD),
        global_avg_task, (void *)a);
}

/*
 * AveragePool, per plane in two steps. First each output row (od, oh) turns
 * its dy into quotients q[ow] = dy / divisor, placed at u[ow * stride_w] in
 * a row u of its own, zero elsewhere. Then each dx row (id, ih) is summed
 * once from the rows u of the output rows that reach it, in ascending
 * (od, oh) (each reaches it through a single tap (kd, kh)), and within one
 * such row from its last tap kw down to the first, that is in ascending ow:
 * the reference's window order, so the result is the reference's, bitwise.
 * Positions of u that no window of the row maps to that dx column through
 * that tap hold +0, which leaves the sum as it was (these sums are never
 * -0). One kernel call sums all dx rows of a plane, several rows at once
 * so that their chains of dependent adds overlap (pool_gather), from a
 * table of the rows u each dx row reaches, built once per task
 * (avg_gather_table). Windows that tile the input (kernel = stride, no
 * pads: the common 2x2 stride 2) need no sums: each dx element is its
 * window's quotient (avg_tile_plane).
 */

/* The divisor's terms must stay exact float integers. */
static int avg_supports(const convpool_op *op)
{
    const cp_attrs *at = &op->attrs;
    int64_t taps = 1;
    for (int i = 0; i < at->rank; i++)
        taps *= at->kernel_shape[i];
    return taps < (1 << 24);
}

/* A row u: a margin of (K-1)*dil before position 0 (where the last tap reads
 * for dx column 0), then the placed quotients and the padded dx row. */
static int64_t avg_margin(const cp_geom *g)
{
    return (g->kernel[2] - 1) * g->dilation[2];
}

static int64_t avg_row_len(const cp_geom *g)
{
    const int64_t placed = (g->out[2] - 1) * g->stride[2] + 1, read = g->in[2] + g->pad_begin[2];
    return avg_margin(g) + (placed > read ? placed : read);
}

/* The rows u of a plane, a row of zeros, and what pool_gather may read past
 * the last row. */
static size_t avg_u_bytes(const cp_geom *g)
{
    return (size_t)((g->out[0] * g->out[1] + 1) * avg_row_len(g) + CP_GRAD_GATHER_OVERREAD) *
           sizeof(float);
}

/* A thread's workspace: the divisor of each window (a plane of dy), the
 * rows u of a plane and after them a row of zeros, for D and H the outputs
 * reaching each input position (avg_reach), and the rows u each dx row
 * sums (avg_gather_table). */
typedef struct avg_scratch {
    float *divisor, *u;
    int64_t *reach[2], *reached[2];
    const float **gather;
} avg_scratch;

/* The next part of `bytes` of a workspace at base (NULL: only sizing). */
static void *avg_part(char *base, size_t *at, size_t bytes)
{
    void *part = base ? base + *at : NULL;
    *at += cp_align_up(bytes);
    return part;
}

/* Carves sc out of base (NULL: only sizing); returns the bytes it takes. */
static size_t avg_scratch_at(const cp_geom *g, char *base, avg_scratch *sc)
{
    const int64_t in_rows = g->in[0] * g->in[1];
    size_t at = 0;
    sc->divisor = avg_part(base, &at, (size_t)cp_geom_out_plane(g) * sizeof(float));
    sc->u = avg_part(base, &at, avg_u_bytes(g));
    for (int i = 0; i < 2; i++) {
        sc->reach[i] = avg_part(base, &at, (size_t)(g->in[i] * g->kernel[i]) * sizeof(int64_t));
        sc->reached[i] = avg_part(base, &at, (size_t)g->in[i] * sizeof(int64_t));
    }
    sc->gather = avg_part(base, &at,
                          (size_t)(in_rows * g->kernel[0] * g->kernel[1]) * sizeof(const float *));
    return at;
}

static size_t avg_workspace(const convpool_op *op, const cp_geom *g, int32_t threads, int32_t pass)
{
    (void)op;
    avg_scratch sc;
    return pass == CONVPOOL_BACKWARD_DATA ? (size_t)threads * avg_scratch_at(g, NULL, &sc) : 0;
}

/* The taps [*lo, *hi) of output position o along dim i inside the input,
 * and how many of the window's taps the divisor counts. */
static int64_t avg_taps(const cp_geom *g, int i, int64_t o, int64_t *lo, int64_t *hi)
{
    int64_t plo, phi;
    cp_tap_range(o, g->stride[i], g->pad_begin[i], g->dilation[i], g->kernel[i], 0, g->in[i], lo,
                 hi);
    if (!g->count_include_pad)
        return *hi - *lo;
    cp_tap_range(o, g->stride[i], g->pad_begin[i], g->dilation[i], g->kernel[i], -g->pad_begin[i],
                 g->in[i] + g->pad_end[i], &plo, &phi);
    return phi - plo;
}

/* Each window's divisor, in dy's order: the same for every plane. The
 * product stays an exact float integer (avg_supports). The W parts are
 * counted once, into the first row. */
static void avg_divisors(const cp_geom *g, float *divisor)
{
    const int64_t OW = g->out[2];
    int64_t lo, hi;
    for (int64_t ow = 0; ow < OW; ow++)
        divisor[ow] = (float)avg_taps(g, 2, ow, &lo, &hi);
    for (int64_t od = g->out[0] - 1; od >= 0; od--) {
        const int64_t count_d = avg_taps(g, 0, od, &lo, &hi);
        for (int64_t oh = g->out[1] - 1; oh >= 0; oh--) {
            const float count_dh = (float)(count_d * avg_taps(g, 1, oh, &lo, &hi));
            float *row = divisor + (od * g->out[1] + oh) * OW;
            for (int64_t ow = 0; ow < OW; ow++)
                row[ow] = count_dh * divisor[ow];
        }
    }
}

/* For each input position v of dim i, the outputs reaching it through one
 * of their taps, ascending: reach[v*K .. v*K + reached[v]). */
static void avg_reach(const cp_geom *g, int i, int64_t *reach, int64_t *reached)
{
    const int64_t K = g->kernel[i];
    for (int64_t v = 0; v < g->in[i]; v++)
        reached[v] = 0;
    for (int64_t o = 0; o < g->out[i]; o++) {
        int64_t lo, hi;
        avg_taps(g, i, o, &lo, &hi);
        for (int64_t k = lo; k < hi; k++) {
            const int64_t v = o * g->stride[i] - g->pad_begin[i] + k * g->dilation[i];
            reach[v * K + reached[v]++] = o;
        }
    }
}

typedef struct avg_job {
    const cp_backward_args *a;
    const cp_grad_kernels *k;
    int tiles; /* avg_windows_tile */
} avg_job;

/* Whether the windows tile the input: kernel = stride, one tap or dilation
 * 1, no pads. Then each dx element takes the quotient of the one window
 * holding it, or 0 past the last window. */
static int avg_windows_tile(const cp_geom *g)
{
    for (int i = 0; i < CP_MAX_SPATIAL; i++)
        if (g->kernel[i] != g->stride[i] || (g->kernel[i] > 1 && g->dilation[i] != 1) ||
            g->pad_begin[i] != 0 || g->pad_end[i] != 0)
            return 0;
    return 1;
}

/* dx of plane p where the windows tile the input: the plane's quotients
 * (into sc->u, a row of OW per output row), each repeated over its
 * window; q + 0 as the reference's 0 + q (-0 becomes +0). */
static void avg_tile_plane(const avg_job *j, const avg_scratch *sc, int64_t p)
{
    const cp_geom *g = j->a->geom;
    const int64_t OH = g->out[1], OW = g->out[2], IW = g->in[2], s2 = g->stride[2];
    const int64_t out_plane = cp_geom_out_plane(g);
    j->k->pool_quotients(j->a->dy + p * out_plane, sc->divisor, g->out[0] * OH, OW, 1, sc->u, OW);
    for (int64_t i = 0; i < out_plane; i++)
        sc->u[i] += 0.0f;
    float *dx_row = j->a->dx + p * cp_geom_in_plane(g);
    for (int64_t id = 0; id < g->in[0]; id++)
        for (int64_t ih = 0; ih < g->in[1]; ih++, dx_row += IW) {
            const int64_t od = id / g->stride[0], oh = ih / g->stride[1];
            if (od >= g->out[0] || oh >= OH) {
                memset(dx_row, 0, (size_t)IW * sizeof(float));
                continue;
            }
            const float *q = sc->u + (od * OH + oh) * OW;
            const int64_t covered = OW * s2 < IW ? OW * s2 : IW;
            int64_t iw = 0;
            if (s2 == 2)
                cp_zip_row(dx_row, q, q, (covered + 1) / 2, covered / 2);
            else if (s2 == 1)
                memcpy(dx_row, q, (size_t)covered * sizeof(float));
            else
                for (; iw < covered; iw++)
                    dx_row[iw] = q[iw / s2];
            for (iw = covered; iw < IW; iw++)
                dx_row[iw] = 0.0f;
        }
}

/* The rows u each dx row (id, ih) sums, as pool_gather takes them, for dx
 * row t = id * IH + ih: those of the output rows reaching it, in ascending
 * (od, oh), padded with the row of zeros to the same count `rows` for
 * every dx row (adding +0 leaves a sum as it was), so that one call sums a
 * whole plane. Where D is trivial and H has stride and dilation 1, dx row
 * ih sums the K1 rows of gather[ih ..] (src_step 1): the output rows ih +
 * pad - (K1 - 1) .. ih + pad, zeros standing in for those outside, so
 * that the kernel loads each row once for the dx rows that share it.
 * Otherwise dx row t's rows are gather[t * rows ..] (src_step = rows). */
static int64_t avg_gather_table(const cp_geom *g, const avg_scratch *sc, int64_t *src_step)
{
    const int64_t len = avg_row_len(g), OH = g->out[1], K1 = g->kernel[1];
    const float *zeros = sc->u + g->out[0] * OH * len + g->pad_begin[2];
    const float **next = sc->gather;
    if (g->in[0] == 1 && g->out[0] == 1 && g->kernel[0] == 1 && g->pad_begin[0] == 0 &&
        g->stride[1] == 1 && g->dilation[1] == 1) {
        for (int64_t j = 0; j < g->in[1] + K1 - 1; j++) {
            const int64_t oh = j + g->pad_begin[1] - (K1 - 1);
            *next++ = oh >= 0 && oh < OH ? sc->u + oh * len + g->pad_begin[2] : zeros;
        }
        *src_step = 1;
        return K1;
    }
    int64_t most[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        for (int64_t v = 0; v < g->in[i]; v++)
            if (sc->reached[i][v] > most[i])
                most[i] = sc->reached[i][v];
    const int64_t rows = most[0] * most[1];
    for (int64_t id = 0; id < g->in[0]; id++)
        for (int64_t ih = 0; ih < g->in[1]; ih++) {
            const float **end = next + rows;
            for (int64_t a = 0; a < sc->reached[0][id]; a++)
                for (int64_t b = 0; b < sc->reached[1][ih]; b++) {
                    const int64_t r = sc->reach[0][id * g->kernel[0] + a] * OH +
                                      sc->reach[1][ih * g->kernel[1] + b];
                    *next++ = sc->u + r * len + g->pad_begin[2];
                }
            while (next < end)
                *next++ = zeros;
        }
    *src_step = rows;
    return rows;
}

static void avg_task(void *arg, int64_t begin, int64_t end, int32_t thread_index)
{
    const avg_job *j = arg;
    const cp_geom *g = j->a->geom;
    const int64_t OW = g->out[2], len = avg_row_len(g);
    const int64_t in_plane = cp_geom_in_plane(g), out_plane = cp_geom_out_plane(g);
    avg_scratch sc;
    const size_t bytes = avg_scratch_at(g, NULL, &sc);
    avg_scratch_at(g, (char *)j->a->workspace + (size_t)thread_index * bytes, &sc);
    avg_divisors(g, sc.divisor);
    for (int i = 0; i < 2; i++)
        avg_reach(g, i, sc.reach[i], sc.reached[i]);
    if (j->tiles) {
        for (int64_t p = begin; p < end; p++)
            avg_tile_plane(j, &sc, p);
        return;
    }
    int64_t src_step;
    const int64_t rows = avg_gather_table(g, &sc, &src_step);
    /* the quotients land on the same positions for every plane */
    memset(sc.u, 0, avg_u_bytes(g));
    for (int64_t p = begin; p < end; p++) {
        j->k->pool_quotients(j->a->dy + p * out_plane, sc.divisor, g->out[0] * g->out[1], OW,
                             g->stride[2], sc.u + avg_margin(g), len);
        j->k->pool_gather(j->a->dx + p * in_plane, g->in[2], g->in[0] * g->in[1], sc.gather,
                          src_step, rows, g->in[2], g->kernel[2], g->dilation[2]);
    }
}

static void avg_pool_data(const cp_backward_args *a, const cp_grad_kernels *k)
{
    const cp_geom *g = a->geom;
    const int64_t planes = g->n * g->c;
    const int64_t work = planes * (cp_geom_in_plane(g) + cp_geom_out_plane(g) * g->kernel[0] *
                                                             g->kernel[1] * g->kernel[2]);
    avg_job j = {a, k, avg_windows_tile(g)};
    cp_parallel_for(a->ctx, planes, cp_threads_for_work(work, X86_POOL_GRAD_MIN_PER_THREAD),
                    avg_task, &j);
}

#define X86_AVG_POOL_BACKWARD(var, label, min_isa, kernels)                                        \
    static void var##_data(const cp_backward_args *a)                                              \
    {                                                                                              \
        avg_pool_data(a, &kernels);                                                                \
    }                                                                                              \
    const cp_backward_impl var = {                                                                 \
        .name = label,                                                                             \
        .kind = CONVPOOL_OP_AVERAGE_POOL,                                                          \
        .isa = min_isa,                                                                            \
        .supports = avg_supports,                                                                  \
        .workspace_size = avg_workspace,                                                           \
        .data = var##_data,                                                                        \
    }

X86_AVG_POOL_BACKWARD(cp_backward_avg_pool_avx512, "avg_pool.backward.avx512", CONVPOOL_ISA_AVX512,
                      cp_grad_kernels_avx512);
X86_AVG_POOL_BACKWARD(cp_backward_avg_pool_avx2, "avg_pool.backward.avx2", CONVPOOL_ISA_AVX2,
                      cp_grad_kernels_avx2);

/* The Indices check on the grad kernels of each ISA. */
static int64_t first_bad_index_avx512(const int64_t *ip, int64_t n, int64_t lo, int64_t hi)
{
    return cp_grad_kernels_avx512.first_bad_index(ip, n, lo, hi);
}

static int64_t first_bad_index_avx2(const int64_t *ip, int64_t n, int64_t lo, int64_t hi)
{
    return cp_grad_kernels_avx2.first_bad_index(ip, n, lo, hi);
}

#define X86_MAX_POOL_BACKWARD(var, label, min_isa, check)                                          \
    const cp_backward_impl var = {                                                                 \
        .name = label,                                                                             \
        .kind = CONVPOOL_OP_MAX_POOL,                                                              \
        .isa = min_isa,                                                                            \
        .workspace_size = max_pool_workspace,                                                      \
        .data = max_pool_data,                                                                     \
        .first_bad_index = check,                                                                  \
    }

X86_MAX_POOL_BACKWARD(cp_backward_max_pool_avx512, "max_pool.backward.avx512", CONVPOOL_ISA_AVX512,
                      first_bad_index_avx512);
X86_MAX_POOL_BACKWARD(cp_backward_max_pool_avx2, "max_pool.backward.avx2", CONVPOOL_ISA_AVX2,
                      first_bad_index_avx2);

const cp_backward_impl cp_backward_global_avg_pool_x86 = {
    .name = "global_avg_pool.backward.x86",
    .kind = CONVPOOL_OP_GLOBAL_AVERAGE_POOL,
    .isa = CONVPOOL_ISA_AVX2,
    .data = global_avg_pool_data,
};
