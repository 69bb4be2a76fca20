/* account_mem.c - one account's applied state in memory: a batch applied to it as
 * cw_apply_delta / cw_apply (store_functions.lua) apply it to the stored account
 *
 * Pure (no I/O, no clock). It lives in daemon/core next to store_delta.c rather than in
 * lib/ because it takes the store's own inputs and outputs (struct cw_store_batch, struct
 * cw_account_data, store.h) and must judge events exactly as the Redis path does: which
 * events the store can use and which are activity or traits (cw_store_event_usable,
 * cw_store_event_flags), the days kept (cw_store_days_kept) and the rows loaded
 * (cw_store_row_days) are shared with it, not copied.
 *
 * The code follows the Lua closely: a batch first becomes a pending update ("a" in
 * store_functions.lua: new_account), coalesced as store_delta.c sums it or built event by
 * event as cw_apply does, and write_account() then merges it as write_account does, pruning the
 * same days and users at the same moments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_mem.h"
#include "array.h"
#include "store_internal.h"

struct mem_src {
    char *topic;
    int32_t partition;
    int64_t wm;
};

struct mem_type {
    char *name;
    int64_t ms;
};

struct mem_day {
    int32_t day;
    size_t width;    /* counters in cells (slots 0..width-1) */
    uint32_t *cells; /* by metric slot */
};

struct mem_user {
    char *id;
    int32_t day;
};

/* What a batch (or one cw_apply call's events) comes to before it is merged. */
struct pend_day {
    int32_t day;
    size_t cells; /* index of its first counter in cells[] (width counters) */
};

struct pend_user {
    const char *id;
    int32_t day;
};

struct pend_src {
    const char *topic;
    int32_t partition;
    int64_t min, max;
};

struct pending {
    bool has_days; /* first_day, last_day, last_seen of activity events */
    int32_t first_day, last_day;
    bool has_seen;
    int64_t seen;
    bool traits_won; /* a traits event won: traits, traits_ts replace the account's */
    bool has_traits_ts;
    int64_t traits_ts;
    struct cw_traits traits;
    bool has_type[CW_MAX_EVENT_TYPES];
    int64_t type_ms[CW_MAX_EVENT_TYPES];
    size_t width;
    struct pend_day *days;
    size_t n_days, cap_days;
    uint32_t *cells;
    size_t cap_cells;
    struct pend_user *users;
    size_t n_users, cap_users;
    uint32_t *umap; /* open addressing: index + 1 into users, 0 empty */
    size_t cap_umap;
    struct pend_src *src;
    size_t n_src, cap_src;
};

struct cw_account_mem {
    bool broken; /* out of memory during an apply: the state is no longer the store's */
    struct mem_src *src;
    size_t n_src, cap_src;
    struct mem_type *types;
    size_t n_types, cap_types;
    bool has_first_day, has_last_day, has_last_seen, has_traits_ts;
    int32_t first_day, last_day;
    int64_t last_seen_ms, traits_ts_ms;
    struct cw_traits traits; /* as stored: has_seats with whatever value was carried */
    struct mem_day *days;    /* unordered */
    size_t n_days, cap_days;
    struct mem_user *users; /* unordered */
    size_t n_users, cap_users;
    uint32_t *umap; /* open addressing: index + 1 into users, 0 empty; cap_umap >= 2 n_users */
    size_t cap_umap;
    struct pending p; /* scratch, reused from one batch to the next */
};

struct cw_account_mem *cw_account_mem_new(void)
{
    return calloc(1, sizeof(struct cw_account_mem));
}

void cw_account_mem_free(struct cw_account_mem *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_src; i++)
        free(a->src[i].topic);
    for (size_t i = 0; i < a->n_types; i++)
        free(a->types[i].name);
    for (size_t i = 0; i < a->n_days; i++)
        free(a->days[i].cells);
    for (size_t i = 0; i < a->n_users; i++)
        free(a->users[i].id);
    free(a->src);
    free(a->types);
    free(a->days);
    free(a->users);
    free(a->umap);
    free(a->p.days);
    free(a->p.cells);
    free(a->p.users);
    free(a->p.umap);
    free(a->p.src);
    free(a);
}

/* ---- the account ---------------------------------------------------------------------- */

