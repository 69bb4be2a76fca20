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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_mem.h"
#include "array.h"
#include "store_internal.h"

/* Every stored field carries `dirty`: changed since the account was loaded or last written
 * back (cw_account_mem_put_args, cw_account_mem_written). */
struct mem_src {
    char *topic;
    int32_t partition;
    int64_t wm;
    bool dirty;
};

struct mem_type {
    char *name;
    int64_t ms;
    bool dirty;
    size_t t; /* the config's index of the type when last matched (a hint, checked by name);
                 SIZE_MAX: not matched yet */
};

/* One metric's values of a day (field "day:slot" of :d). */
struct mem_val {
    int slot;
    struct cw_value_day v;
};

struct mem_day {
    int32_t day;
    bool dirty;      /* its counters and values are written back */
    bool stored;     /* in :d as of the last load or write-back */
    size_t width;    /* counters in cells (slots 0..width-1) */
    uint32_t *cells; /* by metric slot */
    struct mem_val *vals;
    size_t n_vals;
};

struct mem_user {
    char *id;
    int32_t day;
    bool dirty;
    bool stored; /* in :u as of the last load or write-back */
};

/* A user's engagement (:e, docs/users.md): points per day, ascending. */
struct mem_eng {
    char *id;
    struct cw_eng_day *days;
    size_t n, cap;
    bool dirty;
    bool stored; /* in :e as of the last load or write-back */
};

/* What a batch (or one cw_apply call's events) comes to before it is merged. */
struct pend_day {
    int32_t day;
    size_t cells; /* index of its first counter in cells[] (width counters) */
};

struct pend_user {
    const char *id;
    int32_t day;
    size_t eng; /* its first engagement entry + 1, 0: none */
};

struct pend_src {
    const char *topic;
    int32_t partition;
    int64_t min, max;
};

struct pend_val {
    int32_t day;
    int slot;
    struct cw_value_day v;
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
    struct pend_val *vals;
    size_t n_vals, cap_vals;
    struct cw_eng_sums eng; /* the users' engagement points per day (docs/users.md) */
};

struct cw_account_mem {
    bool broken; /* out of memory during an apply: the state is no longer the store's */
    struct mem_src *src;
    size_t n_src, cap_src;
    struct mem_type *types;
    size_t n_types, cap_types;
    size_t name_bytes; /* the sources' topics and the types' names, with their NULs */
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
    size_t user_id_bytes; /* the users' ids, with their NULs (cw_account_mem_bytes) */
    /* what the store does not hold yet (docs/state.md "Accounts owned in memory") */
    uint64_t version;                          /* `v` of :m as loaded or last written */
    bool dirty_days, dirty_seen, dirty_traits; /* first/last day, last_seen, traits */
    unsigned expire;                           /* CW_MEM_EXPIRE_* */
    int32_t *gone_days;                        /* pruned since: :d fields to delete */
    size_t n_gone_days, cap_gone_days;
    struct pend_val *gone_vals; /* pruned since: their :d fields "day:slot" to delete */
    size_t n_gone_vals, cap_gone_vals;
    char **gone_users; /* pruned since (owned): :u fields to delete */
    size_t n_gone_users, cap_gone_users;
    struct mem_eng *eng; /* unordered; at most users.max_tracked */
    size_t n_eng, cap_eng;
    char **gone_eng; /* emptied since: :e fields to delete */
    size_t n_gone_eng, cap_gone_eng;
    int64_t refreshed_ms; /* the holder's bookkeeping: lifetimes last refreshed, 0 never */
};

/* The pending update, reused from one apply to the next by every account a thread applies
 * to (one per account would cost each held account ~2 KB more). */
static _Thread_local struct pending scratch;

void cw_account_mem_release_scratch(void)
{
    free(scratch.days);
    free(scratch.cells);
    free(scratch.users);
    free(scratch.umap);
    free(scratch.src);
    free(scratch.vals);
    cw_eng_sums_free(&scratch.eng);
    memset(&scratch, 0, sizeof scratch);
}

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
    for (size_t i = 0; i < a->n_days; i++) {
        free(a->days[i].cells);
        free(a->days[i].vals);
    }
    for (size_t i = 0; i < a->n_users; i++)
        free(a->users[i].id);
    for (size_t i = 0; i < a->n_gone_users; i++)
        free(a->gone_users[i]);
    free(a->gone_users);
    for (size_t i = 0; i < a->n_eng; i++) {
        free(a->eng[i].id);
        free(a->eng[i].days);
    }
    free(a->eng);
    for (size_t i = 0; i < a->n_gone_eng; i++)
        free(a->gone_eng[i]);
    free(a->gone_eng);
    free(a->gone_days);
    free(a->gone_vals);
    free(a->src);
    free(a->types);
    free(a->days);
    free(a->users);
    free(a->umap);
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
        s->dirty = true;
        return 0;
    }
    char *t = strdup(topic);
    if (!t || cw_array_reserve(&a->src, &a->cap_src, a->n_src + 1, sizeof *a->src) < 0) {
        free(t);
        return -1;
    }
    a->src[a->n_src++] =
        (struct mem_src){.topic = t, .partition = partition, .wm = wm, .dirty = true};
    a->name_bytes += strlen(t) + 1;
    return 0;
}

