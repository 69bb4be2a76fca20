/* cmd_top.c - `churnwatch top`: accounts ordered by score, lowest first, with filters */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/window.h"
#include "cli.h"

#define SCAN_MIN      1000 /* lowest scores fetched before filtering */
#define SEGMENTS_SEEN 32   /* distinct segments remembered for an unknown --segment's error */

static void usage(void)
{
    fprintf(stderr, "usage: churnwatch top [--grade G] [--segment S] [--owner O] [--parent P] "
                    "[--created-within D]\n"
                    "                      [--renewal-within D] [--stage S] [--profile P]\n"
                    "                      [--limit N | --all] [--json]\n");
}

/* Segments of the scanned accounts, for the error of a --segment that matched none. */
struct seen_segments {
    char names[SEGMENTS_SEEN][CW_ID_MAX + 1];
    size_t n;
};

static void seen_add(struct seen_segments *seen, const char *segment)
{
    if (!*segment || seen->n == SEGMENTS_SEEN)
        return;
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], segment) == 0)
            return;
    snprintf(seen->names[seen->n++], sizeof seen->names[0], "%s", segment);
}

/* A --segment that matched no account and is not in the config is a typo: say which
 * segments exist (configured ones, then those of the scanned accounts). */
static bool segment_unknown(const struct cw_config *cfg, const char *segment,
                            const struct seen_segments *seen)
{
    if (cw_config_segment_index(cfg, segment) >= 0)
        return false;
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], segment) == 0)
            return false;
    fprintf(stderr, "churnwatch: unknown segment '%s'; configured segments:", cw_cli_text(segment));
    for (size_t i = 0; i < cfg->n_segments; i++)
        fprintf(stderr, " %s", cw_cli_text(cfg->segments[i].name));
    if (cfg->n_segments == 0)
        fprintf(stderr, " (none)");
    fprintf(stderr, "; segments of scored accounts:");
    for (size_t i = 0; i < seen->n; i++)
        fprintf(stderr, " %s", cw_cli_text(seen->names[i]));
    if (seen->n == 0)
        fprintf(stderr, " (none)");
    fputc('\n', stderr);
    return true;
}

struct top_filter {
    struct cw_cli_filter f;
    size_t limit;
    bool all; /* --all: no limit */
};

/* The names of the account's firing rules, comma-separated, into buf. */
static void open_alerts(const struct cw_config *cfg, const struct cw_account_data *a, char *buf,
                        size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
        if (a->rules[r].status != CW_RULE_FIRING)
            continue;
        int n = snprintf(buf + pos, size - pos, "%s%s", pos ? "," : "", cfg->rules[r].name);
        if (n < 0 || (size_t)n >= size - pos)
            break;
        pos += (size_t)n;
    }
}

