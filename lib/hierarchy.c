/* hierarchy.c - the roll-up of children's scores into a parent's and the bounded check of a
 * parent map for cycles and depth (hierarchy.h, docs/hierarchies.md) */
#include "churnwatch/hierarchy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cw_rollup(enum cw_rollup how, const struct cw_rollup_child *children, size_t n, double *out)
{
    double sum = 0, weight = 0, min = 0;
    size_t scored = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cw_rollup_child *c = &children[i];
        if (!c->has_score)
            continue;
        double w = 1;
        if (how == CW_ROLLUP_SEAT_WEIGHTED_MEAN && c->has_seats && c->seats > 0)
            w = (double)c->seats;
        sum += w * c->score;
        weight += w;
        if (scored == 0 || c->score < min)
            min = c->score;
        scored++;
    }
    if (scored == 0)
        return false;
    *out = how == CW_ROLLUP_MINIMUM ? min : sum / weight;
    return true;
}

/* cw_children_below's order, over indexes into children (qsort has no context). */
struct below {
    double score;
    const char *id;
    size_t index;
};

static int cmp_below(const void *x, const void *y)
{
    const struct below *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return strcmp(a->id, b->id);
}

size_t *cw_children_below(const struct cw_children *c, double below, size_t *n)
{
    struct below *pick = malloc((c->n ? c->n : 1) * sizeof *pick);
    size_t *idx = malloc((c->n ? c->n : 1) * sizeof *idx);
    *n = 0;
    if (!pick || !idx) {
        free(pick);
        free(idx);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->child[i].has_score && c->child[i].score < below)
            pick[k++] = (struct below){c->child[i].score, c->ids[i], i};
    if (k > 1)
        qsort(pick, k, sizeof *pick, cmp_below);
    for (size_t i = 0; i < k; i++)
        idx[i] = pick[i].index;
    free(pick);
    *n = k;
    return idx;
}

/* ---- the parent map check -------------------------------------------------------------- */

enum mark { UNSEEN = 0, ON_PATH, DONE };

struct node {
    const char *id;
    size_t parent;   /* index of the parent's node, or NONE: no parent in the map */
    unsigned height; /* DONE: levels of parents above it */
    enum mark mark;
};

#define NONE ((size_t)-1)

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The index of id among the n sorted ids, or NONE. */
static size_t find(const char *const *ids, size_t n, const char *id)
{
    const char *const *hit = bsearch(&id, ids, n, sizeof *ids, cmp_id);
    return hit ? (size_t)(hit - ids) : NONE;
}

/* Append "a -> b -> ..." for the path[0..n) of ids to err at *used. */
static void path_text(char *err, size_t errsize, size_t *used, const struct node *nodes,
                      const size_t *path, size_t n, const char *last)
{
    for (size_t i = 0; i <= n && *used < errsize; i++) {
        const char *id = i < n ? nodes[path[i]].id : last;
        if (!id)
            break;
        int k = snprintf(err + *used, errsize - *used, "%s%s", i ? " -> " : "", id);
        if (k < 0)
            return;
        *used += (size_t)k;
    }
}

static void set_err(char *err, size_t errsize, size_t *used, const char *text)
{
    if (*used < errsize) {
        int k = snprintf(err + *used, errsize - *used, "%s", text);
        if (k > 0)
            *used += (size_t)k;
    }
}

