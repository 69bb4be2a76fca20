/* store_event.c - a decoded event kept as the store applies it (store_event.h) */
#include "store_event.h"

#include <string.h>

int cw_store_event_from(struct cw_store_event *se, const struct cw_event *ev, cw_tz *tz,
                        const char *topic, int32_t partition, int64_t offset,
                        struct cw_arena *arena)
{
    *se = (struct cw_store_event){.ts_ms = ev->ts_ms,
                                  .day = cw_tz_day(tz, ev->ts_ms),
                                  .type_index = ev->type_index,
                                  .metric = ev->metric,
                                  .has_value = ev->has_value,
                                  .value = ev->value,
                                  .topic = topic,
                                  .partition = partition,
                                  .offset = offset};
    se->user_id = ev->user_id[0] ? cw_arena_strndup(arena, ev->user_id, strlen(ev->user_id)) : "";
    if (!se->user_id)
        return -1;
    if (ev->has_traits) {
        struct cw_traits *t = cw_arena_alloc(arena, sizeof *t);
        if (!t)
            return -1;
        *t = ev->traits;
        se->traits = t;
    }
    return 0;
}
