/* wall_clock.h - the wall clock of the daemon and the CLI, with the test hook that shifts it */
#ifndef CHURNWATCH_WALL_CLOCK_H
#define CHURNWATCH_WALL_CLOCK_H

#include <stdint.h>

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

#endif /* CHURNWATCH_WALL_CLOCK_H */
