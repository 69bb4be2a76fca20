/* partitions.h - the assigned partitions: their event-time clock and floors, backlog,
 * alignment pauses and fetch watchdog, kept in step with the consumer and Redis */
#ifndef CHURNWATCHD_PARTITIONS_H
#define CHURNWATCHD_PARTITIONS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

/*
 * Bring the partition table in step with the consumer's assignment: which assigned
 * partitions have a backlog, the revoked ones forgotten, and the event-time floors of
 * those newly assigned read from Redis (a failed read is logged and the clock goes on
 * without them). Then the daemon's clock now (docs/design.md "The clock"), -1 while
 * unknown. Reads the consumer's positions and, for new partitions, Redis.
 */
int64_t cw_partitions_sync(struct cw_daemon *d);

/*
 * Measure whether the consumer is catching up: more messages wait in the assigned
 * partitions than a tenth of a batch. Measured at most every 20 ms (the lag of every
 * assigned partition); in between, the last measure.
 */
bool cw_partitions_measure_backlog(struct cw_daemon *d);

/*
 * Event-time alignment while catching up: pause the partitions that ran more than a day
 * ahead of the slowest one, resume them once it caught up. idle_poll (the last poll
 * returned nothing) or a live clock resumes them all.
 */
void cw_partitions_align(struct cw_daemon *d, bool idle_poll);

/* The consumer was resumed as a whole (after a batch's retries): every partition is
 * fetched again, those held back for alignment too, which the alignment judges afresh. */
void cw_partitions_resumed(struct cw_daemon *d);

/* The clock's event-time watermark of topic/partition now (the newest event time it
 * observed there), -1 when it has none: what cw_partitions_save_floors saves for it. */
int64_t cw_partitions_watermark(const struct cw_daemon *d, const char *topic, int32_t partition);

/*
 * Save the event-time floors of parts, ms[i] for parts->elems[i] (the watermarks
 * cw_partitions_watermark gave when the batch they come from was laid out: every event
 * they count is in that batch, applied or in the DLQ), so that whoever consumes a
 * partition next resumes its clock there; -1 (no watermark) saves nothing for it. A floor
 * never moves back (the store keeps the highest), so a partition revoked since is saved
 * harmlessly. 0, or -1 (logged: "will retry").
 */
int cw_partitions_save_floors(struct cw_daemon *d, const rd_kafka_topic_partition_list_t *parts,
                              const int64_t *ms);

/*
 * The clock to score at outside a batch (the sweep): cw_partitions_sync when no batch is
 * gathered; while one is (decoded during the last one's pass, its events observed by the
 * clock but not applied), the clock the last batch processed was scored at, so nothing is
 * judged at a time whose events are not in the state yet.
 */
int64_t cw_partitions_now_applied(struct cw_daemon *d);

/* The fetch watchdog (docs/operations.md "A partition not fetched"), called while idle:
 * one partition a second is checked for a log that grows while nothing of it is fetched. */
void cw_partitions_watch_fetch(struct cw_daemon *d);

#endif /* CHURNWATCHD_PARTITIONS_H */
