/* backtest_replay.c - the backtest's replay: messages gathered into the daemon's batches,
 * applied to accounts held in memory, scored and their rules stepped in event time
 * (backtest_replay.h) */
#include "backtest_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "account_mem.h"
#include "arena.h"
#include "array.h"
#include "churnwatch/event.h"
#include "churnwatch/window.h"
#include "store_event.h"
#include "store_internal.h"
#include "str_index.h"
#include "wall_clock.h"

#define POLL_CHUNK        256    /* churnwatchd's messages per poll (daemon.c) */
#define DEFAULT_BATCH_MAX 200000 /* churnwatchd's --batch default */
#define NO_EPISODE        UINT32_MAX
#define UNREPORTED        (UINT32_MAX - 1) /* an episode open, fired before report_ms */

/* One account: its applied state, and what the store would hold of its scores and rules. */
struct acct {
    char *id;
    struct cw_account_mem *mem;
    struct cw_score_point *hist; /* ascending by day, scores as stored (10 digits) */
    size_t n_hist, cap_hist;
    struct cw_rule_state *rules; /* [n_rules] */
    uint32_t *open;              /* [n_rules]: the open episode, NO_EPISODE, UNREPORTED */
    size_t last_score;           /* index into scores of its newest daily score, SIZE_MAX */
    int64_t churn_ms;            /* its first event of the churn type, -1 none */
    /* the batch being gathered: its events chained in arrival order */
    long first, last;
    size_t n_batch;
};

struct cw_bt_replay {
    const struct cw_config *cfg;
    cw_tz *tz;
    cw_decoder *dec;
    struct cw_time_policy policy;
    size_t batch_max;
    int64_t report_ms;
    int32_t report_day;
    int churn_type;
    int *slots;
    size_t keep_days; /* score history kept: as store_save.c */
    /* accounts */
    struct acct *accts;
    size_t n_accts, cap_accts;
    struct cw_str_index index; /* the accounts by id */
    /* the clock: the newest event time observed (one stream) */
    int64_t clock;
    int32_t sweep_day; /* the sweep's event day, 0 before the first batch */
    /* the poll being decoded */
    struct cw_event *slice;
    enum cw_reject *codes;
    size_t n_slice, cap_slice;
    const char **slice_src;
    int32_t *slice_part;
    int64_t *slice_off;
    /* the batch */
    struct cw_arena arena;
    struct cw_store_event *events;
    long *next;
    size_t n_events, cap_events, cap_next;
    uint32_t *touched; /* accounts of the batch, in first-event order */
    size_t n_touched, cap_touched;
    size_t pending; /* messages of the batch, rejected ones too */
    int32_t batch_day;
    bool day_crossed;
    struct cw_store_event *scratch;
    size_t cap_scratch;
    /* evaluation */
    struct cw_account_data data;
    struct cw_account_eval eval;
    /* the results */
    struct cw_bt_episode *episodes;
    size_t n_episodes, cap_episodes;
    struct cw_bt_score *scores;
    size_t n_scores, cap_scores;
    uint64_t messages, applied, rejected;
    int64_t first_ms, last_ms;
    bool failed;
};

static void acct_free(struct acct *a)
{
    free(a->id);
    cw_account_mem_free(a->mem);
    free(a->hist);
    free(a->rules);
    free(a->open);
}

