/* test_config.c - the YAML config loader: shipped config, defaults, every error class with
 * its file:line:col and key path, environment overrides, segment merging */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "churnwatch/config.h"
#include "churnwatch/event.h"
#include "churnwatch/gen.h"

#define SHIPPED CW_SOURCE_DIR "/conf/churnwatch.yaml"
#define DAY     CW_MS_PER_DAY

/* The smallest valid config: one component with one measure. */
#define MIN                                                                                        \
    "score:\n"                                                                                     \
    "  components:\n"                                                                              \
    "    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n"

static char errs[16384];

static struct cw_config *load_env(const char *yaml, cw_getenv_fn env)
{
    return cw_config_load_buffer("t.yaml", yaml, strlen(yaml), env, errs, sizeof errs);
}

static struct cw_config *load(const char *yaml)
{
    return load_env(yaml, NULL);
}

static size_t count_lines(const char *s)
{
    size_t n = *s != '\0';
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- the shipped config ---- */

Test(config, shipped_config_loads_with_the_documented_values)
{
    struct cw_config *cfg = cw_config_load(SHIPPED, NULL, errs, sizeof errs);
    cr_assert_not_null(cfg, "%s", errs);

    cr_expect_str_eq(cfg->path, SHIPPED);
    cr_expect_str_eq(cfg->kafka.brokers, "localhost:9092");
    cr_expect_str_eq(cfg->kafka.group_id, "churnwatch");
    cr_assert_eq(cfg->kafka.topics.n, 1);
    cr_expect_str_eq(cfg->kafka.topics.items[0], "usage-events");
    cr_expect_str_eq(cfg->kafka.alerts_topic, "churnwatch-alerts");
    cr_expect_str_eq(cfg->kafka.dlq_topic, "usage-events-dlq");
    cr_expect_eq(cfg->kafka.n_properties, 0);
    cr_expect_str_eq(cfg->redis.url, "redis://127.0.0.1:6379/0");
    cr_expect_null(cfg->redis.password_file);
    cr_expect_str_eq(cfg->redis.key_prefix, "cw:");
    cr_expect_str_eq(cfg->timezone, "UTC");
    cr_expect_eq(cfg->lateness_ms, 2 * DAY);
    cr_expect_eq(cfg->max_clock_skew_ms, 15 * 60 * 1000);
    cr_expect_eq(cfg->sweep_interval_ms, 5 * 60 * 1000);
    cr_expect_eq(cfg->max_silence_ms, 90 * DAY);

    cr_assert_eq(cfg->n_windows, 2);
    cr_expect_str_eq(cfg->windows[0].name, "short");
    cr_expect_eq(cfg->windows[0].days, 7);
    cr_expect_str_eq(cfg->windows[1].name, "long");
    cr_expect_eq(cfg->windows[1].days, 28);
    cr_expect_eq(cfg->longest_window_days, 28);

    cr_expect_eq(cfg->input.preset, CW_PRESET_NATIVE);
    cr_assert_eq(cfg->input.account_id.n, 1);
    cr_expect_str_eq(cfg->input.account_id.items[0], "/account_id");
    cr_expect_eq(cfg->input.unknown_types, CW_UNKNOWN_IGNORE);
    cr_expect_eq(cfg->input.max_message_bytes, 65536);
    cr_expect_eq(cfg->input.max_id_length, 128);
    cr_expect_eq(cfg->input.max_depth, 32);

    /* the built-ins first, then the event types' metrics in first-seen order */
    const char *metrics[] = {"active_users",   "power_users",     "ranked_users",    "logins",
                             "registrations",  "apps_created",    "records_written", "seminars",
                             "email_clicks",   "support_tickets", "help_views",      "nps",
                             "webinar_minutes"};
    cr_assert_eq(cfg->n_metrics, sizeof metrics / sizeof metrics[0]);
    for (size_t i = 0; i < cfg->n_metrics; i++) {
        cr_expect_str_eq(cfg->metrics[i].name, metrics[i]);
        cr_expect_eq(cfg->metrics[i].builtin, i < CW_METRIC_BUILTIN_COUNT);
        cr_expect_eq(cfg->metrics[i].valued, i >= 11, "%s", metrics[i]);
    }
    cr_assert_eq(cfg->n_event_types, 11);
    int nps = cw_config_event_type_index(cfg, "nps_submitted");
    cr_assert_geq(nps, 0);
    cr_assert_eq(cfg->event_types[nps].value.n, 4);
    cr_expect_str_eq(cfg->event_types[nps].value.items[0], "/properties/score");
    cr_expect_str_eq(cfg->event_types[nps].value.items[1], "/props/score");
    cr_expect_str_eq(cfg->event_types[nps].value.items[2], "/data/props/score");
    cr_expect_str_eq(cfg->event_types[nps].value.items[3], "/score");

    const struct cw_component *eng = &cfg->score.components[1];
    cr_assert_eq(eng->n_measures, 6);
    cr_expect_str_eq(eng->measures[4].name, "nps");
    cr_expect_eq(eng->measures[4].aggregate, CW_AGG_NPS);
    cr_expect_eq(eng->measures[4].target, 30);
    cr_expect_str_eq(eng->measures[5].name, "webinar_minutes");
    cr_expect_eq(eng->measures[5].aggregate, CW_AGG_SUM);
    cr_expect(eng->measures[5].per_seat);
    int login = cw_config_event_type_index(cfg, "login");
    cr_assert_geq(login, 0);
    cr_expect_eq(cw_config_event_type_index(cfg, "Signed In"), login);
    cr_expect_str_eq(cfg->metrics[cfg->event_types[login].metric].name, "logins");
    cr_expect_eq(cw_config_event_type_index(cfg, "Signed Up"),
                 cw_config_event_type_index(cfg, "user_registered"));
    cr_expect_eq(cw_config_event_type_index(cfg, "Account Added User"),
                 cw_config_event_type_index(cfg, "user_registered"));
    cr_expect_eq(cw_config_event_type_index(cfg, "Email Link Clicked"),
                 cw_config_event_type_index(cfg, "email_clicked"));
    int traits = cw_config_event_type_index(cfg, "group");
    cr_assert_geq(traits, 0);
    cr_expect_str_eq(cfg->event_types[traits].name, "account_updated");
    cr_expect(cfg->event_types[traits].traits);
    cr_expect_eq(cfg->event_types[traits].metric, -1);

    cr_assert_eq(cfg->score.n_components, 3);
    cr_expect_str_eq(cfg->score.components[0].name, "utilization");
    cr_expect_str_eq(cfg->score.components[1].name, "engagement");
    cr_expect_str_eq(cfg->score.components[2].name, "penetration");
    const struct cw_measure *login_rate = &cfg->score.components[0].measures[0];
    cr_expect_str_eq(login_rate->name, "login_rate");
    cr_expect_eq(login_rate->metric, CW_METRIC_ACTIVE_USERS);
    cr_expect_eq(login_rate->window, cw_config_window_index(cfg, "short"));
    cr_expect(login_rate->per_seat);
    cr_expect_eq(cfg->score.components[0].n_measures, 2);
    cr_assert_eq(cfg->score.components[2].n_measures, 3);
    const struct cw_measure *cover = &cfg->score.components[2].measures[0];
    cr_expect_eq(cover->metric, CW_METRIC_ACTIVE_USERS);
    cr_expect_eq(cover->window, cw_config_window_index(cfg, "long"));
    cr_expect(cover->per_seat);
    cr_expect_str_eq(cfg->score.components[2].measures[1].name, "apps_created");
    const struct cw_measure *joined = &cfg->score.components[2].measures[2];
    cr_expect_str_eq(joined->name, "new_users");
    cr_expect_str_eq(cfg->metrics[joined->metric].name, "registrations");
    cr_expect_eq(joined->window, cw_config_window_index(cfg, "long"));
    cr_expect(joined->per_seat);
    cr_expect_eq(joined->weight, 1);
    cr_assert_eq(cfg->score.n_grades, 4);
    cr_expect_str_eq(cfg->score.grades[0].name, "A");
    cr_expect_eq(cfg->score.grades[0].min_score, 80);
    cr_expect_eq(cfg->score.grades[3].min_score, 0);

    cr_assert_eq(cfg->n_rules, 8);
    const struct cw_rule *r = cfg->rules;
    cr_expect_str_eq(r[0].name, "health_low");
    cr_expect_eq(r[0].kind, CW_RULE_SCORE_BELOW);
    cr_expect_eq(r[0].params.enter, 40);
    cr_expect_eq(r[0].params.exit, 50);
    cr_expect_eq(r[0].params.severity, CW_SEV_CRITICAL);
    cr_expect_str_eq(r[0].params.touch, "high");
    cr_expect_eq(r[1].kind, CW_RULE_SCORE_DROP);
    cr_expect_eq(r[1].params.points, 20);
    cr_expect_eq(r[1].params.exit_points, 10);
    cr_expect_eq(r[1].params.over_ms, 14 * DAY);
    cr_expect_eq(r[2].kind, CW_RULE_INACTIVE);
    cr_expect_eq(r[2].params.after_ms, 14 * DAY);
    cr_expect_null(r[2].types);
    cr_expect_str_eq(r[2].params.touch, "high");
    cr_expect_eq(r[3].kind, CW_RULE_ONBOARDING);
    cr_expect_eq(r[3].milestone, cw_config_event_type_index(cfg, "app_created"));
    cr_expect_eq(r[3].params.within_ms, 30 * DAY);
    cr_expect_str_eq(r[3].params.touch, "low");
    cr_expect_eq(r[4].kind, CW_RULE_RATIO_BELOW);
    cr_expect_eq(r[4].metric, CW_METRIC_ACTIVE_USERS);
    cr_expect_eq(r[4].window, cw_config_window_index(cfg, "long"));
    cr_expect(r[4].per_seat);
    cr_expect_eq(r[4].params.enter, 0.3);
    cr_expect_eq(r[4].params.exit, 0.4);
    cr_expect_str_eq(r[4].params.touch, "tech");
    cr_expect_str_eq(r[5].name, "renewal_risk");
    cr_expect_eq(r[5].kind, CW_RULE_RENEWAL);
    cr_expect_eq(r[5].params.within_ms, 90 * DAY);
    cr_expect_eq(r[5].params.enter, 50);
    cr_expect_eq(r[5].params.exit, 60);
    cr_expect_eq(r[5].params.severity, CW_SEV_CRITICAL);
    cr_expect_str_eq(r[5].params.touch, "high");
    cr_expect_eq(r[5].direction, CW_DIR_RISK);
    cr_expect_str_eq(r[6].name, "expansion");
    cr_expect_eq(r[6].kind, CW_RULE_RATIO_ABOVE);
    cr_expect_eq(r[6].metric, CW_METRIC_ACTIVE_USERS);
    cr_expect_eq(r[6].window, cw_config_window_index(cfg, "long"));
    cr_expect(r[6].per_seat);
    cr_expect_eq(r[6].params.enter, 0.97);
    cr_expect_eq(r[6].params.exit, 0.9);
    cr_expect_eq(r[6].params.severity, CW_SEV_INFO);
    cr_expect_str_eq(r[6].params.touch, "sales");
    cr_expect_eq(r[6].direction, CW_DIR_OPPORTUNITY);
    cr_expect_str_eq(r[7].name, "group_at_risk");
    cr_expect_eq(r[7].kind, CW_RULE_CHILDREN_AT_RISK);
    cr_expect_eq(r[7].params.enter, 40);
    cr_expect_eq(r[7].params.exit, 50);
    cr_expect_eq(r[7].params.min_children, 2);
    cr_expect_eq(r[7].params.severity, CW_SEV_CRITICAL);
    cr_expect_str_eq(r[7].params.touch, "high");
    cr_expect_eq(r[7].direction, CW_DIR_RISK);
    cr_expect(cw_config_has_parent_rules(cfg));
    for (size_t i = 0; i < cfg->n_rules; i++)
        cr_expect_not_null(r[i].params.touch);

    cr_assert_eq(cfg->n_segments, 3);
    const struct cw_rule_params *l = cw_config_rule_params(cfg, 0, "L");
    cr_expect_eq(l->enter, 50);
    cr_expect_eq(l->exit, 60);
    cr_expect_str_eq(l->touch, "high");
    cr_expect_eq(cw_config_rule_params(cfg, 2, "L")->after_ms, 7 * DAY);
    cr_expect_eq(cw_config_rule_params(cfg, 2, "S")->after_ms, 21 * DAY);
    cr_expect_str_eq(cw_config_rule_params(cfg, 0, "S")->touch, "tech");
    cr_expect_str_eq(cw_config_rule_params(cfg, 0, "M")->touch, "low");
    cr_expect_eq(cw_config_rule_params(cfg, 0, "M")->enter, 40);
    cr_expect_eq(cw_config_rule_params(cfg, 0, "XL"), &r[0].params);
    cr_expect_eq(cw_config_rule_params(cfg, 4, "L")->severity, CW_SEV_WARNING);
    /* renewal risks are calls for M (the segment's touch is low), expansions go to sales */
    cr_expect_str_eq(cw_config_rule_params(cfg, 5, "S")->touch, "tech");
    cr_expect_str_eq(cw_config_rule_params(cfg, 5, "M")->touch, "high");
    cr_expect_str_eq(cw_config_rule_params(cfg, 5, "L")->touch, "high");
    static const char *const segs[] = {"S", "M", "L"};
    for (size_t i = 0; i < 3; i++)
        cr_expect_str_eq(cw_config_rule_params(cfg, 6, segs[i])->touch, "sales", "%s", segs[i]);

    const struct cw_score_config *sc = &cfg->score;
    cr_assert_eq(sc->n_stages, 3);
    cr_expect_str_eq(sc->stages[0].name, "onboarding");
    cr_expect_eq(sc->stages[0].created_within_ms, 90 * DAY);
    cr_expect_str_eq(sc->stages[1].name, "renewal");
    cr_expect_eq(sc->stages[1].renewal_within_ms, 90 * DAY);
    cr_expect_str_eq(sc->stages[2].name, "adopted");
    cr_assert_eq(sc->n_profiles, 1);
    cr_expect_str_eq(sc->profiles[0].name, "onboarding");
    cr_assert_eq(sc->profiles[0].n_stages, 1);
    cr_expect_eq(sc->profiles[0].stages[0], 0);
    cr_expect_eq(sc->profiles[0].segments.n, 0);

    cr_expect_str_eq(cfg->http_listen, "127.0.0.1:9464");
    cr_expect_eq(cfg->log_level, CW_LOG_INFO);
    cr_expect_eq(cfg->log_format, CW_LOG_LOGFMT);
    cw_config_free(cfg);
}

Test(config, redis_tls_section)
{
    struct cw_config *cfg = load("redis:\n  url: rediss://:pw@redis.example:6380/1\n  tls:\n"
                                 "    ca_file: /etc/ssl/redis-ca.pem\n    ca_dir: /etc/ssl/certs\n"
                                 "    cert_file: /etc/churnwatch/client.pem\n"
                                 "    key_file: /etc/churnwatch/client.key\n"
                                 "    server_name: redis.internal\n    verify: false\n" MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect(cfg->redis.tls.configured);
    cr_expect_str_eq(cfg->redis.tls.ca_file, "/etc/ssl/redis-ca.pem");
    cr_expect_str_eq(cfg->redis.tls.ca_dir, "/etc/ssl/certs");
    cr_expect_str_eq(cfg->redis.tls.cert_file, "/etc/churnwatch/client.pem");
    cr_expect_str_eq(cfg->redis.tls.key_file, "/etc/churnwatch/client.key");
    cr_expect_str_eq(cfg->redis.tls.server_name, "redis.internal");
    cr_expect_not(cfg->redis.tls.verify);
    cw_config_free(cfg);
    cfg = load("redis:\n  url: rediss-cluster://a:7000,b:7000\n  tls: {}\n" MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect(cfg->redis.tls.configured);
    cr_expect(cfg->redis.tls.verify);
    cw_config_free(cfg);
}

Test(config, free_null_is_a_no_op)
{
    cw_config_free(NULL);
}

/* ---- defaults ---- */

Test(config, minimal_config_gets_every_default)
{
    struct cw_config *cfg = load(MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->path, "t.yaml");
    cr_expect_str_eq(cfg->kafka.brokers, "localhost:9092");
    cr_expect_str_eq(cfg->kafka.group_id, "churnwatch");
    cr_expect_str_eq(cfg->kafka.topics.items[0], "usage-events");
    cr_expect_str_eq(cfg->kafka.alerts_topic, "churnwatch-alerts");
    cr_expect_str_eq(cfg->kafka.dlq_topic, "usage-events-dlq");
    cr_expect_str_eq(cfg->redis.url, "redis://127.0.0.1:6379/0");
    cr_expect_str_eq(cfg->redis.key_prefix, "cw:");
    cr_expect_not(cfg->redis.tls.configured);
    cr_expect(cfg->redis.tls.verify);
    cr_expect_null(cfg->redis.tls.ca_file);
    cr_expect_str_eq(cfg->timezone, "UTC");
    cr_expect_eq(cfg->lateness_ms, 2 * DAY);
    cr_expect_eq(cfg->max_clock_skew_ms, 900000);
    cr_expect_eq(cfg->sweep_interval_ms, 300000);
    cr_assert_eq(cfg->n_windows, 2);
    cr_expect_eq(cfg->windows[1].days, 28);
    cr_expect_eq(cfg->longest_window_days, 28);
    cr_expect_eq(cfg->n_metrics, CW_METRIC_BUILTIN_COUNT);
    cr_expect_str_eq(cfg->metrics[0].name, "active_users");
    cr_expect(cfg->metrics[0].builtin);
    cr_expect_not(cfg->users.enabled, "no users section: no engagement kept");
    cr_expect_eq(cfg->users.n_ranks, 5, "the default ranks, read all the same");
    cr_expect_eq(cfg->n_event_types, 0);
    cr_expect_eq(cfg->n_rules, 0);
    cr_expect_eq(cfg->n_segments, 0);
    cr_expect_eq(cfg->score.components[0].weight, 1);
    cr_expect_eq(cfg->score.components[0].measures[0].weight, 1);
    cr_expect_not(cfg->score.components[0].measures[0].per_seat);
    cr_expect_eq(cfg->score.min_observed_days, 3);
    const char *grades[] = {"A", "B", "C", "D"};
    const double mins[] = {80, 60, 40, 0};
    cr_assert_eq(cfg->score.n_grades, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(cfg->score.grades[i].name, grades[i]);
        cr_expect_eq(cfg->score.grades[i].min_score, mins[i]);
    }
    /* the native preset's pointers */
    for (int f = 0; f < CW_FIELD__COUNT; f++) {
        const char *const *want;
        size_t n = cw_preset_pointers(CW_PRESET_NATIVE, (enum cw_field)f, &want);
        const struct cw_strlist *got[] = {&cfg->input.account_id, &cfg->input.user_id,
                                          &cfg->input.type,       &cfg->input.ts,
                                          &cfg->input.event_id,   &cfg->input.traits};
        cr_assert_eq(got[f]->n, n);
        for (size_t i = 0; i < n; i++)
            cr_expect_str_eq(got[f]->items[i], want[i]);
    }
    cr_expect_str_eq(cfg->http_listen, "127.0.0.1:9464");
    cr_expect_eq(cfg->log_level, CW_LOG_INFO);
    cr_expect_eq(cfg->log_format, CW_LOG_LOGFMT);
    cr_expect_null(cfg->scores.topic, "no score feed unless asked for");
    cr_expect_eq(cfg->scores.step, 5);
    cr_expect_eq(cfg->hierarchy.rollup, CW_ROLLUP_SEAT_WEIGHTED_MEAN);
    cr_expect_eq(cfg->hierarchy.max_depth, 4);
    cw_config_free(cfg);
}

Test(config, hierarchy_section)
{
    struct cw_config *cfg = load(MIN "hierarchy:\n  rollup: minimum\n  max_depth: 16\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_eq(cfg->hierarchy.rollup, CW_ROLLUP_MINIMUM);
    cr_expect_eq(cfg->hierarchy.max_depth, 16);
    cw_config_free(cfg);
    cfg = load(MIN "hierarchy: {rollup: mean}\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_eq(cfg->hierarchy.rollup, CW_ROLLUP_MEAN);
    cr_expect_eq(cfg->hierarchy.max_depth, 4, "the default depth");
    cw_config_free(cfg);
}

Test(config, score_feed_section)
{
    struct cw_config *cfg = load(MIN "scores:\n  topic: churnwatch-scores\n  step: 2.5\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->scores.topic, "churnwatch-scores");
    cr_expect_eq(cfg->scores.step, 2.5);
    cw_config_free(cfg);
    cfg = load(MIN "scores: {topic: s}\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->scores.topic, "s");
    cr_expect_eq(cfg->scores.step, 5, "the default step");
    cw_config_free(cfg);
    cfg = load(MIN "scores: {step: 1}\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_null(cfg->scores.topic, "a step alone turns nothing on");
    cw_config_free(cfg);
}

Test(config, empty_http_listen_disables_the_endpoint)
{
    struct cw_config *cfg = load("http: {listen: \"\"}\n" MIN);
    cr_assert(cfg, "%s", errs);
    cr_expect_str_eq(cfg->http_listen, "");
    cw_config_free(cfg);
    cfg = load("http: {listen: \"[::1]:9464\"}\n" MIN);
    cr_assert(cfg, "%s", errs);
    cr_expect_str_eq(cfg->http_listen, "[::1]:9464");
    cw_config_free(cfg);
}

Test(config, preset_and_explicit_pointer_lists)
{
    struct cw_config *cfg = load("input:\n"
                                 "  preset: segment\n"
                                 "  fields:\n"
                                 "    account_id: [/account, /context/groupId]\n"
                                 "    user_id: []\n"
                                 "    ts: ['', /a~1b/c~0d]\n" MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_eq(cfg->input.preset, CW_PRESET_SEGMENT);
    cr_assert_eq(cfg->input.account_id.n, 2);
    cr_expect_str_eq(cfg->input.account_id.items[0], "/account");
    cr_expect_str_eq(cfg->input.account_id.items[1], "/context/groupId");
    cr_expect_eq(cfg->input.user_id.n, 0);
    cr_assert_eq(cfg->input.ts.n, 2);
    cr_expect_str_eq(cfg->input.ts.items[0], "");
    cr_expect_str_eq(cfg->input.ts.items[1], "/a~1b/c~0d");
    /* fields not listed keep the preset's lists */
    cr_assert_eq(cfg->input.type.n, 2);
    cr_expect_str_eq(cfg->input.type.items[0], "/event");
    cr_expect_str_eq(cfg->input.event_id.items[0], "/messageId");
    cw_config_free(cfg);
}

Test(config, kafka_properties_keep_file_order_and_scalar_text)
{
    struct cw_config *cfg = load("kafka:\n"
                                 "  properties:\n"
                                 "    security.protocol: SASL_SSL\n"
                                 "    socket.keepalive.enable: true\n"
                                 "    fetch.wait.max.ms: 100\n" MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_assert_eq(cfg->kafka.n_properties, 3);
    cr_expect_str_eq(cfg->kafka.properties[0].key, "security.protocol");
    cr_expect_str_eq(cfg->kafka.properties[0].value, "SASL_SSL");
    cr_expect_str_eq(cfg->kafka.properties[1].value, "true");
    cr_expect_str_eq(cfg->kafka.properties[2].key, "fetch.wait.max.ms");
    cr_expect_str_eq(cfg->kafka.properties[2].value, "100");
    cw_config_free(cfg);
}

/* ---- rules, touch and segments ---- */

#define EVENTS                                                                                     \
    "event_types:\n"                                                                               \
    "  login: {metric: logins, aliases: [Signed In]}\n"                                            \
    "  app_created: {metric: apps}\n"                                                              \
    "  account_updated: {traits: true, aliases: [group]}\n"

Test(config, rule_defaults_touch_resolution_and_exit_points)
{
    struct cw_config *cfg =
        load(EVENTS MIN "alerts:\n"
                        "  defaults: {for: 1h, severity: info, touch: mail}\n"
                        "  touch_by_severity: {critical: call}\n"
                        "  rules:\n"
                        "    - {name: a, kind: score_drop, points: 30, over: 7d}\n"
                        "    - {name: b, kind: score_below, enter: 10, exit: 20,"
                        " severity: critical, for: 0}\n"
                        "    - {name: c, kind: inactive, after: 3d,"
                        " types: [Signed In, login, app_created]}\n"
                        "    - {name: d, kind: ratio_below, metric: apps,"
                        " window: long, enter: 1, exit: 2, per_seat: false,"
                        " touch: own}\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_assert_eq(cfg->n_rules, 4);
    const struct cw_rule *r = cfg->rules;
    cr_expect_eq(r[0].params.exit_points, 15, "exit_points defaults to points/2");
    cr_expect_eq(r[0].params.for_ms, 3600000);
    cr_expect_eq(r[0].params.severity, CW_SEV_INFO);
    cr_expect_str_eq(r[0].params.touch, "mail", "no mapping for info: defaults.touch");
    cr_expect_eq(r[1].params.for_ms, 0);
    cr_expect_str_eq(r[1].params.touch, "call");
    cr_assert_eq(r[2].n_types, 2, "an alias and its name are one type");
    cr_expect_eq(r[2].types[0], cw_config_event_type_index(cfg, "login"));
    cr_expect_eq(r[2].types[1], cw_config_event_type_index(cfg, "app_created"));
    cr_expect_eq(r[3].metric, cw_config_metric_index(cfg, "apps"));
    cr_expect_eq(r[3].window, 1);
    cr_expect_not(r[3].per_seat);
    cr_expect_str_eq(r[3].params.touch, "own");
    cw_config_free(cfg);
}

/* A score_below rule whose `when:` is on line 10 (the value follows). */
#define WHEN                                                                                       \
    MIN "alerts:\n  rules:\n    - name: r\n      kind: score_below\n      enter: 40\n"             \
        "      exit: 50\n      when: "

/* Two components and a stage (lines 1-6), for the stage and profile cases. */
#define STAGED                                                                                     \
    "score:\n"                                                                                     \
    "  components:\n"                                                                              \
    "    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n"             \
    "    d: {weight: 2, measures: [{name: n, metric: active_users, window: long, target: 2}]}\n"   \
    "  stages:\n"                                                                                  \
    "    - {name: onboarding, created_within: 90d}\n"

Test(config, segment_overrides_are_merged_over_the_rule)
{
    struct cw_config *cfg = load(MIN "alerts:\n"
                                     "  rules:\n"
                                     "    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
                                     "    - {name: drop, kind: score_drop, points: 20, over: 14d,"
                                     " severity: critical}\n"
                                     "segments:\n"
                                     "  big:\n"
                                     "    touch: high\n"
                                     "    rules:\n"
                                     "      low: {enter: 55, exit: 65, for: 1d}\n"
                                     "      drop: {points: 10}\n"
                                     "  small:\n"
                                     "    rules:\n"
                                     "      drop: {severity: info, touch: robot}\n");
    cr_assert_not_null(cfg, "%s", errs);
    const struct cw_rule_params *p = cw_config_rule_params(cfg, 0, "big");
    cr_expect_eq(p->enter, 55);
    cr_expect_eq(p->exit, 65);
    cr_expect_eq(p->for_ms, DAY);
    cr_expect_str_eq(p->touch, "high");
    p = cw_config_rule_params(cfg, 1, "big");
    cr_expect_eq(p->points, 10);
    cr_expect_eq(p->exit_points, 5, "a defaulted exit_points follows the overridden points");
    cr_expect_eq(p->over_ms, 14 * DAY);
    cr_expect_str_eq(p->touch, "high");
    p = cw_config_rule_params(cfg, 0, "small");
    cr_expect_eq(p->enter, 40);
    cr_expect_str_eq(p->touch, "low", "warning severity maps to low");
    p = cw_config_rule_params(cfg, 1, "small");
    cr_expect_eq(p->severity, CW_SEV_INFO);
    cr_expect_str_eq(p->touch, "robot");
    cr_expect_eq(cfg->rules[1].params.severity, CW_SEV_CRITICAL, "the rule is unchanged");
    cr_expect_str_eq(cfg->rules[1].params.touch, "high");
    cw_config_free(cfg);
}

Test(config, stages_and_profiles_merge_over_the_base_scorecard)
{
    struct cw_config *cfg = load(STAGED "    - {name: renewal, renewal_within: 60d}\n"
                                        "    - {name: adopted}\n"
                                        "  profiles:\n"
                                        "    - name: new_large\n"
                                        "      segments: [L, XL]\n"
                                        "      stages: [onboarding, renewal]\n"
                                        "      components: {d: {weight: 0.5}}\n"
                                        "      measures: {m: {target: 3}, n: {weight: 0}}\n"
                                        "    - {name: any_stage, measures: {n: {target: 5}}}\n");
    cr_assert_not_null(cfg, "%s", errs);
    const struct cw_score_config *sc = &cfg->score;
    cr_assert_eq(sc->n_stages, 3);
    cr_expect_str_eq(sc->stages[0].name, "onboarding");
    cr_expect_eq(sc->stages[0].created_within_ms, 90 * DAY);
    cr_expect_eq(sc->stages[0].renewal_within_ms, 0);
    cr_expect_eq(sc->stages[1].renewal_within_ms, 60 * DAY);
    cr_expect_eq(sc->stages[2].created_within_ms + sc->stages[2].renewal_within_ms, 0);
    cr_assert_eq(sc->n_profiles, 2);
    const struct cw_profile *p = &sc->profiles[0];
    cr_expect_str_eq(p->name, "new_large");
    cr_assert_eq(p->segments.n, 2);
    cr_expect_str_eq(p->segments.items[1], "XL");
    cr_assert_eq(p->n_stages, 2);
    cr_expect_eq(p->stages[0], 0);
    cr_expect_eq(p->stages[1], 1);
    cr_expect_eq(p->component_weight[0], 1, "the base weight (defaulted)");
    cr_expect_eq(p->component_weight[1], 0.5);
    cr_expect_eq(p->measure_target[0], 3);
    cr_expect_eq(p->measure_weight[0], 1, "not overridden: the base weight");
    cr_expect_eq(p->measure_target[1], 2, "not overridden: the base target");
    cr_expect_eq(p->measure_weight[1], 0);
    p = &sc->profiles[1];
    cr_expect_eq(p->segments.n + p->n_stages, 0, "no filter: any account");
    cr_expect_eq(p->component_weight[1], 2);
    cr_expect_eq(p->measure_target[1], 5);
    cr_expect_eq(sc->components[0].measures[0].target, 1, "the base scorecard is unchanged");
    cw_config_free(cfg);
}

Test(config, further_conditions_of_a_rule)
{
    struct cw_config *cfg = load(STAGED "alerts:\n"
                                        "  rules:\n"
                                        "    - name: engaged_low\n"
                                        "      kind: score_below\n"
                                        "      enter: 40\n"
                                        "      exit: 50\n"
                                        "      when:\n"
                                        "        - {metric: active_users, window: long, "
                                        "per_seat: true, below: 0.5}\n"
                                        "        - {score_above: 10}\n"
                                        "        - {grade: [C, D]}\n"
                                        "        - {stage: [onboarding]}\n"
                                        "    - {name: plain, kind: score_below, enter: 30, "
                                        "exit: 35}\n");
    cr_assert_not_null(cfg, "%s", errs);
    const struct cw_rule *r = &cfg->rules[0];
    cr_assert_eq(r->n_when, 4);
    cr_expect_eq(r->when[0].subject, CW_COND_METRIC);
    cr_expect_eq(r->when[0].metric, CW_METRIC_ACTIVE_USERS);
    cr_expect_eq(r->when[0].window, cw_config_window_index(cfg, "long"));
    cr_expect(r->when[0].per_seat);
    cr_expect_not(r->when[0].above);
    cr_expect_eq(r->when[0].value, 0.5);
    cr_expect_eq(r->when[1].subject, CW_COND_SCORE);
    cr_expect(r->when[1].above);
    cr_expect_eq(r->when[1].value, 10);
    cr_expect_eq(r->when[2].subject, CW_COND_GRADE);
    cr_assert_eq(r->when[2].names.n, 2);
    cr_expect_str_eq(r->when[2].names.items[1], "D");
    cr_expect_eq(r->when[3].subject, CW_COND_STAGE);
    cr_expect_str_eq(r->when[3].names.items[0], "onboarding");
    cr_expect_eq(cfg->rules[1].n_when, 0);
    cr_expect_null(cfg->rules[1].when);
    cw_config_free(cfg);
}

/* ---- environment ---- */

static const char *env_good(const char *name)
{
    if (strcmp(name, "CHURNWATCH_KAFKA_BROKERS") == 0)
        return "k1:9092,k2:9092";
    if (strcmp(name, "CHURNWATCH_REDIS_URL") == 0)
        return "redis-cluster://r1:7000,r2:7000";
    if (strcmp(name, "CHURNWATCH_LOG_LEVEL") == 0)
        return "debug";
    if (strcmp(name, "CHURNWATCH_HTTP_LISTEN") == 0)
        return "0.0.0.0:9464";
    return NULL;
}

static const char *env_empty(const char *name)
{
    (void)name;
    return "";
}

static const char *env_bad(const char *name)
{
    if (strcmp(name, "CHURNWATCH_REDIS_URL") == 0)
        return "http://user:s3cret@host";
    if (strcmp(name, "CHURNWATCH_LOG_LEVEL") == 0)
        return "loud";
    if (strcmp(name, "CHURNWATCH_HTTP_LISTEN") == 0)
        return "nowhere";
    return NULL;
}

Test(config, environment_overrides_apply)
{
    struct cw_config *cfg = load_env(MIN, env_good);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->kafka.brokers, "k1:9092,k2:9092");
    cr_expect_str_eq(cfg->redis.url, "redis-cluster://r1:7000,r2:7000");
    cr_expect_eq(cfg->log_level, CW_LOG_DEBUG);
    cr_expect_str_eq(cfg->http_listen, "0.0.0.0:9464");
    cw_config_free(cfg);

    cfg = load_env("log: {level: warn}\n" MIN, env_empty);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_eq(cfg->log_level, CW_LOG_WARN, "an empty variable counts as unset");
    cr_expect_str_eq(cfg->kafka.brokers, "localhost:9092");
    cw_config_free(cfg);
}

Test(config, bad_environment_overrides_are_errors_naming_the_variable)
{
    cr_assert_null(load_env(MIN, env_bad));
    cr_expect_eq(count_lines(errs), 3, "%s", errs);
    cr_expect_not_null(strstr(errs, "CHURNWATCH_HTTP_LISTEN: "), "%s", errs);
    cr_expect_not_null(strstr(errs, "CHURNWATCH_LOG_LEVEL: invalid value 'loud' (environment "
                                    "override); valid values: error, warn, info, debug"),
                       "%s", errs);
    cr_expect_not_null(strstr(errs, "CHURNWATCH_REDIS_URL: unsupported URL scheme"), "%s", errs);
    cr_expect_null(strstr(errs, "s3cret"), "a secret leaked: %s", errs);
}

Test(config, event_values_and_aggregates)
{
    struct cw_config *cfg =
        load("event_types:\n"
             "  nps_submitted: {metric: nps, value: [/properties/score, /score]}\n"
             "  webinar: {metric: minutes, value: /minutes, aliases: [w]}\n"
             "  login: {metric: logins}\n"
             "score:\n"
             "  components:\n"
             "    c:\n"
             "      measures:\n"
             "        - {name: a, metric: nps, window: long, target: 50, "
             "aggregate: nps}\n"
             "        - {name: b, metric: minutes, window: short, target: 60, "
             "aggregate: sum}\n"
             "        - {name: c, metric: nps, window: short, target: 5}\n"
             "        - {name: d, metric: logins, window: short, target: 5}\n");
    cr_assert_not_null(cfg, "%s", errs);
    int nps = cw_config_metric_index(cfg, "nps"), minutes = cw_config_metric_index(cfg, "minutes"),
        logins = cw_config_metric_index(cfg, "logins");
    cr_assert(nps >= 0 && minutes >= 0 && logins >= 0);
    cr_expect(cfg->metrics[nps].valued);
    cr_expect(cfg->metrics[minutes].valued);
    cr_expect_not(cfg->metrics[logins].valued);
    const struct cw_event_type *et =
        &cfg->event_types[cw_config_event_type_index(cfg, "nps_submitted")];
    cr_assert_eq(et->value.n, 2);
    cr_expect_str_eq(et->value.items[0], "/properties/score");
    cr_expect_str_eq(et->value.items[1], "/score");
    et = &cfg->event_types[cw_config_event_type_index(cfg, "webinar")];
    cr_assert_eq(et->value.n, 1, "a single pointer is a list of one");
    cr_expect_str_eq(et->value.items[0], "/minutes");
    cr_expect_eq(cfg->event_types[cw_config_event_type_index(cfg, "login")].value.n, 0);
    const struct cw_component *c = &cfg->score.components[0];
    cr_expect_eq(c->measures[0].aggregate, CW_AGG_NPS);
    cr_expect_eq(c->measures[1].aggregate, CW_AGG_SUM);
    cr_expect_eq(c->measures[2].aggregate, CW_AGG_COUNT, "count is the default, also of values");
    cr_expect_eq(c->measures[3].aggregate, CW_AGG_COUNT);
    cw_config_free(cfg);
}

Test(config, shipped_config_decodes_in_every_preset)
{
    /* the value pointers count against the decoder's 64 pointers with the preset's */
    FILE *f = fopen(SHIPPED, "r");
    cr_assert_not_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, "\n  preset: native\n");
    cr_assert_not_null(at, "no preset line in the shipped config");
    const char *names[] = {"native", "segment", "cloudevents"};
    for (size_t i = 0; i < 3; i++) {
        static char yaml[65536 + 32];
        snprintf(yaml, sizeof yaml, "%.*s\n  preset: %s\n%s", (int)(at - text), text, names[i],
                 at + strlen("\n  preset: native\n"));
        struct cw_config *cfg = load(yaml);
        cr_assert_not_null(cfg, "%s: %s", names[i], errs);
        char err[256] = "";
        cw_decoder *dec = cw_decoder_new(cfg, err, sizeof err);
        cr_assert_not_null(dec, "%s: %s", names[i], err);
        /* the generator's valued events in this preset's form carry their value */
        struct cw_gen_options o;
        cw_gen_options_init(&o);
        o.form = i == 0 ? CW_PRESET_NATIVE : i == 1 ? CW_PRESET_SEGMENT : CW_PRESET_CLOUDEVENTS;
        o.accounts = 10;
        cw_gen *g = cw_gen_new(&o, err, sizeof err);
        cr_assert_not_null(g, "%s", err);
        static char line[8192];
        size_t len, valued = 0;
        struct cw_gen_event gev;
        while (cw_gen_next(g, line, sizeof line, &len, &gev) == 1) {
            if (gev.type != CW_GEN_NPS_SUBMITTED && gev.type != CW_GEN_WEBINAR_WATCHED)
                continue;
            static struct cw_event ev;
            char reason[256] = "";
            cr_assert_eq(cw_decode(dec, line, len, -1, &ev, reason, sizeof reason), CW_OK,
                         "%s: %s: %s", names[i], reason, line);
            cr_assert(ev.has_value, "%s: %s", names[i], line);
            valued++;
        }
        cr_expect_gt(valued, 0, "%s", names[i]);
        cw_gen_free(g);
        cw_decoder_free(dec);
        cw_config_free(cfg);
    }
}

/* ---- errors: each class, its position and its key path ---- */

/* The source line of the first error in errs, with a caret under its column. */
static void show_position(const char *yaml, const char *err, char *out, size_t size)
{
    unsigned line = 0, col = 0;
    out[0] = '\0';
    if (sscanf(err, "t.yaml:%u:%u:", &line, &col) != 2 || line == 0 || col == 0)
        return;
    for (unsigned l = 1; l < line && yaml; l++) {
        yaml = strchr(yaml, '\n');
        yaml = yaml ? yaml + 1 : NULL;
    }
    if (!yaml)
        return;
    int n = (int)strcspn(yaml, "\n");
    snprintf(out, size, "%.*s\n%*s^", n, yaml, (int)col - 1, "");
}

struct err_case {
    const char *yaml;
    const char *want; /* "t.yaml:L:C: message" (a prefix of one error line) */
};

static const struct err_case cases[] = {
    /* YAML level */
    {"", "t.yaml:1:1: the configuration is empty"},
    {"# only a comment\n", "t.yaml:1:1: the configuration is empty"},
    {"- a\n- b\n", "t.yaml:1:1: the top level must be a mapping of keys"},
    {"just text\n", "t.yaml:1:1: the top level must be a mapping of keys"},
    {"kafka:\n\tbrokers: x\n", "t.yaml:2:1: invalid YAML: found character that cannot start any "
                               "token"},
    {"score: [1\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or ']'"},
    {"x: &a 1\n", "t.yaml:1:4: YAML anchors (&a) are not supported"},
    {"x: *a\n", "t.yaml:1:4: YAML aliases (*a) are not supported"},
    {"x: !!str 1\n", "t.yaml:1:4: YAML tags (tag:yaml.org,2002:str) are not supported"},
    {"? [a]\n: b\n", "t.yaml:1:3: mapping keys must be plain scalars"},
    {MIN "---\nlog: {}\n", "t.yaml:4:1: only one YAML document is allowed"},
    /* keys */
    {"kafka:\n  brokerz: x\n" MIN,
     "t.yaml:2:3: unknown key 'brokerz' in kafka; valid keys: brokers, group_id, topics, "
     "alerts_topic, dlq_topic, properties"},
    {"colour: red\n" MIN, "t.yaml:1:1: unknown key 'colour' in the top level; valid keys: "
                          "kafka, redis, timezone,"},
    {"log:\n  level: info\n  level: debug\n" MIN,
     "t.yaml:3:3: duplicate key 'level' in log (first at line 2)"},
    {"log: {}\n" MIN "log: {}\n", "t.yaml:5:1: duplicate key 'log' in the top level (first at "
                                  "line 1)"},
    {"log: {level: info}\n", "t.yaml:1:1: missing required key 'score'"},
    /* types */
    {"timezone: [UTC]\n" MIN, "t.yaml:1:1: timezone: expected an IANA time zone name, got a "
                              "sequence"},
    {"timezone:\n" MIN, "t.yaml:1:1: timezone: expected an IANA time zone name, got null"},
    {"kafka: brokers\n" MIN, "t.yaml:1:1: kafka: expected a mapping, got a scalar"},
    {"kafka: {topics: usage}\n" MIN, "t.yaml:1:9: kafka.topics: expected a sequence, got a "
                                     "scalar"},
    {"input: {max_depth: \"32\"}\n" MIN, "t.yaml:1:9: input.max_depth: expected a whole "
                                         "number, got '32'"},
    {"input: {max_message_bytes: 99999999999999999999999}\n" MIN,
     "t.yaml:1:9: input.max_message_bytes: 99999999999999999999999 is out of range"},
    {"input: {max_id_length: 300}\n" MIN, "t.yaml:1:9: input.max_id_length: 300 is out of "
                                          "range: must be at least 1 and at most 255"},
    {"score:\n  components:\n    c:\n      weight: 1e999\n      measures: []\n",
     "t.yaml:4:7: score.components.c.weight: number '1e999' is out of range"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: "
     "short, target: 1, per_seat: yes}]}\n",
     "t.yaml:3:78: score.components.c.measures[0].per_seat: expected true or false, got 'yes'"},
    /* durations */
    {"lateness: 1w\n" MIN, "t.yaml:1:1: lateness: '1w' is not a duration"},
    {"lateness: -5m\n" MIN, "t.yaml:1:1: lateness: '-5m' is not a duration"},
    {"lateness: 5\n" MIN, "t.yaml:1:1: lateness: '5' is not a duration"},
    {"lateness: 1.5h\n" MIN, "t.yaml:1:1: lateness: '1.5h' is not a duration"},
    {"lateness: 106751991168d\n" MIN, "t.yaml:1:1: lateness: duration '106751991168d' is too "
                                      "large"},
    {"lateness: 400d\n" MIN, "t.yaml:1:1: lateness: 400d is out of range: must be at least 0 "
                             "and at most 366d"},
    {"sweep_interval: 0\n" MIN, "t.yaml:1:1: sweep_interval: 0 is out of range: must be above"},
    {"max_silence: 0\n" MIN, "t.yaml:1:1: max_silence: 0 is out of range: must be above"},
    {"max_silence: 400d\n" MIN, "t.yaml:1:1: max_silence: 400d is out of range: must be above 0 "
                                "and at most 366d"},
    {"windows: {short: 36h}\n" MIN, "t.yaml:1:11: windows.short: a window is a whole number of "
                                    "days"},
    {"windows: {long: 400d}\n" MIN, "t.yaml:1:11: windows.long: 400d is longer than the limit "
                                    "of 366d"},
    /* values */
    {"timezone: Mars/Olympus\n" MIN, "t.yaml:1:1: timezone: unknown IANA time zone "
                                     "'Mars/Olympus'"},
    {"log:\n  level: loud\n" MIN, "t.yaml:2:3: log.level: invalid value 'loud'; valid values: "
                                  "error, warn, info, debug"},
    {"log: {format: xml}\n" MIN, "t.yaml:1:7: log.format: invalid value 'xml'; valid values: "
                                 "logfmt, json"},
    {"redis:\n  url: 'http://u:s3cret@h'\n" MIN, "t.yaml:2:3: redis.url: unsupported URL "
                                                 "scheme"},
    {"redis: {url: 'redis://h:99999/0'}\n" MIN, "t.yaml:1:9: redis.url: bad host in redis URL: "
                                                "port must be a number from 1 to 65535"},
    {"redis: {key_prefix: 'cw{x}:'}\n" MIN, "t.yaml:1:9: redis.key_prefix: must not contain "
                                            "braces"},
    {"redis:\n  url: rediss://h:6380/0\n  tls: {cafile: /x}\n" MIN,
     "t.yaml:3:9: unknown key 'cafile' in redis.tls; valid keys: ca_file, ca_dir, cert_file, "
     "key_file, server_name, verify"},
    {"redis:\n  url: rediss://h:6380/0\n  tls:\n    verify: maybe\n" MIN,
     "t.yaml:4:5: redis.tls.verify: expected true or false, got 'maybe'"},
    {"redis:\n  url: rediss://h:6380/0\n  tls:\n    cert_file: /c.pem\n" MIN,
     "t.yaml:4:5: redis.tls.cert_file: cert_file and key_file go together"},
    {"redis:\n  url: redis://h:6379/0\n  tls:\n    ca_file: /ca.pem\n" MIN,
     "t.yaml:3:3: redis.tls: applies to rediss:// and rediss-cluster:// URLs only"},
    {"redis:\n  url: rediss-cluster://h:7000,\n" MIN,
     "t.yaml:2:3: redis.url: trailing ',' in redis-cluster URL"},
    {"http: {listen: localhost}\n" MIN, "t.yaml:1:8: http.listen: missing :port"},
    {"kafka:\n  properties:\n    group.id: other\n" MIN,
     "t.yaml:3:5: kafka.properties.group.id: 'group.id' is managed by churnwatch"},
    {"kafka: {topics: [a, a]}\n" MIN, "t.yaml:1:21: kafka.topics[1]: duplicate item 'a'"},
    {"kafka: {topics: [events], alerts_topic: events}\n" MIN,
     "t.yaml:1:27: kafka.alerts_topic: 'events' is also an input topic"},
    {"kafka: {topics: ['bad topic']}\n" MIN, "t.yaml:1:18: kafka.topics[0]: invalid Kafka "
                                             "topic name"},
    {"input:\n  fields:\n    account_id: [account]\n" MIN,
     "t.yaml:3:18: input.fields.account_id[0]: JSON pointer 'account' must be empty or start "
     "with '/'"},
    {"input:\n  fields:\n    type: [/a~2]\n" MIN, "t.yaml:3:12: input.fields.type[0]: JSON "
                                                  "pointer '/a~2': '~' must be followed by 0 or "
                                                  "1"},
    {"input:\n  fields:\n    type: []\n" MIN, "t.yaml:3:5: input.fields.type: needs at least "
                                              "one JSON pointer"},
    {"input:\n  fields:\n    user: [/u]\n" MIN, "t.yaml:3:5: unknown key 'user' in input.fields"},
    {"input: {unknown_types: drop}\n" MIN, "t.yaml:1:9: input.unknown_types: invalid value "
                                           "'drop'; valid values: ignore, dlq"},
    /* event types */
    {"event_types:\n  login: {aliases: [x]}\n" MIN,
     "t.yaml:2:3: event_types.login: needs a metric, or traits: true"},
    {"event_types:\n  login: {metric: logins, traits: true}\n" MIN,
     "t.yaml:2:3: event_types.login: a traits event type (traits: true) has no metric"},
    {"event_types:\n  login: {metric: active_users}\n" MIN,
     "t.yaml:2:11: event_types.login.metric: 'active_users' is a built-in metric"},
    {"event_types:\n  login: {metric: l, aliases: [Signed In]}\n  signin: {metric: l, "
     "aliases: [Signed In]}\n" MIN,
     "t.yaml:3:33: event_types.signin.aliases[0]: 'Signed In' is already used by event type "
     "'login'"},
    {"event_types:\n  login: {metric: l, aliases: [signin]}\n  signin: {metric: l}\n" MIN,
     "t.yaml:2:32: event_types.login.aliases[0]: 'signin' is also the name of an event type "
     "(line 3)"},
    /* score */
    {"score:\n  components:\n    c: {measures: [{name: m, metric: nope, window: short, target: "
     "1}]}\n",
     "t.yaml:3:30: score.components.c.measures[0].metric: unknown metric 'nope'; metrics: "
     "active_users"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: week, "
     "target: 1}]}\n",
     "t.yaml:3:52: score.components.c.measures[0].window: unknown window 'week'; windows: short, "
     "long"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, "
     "target: 0}]}\n",
     "t.yaml:3:67: score.components.c.measures[0].target: 0 is out of range: must be above 0"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: "
     "short}]}\n",
     "t.yaml:3:20: score.components.c.measures[0]: missing required key 'target'"},
    {"score:\n  components:\n    c: {weight: 0, measures: [{name: m, metric: active_users, "
     "window: short, target: 1}]}\n",
     "t.yaml:3:9: score.components.c.weight: 0 is out of range: must be above 0"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, "
     "target: 1}]}\n    d: {measures: [{name: m, metric: active_users, window: short, target: "
     "1}]}\n",
     "t.yaml:4:21: score.components.d.measures[0]: duplicate measure name 'm'"},
    {MIN "  grades: {A: 80, B: 90, C: 0}\n",
     "t.yaml:4:19: score.grades.B: 90 must be below the previous band A (80)"},
    {MIN "  grades: {A: 80, B: 10}\n", "t.yaml:4:19: score.grades.B: the last band must have "
                                       "minimum 0"},
    {MIN "  grades: {Excellent: 80, D: 0}\n", "t.yaml:4:12: score.grades.Excellent: a grade "
                                              "name has 1 to 7 bytes"},
    {MIN "  min_observed_days: 10\n", "t.yaml:4:3: score.min_observed_days: 10 exceeds window "
                                      "'short' (7d) of measure 'm'"},
    {"score:\n  components: {}\n", "t.yaml:2:3: score.components: must define between 1 and 8 "
                                   "components (found 0)"},
    /* rules */
    {MIN "alerts:\n  rules:\n    - name: low\n      kind: score_below\n      enter: 40\n"
         "      exit: 40\n",
     "t.yaml:9:7: alerts.rules[0].exit: must be above enter (40) for score_below"},
    {MIN "alerts:\n  rules:\n    - name: low\n      kind: score_below\n      enter: 40\n"
         "      exit: 50\n      after: 3d\n",
     "t.yaml:10:7: key 'after' does not apply to score_below rules in alerts.rules[0]; valid "
     "keys: name, kind, direction, severity, touch, enter, exit, for, keep_firing_for, "
     "repeat_interval, when"},
    {MIN "alerts:\n  rules:\n    - name: low\n      kind: score_below\n      enter: 40\n",
     "t.yaml:6:7: alerts.rules[0]: missing required key 'exit'"},
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_under}\n",
     "t.yaml:6:19: alerts.rules[0].kind: invalid value 'score_under'; valid values: "
     "score_below, score_drop, inactive, onboarding, ratio_below, renewal, score_above, "
     "ratio_above, children_at_risk"},
    {MIN "alerts:\n  rules:\n    - {name: g, kind: children_at_risk, enter: 40, exit: 50}\n",
     "t.yaml:6:7: alerts.rules[0]: missing required key 'children'"},
    {MIN "alerts:\n  rules:\n    - {name: g, kind: children_at_risk, enter: 40, exit: 50, "
         "children: 0}\n",
     "t.yaml:6:62: alerts.rules[0].children: 0 is out of range: must be at least 1 and at most "
     "1000"},
    {MIN "alerts:\n  rules:\n    - {name: g, kind: children_at_risk, enter: 40, exit: 30, "
         "children: 2}\n",
     "t.yaml:6:52: alerts.rules[0].exit: must be above enter (40) for children_at_risk"},
    {MIN "alerts:\n  rules:\n    - {name: g, kind: children_at_risk, enter: 40, exit: 50, "
         "children: 2, after: 3d}\n",
     "t.yaml:6:75: key 'after' does not apply to children_at_risk rules in alerts.rules[0]; valid "
     "keys: name, kind, direction, severity, touch, enter, exit, children, for, keep_firing_for, "
     "repeat_interval, when"},
    {MIN "alerts:\n  rules:\n    - {name: low}\n", "t.yaml:6:7: alerts.rules[0]: missing "
                                                   "required key 'kind'"},
    {MIN "alerts:\n  rules:\n    - {name: a, kind: inactive, after: 1d}\n"
         "    - {name: a, kind: inactive, after: 2d}\n",
     "t.yaml:7:8: alerts.rules[1]: duplicate rule name 'a' (also alerts.rules[0])"},
    {MIN "alerts:\n  rules:\n    - {name: 'bad name', kind: inactive, after: 1d}\n",
     "t.yaml:6:8: alerts.rules[0].name: invalid name 'bad name'"},
    {MIN "alerts:\n  rules:\n    - {name: d, kind: score_drop, points: 20, exit_points: 25, "
         "over: 14d}\n",
     "t.yaml:6:47: alerts.rules[0].exit_points: must be below points (20)"},
    {MIN "alerts:\n  rules:\n    - {name: d, kind: score_drop, points: 20, over: 60d}\n",
     "t.yaml:6:47: alerts.rules[0].over: 60d is longer than the score history kept (the "
     "longest window, 28d)"},
    {MIN "alerts:\n  rules:\n    - {name: d, kind: score_drop, points: 20, over: 36h}\n",
     "t.yaml:6:47: alerts.rules[0].over: must be a whole number of days"},
    {MIN "alerts:\n  rules:\n    - {name: c, kind: score_above, enter: 80, exit: 85}\n",
     "t.yaml:6:47: alerts.rules[0].exit: must be below enter (80) for score_above"},
    {MIN "alerts:\n  rules:\n    - {name: c, kind: score_below, enter: 40, exit: 50, "
         "direction: upside}\n",
     "t.yaml:6:57: alerts.rules[0].direction: invalid value 'upside'; valid values: risk, "
     "opportunity"},
    {MIN "alerts:\n  rules:\n    - {name: x, kind: ratio_above, metric: active_users, window: "
         "long, enter: 0.9}\n",
     "t.yaml:6:7: alerts.rules[0]: missing required key 'exit'"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: renewal, enter: 50, exit: 60}\n",
     "t.yaml:6:7: alerts.rules[0]: missing required key 'within'"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: renewal, within: 90d, enter: 60, exit: 50}\n",
     "t.yaml:6:56: alerts.rules[0].exit: must be above enter (60) for renewal"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: renewal, within: 0, enter: 50, exit: 60}\n",
     "t.yaml:6:32: alerts.rules[0].within: 0 is out of range: must be above 0"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: renewal, within: 90d, enter: 50, exit: 60, "
         "after: 3d}\n",
     "t.yaml:6:66: key 'after' does not apply to renewal rules in alerts.rules[0]; valid keys: "
     "name, kind, direction, severity, touch, enter, exit, within, for, keep_firing_for, "
     "repeat_interval, when"},
    {MIN "alerts:\n  rules:\n    - {name: s, kind: score_below, enter: 40, exit: 140}\n",
     "t.yaml:6:47: alerts.rules[0].exit: 140 is out of range: must be at least 0 and at most "
     "100"},
    {EVENTS MIN "alerts:\n  rules:\n    - {name: o, kind: onboarding, milestone: app_creatd, "
                "within: 30d}\n",
     "t.yaml:10:35: alerts.rules[0].milestone: unknown event type 'app_creatd'; event types: "
     "login, app_created, account_updated"},
    {EVENTS MIN "alerts:\n  rules:\n    - {name: o, kind: onboarding, milestone: group, "
                "within: 30d}\n",
     "t.yaml:10:35: alerts.rules[0].milestone: 'group' is a traits event"},
    {EVENTS MIN "alerts:\n  rules:\n    - {name: i, kind: inactive, after: 14d, types: [login, "
                "logout]}\n",
     "t.yaml:10:60: alerts.rules[0].types[1]: unknown event type 'logout'"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: ratio_below, metric: seats, window: long, "
         "enter: 0.3, exit: 0.4}\n",
     "t.yaml:6:36: alerts.rules[0].metric: unknown metric 'seats'; metrics: active_users"},
    {MIN "alerts:\n  rules:\n    - {name: r, kind: ratio_below, metric: active_users, window: "
         "long, enter: 0.3}\n",
     "t.yaml:6:7: alerts.rules[0]: missing required key 'exit'"},
    {MIN "alerts:\n  touch_by_severity: {urgent: high}\n",
     "t.yaml:5:23: unknown key 'urgent' in alerts.touch_by_severity; valid keys: info, warning, "
     "critical"},
    {MIN "alerts:\n  defaults: {touch: High}\n", "t.yaml:5:14: alerts.defaults.touch: invalid "
                                                 "touch 'High'"},
    /* segments */
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
         "segments:\n  L:\n    rules:\n      lo: {enter: 50}\n",
     "t.yaml:10:7: segments.L.rules.lo: unknown rule 'lo'; rules: low"},
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
         "segments:\n  L:\n    rules:\n      low: {enter: 55}\n",
     "t.yaml:10:13: segments.L.rules.low.enter: must be below exit (50) for score_below"},
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
         "segments:\n  L:\n    rules:\n      low: {kind: inactive}\n",
     "t.yaml:10:13: key 'kind' cannot be overridden per segment in segments.L.rules.low"},
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
         "segments:\n  L:\n    rules:\n      low: {points: 5}\n",
     "t.yaml:10:13: key 'points' does not apply to score_below rules in segments.L.rules.low"},
    {MIN "segments:\n  L:\n    colour: red\n", "t.yaml:6:5: unknown key 'colour' in segments.L; "
                                               "valid keys: touch, rules"},
    /* further conditions of a rule */
    {WHEN "[{score_below: 50, grade: [C]}]\n",
     "t.yaml:10:14: alerts.rules[0].when[0]: a condition has exactly one of metric, "
     "score_above, score_below, grade, stage"},
    {WHEN "[{}]\n", "t.yaml:10:14: alerts.rules[0].when[0]: a condition has exactly one of"},
    {WHEN "[{metric: active_users, above: 1}]\n",
     "t.yaml:10:14: alerts.rules[0].when[0]: a metric condition needs window and one of above, "
     "below"},
    {WHEN "[{metric: active_users, window: short, above: 1, below: 3}]\n",
     "t.yaml:10:14: alerts.rules[0].when[0]: a metric condition needs window and one of"},
    {WHEN "[{score_below: 50, window: short}]\n",
     "t.yaml:10:14: alerts.rules[0].when[0]: window, per_seat, above and below go with metric "
     "only"},
    {WHEN "[{grade: [Z]}]\n",
     "t.yaml:10:23: alerts.rules[0].when[0].grade[0]: unknown grade 'Z' (not under "
     "score.grades)"},
    {WHEN "[{stage: [x]}]\n",
     "t.yaml:10:23: alerts.rules[0].when[0].stage[0]: unknown stage 'x' (not under "
     "score.stages)"},
    {WHEN "[]\n",
     "t.yaml:10:7: alerts.rules[0].when: expected a sequence of 1 to 4 conditions, got an empty "
     "one"},
    {WHEN "[{metric: nope, window: short, above: 1}]\n",
     "t.yaml:10:15: alerts.rules[0].when[0].metric: unknown metric 'nope'"},
    {WHEN "[{score_above: 150}]\n",
     "t.yaml:10:15: alerts.rules[0].when[0].score_above: 150 is out of range"},
    {MIN "alerts:\n  rules:\n    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
         "segments:\n  L:\n    rules:\n      low: {when: [{score_below: 30}]}\n",
     "t.yaml:10:13: key 'when' cannot be overridden per segment in segments.L.rules.low"},
    /* stages and profiles */
    {STAGED "    - {name: adopted}\n    - {name: late, renewal_within: 30d}\n",
     "t.yaml:8:7: score.stages[2]: stage never reached: an earlier stage has no condition"},
    {STAGED "    - {name: onboarding, renewal_within: 9d}\n",
     "t.yaml:7:8: score.stages[1]: duplicate stage name 'onboarding'"},
    {STAGED "    - {name: adopted, created_within: 0}\n",
     "t.yaml:7:23: score.stages[1].created_within: 0 is out of range: must be above 0 and at "
     "most 3660d"},
    {STAGED "  profiles:\n    - {name: p, stages: [renewal]}\n",
     "t.yaml:8:26: score.profiles[0].stages[0]: unknown stage 'renewal' (not under "
     "score.stages)"},
    {STAGED "  profiles:\n    - {name: p, measures: {x: {target: 2}}}\n",
     "t.yaml:8:28: score.profiles[0].measures.x: unknown measure 'x' (not under "
     "score.components)"},
    {STAGED "  profiles:\n    - {name: p, components: {m: {weight: 1}}}\n",
     "t.yaml:8:30: score.profiles[0].components.m: unknown component 'm'"},
    {STAGED "  profiles:\n    - {name: p, components: {c: {weight: -1}}}\n",
     "t.yaml:8:34: score.profiles[0].components.c.weight: -1 is out of range: must be at least "
     "0"},
    {STAGED "  profiles:\n    - {name: p, measures: {m: {target: 0}}}\n",
     "t.yaml:8:32: score.profiles[0].measures.m.target: 0 is out of range: must be above 0"},
    {STAGED "  profiles:\n    - {name: default}\n",
     "t.yaml:8:8: score.profiles[0]: 'default' names the base scorecard"},
    {STAGED "  profiles:\n    - {name: p, components: {c: {weight: 0}, d: {weight: 0}}}\n",
     "t.yaml:8:7: score.profiles[0]: profile 'p' leaves nothing to score"},
    {STAGED "  profiles:\n    - {name: p, measures: {m: {weight: 0}, n: {weight: 0}}}\n",
     "t.yaml:8:7: score.profiles[0]: profile 'p' leaves nothing to score"},
    {STAGED "  profiles:\n    - {name: p}\n    - {name: p}\n",
     "t.yaml:9:8: score.profiles[1]: duplicate profile name 'p'"},
    {STAGED "  profiles:\n    - {name: p, segments: []}\n",
     "t.yaml:8:17: score.profiles[0].segments: must not be empty"},
    {STAGED "  profiles:\n    - {name: p, colour: red}\n",
     "t.yaml:8:17: unknown key 'colour' in score.profiles[0]; valid keys: name, segments, "
     "stages, components, measures"},
    /* hierarchies */
    {MIN "hierarchy:\n  rollup: median\n",
     "t.yaml:5:3: hierarchy.rollup: invalid value 'median'; valid values: mean, "
     "seat_weighted_mean, minimum"},
    {MIN "hierarchy:\n  max_depth: 17\n",
     "t.yaml:5:3: hierarchy.max_depth: 17 is out of range: must be at least 1 and at most 16"},
    {MIN "hierarchy:\n  max_depth: 0\n",
     "t.yaml:5:3: hierarchy.max_depth: 0 is out of range: must be at least 1 and at most 16"},
    {MIN "hierarchy:\n  depth: 3\n",
     "t.yaml:5:3: unknown key 'depth' in hierarchy; valid keys: rollup, max_depth"},
    /* the score feed */
    {MIN "scores:\n  topik: x\n",
     "t.yaml:5:3: unknown key 'topik' in scores; valid keys: topic, step"},
    {MIN "scores: 5\n", "t.yaml:4:1: scores: expected a mapping, got a scalar"},
    {MIN "scores:\n  topic: usage-events\n",
     "t.yaml:5:3: scores.topic: 'usage-events' is also an input topic"},
    {MIN "scores:\n  topic: churnwatch-alerts\n",
     "t.yaml:5:3: scores.topic: must differ from kafka.alerts_topic"},
    {MIN "kafka: {dlq_topic: dead}\nscores:\n  topic: dead\n",
     "t.yaml:6:3: scores.topic: must differ from kafka.dlq_topic"},
    {MIN "scores:\n  topic: bad topic\n",
     "t.yaml:5:3: scores.topic: invalid Kafka topic name 'bad topic'"},
    {MIN "scores:\n  topic: \"\"\n", "t.yaml:5:3: scores.topic: must not be empty"},
    {MIN "scores:\n  topic: x\n  step: 0\n",
     "t.yaml:6:3: scores.step: 0 is out of range: must be above 0 and at most 100"},
    {MIN "scores:\n  step: 100.5\n", "t.yaml:5:3: scores.step: 100.5 is out of range"},
    {MIN "scores:\n  step: \"5\"\n", "t.yaml:5:3: scores.step: expected a number, got '5'"},
    /* event values and aggregates */
    {MIN "event_types:\n  nps: {metric: nps, value: score}\n",
     "t.yaml:5:22: event_types.nps.value: JSON pointer 'score' must be empty or start with '/'"},
    {MIN "event_types:\n  nps: {metric: nps, value: []}\n",
     "t.yaml:5:22: event_types.nps.value: expected 1 to 4 JSON pointers, got 0"},
    {MIN "event_types:\n  nps: {metric: nps, value: [/a, /b, /c, /d, /e]}\n",
     "t.yaml:5:22: event_types.nps.value: expected 1 to 4 JSON pointers, got 5"},
    {MIN "event_types:\n  nps: {metric: nps, value: {a: 1}}\n",
     "t.yaml:5:22: event_types.nps.value: expected a JSON pointer or a sequence of them, "
     "got a mapping"},
    {MIN "event_types:\n  nps: {metric: nps, value: [/a, \"/b~2\"]}\n",
     "t.yaml:5:34: event_types.nps.value[1]: JSON pointer '/b~2': '~' must be followed by 0 "
     "or 1"},
    {MIN "event_types:\n  acct: {traits: true, value: /v}\n",
     "t.yaml:5:24: event_types.acct: a value is kept per metric: a traits event type has none"},
    {MIN "event_types:\n  nps: {metric: nps, value: /score}\n  survey: {metric: nps}\n",
     "t.yaml:6:3: event_types.survey: metric 'nps' has values (event type 'nps'): every event "
     "type feeding it needs a value"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, "
     "target: 1, aggregate: sum}]}\n",
     "t.yaml:3:78: score.components.c.measures[0].aggregate: aggregate sum needs a metric "
     "with values (an event type's value: feeds it); 'active_users' only counts events"},
    {"score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, "
     "target: 1, aggregate: median}]}\n",
     "t.yaml:3:78: score.components.c.measures[0].aggregate: invalid value 'median'; valid "
     "values: count, sum, avg, min, max, last, nps"},
};

