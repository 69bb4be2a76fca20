/* evaluate.h - score one account and run its rules at one instant; build the alerts of its
 * transitions (lib/evaluate.c). Pure: everything it reads is handed in. */
#ifndef CHURNWATCH_EVALUATE_H
#define CHURNWATCH_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/account.h"
#include "churnwatch/config.h"
#include "churnwatch/rules.h"
#include "churnwatch/score.h"

/* What the evaluation reads of one account. The daemon and the CLI fill it from the
 * store (daemon/core/account_eval.c), tests by hand; nothing here is owned. */
struct cw_eval_input {
    struct cw_account_view view;          /* at the instant judged: view.now_ms, view.today */
    const struct cw_score_point *history; /* the stored daily scores, ascending by day */
    size_t n_history;
    bool has_last_score; /* the last score saved, for an alert's previous_score */
    double last_score;
    const struct cw_rule_state *rules; /* the stored state of each rule, by config order */
    size_t n_rules;                    /* rules past it start "ok, never fired" */
    bool silenced[CW_MAX_RULES];       /* an active silence covers rule r at view.now_ms */
    /* The account's children, for its parent rules (children_at_risk); NULL: not read this
     * time, and those rules keep their stored states (nothing judged, nothing emitted). */
    const struct cw_children *children;
    /* Write the reason texts of the rules whose transition emits (their alerts carry them)
     * and of no other rule: theirs are empty with reason_skipped set. The daemon's scoring
     * and a backtest's replay, where a rule's texts are most of its cost (docs/design.md)
     * and few rules emit; false (the CLI, the console): every rule's. Nothing else differs. */
    bool alert_reasons_only;
};

/* Everything decided about one account at one instant. */
struct cw_account_eval {
    int64_t now_ms;
    struct cw_account_view view;
    struct cw_score_result score;
    const char *segment;                /* the account's segment trait, or NULL */
    const struct cw_children *children; /* copied from the input: NULL not read */
    bool has_last_score;                /* copied from the input, for cw_evaluate_alert_json */
    double last_score;
    size_t n_rules;
    const struct cw_rule_params *params[CW_MAX_RULES];
    struct cw_rule_eval evals[CW_MAX_RULES];
    struct cw_rule_state next[CW_MAX_RULES];
    struct cw_transition trans[CW_MAX_RULES];
};

/*
 * Score the account of in under cfg at in->view.now_ms, evaluate every rule (its params
 * for the account's segment) with the stored history before today plus today's score, and
 * step each rule's state machine from its stored state, silenced as in->silenced says.
 * out->view is a copy of in->view: it points into what in pointed to.
 */
void cw_evaluate(const struct cw_config *cfg, const struct cw_eval_input *in,
                 struct cw_account_eval *out);

/*
 * The churnwatch.alert.v1 JSON of rule r's transition in e (e->trans[r].emit must not be
 * CW_EMIT_NONE), emitted at wall time emitted_ms; previous_score is the rule's own
 * reference score when it has one, else the account's last saved score. Returns a
 * malloc'd string (its length in *len) or NULL.
 */
char *cw_evaluate_alert_json(const struct cw_config *cfg, const struct cw_account_eval *e, size_t r,
                             int64_t emitted_ms, size_t *len);

#endif /* CHURNWATCH_EVALUATE_H */
