/* score_pass.c - rescore a set of accounts: load, evaluate, save, publish their alerts and
 * their score feed messages */
#include "score_pass.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_mem.h"
#include "churnwatch/outbox.h"
#include "churnwatch/score_feed.h"
#include "crash_point.h"
#include "log.h"
#include "sweep.h"

#define CHUNK 128 /* accounts loaded and saved per round trip */
/* Chunks whose messages are acknowledged together (docs/design.md "Alerts acknowledged per
 * 2,048 accounts"). */
#define SETTLE_CHUNKS (2048 / CHUNK)
#define ALERT_WAIT_MS 30000 /* bound on waiting for the broker's acknowledgements */

/* A message handed to the producer and not yet acknowledged: an alert or a score feed
 * message of an account's outbox. Once the broker acknowledged every one of them (the
 * pass settles), each is counted, logged and deleted from its outbox. */
struct pending {
    char account_id[CW_ID_MAX + 1];
    char key[CW_OUTBOX_KEY_MAX];
    int rule; /* the alert's rule (its counter); -1: none known */
    enum cw_emit emit;
    bool score_feed;
    bool decided; /* decided by this pass (not found in the outbox): logged */
    char alert_id[CW_ALERT_ID_LEN + 1];
    double score; /* a score feed message decided by this pass: its score and grade */
    char grade[8];
};

/* Buffers reused across passes (owned by the daemon). */
struct cw_score_buffers {
    struct cw_account_data data[CHUNK];
    struct cw_account_eval eval[CHUNK];
    struct cw_store_result results[CHUNK];
    char keys[CHUNK][CW_MAX_RULES][CW_OUTBOX_KEY_MAX];
    char *json[CHUNK][CW_MAX_RULES];
    /* the score feed: each account's message decided now (NULL: none) and the feed's state
     * saved with it */
    char feed_key[CHUNK][CW_FEED_ENTRY_MAX];
    char *feed_json[CHUNK];
    char *feed_state[CHUNK];
    struct cw_feed_last feed_next; /* scratch */
    /* The messages sent since the pass last settled, acknowledged together (docs/design.md
     * "Alerts acknowledged per 2,048 accounts"), and their outbox entries to delete. */
    struct pending *pending;
    size_t n_pending, cap_pending;
    struct cw_outbox_ack *acks;
    size_t cap_acks;
    /* The parents of the accounts a pass scored, re-scored after it while the config has a
     * parent rule (docs/hierarchies.md "Parent rules"); none collected while re-scoring.
     * Kept across a failed pass: the next pass that completes re-scores them. */
    char (*parents)[CW_ID_MAX + 1];
    size_t n_parents, cap_parents;
    bool rescoring_parents;
};

/* What a pass works with: a Redis connection (with its accounts held in memory), a
 * producer and the buffers. A batch's accounts are split over the daemon's lanes
 * (redis.lanes, docs/design.md "Lanes"), each run by its own thread; lane 0 is the
 * daemon's own store and producer, and every other pass (the sweep's, parents') uses it,
 * in the main loop's thread. */
struct lane {
    cw_store *store;
    cw_producer *producer;
    struct cw_score_buffers *c;
};

static void buffers_free(struct cw_score_buffers **slot)
{
    struct cw_score_buffers *c = *slot;
    if (!c)
        return;
    for (size_t i = 0; i < CHUNK; i++)
        cw_account_data_free(&c->data[i]);
    free(c->acks);
    free(c->pending);
    free(c->parents);
    free(c);
    *slot = NULL;
}

void cw_score_pass_cleanup(struct cw_daemon *d)
{
    free(d->pass);
    d->pass = NULL;
    buffers_free(&d->score);
    for (size_t k = 1; k < CW_REDIS_LANES_MAX; k++)
        buffers_free(&d->lanes[k].score);
}

/* The outbox key of rule's transition t decided at now_ms. 0, or -1 when it cannot be
 * encoded (never with a valid config: ids are hex, rule names identifiers). */
