/* config_errors.c - the error collector of config loading (config_errors.h) and
 * cw_cfg_err, which reports an error at a YAML node's mark. The bottom of the config
 * modules: it calls none of the other lib/config_*.c files, so every stage can report
 * through it without importing another stage. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

void cw_errs_init(struct cw_errs *e, const char *file, char *buf, size_t size)
{
    memset(e, 0, sizeof *e);
    e->file = file;
    e->buf = buf;
    e->size = size;
    if (buf && size)
        buf[0] = '\0';
}

__attribute__((format(printf, 5, 0))) static void errs_add(struct cw_errs *e, unsigned line,
                                                           unsigned col, const char *prefix,
                                                           const char *fmt, va_list ap)
{
    char msg[2048];
    e->count++;
    int n = snprintf(msg, sizeof msg, "%s", prefix);
    if (n >= 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].text, msg) == 0)
            return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        struct cw_err_item *items = realloc(e->items, cap * sizeof *items);
        if (!items)
            return; /* still counted: the load fails */
        e->items = items;
        e->cap = cap;
    }
    char *text = strdup(msg);
    if (!text)
        return;
    e->items[e->n].line = line ? line : UINT32_MAX;
    e->items[e->n].col = col;
    e->items[e->n].text = text;
    e->n++;
}

void cw_errs_at(struct cw_errs *e, unsigned line, unsigned col, const char *fmt, ...)
{
    char prefix[512];
    va_list ap;
    if (line)
        snprintf(prefix, sizeof prefix, "%s:%u:%u: ", e->file, line, col);
    else
        snprintf(prefix, sizeof prefix, "%s: ", e->file);
    va_start(ap, fmt);
    errs_add(e, line, col, prefix, fmt, ap);
    va_end(ap);
}

void cw_errs_plain(struct cw_errs *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errs_add(e, 0, 0, "", fmt, ap);
    va_end(ap);
}

static bool item_before(const struct cw_err_item *x, const struct cw_err_item *y)
{
    return x->line < y->line || (x->line == y->line && x->col < y->col);
}

void cw_errs_finish(struct cw_errs *e)
{
    size_t len = 0;
    /* stable insertion sort by position: report order breaks ties */
    for (size_t i = 1; i < e->n; i++) {
        struct cw_err_item t = e->items[i];
        size_t j = i;
        for (; j > 0 && item_before(&t, &e->items[j - 1]); j--)
            e->items[j] = e->items[j - 1];
        e->items[j] = t;
    }
    for (size_t i = 0; i < e->n; i++) {
        if (e->buf && e->size > len + 1) {
            int n =
                snprintf(e->buf + len, e->size - len, "%s%s", len ? "\n" : "", e->items[i].text);
            if (n > 0)
                len = (size_t)n >= e->size - len ? e->size - 1 : len + (size_t)n;
        }
        free(e->items[i].text);
    }
    free(e->items);
    e->items = NULL;
    e->n = e->cap = 0;
}

void cw_cfg_err(struct cw_cfg_ctx *ctx, const struct cw_ynode *node, const char *path,
                const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line = node ? node->kline : 0, col = node ? node->kcol : 0;
    if (path && *path)
        cw_errs_at(ctx->errs, line, col, "%s: %s", path, msg);
    else
        cw_errs_at(ctx->errs, line, col, "%s", msg);
}
