/* rules.c - rule conditions (risk and opportunity kinds) and the per-(account, rule) state
 * machine */
#include "churnwatch/rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"
#include "churnwatch/users.h"
#include "churnwatch/window.h"

/* ---- text helpers -------------------------------------------------------------------- */

/* Drop an incomplete UTF-8 sequence that truncation left at the end of s. */
static void utf8_trim_tail(char *s)
{
    size_t n = strlen(s);
    size_t i = n;
    /* Walk back over at most 3 continuation bytes to the lead byte. */
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && n - (i - 1) < need)
        s[i - 1] = '\0';
}

/* Whether out's reason is left out (cw_rule_facts.skip_reasons): buf is then empty, so a
 * text built from it costs nothing. out NULL: never (a condition's own text). */
static bool skipped(const struct cw_rule_eval *out, char *buf)
{
    if (!out || !out->reason_skipped)
        return false;
    buf[0] = '\0';
    return true;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
set_reason(struct cw_rule_eval *out, const char *fmt, ...)
{
    if (out->reason_skipped)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    if (n < 0)
        out->reason[0] = '\0';
    else if ((size_t)n >= sizeof out->reason)
        utf8_trim_tail(out->reason);
}

/* A number as people write it: at most 2 decimals, no trailing zeros ("37.5", "40"). */
static const char *fmt_num(const struct cw_rule_eval *out, char buf[32], double x)
{
    if (skipped(out, buf))
        return buf;
    if (!isfinite(x)) {
        snprintf(buf, 32, "n/a");
        return buf;
    }
    snprintf(buf, 32, "%.2f", x);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot && (end[-1] == '0' || end[-1] == '.')) {
            char c = end[-1];
            *--end = '\0';
            if (c == '.')
                break;
        }
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, 32, "0");
    return buf;
}