static int outbox_key(const struct cw_transition *t, const char *rule, int64_t now_ms,
                      char out[CW_OUTBOX_KEY_MAX])
{
    struct cw_outbox_key k = {.emit = t->emit, .reminder_ms = now_ms};
    snprintf(k.alert_id, sizeof k.alert_id, "%s", t->alert_id);
    snprintf(k.rule, sizeof k.rule, "%s", rule);
    return cw_outbox_key_encode(&k, out, CW_OUTBOX_KEY_MAX) < 0 ? -1 : 0;
}

/* The counter of rule r for an alert of emit (not counted: rule -1 or emit NONE). */
static void count_alert(struct cw_daemon *d, int r, enum cw_emit emit)
{
    if (r < 0 || r >= CW_MAX_RULES || emit == CW_EMIT_NONE)
        return;
    int k = emit == CW_EMIT_RESOLVED ? 1 : emit == CW_EMIT_REMINDER ? 2 : 0;
    cw_stat_add(&d->stats.alerts[r][k], 1);
}

/* Room for n acknowledgements in c->acks. 0 or -1. */
static int acks_reserve(struct cw_score_buffers *c, size_t n)
{
    if (n <= c->cap_acks)
        return 0;
    struct cw_outbox_ack *a = realloc(c->acks, n * sizeof *a);
    if (!a)
        return -1;
    c->acks = a;
    c->cap_acks = n;
    return 0;
}

/* A new pending message of account acct with outbox key, or NULL (out of memory). */
static struct pending *pending_add(struct cw_score_buffers *c, const char *acct, const char *key,
                                   bool score_feed)
{
    if (c->n_pending == c->cap_pending) {
        size_t cap = c->cap_pending ? 2 * c->cap_pending : 256;
        struct pending *np = realloc(c->pending, cap * sizeof *np);
        if (!np)
            return NULL;
        c->pending = np;
        c->cap_pending = cap;
    }
    struct pending *p = &c->pending[c->n_pending++];
    memset(p, 0, sizeof *p);
    snprintf(p->account_id, sizeof p->account_id, "%s", acct);
    snprintf(p->key, sizeof p->key, "%s", key);
    p->rule = -1;
    p->score_feed = score_feed;
    return p;
}

/* Whether account i's score is published on the score feed (docs/scores.md); if so, its
 * message and the feed's next state go into its store result, to be saved with the score.
 * Out of memory: not published now, decided again at the account's next scoring. */
static void feed_prepare(struct cw_daemon *d, struct cw_score_buffers *c, size_t i, int64_t wall_ms)
{
    const struct cw_config *cfg = d->rt.cfg;
    const struct cw_account_data *a = &c->data[i];
    const struct cw_account_eval *e = &c->eval[i];
    struct cw_store_result *res = &c->results[i];
    c->feed_json[i] = c->feed_state[i] = NULL;
    if (!cfg->scores.topic || !e->score.has_score)
        return;
    /* the scorecard the account was scored by: a change of it is published (CW_FEED_PROFILE) */
    const char *profile = e->score.profile ? e->score.profile : "";
    unsigned why = cw_feed_decide(&a->feed, e->now_ms, cfg->scores.step, e->score.score,
                                  e->score.grade, profile);
    if (why == 0)
        return;
    char id[CW_SCORE_ID_LEN + 1];
    cw_score_id(a->account_id, e->now_ms, e->score.score, id);
    if (cw_feed_entry_field(e->now_ms, id, c->feed_key[i], sizeof c->feed_key[i]) < 0)
        return; /* never: the id is hex and the field's room is the longest */
    cw_feed_last_of(cfg, e, profile, id, &c->feed_next);
    c->feed_json[i] = cw_feed_message(cfg, e, &a->feed, why, id, profile, wall_ms, NULL);
    c->feed_state[i] = cw_feed_last_encode(&c->feed_next, NULL);
    if (!c->feed_json[i] || !c->feed_state[i]) {
        cw_log_error("out of memory", "what=%s account=%s", "score feed message", a->account_id);
        free(c->feed_json[i]);
        free(c->feed_state[i]);
        c->feed_json[i] = c->feed_state[i] = NULL;
        return;
    }
    res->feed_expected_raw = a->feed_raw ? a->feed_raw : "";
    res->feed_state = c->feed_state[i];
    res->feed_key = c->feed_key[i];
    res->feed_json = c->feed_json[i];
}

