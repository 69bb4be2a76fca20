/* store_admin.c - the store's operator side: scans, top, silences, rescore, heartbeat, floors */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"

/* ---- scan, top ---------------------------------------------------------------------- */

/* Fetch the next ZSCAN page of the accounts index into the scan buffer. */
static int scan_fetch(cw_store *st, size_t count, char *err, size_t errsize)
{
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZSCAN");
    cw_store_add_global_key(st, c, "accounts");
    cw_rcmd_addf(c, "%llu", st->scan_redis_cursor);
    cw_rcmd_adds(c, "COUNT");
    cw_rcmd_addll(c, (long long)count);
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    const redisReply *cur, *items;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        (cur = r->element[0])->type != REDIS_REPLY_STRING ||
        (items = r->element[1])->type != REDIS_REPLY_ARRAY || items->elements % 2 != 0)
        goto bad;
    char *end;
    unsigned long long next = strtoull(cur->str, &end, 10);
    if (end == cur->str || *end)
        goto bad;
    size_t n = items->elements / 2;
    if (n > st->scan_cap) {
        char(*ids)[CW_ID_MAX + 1] = realloc(st->scan_ids, n * sizeof *ids);
        if (!ids) {
            freeReplyObject(r);
            snprintf(err, errsize, "redis %s: out of memory", st->name);
            return -1;
        }
        st->scan_ids = ids;
        st->scan_cap = n;
    }
    st->scan_n = st->scan_pos = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = items->element[2 * i];
        if (m->type != REDIS_REPLY_STRING)
            goto bad;
        if (m->len == 0 || m->len > CW_ID_MAX || memchr(m->str, '\0', m->len))
            continue; /* not an id this daemon could have written */
        memcpy(st->scan_ids[st->scan_n], m->str, m->len + 1);
        st->scan_n++;
    }
    st->scan_redis_cursor = next;
    st->scan_redis_done = next == 0;
    freeReplyObject(r);
    return 0;
bad:
    snprintf(err, errsize, "redis %s: ZSCAN %saccounts: unexpected reply", st->name, st->prefix);
    freeReplyObject(r);
    return -1;
}

int cw_store_scan_accounts(cw_store *st, uint64_t *cursor, char (*ids)[CW_ID_MAX + 1], size_t max,
                           char *err, size_t errsize)
{
    if (*cursor == 0) {
        st->scan_token = ++st->scan_seq;
        st->scan_n = st->scan_pos = 0;
        st->scan_redis_cursor = 0;
        st->scan_redis_done = false;
    } else if (*cursor != st->scan_token) {
        snprintf(err, errsize, "store: scan cursor %" PRIu64 " is not the current scan", *cursor);
        return -1;
    }
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    size_t count = 0;
    while (count < max) {
        if (st->scan_pos < st->scan_n) {
            memcpy(ids[count++], st->scan_ids[st->scan_pos++], CW_ID_MAX + 1);
            continue;
        }
        if (st->scan_redis_done)
            break;
        if (scan_fetch(st, max - count, err, errsize) < 0)
            return -1;
    }
    *cursor = (st->scan_pos == st->scan_n && st->scan_redis_done) ? 0 : st->scan_token;
    if (count > INT32_MAX) {
        snprintf(err, errsize, "store: scan page too large");
        return -1;
    }
    return (int)count;
}

int cw_store_lowest_scores(cw_store *st, size_t max, char (*ids)[CW_ID_MAX + 1], double *scores,
                           char *err, size_t errsize)
{
    return cw_store_scores_range(st, 0, max, ids, scores, err, errsize);
}

