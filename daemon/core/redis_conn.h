/* redis_conn.h - Redis URLs, credentials and connections (plain or TLS) with timeouts and auth */
#ifndef CHURNWATCH_REDIS_CONN_H
#define CHURNWATCH_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define CW_REDIS_MAX_SEEDS 16

struct cw_tls_client;
struct cw_tls_session;

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
    /* rediss://, rediss-cluster://: connections use TLS with tls_client (set by the
       caller before connecting; not owned) */
    bool tls;
    const struct cw_tls_client *tls_client;
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
 * most CW_REDIS_MAX_SEEDS, no database) into t; rediss:// and rediss-cluster:// are the
 * same over TLS (t->tls set). Returns 0, or -1 with err filled; err never contains the
 * password.
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
 * One connection: hiredis' context (output buffer, reply reader; its socket I/O too for
 * plain TCP and unix sockets) and, over TLS, the session that carries its bytes instead.
 * Commands are appended to ctx (redisAppendCommandArgv, cw_rcmd_append) and replies read
 * with cw_redis_get_reply, never redisGetReply; errors are in ctx->err and ctx->errstr.
 */
struct cw_redis_conn {
    redisContext *ctx;
    struct cw_tls_session *tls; /* NULL: plain */
};

/*
 * Connect with a connect and command timeout of timeout_ms, the TLS handshake (t->tls),
 * AUTH (user and password, or the password alone) and SELECT db. Returns the connection,
 * or NULL with err filled (naming the target, never the password).
 */
struct cw_redis_conn *cw_redis_connect(const struct cw_redis_target *t, int timeout_ms, char *err,
                                       size_t errsize);

/* redisGetReply for either transport: REDIS_OK with *reply, or REDIS_ERR (conn->ctx->errstr). */
int cw_redis_get_reply(struct cw_redis_conn *conn, void **reply);

/*
 * Send what ctx's output buffer holds now, before any reply is read (either transport), so
 * the server works on the start of a long pipeline while the rest is built. REDIS_OK, or
 * REDIS_ERR (conn->ctx->errstr).
 */
int cw_redis_flush(struct cw_redis_conn *conn);

/* One command and its reply (redisCommandArgv for either transport); NULL on an I/O error. */
redisReply *cw_redis_command_argv(struct cw_redis_conn *conn, int argc, const char **argv,
                                  const size_t *lens);

/* Close and free conn. NULL: no-op. */
void cw_redis_close(struct cw_redis_conn *conn);

/* Overwrite the credentials in t. */
void cw_redis_target_wipe(struct cw_redis_target *t);

#endif /* CHURNWATCH_REDIS_CONN_H */
