/* redis_conn.h - Redis URLs, credentials and hiredis connections with timeouts and auth */
#ifndef CHURNWATCH_REDIS_CONN_H
#define CHURNWATCH_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define CW_REDIS_MAX_SEEDS 16

/* Where and as whom to connect; parsed from a URL. Never print password. */
struct cw_redis_target {
    bool unix_socket;
    char host[256]; /* TCP: host name or address (IPv6 without brackets) */
    int port;       /* TCP: default 6379 */
    char path[108]; /* unix: socket path */
    int db;         /* SELECT after connecting when > 0 */
    char user[128]; /* "" = AUTH with the password only (default user) */
    bool has_password;
    char password[512];
    /* redis-cluster://: the seed nodes (host and port above are the first one) */
    bool cluster;
    int n_seeds;
    struct cw_redis_seed {
        char host[256];
        int port;
    } seeds[CW_REDIS_MAX_SEEDS];
};

/*
 * Parse redis://[user:pass@]host[:port][/db] (user and password percent-decoded, host
 * may be [v6]), unix://[user:pass@]/path[?db=N] or
 * redis-cluster://[user:pass@]host:port[,host:port...] (seed nodes of a Redis Cluster, at
 * most CW_REDIS_MAX_SEEDS, no database) into t. rediss:// is refused (no TLS in hiredis 0.14).
 * Returns 0, or -1 with err filled; err never contains the password.
 */
int cw_redis_url_parse(const char *url, struct cw_redis_target *t, char *err, size_t errsize);

/*
 * Use password (the configuration's resolved secret: redis.password_file or the
 * environment) instead of the URL's, and register it for redaction. Returns 0, or -1 with
 * err (never the password) when it is empty or too long.
 */
int cw_redis_target_set_password(struct cw_redis_target *t, const char *password, char *err,
                                 size_t errsize);

/* "host:port" or "unix:/path", for messages (never credentials). */
void cw_redis_target_name(const struct cw_redis_target *t, char *out, size_t size);

/*
 * Connect with a connect and command timeout of timeout_ms, AUTH (user and password, or
 * the password alone) and SELECT db. Returns the context, or NULL with err filled
 * (naming the target, never the password).
 */
redisContext *cw_redis_connect(const struct cw_redis_target *t, int timeout_ms, char *err,
                               size_t errsize);

/* Overwrite the credentials in t. */
void cw_redis_target_wipe(struct cw_redis_target *t);

#endif /* CHURNWATCH_REDIS_CONN_H */
