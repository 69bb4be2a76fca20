/* store_owned_txn.c - the write-back of accounts owned in memory as plain commands in a
 * WATCH/MULTI/EXEC transaction per chunk of accounts, on a single node (docs/state.md
 * "Accounts owned in memory")
 *
 * Per chunk, reads then writes. The reads: WATCH of the chunk's :m keys, then per account
 * HMGET :m v h_last and, when the score pass wants the state, HGETALL of :r :o, and of :x
 * unless the batch is marked unsilenced (cw_store_mark_unsilenced). An
 * account whose version is not the one held is dropped (applied through Redis by the
 * caller). The writes: MULTI, per account still held the writes cw_put would make (the
 * same arguments, cw_account_mem_put_args, turned into HSET/HDEL/EXPIRE) and the history
 * points cw_put returns (h_last read above: :m is watched, so it still holds at EXEC),
 * in the call's last transaction the accounts index's ZADD, then EXEC. When any watched :m
 * moved in between, EXEC writes nothing and answers nil: the chunk's accounts then go
 * through cw_put, which tells which of them moved. A chunk's writes and the next chunk's
 * reads share a round trip (EXEC ends the WATCH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_mem.h"
#include "churnwatch/account_cache.h"
#include "store_owned.h"

#define TXN_CHUNK 200 /* accounts per transaction: both round trips fit a pipeline */

enum txn_kind {
    T_WATCH,   /* WATCH of every :m of the chunk */
    T_VERSION, /* HMGET :m v h_last */
    T_READ,    /* HGETALL of hash k (:r :x :o) */
    T_MULTI,
    T_HSET_M,   /* HSET :m v <next> and the fields */
    T_HDEL,     /* HDEL of hash k (:d :u :e): the pruned days and users */
    T_HSET,     /* HSET of hash k (:d :u :e) */
    T_EXPIRE,   /* EXPIRE of hash k */
    T_EXPIRENX, /* EXPIRE of hash k NX */
    T_HISTORY,  /* HMGET of the history points, or HGETALL :h */
    T_INDEX,    /* ZADD GT of the accounts index: every account of the call */
    T_EXEC,
    T_UNWATCH,
};

struct txn_op {
    unsigned short acct; /* index into the chunk */
    unsigned char kind, k;
};

/* The put arguments' lists: nm (field value)*, nd (day packed)*, nu (user day)*, ngd day*,
 * ngu user*, and with a users section ne (user engagement)*, nge user*: where each list
 * starts (after its length) and how many entries it has. */
enum { L_M, L_D, L_U, L_GD, L_GU, L_E, L_GE, L_N };

/* The list of hash k's (1 :d, 2 :u, CW_STORE_KEY_ENG :e) fields to set, or to delete. */
static int list_of(unsigned k, bool del)
{
    if (k == 1)
        return del ? L_GD : L_D;
    if (k == 2)
        return del ? L_GU : L_U;
    return del ? L_GE : L_E;
}

struct txn_acct {
    size_t i;       /* index into x */
    bool has_last;  /* :m holds h_last */
    int32_t h_last; /* the newest history day */
    size_t at[L_N], count[L_N];
    struct cw_rcmd args; /* cw_account_mem_put_args */
};

struct txn {
    struct owned_ctx *x;
    struct txn_acct a[TXN_CHUNK];
    size_t n;
    struct txn_op *ops;
    size_t n_ops;
    size_t *queued; /* the op of each EXEC reply element */
    size_t n_queued;
};

static void add_key(cw_store *st, struct txn *t, size_t a, size_t k, struct cw_rcmd *c)
{
    cw_store_add_account_key(st, c, t->x->batches[t->a[a].i].account_id, cw_store_load_suffix[k]);
}

static void add_args(struct cw_rcmd *c, const struct cw_rcmd *from, size_t at, size_t n)
{
    for (size_t j = at; j < at + n; j++)
        cw_rcmd_add(c, cw_rcmd_arg(from, j), from->lens[j]);
}

