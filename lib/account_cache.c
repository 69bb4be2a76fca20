/* account_cache.c - the byte-bounded, least-recently-used cache of accounts' state */
#include "churnwatch/account_cache.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_BUCKETS 64

/* One cached value. Unpinned entries are in the LRU list, pinned ones in the pinned list
 * (so eviction never walks past them); both lists start with the most recent. */
struct entry {
    struct entry *hnext;       /* the next entry of the same hash bucket */
    struct entry *prev, *next; /* neighbours in its list */
    void *value;
    size_t bytes; /* charged: the value's bytes and the overhead */
    uint64_t tag;
    uint64_t hash;
    uint32_t pins;
    char id[]; /* NUL-terminated */
};

struct list {
    struct entry *head, *tail;
};

struct cw_cache {
    struct entry **buckets;
    size_t n_buckets; /* a power of two */
    struct list lru, pinned;
    size_t entries, n_pinned, bytes, budget;
    uint64_t hits, misses, evictions;
    cw_cache_free_fn *free_value;
    void *opaque;
};

/* FNV-1a, 64 bits. */
static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

size_t cw_cache_overhead(const char *id)
{
    return sizeof(struct entry) + strlen(id) + 1;
}

static void list_unlink(struct list *l, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_head(struct list *l, struct entry *e)
{
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    else
        l->tail = e;
    l->head = e;
}

/* The link that points to id's entry in its bucket, or the NULL link ending the bucket. */
static struct entry **link_of(const cw_cache *c, const char *id, uint64_t h)
{
    struct entry **link = &c->buckets[h & (c->n_buckets - 1)];
    while (*link && !((*link)->hash == h && strcmp((*link)->id, id) == 0))
        link = &(*link)->hnext;
    return link;
}

static struct entry *find(const cw_cache *c, const char *id)
{
    return *link_of(c, id, hash_id(id));
}

/* Twice the buckets; on failure the chains just get longer. */
static void grow(cw_cache *c)
{
    size_t n = c->n_buckets * 2;
    struct entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        for (struct entry *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
}

static void free_value(cw_cache *c, void *value)
{
    if (c->free_value)
        c->free_value(value, c->opaque);
}

static void release(cw_cache *c, struct entry *e)
{
    struct entry **link = link_of(c, e->id, e->hash);
    *link = e->hnext;
    if (e->pins > 0) {
        list_unlink(&c->pinned, e);
        c->n_pinned--;
    } else {
        list_unlink(&c->lru, e);
    }
    c->bytes -= e->bytes;
    c->entries--;
    free_value(c, e->value);
    free(e);
}

/* Evict the least recently used unpinned entries but keep until the budget holds, or
 * nothing else is left to evict. */
static void evict_but(cw_cache *c, const struct entry *keep)
{
    while (c->bytes > c->budget && c->lru.tail && c->lru.tail != keep) {
        release(c, c->lru.tail);
        c->evictions++;
    }
}

static void evict(cw_cache *c)
{
    evict_but(c, NULL);
}

/* e becomes the most recently used (a pinned entry keeps its place among the pinned). */
static void touch(cw_cache *c, struct entry *e)
{
    if (e->pins == 0) {
        list_unlink(&c->lru, e);
        list_push_head(&c->lru, e);
    }
}

/* Charge e bytes (value) plus its overhead. */
static void charge(cw_cache *c, struct entry *e, size_t bytes)
{
    c->bytes -= e->bytes;
    e->bytes = bytes + cw_cache_overhead(e->id);
    c->bytes += e->bytes;
}

cw_cache *cw_cache_new(size_t budget, cw_cache_free_fn *free_fn, void *opaque)
{
    cw_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->buckets = calloc(FIRST_BUCKETS, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->n_buckets = FIRST_BUCKETS;
    c->budget = budget;
    c->free_value = free_fn;
    c->opaque = opaque;
    return c;
}

void cw_cache_free(cw_cache *c)
{
    if (!c)
        return;
    while (c->lru.head)
        release(c, c->lru.head);
    while (c->pinned.head)
        release(c, c->pinned.head);
    free(c->buckets);
    free(c);
}

void *cw_cache_get(cw_cache *c, const char *id)
{
    struct entry *e = find(c, id);
    if (!e) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    touch(c, e);
    return e->value;
}

void *cw_cache_peek(const cw_cache *c, const char *id)
{
    struct entry *e = find(c, id);
    return e ? e->value : NULL;
}

int cw_cache_put(cw_cache *c, const char *id, void *value, size_t bytes, uint64_t tag)
{
    uint64_t h = hash_id(id);
    struct entry *e = *link_of(c, id, h);
    if (e) {
        if (e->value != value)
            free_value(c, e->value);
        e->value = value;
        touch(c, e);
    } else {
        size_t len = strlen(id);
        e = calloc(1, sizeof *e + len + 1);
        if (!e)
            return -1;
        memcpy(e->id, id, len + 1);
        e->hash = h;
        e->value = value;
        if (c->entries + 1 > c->n_buckets)
            grow(c);
        struct entry **link = &c->buckets[h & (c->n_buckets - 1)];
        e->hnext = *link;
        *link = e;
        list_push_head(&c->lru, e);
        c->entries++;
    }
    e->tag = tag;
    charge(c, e, bytes);
    evict_but(c, e);
    return 0;
}

bool cw_cache_resize(cw_cache *c, const char *id, size_t bytes)
{
    struct entry *e = find(c, id);
    if (!e)
        return false;
    touch(c, e);
    charge(c, e, bytes);
    evict_but(c, e);
    return true;
}

bool cw_cache_pin(cw_cache *c, const char *id)
{
    struct entry *e = find(c, id);
    if (!e)
        return false;
    if (e->pins++ == 0) {
        list_unlink(&c->lru, e);
        list_push_head(&c->pinned, e);
        c->n_pinned++;
    }
    return true;
}

/* The last pin of e released: it becomes the most recently used. */
static void unpinned(cw_cache *c, struct entry *e)
{
    list_unlink(&c->pinned, e);
    list_push_head(&c->lru, e);
    c->n_pinned--;
}

bool cw_cache_unpin(cw_cache *c, const char *id)
{
    struct entry *e = find(c, id);
    if (!e || e->pins == 0)
        return false;
    if (--e->pins == 0) {
        unpinned(c, e);
        evict(c);
    }
    return true;
}

void cw_cache_unpin_all(cw_cache *c)
{
    /* Oldest pin first, so the most recently pinned ends the most recently used. */
    while (c->pinned.tail) {
        struct entry *e = c->pinned.tail;
        e->pins = 0;
        unpinned(c, e);
    }
    evict(c);
}

bool cw_cache_remove(cw_cache *c, const char *id)
{
    struct entry *e = find(c, id);
    if (!e)
        return false;
    release(c, e);
    return true;
}

static size_t remove_tag_from(cw_cache *c, struct list *l, uint64_t tag)
{
    size_t n = 0;
    for (struct entry *e = l->head, *next; e; e = next) {
        next = e->next;
        if (e->tag == tag) {
            release(c, e);
            n++;
        }
    }
    return n;
}

size_t cw_cache_remove_tag(cw_cache *c, uint64_t tag)
{
    return remove_tag_from(c, &c->lru, tag) + remove_tag_from(c, &c->pinned, tag);
}

void cw_cache_set_budget(cw_cache *c, size_t budget)
{
    c->budget = budget;
    evict(c);
}

void cw_cache_get_stats(const cw_cache *c, struct cw_cache_stats *out)
{
    *out = (struct cw_cache_stats){
        .entries = c->entries,
        .pinned = c->n_pinned,
        .bytes = c->bytes,
        .budget = c->budget,
        .hits = c->hits,
        .misses = c->misses,
        .evictions = c->evictions,
    };
}
