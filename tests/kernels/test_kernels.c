/*
 * Kernel-level tests: each x86 micro-kernel and pooling walk called
 * directly, on every ISA this machine has, against a scalar loop (for
 * pools, the reference kernels of kernels/ref). A kernel bug is reported
 * here with the kernel's name and tile shape, not three layers up.
 *
 * The cases are a table: one row per kernel family, each run over a set of
 * shapes chosen to reach every tile size, tail and edge path of its kernel.
 * Prints one line per failure and a summary; exits 77 (skip) when the CPU
 * has neither AVX2 nor AVX-512.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "kernels/ref/ref_kernels.h"
#include "kernels/x86/conv_kernels.h"
#include "kernels/x86/grad_kernels.h"
#include "kernels/x86/pool_x86.h"
#include "runtime/cpu.h"

static int failures;
static int checks;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xFFFF) / 32768.0f - 1.0f;
}

static float *buffer(size_t n)
{
    /* 64-byte aligned (the depthwise kernels need vector-aligned rows),
     * filled with random values so that stray reads show up in the sums */
    float *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = rnd();
    return p;
}

/* got vs want (a double-precision sum of terms whose magnitudes add up to
 * `scale`): float FMA chains differ from it by rounding only. */
static void expect_close(const char *what, const char *isa, float got, double want, double scale,
                         const char *shape)
{
    checks++;
    if (fabs((double)got - want) <= 1e-5 * (scale + 1.0))
        return;
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] %s: got %.9g, want %.9g\n", what, isa, shape, got, want);
}

/* ---- convolution micro-kernels --------------------------------------- */

/* Element (row i, pixel p) of a GEMM tile in double: bias[i] plus
 * w[c*mr + i] * x[at_c + p] over the steps c, at_c = offsets[c] (the row
 * kernels) or c*x_stride (offsets NULL); *scale gets the sum of the terms'
 * magnitudes (for expect_close). */
static double gemm_element(int64_t channels, const float *x, int64_t x_stride,
                           const int64_t *offsets, const float *w, int64_t mr, const float *bias,
                           int64_t i, int64_t p, double *scale)
{
    double s = bias[i];
    *scale = fabs(bias[i]);
    for (int64_t c = 0; c < channels; c++) {
        const double t = (double)w[c * mr + i] * x[(offsets ? offsets[c] : c * x_stride) + p];
        s += t;
        *scale += fabs(t);
    }
    return s;
}

/* A GEMM or row-kernel tile's inputs (gemm_element's arguments). */
typedef struct gemm_tile_case {
    int64_t steps;
    const float *x;
    int64_t x_stride;
    const int64_t *offsets;
    const float *w, *bias;
    int64_t mr, m_valid, n;
} gemm_tile_case;

/* Checks the tile y (rows y_stride apart) against gemm_element, and with
 * `before` (y's contents before the call) that rows past m_valid and
 * columns past n were left alone. */
static void check_gemm_tile(const char *name, const char *isa, const gemm_tile_case *t,
                            const float *y, const float *before, int64_t y_stride,
                            const char *shape)
{
    for (int64_t i = 0; i < (before ? t->mr : t->m_valid); i++)
        for (int64_t p = 0; p < (before ? y_stride : t->n); p++) {
            if (i >= t->m_valid || p >= t->n) {
                expect_close(name, isa, y[i * y_stride + p], before[i * y_stride + p], 0,
                             shape); /* untouched */
                continue;
            }
            double scale;
            const double s = gemm_element(t->steps, t->x, t->x_stride, t->offsets, t->w, t->mr,
                                          t->bias, i, p, &scale);
            expect_close(name, isa, y[i * y_stride + p], s, scale, shape);
        }
}

static void test_gemm(const cp_conv_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw;
    for (int halves = 0; halves <= 1; halves++)
        for (int64_t channels = 1; channels <= 5; channels += 2)
            for (int64_t m_valid = 1; m_valid <= mr; m_valid++)
                for (int64_t n = 1; n <= k->gemm_nv * vw; n += (n < 2 * vw ? 1 : 5)) {
                    const int64_t x_stride = k->gemm_nv * vw + 3, y_stride = n + 2;
                    float *x = buffer((size_t)(channels * x_stride));
                    float *w = buffer((size_t)(channels * mr));
                    float *bias = buffer((size_t)mr);
                    float *y = buffer((size_t)(mr * y_stride));
                    k->gemm(channels, x, x_stride, w, bias, y, y_stride, m_valid, n, halves);
                    char shape[96];
                    snprintf(shape, sizeof shape, "C=%lld m_valid=%lld n=%lld halves=%d",
                             (long long)channels, (long long)m_valid, (long long)n, halves);
                    const gemm_tile_case t = {channels, x, x_stride, NULL, w, bias, mr, m_valid, n};
                    check_gemm_tile("gemm", isa, &t, y, NULL, y_stride, shape);
                    free(x), free(w), free(bias), free(y);
                }
}

/* The row kernels (rows: gemm_mr channels a tile; rows_narrow: narrow_mr;
 * rows_tall: tall_mr) over steps at scattered offsets, as a packed band's
 * taps are, with whole-vector and half-vector stores. */