static int txn_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct txn *t = vctx;
    const struct txn_op *op = &t->ops[i];
    struct txn_acct *a = &t->a[op->acct];
    struct owned_ctx *x = t->x;
    switch (op->kind) {
    case T_WATCH:
        cw_rcmd_adds(c, "WATCH");
        for (size_t k = 0; k < t->n; k++)
            add_key(st, t, k, 0, c);
        break;
    case T_VERSION:
        cw_rcmd_adds(c, "HMGET");
        add_key(st, t, op->acct, 0, c);
        cw_rcmd_adds(c, "v");
        cw_rcmd_adds(c, "h_last");
        break;
    case T_READ:
        cw_rcmd_adds(c, "HGETALL");
        add_key(st, t, op->acct, op->k, c);
        break;
    case T_MULTI:
        cw_rcmd_adds(c, "MULTI");
        break;
    case T_HSET_M:
        cw_rcmd_adds(c, "HSET");
        add_key(st, t, op->acct, 0, c);
        cw_rcmd_adds(c, "v");
        cw_rcmd_addll(c, (long long)x->acct[a->i].next);
        add_args(c, &a->args, a->at[L_M], 2 * a->count[L_M]);
        break;
    case T_HDEL:
        cw_rcmd_adds(c, "HDEL");
        add_key(st, t, op->acct, op->k, c);
        add_args(c, &a->args, a->at[list_of(op->k, true)], a->count[list_of(op->k, true)]);
        break;
    case T_HSET:
        cw_rcmd_adds(c, "HSET");
        add_key(st, t, op->acct, op->k, c);
        add_args(c, &a->args, a->at[list_of(op->k, false)], 2 * a->count[list_of(op->k, false)]);
        break;
    case T_EXPIRE:
    case T_EXPIRENX:
        cw_rcmd_adds(c, "EXPIRE");
        add_key(st, t, op->acct, op->k, c);
        cw_rcmd_addll(c, op->k == 1 || op->k == 2 || op->k == CW_STORE_KEY_ENG ? x->ttl_short
                                                                               : x->ttl_long);
        if (op->kind == T_EXPIRENX)
            cw_rcmd_adds(c, "NX");
        break;
    case T_HISTORY: /* history_points in store_functions.lua */
        if (!a->has_last) {
            cw_rcmd_adds(c, "HGETALL");
            add_key(st, t, op->acct, 4, c);
            break;
        }
        cw_rcmd_adds(c, "HMGET");
        add_key(st, t, op->acct, 4, c);
        cw_rcmd_addll(c, a->h_last);
        for (int64_t d = x->hist_from; d <= x->hist_to && d < a->h_last; d++)
            cw_rcmd_addll(c, d);
        break;
    case T_INDEX:
        if (cw_store_accounts_index_build(st, x->cfg, x->batches, x->n, x->index_day, c) != 0)
            return -1; /* planned only with members (plan_writes) */
        break;
    case T_EXEC:
        cw_rcmd_adds(c, "EXEC");
        break;
    default:
        cw_rcmd_adds(c, "UNWATCH");
        break;
    }
    return c->oom ? -1 : 0;
}

/* The history points of account a from its HMGET reply r (values of the days asked, in
 * order), as the pairs day, score that cw_store_load_hash reads. */
static int load_history(struct txn *t, struct txn_acct *a, struct cw_account_data *d,
                        const redisReply *r, char *err, size_t errsize)
{
    struct owned_ctx *x = t->x;
    const char *id = x->batches[a->i].account_id;
    if (!a->has_last)
        return cw_store_load_hash(&x->l, d, id, 4, false, r, err, errsize);
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errsize, "unexpected history reply type %d", r->type);
        return -1;
    }
    redisReply *days = calloc(r->elements ? r->elements : 1, sizeof *days);
    redisReply **pairs = calloc(r->elements ? 2 * r->elements : 1, sizeof *pairs);
    char(*text)[16] = calloc(r->elements ? r->elements : 1, sizeof *text);
    int rc = -1;
    if (!days || !pairs || !text) {
        snprintf(err, errsize, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t k = 0; k < r->elements; k++) {
        if (r->element[k]->type == REDIS_REPLY_NIL)
            continue;
        int32_t day = k == 0 ? a->h_last : x->hist_from + (int32_t)(k - 1);
        days[n].type = REDIS_REPLY_STRING;
        days[n].len = (size_t)snprintf(text[n], sizeof text[n], "%d", (int)day);
        days[n].str = text[n];
        pairs[2 * n] = &days[n];
        pairs[2 * n + 1] = r->element[k];
        n++;
    }
    redisReply h = {.type = REDIS_REPLY_ARRAY, .elements = 2 * n, .element = pairs};
    rc = cw_store_load_hash(&x->l, d, id, 4, false, &h, err, errsize);
done:
    free(days);
    free(pairs);
    free(text);
    return rc;
}

