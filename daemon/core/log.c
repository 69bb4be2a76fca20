/* log.c - the one logging layer: levels, logfmt or JSON lines on stderr */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum cw_log_level log_level = CW_LOG_INFO;
static enum cw_log_format log_format = CW_LOG_LOGFMT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void cw_log_setup(enum cw_log_level level, enum cw_log_format format)
{
    log_level = level;
    log_format = format;
}

int cw_log_enabled(enum cw_log_level level)
{
    return level <= log_level;
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

static void log_write(enum cw_log_level level, const char *msg, const char *fields)
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
    if (log_format == CW_LOG_JSON) {
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

void cw_log(enum cw_log_level level, const char *msg, const char *fmt, ...)
{
    if (!cw_log_enabled(level))
        return;
    char fields[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    log_write(level, msg, fields);
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
    log_write(level, msg, fields);
}
