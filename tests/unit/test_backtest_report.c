/* test_backtest_report.c - the backtest report (backtest_report.h): hand-computed rule
 * statistics, baseline diff, precision / recall / lead time and AUC, the outcomes CSV, and
 * the text, JSON and HTML documents */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/backtest_report.h"

#define DAY   86400000LL
#define T0    1767225600000LL /* 2026-01-01T00:00:00Z */
#define AT(d) (T0 + (int64_t)(d)*DAY)

static char **strings(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    cr_assert_not_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(v[i]);
    return out;
}

struct ep {
    uint32_t account, rule;
    int fired, resolved; /* days after T0; resolved < 0: still open */
};

struct sc {
    uint32_t account;
    int day;
    double score;
};

static void make_run(struct cw_bt_run *r, const char *path, const char *const *rules, size_t nrules,
                     const char *const *accounts, size_t naccounts, const struct ep *eps,
                     size_t neps, const struct sc *scs, size_t nscs)
{
    memset(r, 0, sizeof *r);
    r->config_path = strdup(path);
    r->rules = strings(rules, nrules);
    r->nrules = nrules;
    r->accounts = strings(accounts, naccounts);
    r->naccounts = naccounts;
    r->episodes = calloc(neps ? neps : 1, sizeof *r->episodes);
    for (size_t i = 0; i < neps; i++) {
        r->episodes[i].account = eps[i].account;
        r->episodes[i].rule = eps[i].rule;
        r->episodes[i].fired_ms = AT(eps[i].fired);
        r->episodes[i].resolved_ms = eps[i].resolved < 0 ? 0 : AT(eps[i].resolved);
    }
    r->nepisodes = neps;
    r->scores = calloc(nscs ? nscs : 1, sizeof *r->scores);
    for (size_t i = 0; i < nscs; i++) {
        r->scores[i].account = scs[i].account;
        r->scores[i].day = (int32_t)(T0 / DAY) + scs[i].day;
        r->scores[i].at_ms = AT(scs[i].day);
        r->scores[i].score = scs[i].score;
    }
    r->nscores = nscs;
    r->first_ms = T0;
    r->last_ms = AT(100);
    r->events = 1000;
    r->rejected = 3;
}

/*
 * The fixture. Accounts a1..a7; candidate rules low_usage (0) and payment_failed (1):
 *   low_usage:      a1 d10-d15, a2 d20-d21, a3 d30-open, a1 d40-d43, a6 d45-d47
 *                   -> 5 episodes, 1 open, 4 accounts, closed lengths {5,1,3,2}: median 2.5
 *   payment_failed: a4 d50-d60, a5 d55-open -> 2 episodes, 1 open, median 10
 * Baseline rules low_usage (0) and old_rule (1):
 *   low_usage: a1 d12, a2 d20, a5 d33 -> newly a3, a6; no longer a5; a1 2 days earlier, a2 same
 *   old_rule:  a7 d5-open (baseline only); payment_failed is candidate only
 * Outcomes: a1 churned d70, a3 d25 (before its firing d30), a4 d80, a6 d90, zz (unknown) d50
 *   -> churned 4, retained 3 (a2, a5, a7), unknown 1
 *   low_usage: fired {a1,a2,a3,a6} = 4, before churn a1 (lead 60), a6 (lead 45):
 *              precision 2/4, recall 2/4, median lead 52.5
 *   payment_failed: fired {a4,a5}, before churn a4 (lead 30): precision 1/2, recall 1/4
 * Scores, AUC at 30 days: churned at churn - 30: a1 (t=d40) 10, a4 (t=d50) 40, a3 (t=-d5)
 * and a6 none; retained at end - 30 = d70: a2 30, a5 40 (scored at d70 exactly), a7 70 (its
 * d80 score is later). {10, 40} against {30, 40, 70}: 3 + 1 + 0.5 = 4.5 of 6 = 0.75.
 */
static const char *const accounts[] = {"a1", "a2", "a3", "a4", "a5", "a6", "a7"};

