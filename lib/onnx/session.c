/*
 * Sessions: bound inputs, output buffers and a small cache of plans (with
 * their arenas) per input-shape set, so repeated runs allocate nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/loader.h"
#include "onnx/names.h"
#include "onnx/run.h"
#include "runtime/alloc.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

#define CP_PLAN_CACHE 4

typedef struct cached_plan {
    cp_plan *plan; /* owned, unless it is the model's static plan */
    uint8_t *arena;
} cached_plan;

typedef struct bound_output {
    void *user; /* caller buffer, or NULL */
    size_t user_bytes;
    void *owned; /* session buffer */
    size_t owned_bytes;
    cp_shape shape;   /* of the last run */
    const void *data; /* of the last run */
} bound_output;

struct convpool_session {
    const convpool_model *m;
    cp_shape *in_shapes;
    const void **in_data;
    size_t bound; /* inputs bound so far (each counted once) */
    unsigned char *in_bound;
    bound_output *out;
    int has_result;
    cached_plan cache[CP_PLAN_CACHE];
    size_t next_evict;
    void **ptr; /* per value, filled for each run */
};

static void release_slot(convpool_session *s, cached_plan *slot)
{
    if (slot->plan != s->m->static_plan)
        cp_plan_free(slot->plan);
    cp_free(slot->arena);
    slot->plan = NULL;
    slot->arena = NULL;
}

convpool_status cp_session_create(const convpool_model *model, convpool_session **session)
{
    if (!model || !session)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL", !model ? "model" : "session");
    convpool_session *s = calloc(1, sizeof *s);
    if (s) {
        s->m = model;
        s->in_shapes = calloc(model->input_count + 1, sizeof *s->in_shapes);
        s->in_data = calloc(model->input_count + 1, sizeof *s->in_data);
        s->in_bound = calloc(model->input_count + 1, 1);
        s->out = calloc(model->output_count + 1, sizeof *s->out);
        s->ptr = calloc(model->value_count + 1, sizeof *s->ptr);
    }
    if (!s || !s->in_shapes || !s->in_data || !s->in_bound || !s->out || !s->ptr) {
        cp_session_destroy(s);
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a session");
    }
    *session = s;
    return CONVPOOL_OK;
}

void cp_session_destroy(convpool_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CP_PLAN_CACHE; i++)
        release_slot(s, &s->cache[i]);
    for (size_t j = 0; s->out && j < s->m->output_count; j++)
        cp_free(s->out[j].owned);
    free(s->in_shapes);
    free(s->in_data);
    free(s->in_bound);
    free(s->out);
    free(s->ptr);
    free(s);
}

convpool_status cp_session_set_input(convpool_session *s, size_t index, int32_t dtype,
                                     const int64_t *shape, size_t rank, const void *data)
{
    if (!s || (!shape && rank) || !data)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL",
                       !s      ? "session"
                       : !data ? "data"
                               : "shape");
    const convpool_model *m = s->m;
    if (index >= m->input_count)
        return cp_fail(CONVPOOL_ERROR_NOT_FOUND, "input index %zu: the model has %zu inputs", index,
                       m->input_count);
    const cp_io *io = &m->inputs[index];
    const char *name = m->values[io->value].name;
    if (dtype != io->dtype)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "input '%s' is %s; got %s", name,
                       cp_dtype_name(io->dtype), cp_dtype_name(dtype));
    if (rank != io->shape.rank)
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH, "input '%s' has rank %zu; got rank %zu", name,
                       io->shape.rank, rank);
    for (size_t d = 0; d < rank; d++) {
        if (shape[d] < 0)
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "input '%s': dim %zu = %lld is "
                           "negative",
                           name, d, (long long)shape[d]);
        if (io->shape.dims[d] >= 0 && io->shape.dims[d] != shape[d])
            return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                           "input '%s': dim %zu is %lld; the "
                           "model declares %lld",
                           name, d, (long long)shape[d], (long long)io->shape.dims[d]);
    }
    int64_t count;
    if (!cp_element_count(shape, rank, cp_dtype_size(dtype), &count))
        return cp_fail(CONVPOOL_ERROR_OVERFLOW, "input '%s': the element count overflows", name);
    s->in_shapes[index].rank = rank;
    memcpy(s->in_shapes[index].dims, shape, rank * sizeof *shape);
    s->in_data[index] = data;
    if (!s->in_bound[index]) {
        s->in_bound[index] = 1;
        s->bound++;
    }
    return CONVPOOL_OK;
}

