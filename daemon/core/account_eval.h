/* account_eval.h - an account loaded from the store handed to lib's evaluation
 * (churnwatch/evaluate.h): the daemon's score pass and the CLI's top and account */
#ifndef CHURNWATCH_ACCOUNT_EVAL_H
#define CHURNWATCH_ACCOUNT_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "store.h"

/*
 * cw_evaluate of d under cfg at now_ms (d loaded with today == the local day of now_ms):
 * its view, stored history, last score, rule states and the silences active at now_ms.
 * out points into d: keep d unchanged while out is used.
 */
void cw_account_evaluate(const struct cw_config *cfg, const struct cw_account_data *d,
                         int64_t now_ms, struct cw_account_eval *out);

/* The same, with reason texts only for the rules whose transition emits, which their alerts
 * carry (cw_eval_input.alert_reasons_only): the daemon's score pass, a backtest's replay. */
void cw_account_evaluate_for_alerts(const struct cw_config *cfg, const struct cw_account_data *d,
                                    int64_t now_ms, struct cw_account_eval *out);

/*
 * The account of view v scored as it stood `days` ago (its daily rows shifted), for "what
 * moved it" (`churnwatch account`, the console). False when the kept daily rows are too
 * short for that (or days is 0, or memory is short).
 */
bool cw_account_score_days_ago(const struct cw_config *cfg, const struct cw_account_view *v,
                               uint32_t days, struct cw_score_result *out);

/* How many days back "what moved it" can compare v with: max_days, or fewer as far as the
 * kept daily rows reach beyond the longest window. */
uint32_t cw_account_moved_days(const struct cw_config *cfg, const struct cw_account_view *v,
                               uint32_t max_days);

#endif /* CHURNWATCH_ACCOUNT_EVAL_H */
