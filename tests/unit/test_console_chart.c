/* test_console_chart.c - the console's trend chart: one point per history day, placed by
 * day and score, bands and thresholds drawn, labels escaped */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/console_chart.h"
#include "churnwatch/window.h"

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static const struct cw_chart_band bands[] = {{"A", 80}, {"B", 60}, {"C", 40}, {"D", 0}};

Test(console_chart, points_are_placed_by_day_and_score)
{
    struct cw_score_point pts[] = {{100, 0}, {105, 50}, {110, 100}};
    struct cw_chart c = {.width = 624,
                         .height = 234,
                         .points = pts,
                         .n_points = 3,
                         .first_day = 100,
                         .last_day = 110};
    double x0, y0, x1, y1, x2, y2;
    cw_chart_xy(&c, 0, &x0, &y0);
    cw_chart_xy(&c, 1, &x1, &y1);
    cw_chart_xy(&c, 2, &x2, &y2);
    /* plot area: x 34..534, y 10..210 */
    cr_expect_float_eq(x0, 34.0, 1e-9);
    cr_expect_float_eq(x1, 284.0, 1e-9);
    cr_expect_float_eq(x2, 534.0, 1e-9);
    cr_expect_float_eq(y0, 210.0, 1e-9);
    cr_expect_float_eq(y1, 110.0, 1e-9);
    cr_expect_float_eq(y2, 10.0, 1e-9);
}

Test(console_chart, a_single_day_is_centred_and_scores_are_clamped)
{
    struct cw_score_point pts[] = {{7, 140}};
    struct cw_chart c = {
        .width = 624, .height = 234, .points = pts, .n_points = 1, .first_day = 7, .last_day = 7};
    double x, y;
    cw_chart_xy(&c, 0, &x, &y);
    cr_expect_float_eq(x, 284.0, 1e-9);
    cr_expect_float_eq(y, 10.0, 1e-9);
}

Test(console_chart, svg_has_one_circle_per_day_bands_and_thresholds)
{
    struct cw_score_point pts[90];
    for (int i = 0; i < 90; i++)
        pts[i] = (struct cw_score_point){20700 + i, 30 + i % 40};
    struct cw_chart_line lines[] = {{"health_low", 40}, {"<b>x</b>", 50}};
    struct cw_chart c = {.width = 600,
                         .height = 220,
                         .points = pts,
                         .n_points = 90,
                         .first_day = 20700,
                         .last_day = 20789,
                         .bands = bands,
                         .n_bands = 4,
                         .lines = lines,
                         .n_lines = 2};
    struct cw_html h = {0};
    cw_chart_svg(&h, &c);
    cr_assert_not(h.oom);
    cr_expect_eq(strncmp(h.s, "<svg ", 5), 0);
    cr_expect_eq(count(h.s, "<circle class=\"pt\""), 90);
    cr_expect_eq(count(h.s, "<polyline"), 1);
    cr_expect_eq(count(h.s, "<rect class=\"band"), 4);
    cr_expect_eq(count(h.s, "<line class=\"threshold\""), 2);
    cr_expect_neq(strstr(h.s, "health_low 40</text>"), NULL);
    cr_expect_neq(strstr(h.s, "&lt;b&gt;x&lt;/b&gt; 50</text>"), NULL);
    cr_expect_eq(strstr(h.s, "<b>"), NULL);
    int y;
    unsigned m, d;
    cw_civil_from_days(20700, &y, &m, &d);
    char first[64];
    snprintf(first, sizeof first, "data-day=\"%04d-%02u-%02u\"", y, m, d);
    cr_expect_neq(strstr(h.s, first), NULL, "%s", first);
    cr_expect_eq(strcmp(h.s + h.len - 6, "</svg>"), 0);
    cw_html_free(&h);
}

Test(console_chart, no_history_draws_the_frame_only)
{
    struct cw_chart c = {
        .width = 600, .height = 220, .first_day = 5, .last_day = 9, .bands = bands, .n_bands = 4};
    struct cw_html h = {0};
    cw_chart_svg(&h, &c);
    cr_expect_eq(count(h.s, "<circle"), 0);
    cr_expect_eq(count(h.s, "<polyline"), 0);
    cr_expect_eq(count(h.s, "<rect"), 4);
    cw_html_free(&h);
}
