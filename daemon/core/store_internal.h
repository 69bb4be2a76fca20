/* store_internal.h - what the Redis store's translation units share (not part of the seam) */
#ifndef CHURNWATCH_STORE_INTERNAL_H
#define CHURNWATCH_STORE_INTERNAL_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "redis_cluster.h"
#include "redis_cmd.h"
#include "redis_conn.h"
#include "store.h"

/* The `churnwatch` Functions library (store_functions.lua, embedded at build time) and its
 * version (CW_STORE_FUNCTIONS_VERSION, set in daemon/CMakeLists.txt). */
extern const int cw_store_functions_version;
extern const char cw_store_functions_lua[];

/* The stored value of a silence: "until_ms|created_ms|reason". */
void cw_silence_value_encode(const struct cw_silence *s, char *out, size_t size);

/* Parse a stored silence value (len bytes) into s->until_ms, created_ms and reason
 * (account_id and rule are left alone). 0, or -1 when malformed. */
int cw_silence_value_decode(const char *v, size_t len, struct cw_silence *s);

/* A field of :d holding one metric's values of a day: "<day>:<slot>" (docs/state.md "Event
 * values"). format returns the length; parse 0, or -1 for a field of another form (a day's
 * packed counters are "<day>"). */
#define CW_VALUE_FIELD_MAX 24
int cw_value_field_format(char *out, size_t size, int32_t day, int slot);
int cw_value_field_parse(const char *f, size_t len, int32_t *day, int *slot);

/* A value field f of :d (day:slot) into d->values when its day is one of the rows (today,
 * horizon) and its slot a valued metric's; other fields and malformed values are ignored. */
void cw_store_load_values(const struct cw_config *cfg, const int *slots, int32_t today,
                          uint32_t horizon, struct cw_account_data *d, const char *f, size_t flen,
                          const char *v, size_t vlen);

/* Counter of slot in a packed day value (little-endian u32 per slot); 0 past its end. */
uint32_t cw_counters_get(const char *v, size_t len, int slot);

/* Parse a whole decimal int64 from v[0..len). 0 or -1. */
int cw_parse_i64(const char *v, size_t len, int64_t *out);

/* The same for an int32 (out of range: -1). */
int cw_parse_i32(const char *v, size_t len, int32_t *out);

/* Events of one account per cw_apply call (keeps each script short). */
#define CW_STORE_EVENTS_PER_CALL 1024

/* Score history kept by cw_save: the rows (cw_store_row_days) and this many days more
 * (also the backtest's replay, backtest_replay.c). */
#define CW_STORE_HISTORY_EXTRA 35
/* A score of a new day at most this many days after the newest day of the loaded history is
 * saved with plain commands, the days it pushes out of the history deleted by name; after a
 * longer gap, cw_save prunes the history it reads (store_save.c). */
#define CW_STORE_NEW_DAY_PLAIN 64

/* Days per metric row of a load: the longest window (at least 1). */
uint32_t cw_store_row_days(const struct cw_config *cfg);

/* Days of :d and :u kept behind an account's newest day, the apply functions' horizon:
 * the rows, the lateness in whole days (`lateness`, docs/configuration.md), and 2. */
long long cw_store_days_kept(const struct cw_config *cfg);

/* ---- the store and its transport (store_redis.c) ---- */

#define CW_STORE_MAX_PREFIX    200 /* bytes of redis.key_prefix */
#define CW_STORE_KEY_MAX       (CW_STORE_MAX_PREFIX + CW_ID_MAX + 8)
#define CW_STORE_LONG_TTL_DAYS 400 /* :m :r :h of an account silent this long expire */

/* One metric name's stable slot (see the cw_slots function). */
struct cw_store_slot {
    char *name;
    int slot;
};

