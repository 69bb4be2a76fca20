/* score_feed.h - the score feed (docs/scores.md): when an account's score is published, the
 * churnwatch.score.v1 message and its id, and what is kept of the last one published */
#ifndef CHURNWATCH_SCORE_FEED_H
#define CHURNWATCH_SCORE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "churnwatch/score.h"

#define CW_SCORE_SCHEMA     "churnwatch.score.v1"
#define CW_SCORE_ID_LEN     32 /* hex characters */
#define CW_FEED_PROFILE_MAX 64 /* bytes of a profile name, NUL included */

/* Why a score is published: a bit set, a message may have several (its "triggers"). */
enum {
    CW_FEED_FIRST = 1u << 0,   /* the account's first score on the feed */
    CW_FEED_STEP = 1u << 1,    /* moved by at least the step since the last one published */
    CW_FEED_GRADE = 1u << 2,   /* its grade changed */
    CW_FEED_PROFILE = 1u << 3, /* its score profile changed */
};

/* One measure's contribution in points, by the measure's name (a config reload may
 * reorder, rename or drop measures). */
struct cw_feed_contrib {
    char name[64];
    double points;
};

/* What the feed last published for an account: stored with the account (docs/state.md),
 * compared with each new score, carried as the next message's previous_score and
 * previous_grade, and its contributions are what "moved" is measured against. */
struct cw_feed_last {
    bool has;                          /* false: nothing published yet */
    double score;                      /* as published: rounded to 2 decimals */
    char grade[8];                     /* the grade band of the exact score */
    char profile[CW_FEED_PROFILE_MAX]; /* "" without score profiles */
    int64_t observed_ms;
    char score_id[CW_SCORE_ID_LEN + 1];
    size_t n_contrib; /* measures that had a value then */
    struct cw_feed_contrib contrib[CW_MAX_MEASURES];
};

/*
 * Whether a score judged at now_ms is published, given the last one published: never when
 * now_ms is before the last one's instant (a replay, a restart judging at its event-time
 * floor, or another instance behind: older than what the feed already said); else
 * CW_FEED_FIRST when nothing was published; CW_FEED_STEP when the score rounded to 2
 * decimals (as published) differs from the last one by at least step points; CW_FEED_GRADE
 * when grade differs; CW_FEED_PROFILE when profile (NULL as "") differs. 0: nothing to
 * publish. Pure.
 */
unsigned cw_feed_decide(const struct cw_feed_last *last, int64_t now_ms, double step, double score,
                        const char *grade, const char *profile);

/*
 * The id of the message publishing account_id's score (rounded to 2 decimals) judged at
 * observed_ms: 128 bits of the same hash as alert ids (lib/alert_id.c), another domain tag.
 * The same inputs give the same id, so a redelivery carries the id of the original.
 */
void cw_score_id(const char *account_id, int64_t observed_ms, double score,
                 char out[CW_SCORE_ID_LEN + 1]);

/* The state to store once e's score is published under score_id at e->now_ms. */
void cw_feed_last_of(const struct cw_config *cfg, const struct cw_account_eval *e,
                     const char *profile, const char *score_id, struct cw_feed_last *out);

/* The stored form of l (compact JSON, docs/state.md): malloc'd, length in *len when len is
 * not NULL, or NULL on allocation failure. */
char *cw_feed_last_encode(const struct cw_feed_last *l, size_t *len);

/* Parse a stored form s[0..len) into *out (out->has true). 0, or -1 when malformed (then
 * *out is "nothing published"). */
int cw_feed_last_decode(const char *s, size_t len, struct cw_feed_last *out);

/*
 * The churnwatch.score.v1 message of e's score (e->score.has_score must be true), published
 * for the reasons `why` (cw_feed_decide) under score_id, after prev (the last one published;
 * prev->has false on the first), emitted at wall time emitted_ms; profile NULL or "" is
 * left out. One line of compact JSON, fields in the order of docs/scores.md; malloc'd
 * (length in *len when len is not NULL), or NULL on allocation failure.
 */
char *cw_feed_message(const struct cw_config *cfg, const struct cw_account_eval *e,
                      const struct cw_feed_last *prev, unsigned why, const char *score_id,
                      const char *profile, int64_t emitted_ms, size_t *len);

/*
 * Where the feed lives in the store: in the account's rule-state hash, under fields no rule
 * can have (rule names are identifiers), which daemons without the feed ignore
 * (docs/state.md "Score feed"). CW_FEED_STATE_FIELD holds cw_feed_last_encode's form; each
 * message decided but not yet acknowledged by the broker waits under its entry field,
 * ":feed:<observed_ms>:<score_id>".
 */
#define CW_FEED_STATE_FIELD  ":feed"
#define CW_FEED_ENTRY_PREFIX ":feed:"
#define CW_FEED_ENTRY_MAX    (sizeof CW_FEED_ENTRY_PREFIX + 20 + 1 + CW_SCORE_ID_LEN)

/* Write the entry field of a message to out. Its length, or -1 when it does not fit or
 * score_id is not 32 lower-case hex digits. */
int cw_feed_entry_field(int64_t observed_ms, const char *score_id, char *out, size_t size);

/* Parse an entry field f[0..len): 0 with *observed_ms, or -1 when f is not one. */
int cw_feed_entry_parse(const char *f, size_t len, int64_t *observed_ms);

#endif /* CHURNWATCH_SCORE_FEED_H */