static struct mem_src *src_find(const struct cw_account_mem *a, const char *topic,
                                int32_t partition)
{
    for (size_t i = 0; i < a->n_src; i++)
        if (a->src[i].partition == partition && strcmp(a->src[i].topic, topic) == 0)
            return &a->src[i];
    return NULL;
}

int64_t cw_account_mem_watermark(const struct cw_account_mem *a, const char *topic,
                                 int32_t partition)
{
    const struct mem_src *s = src_find(a, topic, partition);
    return s ? s->wm : -1;
}

/* Set the watermark of (topic, partition). 0 or -1. */
static int src_set(struct cw_account_mem *a, const char *topic, int32_t partition, int64_t wm)
{
    struct mem_src *s = src_find(a, topic, partition);
    if (s) {
        s->wm = wm;
        return 0;
    }
    char *t = strdup(topic);
    if (!t || cw_array_reserve(&a->src, &a->cap_src, a->n_src + 1, sizeof *a->src) < 0) {
        free(t);
        return -1;
    }
    a->src[a->n_src++] = (struct mem_src){.topic = t, .partition = partition, .wm = wm};
    return 0;
}

/* t:<name> = ms when it has none or an older one. 0 or -1. */
static int type_merge(struct cw_account_mem *a, const char *name, int64_t ms)
{
    for (size_t i = 0; i < a->n_types; i++)
        if (strcmp(a->types[i].name, name) == 0) {
            if (ms > a->types[i].ms)
                a->types[i].ms = ms;
            return 0;
        }
    char *n = strdup(name);
    if (!n || cw_array_reserve(&a->types, &a->cap_types, a->n_types + 1, sizeof *a->types) < 0) {
        free(n);
        return -1;
    }
    a->types[a->n_types++] = (struct mem_type){.name = n, .ms = ms};
    return 0;
}

/* The counters of day, at least width wide (created or widened with zeros); NULL when out
 * of memory. */
static struct mem_day *day_get(struct cw_account_mem *a, int32_t day, size_t width)
{
    struct mem_day *d = NULL;
    for (size_t i = 0; i < a->n_days && !d; i++)
        if (a->days[i].day == day)
            d = &a->days[i];
    if (!d) {
        if (cw_array_reserve(&a->days, &a->cap_days, a->n_days + 1, sizeof *a->days) < 0)
            return NULL;
        d = &a->days[a->n_days++];
        *d = (struct mem_day){.day = day};
    }
    if (d->width < width) {
        uint32_t *c = realloc(d->cells, width * sizeof *c);
        if (!c)
            return NULL;
        memset(c + d->width, 0, (width - d->width) * sizeof *c);
        d->cells = c;
        d->width = width;
    }
    return d;
}

/* Rebuild the users' index at cap (a power of two). 0 or -1. */
static int umap_build(struct cw_account_mem *a, size_t cap)
{
    uint32_t *m = calloc(cap, sizeof *m);
    if (!m)
        return -1;
    free(a->umap);
    a->umap = m;
    a->cap_umap = cap;
    for (size_t u = 0; u < a->n_users; u++) {
        size_t i = cw_str_hash(a->users[u].id) & (cap - 1);
        while (m[i])
            i = (i + 1) & (cap - 1);
        m[i] = (uint32_t)(u + 1);
    }
    return 0;
}

/* The user's last day ("had" in write_account), NULL when unknown; *slot: where it goes. */
static struct mem_user *user_find(const struct cw_account_mem *a, const char *id, size_t *slot)
{
    size_t mask = a->cap_umap - 1;
    for (size_t i = cw_str_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t k = a->umap[i];
        if (k == 0) {
            *slot = i;
            return NULL;
        }
        if (strcmp(a->users[k - 1].id, id) == 0)
            return &a->users[k - 1];
    }
}

/* :u <id> = day. 0 or -1. */
static int user_set(struct cw_account_mem *a, const char *id, int32_t day)
{
    if (2 * (a->n_users + 1) > a->cap_umap) {
        size_t cap = a->cap_umap ? 2 * a->cap_umap : 16;
        if (umap_build(a, cap) < 0)
            return -1;
    }
    size_t slot;
    struct mem_user *u = user_find(a, id, &slot);
    if (u) {
        u->day = day;
        return 0;
    }
    char *c = strdup(id);
    if (!c || cw_array_reserve(&a->users, &a->cap_users, a->n_users + 1, sizeof *a->users) < 0) {
        free(c);
        return -1;
    }
    a->users[a->n_users] = (struct mem_user){.id = c, .day = day};
    a->umap[slot] = (uint32_t)++a->n_users;
    return 0;
}

