/* test_gen.c - the synthetic history generator: determinism, order, JSON shape, fates */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/gen.h"

#define DAY     (INT64_C(86400000))
#define LINE_SZ 4096

static int64_t civil_days(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The generator's timestamp text "YYYY-MM-DDTHH:MM:SS.mmm(Z|+hh:mm)" to epoch ms; -1 if
 * it does not have exactly that shape. */
static int64_t parse_ts(const char *s)
{
    int y, mo, d, h, mi, se, ms, oh = 0, om = 0, n = 0;
    char sign = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%n", &y, &mo, &d, &h, &mi, &se, &ms, &n) != 7 ||
        n != 23)
        return -1;
    const char *p = s + 23;
    if (strcmp(p, "Z") != 0) {
        int m = 0;
        if (sscanf(p, "%c%2d:%2d%n", &sign, &oh, &om, &m) != 3 || m != 6 || p[6] != '\0' ||
            (sign != '+' && sign != '-'))
            return -1;
    }
    int64_t off = (int64_t)(oh * 60 + om) * 60000 * (sign == '-' ? -1 : 1);
    return civil_days(y, mo, d) * DAY + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms - off;
}

static struct cw_gen_options opts(uint64_t seed)
{
    struct cw_gen_options o;
    cw_gen_options_init(&o);
    o.seed = seed;
    return o;
}

static cw_gen *make(const struct cw_gen_options *o)
{
    char err[256] = "";
    cw_gen *g = cw_gen_new(o, err, sizeof(err));
    cr_assert_not_null(g, "cw_gen_new: %s", err);
    return g;
}

/* FNV-1a over the whole stream, with the event count. */
static uint64_t stream_hash(const struct cw_gen_options *o, size_t *count)
{
    cw_gen *g = make(o);
    char buf[LINE_SZ];
    size_t len;
    uint64_t h = UINT64_C(1469598103934665603);
    *count = 0;
    int rc;
    while ((rc = cw_gen_next(g, buf, sizeof(buf), &len, NULL)) == 1) {
        for (size_t i = 0; i <= len; i++) /* the NUL separates lines */
            h = (h ^ (unsigned char)buf[i]) * UINT64_C(1099511628211);
        (*count)++;
    }
    cr_assert_eq(rc, 0);
    cw_gen_free(g);
    return h;
}

Test(gen, same_options_same_bytes_other_seed_other_bytes)
{
    struct cw_gen_options a = opts(7), b = opts(7), c = opts(8);
    size_t na, nb, nc;
    uint64_t ha = stream_hash(&a, &na), hb = stream_hash(&b, &nb), hc = stream_hash(&c, &nc);
    cr_assert_eq(na, nb);
    cr_assert_eq(ha, hb, "same seed gave different bytes");
    cr_assert_neq(ha, hc, "different seeds gave the same bytes");
    for (int form = CW_PRESET_SEGMENT; form <= CW_PRESET_CLOUDEVENTS; form++) {
        a.form = b.form = (enum cw_preset)form;
        cr_assert_eq(stream_hash(&a, &na), stream_hash(&b, &nb), "form %d", form);
    }
}

Test(gen, default_demo_volume_and_mix)
{
    struct cw_gen_options o = opts(42);
    cw_gen *g = make(&o);
    cr_assert_eq(cw_gen_account_count(g), 40);
    size_t per_fate[CW_GEN_FATE__COUNT] = {0};
    for (size_t i = 0; i < 40; i++)
        per_fate[cw_gen_account(g, i)->fate]++;
    /* healthy 25%, onboarded 10%, declining 12.5%, silent 10%, stalled 7.5%, underused
     * 7.5%, borderline 7.5%, recovering 7.5%, renewing 7.5%, expanding 5% (gen.h) */
    size_t want[CW_GEN_FATE__COUNT] = {10, 4, 5, 4, 3, 3, 3, 3, 3, 2};
    for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
        cr_assert_eq(per_fate[f], want[f], "%s: %zu", cw_gen_fate_name(f), per_fate[f]);
    cr_assert_null(cw_gen_account(g, 40));
    cw_gen_free(g);
    size_t n;
    stream_hash(&o, &n);
    cr_assert(n >= 50000 && n <= 150000, "%zu events", n);
}

Test(gen, explicit_fate_counts)
{
    struct cw_gen_options o = opts(1);
    o.fate_counts[CW_GEN_SILENT] = 3;
    o.fate_counts[CW_GEN_UNDERUSED] = 2;
    cw_gen *g = make(&o);
    cr_assert_eq(cw_gen_account_count(g), 5);
    size_t silent = 0;
    for (size_t i = 0; i < 5; i++)
        silent += cw_gen_account(g, i)->fate == CW_GEN_SILENT;
    cr_assert_eq(silent, 3);
    cw_gen_free(g);
}

/* Every line of every form parses and carries its form's fields; times are ordered and
 * the text time equals the reported one. */
