/* rfc3339.c - RFC 3339 timestamps <-> epoch milliseconds (UTC), zone-free */
#include <stdint.h>

#include "churnwatch/event.h"

#define MS_PER_MINUTE (INT64_C(60) * CW_MS_PER_SECOND)
#define MS_PER_HOUR   (INT64_C(60) * MS_PER_MINUTE)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 29;
    return mdays[month - 1];
}

/* Read exactly n decimal digits at *p (bounded by end) into *out; advances *p. */
static int digits(const char **p, const char *end, int n, unsigned *out)
{
    unsigned v = 0;
    if (end - *p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Consume the single character c at *p; advances *p. */
static int expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return -1;
    (*p)++;
    return 0;
}

int cw_rfc3339_parse(const char *text, size_t len, int64_t *out_ms)
{
    const char *p = text, *end = text + len;
    unsigned year, month, mday, hour, minute, second, ms = 0;

    if (digits(&p, end, 4, &year) || expect(&p, end, '-') || digits(&p, end, 2, &month) ||
        expect(&p, end, '-') || digits(&p, end, 2, &mday))
        return -1;
    if (p >= end || (*p != 'T' && *p != 't'))
        return -1;
    p++;
    if (digits(&p, end, 2, &hour) || expect(&p, end, ':') || digits(&p, end, 2, &minute) ||
        expect(&p, end, ':') || digits(&p, end, 2, &second))
        return -1;
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || mday < 1 ||
        mday > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
        return -1;

    if (p < end && *p == '.') {
        /* Any number of digits; kept to the millisecond, the rest truncated. */
        unsigned n = 0;
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (n < 3)
                ms = ms * 10 + (unsigned)(*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }

    int64_t offset_ms;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
        offset_ms = 0;
    } else if (p < end && (*p == '+' || *p == '-')) {
        /* "-00:00" (RFC 3339 4.3, unknown local offset) denotes UTC and is accepted. */
        int sign = *p == '-' ? -1 : 1;
        unsigned oh, om;
        p++;
        if (digits(&p, end, 2, &oh) || expect(&p, end, ':') || digits(&p, end, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset_ms = sign * ((int64_t)oh * MS_PER_HOUR + (int64_t)om * MS_PER_MINUTE);
    } else {
        return -1;
    }
    if (p != end)
        return -1;

    /* A leap second (:60) is folded into the next second by plain arithmetic. */
    int64_t t = days_from_civil(year, month, mday) * CW_MS_PER_DAY + (int64_t)hour * MS_PER_HOUR +
                (int64_t)minute * MS_PER_MINUTE + (int64_t)second * CW_MS_PER_SECOND + (int64_t)ms -
                offset_ms;
    if (t < 0)
        return -1; /* before the epoch once the offset is applied */
    *out_ms = t;
    return 0;
}

void cw_rfc3339_format(int64_t ms, char out[32])
{
    /* Floor division, so instants before 1970 format as the right civil time. */
    int64_t days = ms / CW_MS_PER_DAY;
    int64_t rem = ms % CW_MS_PER_DAY;
    if (rem < 0) {
        rem += CW_MS_PER_DAY;
        days--;
    }
    int64_t year;
    unsigned month, mday;
    civil_from_days(days, &year, &month, &mday);

    /* Written by hand: the fields' ranges are known here, not to snprintf's checker. */
    unsigned r = (unsigned)rem;
    char *w = out;
    if (year < 0) {
        *w++ = '-';
        year = -year;
    }
    char digits_buf[20];
    int n = 0;
    do {
        digits_buf[n++] = (char)('0' + year % 10);
        year /= 10;
    } while (year > 0 || n < 4);
    while (n > 0)
        *w++ = digits_buf[--n];
    const unsigned fields[5] = {month, mday, r / 3600000u, r / 60000u % 60u, r / 1000u % 60u};
    const char seps[5] = {'-', '-', 'T', ':', ':'};
    for (int i = 0; i < 5; i++) {
        *w++ = seps[i];
        *w++ = (char)('0' + fields[i] / 10);
        *w++ = (char)('0' + fields[i] % 10);
    }
    unsigned milli = r % 1000u;
    if (milli) {
        *w++ = '.';
        *w++ = (char)('0' + milli / 100);
        *w++ = (char)('0' + milli / 10 % 10);
        *w++ = (char)('0' + milli % 10);
    }
    *w++ = 'Z';
    *w = '\0';
}
