/* cli_scan.c - every stored account, a page at a time: scanned, loaded in one pipeline per
 * page and handed to a caller's function (`churnwatch export`, a parent's children) */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define PAGE 64 /* accounts scanned and loaded (one pipeline) at a time */

/* The page's ids whose metadata `want` accepts, moved to the front of idp: their count.
 * meta is loaded for the whole page (metadata and rule states only); -1 with err. */
static int select_page(const struct cw_config *cfg, cw_store *st, int32_t today,
                       cw_cli_account_fn want, void *ctx, const char **idp, int n,
                       struct cw_account_data *meta, char *err, size_t errsize)
{
    if (cw_store_load_rules(st, cfg, idp, (size_t)n, today, meta, err, errsize) != 0)
        return -1;
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (meta[i].exists && want(ctx, &meta[i]))
            idp[kept++] = idp[i];
    return kept;
}

int cw_cli_scan_accounts_where(const struct cw_config *cfg, cw_store *st, int32_t today,
                               cw_cli_account_fn want, cw_cli_account_fn fn, void *ctx, char *err,
                               size_t errsize)
{
    char(*ids)[CW_ID_MAX + 1] = calloc(PAGE, sizeof *ids);
    const char **idp = calloc(PAGE, sizeof *idp);
    struct cw_account_data *data = calloc(PAGE, sizeof *data);
    struct cw_account_data *meta = want ? calloc(PAGE, sizeof *meta) : NULL;
    int rc = -1;
    if (!ids || !idp || !data || (want && !meta)) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    uint64_t cursor = 0;
    do {
        int n = cw_store_scan_accounts(st, &cursor, ids, PAGE, err, errsize);
        for (int i = 0; i < n; i++)
            idp[i] = ids[i];
        if (n > 0 && want)
            n = select_page(cfg, st, today, want, ctx, idp, n, meta, err, errsize);
        if (n < 0 || (n > 0 && cw_store_load(st, cfg, idp, (size_t)n, today, data, err, errsize)))
            goto out;
        for (int i = 0; i < n; i++) {
            if (!data[i].exists) /* listed, but its keys expired meanwhile */
                continue;
            int frc = fn(ctx, &data[i]);
            if (frc != 0) {
                rc = frc;
                goto out;
            }
        }
    } while (cursor != 0);
    rc = 0;
out:
    for (size_t i = 0; i < PAGE; i++) {
        if (data)
            cw_account_data_free(&data[i]);
        if (meta)
            cw_account_data_free(&meta[i]);
    }
    free(meta);
    free(data);
    free(idp);
    free(ids);
    return rc;
}

int cw_cli_scan_accounts(const struct cw_config *cfg, cw_store *st, int32_t today,
                         cw_cli_account_fn fn, void *ctx, char *err, size_t errsize)
{
    return cw_cli_scan_accounts_where(cfg, st, today, NULL, fn, ctx, err, errsize);
}
