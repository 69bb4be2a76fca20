/* values.c - event values: daily statistics, their stored form, window aggregates */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/values.h"

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void cw_value_day_add(struct cw_value_day *d, double v, int64_t ts_ms)
{
    struct cw_value_day one = {.n = 1,
                               .promoters = v >= CW_NPS_PROMOTER_MIN,
                               .detractors = v <= CW_NPS_DETRACTOR_MAX,
                               .sum = v,
                               .min = v,
                               .max = v,
                               .last_ms = ts_ms,
                               .last = v};
    cw_value_day_merge(d, &one);
}

void cw_value_day_merge(struct cw_value_day *into, const struct cw_value_day *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0) {
        *into = *from;
        return;
    }
    into->n = add_sat(into->n, from->n);
    into->promoters = add_sat(into->promoters, from->promoters);
    into->detractors = add_sat(into->detractors, from->detractors);
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    if (from->last_ms > into->last_ms ||
        (from->last_ms == into->last_ms && from->last > into->last)) {
        into->last_ms = from->last_ms;
        into->last = from->last;
    }
}

int cw_value_day_format(const struct cw_value_day *d, char *out, size_t size)
{
    int w = snprintf(
        out, size, "%" PRIu32 " %" PRIu32 " %" PRIu32 " %.17g %.17g %.17g %" PRId64 " %.17g", d->n,
        d->promoters, d->detractors, d->sum, d->min, d->max, d->last_ms, d->last);
    return w < 0 || (size_t)w >= size ? -1 : w;
}

int cw_value_day_parse(const char *s, size_t len, struct cw_value_day *d)
{
    char buf[CW_VALUE_DAY_TEXT_MAX];
    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    unsigned long long n, p, q;
    long long ms;
    double sum, min, max, last;
    int used = 0;
    if (sscanf(buf, "%llu %llu %llu %lf %lf %lf %lld %lf%n", &n, &p, &q, &sum, &min, &max, &ms,
               &last, &used) != 8 ||
        (size_t)used != len || n == 0 || n > UINT32_MAX || p > n || q > n || !isfinite(sum) ||
        !isfinite(min) || !isfinite(max) || !isfinite(last))
        return -1;
    *d = (struct cw_value_day){.n = (uint32_t)n,
                               .promoters = (uint32_t)p,
                               .detractors = (uint32_t)q,
                               .sum = sum,
                               .min = min,
                               .max = max,
                               .last_ms = ms,
                               .last = last};
    return 0;
}

/* RFC 8259 number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < len && s[i] == '.') {
        size_t at = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == at)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t at = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == at)
            return false;
    }
    return i == len;
}

int cw_value_parse(const char *text, size_t len, double *out, const char **why)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf || !json_number(text, len)) {
        *why = len >= sizeof buf ? "is longer than 63 characters" : "is not a number";
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v) || fabs(v) > CW_VALUE_MAX) {
        *why = "is not finite or beyond ±1e12";
        return -1;
    }
    *out = v == 0 ? 0.0 : v; /* -0 stored as 0 */
    return 0;
}

bool cw_value_window(const struct cw_value_day *days, uint32_t horizon, uint32_t window_days,
                     enum cw_aggregate agg, double *out)
{
    struct cw_value_day w = {0};
    uint32_t n = window_days < horizon ? window_days : horizon;
    for (uint32_t i = 0; i < n; i++)
        cw_value_day_merge(&w, &days[i]);
    if (w.n == 0)
        return false;
    switch (agg) {
    case CW_AGG_SUM:
        *out = w.sum;
        return true;
    case CW_AGG_AVG:
        *out = w.sum / w.n;
        return true;
    case CW_AGG_MIN:
        *out = w.min;
        return true;
    case CW_AGG_MAX:
        *out = w.max;
        return true;
    case CW_AGG_LAST:
        *out = w.last;
        return true;
    case CW_AGG_NPS:
        *out = ((double)w.promoters - (double)w.detractors) / w.n * 100.0;
        return true;
    default:
        *out = w.n;
        return true;
    }
}
