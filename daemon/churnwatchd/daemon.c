/* daemon.c - churnwatchd's lifecycle: set up, the main loop, reload, graceful shutdown */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "churnwatch/config_restart.h"
#include "config_check.h"
#include "embedded_addr.h"
#include "log.h"
#include "notify.h"
#include "partitions.h"
#include "score_pass.h"
#include "signals.h"
#include "sweep.h"

#define POLL_MS         100
#define BACKOFF_MIN_MS  100  /* the first wait before a batch's next try */
#define BACKOFF_MAX_MS  5000 /* the longest, doubling from the first */
#define CLOCK_SLACK_MS  (5 * 60 * 1000)
#define STATUS_EVERY_MS 30000
#define LAG_EVERY_MS    1000 /* consumer lag published to /metrics */
#define POLL_CHUNK      256  /* messages taken from the consumer at a time */
#define IDLE_MS         5    /* a gathered batch waits this long for more before it is processed */
#define BACKLOG_IDLE_MS 1000 /* the same while catching up (the next fetch is on its way) */
#define BACKLOG_WAITS   10   /* a batch waits --batch-wait times this while catching up */
#define GATHER_WAIT_MS  1    /* a poll's wait for messages while a batch's pass runs */
/* A batch processed longer than this is waited for without gathering more (a wedged pass
 * then stops the loop's ticks and the watchdog's pings: WatchdogSec=30s). */
#define GATHER_MAX_MS 10000

/* WATCHDOG=1 at half the unit's WatchdogSec, from every loop that waits or consumes (the
 * main loop, also while a batch waits out an outage, and the start-up's wait for Redis): a
 * wedged loop stops the pings and systemd restarts the daemon; an outage being waited out
 * does not. */
static void keepalive(struct cw_daemon *d)
{
    if (d->watchdog_ms <= 0)
        return;
    int64_t now = (int64_t)(cw_mono_us() / 1000);
    if (now < d->next_watchdog)
        return;
    cw_notify_watchdog();
    d->next_watchdog = now + d->watchdog_ms / 2;
}

/* READY=1 once consuming: the first partition assignment has come (before it, the daemon
 * may still be waiting for Redis or for the group to form). */
static void notify_ready_once(struct cw_daemon *d)
{
    if (d->notified_ready || !cw_consumer_assigned(d->consumer))
        return;
    char status[200];
    snprintf(status, sizeof status, "consuming (group %s)", d->rt.cfg->kafka.group_id);
    cw_notify_ready(status);
    d->notified_ready = true;
}

static void hold(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d->held[d->n_held++] = msgs[i];
}

/* The main loop is alive: publish what /healthz, /readyz and the lag series read. */
static void ops_tick(struct cw_daemon *d)
{
    atomic_store_explicit(&d->stats.loop_tick_ms, (int64_t)(cw_mono_us() / 1000),
                          memory_order_relaxed);
    if (!d->consumer)
        return;
    cw_gauge_set(&d->stats.kafka_assigned, cw_consumer_assigned(d->consumer));
    int64_t wall = cw_wall_ms();
    if (d->lags && (wall >= d->next_lag_ms || wall < d->next_lag_ms - LAG_EVERY_MS)) {
        d->next_lag_ms = wall + LAG_EVERY_MS;
        size_t n = cw_consumer_lag(d->consumer, d->lags, CW_MAX_PARTITIONS);
        cw_metrics_publish_lag(&d->metrics, d->lags, n);
    }
}

/* Wait up to ms, polling the consumer (rebalances are served meanwhile) into the held
 * messages while they have room, sleeping otherwise. */
