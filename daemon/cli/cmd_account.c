/* cmd_account.c - `churnwatch account ID`: the explainability view of one account */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/enum_names.h"
#include "churnwatch/event.h"
#include "churnwatch/window.h"
#include "cli.h"

#define TREND_WEEKS    4
#define MOVED_DAYS_MAX 7
#define MOVES_MAX      5

/* The stored score of `day` or the nearest earlier day within a week; NAN if none. */
static double history_at(const struct cw_account_data *a, int32_t day)
{
    for (size_t i = a->n_history; i-- > 0;)
        if (a->history[i].day <= day)
            return day - a->history[i].day < 7 ? a->history[i].score : NAN;
    return NAN;
}

static const char *trend_word(double then, double now)
{
    if (isnan(then) || isnan(now))
        return "n/a";
    if (now - then > 2.0)
        return "up";
    if (then - now > 2.0)
        return "down";
    return "flat";
}

/* The raw value of metric m over window w, unscaled: what the account did. */
static double metric_value(const struct cw_config *cfg, const struct cw_account_view *v, int m,
                           const struct cw_window *w)
{
    if (m == CW_METRIC_ACTIVE_USERS)
        return cw_window_distinct(v->user_last_day, v->n_users, v->today, w->days);
    if (cw_config_metric_counts_users(cfg, m)) /* over users.window */
        return cw_cli_users_metric(cfg, v, (size_t)m);
    return (double)cw_window_sum(v->daily + (size_t)m * v->horizon, v->horizon, w->days);
}

/* The recent resolved episodes kept in the state, newest resolution first
 * (docs/state.md "Recent episodes"). */
static void print_episodes(const struct cw_account_data *a)
{
    if (a->n_episodes == 0)
        return;
    printf("\nrecent episodes (resolved)\n");
    for (size_t i = 0; i < a->n_episodes; i++) {
        const struct cw_episode *ep = &a->episodes[i];
        char started[32], resolved[32], lasted[CW_DURATION_TEXT_MAX];
        cw_rfc3339_format(ep->started_ms, started);
        cw_rfc3339_format(ep->resolved_ms, resolved);
        cw_duration_format(ep->resolved_ms - ep->started_ms, lasted);
        printf("  %-20s %-8s %s to %s (%s)  alert_id %s\n", cw_cli_text(ep->rule),
               cw_severity_name(ep->severity), started, resolved, lasted, ep->alert_id);
    }
}

static json_t *episodes_json(const struct cw_account_data *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n_episodes; i++) {
        const struct cw_episode *ep = &a->episodes[i];
        json_t *j = json_object();
        json_object_set_new(j, "rule", json_string(ep->rule));
        json_object_set_new(j, "alert_id", json_string(ep->alert_id));
        json_object_set_new(j, "severity", json_string(cw_severity_name(ep->severity)));
        json_object_set_new(j, "started", cw_cli_json_time(true, ep->started_ms));
        json_object_set_new(j, "resolved", cw_cli_json_time(true, ep->resolved_ms));
        json_array_append_new(arr, j);
    }
    return arr;
}

