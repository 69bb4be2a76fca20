/* store_apply.c - applying events: one by one (cw_apply) or coalesced and loaded back */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cmd.h"
#include "store_internal.h"

/* One operation of an apply: events [first, end) of a batch, or its accounts-index ZADD. */
struct apply_op {
    size_t batch;
    size_t first, end;
    bool zadd;
};

struct apply_ctx {
    const struct cw_config *cfg;
    struct cw_store_batch *batches;
    size_t n_batches;
    struct apply_op *ops;
    int slots[CW_MAX_METRICS];
    unsigned epoch;
    bool resolved;
    long long horizon, ttl_short, ttl_long;
};

static int apply_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct apply_ctx *a = vctx;
    if (a->resolved && a->epoch == st->slot_epoch)
        return 0;
    if (a->cfg->n_metrics > CW_MAX_METRICS) {
        snprintf(err, errsize, "store: more than %d metrics", CW_MAX_METRICS);
        return -1;
    }
    if (cw_store_resolve_slots(st, a->cfg, a->slots, err, errsize) < 0)
        return -1;
    a->epoch = st->slot_epoch;
    a->resolved = true;
    return 0;
}

static int32_t batch_max_day(const struct cw_config *cfg, const struct cw_store_batch *b)
{
    int32_t max = CW_DAY_NONE;
    for (size_t i = 0; i < b->n; i++)
        if (cw_store_event_usable(cfg, &b->events[i]) && b->events[i].day > max)
            max = b->events[i].day;
    return max;
}

int cw_store_accounts_index_build(cw_store *st, const struct cw_config *cfg,
                                  const struct cw_store_batch *batches, size_t n,
                                  const int32_t *days, struct cw_rcmd *c)
{
    cw_rcmd_adds(c, "ZADD");
    cw_store_add_global_key(st, c, "accounts");
    cw_rcmd_adds(c, "GT");
    size_t members = 0;
    for (size_t b = 0; b < n; b++) {
        int32_t day = days ? days[b] : batch_max_day(cfg, &batches[b]);
        if (day == CW_DAY_NONE)
            continue;
        cw_rcmd_addll(c, day);
        cw_rcmd_adds(c, batches[b].account_id);
        members++;
    }
    if (members == 0)
        return 1;
    return c->oom ? -1 : 0;
}

int cw_store_accounts_index_trim(cw_store *st, int32_t max_day, char *err, size_t errsize)
{
    if (max_day == CW_DAY_NONE || (st->index_trimmed != 0 && max_day <= st->index_trimmed))
        return 0;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "ZREMRANGEBYSCORE");
    cw_store_add_global_key(st, &st->cmd, "accounts");
    cw_rcmd_adds(&st->cmd, "-inf");
    cw_rcmd_addf(&st->cmd, "(%lld", (long long)max_day - CW_STORE_LONG_TTL_DAYS);
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    freeReplyObject(r);
    st->index_trimmed = max_day;
    return 0;
}