/* The type named name, the config's type t (SIZE_MAX: not known) when it is one: first
 * among the types whose hint is t, then by name alone (setting the hint); NULL: none. */
static struct mem_type *type_find(struct cw_account_mem *a, const char *name, size_t t)
{
    for (size_t i = 0; t != SIZE_MAX && i < a->n_types; i++)
        if (a->types[i].t == t && strcmp(a->types[i].name, name) == 0)
            return &a->types[i];
    for (size_t i = 0; i < a->n_types; i++)
        if (strcmp(a->types[i].name, name) == 0) {
            if (t != SIZE_MAX)
                a->types[i].t = t;
            return &a->types[i];
        }
    return NULL;
}

/* t:<name> = ms when it has none or an older one; t: the config's index of the type
 * (SIZE_MAX: not known). 0 or -1. */
static int type_merge(struct cw_account_mem *a, const char *name, size_t t, int64_t ms)
{
    struct mem_type *m = type_find(a, name, t);
    if (m) {
        if (ms > m->ms) {
            m->ms = ms;
            m->dirty = true;
        }
        return 0;
    }
    char *n = strdup(name);
    if (!n || cw_array_reserve(&a->types, &a->cap_types, a->n_types + 1, sizeof *a->types) < 0) {
        free(n);
        return -1;
    }
    a->types[a->n_types++] = (struct mem_type){.name = n, .ms = ms, .dirty = true, .t = t};
    a->name_bytes += strlen(n) + 1;
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

/* The values of slot on day d (created empty); NULL when out of memory. */
static struct cw_value_day *day_val(struct mem_day *d, int slot)
{
    for (size_t i = 0; i < d->n_vals; i++)
        if (d->vals[i].slot == slot)
            return &d->vals[i].v;
    struct mem_val *v = realloc(d->vals, (d->n_vals + 1) * sizeof *v);
    if (!v)
        return NULL;
    d->vals = v;
    d->vals[d->n_vals] = (struct mem_val){.slot = slot};
    return &d->vals[d->n_vals++].v;
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
        u->dirty = true;
        return 0;
    }
    char *c = strdup(id);
    if (!c || cw_array_reserve(&a->users, &a->cap_users, a->n_users + 1, sizeof *a->users) < 0) {
        free(c);
        return -1;
    }
    a->users[a->n_users] = (struct mem_user){.id = c, .day = day, .dirty = true};
    a->umap[slot] = (uint32_t)++a->n_users;
    a->user_id_bytes += strlen(c) + 1;
    return 0;
}

/* prune_days of :d and :u: drop the days and the users' last days at or before oldest. */
static int prune(struct cw_account_mem *a, int64_t oldest)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n_days; i++) {
        if (a->days[i].day <= oldest) {
            if (cw_array_reserve(&a->gone_days, &a->cap_gone_days, a->n_gone_days + 1,
                                 sizeof *a->gone_days) < 0)
                return -1;
            a->gone_days[a->n_gone_days++] = a->days[i].day;
            if (cw_array_reserve(&a->gone_vals, &a->cap_gone_vals,
                                 a->n_gone_vals + a->days[i].n_vals, sizeof *a->gone_vals) < 0)
                return -1;
            for (size_t v = 0; v < a->days[i].n_vals; v++)
                a->gone_vals[a->n_gone_vals++] =
                    (struct pend_val){.day = a->days[i].day, .slot = a->days[i].vals[v].slot};
            free(a->days[i].cells);
            free(a->days[i].vals);
        } else {
            a->days[k++] = a->days[i];
        }
    }
    a->n_days = k;
    k = 0;
    for (size_t i = 0; i < a->n_users; i++) {
        if (a->users[i].day <= oldest) {
            if (cw_array_reserve(&a->gone_users, &a->cap_gone_users, a->n_gone_users + 1,
                                 sizeof *a->gone_users) < 0)
                return -1;
            a->gone_users[a->n_gone_users++] = a->users[i].id; /* deleted when written back */
            a->user_id_bytes -= strlen(a->users[i].id) + 1;
        } else {
            a->users[k++] = a->users[i];
        }
    }
    if (k == a->n_users)
        return 0;
    a->n_users = k;
    return umap_build(a, a->cap_umap);
}

/* ---- users' engagement (docs/users.md) ----------------------------------------------------- */

static struct mem_eng *eng_find(const struct cw_account_mem *a, const char *id, size_t len)
{
    for (size_t i = 0; i < a->n_eng; i++)
        if (strlen(a->eng[i].id) == len && memcmp(a->eng[i].id, id, len) == 0)
            return &a->eng[i];
    return NULL;
}