Test(config, each_error_is_reported_at_its_position_with_its_key_path)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cw_config *cfg = load(cases[i].yaml);
        cr_expect_null(cfg, "case %zu must fail:\n%s", i, cases[i].yaml);
        cw_config_free(cfg);
        /* the wanted text must begin one of the lines */
        bool found = false;
        size_t wlen = strlen(cases[i].want);
        for (const char *line = errs; *line && !found;) {
            found = strncmp(line, cases[i].want, wlen) == 0;
            const char *nl = strchr(line, '\n');
            line = nl ? nl + 1 : line + strlen(line);
        }
        if (!found) {
            char shown[512];
            show_position(cases[i].yaml, errs, shown, sizeof shown);
            cr_expect(found, "case %zu:\nwant: %s\ngot:  %s\n%s", i, cases[i].want, errs, shown);
        }
        cr_expect_null(strstr(errs, "s3cret"), "case %zu leaked a secret: %s", i, errs);
    }
}

Test(config, all_errors_are_collected_in_file_order)
{
    static const char yaml[] = "timezone: Nowhere/City\n"  /* 1 */
                               "lateness: 1w\n"            /* 2 */
                               "kafka:\n"                  /* 3 */
                               "  brokerz: x\n"            /* 4 */
                               "score:\n"                  /* 5 */
                               "  components:\n"           /* 6 */
                               "    c:\n"                  /* 7 */
                               "      weight: -1\n"        /* 8 */
                               "      measures:\n"         /* 9 */
                               "        - name: m\n"       /* 10 */
                               "          metric: nope\n"  /* 11 */
                               "          window: short\n" /* 12 */
                               "          target: 1\n"     /* 13 */
                               "log: {level: loud}\n";     /* 14 */
    cr_assert_null(load(yaml));
    const char *want[] = {
        "t.yaml:1:1: timezone: unknown IANA time zone 'Nowhere/City'",
        "t.yaml:2:1: lateness: '1w' is not a duration",
        "t.yaml:4:3: unknown key 'brokerz' in kafka",
        "t.yaml:8:7: score.components.c.weight: -1 is out of range",
        "t.yaml:11:11: score.components.c.measures[0].metric: unknown metric 'nope'",
        "t.yaml:14:7: log.level: invalid value 'loud'",
    };
    cr_expect_eq(count_lines(errs), 6, "%s", errs);
    const char *at = errs;
    for (size_t i = 0; i < 6; i++) {
        const char *hit = strstr(at, want[i]);
        cr_expect_not_null(hit, "missing or out of order: %s\nin:\n%s", want[i], errs);
        if (hit)
            at = hit;
    }
}

