/* score.c - measures -> components -> 0..100 health score, grade, contributions and moves */
#include <math.h>
#include <string.h>

#include "churnwatch/score.h"
#include "churnwatch/values.h"
#include "churnwatch/window.h"

/* Moves smaller than this (in score points) are noise, not "what moved it". */
#define MOVE_MIN_POINTS 0.05

const char *cw_score_na_text(enum cw_na_reason na)
{
    switch (na) {
    case CW_NA_NO_SEATS:
        return "n/a (seats unknown)";
    case CW_NA_NOT_OBSERVED:
        return "n/a (window not yet observed)";
    case CW_NA_NOT_IN_PROFILE:
        return "n/a (not in this profile)";
    case CW_NA_NO_VALUES:
        return "n/a (no values in the window)";
    default:
        return "n/a";
    }
}

size_t cw_score_measure_index(const struct cw_config *cfg, size_t c, size_t m)
{
    size_t index = 0;
    for (size_t i = 0; i < c && i < cfg->score.n_components; i++)
        index += cfg->score.components[i].n_measures;
    return index + m;
}

const char *cw_score_grade(const struct cw_config *cfg, double score)
{
    const struct cw_score_config *sc = &cfg->score;
    if (sc->n_grades == 0)
        return "";
    for (size_t i = 0; i < sc->n_grades; i++)
        if (score >= sc->grades[i].min_score)
            return sc->grades[i].name;
    return sc->grades[sc->n_grades - 1].name; /* below every band: the lowest one */
}

/*
 * The raw value of one measure, or n/a. Active users are distinct users, which do not
 * extrapolate: they are n/a until the whole window is observed; counters are scaled from
 * the observed part of the window to the whole window. A metric row the view does not
 * hold counts as all-zero days, as absent counters do in the state store.
 */
static void measure_raw(const struct cw_config *cfg, const struct cw_account_view *acct,
                        const struct cw_measure *ms, double target, struct cw_measure_result *r)
{
    uint32_t days = cfg->windows[ms->window].days;
    r->target = target;
    r->observed_days = cw_window_observed_days(acct->first_day, acct->today, days);

    if (ms->per_seat && (!acct->traits->has_seats || acct->traits->seats <= 0)) {
        r->na = CW_NA_NO_SEATS;
        return;
    }
    if (r->observed_days < cfg->score.min_observed_days && r->observed_days < days) {
        r->na = CW_NA_NOT_OBSERVED;
        return;
    }
    /* Distinct users of a partly observed window undercount and cannot be scaled: such a
     * measure waits for the whole window (the rules' ratio_below does the same). */
    if (ms->metric == CW_METRIC_ACTIVE_USERS && r->observed_days < days) {
        r->na = CW_NA_NOT_OBSERVED;
        return;
    }

    double raw;
    if (ms->aggregate != CW_AGG_COUNT) {
        /* A statistic of the values: none in the window is n/a, not zero. A sum is scaled
         * to the whole window as counts are; the others are not extensive. */
        if (!acct->values || (size_t)ms->metric >= acct->n_metrics ||
            !cw_value_window(acct->values + (size_t)ms->metric * acct->horizon, acct->horizon, days,
                             (enum cw_aggregate)ms->aggregate, &raw)) {
            r->na = CW_NA_NO_VALUES;
            return;
        }
        if (ms->aggregate == CW_AGG_SUM && r->observed_days > 0 && r->observed_days < days)
            raw = raw * days / r->observed_days;
    } else if (ms->metric == CW_METRIC_ACTIVE_USERS) {
        raw = (double)cw_window_distinct(acct->user_last_day, acct->n_users, acct->today, days);
    } else if (cw_config_metric_counts_users(cfg, ms->metric)) {
        /* over users.window, whatever the measure's window (docs/users.md) */
        struct cw_users_summary sum;
        cw_users_summarize(&cfg->users, acct->user_eng, acct->n_user_eng, acct->today, &sum);
        raw = (double)(ms->metric == CW_METRIC_POWER_USERS ? sum.power : sum.ranked);
    } else if ((size_t)ms->metric < acct->n_metrics && acct->daily) {
        const uint32_t *row = acct->daily + (size_t)ms->metric * acct->horizon;
        raw = cw_window_scale(cw_window_sum(row, acct->horizon, days), r->observed_days, days);
    } else {
        raw = 0.0;
    }
    if (ms->per_seat)
        raw /= (double)acct->traits->seats;

    r->has = true;
    r->raw = raw;
    r->normalized = raw <= 0 ? 0.0 : target > 0 && raw < target ? raw / target : 1.0;
}

/*
 * Score = 100 * sum_c share_c * value_c over the components that have a value, with
 * share_c = weight_c / (sum of those components' weights) and value_c the weighted mean
 * of the component's available measures. A measure's contribution is its part of that
 * sum, 100 * share_c * (weight_m / available weight of c) * normalized_m, so the
 * contributions add up to the score; the score is computed as that sum.
 */
