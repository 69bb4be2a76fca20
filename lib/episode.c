/* episode.c - the stored form of a recent resolved episode (`:ep:` fields of `:r`) and the
 * newest-first list capped at CW_EPISODES_KEPT that the loaders keep. */
#include "churnwatch/episode.h"

#include <stdio.h>
#include <string.h>

static const char sev_letter[] = {
    [CW_SEV_INFO] = 'i', [CW_SEV_WARNING] = 'w', [CW_SEV_CRITICAL] = 'c'};

static bool rule_ok(const char *s, size_t len)
{
    return len > 0 && len <= CW_EPISODE_RULE_MAX && !memchr(s, '|', len) && !memchr(s, '\0', len);
}

int cw_episode_encode(const struct cw_episode *e, char *field, size_t fsize, char *value,
                      size_t vsize)
{
    if (!cw_hex_id_ok(e->alert_id, strlen(e->alert_id)) || !rule_ok(e->rule, strlen(e->rule)) ||
        e->resolved_ms < e->started_ms || (unsigned)e->severity >= sizeof sev_letter)
        return -1;
    int fn = snprintf(field, fsize, CW_EPISODE_PREFIX "%s", e->alert_id);
    int vn = snprintf(value, vsize, "%lld|%lld|%c|%s", (long long)e->started_ms,
                      (long long)e->resolved_ms, sev_letter[e->severity], e->rule);
    return fn < 0 || (size_t)fn >= fsize || vn < 0 || (size_t)vn >= vsize ? -1 : 0;
}

/* A decimal int64 of s[*pos..] up to '|' (consumed): 0, or -1. */
static int take_i64(const char *s, size_t len, size_t *pos, int64_t *out)
{
    size_t i = *pos;
    bool neg = i < len && s[i] == '-';
    if (neg)
        i++;
    size_t start = i;
    uint64_t v = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (i - start >= 18)
            return -1; /* epoch milliseconds have 13 digits: 18 is past any real instant */
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == start || i >= len || s[i] != '|')
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    *pos = i + 1;
    return 0;
}

int cw_episode_decode(const char *field, size_t flen, const char *value, size_t vlen,
                      struct cw_episode *out)
{
    size_t plen = sizeof CW_EPISODE_PREFIX - 1;
    if (flen < plen || memcmp(field, CW_EPISODE_PREFIX, plen) != 0 ||
        !cw_hex_id_ok(field + plen, flen - plen))
        return -1;
    size_t pos = 0;
    if (take_i64(value, vlen, &pos, &out->started_ms) < 0 ||
        take_i64(value, vlen, &pos, &out->resolved_ms) < 0 || out->resolved_ms < out->started_ms)
        return -1;
    if (vlen - pos < 2 || value[pos + 1] != '|')
        return -1;
    const char *sev = memchr(sev_letter, value[pos], sizeof sev_letter);
    if (!sev)
        return -1;
    out->severity = (enum cw_severity)(sev - sev_letter);
    pos += 2;
    if (!rule_ok(value + pos, vlen - pos))
        return -1;
    memcpy(out->rule, value + pos, vlen - pos);
    out->rule[vlen - pos] = '\0';
    memcpy(out->alert_id, field + plen, CW_ALERT_ID_LEN);
    out->alert_id[CW_ALERT_ID_LEN] = '\0';
    return 0;
}

/* a resolved after b (newer), ties by alert id: > 0 when a goes after b in the list. */
static int older(const struct cw_episode *a, const struct cw_episode *b)
{
    if (a->resolved_ms != b->resolved_ms)
        return a->resolved_ms < b->resolved_ms ? 1 : -1;
    return strcmp(a->alert_id, b->alert_id);
}

size_t cw_episodes_keep(struct cw_episode *list, size_t n, size_t cap, const struct cw_episode *e)
{
    size_t at = 0;
    while (at < n && older(e, &list[at]) > 0)
        at++;
    if (at >= cap)
        return n;                        /* older than every one of a full list */
    size_t keep = n < cap ? n : cap - 1; /* the entries that stay, e excluded */
    if (keep > at)
        memmove(&list[at + 1], &list[at], (keep - at) * sizeof *list);
    list[at] = *e;
    return keep + 1;
}
