/*
 * names.h - a string -> index map (open addressing), so that resolving the
 * names of a large graph stays linear. Keys are borrowed, not copied.
 */
#ifndef CP_ONNX_NAMES_H
#define CP_ONNX_NAMES_H

#include <stddef.h>
#include <stdint.h>

typedef struct cp_names {
    const char **keys;
    int32_t *values;
    size_t capacity; /* a power of two, > 2 * count */
    size_t count;
} cp_names;

/* Room for `expected` names. Returns 0 if out of memory. */
int cp_names_init(cp_names *m, size_t expected);
void cp_names_free(cp_names *m);

/* The index stored for `key`, or -1. */
int32_t cp_names_find(const cp_names *m, const char *key);

/* Stores key -> value; returns 0 if the key is already present (nothing
 * changed). The map never fills up: init sized it for `expected` names and
 * callers add at most that many. */
int cp_names_add(cp_names *m, const char *key, int32_t value);

#endif
