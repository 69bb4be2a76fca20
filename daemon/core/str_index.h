/* str_index.h - an open-addressing index of strings held in the caller's array: the batch's
 * accounts (churnwatchd/batch.c) and the backtest's (backtest_replay.c) */
#ifndef CHURNWATCH_STR_INDEX_H
#define CHURNWATCH_STR_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* Zero-initialise. slots[i]: item index + 1, 0 empty; cap a power of two. */
struct cw_str_index {
    uint32_t *slots;
    size_t cap;
};

/* The key of item i of the caller's items. */
typedef const char *(*cw_str_index_key)(const void *items, size_t i);

/*
 * Find s among the n items indexed, growing the index first (rehashing the n items) so it
 * stays at most half full with one more. Returns the item index + 1, or 0 when absent:
 * *slot is then where the item appended as index n is recorded (x->slots[*slot] = n + 1).
 * -1 when out of memory.
 */
long cw_str_index_find(struct cw_str_index *x, const char *s, size_t n, cw_str_index_key key,
                       const void *items, size_t *slot);

/* Empty the index (its room kept). */
void cw_str_index_clear(struct cw_str_index *x);

void cw_str_index_free(struct cw_str_index *x);

#endif /* CHURNWATCH_STR_INDEX_H */
