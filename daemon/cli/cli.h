/* cli.h - what the churnwatch subcommands share: options, config and store access, output */
#ifndef CHURNWATCH_CLI_H
#define CHURNWATCH_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "store.h"

/* Exit codes of SPEC section 10. */
enum {
    CLI_OK = 0,
    CLI_USAGE = 1,      /* usage or config error */
    CLI_UNAVAILABLE = 2 /* a dependency (Redis, Kafka) is unreachable */
};

struct cli_ctx {
    const char *config_path;
};

/* Load the config (with the environment overrides); on error print every
 * file:line:col line and return CLI_USAGE. */
int cli_load_config(const struct cli_ctx *ctx, struct cw_config **out);

/* Open the state store of cfg; on error print it and return CLI_UNAVAILABLE. */
int cli_open_store(const struct cw_config *cfg, cw_store **out);

/* Wall clock, epoch ms. */
int64_t cli_wall_ms(void);

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_account(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_top(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_silence(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_silences(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_unsilence(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_rescore(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_produce(const struct cli_ctx *ctx, int argc, char **argv);

#endif /* CHURNWATCH_CLI_H */
