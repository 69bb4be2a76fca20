/* cluster.c - Redis Cluster's pure parts: CRC16 key slots, MOVED/ASK parsing, slot maps */
#include "churnwatch/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint16_t cw_crc16(const void *data, size_t len)
{
    const unsigned char *p = data;
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) & 0xFFFFu : (crc << 1) & 0xFFFFu;
    }
    return (uint16_t)crc;
}

int cw_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return cw_crc16(open + 1, (size_t)(close - open - 1)) & (CW_CLUSTER_SLOTS - 1);
    }
    return cw_crc16(key, len) & (CW_CLUSTER_SLOTS - 1);
}

/* Parse a decimal in [min, max] from s[0..len). */
static int dec(const char *s, size_t len, int min, int max, int *out)
{
    if (len == 0 || len > 6)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum cw_redirect_kind cw_redirect_parse(const char *msg, size_t len, struct cw_redirect *r)
{
    memset(r, 0, sizeof *r);
    enum cw_redirect_kind kind;
    size_t skip;
    if (len > 6 && memcmp(msg, "MOVED ", 6) == 0) {
        kind = CW_REDIRECT_MOVED;
        skip = 6;
    } else if (len > 4 && memcmp(msg, "ASK ", 4) == 0) {
        kind = CW_REDIRECT_ASK;
        skip = 4;
    } else {
        return CW_REDIRECT_NONE;
    }
    const char *p = msg + skip, *end = msg + len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || dec(p, (size_t)(sp - p), 0, CW_CLUSTER_SLOTS - 1, &r->slot) < 0)
        return CW_REDIRECT_NONE;
    const char *addr = sp + 1;
    const char *colon = NULL; /* the last ':' separates the port (the host may be IPv6) */
    for (const char *q = addr; q < end; q++)
        if (*q == ':')
            colon = q;
    if (!colon || (size_t)(colon - addr) >= sizeof r->host ||
        dec(colon + 1, (size_t)(end - colon - 1), 1, 65535, &r->port) < 0)
        return CW_REDIRECT_NONE;
    memcpy(r->host, addr, (size_t)(colon - addr));
    r->host[colon - addr] = '\0';
    if (memchr(r->host, ' ', strlen(r->host)))
        return CW_REDIRECT_NONE;
    r->kind = kind;
    return kind;
}

int cw_slot_map_build(struct cw_slot_map *m, const struct cw_slot_range *ranges, size_t n,
                      char *err, size_t errsize)
{
    for (int s = 0; s < CW_CLUSTER_SLOTS; s++)
        m->owner[s] = -1;
    m->n_masters = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cw_slot_range *r = &ranges[i];
        if (r->start < 0 || r->end >= CW_CLUSTER_SLOTS || r->start > r->end) {
            snprintf(err, errsize, "slot range %d-%d is outside 0-16383", r->start, r->end);
            return -1;
        }
        if (!r->host || !*r->host || r->port < 1 || r->port > 65535) {
            snprintf(err, errsize, "slot range %d-%d has no usable master address", r->start,
                     r->end);
            return -1;
        }
        size_t k;
        for (k = 0; k < m->n_masters; k++) {
            const struct cw_slot_range *o = &ranges[m->masters[k]];
            if (o->port == r->port && strcmp(o->host, r->host) == 0)
                break;
        }
        if (k == m->n_masters)
            m->masters[m->n_masters++] = i;
        for (int s = r->start; s <= r->end; s++) {
            if (m->owner[s] >= 0) {
                snprintf(err, errsize, "slot %d is in two ranges", s);
                return -1;
            }
            m->owner[s] = (int16_t)k;
        }
    }
    return 0;
}

int cw_command_key_index(const char *const *argv, size_t argc)
{
    if (argc == 0)
        return -1;
    static const char *const scripted[] = {"FCALL", "FCALL_RO", "EVAL", "EVALSHA"};
    for (size_t i = 0; i < sizeof scripted / sizeof scripted[0]; i++)
        if (strcasecmp(argv[0], scripted[i]) == 0) {
            if (argc < 4)
                return -1;
            char *end;
            long n = strtol(argv[2], &end, 10);
            return (*argv[2] && !*end && n > 0) ? 3 : -1;
        }
    static const char *const keyless[] = {"PING",     "FUNCTION", "CLUSTER", "ASKING", "INFO",
                                          "SCAN",     "AUTH",     "SELECT",  "HELLO",  "DBSIZE",
                                          "FLUSHALL", "READONLY", "COMMAND"};
    for (size_t i = 0; i < sizeof keyless / sizeof keyless[0]; i++)
        if (strcasecmp(argv[0], keyless[i]) == 0)
            return -1;
    return argc > 1 ? 1 : -1;
}

void cw_slot_share(int index, int count, int *first, int *last)
{
    if (count < 1)
        count = 1;
    *first = (int)((long)CW_CLUSTER_SLOTS * index / count);
    *last = (int)((long)CW_CLUSTER_SLOTS * (index + 1) / count) - 1;
}
