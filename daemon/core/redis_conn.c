/* redis_conn.c - Redis URL parsing, credentials and authenticated connections (plain, TLS) */
#include "redis_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "redis_tls.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode in[0..len) into out (size bytes). -1 on a bad escape, NUL or overflow. */
static int pct_decode(const char *in, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval(in[i + 1]);
            int lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* Parse a decimal int in [min, max] from s[0..len). */
static int parse_int(const char *s, size_t len, long min, long max, int *out)
{
    if (len == 0 || len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parse "user:pass", ":pass" or "user" (userinfo[0..len)) into t. */
static int parse_userinfo(const char *s, size_t len, struct cw_redis_target *t, char *err,
                          size_t errsize)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon ? (size_t)(colon - s) : len;
    if (pct_decode(s, ulen, t->user, sizeof t->user) < 0) {
        snprintf(err, errsize, "redis url: bad or too long user name");
        return -1;
    }
    if (colon) {
        size_t plen = len - ulen - 1;
        if (pct_decode(colon + 1, plen, t->password, sizeof t->password) < 0) {
            snprintf(err, errsize, "redis url: bad percent-escape or too long password");
            return -1;
        }
        t->has_password = plen > 0;
        /* never logged, decoded or as written in the URL */
        char raw[sizeof t->password * 3];
        snprintf(raw, sizeof raw, "%.*s", (int)plen, colon + 1);
        cw_log_secret(raw);
        cw_log_secret(t->password);
        memset(raw, 0, sizeof raw);
    }
    return 0;
}

/* Parse the query "db=N" of s[0..len). */
static int parse_query(const char *s, size_t len, struct cw_redis_target *t, char *err,
                       size_t errsize)
{
    if (len > 3 && memcmp(s, "db=", 3) == 0 && parse_int(s + 3, len - 3, 0, 1000000, &t->db) == 0)
        return 0;
    snprintf(err, errsize, "redis url: bad query (the only parameter is db=N)");
    return -1;
}

static int parse_tcp(const char *p, struct cw_redis_target *t, char *err, size_t errsize)
{
    /* p: host[:port][/db][?db=N] */
    const char *end = p + strcspn(p, "/?");
    const char *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb || rb == p + 1 || (size_t)(rb - p - 1) >= sizeof t->host) {
            snprintf(err, errsize, "redis url: bad [IPv6] host");
            return -1;
        }
        memcpy(t->host, p + 1, (size_t)(rb - p - 1));
        t->host[rb - p - 1] = '\0';
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                snprintf(err, errsize, "redis url: bad [IPv6] host");
                return -1;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *hend = colon ? colon : end;
        if (hend == p || (size_t)(hend - p) >= sizeof t->host) {
            snprintf(err, errsize, "redis url: missing or too long host");
            return -1;
        }
        memcpy(t->host, p, (size_t)(hend - p));
        t->host[hend - p] = '\0';
        if (colon)
            port = colon + 1;
    }
    t->port = 6379;
    if (port && parse_int(port, (size_t)(end - port), 1, 65535, &t->port) < 0) {
        snprintf(err, errsize, "redis url: bad port for host %s", t->host);
        return -1;
    }
    const char *q = end;
    if (*q == '/') {
        size_t dlen = strcspn(q + 1, "?");
        if (dlen > 0 && parse_int(q + 1, dlen, 0, 1000000, &t->db) < 0) {
            snprintf(err, errsize, "redis url: bad database number for host %s", t->host);
            return -1;
        }
        q += 1 + dlen;
    }
    if (*q == '?')
        return parse_query(q + 1, strlen(q + 1), t, err, errsize);
    return 0;
}

static int parse_unix(const char *p, struct cw_redis_target *t, char *err, size_t errsize)
{
    size_t plen = strcspn(p, "?");
    if (plen == 0 || p[0] != '/') {
        snprintf(err, errsize, "redis url: unix:// needs an absolute socket path");
        return -1;
    }
    if (plen >= sizeof t->path) {
        snprintf(err, errsize, "redis url: unix socket path longer than %zu bytes",
                 sizeof t->path - 1);
        return -1;
    }
    memcpy(t->path, p, plen);
    t->path[plen] = '\0';
    t->unix_socket = true;
    if (p[plen] == '?')
        return parse_query(p + plen + 1, strlen(p + plen + 1), t, err, errsize);
    return 0;
}

