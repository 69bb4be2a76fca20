/* config.h - the typed, validated churnwatch configuration and its loader */
#ifndef CHURNWATCH_CONFIG_H
#define CHURNWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/values.h"

#define CW_MS_PER_SECOND INT64_C(1000)
#define CW_MS_PER_DAY    (INT64_C(86400) * CW_MS_PER_SECOND)

/* Hard limits enforced by the loader; they let the scoring and rule code work on fixed
 * arrays without allocating on the hot path. */
#define CW_MAX_WINDOWS        8
#define CW_MAX_WINDOW_DAYS    366
#define CW_MAX_METRICS        32 /* built-ins included */
#define CW_MAX_EVENT_TYPES    64
#define CW_MAX_VALUED_TYPES   8 /* event types carrying a value */
#define CW_MAX_VALUE_POINTERS 4 /* JSON pointers of one type's value */
#define CW_MAX_COMPONENTS     8
#define CW_MAX_MEASURES       32 /* across all components */
#define CW_MAX_RULES          32
#define CW_MAX_GRADES         8
#define CW_MAX_STAGES         8
#define CW_MAX_PROFILES       16
#define CW_REDIS_LANES_MAX    8 /* redis.lanes */

/* A key/value pair of strings (librdkafka properties). */
struct cw_kv {
    char *key;
    char *value;
};

/* An ordered list of strings (topics, JSON pointers, aliases). */
struct cw_strlist {
    char **items;
    size_t n;
};

struct cw_kafka_config {
    char *brokers;            /* "host:port[,host:port]" */
    char *group_id;           /* default "churnwatch" */
    struct cw_strlist topics; /* default ["usage-events"] */
    char *alerts_topic;       /* default "churnwatch-alerts" */
    char *dlq_topic;          /* default "usage-events-dlq" */
    struct cw_kv *properties; /* passed through to librdkafka, in file order */
    size_t n_properties;
};

/* TLS of rediss:// and rediss-cluster:// URLs (strings NULL when unset). */
struct cw_redis_tls_config {
    char *ca_file;     /* PEM CA bundle; with ca_dir unset too: the system trust store */
    char *ca_dir;      /* OpenSSL hashed CA directory (c_rehash) */
    char *cert_file;   /* client certificate (PEM chain), with key_file */
    char *key_file;    /* its unencrypted PEM key */
    char *server_name; /* name verified (and sent as SNI) instead of each node's host */
    bool verify;       /* default true; false skips server verification (insecure) */
    bool configured;   /* the config has a redis.tls section */
};

struct cw_redis_config {
    char *url;           /* redis://[user:pass@]host:port/db, unix:///path, redis-cluster://... */
    char *password_file; /* as written in the file; NULL when unset */
    char *password;      /* the resolved secret (password_file or the environment), overriding
                            the URL's password; NULL when none. Never print it. */
    char *key_prefix;    /* default "cw:" */
    size_t cache_mb;     /* accounts held in memory by the daemon, MiB (0: none); default 256 */
    unsigned lanes;      /* a batch's accounts split by account over this many threads, each
                            with its connection, share of cache_mb and producer; default 2 */
    struct cw_redis_tls_config tls;
};

enum cw_preset {
    CW_PRESET_NATIVE = 0,
    CW_PRESET_SEGMENT,
    CW_PRESET_CLOUDEVENTS,
};

enum cw_unknown_type_policy {
    CW_UNKNOWN_IGNORE = 0, /* counted, not applied, not sent to the DLQ */
    CW_UNKNOWN_DLQ,        /* rejected as unknown_type */
};

/* Where each event field is looked up: ordered lists of RFC 6901 JSON pointers; the
 * first pointer that resolves wins. After loading, every list holds the effective
 * pointers (explicit lists override the preset's, field by field). */
struct cw_input_config {
    enum cw_preset preset;
    struct cw_strlist account_id;
    struct cw_strlist user_id;
    struct cw_strlist type;
    struct cw_strlist ts;
    struct cw_strlist event_id;
    struct cw_strlist traits;
    enum cw_unknown_type_policy unknown_types;
    size_t max_message_bytes; /* default 65536; larger messages are too_large */
    size_t max_id_length;     /* default 128 bytes, at most CW_ID_MAX */
    unsigned max_depth;       /* default 32 levels of nesting */
};