/* The episode of rule r that e resolves (its state was prev), published or not, for the
 * account's recent episodes (docs/state.md). */
static void resolved_episode(const struct cw_config *cfg, const struct cw_account_eval *e, size_t r,
                             const struct cw_rule_state *prev, struct cw_store_result *res)
{
    struct cw_episode *ep = &res->rule_episode[r];
    memset(ep, 0, sizeof *ep);
    memcpy(ep->alert_id, e->trans[r].alert_id, sizeof ep->alert_id);
    snprintf(ep->rule, sizeof ep->rule, "%s", cfg->rules[r].name);
    ep->started_ms = prev->since_ms;
    ep->resolved_ms = e->now_ms;
    ep->severity = e->params[r]->severity;
    res->rule_resolves[r] = true;
}

/* Evaluate the loaded accounts of a chunk and prepare their store results. */
static void evaluate_chunk(struct cw_daemon *d, struct cw_score_buffers *c, size_t n,
                           int64_t now_ms, int64_t wall_ms)
{
    const struct cw_config *cfg = d->rt.cfg;
    for (size_t i = 0; i < n; i++) {
        struct cw_account_data *a = &c->data[i];
        struct cw_account_eval *e = &c->eval[i];
        struct cw_store_result *res = &c->results[i];
        cw_account_evaluate_for_alerts(cfg, a, now_ms, e);
        memset(res, 0, sizeof *res);
        res->account_id = a->account_id;
        res->parent_id = a->traits.parent_id[0] ? a->traits.parent_id : NULL;
        res->has_score = e->score.has_score;
        res->score = e->score.score;
        res->grade = e->score.grade;
        res->today = a->today;
        res->today_point = a->n_history > 0 && a->history[a->n_history - 1].day == a->today;
        res->history_last = a->n_history > 0 ? a->history[a->n_history - 1].day : CW_DAY_NONE;
        res->h_last_known = a->h_last_known;
        res->h_last = a->h_last;
        res->n_rules = cfg->n_rules;
        for (size_t r = 0; r < cfg->n_rules; r++) {
            c->json[i][r] = NULL;
            struct cw_rule_state prev = {0};
            if (r < a->n_rules)
                prev = a->rules[r];
            if (memcmp(&prev, &e->next[r], sizeof prev) == 0 && e->trans[r].emit == CW_EMIT_NONE)
                continue;
            res->rule_changed[r] = true;
            res->rule_new[r] = e->next[r];
            res->rule_expected_raw[r] = r < a->n_rules ? a->rule_raw[r] : "";
            if (e->trans[r].emit == CW_EMIT_NONE)
                continue;
            if (e->trans[r].emit == CW_EMIT_RESOLVED)
                resolved_episode(cfg, e, r, &prev, res);
            if (!e->trans[r].publish) {
                cw_stat_add(&d->stats.alerts_silenced, 1);
                continue;
            }
            if (outbox_key(&e->trans[r], cfg->rules[r].name, now_ms, c->keys[i][r]) < 0) {
                cw_log_error("alert key not encodable, alert dropped", "account=%s rule=%s",
                             a->account_id, cfg->rules[r].name);
                continue;
            }
            size_t len = 0;
            c->json[i][r] = cw_evaluate_alert_json(cfg, e, r, wall_ms, &len);
            if (!c->json[i][r])
                continue; /* out of memory: the state still changes; logged below */
            res->rule_alert_key[r] = c->keys[i][r];
            res->rule_alert_json[r] = c->json[i][r];
        }
        feed_prepare(d, c, i, wall_ms);
    }
}

