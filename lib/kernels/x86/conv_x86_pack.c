/*
 * Input packing for the x86 convolution (kernels/x86/conv_x86.h): zero-padded,
 * stride-phase-split bands of input rows, and the reduction-step tables the
 * kernels walk (input offsets; for the direct kernel, weight codes with
 * edge bits).
 */
#include "kernels/x86/conv_x86.h"

#include <string.h>

/*
 * Copies, for `channels` channels from x (channel stride in_plane), the
 * input rows a band of output rows reads at output depth od: layout
 * [channel][kd][row][phase][phase_len], zero where the window lies in the
 * padding. Phase ph of a row holds padded columns i*phases + ph, i.e.
 * src[i*phases + ph - pw]. Only input columns are written: the padding
 * columns are the same for every row and stay zero from the thread's first
 * band of the run (*zeroed says whether that happened). Wide strides
 * (phases > 2) copy column by column.
 */
void cp_x86_conv_pack_band(const x86_conv_plan *p, const cp_geom *g, const cp_conv_kernels *k,
                           const float *x, int64_t channels, int64_t od, int64_t oh0, float *dst,
                           unsigned char *zeroed)
{
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t pw = g->pad_begin[2], phases = p->phases, len = p->phase_len;
    const int64_t ih0 = oh0 * g->stride[1] - g->pad_begin[1];
    /* rows [r_lo, r_hi) of the band lie inside the input */
    const int64_t r_lo = min64(ih0 < 0 ? -ih0 : 0, p->in_rows);
    const int64_t r_hi = H - ih0 < r_lo ? r_lo : min64(H - ih0, p->in_rows);
    /* Input column iw goes to phase (iw + pw) % phases at (iw + pw) / phases.
     * The vector copy takes columns [0, n_vec), all of which land inside a
     * phase row; any later ones that still do are copied one by one. */
    int64_t n_vec = 0;
    if (phases == 1)
        n_vec = len - pw;
    else if (phases == 2)
        n_vec = 2 * (len - (pw + 1) / 2);
    n_vec = n_vec < 0 ? 0 : min64(n_vec, W);
    const int fresh = !*zeroed; /* all zero now: padding rows need no clearing */
    if (fresh) {
        memset(dst, 0, (size_t)(channels * p->chan_pitch) * sizeof(float));
        *zeroed = 1;
    }
    for (int64_t c = 0; c < channels; c++) {
        const float *xc = x + c * D * H * W;
        for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
            int64_t id = od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            float *plane = dst + c * p->chan_pitch + kd * p->in_rows * p->row_pitch;
            int inside = id >= 0 && id < D;
            /* rows in the padding: zero (an earlier band may have filled them) */
            for (int64_t r = 0; r < p->in_rows && !fresh; r++)
                if (!inside || r < r_lo || r >= r_hi)
                    memset(plane + r * p->row_pitch, 0, (size_t)p->row_pitch * sizeof(float));
            if (!inside || r_hi <= r_lo)
                continue;
            const float *src = xc + (id * H + ih0 + r_lo) * W;
            float *rows = plane + r_lo * p->row_pitch;
            /* the rows of the channel after next: short streams that the
             * hardware prefetcher picks up only after a few misses (batch
             * 8 3x3 64->64 on 56x56: the pack took 11% of the run, now 5%) */
            for (int64_t f = 0; c + 2 < channels && f < (r_hi - r_lo) * W; f += 16)
                __builtin_prefetch(src + 2 * D * H * W + f, 0, 3);
            if (n_vec > 0)
                k->pack_rows(src, W, r_hi - r_lo, n_vec, phases,
                             rows + (pw % phases) * len + pw / phases,
                             rows + ((pw + 1) % phases) * len + (pw + 1) / phases, p->row_pitch);
            for (int64_t r = 0; r < r_hi - r_lo; r++)
                for (int64_t iw = n_vec; iw < W; iw++) {
                    int64_t i = (iw + pw) / phases;
                    if (i < len)
                        rows[r * p->row_pitch + ((iw + pw) % phases) * len + i] = src[r * W + iw];
                }
        }
    }
}

