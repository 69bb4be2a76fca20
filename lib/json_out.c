/* json_out.c - the JSON values of published messages: strings repaired to UTF-8, numbers
 * rounded to 2 decimals, RFC 3339 UTC times (json_out.h) */
#include "json_out.h"

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

json_t *cw_json_str(const char *s)
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

double cw_json_round2(double x)
{
    if (fabs(x) >= EXACT_INT_LIMIT / 100.0)
        return x;
    double r = round(x * 100.0) / 100.0;
    return r == 0.0 ? 0.0 : r;
}

json_t *cw_json_real(bool has, double x)
{
    if (!has || !isfinite(x))
        return json_null();
    return json_real(cw_json_round2(x));
}

json_t *cw_json_threshold(bool has, double x)
{
    if (!has || !isfinite(x))
        return json_null();
    double r = cw_json_round2(x);
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

json_t *cw_json_time(int64_t ms)
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

void cw_json_put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *ok = false;
}

char *cw_json_line(const json_t *obj, size_t *len)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (text && len)
        *len = strlen(text);
    return text;
}

void cw_json_put_account(json_t *obj, const struct cw_json_account *a, bool *ok)
{
    if (a->segment && *a->segment)
        cw_json_put(obj, "segment", cw_json_str(a->segment), ok);
    if (a->owner && *a->owner)
        cw_json_put(obj, "owner", cw_json_str(a->owner), ok);
    if (a->plan && *a->plan)
        cw_json_put(obj, "plan", cw_json_str(a->plan), ok);
    if (a->has_seats)
        cw_json_put(obj, "seats", json_integer(a->seats), ok);
    if (a->has_renewal_at)
        cw_json_put(obj, "renewal_at", cw_json_time(a->renewal_at_ms), ok);
    if (a->parent_id && *a->parent_id)
        cw_json_put(obj, "parent_id", cw_json_str(a->parent_id), ok);
}
