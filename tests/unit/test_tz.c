/* test_tz.c - local days in IANA zones: DST, odd offsets, TZif files, glibc oracle; civil dates */
#define _DEFAULT_SOURCE /* struct tm's tm_gmtoff */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

#define H  (INT64_C(3600) * 1000)
#define MN (INT64_C(60) * 1000)

#define ZONEINFO "/usr/share/zoneinfo"

/* Epoch ms of a UTC date-time. */
static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi)
{
    int32_t day = cw_days_from_civil(y, mo, d);
    cr_assert_neq(day, CW_DAY_NONE);
    return (int64_t)day * CW_MS_PER_DAY + h * H + mi * MN;
}

static int32_t date(int y, unsigned mo, unsigned d)
{
    return cw_days_from_civil(y, mo, d);
}

static cw_tz *open_zone(const char *name)
{
    char err[256] = "";
    cw_tz *tz = cw_tz_open(name, err, sizeof err);
    cr_assert_not_null(tz, "cw_tz_open(%s): %s", name, err);
    return tz;
}

/* glibc as the oracle: point TZ at a zone file (":Area/City") or a POSIX TZ string. Only
 * this test process's environment changes. */
static void glibc_zone(const char *tz)
{
    cr_assert_eq(setenv("TZ", tz, 1), 0);
    tzset();
}

