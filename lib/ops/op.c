/* Op creation (whole-descriptor validation, weight checks, impl choice)
 * and the run path shared by the op API and the model executor. */
#include "ops/op.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/checked.h"
#include "runtime/cpu.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

static const char *auto_pad_name(int32_t v)
{
    static const char *names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    return names[v];
}

/* Checks that need several attributes at once. */
static convpool_status check_attrs(const cp_attrs *a)
{
    if (a->has_pads && a->auto_pad != CONVPOOL_AUTO_PAD_NOTSET) {
        for (int i = 0; i < 2 * a->rank; i++)
            if (a->pads[i] != 0)
                return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                               "pads[%d] = %lld with auto_pad = %s: explicit pads need "
                               "auto_pad = NOTSET",
                               i, (long long)a->pads[i], auto_pad_name(a->auto_pad));
    }
    if ((a->kind == CONVPOOL_OP_MAX_POOL || a->kind == CONVPOOL_OP_AVERAGE_POOL ||
         a->kind == CONVPOOL_OP_LP_POOL) &&
        !a->has_kernel_shape)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "kernel_shape is required for %s",
                       cp_op_kind_name(a->kind));
    if (a->kind != CONVPOOL_OP_CONV_TRANSPOSE)
        return CONVPOOL_OK;
    for (int i = 0; i < a->rank; i++)
        if (a->output_padding[i] >= a->strides[i] && a->output_padding[i] >= a->dilations[i])
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                           "output_padding[%d] = %lld with strides[%d] = %lld and "
                           "dilations[%d] = %lld: output_padding must be below the stride or "
                           "the dilation",
                           i, (long long)a->output_padding[i], i, (long long)a->strides[i], i,
                           (long long)a->dilations[i]);
    if (a->has_output_shape && a->has_pads) {
        for (int i = 0; i < 2 * a->rank; i++)
            if (a->pads[i] != 0)
                return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                               "pads[%d] = %lld with output_shape set: output_shape "
                               "determines the pads",
                               i, (long long)a->pads[i]);
    }
    return CONVPOOL_OK;
}

/* Checks the Conv or ConvTranspose weight shape against the attributes; sets
 * m, c_per_group and (if unset) kernel_shape on op. Conv's W is (M, C/group,
 * k...), ConvTranspose's (C, M/group, k...): the group split is on dim 0. */
static convpool_status check_weight(convpool_op *op, const int64_t *ws, size_t rank,
                                    const float *weight)
{
    cp_attrs *a = &op->attrs;
    const int transposed = a->kind == CONVPOOL_OP_CONV_TRANSPOSE;
    const char *opname = cp_op_kind_name(a->kind);
    if (!ws)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s: weight_shape is NULL", opname);
    if (!weight)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s: weight is NULL", opname);
    if (rank != (size_t)a->rank + 2)
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "weight has rank %zu: a %d-D %s needs rank %d (%s, kernel...)", rank,
                       (int)a->rank, opname, (int)a->rank + 2,
                       transposed ? "C, M/group" : "M, C/group");
    for (size_t i = 0; i < rank; i++)
        if (ws[i] < 1)
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "weight_shape[%zu] = %lld: dims must "
                           "be >= 1",
                           i, (long long)ws[i]);
    int64_t count, c;
    if (!cp_element_count(ws, rank, sizeof(float), &count) || !cp_mul_i64(ws[1], a->group, &c))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "weight shape: element count overflows");
    if (ws[0] % a->group != 0)
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "weight has %s = %lld %s channels, not divisible by group = %lld",
                       transposed ? "C" : "M", (long long)ws[0], transposed ? "input" : "output",
                       (long long)a->group);
    for (int i = 0; i < a->rank; i++) {
        if (ws[2 + i] > (INT64_C(1) << 32))
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH, "weight_shape[%d] = %lld: too large",
                           2 + i, (long long)ws[2 + i]);
        if (a->has_kernel_shape && a->kernel_shape[i] != ws[2 + i])
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "kernel_shape[%d] = %lld but the weight's kernel dim %d is %lld", i,
                           (long long)a->kernel_shape[i], 2 + i, (long long)ws[2 + i]);
        a->kernel_shape[i] = ws[2 + i];
    }
    a->has_kernel_shape = 1;
    if (transposed) {
        op->m = c; /* M/group * group, checked above */
        op->c_per_group = ws[0] / a->group;
    } else {
        op->m = ws[0];
        op->c_per_group = ws[1];
    }
    return CONVPOOL_OK;
}