struct cw_bt_replay *cw_bt_replay_new(const struct cw_config *cfg,
                                      const struct cw_bt_replay_opts *opts, char *err,
                                      size_t errsize)
{
    struct cw_bt_replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->tz = cw_tz_open(cfg->timezone, err, errsize);
    if (!r->tz)
        goto fail;
    r->dec = cw_decoder_new(cfg, err, errsize);
    if (!r->dec)
        goto fail;
    r->policy.longest_window_ms = (int64_t)cfg->longest_window_days * CW_MS_PER_DAY;
    r->policy.lateness_ms = cfg->lateness_ms;
    r->policy.max_clock_skew_ms = cfg->max_clock_skew_ms;
    r->batch_max = opts && opts->batch_max ? opts->batch_max : DEFAULT_BATCH_MAX;
    r->report_ms = opts && opts->report_ms > 0 ? opts->report_ms : 0;
    r->churn_type = opts ? opts->churn_type : -1;
    r->report_day = r->report_ms > 0 ? cw_tz_day(r->tz, r->report_ms) : CW_DAY_NONE;
    r->keep_days = (size_t)cw_store_row_days(cfg) + CW_STORE_HISTORY_EXTRA;
    r->slots = calloc(cfg->n_metrics ? cfg->n_metrics : 1, sizeof *r->slots);
    r->cap_slice = POLL_CHUNK;
    r->slice = calloc(POLL_CHUNK, sizeof *r->slice);
    r->codes = calloc(POLL_CHUNK, sizeof *r->codes);
    r->slice_src = calloc(POLL_CHUNK, sizeof *r->slice_src);
    r->slice_part = calloc(POLL_CHUNK, sizeof *r->slice_part);
    r->slice_off = calloc(POLL_CHUNK, sizeof *r->slice_off);
    if (!r->slots || !r->slice || !r->codes || !r->slice_src || !r->slice_part || !r->slice_off) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    for (size_t m = 0; m < cfg->n_metrics; m++)
        r->slots[m] = (int)m; /* a store's stable slots: any one-to-one choice */
    r->clock = -1;
    r->first_ms = r->last_ms = -1;
    r->batch_day = CW_DAY_NONE;
    return r;
fail:
    cw_bt_replay_free(r);
    return NULL;
}

void cw_bt_replay_free(struct cw_bt_replay *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_accts; i++)
        acct_free(&r->accts[i]);
    free(r->accts);
    cw_str_index_free(&r->index);
    free(r->slice);
    free(r->codes);
    free(r->slice_src);
    free(r->slice_part);
    free(r->slice_off);
    cw_arena_free(&r->arena);
    free(r->events);
    free(r->next);
    free(r->touched);
    free(r->scratch);
    free(r->slots);
    cw_account_data_free(&r->data);
    free(r->episodes);
    free(r->scores);
    cw_decoder_free(r->dec);
    cw_tz_free(r->tz);
    cw_account_mem_release_scratch();
    free(r);
}

uint64_t cw_bt_replay_messages(const struct cw_bt_replay *r)
{
    return r->messages;
}

int64_t cw_bt_replay_clock(const struct cw_bt_replay *r)
{
    return r->clock;
}

static const char *acct_key(const void *items, size_t i)
{
    return ((const struct acct *)items)[i].id;
}

/* The account of id, created when new; NULL when out of memory. */
static struct acct *acct_for(struct cw_bt_replay *r, const char *id)
{
    size_t slot;
    long found = cw_str_index_find(&r->index, id, r->n_accts, acct_key, r->accts, &slot);
    if (found < 0)
        return NULL;
    if (found > 0)
        return &r->accts[found - 1];
    if (cw_array_reserve(&r->accts, &r->cap_accts, r->n_accts + 1, sizeof *r->accts) < 0)
        return NULL;
    struct acct *a = &r->accts[r->n_accts];
    size_t nr = r->cfg->n_rules ? r->cfg->n_rules : 1;
    *a = (struct acct){.id = strdup(id),
                       .mem = cw_account_mem_new(),
                       .rules = calloc(nr, sizeof *a->rules),
                       .open = malloc(nr * sizeof *a->open),
                       .last_score = SIZE_MAX,
                       .churn_ms = -1,
                       .first = -1,
                       .last = -1};
    if (!a->id || !a->mem || !a->rules || !a->open) {
        acct_free(a);
        return NULL;
    }
    for (size_t k = 0; k < nr; k++)
        a->open[k] = NO_EPISODE;
    r->index.slots[slot] = (uint32_t)++r->n_accts;
    return a;
}

