/* store_redis.c - the account state store on Redis: connection, functions, pipelined I/O */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "churnwatch/window.h"
#include "log.h"
#include "redis_cluster.h"
#include "redis_cmd.h"
#include "redis_conn.h"
#include "redis_tls.h"
#include "store_internal.h"

#define STORE_TIMEOUT_MS     2000       /* connect and command timeout */
#define STORE_PIPELINE_MAX   1024       /* commands per round trip */
#define STORE_PIPELINE_BYTES (8u << 20) /* argument bytes per round trip */
#define STORE_LONG_TTL_DAYS  400        /* :m :r :h of an account silent this long expire */
#define STORE_HISTORY_EXTRA  35         /* history kept: longest window + this many days */
#define STORE_MAX_PREFIX     200
#define STORE_KEY_MAX        (STORE_MAX_PREFIX + CW_ID_MAX + 8)

/* One metric name's stable slot (see the cw_slots function). */
struct slot_entry {
    char *name;
    int slot;
};

struct cw_store {
    struct cw_redis_target target; /* holds the password: never printed */
    char name[300];                /* target for messages */
    char *prefix;
    struct cw_rcluster rc;     /* the node, or the cluster's masters */
    struct cw_tls_client *tls; /* rediss://: shared by every node's connection */
    struct cw_rcmd cmd;
    struct cw_rcmd fcmd;      /* functions checks and loads (never clobber cmd) */
    struct slot_entry *slots; /* cache, cleared on every (re)connection and reload */
    size_t n_slots, cap_slots;
    unsigned slot_epoch;
    /* cw_store_scan_accounts: ZSCAN pages are buffered, the caller's cursor is a token */
    char (*scan_ids)[CW_ID_MAX + 1];
    size_t scan_n, scan_pos, scan_cap;
    unsigned long long scan_redis_cursor;
    bool scan_redis_done;
    uint64_t scan_token, scan_seq;
    char rescore_seen[64];   /* the last rescore request taken */
    struct cw_hist *latency; /* cw_store_observe, may be NULL */
    _Atomic int *reachable;
};

/* ---- keys and small helpers ------------------------------------------------------ */

/* "<prefix>{account}:suffix" (suffix NULL: "<prefix>account-less global name"). */
static void account_key(const cw_store *st, const char *account, const char *suffix, char *out,
                        size_t size)
{
    snprintf(out, size, "%s{%s}:%s", st->prefix, account, suffix);
}

/* In a cluster every global key has the hash tag {cw}: one slot, so one node holds the
 * indexes whole (docs/state.md). A single node keeps the historical names. */
static void global_key(const cw_store *st, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", st->prefix, st->rc.cluster ? "{cw}" : "", name);
}

static int add_account_key(cw_store *st, struct cw_rcmd *c, const char *account, const char *suffix)
{
    char k[STORE_KEY_MAX];
    account_key(st, account, suffix, k, sizeof k);
    return cw_rcmd_adds(c, k);
}