int cw_store_scores_range(cw_store *st, size_t start, size_t max, char (*ids)[CW_ID_MAX + 1],
                          double *scores, char *err, size_t errsize)
{
    if (max == 0)
        return 0;
    if (max > INT32_MAX || start > INT64_MAX / 2) {
        snprintf(err, errsize, "store: too many scores asked for");
        return -1;
    }
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZRANGE");
    cw_store_add_global_key(st, c, "scores");
    cw_rcmd_addll(c, (long long)start);
    cw_rcmd_addll(c, (long long)(start + max) - 1);
    cw_rcmd_adds(c, "WITHSCORES");
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
        goto bad;
    size_t count = 0;
    for (size_t i = 0; i + 1 < r->elements && count < max; i += 2) {
        const redisReply *m = r->element[i], *s = r->element[i + 1];
        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
            goto bad;
        if (m->len == 0 || m->len > CW_ID_MAX || memchr(m->str, '\0', m->len))
            continue;
        char *end;
        double v = strtod(s->str, &end);
        if (end == s->str || *end)
            goto bad;
        memcpy(ids[count], m->str, m->len + 1);
        scores[count] = v;
        count++;
    }
    freeReplyObject(r);
    return (int)count;
bad:
    snprintf(err, errsize, "redis %s: ZRANGE %sscores: unexpected reply", st->name, st->prefix);
    freeReplyObject(r);
    return -1;
}

int cw_store_count_accounts(cw_store *st, long long *accounts, long long *scored, char *err,
                            size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    const char *keys[2] = {"accounts", "scores"};
    long long *outs[2] = {accounts, scored};
    for (int i = 0; i < 2; i++) {
        cw_rcmd_reset(&st->cmd);
        cw_rcmd_adds(&st->cmd, "ZCARD");
        cw_store_add_global_key(st, &st->cmd, keys[i]);
        if (cw_store_command_int(st, outs[i], err, errsize) != 0)
            return -1;
    }
    return 0;
}

int cw_store_count_scores(cw_store *st, double min, double below, long long *n, char *err,
                          size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "ZCOUNT");
    cw_store_add_global_key(st, &st->cmd, "scores");
    cw_rcmd_addf(&st->cmd, "%.17g", min);
    if (below > 1e300)
        cw_rcmd_adds(&st->cmd, "+inf");
    else
        cw_rcmd_addf(&st->cmd, "(%.17g", below);
    return cw_store_command_int(st, n, err, errsize);
}

/* ---- silences ----------------------------------------------------------------------- */

int cw_store_silence_set(cw_store *st, const struct cw_silence *s, char *err, size_t errsize)
{
    if (!s->account_id[0] || strcmp(s->rule, "*") == 0) {
        snprintf(err, errsize, "store: a silence needs an account id and a rule name or \"\"");
        return -1;
    }
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    char value[64 + sizeof s->reason];
    cw_silence_value_encode(s, value, sizeof value);
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "FCALL");
    cw_rcmd_adds(c, "cw_silence_set");
    cw_rcmd_adds(c, "1");
    cw_store_add_account_key(st, c, s->account_id, "x");
    cw_rcmd_adds(c, s->rule[0] ? s->rule : "*");
    cw_rcmd_adds(c, value);
    if (cw_store_command_int(st, NULL, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SADD");
    cw_store_add_global_key(st, c, "silences");
    cw_rcmd_adds(c, s->account_id);
    return cw_store_command_int(st, NULL, err, errsize);
}

/*
 * The silences index (`Psilences`) lists every account that may have silences: a
 * write-back reads the silences of the accounts it lists only (cw_store_mark_unsilenced). An
 * account is dropped from it when its silences are gone, then listed again if one was
 * set meanwhile (cw_store_silence_set writes :x, then adds the account): whatever the
 * interleaving, an account with silences ends up listed.
 */
struct unlist_ctx {
    const char *const *ids;
    bool *again; /* [n]: has silences after all */
};

static int unlist_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct unlist_ctx *u = vctx;
    cw_rcmd_adds(c, "HLEN");
    cw_store_add_account_key(st, c, u->ids[i], "x");
    return c->oom ? -1 : 0;
}

static int unlist_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                        size_t errsize)
{
    (void)st;
    struct unlist_ctx *u = vctx;
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "HLEN: unexpected reply type %d", r->type);
        return -1;
    }
    u->again[i] = r->integer > 0;
    return 0;
}

