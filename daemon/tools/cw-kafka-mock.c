/* cw-kafka-mock.c - a standalone librdkafka mock cluster with fault commands on stdin */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "log.h"

#define MAX_TOPICS     64
#define MAX_ERRORS     1000 /* per "errors" command */
#define LINE_MAX_BYTES 1024
#define POLL_TICK_MS   200

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: cw-kafka-mock [--brokers N] --topic NAME:PARTITIONS [--topic ...]\n"
                 "Starts librdkafka's mock cluster, prints bootstrap=HOST:PORT,... on the first\n"
                 "line, then serves until SIGTERM/SIGINT or end of stdin. Commands on stdin, one\n"
                 "per line, each answered with \"ok\" or \"error REASON\":\n"
                 "  broker-down ID | broker-up ID | rtt BROKER MS\n"
                 "  leader TOPIC PARTITION BROKER\n"
                 "  errors APIKEY COUNT ERRCODE   (next COUNT requests of APIKEY fail)\n"
                 "  topic NAME PARTITIONS\n"
                 "APIKEY is a number or Produce, Fetch, ListOffsets, Metadata, OffsetCommit,\n"
                 "OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup,\n"
                 "InitProducerId; ERRCODE a number or a name such as NOT_LEADER_FOR_PARTITION.\n");
}

/* Parse a whole decimal integer within [lo, hi]. 0 or -1. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"InitProducerId", 22},
};

/* An ApiKey by number or name. 0 or -1. */
static int parse_api_key(const char *s, int16_t *out)
{
    long v;
    if (parse_long(s, 0, INT16_MAX, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
        if (strcasecmp(s, api_keys[i].name) == 0) {
            *out = api_keys[i].key;
            return 0;
        }
    return -1;
}

/* An error code by number or name (with or without the leading '_' of local errors). */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    long v;
    if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    return -1;
}

/* Run one command line against the cluster; the answer is written to out. */
static void run_command(rd_kafka_mock_cluster_t *mc, char *line, char *out, size_t outsize)
{
    char *argv[5];
    int argc = 0;
    for (char *tok = strtok(line, " \t\r"); tok; tok = strtok(NULL, " \t\r")) {
        if (argc == 5) {
            snprintf(out, outsize, "error too many arguments");
            return;
        }
        argv[argc++] = tok;
    }
    if (argc == 0) {
        out[0] = '\0'; /* blank line: no answer */
        return;
    }
    long a, b;
    rd_kafka_resp_err_t e;
    const char *cmd = argv[0];
    if ((strcmp(cmd, "broker-down") == 0 || strcmp(cmd, "broker-up") == 0) && argc == 2) {
        if (parse_long(argv[1], 0, INT32_MAX, &a) != 0) {
            snprintf(out, outsize, "error bad broker id");
            return;
        }
        e = cmd[7] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)a)
                          : rd_kafka_mock_broker_set_up(mc, (int32_t)a);
    } else if (strcmp(cmd, "rtt") == 0 && argc == 3) {
        if (parse_long(argv[1], 0, INT32_MAX, &a) != 0 || parse_long(argv[2], 0, INT_MAX, &b)) {
            snprintf(out, outsize, "error usage: rtt BROKER MS");
            return;
        }
        e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
    } else if (strcmp(cmd, "leader") == 0 && argc == 4) {
        if (parse_long(argv[2], 0, INT32_MAX, &a) != 0 ||
            parse_long(argv[3], -1, INT32_MAX, &b) != 0) {
            snprintf(out, outsize, "error usage: leader TOPIC PARTITION BROKER");
            return;
        }
        e = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b);
    } else if (strcmp(cmd, "errors") == 0 && argc == 4) {
        int16_t key;
        rd_kafka_resp_err_t code;
        if (parse_api_key(argv[1], &key) != 0 || parse_long(argv[2], 1, MAX_ERRORS, &a) != 0 ||
            parse_err(argv[3], &code) != 0) {
            snprintf(out, outsize, "error usage: errors APIKEY COUNT(1-%d) ERRCODE", MAX_ERRORS);
            return;
        }
        rd_kafka_resp_err_t codes[MAX_ERRORS];
        for (long i = 0; i < a; i++)
            codes[i] = code;
        rd_kafka_mock_push_request_errors_array(mc, key, (size_t)a, codes);
        e = RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (strcmp(cmd, "topic") == 0 && argc == 3) {
        if (parse_long(argv[2], 1, 100000, &a) != 0) {
            snprintf(out, outsize, "error usage: topic NAME PARTITIONS");
            return;
        }
        e = rd_kafka_mock_topic_create(mc, argv[1], (int)a, 1);
    } else {
        snprintf(out, outsize, "error unknown command or wrong arguments: %s", cmd);
        return;
    }
    if (e)
        snprintf(out, outsize, "error %s", rd_kafka_err2str(e));
    else
        snprintf(out, outsize, "ok");
}

/* Serve stdin commands until a signal or end of input. Returns the exit status. */
static int serve(rd_kafka_mock_cluster_t *mc)
{
    char buf[LINE_MAX_BYTES];
    size_t len = 0;
    bool discarding = false; /* inside an over-long line */
    while (!stop_requested) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&pfd, 1, POLL_TICK_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            cw_log_errno(CW_LOG_ERROR, "poll stdin failed", "tool=cw-kafka-mock");
            return 1;
        }
        if (r == 0)
            continue;
        ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            cw_log_errno(CW_LOG_ERROR, "read stdin failed", "tool=cw-kafka-mock");
            return 1;
        }
        if (n == 0)
            return 0; /* end of input */
        len += (size_t)n;
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = '\0';
            char answer[512];
            if (discarding) {
                snprintf(answer, sizeof answer, "error line too long");
                discarding = false;
            } else {
                run_command(mc, buf, answer, sizeof answer);
            }
            if (answer[0]) {
                printf("%s\n", answer);
                fflush(stdout);
            }
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
        }
        if (len == sizeof buf - 1) { /* no newline in a full buffer */
            discarding = true;
            len = 0;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    long brokers = 1;
    char *topics[MAX_TOPICS];
    long parts[MAX_TOPICS];
    size_t n_topics = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 64, &brokers) != 0) {
                fprintf(stderr, "cw-kafka-mock: --brokers: expected 1..64\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            char *spec = argv[++i];
            char *colon = strrchr(spec, ':');
            if (n_topics == MAX_TOPICS || !colon || colon == spec ||
                parse_long(colon + 1, 1, 100000, &parts[n_topics]) != 0) {
                fprintf(stderr, "cw-kafka-mock: --topic %s: expected NAME:PARTITIONS\n", spec);
                return 2;
            }
            *colon = '\0';
            topics[n_topics++] = spec;
        } else {
            usage(stderr);
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    cw_mock_kafka *m = cw_mock_kafka_start((int)brokers, NULL, 0, 1, err, sizeof err);
    if (!m) {
        fprintf(stderr, "cw-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = cw_mock_kafka_cluster(m);
    for (size_t i = 0; i < n_topics; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], (int)parts[i], 1);
        if (e) {
            fprintf(stderr, "cw-kafka-mock: create topic %s: %s\n", topics[i], rd_kafka_err2str(e));
            cw_mock_kafka_stop(m);
            return 1;
        }
    }
    printf("bootstrap=%s\n", cw_mock_kafka_bootstrap(m));
    fflush(stdout);

    int status = serve(mc);
    cw_mock_kafka_stop(m);
    return status;
}
