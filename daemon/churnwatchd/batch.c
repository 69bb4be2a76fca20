/* batch.c - the batch being gathered and its processing: decode, DLQ, apply, rescore, offsets */
#include "batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "array.h"
#include "log.h"
#include "parent_check.h"
#include "partitions.h"
#include "score_pass.h"
#include "store_event.h"
#include "str_index.h"

#define DLQ_WAIT_MS 30000
#define SLICE       256 /* messages decoded before their times are judged */

/* A rejected message, copied: it goes to the DLQ when the batch is processed. */
struct rejected {
    enum cw_reject code;
    const char *reason;
    const char *source; /* "topic/partition/offset" */
    const void *key;
    size_t key_len;
    const void *value;
    size_t len;
};

/* An accepted event that names a parent: the edge is checked before the batch is applied
 * (parent_check.h), with the message kept for the DLQ should it be refused. */
struct claimed {
    long event;             /* index into events */
    const char *account_id; /* the event's account (its group's copy) */
    struct rejected raw;    /* the message, for the DLQ should the edge be refused */
};

#define EVENT_REMOVED (-2L) /* next[] of an event taken out of its account's chain */

/* One account of the batch: its events are chained in arrival order until processed. */
struct group {
    const char *account_id;
    size_t n;
    long first, last; /* indexes into events, -1 none */
};

/* A partition of the batch: the offset to store once the batch is processed. Looked up
 * per message by its interned topic's pointer; handed to the consumer as librdkafka's
 * partition list when the batch is done. */
struct part_offset {
    const char *topic;
    int32_t partition;
    int64_t max;
};

/* The apply step's progress: kept across tries, so a retry resumes after the accounts
 * already applied, rescored and acknowledged, at the same clock. */
struct apply_step {
    size_t n;                        /* accounts */
    size_t done[CW_REDIS_LANES_MAX]; /* of each lane's, those applied and rescored so far */
    int64_t now;                     /* the daemon's clock for the whole batch, -1 unknown */
    bool started;                    /* a try's pass is running in the lanes */
};

/*
 * The batch being gathered (owned by the daemon, reused). Decoded events keep only what
 * the store needs (struct cw_store_event: ~64 bytes plus the user id) in an arena, so
 * the batch's memory follows its event count and never the size of cw_event.
 */
struct cw_batch {
    struct cw_arena arena; /* ids, user ids, traits, rejected messages */
    struct cw_store_event *events;
    long *next; /* the next event of the same account, -1 */
    size_t n_events, cap_events, cap_next;
    struct group *groups;
    size_t n_groups, cap_groups;
    struct cw_str_index index; /* the groups by account id */
    struct rejected *rejected;
    size_t n_rejected, cap_rejected;
    struct claimed *claimed; /* the events naming a parent, in arrival order */
    struct cw_parent_claim *claims;
    size_t n_claimed, cap_claimed, cap_claims;
    bool parents_checked;
    struct part_offset *parts;
    size_t n_parts, cap_parts;
    const char **topics; /* interned topic names (few), live as long as the batch state */
    size_t n_topics, cap_topics;
    uint64_t by_type[CW_MAX_EVENT_TYPES];
    uint64_t unknown;
    size_t n_messages;
    uint64_t first_us; /* when the batch's first message was added */
    int32_t clock_day; /* the clock's local day when the batch began, CW_DAY_NONE unknown */
    bool day_crossed;  /* the clock has since moved to another day */
    /* processing: what is done of it, kept across tries (cw_batch_process) */
    bool processing;   /* its first try began */
    uint64_t start_us; /* when */
    bool laid_out;     /* events reordered by account (the chains are then used up) */
    bool dlq_sent;     /* its rejected messages acknowledged by the broker */
    bool applied;      /* its accounts applied, rescored, their alerts acknowledged */
    struct apply_step apply;
    /* its partitions, each with the next offset to consume and (floor_ms) its event-time
     * watermark when the batch was laid out: once applied, the floors are saved, then the
     * offsets stored (the consumer takes the list). The watermarks are taken before the
     * pass, while the clock has seen this batch's events only (the next batch is decoded
     * during the pass). */
    rd_kafka_topic_partition_list_t *done_parts;
    int64_t *floor_ms;
    size_t cap_floor_ms;
    struct cw_store_batch *store;
    size_t n_store, cap_store; /* the accounts with events left to apply */
    /* the slice of messages being decoded */
    struct cw_event slice[SLICE];
    enum cw_reject slice_code[SLICE];
    char slice_reason[SLICE][200];
};