static void print_text(const struct cw_config *cfg, const struct cw_account_data *a,
                       const struct cw_account_eval *e, const struct cw_score_result *before,
                       bool has_before, uint32_t moved_days, int64_t now)
{
    const struct cw_traits *t = &a->traits;
    printf("account %s\n", cw_cli_text(a->account_id));
    printf("  segment %s  plan %s  seats ", t->segment[0] ? cw_cli_text(t->segment) : "-",
           t->plan[0] ? cw_cli_text(t->plan) : "-");
    if (t->has_seats)
        printf("%lld", (long long)t->seats);
    else
        printf("unknown");
    printf("  owner %s\n", t->owner[0] ? cw_cli_text(t->owner) : "-");
    if (t->parent_id[0])
        printf("  parent %s\n", cw_cli_text(t->parent_id));
    if (t->has_created_at) {
        char ts[32];
        cw_rfc3339_format(t->created_at_ms, ts);
        printf("  created %s\n", ts);
    }
    if (t->has_renewal_at) {
        char ts[32];
        int64_t days = cw_cli_days_until(now, t->renewal_at_ms);
        cw_rfc3339_format(t->renewal_at_ms, ts);
        if (days >= 0)
            printf("  renews %s (in %lld day%s)\n", ts, (long long)days, days == 1 ? "" : "s");
        else
            printf("  renewal %s (%lld day%s ago)\n", ts, (long long)-days, days == -1 ? "" : "s");
    }

    if (e->score.has_score)
        printf("\nscore %.1f  grade %s", e->score.score, e->score.grade);
    else
        printf("\nscore n/a (no measure can be computed yet)");
    printf("  trend");
    double prev = NAN;
    for (int w = TREND_WEEKS; w >= 1; w--) {
        double s = history_at(a, a->today - 7 * w);
        printf(" %s", isnan(s) ? "-" : "");
        if (!isnan(s))
            printf("%.0f", s);
        if (w == 1)
            prev = s;
    }
    printf(" -> %s", e->score.has_score ? "" : "-");
    if (e->score.has_score)
        printf("%.0f", e->score.score);
    printf(" (%s)\n", trend_word(prev, e->score.has_score ? e->score.score : NAN));
    printf("profile %s  stage %s\n", cw_cli_text(e->score.profile),
           e->score.stage[0] ? cw_cli_text(e->score.stage) : "-");

    printf("\ncomponents and measures (raw / target -> contribution in points)\n");
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        const struct cw_component *comp = &cfg->score.components[c];
        const struct cw_component_result *cr = &e->score.components[c];
        if (cr->has)
            printf("  %-14s %.2f  (weight %.0f%%)\n", comp->name, cr->value, cr->share * 100);
        else
            printf("  %-14s n/a\n", comp->name);
        for (size_t m = 0; m < comp->n_measures; m++) {
            const struct cw_measure *ms = &comp->measures[m];
            const struct cw_measure_result *mr =
                &e->score.measures[cw_score_measure_index(cfg, c, m)];
            printf("    %-16s ", ms->name);
            if (!mr->has) {
                printf("%s\n", cw_score_na_text(mr->na));
                continue;
            }
            /* count: "(logins over short)"; a value aggregate: "(last of nps over long)" */
            printf("%10.2f / %-8.2g -> %5.1f  (%s%s%s over %s%s)\n", mr->raw, mr->target,
                   mr->contribution,
                   ms->aggregate != CW_AGG_COUNT ? cw_enum_name(&cw_aggregate_names, ms->aggregate)
                                                 : "",
                   ms->aggregate != CW_AGG_COUNT ? " of " : "", cfg->metrics[ms->metric].name,
                   cfg->windows[ms->window].name, ms->per_seat ? ", per seat" : "");
        }
    }

    if (has_before && e->score.has_score) {
        struct cw_score_move moves[MOVES_MAX];
        size_t n = cw_score_moves(cfg, before, &e->score, moves, MOVES_MAX);
        printf("\nwhat moved it (vs %u days ago)\n", moved_days);
        if (n == 0)
            printf("  nothing moved by more than 0.05 points\n");
        for (size_t i = 0; i < n; i++) {
            const struct cw_component *comp = &cfg->score.components[moves[i].component];
            size_t base = cw_score_measure_index(cfg, moves[i].component, 0);
            printf("  %-16s %+6.1f points (%.1f -> %.1f)\n",
                   comp->measures[moves[i].measure - base].name, moves[i].delta, moves[i].before,
                   moves[i].after);
        }
    }

    printf("\nmetrics\n");
    for (size_t w = 0; w < cfg->n_windows; w++) {
        printf("  %s (%ud):", cfg->windows[w].name, cfg->windows[w].days);
        for (size_t m = 0; m < cfg->n_metrics; m++)
            if (cw_config_metric_in_use(cfg, (int)m))
                printf(" %s=%.0f", cfg->metrics[m].name,
                       metric_value(cfg, &e->view, (int)m, &cfg->windows[w]));
        printf("\n");
    }
    cw_cli_users_text(cfg, &e->view);

    printf("\nalerts\n");
    size_t open = 0;
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
        const struct cw_rule_state *s = &a->rules[r];
        if (s->status == CW_RULE_OK)
            continue;
        char since[32];
        cw_rfc3339_format(s->since_ms, since);
        printf("  %-20s %-8s %-9s since %s  alert_id %s\n", cfg->rules[r].name,
               s->status == CW_RULE_FIRING ? "firing" : "pending",
               cw_severity_name(e->params[r]->severity), since,
               s->status == CW_RULE_FIRING ? s->alert_id : "-");
        open++;
    }
    if (open == 0)
        printf("  none open\n");
    for (size_t i = 0; i < a->n_silences; i++) {
        const struct cw_silence *s = &a->silences[i];
        if (s->until_ms <= now)
            continue;
        char until[32];
        cw_rfc3339_format(s->until_ms, until);
        printf("  silenced %s until %s: %s\n", s->rule[0] ? cw_cli_text(s->rule) : "(all rules)",
               until, cw_cli_text(s->reason));
    }
    print_episodes(a);
}

