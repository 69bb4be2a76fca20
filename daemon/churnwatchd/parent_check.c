/* parent_check.c - checking a batch's parent_id edges against the stored hierarchy
 * (parent_check.h): the walk is lib's cw_hierarchy_edge_check, the parents it needs are
 * read from the store a round of pipelined reads at a time */
#include "parent_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "churnwatch/hierarchy.h"

/* The stored parents read so far. */
struct memo {
    char **ids, **parents;
    size_t n, cap_ids, cap_parents;
};

/* What a walk sees: the claims accepted before the one judged, then the stored parents. */
struct view {
    const struct cw_parent_claim *claims;
    size_t before;
    const struct memo *m;
};

static const char *view_lookup(void *ctx, const char *id, bool *known)
{
    const struct view *v = ctx;
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

static bool listed(const char *const *list, size_t n, const char *id)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k], id) == 0)
            return true;
    return false;
}

/* Read the parents of need[0..n) into the memo. 0, or -1 with err. */
static int memo_read(cw_store *st, struct memo *m, const char **need, size_t n, char *err,
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

static void memo_free(struct memo *m)
{
    for (size_t k = 0; k < m->n; k++) {
        free(m->ids[k]);
        free(m->parents[k]);
    }
    free(m->ids);
    free(m->parents);
}

int cw_parent_check(cw_store *st, unsigned max_depth, struct cw_parent_claim *claims, size_t n,
                    char *err, size_t errsize)
{
    struct memo m = {0};
    const char **need = malloc((n ? n : 1) * sizeof *need);
    int rc = -1;
    if (!need) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        claims[i].rejected = false;
    /* Each round decides the claims it can in order, up to the first that needs a stored
     * parent; the parents every later claim's walk needs (as far as it sees) are read with
     * it. A round decides a claim or reads a parent not read before, so it ends. */
    size_t decided = 0;
    while (decided < n) {
        size_t n_need = 0;
        bool blocked = false;
        for (size_t j = decided; j < n; j++) {
            struct view v = {.claims = claims, .before = j, .m = &m};
            const char *want = NULL;
            char why[sizeof claims[j].reason];
            int verdict = cw_hierarchy_edge_check(claims[j].account, claims[j].parent, max_depth,
                                                  view_lookup, &v, &want, why, sizeof why);
            if (verdict == 1) {
                if (!listed(need, n_need, want))
                    need[n_need++] = want;
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
        if (n_need > 0 && memo_read(st, &m, need, n_need, err, errsize) != 0)
            goto out;
    }
    rc = 0;
out:
    memo_free(&m);
    free(need);
    return rc;
}
