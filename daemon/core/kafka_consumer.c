/* kafka_consumer.c - the event consumer: group membership, rebalances, offsets, pause, lag */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"
#include "kafka_conf.h"
#include "kafka_destroy.h"
#include "log.h"
#include "wall_clock.h"

/* Time granted to destroying the handle once the close is over or timed out. */
#define DESTROY_MIN_MS 2000
/* Bound on asking the partition leader for a partition's log start and end after a reset. */
#define WATERMARKS_MS 5000
/* Bound on asking the group coordinator for newly assigned partitions' committed offsets. */
#define COMMITTED_MS 10000
/* One assigned partition as the consumer tracks it. */
struct cw_part {
    char topic[256];
    int32_t partition;
    bool eof;           /* reached the end since the last message returned from it */
    bool paused;        /* paused alone (cw_consumer_pause_partition) and not resumed since */
    int64_t rewind;     /* first offset that arrived (and was held back) while paused, or -1 */
    int64_t start;      /* explicit start given at assignment or after a reset (maybe logical),
                           RD_KAFKA_OFFSET_INVALID when it starts at its committed offset */
    int64_t next;       /* offset after the last message returned, or the end offset its last
                           EOF reported; -1 before either */
    int64_t behind_pos; /* fetch watchdog: the position at which the log was first seen
                           longer than it (nothing delivered since), or -1 */
    int64_t behind_ms;  /* when that was first seen (caller's clock) */
    bool fresh;         /* started at the log's beginning without a committed offset, nothing
                           seen since: its first offset tells whether messages were deleted
                           before this group read any (note_first) */
};

struct cw_consumer {
    struct cw_kafka_client client; /* first: the handle's opaque (cw_kafka_new) */
    rd_kafka_t *rk;
    bool paused;
    bool fatal;            /* a fatal error was raised (error_cb or poll) */
    uint64_t errors;       /* consumer errors seen */
    struct cw_part *parts; /* the current assignment */
    size_t n_parts, cap_parts;
    uint64_t gained;   /* assignments received (partitions gained) */
    bool reset_latest; /* auto.offset.reset: latest (else earliest) */
    cw_consumer_reset_fn *on_reset;
    void *reset_opaque;
    size_t watch_next;       /* fetch watchdog: the partition it checks next */
    uint64_t fetch_restarts; /* partitions restarted by the fetch watchdog */
    bool cooperative;        /* the group's rebalance protocol, as last known */
};

/* Whether the group rebalances cooperatively (incremental assign and unassign). librdkafka
 * returns no protocol once the member has left the group, as a closing consumer's final
 * revoke may find it: the protocol last known is kept for then. */
static bool is_cooperative(cw_consumer *c)
{
    const char *protocol = rd_kafka_rebalance_protocol(c->rk);
    if (protocol)
        c->cooperative = strcmp(protocol, "COOPERATIVE") == 0;
    return c->cooperative;
}

/* Index of (topic, partition) in the assignment or -1. */
static long part_find(const cw_consumer *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->n_parts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return (long)i;
    return -1;
}

/* Add a partition to the tracked assignment (no-op when present). 0 or -1 (ENOMEM). */
static int part_add(cw_consumer *c, const char *topic, int32_t partition)
{
    if (part_find(c, topic, partition) >= 0)
        return 0;
    if (c->n_parts == c->cap_parts) {
        size_t cap = c->cap_parts ? c->cap_parts * 2 : 16;
        struct cw_part *np = realloc(c->parts, cap * sizeof *np);
        if (!np)
            return -1;
        c->parts = np;
        c->cap_parts = cap;
    }
    struct cw_part *p = &c->parts[c->n_parts++];
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->partition = partition;
    p->eof = false;
    p->paused = false;
    p->rewind = -1;
    p->start = RD_KAFKA_OFFSET_INVALID;
    p->next = -1;
    p->behind_pos = -1;
    p->behind_ms = 0;
    p->fresh = false;
    return 0;
}

/* Remove a partition from the tracked assignment (no-op when absent). */
static void part_remove(cw_consumer *c, const char *topic, int32_t partition)
{
    long i = part_find(c, topic, partition);
    if (i < 0)
        return;
    c->parts[i] = c->parts[c->n_parts - 1];
    c->n_parts--;
}

/* Pause or resume parts; failures (also per partition) are logged. */
static void pause_resume_parts(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, bool pause)
{
    rd_kafka_resp_err_t e =
        pause ? rd_kafka_pause_partitions(rk, parts) : rd_kafka_resume_partitions(rk, parts);
    if (e)
        cw_log_error(pause ? "kafka pause failed" : "kafka resume failed", "err=\"%s\"",
                     rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].err)
            cw_log_error(pause ? "kafka pause failed" : "kafka resume failed",
                         "topic=%s partition=%" PRId32 " err=\"%s\"", parts->elems[i].topic,
                         parts->elems[i].partition, rd_kafka_err2str(parts->elems[i].err));
}

