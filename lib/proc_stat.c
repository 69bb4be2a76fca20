/* proc_stat.c - parsing /proc/self/stat and /proc/stat into the process_* metric values */
#include "churnwatch/proc_stat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fields of /proc/[pid]/stat (proc(5), numbered from 1) after "pid (comm)": field 3 is the
 * first token after the command's closing parenthesis. */
#define F_UTIME     14
#define F_STIME     15
#define F_STARTTIME 22
#define F_VSIZE     23
#define F_RSS       24

int cw_proc_stat_parse(const char *line, long ticks_per_s, long page_size, uint64_t boot_time_s,
                       struct cw_proc_sample *out, char *err, size_t errsize)
{
    if (ticks_per_s <= 0 || page_size <= 0) {
        snprintf(err, errsize, "proc stat: clock ticks and page size must be positive");
        return -1;
    }
    const char *p = strrchr(line, ')');
    if (!p || !strchr(line, '(')) {
        snprintf(err, errsize, "proc stat: no (command) field");
        return -1;
    }
    p++;
    unsigned long long v[F_RSS + 1] = {0};
    int field = 3;
    while (field <= F_RSS) {
        while (*p == ' ')
            p++;
        if (*p == '\0' || *p == '\n') {
            snprintf(err, errsize, "proc stat: %d fields, at least %d expected", field - 1, F_RSS);
            return -1;
        }
        if (field == 3) { /* the state, a letter */
            while (*p && *p != ' ')
                p++;
            field++;
            continue;
        }
        char *end;
        errno = 0;
        if (*p == '-') { /* signed fields (priority, nice...): not used, skipped */
            strtoll(p, &end, 10);
            v[field] = 0;
        } else {
            v[field] = strtoull(p, &end, 10);
        }
        if (end == p || errno != 0 || (*end != ' ' && *end != '\0' && *end != '\n')) {
            snprintf(err, errsize, "proc stat: field %d is not a number", field);
            return -1;
        }
        p = end;
        field++;
    }
    out->cpu_seconds = (double)(v[F_UTIME] + v[F_STIME]) / (double)ticks_per_s;
    out->rss_bytes = (uint64_t)v[F_RSS] * (uint64_t)page_size;
    out->vsize_bytes = (uint64_t)v[F_VSIZE];
    out->start_time_s = (double)boot_time_s + (double)v[F_STARTTIME] / (double)ticks_per_s;
    return 0;
}

int cw_proc_btime_parse(const char *text, uint64_t *boot_time_s, char *err, size_t errsize)
{
    for (const char *line = text; line && *line;) {
        if (strncmp(line, "btime ", 6) == 0) {
            char *end;
            errno = 0;
            unsigned long long b = strtoull(line + 6, &end, 10);
            if (end == line + 6 || errno != 0 || (*end != '\n' && *end != '\0')) {
                snprintf(err, errsize, "proc stat: btime is not a number");
                return -1;
            }
            *boot_time_s = (uint64_t)b;
            return 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    snprintf(err, errsize, "proc stat: no btime line");
    return -1;
}
