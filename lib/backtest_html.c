/* backtest_html.c - the backtest report as one self-contained HTML page: the report's tables
 * and inline SVG plots (alerts per week per rule, score distributions of churned and retained
 * accounts at each horizon, lead-time histograms), no script and no external asset
 * (cw_bt_report_html; the numbers come from backtest_metrics.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_metrics.h"
#include "churnwatch/event.h"
#include "churnwatch/html.h"

/* Entries of each baseline-diff list the page shows (the JSON report has them all). */
#define HTML_LIST_CAP 100
/* Bins of a score histogram, and weeks of the alerts plot at most. */
#define SCORE_BINS 10
#define MAX_WEEKS  520
#define WEEK_MS    (7 * CW_BT_DAY_MS)

/* Plot geometry (SVG user units). */
#define PW 640
#define PH 180
#define PL 48 /* left margin: the y axis labels */
#define PB 28 /* bottom margin: the x axis labels */
#define PT 10

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    ".plot{display:block;margin:.5em 0 1.5em;background:#fafafa;border:1px solid #ddd}"
    ".plot text{font:10px sans-serif;fill:#444}.plot .a{fill:#c0392b}.plot .b{fill:#2e86c1}"
    ".na{color:#888}.ca{color:#c0392b}.re{color:#2e86c1}";

static void time_cell(struct cw_html *h, bool has, int64_t ms)
{
    char t[32];
    if (!has) {
        cw_html_raw(h, "<td class=\"na\">-</td>");
        return;
    }
    cw_rfc3339_format(ms, t);
    cw_html_printf(h, "<td>%s</td>", t);
}

static void num_cell(struct cw_html *h, bool has, double x, int decimals)
{
    if (has)
        cw_html_printf(h, "<td>%.*f</td>", decimals, x);
    else
        cw_html_raw(h, "<td class=\"na\">n/a</td>");
}

static void run_row(struct cw_html *h, const char *what, const struct cw_bt_run *r)
{
    cw_html_printf(h, "<tr><td>%s</td><td>", what);
    cw_html_text(h, r->config_path);
    cw_html_printf(h, "</td><td>%llu</td><td>%llu</td><td>%zu</td>", (unsigned long long)r->events,
                   (unsigned long long)r->rejected, r->naccounts);
    bool span = cw_bt_run_has_span(r);
    time_cell(h, span, r->first_ms);
    time_cell(h, span, r->last_ms);
    num_cell(h, span, (double)(r->last_ms - r->first_ms) / (double)CW_BT_DAY_MS, 1);
    cw_html_raw(h, "</tr>\n");
}

static void summary(struct cw_html *h, const struct cw_bt_report_opts *o)
{
    cw_html_raw(h, "<section id=\"summary\"><h2>Replay</h2><table><tr><th>run</th><th>config</th>"
                   "<th>events</th><th>rejected</th><th>accounts</th><th>first event</th>"
                   "<th>last event</th><th>days</th></tr>\n");
    run_row(h, "candidate", o->candidate);
    if (o->baseline)
        run_row(h, "baseline", o->baseline);
    cw_html_raw(h, "</table></section>\n");
}

static void stats_row(struct cw_html *h, const char *name, const char *config,
                      const struct cw_bt_rule_stats *s)
{
    cw_html_raw(h, "<tr><td>");
    cw_html_text(h, name);
    cw_html_printf(h, "</td><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td>", config, s->episodes,
                   s->open, s->naccounts);
    time_cell(h, s->episodes > 0, s->first_ms);
    time_cell(h, s->episodes > 0, s->last_ms);
    num_cell(h, s->has_median, s->median_days, 1);
    cw_html_raw(h, "</tr>\n");
}

static void rules_table(struct cw_html *h, const struct cw_bt_report_data *d)
{
    bool b = d->opts->baseline != NULL;
    cw_html_raw(h, "<section id=\"rules\"><h2>Rules</h2><table><tr><th>rule</th><th>config</th>"
                   "<th>episodes</th><th>still open</th><th>accounts</th><th>first fired</th>"
                   "<th>last fired</th><th>median days (closed)</th></tr>\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        if (rr->cand.present)
            stats_row(h, rr->name, !b || rr->base.present ? "candidate" : "candidate only",
                      &rr->cand);
        if (rr->base.present)
            stats_row(h, rr->name, rr->cand.present ? "baseline" : "baseline only", &rr->base);
    }
    cw_html_raw(h, "</table></section>\n");
}

