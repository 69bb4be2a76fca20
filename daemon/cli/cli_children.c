/* cli_children.c - the children of a parent account as `churnwatch account` shows them:
 * found through the parent's index (`:c`, kept by the daemon), else by a scan of the stored
 * metadata (only they are loaded whole), scored now, and their scores rolled up
 * (docs/hierarchies.md) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/hierarchy.h"
#include "cli.h"

/* A scan's state: the parent, the children kept, a scratch evaluation. */
struct find {
    const struct cw_config *cfg;
    int64_t now;
    const char *parent;
    struct cw_cli_children *out;
    struct cw_account_eval e;
};

static int cmp_child(const void *x, const void *y)
{
    return strcmp(((const struct cw_cli_child *)x)->id, ((const struct cw_cli_child *)y)->id);
}

/* Whether id is one of the children kept so far (the scan may return an id twice). */
static bool kept(const struct cw_cli_children *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].id, id) == 0)
            return true;
    return false;
}

/* Whether a's metadata names the parent: only children are loaded whole. */
static int is_child(void *ctx, const struct cw_account_data *a)
{
    const struct find *f = ctx;
    return strcmp(a->traits.parent_id, f->parent) == 0;
}

/* One child of the scan: kept and scored, unless kept already. */
static int find_one(void *ctx, const struct cw_account_data *a)
{
    struct find *f = ctx;
    struct cw_cli_children *out = f->out;
    if (!is_child(f, a) || kept(out, a->account_id))
        return 0;
    if (out->n == CW_HIERARCHY_MAX_CHILDREN) {
        out->more++;
        return 0;
    }
    cw_account_evaluate(f->cfg, a, f->now, &f->e);
    struct cw_cli_child *c = &out->items[out->n++];
    snprintf(c->id, sizeof c->id, "%s", a->account_id);
    c->has_score = f->e.score.has_score;
    c->score = f->e.score.score;
    c->grade = f->e.score.has_score ? f->e.score.grade : "";
    c->has_seats = a->traits.has_seats;
    c->seats = a->traits.seats;
    return 0;
}

#define PAGE 64 /* children loaded (one pipeline) at a time */

/* The children the parent's index names (and whose parent_id still is the parent), loaded
 * and kept as the scan keeps them. Returns how many the index named, or -1 with err. */
static long find_indexed(struct find *f, cw_store *st, int32_t today, char *err, size_t errsize)
{
    struct cw_account_data *p = calloc(1, sizeof *p);
    struct cw_account_data *data = calloc(PAGE, sizeof *data);
    long found = -1;
    if (!p || !data) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    snprintf(p->account_id, sizeof p->account_id, "%s", f->parent);
    if (cw_store_load_children(st, p, 1, err, errsize) != 0)
        goto out;
    for (size_t off = 0; off < p->children.n; off += PAGE) {
        size_t m = p->children.n - off < PAGE ? p->children.n - off : PAGE;
        if (cw_store_load(st, f->cfg, p->children.ids + off, m, today, data, err, errsize) != 0)
            goto out;
        for (size_t i = 0; i < m; i++)
            if (data[i].exists) /* indexed, but its keys expired meanwhile */
                find_one(f, &data[i]);
    }
    f->out->more += p->children.left_out;
    found = (long)(p->children.n + p->children.left_out);
out:
    for (size_t i = 0; data && i < PAGE; i++)
        cw_account_data_free(&data[i]);
    if (p)
        cw_account_data_free(p);
    free(data);
    free(p);
    return found;
}

int cw_cli_children_find(const struct cw_config *cfg, cw_store *st, int32_t today, int64_t now,
                         const char *parent, struct cw_cli_children *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    struct find *f = calloc(1, sizeof *f);
    struct cw_rollup_child *roll = NULL;
    int rc = -1;
    if (!f || !(out->items = calloc(CW_HIERARCHY_MAX_CHILDREN, sizeof *out->items))) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    *f = (struct find){.cfg = cfg, .now = now, .parent = parent, .out = out};
    /* A parent without an index (state an earlier version wrote, not swept since) is found
     * by the scan, whose cost grows with the number of accounts. */
    long indexed = find_indexed(f, st, today, err, errsize);
    if (indexed < 0)
        goto out;
    if (indexed == 0 &&
        cw_cli_scan_accounts_where(cfg, st, today, is_child, find_one, f, err, errsize) != 0)
        goto out;
    qsort(out->items, out->n, sizeof *out->items, cmp_child);

    if (out->n > 0 && !(roll = calloc(out->n, sizeof *roll))) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < out->n; i++)
        roll[i] = (struct cw_rollup_child){.has_score = out->items[i].has_score,
                                           .score = out->items[i].score,
                                           .has_seats = out->items[i].has_seats,
                                           .seats = out->items[i].seats};
    out->has_rollup = cw_rollup(cfg->hierarchy.rollup, roll, out->n, &out->rollup);
    if (out->has_rollup)
        out->rollup_grade = cw_score_grade(cfg, out->rollup);
    rc = 0;
out:
    if (rc != 0)
        cw_cli_children_free(out);
    free(roll);
    free(f);
    return rc;
}

void cw_cli_children_free(struct cw_cli_children *c)
{
    if (!c)
        return;
    free(c->items);
    memset(c, 0, sizeof *c);
}
