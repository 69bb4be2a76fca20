/* clock.c - the daemon's clock: event-time watermark while catching up, wall clock once live */
#include "churnwatch/clock.h"

void cw_clock_init(struct cw_clock *c, int64_t slack_ms)
{
    c->watermark_ms = -1;
    c->last_ms = -1;
    c->slack_ms = slack_ms;
    c->live = false;
}

void cw_clock_observe(struct cw_clock *c, int64_t event_ms)
{
    if (event_ms > c->watermark_ms)
        c->watermark_ms = event_ms;
}

int64_t cw_clock_now(struct cw_clock *c, int64_t wall_ms, bool caught_up)
{
    int64_t now;
    if (caught_up || (c->watermark_ms >= 0 && wall_ms - c->watermark_ms <= c->slack_ms)) {
        now = wall_ms;
        c->live = true;
    } else if (c->watermark_ms >= 0) {
        now = c->watermark_ms < wall_ms ? c->watermark_ms : wall_ms;
        c->live = false;
    } else {
        return c->last_ms; /* unknown until the first event or the end of the backlog */
    }
    if (now < c->last_ms)
        now = c->last_ms;
    c->last_ms = now;
    return now;
}
