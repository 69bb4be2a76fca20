/* store_load.c - loading accounts: their hashes read and parsed into cw_account_data */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

const char *const cw_store_load_suffix[CW_STORE_LOAD_KEYS + 1] = {"m", "d", "u", "r",
                                                                  "h", "x", "o", "e"};

int cw_store_load_prepare(cw_store *st, struct cw_store_load_ctx *l, char *err, size_t errsize)
{
    if (l->cfg->n_metrics > CW_MAX_METRICS || l->cfg->n_rules > CW_MAX_RULES) {
        snprintf(err, errsize, "store: more than %d metrics or %d rules", CW_MAX_METRICS,
                 CW_MAX_RULES);
        return -1;
    }
    return cw_store_resolve_slots(st, l->cfg, l->slots, err, errsize);
}

static int load_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    return cw_store_load_prepare(st, vctx, err, errsize);
}

/* Operation i of a load: account i / k, hash `*which` (k hashes an account: all of them,
 * or l->hashes). */
static size_t load_op(const struct cw_store_load_ctx *l, size_t i, size_t *which)
{
    size_t k = l->n_hashes ? l->n_hashes : cw_store_load_keys(l->cfg);
    *which = l->n_hashes ? l->hashes[i % k] : i % k;
    return i / k;
}

static int load_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct cw_store_load_ctx *l = vctx;
    size_t which, a = load_op(l, i, &which);
    cw_rcmd_adds(c, "HGETALL");
    cw_store_add_account_key(st, c, l->ids[a], cw_store_load_suffix[which]);
    return c->oom ? -1 : 0;
}

int cw_store_load_reset(struct cw_store_load_ctx *l, struct cw_account_data *d, const char *id)
{
    const struct cw_config *cfg = l->cfg;
    snprintf(d->account_id, sizeof d->account_id, "%s", id);
    d->exists = false;
    cw_account_data_children_clear(d); /* read apart (cw_store_load_children) */
    d->first_day = CW_DAY_NONE;
    d->last_seen_ms = -1;
    memset(&d->traits, 0, sizeof d->traits);
    d->today = l->today;
    d->horizon = l->horizon;
    size_t cells = cfg->n_metrics * l->horizon;
    uint32_t *daily = realloc(d->daily, (cells ? cells : 1) * sizeof *daily);
    if (!daily)
        return -1;
    d->daily = daily;
    memset(daily, 0, cells * sizeof *daily);
    if (cw_account_data_values_reset(d, cfg, l->horizon) < 0)
        return -1;
    d->n_metrics = cfg->n_metrics;
    int64_t *tl =
        realloc(d->type_last_ms, (cfg->n_event_types ? cfg->n_event_types : 1) * sizeof *tl);
    if (!tl)
        return -1;
    d->type_last_ms = tl;
    for (size_t t = 0; t < cfg->n_event_types; t++)
        tl[t] = -1;
    d->n_event_types = cfg->n_event_types;
    d->n_users = 0;
    cw_account_data_eng_clear(d);
    d->n_history = 0;
    d->h_last_known = false;
    d->h_last = CW_DAY_NONE;
    d->has_last_score = false;
    d->last_score = 0;
    d->n_rules = cfg->n_rules; /* <= CW_MAX_RULES (cw_store_load_prepare); none past it read */
    memset(d->rules, 0, d->n_rules * sizeof d->rules[0]);
    for (size_t r = 0; r < d->n_rules; r++)
        d->rule_raw[r][0] = '\0';
    d->n_silences = 0;
    d->n_episodes = 0;
    cw_account_data_outbox_clear(d);
    memset(&d->feed, 0, sizeof d->feed);
    if (d->feed_raw)
        d->feed_raw[0] = '\0';
    return 0;
}

/* The score feed's fields of the rule-state hash (score_feed.h): its state, kept raw for
 * the compare-and-set and parsed, and its entries. 0, or -1 when out of memory. */
static int load_feed_field(struct cw_account_data *d, const redisReply *f, const redisReply *v)
{
    if (strcmp(f->str, CW_FEED_STATE_FIELD) != 0)
        return cw_store_feed_entry_add(d, f->str, f->len, v->str, v->len);
    if (v->len + 1 > d->cap_feed_raw) {
        char *raw = realloc(d->feed_raw, v->len + 1);
        if (!raw)
            return -1;
        d->feed_raw = raw;
        d->cap_feed_raw = v->len + 1;
    }
    memcpy(d->feed_raw, v->str, v->len);
    d->feed_raw[v->len] = '\0';
    /* A state this daemon cannot read is "nothing published": the next score is published
     * as a first one, and the compare-and-set still protects whoever wrote it. */
    cw_feed_last_decode(v->str, v->len, &d->feed);
    return 0;
}