static int add_global_key(cw_store *st, struct cw_rcmd *c, const char *name)
{
    char k[STORE_KEY_MAX];
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

static int parse_i32(const char *v, size_t len, int32_t *out)
{
    int64_t x;
    if (cw_parse_i64(v, len, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
        return -1;
    *out = (int32_t)x;
    return 0;
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
static redisReply *node_roundtrip(cw_store *st, size_t node, bool asking, const struct cw_rcmd *c,
                                  char *err, size_t errsize)
{
    char what[STORE_KEY_MAX + 64];
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
static redisReply *routed_roundtrip(cw_store *st, int first, const struct cw_rcmd *c, char *err,
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

static redisReply *roundtrip(cw_store *st, const struct cw_rcmd *c, char *err, size_t errsize)
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

/* Read the slot map when stale, then connect every master that is not (checking its
 * functions). */
static int ensure(cw_store *st, char *err, size_t errsize)
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

/*
 * Run one command built in st->cmd; an error reply "Function not found" reloads the
 * library and retries once. Returns the reply (not an error reply), or NULL with err.
 */
static redisReply *command(cw_store *st, char *err, size_t errsize)
{
    char what[STORE_KEY_MAX + 64];
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

/* ---- pipelined operations ----------------------------------------------------------- */

/*
 * A list of operations sent pipelined, at most STORE_PIPELINE_MAX per round trip.
 * build() puts op i into cmd (returns 0, 1 to skip it, -1 on error); reply() consumes its
 * reply (never an error reply; returns -1 with err holding the detail). Operations whose
 * reply is "Function not found" are retried once after reloading the library, calling
 * prepare() first (e.g. to re-resolve metric slots).
 */
struct ops {
    size_t n;
    void *ctx;
    int (*prepare)(cw_store *st, void *ctx, char *err, size_t errsize);
    int (*build)(cw_store *st, void *ctx, size_t i, struct cw_rcmd *cmd);
    int (*reply)(cw_store *st, void *ctx, size_t i, const redisReply *r, char *err, size_t errsize);
};

/* Put the description of op i into what (rebuilding it). */
static void describe_op(cw_store *st, const struct ops *o, size_t i, char *what, size_t size)
{
    cw_rcmd_reset(&st->cmd);
    if (o->build(st, o->ctx, i, &st->cmd) == 0)
        describe(&st->cmd, what, size);
    else
        snprintf(what, size, "operation %zu", i);
}

/* Consume op i's reply r (not freed): 0, or -1 with err. Not-found goes to retry. */
static int op_reply(cw_store *st, const struct ops *o, size_t i, const redisReply *r, size_t *retry,
                    size_t *n_retry, char *err, size_t errsize)
{
    char what[STORE_KEY_MAX + 64];
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
static int ops_phase(cw_store *st, const struct ops *o, const size_t *list, size_t n, size_t *retry,
                     size_t *n_retry, char *err, size_t errsize)
{
    size_t sent[STORE_PIPELINE_MAX];
    int node_of[STORE_PIPELINE_MAX];
    redisReply *replies[STORE_PIPELINE_MAX];
    size_t next = 0;
    int rc = 0;
    char what[STORE_KEY_MAX + 64];
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

static int ops_run(cw_store *st, const struct ops *o, char *err, size_t errsize)
{
    if (o->n == 0)
        return 0;
    if (ensure(st, err, errsize) < 0)
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

/* slots[m] = the stable slot of cfg's metric m (-1 for built-ins), allocating new ones. */
static int resolve_slots(cw_store *st, const struct cw_config *cfg, int *slots, char *err,
                         size_t errsize)
{
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_slots");
    cw_rcmd_adds(c, "1");
    add_global_key(st, c, "metrics");
    size_t missing = 0;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (!cfg->metrics[m].builtin && slot_find(st, cfg->metrics[m].name) < 0) {
            cw_rcmd_adds(c, cfg->metrics[m].name);
            missing++;
        }
    if (missing > 0) {
        redisReply *r = command(st, err, errsize);
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
            struct slot_entry *s = realloc(st->slots, cap * sizeof *s);
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
    if (strlen(prefix) > STORE_MAX_PREFIX || strpbrk(prefix, "{}")) {
        snprintf(err, errsize, "redis key_prefix: longer than %d bytes or contains { or }",
                 STORE_MAX_PREFIX);
        goto fail;
    }
    st->prefix = strdup(prefix);
    if (!st->prefix) {
        snprintf(err, errsize, "redis: out of memory");
        goto fail;
    }
    if (ensure(st, err, errsize) < 0)
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
    cw_redis_target_wipe(&st->target);
    free(st);
}

int cw_store_ping(cw_store *st, char *err, size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "PING");
    redisReply *r = command(st, err, errsize);
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

/* ---- apply -------------------------------------------------------------------------- */

/* One operation of an apply: events [first, end) of a batch, or its accounts-index ZADD. */
struct apply_op {
    size_t batch;
    size_t first, end;
    bool zadd;
};

struct apply_ctx {
    const struct cw_config *cfg;
    struct cw_store_batch *batches;
    size_t n_batches;
    struct apply_op *ops;
    int slots[CW_MAX_METRICS];
    unsigned epoch;
    bool resolved;
    long long horizon, ttl_short, ttl_long;
};

static int apply_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct apply_ctx *a = vctx;
    if (a->resolved && a->epoch == st->slot_epoch)
        return 0;
    if (a->cfg->n_metrics > CW_MAX_METRICS) {
        snprintf(err, errsize, "store: more than %d metrics", CW_MAX_METRICS);
        return -1;
    }
    if (resolve_slots(st, a->cfg, a->slots, err, errsize) < 0)
        return -1;
    a->epoch = st->slot_epoch;
    a->resolved = true;
    return 0;
}

static int32_t batch_max_day(const struct cw_config *cfg, const struct cw_store_batch *b)
{
    int32_t max = CW_DAY_NONE;
    for (size_t i = 0; i < b->n; i++)
        if (cw_store_event_usable(cfg, &b->events[i]) && b->events[i].day > max)
            max = b->events[i].day;
    return max;
}

/* One ZADD GT of the accounts index for every batch with an event day (1 when none). */
static int accounts_index_build(cw_store *st, const struct cw_config *cfg,
                                const struct cw_store_batch *batches, size_t n, struct cw_rcmd *c)
{
    cw_rcmd_adds(c, "ZADD");
    add_global_key(st, c, "accounts");
    cw_rcmd_adds(c, "GT");
    size_t members = 0;
    for (size_t b = 0; b < n; b++) {
        int32_t day = batch_max_day(cfg, &batches[b]);
        if (day == CW_DAY_NONE)
            continue;
        cw_rcmd_addll(c, day);
        cw_rcmd_adds(c, batches[b].account_id);
        members++;
    }
    if (members == 0)
        return 1;
    return c->oom ? -1 : 0;
}

/* Accounts silent past the long TTL leave the sweep's index (max_day: the newest day of
 * the events just applied). */
static int accounts_index_trim(cw_store *st, int32_t max_day, char *err, size_t errsize)
{
    if (max_day == CW_DAY_NONE)
        return 0;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "ZREMRANGEBYSCORE");
    add_global_key(st, &st->cmd, "accounts");
    cw_rcmd_adds(&st->cmd, "-inf");
    cw_rcmd_addf(&st->cmd, "(%lld", (long long)max_day - STORE_LONG_TTL_DAYS);
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

static int apply_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct apply_ctx *a = vctx;
    const struct apply_op *op = &a->ops[i];
    const struct cw_store_batch *b = &a->batches[op->batch];
    const struct cw_config *cfg = a->cfg;
    if (op->zadd)
        return accounts_index_build(st, cfg, a->batches, a->n_batches, c);
    /* Sources and types of the events, numbered from 1 in order of appearance. */
    size_t src_first[CW_STORE_EVENTS_PER_CALL]; /* event index introducing each source */
    size_t src_of[CW_STORE_EVENTS_PER_CALL];
    size_t nsrc = 0;
    int type_local[CW_MAX_EVENT_TYPES] = {0};
    int type_list[CW_MAX_EVENT_TYPES];
    int ntypes = 0, nev = 0;
    size_t last = 0;
    for (size_t e = op->first; e < op->end; e++) {
        const struct cw_store_event *ev = &b->events[e];
        size_t k = e - op->first;
        if (!cw_store_event_usable(cfg, ev))
            continue;
        nev++;
        size_t s = nsrc;
        if (nsrc > 0 && b->events[src_first[last]].partition == ev->partition &&
            strcmp(b->events[src_first[last]].topic, ev->topic) == 0) {
            s = last;
        } else {
            for (s = 0; s < nsrc; s++)
                if (b->events[src_first[s]].partition == ev->partition &&
                    strcmp(b->events[src_first[s]].topic, ev->topic) == 0)
                    break;
            if (s == nsrc)
                src_first[nsrc++] = e;
        }
        src_of[k] = s;
        last = s;
        if (type_local[ev->type_index] == 0) {
            type_list[ntypes] = ev->type_index;
            type_local[ev->type_index] = ++ntypes;
        }
    }
    if (nev == 0)
        return 1;
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_apply");
    cw_rcmd_adds(c, "5");
    add_account_key(st, c, b->account_id, "m");
    add_account_key(st, c, b->account_id, "d");
    add_account_key(st, c, b->account_id, "u");
    add_account_key(st, c, b->account_id, "r");
    add_account_key(st, c, b->account_id, "h");
    cw_rcmd_addll(c, a->horizon);
    cw_rcmd_addll(c, a->ttl_short);
    cw_rcmd_addll(c, a->ttl_long);
    cw_rcmd_addll(c, (long long)nsrc);
    for (size_t s = 0; s < nsrc; s++)
        cw_rcmd_addf(c, "%s:%" PRId32, b->events[src_first[s]].topic,
                     b->events[src_first[s]].partition);
    cw_rcmd_addll(c, ntypes);
    for (int t = 0; t < ntypes; t++)
        cw_rcmd_adds(c, cfg->event_types[type_list[t]].name);
    cw_rcmd_addll(c, nev);
    for (size_t e = op->first; e < op->end; e++) {
        const struct cw_store_event *se = &b->events[e];
        if (!cw_store_event_usable(cfg, se))
            continue;
        int slot =
            se->metric >= 0 && (size_t)se->metric < cfg->n_metrics ? a->slots[se->metric] : -1;
        int flags = cw_store_event_flags(cfg, se);
        cw_rcmd_addf(c, "%zu %" PRId64 " %" PRId32 " %" PRId64 " %d %d %d",
                     src_of[e - op->first] + 1, se->offset, se->day, se->ts_ms, slot,
                     type_local[se->type_index], flags);
        cw_rcmd_adds(c, se->user_id);
        if (se->traits)
            cw_store_add_traits(c, se->traits);
    }
    if (b->clock_day > 0)
        cw_rcmd_addll(c, b->clock_day);
    else
        cw_rcmd_adds(c, "");
    return c->oom ? -1 : 0;
}

static int apply_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                       size_t errsize)
{
    (void)st;
    struct apply_ctx *a = vctx;
    const struct apply_op *op = &a->ops[i];
    if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (!op->zadd)
        a->batches[op->batch].applied += (size_t)r->integer;
    return 0;
}

static void apply_ctx_init(struct apply_ctx *a, const struct cw_config *cfg,
                           struct cw_store_batch *batches, size_t n)
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    a->batches = batches;
    a->n_batches = n;
    a->horizon = cw_store_days_kept(cfg);
    a->ttl_short = (a->horizon + 1) * 86400;
    a->ttl_long = (long long)STORE_LONG_TTL_DAYS * 86400;
}

static int32_t batches_max_day(const struct cw_config *cfg, const struct cw_store_batch *batches,
                               size_t n)
{
    int32_t max_day = CW_DAY_NONE;
    for (size_t b = 0; b < n; b++) {
        int32_t d = batch_max_day(cfg, &batches[b]);
        if (d > max_day)
            max_day = d;
    }
    return max_day;
}

int cw_store_apply(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                   size_t n, char *err, size_t errsize)
{
    size_t n_ops = 1; /* the accounts index */
    for (size_t b = 0; b < n; b++) {
        batches[b].applied = 0;
        batches[b].coalesced = false;
        n_ops += (batches[b].n + CW_STORE_EVENTS_PER_CALL - 1) / CW_STORE_EVENTS_PER_CALL;
    }
    if (n_ops == 1)
        return 0;
    struct apply_ctx a;
    apply_ctx_init(&a, cfg, batches, n);
    a.ops = calloc(n_ops, sizeof *a.ops);
    if (!a.ops) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    size_t k = 0;
    for (size_t b = 0; b < n; b++) {
        for (size_t e = 0; e < batches[b].n; e += CW_STORE_EVENTS_PER_CALL) {
            size_t end = e + CW_STORE_EVENTS_PER_CALL;
            a.ops[k++] = (struct apply_op){
                .batch = b, .first = e, .end = end < batches[b].n ? end : batches[b].n};
        }
    }
    a.ops[k++] = (struct apply_op){.zadd = true};
    struct ops o = {
        .n = k, .ctx = &a, .prepare = apply_prepare, .build = apply_build, .reply = apply_reply};
    int rc = ops_run(st, &o, err, errsize);
    free(a.ops);
    if (rc < 0)
        return rc;
    return accounts_index_trim(st, batches_max_day(cfg, batches, n), err, errsize);
}

/* ---- load --------------------------------------------------------------------------- */

static const char *const LOAD_SUFFIX[] = {"m", "d", "u", "r", "h", "x", "o"};
#define LOAD_KEYS 7

struct load_ctx {
    const struct cw_config *cfg;
    const char *const *ids;
    struct cw_account_data *out;
    int32_t today;
    uint32_t horizon;
    int slots[CW_MAX_METRICS];
};

static int load_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct load_ctx *l = vctx;
    if (l->cfg->n_metrics > CW_MAX_METRICS || l->cfg->n_rules > CW_MAX_RULES) {
        snprintf(err, errsize, "store: more than %d metrics or %d rules", CW_MAX_METRICS,
                 CW_MAX_RULES);
        return -1;
    }
    return resolve_slots(st, l->cfg, l->slots, err, errsize);
}

static int load_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct load_ctx *l = vctx;
    cw_rcmd_adds(c, "HGETALL");
    add_account_key(st, c, l->ids[i / LOAD_KEYS], LOAD_SUFFIX[i % LOAD_KEYS]);
    return c->oom ? -1 : 0;
}

/* Reset d for a new load of account id. */
static int load_reset(struct load_ctx *l, struct cw_account_data *d, const char *id)
{
    const struct cw_config *cfg = l->cfg;
    snprintf(d->account_id, sizeof d->account_id, "%s", id);
    d->exists = false;
    d->first_day = CW_DAY_NONE;
    d->last_seen_ms = -1;
    memset(&d->traits, 0, sizeof d->traits);
    d->today = l->today;
    d->horizon = l->horizon;
    size_t cells = cfg->n_metrics * l->horizon;
    uint32_t *daily = realloc(d->daily, (cells ? cells : 1) * sizeof *daily);
    if (!daily)
        return -1;
    d->daily = daily;
    memset(daily, 0, cells * sizeof *daily);
    d->n_metrics = cfg->n_metrics;
    int64_t *tl =
        realloc(d->type_last_ms, (cfg->n_event_types ? cfg->n_event_types : 1) * sizeof *tl);
    if (!tl)
        return -1;
    d->type_last_ms = tl;
    for (size_t t = 0; t < cfg->n_event_types; t++)
        tl[t] = -1;
    d->n_event_types = cfg->n_event_types;
    d->n_users = 0;
    d->n_history = 0;
    d->has_last_score = false;
    d->last_score = 0;
    d->n_rules = cfg->n_rules;
    memset(d->rules, 0, sizeof d->rules);
    memset(d->rule_raw, 0, sizeof d->rule_raw);
    d->n_silences = 0;
    cw_account_data_outbox_clear(d);
    return 0;
}

static void copy_trait(char *dst, const char *v, size_t len)
{
    if (len > CW_TRAIT_MAX)
        len = CW_TRAIT_MAX;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static void load_field_m(const struct cw_config *cfg, struct cw_account_data *d,
                         const redisReply *f, const redisReply *v)
{
    const char *k = f->str;
    int64_t x;
    if (strcmp(k, "first_day") == 0) {
        int32_t day;
        if (parse_i32(v->str, v->len, &day) == 0)
            d->first_day = day;
    } else if (strcmp(k, "last_seen") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0)
            d->last_seen_ms = x;
    } else if (strncmp(k, "t:", 2) == 0) {
        for (size_t t = 0; t < cfg->n_event_types; t++)
            if (strcmp(cfg->event_types[t].name, k + 2) == 0 &&
                cw_parse_i64(v->str, v->len, &x) == 0)
                d->type_last_ms[t] = x;
    } else if (strcmp(k, "tr:seats") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0 && x >= 0) {
            d->traits.has_seats = true;
            d->traits.seats = x;
        }
    } else if (strcmp(k, "tr:created_at") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0) {
            d->traits.has_created_at = true;
            d->traits.created_at_ms = x;
        }
    } else if (strcmp(k, "tr:renewal_at") == 0) {
        if (cw_parse_i64(v->str, v->len, &x) == 0) {
            d->traits.has_renewal_at = true;
            d->traits.renewal_at_ms = x;
        }
    } else if (strcmp(k, "tr:plan") == 0) {
        copy_trait(d->traits.plan, v->str, v->len);
    } else if (strcmp(k, "tr:segment") == 0) {
        copy_trait(d->traits.segment, v->str, v->len);
    } else if (strcmp(k, "tr:owner") == 0) {
        copy_trait(d->traits.owner, v->str, v->len);
    }
}

static int cmp_point(const void *a, const void *b)
{
    const struct cw_score_point *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* Consume field f / value v of hash `which` (index into LOAD_SUFFIX) into d. */
static int load_field(struct load_ctx *l, struct cw_account_data *d, size_t which,
                      const redisReply *f, const redisReply *v)
{
    const struct cw_config *cfg = l->cfg;
    int32_t day;
    switch (which) {
    case 0:
        load_field_m(cfg, d, f, v);
        break;
    case 1: /* day -> packed counters */
        if (parse_i32(f->str, f->len, &day) == 0 && day <= l->today &&
            (int64_t)l->today - day < (int64_t)l->horizon) {
            size_t age = (size_t)(l->today - day);
            for (size_t m = 0; m < cfg->n_metrics; m++)
                if (l->slots[m] >= 0)
                    d->daily[m * l->horizon + age] = cw_counters_get(v->str, v->len, l->slots[m]);
        }
        break;
    case 2: /* user -> last day */
        if (parse_i32(v->str, v->len, &day) == 0) {
            if (d->n_users == d->cap_users) {
                size_t cap = d->cap_users ? d->cap_users * 2 : 64;
                int32_t *u = realloc(d->user_last_day, cap * sizeof *u);
                if (!u)
                    return -1;
                d->user_last_day = u;
                d->cap_users = cap;
            }
            d->user_last_day[d->n_users++] = day;
        }
        break;
    case 3: /* rule -> state */
        for (size_t r = 0; r < cfg->n_rules; r++) {
            if (strcmp(cfg->rules[r].name, f->str) != 0)
                continue;
            if (v->len < sizeof d->rule_raw[r] && !memchr(v->str, '\0', v->len))
                memcpy(d->rule_raw[r], v->str, v->len + 1);
            if (cw_rule_state_decode(v->str, &d->rules[r]) < 0)
                memset(&d->rules[r], 0, sizeof d->rules[r]);
        }
        break;
    case 4: /* day -> score */
        if (parse_i32(f->str, f->len, &day) == 0) {
            char *end;
            double s = strtod(v->str, &end);
            if (end == v->str || *end)
                break;
            if (d->n_history == d->cap_history) {
                size_t cap = d->cap_history ? d->cap_history * 2 : 64;
                struct cw_score_point *h = realloc(d->history, cap * sizeof *h);
                if (!h)
                    return -1;
                d->history = h;
                d->cap_history = cap;
            }
            d->history[d->n_history].day = day;
            d->history[d->n_history].score = s;
            d->n_history++;
        }
        break;
    case 6: /* alert key -> alert JSON waiting for the broker's acknowledgement */
        if (f->len < sizeof d->outbox[0].key && !memchr(f->str, '\0', f->len)) {
            if (d->n_outbox == d->cap_outbox) {
                size_t cap = d->cap_outbox ? d->cap_outbox * 2 : 4;
                struct cw_outbox_entry *o = realloc(d->outbox, cap * sizeof *o);
                if (!o)
                    return -1;
                d->outbox = o;
                d->cap_outbox = cap;
            }
            struct cw_outbox_entry *e = &d->outbox[d->n_outbox];
            e->json = malloc(v->len + 1);
            if (!e->json)
                return -1;
            memcpy(e->json, v->str, v->len);
            e->json[v->len] = '\0';
            e->len = v->len;
            memcpy(e->key, f->str, f->len + 1);
            d->n_outbox++;
        }
        break;
    default: /* rule ("*" = all) -> silence */
        if (d->n_silences < sizeof d->silences / sizeof d->silences[0] &&
            f->len < sizeof d->silences[0].rule) {
            struct cw_silence *s = &d->silences[d->n_silences];
            memset(s, 0, sizeof *s);
            memcpy(s->account_id, d->account_id, strlen(d->account_id) + 1);
            if (strcmp(f->str, "*") != 0)
                memcpy(s->rule, f->str, f->len + 1);
            if (cw_silence_value_decode(v->str, v->len, s) == 0)
                d->n_silences++;
        }
        break;
    }
    return 0;
}

/* Consume r, the HGETALL of hash `which` (index into LOAD_SUFFIX) of account id, into d
 * (values: r is an HVALS, which the users' hash needs: only the days are kept); `which`
 * 0 starts the account afresh. 0, or -1 with err. */
static int load_hash(struct load_ctx *l, struct cw_account_data *d, const char *id, size_t which,
                     bool values, const redisReply *r, char *err, size_t errsize)
{
    if (which == 0 && load_reset(l, d, id) < 0) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    size_t step = values && which == 2 ? 1 : 2;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % step != 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    for (size_t k = 0; k < r->elements; k += step) {
        const redisReply *f = r->element[k], *v = r->element[k + step - 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "unexpected element type");
            return -1;
        }
        if (load_field(l, d, which, f, v) < 0) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    if (which == 0)
        d->exists = r->elements > 0;
    if (which == 4 && d->n_history > 0) {
        qsort(d->history, d->n_history, sizeof *d->history, cmp_point);
        d->has_last_score = true;
        d->last_score = d->history[d->n_history - 1].score;
    }
    return 0;
}

static int load_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                      size_t errsize)
{
    (void)st;
    struct load_ctx *l = vctx;
    return load_hash(l, &l->out[i / LOAD_KEYS], l->ids[i / LOAD_KEYS], i % LOAD_KEYS, false, r, err,
                     errsize);
}

int cw_store_load(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                  int32_t today, struct cw_account_data *out, char *err, size_t errsize)
{
    struct load_ctx l = {.cfg = cfg, .ids = ids, .out = out, .today = today};
    l.horizon = cw_store_row_days(cfg);
    struct ops o = {.n = n * LOAD_KEYS,
                    .ctx = &l,
                    .prepare = load_prepare,
                    .build = load_build,
                    .reply = load_reply};
    return ops_run(st, &o, err, errsize);
}

/* ---- apply and load, coalesced ----------------------------------------------------- */

/* The history days score_drop may compare with at today (drop_reference in lib/rules.c:
 * [today - 2 over, today - over] for each rule's `over`, segments included); an empty
 * range (from > to) when no rule compares. */
static void history_range(const struct cw_config *cfg, int32_t today, int32_t *from, int32_t *to)
{
    int64_t lo = 0, hi = 0;
    for (size_t r = 0; r < cfg->n_rules; r++) {
        if (cfg->rules[r].kind != CW_RULE_SCORE_DROP)
            continue;
        for (size_t s = 0; s <= cfg->n_segments; s++) {
            const struct cw_rule_params *p =
                s < cfg->n_segments ? &cfg->segments[s].rule_params[r] : &cfg->rules[r].params;
            int64_t over = p->over_ms / CW_MS_PER_DAY + (p->over_ms % CW_MS_PER_DAY != 0);
            if (over < 1)
                over = 1;
            if (lo == 0 || 2 * over > lo)
                lo = 2 * over;
            if (hi == 0 || over < hi)
                hi = over;
        }
    }
    *from = lo ? (int32_t)(today - lo) : today;
    *to = lo ? (int32_t)(today - hi) : today - 1;
}

struct apply_load_ctx {
    struct apply_ctx a; /* slots, TTLs, the batches */
    struct load_ctx l;
    struct cw_store_delta_params params;
    struct cw_store_delta *delta;
    bool *partial; /* per batch: the delta overlapped a replay, nothing was done */
};

static int apply_load_prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct apply_load_ctx *x = vctx;
    if (x->l.cfg->n_rules > CW_MAX_RULES) {
        snprintf(err, errsize, "store: more than %d rules", CW_MAX_RULES);
        return -1;
    }
    if (apply_prepare(st, &x->a, err, errsize) < 0)
        return -1;
    memcpy(x->l.slots, x->a.slots, sizeof x->l.slots);
    return 0;
}

/* Ops 0..n-1: each batch's cw_apply_delta; op n: the accounts index. */
static int apply_load_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct apply_load_ctx *x = vctx;
    const struct cw_store_batch *b = &x->a.batches[i < x->a.n_batches ? i : 0];
    if (i == x->a.n_batches)
        return accounts_index_build(st, x->a.cfg, x->a.batches, x->a.n_batches, c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_apply_delta");
    cw_rcmd_adds(c, "7");
    for (size_t k = 0; k < LOAD_KEYS; k++)
        add_account_key(st, c, b->account_id, LOAD_SUFFIX[k]);
    int rc = cw_store_delta_args(x->delta, x->a.cfg, x->a.slots, b, &x->params, c);
    if (rc == 1)
        x->partial[i] = true; /* nothing to apply: loaded below */
    return rc < 0 || c->oom ? -1 : rc;
}

static int apply_load_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                            size_t errsize)
{
    (void)st;
    struct apply_load_ctx *x = vctx;
    if (i == x->a.n_batches)
        return r->type == REDIS_REPLY_INTEGER ? 0
                                              : (snprintf(err, errsize, "unexpected reply"), -1);
    struct cw_store_batch *b = &x->a.batches[i];
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->integer < 0) {
        snprintf(err, errsize, "unexpected reply");
        return -1;
    }
    long long status = r->element[0]->integer;
    if (status < 0) {
        x->partial[i] = true;
        return 0;
    }
    b->applied = (size_t)r->element[1]->integer;
    b->coalesced = true;
    if (!x->l.out)
        return 0;
    if (r->elements != 2 + LOAD_KEYS) {
        snprintf(err, errsize, "unexpected reply: %zu elements", r->elements);
        return -1;
    }
    for (size_t k = 0; k < LOAD_KEYS; k++)
        if (load_hash(&x->l, &x->l.out[i], b->account_id, k, true, r->element[2 + k], err,
                      errsize) < 0)
            return -1;
    return 0;
}

