/* log.c - the one logging layer: levels, logfmt or JSON lines on stderr, repeats
 * rate-limited, secrets redacted, every value escaped */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "churnwatch/enum_names.h"
#include "churnwatch/log_fields.h"
#include "churnwatch/log_line.h"
#include "wall_clock.h"

#define SECRETS_MAX       32
#define SECRET_LEN_MAX    512
#define LIMIT_SLOTS       64
#define LIMIT_MSG_MAX     64
#define LIMIT_BURST       20 /* lines per message (and level) per interval */
#define LIMIT_INTERVAL_MS 10000

/* Read by every thread that logs (librdkafka's included); written at setup and reload. */
static _Atomic int log_level = CW_LOG_INFO;
static _Atomic int log_format = CW_LOG_LOGFMT;

/* Everything below is guarded by log_mu: the secrets, the rate limiter, the write. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char secrets[SECRETS_MAX][SECRET_LEN_MAX];
static size_t n_secrets;

/* One rate-limited message: lines written and suppressed in the current interval. */
struct limit {
    char msg[LIMIT_MSG_MAX]; /* "" when the slot is free */
    enum cw_log_level level;
    int64_t start_ms;
    unsigned written;
    uint64_t suppressed;
};
static struct limit limits[LIMIT_SLOTS];
static unsigned limit_burst = LIMIT_BURST;
static int64_t limit_interval_ms = LIMIT_INTERVAL_MS;

void cw_log_set_rate_limit(unsigned burst, int interval_ms)
{
    pthread_mutex_lock(&log_mu);
    limit_burst = burst;
    limit_interval_ms = interval_ms > 0 ? interval_ms : 1;
    memset(limits, 0, sizeof limits);
    pthread_mutex_unlock(&log_mu);
}

void cw_log_setup(enum cw_log_level level, enum cw_log_format format)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
    atomic_store_explicit(&log_format, (int)format, memory_order_relaxed);
}

int cw_log_enabled(enum cw_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void cw_log_secret(const char *value)
{
    if (!value || !*value || strlen(value) >= SECRET_LEN_MAX)
        return; /* too long to fit a log line's field anyway: it is truncated first */
    pthread_mutex_lock(&log_mu);
    bool known = false;
    for (size_t i = 0; i < n_secrets && !known; i++)
        known = strcmp(secrets[i], value) == 0;
    if (!known) {
        if (n_secrets == SECRETS_MAX) { /* the oldest is forgotten (many reloads later) */
            memmove(secrets[0], secrets[1], sizeof secrets[0] * (SECRETS_MAX - 1));
            n_secrets--;
        }
        snprintf(secrets[n_secrets], sizeof secrets[n_secrets], "%s", value);
        n_secrets++;
    }
    pthread_mutex_unlock(&log_mu);
}

void cw_redact(char *s, size_t size, const char *needle)
{
    static const char mask[] = "***";
    size_t nlen = strlen(needle), mlen = sizeof mask - 1;
    char *p = s;
    while (nlen > 0 && (p = strstr(p, needle)) != NULL) {
        size_t tail = strlen(p + nlen) + 1; /* with the NUL */
        size_t room = size - (size_t)(p - s);
        if (mlen + tail > room) /* no room to grow: truncate the rest */
            tail = room > mlen ? room - mlen : 0;
        if (tail == 0) {
            *p = '\0';
            return;
        }
        memmove(p + mlen, p + nlen, tail);
        p[mlen + tail - 1] = '\0';
        memcpy(p, mask, mlen);
        p += mlen;
    }
}

/* The password of every "scheme://user:password@" in s becomes "***". */
static void redact_urls(char *s, size_t size)
{
    char *p = s;
    while ((p = strstr(p, "://")) != NULL) {
        p += 3;
        size_t auth = strcspn(p, "/@ \"'"); /* user:password, up to the host */
        if (p[auth] != '@')
            continue;
        char *pw = memchr(p, ':', auth);
        if (!pw)
            continue;
        pw++;
        char *at = p + auth;
        size_t tail = strlen(at) + 1; /* with the NUL */
        size_t room = size - (size_t)(pw - s);
        if (room < 4) {
            *pw = '\0';
            return;
        }
        if (3 + tail > room) /* no room to grow: truncate the rest */
            tail = room - 3;
        memmove(pw + 3, at, tail);
        memcpy(pw, "***", 3);
        s[size - 1] = '\0';
        p = pw + 3;
    }
}

/* Redact s in place (log_mu held). */
static void redact(char *s, size_t size)
{
    redact_urls(s, size);
    for (size_t i = 0; i < n_secrets; i++)
        cw_redact(s, size, secrets[i]);
}

/* Format and write one line (log_mu held): each field value redacted, then escaped. */
static void write_line(enum cw_log_level level, const char *msg, const struct cw_log_fields *f)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000L);

    static struct cw_log_line line; /* 16 KiB: not on the stacks of librdkafka's threads */
    static char value[CW_LOG_FIELDS_BUF + 64];
    cw_log_line_begin(&line,
                      (enum cw_log_format)atomic_load_explicit(&log_format, memory_order_relaxed),
                      ts, cw_enum_name(&cw_log_level_names, (int)level), msg);
    for (size_t i = 0; i < f->n; i++) {
        const struct cw_log_field *fl = &f->f[i];
        memcpy(value, fl->value, fl->value_len + 1);
        redact(value, sizeof value);
        size_t len = strlen(value);
        bool unchanged = len == fl->value_len && memcmp(value, fl->value, len) == 0;
        cw_log_line_field(&line, fl->key, value, len, fl->number && unchanged, fl->quoted);
    }
    if (f->truncated)
        cw_log_line_field(&line, "truncated", "true", 4, true, false);
    const char *text = cw_log_line_end(&line);
    fwrite(text, 1, line.len, stderr);
}

