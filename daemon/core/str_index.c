/* str_index.c - an open-addressing index of strings held in the caller's array
 * (str_index.h) */
#include "str_index.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

static int grow(struct cw_str_index *x, size_t n, cw_str_index_key key, const void *items)
{
    size_t cap = x->cap ? x->cap * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t k = 0; k < n; k++) {
        size_t i = cw_str_hash(key(items, k)) & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = (uint32_t)k + 1;
    }
    free(x->slots);
    x->slots = slots;
    x->cap = cap;
    return 0;
}

long cw_str_index_find(struct cw_str_index *x, const char *s, size_t n, cw_str_index_key key,
                       const void *items, size_t *slot)
{
    if (2 * (n + 1) > x->cap && grow(x, n, key, items) < 0)
        return -1;
    size_t mask = x->cap - 1;
    size_t i = cw_str_hash(s) & mask;
    for (; x->slots[i]; i = (i + 1) & mask)
        if (strcmp(key(items, x->slots[i] - 1), s) == 0)
            return (long)x->slots[i];
    *slot = i;
    return 0;
}

void cw_str_index_clear(struct cw_str_index *x)
{
    if (x->slots)
        memset(x->slots, 0, x->cap * sizeof *x->slots);
}

void cw_str_index_free(struct cw_str_index *x)
{
    free(x->slots);
    x->slots = NULL;
    x->cap = 0;
}