/* glibc's UTC offset (ms) and local day at instant s (seconds). */
static void glibc_at(int64_t s, int64_t *offset_ms, int32_t *day)
{
    time_t t = (time_t)s;
    struct tm tm;
    cr_assert_not_null(localtime_r(&t, &tm), "localtime_r(%lld)", (long long)s);
    *offset_ms = (int64_t)tm.tm_gmtoff * 1000;
    *day = cw_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
/* xorshift64: reproducible pseudo-random instants. */
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* --- civil dates --- */

Test(civil, known_dates)
{
    cr_assert_eq(cw_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(cw_days_from_civil(1969, 12, 31), -1);
    cr_assert_eq(cw_days_from_civil(2026, 11, 22), 20779);
    cr_assert_eq(cw_days_from_civil(2000, 2, 29), 11016);
    cr_assert_eq(cw_days_from_civil(1900, 3, 1), -25508);
    cr_assert_eq(cw_days_from_civil(1, 1, 1), -719162);
    cr_assert_eq(cw_days_from_civil(0, 3, 1), -719468);
}

Test(civil, leap_days)
{
    /* Divisible by 4: leap; by 100: not; by 400: leap. */
    cr_assert_eq(cw_days_from_civil(2024, 3, 1) - cw_days_from_civil(2024, 2, 28), 2);
    cr_assert_eq(cw_days_from_civil(2026, 3, 1) - cw_days_from_civil(2026, 2, 28), 1);
    cr_assert_eq(cw_days_from_civil(1900, 3, 1) - cw_days_from_civil(1900, 2, 28), 1);
    cr_assert_eq(cw_days_from_civil(2000, 3, 1) - cw_days_from_civil(2000, 2, 28), 2);
    cr_assert_eq(cw_days_from_civil(2100, 3, 1) - cw_days_from_civil(2100, 2, 28), 1);
    cr_assert_eq(cw_days_from_civil(-400, 3, 1) - cw_days_from_civil(-400, 2, 28), 2);
    cr_assert_eq(cw_days_from_civil(-100, 3, 1) - cw_days_from_civil(-100, 2, 28), 1);
    cr_assert_eq(cw_days_from_civil(2027, 1, 1) - cw_days_from_civil(2026, 1, 1), 365);
    cr_assert_eq(cw_days_from_civil(2029, 1, 1) - cw_days_from_civil(2028, 1, 1), 366);
    /* 400 Gregorian years are exactly 146097 days. */
    cr_assert_eq(cw_days_from_civil(2400, 1, 1) - cw_days_from_civil(2000, 1, 1), 146097);

    int y;
    unsigned m, d;
    cw_civil_from_days(11016, &y, &m, &d);
    cr_assert(y == 2000 && m == 2 && d == 29);
    cw_civil_from_days(cw_days_from_civil(2024, 2, 29) + 1, &y, &m, &d);
    cr_assert(y == 2024 && m == 3 && d == 1);
}

Test(civil, dates_that_do_not_exist_are_rejected)
{
    cr_assert_eq(cw_days_from_civil(2026, 2, 29), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(1900, 2, 29), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(2026, 4, 31), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(2026, 0, 1), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(2026, 13, 1), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(2026, 1, 0), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(2026, 1, 32), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(5000001, 1, 1), CW_DAY_NONE);
    cr_assert_eq(cw_days_from_civil(-5000001, 1, 1), CW_DAY_NONE);
    cr_assert_neq(cw_days_from_civil(2024, 2, 29), CW_DAY_NONE);
}

Test(civil, negative_days_before_1970)
{
    int y;
    unsigned m, d;
    cw_civil_from_days(-1, &y, &m, &d);
    cr_assert(y == 1969 && m == 12 && d == 31, "%d-%u-%u", y, m, d);
    cw_civil_from_days(-719162, &y, &m, &d);
    cr_assert(y == 1 && m == 1 && d == 1, "%d-%u-%u", y, m, d);
    cw_civil_from_days(-719163, &y, &m, &d);
    cr_assert(y == 0 && m == 12 && d == 31, "%d-%u-%u", y, m, d);
    cw_civil_from_days(cw_days_from_civil(-44, 3, 15), &y, &m, &d);
    cr_assert(y == -44 && m == 3 && d == 15, "%d-%u-%u", y, m, d);
}

/* Every day over +-1,000,000 days (about +-2,738 years) round-trips, and consecutive days
 * are consecutive dates. */
Test(civil, round_trip_wide_range)
{
    int py;
    unsigned pm, pd;
    cw_civil_from_days(-1000001, &py, &pm, &pd);
    for (int32_t day = -1000000; day <= 1000000; day++) {
        int y;
        unsigned m, d;
        cw_civil_from_days(day, &y, &m, &d);
        cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        cr_assert_eq(cw_days_from_civil(y, m, d), day, "day %d -> %d-%u-%u", day, y, m, d);
        bool next_in_month = y == py && m == pm && d == pd + 1;
        bool next_month = y == py && m == pm + 1 && d == 1;
        bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
        cr_assert(next_in_month || next_month || next_year, "%d-%u-%u after %d-%u-%u", y, m, d, py,
                  pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

Test(civil, extremes)
{
    int y;
    unsigned m, d;
    cw_civil_from_days(cw_days_from_civil(5000000, 12, 31), &y, &m, &d);
    cr_assert(y == 5000000 && m == 12 && d == 31);
    cw_civil_from_days(cw_days_from_civil(-5000000, 1, 1), &y, &m, &d);
    cr_assert(y == -5000000 && m == 1 && d == 1);
    cw_civil_from_days(INT32_MAX, &y, &m, &d);
    cr_assert(y > 5000000 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
    cw_civil_from_days(INT32_MIN, &y, &m, &d);
    cr_assert(y < -5000000 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
}

/* --- zone names --- */

Test(tz, known_names_are_valid)
{
    const char *names[] = {"Asia/Tokyo",
                           "UTC",
                           "Etc/UTC",
                           "America/New_York",
                           "US/Eastern",
                           "Europe/London",
                           "Asia/Kathmandu",
                           "Etc/GMT-9",
                           "America/Santiago",
                           "Australia/Lord_Howe",
                           "Pacific/Apia",
                           "America/Argentina/Buenos_Aires",
                           "America/Ciudad_Juarez",
                           "America/Coyhaique",
                           "America/Port-au-Prince"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert(cw_tz_valid(names[i]), "%s", names[i]);
        cw_tz_free(open_zone(names[i]));
    }
}

Test(tz, unknown_names_are_rejected)
{
    char longname[200];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    /* Custom ids ("GMT+05:00") and ICU's placeholder "Etc/Unknown" are not IANA zones;
     * names are case-sensitive; paths stay inside the zoneinfo directory; the files
     * there that are not zones are refused by name. */
    const char *names[] = {"Mars/Phobos",
                           "",
                           "../etc/passwd",
                           "GMT+05:00",
                           "Etc/Unknown",
                           "asia/tokyo",
                           "Asia/Tokyo ",
                           " Asia/Tokyo",
                           "Asia/Tokyo/",
                           "localtime",
                           "Europe/Z\xc3\xbcrich",
                           "Asia/\nTokyo",
                           longname,
                           "posixrules",
                           "Factory",
                           "right/Asia/Tokyo",
                           "posix/Asia/Tokyo",
                           "Asia/../Asia/Tokyo",
                           "Asia//Tokyo",
                           "./UTC",
                           "/usr/share/zoneinfo/UTC",
                           "America",
                           "Asia/.hidden"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert_not(cw_tz_valid(names[i]), "accepted [%s]", names[i]);
        char err[256] = "";
        cr_assert_null(cw_tz_open(names[i], err, sizeof err), "opened [%s]", names[i]);
        cr_assert(strstr(err, "unknown time zone") != NULL, "err: %s", err);
    }
    cr_assert_not(cw_tz_valid(NULL));
    char err[256] = "";
    cr_assert_null(cw_tz_open(NULL, err, sizeof err));
    cr_assert_null(cw_tz_open("Mars/Phobos", NULL, 0));
    cr_assert_null(cw_tz_open("Mars/Phobos", err, sizeof err));
    cr_assert(strstr(err, "\"Mars/Phobos\"") != NULL, "err: %s", err);
    cr_assert_null(cw_tz_open_dir(NULL, "UTC", err, sizeof err));
}

/* Files in the zoneinfo directory that are not compiled zones fail on the magic. */
Test(tz, files_that_are_not_tzif_are_rejected)
{
    const char *names[] = {"zone.tab", "zone1970.tab", "tzdata.zi", "iso3166.tab", "leapseconds"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert_not(cw_tz_valid(names[i]), "accepted [%s]", names[i]);
        char err[256] = "";
        cr_assert_null(cw_tz_open(names[i], err, sizeof err), "opened [%s]", names[i]);
        cr_assert(strstr(err, "no TZif magic") != NULL, "err: %s", err);
        cr_assert(strstr(err, names[i]) != NULL, "err: %s", err);
    }
}

Test(tz, free_null_is_a_no_op)
{
    cw_tz_free(NULL);
    cr_assert(true);
}

/* --- fixed-offset zones --- */

Test(tz, tokyo)
{
    cw_tz *tz = open_zone("Asia/Tokyo");
    int32_t d = date(2026, 11, 22);
    int64_t midnight = utc(2026, 11, 21, 15, 0); /* 2026-11-22T00:00+09:00 */
    cr_assert_eq(cw_tz_offset_ms(tz, midnight), 9 * H);
    cr_assert_eq(cw_tz_day_start(tz, d), midnight);
    cr_assert_eq(cw_tz_day(tz, midnight), d);
    cr_assert_eq(cw_tz_day(tz, midnight - 1), d - 1);
    cr_assert_eq(cw_tz_day(tz, midnight + CW_MS_PER_DAY - 1), d);
    cr_assert_eq(cw_tz_day(tz, midnight + CW_MS_PER_DAY), d + 1);
    /* The alert example's instant (docs/alerts.md) 2026-11-22T09:00:00+09:00. */
    cr_assert_eq(cw_tz_day(tz, utc(2026, 11, 22, 0, 0)), d);
    cw_tz_free(tz);
}

Test(tz, utc_days_are_epoch_days)
{
    cw_tz *tz = open_zone("UTC");
    for (int32_t d = -800000; d <= 800000; d += 997) {
        int64_t start = (int64_t)d * CW_MS_PER_DAY;
        cr_assert_eq(cw_tz_day_start(tz, d), start);
        cr_assert_eq(cw_tz_day(tz, start), d);
        cr_assert_eq(cw_tz_day(tz, start - 1), d - 1);
        cr_assert_eq(cw_tz_offset_ms(tz, start), 0);
    }
    cr_assert_eq(cw_tz_day(tz, -1), -1);
    cr_assert_eq(cw_tz_day(tz, 0), 0);
    cw_tz_free(tz);
}

Test(tz, kathmandu_quarter_hour_offset)
{
    cw_tz *tz = open_zone("Asia/Kathmandu");
    int64_t midnight = utc(2026, 1, 1, 18, 15); /* 2026-01-02T00:00+05:45 */
    cr_assert_eq(cw_tz_offset_ms(tz, midnight), 5 * H + 45 * MN);
    cr_assert_eq(cw_tz_day(tz, midnight - 1), date(2026, 1, 1));
    cr_assert_eq(cw_tz_day(tz, midnight), date(2026, 1, 2));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 1, 2)), midnight);
    cw_tz_free(tz);
}

/* --- DST --- */

Test(tz, new_york_23_and_25_hour_days)
{
    cw_tz *tz = open_zone("America/New_York");
    /* 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z. */
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 3, 8, 7, 0) - 1), -5 * H);
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 3, 8, 7, 0)), -4 * H);
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 3, 8)), utc(2026, 3, 8, 5, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 3, 9)), utc(2026, 3, 9, 4, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 3, 9)) - cw_tz_day_start(tz, date(2026, 3, 8)),
                 23 * H);
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 9, 4, 0) - 1), date(2026, 3, 8));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 9, 4, 0)), date(2026, 3, 9));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 8, 5, 0) - 1), date(2026, 3, 7));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 8, 5, 0)), date(2026, 3, 8));

    /* 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z. */
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 11, 1, 6, 0) - 1), -4 * H);
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 11, 1, 6, 0)), -5 * H);
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 11, 1)), utc(2026, 11, 1, 4, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 11, 2)), utc(2026, 11, 2, 5, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 11, 2)) - cw_tz_day_start(tz, date(2026, 11, 1)),
                 25 * H);
    cr_assert_eq(cw_tz_day(tz, utc(2026, 11, 2, 5, 0) - 1), date(2026, 11, 1));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 11, 2, 5, 0)), date(2026, 11, 2));
    /* Both passes through 01:30 local belong to November 1. */
    cr_assert_eq(cw_tz_day(tz, utc(2026, 11, 1, 5, 30)), date(2026, 11, 1));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 11, 1, 6, 30)), date(2026, 11, 1));
    cw_tz_free(tz);
}