/* p: host:port[,host:port...] of redis-cluster:// (no database: a cluster has only db 0). */
static int parse_seeds(const char *p, struct cw_redis_target *t, char *err, size_t errsize)
{
    for (;;) {
        size_t len = strcspn(p, ",");
        if (t->n_seeds == CW_REDIS_MAX_SEEDS) {
            snprintf(err, errsize, "redis url: more than %d seed nodes", CW_REDIS_MAX_SEEDS);
            return -1;
        }
        char one[300];
        if (len == 0 || len >= sizeof one) {
            snprintf(err, errsize, "redis url: empty or too long seed node in redis-cluster://");
            return -1;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (strpbrk(one, "/?")) {
            snprintf(err, errsize,
                     "redis url: redis-cluster:// takes host:port seed nodes only "
                     "(no database or query)");
            return -1;
        }
        struct cw_redis_target h;
        memset(&h, 0, sizeof h);
        if (parse_tcp(one, &h, err, errsize) < 0)
            return -1;
        struct cw_redis_seed *s = &t->seeds[t->n_seeds++];
        memcpy(s->host, h.host, sizeof s->host);
        s->port = h.port;
        if (!p[len])
            break;
        p += len + 1;
    }
    memcpy(t->host, t->seeds[0].host, sizeof t->host);
    t->port = t->seeds[0].port;
    return 0;
}

int cw_redis_url_parse(const char *url, struct cw_redis_target *t, char *err, size_t errsize)
{
    memset(t, 0, sizeof *t);
    if (!url || !*url) {
        snprintf(err, errsize, "redis url: empty");
        return -1;
    }
    const char *p;
    bool is_unix;
    if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
        is_unix = false;
    } else if (strncmp(url, "unix://", 7) == 0) {
        p = url + 7;
        is_unix = true;
    } else if (strncmp(url, "rediss://", 9) == 0) {
        p = url + 9;
        is_unix = false;
        t->tls = true;
    } else if (strncmp(url, "redis-cluster://", 16) == 0) {
        p = url + 16;
        is_unix = false;
        t->cluster = true;
    } else if (strncmp(url, "rediss-cluster://", 17) == 0) {
        p = url + 17;
        is_unix = false;
        t->cluster = true;
        t->tls = true;
    } else {
        snprintf(err, errsize,
                 "redis url: unknown scheme (expected redis://host:port/db, unix:///path, "
                 "redis-cluster://host:port, or rediss:// and rediss-cluster:// for TLS)");
        return -1;
    }
    /* Credentials end at the last '@' (host, path and query never contain one). */
    const char *at = strrchr(p, '@');
    if (at) {
        if (parse_userinfo(p, (size_t)(at - p), t, err, errsize) < 0)
            goto fail;
        p = at + 1;
    }
    if (t->cluster) {
        if (parse_seeds(p, t, err, errsize) < 0)
            goto fail;
        return 0;
    }
    if ((is_unix ? parse_unix(p, t, err, errsize) : parse_tcp(p, t, err, errsize)) < 0)
        goto fail;
    return 0;
fail:
    cw_redis_target_wipe(t);
    return -1;
}

int cw_redis_target_set_password(struct cw_redis_target *t, const char *password, char *err,
                                 size_t errsize)
{
    size_t n = strlen(password);
    if (n == 0 || n >= sizeof t->password) {
        snprintf(err, errsize, "redis password: empty or longer than %zu bytes",
                 sizeof t->password - 1);
        return -1;
    }
    memcpy(t->password, password, n + 1);
    t->has_password = true;
    cw_log_secret(t->password);
    return 0;
}

void cw_redis_target_name(const struct cw_redis_target *t, char *out, size_t size)
{
    if (t->unix_socket)
        snprintf(out, size, "unix:%s", t->path);
    else if (strchr(t->host, ':'))
        snprintf(out, size, "[%s]:%d", t->host, t->port);
    else
        snprintf(out, size, "%s:%d", t->host, t->port);
}

int cw_redis_get_reply(struct cw_redis_conn *conn, void **reply)
{
    if (conn->tls)
        return cw_tls_get_reply(conn->tls, conn->ctx, reply);
    return redisGetReply(conn->ctx, reply);
}

int cw_redis_flush(struct cw_redis_conn *conn)
{
    if (conn->tls)
        return cw_tls_flush(conn->tls, conn->ctx);
    int done = 0;
    while (!done)
        if (redisBufferWrite(conn->ctx, &done) != REDIS_OK)
            return REDIS_ERR;
    return REDIS_OK;
}

