/* console_chart.h - the web console's score trend chart (docs/console.md) as inline SVG,
 * drawn on the server */
#ifndef CHURNWATCH_CONSOLE_CHART_H
#define CHURNWATCH_CONSOLE_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/html.h"
#include "churnwatch/rules.h"

struct cw_chart_band {
    const char *name; /* a grade */
    double min_score; /* from this score up to the next band's */
};
struct cw_chart_line {
    const char *label; /* e.g. a rule's name */
    double value;      /* a score threshold */
};
struct cw_chart {
    unsigned width, height;              /* of the SVG, in its user units */
    const struct cw_score_point *points; /* ascending by day, scores 0..100 */
    size_t n_points;
    int32_t first_day, last_day;       /* the x axis (first_day <= every point's day <= last_day) */
    const struct cw_chart_band *bands; /* best first, as the config lists grades */
    size_t n_bands;
    const struct cw_chart_line *lines;
    size_t n_lines;
};

/* Where point i is drawn: x from the left by its day on [first_day, last_day], y from the
 * top by its score on [0, 100], inside the plot area (the SVG less its margins). */
void cw_chart_xy(const struct cw_chart *c, size_t i, double *x, double *y);

/* Append the chart as an inline <svg>: the grade bands, a dashed line per threshold, the
 * score as a polyline and one <circle class="pt"> per point (its <title> the date and score). */
void cw_chart_svg(struct cw_html *h, const struct cw_chart *c);

#endif /* CHURNWATCH_CONSOLE_CHART_H */
