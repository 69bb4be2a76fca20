/* log.c - the one logging layer: levels, logfmt or JSON lines on stderr, repeats
 * rate-limited, secrets redacted */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECRETS_MAX       32
#define SECRET_LEN_MAX    512
#define LIMIT_SLOTS       64
#define LIMIT_MSG_MAX     64
#define LIMIT_BURST       20 /* lines per message (and level) per interval */
#define LIMIT_INTERVAL_MS 10000

/* Read by every thread that logs (librdkafka's included); written at setup and reload. */
static _Atomic int log_level = CW_LOG_INFO;
static _Atomic int log_format = CW_LOG_LOGFMT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append s to out as the body of a JSON string (no quotes). */
static size_t json_escape(char *out, size_t size, size_t pos, const char *s, size_t len)
{
    for (size_t i = 0; i < len && pos + 7 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[pos++] = '\\';
            out[pos++] = (char)c;
        } else if (c < 0x20) {
            pos += (size_t)snprintf(out + pos, size - pos, "\\u%04x", c);
        } else {
            out[pos++] = (char)c;
        }
    }
    return pos;
}

/* Turn logfmt fields ("k=v k2=\"a b\"") into JSON members appended at pos. */
static size_t logfmt_to_json(char *out, size_t size, size_t pos, const char *f)
{
    while (*f && pos + 16 < size) {
        while (*f == ' ')
            f++;
        const char *key = f;
        while (*f && *f != '=' && *f != ' ')
            f++;
        size_t klen = (size_t)(f - key);
        if (klen == 0)
            break;
        char val[1024];
        size_t vlen = 0;
        if (*f == '=') {
            f++;
            if (*f == '"') {
                f++;
                while (*f && *f != '"' && vlen + 1 < sizeof val) {
                    if (*f == '\\' && f[1])
                        f++;
                    val[vlen++] = *f++;
                }
                if (*f == '"')
                    f++;
            } else {
                while (*f && *f != ' ' && vlen + 1 < sizeof val)
                    val[vlen++] = *f++;
            }
        }
        out[pos++] = ',';
        out[pos++] = '"';
        pos = json_escape(out, size, pos, key, klen);
        out[pos++] = '"';
        out[pos++] = ':';
        out[pos++] = '"';
        pos = json_escape(out, size, pos, val, vlen);
        out[pos++] = '"';
    }
    return pos;
}

/* Format and write one line (log_mu held). */
static void write_line(enum cw_log_level level, const char *msg, const char *fields)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000L);

    char line[4096];
    size_t pos;
    if (atomic_load_explicit(&log_format, memory_order_relaxed) == CW_LOG_JSON) {
        pos = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                               level_names[level]);
        pos = json_escape(line, sizeof line, pos, msg, strlen(msg));
        line[pos++] = '"';
        pos = logfmt_to_json(line, sizeof line - 2, pos, fields);
        line[pos++] = '}';
    } else {
        pos = (size_t)snprintf(line, sizeof line, "ts=%s level=%s msg=\"", ts, level_names[level]);
        pos = json_escape(line, sizeof line, pos, msg, strlen(msg));
        pos +=
            (size_t)snprintf(line + pos, sizeof line - pos, "\"%s%s", *fields ? " " : "", fields);
        if (pos > sizeof line - 2)
            pos = sizeof line - 2;
    }
    line[pos++] = '\n';
    fwrite(line, 1, pos, stderr);
}

/* The summary of a message whose interval ended with lines suppressed (log_mu held). */
static void write_summary(struct limit *l)
{
    char fields[256];
    snprintf(fields, sizeof fields, "what=\"%.*s\" suppressed=%llu interval_ms=%lld",
             LIMIT_MSG_MAX - 1, l->msg, (unsigned long long)l->suppressed,
             (long long)limit_interval_ms);
    write_line(l->level, "repeated log lines suppressed", fields);
    l->suppressed = 0;
}

/*
 * Whether a line of msg at level may be written now: at most limit_burst per message and
 * level per limit_interval_ms (debug lines are not limited: debug is asked for). Writes
 * the summaries of intervals that ended with lines suppressed (log_mu held).
 */
static bool limit_pass(enum cw_log_level level, const char *msg)
{
    int64_t now = mono_ms();
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

/* Redact, rate-limit and write one line; fields is writable (redacted in place). */
static void log_write(enum cw_log_level level, const char *msg, char *fields, size_t size)
{
    pthread_mutex_lock(&log_mu);
    if (limit_pass(level, msg)) {
        redact(fields, size);
        write_line(level, msg, fields);
    }
    pthread_mutex_unlock(&log_mu);
}

void cw_log(enum cw_log_level level, const char *msg, const char *fmt, ...)
{
    if (!cw_log_enabled(level))
        return;
    char fields[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    log_write(level, msg, fields, sizeof fields);
}

void cw_log_errno(enum cw_log_level level, const char *msg, const char *fmt, ...)
{
    int saved = errno;
    if (!cw_log_enabled(level))
        return;
    char fields[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof fields)
        snprintf(fields + n, sizeof fields - (size_t)n, "%serr=\"%s\"", n ? " " : "",
                 strerror(saved));
    log_write(level, msg, fields, sizeof fields);
}
