/* kafka_conf.h - building librdkafka configurations from cw_kafka_config (internal to core) */
#ifndef CHURNWATCH_KAFKA_CONF_H
#define CHURNWATCH_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "churnwatch/config.h"

/* One librdkafka property set by churnwatch itself. */
struct cw_kafka_prop {
    const char *name;
    const char *value;
};

/*
 * Build a configuration: defaults first (each overridable by kc->properties), then
 * kc->properties in file order, then forced (never overridable; the client depends on
 * them), then bootstrap.servers (brokers when non-NULL, else kc->brokers). kc may be NULL
 * (no user properties; brokers is then required). Installs a log callback that routes
 * librdkafka's logs to cw_log.
 * Returns NULL with err filled on failure. err names the property and the reason but
 * never contains a property value.
 */
rd_kafka_conf_t *cw_kafka_conf_new(const struct cw_kafka_config *kc, const char *brokers,
                                   const struct cw_kafka_prop *defaults, size_t n_defaults,
                                   const struct cw_kafka_prop *forced, size_t n_forced, char *err,
                                   size_t errsize);

/*
 * Remove from s (in place) every value of a property of kc that names a secret
 * (password, key, token, JAAS or OAuth config...), replacing it with "***". For error
 * strings produced by librdkafka after the configuration was accepted (rd_kafka_new).
 */
void cw_kafka_redact(char *s, size_t size, const struct cw_kafka_config *kc);

#endif /* CHURNWATCH_KAFKA_CONF_H */
