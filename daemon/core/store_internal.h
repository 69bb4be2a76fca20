/* store_internal.h - what the Redis store's translation units share (not part of the seam) */
#ifndef CHURNWATCH_STORE_INTERNAL_H
#define CHURNWATCH_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "redis_cmd.h"
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

/* Counter of slot in a packed day value (little-endian u32 per slot); 0 past its end. */
uint32_t cw_counters_get(const char *v, size_t len, int slot);

/* Parse a whole decimal int64 from v[0..len). 0 or -1. */
int cw_parse_i64(const char *v, size_t len, int64_t *out);

/* Events of one account per cw_apply call (keeps each script short). */
#define CW_STORE_EVENTS_PER_CALL 1024

/* Days per metric row of a load: the longest window (at least 1). */
uint32_t cw_store_row_days(const struct cw_config *cfg);

/* Days of :d and :u kept behind an account's newest day, the apply functions' horizon:
 * the rows, the lateness in whole days (`lateness`, docs/configuration.md), and 2. */
long long cw_store_days_kept(const struct cw_config *cfg);

/* ---- apply arguments (store_delta.c) ---- */

/* Whether the store can apply e (a known type, a source); the others are skipped. */
bool cw_store_event_usable(const struct cw_config *cfg, const struct cw_store_event *e);

/* An event's flags in the apply functions: 1 = an activity event (every type but a
 * traits-only one), 2 = it carries traits. */
int cw_store_event_flags(const struct cw_config *cfg, const struct cw_store_event *e);

/* The six trait arguments of cw_apply and cw_apply_delta ("" = not carried). */
void cw_store_add_traits(struct cw_rcmd *c, const struct cw_traits *t);

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
