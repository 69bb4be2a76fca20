/* gen.c - seeded synthetic usage-event histories: account fates, daily activity, JSON text */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"
#include "churnwatch/gen.h"

#define DAY_MS  CW_MS_PER_DAY
#define HOUR_MS (INT64_C(3600000))
#define MIN_MS  (INT64_C(60000))
#define N(a)    (sizeof(a) / sizeof((a)[0]))

#define MAX_ACCOUNTS 1000000u
#define MAX_DAYS     3660u
#define MAX_RATE     1000.0
#define MAX_OFFSET   (23 * 60 + 59)
#define END_MAX_MS   INT64_C(221845392000000) /* 9000-01-01T00:00:00Z */
#define OLD_MIN_DAYS                                                                               \
    45u                     /* established accounts were created at least this long: their         \
                             * onboarding (30 days) was due well before the history */
#define OLD_SPAN_DAYS 1200u /* ... plus up to this much before the history starts */
/* Renewals: a renewing account renews this many days after the last day of the history;
 * every other account later than RENEWAL_CLEAR_DAYS after the end, beyond the shipped
 * renewal_risk's `within: 90d` with room for the daemon's clock to run on after the end. */
#define RENEWING_MIN_DAYS  20
#define RENEWING_MAX_DAYS  60
#define RENEWAL_CLEAR_DAYS 100

/* Healthy calibration: the rates of a level-1.0 account. The usage level of a day scales
 * the size of the active pool only, so every count and distinct-user measure is
 * proportional to it (borderline at 0.47 yields about 47% of each healthy value). */
#define POOL_FRACTION   0.8  /* share of seats in the active pool */
#define P_WEEKDAY       0.7  /* a pool user is active on a weekday */
#define P_WEEKEND       0.08 /* ... on a Saturday or Sunday */
#define EXTRA_LOGINS    0.25 /* mean further logins per active user-day */
#define RECORDS         1.5  /* mean record_written per active user-day */
#define APPS            0.03 /* mean app_created per active user-day */
#define HELP_VIEWS      0.1  /* mean help_viewed per active user-day */
#define EMAIL_CLICKS    0.05 /* mean email_clicked per pool user and weekday */
#define SEMINARS        0.1  /* mean seminar_attended per pool user on Wednesdays */
#define WEBINARS        0.15 /* share of the pool watching a webinar on Wednesdays */
#define SUPPORT_TICKETS 0.01 /* mean support_ticket per pool user and weekday */
/* Users still joining: registrations per seat and 28 days at level 1 (scaled by the day's
 * level), dealt out by an accumulator like the sparse events. They are the last of the
 * account's planned users, so an account ends the history with as many users as before
 * and starts it with that many fewer; at most a quarter of them, counted back from the
 * end (a long history registers them in its last part). */
#define REG_GROWTH     0.05
#define REG_GROWTH_MAX 4 /* at most n_users / REG_GROWTH_MAX join during the history */
#define GROUP_SIZE     5 /* healthy accounts a group: a parent and four children */

/* ---- random numbers: splitmix64 seeds xoshiro256** (both public domain, Vigna) ---- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(*state);
}

struct rng {
    uint64_t s[4];
};

static void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
    uint64_t span = (uint64_t)hi - lo + 1;
    return lo + (uint32_t)(((rng_next(r) >> 32) * span) >> 32);
}

/* Poisson-distributed count of mean lambda (Knuth, in chunks so exp() never underflows). */
static uint32_t rng_poisson(struct rng *r, double lambda)
{
    uint32_t count = 0;
    while (lambda > 0) {
        double chunk = lambda > 30 ? 30 : lambda;
        double limit = exp(-chunk);
        double p = rng_unit(r);
        while (p > limit) {
            count++;
            p *= rng_unit(r);
        }
        lambda -= chunk;
    }
    return count;
}

/* A uniform [0, 1) value fixed by (a, b, c): weekly noise without consuming a stream. */
static double hash_unit(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix64(a ^ mix64(b * UINT64_C(0x9e3779b97f4a7c15) ^ mix64(c + 1)));
    return (double)(h >> 11) * 0x1.0p-53;
}

/* ---- static tables ---- */

static const char *const fate_names[CW_GEN_FATE__COUNT] = {
    [CW_GEN_HEALTHY] = "healthy",       [CW_GEN_ONBOARDED] = "onboarded",
    [CW_GEN_DECLINING] = "declining",   [CW_GEN_SILENT] = "silent",
    [CW_GEN_STALLED] = "stalled",       [CW_GEN_UNDERUSED] = "underused",
    [CW_GEN_BORDERLINE] = "borderline", [CW_GEN_RECOVERING] = "recovering",
    [CW_GEN_RENEWING] = "renewing",     [CW_GEN_EXPANDING] = "expanding",
};

/* Default mix, in thousandths; sums to 1000. */
static const unsigned fate_mix[CW_GEN_FATE__COUNT] = {
    [CW_GEN_HEALTHY] = 250,   [CW_GEN_ONBOARDED] = 100, [CW_GEN_DECLINING] = 125,
    [CW_GEN_SILENT] = 100,    [CW_GEN_STALLED] = 75,    [CW_GEN_UNDERUSED] = 75,
    [CW_GEN_BORDERLINE] = 75, [CW_GEN_RECOVERING] = 75, [CW_GEN_RENEWING] = 75,
    [CW_GEN_EXPANDING] = 50,
};

/* Expected alerts per fate: fires, firing at the end, may fire. */
static const char *const fate_alerts[CW_GEN_FATE__COUNT][3] = {
    [CW_GEN_HEALTHY] = {"", "", ""},
    [CW_GEN_ONBOARDED] = {"", "", ""},
    [CW_GEN_DECLINING] = {"health_low,health_drop", "health_low", "seat_underuse"},
    [CW_GEN_SILENT] = {"silent", "silent", "health_low,health_drop,seat_underuse"},
    [CW_GEN_STALLED] = {"onboarding_stalled", "onboarding_stalled",
                        "health_low,health_drop,seat_underuse"},
    [CW_GEN_UNDERUSED] = {"seat_underuse", "seat_underuse", "health_low"},
    [CW_GEN_BORDERLINE] = {"", "", "health_low"},
    [CW_GEN_RECOVERING] = {"health_low", "", "health_drop,seat_underuse"},
    [CW_GEN_RENEWING] = {"renewal_risk,health_low,health_drop", "renewal_risk,health_low",
                         "seat_underuse"},
    [CW_GEN_EXPANDING] = {"expansion", "expansion", ""},
};

static const char *const type_names[CW_GEN_TYPE__COUNT] = {
    [CW_GEN_LOGIN] = "login",
    [CW_GEN_APP_CREATED] = "app_created",
    [CW_GEN_RECORD_WRITTEN] = "record_written",
    [CW_GEN_SEMINAR_ATTENDED] = "seminar_attended",
    [CW_GEN_EMAIL_CLICKED] = "email_clicked",
    [CW_GEN_SUPPORT_TICKET] = "support_ticket",
    [CW_GEN_HELP_VIEWED] = "help_viewed",
    [CW_GEN_USER_REGISTERED] = "user_registered",
    [CW_GEN_ACCOUNT_UPDATED] = "account_updated",
    [CW_GEN_NPS_SUBMITTED] = "nps_submitted",
    [CW_GEN_WEBINAR_WATCHED] = "webinar_watched",
};

