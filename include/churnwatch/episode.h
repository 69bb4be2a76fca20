/* episode.h - the recent resolved episodes of an account (docs/state.md "Recent episodes"):
 * their stored form in the rule-state hash `:r` and the cap that keeps the last few. */
#ifndef CHURNWATCH_EPISODE_H
#define CHURNWATCH_EPISODE_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/rules.h"

#define CW_EPISODES_KEPT      5      /* resolved episodes kept per account, the newest */
#define CW_EPISODE_PREFIX     ":ep:" /* field ":ep:<alert_id>": no rule name begins with ':' */
#define CW_EPISODE_RULE_MAX   63     /* a rule name's bytes at most (the config's bound) */
#define CW_EPISODE_FIELD_SIZE 40     /* room for a field and its NUL */
#define CW_EPISODE_VALUE_SIZE 112    /* room for a value and its NUL */

/* One resolved episode of (account, rule). */
struct cw_episode {
    char alert_id[CW_ALERT_ID_LEN + 1];
    char rule[CW_EPISODE_RULE_MAX + 1];
    int64_t started_ms;  /* the episode fired (the rule state's since) */
    int64_t resolved_ms; /* the daemon resolved it (the resolution's observed_at) */
    enum cw_severity severity;
};

/* The field ":ep:<alert_id>" and value "<started_ms>|<resolved_ms>|<s>|<rule>" (s: the
 * severity's initial, i, w or c) of e, NUL-terminated. 0, or -1 when e cannot be stored
 * (an alert id that is not 32 lower-case hex characters, a rule name empty, too long or
 * holding '|', an end before the start) or a buffer is too small. */
int cw_episode_encode(const struct cw_episode *e, char *field, size_t fsize, char *value,
                      size_t vsize);

/* Parse a stored field (flen bytes) and value (vlen bytes) into *out. 0, or -1 when they are
 * not of the form cw_episode_encode writes (then *out is unspecified). */
int cw_episode_decode(const char *field, size_t flen, const char *value, size_t vlen,
                      struct cw_episode *out);

/* Add e to list (n episodes, newest resolution first, room for cap): it is inserted in its
 * place, and when the list is full the oldest resolution (of e and the list) is dropped;
 * ties are ordered by alert id, so the order does not depend on the order of arrival. The
 * new count. */
size_t cw_episodes_keep(struct cw_episode *list, size_t n, size_t cap, const struct cw_episode *e);

#endif /* CHURNWATCH_EPISODE_H */