static const char *group_key(const void *items, size_t i)
{
    return ((const struct group *)items)[i].account_id;
}

/* The group of account_id, created when new; NULL when out of memory. */
static struct group *group_for(struct cw_batch *b, const char *account_id)
{
    size_t slot;
    long found = cw_str_index_find(&b->index, account_id, b->n_groups, group_key, b->groups, &slot);
    if (found < 0)
        return NULL;
    if (found > 0)
        return &b->groups[found - 1];
    if (cw_array_reserve(&b->groups, &b->cap_groups, b->n_groups + 1, sizeof *b->groups) < 0)
        return NULL;
    const char *id = cw_arena_strndup(&b->arena, account_id, strlen(account_id));
    if (!id)
        return NULL;
    b->groups[b->n_groups] = (struct group){.account_id = id, .first = -1, .last = -1};
    b->index.slots[slot] = (uint32_t)++b->n_groups;
    return &b->groups[b->n_groups - 1];
}

/* The batch's copy of a topic name (the messages go before the batch is processed). */
static const char *topic_intern(struct cw_batch *b, const char *topic)
{
    for (size_t i = 0; i < b->n_topics; i++)
        if (strcmp(b->topics[i], topic) == 0)
            return b->topics[i];
    if (cw_array_reserve(&b->topics, &b->cap_topics, b->n_topics + 1, sizeof *b->topics) < 0)
        return NULL;
    char *copy = strdup(topic);
    if (!copy)
        return NULL;
    b->topics[b->n_topics++] = copy;
    return copy;
}

/* Record that offset of topic/partition is in the batch. 0 or -1. */
static int part_seen(struct cw_batch *b, const char *topic, int32_t partition, int64_t offset)
{
    for (size_t i = b->n_parts; i-- > 0;) {
        struct part_offset *p = &b->parts[i];
        if (p->partition == partition && p->topic == topic) {
            if (offset > p->max)
                p->max = offset;
            return 0;
        }
    }
    if (cw_array_reserve(&b->parts, &b->cap_parts, b->n_parts + 1, sizeof *b->parts) < 0)
        return -1;
    b->parts[b->n_parts++] = (struct part_offset){topic, partition, offset};
    return 0;
}

/* Copy message m (its bytes intact) into r for the DLQ. 0 or -1. */
static int keep_message(struct cw_batch *b, const rd_kafka_message_t *m, const char *topic,
                        enum cw_reject code, const char *reason, struct rejected *r)
{
    char source[320];
    snprintf(source, sizeof source, "%s/%" PRId32 "/%" PRId64, topic, m->partition, m->offset);
    r->code = code;
    r->reason = cw_arena_strndup(&b->arena, reason, strlen(reason));
    r->source = cw_arena_strndup(&b->arena, source, strlen(source));
    r->key_len = m->key ? m->key_len : 0;
    r->key = m->key ? cw_arena_strndup(&b->arena, m->key, m->key_len) : NULL;
    r->len = m->len;
    r->value = cw_arena_strndup(&b->arena, m->payload ? m->payload : "", m->payload ? m->len : 0);
    return !r->reason || !r->source || (m->key && !r->key) || !r->value ? -1 : 0;
}

static int add_rejected(struct cw_batch *b, const rd_kafka_message_t *m, const char *topic,
                        enum cw_reject code, const char *reason)
{
    if (cw_array_reserve(&b->rejected, &b->cap_rejected, b->n_rejected + 1, sizeof *b->rejected) <
            0 ||
        keep_message(b, m, topic, code, reason, &b->rejected[b->n_rejected]) < 0)
        return -1;
    b->n_rejected++;
    return 0;
}