static void test_rows_with(const cp_conv_kernels *k, const char *isa, const char *name,
                           cp_conv_rows_fn fn, int64_t mr, int64_t nv)
{
    const int64_t vw = k->vw;
    for (int halves = 0; halves <= 1; halves++)
        for (int64_t steps = 1; steps <= 7; steps += 3)
            for (int64_t m_valid = 1; m_valid <= mr; m_valid++)
                for (int64_t n = 1; n <= nv * vw; n += (n < 2 * vw ? 1 : 5)) {
                    /* step s reads a row of its own, shifted by s % 3 floats */
                    const int64_t x_row = nv * vw + 5, y_stride = n + 2;
                    int64_t offsets[7];
                    for (int64_t s = 0; s < steps; s++)
                        offsets[s] = (steps - 1 - s) * x_row + s % 3;
                    float *x = buffer((size_t)(steps * x_row)), *w = buffer((size_t)(steps * mr));
                    float *bias = buffer((size_t)mr), *y = buffer((size_t)(mr * y_stride));
                    float *before = buffer((size_t)(mr * y_stride));
                    memcpy(before, y, (size_t)(mr * y_stride) * sizeof *y);
                    fn(steps, offsets, x, w, bias, y, y_stride, m_valid, n, halves);
                    char shape[96];
                    snprintf(shape, sizeof shape, "steps=%lld m_valid=%lld n=%lld halves=%d",
                             (long long)steps, (long long)m_valid, (long long)n, halves);
                    const gemm_tile_case t = {steps, x, 0, offsets, w, bias, mr, m_valid, n};
                    check_gemm_tile(name, isa, &t, y, before, y_stride, shape);
                    free(x), free(w), free(bias), free(y), free(before);
                }
}

static void test_rows(const cp_conv_kernels *k, const char *isa)
{
    test_rows_with(k, isa, "rows", k->rows, k->gemm_mr, k->gemm_nv);
    test_rows_with(k, isa, "rows_narrow", k->rows_narrow, k->narrow_mr, k->narrow_nv);
    test_rows_with(k, isa, "rows_tall", k->rows_tall, k->tall_mr, k->tall_nv);
}

/* Direct tiles: a 1-D convolution of C channels and K taps; some steps
 * carry edge bits so that the first / last pixel leaves them out. */
static void test_direct(const cp_conv_kernels *k, const char *isa)
{
    const int64_t vw = k->vw, C = 3, K = 3;
    const int64_t steps = C * K;
    for (int64_t mv = 1; mv <= CP_CONV_DIRECT_MV_MAX; mv++)
        for (int sc = 0; sc < 3; sc++)
            for (int64_t np = 1; np <= k->direct_np_max[mv - 1]; np++) {
                cp_conv_direct_fn fn = k->direct[mv - 1][sc][np - 1];
                const int64_t stride = sc == 0 ? 3 : sc;
                const int64_t plane = np * stride + K + 4;
                int64_t offsets[9], codes[9];
                const int64_t w_mv_stride = steps * vw;
                for (int64_t c = 0; c < C; c++)
                    for (int64_t t = 0; t < K; t++) {
                        int64_t s = c * K + t;
                        offsets[s] = c * plane + t;
                        /* tap 0 skipped by the first pixel, tap K-1 by the last */
                        int64_t bits = (t == 0 ? CP_CONV_EDGE_FIRST : 0) |
                                       (t == K - 1 ? CP_CONV_EDGE_LAST : 0);
                        codes[s] = ((s * vw) << CP_CONV_EDGE_BITS) | bits;
                    }
                float *x = buffer((size_t)(C * plane));
                float *w = buffer((size_t)(mv * w_mv_stride));
                float *bias = buffer((size_t)(mv * vw));
                const int64_t y_stride = np + 1;
                float *y = buffer((size_t)(mv * vw * y_stride));
                for (int64_t edges = 0; edges <= (CP_CONV_EDGE_FIRST | CP_CONV_EDGE_LAST);
                     edges += 3) {
                    const int64_t m_valid = mv * vw - (mv > 1 ? 1 : 0);
                    fn(stride, steps, offsets, codes, x, w, w_mv_stride, bias, y, y_stride, m_valid,
                       edges);
                    char shape[96];
                    snprintf(shape, sizeof shape, "mv=%lld class=%d np=%lld edges=%lld",
                             (long long)mv, sc, (long long)np, (long long)edges);
                    for (int64_t i = 0; i < m_valid; i++)
                        for (int64_t j = 0; j < np; j++) {
                            double s = bias[i], scale = fabs(bias[i]);
                            for (int64_t st = 0; st < steps; st++) {
                                int64_t bits = codes[st] & edges;
                                if ((j == 0 && (bits & CP_CONV_EDGE_FIRST)) ||
                                    (j == np - 1 && (bits & CP_CONV_EDGE_LAST)))
                                    continue;
                                double wv = w[(codes[st] >> CP_CONV_EDGE_BITS) +
                                              (i / vw) * w_mv_stride + i % vw];
                                double xv = x[j * stride + offsets[st]];
                                s += wv * xv;
                                scale += fabs(wv * xv);
                            }
                            expect_close("direct", isa, y[i * y_stride + j], s, scale, shape);
                        }
                }
                free(x), free(w), free(bias), free(y);
            }
}

