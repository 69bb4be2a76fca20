/* console_query.c - the web console's accounts page query: parameters, links, the pager */
#include "churnwatch/console_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/config.h"

void cw_console_query_init(struct cw_console_query *q)
{
    memset(q, 0, sizeof *q);
    q->size = CW_CONSOLE_PAGE_DEFAULT;
}

/* A whole decimal number in [min, max]. */
static int parse_size(const char *v, size_t min, size_t max, size_t *out)
{
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return -1;
    *out = (size_t)n;
    return 0;
}

int cw_console_query_set(struct cw_console_query *q, const char *key, const char *value, char *err,
                         size_t errsize)
{
    if (!value || !*value)
        value = NULL; /* an empty form field: no filter */
    if (strcmp(key, "grade") == 0)
        q->grade = value;
    else if (strcmp(key, "segment") == 0)
        q->segment = value;
    else if (strcmp(key, "owner") == 0)
        q->owner = value;
    else if (strcmp(key, "stage") == 0)
        q->stage = value;
    else if (strcmp(key, "rule") == 0)
        q->rule = value;
    else if (strcmp(key, "q") == 0)
        q->search = value;
    else if (strcmp(key, "renewal_within") == 0) {
        int64_t ms = 0;
        if (value && (cw_duration_parse(value, &ms) != 0 || ms <= 0)) {
            snprintf(err, errsize, "renewal_within wants a duration such as 90d");
            return -1;
        }
        q->renewal_text = value;
        q->renewal_within_ms = value ? ms : 0;
    } else if (strcmp(key, "created_within") == 0) {
        int64_t ms = 0;
        if (value && (cw_duration_parse(value, &ms) != 0 || ms <= 0)) {
            snprintf(err, errsize, "created_within wants a duration such as 30d");
            return -1;
        }
        q->created_text = value;
        q->created_within_ms = value ? ms : 0;
    } else if (strcmp(key, "from") == 0) {
        size_t v = 0;
        if (value && parse_size(value, 0, (size_t)1 << 40, &v) != 0) {
            snprintf(err, errsize, "from wants a rank (a whole number)");
            return -1;
        }
        q->from = v;
    } else if (strcmp(key, "n") == 0) {
        size_t v = CW_CONSOLE_PAGE_DEFAULT;
        if (value && parse_size(value, 1, CW_CONSOLE_PAGE_MAX, &v) != 0) {
            snprintf(err, errsize, "n wants a page size of 1..%d", CW_CONSOLE_PAGE_MAX);
            return -1;
        }
        q->size = v;
    }
    return 0;
}

bool cw_console_query_filtered(const struct cw_console_query *q)
{
    return q->grade || q->segment || q->owner || q->stage || q->rule || q->search ||
           q->renewal_within_ms > 0 || q->created_within_ms > 0;
}

/* "?" before the first parameter, "&amp;" before the others. */
static void param(struct cw_html *h, bool *first, const char *key, const char *value)
{
    if (!value)
        return;
    cw_html_raw(h, *first ? "?" : "&amp;");
    cw_html_raw(h, key);
    cw_html_raw(h, "=");
    cw_html_url(h, value);
    *first = false;
}

void cw_console_query_href(struct cw_html *h, const struct cw_console_query *q, size_t from,
                           const char *grade)
{
    bool first = true;
    cw_html_raw(h, "/");
    if (grade)
        param(h, &first, "grade", *grade ? grade : NULL);
    else
        param(h, &first, "grade", q->grade);
    param(h, &first, "segment", q->segment);
    param(h, &first, "owner", q->owner);
    param(h, &first, "stage", q->stage);
    param(h, &first, "rule", q->rule);
    param(h, &first, "renewal_within", q->renewal_text);
    param(h, &first, "created_within", q->created_text);
    param(h, &first, "q", q->search);
    if (q->size != CW_CONSOLE_PAGE_DEFAULT) {
        char n[24];
        snprintf(n, sizeof n, "%zu", q->size);
        param(h, &first, "n", n);
    }
    if (from > 0) {
        char f[24];
        snprintf(f, sizeof f, "%zu", from);
        param(h, &first, "from", f);
    }
}

void cw_pager_init(struct cw_pager *p, size_t from, size_t size)
{
    memset(p, 0, sizeof *p);
    p->from = from;
    p->size = size;
}

enum cw_page_step cw_pager_offer(struct cw_pager *p, size_t rank, bool match)
{
    if (!match)
        return CW_PAGE_SKIP;
    if (p->taken < p->size) {
        p->taken++;
        return CW_PAGE_TAKE;
    }
    p->more = true;
    p->next = rank;
    return CW_PAGE_STOP;
}

bool cw_pager_prev(const struct cw_pager *p, bool filtered, size_t *from)
{
    if (p->from == 0)
        return false;
    *from = filtered || p->from < p->size ? 0 : p->from - p->size;
    return true;
}