static void fixture(struct cw_bt_run *cand, struct cw_bt_run *base, struct cw_bt_outcomes *out)
{
    static const char *const crules[] = {"low_usage", "payment_failed"};
    static const struct ep ceps[] = {{0, 0, 10, 15}, {1, 0, 20, 21}, {2, 0, 30, -1}, {0, 0, 40, 43},
                                     {5, 0, 45, 47}, {3, 1, 50, 60}, {4, 1, 55, -1}};
    static const struct sc cscs[] = {{0, 35, 10}, {0, 45, 99}, {1, 60, 30}, {3, 50, 40},
                                     {4, 70, 40}, {6, 65, 70}, {6, 80, 5}};
    make_run(cand, "cand.yaml", crules, 2, accounts, 7, ceps, 7, cscs, 7);
    if (base) {
        static const char *const brules[] = {"low_usage", "old_rule"};
        static const struct ep beps[] = {
            {6, 1, 5, -1}, {0, 0, 12, 14}, {1, 0, 20, 22}, {4, 0, 33, 34}};
        make_run(base, "base.yaml", brules, 2, accounts, 7, beps, 4, NULL, 0);
    }
    if (out) {
        static const char csv[] = "account,churned_at\n"
                                  "a4,2026-03-22T00:00:00Z\n" /* d80 */
                                  "a1,2026-03-12\n"           /* d70 */
                                  "zz,1771545600000\n"        /* d50 */
                                  "a6,2026-04-01\n"           /* d90 */
                                  "a3,2026-01-26\n"           /* d25 */
                                  "a6,2026-04-05\n";          /* later duplicate: ignored */
        char err[200];
        cr_assert_eq(cw_bt_outcomes_parse_csv(csv, strlen(csv), out, err, sizeof err), 0, "%s",
                     err);
    }
}

static json_t *report_json(const struct cw_bt_report_opts *o)
{
    char *s = cw_bt_report_json(o);
    cr_assert_not_null(s);
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    cr_assert_not_null(j, "%s: %s", e.text, s);
    free(s);
    return j;
}

/* doc (freed here) holds every one of want[0..n). */
static void expect_all(char *doc, const char *const *want, size_t n)
{
    cr_assert_not_null(doc);
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(strstr(doc, want[i]), "no \"%s\" in:\n%s", want[i], doc);
    free(doc);
}

static double num(json_t *j, const char *path)
{
    json_t *v = json_object_get(j, path);
    cr_assert(json_is_number(v), "%s is not a number", path);
    return json_number_value(v);
}

struct field {
    const char *key;
    double want;
};

/* Each key of obj is the number it should be. */
static void expect_nums(json_t *obj, const struct field *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(num(obj, f[i].key), f[i].want, "%s", f[i].key);
}

Test(backtest_report, rule_statistics)
{
    struct cw_bt_run cand;
    fixture(&cand, NULL, NULL);
    struct cw_bt_report_opts o = {.candidate = &cand};
    json_t *j = report_json(&o);
    json_t *run = json_object_get(j, "candidate");
    static const struct field want_run[] = {
        {"events", 1000}, {"rejected", 3}, {"accounts", 7}, {"span_days", 100}};
    expect_nums(run, want_run, sizeof want_run / sizeof want_run[0]);
    cr_expect_str_eq(json_string_value(json_object_get(run, "first_event_at")),
                     "2026-01-01T00:00:00Z");
    cr_expect(json_is_null(json_object_get(j, "baseline")));
    cr_expect(json_is_null(json_object_get(j, "outcomes")));
    json_t *rules = json_object_get(j, "rules");
    cr_assert_eq(json_array_size(rules), 2);
    json_t *r0 = json_array_get(rules, 0), *s0 = json_object_get(r0, "candidate");
    cr_expect_str_eq(json_string_value(json_object_get(r0, "rule")), "low_usage");
    static const struct field want_s0[] = {{"episodes", 5},
                                           {"open_episodes", 1},
                                           {"closed_episodes", 4},
                                           {"accounts", 4},
                                           {"median_closed_episode_days", 2.5}};
    expect_nums(s0, want_s0, sizeof want_s0 / sizeof want_s0[0]);
    cr_expect_str_eq(json_string_value(json_object_get(s0, "first_fired_at")),
                     "2026-01-11T00:00:00Z");
    cr_expect_str_eq(json_string_value(json_object_get(s0, "last_fired_at")),
                     "2026-02-15T00:00:00Z");
    json_t *s1 = json_object_get(json_array_get(rules, 1), "candidate");
    cr_expect_eq(num(s1, "episodes"), 2);
    cr_expect_eq(num(s1, "median_closed_episode_days"), 10);
    json_decref(j);

    static const char *const want[] = {"1000 events applied, 3 rejected, 7 accounts",
                                       "2026-01-11T00:00:00Z", "2.5\n"};
    expect_all(cw_bt_report_text(&o), want, sizeof want / sizeof want[0]);
    cw_bt_run_free(&cand);
}

