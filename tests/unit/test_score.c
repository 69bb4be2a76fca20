/* test_score.c - health score: values, renormalisation, observed span, grades, moves */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "churnwatch/score.h"
#include "churnwatch/values.h"
#include "churnwatch/window.h"

#define EPS     1e-9
#define HORIZON 28
#define TODAY   20779 /* 2026-11-22 */

enum {
    M_ACTIVE = CW_METRIC_ACTIVE_USERS,
    M_APP,
    M_RECORD,
    M_SEMINAR,
    M_CLICK,
    M_REGISTER,
    N_METRICS
};
enum { W_SHORT, W_LONG };

/*
 * A hand-built config and account. Config (targets in brackets, weights after "w"):
 *   utilization w0.5: active_rate   active users / seat, long   [0.5] w2
 *                     app_ops       app operations, long        [20]  w1
 *                     records       records / seat, short       [10]  w1
 *   engagement  w0.3: seminars      long                        [1]   w1
 *                     clicks        long                        [10]  w1
 *   penetration w0.2: registered    registrations / seat, long  [0.8] w1
 * Grades A >= 80, B >= 60, C >= 40, D. Windows short 7d, long 28d; min observed 3 days.
 */
struct fixture {
    struct cw_config cfg;
    struct cw_window windows[2];
    struct cw_metric metrics[N_METRICS];
    struct cw_component components[3];
    struct cw_measure utilization[3], engagement[2], penetration[1];
    struct cw_grade grades[4];
    uint32_t daily[N_METRICS * HORIZON];
    int32_t users[256];
    struct cw_traits traits;
    struct cw_account_view view;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->windows[W_SHORT] = (struct cw_window){.name = "short", .days = 7};
    f->windows[W_LONG] = (struct cw_window){.name = "long", .days = 28};
    const char *names[N_METRICS] = {"active_users", "app_ops",      "records",
                                    "seminars",     "email_clicks", "registrations"};
    for (int m = 0; m < N_METRICS; m++)
        f->metrics[m] = (struct cw_metric){.name = (char *)names[m], .builtin = m == M_ACTIVE};

    f->utilization[0] =
        (struct cw_measure){"active_rate", M_ACTIVE, W_LONG, true, 0.5, 2, CW_AGG_COUNT};
    f->utilization[1] = (struct cw_measure){"app_ops", M_APP, W_LONG, false, 20, 1, CW_AGG_COUNT};
    f->utilization[2] =
        (struct cw_measure){"records", M_RECORD, W_SHORT, true, 10, 1, CW_AGG_COUNT};
    f->engagement[0] =
        (struct cw_measure){"seminars", M_SEMINAR, W_LONG, false, 1, 1, CW_AGG_COUNT};
    f->engagement[1] = (struct cw_measure){"clicks", M_CLICK, W_LONG, false, 10, 1, CW_AGG_COUNT};
    f->penetration[0] =
        (struct cw_measure){"registered", M_REGISTER, W_LONG, true, 0.8, 1, CW_AGG_COUNT};
    f->components[0] = (struct cw_component){"utilization", 0.5, f->utilization, 3};
    f->components[1] = (struct cw_component){"engagement", 0.3, f->engagement, 2};
    f->components[2] = (struct cw_component){"penetration", 0.2, f->penetration, 1};
    f->grades[0] = (struct cw_grade){"A", 80};
    f->grades[1] = (struct cw_grade){"B", 60};
    f->grades[2] = (struct cw_grade){"C", 40};
    f->grades[3] = (struct cw_grade){"D", 0};

    f->cfg.windows = f->windows;
    f->cfg.n_windows = 2;
    f->cfg.longest_window_days = 28;
    f->cfg.metrics = f->metrics;
    f->cfg.n_metrics = N_METRICS;
    f->cfg.score = (struct cw_score_config){.components = f->components,
                                            .n_components = 3,
                                            .grades = f->grades,
                                            .n_grades = 4,
                                            .min_observed_days = 3};

    f->traits.has_seats = true;
    f->traits.seats = 10;
    f->view = (struct cw_account_view){.account_id = "acme",
                                       .today = TODAY,
                                       .first_day = TODAY - 200,
                                       .horizon = HORIZON,
                                       .n_metrics = N_METRICS,
                                       .daily = f->daily,
                                       .user_last_day = f->users,
                                       .n_users = 0,
                                       .traits = &f->traits,
                                       .last_seen_ms = -1};
}

/* count events of metric m, days_ago days before today. */
static void add(struct fixture *f, int m, unsigned days_ago, uint32_t count)
{
    f->daily[(size_t)m * HORIZON + days_ago] += count;
}

/* n users last active days_ago days before today. */
static void users(struct fixture *f, size_t n, int32_t days_ago)
{
    for (size_t i = 0; i < n; i++)
        f->users[f->view.n_users++] = TODAY - days_ago;
}

/* Healthy: 8 of 10 seats active (1), 12 app ops (0.6), 150 records / 10 seats in a week
 * (1), 2 seminars (1), 25 clicks (1), 9 registrations / 10 seats (1). Users and counts
 * are spread over the window. */
