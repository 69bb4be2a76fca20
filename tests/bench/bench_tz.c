/* bench_tz.c - ns per cw_tz_day call: live stream, backfill, cache misses, bare ICU */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "churnwatch/config.h"
#include "churnwatch/window.h"

#define N_STREAM 4000000
#define N_MISS   200000

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

    /* Misses: 16 distinct constant-offset ranges in turn defeat the 4-range cache. */
    for (size_t i = 0; i < N_MISS; i++)
        ms[i] = INT64_C(1577836800000) + (int64_t)(i % 16) * 182 * CW_MS_PER_DAY;
    run("uncached: every call misses (16 ranges round-robin)", ny, ms, N_MISS);

    /* Bare ICU, what each call would cost without a cache of ranges. */
    UChar id[32];
    u_uastrncpy(id, "America/New_York", 32);
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
    double t0 = now_ns();
    int64_t acc = 0;
    for (size_t i = 0; i < N_MISS; i++) {
        ucal_setMillis(cal, (UDate)ms[i], &st);
        acc += ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st);
    }
    double t1 = now_ns();
    sink += acc;
    printf("%-58s %8.1f ns/call  (%zu calls)\n", "bare ICU setMillis + ZONE_OFFSET + DST_OFFSET",
           (t1 - t0) / (double)N_MISS, (size_t)N_MISS);
    ucal_close(cal);
    free(ms);
    cw_tz_free(ny);
    cw_tz_free(tokyo);
    return sink == 42 ? 2 : 0;
}
