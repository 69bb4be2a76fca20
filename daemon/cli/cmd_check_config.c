/* cmd_check_config.c - `churnwatch check-config [--no-env] [FILE]`: validate a config */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config_check.h"

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: churnwatch [-c PATH] check-config [--no-env] [FILE]\n"
                 "  Validate FILE (default: the -c path). Prints \"FILE: ok\" and a summary,\n"
                 "  or one file:line:col: message line per error on stderr and exits 1.\n"
                 "  --no-env  ignore the CHURNWATCH_* environment overrides\n");
    return code;
}

int cw_cmd_check_config(const struct cw_cli_opts *opts, int argc, char **argv)
{
    const char *path = NULL;
    bool use_env = true;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, CW_EXIT_OK);
        if (strcmp(argv[i], "--no-env") == 0) {
            use_env = false;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "churnwatch check-config: unknown option '%s'\n", argv[i]);
            return usage(stderr, CW_EXIT_USAGE);
        } else if (path) {
            fprintf(stderr, "churnwatch check-config: one FILE only\n");
            return usage(stderr, CW_EXIT_USAGE);
        } else {
            path = argv[i];
        }
    }
    return cw_config_check(path ? path : opts->config_path, use_env, stdout, stderr);
}
