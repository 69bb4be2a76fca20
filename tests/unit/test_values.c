/* test_values.c - event values: parsing, a day's statistics (merge order, stored form) and the
 * window aggregates (sum, avg, min, max, last, nps; empty windows are n/a) */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "churnwatch/enum_names.h"
#include "churnwatch/values.h"

struct parse_case {
    const char *text;
    bool ok;
    double want;
};

static const struct parse_case parse_cases[] = {
    {"0", true, 0},         {"10", true, 10},    {"-3", true, -3},        {"2.5", true, 2.5},
    {"1e3", true, 1000},    {"1E+2", true, 100}, {"-0", true, 0},         {"1e12", true, 1e12},
    {"-1e12", true, -1e12}, {"1e13", false, 0},  {"1e400", false, 0},     {"NaN", false, 0},
    {"nan", false, 0},      {"inf", false, 0},   {"-Infinity", false, 0}, {"0x1p3", false, 0},
    {"01", false, 0},       {"1.", false, 0},    {".5", false, 0},        {"+1", false, 0},
    {" 1", false, 0},       {"1 ", false, 0},    {"", false, 0},          {"1e", false, 0},
    {"--1", false, 0},      {"1,5", false, 0},   {"12abc", false, 0},
};

Test(values, parse_accepts_json_numbers_only)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        double v = -99;
        const char *why = NULL;
        int rc = cw_value_parse(c->text, strlen(c->text), &v, &why);
        cr_expect_eq(rc == 0, c->ok, "'%s': rc %d (%s)", c->text, rc, why ? why : "");
        if (c->ok && rc == 0) {
            cr_expect_eq(v, c->want, "'%s': %.17g", c->text, v);
            cr_expect(c->want != 0 || !signbit(v), "'%s': negative zero", c->text);
        }
        if (!c->ok)
            cr_expect_not_null(why, "'%s': a reason", c->text);
    }
}

static bool same_day(const struct cw_value_day *a, const struct cw_value_day *b)
{
    return a->n == b->n && a->promoters == b->promoters && a->detractors == b->detractors &&
           a->sum == b->sum && a->min == b->min && a->max == b->max && a->last_ms == b->last_ms &&
           a->last == b->last;
}

static const double answers[] = {9, 3, 10, 6, 7, 10, 0, 8};
static const int64_t times[] = {500, 100, 900, 300, 900, 200, 50, 700};
#define N_ANSWERS (sizeof answers / sizeof answers[0])

Test(values, a_day_is_the_same_whatever_the_order_and_grouping)
{
    struct cw_value_day fwd = {0}, rev = {0}, halves = {0}, a = {0}, b = {0};
    for (size_t i = 0; i < N_ANSWERS; i++) {
        cw_value_day_add(&fwd, answers[i], times[i]);
        cw_value_day_add(&rev, answers[N_ANSWERS - 1 - i], times[N_ANSWERS - 1 - i]);
        cw_value_day_add(i % 2 ? &a : &b, answers[i], times[i]);
    }
    cw_value_day_merge(&halves, &a);
    cw_value_day_merge(&halves, &b);
    const struct cw_value_day *all[] = {&fwd, &rev, &halves};
    for (size_t k = 0; k < 3; k++) {
        const struct cw_value_day *d = all[k];
        cr_expect_eq(d->n, 8, "[%zu]", k);
        cr_expect_eq(d->sum, 53, "[%zu]", k);
        cr_expect_eq(d->min, 0, "[%zu]", k);
        cr_expect_eq(d->max, 10, "[%zu]", k);
        cr_expect_eq(d->promoters, 3, "[%zu] 9, 10, 10", k);
        cr_expect_eq(d->detractors, 3, "[%zu] 3, 6, 0", k);
        /* two answers at 900: the larger wins, whichever came first */
        cr_expect_eq(d->last_ms, 900, "[%zu]", k);
        cr_expect_eq(d->last, 10, "[%zu]", k);
    }
    struct cw_value_day empty = {0}, copy = fwd;
    cw_value_day_merge(&copy, &empty);
    cr_expect(same_day(&copy, &fwd), "merging nothing changes nothing");
}