/* One baseline-diff list; has_cand / has_base: whether its entries have that run's time. */
static void diff_list(struct cw_html *h, const char *cls, const char *title,
                      const struct cw_bt_shift *v, size_t n, bool has_cand, bool has_base)
{
    cw_html_printf(h,
                   "<table class=\"%s\"><tr><th>%s (%zu)</th><th>first fired</th>"
                   "<th>baseline first fired</th><th>shift (days)</th></tr>\n",
                   cls, title, n);
    for (size_t i = 0; i < n && i < HTML_LIST_CAP; i++) {
        cw_html_raw(h, "<tr><td>");
        cw_html_text(h, v[i].account);
        cw_html_raw(h, "</td>");
        time_cell(h, has_cand, v[i].cand_ms);
        time_cell(h, has_base, v[i].base_ms);
        num_cell(h, has_cand && has_base,
                 (double)(v[i].cand_ms - v[i].base_ms) / (double)CW_BT_DAY_MS, 1);
        cw_html_raw(h, "</tr>\n");
    }
    if (n > HTML_LIST_CAP)
        cw_html_printf(
            h, "<tr><td colspan=\"4\">and %zu more (the JSON report lists them all)</td></tr>\n",
            n - HTML_LIST_CAP);
    cw_html_raw(h, "</table>\n");
}

static void diff_section(struct cw_html *h, const struct cw_bt_report_data *d)
{
    cw_html_raw(h, "<section id=\"diff\"><h2>Against the baseline</h2>\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        cw_html_printf(h, "<h3 id=\"diff-%zu\">", i);
        cw_html_text(h, rr->name);
        if (!rr->base.present || !rr->cand.present) {
            cw_html_printf(h, "</h3><p class=\"only\">only in the %s</p>\n",
                           rr->cand.present ? "candidate" : "baseline");
            continue;
        }
        cw_html_raw(h, "</h3>\n");
        diff_list(h, "newly", "newly alerting", rr->newly, rr->nnewly, true, false);
        diff_list(h, "gone", "no longer alerting", rr->gone, rr->ngone, false, true);
        diff_list(h, "both", "alerting in both", rr->both, rr->nboth, true, true);
    }
    cw_html_raw(h, "</section>\n");
}

/*
 * A bar plot of one or two series over n bins (b may be NULL), bars scaled to the largest
 * value; labels[i] (trusted: made here from numbers) under every step-th bin; title is
 * untrusted text. Each bar carries its value as a <title> (a tooltip, no script).
 */
static void bars(struct cw_html *h, const char *id, const char *title, const double *a,
                 const double *b, size_t n, char (*labels)[24], size_t step, const char *unit)
{
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] > max)
            max = a[i];
        if (b && b[i] > max)
            max = b[i];
    }
    double plot_w = PW - PL - 8, plot_h = PH - PT - PB;
    double slot = n ? plot_w / (double)n : plot_w;
    double bw = b ? slot * 0.4 : slot * 0.8;
    cw_html_printf(h, "<figure><figcaption>");
    cw_html_text(h, title);
    cw_html_printf(
        h,
        "</figcaption><svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">",
        id, PW, PH, PW, PH);
    cw_html_printf(h, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PL,
                   PH - PB, PW - 8, PH - PB);
    cw_html_printf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.4g%s</text>", PL - 4, PT + 8,
                   max, unit);
    cw_html_printf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", PL - 4, PH - PB);
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < (b ? 2 : 1); s++) {
            double v = s ? b[i] : a[i];
            double bh = max > 0 ? v / max * plot_h : 0;
            cw_html_printf(
                h,
                "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                "<title>%s: %.4g%s</title></rect>",
                s ? "b" : "a", PL + slot * (double)i + slot * 0.1 + bw * s, PH - PB - bh, bw, bh,
                labels[i], v, unit);
        }
        if (step && i % step == 0)
            cw_html_printf(h, "<text x=\"%.1f\" y=\"%d\">%s</text>", PL + slot * (double)i,
                           PH - PB + 14, labels[i]);
    }
    cw_html_raw(h, "</svg></figure>\n");
}

