/*
 * grad_kernel_tests.c - the backward passes' micro-kernels: the weight
 * gradient's (GEMM, lane, outer product, transpose, sums, the finite and
 * Indices checks) and AveragePool's dx (quotients, gather), against scalar
 * loops.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_check.h"

/* What a tile of n floats is checked against: per element the sum in
 * double and the sum of its terms' magnitudes (expect_close's scale). */
typedef struct tile_sums {
    double *want, *scale;
} tile_sums;

static tile_sums tile_sums_of(size_t n)
{
    return (tile_sums){sums(n), sums(n)};
}

/* Element at starts from `from` (a kernel accumulating onto it) or 0. */
static void tile_sums_start(tile_sums *t, int64_t at, double from)
{
    t->want[at] = from;
    t->scale[at] = fabs(from);
}

static void tile_sums_add(tile_sums *t, int64_t at, double term)
{
    t->want[at] += term;
    t->scale[at] += fabs(term);
}

/* A tile of `rows` x ldc floats after a kernel wrote its first valid_rows
 * x valid_cols: those close to the sums, the others as they were (start).
 * Frees the sums. */
static void expect_tile(const char *what, const char *isa, const float *got, const float *start,
                        tile_sums *t, int64_t rows, int64_t ldc, int64_t valid_rows,
                        int64_t valid_cols, const char *shape)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < ldc; j++) {
            const int64_t at = i * ldc + j;
            if (i < valid_rows && j < valid_cols)
                expect_close(what, isa, got[at], t->want[at], t->scale[at], shape);
            else
                expect_same(what, isa, got[at], start[at], shape);
        }
    free(t->want), free(t->scale);
}

/* gemm: rows 1 .. gemm_mr, column counts reaching whole vectors and every
 * tail up to the widest tile, with no lead, one lane and the most, short
 * and long reductions, storing and accumulating; what lies past the valid
 * rows and columns (the lead's lanes before c included) stays. */
static void test_grad_gemm(const cp_grad_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw, leads[3] = {0, 1, vw - 1};
    for (int64_t steps = 1; steps <= 41; steps += 20)
        for (int64_t m_valid = 1; m_valid <= mr; m_valid++)
            for (int li = 0; li < 3; li++)
                for (int64_t n = 1; leads[li] + n <= k->gemm_nv * vw;
                     n += (n < 2 * vw ? 1 : vw - 1))
                    for (int accumulate = 0; accumulate <= 1; accumulate++) {
                        const int64_t lead = leads[li];
                        const int64_t pitch = (lead + n + vw - 1) / vw * vw + vw, ldc = n + 3;
                        const int64_t size = vw + mr * ldc; /* c after vw floats */
                        float *a = buffer((size_t)(steps * mr)),
                              *b = buffer((size_t)(steps * pitch));
                        float *cbuf = buffer((size_t)size), *start = buffer((size_t)size);
                        memcpy(start, cbuf, (size_t)size * sizeof(float));
                        float *c = cbuf + vw;
                        k->gemm(steps, a, b, pitch, c, ldc, m_valid, n, lead, accumulate);
                        char shape[112];
                        snprintf(shape, sizeof shape,
                                 "steps=%lld rows=%lld n=%lld lead=%lld accumulate=%d",
                                 (long long)steps, (long long)m_valid, (long long)n,
                                 (long long)lead, accumulate);
                        for (int64_t i = 0; i < vw; i++)
                            expect_same("grad_gemm (before c)", isa, cbuf[i], start[i], shape);
                        tile_sums ts = tile_sums_of((size_t)(mr * ldc));
                        for (int64_t i = 0; i < m_valid; i++)
                            for (int64_t j = 0; j < n; j++) {
                                const int64_t at = i * ldc + j;
                                tile_sums_start(&ts, at, accumulate ? start[vw + at] : 0);
                                for (int64_t q = 0; q < steps; q++)
                                    tile_sums_add(&ts, at,
                                                  (double)a[q * mr + i] * b[q * pitch + lead + j]);
                            }
                        expect_tile("grad_gemm", isa, c, start + vw, &ts, mr, ldc, m_valid, n,
                                    shape);
                        free(a), free(b), free(cbuf), free(start);
                    }
}

