/* test_window.c - window sums, distinct users, observed span, scaling and time checks */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

Test(window, sum_adds_the_newest_days_and_clamps_to_the_horizon)
{
    const uint32_t daily[5] = {1, 2, 3, 4, 5}; /* today first */
    cr_assert_eq(cw_window_sum(daily, 5, 0), 0);
    cr_assert_eq(cw_window_sum(daily, 5, 1), 1);
    cr_assert_eq(cw_window_sum(daily, 5, 3), 6);
    cr_assert_eq(cw_window_sum(daily, 5, 5), 15);
    cr_assert_eq(cw_window_sum(daily, 5, 28), 15);
    cr_assert_eq(cw_window_sum(daily, 3, 28), 6);
    cr_assert_eq(cw_window_sum(daily, 0, 28), 0);
}

Test(window, sum_does_not_overflow_32_bits)
{
    const uint32_t daily[3] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
    cr_assert_eq(cw_window_sum(daily, 3, 3), 3 * (uint64_t)UINT32_MAX);
}

/* A user counts when today - days < last_day: a last day after today (an event applied
 * ahead of the event-time clock in a backfill) counts as active. */
Test(window, distinct_bounds)
{
    const int32_t last[] = {100, 94, 93, 101, CW_DAY_NONE, 50, 100};
    size_t n = sizeof last / sizeof last[0];
    cr_assert_eq(cw_window_distinct(last, n, 100, 7), 4); /* 100, 94, 101, 100 */
    cr_assert_eq(cw_window_distinct(last, n, 100, 8), 5); /* + 93 */
    cr_assert_eq(cw_window_distinct(last, n, 100, 1), 3); /* today and later */
    cr_assert_eq(cw_window_distinct(last, n, 100, 0), 0);
    cr_assert_eq(cw_window_distinct(last, n, 101, 1), 1); /* 101 */
    cr_assert_eq(cw_window_distinct(last, n, 100, 366), 6);
    cr_assert_eq(cw_window_distinct(NULL, 0, 100, 7), 0);
    /* Near the int32 limits the bounds do not wrap. */
    const int32_t edge[] = {INT32_MIN + 1, INT32_MAX};
    cr_assert_eq(cw_window_distinct(edge, 2, INT32_MIN + 1, 7), 2);
    cr_assert_eq(cw_window_distinct(edge, 2, INT32_MAX, 7), 1);
}

Test(window, observed_days)
{
    cr_assert_eq(cw_window_observed_days(CW_DAY_NONE, 100, 7), 0);
    cr_assert_eq(cw_window_observed_days(101, 100, 7), 0);
    cr_assert_eq(cw_window_observed_days(100, 100, 7), 1);
    cr_assert_eq(cw_window_observed_days(95, 100, 7), 6);
    cr_assert_eq(cw_window_observed_days(94, 100, 7), 7);
    cr_assert_eq(cw_window_observed_days(93, 100, 7), 7);
    cr_assert_eq(cw_window_observed_days(-20000, 100, 28), 28);
    cr_assert_eq(cw_window_observed_days(INT32_MIN + 1, INT32_MAX, 366), 366);
    cr_assert_eq(cw_window_observed_days(100, 100, 0), 0);
}

Test(window, scale_to_the_whole_window)
{
    cr_assert_float_eq(cw_window_scale(10, 5, 28), 56.0, 1e-12);
    cr_assert_float_eq(cw_window_scale(10, 28, 28), 10.0, 1e-12);
    cr_assert_float_eq(cw_window_scale(3, 7, 7), 3.0, 1e-12);
    cr_assert_float_eq(cw_window_scale(0, 5, 28), 0.0, 1e-12);
    cr_assert_float_eq(cw_window_scale(10, 0, 28), 0.0, 1e-12);
    cr_assert_float_eq(cw_window_scale(1, 3, 7), 7.0 / 3.0, 1e-12);
}

#define DAY CW_MS_PER_DAY
#define MIN (INT64_C(60) * 1000)

static const struct cw_time_policy policy = {
    .longest_window_ms = 28 * DAY, .lateness_ms = 2 * DAY, .max_clock_skew_ms = 15 * MIN};
static const int64_t now = INT64_C(1795305600000); /* 2026-11-22T00:00:00Z */

/* Exactly at either limit is accepted; one millisecond beyond is not. */
Test(window, time_check_boundaries)
{
    char reason[256];
    int64_t oldest = now - 30 * DAY;
    cr_assert_eq(cw_time_check(&policy, now, now, now, reason, sizeof reason), CW_OK);
    cr_assert_eq(cw_time_check(&policy, oldest, now, now, reason, sizeof reason), CW_OK);
    reason[0] = '\0';
    cr_assert_eq(cw_time_check(&policy, oldest - 1, now, now, reason, sizeof reason),
                 CW_REJ_TOO_LATE);
    cr_assert_str_eq(reason,
                     "ts 2026-10-22T23:59:59.999Z is 1ms before the oldest accepted "
                     "2026-10-23T00:00:00Z (clock 2026-11-22T00:00:00Z less longest window 28d "
                     "and lateness 2d)");
    cr_assert_eq(cw_time_check(&policy, now + 15 * MIN, now, now, reason, sizeof reason), CW_OK);
    reason[0] = '\0';
    cr_assert_eq(cw_time_check(&policy, now + 15 * MIN + 1, now, now, reason, sizeof reason),
                 CW_REJ_FUTURE_TIMESTAMP);
    cr_assert_str_eq(reason, "ts 2026-11-22T00:15:00.001Z is 15m 1ms ahead of the wall clock "
                             "2026-11-22T00:00:00Z (max_clock_skew 15m)");
    /* reason may be NULL. */
    cr_assert_eq(cw_time_check(&policy, oldest - 1, now, now, NULL, 0), CW_REJ_TOO_LATE);
    cr_assert_eq(cw_time_check(&policy, now + DAY, now, now, NULL, 0), CW_REJ_FUTURE_TIMESTAMP);
}

/* During a backfill the clock is the event-time watermark, far behind the wall clock:
 * history within the windows is accepted, the future is judged against the wall clock. */
Test(window, time_check_backfill_uses_the_watermark)
{
    int64_t watermark = now - 90 * DAY;
    cr_assert_eq(cw_time_check(&policy, watermark - 30 * DAY, watermark, now, NULL, 0), CW_OK);
    cr_assert_eq(cw_time_check(&policy, watermark - 30 * DAY - 1, watermark, now, NULL, 0),
                 CW_REJ_TOO_LATE);
    cr_assert_eq(cw_time_check(&policy, now, watermark, now, NULL, 0), CW_OK);
    cr_assert_eq(cw_time_check(&policy, now + 15 * MIN + 1, watermark, now, NULL, 0),
                 CW_REJ_FUTURE_TIMESTAMP);
}