/* Segment spec names (B2B SaaS and e-mail specs where they have one, else Object Action). */
static const char *const segment_names[CW_GEN_TYPE__COUNT] = {
    [CW_GEN_LOGIN] = "Signed In",
    [CW_GEN_APP_CREATED] = "App Created",
    [CW_GEN_RECORD_WRITTEN] = "Record Written",
    [CW_GEN_SEMINAR_ATTENDED] = "Webinar Attended",
    [CW_GEN_EMAIL_CLICKED] = "Email Link Clicked",
    [CW_GEN_SUPPORT_TICKET] = "Support Ticket Created",
    [CW_GEN_HELP_VIEWED] = "Help Article Viewed",
    [CW_GEN_USER_REGISTERED] = "Signed Up",
    [CW_GEN_ACCOUNT_UPDATED] = "group",
    [CW_GEN_NPS_SUBMITTED] = "NPS Submitted",
    [CW_GEN_WEBINAR_WATCHED] = "Webinar Watched",
};

/* Properties of each type, as ready JSON objects; an event picks one by index. */
#define MAX_PROPS 5
static const char *const props[CW_GEN_TYPE__COUNT][MAX_PROPS] = {
    [CW_GEN_LOGIN] = {"{\"client\":\"web\"}", "{\"client\":\"web\"}", "{\"client\":\"web\"}",
                      "{\"client\":\"mobile\"}", "{\"client\":\"desktop\"}"},
    [CW_GEN_APP_CREATED] = {"{\"app\":\"crm\"}", "{\"app\":\"inventory\"}",
                            "{\"app\":\"helpdesk\"}", "{\"app\":\"timesheets\"}",
                            "{\"app\":\"expenses\"}"},
    [CW_GEN_RECORD_WRITTEN] = {"{\"app\":\"crm\"}", "{\"app\":\"crm\"}", "{\"app\":\"inventory\"}",
                               "{\"app\":\"helpdesk\"}", "{\"app\":\"timesheets\"}"},
    [CW_GEN_SEMINAR_ATTENDED] = {"{\"seminar\":\"getting-started\"}",
                                 "{\"seminar\":\"getting-started\"}",
                                 "{\"seminar\":\"automation-deep-dive\"}",
                                 "{\"seminar\":\"admin-best-practices\"}",
                                 "{\"seminar\":\"whats-new\"}"},
    [CW_GEN_EMAIL_CLICKED] = {"{\"campaign\":\"newsletter\"}", "{\"campaign\":\"newsletter\"}",
                              "{\"campaign\":\"feature-launch\"}",
                              "{\"campaign\":\"webinar-invite\"}", "{\"campaign\":\"tips\"}"},
    [CW_GEN_SUPPORT_TICKET] = {"{\"priority\":\"normal\"}", "{\"priority\":\"normal\"}",
                               "{\"priority\":\"normal\"}", "{\"priority\":\"low\"}",
                               "{\"priority\":\"high\"}"},
    [CW_GEN_HELP_VIEWED] = {"{\"article\":\"import-records\"}", "{\"article\":\"create-an-app\"}",
                            "{\"article\":\"permissions\"}", "{\"article\":\"api-tokens\"}",
                            "{\"article\":\"invite-users\"}"},
    [CW_GEN_USER_REGISTERED] = {"{\"role\":\"admin\"}", "{\"role\":\"member\"}",
                                "{\"role\":\"member\"}", "{\"role\":\"member\"}",
                                "{\"role\":\"member\"}"},
    [CW_GEN_ACCOUNT_UPDATED] = {"{}", "{}", "{}", "{}", "{}"},
    /* valued types: prop is the value itself (props_of) */
};

struct company {
    const char *slug;
    const char *name;
};

static const struct company companies[] = {
    {"acme", "Acme Corp"},
    {"globex", "Globex Corporation"},
    {"initech", "Initech"},
    {"umbrella", "Umbrella Health"},
    {"hooli", "Hooli"},
    {"vandelay", "Vandelay Industries"},
    {"soylent", "Soylent Foods"},
    {"wonka", "Wonka Confectionery"},
    {"stark", "Stark Logistics"},
    {"wayne", "Wayne Enterprises"},
    {"tyrell", "Tyrell Systems"},
    {"cyberdyne", "Cyberdyne"},
    {"oscorp", "Oscorp"},
    {"aperture", "Aperture Labs"},
    {"duff", "Duff Brewing"},
    {"gringotts", "Gringotts Bank"},
    {"monarch", "Monarch Solutions"},
    {"dunder", "Dunder Mifflin"},
    {"piedpiper", "Pied Piper"},
    {"nakatomi", "Nakatomi Trading"},
    {"weyland", "Weyland-Yutani"},
    {"yoyodyne", "Yoyodyne Propulsion"},
    {"bluesun", "Blue Sun"},
    {"planetexpress", "Planet Express"},
    {"virtucon", "Virtucon"},
    {"abstergo", "Abstergo"},
    {"bluth", "The \"Bluth\" Company"},
    {"sterling", "Sterling Cooper"},
    {"kramerica", "Kramerica"},
    {"roxxon", "Roxxon Energy"},
    {"spacely", "Spacely Sprockets"},
    {"cogswell", "Cogswell Cogs"},
    {"mueller", "M\xc3\xbcller & S\xc3\xb6hne"},
    {"sakura", "\xe3\x81\x95\xe3\x81\x8f\xe3\x82\x89\xe5\x95\x86\xe4\xba\x8b"},
    {"nordlys", "Nordlys \xc3\x86r\xc3\xb8"},
    {"initrode", "Initrode"},
    {"prestige", "Prestige Worldwide"},
    {"lacroix", "Caf\xc3\xa9 Lacroix"},
    {"ollivander", "Ollivander's Wands"},
    {"massive", "Massive Dynamic"},
};

static const char *const owners[] = {
    "aiko.tanaka@example.com",   "ben.okafor@example.com",  "carla.mendes@example.com",
    "dmitri.volkov@example.com", "emma.schulz@example.com", "farid.haddad@example.com",
};

/* ---- dates and RFC 3339 text ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *mday)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *mday = (int)d;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SS.mmm" + "Z" or "+hh:mm"; returns the length (23 + 1 or 6). */
static size_t format_ts(int64_t ms, int32_t offset_min, char out[32])
{
    int64_t local = ms + (int64_t)offset_min * MIN_MS;
    int64_t day = floor_div(local, DAY_MS);
    int64_t in_day = local - day * DAY_MS;
    int y, mo, d;
    civil_from_days(day, &y, &mo, &d);
    int sec = (int)(in_day / 1000);
    int milli = (int)(in_day % 1000);
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, mo);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, sec / 3600);
    out[13] = ':';
    put2(out + 14, sec / 60 % 60);
    out[16] = ':';
    put2(out + 17, sec % 60);
    out[19] = '.';
    out[20] = (char)('0' + milli / 100);
    put2(out + 21, milli % 100);
    if (offset_min == 0) {
        out[23] = 'Z';
        out[24] = '\0';
        return 24;
    }
    int a = offset_min < 0 ? -offset_min : offset_min;
    out[23] = offset_min < 0 ? '-' : '+';
    put2(out + 24, a / 60);
    out[26] = ':';
    put2(out + 27, a % 60);
    out[29] = '\0';
    return 29;
}

/* Parse exactly n decimal digits at p. */
static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* "+hh:mm", "-hh:mm", "Z" or "z" at p, the whole rest of the text, into minutes. */
static bool parse_offset(const char *p, int32_t *minutes)
{
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *minutes = 0;
        return true;
    }
    int h, m;
    if ((p[0] != '+' && p[0] != '-') || !digits(p + 1, 2, &h) || p[3] != ':' ||
        !digits(p + 4, 2, &m) || p[6] != '\0' || h > 23 || m > 59)
        return false;
    *minutes = (p[0] == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

/* RFC 3339 date-time ("2026-11-22T09:00:00.5+09:00") into epoch ms; years 1970..9999. */
static bool parse_rfc3339(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, se;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59)
        return false;
    const char *p = s + 19;
    int64_t milli = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                milli = milli * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return false;
        for (; n < 3; n++)
            milli *= 10;
    }
    int32_t off;
    if (!parse_offset(p, &off))
        return false;
    int64_t day = days_from_civil(y, mo, d);
    int64_t ms = day * DAY_MS + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + milli;
    ms -= (int64_t)off * MIN_MS;
    if (ms < 0)
        return false;
    *out_ms = ms;
    return true;
}

