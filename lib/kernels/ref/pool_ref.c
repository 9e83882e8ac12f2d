#include <math.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"

/*
 * The forward and backward pooling kernels share one walk over a window's
 * taps, so that the argmax rule, the divisor and the Lp sums of a backward
 * pass are the forward pass's by construction.
 */

/* The first output position of window o (o: (od, oh, ow)) and its taps
 * [lo, hi) per dim that lie inside [0, in), or with `padded` inside the
 * padded input [-pad_begin, in + pad_end). */
static void window_taps(const cp_geom *g, const int64_t o[3], int padded, int64_t lo[3],
                        int64_t hi[3])
{
    for (int i = 0; i < 3; i++)
        cp_tap_range(o[i], g->stride[i], g->pad_begin[i], g->dilation[i], g->kernel[i],
                     padded ? -g->pad_begin[i] : 0, padded ? g->in[i] + g->pad_end[i] : g->in[i],
                     &lo[i], &hi[i]);
}

typedef void (*tap_fn)(void *state, int64_t pos);

/* Calls fn with the in-plane row-major position of each of window o's input
 * elements, in row-major window order. */
static void for_each_tap(const cp_geom *g, const int64_t o[3], tap_fn fn, void *state)
{
    int64_t lo[3], hi[3];
    window_taps(g, o, 0, lo, hi);
    const int64_t H = g->in[1], W = g->in[2];
    for (int64_t kd = lo[0]; kd < hi[0]; kd++) {
        const int64_t id = o[0] * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
        for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
            const int64_t ih = o[1] * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
            const int64_t row = (id * H + ih) * W + o[2] * g->stride[2] - g->pad_begin[2];
            for (int64_t kw = lo[2]; kw < hi[2]; kw++)
                fn(state, row + kw * g->dilation[2]);
        }
    }
}

/* Calls fn(state, p, o, at) for each window o of the planes [begin, end):
 * `at` is the window's index in the output tensor. */
typedef void (*window_fn)(void *state, int64_t plane, const int64_t o[3], int64_t at);

static void for_each_window(const cp_geom *g, int64_t plane_begin, int64_t plane_end, window_fn fn,
                            void *state)
{
    const int64_t out_plane = cp_geom_out_plane(g);
    for (int64_t p = plane_begin; p < plane_end; p++) {
        int64_t at = p * out_plane, o[3];
        for (o[0] = 0; o[0] < g->out[0]; o[0]++)
            for (o[1] = 0; o[1] < g->out[1]; o[1]++)
                for (o[2] = 0; o[2] < g->out[2]; o[2]++, at++)
                    fn(state, p, o, at);
    }
}

/* The flattened position of row-major in-plane position `pos` as Indices
 * report it: row-major, or column-major when storage_order is 1. */
static int64_t spatial_index(const cp_geom *g, int64_t pos)
{
    if (!g->storage_order)
        return pos;
    const int64_t d = pos / (g->in[1] * g->in[2]), h = pos / g->in[2] % g->in[1],
                  w = pos % g->in[2];
    return (w * g->in[1] + h) * g->in[0] + d;
}

int64_t cp_ref_index_to_row_major(const cp_geom *g, int64_t spatial)
{
    if (!g->storage_order)
        return spatial;
    const int64_t d = spatial % g->in[0], h = spatial / g->in[0] % g->in[1],
                  w = spatial / (g->in[0] * g->in[1]);
    return (d * g->in[1] + h) * g->in[2] + w;
}

typedef struct argmax_state {
    const cp_geom *g;
    const float *x; /* the plane */
    float best;
    int64_t pos; /* -1: no element yet */
} argmax_state;

/* NaN wins over numbers; on ties the first element in window order wins. */
static void argmax_tap(void *state, int64_t pos)
{
    argmax_state *s = state;
    const float v = s->x[pos];
    if (s->pos < 0 || v > s->best || (isnan(v) && !isnan(s->best))) {
        s->best = v;
        s->pos = pos;
    }
}