/* Keep an accepted event of a known type in its account's chain. 0 or -1. */
static int add_event(struct cw_bt_replay *r, const struct cw_event *ev, const char *source,
                     int32_t partition, int64_t offset)
{
    struct acct *a = acct_for(r, ev->account_id);
    if (!a ||
        cw_array_reserve(&r->events, &r->cap_events, r->n_events + 1, sizeof *r->events) < 0 ||
        cw_array_reserve(&r->next, &r->cap_next, r->n_events + 1, sizeof *r->next) < 0)
        return -1;
    if (cw_store_event_from(&r->events[r->n_events], ev, r->tz, source, partition, offset,
                            &r->arena) < 0)
        return -1;
    long k = (long)r->n_events++;
    r->next[k] = -1;
    if (a->last >= 0) {
        r->next[a->last] = k;
    } else {
        a->first = k;
        uint32_t idx = (uint32_t)(a - r->accts);
        if (cw_array_reserve(&r->touched, &r->cap_touched, r->n_touched + 1, sizeof *r->touched) <
            0)
            return -1;
        r->touched[r->n_touched++] = idx;
    }
    a->last = k;
    a->n_batch++;
    if (r->churn_type >= 0 && ev->type_index == r->churn_type &&
        (a->churn_ms < 0 || ev->ts_ms < a->churn_ms))
        a->churn_ms = ev->ts_ms;
    if (r->first_ms < 0 || ev->ts_ms < r->first_ms)
        r->first_ms = ev->ts_ms;
    if (ev->ts_ms > r->last_ms)
        r->last_ms = ev->ts_ms;
    return 0;
}

/* A firing opens an episode, a resolution closes the open one (reminders change nothing). */
static int record_transition(struct cw_bt_replay *r, uint32_t ai, size_t rule,
                             const struct cw_transition *t, int64_t now)
{
    struct acct *a = &r->accts[ai];
    if (t->emit == CW_EMIT_FIRING) {
        if (r->report_ms > 0 && now < r->report_ms) {
            a->open[rule] = UNREPORTED;
            return 0;
        }
        if (cw_array_reserve(&r->episodes, &r->cap_episodes, r->n_episodes + 1,
                             sizeof *r->episodes) < 0)
            return -1;
        struct cw_bt_episode *e = &r->episodes[r->n_episodes];
        *e = (struct cw_bt_episode){.account = ai, .rule = (uint32_t)rule, .fired_ms = now};
        memcpy(e->alert_id, t->alert_id, sizeof e->alert_id);
        a->open[rule] = (uint32_t)r->n_episodes++;
    } else if (t->emit == CW_EMIT_RESOLVED) {
        if (a->open[rule] < UNREPORTED)
            r->episodes[a->open[rule]].resolved_ms = now;
        a->open[rule] = NO_EPISODE;
    }
    return 0;
}

/* The score saved as cw_save saves it: today's point (text of 10 digits), the history
 * trimmed to keep_days when a new day's point is written. */
static int save_score(struct cw_bt_replay *r, struct acct *a, int32_t today, double score)
{
    char text[32];
    snprintf(text, sizeof text, "%.10g", score);
    double stored = strtod(text, NULL);
    if (a->n_hist > 0 && a->hist[a->n_hist - 1].day == today) {
        a->hist[a->n_hist - 1].score = stored;
        return 0;
    }
    if (cw_array_reserve(&a->hist, &a->cap_hist, a->n_hist + 1, sizeof *a->hist) < 0)
        return -1;
    a->hist[a->n_hist++] = (struct cw_score_point){today, stored};
    size_t drop = 0;
    while (drop < a->n_hist && a->hist[drop].day <= today - (int32_t)r->keep_days)
        drop++;
    if (drop > 0) {
        memmove(a->hist, a->hist + drop, (a->n_hist - drop) * sizeof *a->hist);
        a->n_hist -= drop;
    }
    return 0;
}

