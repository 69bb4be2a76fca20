/* outbox.c - the alert outbox's keys: encoded, parsed (both formats), and an entry's rule */
#include "churnwatch/outbox.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cw_outbox_key_encode(const struct cw_outbox_key *k, char *out, size_t size)
{
    size_t rlen = strnlen(k->rule, sizeof k->rule);
    if (!cw_hex_id_ok(k->alert_id, strnlen(k->alert_id, sizeof k->alert_id)) || rlen == 0 ||
        rlen == sizeof k->rule || memchr(k->rule, ':', rlen))
        return -1;
    int n;
    switch (k->emit) {
    case CW_EMIT_FIRING:
    case CW_EMIT_RESOLVED:
        n = snprintf(out, size, "%s:%s:%c", k->alert_id, k->rule,
                     k->emit == CW_EMIT_FIRING ? 'F' : 'R');
        break;
    case CW_EMIT_REMINDER:
        if (k->reminder_ms < 0)
            return -1;
        n = snprintf(out, size, "%s:%s:M%" PRId64, k->alert_id, k->rule, k->reminder_ms);
        break;
    default:
        return -1;
    }
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return n;
}

/* Parse a status s[0..len): F, R or M<ms>. 0 or -1. */
static int parse_status(const char *s, size_t len, struct cw_outbox_key *k)
{
    k->reminder_ms = 0;
    if (len == 1 && (s[0] == 'F' || s[0] == 'R')) {
        k->emit = s[0] == 'F' ? CW_EMIT_FIRING : CW_EMIT_RESOLVED;
        return 0;
    }
    if (len < 2 || len > 20 || s[0] != 'M')
        return -1;
    int64_t ms = 0;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || ms > (INT64_MAX - (s[i] - '0')) / 10)
            return -1;
        ms = ms * 10 + (s[i] - '0');
    }
    k->emit = CW_EMIT_REMINDER;
    k->reminder_ms = ms;
    return 0;
}

int cw_outbox_key_parse(const char *key, size_t len, struct cw_outbox_key *k)
{
    memset(k, 0, sizeof *k);
    if (len <= CW_ALERT_ID_LEN + 1 || !cw_hex_id_ok(key, CW_ALERT_ID_LEN) ||
        key[CW_ALERT_ID_LEN] != ':' || memchr(key, '\0', len))
        goto bad;
    const char *rest = key + CW_ALERT_ID_LEN + 1;
    size_t rlen = len - CW_ALERT_ID_LEN - 1;
    const char *colon = memchr(rest, ':', rlen);
    const char *status = rest;
    if (colon) { /* "<rule>:<status>"; the previous format has no rule */
        size_t nlen = (size_t)(colon - rest);
        if (nlen == 0 || nlen >= sizeof k->rule)
            goto bad;
        memcpy(k->rule, rest, nlen);
        k->rule[nlen] = '\0';
        status = colon + 1;
    }
    if (parse_status(status, (size_t)(rest + rlen - status), k) < 0)
        goto bad;
    memcpy(k->alert_id, key, CW_ALERT_ID_LEN);
    k->alert_id[CW_ALERT_ID_LEN] = '\0';
    return 0;
bad:
    memset(k, 0, sizeof *k);
    return -1;
}

static int rule_named(const struct cw_config *cfg, const char *name, size_t len)
{
    for (size_t r = 0; r < cfg->n_rules; r++)
        if (strlen(cfg->rules[r].name) == len && memcmp(cfg->rules[r].name, name, len) == 0)
            return (int)r;
    return -1;
}

int cw_outbox_rule_index(const struct cw_config *cfg, const struct cw_outbox_key *k,
                         const char *json, size_t len)
{
    if (k->rule[0])
        return rule_named(cfg, k->rule, strlen(k->rule));
    /* The previous format: the rule is only in the alert itself. */
    json_t *alert = json ? json_loadb(json, len, 0, NULL) : NULL;
    const json_t *rule = json_object_get(alert, "rule");
    int r = json_is_string(rule)
                ? rule_named(cfg, json_string_value(rule), json_string_length(rule))
                : -1;
    json_decref(alert);
    return r;
}
