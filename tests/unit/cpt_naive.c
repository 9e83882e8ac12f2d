/*
 * The naive oracle: Conv, MaxPool, AveragePool and the global pools written
 * straight from the ONNX operator docs (opset 22), independently of
 * lib/kernels. Every output element visits every kernel tap and checks each
 * tap's input position against the input bounds; sums are in double.
 *
 * Rules taken from the docs:
 *  - effective kernel extent e = d*(k-1)+1;
 *  - SAME_*: out = ceil(in/s), total pad = max(0, (out-1)*s + e - in), the
 *    odd unit at the end (SAME_UPPER) or the beginning (SAME_LOWER);
 *  - VALID: out = ceil((in - e + 1)/s), no pads;
 *  - NOTSET: out = floor or ceil((in + pb + pe - e)/s) + 1; with ceil_mode a
 *    last window starting at or after in + pb (in the right padding) is
 *    dropped;
 *  - AveragePool divides by the taps inside the input (count_include_pad 0)
 *    or inside the padded input [-pb, in + pe) (count_include_pad 1);
 *  - MaxPool's Indices: n*C*S + c*S + the row-major spatial offset, or the
 *    column-major one (first spatial dim fastest) for storage_order 1.
 */
#include <math.h>
#include <string.h>

#include "cpt.h"