/* ---- JSON text ---- */

/* Escape s (NUL-terminated UTF-8) as the inside of a JSON string; the result is malloc'd. */
static char *json_escape_dup(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

/* True when s is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* A bounded writer: bytes beyond the capacity are counted, not written. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len <= o->size && n <= o->size - o->len)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
}

#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, tmp + sizeof(tmp) - n, n);
}

/* NUL-terminate; 1 when everything fitted, else -1 with the needed length in *len. */
static int out_finish(struct out *o, size_t *len)
{
    *len = o->len;
    if (o->len >= o->size)
        return -1;
    o->buf[o->len] = '\0';
    return 1;
}

/* ---- accounts ---- */

struct user {
    int32_t reg_day; /* local day of registration; INT32_MIN: before the history */
};

struct acct {
    struct cw_gen_account pub;
    const struct acct *parent; /* pub.parent_id's account, NULL none */
    char *id_esc;              /* JSON-escaped id, name and owner */
    size_t id_esc_len;
    char *name_esc;
    struct rng rng;
    double base;         /* level of normal use (1.0 = calibrated healthy) */
    int32_t x1, x2, x3;  /* fate milestones, in days before the last day */
    int32_t created_day; /* local day of created_at */
    int32_t first_app_day;
    int32_t last_active_day;
    uint32_t pool_fixed;            /* underused: the fixed active pool */
    uint32_t n_users;               /* planned users, registered by index order */
    int32_t traits_day;             /* local day of the traits event */
    uint32_t seq;                   /* events generated so far */
    uint32_t seq_values;            /* NPS answers and webinar minutes generated so far */
    double acc[CW_GEN_TYPE__COUNT]; /* sparse-event accumulators, see sparse() */
    int64_t traits_ts;
    struct user *users;
};

struct gen_event {
    int64_t ts;
    uint32_t account;
    uint32_t seq;
    uint16_t user;
    uint8_t type;
    uint8_t prop;
};

struct cw_gen {
    struct cw_gen_options opt;
    int64_t offset_ms;
    int32_t first_day, last_day;
    size_t n_accounts;
    struct acct *accounts;
    int32_t day; /* next day to generate */
    struct gen_event *evs;
    size_t n_evs, cap_evs, pos;
    bool alloc_failed;
    uint32_t *pool;   /* 0, 1, 2, ...: the user indices of a pool */
    uint32_t *active; /* scratch: today's active users of one account */
};

static int64_t day_start(const cw_gen *g, int32_t day)
{
    return (int64_t)day * DAY_MS - g->offset_ms;
}

static void set_err(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (err == NULL || errsize == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

void cw_gen_options_init(struct cw_gen_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->seed = 42;
    opt->accounts = 40;
    opt->days = 90;
    opt->end_ms = CW_GEN_DEFAULT_END_MS;
    opt->tz_offset_min = 0;
    opt->form = CW_PRESET_NATIVE;
    opt->rate_scale = 1.0;
    opt->id_prefix = NULL;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

/* "healthy=10,declining=5" into counts (unlisted fates 0). */
static int parse_fates(const char *value, uint32_t counts[CW_GEN_FATE__COUNT], char *err,
                       size_t errsize)
{
    uint32_t c[CW_GEN_FATE__COUNT] = {0};
    uint64_t total = 0;
    const char *p = value;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char name[32], num[24];
        if (eq == NULL || (size_t)(eq - p) >= sizeof(name) ||
            n - (size_t)(eq - p) - 1 >= sizeof(num)) {
            set_err(err, errsize, "fates: expected NAME=COUNT[,NAME=COUNT...], got \"%.*s\"",
                    (int)n, p);
            return -1;
        }
        memcpy(name, p, (size_t)(eq - p));
        name[eq - p] = '\0';
        memcpy(num, eq + 1, n - (size_t)(eq - p) - 1);
        num[n - (size_t)(eq - p) - 1] = '\0';
        int f = cw_gen_fate_from_name(name);
        uint64_t v;
        if (f < 0) {
            char valid[256];
            size_t used = 0;
            for (int i = 0; i < CW_GEN_FATE__COUNT && used < sizeof(valid); i++) {
                int w = snprintf(valid + used, sizeof(valid) - used, "%s%s", i ? ", " : "",
                                 fate_names[i]);
                used += w > 0 ? (size_t)w : 0;
            }
            set_err(err, errsize, "fates: unknown fate \"%s\" (valid: %s)", name, valid);
            return -1;
        }
        if (!parse_u64(num, MAX_ACCOUNTS, &v)) {
            set_err(err, errsize, "fates: count of %s must be 0..%u, got \"%s\"", name,
                    MAX_ACCOUNTS, num);
            return -1;
        }
        c[f] = (uint32_t)v;
        p += n;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                set_err(err, errsize, "fates: trailing comma");
                return -1;
            }
        }
    }
    for (int i = 0; i < CW_GEN_FATE__COUNT; i++)
        total += c[i];
    if (total == 0 || total > MAX_ACCOUNTS) {
        set_err(err, errsize, "fates: total accounts must be 1..%u, got %llu", MAX_ACCOUNTS,
                (unsigned long long)total);
        return -1;
    }
    memcpy(counts, c, sizeof(c));
    return 0;
}

int cw_gen_options_set(struct cw_gen_options *opt, const char *key, const char *value, char *err,
                       size_t errsize)
{
    uint64_t v;
    if (strcmp(key, "seed") == 0) {
        if (!parse_u64(value, UINT64_MAX, &v)) {
            set_err(err, errsize, "seed: expected an unsigned 64-bit integer, got \"%s\"", value);
            return -1;
        }
        opt->seed = v;
    } else if (strcmp(key, "accounts") == 0) {
        if (!parse_u64(value, MAX_ACCOUNTS, &v) || v == 0) {
            set_err(err, errsize, "accounts: expected 1..%u, got \"%s\"", MAX_ACCOUNTS, value);
            return -1;
        }
        opt->accounts = (size_t)v;
    } else if (strcmp(key, "days") == 0) {
        if (!parse_u64(value, MAX_DAYS, &v) || v == 0) {
            set_err(err, errsize, "days: expected 1..%u, got \"%s\"", MAX_DAYS, value);
            return -1;
        }
        opt->days = (uint32_t)v;
    } else if (strcmp(key, "end") == 0) {
        int64_t ms;
        if (!parse_rfc3339(value, &ms)) {
            set_err(err, errsize,
                    "end: expected an RFC 3339 time such as 2026-11-22T00:00:00Z, got \"%s\"",
                    value);
            return -1;
        }
        opt->end_ms = ms;
    } else if (strcmp(key, "form") == 0) {
        int f = cw_preset_from_name(value);
        if (f < 0) {
            set_err(err, errsize, "form: expected native, segment or cloudevents, got \"%s\"",
                    value);
            return -1;
        }
        opt->form = (enum cw_preset)f;
    } else if (strcmp(key, "fates") == 0) {
        return parse_fates(value, opt->fate_counts, err, errsize);
    } else if (strcmp(key, "timezone-offset") == 0) {
        int32_t off;
        if (!parse_offset(value, &off)) {
            set_err(err, errsize, "timezone-offset: expected +hh:mm, -hh:mm or Z, got \"%s\"",
                    value);
            return -1;
        }
        opt->tz_offset_min = off;
    } else if (strcmp(key, "rate-scale") == 0) {
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !(d > 0 && d <= MAX_RATE)) {
            set_err(err, errsize, "rate-scale: expected a number in (0, %g], got \"%s\"", MAX_RATE,
                    value);
            return -1;
        }
        opt->rate_scale = d;
    } else if (strcmp(key, "prefix") == 0) {
        if (strlen(value) > CW_GEN_PREFIX_MAX || !utf8_valid(value)) {
            set_err(err, errsize, "prefix: expected at most %d bytes of UTF-8", CW_GEN_PREFIX_MAX);
            return -1;
        }
        opt->id_prefix = value;
    } else {
        set_err(err, errsize,
                "unknown option \"%s\" (valid: seed, accounts, days, end, form, fates, "
                "timezone-offset, rate-scale, prefix)",
                key);
        return -1;
    }
    return 0;
}