static void test_depthwise(const cp_conv_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t n = 1; n <= 3 * vw + 1; n += (n < vw + 1 ? 1 : vw - 1))
        for (int64_t rows = 1; rows <= 3; rows++) {
            const int64_t taps = 4, row_len = n + vw + 8;
            int64_t offsets[4] = {0, 1, row_len, row_len + 2};
            const int64_t x_row_stride = row_len * 2;
            float *x = buffer((size_t)((rows + 1) * x_row_stride + vw));
            float *w = buffer((size_t)taps);
            const float bias = rnd();
            const int64_t y_row_stride = n + vw;
            float *y = buffer((size_t)(rows * y_row_stride + vw));
            k->depthwise(taps, offsets, x, x_row_stride, w, bias, y, y_row_stride, rows, n);
            char shape[64];
            snprintf(shape, sizeof shape, "n=%lld rows=%lld", (long long)n, (long long)rows);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t p = 0; p < n; p++) {
                    double s = bias, scale = fabs(bias);
                    for (int64_t t = 0; t < taps; t++) {
                        double v = (double)w[t] * x[r * x_row_stride + offsets[t] + p];
                        s += v, scale += fabs(v);
                    }
                    expect_close("depthwise", isa, y[r * y_row_stride + p], s, scale, shape);
                }
            free(x), free(w), free(y);
        }
}

static void test_depthwise3(const cp_conv_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t stride = 1; stride <= 2; stride++)
        for (int64_t n = 1; n <= 3 * vw + 1; n += (n < vw + 1 ? 1 : vw - 1)) {
            const int64_t row_taps = 3, rows = 2;
            /* packed rows: vector-aligned, two vectors of slack past the last pixel */
            const int64_t phase_len = (n + 2 * vw + vw - 1) / vw * vw;
            const int64_t row_pitch = 2 * phase_len;
            int64_t offsets[9];
            for (int64_t t = 0; t < row_taps; t++)
                offsets[3 * t] = offsets[3 * t + 1] = offsets[3 * t + 2] = t * row_pitch;
            const int64_t x_row_stride = row_pitch;
            float *x = buffer((size_t)((rows + row_taps) * row_pitch));
            float *w = buffer((size_t)(3 * row_taps));
            const float bias = rnd();
            const int64_t y_row_stride = n + vw;
            float *y = buffer((size_t)(rows * y_row_stride + vw));
            k->depthwise3(stride, row_taps, offsets, phase_len, x, x_row_stride, w, bias, y,
                          y_row_stride, rows, n);
            char shape[64];
            snprintf(shape, sizeof shape, "stride=%lld n=%lld", (long long)stride, (long long)n);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t p = 0; p < n; p++) {
                    double s = bias, scale = fabs(bias);
                    for (int64_t t = 0; t < row_taps; t++) {
                        const float *even = x + r * x_row_stride + offsets[3 * t];
                        const float *odd = even + phase_len;
                        double v[3];
                        if (stride == 1) {
                            v[0] = (double)w[3 * t] * even[p];
                            v[1] = (double)w[3 * t + 1] * even[p + 1];
                            v[2] = (double)w[3 * t + 2] * even[p + 2];
                        } else {
                            v[0] = (double)w[3 * t] * even[p];
                            v[1] = (double)w[3 * t + 1] * odd[p];
                            v[2] = (double)w[3 * t + 2] * even[p + 1];
                        }
                        for (int j = 0; j < 3; j++)
                            s += v[j], scale += fabs(v[j]);
                    }
                    expect_close("depthwise3", isa, y[r * y_row_stride + p], s, scale, shape);
                }
            free(x), free(w), free(y);
        }
}

/* The in-place three-tap kernels (depthwise3s2; depthwise3s1 where the ISA
 * has it) for every left pad they take and end pads of 0 to 2, with two row
 * taps and with three consecutive ones (the stride-1 kernel's shared rows). */
static void depthwise3_in_place(const cp_conv_kernels *k, const char *isa, int64_t stride)
{
    const cp_conv_depthwise3s2_fn fn = stride == 1 ? k->depthwise3s1 : k->depthwise3s2;
    const char *name = stride == 1 ? "depthwise3s1" : "depthwise3s2";
    if (!fn)
        return;
    const int64_t vw = k->vw;
    for (int64_t width = 1; width <= 4 * vw + 3; width += (width < 2 * vw + 2 ? 1 : vw))
        for (int64_t pad = 0; pad <= 1; pad++)
            for (int64_t pad_end = 0; pad_end <= 2; pad_end++)
                for (int64_t taps = 2; taps <= 3; taps++) {
                    if (width + pad + pad_end < 3)
                        continue;
                    const int64_t n = (width + pad + pad_end - 3) / stride + 1;
                    const int64_t rows = 5, x_row_stride = width + 5;
                    const int64_t tap_rows[3] = {0, x_row_stride, 2 * x_row_stride};
                    float *x = buffer((size_t)((rows + taps) * x_row_stride));
                    float *tap_w = buffer(3 * (size_t)taps);
                    const float bias = rnd();
                    const int64_t y_row_stride = n + 3;
                    float *y = buffer((size_t)(rows * y_row_stride));
                    fn(taps, tap_rows, tap_w, x, x_row_stride, width, pad, bias, y, y_row_stride,
                       rows, n);
                    char shape[64];
                    snprintf(shape, sizeof shape, "width=%lld pad=%lld,%lld", (long long)width,
                             (long long)pad, (long long)pad_end);
                    for (int64_t r = 0; r < rows; r++)
                        for (int64_t ow = 0; ow < n; ow++) {
                            double s = bias, scale = fabs(bias);
                            for (int64_t t = 0; t < taps; t++)
                                for (int64_t j = 0; j < 3; j++) {
                                    int64_t col = stride * ow - pad + j;
                                    if (col < 0 || col >= width)
                                        continue;
                                    double v = (double)tap_w[3 * t + j] *
                                               x[tap_rows[t] + r * x_row_stride + col];
                                    s += v, scale += fabs(v);
                                }
                            expect_close(name, isa, y[r * y_row_stride + ow], s, scale, shape);
                        }
                    free(x), free(tap_w), free(y);
                }
}

