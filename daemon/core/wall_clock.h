/* wall_clock.h - the clocks of the daemon and the CLI, the one place either is read: the
 * wall clock with the test hook that shifts it, and the monotonic clock for durations */
#ifndef CHURNWATCH_WALL_CLOCK_H
#define CHURNWATCH_WALL_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * Milliseconds since the Unix epoch (CLOCK_REALTIME): what "now" is for going live, the
 * sweep, silences, future timestamps and emitted_at.
 *
 * Test hook: when the environment variable CW_DEBUG_CLOCK_OFFSET_MS holds an integer, it
 * is added to every reading, in the daemon and the CLI alike (read once per process). The
 * integration tests set it so that a fixed instant is "now" when they start, which makes
 * their generated histories and every judgement on them the same at any time of day and
 * on any day of the week (tests/integration/harness.bash). Not for production use.
 */
int64_t cw_wall_ms(void);

/*
 * The monotonic clock (CLOCK_MONOTONIC), for durations, deadlines and timeouts: never
 * shifted by the test hook, never stepped by NTP. Its origin is arbitrary: compare its
 * readings only with each other. cw_mono_us in microseconds, cw_mono_ms in milliseconds.
 */
uint64_t cw_mono_us(void);
int64_t cw_mono_ms(void);

/* The monotonic instant in_ms milliseconds from now as a timespec, for
 * pthread_cond_timedwait on a condition variable set to CLOCK_MONOTONIC. */
struct timespec cw_mono_deadline(int64_t in_ms);

#endif /* CHURNWATCH_WALL_CLOCK_H */
