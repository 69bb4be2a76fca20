/* test_clock.c - the clock follows the slowest partition's event time while behind and the
 * wall clock once live */
#include <criterion/criterion.h>

#include "churnwatch/clock.h"

#define MIN  (60 * 1000LL)
#define DAY  (24 * 60 * MIN)
#define WALL (1795392000000LL) /* 2026-11-23T00:00:00Z */

static struct cw_clock c;

static void setup(void)
{
    cw_clock_init(&c, 5 * MIN);
}

static void teardown(void)
{
    cw_clock_free(&c);
}

TestSuite(clock, .init = setup, .fini = teardown);

Test(clock, unknown_until_first_event_or_caught_up)
{
    cr_assert_eq(cw_clock_now(&c, WALL, false), -1);
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    cr_assert(c.live);
}

Test(clock, backfill_follows_event_time)
{
    cw_clock_observe(&c, "t", 0, WALL - 90 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 90 * DAY);
    cr_assert_not(c.live);
    cw_clock_observe(&c, "t", 0, WALL - 30 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 30 * DAY);
    /* an out-of-order older event does not move the partition's watermark back */
    cw_clock_observe(&c, "t", 0, WALL - 60 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL + 1, false), WALL - 30 * DAY);
}

Test(clock, follows_the_slowest_partition_with_a_backlog)
{
    cw_clock_observe(&c, "t", 0, WALL - 10 * DAY);
    cw_clock_observe(&c, "t", 1, WALL - 50 * DAY);
    cw_clock_observe(&c, "u", 0, WALL - 20 * DAY);
    cr_assert_eq(cw_clock_watermark(&c), WALL - 50 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 50 * DAY);
    /* the slow one reached its end: it no longer holds the clock back */
    cr_assert_eq(cw_clock_set_idle(&c, "t", 1, true), 0);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 20 * DAY);
    /* new data on it makes it count again */
    cw_clock_observe(&c, "t", 1, WALL - 40 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 40 * DAY);
    /* a revoked partition is forgotten */
    cw_clock_forget(&c, "t", 1);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 20 * DAY);
    cr_assert_eq(c.n_parts, 2);
}

Test(clock, an_unseen_backlog_holds_the_clock)
{
    cr_assert_eq(cw_clock_set_idle(&c, "t", 1, false), 0); /* assigned, backlog, unseen */
    cw_clock_observe(&c, "t", 0, WALL - 10 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), -1, "nothing known about partition 1 yet");
    cw_clock_observe(&c, "t", 1, WALL - 30 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 30 * DAY);
    /* partition 2 appears with a backlog: the clock holds where it was */
    cr_assert_eq(cw_clock_set_idle(&c, "t", 2, false), 0);
    cw_clock_observe(&c, "t", 1, WALL - 5 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 30 * DAY);
    cw_clock_observe(&c, "t", 2, WALL - 8 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 10 * DAY, "partition 0 is slowest");
}

Test(clock, goes_live_when_caught_up_or_within_slack)
{
    cw_clock_observe(&c, "t", 0, WALL - 10 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 10 * MIN);
    cw_clock_observe(&c, "t", 0, WALL - 5 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL, "within slack counts as live");
    cr_assert(c.live);
    cr_assert_eq(cw_clock_now(&c, WALL + DAY, true), WALL + DAY, "silence noticed on wall time");
}

Test(clock, live_never_goes_back)
{
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    /* a wall clock stepping back is ignored while live */
    cr_assert_eq(cw_clock_now(&c, WALL - MIN, true), WALL);
    cr_assert_eq(cw_clock_now(&c, WALL + MIN, true), WALL + MIN);
}

Test(clock, backfill_after_a_live_spell_is_judged_in_event_time)
{
    /* started on an empty topic: live at once */
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    /* then a 90-day history arrives: the clock follows it */
    cw_clock_observe(&c, "t", 0, WALL - 90 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL + MIN, false), WALL - 90 * DAY);
    cr_assert_not(c.live);
    cw_clock_observe(&c, "t", 0, WALL - DAY);
    cr_assert_eq(cw_clock_now(&c, WALL + 2 * MIN, false), WALL - DAY);
    /* caught up again: the wall clock */
    cr_assert_eq(cw_clock_now(&c, WALL + 3 * MIN, true), WALL + 3 * MIN);
}

Test(clock, future_events_never_push_it_past_the_wall)
{
    cw_clock_observe(&c, "t", 0, WALL + 10 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL);
}