/* The children of a parent and their rolled-up score (docs/hierarchies.md). */
static void print_children(const struct cw_config *cfg, const struct cw_cli_children *ch)
{
    if (ch->n == 0)
        return;
    printf("\nchildren (%zu", ch->n + ch->more);
    if (ch->more)
        printf("; the first %zu listed and rolled up", ch->n);
    printf(")  rolled up (%s) ", cw_enum_name(&cw_rollup_names, (int)cfg->hierarchy.rollup));
    if (ch->has_rollup)
        printf("%.1f  grade %s\n", ch->rollup, ch->rollup_grade);
    else
        printf("n/a (no child has a score)\n");
    for (size_t i = 0; i < ch->n; i++) {
        const struct cw_cli_child *c = &ch->items[i];
        char score[16] = "n/a", seats[24] = "-";
        if (c->has_score)
            snprintf(score, sizeof score, "%.1f", c->score);
        if (c->has_seats)
            snprintf(seats, sizeof seats, "%lld", (long long)c->seats);
        printf("  %-28s %6s %-5s seats %s\n", cw_cli_text(c->id), score,
               c->has_score ? c->grade : "-", seats);
    }
}

static json_t *children_json(const struct cw_config *cfg, const struct cw_cli_children *ch)
{
    json_t *o = json_object(), *arr = json_array();
    for (size_t i = 0; i < ch->n; i++) {
        const struct cw_cli_child *c = &ch->items[i];
        json_t *j = json_object();
        json_object_set_new(j, "account_id", json_string(c->id));
        json_object_set_new(j, "score", cw_cli_json_number(c->has_score, c->score));
        json_object_set_new(j, "grade", c->has_score ? json_string(c->grade) : json_null());
        json_object_set_new(j, "seats", c->has_seats ? json_integer(c->seats) : json_null());
        json_array_append_new(arr, j);
    }
    json_object_set_new(o, "accounts", arr);
    json_object_set_new(o, "count", json_integer((json_int_t)(ch->n + ch->more)));
    json_object_set_new(o, "left_out", json_integer((json_int_t)ch->more));
    json_object_set_new(o, "rollup",
                        json_string(cw_enum_name(&cw_rollup_names, (int)cfg->hierarchy.rollup)));
    json_object_set_new(o, "score", cw_cli_json_number(ch->has_rollup, ch->rollup));
    json_object_set_new(o, "grade", ch->has_rollup ? json_string(ch->rollup_grade) : json_null());
    return o;
}