Test(gen, every_line_is_valid_json_of_its_form_in_time_order)
{
    for (int form = CW_PRESET_NATIVE; form <= CW_PRESET_CLOUDEVENTS; form++) {
        struct cw_gen_options o = opts(3);
        o.accounts = 16;
        o.days = 40;
        o.form = (enum cw_preset)form;
        o.tz_offset_min = form == CW_PRESET_SEGMENT ? -330 : 540;
        cw_gen *g = make(&o);
        char buf[LINE_SZ];
        size_t len, n = 0, traits = 0;
        struct cw_gen_event ev;
        int64_t prev = INT64_MIN;
        while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
            cr_assert_eq(strlen(buf), len);
            json_error_t jerr;
            json_t *j = json_loads(buf, 0, &jerr);
            cr_assert_not_null(j, "line %zu: %s: %s", n, jerr.text, buf);
            const struct cw_gen_account *acc = cw_gen_account(g, ev.account);
            cr_assert_not_null(acc);
            bool is_traits = ev.type == CW_GEN_ACCOUNT_UPDATED;
            traits += is_traits;
            const char *account, *ts, *id, *type;
            json_t *tr, *user;
            if (form == CW_PRESET_NATIVE) {
                account = json_string_value(json_object_get(j, "account_id"));
                ts = json_string_value(json_object_get(j, "ts"));
                id = json_string_value(json_object_get(j, "event_id"));
                type = json_string_value(json_object_get(j, "type"));
                tr = json_object_get(j, "traits");
                user = json_object_get(j, "user_id");
                cr_assert_str_eq(type, cw_gen_type_name(ev.type));
                if (!is_traits)
                    cr_assert(json_is_object(json_object_get(j, "props")));
            } else if (form == CW_PRESET_SEGMENT) {
                ts = json_string_value(json_object_get(j, "timestamp"));
                id = json_string_value(json_object_get(j, "messageId"));
                type = json_string_value(json_object_get(j, "type"));
                tr = json_object_get(j, "traits");
                user = json_object_get(j, "userId");
                if (is_traits) {
                    cr_assert_str_eq(type, "group");
                    account = json_string_value(json_object_get(j, "groupId"));
                } else {
                    cr_assert_str_eq(type, "track");
                    cr_assert_str_eq(json_string_value(json_object_get(j, "event")),
                                     cw_gen_segment_name(ev.type));
                    account = json_string_value(
                        json_object_get(json_object_get(j, "context"), "groupId"));
                    cr_assert(json_is_object(json_object_get(j, "properties")));
                }
            } else {
                cr_assert_str_eq(json_string_value(json_object_get(j, "specversion")), "1.0");
                cr_assert_str_eq(json_string_value(json_object_get(j, "source")),
                                 "/churnwatch/gen");
                cr_assert_str_eq(json_string_value(json_object_get(j, "datacontenttype")),
                                 "application/json");
                account = json_string_value(json_object_get(j, "subject"));
                ts = json_string_value(json_object_get(j, "time"));
                id = json_string_value(json_object_get(j, "id"));
                type = json_string_value(json_object_get(j, "type"));
                cr_assert_str_eq(type, cw_gen_type_name(ev.type));
                json_t *data = json_object_get(j, "data");
                tr = json_object_get(data, "traits");
                user = json_object_get(data, "user_id");
            }
            cr_assert_not_null(account, "no account: %s", buf);
            cr_assert_str_eq(account, acc->id);
            cr_assert(id != NULL && strlen(id) == 36, "bad id: %s", buf);
            cr_assert_not_null(ts);
            cr_assert_eq(parse_ts(ts), ev.ts_ms, "%s vs %lld", ts, (long long)ev.ts_ms);
            const char *want_off = form == CW_PRESET_SEGMENT ? "-05:30" : "+09:00";
            cr_assert_str_eq(ts + strlen(ts) - 6, want_off);
            if (is_traits) {
                cr_assert(json_is_object(tr), "traits missing: %s", buf);
                cr_assert_eq(json_integer_value(json_object_get(tr, "seats")), acc->seats);
                cr_assert_str_eq(json_string_value(json_object_get(tr, "segment")), acc->segment);
                cr_assert_str_eq(json_string_value(json_object_get(tr, "plan")), acc->plan);
                cr_assert_str_eq(json_string_value(json_object_get(tr, "owner")), acc->owner);
                cr_assert_str_eq(json_string_value(json_object_get(tr, "name")), acc->name);
                cr_assert_eq(parse_ts(json_string_value(json_object_get(tr, "created_at"))),
                             acc->created_at_ms);
                cr_assert_eq(parse_ts(json_string_value(json_object_get(tr, "renewal_at"))),
                             acc->renewal_at_ms);
                const json_t *pid = json_object_get(tr, "parent_id");
                if (acc->parent_id[0])
                    cr_assert_str_eq(json_string_value(pid), acc->parent_id);
                else
                    cr_assert_null(pid, "no parent: no parent_id");
            } else {
                cr_assert(json_is_string(user), "user missing: %s", buf);
                cr_assert_eq(strncmp(json_string_value(user), acc->id, strlen(acc->id)), 0);
                cr_assert_null(tr);
            }
            cr_assert_geq(ev.ts_ms, prev, "out of order at line %zu", n);
            cr_assert_lt(ev.ts_ms, o.end_ms);
            prev = ev.ts_ms;
            json_decref(j);
            n++;
        }
        cr_assert_eq(traits, 16, "one traits event per account, got %zu", traits);
        cr_assert_gt(n, 1000);
        cw_gen_free(g);
    }
}

