/* clock.h - the daemon's clock (docs/design.md "The clock"): event time while catching up, wall
 * clock once live */
#ifndef CHURNWATCH_CLOCK_H
#define CHURNWATCH_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * While the consumer is behind (a backfill, a restart after downtime) the clock is the
 * event-time watermark, so a replay of history yields the alerts it would have had live,
 * in order, and no more. Once caught up it is the wall clock, so silence is noticed even
 * when no events arrive. While live it never goes back (a wall clock stepping back is
 * ignored); falling behind again hands it back to event time.
 *
 * The watermark is per partition (the newest event time applied from it) and the clock
 * follows the slowest partition that still has a backlog, as in Kafka Streams' stream
 * time: partitions are consumed at different speeds, and judging a slow partition's events
 * by a fast one's time would reject them as too late. A partition with a backlog whose
 * events have not been seen yet holds the clock where it was; a partition at its end
 * (idle) does not hold it back.
 *
 * A partition can also carry a floor: the event time an earlier process or group member
 * had already applied from it (cw_clock_floor). Offsets are committed behind what was
 * applied, so after a restart or a takeover the first events are replays, older than
 * what was judged before; rules judged at their time over state already past it would
 * not be judged as before. The clock rules are judged by therefore counts each partition
 * at no less than its floor. Lateness is not: it is judged against the events' own
 * watermark (lateness_ref_ms), so a replay from far behind (offsets moved back on purpose)
 * is skipped as replays are, never rejected as too late because of the floor.
 */
struct cw_clock_part {
    char *topic;
    int32_t partition;
    int64_t watermark_ms; /* newest event time applied, -1 before the first */
    int64_t floor_ms;     /* applied from it before (cw_clock_floor), -1 none */
    bool idle;            /* at the end of the partition: no backlog */
    bool ahead;           /* the caller paused it for running ahead (cw_clock_ahead) */
    bool floored;         /* its stored floor was given (cw_clock_floor) */
};

struct cw_clock {
    int64_t last_ms;         /* last live value returned, -1 before the first */
    int64_t held_ms;         /* last watermark computed (with floors), -1 before the first */
    int64_t held_events_ms;  /* the same without floors */
    int64_t slack_ms;        /* events within slack_ms of the wall clock count as live */
    bool live;               /* the last cw_clock_now returned the wall clock */
    int64_t lateness_ref_ms; /* what the last cw_clock_now judges lateness against: the
                                wall clock when live, else the events' own watermark (no
                                floors); -1 unknown */
    struct cw_clock_part *parts;
    size_t n_parts, cap_parts;
};

/* A clock with no observation yet; slack_ms is how far the watermark may trail the wall
 * clock and still count as caught up (e.g. 5 minutes). */
void cw_clock_init(struct cw_clock *c, int64_t slack_ms);

/* Release the partition table. */
void cw_clock_free(struct cw_clock *c);

/* Note an applied event's time from topic/partition (the partition is then not idle).
 * Returns 0, or -1 when out of memory (the observation is then ignored). */
int cw_clock_observe(struct cw_clock *c, const char *topic, int32_t partition, int64_t event_ms);

/* Record whether topic/partition has reached its end (registering it when new, so a
 * partition with a backlog holds the clock until its events are seen). 0 or -1 (OOM). */
int cw_clock_set_idle(struct cw_clock *c, const char *topic, int32_t partition, bool idle);

/* Give topic/partition (registering it when new) its floor, the event time already
 * applied from it before (negative: none stored; a lower floor than one given before
 * changes nothing), and mark it floored. 0 or -1 (OOM). */
int cw_clock_floor(struct cw_clock *c, const char *topic, int32_t partition, int64_t floor_ms);

/* The entry of topic/partition, or NULL when the clock does not track it. */
const struct cw_clock_part *cw_clock_part_find(const struct cw_clock *c, const char *topic,
                                               int32_t partition);

/* Forget a partition (revoked from this consumer). */
void cw_clock_forget(struct cw_clock *c, const char *topic, int32_t partition);

/*
 * The event-time watermark rules are judged by: the minimum over partitions with a
 * backlog of their times (watermark, or floor when higher); the held value while such a
 * partition has neither yet; the maximum when every partition is idle. -1 while unknown.
 */
int64_t cw_clock_watermark(struct cw_clock *c);

/*
 * Event-time alignment: whether partition p ran so far ahead of the watermark that it
 * should wait for the others (its watermark more than window_ms past the watermark; any
 * seen partition while the watermark is unknown because another one has not been seen).
 */
bool cw_clock_ahead(struct cw_clock *c, const struct cw_clock_part *p, int64_t window_ms);

/*
 * The clock at wall time wall_ms. caught_up tells whether the consumer has reached the
 * end of every assigned partition. Returns the wall clock when caught up or when the
 * events' own watermark is within slack of it, else cw_clock_watermark (never more than
 * wall_ms); -1 while the clock is unknown (not caught up and no watermark yet). Sets
 * live and lateness_ref_ms.
 */
int64_t cw_clock_now(struct cw_clock *c, int64_t wall_ms, bool caught_up);

#endif /* CHURNWATCH_CLOCK_H */