static void healthy(struct fixture *f)
{
    users(f, 4, 0);
    users(f, 4, 20);
    users(f, 3, 40); /* outside the long window */
    add(f, M_APP, 1, 6);
    add(f, M_APP, 27, 6);
    add(f, M_RECORD, 0, 100);
    add(f, M_RECORD, 6, 50);
    add(f, M_RECORD, 7, 500); /* outside the short window */
    add(f, M_SEMINAR, 10, 2);
    add(f, M_CLICK, 3, 25);
    add(f, M_REGISTER, 15, 9);
}

static double contribution_sum(const struct cw_score_result *r)
{
    double sum = 0;
    for (size_t i = 0; i < r->n_measures; i++)
        sum += r->measures[i].contribution;
    return sum;
}

Test(score, measure_index_numbers_across_components)
{
    struct fixture f;
    fixture_init(&f);
    cr_assert_eq(cw_score_measure_index(&f.cfg, 0, 0), 0);
    cr_assert_eq(cw_score_measure_index(&f.cfg, 0, 2), 2);
    cr_assert_eq(cw_score_measure_index(&f.cfg, 1, 0), 3);
    cr_assert_eq(cw_score_measure_index(&f.cfg, 1, 1), 4);
    cr_assert_eq(cw_score_measure_index(&f.cfg, 2, 0), 5);
}

Test(score, healthy_account)
{
    struct fixture f;
    fixture_init(&f);
    healthy(&f);
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);

    cr_assert(r.has_score);
    cr_assert_eq(r.n_components, 3);
    cr_assert_eq(r.n_measures, 6);
    /* utilization (2*1 + 0.6 + 1) / 4 = 0.9; score 100 * (0.5*0.9 + 0.3 + 0.2) = 95. */
    cr_assert_float_eq(r.score, 95.0, EPS);
    cr_assert_str_eq(r.grade, "A");
    cr_assert_float_eq(r.components[0].value, 0.9, EPS);
    cr_assert_float_eq(r.components[1].value, 1.0, EPS);
    cr_assert_float_eq(r.components[2].value, 1.0, EPS);
    cr_assert_float_eq(r.components[0].share, 0.5, EPS);
    cr_assert_float_eq(r.components[1].share, 0.3, EPS);
    cr_assert_float_eq(r.components[2].share, 0.2, EPS);

    const struct cw_measure_result *m = r.measures;
    cr_assert_float_eq(m[0].raw, 0.8, EPS); /* 8 distinct users / 10 seats */
    cr_assert_float_eq(m[0].normalized, 1.0, EPS);
    cr_assert_float_eq(m[0].target, 0.5, EPS);
    cr_assert_float_eq(m[1].raw, 12.0, EPS);
    cr_assert_float_eq(m[1].normalized, 0.6, EPS);
    cr_assert_float_eq(m[2].raw, 15.0, EPS); /* 150 records in 7 days / 10 seats */
    cr_assert_float_eq(m[5].raw, 0.9, EPS);
    /* 100 * share * (measure weight / component weight) * normalized */
    cr_assert_float_eq(m[0].contribution, 25.0, EPS);
    cr_assert_float_eq(m[1].contribution, 7.5, EPS);
    cr_assert_float_eq(m[2].contribution, 12.5, EPS);
    cr_assert_float_eq(m[3].contribution, 15.0, EPS);
    cr_assert_float_eq(m[4].contribution, 15.0, EPS);
    cr_assert_float_eq(m[5].contribution, 20.0, EPS);
    cr_assert_float_eq(contribution_sum(&r), r.score, EPS);
    for (size_t i = 0; i < r.n_measures; i++) {
        cr_assert(m[i].has);
        cr_assert_eq(m[i].na, CW_NA_NONE);
        cr_assert_eq(m[i].observed_days, i == 2 ? 7u : 28u);
    }
}

Test(score, silent_account_scores_zero)
{
    struct fixture f;
    fixture_init(&f);
    users(&f, 5, 60); /* active long ago only */
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert(r.has_score);
    cr_assert_float_eq(r.score, 0.0, EPS);
    cr_assert_str_eq(r.grade, "D");
    for (size_t c = 0; c < r.n_components; c++) {
        cr_assert(r.components[c].has);
        cr_assert_float_eq(r.components[c].value, 0.0, EPS);
    }
    for (size_t i = 0; i < r.n_measures; i++) {
        cr_assert(r.measures[i].has);
        cr_assert_float_eq(r.measures[i].raw, 0.0, EPS);
        cr_assert_float_eq(r.measures[i].contribution, 0.0, EPS);
    }
}

/* Without seats the per-seat measures are n/a and the score is exactly what a config
 * without them gives: app_ops alone makes utilization, penetration drops out. */