/* Per-account facts gathered from a native stream. */
struct acct_stats {
    size_t first_type; /* type of the account's first event */
    size_t n;
    int64_t last_ts;
    size_t apps;
    int64_t first_app_ts;
    size_t weekly[64];      /* events per 7-day period from start */
    size_t daily[120];      /* events per day from start */
    char users28[128][160]; /* distinct users of the last 28 days (seats <= 120) */
    size_t n_users28;
};

static struct acct_stats *collect(const struct cw_gen_options *o, cw_gen **out)
{
    cw_gen *g = make(o);
    size_t na = cw_gen_account_count(g);
    struct acct_stats *st = calloc(na, sizeof(*st));
    cr_assert_not_null(st);
    int64_t start = o->end_ms - (int64_t)o->days * DAY;
    char buf[LINE_SZ];
    size_t len;
    struct cw_gen_event ev;
    while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
        struct acct_stats *s = &st[ev.account];
        if (s->n++ == 0)
            s->first_type = ev.type;
        s->last_ts = ev.ts_ms;
        if (ev.type == CW_GEN_APP_CREATED && s->apps++ == 0)
            s->first_app_ts = ev.ts_ms;
        if (ev.type == CW_GEN_ACCOUNT_UPDATED)
            continue;
        int64_t d = (ev.ts_ms - start) / DAY;
        cr_assert(d >= 0 && d < (int64_t)o->days);
        s->daily[d]++;
        s->weekly[d / 7]++;
        if (ev.ts_ms >= o->end_ms - 28 * DAY) {
            json_t *j = json_loads(buf, 0, NULL);
            const char *u = json_string_value(json_object_get(j, "user_id"));
            size_t k = 0;
            while (k < s->n_users28 && strcmp(s->users28[k], u) != 0)
                k++;
            if (k == s->n_users28 && k < 128)
                snprintf(s->users28[s->n_users28++], sizeof(s->users28[0]), "%s", u);
            json_decref(j);
        }
    }
    *out = g;
    return st;
}

static size_t sum_days(const struct acct_stats *s, int from, int to)
{
    size_t n = 0;
    for (int d = from; d < to; d++)
        n += s->daily[d];
    return n;
}

Test(gen, fates_tell_their_stories)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct cw_gen_options o = opts(seed);
        for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
            o.fate_counts[f] = 3;
        cw_gen *g;
        struct acct_stats *st = collect(&o, &g);
        for (size_t i = 0; i < cw_gen_account_count(g); i++) {
            const struct cw_gen_account *a = cw_gen_account(g, i);
            const struct acct_stats *s = &st[i];
            const char *id = a->id;
            cr_assert_eq(s->first_type, CW_GEN_ACCOUNT_UPDATED, "%s: traits not first", id);
            int64_t age = o.end_ms - a->created_at_ms;
            size_t first2 = sum_days(s, 0, 14), last2 = sum_days(s, 76, 90);
            switch (a->fate) {
            case CW_GEN_HEALTHY:
                for (int w = 0; w < 12; w++)
                    cr_assert_gt(s->weekly[w], 0, "%s: quiet week %d", id, w);
                cr_assert_geq(s->n_users28, (size_t)(a->seats * 6 / 10), "%s", id);
                cr_assert_gt(age, 90 * DAY);
                break;
            case CW_GEN_ONBOARDED:
                cr_assert(age >= 40 * DAY && age <= 81 * DAY, "%s", id);
                cr_assert_gt(s->apps, 0, "%s: never created an app", id);
                cr_assert_lt(s->first_app_ts - a->created_at_ms, 5 * DAY, "%s", id);
                break;
            case CW_GEN_DECLINING:
            case CW_GEN_RENEWING:
                cr_assert_lt(last2 * 5, first2, "%s: %zu vs %zu", id, last2, first2);
                cr_assert_gt(last2, 0, "%s: a declining account is not silent", id);
                cr_assert_gt(age, 90 * DAY);
                break;
            case CW_GEN_EXPANDING:
                /* every seat registered before the history, every one active each month */
                cr_assert_eq(a->users, a->seats, "%s: %u users, %u seats", id, a->users, a->seats);
                cr_assert_eq(s->n_users28, (size_t)a->seats, "%s: %zu of %u seats active", id,
                             s->n_users28, a->seats);
                for (int w = 0; w < 12; w++)
                    cr_assert_gt(s->weekly[w], 0, "%s: quiet week %d", id, w);
                cr_assert_gt(age, 90 * DAY);
                break;
            case CW_GEN_SILENT:
                cr_assert_lt(s->last_ts, o.end_ms - 14 * DAY, "%s: active in the last 14d", id);
                cr_assert_gt(first2, 0, "%s", id);
                break;
            case CW_GEN_STALLED:
                cr_assert_eq(s->apps, 0, "%s: a stalled account created an app", id);
                cr_assert(age >= 35 * DAY && age <= 61 * DAY, "%s: age %lld", id,
                          (long long)(age / DAY));
                for (int w = 90 - (int)(age / DAY) + 1; w + 7 <= 90; w += 7)
                    cr_assert_gt(sum_days(s, w, w + 7), 0, "%s: silent week from day %d", id, w);
                break;
            case CW_GEN_UNDERUSED:
                cr_assert_geq(a->seats, 40);
                cr_assert(s->n_users28 >= 3 && s->n_users28 <= 5, "%s: %zu users", id,
                          s->n_users28);
                break;
            case CW_GEN_BORDERLINE: {
                double ratio = (double)s->n_users28 / a->seats;
                cr_assert(ratio >= 0.3 && ratio <= 0.45, "%s: ratio %.2f", id, ratio);
                for (int w = 0; w < 12; w++)
                    cr_assert_gt(s->weekly[w], 0, "%s: quiet week %d", id, w);
                break;
            }
            case CW_GEN_RECOVERING: {
                /* the bottom lasts at least from 54 to 44 days before the end */
                size_t trough = sum_days(s, 36, 46);
                cr_assert_lt(trough * 14 * 4, first2 * 10, "%s: no dip (%zu vs %zu)", id, trough,
                             first2);
                cr_assert_gt(last2 * 10, first2 * 7, "%s: no recovery (%zu vs %zu)", id, last2,
                             first2);
                break;
            }
            default:
                cr_assert_fail("fate %d", a->fate);
            }
        }
        free(st);
        cw_gen_free(g);
    }
}

