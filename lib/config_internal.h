/* config_internal.h - private to the config loader: YAML node tree, schema context, the
 * validators and helpers shared by lib/config_*.c (the error collector: config_errors.h).
 *
 * Who calls whom among lib/config_*.c, bottom first; each calls only modules above it:
 *   config_errors.c          the error collector, cw_cfg_err
 *   config_free.c            releasing a configuration
 *   config_lookup.c          name lookups over a loaded configuration (public)
 *   config_secrets.c         which values are secrets (public)
 *   config_yaml.c            stage 1: YAML into a node tree          (errors)
 *   config_validate.c        checks beyond one key, env overrides     (errors, yaml, lookup)
 *   config_schema.c          stage 2: key tables fill the struct      (errors, yaml, free,
 *                                                                      lookup, validate)
 *   config_secret_sources.c  secrets from files and the environment   (errors, yaml, free,
 *                                                                      secrets)
 *   config_load.c            cw_config_load, runs the stages          (all of the above) */
#ifndef CHURNWATCH_CONFIG_INTERNAL_H
#define CHURNWATCH_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "config_errors.h"

/* ---- stage 1: the YAML tree (config_yaml.c) ---- */

enum cw_ykind {
    CW_YSCALAR = 0,
    CW_YSEQ,
    CW_YMAP,
};

/* One YAML node with its libyaml mark (1-based). A mapping value also carries the mark of
 * its key, which is where errors about the value are reported. */
struct cw_ynode {
    enum cw_ykind kind;
    unsigned line, col;      /* the node's own start mark */
    unsigned kline, kcol;    /* the key's mark for a mapping value, else line/col */
    char *text;              /* scalar: the value, NUL-terminated */
    size_t len;              /* scalar: length of text (may differ from strlen on "\0") */
    bool plain;              /* scalar: written without quotes or block style */
    struct cw_ynode **keys;  /* mapping: scalar key nodes, parallel to items */
    struct cw_ynode **items; /* sequence items or mapping values */
    size_t n;
    size_t cap;
};

/*
 * Parse len bytes of YAML into a tree. Returns 0 and sets *root (NULL for a document-less
 * input), or -1 after adding libyaml's own error (or an unsupported-feature error: anchors,
 * aliases, tags, non-scalar keys, several documents) to errs with its mark.
 */
int cw_yaml_parse(const char *buf, size_t len, struct cw_ynode **root, struct cw_errs *errs);

/* cw_ynode_free(NULL) is a no-op; frees the whole subtree. */
void cw_ynode_free(struct cw_ynode *node);

/* The value of the first key equal to name in a mapping, or NULL. */
const struct cw_ynode *cw_ymap_get(const struct cw_ynode *map, const char *name);

/* True for a plain "", "~", "null", "Null" or "NULL" scalar. */
bool cw_ynode_is_null(const struct cw_ynode *node);

/* ---- stage 2: schema context (config_schema.c) ---- */

/* Where a rule came from, kept while loading so that segment merging and validation can
 * point at the right node. */
struct cw_rule_src {
    const struct cw_ynode *map; /* the rule's mapping */
    char path[64];              /* "alerts.rules[2]" */
    bool touch_set;             /* the rule names its own touch */
    bool exit_points_set;       /* score_drop: exit_points given explicitly */
    bool bad;                   /* the rule itself has errors: skip its segment checks */
};

struct cw_cfg_ctx {
    struct cw_errs *errs;
    struct cw_config *cfg;
    struct cw_rule_params defaults; /* alerts.defaults (touch owned) */
    /* alerts.touch_by_severity (owned), by cw_severity */
    char *touch_by_severity[CW_SEV_CRITICAL + 1];
    struct cw_rule_src rule_src[CW_MAX_RULES];
    size_t n_measures;   /* across the components read so far */
    unsigned key_errors; /* unknown or misplaced keys found by the last key table */
};

/* Fill ctx->cfg from the tree root (a mapping). Errors go to ctx->errs. */
void cw_cfg_build(struct cw_cfg_ctx *ctx, const struct cw_ynode *root);

/* Report an error about node (at its key's mark when it is a mapping value); in
 * config_errors.c so that the validators do not call back into config_schema.c. */
void cw_cfg_err(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- validation and cross-references (config_validate.c) ---- */

/* Each returns 0 when valid, else -1 with a reason (never echoing secrets) in why. */
int cw_cfgv_timezone(const char *name, char *why, size_t whysize);
int cw_cfgv_redis_url(const char *url, char *why, size_t whysize);
/* Whether url selects TLS (rediss://, rediss-cluster://). */
bool cw_cfgv_redis_url_tls(const char *url);
int cw_cfgv_listen(const char *listen, char *why, size_t whysize);
int cw_cfgv_json_pointer(const char *ptr, char *why, size_t whysize);
int cw_cfgv_ident(const char *name, char *why, size_t whysize);
int cw_cfgv_touch(const char *touch, char *why, size_t whysize);
int cw_cfgv_kafka_property(const char *key, char *why, size_t whysize);

/* Resolve a name at node to an index of cfg, reporting an unknown name (with the known
 * ones) at node. Return the index or -1. */
int cw_cfgv_resolve_metric(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path);
int cw_cfgv_resolve_window(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path);
int cw_cfgv_resolve_event_type(struct cw_cfg_ctx *ctx, const struct cw_ynode *node,
                               const char *path);

/*
 * Check the cross-field constraints of rule's params p (exit above enter, exit_points
 * below points, over within the score history). maps/paths: where the params were written,
 * most specific first (a segment override, then the rule); n of them.
 */
void cw_cfgv_rule_params(struct cw_cfg_ctx *ctx, const struct cw_rule *rule,
                         const struct cw_rule_params *p, const struct cw_ynode *const *maps,
                         const char *const *paths, size_t n);

/* Check cfg's grade bands: strictly descending, last band 0. nodes[i] is where band i was
 * written (NULL for the built-in default bands). */
void cw_cfgv_grades(struct cw_cfg_ctx *ctx, const struct cw_ynode *const *nodes, const char *path);

/* Check a Kafka topic name (legal characters, length). */
int cw_cfgv_topic(const char *name, char *why, size_t whysize);

/* Render ms as the largest exact unit ("14d", "36h", "90s", "1500ms"). */
void cw_cfgv_format_duration(int64_t ms, char *buf, size_t size);

/* Apply and validate CHURNWATCH_* environment overrides. */
void cw_cfgv_env(struct cw_cfg_ctx *ctx, cw_getenv_fn getenv_fn);

/* ---- secrets kept out of the file (config_secret_sources.c) ---- */

/*
 * Resolve the secrets of ctx->cfg that come from files or the environment: the *_file keys
 * of redis and kafka.properties (errors at their key in root), CHURNWATCH_REDIS_PASSWORD,
 * CHURNWATCH_KAFKA_<PROPERTY> and their _FILE forms (errors naming the variable). Run after
 * the config was built without errors and the overrides applied.
 */
void cw_cfg_secret_sources(struct cw_cfg_ctx *ctx, const struct cw_ynode *root,
                           cw_getenv_fn getenv_fn);

/* ---- helpers (config_free.c) ---- */

void cw_strlist_free(struct cw_strlist *l);
/* Overwrite a secret string, then free it; NULL is a no-op. */
void cw_secret_free(char *secret);
void cw_rule_params_free(struct cw_rule_params *p);

#endif /* CHURNWATCH_CONFIG_INTERNAL_H */