static int apply_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct apply_ctx *a = vctx;
    const struct apply_op *op = &a->ops[i];
    const struct cw_store_batch *b = &a->batches[op->batch];
    const struct cw_config *cfg = a->cfg;
    if (op->zadd)
        return cw_store_accounts_index_build(st, cfg, a->batches, a->n_batches, NULL, c);
    /* Sources and types of the events, numbered from 1 in order of appearance. */
    size_t src_first[CW_STORE_EVENTS_PER_CALL]; /* event index introducing each source */
    size_t src_of[CW_STORE_EVENTS_PER_CALL];
    size_t nsrc = 0;
    int type_local[CW_MAX_EVENT_TYPES] = {0};
    int type_list[CW_MAX_EVENT_TYPES];
    int ntypes = 0, nev = 0;
    size_t last = 0;
    for (size_t e = op->first; e < op->end; e++) {
        const struct cw_store_event *ev = &b->events[e];
        size_t k = e - op->first;
        if (!cw_store_event_usable(cfg, ev))
            continue;
        nev++;
        size_t s = nsrc;
        if (nsrc > 0 && b->events[src_first[last]].partition == ev->partition &&
            strcmp(b->events[src_first[last]].topic, ev->topic) == 0) {
            s = last;
        } else {
            for (s = 0; s < nsrc; s++)
                if (b->events[src_first[s]].partition == ev->partition &&
                    strcmp(b->events[src_first[s]].topic, ev->topic) == 0)
                    break;
            if (s == nsrc)
                src_first[nsrc++] = e;
        }
        src_of[k] = s;
        last = s;
        if (type_local[ev->type_index] == 0) {
            type_list[ntypes] = ev->type_index;
            type_local[ev->type_index] = ++ntypes;
        }
    }
    if (nev == 0)
        return 1;
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_apply");
    cw_rcmd_adds(c, cfg->users.enabled ? "6" : "5");
    cw_store_add_account_key(st, c, b->account_id, "m");
    cw_store_add_account_key(st, c, b->account_id, "d");
    cw_store_add_account_key(st, c, b->account_id, "u");
    cw_store_add_account_key(st, c, b->account_id, "r");
    cw_store_add_account_key(st, c, b->account_id, "h");
    if (cfg->users.enabled)
        cw_store_add_account_key(st, c, b->account_id, "e");
    cw_rcmd_addll(c, a->horizon);
    cw_rcmd_addll(c, a->ttl_short);
    cw_rcmd_addll(c, a->ttl_long);
    cw_rcmd_addll(c, (long long)nsrc);
    for (size_t s = 0; s < nsrc; s++)
        cw_rcmd_addf(c, "%s:%" PRId32, b->events[src_first[s]].topic,
                     b->events[src_first[s]].partition);
    cw_rcmd_addll(c, ntypes);
    for (int t = 0; t < ntypes; t++)
        cw_rcmd_adds(c, cfg->event_types[type_list[t]].name);
    cw_rcmd_addll(c, nev);
    for (size_t e = op->first; e < op->end; e++) {
        const struct cw_store_event *se = &b->events[e];
        if (!cw_store_event_usable(cfg, se))
            continue;
        int slot =
            se->metric >= 0 && (size_t)se->metric < cfg->n_metrics ? a->slots[se->metric] : -1;
        int flags = cw_store_event_flags(cfg, se);
        cw_rcmd_addf(c, "%zu %" PRId64 " %" PRId32 " %" PRId64 " %d %d %d",
                     src_of[e - op->first] + 1, se->offset, se->day, se->ts_ms, slot,
                     type_local[se->type_index], flags);
        cw_rcmd_adds(c, se->user_id);
        if (se->traits)
            cw_store_add_traits(c, se->traits);
        if (flags & 8)
            cw_rcmd_adds(c, se->traits->parent_id);
        if (flags & 4)
            cw_store_add_value(c, se->value);
        if (flags & 16)
            cw_rcmd_addll(c, cw_store_event_points(cfg, se));
    }
    if (b->clock_day > 0)
        cw_rcmd_addll(c, b->clock_day);
    else
        cw_rcmd_adds(c, "");
    if (cfg->users.enabled) {
        cw_rcmd_addll(c, cfg->users.window_days);
        cw_rcmd_addll(c, cfg->users.max_tracked);
    }
    return c->oom ? -1 : 0;
}

static int apply_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                       size_t errsize)
{
    (void)st;
    struct apply_ctx *a = vctx;
    const struct apply_op *op = &a->ops[i];
    if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (!op->zadd)
        a->batches[op->batch].applied += (size_t)r->integer;
    return 0;
}

static void apply_ctx_init(struct apply_ctx *a, const struct cw_config *cfg,
                           struct cw_store_batch *batches, size_t n)
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    a->batches = batches;
    a->n_batches = n;
    a->horizon = cw_store_days_kept(cfg);
    a->ttl_short = (a->horizon + 1) * 86400;
    a->ttl_long = (long long)CW_STORE_LONG_TTL_DAYS * 86400;
}

int32_t cw_store_batches_max_day(const struct cw_config *cfg, const struct cw_store_batch *batches,
                                 size_t n)
{
    int32_t max_day = CW_DAY_NONE;
    for (size_t b = 0; b < n; b++) {
        int32_t d = batch_max_day(cfg, &batches[b]);
        if (d > max_day)
            max_day = d;
    }
    return max_day;
}

