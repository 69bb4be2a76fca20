/* account_cache.h - a byte-bounded cache of accounts' in-memory state, least recently used out */
#ifndef CHURNWATCH_ACCOUNT_CACHE_H
#define CHURNWATCH_ACCOUNT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The memory of an owner of partitions (docs/design.md "Account state in memory"): values
 * keyed by account id, each charged its size (the value's bytes as the caller reports them,
 * plus the cache's own overhead for the entry and the id). Whenever the total exceeds the
 * budget, the least recently used entries are evicted (their values freed) until it fits.
 * A pinned entry (one a batch in flight works on) is never evicted; while pins hold the
 * total above the budget, the excess is evicted as soon as they are released. Each entry
 * carries a tag (e.g. the partition it came from) so that everything of a revoked
 * partition can be dropped at once. A value got or put stays valid until the next call
 * that may evict (put, resize, unpin, unpin_all, set_budget) unless it is pinned. Not
 * thread-safe; no clock: "recent" is the order of calls.
 */
typedef struct cw_cache cw_cache;

/* Frees a value leaving the cache (evicted, replaced, removed, or the cache freed). */
typedef void cw_cache_free_fn(void *value, void *opaque);

struct cw_cache_stats {
    size_t entries, pinned; /* pinned: entries with at least one pin */
    size_t bytes, budget;   /* bytes charged now (values and overhead), and the budget */
    uint64_t hits, misses;  /* cw_cache_get calls that found a value, and those that did not */
    uint64_t evictions;     /* entries evicted to stay within the budget */
};

/* Bytes charged for an entry beyond its value: the entry and the id (and its NUL). */
size_t cw_cache_overhead(const char *id);

/* A cache of at most budget bytes; free_value (may be NULL) is called with opaque. NULL
 * when out of memory. */
cw_cache *cw_cache_new(size_t budget, cw_cache_free_fn *free_value, void *opaque);

/* Free every value and the cache. NULL: no-op. */
void cw_cache_free(cw_cache *c);

/* The value of id, made the most recently used (a hit), or NULL (a miss). */
void *cw_cache_get(cw_cache *c, const char *id);

/* The value of id without counting a hit or a miss or changing the order, or NULL. */
void *cw_cache_peek(const cw_cache *c, const char *id);

/*
 * Store value (bytes large, tagged tag) as id's, the most recently used; a value id had is
 * freed unless it is value itself (its pins are kept). Then evicts other entries as the
 * budget requires (never this one, even when it alone exceeds the budget: the next call
 * that evicts will, unless it is pinned). 0, or -1 when out of memory (value not taken:
 * the caller still owns it).
 */
int cw_cache_put(cw_cache *c, const char *id, void *value, size_t bytes, uint64_t tag);

/* id's value now takes bytes (it grew or shrank in place), and is the most recently used;
 * evicts other entries as the budget requires. False when id is not cached. */
bool cw_cache_resize(cw_cache *c, const char *id, size_t bytes);

/* Pin id (pins nest) / release one pin, the entry then becoming the most recently used.
 * False when id is not cached (or, for unpin, not pinned). */
bool cw_cache_pin(cw_cache *c, const char *id);
bool cw_cache_unpin(cw_cache *c, const char *id);

/* Release every pin (the end of a batch), then evict as the budget requires. */
void cw_cache_unpin_all(cw_cache *c);

/* Remove id (pinned or not), freeing its value. False when id is not cached. */
bool cw_cache_remove(cw_cache *c, const char *id);

/* Remove every entry tagged tag (pinned or not), freeing the values; how many. */
size_t cw_cache_remove_tag(cw_cache *c, uint64_t tag);

/* A new budget (evicting at once when it is lower than the bytes charged). */
void cw_cache_set_budget(cw_cache *c, size_t budget);

void cw_cache_get_stats(const cw_cache *c, struct cw_cache_stats *out);

#endif /* CHURNWATCH_ACCOUNT_CACHE_H */
