/* store_children.c - reading the hierarchy: a parent's children for its rules, the
 * per-parent index `:c` (kept by cw_store_save) read back with each child's score and seats
 * (docs/hierarchies.md "Parent rules", docs/state.md); and accounts' parents and raw
 * indexes, for the check of a new parent_id
 *
 * Children: two round trips per call, SMEMBERS of every account's `:c`, then per child found
 * an HMGET of its parent_id and seats and a ZSCORE of the score index. A child whose
 * parent_id no longer names the account (it moved) is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/hierarchy.h"
#include "store_internal.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cw_account_data_children_clear(struct cw_account_data *d)
{
    for (size_t i = 0; i < d->children.n; i++)
        free(d->child_ids[i]);
    d->children = (struct cw_children){0};
    d->children_loaded = false;
}

/* Round 1: the index of each account. */
struct members_ctx {
    struct cw_account_data *d;
};

static int members_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct members_ctx *x = vctx;
    cw_rcmd_adds(c, "SMEMBERS");
    cw_store_add_account_key(st, c, x->d[i].account_id, "c");
    return c->oom ? -1 : 0;
}

/* Keep the members of r (but the account itself), sorted, at most the bound. */
static int members_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                         size_t errsize)
{
    (void)st;
    struct members_ctx *x = vctx;
    struct cw_account_data *d = &x->d[i];
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errsize, "SMEMBERS of %s's children: unexpected reply type %d", d->account_id,
                 r->type);
        return -1;
    }
    size_t want = r->elements;
    if (want > d->cap_children) {
        char **ids = realloc(d->child_ids, want * sizeof *ids);
        if (ids)
            d->child_ids = ids;
        struct cw_rollup_child *ch = realloc(d->child, want * sizeof *ch);
        if (ch)
            d->child = ch;
        if (!ids || !ch)
            goto oom;
        d->cap_children = want;
    }
    size_t n = 0;
    for (size_t k = 0; k < r->elements; k++) {
        const redisReply *e = r->element[k];
        if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > CW_ID_MAX ||
            strcmp(e->str, d->account_id) == 0)
            continue;
        if (!(d->child_ids[n] = strdup(e->str))) {
            d->children.n = n; /* freed by the clear */
            goto oom;
        }
        n++;
    }
    if (n > 1)
        qsort(d->child_ids, n, sizeof *d->child_ids, cmp_str);
    if (n > CW_HIERARCHY_MAX_CHILDREN) {
        for (size_t k = CW_HIERARCHY_MAX_CHILDREN; k < n; k++)
            free(d->child_ids[k]);
        d->children.left_out = n - CW_HIERARCHY_MAX_CHILDREN;
        n = CW_HIERARCHY_MAX_CHILDREN;
    }
    d->children.n = n;
    for (size_t k = 0; k < n; k++)
        d->child[k] = (struct cw_rollup_child){0};
    return 0;
oom:
    snprintf(err, errsize, "out of memory");
    return -1;
}

/* Round 2: per child, op 2k its HMGET, op 2k+1 its ZSCORE. */
struct child_ref {
    size_t acct, child;
};

struct facts_ctx {
    struct cw_account_data *d;
    struct child_ref *refs;
    bool *moved; /* [n refs] */
};

static int facts_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct facts_ctx *x = vctx;
    const struct child_ref *ref = &x->refs[i / 2];
    const char *id = x->d[ref->acct].child_ids[ref->child];
    if (i % 2 == 0) {
        cw_rcmd_adds(c, "HMGET");
        cw_store_add_account_key(st, c, id, "m");
        cw_rcmd_adds(c, "tr:parent_id");
        cw_rcmd_adds(c, "tr:seats");
    } else {
        cw_rcmd_adds(c, "ZSCORE");
        cw_store_add_global_key(st, c, "scores");
        cw_rcmd_adds(c, id);
    }
    return c->oom ? -1 : 0;
}

static int facts_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                       size_t errsize)
{
    (void)st;
    struct facts_ctx *x = vctx;
    const struct child_ref *ref = &x->refs[i / 2];
    const struct cw_account_data *d = &x->d[ref->acct];
    struct cw_rollup_child *ch = &d->child[ref->child];
    if (i % 2 == 0) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            snprintf(err, errsize, "HMGET of child %s: unexpected reply", d->child_ids[ref->child]);
            return -1;
        }
        const redisReply *p = r->element[0], *s = r->element[1];
        x->moved[i / 2] = p->type != REDIS_REPLY_STRING || strcmp(p->str, d->account_id) != 0;
        int64_t seats;
        ch->has_seats =
            s->type == REDIS_REPLY_STRING && cw_parse_i64(s->str, s->len, &seats) == 0 && seats > 0;
        ch->seats = ch->has_seats ? seats : 0;
        return 0;
    }
    if (r->type == REDIS_REPLY_NIL)
        return 0; /* not scored */
    if (r->type != REDIS_REPLY_STRING) {
        snprintf(err, errsize, "ZSCORE of child %s: unexpected reply type %d",
                 d->child_ids[ref->child], r->type);
        return -1;
    }
    char buf[64], *end;
    snprintf(buf, sizeof buf, "%.*s", (int)(r->len < 63 ? r->len : 63), r->str);
    double v = strtod(buf, &end);
    ch->has_score = *buf && !*end && v >= 0 && v <= 100;
    ch->score = ch->has_score ? v : 0;
    return 0;
}

