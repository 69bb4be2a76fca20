/* store_owned.h - what the write-back of accounts owned in memory shares between the
 * cw_put path (store_owned.c) and the transaction path (store_owned_txn.c) */
#ifndef CHURNWATCH_STORE_OWNED_H
#define CHURNWATCH_STORE_OWNED_H

#include <stdbool.h>
#include <stdint.h>

#include "store_internal.h"

/* Per account of the call. */
struct owned {
    struct cw_account_mem *mem; /* pinned in the cache while the call runs; NULL: via Redis */
    bool loading;               /* being loaded by this call (not in the cache yet) */
    bool fresh;                 /* loaded by this call */
    uint64_t expected, next;    /* the version held, and the one the write-back writes */
    bool writes;                /* its write-back carries changes (set when built) */
    bool refresh;               /* and refreshes every lifetime */
    bool put;                   /* written back by cw_put (not by a transaction) */
};

struct owned_ctx {
    const struct cw_config *cfg;
    struct cw_store_batch *batches;
    size_t n;
    struct owned *acct;
    /* [n]: the day the accounts index is given for each account (ZADD GT), CW_DAY_NONE when
     * it already holds it */
    int32_t *index_day;
    /* The index's ZADD went with the last transaction's writes (store_owned_txn.c): the
     * cw_put path does not send it again. */
    bool index_written;
    size_t *load; /* the accounts to load, by index into batches */
    size_t n_load;
    struct cw_store_load_ctx l; /* the metric slots; the rules, history, silences, outbox */
    long long ttl_short, ttl_long;
    int32_t hist_from, hist_to;
    bool want_state;
    int64_t now_ms; /* wall clock: when lifetimes were refreshed */
};

/* Every lifetime of an account is refreshed at most this often (wall clock) while it is
 * held: during a backfill its newest day moves with every batch, and write_account's
 * five EXPIREs each time would be most of the write-back's work. Keys new since then get
 * theirs (EXPIRE NX for :d and :u; :r and :h inherit :m's), so a lifetime is at most this
 * much shorter than write_account would make it (docs/state.md "Accounts owned in memory"). */
#define REFRESH_EVERY_MS 3600000

/* The lifetimes account i's write-back refreshes (CW_MEM_EXPIRE_*, every lifetime at most
 * hourly while held); sets its refresh flag. */
unsigned cw_owned_expire(struct owned_ctx *x, size_t i);

/* Account i was written by another since loaded or last written: dropped from memory, to
 * be applied through Redis. */
void cw_owned_conflict(cw_store *st, struct owned_ctx *x, size_t i);

/* Account i's write-back is stored: its state now holds the version written. */
void cw_owned_written(cw_store *st, struct owned_ctx *x, size_t i);

/*
 * Write back, when the store is a single node, the accounts of x still held in chunks:
 * per chunk, WATCH of their :m keys with the versions and what the score pass reads, then
 * MULTI, the plain writes of every account whose version is still the one held, EXEC
 * (docs/state.md "Accounts owned in memory"). An account whose version moved is dropped
 * (cw_owned_conflict); the accounts of a chunk whose EXEC failed (a watched key moved in
 * between) are marked for cw_put. 0, or -1 with err (the connection is then closed).
 */
int cw_store_owned_txn(cw_store *st, struct owned_ctx *x, char *err, size_t errsize);

#endif /* CHURNWATCH_STORE_OWNED_H */
