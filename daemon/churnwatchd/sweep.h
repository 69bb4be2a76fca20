/* sweep.h - the periodic rescoring of every account, paced over sweep_interval */
#ifndef CHURNWATCHD_SWEEP_H
#define CHURNWATCHD_SWEEP_H

#include "daemon.h"

/*
 * Do a small share of the sweep (at most one page of accounts) when the current cycle is
 * behind its schedule, so a cycle spreads over cfg->sweep_interval_ms and never stalls
 * consumption. A cycle starts every interval, or at once when `churnwatch rescore`
 * asked for one; while catching up, one also starts each time the event-time clock
 * crosses a local day (and runs a page per tick, unpaced). Call it from the main loop between
 * batches.
 */
void cw_sweep_tick(struct cw_daemon *d);

/*
 * account_id was scored by a batch (its events applied, scored, saved and published): the
 * cycle in progress, if any, need not score it again. Bounded: past SKIP_MAX accounts in a
 * cycle, the others are swept as before.
 */
void cw_sweep_note_scored(struct cw_daemon *d, const char *account_id);

/* Forget the accounts noted so far (a new config: the cycle scores them under it). */
void cw_sweep_forget_scored(struct cw_daemon *d);

/* Release what the sweep holds. */
void cw_sweep_cleanup(struct cw_daemon *d);

#endif /* CHURNWATCHD_SWEEP_H */