Test(gen, healthy_volume_per_seat_is_calibrated)
{
    struct cw_gen_options o = opts(11);
    o.fate_counts[CW_GEN_HEALTHY] = 20;
    o.fate_counts[CW_GEN_BORDERLINE] = 10;
    cw_gen *g;
    struct acct_stats *st = collect(&o, &g);
    double healthy = 0, border = 0;
    uint64_t hs = 0, bs = 0;
    for (size_t i = 0; i < cw_gen_account_count(g); i++) {
        const struct cw_gen_account *a = cw_gen_account(g, i);
        size_t n = sum_days(&st[i], 62, 90);
        if (a->fate == CW_GEN_HEALTHY) {
            healthy += (double)n;
            hs += a->seats;
        } else {
            border += (double)n;
            bs += a->seats;
        }
    }
    healthy /= (double)hs;
    border /= (double)bs;
    /* About 1.3 events per seat and day at level 1, borderline about half of it. */
    cr_assert(healthy > 28 && healthy < 45, "healthy %.1f events/seat/28d", healthy);
    cr_assert(border / healthy > 0.4 && border / healthy < 0.55, "ratio %.2f", border / healthy);
    free(st);
    cw_gen_free(g);
}

Test(gen, end_inside_a_day_cuts_the_last_day)
{
    struct cw_gen_options o = opts(5);
    char err[128];
    cr_assert_eq(cw_gen_options_set(&o, "end", "2026-11-21T13:37:00+09:00", err, sizeof(err)), 0);
    cr_assert_eq(cw_gen_options_set(&o, "timezone-offset", "+09:00", err, sizeof(err)), 0);
    cw_gen *g = make(&o);
    char buf[LINE_SZ];
    size_t len, today = 0;
    struct cw_gen_event ev;
    int64_t local_midnight = INT64_C(1795305600000) - DAY - 9 * 3600000;
    while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
        cr_assert_lt(ev.ts_ms, o.end_ms);
        today += ev.ts_ms >= local_midnight;
    }
    cr_assert_gt(today, 0, "nothing on the last, partial day");
    cw_gen_free(g);
}

Test(gen, prefix_is_escaped_everywhere)
{
    struct cw_gen_options o = opts(9);
    static const char prefix[] = "we\"ird\\\n\t\x01/\xc3\xa9-";
    o.id_prefix = prefix;
    o.accounts = 2;
    o.days = 20;
    for (int form = CW_PRESET_NATIVE; form <= CW_PRESET_CLOUDEVENTS; form++) {
        o.form = (enum cw_preset)form;
        cw_gen *g = make(&o);
        const struct cw_gen_account *a = cw_gen_account(g, 0);
        cr_assert_eq(strncmp(a->id, prefix, strlen(prefix)), 0);
        char buf[LINE_SZ];
        size_t len, n = 0;
        struct cw_gen_event ev;
        while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
            cr_assert_null(strchr(buf, '\n'), "raw newline in %s", buf);
            json_t *j = json_loads(buf, 0, NULL);
            cr_assert_not_null(j, "%s", buf);
            const char *acc =
                form == CW_PRESET_NATIVE ? json_string_value(json_object_get(j, "account_id"))
                : form == CW_PRESET_CLOUDEVENTS ? json_string_value(json_object_get(j, "subject"))
                : ev.type == CW_GEN_ACCOUNT_UPDATED
                    ? json_string_value(json_object_get(j, "groupId"))
                    : json_string_value(json_object_get(json_object_get(j, "context"), "groupId"));
            cr_assert_str_eq(acc, cw_gen_account(g, ev.account)->id);
            json_decref(j);
            n++;
        }
        cr_assert_gt(n, 0);
        for (size_t i = 0; i < 2; i++) {
            cr_assert_eq(cw_gen_manifest_line(g, i, buf, sizeof(buf), &len), 1);
            json_t *j = json_loads(buf, 0, NULL);
            cr_assert_not_null(j, "%s", buf);
            cr_assert_str_eq(json_string_value(json_object_get(j, "account_id")),
                             cw_gen_account(g, i)->id);
            json_decref(j);
        }
        cw_gen_free(g);
    }
}