/* The account's daily score for the report: the last one of each local day. */
static int report_score(struct cw_bt_replay *r, uint32_t ai, int32_t today, int64_t now,
                        double score)
{
    struct acct *a = &r->accts[ai];
    if (r->report_ms > 0 && today < r->report_day)
        return 0;
    if (a->last_score != SIZE_MAX && r->scores[a->last_score].day == today) {
        r->scores[a->last_score].at_ms = now;
        r->scores[a->last_score].score = score;
        return 0;
    }
    if (cw_array_reserve(&r->scores, &r->cap_scores, r->n_scores + 1, sizeof *r->scores) < 0)
        return -1;
    r->scores[r->n_scores] =
        (struct cw_bt_score){.account = ai, .day = today, .at_ms = now, .score = score};
    a->last_score = r->n_scores++;
    return 0;
}

/* Score account ai at now as the score pass does (evaluate, save the score and the rule
 * states that changed, through their stored encoding). 0 or -1 (out of memory). */
static int score_account(struct cw_bt_replay *r, uint32_t ai, int64_t now, int32_t today)
{
    const struct cw_config *cfg = r->cfg;
    struct acct *a = &r->accts[ai];
    struct cw_account_data *d = &r->data;
    if (cw_account_mem_fill(a->mem, cfg, r->slots, a->id, today, d) < 0)
        return -1;
    if (cw_array_reserve(&d->history, &d->cap_history, a->n_hist ? a->n_hist : 1,
                         sizeof *d->history) < 0)
        return -1;
    if (a->n_hist > 0)
        memcpy(d->history, a->hist, a->n_hist * sizeof *a->hist);
    d->n_history = a->n_hist;
    d->has_last_score = a->n_hist > 0;
    d->last_score = a->n_hist > 0 ? a->hist[a->n_hist - 1].score : 0;
    d->n_rules = cfg->n_rules;
    if (cfg->n_rules > 0)
        memcpy(d->rules, a->rules, cfg->n_rules * sizeof *a->rules);
    d->n_silences = 0; /* silences are not replayed */
    struct cw_account_eval *e = &r->eval;
    cw_account_evaluate_for_alerts(cfg, d, now, e); /* no reason text is reported */
    for (size_t k = 0; k < cfg->n_rules; k++) {
        if (memcmp(&a->rules[k], &e->next[k], sizeof e->next[k]) != 0) {
            char enc[160];
            struct cw_rule_state s;
            memset(&s, 0, sizeof s);
            cw_rule_state_encode(&e->next[k], enc, sizeof enc);
            if (cw_rule_state_decode(enc, &s) != 0)
                s = e->next[k];
            a->rules[k] = s;
        }
        if (e->trans[k].emit != CW_EMIT_NONE && record_transition(r, ai, k, &e->trans[k], now) < 0)
            return -1;
    }
    if (e->score.has_score && (save_score(r, a, today, e->score.score) < 0 ||
                               report_score(r, ai, today, now, e->score.score) < 0))
        return -1;
    return 0;
}

/* Process the gathered batch: apply each account's events, score it at the clock; then
 * the sweep in event time. 0 or -1. */
