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

/* What every client (consumer, producer) shares with cw_kafka_new: the first member of the
 * client's struct, whose address is the handle's opaque (so the client's own callbacks,
 * rebalance or delivery reports, get the client). */
struct cw_kafka_client {
    const char *role; /* "consumer", "producer": in creation errors */
    /* Called after an error was logged (the client counts it, remembers a fatal one with
     * its text); NULL when the client only logs. */
    void (*on_error)(struct cw_kafka_client *self, rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     const char *reason);
};

/* The client.id default and the program named in librdkafka's log lines: "churnwatchd"
 * unless a program sets another (the CLI: "churnwatch") before creating clients. */
void cw_kafka_set_program(const char *name);

/*
 * Build a configuration: defaults first (each overridable by kc->properties), then
 * kc->properties in file order, then forced (never overridable; the client depends on
 * them), then bootstrap.servers (brokers when non-NULL, else kc->brokers). kc may be NULL
 * (no user properties; brokers is then required). client.id defaults to the program's name
 * (cw_kafka_set_program) unless defaults or kc->properties set it.
 * Returns NULL with err filled on failure. err names the property and the reason but
 * never contains a property value.
 */
rd_kafka_conf_t *cw_kafka_conf_new(const struct cw_kafka_config *kc, const char *brokers,
                                   const struct cw_kafka_prop *defaults, size_t n_defaults,
                                   const struct cw_kafka_prop *forced, size_t n_forced, char *err,
                                   size_t errsize);

/*
 * Create the handle of client (its first member, see struct cw_kafka_client) from conf,
 * which it consumes in every case. Sets, once for both kinds of client: the opaque (client),
 * the log callback (librdkafka's lines in the one logging layer) and the error callback.
 * Each Kafka error is logged once, at one level: by the error callback (warn; error when
 * fatal), librdkafka's own line about the same broker failure only at debug. NULL with err
 * ("kafka ROLE: ...", secrets of kc redacted) on failure.
 */
rd_kafka_t *cw_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         const struct cw_kafka_config *kc, struct cw_kafka_client *client,
                         char *err, size_t errsize);

/*
 * Remove from s (in place) every value of a property of kc that names a secret
 * (password, key, token, JAAS or OAuth config...), replacing it with "***". For error
 * strings produced by librdkafka after the configuration was accepted (rd_kafka_new).
 */
void cw_kafka_redact(char *s, size_t size, const struct cw_kafka_config *kc);

#endif /* CHURNWATCH_KAFKA_CONF_H */