/* Alerts fired per week per rule of the candidate, one plot per rule. */
static int alerts_plots(struct cw_html *h, const struct cw_bt_report_data *d)
{
    const struct cw_bt_run *r = d->opts->candidate;
    int64_t span = r->last_ms > r->first_ms ? r->last_ms - r->first_ms : 0;
    size_t nweeks = (size_t)(span / WEEK_MS) + 1;
    if (nweeks > MAX_WEEKS)
        nweeks = MAX_WEEKS;
    double *counts = malloc(nweeks * sizeof *counts);
    char(*labels)[24] = malloc(nweeks * sizeof *labels);
    if (!counts || !labels) {
        free(counts);
        free(labels);
        return -1;
    }
    for (size_t w = 0; w < nweeks; w++) {
        char t[32] = "-"; /* no span: one empty week, no date */
        if (cw_bt_run_has_span(r))
            cw_rfc3339_format(r->first_ms + (int64_t)w * WEEK_MS, t);
        memcpy(labels[w], t, 10);
        labels[w][10] = '\0';
    }
    cw_html_raw(h, "<section id=\"alerts\"><h2>Alerts fired per week (candidate)</h2>\n");
    for (size_t ri = 0; ri < r->nrules; ri++) {
        memset(counts, 0, nweeks * sizeof *counts);
        for (size_t i = 0; i < r->nepisodes; i++) {
            const struct cw_bt_episode *e = &r->episodes[i];
            if (e->rule != ri || e->fired_ms < r->first_ms)
                continue;
            size_t w = (size_t)((e->fired_ms - r->first_ms) / WEEK_MS);
            counts[w < nweeks ? w : nweeks - 1]++;
        }
        char id[40];
        snprintf(id, sizeof id, "plot-alerts-%zu", ri);
        bars(h, id, r->rules[ri], counts, NULL, nweeks, labels, nweeks > 8 ? nweeks / 8 + 1 : 1,
             "");
    }
    cw_html_raw(h, "</section>\n");
    free(counts);
    free(labels);
    return 0;
}

static void outcomes_tables(struct cw_html *h, const struct cw_bt_report_data *d)
{
    cw_html_printf(
        h,
        "<section id=\"outcomes\"><h2>Against the outcomes</h2><p>%zu churned, %zu retained "
        "accounts; %zu churned accounts the replay never saw (left out).</p>\n",
        d->churned, d->retained, d->unknown);
    cw_html_raw(h, "<table id=\"precision\"><tr><th>rule</th><th>accounts fired</th><th>fired "
                   "before churn</th>"
                   "<th>precision</th><th>recall</th><th>median lead (days)</th></tr>\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        if (!rr->cand.present)
            continue;
        cw_html_raw(h, "<tr><td>");
        cw_html_text(h, rr->name);
        cw_html_printf(h, "</td><td>%zu</td><td>%zu</td>", rr->out.fired, rr->out.fired_before);
        num_cell(h, rr->out.has_precision, rr->out.precision, 2);
        num_cell(h, rr->out.has_recall, rr->out.recall, 2);
        num_cell(h, rr->out.has_median_lead, rr->out.median_lead_days, 1);
        cw_html_raw(h, "</tr>\n");
    }
    cw_html_raw(
        h, "</table></section>\n<section id=\"auc\"><h2>Score AUC</h2><p>The chance that a churned "
           "account scored lower N days before its churn than a retained account N days before the "
           "end of the replay (0.5 = no better than chance, 1 = perfect).</p>"
           "<table><tr><th>horizon (days)</th><th>AUC</th><th>churned scored</th><th>retained "
           "scored</th><th>churned unscored</th><th>retained unscored</th></tr>\n");
    for (size_t i = 0; i < d->nauc; i++) {
        const struct cw_bt_auc *a = &d->auc[i];
        cw_html_printf(h, "<tr><td>%d</td>", a->days);
        num_cell(h, a->has_auc, a->auc, 3);
        cw_html_printf(h, "<td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", a->nchurned,
                       a->nretained, a->churned_unscored, a->retained_unscored);
    }
    cw_html_raw(h, "</table></section>\n");
}