/* Log a librdkafka call's failure in the rebalance callback. */
static void log_rebalance_error(const char *what, rd_kafka_error_t *error)
{
    if (!error)
        return;
    cw_log_error("kafka rebalance call failed", "call=%s err=\"%s\"", what,
                 rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
}

/*
 * Resume the revoked partitions that are paused (alone, or all while the consumer is),
 * before they are unassigned. librdkafka keeps an application pause across unassign and
 * assign, so a partition paused when it was revoked would come back paused, with nobody
 * left to resume it (the daemon forgets a revoked partition). It is done here rather
 * than after the next assign: a pause or resume right after an assign can outdate the
 * partition's fetch start in librdkafka (its op version barrier), leaving it never
 * fetched (librdkafka issues #2190, #4637).
 */
static void resume_revoked(rd_kafka_t *rk, cw_consumer *c,
                           const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        long k = part_find(c, parts->elems[i].topic, parts->elems[i].partition);
        if (c->paused || (k >= 0 && c->parts[k].paused))
            rd_kafka_topic_partition_list_add(list, parts->elems[i].topic,
                                              parts->elems[i].partition);
    }
    if (list->cnt > 0)
        pause_resume_parts(rk, list, false);
    rd_kafka_topic_partition_list_destroy(list);
}

/*
 * Give the partitions of parts that the group never committed an explicit start (the reset
 * policy), so that librdkafka, running with auto.offset.reset=error, reports only lost
 * positions: a new group's first assignment would otherwise raise an error per partition,
 * each answered by reassigning it (offset_reset). When the committed offsets cannot be
 * read in time, parts is left as it is and those errors are handled as they come.
 */
static void start_uncommitted(cw_consumer *c, rd_kafka_t *rk,
                              rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, q, COMMITTED_MS);
    if (e) {
        cw_log_warn("kafka committed offsets not read at assignment", "err=\"%s\"",
                    rd_kafka_err2str(e));
    } else {
        for (int i = 0; i < q->cnt && i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            if (q->elems[i].err || q->elems[i].offset >= 0 || tp->offset != RD_KAFKA_OFFSET_INVALID)
                continue;
            tp->offset = c->reset_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
            cw_log_info("kafka partition has no committed offset",
                        "topic=%s partition=%" PRId32 " start=%s", tp->topic, tp->partition,
                        c->reset_latest ? "latest" : "earliest");
        }
    }
    rd_kafka_topic_partition_list_destroy(q);
}

