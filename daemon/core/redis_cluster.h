/* redis_cluster.h - the Redis nodes a store talks to: one, or a Redis Cluster's masters by slot */
#ifndef CHURNWATCH_REDIS_CLUSTER_H
#define CHURNWATCH_REDIS_CLUSTER_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/cluster.h"
#include "redis_cmd.h"
#include "redis_conn.h"

/* One node: its address and its connection (NULL while disconnected). */
struct cw_rnode {
    char host[256];
    int port;
    char name[300];             /* "host:port" for messages */
    struct cw_redis_conn *conn; /* plain or TLS, as the target says */
    bool master;                /* owns slots in the current map */
};

/*
 * A single Redis (every slot is node 0's) or a Redis Cluster: the slot map read with
 * CLUSTER SLOTS, one connection per master (pipelined by the caller), MOVED updating the
 * map at once and scheduling a full refresh, ASK answered with a one-shot ASKING.
 */
struct cw_rcluster {
    const struct cw_redis_target *target; /* credentials and seeds: not owned */
    bool cluster;
    bool stale; /* refresh the map before the next operation */
    int timeout_ms;
    struct cw_rnode *nodes;
    size_t n_nodes, cap_nodes;
    int16_t owner[CW_CLUSTER_SLOTS]; /* node index, -1 unknown */
};

/* Set c up for target t (kept by reference). 0, or -1 when out of memory. */
int cw_rcluster_init(struct cw_rcluster *c, const struct cw_redis_target *t, int timeout_ms);
void cw_rcluster_free(struct cw_rcluster *c);

/*
 * Read the slot map (cluster: CLUSTER SLOTS from a connected node, else the seeds, else
 * any node known; single: nothing to read). Returns 0, or -1 with err.
 */
int cw_rcluster_refresh(struct cw_rcluster *c, char *err, size_t errsize);

/* The index of the node at host:port, added (disconnected) when new; -1 out of memory. */
int cw_rcluster_node_at(struct cw_rcluster *c, const char *host, int port);

/*
 * The node command cmd goes to: the owner of its first key's slot, or (keyless) the
 * first master. -1 when the map has no owner for the slot (err filled).
 */
int cw_rcluster_route(struct cw_rcluster *c, const struct cw_rcmd *cmd, int *slot, char *err,
                      size_t errsize);

/*
 * Connect node i when it is not (fresh set to whether it was), with TLS when the target
 * has it (a node named by CLUSTER SLOTS or a redirection too). Returns its connection, or
 * NULL with err (the map is then marked stale: a failover may have moved its slots).
 */
struct cw_redis_conn *cw_rcluster_connect(struct cw_rcluster *c, size_t i, bool *fresh, char *err,
                                          size_t errsize);

/* Close node i's connection (after an I/O error; unread replies are lost). */
void cw_rcluster_drop(struct cw_rcluster *c, size_t i);
void cw_rcluster_drop_all(struct cw_rcluster *c);

/*
 * Classify an error reply. MOVED: the slot's owner is updated to the named node and a
 * refresh scheduled, *node set to it. ASK: *node set to the named node (the map is
 * unchanged). TRYAGAIN / CLUSTERDOWN: *node unchanged, retry later. Returns the kind:
 * 'M', 'A', 'T' (try again), or 0 (an ordinary error), -1 out of memory.
 */
int cw_rcluster_redirect(struct cw_rcluster *c, const redisReply *r, int *node);

#endif /* CHURNWATCH_REDIS_CLUSTER_H */
