/* The descriptor calls behind lib/api/descriptor.c. Per-attribute checks
 * happen here, as values are set; checks that need several attributes wait
 * for op creation. */
#include <stdlib.h>
#include <string.h>

#include "ops/desc.h"
#include "runtime/error.h"

void cp_attrs_init(cp_attrs *a, int32_t kind, int32_t rank)
{
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->rank = rank;
    for (int i = 0; i < CP_MAX_SPATIAL; i++) {
        a->kernel_shape[i] = 1;
        a->strides[i] = 1;
        a->dilations[i] = 1;
    }
    a->auto_pad = CONVPOOL_AUTO_PAD_NOTSET;
    a->group = 1;
}

const char *cp_op_kind_name(int32_t kind)
{
    switch (kind) {
    case CONVPOOL_OP_CONV: return "Conv";
    case CONVPOOL_OP_MAX_POOL: return "MaxPool";
    case CONVPOOL_OP_AVERAGE_POOL: return "AveragePool";
    case CONVPOOL_OP_GLOBAL_MAX_POOL: return "GlobalMaxPool";
    case CONVPOOL_OP_GLOBAL_AVERAGE_POOL: return "GlobalAveragePool";
    default: return "unknown op";
    }
}

static const char *attr_name(int32_t attr)
{
    switch (attr) {
    case CONVPOOL_ATTR_KERNEL_SHAPE: return "kernel_shape";
    case CONVPOOL_ATTR_STRIDES: return "strides";
    case CONVPOOL_ATTR_DILATIONS: return "dilations";
    case CONVPOOL_ATTR_PADS: return "pads";
    case CONVPOOL_ATTR_AUTO_PAD: return "auto_pad";
    case CONVPOOL_ATTR_GROUP: return "group";
    case CONVPOOL_ATTR_CEIL_MODE: return "ceil_mode";
    case CONVPOOL_ATTR_COUNT_INCLUDE_PAD: return "count_include_pad";
    case CONVPOOL_ATTR_STORAGE_ORDER: return "storage_order";
    default: return NULL;
    }
}

/* Whether op `kind` has attribute `attr` (the table in convpool.h). */
static int attr_applies(int32_t kind, int32_t attr)
{
    int is_conv = kind == CONVPOOL_OP_CONV;
    int is_max = kind == CONVPOOL_OP_MAX_POOL;
    int is_avg = kind == CONVPOOL_OP_AVERAGE_POOL;
    switch (attr) {
    case CONVPOOL_ATTR_KERNEL_SHAPE:
    case CONVPOOL_ATTR_STRIDES:
    case CONVPOOL_ATTR_DILATIONS:
    case CONVPOOL_ATTR_PADS:
    case CONVPOOL_ATTR_AUTO_PAD: return is_conv || is_max || is_avg;
    case CONVPOOL_ATTR_GROUP: return is_conv;
    case CONVPOOL_ATTR_CEIL_MODE: return is_max || is_avg;
    case CONVPOOL_ATTR_COUNT_INCLUDE_PAD: return is_avg;
    case CONVPOOL_ATTR_STORAGE_ORDER: return is_max;
    default: return 0;
    }
}

static convpool_status check_attr(const convpool_desc *desc, int32_t attr, int want_list)
{
    if (!desc)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "descriptor is NULL");
    const char *name = attr_name(attr);
    if (!name)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                       "attribute key %d is not a "
                       "convpool_attr",
                       (int)attr);
    if (!attr_applies(desc->attrs.kind, attr))
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "%s has no attribute %s",
                       cp_op_kind_name(desc->attrs.kind), name);
    int is_list = attr == CONVPOOL_ATTR_KERNEL_SHAPE || attr == CONVPOOL_ATTR_STRIDES ||
                  attr == CONVPOOL_ATTR_DILATIONS || attr == CONVPOOL_ATTR_PADS;
    if (is_list != want_list)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                       "%s is %s attribute: use "
                       "convpool_desc_set_%s() / convpool_desc_get_%s()",
                       name, is_list ? "an ints" : "an int", is_list ? "ints" : "int",
                       is_list ? "ints" : "int");
    return CONVPOOL_OK;
}

convpool_status cp_desc_create(int32_t kind, int32_t spatial_rank, convpool_desc **desc)
{
    if (!desc)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "convpool_desc_create: desc is NULL");
    if (kind < CONVPOOL_OP_CONV || kind > CONVPOOL_OP_GLOBAL_AVERAGE_POOL)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "op kind %d is not a convpool_op_kind",
                       (int)kind);
    if (spatial_rank < 1 || spatial_rank > CP_MAX_SPATIAL)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "spatial rank %d: must be 1, 2 or 3",
                       (int)spatial_rank);
    convpool_desc *d = malloc(sizeof *d);
    if (!d)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a descriptor");
    cp_attrs_init(&d->attrs, kind, spatial_rank);
    *desc = d;
    return CONVPOOL_OK;
}

void cp_desc_destroy(convpool_desc *desc)
{
    free(desc);
}

