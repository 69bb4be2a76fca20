/* config_lookup.c - name lookups over a loaded configuration (enum names: enum_names.c) */
#include <string.h>

#include "churnwatch/config.h"

int cw_config_metric_index(const struct cw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_metrics; i++)
        if (strcmp(cfg->metrics[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool cw_config_metric_counts_users(const struct cw_config *cfg, int m)
{
    return (m == CW_METRIC_POWER_USERS || m == CW_METRIC_RANKED_USERS) &&
           (size_t)m < cfg->n_metrics && cfg->metrics[m].builtin;
}

bool cw_config_metric_in_use(const struct cw_config *cfg, int m)
{
    return cfg->users.enabled || !cw_config_metric_counts_users(cfg, m);
}

int cw_config_window_index(const struct cw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_windows; i++)
        if (strcmp(cfg->windows[i].name, name) == 0)
            return (int)i;
    return -1;
}

int cw_config_event_type_index(const struct cw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_event_types; i++) {
        const struct cw_event_type *t = &cfg->event_types[i];
        if (strcmp(t->name, name) == 0)
            return (int)i;
        for (size_t a = 0; a < t->aliases.n; a++)
            if (strcmp(t->aliases.items[a], name) == 0)
                return (int)i;
    }
    return -1;
}

int cw_config_segment_index(const struct cw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_segments; i++)
        if (strcmp(cfg->segments[i].name, name) == 0)
            return (int)i;
    return -1;
}

const struct cw_rule_params *cw_config_rule_params(const struct cw_config *cfg, size_t r,
                                                   const char *segment)
{
    if (segment && *segment) {
        int s = cw_config_segment_index(cfg, segment);
        if (s >= 0)
            return &cfg->segments[s].rule_params[r];
    }
    return &cfg->rules[r].params;
}

bool cw_config_has_values(const struct cw_config *cfg)
{
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (cfg->metrics[m].valued)
            return true;
    return false;
}

bool cw_config_has_parent_rules(const struct cw_config *cfg)
{
    for (size_t r = 0; r < cfg->n_rules; r++)
        if (cfg->rules[r].kind == CW_RULE_CHILDREN_AT_RISK)
            return true;
    return false;
}