Test(score, unknown_seats_renormalise)
{
    struct fixture f;
    fixture_init(&f);
    healthy(&f);
    f.traits.has_seats = false;
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);

    cr_assert(r.has_score);
    cr_assert_not(r.measures[0].has);
    cr_assert_eq(r.measures[0].na, CW_NA_NO_SEATS);
    cr_assert_eq(r.measures[2].na, CW_NA_NO_SEATS);
    cr_assert_eq(r.measures[5].na, CW_NA_NO_SEATS);
    cr_assert_float_eq(r.measures[0].contribution, 0.0, EPS);
    cr_assert(r.measures[1].has);
    cr_assert_not(r.components[2].has);
    cr_assert_float_eq(r.components[2].share, 0.0, EPS);
    cr_assert_float_eq(r.components[0].value, 0.6, EPS);
    cr_assert_float_eq(r.components[0].share, 0.5 / 0.8, EPS);
    cr_assert_float_eq(r.components[1].share, 0.3 / 0.8, EPS);
    /* 100 * (0.625 * 0.6 + 0.375 * 1) = 75 */
    cr_assert_float_eq(r.score, 75.0, EPS);
    cr_assert_str_eq(r.grade, "B");
    cr_assert_float_eq(contribution_sum(&r), r.score, EPS);

    struct fixture g;
    fixture_init(&g);
    healthy(&g);
    g.components[0].measures = &g.utilization[1];
    g.components[0].n_measures = 1;
    g.cfg.score.n_components = 2;
    struct cw_score_result without;
    cw_score_compute(&g.cfg, &g.view, &without);
    cr_assert_float_eq(r.score, without.score, 1e-12);

    /* seats == 0 is no better than unknown. */
    f.traits.has_seats = true;
    f.traits.seats = 0;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_eq(r.measures[0].na, CW_NA_NO_SEATS);
    cr_assert_float_eq(r.score, 75.0, EPS);
}

/* A brand-new account is not judged on windows it has not lived through. */
Test(score, new_account_is_judged_on_its_observed_span)
{
    struct fixture f;
    fixture_init(&f);
    f.view.first_day = TODAY - 1; /* 2 days observed */
    users(&f, 3, 0);
    add(&f, M_APP, 1, 3);
    add(&f, M_RECORD, 0, 20);
    add(&f, M_CLICK, 0, 2);
    add(&f, M_REGISTER, 1, 3);
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_not(r.has_score);
    cr_assert_str_eq(r.grade, "");
    cr_assert_float_eq(r.score, 0.0, EPS);
    for (size_t i = 0; i < r.n_measures; i++) {
        cr_assert_not(r.measures[i].has);
        cr_assert_eq(r.measures[i].na, CW_NA_NOT_OBSERVED);
        cr_assert_eq(r.measures[i].observed_days, 2);
    }
    for (size_t c = 0; c < r.n_components; c++)
        cr_assert_not(r.components[c].has);

    /* Three days later (5 observed) the same counts are scaled to the window; distinct
     * users of a partly observed window are n/a (they cannot be scaled). */
    f.view.first_day = TODAY - 4;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert(r.has_score);
    const struct cw_measure_result *m = r.measures;
    cr_assert_eq(m[0].observed_days, 5);
    cr_assert_eq(m[2].observed_days, 5);
    cr_assert_not(m[0].has);
    cr_assert_eq(m[0].na, CW_NA_NOT_OBSERVED);
    cr_assert_float_eq(m[1].raw, 3.0 * 28 / 5, EPS);
    cr_assert_float_eq(m[1].normalized, 0.84, EPS);
    cr_assert_float_eq(m[2].raw, 20.0 * 7 / 5 / 10, EPS);
    cr_assert_float_eq(m[2].normalized, 0.28, EPS);
    cr_assert_float_eq(m[3].normalized, 0.0, EPS);
    cr_assert_float_eq(m[4].raw, 11.2, EPS);
    cr_assert_float_eq(m[4].normalized, 1.0, EPS);
    cr_assert_float_eq(m[5].raw, 3.0 * 28 / 5 / 10, EPS);
    /* utilization (0.84 + 0.28) / 2 = 0.56, engagement 0.5, penetration 1:
     * 100 * (0.5*0.56 + 0.3*0.5 + 0.2) = 63 */
    cr_assert_float_eq(r.components[0].value, 0.56, EPS);
    cr_assert_float_eq(r.score, 63.0, EPS);
    cr_assert_str_eq(r.grade, "B");

    /* Once its 28-day window is fully observed the distinct users count, unscaled. */
    f.view.first_day = TODAY - 27;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert(m[0].has);
    cr_assert_eq(m[0].observed_days, 28);
    cr_assert_float_eq(m[0].raw, 0.3, EPS); /* 3 users / 10 seats */
    cr_assert_float_eq(m[0].normalized, 0.6, EPS);

    /* Never seen at all: nothing to judge. */
    f.view.first_day = CW_DAY_NONE;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_not(r.has_score);
    cr_assert_eq(r.measures[1].na, CW_NA_NOT_OBSERVED);
    cr_assert_eq(r.measures[1].observed_days, 0);
}

/* A window shorter than min_observed_days is judged once it is fully observed. */
Test(score, short_window_judged_when_fully_observed)
{
    struct fixture f;
    fixture_init(&f);
    f.windows[W_SHORT].days = 2;
    add(&f, M_RECORD, 0, 30);
    f.view.first_day = TODAY;
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_eq(r.measures[2].na, CW_NA_NOT_OBSERVED);
    f.view.first_day = TODAY - 1;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert(r.measures[2].has);
    cr_assert_eq(r.measures[2].observed_days, 2);
    cr_assert_float_eq(r.measures[2].raw, 3.0, EPS); /* 30 records / 10 seats */
    cr_assert(r.has_score);
    cr_assert_eq(r.measures[1].na, CW_NA_NOT_OBSERVED); /* 28-day window, 2 days seen */
    /* Only records is available: utilization = 0.3, the only component. */
    cr_assert_float_eq(r.score, 30.0, EPS);
}

