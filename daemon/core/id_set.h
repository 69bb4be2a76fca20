/* id_set.h - a bounded set of account ids, emptied at once: the accounts a batch scored
 * since a sweep cycle began (churnwatchd/sweep.c), which that cycle need not score again */
#ifndef CHURNWATCH_ID_SET_H
#define CHURNWATCH_ID_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "str_index.h"

/* Zero-initialise, then cw_id_set_init. */
struct cw_id_set {
    struct cw_arena arena; /* the ids' text */
    struct cw_str_index index;
    const char **ids;
    size_t n, cap, max;
};

/* Hold at most max ids. */
void cw_id_set_init(struct cw_id_set *s, size_t max);

/* Add id: 1 added, 0 already there, -1 not added (the set is full, or out of memory; a
 * set that cannot hold an id only answers "absent" for it). */
int cw_id_set_add(struct cw_id_set *s, const char *id);

bool cw_id_set_has(struct cw_id_set *s, const char *id);

/* Forget every id (the memory is kept for the next ones). */
void cw_id_set_clear(struct cw_id_set *s);

void cw_id_set_free(struct cw_id_set *s);

#endif /* CHURNWATCH_ID_SET_H */