/* Where reduction step (c, kd, kh, kw) reads, relative to a pixel's window
 * origin in the packed band: channel 0's taps, then each further channel
 * at chan_pitch more (built every run: no division per step). */
void cp_x86_conv_make_offsets(const x86_conv_plan *p, const cp_geom *g, int64_t channels,
                              int64_t *off)
{
    const int64_t dw = g->dilation[2];
    int64_t k = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                int64_t col = kw * dw;
                off[k++] = (kd * p->in_rows + kh * g->dilation[1]) * p->row_pitch +
                           (col % p->phases) * p->phase_len + col / p->phases;
            }
    for (int64_t c = 1; c < channels; c++)
        for (int64_t t = 0; t < k; t++)
            off[c * k + t] = off[t] + c * p->chan_pitch;
}

/* cp_x86_conv_make_offsets for the direct kernel reading the input in place: step
 * (c, kd, kh, kw) of the window whose origin (top left, in the padding
 * when pads are) is a row pointer at (od*sd, oh*sh, ow*sw) in the input. */
void cp_x86_conv_make_input_offsets(const cp_geom *g, int64_t channels, int64_t *off)
{
    const int64_t H = g->in[1], W = g->in[2];
    const int64_t origin = (g->pad_begin[0] * H + g->pad_begin[1]) * W + g->pad_begin[2];
    int64_t k = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++)
                off[k++] = (kd * g->dilation[0] * H + kh * g->dilation[1]) * W +
                           kw * g->dilation[2] - origin;
    for (int64_t c = 1; c < channels; c++)
        for (int64_t t = 0; t < k; t++)
            off[c * k + t] = off[t] + c * cp_geom_in_plane(g);
}

/* Whether tap t along one dimension reads padding for output position o
 * (input size `in`; stride, dilation and pad at the start along it). */
static int tap_in_padding(int64_t o, int64_t t, int64_t stride, int64_t dilation, int64_t pad,
                          int64_t in)
{
    int64_t i = o * stride - pad + t * dilation;
    return i < 0 || i >= in;
}

/* The direct kernel's weight offset of each reduction step, with the
 * edge bits that let a row's first (last) output pixel leave out the step
 * when its tap lies in the left (right) padding, and let two-row tiles
 * leave it out for output row 0 (the last output row) when its tap lies
 * in the padding above (below). Built for channel 0's taps, then repeated. */
void cp_x86_conv_make_direct_codes(int64_t steps, const cp_geom *g, int64_t vw, int64_t *codes)
{
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t taps = KD * KH * KW, last_row = g->out[1] - 1, last_col = g->out[2] - 1;
    for (int64_t t = 0; t < taps; t++) {
        int64_t kh = t / KW % KH, kw = t % KW;
        codes[t] =
            (t * vw) << CP_CONV_EDGE_BITS |
            (tap_in_padding(0, kw, g->stride[2], g->dilation[2], g->pad_begin[2], g->in[2])
                 ? CP_CONV_EDGE_FIRST
                 : 0) |
            (tap_in_padding(last_col, kw, g->stride[2], g->dilation[2], g->pad_begin[2], g->in[2])
                 ? CP_CONV_EDGE_LAST
                 : 0) |
            (tap_in_padding(0, kh, g->stride[1], g->dilation[1], g->pad_begin[1], g->in[1])
                 ? CP_CONV_EDGE_TOP
                 : 0) |
            (tap_in_padding(last_row, kh, g->stride[1], g->dilation[1], g->pad_begin[1], g->in[1])
                 ? CP_CONV_EDGE_BOTTOM
                 : 0);
    }
    /* from channel 0's codes, not the previous ones: no chain through memory */
    for (int64_t k0 = taps; k0 < steps; k0 += taps)
        for (int64_t t = 0; t < taps; t++)
            codes[k0 + t] = codes[t] + ((k0 * vw) << CP_CONV_EDGE_BITS);
}
