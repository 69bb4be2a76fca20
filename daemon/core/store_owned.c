/* store_owned.c - accounts owned in memory: batches applied there, only their changes
 * written back to Redis, fenced by the account's version (docs/state.md "Accounts owned in
 * memory")
 *
 * cw_store_apply_load with a cache: the accounts of the call not held yet are loaded (the
 * HGETALLs of :m :d :u, pipelined), every account's events are applied in memory
 * (account_mem.c: the same outcome as cw_apply_delta / cw_apply), and one cw_put per
 * account writes what changed — computed values, nothing read or summed in Lua — when the
 * stored version is still the one held, returning the rules, history points, silences and
 * outbox the score pass reads besides. An account whose version moved (another instance,
 * a zombie owner, a daemon of another version applied to it) is dropped from memory and
 * applied through Redis alone (cw_store_apply_load_redis), which decides event by event;
 * so is one the memory could not hold (out of memory). When a round trip fails, every
 * account of the call is dropped: what Redis holds of them is then unknown, and the retry
 * loads them again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account_mem.h"
#include "churnwatch/account_cache.h"
#include "store_internal.h"
#include "store_owned.h"
#include "wall_clock.h"

static void mem_free(void *value, void *opaque)
{
    (void)opaque;
    cw_account_mem_free(value);
}

int cw_store_set_cache(cw_store *st, size_t budget, char *err, size_t errsize)
{
    if (budget == 0) {
        cw_cache_free(st->cache);
        st->cache = NULL;
        return 0;
    }
    if (st->cache) {
        cw_cache_set_budget(st->cache, budget);
        return 0;
    }
    st->cache = cw_cache_new(budget, mem_free, NULL);
    if (!st->cache) {
        snprintf(err, errsize, "store: out of memory");
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    st->put_seed =
        (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec << 20 ^ (uint64_t)getpid() << 40;
    return 0;
}

void cw_store_cache_stats(const cw_store *st, struct cw_store_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!st->cache)
        return;
    struct cw_cache_stats s;
    cw_cache_get_stats(st->cache, &s);
    *out = (struct cw_store_cache_stats){.entries = s.entries,
                                         .bytes = s.bytes,
                                         .budget = s.budget,
                                         .hits = s.hits,
                                         .misses = s.misses,
                                         .evictions = s.evictions,
                                         .conflicts = st->conflicts,
                                         .txn_aborts = st->txn_aborts};
}

/* A version for cw_put to write: unique to this store with overwhelming probability
 * (splitmix64 of a per-store seed and a counter), positive, below 2^62 so that
 * cw_apply's HINCRBY of it never overflows, never 0 (the version of "none"). */
static uint64_t next_version(cw_store *st)
{
    uint64_t z = st->put_seed + ++st->put_seq * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    z &= (1ULL << 62) - 1;
    return z ? z : 1;
}

/* The hashes an account held in memory is loaded from: :e only with a users section. */
static const char mem_hashes[] = {'m', 'd', 'u', 'e'};

static size_t mem_loads(const struct owned_ctx *x)
{
    return x->cfg->users.enabled ? 4 : 3;
}

static int prepare(cw_store *st, void *vctx, char *err, size_t errsize)
{
    struct owned_ctx *x = vctx;
    return cw_store_load_prepare(st, &x->l, err, errsize);
}

static int load_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct owned_ctx *x = vctx;
    cw_rcmd_adds(c, "HGETALL");
    size_t k = mem_loads(x);
    char suffix[2] = {mem_hashes[i % k], '\0'};
    cw_store_add_account_key(st, c, x->batches[x->load[i / k]].account_id, suffix);
    return c->oom ? -1 : 0;
}

static int load_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                      size_t errsize)
{
    (void)st;
    struct owned_ctx *x = vctx;
    size_t nk = mem_loads(x);
    struct cw_account_mem *mem = x->acct[x->load[i / nk]].mem;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    for (size_t k = 0; k < r->elements; k += 2) {
        const redisReply *f = r->element[k], *v = r->element[k + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "unexpected element type");
            return -1;
        }
        if (cw_account_mem_load_field(mem, mem_hashes[i % nk], f->str, f->len, v->str, v->len) <
            0) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    return 0;
}

unsigned cw_owned_expire(struct owned_ctx *x, size_t i)
{
    struct owned *o = &x->acct[i];
    unsigned expire = cw_account_mem_expire(o->mem);
    int64_t refreshed = cw_account_mem_refreshed_ms(o->mem);
    if ((expire & CW_MEM_EXPIRE_ALL) && refreshed > 0 && x->now_ms - refreshed < REFRESH_EVERY_MS &&
        x->now_ms >= refreshed)
        expire &= ~CW_MEM_EXPIRE_ALL;
    o->refresh = (expire & CW_MEM_EXPIRE_ALL) != 0;
    return expire;
}

void cw_owned_conflict(cw_store *st, struct owned_ctx *x, size_t i)
{
    st->conflicts++;
    cw_cache_remove(st->cache, x->batches[i].account_id);
    x->acct[i].mem = NULL;
}

