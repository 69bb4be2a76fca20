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

Test(clock, a_floor_resumes_the_clock_where_the_replayed_events_would_set_it_back)
{
    /* a restart: both partitions' stored floors are known before any event is seen */
    cr_assert_eq(cw_clock_set_idle(&c, "t", 0, false), 0);
    cr_assert_eq(cw_clock_set_idle(&c, "t", 1, false), 0);
    cr_assert_not(c.parts[0].floored);
    cr_assert_eq(cw_clock_floor(&c, "t", 0, WALL - 20 * DAY), 0);
    cr_assert_eq(cw_clock_floor(&c, "t", 1, WALL - 21 * DAY), 0);
    cr_assert(c.parts[0].floored && c.parts[1].floored);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 21 * DAY, "resumed at the floors");
    cr_assert_eq(c.lateness_ref_ms, -1, "no event seen: lateness has nothing to go by yet");
    /* the replayed events behind the floors do not take the clock back; lateness follows
     * them */
    cw_clock_observe(&c, "t", 0, WALL - 25 * DAY);
    cw_clock_observe(&c, "t", 1, WALL - 26 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 21 * DAY);
    cr_assert_eq(c.lateness_ref_ms, WALL - 26 * DAY);
    cr_assert_not(c.live);
    /* new events past them move it on */
    cw_clock_observe(&c, "t", 1, WALL - 19 * DAY);
    cw_clock_observe(&c, "t", 0, WALL - 18 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 19 * DAY);
    cr_assert_eq(c.lateness_ref_ms, WALL - 19 * DAY, "past the floors both agree");
}

Test(clock, a_replay_from_far_behind_the_floor_is_judged_late_by_its_own_events)
{
    /* offsets moved back 60 days for a replay into the same store: rules go on at the
     * floor (the state is already there), lateness goes by the replayed events, so they
     * are skipped as replays rather than rejected as too late */
    cw_clock_floor(&c, "t", 0, WALL - 10 * MIN);
    cw_clock_observe(&c, "t", 0, WALL - 60 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 10 * MIN);
    cr_assert_not(c.live, "live goes by the events, not the floor");
    cr_assert_eq(c.lateness_ref_ms, WALL - 60 * DAY);
    /* caught up: the wall clock for both */
    cr_assert_eq(cw_clock_now(&c, WALL, true), WALL);
    cr_assert_eq(c.lateness_ref_ms, WALL);
}

Test(clock, floors_only_rise_and_count_for_alignment)
{
    cw_clock_observe(&c, "t", 0, WALL - 10 * DAY);
    cw_clock_observe(&c, "t", 1, WALL - 10 * DAY);
    cr_assert_eq(cw_clock_floor(&c, "t", 0, WALL - 5 * DAY), 0);
    cr_assert_eq(cw_clock_floor(&c, "t", 0, WALL - 8 * DAY), 0, "a lower floor is ignored");
    cr_assert_eq(c.parts[0].floor_ms, WALL - 5 * DAY);
    cr_assert_eq(cw_clock_watermark(&c), WALL - 10 * DAY, "partition 1 is slowest");
    cr_assert(cw_clock_ahead(&c, &c.parts[0], DAY), "partition 0 is 5 days ahead");
    cr_assert_not(cw_clock_ahead(&c, &c.parts[1], DAY));
}

Test(clock, no_floor_stored_only_marks_floored)
{
    cw_clock_observe(&c, "t", 0, WALL - 10 * DAY);
    /* a partition never written: registered, floored, still unseen */
    cr_assert_eq(cw_clock_floor(&c, "t", 1, -1), 0);
    cr_assert_eq(c.n_parts, 2);
    cr_assert(c.parts[1].floored);
    cr_assert_eq(cw_clock_now(&c, WALL, false), -1, "held while 1 is unseen");
    cw_clock_observe(&c, "t", 1, WALL - 11 * DAY);
    cr_assert_eq(cw_clock_now(&c, WALL, false), WALL - 11 * DAY);
    /* forgotten (revoked) and assigned again: floored afresh */
    cw_clock_forget(&c, "t", 1);
    cr_assert_eq(cw_clock_set_idle(&c, "t", 1, false), 0);
    cr_assert_not(c.parts[1].floored);
}