Test(values, stored_form_round_trips)
{
    struct cw_value_day d = {0}, back;
    cw_value_day_add(&d, 0.1, INT64_C(1795305600123));
    cw_value_day_add(&d, -2.75, INT64_C(1795305600000));
    cw_value_day_add(&d, 1e12, INT64_C(1795305600000));
    char text[CW_VALUE_DAY_TEXT_MAX];
    int n = cw_value_day_format(&d, text, sizeof text);
    cr_assert_gt(n, 0);
    cr_assert_eq(cw_value_day_parse(text, (size_t)n, &back), 0, "%s", text);
    cr_expect(same_day(&back, &d), "%s", text);

    struct cw_value_day w = {0};
    cw_value_day_add(&w, 7, INT64_C(1795305600000));
    n = cw_value_day_format(&w, text, sizeof text);
    cr_expect_str_eq(text, "1 0 0 7 7 7 1795305600000 7");
    const char *bad[] = {"",
                         "1 0 0 7 7 7 1795305600000",
                         "0 0 0 0 0 0 0 0",
                         "1 2 0 7 7 7 1 7",
                         "1 0 0 nan 7 7 1 7",
                         "1 0 0 7 7 7 1 7 x",
                         "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cw_value_day_parse(bad[i], strlen(bad[i]), &back), -1, "'%s'", bad[i]);
    cr_expect_eq(cw_value_day_format(&w, text, 8), -1, "too small a buffer");
}

/* Days newest first: today - i. */
static struct cw_value_day days[28];

static void fill(void)
{
    memset(days, 0, sizeof days);
    /* today: 10 at 12:00 and 2 at 08:00; 3 days ago: 6 and 9; 10 days ago: 0 at a later
     * time of day than anything else (an out-of-order late arrival of an older day) */
    cw_value_day_add(&days[0], 10, 1000 * 43200);
    cw_value_day_add(&days[0], 2, 1000 * 28800);
    cw_value_day_add(&days[3], 6, -3 * 86400000LL + 1000);
    cw_value_day_add(&days[3], 9, -3 * 86400000LL + 2000);
    cw_value_day_add(&days[10], 0, -10 * 86400000LL + 80000000);
}

struct window_case {
    enum cw_aggregate agg;
    uint32_t window;
    bool has;
    double want;
};

/* today 10 and 2; 3 days ago 6 and 9; 10 days ago 0. Promoters 10 and 9, detractors 2, 6
 * and 0: over 7 days 2 - 2 of 4, over 28 days 2 - 3 of 5. */
static const struct window_case window_cases[] = {
    {CW_AGG_SUM, 7, true, 27},   {CW_AGG_SUM, 28, true, 27},  {CW_AGG_SUM, 1, true, 12},
    {CW_AGG_AVG, 7, true, 6.75}, {CW_AGG_AVG, 28, true, 5.4}, {CW_AGG_MIN, 7, true, 2},
    {CW_AGG_MIN, 28, true, 0},   {CW_AGG_MAX, 28, true, 10},  {CW_AGG_LAST, 28, true, 10},
    {CW_AGG_LAST, 1, true, 10},  {CW_AGG_NPS, 7, true, 0},    {CW_AGG_NPS, 28, true, -20},
    {CW_AGG_SUM, 0, false, 0},
};

Test(values, window_aggregates)
{
    fill();
    for (size_t i = 0; i < sizeof window_cases / sizeof window_cases[0]; i++) {
        const struct window_case *c = &window_cases[i];
        double v = -1;
        bool has = cw_value_window(days, 28, c->window, c->agg, &v);
        const char *name = cw_enum_name(&cw_aggregate_names, (int)c->agg);
        cr_expect_eq(has, c->has, "[%s over %u]", name, c->window);
        if (has && c->has)
            cr_expect(fabs(v - c->want) < 1e-12, "[%s over %u] %.17g, want %.17g", name, c->window,
                      v, c->want);
    }
}

Test(values, a_window_without_values_is_na_for_every_aggregate)
{
    memset(days, 0, sizeof days);
    cw_value_day_add(&days[27], 5, 0); /* outside a 7-day window */
    for (int agg = CW_AGG_SUM; agg < CW_AGG__COUNT; agg++) {
        double v = -1;
        cr_expect_not(cw_value_window(days, 28, 7, (enum cw_aggregate)agg, &v), "%s",
                      cw_enum_name(&cw_aggregate_names, agg));
        cr_expect(cw_value_window(days, 28, 28, (enum cw_aggregate)agg, &v));
        /* a 5 is a detractor (0..6) */
        cr_expect_eq(v, agg == CW_AGG_NPS ? -100 : 5, "%s", cw_enum_name(&cw_aggregate_names, agg));
    }
    /* a window longer than the days held reads what is held */
    double v;
    cr_expect(cw_value_window(days, 28, 90, CW_AGG_SUM, &v));
    cr_expect_eq(v, 5);
}