/* prune_days of :d and :u: drop the days and the users' last days at or before oldest. */
static int prune(struct cw_account_mem *a, int64_t oldest)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n_days; i++) {
        if (a->days[i].day <= oldest)
            free(a->days[i].cells);
        else
            a->days[k++] = a->days[i];
    }
    a->n_days = k;
    k = 0;
    for (size_t i = 0; i < a->n_users; i++) {
        if (a->users[i].day <= oldest)
            free(a->users[i].id);
        else
            a->users[k++] = a->users[i];
    }
    if (k == a->n_users)
        return 0;
    a->n_users = k;
    return umap_build(a, a->cap_umap);
}

/* ---- the pending update ----------------------------------------------------------------- */

/* Start an empty update for at most n events; traits are judged from the account's. */
static int pend_reset(struct pending *p, const struct cw_account_mem *a, size_t width, size_t n)
{
    p->has_days = p->has_seen = p->traits_won = false;
    p->has_traits_ts = a->has_traits_ts;
    p->traits_ts = a->traits_ts_ms;
    p->traits = a->traits;
    memset(p->has_type, 0, sizeof p->has_type);
    p->width = width;
    p->n_days = p->n_users = 0; /* the sources stay: sources() found them */
    size_t map = 16;
    while (map < 2 * n)
        map <<= 1;
    if (cw_array_reserve(&p->umap, &p->cap_umap, map, sizeof *p->umap) < 0 ||
        cw_array_reserve(&p->users, &p->cap_users, n, sizeof *p->users) < 0)
        return -1;
    p->cap_umap = map; /* the table is used at exactly this (power of two) size */
    memset(p->umap, 0, map * sizeof *p->umap);
    return 0;
}

/* Count one event of day in slot (saturating, as store_delta.c does). 0 or -1. */
static int pend_count(struct pending *p, int32_t day, int slot)
{
    uint32_t *c = NULL;
    for (size_t i = p->n_days; i-- > 0 && !c;)
        if (p->days[i].day == day)
            c = p->cells + p->days[i].cells;
    if (!c) {
        size_t at = p->n_days * p->width;
        if (cw_array_reserve(&p->days, &p->cap_days, p->n_days + 1, sizeof *p->days) < 0 ||
            cw_array_reserve(&p->cells, &p->cap_cells, at + p->width, sizeof *p->cells) < 0)
            return -1;
        c = p->cells + at;
        memset(c, 0, p->width * sizeof *c);
        p->days[p->n_days++] = (struct pend_day){.day = day, .cells = at};
    }
    if (c[slot] < UINT32_MAX)
        c[slot]++;
    return 0;
}

/* The user's newest active day. */
static void pend_user(struct pending *p, const char *id, int32_t day)
{
    size_t mask = p->cap_umap - 1;
    for (size_t i = cw_str_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t k = p->umap[i];
        if (k == 0) {
            p->users[p->n_users] = (struct pend_user){.id = id, .day = day};
            p->umap[i] = (uint32_t)++p->n_users;
            return;
        }
        struct pend_user *u = &p->users[k - 1];
        if (strcmp(u->id, id) == 0) {
            if (day > u->day)
                u->day = day;
            return;
        }
    }
}

/* A traits event of time ts: it wins when not older than the last winner. */
static void pend_traits(struct pending *p, int64_t ts, const struct cw_traits *t)
{
    if (p->has_traits_ts && ts < p->traits_ts)
        return;
    p->has_traits_ts = p->traits_won = true;
    p->traits_ts = ts;
    /* the fields it carries; the others keep their value */
    if (t->has_seats) {
        p->traits.has_seats = true;
        p->traits.seats = t->seats;
    }
    if (t->has_created_at) {
        p->traits.has_created_at = true;
        p->traits.created_at_ms = t->created_at_ms;
    }
    if (t->has_renewal_at) {
        p->traits.has_renewal_at = true;
        p->traits.renewal_at_ms = t->renewal_at_ms;
    }
    if (t->plan[0])
        memcpy(p->traits.plan, t->plan, sizeof p->traits.plan);
    if (t->segment[0])
        memcpy(p->traits.segment, t->segment, sizeof p->traits.segment);
    if (t->owner[0])
        memcpy(p->traits.owner, t->owner, sizeof p->traits.owner);
}

