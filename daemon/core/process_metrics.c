/* process_metrics.c - the standard process_* series, read from /proc/self and getrlimit */
#include "process_metrics.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "churnwatch/proc_stat.h"

/* The whole of a small /proc file into buf (NUL-terminated); 0 or -1. */
static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    int bad = ferror(f);
    fclose(f);
    buf[n] = '\0';
    return bad || n == 0 ? -1 : 0;
}

/* Entries of /proc/self/fd, its own directory descriptor excluded; -1 when unreadable. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void cw_process_metrics_render(FILE *f)
{
    static char stat[8192]; /* only the HTTP thread renders */
    char line[1024], err[128];
    uint64_t btime = 0;
    struct cw_proc_sample s;
    if (read_text("/proc/stat", stat, sizeof stat) == 0 &&
        cw_proc_btime_parse(stat, &btime, err, sizeof err) == 0 &&
        read_text("/proc/self/stat", line, sizeof line) == 0 &&
        cw_proc_stat_parse(line, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), btime, &s, err,
                           sizeof err) == 0) {
        family(f, "process_cpu_seconds_total", "counter",
               "Total user and system CPU time spent in seconds.");
        fprintf(f, "process_cpu_seconds_total %.2f\n", s.cpu_seconds);
        family(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        fprintf(f, "process_resident_memory_bytes %llu\n", (unsigned long long)s.rss_bytes);
        family(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        fprintf(f, "process_virtual_memory_bytes %llu\n", (unsigned long long)s.vsize_bytes);
        family(f, "process_start_time_seconds", "gauge",
               "Start time of the process since unix epoch in seconds.");
        fprintf(f, "process_start_time_seconds %.2f\n", s.start_time_s);
    }
    long fds = open_fds();
    if (fds >= 0) {
        family(f, "process_open_fds", "gauge", "Number of open file descriptors.");
        fprintf(f, "process_open_fds %ld\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        family(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        if (rl.rlim_cur == RLIM_INFINITY)
            fputs("process_max_fds +Inf\n", f);
        else
            fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}
