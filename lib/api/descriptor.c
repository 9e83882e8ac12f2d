/* Public calls for op descriptors: kind, spatial rank and ONNX attributes.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "ops/desc.h"

CONVPOOL_API convpool_status convpool_desc_create(int32_t kind, int32_t spatial_rank,
                                                  convpool_desc **desc)
{
    return cp_desc_create(kind, spatial_rank, desc);
}

CONVPOOL_API void convpool_desc_destroy(convpool_desc *desc)
{
    cp_desc_destroy(desc);
}

CONVPOOL_API convpool_status convpool_desc_set_ints(convpool_desc *desc, int32_t attr,
                                                    const int64_t *values, size_t count)
{
    return cp_desc_set_ints(desc, attr, values, count);
}

CONVPOOL_API convpool_status convpool_desc_set_int(convpool_desc *desc, int32_t attr, int64_t value)
{
    return cp_desc_set_int(desc, attr, value);
}

CONVPOOL_API int32_t convpool_desc_kind(const convpool_desc *desc)
{
    return cp_desc_kind(desc);
}

CONVPOOL_API int32_t convpool_desc_spatial_rank(const convpool_desc *desc)
{
    return cp_desc_spatial_rank(desc);
}

CONVPOOL_API convpool_status convpool_desc_get_ints(const convpool_desc *desc, int32_t attr,
                                                    int64_t *values, size_t capacity, size_t *count)
{
    return cp_desc_get_ints(desc, attr, values, capacity, count);
}

CONVPOOL_API convpool_status convpool_desc_get_int(const convpool_desc *desc, int32_t attr,
                                                   int64_t *value)
{
    return cp_desc_get_int(desc, attr, value);
}