static int print_json(const struct cw_config *cfg, const struct cw_account_data *a,
                      const struct cw_account_eval *e, const struct cw_cli_children *ch,
                      int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "account_id", json_string(a->account_id));
    json_object_set_new(o, "own_state", json_true());
    json_object_set_new(o, "score", cw_cli_json_number(e->score.has_score, e->score.score));
    json_object_set_new(o, "grade", e->score.has_score ? json_string(e->score.grade) : json_null());
    json_object_set_new(o, "profile", json_string(e->score.profile));
    json_object_set_new(o, "stage", e->score.stage[0] ? json_string(e->score.stage) : json_null());

    json_t *comps = json_object(), *measures = json_object();
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        const struct cw_component *comp = &cfg->score.components[c];
        json_object_set_new(
            comps, comp->name,
            cw_cli_json_number(e->score.components[c].has, e->score.components[c].value));
        for (size_t m = 0; m < comp->n_measures; m++) {
            const struct cw_measure_result *mr =
                &e->score.measures[cw_score_measure_index(cfg, c, m)];
            json_t *jm = json_object();
            json_object_set_new(jm, "component", json_string(comp->name));
            json_object_set_new(
                jm, "aggregate",
                json_string(cw_enum_name(&cw_aggregate_names, comp->measures[m].aggregate)));
            json_object_set_new(jm, "raw", cw_cli_json_number(mr->has, mr->raw));
            json_object_set_new(jm, "target", json_real(mr->target));
            json_object_set_new(jm, "contribution", cw_cli_json_number(mr->has, mr->contribution));
            json_object_set_new(jm, "na",
                                mr->has ? json_null() : json_string(cw_score_na_text(mr->na)));
            json_object_set_new(measures, comp->measures[m].name, jm);
        }
    }
    json_object_set_new(o, "components", comps);
    json_object_set_new(o, "measures", measures);

    json_t *metrics = json_object();
    for (size_t w = 0; w < cfg->n_windows; w++) {
        json_t *jw = json_object();
        for (size_t m = 0; m < cfg->n_metrics; m++)
            if (cw_config_metric_in_use(cfg, (int)m))
                json_object_set_new(
                    jw, cfg->metrics[m].name,
                    json_real(metric_value(cfg, &e->view, (int)m, &cfg->windows[w])));
        json_object_set_new(metrics, cfg->windows[w].name, jw);
    }
    json_object_set_new(o, "metrics", metrics);
    json_object_set_new(o, "users", cw_cli_users_json(cfg, &e->view));

    json_t *alerts = json_array();
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
        const struct cw_rule_state *s = &a->rules[r];
        if (s->status != CW_RULE_FIRING)
            continue;
        char since[32];
        cw_rfc3339_format(s->since_ms, since);
        json_t *ja = json_object();
        json_object_set_new(ja, "rule", json_string(cfg->rules[r].name));
        json_object_set_new(ja, "alert_id", json_string(s->alert_id));
        json_object_set_new(ja, "since", json_string(since));
        json_object_set_new(ja, "severity", json_string(cw_severity_name(e->params[r]->severity)));
        json_array_append_new(alerts, ja);
    }
    json_object_set_new(o, "alerts", alerts);
    json_object_set_new(o, "episodes", episodes_json(a));

    json_t *trend = json_array();
    for (int w = TREND_WEEKS; w >= 1; w--) {
        double s = history_at(a, a->today - 7 * w);
        json_array_append_new(trend, cw_cli_json_number(!isnan(s), s));
    }
    json_array_append_new(trend, cw_cli_json_number(e->score.has_score, e->score.score));
    json_object_set_new(o, "trend", trend);

    json_t *silences = json_array();
    for (size_t i = 0; i < a->n_silences; i++) {
        const struct cw_silence *s = &a->silences[i];
        if (s->until_ms <= now)
            continue;
        char until[32];
        cw_rfc3339_format(s->until_ms, until);
        json_t *js = json_object();
        json_object_set_new(js, "rule", s->rule[0] ? json_string(s->rule) : json_null());
        json_object_set_new(js, "until", json_string(until));
        json_object_set_new(js, "reason", json_string(s->reason));
        json_array_append_new(silences, js);
    }
    json_object_set_new(o, "silences", silences);

    const struct cw_traits *t = &a->traits;
    json_t *traits = json_object();
    json_object_set_new(traits, "seats", t->has_seats ? json_integer(t->seats) : json_null());
    json_object_set_new(traits, "plan", t->plan[0] ? json_string(t->plan) : json_null());
    json_object_set_new(traits, "segment", t->segment[0] ? json_string(t->segment) : json_null());
    json_object_set_new(traits, "owner", t->owner[0] ? json_string(t->owner) : json_null());
    json_object_set_new(traits, "parent_id",
                        t->parent_id[0] ? json_string(t->parent_id) : json_null());
    json_object_set_new(traits, "created_at",
                        cw_cli_json_time(t->has_created_at, t->created_at_ms));
    json_object_set_new(traits, "renewal_at",
                        cw_cli_json_time(t->has_renewal_at, t->renewal_at_ms));
    json_object_set_new(traits, "days_to_renewal",
                        t->has_renewal_at ? json_integer(cw_cli_days_until(now, t->renewal_at_ms))
                                          : json_null());
    json_object_set_new(o, "traits", traits);
    json_object_set_new(o, "children", children_json(cfg, ch));

    int rc = json_dumpf(o, stdout, CW_CLI_JSON_FLAGS) == 0 ? CW_EXIT_OK : CW_EXIT_USAGE;
    putchar('\n');
    json_decref(o);
    return rc;
}

