/* test_account_cache.c - the byte-bounded LRU cache: order, budget, pins, tags, a model check */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/account_cache.h"

/* Values are heap ints holding a serial; freeing one records it. */
struct frees {
    int live;         /* values handed to the cache and not freed yet */
    int last;         /* serial of the last value freed */
    int count[32768]; /* frees per serial (each must be 0 or 1) */
};

static void free_int(void *value, void *opaque)
{
    struct frees *f = opaque;
    int serial = *(int *)value;
    cr_assert(serial >= 0 && serial < 32768);
    f->count[serial]++;
    cr_assert_eq(f->count[serial], 1, "value %d freed twice", serial);
    f->last = serial;
    f->live--;
    free(value);
}

static int *val(struct frees *f, int serial)
{
    cr_assert(serial >= 0 && serial < 32768);
    int *v = malloc(sizeof *v);
    cr_assert_not_null(v);
    *v = serial;
    f->live++;
    return v;
}

/* A budget for exactly n entries of 100 value bytes with ids of one character. */
static size_t room_for(int n)
{
    return (size_t)n * (100 + cw_cache_overhead("a"));
}

static bool has(const cw_cache *c, const char *id)
{
    return cw_cache_peek(c, id) != NULL;
}

Test(account_cache, least_recently_used_goes_first)
{
    struct frees f = {0};
    cw_cache *c = cw_cache_new(room_for(3), free_int, &f);
    cr_assert_eq(cw_cache_put(c, "a", val(&f, 1), 100, 0), 0);
    cr_assert_eq(cw_cache_put(c, "b", val(&f, 2), 100, 0), 0);
    cr_assert_eq(cw_cache_put(c, "c", val(&f, 3), 100, 0), 0);
    cr_assert_eq(*(int *)cw_cache_get(c, "a"), 1); /* a is now more recent than b and c */
    cr_assert_eq(cw_cache_put(c, "d", val(&f, 4), 100, 0), 0);
    cr_assert(has(c, "a") && !has(c, "b") && has(c, "c") && has(c, "d"));
    cr_assert_eq(f.last, 2, "b's value freed");
    cr_assert_null(cw_cache_get(c, "b"));
    struct cw_cache_stats s;
    cw_cache_get_stats(c, &s);
    cr_assert_eq(s.entries, 3);
    cr_assert_eq(s.bytes, room_for(3));
    cr_assert_eq(s.evictions, 1);
    cr_assert_eq(s.hits, 1);
    cr_assert_eq(s.misses, 1);
    cw_cache_free(c);
    cr_assert_eq(f.live, 0, "%d values not freed", f.live);
}

Test(account_cache, pinned_entries_stay_and_go_once_released)
{
    struct frees f = {0};
    cw_cache *c = cw_cache_new(room_for(2), free_int, &f);
    cw_cache_put(c, "a", val(&f, 1), 100, 0);
    cr_assert(cw_cache_pin(c, "a"));
    cr_assert(cw_cache_pin(c, "a")); /* pins nest */
    for (int i = 0; i < 5; i++) {
        char id[2] = {(char)('b' + i), 0};
        cw_cache_put(c, id, val(&f, 2 + i), 100, 0);
    }
    cr_assert(has(c, "a"), "a pinned entry was evicted");
    cr_assert(has(c, "f") && !has(c, "b"));
    /* Pins over the budget: a, f and g pinned, 3 entries for a budget of 2. */
    cr_assert(cw_cache_pin(c, "f"));
    cw_cache_put(c, "g", val(&f, 7), 100, 0);
    cr_assert(cw_cache_pin(c, "g"));
    struct cw_cache_stats s;
    cw_cache_get_stats(c, &s);
    cr_assert_eq(s.entries, 3);
    cr_assert_eq(s.pinned, 3);
    cr_assert_gt(s.bytes, s.budget);
    cr_assert(cw_cache_unpin(c, "a"));
    cr_assert(has(c, "a"), "one pin of two released and a was evicted");
    cr_assert_not(cw_cache_unpin(c, "zz"));
    cw_cache_unpin_all(c); /* order of pinning: a, then f, then g is the most recent */
    cr_assert(!has(c, "a") && has(c, "f") && has(c, "g"));
    cr_assert_not(cw_cache_unpin(c, "f"), "unpin of an entry not pinned");
    cw_cache_get_stats(c, &s);
    cr_assert_eq(s.pinned, 0);
    cr_assert_leq(s.bytes, s.budget);
    cw_cache_free(c);
    cr_assert_eq(f.live, 0);
}