static int flush(struct cw_bt_replay *r)
{
    if (r->pending == 0)
        return 0;
    int64_t now = r->clock;
    int32_t today = now >= 0 ? cw_tz_day(r->tz, now) : CW_DAY_NONE;
    for (size_t t = 0; t < r->n_touched; t++) {
        uint32_t ai = r->touched[t];
        struct acct *a = &r->accts[ai];
        if (cw_array_reserve(&r->scratch, &r->cap_scratch, a->n_batch, sizeof *r->scratch) < 0)
            return -1;
        size_t n = 0;
        for (long k = a->first; k >= 0; k = r->next[k])
            r->scratch[n++] = r->events[k];
        struct cw_store_batch b = {
            .account_id = a->id, .events = r->scratch, .n = n, .clock_day = today};
        if (cw_account_mem_apply(a->mem, r->cfg, r->slots, &b) < 0)
            return -1;
        r->applied += b.applied;
        a->first = a->last = -1;
        a->n_batch = 0;
        if (now >= 0 && score_account(r, ai, now, today) < 0)
            return -1;
    }
    r->n_events = r->n_touched = r->pending = 0;
    r->batch_day = CW_DAY_NONE;
    r->day_crossed = false;
    cw_arena_reset(&r->arena);
    /* The sweep: a first cycle once the clock is known, then one each local day crossed. */
    if (now >= 0 && (r->sweep_day == 0 || today > r->sweep_day)) {
        for (uint32_t ai = 0; ai < r->n_accts; ai++)
            if (score_account(r, ai, now, today) < 0)
                return -1;
    }
    if (now >= 0)
        r->sweep_day = today;
    return 0;
}

/* One poll's messages decoded: judge them against the clock they moved, then decide
 * whether the batch is due, as cw_batch_add and batch_due do. 0 or -1. */
static int poll_end(struct cw_bt_replay *r)
{
    if (r->n_slice == 0)
        return 0;
    int64_t wall = cw_wall_ms();
    int64_t newest = -1;
    for (size_t i = 0; i < r->n_slice; i++) {
        const struct cw_event *ev = &r->slice[i];
        if (r->codes[i] == CW_OK && ev->ts_ms <= wall + r->policy.max_clock_skew_ms) {
            if (ev->ts_ms > r->clock)
                r->clock = ev->ts_ms;
            if (ev->ts_ms > newest)
                newest = ev->ts_ms;
        }
    }
    if (r->clock >= 0) {
        int32_t day = cw_tz_day(r->tz, r->clock);
        if (r->batch_day == CW_DAY_NONE)
            r->batch_day = day;
        else if (day != r->batch_day)
            r->day_crossed = true;
    }
    int64_t ref = r->clock >= 0 ? (r->clock < wall ? r->clock : wall) : newest;
    for (size_t i = 0; i < r->n_slice; i++) {
        const struct cw_event *ev = &r->slice[i];
        enum cw_reject code = r->codes[i];
        r->pending++;
        if (code == CW_OK)
            code = cw_time_check(&r->policy, ev->ts_ms, ref >= 0 ? ref : ev->ts_ms, wall, NULL, 0);
        if (code != CW_OK) {
            r->rejected++;
            continue;
        }
        if (ev->type_index < 0)
            continue;
        if (add_event(r, ev, r->slice_src[i], r->slice_part[i], r->slice_off[i]) < 0)
            return -1;
    }
    r->n_slice = 0;
    if (r->pending >= r->batch_max || r->day_crossed)
        return flush(r);
    return 0;
}

int cw_bt_replay_message(struct cw_bt_replay *r, const void *value, size_t len, int64_t msg_ts_ms,
                         const char *source, int32_t partition, int64_t offset)
{
    if (r->failed)
        return -1;
    size_t i = r->n_slice++;
    r->codes[i] = cw_decode(r->dec, value, len, msg_ts_ms, &r->slice[i], NULL, 0);
    r->slice_src[i] = source;
    r->slice_part[i] = partition;
    r->slice_off[i] = offset;
    r->messages++;
    size_t room = r->batch_max > r->pending ? r->batch_max - r->pending : 1;
    if (room > POLL_CHUNK)
        room = POLL_CHUNK;
    if (r->n_slice >= room && poll_end(r) < 0) {
        r->failed = true;
        return -1;
    }
    return 0;
}

/* ---- the run ---- */

static const struct cw_bt_replay *sort_ctx;

static int cmp_acct(const void *x, const void *y)
{
    return strcmp(sort_ctx->accts[*(const uint32_t *)x].id,
                  sort_ctx->accts[*(const uint32_t *)y].id);
}

