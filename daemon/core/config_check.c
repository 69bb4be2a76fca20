/* config_check.c - the shared check-config report of churnwatch and churnwatchd */
#include <stdlib.h>
#include <string.h>

#include "config_check.h"
#include "redis_tls.h"

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
    size_t metrics = 0;
    for (size_t m = 0; m < cfg->n_metrics; m++)
        metrics += cw_config_metric_in_use(cfg, (int)m);
    snprintf(buf, size,
             "%zu rules, %zu measures in %zu components, %zu event types, %zu metrics, "
             "%zu windows, %zu segments, timezone %s%s",
             cfg->n_rules, measures, cfg->score.n_components, cfg->n_event_types, metrics,
             cfg->n_windows, cfg->n_segments, cfg->timezone, cfg->users.enabled ? ", users" : "");
}

/* The redis.tls files of a rediss:// URL load (CA, client certificate and its key). */
static int tls_files_check(const struct cw_config *cfg, const char *path, FILE *err)
{
    const char *url = cfg->redis.url;
    if (!cfg->redis.tls.configured ||
        (strncmp(url, "rediss://", 9) != 0 && strncmp(url, "rediss-cluster://", 17) != 0))
        return 0;
    char why[600];
    struct cw_tls_client *cl = cw_tls_client_new(&cfg->redis.tls, why, sizeof why);
    if (!cl) {
        fprintf(err, "%s: %s\n", path, why);
        return -1;
    }
    cw_tls_client_free(cl);
    return 0;
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
    if (tls_files_check(cfg, path, err) < 0) {
        cw_config_free(cfg);
        free(errs);
        return 1;
    }
    cw_config_summary(cfg, summary, sizeof summary);
    fprintf(out, "%s: ok (%s)\n", path, summary);
    cw_config_free(cfg);
    free(errs);
    return 0;
}