/* A named window of whole local calendar days ending today. */
struct cw_window {
    char *name;
    uint32_t days;
};

/* Built-in metric indices; configured event metrics follow them. */
enum {
    CW_METRIC_ACTIVE_USERS = 0, /* distinct user_id with any mapped event in the window */
    CW_METRIC_POWER_USERS,      /* users ranked at users.power_rank or above (docs/users.md) */
    CW_METRIC_RANKED_USERS,     /* users with any rank of users.ranks */
    CW_METRIC_BUILTIN_COUNT
};

/* A metric: a daily counter fed by one or more event types, or a built-in. */
struct cw_metric {
    char *name;
    bool builtin;
    bool valued; /* fed by event types that carry a value (event_types.*.value) */
};

/* One accepted event type name (and its aliases) mapped to a metric. */
struct cw_event_type {
    char *name;                /* native name, e.g. "login" */
    struct cw_strlist aliases; /* e.g. "Signed In" */
    int metric;                /* index into cw_config.metrics; -1 for a traits event */
    bool traits;               /* true: carries account traits (account_updated, group) */
    struct cw_strlist value;   /* JSON pointers of its numeric value, first found wins;
                                  empty: the type carries no value */
};

struct cw_measure {
    char *name;
    int metric;    /* index into cw_config.metrics */
    int window;    /* index into cw_config.windows */
    bool per_seat; /* divide by the account's seats trait (n/a when unknown) */
    double target; /* raw value that normalises to 1.0; > 0 */
    double weight; /* > 0 */
    int aggregate; /* enum cw_aggregate: count, or a statistic of a valued metric's values */
};

struct cw_component {
    char *name;
    double weight; /* > 0 */
    struct cw_measure *measures;
    size_t n_measures;
};

/* Grade bands, ordered by min_score descending; the last band has min_score 0. */
struct cw_grade {
    char name[8];
    double min_score;
};

/* A lifecycle stage of an account, judged at the instant scored from its created_at and
 * renewal_at traits: it holds when each condition it sets holds (none set: always). The
 * account's stage is the first stage that holds (docs/configuration.md "Stages"). */
struct cw_stage {
    char *name;
    int64_t created_within_ms; /* created_at at most this long ago; 0: no condition */
    int64_t renewal_within_ms; /* renewal_at now or at most this far ahead; 0: no condition */
};

/* A scorecard for some segments and stages: the components' and measures' weights and the
 * measures' targets, the base scorecard's with the profile's overrides merged at load. A
 * weight 0 leaves the measure or component out of the profile. */
struct cw_profile {
    char *name;
    struct cw_strlist segments; /* segment traits it applies to; none listed: any */
    int *stages;                /* indices into cw_score_config.stages; none: any */
    size_t n_stages;
    double component_weight[CW_MAX_COMPONENTS];
    double measure_weight[CW_MAX_MEASURES]; /* by global measure index (component order) */
    double measure_target[CW_MAX_MEASURES];
};

struct cw_score_config {
    struct cw_component *components;
    size_t n_components;
    struct cw_grade *grades;
    size_t n_grades;
    uint32_t min_observed_days; /* a measure whose window saw fewer days is n/a; default 3 */
    struct cw_stage *stages;    /* in order of precedence; none: no stage */
    size_t n_stages;
    struct cw_profile *profiles; /* the first that matches scores the account; none: the */
    size_t n_profiles;           /* base scorecard ("default") */
};

enum cw_rule_kind {
    CW_RULE_SCORE_BELOW = 0,
    CW_RULE_SCORE_DROP,
    CW_RULE_INACTIVE,
    CW_RULE_ONBOARDING,
    CW_RULE_RATIO_BELOW,
    CW_RULE_RENEWAL,
    CW_RULE_SCORE_ABOVE, /* opportunities: the score or a ratio high */
    CW_RULE_RATIO_ABOVE,
    CW_RULE_CHILDREN_AT_RISK,  /* a parent: at least `children` of its children score low */
    CW_RULE_CHAMPION_QUIET,    /* a user of a top engagement rank has had no points for `after` */
    CW_RULE_POWER_USERS_BELOW, /* fewer power users than `enter` (docs/users.md) */
};

