/* config_schema.c - stage 2 of config loading: declarative key tables fill the typed struct.
 * Calls config_errors.c, config_yaml.c, config_free.c, config_lookup.c and
 * config_validate.c (dependency order: config_internal.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/enum_names.h"
#include "churnwatch/event.h"
#include "churnwatch/hierarchy.h"
#include "config_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define DAY_MS         ((double)CW_MS_PER_DAY)
#define MAX_DUR        (366.0 * DAY_MS)
#define MAX_SEGMENTS   256
#define MAX_POINTERS   8
#define NAME_MAX_BYTES 63

/* ---- the key table ---- */

enum ktype {
    K_STR,      /* char *: any scalar text */
    K_BOOL,     /* bool: true or false only */
    K_U32,      /* uint32_t */
    K_UINT,     /* unsigned */
    K_SIZE,     /* size_t */
    K_DOUBLE,   /* double, finite */
    K_DURATION, /* int64_t milliseconds, cw_duration_parse */
    K_ENUM,     /* an enum (int-sized): its value by name in names (enum_names.h) */
    K_STRLIST,  /* struct cw_strlist: a sequence of non-empty strings, no duplicates */
    K_METRIC,   /* int: the index of a metric, by name */
    K_WINDOW,   /* int: the index of a window, by name */
    K_CUSTOM,   /* fn does it all; called with node NULL to apply the default */
};

#define KF_REQUIRED 0x01u /* must be present (for the kinds it applies to) */
#define KF_NONEMPTY 0x02u /* K_STR: not ""; K_STRLIST: at least one item */
#define KF_OVERRIDE 0x04u /* may be overridden per segment */
#define KF_GT_MIN   0x08u /* min is exclusive */
#define KF_IDENT    0x10u /* K_STR: a name, [A-Za-z_][A-Za-z0-9_]* */
#define KF_TOUCH    0x20u /* K_STR: a touch name, [a-z][a-z0-9_-]* */

typedef void (*key_fn)(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                       const char *path);

/* One key of a section: how it is read, where it goes, its default and bounds. */
struct key_spec {
    const char *name;
    enum ktype type;
    const char *def;                   /* default, written as in YAML; NULL: none (left as is) */
    unsigned flags;                    /* KF_* */
    double min, max;                   /* numbers and durations (ms); max 0 = unbounded */
    size_t offset;                     /* of the field in the section's struct */
    const struct cw_enum_names *names; /* K_ENUM: the enum's name table */
    key_fn fn;                         /* K_CUSTOM */
    unsigned kinds; /* rules: bit mask of the rule kinds it applies to; 0 = all */
    const char *desc;
};

enum mode {
    MODE_FILL,    /* absent keys get their default, required keys must be there */
    MODE_OVERLAY, /* segment override: only KF_OVERRIDE keys, absent keys untouched */
};

_Static_assert(sizeof(enum cw_preset) == sizeof(int), "enums are int-sized");
_Static_assert(sizeof(enum cw_log_level) == sizeof(int), "enums are int-sized");
_Static_assert(sizeof(enum cw_rule_kind) == sizeof(int), "enums are int-sized");

/* ---- small helpers ---- */

/* Paths longer than the buffers are truncated; the mark still locates the error. */
static void join_path(char *out, size_t size, const char *path, const char *key)
{
    int n =
        (path && *path) ? snprintf(out, size, "%s.%s", path, key) : snprintf(out, size, "%s", key);
    if (n < 0)
        out[0] = '\0';
}

static void index_path(char *out, size_t size, const char *path, size_t i)
{
    if (snprintf(out, size, "%s[%zu]", path, i) < 0)
        out[0] = '\0';
}

static char *xstrdup(struct cw_cfg_ctx *ctx, const char *s)
{
    char *d = strdup(s);
    if (!d)
        cw_errs_at(ctx->errs, 0, 0, "out of memory");
    return d;
}

static void *xcalloc(struct cw_cfg_ctx *ctx, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        cw_errs_at(ctx->errs, 0, 0, "out of memory");
    return p;
}

static const char *kind_desc(const struct cw_ynode *node)
{
    if (node->kind == CW_YSEQ)
        return "a sequence";
    if (node->kind == CW_YMAP)
        return "a mapping";
    return cw_ynode_is_null(node) ? "null" : "a scalar";
}

/* The text of a scalar node, or NULL after reporting what was expected instead. */
static const char *scalar(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                          const char *expected)
{
    if (node->kind != CW_YSCALAR || cw_ynode_is_null(node)) {
        cw_cfg_err(ctx, node, path, "expected %s, got %s", expected, kind_desc(node));
        return NULL;
    }
    if (strlen(node->text) != node->len) {
        cw_cfg_err(ctx, node, path, "must not contain a NUL character");
        return NULL;
    }
    return node->text;
}

/* True when key i of map repeats an earlier key. */
static bool is_dup(const struct cw_ynode *map, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(map->keys[j]->text, map->keys[i]->text) == 0)
            return true;
    return false;
}

/* Check that node is a mapping and report its duplicate keys. Returns false (after an
 * error) when it is not a mapping. */
static bool check_map(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path)
{
    if (node->kind != CW_YMAP) {
        cw_cfg_err(ctx, node, path, "expected a mapping, got %s", kind_desc(node));
        return false;
    }
    for (size_t i = 0; i < node->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(node->keys[j]->text, node->keys[i]->text) == 0) {
                cw_cfg_err(ctx, node->keys[i], NULL, "duplicate key '%s' in %s (first at line %u)",
                           node->keys[i]->text, *path ? path : "the top level",
                           node->keys[j]->line);
                break;
            }
        }
    }
    return true;
}

/* Count of the distinct keys of a mapping. */
static size_t map_count(const struct cw_ynode *map)
{
    size_t n = 0;
    for (size_t i = 0; i < map->n; i++)
        n += !is_dup(map, i);
    return n;
}

/* The rule kind whose KB() bit is kindbit. */
static unsigned kind_of_bit(unsigned kindbit)
{
    unsigned k = 0;
    while (kindbit > 1u) {
        kindbit >>= 1;
        k++;
    }
    return k;
}

static bool spec_applies(const struct key_spec *s, unsigned kindbit, enum mode mode)
{
    if (s->kinds && kindbit && !(s->kinds & kindbit))
        return false;
    return mode == MODE_FILL || (s->flags & KF_OVERRIDE);
}

