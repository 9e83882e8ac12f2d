/*
 * checked.h - size arithmetic that reports overflow instead of wrapping.
 * Every size derived from caller or model data goes through these.
 */
#ifndef CP_RUNTIME_CHECKED_H
#define CP_RUNTIME_CHECKED_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 1 and stores the result on success, 0 on overflow. */
static inline int cp_mul_i64(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

static inline int cp_add_i64(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

static inline int cp_mul_size(size_t a, size_t b, size_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

static inline int cp_add_size(size_t a, size_t b, size_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

/* Product of `rank` non-negative dims as an element count that also fits
 * size_t bytes of `elem_size`; 0 on overflow or a negative dim. */
static inline int cp_element_count(const int64_t *dims, size_t rank, size_t elem_size,
                                   int64_t *count)
{
    int64_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0 || !cp_mul_i64(n, dims[i], &n))
            return 0;
    }
    size_t bytes;
    if ((uint64_t)n > SIZE_MAX || !cp_mul_size((size_t)n, elem_size, &bytes))
        return 0;
    *count = n;
    return 1;
}

#endif
