/* tz.c - local days in IANA time zones, read from the system's compiled zone files (TZif) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

/*
 * Design: why a TZif reader, and not ICU or the TZ variable.
 *
 * - ICU carries its own copy of the time-zone database, frozen at the ICU release the
 *   distribution ships (Debian 12: ICU 72, tzdata 2022e), while the system's tzdata
 *   package (/usr/share/zoneinfo) follows every rule change through security updates.
 *   In 2026, 21 of 518 zones disagreed by 1 to 3 hours (America/Mexico_City,
 *   Africa/Cairo, Asia/Almaty, America/Nuuk, ...), and newer zones such as
 *   America/Ciudad_Juarez did not exist. A daemon that runs for years must follow the
 *   system's tzdata, so churnwatch reads the compiled zone files themselves.
 * - glibc's localtime_r reads the same files, but only for the one zone named by the
 *   process-global TZ environment variable: switching it per call is not thread-safe,
 *   races with every other localtime user in the process and cannot serve several zones
 *   at once, or a new zone during a config reload while the old one is still in use.
 * - So this file parses TZif (RFC 8536, versions 1 to 4) itself: the 64-bit data block
 *   of version 2+ files (the 32-bit block of version 1 files), with the footer's POSIX
 *   TZ string governing instants after the last transition. A zone is read once, at
 *   open, into a table of transitions at which the UTC offset changes; lookups binary
 *   search it and keep the last few constant-offset ranges, so the common call is a
 *   range check. A zone follows tzdata updates when it is opened again (on reload).
 */

/*
 * Instants are clamped to +-100,000,000 days around the epoch (+-8.64e15 ms, about
 * +-273,790 years), which keeps every sum of an instant and an offset inside int64_t
 * and day numbers far inside int32_t. Day numbers given to cw_tz_day_start are clamped
 * one day inside it, so the search window around local midnight stays within the clamp.
 * Transitions further out than TZ_TABLE_MS (the clamp plus two days) are never reached
 * and are not kept.
 */
#define TZ_LIMIT_DAYS INT64_C(100000000)
#define TZ_LIMIT_MS   (TZ_LIMIT_DAYS * CW_MS_PER_DAY)
#define TZ_TABLE_MS   (TZ_LIMIT_MS + 2 * CW_MS_PER_DAY)
#define TZ_TABLE_S    (TZ_TABLE_MS / CW_MS_PER_SECOND)

/* Longest IANA name accepted; the longest in tzdata is 32 bytes. */
#define TZ_NAME_MAX 64

/* Where cw_tz_open looks for zone files. */
#define TZ_SYSTEM_DIR "/usr/share/zoneinfo"

/* Bounds on what a zone file may hold. Real files are a few kB with at most a few
 * hundred transitions; the bounds keep every size computation far from overflow. */
#define TZ_FILE_MAX  (1024 * 1024)
#define TZ_COUNT_MAX 65536
#define TZ_PATH_MAX  4096

/* UTC offsets are kept strictly inside one day (the largest in tzdata is 15:56:08, a
 * local mean time), which cw_tz_day_start relies on. */
#define TZ_OFFSET_MAX_S 86399

/* Ranges kept per zone. A stream spans at most a few transitions at a time (live data
 * sits in one range; a backfill crosses one every few months), so a handful suffice. */
#define TZ_CACHE_RANGES 4

/* An interval [start, end) of instants over which the UTC offset is constant. */
struct tz_range {
    int64_t start;
    int64_t end;
    int64_t offset_ms;
};

/* One date of a POSIX TZ rule: "Jn" (kind 'J', n 1..365, February 29 never counted),
 * "n" (kind 'N', n 0..365, counting February 29) or "Mm.w.d" (kind 'M'). time_s is the
 * local time of the change on that date, -167 h .. +167 h (RFC 8536). */
struct tz_date {
    char kind;
    int n;
    int month;
    int week;
    int wday;
    int32_t time_s;
};