/* "a, b, c" of the keys that apply. */
static void valid_keys(const struct key_spec *specs, size_t n, unsigned kindbit, enum mode mode,
                       char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        if (!spec_applies(&specs[i], kindbit, mode))
            continue;
        int w = snprintf(out + len, size - len, "%s%s", len ? ", " : "", specs[i].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static void range_text(const struct key_spec *s, bool duration, char *out, size_t size)
{
    char lo[32], hi[32];
    if (duration) {
        cw_cfgv_format_duration((int64_t)s->min, lo, sizeof lo);
        cw_cfgv_format_duration((int64_t)s->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%g", s->min);
        snprintf(hi, sizeof hi, "%g", s->max);
    }
    if (s->max > 0)
        snprintf(out, size, "must be %s %s and at most %s",
                 (s->flags & KF_GT_MIN) ? "above" : "at least", lo, hi);
    else
        snprintf(out, size, "must be %s %s", (s->flags & KF_GT_MIN) ? "above" : "at least", lo);
}

static bool in_range(const struct key_spec *s, double v)
{
    if ((s->flags & KF_GT_MIN) ? !(v > s->min) : !(v >= s->min))
        return false;
    return !(s->max > 0 && v > s->max);
}

/* Parse a duration scalar. Returns 0, or -1 after an error. */
static int parse_duration(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                          int64_t *ms)
{
    const char *t = scalar(ctx, node, path, "a duration");
    if (!t)
        return -1;
    if (cw_duration_parse(t, ms) == 0)
        return 0;
    size_t digits = strspn(t, "0123456789");
    if (digits > 0 && t[0] != '0' && strchr("smhd", t[digits]) && t[digits] && !t[digits + 1])
        cw_cfg_err(ctx, node, path, "duration '%s' is too large", t);
    else
        cw_cfg_err(ctx, node, path,
                   "'%s' is not a duration: write a whole number and a unit s, m, h or d "
                   "(90s, 15m, 36h, 14d), or 0",
                   t);
    return -1;
}

/* Parse a finite number scalar. Returns 0, or -1 after an error. */
static int parse_double(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                        double *out)
{
    const char *t = scalar(ctx, node, path, "a number");
    if (!t)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (!node->plain || *t == '\0' || strspn(t, "0123456789+-.eE") != strlen(t) || *end != '\0') {
        cw_cfg_err(ctx, node, path, "expected a number, got '%s'", t);
        return -1;
    }
    if (errno == ERANGE || !isfinite(v)) {
        cw_cfg_err(ctx, node, path, "number '%s' is out of range", t);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parse an unsigned decimal scalar no larger than max. Returns 0, or -1 after an error. */
static int parse_unsigned(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                          const struct key_spec *s, unsigned long long *out)
{
    const char *t = scalar(ctx, node, path, "a whole number");
    if (!t)
        return -1;
    size_t n = strspn(t, "0123456789");
    if (!node->plain || n == 0 || t[n] != '\0') {
        cw_cfg_err(ctx, node, path, "expected a whole number, got '%s'", t);
        return -1;
    }
    unsigned long long v = 0;
    bool big = false;
    for (const char *p = t; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (1ULL << 52) / 10) {
            big = true;
            break;
        }
        v = v * 10 + d;
    }
    char why[96];
    range_text(s, false, why, sizeof why);
    if (big || !in_range(s, (double)v)) {
        cw_cfg_err(ctx, node, path, "%s is out of range: %s", t, why);
        return -1;
    }
    *out = v;
    return 0;
}

static void check_name(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                       const char *name, unsigned flags)
{
    char why[160];
    if ((flags & KF_IDENT) && cw_cfgv_ident(name, why, sizeof why) < 0)
        cw_cfg_err(ctx, node, path, "%s", why);
    if ((flags & KF_TOUCH) && cw_cfgv_touch(name, why, sizeof why) < 0)
        cw_cfg_err(ctx, node, path, "%s", why);
}

/* Read node into the field of base described by s. */
static void convert(struct cw_cfg_ctx *ctx, const struct key_spec *s, const struct cw_ynode *node,
                    void *base, const char *path)
{
    char *field = (char *)base + s->offset;
    char why[128];
    const char *t;
    unsigned long long u;
    double d;
    int64_t ms;

    switch (s->type) {
    case K_METRIC:
        *(int *)field = cw_cfgv_resolve_metric(ctx, node, path);
        return;
    case K_WINDOW:
        *(int *)field = cw_cfgv_resolve_window(ctx, node, path);
        return;
    case K_STR:
        if (!(t = scalar(ctx, node, path, "a string")))
            return;
        if ((s->flags & KF_NONEMPTY) && *t == '\0') {
            cw_cfg_err(ctx, node, path, "must not be empty");
            return;
        }
        if (s->max > 0 && (double)strlen(t) > s->max) {
            cw_cfg_err(ctx, node, path, "longer than %g bytes", s->max);
            return;
        }
        check_name(ctx, node, path, t, s->flags);
        free(*(char **)field);
        *(char **)field = xstrdup(ctx, t);
        return;
    case K_BOOL:
        if (!(t = scalar(ctx, node, path, "true or false")))
            return;
        if (node->plain && strcmp(t, "true") == 0)
            *(bool *)field = true;
        else if (node->plain && strcmp(t, "false") == 0)
            *(bool *)field = false;
        else
            cw_cfg_err(ctx, node, path, "expected true or false, got '%s'", t);
        return;
    case K_U32:
        if (parse_unsigned(ctx, node, path, s, &u) == 0)
            *(uint32_t *)field = (uint32_t)u;
        return;
    case K_UINT:
        if (parse_unsigned(ctx, node, path, s, &u) == 0)
            *(unsigned *)field = (unsigned)u;
        return;
    case K_SIZE:
        if (parse_unsigned(ctx, node, path, s, &u) == 0)
            *(size_t *)field = (size_t)u;
        return;
    case K_DOUBLE:
        if (parse_double(ctx, node, path, &d) < 0)
            return;
        if (!in_range(s, d)) {
            range_text(s, false, why, sizeof why);
            cw_cfg_err(ctx, node, path, "%s is out of range: %s", node->text, why);
            return;
        }
        *(double *)field = d;
        return;
    case K_DURATION:
        if (parse_duration(ctx, node, path, &ms) < 0)
            return;
        if (!in_range(s, (double)ms)) {
            range_text(s, true, why, sizeof why);
            cw_cfg_err(ctx, node, path, "%s is out of range: %s", node->text, why);
            return;
        }
        *(int64_t *)field = ms;
        return;
    case K_ENUM: {
        if (!(t = scalar(ctx, node, path, "a name")))
            return;
        int v = cw_enum_value(s->names, t);
        if (v >= 0) {
            memcpy(field, &v, sizeof v);
            return;
        }
        char list[256];
        cw_cfg_err(ctx, node, path, "invalid value '%s'; valid values: %s", t,
                   cw_enum_list(s->names, list, sizeof list));
        return;
    }
    case K_STRLIST: {
        struct cw_strlist *l = (struct cw_strlist *)field;
        char ipath[512];
        if (node->kind != CW_YSEQ) {
            cw_cfg_err(ctx, node, path, "expected a sequence, got %s", kind_desc(node));
            return;
        }
        if ((s->flags & KF_NONEMPTY) && node->n == 0) {
            cw_cfg_err(ctx, node, path, "must not be empty");
            return;
        }
        if (s->max > 0 && (double)node->n > s->max) {
            cw_cfg_err(ctx, node, path, "at most %g items", s->max);
            return;
        }
        cw_strlist_free(l);
        if (!(l->items = xcalloc(ctx, node->n, sizeof *l->items)))
            return;
        for (size_t i = 0; i < node->n; i++) {
            index_path(ipath, sizeof ipath, path, i);
            if (!(t = scalar(ctx, node->items[i], ipath, "a string")))
                continue;
            if (*t == '\0') {
                cw_cfg_err(ctx, node->items[i], ipath, "must not be empty");
                continue;
            }
            bool dup = false;
            for (size_t j = 0; j < l->n && !dup; j++)
                dup = strcmp(l->items[j], t) == 0;
            if (dup) {
                cw_cfg_err(ctx, node->items[i], ipath, "duplicate item '%s'", t);
                continue;
            }
            if ((l->items[l->n] = xstrdup(ctx, t)))
                l->n++;
        }
        return;
    }
    case K_CUSTOM:
        s->fn(ctx, node, base, path);
        return;
    }
}

/* Apply s's default to base (FILL mode, key absent). */
static void apply_default(struct cw_cfg_ctx *ctx, const struct key_spec *s, void *base,
                          const char *path)
{
    if (s->type == K_CUSTOM) {
        s->fn(ctx, NULL, base, path);
        return;
    }
    if (!s->def)
        return;
    if (s->type == K_STRLIST) {
        struct cw_strlist *l = (struct cw_strlist *)((char *)base + s->offset);
        cw_strlist_free(l);
        if ((l->items = xcalloc(ctx, 1, sizeof *l->items)) && (l->items[0] = xstrdup(ctx, s->def)))
            l->n = 1;
        return;
    }
    struct cw_ynode tmp = {
        .kind = CW_YSCALAR, .text = (char *)s->def, .len = strlen(s->def), .plain = true};
    convert(ctx, s, &tmp, base, path);
}

/*
 * Fill base from the mapping map by the key table specs: unknown keys, duplicates, keys
 * that do not apply (to this rule kind, or per segment) are errors; present keys are
 * converted and, in MODE_FILL, absent ones defaulted, in table order. owner is where a
 * missing required key is reported. Returns the bit mask of the specs present.
 */
static uint64_t apply_table(struct cw_cfg_ctx *ctx, const struct key_spec *specs, size_t n,
                            const struct cw_ynode *map, const struct cw_ynode *owner, void *base,
                            const char *path, enum mode mode, unsigned kindbit)
{
    const struct cw_ynode *found[64] = {0};
    uint64_t mask = 0;
    unsigned key_errors = ctx->errs->count;
    char kpath[512], list[512];

    if (map && !check_map(ctx, map, path))
        return 0;
    for (size_t i = 0; map && i < map->n; i++) {
        const char *key = map->keys[i]->text;
        if (is_dup(map, i))
            continue;
        size_t s, any = n;
        for (s = 0; s < n; s++) {
            if (strcmp(specs[s].name, key) != 0)
                continue;
            any = s;
            if (spec_applies(&specs[s], kindbit, mode))
                break;
        }
        if (s < n) {
            found[s] = map->items[i];
            continue;
        }
        valid_keys(specs, n, kindbit, mode, list, sizeof list);
        if (any < n && mode == MODE_OVERLAY &&
            (!specs[any].kinds || !kindbit || (specs[any].kinds & kindbit)))
            cw_cfg_err(ctx, map->keys[i], NULL,
                       "key '%s' cannot be overridden per segment in %s; valid keys: %s", key, path,
                       list);
        else if (any < n)
            cw_cfg_err(ctx, map->keys[i], NULL,
                       "key '%s' does not apply to %s rules in %s; valid keys: %s", key,
                       cw_rule_kind_name((enum cw_rule_kind)kind_of_bit(kindbit)), path, list);
        else
            cw_cfg_err(ctx, map->keys[i], NULL, "unknown key '%s' in %s; valid keys: %s", key,
                       *path ? path : "the top level", list);
    }
    key_errors = ctx->errs->count - key_errors;
    for (size_t s = 0; s < n; s++) {
        if (!spec_applies(&specs[s], kindbit, mode))
            continue;
        join_path(kpath, sizeof kpath, path, specs[s].name);
        if (found[s]) {
            convert(ctx, &specs[s], found[s], base, kpath);
            mask |= UINT64_C(1) << s;
        } else if (mode == MODE_FILL && (specs[s].flags & KF_REQUIRED)) {
            cw_cfg_err(ctx, owner, path, "missing required key '%s' (%s)", specs[s].name,
                       specs[s].desc);
        } else if (mode == MODE_FILL) {
            apply_default(ctx, &specs[s], base, kpath);
        }
    }
    ctx->key_errors = key_errors;
    return mask;
}

/* Index of the spec called name, for testing apply_table's mask. */
static uint64_t spec_bit(const struct key_spec *specs, size_t n, const char *name, unsigned kindbit)
{
    for (size_t s = 0; s < n; s++)
        if (strcmp(specs[s].name, name) == 0 && (!specs[s].kinds || (specs[s].kinds & kindbit)))
            return UINT64_C(1) << s;
    return 0;
}

/* ---- kafka, redis, http, log ---- */

static void kafka_properties(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    struct cw_kafka_config *k = base;
    char kpath[512], why[160];
    if (!node || !check_map(ctx, node, path))
        return;
    if (!(k->properties = xcalloc(ctx, node->n, sizeof *k->properties)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *key = node->keys[i]->text, *val;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, key);
        if (*key == '\0' || cw_cfgv_kafka_property(key, why, sizeof why) < 0) {
            cw_cfg_err(ctx, node->keys[i], kpath, "%s", *key ? why : "empty property name");
            continue;
        }
        /* values are never echoed: they may be credentials */
        if (node->items[i]->kind != CW_YSCALAR || cw_ynode_is_null(node->items[i]) ||
            strlen(node->items[i]->text) != node->items[i]->len) {
            cw_cfg_err(ctx, node->items[i], kpath, "expected a string value, got %s",
                       kind_desc(node->items[i]));
            continue;
        }
        val = node->items[i]->text;
        struct cw_kv *kv = &k->properties[k->n_properties];
        kv->key = xstrdup(ctx, key);
        kv->value = xstrdup(ctx, val);
        k->n_properties++;
    }
}

static const struct key_spec kafka_specs[] = {
    {.name = "brokers",
     .type = K_STR,
     .def = "localhost:9092",
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_kafka_config, brokers),
     .desc = "bootstrap brokers"},
    {.name = "group_id",
     .type = K_STR,
     .def = "churnwatch",
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_kafka_config, group_id),
     .desc = "consumer group"},
    {.name = "topics",
     .type = K_STRLIST,
     .def = "usage-events",
     .flags = KF_NONEMPTY,
     .max = 64,
     .offset = offsetof(struct cw_kafka_config, topics),
     .desc = "input topics"},
    {.name = "alerts_topic",
     .type = K_STR,
     .def = "churnwatch-alerts",
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_kafka_config, alerts_topic),
     .desc = "alert output topic"},
    {.name = "dlq_topic",
     .type = K_STR,
     .def = "usage-events-dlq",
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_kafka_config, dlq_topic),
     .desc = "dead-letter topic"},
    {.name = "properties",
     .type = K_CUSTOM,
     .fn = kafka_properties,
     .desc = "librdkafka properties"},
};

static void section_kafka(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_kafka_config *k = &((struct cw_config *)base)->kafka;
    char why[160], ipath[512];
    unsigned before = ctx->errs->count;
    apply_table(ctx, kafka_specs, N(kafka_specs), node, node, k, path, MODE_FILL, 0);
    if (ctx->errs->count != before)
        return;
    const struct cw_ynode *tn = cw_ymap_get(node, "topics");
    for (size_t i = 0; i < k->topics.n; i++) {
        snprintf(ipath, sizeof ipath, "%s.topics[%zu]", path, i);
        if (cw_cfgv_topic(k->topics.items[i], why, sizeof why) < 0)
            cw_cfg_err(ctx, tn ? tn->items[i] : node, ipath, "%s", why);
    }
    const char *outs[] = {"alerts_topic", "dlq_topic"};
    const char *vals[] = {k->alerts_topic, k->dlq_topic};
    for (size_t o = 0; o < 2; o++) {
        const struct cw_ynode *on = cw_ymap_get(node, outs[o]);
        join_path(ipath, sizeof ipath, path, outs[o]);
        if (cw_cfgv_topic(vals[o], why, sizeof why) < 0) {
            cw_cfg_err(ctx, on ? on : node, ipath, "%s", why);
            continue;
        }
        for (size_t i = 0; i < k->topics.n; i++)
            if (strcmp(vals[o], k->topics.items[i]) == 0)
                cw_cfg_err(ctx, on ? on : tn, ipath, "'%s' is also an input topic", vals[o]);
    }
    if (strcmp(k->alerts_topic, k->dlq_topic) == 0) {
        const struct cw_ynode *on = cw_ymap_get(node, "dlq_topic");
        join_path(ipath, sizeof ipath, path, "dlq_topic");
        cw_cfg_err(ctx, on ? on : cw_ymap_get(node, "alerts_topic"), ipath,
                   "must differ from alerts_topic");
    }
}

static const struct key_spec redis_tls_specs[] = {
    {.name = "ca_file",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_tls_config, ca_file),
     .desc = "PEM CA bundle the server is verified with"},
    {.name = "ca_dir",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_tls_config, ca_dir),
     .desc = "hashed CA directory"},
    {.name = "cert_file",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_tls_config, cert_file),
     .desc = "client certificate (PEM)"},
    {.name = "key_file",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_tls_config, key_file),
     .desc = "client key (PEM, unencrypted)"},
    {.name = "server_name",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_tls_config, server_name),
     .desc = "name verified instead of the host"},
    {.name = "verify",
     .type = K_BOOL,
     .def = "true",
     .offset = offsetof(struct cw_redis_tls_config, verify),
     .desc = "verify the server's certificate"},
};

/* redis.tls: applies to rediss:// and rediss-cluster:// URLs (checked in section_redis). */
static void redis_tls(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                      const char *path)
{
    struct cw_redis_tls_config *t = &((struct cw_redis_config *)base)->tls;
    char kpath[512];
    unsigned before = ctx->errs->count;
    t->configured = node != NULL;
    apply_table(ctx, redis_tls_specs, N(redis_tls_specs), node, node, t, path, MODE_FILL, 0);
    if (!node || ctx->errs->count != before)
        return;
    if ((t->cert_file != NULL) != (t->key_file != NULL)) {
        join_path(kpath, sizeof kpath, path, t->cert_file ? "cert_file" : "key_file");
        cw_cfg_err(ctx, cw_ymap_get(node, t->cert_file ? "cert_file" : "key_file"), kpath,
                   "cert_file and key_file go together (the client certificate and its key)");
    }
}

static const struct key_spec redis_specs[] = {
    {.name = "url",
     .type = K_STR,
     .def = "redis://127.0.0.1:6379/0",
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_config, url),
     .desc = "server URL"},
    {.name = "password_file",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_redis_config, password_file),
     .desc = "file with the password"},
    {.name = "key_prefix",
     .type = K_STR,
     .def = "cw:",
     .flags = KF_NONEMPTY,
     .max = 64,
     .offset = offsetof(struct cw_redis_config, key_prefix),
     .desc = "prefix of every key"},
    {.name = "cache_mb",
     .type = K_SIZE,
     .def = "256",
     .max = 1048576,
     .offset = offsetof(struct cw_redis_config, cache_mb),
     .desc = "MiB of accounts the daemon holds in memory (0: none)"},
    {.name = "lanes",
     .type = K_UINT,
     .def = "2",
     .min = 1,
     .max = CW_REDIS_LANES_MAX,
     .offset = offsetof(struct cw_redis_config, lanes),
     .desc = "threads a batch's accounts are split over, each with its own connection"},
    {.name = "tls", .type = K_CUSTOM, .fn = redis_tls, .desc = "TLS of rediss:// URLs"},
};

static void section_redis(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_redis_config *r = &((struct cw_config *)base)->redis;
    char why[160], kpath[512];
    unsigned before = ctx->errs->count;
    apply_table(ctx, redis_specs, N(redis_specs), node, node, r, path, MODE_FILL, 0);
    if (ctx->errs->count != before)
        return;
    if (cw_cfgv_redis_url(r->url, why, sizeof why) < 0) {
        join_path(kpath, sizeof kpath, path, "url");
        cw_cfg_err(ctx, cw_ymap_get(node, "url"), kpath, "%s", why);
    }
    if (r->tls.configured && !cw_cfgv_redis_url_tls(r->url)) {
        join_path(kpath, sizeof kpath, path, "tls");
        cw_cfg_err(ctx, cw_ymap_get(node, "tls"), kpath,
                   "applies to rediss:// and rediss-cluster:// URLs only; redis.url is plain");
    }
    if (strpbrk(r->key_prefix, "{} \t\r\n")) {
        join_path(kpath, sizeof kpath, path, "key_prefix");
        cw_cfg_err(ctx, cw_ymap_get(node, "key_prefix"), kpath,
                   "must not contain braces or white space (braces mark Redis Cluster hash "
                   "tags)");
    }
}

