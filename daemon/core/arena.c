/* arena.c - a bump allocator whose allocations never move, released all at once */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN (1u << 20)

struct cw_arena_block {
    struct cw_arena_block *older;
    size_t size, fill;
    alignas(max_align_t) unsigned char data[];
};

void *cw_arena_alloc(struct cw_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    struct cw_arena_block *b = a->head;
    if (!b || b->size - b->fill < size) {
        size_t cap = size > BLOCK_MIN ? size : BLOCK_MIN;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->older = a->head;
        b->size = cap;
        b->fill = 0;
        a->head = b;
    }
    void *p = b->data + b->fill;
    b->fill += size;
    a->used += size;
    return p;
}

char *cw_arena_strndup(struct cw_arena *a, const char *s, size_t len)
{
    char *p = cw_arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void cw_arena_reset(struct cw_arena *a)
{
    if (!a->head)
        return;
    struct cw_arena_block *b = a->head->older;
    while (b) {
        struct cw_arena_block *older = b->older;
        free(b);
        b = older;
    }
    a->head->older = NULL;
    a->head->fill = 0;
    a->used = 0;
}

void cw_arena_free(struct cw_arena *a)
{
    cw_arena_reset(a);
    free(a->head);
    a->head = NULL;
}
