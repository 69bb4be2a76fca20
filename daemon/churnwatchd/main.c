/* main.c - churnwatchd entry point: options -> (check mode) -> run */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_check.h"

#define CW_DEFAULT_CONFIG "/etc/churnwatch/churnwatch.yaml"

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: churnwatchd [-c PATH] [-n | --check-config] [--version] [--help]\n"
                 "  -c PATH             config file (default " CW_DEFAULT_CONFIG ")\n"
                 "  -n, --check-config  load and validate the config, report, and exit\n");
    return code;
}

int main(int argc, char **argv)
{
    const char *config_path = CW_DEFAULT_CONFIG;
    bool check = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("churnwatchd %s\n", CW_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--check-config") == 0) {
            check = true;
        } else {
            fprintf(stderr, "churnwatchd: unknown or incomplete option '%s'\n", argv[i]);
            return usage(stderr, 1);
        }
    }
    if (check)
        return cw_config_check(config_path, true, stdout, stderr);
    return usage(stderr, 1);
}
