/* parent_check.c - checking a batch's parent_id edges against the stored hierarchy
 * (parent_check.h): the walks are lib's cw_hierarchy_subtree_check, the parents and the
 * children's indexes it needs are read from the store a round of pipelined reads at a time */
#include "parent_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "churnwatch/hierarchy.h"

/* What was read so far: stored parents, and stored indexes of children (`:c`, raw). */
struct memo {
    char **ids, **parents;
    size_t n, cap_ids, cap_parents;
    char **kid_ids, ***kids;
    size_t *n_kids;
    size_t n_kid, cap_kid_ids, cap_kids, cap_n_kids;
};

/* What to read next: accounts whose parent, and accounts whose index, is wanted. */
struct wants {
    const char **parents, **indexes;
    size_t n_parents, n_indexes, cap_parents, cap_indexes;
    bool oom;
};

/* What a walk sees: the claims accepted before the one judged, then what the memo holds;
 * what it misses goes to the wants. children() answers in out. */
struct view {
    const struct cw_parent_claim *claims;
    size_t before;
    const struct memo *m;
    struct wants *w;
    const char **out;
    size_t cap_out;
    bool oom;
};

static bool listed(const char *const *list, size_t n, const char *id)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k], id) == 0)
            return true;
    return false;
}

static void want(const char ***list, size_t *n, size_t *cap, bool *oom, const char *id)
{
    if (listed(*list, *n, id))
        return;
    if (cw_array_reserve(list, cap, *n + 1, sizeof **list) < 0) {
        *oom = true;
        return;
    }
    (*list)[(*n)++] = id;
}

/* id's parent as the claims before and the memo know it; *known false when neither does. */
static const char *parent_of(const struct view *v, const char *id, bool *known)
{
    for (size_t k = v->before; k-- > 0;)
        if (!v->claims[k].rejected && strcmp(v->claims[k].account, id) == 0) {
            *known = true;
            return v->claims[k].parent;
        }
    for (size_t k = 0; k < v->m->n; k++)
        if (strcmp(v->m->ids[k], id) == 0) {
            *known = true;
            return v->m->parents[k];
        }
    *known = false;
    return NULL;
}

static const char *view_parent(void *ctx, const char *id, bool *known)
{
    struct view *v = ctx;
    const char *p = parent_of(v, id, known);
    if (!*known)
        want(&v->w->parents, &v->w->n_parents, &v->w->cap_parents, &v->w->oom, id);
    return p;
}

static bool add_out(struct view *v, size_t n, const char *id)
{
    if (listed(v->out, n, id))
        return true;
    if (cw_array_reserve(&v->out, &v->cap_out, n + 1, sizeof *v->out) < 0) {
        v->oom = true;
        return false;
    }
    v->out[n] = id;
    return true;
}

/* id's children: the accounts of its stored index whose parent (as the claims before or the
 * store say) still is id, and the accounts that claimed it before. */
static const char *const *view_children(void *ctx, const char *id, size_t *n, bool *known)
{
    struct view *v = ctx;
    const struct memo *m = v->m;
    size_t at = 0;
    while (at < m->n_kid && strcmp(m->kid_ids[at], id) != 0)
        at++;
    *n = 0;
    *known = false;
    if (at == m->n_kid) {
        want(&v->w->indexes, &v->w->n_indexes, &v->w->cap_indexes, &v->w->oom, id);
        return NULL;
    }
    bool all = true;
    size_t k = 0;
    for (size_t i = 0; i < m->n_kids[at]; i++) {
        bool pk = false;
        const char *p = parent_of(v, m->kids[at][i], &pk);
        if (!pk) {
            want(&v->w->parents, &v->w->n_parents, &v->w->cap_parents, &v->w->oom, m->kids[at][i]);
            all = false;
        } else if (p && strcmp(p, id) == 0 && add_out(v, k, m->kids[at][i])) {
            k++;
        }
    }
    for (size_t c = 0; c < v->before; c++)
        if (!v->claims[c].rejected && v->claims[c].parent && strcmp(v->claims[c].parent, id) == 0) {
            bool pk = false;
            const char *p = parent_of(v, v->claims[c].account, &pk); /* its latest claim */
            if (p && strcmp(p, id) == 0 && add_out(v, k, v->claims[c].account))
                k++;
        }
    if (!all || v->oom)
        return NULL;
    *known = true;
    *n = k;
    return v->out;
}

