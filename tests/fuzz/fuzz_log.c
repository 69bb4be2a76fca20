/* fuzz_log.c - libFuzzer target: the log line encoder and the text escapers.
 *
 * The first input byte picks the format (logfmt, JSON) and whether values are forced into
 * quotes; the rest, split at NUL bytes, is a message then key, value, key, value... The
 * line is parsed back (a small logfmt parser here, jansson for JSON) and must hold
 * exactly one ts, level and msg, then every field in order with its key sanitised and
 * its value byte for byte (JSON: invalid UTF-8 bytes become U+FFFD), and no raw control,
 * C1 or bidi character anywhere. The escapers alone, on the whole input (NULs included),
 * must round-trip the same way. The message is also used as a field format (only %s and
 * %% kept, at most 8 conversions) with the pieces after it as arguments: the fields it
 * gives have clean keys and NUL-free values of their stated length, and encode to a line
 * that parses back the same. Any violation aborts. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/log_fields.h"
#include "churnwatch/log_line.h"
#include "churnwatch/text_escape.h"
#include "fuzz_common.h"

#define MAX_FIELDS 64

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_log: %s\n", what);
        abort();
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code point, or 0. */
static size_t utf8_at(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, v = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, v = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, v = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Never in an encoded output: controls, DEL, C1, bidi formatting, line separators. */
static bool forbidden(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E ||
           c == 0x200F || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

/* Output text: valid UTF-8 is not required of logfmt/display (checked per format), but
 * no forbidden character may appear, valid sequence or not. */
static void check_clean(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_at(p + i, n - i, &cp);
        check(len > 0 || p[i] >= 0x80, "NUL-free ASCII expected");
        if (len == 0) {
            i++;
            continue;
        }
        check(!forbidden(cp), "a raw control or bidi character in the output");
        i += len;
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the escapes of a logfmt quoted string s[0..n) (JSON escapes plus \xNN). */
static size_t unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }
        check(i + 1 < n, "a lone backslash");
        char c = s[++i];
        if (c == 'x' || c == 'u') {
            size_t digits = c == 'x' ? 2 : 4;
            check(i + digits < n, "a short hex escape");
            uint32_t v = 0;
            for (size_t d = 1; d <= digits; d++) {
                int h = hexval(s[i + d]);
                check(h >= 0, "a bad hex digit");
                v = v * 16 + (uint32_t)h;
            }
            i += digits;
            if (c == 'x')
                out[o++] = (char)v;
            else if (v < 0x80)
                out[o++] = (char)v;
            else if (v < 0x800)
                out[o++] = (char)(0xC0 | (v >> 6)), out[o++] = (char)(0x80 | (v & 0x3F));
            else
                out[o++] = (char)(0xE0 | (v >> 12)), out[o++] = (char)(0x80 | ((v >> 6) & 0x3F)),
                out[o++] = (char)(0x80 | (v & 0x3F));
            continue;
        }
        out[o++] = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
        check(c == 'n' || c == 'r' || c == 't' || c == '"' || c == '\\', "an unknown escape");
    }
    return o;
}

/* Parse one logfmt value at s (bare or quoted) into out; returns the bytes consumed. */
static size_t logfmt_value(const char *s, size_t n, char *out, size_t *olen)
{
    if (n > 0 && s[0] == '"') {
        size_t i = 1;
        while (i < n && s[i] != '"')
            i += s[i] == '\\' ? 2 : 1;
        check(i < n, "an unterminated quoted value");
        *olen = unescape(s + 1, i - 1, out);
        return i + 1;
    }
    size_t i = 0;
    while (i < n && s[i] != ' ') {
        check(s[i] != '"' && s[i] != '\\' && s[i] != '=', "a bare value with a special byte");
        i++;
    }
    check(i > 0, "an empty bare value");
    memcpy(out, s, i);
    *olen = i;
    return i;
}

/* The value JSON gives back: invalid UTF-8 bytes replaced by U+FFFD. */
static size_t json_expected(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_at((const unsigned char *)s + i, n - i, &cp);
        if (len == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
    }
    return o;
}