static int validate(const struct cw_gen_options *o, char *err, size_t errsize)
{
    uint64_t total = 0;
    for (int i = 0; i < CW_GEN_FATE__COUNT; i++)
        total += o->fate_counts[i];
    if (total == 0 && (o->accounts == 0 || o->accounts > MAX_ACCOUNTS)) {
        set_err(err, errsize, "accounts must be 1..%u", MAX_ACCOUNTS);
        return -1;
    }
    if (total > MAX_ACCOUNTS) {
        set_err(err, errsize, "fate counts add up to more than %u accounts", MAX_ACCOUNTS);
        return -1;
    }
    if (o->days == 0 || o->days > MAX_DAYS) {
        set_err(err, errsize, "days must be 1..%u", MAX_DAYS);
        return -1;
    }
    if (o->tz_offset_min < -MAX_OFFSET || o->tz_offset_min > MAX_OFFSET) {
        set_err(err, errsize, "timezone offset must be within -23:59..+23:59");
        return -1;
    }
    int64_t span = ((int64_t)o->days + OLD_MIN_DAYS + OLD_SPAN_DAYS + 2) * DAY_MS;
    if (o->end_ms < span || o->end_ms > END_MAX_MS) {
        set_err(err, errsize,
                "end must lie between 1970-01-01 + %u days and 9000-01-01 "
                "(established accounts are created years before the history)",
                o->days + OLD_MIN_DAYS + OLD_SPAN_DAYS + 2);
        return -1;
    }
    if ((unsigned)o->form > CW_PRESET_CLOUDEVENTS) {
        set_err(err, errsize, "unknown output form %d", (int)o->form);
        return -1;
    }
    if (!(o->rate_scale > 0 && o->rate_scale <= MAX_RATE)) {
        set_err(err, errsize, "rate_scale must be in (0, %g]", MAX_RATE);
        return -1;
    }
    if (o->id_prefix != NULL &&
        (strlen(o->id_prefix) > CW_GEN_PREFIX_MAX || !utf8_valid(o->id_prefix))) {
        set_err(err, errsize, "id prefix must be at most %d bytes of UTF-8", CW_GEN_PREFIX_MAX);
        return -1;
    }
    return 0;
}

/* Accounts per fate: the explicit counts, or the default mix by largest remainder. */
static size_t fate_counts(const struct cw_gen_options *o, size_t counts[CW_GEN_FATE__COUNT])
{
    size_t total = 0;
    for (int i = 0; i < CW_GEN_FATE__COUNT; i++) {
        counts[i] = o->fate_counts[i];
        total += counts[i];
    }
    if (total != 0)
        return total;
    size_t rem[CW_GEN_FATE__COUNT];
    for (int i = 0; i < CW_GEN_FATE__COUNT; i++) {
        counts[i] = o->accounts * fate_mix[i] / 1000;
        rem[i] = o->accounts * fate_mix[i] % 1000;
        total += counts[i];
    }
    while (total < o->accounts) {
        int best = 0;
        for (int i = 1; i < CW_GEN_FATE__COUNT; i++)
            if (rem[i] > rem[best])
                best = i;
        counts[best]++;
        rem[best] = 0;
        total++;
    }
    return total;
}

/* Draw segment and seats; some fates fix them. */
static void pick_size(struct acct *a)
{
    struct rng *r = &a->rng;
    uint32_t seats;
    switch (a->pub.fate) {
    case CW_GEN_UNDERUSED:
        seats = 50;
        break;
    case CW_GEN_STALLED:
        seats = rng_range(r, 10, 30);
        break;
    case CW_GEN_BORDERLINE:
        seats = rng_unit(r) < 0.7 ? rng_range(r, 45, 60) : rng_range(r, 70, 110);
        break;
    default: {
        double u = rng_unit(r);
        seats = u < 0.40   ? rng_range(r, 10, 20)
                : u < 0.85 ? rng_range(r, 25, 60)
                           : rng_range(r, 70, 120);
        break;
    }
    }
    a->pub.seats = seats;
    if (seats <= 20) {
        strcpy(a->pub.segment, "S");
        a->pub.plan = "starter";
    } else if (seats <= 60) {
        strcpy(a->pub.segment, "M");
        a->pub.plan = "standard";
    } else {
        strcpy(a->pub.segment, "L");
        a->pub.plan = "enterprise";
    }
}

static double level(const cw_gen *g, const struct acct *a, size_t idx, int32_t day);

/*
 * Users joining during the history (REG_GROWTH): the last of a's users register on the
 * days an accumulator of REG_GROWTH per seat and 28 days, times the day's level, fills
 * up, counted back from the day before the last (an event of the last day may fall after
 * the end) to `from`. Returns how many, at most n_users / REG_GROWTH_MAX.
 */
static uint32_t plan_growth(const cw_gen *g, struct acct *a, size_t idx, int32_t from)
{
    uint32_t n = a->n_users, max = n / REG_GROWTH_MAX, k = 0;
    double acc = rng_unit(&a->rng);
    for (int32_t day = g->last_day - 1; day >= from && k < max; day--) {
        acc += REG_GROWTH * a->pub.seats * level(g, a, idx, day) / 28.0;
        while (acc >= 1 && k < max) {
            acc -= 1;
            a->users[n - 1 - k++].reg_day = day;
        }
    }
    return k;
}

/* Registration days of a's n_users users: the growth (when `grows`) from the history or
 * the end of onboarding on, the others all before the history (established) or from
 * created_day on (new). Registration order is index order. */
static int plan_users(const cw_gen *g, struct acct *a, size_t idx, bool new_account,
                      uint32_t spread_days, bool grows)
{
    uint32_t n = a->n_users;
    a->users = calloc(n, sizeof(*a->users));
    if (a->users == NULL)
        return -1;
    uint32_t growth = 0;
    if (grows) {
        int32_t from = new_account ? a->created_day + (int32_t)spread_days + 1 : g->first_day;
        growth = plan_growth(g, a, idx, from > g->first_day ? from : g->first_day);
    }
    int32_t prev = a->created_day;
    for (uint32_t k = 0; k < n - growth; k++) {
        if (!new_account) {
            a->users[k].reg_day = INT32_MIN;
            continue;
        }
        int32_t day =
            k == 0 ? a->created_day : a->created_day + (int32_t)rng_range(&a->rng, 0, spread_days);
        if (day < prev)
            day = prev; /* registration order is index order */
        a->users[k].reg_day = day;
        prev = day;
    }
    return 0;
}