static json_t *rule_named(json_t *j, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "rules"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "rule")), name) == 0)
            return r;
    }
    cr_assert_fail("no rule %s", name);
    return NULL;
}

static const char *account_at(json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(list, i), "account"));
}

Test(backtest_report, baseline_diff)
{
    struct cw_bt_run cand, base;
    fixture(&cand, &base, NULL);
    struct cw_bt_report_opts o = {.candidate = &cand, .baseline = &base};
    json_t *j = report_json(&o);
    cr_assert_eq(json_array_size(json_object_get(j, "rules")), 3);
    json_t *lu = rule_named(j, "low_usage");
    cr_expect_str_eq(json_string_value(json_object_get(lu, "in")), "both");
    json_t *diff = json_object_get(lu, "diff");
    json_t *newly = json_object_get(diff, "newly_alerting");
    cr_assert_eq(json_array_size(newly), 2);
    cr_expect_str_eq(account_at(newly, 0), "a3");
    cr_expect_str_eq(account_at(newly, 1), "a6");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(newly, 1), "first_fired_at")),
                     "2026-02-15T00:00:00Z");
    json_t *gone = json_object_get(diff, "no_longer_alerting");
    cr_assert_eq(json_array_size(gone), 1);
    cr_expect_str_eq(account_at(gone, 0), "a5");
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(gone, 0), "baseline_first_fired_at")),
        "2026-02-03T00:00:00Z");
    json_t *both = json_object_get(diff, "alerting_in_both");
    cr_assert_eq(json_array_size(both), 2);
    cr_expect_str_eq(account_at(both, 0), "a1");
    cr_expect_eq(num(json_array_get(both, 0), "shift_days"), -2);
    cr_expect_eq(num(json_array_get(both, 1), "shift_days"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(rule_named(j, "payment_failed"), "in")),
                     "candidate_only");
    json_t *old = rule_named(j, "old_rule");
    cr_expect_str_eq(json_string_value(json_object_get(old, "in")), "baseline_only");
    cr_expect_eq(num(json_object_get(old, "baseline"), "open_episodes"), 1);
    cr_expect_null(json_object_get(old, "candidate"));
    json_decref(j);

    static const char *const want[] = {
        "low_usage: 2 newly alerting, 1 no longer alerting, 2 in both (first firing 1 earlier, 0 "
        "later, 1 same)",
        "a1  earlier by 2.0 days", "no longer  a5  baseline first fired 2026-02-03T00:00:00Z",
        "payment_failed: only in the candidate", "old_rule: only in the baseline"};
    expect_all(cw_bt_report_text(&o), want, sizeof want / sizeof want[0]);
    cw_bt_run_free(&cand);
    cw_bt_run_free(&base);
}

Test(backtest_report, text_lists_are_capped)
{
    enum { N = 15 };
    const char *names[N];
    char buf[N][16];
    struct ep eps[N];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "b%02d", i);
        names[i] = buf[i];
        eps[i] = (struct ep){(uint32_t)i, 0, 10 + i, -1};
    }
    static const char *const rules[] = {"r"};
    struct cw_bt_run cand, base;
    make_run(&cand, "c", rules, 1, names, N, eps, N, NULL, 0);
    make_run(&base, "b", rules, 1, names, N, NULL, 0, NULL, 0);
    struct cw_bt_report_opts o = {.candidate = &cand, .baseline = &base};
    char *t = cw_bt_report_text(&o);
    cr_assert_not_null(t);
    cr_expect_not_null(strstr(t, "b09  first fired"), "%s", t);
    cr_expect_null(strstr(t, "b10  first fired"), "%s", t);
    cr_expect_not_null(strstr(t, "... and 5 more newly"), "%s", t);
    free(t);
    json_t *j = report_json(&o);
    cr_expect_eq(json_array_size(json_object_get(json_object_get(rule_named(j, "r"), "diff"),
                                                 "newly_alerting")),
                 N);
    json_decref(j);
    cw_bt_run_free(&cand);
    cw_bt_run_free(&base);
}

