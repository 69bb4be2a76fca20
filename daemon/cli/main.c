/* main.c - churnwatch CLI entry point: global options, then one of the cmd_*.c subcommands */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kafka_conf.h"
#include "log.h"

static const struct cw_cli_cmd commands[] = {
    {"account", "ID [--json]", "explain one account's score, measures, trend and alerts",
     cw_cmd_account},
    {"top",
     "[--grade G] [--segment S] [--owner O] [--parent P] [--created-within D] "
     "[--renewal-within D] "
     "[--stage S] [--profile P] [--limit N | --all] [--json]",
     "accounts by score, lowest first", cw_cmd_top},
    {"check-config", "[--no-env] [FILE]", "validate a config file", cw_cmd_check_config},
    {"produce", "FILE|- [--brokers LIST] [--topic T] [--key none|account|user] [--force]",
     "send JSON Lines to the input topic", cw_cmd_produce},
    {"silence", "ID [--rule R] --for DURATION --reason TEXT [--json]",
     "stop publishing an account's alerts for a while", cw_cmd_silence},
    {"silences", "[--json]", "list active silences", cw_cmd_silences},
    {"unsilence", "ID [--rule R] [--json]", "lift a silence", cw_cmd_unsilence},
    {"rescore", "[--json]", "ask the running daemon to rescore every account", cw_cmd_rescore},
    {"export",
     "[--format jsonl|csv] [--history] [--spreadsheet] [--segment S] [--owner O] [--grade G] "
     "[-o FILE]",
     "every account's score, traits and score history for a warehouse or a spreadsheet",
     cw_cmd_export},
    {"console", "[--listen HOST:PORT] [--allow-host NAME]... [--token-file FILE]",
     "the web console, read-only unless an operator token is set (default 127.0.0.1:9465)",
     cw_cmd_console},
    {"gen",
     "[--seed N] [--accounts N] [--fates F=N,...] [--days N] [--end RFC3339|now] "
     "[--form native|segment|cloudevents] [--manifest FILE] [-o FILE]",
     "write a seeded synthetic usage history as JSON Lines", cw_cmd_gen},
    {"backtest",
     "[--baseline FILE] [--since 90d|DATE] [--outcomes FILE | --churn-event TYPE] [--json] "
     "[--html OUT] [--batch N] [--episodes OUT] --from-topic | FILE...",
     "replay a JSON Lines history through the config in memory: what its rules would have done",
     cw_cmd_backtest},
    {"users", "ACCOUNT [--json]", "an account's users by engagement rank, points and trend",
     cw_cmd_users},
    {"demo", "[--accounts N] [--days N] [--seed N] [--keep]",
     "the daemon on an embedded Kafka and a private Redis, fed a generated history", cw_cmd_demo},
};

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: churnwatch [-c PATH] COMMAND [ARGS]\n"
                 "       churnwatch COMMAND -h|--help\n"
                 "       churnwatch --help | --version\n"
                 "options:\n"
                 "  -c, --config PATH  config file (default " CW_DEFAULT_CONFIG ")\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].usage,
                commands[i].summary);
    return code;
}

/* `churnwatch COMMAND -h|--help` (anywhere before a "--"): the command's usage on stdout, exit 0.
 * check-config and gen print a longer help of their own. */
static bool wants_help(const struct cw_cli_cmd *cmd, int argc, char **argv)
{
    if (strcmp(cmd->name, "check-config") == 0 || strcmp(cmd->name, "gen") == 0)
        return false;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    struct cw_cli_opts opts = {.config_path = CW_DEFAULT_CONFIG};
    /* The client libraries log through cw_log; a CLI shows only what went wrong. */
    cw_log_setup(CW_LOG_WARN, CW_LOG_LOGFMT);
    cw_kafka_set_program("churnwatch"); /* client.id and librdkafka's lines: not the daemon's */
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("churnwatch %s\n", CW_VERSION);
            return CW_EXIT_OK;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, CW_EXIT_OK);
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            opts.config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9]) {
            opts.config_path = argv[i] + 9;
        } else {
            fprintf(stderr, "churnwatch: unknown or incomplete option '%s'\n", argv[i]);
            return usage(stderr, CW_EXIT_USAGE);
        }
    }
    if (i == argc) {
        fprintf(stderr, "churnwatch: no command given\n");
        return usage(stderr, CW_EXIT_USAGE);
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0) {
            if (wants_help(&commands[c], argc - i, argv + i)) {
                printf("usage: churnwatch [-c PATH] %s %s\n  %s\n", commands[c].name,
                       commands[c].usage, commands[c].summary);
                return CW_EXIT_OK;
            }
            return commands[c].run(&opts, argc - i, argv + i);
        }
    fprintf(stderr, "churnwatch: unknown command '%s'\n", argv[i]);
    return usage(stderr, CW_EXIT_USAGE);
}