/* Fix an account's fate parameters, traits and users. */
static int plan_account(cw_gen *g, struct acct *a, size_t i)
{
    struct rng *r = &a->rng;
    int32_t last = g->last_day;
    enum cw_gen_fate fate = a->pub.fate;
    pick_size(a);
    a->pub.owner = owners[rng_range(r, 0, (uint32_t)N(owners) - 1)];
    a->base = 0.95 + 0.2 * rng_unit(r);
    a->first_app_day = INT32_MIN;
    bool new_account = fate == CW_GEN_ONBOARDED || fate == CW_GEN_STALLED;
    uint32_t seats = a->pub.seats;
    uint32_t n_users = (uint32_t)lround(seats * (0.85 + 0.1 * rng_unit(r)));
    uint32_t spread = 10;
    int32_t years = 0; /* renewing: the anniversary that falls after the end */
    if (new_account) {
        int32_t x_created =
            fate == CW_GEN_STALLED ? (int32_t)rng_range(r, 35, 60) : (int32_t)rng_range(r, 40, 80);
        a->created_day = last - x_created;
    } else if (fate == CW_GEN_RENEWING) {
        /* Created whole years before a renewal RENEWING_MIN..MAX_DAYS after the last day. */
        int32_t due = last + (int32_t)rng_range(r, RENEWING_MIN_DAYS, RENEWING_MAX_DAYS);
        int32_t latest = g->first_day - (int32_t)OLD_MIN_DAYS;
        years = (due - latest + 364) / 365 + (int32_t)rng_range(r, 0, 2);
        a->created_day = due - 365 * years;
    } else {
        a->created_day =
            g->first_day - (int32_t)rng_range(r, OLD_MIN_DAYS, OLD_MIN_DAYS + OLD_SPAN_DAYS);
    }
    int64_t created =
        day_start(g, a->created_day) + 9 * HOUR_MS + (int64_t)(rng_unit(r) * 3 * (double)HOUR_MS);
    a->pub.created_at_ms = created;
    int64_t renewal = created + 365 * DAY_MS;
    if (fate == CW_GEN_RENEWING) {
        renewal = created + years * 365 * DAY_MS;
    } else {
        int64_t clear = g->opt.end_ms + RENEWAL_CLEAR_DAYS * DAY_MS;
        while (renewal <= clear)
            renewal += 365 * DAY_MS;
    }
    a->pub.renewal_at_ms = renewal;
    int64_t start = day_start(g, g->first_day);
    a->traits_ts = created >= start ? created : start + (int64_t)i;
    a->traits_day = (int32_t)floor_div(a->traits_ts + g->offset_ms, DAY_MS);

    switch (fate) {
    case CW_GEN_HEALTHY:
    case CW_GEN_ONBOARDED:
        break;
    case CW_GEN_DECLINING:
    case CW_GEN_RENEWING:
        a->x1 = (int32_t)rng_range(r, 40, 46); /* decline starts */
        a->x2 = a->x1 - 26;                    /* and bottoms out */
        break;
    case CW_GEN_EXPANDING:
        a->base = 1.05 + 0.1 * rng_unit(r); /* with its pool of every seat: all in use */
        n_users = seats;
        break;
    case CW_GEN_SILENT:
        a->base = 0.75 + 0.15 * rng_unit(r);
        a->x1 = (int32_t)rng_range(r, 16, 34); /* last active day */
        break;
    case CW_GEN_STALLED:
        n_users = rng_range(r, 3, 6);
        spread = 3;
        break;
    case CW_GEN_UNDERUSED:
        n_users = rng_range(r, 8, 12);
        a->pool_fixed = rng_range(r, 3, 5);
        break;
    case CW_GEN_BORDERLINE:
        a->base = 0.47;
        n_users = (uint32_t)lround(seats * 0.45) + 1;
        break;
    case CW_GEN_RECOVERING:
        a->x1 = (int32_t)rng_range(r, 64, 68); /* dip starts */
        a->x2 = a->x1 - 10;                    /* bottom reached */
        a->x3 = a->x2 - 14;                    /* recovery starts, back 10 days later */
        break;
    default:
        break;
    }
    if (n_users == 0)
        n_users = 1;
    if (n_users > seats)
        n_users = seats;
    if (fate == CW_GEN_ONBOARDED)
        a->first_app_day = a->created_day + (int32_t)rng_range(r, 1, 4);
    a->last_active_day = a->created_day;
    a->n_users = n_users;
    bool grows = fate != CW_GEN_STALLED && fate != CW_GEN_UNDERUSED && fate != CW_GEN_EXPANDING;
    if (plan_users(g, a, i, new_account, spread, grows) != 0)
        return -1;
    uint32_t registered = 0;
    for (uint32_t k = 0; k < n_users; k++)
        if (a->users[k].reg_day <= last)
            registered++;
    a->pub.users = registered;
    return 0;
}

/* Usage level of account a on the day x days before the last one (1.0 = healthy). */
static double level(const cw_gen *g, const struct acct *a, size_t idx, int32_t day)
{
    int32_t x = g->last_day - day;
    double noise_amp = a->pub.fate == CW_GEN_BORDERLINE ? 0.02 : 0.05;
    double w = 1 + noise_amp * (2 * hash_unit(g->opt.seed, idx, (uint64_t)(day / 7)) - 1);
    double b = a->base;
    switch (a->pub.fate) {
    case CW_GEN_DECLINING:
    case CW_GEN_RENEWING:
        if (x >= a->x1)
            return b * w;
        if (x <= a->x2)
            return 0.05;
        return 0.05 + (b - 0.05) * (double)(x - a->x2) / (double)(a->x1 - a->x2);
    case CW_GEN_SILENT:
        return x < a->x1 ? 0 : b * w;
    case CW_GEN_RECOVERING:
        if (x >= a->x1 || x <= a->x3 - 10)
            return b * w;
        if (x > a->x2)
            return 0.05 + (b - 0.05) * (double)(x - a->x2) / (double)(a->x1 - a->x2);
        if (x >= a->x3)
            return 0.05;
        return 0.05 + (b - 0.05) * (double)(a->x3 - x) / 10.0;
    default:
        return b * w;
    }
}

/* ---- daily activity ---- */

static int push(cw_gen *g, size_t idx, int64_t ts, uint32_t user, enum cw_gen_type type)
{
    struct acct *a = &g->accounts[idx];
    if (ts >= g->opt.end_ms)
        return 0;
    if (g->n_evs == g->cap_evs) {
        size_t cap = g->cap_evs != 0 ? g->cap_evs * 2 : 4096;
        struct gen_event *e = realloc(g->evs, cap * sizeof(*e));
        if (e == NULL) {
            g->alloc_failed = true;
            return -1;
        }
        g->evs = e;
        g->cap_evs = cap;
    }
    struct gen_event *e = &g->evs[g->n_evs++];
    e->ts = ts;
    e->account = (uint32_t)idx;
    e->seq = ++a->seq;
    e->user = (uint16_t)user;
    e->type = (uint8_t)type;
    e->prop = type == CW_GEN_USER_REGISTERED ? (uint8_t)(user == 0 ? 0 : 1)
              : type >= CW_GEN_NPS_SUBMITTED ? 0 /* the value: push_value */
                                             : (uint8_t)rng_range(&a->rng, 0, MAX_PROPS - 1);
    return 0;
}

/* A time of day in [lo_h, hi_h) hours, peaked in the middle (mean of two uniforms). */
static int64_t time_of_day(struct rng *r, double lo_h, double hi_h)
{
    double u = (rng_unit(r) + rng_unit(r)) / 2;
    return (int64_t)((lo_h + u * (hi_h - lo_h)) * (double)HOUR_MS);
}

/* One user's working session: logins and records (stalled: logins, help views, tickets). */
static void session(cw_gen *g, size_t idx, int64_t day0, uint32_t user, bool stalled)
{
    struct acct *a = &g->accounts[idx];
    struct rng *r = &a->rng;
    double rs = g->opt.rate_scale;
    int64_t s = day0 + time_of_day(r, 7.5, 17.5);
    push(g, idx, s, user, CW_GEN_LOGIN);
    uint32_t n = rng_poisson(r, EXTRA_LOGINS * rs);
    for (uint32_t k = 0; k < n; k++)
        push(g, idx, s + (int64_t)(rng_unit(r) * 4 * (double)HOUR_MS), user, CW_GEN_LOGIN);
    if (stalled) {
        n = rng_poisson(r, 0.8 * rs);
        for (uint32_t k = 0; k < n; k++)
            push(g, idx, s + (int64_t)(rng_unit(r) * (double)HOUR_MS), user, CW_GEN_HELP_VIEWED);
        if (rng_poisson(r, 0.04 * rs) > 0)
            push(g, idx, s + (int64_t)(rng_unit(r) * 2 * (double)HOUR_MS), user,
                 CW_GEN_SUPPORT_TICKET);
        return;
    }
    n = rng_poisson(r, RECORDS * rs);
    for (uint32_t k = 0; k < n; k++)
        push(g, idx, s + (int64_t)(rng_unit(r) * 3 * (double)HOUR_MS), user, CW_GEN_RECORD_WRITTEN);
}