int cw_hierarchy_check(const struct cw_parent_link *links, size_t n, unsigned max_depth, char *err,
                       size_t errsize)
{
    size_t used = 0;
    if (errsize)
        err[0] = '\0';
    if (max_depth == 0)
        max_depth = 1;
    if (max_depth > CW_HIERARCHY_DEPTH_LIMIT)
        max_depth = CW_HIERARCHY_DEPTH_LIMIT;
    /* Every account named, children and parents, once; a node per account. */
    const char **ids = malloc((2 * n + 1) * sizeof *ids);
    struct node *nodes = NULL;
    size_t *path = NULL, m = 0;
    int rc = -1;
    if (!ids)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        ids[m++] = links[i].child;
        if (links[i].parent && links[i].parent[0])
            ids[m++] = links[i].parent;
    }
    qsort(ids, m, sizeof *ids, cmp_id);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || strcmp(ids[u - 1], ids[i]) != 0)
            ids[u++] = ids[i];
    m = u;
    nodes = calloc(m + 1, sizeof *nodes);
    path = malloc((m + 1) * sizeof *path);
    if (!nodes || !path)
        goto oom;
    for (size_t i = 0; i < m; i++)
        nodes[i] = (struct node){.id = ids[i], .parent = NONE};
    for (size_t i = 0; i < n; i++) {
        if (!links[i].parent || !links[i].parent[0])
            continue;
        size_t c = find(ids, m, links[i].child), p = find(ids, m, links[i].parent);
        if (nodes[c].parent != NONE && nodes[c].parent != p) {
            snprintf(err, errsize, "account %s has two parents: %s and %s", nodes[c].id,
                     nodes[nodes[c].parent].id, nodes[p].id);
            goto out;
        }
        nodes[c].parent = p;
    }

    /* Walk up from each account in the order of links until a node whose height is known,
     * a root, or a node of this walk (a cycle); each node is walked over once in all. */
    for (size_t i = 0; i < n; i++) {
        size_t len = 0, at = find(ids, m, links[i].child);
        while (at != NONE && nodes[at].mark == UNSEEN) {
            nodes[at].mark = ON_PATH;
            path[len++] = at;
            at = nodes[at].parent;
        }
        if (at != NONE && nodes[at].mark == ON_PATH) {
            size_t from = 0;
            while (path[from] != at)
                from++;
            set_err(err, errsize, &used, "parent_id cycle: ");
            path_text(err, errsize, &used, nodes, path + from, len - from, nodes[at].id);
            goto out;
        }
        unsigned h = at == NONE ? 0 : nodes[at].height + 1;
        for (size_t k = len; k-- > 0;) {
            nodes[path[k]].mark = DONE;
            nodes[path[k]].height = h;
            if (h > max_depth) {
                /* Every node above is within max_depth: h is max_depth + 1, and the walk
                 * from path[k] to its top parent takes h steps. */
                size_t chain[CW_HIERARCHY_DEPTH_LIMIT + 2], nc = 0, top = path[k];
                for (unsigned s = 0; s < h && nc < CW_HIERARCHY_DEPTH_LIMIT + 1; s++) {
                    chain[nc++] = top;
                    top = nodes[top].parent;
                }
                int w = snprintf(err, errsize, "%s is %u levels below %s (", nodes[path[k]].id, h,
                                 nodes[top].id);
                used = w > 0 ? (size_t)w : 0;
                path_text(err, errsize, &used, nodes, chain, nc, nodes[top].id);
                char tail[64];
                snprintf(tail, sizeof tail, "), deeper than hierarchy.max_depth %u", max_depth);
                set_err(err, errsize, &used, tail);
                goto out;
            }
            h++;
        }
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errsize, "out of memory");
out:
    free(path);
    free(nodes);
    free(ids);
    return rc;
}

int cw_hierarchy_edge_check(const char *child, const char *parent, unsigned max_depth,
                            cw_parent_lookup_fn lookup, void *ctx, const char **need, char *err,
                            size_t errsize)
{
    if (!parent || !parent[0])
        return 0; /* a detach closes no cycle and deepens nothing */
    if (max_depth == 0)
        max_depth = 1;
    if (max_depth > CW_HIERARCHY_DEPTH_LIMIT)
        max_depth = CW_HIERARCHY_DEPTH_LIMIT;
    /* The chain child -> parent -> ... as links: the edge, then one per parent looked up,
     * up to the one that would put child max_depth + 1 levels below the top. */
    struct cw_parent_link links[CW_HIERARCHY_DEPTH_LIMIT + 1];
    size_t n = 0;
    links[n++] = (struct cw_parent_link){child, parent};
    const char *at = parent;
    for (unsigned step = 0; step < max_depth; step++) {
        bool looped = strcmp(at, child) == 0;
        for (size_t k = 1; k < n && !looped; k++)
            looped = strcmp(links[k].child, at) == 0;
        if (looped)
            break; /* the links hold the cycle */
        bool known = false;
        const char *up = lookup(ctx, at, &known);
        if (!known) {
            *need = at;
            return 1;
        }
        links[n++] = (struct cw_parent_link){at, up};
        if (!up || !up[0])
            break;
        at = up;
    }
    return cw_hierarchy_check(links, n, max_depth, err, errsize) == 0 ? 0 : -1;
}