int cw_store_apply_load(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                        size_t n, int32_t today, struct cw_account_data *out, char *err,
                        size_t errsize)
{
    if (n == 0)
        return 0;
    struct apply_load_ctx x;
    memset(&x, 0, sizeof x);
    apply_ctx_init(&x.a, cfg, batches, n);
    x.params = (struct cw_store_delta_params){.horizon = x.a.horizon,
                                              .ttl_short = x.a.ttl_short,
                                              .ttl_long = x.a.ttl_long,
                                              .want_state = out != NULL};
    history_range(cfg, today, &x.params.hist_from, &x.params.hist_to);
    x.l = (struct load_ctx){
        .cfg = cfg, .out = out, .today = today, .horizon = cw_store_row_days(cfg)};
    x.delta = cw_store_delta_new();
    x.partial = calloc(n, sizeof *x.partial);
    size_t *slow = calloc(n, sizeof *slow);
    struct cw_store_batch *again = calloc(n, sizeof *again);
    const char **ids = calloc(n, sizeof *ids);
    int rc = -1;
    if (!x.delta || !x.partial || !slow || !again || !ids) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    for (size_t b = 0; b < n; b++) {
        batches[b].applied = 0;
        batches[b].coalesced = false;
    }
    struct ops o = {.n = n + 1,
                    .ctx = &x,
                    .prepare = apply_load_prepare,
                    .build = apply_load_build,
                    .reply = apply_load_reply};
    if (ops_run(st, &o, err, errsize) < 0)
        goto done;

    /* Partial replays: the events one by one, then the state loaded as usual. */
    size_t n_slow = 0;
    for (size_t b = 0; b < n; b++)
        if (x.partial[b]) {
            slow[n_slow] = b;
            again[n_slow] = batches[b];
            ids[n_slow++] = batches[b].account_id;
        }
    if (n_slow > 0) {
        if (cw_store_apply(st, cfg, again, n_slow, err, errsize) < 0)
            goto done;
        for (size_t k = 0; k < n_slow; k++)
            batches[slow[k]].applied = again[k].applied;
        if (out) {
            for (size_t k = 0; k < n_slow; k++) {
                if (cw_store_load(st, cfg, &ids[k], 1, today, &out[slow[k]], err, errsize) < 0)
                    goto done;
            }
        }
    }
    rc = accounts_index_trim(st, batches_max_day(cfg, batches, n), err, errsize);
done:
    cw_store_delta_free(x.delta);
    free(x.partial);
    free(slow);
    free(again);
    free(ids);
    return rc;
}

