/* batch.h - one consumed batch: decode, reject to the DLQ, apply, rescore, store offsets */
#ifndef CHURNWATCHD_BATCH_H
#define CHURNWATCHD_BATCH_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "daemon.h"

/*
 * Process msgs[0..n) to the end: rejected messages to the DLQ (original bytes, three
 * headers), accepted events applied to Redis per account, touched accounts rescored and
 * their alerts acknowledged by the broker, and only then the offsets stored. Steps that
 * fail (Redis or Kafka unavailable) are retried with backoff while consumption is
 * paused; nothing is dropped. Returns 0 when the batch completed, -1 when a stop request
 * interrupted it (its offsets are then not stored: it is replayed after a restart).
 * The messages stay owned by the caller.
 */
int cw_batch_process(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n);

/* Release the buffers batches reuse (at shutdown). */
void cw_batch_cleanup(struct cw_daemon *d);

#endif /* CHURNWATCHD_BATCH_H */
