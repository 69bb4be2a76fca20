/* config_check.h - load a config file and report the result for people (check modes) */
#ifndef CHURNWATCH_CONFIG_CHECK_H
#define CHURNWATCH_CONFIG_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "churnwatch/config.h"

/* getenv as a cw_getenv_fn, for the CHURNWATCH_* overrides. */
const char *cw_process_getenv(const char *name);
/* getenv without the CHURNWATCH_* overrides: what --no-env loads with (a relative secret
 * path still finds $CREDENTIALS_DIRECTORY). */
const char *cw_process_getenv_no_overrides(const char *name);

/*
 * Load path (with the environment overrides and secrets when use_env) and report: on success one
 * "PATH: ok (N rules, ...)" line on out and 0; on failure each "file:line:col: message"
 * line on err and 1.
 */
int cw_config_check(const char *path, bool use_env, FILE *out, FILE *err);

/* One-line summary of a loaded config ("5 rules, 8 measures in 3 components, ..."). */
void cw_config_summary(const struct cw_config *cfg, char *buf, size_t size);

#endif /* CHURNWATCH_CONFIG_CHECK_H */