/* ---- save --------------------------------------------------------------------------- */

/* SAVE_INDEX_ADD / _REM: one ZADD of every score and one ZREM of every unscored account
 * of the call, to the score index (`top`). */
enum save_kind { SAVE_SCORE, SAVE_INDEX_ADD, SAVE_INDEX_REM, SAVE_RULE };

struct save_op {
    enum save_kind kind;
    size_t result, rule;
};

struct save_ctx {
    const struct cw_config *cfg;
    struct cw_store_result *results;
    size_t n_results;
    struct save_op *ops;
    long long keep_days, ttl_long;
};

static int save_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct save_ctx *s = vctx;
    const struct save_op *op = &s->ops[i];
    const struct cw_store_result *res = &s->results[op->result];
    switch (op->kind) {
    case SAVE_SCORE:
        cw_rcmd_adds(c, "FCALL");
        cw_rcmd_adds(c, "cw_save");
        cw_rcmd_adds(c, "2");
        add_account_key(st, c, res->account_id, "m");
        add_account_key(st, c, res->account_id, "h");
        cw_rcmd_addll(c, res->today);
        cw_rcmd_addf(c, "%.10g", res->score); /* a trend point: 10 digits are plenty */
        cw_rcmd_addll(c, s->keep_days);
        cw_rcmd_addll(c, s->ttl_long);
        break;
    case SAVE_INDEX_ADD:
    case SAVE_INDEX_REM:
        cw_rcmd_adds(c, op->kind == SAVE_INDEX_ADD ? "ZADD" : "ZREM");
        add_global_key(st, c, "scores");
        for (size_t k = 0; k < s->n_results; k++) {
            if (s->results[k].has_score != (op->kind == SAVE_INDEX_ADD))
                continue;
            if (op->kind == SAVE_INDEX_ADD)
                cw_rcmd_addf(c, "%.17g", s->results[k].score);
            cw_rcmd_adds(c, s->results[k].account_id);
        }
        break;
    case SAVE_RULE: {
        char enc[160], zero[160];
        struct cw_rule_state z;
        memset(&z, 0, sizeof z);
        cw_rule_state_encode(&res->rule_new[op->rule], enc, sizeof enc);
        cw_rule_state_encode(&z, zero, sizeof zero);
        const char *expected = res->rule_expected_raw[op->rule];
        const char *akey = res->rule_alert_key[op->rule];
        const char *ajson = res->rule_alert_json[op->rule];
        cw_rcmd_adds(c, "FCALL");
        cw_rcmd_adds(c, "cw_rule_cas");
        cw_rcmd_adds(c, "3");
        add_account_key(st, c, res->account_id, "m");
        add_account_key(st, c, res->account_id, "r");
        add_account_key(st, c, res->account_id, "o");
        cw_rcmd_adds(c, s->cfg->rules[op->rule].name);
        cw_rcmd_adds(c, expected ? expected : "");
        cw_rcmd_adds(c, strcmp(enc, zero) == 0 ? "" : enc); /* ok and clean: absent */
        cw_rcmd_addll(c, s->ttl_long);
        cw_rcmd_adds(c, akey && ajson ? akey : "");
        cw_rcmd_adds(c, akey && ajson ? ajson : "");
        break;
    }
    }
    return c->oom ? -1 : 0;
}

