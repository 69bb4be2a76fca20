/* backtest_metrics.h - private to lib: the numbers of a backtest report (backtest_metrics.c),
 * computed once and written as text, JSON or HTML by backtest_report.c and backtest_html.c
 * (docs/backtest.md says what each one means) */
#ifndef CHURNWATCH_BACKTEST_METRICS_H
#define CHURNWATCH_BACKTEST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/backtest_report.h"

#define CW_BT_DAY_MS 86400000LL

/* Whether run replayed an event-time span: some event, and (with --since) one at or after
 * the report's start. Without one its first and last event times are not reported. */
static inline bool cw_bt_run_has_span(const struct cw_bt_run *r)
{
    return r->first_ms >= 0 && r->last_ms >= r->first_ms;
}

/* A rule's first firing on an account. */
struct cw_bt_first {
    const char *account;
    int64_t fired_ms;
};

/* One rule in one run. Episodes still open at the end of the replay are counted in episodes
 * and open, and left out of the median length (which is over closed episodes only). */
struct cw_bt_rule_stats {
    bool present;
    size_t episodes, open, closed;
    int64_t first_ms, last_ms; /* first and last firing (when episodes > 0) */
    bool has_median;
    double median_days;         /* median length of the closed episodes, in days */
    struct cw_bt_first *firsts; /* per account, sorted by account (strcmp) */
    size_t naccounts;
};

/* An account in the baseline diff of a rule; the missing side's time is 0 (has_* false). */
struct cw_bt_shift {
    const char *account;
    int64_t cand_ms, base_ms;
};

/* A rule against the outcomes (candidate run): precision = fired_before / fired, recall =
 * fired_before / churned; lead times (days from the first firing to the churn) of the
 * fired_before accounts, ascending. n/a (has_* false) when the denominator is 0. */
struct cw_bt_rule_outcome {
    size_t fired, fired_before, churned;
    bool has_precision, has_recall, has_median_lead;
    double precision, recall, median_lead_days;
    double *leads;
    size_t nleads;
};

struct cw_bt_rule_report {
    const char *name;
    struct cw_bt_rule_stats cand, base;      /* base.present only with a baseline naming it */
    struct cw_bt_shift *newly, *gone, *both; /* baseline diff, each sorted by account */
    size_t nnewly, ngone, nboth;
    struct cw_bt_rule_outcome out; /* when outcomes are given and the candidate has the rule */
};

/* The score's AUC at one horizon: churned accounts' score N days before their churn against
 * retained accounts' score N days before the end of the replay (last_ms); an account's score
 * at an instant is the last daily score given at or before it. Accounts without one are left
 * out and counted in *_unscored. The scores compared are kept (ascending) for the plots. */
struct cw_bt_auc {
    int days;
    bool has_auc; /* false (n/a) when either side has no scored account */
    double auc;
    double *churned, *retained;
    size_t nchurned, nretained, churned_unscored, retained_unscored;
};

struct cw_bt_report_data {
    const struct cw_bt_report_opts *opts;
    struct cw_bt_rule_report *rules; /* candidate's rules in order, then baseline-only ones */
    size_t nrules;
    /* with outcomes: the candidate's accounts that churned / did not, and outcomes naming
     * accounts the replay never saw */
    size_t churned, retained, unknown;
    struct cw_bt_auc *auc;
    size_t nauc;
};

/* 0, or -1 when out of memory or without a candidate run (d is then released). */
int cw_bt_report_compute(const struct cw_bt_report_opts *o, struct cw_bt_report_data *d);
void cw_bt_report_data_free(struct cw_bt_report_data *d);

/* AUC of churned against retained scores (both sorted ascending): the share of pairs where
 * the churned score is lower, ties counting half. n > 0 each. */
double cw_bt_auc_sorted(const double *churned, size_t nc, const double *retained, size_t nr);

/* The outcome of account in o, or NULL (retained). */
const struct cw_bt_outcome *cw_bt_outcome_find(const struct cw_bt_outcomes *o, const char *account);

#endif /* CHURNWATCH_BACKTEST_METRICS_H */
