/*
 * The model and session entry points when the loader is not built (no
 * protobuf-c): the exported ABI stays the same, every call reports
 * UNSUPPORTED and the query calls return empty answers.
 */
#include "convpool.h"
#include "onnx/loader.h"
#include "runtime/error.h"

static convpool_status no_loader(void)
{
    return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                   "this libconvpool was built without the ONNX "
                   "loader (protobuf-c or onnx.proto was missing at build time)");
}

convpool_status cp_model_load_file(const char *p, size_t l, convpool_model **m)
{
    return no_loader();
}
convpool_status cp_model_load_memory(const void *d, size_t s, size_t l, convpool_model **m)
{
    return no_loader();
}
void cp_model_destroy(convpool_model *m)
{
}
size_t cp_model_input_count(const convpool_model *m)
{
    return 0;
}
size_t cp_model_output_count(const convpool_model *m)
{
    return 0;
}
size_t cp_model_node_count(const convpool_model *m)
{
    return 0;
}
const char *cp_model_input_name(const convpool_model *m, size_t i)
{
    return NULL;
}
const char *cp_model_output_name(const convpool_model *m, size_t i)
{
    return NULL;
}
convpool_status cp_model_input_index(const convpool_model *m, const char *n, size_t *i)
{
    return no_loader();
}
convpool_status cp_model_output_index(const convpool_model *m, const char *n, size_t *i)
{
    return no_loader();
}
convpool_status cp_model_input_info(const convpool_model *m, size_t i, int32_t *t, size_t *r,
                                    int64_t *d, size_t c)
{
    return no_loader();
}
convpool_status cp_model_output_info(const convpool_model *m, size_t i, int32_t *t, size_t *r,
                                     int64_t *d, size_t c)
{
    return no_loader();
}
const char *cp_model_input_dim_name(const convpool_model *m, size_t i, size_t d)
{
    return NULL;
}
const char *cp_model_output_dim_name(const convpool_model *m, size_t i, size_t d)
{
    return NULL;
}
convpool_status cp_session_create(const convpool_model *m, convpool_session **s)
{
    return no_loader();
}
void cp_session_destroy(convpool_session *s)
{
}
convpool_status cp_session_set_input(convpool_session *s, size_t i, int32_t t, const int64_t *sh,
                                     size_t r, const void *d)
{
    return no_loader();
}
convpool_status cp_session_output_shape(convpool_session *s, size_t i, int32_t *t, size_t *r,
                                        int64_t *d, size_t c)
{
    return no_loader();
}
convpool_status cp_session_set_output(convpool_session *s, size_t i, void *d, size_t b)
{
    return no_loader();
}
convpool_status cp_session_run(convpool_session *s, convpool_context *c)
{
    return no_loader();
}
convpool_status cp_session_output(const convpool_session *s, size_t i, int32_t *t, size_t *r,
                                  const int64_t **d, const void **p)
{
    return no_loader();
}
const char *cp_model_node_name(const convpool_model *m, size_t n)
{
    return NULL;
}
const char *cp_model_node_op_type(const convpool_model *m, size_t n)
{
    return NULL;
}
size_t cp_model_node_input_count(const convpool_model *m, size_t n)
{
    return 0;
}
size_t cp_model_node_output_count(const convpool_model *m, size_t n)
{
    return 0;
}
const char *cp_model_node_input_name(const convpool_model *m, size_t n, size_t i)
{
    return NULL;
}
const char *cp_model_node_output_name(const convpool_model *m, size_t n, size_t i)
{
    return NULL;
}
const convpool_desc *cp_model_node_desc(const convpool_model *m, size_t n)
{
    return NULL;
}
convpool_status cp_session_value_shape(convpool_session *s, const char *v, int32_t *t, size_t *r,
                                       int64_t *d, size_t c)
{
    return no_loader();
}