/* EXEC's reply: nil when a watched key moved (nothing written: the chunk goes through
 * cw_put), else one reply per queued command. */
static int exec_reply(cw_store *st, struct txn *t, const redisReply *r, char *err, size_t errsize)
{
    struct owned_ctx *x = t->x;
    if (r->type == REDIS_REPLY_NIL) {
        st->txn_aborts++;
        for (size_t a = 0; a < t->n; a++)
            if (x->acct[t->a[a].i].mem)
                x->acct[t->a[a].i].put = true;
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != t->n_queued) {
        snprintf(err, errsize, "unexpected EXEC reply type %d", r->type);
        return -1;
    }
    for (size_t q = 0; q < t->n_queued; q++)
        if (r->element[q]->type == REDIS_REPLY_ERROR) {
            snprintf(err, errsize, "in EXEC: %s", r->element[q]->str);
            return -1;
        }
    for (size_t a = 0; a < t->n; a++)
        if (x->acct[t->a[a].i].mem)
            cw_owned_written(st, x, t->a[a].i);
    for (size_t q = 0; q < t->n_queued; q++)
        if (t->ops[t->queued[q]].kind == T_INDEX)
            x->index_written = true;
    if (!x->want_state)
        return 0;
    for (size_t q = 0; q < t->n_queued; q++) {
        const struct txn_op *op = &t->ops[t->queued[q]];
        if (op->kind != T_HISTORY)
            continue;
        struct txn_acct *a = &t->a[op->acct];
        const char *id = x->batches[a->i].account_id;
        struct cw_account_data *d = &x->l.out[a->i];
        if (cw_account_mem_fill(x->acct[a->i].mem, x->cfg, x->l.slots, id, x->l.today, d) < 0) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        if (load_history(t, a, d, r->element[q], err, errsize) < 0)
            return -1;
        d->h_last_known = true; /* read under the WATCH with the version */
        d->h_last = a->has_last ? a->h_last : CW_DAY_NONE;
    }
    return 0;
}

static int txn_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                     size_t errsize)
{
    struct txn *t = vctx;
    struct owned_ctx *x = t->x;
    const struct txn_op *op = &t->ops[i];
    struct txn_acct *a = &t->a[op->acct];
    struct owned *o = &x->acct[a->i];
    switch (op->kind) {
    case T_VERSION: {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            snprintf(err, errsize, "unexpected reply type %d", r->type);
            return -1;
        }
        const redisReply *v = r->element[0], *last = r->element[1];
        char want[24];
        int len = snprintf(want, sizeof want, "%llu", (unsigned long long)o->expected);
        bool same = v->type == REDIS_REPLY_STRING
                        ? v->len == (size_t)len && memcmp(v->str, want, v->len) == 0
                        : o->expected == 0;
        if (!same) {
            cw_owned_conflict(st, x, a->i);
            return 0;
        }
        a->has_last =
            last->type == REDIS_REPLY_STRING && cw_parse_i32(last->str, last->len, &a->h_last) == 0;
        return 0;
    }
    case T_READ: {
        if (!o->mem)
            return 0;
        const char *id = x->batches[a->i].account_id;
        struct cw_account_data *d = &x->l.out[a->i];
        if (op->k == 3 && cw_store_load_reset(&x->l, d, id) < 0) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        return cw_store_load_hash(&x->l, d, id, op->k, false, r, err, errsize);
    }
    case T_EXEC:
        return exec_reply(st, t, r, err, errsize);
    default: /* WATCH, MULTI, UNWATCH: OK; the commands queued: QUEUED */
        if (r->type != REDIS_REPLY_STATUS) {
            snprintf(err, errsize, "unexpected reply type %d", r->type);
            return -1;
        }
        return 0;
    }
}

static void op_add(struct txn *t, size_t a, unsigned char kind, unsigned char k)
{
    t->ops[t->n_ops++] = (struct txn_op){.acct = (unsigned short)a, .kind = kind, .k = k};
}

