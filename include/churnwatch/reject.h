/* reject.h - the stable codes under which bad input is rejected to the DLQ */
#ifndef CHURNWATCH_REJECT_H
#define CHURNWATCH_REJECT_H

/*
 * Every code has a stable snake_case name (cw_reject_name) that appears in the
 * churnwatch-error DLQ header and the `code` label of churnwatch_events_rejected_total.
 * Names never change once released; new codes are appended.
 */
enum cw_reject {
    CW_OK = 0,
    CW_REJ_TOO_LARGE,          /* too_large: message over input.max_message_bytes */
    CW_REJ_INVALID_UTF8,       /* invalid_utf8 */
    CW_REJ_INVALID_JSON,       /* invalid_json: not JSON, or trailing garbage */
    CW_REJ_NOT_OBJECT,         /* not_object: valid JSON whose top level is not an object */
    CW_REJ_TOO_DEEP,           /* too_deep: nesting over input.max_depth */
    CW_REJ_DUPLICATE_FIELD,    /* duplicate_field: an extracted field appears twice */
    CW_REJ_MISSING_ACCOUNT_ID, /* missing_account_id: absent, null or empty */
    CW_REJ_MISSING_TYPE,       /* missing_type */
    CW_REJ_BAD_ID,             /* bad_id: an id over max_id_length or with control chars */
    CW_REJ_WRONG_FIELD_TYPE,   /* wrong_field_type: e.g. account_id is a number */
    CW_REJ_BAD_TIMESTAMP,      /* bad_timestamp: unparsable or out of range */
    CW_REJ_BAD_TRAITS,         /* bad_traits: not an object, a bad value, a time >= 2200, a
                                  parent_id closing a cycle or too deep (the daemon's check) */
    CW_REJ_UNKNOWN_TYPE,       /* unknown_type: when input.unknown_types is dlq */
    CW_REJ_TOO_LATE,           /* too_late: older than clock - longest window - lateness */
    CW_REJ_FUTURE_TIMESTAMP,   /* future_timestamp: beyond wall clock + max_clock_skew */
    CW_REJ_BAD_VALUE,          /* bad_value: a valued event type's value missing or not a
                                  finite number within +-1e12 */
    CW_REJ__COUNT
};

/* The stable name of a code ("ok" for CW_OK, "unknown" for out-of-range values). */
const char *cw_reject_name(enum cw_reject code);

#endif /* CHURNWATCH_REJECT_H */
