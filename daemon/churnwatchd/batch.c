/* batch.c - one consumed batch: decode, reject to the DLQ, apply, rescore, store offsets */
#include "batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_point.h"
#include "log.h"
#include "score_pass.h"

#define DLQ_WAIT_MS    30000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* Per-message outcome of decoding. */
struct decoded {
    enum cw_reject code;
    char reason[200];
};

/* Buffers reused across batches, grown to the largest batch seen (owned by the daemon). */
struct cw_batch_buffers {
    size_t cap;
    struct cw_event *events;
    struct decoded *decoded;
    struct cw_store_event *store_events;
    int *group_of;  /* per message: account group, -1 when not applied */
    size_t map_cap; /* open-addressing map account -> group, power of two */
    int *map;
    struct cw_store_batch *groups;
    const char **ids;
};

static void buffers_free(struct cw_batch_buffers *bb)
{
    free(bb->events);
    free(bb->decoded);
    free(bb->store_events);
    free(bb->group_of);
    free(bb->map);
    free(bb->groups);
    free(bb->ids);
    memset(bb, 0, sizeof *bb);
}

static int buffers_reserve(struct cw_batch_buffers *bb, size_t n)
{
    if (n <= bb->cap)
        return 0;
    buffers_free(bb);
    size_t map_cap = 16;
    while (map_cap < 2 * n)
        map_cap <<= 1;
    bb->events = calloc(n, sizeof *bb->events);
    bb->decoded = calloc(n, sizeof *bb->decoded);
    bb->store_events = calloc(n, sizeof *bb->store_events);
    bb->group_of = calloc(n, sizeof *bb->group_of);
    bb->map = calloc(map_cap, sizeof *bb->map);
    bb->groups = calloc(n, sizeof *bb->groups);
    bb->ids = calloc(n, sizeof *bb->ids);
    if (!bb->events || !bb->decoded || !bb->store_events || !bb->group_of || !bb->map ||
        !bb->groups || !bb->ids) {
        buffers_free(bb);
        return -1;
    }
    bb->cap = n;
    bb->map_cap = map_cap;
    return 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The group of account_id, created when new. Groups are numbered in order of first use. */
static int group_for(struct cw_batch_buffers *bb, const char *account_id, size_t *n_groups)
{
    size_t mask = bb->map_cap - 1;
    for (size_t i = hash_str(account_id) & mask;; i = (i + 1) & mask) {
        int g = bb->map[i] - 1;
        if (g < 0) {
            g = (int)(*n_groups)++;
            bb->map[i] = g + 1;
            bb->groups[g] =
                (struct cw_store_batch){.account_id = account_id, .clock_day = CW_DAY_NONE};
            return g;
        }
        if (strcmp(bb->groups[g].account_id, account_id) == 0)
            return g;
    }
}

/* Run step until it succeeds, pausing consumption and backing off between tries. */
static int retry(struct cw_daemon *d, int (*step)(struct cw_daemon *, void *), void *arg)
{
    int backoff = BACKOFF_MIN_MS;
    bool paused = false;
    int rc;
    while ((rc = step(d, arg)) != 0) {
        if (!paused) {
            cw_consumer_pause(d->consumer);
            paused = true;
        }
        if (!cw_daemon_backoff(d, backoff))
            break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    if (paused && rc == 0) {
        cw_consumer_resume(d->consumer);
        /* Resuming resumed every partition, those held back for event-time alignment
         * too: let the alignment judge them afresh. */
        for (size_t i = 0; i < d->clock.n_parts; i++)
            d->clock.parts[i].ahead = false;
    }
    return rc;
}

struct batch_step {
    rd_kafka_message_t **msgs;
    size_t n;
    size_t n_groups;
};

static int step_dlq(struct cw_daemon *d, void *arg)
{
    struct cw_batch_buffers *bb = d->batch;
    struct batch_step *b = arg;
    const struct cw_config *cfg = d->rt.cfg;
    char err[256];
    size_t sent = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct decoded *dc = &bb->decoded[i];
        if (dc->code == CW_OK)
            continue;
        const rd_kafka_message_t *m = b->msgs[i];
        char source[320];
        snprintf(source, sizeof source, "%s/%" PRId32 "/%" PRId64, rd_kafka_topic_name(m->rkt),
                 m->partition, m->offset);
        struct cw_header headers[] = {
            {"churnwatch-error", cw_reject_name(dc->code)},
            {"churnwatch-reason", dc->reason},
            {"churnwatch-source", source},
        };
        if (cw_producer_send(d->producer, cfg->kafka.dlq_topic, m->key, m->key_len, m->payload,
                             m->len, headers, 3, err, sizeof err) != 0)
            goto fail;
        sent++;
    }
    if (sent == 0)
        return 0;
    int rc = cw_producer_wait(d->producer, DLQ_WAIT_MS, err, sizeof err);
    if (rc == 0)
        return 0;
    if (rc > 0)
        snprintf(err, sizeof err, "not acknowledged within %d ms", DLQ_WAIT_MS);
fail:
    cw_stat_add(&d->stats.kafka_errors, 1);
    cw_log_warn("DLQ publication failed, will retry", "topic=%s error=\"%s\"", cfg->kafka.dlq_topic,
                err);
    return -1;
}

static int step_apply(struct cw_daemon *d, void *arg)
{
    struct cw_batch_buffers *bb = d->batch;
    struct batch_step *b = arg;
    char err[256];
    int64_t now = cw_daemon_now(d);
    int32_t clock_day = now >= 0 ? cw_tz_day(d->rt.tz, now) : CW_DAY_NONE;
    for (size_t g = 0; g < b->n_groups; g++)
        bb->groups[g].clock_day = clock_day;
    if (cw_store_apply(d->store, d->rt.cfg, bb->groups, b->n_groups, err, sizeof err) == 0)
        return 0;
    cw_stat_add(&d->stats.redis_errors, 1);
    cw_log_warn("applying events to Redis failed, will retry", "accounts=%zu error=\"%s\"",
                b->n_groups, err);
    return -1;
}

static int step_score(struct cw_daemon *d, void *arg)
{
    struct cw_batch_buffers *bb = d->batch;
    struct batch_step *b = arg;
    int64_t now = cw_daemon_now(d);
    if (now < 0)
        return 0; /* the clock is unknown (a backlog not seen yet): the accounts are
                     scored when next touched, or by the sweep */
    return cw_score_pass(d, bb->ids, b->n_groups, now);
}

/* Decode every message and judge its time; count what is rejected. */
static void decode_all(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    struct cw_batch_buffers *bb = d->batch;
    struct cw_runtime *rt = &d->rt;
    int64_t wall = cw_wall_ms();
    int64_t newest = -1; /* the batch's newest accepted event time */

    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i];
        struct decoded *dc = &bb->decoded[i];
        rd_kafka_timestamp_type_t tstype;
        int64_t msg_ts = rd_kafka_message_timestamp(m, &tstype);
        if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
            msg_ts = -1;
        dc->reason[0] = '\0';
        dc->code = cw_decode(rt->dec, m->payload, m->len, msg_ts, &bb->events[i], dc->reason,
                             sizeof dc->reason);
        /* Future timestamps never advance the clock. */
        if (dc->code == CW_OK && bb->events[i].ts_ms <= wall + rt->time_policy.max_clock_skew_ms) {
            cw_clock_observe(&d->clock, rd_kafka_topic_name(m->rkt), m->partition,
                             bb->events[i].ts_ms);
            if (bb->events[i].ts_ms > newest)
                newest = bb->events[i].ts_ms;
        }
    }

    /* Lateness is judged against the clock; while it is still unknown (a backlog not seen
     * yet), against the batch's newest event. */
    int64_t now = cw_daemon_now(d);
    if (now < 0)
        now = newest;
    for (size_t i = 0; i < n; i++) {
        struct decoded *dc = &bb->decoded[i];
        if (dc->code == CW_OK)
            dc->code = cw_time_check(&rt->time_policy, bb->events[i].ts_ms,
                                     now >= 0 ? now : bb->events[i].ts_ms, wall, dc->reason,
                                     sizeof dc->reason);
        if (dc->code != CW_OK) {
            cw_stat_add(&d->stats.rejected[dc->code], 1);
            cw_log_debug("event rejected",
                         "code=%s source=%s/%" PRId32 "/%" PRId64 " reason=\"%s\"",
                         cw_reject_name(dc->code), rd_kafka_topic_name(msgs[i]->rkt),
                         msgs[i]->partition, msgs[i]->offset, dc->reason);
        }
    }
}