static int save_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                      size_t errsize)
{
    (void)st;
    struct save_ctx *s = vctx;
    const struct save_op *op = &s->ops[i];
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (op->kind == SAVE_RULE)
        s->results[op->result].rule_won[op->rule] = r->integer == 1;
    return 0;
}

int cw_store_save(cw_store *st, const struct cw_config *cfg, struct cw_store_result *results,
                  size_t n, char *err, size_t errsize)
{
    size_t n_ops = 0;
    for (size_t i = 0; i < n; i++) {
        struct cw_store_result *r = &results[i];
        if (r->n_rules > cfg->n_rules || r->n_rules > CW_MAX_RULES) {
            snprintf(err, errsize, "store: result of %s has more rules than the config",
                     r->account_id);
            return -1;
        }
        if (r->has_score && !isfinite(r->score)) {
            snprintf(err, errsize, "store: score of %s is not a finite number", r->account_id);
            return -1;
        }
        n_ops += 1;
        for (size_t k = 0; k < r->n_rules; k++) {
            r->rule_won[k] = false;
            n_ops += r->rule_changed[k];
        }
    }
    n_ops += 2; /* the score index: ZADD, ZREM */
    struct save_ctx s = {.cfg = cfg, .results = results, .n_results = n};
    s.keep_days = (long long)cw_store_row_days(cfg) + STORE_HISTORY_EXTRA;
    s.ttl_long = (long long)STORE_LONG_TTL_DAYS * 86400;
    s.ops = calloc(n_ops, sizeof *s.ops);
    if (!s.ops) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    size_t k = 0, scored = 0;
    for (size_t i = 0; i < n; i++) {
        if (results[i].has_score)
            s.ops[k++] = (struct save_op){.kind = SAVE_SCORE, .result = i};
        scored += results[i].has_score;
        for (size_t r = 0; r < results[i].n_rules; r++)
            if (results[i].rule_changed[r])
                s.ops[k++] = (struct save_op){.kind = SAVE_RULE, .result = i, .rule = r};
    }
    if (scored > 0)
        s.ops[k++] = (struct save_op){.kind = SAVE_INDEX_ADD};
    if (scored < n)
        s.ops[k++] = (struct save_op){.kind = SAVE_INDEX_REM};
    struct ops o = {.n = k, .ctx = &s, .build = save_build, .reply = save_reply};
    int rc = ops_run(st, &o, err, errsize);
    free(s.ops);
    return rc;
}

