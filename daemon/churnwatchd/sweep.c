/* sweep.c - the periodic rescoring of this instance's share of the accounts, paced over
 * sweep_interval */
#include "sweep.h"

#include <string.h>

#include "churnwatch/cluster.h"

#include "log.h"
#include "partitions.h"
#include "score_pass.h"

#define PAGE            256
#define RESCORE_POLL_MS 1000
#define METADATA_MS     2000
#define TICK_BUDGET_MS  100 /* longest a tick sweeps while live */
/* Accounts a cycle remembers as scored by batches (8-10 MB at most: the ids, their array
 * and index); past it they are swept again, as every account was before. */
#define SKIP_MAX 131072

/*
 * Several instances in one consumer group share the sweep through the group's
 * assignment: account A belongs to partition CRC16(A) mod P of the first topic (P its
 * partition count) and is swept by the instance that partition is assigned to. The group
 * assigns every partition to exactly one live member, so each account is swept by one
 * instance per interval, and when a member dies its partitions, and with them its share,
 * move to the others (which start a cycle at once: nothing waits a whole interval). One
 * instance owns every partition: it sweeps everything. While P is unknown (metadata
 * unreachable) every account is swept: twice is harmless (rescoring is a compare-and-set),
 * missing one is not.
 */
static bool in_share(struct cw_daemon *d, const char *account)
{
    struct cw_sweep *s = &d->sweep;
    if (!d->consumer || s->share_partitions <= 0 || d->rt.cfg->kafka.topics.n == 0)
        return true;
    int32_t p = (int32_t)(cw_crc16(account, strlen(account)) % (unsigned)s->share_partitions);
    return cw_consumer_owns(d->consumer, d->rt.cfg->kafka.topics.items[0], p);
}

/* After a rebalance gave this instance partitions: learn P again and return true. */
static bool share_changed(struct cw_daemon *d)
{
    struct cw_sweep *s = &d->sweep;
    if (!d->consumer)
        return false;
    uint64_t g = cw_consumer_gained(d->consumer);
    if (g == s->share_gained)
        return false;
    s->share_gained = g;
    s->share_partitions = d->rt.cfg->kafka.topics.n == 0
                              ? -1
                              : cw_consumer_partition_count(
                                    d->consumer, d->rt.cfg->kafka.topics.items[0], METADATA_MS);
    if (s->share_partitions <= 0)
        cw_log_warn("sweep share unknown, sweeping every account",
                    "error=\"no partition count for the first topic\"");
    return true;
}

static void cycle_start(struct cw_sweep *s, int64_t wall, const char *why)
{
    s->running = true;
    s->cursor = 0;
    s->cycle_start = wall;
    s->done = 0;
    s->skipped = 0;
    cw_id_set_clear(&s->scored);
    cw_log_debug("sweep started", "why=%s expected_accounts=%llu", why,
                 (unsigned long long)s->total);
}

/* Whether the cycle has fallen behind an even pace over the interval. */
static bool behind_schedule(const struct cw_sweep *s, int64_t wall, int64_t interval)
{
    if (s->total == 0)
        return true; /* first cycle: size unknown, one page per tick */
    double elapsed = (double)(wall - s->cycle_start) / (double)interval;
    return (double)s->done <= elapsed * (double)s->total;
}

/* Score the next page of the cycle (this instance's share of it); the end of the index
 * completes the cycle. 0, or -1 when it failed (the same page is retried later). */