/* v (len bytes) into dst, cut to max bytes and NUL-terminated (dst holds max + 1). */
static void copy_trait_max(char *dst, size_t max, const char *v, size_t len)
{
    if (len > max)
        len = max;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static void copy_trait(char *dst, const char *v, size_t len)
{
    copy_trait_max(dst, CW_TRAIT_MAX, v, len);
}

static void load_field_m(const struct cw_config *cfg, struct cw_account_data *d,
                         const redisReply *f, const redisReply *v)
{
    const char *k = f->str;
    int64_t x;
    if (strcmp(k, "first_day") == 0) {
        int32_t day;
        if (cw_parse_i32(v->str, v->len, &day) == 0)
            d->first_day = day;
    } else if (strcmp(k, "h_last") == 0) {
        int32_t day;
        if (cw_parse_i32(v->str, v->len, &day) == 0)
            d->h_last = day;
    } else if (strcmp(k, "last_seen") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0)
            d->last_seen_ms = x;
    } else if (strncmp(k, "t:", 2) == 0) {
        for (size_t t = 0; t < cfg->n_event_types; t++)
            if (strcmp(cfg->event_types[t].name, k + 2) == 0 &&
                cw_parse_i64(v->str, v->len, &x) == 0)
                d->type_last_ms[t] = x;
    } else if (strcmp(k, "tr:seats") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0 && x >= 0) {
            d->traits.has_seats = true;
            d->traits.seats = x;
        }
    } else if (strcmp(k, "tr:created_at") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0) {
            d->traits.has_created_at = true;
            d->traits.created_at_ms = x;
        }
    } else if (strcmp(k, "tr:renewal_at") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0) {
            d->traits.has_renewal_at = true;
            d->traits.renewal_at_ms = x;
        }
    } else if (strcmp(k, "tr:plan") == 0) {
        copy_trait(d->traits.plan, v->str, v->len);
    } else if (strcmp(k, "tr:segment") == 0) {
        copy_trait(d->traits.segment, v->str, v->len);
    } else if (strcmp(k, "tr:owner") == 0) {
        copy_trait(d->traits.owner, v->str, v->len);
    } else if (strcmp(k, "tr:parent_id") == 0) {
        copy_trait_max(d->traits.parent_id, CW_ID_MAX, v->str, v->len);
    }
}

