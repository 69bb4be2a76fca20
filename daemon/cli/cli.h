/* cli.h - the churnwatch subcommands and the options the dispatcher parses for them */
#ifndef CHURNWATCH_CLI_H
#define CHURNWATCH_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "churnwatch/window.h"
#include "store.h"
#include "wall_clock.h"

#define CW_DEFAULT_CONFIG "/etc/churnwatch/churnwatch.yaml"

/* Exit codes (churnwatch(1), EXIT STATUS). */
enum {
    CW_EXIT_OK = 0,
    CW_EXIT_USAGE = 1, /* a usage or config error */
    CW_EXIT_UNAVAILABLE = 2,
};

/* Global options, parsed before the subcommand name. */
struct cw_cli_opts {
    const char *config_path; /* -c PATH, default CW_DEFAULT_CONFIG */
};

/* A subcommand: argv[0] is its name; returns the process exit code. */
struct cw_cli_cmd {
    const char *name;
    const char *usage; /* arguments, for --help */
    const char *summary;
    int (*run)(const struct cw_cli_opts *opts, int argc, char **argv);
};

int cw_cmd_check_config(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_account(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_top(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_silence(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_silences(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_unsilence(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_rescore(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_produce(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_gen(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_demo(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_export(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_console(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_backtest(const struct cw_cli_opts *opts, int argc, char **argv);
int cw_cmd_users(const struct cw_cli_opts *opts, int argc, char **argv);

/* Users' engagement (docs/users.md, cmd_users.c): the value of power_users or ranked_users
 * at v's today; the summary `account` prints after its metrics, and its --json object (null
 * without a users section). */
double cw_cli_users_metric(const struct cw_config *cfg, const struct cw_account_view *v, size_t m);
void cw_cli_users_text(const struct cw_config *cfg, const struct cw_account_view *v);
json_t *cw_cli_users_json(const struct cw_config *cfg, const struct cw_account_view *v);

/* Load the config (with the environment overrides); on error print every
 * file:line:col line and return CW_EXIT_USAGE. */
int cw_cli_load_config(const struct cw_cli_opts *opts, struct cw_config **out);

/* Open cfg's time zone; on error print it and return CW_EXIT_USAGE. */
int cw_cli_open_tz(const struct cw_config *cfg, cw_tz **out);

/* Open the state store of cfg; on error print it and return CW_EXIT_UNAVAILABLE. */
int cw_cli_open_store(const struct cw_config *cfg, cw_store **out);

/*
 * s made safe for a terminal (text_escape.h, cw_escape_display): control and bidi
 * characters and invalid UTF-8 escaped, '\' doubled, so a hostile account id, segment or
 * reason can neither reorder nor recolour a table. Returns one of 8 static buffers, reused
 * in turn (several may appear in one printf); at most CW_CLI_TEXT_MAX input bytes are shown;
 * NULL shows as "-".
 * Not thread-safe. --json output is never passed through it: it stays the exact value.
 */
#define CW_CLI_TEXT_MAX 1024
const char *cw_cli_text(const char *s);

/* json_dumpf flags of every --json output: indented, in insertion order, and reals with 15
 * significant digits, as the alert schema prints them (docs/alerts.md): 0.17, never
 * 0.17000000000000001. */
#define CW_CLI_JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* Parse the options of a command whose only option is --json, which takes exactly
 * n_operands operands (found at argv[optind] on return). Sets *json; on anything else
 * prints "usage: USAGE" and returns CW_EXIT_USAGE, else 0. */
int cw_cli_json_only(int argc, char **argv, int n_operands, const char *usage, bool *json);

/* Whether grade names one of cfg's grade bands; if not, says on stderr which do. */
bool cw_cli_grade_known(const struct cw_config *cfg, const char *grade);
/* Likewise for a stage (score.stages) and a profile (score.profiles, or "default"). */
bool cw_cli_stage_known(const struct cw_config *cfg, const char *stage);
bool cw_cli_profile_known(const struct cw_config *cfg, const char *profile);

/* Whole days from now_ms to at_ms, rounded down (negative once at_ms has passed). */
int64_t cw_cli_days_until(int64_t now_ms, int64_t at_ms);

/* JSON values of the CLI's --json and JSON Lines output: a number rounded as cw_cli_round2,
 * an RFC 3339 UTC time, or null when has is false (or the number is not finite). */
json_t *cw_cli_json_number(bool has, double v);
json_t *cw_cli_json_time(bool has, int64_t ms);

/* x rounded to 2 decimals (as alert numbers are), -0 folded into 0. */
double cw_cli_round2(double x);

/* The filters of `churnwatch top` and of the console's accounts page (cli_accounts.c). The
 * strings are the caller's; NULL or 0: no filter. */
struct cw_cli_filter {
    const char *grade;
    const char *segment;
    const char *owner;
    const char *stage;         /* the account's lifecycle stage at now */
    const char *profile;       /* the scorecard that scores it at now */
    int64_t created_within_ms; /* created at most this long before now */
    int64_t renewal_within_ms; /* renewal at now or at most this far ahead */
    const char *parent;        /* the account's parent_id trait */
};

/* Whether account a, evaluated at now as e, passes every filter of f. */
bool cw_cli_filter_keep(const struct cw_cli_filter *f, const struct cw_account_data *a,
                        const struct cw_account_eval *e, int64_t now);

/* The week's trend of a evaluated as e: "up", "down" or "flat" (more than 2 points either
 * way) against its stored score of 7 to 13 days ago; "-" without either. */
const char *cw_cli_trend(const struct cw_account_data *a, const struct cw_account_eval *e);

/* Called with each account of a scan; non-zero stops the scan (cli_scan.c). */
typedef int (*cw_cli_account_fn)(void *ctx, const struct cw_account_data *a);

/* Every account of the store (each present for the whole scan at least once; one that
 * expired meanwhile skipped), loaded for today, to fn, a page of 64 at a time so that the
 * memory does not grow with the accounts. Returns 0, -1 with err (the store failed or
 * memory ran out), or fn's non-zero return. */
int cw_cli_scan_accounts(const struct cw_config *cfg, cw_store *st, int32_t today,
                         cw_cli_account_fn fn, void *ctx, char *err, size_t errsize);

/* cw_cli_scan_accounts of the accounts `want` accepts only: want (non-zero: wanted) sees
 * each page's accounts with their metadata (traits, last_seen) and rule states alone, 2
 * reads an account, and only the wanted ones are loaded whole for fn. want NULL: all. */
int cw_cli_scan_accounts_where(const struct cw_config *cfg, cw_store *st, int32_t today,
                               cw_cli_account_fn want, cw_cli_account_fn fn, void *ctx, char *err,
                               size_t errsize);

/* One child of a parent account, scored now (cli_children.c). */
struct cw_cli_child {
    char id[CW_ID_MAX + 1];
    bool has_score;
    double score;
    const char *grade; /* into the config's grade bands; "" without a score */
    bool has_seats;
    int64_t seats;
};

/* The children of a parent, in id order: at most CW_HIERARCHY_MAX_CHILDREN of them, and the
 * number of those left out; their scores rolled up by the config's hierarchy.rollup. */
struct cw_cli_children {
    struct cw_cli_child *items;
    size_t n;
    size_t more; /* children found beyond the cap, not listed nor rolled up */
    bool has_rollup;
    double rollup;
    const char *rollup_grade;
};

/* Find the children of parent (accounts whose parent_id trait it is) through the parent's
 * index, or, when it has none, by a scan of every stored account, a page at a time. 0, or -1
 * with err (and *out empty). */
int cw_cli_children_find(const struct cw_config *cfg, cw_store *st, int32_t today, int64_t now,
                         const char *parent, struct cw_cli_children *out, char *err,
                         size_t errsize);

/* Release what cw_cli_children_find filled; NULL is a no-op. */
void cw_cli_children_free(struct cw_cli_children *c);

#endif /* CHURNWATCH_CLI_H */