Test(tz, london)
{
    cw_tz *tz = open_zone("Europe/London");
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 3, 29)), utc(2026, 3, 29, 0, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 3, 30)), utc(2026, 3, 29, 23, 0));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 29, 23, 0) - 1), date(2026, 3, 29));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 3, 29, 23, 0)), date(2026, 3, 30));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 10, 25)), utc(2026, 10, 24, 23, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 10, 26)), utc(2026, 10, 26, 0, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 10, 26)) - cw_tz_day_start(tz, date(2026, 10, 25)),
                 25 * H);
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 7, 1, 12, 0)), 1 * H);
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 12, 1, 12, 0)), 0);
    cw_tz_free(tz);
}

Test(tz, lord_howe_half_hour_dst)
{
    cw_tz *tz = open_zone("Australia/Lord_Howe");
    /* 2026-04-05 02:00 +11 -> 01:30 +10:30: a 24.5-hour day. */
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 4, 5)), utc(2026, 4, 4, 13, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 4, 6)), utc(2026, 4, 5, 13, 30));
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 4, 5, 13, 30)), 10 * H + 30 * MN);
    cr_assert_eq(cw_tz_day(tz, utc(2026, 4, 5, 13, 30) - 1), date(2026, 4, 5));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 4, 5, 13, 30)), date(2026, 4, 6));
    /* 2026-10-04 02:00 +10:30 -> 02:30 +11: a 23.5-hour day. */
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 10, 4)), utc(2026, 10, 3, 13, 30));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 10, 5)), utc(2026, 10, 4, 13, 0));
    cr_assert_eq(cw_tz_offset_ms(tz, utc(2026, 10, 4, 13, 0)), 11 * H);
    cw_tz_free(tz);
}

Test(tz, santiago_dst_at_midnight)
{
    cw_tz *tz = open_zone("America/Santiago");
    /* 2026-09-06 00:00 -04 -> 01:00 -03 at 04:00Z: local midnight does not exist, the
     * day starts at 01:00 local, the instant of the jump. */
    int64_t jump = utc(2026, 9, 6, 4, 0);
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 9, 6)), jump);
    cr_assert_eq(cw_tz_day(tz, jump), date(2026, 9, 6));
    cr_assert_eq(cw_tz_day(tz, jump - 1), date(2026, 9, 5));
    cr_assert_eq(cw_tz_offset_ms(tz, jump), -3 * H);
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 9, 7)) - jump, 23 * H);
    cr_assert_eq(jump - cw_tz_day_start(tz, date(2026, 9, 5)), 24 * H);
    /* 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04 at 03:00Z: April 4 lasts 25 hours and
     * April 5 starts at 04:00Z. */
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 4, 4)), utc(2026, 4, 4, 3, 0));
    cr_assert_eq(cw_tz_day_start(tz, date(2026, 4, 5)), utc(2026, 4, 5, 4, 0));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 4, 5, 3, 0)), date(2026, 4, 4));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 4, 5, 4, 0) - 1), date(2026, 4, 4));
    cr_assert_eq(cw_tz_day(tz, utc(2026, 4, 5, 4, 0)), date(2026, 4, 5));
    cw_tz_free(tz);
}

Test(tz, apia_skipped_day)
{
    cw_tz *tz = open_zone("Pacific/Apia");
    /* 2011-12-29 24:00 -10 became 2011-12-31 00:00 +14: December 30 never happened. */
    int64_t jump = utc(2011, 12, 30, 10, 0);
    cr_assert_eq(cw_tz_day(tz, jump - 1), date(2011, 12, 29));
    cr_assert_eq(cw_tz_day(tz, jump), date(2011, 12, 31));
    cr_assert_eq(cw_tz_day_start(tz, date(2011, 12, 30)), jump);
    cr_assert_eq(cw_tz_day_start(tz, date(2011, 12, 31)), jump);
    cr_assert_eq(jump - cw_tz_day_start(tz, date(2011, 12, 29)), 24 * H);
    cw_tz_free(tz);
}

/*
 * For every day from 1960 to 2040 in zones with DST, odd offsets or midnight jumps:
 * day_start belongs to its day, the instant before it to an earlier day, days are 0 or
 * between 22 and 26 hours long (the DST and base-offset changes in these zones), and
 * the lengths add up.
 */
Test(tz, day_start_is_the_first_instant_of_every_day)
{
    const char *zones[] = {"America/New_York", "Europe/London",       "Asia/Kathmandu",
                           "America/Santiago", "Australia/Lord_Howe", "Asia/Tokyo",
                           "Pacific/Apia",     "America/Havana",      "Asia/Tehran"};
    int32_t first = date(1960, 1, 1), last = date(2040, 1, 1);
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        cw_tz *tz = open_zone(zones[z]);
        int64_t prev = cw_tz_day_start(tz, first - 1);
        for (int32_t d = first; d <= last; d++) {
            int64_t s = cw_tz_day_start(tz, d);
            int64_t len = s - prev;
            cr_assert(len == 0 || (len >= 22 * H && len <= 26 * H), "%s day %d: %lld ms", zones[z],
                      d - 1, (long long)len);
            int64_t next = cw_tz_day_start(tz, d + 1);
            if (next > s) { /* not skipped: its first and last instants are in it */
                cr_assert_eq(cw_tz_day(tz, s), d, "%s day %d", zones[z], d);
                cr_assert_eq(cw_tz_day(tz, next - 1), d, "%s day %d", zones[z], d);
            }
            cr_assert_lt(cw_tz_day(tz, s - 1), d, "%s day %d", zones[z], d);
            /* Local midnight is s + offset(s), except after a jump over midnight. */
            cr_assert_geq(s + cw_tz_offset_ms(tz, s), (int64_t)d * CW_MS_PER_DAY);
            prev = s;
        }
        int64_t span = cw_tz_day_start(tz, last) - cw_tz_day_start(tz, first);
        int64_t expect = (int64_t)(last - first) * CW_MS_PER_DAY -
                         (cw_tz_offset_ms(tz, cw_tz_day_start(tz, last)) -
                          cw_tz_offset_ms(tz, cw_tz_day_start(tz, first)));
        cr_assert_eq(span, expect, "%s", zones[z]);
        cw_tz_free(tz);
    }
}

