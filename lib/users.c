/* users.c - per-user engagement (users.h, docs/users.md): a user's points per day kept in
 * order and pruned to the window, their stored form, and the ranks they earn */
#include "churnwatch/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U32_MAX UINT32_C(4294967295)

void cw_eng_prune(struct cw_eng_day *days, size_t *n, int32_t oldest)
{
    size_t k = 0;
    while (k < *n && days[k].day <= oldest)
        k++;
    if (k > 0) {
        memmove(days, days + k, (*n - k) * sizeof *days);
        *n -= k;
    }
}

int cw_eng_add(struct cw_eng_day *days, size_t *n, size_t cap, int32_t day, uint32_t points,
               int32_t oldest)
{
    if (day > oldest && points > 0) {
        size_t at = *n;
        while (at > 0 && days[at - 1].day > day)
            at--;
        if (at > 0 && days[at - 1].day == day) {
            uint64_t sum = (uint64_t)days[at - 1].points + points;
            days[at - 1].points = sum > U32_MAX ? U32_MAX : (uint32_t)sum;
        } else {
            size_t drop = 0; /* what the prune frees, so that a full array still takes it */
            while (drop < *n && days[drop].day <= oldest)
                drop++;
            if (*n - drop >= cap)
                return -1;
            memmove(days, days + drop, (*n - drop) * sizeof *days);
            *n -= drop;
            at -= drop; /* day > oldest: at >= drop */
            memmove(days + at + 1, days + at, (*n - at) * sizeof *days);
            days[at] = (struct cw_eng_day){day, points};
            (*n)++;
        }
    }
    cw_eng_prune(days, n, oldest);
    return 0;
}

int cw_eng_format(const struct cw_eng_day *days, size_t n, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return -1;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + used, size - used, "%s%ld:%lu", i ? "," : "", (long)days[i].day,
                         (unsigned long)days[i].points);
        if (w < 0 || (size_t)w >= size - used) {
            out[0] = '\0';
            return -1;
        }
        used += (size_t)w;
    }
    return (int)used;
}

/* A decimal integer at s[*i..len) with an optional '-', into *out. */
static bool take_int(const char *s, size_t len, size_t *i, bool sign, long long *out)
{
    bool neg = false;
    if (sign && *i < len && s[*i] == '-') {
        neg = true;
        (*i)++;
    }
    size_t start = *i;
    long long v = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 11)
        v = v * 10 + (s[(*i)++] - '0');
    if (*i == start || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
        return false;
    *out = neg ? -v : v;
    return true;
}

int cw_eng_parse(const char *s, size_t len, struct cw_eng_day *days, size_t cap)
{
    size_t n = 0, i = 0;
    while (i < len) {
        long long day, points;
        if (n > 0 && s[i++] != ',')
            return -1;
        if (!take_int(s, len, &i, true, &day) || i >= len || s[i++] != ':' ||
            !take_int(s, len, &i, false, &points))
            return -1;
        if (n == cap || day < INT32_MIN || day > INT32_MAX || points < 1 || points > U32_MAX ||
            (n > 0 && day <= days[n - 1].day))
            return -1;
        days[n++] = (struct cw_eng_day){(int32_t)day, (uint32_t)points};
    }
    return (int)n;
}

uint64_t cw_eng_points(const struct cw_eng_day *days, size_t n, int32_t today, uint32_t window_days)
{
    uint64_t sum = 0;
    int64_t from = (int64_t)today - (int64_t)window_days;
    for (size_t i = n; i-- > 0 && days[i].day > from;)
        if (days[i].day <= today)
            sum += days[i].points;
    return sum;
}

int cw_user_rank(const struct cw_users_config *uc, uint64_t points)
{
    for (size_t r = 0; r < uc->n_ranks; r++)
        if (points >= uc->ranks[r].min)
            return (int)r;
    return -1;
}

enum cw_user_trend cw_eng_trend(const struct cw_eng_day *days, size_t n, int32_t today,
                                uint32_t window_days)
{
    uint32_t half = window_days / 2 ? window_days / 2 : 1;
    uint64_t newer = cw_eng_points(days, n, today, half);
    uint64_t older = cw_eng_points(days, n, today - (int32_t)half, window_days - half);
    /* a move of a fifth or more of the larger half, either way */
    uint64_t big = newer > older ? newer : older;
    if (newer > older && (newer - older) * 5 >= big)
        return CW_TREND_UP;
    if (older > newer && (older - newer) * 5 >= big)
        return CW_TREND_DOWN;
    return CW_TREND_FLAT;
}

const char *cw_user_trend_name(enum cw_user_trend t)
{
    return t == CW_TREND_UP ? "up" : t == CW_TREND_DOWN ? "down" : "flat";
}

void cw_users_summarize(const struct cw_users_config *uc, const struct cw_user_eng *users, size_t n,
                        int32_t today, struct cw_users_summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        uint64_t p = cw_eng_points(users[i].days, users[i].n_days, today, uc->window_days);
        if (p == 0)
            continue;
        out->engaged++;
        int r = cw_user_rank(uc, p);
        if (r < 0)
            continue;
        out->per_rank[r]++;
        out->ranked++;
        if ((size_t)r <= uc->power_rank)
            out->power++;
    }
}