Test(score, grade_boundaries)
{
    struct fixture f;
    fixture_init(&f);
    cr_assert_str_eq(cw_score_grade(&f.cfg, 100.0), "A");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 80.0), "A");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 79.99), "B");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 60.0), "B");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 59.999), "C");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 40.0), "C");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 39.99), "D");
    cr_assert_str_eq(cw_score_grade(&f.cfg, 0.0), "D");
    cr_assert_str_eq(cw_score_grade(&f.cfg, -1.0), "D");

    /* A computed score of exactly 80 is an A, 79.99 a B: one measure, app_ops. */
    f.components[0].measures = &f.utilization[1];
    f.components[0].n_measures = 1;
    f.cfg.score.n_components = 1;
    add(&f, M_APP, 0, 16); /* 16 / 20 */
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_eq(r.score, 80.0, "%.17g", r.score);
    cr_assert_str_eq(r.grade, "A");
    f.utilization[1].target = 16.0 / 0.7999;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_float_eq(r.score, 79.99, EPS);
    cr_assert_str_eq(r.grade, "B");

    f.cfg.score.n_grades = 0;
    cr_assert_str_eq(cw_score_grade(&f.cfg, 50.0), "");
}

Test(score, moves_from_computed_scores)
{
    struct fixture f;
    fixture_init(&f);
    healthy(&f);
    struct cw_score_result before, after;
    cw_score_compute(&f.cfg, &f.view, &before);

    /* 5 of the 8 active users go quiet (active_rate 25 -> 15 points), app ops 12 -> 2
     * (7.5 -> 1.25), clicks 25 -> 5 (15 -> 7.5). */
    fixture_init(&f);
    healthy(&f);
    for (size_t i = 0; i < 5; i++)
        f.users[i] = TODAY - 30;
    f.daily[M_APP * HORIZON + 1] = 1;
    f.daily[M_APP * HORIZON + 27] = 1;
    f.daily[M_CLICK * HORIZON + 3] = 5;
    cw_score_compute(&f.cfg, &f.view, &after);
    cr_assert_float_eq(after.score, 95.0 - 10 - 6.25 - 7.5, EPS);

    struct cw_score_move mv[CW_MAX_MEASURES];
    size_t n = cw_score_moves(&f.cfg, &before, &after, mv, CW_MAX_MEASURES);
    cr_assert_eq(n, 3);
    cr_assert_eq(mv[0].measure, 0);
    cr_assert_eq(mv[0].component, 0);
    cr_assert_float_eq(mv[0].before, 25.0, EPS);
    cr_assert_float_eq(mv[0].after, 15.0, EPS);
    cr_assert_float_eq(mv[0].delta, -10.0, EPS);
    cr_assert_eq(mv[1].measure, 4);
    cr_assert_eq(mv[1].component, 1);
    cr_assert_float_eq(mv[1].delta, -7.5, EPS);
    cr_assert_eq(mv[2].measure, 1);
    cr_assert_float_eq(mv[2].delta, -6.25, EPS);

    /* max truncates to the largest moves. */
    cr_assert_eq(cw_score_moves(&f.cfg, &before, &after, mv, 2), 2);
    cr_assert_eq(mv[0].measure, 0);
    cr_assert_eq(mv[1].measure, 4);
    cr_assert_eq(cw_score_moves(&f.cfg, &before, &after, mv, 0), 0);
    /* Reversed, the deltas flip sign and keep their order. */
    cr_assert_eq(cw_score_moves(&f.cfg, &after, &before, mv, 3), 3);
    cr_assert_float_eq(mv[0].delta, 10.0, EPS);
    cr_assert_eq(mv[1].measure, 4);
    /* The same score twice: nothing moved. */
    cr_assert_eq(cw_score_moves(&f.cfg, &after, &after, mv, 3), 0);
}

/* Hand-built results: the 0.05-point threshold, ties by index, n/a as 0, NULL prev. */
Test(score, moves_threshold_ties_and_na)
{
    struct fixture f;
    fixture_init(&f);
    struct cw_score_result prev, cur;
    memset(&prev, 0, sizeof prev);
    memset(&cur, 0, sizeof cur);
    prev.n_measures = cur.n_measures = 6;
    for (size_t i = 0; i < 6; i++)
        prev.measures[i].has = cur.measures[i].has = true;
    cur.measures[0].contribution = 0.049; /* below the threshold */
    cur.measures[1].contribution = 1.0;   /* tie with 3 */
    prev.measures[2].contribution = 0.05; /* exactly the threshold: kept */
    cur.measures[3].contribution = 1.0;
    prev.measures[4].has = false; /* n/a before: counts as 0, not as its stale value */
    prev.measures[4].contribution = 7.0;
    cur.measures[4].contribution = 2.0;
    prev.measures[5].contribution = 3.0; /* n/a now: falls to 0 */
    cur.measures[5].has = false;
    cur.measures[5].contribution = 3.0;

    struct cw_score_move mv[8];
    size_t n = cw_score_moves(&f.cfg, &prev, &cur, mv, 8);
    cr_assert_eq(n, 5);
    cr_assert_eq(mv[0].measure, 5);
    cr_assert_float_eq(mv[0].delta, -3.0, EPS);
    cr_assert_float_eq(mv[0].after, 0.0, EPS);
    cr_assert_eq(mv[0].component, 2);
    cr_assert_eq(mv[1].measure, 4);
    cr_assert_float_eq(mv[1].before, 0.0, EPS);
    cr_assert_float_eq(mv[1].delta, 2.0, EPS);
    cr_assert_eq(mv[2].measure, 1);
    cr_assert_eq(mv[3].measure, 3);
    cr_assert_eq(mv[4].measure, 2);
    cr_assert_float_eq(mv[4].delta, -0.05, EPS);

    /* No previous score: every contribution counts from 0. */
    n = cw_score_moves(&f.cfg, NULL, &cur, mv, 8);
    cr_assert_eq(n, 3);
    cr_assert_eq(mv[0].measure, 4);
    cr_assert_eq(mv[1].measure, 1);
    cr_assert_eq(mv[2].measure, 3);
}

