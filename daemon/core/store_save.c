/* store_save.c - saving scores and rule states (compare-and-set) with their outbox entries,
 * and each child in its parent's index */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* SAVE_SCORE_FEED: a score with its score feed message (cw_save_feed). SAVE_POINT and
 * SAVE_POINT_TTL: today's point overwritten with plain commands when the load found it (what
 * cw_save does then: no new day, so no pruning and no h_last; the lifetime is set only if
 * the history has none, as cw_save's inheritance would). A new day after the history's
 * newest adds SAVE_PRUNE and SAVE_LAST: what cw_save's pruning and h_last do, known without
 * reading the history (below); the first point of an empty history adds SAVE_LAST alone.
 * SAVE_INDEX_ADD / _REM: one ZADD of every score and one ZREM of every unscored account of
 * the call, to the score index (`top`). */
enum save_kind {
    SAVE_SCORE,
    SAVE_SCORE_FEED,
    SAVE_POINT,     /* HSET :h today score */
    SAVE_POINT_TTL, /* EXPIRE :h ttl_long NX */
    SAVE_PRUNE,     /* HDEL :h of the days a new day pushes out of the history */
    SAVE_LAST,      /* HSET :m h_last today */
    SAVE_INDEX_ADD,
    SAVE_INDEX_REM,
    SAVE_RULE,
    SAVE_CHILD_ADD, /* SADD of the account to its parent's index :c (docs/hierarchies.md) */
    SAVE_CHILD_TTL, /* and the index's lifetime, the long one from now */
};

struct save_op {
    enum save_kind kind;
    size_t result, rule;
};

struct save_ctx {
    const struct cw_config *cfg;
    struct cw_store_result *results;
    size_t n_results;
    struct save_op *ops;
    long long keep_days, ttl_long;
};

/* The newest day of res's stored history: the later of :m's h_last, when the load read
 * it, and the newest point loaded (CW_DAY_NONE: neither). */
static int32_t newest_day(const struct cw_store_result *res)
{
    bool last = res->h_last_known && res->h_last != CW_DAY_NONE;
    if (last && (res->history_last == CW_DAY_NONE || res->h_last > res->history_last))
        return res->h_last;
    return res->history_last;
}