/* The activity part of an event (flags & 1). 0 or -1. */
static int pend_activity(struct pending *p, const struct cw_config *cfg, const int *slots,
                         const struct cw_store_event *e)
{
    int slot = e->metric >= 0 && (size_t)e->metric < cfg->n_metrics ? slots[e->metric] : -1;
    if (slot >= 0 && pend_count(p, e->day, slot) < 0)
        return -1;
    if (e->user_id[0])
        pend_user(p, e->user_id, e->day);
    if (!p->has_days || e->day < p->first_day)
        p->first_day = e->day;
    if (!p->has_days || e->day > p->last_day)
        p->last_day = e->day;
    p->has_days = true;
    return 0;
}

/* write_account: merge p into a. 0 or -1. */
static int write_account(struct cw_account_mem *a, const struct cw_config *cfg,
                         const struct pending *p, long long horizon, int32_t clock_day)
{
    bool had_last = a->has_last_day;
    int32_t prev_last = a->last_day;
    if (p->has_days) {
        if (!a->has_first_day || p->first_day < a->first_day)
            a->first_day = p->first_day;
        if (!a->has_last_day || p->last_day > a->last_day)
            a->last_day = p->last_day;
        a->has_first_day = a->has_last_day = true;
    }
    if (p->has_seen && (!a->has_last_seen || p->seen > a->last_seen_ms)) {
        a->has_last_seen = true;
        a->last_seen_ms = p->seen;
    }
    if (p->traits_won) {
        a->has_traits_ts = true;
        a->traits_ts_ms = p->traits_ts;
        a->traits = p->traits;
    }
    for (size_t t = 0; t < cfg->n_event_types && t < CW_MAX_EVENT_TYPES; t++)
        if (p->has_type[t] && type_merge(a, cfg->event_types[t].name, p->type_ms[t]) < 0)
            return -1;

    /* The horizon never reaches past the clock day (unknown: <= 0). */
    bool has_oldest = a->has_last_day;
    int64_t ref = a->last_day;
    if (has_oldest && clock_day > 0 && clock_day < ref)
        ref = clock_day;
    int64_t oldest = ref - horizon;
    for (size_t i = 0; i < p->n_days; i++) {
        const struct pend_day *pd = &p->days[i];
        if (has_oldest && pd->day <= oldest)
            continue;
        const uint32_t *c = p->cells + pd->cells;
        size_t width = 0;
        for (size_t s = 0; s < p->width; s++)
            if (c[s])
                width = s + 1;
        struct mem_day *d = day_get(a, pd->day, width);
        if (!d)
            return -1;
        for (size_t s = 0; s < width; s++) {
            uint64_t v = (uint64_t)d->cells[s] + c[s];
            d->cells[s] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        }
    }
    for (size_t i = 0; i < p->n_users; i++) {
        const struct pend_user *u = &p->users[i];
        if (has_oldest && u->day <= oldest)
            continue;
        struct mem_user *had = NULL;
        size_t slot;
        if (a->cap_umap)
            had = user_find(a, u->id, &slot);
        if ((!had || had->day < u->day) && user_set(a, u->id, u->day) < 0)
            return -1;
    }
    /* a new last day: drop the days and users that left the horizon */
    if (had_last && a->last_day > prev_last)
        return prune(a, oldest);
    return 0;
}

/* ---- applying ----------------------------------------------------------------------------- */

/* The sources of b's usable events with their lowest and highest offsets; the count of
 * usable events, or -1. */
static long sources(struct pending *p, const struct cw_config *cfg, const struct cw_store_batch *b)
{
    p->n_src = 0;
    long n = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct cw_store_event *e = &b->events[i];
        if (!cw_store_event_usable(cfg, e))
            continue;
        n++;
        size_t s = 0;
        while (s < p->n_src &&
               (p->src[s].partition != e->partition || strcmp(p->src[s].topic, e->topic) != 0))
            s++;
        if (s == p->n_src) {
            if (cw_array_reserve(&p->src, &p->cap_src, p->n_src + 1, sizeof *p->src) < 0)
                return -1;
            p->src[p->n_src++] = (struct pend_src){
                .topic = e->topic, .partition = e->partition, .min = e->offset, .max = e->offset};
        } else if (e->offset < p->src[s].min) {
            p->src[s].min = e->offset;
        } else if (e->offset > p->src[s].max) {
            p->src[s].max = e->offset;
        }
    }
    return n;
}

