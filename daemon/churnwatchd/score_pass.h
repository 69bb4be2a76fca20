/* score_pass.h - rescore a set of accounts: load, evaluate, save, publish their alerts */
#ifndef CHURNWATCHD_SCORE_PASS_H
#define CHURNWATCHD_SCORE_PASS_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

/*
 * Load the accounts ids[0..n) from the store, score them and run their rules at the
 * daemon's clock now_ms, save scores and rule states (compare-and-set; alerts enter the
 * outbox atomically), publish every alert in their outboxes (new ones and any left by an
 * earlier failure) and wait for the broker to acknowledge them, then clear them from the
 * outbox. Returns 0 when everything is saved and acknowledged, -1 (logged, counted) when
 * any step failed: the caller retries, which is safe (idempotent).
 */
int cw_score_pass(struct cw_daemon *d, const char *const *ids, size_t n, int64_t now_ms);

/*
 * Start the score pass of a batch. groups[0..n) are ordered by lane (redis.lanes: an
 * account's lane is a hash of its id; the order within a lane kept), and each lane, in a
 * thread of its own, goes through its share a chunk at a time: apply the accounts' events
 * and load their state in the same calls (cw_store_apply_load, clock day of now_ms), then
 * score, save and publish as cw_score_pass does. The messages are acknowledged every few
 * chunks, and done[k] (zero at the batch's first try; one per lane) advances past the
 * chunks of lane k whose messages were acknowledged, so a retry after a failed pass
 * resumes there (applying again is harmless: replays are skipped; what was sent and not
 * acknowledged is published again from the outboxes; the ordering finds groups already in
 * order). now_ms < 0 (the clock unknown): applied, not scored. Meanwhile the caller's
 * thread is free (the main loop gathers the next batch); it must not touch groups, done,
 * the lanes' stores and producers or d->store until cw_score_pass_finish. 0, or -1 when
 * out of memory (logged; nothing started).
 */
int cw_score_pass_start(struct cw_daemon *d, struct cw_store_batch *groups, size_t n,
                        size_t done[CW_REDIS_LANES_MAX], int64_t now_ms);

/* Whether the started pass' lanes are still at work (cw_score_pass_finish would wait). */
bool cw_score_pass_running(const struct cw_daemon *d);

/* Wait for the started pass' lanes (a lane whose thread did not start runs now, here),
 * then re-score the parents their accounts named. 0 when every lane's accounts are
 * applied, scored, saved and their alerts acknowledged; -1 (logged, counted) when any step
 * failed: the caller starts the pass again, which is safe (above). */
int cw_score_pass_finish(struct cw_daemon *d);

/* Release the buffers the passes reuse (at shutdown). */
void cw_score_pass_cleanup(struct cw_daemon *d);

#endif /* CHURNWATCHD_SCORE_PASS_H */
