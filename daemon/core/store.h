/* store.h - account state in Redis: the seam between the pipeline and the state store */
#ifndef CHURNWATCH_STORE_H
#define CHURNWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/account.h"
#include "churnwatch/config.h"
#include "churnwatch/episode.h"
#include "churnwatch/event.h"
#include "churnwatch/outbox.h"
#include "churnwatch/rules.h"
#include "churnwatch/score_feed.h"
#include "churnwatch/window.h"
#include "stats.h"

typedef struct cw_store cw_store;

/*
 * Connect to the Redis of rc (redis://[user:pass@]host:port/db or unix:///path; rc->password,
 * when set, replaces the URL's) and make sure the server-side functions are loaded.
 * Returns NULL with err filled (never containing the password) on failure.
 */
cw_store *cw_store_open(const struct cw_redis_config *rc, char *err, size_t errsize);

/* cw_store_close(NULL) is a no-op. */
void cw_store_close(cw_store *st);

/* Report every Redis round trip from now on: its duration into latency (may be NULL), and
 * into *reachable 1 when it (or a connection) succeeded, 0 when it failed. Both must
 * outlive the store. */
void cw_store_observe(cw_store *st, struct cw_hist *latency, _Atomic int *reachable);

/* Reconnect if needed and PING. 0 when usable, -1 with err. */
int cw_store_ping(cw_store *st, char *err, size_t errsize);

/* One event to apply, with where it came from: only what the store needs of a decoded
 * event, so a batch of many events stays small. The strings belong to the caller. */
