/* config_secret_sources.c - secrets kept out of the config file: the *_file keys, the
 * CHURNWATCH_REDIS_PASSWORD / CHURNWATCH_KAFKA_<PROPERTY> variables and their _FILE forms,
 * systemd credentials ($CREDENTIALS_DIRECTORY); each file checked, read once, never echoed.
 * Calls config_errors.c, config_yaml.c, config_free.c and config_secrets.c (dependency
 * order: config_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

#define SECRET_MAX_BYTES (64u * 1024u) /* a PEM private key fits */
#define ENV_FILE_SUFFIX  "_FILE"

/*
 * The file a secret path names: an absolute path as written; a relative one is a systemd
 * credential name (LoadCredential=), looked up in $CREDENTIALS_DIRECTORY. Returns 0, or -1
 * with why.
 */
static int secret_path(const char *path, cw_getenv_fn getenv_fn, char *out, size_t size, char *why,
                       size_t whysize)
{
    if (path[0] == '/') {
        if ((size_t)snprintf(out, size, "%s", path) >= size) {
            snprintf(why, whysize, "path longer than %zu bytes", size - 1);
            return -1;
        }
        return 0;
    }
    const char *dir = getenv_fn ? getenv_fn("CREDENTIALS_DIRECTORY") : NULL;
    if (strchr(path, '/') || strcmp(path, ".") == 0 || strcmp(path, "..") == 0) {
        snprintf(why, whysize,
                 "'%s' is neither an absolute path nor a credential name (a relative path is "
                 "the name of a systemd credential, without '/')",
                 path);
        return -1;
    }
    if (!dir || !*dir) {
        snprintf(why, whysize,
                 "'%s' names a systemd credential but $CREDENTIALS_DIRECTORY is not set "
                 "(LoadCredential= in the unit); outside systemd write an absolute path",
                 path);
        return -1;
    }
    if ((size_t)snprintf(out, size, "%s/%s", dir, path) >= size) {
        snprintf(why, whysize, "credential path longer than %zu bytes", size - 1);
        return -1;
    }
    return 0;
}

/* Why a secret file of mode st may not be used, or NULL when it may. */
static const char *bad_mode(const struct stat *st, char *why, size_t whysize)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (!S_ISREG(st->st_mode))
        snprintf(why, whysize, "not a regular file");
    else if (st->st_mode & (S_IWGRP | S_IWOTH))
        snprintf(why, whysize, "writable by %s (mode %04o): run chmod 600 on it",
                 (st->st_mode & S_IWOTH) ? "everyone" : "its group", mode);
    else if (st->st_mode & S_IROTH)
        snprintf(why, whysize,
                 "readable by everyone (mode %04o): run chmod 600 on it (or 640, group-owned "
                 "by the service's group)",
                 mode);
    else
        return NULL;
    return why;
}

/*
 * Read the secret file at path (resolved by secret_path) into *out: one trailing "\n" or
 * "\r\n" removed; *out NULL when the file is empty (an empty secret counts as unset). The
 * file must be a regular file, neither writable by group or others nor readable by others.
 * Returns 0, or -1 with why naming the file (never its content).
 */
static int secret_read(const char *path, cw_getenv_fn getenv_fn, char **out, char *why,
                       size_t whysize)
{
    char file[4096], reason[160];
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    int fd = -1;

    *out = NULL;
    if (secret_path(path, getenv_fn, file, sizeof file, why, whysize) < 0)
        return -1;
    /* O_NONBLOCK: a FIFO put there is refused below instead of blocking the open */
    fd = open(file, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whysize, "%s: %s", file, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(why, whysize, "%s: cannot stat: %s", file, strerror(errno));
        goto fail;
    }
    if (bad_mode(&st, reason, sizeof reason)) {
        snprintf(why, whysize, "%s: %s", file, reason);
        goto fail;
    }
    if (!(buf = malloc(SECRET_MAX_BYTES + 1))) {
        snprintf(why, whysize, "%s: out of memory", file);
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, SECRET_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whysize, "%s: cannot read: %s", file, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > SECRET_MAX_BYTES) {
            snprintf(why, whysize, "%s: larger than %u bytes", file, SECRET_MAX_BYTES);
            goto fail;
        }
    }
    close(fd);
    fd = -1;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (memchr(buf, '\0', len)) {
        snprintf(why, whysize, "%s: contains a NUL byte", file);
        goto fail;
    }
    buf[len] = '\0';
    if (len == 0) {
        free(buf);
        return 0;
    }
    *out = buf;
    return 0;
