/* stats.h - the daemon's counters: written without locks on the hot path, read by reporters */
#ifndef CHURNWATCH_STATS_H
#define CHURNWATCH_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/reject.h"

struct cw_stats {
    /* events fully processed, by event-type index (applied); unknown types separately */
    _Atomic uint64_t consumed_by_type[CW_MAX_EVENT_TYPES];
    _Atomic uint64_t consumed_unknown;
    _Atomic uint64_t replays_skipped;
    _Atomic uint64_t rejected[CW_REJ__COUNT];
    /* alerts published, by rule index and status (0 firing, 1 resolved, 2 reminder) */
    _Atomic uint64_t alerts[CW_MAX_RULES][3];
    _Atomic uint64_t alerts_silenced;
    _Atomic uint64_t batches;
    _Atomic uint64_t messages; /* messages of completed batches */
    _Atomic uint64_t accounts_scored;
    _Atomic uint64_t sweeps_completed;
    _Atomic uint64_t reloads_ok;
    _Atomic uint64_t reloads_error;
    _Atomic uint64_t redis_errors;
    _Atomic uint64_t kafka_errors;
};

static inline void cw_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline uint64_t cw_stat_get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

#endif /* CHURNWATCH_STATS_H */
