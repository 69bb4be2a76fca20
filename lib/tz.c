/* tz.c - local calendar days in an IANA time zone (ICU), with a cache of constant-offset ranges */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/utypes.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

/*
 * Instants are clamped to +-100,000,000 days around the epoch (+-8.64e15 ms, the
 * ECMAScript range, about +-273,790 years). The bound keeps every instant exact as an
 * ICU UDate (a double) and inside ICU's supported range, and keeps day numbers far
 * inside int32_t. Day numbers given to cw_tz_day_start are clamped one day inside it,
 * so the search window around local midnight stays within the clamp.
 */
#define TZ_LIMIT_DAYS INT64_C(100000000)
#define TZ_LIMIT_MS   (TZ_LIMIT_DAYS * CW_MS_PER_DAY)

/* Longest IANA name accepted; the longest in tzdata is 32 bytes. */
#define TZ_NAME_MAX 64

/* Ranges kept per zone. A stream spans at most a few transitions at a time (live data
 * sits in one range; a backfill crosses one every few months), so a handful suffice. */
#define TZ_CACHE_RANGES 4

/* An interval [start, end) of instants over which the UTC offset is constant. */
struct tz_range {
    int64_t start;
    int64_t end;
    int64_t offset_ms;
};

struct cw_tz {
    UCalendar *cal;
    struct tz_range cache[TZ_CACHE_RANGES]; /* empty entries are [0, 0) and never match */
    unsigned last;                          /* entry of the most recent hit */
    unsigned victim;                        /* entry the next miss overwrites */
};

static int64_t clamp_ms(int64_t ms)
{
    if (ms < -TZ_LIMIT_MS)
        return -TZ_LIMIT_MS;
    if (ms > TZ_LIMIT_MS)
        return TZ_LIMIT_MS;
    return ms;
}

/* Floor division by a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b < 0)
        q--;
    return q;
}

/*
 * Convert name to UTF-16 into buf (capacity TZ_NAME_MAX) when it is 1..TZ_NAME_MAX
 * bytes of printable ASCII without spaces; returns its length, or -1.
 */
static int32_t name_to_uchars(const char *name, UChar *buf)
{
    if (!name)
        return -1;
    int32_t len = 0;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || len == TZ_NAME_MAX)
            return -1;
        buf[len++] = (UChar)c;
    }
    return len > 0 ? len : -1;
}

/*
 * Canonicalize a zone name through ICU's zone database into canon (capacity
 * TZ_NAME_MAX + 1). Only system zones count: ICU also "canonicalizes" custom ids such
 * as "GMT+05:00" and the placeholder "Etc/Unknown", which are not IANA zones. Returns
 * the canonical id's length, or -1.
 */
static int32_t canonical_id(const char *name, UChar *canon)
{
    UChar id[TZ_NAME_MAX];
    int32_t len = name_to_uchars(name, id);
    if (len < 0)
        return -1;
    UErrorCode st = U_ZERO_ERROR;
    UBool is_system = 0;
    int32_t clen = ucal_getCanonicalTimeZoneID(id, len, canon, TZ_NAME_MAX + 1, &is_system, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING || !is_system || clen <= 0 ||
        clen > TZ_NAME_MAX)
        return -1;
    return clen;
}

bool cw_tz_valid(const char *name)
{
    UChar canon[TZ_NAME_MAX + 1];
    return canonical_id(name, canon) > 0;
}

/*
 * Open a zone by IANA name. The calendar is opened on the canonical id that validation
 * returned, never on the raw name: ucal_open silently falls back to GMT for an id it does
 * not know, which must not happen behind a validated name.
 */
cw_tz *cw_tz_open(const char *name, char *err, size_t errsize)
{
    UChar canon[TZ_NAME_MAX + 1];
    int32_t clen = canonical_id(name, canon);
    if (clen < 0) {
        UChar scratch[TZ_NAME_MAX];
        if (err && errsize) {
            if (name_to_uchars(name, scratch) < 0)
                snprintf(err, errsize,
                         "unknown time zone: the name must be 1 to %d printable ASCII "
                         "characters, like \"Asia/Tokyo\"",
                         TZ_NAME_MAX);
            else
                snprintf(err, errsize,
                         "unknown time zone \"%s\" (expected an IANA name "
                         "such as \"Asia/Tokyo\" or \"UTC\")",
                         name);
        }
        return NULL;
    }

    cw_tz *tz = calloc(1, sizeof *tz);
    if (!tz) {
        if (err && errsize)
            snprintf(err, errsize, "time zone \"%s\": out of memory", name);
        return NULL;
    }
    UErrorCode st = U_ZERO_ERROR;
    /* en_US_POSIX: the locale only affects week rules, which are never consulted. */
    tz->cal = ucal_open(canon, clen, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || !tz->cal) {
        if (err && errsize)
            snprintf(err, errsize, "time zone \"%s\": ICU cannot open it: %s", name,
                     u_errorName(st));
        cw_tz_free(tz);
        return NULL;
    }
    return tz;
}

void cw_tz_free(cw_tz *tz)
{
    if (!tz)
        return;
    if (tz->cal)
        ucal_close(tz->cal);
    free(tz);
}

