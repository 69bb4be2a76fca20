/* values.h - numeric event values: one day's statistics, their stored form, and a
 * measure's aggregate over a window of days (docs/state.md "Event values") */
#ifndef CHURNWATCH_VALUES_H
#define CHURNWATCH_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values accepted on events: finite, |v| <= CW_VALUE_MAX (a larger one is bad_value). */
#define CW_VALUE_MAX 1e12

/* NPS buckets of a 0..10 answer: promoters answer at least 9, detractors at most 6. */
#define CW_NPS_PROMOTER_MIN  9.0
#define CW_NPS_DETRACTOR_MAX 6.0

/* What a measure computes over its window (measures' `aggregate`). */
enum cw_aggregate {
    CW_AGG_COUNT = 0, /* events (the default; every metric) */
    CW_AGG_SUM,       /* sum of the values */
    CW_AGG_AVG,       /* sum / count */
    CW_AGG_MIN,
    CW_AGG_MAX,
    CW_AGG_LAST, /* the value with the latest event time */
    CW_AGG_NPS,  /* (promoters - detractors) / count * 100 */
    CW_AGG__COUNT
};

/* Names: cw_aggregate_names (churnwatch/enum_names.h). */

/*
 * The values of one metric on one day. n == 0: no value (the other fields are then 0).
 * Merging is commutative and associative (sums and counts add, min and max, `last` the
 * value of the latest event time, of equal times the larger value), so the same events
 * give the same statistics whatever the order or batching they are applied in; sums are
 * exact while they are whole numbers below 2^53.
 */
struct cw_value_day {
    uint32_t n;
    uint32_t promoters;  /* values >= CW_NPS_PROMOTER_MIN */
    uint32_t detractors; /* values <= CW_NPS_DETRACTOR_MAX */
    double sum, min, max;
    int64_t last_ms; /* event time of last */
    double last;
};

/* Add one value of event time ts_ms. */
void cw_value_day_add(struct cw_value_day *d, double v, int64_t ts_ms);

/* Merge from into into (either may be empty). */
void cw_value_day_merge(struct cw_value_day *into, const struct cw_value_day *from);

/* The stored form, "n promoters detractors sum min max last_ms last" (doubles %.17g, as
 * store_functions.lua writes them). Returns the length written (< size), or -1 when it
 * does not fit. CW_VALUE_DAY_TEXT_MAX bytes always suffice. */
#define CW_VALUE_DAY_TEXT_MAX 192
int cw_value_day_format(const struct cw_value_day *d, char *out, size_t size);

/* Parse the stored form (len bytes, not NUL-terminated). 0, or -1 when malformed. */
int cw_value_day_parse(const char *s, size_t len, struct cw_value_day *d);

/*
 * Parse a value as events carry it: the text of a JSON number (or of a string holding
 * exactly a JSON number), len bytes. 0 with *out, or -1 with a short reason in *why
 * ("is not a number", "is not finite or beyond ±1e12").
 */
int cw_value_parse(const char *text, size_t len, double *out, const char **why);

/*
 * The aggregate over the last `days` days ending today of one metric's daily values, days[i]
 * being day today - i for i < horizon (newest first; days beyond the horizon are not
 * held). agg must not be CW_AGG_COUNT (counts come from the day counters). False when the
 * window holds no value: n/a, not zero.
 */
bool cw_value_window(const struct cw_value_day *days, uint32_t horizon, uint32_t window_days,
                     enum cw_aggregate agg, double *out);

#endif /* CHURNWATCH_VALUES_H */
