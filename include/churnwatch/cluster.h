/* cluster.h - Redis Cluster's pure parts: key slots, redirections, slot maps */
#ifndef CHURNWATCH_CLUSTER_H
#define CHURNWATCH_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#define CW_CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the checksum Redis Cluster uses. */
uint16_t cw_crc16(const void *data, size_t len);

/*
 * The slot of key[0..len): CRC16 of the hash tag (the bytes between the first '{' and the
 * next '}' when there is at least one byte between them), else of the whole key, mod 16384.
 */
int cw_key_slot(const char *key, size_t len);

enum cw_redirect_kind { CW_REDIRECT_NONE, CW_REDIRECT_MOVED, CW_REDIRECT_ASK };

/* A -MOVED or -ASK error: "MOVED <slot> <host>:<port>" (host may be empty: the same host). */
struct cw_redirect {
    enum cw_redirect_kind kind;
    int slot;
    char host[256];
    int port;
};

/*
 * Parse an error reply's text. Returns CW_REDIRECT_MOVED or CW_REDIRECT_ASK with r filled,
 * or CW_REDIRECT_NONE (another error, or a malformed redirection).
 */
enum cw_redirect_kind cw_redirect_parse(const char *msg, size_t len, struct cw_redirect *r);

/* One range of CLUSTER SLOTS: slots [start, end] served by the master at host:port. */
struct cw_slot_range {
    int start, end;
    const char *host;
    int port;
};

/*
 * A slot map: owner[slot] is an index into the distinct masters (-1: no owner).
 * masters[i] is the index in ranges of the first range of master i.
 */
struct cw_slot_map {
    int16_t owner[CW_CLUSTER_SLOTS];
    size_t n_masters;
    size_t masters[CW_CLUSTER_SLOTS];
};

/*
 * Build m from ranges (already decoded). Ranges must be inside [0, 16383], start <= end,
 * not overlap, and name a host and a port in [1, 65535]. Slots no range covers have no
 * owner. Returns 0, or -1 with err filled.
 */
int cw_slot_map_build(struct cw_slot_map *m, const struct cw_slot_range *ranges, size_t n,
                      char *err, size_t errsize);

/*
 * Which argument of a command is its first key (the one it is routed by): 3 for FCALL,
 * FCALL_RO, EVAL and EVALSHA with at least one key, -1 for those with none and for keyless
 * commands (PING, FUNCTION, CLUSTER, ASKING, INFO, SCAN, ...), else 1 when there is one.
 * argv[i] are NUL-terminated.
 */
int cw_command_key_index(const char *const *argv, size_t argc);

/* The share of slots [first, last] of instance `index` of `count` equal shares. */
void cw_slot_share(int index, int count, int *first, int *last);

#endif /* CHURNWATCH_CLUSTER_H */
