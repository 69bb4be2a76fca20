/* cli_common.c - config and store access shared by the churnwatch subcommands */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

int cli_load_config(const struct cli_ctx *ctx, struct cw_config **out)
{
    static char errs[65536];
    errs[0] = '\0';
    *out = cw_config_load(ctx->config_path, env_lookup, errs, sizeof errs);
    if (*out)
        return CLI_OK;
    fputs(errs, stderr);
    if (errs[0] && errs[strlen(errs) - 1] != '\n')
        fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_open_store(const struct cw_config *cfg, cw_store **out)
{
    char err[512];
    *out = cw_store_open(&cfg->redis, err, sizeof err);
    if (*out)
        return CLI_OK;
    fprintf(stderr, "churnwatch: redis unavailable: %s\n", err);
    return CLI_UNAVAILABLE;
}

int64_t cli_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
