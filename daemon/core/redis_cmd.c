/* redis_cmd.c - binary-safe Redis command argument buffers */
#include "redis_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cw_rcmd_reset(struct cw_rcmd *c)
{
    c->len = 0;
    c->n = 0;
    c->oom = 0;
}

void cw_rcmd_free(struct cw_rcmd *c)
{
    if (!c)
        return;
    free(c->buf);
    free(c->off);
    free(c->lens);
    free(c->wire);
    memset(c, 0, sizeof *c);
}

/* Make room for one more argument of len bytes (plus its NUL). */
static int reserve(struct cw_rcmd *c, size_t len)
{
    if (c->oom)
        return -1;
    if (c->n == c->capn) {
        size_t capn = c->capn ? c->capn * 2 : 16;
        size_t *off = realloc(c->off, capn * sizeof *off);
        if (!off)
            goto oom;
        c->off = off;
        size_t *lens = realloc(c->lens, capn * sizeof *lens);
        if (!lens)
            goto oom;
        c->lens = lens;
        c->capn = capn;
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + len + 1)
            cap *= 2;
        char *buf = realloc(c->buf, cap);
        if (!buf)
            goto oom;
        c->buf = buf;
        c->cap = cap;
    }
    return 0;
oom:
    c->oom = 1;
    return -1;
}

int cw_rcmd_add(struct cw_rcmd *c, const void *data, size_t len)
{
    if (reserve(c, len) < 0)
        return -1;
    if (len)
        memcpy(c->buf + c->len, data, len);
    c->buf[c->len + len] = '\0';
    c->off[c->n] = c->len;
    c->lens[c->n] = len;
    c->n++;
    c->len += len + 1;
    return 0;
}

int cw_rcmd_adds(struct cw_rcmd *c, const char *s)
{
    return cw_rcmd_add(c, s, strlen(s));
}

int cw_rcmd_addf(struct cw_rcmd *c, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        c->oom = 1;
        return -1;
    }
    if ((size_t)n < sizeof small)
        return cw_rcmd_add(c, small, (size_t)n);
    if (reserve(c, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(c->buf + c->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->off[c->n] = c->len;
    c->lens[c->n] = (size_t)n;
    c->n++;
    c->len += (size_t)n + 1;
    return 0;
}

size_t cw_rcmd_lltoa(long long v, char *out)
{
    /* The magnitude as unsigned: -LLONG_MIN does not fit a long long. */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    char rev[CW_RCMD_LL_MAX];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = rev[--n];
    return len;
}

int cw_rcmd_addll(struct cw_rcmd *c, long long v)
{
    char text[CW_RCMD_LL_MAX];
    return cw_rcmd_add(c, text, cw_rcmd_lltoa(v, text));
}

int cw_rcmd_add_pair(struct cw_rcmd *c, long long a, long long b)
{
    char text[2 * CW_RCMD_LL_MAX + 1];
    size_t n = cw_rcmd_lltoa(a, text);
    text[n++] = ':';
    n += cw_rcmd_lltoa(b, text + n);
    return cw_rcmd_add(c, text, n);
}

int cw_rcmd_add_prefixed(struct cw_rcmd *c, const char *prefix, const char *s)
{
    size_t np = strlen(prefix), ns = strlen(s);
    if (reserve(c, np + ns) < 0)
        return -1;
    memcpy(c->buf + c->len, prefix, np);
    memcpy(c->buf + c->len + np, s, ns);
    c->buf[c->len + np + ns] = '\0';
    c->off[c->n] = c->len;
    c->lens[c->n] = np + ns;
    c->n++;
    c->len += np + ns + 1;
    return 0;
}

const char *cw_rcmd_arg(const struct cw_rcmd *c, size_t i)
{
    return i < c->n ? c->buf + c->off[i] : "";
}

/* "<prefix><n>\r\n" at p: the bytes written. */
static size_t put_header(char *p, char prefix, size_t n)
{
    p[0] = prefix;
    size_t len = 1 + cw_rcmd_lltoa((long long)n, p + 1);
    p[len++] = '\r';
    p[len++] = '\n';
    return len;
}

size_t cw_rcmd_encode(struct cw_rcmd *c, const char **wire)
{
    if (c->oom || c->n == 0)
        return 0;
    /* An upper bound: each header at most a prefix, CW_RCMD_LL_MAX digits and CRLF. */
    const size_t header_max = 1 + CW_RCMD_LL_MAX + 2;
    size_t need = header_max;
    for (size_t i = 0; i < c->n; i++)
        need += header_max + c->lens[i] + 2;
    if (need > c->wire_cap) {
        size_t cap = c->wire_cap ? c->wire_cap : 1024;
        while (cap < need)
            cap *= 2;
        char *w = realloc(c->wire, cap);
        if (!w)
            return 0;
        c->wire = w;
        c->wire_cap = cap;
    }
    char *p = c->wire;
    size_t len = put_header(p, '*', c->n);
    for (size_t i = 0; i < c->n; i++) {
        len += put_header(p + len, '$', c->lens[i]);
        if (c->lens[i])
            memcpy(p + len, c->buf + c->off[i], c->lens[i]);
        len += c->lens[i];
        p[len++] = '\r';
        p[len++] = '\n';
    }
    *wire = c->wire;
    return len;
}

int cw_rcmd_append(redisContext *ctx, struct cw_rcmd *c)
{
    const char *wire;
    size_t len = cw_rcmd_encode(c, &wire);
    if (len == 0)
        return -1;
    return redisAppendFormattedCommand(ctx, wire, len) == REDIS_OK ? 0 : -1;
}
