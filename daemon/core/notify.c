/* notify.c - sd_notify wrappers: the daemon's readiness, reload, stop, status, watchdog */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>

#include "wall_clock.h"

#ifdef CW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

bool cw_notify_supported(void)
{
    return true;
}

void cw_notify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void cw_notify_reloading(void)
{
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
               (unsigned long long)cw_mono_us());
}

void cw_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void cw_notify_status(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", text);
}

void cw_notify_watchdog(void)
{
    sd_notify(0, "WATCHDOG=1");
}

int64_t cw_notify_watchdog_ms(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return (int64_t)(usec / 1000);
}

#else /* no libsystemd: documented no-ops */

bool cw_notify_supported(void)
{
    return false;
}

void cw_notify_ready(const char *status)
{
    (void)status;
}

void cw_notify_reloading(void)
{
}

void cw_notify_stopping(void)
{
}

void cw_notify_status(const char *fmt, ...)
{
    (void)fmt;
}

void cw_notify_watchdog(void)
{
}

int64_t cw_notify_watchdog_ms(void)
{
    return 0;
}

#endif
