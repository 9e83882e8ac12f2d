/*
 * conv_kernel_tests.c - the convolution micro-kernels (GEMM tiles, row
 * kernels, direct, depthwise, packing, the zipped ConvTranspose stores)
 * against double-precision scalar loops, over shapes that reach every tile
 * size, tail and edge path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_check.h"

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

/* A 1x1 GEMM tile's random operands for `channels` steps: x (rows a tile
 * and 3 floats apart), w and bias; gemm_operands_free releases them. */
typedef struct gemm_operands {
    float *x, *w, *bias;
    int64_t x_stride;
} gemm_operands;

static gemm_operands gemm_operands_new(const cp_conv_kernels *k, int64_t channels)
{
    gemm_operands g;
    g.x_stride = (int64_t)k->gemm_nv * k->vw + 3;
    g.x = buffer((size_t)(channels * g.x_stride));
    g.w = buffer((size_t)(channels * k->gemm_mr));
    g.bias = buffer((size_t)k->gemm_mr);
    return g;
}

static void gemm_operands_free(gemm_operands *g)
{
    free(g->x), free(g->w), free(g->bias);
}

static void test_gemm(const cp_conv_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw;
    for (int store = 0; store < CP_CONV_STORE_MODES; store++)
        for (int64_t channels = 1; channels <= 5; channels += 2)
            for (int64_t m_valid = 1; m_valid <= mr; m_valid++)
                for (int64_t n = 1; n <= k->gemm_nv * vw; n += (n < 2 * vw ? 1 : 5)) {
                    const int64_t y_stride = n + 2;
                    gemm_operands g = gemm_operands_new(k, channels);
                    float *y = buffer((size_t)(mr * y_stride));
                    k->gemm(channels, g.x, g.x_stride, g.w, g.bias, y, y_stride, m_valid, n, store);
                    char shape[96];
                    snprintf(shape, sizeof shape, "C=%lld m_valid=%lld n=%lld store=%d",
                             (long long)channels, (long long)m_valid, (long long)n, store);
                    const gemm_tile_case t = {channels, g.x, g.x_stride, NULL, g.w,
                                              g.bias,   mr,  m_valid,    n};
                    check_gemm_tile("gemm", isa, &t, y, NULL, y_stride, shape);
                    gemm_operands_free(&g);
                    free(y);
                }
}

/* The GEMM in parts of the input channels: a first part from the bias,
 * the rest (bias NULL) carrying on from y, must give the bits of one call
 * over all channels (the same chain of FMAs), and leave rows past m_valid
 * and pixels past n alone. */
static void test_gemm_carried(const cp_conv_kernels *k, const char *isa)
{
    const int64_t mr = k->gemm_mr, vw = k->vw;
    for (int64_t channels = 2; channels <= 9; channels += 7)
        for (int64_t split = 1; split < channels; split += 3)
            for (int64_t m_valid = 1; m_valid <= mr; m_valid += (m_valid < 2 ? 1 : mr - 2))
                for (int64_t n = 1; n <= k->gemm_nv * vw; n += (n < 2 * vw ? 1 : 7)) {
                    const int64_t y_stride = n + 2;
                    gemm_operands g = gemm_operands_new(k, channels);
                    float *whole = buffer((size_t)(mr * y_stride));
                    float *parts = buffer((size_t)(mr * y_stride));
                    float *before = buffer((size_t)(mr * y_stride));
                    memcpy(before, parts, (size_t)(mr * y_stride) * sizeof(float));
                    k->gemm(channels, g.x, g.x_stride, g.w, g.bias, whole, y_stride, m_valid, n, 0);
                    k->gemm(split, g.x, g.x_stride, g.w, g.bias, parts, y_stride, m_valid, n, 0);
                    k->gemm(channels - split, g.x + split * g.x_stride, g.x_stride,
                            g.w + split * mr, NULL, parts, y_stride, m_valid, n, 1);
                    char shape[96];
                    snprintf(shape, sizeof shape, "C=%lld split=%lld m_valid=%lld n=%lld",
                             (long long)channels, (long long)split, (long long)m_valid,
                             (long long)n);
                    for (int64_t i = 0; i < mr; i++)
                        for (int64_t p = 0; p < y_stride; p++) {
                            const int64_t at = i * y_stride + p;
                            const int inside = i < m_valid && p < n;
                            expect_same("gemm_carried", isa, parts[at],
                                        inside ? whole[at] : before[at], shape);
                        }
                    gemm_operands_free(&g);
                    free(whole), free(parts), free(before);
                }
}