/* The POSIX TZ string of a footer ("EST5EDT,M3.2.0,M11.1.0"), offsets east of UTC. */
struct tz_rule {
    int64_t std_ms;
    int64_t dst_ms;
    bool has_dst;
    struct tz_date start; /* change to DST, in local standard time */
    struct tz_date end;   /* change back, in local daylight time */
};

struct cw_tz {
    /* at[0..n_at) are the instants (ms, ascending) where the offset changes; off[i] is
     * the offset before at[i], off[n_at] the one after the last. */
    int64_t *at;
    int64_t *off;
    size_t n_at;
    bool has_rule;     /* the footer rule governs instants >= rule_from */
    int64_t rule_from; /* the last transition of the file (INT64_MIN when it has none) */
    struct tz_rule rule;
    uint64_t id; /* unique to this zone for the process' life: whose ranges a cache holds */
};

/* The ranges a thread looked up last, of one zone. Each thread keeps its own: a zone is
 * shared by threads looking days up at once (the daemon's lanes, and the batch gathered
 * while they write), and a cache in the zone itself would be refilled by one while another
 * reads it. */
struct tz_cache {
    uint64_t zone;                           /* the id of the zone they are of, 0 none */
    struct tz_range ranges[TZ_CACHE_RANGES]; /* empty entries are [0, 0) and never match */
    unsigned last;                           /* entry of the most recent hit */
    unsigned victim;                         /* entry the next miss overwrites */
};

static _Thread_local struct tz_cache thread_cache __attribute__((tls_model("initial-exec")));
static _Atomic uint64_t zone_ids; /* the last id given to a zone */

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

