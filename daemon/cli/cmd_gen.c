/* cmd_gen.c - `churnwatch gen`: write a synthetic usage-event history as JSON Lines */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/gen.h"
#include "cli.h"

static void gen_usage(FILE *out)
{
    fprintf(out,
            "usage: churnwatch gen [OPTIONS]\n"
            "Write a seeded synthetic usage-event history as JSON Lines, in event-time order.\n"
            "\n"
            "  --seed N                 PRNG seed (default 42); same options, same bytes\n"
            "  --accounts N             accounts in the default fate mix (default 40)\n"
            "  --fates LIST             accounts per fate instead, e.g. healthy=10,declining=5\n"
            "                           (healthy onboarded declining silent stalled underused\n"
            "                           borderline recovering renewing expanding)\n"
            "  --days N                 days of history (default 90)\n"
            "  --end TIME|now           end of the history, RFC 3339 (default "
            "2026-11-22T00:00:00Z)\n"
            "  --form F                 native, segment or cloudevents (default native)\n"
            "  --timezone-offset +hh:mm local days and timestamp offset (default Z)\n"
            "  --rate-scale X           multiply per-user event volumes (default 1)\n"
            "  --prefix TEXT            prepend TEXT to every account id\n"
            "  --manifest FILE          write one JSON line per account: fate, expected alerts\n"
            "  -o, --output FILE        write events to FILE instead of standard output\n"
            "  -h, --help               show this help\n");
}

/* Write every manifest line of gen to path. Returns 0 or -1 after printing why. */
static int write_manifest(const cw_gen *gen, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "churnwatch gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t len;
    for (size_t i = 0; i < cw_gen_account_count(gen); i++) {
        if (cw_gen_manifest_line(gen, i, buf, sizeof(buf), &len) != 1) {
            fprintf(stderr, "churnwatch gen: manifest line of account %zu too long\n", i);
            fclose(f);
            return -1;
        }
        buf[len] = '\n';
        fwrite(buf, 1, len + 1, f);
    }
    if (ferror(f) != 0 || fclose(f) != 0) {
        fprintf(stderr, "churnwatch gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Stream every event of gen to out. Returns 0 or -1 after printing why. */
static int write_events(cw_gen *gen, FILE *out, const char *name)
{
    size_t size = 4096;
    char *buf = malloc(size);
    if (buf == NULL) {
        fprintf(stderr, "churnwatch gen: out of memory\n");
        return -1;
    }
    size_t len;
    int rc;
    while ((rc = cw_gen_next(gen, buf, size - 1, &len, NULL)) != 0) {
        if (rc < 0) { /* a line longer than the buffer: grow it and retry */
            char *bigger = realloc(buf, len + 2);
            if (bigger == NULL) {
                fprintf(stderr, "churnwatch gen: out of memory\n");
                free(buf);
                return -1;
            }
            buf = bigger;
            size = len + 2;
            continue;
        }
        buf[len] = '\n';
        if (fwrite(buf, 1, len + 1, out) != len + 1)
            break;
    }
    free(buf);
    if (ferror(out) != 0 || fflush(out) != 0) {
        fprintf(stderr, "churnwatch gen: %s: %s\n", name, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * `churnwatch gen [OPTIONS]`; argv[0] is the command name. Exit status: 0 on success,
 * 1 on a usage error or when an output file cannot be written.
 */
int cw_cmd_gen(const struct cw_cli_opts *opts, int argc, char **argv)
{
    (void)opts;
    static const char *const value_opts[] = {"seed",  "accounts", "fates",           "days",
                                             "end",   "form",     "timezone-offset", "rate-scale",
                                             "prefix"};
    struct cw_gen_options opt;
    cw_gen_options_init(&opt);
    const char *manifest = NULL, *output = NULL;
    bool have_accounts = false, have_fates = false;
    char err[256];

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            gen_usage(stdout);
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 && strcmp(arg, "-o") != 0) {
            fprintf(stderr, "churnwatch gen: unexpected argument \"%s\"\n", arg);
            gen_usage(stderr);
            return 1;
        }
        /* --name=value or --name value */
        char name[32];
        const char *value = NULL;
        const char *key = strcmp(arg, "-o") == 0 ? "output" : arg + 2;
        const char *eq = strchr(key, '=');
        size_t n = eq != NULL ? (size_t)(eq - key) : strlen(key);
        if (n >= sizeof(name)) {
            fprintf(stderr, "churnwatch gen: unknown option \"%s\"\n", arg);
            return 1;
        }
        memcpy(name, key, n);
        name[n] = '\0';
        bool known = strcmp(name, "manifest") == 0 || strcmp(name, "output") == 0;
        for (size_t k = 0; k < sizeof(value_opts) / sizeof(value_opts[0]); k++)
            known = known || strcmp(name, value_opts[k]) == 0;
        if (!known) {
            fprintf(stderr, "churnwatch gen: unknown option \"%s\"\n", arg);
            gen_usage(stderr);
            return 1;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "churnwatch gen: option %s needs a value\n", arg);
            return 1;
        }

        if (strcmp(name, "manifest") == 0) {
            manifest = value;
            continue;
        }
        if (strcmp(name, "output") == 0) {
            output = value;
            continue;
        }
        if (strcmp(name, "end") == 0 && strcmp(value, "now") == 0) {
            opt.end_ms = cw_wall_ms();
            continue;
        }
        if (cw_gen_options_set(&opt, name, value, err, sizeof(err)) != 0) {
            fprintf(stderr, "churnwatch gen: --%s\n", err);
            return 1;
        }
        have_accounts = have_accounts || strcmp(name, "accounts") == 0;
        have_fates = have_fates || strcmp(name, "fates") == 0;
    }

    if (have_accounts && have_fates) {
        size_t total = 0;
        for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
            total += opt.fate_counts[f];
        if (total != opt.accounts) {
            fprintf(stderr,
                    "churnwatch gen: --accounts %zu disagrees with --fates (%zu accounts)\n",
                    opt.accounts, total);
            return 1;
        }
    }

    cw_gen *gen = cw_gen_new(&opt, err, sizeof(err));
    if (gen == NULL) {
        fprintf(stderr, "churnwatch gen: %s\n", err);
        return 1;
    }
    int rc = 1;
    FILE *out = stdout;
    if (manifest != NULL && write_manifest(gen, manifest) != 0)
        goto done;
    if (output != NULL && strcmp(output, "-") != 0) {
        out = fopen(output, "w");
        if (out == NULL) {
            fprintf(stderr, "churnwatch gen: %s: %s\n", output, strerror(errno));
            goto done;
        }
    }
    static char outbuf[1 << 16];
    if (out != stdout)
        setvbuf(out, outbuf, _IOFBF, sizeof(outbuf));
    if (write_events(gen, out, output != NULL ? output : "standard output") == 0)
        rc = 0;
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "churnwatch gen: %s: %s\n", output, strerror(errno));
        rc = 1;
    }
done:
    cw_gen_free(gen);
    return rc;
}
