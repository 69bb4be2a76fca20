/* test_log_line.c - the log field format split into typed fields, and lines encoded so
 * that no value can forge a field, a key or a line */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "churnwatch/log_fields.h"
#include "churnwatch/log_line.h"

static const char *const evil = "evil\" level=error msg=\"pwned";

static struct cw_log_fields fields;
static struct cw_log_line line;

/* The line of fields in format, ts fixed. */
static const char *encode(enum cw_log_format format, const char *msg)
{
    cw_log_line_begin(&line, format, "2026-01-01T00:00:00.000Z", "info", msg);
    for (size_t i = 0; i < fields.n; i++)
        cw_log_line_field(&line, fields.f[i].key, fields.f[i].value, fields.f[i].value_len,
                          fields.f[i].number, fields.f[i].quoted);
    return cw_log_line_end(&line);
}

Test(log_fields, each_conversion_is_its_own_value)
{
    cw_log_fields_format(&fields, "account=%s rule=%s n=%d", evil, "a b", 7);
    cr_assert_eq(fields.n, 3);
    cr_expect_str_eq(fields.f[0].key, "account");
    cr_expect_str_eq(fields.f[0].value, evil);
    cr_expect_str_eq(fields.f[1].value, "a b");
    cr_expect_str_eq(fields.f[2].key, "n");
    cr_expect_str_eq(fields.f[2].value, "7");
    cr_expect(!fields.f[0].number && !fields.f[1].number && fields.f[2].number);
}

Test(log_fields, numbers_of_every_length_are_typed)
{
    cw_log_fields_format(&fields,
                         "a=%" PRId64 " b=%zu c=%lld d=%u e=%.1f f=%g g=%x h=%+d i=%05d j=%g "
                         "k=%" PRId32 "/%" PRId32 " l=%ld",
                         INT64_C(-9000000000), (size_t)3, -4LL, 5u, 2.25, 1e300, 255u, 6, 7,
                         1.0 / 0.0, (int32_t)1, (int32_t)2, 8L);
    cr_assert_eq(fields.n, 12);
    const char *want[] = {"-9000000000", "3",  "-4",    "5",   "2.2", "1e+300",
                          "ff",          "+6", "00007", "inf", "1/2", "8"};
    const bool num[] = {true,  true,  true,  true,  true,  true,
                        false, false, false, false, false, true};
    for (size_t i = 0; i < 12; i++) {
        cr_expect_str_eq(fields.f[i].value, want[i], "field %zu", i);
        cr_expect_eq(fields.f[i].number, num[i], "field %zu (%s)", i, fields.f[i].value);
    }
}

Test(log_fields, hand_quoted_values_are_one_value_without_the_quotes)
{
    cw_log_fields_format(&fields, "error=\"%s\" what=\"%.*s\" id=%.3s q=\"a \\\"b\\\" %d\"", evil,
                         4, "abcdefg", "xyzw", 9);
    cr_assert_eq(fields.n, 4);
    cr_expect_str_eq(fields.f[0].value, evil);
    cr_expect(fields.f[0].quoted && !fields.f[0].number);
    cr_expect_str_eq(fields.f[1].value, "abcd");
    cr_expect_str_eq(fields.f[2].value, "xyz");
    cr_expect(!fields.f[2].quoted);
    cr_expect_str_eq(fields.f[3].value, "a \"b\" 9");
}

Test(log_fields, star_width_and_precision_take_their_arguments)
{
    cw_log_fields_format(&fields, "a=%*d b=%.*s c=%-*s| d=%.*s e=%d", 4, 7, 2, "xyz", 3, "k", -1,
                         "all", 9);
    cr_assert_eq(fields.n, 5);
    cr_expect_str_eq(fields.f[0].value, "   7");
    cr_expect(!fields.f[0].number); /* padded: not a JSON number */
    cr_expect_str_eq(fields.f[1].value, "xy");
    cr_expect_str_eq(fields.f[2].value, "k  |");
    cr_expect_str_eq(fields.f[3].value, "all"); /* a negative precision is none */
    cr_expect_str_eq(fields.f[4].value, "9");
    cr_expect(fields.f[4].number);
}