/* lane: every tile shape of the table, one and two batch items (the
 * reduction in one call, or paused after the first item and resumed), one
 * to three vectors, lines of b at offsets that are not vector aligned; the
 * elements around the tile stay. */
static void test_grad_lane(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t r = 1; r <= k->lane_mr; r++)
        for (int64_t nb = 1; nb <= CP_GRAD_LANE_NB_MAX && r * nb <= k->lane_acc; nb++)
            for (int64_t batch = 1; batch <= 2; batch++)
                for (int split = 0; split <= 1; split++)
                    for (int64_t vecs = 1; vecs <= 3; vecs++) {
                        const int64_t a_row = (vecs + 1) * vw, a_batch = r * a_row + vw;
                        const int64_t b_batch = vecs * vw + 3 * nb + 5, ldc = nb + 2;
                        int64_t loff[CP_GRAD_LANE_NB_MAX];
                        for (int64_t c = 0; c < nb; c++)
                            loff[c] = 3 * c + 1;
                        float *a = buffer((size_t)(batch * a_batch)),
                              *b = buffer((size_t)(batch * b_batch));
                        float *dw = buffer((size_t)((r + 1) * ldc)),
                              *start = buffer((size_t)((r + 1) * ldc));
                        memcpy(start, dw, (size_t)((r + 1) * ldc) * sizeof(float));
                        /* the reduction whole, and split after the first batch item */
                        float part[CP_GRAD_LANE_MR_MAX * CP_GRAD_LANE_NB_MAX * 16];
                        if (split && batch > 1) {
                            k->lane[r - 1][nb - 1](1, vecs, a, a_row, a_batch, b, loff, b_batch,
                                                   part, CP_GRAD_LANE_PAUSE, dw, ldc);
                            k->lane[r - 1][nb - 1](batch - 1, vecs, a + a_batch, a_row, a_batch,
                                                   b + b_batch, loff, b_batch, part,
                                                   CP_GRAD_LANE_RESUME, dw, ldc);
                        } else {
                            k->lane[r - 1][nb - 1](batch, vecs, a, a_row, a_batch, b, loff, b_batch,
                                                   NULL, 0, dw, ldc);
                        }
                        char shape[96];
                        snprintf(shape, sizeof shape,
                                 "tile %lldx%lld batch=%lld vecs=%lld split=%d", (long long)r,
                                 (long long)nb, (long long)batch, (long long)vecs, split);
                        tile_sums ts = tile_sums_of((size_t)((r + 1) * ldc)); /* from 0 */
                        for (int64_t i = 0; i < r; i++)
                            for (int64_t c = 0; c < nb; c++)
                                for (int64_t n = 0; n < batch; n++)
                                    for (int64_t q = 0; q < vecs * vw; q++)
                                        tile_sums_add(&ts, i * ldc + c,
                                                      (double)a[n * a_batch + i * a_row + q] *
                                                          b[n * b_batch + loff[c] + q]);
                        expect_tile("grad_lane", isa, dw, start, &ts, r + 1, ldc, r, nb, shape);
                        free(a), free(b), free(dw), free(start);
                    }
}

/* outer: every tile shape of the table (none on a table without outer
 * tiles), one and three rows of a's grid, widths 1 and 5, b strides 1, 2
 * and 3 at column offsets that are not vector aligned, a's pixels packed
 * (mv vectors apart, as the outer path lays them out: its own loop at
 * stride 2) or a vector further apart, from zero and resumed from the sums
 * in out; the floats of out past the tile's columns stay. */
