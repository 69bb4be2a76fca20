/* test_rules.c - rule conditions of the five kinds, the alert state machine, episode ids */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/rules.h"
#include "churnwatch/window.h"

#define DAY     CW_MS_PER_DAY
#define HOUR    (3600 * CW_MS_PER_SECOND)
#define DAY0    20414 /* 2026-11-22 */
#define HORIZON 64

/* ---- a hand-built configuration ------------------------------------------------------ */

enum { T_LOGIN, T_APP, T_RECORD, T_TRAITS, N_TYPES };
enum { M_USERS, M_LOGINS, M_APPS, M_RECORDS, N_METRICS };
enum { W_SHORT, W_LONG, N_WINDOWS };
enum {
    R_HEALTH,
    R_DROP,
    R_SILENT,
    R_SILENT_LOGIN,
    R_ONBOARD,
    R_SEATS,
    R_RECORDS,
    R_RENEWAL,
    R_CHAMPION,
    R_EXPAND,
    R_CHILDREN,
    R_POWER,
    R_QUIET,
    N_RULES
};

static struct cw_window windows[N_WINDOWS] = {{"short", 7}, {"long", 28}};
static struct cw_metric metrics[N_METRICS] = {{"active_users", true, false},
                                              {"logins", false, false},
                                              {"apps_created", false, false},
                                              {"records", false, false}};
static struct cw_event_type types[N_TYPES] = {
    {"login", {NULL, 0}, M_LOGINS, false, {NULL, 0}},
    {"app_created", {NULL, 0}, M_APPS, false, {NULL, 0}},
    {"record_written", {NULL, 0}, M_RECORDS, false, {NULL, 0}},
    {"account_updated", {NULL, 0}, -1, true, {NULL, 0}},
};
static int login_only[] = {T_LOGIN};
static struct cw_rule rules[N_RULES];
static struct cw_config cfg;

static struct cw_rule_params params(void)
{
    struct cw_rule_params p = {0};
    p.severity = CW_SEV_WARNING;
    p.touch = "low";
    return p;
}

static void setup_config(void)
{
    memset(rules, 0, sizeof rules);
    for (size_t i = 0; i < N_RULES; i++) {
        rules[i].params = params();
        rules[i].milestone = -1;
        rules[i].metric = -1;
        rules[i].window = -1;
    }
    rules[R_HEALTH].name = "health_low";
    rules[R_HEALTH].kind = CW_RULE_SCORE_BELOW;
    rules[R_HEALTH].params.enter = 40;
    rules[R_HEALTH].params.exit = 45;

    rules[R_DROP].name = "health_drop";
    rules[R_DROP].kind = CW_RULE_SCORE_DROP;
    rules[R_DROP].params.points = 10;
    rules[R_DROP].params.exit_points = 5;
    rules[R_DROP].params.over_ms = 7 * DAY;

    rules[R_SILENT].name = "silent";
    rules[R_SILENT].kind = CW_RULE_INACTIVE;
    rules[R_SILENT].params.after_ms = 14 * DAY;

    rules[R_SILENT_LOGIN].name = "no_logins";
    rules[R_SILENT_LOGIN].kind = CW_RULE_INACTIVE;
    rules[R_SILENT_LOGIN].params.after_ms = 14 * DAY;
    rules[R_SILENT_LOGIN].types = login_only;
    rules[R_SILENT_LOGIN].n_types = 1;

    rules[R_ONBOARD].name = "onboarding_stalled";
    rules[R_ONBOARD].kind = CW_RULE_ONBOARDING;
    rules[R_ONBOARD].params.within_ms = 30 * DAY;
    rules[R_ONBOARD].milestone = T_APP;

    rules[R_SEATS].name = "seat_use";
    rules[R_SEATS].kind = CW_RULE_RATIO_BELOW;
    rules[R_SEATS].params.enter = 0.3;
    rules[R_SEATS].params.exit = 0.35;
    rules[R_SEATS].metric = M_USERS;
    rules[R_SEATS].window = W_LONG;
    rules[R_SEATS].per_seat = true;

    rules[R_RECORDS].name = "few_records";
    rules[R_RECORDS].kind = CW_RULE_RATIO_BELOW;
    rules[R_RECORDS].params.enter = 10;
    rules[R_RECORDS].params.exit = 12;
    rules[R_RECORDS].metric = M_RECORDS;
    rules[R_RECORDS].window = W_SHORT;
    rules[R_RECORDS].per_seat = false;

    rules[R_RENEWAL].name = "renewal_risk";
    rules[R_RENEWAL].kind = CW_RULE_RENEWAL;
    rules[R_RENEWAL].params.enter = 50;
    rules[R_RENEWAL].params.exit = 60;
    rules[R_RENEWAL].params.within_ms = 90 * DAY;

    rules[R_CHAMPION].name = "champion";
    rules[R_CHAMPION].kind = CW_RULE_SCORE_ABOVE;
    rules[R_CHAMPION].params.enter = 80;
    rules[R_CHAMPION].params.exit = 70;

    rules[R_EXPAND].name = "expand";
    rules[R_EXPAND].kind = CW_RULE_RATIO_ABOVE;
    rules[R_EXPAND].params.enter = 0.9;
    rules[R_EXPAND].params.exit = 0.8;
    rules[R_EXPAND].metric = M_USERS;
    rules[R_EXPAND].window = W_LONG;
    rules[R_EXPAND].per_seat = true;

    rules[R_CHILDREN].name = "group_at_risk";
    rules[R_CHILDREN].kind = CW_RULE_CHILDREN_AT_RISK;
    rules[R_CHILDREN].params.enter = 40;
    rules[R_CHILDREN].params.exit = 50;
    rules[R_CHILDREN].params.min_children = 2;

    memset(&cfg, 0, sizeof cfg);
    cfg.windows = windows;
    cfg.n_windows = N_WINDOWS;
    cfg.longest_window_days = 28;
    cfg.metrics = metrics;
    cfg.n_metrics = N_METRICS;
    cfg.event_types = types;
    cfg.n_event_types = N_TYPES;
    cfg.score.min_observed_days = 3;
    cfg.rules = rules;
    cfg.n_rules = N_RULES;

    /* users (docs/users.md): SS >= 100, S >= 50, A >= 20, B >= 5; power users from A */
    static char ss[] = "SS", s[] = "S", a[] = "A", b[] = "B";
    cfg.users = (struct cw_users_config){
        .enabled = true, .window_days = 30, .n_ranks = 4, .power_rank = 2, .max_tracked = 200};
    cfg.users.ranks[0] = (struct cw_rank_band){ss, 100};
    cfg.users.ranks[1] = (struct cw_rank_band){s, 50};
    cfg.users.ranks[2] = (struct cw_rank_band){a, 20};
    cfg.users.ranks[3] = (struct cw_rank_band){b, 5};
    rules[R_POWER].name = "few_power_users";
    rules[R_POWER].kind = CW_RULE_POWER_USERS_BELOW;
    rules[R_POWER].params.enter = 3;
    rules[R_POWER].params.exit = 4;
    rules[R_QUIET].name = "champion_quiet";
    rules[R_QUIET].kind = CW_RULE_CHAMPION_QUIET;
    rules[R_QUIET].rank = 1; /* S or higher */
    rules[R_QUIET].params.after_ms = 14 * DAY;
}

/* ---- a hand-built account ------------------------------------------------------------ */

struct acct {
    struct cw_account_view v;
    struct cw_traits traits;
    uint32_t daily[N_METRICS * HORIZON];
    int32_t users[128];
    int64_t type_last[N_TYPES];
    struct cw_score_result score;
    struct cw_score_point history[256];
    size_t n_history;
    const struct cw_children *children;
};

static struct acct A;

/* An account first seen on first_day, now at 09:00 UTC of day today. */
static void acct_init(int32_t first_day, int32_t today)
{
    memset(&A, 0, sizeof A);
    A.v.account_id = "acme";
    A.v.first_day = first_day;
    A.v.horizon = HORIZON;
    A.v.n_metrics = N_METRICS;
    A.v.daily = A.daily;
    A.v.user_last_day = A.users;
    A.v.traits = &A.traits;
    A.v.last_seen_ms = first_day == CW_DAY_NONE ? -1 : (int64_t)first_day * DAY + 9 * HOUR;
    A.v.type_last_ms = A.type_last;
    for (size_t i = 0; i < N_TYPES; i++)
        A.type_last[i] = -1;
    A.v.today = today;
    A.v.now_ms = (int64_t)today * DAY + 9 * HOUR;
}

static void acct_at(int64_t now_ms)
{
    A.v.now_ms = now_ms;
    A.v.today = (int32_t)(now_ms / DAY);
}

static void set_score(double s)
{
    A.score.has_score = true;
    A.score.score = s;
    A.score.grade = s >= 80 ? "A" : s >= 60 ? "B" : s >= 40 ? "C" : "D";
}

