/* store_codec.c - stored encodings of rule states, silences and packed day counters; the
 * day spans the store keeps and loads */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

int cw_parse_i64(const char *v, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && v[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len || len - i > 19)
        return -1;
    uint64_t acc = 0;
    for (; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        acc = acc * 10 + (uint64_t)(v[i] - '0');
    }
    if (acc > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)acc : (int64_t)acc;
    return 0;
}

int cw_parse_i32(const char *v, size_t len, int32_t *out)
{
    int64_t x;
    if (cw_parse_i64(v, len, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
        return -1;
    *out = (int32_t)x;
    return 0;
}

/* Parse an int64 field of `in` ending at '|'; advances *p past the '|'. */
static int field_i64(const char **p, int64_t *out)
{
    const char *bar = strchr(*p, '|');
    if (!bar || cw_parse_i64(*p, (size_t)(bar - *p), out) < 0)
        return -1;
    *p = bar + 1;
    return 0;
}

void cw_rule_state_encode(const struct cw_rule_state *s, char *out, size_t size)
{
    char st = s->status == CW_RULE_FIRING ? 'F' : s->status == CW_RULE_PENDING ? 'P' : 'O';
    snprintf(out, size, "%c|%" PRId64 "|%" PRId64 "|%" PRId64 "|%d|%s", st, s->since_ms,
             s->cleared_ms, s->last_sent_ms, s->published ? 1 : 0, s->alert_id);
}

int cw_rule_state_decode(const char *in, struct cw_rule_state *s)
{
    struct cw_rule_state t;
    memset(&t, 0, sizeof t);
    if (!in)
        return -1;
    switch (in[0]) {
    case 'O':
        t.status = CW_RULE_OK;
        break;
    case 'P':
        t.status = CW_RULE_PENDING;
        break;
    case 'F':
        t.status = CW_RULE_FIRING;
        break;
    default:
        return -1;
    }
    if (in[1] != '|')
        return -1;
    const char *p = in + 2;
    if (field_i64(&p, &t.since_ms) < 0 || field_i64(&p, &t.cleared_ms) < 0 ||
        field_i64(&p, &t.last_sent_ms) < 0)
        return -1;
    if ((p[0] != '0' && p[0] != '1') || p[1] != '|')
        return -1;
    t.published = p[0] == '1';
    p += 2;
    size_t n = strlen(p);
    if (n > CW_ALERT_ID_LEN)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return -1;
    memcpy(t.alert_id, p, n + 1);
    *s = t;
    return 0;
}

void cw_silence_value_encode(const struct cw_silence *s, char *out, size_t size)
{
    snprintf(out, size, "%" PRId64 "|%" PRId64 "|%s", s->until_ms, s->created_ms, s->reason);
}

int cw_silence_value_decode(const char *v, size_t len, struct cw_silence *s)
{
    const char *b1 = memchr(v, '|', len);
    if (!b1)
        return -1;
    const char *b2 = memchr(b1 + 1, '|', len - (size_t)(b1 + 1 - v));
    if (!b2)
        return -1;
    int64_t until, created;
    if (cw_parse_i64(v, (size_t)(b1 - v), &until) < 0 ||
        cw_parse_i64(b1 + 1, (size_t)(b2 - b1 - 1), &created) < 0)
        return -1;
    size_t rlen = len - (size_t)(b2 + 1 - v);
    if (rlen >= sizeof s->reason)
        rlen = sizeof s->reason - 1;
    s->until_ms = until;
    s->created_ms = created;
    memcpy(s->reason, b2 + 1, rlen);
    s->reason[rlen] = '\0';
    return 0;
}

int cw_value_field_format(char *out, size_t size, int32_t day, int slot)
{
    return snprintf(out, size, "%" PRId32 ":%d", day, slot);
}

int cw_value_field_parse(const char *f, size_t len, int32_t *day, int *slot)
{
    const char *colon = memchr(f, ':', len);
    int32_t s;
    if (!colon || cw_parse_i32(f, (size_t)(colon - f), day) < 0 ||
        cw_parse_i32(colon + 1, len - (size_t)(colon + 1 - f), &s) < 0 || s < 0 || s > 1000000)
        return -1;
    *slot = (int)s;
    return 0;
}

uint32_t cw_counters_get(const char *v, size_t len, int slot)
{
    if (slot < 0 || (size_t)slot * 4 + 4 > len)
        return 0;
    const unsigned char *b = (const unsigned char *)v + (size_t)slot * 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint32_t cw_store_row_days(const struct cw_config *cfg)
{
    uint32_t h = cfg->longest_window_days;
    for (size_t i = 0; i < cfg->n_windows; i++)
        if (cfg->windows[i].days > h)
            h = cfg->windows[i].days;
    return h ? h : 1;
}

long long cw_store_days_kept(const struct cw_config *cfg)
{
    int64_t late = (cfg->lateness_ms + CW_MS_PER_DAY - 1) / CW_MS_PER_DAY;
    return (long long)cw_store_row_days(cfg) + (late > 0 ? late : 0) + 2;
}