/* The in-plane position of window o's maximum (the forward rule), or -1 for
 * a window with no input element; *best gets the maximum (-inf then). */
static int64_t window_argmax(const cp_geom *g, const float *xp, const int64_t o[3], float *best)
{
    argmax_state s = {g, xp, -INFINITY, -1};
    for_each_tap(g, o, argmax_tap, &s);
    *best = s.best;
    return s.pos;
}

typedef struct max_pool_state {
    const cp_geom *g;
    const float *x;
    float *y;
    int64_t *indices;
} max_pool_state;

static void max_pool_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    const max_pool_state *s = state;
    const int64_t in_plane = cp_geom_in_plane(s->g);
    const int64_t pos = window_argmax(s->g, s->x + p * in_plane, o, &s->y[at]);
    if (s->indices)
        s->indices[at] = pos < 0 ? -1 : p * in_plane + spatial_index(s->g, pos);
}

void cp_ref_max_pool(const cp_geom *g, const float *x, float *y, int64_t *indices,
                     int64_t plane_begin, int64_t plane_end)
{
    max_pool_state s = {g, x, y, indices};
    for_each_window(g, plane_begin, plane_end, max_pool_window, &s);
}

typedef struct sum_state {
    const float *x; /* the plane */
    int64_t lp;     /* 0: plain sum, else sum of |x|^lp */
    double sum;
} sum_state;

static void sum_tap(void *state, int64_t pos)
{
    sum_state *s = state;
    const float v = s->x[pos];
    s->sum += s->lp ? cp_lp_term(v, s->lp) : v;
}

/* Window o's sum of x (lp == 0) or of |x|^lp; padding adds nothing. */
static double window_sum(const cp_geom *g, const float *xp, const int64_t o[3], int64_t lp)
{
    sum_state s = {xp, lp, 0.0};
    for_each_tap(g, o, sum_tap, &s);
    return s.sum;
}

/* AveragePool's divisor of window o: the count of its input elements, or with
 * count_include_pad of its taps inside the padded input (taps that ceil_mode
 * pushes past the end padding never count). */
static int64_t window_divisor(const cp_geom *g, const int64_t o[3])
{
    int64_t lo[3], hi[3];
    window_taps(g, o, g->count_include_pad, lo, hi);
    return (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
}

/* LpPool's forward value of window o, as the forward pass rounds it. */
static float window_lp(const cp_geom *g, const float *xp, const int64_t o[3])
{
    return (float)cp_lp_root(window_sum(g, xp, o, g->p), g->p);
}

typedef struct sum_pool_state {
    const cp_geom *g;
    const float *x;
    float *y;
} sum_pool_state;

static void avg_pool_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    const sum_pool_state *s = state;
    const double sum = window_sum(s->g, s->x + p * cp_geom_in_plane(s->g), o, 0);
    s->y[at] = (float)(sum / (double)window_divisor(s->g, o));
}

static void lp_pool_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    const sum_pool_state *s = state;
    s->y[at] = window_lp(s->g, s->x + p * cp_geom_in_plane(s->g), o);
}

void cp_ref_avg_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                     int64_t plane_end)
{
    sum_pool_state s = {g, x, y};
    for_each_window(g, plane_begin, plane_end, avg_pool_window, &s);
}

void cp_ref_lp_pool(const cp_geom *g, const float *x, float *y, int64_t plane_begin,
                    int64_t plane_end)
{
    sum_pool_state s = {g, x, y};
    for_each_window(g, plane_begin, plane_end, lp_pool_window, &s);
}

/* ---- backward: dx planes [begin, end), zeroed first, then summed into in
 * window order (one thread per plane: a fixed order). ---- */

