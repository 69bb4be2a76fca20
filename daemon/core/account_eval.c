/* account_eval.c - an account loaded from the store handed to lib's evaluation
 * (account_eval.h) */
#include "account_eval.h"

void cw_account_evaluate(const struct cw_config *cfg, const struct cw_account_data *d,
                         int64_t now_ms, struct cw_account_eval *out)
{
    struct cw_eval_input in = {
        .history = d->history,
        .n_history = d->n_history,
        .has_last_score = d->has_last_score,
        .last_score = d->last_score,
        .rules = d->rules,
        .n_rules = d->n_rules,
    };
    cw_account_data_view(d, now_ms, &in.view);
    for (size_t r = 0; r < cfg->n_rules && r < CW_MAX_RULES; r++)
        in.silenced[r] = cw_account_data_silenced(d, cfg->rules[r].name, now_ms);
    cw_evaluate(cfg, &in, out);
}
