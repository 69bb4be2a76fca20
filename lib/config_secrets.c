/* config_secrets.c - which configuration values are secrets and what their environment
 * variables are called: used to refuse a config file that holds one while group/world-
 * readable, to resolve secrets kept out of the file, and by the daemon to redact them */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/config.h"

/* Substrings of librdkafka property names whose values are secrets. */
static const char *const secret_markers[] = {
    "password", "secret", "jaas", "sasl.oauthbearer.config", "ssl.key.pem", "token",
};

bool cw_config_property_is_secret(const char *name)
{
    size_t len = strlen(name), slen = strlen(CW_SECRET_FILE_SUFFIX);
    if (len > slen && strcmp(name + len - slen, CW_SECRET_FILE_SUFFIX) == 0)
        return false; /* sasl.password_file: the path of a secret, not one */
    for (size_t i = 0; i < sizeof secret_markers / sizeof secret_markers[0]; i++)
        if (strstr(name, secret_markers[i]))
            return true;
    return false;
}

bool cw_url_has_password(const char *url)
{
    const char *auth = url ? strstr(url, "://") : NULL;
    if (!auth)
        return false;
    auth += 3;
    /* userinfo ends at the first '@' before any '/' (seed lists have no '@' otherwise) */
    size_t span = strcspn(auth, "@/");
    if (auth[span] != '@')
        return false;
    const char *colon = memchr(auth, ':', span);
    return colon != NULL && colon + 1 < auth + span;
}

/* The secret properties of librdkafka 2.0 (rd_kafka_conf_properties_show): each may come
 * from its CHURNWATCH_KAFKA_* variable. */
const char *const cw_kafka_secret_properties[] = {
    "sasl.password",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.password",
    NULL,
};

bool cw_kafka_secret_env_name(const char *property, char *out, size_t size)
{
    static const char prefix[] = "CHURNWATCH_KAFKA_";
    if (size)
        out[0] = '\0';
    size_t i = 0;
    while (cw_kafka_secret_properties[i] && strcmp(cw_kafka_secret_properties[i], property) != 0)
        i++;
    if (!cw_kafka_secret_properties[i] || size < sizeof prefix + strlen(property))
        return false;
    size_t n = sizeof prefix - 1;
    memcpy(out, prefix, n);
    for (const char *p = property; *p; p++)
        out[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
    return true;
}

bool cw_config_secret_in(const struct cw_config *cfg, char *what, size_t whatsize, char *fix,
                         size_t fixsize)
{
    if (cw_url_has_password(cfg->redis.url)) {
        snprintf(what, whatsize, "redis.url has a password");
        snprintf(fix, fixsize, "redis.password_file, CHURNWATCH_REDIS_PASSWORD");
        return true;
    }
    for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
        const struct cw_kv *kv = &cfg->kafka.properties[i];
        if (kv->key && kv->value && kv->value[0] && cw_config_property_is_secret(kv->key)) {
            char env[128];
            snprintf(what, whatsize, "kafka.properties has %s", kv->key);
            if (cw_kafka_secret_env_name(kv->key, env, sizeof env))
                snprintf(fix, fixsize, "kafka.properties.%s" CW_SECRET_FILE_SUFFIX ", %s", kv->key,
                         env);
            else
                snprintf(fix, fixsize, "kafka.properties.%s" CW_SECRET_FILE_SUFFIX, kv->key);
            return true;
        }
    }
    return false;
}
