/* clock.h - the daemon's clock of SPEC section 8: event time while catching up, wall clock once
 * live */
#ifndef CHURNWATCH_CLOCK_H
#define CHURNWATCH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * While the consumer is behind (a backfill, a restart after downtime) the clock is the
 * event-time watermark (the newest event time applied), so a replay of history yields the
 * alerts it would have had live, in order, and no more. Once caught up it is the wall
 * clock, so silence is noticed even when no events arrive. The clock never goes back.
 */
struct cw_clock {
    int64_t watermark_ms; /* newest event time observed, -1 before the first */
    int64_t last_ms;      /* last value returned by cw_clock_now, -1 before the first */
    int64_t slack_ms;     /* a watermark within slack_ms of the wall clock counts as live */
    bool live;            /* the last cw_clock_now returned the wall clock */
};

/* A clock with no observation yet; slack_ms is how far the watermark may trail the wall
 * clock and still count as caught up (e.g. 5 minutes). */
void cw_clock_init(struct cw_clock *c, int64_t slack_ms);

/* Note an applied event's time (ignored when older than the watermark). */
void cw_clock_observe(struct cw_clock *c, int64_t event_ms);

/*
 * The clock at wall time wall_ms. caught_up tells whether the consumer has reached the
 * end of every assigned partition. Returns the wall clock when caught up or when the
 * watermark is within slack of it, else the watermark (never more than wall_ms); -1 while
 * the clock is unknown (not caught up and no event observed yet). Never decreases.
 */
int64_t cw_clock_now(struct cw_clock *c, int64_t wall_ms, bool caught_up);

#endif /* CHURNWATCH_CLOCK_H */
