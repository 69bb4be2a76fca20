/* redis_cluster.c - node set, CLUSTER SLOTS map, routing and redirections of a store's Redis */
#include "redis_cluster.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cw_rcluster_init(struct cw_rcluster *c, const struct cw_redis_target *t, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->target = t;
    c->cluster = t->cluster;
    c->timeout_ms = timeout_ms;
    for (int s = 0; s < CW_CLUSTER_SLOTS; s++)
        c->owner[s] = -1;
    if (!c->cluster) {
        /* One node owns everything; its name is the target's (a unix path, a database). */
        if (cw_rcluster_node_at(c, t->unix_socket ? "" : t->host, t->port) < 0)
            return -1;
        cw_redis_target_name(t, c->nodes[0].name, sizeof c->nodes[0].name);
        c->nodes[0].master = true;
        memset(c->owner, 0, sizeof c->owner);
        return 0;
    }
    for (int i = 0; i < t->n_seeds; i++)
        if (cw_rcluster_node_at(c, t->seeds[i].host, t->seeds[i].port) < 0)
            return -1;
    c->stale = true;
    return 0;
}

void cw_rcluster_drop(struct cw_rcluster *c, size_t i)
{
    cw_redis_close(c->nodes[i].conn);
    c->nodes[i].conn = NULL;
    if (c->cluster)
        c->stale = true;
}

void cw_rcluster_drop_all(struct cw_rcluster *c)
{
    for (size_t i = 0; i < c->n_nodes; i++)
        cw_rcluster_drop(c, i);
}

void cw_rcluster_free(struct cw_rcluster *c)
{
    if (!c->nodes)
        return;
    cw_rcluster_drop_all(c);
    free(c->nodes);
    c->nodes = NULL;
    c->n_nodes = 0;
}

int cw_rcluster_node_at(struct cw_rcluster *c, const char *host, int port)
{
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].port == port && strcmp(c->nodes[i].host, host) == 0)
            return (int)i;
    if (c->n_nodes == c->cap_nodes) {
        size_t cap = c->cap_nodes ? c->cap_nodes * 2 : 8;
        struct cw_rnode *n = realloc(c->nodes, cap * sizeof *n);
        if (!n)
            return -1;
        c->nodes = n;
        c->cap_nodes = cap;
    }
    struct cw_rnode *n = &c->nodes[c->n_nodes];
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    snprintf(n->name, sizeof n->name, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return (int)c->n_nodes++;
}

struct cw_redis_conn *cw_rcluster_connect(struct cw_rcluster *c, size_t i, bool *fresh, char *err,
                                          size_t errsize)
{
    struct cw_rnode *n = &c->nodes[i];
    if (fresh)
        *fresh = false;
    if (n->conn && n->conn->ctx->err)
        cw_rcluster_drop(c, i);
    if (n->conn)
        return n->conn;
    if (!c->cluster) {
        n->conn = cw_redis_connect(c->target, c->timeout_ms, err, errsize);
    } else {
        /* The credentials are the URL's, the address the node's. */
        struct cw_redis_target *t = malloc(sizeof *t);
        if (!t) {
            snprintf(err, errsize, "redis %s: out of memory", n->name);
            return NULL;
        }
        memcpy(t, c->target, sizeof *t);
        snprintf(t->host, sizeof t->host, "%s", n->host);
        t->port = n->port;
        t->db = 0;
        n->conn = cw_redis_connect(t, c->timeout_ms, err, errsize);
        cw_redis_target_wipe(t);
        free(t);
    }
    if (!n->conn) {
        if (c->cluster)
            c->stale = true;
        return NULL;
    }
    if (fresh)
        *fresh = true;
    return n->conn;
}

/* Install the map of CLUSTER SLOTS reply r, asked of node `asked`. 0, or -1 with err. */
static int slots_reply(struct cw_rcluster *c, size_t asked, const redisReply *r, char *err,
                       size_t errsize)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        snprintf(err, errsize, "redis %s: CLUSTER SLOTS: %s", c->nodes[asked].name,
                 r->type == REDIS_REPLY_ERROR ? r->str : "no slots (is the cluster created?)");
        return -1;
    }
    struct cw_slot_range *ranges = calloc(r->elements, sizeof *ranges);
    struct cw_slot_map *map = malloc(sizeof *map);
    int *idx = calloc(r->elements, sizeof *idx);
    int rc = -1;
    char self[256]; /* the asked node's host: c->nodes moves when a node is added */
    snprintf(self, sizeof self, "%s", c->nodes[asked].host);
    if (!ranges || !map || !idx) {
        snprintf(err, errsize, "redis %s: out of memory", c->nodes[asked].name);
        goto done;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            snprintf(err, errsize, "redis %s: CLUSTER SLOTS: unexpected reply",
                     c->nodes[asked].name);
            goto done;
        }
        const redisReply *m = e->element[2];
        ranges[i].start = (int)e->element[0]->integer;
        ranges[i].end = (int)e->element[1]->integer;
        /* An empty or "?" host is the node's own (no announced address). */
        ranges[i].host = (m->element[0]->len == 0 || strcmp(m->element[0]->str, "?") == 0)
                             ? self
                             : m->element[0]->str;
        ranges[i].port = m->element[1]->integer > 0 && m->element[1]->integer < 65536
                             ? (int)m->element[1]->integer
                             : 0;
    }
    char why[160];
    if (cw_slot_map_build(map, ranges, r->elements, why, sizeof why) < 0) {
        snprintf(err, errsize, "redis %s: CLUSTER SLOTS: %s", c->nodes[asked].name, why);
        goto done;
    }
    for (size_t k = 0; k < map->n_masters; k++) {
        const struct cw_slot_range *mr = &ranges[map->masters[k]];
        idx[k] = cw_rcluster_node_at(c, mr->host, mr->port);
        if (idx[k] < 0) {
            snprintf(err, errsize, "redis %s: out of memory", c->nodes[asked].name);
            goto done;
        }
    }
    for (size_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].master = false;
    for (size_t k = 0; k < map->n_masters; k++)
        c->nodes[idx[k]].master = true;
    for (int s = 0; s < CW_CLUSTER_SLOTS; s++)
        c->owner[s] = map->owner[s] < 0 ? -1 : (int16_t)idx[map->owner[s]];
    rc = 0;