static int unlist(cw_store *st, const char *const *ids, size_t n, char *err, size_t errsize)
{
    if (n == 0)
        return 0;
    if (st->txn_hook)
        st->txn_hook(st->txn_hook_arg);
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SREM");
    cw_store_add_global_key(st, c, "silences");
    for (size_t i = 0; i < n; i++)
        cw_rcmd_adds(c, ids[i]);
    if (cw_store_command_int(st, NULL, err, errsize) < 0)
        return -1;
    bool *again = calloc(n, sizeof *again);
    if (!again) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        return -1;
    }
    struct unlist_ctx u = {ids, again};
    struct cw_store_ops o = {.n = n, .ctx = &u, .build = unlist_build, .reply = unlist_reply};
    int rc = cw_store_ops_run(st, &o, err, errsize);
    size_t back = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        back += again[i];
    if (rc == 0 && back > 0) {
        cw_rcmd_reset(c);
        cw_rcmd_adds(c, "SADD");
        cw_store_add_global_key(st, c, "silences");
        for (size_t i = 0; i < n; i++)
            if (again[i])
                cw_rcmd_adds(c, ids[i]);
        rc = cw_store_command_int(st, NULL, err, errsize);
    }
    free(again);
    return rc;
}

int cw_store_silence_delete(cw_store *st, const char *account_id, const char *rule, char *err,
                            size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    if (rule && *rule) {
        cw_rcmd_adds(c, "HDEL");
        cw_store_add_account_key(st, c, account_id, "x");
        cw_rcmd_adds(c, rule);
    } else {
        cw_rcmd_adds(c, "DEL");
        cw_store_add_account_key(st, c, account_id, "x");
    }
    if (cw_store_command_int(st, NULL, err, errsize) < 0)
        return -1;
    /* The index lists accounts that may have silences; drop one that has none. */
    long long left = 0;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "HLEN");
    cw_store_add_account_key(st, c, account_id, "x");
    if (cw_store_command_int(st, &left, err, errsize) < 0)
        return -1;
    return left > 0 ? 0 : unlist(st, &account_id, 1, err, errsize);
}

struct silence_ctx {
    const redisReply *members;
    int64_t now_ms;
    struct cw_silence *out;
    size_t n, cap;
    size_t *gone; /* members whose silences all expired */
    size_t n_gone;
};

static int silence_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct silence_ctx *s = vctx;
    cw_rcmd_adds(c, "HGETALL");
    cw_store_add_account_key(st, c, s->members->element[i]->str, "x");
    return c->oom ? -1 : 0;
}

static int silence_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                         size_t errsize)
{
    (void)st;
    struct silence_ctx *s = vctx;
    const redisReply *m = s->members->element[i];
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    if (r->elements == 0)
        s->gone[s->n_gone++] = i;
    for (size_t k = 0; k < r->elements; k += 2) {
        const redisReply *f = r->element[k], *v = r->element[k + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "unexpected element type");
            return -1;
        }
        struct cw_silence one;
        memset(&one, 0, sizeof one);
        if (f->len >= sizeof one.rule || m->len > CW_ID_MAX ||
            cw_silence_value_decode(v->str, v->len, &one) < 0 || one.until_ms <= s->now_ms)
            continue;
        memcpy(one.account_id, m->str, m->len + 1);
        if (strcmp(f->str, "*") != 0)
            memcpy(one.rule, f->str, f->len + 1);
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            struct cw_silence *o = realloc(s->out, cap * sizeof *o);
            if (!o) {
                snprintf(err, errsize, "out of memory");
                return -1;
            }
            s->out = o;
            s->cap = cap;
        }
        s->out[s->n++] = one;
    }
    return 0;
}

