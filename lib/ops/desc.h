/*
 * desc.h - what a convpool_desc holds: an op kind, its spatial rank and its
 * attributes, each remembered with whether the caller set it (ONNX defaults
 * differ between "absent" and any explicit value, e.g. kernel_shape for Conv).
 */
#ifndef CP_OPS_DESC_H
#define CP_OPS_DESC_H

#include <stdint.h>

#include "convpool.h"
#include "kernels/geom.h"

typedef struct cp_attrs {
    int32_t kind; /* convpool_op_kind */
    int32_t rank; /* spatial rank, 1..3 */
    int64_t kernel_shape[CP_MAX_SPATIAL];
    int64_t strides[CP_MAX_SPATIAL];
    int64_t dilations[CP_MAX_SPATIAL];
    int64_t pads[2 * CP_MAX_SPATIAL]; /* begins then ends, `rank` of each */
    int32_t auto_pad;                 /* convpool_auto_pad */
    int64_t group;
    int32_t ceil_mode;
    int32_t count_include_pad;
    int32_t storage_order;
    int32_t has_kernel_shape;
    int32_t has_pads;
    /* ConvTranspose */
    int64_t output_padding[CP_MAX_SPATIAL];
    int64_t output_shape[CP_MAX_SPATIAL];
    int32_t has_output_shape;
    /* LpPool, GlobalLpPool: the norm's exponent */
    int64_t p;
    /* The inner op of a backward pass whose pads auto_pad or output_shape
     * decide per input size: each run's geometry brings them, the pads
     * above are placeholders (ops/backward.c). */
    int32_t pads_per_run;
} cp_attrs;

struct convpool_desc {
    cp_attrs attrs;
};

/* Sets every attribute to its ONNX default. */
void cp_attrs_init(cp_attrs *a, int32_t kind, int32_t rank);

/* Whether ops of this kind take weights (Conv, ConvTranspose). */
static inline int cp_kind_has_weights(int32_t kind)
{
    return kind == CONVPOOL_OP_CONV || kind == CONVPOOL_OP_CONV_TRANSPOSE;
}

/* The output channel count M a weight of dims `ws` gives: Conv's W is (M,
 * C/group, k...), ConvTranspose's (C, M/group, k...). -1 on overflow. */
static inline int64_t cp_weight_out_channels(const cp_attrs *a, const int64_t *ws)
{
    int64_t m;
    if (a->kind != CONVPOOL_OP_CONV_TRANSPOSE)
        return ws[0];
    return __builtin_mul_overflow(ws[1], a->group, &m) ? -1 : m;
}

/* The ONNX name of an op kind ("MaxPool"), for messages. */
const char *cp_op_kind_name(int32_t kind);

/* The descriptor calls of include/convpool.h (lib/api/descriptor.c forwards
 * to these). Same contracts as the public calls. */
convpool_status cp_desc_create(int32_t kind, int32_t spatial_rank, convpool_desc **desc);
void cp_desc_destroy(convpool_desc *desc);
convpool_status cp_desc_set_ints(convpool_desc *desc, int32_t attr, const int64_t *values,
                                 size_t count);
convpool_status cp_desc_set_int(convpool_desc *desc, int32_t attr, int64_t value);
int32_t cp_desc_kind(const convpool_desc *desc);
int32_t cp_desc_spatial_rank(const convpool_desc *desc);
convpool_status cp_desc_get_ints(const convpool_desc *desc, int32_t attr, int64_t *values,
                                 size_t capacity, size_t *count);
convpool_status cp_desc_get_int(const convpool_desc *desc, int32_t attr, int64_t *value);

#endif