struct cw_store_event {
    const char *user_id;            /* "" when absent */
    const struct cw_traits *traits; /* NULL when the event carries none */
    int64_t ts_ms;                  /* event time */
    int32_t day;                    /* local day of ts_ms */
    int type_index;                 /* into cfg->event_types */
    int metric;                     /* cfg->event_types[type_index].metric, or -1 */
    bool has_value;                 /* an event of a type with a value (event_types.*.value) */
    double value;
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* All events of one account in a batch, in consumption order. */
struct cw_store_batch {
    const char *account_id;
    const struct cw_store_event *events;
    size_t n;
    int32_t clock_day; /* the daemon's clock day (<= 0: unknown): day buckets are kept for
                          the horizon before min(clock day, last event day) */
    size_t applied;    /* out: events newly applied (replays already applied are skipped) */
    bool coalesced;    /* out (cw_store_apply_load): applied as one delta, not one by one */
    /* The silences index did not list the account (cw_store_mark_unsilenced): a store
     * owning its accounts on a single node does not read its silences (none then). */
    bool unsilenced;
};

/*
 * Apply the batches: one atomic server-side update per account, all pipelined.
 * Each event counts in its metric's bucket of its day, updates the account's user map,
 * last-seen times and traits; an event whose offset is at or below the account's
 * applied-offset watermark for its topic/partition is a replay and is skipped, and the
 * watermark advances in the same atomic step (exactly-once effect, docs/guarantees.md).
 * Returns 0 when every account's update was acknowledged; -1 with err otherwise, in
 * which case the caller retries the whole call later (replays are then skipped).
 */
int cw_store_apply(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                   size_t n, char *err, size_t errsize);

/* A silence of one account, for all rules (rule "") or one. */
struct cw_silence {
    char account_id[CW_ID_MAX + 1];
    char rule[64]; /* "" = all rules */
    int64_t until_ms;
    int64_t created_ms;
    char reason[256];
};

/* An alert waiting in an account's outbox: saved atomically with the rule state that
 * produced it, deleted once the broker acknowledged it (at-least-once delivery even
 * across a crash between the state change and the publication). Its key is parsed at
 * load (churnwatch/outbox.h; either format). */
struct cw_outbox_entry {
    char key[CW_OUTBOX_KEY_MAX]; /* as stored: what an acknowledgement deletes */
    int rule;                    /* index in the config's rules, -1: unknown */
    enum cw_emit emit;           /* CW_EMIT_NONE: a key of neither format */
    char *json;                  /* owned: the alert as published */
    size_t len;
};

/* Everything stored about one account, loaded for scoring or for the CLI.
 * Buffers are owned by the struct and reused across loads: zero-initialise it before
 * its first load, release with cw_account_data_free(). */
struct cw_account_data {
    char account_id[CW_ID_MAX + 1];
    bool exists;
    int32_t first_day;
    int64_t last_seen_ms;
    struct cw_traits traits;
    int32_t today;    /* the day the daily rows are relative to */
    uint32_t horizon; /* days per metric row */
    size_t n_metrics;
    uint32_t *daily; /* [n_metrics * horizon], newest first (see account.h) */
    /* The metrics' daily values, laid out as daily; NULL (and not read) unless the config
     * has a metric with values (cw_config_has_values). */
    struct cw_value_day *values;
    size_t cap_values;
    int32_t *user_last_day;
    size_t n_users, cap_users;
    /* The users whose engagement is kept (`:e`, docs/users.md), read only while the config
     * has a users section; each id and days array is owned (cw_account_data_eng_add). */
    struct cw_user_eng *user_eng;
    size_t n_user_eng, cap_user_eng;
    int64_t *type_last_ms; /* [n_event_types] */
    size_t n_event_types;
    struct cw_score_point *history; /* ascending by day */
    size_t n_history, cap_history;
    /* What :m's h_last said of the stored history (docs/state.md), when the load read it
     * (h_last_known): its newest day, CW_DAY_NONE when :m had none, and then the history
     * above is all of :h (without h_last the loads read it whole). */
    bool h_last_known;
    int32_t h_last;
    bool has_last_score;
    double last_score;
    size_t n_rules;
    struct cw_rule_state rules[CW_MAX_RULES]; /* by config rule order */
    char rule_raw[CW_MAX_RULES][160];         /* stored encoding, for compare-and-set */
    size_t n_silences;
    struct cw_silence silences[CW_MAX_RULES + 1];
    size_t n_episodes; /* the recent resolved episodes kept in `:r`, newest resolution first */
    struct cw_episode episodes[CW_EPISODES_KEPT];
    size_t n_outbox, cap_outbox;
    struct cw_outbox_entry *outbox; /* alerts saved but not yet acknowledged by Kafka */
    /* The score feed (docs/state.md "Score feed"), loaded only while the config has one: */
    struct cw_feed_last feed; /* the last score published (feed.has false: none) */
    char *feed_raw;           /* its stored form as loaded ("" none), for compare-and-set */
    size_t cap_feed_raw;
    size_t n_feed_outbox, cap_feed_outbox;
    struct cw_outbox_entry *feed_outbox; /* messages saved but not yet acknowledged, in the
                                            order they were decided (rule -1, emit NONE) */
    /* A parent's children (docs/hierarchies.md "Parent rules"), read only by
     * cw_store_load_children: children.ids and children.child point into these. */
    struct cw_children children;
    bool children_loaded; /* children holds what the store has (else: not read) */
    char **child_ids;
    struct cw_rollup_child *child;
    size_t cap_children;
};

/* Release the buffers of d (not d itself). */
void cw_account_data_free(struct cw_account_data *d);

/* Forget d's users' engagement (n_user_eng 0), keeping the array for reuse. */
void cw_account_data_eng_clear(struct cw_account_data *d);

/* Add a user's engagement to d: a copy of id[0..len) and of days[0..n). 0, or -1 when out
 * of memory. */
int cw_account_data_eng_add(struct cw_account_data *d, const char *id, size_t len,
                            const struct cw_eng_day *days, size_t n);

/* Forget d's children (children.n 0), keeping the arrays for reuse. */
void cw_account_data_children_clear(struct cw_account_data *d);

/* Free the outbox entries of d, the alerts' and the score feed's (keeping the arrays for
 * reuse). */
void cw_account_data_outbox_clear(struct cw_account_data *d);

/* Make d->values rows of horizon days for cfg's metrics when cfg has a metric with values,
 * the valued metrics' rows zeroed (the others are never read), else release them (NULL).
 * 0, or -1 when out of memory. */
int cw_account_data_values_reset(struct cw_account_data *d, const struct cw_config *cfg,
                                 uint32_t horizon);

/* Fill a view of d for the score and the rules at now_ms (d must have been loaded with
 * today == the local day of now_ms). */
void cw_account_data_view(const struct cw_account_data *d, int64_t now_ms,
                          struct cw_account_view *view);

/* True when d has an active silence at now_ms covering rule r (by name). */
bool cw_account_data_silenced(const struct cw_account_data *d, const char *rule, int64_t now_ms);

/* Load n accounts (pipelined) with daily rows relative to `today`. 0 or -1 with err. */
int cw_store_load(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                  int32_t today, struct cw_account_data *out, char *err, size_t errsize);

/* cw_store_load of two of the account's hashes only, metadata (traits, last_seen) and rule
 * states (2 reads an account instead of 7): the other fields of out stay empty. For
 * readers that count rule states (the console's rules page). 0 or -1 with err. */
int cw_store_load_rules(cw_store *st, const struct cw_config *cfg, const char *const *ids, size_t n,
                        int32_t today, struct cw_account_data *out, char *err, size_t errsize);

/*
 * cw_store_apply with the same effect, coalesced, and the accounts loaded back: each
 * account's events are summed into one delta (counters per day and metric, each user's
 * newest day, newest time per type, traits events in order, per source the lowest and
 * highest offset) sent in one atomic call that applies it when every source is past
 * the account's watermark, skips it when every source was applied before, and
 * otherwise (a batch overlapping what an earlier batch of other boundaries applied,
 * after a crash or a rebalance) applies nothing, so the events are sent one by one as
 * cw_store_apply does. The same call returns the account's state, loaded into out[i]
 * as cw_store_load does (rows relative to `today`); out NULL: nothing is loaded.
 * 0, or -1 with err (retry the whole call: what was applied is skipped then).
 */
int cw_store_apply_load(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                        size_t n, int32_t today, struct cw_account_data *out, char *err,
                        size_t errsize);

/*
 * Own the accounts this store applies events to (docs/state.md "Accounts owned in
 * memory"): hold their applied state in memory, within budget bytes (least recently used
 * out, loaded again when next needed), apply batches there and write back only what
 * changed, guarded by the account's version so that nothing another writer stored is
 * overwritten (an account found written by another is applied through Redis and loaded
 * again). budget 0 (the default): every cw_store_apply_load applies through Redis alone.
 * A new budget keeps what fits. 0, or -1 with err (out of memory).
 */
int cw_store_set_cache(cw_store *st, size_t budget, char *err, size_t errsize);

struct cw_store_cache_stats {
    size_t entries, bytes, budget;
    uint64_t hits, misses, evictions; /* accounts found in memory, loaded, evicted */
    uint64_t conflicts;               /* found written by another since loaded */
    uint64_t txn_aborts; /* write-back transactions whose EXEC found a watched :m moved */
};
void cw_store_cache_stats(const cw_store *st, struct cw_store_cache_stats *out);

/* The outcome of scoring one account, to be saved. */
struct cw_store_result {
    const char *account_id;
    const char *parent_id; /* its parent_id trait: indexed in the parent's :c; NULL or "": none */
    bool has_score;
    double score;
    const char *grade;
    int32_t today;
    /* The loaded history already holds a point for today: the save overwrites it with plain
     * commands (no new day, nothing to prune) instead of the function cw_save. */
    bool today_point;
    /* The newest day of the loaded history (CW_DAY_NONE: none loaded; it is :m's h_last). A
     * score of a later day, at most CW_STORE_NEW_DAY_PLAIN days later, is saved with plain
     * commands too: the point, the days it pushes out of the history, h_last, the lifetime. */
    int32_t history_last;
    /* :m's h_last as the load found it (cw_account_data): when known, a new day's plain
     * save prunes from it even when its point was not loaded, and with neither h_last nor
     * a point (:h read whole and empty) the first point is saved with plain commands too. */
    bool h_last_known;
    int32_t h_last;
    size_t n_rules;
    bool rule_changed[CW_MAX_RULES];
    struct cw_rule_state rule_new[CW_MAX_RULES];
    const char *rule_expected_raw[CW_MAX_RULES]; /* from the load: compare-and-set */
    const char *rule_alert_key[CW_MAX_RULES];    /* cw_outbox_key_encode; NULL: no alert */
    const char *rule_alert_json[CW_MAX_RULES];   /* queued in the outbox with the state */
    bool rule_won[CW_MAX_RULES];                 /* out: the compare-and-set succeeded */
    /* rule_resolves: the change resolves an episode, rule_episode, which is kept with the
     * recent episodes of `:r` (the oldest beyond CW_EPISODES_KEPT dropped) in the same step. */
    bool rule_resolves[CW_MAX_RULES];
    struct cw_episode rule_episode[CW_MAX_RULES];
    /* The score feed: with feed_json (and has_score), the message enters the feed's outbox
     * (field feed_key) and the feed's state becomes feed_state, in the same atomic step as
     * the score, when the stored state still is feed_expected_raw (NULL or "": none). */
    const char *feed_expected_raw;
    const char *feed_state;
    const char *feed_key;
    const char *feed_json;
    bool feed_won; /* out: the message was saved (else another writer's state was found) */
};

/*
 * Save scores (current score, today's history point, the score index for `top`) and rule
 * state changes. Each changed rule state is written with compare-and-set against the
 * encoding it was loaded with, so of two instances that saw the same transition only one
 * wins (rule_won) and emits it; the winner's alert (rule_alert_key/json) enters the
 * account's outbox in the same atomic step. A score feed message is saved with its score,
 * compare-and-set likewise (feed_won). 0 or -1 with err (then nothing is known to be
 * saved).
 */
int cw_store_save(cw_store *st, const struct cw_config *cfg, struct cw_store_result *results,
                  size_t n, char *err, size_t errsize);

/*
 * Read the children of each of the n accounts of d (docs/hierarchies.md "Parent rules"):
 * the per-parent index `:c` that cw_store_save keeps, each child's score (the score index)
 * and seats, in id order, at most CW_HIERARCHY_MAX_CHILDREN (children.left_out: how many
 * more). A child whose parent_id trait no longer names the account (moved since it was
 * indexed) is left out; the index keeps it until it expires. 0, or -1 with err.
 */
int cw_store_load_children(cw_store *st, struct cw_account_data *d, size_t n, char *err,
                           size_t errsize);

/* The parent_id trait of each of the n accounts ids, pipelined: parents[i] is a malloc'd
 * copy ("" when the account has none or does not exist), freed by the caller. 0, or -1 with
 * err (then parents[] holds nothing to free). */
int cw_store_parents_read(cw_store *st, const char *const *ids, size_t n, char **parents, char *err,
                          size_t errsize);

/* The index of children (`:c`) of each of the n accounts ids as stored, pipelined: members[i]
 * is a malloc'd array of counts[i] malloc'd ids (at most CW_HIERARCHY_SUBTREE_MAX, never the
 * account itself; a child that moved since it was indexed is still there), freed by the
 * caller. 0, or -1 with err (then nothing is left to free). */
int cw_store_children_index_read(cw_store *st, const char *const *ids, size_t n, char ***members,
                                 size_t *counts, char *err, size_t errsize);

/* An outbox entry the broker acknowledged: the account and the entry's key as loaded (or
 * as given to cw_store_save). */
struct cw_outbox_ack {
    const char *account_id;
    const char *key;
    bool score_feed; /* an entry of the score feed's outbox (feed_outbox), not an alert */
};

/* Delete the acknowledged entries from their accounts' outboxes, pipelined (one round trip
 * per node). 0, or -1 with err (then some may be deleted: deleting again is harmless). */
int cw_store_outbox_ack(cw_store *st, const struct cw_outbox_ack *acks, size_t n, char *err,
                        size_t errsize);

/*
 * Iterate over all known accounts for the sweep: fills up to max ids (copied into
 * ids[i], each CW_ID_MAX + 1 bytes) from *cursor and advances it; *cursor == 0 after the
 * last page. Start with *cursor == 0; the cursor is an opaque token of the store's one
 * scan in progress (starting over abandons the previous scan). Every account present for
 * the whole scan is returned at least once (ZSCAN guarantees). Returns the count or -1
 * with err (the same cursor may then be retried).
 */
int cw_store_scan_accounts(cw_store *st, uint64_t *cursor, char (*ids)[CW_ID_MAX + 1], size_t max,
                           char *err, size_t errsize);

/* Accounts ordered by score, lowest first (for `churnwatch top`). */
int cw_store_lowest_scores(cw_store *st, size_t max, char (*ids)[CW_ID_MAX + 1], double *scores,
                           char *err, size_t errsize);

/* The same from rank start on (0: the lowest score): ranks [start, start + max) of the
 * score index, for the console's pages. The count or -1 with err. */
int cw_store_scores_range(cw_store *st, size_t start, size_t max, char (*ids)[CW_ID_MAX + 1],
                          double *scores, char *err, size_t errsize);

/* The number of scored accounts whose indexed score is at least min and below `below`
 * (HUGE_VAL: no upper bound), for the console's counts per grade. 0 or -1 with err. */
int cw_store_count_scores(cw_store *st, double min, double below, long long *n, char *err,
                          size_t errsize);

/* The number of accounts the store knows (`Paccounts`) and of those with a score
 * (`Pscores`), for `churnwatch top`'s summary. 0 or -1 with err. */
int cw_store_count_accounts(cw_store *st, long long *accounts, long long *scored, char *err,
                            size_t errsize);

/* Silences: set (replaces the same account/rule; the stored silence expires by itself at
 * until_ms, wall clock), delete (rule NULL or "" deletes every silence of the account,
 * a rule name only that rule's), list all active at now_ms (*out is allocated, or NULL
 * when *n == 0; release with free()). */
int cw_store_silence_set(cw_store *st, const struct cw_silence *s, char *err, size_t errsize);
int cw_store_silence_delete(cw_store *st, const char *account_id, const char *rule, char *err,
                            size_t errsize);
int cw_store_silence_list(cw_store *st, int64_t now_ms, struct cw_silence **out, size_t *n,
                          char *err, size_t errsize);

/*
 * Mark the batches whose account the silences index (docs/state.md) does not list:
 * batches[i].unsilenced, asked in one round trip, so that a write-back reads only the
 * silences that can exist. A silence set before the call is seen by the batches marked.
 * On a Redis Cluster nothing is marked (its write-back reads every account's). 0, or -1
 * with err.
 */
int cw_store_mark_unsilenced(cw_store *st, struct cw_store_batch *batches, size_t n, char *err,
                             size_t errsize);

/* `churnwatch rescore`: ask the running daemon(s) to rescore every account under the
 * current config. The request is a value that stays for an hour, so every instance of a
 * consumer group sees it: cw_store_rescore_take returns 1 when the request differs from
 * the last one this store took (a request pending when the store opened counts), 0 when
 * none is new, -1 on error. */
int cw_store_rescore_request(cw_store *st, int64_t now_ms, char *err, size_t errsize);
int cw_store_rescore_take(cw_store *st, char *err, size_t errsize);

/* Each cw_store_rescore_take also sets `Palive`, expiring after CW_STORE_ALIVE_TTL_MS: the
 * heartbeat of a running daemon. cw_store_daemon_alive returns 1 when a daemon polled
 * within that time, 0 when none did, -1 on error. */
#define CW_STORE_ALIVE_TTL_MS 10000
int cw_store_daemon_alive(cw_store *st, char *err, size_t errsize);

/*
 * Event-time floors: per topic/partition, the newest event time the group has applied
 * from it (one sorted set, member "topic:partition", score the epoch ms). Saved with
 * every batch before its offsets are committed; a floor only ever rises (ZADD GT), so a
 * slower writer (a member that lost the partition and has not noticed) cannot lower it.
 * Loaded when a partition is assigned, so the clock of a restarted daemon or of the
 * member taking a partition over resumes where it was (cw_clock_floor).
 * load fills ms, -1 where no floor is stored. Both 0, or -1 with err.
 */
struct cw_store_floor {
    const char *topic;
    int32_t partition;
    int64_t ms;
};
int cw_store_floors_save(cw_store *st, const struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize);
int cw_store_floors_load(cw_store *st, struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize);

/* Rule state <-> its stored encoding (also used by tests). */
void cw_rule_state_encode(const struct cw_rule_state *s, char *out, size_t size);
int cw_rule_state_decode(const char *in, struct cw_rule_state *s);

#endif /* CHURNWATCH_STORE_H */
