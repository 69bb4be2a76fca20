/* config_restart.c - which keys a reload cannot apply, and keeping their running values */
#include "churnwatch/config_restart.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool list_eq(const struct cw_strlist *a, const struct cw_strlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!str_eq(a->items[i], b->items[i]))
            return false;
    return true;
}

static bool props_eq(const struct cw_kafka_config *a, const struct cw_kafka_config *b)
{
    if (a->n_properties != b->n_properties)
        return false;
    for (size_t i = 0; i < a->n_properties; i++)
        if (!str_eq(a->properties[i].key, b->properties[i].key) ||
            !str_eq(a->properties[i].value, b->properties[i].value))
            return false;
    return true;
}

static bool tls_eq(const struct cw_redis_tls_config *a, const struct cw_redis_tls_config *b)
{
    return str_eq(a->ca_file, b->ca_file) && str_eq(a->ca_dir, b->ca_dir) &&
           str_eq(a->cert_file, b->cert_file) && str_eq(a->key_file, b->key_file) &&
           str_eq(a->server_name, b->server_name) && a->verify == b->verify &&
           a->configured == b->configured;
}

static void swap_str(char **a, char **b)
{
    char *t = *a;
    *a = *b;
    *b = t;
}

struct names {
    char *out;
    size_t size, len;
    size_t n;
};

static void note(struct names *nm, const char *key)
{
    nm->n++;
    if (!nm->out || nm->size == 0)
        return;
    int w = snprintf(nm->out + nm->len, nm->size - nm->len, "%s%s", nm->n > 1 ? "," : "", key);
    if (w > 0)
        nm->len = nm->len + (size_t)w < nm->size ? nm->len + (size_t)w : nm->size - 1;
}

size_t cw_config_keep_start_keys(struct cw_config *next, struct cw_config *running, char *names,
                                 size_t namesize)
{
    struct names nm = {names, namesize, 0, 0};
    if (names && namesize)
        names[0] = '\0';
    struct cw_kafka_config *nk = &next->kafka, *rk = &running->kafka;
    struct cw_redis_config *nr = &next->redis, *rr = &running->redis;

    if (!str_eq(nk->brokers, rk->brokers))
        note(&nm, "kafka.brokers");
    swap_str(&nk->brokers, &rk->brokers);
    if (!str_eq(nk->group_id, rk->group_id))
        note(&nm, "kafka.group_id");
    swap_str(&nk->group_id, &rk->group_id);
    if (!list_eq(&nk->topics, &rk->topics))
        note(&nm, "kafka.topics");
    struct cw_strlist topics = nk->topics;
    nk->topics = rk->topics;
    rk->topics = topics;
    if (!str_eq(nk->alerts_topic, rk->alerts_topic))
        note(&nm, "kafka.alerts_topic");
    swap_str(&nk->alerts_topic, &rk->alerts_topic);
    if (!str_eq(nk->dlq_topic, rk->dlq_topic))
        note(&nm, "kafka.dlq_topic");
    swap_str(&nk->dlq_topic, &rk->dlq_topic);
    if (!props_eq(nk, rk))
        note(&nm, "kafka.properties");
    struct cw_kv *props = nk->properties;
    size_t n_props = nk->n_properties;
    nk->properties = rk->properties;
    nk->n_properties = rk->n_properties;
    rk->properties = props;
    rk->n_properties = n_props;

    if (!str_eq(nr->url, rr->url))
        note(&nm, "redis.url");
    swap_str(&nr->url, &rr->url);
    /* The password compared as resolved (file, environment or URL), never named by value. */
    if (!str_eq(nr->password_file, rr->password_file) || !str_eq(nr->password, rr->password))
        note(&nm, "redis.password");
    swap_str(&nr->password_file, &rr->password_file);
    swap_str(&nr->password, &rr->password);
    if (!str_eq(nr->key_prefix, rr->key_prefix))
        note(&nm, "redis.key_prefix");
    swap_str(&nr->key_prefix, &rr->key_prefix);
    if (nr->lanes != rr->lanes) /* the lanes' connections, threads and producers: at start */
        note(&nm, "redis.lanes");
    nr->lanes = rr->lanes;
    if (!tls_eq(&nr->tls, &rr->tls))
        note(&nm, "redis.tls");
    struct cw_redis_tls_config tls = nr->tls;
    nr->tls = rr->tls;
    rr->tls = tls;

    if (!str_eq(next->http_listen, running->http_listen))
        note(&nm, "http.listen");
    swap_str(&next->http_listen, &running->http_listen);

    /* What is kept of each user (docs/users.md) is counted by the weights and pruned to the
     * window and the bound that were configured when it was stored, and an account held in
     * memory has its users' engagement loaded only when the section was there: at restart.
     * The ranks are read from it at each scoring: they reload. */
    struct cw_users_config *nu = &next->users, *ru = &running->users;
    if (nu->enabled != ru->enabled || nu->window_days != ru->window_days ||
        nu->max_tracked != ru->max_tracked || memcmp(nu->weight, ru->weight, sizeof nu->weight)) {
        note(&nm, "users");
        nu->enabled = ru->enabled;
        nu->window_days = ru->window_days;
        nu->max_tracked = ru->max_tracked;
        memcpy(nu->weight, ru->weight, sizeof nu->weight);
    }

    /* The feed's topic is one of the outputs the topics were checked against as a set, and
     * turning the feed on or off is a change of what the daemon publishes: at restart. */
    if (!str_eq(next->scores.topic, running->scores.topic))
        note(&nm, "scores.topic");
    swap_str(&next->scores.topic, &running->scores.topic);
    return nm.n;
}