void cw_owned_written(cw_store *st, struct owned_ctx *x, size_t i)
{
    struct owned *o = &x->acct[i];
    cw_account_mem_written(o->mem, o->writes ? o->next : o->expected);
    if (o->writes && o->refresh)
        cw_account_mem_set_refreshed_ms(o->mem, x->now_ms);
    cw_cache_resize(st->cache, x->batches[i].account_id, cw_account_mem_bytes(o->mem));
}

/* Ops 0..n-1: each account's cw_put (skipped for those applied through Redis); op n: the
 * accounts index. */
static int put_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct owned_ctx *x = vctx;
    if (i == x->n)
        return x->index_written
                   ? 1
                   : cw_store_accounts_index_build(st, x->cfg, x->batches, x->n, x->index_day, c);
    struct owned *o = &x->acct[i];
    if (!o->mem || !o->put)
        return 1;
    const char *id = x->batches[i].account_id;
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_put");
    cw_rcmd_addll(c, (long long)cw_store_load_keys(x->cfg));
    for (size_t k = 0; k < cw_store_load_keys(x->cfg); k++)
        cw_store_add_account_key(st, c, id, cw_store_load_suffix[k]);
    cw_rcmd_addf(c, "%llu", (unsigned long long)o->expected);
    cw_rcmd_addf(c, "%llu", (unsigned long long)o->next);
    cw_rcmd_addll(c, x->ttl_short);
    cw_rcmd_addll(c, x->ttl_long);
    cw_rcmd_addll(c, (long long)cw_owned_expire(x, i));
    cw_rcmd_adds(c, x->want_state ? "1" : "0");
    cw_rcmd_addll(c, x->hist_from);
    cw_rcmd_addll(c, x->hist_to);
    o->writes = cw_account_mem_put_args(o->mem, x->cfg->users.enabled, c);
    return c->oom ? -1 : 0;
}

static int put_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                     size_t errsize)
{
    struct owned_ctx *x = vctx;
    if (i == x->n)
        return r->type == REDIS_REPLY_INTEGER ? 0
                                              : (snprintf(err, errsize, "unexpected reply"), -1);
    struct owned *o = &x->acct[i];
    const char *id = x->batches[i].account_id;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "unexpected reply");
        return -1;
    }
    if (r->element[0]->integer == 0) { /* written by another: through Redis below */
        cw_owned_conflict(st, x, i);
        return 0;
    }
    cw_owned_written(st, x, i);
    if (!x->want_state)
        return 0;
    if (r->elements != 5) {
        snprintf(err, errsize, "unexpected reply: %zu elements", r->elements);
        return -1;
    }
    struct cw_account_data *d = &x->l.out[i];
    if (cw_store_load_reset(&x->l, d, id) < 0 ||
        cw_account_mem_fill(o->mem, x->cfg, x->l.slots, id, x->l.today, d) < 0) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    static const size_t which[] = {3, 4, 5, 6}; /* rules, history, silences, outbox */
    for (size_t k = 0; k < 4; k++)
        if (cw_store_load_hash(&x->l, d, id, which[k], false, r->element[1 + k], err, errsize) < 0)
            return -1;
    return 0;
}

/* Drop every account of the call from memory (what Redis holds of them is unknown). */
static void forget_all(cw_store *st, struct owned_ctx *x)
{
    for (size_t i = 0; i < x->n; i++) {
        if (x->acct[i].mem && x->acct[i].loading)
            cw_account_mem_free(x->acct[i].mem);
        else if (x->acct[i].mem)
            cw_cache_remove(st->cache, x->batches[i].account_id);
        x->acct[i].mem = NULL;
    }
}

/* The accounts not held: new in-memory states, loaded from Redis and then held (pinned). */
static int load_missing(cw_store *st, struct owned_ctx *x, char *err, size_t errsize)
{
    for (size_t i = 0; i < x->n; i++) {
        const char *id = x->batches[i].account_id;
        struct owned *o = &x->acct[i];
        o->mem = cw_cache_get(st->cache, id);
        if (o->mem) {
            cw_cache_pin(st->cache, id);
            continue;
        }
        o->mem = cw_account_mem_new();
        if (!o->mem) {
            snprintf(err, errsize, "store: out of memory");
            return -1;
        }
        o->loading = o->fresh = true;
        x->load[x->n_load++] = i;
    }
    if (x->n_load == 0)
        return 0;
    struct cw_store_ops ops = {.n = mem_loads(x) * x->n_load,
                               .ctx = x,
                               .prepare = prepare,
                               .build = load_build,
                               .reply = load_reply};
    if (cw_store_ops_run(st, &ops, err, errsize) < 0)
        return -1;
    for (size_t k = 0; k < x->n_load; k++) {
        size_t i = x->load[k];
        struct owned *o = &x->acct[i];
        const char *id = x->batches[i].account_id;
        cw_account_mem_loaded(o->mem);
        if (cw_cache_put(st->cache, id, o->mem, cw_account_mem_bytes(o->mem), 0) < 0) {
            snprintf(err, errsize, "store: out of memory");
            return -1;
        }
        o->loading = false;
        cw_cache_pin(st->cache, id);
    }
    return 0;
}

