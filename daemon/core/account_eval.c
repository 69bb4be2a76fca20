/* account_eval.c - an account loaded from the store handed to lib's evaluation
 * (account_eval.h) */
#include "account_eval.h"

#include <stdlib.h>
#include <string.h>

static void evaluate(const struct cw_config *cfg, const struct cw_account_data *d, int64_t now_ms,
                     bool alert_reasons_only, struct cw_account_eval *out)
{
    struct cw_eval_input in = {
        .alert_reasons_only = alert_reasons_only,
        .history = d->history,
        .n_history = d->n_history,
        .has_last_score = d->has_last_score,
        .last_score = d->last_score,
        .rules = d->rules,
        .n_rules = d->n_rules,
        .children = d->children_loaded ? &d->children : NULL,
    };
    cw_account_data_view(d, now_ms, &in.view);
    for (size_t r = 0; r < cfg->n_rules && r < CW_MAX_RULES; r++)
        in.silenced[r] = cw_account_data_silenced(d, cfg->rules[r].name, now_ms);
    cw_evaluate(cfg, &in, out);
}

void cw_account_evaluate(const struct cw_config *cfg, const struct cw_account_data *d,
                         int64_t now_ms, struct cw_account_eval *out)
{
    evaluate(cfg, d, now_ms, false, out);
}

void cw_account_evaluate_for_alerts(const struct cw_config *cfg, const struct cw_account_data *d,
                                    int64_t now_ms, struct cw_account_eval *out)
{
    evaluate(cfg, d, now_ms, true, out);
}

bool cw_account_score_days_ago(const struct cw_config *cfg, const struct cw_account_view *v,
                               uint32_t days, struct cw_score_result *out)
{
    if (days == 0 || v->horizon < days + cfg->longest_window_days)
        return false;
    uint32_t h = v->horizon - days;
    uint32_t *shifted = malloc(sizeof *shifted * v->n_metrics * h);
    if (!shifted)
        return false;
    for (size_t m = 0; m < v->n_metrics; m++)
        memcpy(shifted + m * h, v->daily + m * v->horizon + days, sizeof *shifted * h);
    struct cw_account_view past = *v;
    past.daily = shifted;
    past.horizon = h;
    past.today = v->today - (int32_t)days;
    past.now_ms = v->now_ms - (int64_t)days * CW_MS_PER_DAY;
    cw_score_compute(cfg, &past, out);
    free(shifted);
    return true;
}

uint32_t cw_account_moved_days(const struct cw_config *cfg, const struct cw_account_view *v,
                               uint32_t max_days)
{
    uint32_t spare =
        v->horizon > cfg->longest_window_days ? v->horizon - cfg->longest_window_days : 0;
    return spare < max_days ? spare : max_days;
}