static void test_grad_outer(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t mv = 1; mv <= k->outer_mv; mv++)
        for (int64_t nc = 1; nc <= CP_GRAD_OUTER_NC_MAX && mv * nc <= k->outer_acc; nc++)
            for (int64_t rows = 1; rows <= 3; rows += 2)
                for (int64_t width = 1; width <= 5; width += 4)
                    for (int64_t stride = 1; stride <= 3; stride++)
                        for (int resume = 0; resume <= 1; resume++)
                            for (int64_t gap = 0; gap <= vw; gap += vw) {
                                const int64_t a_pitch = mv * vw + gap, out_pitch = mv * vw + 5;
                                const int64_t b_row = width * stride + 3 * nc + 7;
                                int64_t coff[CP_GRAD_OUTER_NC_MAX];
                                for (int64_t c = 0; c < nc; c++)
                                    coff[c] = 3 * c + 1;
                                float *a = buffer((size_t)(rows * width * a_pitch));
                                float *b = buffer((size_t)(rows * b_row));
                                float *out = buffer((size_t)((nc + 1) * out_pitch));
                                float *start = buffer((size_t)((nc + 1) * out_pitch));
                                memcpy(start, out, (size_t)((nc + 1) * out_pitch) * sizeof(float));
                                k->outer[mv - 1][nc - 1](rows, width, a, a_pitch, b, b_row, stride,
                                                         coff, out, out_pitch, resume);
                                char shape[96];
                                snprintf(
                                    shape, sizeof shape,
                                    "tile %lldx%lld rows=%lld width=%lld stride=%lld resume=%d "
                                    "a_pitch=%lld",
                                    (long long)mv, (long long)nc, (long long)rows, (long long)width,
                                    (long long)stride, resume, (long long)a_pitch);
                                tile_sums ts = tile_sums_of((size_t)((nc + 1) * out_pitch));
                                for (int64_t c = 0; c < nc; c++)
                                    for (int64_t i = 0; i < mv * vw; i++) {
                                        const int64_t at = c * out_pitch + i;
                                        tile_sums_start(&ts, at, resume ? start[at] : 0);
                                        for (int64_t r = 0; r < rows; r++)
                                            for (int64_t u = 0; u < width; u++)
                                                tile_sums_add(
                                                    &ts, at,
                                                    (double)a[(r * width + u) * a_pitch + i] *
                                                        b[r * b_row + coff[c] + u * stride]);
                                    }
                                expect_tile("grad_outer", isa, out, start, &ts, nc + 1, out_pitch,
                                            nc, mv * vw, shape);
                                free(a), free(b), free(out), free(start);
                            }
}

/* transpose: sizes around the 8 x 8 blocks (whole blocks and every tail),
 * dst at a pitch past its rows; what lies past stays. */
static void test_grad_transpose(const cp_grad_kernels *k, const char *isa)
{
    for (int64_t rows = 1; rows <= 19; rows += (rows < 9 ? 1 : 5))
        for (int64_t cols = 1; cols <= 19; cols += (cols < 9 ? 1 : 5)) {
            const int64_t src_pitch = cols + 3, dst_pitch = rows + 2;
            float *src = buffer((size_t)(rows * src_pitch));
            float *dst = buffer((size_t)(cols * dst_pitch)),
                  *start = buffer((size_t)(cols * dst_pitch));
            memcpy(start, dst, (size_t)(cols * dst_pitch) * sizeof(float));
            k->transpose(src, src_pitch, rows, cols, dst, dst_pitch);
            char shape[64];
            snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows, (long long)cols);
            for (int64_t c = 0; c < cols; c++)
                for (int64_t r = 0; r < dst_pitch; r++)
                    expect_same("grad_transpose", isa, dst[c * dst_pitch + r],
                                r < rows ? src[r * src_pitch + c] : start[c * dst_pitch + r],
                                shape);
            free(src), free(dst), free(start);
        }
}

/* sum: lengths reaching whole blocks of four vectors and every tail, one
 * and three batch items at a stride past the row. */
