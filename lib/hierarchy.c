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

/* The chain child -> parent -> ... as links into links[CW_HIERARCHY_DEPTH_LIMIT + 1]: the
 * edge, then one per parent looked up, up to the one that would put child max_depth + 1
 * levels below the top (or the link that closes a cycle). 0 with *n, or 1 with *need. */
static int chain_up(const char *child, const char *parent, unsigned max_depth,
                    cw_parent_lookup_fn lookup, void *ctx, struct cw_parent_link *links, size_t *n,
                    const char **need)
{
    size_t k = 0;
    links[k++] = (struct cw_parent_link){child, parent};
    const char *at = parent;
    for (unsigned step = 0; step < max_depth; step++) {
        bool looped = strcmp(at, child) == 0;
        for (size_t j = 1; j < k && !looped; j++)
            looped = strcmp(links[j].child, at) == 0;
        if (looped)
            break; /* the links hold the cycle */
        bool known = false;
        const char *up = lookup(ctx, at, &known);
        if (!known) {
            *need = at;
            return 1;
        }
        links[k++] = (struct cw_parent_link){at, up};
        if (!up || !up[0])
            break;
        at = up;
    }
    *n = k;
    return 0;
}

static unsigned clamp_depth(unsigned max_depth)
{
    if (max_depth == 0)
        return 1;
    return max_depth > CW_HIERARCHY_DEPTH_LIMIT ? CW_HIERARCHY_DEPTH_LIMIT : max_depth;
}

int cw_hierarchy_edge_check(const char *child, const char *parent, unsigned max_depth,
                            cw_parent_lookup_fn lookup, void *ctx, const char **need, char *err,
                            size_t errsize)
{
    if (!parent || !parent[0])
        return 0; /* a detach closes no cycle and deepens nothing */
    max_depth = clamp_depth(max_depth);
    struct cw_parent_link links[CW_HIERARCHY_DEPTH_LIMIT + 1];
    size_t n = 0;
    if (chain_up(child, parent, max_depth, lookup, ctx, links, &n, need) != 0)
        return 1;
    return cw_hierarchy_check(links, n, max_depth, err, errsize) == 0 ? 0 : -1;
}

/* One account below the child of a subtree check: its id, the index of the account above
 * it (NONE: the child itself) and its level below the child. */
struct below_node {
    const char *id;
    size_t up;
    unsigned level;
};

static bool visited(const struct below_node *nodes, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].id, id) == 0)
            return true;
    return false;
}

/* "x would be N levels below top (x -> ... -> child -> parent -> ... -> top), deeper than
 * hierarchy.max_depth M" for nodes[deep] under the chain links[0..n_up). */
static void too_deep_below(const struct below_node *nodes, size_t deep,
                           const struct cw_parent_link *links, size_t n_up, unsigned max_depth,
                           char *err, size_t errsize)
{
    const char *top = links[n_up - 1].parent;
    unsigned levels = nodes[deep].level + (unsigned)n_up;
    size_t used = 0;
    int w = snprintf(err, errsize, "%s would be %u levels below %s (", nodes[deep].id, levels, top);
    used = w > 0 ? (size_t)w : 0;
    for (size_t i = deep; i != NONE && used < errsize; i = nodes[i].up) {
        w = snprintf(err + used, errsize - used, "%s -> ", nodes[i].id);
        used += w > 0 ? (size_t)w : 0;
    }
    for (size_t i = 0; i < n_up && used < errsize; i++) {
        w = snprintf(err + used, errsize - used, "%s%s", links[i].parent,
                     i + 1 < n_up ? " -> " : "");
        used += w > 0 ? (size_t)w : 0;
    }
    char tail[64];
    snprintf(tail, sizeof tail, "), deeper than hierarchy.max_depth %u", max_depth);
    set_err(err, errsize, &used, tail);
}

int cw_hierarchy_subtree_check(const char *child, const char *parent, unsigned max_depth,
                               cw_parent_lookup_fn parents, cw_children_lookup_fn children,
                               void *ctx, const char **need, char *err, size_t errsize)
{
    *need = NULL;
    if (!parent || !parent[0])
        return 0; /* a detach: nothing below moves deeper */
    max_depth = clamp_depth(max_depth);
    struct cw_parent_link links[CW_HIERARCHY_DEPTH_LIMIT + 1];
    size_t n_links = 0;
    if (chain_up(child, parent, max_depth, parents, ctx, links, &n_links, need) != 0)
        return 1;
    if (cw_hierarchy_check(links, n_links, max_depth, err, errsize) != 0)
        return -1;
    /* The links above child: those with a parent (the last may be the top's "no parent"). */
    size_t n_up = n_links;
    while (n_up > 0 && (!links[n_up - 1].parent || !links[n_up - 1].parent[0]))
        n_up--;
    unsigned room = max_depth - (unsigned)n_up; /* levels child may have below it */

    /* Level by level down from child; a level whose children are not all known is read
     * whole (every unknown one reported to the lookup) before the walk goes on. */
    struct below_node *nodes = malloc(CW_HIERARCHY_SUBTREE_MAX * sizeof *nodes);
    if (!nodes) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    size_t n = 0, level_start = 0;
    nodes[n++] = (struct below_node){child, NONE, 0};
    int rc = 0;
    while (level_start < n) {
        size_t level_end = n;
        bool unknown = false;
        for (size_t i = level_start; i < level_end; i++) {
            bool known = false;
            size_t k = 0;
            const char *const *kids = children(ctx, nodes[i].id, &k, &known);
            if (!known) {
                unknown = true;
                continue;
            }
            for (size_t j = 0; j < k && !unknown; j++) {
                if (visited(nodes, n, kids[j]))
                    continue; /* a cycle below, or two paths: walked once */
                bool on_chain = false;
                for (size_t u = 0; u < n_up && !on_chain; u++)
                    on_chain = strcmp(links[u].parent, kids[j]) == 0;
                if (on_chain)
                    continue;
                if (n == CW_HIERARCHY_SUBTREE_MAX)
                    goto out; /* too many below to judge: accepted (docs/hierarchies.md) */
                nodes[n++] = (struct below_node){kids[j], i, nodes[i].level + 1};
                if (nodes[n - 1].level > room) {
                    too_deep_below(nodes, n - 1, links, n_up, max_depth, err, errsize);
                    rc = -1;
                    goto out;
                }
            }
        }
        if (unknown) {
            *need = nodes[level_start].id; /* the lookup knows which; not NULL */
            rc = 1;
            goto out;
        }
        level_start = level_end;
    }
out:
    free(nodes);
    return rc;
}