/* The cache never changes an answer: random instants 1900-2100 (which keep missing a
 * 4-range cache) agree with glibc and with a zone opened afresh for each query (an
 * empty cache). */
Test(tz, cached_offsets_match_glibc_and_an_empty_cache)
{
    const char *zones[] = {"America/New_York",    "Europe/London", "America/Santiago",
                           "Australia/Lord_Howe", "Asia/Tokyo",    "Pacific/Apia"};
    int64_t lo = utc(1900, 1, 1, 0, 0), hi = utc(2100, 1, 1, 0, 0);
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        char tzenv[80];
        snprintf(tzenv, sizeof tzenv, ":%s", zones[z]);
        glibc_zone(tzenv);
        cw_tz *tz = open_zone(zones[z]);
        for (int i = 0; i < 20000; i++) {
            int64_t ms = lo + (int64_t)(rng() % (uint64_t)(hi - lo));
            int64_t want;
            int32_t want_day;
            glibc_at(ms / 1000 - (ms % 1000 < 0 ? 1 : 0), &want, &want_day);
            cr_assert_eq(cw_tz_offset_ms(tz, ms), want, "%s at %lld", zones[z], (long long)ms);
            cr_assert_eq(cw_tz_day(tz, ms), want_day, "%s at %lld", zones[z], (long long)ms);
            if (i % 20 == 0) {
                cw_tz *fresh = open_zone(zones[z]);
                cr_assert_eq(cw_tz_offset_ms(fresh, ms), want);
                cw_tz_free(fresh);
            }
        }
        cw_tz_free(tz);
    }
}

Test(tz, extreme_instants_are_clamped)
{
    cw_tz *tz = open_zone("America/New_York");
    int64_t limit = INT64_C(100000000) * CW_MS_PER_DAY;
    cr_assert_eq(cw_tz_day(tz, INT64_MAX), cw_tz_day(tz, limit));
    cr_assert_eq(cw_tz_day(tz, INT64_MIN), cw_tz_day(tz, -limit));
    cr_assert(cw_tz_day(tz, INT64_MAX) > 99999998 && cw_tz_day(tz, INT64_MAX) <= 100000000);
    cr_assert(cw_tz_day(tz, INT64_MIN) < -99999998 && cw_tz_day(tz, INT64_MIN) >= -100000001);
    int64_t s = cw_tz_day_start(tz, INT32_MAX);
    cr_assert(s > 0 && s <= limit);
    s = cw_tz_day_start(tz, INT32_MIN);
    cr_assert(s < 0 && s >= -limit);
    cr_assert_eq(cw_tz_day(tz, cw_tz_day_start(tz, 99999999)), 99999999);
    cr_assert_eq(cw_tz_day(tz, cw_tz_day_start(tz, -99999999)), -99999999);
    cw_tz_free(tz);
}

/* --- the system's tzdata, with glibc as the oracle --- */

/*
 * Compare one zone with glibc at instant ms (whole seconds or not): offset and local
 * day. Returns 1 on a mismatch, printing the first few of the whole run.
 */
static unsigned oracle_misses_printed;
static unsigned compare_at(cw_tz *tz, const char *zone, int64_t ms, unsigned long *instants)
{
    int64_t want;
    int32_t want_day;
    glibc_at(ms / 1000 - (ms % 1000 < 0 ? 1 : 0), &want, &want_day);
    int64_t got = cw_tz_offset_ms(tz, ms);
    int32_t got_day = cw_tz_day(tz, ms);
    (*instants)++;
    if (got == want && got_day == want_day)
        return 0;
    if (oracle_misses_printed++ < 20)
        fprintf(stderr, "oracle: %s at %lld ms: offset %lld day %d, glibc %lld day %d\n", zone,
                (long long)ms, (long long)got, got_day, (long long)want, want_day);
    return 1;
}

/* Compare at T - 1 s, T - 1 ms, T and T + 1 s around a change at T (seconds). */
static unsigned compare_change(cw_tz *tz, const char *zone, int64_t t, unsigned long *instants)
{
    unsigned bad = 0;
    const int64_t at[] = {t * 1000 - 1000, t * 1000 - 1, t * 1000, t * 1000 + 1000};
    for (size_t i = 0; i < 4; i++)
        bad += compare_at(tz, zone, at[i], instants);
    return bad;
}

/*
 * Find every instant in (lo, hi] (seconds) where tz's offset changes, by bisection, and
 * compare each with glibc. Both agree at lo and hi (the caller compared them), so a
 * change of glibc's inside is found as well unless it differs from ours, which the
 * comparison at our change catches: glibc is checked on both sides of it. Two changes
 * that return to the same offset between lo and hi are not seen; the caller keeps
 * hi - lo short and the random instants cover such gaps.
 */
static unsigned compare_changes(cw_tz *tz, const char *zone, int64_t lo, int64_t hi,
                                unsigned long *instants, unsigned long *changes)
{
    unsigned bad = 0;
    int64_t end_off = cw_tz_offset_ms(tz, hi * 1000);
    int64_t lo_off = cw_tz_offset_ms(tz, lo * 1000);
    while (lo_off != end_off) {
        int64_t a = lo, b = hi; /* offset(a) == lo_off, offset(b) != lo_off */
        while (b - a > 1) {
            int64_t mid = a + (b - a) / 2;
            if (cw_tz_offset_ms(tz, mid * 1000) == lo_off)
                a = mid;
            else
                b = mid;
        }
        (*changes)++;
        bad += compare_change(tz, zone, b, instants);
        lo = b;
        lo_off = cw_tz_offset_ms(tz, lo * 1000);
    }
    return bad;
}

/* Every zone and link of the system's tzdata.zi that is a zone file here. */
static size_t tzdata_names(char names[][72], size_t cap)
{
    FILE *f = fopen(ZONEINFO "/tzdata.zi", "r");
    cr_assert_not_null(f, "cannot read " ZONEINFO "/tzdata.zi");
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char a[72], b[72];
        const char *name = NULL;
        if (line[0] == 'Z' && sscanf(line, "Z %71s", a) == 1)
            name = a;
        else if (line[0] == 'L' && sscanf(line, "L %71s %71s", a, b) == 2)
            name = b;
        if (!name)
            continue;
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", ZONEINFO, name);
        if (stat(path, &st) != 0 || strcmp(name, "Factory") == 0)
            continue; /* a link the distribution does not install; Factory is no zone */
        cr_assert_lt(n, cap);
        snprintf(names[n++], 72, "%s", name);
    }
    fclose(f);
    return n;
}

