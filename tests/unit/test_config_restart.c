/* test_config_restart.c - the keys a reload cannot apply: named, counted, and kept at their
 * running values while the rest of the new configuration applies */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/config_restart.h"

#define MIN                                                                                        \
    "score:\n"                                                                                     \
    "  components:\n"                                                                              \
    "    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n"

static char errs[16384];

static struct cw_config *load(const char *yaml)
{
    struct cw_config *cfg =
        cw_config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, errs, sizeof errs);
    cr_assert_not_null(cfg, "%s", errs);
    return cfg;
}

Test(config_restart, identical_files_differ_in_nothing)
{
    struct cw_config *running = load(MIN), *next = load(MIN);
    char names[256] = "x";
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 0);
    cr_expect_str_eq(names, "");
    cr_expect_str_eq(next->redis.key_prefix, "cw:");
    cw_config_free(running);
    cw_config_free(next);
}

Test(config_restart, start_only_keys_are_named_and_keep_their_running_values)
{
    struct cw_config *running = load("kafka: {brokers: a:1, topics: [in], group_id: g1}\n"
                                     "redis: {url: 'redis://h1:6379/0', key_prefix: 'p1:', "
                                     "lanes: 2}\n"
                                     "http: {listen: '127.0.0.1:1'}\n"
                                     "log: {level: info}\n" MIN);
    struct cw_config *next = load("kafka: {brokers: b:2, topics: [in2, in3], group_id: g2,\n"
                                  "        alerts_topic: al2, dlq_topic: dl2,\n"
                                  "        properties: {linger.ms: '7'}}\n"
                                  "redis: {url: 'redis://h2:6379/0', key_prefix: 'p2:', lanes: 3}\n"
                                  "http: {listen: '127.0.0.1:2'}\n"
                                  "log: {level: debug}\n" MIN);
    char names[512];
    size_t n = cw_config_keep_start_keys(next, running, names, sizeof names);
    cr_expect_eq(n, 10, "%zu: %s", n, names);
    cr_expect_str_eq(names, "kafka.brokers,kafka.group_id,kafka.topics,kafka.alerts_topic,"
                            "kafka.dlq_topic,kafka.properties,redis.url,redis.key_prefix,"
                            "redis.lanes,http.listen");
    /* next carries the running values of those keys... */
    cr_expect_str_eq(next->kafka.brokers, "a:1");
    cr_expect_str_eq(next->kafka.group_id, "g1");
    cr_assert_eq(next->kafka.topics.n, 1);
    cr_expect_str_eq(next->kafka.topics.items[0], "in");
    cr_expect_str_eq(next->kafka.alerts_topic, "churnwatch-alerts");
    cr_expect_eq(next->kafka.n_properties, 0);
    cr_expect_str_eq(next->redis.url, "redis://h1:6379/0");
    cr_expect_str_eq(next->redis.key_prefix, "p1:");
    cr_expect_eq(next->redis.lanes, 2);
    cr_expect_str_eq(next->http_listen, "127.0.0.1:1");
    /* ...and the file's value of every other key. */
    cr_expect_eq(next->log_level, CW_LOG_DEBUG);
    /* running got the file's values (freed by the caller). */
    cr_expect_str_eq(running->redis.key_prefix, "p2:");
    cr_expect_eq(running->kafka.topics.n, 2);
    cr_expect_eq(running->kafka.n_properties, 1);
    cw_config_free(running);
    cw_config_free(next);
}

Test(config_restart, a_changed_password_is_named_without_its_value)
{
    struct cw_config *running = load("redis: {url: 'redis://:one@h:6379/0'}\n" MIN);
    struct cw_config *next = load("redis: {url: 'redis://:two@h:6379/0'}\n" MIN);
    char names[256];
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 1);
    cr_expect_str_eq(names, "redis.url");
    cr_expect_null(strstr(names, "two"));
    cw_config_free(running);
    cw_config_free(next);
}

Test(config_restart, names_are_truncated_but_all_counted)
{
    struct cw_config *running = load("kafka: {brokers: a:1, group_id: g1}\n" MIN);
    struct cw_config *next = load("kafka: {brokers: b:1, group_id: g2}\n" MIN);
    char names[10];
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 2);
    cr_expect_eq(strlen(names), sizeof names - 1);
    cr_expect_eq(strncmp(names, "kafka.bro", 9), 0);
    cw_config_free(running);
    cw_config_free(next);
}

/* The score feed's topic waits for a restart (turned on, off or moved); its step applies. */
Test(config_restart, the_score_feed_topic_waits_and_its_step_applies)
{
    struct cw_config *running = load(MIN "scores: {topic: s1, step: 5}\n");
    struct cw_config *next = load(MIN "scores: {topic: s2, step: 2}\n");
    char names[256];
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 1);
    cr_expect_str_eq(names, "scores.topic");
    cr_expect_str_eq(next->scores.topic, "s1");
    cr_expect_eq(next->scores.step, 2);
    cr_expect_str_eq(running->scores.topic, "s2");
    cw_config_free(running);
    cw_config_free(next);

    running = load(MIN);
    next = load(MIN "scores: {topic: s}\n");
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 1,
                 "turning the feed on waits");
    cr_expect_null(next->scores.topic);
    cw_config_free(running);
    cw_config_free(next);

    running = load(MIN "scores: {topic: s}\n");
    next = load(MIN);
    cr_expect_eq(cw_config_keep_start_keys(next, running, names, sizeof names), 1,
                 "turning it off too");
    cr_expect_str_eq(next->scores.topic, "s");
    cr_expect_null(running->scores.topic);
    cw_config_free(running);
    cw_config_free(next);
}