/* The row kernels (rows: gemm_mr channels a tile; rows_narrow: narrow_mr;
 * rows_tall: tall_mr) over steps at scattered offsets, as a packed band's
 * taps are, with whole-vector and half-vector stores. */
static void test_rows_with(const cp_conv_kernels *k, const char *isa, const char *name,
                           cp_conv_rows_fn fn, int64_t mr, int64_t nv)
{
    const int64_t vw = k->vw;
    for (int store = 0; store < CP_CONV_STORE_MODES; store++)
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
                    fn(steps, offsets, x, w, bias, y, y_stride, m_valid, n, store);
                    char shape[96];
                    snprintf(shape, sizeof shape, "steps=%lld m_valid=%lld n=%lld store=%d",
                             (long long)steps, (long long)m_valid, (long long)n, store);
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
            for (int64_t np = 1; np <= k->direct_whole_np_max[mv - 1]; np++) {
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

/* The depthwise kernels' outputs, rows x n at y (rows y_row_stride
 * apart): output (r, p) against bias plus the terms term(c, r, p, t, &v)
 * gives for t < terms, in that order (a term it declines, on the padding,
 * adds nothing). */
typedef int (*dw_term_fn)(const void *c, int64_t r, int64_t p, int64_t t, double *v);

static void expect_dw_rows(const char *what, const char *isa, const float *y, int64_t y_row_stride,
                           int64_t rows, int64_t n, float bias, int64_t terms, dw_term_fn term,
                           const void *c, const char *shape)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t p = 0; p < n; p++) {
            double s = bias, scale = fabs(bias), v;
            for (int64_t t = 0; t < terms; t++)
                if (term(c, r, p, t, &v))
                    s += v, scale += fabs(v);
            expect_close(what, isa, y[r * y_row_stride + p], s, scale, shape);
        }
}

/* depthwise: tap t of output (r, p) reads x at row r's offsets[t] + p */
typedef struct dw_rows_case {
    const float *x, *w;
    const int64_t *offsets;
    int64_t x_row_stride;
} dw_rows_case;

static int dw_rows_term(const void *c, int64_t r, int64_t p, int64_t t, double *v)
{
    const dw_rows_case *d = c;
    *v = (double)d->w[t] * d->x[r * d->x_row_stride + d->offsets[t] + p];
    return 1;
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
            const dw_rows_case d = {x, w, offsets, x_row_stride};
            expect_dw_rows("depthwise", isa, y, y_row_stride, rows, n, bias, taps, dw_rows_term, &d,
                           shape);
            free(x), free(w), free(y);
        }
}

/* depthwise3: term 3 * t + j of output (r, p) is column tap j of row tap
 * t, from the row's even phase (stride 1: columns p + j) or both phases
 * (stride 2: even p, odd p, even p + 1) */
typedef struct dw3_case {
    const float *x, *w;
    const int64_t *offsets;
    int64_t x_row_stride, phase_len, stride;
} dw3_case;