static void test_grad_sum(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t batch = 1; batch <= 3; batch += 2)
        for (int64_t len = 1; len <= 8 * vw + 3; len++) {
            const int64_t stride = len + 7;
            float *x = buffer((size_t)(batch * stride));
            double sum = 0, scale = 0;
            for (int64_t n = 0; n < batch; n++)
                for (int64_t i = 0; i < len; i++) {
                    sum += x[n * stride + i];
                    scale += fabs(x[n * stride + i]);
                }
            char shape[64];
            snprintf(shape, sizeof shape, "len=%lld batch=%lld", (long long)len, (long long)batch);
            expect_close("grad_sum", isa, k->sum(x, len, batch, stride), sum, scale, shape);
            free(x);
        }
}

/* column_sums: 1 to 5 vectors of columns (a group of four and the rest),
 * rows a gap past them, added to a running sum; the floats past the
 * columns stay as they were. */
static void test_grad_column_sums(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t vectors = 1; vectors <= 5; vectors++)
        for (int64_t pixels = 1; pixels <= 40; pixels += pixels < 6 ? 1 : 17) {
            const int64_t cols = vectors * vw, pitch = cols + (vectors % 2) * vw;
            float *a = buffer((size_t)(pixels * pitch));
            float *acc = buffer((size_t)(cols + vw)), *start = buffer((size_t)(cols + vw));
            memcpy(start, acc, (size_t)(cols + vw) * sizeof(float));
            k->column_sums(a, pixels, pitch, vectors, acc);
            char shape[64];
            snprintf(shape, sizeof shape, "vectors=%lld pixels=%lld", (long long)vectors,
                     (long long)pixels);
            for (int64_t i = 0; i < cols + vw; i++) {
                double sum = i < cols ? start[i] : 0, scale = fabs(sum);
                for (int64_t u = 0; i < cols && u < pixels; u++) {
                    sum += a[u * pitch + i];
                    scale += fabs(a[u * pitch + i]);
                }
                if (i < cols)
                    expect_close("grad_column_sums", isa, acc[i], sum, scale, shape);
                else
                    expect_same("grad_column_sums", isa, acc[i], start[i], shape);
            }
            free(a), free(acc), free(start);
        }
}

/* The GEMM panel's column gather: columns at random offsets (some far
 * apart, some repeated), every count up to past three vectors, each float
 * the source's exactly; floats past cols untouched. */
static void test_grad_gather_columns(const cp_grad_kernels *k, const char *isa)
{
    const int64_t span = 1 << 20, most = 3 * k->vw + 5;
    float *src = buffer((size_t)span);
    int64_t *offsets = malloc((size_t)most * sizeof(int64_t));
    if (!offsets)
        exit(2);
    for (int64_t cols = 1; cols <= most; cols++) {
        for (int64_t c = 0; c < cols; c++)
            offsets[c] = c % 5 == 4 ? offsets[c - 2] : rnd_int(0, c % 2 ? span - 1 : 40);
        float *dst = buffer((size_t)most + 1), *before = buffer((size_t)most + 1);
        memcpy(before, dst, (size_t)(most + 1) * sizeof(float));
        k->gather_columns(src, offsets, cols, dst);
        char shape[32];
        snprintf(shape, sizeof shape, "cols=%lld", (long long)cols);
        for (int64_t c = 0; c <= most; c++)
            expect_same("grad_gather_columns", isa, dst[c], c < cols ? src[offsets[c]] : before[c],
                        shape);
        free(dst), free(before);
    }
    free(src), free(offsets);
}

/* A non-finite value (inf, -inf, NaN) at every position of arrays of
 * every length up to past one block (64 vectors), and none beyond n. */
static void test_grad_all_finite(const cp_grad_kernels *k, const char *isa)
{
    const float bad[3] = {INFINITY, -INFINITY, NAN};
    for (int64_t n = 1; n <= 64 * k->vw + 2 * k->vw + 3; n += n < 3 * k->vw ? 1 : 7) {
        float *x = buffer((size_t)n + 1);
        char shape[48];
        snprintf(shape, sizeof shape, "n=%lld", (long long)n);
        x[n] = NAN; /* past the end: not read */
        checks++;
        if (!k->all_finite(x, n) && failures++ < 20)
            fprintf(stderr, "FAIL grad_all_finite [%s] %s: finite data refused\n", isa, shape);
        for (int64_t at = 0; at < n; at += at < 2 * k->vw ? 1 : 5) {
            const float keep = x[at];
            x[at] = bad[at % 3];
            checks++;
            if (k->all_finite(x, n) && failures++ < 20)
                fprintf(stderr, "FAIL grad_all_finite [%s] %s: %g at %lld missed\n", isa, shape,
                        x[at], (long long)at);
            x[at] = keep;
        }
        free(x);
    }
}

