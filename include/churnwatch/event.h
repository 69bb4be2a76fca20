/* event.h - decoding one Kafka message value into a usage event */
#ifndef CHURNWATCH_EVENT_H
#define CHURNWATCH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/reject.h"

#define CW_ID_MAX    255 /* hard upper bound of any id, in bytes; config may lower it */
#define CW_TRAIT_MAX 127 /* longest kept string trait (plan, segment, owner), in bytes */

/* Account traits carried by a traits event (native account_updated, Segment group). */
struct cw_traits {
    bool has_seats;
    int64_t seats; /* >= 0 */
    bool has_created_at;
    int64_t created_at_ms;
    bool has_renewal_at;
    int64_t renewal_at_ms;
    char plan[CW_TRAIT_MAX + 1];    /* "" when absent */
    char segment[CW_TRAIT_MAX + 1]; /* "" when absent */
    char owner[CW_TRAIT_MAX + 1];   /* "" when absent */
    char parent_id[CW_ID_MAX + 1];  /* the parent account (docs/hierarchies.md); "" when absent */
    bool parent_detach;             /* parent_id is "" because the event detaches the account
                                       from its parent (JSON null), not because it is absent */
};

/* Whether the traits carry a parent_id: one to attach to, or a detach. */
static inline bool cw_traits_carry_parent(const struct cw_traits *t)
{
    return t->parent_id[0] != '\0' || t->parent_detach;
}

/* A decoded event. Strings are NUL-terminated UTF-8 without control characters. */
struct cw_event {
    char account_id[CW_ID_MAX + 1];
    char user_id[CW_ID_MAX + 1];  /* "" when absent */
    char event_id[CW_ID_MAX + 1]; /* "" when absent */
    char type[CW_ID_MAX + 1];     /* as sent, e.g. "Signed In" */
    int type_index;               /* index into cw_config.event_types; -1 when unknown */
    int metric;                   /* cw_config.event_types[type_index].metric, or -1 */
    int64_t ts_ms;                /* event time, epoch milliseconds (UTC) */
    bool ts_from_message;         /* true when ts_ms came from the Kafka message timestamp */
    bool has_traits;
    struct cw_traits traits;
    bool has_value; /* the type has a value (event_types.*.value): value is set */
    double value;   /* finite, |value| <= CW_VALUE_MAX */
};

/* The fields an event is decoded from, each found through a list of JSON pointers. */
enum cw_field {
    CW_FIELD_ACCOUNT_ID = 0,
    CW_FIELD_USER_ID,
    CW_FIELD_TYPE,
    CW_FIELD_TS,
    CW_FIELD_EVENT_ID,
    CW_FIELD_TRAITS,
    CW_FIELD__COUNT
};

/* The config key of a field under input: ("account_id", "user_id", "type", "ts",
 * "event_id", "traits"). */
const char *cw_field_name(enum cw_field field);

/* The JSON pointers a preset reads a field from, in order; *out points to static
 * storage. Returns the count. */
size_t cw_preset_pointers(enum cw_preset preset, enum cw_field field, const char *const **out);

/* The preset's name ("native", "segment", "cloudevents"); cw_preset_from_name returns
 * -1 for an unknown name. Both read the table of churnwatch/enum_names.h. */
const char *cw_preset_name(enum cw_preset preset);
int cw_preset_from_name(const char *name);

typedef struct cw_decoder cw_decoder;

/*
 * Build a decoder for cfg's input section and event types. The decoder keeps a pointer
 * to cfg, which must outlive it. Returns NULL and fills err on failure.
 * A decoder is not thread-safe; use one per thread.
 */
cw_decoder *cw_decoder_new(const struct cw_config *cfg, char *err, size_t errsize);

/* cw_decoder_free(NULL) is a no-op. */
void cw_decoder_free(cw_decoder *dec);

/*
 * Decode one message value (len bytes, not NUL-terminated, may contain NUL bytes).
 * msg_ts_ms is the Kafka message timestamp, used when no ts field is present
 * (pass -1 when there is none: the event is then rejected as bad_timestamp).
 *
 * Returns CW_OK and fills *ev, or a reject code with a human reason in reason
 * (never containing the message bytes beyond short, sanitised excerpts); after a reject
 * *ev is partly written and must not be used. reason may be NULL when reasonsize is 0.
 * An unknown event type is CW_OK with type_index -1 unless the config's
 * unknown-type policy is dlq, in which case CW_REJ_UNKNOWN_TYPE. An event of a type with a
 * value whose value is absent (null at every pointer), not a number (or a string holding
 * exactly a JSON number), not finite or beyond +-CW_VALUE_MAX is CW_REJ_BAD_VALUE.
 * Time checks against the clock (too_late, future_timestamp) are not done here:
 * see cw_time_check() in window.h.
 */
enum cw_reject cw_decode(cw_decoder *dec, const void *buf, size_t len, int64_t msg_ts_ms,
                         struct cw_event *ev, char *reason, size_t reasonsize);

/*
 * Parse an RFC 3339 timestamp ("2026-11-22T09:00:00+09:00", "...Z", fractional
 * seconds allowed, lower-case t/z accepted) into epoch milliseconds.
 * Returns 0 on success, -1 on any malformed or out-of-range field (month 13, Feb 30,
 * Feb 29 outside leap years, hour 24, offset beyond +/-23:59, years outside
 * 1970..9999). Leap seconds (:60) are accepted and folded into the next second.
 */
int cw_rfc3339_parse(const char *text, size_t len, int64_t *out_ms);

/* Format epoch milliseconds as RFC 3339 UTC with a 'Z' ("2026-11-22T00:00:00Z",
 * with ".mmm" only when the milliseconds are non-zero). out needs 25 bytes. */
void cw_rfc3339_format(int64_t ms, char out[32]);

#endif /* CHURNWATCH_EVENT_H */
