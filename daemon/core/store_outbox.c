/* store_outbox.c - the outboxes in the store, the alerts' and the score feed's: entries
 * loaded, acknowledgements pipelined */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* Append a copy of (key, json) to the array *arr of *n entries (room for *cap): the new
 * entry, its emit and rule left to the caller, or NULL when out of memory. */
static struct cw_outbox_entry *entry_append(struct cw_outbox_entry **arr, size_t *n, size_t *cap,
                                            const char *key, size_t klen, const char *json,
                                            size_t jlen)
{
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 4;
        struct cw_outbox_entry *o = realloc(*arr, grown * sizeof *o);
        if (!o)
            return NULL;
        *arr = o;
        *cap = grown;
    }
    struct cw_outbox_entry *e = &(*arr)[*n];
    e->json = malloc(jlen + 1);
    if (!e->json)
        return NULL;
    memcpy(e->json, json, jlen);
    e->json[jlen] = '\0';
    e->len = jlen;
    memcpy(e->key, key, klen);
    e->key[klen] = '\0';
    (*n)++;
    return e;
}

int cw_store_outbox_add(const struct cw_config *cfg, struct cw_account_data *d, const char *key,
                        size_t klen, const char *json, size_t jlen)
{
    if (klen >= sizeof d->outbox[0].key || memchr(key, '\0', klen))
        return 0; /* not a key this daemon could have written */
    struct cw_outbox_entry *e =
        entry_append(&d->outbox, &d->n_outbox, &d->cap_outbox, key, klen, json, jlen);
    if (!e)
        return -1;
    struct cw_outbox_key k;
    if (cw_outbox_key_parse(key, klen, &k) == 0) {
        e->emit = k.emit;
        e->rule = cw_outbox_rule_index(cfg, &k, json, jlen);
    } else {
        e->emit = CW_EMIT_NONE; /* still published and acknowledged, not counted */
        e->rule = -1;
    }
    return 0;
}

/* Order of the feed's entries: by the instant they were decided (from the field), then by
 * field. */
static int cmp_feed_entry(const void *pa, const void *pb)
{
    const struct cw_outbox_entry *a = pa, *b = pb;
    int64_t ta = 0, tb = 0;
    cw_feed_entry_parse(a->key, strlen(a->key), &ta);
    cw_feed_entry_parse(b->key, strlen(b->key), &tb);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(a->key, b->key);
}

int cw_store_feed_entry_add(struct cw_account_data *d, const char *field, size_t flen,
                            const char *json, size_t jlen)
{
    int64_t ms;
    if (flen >= sizeof d->feed_outbox[0].key || cw_feed_entry_parse(field, flen, &ms) < 0)
        return 0; /* not an entry this daemon could have written */
    struct cw_outbox_entry *e = entry_append(&d->feed_outbox, &d->n_feed_outbox,
                                             &d->cap_feed_outbox, field, flen, json, jlen);
    if (!e)
        return -1;
    e->rule = -1;
    e->emit = CW_EMIT_NONE;
    return 0;
}

void cw_store_feed_entries_sort(struct cw_account_data *d)
{
    if (d->n_feed_outbox > 1)
        qsort(d->feed_outbox, d->n_feed_outbox, sizeof *d->feed_outbox, cmp_feed_entry);
}

struct ack_ctx {
    const struct cw_outbox_ack *acks;
};

static int ack_build(cw_store *st, void *vctx, size_t i, struct cw_rcmd *c)
{
    const struct ack_ctx *a = vctx;
    cw_rcmd_adds(c, "HDEL");
    cw_store_add_account_key(st, c, a->acks[i].account_id, a->acks[i].score_feed ? "r" : "o");
    cw_rcmd_adds(c, a->acks[i].key);
    return c->oom ? -1 : 0;
}

static int ack_reply(cw_store *st, void *vctx, size_t i, const redisReply *r, char *err,
                     size_t errsize)
{
    (void)st;
    (void)vctx;
    (void)i;
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsize, "unexpected reply type %d", r->type);
        return -1;
    }
    return 0;
}

int cw_store_outbox_ack(cw_store *st, const struct cw_outbox_ack *acks, size_t n, char *err,
                        size_t errsize)
{
    struct ack_ctx a = {.acks = acks};
    struct cw_store_ops o = {.n = n, .ctx = &a, .build = ack_build, .reply = ack_reply};
    return cw_store_ops_run(st, &o, err, errsize);
}
