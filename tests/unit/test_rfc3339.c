/* test_rfc3339.c - RFC 3339 parsing and formatting: must-parse / must-reject tables */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "churnwatch/event.h"

struct good {
    const char *text;
    int64_t ms;
};

static const struct good goods[] = {
    {"2026-11-22T09:00:00+09:00", INT64_C(1795305600000)},
    {"2026-11-22T00:00:00Z", INT64_C(1795305600000)},
    {"2026-11-22t00:00:00z", INT64_C(1795305600000)},
    {"2026-11-22T00:00:00+00:00", INT64_C(1795305600000)},
    {"2026-11-22T00:00:00-00:00", INT64_C(1795305600000)}, /* unknown local offset = UTC */
    {"2026-11-22T09:00:00+05:45", INT64_C(1795317300000)},
    {"2026-11-22T09:00:00+14:00", INT64_C(1795287600000)},
    {"2026-11-22T09:00:00-12:00", INT64_C(1795381200000)},
    {"2026-11-22T09:00:00+23:59", INT64_C(1795338000000) - INT64_C(86340000)},
    {"2026-11-22T09:00:00.123Z", INT64_C(1795338000123)},
    {"2026-11-22T09:00:00.1Z", INT64_C(1795338000100)},
    {"2026-11-22T09:00:00.12Z", INT64_C(1795338000120)},
    {"2026-11-22T09:00:00.123999999999999999999Z", INT64_C(1795338000123)}, /* truncated */
    {"2026-11-22T09:00:00.000000001+00:00", INT64_C(1795338000000)},
    {"2024-02-29T12:00:00Z", INT64_C(1709208000000)},
    {"2000-02-29T00:00:00Z", INT64_C(951782400000)},
    {"2026-03-01T00:00:00Z", INT64_C(1772323200000)},
    {"2016-12-31T23:59:60Z", INT64_C(1483228800000)}, /* leap second -> next second */
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T01:00:00+01:00", 0},
    {"9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
    {"2023-11-14T22:13:20Z", INT64_C(1700000000000)},
};

static const char *const bads[] = {
    "",
    "2026",
    "2026-11-22",
    "2026-11-22T09:00:00",        /* no offset */
    "2026-11-22T09:00Z",          /* no seconds */
    "2026-11-22 09:00:00Z",       /* space separator */
    "2026-11-22T09:00:00+0900",   /* offset without colon */
    "2026-11-22T09:00:00+09",     /* offset without minutes */
    "2026-11-22T09:00:00+24:00",  /* offset hour */
    "2026-11-22T09:00:00+09:60",  /* offset minute */
    "2026-11-22T09:00:00.Z",      /* fraction without digits */
    "2026-11-22T09:00:00,5Z",     /* comma fraction */
    "2026-11-22T24:00:00Z",       /* hour 24 */
    "2026-11-22T23:60:00Z",       /* minute 60 */
    "2026-11-22T23:59:61Z",       /* second 61 */
    "2026-13-01T00:00:00Z",       /* month 13 */
    "2026-00-01T00:00:00Z",       /* month 0 */
    "2026-11-00T00:00:00Z",       /* day 0 */
    "2026-11-31T00:00:00Z",       /* Nov 31 */
    "2026-02-29T00:00:00Z",       /* not a leap year */
    "1900-02-29T00:00:00Z",       /* century, not a leap year */
    "2026-02-30T00:00:00Z",       /* Feb 30 */
    "1969-12-31T23:59:59Z",       /* before 1970 */
    "1970-01-01T00:30:00+01:00",  /* before the epoch after the offset */
    "10000-01-01T00:00:00Z",      /* five-digit year */
    "0000-01-01T00:00:00Z",       /* year 0 */
    " 2026-11-22T09:00:00Z",      /* leading space */
    "2026-11-22T09:00:00Z ",      /* trailing space */
    "2026-11-22T09:00:00ZZ",      /* trailing garbage */
    "2026-11-22T09:00:00+09:00x", /* trailing garbage */
    "2026-1-22T09:00:00Z",        /* one-digit month */
    "2026-11-22T9:00:00Z",        /* one-digit hour */
    "+2026-11-22T09:00:00Z",      /* signed year */
    "2026-11-22X09:00:00Z",       /* bad separator */
    "2026/11/22T09:00:00Z",       /* bad separator */
    "2026-11-22T09:00:00UTC",     /* zone name */
    "1700000000000",              /* epoch millis as a string */
    "２０２６-11-22T09:00:00Z",   /* full-width digits */
};

Test(rfc3339, parses_valid_timestamps)
{
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        int64_t ms = -42;
        int rc = cw_rfc3339_parse(goods[i].text, strlen(goods[i].text), &ms);
        cr_expect_eq(rc, 0, "%s should parse", goods[i].text);
        cr_expect_eq(ms, goods[i].ms, "%s: got %lld, want %lld", goods[i].text, (long long)ms,
                     (long long)goods[i].ms);
    }
}