/* Whether a, evaluated without its reason, decided everything as full, with it. */
static bool same_but_the_reason(const struct cw_rule_eval *a, const struct cw_rule_eval *full)
{
    struct cw_rule_eval t;
    memcpy(&t, a, sizeof t);
    memcpy(t.reason, full->reason, sizeof t.reason);
    t.reason_skipped = full->reason_skipped;
    return memcmp(&t, full, sizeof t) == 0;
}

/* Rule r evaluated on A into e, and again without its reason (cw_rule_facts.skip_reasons),
 * which must decide the same in every test of this file. */
static void eval_rule(size_t r, bool firing, struct cw_rule_eval *e)
{
    struct cw_rule_facts f = {.account = &A.v,
                              .score = &A.score,
                              .history = A.n_history ? A.history : NULL,
                              .n_history = A.n_history,
                              .children = A.children};
    cw_rule_evaluate(&cfg, r, &cfg.rules[r].params, &f, firing, e);
    cr_assert_not(e->reason_skipped);
    struct cw_rule_eval lean;
    f.skip_reasons = true;
    cw_rule_evaluate(&cfg, r, &cfg.rules[r].params, &f, firing, &lean);
    cr_assert(lean.reason_skipped);
    cr_assert_str_empty(lean.reason, "rule %zu: %s", r, lean.reason);
    cr_assert(same_but_the_reason(&lean, e), "rule %zu decided otherwise without its reason (%s)",
              r, e->reason);
}

/* Emissions seen over a run. */
struct tally {
    int firing, reminder, resolved, published;
    char first_id[CW_ALERT_ID_LEN + 1];
    char last_id[CW_ALERT_ID_LEN + 1];
    int64_t fired_at, resolved_at;
};

/* Evaluate rule r at the account's clock and step its state, as the daemon does. */
static enum cw_emit step_rule(size_t r, struct cw_rule_state *st, bool silenced, struct tally *t,
                              struct cw_rule_eval *e_out)
{
    struct cw_rule_eval e;
    struct cw_transition tr;
    eval_rule(r, st->status == CW_RULE_FIRING, &e);
    cw_rule_step(&cfg.rules[r].params, st, &e, A.v.now_ms, A.v.account_id, cfg.rules[r].name,
                 silenced, st, &tr);
    if (e_out)
        *e_out = e;
    if (t && tr.emit != CW_EMIT_NONE) {
        if (tr.publish)
            t->published++;
        if (tr.emit == CW_EMIT_FIRING) {
            t->firing++;
            t->fired_at = A.v.now_ms;
            if (!t->first_id[0])
                memcpy(t->first_id, tr.alert_id, sizeof t->first_id);
        } else if (tr.emit == CW_EMIT_REMINDER) {
            t->reminder++;
        } else {
            t->resolved++;
            t->resolved_at = A.v.now_ms;
        }
        memcpy(t->last_id, tr.alert_id, sizeof t->last_id);
    }
    return tr.emit;
}

TestSuite(rules, .init = setup_config);

/* ---- score_below ---------------------------------------------------------------------- */

Test(rules, score_below_fires_once_and_resolves_once_with_hysteresis)
{
    static const double series[] = {60, 50, 41, 39, 35, 38, 42, 44, 41, 44.9, 39, 45, 50, 44, 41};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        acct_at((int64_t)(DAY0 + (int32_t)i) * DAY + 9 * HOUR);
        set_score(series[i]);
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_HEALTH, &st, false, &t, &e);
        if (i == 3) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert_str_eq(e.reason, "health score 39 fell below 40");
            cr_assert_float_eq(e.value, 39.0, 1e-9);
            cr_assert_float_eq(e.threshold, 40.0, 1e-9);
        }
        if (i == 11) {
            cr_assert_eq(em, CW_EMIT_RESOLVED);
            cr_assert_str_eq(e.reason, "health score 45 recovered to at least 45");
        }
    }
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
    cr_assert_eq(t.published, 2);
    cr_assert_str_eq(t.first_id, t.last_id, "resolved carries the episode's id");
    char want[CW_ALERT_ID_LEN + 1];
    cw_alert_id("acme", "health_low", (int64_t)(DAY0 + 3) * DAY + 9 * HOUR, want);
    cr_assert_str_eq(t.first_id, want);
    cr_assert_eq(st.status, CW_RULE_OK);
}

Test(rules, score_oscillating_between_enter_and_exit_emits_nothing_after_firing)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    set_score(30);
    step_rule(R_HEALTH, &st, false, &t, NULL);
    cr_assert_eq(t.firing, 1);
    for (int i = 1; i <= 500; i++) {
        acct_at(A.v.now_ms + 5 * 60 * CW_MS_PER_SECOND);
        set_score(i % 2 ? 39.99 : 44.99); /* either side of enter, below exit */
        cr_assert_eq(step_rule(R_HEALTH, &st, false, &t, NULL), CW_EMIT_NONE, "step %d", i);
    }
    cr_assert_eq(st.status, CW_RULE_FIRING);
    cr_assert_eq(t.firing + t.resolved + t.reminder, 1);
}

Test(rules, score_between_thresholds_never_fires_from_ok)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    for (int i = 0; i < 100; i++) {
        acct_at(A.v.now_ms + HOUR);
        set_score(i % 2 ? 40.0 : 44.99);
        step_rule(R_HEALTH, &st, false, &t, NULL);
    }
    cr_assert_eq(t.firing, 0);
    cr_assert_eq(st.status, CW_RULE_OK);
}

Test(rules, score_below_without_score_is_not_evaluable)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    A.score.has_score = false;
    A.score.score = 0; /* would hold if it were looked at */
    eval_rule(R_HEALTH, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
    cr_assert_not(e.has_value);
    set_score(NAN);
    eval_rule(R_HEALTH, false, &e);
    cr_assert_not(e.evaluable, "a NaN score is never compared");
    cr_assert_not(e.holds);
}

/* ---- score_drop ----------------------------------------------------------------------- */

static void history_add(int32_t day, double score)
{
    A.history[A.n_history].day = day;
    A.history[A.n_history].score = score;
    A.n_history++;
}

Test(rules, score_drop_fires_once_and_resolves_once)
{
    /* 70 for ten days, then 55: a drop of 15 against the score 7 days earlier, until the
     * reference day itself reaches the lower score. */
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    for (int d = 0; d < 30; d++) {
        double s = d < 10 ? 70 : 55;
        acct_at((int64_t)(DAY0 + d) * DAY + 9 * HOUR);
        set_score(s);
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_DROP, &st, false, &t, &e);
        if (d < 7)
            cr_assert_not(e.evaluable, "day %d: no score from 7 days ago yet", d);
        if (d == 10) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert(e.has_previous_score);
            cr_assert_float_eq(e.previous_score, 70.0, 1e-9);
            cr_assert_float_eq(e.value, 15.0, 1e-9);
            cr_assert_float_eq(e.threshold, 10.0, 1e-9);
            cr_assert_str_eq(e.reason,
                             "health score fell 15 points in 7 days (70 to 55; rule: 10)");
        }
        if (d == 17) {
            cr_assert_eq(em, CW_EMIT_RESOLVED);
            cr_assert_str_eq(e.reason, "health score changed by 0 points in 7 days (55 to 55), "
                                       "not a drop of 5");
        }
        history_add(DAY0 + d, s); /* the day's last score */
    }
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
    cr_assert_str_eq(t.first_id, t.last_id);
}

Test(rules, score_drop_hysteresis_uses_exit_points)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    history_add(DAY0 - 7, 60);
    set_score(53); /* drop 7: below points (10), above exit_points (5) */
    eval_rule(R_DROP, false, &e);
    cr_assert(e.evaluable);
    cr_assert_not(e.holds);
    eval_rule(R_DROP, true, &e);
    cr_assert(e.holds);
    cr_assert_float_eq(e.threshold, 10.0, 1e-9, "the reported threshold is points");
    set_score(56); /* drop 4 */
    eval_rule(R_DROP, true, &e);
    cr_assert_not(e.holds);
}

Test(rules, score_drop_reference_day_falls_back_at_most_over_days_earlier)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    set_score(40);
    history_add(DAY0 - 12, 90); /* older than the nearest earlier point */
    history_add(DAY0 - 9, 60);  /* 2 days before the reference day: the score then */
    history_add(DAY0 - 6, 45);  /* later than the reference day: never used */
    history_add(DAY0, 40);
    eval_rule(R_DROP, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.previous_score, 60.0, 1e-9);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason, "health score fell 20 points in 9 days (60 to 40; rule: 10)");

    /* a score from a quiet spell still stands for the reference day, up to `over` (7
     * days) before it */
    A.n_history = 0;
    history_add(DAY0 - 14, 70);
    history_add(DAY0 - 6, 45);
    eval_rule(R_DROP, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.previous_score, 70.0, 1e-9);

    A.n_history = 0;
    history_add(DAY0 - 15, 60); /* 8 days before the reference day: too old */
    history_add(DAY0 - 6, 45);
    eval_rule(R_DROP, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.has_previous_score);
    cr_assert_str_eq(e.reason, "no health score kept from 7d ago to compare with");
}

