/* backtest_report.c - the backtest report as text tables for people and as one JSON object
 * for scripts (cw_bt_report_text, cw_bt_report_json; the numbers come from
 * backtest_metrics.c, the fields are in docs/backtest.md) */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_metrics.h"
#include "churnwatch/event.h"
#include "churnwatch/html.h"
#include "churnwatch/text_escape.h"
#include "json_out.h"

/* Entries of each baseline-diff list the text report shows (the JSON has them all). */
#define TEXT_LIST_CAP 10

/* ---- text ---- */

/* Untrusted text made terminal-safe (cw_escape_display), left-aligned in width columns. */
static void put_id(struct cw_html *h, const char *s, int width)
{
    size_t len = strlen(s);
    size_t n = cw_escape_display(NULL, 0, s, len);
    char *tmp = malloc(n + 1);
    if (!tmp) {
        h->oom = true;
        return;
    }
    cw_escape_display(tmp, n + 1, s, len);
    cw_html_printf(h, "%-*s", width, tmp);
    free(tmp);
}

static int id_width(const char *s)
{
    size_t n = cw_escape_display(NULL, 0, s, strlen(s));
    return n > 60 ? 60 : (int)n;
}

/* An RFC 3339 UTC time after prefix (trusted), left-aligned in width columns. */
static void put_time(struct cw_html *h, const char *prefix, int64_t ms, int width)
{
    char t[32];
    cw_rfc3339_format(ms, t);
    cw_html_printf(h, "%s%-*s", prefix, width, t);
}

/* A ratio or "n/a", right-aligned in width. */
static void put_opt(struct cw_html *h, int width, bool has, double x, int decimals)
{
    if (has)
        cw_html_printf(h, " %*.*f", width, decimals, x);
    else
        cw_html_printf(h, " %*s", width, "n/a");
}

static void text_run(struct cw_html *h, const char *what, const struct cw_bt_run *r)
{
    cw_html_printf(h, "%s: ", what);
    put_id(h, r->config_path ? r->config_path : "-", 0);
    cw_html_printf(h, "\n  %llu events applied, %llu rejected, %zu accounts\n",
                   (unsigned long long)r->events, (unsigned long long)r->rejected, r->naccounts);
    if (!cw_bt_run_has_span(r)) {
        cw_html_raw(h, "  event time - (no event)\n");
        return;
    }
    put_time(h, "  event time ", r->first_ms, 0);
    put_time(h, " .. ", r->last_ms, 0);
    cw_html_printf(h, " (%.1f days)\n", (double)(r->last_ms - r->first_ms) / (double)CW_BT_DAY_MS);
}

static void text_stats(struct cw_html *h, const struct cw_bt_rule_stats *s)
{
    cw_html_printf(h, " %8zu %5zu %8zu", s->episodes, s->open, s->naccounts);
    if (s->episodes > 0) {
        put_time(h, "  ", s->first_ms, 24);
        put_time(h, "  ", s->last_ms, 24);
    } else {
        cw_html_printf(h, "  %-24s  %-24s", "-", "-");
    }
    put_opt(h, 11, s->has_median, s->median_days, 1);
    cw_html_raw(h, "\n");
}

static void text_rules(struct cw_html *h, const struct cw_bt_report_data *d, int w)
{
    cw_html_printf(
        h, "\nrules (median: closed episodes only, in days; open: still open at the end)\n");
    cw_html_printf(h, "%-*s %-9s %8s %5s %8s  %-24s  %-24s %11s\n", w, "rule", "config", "episodes",
                   "open", "accounts", "first fired", "last fired", "median days");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        if (rr->cand.present) {
            put_id(h, rr->name, w);
            cw_html_printf(h, " %-9s",
                           rr->base.present || !d->opts->baseline ? "candidate" : "cand-only");
            text_stats(h, &rr->cand);
        }
        if (rr->base.present) {
            put_id(h, rr->cand.present ? "" : rr->name, w);
            cw_html_printf(h, " %-9s", rr->cand.present ? "baseline" : "base-only");
            text_stats(h, &rr->base);
        }
    }
}

/* One baseline-diff list: newly (candidate time), no longer (baseline time) or shifted. */
enum diff_list { NEWLY, GONE, SHIFTED };