/*
 * Sparse events (apps, help views, e-mail clicks, webinars, tickets) are dealt out by a
 * per-account accumulator rather than drawn independently: a window's count then tracks
 * the usage level within one event, so small accounts do not swing on luck alone.
 */
static void sparse(cw_gen *g, size_t idx, int64_t day0, enum cw_gen_type type, double mean,
                   const uint32_t *users, uint32_t n_users, double lo_h, double hi_h)
{
    struct acct *a = &g->accounts[idx];
    struct rng *r = &a->rng;
    a->acc[type] += mean;
    while (a->acc[type] >= 1 && n_users > 0) {
        a->acc[type] -= 1;
        uint32_t user = users[rng_range(r, 0, n_users - 1)];
        int64_t ts = type == CW_GEN_SEMINAR_ATTENDED
                         ? day0 + 14 * HOUR_MS + (int64_t)(rng_unit(r) * 10 * (double)MIN_MS)
                         : day0 + time_of_day(r, lo_h, hi_h);
        push(g, idx, ts, user, type);
    }
}

/*
 * An event of a valued type (NPS answer, webinar minutes) carrying value. Everything about
 * these events is drawn from hashes, never from the account's stream, and their event ids
 * come from a counter of their own: the rest of the history is the same, event for event
 * and id for id, as without them.
 */
static void push_value(cw_gen *g, size_t idx, int64_t ts, uint32_t user, enum cw_gen_type type,
                       uint8_t value)
{
    struct acct *a = &g->accounts[idx];
    uint32_t seq = a->seq;
    a->seq = UINT32_C(0x80000000) | ++a->seq_values;
    if (push(g, idx, ts, user, type) == 0 && ts < g->opt.end_ms)
        g->evs[g->n_evs - 1].prop = value;
    a->seq = seq;
}

/* An NPS answer about once a month (promoters for thriving fates, passives for the
 * borderline, detractors for the struggling), webinar minutes on Wednesdays. */
static void values_day(cw_gen *g, size_t idx, int32_t day, int64_t day0, uint32_t pool, int dow)
{
    struct acct *a = &g->accounts[idx];
    if (pool == 0)
        return;
    uint64_t s = g->opt.seed;
    if ((day + (int32_t)(idx * 11)) % 30 == 0) {
        double h = hash_unit(s, idx, (uint64_t)day * 4 + 1);
        uint8_t score;
        switch (a->pub.fate) {
        case CW_GEN_HEALTHY:
        case CW_GEN_ONBOARDED:
        case CW_GEN_RECOVERING:
        case CW_GEN_EXPANDING:
            score = h < 0.5 ? 9 : 10;
            break;
        case CW_GEN_BORDERLINE:
        case CW_GEN_UNDERUSED:
            score = h < 0.5 ? 7 : 8;
            break;
        default:
            score = (uint8_t)(2 + (int)(h * 5)); /* 2..6 */
            break;
        }
        uint32_t user = (uint32_t)(hash_unit(s, idx, (uint64_t)day * 4 + 2) * pool);
        push_value(g, idx, day0 + 11 * HOUR_MS + (int64_t)(h * (double)HOUR_MS),
                   user < pool ? user : 0, CW_GEN_NPS_SUBMITTED, score);
    }
    if (dow != 3)
        return;
    for (uint32_t k = 0; k < pool; k++) {
        double h = hash_unit(s, idx * 4096 + k, (uint64_t)day * 4 + 3);
        if (h < WEBINARS)
            push_value(g, idx, day0 + 16 * HOUR_MS + (int64_t)(h * 1e7), k, CW_GEN_WEBINAR_WATCHED,
                       (uint8_t)(20 + (int)(h / WEBINARS * 41))); /* 20..60 minutes */
    }
}

/* All of account idx's events on local day `day`, appended to g->evs. */
static void account_day(cw_gen *g, size_t idx, int32_t day)
{
    struct acct *a = &g->accounts[idx];
    struct rng *r = &a->rng;
    int64_t day0 = day_start(g, day);
    int dow = (int)((day % 7 + 7 + 4) % 7); /* 0 = Sunday; 1970-01-01 was a Thursday */
    bool weekend = dow == 0 || dow == 6;
    enum cw_gen_fate fate = a->pub.fate;

    if (day == a->traits_day)
        push(g, idx, a->traits_ts, 0, CW_GEN_ACCOUNT_UPDATED);

    /* Registrations; a user is active from the day after. */
    uint32_t registered = 0;
    for (uint32_t k = 0; k < a->n_users; k++) {
        if (a->users[k].reg_day == day) {
            int64_t ts = day == a->created_day ? a->pub.created_at_ms + 2 * MIN_MS +
                                                     (int64_t)(rng_unit(r) * 3 * (double)HOUR_MS)
                                               : day0 + time_of_day(r, 8, 18);
            push(g, idx, ts, k, CW_GEN_USER_REGISTERED);
        } else if (a->users[k].reg_day < day) {
            registered++;
        }
    }
    if (day <= a->created_day)
        return;

    if (fate == CW_GEN_STALLED) {
        int32_t age = day - a->created_day;
        bool active_any = false;
        for (uint32_t k = 0; k < registered; k++) {
            double p = weekend ? 0.02 : age <= 10 ? 0.3 : 0.1;
            if (rng_unit(r) < p) {
                session(g, idx, day0, k, true);
                active_any = true;
            }
            if (!weekend && rng_poisson(r, 0.02 * g->opt.rate_scale) > 0)
                push(g, idx, day0 + time_of_day(r, 7, 22), k, CW_GEN_EMAIL_CLICKED);
            if (dow == 3 && age <= 21 && rng_unit(r) < 0.1)
                push(g, idx, day0 + 14 * HOUR_MS + (int64_t)(rng_unit(r) * 10 * (double)MIN_MS), k,
                     CW_GEN_SEMINAR_ATTENDED);
        }
        if (!active_any && registered > 0 && day - a->last_active_day >= 6) {
            session(g, idx, day0, 0, true); /* the admin looks in now and then */
            active_any = true;
        }
        if (active_any)
            a->last_active_day = day;
        return;
    }

    uint32_t pool;
    double p_active = weekend ? P_WEEKEND : P_WEEKDAY;
    if (fate == CW_GEN_UNDERUSED) {
        pool = a->pool_fixed;
        p_active = weekend ? 0.1 : 0.85;
    } else {
        double l = level(g, a, idx, day);
        double fraction = fate == CW_GEN_EXPANDING ? 1.0 : POOL_FRACTION;
        pool = (uint32_t)floor(l * fraction * a->pub.seats + 0.5);
        if ((fate == CW_GEN_DECLINING || fate == CW_GEN_RENEWING) && pool == 0)
            pool = 1; /* a trickle, never silence */
    }
    if (pool > registered)
        pool = registered;
    uint32_t n_active = 0;
    for (uint32_t k = 0; k < pool; k++) {
        if (rng_unit(r) < p_active) {
            session(g, idx, day0, k, false);
            g->active[n_active++] = k;
        }
    }
    double rs = g->opt.rate_scale;
    sparse(g, idx, day0, CW_GEN_APP_CREATED, APPS * rs * n_active, g->active, n_active, 9, 18);
    sparse(g, idx, day0, CW_GEN_HELP_VIEWED, HELP_VIEWS * rs * n_active, g->active, n_active, 8,
           19);
    if (!weekend) {
        sparse(g, idx, day0, CW_GEN_EMAIL_CLICKED, EMAIL_CLICKS * rs * pool, g->pool, pool, 7, 22);
        sparse(g, idx, day0, CW_GEN_SUPPORT_TICKET, SUPPORT_TICKETS * rs * pool, g->pool, pool, 9,
               18);
        if (dow == 3)
            sparse(g, idx, day0, CW_GEN_SEMINAR_ATTENDED, SEMINARS * rs * pool, g->pool, pool, 14,
                   15);
    }
    values_day(g, idx, day, day0, pool, dow);
    if (day == a->first_app_day) {
        int64_t s = day0 + time_of_day(r, 9, 16);
        push(g, idx, s, 0, CW_GEN_LOGIN);
        push(g, idx, s + 5 * MIN_MS + (int64_t)(rng_unit(r) * (double)HOUR_MS), 0,
             CW_GEN_APP_CREATED);
    }
}

