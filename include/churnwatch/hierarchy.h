/* hierarchy.h - account hierarchies: a parent's score rolled up from its children's, and the
 * check of a parent map for cycles and over-deep trees (docs/hierarchies.md) */
#ifndef CHURNWATCH_HIERARCHY_H
#define CHURNWATCH_HIERARCHY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

/* The deepest hierarchy.max_depth the config accepts. */
#define CW_HIERARCHY_DEPTH_LIMIT 16
/* The most children `churnwatch account` reads of one parent. */
#define CW_HIERARCHY_MAX_CHILDREN 1000

/* One child as the roll-up sees it. */
struct cw_rollup_child {
    bool has_score; /* false: too little data; skipped */
    double score;   /* 0..100 */
    bool has_seats; /* false, or 0 seats: weighs 1 in seat_weighted_mean */
    int64_t seats;
};

/* A parent's children as its rules see them (docs/hierarchies.md "Parent rules"): the
 * children found, in id order, at most CW_HIERARCHY_MAX_CHILDREN; nothing here is owned. */
struct cw_children {
    size_t n;
    const char *const *ids;              /* [n] */
    const struct cw_rollup_child *child; /* [n] */
    size_t left_out;                     /* children past the bound, not read */
};

/*
 * c's children with a score below `below`, lowest score first and equal scores by id (the
 * order a parent rule names them in its reason and its alert): a malloc'd array of the
 * indexes into c of all *n of them, which the caller frees, or NULL when out of memory.
 */
size_t *cw_children_below(const struct cw_children *c, double below, size_t *n);

/*
 * The parent's score rolled up from its n children by how: their mean, their mean weighted
 * by seats, or their minimum, over the children with a score. Returns true and sets *out,
 * or false (and leaves *out alone) when no child has a score, n == 0 included.
 */
bool cw_rollup(enum cw_rollup how, const struct cw_rollup_child *children, size_t n, double *out);

/* One edge of a parent map: child's parent_id trait. */
struct cw_parent_link {
    const char *child;
    const char *parent; /* "" or NULL: child has no parent */
};

/*
 * Check a parent map of n links (at most one per child) without ever looping: every walk up
 * from an account ends at an account without a parent within max_depth steps. Returns 0, or
 * -1 with err naming the accounts at the first problem found, in the order of links:
 *   "parent_id cycle: a -> b -> c -> a" (an account its own parent: "a -> a"),
 *   "d is 5 levels below r (d -> c -> b -> a -> r), deeper than hierarchy.max_depth 4",
 *   "account a has two parents: b and c",
 * or "out of memory". The time is O(n log n) whatever the map; max_depth is taken within
 * 1..CW_HIERARCHY_DEPTH_LIMIT.
 */
int cw_hierarchy_check(const struct cw_parent_link *links, size_t n, unsigned max_depth, char *err,
                       size_t errsize);

/* What cw_hierarchy_edge_check knows of one account's parent. */
typedef const char *(*cw_parent_lookup_fn)(void *ctx, const char *id, bool *known);

/*
 * Whether the edge child -> parent (a traits event's parent_id) may join a parent map that
 * lookup reads: lookup(ctx, id, &known) returns id's parent ("" or NULL: none) and sets
 * known, false when the map must be read first. Walks up from parent at most max_depth
 * steps (taken within 1..CW_HIERARCHY_DEPTH_LIMIT), so it never loops. Returns
 *   0  the edge closes no cycle and leaves child within max_depth levels below its top;
 *   1  *need is the account whose parent must be looked up before deciding;
 *  -1  err as cw_hierarchy_check words it (a cycle through child or above it, or too deep:
 *      "parent_id cycle: a -> b -> a", "a is 5 levels below r (a -> ... -> r), deeper than
 *      hierarchy.max_depth 4"), or "out of memory".
 * Only the chain above child is judged: the accounts below child are not read. A parent
 * "" or NULL (a detach) is always 0.
 */
int cw_hierarchy_edge_check(const char *child, const char *parent, unsigned max_depth,
                            cw_parent_lookup_fn lookup, void *ctx, const char **need, char *err,
                            size_t errsize);

/* What cw_hierarchy_subtree_check knows of one account's children: lookup(ctx, id, &n,
 * &known) returns the n accounts whose parent is id (nothing owned) and sets known, false
 * when they must be read first. */
typedef const char *const *(*cw_children_lookup_fn)(void *ctx, const char *id, size_t *n,
                                                    bool *known);

/* The most accounts below one account that cw_hierarchy_subtree_check walks. */
#define CW_HIERARCHY_SUBTREE_MAX 4096

/*
 * cw_hierarchy_edge_check, then the accounts below child: whether every one of them stays
 * within max_depth levels below its top once child is under parent. Walks down from child
 * level by level (each account once, so a cycle below cannot loop), never deeper than the
 * first account too deep. Returns
 *   0  the edge may join (also when more than CW_HIERARCHY_SUBTREE_MAX accounts are below
 *      child: not judged below), or parent is "" or NULL (a detach);
 *   1  *need is set: an account whose parent must be looked up (parents), or, when the
 *      walk down met accounts whose children were unknown, one of them (children was told
 *      of every one of that level: read them all, then call again);
 *  -1  err as cw_hierarchy_edge_check words it, or "x would be 5 levels below r (x -> y ->
 *      child -> p -> r), deeper than hierarchy.max_depth 4", or "out of memory".
 */
int cw_hierarchy_subtree_check(const char *child, const char *parent, unsigned max_depth,
                               cw_parent_lookup_fn parents, cw_children_lookup_fn children,
                               void *ctx, const char **need, char *err, size_t errsize);

#endif /* CHURNWATCH_HIERARCHY_H */