static void text_list(struct cw_html *h, const char *label, const struct cw_bt_shift *v, size_t n,
                      enum diff_list which)
{
    bool shifted = which == SHIFTED;
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (shifted && v[i].cand_ms == v[i].base_ms)
            continue;
        total++;
        if (shown == TEXT_LIST_CAP)
            continue;
        shown++;
        cw_html_printf(h, "    %-10s ", label);
        put_id(h, v[i].account, 0);
        if (shifted) {
            double days = (double)(v[i].cand_ms - v[i].base_ms) / (double)CW_BT_DAY_MS;
            cw_html_printf(h, "  %s by %.1f days", days < 0 ? "earlier" : "later",
                           days < 0 ? -days : days);
        } else {
            if (which == NEWLY)
                put_time(h, "  first fired ", v[i].cand_ms, 0);
            else
                put_time(h, "  baseline first fired ", v[i].base_ms, 0);
        }
        cw_html_raw(h, "\n");
    }
    if (total > shown)
        cw_html_printf(h, "    ... and %zu more %s\n", total - shown, label);
}

static void text_diff(struct cw_html *h, const struct cw_bt_report_data *d)
{
    cw_html_raw(h, "\nagainst the baseline (accounts by first firing of each rule)\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        cw_html_raw(h, "  ");
        put_id(h, rr->name, 0);
        if (!rr->base.present) {
            cw_html_raw(h, ": only in the candidate\n");
            continue;
        }
        if (!rr->cand.present) {
            cw_html_raw(h, ": only in the baseline\n");
            continue;
        }
        size_t earlier = 0, later = 0;
        for (size_t k = 0; k < rr->nboth; k++) {
            earlier += rr->both[k].cand_ms < rr->both[k].base_ms;
            later += rr->both[k].cand_ms > rr->both[k].base_ms;
        }
        cw_html_printf(h,
                       ": %zu newly alerting, %zu no longer alerting, %zu in both (first firing "
                       "%zu earlier, %zu later, %zu same)\n",
                       rr->nnewly, rr->ngone, rr->nboth, earlier, later,
                       rr->nboth - earlier - later);
        text_list(h, "newly", rr->newly, rr->nnewly, NEWLY);
        text_list(h, "no longer", rr->gone, rr->ngone, GONE);
        text_list(h, "shifted", rr->both, rr->nboth, SHIFTED);
    }
}

static void text_outcomes(struct cw_html *h, const struct cw_bt_report_data *d, int w)
{
    cw_html_printf(h,
                   "\noutcomes: %zu churned, %zu retained accounts; %zu churned accounts the "
                   "replay never saw (left out)\n",
                   d->churned, d->retained, d->unknown);
    cw_html_printf(h, "%-*s %8s %12s %9s %7s %10s %10s %10s\n", w, "rule", "fired", "before churn",
                   "precision", "recall", "lead min", "lead med", "lead max");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct cw_bt_rule_report *rr = &d->rules[i];
        if (!rr->cand.present)
            continue;
        const struct cw_bt_rule_outcome *o = &rr->out;
        put_id(h, rr->name, w);
        cw_html_printf(h, " %8zu %12zu", o->fired, o->fired_before);
        put_opt(h, 9, o->has_precision, o->precision, 2);
        put_opt(h, 7, o->has_recall, o->recall, 2);
        put_opt(h, 10, o->nleads > 0, o->nleads ? o->leads[0] : 0, 1);
        put_opt(h, 10, o->has_median_lead, o->median_lead_days, 1);
        put_opt(h, 10, o->nleads > 0, o->nleads ? o->leads[o->nleads - 1] : 0, 1);
        cw_html_raw(h, "\n");
    }
    cw_html_raw(h, "\nscore AUC (churned accounts N days before churn vs retained accounts N days "
                   "before the end of the replay; 0.5 = chance, 1 = perfect)\n");
    cw_html_printf(h, "%8s %6s %15s %16s %17s %18s\n", "horizon", "AUC", "churned scored",
                   "retained scored", "churned unscored", "retained unscored");
    for (size_t i = 0; i < d->nauc; i++) {
        const struct cw_bt_auc *a = &d->auc[i];
        cw_html_printf(h, "%5d d ", a->days);
        put_opt(h, 6, a->has_auc, a->auc, 3);
        cw_html_printf(h, " %15zu %16zu %17zu %18zu\n", a->nchurned, a->nretained,
                       a->churned_unscored, a->retained_unscored);
    }
}

