/* json_out.h - private to lib: the JSON values of the messages churnwatch publishes
 * (json_out.c), shared by the alert (alert.c) and the score feed (score_feed.c) so that both
 * write strings, numbers and times the same way (docs/alerts.md) */
#ifndef CHURNWATCH_JSON_OUT_H
#define CHURNWATCH_JSON_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A JSON string of s; NULL becomes null, and bytes that are not valid UTF-8 become U+FFFD
 * so that a damaged name still yields a parseable message. NULL on allocation failure. */
json_t *cw_json_str(const char *s);

/* x rounded to 2 decimals, with -0 folded into 0 (magnitudes beyond 2^53 / 100 unrounded). */
double cw_json_round2(double x);

/* A measured number: always a JSON real ("52.0", "37.5"), rounded to 2 decimals; NaN,
 * infinities and has == false are null. */
json_t *cw_json_real(bool has, double x);

/* A configured threshold: whole values print as integers ("40"), others as reals ("0.3"),
 * as an operator writes them in the config; null as cw_json_real. */
json_t *cw_json_threshold(bool has, double x);

/* RFC 3339 UTC ("2026-11-22T09:00:00Z", ".mmm" only when non-zero); null outside the
 * years 0000..9999, which RFC 3339 cannot write. */
json_t *cw_json_time(int64_t ms);

/* Add key -> value to obj (stealing value); a NULL value (failed allocation) or a failed
 * set marks *ok false. */
void cw_json_put(json_t *obj, const char *key, json_t *value, bool *ok);

/* Who an account is, as alerts and the score feed both carry it (docs/alerts.md). */
struct cw_json_account {
    const char *segment; /* NULL or "": omitted */
    const char *owner;   /* NULL or "": omitted */
    const char *plan;    /* NULL or "": omitted */
    bool has_seats;
    int64_t seats;
    bool has_renewal_at;
    int64_t renewal_at_ms;
    const char *parent_id; /* NULL or "": omitted */
};

/* Add "segment", "owner", "plan", "seats", "renewal_at" and "parent_id" to obj, each only
 * when known. */
void cw_json_put_account(json_t *obj, const struct cw_json_account *a, bool *ok);

/* obj as one line of compact JSON, keys in insertion order, reals with 15 significant
 * digits (0.17, never 0.17000000000000001). malloc'd (length in *len when len is not NULL),
 * or NULL. obj is not released. */
char *cw_json_line(const json_t *obj, size_t *len);

#endif /* CHURNWATCH_JSON_OUT_H */
