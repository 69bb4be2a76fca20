/* crash_point.c - the CW_DEBUG_CRASH_AT test hook (see crash_point.h) */
#include "crash_point.h"

#include <stdlib.h>
#include <string.h>

void cw_crash_point(const char *point)
{
    static unsigned long hits;
    const char *spec = getenv("CW_DEBUG_CRASH_AT");
    size_t len = strlen(point);
    if (!spec || strncmp(spec, point, len) != 0 || spec[len] != ':')
        return;
    if (++hits == strtoul(spec + len + 1, NULL, 10))
        abort();
}