/*
 * Apply a rebalance: incremental assign/unassign under the COOPERATIVE protocol, full
 * assign/unassign under EAGER. Newly assigned partitions start paused when the consumer
 * is paused. Revoked partitions that are paused are resumed first. Runs inside
 * rd_kafka_consumer_poll (the caller's thread).
 */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cw_consumer *c = opaque;
    bool cooperative = is_cooperative(c);

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        cw_log_info("kafka partitions assigned", "count=%d protocol=%s", parts->cnt,
                    cooperative ? "cooperative" : "eager");
        start_uncommitted(c, rk, parts);
        if (cooperative) {
            log_rebalance_error("incremental_assign", rd_kafka_incremental_assign(rk, parts));
        } else {
            rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
            if (e)
                cw_log_error("kafka rebalance call failed", "call=assign err=\"%s\"",
                             rd_kafka_err2str(e));
            c->n_parts = 0; /* eager: the list is the whole assignment */
        }
        for (int i = 0; i < parts->cnt; i++) {
            if (part_add(c, parts->elems[i].topic, parts->elems[i].partition) != 0) {
                cw_log_error("kafka partition tracking failed",
                             "topic=%s partition=%" PRId32 " err=\"out of memory\"",
                             parts->elems[i].topic, parts->elems[i].partition);
                continue;
            }
            long k = part_find(c, parts->elems[i].topic, parts->elems[i].partition);
            c->parts[k].start = parts->elems[i].offset;
            c->parts[k].fresh = parts->elems[i].offset == RD_KAFKA_OFFSET_BEGINNING;
        }
        if (c->paused)
            pause_resume_parts(rk, parts, true);
        c->gained++;
        return;
    }

    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        if (rd_kafka_assignment_lost(rk))
            cw_log_warn("kafka partitions lost", "count=%d protocol=%s", parts->cnt,
                        cooperative ? "cooperative" : "eager");
        else
            cw_log_info("kafka partitions revoked", "count=%d protocol=%s", parts->cnt,
                        cooperative ? "cooperative" : "eager");
        resume_revoked(rk, c, parts);
        if (cooperative) {
            log_rebalance_error("incremental_unassign", rd_kafka_incremental_unassign(rk, parts));
            for (int i = 0; i < parts->cnt; i++)
                part_remove(c, parts->elems[i].topic, parts->elems[i].partition);
        } else {
            rd_kafka_resp_err_t e = rd_kafka_assign(rk, NULL);
            if (e)
                cw_log_error("kafka rebalance call failed", "call=unassign err=\"%s\"",
                             rd_kafka_err2str(e));
            c->n_parts = 0;
        }
        return;
    }

    cw_log_error("kafka rebalance error", "err=\"%s\"", rd_kafka_err2str(err));
    if (cooperative) {
        rd_kafka_topic_partition_list_t *cur = NULL;
        if (rd_kafka_assignment(rk, &cur) == RD_KAFKA_RESP_ERR_NO_ERROR && cur) {
            log_rebalance_error("incremental_unassign", rd_kafka_incremental_unassign(rk, cur));
            rd_kafka_topic_partition_list_destroy(cur);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
    c->n_parts = 0;
}

/*
 * Where consumption starts when a partition has no usable position: kafka.properties
 * auto.offset.reset (librdkafka's names: smallest/earliest/beginning, largest/latest/end),
 * earliest by default. 0, or -1 with err for "error" (the consumer resets itself, see
 * cw_consumer_new) or an unknown value.
 */
static int reset_policy(const struct cw_kafka_config *kc, bool *latest, char *err, size_t errsize)
{
    static const char *const earliest[] = {"smallest", "earliest", "beginning"};
    static const char *const latest_names[] = {"largest", "latest", "end"};
    const char *v = "earliest";
    for (size_t i = 0; i < kc->n_properties; i++)
        if (kc->properties[i].key && strcmp(kc->properties[i].key, "auto.offset.reset") == 0)
            v = kc->properties[i].value ? kc->properties[i].value : "";
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(v, earliest[i]) == 0 || strcmp(v, latest_names[i]) == 0) {
            *latest = strcmp(v, latest_names[i]) == 0;
            return 0;
        }
    }
    snprintf(err, errsize,
             "kafka property \"auto.offset.reset\": must be earliest or latest (churnwatch "
             "resets a lost position itself and reports it, docs/metrics.md)");
    return -1;
}

/*
 * Start fetching (topic, partition) at offset (or a logical one), by reassigning it: after
 * librdkafka's auto.offset.reset=error the partition's fetcher is stopped, and a seek is
 * refused in that state; an assignment with an explicit offset restarts it.
 */
static void restart_partition(cw_consumer *c, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, partition);
    if (is_cooperative(c)) {
        log_rebalance_error("incremental_unassign", rd_kafka_incremental_unassign(c->rk, one));
        one->elems[0].offset = offset;
        log_rebalance_error("incremental_assign", rd_kafka_incremental_assign(c->rk, one));
    } else {
        /* EAGER: the whole assignment again, every other partition at its position, or
         * where it was told to start when nothing was consumed from it yet. */
        rd_kafka_topic_partition_list_t *cur = NULL;
        if (rd_kafka_assignment(c->rk, &cur) == RD_KAFKA_RESP_ERR_NO_ERROR && cur) {
            rd_kafka_position(c->rk, cur);
            for (int i = 0; i < cur->cnt; i++) {
                long k = part_find(c, cur->elems[i].topic, cur->elems[i].partition);
                if (cur->elems[i].offset < 0 && k >= 0)
                    cur->elems[i].offset = c->parts[k].start;
            }
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_find(cur, topic, partition);
            if (tp)
                tp->offset = offset;
            rd_kafka_resp_err_t e = rd_kafka_assign(c->rk, cur);
            if (e)
                cw_log_error("kafka rebalance call failed", "call=assign err=\"%s\"",
                             rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(cur);
        }
    }
    rd_kafka_topic_partition_list_destroy(one);
    long k = part_find(c, topic, partition);
    if (k >= 0) {
        c->parts[k].eof = false;
        c->parts[k].rewind = -1; /* held-back messages are before the new start */
        c->parts[k].start = offset;
        c->parts[k].next = offset >= 0 ? offset : -1;
        c->parts[k].behind_pos = -1;
        c->parts[k].fresh = false;
    }
}

/*
 * librdkafka found no usable position for an assigned partition (auto.offset.reset=error).
 * position < 0: no committed offset yet, the normal first start: start where the policy
 * says. position >= 0: the position is out of range (retention deleted it, or the log was
 * truncated or recreated below it): the messages from it to the new start are lost to
 * this group, which is counted, reported and logged as an error with the range.
 */
