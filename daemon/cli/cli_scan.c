/* cli_scan.c - every stored account, a page at a time: scanned, loaded in one pipeline per
 * page and handed to a caller's function (`churnwatch export`, a parent's children) */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define PAGE 64 /* accounts scanned and loaded (one pipeline) at a time */

int cw_cli_scan_accounts(const struct cw_config *cfg, cw_store *st, int32_t today,
                         cw_cli_account_fn fn, void *ctx, char *err, size_t errsize)
{
    char(*ids)[CW_ID_MAX + 1] = calloc(PAGE, sizeof *ids);
    const char **idp = calloc(PAGE, sizeof *idp);
    struct cw_account_data *data = calloc(PAGE, sizeof *data);
    int rc = -1;
    if (!ids || !idp || !data) {
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
    if (data)
        for (size_t i = 0; i < PAGE; i++)
            cw_account_data_free(&data[i]);
    free(data);
    free(idp);
    free(ids);
    return rc;
}