/* Group the accepted events of known types by account, in consumption order. */
static size_t group_all(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    struct cw_batch_buffers *bb = d->batch;
    size_t n_groups = 0;
    memset(bb->map, 0, bb->map_cap * sizeof *bb->map);
    for (size_t i = 0; i < n; i++) {
        bb->group_of[i] = -1;
        if (bb->decoded[i].code != CW_OK)
            continue;
        if (bb->events[i].type_index < 0) {
            cw_stat_add(&d->stats.consumed_unknown, 1);
            continue;
        }
        int g = group_for(bb, bb->events[i].account_id, &n_groups);
        bb->group_of[i] = g;
        bb->groups[g].n++;
    }
    /* Lay each group's events out contiguously (counting sort, stable). */
    size_t start = 0;
    for (size_t g = 0; g < n_groups; g++) {
        bb->groups[g].events = bb->store_events + start;
        start += bb->groups[g].n;
        bb->groups[g].n = 0;
        bb->ids[g] = bb->groups[g].account_id;
    }
    for (size_t i = 0; i < n; i++) {
        int g = bb->group_of[i];
        if (g < 0)
            continue;
        struct cw_store_batch *grp = &bb->groups[g];
        struct cw_store_event *se = (struct cw_store_event *)&grp->events[grp->n++];
        se->ev = &bb->events[i];
        se->day = cw_tz_day(d->rt.tz, bb->events[i].ts_ms);
        se->topic = rd_kafka_topic_name(msgs[i]->rkt);
        se->partition = msgs[i]->partition;
        se->offset = msgs[i]->offset;
    }
    return n_groups;
}

