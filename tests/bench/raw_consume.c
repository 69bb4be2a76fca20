/* raw_consume.c - the physical limit: a plain librdkafka consumer reading a topic to its end */
#define _POSIX_C_SOURCE 200809L
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * raw_consume BROKERS TOPIC PARTITIONS: assign every partition from the beginning, read
 * until each reports end of partition, touching every value byte (as a decoder would
 * have to). Prints "messages=N bytes=B seconds=S rate=R" and the command line.
 */
int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: raw_consume BROKERS TOPIC PARTITIONS\n");
        return 2;
    }
    int parts = atoi(argv[3]);
    if (parts <= 0) {
        fprintf(stderr, "raw_consume: PARTITIONS must be positive\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", argv[1]},
                           {"group.id", "raw-consume-bench"},
                           {"enable.auto.commit", "false"},
                           {"enable.partition.eof", "true"},
                           {"auto.offset.reset", "earliest"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "raw_consume: %s\n", err);
            return 1;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "raw_consume: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(tp, argv[2], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double t0 = now_s();
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    if (e) {
        fprintf(stderr, "raw_consume: assign: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    long messages = 0, bytes = 0;
    unsigned sum = 0;
    int at_end = 0;
    double last = now_s();
    while (at_end < parts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if (now_s() - last > 30) {
                fprintf(stderr, "raw_consume: nothing for 30 s (%d of %d partitions ended)\n",
                        at_end, parts);
                return 1;
            }
            continue;
        }
        last = now_s();
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            at_end++;
        else if (m->err) {
            fprintf(stderr, "raw_consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return 1;
        } else {
            messages++;
            bytes += (long)m->len;
            const unsigned char *v = m->payload;
            for (size_t i = 0; i < m->len; i++)
                sum += v[i];
        }
        rd_kafka_message_destroy(m);
    }
    double dt = now_s() - t0;
    printf("command: %s %s %s %s\n", argv[0], argv[1], argv[2], argv[3]);
    printf("messages=%ld bytes=%ld seconds=%.3f rate=%.0f check=%u\n", messages, bytes, dt,
           (double)messages / dt, sum % 10);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}