Test(rfc3339, rejects_malformed_and_out_of_range)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        int64_t ms = -42;
        cr_expect_eq(cw_rfc3339_parse(bads[i], strlen(bads[i]), &ms), -1, "\"%s\" should fail",
                     bads[i]);
        cr_expect_eq(ms, -42, "\"%s\" wrote the output on failure", bads[i]);
    }
}

Test(rfc3339, uses_only_len_bytes)
{
    /* Not NUL-terminated: the parser must stop at len and see only the prefix. */
    const char text[] = "2026-11-22T00:00:00Zjunk";
    int64_t ms = 0;
    cr_expect_eq(cw_rfc3339_parse(text, 20, &ms), 0);
    cr_expect_eq(ms, INT64_C(1795305600000));
    cr_expect_eq(cw_rfc3339_parse(text, 19, &ms), -1);
    /* An embedded NUL is just a bad character. */
    cr_expect_eq(cw_rfc3339_parse("2026-11-22T00:00:00\0Z", 21, &ms), -1);
}

struct fmt {
    int64_t ms;
    const char *text;
};

static const struct fmt fmts[] = {
    {0, "1970-01-01T00:00:00Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {INT64_C(1795305600000), "2026-11-22T00:00:00Z"},
    {INT64_C(1795338000123), "2026-11-22T09:00:00.123Z"},
    {INT64_C(1795338000100), "2026-11-22T09:00:00.100Z"},
    {INT64_C(1709208000000), "2024-02-29T12:00:00Z"},
    {INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
    {-1, "1969-12-31T23:59:59.999Z"},
    {-INT64_C(86400000), "1969-12-31T00:00:00Z"},
};

Test(rfc3339, formats_utc_with_optional_millis)
{
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char out[32];
        memset(out, 'x', sizeof out);
        cw_rfc3339_format(fmts[i].ms, out);
        cr_expect_str_eq(out, fmts[i].text, "%lld", (long long)fmts[i].ms);
        cr_expect_leq(strlen(out), 24);
    }
}

Test(rfc3339, extreme_values_fit_the_buffer)
{
    char out[32];
    cw_rfc3339_format(INT64_MAX, out);
    cr_expect_str_eq(out, "292278994-08-17T07:12:55.807Z");
    cw_rfc3339_format(INT64_MIN, out);
    cr_expect_str_eq(out, "-292275055-05-16T16:47:04.192Z");
}

Test(rfc3339, format_then_parse_round_trips)
{
    /* A deterministic walk over 1970..9999 with varied milliseconds. */
    uint64_t x = UINT64_C(88172645463325252);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)(x % (uint64_t)(INT64_C(253402300799999) + 1));
        if (i % 3 == 0)
            ms -= ms % 1000; /* whole seconds take the short form */
        char out[32];
        int64_t back = -1;
        cw_rfc3339_format(ms, out);
        cr_assert_eq(cw_rfc3339_parse(out, strlen(out), &back), 0, "%s", out);
        cr_assert_eq(back, ms, "%s: %lld != %lld", out, (long long)back, (long long)ms);
    }
}
