/* evaluate.c - score one account and run its rules at one instant; build the alerts of its
 * transitions (evaluate.h) */
#include "churnwatch/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/alert.h"

/* Days of history handed to the rules; the store keeps less than this. */
#define HISTORY_MAX (CW_MAX_WINDOW_DAYS + 64)

void cw_evaluate(const struct cw_config *cfg, const struct cw_eval_input *in,
                 struct cw_account_eval *out)
{
    int64_t now_ms = in->view.now_ms;
    int32_t today = in->view.today;
    out->now_ms = now_ms;
    out->view = in->view;
    cw_score_compute(cfg, &out->view, &out->score);
    out->segment = in->view.traits && in->view.traits->segment[0] ? in->view.traits->segment : NULL;
    out->has_last_score = in->has_last_score;
    out->last_score = in->last_score;
    out->children = in->children;

    /* The stored history, with today's point replaced by the score just computed. */
    struct cw_score_point history[HISTORY_MAX];
    size_t n = 0;
    size_t first = in->n_history > HISTORY_MAX - 1 ? in->n_history - (HISTORY_MAX - 1) : 0;
    for (size_t i = first; i < in->n_history; i++)
        if (in->history[i].day < today)
            history[n++] = in->history[i];
    if (out->score.has_score)
        history[n++] = (struct cw_score_point){.day = today, .score = out->score.score};
    struct cw_rule_facts facts = {
        .account = &out->view,
        .score = &out->score,
        .history = history,
        .n_history = n,
        .children = in->children,
        .skip_reasons = in->alert_reasons_only,
    };

    out->n_rules = cfg->n_rules;
    for (size_t r = 0; r < cfg->n_rules; r++) {
        const struct cw_rule_params *p = cw_config_rule_params(cfg, r, out->segment);
        struct cw_rule_state prev = {0};
        if (r < in->n_rules)
            prev = in->rules[r];
        out->params[r] = p;
        if (cfg->rules[r].kind == CW_RULE_CHILDREN_AT_RISK && !in->children) {
            /* the children were not read: the rule is not judged this time */
            out->evals[r] = (struct cw_rule_eval){0};
            snprintf(out->evals[r].reason, sizeof out->evals[r].reason,
                     "children not read in this scoring");
            out->next[r] = prev;
            out->trans[r] = (struct cw_transition){0};
            continue;
        }
        cw_rule_evaluate(cfg, r, p, &facts, prev.status == CW_RULE_FIRING, &out->evals[r]);
        cw_rule_step(p, &prev, &out->evals[r], now_ms, in->view.account_id, cfg->rules[r].name,
                     in->silenced[r], &out->next[r], &out->trans[r]);
        if (out->evals[r].reason_skipped && out->trans[r].emit != CW_EMIT_NONE) {
            /* an alert carries the reason: judged again with it, to the same outcome */
            facts.skip_reasons = false;
            cw_rule_evaluate(cfg, r, p, &facts, prev.status == CW_RULE_FIRING, &out->evals[r]);
            facts.skip_reasons = true;
        }
    }
}

char *cw_evaluate_alert_json(const struct cw_config *cfg, const struct cw_account_eval *e, size_t r,
                             int64_t emitted_ms, size_t *len)
{
    const struct cw_rule *rule = &cfg->rules[r];
    const struct cw_rule_eval *ev = &e->evals[r];
    const struct cw_transition *t = &e->trans[r];

    struct cw_alert_component comps[CW_MAX_COMPONENTS];
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        comps[c].name = cfg->score.components[c].name;
        comps[c].has = e->score.components[c].has;
        comps[c].value = e->score.components[c].value;
    }

    struct cw_alert a = {
        .alert_id = t->alert_id,
        .account_id = e->view.account_id,
        .rule = rule->name,
        .kind = rule->kind,
        .direction = rule->direction,
        .resolved = t->emit == CW_EMIT_RESOLVED,
        .reminder = t->emit == CW_EMIT_REMINDER,
        .severity = e->params[r]->severity,
        .has_score = e->score.has_score,
        .score = e->score.score,
        .grade = e->score.grade,
        .has_threshold = ev->has_value,
        .threshold = ev->threshold,
        .has_value = ev->has_value,
        .value = ev->value,
        .touch = e->params[r]->touch,
        .segment = e->segment,
        .profile = e->score.profile,
        .stage = e->score.stage,
        .reason = ev->reason,
        .n_components = cfg->score.n_components,
        .components = comps,
        .observed_at_ms = e->now_ms,
        .emitted_at_ms = emitted_ms,
    };
    const struct cw_traits *tr = e->view.traits;
    if (tr) { /* who the account is, so that no subscriber has to look it up */
        a.owner = tr->owner;
        a.plan = tr->plan;
        a.has_seats = tr->has_seats;
        a.seats = tr->seats;
        a.has_renewal_at = tr->has_renewal_at;
        a.renewal_at_ms = tr->renewal_at_ms;
        a.parent_id = tr->parent_id;
    }
    if (ev->has_previous_score) {
        a.has_previous_score = true;
        a.previous_score = ev->previous_score;
    } else if (e->has_last_score) {
        a.has_previous_score = true;
        a.previous_score = e->last_score;
    }
    const char **at_risk = NULL;
    if (rule->kind == CW_RULE_CHILDREN_AT_RISK && e->children) {
        /* the children at risk when judged, as the reason names them, at most the bound */
        size_t k;
        size_t *idx = cw_children_below(e->children, ev->children_below, &k);
        at_risk = idx ? malloc((k ? k : 1) * sizeof *at_risk) : NULL;
        if (!at_risk) {
            free(idx);
            return NULL;
        }
        a.n_children_at_risk = k < CW_ALERT_CHILDREN_MAX ? k : CW_ALERT_CHILDREN_MAX;
        for (size_t i = 0; i < a.n_children_at_risk; i++)
            at_risk[i] = e->children->ids[idx[i]];
        free(idx);
        a.children_at_risk = at_risk;
        a.has_rollup_score =
            cw_rollup(cfg->hierarchy.rollup, e->children->child, e->children->n, &a.rollup_score);
    }
    if (rule->kind == CW_RULE_CHAMPION_QUIET || rule->kind == CW_RULE_POWER_USERS_BELOW) {
        a.users = ev->users;
        a.n_users = ev->n_users;
    }
    char *text = cw_alert_encode(&a, len);
    free(at_risk);
    return text;
}
