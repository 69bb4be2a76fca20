/* text_escape.c - escaping of untrusted text for logfmt values, JSON strings and terminal
 * display */
#include "churnwatch/text_escape.h"

#include <stdint.h>
#include <string.h>

/* What one step of the input is: a character kept as is, or one to escape. */
enum unit_kind {
    UNIT_PLAIN,   /* kept: a printable ASCII byte or a whole harmless UTF-8 sequence */
    UNIT_ASCII,   /* an ASCII byte that may need an escape: control, DEL, '"', '\', ... */
    UNIT_CODE,    /* a valid sequence of a character escaped everywhere (C1, bidi, ...) */
    UNIT_INVALID, /* one byte that does not start a valid UTF-8 sequence */
};

struct unit {
    enum unit_kind kind;
    size_t len;    /* input bytes it covers */
    uint32_t code; /* UNIT_CODE: the code point; UNIT_ASCII, UNIT_INVALID: the byte */
};

/* The characters every form escapes beyond the ASCII controls (see the header). */
static bool escaped_code(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F || c == 0x2028 ||
           c == 0x2029 || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/* Length of the valid RFC 3629 sequence at s (n bytes left) and its code point, or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n, uint32_t *code)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
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
    *code = v;
    return len;
}

/* The unit at s (n > 0 bytes left); ASCII bytes for which special() is true are
 * UNIT_ASCII. */
static struct unit next_unit(const unsigned char *s, size_t n, bool (*special)(unsigned char))
{
    struct unit u = {UNIT_PLAIN, 1, s[0]};
    if (s[0] < 0x80) {
        if (special(s[0]))
            u.kind = UNIT_ASCII;
        return u;
    }
    uint32_t code;
    size_t len = utf8_sequence(s, n, &code);
    if (len == 0) {
        u.kind = UNIT_INVALID;
        return u;
    }
    u.len = len;
    if (escaped_code(code)) {
        u.kind = UNIT_CODE;
        u.code = code;
    }
    return u;
}

/* An output being written: bytes beyond size are counted, not stored. */
struct sink {
    char *out;
    size_t size;
    size_t len;
};

static void put(struct sink *k, const char *s, size_t n)
{
    if (k->len + n < k->size)
        memcpy(k->out + k->len, s, n);
    k->len += n;
}

static void put_hex(struct sink *k, const char *prefix, uint32_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    char buf[8];
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    for (int i = digits - 1; i >= 0; i--)
        buf[n++] = hex[(v >> (4 * i)) & 0xFu];
    put(k, buf, n);
}

/* NUL-terminate, or leave "" when the encoding did not fit; returns its length. */
static size_t finish(struct sink *k)
{
    if (k->size == 0)
        return k->len;
    k->out[k->len < k->size ? k->len : 0] = '\0';
    return k->len;
}

/* The JSON short escape of an ASCII byte, or NULL. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

static bool logfmt_special(unsigned char c)
{
    return is_control(c) || c == '"' || c == '\\';
}

static bool logfmt_needs_quotes(unsigned char c)
{
    return logfmt_special(c) || c == ' ' || c == '=';
}

size_t cw_escape_logfmt(char *out, size_t size, const char *s, size_t len, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    bool quoted = quote || len == 0;
    for (size_t i = 0; i < len && !quoted;) {
        struct unit u = next_unit(p + i, len - i, logfmt_needs_quotes);
        quoted = u.kind != UNIT_PLAIN;
        i += u.len;
    }
    struct sink k = {out, size, 0};
    if (quoted)
        put(&k, "\"", 1);
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(p + i, len - i, logfmt_special);
        const char *e;
        if (u.kind == UNIT_PLAIN)
            put(&k, s + i, u.len);
        else if (u.kind == UNIT_ASCII && (e = short_escape((unsigned char)u.code)) != NULL)
            put(&k, e, strlen(e));
        else if (u.kind == UNIT_INVALID)
            put_hex(&k, "\\x", u.code, 2);
        else
            put_hex(&k, "\\u", u.code, 4);
        i += u.len;
    }
    if (quoted)
        put(&k, "\"", 1);
    return finish(&k);
}

size_t cw_escape_json(char *out, size_t size, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    struct sink k = {out, size, 0};
    put(&k, "\"", 1);
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(p + i, len - i, logfmt_special);
        const char *e;
        if (u.kind == UNIT_PLAIN)
            put(&k, s + i, u.len);
        else if (u.kind == UNIT_ASCII && (e = short_escape((unsigned char)u.code)) != NULL)
            put(&k, e, strlen(e));
        else if (u.kind == UNIT_ASCII && u.code == '\b')
            put(&k, "\\b", 2);
        else if (u.kind == UNIT_ASCII && u.code == '\f')
            put(&k, "\\f", 2);
        else if (u.kind == UNIT_INVALID)
            put(&k, "\\ufffd", 6);
        else
            put_hex(&k, "\\u", u.code, 4);
        i += u.len;
    }
    put(&k, "\"", 1);
    return finish(&k);
}

static bool display_special(unsigned char c)
{
    return is_control(c) || c == '\\';
}

size_t cw_escape_display(char *out, size_t size, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    struct sink k = {out, size, 0};
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(p + i, len - i, display_special);
        const char *e;
        if (u.kind == UNIT_PLAIN)
            put(&k, s + i, u.len);
        else if (u.kind == UNIT_ASCII && (e = short_escape((unsigned char)u.code)) != NULL)
            put(&k, e, strlen(e));
        else if (u.kind == UNIT_CODE)
            put_hex(&k, "\\u", u.code, 4);
        else
            put_hex(&k, "\\x", u.code, 2);
        i += u.len;
    }
    return finish(&k);
}

bool cw_display_needs_escape(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(p + i, len - i, display_special);
        if (u.kind != UNIT_PLAIN)
            return true;
        i += u.len;
    }
    return false;
}

size_t cw_escape_csv(char *out, size_t size, const char *s, size_t len, bool spreadsheet)
{
    struct sink k = {out, size, 0};
    bool formula = spreadsheet && len > 0 && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (quote)
        put(&k, "\"", 1);
    if (formula)
        put(&k, "'", 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            put(&k, "\"", 1); /* doubled */
        put(&k, s + i, 1);
    }
    if (quote)
        put(&k, "\"", 1);
    return finish(&k);
}