fail:
    if (buf) {
        volatile char *p = buf; /* a refused file's bytes do not linger in the heap */
        for (size_t i = 0; i < len; i++)
            p[i] = 0;
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

/*
 * The secret of the environment variable name or of the file its name_FILE variable names.
 * Returns 1 with *out (owned by the caller), 0 when neither gives one (unset, empty, an
 * empty file), -1 after an error naming the variable.
 */
static int env_secret(struct cw_cfg_ctx *ctx, cw_getenv_fn getenv_fn, const char *name, char **out)
{
    char fname[160], why[4400];
    char *from_file = NULL;
    *out = NULL;
    if (!getenv_fn)
        return 0;
    const char *value = getenv_fn(name);
    snprintf(fname, sizeof fname, "%s" ENV_FILE_SUFFIX, name);
    const char *path = getenv_fn(fname);
    if (path && *path && secret_read(path, getenv_fn, &from_file, why, sizeof why) < 0) {
        cw_errs_plain(ctx->errs, "%s: %s (environment)", fname, why);
        return -1;
    }
    if (from_file && value && *value) {
        cw_secret_free(from_file);
        cw_errs_plain(ctx->errs, "%s and %s both give the secret (environment): keep one", name,
                      fname);
        return -1;
    }
    if (from_file) {
        *out = from_file;
        return 1;
    }
    if (!value || !*value)
        return 0;
    if (!(*out = strdup(value))) {
        cw_errs_plain(ctx->errs, "out of memory");
        return -1;
    }
    return 1;
}

/* redis.password from redis.password_file, then CHURNWATCH_REDIS_PASSWORD[_FILE]. */
static void redis_password(struct cw_cfg_ctx *ctx, const struct cw_ynode *root,
                           cw_getenv_fn getenv_fn)
{
    struct cw_redis_config *r = &ctx->cfg->redis;
    char why[4400];
    char *secret = NULL;
    if (r->password_file) {
        if (secret_read(r->password_file, getenv_fn, &secret, why, sizeof why) < 0) {
            const struct cw_ynode *node = cw_ymap_get(cw_ymap_get(root, "redis"), "password_file");
            cw_cfg_err(ctx, node, "redis.password_file", "%s", why);
            return;
        }
        cw_secret_free(r->password);
        r->password = secret;
    }
    if (env_secret(ctx, getenv_fn, "CHURNWATCH_REDIS_PASSWORD", &secret) == 1) {
        cw_secret_free(r->password);
        r->password = secret;
    }
}

/* The index of property key in k, or k->n_properties. */
static size_t property_index(const struct cw_kafka_config *k, const char *key)
{
    size_t i = 0;
    while (i < k->n_properties && strcmp(k->properties[i].key, key) != 0)
        i++;
    return i;
}

static void property_remove(struct cw_kafka_config *k, size_t i)
{
    free(k->properties[i].key);
    cw_secret_free(k->properties[i].value);
    memmove(&k->properties[i], &k->properties[i + 1],
            (k->n_properties - i - 1) * sizeof *k->properties);
    k->n_properties--;
}

/*
 * Resolve the property at index i, "NAME_file: PATH", into "NAME: <the file's content>" in
 * place (file order kept), or remove it when the file is empty. Returns the index of the
 * next property to look at.
 */
static size_t kafka_secret_file(struct cw_cfg_ctx *ctx, const struct cw_ynode *props, size_t i,
                                cw_getenv_fn getenv_fn)
{
    struct cw_kafka_config *k = &ctx->cfg->kafka;
    struct cw_kv *kv = &k->properties[i];
    size_t len = strlen(kv->key), slen = strlen(CW_SECRET_FILE_SUFFIX);
    char path[512], base[256], why[4400];
    if (len <= slen || strcmp(kv->key + len - slen, CW_SECRET_FILE_SUFFIX) != 0)
        return i + 1;
    const struct cw_ynode *node = cw_ymap_get(props, kv->key);
    snprintf(path, sizeof path, "kafka.properties.%s", kv->key);
    snprintf(base, sizeof base, "%.*s", (int)(len - slen), kv->key);
    if (!cw_config_property_is_secret(base)) {
        cw_cfg_err(ctx, node, path,
                   "'%s' is not a secret property: only secrets (sasl.password, "
                   "ssl.key.password, ...) are read from a file",
                   base);
        return i + 1;
    }
    if (property_index(k, base) < k->n_properties) {
        cw_cfg_err(ctx, node, path, "%s is also set: keep one of %s and %s", base, base, kv->key);
        return i + 1;
    }
    char *secret = NULL;
    if (secret_read(kv->value, getenv_fn, &secret, why, sizeof why) < 0) {
        cw_cfg_err(ctx, node, path, "%s", why);
        return i + 1;
    }
    if (!secret) {
        property_remove(k, i);
        return i;
    }
    char *key = strdup(base);
    if (!key) {
        cw_secret_free(secret);
        cw_errs_at(ctx->errs, 0, 0, "out of memory");
        return i + 1;
    }
    free(kv->key);
    free(kv->value);
    kv->key = key;
    kv->value = secret;
    return i + 1;
}

/* Each librdkafka secret property from its CHURNWATCH_KAFKA_* variable (or _FILE). */
static void kafka_secret_env(struct cw_cfg_ctx *ctx, cw_getenv_fn getenv_fn)
{
    struct cw_kafka_config *k = &ctx->cfg->kafka;
    char env[128];
    for (size_t p = 0; cw_kafka_secret_properties[p]; p++) {
        const char *name = cw_kafka_secret_properties[p];
        char *secret = NULL;
        if (!cw_kafka_secret_env_name(name, env, sizeof env) ||
            env_secret(ctx, getenv_fn, env, &secret) != 1)
            continue;
        size_t i = property_index(k, name);
        if (i < k->n_properties) {
            cw_secret_free(k->properties[i].value);
            k->properties[i].value = secret;
            continue;
        }
        struct cw_kv *props = realloc(k->properties, (k->n_properties + 1) * sizeof *props);
        char *key = strdup(name);
        if (props)
            k->properties = props;
        if (!props || !key) {
            free(key);
            cw_secret_free(secret);
            cw_errs_at(ctx->errs, 0, 0, "out of memory");
            return;
        }
        k->properties[k->n_properties].key = key;
        k->properties[k->n_properties].value = secret;
        k->n_properties++;
    }
}

void cw_cfg_secret_sources(struct cw_cfg_ctx *ctx, const struct cw_ynode *root,
                           cw_getenv_fn getenv_fn)
{
    const struct cw_ynode *props = cw_ymap_get(cw_ymap_get(root, "kafka"), "properties");
    redis_password(ctx, root, getenv_fn);
    for (size_t i = 0; i < ctx->cfg->kafka.n_properties;)
        i = kafka_secret_file(ctx, props, i, getenv_fn);
    kafka_secret_env(ctx, getenv_fn);
}
