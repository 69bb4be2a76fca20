/* html.c - HTML and URL escaping of untrusted text and the page buffer they append to */
#include "churnwatch/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/text_escape.h"

/* The character reference of c, or NULL when c is written as is. */
static const char *reference(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* HTML-escape the n bytes of s (already display-escaped) into out. */
static size_t html_only(char *out, size_t size, const char *s, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ref = reference(s[i]);
        size_t k = ref ? strlen(ref) : 1;
        if (pos + k < size)
            memcpy(out + pos, ref ? ref : &s[i], k);
        pos += k;
    }
    if (size > 0)
        out[pos < size ? pos : 0] = '\0';
    return pos;
}

size_t cw_html_escape(char *out, size_t size, const char *s, size_t len)
{
    char small[512];
    size_t n = cw_escape_display(small, sizeof small, s, len);
    char *tmp = small;
    if (n >= sizeof small) {
        tmp = malloc(n + 1);
        if (!tmp) {
            if (size > 0)
                out[0] = '\0';
            return 0;
        }
        cw_escape_display(tmp, n + 1, s, len);
    }
    size_t r = html_only(out, size, tmp, n);
    if (tmp != small)
        free(tmp);
    return r;
}

size_t cw_url_encode(char *out, size_t size, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (keep) {
            if (pos + 1 < size)
                out[pos] = (char)c;
            pos++;
        } else {
            if (pos + 3 < size) {
                out[pos] = '%';
                out[pos + 1] = hex[c >> 4];
                out[pos + 2] = hex[c & 15];
            }
            pos += 3;
        }
    }
    if (size > 0)
        out[pos < size ? pos : 0] = '\0';
    return pos;
}

/* Room for n more bytes and the terminator; false (oom set) when it cannot be had. */
static bool reserve(struct cw_html *h, size_t n)
{
    if (h->oom)
        return false;
    if (h->len + n + 1 <= h->cap)
        return true;
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->len + n + 1)
        cap *= 2;
    char *s = realloc(h->s, cap);
    if (!s) {
        h->oom = true;
        return false;
    }
    h->s = s;
    h->cap = cap;
    return true;
}

void cw_html_raw(struct cw_html *h, const char *markup)
{
    size_t n = strlen(markup);
    if (!reserve(h, n))
        return;
    memcpy(h->s + h->len, markup, n + 1);
    h->len += n;
}

void cw_html_printf(struct cw_html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(h, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(h->s + h->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    h->len += (size_t)n;
}

/* Append enc(s) where enc follows the escaping functions' contract. */
static void append_encoded(struct cw_html *h, const char *s,
                           size_t (*enc)(char *, size_t, const char *, size_t))
{
    size_t len = strlen(s);
    size_t n = enc(NULL, 0, s, len);
    if (!reserve(h, n))
        return;
    enc(h->s + h->len, n + 1, s, len);
    h->len += n;
}

void cw_html_text(struct cw_html *h, const char *s)
{
    append_encoded(h, s ? s : "-", cw_html_escape);
}

void cw_html_url(struct cw_html *h, const char *s)
{
    append_encoded(h, s ? s : "", cw_url_encode);
}

void cw_html_free(struct cw_html *h)
{
    free(h->s);
    h->s = NULL;
    h->len = h->cap = 0;
}