Test(config, error_text_is_truncated_to_the_buffer)
{
    char small[40];
    memset(small, 'x', sizeof small);
    struct cw_config *cfg = cw_config_load_buffer("t.yaml", "lateness: 1w\nlog: {level: loud}\n",
                                                  32, NULL, small, sizeof small);
    cr_assert_null(cfg);
    cr_expect_eq(strlen(small), sizeof small - 1);
    cr_expect_eq(strncmp(small, "t.yaml:1:1: lateness: '1w'", 26), 0, "%s", small);
}

Test(config, missing_file_is_an_error_naming_it)
{
    cr_assert_null(cw_config_load("/nonexistent/churnwatch.yaml", NULL, errs, sizeof errs));
    cr_expect_str_eq(errs, "/nonexistent/churnwatch.yaml: cannot open: No such file or "
                           "directory");
}

Test(config, bad_config_files_under_test_data_fail_with_their_first_error)
{
    static const struct {
        const char *file;
        const char *want;
    } files[] = {
        {"unknown_key.yaml", "unknown_key.yaml:5:3: unknown key 'brokerz' in kafka"},
        {"bad_thresholds.yaml", "bad_thresholds.yaml:13:7: alerts.rules[0].exit: must be above "
                                "enter (40) for score_below"},
        {"bad_references.yaml", "bad_references.yaml:13:11: score.components.usage.measures[0]."
                                "window: unknown window 'month'"},
        {"tab_indent.yaml", "tab_indent.yaml:4:1: invalid YAML"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/config/%s", CW_TEST_DATA, files[i].file);
        struct cw_config *cfg = cw_config_load(path, NULL, errs, sizeof errs);
        cr_expect_null(cfg, "%s must fail", files[i].file);
        cw_config_free(cfg);
        const char *base = strstr(errs, files[i].file);
        cr_expect(base && strncmp(base, files[i].want, strlen(files[i].want)) == 0,
                  "%s:\nwant: %s\ngot:  %s", files[i].file, files[i].want, errs);
    }
}

/* ---- secrets in the file ---- */

/* Write yaml to a fresh file with the given mode; path receives its name. */
static void write_mode(char *path, size_t size, const char *yaml, mode_t mode)
{
    snprintf(path, size, "/tmp/cw-test-config-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
}

static const char SECRET_URL[] = MIN "redis:\n  url: redis://app:hunter2@127.0.0.1:6379/0\n";
static const char SECRET_PROP[] = MIN "kafka:\n  properties:\n    sasl.password: hunter2\n";

Test(config, file_with_a_secret_is_refused_when_group_or_world_readable)
{
    const char *yamls[] = {SECRET_URL, SECRET_PROP};
    const mode_t modes[] = {0644, 0640, 0604};
    for (size_t y = 0; y < 2; y++)
        for (size_t m = 0; m < 3; m++) {
            char path[64];
            write_mode(path, sizeof path, yamls[y], modes[m]);
            struct cw_config *cfg = cw_config_load(path, NULL, errs, sizeof errs);
            cr_expect_null(cfg, "%s mode %o must be refused", yamls[y], (unsigned)modes[m]);
            cw_config_free(cfg);
            char want[128];
            snprintf(want, sizeof want, "%s: holds a secret (", path);
            cr_expect_eq(strncmp(errs, want, strlen(want)), 0, "%s", errs);
            snprintf(want, sizeof want, "(mode %04o): run chmod 600", (unsigned)modes[m]);
            cr_expect(strstr(errs, want), "%s", errs);
            cr_expect_null(strstr(errs, "hunter2"), "the secret was printed: %s", errs);
            unlink(path);
        }
}

Test(config, file_with_a_secret_loads_when_private_and_without_one_when_readable)
{
    char path[64];
    write_mode(path, sizeof path, SECRET_URL, 0600);
    struct cw_config *cfg = cw_config_load(path, NULL, errs, sizeof errs);
    cr_expect_not_null(cfg, "%s", errs);
    cw_config_free(cfg);
    unlink(path);

    /* No password (user only), an empty secret property, a non-secret property. */
    write_mode(path, sizeof path,
               MIN "redis:\n  url: redis://app@127.0.0.1:6379/0\nkafka:\n  properties:\n"
                   "    sasl.password: \"\"\n    client.id: cw\n",
               0644);
    cfg = cw_config_load(path, NULL, errs, sizeof errs);
    cr_expect_not_null(cfg, "%s", errs);
    cw_config_free(cfg);
    unlink(path);
}

static const char *env_secret_url(const char *name)
{
    return strcmp(name, "CHURNWATCH_REDIS_URL") == 0 ? "redis://app:hunter2@127.0.0.1:6379/0"
                                                     : NULL;
}

Test(config, secret_from_the_environment_does_not_count_against_a_readable_file)
{
    char path[64];
    write_mode(path, sizeof path, MIN "redis:\n  url: redis://127.0.0.1:6379/0\n", 0644);
    struct cw_config *cfg = cw_config_load(path, env_secret_url, errs, sizeof errs);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->redis.url, "redis://app:hunter2@127.0.0.1:6379/0");
    cw_config_free(cfg);
    unlink(path);
}

Test(config, secret_detection)
{
    cr_expect(cw_url_has_password("redis://u:p@h:1/0"));
    cr_expect(cw_url_has_password("redis://:p@h:1/0"));
    cr_expect_not(cw_url_has_password("redis://u@h:1/0"));
    cr_expect_not(cw_url_has_password("redis://u:@h:1/0"));
    cr_expect_not(cw_url_has_password("redis://h:1/0"));
    cr_expect_not(cw_url_has_password("unix:///run/redis.sock"));
    cr_expect_not(cw_url_has_password("redis://h:1/a@b"));
    cr_expect(cw_url_has_password("redis-cluster://u:p@h:1,h:2"));
    cr_expect(cw_config_property_is_secret("sasl.password"));
    cr_expect(cw_config_property_is_secret("ssl.key.password"));
    cr_expect(cw_config_property_is_secret("sasl.oauthbearer.client.secret"));
    cr_expect_not(cw_config_property_is_secret("client.id"));
}

/* ---- secrets kept out of the file: *_file keys, the environment, systemd credentials ---- */

/* The environment seen by the loader: NAME, VALUE pairs, NULL-terminated. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; fake_env && fake_env[i]; i += 2)
        if (strcmp(fake_env[i], name) == 0)
            return fake_env[i + 1];
    return NULL;
}

/* A fresh directory for secret files (mode 0700), its path in dir. */
static void secret_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/cw-test-secrets-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Write content to dir/name with mode; path receives the file's path. */
static void secret_file(char *path, size_t size, const char *dir, const char *name,
                        const char *content, mode_t mode)
{
    snprintf(path, size, "%s/%s", dir, name);
    unlink(path); /* a read-only one is replaced, not rewritten */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(content, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

/* Load yaml from a 0644 file (as shipped: no secret in it) with the fake environment. */
static struct cw_config *load_readable(const char *yaml, const char *const *env)
{
    char path[64];
    write_mode(path, sizeof path, yaml, 0644);
    fake_env = env;
    struct cw_config *cfg = cw_config_load(path, fake_getenv, errs, sizeof errs);
    fake_env = NULL;
    unlink(path);
    return cfg;
}

/* The value of kafka property key in cfg, or NULL. */
static const char *property(const struct cw_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->kafka.n_properties; i++)
        if (strcmp(cfg->kafka.properties[i].key, key) == 0)
            return cfg->kafka.properties[i].value;
    return NULL;
}

Test(config, redis_password_from_the_environment)
{
    struct cw_config *cfg =
        load_readable(MIN, (const char *[]){"CHURNWATCH_REDIS_PASSWORD", "env-Pw-1", NULL});
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->redis.password, "env-Pw-1");
    cw_config_free(cfg);

    /* unset or empty: no password */
    cfg = load_readable(MIN, (const char *[]){"CHURNWATCH_REDIS_PASSWORD", "", NULL});
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_null(cfg->redis.password);
    cw_config_free(cfg);
}

Test(config, secrets_from_files_leave_a_readable_config_loadable)
{
    char dir[64], rpw[128], kpw[128], yaml[1024];
    secret_dir(dir, sizeof dir);
    secret_file(rpw, sizeof rpw, dir, "redis", "file-Pw-2\n", 0600);
    secret_file(kpw, sizeof kpw, dir, "kafka", "sasl-Pw-3\r\n", 0440);
    snprintf(yaml, sizeof yaml,
             MIN "redis:\n  password_file: %s\nkafka:\n  properties:\n"
                 "    security.protocol: SASL_PLAINTEXT\n    sasl.password_file: %s\n"
                 "    sasl.username: cw\n",
             rpw, kpw);
    struct cw_config *cfg = load_readable(yaml, NULL);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->redis.password, "file-Pw-2");
    cr_expect_str_eq(cfg->redis.password_file, rpw);
    /* the property takes the place of its _file key, file order kept */
    cr_assert_eq(cfg->kafka.n_properties, 3);
    cr_expect_str_eq(cfg->kafka.properties[1].key, "sasl.password");
    cr_expect_str_eq(cfg->kafka.properties[1].value, "sasl-Pw-3");
    cr_expect_null(property(cfg, "sasl.password_file"));
    cw_config_free(cfg);

    /* the environment overrides the file, as every override does */
    cfg = load_readable(yaml, (const char *[]){"CHURNWATCH_KAFKA_SASL_PASSWORD", "env-Pw-4",
                                               "CHURNWATCH_REDIS_PASSWORD", "env-Pw-5", NULL});
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(property(cfg, "sasl.password"), "env-Pw-4");
    cr_expect_str_eq(cfg->redis.password, "env-Pw-5");
    cw_config_free(cfg);

    /* an empty file is an unset secret (systemd's empty SetCredential= default) */
    secret_file(kpw, sizeof kpw, dir, "kafka", "\n", 0400);
    cfg = load_readable(yaml, NULL);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_null(property(cfg, "sasl.password"));
    cr_expect_eq(cfg->kafka.n_properties, 2);
    cw_config_free(cfg);
    unlink(rpw);
    unlink(kpw);
    rmdir(dir);
}

