/* backtest_metrics.c - the numbers of a backtest report: per-rule episode statistics, the
 * diff against a baseline, precision / recall / lead time against churn outcomes and the
 * score's AUC at each horizon (backtest_metrics.h) */
#include "backtest_metrics.h"

#include <stdlib.h>
#include <string.h>

static const int default_horizons[] = {30, 60, 90};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorted in place); n > 0. */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static int cmp_outcome(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cw_bt_outcome *)elem)->account);
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

const struct cw_bt_outcome *cw_bt_outcome_find(const struct cw_bt_outcomes *o, const char *account)
{
    if (!o || o->n == 0)
        return NULL;
    return bsearch(account, o->v, o->n, sizeof o->v[0], cmp_outcome);
}

static bool run_has_account(const struct cw_bt_run *r, const char *account)
{
    return r->naccounts > 0 &&
           bsearch(account, r->accounts, r->naccounts, sizeof r->accounts[0], cmp_name) != NULL;
}

static int rule_index(const struct cw_bt_run *r, const char *name)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i], name) == 0)
            return (int)i;
    return -1;
}

struct acct_time {
    uint32_t account;
    int64_t ms;
};

static int by_account_time(const void *a, const void *b)
{
    const struct acct_time *x = a, *y = b;
    if (x->account != y->account)
        return x->account < y->account ? -1 : 1;
    return (x->ms > y->ms) - (x->ms < y->ms);
}

/* Statistics of rule ri in run r; -1 when out of memory. */
static int rule_stats(const struct cw_bt_run *r, size_t ri, struct cw_bt_rule_stats *s)
{
    memset(s, 0, sizeof *s);
    s->present = true;
    size_t n = 0;
    for (size_t i = 0; i < r->nepisodes; i++)
        n += r->episodes[i].rule == ri;
    if (n == 0)
        return 0;
    double *lengths = malloc(n * sizeof *lengths);
    struct acct_time *fires = malloc(n * sizeof *fires);
    if (!lengths || !fires) {
        free(lengths);
        free(fires);
        return -1;
    }
    for (size_t i = 0; i < r->nepisodes; i++) {
        const struct cw_bt_episode *e = &r->episodes[i];
        if (e->rule != ri)
            continue;
        if (s->episodes == 0 || e->fired_ms < s->first_ms)
            s->first_ms = e->fired_ms;
        if (s->episodes == 0 || e->fired_ms > s->last_ms)
            s->last_ms = e->fired_ms;
        fires[s->episodes].account = e->account;
        fires[s->episodes].ms = e->fired_ms;
        s->episodes++;
        if (e->resolved_ms == 0)
            s->open++;
        else
            lengths[s->closed++] = (double)(e->resolved_ms - e->fired_ms) / (double)CW_BT_DAY_MS;
    }
    if (s->closed > 0) {
        s->has_median = true;
        s->median_days = median(lengths, s->closed);
    }
    free(lengths);
    qsort(fires, n, sizeof fires[0], by_account_time);
    s->firsts = malloc(n * sizeof *s->firsts);
    if (!s->firsts) {
        free(fires);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && fires[i].account == fires[i - 1].account)
            continue;
        s->firsts[s->naccounts].account = r->accounts[fires[i].account];
        s->firsts[s->naccounts].fired_ms = fires[i].ms;
        s->naccounts++;
    }
    free(fires);
    return 0;
}

/* The baseline diff of one rule present in both runs; -1 when out of memory. */
static int diff(struct cw_bt_rule_report *rr)
{
    const struct cw_bt_rule_stats *c = &rr->cand, *b = &rr->base;
    size_t cap = c->naccounts + b->naccounts + 1;
    rr->newly = malloc(cap * sizeof *rr->newly);
    rr->gone = malloc(cap * sizeof *rr->gone);
    rr->both = malloc(cap * sizeof *rr->both);
    if (!rr->newly || !rr->gone || !rr->both)
        return -1;
    size_t i = 0, j = 0;
    while (i < c->naccounts || j < b->naccounts) {
        int cmp = i == c->naccounts   ? 1
                  : j == b->naccounts ? -1
                                      : strcmp(c->firsts[i].account, b->firsts[j].account);
        struct cw_bt_shift sh = {0};
        if (cmp < 0) {
            sh.account = c->firsts[i].account;
            sh.cand_ms = c->firsts[i++].fired_ms;
            rr->newly[rr->nnewly++] = sh;
        } else if (cmp > 0) {
            sh.account = b->firsts[j].account;
            sh.base_ms = b->firsts[j++].fired_ms;
            rr->gone[rr->ngone++] = sh;
        } else {
            sh.account = c->firsts[i].account;
            sh.cand_ms = c->firsts[i++].fired_ms;
            sh.base_ms = b->firsts[j++].fired_ms;
            rr->both[rr->nboth++] = sh;
        }
    }
    return 0;
}