/* The event just added names a parent: keep its message for the check. 0 or -1. */
static int add_claimed(struct cw_batch *b, const rd_kafka_message_t *m, const char *topic,
                       const char *account_id)
{
    struct group *g = group_for(b, account_id);
    if (!g ||
        cw_array_reserve(&b->claimed, &b->cap_claimed, b->n_claimed + 1, sizeof *b->claimed) < 0)
        return -1;
    struct claimed *c = &b->claimed[b->n_claimed];
    c->event = (long)b->n_events - 1;
    c->account_id = g->account_id;
    if (keep_message(b, m, topic, CW_REJ_BAD_TRAITS, "", &c->raw) < 0)
        return -1;
    b->n_claimed++;
    return 0;
}

/* Keep an accepted event of a known type in its account's chain. 0 or -1. */
static int add_event(struct cw_daemon *d, struct cw_batch *b, const struct cw_event *ev,
                     const char *topic, int32_t partition, int64_t offset)
{
    struct group *g = group_for(b, ev->account_id);
    if (!g || cw_array_reserve(&b->events, &b->cap_events, b->n_events + 1, sizeof *b->events) < 0)
        return -1;
    if (cw_array_reserve(&b->next, &b->cap_next, b->n_events + 1, sizeof *b->next) < 0)
        return -1;
    if (cw_store_event_from(&b->events[b->n_events], ev, d->rt.tz, topic, partition, offset,
                            &b->arena) < 0)
        return -1;
    long k = (long)b->n_events++;
    b->next[k] = -1;
    if (g->last >= 0)
        b->next[g->last] = k;
    else
        g->first = k;
    g->last = k;
    g->n++;
    return 0;
}

