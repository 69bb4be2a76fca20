/* proc_stat.h - the standard process_* metrics from the text of /proc/self/stat and /proc/stat */
#ifndef CHURNWATCH_PROC_STAT_H
#define CHURNWATCH_PROC_STAT_H

#include <stddef.h>
#include <stdint.h>

/* What the Prometheus client libraries export as process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes, process_start_time_seconds. */
struct cw_proc_sample {
    double cpu_seconds;   /* user + system time */
    uint64_t rss_bytes;   /* resident set size */
    uint64_t vsize_bytes; /* virtual memory size */
    double start_time_s;  /* since the Unix epoch */
};

/*
 * Parse one /proc/[pid]/stat line (proc(5)): utime, stime and starttime in clock ticks
 * (ticks_per_s, sysconf(_SC_CLK_TCK)), vsize in bytes, rss in pages (page_size bytes);
 * boot_time_s is /proc/stat's btime. The command name may hold spaces and parentheses.
 * 0, or -1 with err.
 */
int cw_proc_stat_parse(const char *line, long ticks_per_s, long page_size, uint64_t boot_time_s,
                       struct cw_proc_sample *out, char *err, size_t errsize);

/* The boot time (seconds since the epoch) from the text of /proc/stat: its "btime N" line.
 * 0, or -1 with err. */
int cw_proc_btime_parse(const char *text, uint64_t *boot_time_s, char *err, size_t errsize);

#endif /* CHURNWATCH_PROC_STAT_H */
