/* backtest_topic.h - the input topics read once for `churnwatch backtest --from-topic`
 * (docs/backtest.md): every partition of the config's topics from its beginning to the high
 * watermark it had when the read began, by a plain assign under a throwaway group id, never
 * committing an offset. */
#ifndef CHURNWATCH_BACKTEST_TOPIC_H
#define CHURNWATCH_BACKTEST_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

/* One message read: its value, Kafka timestamp (-1 none), topic, partition and offset.
 * Returns 0 to go on, -1 to stop the read (which then fails without a message of its own). */
typedef int (*cw_bt_topic_fn)(void *ctx, const void *value, size_t len, int64_t ts_ms,
                              const char *topic, int32_t partition, int64_t offset);

/*
 * Read cfg's input topics (cfg->kafka: brokers, topics, properties) from each partition's
 * beginning up to its high watermark at the start, calling fn for every message, partitions
 * interleaved as the consumer fetches them. timeout_ms bounds each metadata and offset
 * request. 0, or -1 with err filled (a broker that does not answer, a topic that does not
 * exist, a consumer error) or after fn returned -1 (err then empty).
 */
int cw_bt_topic_read(const struct cw_config *cfg, int timeout_ms, cw_bt_topic_fn fn, void *ctx,
                     char *err, size_t errsize);

#endif /* CHURNWATCH_BACKTEST_TOPIC_H */
