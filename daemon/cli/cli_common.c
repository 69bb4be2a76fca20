/* cli_common.c - config and store access, terminal text and JSON numbers shared by the churnwatch
 * subcommands */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/event.h"
#include "churnwatch/text_escape.h"
#include "cli.h"
#include "config_check.h"

int cw_cli_load_config(const struct cw_cli_opts *ctx, struct cw_config **out)
{
    static char errs[65536];
    errs[0] = '\0';
    *out = cw_config_load(ctx->config_path, cw_process_getenv, errs, sizeof errs);
    if (*out)
        return CW_EXIT_OK;
    fputs(errs, stderr);
    if (errs[0] && errs[strlen(errs) - 1] != '\n')
        fputc('\n', stderr);
    return CW_EXIT_USAGE;
}

/* The CLI finds the daemon's data only under the daemon's redis.key_prefix: when the store
 * knows no account under the CLI's (a scan that ended without any), say so
 * (docs/operations.md, "The key prefix") rather than silently show an empty store. */
static void warn_unused_prefix(cw_store *st, const struct cw_config *cfg)
{
    char ids[16][CW_ID_MAX + 1], err[256];
    uint64_t cursor = 0;
    int n = cw_store_scan_accounts(st, &cursor, ids, 16, err, sizeof err);
    if (n != 0 || cursor != 0) /* an account found, or an error (the command reports its own) */
        return;
    fprintf(stderr,
            "churnwatch: warning: no account is known under the Redis key prefix \"%s\" "
            "(redis.key_prefix): either no daemon has processed events yet, or it uses another "
            "prefix (its log line \"churnwatchd started\" names it)\n",
            cw_cli_text(cfg->redis.key_prefix ? cfg->redis.key_prefix : "cw:"));
}

int cw_cli_open_store(const struct cw_config *cfg, cw_store **out)
{
    char err[512];
    *out = cw_store_open(&cfg->redis, err, sizeof err);
    if (*out) {
        warn_unused_prefix(*out, cfg);
        return CW_EXIT_OK;
    }
    fprintf(stderr, "churnwatch: redis unavailable: %s\n", err);
    return CW_EXIT_UNAVAILABLE;
}

const char *cw_cli_text(const char *s)
{
    static char bufs[8][4 * CW_CLI_TEXT_MAX + 1]; /* an escape is at most 4 bytes per byte */
    static unsigned next;
    if (!s)
        return "-";
    char *buf = bufs[next++ % 8];
    size_t len = strnlen(s, CW_CLI_TEXT_MAX);
    cw_escape_display(buf, sizeof bufs[0], s, len);
    return buf;
}

double cw_cli_round2(double x)
{
    /* beyond 2^53 / 100 the cents are not representable: the value is shown as it is */
    if (!(fabs(x) < 9007199254740992.0 / 100.0))
        return x;
    double r = round(x * 100.0) / 100.0;
    return r == 0.0 ? 0.0 : r;
}

int cw_cli_json_only(int argc, char **argv, int n_operands, const char *usage, bool *json)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    *json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'j') {
            fprintf(stderr, "usage: %s\n", usage);
            return CW_EXIT_USAGE;
        }
        *json = true;
    }
    if (argc - optind != n_operands) {
        fprintf(stderr, "usage: %s\n", usage);
        return CW_EXIT_USAGE;
    }
    return 0;
}

bool cw_cli_grade_known(const struct cw_config *cfg, const char *grade)
{
    for (size_t g = 0; g < cfg->score.n_grades; g++)
        if (strcmp(cfg->score.grades[g].name, grade) == 0)
            return true;
    fprintf(stderr, "churnwatch: unknown grade '%s'; grades:", cw_cli_text(grade));
    for (size_t g = 0; g < cfg->score.n_grades; g++)
        fprintf(stderr, " %s", cfg->score.grades[g].name);
    fputc('\n', stderr);
    return false;
}

bool cw_cli_stage_known(const struct cw_config *cfg, const char *stage)
{
    for (size_t i = 0; i < cfg->score.n_stages; i++)
        if (strcmp(cfg->score.stages[i].name, stage) == 0)
            return true;
    fprintf(stderr, "churnwatch: unknown stage '%s'; stages:", cw_cli_text(stage));
    for (size_t i = 0; i < cfg->score.n_stages; i++)
        fprintf(stderr, " %s", cfg->score.stages[i].name);
    fprintf(stderr, "%s\n", cfg->score.n_stages ? "" : " (none configured)");
    return false;
}

bool cw_cli_profile_known(const struct cw_config *cfg, const char *profile)
{
    if (strcmp(profile, "default") == 0)
        return true;
    for (size_t i = 0; i < cfg->score.n_profiles; i++)
        if (strcmp(cfg->score.profiles[i].name, profile) == 0)
            return true;
    fprintf(stderr, "churnwatch: unknown profile '%s'; profiles: default", cw_cli_text(profile));
    for (size_t i = 0; i < cfg->score.n_profiles; i++)
        fprintf(stderr, " %s", cfg->score.profiles[i].name);
    fputc('\n', stderr);
    return false;
}

int64_t cw_cli_days_until(int64_t now_ms, int64_t at_ms)
{
    const int64_t day = 86400000;
    int64_t d = at_ms - now_ms;
    return d >= 0 ? d / day : -((-d + day - 1) / day);
}

json_t *cw_cli_json_number(bool has, double v)
{
    return has && isfinite(v) ? json_real(cw_cli_round2(v)) : json_null();
}

json_t *cw_cli_json_time(bool has, int64_t ms)
{
    char t[32];
    if (!has)
        return json_null();
    cw_rfc3339_format(ms, t);
    return json_string(t);
}

int cw_cli_open_tz(const struct cw_config *cfg, cw_tz **out)
{
    char err[256];
    *out = cw_tz_open(cfg->timezone, err, sizeof err);
    if (*out)
        return CW_EXIT_OK;
    fprintf(stderr, "churnwatch: %s\n", err);
    return CW_EXIT_USAGE;
}
