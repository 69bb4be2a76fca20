/* config_load.c - cw_config_load: read the file, run both stages, collect the errors.
 * The top of the config modules: it calls config_yaml.c (stage 1), config_schema.c
 * (stage 2), config_validate.c (environment overrides), config_secret_sources.c and
 * config_free.c, and reports through config_errors.c; none of them calls back into it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"

#define MAX_CONFIG_BYTES (4u * 1024u * 1024u)

/* Refuse a file holding a secret when group or others may read it (st: the opened file's
 * fstat, NULL for a buffer). Checked before the environment overrides and the secret files
 * are applied, so a secret kept out of the file does not count against it. */
static void check_secret_mode(struct cw_errs *e, const struct cw_config *cfg, const struct stat *st)
{
    char what[160], fix[200];
    if (!st || (st->st_mode & (S_IRGRP | S_IROTH)) == 0 ||
        !cw_config_secret_in(cfg, what, sizeof what, fix, sizeof fix))
        return;
    cw_errs_at(e, 0, 0,
               "holds a secret (%s) but is readable by %s (mode %04o): "
               "run chmod 600 on it, or move the secret out of the file (%s)",
               what, (st->st_mode & S_IROTH) ? "everyone" : "its group",
               (unsigned)(st->st_mode & 07777), fix);
}

static struct cw_config *load(const char *name, const char *yaml, size_t len,
                              cw_getenv_fn getenv_fn, char *errs, size_t errsize,
                              const struct stat *st)
{
    struct cw_errs e;
    struct cw_cfg_ctx ctx;
    struct cw_ynode *root = NULL;
    struct cw_config *cfg = NULL;

    cw_errs_init(&e, name, errs, errsize);
    memset(&ctx, 0, sizeof ctx);
    ctx.errs = &e;

    if (cw_yaml_parse(yaml, len, &root, &e) < 0)
        goto fail;
    if (!root || (root->kind == CW_YSCALAR && cw_ynode_is_null(root))) {
        cw_errs_at(&e, 1, 1, "the configuration is empty; see conf/churnwatch.yaml");
        goto fail;
    }
    if (root->kind != CW_YMAP) {
        cw_errs_at(&e, root->line, root->col, "the top level must be a mapping of keys");
        goto fail;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name))) {
        cw_errs_at(&e, 0, 0, "out of memory");
        goto fail;
    }
    ctx.cfg = cfg;
    cw_cfg_build(&ctx, root);
    if (e.count == 0)
        check_secret_mode(&e, cfg, st);
    cw_cfgv_env(&ctx, getenv_fn);
    if (e.count == 0)
        cw_cfg_secret_sources(&ctx, root, getenv_fn);
    if (e.count)
        goto fail;

    cw_rule_params_free(&ctx.defaults);
    for (size_t i = 0; i < 3; i++)
        free(ctx.touch_by_severity[i]);
    cw_ynode_free(root);
    cw_errs_finish(&e);
    return cfg;

fail:
    cw_rule_params_free(&ctx.defaults);
    for (size_t i = 0; i < 3; i++)
        free(ctx.touch_by_severity[i]);
    cw_ynode_free(root);
    cw_config_free(cfg);
    cw_errs_finish(&e);
    return NULL;
}

struct cw_config *cw_config_load_buffer(const char *name, const char *yaml, size_t len,
                                        cw_getenv_fn getenv_fn, char *errs, size_t errsize)
{
    return load(name, yaml, len, getenv_fn, errs, errsize, NULL);
}

struct cw_config *cw_config_load(const char *path, cw_getenv_fn getenv_fn, char *errs,
                                 size_t errsize)
{
    struct cw_errs e;
    struct cw_config *cfg = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    cw_errs_init(&e, path, errs, errsize);
    f = fopen(path, "rb");
    if (!f) {
        cw_errs_at(&e, 0, 0, "cannot open: %s", strerror(errno));
        cw_errs_finish(&e);
        return NULL;
    }
    buf = malloc(MAX_CONFIG_BYTES + 1);
    if (!buf) {
        cw_errs_at(&e, 0, 0, "out of memory");
        goto done;
    }
    len = fread(buf, 1, MAX_CONFIG_BYTES + 1, f);
    if (ferror(f)) {
        cw_errs_at(&e, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    if (len > MAX_CONFIG_BYTES) {
        cw_errs_at(&e, 0, 0, "larger than %u bytes", MAX_CONFIG_BYTES);
        goto done;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        cw_errs_at(&e, 0, 0, "cannot stat: %s", strerror(errno));
        goto done;
    }
    cfg = load(path, buf, len, getenv_fn, errs, errsize, &st);
done:
    cw_errs_finish(&e); /* a no-op after cw_config_load_buffer: e has no items then */
    free(buf);
    fclose(f);
    return cfg;
}
