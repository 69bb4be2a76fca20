/* config_restart.h - the configuration keys read only at start, kept across a reload */
#ifndef CHURNWATCH_CONFIG_RESTART_H
#define CHURNWATCH_CONFIG_RESTART_H

#include <stddef.h>

#include "churnwatch/config.h"

/*
 * After a reload, keep in next the running values of the keys the daemon reads only at
 * start (the whole kafka and redis sections, http.listen, scores.topic:
 * docs/configuration.md, "Reload"), so that everything reading the new configuration sees the
 * values actually in use, a set validated together. The two configurations exchange those values:
 * running then holds the file's (and is to be freed). Returns how many keys differ; their names,
 * comma-separated in the order of the documentation, go to names (truncated to namesize, "" when
 * none).
 */
size_t cw_config_keep_start_keys(struct cw_config *next, struct cw_config *running, char *names,
                                 size_t namesize);

#endif /* CHURNWATCH_CONFIG_RESTART_H */
