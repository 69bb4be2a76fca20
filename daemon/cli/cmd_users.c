/* cmd_users.c - `churnwatch users ACCOUNT`: an account's users by engagement rank, and the
 * rank counts `churnwatch account` shows (docs/users.md) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/users.h"
#include "churnwatch/window.h"
#include "cli.h"

/* One user as listed: points over the window, rank (-1 none), newest day with points. */
struct listed {
    const struct cw_user_eng *u;
    uint64_t points;
    int rank;
    int32_t last_day;
    enum cw_user_trend trend;
};

/* Most points first, then by id. */
static int cmp_listed(const void *x, const void *y)
{
    const struct listed *a = x, *b = y;
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    return strcmp(a->u->id, b->u->id);
}

static void day_text(int32_t day, char out[16])
{
    int y;
    unsigned m, d;
    cw_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", y, m, d);
}

double cw_cli_users_metric(const struct cw_config *cfg, const struct cw_account_view *v, size_t m)
{
    struct cw_users_summary s;
    cw_users_summarize(&cfg->users, v->user_eng, v->n_user_eng, v->today, &s);
    return (double)(m == CW_METRIC_POWER_USERS ? s.power : s.ranked);
}

void cw_cli_users_text(const struct cw_config *cfg, const struct cw_account_view *v)
{
    if (!cfg->users.enabled)
        return;
    const struct cw_users_config *uc = &cfg->users;
    struct cw_users_summary s;
    cw_users_summarize(uc, v->user_eng, v->n_user_eng, v->today, &s);
    printf("\nusers (engagement over %ud)\n  power users %zu (%s or higher)  ranked %zu  ranks",
           uc->window_days, s.power, cw_cli_text(uc->ranks[uc->power_rank].name), s.ranked);
    for (size_t r = 0; r < uc->n_ranks; r++)
        printf(" %s=%zu", cw_cli_text(uc->ranks[r].name), s.per_rank[r]);
    printf("\n  kept %zu of %zu users (at most %u; churnwatch users %s)\n", v->n_user_eng,
           v->n_users, uc->max_tracked, cw_cli_text(v->account_id));
}

json_t *cw_cli_users_json(const struct cw_config *cfg, const struct cw_account_view *v)
{
    if (!cfg->users.enabled)
        return json_null();
    const struct cw_users_config *uc = &cfg->users;
    struct cw_users_summary s;
    cw_users_summarize(uc, v->user_eng, v->n_user_eng, v->today, &s);
    json_t *o = json_object(), *ranks = json_object();
    json_object_set_new(o, "window_days", json_integer(uc->window_days));
    json_object_set_new(o, "power_users", json_integer((json_int_t)s.power));
    json_object_set_new(o, "power_rank", json_string(uc->ranks[uc->power_rank].name));
    json_object_set_new(o, "ranked", json_integer((json_int_t)s.ranked));
    for (size_t r = 0; r < uc->n_ranks; r++)
        json_object_set_new(ranks, uc->ranks[r].name, json_integer((json_int_t)s.per_rank[r]));
    json_object_set_new(o, "ranks", ranks);
    json_object_set_new(o, "tracked", json_integer((json_int_t)v->n_user_eng));
    json_object_set_new(o, "users", json_integer((json_int_t)v->n_users));
    return o;
}

int cw_cmd_users(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    bool json;
    if (cw_cli_json_only(argc, argv, 1, "churnwatch users ACCOUNT [--json]", &json) != 0)
        return CW_EXIT_USAGE;
    const char *id = argv[optind];
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    cw_tz *tz = NULL;
    struct cw_account_data *a = calloc(1, sizeof *a);
    struct listed *list = NULL;
    char err[512];
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        goto out;
    if (!a) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if (!cfg->users.enabled) {
        fprintf(stderr,
                "churnwatch: %s has no users section: no engagement is kept "
                "(docs/users.md)\n",
                cfg->path);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if ((rc = cw_cli_open_tz(cfg, &tz)) != CW_EXIT_OK ||
        (rc = cw_cli_open_store(cfg, &st)) != CW_EXIT_OK)
        goto out;
    int64_t now = cw_wall_ms();
    int32_t today = cw_tz_day(tz, now);
    const char *ids[1] = {id};
    if (cw_store_load(st, cfg, ids, 1, today, a, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    if (!a->exists) {
        fprintf(stderr, "churnwatch: no account '%s' in the state store\n", id);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    const struct cw_users_config *uc = &cfg->users;
    list = calloc(a->n_user_eng + 1, sizeof *list);
    if (!list) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < a->n_user_eng; i++) {
        const struct cw_user_eng *u = &a->user_eng[i];
        uint64_t p = cw_eng_points(u->days, u->n_days, today, uc->window_days);
        if (p == 0)
            continue; /* kept, but no points in the window any more */
        int32_t last = u->days[u->n_days - 1].day;
        for (size_t k = u->n_days; k-- > 0;)
            if (u->days[k].day <= today) {
                last = u->days[k].day;
                break;
            }
        list[n++] = (struct listed){u, p, cw_user_rank(uc, p), last,
                                    cw_eng_trend(u->days, u->n_days, today, uc->window_days)};
    }
    qsort(list, n, sizeof *list, cmp_listed);
    struct cw_account_view v;
    cw_account_data_view(a, now, &v);
    if (json) {
        json_t *o = json_object(), *arr = json_array();
        json_object_set_new(o, "account_id", json_string(a->account_id));
        json_object_set_new(o, "summary", cw_cli_users_json(cfg, &v));
        for (size_t i = 0; i < n; i++) {
            char day[16];
            day_text(list[i].last_day, day);
            json_t *j = json_object();
            json_object_set_new(j, "user_id", json_string(list[i].u->id));
            json_object_set_new(j, "rank",
                                list[i].rank >= 0 ? json_string(uc->ranks[list[i].rank].name)
                                                  : json_null());
            json_object_set_new(
                j, "power",
                json_boolean(list[i].rank >= 0 && (size_t)list[i].rank <= uc->power_rank));
            json_object_set_new(j, "points", json_integer((json_int_t)list[i].points));
            json_object_set_new(j, "last_active", json_string(day));
            json_object_set_new(j, "trend", json_string(cw_user_trend_name(list[i].trend)));
            json_array_append_new(arr, j);
        }
        json_object_set_new(o, "users", arr);
        json_dumpf(o, stdout, CW_CLI_JSON_FLAGS);
        printf("\n");
        json_decref(o);
    } else {
        printf("account %s: %zu users with points in %ud\n", cw_cli_text(a->account_id), n,
               uc->window_days);
        printf("  %-32s %-6s %8s  %-10s  %s\n", "user", "rank", "points", "last", "trend");
        for (size_t i = 0; i < n; i++) {
            char day[16];
            day_text(list[i].last_day, day);
            printf("  %-32s %-6s %8llu  %s  %s%s\n", cw_cli_text(list[i].u->id),
                   list[i].rank >= 0 ? cw_cli_text(uc->ranks[list[i].rank].name) : "-",
                   (unsigned long long)list[i].points, day, cw_user_trend_name(list[i].trend),
                   list[i].rank >= 0 && (size_t)list[i].rank <= uc->power_rank ? "  power" : "");
        }
        cw_cli_users_text(cfg, &v);
    }
    rc = CW_EXIT_OK;
out:
    free(list);
    if (a)
        cw_account_data_free(a);
    free(a);
    cw_store_close(st);
    cw_tz_free(tz);
    cw_config_free(cfg);
    return rc;
}