static int cmp_event(const void *pa, const void *pb)
{
    const struct gen_event *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Generate the next non-empty day; false at the end of the history or on failure. */
static bool fill_day(cw_gen *g)
{
    while (g->day <= g->last_day) {
        g->n_evs = 0;
        g->pos = 0;
        for (size_t i = 0; i < g->n_accounts; i++)
            account_day(g, i, g->day);
        g->day++;
        if (g->alloc_failed)
            return false;
        if (g->n_evs != 0) {
            qsort(g->evs, g->n_evs, sizeof(*g->evs), cmp_event);
            return true;
        }
    }
    return false;
}

cw_gen *cw_gen_new(const struct cw_gen_options *opt, char *err, size_t errsize)
{
    if (validate(opt, err, errsize) != 0)
        return NULL;
    cw_gen *g = calloc(1, sizeof(*g));
    if (g == NULL)
        goto nomem;
    g->opt = *opt;
    g->opt.id_prefix = NULL; /* the copy below never points into the caller's memory */
    g->offset_ms = (int64_t)opt->tz_offset_min * MIN_MS;
    g->last_day = (int32_t)floor_div(opt->end_ms - 1 + g->offset_ms, DAY_MS);
    g->first_day = g->last_day - (int32_t)opt->days + 1;
    g->day = g->first_day;

    size_t counts[CW_GEN_FATE__COUNT];
    g->n_accounts = fate_counts(opt, counts);
    g->accounts = calloc(g->n_accounts, sizeof(*g->accounts));
    if (g->accounts == NULL)
        goto nomem;

    /* Deal the fates out in a seeded shuffle, so ids do not give fates away. */
    struct rng master;
    rng_seed(&master, opt->seed ^ UINT64_C(0x6368726e77617463));
    size_t k = 0;
    for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
        for (size_t j = 0; j < counts[f]; j++)
            g->accounts[k++].pub.fate = (enum cw_gen_fate)f;
    for (size_t i = g->n_accounts; i > 1; i--) {
        size_t j = (size_t)(((rng_next(&master) >> 32) * (uint64_t)i) >> 32);
        enum cw_gen_fate t = g->accounts[i - 1].pub.fate;
        g->accounts[i - 1].pub.fate = g->accounts[j].pub.fate;
        g->accounts[j].pub.fate = t;
    }
    size_t company0 = (size_t)(rng_next(&master) % N(companies));
    const char *prefix = opt->id_prefix != NULL ? opt->id_prefix : "";
    uint32_t max_users = 1;

    for (size_t i = 0; i < g->n_accounts; i++) {
        struct acct *a = &g->accounts[i];
        const struct company *c = &companies[(company0 + i) % N(companies)];
        snprintf(a->pub.id, sizeof(a->pub.id), "%s%s-%04zu", prefix, c->slug, i + 1);
        a->pub.name = c->name;
        rng_seed(&a->rng, mix64(opt->seed) ^ mix64(i + UINT64_C(0x5eed)));
        a->id_esc = json_escape_dup(a->pub.id);
        a->name_esc = json_escape_dup(a->pub.name);
        if (a->id_esc == NULL || a->name_esc == NULL || plan_account(g, a, i) != 0)
            goto nomem;
        a->id_esc_len = strlen(a->id_esc);
        /* a random phase per account (of the types before the valued ones, which draw
         * nothing from the stream) */
        for (int t = 0; t < CW_GEN_NPS_SUBMITTED; t++)
            a->acc[t] = rng_unit(&a->rng);
        if (a->n_users > max_users)
            max_users = a->n_users;
    }
    /* The groups: in id order, the first of five healthy accounts is the parent of the four
     * after it (GROUP_SIZE). */
    const struct acct *parent = NULL;
    size_t healthy = 0;
    for (size_t i = 0; i < g->n_accounts; i++) {
        struct acct *a = &g->accounts[i];
        if (a->pub.fate != CW_GEN_HEALTHY)
            continue;
        if (healthy++ % GROUP_SIZE == 0) {
            parent = a;
            continue;
        }
        a->parent = parent;
        snprintf(a->pub.parent_id, sizeof a->pub.parent_id, "%s", parent->pub.id);
    }
    g->pool = malloc(max_users * sizeof(*g->pool));
    g->active = malloc(max_users * sizeof(*g->active));
    if (g->pool == NULL || g->active == NULL)
        goto nomem;
    for (uint32_t u = 0; u < max_users; u++)
        g->pool[u] = u;
    return g;

nomem:
    set_err(err, errsize, "out of memory");
    cw_gen_free(g);
    return NULL;
}

void cw_gen_free(cw_gen *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; g->accounts != NULL && i < g->n_accounts; i++) {
        free(g->accounts[i].id_esc);
        free(g->accounts[i].name_esc);
        free(g->accounts[i].users);
    }
    free(g->accounts);
    free(g->evs);
    free(g->pool);
    free(g->active);
    free(g);
}

/* A version-4-shaped UUID fixed by (seed, account, seq). */
static void put_uuid(struct out *o, uint64_t seed, uint32_t account, uint32_t seq)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h1 = mix64(seed ^ mix64(((uint64_t)account << 32) | seq));
    uint64_t h2 = mix64(h1 ^ UINT64_C(0x2545f4914f6cdd1d));
    h1 = (h1 & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
    h2 = (h2 & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);
    char u[36];
    size_t n = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            u[n++] = '-';
        uint64_t w = i < 16 ? h1 : h2;
        u[n++] = hex[(w >> (60 - 4 * (i % 16))) & 15];
    }
    put(o, u, sizeof(u));
}

/* The user id string: "<account id>-u007", quoted. */
static void put_user(struct out *o, const struct acct *a, uint32_t user)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof(tmp), "-u%03u\"", user);
    PUTS(o, "\"");
    put(o, a->id_esc, a->id_esc_len);
    put(o, tmp, (size_t)n);
}

static void put_ts(struct out *o, int64_t ms, int32_t offset)
{
    char t[32];
    PUTS(o, "\"");
    put(o, t, format_ts(ms, offset, t));
    PUTS(o, "\"");
}

static void put_traits(struct out *o, const struct acct *a, int32_t offset)
{
    PUTS(o, "{\"name\":\"");
    put_str(o, a->name_esc);
    PUTS(o, "\",\"seats\":");
    put_uint(o, a->pub.seats);
    PUTS(o, ",\"plan\":\"");
    put_str(o, a->pub.plan);
    PUTS(o, "\",\"segment\":\"");
    put_str(o, a->pub.segment);
    PUTS(o, "\",\"created_at\":");
    put_ts(o, a->pub.created_at_ms, offset);
    PUTS(o, ",\"renewal_at\":");
    put_ts(o, a->pub.renewal_at_ms, offset);
    PUTS(o, ",\"owner\":\"");
    put_str(o, a->pub.owner);
    if (a->parent) {
        PUTS(o, "\",\"parent_id\":\"");
        put(o, a->parent->id_esc, a->parent->id_esc_len);
    }
    PUTS(o, "\"}");
}