/* A new user's engagement (no days yet), or NULL when out of memory. */
static struct mem_eng *eng_new(struct cw_account_mem *a, const char *id, size_t len)
{
    if (cw_array_reserve(&a->eng, &a->cap_eng, a->n_eng + 1, sizeof *a->eng) < 0)
        return NULL;
    char *c = strndup(id, len);
    if (!c)
        return NULL;
    a->eng[a->n_eng] = (struct mem_eng){.id = c};
    return &a->eng[a->n_eng++];
}

/* Room for n more days. 0 or -1. Most users have a few days: the room starts at 2 (not at
 * cw_array_reserve's 16), which keeps an account of many users small. */
static int eng_reserve(struct mem_eng *e, size_t n)
{
    return cw_array_reserve_from(&e->days, &e->cap, e->n + n, sizeof *e->days, 2);
}

/* Drop user e (its field deleted at the write-back unless stored again). 0 or -1. */
static int eng_drop(struct cw_account_mem *a, struct mem_eng *e)
{
    if (cw_array_reserve(&a->gone_eng, &a->cap_gone_eng, a->n_gone_eng + 1, sizeof *a->gone_eng) <
        0)
        return -1;
    free(e->days);
    a->gone_eng[a->n_gone_eng++] = e->id;
    *e = a->eng[--a->n_eng];
    return 0;
}