/* MaxPool's Indices check: in-plane values, -1 and the bounds themselves
 * pass; one bad value (below lo, at hi, far outside) at each position is
 * found there, and the first of two is the one returned. */
static void test_grad_first_bad_index(const cp_grad_kernels *k, const char *isa)
{
    const int64_t lo = 1000, hi = 5000;
    const int64_t bad[4] = {lo - 1, hi, INT64_MIN, INT64_MAX};
    for (int64_t n = 1; n <= 8 * k->vw + 3; n += n < 3 * k->vw ? 1 : 5) {
        int64_t *ip = malloc((size_t)(n + 1) * sizeof *ip);
        for (int64_t i = 0; i < n; i++)
            ip[i] = i % 7 == 3 ? -1 : i % 5 == 0 ? lo : i % 5 == 1 ? hi - 1 : lo + (i * 37) % 4000;
        ip[n] = lo - 1; /* past the end: not read */
        char shape[48];
        snprintf(shape, sizeof shape, "n=%lld", (long long)n);
        checks++;
        int64_t got = k->first_bad_index(ip, n, lo, hi);
        if (got != -1 && failures++ < 20)
            fprintf(stderr, "FAIL grad_first_bad_index [%s] %s: %lld for good data\n", isa, shape,
                    (long long)got);
        for (int64_t at = 0; at < n; at++) {
            const int64_t keep = ip[at], later = at + 3 < n ? at + 3 : at, keep_later = ip[later];
            ip[at] = bad[at % 4];
            ip[later] = bad[(at + 1) % 4];
            checks++;
            got = k->first_bad_index(ip, n, lo, hi);
            if (got != at && failures++ < 20)
                fprintf(stderr, "FAIL grad_first_bad_index [%s] %s: %lld, want %lld\n", isa, shape,
                        (long long)got, (long long)at);
            ip[later] = keep_later;
            ip[at] = keep;
        }
        free(ip);
    }
}

/* pool_gather over dx_rows rows at a pitch past n (the elements between
 * keep their values), each summing `rows` of 4 source rows: with a list of
 * its own per dx row (src_step = rows; in a mixed order, one source row
 * shared by several dx rows) or, sliding (src_step = 1), rows t .. t + rows
 * of one list; with the room the kernel may read past the last row. */
static void test_pool_gather(const cp_grad_kernels *k, const char *isa, int64_t dx_rows,
                             int64_t rows, int64_t taps, int64_t step, int64_t n, int slide)
{
    const int64_t len = n + (taps - 1) * step, pitch = n + 3, count = dx_rows * pitch;
    /* exactly the pointers the sums use, so that a read past them shows (ASan) */
    const int64_t src_step = slide ? 1 : rows, listed = slide ? dx_rows + rows - 1 : dx_rows * rows;
    float *src = buffer((size_t)(4 * len + CP_GRAD_GATHER_OVERREAD)), *dx = buffer((size_t)count);
    float *want = malloc((size_t)count * sizeof(float));
    const float **rowp = malloc((size_t)(listed > 0 ? listed : 1) * sizeof(*rowp));
    char shape[112];
    memcpy(want, dx, (size_t)count * sizeof(float));
    for (int64_t at = 0; at < listed; at++)
        rowp[at] = src + ((at * 3 + at / 4) % 4) * len;
    for (int64_t t = 0; t < dx_rows; t++)
        for (int64_t i = 0; i < n; i++) {
            float v = 0.0f;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < taps; j++)
                    v += rowp[t * src_step + r][i + j * step];
            want[t * pitch + i] = v;
        }
    k->pool_gather(dx, pitch, dx_rows, rowp, src_step, rows, n, taps, step);
    snprintf(shape, sizeof shape, "dx_rows=%lld rows=%lld taps=%lld step=%lld n=%lld slide=%d",
             (long long)dx_rows, (long long)rows, (long long)taps, (long long)step, (long long)n,
             slide);
    for (int64_t i = 0; i < count; i++)
        expect_same("pool_gather", isa, dx[i], want[i], shape);
    free(src), free(dx), free(want), free(rowp);
}