static int save_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct save_ctx *s = vctx;
    const struct save_op *op = &s->ops[i];
    const struct cw_store_result *res = &s->results[op->result];
    switch (op->kind) {
    case SAVE_SCORE:
    case SAVE_SCORE_FEED:
        cw_rcmd_adds(c, "FCALL");
        cw_rcmd_adds(c, op->kind == SAVE_SCORE ? "cw_save" : "cw_save_feed");
        cw_rcmd_adds(c, op->kind == SAVE_SCORE ? "2" : "3");
        cw_store_add_account_key(st, c, res->account_id, "m");
        cw_store_add_account_key(st, c, res->account_id, "h");
        if (op->kind == SAVE_SCORE_FEED)
            cw_store_add_account_key(st, c, res->account_id, "r");
        cw_rcmd_addll(c, res->today);
        cw_rcmd_addf(c, "%.10g", res->score); /* a trend point: 10 digits are plenty */
        cw_rcmd_addll(c, s->keep_days);
        cw_rcmd_addll(c, s->ttl_long);
        if (op->kind == SAVE_SCORE_FEED) {
            cw_rcmd_adds(c, res->feed_expected_raw ? res->feed_expected_raw : "");
            cw_rcmd_adds(c, res->feed_state);
            cw_rcmd_adds(c, res->feed_key);
            cw_rcmd_adds(c, res->feed_json);
        }
        break;
    case SAVE_POINT:
        cw_rcmd_adds(c, "HSET");
        cw_store_add_account_key(st, c, res->account_id, "h");
        cw_rcmd_addll(c, res->today);
        cw_rcmd_addf(c, "%.10g", res->score);
        break;
    case SAVE_POINT_TTL:
        cw_rcmd_adds(c, "EXPIRE");
        cw_store_add_account_key(st, c, res->account_id, "h");
        cw_rcmd_addll(c, s->ttl_long);
        cw_rcmd_adds(c, "NX");
        break;
    case SAVE_PRUNE: /* cw_save's prune_days to today - keep_days: see new_day_plain */
        cw_rcmd_adds(c, "HDEL");
        cw_store_add_account_key(st, c, res->account_id, "h");
        for (long long d = newest_day(res) - s->keep_days + 1; d <= res->today - s->keep_days; d++)
            cw_rcmd_addll(c, d);
        break;
    case SAVE_LAST:
        cw_rcmd_adds(c, "HSET");
        cw_store_add_account_key(st, c, res->account_id, "m");
        cw_rcmd_adds(c, "h_last");
        cw_rcmd_addll(c, res->today);
        break;
    case SAVE_INDEX_ADD:
    case SAVE_INDEX_REM:
        cw_rcmd_adds(c, op->kind == SAVE_INDEX_ADD ? "ZADD" : "ZREM");
        cw_store_add_global_key(st, c, "scores");
        for (size_t k = 0; k < s->n_results; k++) {
            if (s->results[k].has_score != (op->kind == SAVE_INDEX_ADD))
                continue;
            if (op->kind == SAVE_INDEX_ADD)
                cw_rcmd_addf(c, "%.17g", s->results[k].score);
            cw_rcmd_adds(c, s->results[k].account_id);
        }
        break;
    case SAVE_CHILD_ADD:
        cw_rcmd_adds(c, "SADD");
        cw_store_add_account_key(st, c, res->parent_id, "c");
        cw_rcmd_adds(c, res->account_id);
        break;
    case SAVE_CHILD_TTL:
        cw_rcmd_adds(c, "EXPIRE");
        cw_store_add_account_key(st, c, res->parent_id, "c");
        cw_rcmd_addll(c, s->ttl_long);
        break;
    case SAVE_RULE: {
        char enc[160], zero[160];
        struct cw_rule_state z;
        memset(&z, 0, sizeof z);
        cw_rule_state_encode(&res->rule_new[op->rule], enc, sizeof enc);
        cw_rule_state_encode(&z, zero, sizeof zero);
        const char *expected = res->rule_expected_raw[op->rule];
        const char *akey = res->rule_alert_key[op->rule];
        const char *ajson = res->rule_alert_json[op->rule];
        cw_rcmd_adds(c, "FCALL");
        cw_rcmd_adds(c, "cw_rule_cas");
        cw_rcmd_adds(c, "3");
        cw_store_add_account_key(st, c, res->account_id, "m");
        cw_store_add_account_key(st, c, res->account_id, "r");
        cw_store_add_account_key(st, c, res->account_id, "o");
        cw_rcmd_adds(c, s->cfg->rules[op->rule].name);
        cw_rcmd_adds(c, expected ? expected : "");
        cw_rcmd_adds(c, strcmp(enc, zero) == 0 ? "" : enc); /* ok and clean: absent */
        cw_rcmd_addll(c, s->ttl_long);
        cw_rcmd_adds(c, akey && ajson ? akey : "");
        cw_rcmd_adds(c, akey && ajson ? ajson : "");
        char ef[CW_EPISODE_FIELD_SIZE], ev[CW_EPISODE_VALUE_SIZE];
        if (res->rule_resolves[op->rule] &&
            cw_episode_encode(&res->rule_episode[op->rule], ef, sizeof ef, ev, sizeof ev) == 0) {
            cw_rcmd_adds(c, ef); /* the recent episodes (docs/state.md) */
            cw_rcmd_adds(c, ev);
            cw_rcmd_addll(c, CW_EPISODES_KEPT);
        }
        break;
    }
    }
    return c->oom ? -1 : 0;
}

/* Whether res's score starts a new day of the history that plain commands can save. The
 * history holds at most keep_days days back from h_last: cw_save prunes the days up to
 * today - keep_days whenever it adds a day, and h_last is the newest day it added. So the
 * days a new day pushes out are among h_last - keep_days + 1 .. today - keep_days, a few
 * when the account was scored lately (an HDEL of fields absent is harmless); after a longer
 * gap, cw_save reads the history to prune it. Without h_last nor a loaded point, cw_save too
 * unless the history is known empty (first_point_plain). */
static bool new_day_plain(const struct cw_store_result *res)
{
    int32_t last = newest_day(res);
    return last != CW_DAY_NONE && res->today > last && res->today - last <= CW_STORE_NEW_DAY_PLAIN;
}

