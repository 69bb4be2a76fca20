/* log_line.c - encoding of one log line in logfmt or JSON, every value escaped */
#include "churnwatch/log_line.h"

#include <string.h>

#include "churnwatch/text_escape.h"

#define KEY_MAX 64
/* Kept free until the end: ' truncated=true' or ',"truncated":true', '}', '\n', NUL. */
#define END_RESERVE 24

static void append(struct cw_log_line *line, const char *s, size_t n)
{
    memcpy(line->buf + line->len, s, n);
    line->len += n;
}

/* Append an escaped value (logfmt or JSON string); false when it does not fit. */
static bool append_escaped(struct cw_log_line *line, const char *s, size_t n, bool quote)
{
    size_t size = sizeof line->buf - END_RESERVE - line->len;
    size_t w = line->format == CW_LOG_JSON
                   ? cw_escape_json(line->buf + line->len, size, s, n)
                   : cw_escape_logfmt(line->buf + line->len, size, s, n, quote);
    if (w >= size)
        return false;
    line->len += w;
    return true;
}

void cw_log_line_begin(struct cw_log_line *line, enum cw_log_format format, const char *ts,
                       const char *level, const char *msg)
{
    line->format = format;
    line->truncated = false;
    line->len = 0;
    bool json = format == CW_LOG_JSON;
    append(line, json ? "{\"ts\":" : "ts=", json ? 6 : 3);
    append_escaped(line, ts, strlen(ts), false);
    append(line, json ? ",\"level\":" : " level=", json ? 9 : 7);
    append_escaped(line, level, strlen(level), false);
    append(line, json ? ",\"msg\":" : " msg=", json ? 7 : 5);
    if (!append_escaped(line, msg, strlen(msg), true))
        append(line, "\"\"", 2), line->truncated = true;
}

/* The key made safe: [A-Za-z0-9_.-] only, never empty, never ts/level/msg. */
static size_t sanitize_key(char *out, const char *key)
{
    size_t n = 0;
    if (!strcmp(key, "ts") || !strcmp(key, "level") || !strcmp(key, "msg"))
        out[n++] = '_';
    for (const char *k = key; *k && n < KEY_MAX; k++) {
        char c = *k;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        out[n++] = ok ? c : '_';
    }
    if (n == 0)
        out[n++] = '_';
    out[n] = '\0';
    return n;
}

void cw_log_line_field(struct cw_log_line *line, const char *key, const char *value,
                       size_t value_len, bool number, bool quote)
{
    if (line->truncated)
        return;
    char k[KEY_MAX + 2];
    size_t klen = sanitize_key(k, key);
    bool json = line->format == CW_LOG_JSON;
    size_t start = line->len;
    size_t need = klen + 4 + (number ? value_len : 0);
    if (line->len + need + END_RESERVE > sizeof line->buf) {
        line->truncated = true;
        return;
    }
    append(line, json ? ",\"" : " ", json ? 2 : 1);
    append(line, k, klen);
    append(line, json ? "\":" : "=", json ? 2 : 1);
    if (json && number)
        append(line, value, value_len);
    else if (!append_escaped(line, value, value_len, quote)) {
        line->len = start;
        line->truncated = true;
    }
}

const char *cw_log_line_end(struct cw_log_line *line)
{
    bool json = line->format == CW_LOG_JSON;
    if (line->truncated)
        append(line, json ? ",\"truncated\":true" : " truncated=true", json ? 17 : 15);
    if (json)
        append(line, "}", 1);
    append(line, "\n", 1);
    line->buf[line->len] = '\0';
    return line->buf;
}
