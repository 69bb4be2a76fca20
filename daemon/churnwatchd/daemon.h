/* daemon.h - the churnwatchd context: configuration, clients, clock and counters */
#ifndef CHURNWATCHD_DAEMON_H
#define CHURNWATCHD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "account_eval.h"
#include "churnwatch/clock.h"
#include "churnwatch/config.h"
#include "churnwatch/event.h"
#include "churnwatch/window.h"
#include "http.h"
#include "id_set.h"
#include "kafka.h"
#include "metrics.h"
#include "stats.h"
#include "store.h"
#include "wall_clock.h"

struct cw_options {
    const char *config_path;
    bool check_config;
    bool embedded_kafka;
    int embedded_partitions;
    size_t batch_max;        /* messages per batch, at most */
    int batch_wait_ms;       /* a batch is processed at most this long after its first message */
    int shutdown_timeout_ms; /* bound on finishing the in-flight batch at SIGTERM */
};

/* The parts of the context that depend on the configuration; swapped whole on reload. */
struct cw_runtime {
    struct cw_config *cfg;
    cw_tz *tz;
    cw_decoder *dec;
    struct cw_time_policy time_policy;
};

struct cw_sweep {
    uint64_t cursor;
    bool running;           /* a cycle is in progress */
    int64_t cycle_start;    /* wall ms the current (or last) cycle started */
    int64_t next_cycle;     /* wall ms the next cycle may start */
    double budget;          /* accounts we may sweep now, accrued with time */
    int64_t last_tick;      /* wall ms of the last tick */
    uint64_t total;         /* accounts known at the start of the cycle */
    uint64_t done;          /* accounts swept in this cycle */
    int32_t event_day;      /* clock day last seen while catching up, 0 before */
    bool event_day_pending; /* the clock crossed a day while catching up: sweep again */
    /* the share of this instance (sweep.c): accounts of the partitions it is assigned */
    uint64_t share_gained; /* cw_consumer_gained() the share was computed for */
    int share_partitions;  /* partitions of the first topic, -1 unknown (sweep all) */
    /* accounts a batch scored since the cycle started: the cycle skips them (sweep.c) */
    struct cw_id_set scored;
    uint64_t skipped; /* accounts of the cycle skipped so */
};

#define CW_MAX_PARTITIONS 4096 /* assigned partitions the clock tracks */

struct cw_batch;         /* batch.c */
struct cw_score_buffers; /* score_pass.c */
struct cw_pass_lanes;    /* score_pass.c */

/* A further lane of a batch's score pass (redis.lanes; docs/design.md "Lanes"): its own
 * Redis connection (and its share of the accounts held in memory), producer and buffers. */
struct cw_lane {
    cw_store *store;
    cw_producer *producer;
    struct cw_score_buffers *score;
};

struct cw_daemon {
    struct cw_options opt;
    struct cw_runtime rt;
    const char *brokers; /* embedded cluster's bootstrap, or NULL for the config's */
    cw_mock_kafka *mock;
    cw_store *store;
    /* the event-time floors' connection (partitions.c): the clock takes a new partition's
     * floor while the next batch is gathered, when the lanes hold theirs and store */
    cw_store *clock_store;
    cw_consumer *consumer;
    cw_producer *producer;
    struct cw_clock clock;
    struct cw_partition_lag *lags; /* scratch for the clock's view of the assignment */
    struct cw_store_floor *floors; /* scratch for the event-time floors (CW_MAX_PARTITIONS) */
    struct cw_sweep sweep;
    struct cw_stats stats;
    struct cw_metrics metrics; /* what the HTTP endpoint reads */
    cw_http *http;             /* NULL when http.listen is "" */
    int64_t next_lag_ms;       /* wall ms the lag is next published to the metrics */
    uint64_t backlog_at_us;    /* monotonic µs the backlog was last measured */
    bool backlog;              /* what it found */
    /* messages returned by polls made while a batch was being retried; processed next */
    rd_kafka_message_t **held;
    size_t n_held, cap_held;
    bool fatal; /* a fatal Kafka error: stop */
    /* A batch between tries (its last try's verdict was RETRY, batch.h): why it is being
     * processed (NULL: no batch waits), when it is tried next (monotonic ms), the backoff
     * after that, and whether consumption is paused meanwhile. */
    struct {
        const char *why;
        int64_t at_ms;
        int backoff_ms;
        bool paused;
    } retry;
    /* A batch whose score pass runs in its lanes (verdict RUNNING, batch.h): why it is being
     * processed; NULL when none is. The main loop gathers the next batch meanwhile. */
    const char *running_why;
    bool reload_wanted;             /* SIGHUP came: the reload waits for the batch in flight */
    struct cw_batch *batch;         /* the batch being gathered, then processed */
    struct cw_batch *next_batch;    /* the one gathered while batch's pass runs */
    int64_t applied_now;            /* the clock the last batch processed was scored at */
    bool gather_failed;             /* out of memory gathering during a pass: stop */
    struct cw_score_buffers *score; /* reused by every score pass */
    struct cw_pass_lanes *pass;     /* the batch's pass in its lanes' threads */
    /* redis.lanes as started (a restart applies a change); lane 0 is store, producer and
     * score above, lanes[1..n_lanes) the others */
    size_t n_lanes;
    struct cw_lane lanes[CW_REDIS_LANES_MAX];
    /* systemd notifications (core/notify.h) */
    bool notified_ready;      /* READY=1 sent: the first partition assignment came */
    int64_t watchdog_ms;      /* the unit's WatchdogSec in ms; 0 when not asked for */
    int64_t next_watchdog;    /* monotonic ms of the next WATCHDOG=1 */
    int64_t next_fetch_watch; /* monotonic ms of the next fetch watchdog check */
};

/* Set up everything (config, embedded Kafka, Redis, consumer, producer). Redis being down
 * is waited out with backoff. 0; 1 when a stop (SIGTERM, SIGINT) was requested while
 * waiting, which is not a failure (the caller exits 0); or -1 after logging why (the
 * caller exits non-zero). */
int cw_daemon_init(struct cw_daemon *d);

/* Consume, process and sweep until a stop is requested or a fatal error. 0 or -1. */
int cw_daemon_run(struct cw_daemon *d);

/* Commit, flush, leave the group and release everything. */
void cw_daemon_shutdown(struct cw_daemon *d);

/* Sleep ms milliseconds, polling the consumer so rebalances are served meanwhile. Returns
 * false when a stop was requested. */
bool cw_daemon_backoff(struct cw_daemon *d, int ms);

/* Copy the store's figures of the accounts held in memory into the stats (/metrics). */
void cw_daemon_publish_cache(struct cw_daemon *d);

#endif /* CHURNWATCHD_DAEMON_H */
