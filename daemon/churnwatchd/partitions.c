/* partitions.c - the assigned partitions: their event-time clock and floors, backlog,
 * alignment pauses and fetch watchdog, kept in step with the consumer and Redis */
#include "partitions.h"

#include <inttypes.h>
#include <string.h>

#include "batch.h"
#include "log.h"

#define ALIGN_MS (24 * 3600 * 1000LL) /* how far a partition may run ahead in event time */
/* The backlog is measured at most this often (the lag of every assigned partition: with 64
 * of them, measuring it every poll of 256 messages took 2% of the loop's CPU). */
#define BACKLOG_EVERY_US 20000
#define FETCH_WATCH_MS   1000  /* while idle, the fetch watchdog checks one partition this often */
#define FETCH_STALL_MS   10000 /* a partition whose log grew unfetched this long is restarted */
#define FETCH_QUERY_MS   500   /* the watchdog's query of a log end waits at most this long */

/*
 * Give the clock the stored event-time floors of the partitions it has not had them for
 * (newly assigned: at start, after a rebalance). When Redis cannot answer, the clock goes
 * on without them, as it would for a partition never written: it then starts from the
 * replayed events' time, which only makes a backfill's judgements differ (never the state).
 */
static void clock_floor(struct cw_daemon *d)
{
    size_t n = 0;
    for (size_t k = 0; k < d->clock.n_parts && n < CW_MAX_PARTITIONS; k++)
        if (!d->clock.parts[k].floored)
            d->floors[n++] =
                (struct cw_store_floor){d->clock.parts[k].topic, d->clock.parts[k].partition, -1};
    if (n == 0)
        return;
    char err[256];
    if (cw_store_floors_load(d->clock_store, d->floors, n, err, sizeof err) != 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("event-time floors not loaded", "partitions=%zu error=\"%s\"", n, err);
        for (size_t i = 0; i < n; i++)
            d->floors[i].ms = -1;
    }
    size_t known = 0;
    int64_t lowest = -1;
    for (size_t i = 0; i < n; i++) {
        const struct cw_store_floor *f = &d->floors[i];
        if (cw_clock_floor(&d->clock, f->topic, f->partition, f->ms) != 0)
            cw_log_error("out of memory", "what=clock partition=%s/%" PRId32, f->topic,
                         f->partition);
        if (f->ms >= 0) {
            known++;
            if (lowest < 0 || f->ms < lowest)
                lowest = f->ms;
        }
    }
    cw_log_info("event-time floors loaded", "partitions=%zu stored=%zu lowest=%lld", n, known,
                (long long)lowest);
}

/* Tell the clock which assigned partitions have a backlog and where each resumes; forget
 * revoked ones. */
static void clock_sync(struct cw_daemon *d)
{
    if (!d->consumer || !d->lags)
        return;
    size_t n = cw_consumer_lag(d->consumer, d->lags, CW_MAX_PARTITIONS);
    for (size_t i = 0; i < n; i++)
        cw_clock_set_idle(&d->clock, d->lags[i].topic, d->lags[i].partition, d->lags[i].lag == 0);
    for (size_t k = d->clock.n_parts; k-- > 0;) {
        const struct cw_clock_part *p = &d->clock.parts[k];
        bool assigned = false;
        for (size_t i = 0; i < n && !assigned; i++)
            assigned =
                d->lags[i].partition == p->partition && strcmp(d->lags[i].topic, p->topic) == 0;
        if (!assigned)
            cw_clock_forget(&d->clock, p->topic, p->partition);
    }
    clock_floor(d);
}

int64_t cw_partitions_sync(struct cw_daemon *d)
{
    clock_sync(d);
    bool caught_up = d->consumer && cw_consumer_caught_up(d->consumer);
    bool was_live = d->clock.live;
    int64_t now = cw_clock_now(&d->clock, cw_wall_ms(), caught_up);
    if (d->clock.live != was_live)
        cw_log_info(d->clock.live ? "clock live" : "clock behind", "clock=%lld", (long long)now);
    return now;
}

void cw_partitions_watch_fetch(struct cw_daemon *d)
{
    int64_t now = cw_mono_ms();
    if (!d->consumer || now < d->next_fetch_watch)
        return;
    d->next_fetch_watch = now + FETCH_WATCH_MS;
    if (cw_consumer_watch_fetch(d->consumer, now, FETCH_STALL_MS, FETCH_QUERY_MS))
        cw_stat_add(&d->stats.fetch_restarts, 1);
}

void cw_partitions_align(struct cw_daemon *d, bool idle_poll)
{
    bool release = idle_poll || d->clock.live;
    for (size_t i = 0; i < d->clock.n_parts; i++) {
        struct cw_clock_part *p = &d->clock.parts[i];
        bool ahead = !release && cw_clock_ahead(&d->clock, p, ALIGN_MS);
        if (ahead == p->ahead)
            continue;
        p->ahead = ahead;
        cw_log_debug(ahead ? "partition paused, ahead in event time" : "partition resumed",
                     "topic=%s partition=%" PRId32, p->topic, p->partition);
        cw_consumer_pause_partition(d->consumer, p->topic, p->partition, ahead);
    }
}

bool cw_partitions_measure_backlog(struct cw_daemon *d)
{
    if (!d->consumer || !d->lags)
        return false;
    uint64_t now = cw_mono_us();
    if (d->backlog_at_us && now - d->backlog_at_us < BACKLOG_EVERY_US)
        return d->backlog;
    d->backlog_at_us = now;
    size_t n = cw_consumer_lag(d->consumer, d->lags, CW_MAX_PARTITIONS);
    int64_t lag = 0;
    for (size_t i = 0; i < n; i++)
        lag += d->lags[i].lag > 0 ? d->lags[i].lag : 0;
    d->backlog = lag >= (int64_t)(d->opt.batch_max / 10 + 1);
    return d->backlog;
}

int64_t cw_partitions_watermark(const struct cw_daemon *d, const char *topic, int32_t partition)
{
    const struct cw_clock_part *p = cw_clock_part_find(&d->clock, topic, partition);
    return p ? p->watermark_ms : -1;
}

int cw_partitions_save_floors(struct cw_daemon *d, const rd_kafka_topic_partition_list_t *parts,
                              const int64_t *ms)
{
    size_t n = 0;
    int64_t newest = -1;
    for (int i = 0; i < parts->cnt && n < CW_MAX_PARTITIONS; i++) {
        if (ms[i] < 0)
            continue;
        d->floors[n++] =
            (struct cw_store_floor){parts->elems[i].topic, parts->elems[i].partition, ms[i]};
        if (ms[i] > newest)
            newest = ms[i];
    }
    char err[256];
    if (cw_store_floors_save(d->clock_store, d->floors, n, err, sizeof err) == 0) {
        cw_log_debug("event-time floors saved", "partitions=%zu newest=%lld", n, (long long)newest);
        return 0;
    }
    cw_stat_add(&d->stats.redis_errors, 1);
    cw_log_warn("event-time floors not saved, will retry", "error=\"%s\"", err);
    return -1;
}

int64_t cw_partitions_now_applied(struct cw_daemon *d)
{
    return cw_batch_pending(d) > 0 ? d->applied_now : cw_partitions_sync(d);
}

void cw_partitions_resumed(struct cw_daemon *d)
{
    for (size_t i = 0; i < d->clock.n_parts; i++)
        d->clock.parts[i].ahead = false;
}
