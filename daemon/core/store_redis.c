/* store_redis.c - the Redis store's transport: connection, routing, functions, ops, keys */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account_mem.h"
#include "churnwatch/account_cache.h"
#include "log.h"
#include "redis_cluster.h"
#include "redis_cmd.h"
#include "redis_conn.h"
#include "redis_tls.h"
#include "store_internal.h"

#define STORE_TIMEOUT_MS     2000       /* connect and command timeout */
#define STORE_PIPELINE_MAX   1024       /* commands per round trip */
#define STORE_PIPELINE_BYTES (8u << 20) /* argument bytes per round trip */
/* Output sent to a node as soon as this much is buffered, while the rest of the round trip
 * is built: the server works on the first commands while the daemon builds the next. */
#define STORE_FLUSH_BYTES (64u << 10)

/* ---- keys and small helpers ------------------------------------------------------ */

/* Append s to out[0..*len) of size bytes, cut to fit, NUL-terminated. */
static void key_cat(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (n > size - 1 - *len)
        n = size - 1 - *len;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

/* "<prefix>{account}:suffix", cut to size as snprintf would cut it (built without printf:
 * every command of the hot path names an account's key). */
static void account_key(const cw_store *st, const char *account, const char *suffix, char *out,
                        size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    key_cat(out, size, &len, st->prefix);
    key_cat(out, size, &len, "{");
    key_cat(out, size, &len, account);
    key_cat(out, size, &len, "}:");
    key_cat(out, size, &len, suffix);
}

/* In a cluster every global key has the hash tag {cw}: one slot, so one node holds the
 * indexes whole (docs/state.md). A single node keeps the historical names. */
static void global_key(const cw_store *st, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", st->prefix, st->rc.cluster ? "{cw}" : "", name);
}

int cw_store_add_account_key(cw_store *st, struct cw_rcmd *c, const char *account,
                             const char *suffix)
{
    char k[CW_STORE_KEY_MAX];
    account_key(st, account, suffix, k, sizeof k);
    return cw_rcmd_adds(c, k);
}

int cw_store_add_global_key(cw_store *st, struct cw_rcmd *c, const char *name)
{
    char k[CW_STORE_KEY_MAX];
    global_key(st, name, k, sizeof k);
    return cw_rcmd_adds(c, k);
}

/* "CMD key" or "FCALL fn key" of a built command, for messages. */
static void describe(const struct cw_rcmd *c, char *out, size_t size)
{
    if (c->n >= 4 && strcasecmp(cw_rcmd_arg(c, 0), "FCALL") == 0)
        snprintf(out, size, "FCALL %s %s", cw_rcmd_arg(c, 1), cw_rcmd_arg(c, 3));
    else if (c->n >= 2)
        snprintf(out, size, "%s %s", cw_rcmd_arg(c, 0), cw_rcmd_arg(c, 1));
    else
        snprintf(out, size, "%s", c->n ? cw_rcmd_arg(c, 0) : "command");
}

static bool is_not_found(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && r->str && strstr(r->str, "Function not found");
}

/* ---- connection and functions ---------------------------------------------------- */

/* A round trip (or connection) ended: report it to the observer. */
static void observe(cw_store *st, uint64_t start_us, bool ok)
{
    if (st->latency && start_us)
        cw_hist_observe(st->latency, cw_mono_us() - start_us);
    if (st->reachable)
        cw_gauge_set(st->reachable, ok);
}

static void drop(cw_store *st)
{
    cw_rcluster_drop_all(&st->rc);
    observe(st, 0, false);
}

/* Whether any node is connected (for the reachability gauge). */
static bool connected(const cw_store *st)
{
    for (size_t i = 0; i < st->rc.n_nodes; i++)
        if (st->rc.nodes[i].conn)
            return true;
    return false;
}

void cw_store_observe(cw_store *st, struct cw_hist *latency, _Atomic int *reachable)
{
    st->latency = latency;
    st->reachable = reachable;
    if (reachable)
        cw_gauge_set(reachable, connected(st));
}

static void slots_clear(cw_store *st)
{
    for (size_t i = 0; i < st->n_slots; i++)
        free(st->slots[i].name);
    st->n_slots = 0;
    st->slot_epoch++;
}

#define STORE_REDIRECTS   16 /* MOVED / ASK / TRYAGAIN followed per command */
#define STORE_TRYAGAIN_MS 50 /* wait before retrying a TRYAGAIN (a slot migrating) */

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int node_ctx(cw_store *st, size_t node, struct cw_redis_conn **conn, char *err,
                    size_t errsize);

/*
 * Send c to node (asking: after a one-shot ASKING) and read its reply (never NULL on
 * success). I/O errors drop the node's connection.
 */
static redisReply *node_roundtrip(cw_store *st, size_t node, bool asking, struct cw_rcmd *c,
                                  char *err, size_t errsize)
{
    char what[CW_STORE_KEY_MAX + 64];
    describe(c, what, sizeof what);
    struct cw_redis_conn *conn;
    if (node_ctx(st, node, &conn, err, errsize) < 0)
        return NULL;
    redisContext *ctx = conn->ctx;
    const char *name = st->rc.nodes[node].name;
    if ((asking && redisAppendCommand(ctx, "ASKING") != REDIS_OK) || cw_rcmd_append(ctx, c) < 0) {
        snprintf(err, errsize, "redis %s: %s: out of memory", name, what);
        cw_rcluster_drop(&st->rc, node);
        return NULL;
    }
    void *r = NULL;
    uint64_t start = cw_mono_us();
    for (int k = asking ? 0 : 1; k < 2; k++) {
        if (r)
            freeReplyObject(r); /* ASKING's +OK (an error shows in the command's reply) */
        r = NULL;
        if (cw_redis_get_reply(conn, &r) != REDIS_OK || !r) {
            snprintf(err, errsize, "redis %s: %s: %s", name, what,
                     ctx->errstr[0] ? ctx->errstr : "no reply");
            if (r)
                freeReplyObject(r);
            cw_rcluster_drop(&st->rc, node);
            observe(st, 0, false);
            return NULL;
        }
    }
    observe(st, start, true);
    return r;
}

/*
 * Send c where it belongs and read its reply, following MOVED, ASK and TRYAGAIN (a
 * command redirected was not executed, so sending it again is safe). Starts at node
 * `first` when >= 0, else at the node the map routes c to.
 */
static redisReply *routed_roundtrip(cw_store *st, int first, struct cw_rcmd *c, char *err,
                                    size_t errsize)
{
    int slot, node = first;
    if (node < 0 && (node = cw_rcluster_route(&st->rc, c, &slot, err, errsize)) < 0)
        return NULL;
    bool asking = false;
    for (int attempt = 0;; attempt++) {
        redisReply *r = node_roundtrip(st, (size_t)node, asking, c, err, errsize);
        if (!r)
            return NULL;
        asking = false;
        int k = cw_rcluster_redirect(&st->rc, r, &node);
        if (k == 0 || attempt == STORE_REDIRECTS)
            return r; /* the caller reports an error reply, even a last redirection */
        freeReplyObject(r);
        if (k < 0) {
            snprintf(err, errsize, "redis cluster: out of memory");
            return NULL;
        }
        if (k == 'A') {
            asking = true;
        } else if (k == 'T') {
            pause_ms(STORE_TRYAGAIN_MS);
            if (st->rc.stale && cw_rcluster_refresh(&st->rc, err, errsize) == 0 &&
                (node = cw_rcluster_route(&st->rc, c, &slot, err, errsize)) < 0)
                return NULL;
        }
    }
}

static redisReply *roundtrip(cw_store *st, struct cw_rcmd *c, char *err, size_t errsize)
{
    return routed_roundtrip(st, -1, c, err, errsize);
}

/* Load the library on node (functions live per node: every master needs its copy). */
static int functions_load_node(cw_store *st, size_t node, char *err, size_t errsize)
{
    struct cw_rcmd *c = &st->fcmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FUNCTION");
    cw_rcmd_adds(c, "LOAD");
    cw_rcmd_adds(c, "REPLACE");
    cw_rcmd_adds(c, cw_store_functions_lua);
    redisReply *r = node_roundtrip(st, node, false, c, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    const char *name = st->rc.nodes[node].name;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errsize, "redis %s: FUNCTION LOAD churnwatch: %s", name, r->str);
        rc = -1;
    } else if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
        snprintf(err, errsize, "redis %s: FUNCTION LOAD churnwatch: unexpected reply type %d", name,
                 r->type);
        rc = -1;
    }
    freeReplyObject(r);
    slots_clear(st);
    return rc;
}