void cw_score_compute(const struct cw_config *cfg, const struct cw_account_view *acct,
                      struct cw_score_result *out)
{
    const struct cw_score_config *sc = &cfg->score;
    memset(out, 0, sizeof *out);
    out->grade = "";
    out->n_components = sc->n_components < CW_MAX_COMPONENTS ? sc->n_components : CW_MAX_COMPONENTS;

    /* The scorecard: the base weights and targets, or the selected profile's. */
    int stage = cw_score_stage(cfg, acct);
    int pi = cw_score_profile(cfg, acct, stage);
    const struct cw_profile *prof = pi >= 0 ? &sc->profiles[pi] : NULL;
    out->stage = stage >= 0 ? sc->stages[stage].name : "";
    out->profile = prof ? prof->name : "default";
    double component_weight[CW_MAX_COMPONENTS], measure_weight[CW_MAX_MEASURES];
    size_t g = 0;
    for (size_t c = 0; c < out->n_components; c++) {
        const struct cw_component *comp = &sc->components[c];
        component_weight[c] = prof ? prof->component_weight[c] : comp->weight;
        for (size_t m = 0; m < comp->n_measures && g < CW_MAX_MEASURES; m++, g++) {
            struct cw_measure_result *r = &out->measures[g];
            measure_weight[g] = prof ? prof->measure_weight[g] : comp->measures[m].weight;
            if (measure_weight[g] > 0 && component_weight[c] > 0)
                measure_raw(cfg, acct, &comp->measures[m],
                            prof ? prof->measure_target[g] : comp->measures[m].target, r);
            else
                *r = (struct cw_measure_result){.na = CW_NA_NOT_IN_PROFILE,
                                                .target = prof ? prof->measure_target[g]
                                                               : comp->measures[m].target};
        }
    }
    out->n_measures = g;

    /* Each component's weighted mean over its available measures. */
    double measure_weight_sum[CW_MAX_COMPONENTS] = {0};
    g = 0;
    for (size_t c = 0; c < out->n_components; c++) {
        const struct cw_component *comp = &sc->components[c];
        struct cw_component_result *cr = &out->components[c];
        double weighted = 0.0;
        for (size_t m = 0; m < comp->n_measures && g < CW_MAX_MEASURES; m++, g++) {
            struct cw_measure_result *r = &out->measures[g];
            if (!r->has)
                continue;
            weighted += measure_weight[g] * r->normalized;
            measure_weight_sum[c] += measure_weight[g];
        }
        if (measure_weight_sum[c] > 0) {
            cr->has = true;
            cr->value = weighted / measure_weight_sum[c];
        }
    }

    double component_weight_sum = 0.0;
    for (size_t c = 0; c < out->n_components; c++)
        if (out->components[c].has)
            component_weight_sum += component_weight[c];
    if (!(component_weight_sum > 0))
        return;

    double score = 0.0;
    g = 0;
    for (size_t c = 0; c < out->n_components; c++) {
        const struct cw_component *comp = &sc->components[c];
        struct cw_component_result *cr = &out->components[c];
        if (cr->has)
            cr->share = component_weight[c] / component_weight_sum;
        for (size_t m = 0; m < comp->n_measures && g < CW_MAX_MEASURES; m++, g++) {
            struct cw_measure_result *r = &out->measures[g];
            if (!r->has)
                continue;
            r->contribution =
                100.0 * cr->share * (measure_weight[g] / measure_weight_sum[c]) * r->normalized;
            score += r->contribution;
        }
    }
    /* Rounding can leave the sum an ulp outside 0..100. */
    out->has_score = true;
    out->score = score < 0 ? 0 : score > 100 ? 100 : score;
    out->grade = cw_score_grade(cfg, out->score);
}

size_t cw_score_moves(const struct cw_config *cfg, const struct cw_score_result *prev,
                      const struct cw_score_result *cur, struct cw_score_move *out, size_t max)
{
    struct cw_score_move all[CW_MAX_MEASURES];
    size_t n = 0;
    size_t g = 0;
    for (size_t c = 0; c < cfg->score.n_components && c < CW_MAX_COMPONENTS; c++) {
        for (size_t m = 0; m < cfg->score.components[c].n_measures && g < CW_MAX_MEASURES;
             m++, g++) {
            double before = prev && g < prev->n_measures && prev->measures[g].has
                                ? prev->measures[g].contribution
                                : 0.0;
            double after = cur && g < cur->n_measures && cur->measures[g].has
                               ? cur->measures[g].contribution
                               : 0.0;
            double delta = after - before;
            if (!(fabs(delta) >= MOVE_MIN_POINTS))
                continue;
            /* Insert keeping |delta| descending, ties by measure index (g ascends). */
            size_t at = n;
            while (at > 0 && fabs(all[at - 1].delta) < fabs(delta)) {
                all[at] = all[at - 1];
                at--;
            }
            all[at] = (struct cw_score_move){
                .measure = g, .component = c, .before = before, .after = after, .delta = delta};
            n++;
        }
    }
    if (n > max)
        n = max;
    if (n > 0)
        memcpy(out, all, n * sizeof *out);
    return n;
}