static void offset_reset(cw_consumer *c, const char *topic, int32_t partition, int64_t position,
                         const char *reason)
{
    const char *policy = c->reset_latest ? "latest" : "earliest";
    if (part_find(c, topic, partition) < 0) {
        cw_log_debug("kafka offset reset of a partition no longer assigned",
                     "topic=%s partition=%" PRId32, topic, partition);
        return;
    }
    if (position < 0) {
        cw_log_info("kafka partition has no committed offset",
                    "topic=%s partition=%" PRId32 " start=%s", topic, partition, policy);
        restart_partition(c, topic, partition,
                          c->reset_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING);
        long k = part_find(c, topic, partition);
        if (k >= 0)
            c->parts[k].fresh = !c->reset_latest;
        return;
    }
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e = cw_kafka_watermarks(c->rk, topic, partition, &lo, &hi, WATERMARKS_MS);
    uint64_t skipped = 0;
    if (e) {
        cw_log_error("kafka offset out of range, consumption reset",
                     "topic=%s partition=%" PRId32 " position=%" PRId64
                     " resume=%s skipped=unknown watermarks_err=\"%s\" reason=\"%s\"",
                     topic, partition, position, policy, rd_kafka_err2str(e), reason);
        restart_partition(c, topic, partition,
                          c->reset_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING);
    } else {
        int64_t start = c->reset_latest ? hi : lo;
        if (start > position) {
            skipped = (uint64_t)(start - position);
            cw_log_error("kafka offset out of range, messages skipped",
                         "topic=%s partition=%" PRId32 " lost_first=%" PRId64 " lost_last=%" PRId64
                         " skipped=%" PRIu64 " resume=%s resume_offset=%" PRId64
                         " log_start=%" PRId64 " log_end=%" PRId64 " reason=\"%s\"",
                         topic, partition, position, start - 1, skipped, policy, start, lo, hi,
                         reason);
        } else {
            cw_log_error("kafka offset out of range, consumption reset",
                         "topic=%s partition=%" PRId32 " position=%" PRId64
                         " skipped=0 resume=%s resume_offset=%" PRId64 " log_start=%" PRId64
                         " log_end=%" PRId64 " reason=\"%s\"",
                         topic, partition, position, policy, start, lo, hi, reason);
        }
        restart_partition(c, topic, partition, start);
    }
    if (c->on_reset)
        c->on_reset(c->reset_opaque, topic, partition, skipped);
}

void cw_consumer_on_reset(cw_consumer *c, cw_consumer_reset_fn *fn, void *opaque)
{
    c->on_reset = fn;
    c->reset_opaque = opaque;
}

/* After cw_kafka_new logged a client-level error: counted; a fatal one is remembered for
 * cw_consumer_poll. */
static void on_error(struct cw_kafka_client *client, rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     const char *reason)
{
    (void)rk;
    (void)reason;
    cw_consumer *c = (cw_consumer *)client;
    c->errors++;
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        c->fatal = true;
}

