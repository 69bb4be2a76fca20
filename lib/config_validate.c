/* config_validate.c - config checks beyond one key: names, URLs, zones, cross-references.
 * Calls config_errors.c, config_yaml.c and config_lookup.c, never config_schema.c
 * (dependency order: config_internal.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/enum_names.h"
#include "churnwatch/event.h"
#include "churnwatch/window.h"
#include "config_internal.h"

#define IDENT_MAX 63

int cw_cfgv_timezone(const char *name, char *why, size_t whysize)
{
    if (cw_tz_valid(name))
        return 0;
    snprintf(why, whysize, "unknown IANA time zone '%.64s' (write e.g. UTC or Asia/Tokyo)", name);
    return -1;
}

/* Check "host:port" (host may be [v6]); port 1..65535. */
static int check_host_port(const char *s, size_t len, bool need_port, char *why, size_t whysize)
{
    const char *end = s + len, *colon = NULL;
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb || rb == s + 1) {
            snprintf(why, whysize, "bad IPv6 address: write [addr]:port");
            return -1;
        }
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (rb + 1 < end && !colon) {
            snprintf(why, whysize, "unexpected text after ']'");
            return -1;
        }
    } else {
        for (const char *p = s; p < end; p++)
            if (*p == ':')
                colon = p;
        if ((colon ? colon : end) == s) {
            snprintf(why, whysize, "missing host name");
            return -1;
        }
        for (const char *p = s; p < (colon ? colon : end); p++) {
            if (!isalnum((unsigned char)*p) && !strchr(".-_", *p)) {
                snprintf(why, whysize, "invalid character in host name");
                return -1;
            }
        }
    }
    if (!colon) {
        if (need_port) {
            snprintf(why, whysize, "missing :port");
            return -1;
        }
        return 0;
    }
    long port = 0;
    const char *p = colon + 1;
    if (p == end) {
        snprintf(why, whysize, "missing port number after ':'");
        return -1;
    }
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p) || (port = port * 10 + (*p - '0')) > 65535) {
            snprintf(why, whysize, "port must be a number from 1 to 65535");
            return -1;
        }
    }
    if (port == 0) {
        snprintf(why, whysize, "port must be a number from 1 to 65535");
        return -1;
    }
    return 0;
}

int cw_cfgv_listen(const char *listen, char *why, size_t whysize)
{
    if (listen[0] == '\0')
        return 0; /* "": the HTTP endpoint is disabled */
    return check_host_port(listen, strlen(listen), true, why, whysize);
}

bool cw_cfgv_redis_url_tls(const char *url)
{
    return strncmp(url, "rediss://", 9) == 0 || strncmp(url, "rediss-cluster://", 17) == 0;
}

/* Messages never repeat the URL: it may carry a password. */
int cw_cfgv_redis_url(const char *url, char *why, size_t whysize)
{
    static const char unix_[] = "unix://";
    static const char *const schemes[] = {"redis://", "rediss://", "redis-cluster://",
                                          "rediss-cluster://"};
    const char *p = NULL;

    if (strncmp(url, unix_, sizeof unix_ - 1) == 0) {
        p = url + sizeof unix_ - 1;
        if (p[0] != '/' || p[1] == '\0') {
            snprintf(why, whysize, "a unix:// URL needs an absolute socket path (unix:///path)");
            return -1;
        }
        return 0;
    }
    size_t k;
    for (k = 0; k < sizeof schemes / sizeof schemes[0] && !p; k++)
        if (strncmp(url, schemes[k], strlen(schemes[k])) == 0)
            p = url + strlen(schemes[k]);
    if (!p) {
        snprintf(why, whysize,
                 "unsupported URL scheme; write redis://[user:pass@]host:port/db, unix:///path, "
                 "redis-cluster://host:port[,host:port...] or rediss:// and rediss-cluster:// "
                 "for TLS");
        return -1;
    }
    bool is_cluster = strstr(schemes[k - 1], "cluster") != NULL;
    const char *at = strrchr(p, '@');
    if (at)
        p = at + 1;
    const char *hosts = p;
    if (is_cluster) {
        while (*p) {
            size_t len = strcspn(p, ",");
            char hwhy[96];
            if (check_host_port(p, len, true, hwhy, sizeof hwhy) < 0) {
                snprintf(why, whysize, "bad seed node in redis-cluster URL: %s", hwhy);
                return -1;
            }
            p += len;
            if (*p == ',' && *++p == '\0') {
                snprintf(why, whysize, "trailing ',' in redis-cluster URL");
                return -1;
            }
        }
        if (p == hosts) {
            snprintf(why, whysize, "redis-cluster URL needs at least one host:port");
            return -1;
        }
        return 0;
    }
    size_t hostlen = strcspn(p, "/");
    char hwhy[96];
    if (check_host_port(p, hostlen, false, hwhy, sizeof hwhy) < 0) {
        snprintf(why, whysize, "bad host in redis URL: %s", hwhy);
        return -1;
    }
    p += hostlen;
    if (*p == '/') {
        p++;
        size_t digits = strspn(p, "0123456789");
        if (p[digits] != '\0' || digits > 5) {
            snprintf(why, whysize, "the database after '/' must be a number");
            return -1;
        }
    }
    return 0;
}

