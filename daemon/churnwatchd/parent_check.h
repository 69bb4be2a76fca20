/* parent_check.h - the parent_id edges a batch brings, checked against the stored hierarchy
 * before they are applied: no cycle, no tree deeper than hierarchy.max_depth
 * (docs/hierarchies.md "Cycles and depth") */
#ifndef CHURNWATCHD_PARENT_CHECK_H
#define CHURNWATCHD_PARENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* One traits event's parent_id: the edge account -> parent. */
struct cw_parent_claim {
    const char *account, *parent;
    bool rejected;    /* out */
    char reason[200]; /* out, when rejected: as cw_hierarchy_subtree_check words it */
};

/*
 * Decide each of the n claims in order: the claims accepted before one count as edges of
 * the map it is judged against, over the parents stored in st (read as needed, pipelined,
 * never more than max_depth levels above an account) and, below the claim's account, the
 * children its stored index (`:c`) and the claims before name (a level of the walk down
 * read at a time; cw_hierarchy_subtree_check). A detach (parent "") is always accepted.
 * 0, or -1 with err on a store error (nothing decided: call again).
 */
int cw_parent_check(cw_store *st, unsigned max_depth, struct cw_parent_claim *claims, size_t n,
                    char *err, size_t errsize);

#endif /* CHURNWATCHD_PARENT_CHECK_H */