int cw_store_apply(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                   size_t n, char *err, size_t errsize)
{
    size_t n_ops = 1; /* the accounts index */
    for (size_t b = 0; b < n; b++) {
        batches[b].applied = 0;
        batches[b].coalesced = false;
        n_ops += (batches[b].n + CW_STORE_EVENTS_PER_CALL - 1) / CW_STORE_EVENTS_PER_CALL;
    }
    if (n_ops == 1)
        return 0;
    struct apply_ctx a;
    apply_ctx_init(&a, cfg, batches, n);
    a.ops = calloc(n_ops, sizeof *a.ops);
    if (!a.ops) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    size_t k = 0;
    for (size_t b = 0; b < n; b++) {
        for (size_t e = 0; e < batches[b].n; e += CW_STORE_EVENTS_PER_CALL) {
            size_t end = e + CW_STORE_EVENTS_PER_CALL;
            a.ops[k++] = (struct apply_op){
                .batch = b, .first = e, .end = end < batches[b].n ? end : batches[b].n};
        }
    }
    a.ops[k++] = (struct apply_op){.zadd = true};
    struct cw_store_ops o = {
        .n = k, .ctx = &a, .prepare = apply_prepare, .build = apply_build, .reply = apply_reply};
    int rc = cw_store_ops_run(st, &o, err, errsize);
    free(a.ops);
    if (rc < 0)
        return rc;
    return cw_store_accounts_index_trim(st, cw_store_batches_max_day(cfg, batches, n), err,
                                        errsize);
}

/* ---- apply and load, coalesced ----------------------------------------------------- */

void cw_store_history_range(const struct cw_config *cfg, int32_t today, int32_t *from, int32_t *to)
{
    int64_t lo = 0, hi = 0;
    for (size_t r = 0; r < cfg->n_rules; r++) {
        if (cfg->rules[r].kind != CW_RULE_SCORE_DROP)
            continue;
        for (size_t s = 0; s <= cfg->n_segments; s++) {
            const struct cw_rule_params *p =
                s < cfg->n_segments ? &cfg->segments[s].rule_params[r] : &cfg->rules[r].params;
            int64_t over = p->over_ms / CW_MS_PER_DAY + (p->over_ms % CW_MS_PER_DAY != 0);
            if (over < 1)
                over = 1;
            if (lo == 0 || 2 * over > lo)
                lo = 2 * over;
            if (hi == 0 || over < hi)
                hi = over;
        }
    }
    *from = lo ? (int32_t)(today - lo) : today;
    *to = lo ? (int32_t)(today - hi) : today - 1;
}

struct apply_load_ctx {
    struct apply_ctx a; /* slots, TTLs, the batches */
    struct cw_store_load_ctx l;
    struct cw_store_delta_params params;
    struct cw_store_delta *delta;
    bool *partial; /* per batch: the delta overlapped a replay, nothing was done */
};

static int apply_load_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct apply_load_ctx *x = vctx;
    if (x->l.cfg->n_rules > CW_MAX_RULES) {
        snprintf(err, errsize, "store: more than %d rules", CW_MAX_RULES);
        return -1;
    }
    if (apply_prepare(st, &x->a, err, errsize) < 0)
        return -1;
    memcpy(x->l.slots, x->a.slots, sizeof x->l.slots);
    return 0;
}

/* Ops 0..n-1: each batch's cw_apply_delta; op n: the accounts index. */
static int apply_load_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct apply_load_ctx *x = vctx;
    const struct cw_store_batch *b = &x->a.batches[i < x->a.n_batches ? i : 0];
    if (i == x->a.n_batches)
        return cw_store_accounts_index_build(st, x->a.cfg, x->a.batches, x->a.n_batches, NULL, c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_apply_delta");
    cw_rcmd_addll(c, (long long)cw_store_load_keys(x->a.cfg));
    for (size_t k = 0; k < cw_store_load_keys(x->a.cfg); k++)
        cw_store_add_account_key(st, c, b->account_id, cw_store_load_suffix[k]);
    int rc = cw_store_delta_args(x->delta, x->a.cfg, x->a.slots, b, &x->params, c);
    if (rc == 1)
        x->partial[i] = true; /* nothing to apply: loaded below */
    return rc < 0 || c->oom ? -1 : rc;
}