/* Whether res's score is the first point of an empty history: :m has no h_last, so the
 * load read all of :h, and found nothing (an account's first score, or a history that
 * expired with :m). cw_save would add the point, prune nothing and set h_last: plain
 * commands do the same. */
static bool first_point_plain(const struct cw_store_result *res)
{
    return res->h_last_known && res->h_last == CW_DAY_NONE && res->history_last == CW_DAY_NONE;
}

static int save_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                      size_t errsize)
{
    (void)st;
    struct save_ctx *s = vctx;
    const struct save_op *op = &s->ops[i];
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (op->kind == SAVE_RULE)
        s->results[op->result].rule_won[op->rule] = r->integer == 1;
    else if (op->kind == SAVE_SCORE_FEED)
        s->results[op->result].feed_won = r->integer == 1;
    return 0;
}

int cw_store_save(cw_store *st, const struct cw_config *cfg, struct cw_store_result *results,
                  size_t n, char *err, size_t errsize)
{
    size_t n_ops = 0;
    for (size_t i = 0; i < n; i++) {
        struct cw_store_result *r = &results[i];
        if (r->n_rules > cfg->n_rules || r->n_rules > CW_MAX_RULES) {
            snprintf(err, errsize, "store: result of %s has more rules than the config",
                     r->account_id);
            return -1;
        }
        if (r->has_score && !isfinite(r->score)) {
            snprintf(err, errsize, "store: score of %s is not a finite number", r->account_id);
            return -1;
        }
        n_ops += 6; /* the score (or its point, pruning, h_last, lifetime), the parent's index */
        r->feed_won = false;
        for (size_t k = 0; k < r->n_rules; k++) {
            r->rule_won[k] = false;
            n_ops += r->rule_changed[k];
        }
    }
    n_ops += 2; /* the score index: ZADD, ZREM */
    struct save_ctx s = {.cfg = cfg, .results = results, .n_results = n};
    s.keep_days = (long long)cw_store_row_days(cfg) + CW_STORE_HISTORY_EXTRA;
    s.ttl_long = (long long)CW_STORE_LONG_TTL_DAYS * 86400;
    s.ops = calloc(n_ops, sizeof *s.ops);
    if (!s.ops) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    size_t k = 0, scored = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cw_store_result *res = &results[i];
        bool feed = res->feed_json && res->feed_state && res->feed_key;
        if (res->has_score && !feed && res->today_point) {
            s.ops[k++] = (struct save_op){.kind = SAVE_POINT, .result = i};
            s.ops[k++] = (struct save_op){.kind = SAVE_POINT_TTL, .result = i};
        } else if (res->has_score && !feed && (new_day_plain(res) || first_point_plain(res))) {
            s.ops[k++] = (struct save_op){.kind = SAVE_POINT, .result = i};
            if (new_day_plain(res)) /* else an empty history's first point: nothing to prune */
                s.ops[k++] = (struct save_op){.kind = SAVE_PRUNE, .result = i};
            s.ops[k++] = (struct save_op){.kind = SAVE_LAST, .result = i};
            s.ops[k++] = (struct save_op){.kind = SAVE_POINT_TTL, .result = i};
        } else if (res->has_score) {
            s.ops[k++] = (struct save_op){.kind = feed ? SAVE_SCORE_FEED : SAVE_SCORE, .result = i};
        }
        scored += results[i].has_score;
        for (size_t r = 0; r < results[i].n_rules; r++)
            if (results[i].rule_changed[r])
                s.ops[k++] = (struct save_op){.kind = SAVE_RULE, .result = i, .rule = r};
        if (res->parent_id && res->parent_id[0]) {
            s.ops[k++] = (struct save_op){.kind = SAVE_CHILD_ADD, .result = i};
            s.ops[k++] = (struct save_op){.kind = SAVE_CHILD_TTL, .result = i};
        }
    }
    if (scored > 0)
        s.ops[k++] = (struct save_op){.kind = SAVE_INDEX_ADD};
    if (scored < n)
        s.ops[k++] = (struct save_op){.kind = SAVE_INDEX_REM};
    struct cw_store_ops o = {.n = k, .ctx = &s, .build = save_build, .reply = save_reply};
    int rc = cw_store_ops_run(st, &o, err, errsize);
    free(s.ops);
    return rc;
}