/* prune_eng: the days at or before oldest go, and the users left with none. 0 or -1. */
static int prune_eng(struct cw_account_mem *a, int64_t oldest)
{
    for (size_t i = a->n_eng; i-- > 0;) {
        struct mem_eng *e = &a->eng[i];
        size_t before = e->n;
        cw_eng_prune(e->days, &e->n, (int32_t)oldest);
        if (e->n == before)
            continue;
        e->dirty = true;
        if (e->n == 0 && eng_drop(a, e) < 0)
            return -1;
    }
    return 0;
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
    p->n_days = p->n_users = p->n_vals = 0; /* the sources stay: sources() found them */
    cw_eng_sums_reset(&p->eng);
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

/* A value of day in slot, merged as lib/values.c merges them. 0 or -1. */
static int pend_value(struct pending *p, int32_t day, int slot, double v, int64_t ts)
{
    for (size_t i = p->n_vals; i-- > 0;)
        if (p->vals[i].day == day && p->vals[i].slot == slot) {
            cw_value_day_add(&p->vals[i].v, v, ts);
            return 0;
        }
    if (cw_array_reserve(&p->vals, &p->cap_vals, p->n_vals + 1, sizeof *p->vals) < 0)
        return -1;
    p->vals[p->n_vals] = (struct pend_val){.day = day, .slot = slot};
    cw_value_day_add(&p->vals[p->n_vals++].v, v, ts);
    return 0;
}

/* The user's newest active day; returns the user's index. */
static size_t pend_user(struct pending *p, const char *id, int32_t day)
{
    size_t mask = p->cap_umap - 1;
    for (size_t i = cw_str_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t k = p->umap[i];
        if (k == 0) {
            p->users[p->n_users] = (struct pend_user){.id = id, .day = day};
            p->umap[i] = (uint32_t)++p->n_users;
            return p->n_users - 1;
        }
        struct pend_user *u = &p->users[k - 1];
        if (strcmp(u->id, id) == 0) {
            if (day > u->day)
                u->day = day;
            return k - 1;
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
    if (cw_traits_carry_parent(t)) { /* a parent, or "" to detach */
        memcpy(p->traits.parent_id, t->parent_id, sizeof p->traits.parent_id);
        p->traits.parent_detach = t->parent_detach;
    }
}

/* The activity part of an event (flags & 1). 0 or -1. */
static int pend_activity(struct pending *p, const struct cw_config *cfg, const int *slots,
                         const struct cw_store_event *e)
{
    int slot = e->metric >= 0 && (size_t)e->metric < cfg->n_metrics ? slots[e->metric] : -1;
    if (slot >= 0 && pend_count(p, e->day, slot) < 0)
        return -1;
    if (slot >= 0 && e->has_value && pend_value(p, e->day, slot, e->value, e->ts_ms) < 0)
        return -1;
    if (e->user_id[0]) {
        size_t u = pend_user(p, e->user_id, e->day);
        uint32_t points = cw_store_event_points(cfg, e);
        if (points > 0 && cw_eng_sums_add(&p->eng, &p->users[u].eng, u, e->day, points) < 0)
            return -1;
    }
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
        a->dirty_days = true;
    }
    if (p->has_seen && (!a->has_last_seen || p->seen > a->last_seen_ms)) {
        a->has_last_seen = true;
        a->last_seen_ms = p->seen;
        a->dirty_seen = true;
    }
    if (p->traits_won) {
        a->has_traits_ts = true;
        a->traits_ts_ms = p->traits_ts;
        a->traits = p->traits;
        a->dirty_traits = true;
    }
    for (size_t t = 0; t < cfg->n_event_types && t < CW_MAX_EVENT_TYPES; t++)
        if (p->has_type[t] && type_merge(a, cfg->event_types[t].name, t, p->type_ms[t]) < 0)
            return -1;

    /* The horizon never reaches past the clock day (unknown: <= 0). */
    bool has_oldest = a->has_last_day;
    int64_t ref = a->last_day;
    if (has_oldest && clock_day > 0 && clock_day < ref)
        ref = clock_day;
    int64_t oldest = ref - horizon;
    bool wrote_days = false, wrote_users = false;
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
        d->dirty = wrote_days = true;
    }
    for (size_t i = 0; i < p->n_vals; i++) {
        const struct pend_val *pv = &p->vals[i];
        if (has_oldest && pv->day <= oldest)
            continue;
        struct mem_day *d = day_get(a, pv->day, 0);
        struct cw_value_day *v = d ? day_val(d, pv->slot) : NULL;
        if (!v)
            return -1;
        cw_value_day_merge(v, &pv->v);
        d->dirty = wrote_days = true;
    }
    for (size_t i = 0; i < p->n_users; i++) {
        const struct pend_user *u = &p->users[i];
        if (has_oldest && u->day <= oldest)
            continue;
        struct mem_user *had = NULL;
        size_t slot;
        if (a->cap_umap)
            had = user_find(a, u->id, &slot);
        if (!had || had->day < u->day) {
            if (user_set(a, u->id, u->day) < 0)
                return -1;
            wrote_users = true;
        }
    }
    /* write_eng: the users' engagement of the days after eoldest; a user not held is
     * added only while fewer than users.max_tracked are */
    bool has_eoldest = has_oldest && cfg->users.enabled;
    int64_t eoldest = ref - (int64_t)cfg->users.window_days;
    int32_t eo = has_eoldest ? (int32_t)eoldest : INT32_MIN;
    bool wrote_eng = false;
    for (size_t k = 0; cfg->users.enabled && k < p->eng.n_order; k++) {
        const struct pend_user *u = &p->users[p->eng.order[k]];
        struct mem_eng *e = eng_find(a, u->id, strlen(u->id));
        bool had = e != NULL;
        if (!e) {
            if (a->n_eng >= cfg->users.max_tracked)
                continue;
            bool any = false;
            for (size_t j = u->eng; j && !any; j = p->eng.e[j - 1].next)
                any = p->eng.e[j - 1].day > eo;
            if (!any)
                continue;
            if (!(e = eng_new(a, u->id, strlen(u->id))))
                return -1;
        }
        size_t before = e->n;
        cw_eng_prune(e->days, &e->n, eo); /* as write_eng formats the days after eoldest */
        bool changed = e->n != before;
        for (size_t j = u->eng; j; j = p->eng.e[j - 1].next) {
            const struct cw_eng_sum *pe = &p->eng.e[j - 1];
            if (pe->day <= eo)
                continue;
            if (eng_reserve(e, 1) < 0)
                return -1;
            cw_eng_add(e->days, &e->n, e->cap, pe->day, pe->points, eo);
            changed = true;
        }
        if (!changed)
            continue;
        if (e->n == 0) {
            if (had && eng_drop(a, e) < 0)
                return -1;
            continue;
        }
        e->dirty = wrote_eng = true;
    }
    /* The lifetimes as write_account refreshes them: all five (and :e's) when the newest
     * day moves, for a traits event and for a new account; else :d, :u and :e only when they
     * have none. */
    bool advanced = had_last && a->last_day > prev_last;
    if (!had_last || advanced || p->traits_won)
        a->expire |= CW_MEM_EXPIRE_ALL;
    if (wrote_days)
        a->expire |= CW_MEM_EXPIRE_DAYS_NX;
    if (wrote_users)
        a->expire |= CW_MEM_EXPIRE_USERS_NX;
    if (wrote_eng)
        a->expire |= CW_MEM_EXPIRE_ENG_NX;
    /* a new last day: drop the days and users that left the horizon, and the engagement
     * days that left the window */
    if (advanced && has_eoldest && prune_eng(a, eoldest) < 0)
        return -1;
    if (advanced)
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
    struct pending *p = &scratch;
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
    struct pending *p = &scratch;
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
    long nev = sources(&scratch, cfg, b);
    if (nev <= 0)
        return nev < 0 ? -1 : 0; /* nothing usable: nothing changes */
    size_t n_new = 0, n_old = 0;
    for (size_t s = 0; s < scratch.n_src; s++) {
        int64_t w = cw_account_mem_watermark(a, scratch.src[s].topic, scratch.src[s].partition);
        if (w < scratch.src[s].min)
            n_new++;
        else if (w >= scratch.src[s].max)
            n_old++;
    }
    if (n_old == scratch.n_src) {
        b->coalesced = true; /* all applied before */
        return 0;
    }
    if (n_new == scratch.n_src)
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

    if (cw_account_data_values_reset(d, cfg, rows) < 0)
        return -1;
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
        for (size_t v = 0; v < day->n_vals && d->values; v++)
            for (size_t m = 0; m < cfg->n_metrics; m++)
                if (slots[m] == day->vals[v].slot && cfg->metrics[m].valued)
                    d->values[m * rows + age] = day->vals[v].v;
    }
    for (size_t u = 0; u < a->n_users; u++)
        d->user_last_day[u] = a->users[u].day;
    d->n_users = a->n_users;
    cw_account_data_eng_clear(d);
    for (size_t u = 0; u < a->n_eng; u++)
        if (cw_account_data_eng_add(d, a->eng[u].id, strlen(a->eng[u].id), a->eng[u].days,
                                    a->eng[u].n) < 0)
            return -1;
    d->n_event_types = cfg->n_event_types;
    for (size_t t = 0; t < cfg->n_event_types; t++)
        tl[t] = -1;
    for (size_t k = 0; k < a->n_types; k++) { /* each type at its hint, else looked up */
        size_t t = a->types[k].t;
        if (t >= cfg->n_event_types || strcmp(cfg->event_types[t].name, a->types[k].name) != 0)
            for (t = 0; t < cfg->n_event_types; t++)
                if (strcmp(cfg->event_types[t].name, a->types[k].name) == 0)
                    break;
        if (t < cfg->n_event_types)
            tl[t] = a->types[k].ms;
    }
    return 0;
}

