/* Read-only queries on a loaded model (thread-safe: nothing is written). */
#include <string.h>

#include "onnx/loader.h"
#include "onnx/model.h"
#include "runtime/error.h"

convpool_status cp_report_shape(const cp_shape *shape, int32_t dtype, int32_t *dtype_out,
                                size_t *rank, int64_t *dims, size_t capacity)
{
    if (!dtype_out || !rank || (!dims && capacity))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL",
                       !dtype_out ? "dtype"
                       : !rank    ? "rank"
                                  : "dims");
    *dtype_out = dtype;
    *rank = shape->rank;
    if (capacity < shape->rank)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL, "dims has room for %zu; the rank is %zu",
                       capacity, shape->rank);
    memcpy(dims, shape->dims, shape->rank * sizeof *dims);
    return CONVPOOL_OK;
}

size_t cp_model_input_count(const convpool_model *m)
{
    return m ? m->input_count : 0;
}

size_t cp_model_output_count(const convpool_model *m)
{
    return m ? m->output_count : 0;
}

size_t cp_model_node_count(const convpool_model *m)
{
    return m ? m->graph_node_count : 0;
}

static const cp_io *io_at(const convpool_model *m, int outputs, size_t index)
{
    if (!m || index >= (outputs ? m->output_count : m->input_count))
        return NULL;
    return outputs ? &m->outputs[index] : &m->inputs[index];
}

const char *cp_model_input_name(const convpool_model *m, size_t index)
{
    const cp_io *io = io_at(m, 0, index);
    return io ? m->values[io->value].name : NULL;
}

const char *cp_model_output_name(const convpool_model *m, size_t index)
{
    const cp_io *io = io_at(m, 1, index);
    return io ? m->values[io->value].name : NULL;
}

static convpool_status find(const convpool_model *m, int outputs, const char *name, size_t *index)
{
    if (!m || !name || !index)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL",
                       !m      ? "model"
                       : !name ? "name"
                               : "index");
    size_t count = outputs ? m->output_count : m->input_count;
    for (size_t i = 0; i < count; i++)
        if (strcmp(m->values[io_at(m, outputs, i)->value].name, name) == 0) {
            *index = i;
            return CONVPOOL_OK;
        }
    return cp_fail(CONVPOOL_ERROR_NOT_FOUND, "the model has no %s named '%s'",
                   outputs ? "output" : "input", name);
}

convpool_status cp_model_input_index(const convpool_model *m, const char *name, size_t *index)
{
    return find(m, 0, name, index);
}

convpool_status cp_model_output_index(const convpool_model *m, const char *name, size_t *index)
{
    return find(m, 1, name, index);
}

static convpool_status info(const convpool_model *m, int outputs, size_t index, int32_t *dtype,
                            size_t *rank, int64_t *dims, size_t capacity)
{
    const cp_io *io = io_at(m, outputs, index);
    if (!io)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s: %s index %zu is out of range",
                       !m ? "model is NULL" : "bad index", outputs ? "output" : "input", index);
    return cp_report_shape(&io->shape, io->dtype, dtype, rank, dims, capacity);
}

convpool_status cp_model_input_info(const convpool_model *m, size_t index, int32_t *dtype,
                                    size_t *rank, int64_t *dims, size_t dims_capacity)
{
    return info(m, 0, index, dtype, rank, dims, dims_capacity);
}

convpool_status cp_model_output_info(const convpool_model *m, size_t index, int32_t *dtype,
                                     size_t *rank, int64_t *dims, size_t dims_capacity)
{
    return info(m, 1, index, dtype, rank, dims, dims_capacity);
}

static const char *dim_name(const convpool_model *m, int outputs, size_t index, size_t dim)
{
    const cp_io *io = io_at(m, outputs, index);
    return io && dim < io->shape.rank ? io->dim_names[dim] : NULL;
}

const char *cp_model_input_dim_name(const convpool_model *m, size_t index, size_t dim)
{
    return dim_name(m, 0, index, dim);
}

const char *cp_model_output_dim_name(const convpool_model *m, size_t index, size_t dim)
{
    return dim_name(m, 1, index, dim);
}

static const cp_graph_node *graph_node_at(const convpool_model *m, size_t node)
{
    return m && node < m->graph_node_count ? &m->graph_nodes[node] : NULL;
}

const char *cp_model_node_name(const convpool_model *m, size_t node)
{
    const cp_graph_node *gn = graph_node_at(m, node);
    return gn ? gn->name : NULL;
}

const char *cp_model_node_op_type(const convpool_model *m, size_t node)
{
    const cp_graph_node *gn = graph_node_at(m, node);
    return gn ? gn->op_type : NULL;
}

/* Node `node`'s input (outputs 0) or output (outputs 1) names and count. */
static size_t node_links(const convpool_model *m, size_t node, int outputs,
                         const char *const **names)
{
    const cp_graph_node *gn = graph_node_at(m, node);
    *names = !gn ? NULL : outputs ? gn->outputs : gn->inputs;
    return !gn ? 0 : outputs ? gn->output_count : gn->input_count;
}

static const char *node_link(const convpool_model *m, size_t node, int outputs, size_t i)
{
    const char *const *names;
    return i < node_links(m, node, outputs, &names) ? names[i] : NULL;
}

size_t cp_model_node_input_count(const convpool_model *m, size_t node)
{
    const char *const *names;
    return node_links(m, node, 0, &names);
}

size_t cp_model_node_output_count(const convpool_model *m, size_t node)
{
    const char *const *names;
    return node_links(m, node, 1, &names);
}

const char *cp_model_node_input_name(const convpool_model *m, size_t node, size_t i)
{
    return node_link(m, node, 0, i);
}

const char *cp_model_node_output_name(const convpool_model *m, size_t node, size_t i)
{
    return node_link(m, node, 1, i);
}

const convpool_desc *cp_model_node_desc(const convpool_model *m, size_t node)
{
    const cp_graph_node *gn = graph_node_at(m, node);
    return gn ? gn->desc : NULL;
}