char *cw_bt_report_text(const struct cw_bt_report_opts *o)
{
    struct cw_bt_report_data d;
    if (cw_bt_report_compute(o, &d) != 0)
        return NULL;
    struct cw_html h = {0};
    int w = 4;
    for (size_t i = 0; i < d.nrules; i++)
        if (id_width(d.rules[i].name) > w)
            w = id_width(d.rules[i].name);
    text_run(&h, "candidate", o->candidate);
    if (o->baseline)
        text_run(&h, "baseline", o->baseline);
    text_rules(&h, &d, w);
    if (o->baseline)
        text_diff(&h, &d);
    if (o->outcomes)
        text_outcomes(&h, &d, w);
    cw_bt_report_data_free(&d);
    if (h.oom || !h.s) {
        cw_html_free(&h);
        return NULL;
    }
    return h.s;
}

/* ---- JSON ---- */

static json_t *json_count(size_t n)
{
    return json_integer((json_int_t)n);
}

/* A new object, or NULL with *ok false. */
static json_t *new_object(bool *ok)
{
    json_t *j = json_object();
    if (!j)
        *ok = false;
    return j;
}

static json_t *json_run(const struct cw_bt_run *r, bool *ok)
{
    json_t *j = new_object(ok);
    if (!j)
        return NULL;
    cw_json_put(j, "config", cw_json_str(r->config_path), ok);
    cw_json_put(j, "events", json_integer((json_int_t)r->events), ok);
    cw_json_put(j, "rejected", json_integer((json_int_t)r->rejected), ok);
    cw_json_put(j, "accounts", json_count(r->naccounts), ok);
    bool span = cw_bt_run_has_span(r);
    cw_json_put(j, "first_event_at", span ? cw_json_time(r->first_ms) : json_null(), ok);
    cw_json_put(j, "last_event_at", span ? cw_json_time(r->last_ms) : json_null(), ok);
    cw_json_put(j, "span_days",
                cw_json_real(span, (double)(r->last_ms - r->first_ms) / (double)CW_BT_DAY_MS), ok);
    return j;
}

static json_t *json_stats(const struct cw_bt_rule_stats *s, bool *ok)
{
    json_t *j = new_object(ok);
    if (!j)
        return NULL;
    cw_json_put(j, "episodes", json_count(s->episodes), ok);
    cw_json_put(j, "open_episodes", json_count(s->open), ok);
    cw_json_put(j, "closed_episodes", json_count(s->closed), ok);
    cw_json_put(j, "accounts", json_count(s->naccounts), ok);
    cw_json_put(j, "first_fired_at", s->episodes ? cw_json_time(s->first_ms) : json_null(), ok);
    cw_json_put(j, "last_fired_at", s->episodes ? cw_json_time(s->last_ms) : json_null(), ok);
    cw_json_put(j, "median_closed_episode_days", cw_json_real(s->has_median, s->median_days), ok);
    return j;
}

static json_t *json_shifts(const struct cw_bt_shift *v, size_t n, bool cand, bool base, bool *ok)
{
    json_t *a = json_array();
    if (!a) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n && *ok; i++) {
        json_t *e = json_object();
        if (!e || json_array_append_new(a, e) != 0) {
            *ok = false;
            break;
        }
        cw_json_put(e, "account", cw_json_str(v[i].account), ok);
        if (cand)
            cw_json_put(e, "first_fired_at", cw_json_time(v[i].cand_ms), ok);
        if (base)
            cw_json_put(e, "baseline_first_fired_at", cw_json_time(v[i].base_ms), ok);
        if (cand && base)
            cw_json_put(
                e, "shift_days",
                cw_json_real(true, (double)(v[i].cand_ms - v[i].base_ms) / (double)CW_BT_DAY_MS),
                ok);
    }
    return a;
}

static json_t *json_outcome(const struct cw_bt_rule_outcome *o, bool *ok)
{
    json_t *j = json_object(), *leads = json_array();
    if (!j || !leads) {
        json_decref(j);
        json_decref(leads);
        *ok = false;
        return NULL;
    }
    cw_json_put(j, "accounts_fired", json_count(o->fired), ok);
    cw_json_put(j, "fired_before_churn", json_count(o->fired_before), ok);
    cw_json_put(j, "churned_accounts", json_count(o->churned), ok);
    cw_json_put(j, "precision", cw_json_real(o->has_precision, o->precision), ok);
    cw_json_put(j, "recall", cw_json_real(o->has_recall, o->recall), ok);
    cw_json_put(j, "median_lead_days", cw_json_real(o->has_median_lead, o->median_lead_days), ok);
    for (size_t i = 0; i < o->nleads; i++)
        if (json_array_append_new(leads, cw_json_real(true, o->leads[i])) != 0)
            *ok = false;
    cw_json_put(j, "lead_days", leads, ok);
    return j;
}

