/* enum_names.c - the name tables of the configuration enums, written once, and their
 * lookups in both directions (enum_names.h); cw_preset_name, cw_rule_kind_name and
 * cw_severity_name (declared beside their enums) read the same tables */
#include "churnwatch/enum_names.h"

#include <stdio.h>
#include <string.h>

#include "churnwatch/event.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(a)                                                                                   \
    {                                                                                              \
        .names = (a), .n = N(a)                                                                    \
    }

static const char *const preset[] = {
    [CW_PRESET_NATIVE] = "native",
    [CW_PRESET_SEGMENT] = "segment",
    [CW_PRESET_CLOUDEVENTS] = "cloudevents",
};
static const char *const unknown_type[] = {
    [CW_UNKNOWN_IGNORE] = "ignore",
    [CW_UNKNOWN_DLQ] = "dlq",
};
static const char *const log_level[] = {
    [CW_LOG_ERROR] = "error",
    [CW_LOG_WARN] = "warn",
    [CW_LOG_INFO] = "info",
    [CW_LOG_DEBUG] = "debug",
};
static const char *const log_format[] = {
    [CW_LOG_LOGFMT] = "logfmt",
    [CW_LOG_JSON] = "json",
};
static const char *const severity[] = {
    [CW_SEV_INFO] = "info",
    [CW_SEV_WARNING] = "warning",
    [CW_SEV_CRITICAL] = "critical",
};
static const char *const rule_kind[] = {
    [CW_RULE_SCORE_BELOW] = "score_below",
    [CW_RULE_SCORE_DROP] = "score_drop",
    [CW_RULE_INACTIVE] = "inactive",
    [CW_RULE_ONBOARDING] = "onboarding",
    [CW_RULE_RATIO_BELOW] = "ratio_below",
    [CW_RULE_RENEWAL] = "renewal",
    [CW_RULE_SCORE_ABOVE] = "score_above",
    [CW_RULE_RATIO_ABOVE] = "ratio_above",
    [CW_RULE_CHILDREN_AT_RISK] = "children_at_risk",
    [CW_RULE_CHAMPION_QUIET] = "champion_quiet",
    [CW_RULE_POWER_USERS_BELOW] = "power_users_below",
};
static const char *const direction[] = {
    [CW_DIR_RISK] = "risk",
    [CW_DIR_OPPORTUNITY] = "opportunity",
};
static const char *const aggregate[] = {
    [CW_AGG_COUNT] = "count", [CW_AGG_SUM] = "sum",   [CW_AGG_AVG] = "avg", [CW_AGG_MIN] = "min",
    [CW_AGG_MAX] = "max",     [CW_AGG_LAST] = "last", [CW_AGG_NPS] = "nps",
};
static const char *const rollup[] = {
    [CW_ROLLUP_MEAN] = "mean",
    [CW_ROLLUP_SEAT_WEIGHTED_MEAN] = "seat_weighted_mean",
    [CW_ROLLUP_MINIMUM] = "minimum",
};

const struct cw_enum_names cw_preset_names = TABLE(preset);
const struct cw_enum_names cw_unknown_type_names = TABLE(unknown_type);
const struct cw_enum_names cw_log_level_names = TABLE(log_level);
const struct cw_enum_names cw_log_format_names = TABLE(log_format);
const struct cw_enum_names cw_severity_names = TABLE(severity);
const struct cw_enum_names cw_rule_kind_names = TABLE(rule_kind);
const struct cw_enum_names cw_direction_names = TABLE(direction);
const struct cw_enum_names cw_aggregate_names = TABLE(aggregate);
const struct cw_enum_names cw_rollup_names = TABLE(rollup);

const char *cw_enum_name(const struct cw_enum_names *t, int value)
{
    return value >= 0 && (size_t)value < t->n && t->names[value] ? t->names[value] : "unknown";
}

int cw_enum_value(const struct cw_enum_names *t, const char *name)
{
    for (size_t i = 0; name && i < t->n; i++)
        if (t->names[i] && strcmp(t->names[i], name) == 0)
            return (int)i;
    return -1;
}

char *cw_enum_list(const struct cw_enum_names *t, char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < t->n && len + 1 < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", t->names[i]);
        if (n < 0)
            break;
        len = (size_t)n >= size - len ? size - 1 : len + (size_t)n;
    }
    return buf;
}

const char *cw_preset_name(enum cw_preset p)
{
    return cw_enum_name(&cw_preset_names, (int)p);
}

int cw_preset_from_name(const char *name)
{
    return cw_enum_value(&cw_preset_names, name);
}

const char *cw_rule_kind_name(enum cw_rule_kind kind)
{
    return cw_enum_name(&cw_rule_kind_names, (int)kind);
}

const char *cw_severity_name(enum cw_severity sev)
{
    return cw_enum_name(&cw_severity_names, (int)sev);
}
