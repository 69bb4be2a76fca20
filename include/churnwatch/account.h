/* account.h - the read-only view of one account's aggregates that scoring and rules use */
#ifndef CHURNWATCH_ACCOUNT_H
#define CHURNWATCH_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/event.h"
#include "churnwatch/users.h"
#include "churnwatch/values.h"

/*
 * Everything the score and the rules know about an account at one instant. The daemon
 * fills it from Redis, tests fill it by hand; nothing here is owned by the view.
 *
 * daily holds n_metrics rows of horizon counters each, newest first: the count of
 * metric m on local day today - i is daily[m * horizon + i]. Built-in metric rows
 * (e.g. CW_METRIC_ACTIVE_USERS) are present but unused: active users come from
 * user_last_day. horizon must be at least the config's longest_window_days.
 */
struct cw_account_view {
    const char *account_id;
    int64_t now_ms;    /* the daemon's clock (docs/design.md) */
    int32_t today;     /* local day number of now_ms */
    int32_t first_day; /* first local day with an event, CW_DAY_NONE if never */
    uint32_t horizon;
    size_t n_metrics;
    const uint32_t *daily;
    /* laid out as daily, only valued metrics' rows meaningful; NULL: no metric has values */
    const struct cw_value_day *values;
    const int32_t *user_last_day; /* each known user's last active local day */
    size_t n_users;
    const struct cw_user_eng *user_eng; /* the users whose engagement is kept (docs/users.md) */
    size_t n_user_eng;
    const struct cw_traits *traits; /* never NULL; fields carry their own has_ flags */
    int64_t last_seen_ms;           /* last event of any type, -1 if never */
    const int64_t *type_last_ms;    /* [cfg->n_event_types]: last event of each type, -1 never */
};

#endif /* CHURNWATCH_ACCOUNT_H */