int cw_store_load_children(cw_store *st, struct cw_account_data *d, size_t n, char *err,
                           size_t errsize)
{
    for (size_t i = 0; i < n; i++)
        cw_account_data_children_clear(&d[i]);
    struct members_ctx mx = {.d = d};
    struct cw_store_ops o1 = {.n = n, .ctx = &mx, .build = members_build, .reply = members_reply};
    if (cw_store_ops_run(st, &o1, err, errsize) != 0)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += d[i].children.n;
    if (total == 0) {
        for (size_t i = 0; i < n; i++)
            d[i].children_loaded = true;
        return 0;
    }
    struct facts_ctx fx = {.d = d};
    fx.refs = malloc(total * sizeof *fx.refs);
    fx.moved = calloc(total, sizeof *fx.moved);
    int rc = -1;
    if (!fx.refs || !fx.moved) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d[i].children.n; j++)
            fx.refs[k++] = (struct child_ref){.acct = i, .child = j};
    struct cw_store_ops o2 = {
        .n = 2 * total, .ctx = &fx, .build = facts_build, .reply = facts_reply};
    if (cw_store_ops_run(st, &o2, err, errsize) != 0)
        goto out;
    /* Leave out the children that moved, keeping the id order. */
    k = 0;
    for (size_t i = 0; i < n; i++) {
        struct cw_account_data *a = &d[i];
        size_t kept = 0;
        for (size_t j = 0; j < a->children.n; j++, k++) {
            if (fx.moved[k]) {
                free(a->child_ids[j]);
                continue;
            }
            a->child_ids[kept] = a->child_ids[j];
            a->child[kept++] = a->child[j];
        }
        a->children.n = kept;
        a->children.ids = (const char *const *)a->child_ids;
        a->children.child = a->child;
    }
    for (size_t i = 0; i < n; i++)
        d[i].children_loaded = true;
    rc = 0;
out:
    free(fx.refs);
    free(fx.moved);
    return rc;
}

/* ---- accounts' parents ---- */

struct parents_ctx {
    const char *const *ids;
    char **out;
};

static int parents_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct parents_ctx *x = vctx;
    cw_rcmd_adds(c, "HGET");
    cw_store_add_account_key(st, c, x->ids[i], "m");
    cw_rcmd_adds(c, "tr:parent_id");
    return c->oom ? -1 : 0;
}

static int parents_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                         size_t errsize)
{
    (void)st;
    struct parents_ctx *x = vctx;
    if (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING) {
        snprintf(err, errsize, "HGET of %s's parent: unexpected reply type %d", x->ids[i], r->type);
        return -1;
    }
    x->out[i] = r->type == REDIS_REPLY_STRING ? strndup(r->str, r->len) : strdup("");
    if (!x->out[i]) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    return 0;
}

int cw_store_parents_read(cw_store *st, const char *const *ids, size_t n, char **parents, char *err,
                          size_t errsize)
{
    for (size_t i = 0; i < n; i++)
        parents[i] = NULL;
    struct parents_ctx x = {.ids = ids, .out = parents};
    struct cw_store_ops o = {.n = n, .ctx = &x, .build = parents_build, .reply = parents_reply};
    if (cw_store_ops_run(st, &o, err, errsize) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        free(parents[i]);
        parents[i] = NULL;
    }
    return -1;
}

/* ---- accounts' indexes of children, raw ---- */

struct index_ctx {
    const char *const *ids;
    char ***out;
    size_t *counts;
};

static int index_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    struct index_ctx *x = vctx;
    cw_rcmd_adds(c, "SMEMBERS");
    cw_store_add_account_key(st, c, x->ids[i], "c");
    return c->oom ? -1 : 0;
}

static int index_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                       size_t errsize)
{
    (void)st;
    struct index_ctx *x = vctx;
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errsize, "SMEMBERS of %s's children: unexpected reply type %d", x->ids[i],
                 r->type);
        return -1;
    }
    size_t cap = r->elements < CW_HIERARCHY_SUBTREE_MAX ? r->elements : CW_HIERARCHY_SUBTREE_MAX;
    char **m = malloc((cap ? cap : 1) * sizeof *m);
    if (!m)
        goto oom;
    size_t n = 0;
    for (size_t k = 0; k < r->elements && n < cap; k++) {
        const redisReply *e = r->element[k];
        if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > CW_ID_MAX ||
            strcmp(e->str, x->ids[i]) == 0)
            continue;
        if (!(m[n] = strndup(e->str, e->len))) {
            while (n > 0)
                free(m[--n]);
            free(m);
            goto oom;
        }
        n++;
    }
    x->out[i] = m;
    x->counts[i] = n;
    return 0;
oom:
    snprintf(err, errsize, "out of memory");
    return -1;
}

int cw_store_children_index_read(cw_store *st, const char *const *ids, size_t n, char ***members,
                                 size_t *counts, char *err, size_t errsize)
{
    for (size_t i = 0; i < n; i++) {
        members[i] = NULL;
        counts[i] = 0;
    }
    struct index_ctx x = {.ids = ids, .out = members, .counts = counts};
    struct cw_store_ops o = {.n = n, .ctx = &x, .build = index_build, .reply = index_reply};
    if (cw_store_ops_run(st, &o, err, errsize) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < counts[i]; k++)
            free(members[i][k]);
        free(members[i]);
        members[i] = NULL;
        counts[i] = 0;
    }
    return -1;
}
