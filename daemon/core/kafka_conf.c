/* kafka_conf.c - librdkafka configurations from cw_kafka_config (secrets kept out of errors)
 * and the one place a librdkafka handle is created, with its log and error callbacks */
#include "kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

void cw_kafka_redact(char *s, size_t size, const struct cw_kafka_config *kc)
{
    if (!s || size == 0 || !kc)
        return;
    for (size_t i = 0; i < kc->n_properties; i++) {
        const struct cw_kv *kv = &kc->properties[i];
        if (kv->key && kv->value && cw_config_property_is_secret(kv->key))
            cw_redact(s, size, kv->value);
    }
}

static const char *program = "churnwatchd";

void cw_kafka_set_program(const char *name)
{
    program = name;
}

/* Route librdkafka's own log lines (syslog levels) to the one logging layer. A broker
 * failure (facility FAIL) is also reported to the error callback, which logs it: its own
 * line is kept for debugging only, so each error is logged once. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum cw_log_level lvl = strcmp(fac, "FAIL") == 0 ? CW_LOG_DEBUG
                            : level <= 3             ? CW_LOG_ERROR
                            : level == 4             ? CW_LOG_WARN
                            : level <= 6             ? CW_LOG_INFO
                                                     : CW_LOG_DEBUG;
    if (!cw_log_enabled(lvl))
        return;
    char line[1024];
    size_t n = 0;
    for (const char *p = buf; *p && n + 1 < sizeof line; p++)
        line[n++] = *p == '"' ? '\'' : *p;
    line[n] = '\0';
    cw_log(lvl, "librdkafka", "client=%s facility=%s detail=\"%s\"", rd_kafka_name(rk), fac, line);
}

/* Set one property; on failure fill err without the value (nor any secret of kc). */
static int set_prop(rd_kafka_conf_t *conf, const struct cw_kafka_config *kc, const char *name,
                    const char *value, char *err, size_t errsize)
{
    char rderr[512];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name, value, rderr, sizeof rderr);
    if (res == RD_KAFKA_CONF_OK)
        return 0;
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        snprintf(err, errsize, "kafka property \"%s\": unknown property", name);
        return -1;
    }
    cw_redact(rderr, sizeof rderr, value);
    cw_kafka_redact(rderr, sizeof rderr, kc);
    snprintf(err, errsize, "kafka property \"%s\": invalid value: %s", name, rderr);
    return -1;
}

/* True when name is among the n props. */
static int prop_listed(const struct cw_kafka_prop *props, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(props[i].name, name) == 0)
            return 1;
    return 0;
}

rd_kafka_conf_t *cw_kafka_conf_new(const struct cw_kafka_config *kc, const char *brokers,
                                   const struct cw_kafka_prop *defaults, size_t n_defaults,
                                   const struct cw_kafka_prop *forced, size_t n_forced, char *err,
                                   size_t errsize)
{
    if (!brokers)
        brokers = kc ? kc->brokers : NULL;
    if (!brokers || !*brokers) {
        snprintf(err, errsize, "kafka: no brokers configured");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_prop(conf, kc, "client.id", program, err, errsize) != 0)
        goto fail;
    for (size_t i = 0; i < n_defaults; i++)
        if (set_prop(conf, kc, defaults[i].name, defaults[i].value, err, errsize) != 0)
            goto fail;
    for (size_t i = 0; kc && i < kc->n_properties; i++) {
        const struct cw_kv *kv = &kc->properties[i];
        if (!kv->key || !*kv->key) {
            snprintf(err, errsize, "kafka property #%zu: empty name", i + 1);
            goto fail;
        }
        if (prop_listed(forced, n_forced, kv->key) || strcmp(kv->key, "bootstrap.servers") == 0 ||
            strcmp(kv->key, "metadata.broker.list") == 0) {
            snprintf(err, errsize, "kafka property \"%s\": set by churnwatch, cannot be overridden",
                     kv->key);
            goto fail;
        }
        if (kv->value && cw_config_property_is_secret(kv->key))
            cw_log_secret(kv->value); /* librdkafka may quote it in its own logs */
        if (set_prop(conf, kc, kv->key, kv->value ? kv->value : "", err, errsize) != 0)
            goto fail;
    }
    for (size_t i = 0; i < n_forced; i++)
        if (set_prop(conf, kc, forced[i].name, forced[i].value, err, errsize) != 0)
            goto fail;
    if (set_prop(conf, kc, "bootstrap.servers", brokers, err, errsize) != 0)
        goto fail;
    return conf;

fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Client-level errors, logged here only; the client then counts them, remembers a fatal one. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct cw_kafka_client *client = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[400];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        cw_log_error("kafka fatal error", "client=%s err=%s reason=\"%s\"", rd_kafka_name(rk),
                     rd_kafka_err2name(orig), fatal);
        if (client->on_error)
            client->on_error(client, rk, RD_KAFKA_RESP_ERR__FATAL, fatal);
        return;
    }
    cw_log_warn("kafka error", "client=%s err=%s reason=\"%s\"", rd_kafka_name(rk),
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (client->on_error)
        client->on_error(client, rk, (rd_kafka_resp_err_t)err, reason);
}

rd_kafka_t *cw_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         const struct cw_kafka_config *kc, struct cw_kafka_client *client,
                         char *err, size_t errsize)
{
    char rderr[512];
    rd_kafka_conf_set_opaque(conf, client);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, rderr, sizeof rderr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cw_kafka_redact(rderr, sizeof rderr, kc);
        snprintf(err, errsize, "kafka %s: %s", client->role, rderr);
        return NULL;
    }
    return rk; /* conf is owned by rk now */
}
