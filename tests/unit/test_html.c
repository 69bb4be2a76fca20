/* test_html.c - HTML and URL escaping of hostile text, and the page buffer */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/html.h"

static char out[1024];

static const char *esc(const char *s)
{
    cw_html_escape(out, sizeof out, s, strlen(s));
    return out;
}

static const char *url(const char *s)
{
    cw_url_encode(out, sizeof out, s, strlen(s));
    return out;
}

Test(html, plain_text_is_kept)
{
    cr_expect_str_eq(esc("acct-0042"), "acct-0042");
    cr_expect_str_eq(esc("Zoë Müller"), "Zoë Müller");
}

Test(html, markup_characters_become_references)
{
    cr_expect_str_eq(esc("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    cr_expect_str_eq(esc("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
    cr_expect_str_eq(esc("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
}

Test(html, bidi_controls_and_invalid_utf8_are_made_visible)
{
    cr_expect_str_eq(esc("evil\xE2\x80\xAEgnp.exe"), "evil\\u202egnp.exe");
    cr_expect_str_eq(esc("a\nb\x01"), "a\\nb\\x01");
    cr_expect_str_eq(esc("\xff<"), "\\xff&lt;");
    cr_expect_str_eq(esc("back\\slash"), "back\\\\slash");
}

Test(html, length_is_returned_and_nothing_cut_when_too_small)
{
    char small[8];
    size_t n = cw_html_escape(small, sizeof small, "<<<<", 4);
    cr_expect_eq(n, 16);
    cr_expect_str_eq(small, "");
    cr_expect_eq(cw_html_escape(NULL, 0, "<b>", 3), 9);
}

Test(html, url_encoding_keeps_only_unreserved)
{
    cr_expect_str_eq(url("acct-1_a.b~"), "acct-1_a.b~");
    cr_expect_str_eq(url("a b&c=d/\"<"), "a%20b%26c%3Dd%2F%22%3C");
    cr_expect_str_eq(url("\xE2\x80\xAE"), "%E2%80%AE");
    cr_expect_eq(cw_url_encode(NULL, 0, "&&", 2), 6);
}

Test(html, buffer_appends_escaped_and_trusted_parts)
{
    struct cw_html h = {0};
    cw_html_raw(&h, "<td>");
    cw_html_text(&h, "<img src=x onerror=alert(1)>");
    cw_html_printf(&h, "</td><td>%.1f</td>", 42.25);
    cw_html_raw(&h, "<a href=\"/account?id=");
    cw_html_url(&h, "x\"><script>");
    cw_html_raw(&h, "\">");
    cw_html_text(&h, NULL);
    cr_assert_not(h.oom);
    cr_expect_str_eq(h.s, "<td>&lt;img src=x onerror=alert(1)&gt;</td><td>42.2</td>"
                          "<a href=\"/account?id=x%22%3E%3Cscript%3E\">-");
    cr_expect_eq(h.len, strlen(h.s));
    cw_html_free(&h);
    cr_expect_null(h.s);
}

Test(html, buffer_grows_past_its_first_block)
{
    struct cw_html h = {0};
    for (int i = 0; i < 2000; i++)
        cw_html_text(&h, "<>");
    cr_assert_not(h.oom);
    cr_expect_eq(h.len, 2000 * 8);
    cr_expect_eq(strncmp(h.s + h.len - 8, "&lt;&gt;", 8), 0);
    cw_html_free(&h);
}
