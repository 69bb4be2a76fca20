/* id_set.c - a bounded set of account ids (id_set.h) */
#include "id_set.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

void cw_id_set_init(struct cw_id_set *s, size_t max)
{
    memset(s, 0, sizeof *s);
    s->max = max;
}

static const char *id_key(const void *items, size_t i)
{
    return ((const char *const *)items)[i];
}

int cw_id_set_add(struct cw_id_set *s, const char *id)
{
    if (s->n >= s->max)
        return cw_id_set_has(s, id) ? 0 : -1;
    size_t slot;
    long found = cw_str_index_find(&s->index, id, s->n, id_key, s->ids, &slot);
    if (found != 0)
        return found > 0 ? 0 : -1;
    if (cw_array_reserve(&s->ids, &s->cap, s->n + 1, sizeof *s->ids) < 0)
        return -1;
    const char *copy = cw_arena_strndup(&s->arena, id, strlen(id));
    if (!copy)
        return -1;
    s->ids[s->n] = copy;
    s->index.slots[slot] = (uint32_t)++s->n;
    return 1;
}

bool cw_id_set_has(struct cw_id_set *s, const char *id)
{
    if (s->n == 0)
        return false;
    size_t slot;
    return cw_str_index_find(&s->index, id, s->n, id_key, s->ids, &slot) > 0;
}

void cw_id_set_clear(struct cw_id_set *s)
{
    cw_str_index_clear(&s->index);
    cw_arena_reset(&s->arena);
    s->n = 0;
}

void cw_id_set_free(struct cw_id_set *s)
{
    cw_str_index_free(&s->index);
    cw_arena_free(&s->arena);
    free(s->ids);
    size_t max = s->max;
    memset(s, 0, sizeof *s);
    s->max = max;
}