static const struct key_spec http_specs[] = {
    {.name = "listen",
     .type = K_STR,
     .def = "127.0.0.1:9464",
     .offset = offsetof(struct cw_config, http_listen),
     .desc = "host:port of /metrics, /healthz, /readyz; \"\" disables them"},
};

static void section_http(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_config *cfg = base;
    char why[160], kpath[512];
    unsigned before = ctx->errs->count;
    apply_table(ctx, http_specs, N(http_specs), node, node, cfg, path, MODE_FILL, 0);
    if (ctx->errs->count == before && cw_cfgv_listen(cfg->http_listen, why, sizeof why) < 0) {
        join_path(kpath, sizeof kpath, path, "listen");
        cw_cfg_err(ctx, cw_ymap_get(node, "listen"), kpath, "%s", why);
    }
}

static const struct key_spec scores_specs[] = {
    {.name = "topic",
     .type = K_STR,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct cw_scores_config, topic),
     .desc = "score feed topic; absent: no feed"},
    {.name = "step",
     .type = K_DOUBLE,
     .def = "5",
     .flags = KF_GT_MIN,
     .min = 0,
     .max = 100,
     .offset = offsetof(struct cw_scores_config, step),
     .desc = "points a score moves before it is published again"},
};

/* scores: the score feed's topic is an output, like kafka.alerts_topic: a legal name, and
 * neither an input topic nor another output. */
static void section_scores(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    struct cw_config *cfg = base;
    struct cw_scores_config *sc = &cfg->scores;
    char why[160], kpath[512];
    unsigned before = ctx->errs->count;
    apply_table(ctx, scores_specs, N(scores_specs), node, node, sc, path, MODE_FILL, 0);
    if (ctx->errs->count != before || !sc->topic)
        return;
    const struct cw_ynode *tn = cw_ymap_get(node, "topic");
    join_path(kpath, sizeof kpath, path, "topic");
    if (cw_cfgv_topic(sc->topic, why, sizeof why) < 0) {
        cw_cfg_err(ctx, tn, kpath, "%s", why);
        return;
    }
    const struct cw_kafka_config *k = &cfg->kafka;
    for (size_t i = 0; i < k->topics.n; i++)
        if (k->topics.items[i] && strcmp(sc->topic, k->topics.items[i]) == 0)
            cw_cfg_err(ctx, tn, kpath, "'%s' is also an input topic", sc->topic);
    if (k->alerts_topic && strcmp(sc->topic, k->alerts_topic) == 0)
        cw_cfg_err(ctx, tn, kpath, "must differ from kafka.alerts_topic");
    if (k->dlq_topic && strcmp(sc->topic, k->dlq_topic) == 0)
        cw_cfg_err(ctx, tn, kpath, "must differ from kafka.dlq_topic");
}

static const struct key_spec log_specs[] = {
    {.name = "level",
     .type = K_ENUM,
     .def = "info",
     .names = &cw_log_level_names,
     .offset = offsetof(struct cw_config, log_level),
     .desc = "least severe level logged"},
    {.name = "format",
     .type = K_ENUM,
     .def = "logfmt",
     .names = &cw_log_format_names,
     .offset = offsetof(struct cw_config, log_format),
     .desc = "line format"},
};

static const struct key_spec hierarchy_specs[] = {
    {.name = "rollup",
     .type = K_ENUM,
     .def = "seat_weighted_mean",
     .names = &cw_rollup_names,
     .offset = offsetof(struct cw_config, hierarchy.rollup),
     .desc = "how a parent's score is rolled up from its children's"},
    {.name = "max_depth",
     .type = K_UINT,
     .def = "4",
     .min = 1,
     .max = CW_HIERARCHY_DEPTH_LIMIT,
     .offset = offsetof(struct cw_config, hierarchy.max_depth),
     .desc = "most levels of parents above an account"},
};

/* ---- users: per-user engagement (docs/users.md) ---- */

static const char *const default_rank_names[] = {"SS", "S", "A", "B", "C"};
static const uint32_t default_rank_mins[] = {200, 100, 40, 10, 1};

static const struct key_spec rank_specs[] = {
    {.name = "name",
     .type = K_STR,
     .flags = KF_REQUIRED | KF_IDENT,
     .offset = offsetof(struct cw_rank_band, name),
     .desc = "the rank's name, e.g. SS"},
    {.name = "min",
     .type = K_U32,
     .flags = KF_REQUIRED,
     .min = 1,
     .max = 1e9,
     .offset = offsetof(struct cw_rank_band, min),
     .desc = "the least points in the window for the rank"},
};

static void users_weights(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_config *cfg = base;
    struct cw_users_config *uc = &cfg->users;
    char kpath[512];
    if (!node || !check_map(ctx, node, path))
        return;
    static const struct key_spec weight = {.type = K_U32, .min = 1, .max = 1e6};
    size_t n = 0;
    for (size_t i = 0; i < node->n; i++) {
        if (is_dup(node, i))
            continue;
        const char *name = node->keys[i]->text;
        join_path(kpath, sizeof kpath, path, name);
        int t = cw_config_event_type_index(cfg, name);
        if (t < 0 || strcmp(cfg->event_types[t].name, name) != 0) {
            cw_cfg_err(ctx, node->keys[i], kpath,
                       "'%s' is not an event type of event_types (by its own name, not an alias)",
                       name);
            continue;
        }
        if (cfg->event_types[t].traits && cfg->event_types[t].metric < 0) {
            cw_cfg_err(ctx, node->keys[i], kpath,
                       "'%s' is a traits event type: it is no user's activity", name);
            continue;
        }
        unsigned long long u;
        if (parse_unsigned(ctx, node->items[i], kpath, &weight, &u) == 0) {
            uc->weight[t] = (uint32_t)u;
            n++;
        }
    }
    if (n == 0 && node->n == 0)
        cw_cfg_err(ctx, node, path, "lists no event type: give at least one its points");
}

/* The default ranks: SS 200, S 100, A 40, B 10, C 1; power users from A. */
static void users_default_ranks(struct cw_cfg_ctx *ctx, struct cw_users_config *uc)
{
    for (size_t r = 0; r < N(default_rank_names); r++) {
        uc->ranks[r].name = xstrdup(ctx, default_rank_names[r]);
        uc->ranks[r].min = default_rank_mins[r];
    }
    uc->n_ranks = N(default_rank_names);
    uc->power_rank = 2; /* A */
}

static void users_ranks(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                        const char *path)
{
    struct cw_users_config *uc = &((struct cw_config *)base)->users;
    char kpath[512];
    if (!node) {
        users_default_ranks(ctx, uc);
        return;
    }
    if (node->kind != CW_YSEQ || node->n == 0 || node->n > CW_MAX_RANKS) {
        cw_cfg_err(ctx, node, path,
                   "expected a sequence of 1 to %d ranks ({name, min}), highest first",
                   CW_MAX_RANKS);
        return;
    }
    for (size_t i = 0; i < node->n; i++) {
        index_path(kpath, sizeof kpath, path, i);
        struct cw_rank_band *b = &uc->ranks[uc->n_ranks++];
        unsigned before = ctx->errs->count;
        apply_table(ctx, rank_specs, N(rank_specs), node->items[i], node->items[i], b, kpath,
                    MODE_FILL, 0);
        if (ctx->errs->count != before || !b->name)
            continue;
        if (strlen(b->name) >= CW_RANK_NAME_MAX)
            cw_cfg_err(ctx, node->items[i], kpath, "name '%s' is longer than %d bytes", b->name,
                       CW_RANK_NAME_MAX - 1);
        for (size_t j = 0; j < i; j++)
            if (uc->ranks[j].name && strcmp(uc->ranks[j].name, b->name) == 0)
                cw_cfg_err(ctx, node->items[i], kpath, "rank '%s' is named twice", b->name);
        if (i > 0 && uc->ranks[i - 1].min <= b->min)
            cw_cfg_err(ctx, node->items[i], kpath,
                       "min %lu must be below the rank above's (%lu): ranks go highest first",
                       (unsigned long)b->min, (unsigned long)uc->ranks[i - 1].min);
    }
}

/* window: whole days, 1d..366d (default 30d). */
static void users_window(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_users_config *uc = &((struct cw_config *)base)->users;
    static const struct key_spec win = {.type = K_DURATION, .min = DAY_MS, .max = MAX_DUR};
    int64_t ms = 0;
    uc->window_days = 30;
    if (!node || parse_duration(ctx, node, path, &ms) != 0)
        return;
    if (!in_range(&win, (double)ms) || ms % CW_MS_PER_DAY != 0)
        cw_cfg_err(ctx, node, path, "%s is not a whole number of days from 1d to %dd", node->text,
                   CW_MAX_WINDOW_DAYS);
    else
        uc->window_days = (uint32_t)(ms / CW_MS_PER_DAY);
}

/* power_rank: a name of the ranks (read after them); absent: A, judged by section_users. */
static void users_power_rank_set(struct cw_cfg_ctx *ctx, const struct cw_ynode *at,
                                 const char *path, const char *name)
{
    struct cw_users_config *uc = &ctx->cfg->users;
    for (size_t r = 0; r < uc->n_ranks; r++)
        if (uc->ranks[r].name && strcmp(uc->ranks[r].name, name) == 0) {
            uc->power_rank = r;
            return;
        }
    cw_cfg_err(ctx, at, path, "'%s' is not one of users.ranks", name);
    uc->power_rank = 0;
}

static void users_power_rank(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    (void)base;
    const char *t;
    if (node && (t = scalar(ctx, node, path, "a rank name")))
        users_power_rank_set(ctx, node, path, t);
}

static const struct key_spec users_specs[] = {
    {.name = "window", .type = K_CUSTOM, .fn = users_window, .desc = "the window of points"},
    {.name = "weights",
     .type = K_CUSTOM,
     .flags = KF_REQUIRED,
     .fn = users_weights,
     .desc = "points per event type"},
    {.name = "ranks", .type = K_CUSTOM, .fn = users_ranks, .desc = "the ranks, highest first"},
    {.name = "power_rank",
     .type = K_CUSTOM,
     .fn = users_power_rank,
     .desc = "power users are ranked here or higher"},
    {.name = "max_tracked",
     .type = K_U32,
     .def = "200",
     .min = 1,
     .max = 10000,
     .offset = offsetof(struct cw_config, users.max_tracked),
     .desc = "users kept per account"},
};

static void section_users(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_config *cfg = base;
    struct cw_users_config *uc = &cfg->users;
    if (!node) { /* off; the default ranks are read all the same */
        uc->window_days = 30;
        uc->max_tracked = 200;
        users_default_ranks(ctx, uc);
        return;
    }
    uc->enabled = true;
    uint64_t found =
        apply_table(ctx, users_specs, N(users_specs), node, node, cfg, path, MODE_FILL, 0);
    if (node->kind == CW_YMAP &&
        !(found & spec_bit(users_specs, N(users_specs), "power_rank", 0))) {
        char kpath[512];
        join_path(kpath, sizeof kpath, path, "power_rank");
        users_power_rank_set(ctx, node, kpath, "A");
    }
}

static void section_hierarchy(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                              const char *path)
{
    apply_table(ctx, hierarchy_specs, N(hierarchy_specs), node, node, base, path, MODE_FILL, 0);
}

static void section_log(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                        const char *path)
{
    apply_table(ctx, log_specs, N(log_specs), node, node, base, path, MODE_FILL, 0);
}

static void key_timezone(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_config *cfg = base;
    char why[160];
    const char *t = node ? scalar(ctx, node, path, "an IANA time zone name") : "UTC";
    if (!t)
        return;
    if (cw_cfgv_timezone(t, why, sizeof why) < 0) {
        cw_cfg_err(ctx, node, path, "%s", why);
        return;
    }
    cfg->timezone = xstrdup(ctx, t);
}

/* ---- windows ---- */

static int add_window(struct cw_cfg_ctx *ctx, const char *name, uint32_t days)
{
    struct cw_config *cfg = ctx->cfg;
    struct cw_window *w = &cfg->windows[cfg->n_windows];
    if (!(w->name = xstrdup(ctx, name)))
        return -1;
    w->days = days;
    cfg->n_windows++;
    if (days > cfg->longest_window_days)
        cfg->longest_window_days = days;
    return 0;
}

static void section_windows(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                            const char *path)
{
    struct cw_config *cfg = base;
    char kpath[512], why[160];
    if (!node) {
        if ((cfg->windows = xcalloc(ctx, 2, sizeof *cfg->windows)))
            if (add_window(ctx, "short", 7) == 0)
                add_window(ctx, "long", 28);
        return;
    }
    if (!check_map(ctx, node, path))
        return;
    size_t count = map_count(node);
    if (count == 0 || count > CW_MAX_WINDOWS) {
        cw_cfg_err(ctx, node, path, "must define between 1 and %d windows (found %zu)",
                   CW_MAX_WINDOWS, count);
        return;
    }
    if (!(cfg->windows = xcalloc(ctx, count, sizeof *cfg->windows)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->text;
        int64_t ms;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, name);
        if (cw_cfgv_ident(name, why, sizeof why) < 0) {
            cw_cfg_err(ctx, node->keys[i], kpath, "%s", why);
            continue;
        }
        if (parse_duration(ctx, node->items[i], kpath, &ms) < 0)
            continue;
        if (ms % CW_MS_PER_DAY != 0 || ms == 0) {
            cw_cfg_err(ctx, node->items[i], kpath,
                       "a window is a whole number of days (1d..%dd), got %s", CW_MAX_WINDOW_DAYS,
                       node->items[i]->text);
            continue;
        }
        if (ms / CW_MS_PER_DAY > CW_MAX_WINDOW_DAYS) {
            cw_cfg_err(ctx, node->items[i], kpath, "%s is longer than the limit of %dd",
                       node->items[i]->text, CW_MAX_WINDOW_DAYS);
            continue;
        }
        add_window(ctx, name, (uint32_t)(ms / CW_MS_PER_DAY));
    }
}