/* The cached plan for the bound input shapes on ctx, built if missing.
 * ctx NULL asks for shapes only: any thread count will do, a missing plan
 * is built for one thread and its arena is left for a run to allocate. */
static convpool_status get_plan(convpool_session *s, convpool_context *ctx, cached_plan **out)
{
    const convpool_model *m = s->m;
    if (s->bound < m->input_count) {
        for (size_t i = 0; i < m->input_count; i++)
            if (!s->in_bound[i])
                return cp_fail(CONVPOOL_ERROR_INVALID_STATE,
                               "input '%s' is not bound (see "
                               "convpool_session_set_input)",
                               m->values[m->inputs[i].value].name);
    }
    int32_t threads = ctx ? cp_context_threads(ctx) : -1;
    cached_plan *slot = NULL;
    for (size_t i = 0; i < CP_PLAN_CACHE && !slot; i++)
        if (s->cache[i].plan && cp_plan_matches(s->cache[i].plan, m, s->in_shapes, threads))
            slot = &s->cache[i];
    if (!slot) {
        cp_plan *p = m->static_plan;
        if (!p || !cp_plan_matches(p, m, s->in_shapes, threads)) {
            convpool_status st = cp_plan_build(m, s->in_shapes, ctx, &p);
            if (st != CONVPOOL_OK)
                return st;
        }
        slot = &s->cache[s->next_evict];
        s->next_evict = (s->next_evict + 1) % CP_PLAN_CACHE;
        release_slot(s, slot);
        slot->plan = p;
    }
    if (ctx && !slot->arena && slot->plan->arena_bytes &&
        !(slot->arena = cp_alloc(slot->plan->arena_bytes)))
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte arena",
                       slot->plan->arena_bytes);
    *out = slot;
    return CONVPOOL_OK;
}

static convpool_status check_output_index(const convpool_session *s, size_t index)
{
    if (!s)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "session is NULL");
    if (index >= s->m->output_count)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "output index %zu: the model has %zu "
                       "outputs",
                       index, s->m->output_count);
    return CONVPOOL_OK;
}

convpool_status cp_session_output_shape(convpool_session *s, size_t index, int32_t *dtype,
                                        size_t *rank, int64_t *dims, size_t dims_capacity)
{
    convpool_status st = check_output_index(s, index);
    if (st != CONVPOOL_OK)
        return st;
    cached_plan *c;
    if ((st = get_plan(s, NULL, &c)) != CONVPOOL_OK)
        return st;
    int32_t v = s->m->outputs[index].value;
    return cp_report_shape(&c->plan->shapes[v], s->m->values[v].dtype, dtype, rank, dims,
                           dims_capacity);
}

convpool_status cp_session_value_shape(convpool_session *s, const char *value_name, int32_t *dtype,
                                       size_t *rank, int64_t *dims, size_t dims_capacity)
{
    if (!s || !value_name)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL",
                       !s ? "session" : "value_name");
    int32_t v = *value_name ? cp_names_find(s->m->names, value_name) : -1;
    if (v < 0)
        return cp_fail(CONVPOOL_ERROR_NOT_FOUND,
                       "the model has no value named '%s' (no graph "
                       "input, initializer or node output)",
                       value_name);
    cached_plan *c;
    convpool_status st = get_plan(s, NULL, &c);
    if (st != CONVPOOL_OK)
        return st;
    return cp_report_shape(&c->plan->shapes[v], s->m->values[v].dtype, dtype, rank, dims,
                           dims_capacity);
}