/* ---- scan, top ---------------------------------------------------------------------- */

/* Fetch the next ZSCAN page of the accounts index into the scan buffer. */
static int scan_fetch(cw_store *st, size_t count, char *err, size_t errsize)
{
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZSCAN");
    add_global_key(st, c, "accounts");
    cw_rcmd_addf(c, "%llu", st->scan_redis_cursor);
    cw_rcmd_adds(c, "COUNT");
    cw_rcmd_addll(c, (long long)count);
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    const redisReply *cur, *items;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        (cur = r->element[0])->type != REDIS_REPLY_STRING ||
        (items = r->element[1])->type != REDIS_REPLY_ARRAY || items->elements % 2 != 0)
        goto bad;
    char *end;
    unsigned long long next = strtoull(cur->str, &end, 10);
    if (end == cur->str || *end)
        goto bad;
    size_t n = items->elements / 2;
    if (n > st->scan_cap) {
        char(*ids)[CW_ID_MAX + 1] = realloc(st->scan_ids, n * sizeof *ids);
        if (!ids) {
            freeReplyObject(r);
            snprintf(err, errsize, "redis %s: out of memory", st->name);
            return -1;
        }
        st->scan_ids = ids;
        st->scan_cap = n;
    }
    st->scan_n = st->scan_pos = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = items->element[2 * i];
        if (m->type != REDIS_REPLY_STRING)
            goto bad;
        if (m->len == 0 || m->len > CW_ID_MAX || memchr(m->str, '\0', m->len))
            continue; /* not an id this daemon could have written */
        memcpy(st->scan_ids[st->scan_n], m->str, m->len + 1);
        st->scan_n++;
    }
    st->scan_redis_cursor = next;
    st->scan_redis_done = next == 0;
    freeReplyObject(r);
    return 0;
