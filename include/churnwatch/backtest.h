/* backtest.h - what one backtest replay found, and the churn outcomes it is judged against
 * (docs/backtest.md)
 *
 * The replay (`churnwatch backtest`) fills one struct cw_bt_run per config it replays (the
 * candidate, and the baseline when one is given) with the episodes its rules opened and
 * the accounts' daily scores; the report (backtest_report.h) reads the runs and the
 * outcomes. Plain data: every pointer is owned by the struct that holds it and freed by
 * cw_bt_run_free / cw_bt_outcomes_free.
 */
#ifndef CHURNWATCH_BACKTEST_H
#define CHURNWATCH_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/rules.h"

/* One episode of one rule on one account: from its firing to its resolution. */
struct cw_bt_episode {
    uint32_t account; /* index into cw_bt_run.accounts */
    uint32_t rule;    /* index into cw_bt_run.rules */
    char alert_id[CW_ALERT_ID_LEN + 1];
    int64_t fired_ms;    /* event-time instant of the firing */
    int64_t resolved_ms; /* event-time instant of the resolution; 0 = still open at the end */
};

/* An account's score on one local day: the last score it was given that day. */
struct cw_bt_score {
    uint32_t account; /* index into cw_bt_run.accounts */
    int32_t day;      /* local day number (days since 1970-01-01 in the configured zone) */
    int64_t at_ms;    /* event-time instant of that scoring */
    double score;
};

struct cw_bt_run {
    char *config_path;
    char **rules; /* rule names, in the config's order */
    size_t nrules;
    char **accounts; /* every account the replay applied an event to, sorted (strcmp) */
    size_t naccounts;
    struct cw_bt_episode *episodes; /* ordered by fired_ms, then account, then rule */
    size_t nepisodes;
    struct cw_bt_score *scores; /* ordered by account, then day */
    size_t nscores;
    int64_t first_ms, last_ms; /* event-time span replayed (event times, not wall clock) */
    uint64_t events;           /* events applied */
    uint64_t rejected;         /* events the decoder rejected (they would go to the DLQ) */
};

/* What became of the accounts: churned ones with the instant they churned. An account not
 * listed is retained. */
struct cw_bt_outcome {
    char *account;
    int64_t churned_ms;
};

struct cw_bt_outcomes {
    struct cw_bt_outcome *v; /* sorted by account (strcmp), one entry per account */
    size_t n;
};

void cw_bt_run_free(struct cw_bt_run *run);
void cw_bt_outcomes_free(struct cw_bt_outcomes *o);

#endif