static int dw3_term(const void *c, int64_t r, int64_t p, int64_t t, double *v)
{
    const dw3_case *d = c;
    const int64_t j = t % 3;
    const float *even = d->x + r * d->x_row_stride + d->offsets[t - j];
    const float *odd = even + d->phase_len;
    const float in = d->stride == 1 ? even[p + j] : j == 1 ? odd[p] : even[p + j / 2];
    *v = (double)d->w[t] * in;
    return 1;
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
            const dw3_case d = {x, w, offsets, x_row_stride, phase_len, stride};
            expect_dw_rows("depthwise3", isa, y, y_row_stride, rows, n, bias, 3 * row_taps,
                           dw3_term, &d, shape);
            free(x), free(w), free(y);
        }
}

/* The in-place three-tap kernels (depthwise3s2; depthwise3s1 where the ISA
 * has it) for every left pad they take and end pads of 0 to 2, with two row
 * taps and with three consecutive ones (the stride-1 kernel's shared rows). */
/* in place: term 3 * t + j of output (r, ow) is column stride * ow - pad +
 * j of row tap t, none where that column is padding */
typedef struct dw3_in_place_case {
    const float *x, *tap_w;
    const int64_t *tap_rows;
    int64_t x_row_stride, width, pad, stride;
} dw3_in_place_case;

static int dw3_in_place_term(const void *c, int64_t r, int64_t ow, int64_t t, double *v)
{
    const dw3_in_place_case *d = c;
    const int64_t col = d->stride * ow - d->pad + t % 3;
    if (col < 0 || col >= d->width)
        return 0;
    *v = (double)d->tap_w[t] * d->x[d->tap_rows[t / 3] + r * d->x_row_stride + col];
    return 1;
}

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
                    const dw3_in_place_case d = {x,     tap_w, tap_rows, x_row_stride,
                                                 width, pad,   stride};
                    expect_dw_rows(name, isa, y, y_row_stride, rows, n, bias, 3 * taps,
                                   dw3_in_place_term, &d, shape);
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

/* zip_phase_sums: rows of every width up to 20 vector pairs and more
 * (more than two of the kernel's chunks of vectors), 0 to 3 sources per
 * phase with shifts of either sign and ranges that start or end inside a
 * vector, cover the row or are empty, and a common offset of 0 to 3
 * floats; onto a constant and added to the row. Each source's buffer
 * holds exactly the
 * floats its range reads, so a read outside it shows in ASan builds;
 * the row's buffer is exactly `width` floats. Expected: per phase the
 * sources' sum, then the base plus that sum (the kernel adds in another
 * fixed order: equal within rounding). */
static void test_zip_phase_sums(const cp_conv_kernels *k, const char *isa)
{
    enum { MAX_SRC = 3 };
    enum { MAX_WIDTH = 40 * 16 + 5 };
    for (int64_t width = 1; width <= 40 * k->vw + 5; width++)
        for (int round = 0; round < 6; round++) {
            const int accumulate = round % 2;
            const int64_t n = (width + 1) / 2;
            const float *src[2][MAX_SRC];
            float *buf[2][MAX_SRC];
            int64_t shift[2][MAX_SRC], lo[2][MAX_SRC], hi[2][MAX_SRC];
            cp_zip_phase ph[2];
            const int64_t offset = rnd_int(0, 3);
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
                    /* src[offset + j - shift] is buf[j - lo] */
                    src[p][t] = (const float *)((uintptr_t)buf[p][t] -
                                                (uintptr_t)((offset + lo[p][t] - shift[p][t]) * 4));
                }
                ph[p] = (cp_zip_phase){src[p], shift[p], lo[p], hi[p], count, offset};
            }
            float *dst = malloc((size_t)width * sizeof *dst), before[MAX_WIDTH];
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

typedef struct conv_case {
    const char *name;
    void (*run)(const cp_conv_kernels *k, const char *isa);
} conv_case;

static const conv_case conv_cases[] = {
    {"gemm", test_gemm},
    {"gemm_carried", test_gemm_carried},
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

void test_conv_kernels(const cp_conv_kernels *k, const char *isa)
{
    for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0]; c++) {
        const int before = checks, failed = failures;
        conv_cases[c].run(k, isa);
        report(conv_cases[c].name, isa, before, failed);
    }
}