cw_consumer *cw_consumer_new(const struct cw_kafka_config *kc, const char *brokers, char *err,
                             size_t errsize)
{
    const struct cw_kafka_prop defaults[] = {
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        /* Smaller per-partition fetches interleave the partitions in the local queue, so
         * a backlog advances all of them together and the event-time clock (the slowest
         * partition) moves steadily. */
        {"max.partition.fetch.bytes", "262144"},
        /* The prefetched backlog held in memory (librdkafka: 64 MB): enough to fill the
         * next batch while one is processed, and the daemon's RSS stays bounded. */
        {"queued.max.messages.kbytes", "8192"},
        /* A fetch with nothing new waits at most this long at the broker (librdkafka: 500
         * ms): what a live stream's events wait before the daemon even sees them. */
        {"fetch.wait.max.ms", "50"},
    };
    const struct cw_kafka_prop forced[] = {
        {"group.id", kc->group_id && *kc->group_id ? kc->group_id : "churnwatch"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
    };
    cw_consumer *c = NULL;
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    char rderr[512];

    if (kc->topics.n == 0) {
        snprintf(err, errsize, "kafka: no topics to consume");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsize, "kafka consumer: out of memory");
        return NULL;
    }
    if (reset_policy(kc, &c->reset_latest, err, errsize) != 0)
        goto fail;
    conf = cw_kafka_conf_new(kc, brokers, defaults, sizeof defaults / sizeof defaults[0], forced,
                             sizeof forced / sizeof forced[0], err, errsize);
    if (!conf)
        goto fail;
    /* Over the user's policy (applied by offset_reset): librdkafka then reports an unusable
     * position to the application instead of resetting it with a mere warning. */
    if (rd_kafka_conf_set(conf, "auto.offset.reset", "error", rderr, sizeof rderr) !=
        RD_KAFKA_CONF_OK) {
        snprintf(err, errsize, "kafka consumer: auto.offset.reset: %s", rderr);
        goto fail;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    c->client = (struct cw_kafka_client){"consumer", on_error};
    c->rk = cw_kafka_new(RD_KAFKA_CONSUMER, conf, kc, &c->client, err, errsize);
    conf = NULL; /* consumed by cw_kafka_new */
    if (!c->rk)
        goto fail;
    rd_kafka_poll_set_consumer(c->rk);

    subs = rd_kafka_topic_partition_list_new((int)kc->topics.n);
    for (size_t i = 0; i < kc->topics.n; i++)
        rd_kafka_topic_partition_list_add(subs, kc->topics.items[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, errsize, "kafka consumer: subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    return c;

fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (c && c->rk)
        rd_kafka_destroy(c->rk);
    free(c);
    return NULL;
}

/* A closing consumer's final rebalance (its revoke), applied like any other. */
struct final_rebalance {
    cw_consumer *c;
    rd_kafka_event_t *ev;
};

static void apply_final_rebalance(void *arg)
{
    const struct final_rebalance *fr = arg;
    rebalance_cb(fr->c->rk, rd_kafka_event_error(fr->ev),
                 rd_kafka_event_topic_partition_list(fr->ev), fr->c);
    rd_kafka_event_destroy(fr->ev);
}

void cw_consumer_close(cw_consumer *c, int timeout_ms)
{
    if (!c)
        return;
    int64_t deadline = cw_mono_ms() + timeout_ms;
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);

    /* Commit what is stored, then leave the group, both within the deadline: a broker
     * that is down must not hold the shutdown (the next owner replays the rest). */
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(c->rk, NULL, q, NULL, NULL);
    bool committed = e != RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cw_log_warn("kafka commit failed", "when=close err=\"%s\"", rd_kafka_err2str(e));
    while (!committed && cw_mono_ms() < deadline) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            committed = true;
            e = rd_kafka_event_error(ev);
            if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
                cw_log_warn("kafka commit failed", "when=close err=\"%s\"", rd_kafka_err2str(e));
        }
        rd_kafka_event_destroy(ev);
    }

    rd_kafka_error_t *err = rd_kafka_consumer_close_queue(c->rk, q);
    if (err) {
        cw_log_warn("kafka consumer close failed", "err=\"%s\"", rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
    }
    while (!err && !rd_kafka_consumer_closed(c->rk) && cw_mono_ms() < deadline) {
        /* The final revoke arrives here as an event: apply it like any rebalance. */
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_REBALANCE) {
            rd_kafka_event_destroy(ev);
            continue;
        }
        int64_t left = deadline - cw_mono_ms();
        struct final_rebalance fr = {.c = c, .ev = ev};
        if (!cw_call_within(apply_final_rebalance, &fr, sizeof fr,
                            left > DESTROY_MIN_MS ? (int)left : DESTROY_MIN_MS)) {
            /* librdkafka's unassign never returned (its issue #4884, open: seen once in
             * kafka::two_members_split_partitions_eager): the shutdown must not wait for
             * it. The handle, the queue and c stay with the call, to the process exit. */
            cw_log_warn("kafka consumer's final unassign did not return; left to the process exit",
                        "timeout_ms=%d", timeout_ms);
            cw_keep_until_exit(c->rk);
            cw_keep_until_exit(q);
            cw_keep_until_exit(c);
            return;
        }
    }
    bool closed = !err && rd_kafka_consumer_closed(c->rk);
    rd_kafka_queue_destroy(q);
    /* Closed means the group coordinator answered the LeaveGroup: the partitions are free
     * for the next member now, not after session.timeout.ms (docs/operations.md "Rolling
     * restarts"). */
    if (closed)
        cw_log_info("kafka consumer left the group", "took_ms=%lld",
                    (long long)(cw_mono_ms() - (deadline - timeout_ms)));
    else
        cw_log_warn("kafka consumer did not leave the group in time", "timeout_ms=%d", timeout_ms);
    /* The group was left (or given up on: its session timeout releases the partitions);
     * destroy must not close the consumer again, and may itself block in 2.0.2.
     * A consumer that never had an assignment is not destroyed at all: librdkafka 2.0.2
     * aborts destroying a cooperative-sticky member that joined but was never assigned
     * (an assertion in rd_kafka_sticky_assignor_state_destroy, its issue #4312, fixed in
     * 2.3.0) - a daemon stopped during its first rebalance. Such a handle holds no
     * partition and no offset; it is left to the process exit. */
    if (c->gained == 0) {
        cw_log_info("kafka consumer left to the process exit", "reason=%s",
                    "never assigned (librdkafka 2.0.2 cannot destroy it)");
        cw_keep_until_exit(c->rk);
    } else {
        int64_t left = deadline - cw_mono_ms();
        cw_kafka_destroy_within(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE,
                                left > DESTROY_MIN_MS ? (int)left : DESTROY_MIN_MS, "consumer");
    }
    free(c->parts);
    free(c);
}