static uint64_t rng_state = 0x2545f4914f6cdd1du;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng() >> 11) / 9007199254740992.0;
}

/* Random configs and accounts: the score stays in 0..100, contributions add up to it,
 * shares of the available components add up to 1, n/a contributes nothing. */
Test(score, property_random_inputs)
{
    static const uint32_t window_days[4] = {1, 3, 7, 28};
    for (int iter = 0; iter < 3000; iter++) {
        struct fixture f;
        fixture_init(&f);
        for (int w = 0; w < 2; w++)
            f.windows[w].days = window_days[rng() % 4];
        f.cfg.score.min_observed_days = (uint32_t)(rng() % 5);
        struct cw_measure *all[3] = {f.utilization, f.engagement, f.penetration};
        size_t counts[3] = {3, 2, 1};
        f.cfg.score.n_components = 1 + rng() % 3;
        for (size_t c = 0; c < 3; c++) {
            f.components[c].weight = uniform(0.01, 5);
            f.components[c].n_measures = 1 + rng() % counts[c];
            for (size_t m = 0; m < counts[c]; m++) {
                all[c][m].metric = (int)(rng() % N_METRICS);
                all[c][m].window = (int)(rng() % 2);
                all[c][m].per_seat = rng() % 2;
                all[c][m].target = uniform(0.01, 50);
                all[c][m].weight = uniform(0.01, 5);
            }
        }
        f.traits.has_seats = rng() % 4 != 0;
        f.traits.seats = (int64_t)(rng() % 100);
        uint64_t first = rng() % 40;
        f.view.first_day = first == 39 ? CW_DAY_NONE : TODAY - (int32_t)first;
        for (size_t i = 0; i < N_METRICS * HORIZON; i++)
            f.daily[i] = rng() % 3 == 0 ? (uint32_t)(rng() % (rng() % 2 ? 10 : UINT32_MAX)) : 0;
        size_t nu = rng() % 50;
        for (size_t i = 0; i < nu; i++)
            f.users[f.view.n_users++] = TODAY - (int32_t)(rng() % 60) + 1;

        struct cw_score_result r;
        cw_score_compute(&f.cfg, &f.view, &r);
        bool any = false;
        double shares = 0, sum = 0;
        for (size_t c = 0; c < r.n_components; c++) {
            any = any || r.components[c].has;
            shares += r.components[c].share;
            cr_assert(r.components[c].value >= 0 && r.components[c].value <= 1);
        }
        cr_assert_eq(r.has_score, any, "iteration %d", iter);
        for (size_t i = 0; i < r.n_measures; i++) {
            const struct cw_measure_result *m = &r.measures[i];
            cr_assert(m->normalized >= 0 && m->normalized <= 1, "iteration %d", iter);
            cr_assert(m->has || m->contribution == 0, "iteration %d", iter);
            cr_assert(m->has == (m->na == CW_NA_NONE), "iteration %d", iter);
            sum += m->contribution;
        }
        cr_assert(r.score >= 0 && r.score <= 100, "iteration %d: %g", iter, r.score);
        cr_assert_float_eq(sum, r.score, EPS, "iteration %d", iter);
        if (r.has_score) {
            cr_assert_float_eq(shares, 1.0, EPS, "iteration %d", iter);
            cr_assert_str_eq(r.grade, cw_score_grade(&f.cfg, r.score));
        } else {
            cr_assert_str_eq(r.grade, "");
            cr_assert_eq(r.score, 0.0);
        }
    }
}

/* ---- stages and profiles ---- */

#define NOW_MS ((int64_t)TODAY * CW_MS_PER_DAY + 12 * 3600 * CW_MS_PER_SECOND)

/* Stages onboarding (created within 90d), renewal (renews within 90d), adopted (any). */
static void with_stages(struct fixture *f, struct cw_stage st[3])
{
    st[0] = (struct cw_stage){.name = "onboarding", .created_within_ms = 90 * CW_MS_PER_DAY};
    st[1] = (struct cw_stage){.name = "renewal", .renewal_within_ms = 90 * CW_MS_PER_DAY};
    st[2] = (struct cw_stage){.name = "adopted"};
    f->cfg.score.stages = st;
    f->cfg.score.n_stages = 3;
    f->view.now_ms = NOW_MS;
}

/* A profile that starts as the base scorecard. */
static void profile_init(const struct fixture *f, struct cw_profile *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->name = (char *)name;
    size_t g = 0;
    for (size_t c = 0; c < f->cfg.score.n_components; c++) {
        p->component_weight[c] = f->components[c].weight;
        for (size_t m = 0; m < f->components[c].n_measures; m++, g++) {
            p->measure_weight[g] = f->components[c].measures[m].weight;
            p->measure_target[g] = f->components[c].measures[m].target;
        }
    }
}