/*
 * The oracle: the system's tzdata against glibc's localtime_r, which reads the same
 * files. Every zone and link of tzdata.zi must open; each distinct file (links are
 * symlinks to their zone) is compared at an instant every 13 days from 1970 to 2100
 * (3,653 instants), 100 random instants from 1900 to 1970, and around every change of
 * offset in 1970-2100 (T - 1 s, T - 1 ms, T, T + 1 s).
 */
Test(tz, oracle_every_system_zone_matches_glibc, .timeout = 110)
{
    static char names[1200][72];
    static ino_t seen[1200];
    size_t n = tzdata_names(names, 1200), n_files = 0;
    cr_assert_gt(n, 500, "only %zu zone files", n);
    int64_t t0 = utc(1970, 1, 1, 0, 0) / 1000, t1 = utc(2100, 1, 1, 0, 0) / 1000;
    int64_t early = utc(1900, 1, 1, 0, 0) / 1000;
    int64_t step = 13 * 86400;
    unsigned long instants = 0, changes = 0;
    unsigned bad = 0;
    for (size_t z = 0; z < n; z++) {
        char err[256] = "";
        cw_tz *tz = cw_tz_open(names[z], err, sizeof err);
        cr_assert_not_null(tz, "%s: %s", names[z], err);
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", ZONEINFO, names[z]);
        cr_assert_eq(stat(path, &st), 0);
        bool dup = false;
        for (size_t i = 0; i < n_files && !dup; i++)
            dup = seen[i] == st.st_ino;
        if (dup) {
            cw_tz_free(tz);
            continue;
        }
        seen[n_files++] = st.st_ino;
        char tzenv[80];
        snprintf(tzenv, sizeof tzenv, ":%s", names[z]);
        glibc_zone(tzenv);
        for (int i = 0; i < 100; i++) {
            int64_t s = early + (int64_t)(rng() % (uint64_t)(t0 - early));
            bad += compare_at(tz, names[z], s * 1000, &instants);
        }
        bad += compare_at(tz, names[z], t0 * 1000, &instants);
        for (int64_t t = t0 + step; t < t1 + step; t += step) {
            bad += compare_at(tz, names[z], t * 1000, &instants);
            bad += compare_changes(tz, names[z], t - step, t, &instants, &changes);
        }
        cw_tz_free(tz);
    }
    fprintf(stderr,
            "oracle: %zu names, %zu distinct zone files, %lu instants, %lu offset changes, "
            "%u mismatches\n",
            n, n_files, instants, changes, bad);
    cr_assert_eq(bad, 0, "%u mismatches with glibc (first ones above)", bad);
    cr_assert_gt(n_files, 300);
    cr_assert_gt(changes, 10000);
}

/* The zones whose rules changed after ICU 72's tzdata 2022e: every hour of 2026 agrees
 * with glibc, and the offsets are those in force since. */
Test(tz, zones_changed_since_icu_follow_system_tzdata)
{
    const char *zones[] = {
        "America/Mexico_City",    "America/Monterrey", "America/Mazatlan",  "America/Merida",
        "America/Bahia_Banderas", "America/Chihuahua", "America/Ojinaga",   "America/Ciudad_Juarez",
        "Africa/Cairo",           "Asia/Almaty",       "Asia/Qostanay",     "America/Nuuk",
        "America/Scoresbysund",   "America/Asuncion",  "Pacific/Fiji",      "Asia/Amman",
        "Asia/Damascus",          "Asia/Gaza",         "America/Coyhaique", "Antarctica/Vostok"};
    unsigned long instants = 0;
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        char tzenv[80];
        snprintf(tzenv, sizeof tzenv, ":%s", zones[z]);
        glibc_zone(tzenv);
        cw_tz *tz = open_zone(zones[z]);
        unsigned long changes = 0;
        for (int64_t s = utc(2026, 1, 1, 0, 0) / 1000; s < utc(2027, 1, 1, 0, 0) / 1000;
             s += 3600) {
            cr_assert_eq(compare_at(tz, zones[z], s * 1000, &instants), 0, "%s", zones[z]);
            cr_assert_eq(compare_changes(tz, zones[z], s - 3600, s, &instants, &changes), 0, "%s",
                         zones[z]);
        }
        cw_tz_free(tz);
    }
    struct {
        const char *zone;
        int64_t ms;
        int64_t offset;
    } facts[] = {
        {"America/Mexico_City", utc(2026, 7, 1, 12, 0), -6 * H}, /* no DST since 2022 */
        {"Africa/Cairo", utc(2026, 7, 1, 12, 0), 3 * H},         /* DST again since 2023 */
        {"Asia/Almaty", utc(2026, 7, 1, 12, 0), 5 * H},          /* +05 since 2024 */
        {"America/Nuuk", utc(2026, 7, 1, 12, 0), -1 * H},        /* -02/-01 since 2023 */
        {"America/Asuncion", utc(2026, 1, 15, 12, 0), -3 * H},   /* -03 all year since 2024 */
        {"America/Asuncion", utc(2026, 7, 1, 12, 0), -3 * H},
        {"Pacific/Fiji", utc(2026, 1, 15, 12, 0), 12 * H}, /* no DST since 2022 */
        {"America/Ciudad_Juarez", utc(2026, 7, 1, 12, 0), -6 * H},
        {"America/Ciudad_Juarez", utc(2026, 1, 15, 12, 0), -7 * H},
    };
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        cw_tz *tz = open_zone(facts[i].zone);
        cr_assert_eq(cw_tz_offset_ms(tz, facts[i].ms), facts[i].offset, "%s", facts[i].zone);
        cw_tz_free(tz);
    }
}

/* --- TZif files built here --- */

static char tmp_dir[64];

/* A fresh directory for zone files, in memory (/dev/shm) where there is one: the damaged
 * file test writes tens of thousands. */
static void make_tmp_dir(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/dev/shm/test_tz.XXXXXX");
    if (mkdtemp(tmp_dir))
        return;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test_tz.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
}

/* Remove tmp_dir and the files the test wrote into it (no subdirectories). */
static void remove_tmp_dir(void)
{
    DIR *d = opendir(tmp_dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof tmp_dir + sizeof e->d_name + 1];
        snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
        cr_assert_eq(unlink(path), 0, "%s", path);
    }
    closedir(d);
    cr_assert_eq(rmdir(tmp_dir), 0);
}