static void test_depthwise3s2(const cp_conv_kernels *k, const char *isa)
{
    depthwise3_in_place(k, isa, 2);
}

static void test_depthwise3s1(const cp_conv_kernels *k, const char *isa)
{
    depthwise3_in_place(k, isa, 1);
}

static void test_pack_rows(const cp_conv_kernels *k, const char *isa)
{
    for (int64_t phases = 1; phases <= 2; phases++)
        for (int64_t n = 1; n <= 4 * k->vw + 3; n++) {
            const int64_t rows = 3, src_stride = n + 7, dst_stride = n + 5;
            float *src = buffer((size_t)(rows * src_stride));
            float *even = buffer((size_t)(rows * dst_stride));
            float *odd = buffer((size_t)(rows * dst_stride));
            k->pack_rows(src, src_stride, rows, n, phases, even, odd, dst_stride);
            char shape[64];
            snprintf(shape, sizeof shape, "phases=%lld n=%lld", (long long)phases, (long long)n);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t i = 0; i < n; i++) {
                    const float *s = src + r * src_stride;
                    if (phases == 1)
                        expect_close("pack_rows", isa, even[r * dst_stride + i], s[i], 0, shape);
                    else if (i % 2 == 0)
                        expect_close("pack_rows", isa, even[r * dst_stride + i / 2], s[i], 0,
                                     shape);
                    else
                        expect_close("pack_rows", isa, odd[r * dst_stride + i / 2], s[i], 0, shape);
                }
            free(src), free(even), free(odd);
        }
}

/* The GEMM with row pairs zipped: pair p of pixel vector v lands at
 * rows_at[p] + vectors_at[v] (spread out here, so that a wrong offset
 * shows), and nothing else of y changes. */
static void test_gemm_zip(const cp_conv_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw, nv = k->gemm_nv, n = nv * vw;
    for (int64_t channels = 1; channels <= 5; channels += 2)
        for (int64_t m_valid = 2; m_valid <= mr; m_valid += 2) {
            const int64_t x_stride = n + 3, vec_gap = 2 * vw + 3, pair_gap = nv * vec_gap + 5;
            const int64_t y_len = mr / 2 * pair_gap + 8;
            float *x = buffer((size_t)(channels * x_stride));
            float *w = buffer((size_t)(channels * mr));
            float *bias = buffer((size_t)mr);
            float *y = buffer((size_t)y_len), *before = buffer((size_t)y_len);
            memcpy(before, y, (size_t)y_len * sizeof *y);
            int64_t rows_at[CP_CONV_GEMM_MR_MAX / 2], vectors_at[CP_CONV_GEMM_TILE_PIXELS_MAX];
            for (int64_t p = 0; p < mr / 2; p++)
                rows_at[p] = 3 + p * pair_gap;
            for (int64_t v = 0; v < nv; v++)
                vectors_at[v] = v * vec_gap;
            k->gemm_zip(channels, x, x_stride, w, bias, y, rows_at, vectors_at, m_valid);
            char shape[64];
            snprintf(shape, sizeof shape, "C=%lld m_valid=%lld", (long long)channels,
                     (long long)m_valid);
            unsigned char *written = calloc((size_t)y_len, 1);
            for (int64_t i = 0; i < m_valid; i++)
                for (int64_t px = 0; px < n; px++) {
                    double scale;
                    const double s =
                        gemm_element(channels, x, x_stride, NULL, w, mr, bias, i, px, &scale);
                    const int64_t at = rows_at[i / 2] + vectors_at[px / vw] + 2 * (px % vw) + i % 2;
                    written[at] = 1;
                    expect_close("gemm_zip", isa, y[at], s, scale, shape);
                }
            for (int64_t j = 0; j < y_len; j++)
                if (!written[j])
                    expect_close("gemm_zip (untouched)", isa, y[j], before[j], 0, shape);
            free(x), free(w), free(bias), free(y), free(before), free(written);
        }
}

/* zip_rows: rows of two phases merged; the gaps between rows untouched. */
static void test_zip_rows(const cp_conv_kernels *k, const char *isa)
{
    for (int64_t n = 1; n <= 4 * k->vw + 3; n++)
        for (int64_t rows = 1; rows <= 3; rows += 2) {
            /* rows of the sources n + 5 apart, of dst 2n + 7 */
            const int64_t ss = n + 5, ds = 2 * n + 7, size = rows * ds;
            float *even = buffer((size_t)(rows * ss)), *odd = buffer((size_t)(rows * ss));
            float *dst = buffer((size_t)size), *before = buffer((size_t)size);
            memcpy(dst, before, (size_t)size * sizeof *dst);
            k->zip_rows(even, odd, ss, n, rows, dst, ds);
            char shape[48];
            snprintf(shape, sizeof shape, "n=%lld rows=%lld", (long long)n, (long long)rows);
            for (int64_t r = 0; r < rows; r++) {
                const float *b = before + r * ds, *e = even + r * ss, *o = odd + r * ss;
                for (int64_t i = 0; i < n; i++) {
                    expect_close("zip_rows", isa, dst[r * ds + 2 * i], e[i], 0, shape);
                    expect_close("zip_rows", isa, dst[r * ds + 2 * i + 1], o[i], 0, shape);
                }
                for (int64_t i = 2 * n; i < ds; i++)
                    expect_close("zip_rows", isa, dst[r * ds + i], b[i], 0, shape);
            }
            free(even), free(odd), free(dst), free(before);
        }
}