Test(gen, small_buffer_reports_size_and_consumes_nothing)
{
    struct cw_gen_options o = opts(2);
    o.accounts = 3;
    cw_gen *g = make(&o);
    char big[LINE_SZ], small[LINE_SZ + 16];
    size_t need, len;
    for (int k = 0; k < 50; k++) {
        memset(small, '#', sizeof(small));
        cr_assert_eq(cw_gen_next(g, small, 0, &need, NULL), -1);
        cr_assert_gt(need, 20);
        for (size_t size = 1; size <= need; size += (size < 8 ? 1 : need / 3 + 1)) {
            cr_assert_eq(cw_gen_next(g, small, size, &len, NULL), -1, "size %zu", size);
            cr_assert_eq(len, need);
            for (size_t i = size; i < sizeof(small); i++)
                cr_assert_eq(small[i], '#', "wrote past %zu at %zu", size, i);
        }
        cr_assert_eq(cw_gen_next(g, small, need, &len, NULL), -1, "no room for the NUL");
        cr_assert_eq(cw_gen_next(g, small, need + 1, &len, NULL), 1);
        cr_assert_eq(len, need);
        cr_assert_eq(small[need], '\0');
        cr_assert_eq(small[need + 1], '#');
        memcpy(big, small, need + 1);
        json_t *j = json_loads(big, 0, NULL);
        cr_assert_not_null(j, "%s", big);
        json_decref(j);
    }
    char mbuf[8];
    cr_assert_eq(cw_gen_manifest_line(g, 0, mbuf, sizeof(mbuf), &need), -1);
    cr_assert_gt(need, sizeof(mbuf));
    cr_assert_eq(cw_gen_manifest_line(g, 3, mbuf, sizeof(mbuf), &need), -2);
    cw_gen_free(g);
}

Test(gen, manifest_names_expected_alerts)
{
    struct cw_gen_options o = opts(4);
    cw_gen *g = make(&o);
    char buf[LINE_SZ];
    size_t len;
    for (size_t i = 0; i < cw_gen_account_count(g); i++) {
        const struct cw_gen_account *a = cw_gen_account(g, i);
        cr_assert_eq(cw_gen_manifest_line(g, i, buf, sizeof(buf), &len), 1);
        json_t *j = json_loads(buf, 0, NULL);
        cr_assert_not_null(j, "%s", buf);
        cr_assert_str_eq(json_string_value(json_object_get(j, "fate")), cw_gen_fate_name(a->fate));
        cr_assert_eq(json_integer_value(json_object_get(j, "seats")), a->seats);
        json_t *fires = json_object_get(j, "fires");
        cr_assert(json_is_array(fires));
        const char *want = NULL;
        switch (a->fate) {
        case CW_GEN_DECLINING:
            want = "health_low";
            break;
        case CW_GEN_SILENT:
            want = "silent";
            break;
        case CW_GEN_STALLED:
            want = "onboarding_stalled";
            break;
        case CW_GEN_UNDERUSED:
            want = "seat_underuse";
            break;
        case CW_GEN_RECOVERING:
            want = "health_low";
            break;
        case CW_GEN_RENEWING:
            want = "renewal_risk";
            break;
        case CW_GEN_EXPANDING:
            want = "expansion";
            break;
        default:
            cr_assert_eq(json_array_size(fires), 0, "%s fires", buf);
        }
        if (want != NULL)
            cr_assert_str_eq(json_string_value(json_array_get(fires, 0)), want, "%s", buf);
        cr_assert(json_is_array(json_object_get(j, "firing_at_end")));
        cr_assert(json_is_array(json_object_get(j, "may_fire")));
        json_decref(j);
    }
    cr_assert_str_eq(cw_gen_fate_alerts(CW_GEN_DECLINING, CW_GEN_EXPECT_FIRES),
                     "health_low,health_drop");
    cr_assert_str_eq(cw_gen_fate_alerts(CW_GEN_RENEWING, CW_GEN_EXPECT_AT_END),
                     "renewal_risk,health_low");
    cr_assert_str_eq(cw_gen_fate_alerts(CW_GEN_EXPANDING, CW_GEN_EXPECT_AT_END), "expansion");
    cr_assert_str_eq(cw_gen_fate_alerts(CW_GEN_HEALTHY, CW_GEN_EXPECT_MAY_FIRE), "");
    cr_assert_str_eq(cw_gen_fate_alerts(CW_GEN_FATE__COUNT, CW_GEN_EXPECT_FIRES), "");
    cw_gen_free(g);
}

