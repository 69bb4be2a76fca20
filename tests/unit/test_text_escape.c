/* test_text_escape.c - logfmt, JSON and display escaping of hostile text */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/text_escape.h"

static char out[512];

static const char *logfmt(const char *s, bool quote)
{
    cw_escape_logfmt(out, sizeof out, s, strlen(s), quote);
    return out;
}

static const char *json(const char *s)
{
    cw_escape_json(out, sizeof out, s, strlen(s));
    return out;
}

static const char *display(const char *s)
{
    cw_escape_display(out, sizeof out, s, strlen(s));
    return out;
}

Test(text_escape, logfmt_plain_values_stay_bare)
{
    cr_expect_str_eq(logfmt("acct-42", false), "acct-42");
    cr_expect_str_eq(logfmt("redis://h:1/0", false), "redis://h:1/0");
    cr_expect_str_eq(logfmt("caf\xc3\xa9", false), "caf\xc3\xa9"); /* UTF-8 letters kept */
    cr_expect_str_eq(logfmt("12.5", false), "12.5");
}

Test(text_escape, logfmt_quotes_what_would_split_the_value)
{
    cr_expect_str_eq(logfmt("", false), "\"\"");
    cr_expect_str_eq(logfmt("a b", false), "\"a b\"");
    cr_expect_str_eq(logfmt("a=b", false), "\"a=b\"");
    cr_expect_str_eq(logfmt("plain", true), "\"plain\"");
    cr_expect_str_eq(logfmt("evil\" level=error msg=\"pwned", false),
                     "\"evil\\\" level=error msg=\\\"pwned\"");
    cr_expect_str_eq(logfmt("back\\slash", false), "\"back\\\\slash\"");
}

Test(text_escape, logfmt_escapes_controls_bidi_and_invalid_utf8)
{
    cr_expect_str_eq(logfmt("a\nlevel=error", false), "\"a\\nlevel=error\"");
    cr_expect_str_eq(logfmt("t\tr\r", false), "\"t\\tr\\r\"");
    cr_expect_str_eq(logfmt("\x1b[31mred", false), "\"\\u001b[31mred\"");
    cr_expect_str_eq(logfmt("del\x7f", false), "\"del\\u007f\"");
    cr_expect_str_eq(logfmt("abc\xe2\x80\xae"
                            "fed",
                            false),
                     "\"abc\\u202efed\"");
    cr_expect_str_eq(logfmt("\xe2\x81\xa6x\xe2\x81\xa9", false), "\"\\u2066x\\u2069\"");
    cr_expect_str_eq(logfmt("lrm\xe2\x80\x8e", false), "\"lrm\\u200e\"");
    cr_expect_str_eq(logfmt("c1\xc2\x85", false), "\"c1\\u0085\"");
    cr_expect_str_eq(logfmt("ls\xe2\x80\xa8", false), "\"ls\\u2028\"");
    cr_expect_str_eq(logfmt("bad\xff\xc3", false), "\"bad\\xff\\xc3\"");
    cr_expect_str_eq(logfmt("\xc0\xaf", false), "\"\\xc0\\xaf\"");          /* overlong '/' */
    cr_expect_str_eq(logfmt("\xed\xa0\x80", false), "\"\\xed\\xa0\\x80\""); /* a surrogate */
}

Test(text_escape, json_strings_are_valid_and_exact)
{
    cr_expect_str_eq(json(""), "\"\"");
    cr_expect_str_eq(json("evil\" level=error msg=\"pwned"),
                     "\"evil\\\" level=error msg=\\\"pwned\"");
    cr_expect_str_eq(json("a\\b\n\b\f\x01"), "\"a\\\\b\\n\\b\\f\\u0001\"");
    cr_expect_str_eq(json("\xe2\x80\xae"
                          "x\xf0\x9f\x98\x80"),
                     "\"\\u202ex\xf0\x9f\x98\x80\"");
    cr_expect_str_eq(json("bad\xff"), "\"bad\\ufffd\"");
    cr_expect_str_eq(json("del\x7f"), "\"del\\u007f\"");
}