static int cmp_point(const void *a, const void *b)
{
    const struct cw_score_point *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

void cw_store_load_values(const struct cw_config *cfg, const int *slots, int32_t today,
                          uint32_t horizon, struct cw_account_data *d, const char *f, size_t flen,
                          const char *v, size_t vlen)
{
    int32_t day;
    int slot;
    struct cw_value_day vd;
    if (cw_value_field_parse(f, flen, &day, &slot) < 0 || day > today ||
        (int64_t)today - day >= (int64_t)horizon || cw_value_day_parse(v, vlen, &vd) < 0)
        return;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (slots[m] == slot && cfg->metrics[m].valued)
            d->values[m * horizon + (size_t)(today - day)] = vd;
}

/* Consume field f / value v of hash `which` (index into cw_store_load_suffix) into d. */
static int load_field(struct cw_store_load_ctx *l, struct cw_account_data *d, size_t which,
                      const redisReply *f, const redisReply *v)
{
    const struct cw_config *cfg = l->cfg;
    int32_t day;
    switch (which) {
    case 0:
        load_field_m(cfg, d, f, v);
        break;
    case 1: /* day -> packed counters; day:slot -> a metric's values of the day */
        if (d->values && memchr(f->str, ':', f->len)) {
            cw_store_load_values(cfg, l->slots, l->today, l->horizon, d, f->str, f->len, v->str,
                                 v->len);
            break;
        }
        if (cw_parse_i32(f->str, f->len, &day) == 0 && day <= l->today &&
            (int64_t)l->today - day < (int64_t)l->horizon) {
            size_t age = (size_t)(l->today - day);
            for (size_t m = 0; m < cfg->n_metrics; m++)
                if (l->slots[m] >= 0)
                    d->daily[m * l->horizon + age] = cw_counters_get(v->str, v->len, l->slots[m]);
        }
        break;
    case 2: /* user -> last day */
        if (cw_parse_i32(v->str, v->len, &day) == 0) {
            if (d->n_users == d->cap_users) {
                size_t cap = d->cap_users ? d->cap_users * 2 : 64;
                int32_t *u = realloc(d->user_last_day, cap * sizeof *u);
                if (!u)
                    return -1;
                d->user_last_day = u;
                d->cap_users = cap;
            }
            d->user_last_day[d->n_users++] = day;
        }
        break;
    case 3: /* rule -> state; recent episodes and the score feed's fields, which no rule
               name can be (one that does not parse is read past) */
        if (f->str[0] == ':') {
            struct cw_episode ep;
            if (cw_episode_decode(f->str, f->len, v->str, v->len, &ep) == 0)
                d->n_episodes = cw_episodes_keep(d->episodes, d->n_episodes, CW_EPISODES_KEPT, &ep);
            else if (cfg->scores.topic &&
                     strncmp(f->str, CW_FEED_STATE_FIELD, sizeof CW_FEED_STATE_FIELD - 1) == 0)
                return load_feed_field(d, f, v);
            break;
        }
        for (size_t r = 0; r < cfg->n_rules; r++) {
            if (strcmp(cfg->rules[r].name, f->str) != 0)
                continue;
            if (v->len < sizeof d->rule_raw[r] && !memchr(v->str, '\0', v->len))
                memcpy(d->rule_raw[r], v->str, v->len + 1);
            if (cw_rule_state_decode(v->str, &d->rules[r]) < 0)
                memset(&d->rules[r], 0, sizeof d->rules[r]);
        }
        break;
    case 4: /* day -> score */
        if (cw_parse_i32(f->str, f->len, &day) == 0) {
            char *end;
            double s = strtod(v->str, &end);
            if (end == v->str || *end)
                break;
            if (d->n_history == d->cap_history) {
                size_t cap = d->cap_history ? d->cap_history * 2 : 64;
                struct cw_score_point *h = realloc(d->history, cap * sizeof *h);
                if (!h)
                    return -1;
                d->history = h;
                d->cap_history = cap;
            }
            d->history[d->n_history].day = day;
            d->history[d->n_history].score = s;
            d->n_history++;
        }
        break;
    case 6: /* alert key -> alert JSON waiting for the broker's acknowledgement */
        if (cw_store_outbox_add(cfg, d, f->str, f->len, v->str, v->len) < 0)
            return -1;
        break;
    case CW_STORE_KEY_ENG: { /* user -> engagement days (docs/users.md); malformed: read past */
        struct cw_eng_day days[CW_MAX_WINDOW_DAYS];
        int n = cw_eng_parse(v->str, v->len, days, CW_MAX_WINDOW_DAYS);
        if (n > 0 && f->len <= CW_ID_MAX &&
            cw_account_data_eng_add(d, f->str, f->len, days, (size_t)n) < 0)
            return -1;
        break;
    }
    default: /* rule ("*" = all) -> silence */
        if (d->n_silences < sizeof d->silences / sizeof d->silences[0] &&
            f->len < sizeof d->silences[0].rule) {
            struct cw_silence *s = &d->silences[d->n_silences];
            memset(s, 0, sizeof *s);
            memcpy(s->account_id, d->account_id, strlen(d->account_id) + 1);
            if (strcmp(f->str, "*") != 0)
                memcpy(s->rule, f->str, f->len + 1);
            if (cw_silence_value_decode(v->str, v->len, s) == 0)
                d->n_silences++;
        }
        break;
    }
    return 0;
}

int cw_store_load_hash(struct cw_store_load_ctx *l, struct cw_account_data *d, const char *id,
                       size_t which, bool values, const redisReply *r, char *err, size_t errsize)
{
    if (which == 0 && cw_store_load_reset(l, d, id) < 0) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    size_t step = values && which == 2 ? 1 : 2;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % step != 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    for (size_t k = 0; k < r->elements; k += step) {
        const redisReply *f = r->element[k], *v = r->element[k + step - 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "unexpected element type");
            return -1;
        }
        if (load_field(l, d, which, f, v) < 0) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    if (which == 0) {
        d->exists = r->elements > 0;
        d->h_last_known = true; /* all of :m read: h_last is there or is not */
    }
    if (which == 3)
        cw_store_feed_entries_sort(d);
    if (which == 4 && d->n_history > 0) {
        qsort(d->history, d->n_history, sizeof *d->history, cmp_point);
        d->has_last_score = true;
        d->last_score = d->history[d->n_history - 1].score;
    }
    return 0;
}

static int load_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                      size_t errsize)
{
    (void)st;
    struct cw_store_load_ctx *l = vctx;
    size_t which, a = load_op(l, i, &which);
    return cw_store_load_hash(l, &l->out[a], l->ids[a], which, false, r, err, errsize);
}

/* The accounts' hashes (n_hashes of them, or all when hashes is NULL) in one pipelined run. */
static int load_hashes(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                       int32_t today, struct cw_account_data *out, const size_t *hashes,
                       size_t n_hashes, char *err, size_t errsize)
{
    struct cw_store_load_ctx l = {
        .cfg = cfg, .ids = ids, .out = out, .today = today, .hashes = hashes, .n_hashes = n_hashes};
    l.horizon = cw_store_row_days(cfg);
    struct cw_store_ops o = {.n = n * (n_hashes ? n_hashes : cw_store_load_keys(cfg)),
                             .ctx = &l,
                             .prepare = load_prepare,
                             .build = load_build,
                             .reply = load_reply};
    return cw_store_ops_run(st, &o, err, errsize);
}

int cw_store_load(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                  int32_t today, struct cw_account_data *out, char *err, size_t errsize)
{
    return load_hashes(st, cfg, ids, n, today, out, NULL, 0, err, errsize);
}

/* The hashes cw_store_load_rules reads: metadata (first: it starts the account) and rules. */
static const size_t rules_hashes[] = {0, 3};

int cw_store_load_rules(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                        int32_t today, struct cw_account_data *out, char *err, size_t errsize)
{
    return load_hashes(st, cfg, ids, n, today, out, rules_hashes,
                       sizeof rules_hashes / sizeof rules_hashes[0], err, errsize);
}