Test(rules, score_drop_needs_a_current_score)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    history_add(DAY0 - 7, 90);
    A.score.has_score = false;
    eval_rule(R_DROP, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
}

Test(rules, score_drop_over_rounds_up_to_whole_days)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    rules[R_DROP].params.over_ms = 36 * HOUR; /* compares with 2 days ago */
    history_add(DAY0 - 2, 80);
    history_add(DAY0 - 1, 50);
    set_score(50);
    eval_rule(R_DROP, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.previous_score, 80.0, 1e-9);
    cr_assert(e.holds);
}

/* ---- inactive ------------------------------------------------------------------------- */

Test(rules, inactive_fires_once_when_silent_and_resolves_on_activity)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    int64_t last = (int64_t)DAY0 * DAY + 9 * HOUR;
    A.v.last_seen_ms = last;
    /* The periodic sweep every 6 hours for 30 days; activity returns on day 20. */
    for (int64_t now = last; now <= last + 30 * DAY; now += 6 * HOUR) {
        acct_at(now);
        if (now == last + 20 * DAY)
            A.v.last_seen_ms = now - HOUR;
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_SILENT, &st, false, &t, &e);
        if (em == CW_EMIT_FIRING) {
            cr_assert_eq(now, last + 14 * DAY);
            cr_assert_str_eq(e.reason, "no activity for 14 days (rule: 14d)");
            cr_assert_float_eq(e.value, 14.0, 1e-9);
            cr_assert_float_eq(e.threshold, 14.0, 1e-9);
        }
    }
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
    cr_assert_eq(t.resolved_at, last + 20 * DAY);
    cr_assert_str_eq(t.first_id, t.last_id);
}

Test(rules, inactive_with_types_counts_only_those_types)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 20, DAY0);
    A.v.last_seen_ms = A.v.now_ms - HOUR; /* busy with other things */
    A.type_last[T_APP] = A.v.now_ms - HOUR;
    A.type_last[T_LOGIN] = A.v.now_ms - 15 * DAY - 2 * HOUR;
    eval_rule(R_SILENT_LOGIN, false, &e);
    cr_assert(e.evaluable);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason, "no login for 15 days (rule: 14d)");
    eval_rule(R_SILENT, false, &e);
    cr_assert(e.evaluable);
    cr_assert_not(e.holds, "any-type rule sees the app event");
}

Test(rules, inactive_type_never_seen_counts_from_first_seen_day)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 20, DAY0);
    A.v.last_seen_ms = A.v.now_ms - HOUR;
    eval_rule(R_SILENT_LOGIN, false, &e);
    cr_assert(e.evaluable);
    cr_assert(e.holds);
    cr_assert_float_eq(e.value, 20.0, 1e-9);
    cr_assert_str_eq(e.reason, "no login since first seen 20 days ago (rule: 14d)");
    acct_init(DAY0 - 10, DAY0);
    eval_rule(R_SILENT_LOGIN, false, &e);
    cr_assert(e.evaluable);
    cr_assert_not(e.holds);
}

Test(rules, inactive_account_never_seen_is_not_evaluable)
{
    struct cw_rule_eval e;
    acct_init(CW_DAY_NONE, DAY0);
    eval_rule(R_SILENT, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
    eval_rule(R_SILENT_LOGIN, false, &e);
    cr_assert_not(e.evaluable);
}

Test(rules, inactive_event_ahead_of_the_clock_is_zero_silence)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 20, DAY0);
    A.v.last_seen_ms = A.v.now_ms + 10 * 60 * CW_MS_PER_SECOND;
    eval_rule(R_SILENT, false, &e);
    cr_assert(e.evaluable);
    cr_assert_not(e.holds);
    cr_assert_float_eq(e.value, 0.0, 1e-12);
}

Test(rules, inactive_lists_several_types_in_the_reason)
{
    static int three[] = {T_LOGIN, T_APP, T_RECORD};
    struct cw_rule_eval e;
    rules[R_SILENT_LOGIN].types = three;
    rules[R_SILENT_LOGIN].n_types = 3;
    rules[R_SILENT_LOGIN].params.after_ms = 36 * HOUR;
    acct_init(DAY0 - 20, DAY0);
    A.type_last[T_RECORD] = A.v.now_ms - 40 * HOUR;
    eval_rule(R_SILENT_LOGIN, false, &e);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason, "no login, app_created or record_written for 1 day (rule: 36h)");
}

/* ---- onboarding ----------------------------------------------------------------------- */

Test(rules, onboarding_fires_when_milestone_overdue_and_resolves_when_seen)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0, DAY0);
    A.traits.has_created_at = true;
    A.traits.created_at_ms = (int64_t)DAY0 * DAY + 9 * HOUR;
    for (int d = 0; d <= 40; d++) {
        acct_at((int64_t)(DAY0 + d) * DAY + 9 * HOUR);
        if (d == 35)
            A.type_last[T_APP] = A.v.now_ms - HOUR;
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_ONBOARD, &st, false, &t, &e);
        cr_assert(e.evaluable, "day %d: %s", d, e.reason);
        if (d == 10)
            cr_assert_str_eq(e.reason,
                             "first app_created not seen yet, due 20 days after created_at "
                             "(rule: 30d)");
        if (d == 30) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert_str_eq(e.reason,
                             "first app_created not seen 30 days after created_at (rule: 30d)");
            cr_assert_float_eq(e.value, 30.0, 1e-9);
            cr_assert_float_eq(e.threshold, 30.0, 1e-9);
        }
        if (d == 35) {
            cr_assert_eq(em, CW_EMIT_RESOLVED);
            cr_assert_str_eq(e.reason, "app_created seen");
        }
    }
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
    cr_assert_str_eq(t.first_id, t.last_id);
}

Test(rules, onboarding_milestone_reached_in_time_never_fires)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0, DAY0);
    A.traits.has_created_at = true;
    A.traits.created_at_ms = (int64_t)DAY0 * DAY;
    for (int d = 0; d <= 60; d++) {
        acct_at((int64_t)(DAY0 + d) * DAY + 9 * HOUR);
        if (d == 3)
            A.type_last[T_APP] = A.v.now_ms;
        step_rule(R_ONBOARD, &st, false, &t, NULL);
    }
    cr_assert_eq(t.firing + t.resolved, 0);
}

Test(rules, onboarding_without_created_at_is_not_evaluable)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    eval_rule(R_ONBOARD, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
    cr_assert_str_eq(e.reason, "created_at unknown");
}

Test(rules, onboarding_not_judged_for_accounts_first_seen_after_the_deadline)
{
    /* A fresh install: created long ago, first event seen only now. */
    struct cw_rule_eval e;
    acct_init(DAY0, DAY0);
    A.traits.has_created_at = true;
    A.traits.created_at_ms = (int64_t)(DAY0 - 200) * DAY;
    eval_rule(R_ONBOARD, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
    /* Seen since the day it was due: judged. */
    acct_init(DAY0 - 170, DAY0);
    A.traits.has_created_at = true;
    A.traits.created_at_ms = (int64_t)(DAY0 - 200) * DAY;
    eval_rule(R_ONBOARD, false, &e);
    cr_assert(e.evaluable);
    cr_assert(e.holds);
}

Test(rules, onboarding_first_seen_about_the_due_day_does_not_flap)
{
    /* Regression (found by tests/faults): created at 11:00, due 30 days later at 11:00,
     * first seen the day after the due day. The first-seen guard, judged with whole days
     * elapsed against local days, said "judge" before 11:00 and "not judged" after it,
     * every day: the episode fired in the morning and resolved at noon, daily. */
    struct cw_rule_state st = {0};
    struct tally t = {0};
    int32_t due_day = DAY0 - 40;
    acct_init(due_day + 1, DAY0);
    A.traits.has_created_at = true;
    A.traits.created_at_ms = (int64_t)(due_day - 30) * DAY + 11 * HOUR;
    for (int32_t d = due_day + 1; d <= DAY0; d++) {
        static const int hours[] = {9, 10, 12, 18};
        for (size_t h = 0; h < sizeof hours / sizeof hours[0]; h++) {
            acct_at((int64_t)d * DAY + hours[h] * HOUR);
            step_rule(R_ONBOARD, &st, false, &t, NULL);
        }
    }
    cr_assert_leq(t.firing, 1);
    cr_assert_eq(t.resolved, 0, "resolved %d times without the milestone", t.resolved);
    /* the milestone seen: resolved once */
    A.type_last[T_APP] = A.v.now_ms;
    acct_at(A.v.now_ms + HOUR);
    step_rule(R_ONBOARD, &st, false, &t, NULL);
    cr_assert_eq(t.resolved, t.firing);
}

/* ---- ratio_below ---------------------------------------------------------------------- */

static void set_users(int active, int32_t day)
{
    A.v.n_users = 60;
    for (int i = 0; i < 60; i++)
        A.users[i] = i < active ? day : day - 40; /* the others left the window */
}

Test(rules, ratio_below_seat_use_fires_once_and_resolves_once)
{
    static const int active[] = {30, 20, 2, 10, 16, 17, 15, 18, 20, 16};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    A.traits.has_seats = true;
    A.traits.seats = 50;
    for (size_t i = 0; i < sizeof active / sizeof active[0]; i++) {
        acct_at((int64_t)(DAY0 + (int32_t)i) * DAY + 9 * HOUR);
        set_users(active[i], A.v.today);
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_SEATS, &st, false, &t, &e);
        cr_assert(e.evaluable);
        if (i == 2) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert_str_eq(e.reason, "2 of 50 seats active over long (28d) = 0.04 < 0.3");
            cr_assert_float_eq(e.value, 0.04, 1e-12);
            cr_assert_float_eq(e.threshold, 0.3, 1e-12);
        }
        if (i == 7) {
            cr_assert_eq(em, CW_EMIT_RESOLVED, "0.36 >= exit 0.35");
            cr_assert_str_eq(e.reason,
                             "18 of 50 seats active over long (28d) = 0.36 >= 0.35 (exit)");
        }
    }
    cr_assert_eq(t.firing, 1, "0.32 and 0.34 lie between enter and exit");
    cr_assert_eq(t.resolved, 1);
}

