/* users.h - per-user engagement (docs/users.md): each user's points per day, the points
 * over the window, the rank they earn, and an account's users summed up per rank */
#ifndef CHURNWATCH_USERS_H
#define CHURNWATCH_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "churnwatch/config.h"

/* One day of a user's engagement: the points of its events that day. */
struct cw_eng_day {
    int32_t day; /* local day number */
    uint32_t points;
};

/* The longest stored form of one user's days (window days of "day:points,"). */
#define CW_ENG_TEXT_MAX (CW_MAX_WINDOW_DAYS * 22 + 1)

/* One user's engagement as the score and the CLI see it: days ascending, nothing owned. */
struct cw_user_eng {
    const char *id;
    const struct cw_eng_day *days;
    size_t n_days;
};

/*
 * Add points on day to the days[0..*n) (ascending, at most cap), dropping the days at or
 * before oldest; points at or before oldest are dropped too. Sums saturate at 2^32-1.
 * Returns 0, or -1 when cap is too small (nothing changed).
 */
int cw_eng_add(struct cw_eng_day *days, size_t *n, size_t cap, int32_t day, uint32_t points,
               int32_t oldest);

/* Drop the days at or before oldest from days[0..*n). */
void cw_eng_prune(struct cw_eng_day *days, size_t *n, int32_t oldest);

/* The stored form "day:points,day:points" (ascending) into out; its length, or -1 when it
 * does not fit (out then holds ""). */
int cw_eng_format(const struct cw_eng_day *days, size_t n, char *out, size_t size);

/* Parse a stored form s[0..len) into days (at most cap, ascending, positive points): the
 * count, or -1 when malformed, unordered or longer than cap. */
int cw_eng_parse(const char *s, size_t len, struct cw_eng_day *days, size_t cap);

/* The points of days in the window of window_days ending today (today - window_days, today]. */
uint64_t cw_eng_points(const struct cw_eng_day *days, size_t n, int32_t today,
                       uint32_t window_days);

/* The index of the rank that points earn (uc->ranks, highest first), or -1: none. */
int cw_user_rank(const struct cw_users_config *uc, uint64_t points);

/* A user's trend: the points of the newer half of the window against the older half. */
enum cw_user_trend { CW_TREND_FLAT = 0, CW_TREND_UP, CW_TREND_DOWN };
enum cw_user_trend cw_eng_trend(const struct cw_eng_day *days, size_t n, int32_t today,
                                uint32_t window_days);
const char *cw_user_trend_name(enum cw_user_trend t);

/* An account's users summed up. */
struct cw_users_summary {
    size_t per_rank[CW_MAX_RANKS]; /* users holding each rank */
    size_t ranked;                 /* users with any rank */
    size_t power;                  /* users at users.power_rank or above */
    size_t engaged;                /* users with points in the window */
};

/* Sum up the n users' ranks at today. */
void cw_users_summarize(const struct cw_users_config *uc, const struct cw_user_eng *users, size_t n,
                        int32_t today, struct cw_users_summary *out);

#endif /* CHURNWATCH_USERS_H */
