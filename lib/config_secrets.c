/* config_secrets.c - which configuration values are secrets: used to refuse a config file
 * that holds one while group/world-readable, and by the daemon to redact them */
#include <stdio.h>
#include <string.h>

#include "churnwatch/config.h"

/* Substrings of librdkafka property names whose values are secrets. */
static const char *const secret_markers[] = {
    "password", "secret", "jaas", "sasl.oauthbearer.config", "ssl.key.pem", "token",
};

bool cw_config_property_is_secret(const char *name)
{
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

bool cw_config_secret_in(const struct cw_config *cfg, char *what, size_t whatsize)
{
    if (cw_url_has_password(cfg->redis.url)) {
        snprintf(what, whatsize, "redis.url has a password");
        return true;
    }
    for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
        const struct cw_kv *kv = &cfg->kafka.properties[i];
        if (kv->key && kv->value && kv->value[0] && cw_config_property_is_secret(kv->key)) {
            snprintf(what, whatsize, "kafka.properties has %s", kv->key);
            return true;
        }
    }
    return false;
}