/* The candidate rule against the outcomes; -1 when out of memory. */
static int rule_outcome(const struct cw_bt_report_data *d, struct cw_bt_rule_report *rr)
{
    struct cw_bt_rule_outcome *out = &rr->out;
    out->churned = d->churned;
    out->fired = rr->cand.naccounts;
    if (out->fired > 0) {
        out->leads = malloc(out->fired * sizeof *out->leads);
        if (!out->leads)
            return -1;
    }
    for (size_t i = 0; i < rr->cand.naccounts; i++) {
        const struct cw_bt_first *f = &rr->cand.firsts[i];
        const struct cw_bt_outcome *o = cw_bt_outcome_find(d->opts->outcomes, f->account);
        if (!o || f->fired_ms >= o->churned_ms)
            continue;
        out->fired_before++;
        out->leads[out->nleads++] = (double)(o->churned_ms - f->fired_ms) / (double)CW_BT_DAY_MS;
    }
    out->has_precision = out->fired > 0;
    out->precision = out->has_precision ? (double)out->fired_before / (double)out->fired : 0;
    out->has_recall = out->churned > 0;
    out->recall = out->has_recall ? (double)out->fired_before / (double)out->churned : 0;
    if (out->nleads > 0) {
        out->has_median_lead = true;
        out->median_lead_days = median(out->leads, out->nleads); /* sorts leads too */
    }
    return 0;
}

double cw_bt_auc_sorted(const double *churned, size_t nc, const double *retained, size_t nr)
{
    double wins = 0;
    size_t lo = 0, hi = 0; /* retained[0..lo) < c, retained[lo..hi) == c */
    for (size_t i = 0; i < nc; i++) {
        double c = churned[i];
        while (lo < nr && retained[lo] < c)
            lo++;
        if (hi < lo)
            hi = lo;
        while (hi < nr && retained[hi] <= c)
            hi++;
        wins += (double)(nr - hi) + 0.5 * (double)(hi - lo);
    }
    return wins / ((double)nc * (double)nr);
}

/* The last score of account a given at or before t, from its scores s[0..n). */
static bool score_at(const struct cw_bt_score *s, size_t n, int64_t t, double *out)
{
    bool has = false;
    for (size_t i = 0; i < n && s[i].at_ms <= t; i++) {
        *out = s[i].score;
        has = true;
    }
    return has;
}

static int auc_at(const struct cw_bt_report_data *d, const size_t *start, int days,
                  struct cw_bt_auc *a)
{
    const struct cw_bt_run *r = d->opts->candidate;
    a->days = days;
    if (d->churned > 0)
        a->churned = malloc(d->churned * sizeof *a->churned);
    if (d->retained > 0)
        a->retained = malloc(d->retained * sizeof *a->retained);
    if ((d->churned > 0 && !a->churned) || (d->retained > 0 && !a->retained))
        return -1;
    for (size_t i = 0; i < r->naccounts; i++) {
        const struct cw_bt_outcome *o = cw_bt_outcome_find(d->opts->outcomes, r->accounts[i]);
        int64_t t = (o ? o->churned_ms : r->last_ms) - (int64_t)days * CW_BT_DAY_MS;
        double v = 0;
        bool has = score_at(r->scores + start[i], start[i + 1] - start[i], t, &v);
        if (o && has)
            a->churned[a->nchurned++] = v;
        else if (o)
            a->churned_unscored++;
        else if (has)
            a->retained[a->nretained++] = v;
        else
            a->retained_unscored++;
    }
    if (a->nchurned)
        qsort(a->churned, a->nchurned, sizeof a->churned[0], cmp_double);
    if (a->nretained)
        qsort(a->retained, a->nretained, sizeof a->retained[0], cmp_double);
    a->has_auc = a->nchurned > 0 && a->nretained > 0;
    if (a->has_auc)
        a->auc = cw_bt_auc_sorted(a->churned, a->nchurned, a->retained, a->nretained);
    return 0;
}