int cw_cfgv_json_pointer(const char *ptr, char *why, size_t whysize)
{
    if (*ptr == '\0')
        return 0;
    if (*ptr != '/') {
        snprintf(why, whysize, "JSON pointer '%.64s' must be empty or start with '/'", ptr);
        return -1;
    }
    for (const char *p = ptr; *p; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            snprintf(why, whysize, "JSON pointer '%.64s': '~' must be followed by 0 or 1", ptr);
            return -1;
        }
    }
    return 0;
}

int cw_cfgv_ident(const char *name, char *why, size_t whysize)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n <= IDENT_MAX && (isalpha((unsigned char)name[0]) || name[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '_';
    if (ok)
        return 0;
    snprintf(why, whysize,
             "invalid name '%.64s': use letters, digits and '_', starting with a letter "
             "(at most %d bytes)",
             name, IDENT_MAX);
    return -1;
}

int cw_cfgv_touch(const char *touch, char *why, size_t whysize)
{
    size_t n = strlen(touch);
    bool ok = n > 0 && n <= 31 && islower((unsigned char)touch[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = islower((unsigned char)touch[i]) || isdigit((unsigned char)touch[i]) ||
             touch[i] == '_' || touch[i] == '-';
    if (ok)
        return 0;
    snprintf(why, whysize,
             "invalid touch '%.64s': lower-case letters, digits, '_' and '-' (e.g. high, low, "
             "tech)",
             touch);
    return -1;
}

int cw_cfgv_topic(const char *name, char *why, size_t whysize)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n <= 249 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || strchr("._-", name[i]);
    if (ok)
        return 0;
    snprintf(why, whysize,
             "invalid Kafka topic name '%.64s': 1 to 249 of letters, digits, '.', '_' and '-'",
             name);
    return -1;
}

/* librdkafka properties that churnwatch sets itself: its guarantees depend on them. */
int cw_cfgv_kafka_property(const char *key, char *why, size_t whysize)
{
    static const struct {
        const char *key;
        const char *use;
    } managed[] = {
        {"bootstrap.servers", "use kafka.brokers"},
        {"metadata.broker.list", "use kafka.brokers"},
        {"group.id", "use kafka.group_id"},
        {"enable.auto.commit", "offsets are committed after the Redis writes"},
        {"enable.auto.offset.store", "offsets are stored after the Redis writes"},
        {"enable.idempotence", "the alert producer is always idempotent"},
    };
    for (size_t i = 0; i < sizeof managed / sizeof managed[0]; i++) {
        if (strcmp(managed[i].key, key) == 0) {
            snprintf(why, whysize, "'%s' is managed by churnwatch (%s)", key, managed[i].use);
            return -1;
        }
    }
    return 0;
}

void cw_cfgv_format_duration(int64_t ms, char *buf, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{CW_MS_PER_DAY, "d"},
                 {3600 * CW_MS_PER_SECOND, "h"},
                 {60 * CW_MS_PER_SECOND, "m"},
                 {CW_MS_PER_SECOND, "s"}};
    if (ms == 0) {
        snprintf(buf, size, "0");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%lldms", (long long)ms);
}

/* ---- cross-references ---- */

typedef const char *(*name_at_fn)(const struct cw_config *cfg, size_t i);

/* NULL (left out of a list) for power_users and ranked_users without a users section. */
static const char *metric_name(const struct cw_config *cfg, size_t i)
{
    if (!cw_config_metric_in_use(cfg, (int)i))
        return NULL;
    return cfg->metrics[i].name;
}

static const char *window_name(const struct cw_config *cfg, size_t i)
{
    return cfg->windows[i].name;
}

static const char *event_type_name(const struct cw_config *cfg, size_t i)
{
    return cfg->event_types[i].name;
}

static void name_list(const struct cw_config *cfg, size_t n, name_at_fn at, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < size; i++) {
        const char *name = at(cfg, i);
        if (!name)
            continue;
        int w = snprintf(out + len, size - len, "%s%s", len ? ", " : "", name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (n == 0)
        snprintf(out, size, "(none)");
}

static const char *ref_text(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                            const char *what)
{
    if (node->kind != CW_YSCALAR || cw_ynode_is_null(node) || *node->text == '\0') {
        cw_cfg_err(ctx, node, path, "expected %s name", what);
        return NULL;
    }
    return node->text;
}

int cw_cfgv_resolve_metric(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path)
{
    char list[512];
    const char *t = ref_text(ctx, node, path, "a metric");
    if (!t)
        return -1;
    int i = cw_config_metric_index(ctx->cfg, t);
    if (i < 0) {
        name_list(ctx->cfg, ctx->cfg->n_metrics, metric_name, list, sizeof list);
        cw_cfg_err(ctx, node, path, "unknown metric '%.64s'; metrics: %s", t, list);
    }
    return i;
}

int cw_cfgv_resolve_window(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path)
{
    char list[512];
    const char *t = ref_text(ctx, node, path, "a window");
    if (!t)
        return -1;
    int i = cw_config_window_index(ctx->cfg, t);
    if (i < 0) {
        name_list(ctx->cfg, ctx->cfg->n_windows, window_name, list, sizeof list);
        cw_cfg_err(ctx, node, path, "unknown window '%.64s'; windows: %s", t, list);
    }
    return i;
}

int cw_cfgv_resolve_event_type(struct cw_cfg_ctx *ctx, const struct cw_ynode *node,
                               const char *path)
{
    char list[512];
    const char *t = ref_text(ctx, node, path, "an event type");
    if (!t)
        return -1;
    int i = cw_config_event_type_index(ctx->cfg, t);
    if (i < 0) {
        name_list(ctx->cfg, ctx->cfg->n_event_types, event_type_name, list, sizeof list);
        cw_cfg_err(ctx, node, path, "unknown event type '%.64s'; event types: %s", t, list);
    }
    return i;
}

/* Where a constraint between keys hi and lo was broken: the most specific of maps that
 * sets either (hi first), else the last map itself. *which tells which key it is. */
static const struct cw_ynode *where(const struct cw_ynode *const *maps, const char *const *paths,
                                    size_t n, const char *hi, const char *lo, const char **which,
                                    char *path_out, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        const char *keys[2] = {hi, lo};
        for (size_t k = 0; k < 2; k++) {
            const struct cw_ynode *v = keys[k] ? cw_ymap_get(maps[i], keys[k]) : NULL;
            if (v) {
                snprintf(path_out, size, "%s.%s", paths[i], keys[k]);
                *which = keys[k];
                return v;
            }
        }
    }
    snprintf(path_out, size, "%s", paths[n - 1]);
    *which = hi;
    return maps[n - 1];
}

void cw_cfgv_rule_params(struct cw_cfg_ctx *ctx, const struct cw_rule *rule,
                         const struct cw_rule_params *p, const struct cw_ynode *const *maps,
                         const char *const *paths, size_t n)
{
    char path[600], d[32];
    const char *which;
    const struct cw_ynode *at;

    switch (rule->kind) {
    case CW_RULE_SCORE_BELOW:
    case CW_RULE_RATIO_BELOW:
    case CW_RULE_RENEWAL:
    case CW_RULE_CHILDREN_AT_RISK:
    case CW_RULE_POWER_USERS_BELOW:
        if (!(p->exit > p->enter)) {
            at = where(maps, paths, n, "exit", "enter", &which, path, sizeof path);
            if (strcmp(which, "exit") == 0)
                cw_cfg_err(ctx, at, path, "must be above enter (%g) for %s", p->enter,
                           cw_rule_kind_name(rule->kind));
            else
                cw_cfg_err(ctx, at, path, "must be below exit (%g) for %s", p->exit,
                           cw_rule_kind_name(rule->kind));
        }
        break;
    case CW_RULE_SCORE_ABOVE:
    case CW_RULE_RATIO_ABOVE:
        if (!(p->exit < p->enter)) {
            at = where(maps, paths, n, "exit", "enter", &which, path, sizeof path);
            if (strcmp(which, "exit") == 0)
                cw_cfg_err(ctx, at, path, "must be below enter (%g) for %s", p->enter,
                           cw_rule_kind_name(rule->kind));
            else
                cw_cfg_err(ctx, at, path, "must be above exit (%g) for %s", p->exit,
                           cw_rule_kind_name(rule->kind));
        }
        break;
    case CW_RULE_SCORE_DROP:
        if (!(p->exit_points < p->points)) {
            at = where(maps, paths, n, "exit_points", "points", &which, path, sizeof path);
            if (strcmp(which, "exit_points") == 0)
                cw_cfg_err(ctx, at, path, "must be below points (%g)", p->points);
            else
                cw_cfg_err(ctx, at, path, "must be above exit_points (%g)", p->exit_points);
        }
        if (p->over_ms % CW_MS_PER_DAY != 0) {
            at = where(maps, paths, n, "over", NULL, &which, path, sizeof path);
            cw_cfg_err(ctx, at, path,
                       "must be a whole number of days (the score history is "
                       "daily)");
        } else if (p->over_ms / CW_MS_PER_DAY > ctx->cfg->longest_window_days) {
            at = where(maps, paths, n, "over", NULL, &which, path, sizeof path);
            cw_cfgv_format_duration(p->over_ms, d, sizeof d);
            cw_cfg_err(ctx, at, path,
                       "%s is longer than the score history kept (the longest window, %ud)", d,
                       ctx->cfg->longest_window_days);
        }
        break;
    case CW_RULE_CHAMPION_QUIET:
        /* engagement is kept by the day for users.window: a champion quiet for longer has
         * no points left to be recognised by (docs/users.md) */
        if (p->after_ms % CW_MS_PER_DAY != 0 ||
            (ctx->cfg->users.enabled &&
             p->after_ms / CW_MS_PER_DAY >= (int64_t)ctx->cfg->users.window_days)) {
            at = where(maps, paths, n, "after", NULL, &which, path, sizeof path);
            cw_cfgv_format_duration(p->after_ms, d, sizeof d);
            cw_cfg_err(ctx, at, path,
                       "%s must be a whole number of days shorter than users.window (%ud)", d,
                       ctx->cfg->users.window_days);
        }
        break;
    case CW_RULE_INACTIVE:
    case CW_RULE_ONBOARDING:
        break;
    }
}

void cw_cfgv_grades(struct cw_cfg_ctx *ctx, const struct cw_ynode *const *nodes, const char *path)
{
    const struct cw_score_config *sc = &ctx->cfg->score;
    char gpath[512];
    for (size_t i = 0; i < sc->n_grades; i++) {
        const struct cw_grade *g = &sc->grades[i];
        snprintf(gpath, sizeof gpath, "%s.%s", path, g->name);
        if (i > 0 && !(g->min_score < sc->grades[i - 1].min_score))
            cw_cfg_err(ctx, nodes[i], gpath,
                       "%g must be below the previous band %s (%g): list grades from best to "
                       "worst",
                       g->min_score, sc->grades[i - 1].name, sc->grades[i - 1].min_score);
        else if (i + 1 == sc->n_grades && g->min_score != 0)
            cw_cfg_err(ctx, nodes[i], gpath,
                       "the last band must have minimum 0 so that every score gets a grade");
    }
}

/* ---- environment ---- */

void cw_cfgv_env(struct cw_cfg_ctx *ctx, cw_getenv_fn getenv_fn)
{
    struct cw_config *cfg = ctx->cfg;
    const char *v;
    char why[200];

    if (!getenv_fn)
        return;
    /* an empty variable counts as unset (compose files often export X= ) */
    if ((v = getenv_fn("CHURNWATCH_KAFKA_BROKERS")) && *v) {
        bool ok = true;
        for (const char *p = v; *p && ok; p++)
            ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
        if (!ok) {
            cw_errs_plain(ctx->errs, "CHURNWATCH_KAFKA_BROKERS: must be host:port[,host:port...] "
                                     "without spaces (environment override)");
        } else {
            char *dup = strdup(v);
            if (!dup) {
                cw_errs_plain(ctx->errs, "out of memory");
            } else {
                free(cfg->kafka.brokers);
                cfg->kafka.brokers = dup;
            }
        }
    }
    if ((v = getenv_fn("CHURNWATCH_REDIS_URL")) && *v) {
        if (cw_cfgv_redis_url(v, why, sizeof why) < 0) {
            cw_errs_plain(ctx->errs, "CHURNWATCH_REDIS_URL: %s (environment override)", why);
        } else {
            char *dup = strdup(v);
            if (!dup) {
                cw_errs_plain(ctx->errs, "out of memory");
            } else {
                free(cfg->redis.url);
                cfg->redis.url = dup;
            }
        }
    }
    if ((v = getenv_fn("CHURNWATCH_HTTP_LISTEN")) && *v) {
        if (cw_cfgv_listen(v, why, sizeof why) < 0) {
            cw_errs_plain(ctx->errs, "CHURNWATCH_HTTP_LISTEN: %s (environment override)", why);
        } else {
            char *dup = strdup(v);
            if (!dup) {
                cw_errs_plain(ctx->errs, "out of memory");
            } else {
                free(cfg->http_listen);
                cfg->http_listen = dup;
            }
        }
    }
    if ((v = getenv_fn("CHURNWATCH_LOG_LEVEL")) && *v) {
        int level = cw_enum_value(&cw_log_level_names, v);
        char list[128];
        if (level < 0)
            cw_errs_plain(ctx->errs,
                          "CHURNWATCH_LOG_LEVEL: invalid value '%.32s' (environment override); "
                          "valid values: %s",
                          v, cw_enum_list(&cw_log_level_names, list, sizeof list));
        else
            cfg->log_level = (enum cw_log_level)level;
    }
}