int cw_store_silence_list(cw_store *st, int64_t now_ms, struct cw_silence **out, size_t *n,
                          char *err, size_t errsize)
{
    *out = NULL;
    *n = 0;
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SMEMBERS");
    cw_store_add_global_key(st, c, "silences");
    redisReply *members = cw_store_command(st, err, errsize);
    if (!members)
        return -1;
    struct silence_ctx s = {.members = members, .now_ms = now_ms};
    int rc = -1;
    if (members->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errsize, "redis %s: SMEMBERS %ssilences: unexpected reply", st->name,
                 st->prefix);
        goto done;
    }
    for (size_t i = 0; i < members->elements; i++)
        if (members->element[i]->type != REDIS_REPLY_STRING) {
            snprintf(err, errsize, "redis %s: SMEMBERS %ssilences: unexpected element", st->name,
                     st->prefix);
            goto done;
        }
    s.gone = malloc((members->elements ? members->elements : 1) * sizeof *s.gone);
    if (!s.gone) {
        snprintf(err, errsize, "redis %s: out of memory", st->name);
        goto done;
    }
    struct cw_store_ops o = {
        .n = members->elements, .ctx = &s, .build = silence_build, .reply = silence_reply};
    if (cw_store_ops_run(st, &o, err, errsize) < 0)
        goto done;
    if (s.n_gone > 0) {
        /* Forget the accounts whose key has expired with their last silence. */
        const char **ids = malloc(s.n_gone * sizeof *ids);
        if (!ids) {
            snprintf(err, errsize, "redis %s: out of memory", st->name);
            goto done;
        }
        for (size_t i = 0; i < s.n_gone; i++)
            ids[i] = members->element[s.gone[i]]->str;
        int unlisted = unlist(st, ids, s.n_gone, err, errsize);
        free(ids);
        if (unlisted < 0)
            goto done;
    }
    *out = s.out;
    *n = s.n;
    s.out = NULL;
    rc = 0;
done:
    free(s.out);
    free(s.gone);
    freeReplyObject(members);
    return rc;
}

struct unsilenced_ctx {
    struct cw_store_batch *batches;
    size_t n;
};

static int unsilenced_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    (void)i;
    struct unsilenced_ctx *u = vctx;
    cw_rcmd_adds(c, "SMISMEMBER");
    cw_store_add_global_key(st, c, "silences");
    for (size_t k = 0; k < u->n; k++)
        cw_rcmd_adds(c, u->batches[k].account_id);
    return c->oom ? -1 : 0;
}

static int unsilenced_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                            size_t errsize)
{
    (void)st;
    (void)i;
    struct unsilenced_ctx *u = vctx;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != u->n) {
        snprintf(err, errsize, "SMISMEMBER: unexpected reply (type %d)", r->type);
        return -1;
    }
    for (size_t k = 0; k < u->n; k++)
        if (r->element[k]->type != REDIS_REPLY_INTEGER) {
            snprintf(err, errsize, "SMISMEMBER: unexpected element type %d", r->element[k]->type);
            return -1;
        }
    for (size_t k = 0; k < u->n; k++)
        u->batches[k].unsilenced = r->element[k]->integer == 0;
    return 0;
}

int cw_store_mark_unsilenced(cw_store *st, struct cw_store_batch *batches, size_t n, char *err,
                             size_t errsize)
{
    for (size_t k = 0; k < n; k++)
        batches[k].unsilenced = false;
    if (n == 0 || st->rc.cluster)
        return 0;
    struct unsilenced_ctx u = {batches, n};
    struct cw_store_ops o = {
        .n = 1, .ctx = &u, .build = unsilenced_build, .reply = unsilenced_reply};
    return cw_store_ops_run(st, &o, err, errsize);
}

/* ---- rescore ------------------------------------------------------------------------ */

