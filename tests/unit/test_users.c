/* test_users.c - per-user engagement (lib/users.c): days added in order and pruned to the
 * window, their stored form, points, ranks, trends and an account's summary */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/users.h"

static struct cw_users_config bands(void)
{
    static char ss[] = "SS", s[] = "S", a[] = "A", b[] = "B";
    struct cw_users_config uc = {
        .enabled = true, .window_days = 30, .n_ranks = 4, .power_rank = 2, .max_tracked = 200};
    uc.ranks[0] = (struct cw_rank_band){ss, 100};
    uc.ranks[1] = (struct cw_rank_band){s, 50};
    uc.ranks[2] = (struct cw_rank_band){a, 20};
    uc.ranks[3] = (struct cw_rank_band){b, 5};
    return uc;
}

Test(eng, days_are_added_in_order_summed_and_pruned)
{
    struct cw_eng_day d[4];
    size_t n = 0;
    cr_assert_eq(cw_eng_add(d, &n, 4, 105, 3, 90), 0);
    cr_assert_eq(cw_eng_add(d, &n, 4, 101, 1, 90), 0);
    cr_assert_eq(cw_eng_add(d, &n, 4, 105, 2, 90), 0);
    cr_assert_eq(cw_eng_add(d, &n, 4, 103, 7, 90), 0);
    cr_assert_eq(cw_eng_add(d, &n, 4, 90, 7, 90), 0, "at the oldest day: dropped");
    cr_assert_eq(n, 3);
    cr_expect_eq(d[0].day, 101);
    cr_expect_eq(d[1].day, 103);
    cr_expect_eq(d[2].day, 105);
    cr_expect_eq(d[2].points, 5);
    char text[64];
    cr_assert_eq(cw_eng_format(d, n, text, sizeof text), (int)strlen("101:1,103:7,105:5"));
    cr_expect_str_eq(text, "101:1,103:7,105:5");
    /* full: a new day is refused unless the prune makes room */
    cr_assert_eq(cw_eng_add(d, &n, 4, 106, 1, 90), 0);
    cr_assert_eq(cw_eng_add(d, &n, 3, 107, 1, 90), -1);
    cr_assert_eq(n, 4, "nothing changed");
    cr_assert_eq(cw_eng_add(d, &n, 4, 107, 1, 101), 0, "101 pruned first");
    cr_assert_eq(n, 4);
    cr_expect_eq(d[0].day, 103);
    cr_expect_eq(d[3].day, 107);
    /* saturation */
    struct cw_eng_day s[1] = {{5, UINT32_MAX - 1}};
    size_t ns = 1;
    cr_assert_eq(cw_eng_add(s, &ns, 1, 5, 9, 0), 0);
    cr_expect_eq(s[0].points, UINT32_MAX);
}

Test(eng, the_stored_form_round_trips_and_rejects_what_it_never_writes)
{
    struct cw_eng_day d[8];
    cr_assert_eq(cw_eng_parse("", 0, d, 8), 0);
    const char *ok = "-3:1,20001:4294967295";
    cr_assert_eq(cw_eng_parse(ok, strlen(ok), d, 8), 2);
    cr_expect_eq(d[0].day, -3);
    cr_expect_eq(d[1].points, UINT32_MAX);
    char back[64];
    cw_eng_format(d, 2, back, sizeof back);
    cr_expect_str_eq(back, ok);
    static const char *const bad[] = {"1",    "1:",  ":1",           "1:0",  "2:1,1:1", "1:1,1:1",
                                      "1:1,", "1;1", "1:4294967296", "1:-1", "1:1 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(cw_eng_parse(bad[i], strlen(bad[i]), d, 8), -1, "'%s'", bad[i]);
    cr_expect_eq(cw_eng_parse("1:1,2:1,3:1", 11, d, 2), -1, "longer than cap");
    cr_assert_eq(cw_eng_parse(ok, strlen(ok), d, 8), 2);
    char small[8];
    cr_expect_eq(cw_eng_format(d, 2, small, sizeof small), -1);
    cr_expect_str_eq(small, "");
}

Test(eng, points_ranks_and_trend_over_the_window)
{
    struct cw_users_config uc = bands();
    /* 30 points 40 days ago (outside), 10 on each of today-29, today-10, today */
    const struct cw_eng_day d[] = {{60, 30}, {71, 10}, {90, 10}, {100, 10}, {101, 99}};
    cr_expect_eq(cw_eng_points(d, 5, 100, 30), 30, "(70, 100]; day 101 is after today");
    cr_expect_eq(cw_eng_points(d, 5, 100, 1), 10);
    cr_expect_eq(cw_user_rank(&uc, 30), 2, "A");
    cr_expect_eq(cw_user_rank(&uc, 100), 0, "SS at its minimum");
    cr_expect_eq(cw_user_rank(&uc, 4), -1, "below every band");
    /* trend: halves (85, 100] = 20 against (70, 85] = 10: up */
    cr_expect_eq(cw_eng_trend(d, 5, 100, 30), CW_TREND_UP);
    const struct cw_eng_day down[] = {{75, 50}, {99, 10}};
    cr_expect_eq(cw_eng_trend(down, 2, 100, 30), CW_TREND_DOWN);
    const struct cw_eng_day flat[] = {{75, 10}, {99, 9}};
    cr_expect_eq(cw_eng_trend(flat, 2, 100, 30), CW_TREND_FLAT, "within a fifth");
    cr_expect_str_eq(cw_user_trend_name(CW_TREND_DOWN), "down");
}

Test(eng, an_accounts_users_summed_up_per_rank)
{
    struct cw_users_config uc = bands();
    const struct cw_eng_day a[] = {{100, 120}}, b[] = {{99, 25}}, c[] = {{98, 3}},
                            gone[] = {{50, 500}}, s[] = {{100, 60}};
    const struct cw_user_eng users[] = {
        {"ann", a, 1},    {"bob", b, 1}, {"cy", c, 1},
        {"dee", gone, 1}, {"eve", s, 1}, {"fay", NULL, 0},
    };
    struct cw_users_summary sum;
    cw_users_summarize(&uc, users, 6, 100, &sum);
    cr_expect_eq(sum.engaged, 4, "dee's points are outside the window, fay has none");
    cr_expect_eq(sum.ranked, 3, "cy is below every band");
    cr_expect_eq(sum.per_rank[0], 1);
    cr_expect_eq(sum.per_rank[1], 1);
    cr_expect_eq(sum.per_rank[2], 1);
    cr_expect_eq(sum.per_rank[3], 0);
    cr_expect_eq(sum.power, 3, "SS, S and A are power users (power_rank A)");
    uc.power_rank = 0;
    cw_users_summarize(&uc, users, 6, 100, &sum);
    cr_expect_eq(sum.power, 1);
}
