/*
 * loader.h - what lib/onnx offers the rest of the library: the functions
 * behind the public model and session calls (lib/api/model.c and
 * lib/api/session.c forward to them). Same contracts as the public calls
 * in include/convpool.h. Built from the loader's sources, or from
 * disabled.c (every call reports UNSUPPORTED) when the loader is not built.
 */
#ifndef CP_ONNX_LOADER_H
#define CP_ONNX_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"

convpool_status cp_model_load_file(const char *path, size_t memory_limit, convpool_model **model);
convpool_status cp_model_load_memory(const void *data, size_t size, size_t memory_limit,
                                     convpool_model **model);
void cp_model_destroy(convpool_model *model);
size_t cp_model_input_count(const convpool_model *model);
size_t cp_model_output_count(const convpool_model *model);
const char *cp_model_input_name(const convpool_model *model, size_t index);
const char *cp_model_output_name(const convpool_model *model, size_t index);
convpool_status cp_model_input_index(const convpool_model *model, const char *name, size_t *index);
convpool_status cp_model_output_index(const convpool_model *model, const char *name, size_t *index);
convpool_status cp_model_input_info(const convpool_model *model, size_t index, int32_t *dtype,
                                    size_t *rank, int64_t *dims, size_t dims_capacity);
convpool_status cp_model_output_info(const convpool_model *model, size_t index, int32_t *dtype,
                                     size_t *rank, int64_t *dims, size_t dims_capacity);
const char *cp_model_input_dim_name(const convpool_model *model, size_t index, size_t dim);
const char *cp_model_output_dim_name(const convpool_model *model, size_t index, size_t dim);
size_t cp_model_node_count(const convpool_model *model);
const char *cp_model_node_name(const convpool_model *model, size_t node);
const char *cp_model_node_op_type(const convpool_model *model, size_t node);
size_t cp_model_node_input_count(const convpool_model *model, size_t node);
size_t cp_model_node_output_count(const convpool_model *model, size_t node);
const char *cp_model_node_input_name(const convpool_model *model, size_t node, size_t i);
const char *cp_model_node_output_name(const convpool_model *model, size_t node, size_t i);
const convpool_desc *cp_model_node_desc(const convpool_model *model, size_t node);

convpool_status cp_session_create(const convpool_model *model, convpool_session **session);
void cp_session_destroy(convpool_session *session);
convpool_status cp_session_set_input(convpool_session *session, size_t index, int32_t dtype,
                                     const int64_t *shape, size_t rank, const void *data);
convpool_status cp_session_output_shape(convpool_session *session, size_t index, int32_t *dtype,
                                        size_t *rank, int64_t *dims, size_t dims_capacity);
convpool_status cp_session_value_shape(convpool_session *session, const char *value_name,
                                       int32_t *dtype, size_t *rank, int64_t *dims,
                                       size_t dims_capacity);
convpool_status cp_session_set_output(convpool_session *session, size_t index, void *data,
                                      size_t size_bytes);
convpool_status cp_session_run(convpool_session *session, convpool_context *ctx);
convpool_status cp_session_output(const convpool_session *session, size_t index, int32_t *dtype,
                                  size_t *rank, const int64_t **dims, const void **data);

#endif
