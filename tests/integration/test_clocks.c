/* test_clocks.c - daemon/core/wall_clock.c, the clocks of the daemon and the CLI: the
 * monotonic readings and deadlines, and the wall clock's CW_DEBUG_CLOCK_OFFSET_MS hook */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "wall_clock.h"

#define DAY_MS INT64_C(86400000)

static int64_t timespec_ms(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(clocks, monotonic_readings_never_go_back_and_agree_in_both_units)
{
    int64_t prev_ms = cw_mono_ms();
    uint64_t prev_us = cw_mono_us();
    for (int i = 0; i < 1000; i++) {
        int64_t ms = cw_mono_ms();
        uint64_t us = cw_mono_us();
        cr_assert_geq(ms, prev_ms);
        cr_assert_geq(us, prev_us);
        /* us was read after ms: it is at or past the same millisecond */
        cr_assert_geq((int64_t)(us / 1000), ms);
        prev_ms = ms;
        prev_us = us;
    }
}

Test(clocks, a_deadline_is_normalised_and_not_before_now_plus_the_delay)
{
    const int64_t delays[] = {0, 1, 999, 1000, 1500, 2999, 86400000};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        int64_t before = cw_mono_ms();
        struct timespec d = cw_mono_deadline(delays[i]);
        int64_t after = cw_mono_ms();
        cr_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L, "tv_nsec %ld", d.tv_nsec);
        cr_expect_geq(timespec_ms(d), before + delays[i], "delay %lld", (long long)delays[i]);
        cr_expect_leq(timespec_ms(d), after + delays[i], "delay %lld", (long long)delays[i]);
    }
}

Test(clocks, a_negative_delay_is_now)
{
    int64_t before = cw_mono_ms();
    struct timespec d = cw_mono_deadline(-5000);
    int64_t after = cw_mono_ms();
    cr_expect_geq(timespec_ms(d), before);
    cr_expect_leq(timespec_ms(d), after);
}

/* The hook is read once per process: each test runs in its own process (Criterion's
 * default), and this is the only one that sets it. */
Test(clocks, the_wall_clock_adds_the_debug_offset_and_the_monotonic_clock_does_not)
{
    cr_assert_eq(setenv("CW_DEBUG_CLOCK_OFFSET_MS", "864000000", 1), 0); /* 10 days */
    struct timespec real;
    int64_t mono_before = cw_mono_ms();
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t wall = cw_wall_ms();
    int64_t shift = wall - timespec_ms(real);
    /* the two readings are taken one after the other: the shift is the offset, give or
     * take whatever passed between them, which the monotonic clock bounds */
    int64_t passed = cw_mono_ms() - mono_before;
    cr_expect_geq(shift, 10 * DAY_MS, "shift %lld", (long long)shift);
    cr_expect_leq(shift, 10 * DAY_MS + passed + 1, "shift %lld", (long long)shift);
}

Test(clocks, an_offset_that_is_not_an_integer_is_ignored)
{
    cr_assert_eq(setenv("CW_DEBUG_CLOCK_OFFSET_MS", "10d", 1), 0);
    struct timespec real;
    int64_t mono_before = cw_mono_ms();
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t shift = cw_wall_ms() - timespec_ms(real);
    int64_t passed = cw_mono_ms() - mono_before;
    cr_expect_geq(shift, 0, "shift %lld", (long long)shift);
    cr_expect_leq(shift, passed + 1, "shift %lld", (long long)shift);
}
