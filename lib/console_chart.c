/* console_chart.c - the web console's score trend chart, as inline SVG */
#include "churnwatch/console_chart.h"

#include <stdio.h>

#include "churnwatch/window.h"

#define MARGIN_LEFT   34
#define MARGIN_RIGHT  90 /* the thresholds' labels */
#define MARGIN_TOP    10
#define MARGIN_BOTTOM 24

static double plot_w(const struct cw_chart *c)
{
    double w = (double)c->width - MARGIN_LEFT - MARGIN_RIGHT;
    return w > 1 ? w : 1;
}

static double plot_h(const struct cw_chart *c)
{
    double h = (double)c->height - MARGIN_TOP - MARGIN_BOTTOM;
    return h > 1 ? h : 1;
}

static double y_of(const struct cw_chart *c, double score)
{
    if (score < 0)
        score = 0;
    if (score > 100)
        score = 100;
    return MARGIN_TOP + plot_h(c) * (100 - score) / 100;
}

static double x_of(const struct cw_chart *c, int32_t day)
{
    double span = (double)c->last_day - (double)c->first_day;
    if (span <= 0)
        return MARGIN_LEFT + plot_w(c) / 2;
    return MARGIN_LEFT + plot_w(c) * ((double)day - (double)c->first_day) / span;
}

void cw_chart_xy(const struct cw_chart *c, size_t i, double *x, double *y)
{
    *x = x_of(c, c->points[i].day);
    *y = y_of(c, c->points[i].score);
}

static void date_text(char *buf, size_t size, int32_t day)
{
    int y;
    unsigned m, d;
    cw_civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02u-%02u", y, m, d);
}

void cw_chart_svg(struct cw_html *h, const struct cw_chart *c)
{
    cw_html_printf(h,
                   "<svg class=\"chart\" viewBox=\"0 0 %u %u\" width=\"%u\" height=\"%u\" "
                   "role=\"img\" aria-label=\"score trend\">",
                   c->width, c->height, c->width, c->height);
    /* grade bands, best first: each from its minimum up to the previous band's */
    double top = 100;
    for (size_t b = 0; b < c->n_bands; b++) {
        double lo = c->bands[b].min_score;
        double y0 = y_of(c, top), y1 = y_of(c, lo);
        cw_html_printf(h,
                       "<rect class=\"band band%zu\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
                       "height=\"%.1f\"/><text class=\"bandname\" x=\"%d\" y=\"%.1f\">",
                       b % 8, MARGIN_LEFT, y0, plot_w(c), y1 - y0, MARGIN_LEFT + 4,
                       (y0 + y1) / 2 + 4);
        cw_html_text(h, c->bands[b].name);
        cw_html_raw(h, "</text>");
        top = lo;
    }
    /* the y axis: 0, 50, 100 */
    for (int s = 0; s <= 100; s += 50)
        cw_html_printf(h, "<text class=\"axis\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>",
                       MARGIN_LEFT - 4, y_of(c, s) + 4, s);
    for (size_t i = 0; i < c->n_lines; i++) {
        double y = y_of(c, c->lines[i].value);
        cw_html_printf(h,
                       "<line class=\"threshold\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                       "<text class=\"thlabel\" x=\"%.1f\" y=\"%.1f\">",
                       MARGIN_LEFT, y, MARGIN_LEFT + plot_w(c), y, MARGIN_LEFT + plot_w(c) + 4,
                       y + 4);
        cw_html_text(h, c->lines[i].label);
        cw_html_printf(h, " %g</text>", c->lines[i].value);
    }
    char d0[16], d1[16];
    date_text(d0, sizeof d0, c->first_day);
    date_text(d1, sizeof d1, c->last_day);
    double base = MARGIN_TOP + plot_h(c) + 16;
    cw_html_printf(h,
                   "<text class=\"axis\" x=\"%d\" y=\"%.1f\">%s</text>"
                   "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                   MARGIN_LEFT, base, d0, MARGIN_LEFT + plot_w(c), base, d1);
    if (c->n_points > 0) {
        cw_html_raw(h, "<polyline class=\"score\" points=\"");
        for (size_t i = 0; i < c->n_points; i++) {
            double x, y;
            cw_chart_xy(c, i, &x, &y);
            cw_html_printf(h, "%s%.1f,%.1f", i ? " " : "", x, y);
        }
        cw_html_raw(h, "\"/>");
    }
    for (size_t i = 0; i < c->n_points; i++) {
        double x, y;
        cw_chart_xy(c, i, &x, &y);
        char d[16];
        date_text(d, sizeof d, c->points[i].day);
        cw_html_printf(h,
                       "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                       "data-day=\"%s\"><title>%s: %.1f</title></circle>",
                       x, y, d, d, c->points[i].score);
    }
    cw_html_raw(h, "</svg>");
}
