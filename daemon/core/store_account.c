/* store_account.c - the loaded account data: its buffers, its view, its silences */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "store.h"

void cw_account_data_outbox_clear(struct cw_account_data *d)
{
    for (size_t i = 0; i < d->n_outbox; i++)
        free(d->outbox[i].json);
    d->n_outbox = 0;
    for (size_t i = 0; i < d->n_feed_outbox; i++)
        free(d->feed_outbox[i].json);
    d->n_feed_outbox = 0;
}

void cw_account_data_eng_clear(struct cw_account_data *d)
{
    for (size_t i = 0; i < d->n_user_eng; i++) {
        free((char *)d->user_eng[i].id);
        free((struct cw_eng_day *)d->user_eng[i].days);
    }
    d->n_user_eng = 0;
}

int cw_account_data_eng_add(struct cw_account_data *d, const char *id, size_t len,
                            const struct cw_eng_day *days, size_t n)
{
    if (cw_array_reserve(&d->user_eng, &d->cap_user_eng, d->n_user_eng + 1, sizeof *d->user_eng) <
        0)
        return -1;
    char *copy = strndup(id, len);
    struct cw_eng_day *dc = malloc((n ? n : 1) * sizeof *dc);
    if (!copy || !dc) {
        free(copy);
        free(dc);
        return -1;
    }
    memcpy(dc, days, n * sizeof *dc);
    d->user_eng[d->n_user_eng++] = (struct cw_user_eng){.id = copy, .days = dc, .n_days = n};
    return 0;
}

void cw_account_data_free(struct cw_account_data *d)
{
    if (!d)
        return;
    cw_account_data_eng_clear(d);
    free(d->user_eng);
    d->user_eng = NULL;
    d->cap_user_eng = 0;
    cw_account_data_outbox_clear(d);
    cw_account_data_children_clear(d);
    free(d->child_ids);
    free(d->child);
    d->child_ids = NULL;
    d->child = NULL;
    d->cap_children = 0;
    free(d->outbox);
    d->outbox = NULL;
    d->cap_outbox = 0;
    free(d->feed_outbox);
    d->feed_outbox = NULL;
    d->cap_feed_outbox = 0;
    free(d->feed_raw);
    d->feed_raw = NULL;
    d->cap_feed_raw = 0;
    free(d->daily);
    free(d->values);
    d->values = NULL;
    d->cap_values = 0;
    free(d->user_last_day);
    free(d->type_last_ms);
    free(d->history);
    d->daily = NULL;
    d->user_last_day = NULL;
    d->type_last_ms = NULL;
    d->history = NULL;
    d->n_users = d->cap_users = 0;
    d->n_history = d->cap_history = 0;
    d->n_metrics = 0;
    d->n_event_types = 0;
}

int cw_account_data_values_reset(struct cw_account_data *d, const struct cw_config *cfg,
                                 uint32_t horizon)
{
    if (!cw_config_has_values(cfg)) {
        free(d->values);
        d->values = NULL;
        d->cap_values = 0;
        return 0;
    }
    size_t cells = cfg->n_metrics * horizon;
    if (cells > d->cap_values) {
        struct cw_value_day *v = realloc(d->values, cells * sizeof *v);
        if (!v)
            return -1;
        d->values = v;
        d->cap_values = cells;
    }
    /* Only a valued metric's row is ever written or read (a statistic of values needs a
     * valued metric: config_schema.c), and most metrics are counts: zeroing every row took
     * 5% of the daemon's CPU on the shipped config. */
    for (size_t m = 0; m < cfg->n_metrics; m++)
        if (cfg->metrics[m].valued)
            memset(d->values + m * horizon, 0, horizon * sizeof *d->values);
    return 0;
}

void cw_account_data_view(const struct cw_account_data *d, int64_t now_ms,
                          struct cw_account_view *view)
{
    memset(view, 0, sizeof *view);
    view->account_id = d->account_id;
    view->now_ms = now_ms;
    view->today = d->today;
    view->first_day = d->first_day;
    view->horizon = d->horizon;
    view->n_metrics = d->n_metrics;
    view->daily = d->daily;
    view->values = d->values;
    view->user_last_day = d->user_last_day;
    view->n_users = d->n_users;
    view->user_eng = d->user_eng;
    view->n_user_eng = d->n_user_eng;
    view->traits = &d->traits;
    view->last_seen_ms = d->last_seen_ms;
    view->type_last_ms = d->type_last_ms;
}

bool cw_account_data_silenced(const struct cw_account_data *d, const char *rule, int64_t now_ms)
{
    for (size_t i = 0; i < d->n_silences; i++) {
        const struct cw_silence *s = &d->silences[i];
        if (s->until_ms > now_ms && (s->rule[0] == '\0' || (rule && strcmp(s->rule, rule) == 0)))
            return true;
    }
    return false;
}