/* ---- loaded from the store, written back ---------------------------------------------------- */

static void copy_str(char *dst, size_t size, const char *v, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

/* A field of :m. 0 or -1 (out of memory). */
static int load_m(struct cw_account_mem *a, const char *f, size_t flen, const char *v, size_t vlen)
{
    int64_t x;
    int32_t day;
    struct cw_traits *t = &a->traits;
    bool num = cw_parse_i64(v, vlen, &x) == 0;
    if (strcmp(f, "v") == 0 && num && x >= 0) {
        a->version = (uint64_t)x;
    } else if (strcmp(f, "first_day") == 0 && cw_parse_i32(v, vlen, &day) == 0) {
        a->has_first_day = true;
        a->first_day = day;
    } else if (strcmp(f, "last_day") == 0 && cw_parse_i32(v, vlen, &day) == 0) {
        a->has_last_day = true;
        a->last_day = day;
    } else if (strcmp(f, "last_seen") == 0 && num) {
        a->has_last_seen = true;
        a->last_seen_ms = x;
    } else if (strcmp(f, "tr:ts") == 0 && num) {
        a->has_traits_ts = true;
        a->traits_ts_ms = x;
    } else if (strcmp(f, "tr:seats") == 0 && num) {
        t->has_seats = true;
        t->seats = x;
    } else if (strcmp(f, "tr:created_at") == 0 && num) {
        t->has_created_at = true;
        t->created_at_ms = x;
    } else if (strcmp(f, "tr:renewal_at") == 0 && num) {
        t->has_renewal_at = true;
        t->renewal_at_ms = x;
    } else if (strcmp(f, "tr:plan") == 0) {
        copy_str(t->plan, sizeof t->plan, v, vlen);
    } else if (strcmp(f, "tr:segment") == 0) {
        copy_str(t->segment, sizeof t->segment, v, vlen);
    } else if (strcmp(f, "tr:owner") == 0) {
        copy_str(t->owner, sizeof t->owner, v, vlen);
    } else if (strcmp(f, "tr:parent_id") == 0) {
        copy_str(t->parent_id, sizeof t->parent_id, v, vlen);
    } else if (strncmp(f, "t:", 2) == 0 && num) {
        if (type_merge(a, f + 2, SIZE_MAX, x) < 0)
            return -1;
    } else if (strncmp(f, "o:", 2) == 0 && num) {
        const char *colon = NULL;
        for (const char *q = f + 2; q < f + flen; q++)
            if (*q == ':')
                colon = q;
        int32_t part;
        if (colon && colon > f + 2 &&
            cw_parse_i32(colon + 1, flen - (size_t)(colon + 1 - f), &part) == 0) {
            char topic[256];
            if ((size_t)(colon - f - 2) < sizeof topic) {
                copy_str(topic, sizeof topic, f + 2, (size_t)(colon - f - 2));
                if (src_set(a, topic, part, x) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

int cw_account_mem_load_field(struct cw_account_mem *a, char hash, const char *f, size_t flen,
                              const char *v, size_t vlen)
{
    if (a->broken)
        return -1;
    int32_t day;
    int rc = 0;
    switch (hash) {
    case 'm':
        rc = load_m(a, f, flen, v, vlen);
        break;
    case 'd': {
        int slot;
        struct cw_value_day vd;
        if (cw_value_field_parse(f, flen, &day, &slot) == 0) {
            if (cw_value_day_parse(v, vlen, &vd) < 0)
                break; /* malformed: ignored, as a load does */
            struct mem_day *d = day_get(a, day, 0);
            struct cw_value_day *held = d ? day_val(d, slot) : NULL;
            if (!held)
                rc = -1;
            else
                *held = vd;
            break;
        }
        if (cw_parse_i32(f, flen, &day) == 0 && vlen >= 4) {
            struct mem_day *d = day_get(a, day, vlen / 4);
            if (!d) {
                rc = -1;
                break;
            }
            for (size_t s = 0; s < vlen / 4; s++)
                d->cells[s] = cw_counters_get(v, vlen, (int)s);
        }
        break;
    }
    case 'u':
        if (cw_parse_i32(v, vlen, &day) == 0) {
            char id[CW_ID_MAX + 1];
            if (flen <= CW_ID_MAX && !memchr(f, '\0', flen)) {
                copy_str(id, sizeof id, f, flen);
                rc = user_set(a, id, day);
            }
        }
        break;
    case 'e': { /* malformed: read past, as a load does */
        struct cw_eng_day days[CW_MAX_WINDOW_DAYS];
        int n = cw_eng_parse(v, vlen, days, CW_MAX_WINDOW_DAYS);
        if (n <= 0 || flen > CW_ID_MAX || memchr(f, '\0', flen) || eng_find(a, f, flen))
            break;
        struct mem_eng *e = eng_new(a, f, flen);
        if (!e || eng_reserve(e, (size_t)n) < 0) {
            rc = -1;
            break;
        }
        memcpy(e->days, days, (size_t)n * sizeof *days);
        e->n = (size_t)n;
        e->stored = true;
        break;
    }
    default:
        break;
    }
    if (rc < 0) {
        a->broken = true;
        return -1;
    }
    return 0;
}

void cw_account_mem_loaded(struct cw_account_mem *a)
{
    cw_account_mem_written(a, a->version);
}

bool cw_account_mem_last_day(const struct cw_account_mem *a, int32_t *day)
{
    if (!a || !a->has_last_day)
        return false;
    *day = a->last_day;
    return true;
}

uint64_t cw_account_mem_version(const struct cw_account_mem *a)
{
    return a->version;
}

unsigned cw_account_mem_expire(const struct cw_account_mem *a)
{
    /* :d (:u) keeps its lifetime when a field it held survives the write-back: a day (user)
     * held since the last load or write-back that was not pruned since. Every writer gives
     * the hash a lifetime when it creates it, so only a hash the write-back creates (or
     * empties and fills again) needs the EXPIRE NX. */
    unsigned expire = a->expire;
    for (size_t i = 0; (expire & CW_MEM_EXPIRE_DAYS_NX) && i < a->n_days; i++)
        if (a->days[i].stored)
            expire &= ~CW_MEM_EXPIRE_DAYS_NX;
    for (size_t i = 0; (expire & CW_MEM_EXPIRE_USERS_NX) && i < a->n_users; i++)
        if (a->users[i].stored)
            expire &= ~CW_MEM_EXPIRE_USERS_NX;
    for (size_t i = 0; (expire & CW_MEM_EXPIRE_ENG_NX) && i < a->n_eng; i++)
        if (a->eng[i].stored)
            expire &= ~CW_MEM_EXPIRE_ENG_NX;
    return expire;
}

/* The day's counters packed as :d holds them. 0 or -1 (out of memory). */
static int add_day_value(struct cw_rcmd *c, const struct mem_day *d)
{
    unsigned char stack[256] = {0};
    size_t w = d->width;
    unsigned char *buf = 4 * w <= sizeof stack ? stack : calloc(w, 4);
    if (!buf)
        return -1;
    for (size_t s = 0; s < w; s++) {
        uint32_t x = d->cells[s];
        buf[4 * s] = (unsigned char)x;
        buf[4 * s + 1] = (unsigned char)(x >> 8);
        buf[4 * s + 2] = (unsigned char)(x >> 16);
        buf[4 * s + 3] = (unsigned char)(x >> 24);
    }
    int rc = cw_rcmd_add(c, buf, 4 * w);
    if (buf != stack)
        free(buf);
    return rc;
}

/* The trait fields of :m the account holds (those a traits event never carried are
 * absent), as cw_store_add_traits formats them. */
static size_t trait_fields(const struct cw_account_mem *a, struct cw_rcmd *c)
{
    const struct cw_traits *t = &a->traits;
    size_t n = 1; /* tr:ts */
    if (c) {
        cw_rcmd_adds(c, "tr:ts");
        cw_rcmd_addll(c, (long long)a->traits_ts_ms);
    }
#define TRAIT_INT(has, name, v)                                                                    \
    if (has) {                                                                                     \
        n++;                                                                                       \
        if (c) {                                                                                   \
            cw_rcmd_adds(c, name);                                                                 \
            cw_rcmd_addll(c, (long long)(v));                                                      \
        }                                                                                          \
    }
#define TRAIT_STR(s, name)                                                                         \
    if ((s)[0]) {                                                                                  \
        n++;                                                                                       \
        if (c) {                                                                                   \
            cw_rcmd_adds(c, name);                                                                 \
            cw_rcmd_adds(c, s);                                                                    \
        }                                                                                          \
    }
    TRAIT_INT(t->has_seats, "tr:seats", t->seats)
    TRAIT_INT(t->has_created_at, "tr:created_at", t->created_at_ms)
    TRAIT_INT(t->has_renewal_at, "tr:renewal_at", t->renewal_at_ms)
    TRAIT_STR(t->plan, "tr:plan")
    TRAIT_STR(t->segment, "tr:segment")
    TRAIT_STR(t->owner, "tr:owner")
    /* a detach is written as "" (cw_apply stores the empty parent_id it carries) */
    if (cw_traits_carry_parent(t)) {
        n++;
        if (c) {
            cw_rcmd_adds(c, "tr:parent_id");
            cw_rcmd_adds(c, t->parent_id);
        }
    }
#undef TRAIT_INT
#undef TRAIT_STR
    return n;
}

/* The dirty fields of :m as field/value pairs appended to c (c NULL: only counted). */
static size_t m_fields(const struct cw_account_mem *a, struct cw_rcmd *c)
{
    size_t n = 0;
    if (a->dirty_days) {
        n += 2;
        if (c) {
            cw_rcmd_adds(c, "first_day");
            cw_rcmd_addll(c, a->first_day);
            cw_rcmd_adds(c, "last_day");
            cw_rcmd_addll(c, a->last_day);
        }
    }
    if (a->dirty_seen) {
        n++;
        if (c) {
            cw_rcmd_adds(c, "last_seen");
            cw_rcmd_addll(c, (long long)a->last_seen_ms);
        }
    }
    if (a->dirty_traits)
        n += trait_fields(a, c);
    for (size_t i = 0; i < a->n_types; i++)
        if (a->types[i].dirty) {
            n++;
            if (c) {
                cw_rcmd_add_prefixed(c, "t:", a->types[i].name);
                cw_rcmd_addll(c, (long long)a->types[i].ms);
            }
        }
    for (size_t i = 0; i < a->n_src; i++)
        if (a->src[i].dirty) {
            n++;
            if (c) {
                cw_rcmd_addf(c, "o:%s:%d", a->src[i].topic, (int)a->src[i].partition);
                cw_rcmd_addll(c, (long long)a->src[i].wm);
            }
        }
    return n;
}

static bool day_held(const struct cw_account_mem *a, int32_t day)
{
    for (size_t i = 0; i < a->n_days; i++)
        if (a->days[i].day == day)
            return true;
    return false;
}

static bool val_held(const struct cw_account_mem *a, const struct pend_val *g)
{
    for (size_t i = 0; i < a->n_days; i++)
        if (a->days[i].day == g->day)
            for (size_t v = 0; v < a->days[i].n_vals; v++)
                if (a->days[i].vals[v].slot == g->slot)
                    return true;
    return false;
}

/* A user dropped from :e and not held again since. */
static bool eng_gone(const struct cw_account_mem *a, const char *id)
{
    return !eng_find(a, id, strlen(id));
}

bool cw_account_mem_put_args(const struct cw_account_mem *a, bool eng, struct cw_rcmd *c)
{
    size_t nm = m_fields(a, NULL), nd = 0, nu = 0, ngd = 0, ngu = 0;
    for (size_t i = 0; i < a->n_days; i++)
        if (a->days[i].dirty)
            nd += (a->days[i].width > 0) + a->days[i].n_vals;
    for (size_t i = 0; i < a->n_users; i++)
        nu += a->users[i].dirty;
    /* a day or user pruned and held again since is written, not deleted */
    for (size_t i = 0; i < a->n_gone_days; i++)
        ngd += !day_held(a, a->gone_days[i]);
    for (size_t i = 0; i < a->n_gone_vals; i++)
        ngd += !val_held(a, &a->gone_vals[i]);
    for (size_t i = 0; i < a->n_gone_users; i++) {
        size_t slot;
        ngu += !a->cap_umap || !user_find(a, a->gone_users[i], &slot);
    }
    cw_rcmd_addll(c, (long long)nm);
    m_fields(a, c);
    cw_rcmd_addll(c, (long long)nd);
    char text[CW_VALUE_DAY_TEXT_MAX];
    for (size_t i = 0; i < a->n_days; i++) {
        const struct mem_day *d = &a->days[i];
        if (!d->dirty)
            continue;
        if (d->width > 0) {
            cw_rcmd_addll(c, d->day);
            if (add_day_value(c, d) < 0)
                c->oom = 1;
        }
        for (size_t v = 0; v < d->n_vals; v++) {
            int n = cw_value_day_format(&d->vals[v].v, text, sizeof text);
            cw_rcmd_add_pair(c, d->day, d->vals[v].slot);
            cw_rcmd_add(c, text, n > 0 ? (size_t)n : 0);
        }
    }
    cw_rcmd_addll(c, (long long)nu);
    for (size_t i = 0; i < a->n_users; i++)
        if (a->users[i].dirty) {
            cw_rcmd_adds(c, a->users[i].id);
            cw_rcmd_addll(c, a->users[i].day);
        }
    cw_rcmd_addll(c, (long long)ngd);
    for (size_t i = 0; i < a->n_gone_days; i++)
        if (!day_held(a, a->gone_days[i]))
            cw_rcmd_addll(c, a->gone_days[i]);
    for (size_t i = 0; i < a->n_gone_vals; i++)
        if (!val_held(a, &a->gone_vals[i]))
            cw_rcmd_add_pair(c, a->gone_vals[i].day, a->gone_vals[i].slot);
    cw_rcmd_addll(c, (long long)ngu);
    for (size_t i = 0; i < a->n_gone_users; i++) {
        size_t slot;
        if (!a->cap_umap || !user_find(a, a->gone_users[i], &slot))
            cw_rcmd_adds(c, a->gone_users[i]);
    }
    if (!eng)
        return nm + nd + nu + ngd + ngu > 0;
    size_t ne = 0, nge = 0;
    for (size_t i = 0; i < a->n_eng; i++)
        ne += a->eng[i].dirty;
    for (size_t i = 0; i < a->n_gone_eng; i++)
        nge += eng_gone(a, a->gone_eng[i]);
    cw_rcmd_addll(c, (long long)ne);
    char etext[CW_ENG_TEXT_MAX];
    for (size_t i = 0; i < a->n_eng; i++)
        if (a->eng[i].dirty) {
            int n = cw_eng_format(a->eng[i].days, a->eng[i].n, etext, sizeof etext);
            cw_rcmd_adds(c, a->eng[i].id);
            cw_rcmd_add(c, etext, n > 0 ? (size_t)n : 0);
        }
    cw_rcmd_addll(c, (long long)nge);
    for (size_t i = 0; i < a->n_gone_eng; i++)
        if (eng_gone(a, a->gone_eng[i]))
            cw_rcmd_adds(c, a->gone_eng[i]);
    return nm + nd + nu + ngd + ngu + ne + nge > 0;
}

void cw_account_mem_written(struct cw_account_mem *a, uint64_t version)
{
    a->version = version;
    a->dirty_days = a->dirty_seen = a->dirty_traits = false;
    a->expire = 0;
    for (size_t i = 0; i < a->n_src; i++)
        a->src[i].dirty = false;
    for (size_t i = 0; i < a->n_types; i++)
        a->types[i].dirty = false;
    for (size_t i = 0; i < a->n_days; i++) {
        a->days[i].dirty = false;
        a->days[i].stored = true;
    }
    for (size_t i = 0; i < a->n_users; i++) {
        a->users[i].dirty = false;
        a->users[i].stored = true;
    }
    for (size_t i = 0; i < a->n_gone_users; i++)
        free(a->gone_users[i]);
    a->n_gone_users = a->n_gone_days = a->n_gone_vals = 0;
    for (size_t i = 0; i < a->n_eng; i++) {
        a->eng[i].dirty = false;
        a->eng[i].stored = true;
    }
    for (size_t i = 0; i < a->n_gone_eng; i++)
        free(a->gone_eng[i]);
    a->n_gone_eng = 0;
}

int64_t cw_account_mem_refreshed_ms(const struct cw_account_mem *a)
{
    return a->refreshed_ms;
}

void cw_account_mem_set_refreshed_ms(struct cw_account_mem *a, int64_t ms)
{
    a->refreshed_ms = ms;
}

size_t cw_account_mem_bytes(const struct cw_account_mem *a)
{
    /* the allocations, each with malloc's ~16 bytes of overhead */
    size_t n = sizeof *a + 16;
    n += a->cap_src * sizeof *a->src + a->cap_types * sizeof *a->types;
    n += a->cap_days * sizeof *a->days + a->cap_users * sizeof *a->users;
    n += a->cap_umap * sizeof *a->umap + 64;
    n += a->name_bytes + (a->n_src + a->n_types) * 16;
    for (size_t i = 0; i < a->n_days; i++)
        n += a->days[i].width * sizeof(uint32_t) + 16 +
             (a->days[i].n_vals ? a->days[i].n_vals * sizeof(struct mem_val) + 16 : 0);
    n += a->cap_gone_vals * sizeof *a->gone_vals;
    n += a->user_id_bytes + a->n_users * 16;
    n += a->cap_eng * sizeof *a->eng + a->cap_gone_eng * sizeof *a->gone_eng;
    for (size_t i = 0; i < a->n_eng; i++)
        n += strlen(a->eng[i].id) + 1 + 16 + a->eng[i].cap * sizeof *a->eng[i].days + 16;
    return n;
}
