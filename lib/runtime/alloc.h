/*
 * alloc.h - the library's only heap allocator: 64-byte aligned, so that
 * packed weights and workspaces suit every SIMD width.
 */
#ifndef CP_RUNTIME_ALLOC_H
#define CP_RUNTIME_ALLOC_H

#include <stddef.h>

#define CP_ALIGNMENT 64

/* NULL on failure or for size 0; the caller reports OUT_OF_MEMORY. */
void *cp_alloc(size_t size);
void *cp_calloc(size_t count, size_t size);
void cp_free(void *p);

/* Bytes this thread has obtained from cp_alloc() so far: the difference
 * across a call is what the call allocated (e.g. an op's packed weights). */
size_t cp_alloc_thread_total(void);

#endif
