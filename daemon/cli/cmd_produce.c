/* cmd_produce.c - `churnwatch produce FILE|-`: JSON Lines to the input topic */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"
#include "cli.h"
#include "embedded_addr.h"
#include "kafka.h"

#define FLUSH_EVERY 10000
#define WAIT_MS     60000

enum key_mode { KEY_NONE, KEY_ACCOUNT, KEY_USER };

static void usage(void)
{
    fprintf(stderr, "usage: churnwatch produce FILE|- [--brokers LIST] [--topic T]\n"
                    "                          [--key none|account|user] [--force]\n"
                    "Refuses the alert and DLQ topics and a line that is not a JSON object\n"
                    "(lines before it are sent) unless --force.\n"
                    "Brokers: --brokers, else CHURNWATCH_KAFKA_BROKERS, else the embedded Kafka\n"
                    "of a `churnwatchd --embedded-kafka` of this user, else kafka.brokers.\n");
}

/* The brokers to use when neither --brokers nor CHURNWATCH_KAFKA_BROKERS names them: a
 * running `churnwatchd --embedded-kafka` of this user, or NULL (kafka.brokers). */
static const char *embedded_brokers(char *buf, size_t size)
{
    const char *env = getenv("CHURNWATCH_KAFKA_BROKERS");
    long pid;
    if ((env && *env) || !cw_embedded_addr_find(buf, size, &pid))
        return NULL;
    fprintf(stderr, "churnwatch: producing to the embedded Kafka of churnwatchd (pid %ld) at %s\n",
            pid, buf);
    return buf;
}

/* The message key of one line: the decoded account or user id, or none. */
static const char *line_key(cw_decoder *dec, enum key_mode mode, const char *line, size_t len,
                            struct cw_event *ev)
{
    if (mode == KEY_NONE)
        return NULL;
    char reason[64];
    if (cw_decode(dec, line, len, 0, ev, reason, sizeof reason) != CW_OK)
        return NULL;
    const char *k = mode == KEY_ACCOUNT ? ev->account_id : ev->user_id;
    return *k ? k : NULL;
}

/* Whether line is one JSON object (what the daemon's decoder accepts at all). */
static bool json_object_line(const char *line, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = v && json_is_object(v);
    json_decref(v);
    return ok;
}

static int produce(const struct cw_config *cfg, FILE *in, const char *brokers, const char *topic,
                   enum key_mode mode, bool force)
{
    char err[512];
    cw_producer *p = cw_producer_new(&cfg->kafka, brokers, err, sizeof err);
    if (!p) {
        fprintf(stderr, "churnwatch: %s\n", err);
        return CW_EXIT_UNAVAILABLE;
    }
    cw_decoder *dec = cw_decoder_new(cfg, err, sizeof err);
    struct cw_event *ev = malloc(sizeof *ev);
    char *line = NULL;
    size_t cap = 0, sent = 0, lineno = 0;
    ssize_t len;
    int rc = CW_EXIT_OK;
    if (!dec || !ev) {
        fprintf(stderr, "churnwatch: %s\n", dec ? "out of memory" : err);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (!force && !json_object_line(line, (size_t)len)) {
            fprintf(stderr,
                    "churnwatch: line %zu is not a JSON object; stopped (%zu sent before it; "
                    "--force sends such lines)\n",
                    lineno, sent);
            rc = CW_EXIT_USAGE;
            break;
        }
        const char *key = line_key(dec, mode, line, (size_t)len, ev);
        if (cw_producer_send(p, topic, key, key ? strlen(key) : 0, line, (size_t)len, NULL, 0, err,
                             sizeof err) != 0) {
            fprintf(stderr, "churnwatch: line %zu: %s\n", lineno, err);
            rc = CW_EXIT_UNAVAILABLE;
            goto out;
        }
        if (++sent % FLUSH_EVERY == 0 && cw_producer_wait(p, WAIT_MS, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: delivery failed: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
            goto out;
        }
    }
    int w = cw_producer_wait(p, WAIT_MS, err, sizeof err);
    if (w != 0 && rc == CW_EXIT_OK) {
        fprintf(stderr, "churnwatch: delivery failed: %s\n",
                w > 0 ? "not acknowledged in time" : err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    if (rc == CW_EXIT_OK)
        fprintf(stderr, "churnwatch: produced %zu messages to %s\n", sent, topic);
out:
    free(line);
    free(ev);
    cw_decoder_free(dec);
    cw_producer_close(p, 10000);
    return rc;
}

int cw_cmd_produce(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"key", required_argument, NULL, 'k'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = NULL, *topic = NULL;
    enum key_mode mode = KEY_NONE;
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'k':
            if (strcmp(optarg, "none") == 0)
                mode = KEY_NONE;
            else if (strcmp(optarg, "account") == 0)
                mode = KEY_ACCOUNT;
            else if (strcmp(optarg, "user") == 0)
                mode = KEY_USER;
            else {
                usage();
                return CW_EXIT_USAGE;
            }
            break;
        default:
            usage();
            return CW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        usage();
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        return rc;
    if (!topic)
        topic = cfg->kafka.topics.items[0];
    const char *own = strcmp(topic, cfg->kafka.alerts_topic) == 0                  ? "alert"
                      : strcmp(topic, cfg->kafka.dlq_topic) == 0                   ? "DLQ"
                      : cfg->scores.topic && strcmp(topic, cfg->scores.topic) == 0 ? "score feed"
                                                                                   : NULL;
    if (own && !force) {
        fprintf(stderr,
                "churnwatch: '%s' is the %s topic of %s; the daemon writes it (--force to "
                "produce there anyway)\n",
                cw_cli_text(topic), own, cfg->path);
        cw_config_free(cfg);
        return CW_EXIT_USAGE;
    }
    const char *path = argv[optind];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        perror(path);
        rc = CW_EXIT_USAGE;
    } else {
        char embedded[1024];
        if (!brokers)
            brokers = embedded_brokers(embedded, sizeof embedded);
        rc = produce(cfg, in, brokers, topic, mode, force);
        if (in != stdin)
            fclose(in);
    }
    cw_config_free(cfg);
    return rc;
}