bad:
    snprintf(err, errsize, "redis %s: ZSCAN %saccounts: unexpected reply", st->name, st->prefix);
    freeReplyObject(r);
    return -1;
}

int cw_store_scan_accounts(cw_store *st, uint64_t *cursor, char (*ids)[CW_ID_MAX + 1], size_t max,
                           char *err, size_t errsize)
{
    if (*cursor == 0) {
        st->scan_token = ++st->scan_seq;
        st->scan_n = st->scan_pos = 0;
        st->scan_redis_cursor = 0;
        st->scan_redis_done = false;
    } else if (*cursor != st->scan_token) {
        snprintf(err, errsize, "store: scan cursor %" PRIu64 " is not the current scan", *cursor);
        return -1;
    }
    if (ensure(st, err, errsize) < 0)
        return -1;
    size_t count = 0;
    while (count < max) {
        if (st->scan_pos < st->scan_n) {
            memcpy(ids[count++], st->scan_ids[st->scan_pos++], CW_ID_MAX + 1);
            continue;
        }
        if (st->scan_redis_done)
            break;
        if (scan_fetch(st, max - count, err, errsize) < 0)
            return -1;
    }
    *cursor = (st->scan_pos == st->scan_n && st->scan_redis_done) ? 0 : st->scan_token;
    if (count > INT32_MAX) {
        snprintf(err, errsize, "store: scan page too large");
        return -1;
    }
    return (int)count;
}

int cw_store_lowest_scores(cw_store *st, size_t max, char (*ids)[CW_ID_MAX + 1], double *scores,
                           char *err, size_t errsize)
{
    if (max == 0)
        return 0;
    if (max > INT32_MAX) {
        snprintf(err, errsize, "store: too many scores asked for");
        return -1;
    }
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZRANGE");
    add_global_key(st, c, "scores");
    cw_rcmd_adds(c, "0");
    cw_rcmd_addll(c, (long long)max - 1);
    cw_rcmd_adds(c, "WITHSCORES");
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
        goto bad;
    size_t count = 0;
    for (size_t i = 0; i + 1 < r->elements && count < max; i += 2) {
        const redisReply *m = r->element[i], *s = r->element[i + 1];
        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
            goto bad;
        if (m->len == 0 || m->len > CW_ID_MAX || memchr(m->str, '\0', m->len))
            continue;
        char *end;
        double v = strtod(s->str, &end);
        if (end == s->str || *end)
            goto bad;
        memcpy(ids[count], m->str, m->len + 1);
        scores[count] = v;
        count++;
    }
    freeReplyObject(r);
    return (int)count;
bad:
    snprintf(err, errsize, "redis %s: ZRANGE %sscores: unexpected reply", st->name, st->prefix);
    freeReplyObject(r);
    return -1;
}

/* ---- silences ----------------------------------------------------------------------- */

/* Run st->cmd expecting an integer reply. */
static int command_int(cw_store *st, long long *out, char *err, size_t errsize)
{
    char what[STORE_KEY_MAX + 64];
    describe(&st->cmd, what, sizeof what);
    redisReply *r = command(st, err, errsize);
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

int cw_store_count_accounts(cw_store *st, long long *accounts, long long *scored, char *err,
                            size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    const char *keys[2] = {"accounts", "scores"};
    long long *outs[2] = {accounts, scored};
    for (int i = 0; i < 2; i++) {
        cw_rcmd_reset(&st->cmd);
        cw_rcmd_adds(&st->cmd, "ZCARD");
        add_global_key(st, &st->cmd, keys[i]);
        if (command_int(st, outs[i], err, errsize) != 0)
            return -1;
    }
    return 0;
}

int cw_store_silence_set(cw_store *st, const struct cw_silence *s, char *err, size_t errsize)
{
    if (!s->account_id[0] || strcmp(s->rule, "*") == 0) {
        snprintf(err, errsize, "store: a silence needs an account id and a rule name or \"\"");
        return -1;
    }
    if (ensure(st, err, errsize) < 0)
        return -1;
    char value[64 + sizeof s->reason];
    cw_silence_value_encode(s, value, sizeof value);
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_silence_set");
    cw_rcmd_adds(c, "1");
    add_account_key(st, c, s->account_id, "x");
    cw_rcmd_adds(c, s->rule[0] ? s->rule : "*");
    cw_rcmd_adds(c, value);
    if (command_int(st, NULL, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SADD");
    add_global_key(st, c, "silences");
    cw_rcmd_adds(c, s->account_id);
    return command_int(st, NULL, err, errsize);
}

int cw_store_outbox_ack(cw_store *st, const char *account_id, const char *key, char *err,
                        size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "HDEL");
    add_account_key(st, c, account_id, "o");
    cw_rcmd_adds(c, key);
    return command_int(st, NULL, err, errsize);
}

int cw_store_silence_delete(cw_store *st, const char *account_id, const char *rule, char *err,
                            size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    if (rule && *rule) {
        cw_rcmd_adds(c, "HDEL");
        add_account_key(st, c, account_id, "x");
        cw_rcmd_adds(c, rule);
    } else {
        cw_rcmd_adds(c, "DEL");
        add_account_key(st, c, account_id, "x");
    }
    if (command_int(st, NULL, err, errsize) < 0)
        return -1;
    /* The global set lists accounts that may have silences; drop one that has none. */
    long long left = 0;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "HLEN");
    add_account_key(st, c, account_id, "x");
    if (command_int(st, &left, err, errsize) < 0)
        return -1;
    if (left > 0)
        return 0;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SREM");
    add_global_key(st, c, "silences");
    cw_rcmd_adds(c, account_id);
    return command_int(st, NULL, err, errsize);
}

struct silence_ctx {
    const redisReply *members;
    int64_t now_ms;
    struct cw_silence *out;
    size_t n, cap;
    size_t *gone; /* members whose silences all expired */
    size_t n_gone;
};

static int silence_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct silence_ctx *s = vctx;
    cw_rcmd_adds(c, "HGETALL");
    add_account_key(st, c, s->members->element[i]->str, "x");
    return c->oom ? -1 : 0;
}

