/* kafka.h - librdkafka wiring: the event consumer, the alert/DLQ producer, the mock cluster */
#ifndef CHURNWATCH_KAFKA_H
#define CHURNWATCH_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

/* ---- consumer ------------------------------------------------------------------- */

typedef struct cw_consumer cw_consumer;

/*
 * A high-level consumer of kc->topics in kc->group_id: cooperative-sticky assignment with
 * an explicit rebalance callback (incremental assign/unassign, lost partitions logged),
 * enable.auto.offset.store=false (offsets are stored only by cw_consumer_store), auto
 * commit of stored offsets, kc->properties passed through (values never logged).
 * auto.offset.reset (earliest, the default, or latest) is applied by the consumer itself,
 * so that a position lost to retention is told apart from a partition never committed,
 * logged as an error and reported (cw_consumer_on_reset); "error" is refused.
 * brokers overrides kc->brokers when non-NULL (--embedded-kafka).
 */
cw_consumer *cw_consumer_new(const struct cw_kafka_config *kc, const char *brokers, char *err,
                             size_t errsize);

/*
 * Called (on the thread of cw_consumer_poll) when a partition's position was out of range
 * (past the log's retention, or beyond its end) and consumption was reset to where
 * kafka.properties auto.offset.reset says: skipped is the count of messages between the
 * lost position and the new start (0 when none were skipped or the log bounds were
 * unknown). A partition without a committed offset yet is not a reset.
 */
typedef void cw_consumer_reset_fn(void *opaque, const char *topic, int32_t partition,
                                  uint64_t skipped);
void cw_consumer_on_reset(cw_consumer *c, cw_consumer_reset_fn *fn, void *opaque);

/* Commit the stored offsets, leave the group and destroy, all within timeout_ms (a
 * broker that is down cannot hold it longer: a consumer that could not close in time is
 * abandoned to the process exit, and so is one that never had an assignment, which
 * librdkafka 2.0.2 cannot destroy, or whose final unassign did not return: librdkafka's
 * issue #4884). Call it only when shutting down.
 * cw_consumer_close(NULL) is a no-op. */
void cw_consumer_close(cw_consumer *c, int timeout_ms);

/*
 * Poll up to max messages, waiting at most timeout_ms for the first and returning as
 * soon as no more are immediately available. Messages are owned by the caller
 * (rd_kafka_message_destroy). Consumer errors (not messages) are logged and counted,
 * not returned; a fatal error sets *fatal. Returns the count.
 */
size_t cw_consumer_poll(cw_consumer *c, rd_kafka_message_t **msgs, size_t max, int timeout_ms,
                        bool *fatal);

/* Store offset+1 of each message (only after its effects are durable). Offsets of
 * partitions no longer assigned are ignored (RD_KAFKA_RESP_ERR__STATE). */
void cw_consumer_store(cw_consumer *c, rd_kafka_message_t *const *msgs, size_t n);

/* cw_consumer_store by partitions rather than messages: one entry per partition, its
 * .offset the next one to consume (the last one processed + 1). Takes the list. */
void cw_consumer_store_offsets(cw_consumer *c, rd_kafka_topic_partition_list_t *offsets);

/* Commit stored offsets now (async). */
void cw_consumer_commit(cw_consumer *c);

/* Pause / resume fetching on all assigned partitions (backpressure while Redis or the
 * alert topic is down: the held batch is retried, nothing is re-fetched). Partitions
 * assigned while paused start paused. cw_consumer_poll must still be called while
 * paused, to serve rebalances. */
void cw_consumer_pause(cw_consumer *c);
void cw_consumer_resume(cw_consumer *c);

/* Pause or resume fetching one partition (event-time alignment: a partition far ahead of
 * the others waits for them). Resuming is a no-op while the whole consumer is paused. A
 * partition revoked while paused is fetched again when it is assigned again. */
void cw_consumer_pause_partition(cw_consumer *c, const char *topic, int32_t partition, bool pause);

/* Per-partition lag and assignment, for the clock and /metrics. */
struct cw_partition_lag {
    char topic[256];
    int32_t partition;
    int64_t lag; /* high watermark - position, -1 unknown */
};
size_t cw_consumer_lag(cw_consumer *c, struct cw_partition_lag *out, size_t max);

/* Whether (topic, partition) is in the current assignment. */
bool cw_consumer_owns(cw_consumer *c, const char *topic, int32_t partition);

/* How many assignments (partitions gained) the consumer has received: a change means
 * this member took over partitions, e.g. those of a member that died. */
