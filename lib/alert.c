/* alert.c - encoding of the churnwatch.alert.v1 message (compact JSON, docs/alerts.md) */
#include "churnwatch/alert.h"

#include "churnwatch/enum_names.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest magnitude whose 2-decimal rounding is still meaningful and which an IEEE double
 * holds as an exact integer; beyond it values are emitted unrounded. */
#define EXACT_INT_LIMIT 9007199254740992.0 /* 2^53 */

/* Length of a valid UTF-8 sequence at s (n bytes available), 0 when invalid: no overlong
 * forms, no surrogates, nothing above U+10FFFF (what jansson accepts). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A JSON string of s; NULL becomes null, and bytes that are not valid UTF-8 become U+FFFD
 * so that a damaged name still yields a parseable message. NULL on allocation failure. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *fixed = malloc(n * 3 + 1);
    if (!fixed)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq((const unsigned char *)s + i, n - i);
        if (len == 0) {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(fixed + o, s + i, len);
            o += len;
            i += len;
        }
    }
    fixed[o] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}

/* x rounded to 2 decimals, with -0 folded into 0. */
static double round2(double x)
{
    if (fabs(x) >= EXACT_INT_LIMIT / 100.0)
        return x;
    double r = round(x * 100.0) / 100.0;
    return r == 0.0 ? 0.0 : r;
}

/* A measured number: always a JSON real ("52.0", "37.5"); NaN and infinities are null. */
static json_t *jreal(bool has, double x)
{
    if (!has || !isfinite(x))
        return json_null();
    return json_real(round2(x));
}

/* A configured threshold: whole values print as integers ("40"), others as reals ("0.3"),
 * as an operator writes them in the config. */
static json_t *jthreshold(bool has, double x)
{
    if (!has || !isfinite(x))
        return json_null();
    double r = round2(x);
    if (r == floor(r) && fabs(r) < EXACT_INT_LIMIT)
        return json_integer((json_int_t)r);
    return json_real(r);
}

/* Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 UTC ("2026-11-22T09:00:00Z", ".mmm" only when non-zero); null outside the
 * years 0000..9999, which RFC 3339 cannot write. */
static json_t *jtime(int64_t ms)
{
    /* Floor division, so instants before 1970 land on the right day. */
    int64_t days = ms / 86400000;
    int64_t rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t year;
    unsigned month, mday;
    civil_from_days(days, &year, &month, &mday);
    if (year < 0 || year > 9999)
        return json_null();
    int secs = (int)(rem / 1000), milli = (int)(rem % 1000);
    char buf[40];
    if (milli)
        snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)year, month, mday,
                 secs / 3600, secs / 60 % 60, secs % 60, milli);
    else
        snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)year, month, mday,
                 secs / 3600, secs / 60 % 60, secs % 60);
    return json_string(buf);
}

/* Add key -> value (stealing value); a NULL value (failed allocation) marks *ok false. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *ok = false;
}

char *cw_alert_encode(const struct cw_alert *alert, size_t *len)
{
    json_t *obj = json_object();
    json_t *comps = json_object();
    bool ok = obj && comps;
    if (!ok)
        goto fail;

    put(obj, "schema", json_string(CW_ALERT_SCHEMA), &ok);
    put(obj, "alert_id", jstr(alert->alert_id), &ok);
    put(obj, "account_id", jstr(alert->account_id), &ok);
    put(obj, "rule", jstr(alert->rule), &ok);
    put(obj, "kind", json_string(cw_rule_kind_name(alert->kind)), &ok);
    put(obj, "status", json_string(alert->resolved ? "resolved" : "firing"), &ok);
    put(obj, "severity", json_string(cw_severity_name(alert->severity)), &ok);
    put(obj, "score", jreal(alert->has_score, alert->score), &ok);
    put(obj, "previous_score", jreal(alert->has_previous_score, alert->previous_score), &ok);
    put(obj, "grade", alert->grade && *alert->grade ? jstr(alert->grade) : json_null(), &ok);
    put(obj, "threshold", jthreshold(alert->has_threshold, alert->threshold), &ok);
    put(obj, "touch", jstr(alert->touch), &ok);
    put(obj, "reason", jstr(alert->reason), &ok);
    for (size_t i = 0; ok && i < alert->n_components; i++) {
        const struct cw_alert_component *c = &alert->components[i];
        if (!c->name)
            continue;
        /* A name that is not valid UTF-8 is repaired the same way as other strings. */
        json_t *k = jstr(c->name);
        if (!k) {
            ok = false;
            break;
        }
        put(comps, json_string_value(k), jreal(c->has, c->value), &ok);
        json_decref(k);
    }
    put(obj, "components", comps, &ok);
    comps = NULL; /* owned by obj now (or already released by a failed set) */
    put(obj, "observed_at", jtime(alert->observed_at_ms), &ok);
    put(obj, "emitted_at", jtime(alert->emitted_at_ms), &ok);
    /* Extras after the keys docs/alerts.md lists first. */
    put(obj, "value", jreal(alert->has_value, alert->value), &ok);
    put(obj, "direction", json_string(cw_enum_name(&cw_direction_names, (int)alert->direction)),
        &ok);
    if (alert->segment && *alert->segment)
        put(obj, "segment", jstr(alert->segment), &ok);
    if (alert->owner && *alert->owner)
        put(obj, "owner", jstr(alert->owner), &ok);
    if (alert->plan && *alert->plan)
        put(obj, "plan", jstr(alert->plan), &ok);
    if (alert->has_seats)
        put(obj, "seats", json_integer(alert->seats), &ok);
    if (alert->has_renewal_at)
        put(obj, "renewal_at", jtime(alert->renewal_at_ms), &ok);
    if (alert->profile && *alert->profile)
        put(obj, "profile", jstr(alert->profile), &ok);
    if (alert->stage && *alert->stage)
        put(obj, "stage", jstr(alert->stage), &ok);
    if (alert->reminder)
        put(obj, "reminder", json_true(), &ok);
    if (!ok)
        goto fail;

    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(obj);
    if (text && len)
        *len = strlen(text);
    return text;

fail:
    json_decref(comps);
    json_decref(obj);
    return NULL;
}
