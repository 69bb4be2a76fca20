/* test_clock.c - the clock follows event time while behind and the wall clock once live */
#include <criterion/criterion.h>

#include "churnwatch/clock.h"

#define MIN  (60 * 1000LL)
#define DAY  (24 * 60 * MIN)
#define WALL (1795392000000LL) /* 2026-11-23T00:00:00Z */

Test(clock, unknown_until_first_event_or_caught_up)
{
    struct cw_clock c;
    cw_clock_init(&c, 5 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), -1);
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    cr_assert(c.live);
}

Test(clock, backfill_follows_event_time)
{
    struct cw_clock c;
    cw_clock_init(&c, 5 * MIN);
    cw_clock_observe(&c, WALL - 90 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 90 * DAY);
    cr_assert_not(c.live);
    cw_clock_observe(&c, WALL - 30 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 30 * DAY);
    /* an out-of-order older event does not move the clock back */
    cw_clock_observe(&c, WALL - 60 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL + 1, false), WALL - 30 * DAY);
}

Test(clock, goes_live_when_caught_up_or_within_slack)
{
    struct cw_clock c;
    cw_clock_init(&c, 5 * MIN);
    cw_clock_observe(&c, WALL - 10 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 10 * MIN);
    cw_clock_observe(&c, WALL - 5 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL, "within slack counts as live");
    cr_assert(c.live);
    cr_assert_eq(cw_clock_now(&c, WALL + DAY, true), WALL + DAY, "silence noticed on wall time");
}

Test(clock, never_goes_back)
{
    struct cw_clock c;
    cw_clock_init(&c, 5 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    /* fell behind after being live (e.g. after an outage): keeps its last value */
    cw_clock_observe(&c, WALL - DAY);
    cr_assert_eq(cw_clock_now(&c, WALL + MIN, false), WALL);
    /* a wall clock stepping back is ignored too */
    cr_assert_eq(cw_clock_now(&c, WALL - MIN, true), WALL);
}

Test(clock, future_events_never_push_it_past_the_wall)
{
    struct cw_clock c;
    cw_clock_init(&c, 5 * MIN);
    cw_clock_observe(&c, WALL + 10 * MIN);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL);
}