static void write_zone(const char *name, const unsigned char *bytes, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    unsigned char *buf = malloc(1 << 20);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    cr_assert(*len > 0 && *len < (1 << 20));
    fclose(f);
    return buf;
}

/* A zone for a TZif file written by tzif_build. */
struct tzif_spec {
    char version; /* 0 (version 1, no footer), '2', '3' or '4' */
    size_t n_times;
    const int64_t *times;
    const unsigned char *idx;
    size_t n_types;
    const int32_t *utoff;
    const char *footer; /* the TZ string, versions 2+ */
};

static size_t put_be(unsigned char *p, uint64_t v, size_t width)
{
    for (size_t i = 0; i < width; i++)
        p[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    return width;
}

/* One header and data block with times of width bytes; all types use designation "ZZZ". */
static size_t tzif_block(const struct tzif_spec *s, unsigned char *p, size_t width)
{
    size_t n = 0;
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)s->version;
    memset(p + 5, 0, 15);
    n = 20;
    uint32_t counts[6] = {0, 0, 0, (uint32_t)s->n_times, (uint32_t)s->n_types, 4};
    for (int i = 0; i < 6; i++)
        n += put_be(p + n, counts[i], 4);
    for (size_t i = 0; i < s->n_times; i++)
        n += put_be(p + n, (uint64_t)s->times[i], width);
    for (size_t i = 0; i < s->n_times; i++)
        p[n++] = s->idx[i];
    for (size_t i = 0; i < s->n_types; i++) {
        n += put_be(p + n, (uint32_t)s->utoff[i], 4);
        p[n++] = 0;
        p[n++] = 0;
    }
    memcpy(p + n, "ZZZ", 4);
    return n + 4;
}

static size_t tzif_build(const struct tzif_spec *s, unsigned char *out)
{
    size_t n = tzif_block(s, out, 4);
    if (s->version == 0)
        return n;
    n += tzif_block(s, out + n, 8);
    n += (size_t)sprintf((char *)out + n, "\n%s\n", s->footer);
    return n;
}

/* A file of one type (offset utoff) and no transitions, whose footer governs all time. */
static void write_footer_zone(const char *name, const char *footer, int32_t utoff)
{
    unsigned char buf[512];
    struct tzif_spec s = {.version = '3', .n_types = 1, .utoff = &utoff, .footer = footer};
    write_zone(name, buf, tzif_build(&s, buf));
}

/*
 * Footer TZ strings of every form RFC 8536 allows (quoted names, explicit DST offsets,
 * negative DST, Jn, n and Mm.w.d dates, negative and >24 h times) against glibc given
 * the same string as TZ: hourly for 2024-2027 (leap and common years) and a day a week
 * from 1970 to 2100.
 */
Test(tz, footer_tz_strings_match_glibc)
{
    const char *footers[] = {
        "EST5EDT,M3.2.0,M11.1.0",
        "<+0545>-5:45",
        "<-03>3<-02>,M3.2.0,M11.1.0",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "EET-2EEST,M3.4.4/50,M10.4.4/50",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "NST3:30NDT,M3.2.0,M11.1.0",
        "AAA3BBB,J60/25,J300/-3",
        "AAA-2BBB-3,59/0,300/26:30:15",
        "<-06>6<-05>,M9.1.6/22,M4.1.6/22",
        "ABC+4:15:30DEF+2:15:30,M5.5.6/12:00:01,J200/-10",
        "UTC0",
    };
    make_tmp_dir();
    unsigned long instants = 0;
    for (size_t f = 0; f < sizeof footers / sizeof footers[0]; f++) {
        write_footer_zone("Z", footers[f], 0);
        char err[256] = "";
        cw_tz *tz = cw_tz_open_dir(tmp_dir, "Z", err, sizeof err);
        cr_assert_not_null(tz, "%s: %s", footers[f], err);
        glibc_zone(footers[f]);
        for (int64_t s = utc(2024, 1, 1, 0, 0) / 1000; s < utc(2028, 1, 1, 0, 0) / 1000; s += 3600)
            cr_assert_eq(compare_at(tz, footers[f], s * 1000, &instants), 0, "%s", footers[f]);
        for (int64_t s = 0; s < utc(2100, 1, 1, 0, 0) / 1000; s += 7 * 86400 + 3607)
            cr_assert_eq(compare_at(tz, footers[f], s * 1000, &instants), 0, "%s", footers[f]);
        unsigned long changes = 0;
        unsigned bad = 0;
        for (int64_t s = utc(2020, 1, 1, 0, 0) / 1000; s < utc(2040, 1, 1, 0, 0) / 1000;
             s += 86400 * 7) {
            bad += compare_at(tz, footers[f], (s + 86400 * 7) * 1000, &instants);
            bad += compare_changes(tz, footers[f], s, s + 86400 * 7, &instants, &changes);
        }
        cr_assert_eq(bad, 0, "%s", footers[f]);
        if (strchr(footers[f], ','))
            cr_assert_geq(changes, 40, "%s: %lu changes", footers[f], changes);
        cw_tz_free(tz);
    }
    remove_tmp_dir();
}

/* DST all year (RFC 8536 3.3.1: from January 1 00:00 to December 31 24:00 plus the DST
 * shift). glibc evaluates a rule within the UTC year and so gives standard time for the
 * first 5 hours of each UTC year here; RFC 8536 says DST throughout, as we do. */
Test(tz, footer_dst_all_year)
{
    make_tmp_dir();
    write_footer_zone("Z", "EST5EDT,0/0,J365/25", -4 * 3600);
    cw_tz *tz = cw_tz_open_dir(tmp_dir, "Z", NULL, 0);
    cr_assert_not_null(tz);
    for (int y = 1980; y < 2060; y++) {
        int64_t jan1 = utc(y, 1, 1, 0, 0);
        cr_assert_eq(cw_tz_offset_ms(tz, jan1 - 1), -4 * H, "%d", y);
        cr_assert_eq(cw_tz_offset_ms(tz, jan1), -4 * H, "%d", y);
        cr_assert_eq(cw_tz_offset_ms(tz, jan1 + 4 * H), -4 * H, "%d", y);
        cr_assert_eq(cw_tz_offset_ms(tz, jan1 + 5 * H), -4 * H, "%d", y);
        cr_assert_eq(cw_tz_offset_ms(tz, utc(y, 7, 1, 0, 0)), -4 * H, "%d", y);
        cr_assert_eq(cw_tz_day_start(tz, date(y, 1, 1)), jan1 + 4 * H, "%d", y);
    }
    cw_tz_free(tz);
    remove_tmp_dir();
}

