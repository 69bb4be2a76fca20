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
    c->held_events_ms = -1;
    c->lateness_ref_ms = -1;
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

const struct cw_clock_part *cw_clock_part_find(const struct cw_clock *c, const char *topic,
                                               int32_t partition)
{
    for (size_t i = 0; i < c->n_parts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    return NULL;
}

/* The entry of topic/partition, created when new (NULL when out of memory). */
static struct cw_clock_part *part_get(struct cw_clock *c, const char *topic, int32_t partition)
{
    const struct cw_clock_part *found = cw_clock_part_find(c, topic, partition);
    if (found)
        return &c->parts[found - c->parts];
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
    *p = (struct cw_clock_part){
        .topic = t, .partition = partition, .watermark_ms = -1, .floor_ms = -1};
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

int cw_clock_floor(struct cw_clock *c, const char *topic, int32_t partition, int64_t floor_ms)
{
    struct cw_clock_part *p = part_get(c, topic, partition);
    if (!p)
        return -1;
    if (floor_ms > p->floor_ms)
        p->floor_ms = floor_ms;
    p->floored = true;
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
    const struct cw_clock_part *found = cw_clock_part_find(c, topic, partition);
    if (!found)
        return;
    size_t i = (size_t)(found - c->parts);
    free(c->parts[i].topic);
    c->parts[i] = c->parts[--c->n_parts];
}

/* A partition's time: its watermark, or its floor when that is higher and floors count. */
static int64_t part_time(const struct cw_clock_part *p, bool floors)
{
    return floors && p->floor_ms > p->watermark_ms ? p->floor_ms : p->watermark_ms;
}

/* The watermark over the partitions (cw_clock_watermark), with or without their floors;
 * *held is the value kept while a partition with a backlog has no time yet. */
static int64_t watermark(const struct cw_clock *c, bool floors, int64_t *held)
{
    int64_t min = INT64_MAX, max = -1;
    bool busy = false, unseen = false;
    for (size_t i = 0; i < c->n_parts; i++) {
        int64_t t = part_time(&c->parts[i], floors);
        if (t > max)
            max = t;
        if (c->parts[i].idle)
            continue;
        busy = true;
        if (t < 0)
            unseen = true;
        else if (t < min)
            min = t;
    }
    if (!busy)
        return *held > max ? *held : max; /* all consumed: the newest time seen */
    if (unseen || min == INT64_MAX)
        return *held; /* a backlog not yet seen: hold */
    *held = min;
    return min;
}

int64_t cw_clock_watermark(struct cw_clock *c)
{
    return watermark(c, true, &c->held_ms);
}

bool cw_clock_ahead(struct cw_clock *c, const struct cw_clock_part *p, int64_t window_ms)
{
    int64_t t = part_time(p, true);
    if (p->idle || t < 0)
        return false;
    int64_t wm = cw_clock_watermark(c);
    return wm < 0 || t - wm > window_ms;
}

int64_t cw_clock_now(struct cw_clock *c, int64_t wall_ms, bool caught_up)
{
    int64_t events = watermark(c, false, &c->held_events_ms);
    int64_t wm = cw_clock_watermark(c);
    if (caught_up || (events >= 0 && wall_ms - events <= c->slack_ms)) {
        /* Live: the wall clock, protected against it stepping back. */
        c->live = true;
        if (wall_ms > c->last_ms)
            c->last_ms = wall_ms;
        c->lateness_ref_ms = c->last_ms;
        return c->last_ms;
    }
    c->live = false;
    c->lateness_ref_ms = events < wall_ms ? events : wall_ms;
    if (wm < 0)
        return -1; /* unknown until the first event or the end of the backlog */
    /* Behind: event time, even after a live spell (a daemon started on an empty topic
     * and then fed a backfill judges that history in event time). */
    return wm < wall_ms ? wm : wall_ms;
}