/* cw_apply_delta with every source new: b's usable events summed as store_delta.c sums
 * them (its sentinels included: a type is sent when its newest time is >= 0, last_seen
 * is the newest activity time or -1), then written. 0 or -1. */
static int apply_delta(struct cw_account_mem *a, const struct cw_config *cfg, const int *slots,
                       size_t width, struct cw_store_batch *b, long nev)
{
    struct pending *p = &a->p;
    if (pend_reset(p, a, width, b->n) < 0)
        return -1;
    int64_t type_max[CW_MAX_EVENT_TYPES];
    for (size_t t = 0; t < CW_MAX_EVENT_TYPES; t++)
        type_max[t] = -1;
    int64_t seen = -1;
    for (size_t i = 0; i < b->n; i++) {
        const struct cw_store_event *e = &b->events[i];
        if (!cw_store_event_usable(cfg, e))
            continue;
        if (e->ts_ms > type_max[e->type_index])
            type_max[e->type_index] = e->ts_ms;
        int flags = cw_store_event_flags(cfg, e);
        if (flags & 1) {
            if (pend_activity(p, cfg, slots, e) < 0)
                return -1;
            if (e->ts_ms > seen)
                seen = e->ts_ms;
        }
        if (flags & 2)
            pend_traits(p, e->ts_ms, e->traits);
    }
    for (size_t t = 0; t < CW_MAX_EVENT_TYPES; t++) {
        p->has_type[t] = type_max[t] >= 0;
        p->type_ms[t] = type_max[t];
    }
    p->has_seen = p->has_days;
    p->seen = seen;
    for (size_t s = 0; s < p->n_src; s++)
        if (src_set(a, p->src[s].topic, p->src[s].partition, p->src[s].max) < 0)
            return -1;
    if (write_account(a, cfg, p, cw_store_days_kept(cfg), b->clock_day) < 0)
        return -1;
    b->applied = (size_t)nev;
    b->coalesced = true;
    return 0;
}

/* cw_apply over events [first, end) of b: each applied when its offset is past its
 * source's watermark; written when any was. 0 or -1. */
static int apply_events(struct cw_account_mem *a, const struct cw_config *cfg, const int *slots,
                        size_t width, struct cw_store_batch *b, size_t first, size_t end)
{
    struct pending *p = &a->p;
    if (pend_reset(p, a, width, end - first) < 0)
        return -1;
    size_t applied = 0;
    for (size_t i = first; i < end; i++) {
        const struct cw_store_event *e = &b->events[i];
        if (!cw_store_event_usable(cfg, e))
            continue;
        if (e->offset <= cw_account_mem_watermark(a, e->topic, e->partition))
            continue; /* a replay */
        applied++;
        if (src_set(a, e->topic, e->partition, e->offset) < 0)
            return -1;
        int t = e->type_index;
        if (!p->has_type[t] || e->ts_ms > p->type_ms[t]) {
            p->has_type[t] = true;
            p->type_ms[t] = e->ts_ms;
        }
        int flags = cw_store_event_flags(cfg, e);
        if (flags & 1) {
            if (pend_activity(p, cfg, slots, e) < 0)
                return -1;
            if (!p->has_seen || e->ts_ms > p->seen) {
                p->has_seen = true;
                p->seen = e->ts_ms;
            }
        }
        if (flags & 2)
            pend_traits(p, e->ts_ms, e->traits);
    }
    b->applied += applied;
    if (applied == 0)
        return 0;
    return write_account(a, cfg, p, cw_store_days_kept(cfg), b->clock_day);
}