Test(account_cache, replacing_frees_the_old_value_and_keeps_pins)
{
    struct frees f = {0};
    cw_cache *c = cw_cache_new(room_for(2), free_int, &f);
    cw_cache_put(c, "a", val(&f, 1), 100, 0);
    cw_cache_pin(c, "a");
    cw_cache_put(c, "a", val(&f, 2), 100, 0);
    cr_assert_eq(f.last, 1);
    int *same = cw_cache_get(c, "a");
    cw_cache_put(c, "a", same, 100, 0); /* the same value again: not freed */
    cr_assert_eq(f.count[2], 0);
    cw_cache_put(c, "b", val(&f, 3), 100, 0);
    cw_cache_put(c, "c", val(&f, 4), 100, 0);
    cr_assert(has(c, "a"), "the pin did not survive the replacement");
    cw_cache_free(c);
    cr_assert_eq(f.live, 0);
}

Test(account_cache, an_entry_over_the_budget_stays_until_the_next_eviction)
{
    struct frees f = {0};
    cw_cache *c = cw_cache_new(room_for(2), free_int, &f);
    cw_cache_put(c, "a", val(&f, 1), 100, 0);
    cw_cache_put(c, "b", val(&f, 2), 10000, 0);
    cr_assert(has(c, "b") && !has(c, "a"), "the value just put was evicted");
    cw_cache_put(c, "c", val(&f, 3), 100, 0);
    cr_assert(!has(c, "b") && has(c, "c"));
    /* Growing in place makes it the most recent and evicts the others. */
    cw_cache_put(c, "d", val(&f, 4), 100, 0);
    cr_assert(cw_cache_resize(c, "c", 100), "c not cached");
    cr_assert(has(c, "c") && has(c, "d"), "a resize to the same size evicted");
    cr_assert(cw_cache_resize(c, "d", 101));
    cr_assert(has(c, "d") && !has(c, "c"));
    cr_assert_not(cw_cache_resize(c, "nope", 1));
    cw_cache_set_budget(c, 0);
    cr_assert_not(has(c, "d"));
    struct cw_cache_stats st;
    cw_cache_get_stats(c, &st);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.bytes, 0);
    cw_cache_free(c);
    cr_assert_eq(f.live, 0);
}

Test(account_cache, a_tag_removes_its_entries_pinned_or_not)
{
    struct frees f = {0};
    cw_cache *c = cw_cache_new(room_for(100), free_int, &f);
    for (int i = 0; i < 60; i++) {
        char id[24];
        snprintf(id, sizeof id, "acct%d", i);
        cr_assert_eq(cw_cache_put(c, id, val(&f, i), 100, (uint64_t)(i % 3)), 0);
        if (i % 2 == 0)
            cw_cache_pin(c, id);
    }
    cr_assert_eq(cw_cache_remove_tag(c, 1), 20);
    for (int i = 0; i < 60; i++) {
        char id[24];
        snprintf(id, sizeof id, "acct%d", i);
        cr_assert_eq(has(c, id), i % 3 != 1, "%s", id);
    }
    cr_assert(cw_cache_remove(c, "acct0"));
    cr_assert_not(cw_cache_remove(c, "acct0"));
    struct cw_cache_stats s;
    cw_cache_get_stats(c, &s);
    cr_assert_eq(s.entries, 39);
    cr_assert_eq(s.pinned, 19); /* even i, i % 3 != 1, but acct0 */
    cw_cache_free(c);
    cr_assert_eq(f.live, 0);
}

/* ---- the cache against a model: a list with stamps, the lowest unpinned stamp evicted */

#define IDS 40

struct model_entry {
    bool present;
    size_t bytes; /* charged */
    uint64_t tag;
    int pins;
    long stamp;     /* recency among unpinned entries */
    long pin_stamp; /* when its first pin came */
};

struct model {
    struct model_entry e[IDS];
    size_t budget, bytes;
    long now;
    uint64_t evictions;
};

static void model_evict(struct model *m, int keep)
{
    while (m->bytes > m->budget) {
        int lru = -1;
        for (int i = 0; i < IDS; i++)
            if (m->e[i].present && m->e[i].pins == 0 && i != keep &&
                (lru < 0 || m->e[i].stamp < m->e[lru].stamp))
                lru = i;
        if (lru < 0)
            return;
        m->e[lru].present = false;
        m->bytes -= m->e[lru].bytes;
        m->evictions++;
    }
}

