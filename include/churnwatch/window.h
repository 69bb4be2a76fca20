/* window.h - local calendar days in an IANA time zone, day-bucket windows, time checks */
#ifndef CHURNWATCH_WINDOW_H
#define CHURNWATCH_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/reject.h"

/*
 * A day number is the local calendar date in the configured zone, counted as days since
 * 1970-01-01 (so 2026-11-22 is 20779 in every zone). A local day lasts 23, 24 or 25 hours
 * across DST changes; day numbers never depend on the length of a day.
 */
#define CW_DAY_NONE INT32_MIN

typedef struct cw_tz cw_tz;

/* Open the IANA zone name ("Asia/Tokyo", "UTC") from the system's compiled zone files
 * in /usr/share/zoneinfo (TZif, kept current by the tzdata package); the file is read
 * once, so a zone follows a tzdata update when it is opened again. Names are 1 to 64
 * characters of [A-Za-z0-9/_+.-] without empty, "." or ".." components; "localtime",
 * "posixrules", "Factory" and the posix/ and right/ trees are not zones. On error
 * (unknown name, unreadable or corrupt file) NULL is returned with a message in err
 * (which may be NULL). A cw_tz caches recent offsets and is not thread-safe; use one
 * per thread. Instants are clamped to +-8.64e15 ms (+-100,000,000 days) around the
 * epoch; UTC offsets are below one day (files with larger ones are rejected). */
cw_tz *cw_tz_open(const char *name, char *err, size_t errsize);

/* cw_tz_open reading zone files from zoneinfo_dir instead (for tests). */
cw_tz *cw_tz_open_dir(const char *zoneinfo_dir, const char *name, char *err, size_t errsize);

/* cw_tz_free(NULL) is a no-op. */
void cw_tz_free(cw_tz *tz);

/* True when cw_tz_open(name) succeeds: the name is allowed and its zone file exists and
 * parses. It reads the file each time. */
bool cw_tz_valid(const char *name);

/* UTC offset in milliseconds at instant ms (e.g. +32400000 in Tokyo). */
int64_t cw_tz_offset_ms(cw_tz *tz, int64_t ms);

/* Local day number of instant ms. */
int32_t cw_tz_day(cw_tz *tz, int64_t ms);

/* First instant (epoch ms) of local day; where local midnight does not exist (a DST
 * jump at 00:00) the first instant that belongs to the day. A day skipped entirely
 * (Pacific/Apia, 2011-12-30) starts where the next one starts. */
int64_t cw_tz_day_start(cw_tz *tz, int32_t day);

/* Civil date <-> day number (proleptic Gregorian, zone-free). cw_days_from_civil
 * returns CW_DAY_NONE for a date that does not exist (month outside 1..12, 2026-02-29)
 * or a year outside -5000000..5000000. */
int32_t cw_days_from_civil(int year, unsigned month, unsigned mday);
void cw_civil_from_days(int32_t day, int *year, unsigned *month, unsigned *mday);

/*
 * Daily counters of one metric, newest first: daily[0] is `today`, daily[i] is
 * today - i, for i < horizon. cw_window_sum adds the last `days` days (clamped to
 * the horizon).
 */
uint64_t cw_window_sum(const uint32_t *daily, uint32_t horizon, uint32_t days);

/*
 * Distinct users active in the last `days` days ending today: the number of entries of
 * user_last_day (each user's last active local day) with today - days < day. A last day
 * after today counts: during a backfill an account's later events can be applied before
 * the event-time clock reaches them, and such a user was active at least that recently.
 * days == 0 counts nobody.
 */
uint32_t cw_window_distinct(const int32_t *user_last_day, size_t n_users, int32_t today,
                            uint32_t days);

/*
 * The observed-span rule (docs/guarantees.md, no alert storms): how many days of a `days`-day
 * window ending today were actually observed for an account first seen on first_day. Returns 0 when
 * first_day is CW_DAY_NONE or after today, else min(days, today - first_day + 1).
 */
uint32_t cw_window_observed_days(int32_t first_day, int32_t today, uint32_t days);

/*
 * Scale a window count observed over `observed` of `days` days to the whole window
 * (sum * days / observed). observed == 0 yields 0.
 */
double cw_window_scale(uint64_t sum, uint32_t observed, uint32_t days);

/* The time policy of events (`lateness`, `max_clock_skew`: docs/configuration.md). */
struct cw_time_policy {
    int64_t longest_window_ms; /* longest configured window */
    int64_t lateness_ms;
    int64_t max_clock_skew_ms;
};

/*
 * Judge an event time against the daemon's clock (event-time watermark or wall clock,
 * docs/design.md "The clock") and the wall clock:
 *   event_ms < clock_ms - longest_window_ms - lateness_ms  -> CW_REJ_TOO_LATE
 *   event_ms > wall_ms + max_clock_skew_ms                 -> CW_REJ_FUTURE_TIMESTAMP
 * else CW_OK. reason (may be NULL) gets a human explanation on rejection.
 */
enum cw_reject cw_time_check(const struct cw_time_policy *policy, int64_t event_ms,
                             int64_t clock_ms, int64_t wall_ms, char *reason, size_t reasonsize);

#endif /* CHURNWATCH_WINDOW_H */