static void wait_polling(struct cw_daemon *d, int ms)
{
    if (d->consumer && d->n_held < d->cap_held) {
        rd_kafka_message_t *msgs[64];
        size_t room = d->cap_held - d->n_held;
        size_t n = cw_consumer_poll(d->consumer, msgs, room < 64 ? room : 64, ms, &d->fatal);
        hold(d, msgs, n);
    } else {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

bool cw_daemon_backoff(struct cw_daemon *d, int ms)
{
    int64_t until = cw_mono_ms() + ms;
    while (!cw_signals_stop_requested()) {
        keepalive(d);
        ops_tick(d);
        int64_t left = until - cw_mono_ms();
        if (left <= 0)
            return true;
        wait_polling(d, left < POLL_MS ? (int)left : POLL_MS);
    }
    return false;
}

static void log_config_errors(const char *errs)
{
    const char *line = errs;
    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        if (len > 0)
            cw_log_error("config error", "error=\"%.*s\"", len, line);
        if (!nl)
            break;
        line = nl + 1;
    }
}

static void runtime_free(struct cw_runtime *rt)
{
    cw_decoder_free(rt->dec);
    cw_tz_free(rt->tz);
    cw_config_free(rt->cfg);
    memset(rt, 0, sizeof *rt);
}

/* Build a complete runtime from the config file; nothing is kept on failure. */
static int runtime_build(const char *path, struct cw_runtime *rt)
{
    static char errs[16384];
    char err[512];
    memset(rt, 0, sizeof *rt);
    errs[0] = '\0';
    rt->cfg = cw_config_load(path, cw_process_getenv, errs, sizeof errs);
    if (!rt->cfg) {
        log_config_errors(errs);
        return -1;
    }
    rt->tz = cw_tz_open(rt->cfg->timezone, err, sizeof err);
    if (!rt->tz)
        goto fail;
    rt->dec = cw_decoder_new(rt->cfg, err, sizeof err);
    if (!rt->dec)
        goto fail;
    rt->time_policy.longest_window_ms = (int64_t)rt->cfg->longest_window_days * CW_MS_PER_DAY;
    rt->time_policy.lateness_ms = rt->cfg->lateness_ms;
    rt->time_policy.max_clock_skew_ms = rt->cfg->max_clock_skew_ms;
    return 0;
fail:
    cw_log_error("config error", "file=%s error=\"%s\"", path, err);
    runtime_free(rt);
    return -1;
}

void cw_daemon_publish_cache(struct cw_daemon *d)
{
    struct cw_store_cache_stats c;
    cw_store_cache_stats(d->store, &c);
    for (size_t k = 1; k < d->n_lanes; k++) { /* the lanes' accounts held, together */
        struct cw_store_cache_stats l;
        cw_store_cache_stats(d->lanes[k].store, &l);
        c.entries += l.entries;
        c.bytes += l.bytes;
        c.budget += l.budget;
        c.hits += l.hits;
        c.misses += l.misses;
        c.evictions += l.evictions;
        c.conflicts += l.conflicts;
        c.txn_aborts += l.txn_aborts;
    }
    struct cw_stats *s = &d->stats;
    atomic_store_explicit(&s->cache_hits, c.hits, memory_order_relaxed);
    atomic_store_explicit(&s->cache_misses, c.misses, memory_order_relaxed);
    atomic_store_explicit(&s->cache_evictions, c.evictions, memory_order_relaxed);
    atomic_store_explicit(&s->cache_conflicts, c.conflicts, memory_order_relaxed);
    atomic_store_explicit(&s->txn_aborts, c.txn_aborts, memory_order_relaxed);
    atomic_store_explicit(&s->cache_bytes, c.bytes, memory_order_relaxed);
    atomic_store_explicit(&s->cache_accounts, c.entries, memory_order_relaxed);
    atomic_store_explicit(&s->cache_budget, c.budget, memory_order_relaxed);
}

/* redis.cache_mb shared by the lanes' stores. 0, or -1 with err. */
static int set_caches(struct cw_daemon *d, char *err, size_t errsize)
{
    size_t share = (d->rt.cfg->redis.cache_mb << 20) / (d->n_lanes ? d->n_lanes : 1);
    int rc = cw_store_set_cache(d->store, share, err, errsize);
    for (size_t k = 1; k < d->n_lanes && rc == 0; k++)
        rc = cw_store_set_cache(d->lanes[k].store, share, err, errsize);
    return rc;
}

/*
 * The further lanes of a batch's score pass (redis.lanes): a connection and a producer
 * each, opened once Redis answered lane 0's. 0, or -1 after logging why.
 */
static int open_lanes(struct cw_daemon *d)
{
    char err[256];
    d->n_lanes = d->rt.cfg->redis.lanes ? d->rt.cfg->redis.lanes : 1;
    for (size_t k = 1; k < d->n_lanes; k++) {
        struct cw_lane *l = &d->lanes[k];
        if (!(l->store = cw_store_open(&d->rt.cfg->redis, err, sizeof err))) {
            cw_log_error("redis connection of a lane failed", "lane=%zu error=\"%s\"", k, err);
            return -1;
        }
        cw_store_observe(l->store, &d->stats.redis_seconds, &d->stats.redis_ok);
        if (!(l->producer = cw_producer_new(&d->rt.cfg->kafka, d->brokers, err, sizeof err))) {
            cw_log_error("kafka producer of a lane failed", "lane=%zu error=\"%s\"", k, err);
            return -1;
        }
    }
    return 0;
}

/* SIGHUP: build a whole new runtime and swap it in between batches, or keep the old. */
static void reload(struct cw_daemon *d)
{
    struct cw_runtime next;
    if (d->notified_ready)
        cw_notify_reloading();
    if (runtime_build(d->opt.config_path, &next) != 0) {
        cw_stat_add(&d->stats.reloads_error, 1);
        cw_log_error("reload failed, keeping the running config", "file=%s", d->opt.config_path);
        if (d->notified_ready)
            cw_notify_ready("consuming; the last reload failed, the running config is kept");
        return;
    }
    /* The keys read only at start keep their running values (the old runtime takes the
     * file's, freed with it); the difference is logged and published until a restart. */
    char pending[512];
    size_t n_pending = cw_config_keep_start_keys(next.cfg, d->rt.cfg, pending, sizeof pending);
    struct cw_runtime old = d->rt;
    d->rt = next;
    runtime_free(&old);
    cw_sweep_forget_scored(d); /* scored under the old config: the cycle scores them again */
    cw_log_setup(d->rt.cfg->log_level, d->rt.cfg->log_format);
    cw_gauge_set(&d->stats.config_keys_pending_restart, (int)n_pending);
    if (n_pending > 0)
        cw_log_warn("configuration keys changed that take effect at restart", "keys=%s count=%zu",
                    pending, n_pending);
    if (cw_metrics_set_names(&d->metrics, d->rt.cfg) != 0)
        cw_log_msg(CW_LOG_ERROR, "out of memory: metric label names not updated");
    char err[256];
    if (set_caches(d, err, sizeof err) != 0)
        cw_log_error("redis.cache_mb not applied", "error=\"%s\"", err);
    cw_daemon_publish_cache(d);
    cw_stat_add(&d->stats.reloads_ok, 1);
    cw_log_info("config reloaded", "file=%s rules=%zu", d->opt.config_path, d->rt.cfg->n_rules);
    if (d->notified_ready)
        cw_notify_ready("consuming; configuration reloaded");
}

/* The consumer reset a lost position (cw_consumer_on_reset): counted on /metrics. */
static void count_offset_reset(void *opaque, const char *topic, int32_t partition, uint64_t skipped)
{
    cw_metrics_count_reset(opaque, topic, partition, skipped);
}

static int start_embedded_kafka(struct cw_daemon *d)
{
    const struct cw_kafka_config *kc = &d->rt.cfg->kafka;
    const char *topics[64];
    size_t n = 0;
    for (size_t i = 0; i < kc->topics.n && n < 61; i++)
        topics[n++] = kc->topics.items[i];
    topics[n++] = kc->alerts_topic;
    topics[n++] = kc->dlq_topic;
    if (d->rt.cfg->scores.topic)
        topics[n++] = d->rt.cfg->scores.topic;
    char err[256];
    d->mock = cw_mock_kafka_start(1, topics, n, d->opt.embedded_partitions, err, sizeof err);
    if (!d->mock) {
        cw_log_error("embedded kafka failed to start", "error=\"%s\"", err);
        return -1;
    }
    d->brokers = cw_mock_kafka_bootstrap(d->mock);
    printf("embedded kafka bootstrap=%s\n", d->brokers);
    fflush(stdout);
    cw_log_info("embedded kafka started", "bootstrap=%s partitions=%d", d->brokers,
                d->opt.embedded_partitions);
    /* For `churnwatch produce` on this machine; without it the CLI needs --brokers. */
    char path[4096];
    if (cw_embedded_addr_publish(d->brokers, err, sizeof err) != 0)
        cw_log_warn("embedded kafka address not published", "error=\"%s\"", err);
    else if (cw_embedded_addr_path(path, sizeof path) == 0)
        cw_log_info("embedded kafka address published", "file=%s", path);
    return 0;
}

int cw_daemon_init(struct cw_daemon *d)
{
    char err[512];
    if (cw_signals_install() != 0) {
        cw_log_errno(CW_LOG_ERROR, "cannot install signal handlers", "%s", "");
        return -1;
    }
    d->watchdog_ms = cw_notify_watchdog_ms();
    cw_notify_status("loading the configuration");
    if (runtime_build(d->opt.config_path, &d->rt) != 0)
        return -1;
    cw_log_setup(d->rt.cfg->log_level, d->rt.cfg->log_format);
    if (cw_metrics_init(&d->metrics, &d->stats, d->rt.cfg) != 0)
        return -1;
    ops_tick(d);
    if (d->rt.cfg->http_listen[0]) {
        if (!(d->http = cw_http_start(d->rt.cfg->http_listen, &d->metrics, err, sizeof err))) {
            cw_log_error("http endpoint failed", "error=\"%s\"", err);
            return -1;
        }
        cw_log_info("http endpoint listening", "listen=%s", d->rt.cfg->http_listen);
    }
    cw_clock_init(&d->clock, CLOCK_SLACK_MS);
    d->applied_now = -1; /* no batch processed yet */
    d->lags = calloc(CW_MAX_PARTITIONS, sizeof *d->lags);
    d->floors = calloc(CW_MAX_PARTITIONS, sizeof *d->floors);
    d->cap_held = d->opt.batch_max * 2;
    d->held = calloc(d->cap_held, sizeof *d->held);
    if (!d->held || !d->lags || !d->floors)
        return -1;
    if (d->opt.embedded_kafka && start_embedded_kafka(d) != 0)
        return -1;

    int backoff = 200;
    cw_notify_status("connecting to Redis");
    while (!(d->store = cw_store_open(&d->rt.cfg->redis, err, sizeof err))) {
        cw_log_warn("redis unavailable, retrying", "error=\"%s\" retry_ms=%d", err, backoff);
        cw_notify_status("Redis unavailable, retrying every %d ms", backoff);
        if (!cw_daemon_backoff(d, backoff)) {
            cw_log_msg(CW_LOG_INFO, "stop requested while waiting for Redis at start-up");
            return 1;
        }
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    cw_store_observe(d->store, &d->stats.redis_seconds, &d->stats.redis_ok);
    if (!(d->clock_store = cw_store_open(&d->rt.cfg->redis, err, sizeof err))) {
        cw_log_error("redis connection of the clock failed", "error=\"%s\"", err);
        return -1;
    }
    cw_store_observe(d->clock_store, &d->stats.redis_seconds, &d->stats.redis_ok);
    d->producer = cw_producer_new(&d->rt.cfg->kafka, d->brokers, err, sizeof err);
    if (!d->producer) {
        cw_log_error("kafka producer failed", "error=\"%s\"", err);
        return -1;
    }
    if (open_lanes(d) != 0)
        return -1;
    if (set_caches(d, err, sizeof err) != 0) {
        cw_log_error("accounts not held in memory", "error=\"%s\"", err);
        return -1;
    }
    cw_daemon_publish_cache(d);
    d->consumer = cw_consumer_new(&d->rt.cfg->kafka, d->brokers, err, sizeof err);
    if (!d->consumer) {
        cw_log_error("kafka consumer failed", "error=\"%s\"", err);
        return -1;
    }
    cw_consumer_on_reset(d->consumer, count_offset_reset, &d->metrics);
    cw_notify_status("waiting for a Kafka partition assignment (group %s)",
                     d->rt.cfg->kafka.group_id);
    cw_log_info("churnwatchd started", "version=%s config=%s group=%s key_prefix=%s", CW_VERSION,
                d->opt.config_path, d->rt.cfg->kafka.group_id, d->rt.cfg->redis.key_prefix);
    return 0;
}

static void log_status(struct cw_daemon *d)
{
    struct cw_stats *s = &d->stats;
    uint64_t consumed = cw_stat_get(&s->consumed_unknown), rejected = 0, alerts = 0;
    for (size_t i = 0; i < CW_MAX_EVENT_TYPES; i++)
        consumed += cw_stat_get(&s->consumed_by_type[i]);
    for (size_t i = 0; i < CW_REJ__COUNT; i++)
        rejected += cw_stat_get(&s->rejected[i]);
    for (size_t r = 0; r < CW_MAX_RULES; r++)
        for (size_t k = 0; k < 3; k++)
            alerts += cw_stat_get(&s->alerts[r][k]);
    cw_log_info("status",
                "events=%llu rejected=%llu alerts=%llu batches=%llu scored=%llu "
                "cache_conflicts=%llu",
                (unsigned long long)consumed, (unsigned long long)rejected,
                (unsigned long long)alerts, (unsigned long long)cw_stat_get(&s->batches),
                (unsigned long long)cw_stat_get(&s->accounts_scored),
                (unsigned long long)cw_stat_get(&s->cache_conflicts));
    if (d->notified_ready)
        cw_notify_status("consuming: events=%llu rejected=%llu alerts=%llu",
                         (unsigned long long)consumed, (unsigned long long)rejected,
                         (unsigned long long)alerts);
}

/* Why the batch gathered so far is to be processed now, or NULL while it is not: it is
 * full, it spans a change of the clock's day, nothing more came for a moment (idle: the
 * last poll returned nothing), or it is old enough: --batch-wait, or ten times that while
 * catching up (a backlog fills a batch in well under a second; a stream the daemon is
 * behind on fills it at its own rate, and must not hold a batch longer than that). */
static const char *batch_due(struct cw_daemon *d, bool idle, bool backlog)
{
    size_t pending = cw_batch_pending(d);
    if (pending == 0)
        return NULL;
    if (pending >= d->opt.batch_max)
        return "full";
    if (cw_batch_day_crossed(d))
        return "day";
    if (idle)
        return "idle";
    uint64_t wait_us = (uint64_t)d->opt.batch_wait_ms * 1000u * (backlog ? BACKLOG_WAITS : 1);
    if (cw_batch_age_us(d) >= wait_us)
        return backlog ? "wait-backlog" : "wait";
    return NULL;
}

/*
 * One try at processing the batch (why: what ended it; gather: the caller gathers the next
 * batch while its pass runs), and what its verdict asks of the loop: after RUNNING, the
 * next batch gathered and the try resumed (running_why); after RETRY, consumption paused
 * and the next try after a backoff (doubling from BACKOFF_MIN_MS to BACKOFF_MAX_MS); after
 * DONE, consumption resumed if it was paused. false after STOP.
 */
static bool process(struct cw_daemon *d, const char *why, bool gather)
{
    enum cw_verdict v = cw_batch_process(d, why, gather);
    d->running_why = v == CW_VERDICT_RUNNING ? why : NULL;
    switch (v) {
    case CW_VERDICT_RUNNING:
        return true;
    case CW_VERDICT_RETRY:
        if (!d->retry.paused) {
            cw_consumer_pause(d->consumer);
            d->retry.paused = true;
        }
        if (!d->retry.why)
            d->retry.backoff_ms = BACKOFF_MIN_MS;
        d->retry.why = why;
        d->retry.at_ms = cw_mono_ms() + d->retry.backoff_ms;
        d->retry.backoff_ms =
            d->retry.backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d->retry.backoff_ms * 2;
        return true;
    case CW_VERDICT_DONE:
        d->retry.why = NULL;
        if (d->retry.paused) {
            cw_consumer_resume(d->consumer);
            cw_partitions_resumed(d);
            d->retry.paused = false;
        }
        return true;
    default:
        return false;
    }
}

/* Take up to room messages: those held by the polls made between a batch's tries first,
 * then the consumer's, waiting for them up to wait_ms. */
static size_t take_messages(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t room,
                            int wait_ms)
{
    if (d->n_held == 0)
        return cw_consumer_poll(d->consumer, msgs, room, wait_ms, &d->fatal);
    size_t n = d->n_held < room ? d->n_held : room;
    memcpy(msgs, d->held, n * sizeof *msgs);
    memmove(d->held, d->held + n, (d->n_held - n) * sizeof *msgs);
    d->n_held -= n;
    return n;
}

/*
 * While a batch's pass runs in its lanes: a chunk of messages (those held first) decoded
 * into the next batch, waiting GATHER_WAIT_MS at most for them (*idle: none came). false
 * when no more is to be gathered: a stop or a reload asked for (a reload waits for the
 * batches gathered so far, and what follows them is decoded under the new config), the
 * next batch full or past a day, the batch processed for GATHER_MAX_MS already (the loop
 * then waits for its pass), a fatal error, or out of memory (gather_failed: the daemon
 * stops). Otherwise the next batch takes what arrives during the whole pass, as the queue
 * would have held it for the poll after the pass: its age does not end it.
 */
static bool gather_next(struct cw_daemon *d, rd_kafka_message_t **msgs, bool *idle)
{
    *idle = false;
    if (cw_signals_take_reload())
        d->reload_wanted = true;
    if (cw_signals_stop_requested() || d->fatal || d->reload_wanted || !d->consumer)
        return false;
    size_t room = cw_batch_next_room(d);
    if (room == 0 || cw_batch_processing_us(d) > GATHER_MAX_MS * 1000u)
        return false;
    size_t n = take_messages(d, msgs, room < POLL_CHUNK ? room : POLL_CHUNK, GATHER_WAIT_MS);
    if (n == 0) {
        *idle = true;
        return !d->fatal;
    }
    if (!cw_batch_next_pending(d))
        cw_log_debug("next batch begun during a pass", "messages=%zu", n);
    int rc = cw_batch_add_next(d, msgs, n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_message_destroy(msgs[i]);
    if (rc != 0)
        d->gather_failed = true;
    return rc == 0 && !d->fatal;
}

/* Between batches: the alignment pauses; the sweep when no batch is being gathered or one
 * was just processed (its clock: cw_partitions_now_applied); the fetch watchdog when
 * idle. */
static void between_batches(struct cw_daemon *d, bool idle_poll, bool processed)
{
    cw_partitions_align(d, idle_poll);
    if (processed || cw_batch_pending(d) == 0)
        cw_sweep_tick(d);
    if (idle_poll && cw_batch_pending(d) == 0 && d->n_held == 0)
        cw_partitions_watch_fetch(d);
}

/*
 * The main loop, one way: it owns time, polling and backoff. Each turn either gathers the
 * next batch while a batch's pass runs in its lanes and looks in on the pass, or waits for
 * a batch's next try (polling, so rebalances are served) or tries it, or else reloads when
 * asked between batches, gathers messages, and processes the batch when it is due. The
 * batch's steps never wait or retry themselves: a try returns its verdict.
 */
int cw_daemon_run(struct cw_daemon *d)
{
    rd_kafka_message_t **msgs = calloc(POLL_CHUNK, sizeof *msgs);
    if (!msgs)
        return -1;
    int64_t next_status = cw_wall_ms() + STATUS_EVERY_MS;
    int rc = 0;
    while (!cw_signals_stop_requested() && !d->fatal) {
        keepalive(d);
        ops_tick(d);
        if (cw_wall_ms() >= next_status) {
            log_status(d);
            next_status = cw_wall_ms() + STATUS_EVERY_MS;
        }
        if (d->running_why) { /* a batch's pass in its lanes: gather the next meanwhile */
            bool idle, more = gather_next(d, msgs, &idle);
            /* partitions ahead in event time pause as the next batch's events move the
             * clock, as while gathering after the pass (a day per batch in a backfill) */
            cw_partitions_align(d, idle);
            if (!process(d, d->running_why, more) || d->gather_failed) {
                rc = -1;
                break;
            }
            if (!d->running_why && !d->retry.why)
                between_batches(d, false, true);
            continue;
        }
        if (d->retry.why) { /* a batch between tries: nothing else happens meanwhile */
            int64_t left = d->retry.at_ms - cw_mono_ms();
            if (left > 0) {
                wait_polling(d, left < POLL_MS ? (int)left : POLL_MS);
            } else if (!process(d, d->retry.why, true)) {
                rc = -1;
                break;
            }
            continue;
        }
        if (cw_signals_take_reload())
            d->reload_wanted = true;
        if (d->reload_wanted) {
            /* A batch is processed entirely under the config it was decoded with. */
            if (cw_batch_pending(d) > 0) {
                if (!process(d, "reload", true)) {
                    rc = -1;
                    break;
                }
                continue;
            }
            reload(d);
            d->reload_wanted = false;
        }
        size_t pending = cw_batch_pending(d);
        bool backlog = pending > 0 && cw_partitions_measure_backlog(d);
        /* a batch gathered during the last one's pass may be due already: full, or past a
         * day (then nothing is polled into it; the loop processes it first) */
        size_t room = d->opt.batch_max > pending ? d->opt.batch_max - pending : 0;
        if (room > POLL_CHUNK)
            room = POLL_CHUNK;
        if (cw_batch_day_crossed(d))
            room = 0;
        size_t n = room == 0 ? 0
                             : take_messages(d, msgs, room,
                                             pending == 0 ? POLL_MS
                                             : backlog    ? BACKLOG_IDLE_MS
                                                          : IDLE_MS);
        notify_ready_once(d);
        if (n > 0) {
            int arc = cw_batch_add(d, msgs, n);
            for (size_t i = 0; i < n; i++)
                rd_kafka_message_destroy(msgs[i]);
            if (arc != 0) {
                rc = -1;
                break;
            }
        }
        bool idle = n == 0 && room > 0; /* the poll found nothing */
        const char *why = batch_due(d, idle, backlog);
        if (why && !process(d, why, true)) {
            rc = -1;
            break;
        }
        if (d->retry.why || d->running_why)
            continue;
        between_batches(d, idle, why != NULL);
    }
    /* A pass running in its lanes is waited for, whatever ended the loop. SIGTERM finishes
     * the batch in flight with one more try (bounded: a step that fails is not retried once
     * a stop is requested), then the one gathered during its pass; a batch not finished is
     * replayed after a restart, its offsets not stored. */
    bool finish = !d->fatal && rc == 0;
    if (d->running_why || finish) {
        const char *why = d->running_why ? d->running_why : d->retry.why ? d->retry.why : "stop";
        if (cw_batch_process(d, why, false) == CW_VERDICT_DONE && finish)
            cw_batch_process(d, "stop", false);
        d->running_why = NULL;
    }
    if (d->fatal) {
        cw_log_msg(CW_LOG_ERROR, "fatal kafka error, stopping");
        rc = -1;
    }
    free(msgs);
    return rc;
}

void cw_daemon_shutdown(struct cw_daemon *d)
{
    cw_notify_stopping();
    d->notified_ready = false; /* no more STATUS= lines */
    cw_log_msg(CW_LOG_INFO, "shutting down");
    cw_http_stop(d->http);
    d->http = NULL;
    for (size_t i = 0; i < d->n_held; i++)
        rd_kafka_message_destroy(d->held[i]);
    d->n_held = 0;
    free(d->held);
    free(d->lags);
    free(d->floors);
    cw_clock_free(&d->clock);
    cw_consumer_close(d->consumer, d->opt.shutdown_timeout_ms);
    cw_producer_close(d->producer, d->opt.shutdown_timeout_ms);
    cw_store_close(d->store);
    cw_store_close(d->clock_store);
    for (size_t k = 1; k < CW_REDIS_LANES_MAX; k++) {
        cw_producer_close(d->lanes[k].producer, d->opt.shutdown_timeout_ms);
        cw_store_close(d->lanes[k].store);
    }
    if (d->mock)
        cw_embedded_addr_withdraw();
    cw_mock_kafka_stop(d->mock);
    cw_score_pass_cleanup(d);
    cw_sweep_cleanup(d);
    cw_batch_cleanup(d);
    log_status(d);
    runtime_free(&d->rt);
    cw_metrics_free(&d->metrics);
    cw_log_msg(CW_LOG_INFO, "stopped");
}