Test(rules, ratio_below_per_seat_needs_seats)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    set_users(0, DAY0);
    eval_rule(R_SEATS, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_str_eq(e.reason, "seats unknown");
    A.traits.has_seats = true;
    A.traits.seats = 0;
    eval_rule(R_SEATS, false, &e);
    cr_assert_not(e.evaluable, "zero seats is not a ratio");
    cr_assert_not(e.holds);
}

/* ---- opportunities ------------------------------------------------------------------- */

Test(rules, score_above_fires_once_and_resolves_once_with_hysteresis)
{
    static const double scores[] = {75, 81, 79, 72, 70, 85};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
        acct_at((int64_t)(DAY0 + (int32_t)i) * DAY + 9 * HOUR);
        set_score(scores[i]);
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_CHAMPION, &st, false, &t, &e);
        cr_assert(e.evaluable);
        if (i == 0)
            cr_assert_str_eq(e.reason, "health score 75 is not above 80");
        if (i == 1) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert_str_eq(e.reason, "health score 81 rose above 80");
            cr_assert_float_eq(e.threshold, 80, 1e-12);
        }
        if (i == 2 || i == 3) {
            cr_assert_eq(em, CW_EMIT_NONE, "between exit and enter: still firing");
            cr_assert(e.holds);
        }
        if (i == 3)
            cr_assert_str_eq(e.reason, "health score 72 is still above 70 (fired above 80)");
        if (i == 4) {
            cr_assert_eq(em, CW_EMIT_RESOLVED);
            cr_assert_str_eq(e.reason, "health score 70 fell back to at most 70");
        }
    }
    cr_assert_eq(t.firing, 2, "fired at 81, again at 85");
    cr_assert_eq(t.resolved, 1);
}

Test(rules, ratio_above_seats_nearly_all_used_fires_and_resolves)
{
    static const int active[] = {40, 46, 44, 41, 39};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    A.traits.has_seats = true;
    A.traits.seats = 50;
    for (size_t i = 0; i < sizeof active / sizeof active[0]; i++) {
        acct_at((int64_t)(DAY0 + (int32_t)i) * DAY + 9 * HOUR);
        set_users(active[i], A.v.today);
        struct cw_rule_eval e;
        enum cw_emit em = step_rule(R_EXPAND, &st, false, &t, &e);
        cr_assert(e.evaluable);
        if (i == 1) {
            cr_assert_eq(em, CW_EMIT_FIRING);
            cr_assert_str_eq(e.reason, "46 of 50 seats active over long (28d) = 0.92 > 0.9");
        }
        if (i == 4) {
            cr_assert_eq(em, CW_EMIT_RESOLVED, "0.78 <= exit 0.8");
            cr_assert_str_eq(e.reason,
                             "39 of 50 seats active over long (28d) = 0.78 <= 0.8 (exit)");
        }
    }
    cr_assert_eq(t.firing, 1, "0.88 and 0.82 lie between exit and enter");
    cr_assert_eq(t.resolved, 1);
}

/* ---- children_at_risk (a parent's rule) ---------------------------------------------- */