struct cw_store {
    struct cw_redis_target target; /* holds the password: never printed */
    char name[300];                /* target for messages */
    char *prefix;
    struct cw_rcluster rc;     /* the node, or the cluster's masters */
    struct cw_tls_client *tls; /* rediss://: shared by every node's connection */
    struct cw_rcmd cmd;
    struct cw_rcmd fcmd;         /* functions checks and loads (never clobber cmd) */
    struct cw_store_slot *slots; /* cache, cleared on every (re)connection and reload */
    size_t n_slots, cap_slots;
    unsigned slot_epoch;
    /* cw_store_scan_accounts: ZSCAN pages are buffered, the caller's cursor is a token */
    char (*scan_ids)[CW_ID_MAX + 1];
    size_t scan_n, scan_pos, scan_cap;
    unsigned long long scan_redis_cursor;
    bool scan_redis_done;
    uint64_t scan_token, scan_seq;
    char rescore_seen[64]; /* the last rescore request taken */
    /* accounts owned in memory (store_owned.c); NULL: every apply is cw_apply_delta's */
    struct cw_cache *cache;
    uint64_t put_seed, put_seq; /* versions written by cw_put */
    uint64_t conflicts;         /* the write-back found another writer's version */
    uint64_t txn_aborts;        /* a write-back transaction's EXEC found a watched key moved */
    int32_t index_trimmed;      /* the newest day the accounts index was trimmed for (0: none) */
    /* tests only: called where another writer is to come in: between a write-back
     * transaction's WATCH and its MULTI (store_owned_txn.c), and between the check that
     * found an account's silences gone and its removal from the silences index
     * (store_admin.c) */
    void (*txn_hook)(void *arg);
    void *txn_hook_arg;
    struct cw_hist *latency; /* cw_store_observe, may be NULL */
    _Atomic int *reachable;
};

/* Append the key "<prefix>{account}:suffix" to c. */
int cw_store_add_account_key(cw_store *st, struct cw_rcmd *c, const char *account,
                             const char *suffix);

/* Append the global key `name` to c. In a cluster every global key has the hash tag
 * {cw}: one slot, so one node holds the indexes whole (docs/state.md). A single node
 * keeps the historical names. */
int cw_store_add_global_key(cw_store *st, struct cw_rcmd *c, const char *name);

/* Read the slot map when stale, then connect every master that is not (checking its
 * functions). 0, or -1 with err. */
int cw_store_ensure(cw_store *st, char *err, size_t errsize);

/*
 * Run one command built in st->cmd; an error reply "Function not found" reloads the
 * library and retries once. Returns the reply (not an error reply), or NULL with err.
 */
redisReply *cw_store_command(cw_store *st, char *err, size_t errsize);

/* Run st->cmd expecting an integer reply (into *out when out is not NULL). 0 or -1. */
int cw_store_command_int(cw_store *st, long long *out, char *err, size_t errsize);

/*
 * A list of operations sent pipelined, at most a pipeline's worth per round trip.
 * build() puts op i into cmd (returns 0, 1 to skip it, -1 on error); reply() consumes its
 * reply (never an error reply; returns -1 with err holding the detail). Operations whose
 * reply is "Function not found" are retried once after reloading the library, calling
 * prepare() first (e.g. to re-resolve metric slots).
 */
struct cw_store_ops {
    size_t n;
    void *ctx;
    int (*prepare)(cw_store *st, void *ctx, char *err, size_t errsize);
    int (*build)(cw_store *st, void *ctx, size_t i, struct cw_rcmd *cmd);
    int (*reply)(cw_store *st, void *ctx, size_t i, const redisReply *r, char *err, size_t errsize);
};

/* Run the operations of o, pipelined on each node they route to (connecting first).
 * 0, or -1 with err. */
int cw_store_ops_run(cw_store *st, const struct cw_store_ops *o, char *err, size_t errsize);

/* slots[m] = the stable slot of cfg's metric m (-1 for built-ins), allocating new ones.
 * 0, or -1 with err. */
int cw_store_resolve_slots(cw_store *st, const struct cw_config *cfg, int *slots, char *err,
                           size_t errsize);

/* ---- load (store_load.c), shared with the coalesced apply ---- */