static int silence_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                         size_t errsize)
{
    (void)st;
    struct silence_ctx *s = vctx;
    const redisReply *m = s->members->element[i];
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (r->elements == 0)
        s->gone[s->n_gone++] = i;
    for (size_t k = 0; k < r->elements; k += 2) {
        const redisReply *f = r->element[k], *v = r->element[k + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "unexpected element type");
            return -1;
        }
        struct cw_silence one;
        memset(&one, 0, sizeof one);
        if (f->len >= sizeof one.rule || m->len > CW_ID_MAX ||
            cw_silence_value_decode(v->str, v->len, &one) < 0 || one.until_ms <= s->now_ms)
            continue;
        memcpy(one.account_id, m->str, m->len + 1);
        if (strcmp(f->str, "*") != 0)
            memcpy(one.rule, f->str, f->len + 1);
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            struct cw_silence *o = realloc(s->out, cap * sizeof *o);
            if (!o) {
                snprintf(err, errsize, "out of memory");
                return -1;
            }
            s->out = o;
            s->cap = cap;
        }
        s->out[s->n++] = one;
    }
    return 0;
}

int cw_store_silence_list(cw_store *st, int64_t now_ms, struct cw_silence **out, size_t *n,
                          char *err, size_t errsize)
{
    *out = NULL;
    *n = 0;
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SMEMBERS");
    add_global_key(st, c, "silences");
    redisReply *members = command(st, err, errsize);
    if (!members)
        return -1;
    struct silence_ctx s = {.members = members, .now_ms = now_ms};
    int rc = -1;
    if (members->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errsize, "redis %s: SMEMBERS %ssilences: unexpected reply", st->name,
                 st->prefix);
        goto done;
    }
    for (size_t i = 0; i < members->elements; i++)
        if (members->element[i]->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "redis %s: SMEMBERS %ssilences: unexpected element", st->name,
                     st->prefix);
            goto done;
        }
    s.gone = malloc((members->elements ? members->elements : 1) * sizeof *s.gone);
    if (!s.gone) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    struct ops o = {
        .n = members->elements, .ctx = &s, .build = silence_build, .reply = silence_reply};
    if (ops_run(st, &o, err, errsize) < 0)
        goto done;
    if (s.n_gone > 0) {
        /* Forget accounts whose silences have all expired. */
        cw_rcmd_reset(c);
        cw_rcmd_adds(c, "SREM");
        add_global_key(st, c, "silences");
        for (size_t i = 0; i < s.n_gone; i++)
            cw_rcmd_add(c, members->element[s.gone[i]]->str, members->element[s.gone[i]]->len);
        if (command_int(st, NULL, err, errsize) < 0)
            goto done;
    }
    *out = s.out;
    *n = s.n;
    s.out = NULL;
    rc = 0;
done:
    free(s.out);
    free(s.gone);
    freeReplyObject(members);
    return rc;
}

/* ---- rescore ------------------------------------------------------------------------ */

int cw_store_rescore_request(cw_store *st, int64_t now_ms, char *err, size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    static unsigned seq;
    cw_rcmd_adds(c, "SET");
    add_global_key(st, c, "rescore");
    /* unique per request: two requests in one millisecond are two */
    cw_rcmd_addf(c, "%lld-%ld-%u", (long long)now_ms, (long)getpid(), ++seq);
    cw_rcmd_adds(c, "PX");
    cw_rcmd_adds(c, "3600000");
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_STATUS) {
        snprintf(err, errsize, "redis %s: SET %srescore: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_rescore_take(cw_store *st, char *err, size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "GET");
    add_global_key(st, c, "rescore");
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    int rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = 0;
    } else if (r->type == REDIS_REPLY_STRING) {
        rc = strcmp(r->str, st->rescore_seen) != 0;
        snprintf(st->rescore_seen, sizeof st->rescore_seen, "%s", r->str);
    } else {
        snprintf(err, errsize, "redis %s: GET %srescore: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    if (rc < 0)
        return rc;
    /* the poll is the daemon's heartbeat: `churnwatch rescore` looks for it */
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SET");
    add_global_key(st, c, "alive");
    cw_rcmd_adds(c, "1");
    cw_rcmd_adds(c, "PX");
    cw_rcmd_addll(c, CW_STORE_ALIVE_TTL_MS);
    if (!(r = command(st, err, errsize)))
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        snprintf(err, errsize, "redis %s: SET %salive: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_daemon_alive(cw_store *st, char *err, size_t errsize)
{
    if (ensure(st, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "EXISTS");
    add_global_key(st, &st->cmd, "alive");
    long long n = 0;
    if (command_int(st, &n, err, errsize) != 0)
        return -1;
    return n > 0;
}

/* ---- event-time floors ---------------------------------------------------------------- */

static int add_floor_member(struct cw_rcmd *c, const struct cw_store_floor *f)
{
    return cw_rcmd_addf(c, "%s:%" PRId32, f->topic, f->partition);
}

int cw_store_floors_save(cw_store *st, const struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize)
{
    size_t known = 0;
    for (size_t i = 0; i < n; i++)
        known += f[i].ms >= 0;
    if (known == 0)
        return 0;
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZADD");
    add_global_key(st, c, "floors");
    cw_rcmd_adds(c, "GT");
    for (size_t i = 0; i < n; i++) {
        if (f[i].ms < 0)
            continue;
        cw_rcmd_addll(c, f[i].ms);
        add_floor_member(c, &f[i]);
    }
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "redis %s: ZADD %sfloors: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_floors_load(cw_store *st, struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize)
{
    if (n == 0)
        return 0;
    if (ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZMSCORE");
    add_global_key(st, c, "floors");
    for (size_t i = 0; i < n; i++)
        add_floor_member(c, &f[i]);
    redisReply *r = command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        snprintf(err, errsize, "redis %s: ZMSCORE %sfloors: unexpected reply", st->name,
                 st->prefix);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const redisReply *e = r->element[i];
        char *end = NULL;
        double ms = e->type == REDIS_REPLY_STRING ? strtod(e->str, &end) : -1;
        if (e->type == REDIS_REPLY_NIL) {
            f[i].ms = -1;
        } else if (e->type == REDIS_REPLY_STRING && end != e->str && *end == '\0' && ms >= 0 &&
                   ms < 9e15) {
            f[i].ms = (int64_t)ms;
        } else {
            snprintf(err, errsize, "redis %s: ZMSCORE %sfloors: not a time for %s:%" PRId32,
                     st->name, st->prefix, f[i].topic, f[i].partition);
            rc = -1;
        }
    }
    freeReplyObject(r);
    return rc;
}