Test(config, every_kafka_secret_has_a_variable_and_a_file_variable)
{
    char name[128];
    cr_expect(cw_kafka_secret_env_name("sasl.password", name, sizeof name));
    cr_expect_str_eq(name, "CHURNWATCH_KAFKA_SASL_PASSWORD");
    cr_expect(cw_kafka_secret_env_name("sasl.oauthbearer.client.secret", name, sizeof name));
    cr_expect_str_eq(name, "CHURNWATCH_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET");
    cr_expect_not(cw_kafka_secret_env_name("client.id", name, sizeof name));
    cr_expect_str_eq(name, "");
    cr_expect_not(cw_kafka_secret_env_name("sasl.password", name, 10)); /* too small */

    char dir[64], pem[128];
    secret_dir(dir, sizeof dir);
    secret_file(pem, sizeof pem, dir, "key.pem", "-----BEGIN PRIVATE KEY-----\nk\n", 0400);
    for (size_t p = 0; cw_kafka_secret_properties[p]; p++) {
        const char *prop = cw_kafka_secret_properties[p];
        char var[160];
        cr_assert(cw_kafka_secret_env_name(prop, name, sizeof name), "%s", prop);
        cr_expect(cw_config_property_is_secret(prop), "%s", prop);
        struct cw_config *cfg = load_readable(MIN, (const char *[]){name, "v-Pw-6", NULL});
        cr_assert_not_null(cfg, "%s: %s", name, errs);
        cr_expect_str_eq(property(cfg, prop), "v-Pw-6", "%s", name);
        cw_config_free(cfg);
        snprintf(var, sizeof var, "%s_FILE", name);
        cfg = load_readable(MIN, (const char *[]){var, pem, NULL});
        cr_assert_not_null(cfg, "%s: %s", var, errs);
        cr_expect_str_eq(property(cfg, prop), "-----BEGIN PRIVATE KEY-----\nk", "%s", var);
        cw_config_free(cfg);
    }
    unlink(pem);
    rmdir(dir);
}