/* A failed send or wait: counted and logged; the caller's retry publishes again. -1. */
static int publication_failed(struct cw_daemon *d, const char *err)
{
    const struct cw_config *cfg = d->rt.cfg;
    const char *feed_topic = cfg->scores.topic;
    cw_stat_add(&d->stats.kafka_errors, 1);
    cw_log_warn("alert publication failed, will retry", "topic=%s%s%s error=\"%s\"",
                cfg->kafka.alerts_topic, feed_topic ? "," : "", feed_topic ? feed_topic : "", err);
    return -1;
}

/* Hand every outbox entry of the chunk's accounts (loaded ones and new winners) to the
 * producer: alerts to the alerts topic, then the score feed's messages, oldest first, to
 * the feed's topic. They are noted as pending and acknowledged when the pass settles. */
static int send_chunk(struct cw_daemon *d, const struct lane *ln, size_t n)
{
    struct cw_score_buffers *c = ln->c;
    const struct cw_config *cfg = d->rt.cfg;
    const char *feed_topic = cfg->scores.topic;
    char err[256];
    struct pending *p;
    for (size_t i = 0; i < n; i++) {
        const char *acct = c->data[i].account_id;
        size_t klen = strlen(acct);
        for (size_t k = 0; k < c->data[i].n_outbox; k++) {
            const struct cw_outbox_entry *o = &c->data[i].outbox[k];
            if (!(p = pending_add(c, acct, o->key, false)))
                goto oom;
            p->rule = o->rule;
            p->emit = o->emit;
            if (cw_producer_send(ln->producer, cfg->kafka.alerts_topic, acct, klen, o->json, o->len,
                                 NULL, 0, err, sizeof err) != 0)
                goto fail;
        }
        for (size_t r = 0; r < cfg->n_rules; r++) {
            if (!c->results[i].rule_won[r] || !c->json[i][r])
                continue;
            const struct cw_transition *t = &c->eval[i].trans[r];
            if (!(p = pending_add(c, acct, c->keys[i][r], false)))
                goto oom;
            p->rule = (int)r;
            p->emit = t->emit;
            p->decided = true;
            memcpy(p->alert_id, t->alert_id, sizeof p->alert_id);
            if (cw_producer_send(ln->producer, cfg->kafka.alerts_topic, acct, klen, c->json[i][r],
                                 strlen(c->json[i][r]), NULL, 0, err, sizeof err) != 0)
                goto fail;
        }
        for (size_t k = 0; feed_topic && k < c->data[i].n_feed_outbox; k++) {
            const struct cw_outbox_entry *o = &c->data[i].feed_outbox[k];
            if (!pending_add(c, acct, o->key, true))
                goto oom;
            if (cw_producer_send(ln->producer, feed_topic, acct, klen, o->json, o->len, NULL, 0,
                                 err, sizeof err) != 0)
                goto fail;
        }
        if (feed_topic && c->results[i].feed_won && c->feed_json[i]) {
            if (!(p = pending_add(c, acct, c->feed_key[i], true)))
                goto oom;
            p->decided = true;
            p->score = c->eval[i].score.score;
            snprintf(p->grade, sizeof p->grade, "%s", c->eval[i].score.grade);
            if (cw_producer_send(ln->producer, feed_topic, acct, klen, c->feed_json[i],
                                 strlen(c->feed_json[i]), NULL, 0, err, sizeof err) != 0)
                goto fail;
        }
    }
    return 0;

oom:
    snprintf(err, sizeof err, "out of memory");
fail:
    return publication_failed(d, err);
}

/* Wait for the broker to acknowledge every pending message, then count and log them and
 * delete them from their outboxes in one pipelined call. On failure they stay in the
 * outboxes: the caller's retry loads and publishes them again (their ids are stable). */