static int cmp_episode(const void *x, const void *y)
{
    const struct cw_bt_episode *a = x, *b = y;
    if (a->fired_ms != b->fired_ms)
        return a->fired_ms < b->fired_ms ? -1 : 1;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int cmp_score(const void *x, const void *y)
{
    const struct cw_bt_score *a = x, *b = y;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

/* The accounts that churned, in the order of the run's (sorted) accounts. 0 or -1. */
static int churned_of(const struct cw_bt_replay *r, const uint32_t *order,
                      const struct cw_bt_run *run, struct cw_bt_outcomes *o)
{
    o->v = calloc(r->n_accts ? r->n_accts : 1, sizeof *o->v);
    if (!o->v)
        return -1;
    for (size_t i = 0; i < r->n_accts; i++) {
        int64_t at = r->accts[order[i]].churn_ms;
        if (at < 0)
            continue;
        if (!(o->v[o->n].account = strdup(run->accounts[i])))
            return -1;
        o->v[o->n++].churned_ms = at;
    }
    return 0;
}

int cw_bt_replay_finish(struct cw_bt_replay *r, const char *config_path, struct cw_bt_run *out,
                        struct cw_bt_outcomes *churned)
{
    memset(out, 0, sizeof *out);
    if (churned)
        memset(churned, 0, sizeof *churned);
    if (r->failed || poll_end(r) < 0 || flush(r) < 0)
        return -1;
    const struct cw_config *cfg = r->cfg;
    uint32_t *order = malloc((r->n_accts ? r->n_accts : 1) * sizeof *order);
    uint32_t *rank = malloc((r->n_accts ? r->n_accts : 1) * sizeof *rank);
    out->config_path = strdup(config_path ? config_path : "");
    out->rules = calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof *out->rules);
    out->accounts = calloc(r->n_accts ? r->n_accts : 1, sizeof *out->accounts);
    if (!order || !rank || !out->config_path || !out->rules || !out->accounts)
        goto oom;
    for (size_t k = 0; k < cfg->n_rules; k++) {
        if (!(out->rules[k] = strdup(cfg->rules[k].name)))
            goto oom;
        out->nrules++;
    }
    for (uint32_t i = 0; i < r->n_accts; i++)
        order[i] = i;
    sort_ctx = r;
    if (r->n_accts > 0)
        qsort(order, r->n_accts, sizeof *order, cmp_acct);
    for (uint32_t i = 0; i < r->n_accts; i++) {
        rank[order[i]] = i;
        out->accounts[i] = r->accts[order[i]].id; /* moved */
        r->accts[order[i]].id = NULL;
    }
    out->naccounts = r->n_accts;
    if (churned && churned_of(r, order, out, churned) < 0) {
        cw_bt_outcomes_free(churned);
        goto oom;
    }
    for (size_t i = 0; i < r->n_episodes; i++)
        r->episodes[i].account = rank[r->episodes[i].account];
    for (size_t i = 0; i < r->n_scores; i++)
        r->scores[i].account = rank[r->scores[i].account];
    if (r->n_episodes > 0) /* qsort's base must not be NULL, even for no element */
        qsort(r->episodes, r->n_episodes, sizeof *r->episodes, cmp_episode);
    if (r->n_scores > 0)
        qsort(r->scores, r->n_scores, sizeof *r->scores, cmp_score);
    out->episodes = r->episodes;
    out->nepisodes = r->n_episodes;
    out->scores = r->scores;
    out->nscores = r->n_scores;
    r->episodes = NULL;
    r->scores = NULL;
    r->n_episodes = r->n_scores = 0;
    out->first_ms = r->report_ms > r->first_ms ? r->report_ms : r->first_ms;
    out->last_ms = r->last_ms;
    out->events = r->applied;
    out->rejected = r->rejected;
    r->failed = true; /* spent */
    free(order);
    free(rank);
    return 0;
oom:
    free(order);
    free(rank);
    cw_bt_run_free(out);
    return -1;
}
