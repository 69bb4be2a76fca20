/* stats.h - the daemon's counters, histograms and gauges: written with relaxed atomics
 * (no locks) on the hot path, read by reporters (the status line, /metrics, /readyz) */
#ifndef CHURNWATCH_STATS_H
#define CHURNWATCH_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "churnwatch/config.h"
#include "churnwatch/reject.h"
#include "wall_clock.h" /* cw_mono_us, for the durations observed */

/* Upper bounds (microseconds) of the fixed histogram buckets; a last bucket is +Inf. */
#define CW_HIST_BUCKETS 18
static const uint64_t cw_hist_bounds_us[CW_HIST_BUCKETS] = {
    500,    1000,    2500,    5000,    10000,    25000,    50000,    100000,    250000,
    500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000, 900000000,
};

/* A latency histogram: per-bucket (not cumulative) counts and the sum of observations. */
struct cw_hist {
    _Atomic uint64_t bucket[CW_HIST_BUCKETS + 1];
    _Atomic uint64_t sum_us;
};

/* Consumer lag per assigned partition, published by the main loop as a whole table under a
 * sequence lock (odd while being written); topics are indices into the configured list. */
#define CW_LAG_MAX 1024
struct cw_lag_slot {
    _Atomic uint32_t topic;
    _Atomic int32_t partition;
    _Atomic int64_t lag;
};
struct cw_lag_table {
    _Atomic uint64_t seq;
    _Atomic uint32_t n;
    struct cw_lag_slot slot[CW_LAG_MAX];
};

/* Offset resets of the consumer (a position lost to retention or truncation), per partition
 * that had any: appended by the main loop only (a slot is filled before n counts it),
 * read by /metrics; topics are indices into the configured list. */
#define CW_RESET_MAX 1024
struct cw_reset_slot {
    _Atomic uint32_t topic;
    _Atomic int32_t partition;
    _Atomic uint64_t resets;
    _Atomic uint64_t skipped; /* messages between the lost position and the new start */
};
struct cw_reset_table {
    _Atomic uint32_t n;
    struct cw_reset_slot slot[CW_RESET_MAX];
};

struct cw_stats {
    /* events fully processed, by event-type index (applied); unknown types separately */
    _Atomic uint64_t consumed_by_type[CW_MAX_EVENT_TYPES];
    _Atomic uint64_t consumed_unknown;
    _Atomic uint64_t replays_skipped;
    _Atomic uint64_t rejected[CW_REJ__COUNT];
    /* alerts published, by rule index and status (0 firing, 1 resolved, 2 reminder) */
    _Atomic uint64_t alerts[CW_MAX_RULES][3];
    _Atomic uint64_t alerts_silenced;
    _Atomic uint64_t scores_published; /* score feed messages acknowledged by the broker */
    _Atomic uint64_t batches;
    _Atomic uint64_t messages; /* messages of completed batches */
    _Atomic uint64_t accounts_scored;
    _Atomic uint64_t parents_rescored; /* parents re-scored after a child's scoring */
    _Atomic uint64_t sweeps_completed;
    _Atomic uint64_t sweep_skipped; /* accounts a cycle skipped: a batch scored them */
    _Atomic uint64_t reloads_ok;
    _Atomic uint64_t reloads_error;
    _Atomic uint64_t redis_errors;
    _Atomic uint64_t kafka_errors;
    _Atomic uint64_t fetch_restarts; /* partitions restarted by the fetch watchdog */
    /* accounts owned in memory (cw_store_cache_stats), published after every batch */
    _Atomic uint64_t cache_hits, cache_misses, cache_evictions, cache_conflicts;
    _Atomic uint64_t txn_aborts; /* write-back transactions that found a watched key moved */
    _Atomic uint64_t cache_bytes, cache_accounts, cache_budget;

    struct cw_hist batch_seconds; /* one gathered batch: DLQ, apply, rescore, offsets stored */
    struct cw_hist redis_seconds; /* one Redis round trip (a command or a pipeline) */
    struct cw_hist sweep_seconds; /* one full sweep cycle */

    /* gauges for /healthz and /readyz */
    _Atomic int64_t loop_tick_ms; /* monotonic ms of the main loop's last turn, 0 before */
    _Atomic int kafka_assigned;   /* the consumer has partitions assigned */
    _Atomic int redis_ok;         /* the last Redis round trip (or connection) succeeded */
    _Atomic int config_keys_pending_restart; /* start-only keys the file changed since start */
    struct cw_lag_table lag;
    struct cw_reset_table resets;
};

static inline void cw_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline uint64_t cw_stat_get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

static inline void cw_hist_observe(struct cw_hist *h, uint64_t us)
{
    size_t b = 0;
    while (b < CW_HIST_BUCKETS && us > cw_hist_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

static inline void cw_gauge_set(_Atomic int *g, int v)
{
    atomic_store_explicit(g, v, memory_order_relaxed);
}

static inline int cw_gauge_get(_Atomic int *g)
{
    return atomic_load_explicit(g, memory_order_relaxed);
}

#endif /* CHURNWATCH_STATS_H */
