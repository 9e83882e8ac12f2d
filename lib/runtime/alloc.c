#include "runtime/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/checked.h"

static _Thread_local size_t thread_total;

/* The test hook: 0 when disarmed, so the normal path costs one relaxed load. */
static atomic_uint_fast64_t fail_at;
static atomic_uint_fast64_t calls;
/* Blocks handed out and not yet freed, for the tests' leak checks. */
static atomic_llong live;

/* Whether this allocation is the one the test hook makes fail. */
static int injected_failure(void)
{
    uint64_t k = atomic_load_explicit(&fail_at, memory_order_relaxed);
    if (k == 0)
        return 0;
    return atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1 == k;
}

void cp_alloc_test_arm(uint64_t k)
{
    atomic_store(&calls, 0);
    atomic_store(&fail_at, k);
}

uint64_t cp_alloc_test_calls(void)
{
    return atomic_load(&calls);
}

long long cp_alloc_test_live(void)
{
    return atomic_load(&live);
}

int cp_alloc_test_fired(void)
{
    uint64_t k = atomic_load(&fail_at);
    return k != 0 && atomic_load(&calls) >= k;
}

void *cp_alloc(size_t size)
{
    if (size == 0)
        return NULL;
    size_t rounded;
    if (!cp_add_size(size, CP_ALIGNMENT - 1, &rounded) || injected_failure())
        return NULL;
    rounded &= ~(size_t)(CP_ALIGNMENT - 1);
    void *p = aligned_alloc(CP_ALIGNMENT, rounded);
    if (p) {
        thread_total += rounded;
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    }
    return p;
}

size_t cp_alloc_thread_total(void)
{
    return thread_total;
}

/* count * size zeroed bytes from `take` (cp_alloc or cp_malloc). */
static void *zeroed(void *(*take)(size_t), size_t count, size_t size)
{
    size_t bytes;
    if (!cp_mul_size(count, size, &bytes))
        return NULL;
    void *p = take(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *cp_calloc(size_t count, size_t size)
{
    return zeroed(cp_alloc, count, size);
}

void *cp_malloc(size_t size)
{
    if (injected_failure())
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p) {
        thread_total += size;
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    }
    return p;
}

void *cp_zalloc(size_t count, size_t size)
{
    return zeroed(cp_malloc, count, size);
}

char *cp_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = cp_malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

char *cp_strdup(const char *s)
{
    return cp_strndup(s, SIZE_MAX);
}

void cp_free(void *p)
{
    if (p)
        atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    free(p);
}

/* Half the physical memory: a file of a few bytes cannot make a load or a
 * run take the machine, and any model that fits in memory with room for
 * the rest of the system still loads. 1 GiB where the size is unknown. */
size_t cp_default_memory_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return (size_t)1 << 30;
    size_t total;
    if (!cp_mul_size((size_t)pages, (size_t)page, &total))
        return SIZE_MAX / 2;
    return total / 2;
}