Test(text_escape, display_escapes_what_a_terminal_would_obey)
{
    cr_expect_str_eq(display("acct-42 caf\xc3\xa9"), "acct-42 caf\xc3\xa9");
    cr_expect_str_eq(display("evil\xe2\x80\xae"
                             "cba"),
                     "evil\\u202ecba");
    cr_expect_str_eq(display("a\\b"), "a\\\\b");
    cr_expect_str_eq(display("\x1b]0;x\x07\n"), "\\x1b]0;x\\x07\\n");
    cr_expect_str_eq(display("bad\xfe"), "bad\\xfe");
    cr_expect(!cw_display_needs_escape("acct-42 caf\xc3\xa9", 13));
    cr_expect(cw_display_needs_escape("evil\xe2\x80\xae", 7));
    cr_expect(cw_display_needs_escape("a\\b", 3));
}

Test(text_escape, too_small_a_buffer_gets_nothing_but_the_length)
{
    char small[6] = "xxxxx";
    cr_expect_eq(cw_escape_logfmt(small, sizeof small, "a b c", 5, false), 7);
    cr_expect_str_eq(small, "");
    cr_expect_eq(cw_escape_json(small, sizeof small, "\x01", 1), 8);
    cr_expect_str_eq(small, "");
    cr_expect_eq(cw_escape_display(small, sizeof small, "abcde", 5), 5);
    cr_expect_str_eq(small, "abcde");
    cr_expect_eq(cw_escape_display(NULL, 0, "\xe2\x80\xae", 3), 6);
}

Test(text_escape, embedded_nul_is_escaped_not_a_terminator)
{
    cw_escape_logfmt(out, sizeof out, "a\0b", 3, false);
    cr_expect_str_eq(out, "\"a\\u0000b\"");
    cw_escape_json(out, sizeof out, "a\0b", 3);
    cr_expect_str_eq(out, "\"a\\u0000b\"");
}

static const char *csv(const char *s, bool spreadsheet)
{
    cw_escape_csv(out, sizeof out, s, strlen(s), spreadsheet);
    return out;
}

Test(text_escape, csv_fields_are_quoted_only_when_needed)
{
    cr_expect_str_eq(csv("acct-42", false), "acct-42");
    cr_expect_str_eq(csv("", false), "");
    cr_expect_str_eq(csv("a,b", false), "\"a,b\"");
    cr_expect_str_eq(csv("say \"hi\"", false), "\"say \"\"hi\"\"\"");
    cr_expect_str_eq(csv("two\nlines", false), "\"two\nlines\"");
    cr_expect_str_eq(csv("cr\r", false), "\"cr\r\"");
    cr_expect_str_eq(csv("caf\xc3\xa9 \xe2\x80\xae", false),
                     "caf\xc3\xa9 \xe2\x80\xae"); /* exact */
    /* formulas run by spreadsheet applications: only with spreadsheet */
    cr_expect_str_eq(csv("=HYPERLINK(\"x\")", false), "\"=HYPERLINK(\"\"x\"\")\"");
    cr_expect_str_eq(csv("=HYPERLINK(\"x\")", true), "\"'=HYPERLINK(\"\"x\"\")\"");
    cr_expect_str_eq(csv("+1", true), "\"'+1\"");
    cr_expect_str_eq(csv("-2", true), "\"'-2\"");
    cr_expect_str_eq(csv("@SUM(A1)", true), "\"'@SUM(A1)\"");
    cr_expect_str_eq(csv("\tx", true), "\"'\tx\"");
    cr_expect_str_eq(csv("a=b", true), "a=b");
    cr_expect_str_eq(csv("", true), "");
}

Test(text_escape, csv_reports_the_whole_length_when_it_does_not_fit)
{
    char small[4];
    cr_expect_eq(cw_escape_csv(small, sizeof small, "a,b", 3, false), 5);
    cr_expect_str_eq(small, "");
    cr_expect_eq(cw_escape_csv(small, sizeof small, "abc", 3, false), 3);
    cr_expect_str_eq(small, "abc");
}
