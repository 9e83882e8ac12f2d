/* Public calls for loaded ONNX models: load, inspect, destroy.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "onnx/loader.h"

CONVPOOL_API convpool_status convpool_model_load_file(const char *path, size_t memory_limit,
                                                      convpool_model **model)
{
    return cp_model_load_file(path, memory_limit, model);
}

CONVPOOL_API convpool_status convpool_model_load_memory(const void *data, size_t size,
                                                        size_t memory_limit, convpool_model **model)
{
    return cp_model_load_memory(data, size, memory_limit, model);
}

CONVPOOL_API void convpool_model_destroy(convpool_model *model)
{
    cp_model_destroy(model);
}

CONVPOOL_API size_t convpool_model_input_count(const convpool_model *model)
{
    return cp_model_input_count(model);
}

CONVPOOL_API size_t convpool_model_output_count(const convpool_model *model)
{
    return cp_model_output_count(model);
}

CONVPOOL_API const char *convpool_model_input_name(const convpool_model *model, size_t index)
{
    return cp_model_input_name(model, index);
}

CONVPOOL_API const char *convpool_model_output_name(const convpool_model *model, size_t index)
{
    return cp_model_output_name(model, index);
}

CONVPOOL_API convpool_status convpool_model_input_index(const convpool_model *model,
                                                        const char *name, size_t *index)
{
    return cp_model_input_index(model, name, index);
}

CONVPOOL_API convpool_status convpool_model_output_index(const convpool_model *model,
                                                         const char *name, size_t *index)
{
    return cp_model_output_index(model, name, index);
}

CONVPOOL_API convpool_status convpool_model_input_info(const convpool_model *model, size_t index,
                                                       int32_t *dtype, size_t *rank, int64_t *dims,
                                                       size_t dims_capacity)
{
    return cp_model_input_info(model, index, dtype, rank, dims, dims_capacity);
}

CONVPOOL_API convpool_status convpool_model_output_info(const convpool_model *model, size_t index,
                                                        int32_t *dtype, size_t *rank, int64_t *dims,
                                                        size_t dims_capacity)
{
    return cp_model_output_info(model, index, dtype, rank, dims, dims_capacity);
}

CONVPOOL_API const char *convpool_model_input_dim_name(const convpool_model *model, size_t index,
                                                       size_t dim)
{
    return cp_model_input_dim_name(model, index, dim);
}

CONVPOOL_API const char *convpool_model_output_dim_name(const convpool_model *model, size_t index,
                                                        size_t dim)
{
    return cp_model_output_dim_name(model, index, dim);
}

CONVPOOL_API size_t convpool_model_node_count(const convpool_model *model)
{
    return cp_model_node_count(model);
}

CONVPOOL_API const char *convpool_model_node_name(const convpool_model *model, size_t node)
{
    return cp_model_node_name(model, node);
}

CONVPOOL_API const char *convpool_model_node_op_type(const convpool_model *model, size_t node)
{
    return cp_model_node_op_type(model, node);
}

CONVPOOL_API size_t convpool_model_node_input_count(const convpool_model *model, size_t node)
{
    return cp_model_node_input_count(model, node);
}

CONVPOOL_API size_t convpool_model_node_output_count(const convpool_model *model, size_t node)
{
    return cp_model_node_output_count(model, node);
}

CONVPOOL_API const char *convpool_model_node_input_name(const convpool_model *model, size_t node,
                                                        size_t i)
{
    return cp_model_node_input_name(model, node, i);
}

CONVPOOL_API const char *convpool_model_node_output_name(const convpool_model *model, size_t node,
                                                         size_t i)
{
    return cp_model_node_output_name(model, node, i);
}

CONVPOOL_API const convpool_desc *convpool_model_node_desc(const convpool_model *model, size_t node)
{
    return cp_model_node_desc(model, node);
}
