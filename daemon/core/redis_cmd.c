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

int cw_rcmd_addll(struct cw_rcmd *c, long long v)
{
    return cw_rcmd_addf(c, "%lld", v);
}

const char *cw_rcmd_arg(const struct cw_rcmd *c, size_t i)
{
    return i < c->n ? c->buf + c->off[i] : "";
}

int cw_rcmd_append(redisContext *ctx, const struct cw_rcmd *c)
{
    if (c->oom || c->n == 0)
        return -1;
    const char **argv = malloc(c->n * sizeof *argv);
    if (!argv)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        argv[i] = c->buf + c->off[i];
    int rc = redisAppendCommandArgv(ctx, (int)c->n, argv, c->lens);
    free(argv);
    return rc == REDIS_OK ? 0 : -1;
}