/* ---- input ---- */

static struct cw_strlist *input_field(struct cw_input_config *in, enum cw_field f)
{
    switch (f) {
    case CW_FIELD_ACCOUNT_ID:
        return &in->account_id;
    case CW_FIELD_USER_ID:
        return &in->user_id;
    case CW_FIELD_TYPE:
        return &in->type;
    case CW_FIELD_TS:
        return &in->ts;
    case CW_FIELD_EVENT_ID:
        return &in->event_id;
    case CW_FIELD_TRAITS:
        return &in->traits;
    default:
        return NULL;
    }
}

/* An explicit pointer list for field f. */
static void input_pointers(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                           enum cw_field f, struct cw_strlist *l)
{
    char ipath[512], why[160];
    if (node->kind != CW_YSEQ) {
        cw_cfg_err(ctx, node, path, "expected a sequence of JSON pointers, got %s",
                   kind_desc(node));
        return;
    }
    if (node->n == 0 && (f == CW_FIELD_ACCOUNT_ID || f == CW_FIELD_TYPE)) {
        cw_cfg_err(ctx, node, path, "needs at least one JSON pointer");
        return;
    }
    if (node->n > MAX_POINTERS) {
        cw_cfg_err(ctx, node, path, "at most %d JSON pointers", MAX_POINTERS);
        return;
    }
    if (!(l->items = xcalloc(ctx, node->n, sizeof *l->items)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *t;
        index_path(ipath, sizeof ipath, path, i);
        if (!(t = scalar(ctx, node->items[i], ipath, "a JSON pointer")))
            continue;
        if (cw_cfgv_json_pointer(t, why, sizeof why) < 0) {
            cw_cfg_err(ctx, node->items[i], ipath, "%s", why);
            continue;
        }
        if ((l->items[l->n] = xstrdup(ctx, t)))
            l->n++;
    }
}

static void input_fields(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_input_config *in = base;
    const struct cw_ynode *explicit_[CW_FIELD__COUNT] = {0};
    char kpath[512];

    if (node && check_map(ctx, node, path)) {
        for (size_t i = 0; i < node->n; i++) {
            int f;
            if (is_dup(node, i))
                continue;
            for (f = 0; f < CW_FIELD__COUNT; f++)
                if (strcmp(cw_field_name((enum cw_field)f), node->keys[i]->text) == 0)
                    break;
            if (f == CW_FIELD__COUNT) {
                cw_cfg_err(ctx, node->keys[i], NULL,
                           "unknown key '%s' in %s; valid keys: account_id, user_id, type, ts, "
                           "event_id, traits",
                           node->keys[i]->text, path);
                continue;
            }
            explicit_[f] = node->items[i];
        }
    }
    for (int f = 0; f < CW_FIELD__COUNT; f++) {
        struct cw_strlist *l = input_field(in, (enum cw_field)f);
        if (explicit_[f]) {
            join_path(kpath, sizeof kpath, path, cw_field_name((enum cw_field)f));
            input_pointers(ctx, explicit_[f], kpath, (enum cw_field)f, l);
            continue;
        }
        const char *const *ptrs;
        size_t n = cw_preset_pointers(in->preset, (enum cw_field)f, &ptrs);
        if (!(l->items = xcalloc(ctx, n, sizeof *l->items)))
            return;
        for (size_t i = 0; i < n; i++)
            if ((l->items[l->n] = xstrdup(ctx, ptrs[i])))
                l->n++;
    }
}

static const struct key_spec input_specs[] = {
    {.name = "preset",
     .type = K_ENUM,
     .def = "native",
     .names = &cw_preset_names,
     .offset = offsetof(struct cw_input_config, preset),
     .desc = "producer format"},
    {.name = "fields",
     .type = K_CUSTOM,
     .fn = input_fields,
     .desc = "JSON pointer lists overriding the preset"},
    {.name = "unknown_types",
     .type = K_ENUM,
     .def = "ignore",
     .names = &cw_unknown_type_names,
     .offset = offsetof(struct cw_input_config, unknown_types),
     .desc = "ignore or dlq"},
    {.name = "max_message_bytes",
     .type = K_SIZE,
     .def = "65536",
     .min = 256,
     .max = 16777216,
     .offset = offsetof(struct cw_input_config, max_message_bytes),
     .desc = "message size cap"},
    {.name = "max_id_length",
     .type = K_SIZE,
     .def = "128",
     .min = 1,
     .max = CW_ID_MAX,
     .offset = offsetof(struct cw_input_config, max_id_length),
     .desc = "longest id in bytes"},
    {.name = "max_depth",
     .type = K_UINT,
     .def = "32",
     .min = 2,
     .max = 512,
     .offset = offsetof(struct cw_input_config, max_depth),
     .desc = "JSON nesting cap"},
};

static void section_input(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_config *cfg = base;
    apply_table(ctx, input_specs, N(input_specs), node, node, &cfg->input, path, MODE_FILL, 0);
}

/* ---- event types and metrics ---- */

static void event_type_metric(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                              const char *path)
{
    struct cw_event_type *et = base;
    struct cw_config *cfg = ctx->cfg;
    char why[160];
    const char *t;
    if (!node || !(t = scalar(ctx, node, path, "a metric name")))
        return;
    if (cw_cfgv_ident(t, why, sizeof why) < 0) {
        cw_cfg_err(ctx, node, path, "%s", why);
        return;
    }
    int m = cw_config_metric_index(cfg, t);
    if (m >= 0 && cfg->metrics[m].builtin) {
        cw_cfg_err(ctx, node, path, "'%s' is a built-in metric; choose another name", t);
        return;
    }
    if (m < 0) {
        if (cfg->n_metrics == CW_MAX_METRICS) {
            cw_cfg_err(ctx, node, path, "too many metrics (at most %d, active_users included)",
                       CW_MAX_METRICS);
            return;
        }
        if (!(cfg->metrics[cfg->n_metrics].name = xstrdup(ctx, t)))
            return;
        m = (int)cfg->n_metrics++;
    }
    et->metric = m;
}

/* value: one JSON pointer, or a list of them (the first that resolves wins). */
static void event_type_value(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    struct cw_event_type *et = base;
    char ipath[512], why[160];
    if (!node)
        return;
    const struct cw_ynode *const *items = &node;
    size_t n = 1;
    if (node->kind == CW_YSEQ) {
        items = (const struct cw_ynode *const *)node->items;
        n = node->n;
        if (n == 0 || n > CW_MAX_VALUE_POINTERS) {
            cw_cfg_err(ctx, node, path, "expected 1 to %d JSON pointers, got %zu",
                       CW_MAX_VALUE_POINTERS, n);
            return;
        }
    } else if (node->kind != CW_YSCALAR) {
        cw_cfg_err(ctx, node, path, "expected a JSON pointer or a sequence of them, got %s",
                   kind_desc(node));
        return;
    }
    if (!(et->value.items = xcalloc(ctx, n, sizeof *et->value.items)))
        return;
    for (size_t i = 0; i < n; i++) {
        const char *t;
        if (node->kind == CW_YSEQ)
            index_path(ipath, sizeof ipath, path, i);
        else
            snprintf(ipath, sizeof ipath, "%s", path);
        if (!(t = scalar(ctx, items[i], ipath, "a JSON pointer")))
            continue;
        if (cw_cfgv_json_pointer(t, why, sizeof why) < 0 || *t == '\0') {
            cw_cfg_err(ctx, items[i], ipath, "%s", *t ? why : "a value pointer names a member");
            continue;
        }
        if ((et->value.items[et->value.n] = xstrdup(ctx, t)))
            et->value.n++;
    }
}

static const struct key_spec event_type_specs[] = {
    {.name = "metric",
     .type = K_CUSTOM,
     .fn = event_type_metric,
     .desc = "daily counter this event feeds"},
    {.name = "traits",
     .type = K_BOOL,
     .def = "false",
     .offset = offsetof(struct cw_event_type, traits),
     .desc = "carries account traits"},
    {.name = "aliases",
     .type = K_STRLIST,
     .max = 32,
     .offset = offsetof(struct cw_event_type, aliases),
     .desc = "other names of the type"},
    {.name = "value",
     .type = K_CUSTOM,
     .fn = event_type_value,
     .desc = "JSON pointers of the event's numeric value"},
};

/* The earlier event type that already uses name (as its name or an alias), or NULL. */
static const char *event_name_taken(const struct cw_config *cfg, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++) {
        const struct cw_event_type *t = &cfg->event_types[i];
        if (t->name && strcmp(t->name, name) == 0)
            return t->name;
        for (size_t a = 0; a < t->aliases.n; a++)
            if (strcmp(t->aliases.items[a], name) == 0)
                return t->name;
    }
    return NULL;
}

static int check_event_name(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                            const char *name)
{
    if (*name == '\0' || strlen(name) > CW_ID_MAX) {
        cw_cfg_err(ctx, node, path, "an event type name has 1 to %d bytes", CW_ID_MAX);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            cw_cfg_err(ctx, node, path, "an event type name has no control characters");
            return -1;
        }
    }
    return 0;
}

/* The metrics fed by valued event types are valued; each must be fed by valued types only
 * (a count of valueless events beside values would make avg and the count disagree). */
static void event_type_values(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path)
{
    struct cw_config *cfg = ctx->cfg;
    char kpath[512];
    size_t valued = 0;
    for (size_t i = 0; i < cfg->n_event_types; i++) {
        const struct cw_event_type *et = &cfg->event_types[i];
        if (et->value.n > 0 && et->metric >= 0) {
            cfg->metrics[et->metric].valued = true;
            valued++;
        }
    }
    for (size_t i = 0; i < cfg->n_event_types; i++) {
        const struct cw_event_type *et = &cfg->event_types[i];
        if (et->metric < 0 || !et->name)
            continue;
        const struct cw_ynode *val = cw_ymap_get(node, et->name);
        join_path(kpath, sizeof kpath, path, et->name);
        if (et->value.n > 0 && valued > CW_MAX_VALUED_TYPES) {
            cw_cfg_err(ctx, val, kpath, "too many event types with a value (at most %d)",
                       CW_MAX_VALUED_TYPES);
            valued = 0; /* said once */
        }
        if (et->value.n == 0 && cfg->metrics[et->metric].valued) {
            const struct cw_event_type *other = NULL;
            for (size_t j = 0; j < cfg->n_event_types && !other; j++)
                if (cfg->event_types[j].metric == et->metric && cfg->event_types[j].value.n)
                    other = &cfg->event_types[j];
            cw_cfg_err(ctx, val, kpath,
                       "metric '%s' has values (event type '%s'): every event type feeding it "
                       "needs a value",
                       cfg->metrics[et->metric].name, other ? other->name : "?");
        }
    }
}

static void section_event_types(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                                const char *path)
{
    struct cw_config *cfg = base;
    char kpath[512], apath[600];
    if (!node || !check_map(ctx, node, path))
        return;
    size_t count = map_count(node);
    if (count > CW_MAX_EVENT_TYPES) {
        cw_cfg_err(ctx, node, path, "too many event types (%zu; at most %d)", count,
                   CW_MAX_EVENT_TYPES);
        return;
    }
    if (!(cfg->event_types = xcalloc(ctx, count, sizeof *cfg->event_types)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->text;
        const struct cw_ynode *val = node->items[i];
        const char *owner;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, name);
        if (check_event_name(ctx, node->keys[i], kpath, name) < 0)
            continue;
        if ((owner = event_name_taken(cfg, cfg->n_event_types, name))) {
            cw_cfg_err(ctx, node->keys[i], kpath, "'%s' is already an alias of event type '%s'",
                       name, owner);
            continue;
        }
        struct cw_event_type *et = &cfg->event_types[cfg->n_event_types++];
        et->metric = -1;
        if (!(et->name = xstrdup(ctx, name)))
            continue;
        unsigned before = ctx->errs->count;
        apply_table(ctx, event_type_specs, N(event_type_specs), val, val, et, kpath, MODE_FILL, 0);
        if (ctx->errs->count != before)
            continue;
        if (et->traits && et->metric >= 0)
            cw_cfg_err(ctx, val, kpath, "a traits event type (traits: true) has no metric");
        else if (!et->traits && et->metric < 0)
            cw_cfg_err(ctx, val, kpath, "needs a metric, or traits: true for a traits event");
        if (et->value.n > 0 && et->metric < 0)
            cw_cfg_err(ctx, cw_ymap_get(val, "value"), kpath,
                       "a value is kept per metric: a traits event type has none");
        const struct cw_ynode *an = cw_ymap_get(val, "aliases");
        for (size_t a = 0; a < et->aliases.n; a++) {
            const char *alias = et->aliases.items[a];
            snprintf(apath, sizeof apath, "%s.aliases[%zu]", kpath, a);
            if (check_event_name(ctx, an->items[a], apath, alias) < 0)
                continue;
            if (strcmp(alias, name) == 0)
                cw_cfg_err(ctx, an->items[a], apath, "repeats the event type's own name");
            else if ((owner = event_name_taken(cfg, cfg->n_event_types - 1, alias)))
                cw_cfg_err(ctx, an->items[a], apath, "'%s' is already used by event type '%s'",
                           alias, owner);
            else
                for (size_t j = i + 1; j < node->n; j++)
                    if (strcmp(node->keys[j]->text, alias) == 0)
                        cw_cfg_err(ctx, an->items[a], apath,
                                   "'%s' is also the name of an event type (line %u)", alias,
                                   node->keys[j]->line);
        }
    }
    event_type_values(ctx, node, path);
}

