/* cmd_silence.c - `churnwatch silence|silences|unsilence|rescore`: a CSM already on the phone */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"
#include "churnwatch/window.h"
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

/* The active silences of the store at now into *list and *n (free() it); prints why on error. */
static int active_silences(cw_store *st, int64_t now, struct cw_silence **list, size_t *n)
{
    char err[512];
    if (cw_store_silence_list(st, now, list, n, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        return CW_EXIT_UNAVAILABLE;
    }
    return CW_EXIT_OK;
}

/* Whether silence s is one `unsilence ID [--rule R]` lifts (rule "" lifts every one). */
static bool lifted_by(const struct cw_silence *s, const char *id, const char *rule)
{
    return strcmp(s->account_id, id) == 0 && (!*rule || strcmp(s->rule, rule) == 0);
}

/* Whether the store holds any state of account id (it has sent at least one event). */
static int account_seen(const struct cw_config *cfg, cw_store *st, const char *id, int64_t now,
                        bool *seen)
{
    char err[512];
    struct cw_account_data *a = calloc(1, sizeof *a);
    cw_tz *tz = cw_tz_open(cfg->timezone, err, sizeof err);
    int rc = CW_EXIT_OK;
    const char *ids[1] = {id};
    if (!a || !tz) {
        fprintf(stderr, "churnwatch: %s\n", tz ? "out of memory" : err);
        rc = CW_EXIT_USAGE;
    } else if (cw_store_load(st, cfg, ids, 1, cw_tz_day(tz, now), a, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
    } else {
        *seen = a->exists;
    }
    if (a)
        cw_account_data_free(a);
    free(a);
    cw_tz_free(tz);
    return rc;
}

/* One silence as a JSON object: rule null means every rule. */
static json_t *silence_json(const struct cw_silence *s)
{
    char until[32], created[32];
    cw_rfc3339_format(s->until_ms, until);
    cw_rfc3339_format(s->created_ms, created);
    json_t *o = json_object();
    json_object_set_new(o, "account_id", json_string(s->account_id));
    json_object_set_new(o, "rule", s->rule[0] ? json_string(s->rule) : json_null());
    json_object_set_new(o, "created", json_string(created));
    json_object_set_new(o, "until", json_string(until));
    json_object_set_new(o, "reason", json_string(s->reason));
    return o;
}

int cw_cmd_silence(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rule", required_argument, NULL, 'r'},
        {"for", required_argument, NULL, 'f'},
        {"reason", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    const char *usage =
        "usage: churnwatch silence ID [--rule R] --for DURATION --reason TEXT [--json]\n";
    bool json = false;
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
        case 'j':
            json = true;
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
    if (rc == CW_EXIT_OK && for_ms > cfg->max_silence_ms) {
        char want[CW_DURATION_TEXT_MAX], max[CW_DURATION_TEXT_MAX];
        cw_duration_format(for_ms, want);
        cw_duration_format(cfg->max_silence_ms, max);
        fprintf(stderr, "churnwatch: --for %s is longer than max_silence (%s) of %s\n", want, max,
                cfg->path);
        rc = CW_EXIT_USAGE;
    }
    int64_t now = cw_wall_ms();
    bool seen = false;
    if (rc == CW_EXIT_OK)
        rc = account_seen(cfg, st, argv[optind], now, &seen);
    if (rc == CW_EXIT_OK && !seen)
        fprintf(stderr,
                "churnwatch: warning: the store has never seen account '%s' (a typo?); the "
                "silence is set and applies once its events arrive\n",
                cw_cli_text(argv[optind]));
    struct cw_silence *old = NULL;
    size_t n_old = 0;
    if (rc == CW_EXIT_OK)
        rc = active_silences(st, now, &old, &n_old);
    if (rc == CW_EXIT_OK) {
        snprintf(s.account_id, sizeof s.account_id, "%s", argv[optind]);
        snprintf(s.rule, sizeof s.rule, "%s", rule);
        snprintf(s.reason, sizeof s.reason, "%s", reason);
        s.created_ms = now;
        s.until_ms = now + for_ms;
        if (cw_store_silence_set(st, &s, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else if (json) {
            json_t *o = json_object(), *replaced = json_array();
            json_object_set_new(o, "silence", silence_json(&s));
            for (size_t i = 0; i < n_old; i++)
                if (strcmp(old[i].account_id, s.account_id) == 0 &&
                    strcmp(old[i].rule, s.rule) == 0)
                    json_array_append_new(replaced, silence_json(&old[i]));
            json_object_set_new(o, "replaced", replaced);
            json_object_set_new(o, "account_seen", json_boolean(seen));
            if (json_dumpf(o, stdout, CW_CLI_JSON_FLAGS) != 0)
                rc = CW_EXIT_UNAVAILABLE;
            putchar('\n');
            json_decref(o);
        } else {
            char until[32];
            cw_rfc3339_format(s.until_ms, until);
            printf("silenced %s (%s) until %s\n", cw_cli_text(s.account_id),
                   *rule ? cw_cli_text(rule) : "all rules", until);
            for (size_t i = 0; i < n_old; i++) {
                if (strcmp(old[i].account_id, s.account_id) != 0 ||
                    strcmp(old[i].rule, s.rule) != 0)
                    continue;
                cw_rfc3339_format(old[i].until_ms, until);
                printf("  replaced the silence until %s: %s\n", until, cw_cli_text(old[i].reason));
            }
        }
    }
    free(old);
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}

int cw_cmd_silences(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    bool json;
    if (cw_cli_json_only(argc, argv, 0, "churnwatch silences [--json]", &json) != 0)
        return CW_EXIT_USAGE;
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
        } else if (json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, silence_json(&list[i]));
            if (json_dumpf(arr, stdout, CW_CLI_JSON_FLAGS) != 0)
                rc = CW_EXIT_UNAVAILABLE;
            putchar('\n');
            json_decref(arr);
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
                                             {"json", no_argument, NULL, 'j'},
                                             {NULL, 0, NULL, 0}};
    const char *rule = "";
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'r') {
            rule = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            fprintf(stderr, "usage: churnwatch unsilence ID [--rule R] [--json]\n");
            return CW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: churnwatch unsilence ID [--rule R] [--json]\n");
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    char err[512];
    struct cw_silence *list = NULL;
    size_t n = 0, lifted = 0;
    int rc = open_all(ctx, &cfg, &st);
    if (rc == CW_EXIT_OK)
        rc = active_silences(st, cw_wall_ms(), &list, &n);
    for (size_t i = 0; rc == CW_EXIT_OK && i < n; i++)
        lifted += lifted_by(&list[i], argv[optind], rule);
    free(list);
    if (rc == CW_EXIT_OK && lifted == 0) {
        fprintf(stderr, "churnwatch: %s has no active silence (%s): nothing to lift\n",
                cw_cli_text(argv[optind]), *rule ? cw_cli_text(rule) : "any rule");
        rc = CW_EXIT_USAGE;
    }
    if (rc == CW_EXIT_OK) {
        if (cw_store_silence_delete(st, argv[optind], rule, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
        } else if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "account_id", json_string(argv[optind]));
            json_object_set_new(o, "rule", *rule ? json_string(rule) : json_null());
            json_object_set_new(o, "lifted", json_integer((json_int_t)lifted));
            if (json_dumpf(o, stdout, CW_CLI_JSON_FLAGS) != 0)
                rc = CW_EXIT_UNAVAILABLE;
            putchar('\n');
            json_decref(o);
        } else {
            printf("unsilenced %s (%s): %zu silence%s lifted\n", cw_cli_text(argv[optind]),
                   *rule ? cw_cli_text(rule) : "all rules", lifted, lifted == 1 ? "" : "s");
        }
    }
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}

int cw_cmd_rescore(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc != 1 && !json) {
        fprintf(stderr, "usage: churnwatch rescore [--json]\n");
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
            int alive = cw_store_daemon_alive(st, err, sizeof err);
            if (json) {
                json_t *o = json_object();
                json_object_set_new(o, "requested", json_true());
                /* null: whether a daemon is alive could not be read (err on stderr) */
                json_object_set_new(o, "daemon_alive",
                                    alive < 0 ? json_null() : json_boolean(alive > 0));
                if (alive < 0)
                    fprintf(stderr, "churnwatch: %s\n", err);
                if (json_dumpf(o, stdout, CW_CLI_JSON_FLAGS) != 0)
                    rc = CW_EXIT_UNAVAILABLE;
                putchar('\n');
                json_decref(o);
            } else if (alive > 0)
                printf("rescore requested: the running daemon rescores every account on its "
                       "next sweep tick\n");
            else
                printf("rescore requested, but no daemon has polled the store in the last %ds "
                       "(%s): the request waits an hour for one to start\n",
                       CW_STORE_ALIVE_TTL_MS / 1000, alive < 0 ? err : "none running");
        }
    }
    cw_store_close(st);
    cw_config_free(cfg);
    return rc;
}