redisReply *cw_redis_command_argv(struct cw_redis_conn *conn, int argc, const char **argv,
                                  const size_t *lens)
{
    if (redisAppendCommandArgv(conn->ctx, argc, argv, lens) != REDIS_OK)
        return NULL;
    void *r = NULL;
    if (cw_redis_get_reply(conn, &r) != REDIS_OK) {
        if (r)
            freeReplyObject(r);
        return NULL;
    }
    return r;
}

void cw_redis_close(struct cw_redis_conn *conn)
{
    if (!conn)
        return;
    cw_tls_session_free(conn->tls); /* before the socket closes */
    if (conn->ctx)
        redisFree(conn->ctx);
    free(conn);
}

/* Run one command that must answer +OK. */
static int expect_ok(struct cw_redis_conn *c, int argc, const char **argv, const char *what,
                     const char *name, char *err, size_t errsize)
{
    redisReply *r = cw_redis_command_argv(c, argc, argv, NULL);
    if (!r) {
        snprintf(err, errsize, "redis %s: %s: %s", name, what, c->ctx->errstr);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errsize, "redis %s: %s: %s", name, what, r->str);
        rc = -1;
    } else if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0) {
        snprintf(err, errsize, "redis %s: %s: unexpected reply type %d", name, what, r->type);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* Over TLS: the handshake on c's socket. 0, or -1 with err. */
static int start_tls(struct cw_redis_conn *c, const struct cw_redis_target *t, int timeout_ms,
                     const char *name, char *err, size_t errsize)
{
    if (!t->tls_client) {
        snprintf(err, errsize, "redis %s: TLS is not set up (internal error)", name);
        return -1;
    }
    char why[400];
    c->tls = cw_tls_handshake(t->tls_client, c->ctx, t->host, timeout_ms, why, sizeof why);
    if (!c->tls) {
        snprintf(err, errsize, "redis %s: %s", name, why);
        return -1;
    }
    return 0;
}

struct cw_redis_conn *cw_redis_connect(const struct cw_redis_target *t, int timeout_ms, char *err,
                                       size_t errsize)
{
    char name[300];
    cw_redis_target_name(t, name, sizeof name);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    struct cw_redis_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsize, "redis %s: cannot allocate a connection", name);
        return NULL;
    }
    c->ctx = t->unix_socket ? redisConnectUnixWithTimeout(t->path, tv)
                            : redisConnectWithTimeout(t->host, t->port, tv);
    if (!c->ctx) {
        snprintf(err, errsize, "redis %s: cannot allocate a connection", name);
        goto fail;
    }
    if (c->ctx->err) {
        snprintf(err, errsize, "redis %s: connect: %s", name, c->ctx->errstr);
        goto fail;
    }
    if (redisSetTimeout(c->ctx, tv) != REDIS_OK) {
        snprintf(err, errsize, "redis %s: set timeout: %s", name, c->ctx->errstr);
        goto fail;
    }
    if (!t->unix_socket)
        redisEnableKeepAlive(c->ctx);
    if (t->tls && start_tls(c, t, timeout_ms, name, err, errsize) < 0)
        goto fail;
    if (t->has_password) {
        const char *argv[3] = {"AUTH", t->user, t->password};
        char what[160];
        if (t->user[0]) {
            snprintf(what, sizeof what, "AUTH as user %s", t->user);
            if (expect_ok(c, 3, argv, what, name, err, errsize) < 0)
                goto fail;
        } else {
            argv[1] = t->password;
            if (expect_ok(c, 2, argv, "AUTH", name, err, errsize) < 0)
                goto fail;
        }
    } else if (t->user[0]) {
        snprintf(err, errsize, "redis %s: user %s given without a password (URL or password_file)",
                 name, t->user);
        goto fail;
    }
    if (t->db > 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", t->db);
        const char *argv[2] = {"SELECT", db};
        if (expect_ok(c, 2, argv, "SELECT", name, err, errsize) < 0)
            goto fail;
    }
    return c;
fail:
    cw_redis_close(c);
    return NULL;
}

void cw_redis_target_wipe(struct cw_redis_target *t)
{
    volatile char *p = t->password;
    for (size_t i = 0; i < sizeof t->password; i++)
        p[i] = 0;
    t->has_password = false;
}