Test(backtest_report, outcome_metrics)
{
    struct cw_bt_run cand;
    struct cw_bt_outcomes out;
    fixture(&cand, NULL, &out);
    static const int horizons[] = {30};
    struct cw_bt_report_opts o = {
        .candidate = &cand, .outcomes = &out, .horizons_days = horizons, .nhorizons = 1};
    json_t *j = report_json(&o);
    json_t *oc = json_object_get(j, "outcomes");
    static const struct field want_oc[] = {
        {"churned_accounts", 4}, {"retained_accounts", 3}, {"unknown_accounts", 1}};
    expect_nums(oc, want_oc, sizeof want_oc / sizeof want_oc[0]);
    json_t *lu = json_object_get(rule_named(j, "low_usage"), "outcomes");
    static const struct field want_lu[] = {{"accounts_fired", 4},
                                           {"fired_before_churn", 2},
                                           {"precision", 0.5},
                                           {"recall", 0.5},
                                           {"median_lead_days", 52.5}};
    expect_nums(lu, want_lu, sizeof want_lu / sizeof want_lu[0]);
    json_t *leads = json_object_get(lu, "lead_days");
    cr_assert_eq(json_array_size(leads), 2);
    cr_expect_eq(json_number_value(json_array_get(leads, 0)), 45);
    cr_expect_eq(json_number_value(json_array_get(leads, 1)), 60);
    json_t *pf = json_object_get(rule_named(j, "payment_failed"), "outcomes");
    static const struct field want_pf[] = {
        {"precision", 0.5}, {"recall", 0.25}, {"median_lead_days", 30}};
    expect_nums(pf, want_pf, sizeof want_pf / sizeof want_pf[0]);
    json_t *auc = json_object_get(j, "score_auc");
    cr_assert_eq(json_array_size(auc), 1);
    json_t *a = json_array_get(auc, 0);
    static const struct field want_a[] = {{"horizon_days", 30},    {"auc", 0.75},
                                          {"churned_scored", 2},   {"retained_scored", 3},
                                          {"churned_unscored", 2}, {"retained_unscored", 0}};
    expect_nums(a, want_a, sizeof want_a / sizeof want_a[0]);
    json_decref(j);

    static const char *const want[] = {
        "4 churned, 3 retained accounts; 1 churned accounts the replay never saw",
        "   30 d   0.750", "0.50    0.50       45.0       52.5       60.0"};
    expect_all(cw_bt_report_text(&o), want, sizeof want / sizeof want[0]);
    cw_bt_outcomes_free(&out);
    cw_bt_run_free(&cand);
}

Test(backtest_report, default_horizons_and_na)
{
    /* No account churned: recall and every AUC are n/a; a rule that never fired has no
     * precision. */
    static const char *const rules[] = {"quiet"};
    static const char *const accts[] = {"x"};
    static const struct sc scs[] = {{0, 1, 50}};
    struct cw_bt_run cand;
    make_run(&cand, "c", rules, 1, accts, 1, NULL, 0, scs, 1);
    struct cw_bt_outcomes out = {0};
    struct cw_bt_report_opts o = {.candidate = &cand, .outcomes = &out};
    json_t *j = report_json(&o);
    json_t *q = json_object_get(rule_named(j, "quiet"), "outcomes");
    cr_expect(json_is_null(json_object_get(q, "precision")));
    cr_expect(json_is_null(json_object_get(q, "recall")));
    cr_expect(json_is_null(json_object_get(q, "median_lead_days")));
    cr_expect(json_is_null(json_object_get(json_object_get(rule_named(j, "quiet"), "candidate"),
                                           "median_closed_episode_days")));
    json_t *auc = json_object_get(j, "score_auc");
    cr_assert_eq(json_array_size(auc), 3);
    for (size_t i = 0; i < 3; i++) {
        cr_expect_eq(num(json_array_get(auc, i), "horizon_days"), 30 * (int)(i + 1));
        cr_expect(json_is_null(json_object_get(json_array_get(auc, i), "auc")));
    }
    json_decref(j);
    char *t = cw_bt_report_text(&o);
    cr_assert_not_null(t);
    cr_expect_not_null(strstr(t, "n/a"), "%s", t);
    cr_expect_null(strstr(t, "nan"), "%s", t);
    free(t);
    cw_bt_run_free(&cand);
}