static int settle(struct cw_daemon *d, const struct lane *ln)
{
    struct cw_score_buffers *c = ln->c;
    const struct cw_config *cfg = d->rt.cfg;
    size_t n = c->n_pending;
    c->n_pending = 0;
    if (n == 0)
        return 0;
    char err[256];
    int rc = cw_producer_wait(ln->producer, ALERT_WAIT_MS, err, sizeof err);
    if (rc != 0) {
        if (rc > 0)
            snprintf(err, sizeof err, "alerts not acknowledged within %d ms", ALERT_WAIT_MS);
        return publication_failed(d, err);
    }
    cw_crash_point("after-alert-delivery");

    if (acks_reserve(c, n) < 0) {
        snprintf(err, sizeof err, "out of memory");
        goto fail_store;
    }
    size_t feed_sent = 0;
    for (size_t k = 0; k < n; k++) {
        const struct pending *p = &c->pending[k];
        c->acks[k] = (struct cw_outbox_ack){
            .account_id = p->account_id, .key = p->key, .score_feed = p->score_feed};
        if (p->score_feed) {
            feed_sent++;
            if (p->decided)
                cw_log_debug("score published", "account=%s score=%.2f grade=%s key=%s",
                             p->account_id, p->score, p->grade, p->key);
            continue;
        }
        count_alert(d, p->rule, p->emit);
        if (p->decided)
            cw_log_info("alert published", "account=%s rule=%s status=%s alert_id=%s",
                        p->account_id, cfg->rules[p->rule].name,
                        p->emit == CW_EMIT_RESOLVED ? "resolved" : "firing", p->alert_id);
    }
    cw_stat_add(&d->stats.scores_published, feed_sent);
    if (cw_store_outbox_ack(ln->store, c->acks, n, err, sizeof err) != 0)
        goto fail_store;
    return 0;

fail_store:
    cw_stat_add(&d->stats.redis_errors, 1);
    cw_log_warn("outbox acknowledgement failed, will retry", "error=\"%s\"", err);
    return -1;
}

static void free_json(struct cw_score_buffers *c, size_t n, size_t n_rules)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < n_rules; r++) {
            free(c->json[i][r]);
            c->json[i][r] = NULL;
        }
        free(c->feed_json[i]);
        free(c->feed_state[i]);
        c->feed_json[i] = c->feed_state[i] = NULL;
    }
}

/* Lane k of d, its buffers allocated on first use. 0, or -1 (out of memory, logged). */
static int lane_get(struct cw_daemon *d, size_t k, struct lane *ln)
{
    struct cw_score_buffers **slot = k == 0 ? &d->score : &d->lanes[k].score;
    if (!*slot)
        *slot = calloc(1, sizeof **slot);
    if (!*slot) {
        cw_log_error("out of memory", "what=%s", "score pass buffers");
        return -1;
    }
    *ln = (struct lane){.store = k == 0 ? d->store : d->lanes[k].store,
                        .producer = k == 0 ? d->producer : d->lanes[k].producer,
                        .c = *slot};
    return 0;
}

/* Note parent p in c, once (out of memory: logged, the parent waits for its next child's
 * scoring or the sweep). */
static void parent_note(struct cw_score_buffers *c, const char *p)
{
    for (size_t k = 0; k < c->n_parents; k++)
        if (strcmp(c->parents[k], p) == 0)
            return;
    if (c->n_parents == c->cap_parents) {
        size_t cap = c->cap_parents ? 2 * c->cap_parents : 64;
        char(*np)[CW_ID_MAX + 1] = realloc(c->parents, cap * sizeof *np);
        if (!np) {
            cw_log_error("out of memory", "what=%s account=%s", "parent to re-score", p);
            return;
        }
        c->parents = np;
        c->cap_parents = cap;
    }
    snprintf(c->parents[c->n_parents++], CW_ID_MAX + 1, "%s", p);
}

