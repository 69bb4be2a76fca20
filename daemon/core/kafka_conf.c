/* kafka_conf.c - librdkafka configurations from cw_kafka_config, secrets kept out of errors */
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

/* Route librdkafka's own log lines (syslog levels) to the one logging layer. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum cw_log_level lvl = level <= 3   ? CW_LOG_ERROR
                            : level == 4 ? CW_LOG_WARN
                            : level <= 6 ? CW_LOG_INFO
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
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;

fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