static void put_account(struct out *o, const struct acct *a)
{
    PUTS(o, "\"");
    put(o, a->id_esc, a->id_esc_len);
    PUTS(o, "\"");
}

static void format_event(const cw_gen *g, const struct gen_event *e, struct out *o)
{
    const struct acct *a = &g->accounts[e->account];
    int32_t off = g->opt.tz_offset_min;
    enum cw_gen_type type = (enum cw_gen_type)e->type;
    bool traits = type == CW_GEN_ACCOUNT_UPDATED;
    char value[32];
    const char *prop = value;
    if (type == CW_GEN_NPS_SUBMITTED)
        snprintf(value, sizeof value, "{\"score\":%u}", (unsigned)e->prop);
    else if (type == CW_GEN_WEBINAR_WATCHED)
        snprintf(value, sizeof value, "{\"minutes\":%u}", (unsigned)e->prop);
    else
        prop = props[type][e->prop];

    switch (g->opt.form) {
    case CW_PRESET_SEGMENT:
        if (traits) {
            PUTS(o, "{\"type\":\"group\",\"groupId\":");
            put_account(o, a);
            PUTS(o, ",\"anonymousId\":\"churnwatch-gen\",\"traits\":");
            put_traits(o, a, off);
        } else {
            PUTS(o, "{\"type\":\"track\",\"event\":\"");
            put_str(o, segment_names[type]);
            PUTS(o, "\",\"userId\":");
            put_user(o, a, e->user);
            PUTS(o, ",\"context\":{\"groupId\":");
            put_account(o, a);
            PUTS(o, "},\"properties\":");
            put_str(o, prop);
        }
        PUTS(o, ",\"messageId\":\"");
        put_uuid(o, g->opt.seed, e->account, e->seq);
        PUTS(o, "\",\"timestamp\":");
        put_ts(o, e->ts, off);
        PUTS(o, "}");
        break;
    case CW_PRESET_CLOUDEVENTS:
        PUTS(o, "{\"specversion\":\"1.0\",\"id\":\"");
        put_uuid(o, g->opt.seed, e->account, e->seq);
        PUTS(o, "\",\"source\":\"/churnwatch/gen\",\"type\":\"");
        put_str(o, type_names[type]);
        PUTS(o, "\",\"subject\":");
        put_account(o, a);
        PUTS(o, ",\"time\":");
        put_ts(o, e->ts, off);
        PUTS(o, ",\"datacontenttype\":\"application/json\",\"data\":{");
        if (traits) {
            PUTS(o, "\"traits\":");
            put_traits(o, a, off);
        } else {
            PUTS(o, "\"user_id\":");
            put_user(o, a, e->user);
            PUTS(o, ",\"props\":");
            put_str(o, prop);
        }
        PUTS(o, "}}");
        break;
    case CW_PRESET_NATIVE:
    default:
        PUTS(o, "{\"event_id\":\"");
        put_uuid(o, g->opt.seed, e->account, e->seq);
        PUTS(o, "\",\"account_id\":");
        put_account(o, a);
        if (!traits) {
            PUTS(o, ",\"user_id\":");
            put_user(o, a, e->user);
        }
        PUTS(o, ",\"type\":\"");
        put_str(o, type_names[type]);
        PUTS(o, "\",\"ts\":");
        put_ts(o, e->ts, off);
        if (traits) {
            PUTS(o, ",\"traits\":");
            put_traits(o, a, off);
        } else {
            PUTS(o, ",\"props\":");
            put_str(o, prop);
        }
        PUTS(o, "}");
        break;
    }
}

int cw_gen_next(cw_gen *g, char *buf, size_t size, size_t *len, struct cw_gen_event *ev)
{
    *len = 0;
    if (g->pos == g->n_evs && !fill_day(g))
        return 0;
    const struct gen_event *e = &g->evs[g->pos];
    struct out o = {buf, size, 0};
    format_event(g, e, &o);
    if (out_finish(&o, len) < 0)
        return -1;
    g->pos++;
    if (ev != NULL) {
        ev->ts_ms = e->ts;
        ev->account = e->account;
        ev->type = (enum cw_gen_type)e->type;
    }
    return 1;
}

size_t cw_gen_account_count(const cw_gen *g)
{
    return g->n_accounts;
}

const struct cw_gen_account *cw_gen_account(const cw_gen *g, size_t i)
{
    return i < g->n_accounts ? &g->accounts[i].pub : NULL;
}

/* A comma-separated rule list as a JSON array of strings. */
static void put_rule_list(struct out *o, const char *list)
{
    PUTS(o, "[");
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (p != list)
            PUTS(o, ",");
        PUTS(o, "\"");
        put(o, p, n);
        PUTS(o, "\"");
        p += n;
        if (*p == ',')
            p++;
    }
    PUTS(o, "]");
}

int cw_gen_manifest_line(const cw_gen *g, size_t i, char *buf, size_t size, size_t *len)
{
    *len = 0;
    if (i >= g->n_accounts)
        return -2;
    const struct acct *a = &g->accounts[i];
    int32_t off = g->opt.tz_offset_min;
    struct out o = {buf, size, 0};
    PUTS(&o, "{\"account_id\":");
    put_account(&o, a);
    PUTS(&o, ",\"fate\":\"");
    put_str(&o, fate_names[a->pub.fate]);
    PUTS(&o, "\",\"name\":\"");
    put_str(&o, a->name_esc);
    PUTS(&o, "\",\"segment\":\"");
    put_str(&o, a->pub.segment);
    PUTS(&o, "\",\"seats\":");
    put_uint(&o, a->pub.seats);
    PUTS(&o, ",\"users\":");
    put_uint(&o, a->pub.users);
    PUTS(&o, ",\"created_at\":");
    put_ts(&o, a->pub.created_at_ms, off);
    PUTS(&o, ",\"renewal_at\":");
    put_ts(&o, a->pub.renewal_at_ms, off);
    PUTS(&o, ",\"parent_id\":");
    if (a->parent) {
        PUTS(&o, "\"");
        put(&o, a->parent->id_esc, a->parent->id_esc_len);
        PUTS(&o, "\"");
    } else {
        PUTS(&o, "null");
    }
    PUTS(&o, ",\"fires\":");
    put_rule_list(&o, fate_alerts[a->pub.fate][CW_GEN_EXPECT_FIRES]);
    PUTS(&o, ",\"firing_at_end\":");
    put_rule_list(&o, fate_alerts[a->pub.fate][CW_GEN_EXPECT_AT_END]);
    PUTS(&o, ",\"may_fire\":");
    put_rule_list(&o, fate_alerts[a->pub.fate][CW_GEN_EXPECT_MAY_FIRE]);
    PUTS(&o, "}");
    return out_finish(&o, len);
}

const char *cw_gen_fate_name(enum cw_gen_fate fate)
{
    return (unsigned)fate < CW_GEN_FATE__COUNT ? fate_names[fate] : "unknown";
}

int cw_gen_fate_from_name(const char *name)
{
    for (int i = 0; i < CW_GEN_FATE__COUNT; i++)
        if (strcmp(fate_names[i], name) == 0)
            return i;
    return -1;
}

const char *cw_gen_fate_alerts(enum cw_gen_fate fate, enum cw_gen_expect which)
{
    if ((unsigned)fate >= CW_GEN_FATE__COUNT || (unsigned)which > CW_GEN_EXPECT_MAY_FIRE)
        return "";
    return fate_alerts[fate][which];
}

const char *cw_gen_type_name(enum cw_gen_type type)
{
    return (unsigned)type < CW_GEN_TYPE__COUNT ? type_names[type] : "unknown";
}

const char *cw_gen_segment_name(enum cw_gen_type type)
{
    return (unsigned)type < CW_GEN_TYPE__COUNT ? segment_names[type] : "unknown";
}