/* Note the parents of the m accounts scored in c. */
static void collect_parents(struct cw_score_buffers *c, size_t m)
{
    for (size_t i = 0; i < m; i++)
        if (c->data[i].traits.parent_id[0])
            parent_note(c, c->data[i].traits.parent_id);
}

/* Score the m accounts loaded in c at now_ms, save, and send their alerts (acknowledged
 * when the pass settles). */
static int score_loaded(struct cw_daemon *d, const struct lane *ln, size_t m, int64_t now_ms)
{
    struct cw_score_buffers *c = ln->c;
    const struct cw_config *cfg = d->rt.cfg;
    char err[256];
    bool parent_rules = cw_config_has_parent_rules(cfg);
    /* The children are read for the parents re-scored after a pass only (every load left
     * them unread): an account scored otherwise keeps its parent rules' states as they are
     * (lib/evaluate.c). */
    if (c->rescoring_parents &&
        cw_store_load_children(ln->store, c->data, m, err, sizeof err) != 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("loading children failed", "error=\"%s\"", err);
        return -1;
    }
    evaluate_chunk(d, c, m, now_ms, cw_wall_ms());
    int rc = cw_store_save(ln->store, cfg, c->results, m, err, sizeof err);
    if (rc != 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("saving scores failed, will retry", "error=\"%s\"", err);
    } else {
        cw_stat_add(&d->stats.accounts_scored, m);
        rc = send_chunk(d, ln, m);
    }
    if (rc == 0 && parent_rules && !c->rescoring_parents)
        collect_parents(c, m);
    free_json(c, m, cfg->n_rules);
    return rc;
}

static int score_ids(struct cw_daemon *d, const struct lane *ln, const char *const *ids, size_t n,
                     int64_t now_ms)
{
    int32_t today = cw_tz_day(d->rt.tz, now_ms);
    char err[256];
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        if (cw_store_load(ln->store, d->rt.cfg, ids + off, m, today, ln->c->data, err,
                          sizeof err) != 0) {
            cw_stat_add(&d->stats.redis_errors, 1);
            cw_log_warn("loading accounts failed, will retry", "error=\"%s\"", err);
            return -1;
        }
        if (score_loaded(d, ln, m, now_ms) != 0)
            return -1;
        if ((off / CHUNK + 1) % SETTLE_CHUNKS == 0 && settle(d, ln) != 0)
            return -1;
    }
    return settle(d, ln);
}

/* Re-score the parents collected by the pass that just ended, for their parent rules. A
 * failure is logged and not retried with the pass (its own accounts are done): the parents
 * are judged again at their next child's scoring or sweep (docs/hierarchies.md). */
static void rescore_parents(struct cw_daemon *d, const struct lane *ln, int64_t now_ms)
{
    struct cw_score_buffers *c = ln->c;
    if (c->n_parents == 0)
        return;
    const char **ids = malloc(c->n_parents * sizeof *ids);
    if (ids) {
        for (size_t k = 0; k < c->n_parents; k++)
            ids[k] = c->parents[k];
        c->rescoring_parents = true;
        if (score_ids(d, ln, ids, c->n_parents, now_ms) != 0)
            cw_log_warn("re-scoring parents failed, left to their children's next scoring",
                        "parents=%zu", c->n_parents);
        else
            cw_stat_add(&d->stats.parents_rescored, c->n_parents);
        c->rescoring_parents = false;
    } else {
        cw_log_error("out of memory", "what=%s", "parents to re-score");
    }
    free(ids);
    c->n_parents = 0;
}

int cw_score_pass(struct cw_daemon *d, const char *const *ids, size_t n, int64_t now_ms)
{
    struct lane ln;
    if (lane_get(d, 0, &ln) != 0)
        return -1;
    ln.c->n_pending = 0; /* a failed pass' messages: in their outboxes, published again */
    if (score_ids(d, &ln, ids, n, now_ms) != 0)
        return -1;
    rescore_parents(d, &ln, now_ms);
    return 0;
}

