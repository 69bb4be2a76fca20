/* bench_tz.c - ns per cw_tz_day call: live, backfill, cache misses (table, footer rule), glibc */
#define _DEFAULT_SOURCE /* struct tm's tm_gmtoff */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

#define N_STREAM 4000000
#define N_MISS   200000
#define N_OPEN   2000

static uint64_t rng_state = 0x853c49e6748fea9bu;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int64_t sink;

static void run(const char *label, cw_tz *tz, const int64_t *ms, size_t n)
{
    double t0 = now_ns();
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += cw_tz_day(tz, ms[i]);
    double t1 = now_ns();
    sink += acc;
    printf("%-58s %8.1f ns/call  (%zu calls)\n", label, (t1 - t0) / (double)n, n);
}

int main(void)
{
    char err[256];
    cw_tz *ny = cw_tz_open("America/New_York", err, sizeof err);
    cw_tz *tokyo = cw_tz_open("Asia/Tokyo", err, sizeof err);
    if (!ny || !tokyo) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t *ms = malloc(N_STREAM * sizeof *ms);
    if (!ms)
        return 1;
    int64_t dst_end = INT64_C(1793512800000); /* 2026-11-01T06:00Z, New York falls back */

    /* Live: ~46 events/s for 24 h around the DST change, arriving up to 5 minutes late,
     * 1% of them up to 3 days late. */
    int64_t clock = dst_end - 12 * 3600 * INT64_C(1000);
    for (size_t i = 0; i < N_STREAM; i++) {
        clock += 21;
        int64_t late = (int64_t)(rng() % 300000);
        if (rng() % 100 == 0)
            late = (int64_t)(rng() % (3 * (uint64_t)CW_MS_PER_DAY));
        ms[i] = clock - late;
    }
    run("live stream, New York, across the DST change", ny, ms, N_STREAM);
    run("live stream, Tokyo (no transitions since 1951)", tokyo, ms, N_STREAM);

    /* Backfill: 90 days of history in order, spanning the DST change. */
    for (size_t i = 0; i < N_STREAM; i++)
        ms[i] = dst_end - 60 * CW_MS_PER_DAY + (int64_t)i * (90 * CW_MS_PER_DAY / N_STREAM);
    run("backfill, New York, 90 days in order", ny, ms, N_STREAM);

    /* Misses: 16 distinct constant-offset ranges in turn defeat the 4-range cache. 2020-2027
     * lies in the transition table (binary search); 2040-2047 after its last entry (2037),
     * where the footer's TZ string gives the range. */
    for (size_t i = 0; i < N_MISS; i++)
        ms[i] = INT64_C(1577836800000) + (int64_t)(i % 16) * 182 * CW_MS_PER_DAY;
    run("uncached: every call misses, table (16 ranges round-robin)", ny, ms, N_MISS);
    for (size_t i = 0; i < N_MISS; i++)
        ms[i] = INT64_C(2208988800000) + (int64_t)(i % 16) * 182 * CW_MS_PER_DAY;
    run("uncached: every call misses, footer rule (2040-2047)", ny, ms, N_MISS);

    /* glibc localtime_r on the same instants (TZ set once; a library cannot do that). */
    setenv("TZ", ":America/New_York", 1);
    tzset();
    double t0 = now_ns();
    int64_t acc = 0;
    for (size_t i = 0; i < N_MISS; i++) {
        time_t t = (time_t)(ms[i] / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        acc += tm.tm_gmtoff;
    }
    double t1 = now_ns();
    sink += acc;
    printf("%-58s %8.1f ns/call  (%zu calls)\n", "glibc localtime_r, same instants",
           (t1 - t0) / (double)N_MISS, (size_t)N_MISS);

    /* Opening a zone reads and parses its file (config validation, reload). */
    t0 = now_ns();
    for (size_t i = 0; i < N_OPEN; i++) {
        cw_tz *tz = cw_tz_open("America/New_York", err, sizeof err);
        if (!tz)
            return 1;
        cw_tz_free(tz);
    }
    t1 = now_ns();
    printf("%-58s %8.1f us/call  (%d calls)\n", "cw_tz_open(\"America/New_York\") + cw_tz_free",
           (t1 - t0) / 1e3 / N_OPEN, N_OPEN);
    free(ms);
    cw_tz_free(ny);
    cw_tz_free(tokyo);
    return sink == 42 ? 2 : 0;
}