/* TZ strings that are not what RFC 8536 allows make the file corrupt. */
Test(tz, bad_footer_tz_strings_are_rejected)
{
    const char *footers[] = {
        "EST5EDT",                       /* DST without a rule */
        "EST",                           /* no offset */
        "ES5",                           /* name too short */
        "<AB>5",                         /* quoted name too short */
        "<EST5",                         /* unterminated quote */
        "<E$T>5",                        /* bad character */
        "EST25",                         /* offset beyond 24 h */
        "EST24",                         /* an offset of a whole day */
        "EST5:60",                       /* minutes beyond 59 */
        "EST5EDT,M13.1.0,M11.1.0",       /* month 13 */
        "EST5EDT,M3.6.0,M11.1.0",        /* week 6 */
        "EST5EDT,M3.2.7,M11.1.0",        /* weekday 7 */
        "EST5EDT,M3.2,M11.1.0",          /* short M form */
        "EST5EDT,J0,J365",               /* J counts from 1 */
        "EST5EDT,366,J365",              /* n counts to 365 */
        "EST5EDT,M3.2.0/168,M11.1.0",    /* beyond 167 h */
        "EST5EDT,M3.2.0/-168,M11.1.0",   /* beyond -167 h */
        "EST5EDT,M3.2.0,M11.1.0x",       /* trailing text */
        "EST5EDT,M3.2.0",                /* one date */
        "EST5EDT,M3.2.0,M11.1.0,M12.1.0" /* three dates */
    };
    make_tmp_dir();
    for (size_t f = 0; f < sizeof footers / sizeof footers[0]; f++) {
        write_footer_zone("Z", footers[f], 0);
        char err[256] = "";
        cr_assert_null(cw_tz_open_dir(tmp_dir, "Z", err, sizeof err), "accepted %s", footers[f]);
        cr_assert(strstr(err, "TZ string") != NULL, "%s: %s", footers[f], err);
    }
    write_footer_zone("Z", "EST5EDT,M3.2.0,M11.1.0", 0); /* the same file, valid */
    cw_tz *tz = cw_tz_open_dir(tmp_dir, "Z", NULL, 0);
    cr_assert_not_null(tz);
    cw_tz_free(tz);
    remove_tmp_dir();
}

/* Transitions then a footer; an empty footer keeps the last offset; a version 1 file
 * has 32-bit times and no footer; versions 2, 3 and 4 read the 64-bit block (whose
 * times here differ from the 32-bit one's, which must be skipped). */
Test(tz, transitions_footer_and_versions)
{
    make_tmp_dir();
    int64_t t1 = utc(2000, 1, 1, 0, 0) / 1000, t2 = utc(2010, 6, 1, 12, 0) / 1000;
    int64_t times[] = {t1, t2};
    unsigned char idx[] = {1, 2};
    int32_t utoff[] = {3600, 7200, -3 * 3600};
    unsigned char buf[1024];

    struct tzif_spec s = {.version = '2',
                          .n_times = 2,
                          .times = times,
                          .idx = idx,
                          .n_types = 3,
                          .utoff = utoff,
                          .footer = "<-02>2"};
    write_zone("V2", buf, tzif_build(&s, buf));
    s.version = '4';
    s.footer = "";
    write_zone("V4", buf, tzif_build(&s, buf));
    s.version = 0;
    write_zone("V1", buf, tzif_build(&s, buf));

    struct {
        const char *name;
        int64_t after_last;
    } cases[] = {{"V2", -2 * H}, {"V4", -3 * H}, {"V1", -3 * H}};
    for (size_t c = 0; c < 3; c++) {
        char err[256] = "";
        cw_tz *tz = cw_tz_open_dir(tmp_dir, cases[c].name, err, sizeof err);
        cr_assert_not_null(tz, "%s: %s", cases[c].name, err);
        cr_assert_eq(cw_tz_offset_ms(tz, t1 * 1000 - 1), 1 * H, "%s", cases[c].name);
        cr_assert_eq(cw_tz_offset_ms(tz, INT64_MIN), 1 * H, "%s", cases[c].name);
        cr_assert_eq(cw_tz_offset_ms(tz, t1 * 1000), 2 * H, "%s", cases[c].name);
        cr_assert_eq(cw_tz_offset_ms(tz, t2 * 1000 - 1), 2 * H, "%s", cases[c].name);
        cr_assert_eq(cw_tz_offset_ms(tz, t2 * 1000), cases[c].after_last, "%s", cases[c].name);
        cr_assert_eq(cw_tz_offset_ms(tz, INT64_MAX), cases[c].after_last, "%s", cases[c].name);
        cw_tz_free(tz);
    }

    /* The 64-bit block is the one read: make the 32-bit block say something else. */
    s.version = '3';
    s.footer = "<-02>2";
    size_t n = tzif_build(&s, buf);
    size_t first_time = 44; /* the 32-bit block's first transition */
    put_be(buf + first_time, (uint64_t)(t1 - 86400), 4);
    write_zone("V3", buf, n);
    cw_tz *tz = cw_tz_open_dir(tmp_dir, "V3", NULL, 0);
    cr_assert_not_null(tz);
    cr_assert_eq(cw_tz_offset_ms(tz, t1 * 1000 - 1), 1 * H);
    cw_tz_free(tz);

    /* Unknown versions and files with offsets of a day or more are refused. */
    s.version = '5';
    write_zone("V5", buf, tzif_build(&s, buf));
    char err[256] = "";
    cr_assert_null(cw_tz_open_dir(tmp_dir, "V5", err, sizeof err));
    cr_assert(strstr(err, "version") != NULL, "%s", err);
    s.version = '2';
    utoff[1] = 86400;
    write_zone("Big", buf, tzif_build(&s, buf));
    cr_assert_null(cw_tz_open_dir(tmp_dir, "Big", err, sizeof err));
    cr_assert(strstr(err, "offset") != NULL, "%s", err);
    remove_tmp_dir();
}

/*
 * The leap-second records of right/ zones are 12 bytes in the 64-bit block and 8 in the
 * 32-bit one: a reader that skips them wrongly finds no second header or no footer.
 * Their times count leap seconds; converted to POSIX time they give the same offsets as
 * the plain zone at every instant away from the leap seconds.
 */