/* The accounts written by another since loaded, or not held: applied through Redis in one
 * call, which judges every event against the stored watermarks; their loaded states are
 * moved into x->l.out. 0, or -1 with err. */
static int via_redis(cw_store *st, struct owned_ctx *x, int32_t today, char *err, size_t errsize)
{
    size_t k = 0;
    for (size_t i = 0; i < x->n; i++)
        k += !x->acct[i].mem;
    if (k == 0)
        return 0;
    struct cw_store_batch *again = calloc(k, sizeof *again);
    struct cw_account_data *data = x->l.out ? calloc(k, sizeof *data) : NULL;
    int rc = -1;
    if (!again || (x->l.out && !data)) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    k = 0;
    for (size_t i = 0; i < x->n; i++)
        if (!x->acct[i].mem)
            again[k++] = x->batches[i];
    if (cw_store_apply_load_redis(st, x->cfg, again, k, today, data, err, errsize) < 0)
        goto done;
    k = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (x->acct[i].mem)
            continue;
        x->batches[i].applied = again[k].applied;
        x->batches[i].coalesced = again[k].coalesced;
        if (data) { /* the caller's buffers go to data[k], freed below */
            struct cw_account_data t = x->l.out[i];
            x->l.out[i] = data[k];
            data[k] = t;
        }
        k++;
    }
    rc = 0;
done:
    if (data)
        for (size_t j = 0; j < k; j++)
            cw_account_data_free(&data[j]);
    free(data);
    free(again);
    return rc;
}

int cw_store_apply_owned(cw_store *st, const struct cw_config *cfg, struct cw_store_batch *batches,
                         size_t n, int32_t today, struct cw_account_data *out, char *err,
                         size_t errsize)
{
    struct owned_ctx x = {
        .cfg = cfg, .batches = batches, .n = n, .want_state = out != NULL, .now_ms = cw_wall_ms()};
    long long horizon = cw_store_days_kept(cfg);
    x.ttl_short = (horizon + 1) * 86400;
    x.ttl_long = (long long)CW_STORE_LONG_TTL_DAYS * 86400;
    cw_store_history_range(cfg, today, &x.hist_from, &x.hist_to);
    x.l = (struct cw_store_load_ctx){
        .cfg = cfg, .out = out, .today = today, .horizon = cw_store_row_days(cfg)};
    x.acct = calloc(n, sizeof *x.acct);
    x.load = calloc(n, sizeof *x.load);
    x.index_day = calloc(n, sizeof *x.index_day);
    int rc = -1;
    if (!x.acct || !x.load || !x.index_day) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    if (prepare(st, &x, err, errsize) < 0)
        goto done;
    if (load_missing(st, &x, err, errsize) < 0) {
        forget_all(st, &x);
        goto done;
    }

    /* Apply in memory; an account the memory cannot hold goes through Redis. */
    int32_t max_day = CW_DAY_NONE; /* of every batch of the call */
    for (size_t i = 0; i < n; i++) {
        struct owned *o = &x.acct[i];
        int32_t before = CW_DAY_NONE, after = CW_DAY_NONE;
        bool had = cw_account_mem_last_day(o->mem, &before);
        int32_t batch_day = cw_store_batches_max_day(cfg, &batches[i], 1);
        if (batch_day > max_day)
            max_day = batch_day;
        x.index_day[i] = batch_day;
        if (cw_account_mem_apply(o->mem, cfg, x.l.slots, &batches[i]) < 0) {
            cw_cache_remove(st->cache, batches[i].account_id);
            o->mem = NULL;
            continue;
        }
        /* An account loaded by this call is indexed at its newest activity day too: a crash
         * between an earlier write-back and its ZADD left the index behind what Redis holds,
         * and the replay may bring those days in a later call, when the account is held.
         * From then on the index holds at least the newest day held in memory, so a batch
         * whose days are not later changes nothing there. */
        if (o->fresh && cw_account_mem_last_day(o->mem, &after) && after > batch_day)
            x.index_day[i] = after;
        else if (had && !o->fresh && batch_day <= before)
            x.index_day[i] = CW_DAY_NONE;
        o->expected = cw_account_mem_version(o->mem);
        do
            o->next = next_version(st);
        while (o->next == o->expected);
        o->put = st->rc.cluster; /* a cluster keeps cw_put: a transaction spans one slot */
    }
    if (!st->rc.cluster && cw_store_owned_txn(st, &x, err, errsize) < 0) {
        forget_all(st, &x);
        goto done;
    }
    struct cw_store_ops ops = {
        .n = n + 1, .ctx = &x, .prepare = prepare, .build = put_build, .reply = put_reply};
    if (cw_store_ops_run(st, &ops, err, errsize) < 0) {
        forget_all(st, &x);
        goto done;
    }

    if (via_redis(st, &x, today, err, errsize) < 0)
        goto done;
    rc = cw_store_accounts_index_trim(st, max_day, err, errsize);
done:
    if (st->cache)
        cw_cache_unpin_all(st->cache);
    free(x.acct);
    free(x.load);
    free(x.index_day);
    return rc;
}
