/* score_feed.c - the score feed: the publish decision, the churnwatch.score.v1 message, the
 * stored state of the last one published and its outbox fields (score_feed.h) */
#include "churnwatch/score_feed.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/rules.h"
#include "json_out.h"

/* Published scores are multiples of 0.01: a difference of two of them lies within this of
 * a multiple of 0.01 too, so a move of exactly `step` is never lost to binary rounding. */
#define STEP_SLACK 1e-6

static bool str_differs(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

unsigned cw_feed_decide(const struct cw_feed_last *last, int64_t now_ms, double step, double score,
                        const char *grade, const char *profile)
{
    if (!isfinite(score))
        return 0;
    if (!last->has)
        return CW_FEED_FIRST;
    if (now_ms < last->observed_ms)
        return 0;
    unsigned why = 0;
    if (fabs(cw_json_round2(score) - last->score) + STEP_SLACK >= step)
        why |= CW_FEED_STEP;
    if (str_differs(grade, last->grade))
        why |= CW_FEED_GRADE;
    if (str_differs(profile, last->profile))
        why |= CW_FEED_PROFILE;
    return why;
}

void cw_feed_last_of(const struct cw_config *cfg, const struct cw_account_eval *e,
                     const char *profile, const char *score_id, struct cw_feed_last *out)
{
    memset(out, 0, sizeof *out);
    out->has = true;
    out->score = cw_json_round2(e->score.score);
    snprintf(out->grade, sizeof out->grade, "%s", e->score.grade ? e->score.grade : "");
    snprintf(out->profile, sizeof out->profile, "%s", profile ? profile : "");
    out->observed_ms = e->now_ms;
    snprintf(out->score_id, sizeof out->score_id, "%s", score_id);
    size_t g = 0;
    for (size_t c = 0; c < cfg->score.n_components && c < CW_MAX_COMPONENTS; c++)
        for (size_t m = 0; m < cfg->score.components[c].n_measures && g < CW_MAX_MEASURES;
             m++, g++) {
            const struct cw_measure_result *r = &e->score.measures[g];
            if (g >= e->score.n_measures || !r->has)
                continue;
            struct cw_feed_contrib *k = &out->contrib[out->n_contrib++];
            snprintf(k->name, sizeof k->name, "%s", cfg->score.components[c].measures[m].name);
            k->points = cw_json_round2(r->contribution);
        }
}

/*
 * Stored form: {"s":score,"g":grade,"t":observed_ms,"id":score_id,"c":{measure:points,...}}
 * and "p":profile when there is one. Short keys: it is kept for every account on the feed.
 */
char *cw_feed_last_encode(const struct cw_feed_last *l, size_t *len)
{
    json_t *obj = json_object();
    json_t *contrib = json_object();
    bool ok = obj && contrib;
    if (!ok)
        goto fail;
    cw_json_put(obj, "s", json_real(l->score), &ok);
    cw_json_put(obj, "g", cw_json_str(l->grade), &ok);
    if (l->profile[0])
        cw_json_put(obj, "p", cw_json_str(l->profile), &ok);
    cw_json_put(obj, "t", json_integer(l->observed_ms), &ok);
    cw_json_put(obj, "id", json_string(l->score_id), &ok);
    for (size_t i = 0; ok && i < l->n_contrib; i++)
        cw_json_put(contrib, l->contrib[i].name, json_real(l->contrib[i].points), &ok);
    cw_json_put(obj, "c", contrib, &ok);
    contrib = NULL; /* owned by obj now (or already released by a failed set) */
    if (!ok)
        goto fail;
    char *text = cw_json_line(obj, len);
    json_decref(obj);
    return text;
fail:
    json_decref(contrib);
    json_decref(obj);
    return NULL;
}

/* A string member of o that fits in size bytes, copied; false when absent or too long. */
static bool get_str(const json_t *o, const char *key, char *out, size_t size, bool required)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return !required;
    if (!json_is_string(v) || json_string_length(v) >= size ||
        memchr(json_string_value(v), '\0', json_string_length(v)))
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

int cw_feed_last_decode(const char *s, size_t len, struct cw_feed_last *out)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *score = json_object_get(o, "s"), *t = json_object_get(o, "t");
    const json_t *c = json_object_get(o, "c");
    if (!json_is_object(o) || !json_is_number(score) || !json_is_integer(t) || !json_is_object(c) ||
        !get_str(o, "g", out->grade, sizeof out->grade, true) ||
        !get_str(o, "p", out->profile, sizeof out->profile, false) ||
        !get_str(o, "id", out->score_id, sizeof out->score_id, true))
        goto bad;
    out->score = json_number_value(score);
    out->observed_ms = (int64_t)json_integer_value(t);
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)c, name, v)
    {
        if (out->n_contrib == CW_MAX_MEASURES || !json_is_number(v) ||
            strlen(name) >= sizeof out->contrib[0].name)
            goto bad;
        struct cw_feed_contrib *k = &out->contrib[out->n_contrib++];
        memcpy(k->name, name, strlen(name) + 1);
        k->points = json_number_value(v);
    }
    if (!isfinite(out->score))
        goto bad;
    out->has = true;
    json_decref(o);
    return 0;