Test(gen, names_round_trip)
{
    for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
        cr_assert_eq(cw_gen_fate_from_name(cw_gen_fate_name(f)), f);
    cr_assert_eq(cw_gen_fate_from_name("doomed"), -1);
    cr_assert_str_eq(cw_gen_fate_name(CW_GEN_FATE__COUNT), "unknown");
    cr_assert_str_eq(cw_gen_segment_name(CW_GEN_LOGIN), "Signed In");
    cr_assert_str_eq(cw_gen_segment_name(CW_GEN_USER_REGISTERED), "Signed Up");
    cr_assert_str_eq(cw_gen_segment_name(CW_GEN_EMAIL_CLICKED), "Email Link Clicked");
    cr_assert_str_eq(cw_gen_type_name(CW_GEN_ACCOUNT_UPDATED), "account_updated");
    cr_assert_str_eq(cw_gen_type_name(CW_GEN_TYPE__COUNT), "unknown");
}

struct opt_case {
    const char *key, *value;
    bool ok;
};

Test(gen, options_from_text)
{
    static const struct opt_case cases[] = {
        {"seed", "0", true},
        {"seed", "18446744073709551615", true},
        {"seed", "18446744073709551616", false},
        {"seed", "-1", false},
        {"seed", "12x", false},
        {"seed", "", false},
        {"accounts", "1", true},
        {"accounts", "0", false},
        {"accounts", "1000001", false},
        {"days", "3660", true},
        {"days", "3661", false},
        {"days", "0", false},
        {"end", "2026-11-22T00:00:00Z", true},
        {"end", "2026-11-22T09:00:00.250+09:00", true},
        {"end", "2028-02-29T00:00:00z", true},
        {"end", "2027-02-29T00:00:00Z", false},
        {"end", "2026-13-01T00:00:00Z", false},
        {"end", "2026-11-22T24:00:00Z", false},
        {"end", "2026-11-22T00:00:00", false},
        {"end", "2026-11-22T00:00:00+24:00", false},
        {"end", "2026-11-22", false},
        {"end", "now", false},
        {"form", "native", true},
        {"form", "segment", true},
        {"form", "cloudevents", true},
        {"form", "avro", false},
        {"fates", "healthy=10,declining=5", true},
        {"fates", "recovering=1", true},
        {"fates", "renewing=2,expanding=1", true},
        {"fates", "healthy=0", false},
        {"fates", "healthy=1,", false},
        {"fates", "doomed=1", false},
        {"fates", "healthy", false},
        {"fates", "healthy=x", false},
        {"timezone-offset", "+09:00", true},
        {"timezone-offset", "-05:30", true},
        {"timezone-offset", "Z", true},
        {"timezone-offset", "+9:00", false},
        {"timezone-offset", "+24:00", false},
        {"rate-scale", "2.5", true},
        {"rate-scale", "0", false},
        {"rate-scale", "1001", false},
        {"rate-scale", "nan", false},
        {"prefix", "bench-", true},
        {"prefix", "\xff", false},
        {"colour", "blue", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cw_gen_options o, before;
        cw_gen_options_init(&o);
        before = o;
        char err[256] = "";
        int rc = cw_gen_options_set(&o, cases[i].key, cases[i].value, err, sizeof(err));
        cr_assert_eq(rc == 0, cases[i].ok, "%s=%s: rc %d (%s)", cases[i].key, cases[i].value, rc,
                     err);
        if (!cases[i].ok) {
            cr_assert_neq(err[0], '\0', "%s=%s: no message", cases[i].key, cases[i].value);
            cr_assert_eq(memcmp(&o, &before, sizeof(o)), 0, "failed set changed options");
        }
    }
    struct cw_gen_options o;
    cw_gen_options_init(&o);
    char err[128];
    cr_assert_eq(cw_gen_options_set(&o, "end", "2026-11-22T09:00:00.250+09:00", err, sizeof(err)),
                 0);
    cr_assert_eq(o.end_ms, INT64_C(1795305600250));
    cr_assert_eq(cw_gen_options_set(&o, "fates", "silent=2,stalled=3", err, sizeof(err)), 0);
    cr_assert_eq(o.fate_counts[CW_GEN_SILENT], 2);
    cr_assert_eq(o.fate_counts[CW_GEN_STALLED], 3);
    cr_assert_eq(o.fate_counts[CW_GEN_HEALTHY], 0);
    cr_assert_eq(cw_gen_options_set(&o, "timezone-offset", "-05:30", err, sizeof(err)), 0);
    cr_assert_eq(o.tz_offset_min, -330);
}

Test(gen, invalid_options_are_refused)
{
    char err[256];
    struct cw_gen_options o = opts(1);
    o.days = 0;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    cr_assert_neq(strstr(err, "days"), NULL, "%s", err);
    o = opts(1);
    o.end_ms = 1000;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    o = opts(1);
    o.rate_scale = 0;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    o = opts(1);
    o.tz_offset_min = 24 * 60;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    o = opts(1);
    o.accounts = 0;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    o = opts(1);
    o.form = (enum cw_preset)7;
    cr_assert_null(cw_gen_new(&o, err, sizeof(err)));
    cw_gen_free(NULL);
}

Test(gen, rate_scale_multiplies_volume)
{
    struct cw_gen_options o = opts(6);
    o.accounts = 8;
    o.days = 30;
    size_t n1, n3;
    stream_hash(&o, &n1);
    o.rate_scale = 3;
    stream_hash(&o, &n3);
    cr_assert(n3 > n1 * 2 && n3 < n1 * 4, "%zu vs %zu", n3, n1);
}

Test(gen, silent_accounts_stop_at_least_15_days_before_the_end)
{
    struct cw_gen_options o = opts(12);
    o.fate_counts[CW_GEN_SILENT] = 60;
    o.days = 45;
    cw_gen *g = make(&o);
    char buf[LINE_SZ];
    size_t len;
    struct cw_gen_event ev;
    int64_t last[60] = {0};
    while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1)
        last[ev.account] = ev.ts_ms;
    int64_t earliest = INT64_MAX, latest = 0;
    for (size_t i = 0; i < 60; i++) {
        cr_assert_lt(last[i], o.end_ms - 15 * DAY, "%s active %lld ms before the end",
                     cw_gen_account(g, i)->id, (long long)(o.end_ms - last[i]));
        earliest = last[i] < earliest ? last[i] : earliest;
        latest = last[i] > latest ? last[i] : latest;
    }
    /* the silence lasts 16 to 35 days, not one fixed length */
    cr_assert_gt(latest - earliest, 10 * DAY);
    cw_gen_free(g);
}

