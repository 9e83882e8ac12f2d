#include "onnx/names.h"

#include <string.h>

#include "runtime/alloc.h"

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

int cp_names_init(cp_names *m, size_t expected)
{
    size_t cap = 16;
    while (cap < 2 * expected + 1) {
        if (cap > SIZE_MAX / 4)
            return 0;
        cap *= 2;
    }
    m->keys = cp_zalloc(cap, sizeof *m->keys);
    m->values = cp_zalloc(cap, sizeof *m->values);
    m->capacity = cap;
    m->count = 0;
    if (!m->keys || !m->values) {
        cp_names_free(m);
        return 0;
    }
    return 1;
}

void cp_names_free(cp_names *m)
{
    cp_free(m->keys);
    cp_free(m->values);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const cp_names *m, const char *key)
{
    size_t i = hash(key) & (m->capacity - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->capacity - 1);
    return i;
}

int32_t cp_names_find(const cp_names *m, const char *key)
{
    size_t i = slot_of(m, key);
    return m->keys[i] ? m->values[i] : -1;
}

int cp_names_add(cp_names *m, const char *key, int32_t value)
{
    size_t i = slot_of(m, key);
    if (m->keys[i])
        return 0;
    m->keys[i] = key;
    m->values[i] = value;
    m->count++;
    return 1;
}
