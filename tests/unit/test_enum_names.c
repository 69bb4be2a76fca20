/* test_enum_names.c - the one name table of each configuration enum: the documented
 * names, round trips in both directions, the typed lookups and the config loader reading
 * the same tables */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/enum_names.h"
#include "churnwatch/event.h"

struct expected {
    const struct cw_enum_names *table;
    const char *list; /* the documented names in value order (docs/configuration.md) */
};

static const struct expected tables[] = {
    {&cw_preset_names, "native, segment, cloudevents"},
    {&cw_unknown_type_names, "ignore, dlq"},
    {&cw_log_level_names, "error, warn, info, debug"},
    {&cw_log_format_names, "logfmt, json"},
    {&cw_severity_names, "info, warning, critical"},
    {&cw_rule_kind_names,
     "score_below, score_drop, inactive, onboarding, ratio_below, renewal, "
     "score_above, ratio_above, children_at_risk, champion_quiet, power_users_below"},
    {&cw_rollup_names, "mean, seat_weighted_mean, minimum"},
};

Test(enum_names, each_table_holds_the_documented_names_in_value_order)
{
    char buf[256];
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        cr_expect_str_eq(cw_enum_list(tables[i].table, buf, sizeof buf), tables[i].list);
}

Test(enum_names, name_to_value_to_name_round_trips)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const struct cw_enum_names *t = tables[i].table;
        cr_assert_gt(t->n, 0);
        for (size_t v = 0; v < t->n; v++) {
            const char *name = cw_enum_name(t, (int)v);
            cr_assert_not_null(t->names[v]);
            cr_expect_str_eq(name, t->names[v]);
            cr_expect_eq(cw_enum_value(t, name), (int)v, "%s", name);
        }
    }
}

Test(enum_names, out_of_range_values_and_unknown_names)
{
    cr_expect_str_eq(cw_enum_name(&cw_severity_names, -1), "unknown");
    cr_expect_str_eq(cw_enum_name(&cw_severity_names, (int)cw_severity_names.n), "unknown");
    cr_expect_eq(cw_enum_value(&cw_severity_names, "fatal"), -1);
    cr_expect_eq(cw_enum_value(&cw_severity_names, "Critical"), -1, "names are case-sensitive");
    cr_expect_eq(cw_enum_value(&cw_severity_names, ""), -1);
    cr_expect_eq(cw_enum_value(&cw_severity_names, NULL), -1);
}

Test(enum_names, the_list_is_truncated_to_the_buffer)
{
    char buf[8];
    cr_expect_str_eq(cw_enum_list(&cw_log_level_names, buf, sizeof buf), "error, ");
    char one[1] = {'x'};
    cr_expect_str_eq(cw_enum_list(&cw_log_level_names, one, sizeof one), "");
}

Test(enum_names, typed_lookups_read_the_same_tables)
{
    cr_expect_str_eq(cw_severity_name(CW_SEV_INFO), "info");
    cr_expect_str_eq(cw_severity_name(CW_SEV_CRITICAL), "critical");
    cr_expect_str_eq(cw_severity_name((enum cw_severity)7), "unknown");
    cr_expect_str_eq(cw_rule_kind_name(CW_RULE_SCORE_DROP), "score_drop");
    cr_expect_str_eq(cw_rule_kind_name(CW_RULE_RATIO_BELOW), "ratio_below");
    cr_expect_str_eq(cw_rule_kind_name(CW_RULE_RENEWAL), "renewal");
    cr_expect_str_eq(cw_rule_kind_name(CW_RULE_RATIO_ABOVE), "ratio_above");
    cr_expect_str_eq(cw_rule_kind_name(CW_RULE_CHILDREN_AT_RISK), "children_at_risk");
    cr_expect_str_eq(cw_enum_name(&cw_direction_names, CW_DIR_OPPORTUNITY), "opportunity");
    cr_expect_str_eq(cw_preset_name(CW_PRESET_CLOUDEVENTS), "cloudevents");
    cr_expect_eq(cw_preset_from_name("segment"), CW_PRESET_SEGMENT);
    cr_expect_eq(cw_preset_from_name("kafka"), -1);
    cr_expect_eq(cw_enum_value(&cw_log_level_names, "debug"), CW_LOG_DEBUG);
    cr_expect_eq(cw_enum_value(&cw_log_format_names, "json"), CW_LOG_JSON);
    cr_expect_eq(cw_enum_value(&cw_unknown_type_names, "dlq"), CW_UNKNOWN_DLQ);
}

