/* bench_decode.c - decoded events/s on one core: the native reference event, a Segment track */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/config.h"
#include "churnwatch/event.h"

/* The reference event of the performance goal (~170 bytes, native preset). */
static const char NATIVE[] =
    "{\"event_id\":\"9f1c2a7e-4b1d-4c8e-9a51-3e0f6b2d7c41\",\"account_id\":\"acct-004217\","
    "\"user_id\":\"user-00042170\",\"type\":\"record_written\",\"ts\":\"2026-11-22T09:00:00."
    "123Z\"}";

/* A Segment track call as analytics.js sends it (context, properties, integrations). */
static const char TRACK[] =
    "{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":\"u-7\",\"anonymousId\":\"anon-1\","
    "\"messageId\":\"ajs-next-1\",\"timestamp\":\"2026-11-22T09:00:00.000+09:00\","
    "\"originalTimestamp\":\"2026-11-22T08:59:59.000+09:00\",\"properties\":{\"plan\":\"pro\"},"
    "\"context\":{\"groupId\":\"acme\",\"library\":{\"name\":\"analytics.js\",\"version\":"
    "\"2.11.1\"},\"traits\":{\"seats\":-1}},\"integrations\":{}}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = cap * 2 + 8192;
            char *n = realloc(buf, cap + 1);
            if (!n) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = n;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* The config text with its "preset: native" line switched to preset (same length or not). */
static char *with_preset(const char *yaml, const char *preset, size_t *len)
{
    const char *at = strstr(yaml, "preset: native");
    if (!at)
        return NULL;
    size_t head = (size_t)(at - yaml);
    const char *tail = at + strlen("preset: native");
    size_t n = head + strlen("preset: ") + strlen(preset) + strlen(tail);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    snprintf(out, n + 1, "%.*spreset: %s%s", (int)head, yaml, preset, tail);
    *len = n;
    return out;
}

/* Decode msg iterations times; returns events/s or -1 when a decode fails. */
static double run(const char *label, const struct cw_config *cfg, const char *msg, long iterations)
{
    char err[512];
    cw_decoder *dec = cw_decoder_new(cfg, err, sizeof err);
    if (!dec) {
        fprintf(stderr, "bench_decode: %s\n", err);
        return -1;
    }
    size_t len = strlen(msg);
    struct cw_event ev;
    char reason[256];
    /* Warm up (caches, branch predictors), checking the event decodes at all. */
    for (int i = 0; i < 1000; i++)
        if (cw_decode(dec, msg, len, -1, &ev, reason, sizeof reason) != CW_OK) {
            fprintf(stderr, "bench_decode: %s: %s\n", label, reason);
            cw_decoder_free(dec);
            return -1;
        }
    unsigned long sink = 0;
    double t0 = now_s();
    for (long i = 0; i < iterations; i++) {
        if (cw_decode(dec, msg, len, -1, &ev, reason, sizeof reason) != CW_OK) {
            fprintf(stderr, "bench_decode: %s: %s\n", label, reason);
            cw_decoder_free(dec);
            return -1;
        }
        sink += (unsigned long)ev.ts_ms + (unsigned long)ev.metric;
    }
    double dt = now_s() - t0;
    cw_decoder_free(dec);
    double rate = (double)iterations / dt;
    printf("decode %-28s %4zu bytes  %10.0f events/s  %6.1f MB/s  (%ld events, %.3f s, "
           "check %lu)\n",
           label, len, rate, rate * (double)len / 1e6, iterations, dt, sink % 10);
    return rate;
}

int main(int argc, char **argv)
{
    long iterations = 2000000;
    const char *config = CW_SOURCE_DIR "/conf/churnwatch.yaml";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            iterations = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else {
            fprintf(stderr, "usage: bench_decode [--iterations N] [--config FILE]\n");
            return 2;
        }
    }
    if (iterations <= 0) {
        fprintf(stderr, "bench_decode: --iterations must be positive\n");
        return 2;
    }
    printf("command: %s --iterations %ld --config %s\n", argv[0], iterations, config);

    size_t len = 0;
    char *yaml = slurp(config, &len);
    if (!yaml) {
        fprintf(stderr, "bench_decode: cannot read %s\n", config);
        return 1;
    }
    char errs[4096];
    size_t seg_len = 0;
    char *seg_yaml = with_preset(yaml, "segment", &seg_len);
    struct cw_config *native = cw_config_load_buffer(config, yaml, len, NULL, errs, sizeof errs);
    struct cw_config *segment =
        seg_yaml ? cw_config_load_buffer(config, seg_yaml, seg_len, NULL, errs, sizeof errs) : NULL;
    int rc = 0;
    if (!native || !segment) {
        fprintf(stderr, "bench_decode: %s\n", seg_yaml ? errs : "no \"preset: native\" line");
        rc = 1;
    } else {
        double a = run("native reference event", native, NATIVE, iterations);
        double b = run("segment track call", segment, TRACK, iterations);
        if (a < 0 || b < 0)
            rc = 1;
        else
            printf("goal: decode >= 1000000 events/s/core: native %s (%.2fx), segment %s "
                   "(%.2fx)\n",
                   a >= 1e6 ? "met" : "MISSED", a / 1e6, b >= 1e6 ? "met" : "MISSED", b / 1e6);
    }
    cw_config_free(native);
    cw_config_free(segment);
    free(seg_yaml);
    free(yaml);
    return rc;
}