Test(score, stage_is_the_first_that_holds)
{
    struct fixture f;
    struct cw_stage st[3];
    fixture_init(&f);
    with_stages(&f, st);
    struct {
        bool has_created;
        int64_t created_days_ago; /* negative: in the future */
        bool has_renewal;
        int64_t renewal_in_days; /* negative: passed */
        const char *stage;
    } cases[] = {
        {true, 30, true, 30, "onboarding"}, /* both hold: the first listed wins */
        {true, 89, false, 0, "onboarding"},
        {true, 90, false, 0, "adopted"},    /* exactly 90 days old: no longer onboarding */
        {true, -1, false, 0, "onboarding"}, /* created_at ahead of the clock: just created */
        {true, 400, true, 90, "renewal"},   /* renews exactly 90 days ahead */
        {true, 400, true, 91, "adopted"},
        {true, 400, true, 0, "renewal"},  /* renews today, later than now */
        {true, 400, true, -1, "adopted"}, /* renewal date passed */
        {false, 0, true, 10, "renewal"},  /* created_at unknown: not onboarding */
        {false, 0, false, 0, "adopted"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.traits.has_created_at = cases[i].has_created;
        f.traits.created_at_ms = NOW_MS - cases[i].created_days_ago * CW_MS_PER_DAY;
        f.traits.has_renewal_at = cases[i].has_renewal;
        f.traits.renewal_at_ms =
            NOW_MS + cases[i].renewal_in_days * CW_MS_PER_DAY + (cases[i].renewal_in_days == 0);
        int s = cw_score_stage(&f.cfg, &f.view);
        cr_assert_geq(s, 0, "case %zu", i);
        cr_assert_str_eq(st[s].name, cases[i].stage, "case %zu", i);
        struct cw_score_result r;
        cw_score_compute(&f.cfg, &f.view, &r);
        cr_assert_str_eq(r.stage, cases[i].stage, "case %zu", i);
        cr_assert_str_eq(r.profile, "default", "case %zu", i);
    }
    /* No stage holds: none. */
    f.cfg.score.n_stages = 2;
    f.traits.has_created_at = f.traits.has_renewal_at = false;
    cr_assert_eq(cw_score_stage(&f.cfg, &f.view), -1);
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_str_eq(r.stage, "");
}

Test(score, profile_is_the_first_matching_segment_and_stage)
{
    struct fixture f;
    struct cw_stage st[3];
    struct cw_profile prof[3];
    char *large[] = {"L"}, *small_medium[] = {"S", "M"};
    int renewal[] = {1}, onboarding[] = {0};
    fixture_init(&f);
    with_stages(&f, st);
    profile_init(&f, &prof[0], "large_renewal");
    prof[0].segments = (struct cw_strlist){large, 1};
    prof[0].stages = renewal;
    prof[0].n_stages = 1;
    profile_init(&f, &prof[1], "new_small");
    prof[1].segments = (struct cw_strlist){small_medium, 2};
    prof[1].stages = onboarding;
    prof[1].n_stages = 1;
    profile_init(&f, &prof[2], "large");
    prof[2].segments = (struct cw_strlist){large, 1};
    f.cfg.score.profiles = prof;
    f.cfg.score.n_profiles = 3;
    struct {
        const char *segment;
        int64_t created_days_ago, renewal_in_days;
        const char *profile;
    } cases[] = {
        {"L", 400, 30, "large_renewal"}, {"L", 400, 200, "large"},   {"L", 10, 200, "large"},
        {"S", 10, 200, "new_small"},     {"M", 10, 30, "new_small"}, {"S", 400, 30, "default"},
        {"", 10, 200, "default"},        {"XL", 10, 200, "default"},
    };
    f.traits.has_created_at = f.traits.has_renewal_at = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strcpy(f.traits.segment, cases[i].segment);
        f.traits.created_at_ms = NOW_MS - cases[i].created_days_ago * CW_MS_PER_DAY;
        f.traits.renewal_at_ms = NOW_MS + cases[i].renewal_in_days * CW_MS_PER_DAY;
        struct cw_score_result r;
        cw_score_compute(&f.cfg, &f.view, &r);
        cr_assert_str_eq(r.profile, cases[i].profile, "case %zu", i);
    }
}