int cw_batch_process(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    struct cw_batch_buffers *bb = d->batch;
    if (!bb && !(bb = d->batch = calloc(1, sizeof *bb))) {
        cw_log_error("out of memory", "what=batch buffers messages=%zu", n);
        return -1;
    }
    if (buffers_reserve(bb, n) != 0) {
        cw_log_error("out of memory", "what=batch buffers messages=%zu", n);
        return -1;
    }
    uint64_t start_us = cw_mono_us();
    decode_all(d, msgs, n);
    struct batch_step b = {.msgs = msgs, .n = n};
    b.n_groups = group_all(d, msgs, n);

    if (retry(d, step_dlq, &b) != 0 || retry(d, step_apply, &b) != 0)
        return -1;
    cw_crash_point("after-redis-write");
    if (retry(d, step_score, &b) != 0)
        return -1;

    /* Everything this batch caused is durable: its offsets may be committed. */
    cw_consumer_store(d->consumer, msgs, n);
    for (size_t g = 0; g < b.n_groups; g++)
        cw_stat_add(&d->stats.replays_skipped, bb->groups[g].n - bb->groups[g].applied);
    for (size_t i = 0; i < n; i++)
        if (bb->group_of[i] >= 0)
            cw_stat_add(&d->stats.consumed_by_type[bb->events[i].type_index], 1);
    cw_stat_add(&d->stats.batches, 1);
    cw_stat_add(&d->stats.messages, n);
    cw_hist_observe(&d->stats.batch_seconds, cw_mono_us() - start_us);
    cw_log_debug("batch processed", "messages=%zu accounts=%zu messages_total=%llu clock=%lld", n,
                 b.n_groups, (unsigned long long)cw_stat_get(&d->stats.messages),
                 (long long)cw_daemon_now(d));
    return 0;
}

void cw_batch_cleanup(struct cw_daemon *d)
{
    if (!d->batch)
        return;
    buffers_free(d->batch);
    free(d->batch);
    d->batch = NULL;
}