Test(log_fields, empty_format_and_bare_tokens)
{
    cw_log_fields_format(&fields, "%s", "");
    cr_expect_eq(fields.n, 0);
    cw_log_fields_format(&fields, "%s tool=x", "stray words");
    cr_assert_eq(fields.n, 2);
    cr_expect_str_eq(fields.f[0].key, "text");
    cr_expect_str_eq(fields.f[0].value, "stray words");
    const char *volatile nothing = NULL; /* not a constant: the compiler would object */
    cw_log_fields_format(&fields, "pct=100%% s=%s", nothing);
    cr_expect_str_eq(fields.f[0].value, "100%");
    cr_expect_str_eq(fields.f[1].value, "(null)");
}

Test(log_fields, a_huge_value_is_cut_and_flagged)
{
    static char big[CW_LOG_FIELDS_BUF * 2];
    memset(big, 'x', sizeof big - 1);
    cw_log_fields_format(&fields, "a=%s b=%d", big, 1);
    cr_expect(fields.truncated);
    cr_assert_geq(fields.n, 1);
    cr_expect_lt(fields.f[0].value_len, (size_t)CW_LOG_FIELDS_BUF);
    cr_expect_eq(strlen(fields.f[0].value), fields.f[0].value_len);
}

Test(log_line, logfmt_hostile_values_cannot_add_fields)
{
    cw_log_fields_format(&fields, "account=%s err=\"%s\" n=%d", evil, "x\ny level=error", 3);
    const char *l = encode(CW_LOG_LOGFMT, "alert published");
    cr_expect_str_eq(l, "ts=2026-01-01T00:00:00.000Z level=info msg=\"alert published\" "
                        "account=\"evil\\\" level=error msg=\\\"pwned\" "
                        "err=\"x\\ny level=error\" n=3\n");
}

Test(log_line, json_values_are_strings_or_numbers_and_keys_unique)
{
    cw_log_fields_format(&fields, "account=%s n=%d f=%.2f inf=%f msg=%s level=%s", evil, -3, 0.5,
                         1.0 / 0.0, "m", "l");
    const char *l = encode(CW_LOG_JSON, "alert published");
    cr_expect_str_eq(l, "{\"ts\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\","
                        "\"msg\":\"alert published\","
                        "\"account\":\"evil\\\" level=error msg=\\\"pwned\",\"n\":-3,"
                        "\"f\":0.50,\"inf\":\"inf\",\"_msg\":\"m\",\"_level\":\"l\"}\n");
}

Test(log_line, keys_are_sanitised)
{
    cw_log_line_begin(&line, CW_LOG_LOGFMT, "t", "warn", "m");
    cw_log_line_field(&line, "a b=\"c", "v", 1, false, false);
    cw_log_line_field(&line, "", "v", 1, false, false);
    cw_log_line_field(&line, "ts", "v", 1, false, false);
    cr_expect_str_eq(cw_log_line_end(&line), "ts=t level=warn msg=\"m\" a_b__c=v _=v _ts=v\n");
}

Test(log_line, a_line_too_long_keeps_whole_fields_and_says_so)
{
    static char big[6000];
    memset(big, '\x01', sizeof big - 1); /* each escapes to 6 bytes */
    for (enum cw_log_format fmt = CW_LOG_LOGFMT; fmt <= CW_LOG_JSON; fmt++) {
        cw_log_line_begin(&line, fmt, "t", "info", "m");
        cw_log_line_field(&line, "small", "1", 1, true, false);
        cw_log_line_field(&line, "big", big, sizeof big - 1, false, false);
        cw_log_line_field(&line, "after", "2", 1, true, false);
        const char *l = cw_log_line_end(&line);
        cr_expect(strstr(l, "small") && !strstr(l, "big") && !strstr(l, "after"), "%s", l);
        cr_expect(strstr(l, fmt == CW_LOG_JSON ? ",\"truncated\":true}\n" : " truncated=true\n"),
                  "%s", l);
        cr_expect_eq(strlen(l), line.len);
    }
}
