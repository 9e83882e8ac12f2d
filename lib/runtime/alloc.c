#include "runtime/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/checked.h"

static _Thread_local size_t thread_total;

void *cp_alloc(size_t size)
{
    if (size == 0)
        return NULL;
    size_t rounded;
    if (!cp_add_size(size, CP_ALIGNMENT - 1, &rounded))
        return NULL;
    rounded &= ~(size_t)(CP_ALIGNMENT - 1);
    void *p = aligned_alloc(CP_ALIGNMENT, rounded);
    if (p)
        thread_total += rounded;
    return p;
}

size_t cp_alloc_thread_total(void)
{
    return thread_total;
}

void *cp_calloc(size_t count, size_t size)
{
    size_t bytes;
    if (!cp_mul_size(count, size, &bytes))
        return NULL;
    void *p = cp_alloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void cp_free(void *p)
{
    free(p);
}
