/*
 * geom.h - the resolved geometry of one op run: what every kernel receives.
 *
 * All spatial ranks are handled as 3-D: a 1-D op on (W) runs as (1, 1, W)
 * and a 2-D op on (H, W) as (1, H, W), with kernel 1, stride 1, dilation 1
 * and no padding on the added leading dims. This keeps one kernel per op
 * instead of three, and the flattened row-major and column-major Indices
 * of MaxPool come out the same as for the original rank.
 */
#ifndef CP_KERNELS_GEOM_H
#define CP_KERNELS_GEOM_H

#include <math.h>
#include <stdint.h>

#define CP_MAX_SPATIAL 3

typedef struct cp_geom {
    int64_t n;                   /* batch */
    int64_t c;                   /* input channels */
    int64_t m;                   /* output channels (= c for pools) */
    int64_t group;               /* conv groups (1 for pools) */
    int64_t in[CP_MAX_SPATIAL];  /* input spatial dims (D, H, W) */
    int64_t out[CP_MAX_SPATIAL]; /* output spatial dims */
    int64_t kernel[CP_MAX_SPATIAL];
    int64_t stride[CP_MAX_SPATIAL];
    int64_t dilation[CP_MAX_SPATIAL];
    int64_t pad_begin[CP_MAX_SPATIAL];
    /* Padding at the end as the attributes give it (after auto_pad). Windows
     * that ceil_mode adds may reach past it; such taps count as outside. */
    int64_t pad_end[CP_MAX_SPATIAL];
    int32_t count_include_pad; /* AveragePool */
    int32_t storage_order;     /* MaxPool Indices: 0 row-major, 1 column-major */
    int32_t spatial_rank;      /* the op's rank before padding to 3-D */
    /* LpPool's exponent. ConvTranspose reads in/out the other way round:
     * `in` is X's size, `out` Y's, and pad_begin/pad_end are cropped from
     * the full transposed output (negative: zero rows added before/after). */
    int64_t p;
} cp_geom;

/* One stride-2 phase of an output row, as ConvTranspose's scatter hands
 * it to a kernel: `count` sources, source t adding
 * src[t][offset + j - shift[t]] at zipped position j (output column
 * 2j + phase) for j in [lo[t], hi[t]). Outside that range the source is
 * not read: there it may lie outside its buffer. (`offset` lets one list
 * of sources serve every output channel: their columns lie the same
 * distance apart.) */
typedef struct cp_zip_phase {
    const float *const *src;
    const int64_t *shift, *lo, *hi;
    int64_t count, offset;
} cp_zip_phase;

static inline int64_t cp_geom_in_plane(const cp_geom *g)
{
    return g->in[0] * g->in[1] * g->in[2];
}

static inline int64_t cp_geom_out_plane(const cp_geom *g)
{
    return g->out[0] * g->out[1] * g->out[2];
}

/* floor(a / b) and ceil(a / b) for b > 0 and a of either sign (C's
 * division truncates toward zero): ConvTranspose's stride phases and
 * residue classes, whose positions can be negative. */
static inline int64_t cp_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline int64_t cp_ceil_div(int64_t a, int64_t b)
{
    return -cp_floor_div(-a, b);
}

/*
 * The range of kernel taps [*k_lo, *k_hi) along one dim whose input position
 * o*stride - pad + k*dil lies in [lo, hi). Kernels use it to skip the
 * bounds test inside their innermost loops.
 */
static inline void cp_tap_range(int64_t o, int64_t stride, int64_t pad, int64_t dil, int64_t kernel,
                                int64_t lo, int64_t hi, int64_t *k_lo, int64_t *k_hi)
{
    int64_t start = o * stride - pad;
    int64_t a = 0, b = kernel;
    if (start < lo)
        a = (lo - start + dil - 1) / dil;
    if (start + (kernel - 1) * dil >= hi)
        b = (hi - start + dil - 1) / dil; /* taps k with start + k*dil < hi */
    if (b < a)
        b = a;
    *k_lo = a;
    *k_hi = b;
}

/*
 * The positions u in [*lo, *hi) of a dim of size u_size whose
 * u*stride + off lies in [0, v_size): the weight gradient's correlation
 * range for one tap, off = k*dilation - pad_begin.
 */
static inline void cp_pos_range(int64_t off, int64_t stride, int64_t u_size, int64_t v_size,
                                int64_t *lo, int64_t *hi)
{
    /* u >= ceil(-off / stride), u <= floor((v_size - 1 - off) / stride) */
    int64_t a = -off <= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t top = v_size - 1 - off;
    int64_t b = top < 0 ? 0 : top / stride + 1;
    *lo = a;
    *hi = b > u_size ? u_size : b;
    if (*hi < *lo)
        *hi = *lo;
}

/*
 * LpPool's per-tap term |v|^p and its finishing root, in double: the
 * reference's formula, which the fast paths also use for the outputs they
 * finish in scalar code, so that both round the same way. p = 1 and 2 are
 * exact without pow().
 */
static inline double cp_lp_term(double v, int64_t p)
{
    if (p == 1)
        return fabs(v);
    if (p == 2)
        return v * v;
    return pow(fabs(v), (double)p);
}

static inline double cp_lp_root(double sum, int64_t p)
{
    if (p == 1)
        return sum;
    if (p == 2)
        return sqrt(sum);
    return pow(sum, 1.0 / (double)p);
}

#endif