/*
 * The first offset seen (a message, or the end an EOF reports) of a partition started at
 * the log's beginning for want of a committed offset: above 0, the messages before it were
 * deleted (retention, compaction) before this group read any. Not a loss of this group's,
 * so not counted as one (churnwatch_messages_skipped_total), but said: a new group on an
 * old topic starts with a gap (docs/operations.md "Offset resets").
 */
static void note_first(struct cw_part *p, int64_t offset)
{
    if (!p->fresh)
        return;
    p->fresh = false;
    if (offset > 0)
        cw_log_warn("kafka partition starts after deleted messages",
                    "topic=%s partition=%" PRId32 " first_offset=%" PRId64 " deleted=%" PRId64
                    " start=earliest",
                    p->topic, p->partition, offset, offset);
}

/* Handle one event that is not a message. Sets *fatal on a fatal error. */
static void handle_event(cw_consumer *c, const rd_kafka_message_t *m, bool *fatal)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->rkt) {
            long i = part_find(c, rd_kafka_topic_name(m->rkt), m->partition);
            if (i >= 0 && c->parts[i].rewind < 0) { /* held-back messages are not consumed */
                c->parts[i].eof = true;
                c->parts[i].next = m->offset;
                note_first(&c->parts[i], m->offset);
            }
        }
        return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m->rkt) {
        offset_reset(c, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                     rd_kafka_message_errstr(m));
        return;
    }
    c->errors++;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal_str[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(c->rk, fatal_str, sizeof fatal_str);
        cw_log_error("kafka consumer fatal error", "err=%s reason=\"%s\"", rd_kafka_err2name(orig),
                     fatal_str);
        c->fatal = true;
        *fatal = true;
        return;
    }
    cw_log_warn("kafka consumer error", "topic=%s partition=%" PRId32 " err=%s reason=\"%s\"",
                m->rkt ? rd_kafka_topic_name(m->rkt) : "-", m->partition, rd_kafka_err2name(m->err),
                rd_kafka_message_errstr(m));
}

size_t cw_consumer_poll(cw_consumer *c, rd_kafka_message_t **msgs, size_t max, int timeout_ms,
                        bool *fatal)
{
    size_t n = 0;
    int64_t deadline = cw_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (n < max) {
        /* Until the first message: what is left of timeout_ms; then only what is ready. */
        int64_t left = n == 0 ? deadline - cw_mono_ms() : 0;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);
        if (!m)
            break;
        if (m->err) {
            handle_event(c, m, fatal);
            rd_kafka_message_destroy(m);
            continue;
        }
        long i = part_find(c, rd_kafka_topic_name(m->rkt), m->partition);
        if (i >= 0 && c->paused) {
            /* Fetched before the pause took effect: held back, fetched again on resume. */
            struct cw_part *p = &c->parts[i];
            if (p->rewind < 0 || m->offset < p->rewind)
                p->rewind = m->offset;
            p->eof = false;
            cw_log_debug("kafka message held back while paused",
                         "topic=%s partition=%" PRId32 " offset=%" PRId64, p->topic, p->partition,
                         m->offset);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (i >= 0) {
            c->parts[i].eof = false;
            c->parts[i].next = m->offset + 1;
            note_first(&c->parts[i], m->offset);
        }
        msgs[n++] = m;
    }
    if (c->fatal)
        *fatal = true;
    return n;
}