/* Load the library on every master. */
static int functions_load(cw_store *st, char *err, size_t errsize)
{
    for (size_t i = 0; i < st->rc.n_nodes; i++)
        if (st->rc.nodes[i].master && functions_load_node(st, i, err, errsize) < 0)
            return -1;
    return 0;
}

/* Load the library on node when absent or older than ours (a newer one is kept). */
static int functions_check(cw_store *st, size_t node, char *err, size_t errsize)
{
    struct cw_rcmd *c = &st->fcmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_version");
    cw_rcmd_adds(c, "0");
    redisReply *r = node_roundtrip(st, node, false, c, err, errsize);
    if (!r)
        return -1;
    bool load;
    if (is_not_found(r)) {
        load = true;
    } else if (r->type == REDIS_REPLY_INTEGER) {
        load = r->integer < cw_store_functions_version;
    } else {
        snprintf(err, errsize, "redis %s: FCALL cw_version: %s", st->rc.nodes[node].name,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return load ? functions_load_node(st, node, err, errsize) : 0;
}

/* Node's connection, connecting (and checking its functions) when it has none. */
static int node_ctx(cw_store *st, size_t node, struct cw_redis_conn **conn, char *err,
                    size_t errsize)
{
    bool fresh;
    *conn = cw_rcluster_connect(&st->rc, node, &fresh, err, errsize);
    if (!*conn) {
        observe(st, 0, false);
        return -1;
    }
    if (fresh) {
        slots_clear(st);
        if (functions_check(st, node, err, errsize) < 0) {
            cw_rcluster_drop(&st->rc, node);
            return -1;
        }
    }
    return 0;
}

int cw_store_ensure(cw_store *st, char *err, size_t errsize)
{
    if (st->rc.stale && cw_rcluster_refresh(&st->rc, err, errsize) < 0)
        return -1;
    for (size_t i = 0; i < st->rc.n_nodes; i++) {
        struct cw_redis_conn *conn;
        if (st->rc.nodes[i].master && node_ctx(st, i, &conn, err, errsize) < 0)
            return -1;
    }
    return 0;
}

redisReply *cw_store_command(cw_store *st, char *err, size_t errsize)
{
    char what[CW_STORE_KEY_MAX + 64];
    describe(&st->cmd, what, sizeof what);
    redisReply *r = roundtrip(st, &st->cmd, err, errsize);
    if (r && is_not_found(r)) {
        freeReplyObject(r);
        if (functions_load(st, err, errsize) < 0)
            return NULL;
        r = roundtrip(st, &st->cmd, err, errsize);
    }
    if (r && r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errsize, "redis %s: %s: %s", st->name, what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int cw_store_command_int(cw_store *st, long long *out, char *err, size_t errsize)
{
    char what[CW_STORE_KEY_MAX + 64];
    describe(&st->cmd, what, sizeof what);
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "redis %s: %s: unexpected reply type %d", st->name, what, r->type);
        freeReplyObject(r);
        return -1;
    }
    if (out)
        *out = r->integer;
    freeReplyObject(r);
    return 0;
}

/* ---- pipelined operations ----------------------------------------------------------- */

/* Put the description of op i into what (rebuilding it). */
static void describe_op(cw_store *st, const struct cw_store_ops *o, size_t i, char *what,
                        size_t size)
{
    cw_rcmd_reset(&st->cmd);
    if (o->build(st, o->ctx, i, &st->cmd) == 0)
        describe(&st->cmd, what, size);
    else
        snprintf(what, size, "operation %zu", i);
}

/* Consume op i's reply r (not freed): 0, or -1 with err. Not-found goes to retry. */
static int op_reply(cw_store *st, const struct cw_store_ops *o, size_t i, const redisReply *r,
                    size_t *retry, size_t *n_retry, char *err, size_t errsize)
{
    char what[CW_STORE_KEY_MAX + 64];
    if (retry && is_not_found(r)) {
        retry[(*n_retry)++] = i;
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        describe_op(st, o, i, what, sizeof what);
        snprintf(err, errsize, "redis %s: %s: %s", st->name, what, r->str);
        return -1;
    }
    char detail[256] = "";
    if (o->reply(st, o->ctx, i, r, detail, sizeof detail) < 0) {
        describe_op(st, o, i, what, sizeof what);
        snprintf(err, errsize, "redis %s: %s: %s", st->name, what, detail);
        return -1;
    }
    return 0;
}

/*
 * Run ops list[0..n) (list NULL: all), pipelined on each node they route to. Not-found
 * ops go to retry (when non-NULL). Ops answered with a redirection (MOVED, ASK,
 * TRYAGAIN: not executed) are sent again one by one, in order, after the round trip; the
 * later ops of the same slot in that round trip were redirected too (a slot's keys only
 * ever leave a migrating node), so one account's ops still run in order.
 */
static int ops_phase(cw_store *st, const struct cw_store_ops *o, const size_t *list, size_t n,
                     size_t *retry, size_t *n_retry, char *err, size_t errsize)
{
    size_t sent[STORE_PIPELINE_MAX];
    int node_of[STORE_PIPELINE_MAX];
    redisReply *replies[STORE_PIPELINE_MAX];
    size_t next = 0;
    int rc = 0;
    char what[CW_STORE_KEY_MAX + 64];
    while (next < n && rc == 0) {
        size_t ns = 0, bytes = 0;
        for (; next < n && ns < STORE_PIPELINE_MAX && bytes < STORE_PIPELINE_BYTES; next++) {
            size_t i = list ? list[next] : next;
            cw_rcmd_reset(&st->cmd);
            int b = o->build(st, o->ctx, i, &st->cmd);
            if (b > 0)
                continue;
            int slot, node = -1;
            struct cw_redis_conn *conn = NULL;
            if (b == 0 && (node = cw_rcluster_route(&st->rc, &st->cmd, &slot, err, errsize)) < 0) {
                drop(st); /* commands already appended are never read */
                return -1;
            }
            if (b == 0 && node_ctx(st, (size_t)node, &conn, err, errsize) < 0) {
                drop(st);
                return -1;
            }
            if (b < 0 || cw_rcmd_append(conn->ctx, &st->cmd) < 0) {
                snprintf(err, errsize, "redis %s: building a command: out of memory", st->name);
                drop(st);
                return -1;
            }
            if (sdslen(conn->ctx->obuf) >= STORE_FLUSH_BYTES && cw_redis_flush(conn) != REDIS_OK) {
                snprintf(err, errsize, "redis %s: sending a pipeline: %s", st->rc.nodes[node].name,
                         conn->ctx->errstr[0] ? conn->ctx->errstr : "write failed");
                drop(st);
                return -1;
            }
            node_of[ns] = node;
            sent[ns++] = i;
            bytes += st->cmd.len;
        }
        uint64_t start = cw_mono_us();
        for (size_t k = 0; k < ns; k++) {
            void *r = NULL;
            struct cw_redis_conn *conn = st->rc.nodes[node_of[k]].conn;
            if (!conn || cw_redis_get_reply(conn, &r) != REDIS_OK || !r) {
                describe_op(st, o, sent[k], what, sizeof what);
                snprintf(err, errsize, "redis %s: %s: %s", st->rc.nodes[node_of[k]].name, what,
                         conn && conn->ctx->errstr[0] ? conn->ctx->errstr : "no reply");
                for (size_t j = 0; j < k; j++)
                    freeReplyObject(replies[j]);
                if (r)
                    freeReplyObject(r);
                drop(st);
                return -1;
            }
            replies[k] = r;
        }
        if (ns > 0)
            observe(st, start, true);
        for (size_t k = 0; k < ns; k++) {
            redisReply *r = replies[k];
            replies[k] = NULL;
            if (rc == 0) {
                int node = node_of[k];
                int kind = cw_rcluster_redirect(&st->rc, r, &node);
                if (kind != 0) {
                    /* Not executed: send it again where the redirection says. */
                    freeReplyObject(r);
                    r = NULL;
                    cw_rcmd_reset(&st->cmd);
                    if (kind < 0 || o->build(st, o->ctx, sent[k], &st->cmd) != 0) {
                        snprintf(err, errsize, "redis %s: out of memory", st->name);
                        rc = -1;
                    } else {
                        if (kind == 'T')
                            pause_ms(STORE_TRYAGAIN_MS);
                        r = kind == 'A'
                                ? node_roundtrip(st, (size_t)node, true, &st->cmd, err, errsize)
                                : NULL;
                        if (kind == 'A' && r) {
                            int again = node;
                            if (cw_rcluster_redirect(&st->rc, r, &again) != 0) {
                                freeReplyObject(r);
                                r = NULL;
                            }
                        }
                        if (!r)
                            r = routed_roundtrip(st, kind == 'M' ? node : -1, &st->cmd, err,
                                                 errsize);
                        if (!r)
                            rc = -1;
                    }
                }
                if (r && rc == 0)
                    rc = op_reply(st, o, sent[k], r, retry, n_retry, err, errsize);
            }
            if (r)
                freeReplyObject(r);
        }
    }
    return rc;
}

int cw_store_ops_run(cw_store *st, const struct cw_store_ops *o, char *err, size_t errsize)
{
    if (o->n == 0)
        return 0;
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    if (o->prepare && o->prepare(st, o->ctx, err, errsize) < 0)
        return -1;
    size_t *retry = malloc(o->n * sizeof *retry);
    if (!retry) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    size_t n_retry = 0;
    int rc = ops_phase(st, o, NULL, o->n, retry, &n_retry, err, errsize);
    if (rc == 0 && n_retry > 0) {
        /* The library vanished (FUNCTION FLUSH, a server restarted empty): reload, retry. */
        rc = functions_load(st, err, errsize);
        if (rc == 0 && o->prepare)
            rc = o->prepare(st, o->ctx, err, errsize);
        if (rc == 0)
            rc = ops_phase(st, o, retry, n_retry, NULL, NULL, err, errsize);
    }
    free(retry);
    return rc;
}

/* ---- metric slots ------------------------------------------------------------------- */

static int slot_find(const cw_store *st, const char *name)
{
    for (size_t i = 0; i < st->n_slots; i++)
        if (strcmp(st->slots[i].name, name) == 0)
            return st->slots[i].slot;
    return -1;
}

int cw_store_resolve_slots(cw_store *st, const struct cw_config *cfg, int *slots, char *err,
                           size_t errsize)
{
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_slots");
    cw_rcmd_adds(c, "1");
    cw_store_add_global_key(st, c, "metrics");
    size_t missing = 0;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (!cfg->metrics[m].builtin && slot_find(st, cfg->metrics[m].name) < 0) {
            cw_rcmd_adds(c, cfg->metrics[m].name);
            missing++;
        }
    if (missing > 0) {
        redisReply *r = cw_store_command(st, err, errsize);
        if (!r)
            return -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != missing ||
            st->n_slots + missing > 4096) {
            snprintf(err, errsize, "redis %s: FCALL cw_slots: unexpected reply", st->name);
            freeReplyObject(r);
            return -1;
        }
        if (st->n_slots + missing > st->cap_slots) {
            size_t cap = st->n_slots + missing + 16;
            struct cw_store_slot *s = realloc(st->slots, cap * sizeof *s);
            if (!s) {
                freeReplyObject(r);
                snprintf(err, errsize, "redis %s: out of memory", st->name);
                return -1;
            }
            st->slots = s;
            st->cap_slots = cap;
        }
        size_t k = 0;
        for (size_t m = 0; m < cfg->n_metrics; m++) {
            if (cfg->metrics[m].builtin || slot_find(st, cfg->metrics[m].name) >= 0)
                continue;
            const redisReply *e = r->element[k++];
            char *name = strdup(cfg->metrics[m].name);
            if (e->type != REDIS_REPLY_INTEGER || e->integer < 0 || e->integer > 4095 || !name) {
                free(name);
                freeReplyObject(r);
                snprintf(err, errsize, "redis %s: FCALL cw_slots: bad slot for metric %s", st->name,
                         cfg->metrics[m].name);
                return -1;
            }
            st->slots[st->n_slots].name = name;
            st->slots[st->n_slots].slot = (int)e->integer;
            st->n_slots++;
        }
        freeReplyObject(r);
    }
    for (size_t m = 0; m < cfg->n_metrics; m++)
        slots[m] = cfg->metrics[m].builtin ? -1 : slot_find(st, cfg->metrics[m].name);
    return 0;
}

/* ---- open / close / ping ------------------------------------------------------------ */

/* The TLS client of a rediss:// target (redis.tls; absent: verified with the system CAs). */
static int open_tls(cw_store *st, const struct cw_redis_config *rc, char *err, size_t errsize)
{
    if (!st->target.tls) {
        /* The config file cannot pair redis.tls with a plain URL (a schema error): this is
         * a plain CHURNWATCH_REDIS_URL (or the demo's private server) chosen over it. */
        if (rc->tls.configured)
            cw_log_warn("redis tls settings ignored", "why=%s",
                        "the Redis URL in use is not rediss:// or rediss-cluster://");
        return 0;
    }
    const struct cw_redis_tls_config defaults = {.verify = true};
    const struct cw_redis_tls_config *tc = rc->tls.configured ? &rc->tls : &defaults;
    if (!(st->tls = cw_tls_client_new(tc, err, errsize)))
        return -1;
    st->target.tls_client = st->tls;
    if (!tc->verify)
        cw_log_warn("redis tls verification disabled", "why=%s",
                    "redis.tls.verify is false: the server is not authenticated "
                    "(insecure, for tests only)");
    return 0;
}

cw_store *cw_store_open(const struct cw_redis_config *rc, char *err, size_t errsize)
{
    cw_store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errsize, "redis: out of memory");
        return NULL;
    }
    if (cw_redis_url_parse(rc->url, &st->target, err, errsize) < 0)
        goto fail;
    if (rc->password && cw_redis_target_set_password(&st->target, rc->password, err, errsize) < 0)
        goto fail;
    if (open_tls(st, rc, err, errsize) < 0)
        goto fail;
    cw_redis_target_name(&st->target, st->name, sizeof st->name);
    if (st->target.cluster) {
        /* Messages name the cluster by its seeds; a node's own errors name the node. */
        size_t len = (size_t)snprintf(st->name, sizeof st->name, "cluster ");
        for (int i = 0; i < st->target.n_seeds && len < sizeof st->name; i++)
            len += (size_t)snprintf(st->name + len, sizeof st->name - len, "%s%s:%d", i ? "," : "",
                                    st->target.seeds[i].host, st->target.seeds[i].port);
    }
    if (cw_rcluster_init(&st->rc, &st->target, STORE_TIMEOUT_MS) < 0) {
        snprintf(err, errsize, "redis: out of memory");
        goto fail;
    }
    const char *prefix = rc->key_prefix ? rc->key_prefix : "cw:";
    if (strlen(prefix) > CW_STORE_MAX_PREFIX || strpbrk(prefix, "{}")) {
        snprintf(err, errsize, "redis key_prefix: longer than %d bytes or contains { or }",
                 CW_STORE_MAX_PREFIX);
        goto fail;
    }
    st->prefix = strdup(prefix);
    if (!st->prefix) {
        snprintf(err, errsize, "redis: out of memory");
        goto fail;
    }
    if (cw_store_ensure(st, err, errsize) < 0)
        goto fail;
    return st;
fail:
    cw_store_close(st);
    return NULL;
}

void cw_store_close(cw_store *st)
{
    if (!st)
        return;
    cw_rcluster_free(&st->rc);
    cw_tls_client_free(st->tls);
    slots_clear(st);
    free(st->slots);
    cw_rcmd_free(&st->cmd);
    cw_rcmd_free(&st->fcmd);
    free(st->scan_ids);
    free(st->prefix);
    cw_cache_free(st->cache);
    cw_account_mem_release_scratch();
    cw_redis_target_wipe(&st->target);
    free(st);
}

int cw_store_ping(cw_store *st, char *err, size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "PING");
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG") != 0) {
        snprintf(err, errsize, "redis %s: PING: unexpected reply", st->name);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}
