/* log_fields.c - a log line's fields: the logging layer's "key=%s" format split into keys
 * and separately formatted values */
#include "churnwatch/log_fields.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* A value being built at the end of the buffer. */
struct value {
    char *start;
    size_t len;
    int conversions; /* printf conversions in it */
    int literals;    /* literal bytes in it */
    bool numeric;    /* its (only) conversion is an integer or a floating one */
};

static size_t room(const struct cw_log_fields *out)
{
    return sizeof out->buf - out->used;
}

/* Append n bytes to the value (the buffer keeps one byte for its terminator). */
static void value_put(struct cw_log_fields *out, struct value *v, const char *s, size_t n)
{
    size_t free_bytes = room(out) - 1;
    if (n > free_bytes) {
        n = free_bytes;
        out->truncated = true;
    }
    memcpy(out->buf + out->used, s, n);
    out->used += n;
    v->len += n;
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* True when s is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

/* Append the digits of an int taken from the arguments for a '*' to spec; a negative
 * precision counts as none (C11 7.21.6.1), so its '.' is dropped. */
static void spec_star(char *spec, size_t *n, size_t size, va_list *ap, bool precision)
{
    int v = va_arg(*ap, int);
    if (precision && v < 0) {
        (*n)--;
        return;
    }
    int w = snprintf(spec + *n, size - *n, "%d", v);
    if (w > 0 && (size_t)w < size - *n)
        *n += (size_t)w;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Format the conversion at *pp (just after its '%') with the next argument into the
 * value; advances *pp past it. */
static void convert(struct cw_log_fields *out, struct value *v, const char **pp, va_list *ap)
{
    const char *p = *pp;
    char spec[48] = "%";
    size_t n = 1;
    for (; *p && strchr("-+ #0'", *p); p++) /* every flag consumed, a few kept */
        if (n < 8)
            spec[n++] = *p;
    if (*p == '*') {
        spec_star(spec, &n, sizeof spec, ap, false);
        p++;
    } else {
        for (; *p >= '0' && *p <= '9'; p++) /* a width beyond 11 digits is cut */
            if (n < 20)
                spec[n++] = *p;
    }
    if (*p == '.') {
        spec[n++] = *p++;
        if (*p == '*') {
            spec_star(spec, &n, sizeof spec, ap, true);
            p++;
        } else {
            for (; *p >= '0' && *p <= '9'; p++)
                if (n < 32)
                    spec[n++] = *p;
        }
    }
    enum length len = LEN_NONE;
    if (p[0] == 'h' && p[1] == 'h')
        len = LEN_HH, p += 2;
    else if (p[0] == 'l' && p[1] == 'l')
        len = LEN_LL, p += 2;
    else if (*p == 'h')
        len = LEN_H, p++;
    else if (*p == 'l')
        len = LEN_L, p++;
    else if (*p == 'j')
        len = LEN_J, p++;
    else if (*p == 'z')
        len = LEN_Z, p++;
    else if (*p == 't')
        len = LEN_T, p++;
    else if (*p == 'L')
        len = LEN_BIG_L, p++;
    static const char *const len_text[] = {"", "hh", "h", "l", "ll", "j", "z", "t", "L"};
    char conv = *p;
    if (conv)
        p++;
    *pp = p;
    n += (size_t)snprintf(spec + n, sizeof spec - n, "%s%c", len_text[len], conv);

    char *dst = out->buf + out->used;
    size_t cap = room(out);
    int w = 0;
    bool signed_int = conv == 'd' || conv == 'i';
    bool unsigned_int = conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o';
    v->conversions++;
    v->numeric = signed_int || conv == 'u' || strchr("fFeEgGaA", conv ? conv : 'x') != NULL;
    if (conv == 'a' || conv == 'A')
        v->numeric = false; /* hexadecimal floating point is not JSON */
    if (signed_int) {
        switch (len) {
        case LEN_L:
            w = snprintf(dst, cap, spec, va_arg(*ap, long));
            break;
        case LEN_LL:
            w = snprintf(dst, cap, spec, va_arg(*ap, long long));
            break;
        case LEN_J:
            w = snprintf(dst, cap, spec, va_arg(*ap, intmax_t));
            break;
        case LEN_Z:
            w = snprintf(dst, cap, spec, va_arg(*ap, ssize_t));
            break;
        case LEN_T:
            w = snprintf(dst, cap, spec, va_arg(*ap, ptrdiff_t));
            break;
        default: /* hh and h arguments are promoted to int */
            w = snprintf(dst, cap, spec, va_arg(*ap, int));
            break;
        }
    } else if (unsigned_int) {
        switch (len) {
        case LEN_L:
            w = snprintf(dst, cap, spec, va_arg(*ap, unsigned long));
            break;
        case LEN_LL:
            w = snprintf(dst, cap, spec, va_arg(*ap, unsigned long long));
            break;
        case LEN_J:
            w = snprintf(dst, cap, spec, va_arg(*ap, uintmax_t));
            break;
        case LEN_Z:
            w = snprintf(dst, cap, spec, va_arg(*ap, size_t));
            break;
        case LEN_T:
            w = snprintf(dst, cap, spec, va_arg(*ap, ptrdiff_t));
            break;
        default:
            w = snprintf(dst, cap, spec, va_arg(*ap, unsigned));
            break;
        }
    } else if (conv && strchr("fFeEgGaA", conv)) {
        if (len == LEN_BIG_L)
            w = snprintf(dst, cap, spec, va_arg(*ap, long double));
        else
            w = snprintf(dst, cap, spec, va_arg(*ap, double));
    } else if (conv == 'c') {
        char c = (char)va_arg(*ap, int);
        value_put(out, v, &c, c ? 1 : 0); /* a NUL would end the value */
        return;
    } else if (conv == 's') {
        const char *s = va_arg(*ap, const char *);
        w = snprintf(dst, cap, spec, s ? s : "(null)");
    } else if (conv == 'p') {
        w = snprintf(dst, cap, spec, va_arg(*ap, void *));
    } else if (conv == 'n') {
        (void)va_arg(*ap, void *); /* never written through */
        return;
    } else { /* not a conversion: kept as text */
        v->conversions--;
        v->numeric = false;
        value_put(out, v, spec, strlen(spec)); /* a '%' ending fmt: conv is NUL */
        return;
    }
    if (w < 0)
        w = 0;
    size_t wrote = (size_t)w;
    if (wrote >= cap) {
        wrote = cap - 1;
        out->truncated = true;
    }
    out->used += wrote;
    v->len += wrote;
}
#pragma GCC diagnostic pop

/* Store a NUL-terminated copy of s[0..n) in the buffer; NULL when there is no room. */
static const char *store(struct cw_log_fields *out, const char *s, size_t n)
{
    if (n + 1 > room(out))
        return NULL;
    char *p = memcpy(out->buf + out->used, s, n);
    p[n] = '\0';
    out->used += n + 1;
    return p;
}

/* Parse one token's value at *pp (after "key=") into the buffer; advances *pp past it. */
static struct value parse_value(struct cw_log_fields *out, const char **pp, va_list *ap,
                                bool *quoted)
{
    const char *p = *pp;
    struct value v = {out->buf + out->used, 0, 0, 0, false};
    bool in_quotes = false;
    *quoted = false;
    if (*p == '"') {
        in_quotes = *quoted = true;
        p++;
    }
    while (*p) {
        if (in_quotes && *p == '"') {
            in_quotes = false;
            p++;
            continue;
        }
        if (!in_quotes && *p == ' ')
            break;
        if (in_quotes && p[0] == '\\' && p[1]) {
            value_put(out, &v, p + 1, 1);
            v.literals++;
            p += 2;
            continue;
        }
        if (p[0] == '%' && p[1] == '%') {
            value_put(out, &v, "%", 1);
            v.literals++;
            p += 2;
            continue;
        }
        if (*p == '%') {
            p++;
            convert(out, &v, &p, ap);
            continue;
        }
        value_put(out, &v, p, 1);
        v.literals++;
        p++;
    }
    *pp = p;
    return v;
}

void cw_log_fields_vformat(struct cw_log_fields *out, const char *fmt, va_list ap)
{
    out->n = 0;
    out->used = 0;
    out->truncated = false;
    va_list args;
    va_copy(args, ap);
    const char *p = fmt;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *k = p;
        while (is_key_char(*p))
            p++;
        const char *key;
        bool bare = !(*p == '=' && p > k);
        if (!bare) {
            key = store(out, k, (size_t)(p - k));
            p++;
        } else {
            key = store(out, "text", 4);
            p = k;
        }
        if (!key || room(out) < 2 || out->n == CW_LOG_FIELDS_MAX) {
            out->truncated = true; /* the arguments left are not needed */
            break;
        }
        bool quoted;
        struct value v = parse_value(out, &p, &args, &quoted);
        out->buf[out->used++] = '\0'; /* value_put kept this byte */
        if (bare && v.len == 0)
            continue; /* a bare token that formats to nothing ("%s" with "") */
        struct cw_log_field *f = &out->f[out->n++];
        f->key = key;
        f->value = v.start;
        f->value_len = v.len;
        f->quoted = quoted;
        f->number =
            !quoted && v.conversions == 1 && v.literals == 0 && v.numeric && json_number(v.start);
    }
    va_end(args);
}

void cw_log_fields_format(struct cw_log_fields *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cw_log_fields_vformat(out, fmt, ap);
    va_end(ap);
}

void cw_log_fields_add(struct cw_log_fields *out, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (out->n == CW_LOG_FIELDS_MAX || klen + vlen + 2 > room(out)) {
        out->truncated = true;
        return;
    }
    struct cw_log_field *f = &out->f[out->n++];
    f->key = store(out, key, klen);
    f->value = store(out, value, vlen);
    f->value_len = vlen;
    f->number = false;
    f->quoted = false;
}
