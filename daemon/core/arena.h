/* arena.h - a bump allocator whose allocations never move, released all at once */
#ifndef CHURNWATCH_ARENA_H
#define CHURNWATCH_ARENA_H

#include <stddef.h>

struct cw_arena_block;

/* Zero-initialise; allocations stay where they are until cw_arena_reset or _free. */
struct cw_arena {
    struct cw_arena_block *head; /* the block being filled; older ones behind it */
    size_t used;                 /* bytes handed out since the last reset */
};

/* size bytes aligned for any type, or NULL when out of memory. */
void *cw_arena_alloc(struct cw_arena *a, size_t size);

/* A NUL-terminated copy of s[0..len), or NULL when out of memory. */
char *cw_arena_strndup(struct cw_arena *a, const char *s, size_t len);

/* Forget every allocation; the newest block is kept for reuse, the others are freed. */
void cw_arena_reset(struct cw_arena *a);

/* Release everything (the arena may be used again afterwards). */
void cw_arena_free(struct cw_arena *a);

#endif /* CHURNWATCH_ARENA_H */