static void set_err(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format into err when the caller gave a buffer. */
static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (!err || !errsize)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
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

/* --- POSIX TZ strings (RFC 8536 section 3.3.1) --- */

struct tzs {
    const char *p;
    const char *end;
};

static bool tzs_digit(const struct tzs *s)
{
    return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

/* An unsigned decimal of 1..max_digits digits, at most max. */
static bool tzs_num(struct tzs *s, int max_digits, int max, int *out)
{
    int v = 0, digits = 0;
    while (tzs_digit(s) && digits < max_digits) {
        v = v * 10 + (*s->p++ - '0');
        digits++;
    }
    if (digits == 0 || v > max || tzs_digit(s))
        return false;
    *out = v;
    return true;
}

/* A zone abbreviation: 3+ letters, or 3+ of [A-Za-z0-9+-] between '<' and '>'. */
static bool tzs_name(struct tzs *s)
{
    size_t len = 0;
    if (s->p < s->end && *s->p == '<') {
        s->p++;
        while (s->p < s->end && *s->p != '>') {
            char c = *s->p++;
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-'))
                return false;
            len++;
        }
        if (s->p == s->end)
            return false;
        s->p++; /* '>' */
        return len >= 3;
    }
    while (s->p < s->end && ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z'))) {
        s->p++;
        len++;
    }
    return len >= 3;
}

/* [+-]h[h[h]][:mm[:ss]] with hours at most max_hours, as signed seconds. */
static bool tzs_hms(struct tzs *s, int max_hours, int32_t *out)
{
    int sign = 1;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
        sign = *s->p == '-' ? -1 : 1;
        s->p++;
    }
    int h, m = 0, sec = 0;
    if (!tzs_num(s, 3, max_hours, &h))
        return false;
    if (s->p < s->end && *s->p == ':') {
        s->p++;
        if (!tzs_num(s, 2, 59, &m))
            return false;
        if (s->p < s->end && *s->p == ':') {
            s->p++;
            if (!tzs_num(s, 2, 59, &sec))
                return false;
        }
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return true;
}

/* A UTC offset as POSIX writes it (hours west), returned in ms east of UTC. */
static bool tzs_offset(struct tzs *s, int64_t *east_ms)
{
    int32_t west = 0;
    if (!tzs_hms(s, 24, &west) || west < -TZ_OFFSET_MAX_S || west > TZ_OFFSET_MAX_S)
        return false;
    *east_ms = -(int64_t)west * CW_MS_PER_SECOND;
    return true;
}

/* date[/time] of a rule. */
static bool tzs_date(struct tzs *s, struct tz_date *d)
{
    memset(d, 0, sizeof *d);
    if (s->p < s->end && *s->p == 'J') {
        s->p++;
        d->kind = 'J';
        if (!tzs_num(s, 3, 365, &d->n) || d->n < 1)
            return false;
    } else if (s->p < s->end && *s->p == 'M') {
        s->p++;
        d->kind = 'M';
        if (!tzs_num(s, 2, 12, &d->month) || d->month < 1 || s->p == s->end || *s->p++ != '.' ||
            !tzs_num(s, 1, 5, &d->week) || d->week < 1 || s->p == s->end || *s->p++ != '.' ||
            !tzs_num(s, 1, 6, &d->wday))
            return false;
    } else {
        d->kind = 'N';
        if (!tzs_num(s, 3, 365, &d->n))
            return false;
    }
    d->time_s = 2 * 3600;
    if (s->p < s->end && *s->p == '/') {
        s->p++;
        if (!tzs_hms(s, 167, &d->time_s))
            return false;
    }
    return true;
}

/* Parse a footer's TZ string of len bytes. A DST part needs a rule: RFC 8536 footers
 * always carry one, and POSIX leaves the default implementation-defined. */
static bool parse_rule(const char *str, size_t len, struct tz_rule *r)
{
    struct tzs s = {str, str + len};
    memset(r, 0, sizeof *r);
    if (!tzs_name(&s) || !tzs_offset(&s, &r->std_ms))
        return false;
    if (s.p == s.end)
        return true;
    if (!tzs_name(&s))
        return false;
    r->has_dst = true;
    r->dst_ms = r->std_ms + 3600 * CW_MS_PER_SECOND;
    if (s.p < s.end && *s.p != ',' && !tzs_offset(&s, &r->dst_ms))
        return false;
    if (r->dst_ms < -TZ_OFFSET_MAX_S * CW_MS_PER_SECOND ||
        r->dst_ms > TZ_OFFSET_MAX_S * CW_MS_PER_SECOND)
        return false;
    if (s.p == s.end || *s.p++ != ',' || !tzs_date(&s, &r->start) || s.p == s.end ||
        *s.p++ != ',' || !tzs_date(&s, &r->end))
        return false;
    return s.p == s.end;
}

/* The local day number (days since 1970-01-01) of a rule date in year. */
static int64_t rule_day(const struct tz_date *d, int year)
{
    if (d->kind == 'J')
        return cw_days_from_civil(year, 1, 1) + d->n - 1 + (is_leap(year) && d->n >= 60 ? 1 : 0);
    if (d->kind == 'N')
        return cw_days_from_civil(year, 1, 1) + d->n;
    unsigned month = (unsigned)d->month;
    int64_t first = cw_days_from_civil(year, month, 1);
    int64_t first_wday = (first % 7 + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (d->wday - first_wday + 7) % 7 + 7 * (d->week - 1);
    while (day >= first + month_days(year, month)) /* week 5: the last such weekday */
        day -= 7;
    return day;
}

/* The instant (ms) of a rule change in year, given the offset in force before it. */
static int64_t rule_instant(const struct tz_date *d, int year, int64_t before_ms)
{
    return rule_day(d, year) * CW_MS_PER_DAY + (int64_t)d->time_s * CW_MS_PER_SECOND - before_ms;
}

/*
 * The constant-offset range of a rule with DST around ms (clamped). The changes of the
 * five years around ms's UTC year are sorted; with dates inside their year and times
 * within +-167 h, at least one lies before ms and one after. Changes at the same instant
 * keep their year order, so a rule with DST all year ("0/0,J365/25") stays in DST.
 */
static struct tz_range rule_range(const struct tz_rule *r, int64_t ms)
{
    struct tz_range out = {.start = INT64_MIN, .end = INT64_MAX, .offset_ms = r->std_ms};
    if (!r->has_dst)
        return out;
    int year;
    unsigned month, mday;
    cw_civil_from_days((int32_t)floor_div(ms, CW_MS_PER_DAY), &year, &month, &mday);
    struct {
        int64_t at;
        int64_t offset_ms;
    } ev[10], tmp;
    int n = 0;
    for (int y = year - 2; y <= year + 2; y++) {
        ev[n].at = rule_instant(&r->start, y, r->std_ms);
        ev[n++].offset_ms = r->dst_ms;
        ev[n].at = rule_instant(&r->end, y, r->dst_ms);
        ev[n++].offset_ms = r->std_ms;
    }
    for (int i = 1; i < n; i++) /* stable insertion sort */
        for (int j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) {
            tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    int k = -1;
    while (k + 1 < n && ev[k + 1].at <= ms)
        k++;
    if (k < 0 || k + 1 >= n) { /* excluded above; a one-instant range is never reused */
        out.start = ms;
        out.end = ms + 1;
        return out;
    }
    out.start = ev[k].at;
    out.end = ev[k + 1].at;
    out.offset_ms = ev[k].offset_ms;
    return out;
}

/* --- TZif files (RFC 8536) --- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be_time(const unsigned char *p, size_t width)
{
    if (width == 4)
        return (int32_t)be32(p);
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return v > INT64_MAX ? -(int64_t)(UINT64_MAX - v) - 1 : (int64_t)v;
}

#define TZIF_HEADER 44

/* The six counts of a TZif header, in file order. */
struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

/* Read and check a header at p (TZIF_HEADER bytes available); NULL or a problem. */
static const char *read_header(const unsigned char *p, struct tzif_counts *c)
{
    if (memcmp(p, "TZif", 4) != 0)
        return "no TZif magic, not a compiled zone file";
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->isut > TZ_COUNT_MAX || c->isstd > TZ_COUNT_MAX || c->leap > TZ_COUNT_MAX ||
        c->time > TZ_COUNT_MAX || c->type > TZ_COUNT_MAX || c->chars > TZ_COUNT_MAX)
        return "implausibly large counts in the header";
    if (c->type == 0 || c->type > 256 || c->chars == 0)
        return "no local time types or designations";
    if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
        return "standard/UT indicator counts do not match the type count";
    return NULL;
}

/* Bytes of a data block with time values of width bytes. */
static size_t block_size(const struct tzif_counts *c, size_t width)
{
    return (size_t)c->time * (width + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (width + 4) + c->isstd + c->isut;
}

/*
 * Check the data block at p (block_size bytes available) and fill tz's transition
 * table, keeping only the transitions that change the offset. A file with leap-second
 * records ("right/" zones) counts leap seconds in its time values; they are converted
 * to POSIX time, which does not. Returns NULL or a problem.
 */
static const char *read_block(const unsigned char *p, const struct tzif_counts *c, size_t width,
                              bool v1, cw_tz *tz)
{
    const unsigned char *times = p;
    const unsigned char *idx = times + (size_t)c->time * width;
    const unsigned char *types = idx + c->time;
    const unsigned char *chars = types + (size_t)c->type * 6;
    const unsigned char *leaps = chars + c->chars;
    const unsigned char *isstd = leaps + (size_t)c->leap * (width + 4);
    const unsigned char *isut = isstd + c->isstd;

    for (uint32_t i = 0; i < c->type; i++) {
        const unsigned char *t = types + (size_t)i * 6;
        int32_t utoff = (int32_t)be32(t);
        if (utoff < -TZ_OFFSET_MAX_S || utoff > TZ_OFFSET_MAX_S)
            return "a UTC offset of a day or more";
        if (t[4] > 1 || t[5] >= c->chars)
            return "a corrupt local time type";
    }
    if (chars[c->chars - 1] != '\0')
        return "unterminated time zone designations";
    for (uint32_t i = 0; i < c->isstd; i++)
        if (isstd[i] > 1 || (c->isut && isut[i] > isstd[i]))
            return "corrupt standard/UT indicators";
    for (uint32_t i = 0; i < c->isut; i++)
        if (isut[i] > 1)
            return "corrupt standard/UT indicators";
    for (uint32_t i = 0; i < c->leap; i++) {
        const unsigned char *l = leaps + (size_t)i * (width + 4);
        int64_t when = be_time(l, width);
        int32_t corr = (int32_t)be32(l + width);
        if (corr < -100000 || corr > 100000 || (i == 0 && !v1 && when < 0))
            return "a corrupt leap-second record";
        if (i > 0) {
            const unsigned char *prev = l - (width + 4);
            int32_t step = corr - (int32_t)be32(prev + width);
            if (when <= be_time(prev, width) || step < -1 || step > 1)
                return "corrupt leap-second records";
        }
    }

    tz->at = malloc(((size_t)c->time * 2 + 1) * sizeof *tz->at);
    if (!tz->at)
        return "out of memory";
    tz->off = tz->at + c->time;
    tz->n_at = 0;
    tz->off[0] = (int64_t)(int32_t)be32(types) * CW_MS_PER_SECOND; /* type 0 before any */
    tz->rule_from = INT64_MIN;
    uint32_t leap = 0;
    int32_t corr = 0;
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < c->time; i++) {
        int64_t when = be_time(times + (size_t)i * width, width);
        if (i > 0 && when <= prev)
            return "transition times out of order";
        prev = when;
        if (idx[i] >= c->type)
            return "a transition to a local time type that does not exist";
        int64_t off = (int64_t)(int32_t)be32(types + (size_t)idx[i] * 6) * CW_MS_PER_SECOND;
        if (when < -TZ_TABLE_S) { /* before the range: its type holds from the start */
            tz->off[0] = off;
            tz->rule_from = -TZ_TABLE_MS;
            continue;
        }
        if (when > TZ_TABLE_S) { /* never reached; neither is the footer */
            tz->rule_from = INT64_MAX;
            break;
        }
        while (leap < c->leap && be_time(leaps + (size_t)leap * (width + 4), width) <= when) {
            corr = (int32_t)be32(leaps + (size_t)leap * (width + 4) + width);
            leap++;
        }
        int64_t ms = (when - corr) * CW_MS_PER_SECOND;
        if (tz->n_at > 0 && ms <= tz->at[tz->n_at - 1])
            return "transition times out of order";
        tz->rule_from = ms;
        if (off == tz->off[tz->n_at])
            continue; /* only the abbreviation or the DST flag changes */
        tz->at[tz->n_at] = ms;
        tz->off[tz->n_at + 1] = off;
        tz->n_at++;
    }
    if (tz->n_at < c->time) /* close the gap so off follows at */
        memmove(tz->at + tz->n_at, tz->off, (tz->n_at + 1) * sizeof *tz->off);
    tz->off = tz->at + tz->n_at;
    return NULL;
}

/* Parse a whole TZif file of len bytes into tz. Returns NULL or a problem. */
static const char *parse_tzif(const unsigned char *buf, size_t len, cw_tz *tz)
{
    struct tzif_counts c;
    if (len < TZIF_HEADER)
        return memcmp(buf, "TZif", len < 4 ? len : 4) != 0
                   ? "no TZif magic, not a compiled zone file"
                   : "truncated header";
    const char *why = read_header(buf, &c);
    if (why)
        return why;
    unsigned char version = buf[4];
    if (version != 0 && (version < '2' || version > '4'))
        return "unsupported TZif version (1 to 4 are known)";
    size_t pos = TZIF_HEADER;
    size_t size = block_size(&c, 4);
    if (len - pos < size)
        return "truncated data";
    if (version == 0) {
        if (len - pos != size)
            return "trailing bytes after the data";
        return read_block(buf + pos, &c, 4, true, tz);
    }
    pos += size; /* version 2+: skip the 32-bit block for the 64-bit one */
    if (len - pos < TZIF_HEADER)
        return "truncated second header";
    why = read_header(buf + pos, &c);
    if (why)
        return why;
    if (buf[pos + 4] != version)
        return "the two headers disagree on the version";
    pos += TZIF_HEADER;
    size = block_size(&c, 8);
    if (len - pos < size)
        return "truncated data";
    why = read_block(buf + pos, &c, 8, false, tz);
    if (why)
        return why;
    pos += size;

    /* Footer: "\n" TZ-string "\n", ending the file. */
    if (len - pos < 2 || buf[pos] != '\n')
        return "truncated footer";
    const char *str = (const char *)buf + pos + 1;
    const char *nl = memchr(str, '\n', len - pos - 1);
    if (!nl)
        return "truncated footer";
    if ((size_t)(nl - (const char *)buf) != len - 1)
        return "trailing bytes after the footer";
    size_t slen = (size_t)(nl - str);
    if (slen == 0) {
        tz->has_rule = false; /* the last transition's offset stays */
        return NULL;
    }
    if (!parse_rule(str, slen, &tz->rule))
        return "an invalid TZ string in the footer";
    tz->has_rule = tz->rule_from != INT64_MAX;
    return NULL;
}

/* --- names and files --- */

/* True for a name of 1..TZ_NAME_MAX bytes of [A-Za-z0-9/_+.-] (the characters of tzdata
 * names) whose components are not empty and do not start with '.', which rules out
 * "..", absolute paths and hidden files. */
static bool name_well_formed(const char *name)
{
    if (!name || !*name || *name == '/')
        return false;
    size_t len = 0;
    bool component_start = true;
    for (const char *p = name; *p; p++, len++) {
        char c = *p;
        if (len == TZ_NAME_MAX)
            return false;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
            return false;
        if (component_start && (c == '.' || c == '/'))
            return false;
        component_start = c == '/';
    }
    return !component_start;
}

/* Names that exist under zoneinfo directories but are not zones: the host's own zone,
 * zic's default rules, the "Factory" placeholder and the posix/ and right/ trees (the
 * latter counts leap seconds, which POSIX instants do not). */
static bool name_reserved(const char *name)
{
    return strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0 ||
           strcmp(name, "Factory") == 0 || strncmp(name, "posix/", 6) == 0 ||
           strncmp(name, "right/", 6) == 0;
}

/* Read the regular file path into a new buffer of *len bytes. NULL with errno set on
 * failure: ENOENT also for a directory or a special file, EFBIG for an oversized one. */
static unsigned char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unsigned char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = ENOENT;
        goto fail;
    }
    if (st.st_size > TZ_FILE_MAX) {
        errno = EFBIG;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1); /* +1: an empty file still gets a buffer */
    if (!buf)
        goto fail;
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > (size_t)st.st_size) { /* grew while we read it */
            errno = EAGAIN;
            goto fail;
        }
    }
    close(fd);
    *len = got;
    return buf;