/*
 * Ask ICU for the offset at ms and the transitions around it: the offset is constant
 * from the previous transition (inclusive) to the next one (exclusive). Zones without
 * transitions on a side get an unbounded range on that side. ms must be clamped.
 */
static struct tz_range query_icu(UCalendar *cal, int64_t ms)
{
    struct tz_range r = {.start = ms, .end = ms + 1, .offset_ms = 0};
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(cal, (UDate)ms, &st);
    int32_t raw = ucal_get(cal, UCAL_ZONE_OFFSET, &st);
    int32_t dst = ucal_get(cal, UCAL_DST_OFFSET, &st);
    if (U_FAILURE(st))
        return r; /* unreachable for a clamped instant; a one-instant range is not cached */
    r.offset_ms = (int64_t)raw + (int64_t)dst;

    UDate t = 0;
    if (ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_PREVIOUS_INCLUSIVE, &t, &st) &&
        U_SUCCESS(st))
        r.start = (int64_t)t;
    else
        r.start = INT64_MIN;
    st = U_ZERO_ERROR;
    if (ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &t, &st) && U_SUCCESS(st))
        r.end = (int64_t)t;
    else
        r.end = INT64_MAX;
    if (r.start > ms || r.end <= ms) { /* never seen; do not trust the range */
        r.start = ms;
        r.end = ms + 1;
    }
    return r;
}

/* The cached range containing ms (clamped), filling the cache from ICU on a miss. */
static const struct tz_range *lookup(cw_tz *tz, int64_t ms)
{
    const struct tz_range *r = &tz->cache[tz->last];
    if (ms >= r->start && ms < r->end)
        return r;
    for (unsigned i = 0; i < TZ_CACHE_RANGES; i++) {
        r = &tz->cache[i];
        if (ms >= r->start && ms < r->end) {
            tz->last = i;
            return r;
        }
    }
    unsigned slot = tz->victim;
    tz->victim = (tz->victim + 1) % TZ_CACHE_RANGES;
    tz->cache[slot] = query_icu(tz->cal, ms);
    tz->last = slot;
    return &tz->cache[slot];
}

int64_t cw_tz_offset_ms(cw_tz *tz, int64_t ms)
{
    return lookup(tz, clamp_ms(ms))->offset_ms;
}

int32_t cw_tz_day(cw_tz *tz, int64_t ms)
{
    ms = clamp_ms(ms);
    int64_t local = ms + lookup(tz, ms)->offset_ms;
    return (int32_t)floor_div(local, CW_MS_PER_DAY);
}

/*
 * The first instant t with local time t + offset(t) >= local midnight of day. Offsets
 * are below one day, so t lies in [midnight - 1 day, midnight + 1 day]; walk the
 * constant-offset ranges from the low end and take, in the first range that has one,
 * the earliest instant reaching midnight. This gives the instant clocks jump to when
 * midnight is skipped, and for a day that is skipped entirely (Pacific/Apia,
 * 2011-12-30) the start of the next day, so that day is 0 ms long.
 */
int64_t cw_tz_day_start(cw_tz *tz, int32_t day)
{
    int64_t d = day;
    if (d < -(TZ_LIMIT_DAYS - 1))
        d = -(TZ_LIMIT_DAYS - 1);
    if (d > TZ_LIMIT_DAYS - 1)
        d = TZ_LIMIT_DAYS - 1;
    int64_t midnight = d * CW_MS_PER_DAY;
    int64_t t = midnight - CW_MS_PER_DAY;
    /* Each step moves t to the end of a range that contained it, so t increases; two
     * days hold only a few transitions. The bound guards against broken zone data. */
    for (int step = 0; step < 64; step++) {
        const struct tz_range *r = lookup(tz, t);
        int64_t cand = midnight - r->offset_ms;
        if (cand < t)
            cand = t;
        if (cand < r->end)
            return cand;
        t = r->end;
    }
    return midnight - lookup(tz, midnight)->offset_ms;
}

/*
 * Civil dates: the proleptic Gregorian calendar counted in 400-year eras of 146097
 * days, with years starting on March 1 so the leap day is the last day of a year
 * (after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
 */
#define DAYS_PER_ERA       INT64_C(146097)
#define EPOCH_FROM_0000_03 INT64_C(719468) /* 0000-03-01 to 1970-01-01 */
#define CIVIL_YEAR_LIMIT   5000000

static bool is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned month_days(int64_t year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

int32_t cw_days_from_civil(int year, unsigned month, unsigned mday)
{
    if (year < -CIVIL_YEAR_LIMIT || year > CIVIL_YEAR_LIMIT || month < 1 || month > 12 ||
        mday < 1 || mday > month_days(year, month))
        return CW_DAY_NONE;
    int64_t y = (int64_t)year - (month <= 2 ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                          /* year of era, 0..399 */
    int64_t mp = month > 2 ? month - 3 : month + 9;       /* March = 0 .. February = 11 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)mday - 1; /* day of year, 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* day of era, 0..146096 */
    return (int32_t)(era * DAYS_PER_ERA + doe - EPOCH_FROM_0000_03);
}

void cw_civil_from_days(int32_t day, int *year, unsigned *month, unsigned *mday)
{
    int64_t z = (int64_t)day + EPOCH_FROM_0000_03;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA;                                /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11 */
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2 ? 1 : 0));
    *month = (unsigned)m;
    *mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
}