/* An integer in [lo, hi], from the same generator as rnd(). */
static int64_t rnd_int(int64_t lo, int64_t hi)
{
    return lo + (int64_t)((rnd() + 1.0f) * 0.5f * (float)(hi - lo + 1)) % (hi - lo + 1);
}

/* zip_phase_sums: rows of every width up to four vector pairs and more,
 * 0 to 3 sources per phase with shifts of either sign and ranges that
 * start or end inside a vector, cover the row or are empty; onto a
 * constant and added to the row. Each source's buffer holds exactly the
 * floats its range reads, so a read outside it shows in ASan builds;
 * the row's buffer is exactly `width` floats. Expected: per phase the
 * sources' sum, then the base plus that sum (the kernel adds in another
 * fixed order: equal within rounding). */
static void test_zip_phase_sums(const cp_conv_kernels *k, const char *isa)
{
    enum { MAX_SRC = 3 };
    for (int64_t width = 1; width <= 8 * k->vw + 5; width++)
        for (int round = 0; round < 6; round++) {
            const int accumulate = round % 2;
            const int64_t n = (width + 1) / 2;
            const float *src[2][MAX_SRC];
            float *buf[2][MAX_SRC];
            int64_t shift[2][MAX_SRC], lo[2][MAX_SRC], hi[2][MAX_SRC];
            cp_zip_phase ph[2];
            for (int p = 0; p < 2; p++) {
                /* the odd phase ends a column earlier on rows of odd width */
                const int64_t end = p ? width / 2 : n;
                const int64_t count = rnd_int(0, MAX_SRC);
                for (int64_t t = 0; t < count; t++) {
                    shift[p][t] = rnd_int(-3, 3);
                    const int whole = rnd_int(0, 2) == 0;
                    lo[p][t] = whole ? 0 : rnd_int(0, end);
                    hi[p][t] = whole ? end : rnd_int(lo[p][t], end);
                    const int64_t len = hi[p][t] - lo[p][t];
                    buf[p][t] = malloc((size_t)(len > 0 ? len : 1) * sizeof(float));
                    for (int64_t i = 0; i < len; i++)
                        buf[p][t][i] = rnd();
                    /* src[j - shift] is buf[j - lo] */
                    src[p][t] = (const float *)((uintptr_t)buf[p][t] -
                                                (uintptr_t)((lo[p][t] - shift[p][t]) * 4));
                }
                ph[p] = (cp_zip_phase){src[p], shift[p], lo[p], hi[p], count};
            }
            float *dst = malloc((size_t)width * sizeof *dst), before[2 * 8 * 16 + 8];
            for (int64_t x = 0; x < width; x++)
                before[x] = dst[x] = rnd();
            const float init = rnd();
            k->zip_phase_sums(&ph[0], &ph[1], width, init, accumulate, dst);
            char shape[64];
            snprintf(shape, sizeof shape, "width=%lld sources=%lld+%lld%s", (long long)width,
                     (long long)ph[0].count, (long long)ph[1].count,
                     accumulate ? " accumulate" : "");
            for (int64_t x = 0; x < width; x++) {
                const int p = (int)(x % 2);
                const int64_t j = x / 2;
                float sum = 0.0f;
                for (int64_t t = 0; t < ph[p].count; t++)
                    if (j >= lo[p][t] && j < hi[p][t])
                        sum += buf[p][t][j - lo[p][t]];
                expect_close("zip_phase_sums", isa, dst[x], (accumulate ? before[x] : init) + sum,
                             0, shape);
            }
            for (int p = 0; p < 2; p++)
                for (int64_t t = 0; t < ph[p].count; t++)
                    free(buf[p][t]);
            free(dst);
        }
}

/* ---- pooling walks ----------------------------------------------------- */

typedef struct pool_shape {
    int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, ph0, pw0, ph1, pw1;
} pool_shape;

