/* evaluate.h - score one loaded account and run its rules; build the alerts of its transitions */
#ifndef CHURNWATCH_EVALUATE_H
#define CHURNWATCH_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/rules.h"
#include "churnwatch/score.h"
#include "store.h"

/* Everything decided about one account at one instant. */
struct cw_account_eval {
    int64_t now_ms;
    struct cw_account_view view;
    struct cw_score_result score;
    const char *segment; /* the account's segment trait, or NULL */
    size_t n_rules;
    const struct cw_rule_params *params[CW_MAX_RULES];
    struct cw_rule_eval evals[CW_MAX_RULES];
    struct cw_rule_state next[CW_MAX_RULES];
    struct cw_transition trans[CW_MAX_RULES];
};

/*
 * Score d under cfg at now_ms (d loaded with today == the local day of now_ms), evaluate
 * every rule with the history in d plus today's score, and step each rule's state
 * machine (silences from d). Pure apart from reading d.
 */
void cw_account_evaluate(const struct cw_config *cfg, const struct cw_account_data *d,
                         int64_t now_ms, struct cw_account_eval *out);

/*
 * The churnwatch.alert.v1 JSON of rule r's transition in e (e->trans[r].emit must not be
 * CW_EMIT_NONE), emitted at wall time emitted_ms. Returns a malloc'd string or NULL.
 */
char *cw_account_alert_json(const struct cw_config *cfg, const struct cw_account_data *d,
                            const struct cw_account_eval *e, size_t r, int64_t emitted_ms,
                            size_t *len);

#endif /* CHURNWATCH_EVALUATE_H */