Test(enum_names, every_named_preset_has_field_pointers)
{
    for (size_t p = 0; p < cw_preset_names.n; p++)
        for (int f = 0; f < CW_FIELD__COUNT; f++) {
            const char *const *ptrs;
            cr_expect_gt(cw_preset_pointers((enum cw_preset)p, (enum cw_field)f, &ptrs), 0, "%s %s",
                         cw_preset_names.names[p], cw_field_name((enum cw_field)f));
        }
}

/* ---- the config loader reads the same tables ---- */

#define MIN                                                                                        \
    "score:\n"                                                                                     \
    "  components:\n"                                                                              \
    "    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n"

static char errs[4096];

static struct cw_config *load(const char *yaml)
{
    return cw_config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, errs, sizeof errs);
}

Test(enum_names, every_severity_name_is_a_rule_severity_and_a_touch_by_severity_key)
{
    for (size_t v = 0; v < cw_severity_names.n; v++) {
        const char *name = cw_severity_names.names[v];
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 MIN "alerts:\n"
                     "  touch_by_severity: {%s: own-%zu}\n"
                     "  rules:\n"
                     "    - {name: r, kind: score_below, enter: 10, exit: 20, severity: %s}\n",
                 name, v, name);
        struct cw_config *cfg = load(yaml);
        cr_assert_not_null(cfg, "%s: %s", name, errs);
        char touch[32];
        snprintf(touch, sizeof touch, "own-%zu", v);
        cr_expect_eq(cfg->rules[0].params.severity, (enum cw_severity)v, "%s", name);
        cr_expect_str_eq(cfg->rules[0].params.touch, touch, "%s", name);
        cw_config_free(cfg);
    }
}

Test(enum_names, every_preset_unknown_type_level_and_format_name_loads)
{
    for (size_t p = 0; p < cw_preset_names.n; p++)
        for (size_t u = 0; u < cw_unknown_type_names.n; u++)
            for (size_t l = 0; l < cw_log_level_names.n; l++)
                for (size_t f = 0; f < cw_log_format_names.n; f++) {
                    char yaml[1024];
                    snprintf(yaml, sizeof yaml,
                             MIN "input: {preset: %s, unknown_types: %s}\n"
                                 "log: {level: %s, format: %s}\n",
                             cw_preset_names.names[p], cw_unknown_type_names.names[u],
                             cw_log_level_names.names[l], cw_log_format_names.names[f]);
                    struct cw_config *cfg = load(yaml);
                    cr_assert_not_null(cfg, "%s", errs);
                    cr_expect_eq(cfg->input.preset, (enum cw_preset)p);
                    cr_expect_eq(cfg->input.unknown_types, (enum cw_unknown_type_policy)u);
                    cr_expect_eq(cfg->log_level, (enum cw_log_level)l);
                    cr_expect_eq(cfg->log_format, (enum cw_log_format)f);
                    cw_config_free(cfg);
                }
}

Test(enum_names, an_invalid_name_is_refused_with_the_table_listed)
{
    cr_expect_null(load(MIN "log: {level: verbose}\n"));
    cr_expect(strstr(errs, "invalid value 'verbose'; valid values: error, warn, info, debug"), "%s",
              errs);
    cr_expect_null(load(MIN "alerts:\n  rules:\n    - {name: r, kind: score_under}\n"));
    cr_expect(strstr(errs, "valid values: score_below, score_drop, inactive, onboarding, "
                           "ratio_below, renewal, score_above, ratio_above, children_at_risk"),
              "%s", errs);
}