/* Share (in %) of v[0..n) in each of SCORE_BINS bins over [lo, hi]. */
static void histogram(const double *v, size_t n, double lo, double hi, double *out)
{
    memset(out, 0, SCORE_BINS * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)((v[i] - lo) / (hi - lo) * SCORE_BINS);
        out[k < SCORE_BINS ? k : SCORE_BINS - 1] += 100.0 / (double)n;
    }
}

static void score_plots(struct cw_html *h, const struct cw_bt_report_data *d)
{
    cw_html_raw(
        h, "<section id=\"scores\"><h2>Score distributions</h2><p>Share of accounts per score bin: "
           "<span class=\"ca\">churned</span> (N days before churn) and "
           "<span class=\"re\">retained</span> (N days before the end).</p>\n");
    for (size_t i = 0; i < d->nauc; i++) {
        const struct cw_bt_auc *a = &d->auc[i];
        if (a->nchurned + a->nretained == 0)
            continue;
        double lo = a->nchurned ? a->churned[0] : a->retained[0];
        double hi = a->nchurned ? a->churned[a->nchurned - 1] : a->retained[a->nretained - 1];
        if (a->nretained && a->retained[0] < lo)
            lo = a->retained[0];
        if (a->nretained && a->retained[a->nretained - 1] > hi)
            hi = a->retained[a->nretained - 1];
        if (hi <= lo)
            hi = lo + 1;
        double c[SCORE_BINS], r[SCORE_BINS];
        char labels[SCORE_BINS][24];
        histogram(a->churned, a->nchurned, lo, hi, c);
        histogram(a->retained, a->nretained, lo, hi, r);
        for (size_t k = 0; k < SCORE_BINS; k++)
            snprintf(labels[k], sizeof labels[k], "%.4g", lo + (hi - lo) * (double)k / SCORE_BINS);
        char id[40], title[64];
        snprintf(id, sizeof id, "plot-scores-%d", a->days);
        snprintf(title, sizeof title, "%d days before", a->days);
        bars(h, id, title, c, r, SCORE_BINS, labels, 1, "%");
    }
    cw_html_raw(h, "</section>\n");
}

/* Lead-time bins, in days. */
static const double lead_edges[] = {0, 7, 14, 30, 60, 90, 180};
#define LEAD_BINS (sizeof lead_edges / sizeof lead_edges[0])

static void lead_plots(struct cw_html *h, const struct cw_bt_report_data *d)
{
    char labels[LEAD_BINS][24];
    for (size_t k = 0; k < LEAD_BINS; k++)
        snprintf(labels[k], sizeof labels[k], k + 1 < LEAD_BINS ? "%.0f-%.0f d" : "%.0f+ d",
                 lead_edges[k], k + 1 < LEAD_BINS ? lead_edges[k + 1] : 0);
    cw_html_raw(h, "<section id=\"leads\"><h2>Lead time (days from first firing to churn)</h2>\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        if (!rr->cand.present || rr->out.nleads == 0)
            continue;
        double counts[LEAD_BINS] = {0};
        for (size_t j = 0; j < rr->out.nleads; j++) {
            size_t k = LEAD_BINS - 1;
            while (k > 0 && rr->out.leads[j] < lead_edges[k])
                k--;
            counts[k]++;
        }
        char id[40];
        snprintf(id, sizeof id, "plot-leads-%zu", i);
        bars(h, id, rr->name, counts, NULL, LEAD_BINS, labels, 1, "");
    }
    cw_html_raw(h, "</section>\n");
}

char *cw_bt_report_html(const struct cw_bt_report_opts *o)
{
    struct cw_bt_report_data d;
    if (cw_bt_report_compute(o, &d) != 0)
        return NULL;
    struct cw_html h = {0};
    cw_html_printf(&h,
                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<title>churnwatch backtest</title><style>%s</style></head><body>\n"
                   "<h1>churnwatch backtest</h1>\n",
                   style);
    summary(&h, o);
    rules_table(&h, &d);
    if (o->baseline)
        diff_section(&h, &d);
    int rc = alerts_plots(&h, &d);
    if (o->outcomes) {
        outcomes_tables(&h, &d);
        score_plots(&h, &d);
        lead_plots(&h, &d);
    }
    cw_html_raw(&h, "</body></html>\n");
    cw_bt_report_data_free(&d);
    if (rc != 0 || h.oom || !h.s) {
        cw_html_free(&h);
        return NULL;
    }
    return h.s;
}
