/* store_delta.c - one account's events of a batch coalesced into one cw_apply_delta call */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "redis_cmd.h"
#include "store_internal.h"

bool cw_store_event_usable(const struct cw_config *cfg, const struct cw_store_event *e)
{
    return e->user_id && e->topic && e->offset >= 0 && e->partition >= 0 && e->type_index >= 0 &&
           (size_t)e->type_index < cfg->n_event_types && e->type_index < CW_MAX_EVENT_TYPES;
}

int cw_store_event_flags(const struct cw_config *cfg, const struct cw_store_event *e)
{
    const struct cw_event_type *et = &cfg->event_types[e->type_index];
    int activity = (et->traits && et->metric < 0) ? 0 : 1;
    return activity | (e->traits ? 2 : 0) | (activity && e->has_value ? 4 : 0) |
           (e->traits && cw_traits_carry_parent(e->traits) ? 8 : 0) |
           (activity && cw_store_event_points(cfg, e) ? 16 : 0);
}

uint32_t cw_store_event_points(const struct cw_config *cfg, const struct cw_store_event *e)
{
    if (!cfg->users.enabled || !e->user_id[0])
        return 0;
    return cfg->users.weight[e->type_index];
}

int cw_store_add_value(struct cw_rcmd *c, double v)
{
    return cw_rcmd_addf(c, "%.17g", v);
}

static void add_opt_i64(struct cw_rcmd *c, bool has, int64_t v)
{
    if (has)
        cw_rcmd_addll(c, (long long)v);
    else
        cw_rcmd_add(c, "", 0);
}

void cw_store_add_traits(struct cw_rcmd *c, const struct cw_traits *t)
{
    add_opt_i64(c, t->has_seats, t->seats);
    add_opt_i64(c, t->has_created_at, t->created_at_ms);
    add_opt_i64(c, t->has_renewal_at, t->renewal_at_ms);
    cw_rcmd_adds(c, t->plan);
    cw_rcmd_adds(c, t->segment);
    cw_rcmd_adds(c, t->owner);
}

struct delta_src {
    const char *topic;
    int32_t partition;
    int64_t min, max;
};

struct delta_day {
    int32_t day;
    size_t cells; /* index of its first counter in cells[] (width counters) */
};

struct delta_user {
    const char *id;
    int32_t day;
    size_t eng; /* its first engagement entry + 1, 0: none */
};

/* One metric's values of one day. */
struct delta_value {
    int32_t day;
    int slot;
    struct cw_value_day v;
};

struct cw_store_delta {
    struct delta_src *src;
    size_t n_src, cap_src;
    int64_t type_max[CW_MAX_EVENT_TYPES]; /* -1: no event of the type */
    struct delta_day *days;
    size_t n_days, cap_days;
    uint32_t *cells;
    size_t cap_cells;
    struct delta_user *users;
    size_t n_users, cap_users;
    uint32_t *umap; /* open addressing: index + 1 into users, 0 empty */
    size_t cap_umap;
    const struct cw_store_event **traits;
    size_t n_traits, cap_traits;
    struct delta_value *values;
    size_t n_values, cap_values;
    struct cw_eng_sums eng; /* the users' engagement points per day (docs/users.md) */
    char *packed;
    size_t cap_packed;
};

struct cw_store_delta *cw_store_delta_new(void)
{
    return calloc(1, sizeof(struct cw_store_delta));
}

void cw_store_delta_free(struct cw_store_delta *s)
{
    if (!s)
        return;
    free(s->src);
    free(s->days);
    free(s->cells);
    free(s->users);
    cw_eng_sums_free(&s->eng);
    free(s->umap);
    free(s->traits);
    free(s->values);
    free(s->packed);
    free(s);
}

static int add_source(struct cw_store_delta *s, const struct cw_store_event *e)
{
    for (size_t i = s->n_src; i-- > 0;) {
        struct delta_src *d = &s->src[i];
        if (d->partition == e->partition && strcmp(d->topic, e->topic) == 0) {
            if (e->offset < d->min)
                d->min = e->offset;
            if (e->offset > d->max)
                d->max = e->offset;
            return 0;
        }
    }
    if (cw_array_reserve(&s->src, &s->cap_src, s->n_src + 1, sizeof *s->src) < 0)
        return -1;
    s->src[s->n_src++] = (struct delta_src){
        .topic = e->topic, .partition = e->partition, .min = e->offset, .max = e->offset};
    return 0;
}

