/* kafka_producer.c - the idempotent alert/DLQ producer: send, wait for delivery, flush */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"
#include "kafka_conf.h"
#include "kafka_destroy.h"
#include "log.h"
#include "wall_clock.h"

/* How long cw_producer_send waits for room in a full local queue, in polls of 100 ms. */
#define SEND_QUEUE_FULL_POLLS 50
#define DESTROY_MS            5000 /* bound on destroying the handle after the flush */

struct cw_producer {
    struct cw_kafka_client client; /* first: the handle's opaque (cw_kafka_new) */
    rd_kafka_t *rk;
    /* Each message carries the generation it was sent in (its opaque); a wait that ends
     * (delivered or failed) starts a new generation so late reports of an abandoned batch
     * are not counted against the next one. */
    uintptr_t generation;
    uint64_t sent;      /* sent in this generation */
    uint64_t delivered; /* acknowledged in this generation */
    uint64_t failed;    /* failed permanently in this generation */
    char first_error[512];
    bool fatal;
    char fatal_error[512];
};

/* Delivery report, served by rd_kafka_poll/flush in the caller's thread. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    cw_producer *p = opaque;
    if ((uintptr_t)m->_private != p->generation)
        return;
    if (!m->err) {
        p->delivered++;
        return;
    }
    if (p->failed++ == 0)
        snprintf(p->first_error, sizeof p->first_error, "delivery to %s [%" PRId32 "] failed: %s",
                 m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition,
                 rd_kafka_err2str(m->err));
    cw_log_warn("kafka delivery failed", "topic=%s partition=%" PRId32 " err=%s",
                m->rkt ? rd_kafka_topic_name(m->rkt) : "-", m->partition,
                rd_kafka_err2name(m->err));
}

/* After cw_kafka_new logged a client-level error: a fatal one (idempotence broken) fails
 * every wait. */
static void on_error(struct cw_kafka_client *client, rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     const char *reason)
{
    (void)rk;
    cw_producer *p = (cw_producer *)client;
    if (err != RD_KAFKA_RESP_ERR__FATAL)
        return;
    snprintf(p->fatal_error, sizeof p->fatal_error, "producer fatal error: %s", reason);
    p->fatal = true;
}

cw_producer *cw_producer_new(const struct cw_kafka_config *kc, const char *brokers, char *err,
                             size_t errsize)
{
    const struct cw_kafka_prop defaults[] = {
        {"linger.ms", "5"},
        {"compression.codec", "none"},
    };
    const struct cw_kafka_prop forced[] = {
        {"enable.idempotence", "true"},
    };
    rd_kafka_conf_t *conf = NULL;
    cw_producer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsize, "kafka producer: out of memory");
        return NULL;
    }
    conf = cw_kafka_conf_new(kc, brokers, defaults, sizeof defaults / sizeof defaults[0], forced,
                             sizeof forced / sizeof forced[0], err, errsize);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    p->client = (struct cw_kafka_client){"producer", on_error};
    p->rk = cw_kafka_new(RD_KAFKA_PRODUCER, conf, kc, &p->client, err, errsize);
    if (!p->rk)
        goto fail;
    p->generation = 1;
    return p;

fail:
    free(p);
    return NULL;
}

void cw_producer_close(cw_producer *p, int timeout_ms)
{
    if (!p)
        return;
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    if (e)
        cw_log_warn("kafka producer flush incomplete", "outq=%d err=\"%s\"",
                    rd_kafka_outq_len(p->rk), rd_kafka_err2str(e));
    cw_kafka_destroy_within(p->rk, 0, DESTROY_MS, "producer");
    free(p);
}

int cw_producer_send(cw_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t len, const struct cw_header *headers,
                     size_t n_headers, char *err, size_t errsize)
{
    if (p->fatal) {
        snprintf(err, errsize, "%s", p->fatal_error);
        return -1;
    }
    for (int attempt = 0;; attempt++) {
        rd_kafka_headers_t *hdrs = NULL;
        if (n_headers > 0) {
            hdrs = rd_kafka_headers_new(n_headers);
            for (size_t i = 0; i < n_headers; i++)
                rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, -1);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key ? keylen : 0), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)p->generation), RD_KAFKA_V_END);
        if (!e) { /* hdrs are owned by the message now */
            p->sent++;
            rd_kafka_poll(p->rk, 0);
            return 0;
        }
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt >= SEND_QUEUE_FULL_POLLS) {
            snprintf(err, errsize, "produce to %s: %s", topic, rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(p->rk, 100); /* serve delivery reports to make room */
    }
}

/* End the current generation: later reports of its messages are ignored. */
static void next_generation(cw_producer *p)
{
    p->generation++;
    p->sent = p->delivered = p->failed = 0;
    p->first_error[0] = '\0';
}

int cw_producer_wait(cw_producer *p, int timeout_ms, char *err, size_t errsize)
{
    int64_t deadline = cw_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (p->failed > 0) {
            snprintf(err, errsize, "%s (%" PRIu64 " of %" PRIu64 " messages failed)",
                     p->first_error, p->failed, p->sent);
            next_generation(p);
            return -1;
        }
        if (p->fatal) {
            snprintf(err, errsize, "%s", p->fatal_error);
            next_generation(p);
            return -1;
        }
        if (p->delivered >= p->sent) {
            next_generation(p);
            return 0;
        }
        int64_t left = deadline - cw_mono_ms();
        if (left <= 0) {
            snprintf(err, errsize, "%" PRIu64 " of %" PRIu64 " messages not yet acknowledged",
                     p->sent - p->delivered, p->sent);
            return 1;
        }
        /* rd_kafka_flush, not rd_kafka_poll: it serves the delivery reports the same way
         * and sends what is queued at once instead of after linger.ms (librdkafka >= 1.8),
         * which a caller waiting for its acknowledgements would otherwise sit out. */
        rd_kafka_flush(p->rk, left < 100 ? (int)left : 100);
    }
}
