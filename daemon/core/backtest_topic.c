/* backtest_topic.c - the input topics read once for a backtest, from their beginnings to the
 * high watermarks of the start, never committing (cw_bt_topic_read, backtest_topic.h) */
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest_topic.h"
#include "kafka.h"
#include "kafka_conf.h"

/* Polls of 1 s with nothing fetched before a read that has not reached every partition's
 * end gives up (the brokers went away). */
#define STALL_POLLS 60

/* One partition to read, up to end. */
struct part {
    const char *topic; /* cfg's */
    int32_t partition;
    int64_t end; /* the high watermark when the read began */
    bool done;
};

struct reader {
    struct cw_kafka_client client; /* first: the handle's opaque (cw_kafka_new) */
    rd_kafka_t *rk;
    struct part *parts;
    size_t nparts, left;
};

/* Every partition of cfg's topics with its high watermark; the empty ones are done from the
 * start. The assignment (each from its beginning) goes to *assign. */
static int plan(struct reader *r, const struct cw_kafka_config *kc, int timeout_ms,
                rd_kafka_topic_partition_list_t **assign, char *err, size_t errsize)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    for (size_t t = 0; t < kc->topics.n; t++) {
        const char *topic = kc->topics.items[t];
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e =
            rkt ? rd_kafka_metadata(r->rk, 0, rkt, &md, timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
        if (!e && (md->topic_cnt != 1 || md->topics[0].err))
            e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        if (e) {
            snprintf(err, errsize, "kafka: topic %s: %s", topic, rd_kafka_err2str(e));
            if (md)
                rd_kafka_metadata_destroy(md);
            if (rkt)
                rd_kafka_topic_destroy(rkt);
            goto fail;
        }
        for (int p = 0; p < md->topics[0].partition_cnt; p++) {
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_add(list, topic, md->topics[0].partitions[p].id);
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
    r->parts = calloc(list->cnt ? (size_t)list->cnt : 1, sizeof *r->parts);
    if (!r->parts) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        int64_t lo, hi;
        rd_kafka_resp_err_t e =
            tp->err ? tp->err
                    : cw_kafka_watermarks(r->rk, tp->topic, tp->partition, &lo, &hi, timeout_ms);
        if (e) {
            snprintf(err, errsize, "kafka: %s [%d]: %s", tp->topic, (int)tp->partition,
                     rd_kafka_err2str(e));
            goto fail;
        }
        struct part *pt = &r->parts[r->nparts++];
        size_t t = 0;
        while (strcmp(kc->topics.items[t], tp->topic) != 0)
            t++;
        *pt = (struct part){.topic = kc->topics.items[t], .partition = tp->partition, .end = hi};
        pt->done = lo >= hi; /* empty, or every message gone by retention */
        if (!pt->done)
            r->left++;
    }
    *assign = list;
    return 0;
fail:
    rd_kafka_topic_partition_list_destroy(list);
    return -1;
}

static struct part *part_of(struct reader *r, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (r->parts[i].partition == partition && strcmp(r->parts[i].topic, topic) == 0)
            return &r->parts[i];
    return NULL;
}

static void finish(struct reader *r, struct part *pt)
{
    if (pt && !pt->done) {
        pt->done = true;
        r->left--;
    }
}

/* Poll until every partition reached its end. 0, or -1 with err (empty when fn stopped). */
static int drain(struct reader *r, cw_bt_topic_fn fn, void *ctx, char *err, size_t errsize)
{
    int idle = 0;
    while (r->left > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 1000);
        if (!m) {
            if (++idle < STALL_POLLS)
                continue;
            snprintf(err, errsize,
                     "kafka: nothing fetched for %d s with %zu partitions not read to their end",
                     STALL_POLLS, r->left);
            return -1;
        }
        idle = 0;
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        struct part *pt = part_of(r, topic, m->partition);
        int rc = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            finish(r, pt);
        } else if (m->err) {
            snprintf(err, errsize, "kafka: %s [%d]: %s", topic, (int)m->partition,
                     rd_kafka_message_errstr(m));
            rc = -1;
        } else if (pt && !pt->done && m->offset < pt->end) {
            rd_kafka_timestamp_type_t tstype;
            int64_t ts = rd_kafka_message_timestamp(m, &tstype);
            if (fn(ctx, m->payload, m->len, tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
                   pt->topic, m->partition, m->offset) != 0) {
                err[0] = '\0';
                rc = -1;
            } else if (m->offset + 1 >= pt->end) {
                finish(r, pt);
            }
        }
        rd_kafka_message_destroy(m);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int cw_bt_topic_read(const struct cw_config *cfg, int timeout_ms, cw_bt_topic_fn fn, void *ctx,
                     char *err, size_t errsize)
{
    const struct cw_kafka_config *kc = &cfg->kafka;
    char group[64];
    /* a group of its own, never joined (assign) and never committed to: the daemon's
     * positions stay as they are */
    snprintf(group, sizeof group, "churnwatch-backtest-%ld", (long)getpid());
    const struct cw_kafka_prop forced[] = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
    };
    struct reader r = {.client = {"backtest consumer", NULL}};
    rd_kafka_topic_partition_list_t *assign = NULL;
    int rc = -1;
    if (kc->topics.n == 0) {
        snprintf(err, errsize, "kafka: no topics to read");
        return -1;
    }
    rd_kafka_conf_t *conf = cw_kafka_conf_new(kc, NULL, NULL, 0, forced,
                                              sizeof forced / sizeof forced[0], err, errsize);
    if (!conf)
        return -1;
    r.rk = cw_kafka_new(RD_KAFKA_CONSUMER, conf, kc, &r.client, err, errsize);
    if (!r.rk) /* conf consumed */
        return -1;
    rd_kafka_poll_set_consumer(r.rk);
    if (plan(&r, kc, timeout_ms, &assign, err, errsize) != 0)
        goto out;
    rd_kafka_resp_err_t e = rd_kafka_assign(r.rk, assign);
    if (e) {
        snprintf(err, errsize, "kafka: assign: %s", rd_kafka_err2str(e));
        goto out;
    }
    rc = drain(&r, fn, ctx, err, errsize);
    rd_kafka_assign(r.rk, NULL);
out:
    if (assign)
        rd_kafka_topic_partition_list_destroy(assign);
    rd_kafka_consumer_close(r.rk);
    rd_kafka_destroy(r.rk);
    free(r.parts);
    return rc;
}
