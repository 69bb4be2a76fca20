/* rules.h - churn-risk rules: condition evaluation and the per-(account, rule) state machine */
#ifndef CHURNWATCH_RULES_H
#define CHURNWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/account.h"
#include "churnwatch/config.h"
#include "churnwatch/hierarchy.h"
#include "churnwatch/score.h"

#define CW_ALERT_ID_LEN   32 /* hex characters */
#define CW_RULE_USERS_MAX 10 /* users a champion_quiet or power_users_below alert names */

/* One day of the daily score history (the last score of that local day). */
struct cw_score_point {
    int32_t day;
    double score;
};

/* What a rule's condition looks at. */
struct cw_rule_facts {
    const struct cw_account_view *account;
    const struct cw_score_result *score;  /* current score of the account */
    const struct cw_score_point *history; /* daily scores, ascending by day; may be NULL */
    size_t n_history;
    const struct cw_children *children; /* the account's children; NULL or none: no parent */
    /* Leave the reason texts out (out->reason empty, reason_skipped set): everything else
     * is decided as with them. The daemon's scoring writes a rule's reason only when its
     * transition emits an alert, which carries it (cw_eval_input.alert_reasons_only). */
    bool skip_reasons;
};

/* The outcome of evaluating a rule's condition. */
struct cw_rule_eval {
    bool evaluable; /* false: the data the rule needs is missing (no score, no
                       created_at, no seats...): the condition counts as not holding */
    bool holds;     /* the condition holds (with hysteresis when already firing) */
    bool has_value;
    double value;     /* score, drop in points, silent days, ratio, children at risk... */
    double threshold; /* the rule's firing threshold (enter, points, after or within in
                         days) also while firing; the exit side shows only in reason */
    bool has_previous_score;
    double previous_score; /* score_drop: the score `over` ago; others: unset */
    double children_below; /* children_at_risk: a child scored below this was at risk */
    /* champion_quiet, power_users_below: the users the rule names (the quiet champions,
     * the power users), most points first, at most CW_RULE_USERS_MAX; they point into the
     * account view's users */
    const char *users[CW_RULE_USERS_MAX];
    size_t n_users;
    char reason[320];    /* human text, e.g. "health score 37.5 fell below 40" */
    bool reason_skipped; /* reason left empty: cw_rule_facts.skip_reasons */
};

/*
 * Evaluate rule r of cfg with params p (the segment-effective params) on facts.
 * firing tells whether the rule is currently firing for this account, which selects the
 * exit side of hysteresis thresholds (score_below, ratio_below, score_drop).
 */
void cw_rule_evaluate(const struct cw_config *cfg, size_t r, const struct cw_rule_params *p,
                      const struct cw_rule_facts *facts, bool firing, struct cw_rule_eval *out);

/*
 * Whether every further condition of rule r (cfg->rules[r].when) holds on facts (true when
 * it has none). text gets, when they all hold, each one described and '; '-separated
 * ("seminars over short (7d) = 2 > 0; stage onboarding in onboarding"), else the first that
 * does not ("health score 62, not < 50"). A condition whose data is missing (no score,
 * seats unknown) does not hold. cw_rule_evaluate applies them after the rule's own
 * condition and appends the text to its reason.
 */
bool cw_rule_conditions_hold(const struct cw_config *cfg, size_t r, const struct cw_rule_facts *f,
                             char *text, size_t size);

enum cw_rule_status {
    CW_RULE_OK = 0,
    CW_RULE_PENDING, /* condition holds, waiting for `for` */
    CW_RULE_FIRING,
};

/* Persistent state of one (account, rule); all zero is "ok, never fired". */
struct cw_rule_state {
    enum cw_rule_status status;
    int64_t since_ms;     /* pending: condition start; firing: episode start (fired) */
    int64_t cleared_ms;   /* firing: when the condition cleared, 0 while it holds */
    int64_t last_sent_ms; /* firing: last published firing or reminder, 0 if none */
    bool published;       /* firing: the firing alert was published (not silenced) */
    char alert_id[CW_ALERT_ID_LEN + 1]; /* firing: this episode's id */
};

enum cw_emit {
    CW_EMIT_NONE = 0,
    CW_EMIT_FIRING,
    CW_EMIT_REMINDER, /* status "firing" again, same alert_id, after repeat_interval */
    CW_EMIT_RESOLVED,
};

struct cw_transition {
    enum cw_emit emit;
    bool publish; /* false when the account is silenced for this rule: record only */
    char alert_id[CW_ALERT_ID_LEN + 1];
};

/*
 * One step of the state machine at time now_ms (the daemon's clock):
 * (prev, eval, now, silenced) -> (next, transition). Pure and deterministic.
 *   ok -> pending when the condition starts holding and for_ms > 0;
 *   ok/pending -> firing when it has held for for_ms: emits FIRING with a new episode id;
 *   pending -> ok when it stops holding before for_ms: emits nothing;
 *   firing: a reminder after repeat_ms since the last publication; when the condition
 *   clears, stays firing keep_firing_ms longer, then -> ok emitting RESOLVED with the
 *   episode's id.
 * A silenced transition is recorded with publish = false; when the silence is over and
 * the episode is still firing but was never published, the FIRING is emitted then. A
 * RESOLVED is published exactly when the episode's firing was (even under a silence, so
 * consumers never keep an alert open forever); one never published is not published.
 * No reminder is emitted while silenced; one overdue is emitted when the silence ends.
 * Not evaluable counts as not holding. cleared_ms uses 0 as "holds", so now_ms > 0.
 * A pending or firing state is left unchanged (nothing emitted) when now_ms is before
 * one of its instants (since, cleared, last sent): the clock went back, e.g. a restart
 * replaying history whose effects were already saved.
 */
void cw_rule_step(const struct cw_rule_params *p, const struct cw_rule_state *prev,
                  const struct cw_rule_eval *eval, int64_t now_ms, const char *account_id,
                  const char *rule_name, bool silenced, struct cw_rule_state *next,
                  struct cw_transition *out);

/*
 * The stable id of an episode: 32 lower-case hex characters derived from
 * (account_id, rule_name, episode start), so a replay of the same history yields the
 * same ids.
 */
void cw_alert_id(const char *account_id, const char *rule_name, int64_t episode_start_ms,
                 char out[CW_ALERT_ID_LEN + 1]);

/* True when s (len bytes) has the form of an id of alert_id.c: 32 lower-case hex characters
 * (an alert id, or a score feed's score id). */
bool cw_hex_id_ok(const char *s, size_t len);

#endif /* CHURNWATCH_RULES_H */