/* The hashes of an account a load reads, in this order: metadata, days, users, rules,
 * history, silences, outbox, and with a users section in the config the users' engagement
 * (CW_STORE_KEY_ENG, docs/users.md): cw_store_load_keys(cfg) of them. */
#define CW_STORE_LOAD_KEYS 7
#define CW_STORE_KEY_ENG   7
extern const char *const cw_store_load_suffix[CW_STORE_LOAD_KEYS + 1];

static inline size_t cw_store_load_keys(const struct cw_config *cfg)
{
    return cfg->users.enabled ? CW_STORE_LOAD_KEYS + 1 : CW_STORE_LOAD_KEYS;
}

/* What a load of several accounts shares. */
struct cw_store_load_ctx {
    const struct cw_config *cfg;
    const char *const *ids;
    struct cw_account_data *out;
    int32_t today;
    uint32_t horizon;
    int slots[CW_MAX_METRICS];
    const size_t *hashes; /* the hashes to read (indexes, 0 first), n_hashes 0: all of them */
    size_t n_hashes;
};

/* Consume r, the HGETALL of hash `which` (index into cw_store_load_suffix) of account id,
 * into d (values: r is an HVALS, which the users' hash needs: only the days are kept);
 * `which` 0 starts the account afresh. 0, or -1 with err. */
int cw_store_load_hash(struct cw_store_load_ctx *l, struct cw_account_data *d, const char *id,
                       size_t which, bool values, const redisReply *r, char *err, size_t errsize);

/* Check the config's limits and resolve l->slots (a load's prepare step). 0, or -1 with err. */
int cw_store_load_prepare(cw_store *st, struct cw_store_load_ctx *l, char *err, size_t errsize);

/* Reset d for a load of account id (rows relative to l->today): nothing stored. 0 or -1. */
int cw_store_load_reset(struct cw_store_load_ctx *l, struct cw_account_data *d, const char *id);

/* ---- applying (store_apply.c), shared with the owned accounts (store_owned.c) ---- */

/* One ZADD GT of the accounts index: each batch's account at day[b] (day NULL: the batch's
 * newest event day), those without a day (CW_DAY_NONE) left out; 1 when none is left. */
int cw_store_accounts_index_build(cw_store *st, const struct cw_config *cfg,
                                  const struct cw_store_batch *batches, size_t n,
                                  const int32_t *day, struct cw_rcmd *c);

/* Accounts silent past the long TTL leave the sweep's index (max_day: the newest day of
 * the events just applied): once per newest day the store has seen, since the entries it
 * removes depend on that day alone. 0 or -1 with err. */
int cw_store_accounts_index_trim(cw_store *st, int32_t max_day, char *err, size_t errsize);

/* The newest day of the usable events of the batches, CW_DAY_NONE when none. */
int32_t cw_store_batches_max_day(const struct cw_config *cfg, const struct cw_store_batch *batches,
                                 size_t n);

/* The history days score_drop may compare with at today (drop_reference in lib/rules.c:
 * [today - 2 over, today - over] for each rule's `over`, segments included); an empty
 * range (from > to) when no rule compares. */
void cw_store_history_range(const struct cw_config *cfg, int32_t today, int32_t *from, int32_t *to);

/* cw_store_apply_load through Redis alone (cw_apply_delta, cw_apply): what it does
 * without accounts owned in memory, and for those found written by another. */
int cw_store_apply_load_redis(cw_store *st, const struct cw_config *cfg,
                              struct cw_store_batch *batches, size_t n, int32_t today,
                              struct cw_account_data *out, char *err, size_t errsize);

/* cw_store_apply_load with st->cache: docs/state.md "Accounts owned in memory". */
int cw_store_apply_owned(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                         size_t n, int32_t today, struct cw_account_data *out, char *err,
                         size_t errsize);

/* ---- the outboxes (store_outbox.c) ---- */

/* Append the outbox entry key[0..klen) -> json[0..jlen) to d, its key parsed (either
 * format, churnwatch/outbox.h) for its rule and status. A key longer than any this daemon
 * writes is skipped. 0, or -1 when out of memory. */
