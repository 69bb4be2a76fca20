/* metrics.h - the daemon's counters as Prometheus text, and its health and readiness */
#ifndef CHURNWATCH_METRICS_H
#define CHURNWATCH_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "churnwatch/config.h"
#include "kafka.h"
#include "stats.h"

/* The loop is healthy while its last turn is at most this old. */
#define CW_HEALTH_STALE_MS 60000

/*
 * What /metrics, /healthz and /readyz read: the counters (written lock-free by the main
 * loop, only read here) and copies of the label names (event types, rules, topics) that
 * the main loop replaces on reload under mu, so the HTTP thread never reads a config
 * being freed.
 */
struct cw_metrics {
    struct cw_stats *stats;
    pthread_mutex_t mu;
    char **types, **rules, **topics;
    size_t n_types, n_rules, n_topics;
};

/* Set up m over stats with cfg's names. 0, or -1 when out of memory (m unusable). */
int cw_metrics_init(struct cw_metrics *m, struct cw_stats *stats, const struct cw_config *cfg);

/* Replace the event-type and rule names after a reload (topics are kept: they change only
 * at restart). 0, or -1 when out of memory (the old names are kept). */
int cw_metrics_set_names(struct cw_metrics *m, const struct cw_config *cfg);

/* Release the names; cw_metrics_free on a zeroed m is a no-op. */
void cw_metrics_free(struct cw_metrics *m);

/* Publish the consumer's per-partition lag (the main loop, at most once a second). */
void cw_metrics_publish_lag(struct cw_metrics *m, const struct cw_partition_lag *lags, size_t n);

/* Count one offset reset of (topic, partition) that skipped that many messages (the main
 * loop only: cw_consumer_on_reset). A topic not configured, or a table already holding
 * CW_RESET_MAX partitions, is not counted. */
void cw_metrics_count_reset(struct cw_metrics *m, const char *topic, int32_t partition,
                            uint64_t skipped);

/* Render every series in the Prometheus text exposition format (0.0.4). Returns a
 * malloc'd buffer of *len bytes owned by the caller, or NULL when out of memory. */
char *cw_metrics_render(struct cw_metrics *m, size_t *len);

/* Whether the main loop turned within CW_HEALTH_STALE_MS; false with a reason if not. */
bool cw_metrics_healthy(struct cw_metrics *m, char *reason, size_t size);

/* Whether the consumer has an assignment and Redis answered its last round trip; false
 * with a one-line reason if not. */
bool cw_metrics_ready(struct cw_metrics *m, char *reason, size_t size);

#endif /* CHURNWATCH_METRICS_H */