static const pool_shape pool_shapes[] = {
    /* n  c   h   w  kh kw sh sw dh dw ph0 pw0 ph1 pw1 */
    {1, 3, 9, 37, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0},  /* pairs */
    {2, 2, 11, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* 3x3 stride 1, pad 1 */
    {1, 2, 14, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, /* 3x3 stride 2, pad 1 */
    {1, 2, 13, 29, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0}, /* 3x3 stride 2, no pad */
    {1, 1, 12, 50, 5, 4, 1, 3, 1, 1, 2, 1, 2, 2}, /* general strip, stride 3 */
    {1, 2, 10, 21, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}, /* dilated */
    {1, 1, 8, 70, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3},  /* wide 1-row window */
    {1, 17, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0},  /* global over 7x7 planes */
};

static void make_geom(const pool_shape *s, int count_include_pad, cp_geom *g)
{
    memset(g, 0, sizeof *g);
    g->n = s->n, g->c = g->m = s->c, g->group = 1;
    const int64_t in[3] = {1, s->h, s->w}, k[3] = {1, s->kh, s->kw}, st[3] = {1, s->sh, s->sw},
                  d[3] = {1, s->dh, s->dw}, p0[3] = {0, s->ph0, s->pw0},
                  p1[3] = {0, s->ph1, s->pw1};
    for (int i = 0; i < 3; i++) {
        g->in[i] = in[i], g->kernel[i] = k[i], g->stride[i] = st[i], g->dilation[i] = d[i];
        g->pad_begin[i] = p0[i], g->pad_end[i] = p1[i];
        g->out[i] = (in[i] + p0[i] + p1[i] - d[i] * (k[i] - 1) - 1) / st[i] + 1;
    }
    g->count_include_pad = count_include_pad;
    g->spatial_rank = 2;
}

/* A walk: its task count for a geometry and its kernels (one per
 * reduction; NULL for a reduction it does not take). */
typedef struct pool_walk {
    const char *name;
    int is_global;
    int64_t (*tasks)(const cp_pool_kernels *k, const cp_geom *g);
    const cp_pool_fn *(*kernels)(const cp_pool_kernels *k);
} pool_walk;

static int64_t rows_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    (void)k;
    return g->n * g->c * g->out[0] * g->out[1];
}
static int64_t global_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return (g->n * g->c + k->lanes - 1) / k->lanes;
}
static int64_t strip_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->strip_tasks(g);
}
static int64_t pair_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->pair_rows(g);
}
static int64_t win3_tasks(const cp_pool_kernels *k, const cp_geom *g)
{
    return k->win3_tasks(g);
}
static const cp_pool_fn *rows(const cp_pool_kernels *k)
{
    return k->rows;
}
static const cp_pool_fn *strips(const cp_pool_kernels *k)
{
    return k->strips;
}
static const cp_pool_fn *pairs(const cp_pool_kernels *k)
{
    return k->pairs;
}
static const cp_pool_fn *win3(const cp_pool_kernels *k)
{
    return k->win3;
}
static const cp_pool_fn *global(const cp_pool_kernels *k)
{
    return k->global;
}
static const pool_walk pool_walks[] = {
    {"rows", 0, rows_tasks, rows},       {"strips", 0, strip_tasks, strips},
    {"pairs", 0, pair_tasks, pairs},     {"win3", 0, win3_tasks, win3},
    {"global", 1, global_tasks, global},
};

/* The reductions each walk is tested with: MaxPool with Indices (the
 * windowed walks; also in column-major storage order, and on inputs of a
 * few values, whose windows tie), MaxPool, AveragePool, LpPool at p = 1, 2
 * and two others (odd and even, by repeated squaring). */
typedef struct pool_red_case {
    const char *name;
    int red; /* cp_pool_red */
    int64_t p;
    int storage_order;
    int ties; /* inputs rounded to a few values */
} pool_red_case;

static const pool_red_case pool_reds[] = {
    {"max+idx", CP_POOL_MAX_IDX, 0, 0, 0},
    {"max+idx/col", CP_POOL_MAX_IDX, 0, 1, 0},
    {"max+idx/tie", CP_POOL_MAX_IDX, 0, 0, 1},
    {"max", CP_POOL_MAX, 0, 0, 0},
    {"avg", CP_POOL_AVG, 0, 0, 0},
    {"lp1", CP_POOL_LP1, 1, 0, 0},
    {"lp2", CP_POOL_LP2, 2, 0, 0},
    {"lp3", CP_POOL_LPP, 3, 0, 0},
    {"lp6", CP_POOL_LPP, 6, 0, 0},
};

static void test_pool_walk(const cp_pool_kernels *k, const char *isa, const pool_walk *walk,
                           const pool_red_case *rc, int *ran)
{
    const int is_max = rc->red == CP_POOL_MAX_IDX || rc->red == CP_POOL_MAX;
    for (size_t si = 0; si < sizeof pool_shapes / sizeof pool_shapes[0]; si++) {
        pool_shape s = pool_shapes[si];
        if (walk->is_global) { /* the window is the whole plane */
            s.kh = s.h, s.kw = s.w, s.sh = s.sw = s.dh = s.dw = 1;
            s.ph0 = s.pw0 = s.ph1 = s.pw1 = 0;
        }
        for (int cip = 0; cip <= (rc->red == CP_POOL_AVG ? 1 : 0); cip++) {
            cp_geom g;
            make_geom(&s, cip, &g);
            g.p = rc->p;
            g.storage_order = rc->storage_order;
            const int64_t tasks = walk->tasks(k, &g);
            if (tasks <= 0)
                continue; /* this walk does not take this shape */
            (*ran)++;
            const int64_t planes = g.n * g.c, out = planes * cp_geom_out_plane(&g);
            float *x = buffer((size_t)(planes * cp_geom_in_plane(&g)));
            for (int64_t i = 0; rc->ties && i < planes * cp_geom_in_plane(&g); i++)
                x[i] = floorf(x[i] * 2.0f);
            float *y = buffer((size_t)out), *want = buffer((size_t)out);
            int64_t *idx = calloc((size_t)out, sizeof *idx);
            int64_t *want_idx = calloc((size_t)out, sizeof *want_idx);
            if (!idx || !want_idx)
                exit(1);
            /* two halves, as two threads would take them */
            for (int64_t half = 0; half < 2; half++) {
                int64_t b = half * tasks / 2, e = (half + 1) * tasks / 2;
                walk->kernels(k)[rc->red](&g, x, y, rc->red == CP_POOL_MAX_IDX ? idx : NULL, b, e);
            }
            if (is_max)
                cp_ref_max_pool(&g, x, want, want_idx, 0, planes);
            else if (rc->red == CP_POOL_AVG)
                cp_ref_avg_pool(&g, x, want, 0, planes);
            else
                cp_ref_lp_pool(&g, x, want, 0, planes);
            char shape[96];
            snprintf(shape, sizeof shape, "shape %zu (%lldx%lld k%lldx%lld s%lldx%lld) cip=%d", si,
                     (long long)s.h, (long long)s.w, (long long)s.kh, (long long)s.kw,
                     (long long)s.sh, (long long)s.sw, cip);
            for (int64_t i = 0; i < out; i++) {
                /* max is exact; sums accumulate in float in the kernels
                 * (inputs in [-1, 1): the terms add up to at most the tap count) */
                double scale = is_max ? 0 : (double)g.kernel[1] * g.kernel[2];
                expect_close(walk->name, isa, y[i], want[i], scale, shape);
                if (rc->red == CP_POOL_MAX_IDX) {
                    checks++;
                    if (idx[i] != want_idx[i] && failures++ < 20)
                        fprintf(stderr, "FAIL %s [%s] %s: index %lld, want %lld at %lld\n",
                                walk->name, isa, shape, (long long)idx[i], (long long)want_idx[i],
                                (long long)i);
                }
            }
            free(x), free(y), free(want), free(idx), free(want_idx);
        }
    }
}