/* What a rule's alert is about: a churn risk (the default of every kind but the *_above
 * ones) or an opportunity (expansion, advocacy), carried in the alert. */
enum cw_direction {
    CW_DIR_RISK = 0,
    CW_DIR_OPPORTUNITY,
};

enum cw_severity {
    CW_SEV_INFO = 0,
    CW_SEV_WARNING,
    CW_SEV_CRITICAL,
};

/* The thresholds of a rule; segments may override any of them. Which fields apply
 * depends on the kind (see conf/churnwatch.yaml). */
struct cw_rule_params {
    double enter;           /* score_below, ratio_below, renewal: fire when value < enter;
                               children_at_risk: a child is at risk below enter, while the
                               rule fires below exit;
                               score_above, ratio_above: fire when value > enter */
    double exit;            /* score_below, ratio_below, renewal: resolve when value >= exit;
                               score_above, ratio_above: resolve when value <= exit */
    double points;          /* score_drop: fire when drop >= points */
    double exit_points;     /* score_drop: resolve when drop < exit_points */
    int64_t over_ms;        /* score_drop: compare with the score this long ago */
    int64_t after_ms;       /* inactive: silent for this long */
    int64_t within_ms;      /* onboarding: milestone due this long after created_at;
                               renewal: judged while the renewal is at most this far ahead */
    int64_t for_ms;         /* pending time before firing; 0 = fire at once */
    int64_t keep_firing_ms; /* stay firing this long after the condition clears */
    int64_t repeat_ms;      /* reminder interval while firing; 0 = never */
    unsigned min_children;  /* children_at_risk: fire when at least this many children are
                               at risk (`children`) */
    enum cw_severity severity;
    char *touch; /* "high", "low", "tech", ...; never NULL after loading */
};

/* A further condition of a rule (`when`): the rule's condition holds only while each of
 * these holds too (docs/configuration.md "Further conditions"). */
enum cw_condition_subject {
    CW_COND_METRIC = 0, /* metric over window (per seat) above or below value */
    CW_COND_SCORE,      /* the health score above or below value */
    CW_COND_GRADE,      /* the grade is one of names */
    CW_COND_STAGE,      /* the lifecycle stage is one of names (indices into score.stages) */
};

#define CW_MAX_CONDITIONS 4 /* per rule */

struct cw_condition {
    enum cw_condition_subject subject;
    bool above;              /* metric, score: holds when > value; else when < value */
    double value;            /* metric, score */
    int metric;              /* metric: metric index */
    int window;              /* metric: window index */
    bool per_seat;           /* metric: divided by the seats trait */
    struct cw_strlist names; /* grade: grade names; stage: stage names */
};

struct cw_rule {
    char *name;
    enum cw_rule_kind kind;
    struct cw_rule_params params;
    int *types; /* inactive: event-type indices that count as activity; NULL = any */
    size_t n_types;
    int milestone; /* onboarding: event-type index of the milestone */
    int metric;    /* ratio_below, ratio_above: metric index */
    int window;    /* ratio_below, ratio_above: window index */
    bool per_seat; /* ratio_below, ratio_above: divide by seats (default true) */
    size_t rank;   /* champion_quiet: users ranked here or above (users.ranks) are champions */
    enum cw_direction direction;
    struct cw_condition *when; /* further conditions, all of which must hold; NULL: none */
    size_t n_when;
};

/* Per-segment overrides: one cw_rule_params per rule (same order as cw_config.rules),
 * pre-merged with the rule's own params at load time. */
struct cw_segment {
    char *name;
    struct cw_rule_params *rule_params; /* [n_rules] */
    char *touch;                        /* segment default touch, or NULL */
};

/* The score feed (docs/scores.md): off while topic is NULL. */
struct cw_scores_config {
    char *topic; /* churnwatch.score.v1 output, NULL: no feed; read at start only */
    double step; /* points a score must move from the last one published; default 5 */
};