static uint32_t next_rand(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

Test(account_cache, agrees_with_a_model_over_random_operations)
{
    struct frees f = {0};
    struct model m = {.budget = room_for(12)};
    cw_cache *c = cw_cache_new(m.budget, free_int, &f);
    char ids[IDS][24];
    for (int i = 0; i < IDS; i++)
        snprintf(ids[i], sizeof ids[i], "id-%d", i);
    uint32_t seed = 20261204;
    int serial = 0;
    for (int step = 0; step < 20000; step++) {
        int i = (int)(next_rand(&seed) % IDS);
        struct model_entry *e = &m.e[i];
        uint32_t op = next_rand(&seed) % 100;
        if (op < 35) { /* get */
            bool hit = cw_cache_get(c, ids[i]) != NULL;
            cr_assert_eq(hit, e->present, "step %d: get %s", step, ids[i]);
            if (e->present && e->pins == 0)
                e->stamp = ++m.now;
        } else if (op < 65) { /* put */
            size_t bytes = 50 + next_rand(&seed) % 200;
            uint64_t tag = next_rand(&seed) % 4;
            cr_assert_eq(cw_cache_put(c, ids[i], val(&f, serial++), bytes, tag), 0);
            if (e->present)
                m.bytes -= e->bytes;
            e->present = true;
            e->bytes = bytes + cw_cache_overhead(ids[i]);
            e->tag = tag;
            m.bytes += e->bytes;
            if (e->pins == 0)
                e->stamp = ++m.now;
            model_evict(&m, i);
        } else if (op < 73) { /* resize */
            size_t bytes = 50 + next_rand(&seed) % 400;
            cr_assert_eq(cw_cache_resize(c, ids[i], bytes), e->present, "step %d", step);
            if (e->present) {
                m.bytes += bytes + cw_cache_overhead(ids[i]) - e->bytes;
                e->bytes = bytes + cw_cache_overhead(ids[i]);
                if (e->pins == 0)
                    e->stamp = ++m.now;
                model_evict(&m, i);
            }
        } else if (op < 83) { /* pin */
            cr_assert_eq(cw_cache_pin(c, ids[i]), e->present, "step %d", step);
            if (e->present && e->pins++ == 0)
                e->pin_stamp = ++m.now;
        } else if (op < 91) { /* unpin */
            bool ok = e->present && e->pins > 0;
            cr_assert_eq(cw_cache_unpin(c, ids[i]), ok, "step %d", step);
            if (ok && --e->pins == 0) {
                e->stamp = ++m.now;
                model_evict(&m, -1);
            }
        } else if (op < 94) { /* unpin all, oldest pin first */
            cw_cache_unpin_all(c);
            for (;;) {
                int first = -1;
                for (int k = 0; k < IDS; k++)
                    if (m.e[k].present && m.e[k].pins > 0 &&
                        (first < 0 || m.e[k].pin_stamp < m.e[first].pin_stamp))
                        first = k;
                if (first < 0)
                    break;
                m.e[first].pins = 0;
                m.e[first].stamp = ++m.now;
            }
            model_evict(&m, -1);
        } else if (op < 97) { /* remove */
            cr_assert_eq(cw_cache_remove(c, ids[i]), e->present, "step %d", step);
            if (e->present) {
                e->present = false;
                e->pins = 0;
                m.bytes -= e->bytes;
            }
        } else { /* remove a tag */
            uint64_t tag = next_rand(&seed) % 4;
            size_t want = 0;
            for (int k = 0; k < IDS; k++) {
                if (m.e[k].present && m.e[k].tag == tag) {
                    m.e[k].present = false;
                    m.e[k].pins = 0;
                    m.bytes -= m.e[k].bytes;
                    want++;
                }
            }
            cr_assert_eq(cw_cache_remove_tag(c, tag), want, "step %d", step);
        }
        for (int k = 0; k < IDS; k++) {
            if (!m.e[k].present)
                m.e[k].pins = 0;
            cr_assert_eq(has(c, ids[k]), m.e[k].present, "step %d: %s", step, ids[k]);
        }
        struct cw_cache_stats s;
        cw_cache_get_stats(c, &s);
        cr_assert_eq(s.bytes, m.bytes, "step %d", step);
        cr_assert_eq(s.evictions, m.evictions, "step %d", step);
    }
    cw_cache_free(c);
    cr_assert_eq(f.live, 0, "%d values not freed", f.live);
}

Test(account_cache, many_ids_in_a_large_budget_are_all_found)
{
    cw_cache *c = cw_cache_new((size_t)1 << 30, NULL, NULL);
    static int dummy;
    char id[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(id, sizeof id, "account-%d", i);
        cr_assert_eq(cw_cache_put(c, id, &dummy, 10, (uint64_t)i), 0);
    }
    for (int i = 0; i < 50000; i++) {
        snprintf(id, sizeof id, "account-%d", i);
        cr_assert_eq(cw_cache_get(c, id), &dummy, "%s", id);
    }
    struct cw_cache_stats s;
    cw_cache_get_stats(c, &s);
    cr_assert_eq(s.entries, 50000);
    cr_assert_eq(s.hits, 50000);
    cr_assert_eq(s.evictions, 0);
    cw_cache_free(c);
}