/*
 * Whether every weight is finite. A tap that falls in the padding adds
 * nothing (README, Semantics), but the fast paths multiply some such taps
 * by the padding's zeros (packed rows, frames), which adds 0 for finite
 * weights and NaN for an infinite or NaN one: ops with such weights run on
 * the reference kernels, forward and backward, so that every ISA path gives
 * the same outputs. Only the check of the weights costs the others.
 */
static int weights_finite(const int64_t *ws, size_t rank, const float *weight)
{
    int64_t count = 1;
    for (size_t i = 0; i < rank; i++)
        count *= ws[i]; /* checked by check_weight */
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(weight[i]))
            return 0;
    return 1;
}

convpool_status cp_op_create(const convpool_desc *desc, const int64_t *weight_shape,
                             size_t weight_rank, const float *weight, const float *bias,
                             int32_t isa, convpool_op **out)
{
    if (!desc)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "descriptor is NULL");
    if (!out)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op out-pointer is NULL");
    convpool_status st = check_attrs(&desc->attrs);
    if (st != CONVPOOL_OK)
        return st;
    convpool_op *op = cp_zalloc(1, sizeof *op);
    if (!op)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate an op");
    op->attrs = desc->attrs;
    if (op->attrs.kind == CONVPOOL_OP_CONV || op->attrs.kind == CONVPOOL_OP_CONV_TRANSPOSE) {
        st = check_weight(op, weight_shape, weight_rank, weight);
        if (st != CONVPOOL_OK) {
            cp_free(op);
            return st;
        }
    }
    op->isa = isa < 0 ? cp_isa_active() : isa;
    if (cp_kind_has_weights(op->attrs.kind) && op->isa > CONVPOOL_ISA_SCALAR &&
        !weights_finite(weight_shape, weight_rank, weight))
        op->isa = CONVPOOL_ISA_SCALAR;
    op->impl = cp_select_impl(op, op->isa);
    op->backward = cp_select_backward_impl(op, op->isa);
    if (op->impl->prepare) {
        const size_t before = cp_alloc_thread_total();
        st = op->impl->prepare(op, weight, bias);
        op->packed_bytes = cp_alloc_thread_total() - before;
        if (st != CONVPOOL_OK) {
            cp_free(op);
            return st;
        }
    }
    *out = op;
    return CONVPOOL_OK;
}

convpool_status cp_conv_create(const convpool_desc *desc, const int64_t *weight_shape,
                               size_t weight_rank, const float *weight, const float *bias,
                               convpool_op **op)
{
    if (desc && !cp_kind_has_weights(desc->attrs.kind))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "convpool_conv_create: descriptor is for %s, not Conv or ConvTranspose",
                       cp_op_kind_name(desc->attrs.kind));
    return cp_op_create(desc, weight_shape, weight_rank, weight, bias, -1, op);
}

convpool_status cp_pool_create(const convpool_desc *desc, convpool_op **op)
{
    if (desc && cp_kind_has_weights(desc->attrs.kind))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "convpool_pool_create: descriptor is for %s; use convpool_conv_create",
                       cp_op_kind_name(desc->attrs.kind));
    return cp_op_create(desc, NULL, 0, NULL, NULL, -1, op);
}

void cp_op_destroy(convpool_op *op)
{
    if (!op)
        return;
    if (op->impl && op->impl->release)
        op->impl->release(op);
    cp_op_destroy(op->transposed);
    cp_op_destroy(op->transposed_ref);
    cp_free(op);
}

int32_t cp_op_kind_of(const convpool_op *op)
{
    return op ? op->attrs.kind : 0;
}