/* Lane ln's share of a batch's pass: groups[*done..n), as cw_score_pass_apply says. */
static int apply_lane(struct cw_daemon *d, const struct lane *ln, struct cw_store_batch *groups,
                      size_t n, size_t *done, int64_t now_ms)
{
    struct cw_score_buffers *c = ln->c;
    int32_t today = now_ms >= 0 ? cw_tz_day(d->rt.tz, now_ms) : CW_DAY_NONE;
    char err[256];
    c->n_pending = 0; /* a failed pass' messages: in their outboxes, published again */
    /* *done moves when the chunks' messages are acknowledged: a retry applies again (the
     * replays are skipped) and publishes from the outboxes what was not. */
    size_t next = *done, unsettled = 0;
    /* The accounts never silenced: their silences are not read (one round trip a try, part
     * of applying: its failure is logged as one). */
    if (now_ms >= 0 &&
        cw_store_mark_unsilenced(ln->store, groups + next, n - next, err, sizeof err) != 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("applying events to Redis failed, will retry", "accounts=%zu error=\"%s\"",
                    n - next, err);
        return -1;
    }
    while (next < n) {
        size_t m = n - next < CHUNK ? n - next : CHUNK;
        struct cw_store_batch *chunk = groups + next;
        for (size_t i = 0; i < m; i++)
            chunk[i].clock_day = today;
        /* While the clock is unknown (a backlog not seen yet) the accounts are applied
         * only: they are scored when next touched, or by the sweep. */
        cw_stall_point("before-redis-write");
        if (cw_store_apply_load(ln->store, d->rt.cfg, chunk, m, today, now_ms >= 0 ? c->data : NULL,
                                err, sizeof err) != 0) {
            cw_stat_add(&d->stats.redis_errors, 1);
            cw_log_warn("applying events to Redis failed, will retry", "accounts=%zu error=\"%s\"",
                        m, err);
            return -1;
        }
        cw_crash_point("after-redis-write");
        if (now_ms >= 0 && score_loaded(d, ln, m, now_ms) != 0)
            return -1;
        next += m;
        if (++unsettled == SETTLE_CHUNKS || next == n) {
            if (settle(d, ln) != 0)
                return -1;
            *done = next;
            unsettled = 0;
        }
    }
    return 0;
}

/* The lane of an account: a hash of its id (FNV-1a), so it is always the same one and only
 * that lane's connection holds it in memory. */
static size_t lane_of(const char *account_id, size_t lanes)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)account_id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % lanes);
}

/* Order groups[0..n) by lane, stably, so lane k's are groups[start[k]..start[k + 1]).
 * Ordering what is already in order changes nothing: a retried pass finds the same split.
 * 0, or -1 when out of memory. */
static int split_lanes(struct cw_store_batch *groups, size_t n, size_t lanes, size_t *start)
{
    size_t count[CW_REDIS_LANES_MAX] = {0};
    for (size_t i = 0; i < n; i++)
        count[lane_of(groups[i].account_id, lanes)]++;
    start[0] = 0;
    for (size_t k = 0; k < lanes; k++)
        start[k + 1] = start[k] + count[k];
    struct cw_store_batch *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    size_t at[CW_REDIS_LANES_MAX];
    memcpy(at, start, lanes * sizeof *at);
    for (size_t i = 0; i < n; i++)
        sorted[at[lane_of(groups[i].account_id, lanes)]++] = groups[i];
    memcpy(groups, sorted, n * sizeof *groups);
    free(sorted);
    return 0;
}

struct lane_run {
    struct cw_daemon *d;
    struct lane ln;
    struct cw_store_batch *groups;
    size_t n, *done;
    int64_t now_ms;
    int rc;
    _Atomic size_t *running; /* the pass' lanes still at work */
};

/* A batch's pass between cw_score_pass_start and cw_score_pass_finish: its lanes, each in a
 * thread of its own while the main loop gathers the next batch. */