/* ---- score ---- */

static const struct key_spec measure_specs[] = {
    {.name = "name",
     .type = K_STR,
     .flags = KF_REQUIRED | KF_IDENT,
     .offset = offsetof(struct cw_measure, name),
     .desc = "unique measure name"},
    {.name = "metric",
     .type = K_METRIC,
     .flags = KF_REQUIRED,
     .offset = offsetof(struct cw_measure, metric),
     .desc = "metric read, e.g. active_users"},
    {.name = "window",
     .type = K_WINDOW,
     .flags = KF_REQUIRED,
     .offset = offsetof(struct cw_measure, window),
     .desc = "window name, e.g. short"},
    {.name = "per_seat",
     .type = K_BOOL,
     .def = "false",
     .offset = offsetof(struct cw_measure, per_seat),
     .desc = "divide by the seats trait"},
    {.name = "target",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_GT_MIN,
     .min = 0,
     .max = 1e12,
     .offset = offsetof(struct cw_measure, target),
     .desc = "raw value that scores 1.0"},
    {.name = "weight",
     .type = K_DOUBLE,
     .def = "1",
     .flags = KF_GT_MIN,
     .min = 0,
     .max = 1e6,
     .offset = offsetof(struct cw_measure, weight),
     .desc = "weight within the component"},
    {.name = "aggregate",
     .type = K_ENUM,
     .def = "count",
     .names = &cw_aggregate_names,
     .offset = offsetof(struct cw_measure, aggregate),
     .desc = "count, or sum, avg, min, max, last, nps of a valued metric"},
};

/* The measure named name among those loaded so far, or NULL. */
static const struct cw_measure *measure_taken(const struct cw_config *cfg,
                                              const struct cw_component *cur, size_t upto,
                                              const char *name)
{
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        const struct cw_component *comp = &cfg->score.components[c];
        size_t n = comp == cur ? upto : comp->n_measures;
        for (size_t m = 0; m < n; m++)
            if (comp->measures[m].name && strcmp(comp->measures[m].name, name) == 0)
                return &comp->measures[m];
    }
    return NULL;
}

static void component_measures(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                               const char *path)
{
    struct cw_component *comp = base;
    char ipath[512];
    if (!node)
        return;
    if (node->kind != CW_YSEQ || node->n == 0) {
        cw_cfg_err(ctx, node, path, "expected a non-empty sequence of measures, got %s",
                   node->kind == CW_YSEQ ? "an empty one" : kind_desc(node));
        return;
    }
    if (ctx->n_measures + node->n > CW_MAX_MEASURES) {
        cw_cfg_err(ctx, node, path, "too many measures (at most %d across all components)",
                   CW_MAX_MEASURES);
        return;
    }
    ctx->n_measures += node->n;
    if (!(comp->measures = xcalloc(ctx, node->n, sizeof *comp->measures)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const struct cw_ynode *item = node->items[i];
        struct cw_measure *m = &comp->measures[comp->n_measures++];
        index_path(ipath, sizeof ipath, path, i);
        m->metric = m->window = -1;
        apply_table(ctx, measure_specs, N(measure_specs), item, item, m, ipath, MODE_FILL, 0);
        if (m->aggregate != CW_AGG_COUNT && m->metric >= 0 &&
            !ctx->cfg->metrics[m->metric].valued) {
            char apath[600];
            snprintf(apath, sizeof apath, "%s.aggregate", ipath);
            cw_cfg_err(ctx, cw_ymap_get(item, "aggregate"), apath,
                       "aggregate %s needs a metric with values (an event type's value: "
                       "feeds it); '%s' only counts events",
                       cw_enum_name(&cw_aggregate_names, m->aggregate),
                       ctx->cfg->metrics[m->metric].name);
        }
        if (cw_config_metric_counts_users(ctx->cfg, m->metric) && !ctx->cfg->users.enabled) {
            char mpath[600];
            snprintf(mpath, sizeof mpath, "%s.metric", ipath);
            cw_cfg_err(ctx, cw_ymap_get(item, "metric"), mpath,
                       "'%s' counts users by their engagement rank: it needs a users section "
                       "(docs/users.md)",
                       ctx->cfg->metrics[m->metric].name);
        }
        if (m->name && measure_taken(ctx->cfg, comp, comp->n_measures - 1, m->name))
            cw_cfg_err(ctx, cw_ymap_get(item, "name"), ipath, "duplicate measure name '%s'",
                       m->name);
    }
}

static const struct key_spec component_specs[] = {
    {.name = "weight",
     .type = K_DOUBLE,
     .def = "1",
     .flags = KF_GT_MIN,
     .min = 0,
     .max = 1e6,
     .offset = offsetof(struct cw_component, weight),
     .desc = "weight in the score"},
    {.name = "measures",
     .type = K_CUSTOM,
     .flags = KF_REQUIRED,
     .fn = component_measures,
     .desc = "list of measures"},
};

static void score_components(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    struct cw_score_config *sc = base;
    char kpath[512], why[160];
    if (!node || !check_map(ctx, node, path))
        return;
    size_t count = map_count(node);
    if (count == 0 || count > CW_MAX_COMPONENTS) {
        cw_cfg_err(ctx, node, path, "must define between 1 and %d components (found %zu)",
                   CW_MAX_COMPONENTS, count);
        return;
    }
    if (!(sc->components = xcalloc(ctx, count, sizeof *sc->components)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (is_dup(node, i))
            continue;
        const char *name = node->keys[i]->text;
        join_path(kpath, sizeof kpath, path, name);
        if (cw_cfgv_ident(name, why, sizeof why) < 0) {
            cw_cfg_err(ctx, node->keys[i], kpath, "%s", why);
            continue;
        }
        struct cw_component *comp = &sc->components[sc->n_components++];
        if (!(comp->name = xstrdup(ctx, name)))
            continue;
        apply_table(ctx, component_specs, N(component_specs), node->items[i], node->items[i], comp,
                    kpath, MODE_FILL, 0);
    }
}

static void score_grades(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    static const struct cw_grade defaults[] = {{"A", 80}, {"B", 60}, {"C", 40}, {"D", 0}};
    static const struct key_spec min_spec = {.name = "min",
                                             .type = K_DOUBLE,
                                             .min = 0,
                                             .max = 100,
                                             .offset = offsetof(struct cw_grade, min_score)};
    struct cw_score_config *sc = base;
    const struct cw_ynode *nodes[CW_MAX_GRADES] = {0};
    char kpath[512];

    if (!node) {
        if ((sc->grades = xcalloc(ctx, N(defaults), sizeof *sc->grades))) {
            memcpy(sc->grades, defaults, sizeof defaults);
            sc->n_grades = N(defaults);
        }
        return;
    }
    if (!check_map(ctx, node, path))
        return;
    size_t count = map_count(node);
    if (count == 0 || count > CW_MAX_GRADES) {
        cw_cfg_err(ctx, node, path, "must define between 1 and %d grades (found %zu)",
                   CW_MAX_GRADES, count);
        return;
    }
    if (!(sc->grades = xcalloc(ctx, count, sizeof *sc->grades)))
        return;
    unsigned before = ctx->errs->count;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->text;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, name);
        if (*name == '\0' || strlen(name) >= sizeof sc->grades[0].name) {
            cw_cfg_err(ctx, node->keys[i], kpath, "a grade name has 1 to %zu bytes",
                       sizeof sc->grades[0].name - 1);
            continue;
        }
        struct cw_grade *g = &sc->grades[sc->n_grades];
        memcpy(g->name, name, strlen(name) + 1);
        nodes[sc->n_grades++] = node->items[i];
        convert(ctx, &min_spec, node->items[i], g, kpath);
    }
    if (ctx->errs->count == before)
        cw_cfgv_grades(ctx, nodes, path);
}

/* ---- score: stages and profiles ---- */

#define MAX_STAGE_SPAN (3660.0 * DAY_MS) /* created_within, renewal_within: ten years */

static const struct key_spec stage_specs[] = {
    {.name = "name",
     .type = K_STR,
     .flags = KF_REQUIRED | KF_IDENT,
     .offset = offsetof(struct cw_stage, name),
     .desc = "unique stage name"},
    {.name = "created_within",
     .type = K_DURATION,
     .flags = KF_GT_MIN,
     .min = 0,
     .max = MAX_STAGE_SPAN,
     .offset = offsetof(struct cw_stage, created_within_ms),
     .desc = "created_at at most this long ago"},
    {.name = "renewal_within",
     .type = K_DURATION,
     .flags = KF_GT_MIN,
     .min = 0,
     .max = MAX_STAGE_SPAN,
     .offset = offsetof(struct cw_stage, renewal_within_ms),
     .desc = "renewal_at at most this far ahead"},
};

static void score_stages(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_score_config *sc = base;
    char ipath[512];
    if (!node)
        return;
    if (node->kind != CW_YSEQ || node->n > CW_MAX_STAGES) {
        cw_cfg_err(ctx, node, path, "expected a sequence of at most %d stages, got %s",
                   CW_MAX_STAGES, node->kind == CW_YSEQ ? "more" : kind_desc(node));
        return;
    }
    if (node->n == 0 || !(sc->stages = xcalloc(ctx, node->n, sizeof *sc->stages)))
        return;
    const struct cw_ynode *catch_all = NULL;
    for (size_t i = 0; i < node->n; i++) {
        const struct cw_ynode *item = node->items[i];
        struct cw_stage *st = &sc->stages[sc->n_stages++];
        index_path(ipath, sizeof ipath, path, i);
        apply_table(ctx, stage_specs, N(stage_specs), item, item, st, ipath, MODE_FILL, 0);
        if (catch_all) {
            cw_cfg_err(ctx, item, ipath,
                       "stage never reached: an earlier stage has no condition and holds for "
                       "every account");
            catch_all = NULL; /* reported once */
            continue;
        }
        if (!cw_ymap_get(item, "created_within") && !cw_ymap_get(item, "renewal_within"))
            catch_all = item;
        for (size_t k = 0; st->name && k + 1 < sc->n_stages; k++)
            if (sc->stages[k].name && strcmp(sc->stages[k].name, st->name) == 0)
                cw_cfg_err(ctx, cw_ymap_get(item, "name"), ipath, "duplicate stage name '%s'",
                           st->name);
    }
}

/* The weight (components, measures) and target (measures) a profile overrides. */
struct profile_override {
    double weight, target;
};

static const struct key_spec profile_component_specs[] = {
    {.name = "weight",
     .type = K_DOUBLE,
     .min = 0,
     .max = 1e6,
     .offset = offsetof(struct profile_override, weight),
     .desc = "weight in the score; 0 leaves the component out"},
};

static const struct key_spec profile_measure_specs[] = {
    {.name = "weight",
     .type = K_DOUBLE,
     .min = 0,
     .max = 1e6,
     .offset = offsetof(struct profile_override, weight),
     .desc = "weight within the component; 0 leaves the measure out"},
    {.name = "target",
     .type = K_DOUBLE,
     .flags = KF_GT_MIN,
     .min = 0,
     .max = 1e12,
     .offset = offsetof(struct profile_override, target),
     .desc = "raw value that scores 1.0"},
};

/* The index of the component (measures: the global measure index) called name, or -1. */
static int score_part_index(const struct cw_score_config *sc, const char *name, bool measure)
{
    size_t g = 0;
    for (size_t c = 0; c < sc->n_components; c++) {
        const struct cw_component *comp = &sc->components[c];
        if (!measure && comp->name && strcmp(comp->name, name) == 0)
            return (int)c;
        for (size_t m = 0; m < comp->n_measures; m++, g++)
            if (measure && comp->measures[m].name && strcmp(comp->measures[m].name, name) == 0)
                return (int)g;
    }
    return -1;
}

/* components: or measures: of a profile, a map of name -> overrides, merged into prof. */
static void profile_overrides(struct cw_cfg_ctx *ctx, const struct cw_ynode *node,
                              struct cw_profile *prof, const char *path, bool measures)
{
    const struct cw_score_config *sc = &ctx->cfg->score;
    char kpath[512];
    if (!node || !check_map(ctx, node, path))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->text;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, name);
        int at = score_part_index(sc, name, measures);
        if (at < 0 || at >= (measures ? CW_MAX_MEASURES : CW_MAX_COMPONENTS)) {
            cw_cfg_err(ctx, node->keys[i], kpath, "unknown %s '%s' (not under score.components)",
                       measures ? "measure" : "component", name);
            continue;
        }
        struct profile_override ov = {.weight = measures ? prof->measure_weight[at]
                                                         : prof->component_weight[at],
                                      .target = measures ? prof->measure_target[at] : 0};
        if (measures)
            apply_table(ctx, profile_measure_specs, N(profile_measure_specs), node->items[i],
                        node->items[i], &ov, kpath, MODE_FILL, 0);
        else
            apply_table(ctx, profile_component_specs, N(profile_component_specs), node->items[i],
                        node->items[i], &ov, kpath, MODE_FILL, 0);
        if (measures) {
            prof->measure_weight[at] = ov.weight;
            prof->measure_target[at] = ov.target;
        } else {
            prof->component_weight[at] = ov.weight;
        }
    }
}

