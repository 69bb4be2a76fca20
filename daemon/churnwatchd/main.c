/* main.c - churnwatchd entry point: options -> logging -> init -> run -> shutdown */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_check.h"
#include "daemon.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/churnwatch/churnwatch.yaml"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: churnwatchd [-c PATH] [--check-config] [--embedded-kafka [--partitions N]]\n"
        "                   [--batch N] [--batch-wait MS] [--version] [--help]\n"
        "\n"
        "  -c, --config PATH   configuration file (default " DEFAULT_CONFIG ")\n"
        "  -n, --check-config  validate the configuration and exit (0 valid, 1 not)\n"
        "  --embedded-kafka    run librdkafka's mock cluster in-process and consume from\n"
        "                      it; its bootstrap address is printed on stdout and written\n"
        "                      where `churnwatch produce` finds it (churnwatchd(8))\n"
        "  --partitions N      partitions per topic of the embedded cluster (default 16)\n"
        "  --batch N           messages per batch at most (default 200000)\n"
        "  --batch-wait MS     a batch is processed at most MS milliseconds after its first\n"
        "                      message came, sooner when nothing more is waiting (default 100)\n"
        "\n"
        "Environment: CHURNWATCH_* variables replace keys of the file and carry secrets;\n"
        "the complete list is docs/configuration.md \"Environment\" (churnwatchd(8)).\n"
        "Under systemd it sends READY=1 once consuming, WATCHDOG=1, STATUS=.\n"
        "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop gracefully.\n"
        "See churnwatchd(8).\n");
}

static int parse_size(const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct cw_options *opt)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'n'},
        {"embedded-kafka", no_argument, NULL, 'E'},
        {"partitions", required_argument, NULL, 'P'},
        {"batch", required_argument, NULL, 'B'},
        {"batch-wait", required_argument, NULL, 'W'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->config_path = optarg;
            break;
        case 'n':
            opt->check_config = true;
            break;
        case 'E':
            opt->embedded_kafka = true;
            break;
        case 'P':
            if (parse_size(optarg, 1, 1024, &v) != 0) {
                fprintf(stderr, "churnwatchd: --partitions must be 1..1024\n");
                return 1;
            }
            opt->embedded_partitions = (int)v;
            break;
        case 'B':
            if (parse_size(optarg, 1, 1000000, &v) != 0) {
                fprintf(stderr, "churnwatchd: --batch must be 1..1000000\n");
                return 1;
            }
            opt->batch_max = (size_t)v;
            break;
        case 'W':
            if (parse_size(optarg, 1, 60000, &v) != 0) {
                fprintf(stderr, "churnwatchd: --batch-wait must be 1..60000 (milliseconds)\n");
                return 1;
            }
            opt->batch_wait_ms = (int)v;
            break;
        case 'V':
            printf("churnwatchd %s\n", CW_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "churnwatchd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cw_daemon d;
    memset(&d, 0, sizeof d);
    d.opt = (struct cw_options){
        .config_path = DEFAULT_CONFIG,
        .embedded_partitions = 16, /* ~1 MB each of `churnwatch gen`'s 92k events */
        .batch_max = 200000,
        .batch_wait_ms = 100,
        .shutdown_timeout_ms = 10000,
    };
    if (parse_options(argc, argv, &d.opt) != 0)
        return 1;
    if (d.opt.check_config)
        return cw_config_check(d.opt.config_path, true, stdout, stderr);

    /* A stop requested while start-up waits for Redis is a clean exit, as during the run. */
    int init = cw_daemon_init(&d);
    int rc = init > 0 || (init == 0 && cw_daemon_run(&d) == 0) ? 0 : 1;
    cw_daemon_shutdown(&d);
    return rc;
}