Test(backtest_report, hostile_ids_in_text_are_inert)
{
    static const char *const rules[] = {"r\x1b[31m"};
    static const char *const accts[] = {"evil\xe2\x80\xae"};
    static const struct ep eps[] = {{0, 0, 1, 2}};
    struct cw_bt_run cand;
    make_run(&cand, "c", rules, 1, accts, 1, eps, 1, NULL, 0);
    struct cw_bt_report_opts o = {.candidate = &cand};
    char *t = cw_bt_report_text(&o);
    cr_assert_not_null(t);
    cr_expect_null(strchr(t, '\x1b'));
    cr_expect_not_null(strstr(t, "r\\x1b[31m"), "%s", t);
    free(t);
    cw_bt_run_free(&cand);
}

/* ---- the outcomes CSV ---- */

Test(backtest_outcomes_csv, forms_order_and_duplicates)
{
    static const char csv[] = "b,2026-01-02T09:00:00+09:00\r\n"
                              "\n"
                              " a , 86400000 \n"
                              "c,2026-01-03\n"
                              "a,1000";
    struct cw_bt_outcomes out;
    char err[128];
    cr_assert_eq(cw_bt_outcomes_parse_csv(csv, strlen(csv), &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.n, 3);
    cr_expect_str_eq(out.v[0].account, "a");
    cr_expect_eq(out.v[0].churned_ms, 1000); /* the earliest of its two */
    cr_expect_str_eq(out.v[1].account, "b");
    cr_expect_eq(out.v[1].churned_ms, 1767312000000LL); /* 2026-01-02T00:00:00Z */
    cr_expect_str_eq(out.v[2].account, "c");
    cr_expect_eq(out.v[2].churned_ms, 1767398400000LL);
    cw_bt_outcomes_free(&out);

    cr_assert_eq(cw_bt_outcomes_parse_csv("", 0, &out, err, sizeof err), 0);
    cr_expect_eq(out.n, 0);
    cw_bt_outcomes_free(&out);
}

static void expect_error(const char *csv, const char *want)
{
    struct cw_bt_outcomes out;
    char err[160] = "";
    cr_assert_eq(cw_bt_outcomes_parse_csv(csv, strlen(csv), &out, err, sizeof err), -1, "%s", csv);
    cr_expect_str_eq(err, want);
    cr_expect_eq(out.n, 0);
    cr_expect_null(out.v);
}

Test(backtest_outcomes_csv, errors_name_the_line)
{
    expect_error("account,churned_at\na,2026-01-01\nb,2026-02-30\n",
                 "line 3: churned_at \"2026-02-30\" is not an RFC 3339 time, a YYYY-MM-DD date or "
                 "epoch milliseconds");
    expect_error("a,2026-01-01\nb\n", "line 2: expected 2 columns (account,churned_at), found 1");
    expect_error("a,2026-01-01,x\n", "line 1: expected 2 columns (account,churned_at), found more");
    expect_error("a,2026-01-01\n\n ,2026-01-01\n", "line 3: empty account");
    expect_error("a,\n", "line 1: empty churned_at");
    expect_error("a,yesterday\n",
                 "line 1: churned_at \"yesterday\" is not an RFC 3339 time, a YYYY-MM-DD date or "
                 "epoch milliseconds");
    /* the header only on the first line */
    expect_error("a,2026-01-01\naccount,churned_at\n",
                 "line 2: churned_at \"churned_at\" is not an RFC 3339 time, a YYYY-MM-DD date or "
                 "epoch milliseconds");
}

/* ---- HTML ---- */

Test(backtest_html, tables_and_plots)
{
    struct cw_bt_run cand, base;
    struct cw_bt_outcomes out;
    fixture(&cand, &base, &out);
    struct cw_bt_report_opts o = {.candidate = &cand, .baseline = &base, .outcomes = &out};
    char *p = cw_bt_report_html(&o);
    cr_assert_not_null(p);
    static const char *const want[] = {
        "<!DOCTYPE html>",       "id=\"summary\"",       "id=\"rules\"",
        "id=\"diff\"",           "id=\"outcomes\"",      "id=\"auc\"",
        "<td>0.750</td>",        "id=\"plot-alerts-0\"", "id=\"plot-alerts-1\"",
        "id=\"plot-scores-30\"", "id=\"plot-leads-0\"",  "class=\"plot\"",
        "<td>52.5</td>",         "only in the baseline", "</html>"};
    /* self-contained: nothing fetched, nothing run */
    cr_expect_null(strstr(p, "<script"));
    cr_expect_null(strstr(p, "src="));
    cr_expect_null(strstr(p, "href="));
    cr_expect_null(strstr(p, "url("));
    cr_expect_null(strstr(p, "style=\""));
    expect_all(p, want, sizeof want / sizeof want[0]);
    cw_bt_outcomes_free(&out);
    cw_bt_run_free(&cand);
    cw_bt_run_free(&base);
}

Test(backtest_html, hostile_ids_are_escaped_and_inert)
{
    static const char *const rules[] = {"<img src=x onerror=alert(1)>"};
    static const char *const accts[] = {"<script>alert(1)</script>\xe2\x80\xae", "b\"'&"};
    static const struct ep eps[] = {{0, 0, 1, 2}, {1, 0, 3, -1}};
    struct cw_bt_run cand, base;
    make_run(&cand, "<b>c.yaml", rules, 1, accts, 2, eps, 2, NULL, 0);
    make_run(&base, "b", rules, 1, accts, 2, NULL, 0, NULL, 0);
    static const char csv[] = "<script>alert(1)</script>\xe2\x80\xae,2026-03-01\n";
    struct cw_bt_outcomes out;
    char err[100];
    cr_assert_eq(cw_bt_outcomes_parse_csv(csv, strlen(csv), &out, err, sizeof err), 0, "%s", err);
    struct cw_bt_report_opts o = {.candidate = &cand, .baseline = &base, .outcomes = &out};
    char *p = cw_bt_report_html(&o);
    cr_assert_not_null(p);
    cr_expect_null(strstr(p, "<script"));
    cr_expect_null(strstr(p, "<img"));
    cr_expect_null(strstr(p, "<b>"));
    cr_expect_null(strstr(p, "\xe2\x80\xae"));
    cr_expect_not_null(strstr(p, "&lt;script&gt;alert(1)&lt;/script&gt;\\u202e"), "%s", p);
    cr_expect_not_null(strstr(p, "&lt;img src=x onerror=alert(1)&gt;"));
    cr_expect_not_null(strstr(p, "b&quot;&#39;&amp;"));
    free(p);
    cw_bt_outcomes_free(&out);
    cw_bt_run_free(&cand);
    cw_bt_run_free(&base);
}

Test(backtest_report, no_candidate_no_report)
{
    struct cw_bt_report_opts o = {0};
    cr_expect_null(cw_bt_report_text(&o));
    cr_expect_null(cw_bt_report_json(&o));
    cr_expect_null(cw_bt_report_html(&o));
}

/* A replay that applied no event (or none from --since on) has no span: its times are null,
 * "-" in the text and the page, never an instant made of the -1 that means none. */
Test(backtest_report, a_run_without_events_has_no_span)
{
    static const char *const rules[] = {"low_usage"};
    struct cw_bt_run cand;
    make_run(&cand, "cand.yaml", rules, 1, NULL, 0, NULL, 0, NULL, 0);
    cand.events = 0;
    cand.first_ms = cand.last_ms = -1;
    struct cw_bt_report_opts o = {.candidate = &cand};
    json_t *j = report_json(&o);
    json_t *c = json_object_get(j, "candidate");
    cr_expect(json_is_null(json_object_get(c, "first_event_at")));
    cr_expect(json_is_null(json_object_get(c, "last_event_at")));
    cr_expect(json_is_null(json_object_get(c, "span_days")));
    json_decref(j);
    char *t = cw_bt_report_text(&o);
    cr_assert_not_null(t);
    cr_expect_not_null(strstr(t, "  event time - (no event)\n"), "%s", t);
    cr_expect_null(strstr(t, "1969"), "%s", t);
    free(t);
    char *p = cw_bt_report_html(&o);
    cr_assert_not_null(p);
    cr_expect_null(strstr(p, "1969"));
    cr_expect_null(strstr(p, "1970"));
    free(p);
    /* --since after the last event: the report's start is later than its end */
    cand.first_ms = T0 + 10 * DAY;
    cand.last_ms = T0;
    j = report_json(&o);
    cr_expect(json_is_null(json_object_get(json_object_get(j, "candidate"), "span_days")));
    json_decref(j);
    cw_bt_run_free(&cand);
}
