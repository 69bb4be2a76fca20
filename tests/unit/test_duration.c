/* test_duration.c - cw_duration_parse: must-parse and must-not-parse tables */
#include <criterion/criterion.h>
#include <stdint.h>

#include "churnwatch/config.h"

static const struct {
    const char *text;
    int64_t ms;
} good[] = {
    {"0", 0},
    {"1s", 1000},
    {"90s", 90000},
    {"15m", 900000},
    {"36h", INT64_C(129600000)},
    {"14d", INT64_C(1209600000)},
    {"366d", INT64_C(366) * 86400000},
    {"106751991167d", INT64_C(106751991167) * 86400000}, /* largest whole day in int64 ms */
    {"9223372036854775s", INT64_C(9223372036854775000)},
};

static const char *const bad[] = {
    "",
    "5",
    "1w",
    "-5m",
    "+5m",
    "1.5h",
    " 5m",
    "5m ",
    "5 m",
    "5M",
    "05m",
    "0s",
    "0d",
    "s",
    "m5",
    "5ms",
    "5mm",
    "1e3s",
    "0x10s",
    "106751991168d", /* one day past INT64_MAX ms */
    "9223372036854776s",
    "99999999999999999999d",
    "9223372036854775808s",
};

Test(duration, parses_whole_numbers_with_a_unit)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        cr_expect_eq(cw_duration_parse(good[i].text, &ms), 0, "'%s' must parse", good[i].text);
        cr_expect_eq(ms, good[i].ms, "'%s' = %lld, want %lld", good[i].text, (long long)ms,
                     (long long)good[i].ms);
    }
}

Test(duration, rejects_everything_else_and_leaves_the_output_alone)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        cr_expect_eq(cw_duration_parse(bad[i], &ms), -1, "'%s' must not parse", bad[i]);
        cr_expect_eq(ms, 42, "'%s' changed the output", bad[i]);
    }
}

Test(duration, null_arguments_fail)
{
    int64_t ms;
    cr_expect_eq(cw_duration_parse(NULL, &ms), -1);
    cr_expect_eq(cw_duration_parse("5m", NULL), -1);
}

/* Formatting keeps the largest unit and the next non-zero one, truncating the rest. */
Test(duration, formats_for_people)
{
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "0ms"},
        {1, "1ms"},
        {999, "999ms"},
        {1000, "1s"},
        {42 * 1000 + 7, "42s 7ms"},
        {15 * 60000 + 1, "15m 1ms"},
        {(8 * 24 + 2) * 3600000LL + 59 * 60000, "8d 2h"},
        {7 * 86400000LL, "7d"},
        {-(3 * 3600000LL + 5 * 60000), "-3h 5m"},
        {INT64_MAX, "106751991167d 7h"},
        {INT64_MIN, "-106751991167d 7h"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[CW_DURATION_TEXT_MAX];
        cw_duration_format(cases[i].ms, out);
        cr_assert_str_eq(out, cases[i].text, "%lld", (long long)cases[i].ms);
    }
}