Test(config, relative_secret_paths_are_systemd_credentials)
{
    char dir[64], path[128];
    secret_dir(dir, sizeof dir);
    secret_file(path, sizeof path, dir, "churnwatch.redis-password", "cred-Pw-7", 0400);
    const char *yaml = MIN "redis:\n  password_file: churnwatch.redis-password\n";
    struct cw_config *cfg =
        load_readable(yaml, (const char *[]){"CREDENTIALS_DIRECTORY", dir, NULL});
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(cfg->redis.password, "cred-Pw-7");
    cw_config_free(cfg);

    /* the variables' _FILE forms too (the unit sets them to credential names) */
    cfg = load_readable(MIN, (const char *[]){"CREDENTIALS_DIRECTORY", dir,
                                              "CHURNWATCH_KAFKA_SASL_PASSWORD_FILE",
                                              "churnwatch.redis-password", NULL});
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_str_eq(property(cfg, "sasl.password"), "cred-Pw-7");
    cw_config_free(cfg);

    /* outside systemd, at the key's position */
    cfg = load_readable(yaml, NULL);
    cr_expect_null(cfg);
    cr_expect(strstr(errs, ":5:3: redis.password_file: 'churnwatch.redis-password' names a "
                           "systemd credential but $CREDENTIALS_DIRECTORY is not set"),
              "%s", errs);
    /* a relative path with a directory is not a credential name */
    cfg = load_readable(MIN "redis:\n  password_file: ../etc/pw\n",
                        (const char *[]){"CREDENTIALS_DIRECTORY", dir, NULL});
    cr_expect_null(cfg);
    cr_expect(strstr(errs, "'../etc/pw' is neither an absolute path nor a credential name"), "%s",
              errs);
    unlink(path);
    rmdir(dir);
}

