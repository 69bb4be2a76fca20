/* diy_consumer.c - the yardstick: the usage consumer a platform team writes in an afternoon
 * (librdkafka + hiredis + jansson), per-event Redis writes pipelined, at-least-once */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * What it does, per message of TOPIC (the churnwatch native event, JSON): parse it with
 * jansson; take account_id, type, ts (RFC 3339; its first ten characters are the UTC day)
 * and user_id; append to a hiredis pipeline
 *
 *   HINCRBY diy:{account}:counts:DAY TYPE 1      per-(account, day) counter per event type
 *   PFADD   diy:{account}:users:DAY USER         per-(account, day) distinct users (HLL)
 *   HSET    diy:{account} last_seen TS           the time of the account's last event read
 *
 * (PFADD is left out when an event has no user_id). Every --pipeline events (1,000), or
 * when a poll brings nothing within 100 ms, it reads all the replies, then
 * commits the consumed offsets asynchronously (rd_kafka_commit async; the final commit is
 * synchronous): an offset is committed only after its event's writes were acknowledged,
 * so a crash replays, never loses (at-least-once; counters then count twice). No scoring,
 * no rules, no alerts, no reconnection: a Redis error ends the run.
 *
 * A message that is not such an event counts as bad and is skipped (committed with the
 * rest). It stops once it has consumed --count messages (bad ones included) and prints
 * "messages=N ... seconds=S rate=R first_message_seconds=F rate_from_first=RF": S from its
 * start (group join included) to the last flush acknowledged, RF over the time from the
 * first message on.
 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct options {
    const char *brokers;
    const char *topic;
    const char *group;
    char redis_host[256];
    int redis_port;
    long count;
    long pipeline;
    double idle_timeout_s;
};

struct run {
    rd_kafka_t *rk;
    redisContext *redis;
    long messages;     /* consumed (bad included) */
    long bad;          /* not an event: skipped */
    long pending_cmds; /* appended, replies not read yet */
    long pending_msgs; /* messages whose writes are in the pipeline */
    long commands;     /* sent in all */
    long flushes;
    long commit_failures;
};

static void usage(FILE *to)
{
    fprintf(to, "usage: diy_consumer --brokers B --topic T --redis HOST:PORT --count N\n"
                "                    [--group G] [--pipeline N] [--idle-timeout SECONDS]\n"
                "  --group         consumer group (default diy-consumer)\n"
                "  --pipeline      events per Redis round trip and commit (default 1000)\n"
                "  --idle-timeout  give up after this long without a message (default 60)\n");
}

/* parse_long TEXT MIN: a whole number >= MIN, or -1. */
static long parse_long(const char *text, long min)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min)
        return -1;
    return v;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"brokers", required_argument, NULL, 'b'},
                                             {"topic", required_argument, NULL, 't'},
                                             {"group", required_argument, NULL, 'g'},
                                             {"redis", required_argument, NULL, 'r'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"pipeline", required_argument, NULL, 'p'},
                                             {"idle-timeout", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *o = (struct options){.group = "diy-consumer", .pipeline = 1000, .idle_timeout_s = 60};
    const char *redis = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            o->brokers = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'g':
            o->group = optarg;
            break;
        case 'r':
            redis = optarg;
            break;
        case 'n':
            if ((o->count = parse_long(optarg, 1)) < 0) {
                fprintf(stderr, "diy_consumer: --count %s: not a positive number\n", optarg);
                return -1;
            }
            break;
        case 'p':
            if ((o->pipeline = parse_long(optarg, 1)) < 0) {
                fprintf(stderr, "diy_consumer: --pipeline %s: not a positive number\n", optarg);
                return -1;
            }
            break;
        case 'i': {
            long s = parse_long(optarg, 1);
            if (s < 0) {
                fprintf(stderr, "diy_consumer: --idle-timeout %s: not a positive number\n", optarg);
                return -1;
            }
            o->idle_timeout_s = (double)s;
            break;
        }
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || !o->brokers || !o->topic || !redis || !o->count) {
        usage(stderr);
        return -1;
    }
    const char *colon = strrchr(redis, ':');
    long port = colon ? parse_long(colon + 1, 1) : -1;
    if (!colon || colon == redis || (size_t)(colon - redis) >= sizeof o->redis_host ||
        port > 65535 || port < 0) {
        fprintf(stderr, "diy_consumer: --redis %s: expected HOST:PORT\n", redis);
        return -1;
    }
    memcpy(o->redis_host, redis, (size_t)(colon - redis));
    o->redis_host[colon - redis] = '\0';
    o->redis_port = (int)port;
    return 0;
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)offsets;
    struct run *r = opaque;
    /* _NO_OFFSET: nothing consumed since the previous commit */
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        r->commit_failures++;
        fprintf(stderr, "diy_consumer: offset commit failed: %s\n", rd_kafka_err2str(err));
    }
}