static int apply(struct cw_account_mem *a, const struct cw_config *cfg, const int *slots,
                 struct cw_store_batch *b)
{
    b->applied = 0;
    b->coalesced = false;
    size_t width = 0;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (slots[m] >= 0 && (size_t)slots[m] + 1 > width)
            width = (size_t)slots[m] + 1;
    if (width == 0)
        width = 1;
    long nev = sources(&a->p, cfg, b);
    if (nev <= 0)
        return nev < 0 ? -1 : 0; /* nothing usable: nothing changes */
    size_t n_new = 0, n_old = 0;
    for (size_t s = 0; s < a->p.n_src; s++) {
        int64_t w = cw_account_mem_watermark(a, a->p.src[s].topic, a->p.src[s].partition);
        if (w < a->p.src[s].min)
            n_new++;
        else if (w >= a->p.src[s].max)
            n_old++;
    }
    if (n_old == a->p.n_src) {
        b->coalesced = true; /* all applied before */
        return 0;
    }
    if (n_new == a->p.n_src)
        return apply_delta(a, cfg, slots, width, b, nev);
    /* A partial replay: one by one, in the store's calls of CW_STORE_EVENTS_PER_CALL. */
    for (size_t first = 0; first < b->n; first += CW_STORE_EVENTS_PER_CALL) {
        size_t end =
            first + CW_STORE_EVENTS_PER_CALL < b->n ? first + CW_STORE_EVENTS_PER_CALL : b->n;
        if (apply_events(a, cfg, slots, width, b, first, end) < 0)
            return -1;
    }
    return 0;
}

int cw_account_mem_apply(struct cw_account_mem *a, const struct cw_config *cfg, const int *slots,
                         struct cw_store_batch *b)
{
    if (a->broken)
        return -1;
    if (apply(a, cfg, slots, b) < 0) {
        a->broken = true;
        return -1;
    }
    return 0;
}

/* ---- the loaded account --------------------------------------------------------------------- */

int cw_account_mem_fill(const struct cw_account_mem *a, const struct cw_config *cfg,
                        const int *slots, const char *account_id, int32_t today,
                        struct cw_account_data *d)
{
    if (a->broken)
        return -1;
    uint32_t rows = cw_store_row_days(cfg);
    size_t cells = cfg->n_metrics * rows;
    uint32_t *daily = realloc(d->daily, (cells ? cells : 1) * sizeof *daily);
    if (!daily)
        return -1;
    d->daily = daily;
    int64_t *tl =
        realloc(d->type_last_ms, (cfg->n_event_types ? cfg->n_event_types : 1) * sizeof *tl);
    if (!tl)
        return -1;
    d->type_last_ms = tl;
    if (a->n_users > d->cap_users) {
        int32_t *u = realloc(d->user_last_day, a->n_users * sizeof *u);
        if (!u)
            return -1;
        d->user_last_day = u;
        d->cap_users = a->n_users;
    }

    snprintf(d->account_id, sizeof d->account_id, "%s", account_id);
    d->exists = a->n_src > 0; /* every apply that wrote set a watermark */
    d->first_day = a->has_first_day ? a->first_day : CW_DAY_NONE;
    d->last_seen_ms = a->has_last_seen ? a->last_seen_ms : -1;
    d->traits = a->traits;
    if (!d->traits.has_seats || d->traits.seats < 0) { /* the load keeps seats >= 0 */
        d->traits.has_seats = false;
        d->traits.seats = 0;
    }
    d->today = today;
    d->horizon = rows;
    d->n_metrics = cfg->n_metrics;
    memset(daily, 0, cells * sizeof *daily);
    for (size_t i = 0; i < a->n_days; i++) {
        const struct mem_day *day = &a->days[i];
        if (day->day > today || (int64_t)today - day->day >= (int64_t)rows)
            continue;
        size_t age = (size_t)(today - day->day);
        for (size_t m = 0; m < cfg->n_metrics; m++)
            if (slots[m] >= 0 && (size_t)slots[m] < day->width)
                daily[m * rows + age] = day->cells[slots[m]];
    }
    for (size_t u = 0; u < a->n_users; u++)
        d->user_last_day[u] = a->users[u].day;
    d->n_users = a->n_users;
    d->n_event_types = cfg->n_event_types;
    for (size_t t = 0; t < cfg->n_event_types; t++) {
        tl[t] = -1;
        for (size_t k = 0; k < a->n_types; k++)
            if (strcmp(a->types[k].name, cfg->event_types[t].name) == 0)
                tl[t] = a->types[k].ms;
    }
    return 0;
}
