/* backtest_outcomes_csv.c - churn outcomes read from CSV text "account,churned_at"
 * (cw_bt_outcomes_parse_csv, backtest_report.h) */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/backtest_report.h"
#include "churnwatch/event.h"

static void fail(char *err, size_t errsize, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errsize, size_t line, const char *fmt, ...)
{
    if (!err || errsize == 0)
        return;
    int n = snprintf(err, errsize, "line %zu: ", line);
    if (n < 0 || (size_t)n >= errsize)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errsize - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* s[0..*n) without leading and trailing blanks. */
static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && is_space(s[0])) {
        s++;
        (*n)--;
    }
    while (*n > 0 && is_space(s[*n - 1]))
        (*n)--;
    return s;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* churned_at as epoch ms: digits only (epoch ms), YYYY-MM-DD (midnight UTC) or RFC 3339. */
static int parse_when(const char *s, size_t n, int64_t *ms)
{
    if (all_digits(s, n)) {
        if (n > 15) /* beyond year 33658: not a churn date */
            return -1;
        char buf[16];
        memcpy(buf, s, n);
        buf[n] = '\0';
        *ms = strtoll(buf, NULL, 10);
        return 0;
    }
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        char buf[32];
        snprintf(buf, sizeof buf, "%.10sT00:00:00Z", s);
        return cw_rfc3339_parse(buf, strlen(buf), ms);
    }
    return cw_rfc3339_parse(s, n, ms);
}

static int by_account_then_time(const void *a, const void *b)
{
    const struct cw_bt_outcome *x = a, *y = b;
    int c = strcmp(x->account, y->account);
    if (c)
        return c;
    return (x->churned_ms > y->churned_ms) - (x->churned_ms < y->churned_ms);
}

/* Sort by account and keep each account's earliest churn. */
static void sort_dedupe(struct cw_bt_outcomes *o)
{
    if (o->n == 0)
        return;
    qsort(o->v, o->n, sizeof o->v[0], by_account_then_time);
    size_t w = 1;
    for (size_t i = 1; i < o->n; i++) {
        if (strcmp(o->v[i].account, o->v[w - 1].account) == 0)
            free(o->v[i].account);
        else
            o->v[w++] = o->v[i];
    }
    o->n = w;
}

/* Append one outcome; -1 when out of memory. */
static int push(struct cw_bt_outcomes *o, size_t *cap, const char *acct, size_t n, int64_t ms)
{
    if (o->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct cw_bt_outcome *v = realloc(o->v, ncap * sizeof *v);
        if (!v)
            return -1;
        o->v = v;
        *cap = ncap;
    }
    char *a = malloc(n + 1);
    if (!a)
        return -1;
    memcpy(a, acct, n);
    a[n] = '\0';
    o->v[o->n].account = a;
    o->v[o->n].churned_ms = ms;
    o->n++;
    return 0;
}

/* One line (without its newline): 0 added or skipped (blank, header), -1 with err. */
static int parse_line(const char *s, size_t n, size_t lineno, bool first, struct cw_bt_outcomes *o,
                      size_t *cap, char *err, size_t errsize)
{
    const char *line = trim(s, &n);
    if (n == 0)
        return 0;
    const char *comma = memchr(line, ',', n);
    if (!comma) {
        fail(err, errsize, lineno, "expected 2 columns (account,churned_at), found 1");
        return -1;
    }
    size_t an = (size_t)(comma - line);
    size_t wn = n - an - 1;
    const char *acct = trim(line, &an);
    const char *when = trim(comma + 1, &wn);
    if (memchr(when, ',', wn)) {
        fail(err, errsize, lineno, "expected 2 columns (account,churned_at), found more");
        return -1;
    }
    if (first && an == 7 && memcmp(acct, "account", 7) == 0 && wn == 10 &&
        memcmp(when, "churned_at", 10) == 0)
        return 0;
    if (an == 0) {
        fail(err, errsize, lineno, "empty account");
        return -1;
    }
    if (memchr(acct, '\0', an) || memchr(acct, '"', an)) {
        fail(err, errsize, lineno,
             "account holds a NUL byte or a quote (quoted fields are not supported)");
        return -1;
    }
    int64_t ms;
    if (wn == 0) {
        fail(err, errsize, lineno, "empty churned_at");
        return -1;
    }
    if (parse_when(when, wn, &ms) != 0) {
        fail(err, errsize, lineno,
             "churned_at \"%.*s\" is not an RFC 3339 time, a YYYY-MM-DD date or epoch milliseconds",
             (int)(wn > 40 ? 40 : wn), when);
        return -1;
    }
    if (push(o, cap, acct, an, ms) != 0) {
        fail(err, errsize, lineno, "out of memory");
        return -1;
    }
    return 0;
}

int cw_bt_outcomes_parse_csv(const char *text, size_t len, struct cw_bt_outcomes *out, char *err,
                             size_t errsize)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0, lineno = 0, pos = 0;
    bool first = true;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (parse_line(text + pos, n, lineno, first, out, &cap, err, errsize) != 0) {
            cw_bt_outcomes_free(out);
            return -1;
        }
        size_t tn = n;
        trim(text + pos, &tn);
        if (tn > 0) /* only the first line with content may be the header */
            first = false;
        pos += n + (nl ? 1 : 0);
    }
    sort_dedupe(out);
    return 0;
}