static void profile_components(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                               const char *path)
{
    profile_overrides(ctx, node, base, path, false);
}

static void profile_measures(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    profile_overrides(ctx, node, base, path, true);
}

static void profile_stages(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    struct cw_profile *prof = base;
    const struct cw_score_config *sc = &ctx->cfg->score;
    char ipath[512];
    if (!node)
        return;
    if (node->kind != CW_YSEQ || node->n == 0) {
        cw_cfg_err(ctx, node, path, "expected a non-empty sequence of stage names, got %s",
                   node->kind == CW_YSEQ ? "an empty one" : kind_desc(node));
        return;
    }
    if (!(prof->stages = xcalloc(ctx, node->n, sizeof *prof->stages)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *name;
        size_t st;
        index_path(ipath, sizeof ipath, path, i);
        if (!(name = scalar(ctx, node->items[i], ipath, "a stage name")))
            continue;
        for (st = 0; st < sc->n_stages; st++)
            if (sc->stages[st].name && strcmp(sc->stages[st].name, name) == 0)
                break;
        if (st == sc->n_stages) {
            cw_cfg_err(ctx, node->items[i], ipath, "unknown stage '%s' (not under score.stages)",
                       name);
            continue;
        }
        prof->stages[prof->n_stages++] = (int)st;
    }
}

static const struct key_spec profile_specs[] = {
    {.name = "name",
     .type = K_STR,
     .flags = KF_REQUIRED | KF_IDENT,
     .offset = offsetof(struct cw_profile, name),
     .desc = "unique profile name"},
    {.name = "segments",
     .type = K_STRLIST,
     .flags = KF_NONEMPTY,
     .max = MAX_SEGMENTS,
     .offset = offsetof(struct cw_profile, segments),
     .desc = "segment traits it applies to (default: any)"},
    {.name = "stages",
     .type = K_CUSTOM,
     .fn = profile_stages,
     .desc = "stages it applies to (default: any)"},
    {.name = "components",
     .type = K_CUSTOM,
     .fn = profile_components,
     .desc = "map of component name to {weight}"},
    {.name = "measures",
     .type = K_CUSTOM,
     .fn = profile_measures,
     .desc = "map of measure name to {weight, target}"},
};

/* A profile must leave something to score: a component of weight > 0 with a measure of
 * weight > 0. */
static bool profile_scores_something(const struct cw_score_config *sc, const struct cw_profile *p)
{
    size_t g = 0;
    for (size_t c = 0; c < sc->n_components && c < CW_MAX_COMPONENTS; c++) {
        bool any = false;
        for (size_t m = 0; m < sc->components[c].n_measures && g < CW_MAX_MEASURES; m++, g++)
            any = any || p->measure_weight[g] > 0;
        if (any && p->component_weight[c] > 0)
            return true;
    }
    return false;
}

static void score_profiles(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    struct cw_score_config *sc = base;
    char ipath[512];
    if (!node || sc->n_components == 0)
        return;
    if (node->kind != CW_YSEQ || node->n > CW_MAX_PROFILES) {
        cw_cfg_err(ctx, node, path, "expected a sequence of at most %d profiles, got %s",
                   CW_MAX_PROFILES, node->kind == CW_YSEQ ? "more" : kind_desc(node));
        return;
    }
    if (node->n == 0 || !(sc->profiles = xcalloc(ctx, node->n, sizeof *sc->profiles)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const struct cw_ynode *item = node->items[i];
        struct cw_profile *prof = &sc->profiles[sc->n_profiles++];
        size_t g = 0;
        for (size_t c = 0; c < sc->n_components && c < CW_MAX_COMPONENTS; c++) {
            const struct cw_component *comp = &sc->components[c];
            prof->component_weight[c] = comp->weight;
            for (size_t m = 0; m < comp->n_measures && g < CW_MAX_MEASURES; m++, g++) {
                prof->measure_weight[g] = comp->measures[m].weight;
                prof->measure_target[g] = comp->measures[m].target;
            }
        }
        index_path(ipath, sizeof ipath, path, i);
        unsigned before = ctx->errs->count;
        apply_table(ctx, profile_specs, N(profile_specs), item, item, prof, ipath, MODE_FILL, 0);
        for (size_t k = 0; k < prof->segments.n; k++)
            if (strlen(prof->segments.items[k]) > CW_TRAIT_MAX)
                cw_cfg_err(ctx, cw_ymap_get(item, "segments"), ipath,
                           "a segment name has 1 to %d bytes", CW_TRAIT_MAX);
        if (!prof->name)
            continue;
        if (strcmp(prof->name, "default") == 0)
            cw_cfg_err(ctx, cw_ymap_get(item, "name"), ipath,
                       "'default' names the base scorecard (score.components); pick another name");
        for (size_t k = 0; k + 1 < sc->n_profiles; k++)
            if (sc->profiles[k].name && strcmp(sc->profiles[k].name, prof->name) == 0)
                cw_cfg_err(ctx, cw_ymap_get(item, "name"), ipath, "duplicate profile name '%s'",
                           prof->name);
        if (ctx->errs->count == before && !profile_scores_something(sc, prof))
            cw_cfg_err(ctx, item, ipath,
                       "profile '%s' leaves nothing to score: every component or every measure "
                       "of each has weight 0",
                       prof->name);
    }
}

static const struct key_spec score_specs[] = {
    {.name = "components",
     .type = K_CUSTOM,
     .flags = KF_REQUIRED,
     .fn = score_components,
     .desc = "map of component name to {weight, measures}"},
    {.name = "grades",
     .type = K_CUSTOM,
     .fn = score_grades,
     .desc = "map of grade name to minimum score, descending"},
    {.name = "min_observed_days",
     .type = K_U32,
     .def = "3",
     .min = 1,
     .max = CW_MAX_WINDOW_DAYS,
     .offset = offsetof(struct cw_score_config, min_observed_days),
     .desc = "days a window must have seen before its measures count"},
    {.name = "stages",
     .type = K_CUSTOM,
     .fn = score_stages,
     .desc = "lifecycle stages, first match wins"},
    {.name = "profiles",
     .type = K_CUSTOM,
     .fn = score_profiles,
     .desc = "scorecards per segment and stage, first match wins"},
};

static void section_score(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_config *cfg = base;
    char kpath[512];
    unsigned before = ctx->errs->count;
    apply_table(ctx, score_specs, N(score_specs), node, node, &cfg->score, path, MODE_FILL, 0);
    if (ctx->errs->count != before)
        return;
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        const struct cw_component *comp = &cfg->score.components[c];
        for (size_t m = 0; m < comp->n_measures; m++) {
            const struct cw_window *w = &cfg->windows[comp->measures[m].window];
            if (w->days < cfg->score.min_observed_days) {
                join_path(kpath, sizeof kpath, path, "min_observed_days");
                cw_cfg_err(ctx, cw_ymap_get(node, "min_observed_days"), kpath,
                           "%u exceeds window '%s' (%ud) of measure '%s'; its measures could "
                           "never count",
                           cfg->score.min_observed_days, w->name, w->days, comp->measures[m].name);
                return;
            }
        }
    }
}

/* ---- alerts ---- */

#define KB(k)        (1u << (k))
#define RULE_P(f)    (offsetof(struct cw_rule, params) + offsetof(struct cw_rule_params, f))
#define DEFAULT_P(f) offsetof(struct cw_rule_params, f)

static void rule_types(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                       const char *path)
{
    struct cw_rule *r = base;
    char ipath[512];
    if (!node)
        return;
    if (node->kind != CW_YSEQ || node->n == 0) {
        cw_cfg_err(ctx, node, path,
                   "expected a non-empty sequence of event types (omit the key for any event)");
        return;
    }
    if (!(r->types = xcalloc(ctx, node->n, sizeof *r->types)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        index_path(ipath, sizeof ipath, path, i);
        int t = cw_cfgv_resolve_event_type(ctx, node->items[i], ipath);
        if (t < 0)
            continue;
        if (ctx->cfg->event_types[t].traits) {
            cw_cfg_err(ctx, node->items[i], ipath,
                       "'%s' is a traits event; trait updates are not customer activity",
                       node->items[i]->text);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < r->n_types; j++)
            dup = dup || r->types[j] == t;
        if (!dup)
            r->types[r->n_types++] = t;
    }
}

/* direction: risk or opportunity; by default opportunity for the *_above kinds (the kind
 * is read before this key), risk for the others. */
static void rule_direction(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    struct cw_rule *r = base;
    r->direction = r->kind == CW_RULE_SCORE_ABOVE || r->kind == CW_RULE_RATIO_ABOVE
                       ? CW_DIR_OPPORTUNITY
                       : CW_DIR_RISK;
    const char *t;
    if (!node || !(t = scalar(ctx, node, path, "a name")))
        return;
    int v = cw_enum_value(&cw_direction_names, t);
    if (v < 0) {
        char list[64];
        cw_cfg_err(ctx, node, path, "invalid value '%s'; valid values: %s", t,
                   cw_enum_list(&cw_direction_names, list, sizeof list));
        return;
    }
    r->direction = (enum cw_direction)v;
}

static void rule_milestone(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    struct cw_rule *r = base;
    if (!node)
        return;
    int t = cw_cfgv_resolve_event_type(ctx, node, path);
    if (t >= 0 && ctx->cfg->event_types[t].traits)
        cw_cfg_err(ctx, node, path, "'%s' is a traits event, not a usage milestone", node->text);
    else
        r->milestone = t;
}

/* rank (champion_quiet): a name of users.ranks; champions are ranked there or above.
 * Default: the top rank. */
static void rule_rank(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                      const char *path)
{
    struct cw_rule *r = base;
    const struct cw_users_config *uc = &ctx->cfg->users;
    r->rank = 0;
    const char *t;
    if (!node || !(t = scalar(ctx, node, path, "a rank name of users.ranks")))
        return;
    for (size_t k = 0; k < uc->n_ranks; k++)
        if (uc->ranks[k].name && strcmp(uc->ranks[k].name, t) == 0) {
            r->rank = k;
            return;
        }
    cw_cfg_err(ctx, node, path, "'%s' is not one of users.ranks", t);
}

/* ---- a rule's further conditions (when) ---- */

/* One item of `when` as read, before its subject is known. */
struct condition_src {
    int metric, window;
    bool per_seat;
    double above, below, score_above, score_below;
    struct cw_strlist grade, stage;
};

static const struct key_spec condition_specs[] = {
    {.name = "metric",
     .type = K_METRIC,
     .offset = offsetof(struct condition_src, metric),
     .desc = "metric compared"},
    {.name = "window",
     .type = K_WINDOW,
     .offset = offsetof(struct condition_src, window),
     .desc = "its window"},
    {.name = "per_seat",
     .type = K_BOOL,
     .offset = offsetof(struct condition_src, per_seat),
     .desc = "divide by the seats trait"},
    {.name = "above",
     .type = K_DOUBLE,
     .min = 0,
     .max = 1e12,
     .offset = offsetof(struct condition_src, above),
     .desc = "metric holds when above"},
    {.name = "below",
     .type = K_DOUBLE,
     .min = 0,
     .max = 1e12,
     .offset = offsetof(struct condition_src, below),
     .desc = "metric holds when below"},
    {.name = "score_above",
     .type = K_DOUBLE,
     .min = 0,
     .max = 100,
     .offset = offsetof(struct condition_src, score_above),
     .desc = "health score above"},
    {.name = "score_below",
     .type = K_DOUBLE,
     .min = 0,
     .max = 100,
     .offset = offsetof(struct condition_src, score_below),
     .desc = "health score below"},
    {.name = "grade",
     .type = K_STRLIST,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct condition_src, grade),
     .desc = "grade in this list"},
    {.name = "stage",
     .type = K_STRLIST,
     .flags = KF_NONEMPTY,
     .offset = offsetof(struct condition_src, stage),
     .desc = "lifecycle stage in this list"},
};

#define CBIT(name) spec_bit(condition_specs, N(condition_specs), name, 0)

/* Each of names must be a configured grade (grades) or stage (else), reported at its item. */
static void condition_names(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                            const struct cw_strlist *names, const char *what, bool grades)
{
    const struct cw_score_config *sc = &ctx->cfg->score;
    char ipath[512];
    for (size_t i = 0; i < names->n; i++) {
        bool known = false;
        for (size_t k = 0; grades && k < sc->n_grades && !known; k++)
            known = strcmp(sc->grades[k].name, names->items[i]) == 0;
        for (size_t k = 0; !grades && k < sc->n_stages && !known; k++)
            known = sc->stages[k].name && strcmp(sc->stages[k].name, names->items[i]) == 0;
        if (!known) {
            index_path(ipath, sizeof ipath, path, i);
            cw_cfg_err(ctx, node && node->kind == CW_YSEQ && i < node->n ? node->items[i] : node,
                       ipath, "unknown %s '%s' (not under score.%ss)", what, names->items[i], what);
        }
    }
}

static void condition_read(struct cw_cfg_ctx *ctx, const struct cw_ynode *item,
                           struct cw_condition *c, const char *path)
{
    struct condition_src src = {.metric = -1, .window = -1};
    char kpath[512];
    unsigned before = ctx->errs->count;
    uint64_t mask =
        apply_table(ctx, condition_specs, N(condition_specs), item, item, &src, path, MODE_FILL, 0);
    if (ctx->errs->count != before)
        goto out;
    const uint64_t subjects =
        CBIT("metric") | CBIT("score_above") | CBIT("score_below") | CBIT("grade") | CBIT("stage");
    const uint64_t metric_keys = CBIT("window") | CBIT("per_seat") | CBIT("above") | CBIT("below");
    uint64_t subject = mask & subjects;
    if (subject == 0 || (subject & (subject - 1)) != 0) {
        cw_cfg_err(ctx, item, path,
                   "a condition has exactly one of metric, score_above, score_below, grade, "
                   "stage");
        goto out;
    }
    if (subject != CBIT("metric") && (mask & metric_keys)) {
        cw_cfg_err(ctx, item, path, "window, per_seat, above and below go with metric only");
        goto out;
    }
    if (subject == CBIT("metric")) {
        uint64_t side = mask & (CBIT("above") | CBIT("below"));
        if (!(mask & CBIT("window")) || side == 0 || side == (CBIT("above") | CBIT("below"))) {
            cw_cfg_err(ctx, item, path, "a metric condition needs window and one of above, below");
            goto out;
        }
        if (cw_config_metric_counts_users(ctx->cfg, src.metric)) {
            join_path(kpath, sizeof kpath, path, "metric");
            cw_cfg_err(ctx, cw_ymap_get(item, "metric"), kpath,
                       "'%s' is a score measure's metric only (docs/users.md)",
                       ctx->cfg->metrics[src.metric].name);
            goto out;
        }
        c->subject = CW_COND_METRIC;
        c->metric = src.metric;
        c->window = src.window;
        c->per_seat = src.per_seat;
        c->above = side == CBIT("above");
        c->value = c->above ? src.above : src.below;
    } else if (subject == CBIT("score_above") || subject == CBIT("score_below")) {
        c->subject = CW_COND_SCORE;
        c->above = subject == CBIT("score_above");
        c->value = c->above ? src.score_above : src.score_below;
    } else {
        bool grade = subject == CBIT("grade");
        c->subject = grade ? CW_COND_GRADE : CW_COND_STAGE;
        join_path(kpath, sizeof kpath, path, grade ? "grade" : "stage");
        condition_names(ctx, cw_ymap_get(item, grade ? "grade" : "stage"), kpath,
                        grade ? &src.grade : &src.stage, grade ? "grade" : "stage", grade);
        c->names = grade ? src.grade : src.stage;
        (grade ? &src.grade : &src.stage)->items = NULL;
        (grade ? &src.grade : &src.stage)->n = 0;
    }
out:
    cw_strlist_free(&src.grade);
    cw_strlist_free(&src.stage);
}

static void rule_when(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                      const char *path)
{
    struct cw_rule *r = base;
    char ipath[512];
    if (!node)
        return;
    if (node->kind != CW_YSEQ || node->n == 0 || node->n > CW_MAX_CONDITIONS) {
        cw_cfg_err(ctx, node, path, "expected a sequence of 1 to %d conditions, got %s",
                   CW_MAX_CONDITIONS,
                   node->kind != CW_YSEQ ? kind_desc(node)
                   : node->n             ? "more"
                                         : "an empty one");
        return;
    }
    if (!(r->when = xcalloc(ctx, node->n, sizeof *r->when)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        index_path(ipath, sizeof ipath, path, i);
        condition_read(ctx, node->items[i], &r->when[r->n_when++], ipath);
    }
}

#define SB KB(CW_RULE_SCORE_BELOW)
#define SD KB(CW_RULE_SCORE_DROP)
#define IN KB(CW_RULE_INACTIVE)
#define ON KB(CW_RULE_ONBOARDING)
#define RB KB(CW_RULE_RATIO_BELOW)
#define RN KB(CW_RULE_RENEWAL)
#define SA KB(CW_RULE_SCORE_ABOVE)
#define RA KB(CW_RULE_RATIO_ABOVE)
#define CR KB(CW_RULE_CHILDREN_AT_RISK)
#define CQ KB(CW_RULE_CHAMPION_QUIET)
#define PB KB(CW_RULE_POWER_USERS_BELOW)

static const struct key_spec rule_specs[] = {
    {.name = "name",
     .type = K_STR,
     .flags = KF_REQUIRED | KF_IDENT,
     .max = NAME_MAX_BYTES,
     .offset = offsetof(struct cw_rule, name),
     .desc = "unique rule name"},
    {.name = "kind",
     .type = K_ENUM,
     .flags = KF_REQUIRED,
     .names = &cw_rule_kind_names,
     .offset = offsetof(struct cw_rule, kind),
     .desc = "score_below, score_drop, inactive, ..."},
    {.name = "direction",
     .type = K_CUSTOM,
     .fn = rule_direction,
     .desc = "risk or opportunity (default: by kind)"},
    {.name = "severity",
     .type = K_ENUM,
     .flags = KF_OVERRIDE,
     .names = &cw_severity_names,
     .offset = RULE_P(severity),
     .desc = "info, warning or critical"},
    {.name = "touch",
     .type = K_STR,
     .flags = KF_OVERRIDE | KF_TOUCH,
     .max = 31,
     .offset = RULE_P(touch),
     .desc = "high, low, tech, ..."},
    {.name = "enter",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 100,
     .offset = RULE_P(enter),
     .kinds = SB | RN | CR,
     .desc = "fire when the score is below this"},
    {.name = "exit",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 100,
     .offset = RULE_P(exit),
     .kinds = SB | RN | CR,
     .desc = "resolve when the score is at least this"},
    {.name = "enter",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e9,
     .offset = RULE_P(enter),
     .kinds = RB,
     .desc = "fire when the ratio is below this"},
    {.name = "exit",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e9,
     .offset = RULE_P(exit),
     .kinds = RB,
     .desc = "resolve when the ratio is at least this"},
    {.name = "enter",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 100,
     .offset = RULE_P(enter),
     .kinds = SA,
     .desc = "fire when the score is above this"},
    {.name = "exit",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 100,
     .offset = RULE_P(exit),
     .kinds = SA,
     .desc = "resolve when the score is at most this"},
    {.name = "enter",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e9,
     .offset = RULE_P(enter),
     .kinds = RA,
     .desc = "fire when the ratio is above this"},
    {.name = "exit",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e9,
     .offset = RULE_P(exit),
     .kinds = RA,
     .desc = "resolve when the ratio is at most this"},
    {.name = "enter",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e6,
     .offset = RULE_P(enter),
     .kinds = PB,
     .desc = "fire when the account has fewer power users than this"},
    {.name = "exit",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 0,
     .max = 1e6,
     .offset = RULE_P(exit),
     .kinds = PB,
     .desc = "resolve when it has at least this many"},
    {.name = "rank",
     .type = K_CUSTOM,
     .fn = rule_rank,
     .kinds = CQ,
     .desc = "champions are ranked here or above (default: the top rank)"},
    {.name = "children",
     .type = K_UINT,
     .flags = KF_REQUIRED | KF_OVERRIDE,
     .min = 1,
     .max = CW_HIERARCHY_MAX_CHILDREN,
     .offset = RULE_P(min_children),
     .kinds = CR,
     .desc = "fire when at least this many children are at risk"},
    {.name = "points",
     .type = K_DOUBLE,
     .flags = KF_REQUIRED | KF_OVERRIDE | KF_GT_MIN,
     .min = 0,
     .max = 100,
     .offset = RULE_P(points),
     .kinds = SD,
     .desc = "fire when the score fell by at least this"},
    {.name = "exit_points",
     .type = K_DOUBLE,
     .flags = KF_OVERRIDE,
     .min = 0,
     .max = 100,
     .offset = RULE_P(exit_points),
     .kinds = SD,
     .desc = "resolve when the drop is below this"},
    {.name = "over",
     .type = K_DURATION,
     .flags = KF_REQUIRED | KF_OVERRIDE | KF_GT_MIN,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(over_ms),
     .kinds = SD,
     .desc = "compare with the score this long ago"},
    {.name = "types",
     .type = K_CUSTOM,
     .fn = rule_types,
     .kinds = IN,
     .desc = "event types that count as activity"},
    {.name = "after",
     .type = K_DURATION,
     .flags = KF_REQUIRED | KF_OVERRIDE | KF_GT_MIN,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(after_ms),
     .kinds = IN | CQ,
     .desc = "silence that fires the rule"},
    {.name = "milestone",
     .type = K_CUSTOM,
     .flags = KF_REQUIRED,
     .fn = rule_milestone,
     .kinds = ON,
     .desc = "event type of first value"},
    {.name = "within",
     .type = K_DURATION,
     .flags = KF_REQUIRED | KF_OVERRIDE | KF_GT_MIN,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(within_ms),
     .kinds = ON,
     .desc = "milestone due this long after created_at"},
    {.name = "within",
     .type = K_DURATION,
     .flags = KF_REQUIRED | KF_OVERRIDE | KF_GT_MIN,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(within_ms),
     .kinds = RN,
     .desc = "judged while the renewal is at most this far ahead"},
    {.name = "metric",
     .type = K_METRIC,
     .flags = KF_REQUIRED,
     .offset = offsetof(struct cw_rule, metric),
     .kinds = RB | RA,
     .desc = "metric of the ratio"},
    {.name = "window",
     .type = K_WINDOW,
     .flags = KF_REQUIRED,
     .offset = offsetof(struct cw_rule, window),
     .kinds = RB | RA,
     .desc = "window of the ratio"},
    {.name = "per_seat",
     .type = K_BOOL,
     .def = "true",
     .offset = offsetof(struct cw_rule, per_seat),
     .kinds = RB | RA,
     .desc = "divide by the seats trait"},
    {.name = "for",
     .type = K_DURATION,
     .flags = KF_OVERRIDE,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(for_ms),
     .desc = "pending time before firing"},
    {.name = "keep_firing_for",
     .type = K_DURATION,
     .flags = KF_OVERRIDE,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(keep_firing_ms),
     .desc = "firing time after clearing"},
    {.name = "repeat_interval",
     .type = K_DURATION,
     .flags = KF_OVERRIDE,
     .min = 0,
     .max = MAX_DUR,
     .offset = RULE_P(repeat_ms),
     .desc = "reminder interval, 0 = never"},
    {.name = "when",
     .type = K_CUSTOM,
     .fn = rule_when,
     .desc = "further conditions, all of which must hold"},
};

static const struct key_spec defaults_specs[] = {
    {.name = "for",
     .type = K_DURATION,
     .def = "0",
     .min = 0,
     .max = MAX_DUR,
     .offset = DEFAULT_P(for_ms),
     .desc = "pending time before firing"},
    {.name = "keep_firing_for",
     .type = K_DURATION,
     .def = "0",
     .min = 0,
     .max = MAX_DUR,
     .offset = DEFAULT_P(keep_firing_ms),
     .desc = "firing time after clearing"},
    {.name = "repeat_interval",
     .type = K_DURATION,
     .def = "0",
     .min = 0,
     .max = MAX_DUR,
     .offset = DEFAULT_P(repeat_ms),
     .desc = "reminder interval"},
    {.name = "severity",
     .type = K_ENUM,
     .def = "warning",
     .names = &cw_severity_names,
     .offset = DEFAULT_P(severity),
     .desc = "severity"},
    {.name = "touch",
     .type = K_STR,
     .def = "tech",
     .flags = KF_TOUCH,
     .max = 31,
     .offset = DEFAULT_P(touch),
     .desc = "touch when no severity mapping applies"},
};

static void alerts_defaults(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                            const char *path)
{
    (void)base;
    apply_table(ctx, defaults_specs, N(defaults_specs), node, node, &ctx->defaults, path, MODE_FILL,
                0);
}

static void alerts_touch_by_severity(struct cw_cfg_ctx *ctx, const struct cw_ynode *node,
                                     void *base, const char *path)
{
    (void)base;
    if (!node) {
        ctx->touch_by_severity[CW_SEV_CRITICAL] = xstrdup(ctx, "high");
        ctx->touch_by_severity[CW_SEV_WARNING] = xstrdup(ctx, "low");
        ctx->touch_by_severity[CW_SEV_INFO] = xstrdup(ctx, "tech");
        return;
    }
    /* One key per severity, named by the severity table (enum_names.c). */
    struct key_spec specs[N(ctx->touch_by_severity)];
    size_t n = 0;
    for (; n < cw_severity_names.n && n < N(specs); n++)
        specs[n] = (struct key_spec){.name = cw_severity_names.names[n],
                                     .type = K_STR,
                                     .flags = KF_TOUCH,
                                     .max = 31,
                                     .offset = n * sizeof(char *),
                                     .desc = "touch of alerts of this severity"};
    apply_table(ctx, specs, n, node, node, ctx->touch_by_severity, path, MODE_FILL, 0);
}

/* The touch of a rule whose touch is not given: by severity, else alerts.defaults.touch. */
static const char *severity_touch(const struct cw_cfg_ctx *ctx, enum cw_severity sev)
{
    const char *t = (unsigned)sev < N(ctx->touch_by_severity) ? ctx->touch_by_severity[sev] : NULL;
    return t ? t : ctx->defaults.touch ? ctx->defaults.touch : "tech";
}

static void alerts_rules(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                         const char *path)
{
    struct cw_config *cfg = ctx->cfg;
    char ipath[64];
    (void)base;
    if (!node)
        return;
    if (node->kind != CW_YSEQ) {
        cw_cfg_err(ctx, node, path, "expected a sequence of rules, got %s", kind_desc(node));
        return;
    }
    if (node->n > CW_MAX_RULES) {
        cw_cfg_err(ctx, node, path, "too many rules (%zu; at most %d)", node->n, CW_MAX_RULES);
        return;
    }
    if (!(cfg->rules = xcalloc(ctx, node->n, sizeof *cfg->rules)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const struct cw_ynode *item = node->items[i];
        struct cw_rule_src *src = &ctx->rule_src[cfg->n_rules];
        struct cw_rule *r = &cfg->rules[cfg->n_rules];
        int kind = -1;
        index_path(ipath, sizeof ipath, path, i);
        if (!check_map(ctx, item, ipath))
            continue;
        const struct cw_ynode *kn = cw_ymap_get(item, "kind");
        unsigned before = ctx->errs->count;
        if (!kn) {
            cw_cfg_err(ctx, item, ipath,
                       "missing required key 'kind' (score_below, score_drop, inactive, "
                       "onboarding or ratio_below)");
            continue;
        }
        struct key_spec kind_spec = rule_specs[1];
        char kpath[96];
        kind_spec.offset = 0;
        snprintf(kpath, sizeof kpath, "%s.kind", ipath);
        convert(ctx, &kind_spec, kn, &kind, kpath);
        if (ctx->errs->count != before)
            continue; /* the other keys depend on the kind */
        cfg->n_rules++;
        r->params = ctx->defaults;
        r->params.touch = NULL;
        r->milestone = r->metric = r->window = -1;
        uint64_t mask =
            apply_table(ctx, rule_specs, N(rule_specs), item, item, r, ipath, MODE_FILL, KB(kind));
        if ((r->kind == CW_RULE_CHAMPION_QUIET || r->kind == CW_RULE_POWER_USERS_BELOW) &&
            !cfg->users.enabled)
            cw_cfg_err(ctx, kn, ipath, "a %s rule needs a users section (docs/users.md)",
                       cw_rule_kind_name(r->kind));
        if (cw_config_metric_counts_users(cfg, r->metric)) {
            snprintf(kpath, sizeof kpath, "%s.metric", ipath);
            cw_cfg_err(ctx, cw_ymap_get(item, "metric"), kpath,
                       "'%s' is a score measure's metric only (docs/users.md)",
                       cfg->metrics[r->metric].name);
        }
        /* misplaced keys do not make the values read doubtful: still cross-check them */
        before += ctx->key_errors;
        src->map = item;
        snprintf(src->path, sizeof src->path, "%s", ipath);
        src->touch_set = r->params.touch != NULL;
        src->exit_points_set = mask & spec_bit(rule_specs, N(rule_specs), "exit_points", SD);
        if (r->kind == CW_RULE_SCORE_DROP && !src->exit_points_set)
            r->params.exit_points = r->params.points / 2;
        if (!r->params.touch)
            r->params.touch = xstrdup(ctx, severity_touch(ctx, r->params.severity));
        for (size_t j = 0; r->name && j + 1 < cfg->n_rules; j++)
            if (cfg->rules[j].name && strcmp(cfg->rules[j].name, r->name) == 0)
                cw_cfg_err(ctx, cw_ymap_get(item, "name"), ipath,
                           "duplicate rule name '%s' (also %s)", r->name, ctx->rule_src[j].path);
        src->bad = ctx->errs->count != before;
        if (!src->bad)
            cw_cfgv_rule_params(ctx, r, &r->params, &src->map, (const char *const[]){src->path}, 1);
    }
}

static const struct key_spec alerts_specs[] = {
    {.name = "defaults",
     .type = K_CUSTOM,
     .fn = alerts_defaults,
     .desc = "for, keep_firing_for, repeat_interval, severity, touch"},
    {.name = "touch_by_severity",
     .type = K_CUSTOM,
     .fn = alerts_touch_by_severity,
     .desc = "map of severity to touch"},
    {.name = "rules", .type = K_CUSTOM, .fn = alerts_rules, .desc = "list of rules"},
};

static void section_alerts(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                           const char *path)
{
    apply_table(ctx, alerts_specs, N(alerts_specs), node, node, base, path, MODE_FILL, 0);
}

/* ---- segments ---- */

/* Merge the override ov (NULL: none) of rule r into seg->rule_params[r] and validate it. */
static void segment_merge(struct cw_cfg_ctx *ctx, struct cw_segment *seg, size_t r,
                          const struct cw_ynode *ov, const char *path)
{
    const struct cw_rule *rule = &ctx->cfg->rules[r];
    const struct cw_rule_src *src = &ctx->rule_src[r];
    struct cw_rule tmp = *rule;
    unsigned before = ctx->errs->count;
    uint64_t mask = 0;
    unsigned kb = KB(rule->kind);

    tmp.params.touch = NULL;
    if (ov) {
        mask = apply_table(ctx, rule_specs, N(rule_specs), ov, ov, &tmp, path, MODE_OVERLAY, kb);
        before += ctx->key_errors;
    }
    if ((mask & spec_bit(rule_specs, N(rule_specs), "points", kb)) &&
        !(mask & spec_bit(rule_specs, N(rule_specs), "exit_points", kb)) && !src->exit_points_set)
        tmp.params.exit_points = tmp.params.points / 2;
    if (!tmp.params.touch) {
        const char *t = seg->touch       ? seg->touch
                        : src->touch_set ? rule->params.touch
                                         : severity_touch(ctx, tmp.params.severity);
        tmp.params.touch = xstrdup(ctx, t);
    }
    seg->rule_params[r] = tmp.params;
    if (ctx->errs->count == before && !src->bad) {
        const struct cw_ynode *maps[2] = {ov, src->map};
        const char *paths[2] = {path, src->path};
        cw_cfgv_rule_params(ctx, rule, &seg->rule_params[r], maps, paths, 2);
    }
}

static void segment_rules(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                          const char *path)
{
    struct cw_segment *seg = base;
    struct cw_config *cfg = ctx->cfg;
    const struct cw_ynode *ov[CW_MAX_RULES] = {0};
    char kpath[512], list[512];

    if (!seg->rule_params)
        return;
    if (node && check_map(ctx, node, path)) {
        for (size_t i = 0; i < node->n; i++) {
            const char *name = node->keys[i]->text;
            size_t r;
            if (is_dup(node, i))
                continue;
            for (r = 0; r < cfg->n_rules; r++)
                if (cfg->rules[r].name && strcmp(cfg->rules[r].name, name) == 0)
                    break;
            if (r < cfg->n_rules) {
                ov[r] = node->items[i];
                continue;
            }
            size_t len = 0;
            list[0] = '\0';
            for (size_t k = 0; k < cfg->n_rules && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                        cfg->rules[k].name ? cfg->rules[k].name : "?");
            join_path(kpath, sizeof kpath, path, name);
            cw_cfg_err(ctx, node->keys[i], kpath, "unknown rule '%s'; rules: %s", name,
                       cfg->n_rules ? list : "(none)");
        }
    }
    for (size_t r = 0; r < cfg->n_rules; r++) {
        join_path(kpath, sizeof kpath, path, cfg->rules[r].name ? cfg->rules[r].name : "?");
        segment_merge(ctx, seg, r, ov[r], kpath);
    }
}

static const struct key_spec segment_specs[] = {
    {.name = "touch",
     .type = K_STR,
     .flags = KF_TOUCH,
     .max = 31,
     .offset = offsetof(struct cw_segment, touch),
     .desc = "touch of every alert in the segment"},
    {.name = "rules",
     .type = K_CUSTOM,
     .fn = segment_rules,
     .desc = "map of rule name to overridden thresholds"},
};

static void section_segments(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, void *base,
                             const char *path)
{
    struct cw_config *cfg = base;
    char kpath[512];
    if (!node || !check_map(ctx, node, path))
        return;
    size_t count = map_count(node);
    if (count > MAX_SEGMENTS) {
        cw_cfg_err(ctx, node, path, "too many segments (%zu; at most %d)", count, MAX_SEGMENTS);
        return;
    }
    if (!(cfg->segments = xcalloc(ctx, count, sizeof *cfg->segments)))
        return;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->text;
        if (is_dup(node, i))
            continue;
        join_path(kpath, sizeof kpath, path, name);
        if (*name == '\0' || strlen(name) > CW_TRAIT_MAX) {
            cw_cfg_err(ctx, node->keys[i], kpath, "a segment name has 1 to %d bytes", CW_TRAIT_MAX);
            continue;
        }
        struct cw_segment *seg = &cfg->segments[cfg->n_segments++];
        if (!(seg->name = xstrdup(ctx, name)))
            continue;
        if (!(seg->rule_params = xcalloc(ctx, cfg->n_rules, sizeof *seg->rule_params)))
            continue;
        apply_table(ctx, segment_specs, N(segment_specs), node->items[i], node->items[i], seg,
                    kpath, MODE_FILL, 0);
    }
}

/* ---- top level ---- */

static const struct key_spec top_specs[] = {
    {.name = "kafka", .type = K_CUSTOM, .fn = section_kafka, .desc = "Kafka"},
    {.name = "redis", .type = K_CUSTOM, .fn = section_redis, .desc = "Redis"},
    {.name = "timezone", .type = K_CUSTOM, .fn = key_timezone, .desc = "IANA zone of day buckets"},
    {.name = "lateness",
     .type = K_DURATION,
     .def = "2d",
     .min = 0,
     .max = MAX_DUR,
     .offset = offsetof(struct cw_config, lateness_ms),
     .desc = "accepted lateness"},
    {.name = "max_clock_skew",
     .type = K_DURATION,
     .def = "15m",
     .min = 0,
     .max = 7 * DAY_MS,
     .offset = offsetof(struct cw_config, max_clock_skew_ms),
     .desc = "accepted future skew"},
    {.name = "sweep_interval",
     .type = K_DURATION,
     .def = "5m",
     .flags = KF_GT_MIN,
     .min = 0,
     .max = DAY_MS,
     .offset = offsetof(struct cw_config, sweep_interval_ms),
     .desc = "period of the rescoring sweep"},
    {.name = "max_silence",
     .type = K_DURATION,
     .def = "90d",
     .flags = KF_GT_MIN,
     .min = 0,
     .max = MAX_DUR,
     .offset = offsetof(struct cw_config, max_silence_ms),
     .desc = "longest silence `churnwatch silence` sets"},
    {.name = "windows", .type = K_CUSTOM, .fn = section_windows, .desc = "named windows"},
    {.name = "input", .type = K_CUSTOM, .fn = section_input, .desc = "event decoding"},
    {.name = "event_types",
     .type = K_CUSTOM,
     .fn = section_event_types,
     .desc = "event types and metrics"},
    {.name = "users", .type = K_CUSTOM, .fn = section_users, .desc = "per-user engagement"},
    {.name = "score",
     .type = K_CUSTOM,
     .flags = KF_REQUIRED,
     .fn = section_score,
     .desc = "health score components and grades"},
    {.name = "alerts", .type = K_CUSTOM, .fn = section_alerts, .desc = "rules"},
    {.name = "segments", .type = K_CUSTOM, .fn = section_segments, .desc = "per-segment overrides"},
    {.name = "scores", .type = K_CUSTOM, .fn = section_scores, .desc = "score feed"},
    {.name = "hierarchy",
     .type = K_CUSTOM,
     .fn = section_hierarchy,
     .desc = "account hierarchies: roll-up and depth"},
    {.name = "http", .type = K_CUSTOM, .fn = section_http, .desc = "metrics endpoint"},
    {.name = "log", .type = K_CUSTOM, .fn = section_log, .desc = "logging"},
};

void cw_cfg_build(struct cw_cfg_ctx *ctx, const struct cw_ynode *root)
{
    struct cw_config *cfg = ctx->cfg;
    if (!(cfg->metrics = xcalloc(ctx, CW_MAX_METRICS, sizeof *cfg->metrics)))
        return;
    if (!(cfg->metrics[CW_METRIC_ACTIVE_USERS].name = xstrdup(ctx, "active_users")))
        return;
    cfg->metrics[CW_METRIC_ACTIVE_USERS].builtin = true;
    if (!(cfg->metrics[CW_METRIC_POWER_USERS].name = xstrdup(ctx, "power_users")) ||
        !(cfg->metrics[CW_METRIC_RANKED_USERS].name = xstrdup(ctx, "ranked_users")))
        return;
    cfg->metrics[CW_METRIC_POWER_USERS].builtin = true;
    cfg->metrics[CW_METRIC_RANKED_USERS].builtin = true;
    cfg->n_metrics = CW_METRIC_BUILTIN_COUNT;
    apply_table(ctx, top_specs, N(top_specs), root, root, cfg, "", MODE_FILL, 0);
}
