/* backtest_report.h - the report of a backtest (docs/backtest.md): per-rule episodes,
 * the diff against a baseline config, and with churn outcomes the rules' precision, recall and
 * lead time and the score's AUC; as text tables, one JSON object or a self-contained HTML page.
 * Pure: no I/O, no clock. */
#ifndef CHURNWATCH_BACKTEST_REPORT_H
#define CHURNWATCH_BACKTEST_REPORT_H

#include <stddef.h>

#include "churnwatch/backtest.h"

struct cw_bt_report_opts {
    const struct cw_bt_run *candidate;
    const struct cw_bt_run *baseline;      /* NULL: no baseline given */
    const struct cw_bt_outcomes *outcomes; /* NULL: no outcomes given */
    const int *horizons_days;              /* AUC N days before churn; NULL: 30, 60, 90 */
    size_t nhorizons;
};

/* Each returns a malloc'd NUL-terminated document, or NULL when out of memory. */
char *cw_bt_report_text(const struct cw_bt_report_opts *o); /* tables for people */
char *cw_bt_report_json(const struct cw_bt_report_opts *o); /* one JSON object, for scripts */
char *cw_bt_report_html(const struct cw_bt_report_opts *o); /* self-contained page, inline SVG */

/* Outcomes from CSV text "account,churned_at" (header line optional; churned_at RFC 3339 or
 * a local date YYYY-MM-DD taken as midnight UTC, or epoch ms). 0, or -1 with err naming
 * the line and what is wrong. Duplicated accounts: the earliest churn wins. */
int cw_bt_outcomes_parse_csv(const char *text, size_t len, struct cw_bt_outcomes *out, char *err,
                             size_t errsize);

#endif /* CHURNWATCH_BACKTEST_REPORT_H */
