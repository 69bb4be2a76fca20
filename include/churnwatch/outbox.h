/* outbox.h - the alert outbox's entries: their keys (alert, rule, status) and their rule */
#ifndef CHURNWATCH_OUTBOX_H
#define CHURNWATCH_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/rules.h"

/*
 * An outbox entry is one field of an account's outbox hash (docs/state.md): its key names
 * the alert, its value is the alert JSON as published. The key is
 *
 *   "<alert_id>:<rule>:<status>"   status F (firing), R (resolved) or M<ms> (a reminder
 *                                  decided at ms)
 *
 * so the rule of an entry (for the per-rule counters) is read from the key. Entries written
 * before the rule was in the key have "<alert_id>:<status>": they are still parsed (rule
 * ""), and their rule is then the "rule" member of their alert JSON. Rule names are
 * identifiers (no ':'), so the two forms cannot be confused; an older daemon reading a new
 * key still finds the status after the last ':' and its rule in the JSON.
 */

#define CW_OUTBOX_RULE_MAX 64  /* bytes of a rule name, NUL included (identifiers: 63) */
#define CW_OUTBOX_KEY_MAX  128 /* bytes of a key, NUL included: 32 + 1 + 63 + 1 + 1 + 20 + 1 */

/* What a key names. */
struct cw_outbox_key {
    char alert_id[CW_ALERT_ID_LEN + 1];
    char rule[CW_OUTBOX_RULE_MAX]; /* "" in a key of the previous format */
    enum cw_emit emit;             /* CW_EMIT_FIRING, _RESOLVED or _REMINDER */
    int64_t reminder_ms;           /* CW_EMIT_REMINDER: when it was decided (>= 0) */
};

/* Write k's key (always the current format) to out. Its length, or -1 when k cannot be
 * encoded (alert_id not 32 lower-case hex digits, rule empty, too long or holding ':',
 * emit CW_EMIT_NONE, a negative reminder time) or does not fit in size. */
int cw_outbox_key_encode(const struct cw_outbox_key *k, char *out, size_t size);

/* Parse key[0..len) of either format into k. 0, or -1 when it is neither. */
int cw_outbox_key_parse(const char *key, size_t len, struct cw_outbox_key *k);

/* The rule of an entry with key k and alert JSON json[0..len): the index in cfg->rules of
 * the rule named by the key or, for a key of the previous format, by the JSON's "rule"
 * member. -1 when the rule is not (or no longer) in cfg or the JSON names none. */
int cw_outbox_rule_index(const struct cw_config *cfg, const struct cw_outbox_key *k,
                         const char *json, size_t len);

#endif /* CHURNWATCH_OUTBOX_H */