typedef struct pool_grad_state {
    const cp_geom *g;
    const float *x;         /* forward input, or NULL */
    const int64_t *indices; /* MaxPool's Indices, or NULL */
    const float *dy;
    float *dx;
    float *dxp;      /* the current plane of dx */
    const float *xp; /* the current plane of x */
    float scale;     /* what each tap of the current window receives */
    double lp_scale; /* LpPool: dy / y^(p-1) */
} pool_grad_state;

static void zero_planes(const cp_geom *g, float *dx, int64_t plane_begin, int64_t plane_end)
{
    const int64_t in_plane = cp_geom_in_plane(g);
    memset(dx + plane_begin * in_plane, 0,
           (size_t)((plane_end - plane_begin) * in_plane) * sizeof(float));
}

static void set_planes(pool_grad_state *s, int64_t p)
{
    const int64_t in_plane = cp_geom_in_plane(s->g);
    s->dxp = s->dx + p * in_plane;
    s->xp = s->x ? s->x + p * in_plane : NULL;
}

static void max_grad_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    pool_grad_state *s = state;
    set_planes(s, p);
    int64_t pos;
    if (s->indices) {
        pos = s->indices[at];
        if (pos < 0)
            return; /* a window with no input element */
        pos = cp_ref_index_to_row_major(s->g, pos - p * cp_geom_in_plane(s->g));
    } else {
        float best;
        pos = window_argmax(s->g, s->xp, o, &best);
        if (pos < 0)
            return;
    }
    s->dxp[pos] += s->dy[at];
}

void cp_ref_max_pool_backward(const cp_geom *g, const float *x, const int64_t *indices,
                              const float *dy, float *dx, int64_t plane_begin, int64_t plane_end)
{
    zero_planes(g, dx, plane_begin, plane_end);
    pool_grad_state s = {.g = g, .x = x, .indices = indices, .dy = dy, .dx = dx};
    for_each_window(g, plane_begin, plane_end, max_grad_window, &s);
}

static void add_scale_tap(void *state, int64_t pos)
{
    pool_grad_state *s = state;
    s->dxp[pos] += s->scale;
}

static void avg_grad_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    pool_grad_state *s = state;
    set_planes(s, p);
    s->scale = (float)((double)s->dy[at] / (double)window_divisor(s->g, o));
    for_each_tap(s->g, o, add_scale_tap, s);
}

void cp_ref_avg_pool_backward(const cp_geom *g, const float *dy, float *dx, int64_t plane_begin,
                              int64_t plane_end)
{
    zero_planes(g, dx, plane_begin, plane_end);
    pool_grad_state s = {.g = g, .dy = dy, .dx = dx};
    for_each_window(g, plane_begin, plane_end, avg_grad_window, &s);
}

/* d|x|^p/dx / p = sign(x) |x|^(p-1) */
static double signed_pow(double v, int64_t e)
{
    if (e == 0)
        return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
    if (e == 1)
        return v;
    return copysign(pow(fabs(v), (double)e), v);
}

static void lp_grad_tap(void *state, int64_t pos)
{
    pool_grad_state *s = state;
    s->dxp[pos] += (float)(s->lp_scale * signed_pow(s->xp[pos], s->g->p - 1));
}

static void lp_grad_window(void *state, int64_t p, const int64_t o[3], int64_t at)
{
    pool_grad_state *s = state;
    set_planes(s, p);
    const float y = window_lp(s->g, s->xp, o);
    if (y == 0.0f)
        return; /* every x of the window is 0: the gradient is taken as 0 */
    s->lp_scale = (double)s->dy[at] / signed_pow(y, s->g->p - 1);
    for_each_tap(s->g, o, lp_grad_tap, s);
}

void cp_ref_lp_pool_backward(const cp_geom *g, const float *x, const float *dy, float *dx,
                             int64_t plane_begin, int64_t plane_end)
{
    zero_planes(g, dx, plane_begin, plane_end);
    pool_grad_state s = {.g = g, .x = x, .dy = dy, .dx = dx};
    for_each_window(g, plane_begin, plane_end, lp_grad_window, &s);
}