/* Add msgs[0..n) to b, as cw_batch_add says. */
static int batch_add(struct cw_daemon *d, struct cw_batch *b, rd_kafka_message_t **msgs, size_t n)
{
    if (!b)
        goto oom;
    struct cw_runtime *rt = &d->rt;
    int64_t wall = cw_wall_ms();
    if (b->n_messages == 0) {
        b->first_us = cw_mono_us();
        b->clock_day = CW_DAY_NONE;
        b->day_crossed = false;
    }

    /* A slice at a time: decode and observe the event times, then judge each event
     * against the clock those observations moved. */
    for (size_t start = 0; start < n; start += SLICE) {
        size_t len = n - start > SLICE ? SLICE : n - start;
        int64_t newest = -1; /* the slice's newest accepted event time */
        for (size_t i = 0; i < len; i++) {
            const rd_kafka_message_t *m = msgs[start + i];
            struct cw_event *ev = &b->slice[i];
            rd_kafka_timestamp_type_t tstype;
            int64_t msg_ts = rd_kafka_message_timestamp(m, &tstype);
            if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
                msg_ts = -1;
            b->slice_reason[i][0] = '\0';
            b->slice_code[i] = cw_decode(rt->dec, m->payload, m->len, msg_ts, ev,
                                         b->slice_reason[i], sizeof b->slice_reason[i]);
            /* Future timestamps never advance the clock. */
            if (b->slice_code[i] == CW_OK &&
                ev->ts_ms <= wall + rt->time_policy.max_clock_skew_ms) {
                cw_clock_observe(&d->clock, rd_kafka_topic_name(m->rkt), m->partition, ev->ts_ms);
                if (ev->ts_ms > newest)
                    newest = ev->ts_ms;
            }
        }
        /* Lateness is judged against the clock's own events (its floors left out, see
         * clock.h); while that is still unknown (a backlog not seen yet), against the
         * slice's newest event. Never against more than the event's own partition has
         * reached (its stream time, as in Kafka Streams): a partition taken over with a
         * backlog nobody consumed yet is history arriving now, not late events, however far
         * the other partitions (and so the clock) have gone (docs/design.md "The clock"). */
        int64_t now = cw_partitions_sync(d);
        if (now >= 0) {
            int32_t day = cw_tz_day(rt->tz, now);
            if (b->clock_day == CW_DAY_NONE)
                b->clock_day = day;
            else if (day != b->clock_day)
                b->day_crossed = true;
        }
        now = d->clock.lateness_ref_ms >= 0 ? d->clock.lateness_ref_ms : newest;
        const char *ref_topic = NULL; /* the partition ref_ms belongs to */
        int32_t ref_partition = -1;
        int64_t ref_ms = now;
        for (size_t i = 0; i < len; i++) {
            const rd_kafka_message_t *m = msgs[start + i];
            const struct cw_event *ev = &b->slice[i];
            char *reason = b->slice_reason[i];
            const char *topic = topic_intern(b, rd_kafka_topic_name(m->rkt));
            if (!topic || part_seen(b, topic, m->partition, m->offset) < 0)
                goto oom;
            b->n_messages++;
            if (topic != ref_topic || m->partition != ref_partition) {
                const struct cw_clock_part *p =
                    cw_clock_part_find(&d->clock, rd_kafka_topic_name(m->rkt), m->partition);
                ref_topic = topic;
                ref_partition = m->partition;
                ref_ms = p && p->watermark_ms >= 0 && (now < 0 || p->watermark_ms < now)
                             ? p->watermark_ms
                             : now;
            }
            enum cw_reject code = b->slice_code[i];
            if (code == CW_OK)
                code = cw_time_check(&rt->time_policy, ev->ts_ms, ref_ms >= 0 ? ref_ms : ev->ts_ms,
                                     wall, reason, sizeof b->slice_reason[i]);
            if (code != CW_OK) {
                cw_stat_add(&d->stats.rejected[code], 1);
                cw_log_debug("event rejected",
                             "code=%s source=%s/%" PRId32 "/%" PRId64 " reason=\"%s\"",
                             cw_reject_name(code), topic, m->partition, m->offset, reason);
                if (add_rejected(b, m, topic, code, reason) < 0)
                    goto oom;
                continue;
            }
            if (ev->type_index < 0) {
                b->unknown++;
                continue;
            }
            if (add_event(d, b, ev, topic, m->partition, m->offset) < 0)
                goto oom;
            /* a detach is a claim too: the claims after it walk without its old edge */
            if (ev->has_traits && cw_traits_carry_parent(&ev->traits) &&
                add_claimed(b, m, topic, ev->account_id) < 0)
                goto oom;
            b->by_type[ev->type_index]++;
        }
    }
    return 0;
oom:
    cw_log_error("out of memory", "what=batch messages=%zu", b ? b->n_messages : 0);
    return -1;
}

/* *slot, allocated on first use; NULL when out of memory. */
static struct cw_batch *batch_get(struct cw_batch **slot)
{
    if (!*slot)
        *slot = calloc(1, sizeof **slot);
    return *slot;
}

int cw_batch_add(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    return batch_add(d, batch_get(&d->batch), msgs, n);
}

int cw_batch_add_next(struct cw_daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    return batch_add(d, batch_get(&d->next_batch), msgs, n);
}

size_t cw_batch_next_room(const struct cw_daemon *d)
{
    const struct cw_batch *b = d->next_batch;
    size_t have = b ? b->n_messages : 0;
    if (have >= d->opt.batch_max || (have > 0 && b->day_crossed))
        return 0;
    return d->opt.batch_max - have;
}

uint64_t cw_batch_processing_us(const struct cw_daemon *d)
{
    const struct cw_batch *b = d->batch;
    return b && b->processing ? cw_mono_us() - b->start_us : 0;
}

size_t cw_batch_pending(const struct cw_daemon *d)
{
    return d->batch ? d->batch->n_messages : 0;
}

size_t cw_batch_next_pending(const struct cw_daemon *d)
{
    return d->next_batch ? d->next_batch->n_messages : 0;
}

uint64_t cw_batch_age_us(const struct cw_daemon *d)
{
    return cw_batch_pending(d) ? cw_mono_us() - d->batch->first_us : 0;
}