static rd_kafka_t *consumer_new(const struct options *o, struct run *r)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Commits are ours (after each flush); the fetch settings are churnwatchd's. */
    const char *kv[][2] = {
        {"bootstrap.servers", o->brokers},      {"group.id", o->group},
        {"client.id", "diy-consumer"},          {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},      {"max.partition.fetch.bytes", "262144"},
        {"queued.max.messages.kbytes", "8192"}, {"fetch.wait.max.ms", "50"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "diy_consumer: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) { /* the conf is still ours on failure */
        fprintf(stderr, "diy_consumer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        fprintf(stderr, "diy_consumer: subscribe %s: %s\n", o->topic, rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* A string member of an object, with its length, or NULL. */
static const char *member(json_t *obj, const char *key, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

/* Appends the event's writes to the pipeline: 0, or 1 if the message is not an event (it
 * is skipped), or -1 if hiredis could not take the commands (out of memory). */
static int append_event(struct run *r, const rd_kafka_message_t *m)
{
    json_error_t jerr;
    json_t *ev = json_loadb(m->payload, m->len, 0, &jerr);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return 1;
    }
    size_t alen = 0, tlen = 0, tslen = 0, ulen = 0;
    const char *account = member(ev, "account_id", &alen);
    const char *type = member(ev, "type", &tlen);
    const char *ts = member(ev, "ts", &tslen);
    const char *user = member(ev, "user_id", &ulen);
    if (!account || !alen || !type || !tlen || !ts || tslen < 10) {
        json_decref(ev);
        return 1;
    }
    /* the day is the date of the RFC 3339 time, taken as written */
    int ok = redisAppendCommand(r->redis, "HINCRBY diy:{%b}:counts:%b %b 1", account, alen, ts,
                                (size_t)10, type, tlen) == REDIS_OK;
    r->pending_cmds += ok;
    if (ok && user && ulen) {
        ok = redisAppendCommand(r->redis, "PFADD diy:{%b}:users:%b %b", account, alen, ts,
                                (size_t)10, user, ulen) == REDIS_OK;
        r->pending_cmds += ok;
    }
    if (ok) {
        ok = redisAppendCommand(r->redis, "HSET diy:{%b} last_seen %b", account, alen, ts, tslen) ==
             REDIS_OK;
        r->pending_cmds += ok;
    }
    json_decref(ev);
    if (!ok) {
        fprintf(stderr, "diy_consumer: redis: %s\n", r->redis->errstr);
        return -1;
    }
    return 0;
}

/* Reads every pending reply, then commits what was consumed (async unless final). */
static int flush(struct run *r, bool final)
{
    for (; r->pending_cmds > 0; r->pending_cmds--) {
        void *reply = NULL;
        if (redisGetReply(r->redis, &reply) != REDIS_OK) {
            fprintf(stderr, "diy_consumer: redis: %s\n", r->redis->errstr);
            return -1;
        }
        redisReply *rep = reply;
        if (rep->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "diy_consumer: redis: %s\n", rep->str);
            freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
        r->commands++;
    }
    if (r->pending_msgs == 0 && !final)
        return 0;
    r->pending_msgs = 0;
    r->flushes++;
    /* With enable.auto.offset.store (the default) the stored offsets are those of the
     * messages poll returned, every one of them now written. */
    rd_kafka_resp_err_t e = rd_kafka_commit(r->rk, NULL, final ? 0 : 1);
    if (final && e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        fprintf(stderr, "diy_consumer: final offset commit: %s\n", rd_kafka_err2str(e));
        r->commit_failures++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    double t0 = now_s();
    struct run r = {0};
    r.redis = redisConnect(o.redis_host, o.redis_port);
    if (!r.redis || r.redis->err) {
        fprintf(stderr, "diy_consumer: redis %s:%d: %s\n", o.redis_host, o.redis_port,
                r.redis ? r.redis->errstr : "out of memory");
        redisFree(r.redis);
        return 1;
    }
    r.rk = consumer_new(&o, &r);
    if (!r.rk) {
        redisFree(r.redis);
        return 1;
    }
    int rc = 0;
    double first = 0, last = now_s();
    while (r.messages < o.count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r.rk, 100);
        if (!m) { /* nothing for 100 ms: acknowledge what is pending, not sit on it */
            if (flush(&r, false) != 0) {
                rc = 1;
                break;
            }
            if (now_s() - last > o.idle_timeout_s) {
                fprintf(stderr, "diy_consumer: no message for %.0f s (%ld of %ld consumed)\n",
                        o.idle_timeout_s, r.messages, o.count);
                rc = 1;
                break;
            }
            continue;
        }
        last = now_s();
        if (m->err) {
            fprintf(stderr, "diy_consumer: %s\n", rd_kafka_message_errstr(m));
            bool fatal = m->err == RD_KAFKA_RESP_ERR__FATAL;
            rd_kafka_message_destroy(m);
            if (fatal) {
                rc = 1;
                break;
            }
            continue;
        }
        if (r.messages == 0)
            first = last;
        r.messages++;
        int appended = append_event(&r, m);
        rd_kafka_message_destroy(m);
        if (appended < 0) {
            rc = 1;
            break;
        }
        if (appended > 0)
            r.bad++;
        else
            r.pending_msgs++;
        if ((r.pending_msgs >= o.pipeline || r.messages >= o.count) &&
            flush(&r, r.messages >= o.count) != 0) {
            rc = 1;
            break;
        }
    }
    double done = now_s();
    if (rc == 0) {
        double from_first = done - first;
        printf("command:");
        for (int i = 0; i < argc; i++)
            printf(" %s", argv[i]);
        printf("\nmessages=%ld bad=%ld redis_commands=%ld flushes=%ld commit_failures=%ld "
               "seconds=%.3f rate=%.0f first_message_seconds=%.3f rate_from_first=%.0f\n",
               r.messages, r.bad, r.commands, r.flushes, r.commit_failures, done - t0,
               (double)r.messages / (done - t0), first - t0,
               from_first > 0 ? (double)r.messages / from_first : 0.0);
    }
    rd_kafka_consumer_close(r.rk);
    rd_kafka_destroy(r.rk);
    redisFree(r.redis);
    return rc;
}
