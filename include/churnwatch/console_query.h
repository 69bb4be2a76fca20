/* console_query.h - the web console's accounts page (`churnwatch console`,
 * docs/console.md): its query (filters and paging), its links, and the pager that walks the
 * score index */
#ifndef CHURNWATCH_CONSOLE_QUERY_H
#define CHURNWATCH_CONSOLE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/html.h"

#define CW_CONSOLE_PAGE_DEFAULT 50
#define CW_CONSOLE_PAGE_MAX     500

/* The accounts page's query. The strings point into the request (the caller's); NULL: no
 * filter. */
struct cw_console_query {
    const char *grade, *segment, *owner, *stage, *rule;
    const char *search;        /* a substring of the account id */
    const char *renewal_text;  /* renewal_within as given, for the links */
    int64_t renewal_within_ms; /* renewal at now or at most this far ahead; 0: no filter */
    const char *created_text;  /* created_within as given, for the links */
    int64_t created_within_ms; /* created at most this long ago; 0: no filter */
    size_t from;               /* rank in the score index where the page's scan starts */
    size_t size;               /* accounts per page, 1..CW_CONSOLE_PAGE_MAX */
};

/* The query of no parameter: no filter, from 0, CW_CONSOLE_PAGE_DEFAULT per page. */
void cw_console_query_init(struct cw_console_query *q);

/*
 * Take one query parameter (key and value as decoded from the URL): grade, segment, owner,
 * stage, rule, q (search), renewal_within and created_within (durations such as 90d), from,
 * n (page size). An
 * empty value is no filter (an empty form field); an unknown key is ignored. Returns 0, or
 * -1 with err filled (a malformed number or duration) and q unchanged.
 */
int cw_console_query_set(struct cw_console_query *q, const char *key, const char *value, char *err,
                         size_t errsize);

/* True when any filter is set (paging then scans, see struct cw_pager). */
bool cw_console_query_filtered(const struct cw_console_query *q);

/* Append the accounts page's URL for q's filters from rank from, as a double-quoted
 * attribute value ('&' as "&amp;", every value URL-encoded). grade, when not NULL, replaces
 * q's grade ("" drops it): the links of the counts per grade. */
void cw_console_query_href(struct cw_html *h, const struct cw_console_query *q, size_t from,
                           const char *grade);

/*
 * The pager: the page is the first `size` matching accounts at or after rank `from` of the
 * score index (lowest score first). Offer each rank scanned, in order: TAKE (show it), SKIP
 * (it does not match) or STOP (the page is full and this match begins the next page: next
 * is its rank, more is true). An unfiltered page is ranks [from, from + size).
 */
struct cw_pager {
    size_t from, size;
    size_t taken;
    size_t next; /* with more: the next page's from */
    bool more;
};
enum cw_page_step { CW_PAGE_TAKE, CW_PAGE_SKIP, CW_PAGE_STOP };

void cw_pager_init(struct cw_pager *p, size_t from, size_t size);
enum cw_page_step cw_pager_offer(struct cw_pager *p, size_t rank, bool match);
/* The previous page's from, when it can be known: unfiltered, from - size (at least 0);
 * filtered, 0 (the first page: the matches before from are not counted). False on the first
 * page. */
bool cw_pager_prev(const struct cw_pager *p, bool filtered, size_t *from);

#endif /* CHURNWATCH_CONSOLE_QUERY_H */
