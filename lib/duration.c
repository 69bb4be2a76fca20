/* duration.c - config durations such as "90s", "15m", "36h", "14d": parsing, and formatting for
 * people ("8d 2h") */
#include <stdint.h>
#include <stdio.h>
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

void cw_duration_format(int64_t ms, char out[CW_DURATION_TEXT_MAX])
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"d", CW_MS_PER_DAY},
                 {"h", 3600 * CW_MS_PER_SECOND},
                 {"m", 60 * CW_MS_PER_SECOND},
                 {"s", CW_MS_PER_SECOND},
                 {"ms", 1}};
    const size_t n_units = sizeof units / sizeof units[0];
    /* the magnitude as unsigned, so that INT64_MIN has one too */
    uint64_t rest = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    size_t pos = 0, shown = 0;
    if (ms < 0)
        out[pos++] = '-';
    for (size_t u = 0; u < n_units && shown < 2; u++) {
        uint64_t q = rest / units[u].ms;
        rest %= units[u].ms;
        if (q == 0)
            continue;
        int w = snprintf(out + pos, CW_DURATION_TEXT_MAX - pos, "%s%llu%s", shown ? " " : "",
                         (unsigned long long)q, units[u].name);
        if (w < 0 || (size_t)w >= CW_DURATION_TEXT_MAX - pos)
            break;
        pos += (size_t)w;
        shown++;
    }
    if (shown == 0)
        snprintf(out, CW_DURATION_TEXT_MAX, "0ms");
    else
        out[pos] = '\0';
}
