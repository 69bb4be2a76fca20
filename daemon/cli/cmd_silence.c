/* cmd_silence.c - `churnwatch silence|silences|unsilence`: a CSM already on the phone */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"
#include "cli.h"

/* Open config and store for a silence subcommand. */
static int open_all(const struct cw_cli_opts *ctx, struct cw_config **cfg, cw_store **st)
{
    int rc = cw_cli_load_config(ctx, cfg);
    if (rc != CW_EXIT_OK)
        return rc;
    return cw_cli_open_store(*cfg, st);
}

static int rule_known(const struct cw_config *cfg, const char *rule)
{
    for (size_t r = 0; r < cfg->n_rules; r++)
        if (strcmp(cfg->rules[r].name, rule) == 0)
            return 1;
    fprintf(stderr, "churnwatch: no rule '%s' in the config; rules:", rule);
    for (size_t r = 0; r < cfg->n_rules; r++)
        fprintf(stderr, " %s", cfg->rules[r].name);
    fputc('\n', stderr);
    return 0;
}

int cw_cmd_silence(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rule", required_argument, NULL, 'r'},
        {"for", required_argument, NULL, 'f'},
        {"reason", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *usage = "usage: churnwatch silence ID [--rule R] --for DURATION --reason TEXT\n";
    struct cw_silence s;
    memset(&s, 0, sizeof s);
    int64_t for_ms = 0;
    const char *reason = NULL, *rule = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rule = optarg;
            break;
        case 'f':
            if (cw_duration_parse(optarg, &for_ms) != 0 || for_ms <= 0) {
                fprintf(stderr, "churnwatch: --for wants a duration like 14d\n");
                return CW_EXIT_USAGE;
            }
            break;
        case 'm':
            reason = optarg;
            break;
        default:
            fputs(usage, stderr);
            return CW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || for_ms == 0 || !reason || !*reason) {
        fputs(usage, stderr);
        return CW_EXIT_USAGE;
    }
    if (strlen(argv[optind]) > CW_ID_MAX || strlen(rule) >= sizeof s.rule ||
        strlen(reason) >= sizeof s.reason) {
        fprintf(stderr, "churnwatch: account id, rule or reason too long\n");
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    char err[512];
    int rc = open_all(ctx, &cfg, &st);
    if (rc == CW_EXIT_OK && *rule && !rule_known(cfg, rule))
        rc = CW_EXIT_USAGE;
    if (rc == CW_EXIT_OK) {
        int64_t now = cw_wall_ms();
        snprintf(s.account_id, sizeof s.account_id, "%s", argv[optind]);
        snprintf(s.rule, sizeof s.rule, "%s", rule);
        snprintf(s.reason, sizeof s.reason, "%s", reason);
        s.created_ms = now;
        s.until_ms = now + for_ms;
        if (cw_store_silence_set(st, &s, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else {
            char until[32];
            cw_rfc3339_format(s.until_ms, until);
            printf("silenced %s (%s) until %s\n", cw_cli_text(s.account_id),
                   *rule ? cw_cli_text(rule) : "all rules", until);
        }
    }
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}

int cw_cmd_silences(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: churnwatch silences\n");
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    struct cw_silence *list = NULL;
    size_t n = 0;
    char err[512];
    int rc = open_all(ctx, &cfg, &st);
    if (rc == CW_EXIT_OK) {
        if (cw_store_silence_list(st, cw_wall_ms(), &list, &n, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else {
            printf("%-28s %-20s %-22s %s\n", "ACCOUNT", "RULE", "UNTIL", "REASON");
            for (size_t i = 0; i < n; i++) {
                char until[32];
                cw_rfc3339_format(list[i].until_ms, until);
                printf("%-28s %-20s %-22s %s\n", cw_cli_text(list[i].account_id),
                       list[i].rule[0] ? cw_cli_text(list[i].rule) : "(all)", until,
                       cw_cli_text(list[i].reason));
            }
        }
    }
    free(list);
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}

int cw_cmd_unsilence(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"rule", required_argument, NULL, 'r'},
                                             {NULL, 0, NULL, 0}};
    const char *rule = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'r') {
            fprintf(stderr, "usage: churnwatch unsilence ID [--rule R]\n");
            return CW_EXIT_USAGE;
        }
        rule = optarg;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: churnwatch unsilence ID [--rule R]\n");
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    char err[512];
    int rc = open_all(ctx, &cfg, &st);
    if (rc == CW_EXIT_OK) {
        if (cw_store_silence_delete(st, argv[optind], rule, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else {
            printf("unsilenced %s (%s)\n", cw_cli_text(argv[optind]),
                   *rule ? cw_cli_text(rule) : "all rules");
        }
    }
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}

int cw_cmd_rescore(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: churnwatch rescore\n");
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    char err[512];
    int rc = open_all(ctx, &cfg, &st);
    if (rc == CW_EXIT_OK) {
        if (cw_store_rescore_request(st, cw_wall_ms(), err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else {
            printf("rescore requested: the running daemon rescores every account on its next "
                   "sweep tick\n");
        }
    }
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}
