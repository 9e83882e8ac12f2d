/* Public calls for convolution and pooling ops: create, query, run.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include <stddef.h>

#include "ops/op.h"

CONVPOOL_API convpool_status convpool_conv_create(const convpool_desc *desc,
                                                  const int64_t *weight_shape, size_t weight_rank,
                                                  const float *weight, const float *bias,
                                                  convpool_op **op)
{
    return cp_conv_create(desc, weight_shape, weight_rank, weight, bias, op);
}

CONVPOOL_API convpool_status convpool_pool_create(const convpool_desc *desc, convpool_op **op)
{
    return cp_pool_create(desc, op);
}

CONVPOOL_API void convpool_op_destroy(convpool_op *op)
{
    cp_op_destroy(op);
}

CONVPOOL_API int32_t convpool_op_kind_of(const convpool_op *op)
{
    return cp_op_kind_of(op);
}

CONVPOOL_API convpool_status convpool_op_output_shape(const convpool_op *op,
                                                      const int64_t *input_shape, size_t input_rank,
                                                      int64_t *output_shape, size_t output_capacity)
{
    return cp_op_output_shape(op, input_shape, input_rank, output_shape, output_capacity);
}

CONVPOOL_API convpool_status convpool_op_run(const convpool_op *op, const int64_t *input_shape,
                                             size_t input_rank, const float *x, float *y,
                                             size_t y_count)
{
    return cp_op_run_ex(op, NULL, input_shape, input_rank, x, y, y_count, NULL, NULL, 0);
}

CONVPOOL_API convpool_status convpool_op_run_ex(const convpool_op *op, convpool_context *ctx,
                                                const int64_t *input_shape, size_t input_rank,
                                                const float *x, float *y, size_t y_count,
                                                int64_t *indices, void *workspace,
                                                size_t workspace_size)
{
    return cp_op_run_ex(op, ctx, input_shape, input_rank, x, y, y_count, indices, workspace,
                        workspace_size);
}

CONVPOOL_API convpool_status convpool_op_workspace_size(const convpool_op *op,
                                                        convpool_context *ctx,
                                                        const int64_t *input_shape,
                                                        size_t input_rank, size_t *workspace_size)
{
    return cp_op_workspace_size(op, ctx, input_shape, input_rank, workspace_size);
}

CONVPOOL_API convpool_status convpool_conv_create_ex(const convpool_desc *desc,
                                                     const int64_t *weight_shape,
                                                     size_t weight_rank, const float *weight,
                                                     const float *bias, uint32_t flags,
                                                     convpool_op **op)
{
    return cp_conv_create_ex(desc, weight_shape, weight_rank, weight, bias, flags, op);
}

CONVPOOL_API convpool_status convpool_op_weight_shape(const convpool_op *op, int64_t *shape,
                                                      size_t capacity, size_t *rank)
{
    return cp_op_weight_shape(op, shape, capacity, rank);
}

CONVPOOL_API convpool_status convpool_op_backward_data(const convpool_op *op, convpool_context *ctx,
                                                       const int64_t *input_shape,
                                                       size_t input_rank, const float *x,
                                                       const int64_t *indices, const float *dy,
                                                       size_t dy_count, float *dx, size_t dx_count,
                                                       void *workspace, size_t workspace_size)
{
    return cp_op_backward_data(op, ctx, input_shape, input_rank, x, indices, dy, dy_count, dx,
                               dx_count, workspace, workspace_size);
}

CONVPOOL_API convpool_status convpool_op_backward_weights(
    const convpool_op *op, convpool_context *ctx, const int64_t *input_shape, size_t input_rank,
    const float *x, const float *dy, size_t dy_count, float *dw, size_t dw_count, float *db,
    size_t db_count, void *workspace, size_t workspace_size)
{
    return cp_op_backward_weights(op, ctx, input_shape, input_rank, x, dy, dy_count, dw, dw_count,
                                  db, db_count, workspace, workspace_size);
}

CONVPOOL_API convpool_status convpool_op_backward_workspace_size(const convpool_op *op,
                                                                 convpool_context *ctx,
                                                                 const int64_t *input_shape,
                                                                 size_t input_rank, int32_t pass,
                                                                 size_t *workspace_size)
{
    return cp_op_backward_workspace_size(op, ctx, input_shape, input_rank, pass, workspace_size);
}