static int apply_load_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                            size_t errsize)
{
    (void)st;
    struct apply_load_ctx *x = vctx;
    if (i == x->a.n_batches)
        return r->type == REDIS_REPLY_INTEGER ? 0
                                              : (snprintf(err, errsize, "unexpected reply"), -1);
    struct cw_store_batch *b = &x->a.batches[i];
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->integer < 0) {
        snprintf(err, errsize, "unexpected reply");
        return -1;
    }
    long long status = r->element[0]->integer;
    if (status < 0) {
        x->partial[i] = true;
        return 0;
    }
    b->applied = (size_t)r->element[1]->integer;
    b->coalesced = true;
    if (!x->l.out)
        return 0;
    size_t keys = cw_store_load_keys(x->a.cfg);
    if (r->elements != 2 + keys) {
        snprintf(err, errsize, "unexpected reply: %zu elements", r->elements);
        return -1;
    }
    for (size_t k = 0; k < keys; k++)
        if (cw_store_load_hash(&x->l, &x->l.out[i], b->account_id, k, true, r->element[2 + k], err,
                               errsize) < 0)
            return -1;
    return 0;
}

int cw_store_apply_load(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                        size_t n, int32_t today, struct cw_account_data *out, char *err,
                        size_t errsize)
{
    if (st->cache && n > 0)
        return cw_store_apply_owned(st, cfg, batches, n, today, out, err, errsize);
    return cw_store_apply_load_redis(st, cfg, batches, n, today, out, err, errsize);
}

int cw_store_apply_load_redis(cw_store *st, const struct cw_config *cfg,
                              struct cw_store_batch *batches, size_t n, int32_t today,
                              struct cw_account_data *out, char *err, size_t errsize)
{
    if (n == 0)
        return 0;
    struct apply_load_ctx x;
    memset(&x, 0, sizeof x);
    apply_ctx_init(&x.a, cfg, batches, n);
    x.params = (struct cw_store_delta_params){.horizon = x.a.horizon,
                                              .ttl_short = x.a.ttl_short,
                                              .ttl_long = x.a.ttl_long,
                                              .want_state = out != NULL};
    cw_store_history_range(cfg, today, &x.params.hist_from, &x.params.hist_to);
    x.l = (struct cw_store_load_ctx){
        .cfg = cfg, .out = out, .today = today, .horizon = cw_store_row_days(cfg)};
    x.delta = cw_store_delta_new();
    x.partial = calloc(n, sizeof *x.partial);
    size_t *slow = calloc(n, sizeof *slow);
    struct cw_store_batch *again = calloc(n, sizeof *again);
    const char **ids = calloc(n, sizeof *ids);
    int rc = -1;
    if (!x.delta || !x.partial || !slow || !again || !ids) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    for (size_t b = 0; b < n; b++) {
        batches[b].applied = 0;
        batches[b].coalesced = false;
    }
    struct cw_store_ops o = {.n = n + 1,
                             .ctx = &x,
                             .prepare = apply_load_prepare,
                             .build = apply_load_build,
                             .reply = apply_load_reply};
    if (cw_store_ops_run(st, &o, err, errsize) < 0)
        goto done;

    /* Partial replays: the events one by one, then the state loaded as usual. */
    size_t n_slow = 0;
    for (size_t b = 0; b < n; b++)
        if (x.partial[b]) {
            slow[n_slow] = b;
            again[n_slow] = batches[b];
            ids[n_slow++] = batches[b].account_id;
        }
    if (n_slow > 0) {
        if (cw_store_apply(st, cfg, again, n_slow, err, errsize) < 0)
            goto done;
        for (size_t k = 0; k < n_slow; k++)
            batches[slow[k]].applied = again[k].applied;
        if (out) {
            for (size_t k = 0; k < n_slow; k++) {
                if (cw_store_load(st, cfg, &ids[k], 1, today, &out[slow[k]], err, errsize) < 0)
                    goto done;
            }
        }
    }
    rc = cw_store_accounts_index_trim(st, cw_store_batches_max_day(cfg, batches, n), err, errsize);
done:
    cw_store_delta_free(x.delta);
    free(x.partial);
    free(slow);
    free(again);
    free(ids);
    return rc;
}