/* Store the offsets of list (then destroyed); a partition no longer assigned is no error. */
static void store_list(cw_consumer *c, rd_kafka_topic_partition_list_t *list)
{
    rd_kafka_resp_err_t e = list->cnt > 0 ? rd_kafka_offsets_store(c->rk, list) : 0;
    if (e) {
        for (int i = 0; i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &list->elems[i];
            if (tp->err && tp->err != RD_KAFKA_RESP_ERR__STATE)
                cw_log_warn("kafka offset store failed",
                            "topic=%s partition=%" PRId32 " offset=%" PRId64 " err=\"%s\"",
                            tp->topic, tp->partition, tp->offset, rd_kafka_err2str(tp->err));
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void cw_consumer_store(cw_consumer *c, rd_kafka_message_t *const *msgs, size_t n)
{
    if (n == 0)
        return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i];
        if (m->err || !m->rkt)
            continue;
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(list, topic, m->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(list, topic, m->partition);
        if (m->offset + 1 > tp->offset)
            tp->offset = m->offset + 1;
    }
    store_list(c, list);
}

void cw_consumer_store_offsets(cw_consumer *c, rd_kafka_topic_partition_list_t *offsets)
{
    store_list(c, offsets);
}

void cw_consumer_commit(cw_consumer *c)
{
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, NULL, 1);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cw_log_warn("kafka commit failed", "when=batch err=\"%s\"", rd_kafka_err2str(e));
}

/* Pause or resume every currently assigned partition. */
static void pause_resume_assignment(cw_consumer *c, bool pause)
{
    rd_kafka_topic_partition_list_t *cur = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(c->rk, &cur);
    if (e) {
        cw_log_error("kafka assignment query failed", "err=\"%s\"", rd_kafka_err2str(e));
        return;
    }
    if (cur->cnt > 0)
        pause_resume_parts(c->rk, cur, pause);
    rd_kafka_topic_partition_list_destroy(cur);
}

void cw_consumer_pause(cw_consumer *c)
{
    c->paused = true;
    pause_resume_assignment(c, true);
}

/* Seek the partitions that delivered messages while paused back to the first of them,
 * so that resuming fetches them again. */
static void rewind_held_back(cw_consumer *c)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    for (size_t i = 0; i < c->n_parts; i++) {
        if (c->parts[i].rewind < 0)
            continue;
        rd_kafka_topic_partition_list_add(list, c->parts[i].topic, c->parts[i].partition)->offset =
            c->parts[i].rewind;
        c->parts[i].next = c->parts[i].rewind;
        c->parts[i].rewind = -1;
    }
    if (list->cnt > 0) {
        rd_kafka_error_t *error = rd_kafka_seek_partitions(c->rk, list, 5000);
        if (error) {
            cw_log_error("kafka seek failed", "err=\"%s\"", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
        for (int i = 0; i < list->cnt; i++)
            if (list->elems[i].err)
                cw_log_error("kafka seek failed",
                             "topic=%s partition=%" PRId32 " offset=%" PRId64 " err=\"%s\"",
                             list->elems[i].topic, list->elems[i].partition, list->elems[i].offset,
                             rd_kafka_err2str(list->elems[i].err));
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void cw_consumer_resume(cw_consumer *c)
{
    c->paused = false;
    rewind_held_back(c);
    pause_resume_assignment(c, false);
    for (size_t i = 0; i < c->n_parts; i++)
        c->parts[i].paused = false;
}

void cw_consumer_pause_partition(cw_consumer *c, const char *topic, int32_t partition, bool pause)
{
    if (c->paused && !pause)
        return; /* the whole consumer is paused: cw_consumer_resume resumes it */
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition);
    pause_resume_parts(c->rk, list, pause);
    rd_kafka_topic_partition_list_destroy(list);
    long k = part_find(c, topic, partition);
    if (k >= 0)
        c->parts[k].paused = pause;
}

size_t cw_consumer_lag(cw_consumer *c, struct cw_partition_lag *out, size_t max)
{
    size_t n = c->n_parts < max ? c->n_parts : max;
    if (n == 0)
        return 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, c->parts[i].topic, c->parts[i].partition);
    rd_kafka_resp_err_t pe = rd_kafka_position(c->rk, list);
    for (size_t i = 0; i < n; i++) {
        const struct cw_part *p = &c->parts[i];
        struct cw_partition_lag *o = &out[i];
        snprintf(o->topic, sizeof o->topic, "%s", p->topic);
        o->partition = p->partition;
        o->lag = -1;
        if (p->eof) {
            o->lag = 0;
            continue;
        }
        int64_t lo = -1, hi = -1;
        int64_t pos = pe ? RD_KAFKA_OFFSET_INVALID : list->elems[i].offset;
        if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) == 0 &&
            hi >= 0 && pos >= 0)
            o->lag = hi > pos ? hi - pos : 0;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return n;
}

bool cw_consumer_owns(cw_consumer *c, const char *topic, int32_t partition)
{
    return part_find(c, topic, partition) >= 0;
}

uint64_t cw_consumer_gained(cw_consumer *c)
{
    return c->gained;
}

int cw_consumer_partition_count(cw_consumer *c, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(c->rk, topic, NULL);
    if (!t)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(c->rk, 0, t, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topics[0].partition_cnt > 0)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

bool cw_consumer_assigned(cw_consumer *c)
{
    return c->n_parts > 0;
}

bool cw_consumer_caught_up(cw_consumer *c)
{
    if (c->n_parts == 0)
        return false;
    for (size_t i = 0; i < c->n_parts; i++)
        if (!c->parts[i].eof)
            return false;
    return true;
}

/*
 * The fetch watchdog (docs/operations.md "A partition not fetched"): one assigned partition
 * per call, round robin. A partition that nobody paused, whose log end (asked of its
 * leader) lies beyond both the consumer's position (the offset after the last message it
 * returned, or where its last EOF was) and the log end its last fetch response gave, and
 * whose position has not moved for stall_ms, is not being fetched: it is restarted at its
 * position, as after a reset.
 * librdkafka 2.0.2 has been seen to leave a partition unfetched after its first EOF, with
 * no error (docs/testing.md). Asks the broker for one partition's log end (bounded by
 * query_ms), so the caller calls it when idle, at most about once a second. An unanswered
 * query is no evidence either way: the stall time starts over from the next answer.
 */
bool cw_consumer_watch_fetch(cw_consumer *c, int64_t now_ms, int64_t stall_ms, int query_ms)
{
    if (c->n_parts == 0 || c->paused)
        return false;
    struct cw_part *p = &c->parts[c->watch_next++ % c->n_parts];
    if (p->paused || p->rewind >= 0) {
        p->behind_pos = -1;
        return false;
    }
    int64_t pos = p->next;
    int64_t hi = -1, fetched_lo = -1, fetched_hi = -1;
    if (pos < 0 || cw_kafka_watermarks(c->rk, p->topic, p->partition, NULL, &hi, query_ms) != 0 ||
        hi <= pos) {
        p->behind_pos = -1; /* caught up, or not known: nothing to judge */
        return false;
    }
    /* The log end as the last fetch response gave it: a partition being fetched knows the
     * end the leader just told (or more), even while nothing is delivered (the last
     * stable offset of an open transaction holds a read_committed consumer back). */
    rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &fetched_lo, &fetched_hi);
    if (fetched_hi >= hi) {
        p->behind_pos = -1;
        return false;
    }
    if (p->behind_pos != pos) {
        p->behind_pos = pos; /* behind here: judged again on a later call */
        p->behind_ms = now_ms;
        return false;
    }
    if (now_ms - p->behind_ms < stall_ms)
        return false;
    cw_log_warn("kafka partition not fetched, restarting it",
                "topic=%s partition=%" PRId32 " position=%" PRId64 " log_end=%" PRId64
                " last_fetched_log_end=%" PRId64 " unmoved_ms=%" PRId64,
                p->topic, p->partition, pos, hi, fetched_hi, now_ms - p->behind_ms);
    /* Nobody paused it: a pause librdkafka may keep would survive the reassignment. */
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, p->topic, p->partition);
    pause_resume_parts(c->rk, one, false);
    rd_kafka_topic_partition_list_destroy(one);
    char topic[sizeof p->topic];
    snprintf(topic, sizeof topic, "%s", p->topic);
    restart_partition(c, topic, p->partition, pos);
    c->fetch_restarts++;
    return true;
}