Test(tz, right_zones_with_leap_seconds)
{
    struct stat st;
    if (stat(ZONEINFO "/right/America/New_York", &st) != 0)
        cr_skip_test("no " ZONEINFO "/right zones installed");
    size_t len;
    unsigned char *raw = slurp(ZONEINFO "/right/America/New_York", &len);
    cr_assert_gt(raw[28] << 24 | raw[29] << 16 | raw[30] << 8 | raw[31], 20, "leap records");
    free(raw);
    const char *zones[] = {"America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        char err[256] = "";
        cw_tz *right = cw_tz_open_dir(ZONEINFO "/right", zones[z], err, sizeof err);
        cr_assert_not_null(right, "right/%s: %s", zones[z], err);
        cw_tz *plain = open_zone(zones[z]);
        for (int64_t ms = utc(1972, 1, 1, 0, 0); ms < utc(2026, 6, 1, 0, 0); ms += 3600 * 1000 + 7)
            cr_assert_eq(cw_tz_offset_ms(right, ms), cw_tz_offset_ms(plain, ms), "%s at %lld",
                         zones[z], (long long)ms);
        /* At the transitions themselves (New York 2016: after leap seconds). */
        cr_assert_eq(cw_tz_offset_ms(right, utc(2016, 3, 13, 7, 0) - 1),
                     cw_tz_offset_ms(plain, utc(2016, 3, 13, 7, 0) - 1));
        cr_assert_eq(cw_tz_offset_ms(right, utc(2016, 3, 13, 7, 0)),
                     cw_tz_offset_ms(plain, utc(2016, 3, 13, 7, 0)));
        cw_tz_free(right);
        cw_tz_free(plain);
    }
}

/* A truncated or damaged file never crashes or reads out of bounds (run under ASan):
 * every proper prefix is rejected, and a file with any one byte changed is either
 * rejected or answers with offsets below a day and consistent day starts. */
static void fuzz_zone(const char *path, unsigned *opened, unsigned *rejected)
{
    size_t len;
    unsigned char *orig = slurp(path, &len);
    for (size_t cut = 0; cut < len; cut++) {
        write_zone("Z", orig, cut);
        char err[256] = "";
        cr_assert_null(cw_tz_open_dir(tmp_dir, "Z", err, sizeof err), "%s cut at %zu", path, cut);
        cr_assert(err[0] != '\0');
        (*rejected)++;
    }
    static const unsigned char flips[] = {0x01, 0x80, 0xff, 0x10};
    unsigned char *buf = malloc(len);
    cr_assert_not_null(buf);
    for (size_t pos = 0; pos < len; pos++)
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(buf, orig, len);
            buf[pos] ^= flips[f];
            write_zone("Z", buf, len);
            char err[256] = "";
            cw_tz *tz = cw_tz_open_dir(tmp_dir, "Z", err, sizeof err);
            if (!tz) {
                cr_assert(err[0] != '\0');
                (*rejected)++;
                continue;
            }
            (*opened)++;
            const int64_t probes[] = {INT64_MIN,
                                      -INT64_C(2208988800000),
                                      0,
                                      INT64_C(1793512800000),
                                      INT64_C(4102444800000),
                                      INT64_MAX};
            for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
                int64_t off = cw_tz_offset_ms(tz, probes[i]);
                cr_assert(off > -CW_MS_PER_DAY && off < CW_MS_PER_DAY, "%s pos %zu", path, pos);
            }
            for (int32_t d = 20000; d < 20800; d += 37) {
                int64_t s = cw_tz_day_start(tz, d);
                cr_assert(s > ((int64_t)d - 1) * CW_MS_PER_DAY &&
                              s < ((int64_t)d + 1) * CW_MS_PER_DAY,
                          "%s pos %zu day %d", path, pos, d);
                cr_assert_geq(cw_tz_day(tz, s), d, "%s pos %zu", path, pos);
                cr_assert_lt(cw_tz_day(tz, s - 1), d, "%s pos %zu", path, pos);
            }
            cw_tz_free(tz);
        }
    free(buf);
    free(orig);
}

Test(tz, truncated_and_damaged_files, .timeout = 110)
{
    make_tmp_dir();
    unsigned opened = 0, rejected = 0;
    fuzz_zone(ZONEINFO "/America/New_York", &opened, &rejected);
    fuzz_zone(ZONEINFO "/Asia/Kathmandu", &opened, &rejected);
    struct stat st;
    if (stat(ZONEINFO "/right/Europe/London", &st) == 0)
        fuzz_zone(ZONEINFO "/right/Europe/London", &opened, &rejected);
    remove_tmp_dir();
    /* Flips in the 32-bit block, the designations or transition times can leave a valid
     * zone; flips in the magic, counts, type indices or footer cannot. */
    cr_assert_gt(opened, 100);
    cr_assert_gt(rejected, 1000);
}

/* --- threads --- */

/* One zone shared by threads that look days up at once (the daemon's lanes and the batch
 * being gathered): every thread gets the answers one thread alone gets, however their
 * lookups interleave. Each walks instants over more ranges than a zone caches, so nearly
 * every lookup misses and refills what the others may be reading. */
#define RACE_THREADS 4
#define RACE_POINTS  24
#define RACE_ROUNDS  40000

struct race {
    cw_tz *tz;
    const int64_t *at;
    const int32_t *day;
    const int64_t *offset;
    unsigned start;
    unsigned wrong;
};

static void *race_run(void *arg)
{
    struct race *r = arg;
    for (unsigned i = 0; i < RACE_ROUNDS; i++) {
        unsigned k = (r->start + i * 7u) % RACE_POINTS;
        if (cw_tz_day(r->tz, r->at[k]) != r->day[k] ||
            cw_tz_offset_ms(r->tz, r->at[k]) != r->offset[k])
            r->wrong++;
    }
    return NULL;
}

/* No .timeout: with --jobs 2, Criterion 2.4 leaks a timer (48 bytes, LeakSanitizer in the
 * ASan run) when two tests with timeouts overlap; CTest's TIMEOUT bounds the program. */
Test(tz, threads_sharing_a_zone_get_the_same_days)
{
    cw_tz *tz = open_zone("Australia/Lord_Howe");
    int64_t at[RACE_POINTS], offset[RACE_POINTS];
    int32_t day[RACE_POINTS];
    for (unsigned k = 0; k < RACE_POINTS; k++) { /* a point in each half year: 12 years */
        at[k] = utc(2014 + (int)(k / 2), k % 2 ? 7 : 1, 15, (int)(k % 24), 30);
        day[k] = cw_tz_day(tz, at[k]);
        offset[k] = cw_tz_offset_ms(tz, at[k]);
    }
    struct race r[RACE_THREADS];
    pthread_t tid[RACE_THREADS];
    for (unsigned t = 0; t < RACE_THREADS; t++) {
        r[t] = (struct race){tz, at, day, offset, t * 5u, 0};
        cr_assert_eq(pthread_create(&tid[t], NULL, race_run, &r[t]), 0);
    }
    for (unsigned t = 0; t < RACE_THREADS; t++) {
        pthread_join(tid[t], NULL);
        cr_expect_eq(r[t].wrong, 0, "thread %u: %u lookups of %d wrong", t, r[t].wrong,
                     RACE_ROUNDS);
    }
    cw_tz_free(tz);
}