/* How a parent's score is rolled up from its children's (docs/hierarchies.md). */
enum cw_rollup {
    CW_ROLLUP_MEAN = 0,
    CW_ROLLUP_SEAT_WEIGHTED_MEAN,
    CW_ROLLUP_MINIMUM,
};

/* Account hierarchies (docs/hierarchies.md). */
struct cw_hierarchy_config {
    enum cw_rollup rollup; /* default seat_weighted_mean */
    unsigned max_depth;    /* most levels of parents above an account; default 4, 1..16 */
};

enum cw_log_format {
    CW_LOG_LOGFMT = 0,
    CW_LOG_JSON,
};

enum cw_log_level {
    CW_LOG_ERROR = 0,
    CW_LOG_WARN,
    CW_LOG_INFO,
    CW_LOG_DEBUG,
};

#define CW_MAX_RANKS     8
#define CW_RANK_NAME_MAX 16 /* bytes of a rank name, NUL included */

/* One engagement rank: users with at least `min` points in the window hold it (unless a
 * higher one). */
struct cw_rank_band {
    char *name;
    uint32_t min; /* >= 1 */
};

/* Per-user engagement (docs/users.md). enabled: the config has a users section; without it
 * nothing of this is kept or read. */
struct cw_users_config {
    bool enabled;
    uint32_t window_days;                    /* default 30 */
    uint32_t weight[CW_MAX_EVENT_TYPES];     /* points per event, by event type index; 0: none */
    struct cw_rank_band ranks[CW_MAX_RANKS]; /* highest first, min strictly decreasing */
    size_t n_ranks;
    size_t power_rank;    /* index into ranks: users ranked there or above are power users */
    uint32_t max_tracked; /* users with engagement kept per account; default 200 */
};

struct cw_config {
    char *path; /* the file it was loaded from */
    struct cw_kafka_config kafka;
    struct cw_redis_config redis;
    char *timezone;            /* IANA name, validated */
    int64_t lateness_ms;       /* default 2d */
    int64_t max_clock_skew_ms; /* default 15m */
    int64_t sweep_interval_ms; /* default 5m: every account rescored once per interval */
    int64_t max_silence_ms;    /* default 90d: the longest `churnwatch silence --for` */
    struct cw_window *windows;
    size_t n_windows;
    uint32_t longest_window_days;
    struct cw_input_config input;
    struct cw_metric *metrics; /* built-ins first, then configured metrics */
    size_t n_metrics;
    struct cw_event_type *event_types;
    size_t n_event_types;
    struct cw_score_config score;
    struct cw_rule *rules;
    size_t n_rules;
    struct cw_segment *segments;
    size_t n_segments;
    struct cw_scores_config scores;
    struct cw_hierarchy_config hierarchy;
    struct cw_users_config users;
    char *http_listen; /* default "127.0.0.1:9464" */
    enum cw_log_level log_level;
    enum cw_log_format log_format;
};

/* Environment lookup used for the overrides of docs/configuration.md; tests pass their own. */
typedef const char *(*cw_getenv_fn)(const char *name);

/*
 * Load, validate and return a configuration from the YAML file at path, then apply
 * the environment overrides (CHURNWATCH_KAFKA_BROKERS, CHURNWATCH_REDIS_URL,
 * CHURNWATCH_LOG_LEVEL, ...) read through getenv_fn (NULL: no overrides), and resolve the
 * secrets kept out of the file (config_secret_sources.c): the *_file keys, the
 * CHURNWATCH_REDIS_PASSWORD / CHURNWATCH_KAFKA_<PROPERTY> variables and their _FILE forms,
 * relative paths as systemd credentials in $CREDENTIALS_DIRECTORY (read through getenv_fn
 * too: with NULL, a relative path is an error). Secrets read are in cfg->redis.password and
 * in cfg->kafka.properties under the property's own name.
 *
 * On error NULL is returned, nothing else is changed, and errs holds one
 * "file:line:col: message" line per problem found ('\n'-separated, truncated to
 * errsize). The caller owns the result and frees it with cw_config_free().
 */
struct cw_config *cw_config_load(const char *path, cw_getenv_fn getenv_fn, char *errs,
                                 size_t errsize);