static json_t *json_rule(const struct cw_bt_report_data *d, const struct cw_bt_rule_report *rr,
                         bool *ok)
{
    json_t *j = new_object(ok);
    if (!j)
        return NULL;
    cw_json_put(j, "rule", cw_json_str(rr->name), ok);
    const char *in = !d->opts->baseline                     ? "candidate"
                     : rr->cand.present && rr->base.present ? "both"
                     : rr->cand.present                     ? "candidate_only"
                                                            : "baseline_only";
    cw_json_put(j, "in", json_string(in), ok);
    if (rr->cand.present)
        cw_json_put(j, "candidate", json_stats(&rr->cand, ok), ok);
    if (rr->base.present)
        cw_json_put(j, "baseline", json_stats(&rr->base, ok), ok);
    if (rr->cand.present && rr->base.present) {
        json_t *diff = json_object();
        cw_json_put(j, "diff", diff, ok);
        if (diff) {
            cw_json_put(diff, "newly_alerting", json_shifts(rr->newly, rr->nnewly, true, false, ok),
                        ok);
            cw_json_put(diff, "no_longer_alerting",
                        json_shifts(rr->gone, rr->ngone, false, true, ok), ok);
            cw_json_put(diff, "alerting_in_both", json_shifts(rr->both, rr->nboth, true, true, ok),
                        ok);
        }
    }
    if (d->opts->outcomes && rr->cand.present)
        cw_json_put(j, "outcomes", json_outcome(&rr->out, ok), ok);
    return j;
}

static json_t *json_auc(const struct cw_bt_auc *a, bool *ok)
{
    json_t *j = new_object(ok);
    if (!j)
        return NULL;
    cw_json_put(j, "horizon_days", json_integer(a->days), ok);
    cw_json_put(j, "auc", a->has_auc ? json_real(a->auc) : json_null(), ok);
    cw_json_put(j, "churned_scored", json_count(a->nchurned), ok);
    cw_json_put(j, "retained_scored", json_count(a->nretained), ok);
    cw_json_put(j, "churned_unscored", json_count(a->churned_unscored), ok);
    cw_json_put(j, "retained_unscored", json_count(a->retained_unscored), ok);
    return j;
}

char *cw_bt_report_json(const struct cw_bt_report_opts *o)
{
    struct cw_bt_report_data d;
    if (cw_bt_report_compute(o, &d) != 0)
        return NULL;
    bool ok = true;
    json_t *root = json_object(), *rules = json_array();
    if (!root || !rules)
        ok = false;
    if (ok) {
        cw_json_put(root, "candidate", json_run(o->candidate, &ok), &ok);
        cw_json_put(root, "baseline", o->baseline ? json_run(o->baseline, &ok) : json_null(), &ok);
        cw_json_put(root, "rules", json_incref(rules), &ok);
        for (size_t i = 0; i < d.nrules && ok; i++)
            if (json_array_append_new(rules, json_rule(&d, &d.rules[i], &ok)) != 0)
                ok = false;
    }
    if (ok && o->outcomes) {
        json_t *out = json_object(), *auc = json_array();
        cw_json_put(root, "outcomes", out, &ok);
        cw_json_put(root, "score_auc", auc, &ok);
        if (ok) {
            cw_json_put(out, "churned_accounts", json_count(d.churned), &ok);
            cw_json_put(out, "retained_accounts", json_count(d.retained), &ok);
            cw_json_put(out, "unknown_accounts", json_count(d.unknown), &ok);
            for (size_t i = 0; i < d.nauc && ok; i++)
                if (json_array_append_new(auc, json_auc(&d.auc[i], &ok)) != 0)
                    ok = false;
        }
    } else if (ok) {
        cw_json_put(root, "outcomes", json_null(), &ok);
        cw_json_put(root, "score_auc", json_null(), &ok);
    }
    char *s = ok ? cw_json_line(root, NULL) : NULL;
    json_decref(rules);
    json_decref(root);
    cw_bt_report_data_free(&d);
    return s;
}
