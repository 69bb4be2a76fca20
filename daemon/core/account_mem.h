/* account_mem.h - one account's applied state held in memory, batches applied to it as the
 * store's apply functions apply them */
#ifndef CHURNWATCH_ACCOUNT_MEM_H
#define CHURNWATCH_ACCOUNT_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_cmd.h"
#include "store.h"

/*
 * What the store's apply functions keep of an account (docs/state.md, "In-memory apply"):
 * per source (topic, partition) the applied-offset watermark, per event type (by name)
 * the newest event time, first_day, last_day, last_seen, the traits with the time of the
 * traits event they come from, the day counters by metric slot and each user's last
 * active day, including the days and users a store would still hold past the rows a
 * load reads. Not kept: key lifetimes, the score history, rule states, silences, the
 * outbox, the accounts index (other functions own them).
 */
struct cw_account_mem;

/* An empty account (never applied): NULL when out of memory. */
struct cw_account_mem *cw_account_mem_new(void);

/* cw_account_mem_free(NULL) is a no-op. */
void cw_account_mem_free(struct cw_account_mem *a);

/*
 * Apply b's events to a with the outcome cw_store_apply_load has on the stored account:
 * events the store cannot use are skipped; when every source of the batch is past its
 * watermark the batch is applied as cw_apply_delta applies it (b->coalesced); when every
 * source was applied before nothing changes (b->coalesced, b->applied 0); otherwise the
 * events are applied one by one as cw_apply does, a replay each at or below its source's
 * watermark. b->applied counts the events applied. slots[m] is the stable slot of cfg's
 * metric m (-1: none), as the store resolved them; b->clock_day bounds the pruning as in
 * the store. 0, or -1 when out of memory: a is then unusable (every later call fails) and
 * must be freed and loaded again.
 */
int cw_account_mem_apply(struct cw_account_mem *a, const struct cw_config *cfg, const int *slots,
                         struct cw_store_batch *b);

/*
 * Fill d as cw_store_load (or the state cw_apply_delta returns) fills it for an account
 * holding what a holds, with daily rows relative to today: account_id, exists,
 * first_day, last_seen_ms, traits, today, horizon, n_metrics, daily, user_last_day (in
 * no particular order, as the store's), type_last_ms. The history, last score, rules,
 * silences and outbox are not part of a and are left as they are. d is zero-initialised
 * before its first use and released with cw_account_data_free(). 0, or -1 when out of
 * memory or a is unusable.
 */
int cw_account_mem_fill(const struct cw_account_mem *a, const struct cw_config *cfg,
                        const int *slots, const char *account_id, int32_t today,
                        struct cw_account_data *d);

/* Applies use a scratch area per thread, kept from one apply to the next: this frees the
 * calling thread's (e.g. when it closes its store; the next apply allocates it again). */
void cw_account_mem_release_scratch(void);

/* The applied-offset watermark of (topic, partition): -1 when none was applied. */
int64_t cw_account_mem_watermark(const struct cw_account_mem *a, const char *topic,
                                 int32_t partition);

/*
 * ---- Owned in memory, written back (docs/state.md "Accounts owned in memory") ----
 *
 * An account loaded from the store (cw_account_mem_load_field for every field of its
 * :m, :d and :u hashes, and :e with a users section, then cw_account_mem_loaded) holds what the
 * store holds. Each apply then records what it changed; cw_account_mem_put_args writes those
 * changes as the arguments of the store's cw_put function, and cw_account_mem_written, once the
 * store acknowledged them, forgets them and keeps the version the store now has.
 */

/* One field of hash 'm', 'd', 'u' or 'e' (the users' engagement) as stored (fields that are not the
 * applied state, and unparsable values, are ignored). 0, or -1 when out of memory (a is then
 * unusable). */
int cw_account_mem_load_field(struct cw_account_mem *a, char hash, const char *f, size_t flen,
                              const char *v, size_t vlen);

/* Every field loaded: nothing to write back; the version is the `v` field loaded (0 none). */
void cw_account_mem_loaded(struct cw_account_mem *a);

/* The account's newest activity day into *day; false when it has none. */
bool cw_account_mem_last_day(const struct cw_account_mem *a, int32_t *day);

/* The store's version of the account as loaded or last written. */
uint64_t cw_account_mem_version(const struct cw_account_mem *a);

/* Which lifetimes the changes refresh, as write_account in store_functions.lua would; the
 * NX ones only for a hash the write-back may create (none of its held fields survives). */
#define CW_MEM_EXPIRE_ALL      1u /* all of :m :d :u :r :h (and :e) */
#define CW_MEM_EXPIRE_DAYS_NX  2u /* :d, when it has none */
#define CW_MEM_EXPIRE_USERS_NX 4u /* :u, when it has none */
#define CW_MEM_EXPIRE_ENG_NX   8u /* :e, when it has none */
unsigned cw_account_mem_expire(const struct cw_account_mem *a);

/*
 * Append the changes since loaded or written to c as cw_put takes them: nm (field value)*
 * of :m, nd (day packed)* of :d, nu (user day)* of :u, then the days and the users to
 * delete from :d and :u (pruned), and with eng ne (user engagement)* of :e and the users to
 * delete from it, each list preceded by its length. True when there is anything to write.
 * c->oom is set when out of memory.
 */
bool cw_account_mem_put_args(const struct cw_account_mem *a, bool eng, struct cw_rcmd *c);

/* The changes are stored, and the store's version is now version. */
void cw_account_mem_written(struct cw_account_mem *a, uint64_t version);

/* When the holder last refreshed every lifetime of the stored account (its clock's ms;
 * 0: never, e.g. just loaded): kept with the account for the store (store_owned.c), not
 * part of the state. */
int64_t cw_account_mem_refreshed_ms(const struct cw_account_mem *a);
void cw_account_mem_set_refreshed_ms(struct cw_account_mem *a, int64_t ms);

/* The bytes a takes (its allocations, with an estimate of the allocator's overhead). */
size_t cw_account_mem_bytes(const struct cw_account_mem *a);

#endif /* CHURNWATCH_ACCOUNT_MEM_H */
