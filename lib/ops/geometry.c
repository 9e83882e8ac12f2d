/* Output shapes and effective padding, exactly as the ONNX operator docs
 * define them (opset 22), for every op kind. */
#include "ops/op.h"
#include "runtime/checked.h"
#include "runtime/error.h"

static const char *dim_letter(int32_t rank, int i)
{
    static const char *names3[] = {"D", "H", "W"};
    static const char *names2[] = {"H", "W"};
    return rank == 3 ? names3[i] : rank == 2 ? names2[i] : "W";
}

static convpool_status overflow(void)
{
    return cp_fail(CONVPOOL_ERROR_OVERFLOW, "input shape: size arithmetic overflows int64");
}

/* One spatial dim: fills out, pad_begin, pad_end of g at `at` from input size
 * `in` and the op's attributes for dim `i`. */
static convpool_status resolve_dim(const cp_attrs *a, int i, int at, int64_t in, cp_geom *g)
{
    int64_t k = a->kernel_shape[i], s = a->strides[i], d = a->dilations[i];
    int64_t eff; /* effective (dilated) kernel extent d*(k-1)+1 */
    if (!cp_mul_i64(k - 1, d, &eff) || !cp_add_i64(eff, 1, &eff))
        return overflow();
    int64_t pb = 0, pe = 0, out;
    switch (a->auto_pad) {
    case CONVPOOL_AUTO_PAD_SAME_UPPER:
    case CONVPOOL_AUTO_PAD_SAME_LOWER: {
        out = in / s + (in % s != 0);
        int64_t need; /* (out-1)*s + eff - in, clamped at 0 */
        if (!cp_mul_i64(out - 1, s, &need) || !cp_add_i64(need, eff, &need))
            return overflow();
        need -= in;
        if (need < 0)
            need = 0;
        /* SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start. */
        if (a->auto_pad == CONVPOOL_AUTO_PAD_SAME_UPPER) {
            pb = need / 2;
            pe = need - pb;
        } else {
            pe = need / 2;
            pb = need - pe;
        }
        break;
    }
    default: {
        if (a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET) {
            pb = a->pads[i];
            pe = a->pads[a->rank + i];
        }
        int64_t span;
        if (!cp_add_i64(in, pb, &span) || !cp_add_i64(span, pe, &span))
            return overflow();
        if (span < eff)
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "kernel_shape[%d] = %lld with dilations[%d] = %lld spans %lld, "
                           "larger than the padded input (%s = %lld + pads %lld + %lld = %lld): "
                           "output size would be <= 0",
                           i, (long long)k, i, (long long)d, (long long)eff, dim_letter(a->rank, i),
                           (long long)in, (long long)pb, (long long)pe, (long long)span);
        int64_t room = span - eff;
        out = room / s + 1;
        if (a->ceil_mode && a->auto_pad == CONVPOOL_AUTO_PAD_NOTSET) {
            if (room % s != 0)
                out++;
            /* The current ONNX rule: a window that would start in the right
             * padding (or beyond) is dropped. */
            if ((out - 1) * s >= in + pb)
                out--;
        }
        break;
    }
    }
    g->in[at] = in;
    g->out[at] = out;
    g->kernel[at] = k;
    g->stride[at] = s;
    g->dilation[at] = d;
    g->pad_begin[at] = pb;
    g->pad_end[at] = pe;
    return CONVPOOL_OK;
}

static int is_global(int32_t kind)
{
    return kind == CONVPOOL_OP_GLOBAL_MAX_POOL || kind == CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
}

convpool_status cp_geom_resolve(const convpool_op *op, const int64_t *shape, size_t rank,
                                cp_geom *g)
{
    const cp_attrs *a = &op->attrs;
    if (!shape)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "input shape is NULL");
    if (rank != (size_t)a->rank + 2)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "input has rank %zu: a %d-D %s takes rank %d (N, C, %s)", rank, (int)a->rank,
                       cp_op_kind_name(a->kind), (int)a->rank + 2,
                       a->rank == 1   ? "W"
                       : a->rank == 2 ? "H, W"
                                      : "D, H, W");
    for (size_t i = 0; i < rank; i++)
        if (shape[i] < 1)
            return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                           "input shape[%zu] = %lld: dims must be >= 1", i, (long long)shape[i]);
    int64_t count;
    if (!cp_element_count(shape, rank, sizeof(float), &count))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "input shape: element count overflows");

    g->n = shape[0];
    g->c = shape[1];
    g->m = shape[1];
    g->group = 1;
    g->count_include_pad = a->count_include_pad;
    g->storage_order = a->storage_order;
    g->spatial_rank = a->rank;
    if (a->kind == CONVPOOL_OP_CONV) {
        int64_t c = op->c_per_group * a->group;
        if (shape[1] != c)
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "input has C = %lld channels: the weight (C/group = %lld, "
                           "group = %lld) needs C = %lld",
                           (long long)shape[1], (long long)op->c_per_group, (long long)a->group,
                           (long long)c);
        g->m = op->m;
        g->group = a->group;
    }
    int lead = CP_MAX_SPATIAL - a->rank;
    for (int j = 0; j < lead; j++) {
        g->in[j] = g->out[j] = g->kernel[j] = g->stride[j] = g->dilation[j] = 1;
        g->pad_begin[j] = g->pad_end[j] = 0;
    }
    for (int i = 0; i < a->rank; i++) {
        int64_t in = shape[2 + i];
        if (is_global(a->kind)) {
            g->in[lead + i] = g->kernel[lead + i] = in;
            g->out[lead + i] = g->stride[lead + i] = g->dilation[lead + i] = 1;
            g->pad_begin[lead + i] = g->pad_end[lead + i] = 0;
            continue;
        }
        convpool_status st = resolve_dim(a, i, lead + i, in, g);
        if (st != CONVPOOL_OK)
            return st;
    }
    int64_t out_shape[2 + CP_MAX_SPATIAL] = {g->n, g->m};
    for (int i = 0; i < a->rank; i++)
        out_shape[2 + i] = g->out[lead + i];
    if (!cp_element_count(out_shape, rank, sizeof(int64_t), &count))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "output shape: element count overflows");
    return CONVPOOL_OK;
}