Test(score, profile_weights_and_targets_replace_the_base_ones)
{
    struct fixture f;
    struct cw_profile prof;
    fixture_init(&f);
    healthy(&f);
    profile_init(&f, &prof, "tuned");
    f.cfg.score.profiles = &prof;
    f.cfg.score.n_profiles = 1;

    /* As the base scorecard: the same 95 points. */
    struct cw_score_result r;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_str_eq(r.profile, "tuned");
    cr_assert_float_eq(r.score, 95.0, EPS);

    /* app_ops target 12: 12 ops score 1.0, utilization 1.0, score 100. */
    prof.measure_target[1] = 12;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_float_eq(r.measures[1].target, 12.0, EPS);
    cr_assert_float_eq(r.measures[1].normalized, 1.0, EPS);
    cr_assert_float_eq(r.score, 100.0, EPS);

    /* app_ops back to 20 (0.6) and weighted 6 of 9 within utilization: (2 + 3.6 + 1) / 9. */
    prof.measure_target[1] = 20;
    prof.measure_weight[1] = 6;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_float_eq(r.components[0].value, 6.6 / 9, EPS);
    cr_assert_float_eq(r.score, 100 * (0.5 * 6.6 / 9 + 0.3 + 0.2), EPS);
    cr_assert_float_eq(contribution_sum(&r), r.score, EPS);

    /* Weight 0 leaves app_ops out: n/a "not in this profile", utilization (2 + 1) / 3. */
    prof.measure_weight[1] = 0;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_not(r.measures[1].has);
    cr_assert_eq(r.measures[1].na, CW_NA_NOT_IN_PROFILE);
    cr_assert_float_eq(r.measures[1].contribution, 0, EPS);
    cr_assert_float_eq(r.components[0].value, 1.0, EPS);
    cr_assert_float_eq(r.score, 100.0, EPS);

    /* The engagement component weighted 0 and penetration 0.7: shares 0.5/1.2, 0.7/1.2. */
    prof.measure_weight[1] = 1;
    prof.component_weight[1] = 0;
    prof.component_weight[2] = 0.7;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_not(r.components[1].has);
    cr_assert_eq(r.measures[3].na, CW_NA_NOT_IN_PROFILE);
    cr_assert_eq(r.measures[4].na, CW_NA_NOT_IN_PROFILE);
    cr_assert_float_eq(r.components[0].share, 0.5 / 1.2, EPS);
    cr_assert_float_eq(r.components[2].share, 0.7 / 1.2, EPS);
    cr_assert_float_eq(r.score, 100 * (0.5 * 0.9 + 0.7) / 1.2, EPS);
    cr_assert_float_eq(contribution_sum(&r), r.score, EPS);

    /* The base scorecard is untouched by a profile that does not match. */
    char *other[] = {"L"};
    prof.segments = (struct cw_strlist){other, 1};
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_assert_str_eq(r.profile, "default");
    cr_assert_float_eq(r.score, 95.0, EPS);
}

/* ---- aggregates of values ---- */

struct agg_case {
    const char *name;
    int aggregate;
    int window;
    bool per_seat;
    double target;
    uint32_t first_days_ago; /* the account's first day */
    bool has;
    double raw, normalized;
};

/* Seminar minutes: 60 and 30 today (30 the later), 90 five days ago, 20 twenty days ago; an
 * NPS view of the same numbers: all promoters (>= 9). */
static const struct agg_case agg_cases[] = {
    {"sum over a week", CW_AGG_SUM, W_SHORT, false, 300, 200, true, 180, 0.6},
    {"sum over the month", CW_AGG_SUM, W_LONG, false, 100, 200, true, 200, 1},
    {"sum per seat", CW_AGG_SUM, W_SHORT, true, 36, 200, true, 18, 0.5},
    {"sum of a month observed 4 days is scaled to 28", CW_AGG_SUM, W_LONG, false, 2800, 3, true,
     1400, 0.5},
    {"avg over a week", CW_AGG_AVG, W_SHORT, false, 120, 200, true, 60, 0.5},
    {"avg is not scaled", CW_AGG_AVG, W_LONG, false, 100, 3, true, 50, 0.5},
    {"min", CW_AGG_MIN, W_LONG, false, 40, 200, true, 20, 0.5},
    {"max", CW_AGG_MAX, W_SHORT, false, 60, 200, true, 90, 1},
    {"last: the latest by event time", CW_AGG_LAST, W_LONG, false, 60, 200, true, 30, 0.5},
    {"nps", CW_AGG_NPS, W_LONG, false, 50, 200, true, 100, 1},
    {"count of a valued metric", CW_AGG_COUNT, W_LONG, false, 8, 200, true, 4, 0.5},
};

static void minutes(struct fixture *f, struct cw_value_day *values)
{
    struct cw_value_day *row = values + (size_t)M_SEMINAR * HORIZON;
    int64_t t0 = (int64_t)TODAY * 86400000;
    cw_value_day_add(&row[0], 30, t0 + 7200000);
    cw_value_day_add(&row[0], 60, t0 + 3600000);
    cw_value_day_add(&row[5], 90, t0 - 5 * 86400000LL);
    cw_value_day_add(&row[20], 20, t0 - 20 * 86400000LL);
    add(f, M_SEMINAR, 0, 2);
    add(f, M_SEMINAR, 5, 1);
    add(f, M_SEMINAR, 20, 1);
}

Test(score, aggregates_of_values)
{
    for (size_t i = 0; i < sizeof agg_cases / sizeof agg_cases[0]; i++) {
        const struct agg_case *c = &agg_cases[i];
        static struct fixture f;
        static struct cw_value_day values[N_METRICS * HORIZON];
        fixture_init(&f);
        memset(values, 0, sizeof values);
        f.metrics[M_SEMINAR].valued = true;
        minutes(&f, values);
        f.view.values = values;
        f.view.first_day = TODAY - (int32_t)c->first_days_ago;
        f.engagement[0] = (struct cw_measure){"seminars", M_SEMINAR, c->window,   c->per_seat,
                                              c->target,  1,         c->aggregate};
        struct cw_score_result r;
        cw_score_compute(&f.cfg, &f.view, &r);
        const struct cw_measure_result *m = &r.measures[3];
        cr_expect_eq(m->has, c->has, "[%s]", c->name);
        cr_expect(fabs(m->raw - c->raw) < 1e-9, "[%s] raw %.17g, want %.17g", c->name, m->raw,
                  c->raw);
        cr_expect(fabs(m->normalized - c->normalized) < 1e-9, "[%s] normalized %.17g, want %.17g",
                  c->name, m->normalized, c->normalized);
    }
}

