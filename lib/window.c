/* window.c - N-day window sums over daily buckets, distinct users, observed span, time checks */
#include "churnwatch/window.h"

#include "churnwatch/config.h"
#include "churnwatch/event.h"

#include <stdio.h>

uint64_t cw_window_sum(const uint32_t *daily, uint32_t horizon, uint32_t days)
{
    uint32_t n = days < horizon ? days : horizon;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += daily[i];
    return sum;
}

uint32_t cw_window_distinct(const int32_t *user_last_day, size_t n_users, int32_t today,
                            uint32_t days)
{
    /* A user counts when today - days < last_day (later days included: see window.h). */
    if (days == 0)
        return 0;
    int64_t oldest = (int64_t)today - (int64_t)days + 1;
    uint32_t count = 0;
    for (size_t i = 0; i < n_users; i++) {
        int32_t d = user_last_day[i];
        if (d != CW_DAY_NONE && d >= oldest)
            count++;
    }
    return count;
}

uint32_t cw_window_observed_days(int32_t first_day, int32_t today, uint32_t days)
{
    if (first_day == CW_DAY_NONE || first_day > today)
        return 0;
    int64_t span = (int64_t)today - (int64_t)first_day + 1;
    return span < (int64_t)days ? (uint32_t)span : days;
}

double cw_window_scale(uint64_t sum, uint32_t observed, uint32_t days)
{
    if (observed == 0)
        return 0.0;
    return (double)sum * (double)days / (double)observed;
}

enum cw_reject cw_time_check(const struct cw_time_policy *policy, int64_t event_ms,
                             int64_t clock_ms, int64_t wall_ms, char *reason, size_t reasonsize)
{
    int64_t oldest = clock_ms - policy->longest_window_ms - policy->lateness_ms;
    char ev[32], at[32], by[CW_DURATION_TEXT_MAX], win[CW_DURATION_TEXT_MAX],
        late[CW_DURATION_TEXT_MAX];
    if (event_ms < oldest) {
        if (reason) {
            char first[32];
            cw_rfc3339_format(event_ms, ev);
            cw_rfc3339_format(oldest, first);
            cw_rfc3339_format(clock_ms, at);
            cw_duration_format(oldest - event_ms, by);
            cw_duration_format(policy->longest_window_ms, win);
            cw_duration_format(policy->lateness_ms, late);
            snprintf(reason, reasonsize,
                     "ts %s is %s before the oldest accepted %s (clock %s less longest window %s "
                     "and lateness %s)",
                     ev, by, first, at, win, late);
        }
        return CW_REJ_TOO_LATE;
    }
    int64_t newest = wall_ms + policy->max_clock_skew_ms;
    if (event_ms > newest) {
        if (reason) {
            cw_rfc3339_format(event_ms, ev);
            cw_rfc3339_format(wall_ms, at);
            cw_duration_format(event_ms - wall_ms, by);
            cw_duration_format(policy->max_clock_skew_ms, late);
            snprintf(reason, reasonsize,
                     "ts %s is %s ahead of the wall clock %s (max_clock_skew %s)", ev, by, at,
                     late);
        }
        return CW_REJ_FUTURE_TIMESTAMP;
    }
    return CW_OK;
}