fail:;
    int saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}

cw_tz *cw_tz_open_dir(const char *zoneinfo_dir, const char *name, char *err, size_t errsize)
{
    if (!name_well_formed(name)) {
        set_err(err, errsize,
                "unknown time zone: the name must be 1 to %d characters of letters, digits and "
                "\"/_+-.\", like \"Asia/Tokyo\"",
                TZ_NAME_MAX);
        return NULL;
    }
    if (name_reserved(name)) {
        set_err(err, errsize,
                "unknown time zone \"%s\" (not an IANA zone; expected a name such as "
                "\"Asia/Tokyo\" or \"UTC\")",
                name);
        return NULL;
    }
    if (!zoneinfo_dir || !*zoneinfo_dir) {
        set_err(err, errsize, "time zone \"%s\": no zoneinfo directory given", name);
        return NULL;
    }
    char path[TZ_PATH_MAX];
    int plen = snprintf(path, sizeof path, "%s/%s", zoneinfo_dir, name);
    if (plen < 0 || (size_t)plen >= sizeof path) {
        set_err(err, errsize, "time zone \"%s\": the zoneinfo path is too long", name);
        return NULL;
    }

    size_t len = 0;
    unsigned char *buf = read_file(path, &len);
    if (!buf) {
        if (errno == ENOENT || errno == ENOTDIR) {
            set_err(err, errsize,
                    "unknown time zone \"%s\" (no zone file %s; expected an IANA name such as "
                    "\"Asia/Tokyo\" or \"UTC\")",
                    name, path);
        } else {
            char msg[128];
            if (strerror_r(errno, msg, sizeof msg) != 0)
                snprintf(msg, sizeof msg, "error %d", errno);
            set_err(err, errsize, "time zone \"%s\": cannot read %s: %s", name, path, msg);
        }
        return NULL;
    }
    cw_tz *tz = calloc(1, sizeof *tz);
    if (!tz) {
        free(buf);
        set_err(err, errsize, "time zone \"%s\": out of memory", name);
        return NULL;
    }
    tz->id = atomic_fetch_add(&zone_ids, 1) + 1;
    const char *why = parse_tzif(buf, len, tz);
    free(buf);
    if (why) {
        set_err(err, errsize, "time zone \"%s\": %s: %s", name, path, why);
        cw_tz_free(tz);
        return NULL;
    }
    return tz;
}