convpool_status cp_session_set_output(convpool_session *s, size_t index, void *data,
                                      size_t size_bytes)
{
    convpool_status st = check_output_index(s, index);
    if (st != CONVPOOL_OK)
        return st;
    s->out[index].user = data;
    s->out[index].user_bytes = data ? size_bytes : 0;
    s->has_result = 0; /* earlier results may have lived in the old buffer */
    return CONVPOOL_OK;
}

/* Picks each output's destination for this plan: the caller's buffer (big
 * enough) or a session buffer grown as needed. */
static convpool_status prepare_outputs(convpool_session *s, const cp_plan *p)
{
    const convpool_model *m = s->m;
    for (size_t j = 0; j < m->output_count; j++) {
        bound_output *o = &s->out[j];
        int32_t v = m->outputs[j].value;
        size_t need = p->bytes[v];
        if (o->user) {
            if (o->user_bytes < need)
                return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                               "output '%s' needs %zu bytes; "
                               "the bound buffer has %zu",
                               m->values[v].name, need, o->user_bytes);
            o->data = o->user;
            continue;
        }
        if (need > o->owned_bytes) {
            void *grown = cp_alloc(need);
            if (!grown)
                return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY,
                               "cannot allocate %zu bytes for "
                               "output '%s'",
                               need, m->values[v].name);
            cp_free(o->owned);
            o->owned = grown;
            o->owned_bytes = need;
        }
        o->data = o->owned;
    }
    return CONVPOOL_OK;
}

/* Every value's data for this run. */
static void resolve_pointers(convpool_session *s, const cached_plan *c)
{
    const convpool_model *m = s->m;
    for (size_t v = 0; v < m->value_count; v++) {
        const cp_value *val = &m->values[v];
        s->ptr[v] = val->source == CP_VALUE_CONST           ? (void *)val->data
                    : c->plan->offset[v] != CP_NOT_IN_ARENA ? c->arena + c->plan->offset[v]
                                                            : NULL;
    }
    for (size_t i = 0; i < m->input_count; i++)
        s->ptr[m->inputs[i].value] = (void *)s->in_data[i];
    for (size_t j = m->output_count; j-- > 0;) {
        int32_t v = m->outputs[j].value;
        if (m->values[v].source == CP_VALUE_NODE)
            s->ptr[v] = (void *)s->out[j].data; /* the first output naming v wins */
    }
}

convpool_status cp_session_run(convpool_session *s, convpool_context *ctx)
{
    if (!s)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "session is NULL");
    s->has_result = 0;
    ctx = cp_context_resolve(ctx);
    cached_plan *c;
    convpool_status st = get_plan(s, ctx, &c);
    if (st == CONVPOOL_OK)
        st = prepare_outputs(s, c->plan);
    if (st != CONVPOOL_OK)
        return st;
    resolve_pointers(s, c);
    if ((st = cp_run_nodes(s->m, c->plan, s->ptr, c->arena, ctx)) != CONVPOOL_OK)
        return st;
    /* Outputs not computed in place: inputs, constants, repeated names. */
    for (size_t j = 0; j < s->m->output_count; j++) {
        int32_t v = s->m->outputs[j].value;
        size_t bytes = c->plan->bytes[v];
        if (bytes && s->out[j].data != s->ptr[v])
            memcpy((void *)s->out[j].data, s->ptr[v], bytes);
        s->out[j].shape = c->plan->shapes[v];
    }
    s->has_result = 1;
    return CONVPOOL_OK;
}

convpool_status cp_session_output(const convpool_session *s, size_t index, int32_t *dtype,
                                  size_t *rank, const int64_t **dims, const void **data)
{
    convpool_status st = check_output_index(s, index);
    if (st != CONVPOOL_OK)
        return st;
    if (!s->has_result)
        return cp_fail(CONVPOOL_ERROR_INVALID_STATE, "no successful run since the session was "
                                                     "created or an output was rebound");
    const bound_output *o = &s->out[index];
    if (dtype)
        *dtype = s->m->values[s->m->outputs[index].value].dtype;
    if (rank)
        *rank = o->shape.rank;
    if (dims)
        *dims = o->shape.dims;
    if (data)
        *data = o->data;
    return CONVPOOL_OK;
}
