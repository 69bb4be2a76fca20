/* batch.c - one consumed batch: decode, reject to the DLQ, apply, rescore, store offsets */
#include "batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Buffers reused across batches, grown to the largest batch seen. */
struct batch_buffers {
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

static struct batch_buffers bufs;

void cw_batch_cleanup(void)
{
    free(bufs.events);
    free(bufs.decoded);
    free(bufs.store_events);
    free(bufs.group_of);
    free(bufs.map);
    free(bufs.groups);
    free(bufs.ids);
    memset(&bufs, 0, sizeof bufs);
}

static int buffers_reserve(size_t n)
{
    if (n <= bufs.cap)
        return 0;
    cw_batch_cleanup();
    size_t map_cap = 16;
    while (map_cap < 2 * n)
        map_cap <<= 1;
    bufs.events = calloc(n, sizeof *bufs.events);
    bufs.decoded = calloc(n, sizeof *bufs.decoded);
    bufs.store_events = calloc(n, sizeof *bufs.store_events);
    bufs.group_of = calloc(n, sizeof *bufs.group_of);
    bufs.map = calloc(map_cap, sizeof *bufs.map);
    bufs.groups = calloc(n, sizeof *bufs.groups);
    bufs.ids = calloc(n, sizeof *bufs.ids);
    if (!bufs.events || !bufs.decoded || !bufs.store_events || !bufs.group_of || !bufs.map ||
        !bufs.groups || !bufs.ids) {
        cw_batch_cleanup();
        return -1;
    }
    bufs.cap = n;
    bufs.map_cap = map_cap;
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
static int group_for(const char *account_id, size_t *n_groups)
{
    size_t mask = bufs.map_cap - 1;
    for (size_t i = hash_str(account_id) & mask;; i = (i + 1) & mask) {
        int g = bufs.map[i] - 1;
        if (g < 0) {
            g = (int)(*n_groups)++;
            bufs.map[i] = g + 1;
            bufs.groups[g] =
                (struct cw_store_batch){.account_id = account_id, .clock_day = CW_DAY_NONE};
            return g;
        }
        if (strcmp(bufs.groups[g].account_id, account_id) == 0)
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
    if (paused && rc == 0)
        cw_consumer_resume(d->consumer);
    return rc;
}

struct batch_step {
    rd_kafka_message_t **msgs;
    size_t n;
    size_t n_groups;
};

static int step_dlq(struct cw_daemon *d, void *arg)
{
    struct batch_step *b = arg;
    const struct cw_config *cfg = d->rt.cfg;
    char err[256];
    size_t sent = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct decoded *dc = &bufs.decoded[i];
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
    struct batch_step *b = arg;
    char err[256];
    int64_t now = cw_daemon_now(d);
    int32_t clock_day = now >= 0 ? cw_tz_day(d->rt.tz, now) : CW_DAY_NONE;
    for (size_t g = 0; g < b->n_groups; g++)
        bufs.groups[g].clock_day = clock_day;
    if (cw_store_apply(d->store, d->rt.cfg, bufs.groups, b->n_groups, err, sizeof err) == 0)
        return 0;
    cw_stat_add(&d->stats.redis_errors, 1);
    cw_log_warn("applying events to Redis failed, will retry", "accounts=%zu error=\"%s\"",
                b->n_groups, err);
    return -1;
}

static int step_score(struct cw_daemon *d, void *arg)
{
    struct batch_step *b = arg;
    int64_t now = cw_daemon_now(d);
    if (now < 0)
        return 0; /* the clock is unknown (a backlog not seen yet): the accounts are
                     scored when next touched, or by the sweep */
    return cw_score_pass(d, bufs.ids, b->n_groups, now);
}

/* Decode every message and judge its time; count what is rejected. */
static void decode_all(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    struct cw_runtime *rt = &d->rt;
    int64_t wall = cw_wall_ms();
    int64_t newest = -1; /* the batch's newest accepted event time */

    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i];
        struct decoded *dc = &bufs.decoded[i];
        rd_kafka_timestamp_type_t tstype;
        int64_t msg_ts = rd_kafka_message_timestamp(m, &tstype);
        if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
            msg_ts = -1;
        dc->reason[0] = '\0';
        dc->code = cw_decode(rt->dec, m->payload, m->len, msg_ts, &bufs.events[i], dc->reason,
                             sizeof dc->reason);
        /* Future timestamps never advance the clock. */
        if (dc->code == CW_OK && bufs.events[i].ts_ms <= wall + rt->time_policy.max_clock_skew_ms) {
            cw_clock_observe(&d->clock, rd_kafka_topic_name(m->rkt), m->partition,
                             bufs.events[i].ts_ms);
            if (bufs.events[i].ts_ms > newest)
                newest = bufs.events[i].ts_ms;
        }
    }

    /* Lateness is judged against the clock; while it is still unknown (a backlog not seen
     * yet), against the batch's newest event. */
    int64_t now = cw_daemon_now(d);
    if (now < 0)
        now = newest;
    for (size_t i = 0; i < n; i++) {
        struct decoded *dc = &bufs.decoded[i];
        if (dc->code == CW_OK)
            dc->code = cw_time_check(&rt->time_policy, bufs.events[i].ts_ms,
                                     now >= 0 ? now : bufs.events[i].ts_ms, wall, dc->reason,
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
    size_t n_groups = 0;
    memset(bufs.map, 0, bufs.map_cap * sizeof *bufs.map);
    for (size_t i = 0; i < n; i++) {
        bufs.group_of[i] = -1;
        if (bufs.decoded[i].code != CW_OK)
            continue;
        if (bufs.events[i].type_index < 0) {
            cw_stat_add(&d->stats.consumed_unknown, 1);
            continue;
        }
        int g = group_for(bufs.events[i].account_id, &n_groups);
        bufs.group_of[i] = g;
        bufs.groups[g].n++;
    }
    /* Lay each group's events out contiguously (counting sort, stable). */
    size_t start = 0;
    for (size_t g = 0; g < n_groups; g++) {
        bufs.groups[g].events = bufs.store_events + start;
        start += bufs.groups[g].n;
        bufs.groups[g].n = 0;
        bufs.ids[g] = bufs.groups[g].account_id;
    }
    for (size_t i = 0; i < n; i++) {
        int g = bufs.group_of[i];
        if (g < 0)
            continue;
        struct cw_store_batch *grp = &bufs.groups[g];
        struct cw_store_event *se = (struct cw_store_event *)&grp->events[grp->n++];
        se->ev = &bufs.events[i];
        se->day = cw_tz_day(d->rt.tz, bufs.events[i].ts_ms);
        se->topic = rd_kafka_topic_name(msgs[i]->rkt);
        se->partition = msgs[i]->partition;
        se->offset = msgs[i]->offset;
    }
    return n_groups;
}

int cw_batch_process(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    if (buffers_reserve(n) != 0) {
        cw_log_error("out of memory", "what=batch buffers messages=%zu", n);
        return -1;
    }
    decode_all(d, msgs, n);
    struct batch_step b = {.msgs = msgs, .n = n};
    b.n_groups = group_all(d, msgs, n);

    if (retry(d, step_dlq, &b) != 0 || retry(d, step_apply, &b) != 0 ||
        retry(d, step_score, &b) != 0)
        return -1;

    /* Everything this batch caused is durable: its offsets may be committed. */
    cw_consumer_store(d->consumer, msgs, n);
    for (size_t g = 0; g < b.n_groups; g++)
        cw_stat_add(&d->stats.replays_skipped, bufs.groups[g].n - bufs.groups[g].applied);
    for (size_t i = 0; i < n; i++)
        if (bufs.group_of[i] >= 0)
            cw_stat_add(&d->stats.consumed_by_type[bufs.events[i].type_index], 1);
    cw_stat_add(&d->stats.batches, 1);
    cw_stat_add(&d->stats.messages, n);
    cw_log_debug("batch processed", "messages=%zu accounts=%zu messages_total=%llu clock=%lld", n,
                 b.n_groups, (unsigned long long)cw_stat_get(&d->stats.messages),
                 (long long)cw_daemon_now(d));
    return 0;
}
