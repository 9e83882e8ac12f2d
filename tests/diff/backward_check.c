#include "backward_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

static void check(convpool_status st, const char *what, const char *call)
{
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, call, convpool_last_error());
        exit(1);
    }
}

static float *alloc_floats(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "backward_check: out of memory\n");
        exit(1);
    }
    return p;
}

/* n floats starting `shift` floats past a 64-byte boundary (*base, to
 * free), so that the fast paths meet buffers at every place in a line. */
static float *alloc_floats_shifted(int64_t n, int64_t shift, void **base)
{
    float *p = aligned_alloc(64, ((size_t)(n + shift) * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "backward_check: out of memory\n");
        exit(1);
    }
    *base = p;
    return p + shift;
}

typedef struct grads {
    float *dx, *dw, *db;
} grads;

static void run_both(convpool_op *op, convpool_context *ctx, const backward_check *bc,
                     const float *x, const float *dy, int64_t yn, int64_t xn, int64_t wn,
                     int64_t m, grads *g, const char *what)
{
    for (int32_t pass = CONVPOOL_BACKWARD_DATA; pass <= CONVPOOL_BACKWARD_WEIGHTS; pass++) {
        size_t bytes = 0;
        check(convpool_op_backward_workspace_size(op, ctx, bc->shape, bc->rank, pass, &bytes),
              what, "backward_workspace_size");
        void *ws = bytes ? malloc(bytes) : NULL;
        if (pass == CONVPOOL_BACKWARD_DATA)
            check(convpool_op_backward_data(op, ctx, bc->shape, bc->rank, NULL, NULL, dy,
                                            (size_t)yn, g->dx, (size_t)xn, ws, bytes),
                  what, "backward_data");
        else
            check(convpool_op_backward_weights(op, ctx, bc->shape, bc->rank, x, dy, (size_t)yn,
                                               g->dw, (size_t)wn, g->db, (size_t)m, ws, bytes),
                  what, "backward_weights");
        free(ws);
    }
}

static double compare(const float *got, const float *want, const float *mag, int64_t n,
                      double bound, const char *what, const char *name, const char *impl)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= bound * ((double)mag[i] + 1e-6))) {
            fprintf(stderr, "MISMATCH %s %s on %s: [%lld] = %.9g, reference %.9g (magnitude %g)\n",
                    what, name, impl, (long long)i, got[i], want[i], mag[i]);
            exit(1);
        }
        err /= (double)mag[i] + 1e-30;
        if (err > worst)
            worst = err;
    }
    return worst;
}

double backward_check_run(const backward_check *bc, uint64_t seed, const char *what)
{
    int64_t out[5], ws[5];
    size_t wr;
    check(convpool_op_output_shape(bc->ref, bc->shape, bc->rank, out, 5), what, "output_shape");
    check(convpool_op_weight_shape(bc->ref, ws, 5, &wr), what, "weight_shape");
    int64_t xn = 1, yn = 1, wn = 1;
    for (size_t i = 0; i < bc->rank; i++) {
        xn *= bc->shape[i];
        yn *= out[i];
        wn *= ws[i];
    }
    const int64_t m = out[1];
    float *dy = alloc_floats(yn), *dy_abs = alloc_floats(yn);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < yn; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        dy[i] = (float)((int64_t)(s >> 40) % 20001 - 10000) / 10000.0f;
        dy_abs[i] = fabsf(dy[i]);
    }
    grads want = {alloc_floats(xn), alloc_floats(wn), alloc_floats(m)};
    grads mag = {alloc_floats(xn), alloc_floats(wn), alloc_floats(m)};
    grads got[3];
    run_both(bc->ref, bc->ctx[0], bc, bc->x, dy, yn, xn, wn, m, &want, what);
    run_both(bc->ref_abs, bc->ctx[0], bc, bc->x_abs, dy_abs, yn, xn, wn, m, &mag, what);
    void *bases[3][3];
    for (int t = 0; t < 3; t++) {
        /* each thread count's gradients at another place in a line */
        const int64_t shift = (int64_t)((seed + 5 * (uint64_t)t) % 16);
        got[t] = (grads){alloc_floats_shifted(xn, shift, &bases[t][0]),
                         alloc_floats_shifted(wn, shift, &bases[t][1]),
                         alloc_floats_shifted(m, shift, &bases[t][2])};
        run_both(bc->op, bc->ctx[t], bc, bc->x, dy, yn, xn, wn, m, &got[t], what);
    }
    const char *impl = bc->op->backward->name;
    const char *inner = bc->op->transposed->impl->name;
    double worst = compare(got[1].dx, want.dx, mag.dx, xn, bc->max_rel_error, what, "dx", inner);
    double e = compare(got[1].dw, want.dw, mag.dw, wn, bc->max_rel_error, what, "dw", impl);
    worst = e > worst ? e : worst;
    e = compare(got[1].db, want.db, mag.db, m, bc->max_rel_error, what, "db", impl);
    worst = e > worst ? e : worst;
    for (int t = 0; t < 3; t += 2)
        if (memcmp(got[t].dx, got[1].dx, (size_t)xn * sizeof(float)) != 0 ||
            memcmp(got[t].dw, got[1].dw, (size_t)wn * sizeof(float)) != 0 ||
            memcmp(got[t].db, got[1].db, (size_t)m * sizeof(float)) != 0) {
            fprintf(stderr, "%s: backward on %s/%s: %d threads differ from 2\n", what, inner, impl,
                    t + 1);
            exit(1);
        }
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < 3; i++)
            free(bases[t][i]);
    free(want.dx), free(want.dw), free(want.db);
    free(mag.dx), free(mag.dw), free(mag.db);
    free(dy);
    free(dy_abs);
    return worst;
}
