/* test_tz.c - local days in IANA zones: DST, odd offsets, TZif files, glibc oracle; civil dates */
#define _DEFAULT_SOURCE /* struct tm's tm_gmtoff */
#include <criterion/criterion.h>
#include <dirent.h>
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
    /* The SPEC's example instant 2026-11-22T09:00:00+09:00. */
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