convpool_status cp_desc_set_ints(convpool_desc *desc, int32_t attr, const int64_t *values,
                                 size_t count)
{
    convpool_status st = check_attr(desc, attr, 1);
    if (st != CONVPOOL_OK)
        return st;
    const char *name = attr_name(attr);
    cp_attrs *a = &desc->attrs;
    size_t want = (size_t)a->rank * (attr == CONVPOOL_ATTR_PADS ? 2 : 1);
    if (count != want)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "%s has %zu values: a %d-D %s needs %zu",
                       name, count, (int)a->rank, cp_op_kind_name(a->kind), want);
    if (!values)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s: values is NULL", name);
    int64_t min = attr == CONVPOOL_ATTR_PADS ? 0 : 1;
    for (size_t i = 0; i < count; i++) {
        if (values[i] < min)
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "%s[%zu] = %lld: %s must be >= %lld",
                           name, i, (long long)values[i], name, (long long)min);
        /* Far beyond any tensor, and keeps all later index arithmetic in range. */
        if (values[i] > (INT64_C(1) << 32))
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "%s[%zu] = %lld: too large", name, i,
                           (long long)values[i]);
    }
    switch (attr) {
    case CONVPOOL_ATTR_KERNEL_SHAPE:
        memcpy(a->kernel_shape, values, count * sizeof *values);
        a->has_kernel_shape = 1;
        break;
    case CONVPOOL_ATTR_STRIDES: memcpy(a->strides, values, count * sizeof *values); break;
    case CONVPOOL_ATTR_DILATIONS: memcpy(a->dilations, values, count * sizeof *values); break;
    default:
        memcpy(a->pads, values, count * sizeof *values);
        a->has_pads = 1;
        break;
    }
    return CONVPOOL_OK;
}

convpool_status cp_desc_set_int(convpool_desc *desc, int32_t attr, int64_t value)
{
    convpool_status st = check_attr(desc, attr, 0);
    if (st != CONVPOOL_OK)
        return st;
    const char *name = attr_name(attr);
    cp_attrs *a = &desc->attrs;
    switch (attr) {
    case CONVPOOL_ATTR_AUTO_PAD:
        if (value < CONVPOOL_AUTO_PAD_NOTSET || value > CONVPOOL_AUTO_PAD_VALID)
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                           "auto_pad = %lld: must be one of "
                           "NOTSET (0), SAME_UPPER (1), SAME_LOWER (2), VALID (3)",
                           (long long)value);
        a->auto_pad = (int32_t)value;
        return CONVPOOL_OK;
    case CONVPOOL_ATTR_GROUP:
        if (value < 1 || value > (INT64_C(1) << 32))
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "group = %lld: must be >= 1",
                           (long long)value);
        a->group = value;
        return CONVPOOL_OK;
    default:
        if (value != 0 && value != 1)
            return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "%s = %lld: must be 0 or 1", name,
                           (long long)value);
        if (attr == CONVPOOL_ATTR_CEIL_MODE)
            a->ceil_mode = (int32_t)value;
        else if (attr == CONVPOOL_ATTR_COUNT_INCLUDE_PAD)
            a->count_include_pad = (int32_t)value;
        else
            a->storage_order = (int32_t)value;
        return CONVPOOL_OK;
    }
}

int32_t cp_desc_kind(const convpool_desc *desc)
{
    return desc ? desc->attrs.kind : 0;
}

int32_t cp_desc_spatial_rank(const convpool_desc *desc)
{
    return desc ? desc->attrs.rank : 0;
}

convpool_status cp_desc_get_ints(const convpool_desc *desc, int32_t attr, int64_t *values,
                                 size_t capacity, size_t *count)
{
    convpool_status st = check_attr(desc, attr, 1);
    if (st != CONVPOOL_OK)
        return st;
    if (!count || (!values && capacity))
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "%s is NULL", !count ? "count" : "values");
    const cp_attrs *a = &desc->attrs;
    const int64_t *src = attr == CONVPOOL_ATTR_KERNEL_SHAPE ? a->kernel_shape
                         : attr == CONVPOOL_ATTR_STRIDES    ? a->strides
                         : attr == CONVPOOL_ATTR_DILATIONS  ? a->dilations
                                                            : a->pads;
    size_t n = (size_t)a->rank * (attr == CONVPOOL_ATTR_PADS ? 2 : 1);
    /* Conv's kernel_shape defaults to W's spatial dims, unknown here. */
    if (attr == CONVPOOL_ATTR_KERNEL_SHAPE && !a->has_kernel_shape)
        n = 0;
    *count = n;
    if (capacity < n)
        return cp_fail(CONVPOOL_ERROR_BUFFER_TOO_SMALL,
                       "%s has %zu values; values has room for "
                       "%zu",
                       attr_name(attr), n, capacity);
    if (n)
        memcpy(values, src, n * sizeof *values);
    return CONVPOOL_OK;
}

convpool_status cp_desc_get_int(const convpool_desc *desc, int32_t attr, int64_t *value)
{
    convpool_status st = check_attr(desc, attr, 0);
    if (st != CONVPOOL_OK)
        return st;
    if (!value)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "value is NULL");
    const cp_attrs *a = &desc->attrs;
    switch (attr) {
    case CONVPOOL_ATTR_AUTO_PAD: *value = a->auto_pad; break;
    case CONVPOOL_ATTR_GROUP: *value = a->group; break;
    case CONVPOOL_ATTR_CEIL_MODE: *value = a->ceil_mode; break;
    case CONVPOOL_ATTR_COUNT_INCLUDE_PAD: *value = a->count_include_pad; break;
    default: *value = a->storage_order; break;
    }
    return CONVPOOL_OK;
}
