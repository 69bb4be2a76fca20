/* clock.c - the daemon's clock: per-partition event-time watermark while behind, wall clock once
 * live */
#include "churnwatch/clock.h"

#include <stdlib.h>
#include <string.h>

void cw_clock_init(struct cw_clock *c, int64_t slack_ms)
{
    memset(c, 0, sizeof *c);
    c->last_ms = -1;
    c->held_ms = -1;
    c->slack_ms = slack_ms;
}

void cw_clock_free(struct cw_clock *c)
{
    for (size_t i = 0; i < c->n_parts; i++)
        free(c->parts[i].topic);
    free(c->parts);
    c->parts = NULL;
    c->n_parts = c->cap_parts = 0;
}

/* The entry of topic/partition, created when new (NULL when out of memory). */
static struct cw_clock_part *part_get(struct cw_clock *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->n_parts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    if (c->n_parts == c->cap_parts) {
        size_t cap = c->cap_parts ? c->cap_parts * 2 : 16;
        struct cw_clock_part *p = realloc(c->parts, cap * sizeof *p);
        if (!p)
            return NULL;
        c->parts = p;
        c->cap_parts = cap;
    }
    char *t = strdup(topic);
    if (!t)
        return NULL;
    struct cw_clock_part *p = &c->parts[c->n_parts++];
    *p = (struct cw_clock_part){.topic = t, .partition = partition, .watermark_ms = -1};
    return p;
}

int cw_clock_observe(struct cw_clock *c, const char *topic, int32_t partition, int64_t event_ms)
{
    struct cw_clock_part *p = part_get(c, topic, partition);
    if (!p)
        return -1;
    if (event_ms > p->watermark_ms)
        p->watermark_ms = event_ms;
    p->idle = false;
    return 0;
}

int cw_clock_set_idle(struct cw_clock *c, const char *topic, int32_t partition, bool idle)
{
    struct cw_clock_part *p = part_get(c, topic, partition);
    if (!p)
        return -1;
    p->idle = idle;
    return 0;
}

void cw_clock_forget(struct cw_clock *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        if (c->parts[i].partition != partition || strcmp(c->parts[i].topic, topic) != 0)
            continue;
        free(c->parts[i].topic);
        c->parts[i] = c->parts[--c->n_parts];
        return;
    }
}

int64_t cw_clock_watermark(struct cw_clock *c)
{
    int64_t min = INT64_MAX, max = -1;
    bool busy = false, unseen = false;
    for (size_t i = 0; i < c->n_parts; i++) {
        const struct cw_clock_part *p = &c->parts[i];
        if (p->watermark_ms > max)
            max = p->watermark_ms;
        if (p->idle)
            continue;
        busy = true;
        if (p->watermark_ms < 0)
            unseen = true;
        else if (p->watermark_ms < min)
            min = p->watermark_ms;
    }
    if (!busy)
        return c->held_ms > max ? c->held_ms : max; /* all consumed: the newest time seen */
    if (unseen || min == INT64_MAX)
        return c->held_ms; /* a backlog not yet seen: hold */
    c->held_ms = min;
    return min;
}

bool cw_clock_ahead(struct cw_clock *c, const struct cw_clock_part *p, int64_t window_ms)
{
    if (p->idle || p->watermark_ms < 0)
        return false;
    int64_t wm = cw_clock_watermark(c);
    return wm < 0 || p->watermark_ms - wm > window_ms;
}

int64_t cw_clock_now(struct cw_clock *c, int64_t wall_ms, bool caught_up)
{
    int64_t wm = cw_clock_watermark(c);
    if (caught_up || (wm >= 0 && wall_ms - wm <= c->slack_ms)) {
        /* Live: the wall clock, protected against it stepping back. */
        c->live = true;
        if (wall_ms > c->last_ms)
            c->last_ms = wall_ms;
        return c->last_ms;
    }
    c->live = false;
    if (wm < 0)
        return -1; /* unknown until the first event or the end of the backlog */
    /* Behind: event time, even after a live spell (a daemon started on an empty topic
     * and then fed a backfill judges that history in event time). */
    return wm < wall_ms ? wm : wall_ms;
}
