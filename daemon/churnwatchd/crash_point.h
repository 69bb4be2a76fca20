/* crash_point.h - test hooks: abort() or stop at a named point of the Nth batch (fault tests) */
#ifndef CHURNWATCHD_CRASH_POINT_H
#define CHURNWATCHD_CRASH_POINT_H

/* Test hook for tests/faults: when the environment variable CW_DEBUG_CRASH_AT is
 * "POINT:N" and this is the Nth time POINT is passed, the process abort()s, as a kill -9
 * would stop it there. Points: "after-redis-write" (a chunk of a batch's accounts
 * applied, their scoring and the batch's offsets not yet done) and "after-alert-delivery"
 * (alerts acknowledged by the broker, their outbox entries and the batch's offsets not yet
 * done). Without the variable this does nothing. Not for production use. */
void cw_crash_point(const char *point);

/* Test hook for tests/faults/zombie.sh: when CW_DEBUG_STALL_AT is "POINT:N" and this is the
 * Nth time POINT is passed, the process stops itself (SIGSTOP), as a long pause (a stalled
 * host, a network split) would freeze it there, and goes on from there when sent SIGCONT.
 * Point: "before-redis-write" (a chunk of a batch's accounts about to be applied). With
 * CW_DEBUG_HOLD_AT ("POINT:N") and CW_DEBUG_HOLD_UNTIL (a file), the Nth pass holds only
 * the thread passing it (a lane), until that file exists, while the rest of the process
 * goes on (tests/integration/daemon_gather_during_pass.sh). Without the variables this
 * does nothing. Not for production use. */
void cw_stall_point(const char *point);

#endif /* CHURNWATCHD_CRASH_POINT_H */
