/*
 * Model loading: read the bytes, unpack the ModelProto, check the IR
 * version and the imported opset, build and validate the graph, and plan
 * it once when every input shape is static, so shape errors and the memory
 * limit are reported at load time rather than at the first run.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/graph.h"
#include "onnx/loader.h"
#include "onnx/names.h"
#include "onnx/plan.h"
#include "ops/op.h"
#include "runtime/alloc.h"
#include "runtime/error.h"

void cp_model_free(convpool_model *m)
{
    if (!m)
        return;
    cp_plan_free(m->static_plan);
    for (size_t i = 0; i < m->node_count; i++) {
        free(m->nodes[i].name);
        cp_desc_destroy(m->nodes[i].desc);
        cp_op_destroy(m->nodes[i].op);
    }
    for (size_t i = 0; m->graph_nodes && i < m->graph_node_count; i++) {
        free(m->graph_nodes[i].name);
        free(m->graph_nodes[i].inputs);
        free(m->graph_nodes[i].outputs);
    }
    free(m->graph_nodes);
    if (m->names)
        cp_names_free(m->names);
    free(m->names);
    for (size_t v = 0; v < m->value_count; v++) {
        free(m->values[v].name);
        cp_free(m->values[v].owned);
    }
    cp_io *lists[2] = {m->inputs, m->outputs};
    size_t counts[2] = {m->input_count, m->output_count};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && i < counts[l]; i++)
            for (size_t d = 0; d < CP_MAX_RANK; d++)
                free(lists[l][i].dim_names[d]);
    free(m->inputs);
    free(m->outputs);
    free(m->nodes);
    free(m->values);
    free(m);
}

/* The default-domain opset the model imports (exactly one import). */
static convpool_status default_opset(const Onnx__ModelProto *mp, int64_t *opset)
{
    int found = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        const char *domain = o->domain ? o->domain : "";
        if (*domain && strcmp(domain, "ai.onnx") != 0)
            continue; /* other domains may be imported; their ops are refused if used */
        if (found++)
            return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "the default ONNX domain is imported "
                                                         "twice");
        *opset = o->has_version ? o->version : 0;
    }
    if (!found)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "the model imports no default-domain "
                                                     "(ai.onnx) opset");
    if (*opset < 1 || *opset > CP_MAX_OPSET)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                       "the model imports opset %lld; supported: "
                       "1 to %d",
                       (long long)*opset, CP_MAX_OPSET);
    return CONVPOOL_OK;
}

/* With static input shapes, plans once now, keeps the plan for the
 * sessions and records the inferred dims. */
static convpool_status plan_static(convpool_model *m)
{
    cp_shape *shapes = calloc(m->input_count + 1, sizeof *shapes);
    if (!shapes)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate shapes");
    int all_static = 1;
    for (size_t i = 0; i < m->input_count; i++) {
        shapes[i] = m->inputs[i].shape;
        for (size_t d = 0; d < shapes[i].rank; d++)
            all_static &= shapes[i].dims[d] >= 0;
    }
    convpool_status st = CONVPOOL_OK;
    cp_plan *p = NULL;
    if (all_static)
        st = cp_plan_build(m, shapes, NULL, &p);
    free(shapes);
    if (!p)
        return st;
    for (size_t v = 0; v < m->value_count; v++)
        m->values[v].shape = p->shapes[v];
    for (size_t j = 0; j < m->output_count; j++)
        for (size_t d = 0; d < m->outputs[j].shape.rank; d++)
            if (m->outputs[j].shape.dims[d] < 0 && !m->outputs[j].dim_names[d])
                m->outputs[j].shape.dims[d] = p->shapes[m->outputs[j].value].dims[d];
    m->static_plan = p;
    return CONVPOOL_OK;
}

static convpool_status from_proto(const Onnx__ModelProto *mp, const char *dir, size_t memory_limit,
                                  convpool_model **out)
{
    if (!mp->has_ir_version || mp->ir_version < 3)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                       "ONNX IR version %lld: IR version 3 or "
                       "later is needed",
                       (long long)mp->ir_version);
    if (!mp->graph)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "the model has no graph");
    convpool_model *m = calloc(1, sizeof *m);
    if (!m)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a model");
    m->memory_limit = memory_limit;
    size_t budget = memory_limit;
    cp_tensor_source src = {dir, memory_limit ? &budget : NULL};
    convpool_status st = default_opset(mp, &m->opset);
    if (st == CONVPOOL_OK)
        st = cp_graph_build(m, mp->graph, &src);
    if (st == CONVPOOL_OK && memory_limit &&
        (m->weight_bytes > memory_limit || m->packed_bytes > memory_limit - m->weight_bytes))
        st = cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY,
                     "weights need %zu bytes and the ops' packed copies of them %zu: more than "
                     "the memory limit of %zu bytes",
                     m->weight_bytes, m->packed_bytes, memory_limit);
    if (st == CONVPOOL_OK)
        st = plan_static(m);
    if (st != CONVPOOL_OK) {
        cp_model_free(m);
        return st;
    }
    *out = m;
    return CONVPOOL_OK;
}

static convpool_status load_bytes(const void *data, size_t size, const char *dir,
                                  size_t memory_limit, const char *what, convpool_model **model)
{
    Onnx__ModelProto *mp = cp_proto_unpack_model(data, size, what);
    if (!mp)
        return CONVPOOL_ERROR_INVALID_MODEL;
    convpool_status st = from_proto(mp, dir, memory_limit, model);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}

convpool_status cp_model_load_file(const char *path, size_t memory_limit, convpool_model **model)
{
    if (!path || !model)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL", !path ? "path" : "model");
    void *bytes = NULL;
    size_t size = 0;
    convpool_status st = cp_read_whole_file(path, memory_limit, &bytes, &size);
    if (st != CONVPOOL_OK)
        return st;
    char *dir = cp_dir_of(path);
    if (!dir) {
        cp_free(bytes);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a path");
    }
    st = load_bytes(bytes, size, dir, memory_limit, "the model file", model);
    free(dir);
    cp_free(bytes);
    if (st != CONVPOOL_OK)
        return cp_fail_context(st, "%s: ", path);
    return st;
}

convpool_status cp_model_load_memory(const void *data, size_t size, size_t memory_limit,
                                     convpool_model **model)
{
    if ((!data && size) || !model)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL", !model ? "model" : "data");
    return load_bytes(data, size, NULL, memory_limit, "the model data", model);
}

void cp_model_destroy(convpool_model *model)
{
    cp_model_free(model);
}