/* Renewing accounts renew 20-60 days after the last day, inside the shipped renewal_risk's
 * 90 days; every other account more than 100 days after the end, outside them, whatever
 * the length of the history or where in a day it ends. */
Test(gen, renewal_dates_keep_to_the_renewal_window)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct cw_gen_options o = opts(seed);
        for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
            o.fate_counts[f] = 6;
        if (seed == 2)
            o.days = 800;
        if (seed == 3) {
            o.end_ms += 15 * 3600000; /* 15:00 of the last day */
            o.tz_offset_min = -330;
        }
        cw_gen *g = make(&o);
        size_t renewing = 0;
        for (size_t i = 0; i < cw_gen_account_count(g); i++) {
            const struct cw_gen_account *a = cw_gen_account(g, i);
            int64_t ahead = a->renewal_at_ms - o.end_ms;
            if (a->fate == CW_GEN_RENEWING) {
                renewing++;
                cr_assert(ahead > 19 * DAY && ahead < 61 * DAY, "%s renews %lld h after the end",
                          a->id, (long long)(ahead / 3600000));
                cr_assert_eq((a->renewal_at_ms - a->created_at_ms) % (365 * DAY), 0,
                             "%s: renewal not an anniversary", a->id);
                cr_assert_leq(a->created_at_ms, o.end_ms - (int64_t)(o.days + 29) * DAY,
                              "%s: created inside the history", a->id);
            } else {
                cr_assert(ahead > 100 * DAY && ahead <= 466 * DAY, "%s (%s) renews %lld d after",
                          a->id, cw_gen_fate_name(a->fate), (long long)(ahead / DAY));
            }
        }
        cr_assert_eq(renewing, 6);
        cw_gen_free(g);
    }
}

/* The shipped expansion rule fires above 0.97 of the seats active over 28 days: an
 * expanding account registers every seat, no other more than 25 of 26 (96.2%). */
Test(gen, only_expanding_accounts_fill_their_seats)
{
    size_t expanding = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct cw_gen_options o = opts(seed);
        for (int f = 0; f < CW_GEN_FATE__COUNT; f++)
            o.fate_counts[f] = 10;
        cw_gen *g = make(&o);
        for (size_t i = 0; i < cw_gen_account_count(g); i++) {
            const struct cw_gen_account *a = cw_gen_account(g, i);
            if (a->fate == CW_GEN_EXPANDING) {
                expanding++;
                cr_assert_eq(a->users, a->seats, "%s", a->id);
            } else {
                cr_assert_lt((uint64_t)a->users * 100, (uint64_t)a->seats * 97,
                             "%s (%s): %u users of %u seats", a->id, cw_gen_fate_name(a->fate),
                             a->users, a->seats);
            }
        }
        cw_gen_free(g);
    }
    cr_assert_eq(expanding, 200);
}

/* Accounts in normal use keep registering users during the history (the score's
 * new_users: about 0.05 per seat and 28 days at the healthy level, fewer with less use);
 * underused and expanding accounts register no one after the history started. */