static void expect_same(const char *what, const char *isa, float got, float want,
                        const char *shape);

/* ---- the weight-gradient micro-kernels ----------------------------------- */

static double *sums(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* A tile of `rows` x ldc floats after a kernel wrote its first valid_rows
 * x valid_cols: those close to want (terms of magnitude `scale`), the
 * others as they were (start). */
static void expect_tile(const char *what, const char *isa, const float *got, const float *start,
                        const double *want, const double *scale, int64_t rows, int64_t ldc,
                        int64_t valid_rows, int64_t valid_cols, const char *shape)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < ldc; j++) {
            const int64_t at = i * ldc + j;
            if (i < valid_rows && j < valid_cols)
                expect_close(what, isa, got[at], want[at], scale[at], shape);
            else
                expect_same(what, isa, got[at], start[at], shape);
        }
}

/* gemm: rows 1 .. gemm_mr, column counts reaching whole vectors and every
 * tail up to the widest tile, short and long reductions, storing and
 * accumulating; what lies past the valid rows and columns stays. */
static void test_grad_gemm(const cp_grad_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw;
    for (int64_t steps = 1; steps <= 41; steps += 20)
        for (int64_t m_valid = 1; m_valid <= mr; m_valid++)
            for (int64_t n = 1; n <= k->gemm_nv * vw; n += (n < 2 * vw ? 1 : vw - 1))
                for (int accumulate = 0; accumulate <= 1; accumulate++) {
                    const int64_t pitch = (n + vw - 1) / vw * vw + vw, ldc = n + 3;
                    float *a = buffer((size_t)(steps * mr)), *b = buffer((size_t)(steps * pitch));
                    float *c = buffer((size_t)(mr * ldc)), *start = buffer((size_t)(mr * ldc));
                    memcpy(start, c, (size_t)(mr * ldc) * sizeof(float));
                    k->gemm(steps, a, b, pitch, c, ldc, m_valid, n, accumulate);
                    char shape[96];
                    snprintf(shape, sizeof shape, "steps=%lld rows=%lld n=%lld accumulate=%d",
                             (long long)steps, (long long)m_valid, (long long)n, accumulate);
                    double *want = sums((size_t)(mr * ldc)), *scale = sums((size_t)(mr * ldc));
                    for (int64_t i = 0; i < m_valid; i++)
                        for (int64_t j = 0; j < n; j++) {
                            const int64_t at = i * ldc + j;
                            want[at] = accumulate ? start[at] : 0;
                            scale[at] = fabs(want[at]);
                            for (int64_t q = 0; q < steps; q++) {
                                const double t = (double)a[q * mr + i] * b[q * pitch + j];
                                want[at] += t;
                                scale[at] += fabs(t);
                            }
                        }
                    expect_tile("grad_gemm", isa, c, start, want, scale, mr, ldc, m_valid, n,
                                shape);
                    free(want), free(scale);
                    free(a), free(b), free(c), free(start);
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
                        double *want = sums((size_t)((r + 1) * ldc)),
                               *scale = sums((size_t)((r + 1) * ldc));
                        for (int64_t i = 0; i < r; i++)
                            for (int64_t c = 0; c < nb; c++)
                                for (int64_t n = 0; n < batch; n++)
                                    for (int64_t q = 0; q < vecs * vw; q++) {
                                        const double t = (double)a[n * a_batch + i * a_row + q] *
                                                         b[n * b_batch + loff[c] + q];
                                        want[i * ldc + c] += t;
                                        scale[i * ldc + c] += fabs(t);
                                    }
                        expect_tile("grad_lane", isa, dw, start, want, scale, r + 1, ldc, r, nb,
                                    shape);
                        free(want), free(scale);
                        free(a), free(b), free(dw), free(start);
                    }
}

/* outer: every tile shape of the table (none on a table without outer
 * tiles), one and three rows of a's grid, widths 1 and 5, b strides 1 and
 * 2 at column offsets that are not vector aligned, from zero and resumed
 * from the sums in out; the floats of out past the tile's columns stay. */
