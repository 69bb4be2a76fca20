/* score_profile.c - which lifecycle stage an account is in and which scorecard (profile)
 * scores it, at the instant judged (docs/configuration.md "Stages and profiles") */
#include <string.h>

#include "churnwatch/score.h"

/* created_at at most `within` before now (an account created "in the future" by a clock
 * skew counts as just created). */
static bool created_within(const struct cw_traits *t, int64_t now_ms, int64_t within_ms)
{
    return t->has_created_at &&
           (t->created_at_ms >= now_ms || now_ms - t->created_at_ms < within_ms);
}

/* renewal_at now or at most `within` ahead; a renewal date passed is no renewal window. */
static bool renewal_within(const struct cw_traits *t, int64_t now_ms, int64_t within_ms)
{
    return t->has_renewal_at && t->renewal_at_ms >= now_ms &&
           t->renewal_at_ms - now_ms <= within_ms;
}

int cw_score_stage(const struct cw_config *cfg, const struct cw_account_view *acct)
{
    const struct cw_traits *t = acct->traits;
    for (size_t i = 0; i < cfg->score.n_stages; i++) {
        const struct cw_stage *st = &cfg->score.stages[i];
        if (st->created_within_ms > 0 &&
            (!t || !created_within(t, acct->now_ms, st->created_within_ms)))
            continue;
        if (st->renewal_within_ms > 0 &&
            (!t || !renewal_within(t, acct->now_ms, st->renewal_within_ms)))
            continue;
        return (int)i;
    }
    return -1;
}

static bool profile_matches(const struct cw_profile *p, const char *segment, int stage)
{
    if (p->segments.n > 0) {
        size_t i = 0;
        while (i < p->segments.n && strcmp(p->segments.items[i], segment) != 0)
            i++;
        if (i == p->segments.n)
            return false;
    }
    if (p->n_stages > 0) {
        size_t i = 0;
        while (i < p->n_stages && p->stages[i] != stage)
            i++;
        if (i == p->n_stages)
            return false;
    }
    return true;
}

int cw_score_profile(const struct cw_config *cfg, const struct cw_account_view *acct, int stage)
{
    const char *segment = acct->traits ? acct->traits->segment : "";
    for (size_t i = 0; i < cfg->score.n_profiles; i++)
        if (profile_matches(&cfg->score.profiles[i], segment, stage))
            return (int)i;
    return -1;
}