/* The counters of day (created zeroed), or NULL when out of memory. */
static uint32_t *day_cells(struct cw_store_delta *s, int32_t day, size_t width, size_t *last)
{
    if (*last < s->n_days && s->days[*last].day == day)
        return s->cells + s->days[*last].cells;
    for (size_t i = 0; i < s->n_days; i++)
        if (s->days[i].day == day) {
            *last = i;
            return s->cells + s->days[i].cells;
        }
    size_t at = s->n_days * width;
    if (cw_array_reserve(&s->days, &s->cap_days, s->n_days + 1, sizeof *s->days) < 0 ||
        cw_array_reserve(&s->cells, &s->cap_cells, at + width, sizeof *s->cells) < 0)
        return NULL;
    memset(s->cells + at, 0, width * sizeof *s->cells);
    s->days[s->n_days] = (struct delta_day){.day = day, .cells = at};
    *last = s->n_days++;
    return s->cells + at;
}

/* A value of day in slot. 0 or -1 (out of memory). */
static int value_seen(struct cw_store_delta *s, int32_t day, int slot, double v, int64_t ts)
{
    for (size_t i = s->n_values; i-- > 0;)
        if (s->values[i].day == day && s->values[i].slot == slot) {
            cw_value_day_add(&s->values[i].v, v, ts);
            return 0;
        }
    if (cw_array_reserve(&s->values, &s->cap_values, s->n_values + 1, sizeof *s->values) < 0)
        return -1;
    struct delta_value *dv = &s->values[s->n_values++];
    *dv = (struct delta_value){.day = day, .slot = slot};
    cw_value_day_add(&dv->v, v, ts);
    return 0;
}

/* The user's newest active day; returns the user's index. */
static size_t user_seen(struct cw_store_delta *s, const char *id, int32_t day)
{
    size_t mask = s->cap_umap - 1;
    for (size_t i = cw_str_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t k = s->umap[i];
        if (k == 0) {
            s->users[s->n_users] = (struct delta_user){.id = id, .day = day};
            s->umap[i] = (uint32_t)++s->n_users;
            return s->n_users - 1;
        }
        struct delta_user *u = &s->users[k - 1];
        if (strcmp(u->id, id) == 0) {
            if (day > u->day)
                u->day = day;
            return k - 1;
        }
    }
}

int cw_eng_sums_add(struct cw_eng_sums *s, size_t *head, size_t u, int32_t day, uint32_t points)
{
    size_t last = 0; /* the user's last entry + 1 */
    for (size_t k = *head; k; k = s->e[k - 1].next) {
        struct cw_eng_sum *e = &s->e[k - 1];
        if (e->day == day) {
            uint64_t sum = (uint64_t)e->points + points;
            e->points = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
            return 0;
        }
        last = k;
    }
    if (cw_array_reserve(&s->e, &s->cap, s->n + 1, sizeof *s->e) < 0)
        return -1;
    if (last == 0 &&
        cw_array_reserve(&s->order, &s->cap_order, s->n_order + 1, sizeof *s->order) < 0)
        return -1;
    s->e[s->n++] = (struct cw_eng_sum){.day = day, .points = points};
    if (last) {
        s->e[last - 1].next = s->n;
    } else {
        *head = s->n;
        s->order[s->n_order++] = u;
    }
    return 0;
}