/* Account a's put arguments, split into their lists. 0, or -1 with err. */
static int split_args(struct owned_ctx *x, struct txn_acct *a, char *err, size_t errsize)
{
    struct owned *o = &x->acct[a->i];
    cw_rcmd_reset(&a->args);
    bool eng = x->cfg->users.enabled;
    o->writes = cw_account_mem_put_args(o->mem, eng, &a->args);
    if (a->args.oom) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    size_t pos = 0;
    a->count[L_E] = a->count[L_GE] = 0;
    for (int l = 0; l < (eng ? L_N : L_E); l++) {
        char *end;
        const char *s = cw_rcmd_arg(&a->args, pos);
        unsigned long long n = strtoull(s, &end, 10);
        size_t width = l < L_GD || l == L_E ? 2 : 1;
        if (pos >= a->args.n || end == s || *end || n > (a->args.n - pos - 1) / width) {
            snprintf(err, errsize, "bad write-back arguments");
            return -1;
        }
        a->at[l] = pos + 1;
        a->count[l] = (size_t)n;
        pos += 1 + width * (size_t)n;
    }
    if (pos != a->args.n) {
        snprintf(err, errsize, "bad write-back arguments");
        return -1;
    }
    return 0;
}

/* Whether the accounts index's ZADD of the call names any account. */
static bool index_members(const struct owned_ctx *x)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->index_day[i] != CW_DAY_NONE)
            return true;
    return false;
}

/* The second round trip's commands: MULTI, each account's writes and history read, in the
 * call's last chunk (last) the accounts index's ZADD, EXEC; UNWATCH alone when no account
 * of the chunk is still held. The ZADD in the transaction lands with the writes it
 * indexes, or (EXEC found a watched key moved) with the cw_put path's. */
static int plan_writes(struct txn *t, bool last, char *err, size_t errsize)
{
    struct owned_ctx *x = t->x;
    t->n_ops = t->n_queued = 0;
    bool any = false;
    for (size_t a = 0; a < t->n; a++)
        any |= x->acct[t->a[a].i].mem != NULL;
    if (!any) {
        op_add(t, 0, T_UNWATCH, 0);
        return 0;
    }
    op_add(t, 0, T_MULTI, 0);
    for (size_t a = 0; a < t->n; a++) {
        struct txn_acct *ta = &t->a[a];
        if (!x->acct[ta->i].mem)
            continue;
        if (split_args(x, ta, err, errsize) < 0)
            return -1;
        size_t first = t->n_ops;
        if (x->acct[ta->i].writes) { /* cw_put's order */
            unsigned expire = cw_owned_expire(x, ta->i);
            const unsigned char e = CW_STORE_KEY_ENG;
            bool eng = x->cfg->users.enabled;
            op_add(t, a, T_HSET_M, 0);
            for (unsigned char k = 1; k <= 2; k++)
                if (ta->count[list_of(k, true)])
                    op_add(t, a, T_HDEL, k);
            for (unsigned char k = 1; k <= 2; k++)
                if (ta->count[list_of(k, false)])
                    op_add(t, a, T_HSET, k);
            if (ta->count[L_GE])
                op_add(t, a, T_HDEL, e);
            if (ta->count[L_E])
                op_add(t, a, T_HSET, e);
            if (expire & CW_MEM_EXPIRE_ALL) {
                static const unsigned char order[] = {1, 2, 0, 3, 4}; /* refresh_lifetimes */
                for (size_t k = 0; k < 5; k++)
                    op_add(t, a, T_EXPIRE, order[k]);
                if (eng)
                    op_add(t, a, T_EXPIRE, e);
            } else {
                if (expire & CW_MEM_EXPIRE_DAYS_NX)
                    op_add(t, a, T_EXPIRENX, 1);
                if (expire & CW_MEM_EXPIRE_USERS_NX)
                    op_add(t, a, T_EXPIRENX, 2);
                if (eng && (expire & CW_MEM_EXPIRE_ENG_NX))
                    op_add(t, a, T_EXPIRENX, e);
            }
        }
        if (x->want_state)
            op_add(t, a, T_HISTORY, 4);
        for (size_t q = first; q < t->n_ops; q++)
            t->queued[t->n_queued++] = q;
    }
    if (last && index_members(x)) {
        t->queued[t->n_queued++] = t->n_ops;
        op_add(t, 0, T_INDEX, 0);
    }
    op_add(t, 0, T_EXEC, 0);
    return 0;
}

