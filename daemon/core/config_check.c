/* config_check.c - the shared check-config report of churnwatch and churnwatchd */
#include <stdlib.h>
#include <string.h>

#include "config_check.h"

#define ERRS_SIZE (64u * 1024u)

const char *cw_process_getenv(const char *name)
{
    return getenv(name);
}

const char *cw_process_getenv_no_overrides(const char *name)
{
    return strncmp(name, "CHURNWATCH_", 11) == 0 ? NULL : getenv(name);
}

void cw_config_summary(const struct cw_config *cfg, char *buf, size_t size)
{
    size_t measures = 0;
    for (size_t c = 0; c < cfg->score.n_components; c++)
        measures += cfg->score.components[c].n_measures;
    snprintf(buf, size,
             "%zu rules, %zu measures in %zu components, %zu event types, %zu metrics, "
             "%zu windows, %zu segments, timezone %s",
             cfg->n_rules, measures, cfg->score.n_components, cfg->n_event_types, cfg->n_metrics,
             cfg->n_windows, cfg->n_segments, cfg->timezone);
}

int cw_config_check(const char *path, bool use_env, FILE *out, FILE *err)
{
    char *errs = malloc(ERRS_SIZE);
    char summary[256];
    if (!errs) {
        fprintf(err, "%s: out of memory\n", path);
        return 1;
    }
    struct cw_config *cfg = cw_config_load(
        path, use_env ? cw_process_getenv : cw_process_getenv_no_overrides, errs, ERRS_SIZE);
    if (!cfg) {
        fprintf(err, "%s\n", errs);
        free(errs);
        return 1;
    }
    cw_config_summary(cfg, summary, sizeof summary);
    fprintf(out, "%s: ok (%s)\n", path, summary);
    cw_config_free(cfg);
    free(errs);
    return 0;
}