Test(rules, children_at_risk_fires_at_two_children_below_and_names_them_lowest_first)
{
    static const char *const ids[] = {"acme-apac", "acme-eu", "acme-us", "acme-new"};
    struct cw_rollup_child ch[] = {
        {.has_score = true, .score = 72},
        {.has_score = true, .score = 39.5},
        {.has_score = true, .score = 55},
        {.has_score = false},
    };
    struct cw_children kids = {.n = 4, .ids = ids, .child = ch};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    struct cw_rule_eval e;
    acct_init(CW_DAY_NONE, DAY0); /* a parent with no events of its own: no score */
    A.children = &kids;
    cr_assert_eq(step_rule(R_CHILDREN, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert(e.evaluable && !e.holds);
    cr_assert_float_eq(e.value, 1, 1e-12);
    cr_assert_float_eq(e.threshold, 2, 1e-12);
    cr_assert_str_eq(e.reason, "1 of 3 children below 40 (fires at 2)",
                     "the unscored child is not counted");

    ch[2].score = 31; /* acme-us declines */
    cr_assert_eq(step_rule(R_CHILDREN, &st, false, &t, &e), CW_EMIT_FIRING);
    cr_assert_str_eq(e.reason, "2 of 3 children below 40: acme-us (31), acme-eu (39.5)");
    cr_assert_float_eq(e.value, 2, 1e-12);

    ch[0].score = 31; /* a tie at 31: by id; while firing a child counts below exit (50) */
    ch[3] = (struct cw_rollup_child){.has_score = true, .score = 45};
    cr_assert_eq(step_rule(R_CHILDREN, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert_str_eq(e.reason, "4 of 4 children below 50 (exit): acme-apac (31), acme-us (31), "
                               "acme-eu (39.5), acme-new (45)");

    ch[0].score = 80;
    ch[1].score = 50; /* at exit: no longer at risk */
    ch[2].score = 48; /* above enter, below exit: still at risk */
    cr_assert_eq(step_rule(R_CHILDREN, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert_str_eq(e.reason, "2 of 4 children below 50 (exit): acme-new (45), acme-us (48)");

    ch[3].score = 60;
    cr_assert_eq(step_rule(R_CHILDREN, &st, false, &t, &e), CW_EMIT_RESOLVED);
    cr_assert_str_eq(e.reason, "1 of 4 children below 50 (exit) (fires at 2)");
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
}

Test(rules, children_at_risk_without_children_or_scores_is_not_evaluable)
{
    static const char *const ids[] = {"a", "b"};
    struct cw_rollup_child ch[] = {{.has_score = false}, {.has_score = false}};
    struct cw_children kids = {.n = 2, .ids = ids, .child = ch};
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    set_score(10);
    eval_rule(R_CHILDREN, false, &e);
    cr_assert(!e.evaluable && !e.holds, "an account without children");
    cr_assert_str_eq(e.reason, "no children");
    A.children = &kids;
    eval_rule(R_CHILDREN, true, &e);
    cr_assert(!e.evaluable && !e.holds, "no child has a score: not holding, even while firing");
    cr_assert_str_eq(e.reason, "none of 2 children has a health score");
}

Test(rules, children_at_risk_reason_keeps_whole_names_when_the_list_is_long)
{
    enum { K = 40 };
    static char names[K][48];
    static const char *ids[K];
    struct cw_rollup_child ch[K];
    for (size_t i = 0; i < K; i++) {
        snprintf(names[i], sizeof names[i], "subsidiary-with-a-long-name-%02zu", i);
        ids[i] = names[i];
        ch[i] = (struct cw_rollup_child){.has_score = true, .score = 10 + (double)i / 2};
    }
    struct cw_children kids = {.n = K, .ids = ids, .child = ch};
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    A.children = &kids;
    eval_rule(R_CHILDREN, false, &e);
    cr_assert(e.holds);
    cr_assert_float_eq(e.value, K, 1e-12);
    const char *head = "40 of 40 children below 40: subsidiary-with-a-long-name-00 (10), "
                       "subsidiary-with-a-long-name-01 (10.5)";
    cr_assert(strncmp(e.reason, head, strlen(head)) == 0, "got %s", e.reason);
    size_t len = strlen(e.reason);
    cr_assert(len < sizeof e.reason);
    cr_assert(len > 5 && strcmp(e.reason + len - 5, ", ...") == 0, "cut after a whole name: %s",
              e.reason);
}

/* ---- renewal ------------------------------------------------------------------------- */

Test(rules, renewal_fires_inside_the_window_with_a_low_score_and_resolves_with_hysteresis)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    struct cw_rule_eval e;
    acct_init(DAY0 - 400, DAY0);
    A.traits.has_renewal_at = true;
    A.traits.renewal_at_ms = (int64_t)(DAY0 + 120) * DAY + 9 * HOUR; /* 120 days ahead */
    set_score(40);
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert(e.evaluable && !e.holds, "120 days ahead is beyond 90d");
    cr_assert_str_eq(e.reason, "renewal in 120 days, beyond 90d");

    acct_at((int64_t)(DAY0 + 30) * DAY + 9 * HOUR); /* 90 days left: inside */
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_FIRING);
    cr_assert_str_eq(e.reason, "renewal in 90 days (within 90d) with health score 40 below 50");
    cr_assert_float_eq(e.value, 40, 1e-12);
    cr_assert_float_eq(e.threshold, 50, 1e-12);

    acct_at((int64_t)(DAY0 + 40) * DAY + 9 * HOUR);
    set_score(55); /* above enter, below exit: still firing */
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason,
                     "renewal in 80 days (within 90d) with health score 55 below 60 (exit)");
    set_score(61);
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_RESOLVED);
    cr_assert_str_eq(e.reason,
                     "renewal in 80 days (within 90d) with health score 61 at least 60 (exit)");
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
}

Test(rules, renewal_clears_once_the_date_has_passed)
{
    struct cw_rule_state st = {0};
    struct tally t = {0};
    struct cw_rule_eval e;
    acct_init(DAY0 - 400, DAY0);
    A.traits.has_renewal_at = true;
    A.traits.renewal_at_ms = (int64_t)(DAY0 + 10) * DAY + 9 * HOUR;
    set_score(20);
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_FIRING);
    acct_at((int64_t)(DAY0 + 12) * DAY + 9 * HOUR); /* renewed (or lost) two days ago */
    cr_assert_eq(step_rule(R_RENEWAL, &st, false, &t, &e), CW_EMIT_RESOLVED);
    cr_assert(e.evaluable && !e.holds);
    cr_assert_str_eq(e.reason, "renewal date passed 2 days ago");
}

Test(rules, renewal_needs_a_date_and_a_score)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 400, DAY0);
    set_score(10);
    eval_rule(R_RENEWAL, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_str_eq(e.reason, "renewal date unknown");
    A.traits.has_renewal_at = true;
    A.traits.renewal_at_ms = (int64_t)(DAY0 + 10) * DAY;
    A.score.has_score = false;
    eval_rule(R_RENEWAL, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_str_eq(e.reason, "no health score (no measure can be computed)");
}

Test(rules, ratio_below_distinct_users_need_the_whole_window)
{
    struct cw_rule_eval e;
    acct_init(DAY0 - 26, DAY0); /* 27 of 28 days observed */
    A.traits.has_seats = true;
    A.traits.seats = 50;
    set_users(1, DAY0);
    eval_rule(R_SEATS, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_not(e.holds);
    cr_assert_str_eq(e.reason, "window long (28d) observed for 27 of the 28 days needed");
    acct_init(DAY0 - 27, DAY0);
    A.traits.has_seats = true;
    A.traits.seats = 50;
    set_users(1, DAY0);
    eval_rule(R_SEATS, false, &e);
    cr_assert(e.evaluable);
    cr_assert(e.holds);
}

Test(rules, ratio_below_counts_are_scaled_to_the_observed_span)
{
    struct cw_rule_eval e;
    uint32_t *row = A.daily + M_RECORDS * HORIZON;
    acct_init(DAY0 - 1, DAY0); /* 2 days observed < min_observed_days 3 */
    row[0] = 1;
    row[1] = 1;
    eval_rule(R_RECORDS, false, &e);
    cr_assert_not(e.evaluable);
    cr_assert_str_eq(e.reason, "window short (7d) observed for 2 of the 3 days needed");

    acct_init(DAY0 - 2, DAY0); /* 3 days observed: 3 records scale to 7 over 7 days */
    row[0] = 1;
    row[1] = 1;
    row[2] = 1;
    eval_rule(R_RECORDS, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.value, 7.0, 1e-9);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason, "records over short (7d, scaled) = 7 < 10");

    acct_init(DAY0 - 30, DAY0); /* whole window, 11 records: not below 10 */
    for (int i = 0; i < 7; i++)
        row[i] = i < 4 ? 2 : 1;
    row[10] = 100; /* outside the window */
    eval_rule(R_RECORDS, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.value, 11.0, 1e-9);
    cr_assert_not(e.holds);
    eval_rule(R_RECORDS, true, &e);
    cr_assert(e.holds, "11 < exit 12 while firing");
    cr_assert_str_eq(e.reason, "records over short (7d) = 11 < 12 (exit)");
}

Test(rules, ratio_below_per_seat_count_metric)
{
    struct cw_rule_eval e;
    rules[R_RECORDS].per_seat = true;
    rules[R_RECORDS].params.enter = 1;
    rules[R_RECORDS].params.exit = 1.5;
    acct_init(DAY0 - 30, DAY0);
    A.traits.has_seats = true;
    A.traits.seats = 20;
    A.daily[M_RECORDS * HORIZON] = 10;
    eval_rule(R_RECORDS, false, &e);
    cr_assert(e.evaluable);
    cr_assert_float_eq(e.value, 0.5, 1e-12);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason, "records over short (7d) = 10 per seat (20 seats) = 0.5 < 1");
}

/* ---- the state machine ---------------------------------------------------------------- */

static struct cw_rule_eval holding(bool holds)
{
    struct cw_rule_eval e;
    memset(&e, 0, sizeof e);
    e.evaluable = true;
    e.holds = holds;
    return e;
}

struct machine {
    struct cw_rule_params p;
    struct cw_rule_state st;
    struct tally t;
};

static enum cw_emit mstep(struct machine *m, bool holds, int64_t now, bool silenced,
                          struct cw_transition *tr_out)
{
    struct cw_rule_eval e = holding(holds);
    struct cw_transition tr;
    cw_rule_step(&m->p, &m->st, &e, now, "acme", "health_low", silenced, &m->st, &tr);
    if (tr_out)
        *tr_out = tr;
    if (tr.emit == CW_EMIT_FIRING)
        m->t.firing++;
    else if (tr.emit == CW_EMIT_REMINDER)
        m->t.reminder++;
    else if (tr.emit == CW_EMIT_RESOLVED)
        m->t.resolved++;
    if (tr.emit != CW_EMIT_NONE && tr.publish)
        m->t.published++;
    return tr.emit;
}

#define T0 ((int64_t)DAY0 * DAY)

/* ---- further conditions (when) --------------------------------------------------------- */

/* health_low with "attended: records over short > 0" (what the kintone team calls an
 * engaged account going wrong: it still works with the product, yet its score is low). */
Test(rules, a_further_condition_must_hold_too_and_is_explained)
{
    struct cw_condition when[] = {
        {.subject = CW_COND_METRIC,
         .above = true,
         .value = 0,
         .metric = M_RECORDS,
         .window = W_SHORT},
    };
    rules[R_HEALTH].when = when;
    rules[R_HEALTH].n_when = 1;
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    set_score(30);
    eval_rule(R_HEALTH, false, &e);
    cr_assert(e.evaluable);
    cr_assert_not(e.holds, "no record this week");
    cr_assert_str_eq(e.reason,
                     "health score 30 fell below 40; but records over short (7d) = 0, not > 0");
    A.daily[M_RECORDS * HORIZON + 6] = 3; /* six days ago: inside the week */
    eval_rule(R_HEALTH, false, &e);
    cr_assert(e.holds);
    cr_assert_str_eq(e.reason,
                     "health score 30 fell below 40; and records over short (7d) = 3 > 0");
    cr_assert_float_eq(e.value, 30.0, 1e-9, "the value is the kind's own");
    /* The kind's condition decides first: no further text when it does not hold. */
    set_score(60);
    eval_rule(R_HEALTH, false, &e);
    cr_assert_not(e.holds);
    cr_assert_str_eq(e.reason, "health score 60 is not below 40");
}

