/* cli_accounts.c - what `churnwatch top` and the console show of an account in a list: the
 * filters both offer and the week's trend */
#include <string.h>

#include "account_eval.h"
#include "cli.h"

bool cw_cli_filter_keep(const struct cw_cli_filter *f, const struct cw_account_data *a,
                        const struct cw_account_eval *e, int64_t now)
{
    if (f->grade && (!e->score.has_score || strcmp(e->score.grade, f->grade) != 0))
        return false;
    if (f->segment && strcmp(a->traits.segment, f->segment) != 0)
        return false;
    if (f->owner && strcmp(a->traits.owner, f->owner) != 0)
        return false;
    if (f->parent && strcmp(a->traits.parent_id, f->parent) != 0)
        return false;
    if (f->stage && strcmp(e->score.stage, f->stage) != 0)
        return false;
    if (f->profile && strcmp(e->score.profile, f->profile) != 0)
        return false;
    if (f->created_within_ms > 0 &&
        (!a->traits.has_created_at || now - a->traits.created_at_ms > f->created_within_ms))
        return false;
    if (f->renewal_within_ms > 0 && (!a->traits.has_renewal_at || a->traits.renewal_at_ms < now ||
                                     a->traits.renewal_at_ms - now > f->renewal_within_ms))
        return false;
    return true;
}

const char *cw_cli_trend(const struct cw_account_data *a, const struct cw_account_eval *e)
{
    for (size_t i = a->n_history; i-- > 0;) {
        if (a->history[i].day > a->today - 7)
            continue;
        if (!e->score.has_score || a->today - 7 - a->history[i].day >= 7)
            break;
        double d = e->score.score - a->history[i].score;
        return d > 2 ? "up" : d < -2 ? "down" : "flat";
    }
    return "-";
}
