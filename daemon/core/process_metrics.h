/* process_metrics.h - the standard process_* series of /metrics, read from /proc */
#ifndef CHURNWATCH_PROCESS_METRICS_H
#define CHURNWATCH_PROCESS_METRICS_H

#include <stdio.h>

/* Write process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and
 * process_max_fds (as the Prometheus client libraries define them) to f. A series whose
 * source cannot be read is left out (docs/metrics.md). */
void cw_process_metrics_render(FILE *f);

#endif /* CHURNWATCH_PROCESS_METRICS_H */