Test(rules, every_further_condition_kind)
{
    static const char *stages_onb[] = {"onboarding"}, *grades_cd[] = {"C", "D"};
    struct {
        struct cw_condition c;
        bool holds;
        const char *text;
    } cases[] = {
        {{.subject = CW_COND_SCORE, .above = false, .value = 50}, true, "health score 30 < 50"},
        {{.subject = CW_COND_SCORE, .above = true, .value = 50},
         false,
         "health score 30, not > 50"},
        {{.subject = CW_COND_GRADE, .names = {(char **)grades_cd, 2}}, true, "grade D in C, D"},
        {{.subject = CW_COND_STAGE, .names = {(char **)stages_onb, 1}},
         true,
         "stage onboarding in onboarding"},
        {{.subject = CW_COND_METRIC,
          .above = false,
          .value = 0.5,
          .metric = M_USERS,
          .window = W_LONG,
          .per_seat = true},
         true,
         "active_users over long (28d) per seat = 0.4 < 0.5"},
        {{.subject = CW_COND_METRIC,
          .above = true,
          .value = 1,
          .metric = M_LOGINS,
          .window = W_LONG},
         true,
         "logins over long (28d) = 12 > 1"},
    };
    acct_init(DAY0 - 100, DAY0);
    set_score(30);
    A.score.stage = "onboarding";
    A.traits.has_seats = true;
    A.traits.seats = 10;
    for (int i = 0; i < 4; i++)
        A.users[A.v.n_users++] = DAY0 - 3;
    A.daily[M_LOGINS * HORIZON + 20] = 12;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rules[R_HEALTH].when = &cases[i].c;
        rules[R_HEALTH].n_when = 1;
        char text[256];
        bool holds = cw_rule_conditions_hold(
            &cfg, R_HEALTH, &(struct cw_rule_facts){.account = &A.v, .score = &A.score}, text,
            sizeof text);
        cr_expect_eq(holds, cases[i].holds, "case %zu: %s", i, text);
        cr_expect_str_eq(text, cases[i].text, "case %zu", i);
    }
    /* Missing data never holds: no stage, no seats, no score. */
    A.score.stage = "";
    rules[R_HEALTH].when = &cases[3].c;
    char text[256];
    struct cw_rule_facts f = {.account = &A.v, .score = &A.score};
    cr_expect_not(cw_rule_conditions_hold(&cfg, R_HEALTH, &f, text, sizeof text));
    cr_expect_str_eq(text, "stage (none) not in onboarding");
    A.traits.has_seats = false;
    rules[R_HEALTH].when = &cases[4].c;
    cr_expect_not(cw_rule_conditions_hold(&cfg, R_HEALTH, &f, text, sizeof text));
    A.score.has_score = false;
    rules[R_HEALTH].when = &cases[2].c;
    cr_expect_not(cw_rule_conditions_hold(&cfg, R_HEALTH, &f, text, sizeof text));
    /* All of several must hold; the text names the first that does not. */
    set_score(30);
    struct cw_condition two[] = {cases[0].c, cases[1].c};
    rules[R_HEALTH].when = two;
    rules[R_HEALTH].n_when = 2;
    cr_expect_not(cw_rule_conditions_hold(&cfg, R_HEALTH, &f, text, sizeof text));
    cr_expect_str_eq(text, "health score 30, not > 50");
    two[1] = cases[5].c;
    cr_expect(cw_rule_conditions_hold(&cfg, R_HEALTH, &f, text, sizeof text));
    cr_expect_str_eq(text, "health score 30 < 50; logins over long (28d) = 12 > 1");
}

/* A further condition that stops holding clears a firing rule like its own condition would:
 * keep_firing_for, then one resolved alert; it fires again as one new episode. */
Test(rules, a_further_condition_clearing_resolves_the_episode)
{
    struct cw_condition when[] = {
        {.subject = CW_COND_METRIC,
         .above = true,
         .value = 0,
         .metric = M_RECORDS,
         .window = W_SHORT},
    };
    rules[R_HEALTH].when = when;
    rules[R_HEALTH].n_when = 1;
    rules[R_HEALTH].params.keep_firing_ms = DAY;
    struct cw_rule_state st = {0};
    struct tally t = {0};
    acct_init(DAY0 - 100, DAY0);
    set_score(30);
    A.daily[M_RECORDS * HORIZON + 0] = 1; /* today */
    cr_assert_eq(step_rule(R_HEALTH, &st, false, &t, NULL), CW_EMIT_FIRING);
    /* Eight days on the record has left the week: cleared, kept firing one more day. */
    memmove(A.daily + M_RECORDS * HORIZON + 8, A.daily + M_RECORDS * HORIZON, sizeof A.daily[0]);
    A.daily[M_RECORDS * HORIZON] = 0;
    acct_at(A.v.now_ms + 8 * DAY);
    cr_assert_eq(step_rule(R_HEALTH, &st, false, &t, NULL), CW_EMIT_NONE);
    cr_assert_eq(st.status, CW_RULE_FIRING);
    acct_at(A.v.now_ms + DAY);
    cr_assert_eq(step_rule(R_HEALTH, &st, false, &t, NULL), CW_EMIT_RESOLVED);
    cr_assert_eq(t.firing, 1);
    cr_assert_eq(t.resolved, 1);
}

