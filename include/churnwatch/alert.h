/* alert.h - the churnwatch.alert.v1 message published to the alerts topic */
#ifndef CHURNWATCH_ALERT_H
#define CHURNWATCH_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

#define CW_ALERT_SCHEMA "churnwatch.alert.v1"

/* The most children a children_at_risk alert names in its "children_at_risk" list. */
#define CW_ALERT_CHILDREN_MAX 100

struct cw_alert_component {
    const char *name;
    bool has;     /* false: encoded as null (n/a) */
    double value; /* 0..1 */
};

/* Borrowed strings; nothing is owned. */
struct cw_alert {
    const char *alert_id;
    const char *account_id;
    const char *rule;
    enum cw_rule_kind kind;
    enum cw_direction direction; /* risk or opportunity */
    bool resolved;               /* status "resolved" instead of "firing" */
    bool reminder;               /* a repeat of a firing alert (adds "reminder": true) */
    enum cw_severity severity;
    bool has_score;
    double score;
    bool has_previous_score;
    double previous_score;
    const char *grade; /* NULL or "": encoded as null */
    bool has_threshold;
    double threshold;
    bool has_value; /* the rule's measured value (ratio, silent days...) */
    double value;
    const char *touch;
    const char *segment; /* NULL or "": omitted */
    const char *owner;   /* NULL or "": omitted */
    const char *plan;    /* NULL or "": omitted */
    bool has_seats;      /* the licensed seats, else omitted */
    int64_t seats;
    bool has_renewal_at; /* the next renewal, else omitted */
    int64_t renewal_at_ms;
    const char *parent_id; /* the parent account (docs/hierarchies.md); NULL or "": omitted */
    const char *profile;   /* the scorecard that scored it; NULL or "": omitted */
    const char *stage;     /* the account's lifecycle stage; NULL or "": omitted */
    /* children_at_risk (a parent's rule, docs/hierarchies.md): the children at risk, lowest
     * score first (at most CW_ALERT_CHILDREN_MAX), and the children's rolled-up score */
    const char *const *children_at_risk; /* NULL: omitted */
    size_t n_children_at_risk;
    bool has_rollup_score; /* else omitted */
    double rollup_score;
    /* champion_quiet, power_users_below (docs/users.md): the users named, ids only */
    const char *const *users; /* NULL: omitted */
    size_t n_users;
    const char *reason;
    size_t n_components;
    const struct cw_alert_component *components;
    int64_t observed_at_ms; /* the daemon's clock when the transition happened */
    int64_t emitted_at_ms;  /* wall clock at publication */
};

/*
 * Encode as one line of compact JSON (keys in the order of docs/alerts.md, then "value",
 * "direction", the account's "segment", "owner", "plan", "seats", "renewal_at", "parent_id",
 * "profile" and "stage" each when known, a parent rule's "children_at_risk" and "rollup_score",
 * a user rule's "users",
 * and "reminder": true for reminders; numbers rounded to 2
 * decimals, scores and values always as reals ("52.0"), a whole threshold as an integer ("40"); NaN
 * or infinite numbers, NULL strings and times outside years 0000..9999 as null; bytes that are not
 * UTF-8 as U+FFFD; timestamps RFC 3339 UTC, with ".mmm" only when the milliseconds are non-zero).
 * Returns a malloc'd NUL-terminated string (length in *len when len is non-NULL) that the caller
 * frees with free(), or NULL on allocation failure.
 */
char *cw_alert_encode(const struct cw_alert *alert, size_t *len);

#endif /* CHURNWATCH_ALERT_H */