/* A duration in the config's notation: the largest of d, h, m, s that divides it. */
static const char *fmt_dur(const struct cw_rule_eval *out, char buf[32], int64_t ms)
{
    if (skipped(out, buf))
        return buf;
    static const struct {
        int64_t ms;
        char unit;
    } units[] = {{CW_MS_PER_DAY, 'd'},
                 {3600 * CW_MS_PER_SECOND, 'h'},
                 {60 * CW_MS_PER_SECOND, 'm'},
                 {CW_MS_PER_SECOND, 's'}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, 32, "%lld%c", (long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, 32, "%lldms", (long long)ms);
    return buf;
}

/* "15 days", "1 day"; below one day "20 hours", so short rules stay readable. */
static const char *fmt_span(const struct cw_rule_eval *out, char buf[48], int64_t ms)
{
    if (skipped(out, buf))
        return buf;
    int64_t hour = 3600 * CW_MS_PER_SECOND;
    if (ms < 0)
        ms = 0;
    if (ms >= CW_MS_PER_DAY) {
        long long d = (long long)(ms / CW_MS_PER_DAY);
        snprintf(buf, 48, "%lld day%s", d, d == 1 ? "" : "s");
    } else {
        long long h = (long long)(ms / hour);
        snprintf(buf, 48, "%lld hour%s", h, h == 1 ? "" : "s");
    }
    return buf;
}

static const char *name_or(const char *name, const char *fallback)
{
    return name && *name ? name : fallback;
}

static const char *event_type_name(const struct cw_config *cfg, int t)
{
    if (t < 0 || (size_t)t >= cfg->n_event_types)
        return "?";
    return name_or(cfg->event_types[t].name, "?");
}

/* now - then without signed overflow (state read back from a store may be garbage). */
static int64_t elapsed(int64_t now, int64_t then)
{
    if (then < 0 && now > INT64_MAX + then)
        return INT64_MAX;
    if (then > 0 && now < INT64_MIN + then)
        return INT64_MIN;
    return now - then;
}

static double ms_to_days(int64_t ms)
{
    return (double)ms / (double)CW_MS_PER_DAY;
}

/* ---- the kinds ------------------------------------------------------------------------ */

/* The words of a score threshold's reasons, below (risk) and above (opportunity). */
struct threshold_words {
    const char *crossed, *not_crossed, *still, *side, *back;
};
static const struct threshold_words score_words[2] = {
    {"fell below", "is not below", "is still below", "below", "recovered to at least"},
    {"rose above", "is not above", "is still above", "above", "fell back to at most"},
};

/* score_below (fire when the score < enter, resolve at >= exit) and score_above (an
 * opportunity, a champion or advocate: fire when > enter, resolve at <= exit). */
static void eval_score_threshold(const struct cw_rule_params *p, const struct cw_rule_facts *f,
                                 bool above, bool firing, struct cw_rule_eval *out)
{
    char a[32], b[32], c[32];
    const struct cw_score_result *s = f->score;
    const struct threshold_words *w = &score_words[above];
    out->threshold = p->enter;
    if (!s || !s->has_score || !isfinite(s->score)) {
        set_reason(out, "no health score (no measure can be computed)");
        return;
    }
    out->evaluable = true;
    out->has_value = true;
    out->value = s->score;
    fmt_num(out, a, s->score);
    fmt_num(out, b, p->enter);
    fmt_num(out, c, p->exit);
    double limit = firing ? p->exit : p->enter;
    out->holds = above ? s->score > limit : s->score < limit;
    if (!firing)
        set_reason(out, "health score %s %s %s", a, out->holds ? w->crossed : w->not_crossed, b);
    else if (out->holds)
        set_reason(out, "health score %s %s %s (fired %s %s)", a, w->still, c, w->side, b);
    else
        set_reason(out, "health score %s %s %s", a, w->back, c);
}

/*
 * The daily history point standing for "over ago": the point of day target, else the
 * nearest earlier one at most `slack` days older; NULL when none. A score holds until the
 * account is scored again, so the last earlier point is its score on the target day (the
 * history has gaps where an account was not scored, e.g. quiet days of a backfill); the
 * slack (the rule's own `over`) keeps a stale score out.
 */
static const struct cw_score_point *drop_reference(const struct cw_rule_facts *f, int64_t target,
                                                   int64_t slack)
{
    const struct cw_score_point *best = NULL;
    if (!f->history)
        return NULL;
    for (size_t i = 0; i < f->n_history; i++) {
        const struct cw_score_point *pt = &f->history[i];
        if ((int64_t)pt->day > target)
            break; /* ascending by day */
        if ((int64_t)pt->day >= target - slack && isfinite(pt->score))
            best = pt;
    }
    return best;
}

static void eval_score_drop(const struct cw_rule_params *p, const struct cw_rule_facts *f,
                            bool firing, struct cw_rule_eval *out)
{
    char a[32], b[32], c[32], d[32];
    const struct cw_score_result *s = f->score;
    out->threshold = p->points;
    if (!s || !s->has_score || !isfinite(s->score)) {
        set_reason(out, "no health score (no measure can be computed)");
        return;
    }
    /* `over` in whole days, rounded up: the comparison reaches at least that far back. */
    int64_t over_days = p->over_ms / CW_MS_PER_DAY + (p->over_ms % CW_MS_PER_DAY != 0);
    if (over_days < 1)
        over_days = 1;
    int64_t target = (int64_t)f->account->today - over_days;
    const struct cw_score_point *ref = drop_reference(f, target, over_days);
    if (!ref) {
        set_reason(out, "no health score kept from %s ago to compare with",
                   fmt_dur(out, a, over_days * CW_MS_PER_DAY));
        return;
    }
    double drop = ref->score - s->score;
    long long span = (long long)f->account->today - (long long)ref->day;
    out->evaluable = true;
    out->has_value = true;
    out->value = drop;
    out->has_previous_score = true;
    out->previous_score = ref->score;
    fmt_num(out, a, drop);
    fmt_num(out, b, ref->score);
    fmt_num(out, c, s->score);
    fmt_num(out, d, firing ? p->exit_points : p->points);
    out->holds = drop >= (firing ? p->exit_points : p->points);
    if (!firing && out->holds)
        set_reason(out, "health score fell %s points in %lld days (%s to %s; rule: %s)", a, span, b,
                   c, d);
    else if (firing && out->holds)
        set_reason(out, "health score still %s points below its value %lld days ago (%s to %s)", a,
                   span, b, c);
    else
        set_reason(out,
                   "health score changed by %s%s points in %lld days (%s to %s), not a drop of %s",
                   drop < 0 ? "+" : "", fmt_num(out, a, -drop), span, b, c, d);
}

/* "login or app_created" for up to three types, else "any of N listed event types". */
static void describe_types(const struct cw_rule_eval *out, const struct cw_config *cfg,
                           const struct cw_rule *rule, char *buf, size_t size)
{
    if (skipped(out, buf))
        return;
    if (!rule->types || rule->n_types == 0) {
        snprintf(buf, size, "activity");
        return;
    }
    if (rule->n_types > 3) {
        snprintf(buf, size, "activity of the %zu listed event types", rule->n_types);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rule->n_types && used < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == rule->n_types ? " or " : ", ";
        int n =
            snprintf(buf + used, size - used, "%s%s", sep, event_type_name(cfg, rule->types[i]));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void eval_inactive(const struct cw_config *cfg, const struct cw_rule *rule,
                          const struct cw_rule_params *p, const struct cw_rule_facts *f,
                          struct cw_rule_eval *out)
{
    const struct cw_account_view *acct = f->account;
    char what[96], span[48], rule_dur[32];
    describe_types(out, cfg, rule, what, sizeof what);
    fmt_dur(out, rule_dur, p->after_ms);
    out->threshold = ms_to_days(p->after_ms);

    int64_t last = -1;
    if (!rule->types || rule->n_types == 0) {
        last = acct->last_seen_ms;
    } else if (acct->type_last_ms) {
        for (size_t i = 0; i < rule->n_types; i++) {
            int t = rule->types[i];
            if (t >= 0 && (size_t)t < cfg->n_event_types && acct->type_last_ms[t] > last)
                last = acct->type_last_ms[t];
        }
    }

    int64_t silent;
    bool since_first_seen = false;
    if (last >= 0) {
        silent = elapsed(acct->now_ms, last);
    } else if (acct->first_day != CW_DAY_NONE && acct->first_day <= acct->today) {
        /* Seen, but never with these types: silent since it was first seen, taken as the
         * same time of day on first_day (errs towards less silence than the day's start). */
        silent = ((int64_t)acct->today - (int64_t)acct->first_day) * CW_MS_PER_DAY;
        since_first_seen = true;
    } else {
        set_reason(out, "account never seen");
        return;
    }
    if (silent < 0)
        silent = 0; /* an event slightly ahead of the clock (within max_clock_skew) */

    out->evaluable = true;
    out->has_value = true;
    out->value = ms_to_days(silent);
    out->holds = silent >= p->after_ms;
    if (since_first_seen)
        set_reason(out, "no %s since first seen %s ago (rule: %s)", what,
                   fmt_span(out, span, silent), rule_dur);
    else
        set_reason(out, "no %s for %s (rule: %s)", what, fmt_span(out, span, silent), rule_dur);
}

static void eval_onboarding(const struct cw_config *cfg, const struct cw_rule *rule,
                            const struct cw_rule_params *p, const struct cw_rule_facts *f,
                            bool firing, struct cw_rule_eval *out)
{
    const struct cw_account_view *acct = f->account;
    const char *milestone = event_type_name(cfg, rule->milestone);
    char span[48], rule_dur[32];
    fmt_dur(out, rule_dur, p->within_ms);
    out->threshold = ms_to_days(p->within_ms);
    if (rule->milestone < 0 || (size_t)rule->milestone >= cfg->n_event_types) {
        set_reason(out, "milestone event type is not configured");
        return;
    }
    if (!acct->traits || !acct->traits->has_created_at) {
        set_reason(out, "created_at unknown");
        return;
    }
    int64_t created = acct->traits->created_at_ms;
    int64_t age = elapsed(acct->now_ms, created);
    int64_t seen_ms = acct->type_last_ms ? acct->type_last_ms[rule->milestone] : -1;
    if (seen_ms >= 0) {
        /* Seen at any time, even late: the account reached first value. */
        out->evaluable = true;
        out->has_value = true;
        out->value = ms_to_days(age);
        set_reason(out, "%s seen", milestone);
        return;
    }
    if (age < p->within_ms) {
        out->evaluable = true;
        out->has_value = true;
        out->value = ms_to_days(age);
        set_reason(out, "first %s not seen yet, due %s after created_at (rule: %s)", milestone,
                   fmt_span(out, span, p->within_ms - age), rule_dur);
        return;
    }
    /* Overdue and never seen. Only judge accounts observed since (about) the due day: an
     * account first seen after its deadline may have reached the milestone before churnwatch
     * saw any of its events (a fresh install over an existing topic, docs/guarantees.md).
     * This guards the entry only: the due day is approximated from whole days elapsed,
     * which steps at created_at's time of day while `today` steps at local midnight, so
     * for an account first seen about the due day the guard changes its answer twice a
     * day; applied to a firing episode it would resolve and re-fire it daily (flapping). */
    int64_t overdue_days = elapsed(age, p->within_ms) / CW_MS_PER_DAY;
    if (!firing && (acct->first_day == CW_DAY_NONE ||
                    (int64_t)acct->first_day > (int64_t)acct->today - overdue_days)) {
        set_reason(out, "account first seen after %s was due; onboarding not observed", milestone);
        return;
    }
    out->evaluable = true;
    out->holds = true;
    out->has_value = true;
    out->value = ms_to_days(age);
    set_reason(out, "first %s not seen %s after created_at (rule: %s)", milestone,
               fmt_span(out, span, age), rule_dur);
}

/* ratio_below (fire when the ratio < enter, resolve at >= exit) and ratio_above (fire when
 * > enter, resolve at <= exit): a metric over a window, per seat or not. */
static void eval_ratio(const struct cw_config *cfg, const struct cw_rule *rule,
                       const struct cw_rule_params *p, const struct cw_rule_facts *f, bool firing,
                       struct cw_rule_eval *out)
{
    bool above = rule->kind == CW_RULE_RATIO_ABOVE;
    const struct cw_account_view *acct = f->account;
    char a[32], c[32], d[32];
    out->threshold = p->enter;
    if (rule->window < 0 || (size_t)rule->window >= cfg->n_windows || rule->metric < 0 ||
        (size_t)rule->metric >= cfg->n_metrics) {
        set_reason(out, "metric or window is not configured");
        return;
    }
    const struct cw_window *w = &cfg->windows[rule->window];
    const char *wname = name_or(w->name, "?");
    const char *mname = name_or(cfg->metrics[rule->metric].name, "?");
    bool distinct = rule->metric == CW_METRIC_ACTIVE_USERS;
    uint32_t observed = cw_window_observed_days(acct->first_day, acct->today, w->days);

    /* Windows not yet lived through are not judged (docs/guarantees.md). A count is scaled to
     * the whole window from min_observed_days on, as the score does; distinct users cannot
     * be extrapolated that way and need the whole window. */
    uint32_t need = distinct ? w->days : cfg->score.min_observed_days;
    if (need > w->days)
        need = w->days;
    if (observed < need || observed == 0) {
        set_reason(out, "window %s (%ud) observed for %u of the %u days needed", wname, w->days,
                   observed, need);
        return;
    }

    double amount;
    if (distinct) {
        amount =
            (double)cw_window_distinct(acct->user_last_day, acct->n_users, acct->today, w->days);
    } else {
        if (!acct->daily || (size_t)rule->metric >= acct->n_metrics) {
            set_reason(out, "no daily counts of %s", mname);
            return;
        }
        const uint32_t *row = acct->daily + (size_t)rule->metric * acct->horizon;
        amount = cw_window_scale(cw_window_sum(row, acct->horizon, w->days), observed, w->days);
    }

    double ratio = amount;
    int64_t seats = 0;
    if (rule->per_seat) {
        if (!acct->traits || !acct->traits->has_seats || acct->traits->seats <= 0) {
            set_reason(out, "seats unknown");
            return;
        }
        seats = acct->traits->seats;
        ratio = amount / (double)seats;
    }
    if (!isfinite(ratio)) {
        set_reason(out, "%s over %s is not a finite number", mname, wname);
        return;
    }

    double limit = firing ? p->exit : p->enter;
    out->evaluable = true;
    out->has_value = true;
    out->value = ratio;
    out->holds = above ? ratio > limit : ratio < limit;
    const char *cmp = above ? (out->holds ? ">" : "<=") : (out->holds ? "<" : ">=");
    fmt_num(out, c, ratio);
    fmt_num(out, d, limit);
    if (distinct && rule->per_seat)
        set_reason(out, "%s of %lld seats active over %s (%ud) = %s %s %s%s",
                   fmt_num(out, a, amount), (long long)seats, wname, w->days, c, cmp, d,
                   firing ? " (exit)" : "");
    else if (rule->per_seat)
        set_reason(out, "%s over %s (%ud%s) = %s per seat (%lld seats) = %s %s %s%s", mname, wname,
                   w->days, observed < w->days ? ", scaled" : "", fmt_num(out, a, amount),
                   (long long)seats, c, cmp, d, firing ? " (exit)" : "");
    else
        set_reason(out, "%s over %s (%ud%s) = %s %s %s%s", distinct ? "active users" : mname, wname,
                   w->days, observed < w->days ? ", scaled" : "", c, cmp, d,
                   firing ? " (exit)" : "");
}

/*
 * renewal: the account renews within `within` from now and its score is below enter
 * (below exit while firing: hysteresis on the score). The value is the score; the days
 * left are in the reason (and the alert carries renewal_at). A renewal date in the past
 * (renewed, or lost) clears it.
 */
static void eval_renewal(const struct cw_rule_params *p, const struct cw_rule_facts *f, bool firing,
                         struct cw_rule_eval *out)
{
    char a[32], b[32], w[32], span[48];
    const struct cw_account_view *acct = f->account;
    const struct cw_score_result *s = f->score;
    out->threshold = p->enter;
    if (!acct->traits || !acct->traits->has_renewal_at) {
        set_reason(out, "renewal date unknown");
        return;
    }
    if (!s || !s->has_score || !isfinite(s->score)) {
        set_reason(out, "no health score (no measure can be computed)");
        return;
    }
    double limit = firing ? p->exit : p->enter;
    out->evaluable = true;
    out->has_value = true;
    out->value = s->score;
    fmt_num(out, a, s->score);
    fmt_num(out, b, limit);
    fmt_dur(out, w, p->within_ms);
    int64_t left = acct->traits->renewal_at_ms - acct->now_ms; /* both within years 0..9999 */
    if (left < 0) {
        set_reason(out, "renewal date passed %s ago", fmt_span(out, span, -left));
        return;
    }
    fmt_span(out, span, left);
    if (left > p->within_ms) {
        set_reason(out, "renewal in %s, beyond %s", span, w);
        return;
    }
    out->holds = s->score < limit;
    set_reason(out, "renewal in %s (within %s) with health score %s %s %s%s", span, w, a,
               out->holds ? "below" : "at least", b, firing ? " (exit)" : "");
}

/*
 * children_at_risk, a parent's rule: fire when at least min_children of its children are
 * at risk, a health score below enter; while it fires, a child counts until its score is
 * back to exit (the hysteresis of score_below, per child). The value is the number at risk;
 * the reason names them, lowest score first, as far as it holds them. Children without a
 * score are not at risk; a parent none of whose children has a score is not evaluable.
 */
static void eval_children_at_risk(const struct cw_rule_params *p, const struct cw_rule_facts *f,
                                  bool firing, struct cw_rule_eval *out)
{
    char a[32], b[32];
    const struct cw_children *c = f->children;
    const double limit = firing ? p->exit : p->enter;
    out->threshold = (double)p->min_children;
    out->children_below = limit;
    size_t scored = 0, at_risk = 0;
    for (size_t i = 0; c && i < c->n; i++) {
        scored += c->child[i].has_score;
        at_risk += c->child[i].has_score && c->child[i].score < limit;
    }
    if (!c || c->n == 0) {
        set_reason(out, "no children");
        return;
    }
    if (scored == 0) {
        set_reason(out, "none of %zu children has a health score", c->n);
        return;
    }
    out->evaluable = true;
    out->has_value = true;
    out->value = (double)at_risk;
    out->holds = at_risk >= p->min_children;
    fmt_num(out, b, limit);
    const char *side = firing ? " (exit)" : "";
    if (!out->holds) {
        set_reason(out, "%zu of %zu children below %s%s (fires at %u)", at_risk, scored, b, side,
                   p->min_children);
        return;
    }
    if (out->reason_skipped)
        return; /* the list below is the reason's only */
    int n = snprintf(out->reason, sizeof out->reason, "%zu of %zu children below %s%s", at_risk,
                     scored, b, side);
    if (n < 0 || (size_t)n + sizeof ", ..." > sizeof out->reason)
        return; /* never: the counts and the threshold are short */
    /* The ones at risk, lowest first (cw_children_below), as many as the reason holds;
     * out of memory, the counts alone. */
    size_t k_all;
    size_t *idx = cw_children_below(c, limit, &k_all);
    for (size_t k = 0; idx && k < k_all; k++) {
        char item[CW_ID_MAX + 48];
        int m = snprintf(item, sizeof item, "%s%s (%s)", k == 0 ? ": " : ", ", c->ids[idx[k]],
                         fmt_num(out, a, c->child[idx[k]].score));
        if (m < 0 || (size_t)n + (size_t)m + sizeof ", ..." > sizeof out->reason) {
            /* no room for the whole name and the ellipsis after it: end the list here */
            memcpy(out->reason + n, ", ...", sizeof ", ...");
            break;
        }
        memcpy(out->reason + n, item, (size_t)m + 1);
        n += m;
    }
    free(idx);
}

/* ---- users' engagement (docs/users.md) ---------------------------------------------------- */

/* One user as the user rules see it. */
struct user_at {
    const char *id;
    uint64_t points; /* over users.window, ending today (power) or on its last day (champion) */
    int rank;
    int32_t last; /* the newest day with points, at or before today */
};

/* Most points first, then by id. */
static int cmp_user_at(const void *x, const void *y)
{
    const struct user_at *a = x, *b = y;
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Append ": a, b, ..." of users[0..n) to out->reason (as far as it holds them) and name
 * the first CW_RULE_USERS_MAX in out->users. */
static void name_users(struct cw_rule_eval *out, const struct user_at *users, size_t n,
                       bool with_quiet, int32_t today, const struct cw_users_config *uc)
{
    size_t len = strlen(out->reason);
    for (size_t k = 0; k < n; k++) {
        if (k < CW_RULE_USERS_MAX)
            out->users[out->n_users++] = users[k].id;
        if (out->reason_skipped)
            continue;
        char item[CW_ID_MAX + 64];
        int m = with_quiet ? snprintf(item, sizeof item, "%s%s (%s, quiet %dd)", k ? ", " : ": ",
                                      users[k].id, uc->ranks[users[k].rank].name,
                                      (int)(today - users[k].last))
                           : snprintf(item, sizeof item, "%s%s (%s)", k ? ", " : ": ", users[k].id,
                                      uc->ranks[users[k].rank].name);
        if (m < 0 || len + (size_t)m + sizeof ", ..." > sizeof out->reason) {
            if (len + sizeof ", ..." <= sizeof out->reason)
                memcpy(out->reason + len, ", ...", sizeof ", ...");
            for (size_t j = k + 1; j < n && out->n_users < CW_RULE_USERS_MAX; j++)
                out->users[out->n_users++] = users[j].id;
            return;
        }
        memcpy(out->reason + len, item, (size_t)m + 1);
        len += (size_t)m;
    }
}

/*
 * power_users_below: fire when the account has fewer power users (ranked at
 * users.power_rank or above over users.window) than enter; resolve when it has exit or
 * more. Judged once users.window has been observed; the reason and the alert name the
 * power users it has.
 */
static void eval_power_users_below(const struct cw_config *cfg, const struct cw_rule_params *p,
                                   const struct cw_rule_facts *f, bool firing,
                                   struct cw_rule_eval *out)
{
    const struct cw_account_view *v = f->account;
    const struct cw_users_config *uc = &cfg->users;
    char a[32];
    out->threshold = p->enter;
    if (!uc->enabled || uc->n_ranks == 0) {
        set_reason(out, "no users section");
        return;
    }
    uint32_t observed = cw_window_observed_days(v->first_day, v->today, uc->window_days);
    if (observed < uc->window_days) {
        set_reason(out, "users.window (%ud) observed for %u days", uc->window_days, observed);
        return;
    }
    struct user_at *power = malloc((v->n_user_eng ? v->n_user_eng : 1) * sizeof *power);
    if (!power) {
        set_reason(out, "out of memory");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < v->n_user_eng; i++) {
        const struct cw_user_eng *u = &v->user_eng[i];
        uint64_t pts = cw_eng_points(u->days, u->n_days, v->today, uc->window_days);
        int r = pts ? cw_user_rank(uc, pts) : -1;
        if (r >= 0 && (size_t)r <= uc->power_rank)
            power[n++] = (struct user_at){u->id, pts, r, 0};
    }
    qsort(power, n, sizeof *power, cmp_user_at);
    const double limit = firing ? p->exit : p->enter;
    out->evaluable = out->has_value = true;
    out->value = (double)n;
    out->holds = (double)n < limit;
    set_reason(out, "%zu power user%s (%s or higher) %s %s%s", n, n == 1 ? "" : "s",
               uc->ranks[uc->power_rank].name, out->holds ? "below" : "at least",
               fmt_num(out, a, limit), firing ? " (exit)" : "");
    name_users(out, power, n, false, v->today, uc);
    free(power);
}

/*
 * champion_quiet: fire when a champion (a user ranked at the rule's rank or above over
 * users.window ending on their last day with points) has had no points for `after`, whole
 * days, however busy the rest of the account is; resolve when none is quiet (the champions
 * came back). The value is the number of quiet champions; the reason and the alert name
 * them, most points first.
 */
static void eval_champion_quiet(const struct cw_config *cfg, const struct cw_rule *rule,
                                const struct cw_rule_params *p, const struct cw_rule_facts *f,
                                struct cw_rule_eval *out)
{
    const struct cw_account_view *v = f->account;
    const struct cw_users_config *uc = &cfg->users;
    char span[32];
    int64_t after = p->after_ms / CW_MS_PER_DAY;
    out->threshold = (double)after;
    fmt_dur(out, span, p->after_ms);
    if (!uc->enabled || rule->rank >= uc->n_ranks) {
        set_reason(out, "no users section");
        return;
    }
    struct user_at *quiet = malloc((v->n_user_eng ? v->n_user_eng : 1) * sizeof *quiet);
    if (!quiet) {
        set_reason(out, "out of memory");
        return;
    }
    size_t n = 0, champions = 0;
    int64_t least = -1; /* the quietest champion that is not quiet enough, in days */
    for (size_t i = 0; i < v->n_user_eng; i++) {
        const struct cw_user_eng *u = &v->user_eng[i];
        size_t k = u->n_days;
        while (k > 0 && u->days[k - 1].day > v->today)
            k--;
        if (k == 0)
            continue;
        int32_t last = u->days[k - 1].day;
        uint64_t pts = cw_eng_points(u->days, k, last, uc->window_days);
        int r = cw_user_rank(uc, pts);
        if (r < 0 || (size_t)r > rule->rank)
            continue;
        champions++;
        int64_t days = (int64_t)v->today - last;
        if (days >= after)
            quiet[n++] = (struct user_at){u->id, pts, r, last};
        else if (days > least)
            least = days;
    }
    qsort(quiet, n, sizeof *quiet, cmp_user_at);
    out->evaluable = out->has_value = true;
    out->value = (double)n;
    out->holds = n > 0;
    const char *rank = uc->ranks[rule->rank].name;
    if (n == 0 && champions == 0)
        set_reason(out, "no champion (%s or higher)", rank);
    else if (n == 0)
        set_reason(out,
                   "no champion (%s or higher) without points for %s: %zu champion%s, the "
                   "quietest %lld days",
                   rank, span, champions, champions == 1 ? "" : "s", (long long)least);
    else
        set_reason(out, "%zu champion%s (%s or higher) without points for %s or more", n,
                   n == 1 ? "" : "s", rank, span);
    name_users(out, quiet, n, true, v->today, uc);
    free(quiet);
}

/* ---- further conditions (when) ----------------------------------------------------------- */

static bool name_listed(const struct cw_strlist *names, const char *name)
{
    for (size_t i = 0; name && i < names->n; i++)
        if (strcmp(names->items[i], name) == 0)
            return true;
    return false;
}

/* "C, D" (truncated to the buffer). */
static const char *list_text(const struct cw_strlist *names, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < names->n && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names->items[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Whether condition c holds on f; text describes it either way. A condition whose data is
 * missing (no score, seats unknown) does not hold. */
static bool condition_holds(const struct cw_config *cfg, const struct cw_condition *c,
                            const struct cw_rule_facts *f, char *text, size_t size)
{
    const struct cw_account_view *acct = f->account;
    const struct cw_score_result *s = f->score;
    char a[32], b[32], list[96];
    bool holds;
    switch (c->subject) {
    case CW_COND_METRIC: {
        if (c->window < 0 || (size_t)c->window >= cfg->n_windows || c->metric < 0 ||
            (size_t)c->metric >= cfg->n_metrics) {
            snprintf(text, size, "metric or window is not configured");
            return false;
        }
        const struct cw_window *w = &cfg->windows[c->window];
        const char *mname = name_or(cfg->metrics[c->metric].name, "?");
        double v;
        if (c->metric == CW_METRIC_ACTIVE_USERS)
            v = (double)cw_window_distinct(acct->user_last_day, acct->n_users, acct->today,
                                           w->days);
        else if (acct->daily && (size_t)c->metric < acct->n_metrics)
            v = (double)cw_window_sum(acct->daily + (size_t)c->metric * acct->horizon,
                                      acct->horizon, w->days);
        else
            v = 0;
        if (c->per_seat) {
            if (!acct->traits || !acct->traits->has_seats || acct->traits->seats <= 0) {
                snprintf(text, size, "%s per seat: seats unknown", mname);
                return false;
            }
            v /= (double)acct->traits->seats;
        }
        holds = c->above ? v > c->value : v < c->value;
        snprintf(text, size, "%s over %s (%ud)%s = %s%s %s %s", mname, name_or(w->name, "?"),
                 w->days, c->per_seat ? " per seat" : "", fmt_num(NULL, a, v), holds ? "" : ", not",
                 c->above ? ">" : "<", fmt_num(NULL, b, c->value));
        return holds;
    }
    case CW_COND_SCORE:
        if (!s || !s->has_score || !isfinite(s->score)) {
            snprintf(text, size, "no health score");
            return false;
        }
        holds = c->above ? s->score > c->value : s->score < c->value;
        snprintf(text, size, "health score %s%s %s %s", fmt_num(NULL, a, s->score),
                 holds ? "" : ", not", c->above ? ">" : "<", fmt_num(NULL, b, c->value));
        return holds;
    case CW_COND_GRADE:
        if (!s || !s->has_score) {
            snprintf(text, size, "no grade");
            return false;
        }
        holds = name_listed(&c->names, s->grade);
        snprintf(text, size, "grade %s %sin %s", s->grade, holds ? "" : "not ",
                 list_text(&c->names, list, sizeof list));
        return holds;
    case CW_COND_STAGE: {
        const char *stage = s && s->stage && *s->stage ? s->stage : NULL;
        holds = name_listed(&c->names, stage);
        snprintf(text, size, "stage %s %sin %s", stage ? stage : "(none)", holds ? "" : "not ",
                 list_text(&c->names, list, sizeof list));
        return holds;
    }
    }
    snprintf(text, size, "unknown condition");
    return false;
}

bool cw_rule_conditions_hold(const struct cw_config *cfg, size_t r, const struct cw_rule_facts *f,
                             char *text, size_t size)
{
    const struct cw_rule *rule = &cfg->rules[r];
    size_t used = 0;
    char one[160];
    text[0] = '\0';
    for (size_t i = 0; i < rule->n_when; i++) {
        bool holds = condition_holds(cfg, &rule->when[i], f, one, sizeof one);
        if (!holds) {
            snprintf(text, size, "%s", one);
            return false;
        }
        if (used < size) {
            int n = snprintf(text + used, size - used, "%s%s", i ? "; " : "", one);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return true;
}

void cw_rule_evaluate(const struct cw_config *cfg, size_t r, const struct cw_rule_params *p,
                      const struct cw_rule_facts *facts, bool firing, struct cw_rule_eval *out)
{
    memset(out, 0, sizeof *out);
    out->reason_skipped = facts->skip_reasons;
    const struct cw_rule *rule = &cfg->rules[r];
    if (!facts->account) {
        set_reason(out, "no account data");
        return;
    }
    switch (rule->kind) {
    case CW_RULE_SCORE_BELOW:
        eval_score_threshold(p, facts, false, firing, out);
        break;
    case CW_RULE_SCORE_DROP:
        eval_score_drop(p, facts, firing, out);
        break;
    case CW_RULE_INACTIVE:
        eval_inactive(cfg, rule, p, facts, out);
        break;
    case CW_RULE_ONBOARDING:
        eval_onboarding(cfg, rule, p, facts, firing, out);
        break;
    case CW_RULE_RATIO_BELOW:
    case CW_RULE_RATIO_ABOVE:
        eval_ratio(cfg, rule, p, facts, firing, out);
        break;
    case CW_RULE_SCORE_ABOVE:
        eval_score_threshold(p, facts, true, firing, out);
        break;
    case CW_RULE_RENEWAL:
        eval_renewal(p, facts, firing, out);
        break;
    case CW_RULE_CHILDREN_AT_RISK:
        eval_children_at_risk(p, facts, firing, out);
        break;
    case CW_RULE_CHAMPION_QUIET:
        eval_champion_quiet(cfg, rule, p, facts, out);
        break;
    case CW_RULE_POWER_USERS_BELOW:
        eval_power_users_below(cfg, p, facts, firing, out);
        break;
    default:
        set_reason(out, "unknown rule kind %d", (int)rule->kind);
        break;
    }
    /* A value that is not a finite number never reaches an alert. */
    if (out->has_value && !isfinite(out->value)) {
        out->has_value = false;
        out->evaluable = false;
        out->holds = false;
    }
    if (!out->evaluable)
        out->holds = false;
    /* Further conditions: the rule holds only while each holds too. They have no exit side
     * of their own: the kind's hysteresis stays, `for` and `keep_firing_for` apply to the
     * whole. The reason says which held, or which one did not. */
    if (out->holds && rule->n_when > 0) {
        char more[sizeof out->reason];
        char kind_reason[sizeof out->reason];
        memcpy(kind_reason, out->reason, sizeof kind_reason);
        out->holds = cw_rule_conditions_hold(cfg, r, facts, more, sizeof more);
        set_reason(out, "%s; %s %s", kind_reason, out->holds ? "and" : "but", more);
    }
}

/* ---- the state machine --------------------------------------------------------------- */

static void fire(int64_t now_ms, const char *account_id, const char *rule_name, bool silenced,
                 struct cw_rule_state *next, struct cw_transition *out)
{
    memset(next, 0, sizeof *next);
    next->status = CW_RULE_FIRING;
    next->since_ms = now_ms;
    cw_alert_id(account_id, rule_name, now_ms, next->alert_id);
    next->published = !silenced;
    next->last_sent_ms = silenced ? 0 : now_ms;
    out->emit = CW_EMIT_FIRING;
    out->publish = !silenced;
    memcpy(out->alert_id, next->alert_id, sizeof out->alert_id);
}

void cw_rule_step(const struct cw_rule_params *p, const struct cw_rule_state *prev,
                  const struct cw_rule_eval *eval, int64_t now_ms, const char *account_id,
                  const char *rule_name, bool silenced, struct cw_rule_state *next,
                  struct cw_transition *out)
{
    bool holds = eval->evaluable && eval->holds;
    struct cw_rule_state cur = *prev; /* prev and next may alias */
    memset(out, 0, sizeof *out);

    /* A state is never stepped at a clock before the instants it records: the clock went
     * back (a restart replaying history it had already applied, or an instance behind the
     * one that saved the state). Judged then, an episode would resolve before it fired and
     * fire again with the same id; it is kept until the clock is back where it was. */
    if (cur.status != CW_RULE_OK &&
        (now_ms < cur.since_ms || now_ms < cur.cleared_ms || now_ms < cur.last_sent_ms)) {
        *next = cur;
        return;
    }

    switch (cur.status) {
    case CW_RULE_PENDING:
        if (!holds) {
            memset(next, 0, sizeof *next);
            return;
        }
        if (elapsed(now_ms, cur.since_ms) >= p->for_ms) {
            fire(now_ms, account_id, rule_name, silenced, next, out);
            return;
        }
        *next = cur;
        return;

    case CW_RULE_FIRING:
        cur.alert_id[CW_ALERT_ID_LEN] = '\0';
        memcpy(out->alert_id, cur.alert_id, sizeof out->alert_id);
        if (holds)
            cur.cleared_ms = 0;
        else if (cur.cleared_ms == 0)
            cur.cleared_ms = now_ms;
        if (!holds && elapsed(now_ms, cur.cleared_ms) >= p->keep_firing_ms) {
            out->emit = CW_EMIT_RESOLVED;
            /* A published episode is always closed for its consumers, silenced or not:
             * a silence holds back news, it must not leave an alert open forever. */
            out->publish = cur.published;
            memset(next, 0, sizeof *next);
            return;
        }
        if (!silenced) {
            if (!cur.published) {
                /* The silence is over: publish the firing it held back. */
                out->emit = CW_EMIT_FIRING;
                out->publish = true;
                cur.published = true;
                cur.last_sent_ms = now_ms;
            } else if (p->repeat_ms > 0 && elapsed(now_ms, cur.last_sent_ms) >= p->repeat_ms) {
                out->emit = CW_EMIT_REMINDER;
                out->publish = true;
                cur.last_sent_ms = now_ms;
            }
        }
        *next = cur;
        return;

    case CW_RULE_OK:
    default:
        if (!holds) {
            memset(next, 0, sizeof *next);
            return;
        }
        if (p->for_ms > 0) {
            memset(next, 0, sizeof *next);
            next->status = CW_RULE_PENDING;
            next->since_ms = now_ms;
            return;
        }
        fire(now_ms, account_id, rule_name, silenced, next, out);
        return;
    }
}