static int run(const struct cw_config *cfg, cw_store *st, cw_tz *tz, const struct top_filter *f,
               bool json)
{
    char err[512];
    long long n_accounts = 0, n_scored = 0;
    if (cw_store_count_accounts(st, &n_accounts, &n_scored, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        return CW_EXIT_UNAVAILABLE;
    }
    size_t max = f->limit * 20 > SCAN_MIN ? f->limit * 20 : SCAN_MIN;
    if (f->all) /* every scored account, and some slack for those scored meanwhile */
        max = (size_t)n_scored + SCAN_MIN;
    char(*ids)[CW_ID_MAX + 1] = calloc(max, sizeof *ids);
    double *scores = calloc(max, sizeof *scores);
    struct cw_account_data *a = calloc(1, sizeof *a);
    struct cw_account_eval *e = calloc(1, sizeof *e);
    json_t *arr = json ? json_array() : NULL;
    struct seen_segments *seen = calloc(1, sizeof *seen);
    int rc = CW_EXIT_OK;
    if (!ids || !scores || !a || !e || !seen) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    int n = cw_store_lowest_scores(st, max, ids, scores, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    int64_t now = cw_wall_ms();
    int32_t today = cw_tz_day(tz, now);
    size_t shown = 0;
    for (int i = 0; i < n && (f->all || shown < f->limit); i++) {
        const char *id = ids[i];
        if (cw_store_load(st, cfg, &id, 1, today, a, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s\n", err);
            rc = CW_EXIT_UNAVAILABLE;
            goto out;
        }
        if (!a->exists)
            continue;
        cw_account_evaluate(cfg, a, now, e);
        seen_add(seen, a->traits.segment);
        if (!cw_cli_filter_keep(&f->f, a, e, now))
            continue;
        char alerts[512];
        open_alerts(cfg, a, alerts, sizeof alerts);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "account_id", json_string(id));
            json_object_set_new(o, "score",
                                e->score.has_score ? json_real(cw_cli_round2(e->score.score))
                                                   : json_null());
            json_object_set_new(o, "grade",
                                e->score.has_score ? json_string(e->score.grade) : json_null());
            json_object_set_new(
                o, "segment", a->traits.segment[0] ? json_string(a->traits.segment) : json_null());
            json_object_set_new(o, "trend", json_string(cw_cli_trend(a, e)));
            json_object_set_new(o, "stage",
                                e->score.stage[0] ? json_string(e->score.stage) : json_null());
            json_object_set_new(o, "profile", json_string(e->score.profile));
            char renewal[32];
            if (a->traits.has_renewal_at)
                cw_rfc3339_format(a->traits.renewal_at_ms, renewal);
            json_object_set_new(o, "renewal_at",
                                a->traits.has_renewal_at ? json_string(renewal) : json_null());
            json_t *ja = json_array();
            for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++)
                if (a->rules[r].status == CW_RULE_FIRING)
                    json_array_append_new(ja, json_string(cfg->rules[r].name));
            json_object_set_new(o, "alerts", ja);
            json_array_append_new(arr, o);
        } else {
            if (shown == 0)
                printf("%-28s %6s %-5s %-8s %-5s %s\n", "ACCOUNT", "SCORE", "GRADE", "SEGMENT",
                       "TREND", "OPEN ALERTS");
            char score[16];
            if (e->score.has_score)
                snprintf(score, sizeof score, "%.1f", e->score.score);
            else
                snprintf(score, sizeof score, "n/a");
            printf("%-28s %6s %-5s %-8s %-5s %s\n", cw_cli_text(id), score,
                   e->score.has_score ? e->score.grade : "-",
                   a->traits.segment[0] ? cw_cli_text(a->traits.segment) : "-", cw_cli_trend(a, e),
                   alerts[0] ? alerts : "-");
        }
        shown++;
    }
    if (shown == 0 && f->f.segment && segment_unknown(cfg, f->f.segment, seen)) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    long long not_scored = n_accounts > n_scored ? n_accounts - n_scored : 0;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "scored", json_integer(n_scored));
        json_object_set_new(o, "shown", json_integer((json_int_t)shown));
        json_object_set_new(o, "not_scored", json_integer(not_scored));
        json_object_set_new(o, "accounts", arr);
        arr = o;
        json_dumpf(arr, stdout, CW_CLI_JSON_FLAGS);
        putchar('\n');
    } else {
        if (shown == 0)
            printf("no account matches\n");
        fprintf(stderr, "%lld scored, %zu shown, %lld not yet scored%s\n", n_scored, shown,
                not_scored,
                !f->all && shown == f->limit ? " (--limit reached; --all shows every one)" : "");
    }
out:
    json_decref(arr);
    free(seen);
    if (a)
        cw_account_data_free(a);
    free(a);
    free(e);
    free(ids);
    free(scores);
    return rc;
}

int cw_cmd_top(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"grade", required_argument, NULL, 'g'},
        {"segment", required_argument, NULL, 's'},
        {"owner", required_argument, NULL, 'o'},
        {"parent", required_argument, NULL, 'P'},
        {"created-within", required_argument, NULL, 'w'},
        {"renewal-within", required_argument, NULL, 'r'},
        {"stage", required_argument, NULL, 't'},
        {"profile", required_argument, NULL, 'p'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct top_filter f = {.limit = 20};
    bool json = false;
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'g':
            f.f.grade = optarg;
            break;
        case 's':
            f.f.segment = optarg;
            break;
        case 'o':
            f.f.owner = optarg;
            break;
        case 'P':
            f.f.parent = optarg;
            break;
        case 't':
            f.f.stage = optarg;
            break;
        case 'p':
            f.f.profile = optarg;
            break;
        case 'w':
            if (cw_duration_parse(optarg, &f.f.created_within_ms) != 0 ||
                f.f.created_within_ms <= 0) {
                fprintf(stderr, "churnwatch: --created-within wants a duration like 30d\n");
                return CW_EXIT_USAGE;
            }
            break;
        case 'r':
            if (cw_duration_parse(optarg, &f.f.renewal_within_ms) != 0 ||
                f.f.renewal_within_ms <= 0) {
                fprintf(stderr, "churnwatch: --renewal-within wants a duration like 90d\n");
                return CW_EXIT_USAGE;
            }
            break;
        case 'l': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "churnwatch: --limit must be 1..100000\n");
                return CW_EXIT_USAGE;
            }
            f.limit = (size_t)v;
            break;
        }
        case 'j':
            json = true;
            break;
        case 'a':
            f.all = true;
            break;
        default:
            usage();
            return CW_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage();
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    cw_tz *tz = NULL;
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        return rc;
    if ((f.f.grade && !cw_cli_grade_known(cfg, f.f.grade)) ||
        (f.f.stage && !cw_cli_stage_known(cfg, f.f.stage)) ||
        (f.f.profile && !cw_cli_profile_known(cfg, f.f.profile))) {
        cw_config_free(cfg);
        return CW_EXIT_USAGE;
    }
    if ((rc = cw_cli_open_tz(cfg, &tz)) == CW_EXIT_OK &&
        (rc = cw_cli_open_store(cfg, &st)) == CW_EXIT_OK) {
        rc = run(cfg, st, tz, &f, json);
    }
    cw_store_close(st);
    cw_tz_free(tz);
    cw_config_free(cfg);
    return rc;
}