bool cw_batch_day_crossed(const struct cw_daemon *d)
{
    return cw_batch_pending(d) && d->batch->day_crossed;
}

static int step_dlq(struct cw_daemon *d)
{
    struct cw_batch *b = d->batch;
    const struct cw_config *cfg = d->rt.cfg;
    char err[256];
    if (b->n_rejected == 0)
        return 0;
    for (size_t i = 0; i < b->n_rejected; i++) {
        const struct rejected *r = &b->rejected[i];
        struct cw_header headers[] = {
            {"churnwatch-error", cw_reject_name(r->code)},
            {"churnwatch-reason", r->reason},
            {"churnwatch-source", r->source},
        };
        if (cw_producer_send(d->producer, cfg->kafka.dlq_topic, r->key, r->key_len, r->value,
                             r->len, headers, 3, err, sizeof err) != 0)
            goto fail;
    }
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

/* The accounts' step: the pass started in its lanes on the first call; RUNNING while they
 * work and the caller may gather (else their end is waited for here); then DONE or RETRY. */
static enum cw_verdict step_apply(struct cw_daemon *d, bool gather)
{
    struct apply_step *s = &d->batch->apply;
    if (!s->started) {
        if (cw_score_pass_start(d, d->batch->store, s->n, s->done, s->now) != 0)
            return CW_VERDICT_RETRY;
        s->started = true;
    }
    if (gather && cw_score_pass_running(d))
        return CW_VERDICT_RUNNING;
    s->started = false;
    return cw_score_pass_finish(d) == 0 ? CW_VERDICT_DONE : CW_VERDICT_RETRY;
}

/* Take event k out of its account's chain (it goes to the DLQ instead). */
static void remove_event(struct cw_batch *b, long k, const char *account_id)
{
    struct group *g = group_for(b, account_id);
    if (!g)
        return; /* never: the account's group exists since the event was added */
    long prev = -1;
    for (long at = g->first; at >= 0 && at != k; at = b->next[at])
        prev = at;
    long following = b->next[k];
    if (prev >= 0)
        b->next[prev] = following;
    else
        g->first = following;
    if (g->last == k)
        g->last = prev;
    g->n--;
    b->next[k] = EVENT_REMOVED;
}

/* The parent_id edges of the batch's traits events against the stored hierarchy, before
 * anything is applied: an event that would close a cycle or make a tree deeper than
 * hierarchy.max_depth goes to the DLQ as bad_traits, whole, and changes nothing
 * (docs/hierarchies.md "Cycles and depth"). Once per batch. */
static int step_parents(struct cw_daemon *d)
{
    struct cw_batch *b = d->batch;
    if (b->n_claimed == 0 || b->parents_checked)
        return 0;
    if (cw_array_reserve(&b->claims, &b->cap_claims, b->n_claimed, sizeof *b->claims) < 0 ||
        cw_array_reserve(&b->rejected, &b->cap_rejected, b->n_rejected + b->n_claimed,
                         sizeof *b->rejected) < 0) {
        cw_log_error("out of memory", "what=parent check events=%zu", b->n_claimed);
        return -1;
    }
    for (size_t i = 0; i < b->n_claimed; i++) {
        const struct cw_store_event *se = &b->events[b->claimed[i].event];
        b->claims[i] = (struct cw_parent_claim){.account = b->claimed[i].account_id,
                                                .parent = se->traits->parent_id};
    }
    char err[256];
    if (cw_parent_check(d->store, d->rt.cfg->hierarchy.max_depth, b->claims, b->n_claimed, err,
                        sizeof err) != 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("checking parent_id traits failed, will retry", "error=\"%s\"", err);
        return -1;
    }
    for (size_t i = 0; i < b->n_claimed; i++) {
        const struct cw_parent_claim *c = &b->claims[i];
        if (!c->rejected)
            continue;
        struct rejected r = b->claimed[i].raw;
        r.reason = cw_arena_strndup(&b->arena, c->reason, strlen(c->reason));
        if (!r.reason)
            r.reason = "parent_id makes a cycle or a tree too deep";
        b->rejected[b->n_rejected++] = r;
        const struct cw_store_event *se = &b->events[b->claimed[i].event];
        b->by_type[se->type_index]--;
        remove_event(b, b->claimed[i].event, b->claimed[i].account_id);
        cw_stat_add(&d->stats.rejected[CW_REJ_BAD_TRAITS], 1);
        cw_log_debug("event rejected", "code=%s source=%s reason=\"%s\"",
                     cw_reject_name(CW_REJ_BAD_TRAITS), r.source, r.reason);
    }
    b->parents_checked = true;
    return 0;
}

/* Reorder the events in place so each account's are contiguous (their arrival order
 * kept), as the store takes them; once per batch. */
static int layout(struct cw_batch *b)
{
    if (b->laid_out)
        return 0;
    if (cw_array_reserve(&b->store, &b->cap_store, b->n_groups, sizeof *b->store) < 0)
        return -1;
    /* next[k] becomes event k's place, then the permutation is applied cycle by cycle;
     * events taken out (parent check) go after every account's */
    size_t at = 0;
    b->n_store = 0;
    for (size_t g = 0; g < b->n_groups; g++) {
        const struct group *gr = &b->groups[g];
        if (gr->n == 0)
            continue;
        b->store[b->n_store++] = (struct cw_store_batch){
            .account_id = gr->account_id, .events = b->events + at, .n = gr->n};
        for (long k = gr->first; k >= 0;) {
            long following = b->next[k];
            b->next[k] = (long)at++;
            k = following;
        }
    }
    for (size_t i = 0; i < b->n_events; i++)
        if (b->next[i] == EVENT_REMOVED)
            b->next[i] = (long)at++;
    for (size_t i = 0; i < b->n_events; i++) {
        while ((size_t)b->next[i] != i) {
            long t = b->next[i];
            struct cw_store_event ev = b->events[t];
            b->events[t] = b->events[i];
            b->events[i] = ev;
            b->next[i] = b->next[t];
            b->next[t] = t;
        }
    }
    b->laid_out = true;
    return 0;
}

/* The batch's partitions with the offsets to store once it is processed, and their
 * event-time watermarks now (b->floor_ms). 0, or -1 when out of memory. */
static int offsets_list(struct cw_daemon *d, struct cw_batch *b)
{
    if (cw_array_reserve(&b->floor_ms, &b->cap_floor_ms, b->n_parts, sizeof *b->floor_ms) < 0)
        return -1;
    b->done_parts = rd_kafka_topic_partition_list_new((int)b->n_parts);
    for (size_t i = 0; i < b->n_parts; i++) {
        rd_kafka_topic_partition_list_add(b->done_parts, b->parts[i].topic, b->parts[i].partition)
            ->offset = b->parts[i].max + 1;
        b->floor_ms[i] = cw_partitions_watermark(d, b->parts[i].topic, b->parts[i].partition);
    }
    return 0;
}

static void batch_reset(struct cw_batch *b)
{
    cw_arena_reset(&b->arena);
    b->n_events = b->n_groups = b->n_rejected = b->n_parts = b->n_messages = 0;
    b->n_claimed = 0;
    b->parents_checked = false;
    b->processing = b->dlq_sent = b->applied = false;
    cw_str_index_clear(&b->index);
    memset(b->by_type, 0, sizeof b->by_type);
    b->unknown = 0;
    b->laid_out = false;
}

/* The batch's offsets stored for commit, its figures counted and logged, and the batch
 * emptied for the next one. */
static void batch_done(struct cw_daemon *d, const char *why)
{
    struct cw_batch *b = d->batch;
    cw_consumer_store_offsets(d->consumer, b->done_parts);
    b->done_parts = NULL;
    size_t applied = 0;
    size_t removed = b->n_events; /* by the parent check: counted as rejected */
    for (size_t g = 0; g < b->n_store; g++) {
        applied += b->store[g].applied;
        removed -= b->store[g].n;
    }
    cw_stat_add(&d->stats.replays_skipped, b->n_events - removed - applied);
    for (size_t t = 0; t < CW_MAX_EVENT_TYPES; t++)
        if (b->by_type[t])
            cw_stat_add(&d->stats.consumed_by_type[t], b->by_type[t]);
    cw_stat_add(&d->stats.consumed_unknown, b->unknown);
    cw_stat_add(&d->stats.batches, 1);
    cw_stat_add(&d->stats.messages, b->n_messages);
    cw_hist_observe(&d->stats.batch_seconds, cw_mono_us() - b->start_us);
    cw_daemon_publish_cache(d);
    size_t next = cw_batch_next_pending(d);
    cw_log_debug("batch processed",
                 "messages=%zu accounts=%zu rejected=%zu why=%s gathered_ms=%llu ms=%llu "
                 "messages_total=%llu clock=%lld next_gathered=%zu",
                 b->n_messages, b->n_store, b->n_rejected, why,
                 (unsigned long long)((b->start_us - b->first_us) / 1000),
                 (unsigned long long)((cw_mono_us() - b->start_us) / 1000),
                 (unsigned long long)cw_stat_get(&d->stats.messages), (long long)b->apply.now,
                 next);
    d->applied_now = b->apply.now;
    batch_reset(b);
    if (next > 0) { /* the batch gathered during this one's pass is the one gathered now */
        d->batch = d->next_batch;
        d->next_batch = b;
    }
}

/*
 * The steps in order, each done once: a step that fails ends the try (RETRY) and the next
 * try begins at it. The parent check and the layout come first (they decide what is
 * applied and what goes to the DLQ), then the DLQ, the accounts, the floors; the offsets
 * last, once everything the batch caused is durable.
 */
enum cw_verdict cw_batch_process(struct cw_daemon *d, const char *why, bool gather)
{
    struct cw_batch *b = d->batch;
    if (!b || b->n_messages == 0)
        return CW_VERDICT_DONE;
    if (!b->processing) {
        b->processing = true;
        b->start_us = cw_mono_us();
    }
    if (step_parents(d) != 0)
        return CW_VERDICT_RETRY;
    if (!b->laid_out) {
        if (layout(b) < 0) {
            cw_log_error("out of memory", "what=batch layout messages=%zu", b->n_messages);
            return CW_VERDICT_STOP;
        }
        b->apply = (struct apply_step){.n = b->n_store, .now = cw_partitions_sync(d)};
        if (offsets_list(d, b) < 0) {
            cw_log_error("out of memory", "what=batch offsets partitions=%zu", b->n_parts);
            return CW_VERDICT_STOP;
        }
    }
    if (!b->dlq_sent) {
        if (step_dlq(d) != 0)
            return CW_VERDICT_RETRY;
        b->dlq_sent = true;
    }
    if (!b->applied) {
        enum cw_verdict v = step_apply(d, gather);
        if (v != CW_VERDICT_DONE)
            return v;
        b->applied = true;
    }
    /* whoever consumes a partition next resumes its clock where this batch left it */
    if (cw_partitions_save_floors(d, b->done_parts, b->floor_ms) != 0)
        return CW_VERDICT_RETRY;
    batch_done(d, why);
    return CW_VERDICT_DONE;
}

static void batch_free(struct cw_batch *b)
{
    if (!b)
        return;
    cw_arena_free(&b->arena);
    free(b->events);
    free(b->next);
    free(b->groups);
    cw_str_index_free(&b->index);
    free(b->rejected);
    free(b->claimed);
    free(b->claims);
    free(b->parts);
    if (b->done_parts)
        rd_kafka_topic_partition_list_destroy(b->done_parts);
    free(b->floor_ms);
    for (size_t i = 0; i < b->n_topics; i++)
        free((char *)b->topics[i]);
    free(b->topics);
    free(b->store);
    free(b);
}

void cw_batch_cleanup(struct cw_daemon *d)
{
    batch_free(d->batch);
    batch_free(d->next_batch);
    d->batch = d->next_batch = NULL;
}