static int outcomes_and_auc(struct cw_bt_report_data *d)
{
    const struct cw_bt_report_opts *o = d->opts;
    const struct cw_bt_run *r = o->candidate;
    for (size_t i = 0; i < r->naccounts; i++)
        if (cw_bt_outcome_find(o->outcomes, r->accounts[i]))
            d->churned++;
    d->retained = r->naccounts - d->churned;
    for (size_t i = 0; i < o->outcomes->n; i++)
        d->unknown += !run_has_account(r, o->outcomes->v[i].account);
    for (size_t i = 0; i < d->nrules; i++)
        if (d->rules[i].cand.present && rule_outcome(d, &d->rules[i]) != 0)
            return -1;
    const int *h = o->horizons_days ? o->horizons_days : default_horizons;
    size_t nh =
        o->horizons_days ? o->nhorizons : sizeof default_horizons / sizeof default_horizons[0];
    size_t *start = malloc((r->naccounts + 1) * sizeof *start);
    d->auc = calloc(nh ? nh : 1, sizeof *d->auc);
    if (!start || !d->auc) {
        free(start);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i <= r->naccounts; i++) {
        while (k < r->nscores && r->scores[k].account < i)
            k++;
        start[i] = k;
    }
    start[r->naccounts] = r->nscores;
    int rc = 0;
    for (size_t i = 0; i < nh && rc == 0; i++, d->nauc++)
        rc = auc_at(d, start, h[i], &d->auc[i]);
    free(start);
    return rc;
}

int cw_bt_report_compute(const struct cw_bt_report_opts *o, struct cw_bt_report_data *d)
{
    memset(d, 0, sizeof *d);
    if (!o || !o->candidate)
        return -1;
    d->opts = o;
    const struct cw_bt_run *c = o->candidate, *b = o->baseline;
    size_t cap = c->nrules + (b ? b->nrules : 0);
    d->rules = calloc(cap ? cap : 1, sizeof *d->rules);
    if (!d->rules)
        return -1;
    for (size_t i = 0; i < c->nrules; i++) {
        struct cw_bt_rule_report *rr = &d->rules[d->nrules++];
        rr->name = c->rules[i];
        if (rule_stats(c, i, &rr->cand) != 0)
            goto oom;
        int bi = b ? rule_index(b, c->rules[i]) : -1;
        if (bi >= 0 && (rule_stats(b, (size_t)bi, &rr->base) != 0 || diff(rr) != 0))
            goto oom;
    }
    for (size_t i = 0; b && i < b->nrules; i++) {
        if (rule_index(c, b->rules[i]) >= 0)
            continue;
        struct cw_bt_rule_report *rr = &d->rules[d->nrules++];
        rr->name = b->rules[i];
        if (rule_stats(b, i, &rr->base) != 0)
            goto oom;
    }
    if (o->outcomes && outcomes_and_auc(d) != 0)
        goto oom;
    return 0;
oom:
    cw_bt_report_data_free(d);
    return -1;
}

void cw_bt_report_data_free(struct cw_bt_report_data *d)
{
    for (size_t i = 0; i < d->nrules; i++) {
        struct cw_bt_rule_report *rr = &d->rules[i];
        free(rr->cand.firsts);
        free(rr->base.firsts);
        free(rr->newly);
        free(rr->gone);
        free(rr->both);
        free(rr->out.leads);
    }
    free(d->rules);
    for (size_t i = 0; i < d->nauc; i++) {
        free(d->auc[i].churned);
        free(d->auc[i].retained);
    }
    free(d->auc);
    memset(d, 0, sizeof *d);
}