Test(score, no_values_in_the_window_is_na_and_renormalised)
{
    static struct fixture f, g;
    static struct cw_value_day values[N_METRICS * HORIZON];
    fixture_init(&f);
    fixture_init(&g);
    healthy(&f);
    healthy(&g);
    memset(values, 0, sizeof values);
    cw_value_day_add(&values[(size_t)M_SEMINAR * HORIZON + 10], 3, 0); /* outside a week */
    f.metrics[M_SEMINAR].valued = true;
    f.view.values = values;
    f.engagement[0] = (struct cw_measure){"nps", M_SEMINAR, W_SHORT, false, 50, 1, CW_AGG_NPS};
    struct cw_score_result r, without;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_expect_not(r.measures[3].has);
    cr_expect_eq(r.measures[3].na, CW_NA_NO_VALUES);
    cr_expect_str_eq(cw_score_na_text(CW_NA_NO_VALUES), "n/a (no values in the window)");
    /* the same as the engagement component with only its other measure */
    g.engagement[0] = g.engagement[1];
    g.components[1].n_measures = 1;
    cw_score_compute(&g.cfg, &g.view, &without);
    cr_expect(fabs(r.score - without.score) < EPS, "%f vs %f", r.score, without.score);
    /* no value rows at all (a view without values) is n/a too */
    f.view.values = NULL;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_expect_eq(r.measures[3].na, CW_NA_NO_VALUES);
    /* a negative NPS normalises to 0, not below */
    cw_value_day_add(&values[(size_t)M_SEMINAR * HORIZON + 1], 2, 0);
    f.view.values = values;
    cw_score_compute(&f.cfg, &f.view, &r);
    cr_expect(r.measures[3].has);
    cr_expect_eq(r.measures[3].raw, -100);
    cr_expect_eq(r.measures[3].normalized, 0);
    cr_expect(r.measures[3].contribution >= 0);
}

/* docs/users.md: power_users and ranked_users count the users by their engagement rank
 * over users.window (whatever the measure's window); per seat, the share of the seats. */
Test(score, power_and_ranked_users_from_the_users_engagement)
{
    static char ss[] = "SS", a[] = "A", b[] = "B";
    struct cw_metric metrics[3] = {
        {"active_users", true, false}, {"power_users", true, false}, {"ranked_users", true, false}};
    struct cw_window win = {"long", 28};
    struct cw_measure ms[2] = {{"power", CW_METRIC_POWER_USERS, 0, false, 4, 1, CW_AGG_COUNT},
                               {"ranked", CW_METRIC_RANKED_USERS, 0, true, 0.5, 1, CW_AGG_COUNT}};
    struct cw_component comp = {"people", 1, ms, 2};
    struct cw_grade grades[1] = {{"A", 0}};
    struct cw_config cfg = {.windows = &win,
                            .n_windows = 1,
                            .longest_window_days = 28,
                            .metrics = metrics,
                            .n_metrics = 3};
    cfg.score = (struct cw_score_config){
        .components = &comp, .n_components = 1, .grades = grades, .n_grades = 1};
    cfg.users =
        (struct cw_users_config){.enabled = true, .window_days = 10, .n_ranks = 3, .power_rank = 1};
    cfg.users.ranks[0] = (struct cw_rank_band){ss, 100};
    cfg.users.ranks[1] = (struct cw_rank_band){a, 20};
    cfg.users.ranks[2] = (struct cw_rank_band){b, 5};
    /* ann SS, bob A, cy B, dee below every band, eve A but 12 days ago: outside */
    const struct cw_eng_day d_ann[] = {{TODAY, 150}}, d_bob[] = {{TODAY - 3, 25}},
                            d_cy[] = {{TODAY - 9, 7}}, d_dee[] = {{TODAY, 2}},
                            d_eve[] = {{TODAY - 12, 90}};
    const struct cw_user_eng eng[] = {{"ann", d_ann, 1},
                                      {"bob", d_bob, 1},
                                      {"cy", d_cy, 1},
                                      {"dee", d_dee, 1},
                                      {"eve", d_eve, 1}};
    struct cw_traits tr = {.has_seats = true, .seats = 12};
    uint32_t daily[3 * HORIZON] = {0};
    struct cw_account_view v = {.account_id = "acme",
                                .today = TODAY,
                                .first_day = TODAY - 100,
                                .horizon = HORIZON,
                                .n_metrics = 3,
                                .daily = daily,
                                .traits = &tr,
                                .last_seen_ms = -1,
                                .user_eng = eng,
                                .n_user_eng = 5};
    struct cw_score_result r;
    cw_score_compute(&cfg, &v, &r);
    cr_assert(r.has_score);
    cr_expect_float_eq(r.measures[0].raw, 2, 1e-9, "ann and bob: %g", r.measures[0].raw);
    cr_expect_float_eq(r.measures[1].raw, 3.0 / 12, 1e-9, "3 ranked of 12 seats: %g",
                       r.measures[1].raw);
    cr_expect_float_eq(r.score, 100 * (0.5 * 0.5 + 0.5 * 0.5), 1e-9, "%g", r.score);
}
