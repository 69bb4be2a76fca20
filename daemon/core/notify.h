/* notify.h - the systemd notification protocol (sd_notify) for churnwatchd
 *
 * Built with libsystemd (pkg-config libsystemd) these wrap sd_notify(3) and
 * sd_watchdog_enabled(3); built without it (CW_HAVE_SYSTEMD undefined) every call is a
 * no-op and cw_notify_watchdog_ms() returns 0, so the daemon runs the same outside
 * systemd. Outside a Type=notify unit (no NOTIFY_SOCKET) libsystemd itself does nothing.
 */
#ifndef CW_NOTIFY_H
#define CW_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* true when built with libsystemd */
bool cw_notify_supported(void);

/* READY=1 with a STATUS= line: startup finished (churnwatchd: consuming). */
void cw_notify_ready(const char *status);

/* RELOADING=1 (+ MONOTONIC_USEC=): a configuration reload started; cw_notify_ready ends it. */
void cw_notify_reloading(void);

/* STOPPING=1: graceful shutdown started. */
void cw_notify_stopping(void);

/* STATUS=<text>: one line shown by `systemctl status`. */
void cw_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1: the main loop is alive. */
void cw_notify_watchdog(void);

/* The watchdog interval systemd asked for (WATCHDOG_USEC), in ms; 0 when none. */
int64_t cw_notify_watchdog_ms(void);

#endif
