/* cli_children.c - the children of a parent account as `churnwatch account` shows them:
 * found by a scan of the stored traits, scored now, and their scores rolled up
 * (docs/hierarchies.md) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/hierarchy.h"
#include "cli.h"

#define PAGE 64 /* accounts scanned and loaded (one pipeline) at a time */

static int cmp_child(const void *x, const void *y)
{
    return strcmp(((const struct cw_cli_child *)x)->id, ((const struct cw_cli_child *)y)->id);
}

/* Whether id is one of the n children kept so far (the scan may return an id twice). */
static bool kept(const struct cw_cli_children *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].id, id) == 0)
            return true;
    return false;
}

int cw_cli_children_find(const struct cw_config *cfg, cw_store *st, int32_t today, int64_t now,
                         const char *parent, struct cw_cli_children *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    char(*ids)[CW_ID_MAX + 1] = calloc(PAGE, sizeof *ids);
    const char **idp = calloc(PAGE, sizeof *idp);
    struct cw_account_data *data = calloc(PAGE, sizeof *data);
    struct cw_account_eval *e = calloc(1, sizeof *e);
    struct cw_rollup_child *roll = NULL;
    int rc = -1;
    if (!ids || !idp || !data || !e ||
        !(out->items = calloc(CW_HIERARCHY_MAX_CHILDREN, sizeof *out->items))) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    uint64_t cursor = 0;
    do {
        int n = cw_store_scan_accounts(st, &cursor, ids, PAGE, err, errsize);
        for (int i = 0; i < n; i++)
            idp[i] = ids[i];
        if (n < 0 || (n > 0 && cw_store_load(st, cfg, idp, (size_t)n, today, data, err, errsize)))
            goto out;
        for (int i = 0; i < n; i++) {
            const struct cw_account_data *a = &data[i];
            if (!a->exists || strcmp(a->traits.parent_id, parent) != 0 || kept(out, a->account_id))
                continue;
            if (out->n == CW_HIERARCHY_MAX_CHILDREN) {
                out->more++;
                continue;
            }
            cw_account_evaluate(cfg, a, now, e);
            struct cw_cli_child *c = &out->items[out->n++];
            snprintf(c->id, sizeof c->id, "%s", a->account_id);
            c->has_score = e->score.has_score;
            c->score = e->score.score;
            c->grade = e->score.has_score ? e->score.grade : "";
            c->has_seats = a->traits.has_seats;
            c->seats = a->traits.seats;
        }
    } while (cursor != 0);
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
    if (data)
        for (size_t i = 0; i < PAGE; i++)
            cw_account_data_free(&data[i]);
    free(roll);
    free(data);
    free(e);
    free(idp);
    free(ids);
    return rc;
}

void cw_cli_children_free(struct cw_cli_children *c)
{
    if (!c)
        return;
    free(c->items);
    memset(c, 0, sizeof *c);
}