Test(config, secret_files_are_checked_and_never_echoed)
{
    char dir[64], path[128], yaml[512];
    secret_dir(dir, sizeof dir);
    struct {
        mode_t mode;
        const char *want; /* NULL: accepted */
    } modes[] = {
        {0600, NULL},
        {0400, NULL},
        {0640, NULL}, /* group-readable: a Kubernetes Secret volume with fsGroup, a service group */
        {0644, "readable by everyone (mode 0644): run chmod 600 on it"},
        {0604, "readable by everyone (mode 0604)"},
        {0660, "writable by its group (mode 0660): run chmod 600 on it"},
        {0602, "writable by everyone (mode 0602)"},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        secret_file(path, sizeof path, dir, "pw", "hunter2", modes[i].mode);
        snprintf(yaml, sizeof yaml, MIN "kafka:\n  properties:\n    sasl.password_file: %s\n",
                 path);
        struct cw_config *cfg = load_readable(yaml, NULL);
        if (!modes[i].want) {
            cr_expect_not_null(cfg, "mode %o: %s", (unsigned)modes[i].mode, errs);
        } else {
            char want[512];
            cr_expect_null(cfg, "mode %o must be refused", (unsigned)modes[i].mode);
            snprintf(want, sizeof want, ":6:5: kafka.properties.sasl.password_file: %s: %s", path,
                     modes[i].want);
            cr_expect(strstr(errs, want), "want %s\ngot %s", want, errs);
        }
        cr_expect_null(strstr(errs, "hunter2"), "the secret was printed: %s", errs);
        cw_config_free(cfg);
        unlink(path);
    }

    /* missing, a directory, a FIFO: each at its key; the variable's name for _FILE */
    snprintf(path, sizeof path, "%s/missing", dir);
    snprintf(yaml, sizeof yaml, MIN "redis:\n  password_file: %s\n", path);
    cr_expect_null(load_readable(yaml, NULL));
    char want[512];
    snprintf(want, sizeof want, ":5:3: redis.password_file: %s: No such file or directory", path);
    cr_expect(strstr(errs, want), "%s", errs);
    snprintf(yaml, sizeof yaml, MIN "redis:\n  password_file: %s\n", dir);
    cr_expect_null(load_readable(yaml, NULL));
    cr_expect(strstr(errs, ": not a regular file"), "%s", errs);
    snprintf(path, sizeof path, "%s/fifo", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    snprintf(yaml, sizeof yaml, MIN "redis:\n  password_file: %s\n", path);
    cr_expect_null(load_readable(yaml, NULL));
    cr_expect(strstr(errs, ": not a regular file"), "%s", errs);
    unlink(path);
    snprintf(path, sizeof path, "%s/missing", dir);
    cr_expect_null(
        load_readable(MIN, (const char *[]){"CHURNWATCH_REDIS_PASSWORD_FILE", path, NULL}));
    snprintf(want, sizeof want,
             "CHURNWATCH_REDIS_PASSWORD_FILE: %s: No such file or directory (environment)", path);
    cr_expect(strstr(errs, want), "%s", errs);

    /* a NUL byte in the secret */
    snprintf(path, sizeof path, "%s/nul", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite("hunter2\0x", 1, 9, f);
    fclose(f);
    chmod(path, 0600);
    cr_expect_null(
        load_readable(MIN, (const char *[]){"CHURNWATCH_REDIS_PASSWORD_FILE", path, NULL}));
    cr_expect(strstr(errs, ": contains a NUL byte (environment)"), "%s", errs);
    cr_expect_null(strstr(errs, "hunter2"), "%s", errs);
    unlink(path);
    rmdir(dir);
}

Test(config, a_secret_given_twice_or_a_non_secret_file_key_is_an_error)
{
    char dir[64], path[128], yaml[512];
    secret_dir(dir, sizeof dir);
    secret_file(path, sizeof path, dir, "pw", "hunter2", 0600);

    snprintf(yaml, sizeof yaml,
             MIN "kafka:\n  properties:\n    sasl.password: x\n    sasl.password_file: %s\n", path);
    char cfgpath[64];
    write_mode(cfgpath, sizeof cfgpath, yaml, 0600); /* it holds a secret inline */
    struct cw_config *cfg = cw_config_load(cfgpath, NULL, errs, sizeof errs);
    cr_expect_null(cfg);
    cr_expect(strstr(errs, ":7:5: kafka.properties.sasl.password_file: sasl.password is also set: "
                           "keep one of sasl.password and sasl.password_file"),
              "%s", errs);
    unlink(cfgpath);

    snprintf(yaml, sizeof yaml, MIN "kafka:\n  properties:\n    client.id_file: %s\n", path);
    cr_expect_null(load_readable(yaml, NULL));
    cr_expect(strstr(errs, ":6:5: kafka.properties.client.id_file: 'client.id' is not a secret "
                           "property"),
              "%s", errs);

    cr_expect_null(
        load_readable(MIN, (const char *[]){"CHURNWATCH_REDIS_PASSWORD", "y",
                                            "CHURNWATCH_REDIS_PASSWORD_FILE", path, NULL}));
    cr_expect(strstr(errs, "CHURNWATCH_REDIS_PASSWORD and CHURNWATCH_REDIS_PASSWORD_FILE both give "
                           "the secret (environment): keep one"),
              "%s", errs);
    cr_expect_null(strstr(errs, "hunter2"), "%s", errs);
    unlink(path);
    rmdir(dir);
}

Test(config, a_readable_file_with_an_inline_secret_names_where_else_it_may_live)
{
    char path[64];
    write_mode(path, sizeof path, SECRET_PROP, 0644);
    cr_expect_null(cw_config_load(path, NULL, errs, sizeof errs));
    cr_expect(strstr(errs, "move the secret out of the file (kafka.properties.sasl.password_file, "
                           "CHURNWATCH_KAFKA_SASL_PASSWORD)"),
              "%s", errs);
    unlink(path);
}

/* ---- users: per-user engagement (docs/users.md) ---- */

#define UEVENTS                                                                                    \
    "event_types:\n"                                                                               \
    "  login: {metric: logins}\n"                                                                  \
    "  app_created: {metric: apps, aliases: [App Created]}\n"                                      \
    "  account_updated: {traits: true}\n"

Test(config, users_section_weights_ranks_and_power_rank)
{
    struct cw_config *cfg = load(
        UEVENTS "users:\n"
                "  window: 14d\n"
                "  weights: {login: 1, app_created: 5}\n"
                "  ranks: [{name: gold, min: 50}, {name: silver, min: 10}, {name: bronze, "
                "min: 1}]\n"
                "  power_rank: silver\n"
                "  max_tracked: 50\n"
                "score:\n"
                "  components:\n"
                "    c: {measures: [{name: p, metric: power_users, window: short, target: 3},\n"
                "                   {name: r, metric: ranked_users, window: short, target: 1, "
                "per_seat: true}]}\n");
    cr_assert_not_null(cfg, "%s", errs);
    const struct cw_users_config *u = &cfg->users;
    cr_expect(u->enabled);
    cr_expect_eq(u->window_days, 14);
    cr_expect_eq(u->weight[cw_config_event_type_index(cfg, "login")], 1);
    cr_expect_eq(u->weight[cw_config_event_type_index(cfg, "app_created")], 5);
    cr_expect_eq(u->weight[cw_config_event_type_index(cfg, "account_updated")], 0);
    cr_assert_eq(u->n_ranks, 3);
    cr_expect_str_eq(u->ranks[1].name, "silver");
    cr_expect_eq(u->ranks[1].min, 10);
    cr_expect_eq(u->power_rank, 1);
    cr_expect_eq(u->max_tracked, 50);
    cr_expect_eq(cfg->score.components[0].measures[0].metric, CW_METRIC_POWER_USERS);
    cr_expect_eq(cfg->score.components[0].measures[1].metric, CW_METRIC_RANKED_USERS);
    cw_config_free(cfg);

    /* the defaults: 30 days, SS/S/A/B/C, power users from A, 200 tracked */
    cfg = load(UEVENTS "users: {weights: {login: 2}}\n" MIN);
    cr_assert_not_null(cfg, "%s", errs);
    cr_expect_eq(cfg->users.window_days, 30);
    cr_assert_eq(cfg->users.n_ranks, 5);
    cr_expect_str_eq(cfg->users.ranks[0].name, "SS");
    cr_expect_eq(cfg->users.ranks[4].min, 1);
    cr_expect_str_eq(cfg->users.ranks[cfg->users.power_rank].name, "A");
    cr_expect_eq(cfg->users.max_tracked, 200);
    cw_config_free(cfg);
}

Test(config, user_rules_champion_quiet_and_power_users_below)
{
    struct cw_config *cfg =
        load(UEVENTS
             "users: {weights: {login: 1}}\n" MIN "alerts:\n  rules:\n"
             "    - {name: q, kind: champion_quiet, after: 14d, rank: S}\n"
             "    - {name: top, kind: champion_quiet, after: 7d}\n"
             "    - {name: p, kind: power_users_below, enter: 3, exit: 4, severity: critical}\n");
    cr_assert_not_null(cfg, "%s", errs);
    cr_assert_eq(cfg->n_rules, 3);
    cr_expect_eq(cfg->rules[0].kind, CW_RULE_CHAMPION_QUIET);
    cr_expect_eq(cfg->rules[0].rank, 1, "S");
    cr_expect_eq(cfg->rules[0].params.after_ms, 14 * DAY);
    cr_expect_eq(cfg->rules[1].rank, 0, "the top rank by default");
    cr_expect_eq(cfg->rules[2].kind, CW_RULE_POWER_USERS_BELOW);
    cr_expect_eq(cfg->rules[2].params.enter, 3);
    cr_expect_eq(cfg->rules[2].params.exit, 4);
    cr_expect_eq(cfg->rules[2].direction, CW_DIR_RISK);
    cw_config_free(cfg);
}

Test(config, users_section_errors_name_their_place)
{
    static const struct {
        const char *yaml, *err;
    } ucases[] = {
        {UEVENTS "users: {weights: {nope: 1}}\n" MIN,
         "t.yaml:5:19: users.weights.nope: 'nope' is not an event type of event_types (by its "
         "own name, not an alias)"},
        {UEVENTS "users: {weights: {App Created: 1}}\n" MIN, "'App Created' is not an event type"},
        {UEVENTS "users: {weights: {account_updated: 1}}\n" MIN,
         "'account_updated' is a traits event type"},
        {UEVENTS "users: {weights: {login: 0}}\n" MIN, "users.weights.login: 0 is out of range"},
        {UEVENTS "users: {window: 36h, weights: {login: 1}}\n" MIN,
         "users.window: 36h is not a whole number of days from 1d to 366d"},
        {UEVENTS
         "users: {weights: {login: 1}, ranks: [{name: a, min: 5}, {name: b, min: 5}]}\n" MIN,
         "users.ranks[1]: min 5 must be below the rank above's (5)"},
        {UEVENTS
         "users: {weights: {login: 1}, ranks: [{name: a, min: 5}, {name: a, min: 1}]}\n" MIN,
         "rank 'a' is named twice"},
        {UEVENTS "users: {weights: {login: 1}, ranks: [{name: x, min: 5}]}\n" MIN,
         "users.power_rank: 'A' is not one of users.ranks"},
        {UEVENTS "users: {weights: {login: 1}, power_rank: Z}\n" MIN,
         "'Z' is not one of users.ranks"},
        {UEVENTS "users: {weights: {login: 1}, max_tracked: 0}\n" MIN,
         "users.max_tracked: 0 is out of range"},
        {UEVENTS "users: {window: 7d}\n" MIN, "missing required key 'weights'"},
        {UEVENTS "users: {weights: {login: 1}, colour: red}\n" MIN,
         "unknown key 'colour' in users"},
        {UEVENTS "score:\n  components:\n    c: {measures: [{name: m, metric: power_users, window: "
                 "short, target: 1}]}\n",
         "'power_users' counts users by their engagement rank: it needs a users section"},
        {UEVENTS
         "users: {weights: {login: 1}}\n" MIN
         "alerts:\n  rules:\n    - {name: r, kind: ratio_below, metric: ranked_users, window: "
         "short, enter: 0.1, exit: 0.2}\n",
         "'ranked_users' is a score measure's metric only"},
        {UEVENTS MIN "alerts:\n  rules:\n    - {name: r, kind: champion_quiet, after: 7d}\n",
         "a champion_quiet rule needs a users section"},
        {UEVENTS "users: {weights: {login: 1}}\n" MIN
                 "alerts:\n  rules:\n    - {name: r, kind: champion_quiet, after: 7d, rank: Z}\n",
         "alerts.rules[0].rank: 'Z' is not one of users.ranks"},
        {UEVENTS "users: {weights: {login: 1}, window: 14d}\n" MIN
                 "alerts:\n  rules:\n    - {name: r, kind: champion_quiet, after: 14d}\n",
         "14d must be a whole number of days shorter than users.window (14d)"},
        {UEVENTS "users: {weights: {login: 1}}\n" MIN
                 "alerts:\n  rules:\n    - {name: r, kind: power_users_below, enter: 3, exit: 2}\n",
         "must be above enter (3) for power_users_below"},
    };
    for (size_t i = 0; i < sizeof ucases / sizeof *ucases; i++) {
        struct cw_config *cfg = load(ucases[i].yaml);
        cr_expect_null(cfg, "case %zu loaded", i);
        cr_expect(strstr(errs, ucases[i].err) != NULL, "case %zu: want '%s' in:\n%s", i,
                  ucases[i].err, errs);
        cw_config_free(cfg);
    }
}
