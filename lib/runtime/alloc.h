/*
 * alloc.h - the library's only heap allocator. Every allocation the library
 * makes goes through here, so that one place counts them (an op's packed
 * weights are measured this way) and one test hook can make any of them
 * fail (tests/onnx/test_alloc_fail.c drives it).
 */
#ifndef CP_RUNTIME_ALLOC_H
#define CP_RUNTIME_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define CP_ALIGNMENT 64

/* bytes rounded up to a multiple of CP_ALIGNMENT: the offset of the next
 * part of a workspace carved into aligned parts. */
static inline size_t cp_align_up(size_t bytes)
{
    return (bytes + CP_ALIGNMENT - 1) & ~(size_t)(CP_ALIGNMENT - 1);
}

/* 64-byte aligned, so that packed weights, workspaces, arenas and tensor
 * data suit every SIMD width. NULL on failure or for size 0; the caller
 * reports OUT_OF_MEMORY. */
void *cp_alloc(size_t size);
void *cp_calloc(size_t count, size_t size);

/* malloc's alignment, for bookkeeping (handles, arrays of indices, names):
 * no 64-byte rounding for many small blocks. Size 0 gives a valid block.
 * NULL on failure (or count * size overflow). */
void *cp_malloc(size_t size);
void *cp_zalloc(size_t count, size_t size);
char *cp_strdup(const char *s);
char *cp_strndup(const char *s, size_t n);

/* The limit a model loaded with memory_limit 0 gets (convpool.h:
 * convpool_default_memory_limit). */
size_t cp_default_memory_limit(void);

/* Frees what any of the above returned (NULL-safe). */
void cp_free(void *p);

/* Bytes this thread has obtained from the allocator so far: the difference
 * across a call is what the call allocated (e.g. an op's packed weights). */
size_t cp_alloc_thread_total(void);

/*
 * Fault injection for tests (not exported): after cp_alloc_test_arm(k),
 * allocations are counted from zero across all threads and the k-th one
 * fails (k = 1: the next one; k = UINT64_MAX: none, only counting).
 * cp_alloc_test_arm(0) disarms. cp_alloc_test_calls() is the number of
 * allocations attempted since arming; cp_alloc_test_fired() whether the
 * k-th was reached. cp_alloc_test_live() is the number of blocks handed
 * out and not yet freed (always kept), so a test can see a leak at once.
 */
void cp_alloc_test_arm(uint64_t k);
uint64_t cp_alloc_test_calls(void);
int cp_alloc_test_fired(void);
long long cp_alloc_test_live(void);

#endif