struct cw_pass_lanes {
    struct lane_run run[CW_REDIS_LANES_MAX];
    pthread_t tid[CW_REDIS_LANES_MAX];
    bool started[CW_REDIS_LANES_MAX]; /* the lane's thread started (else it runs at finish) */
    size_t lanes;
    struct cw_store_batch *groups;
    size_t n;
    int64_t now_ms;
    bool active; /* started and not finished */
    _Atomic size_t running;
};

static void lane_run(struct lane_run *r)
{
    r->rc = apply_lane(r->d, &r->ln, r->groups, r->n, r->done, r->now_ms);
}

/* A lane's thread: it ends with the pass, so the in-memory apply's scratch area, kept per
 * thread, goes with it. */
static void *lane_thread(void *arg)
{
    struct lane_run *r = arg;
    lane_run(r);
    cw_account_mem_release_scratch();
    atomic_fetch_sub(r->running, 1);
    return NULL;
}

int cw_score_pass_start(struct cw_daemon *d, struct cw_store_batch *groups, size_t n,
                        size_t done[CW_REDIS_LANES_MAX], int64_t now_ms)
{
    if (!d->pass && !(d->pass = calloc(1, sizeof *d->pass))) {
        cw_log_error("out of memory", "what=%s", "lanes of a batch");
        return -1;
    }
    struct cw_pass_lanes *p = d->pass;
    p->lanes = d->n_lanes > 1 ? d->n_lanes : 1;
    p->groups = groups;
    p->n = n;
    p->now_ms = now_ms;
    size_t start[CW_REDIS_LANES_MAX + 1] = {0, n};
    if (p->lanes > 1 && split_lanes(groups, n, p->lanes, start) != 0) {
        cw_log_error("out of memory", "what=%s", "lanes of a batch");
        return -1;
    }
    for (size_t k = 0; k < p->lanes; k++) {
        p->run[k] = (struct lane_run){.d = d,
                                      .groups = groups + start[k],
                                      .n = start[k + 1] - start[k],
                                      .done = &done[k],
                                      .now_ms = now_ms,
                                      .rc = -1,
                                      .running = &p->running};
        if (lane_get(d, k, &p->run[k].ln) != 0)
            return -1;
    }
    /* Every lane in a thread of its own; a lane whose thread cannot start runs at finish. */
    atomic_store(&p->running, p->lanes);
    for (size_t k = 0; k < p->lanes; k++) {
        p->started[k] = pthread_create(&p->tid[k], NULL, lane_thread, &p->run[k]) == 0;
        if (!p->started[k])
            atomic_fetch_sub(&p->running, 1);
    }
    p->active = true;
    return 0;
}

bool cw_score_pass_running(const struct cw_daemon *d)
{
    return d->pass && d->pass->active && atomic_load(&d->pass->running) > 0;
}

int cw_score_pass_finish(struct cw_daemon *d)
{
    struct cw_pass_lanes *p = d->pass;
    if (!p || !p->active)
        return -1;
    p->active = false;
    int rc = 0;
    for (size_t k = 0; k < p->lanes; k++) {
        if (p->started[k])
            pthread_join(p->tid[k], NULL);
        else
            lane_run(&p->run[k]);
        if (p->run[k].rc != 0)
            rc = -1;
    }
    if (rc != 0 || p->now_ms < 0)
        return rc;
    for (size_t i = 0; i < p->n; i++)
        cw_sweep_note_scored(d, p->groups[i].account_id);
    /* the parents the other lanes' accounts named join lane 0's, re-scored there */
    for (size_t k = 1; k < p->lanes; k++) {
        struct cw_score_buffers *c = p->run[k].ln.c;
        for (size_t i = 0; i < c->n_parents; i++)
            parent_note(p->run[0].ln.c, c->parents[i]);
        c->n_parents = 0;
    }
    rescore_parents(d, &p->run[0].ln, p->now_ms);
    return 0;
}