static size_t sanitized_key(const char *key, char *out)
{
    size_t n = 0;
    if (!strcmp(key, "ts") || !strcmp(key, "level") || !strcmp(key, "msg"))
        out[n++] = '_';
    for (const char *k = key; *k && n < 64; k++) {
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

struct field {
    const char *key;
    const char *value;
    size_t len;
};

static void check_logfmt(const char *line, size_t n, const char *msg, const struct field *f,
                         size_t nf, bool truncated)
{
    static char v[CW_LOG_LINE_MAX];
    size_t vlen, i = 0, k = 0;
    const char *fixed[3] = {"ts", "level", "msg"};
    for (size_t pos = 0; pos < n; k++) {
        const char *key = line + pos;
        size_t klen = strcspn(key, "= ");
        check(key[klen] == '=', "a key without '='");
        pos += klen + 1;
        pos += logfmt_value(line + pos, n - pos, v, &vlen);
        check(pos == n || line[pos] == ' ', "junk after a value");
        pos += pos < n;
        if (k < 3) {
            check(klen == strlen(fixed[k]) && !memcmp(key, fixed[k], klen), "ts level msg first");
            if (k == 2)
                check(vlen == strlen(msg) && !memcmp(v, msg, vlen), "msg round-trips");
            continue;
        }
        if (i == nf || (truncated && klen == 9 && !memcmp(key, "truncated", 9))) {
            check(truncated && klen == 9 && !memcmp(key, "truncated", 9) && pos == n,
                  "only truncated=true may follow the fields");
            return;
        }
        char want[70];
        size_t wlen = sanitized_key(f[i].key, want);
        check(klen == wlen && !memcmp(key, want, klen), "a key round-trips sanitised");
        check(vlen == f[i].len && !memcmp(v, f[i].value, vlen), "a value round-trips");
        i++;
    }
    check(i == nf && !truncated, "every field is on the line");
}

static void check_json(const char *line, size_t n, const char *msg, const struct field *f,
                       size_t nf, bool truncated)
{
    static char want[CW_LOG_LINE_MAX * 3];
    json_error_t e;
    json_t *o = json_loadb(line, n, 0, &e);
    check(o != NULL && json_is_object(o), "the JSON line parses");
    check(json_is_string(json_object_get(o, "ts")) && json_is_string(json_object_get(o, "level")),
          "ts and level are strings");
    size_t wlen = json_expected(msg, strlen(msg), want);
    json_t *m = json_object_get(o, "msg");
    check(json_string_length(m) == wlen && !memcmp(json_string_value(m), want, wlen),
          "msg round-trips");
    /* The last field of each key wins in jansson: compare those. */
    size_t seen = 3 + (size_t)truncated;
    for (size_t i = 0; i < nf; i++) {
        char key[70];
        sanitized_key(f[i].key, key);
        bool last = true;
        for (size_t j = i + 1; j < nf && last; j++) {
            char other[70];
            sanitized_key(f[j].key, other);
            last = strcmp(key, other) != 0;
        }
        if (!last)
            continue;
        seen++;
        json_t *v = json_object_get(o, key);
        check(v != NULL, "a field is on the line");
        wlen = json_expected(f[i].value, f[i].len, want);
        check(json_is_string(v) && json_string_length(v) == wlen &&
                  !memcmp(json_string_value(v), want, wlen),
              "a value round-trips");
    }
    check(json_object_size(o) == seen, "no other member");
    json_decref(o);
}

/* The escapers alone, on any bytes (NULs included). */
static void check_escapers(const char *s, size_t n)
{
    static char out[8 * 65536 + 16], back[8 * 65536 + 16];
    if (n > 65536)
        return;
    size_t len = cw_escape_logfmt(out, sizeof out, s, n, false);
    check(len < sizeof out && strlen(out) == len, "logfmt escape fits and has no NUL");
    check_clean(out, len);
    size_t blen;
    check(logfmt_value(out, len, back, &blen) == len, "one logfmt value");
    check(blen == n && !memcmp(back, s, n), "logfmt round-trips");

    len = cw_escape_json(out, sizeof out, s, n);
    check(strlen(out) == len, "JSON escape has no NUL");
    check_clean(out, len);
    json_error_t e;
    json_t *v = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    check(v && json_is_string(v), "the JSON string parses");
    size_t wlen = json_expected(s, n, back);
    check(json_string_length(v) == wlen && !memcmp(json_string_value(v), back, wlen),
          "JSON round-trips");
    json_decref(v);

    len = cw_escape_display(out, sizeof out, s, n);
    check(strlen(out) == len, "display escape has no NUL");
    check_clean(out, len);
    check(cw_display_needs_escape(s, n) == (len != n || memcmp(out, s, n) != 0),
          "needs_escape agrees with the escape");
    /* Unambiguous: a display escape decodes back like a logfmt quoted string. */
    check(unescape(out, len, back) == n && !memcmp(back, s, n), "display round-trips");
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* The field format of the logging layer, with raw as the format and args as arguments. */
static void check_fields(const char *raw, const char *const args[8], enum cw_log_format format)
{
    static char fmt[8192];
    size_t n = 0, conversions = 0;
    for (const char *p = raw; *p && n + 3 < sizeof fmt; p++) {
        if (*p != '%') {
            fmt[n++] = *p;
        } else if (p[1] == 's' && conversions < 8) {
            fmt[n++] = '%', fmt[n++] = 's', p++, conversions++;
        } else {
            fmt[n++] = '%', fmt[n++] = '%';
            p += p[1] == '%';
        }
    }
    fmt[n] = '\0';
    static struct cw_log_fields fields;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    cw_log_fields_format(&fields, fmt, args[0], args[1], args[2], args[3], args[4], args[5],
                         args[6], args[7]);
#pragma GCC diagnostic pop
    check(fields.n <= CW_LOG_FIELDS_MAX && fields.used <= sizeof fields.buf, "fields fit");
    struct field f[CW_LOG_FIELDS_MAX];
    for (size_t i = 0; i < fields.n; i++) {
        const struct cw_log_field *x = &fields.f[i];
        check(x->key[0] != '\0', "a field key is not empty");
        for (const char *k = x->key; *k; k++)
            check(key_char(*k), "a field key holds key characters only");
        check(strlen(x->value) == x->value_len, "a field value is NUL-free, of its length");
        check(!x->number, "only %s conversions: no number");
        f[i] = (struct field){x->key, x->value, x->value_len};
    }
    static struct cw_log_line line;
    cw_log_line_begin(&line, format, "2026-01-01T00:00:00.000Z", "info", "m");
    for (size_t i = 0; i < fields.n; i++)
        cw_log_line_field(&line, f[i].key, f[i].value, f[i].len, false, fields.f[i].quoted);
    const char *text = cw_log_line_end(&line);
    check_clean(text, line.len - 1);
    if (line.truncated)
        return; /* the kept prefix is checked by the encoder part of the target */
    if (format == CW_LOG_JSON)
        check_json(text, line.len - 1, "m", f, fields.n, false);
    else
        check_logfmt(text, line.len - 1, "m", f, fields.n, false);
}

/* The longest msg tried (call sites pass short constants, log.h). */
#define MSG_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    check_escapers((const char *)data + 1, size - 1);

    enum cw_log_format format = data[0] & 1 ? CW_LOG_JSON : CW_LOG_LOGFMT;
    bool quote = data[0] & 2;
    char *copy = malloc(size); /* NUL-separated pieces, the last one terminated too */
    check(copy != NULL, "out of memory");
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    /* msg is a short constant at every call site (log.h): longer ones are cut here, as a
     * msg that alone overflows the line cannot round-trip */
    if (strlen(copy) > MSG_MAX)
        copy[MSG_MAX] = '\0';
    const char *msg = copy;
    size_t pos = strlen(msg) + 1;
    struct field f[MAX_FIELDS];
    size_t nf = 0;
    while (pos < size && nf < MAX_FIELDS) {
        f[nf].key = copy + pos;
        pos += strlen(copy + pos) + 1;
        f[nf].value = pos < size ? copy + pos : "";
        f[nf].len = strlen(f[nf].value);
        pos += f[nf].len + 1;
        nf++;
    }
    const char *args[8];
    for (size_t i = 0; i < 8; i++)
        args[i] = i / 2 < nf ? (i % 2 ? f[i / 2].value : f[i / 2].key) : "";
    check_fields(msg, args, format);

    static struct cw_log_line line;
    cw_log_line_begin(&line, format, "2026-01-01T00:00:00.000Z", "info", msg);
    for (size_t i = 0; i < nf; i++)
        cw_log_line_field(&line, f[i].key, f[i].value, f[i].len, false, quote);
    const char *text = cw_log_line_end(&line);
    check(line.len >= 1 && text[line.len - 1] == '\n' && strlen(text) == line.len,
          "one line, newline-terminated, no NUL");
    check(line.len <= CW_LOG_LINE_MAX, "the line fits its buffer");
    check_clean(text, line.len - 1);
    if (!line.truncated || nf > 0) {
        size_t kept = nf;
        if (line.truncated) { /* the fields that made it: count them back from the text */
            kept = 0;
            while (kept < nf) {
                static struct cw_log_line probe;
                cw_log_line_begin(&probe, format, "2026-01-01T00:00:00.000Z", "info", msg);
                for (size_t i = 0; i <= kept; i++)
                    cw_log_line_field(&probe, f[i].key, f[i].value, f[i].len, false, quote);
                if (probe.truncated)
                    break;
                kept++;
            }
        }
        if (format == CW_LOG_JSON)
            check_json(text, line.len - 1, msg, f, kept, line.truncated);
        else
            check_logfmt(text, line.len - 1, msg, f, kept, line.truncated);
    }
    free(copy);
    return 0;
}