static int sweep_page(struct cw_daemon *d, int64_t now)
{
    struct cw_sweep *s = &d->sweep;
    static char ids[PAGE][CW_ID_MAX + 1];
    const char *ptrs[PAGE];
    char err[256];
    int64_t wall = cw_wall_ms();
    uint64_t cursor = s->cursor;
    int n = cw_store_scan_accounts(d->store, &cursor, ids, PAGE, err, sizeof err);
    if (n < 0) {
        cw_stat_add(&d->stats.redis_errors, 1);
        cw_log_warn("sweep scan failed, will retry", "error=\"%s\"", err);
        return -1;
    }
    int mine = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        if (!in_share(d, ids[i]))
            continue;
        if (cw_id_set_has(&s->scored, ids[i]))
            skipped++; /* scored by a batch since the cycle started */
        else
            ptrs[mine++] = ids[i];
    }
    if (mine > 0 && cw_score_pass(d, ptrs, (size_t)mine, now) != 0)
        return -1;
    s->cursor = cursor;
    s->done += (uint64_t)n;
    s->skipped += (uint64_t)skipped;
    cw_stat_add(&d->stats.sweep_skipped, (uint64_t)skipped);
    cw_log_debug("sweep page", "scored=%d skipped=%d clock=%lld", mine, skipped, (long long)now);
    if (cursor == 0) {
        bool behind = !d->clock.live;
        s->running = false;
        s->total = s->done;
        s->next_cycle = s->cycle_start + d->rt.cfg->sweep_interval_ms;
        cw_stat_add(&d->stats.sweeps_completed, 1);
        cw_hist_observe(&d->stats.sweep_seconds, (uint64_t)(wall - s->cycle_start) * 1000u);
        cw_log(behind ? CW_LOG_DEBUG : CW_LOG_INFO, "sweep completed",
               "accounts=%llu skipped=%llu duration_ms=%lld", (unsigned long long)s->done,
               (unsigned long long)s->skipped, (long long)(wall - s->cycle_start));
    }
    return 0;
}

void cw_sweep_tick(struct cw_daemon *d)
{
    struct cw_sweep *s = &d->sweep;
    int64_t wall = cw_wall_ms();
    int64_t interval = d->rt.cfg->sweep_interval_ms;
    char err[256];

    if (wall - s->last_tick >= RESCORE_POLL_MS || wall < s->last_tick) {
        s->last_tick = wall;
        int rq = cw_store_rescore_take(d->store, err, sizeof err);
        if (rq > 0) {
            cw_log_msg(CW_LOG_INFO, "rescore requested");
            cycle_start(s, wall, "rescore");
        } else if (rq < 0) {
            cw_log_debug("rescore poll failed", "error=\"%s\"", err);
        }
    }
    if (share_changed(d)) {
        /* partitions taken over (from a member that left or died): sweep their accounts
         * now rather than an interval later */
        cw_log_debug("sweep share changed", "partitions=%d", s->share_partitions);
        cycle_start(s, wall, "rebalance");
    }
    int64_t now = cw_partitions_now_applied(d);
    /* Catching up, time passes in event time: every account is rescored each time the
     * clock crosses a local day, as a live daemon's sweep would have done (a dip lasting a
     * day of event time is not missed), and such cycles are not paced on wall time. */
    bool behind = now >= 0 && !d->clock.live;
    if (behind) {
        int32_t day = cw_tz_day(d->rt.tz, now);
        if (s->event_day > 0 && day > s->event_day)
            s->event_day_pending = true;
        s->event_day = day;
    }
    if (!s->running) {
        if (s->event_day_pending) {
            s->event_day_pending = false;
            cycle_start(s, wall, "event-day");
        } else if (wall < s->next_cycle) {
            return;
        } else {
            cycle_start(s, wall, "interval");
        }
    }
    if (now < 0)
        return;
    /* Pages until the cycle is on schedule again (paced live), or one page while catching
     * up; never longer than TICK_BUDGET_MS, so consumption goes on between ticks. */
    uint64_t tick_end = cw_mono_us() + TICK_BUDGET_MS * 1000u;
    do {
        if (!behind && !behind_schedule(s, cw_wall_ms(), interval))
            return;
        if (sweep_page(d, now) != 0 || !s->running)
            return;
    } while (!behind && cw_mono_us() < tick_end);
}

void cw_sweep_note_scored(struct cw_daemon *d, const char *account_id)
{
    struct cw_sweep *s = &d->sweep;
    if (!s->running)
        return; /* the next cycle starts empty */
    if (s->scored.max == 0)
        cw_id_set_init(&s->scored, SKIP_MAX);
    (void)cw_id_set_add(&s->scored, account_id); /* full: the account is swept */
}

void cw_sweep_forget_scored(struct cw_daemon *d)
{
    cw_id_set_clear(&d->sweep.scored);
}

void cw_sweep_cleanup(struct cw_daemon *d)
{
    cw_id_set_free(&d->sweep.scored);
}