uint64_t cw_consumer_fetch_restarts(const cw_consumer *c)
{
    return c->fetch_restarts;
}

rd_kafka_t *cw_consumer_handle(cw_consumer *c)
{
    return c->rk;
}

void cw_consumer_describe(cw_consumer *c, char *buf, size_t size)
{
    char *member = rd_kafka_memberid(c->rk);
    const char *protocol = rd_kafka_rebalance_protocol(c->rk);
    int len = snprintf(buf, size,
                       "member=%s protocol=%s gained=%" PRIu64 " errors=%" PRIu64
                       " paused=%d assignment=[",
                       member ? member : "(none)", protocol ? protocol : "(none)", c->gained,
                       c->errors, c->paused);
    if (member)
        rd_kafka_mem_free(c->rk, member);
    rd_kafka_topic_partition_list_t *cur = NULL;
    if (rd_kafka_assignment(c->rk, &cur) == RD_KAFKA_RESP_ERR_NO_ERROR && cur) {
        for (int i = 0; i < cur->cnt && len > 0 && (size_t)len < size; i++)
            len += snprintf(buf + len, size - (size_t)len, "%s%s/%" PRId32, i ? " " : "",
                            cur->elems[i].topic, cur->elems[i].partition);
        rd_kafka_topic_partition_list_destroy(cur);
    }
    if (len > 0 && (size_t)len < size)
        snprintf(buf + len, size - (size_t)len, "]");
}
