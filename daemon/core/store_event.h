/* store_event.h - a decoded event kept as the store applies it (struct cw_store_event): the
 * daemon's batch and the backtest's replay */
#ifndef CHURNWATCH_STORE_EVENT_H
#define CHURNWATCH_STORE_EVENT_H

#include "arena.h"
#include "churnwatch/event.h"
#include "churnwatch/window.h"
#include "store.h"

/* Fill *se from ev, read from topic/partition at offset; its user id and traits copied into
 * arena (they live until it is reset). 0, or -1 when out of memory. */
int cw_store_event_from(struct cw_store_event *se, const struct cw_event *ev, cw_tz *tz,
                        const char *topic, int32_t partition, int64_t offset,
                        struct cw_arena *arena);

#endif /* CHURNWATCH_STORE_EVENT_H */