int cw_store_rescore_request(cw_store *st, int64_t now_ms, char *err, size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    static unsigned seq;
    cw_rcmd_adds(c, "SET");
    cw_store_add_global_key(st, c, "rescore");
    /* unique per request: two requests in one millisecond are two */
    cw_rcmd_addf(c, "%lld-%ld-%u", (long long)now_ms, (long)getpid(), ++seq);
    cw_rcmd_adds(c, "PX");
    cw_rcmd_adds(c, "3600000");
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_STATUS) {
        snprintf(err, errsize, "redis %s: SET %srescore: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_rescore_take(cw_store *st, char *err, size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "GET");
    cw_store_add_global_key(st, c, "rescore");
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    int rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = 0;
    } else if (r->type == REDIS_REPLY_STRING) {
        rc = strcmp(r->str, st->rescore_seen) != 0;
        snprintf(st->rescore_seen, sizeof st->rescore_seen, "%s", r->str);
    } else {
        snprintf(err, errsize, "redis %s: GET %srescore: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    if (rc < 0)
        return rc;
    /* the poll is the daemon's heartbeat: `churnwatch rescore` looks for it */
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "SET");
    cw_store_add_global_key(st, c, "alive");
    cw_rcmd_adds(c, "1");
    cw_rcmd_adds(c, "PX");
    cw_rcmd_addll(c, CW_STORE_ALIVE_TTL_MS);
    if (!(r = cw_store_command(st, err, errsize)))
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        snprintf(err, errsize, "redis %s: SET %salive: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_daemon_alive(cw_store *st, char *err, size_t errsize)
{
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    cw_rcmd_reset(&st->cmd);
    cw_rcmd_adds(&st->cmd, "EXISTS");
    cw_store_add_global_key(st, &st->cmd, "alive");
    long long n = 0;
    if (cw_store_command_int(st, &n, err, errsize) != 0)
        return -1;
    return n > 0;
}

/* ---- event-time floors ---------------------------------------------------------------- */

static int add_floor_member(struct cw_rcmd *c, const struct cw_store_floor *f)
{
    return cw_rcmd_addf(c, "%s:%" PRId32, f->topic, f->partition);
}

int cw_store_floors_save(cw_store *st, const struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize)
{
    size_t known = 0;
    for (size_t i = 0; i < n; i++)
        known += f[i].ms >= 0;
    if (known == 0)
        return 0;
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZADD");
    cw_store_add_global_key(st, c, "floors");
    cw_rcmd_adds(c, "GT");
    for (size_t i = 0; i < n; i++) {
        if (f[i].ms < 0)
            continue;
        cw_rcmd_addll(c, f[i].ms);
        add_floor_member(c, &f[i]);
    }
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "redis %s: ZADD %sfloors: unexpected reply", st->name, st->prefix);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int cw_store_floors_load(cw_store *st, struct cw_store_floor *f, size_t n, char *err,
                         size_t errsize)
{
    if (n == 0)
        return 0;
    if (cw_store_ensure(st, err, errsize) < 0)
        return -1;
    struct cw_rcmd *c = &st->cmd;
    cw_rcmd_reset(c);
    cw_rcmd_adds(c, "ZMSCORE");
    cw_store_add_global_key(st, c, "floors");
    for (size_t i = 0; i < n; i++)
        add_floor_member(c, &f[i]);
    redisReply *r = cw_store_command(st, err, errsize);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        snprintf(err, errsize, "redis %s: ZMSCORE %sfloors: unexpected reply", st->name,
                 st->prefix);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const redisReply *e = r->element[i];
        char *end = NULL;
        double ms = e->type == REDIS_REPLY_STRING ? strtod(e->str, &end) : -1;
        if (e->type == REDIS_REPLY_NIL) {
            f[i].ms = -1;
        } else if (e->type == REDIS_REPLY_STRING && end != e->str && *end == '\0' && ms >= 0 &&
                   ms < 9e15) {
            f[i].ms = (int64_t)ms;
        } else {
            snprintf(err, errsize, "redis %s: ZMSCORE %sfloors: not a time for %s:%" PRId32,
                     st->name, st->prefix, f[i].topic, f[i].partition);
            rc = -1;
        }
    }
    freeReplyObject(r);
    return rc;
}