/* The first round trip's commands: WATCH of the chunk's :m keys, each account's version
 * and newest history day and, when the score pass wants the state, its :r :x :o. */
static void plan_reads(struct txn *t)
{
    t->n_ops = 0;
    op_add(t, 0, T_WATCH, 0);
    for (size_t a = 0; a < t->n; a++) {
        op_add(t, a, T_VERSION, 0);
        if (t->x->want_state) {
            op_add(t, a, T_READ, 3);
            if (!t->x->batches[t->a[a].i].unsilenced)
                op_add(t, a, T_READ, 5);
            op_add(t, a, T_READ, 6);
        }
    }
}

/* One round trip: a chunk's writes (w, or NULL), then the next chunk's reads (r, or NULL).
 * EXEC ends w's transaction and its WATCH, so r's WATCH may follow it on the connection. */
struct round {
    struct txn *w, *r;
};

static int round_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct round *rd = vctx;
    size_t nw = rd->w ? rd->w->n_ops : 0;
    return i < nw ? txn_build(st, rd->w, i, c) : txn_build(st, rd->r, i - nw, c);
}

static int round_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                       size_t errsize)
{
    struct round *rd = vctx;
    size_t nw = rd->w ? rd->w->n_ops : 0;
    return i < nw ? txn_reply(st, rd->w, i, r, err, errsize)
                  : txn_reply(st, rd->r, i - nw, r, err, errsize);
}

static int run(cw_store *st, struct txn *w, struct txn *r, char *err, size_t errsize)
{
    struct round rd = {w, r};
    struct cw_store_ops ops = {.n = (w ? w->n_ops : 0) + (r ? r->n_ops : 0),
                               .ctx = &rd,
                               .build = round_build,
                               .reply = round_reply};
    return cw_store_ops_run(st, &ops, err, errsize);
}

/* The next chunk of accounts still held, from *i on, into t. */
static void take_chunk(struct owned_ctx *x, struct txn *t, size_t *i)
{
    t->n = 0;
    for (; *i < x->n && t->n < TXN_CHUNK; (*i)++)
        if (x->acct[*i].mem)
            t->a[t->n++].i = *i;
}

/*
 * Every chunk: its reads, then its writes. A chunk's writes share their round trip with
 * the next chunk's reads, so the daemon waits for Redis once per chunk, not twice: one
 * round trip for the first chunk's reads, then one per chunk.
 */
static int chunks(cw_store *st, struct txn *cur, struct txn *next, char *err, size_t errsize)
{
    struct owned_ctx *x = cur->x;
    size_t i = 0;
    take_chunk(x, cur, &i);
    if (cur->n == 0)
        return 0;
    plan_reads(cur);
    if (run(st, NULL, cur, err, errsize) < 0)
        return -1;
    for (;;) {
        if (st->txn_hook)
            st->txn_hook(st->txn_hook_arg);
        take_chunk(x, next, &i);
        if (plan_writes(cur, next->n == 0, err, errsize) < 0)
            return -1;
        if (next->n > 0)
            plan_reads(next);
        if (run(st, cur, next->n > 0 ? next : NULL, err, errsize) < 0)
            return -1;
        if (next->n == 0)
            return 0;
        struct txn *done = cur;
        cur = next;
        next = done;
    }
}

int cw_store_owned_txn(cw_store *st, struct owned_ctx *x, char *err, size_t errsize)
{
    struct txn *t = calloc(2, sizeof *t);
    size_t cap = 3 + TXN_CHUNK * 16; /* per account at most 15 ops (plan_writes) */
    int rc = -1;
    if (t)
        for (int k = 0; k < 2; k++) {
            t[k].x = x;
            t[k].ops = malloc(cap * sizeof *t[k].ops);
            t[k].queued = malloc(cap * sizeof *t[k].queued);
        }
    if (!t || !t[0].ops || !t[0].queued || !t[1].ops || !t[1].queued) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    rc = chunks(st, &t[0], &t[1], err, errsize);
    if (rc < 0)
        cw_rcluster_drop_all(&st->rc); /* a WATCH, or a MULTI, may be left open */
done:
    if (t) {
        for (int k = 0; k < 2; k++) {
            for (size_t a = 0; a < TXN_CHUNK; a++)
                cw_rcmd_free(&t[k].a[a].args);
            free(t[k].ops);
            free(t[k].queued);
        }
        free(t);
    }
    return rc;
}
