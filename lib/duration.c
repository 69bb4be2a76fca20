/* duration.c - parsing of config durations such as "90s", "15m", "36h", "14d" */
#include <stdint.h>
#include <string.h>

#include "churnwatch/config.h"

int cw_duration_parse(const char *text, int64_t *out_ms)
{
    int64_t n = 0, unit;
    const char *p = text;

    if (!text || !out_ms)
        return -1;
    if (strcmp(text, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    /* a positive whole number without sign, spaces or leading zeros */
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        int64_t d = *p - '0';
        if (n > (INT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    switch (*p) {
    case 's':
        unit = CW_MS_PER_SECOND;
        break;
    case 'm':
        unit = 60 * CW_MS_PER_SECOND;
        break;
    case 'h':
        unit = 3600 * CW_MS_PER_SECOND;
        break;
    case 'd':
        unit = CW_MS_PER_DAY;
        break;
    default:
        return -1;
    }
    if (p[1] != '\0' || n > INT64_MAX / unit)
        return -1;
    *out_ms = n * unit;
    return 0;
}