int cw_store_outbox_add(const struct cw_config *cfg, struct cw_account_data *d, const char *key,
                        size_t klen, const char *json, size_t jlen);

/* Append the score feed's entry field[0..flen) -> json[0..jlen) (score_feed.h) to d; a field
 * that is not an entry is skipped. 0, or -1 when out of memory. */
int cw_store_feed_entry_add(struct cw_account_data *d, const char *field, size_t flen,
                            const char *json, size_t jlen);

/* Put d's feed entries in the order they were decided (their instant, then their field). */
void cw_store_feed_entries_sort(struct cw_account_data *d);

/* ---- apply arguments (store_delta.c) ---- */

/* Whether the store can apply e (a known type, a source); the others are skipped. */
bool cw_store_event_usable(const struct cw_config *cfg, const struct cw_store_event *e);

/* An event's flags in the apply functions: 1 = an activity event (every type but a
 * traits-only one), 2 = it carries traits, 4 = an activity event with a value, 8 = its
 * traits carry a parent_id (sent after the six trait arguments), 16 = an activity event
 * with engagement points for its user (cw_store_event_points, sent last). */
int cw_store_event_flags(const struct cw_config *cfg, const struct cw_store_event *e);

/* The engagement points of a batch's users per day (docs/users.md), summed as every store
 * path sums them (saturating): store_delta.c sends them, account_mem.c merges them. Each user
 * keeps the index + 1 of its first entry (*head, 0: none); entries chain by `next`; `order`
 * lists the users (the caller's indexes) in the order of their first points. */
struct cw_eng_sum {
    int32_t day;
    uint32_t points;
    size_t next; /* the user's next entry + 1, 0: none */
};
struct cw_eng_sums {
    struct cw_eng_sum *e;
    size_t n, cap;
    size_t *order;
    size_t n_order, cap_order;
};

/* Add points on day to user u (whose first entry is *head). 0, or -1 when out of memory. */
int cw_eng_sums_add(struct cw_eng_sums *s, size_t *head, size_t u, int32_t day, uint32_t points);

static inline void cw_eng_sums_reset(struct cw_eng_sums *s)
{
    s->n = s->n_order = 0;
}

static inline void cw_eng_sums_free(struct cw_eng_sums *s)
{
    free(s->e);
    free(s->order);
    *s = (struct cw_eng_sums){0};
}

/* The engagement points e gives its user (users.weights, docs/users.md): 0 without a users
 * section, a user or a weight for its type. */
uint32_t cw_store_event_points(const struct cw_config *cfg, const struct cw_store_event *e);

/* The six trait arguments of cw_apply and cw_apply_delta ("" = not carried). */
void cw_store_add_traits(struct cw_rcmd *c, const struct cw_traits *t);

/* An event's value argument of cw_apply (%.17g: the double exactly). */
int cw_store_add_value(struct cw_rcmd *c, double v);

/* What every cw_apply_delta call of one cw_store_apply_load shares: days kept, key
 * lifetimes, and whether (and which history days) to return the state. */
struct cw_store_delta_params {
    long long horizon, ttl_short, ttl_long;
    bool want_state;
    int32_t hist_from, hist_to; /* history days score_drop compares with (empty: from > to) */
};

/* Scratch space for coalescing, reused from one account to the next. */
struct cw_store_delta;
struct cw_store_delta *cw_store_delta_new(void);
void cw_store_delta_free(struct cw_store_delta *s); /* NULL: no-op */

/*
 * Append to c the arguments of cw_apply_delta (after its keys) for the usable events of
 * b, coalesced (docs/state.md). slots[m] is the stable slot of cfg's metric m (-1: none).
 * Returns 0, 1 when b has no usable event (nothing appended), -1 when out of memory.
 * The same b gives the same arguments every time.
 */
int cw_store_delta_args(struct cw_store_delta *s, const struct cw_config *cfg, const int *slots,
                        const struct cw_store_batch *b, const struct cw_store_delta_params *p,
                        struct cw_rcmd *c);

#endif /* CHURNWATCH_STORE_INTERNAL_H */