static void test_grad_outer(const cp_grad_kernels *k, const char *isa)
{
    const int64_t vw = k->vw;
    for (int64_t mv = 1; mv <= k->outer_mv; mv++)
        for (int64_t nc = 1; nc <= CP_GRAD_OUTER_NC_MAX && mv * nc <= k->outer_acc; nc++)
            for (int64_t rows = 1; rows <= 3; rows += 2)
                for (int64_t width = 1; width <= 5; width += 4)
                    for (int64_t stride = 1; stride <= 2; stride++)
                        for (int resume = 0; resume <= 1; resume++) {
                            const int64_t a_pitch = mv * vw + vw, out_pitch = mv * vw + 5;
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
                            snprintf(shape, sizeof shape,
                                     "tile %lldx%lld rows=%lld width=%lld stride=%lld resume=%d",
                                     (long long)mv, (long long)nc, (long long)rows,
                                     (long long)width, (long long)stride, resume);
                            double *want = sums((size_t)((nc + 1) * out_pitch)),
                                   *scale = sums((size_t)((nc + 1) * out_pitch));
                            for (int64_t c = 0; c < nc; c++)
                                for (int64_t i = 0; i < mv * vw; i++) {
                                    const int64_t at = c * out_pitch + i;
                                    want[at] = resume ? start[at] : 0;
                                    scale[at] = fabs(want[at]);
                                    for (int64_t r = 0; r < rows; r++)
                                        for (int64_t u = 0; u < width; u++) {
                                            const double t =
                                                (double)a[(r * width + u) * a_pitch + i] *
                                                b[r * b_row + coff[c] + u * stride];
                                            want[at] += t;
                                            scale[at] += fabs(t);
                                        }
                                }
                            expect_tile("grad_outer", isa, out, start, want, scale, nc + 1,
                                        out_pitch, nc, mv * vw, shape);
                            free(want), free(scale);
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

/* ---- AveragePool's dx micro-kernels ---------------------------------------- */

/* Exact equality with a scalar loop (the kernels promise the reference's
 * rounding and order); what lies outside the written positions stays. */
static void expect_same(const char *what, const char *isa, float got, float want, const char *shape)
{
    checks++;
    if (got == want || (isnan(got) && isnan(want)))
        return;
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s [%s] %s: got %.9g, want %.9g\n", what, isa, shape, got, want);
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

/* ---- the table ----------------------------------------------------------- */

typedef struct conv_case {
    const char *name;
    void (*run)(const cp_conv_kernels *k, const char *isa);
} conv_case;

static const conv_case conv_cases[] = {
    {"gemm", test_gemm},
    {"conv_rows", test_rows},
    {"direct", test_direct},
    {"depthwise", test_depthwise},
    {"depthwise3", test_depthwise3},
    {"depthwise3s2", test_depthwise3s2},
    {"depthwise3s1", test_depthwise3s1},
    {"pack_rows", test_pack_rows},
    {"gemm_zip", test_gemm_zip},
    {"zip_rows", test_zip_rows},
    {"zip_phase_sums", test_zip_phase_sums},
};

typedef struct grad_case {
    const char *name;
    void (*run)(const cp_grad_kernels *k, const char *isa);
} grad_case;

static const grad_case grad_cases[] = {
    {"grad_gemm", test_grad_gemm},   {"grad_lane", test_grad_lane},
    {"grad_outer", test_grad_outer}, {"grad_transpose", test_grad_transpose},
    {"grad_sum", test_grad_sum},     {"grad_all_finite", test_grad_all_finite},
    {"grad_pool", test_grad_pool},   {"grad_first_bad_index", test_grad_first_bad_index},
};

typedef struct isa_kernels {
    const char *name;
    int32_t isa;
    const cp_conv_kernels *conv;
    const cp_pool_kernels *pool;
    const cp_grad_kernels *grad;
} isa_kernels;

int main(void)
{
    const isa_kernels isas[] = {
        {"avx2", CONVPOOL_ISA_AVX2, &cp_conv_kernels_avx2, &cp_pool_kernels_avx2,
         &cp_grad_kernels_avx2},
        {"avx512", CONVPOOL_ISA_AVX512, &cp_conv_kernels_avx512, &cp_pool_kernels_avx512,
         &cp_grad_kernels_avx512},
    };
    const int32_t supported = cp_isa_supported();
    int tested = 0;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (isas[i].isa > supported) {
            printf("%s: not supported by this CPU, skipped\n", isas[i].name);
            continue;
        }
        tested++;
        for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0]; c++) {
            int before = checks, failed = failures;
            conv_cases[c].run(isas[i].conv, isas[i].name);
            printf("%-12s %-7s %6d checks%s\n", conv_cases[c].name, isas[i].name, checks - before,
                   failures > failed ? "  FAILED" : "");
        }
        for (size_t c = 0; c < sizeof grad_cases / sizeof grad_cases[0]; c++) {
            int before = checks, failed = failures;
            grad_cases[c].run(isas[i].grad, isas[i].name);
            printf("%-12s %-7s %6d checks%s\n", grad_cases[c].name, isas[i].name, checks - before,
                   failures > failed ? "  FAILED" : "");
        }
        for (size_t w = 0; w < sizeof pool_walks / sizeof pool_walks[0]; w++)
            for (size_t r = 0; r < sizeof pool_reds / sizeof pool_reds[0]; r++) {
                if (!pool_walks[w].kernels(isas[i].pool)[pool_reds[r].red])
                    continue;
                int before = checks, failed = failures, ran = 0;
                test_pool_walk(isas[i].pool, isas[i].name, &pool_walks[w], &pool_reds[r], &ran);
                printf("%-7s %-11s %-7s %6d checks on %d shapes%s\n", pool_walks[w].name,
                       pool_reds[r].name, isas[i].name, checks - before, ran,
                       failures > failed ? "  FAILED" : "");
                if (ran == 0) {
                    fprintf(stderr, "FAIL %s %s [%s]: no shape of the table reaches this walk\n",
                            pool_walks[w].name, pool_reds[r].name, isas[i].name);
                    failures++;
                }
            }
    }
    if (!tested) {
        printf("no x86 SIMD path on this CPU\n");
        return 77;
    }
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