/* pool_quotients: two rows, lengths reaching whole vectors and every tail,
 * strides 1 to 3 (zeros in between, the rest of the row kept); pool_gather: 1 to 9 dx rows
 * (blocks of four, the last overlapping, and fewer), 0 to 3 source rows of 1 to 4 taps (the
 * shifted 2 and 3 and any other) at steps 1 and 2, lists per dx row or sliding, lengths up
 * to past two blocks of two vectors. */
static void test_grad_pool(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    char shape[96];
    for (int64_t n = 1; n <= 3 * vw + 1; n++)
        for (int64_t stride = 1; stride <= 3; stride++) {
            /* two rows at a pitch past the row */
            const int64_t pitch = n * stride + 2;
            float *dy = buffer((size_t)(2 * n)), *divisor = buffer((size_t)(2 * n));
            float *q = buffer((size_t)(2 * pitch)), *before = buffer((size_t)(2 * pitch));
            for (int64_t i = 0; i < 2 * n; i++)
                divisor[i] = (float)(1 + (i * 7) % 9);
            memcpy(before, q, (size_t)(2 * pitch) * sizeof(float));
            k->pool_quotients(dy, divisor, 2, n, stride, q, pitch);
            snprintf(shape, sizeof shape, "n=%lld stride=%lld", (long long)n, (long long)stride);
            for (int64_t r = 0; r < 2; r++)
                for (int64_t i = 0; i < pitch; i++) {
                    const int64_t at = r * pitch + i, col = i / stride;
                    const float want =
                        i >= (n - 1) * stride + 1 ? before[at]
                        : i % stride
                            ? 0.0f
                            : (float)((double)dy[r * n + col] / (double)divisor[r * n + col]);
                    expect_same("pool_quotients", isa, q[at], want, shape);
                }
            free(dy), free(divisor), free(q), free(before);
        }
    for (int64_t dx_rows = 1; dx_rows <= 9; dx_rows += (dx_rows < 5 ? 1 : 4))
        for (int64_t rows = 0; rows <= 3; rows++)
            for (int64_t taps = 1; taps <= 4; taps++)
                for (int64_t step = 1; step <= 2; step++)
                    for (int64_t n = 1; n <= 5 * vw + 1; n += (n < 2 * vw + 2 ? 1 : vw - 1))
                        for (int slide = 0; slide <= 1; slide++)
                            test_pool_gather(k, isa, dx_rows, rows, taps, step, n, slide);
}

typedef struct grad_case {
    const char *name;
    void (*run)(const cp_grad_kernels *k, const char *isa);
} grad_case;

static const grad_case grad_cases[] = {
    {"grad_gemm", test_grad_gemm},
    {"grad_gather_columns", test_grad_gather_columns},
    {"grad_lane", test_grad_lane},
    {"grad_outer", test_grad_outer},
    {"grad_transpose", test_grad_transpose},
    {"grad_sum", test_grad_sum},
    {"grad_column_sums", test_grad_column_sums},
    {"grad_all_finite", test_grad_all_finite},
    {"grad_pool", test_grad_pool},
    {"grad_first_bad_index", test_grad_first_bad_index},
};

void test_grad_kernels(const cp_grad_kernels *k, const char *isa)
{
    for (size_t c = 0; c < sizeof grad_cases / sizeof grad_cases[0]; c++) {
        const int before = checks, failed = failures;
        grad_cases[c].run(k, isa);
        report(grad_cases[c].name, isa, before, failed);
    }
}