uint64_t cw_consumer_gained(cw_consumer *c);

/* The partition count of topic from the cluster's metadata, or -1 (unknown topic, timeout). */
int cw_consumer_partition_count(cw_consumer *c, const char *topic, int timeout_ms);

/* True when the consumer has at least one partition assigned. */
bool cw_consumer_assigned(cw_consumer *c);

/* The group state as this member sees it, for a diagnostic: its member id, the rebalance
 * protocol, assignments gained, errors, whether paused, and librdkafka's current
 * assignment ("member=... protocol=... assignment=[topic/0 topic/2]"), truncated to size. */
void cw_consumer_describe(cw_consumer *c, char *buf, size_t size);

/* True when every assigned partition has reached its end (lag 0) since the last call
 * that returned messages: the daemon has caught up (docs/design.md "The clock"). */
bool cw_consumer_caught_up(cw_consumer *c);

/*
 * The fetch watchdog: checks one assigned partition per call (round robin, one query of
 * its log end to its leader, bounded by query_ms). A partition neither paused nor holding
 * messages back, whose log end lies beyond the consumer's position and beyond the end its
 * last fetch response gave, with that position unmoved for stall_ms (as seen by this
 * function's calls, now_ms on the caller's clock), is restarted at its position and
 * logged as a warning. A query unanswered within query_ms starts the partition's stall
 * time over. Returns true when it restarted one.
 */
bool cw_consumer_watch_fetch(cw_consumer *c, int64_t now_ms, int64_t stall_ms, int query_ms);

/* Partitions restarted by cw_consumer_watch_fetch so far. */
uint64_t cw_consumer_fetch_restarts(const cw_consumer *c);

/* The librdkafka handle beneath (tests use it to act behind the consumer's back). */
rd_kafka_t *cw_consumer_handle(cw_consumer *c);

/* ---- producer ------------------------------------------------------------------- */

typedef struct cw_producer cw_producer;

/* An idempotent producer (enable.idempotence=true) with kc->properties. */
cw_producer *cw_producer_new(const struct cw_kafka_config *kc, const char *brokers, char *err,
                             size_t errsize);

/* Flush (bounded by timeout_ms) and destroy. cw_producer_close(NULL) is a no-op. */
void cw_producer_close(cw_producer *p, int timeout_ms);

/* A header of a produced message. */
struct cw_header {
    const char *name;
    const char *value;
};

/*
 * Queue one message (value copied) on topic with an optional key and headers.
 * Returns 0 or -1 (queue full after waiting, unknown topic...) with err.
 * Delivery is confirmed by cw_producer_wait.
 */
int cw_producer_send(cw_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t len, const struct cw_header *headers,
                     size_t n_headers, char *err, size_t errsize);

/*
 * Wait until every message sent since the last successful wait is acknowledged by the
 * broker, at most timeout_ms. Returns 0 when all were delivered, 1 on timeout (still in
 * flight), -1 when any delivery failed permanently (err names the first failure); after
 * -1 the caller re-sends the batch's messages.
 */
int cw_producer_wait(cw_producer *p, int timeout_ms, char *err, size_t errsize);

/*
 * A partition's log start (lo, not asked when NULL) and end (hi), asked of its leader (one
 * round trip each), waiting at most timeout_ms in all even when no broker answers.
 * (librdkafka 2.0.2's rd_kafka_query_watermark_offsets waits for a broker that is down
 * however long that takes, past its timeout: confluentinc/librdkafka#2588, fixed in 2.3.0.)
 * 0, or the error (timed out included).
 */
rd_kafka_resp_err_t cw_kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                                        int64_t *lo, int64_t *hi, int timeout_ms);

/* ---- mock cluster ---------------------------------------------------------------- */

typedef struct cw_mock_kafka cw_mock_kafka;

/* Start librdkafka's mock cluster (n_brokers) in this process and create each topic
 * with partitions partitions. cw_mock_kafka_bootstrap gives its "host:port,..." list. */
cw_mock_kafka *cw_mock_kafka_start(int n_brokers, const char *const *topics, size_t n_topics,
                                   int partitions, char *err, size_t errsize);
const char *cw_mock_kafka_bootstrap(const cw_mock_kafka *m);
/* The underlying mock cluster, for fault injection in tests. */
struct rd_kafka_mock_cluster_s *cw_mock_kafka_cluster(cw_mock_kafka *m);
void cw_mock_kafka_stop(cw_mock_kafka *m);

#endif /* CHURNWATCH_KAFKA_H */
