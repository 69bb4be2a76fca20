/* cli_common.c - config and store access, terminal text and JSON numbers shared by the churnwatch
 * subcommands */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/text_escape.h"
#include "cli.h"
#include "config_check.h"

int cw_cli_load_config(const struct cw_cli_opts *ctx, struct cw_config **out)
{
    static char errs[65536];
    errs[0] = '\0';
    *out = cw_config_load(ctx->config_path, cw_process_getenv, errs, sizeof errs);
    if (*out)
        return CW_EXIT_OK;
    fputs(errs, stderr);
    if (errs[0] && errs[strlen(errs) - 1] != '\n')
        fputc('\n', stderr);
    return CW_EXIT_USAGE;
}

int cw_cli_open_store(const struct cw_config *cfg, cw_store **out)
{
    char err[512];
    *out = cw_store_open(&cfg->redis, err, sizeof err);
    if (*out)
        return CW_EXIT_OK;
    fprintf(stderr, "churnwatch: redis unavailable: %s\n", err);
    return CW_EXIT_UNAVAILABLE;
}

const char *cw_cli_text(const char *s)
{
    static char bufs[8][4 * CW_CLI_TEXT_MAX + 1]; /* an escape is at most 4 bytes per byte */
    static unsigned next;
    if (!s)
        return "-";
    char *buf = bufs[next++ % 8];
    size_t len = strnlen(s, CW_CLI_TEXT_MAX);
    cw_escape_display(buf, sizeof bufs[0], s, len);
    return buf;
}

double cw_cli_round2(double x)
{
    /* beyond 2^53 / 100 the cents are not representable: the value is shown as it is */
    if (!(fabs(x) < 9007199254740992.0 / 100.0))
        return x;
    double r = round(x * 100.0) / 100.0;
    return r == 0.0 ? 0.0 : r;
}