/* Sum b's usable events into s. Returns how many there were, or -1 (out of memory). */
static long coalesce(struct cw_store_delta *s, const struct cw_config *cfg, const int *slots,
                     size_t width, const struct cw_store_batch *b, int32_t *first_day,
                     int32_t *last_day, int64_t *last_seen)
{
    s->n_src = s->n_days = s->n_users = s->n_traits = s->n_values = 0;
    cw_eng_sums_reset(&s->eng);
    for (size_t t = 0; t < CW_MAX_EVENT_TYPES; t++)
        s->type_max[t] = -1;
    size_t map = 16;
    while (map < 2 * b->n)
        map <<= 1;
    if (cw_array_reserve(&s->umap, &s->cap_umap, map, sizeof *s->umap) < 0 ||
        cw_array_reserve(&s->users, &s->cap_users, b->n, sizeof *s->users) < 0)
        return -1;
    s->cap_umap = map; /* the table is used at exactly this (power of two) size */
    memset(s->umap, 0, map * sizeof *s->umap);
    *first_day = *last_day = CW_DAY_NONE;
    *last_seen = -1;
    long n = 0;
    size_t last = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct cw_store_event *e = &b->events[i];
        if (!cw_store_event_usable(cfg, e))
            continue;
        n++;
        if (add_source(s, e) < 0)
            return -1;
        if (e->ts_ms > s->type_max[e->type_index])
            s->type_max[e->type_index] = e->ts_ms;
        int flags = cw_store_event_flags(cfg, e);
        if (flags & 1) {
            int slot = e->metric >= 0 && (size_t)e->metric < cfg->n_metrics ? slots[e->metric] : -1;
            if (slot >= 0) {
                uint32_t *c = day_cells(s, e->day, width, &last);
                if (!c)
                    return -1;
                if (c[slot] < UINT32_MAX)
                    c[slot]++;
                if ((flags & 4) && value_seen(s, e->day, slot, e->value, e->ts_ms) < 0)
                    return -1;
            }
            if (e->user_id[0]) {
                size_t u = user_seen(s, e->user_id, e->day);
                if ((flags & 16) && cw_eng_sums_add(&s->eng, &s->users[u].eng, u, e->day,
                                                    cw_store_event_points(cfg, e)) < 0)
                    return -1;
            }
            if (*first_day == CW_DAY_NONE || e->day < *first_day)
                *first_day = e->day;
            if (*last_day == CW_DAY_NONE || e->day > *last_day)
                *last_day = e->day;
            if (e->ts_ms > *last_seen)
                *last_seen = e->ts_ms;
        }
        if (flags & 2) {
            if (cw_array_reserve(&s->traits, &s->cap_traits, s->n_traits + 1, sizeof *s->traits) <
                0)
                return -1;
            s->traits[s->n_traits++] = e;
        }
    }
    return n;
}

int cw_store_delta_args(struct cw_store_delta *s, const struct cw_config *cfg, const int *slots,
                        const struct cw_store_batch *b, const struct cw_store_delta_params *p,
                        struct cw_rcmd *c)
{
    size_t width = 0;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (slots[m] >= 0 && (size_t)slots[m] + 1 > width)
            width = (size_t)slots[m] + 1;
    int32_t first_day, last_day;
    int64_t last_seen;
    long nev = coalesce(s, cfg, slots, width ? width : 1, b, &first_day, &last_day, &last_seen);
    if (nev < 0)
        return -1;
    if (nev == 0)
        return 1;

    cw_rcmd_addll(c, p->horizon);
    cw_rcmd_addll(c, p->ttl_short);
    cw_rcmd_addll(c, p->ttl_long);
    if (b->clock_day > 0)
        cw_rcmd_addll(c, b->clock_day);
    else
        cw_rcmd_adds(c, "");
    cw_rcmd_adds(c, p->want_state ? "1" : "0");
    cw_rcmd_addll(c, p->hist_from);
    cw_rcmd_addll(c, p->hist_to);
    cw_rcmd_addll(c, nev);

    cw_rcmd_addll(c, (long long)s->n_src);
    for (size_t i = 0; i < s->n_src; i++) {
        cw_rcmd_addf(c, "%s:%" PRId32, s->src[i].topic, s->src[i].partition);
        cw_rcmd_addll(c, (long long)s->src[i].min);
        cw_rcmd_addll(c, (long long)s->src[i].max);
    }

    long long ntypes = 0;
    for (size_t t = 0; t < cfg->n_event_types && t < CW_MAX_EVENT_TYPES; t++)
        ntypes += s->type_max[t] >= 0;
    cw_rcmd_addll(c, ntypes);
    for (size_t t = 0; t < cfg->n_event_types && t < CW_MAX_EVENT_TYPES; t++)
        if (s->type_max[t] >= 0) {
            cw_rcmd_adds(c, cfg->event_types[t].name);
            cw_rcmd_addll(c, (long long)s->type_max[t]);
        }