bad:
    json_decref(o);
    memset(out, 0, sizeof *out);
    return -1;
}

/* The score result of the last one published as far as "what moved it" needs it: each
 * measure of cfg that had a contribution then, found by name. */
static void previous_result(const struct cw_config *cfg, const struct cw_feed_last *prev,
                            struct cw_score_result *out)
{
    memset(out, 0, sizeof *out);
    size_t g = 0;
    for (size_t c = 0; c < cfg->score.n_components && c < CW_MAX_COMPONENTS; c++)
        for (size_t m = 0; m < cfg->score.components[c].n_measures && g < CW_MAX_MEASURES; m++, g++)
            for (size_t i = 0; i < prev->n_contrib; i++)
                if (strcmp(prev->contrib[i].name, cfg->score.components[c].measures[m].name) == 0) {
                    out->measures[g].has = true;
                    out->measures[g].contribution = prev->contrib[i].points;
                    break;
                }
    out->n_measures = g;
}

static json_t *triggers_json(unsigned why)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CW_FEED_FIRST, "first"},
                 {CW_FEED_STEP, "step"},
                 {CW_FEED_GRADE, "grade"},
                 {CW_FEED_PROFILE, "profile"}};
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof names / sizeof names[0]; i++)
        if ((why & names[i].bit) && json_array_append_new(a, json_string(names[i].name)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* measure name -> {component, raw, target, contribution, na}, as `churnwatch account
 * --json` shows them (n/a: raw and contribution null, na the reason). */
static json_t *measures_json(const struct cw_config *cfg, const struct cw_score_result *s)
{
    json_t *all = json_object();
    bool ok = all != NULL;
    size_t g = 0;
    for (size_t c = 0; ok && c < cfg->score.n_components && c < CW_MAX_COMPONENTS; c++) {
        const struct cw_component *comp = &cfg->score.components[c];
        for (size_t m = 0; ok && m < comp->n_measures && g < s->n_measures; m++, g++) {
            const struct cw_measure_result *r = &s->measures[g];
            json_t *jm = json_object();
            ok = jm != NULL;
            if (!ok)
                break;
            cw_json_put(jm, "component", cw_json_str(comp->name), &ok);
            cw_json_put(jm, "raw", cw_json_real(r->has, r->raw), &ok);
            cw_json_put(jm, "target", cw_json_threshold(true, comp->measures[m].target), &ok);
            cw_json_put(jm, "contribution", cw_json_real(r->has, r->contribution), &ok);
            cw_json_put(jm, "na", r->has ? json_null() : json_string(cw_score_na_text(r->na)), &ok);
            cw_json_put(all, comp->measures[m].name, jm, &ok);
        }
    }
    if (!ok) {
        json_decref(all);
        return NULL;
    }
    return all;
}

/* [{measure, component, points, before, after}], the largest move first (cw_score_moves). */
static json_t *moved_json(const struct cw_config *cfg, const struct cw_feed_last *prev,
                          const struct cw_score_result *cur)
{
    struct cw_score_result before;
    struct cw_score_move moves[CW_MAX_MEASURES];
    if (prev->has)
        previous_result(cfg, prev, &before);
    size_t n = cw_score_moves(cfg, prev->has ? &before : NULL, cur, moves, CW_MAX_MEASURES);
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const struct cw_component *comp = &cfg->score.components[moves[i].component];
        size_t base = cw_score_measure_index(cfg, moves[i].component, 0);
        json_t *jm = json_object();
        ok = jm != NULL;
        if (!ok)
            break;
        cw_json_put(jm, "measure", cw_json_str(comp->measures[moves[i].measure - base].name), &ok);
        cw_json_put(jm, "component", cw_json_str(comp->name), &ok);
        cw_json_put(jm, "points", cw_json_real(true, moves[i].delta), &ok);
        cw_json_put(jm, "before", cw_json_real(true, moves[i].before), &ok);
        cw_json_put(jm, "after", cw_json_real(true, moves[i].after), &ok);
        ok = ok && json_array_append_new(a, jm) == 0;
    }
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

char *cw_feed_message(const struct cw_config *cfg, const struct cw_account_eval *e,
                      const struct cw_feed_last *prev, unsigned why, const char *score_id,
                      const char *profile, int64_t emitted_ms, size_t *len)
{
    json_t *obj = json_object();
    json_t *comps = json_object();
    bool ok = obj && comps;
    if (!ok)
        goto fail;
    cw_json_put(obj, "schema", json_string(CW_SCORE_SCHEMA), &ok);
    cw_json_put(obj, "score_id", cw_json_str(score_id), &ok);
    cw_json_put(obj, "account_id", cw_json_str(e->view.account_id), &ok);
    cw_json_put(obj, "score", cw_json_real(e->score.has_score, e->score.score), &ok);
    cw_json_put(obj, "grade",
                e->score.grade && *e->score.grade ? cw_json_str(e->score.grade) : json_null(), &ok);
    if (prev->has) {
        cw_json_put(obj, "previous_score", cw_json_real(true, prev->score), &ok);
        cw_json_put(obj, "previous_grade", cw_json_str(prev->grade), &ok);
    }
    cw_json_put(obj, "triggers", triggers_json(why), &ok);
    for (size_t c = 0; ok && c < cfg->score.n_components && c < e->score.n_components; c++) {
        /* A component name is an identifier: valid UTF-8 as it is. */
        cw_json_put(comps, cfg->score.components[c].name,
                    cw_json_real(e->score.components[c].has, e->score.components[c].value), &ok);
    }
    cw_json_put(obj, "components", comps, &ok);
    comps = NULL; /* owned by obj now (or already released by a failed set) */
    cw_json_put(obj, "measures", measures_json(cfg, &e->score), &ok);
    cw_json_put(obj, "moved", moved_json(cfg, prev, &e->score), &ok);
    cw_json_put(obj, "observed_at", cw_json_time(e->now_ms), &ok);
    cw_json_put(obj, "emitted_at", cw_json_time(emitted_ms), &ok);
    /* Who the account is, as alerts carry it (docs/alerts.md), each only when known. */
    if (profile && *profile)
        cw_json_put(obj, "profile", cw_json_str(profile), &ok);
    const struct cw_traits *tr = e->view.traits;
    struct cw_json_account who = {.segment = e->segment};
    if (tr)
        who = (struct cw_json_account){.segment = e->segment,
                                       .owner = tr->owner,
                                       .plan = tr->plan,
                                       .has_seats = tr->has_seats,
                                       .seats = tr->seats,
                                       .has_renewal_at = tr->has_renewal_at,
                                       .renewal_at_ms = tr->renewal_at_ms,
                                       .parent_id = tr->parent_id};
    cw_json_put_account(obj, &who, &ok);
    if (!ok)
        goto fail;
    char *text = cw_json_line(obj, len);
    json_decref(obj);
    return text;
fail:
    json_decref(comps);
    json_decref(obj);
    return NULL;
}

int cw_feed_entry_field(int64_t observed_ms, const char *score_id, char *out, size_t size)
{
    if (!score_id || !cw_hex_id_ok(score_id, strlen(score_id))) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    int n = snprintf(out, size, "%s%" PRId64 ":%s", CW_FEED_ENTRY_PREFIX, observed_ms, score_id);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return n;
}

int cw_feed_entry_parse(const char *f, size_t len, int64_t *observed_ms)
{
    size_t plen = strlen(CW_FEED_ENTRY_PREFIX);
    if (len < plen + 2 + CW_SCORE_ID_LEN || memcmp(f, CW_FEED_ENTRY_PREFIX, plen) != 0 ||
        f[len - CW_SCORE_ID_LEN - 1] != ':' ||
        !cw_hex_id_ok(f + len - CW_SCORE_ID_LEN, CW_SCORE_ID_LEN))
        return -1;
    const char *p = f + plen, *end = f + len - CW_SCORE_ID_LEN - 1;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p == end || end - p > 19)
        return -1;
    int64_t ms = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || ms > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        ms = ms * 10 + (*p - '0');
    }
    *observed_ms = neg ? -ms : ms;
    return 0;
}