cw_tz *cw_tz_open(const char *name, char *err, size_t errsize)
{
    return cw_tz_open_dir(TZ_SYSTEM_DIR, name, err, errsize);
}

bool cw_tz_valid(const char *name)
{
    cw_tz *tz = cw_tz_open(name, NULL, 0);
    cw_tz_free(tz);
    return tz != NULL;
}

void cw_tz_free(cw_tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz);
}

/* --- lookups --- */

/* The constant-offset range containing ms (clamped), from the table or the footer rule. */
static struct tz_range query(const cw_tz *tz, int64_t ms)
{
    if (tz->has_rule && ms >= tz->rule_from) {
        struct tz_range r = rule_range(&tz->rule, ms);
        if (r.start < tz->rule_from)
            r.start = tz->rule_from;
        return r;
    }
    size_t lo = 0, hi = tz->n_at; /* lo = number of transitions at or before ms */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct tz_range r = {
        .start = lo > 0 ? tz->at[lo - 1] : INT64_MIN,
        .end = lo < tz->n_at ? tz->at[lo] : INT64_MAX,
        .offset_ms = tz->off[lo],
    };
    if (tz->has_rule && r.end > tz->rule_from)
        r.end = tz->rule_from;
    return r;
}

/* The range containing ms (clamped) from the thread's cache when it is not the most recent
 * hit, filling the cache on a miss (and emptying it first when it holds another zone's).
 * Kept out of line so the common case below stays small. */
static __attribute__((noinline)) const struct tz_range *lookup_other(const cw_tz *tz, int64_t ms)
{
    struct tz_cache *c = &thread_cache;
    if (c->zone != tz->id)
        *c = (struct tz_cache){.zone = tz->id};
    const struct tz_range *r;
    for (unsigned i = 0; i < TZ_CACHE_RANGES; i++) {
        r = &c->ranges[i];
        if (ms >= r->start && ms < r->end) {
            c->last = i;
            return r;
        }
    }
    unsigned slot = c->victim;
    c->victim = (c->victim + 1) % TZ_CACHE_RANGES;
    c->ranges[slot] = query(tz, ms);
    c->last = slot;
    return &c->ranges[slot];
}

/* The range containing ms (clamped): most calls hit the thread's most recent range. */
static inline const struct tz_range *lookup(const cw_tz *tz, int64_t ms)
{
    const struct tz_cache *c = &thread_cache;
    const struct tz_range *r = &c->ranges[c->last];
    if (c->zone == tz->id && ms >= r->start && ms < r->end)
        return r;
    return lookup_other(tz, ms);
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