static int64_t ceil_div(int64_t a, int64_t b)
{
    /* b > 0; a may be negative */
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static int is_global(int32_t kind)
{
    return kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
}

int cpt_naive_geometry(const cpt_cfg *c, const int64_t *in, int64_t *out, int64_t *pad_begin,
                       int64_t *pad_end)
{
    for (int i = 0; i < c->rank; i++) {
        if (is_global(c->kind)) {
            out[i] = 1;
            pad_begin[i] = pad_end[i] = 0;
            continue;
        }
        int64_t s = c->strides[i];
        int64_t e = c->dilations[i] * (c->kernel[i] - 1) + 1;
        int64_t total;
        switch (c->auto_pad) {
        case CONVPOOL_AUTO_PAD_SAME_UPPER:
        case CONVPOOL_AUTO_PAD_SAME_LOWER:
            out[i] = ceil_div(in[i], s);
            total = (out[i] - 1) * s + e - in[i];
            if (total < 0)
                total = 0;
            if (c->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER) {
                pad_begin[i] = total / 2;
                pad_end[i] = total - total / 2;
            } else {
                pad_begin[i] = total - total / 2;
                pad_end[i] = total / 2;
            }
            break;
        case CONVPOOL_AUTO_PAD_VALID:
            pad_begin[i] = pad_end[i] = 0;
            out[i] = ceil_div(in[i] - e + 1, s);
            break;
        default:
            pad_begin[i] = c->pads[i];
            pad_end[i] = c->pads[c->rank + i];
            total = in[i] + pad_begin[i] + pad_end[i] - e;
            if (total < 0)
                return 0;
            if (c->ceil_mode && c->kind != CONVPOOL_OP_CONV) { /* Conv has no ceil_mode */
                out[i] = ceil_div(total, s) + 1;
                if ((out[i] - 1) * s >= in[i] + pad_begin[i])
                    out[i]--;
            } else {
                out[i] = total / s + 1;
            }
            break;
        }
        if (out[i] <= 0)
            return 0;
    }
    return 1;
}

int cpt_naive_output_shape(const cpt_cfg *c, const int64_t *shape, int64_t *out_shape)
{
    int64_t pb[3], pe[3];
    out_shape[0] = shape[0];
    out_shape[1] = c->kind == CONVPOOL_OP_CONV ? c->m : shape[1];
    return cpt_naive_geometry(c, shape + 2, out_shape + 2, pb, pe);
}

/* Advances the multi-index `pos` (rank dims, last fastest) within `lim`;
 * returns 0 after the last position. */
static int next_position(int64_t *pos, const int64_t *lim, int rank)
{
    for (int i = rank - 1; i >= 0; i--) {
        if (++pos[i] < lim[i])
            return 1;
        pos[i] = 0;
    }
    return 0;
}

static int64_t spatial_offset(const int64_t *pos, const int64_t *dims, int rank,
                              int column_major)
{
    int64_t off = 0;
    if (column_major) {
        for (int i = rank - 1; i >= 0; i--)
            off = off * dims[i] + pos[i];
    } else {
        for (int i = 0; i < rank; i++)
            off = off * dims[i] + pos[i];
    }
    return off;
}

int64_t cpt_naive_run(const cpt_cfg *c, const int64_t *shape, const float *x, const float *w,
                      const float *b, float *y, int64_t *indices)
{
    const int rank = c->rank;
    const int64_t *in = shape + 2;
    int64_t out[3], pb[3], pe[3], kernel[3];
    cpt_naive_geometry(c, in, out, pb, pe);
    for (int i = 0; i < rank; i++)
        kernel[i] = is_global(c->kind) ? in[i] : c->kernel[i];
    const int64_t n_batch = shape[0], channels = shape[1];
    const int64_t in_size = cpt_count(in, (size_t)rank);
    const int64_t k_size = cpt_count(kernel, (size_t)rank);
    const int is_conv = c->kind == CONVPOOL_OP_CONV;
    const int is_max = c->kind == CONVPOOL_OP_MAX_POOL || c->kind == CONVPOOL_OP_GLOBAL_MAX_POOL;
    const int64_t out_channels = is_conv ? c->m : channels;
    const int64_t cg = channels / c->group, mg = c->m / c->group;
    int64_t empty_windows = 0;

    int64_t *yi = indices;
    for (int64_t n = 0; n < n_batch; n++) {
        for (int64_t oc = 0; oc < out_channels; oc++) {
            int64_t o[3] = {0, 0, 0};
            do {
                double acc = is_conv && b ? (double)b[oc] : 0.0;
                double best = -INFINITY;
                int64_t best_index = -1, inside = 0, padded = 0;
                int64_t k[3] = {0, 0, 0};
                int64_t tap = 0;
                do {
                    int64_t p[3];
                    int in_input = 1, in_padded = 1;
                    for (int i = 0; i < rank; i++) {
                        int64_t step = is_global(c->kind) ? 1 : c->dilations[i];
                        int64_t stride = is_global(c->kind) ? 1 : c->strides[i];
                        p[i] = o[i] * stride - pb[i] + k[i] * step;
                        if (p[i] < 0 || p[i] >= in[i])
                            in_input = 0;
                        if (p[i] < -pb[i] || p[i] >= in[i] + pe[i])
                            in_padded = 0;
                    }
                    padded += in_padded;
                    if (in_input) {
                        inside++;
                        int64_t off = spatial_offset(p, in, rank, 0);
                        if (is_conv) {
                            int64_t g = oc / mg;
                            for (int64_t ci = 0; ci < cg; ci++) {
                                int64_t xc = g * cg + ci;
                                acc += (double)x[(n * channels + xc) * in_size + off] *
                                       (double)w[(oc * cg + ci) * k_size + tap];
                            }
                        } else {
                            double v = x[(n * channels + oc) * in_size + off];
                            acc += v;
                            if (best_index < 0 || v > best) {
                                best = v;
                                best_index = (n * channels + oc) * in_size +
                                             spatial_offset(p, in, rank, c->storage_order);
                            }
                        }
                    }
                    tap++;
                } while (next_position(k, kernel, rank));
                if (inside == 0 && !is_conv)
                    empty_windows++;
                if (is_conv)
                    *y = (float)acc;
                else if (is_max)
                    *y = (float)best;
                else
                    *y = (float)(acc / (double)(c->count_include_pad ? padded : inside));
                y++;
                if (indices && is_max)
                    *yi++ = best_index;
            } while (next_position(o, out, rank));
        }
    }
    return empty_windows;
}
