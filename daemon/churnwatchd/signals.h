/* signals.h - SIGTERM/SIGINT request a stop, SIGHUP a reload; handlers only set flags */
#ifndef CHURNWATCHD_SIGNALS_H
#define CHURNWATCHD_SIGNALS_H

#include <stdbool.h>

/* Install the handlers (and ignore SIGPIPE). 0 or -1 with errno. */
int cw_signals_install(void);

/* True once SIGTERM or SIGINT arrived. */
bool cw_signals_stop_requested(void);

/* True when a SIGHUP arrived since the last call (the request is consumed). */
bool cw_signals_take_reload(void);

#endif /* CHURNWATCHD_SIGNALS_H */
