/* wall_clock.c - the clocks (wall_clock.h): the wall clock, shifted by
 * CW_DEBUG_CLOCK_OFFSET_MS in tests, and the monotonic clock for durations */
#include "wall_clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t offset_ms;
static pthread_once_t offset_once = PTHREAD_ONCE_INIT;

static void offset_read(void)
{
    const char *v = getenv("CW_DEBUG_CLOCK_OFFSET_MS");
    if (!v || !*v)
        return;
    char *end;
    errno = 0;
    long long off = strtoll(v, &end, 10);
    if (errno == 0 && *end == '\0')
        offset_ms = off;
    else
        fprintf(stderr, "CW_DEBUG_CLOCK_OFFSET_MS=%s is not an integer: ignored\n", v);
}

int64_t cw_wall_ms(void)
{
    pthread_once(&offset_once, offset_read);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}

uint64_t cw_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t cw_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec cw_mono_deadline(int64_t in_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (in_ms < 0)
        in_ms = 0;
    ts.tv_sec += (time_t)(in_ms / 1000);
    ts.tv_nsec += (long)(in_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
