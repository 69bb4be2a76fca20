/* crash_point.c - the CW_DEBUG_CRASH_AT, CW_DEBUG_STALL_AT and CW_DEBUG_HOLD_AT test hooks
 * (see crash_point.h) */
#include "crash_point.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Whether spec (a variable's value, NULL when unset) is "POINT:N" and this is the Nth pass
 * of point (counted in *hits). */
static bool nth_pass(const char *spec, const char *point, _Atomic unsigned long *hits)
{
    size_t len = strlen(point);
    if (!spec || strncmp(spec, point, len) != 0 || spec[len] != ':')
        return false;
    return atomic_fetch_add(hits, 1) + 1 == strtoul(spec + len + 1, NULL, 10);
}

void cw_crash_point(const char *point)
{
    static _Atomic unsigned long hits; /* lanes pass it from their threads */
    if (nth_pass(getenv("CW_DEBUG_CRASH_AT"), point, &hits))
        abort();
}

void cw_stall_point(const char *point)
{
    static _Atomic unsigned long hits, holds;
    if (nth_pass(getenv("CW_DEBUG_STALL_AT"), point, &hits))
        raise(SIGSTOP);
    const char *until = getenv("CW_DEBUG_HOLD_UNTIL");
    if (!until || !nth_pass(getenv("CW_DEBUG_HOLD_AT"), point, &holds))
        return;
    cw_log_warn("test hook: thread held", "point=%s until=%s", point, until);
    const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
    while (access(until, F_OK) != 0)
        nanosleep(&tick, NULL);
    cw_log_warn("test hook: thread released", "point=%s", point);
}