Test(state, pending_that_clears_before_for_emits_nothing)
{
    struct machine m = {.p = params()};
    m.p.for_ms = 2 * HOUR;
    cr_assert_eq(mstep(&m, true, T0, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.status, CW_RULE_PENDING);
    cr_assert_eq(m.st.since_ms, T0);
    cr_assert_eq(mstep(&m, true, T0 + HOUR, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(mstep(&m, false, T0 + 90 * 60 * CW_MS_PER_SECOND, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.status, CW_RULE_OK);
    /* Holding again restarts the wait from scratch. */
    cr_assert_eq(mstep(&m, true, T0 + 3 * HOUR, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(mstep(&m, true, T0 + 4 * HOUR, false, NULL), CW_EMIT_NONE);
    struct cw_transition tr;
    cr_assert_eq(mstep(&m, true, T0 + 5 * HOUR, false, &tr), CW_EMIT_FIRING);
    cr_assert(tr.publish);
    char want[CW_ALERT_ID_LEN + 1];
    cw_alert_id("acme", "health_low", T0 + 5 * HOUR, want);
    cr_assert_str_eq(tr.alert_id, want, "the episode starts when it fires");
    cr_assert_eq(m.st.since_ms, T0 + 5 * HOUR);
    cr_assert_eq(m.t.firing, 1);
}

Test(state, fires_at_once_without_for)
{
    struct machine m = {.p = params()};
    cr_assert_eq(mstep(&m, true, T0, false, NULL), CW_EMIT_FIRING);
    cr_assert_eq(m.st.status, CW_RULE_FIRING);
    cr_assert(m.st.published);
    cr_assert_eq(m.st.last_sent_ms, T0);
    cr_assert_eq(strlen(m.st.alert_id), CW_ALERT_ID_LEN);
}

Test(state, keep_firing_for_holds_then_resolves)
{
    struct machine m = {.p = params()};
    m.p.keep_firing_ms = DAY;
    struct cw_transition tr;
    mstep(&m, true, T0, false, &tr);
    char id[CW_ALERT_ID_LEN + 1];
    memcpy(id, tr.alert_id, sizeof id);
    int64_t t1 = T0 + 2 * DAY;
    cr_assert_eq(mstep(&m, false, t1, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.cleared_ms, t1);
    cr_assert_eq(mstep(&m, false, t1 + 12 * HOUR, false, NULL), CW_EMIT_NONE);
    /* The condition comes back: the clearance is forgotten. */
    cr_assert_eq(mstep(&m, true, t1 + 13 * HOUR, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.cleared_ms, 0);
    int64_t t2 = t1 + 20 * HOUR;
    cr_assert_eq(mstep(&m, false, t2, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(mstep(&m, false, t2 + DAY - 1, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.status, CW_RULE_FIRING);
    cr_assert_eq(mstep(&m, false, t2 + DAY, false, &tr), CW_EMIT_RESOLVED);
    cr_assert(tr.publish);
    cr_assert_str_eq(tr.alert_id, id);
    cr_assert_eq(m.st.status, CW_RULE_OK);
    cr_assert_eq(m.t.firing, 1);
    cr_assert_eq(m.t.resolved, 1);
}

Test(state, reminders_at_repeat_interval_with_the_same_id)
{
    struct machine m = {.p = params()};
    m.p.repeat_ms = DAY;
    struct cw_transition tr;
    mstep(&m, true, T0, false, &tr);
    char id[CW_ALERT_ID_LEN + 1];
    memcpy(id, tr.alert_id, sizeof id);
    int reminders = 0;
    for (int64_t now = T0 + HOUR; now <= T0 + 3 * DAY + 30 * 60 * CW_MS_PER_SECOND; now += HOUR) {
        if (mstep(&m, true, now, false, &tr) == CW_EMIT_REMINDER) {
            reminders++;
            cr_assert_eq(now, T0 + reminders * DAY);
            cr_assert_str_eq(tr.alert_id, id);
            cr_assert(tr.publish);
        } else {
            cr_assert_eq(tr.emit, CW_EMIT_NONE);
        }
    }
    cr_assert_eq(reminders, 3);
    cr_assert_eq(m.t.firing, 1);
    cr_assert_eq(mstep(&m, false, T0 + 4 * DAY, false, &tr), CW_EMIT_RESOLVED);
    cr_assert_str_eq(tr.alert_id, id);
}

Test(state, no_reminders_without_repeat_interval)
{
    struct machine m = {.p = params()};
    for (int64_t now = T0; now < T0 + 60 * DAY; now += 6 * HOUR)
        mstep(&m, true, now, false, NULL);
    cr_assert_eq(m.t.firing, 1);
    cr_assert_eq(m.t.reminder, 0);
}

Test(state, silenced_firing_is_recorded_and_published_when_the_silence_lifts)
{
    struct machine m = {.p = params()};
    m.p.repeat_ms = DAY;
    struct cw_transition tr;
    cr_assert_eq(mstep(&m, true, T0, true, &tr), CW_EMIT_FIRING);
    cr_assert_not(tr.publish);
    cr_assert_eq(m.st.status, CW_RULE_FIRING);
    cr_assert_not(m.st.published);
    char id[CW_ALERT_ID_LEN + 1];
    memcpy(id, tr.alert_id, sizeof id);
    /* No reminders and no repeats while silenced. */
    for (int64_t now = T0 + HOUR; now < T0 + 3 * DAY; now += HOUR)
        cr_assert_eq(mstep(&m, true, now, true, NULL), CW_EMIT_NONE);
    cr_assert_eq(mstep(&m, true, T0 + 3 * DAY, false, &tr), CW_EMIT_FIRING);
    cr_assert(tr.publish);
    cr_assert_str_eq(tr.alert_id, id, "the same episode, now published");
    cr_assert_eq(mstep(&m, true, T0 + 3 * DAY + HOUR, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(mstep(&m, true, T0 + 4 * DAY, false, &tr), CW_EMIT_REMINDER);
    cr_assert_eq(mstep(&m, false, T0 + 5 * DAY, false, &tr), CW_EMIT_RESOLVED);
    cr_assert(tr.publish);
    cr_assert_str_eq(tr.alert_id, id);
    cr_assert_eq(m.t.published, 3);
}

Test(state, episode_entirely_under_silence_publishes_nothing)
{
    struct machine m = {.p = params()};
    struct cw_transition tr;
    cr_assert_eq(mstep(&m, true, T0, true, &tr), CW_EMIT_FIRING);
    cr_assert_not(tr.publish);
    /* The silence lifts after the condition cleared: the resolution of an episode nobody
     * was told about stays unpublished. */
    cr_assert_eq(mstep(&m, false, T0 + DAY, false, &tr), CW_EMIT_RESOLVED);
    cr_assert_not(tr.publish);
    cr_assert_eq(m.t.published, 0);
    cr_assert_eq(m.st.status, CW_RULE_OK);
}

Test(state, resolution_of_a_published_episode_is_published_even_under_silence)
{
    struct machine m = {.p = params()};
    struct cw_transition tr;
    mstep(&m, true, T0, false, &tr);
    cr_assert(tr.publish);
    cr_assert_eq(mstep(&m, false, T0 + DAY, true, &tr), CW_EMIT_RESOLVED);
    cr_assert(tr.publish, "consumers must not be left with an open alert");
    cr_assert_eq(m.st.status, CW_RULE_OK);
}

Test(state, overdue_reminder_is_sent_when_the_silence_lifts)
{
    struct machine m = {.p = params()};
    m.p.repeat_ms = DAY;
    struct cw_transition tr;
    mstep(&m, true, T0, false, &tr);
    cr_assert_eq(mstep(&m, true, T0 + 2 * DAY, true, &tr), CW_EMIT_NONE);
    cr_assert_eq(m.st.last_sent_ms, T0);
    cr_assert_eq(mstep(&m, true, T0 + 2 * DAY + HOUR, false, &tr), CW_EMIT_REMINDER);
    cr_assert(tr.publish);
    cr_assert_eq(m.st.last_sent_ms, T0 + 2 * DAY + HOUR);
}

Test(state, not_evaluable_never_fires_and_counts_as_not_holding)
{
    struct cw_rule_params p = params();
    struct cw_rule_state st = {0};
    struct cw_transition tr;
    struct cw_rule_eval e = holding(true);
    e.evaluable = false; /* even with holds set by mistake */
    for (int64_t now = T0; now < T0 + 30 * DAY; now += HOUR) {
        cw_rule_step(&p, &st, &e, now, "acme", "r", false, &st, &tr);
        cr_assert_eq(tr.emit, CW_EMIT_NONE);
        cr_assert_eq(st.status, CW_RULE_OK);
    }
    /* A firing rule whose data disappears resolves. */
    struct cw_rule_eval yes = holding(true);
    cw_rule_step(&p, &st, &yes, T0 + 31 * DAY, "acme", "r", false, &st, &tr);
    cr_assert_eq(tr.emit, CW_EMIT_FIRING);
    cw_rule_step(&p, &st, &e, T0 + 32 * DAY, "acme", "r", false, &st, &tr);
    cr_assert_eq(tr.emit, CW_EMIT_RESOLVED);
}

/* A scripted run: the condition per hour, a silence window, and what came out. */
struct emitted {
    enum cw_emit emit;
    bool publish;
    int64_t at;
    char id[CW_ALERT_ID_LEN + 1];
};

static bool script_holds(int h)
{
    return (h >= 5 && h < 40) || (h >= 41 && h < 44) || (h >= 100 && h < 180) || h == 250;
}

/* Runs the script; with restart, every step reads its state back from bytes (as from the
 * store) and is then redelivered once with the stored result, which must emit nothing. */
static size_t run_script(bool restart, struct emitted *out, size_t max)
{
    struct cw_rule_params p = params();
    p.for_ms = 2 * HOUR;
    p.keep_firing_ms = 3 * HOUR;
    p.repeat_ms = 24 * HOUR;
    struct cw_rule_state st = {0};
    unsigned char stored[sizeof st];
    memcpy(stored, &st, sizeof st);
    size_t n = 0;
    for (int h = 0; h < 300; h++) {
        int64_t now = T0 + h * HOUR;
        struct cw_rule_eval e = holding(script_holds(h));
        bool silenced = h >= 120 && h < 130;
        struct cw_transition tr;
        if (restart) {
            struct cw_rule_state loaded;
            memcpy(&loaded, stored, sizeof loaded);
            cw_rule_step(&p, &loaded, &e, now, "acme", "health_low", silenced, &st, &tr);
            memcpy(stored, &st, sizeof st);
            /* A crash after the store write: the same step is redone from the new state. */
            struct cw_rule_state again;
            struct cw_transition tr2;
            cw_rule_step(&p, &st, &e, now, "acme", "health_low", silenced, &again, &tr2);
            cr_assert_eq(tr2.emit, CW_EMIT_NONE, "hour %d re-emitted %d", h, tr2.emit);
            cr_assert_eq(memcmp(&again, &st, sizeof st), 0, "hour %d: redelivery changed state", h);
        } else {
            cw_rule_step(&p, &st, &e, now, "acme", "health_low", silenced, &st, &tr);
        }
        if (tr.emit != CW_EMIT_NONE && n < max) {
            out[n].emit = tr.emit;
            out[n].publish = tr.publish;
            out[n].at = now;
            memcpy(out[n].id, tr.alert_id, sizeof out[n].id);
            n++;
        }
    }
    return n;
}

Test(state, replay_is_deterministic_and_restarts_never_re_emit)
{
    struct emitted a[64], b[64], c[64];
    size_t na = run_script(false, a, 64);
    size_t nb = run_script(false, b, 64);
    size_t nc = run_script(true, c, 64);
    cr_assert_eq(na, nb);
    cr_assert_eq(na, nc);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(a[i].emit, b[i].emit);
        cr_assert_eq(a[i].at, b[i].at);
        cr_assert_str_eq(a[i].id, b[i].id);
        cr_assert_eq(a[i].emit, c[i].emit);
        cr_assert_eq(a[i].publish, c[i].publish);
        cr_assert_str_eq(a[i].id, c[i].id);
    }
    /* Episode 1 fires at hour 7 (pending from 5), reminds at 31, bridges the 1-hour gap
     * at 40 (keep firing) and resolves 3 hours after 44. Episode 2 fires at 102; its
     * reminder due at 126 is held by the silence until 130, then every 24 hours; it
     * resolves at 183. The blip at 250 clears before `for`. */
    static const struct {
        enum cw_emit emit;
        int hour;
        int episode;
    } want[] = {
        {CW_EMIT_FIRING, 7, 0},     {CW_EMIT_REMINDER, 31, 0},  {CW_EMIT_RESOLVED, 47, 0},
        {CW_EMIT_FIRING, 102, 1},   {CW_EMIT_REMINDER, 130, 1}, {CW_EMIT_REMINDER, 154, 1},
        {CW_EMIT_REMINDER, 178, 1}, {CW_EMIT_RESOLVED, 183, 1},
    };
    cr_assert_eq(na, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(a[i].emit, want[i].emit, "event %zu", i);
        cr_assert_eq(a[i].at, T0 + want[i].hour * HOUR, "event %zu", i);
        cr_assert(a[i].publish, "event %zu", i);
        cr_assert_str_eq(a[i].id, a[want[i].episode == 0 ? 0 : 3].id, "event %zu", i);
    }
    cr_assert_neq(strcmp(a[0].id, a[3].id), 0, "each episode has its own id");
}

/* ---- alert ids ------------------------------------------------------------------------ */

Test(alert_id, is_32_lower_case_hex_and_stable)
{
    char a[CW_ALERT_ID_LEN + 1], b[CW_ALERT_ID_LEN + 1];
    cw_alert_id("acme", "health_low", INT64_C(1795338000000), a);
    cw_alert_id("acme", "health_low", INT64_C(1795338000000), b);
    cr_assert_eq(strlen(a), CW_ALERT_ID_LEN);
    cr_assert_eq(strspn(a, "0123456789abcdef"), CW_ALERT_ID_LEN);
    cr_assert_str_eq(a, b);
    /* Pinned: ids must not change across versions, or consumers stop de-duplicating
     * redeliveries that straddle an upgrade. */
    cr_assert_str_eq(a, "8e02c40933b19d786447e03976c46d05");
}

Test(alert_id, every_field_matters_and_strings_are_length_prefixed)
{
    char base[CW_ALERT_ID_LEN + 1], x[CW_ALERT_ID_LEN + 1];
    cw_alert_id("ab", "c", 1000, base);
    cw_alert_id("a", "bc", 1000, x);
    cr_assert_neq(strcmp(base, x), 0);
    cw_alert_id("abc", "", 1000, x);
    cr_assert_neq(strcmp(base, x), 0);
    cw_alert_id("ab", "c", 1001, x);
    cr_assert_neq(strcmp(base, x), 0);
    cw_alert_id("ab", "d", 1000, x);
    cr_assert_neq(strcmp(base, x), 0);
    cw_alert_id("Ab", "c", 1000, x);
    cr_assert_neq(strcmp(base, x), 0);
}

static int cmp_ids(const void *a, const void *b)
{
    return memcmp(a, b, CW_ALERT_ID_LEN);
}

Test(alert_id, well_mixed_and_collision_free_over_many_episodes)
{
    enum { N = 20000 };
    static char ids[N][CW_ALERT_ID_LEN + 1];
    unsigned ones[128] = {0};
    for (int i = 0; i < N; i++) {
        char acct[16];
        snprintf(acct, sizeof acct, "acct-%d", i % 200);
        cw_alert_id(acct, "health_low", T0 + (int64_t)(i / 200) * HOUR, ids[i]);
        for (int k = 0; k < CW_ALERT_ID_LEN; k++) {
            char c = ids[i][k];
            unsigned v = (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
            for (int bit = 0; bit < 4; bit++)
                ones[k * 4 + bit] += (v >> bit) & 1u;
        }
    }
    qsort(ids, N, sizeof ids[0], cmp_ids);
    for (int i = 1; i < N; i++)
        cr_assert_neq(memcmp(ids[i - 1], ids[i], CW_ALERT_ID_LEN), 0, "collision");
    /* Every output bit is set about half the time (binomial sd ~ 71 around 10000). */
    for (int b = 0; b < 128; b++)
        cr_assert(ones[b] > 9500 && ones[b] < 10500, "bit %d set %u times", b, ones[b]);
}

Test(state, a_clock_behind_the_state_changes_nothing)
{
    /* A restart replays history already applied: its event-time clock is behind the
     * saved episode, which must neither resolve nor fire again until the clock is back. */
    struct machine m = {.p = params()};
    cr_assert_eq(mstep(&m, true, T0 + DAY, false, NULL), CW_EMIT_FIRING);
    struct cw_rule_state saved = m.st;
    cr_assert_eq(mstep(&m, false, T0, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(memcmp(&m.st, &saved, sizeof saved), 0);
    cr_assert_eq(mstep(&m, true, T0 + HOUR, false, NULL), CW_EMIT_NONE);
    cr_assert_eq(m.st.status, CW_RULE_FIRING);
    /* back at (and after) the episode's own instants it steps normally */
    cr_assert_eq(mstep(&m, false, T0 + 2 * DAY, false, NULL), CW_EMIT_RESOLVED);
    cr_assert_eq(m.t.firing, 1);
    cr_assert_eq(m.t.resolved, 1);
}

/* ---- users' engagement (docs/users.md) ---------------------------------------------------- */

Test(rules, power_users_below_fires_names_them_and_resolves_at_exit)
{
    struct cw_eng_day d_ann[] = {{DAY0, 120}}, d_bob[] = {{DAY0 - 3, 25}}, d_cy[] = {{DAY0, 6}},
                      d_dee[] = {{DAY0 - 1, 0}}, d_eve[] = {{DAY0 - 2, 0}};
    struct cw_user_eng eng[] = {{"bob", d_bob, 1},
                                {"ann", d_ann, 1},
                                {"cy", d_cy, 1},
                                {"dee", d_dee, 1},
                                {"eve", d_eve, 1}};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    struct cw_rule_eval e;
    acct_init(DAY0 - 10, DAY0);
    A.v.user_eng = eng;
    A.v.n_user_eng = 5;
    cr_assert_eq(step_rule(R_POWER, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert_not(e.evaluable, "users.window not observed yet");
    acct_init(DAY0 - 100, DAY0);
    A.v.user_eng = eng;
    A.v.n_user_eng = 5;
    cr_assert_eq(step_rule(R_POWER, &st, false, &t, &e), CW_EMIT_FIRING);
    cr_assert_str_eq(e.reason, "2 power users (A or higher) below 3: ann (SS), bob (A)");
    cr_assert_eq(e.n_users, 2);
    cr_assert_str_eq(e.users[0], "ann");
    cr_assert_float_eq(e.value, 2, 1e-12);
    d_dee[0].points = 30; /* 3 power users: still firing until exit (4) */
    cr_assert_eq(step_rule(R_POWER, &st, false, &t, &e), CW_EMIT_NONE);
    cr_assert_str_eq(e.reason, "3 power users (A or higher) below 4 (exit): ann (SS), dee (A), "
                               "bob (A)");
    d_eve[0].points = 50;
    cr_assert_eq(step_rule(R_POWER, &st, false, &t, &e), CW_EMIT_RESOLVED);
    cr_assert_str_eq(e.reason, "4 power users (A or higher) at least 4 (exit): ann (SS), eve (S), "
                               "dee (A), bob (A)");
}

Test(rules, champion_quiet_fires_for_a_quiet_top_user_and_resolves_when_they_return)
{
    /* ann was S (60 points up to 15 days ago), bob only A, cy SS and active 2 days ago */
    struct cw_eng_day d_ann[] = {{DAY0 - 20, 30}, {DAY0 - 15, 30}, {DAY0, 0}},
                      d_bob[] = {{DAY0 - 20, 25}}, d_cy[] = {{DAY0 - 2, 150}};
    struct cw_user_eng eng[] = {{"ann", d_ann, 2}, {"bob", d_bob, 1}, {"cy", d_cy, 1}};
    struct cw_rule_state st = {0};
    struct tally t = {0};
    struct cw_rule_eval e;
    acct_init(DAY0 - 100, DAY0);
    A.v.user_eng = eng;
    A.v.n_user_eng = 3;
    cr_assert_eq(step_rule(R_QUIET, &st, false, &t, &e), CW_EMIT_FIRING);
    cr_assert_str_eq(e.reason,
                     "1 champion (S or higher) without points for 14d or more: ann (S, quiet 15d)");
    cr_assert_eq(e.n_users, 1);
    cr_assert_str_eq(e.users[0], "ann");
    cr_assert_float_eq(e.value, 1, 1e-12);
    cr_assert_float_eq(e.threshold, 14, 1e-12);
    /* ann returns today */
    d_ann[2].points = 1;
    eng[0].n_days = 3;
    cr_assert_eq(step_rule(R_QUIET, &st, false, &t, &e), CW_EMIT_RESOLVED);
    cr_assert_str_eq(e.reason, "no champion (S or higher) without points for 14d: 2 champions, "
                               "the quietest 2 days");
    /* nobody ranked that high */
    struct cw_user_eng low[] = {{"bob", d_bob, 1}};
    A.v.user_eng = low;
    A.v.n_user_eng = 1;
    eval_rule(R_QUIET, false, &e);
    cr_assert(e.evaluable && !e.holds);
    cr_assert_str_eq(e.reason, "no champion (S or higher)");
}