    if (first_day != CW_DAY_NONE) {
        cw_rcmd_addll(c, first_day);
        cw_rcmd_addll(c, last_day);
        cw_rcmd_addll(c, (long long)last_seen);
    } else {
        for (int k = 0; k < 3; k++)
            cw_rcmd_adds(c, "");
    }

    /* Day counters packed as the store keeps them: a little-endian u32 per slot. */
    if (cw_array_reserve(&s->packed, &s->cap_packed, 4 * (width ? width : 1), 1) < 0)
        return -1;
    cw_rcmd_addll(c, (long long)s->n_days);
    for (size_t i = 0; i < s->n_days; i++) {
        const uint32_t *cells = s->cells + s->days[i].cells;
        size_t used = width; /* up to the last slot counted, as cw_apply packs it */
        while (used > 1 && cells[used - 1] == 0)
            used--;
        for (size_t k = 0; k < used; k++) {
            s->packed[4 * k] = (char)(cells[k] & 0xff);
            s->packed[4 * k + 1] = (char)((cells[k] >> 8) & 0xff);
            s->packed[4 * k + 2] = (char)((cells[k] >> 16) & 0xff);
            s->packed[4 * k + 3] = (char)((cells[k] >> 24) & 0xff);
        }
        cw_rcmd_addll(c, s->days[i].day);
        cw_rcmd_add(c, s->packed, 4 * used);
    }

    cw_rcmd_addll(c, (long long)s->n_users);
    for (size_t i = 0; i < s->n_users; i++) {
        cw_rcmd_adds(c, s->users[i].id);
        cw_rcmd_addll(c, s->users[i].day);
    }

    cw_rcmd_addll(c, (long long)s->n_traits);
    for (size_t i = 0; i < s->n_traits; i++) {
        cw_rcmd_addll(c, (long long)s->traits[i]->ts_ms);
        cw_store_add_traits(c, s->traits[i]->traits);
    }

    size_t n_parents = 0;
    for (size_t i = 0; i < s->n_traits; i++)
        n_parents += cw_traits_carry_parent(s->traits[i]->traits);

    /* The values, only when there are some or parents follow (a library before them reads
     * no further); and the parents before the users' engagement. */
    bool eng = cfg->users.enabled;
    if (s->n_values > 0 || n_parents > 0 || eng) {
        char text[CW_VALUE_DAY_TEXT_MAX];
        cw_rcmd_addll(c, (long long)s->n_values);
        for (size_t i = 0; i < s->n_values; i++) {
            int n = cw_value_day_format(&s->values[i].v, text, sizeof text);
            cw_rcmd_addll(c, s->values[i].day);
            cw_rcmd_addll(c, s->values[i].slot);
            cw_rcmd_add(c, text, n > 0 ? (size_t)n : 0);
        }
    }

    /* The parents: the parent_id of each traits entry that carries one (1-based; "" for a
     * detach). */
    if (n_parents > 0 || eng) {
        cw_rcmd_addll(c, (long long)n_parents);
        for (size_t i = 0; i < s->n_traits; i++)
            if (cw_traits_carry_parent(s->traits[i]->traits)) {
                cw_rcmd_addll(c, (long long)i + 1);
                cw_rcmd_adds(c, s->traits[i]->traits->parent_id);
            }
    }

    /* The users' engagement points per day, users in order of their first points; then
     * users.window and users.max_tracked (docs/users.md). */
    if (eng) {
        cw_rcmd_addll(c, (long long)s->eng.n);
        for (size_t k = 0; k < s->eng.n_order; k++) {
            const struct delta_user *u = &s->users[s->eng.order[k]];
            for (size_t e = u->eng; e; e = s->eng.e[e - 1].next) {
                cw_rcmd_adds(c, u->id);
                cw_rcmd_addll(c, s->eng.e[e - 1].day);
                cw_rcmd_addll(c, s->eng.e[e - 1].points);
            }
        }
        cw_rcmd_addll(c, cfg->users.window_days);
        cw_rcmd_addll(c, cfg->users.max_tracked);
    }
    return c->oom ? -1 : 0;
}