done:
    free(ranges);
    free(map);
    free(idx);
    return rc;
}

/* Ask node i for the map. 0, -1 with err. */
static int refresh_from(struct cw_rcluster *c, size_t i, char *err, size_t errsize)
{
    struct cw_redis_conn *conn = cw_rcluster_connect(c, i, NULL, err, errsize);
    if (!conn)
        return -1;
    const char *argv[2] = {"CLUSTER", "SLOTS"};
    redisReply *r = cw_redis_command_argv(conn, 2, argv, NULL);
    if (!r) {
        snprintf(err, errsize, "redis %s: CLUSTER SLOTS: %s", c->nodes[i].name,
                 conn->ctx->errstr[0] ? conn->ctx->errstr : "no reply");
        cw_rcluster_drop(c, i);
        return -1;
    }
    int rc = slots_reply(c, i, r, err, errsize);
    freeReplyObject(r);
    return rc;
}

int cw_rcluster_refresh(struct cw_rcluster *c, char *err, size_t errsize)
{
    if (!c->cluster) {
        c->stale = false;
        return 0;
    }
    /* Connected nodes first (no new connection), then the seeds and the rest in order. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->n_nodes; i++) {
            bool connected = c->nodes[i].conn && !c->nodes[i].conn->ctx->err;
            if ((pass == 0) != connected)
                continue;
            if (refresh_from(c, i, err, errsize) == 0) {
                c->stale = false;
                return 0;
            }
        }
    return -1;
}

int cw_rcluster_route(struct cw_rcluster *c, const struct cw_rcmd *cmd, int *slot, char *err,
                      size_t errsize)
{
    *slot = -1;
    if (!c->cluster)
        return 0;
    const char *argv[4];
    size_t argc = cmd->n < 4 ? cmd->n : 4;
    for (size_t i = 0; i < argc; i++)
        argv[i] = cw_rcmd_arg(cmd, i);
    int k = cw_command_key_index(argv, argc);
    if (k < 0) {
        for (size_t i = 0; i < c->n_nodes; i++)
            if (c->nodes[i].master)
                return (int)i;
        snprintf(err, errsize, "redis cluster: no master known");
        return -1;
    }
    *slot = cw_key_slot(cw_rcmd_arg(cmd, (size_t)k), cmd->lens[k]);
    if (c->owner[*slot] < 0) {
        snprintf(err, errsize, "redis cluster: no master serves slot %d", *slot);
        c->stale = true;
        return -1;
    }
    return c->owner[*slot];
}

int cw_rcluster_redirect(struct cw_rcluster *c, const redisReply *r, int *node)
{
    if (!c->cluster || r->type != REDIS_REPLY_ERROR || !r->str)
        return 0;
    if (strncmp(r->str, "TRYAGAIN", 8) == 0) {
        cw_log_debug("redis redirected", "kind=tryagain from=%s", c->nodes[*node].name);
        return 'T';
    }
    if (strncmp(r->str, "CLUSTERDOWN", 11) == 0) {
        c->stale = true;
        return 'T';
    }
    struct cw_redirect rd;
    enum cw_redirect_kind k = cw_redirect_parse(r->str, r->len, &rd);
    if (k == CW_REDIRECT_NONE)
        return 0;
    int n = cw_rcluster_node_at(c, rd.host[0] ? rd.host : c->nodes[*node].host, rd.port);
    if (n < 0)
        return -1;
    cw_log_debug("redis redirected", "kind=%s slot=%d from=%s to=%s",
                 k == CW_REDIRECT_ASK ? "ask" : "moved", rd.slot, c->nodes[*node].name,
                 c->nodes[n].name);
    *node = n;
    if (k == CW_REDIRECT_ASK)
        return 'A';
    c->owner[rd.slot] = (int16_t)n;
    c->nodes[n].master = true;
    c->stale = true;
    return 'M';
}