/* A parent that has children but no state of its own (no event of its own yet): its id,
 * no score, and its children with their roll-up (docs/hierarchies.md). */
static int print_parent_only(const struct cw_config *cfg, const char *id,
                             const struct cw_cli_children *ch, bool json)
{
    if (!json) {
        printf("account %s\n  no events of its own; the parent of the accounts below\n",
               cw_cli_text(id));
        print_children(cfg, ch);
        return CW_EXIT_OK;
    }
    json_t *o = json_object();
    json_object_set_new(o, "account_id", json_string(id));
    json_object_set_new(o, "own_state", json_false());
    json_object_set_new(o, "score", json_null());
    json_object_set_new(o, "grade", json_null());
    json_object_set_new(o, "children", children_json(cfg, ch));
    int rc = json_dumpf(o, stdout, CW_CLI_JSON_FLAGS) == 0 ? CW_EXIT_OK : CW_EXIT_USAGE;
    putchar('\n');
    json_decref(o);
    return rc;
}

int cw_cmd_account(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    bool json;
    if (cw_cli_json_only(argc, argv, 1, "churnwatch account ID [--json]", &json) != 0)
        return CW_EXIT_USAGE;
    const char *id = argv[optind];

    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    cw_tz *tz = NULL;
    struct cw_account_data *a = calloc(1, sizeof *a);
    struct cw_account_eval *e = calloc(1, sizeof *e);
    struct cw_cli_children ch = {0};
    char err[512];
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        goto out;
    if (!a || !e) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if ((rc = cw_cli_open_tz(cfg, &tz)) != CW_EXIT_OK ||
        (rc = cw_cli_open_store(cfg, &st)) != CW_EXIT_OK)
        goto out;
    int64_t now = cw_wall_ms();
    const char *ids[1] = {id};
    if (cw_store_load(st, cfg, ids, 1, cw_tz_day(tz, now), a, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    if (cw_cli_children_find(cfg, st, cw_tz_day(tz, now), now, id, &ch, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    if (!a->exists && ch.n == 0) {
        fprintf(stderr, "churnwatch: no account '%s' in the state store\n", id);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if (!a->exists) {
        rc = print_parent_only(cfg, id, &ch, json);
        goto out;
    }
    /* The parent rules are judged on the children's saved scores, as the daemon judges
     * them (docs/hierarchies.md "Parent rules"). */
    if (cw_config_has_parent_rules(cfg) && cw_store_load_children(st, a, 1, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch: %s\n", err);
        rc = CW_EXIT_UNAVAILABLE;
        goto out;
    }
    cw_account_evaluate(cfg, a, now, e);
    if (json) {
        rc = print_json(cfg, a, e, &ch, now);
    } else {
        /* Compare with the account as it stood up to a week ago, as far as the kept
         * daily buckets reach. */
        struct cw_score_result before;
        uint32_t days = cw_account_moved_days(cfg, &e->view, MOVED_DAYS_MAX);
        bool has_before = cw_account_score_days_ago(cfg, &e->view, days, &before);
        print_text(cfg, a, e, &before, has_before, days, now);
        print_children(cfg, &ch);
        rc = CW_EXIT_OK;
    }
out:
    cw_cli_children_free(&ch);
    if (a)
        cw_account_data_free(a);
    free(a);
    free(e);
    cw_store_close(st);
    cw_tz_free(tz);
    cw_config_free(cfg);
    return rc;
}
