/* gen.h - seeded synthetic usage-event histories for the demo, tests and benchmarks */
#ifndef CHURNWATCH_GEN_H
#define CHURNWATCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

/*
 * The generator writes one JSON object per call, in global event-time order (a
 * day-by-day merge over all accounts), so a history replays like live traffic.
 * Everything is derived from the options: the same options give byte-identical output
 * on every run (and across platforms whose libm exp() rounds alike). No I/O, no clock:
 * end_ms is given.
 *
 * Each account has a fate, the story its history tells under the shipped config
 * (rule names as in conf/churnwatch.yaml):
 *   healthy     steady use by most seats, created long before the history
 *   onboarded   created 40-80 days before the end, reaches app_created in days, then healthy
 *   declining   healthy until ~6 weeks before the end, then usage decays to a trickle
 *               (health_low and health_drop)
 *   silent      healthy-ish, then no event at all for the last 15-34 days (silent)
 *   stalled     created 35-60 days before the end, a few logins and help views, never
 *               app_created (onboarding_stalled)
 *   underused   50 seats, 3-5 active users (seat_underuse)
 *   borderline  steady at about half the healthy level (score ~47, above health_low's 40
 *               once the windows have filled; in a replay's first weeks it may dip below)
 *   recovering  dips 2 months before the end, then back to healthy (health_low fires,
 *               then resolves)
 *   renewing    declines like declining, and renews 20-60 days after the last day
 *               (renewal_risk, health_low and health_drop)
 *   expanding   every seat registered and nearly every one active each week, created long
 *               before the history (expansion, from the first whole long window on)
 * The healthy accounts form groups (parent_id, cw_gen_account). Every other account renews
 * more than 100 days after the end, beyond renewal_risk's
 * 90 days. Accounts in normal use keep registering new users during the history (about
 * 5 per 100 seats and 28 days at the healthy level, fewer as usage falls; none for
 * stalled, underused and expanding): the `registrations` the score's penetration reads.
 * No account but an expanding one registers more than 95% of its seats.
 * Accounts in use answer an NPS survey about once in 30 days (nps_submitted, props.score:
 * 9-10 for healthy, onboarded, recovering and expanding, 7-8 for borderline and underused,
 * 2-6 for the others) and on Wednesdays about 15% of the active pool watch a webinar
 * (webinar_watched, props.minutes 20-60); stalled and silent accounts send neither. These
 * are drawn from hashes, not from an account's stream, with event ids of their own: every
 * other event is byte for byte what it was without them.
 * The histories are calibrated for days >= 75 (default 90); shorter histories cut the
 * early part of each story.
 */

enum cw_gen_fate {
    CW_GEN_HEALTHY = 0,
    CW_GEN_ONBOARDED,
    CW_GEN_DECLINING,
    CW_GEN_SILENT,
    CW_GEN_STALLED,
    CW_GEN_UNDERUSED,
    CW_GEN_BORDERLINE,
    CW_GEN_RECOVERING,
    CW_GEN_RENEWING,
    CW_GEN_EXPANDING,
    CW_GEN_FATE__COUNT
};

/* Native event types, in the order of this enum. */
enum cw_gen_type {
    CW_GEN_LOGIN = 0,
    CW_GEN_APP_CREATED,
    CW_GEN_RECORD_WRITTEN,
    CW_GEN_SEMINAR_ATTENDED,
    CW_GEN_EMAIL_CLICKED,
    CW_GEN_SUPPORT_TICKET,
    CW_GEN_HELP_VIEWED,
    CW_GEN_USER_REGISTERED,
    CW_GEN_ACCOUNT_UPDATED, /* the traits event */
    CW_GEN_NPS_SUBMITTED,   /* an NPS answer 0..10 (props.score) */
    CW_GEN_WEBINAR_WATCHED, /* minutes of a webinar watched (props.minutes) */
    CW_GEN_TYPE__COUNT
};

/* Which alerts a fate's account is expected to raise (see cw_gen_fate_alerts). */
enum cw_gen_expect {
    CW_GEN_EXPECT_FIRES = 0, /* must fire at least once during the history */
    CW_GEN_EXPECT_AT_END,    /* must still be firing at the end of the history */
    CW_GEN_EXPECT_MAY_FIRE,  /* may fire, depending on targets; any other rule must not */
};

#define CW_GEN_PREFIX_MAX 64  /* longest id_prefix, in bytes */
#define CW_GEN_ID_MAX     128 /* account ids are shorter than this, NUL included */

/* 2026-11-22T00:00:00Z, the default end of a history. */
#define CW_GEN_DEFAULT_END_MS INT64_C(1795305600000)

