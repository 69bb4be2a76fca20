/* test_console_query.c - the console's accounts page query, its links and the pager */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/console_query.h"

static char err[128];

Test(console_query, defaults)
{
    struct cw_console_query q;
    cw_console_query_init(&q);
    cr_expect_eq(q.from, 0);
    cr_expect_eq(q.size, CW_CONSOLE_PAGE_DEFAULT);
    cr_expect_not(cw_console_query_filtered(&q));
}

Test(console_query, filters_are_taken_and_empty_values_drop_them)
{
    struct cw_console_query q;
    cw_console_query_init(&q);
    cr_assert_eq(cw_console_query_set(&q, "grade", "D", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "segment", "smb", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "renewal_within", "90d", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "unknown", "x", err, sizeof err), 0);
    cr_expect_str_eq(q.grade, "D");
    cr_expect_str_eq(q.segment, "smb");
    cr_expect_eq(q.renewal_within_ms, 90LL * 86400000);
    cr_expect(cw_console_query_filtered(&q));
    cr_assert_eq(cw_console_query_set(&q, "grade", "", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "segment", "", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "renewal_within", "", err, sizeof err), 0);
    cr_expect_null(q.grade);
    cr_expect_eq(q.renewal_within_ms, 0);
    cr_expect_not(cw_console_query_filtered(&q));
    cr_assert_eq(cw_console_query_set(&q, "q", "acme", err, sizeof err), 0);
    cr_expect(cw_console_query_filtered(&q));
    cr_assert_eq(cw_console_query_set(&q, "q", "", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "created_within", "30d", err, sizeof err), 0);
    cr_expect_eq(q.created_within_ms, 30LL * 86400000);
    cr_expect(cw_console_query_filtered(&q));
    cr_expect_eq(cw_console_query_set(&q, "created_within", "soon", err, sizeof err), -1);
    cr_expect_eq(q.created_within_ms, 30LL * 86400000);
}

Test(console_query, bad_numbers_and_durations_are_refused)
{
    struct cw_console_query q;
    cw_console_query_init(&q);
    const char *bad[][2] = {
        {"from", "-1"},  {"from", "1x"}, {"from", " 1"},          {"n", "0"},
        {"n", "501"},    {"n", "abc"},   {"renewal_within", "x"}, {"renewal_within", "-5d"},
        {"from", "1e3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_expect_eq(cw_console_query_set(&q, bad[i][0], bad[i][1], err, sizeof err), -1, "%s=%s",
                     bad[i][0], bad[i][1]);
        cr_expect_neq(err[0], '\0');
    }
    cr_expect_eq(q.from, 0);
    cr_expect_eq(q.size, CW_CONSOLE_PAGE_DEFAULT);
    cr_assert_eq(cw_console_query_set(&q, "from", "150", err, sizeof err), 0);
    cr_assert_eq(cw_console_query_set(&q, "n", "500", err, sizeof err), 0);
    cr_expect_eq(q.from, 150);
    cr_expect_eq(q.size, 500);
}

static const char *href(const struct cw_console_query *q, size_t from, const char *grade)
{
    static struct cw_html h;
    cw_html_free(&h);
    cw_console_query_href(&h, q, from, grade);
    return h.s;
}

Test(console_query, links_keep_the_filters_encoded)
{
    struct cw_console_query q;
    cw_console_query_init(&q);
    cr_expect_str_eq(href(&q, 0, NULL), "/");
    cr_expect_str_eq(href(&q, 50, NULL), "/?from=50");
    cw_console_query_set(&q, "owner", "ann@x.io", err, sizeof err);
    cw_console_query_set(&q, "q", "\"><script>", err, sizeof err);
    cw_console_query_set(&q, "n", "20", err, sizeof err);
    cw_console_query_set(&q, "created_within", "30d", err, sizeof err);
    cr_expect_str_eq(
        href(&q, 40, NULL),
        "/?owner=ann%40x.io&amp;created_within=30d&amp;q=%22%3E%3Cscript%3E&amp;n=20&amp;from=40");
    cw_console_query_set(&q, "grade", "C", err, sizeof err);
    cr_expect_str_eq(
        href(&q, 0, "A"),
        "/?grade=A&amp;owner=ann%40x.io&amp;created_within=30d&amp;q=%22%3E%3Cscript%3E&amp;n=20");
    cr_expect_str_eq(href(&q, 0, ""),
                     "/?owner=ann%40x.io&amp;created_within=30d&amp;q=%22%3E%3Cscript%3E&amp;n=20");
}

Test(console_query, pager_takes_a_page_of_matches_and_says_where_the_next_starts)
{
    struct cw_pager p;
    cw_pager_init(&p, 10, 2);
    cr_expect_eq(cw_pager_offer(&p, 10, false), CW_PAGE_SKIP);
    cr_expect_eq(cw_pager_offer(&p, 11, true), CW_PAGE_TAKE);
    cr_expect_eq(cw_pager_offer(&p, 12, false), CW_PAGE_SKIP);
    cr_expect_eq(cw_pager_offer(&p, 13, true), CW_PAGE_TAKE);
    cr_expect_eq(cw_pager_offer(&p, 14, false), CW_PAGE_SKIP);
    cr_expect_not(p.more);
    cr_expect_eq(cw_pager_offer(&p, 15, true), CW_PAGE_STOP);
    cr_expect(p.more);
    cr_expect_eq(p.next, 15);
    cr_expect_eq(p.taken, 2);
}

Test(console_query, pager_at_the_end_of_the_index_has_no_more)
{
    struct cw_pager p;
    cw_pager_init(&p, 0, 5);
    for (size_t r = 0; r < 3; r++)
        cr_expect_eq(cw_pager_offer(&p, r, true), CW_PAGE_TAKE);
    cr_expect_not(p.more);
    cr_expect_eq(p.taken, 3);
}

Test(console_query, previous_page)
{
    struct cw_pager p;
    size_t from = 99;
    cw_pager_init(&p, 0, 50);
    cr_expect_not(cw_pager_prev(&p, false, &from));
    cw_pager_init(&p, 120, 50);
    cr_expect(cw_pager_prev(&p, false, &from));
    cr_expect_eq(from, 70);
    cr_expect(cw_pager_prev(&p, true, &from));
    cr_expect_eq(from, 0);
    cw_pager_init(&p, 30, 50);
    cr_expect(cw_pager_prev(&p, false, &from));
    cr_expect_eq(from, 0);
}
