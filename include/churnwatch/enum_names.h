/* enum_names.h - the one table of names of each configuration enum (lib/enum_names.c),
 * read in both directions: by the config loader, the alert encoder, the logger and the CLI */
#ifndef CHURNWATCH_ENUM_NAMES_H
#define CHURNWATCH_ENUM_NAMES_H

#include <stddef.h>

#include "churnwatch/config.h"

/* The names of one enum, indexed by value: the values are 0..n-1. */
struct cw_enum_names {
    const char *const *names;
    size_t n;
};

extern const struct cw_enum_names cw_preset_names;       /* enum cw_preset */
extern const struct cw_enum_names cw_unknown_type_names; /* enum cw_unknown_type_policy */
extern const struct cw_enum_names cw_log_level_names;    /* enum cw_log_level */
extern const struct cw_enum_names cw_log_format_names;   /* enum cw_log_format */
extern const struct cw_enum_names cw_severity_names;     /* enum cw_severity */
extern const struct cw_enum_names cw_rule_kind_names;    /* enum cw_rule_kind */
extern const struct cw_enum_names cw_direction_names;    /* enum cw_direction */
extern const struct cw_enum_names cw_aggregate_names;    /* enum cw_aggregate */
extern const struct cw_enum_names cw_rollup_names;       /* enum cw_rollup */

/* The name of value, or "unknown" when it is out of range. */
const char *cw_enum_name(const struct cw_enum_names *t, int value);

/* The value named name (exact, case-sensitive), or -1. */
int cw_enum_value(const struct cw_enum_names *t, const char *name);

/* The names in value order, ", "-separated, into buf (truncated to size; "" if size is
 * 0). Returns buf. */
char *cw_enum_list(const struct cw_enum_names *t, char *buf, size_t size);

#endif /* CHURNWATCH_ENUM_NAMES_H */