struct cw_gen_options {
    uint64_t seed;
    /* Account count when every fate_counts entry is 0: the default mix (healthy 25%,
     * onboarded 10%, declining 12.5%, silent 10%, stalled 7.5%, underused 7.5%,
     * borderline 7.5%, recovering 7.5%, renewing 7.5%, expanding 5%, largest remainder;
     * 40 accounts: 10, 4, 5, 4, 3, 3, 3, 3, 3, 2). 1..1000000. */
    size_t accounts;
    /* Accounts per fate; when any is non-zero they give the mix and the count. */
    uint32_t fate_counts[CW_GEN_FATE__COUNT];
    uint32_t days;         /* local calendar days of history, 1..3660; the last one holds end */
    int64_t end_ms;        /* events are strictly before this instant */
    int32_t tz_offset_min; /* offset of local days and of ts text, -1439..1439; 0 writes Z */
    enum cw_preset form;   /* native, segment or cloudevents */
    double rate_scale;     /* multiplies event volumes: every count but the first login of a
                            * user-day and registrations; distinct users are unchanged.
                            * (0, 1000]; 1 = the calibrated rates */
    const char *id_prefix; /* prepended to account ids; NULL = none; copied */
};

/* Per-account facts, fixed at cw_gen_new. */
struct cw_gen_account {
    char id[CW_GEN_ID_MAX]; /* "<prefix>globex-0003" */
    const char *name;       /* display name (UTF-8, may hold quotes), static */
    enum cw_gen_fate fate;
    char segment[2];   /* "S", "M" or "L" */
    const char *plan;  /* "starter", "standard", "enterprise" */
    const char *owner; /* CSM e-mail, static */
    uint32_t seats;    /* licensed seats */
    uint32_t users;    /* users registered by the end of the history */
    int64_t created_at_ms;
    int64_t renewal_at_ms;
    /* Its parent account (the parent_id trait, docs/hierarchies.md), "" none: the healthy
     * accounts form groups of five in id order, the first of each the parent of the four
     * after it (healthy accounts do not score low, so no parent rule fires). */
    char parent_id[CW_GEN_ID_MAX];
};

/* What cw_gen_next reports besides the text. */
struct cw_gen_event {
    int64_t ts_ms;         /* event time, epoch milliseconds */
    size_t account;        /* index for cw_gen_account() */
    enum cw_gen_type type; /* native type */
};

typedef struct cw_gen cw_gen;

/* Defaults: seed 42, 40 accounts (default mix), 90 days, end CW_GEN_DEFAULT_END_MS,
 * offset 0, native form, rate 1, no prefix. */
void cw_gen_options_init(struct cw_gen_options *opt);

/*
 * Set one option from its command-line text: key is the long option name without
 * dashes ("seed", "accounts", "days", "end" (RFC 3339 with Z or an offset),
 * "form", "fates" ("healthy=10,declining=5": the listed fates, others 0),
 * "timezone-offset" ("+09:00", "-05:30", "Z"), "rate-scale", "prefix").
 * Returns 0, or -1 with a message in err and opt unchanged.
 */
int cw_gen_options_set(struct cw_gen_options *opt, const char *key, const char *value, char *err,
                       size_t errsize);

/*
 * Build a generator. Options are validated and copied (opt need not outlive it).
 * Returns NULL and fills err on invalid options or allocation failure.
 */
cw_gen *cw_gen_new(const struct cw_gen_options *opt, char *err, size_t errsize);

/* cw_gen_free(NULL) is a no-op. */
void cw_gen_free(cw_gen *gen);

/*
 * Write the next event as one JSON object (no newline) into buf and NUL-terminate it;
 * *len gets its length without the NUL, *ev (may be NULL) its time, account and type.
 * Returns 1 when an event was written, 0 at the end of the stream, -1 when size is too
 * small: then *len is the length needed (without the NUL), nothing is consumed, and a
 * call with a buffer of *len + 1 bytes writes this event. Nothing is ever written past
 * buf[size - 1]. A 4 KiB buffer always suffices (lines are ~190-280 bytes; an id prefix
 * full of escaped control characters adds at most ~800).
 */
int cw_gen_next(cw_gen *gen, char *buf, size_t size, size_t *len, struct cw_gen_event *ev);

size_t cw_gen_account_count(const cw_gen *gen);

/* Account i, or NULL when i is out of range. Valid until cw_gen_free. */
const struct cw_gen_account *cw_gen_account(const cw_gen *gen, size_t i);

/*
 * The manifest line of account i, one JSON object (no newline):
 * {"account_id","fate","name","segment","seats","users","created_at","renewal_at",
 *  "parent_id" (null: none),"fires":[rules],"firing_at_end":[rules],"may_fire":[rules]}.
 * Same return and buffer contract as cw_gen_next; -2 when i is out of range.
 */
int cw_gen_manifest_line(const cw_gen *gen, size_t i, char *buf, size_t size, size_t *len);

/* Fate names ("healthy", ...; "unknown" out of range) and back (-1 when unknown). */
const char *cw_gen_fate_name(enum cw_gen_fate fate);
int cw_gen_fate_from_name(const char *name);

/* The rules (comma-separated, "" for none) a fate's account fires, still fires at the
 * end, or may fire: see enum cw_gen_expect. Static strings. */
const char *cw_gen_fate_alerts(enum cw_gen_fate fate, enum cw_gen_expect which);

/* Native type name ("login", ...) and the Segment event name of the segment form
 * ("Signed In", ...; "group" for the traits event, sent as a group call). */
const char *cw_gen_type_name(enum cw_gen_type type);
const char *cw_gen_segment_name(enum cw_gen_type type);

#endif /* CHURNWATCH_GEN_H */