/* As cw_config_load, from a buffer; name is used in error messages. */
struct cw_config *cw_config_load_buffer(const char *name, const char *yaml, size_t len,
                                        cw_getenv_fn getenv_fn, char *errs, size_t errsize);

/*
 * Secrets in a configuration (config_secrets.c). cw_config_load refuses a file that holds
 * one (a password in redis.url, a secret librdkafka property) while it is readable by
 * group or others: move the secret to a *_file key or the environment, or chmod 600.
 */
/* "sasl.password", "ssl.key.password"... (not "sasl.password_file": a path) */
bool cw_config_property_is_secret(const char *name);
bool cw_url_has_password(const char *url); /* scheme://user:pass@host... */
/* True when cfg holds a secret; what names it and fix says where else it may live (never
 * its value). */
bool cw_config_secret_in(const struct cw_config *cfg, char *what, size_t whatsize, char *fix,
                         size_t fixsize);

/* Suffix of a key naming the file that holds a secret: redis.password_file,
 * kafka.properties.sasl.password_file. */
#define CW_SECRET_FILE_SUFFIX "_file"

/*
 * The environment variable of a librdkafka secret property: "CHURNWATCH_KAFKA_" and the
 * name upper-cased with '.' as '_' (sasl.password: CHURNWATCH_KAFKA_SASL_PASSWORD).
 * Only librdkafka's own secret properties have one (cw_kafka_secret_properties). Returns
 * false (out "") for any other name.
 */
bool cw_kafka_secret_env_name(const char *property, char *out, size_t size);
/* librdkafka's secret properties, NULL-terminated: sasl.password, ssl.key.password, ... */
extern const char *const cw_kafka_secret_properties[];

/* cw_config_free(NULL) is a no-op. */
void cw_config_free(struct cw_config *cfg);

/* Parse a duration such as "90s", "15m", "36h", "14d" into milliseconds.
 * Returns 0 on success, -1 when the text is not a positive whole number followed by
 * one of s, m, h, d (or is "0"), or would overflow. */
int cw_duration_parse(const char *text, int64_t *out_ms);

/* A duration as a person reads it: its largest unit and the next non-zero one among
 * d, h, m, s, ms ("8d 2h", "15m 1ms", "42s", "0ms"); smaller units are dropped
 * (truncated). Negative values get a leading '-'. out needs CW_DURATION_TEXT_MAX bytes. */
#define CW_DURATION_TEXT_MAX 48
void cw_duration_format(int64_t ms, char out[CW_DURATION_TEXT_MAX]);

/* Lookups by name; -1 when absent. */
int cw_config_metric_index(const struct cw_config *cfg, const char *name);

/* Whether metric m is power_users or ranked_users: counted from the users' engagement
 * (docs/users.md), read by score measures only. */
bool cw_config_metric_counts_users(const struct cw_config *cfg, int m);

/* Whether metric m is one the config has: every metric but those two without a users
 * section (what check-config counts and error messages list). */
bool cw_config_metric_in_use(const struct cw_config *cfg, int m);

/* True when a metric of cfg has values (an event type with `value` feeds it). */
bool cw_config_has_values(const struct cw_config *cfg);

/* True when a rule of cfg judges an account's children (children_at_risk). */
bool cw_config_has_parent_rules(const struct cw_config *cfg);
int cw_config_window_index(const struct cw_config *cfg, const char *name);
int cw_config_event_type_index(const struct cw_config *cfg, const char *name);
int cw_config_segment_index(const struct cw_config *cfg, const char *name);

/* The effective params of rule r for an account in segment (NULL or unknown segment:
 * the rule's own params). */
const struct cw_rule_params *cw_config_rule_params(const struct cw_config *cfg, size_t r,
                                                   const char *segment);

/* The config names of a rule kind and a severity ("unknown" out of range); the tables,
 * and the lookups from a name, are in churnwatch/enum_names.h. */
const char *cw_rule_kind_name(enum cw_rule_kind kind);
const char *cw_severity_name(enum cw_severity sev);

#endif /* CHURNWATCH_CONFIG_H */
