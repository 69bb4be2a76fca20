/* batch.h - the batch being gathered and its processing: decode, DLQ, apply, rescore, offsets */
#ifndef CHURNWATCHD_BATCH_H
#define CHURNWATCHD_BATCH_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/*
 * Add msgs[0..n) to the batch being gathered: each is decoded and its time judged
 * against the daemon's clock; rejected messages are copied for the DLQ, accepted events
 * of known types are kept (compactly) with their account's. The messages stay owned by
 * the caller, who may destroy them on return. 0, or -1 when out of memory (logged).
 */
int cw_batch_add(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n);

/*
 * The same for the next batch, gathered while this one's score pass runs in its lanes
 * (verdict RUNNING): its events are judged against the clock as it moves on from this
 * batch's, and it becomes the batch being gathered when this one is done. How many more
 * messages it may take: 0 once it is full or its clock crossed a local day.
 */
int cw_batch_add_next(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n);
size_t cw_batch_next_room(const struct cw_daemon *d);

/* Microseconds since the batch's processing began (its first try), 0 before. */
uint64_t cw_batch_processing_us(const struct cw_daemon *d);

/* Messages in the batch being gathered (and in the next, gathered during its pass), and
 * microseconds since its first one came. */
size_t cw_batch_pending(const struct cw_daemon *d);
size_t cw_batch_next_pending(const struct cw_daemon *d);
uint64_t cw_batch_age_us(const struct cw_daemon *d);

/* Whether the daemon's clock moved to another local day since the batch began: while
 * catching up, a batch ends there, so each day of event time is judged as a live daemon
 * would have judged it (accounts rescored, the event-day sweep). */
bool cw_batch_day_crossed(const struct cw_daemon *d);

/* What a try at processing the batch ended with, for the main loop to act on (as
 * fluent-bit's engine acts on an output's FLB_OK / FLB_RETRY / FLB_ERROR). */
enum cw_verdict {
    CW_VERDICT_DONE,  /* processed to the end: its offsets are stored, a new batch begins */
    CW_VERDICT_RETRY, /* a step failed (Redis or Kafka unavailable; logged): try again later */
    CW_VERDICT_STOP,  /* it cannot go on (out of memory; logged): the daemon stops */
    /* its score pass runs in the lanes' threads: gather the next batch, then try again */
    CW_VERDICT_RUNNING,
};

/*
 * One try at processing the batch gathered so far to the end: rejected messages to the
 * DLQ (original bytes, three headers), each account's events applied to Redis as one
 * coalesced delta and the account rescored from the state that call returns, their
 * alerts acknowledged by the broker, the partitions' event-time floors saved, and only
 * then the offsets stored. What a try completed is kept: the next try resumes at the step
 * that failed, at the same clock, and nothing is dropped; the caller backs off between
 * tries, with consumption paused, and adds nothing to the batch meanwhile. A batch not
 * processed to the end when the daemon stops has no offsets stored: it is replayed after a
 * restart. why (logged) says what ended the batch. DONE when nothing was gathered.
 * With gather, a try returns RUNNING while the accounts' pass runs in the lanes' threads,
 * and the caller gathers the next batch (cw_batch_add_next) before trying again: the
 * next try picks the pass up where it is. Without, the try waits for the pass.
 */
enum cw_verdict cw_batch_process(struct cw_daemon *d, const char *why, bool gather);

/* Release the batch (at shutdown). */
void cw_batch_cleanup(struct cw_daemon *d);

#endif /* CHURNWATCHD_BATCH_H */