/* The summary of a message whose interval ended with lines suppressed (log_mu held). */
static void write_summary(struct limit *l)
{
    static struct cw_log_fields fields; /* log_mu held */
    cw_log_fields_format(&fields, "what=\"%.*s\" suppressed=%llu interval_ms=%lld",
                         LIMIT_MSG_MAX - 1, l->msg, (unsigned long long)l->suppressed,
                         (long long)limit_interval_ms);
    write_line(l->level, "repeated log lines suppressed", &fields);
    l->suppressed = 0;
}

/*
 * Whether a line of msg at level may be written now: at most limit_burst per message and
 * level per limit_interval_ms (debug lines are not limited: debug is asked for). Writes
 * the summaries of intervals that ended with lines suppressed (log_mu held).
 */
static bool limit_pass(enum cw_log_level level, const char *msg)
{
    int64_t now = cw_mono_ms();
    struct limit *mine = NULL, *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < LIMIT_SLOTS; i++) {
        struct limit *l = &limits[i];
        if (!l->msg[0]) {
            if (!free_slot)
                free_slot = l;
            continue;
        }
        if (now - l->start_ms >= limit_interval_ms) {
            if (l->suppressed)
                write_summary(l);
            l->start_ms = now;
            l->written = 0;
        }
        if (l->level == level && strncmp(l->msg, msg, sizeof l->msg - 1) == 0)
            mine = l;
        else if (!oldest || l->start_ms < oldest->start_ms)
            oldest = l;
    }
    if (level == CW_LOG_DEBUG || limit_burst == 0)
        return true;
    if (!mine) {
        mine = free_slot ? free_slot : oldest;
        if (mine->suppressed)
            write_summary(mine);
        snprintf(mine->msg, sizeof mine->msg, "%s", msg);
        mine->level = level;
        mine->start_ms = now;
        mine->written = 0;
    }
    if (mine->written < limit_burst) {
        mine->written++;
        return true;
    }
    mine->suppressed++;
    return false;
}

/* Rate-limit, redact and write one line. */
static void log_write(enum cw_log_level level, const char *msg, const struct cw_log_fields *f)
{
    pthread_mutex_lock(&log_mu);
    if (limit_pass(level, msg))
        write_line(level, msg, f);
    pthread_mutex_unlock(&log_mu);
}

void cw_log(enum cw_log_level level, const char *msg, const char *fmt, ...)
{
    if (!cw_log_enabled(level))
        return;
    struct cw_log_fields fields, *f = &fields;
    va_list ap;
    va_start(ap, fmt);
    cw_log_fields_vformat(f, fmt, ap);
    va_end(ap);
    log_write(level, msg, f);
}

void cw_log_errno(enum cw_log_level level, const char *msg, const char *fmt, ...)
{
    int saved = errno;
    if (!cw_log_enabled(level))
        return;
    struct cw_log_fields fields, *f = &fields;
    va_list ap;
    va_start(ap, fmt);
    cw_log_fields_vformat(f, fmt, ap);
    va_end(ap);
    cw_log_fields_add(f, "err", strerror(saved));
    log_write(level, msg, f);
}