/* Read the parents of need[0..n) into the memo. 0, or -1 with err. */
static int memo_read_parents(cw_store *st, struct memo *m, const char **need, size_t n, char *err,
                             size_t errsize)
{
    if (cw_array_reserve(&m->ids, &m->cap_ids, m->n + n, sizeof *m->ids) < 0 ||
        cw_array_reserve(&m->parents, &m->cap_parents, m->n + n, sizeof *m->parents) < 0) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    if (cw_store_parents_read(st, need, n, m->parents + m->n, err, errsize) != 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        m->ids[m->n + k] = strdup(need[k]);
        if (!m->ids[m->n + k]) {
            for (size_t j = 0; j < n; j++) {
                if (j < k)
                    free(m->ids[m->n + j]);
                free(m->parents[m->n + j]);
            }
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    m->n += n;
    return 0;
}

/* Read the indexes of need[0..n) into the memo. 0, or -1 with err. */
static int memo_read_indexes(cw_store *st, struct memo *m, const char **need, size_t n, char *err,
                             size_t errsize)
{
    size_t want_n = m->n_kid + n;
    if (cw_array_reserve(&m->kid_ids, &m->cap_kid_ids, want_n, sizeof *m->kid_ids) < 0 ||
        cw_array_reserve(&m->kids, &m->cap_kids, want_n, sizeof *m->kids) < 0 ||
        cw_array_reserve(&m->n_kids, &m->cap_n_kids, want_n, sizeof *m->n_kids) < 0) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    if (cw_store_children_index_read(st, need, n, m->kids + m->n_kid, m->n_kids + m->n_kid, err,
                                     errsize) != 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        m->kid_ids[m->n_kid] = strdup(need[k]);
        if (!m->kid_ids[m->n_kid]) { /* the rest are freed here, the memo's by memo_free */
            for (size_t j = k; j < n; j++) {
                for (size_t i = 0; i < m->n_kids[m->n_kid + j - k]; i++)
                    free(m->kids[m->n_kid + j - k][i]);
                free(m->kids[m->n_kid + j - k]);
            }
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        m->n_kid++;
    }
    return 0;
}

static void memo_free(struct memo *m)
{
    for (size_t k = 0; k < m->n; k++) {
        free(m->ids[k]);
        free(m->parents[k]);
    }
    for (size_t k = 0; k < m->n_kid; k++) {
        free(m->kid_ids[k]);
        for (size_t i = 0; i < m->n_kids[k]; i++)
            free(m->kids[k][i]);
        free(m->kids[k]);
    }
    free(m->ids);
    free(m->parents);
    free(m->kid_ids);
    free(m->kids);
    free(m->n_kids);
}

int cw_parent_check(cw_store *st, unsigned max_depth, struct cw_parent_claim *claims, size_t n,
                    char *err, size_t errsize)
{
    struct memo m = {0};
    struct wants w = {0};
    struct view v = {.claims = claims, .m = &m, .w = &w};
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        claims[i].rejected = false;
    /* Each round decides the claims it can in order, up to the first that needs something
     * not read; what every later claim's walks need (as far as they see) is read with it.
     * A round decides a claim or reads something not read before, so it ends. */
    size_t decided = 0;
    while (decided < n) {
        w.n_parents = w.n_indexes = 0;
        bool blocked = false;
        for (size_t j = decided; j < n; j++) {
            v.before = j;
            const char *need = NULL;
            char why[sizeof claims[j].reason];
            int verdict =
                cw_hierarchy_subtree_check(claims[j].account, claims[j].parent, max_depth,
                                           view_parent, view_children, &v, &need, why, sizeof why);
            if (w.oom || v.oom) {
                snprintf(err, errsize, "out of memory");
                goto out;
            }
            if (verdict == 1) {
                blocked = true;
                continue;
            }
            if (blocked)
                continue; /* decided only once the claims before it are */
            claims[j].rejected = verdict != 0;
            if (claims[j].rejected)
                snprintf(claims[j].reason, sizeof claims[j].reason, "%s", why);
            decided = j + 1;
        }
        if (w.n_parents > 0 && memo_read_parents(st, &m, w.parents, w.n_parents, err, errsize) != 0)
            goto out;
        if (w.n_indexes > 0 && memo_read_indexes(st, &m, w.indexes, w.n_indexes, err, errsize) != 0)
            goto out;
    }
    rc = 0;
out:
    memo_free(&m);
    free(w.parents);
    free(w.indexes);
    free(v.out);
    return rc;
}