convpool_status cp_op_output_shape(const convpool_op *op, const int64_t *input_shape,
                                   size_t input_rank, int64_t *output_shape, size_t output_capacity)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (!output_shape)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "output_shape is NULL");
    cp_geom g;
    convpool_status st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    if (output_capacity < input_rank)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "output_shape has room for %zu dims; the output has %zu", output_capacity,
                       input_rank);
    int lead = CP_MAX_SPATIAL - op->attrs.rank;
    output_shape[0] = g.n;
    output_shape[1] = g.m;
    for (int i = 0; i < op->attrs.rank; i++)
        output_shape[2 + i] = g.out[lead + i];
    return CONVPOOL_OK;
}

static size_t workspace_for(const convpool_op *op, const cp_geom *g, convpool_context *ctx)
{
    if (g->n == 0)
        return 0; /* an empty batch runs nothing */
    return op->impl->workspace_size ? op->impl->workspace_size(op, g, cp_context_threads(ctx)) : 0;
}

convpool_status cp_op_workspace_size(const convpool_op *op, convpool_context *ctx,
                                     const int64_t *input_shape, size_t input_rank,
                                     size_t *workspace_size)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (!workspace_size)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "workspace_size is NULL");
    cp_geom g;
    convpool_status st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    size_t bytes = workspace_for(op, &g, cp_context_resolve(ctx));
    /* Room to align a caller's buffer of any alignment up to CP_ALIGNMENT. */
    *workspace_size = bytes ? bytes + CP_ALIGNMENT : 0;
    return CONVPOOL_OK;
}

convpool_status cp_workspace_acquire(convpool_context *ctx, size_t need, void *workspace,
                                     size_t workspace_size, const char *query, cp_workspace *out)
{
    out->ptr = out->owned = NULL;
    out->cached = 0;
    if (!need)
        return CONVPOOL_OK;
    if (workspace) {
        uintptr_t p = (uintptr_t)workspace;
        uintptr_t aligned = (p + CP_ALIGNMENT - 1) & ~(uintptr_t)(CP_ALIGNMENT - 1);
        if (workspace_size < need || workspace_size - need < aligned - p)
            return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                           "workspace has %zu bytes; this run needs %zu (see %s)", workspace_size,
                           need + CP_ALIGNMENT, query);
        out->ptr = (void *)aligned;
        return CONVPOOL_OK;
    }
    out->ptr = out->owned = cp_context_scratch_acquire(ctx, need, &out->cached);
    if (!out->ptr)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte workspace", need);
    return CONVPOOL_OK;
}

void cp_workspace_release(convpool_context *ctx, cp_workspace *ws)
{
    if (ws->owned)
        cp_context_scratch_release(ctx, ws->owned, ws->cached);
    ws->owned = NULL;
}

convpool_status cp_op_run_ex(const convpool_op *op, convpool_context *ctx,
                             const int64_t *input_shape, size_t input_rank, const float *x,
                             float *y, size_t y_count, int64_t *indices, void *workspace,
                             size_t workspace_size)
{
    if (!op)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op is NULL");
    if (indices && op->attrs.kind != CONVPOOL_OP_MAX_POOL)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "indices given for %s: only MaxPool has an Indices output",
                       cp_op_kind_name(op->attrs.kind));
    cp_geom g;
    convpool_status st = cp_geom_resolve(op, input_shape, input_rank, &g);
    if (st != CONVPOOL_OK)
        return st;
    int64_t out_count = g.n * g.m * cp_geom_out_plane(&g); /* checked by resolve */
    if (out_count == 0)
        return CONVPOOL_OK; /* an empty batch: nothing to read or write */
    if (!x || !y)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL", !x ? "x" : "y");
    if ((uint64_t)out_count > (uint64_t)y_count)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "y has room for %zu elements; the output has %lld", y_count,
                       (long long)out_count);
    ctx = cp_context_resolve(ctx);
    cp_workspace ws;
    st = cp_workspace_acquire(ctx, workspace_for(op, &g, ctx), workspace, workspace_size,
                              "convpool_op_workspace_size", &ws);
    if (st != CONVPOOL_OK)
        return st;
    cp_run_args args = {op, &g, ctx, x, y, indices, ws.ptr};
    op->impl->run(&args);
    cp_workspace_release(ctx, &ws);
    return CONVPOOL_OK;
}