Test(gen, users_keep_joining_during_the_history)
{
    struct cw_gen_options o = opts(13);
    o.fate_counts[CW_GEN_HEALTHY] = 20;
    o.fate_counts[CW_GEN_BORDERLINE] = 10;
    o.fate_counts[CW_GEN_UNDERUSED] = 4;
    o.fate_counts[CW_GEN_EXPANDING] = 4;
    cw_gen *g = make(&o);
    size_t n = cw_gen_account_count(g);
    size_t *all = calloc(n, sizeof(*all)), *last28 = calloc(n, sizeof(*last28));
    cr_assert(all != NULL && last28 != NULL);
    char buf[LINE_SZ];
    size_t len;
    struct cw_gen_event ev;
    while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
        if (ev.type != CW_GEN_USER_REGISTERED)
            continue;
        all[ev.account]++;
        last28[ev.account] += ev.ts_ms >= o.end_ms - 28 * DAY;
    }
    double per_seat[CW_GEN_FATE__COUNT] = {0};
    uint64_t seats[CW_GEN_FATE__COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        const struct cw_gen_account *a = cw_gen_account(g, i);
        cr_assert_leq(all[i], a->users, "%s: %zu registrations, %u users", a->id, all[i], a->users);
        if (a->fate == CW_GEN_UNDERUSED || a->fate == CW_GEN_EXPANDING)
            cr_assert_eq(all[i], 0, "%s (%s) registered %zu users", a->id,
                         cw_gen_fate_name(a->fate), all[i]);
        per_seat[a->fate] += (double)last28[i];
        seats[a->fate] += a->seats;
    }
    double healthy = per_seat[CW_GEN_HEALTHY] / (double)seats[CW_GEN_HEALTHY];
    double border = per_seat[CW_GEN_BORDERLINE] / (double)seats[CW_GEN_BORDERLINE];
    cr_assert(healthy > 0.035 && healthy < 0.075, "healthy: %.3f new users/seat/28d", healthy);
    cr_assert(border / healthy > 0.3 && border / healthy < 0.65, "borderline/healthy %.2f",
              border / healthy);
    free(all);
    free(last28);
    cw_gen_free(g);
}

/* NPS answers and webinar minutes: values in range, in every form where the shipped config
 * reads them, answers that follow the account's fate. */
Test(gen, nps_answers_and_webinar_minutes_follow_the_fates)
{
    struct cw_gen_options o = opts(42);
    o.accounts = 40;
    o.days = 90;
    cw_gen *g = make(&o);
    char buf[LINE_SZ];
    size_t len, answers = 0, webinars = 0;
    size_t promoters[CW_GEN_FATE__COUNT] = {0}, detractors[CW_GEN_FATE__COUNT] = {0};
    struct cw_gen_event ev;
    while (cw_gen_next(g, buf, sizeof(buf), &len, &ev) == 1) {
        if (ev.type != CW_GEN_NPS_SUBMITTED && ev.type != CW_GEN_WEBINAR_WATCHED)
            continue;
        json_error_t jerr;
        json_t *j = json_loads(buf, 0, &jerr);
        cr_assert_not_null(j, "%s", buf);
        json_t *props = json_object_get(j, "props");
        enum cw_gen_fate fate = cw_gen_account(g, ev.account)->fate;
        if (ev.type == CW_GEN_NPS_SUBMITTED) {
            json_int_t s = json_integer_value(json_object_get(props, "score"));
            cr_assert(json_is_integer(json_object_get(props, "score")), "%s", buf);
            cr_assert(s >= 0 && s <= 10, "%s", buf);
            answers++;
            promoters[fate] += s >= 9;
            detractors[fate] += s <= 6;
        } else {
            json_int_t m = json_integer_value(json_object_get(props, "minutes"));
            cr_assert(m >= 20 && m <= 60, "%s", buf);
            webinars++;
        }
        json_decref(j);
    }
    cr_expect_gt(answers, 20);
    cr_expect_gt(webinars, 100);
    cr_expect_gt(promoters[CW_GEN_HEALTHY], 0);
    cr_expect_eq(detractors[CW_GEN_HEALTHY], 0);
    cr_expect_gt(detractors[CW_GEN_DECLINING], 0);
    cr_expect_eq(promoters[CW_GEN_DECLINING], 0);
    cw_gen_free(g);
}

/* docs/hierarchies.md: the healthy accounts form groups of five in id order, the first the
 * parent of the four after it; no other account has a parent, and no parent has one. */
Test(gen, healthy_accounts_form_groups_of_five)
{
    struct cw_gen_options o = opts(42);
    cw_gen *g = make(&o);
    size_t healthy = 0, children = 0;
    const char *parent = NULL;
    for (size_t i = 0; i < cw_gen_account_count(g); i++) {
        const struct cw_gen_account *a = cw_gen_account(g, i);
        if (a->fate != CW_GEN_HEALTHY) {
            cr_expect_str_eq(a->parent_id, "", "%s", a->id);
            continue;
        }
        if (healthy++ % 5 == 0) {
            cr_expect_str_eq(a->parent_id, "", "a parent has no parent: %s", a->id);
            parent = a->id;
        } else {
            cr_expect_str_eq(a->parent_id, parent, "%s", a->id);
            children++;
        }
    }
    cr_expect_eq(healthy, 10, "the default 40 accounts have 10 healthy ones");
    cr_expect_eq(children, 8, "two groups of a parent and four children");
    char buf[1024];
    size_t len;
    for (size_t i = 0; i < cw_gen_account_count(g); i++) {
        cr_assert_eq(cw_gen_manifest_line(g, i, buf, sizeof buf, &len), 1);
        json_t *j = json_loads(buf, 0, NULL);
        cr_assert_not_null(j, "%s", buf);
        const json_t *p = json_object_get(j, "parent_id");
        const struct cw_gen_account *a = cw_gen_account(g, i);
        cr_expect(a->parent_id[0] ? json_is_string(p) : json_is_null(p), "%s", buf);
        json_decref(j);
    }
    cw_gen_free(g);
}
