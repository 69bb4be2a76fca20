/* test_score_feed.c - the score feed (lib/score_feed.c): when a score is published, the
 * churnwatch.score.v1 message (fields, n/a measures, what moved it, hostile account ids),
 * its id, the stored state of the last one published and the outbox fields */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "churnwatch/rules.h"
#include "churnwatch/score_feed.h"

#define DAY     CW_MS_PER_DAY
#define DAY0    20414 /* 2025-11-22 */
#define HORIZON 64
#define NOON    ((int64_t)DAY0 * DAY + DAY / 2) /* 2025-11-22T12:00:00Z */

/* Two components: "usage" (logins over 7 days against 10, and per seat against 2: n/a
 * without a seats trait) and "people" (active users over 7 days against 2). */
static const char yaml[] = "event_types:\n"
                           "  login: {metric: logins}\n"
                           "score:\n"
                           "  components:\n"
                           "    usage:\n"
                           "      measures:\n"
                           "        - {name: logins, metric: logins, window: short, target: 10}\n"
                           "        - {name: logins_per_seat, metric: logins, window: short,\n"
                           "           per_seat: true, target: 2}\n"
                           "    people:\n"
                           "      measures:\n"
                           "        - {name: users, metric: active_users, window: short, "
                           "target: 2}\n";

static struct cw_config *cfg;
static char errs[4096];

struct acct {
    struct cw_traits traits;
    uint32_t daily[CW_MAX_METRICS * HORIZON];
    int32_t users[4];
    int64_t type_last[CW_MAX_EVENT_TYPES];
    struct cw_eval_input in;
    struct cw_account_eval out;
};
static struct acct A;

static void setup(void)
{
    cfg = cw_config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, errs, sizeof errs);
    cr_assert_not_null(cfg, "%s", errs);
}

static void teardown(void)
{
    cw_config_free(cfg);
}

/* account id, observed 40 days since its first day, `logins` logins today, one user active
 * today, judged at noon of DAY0; no seats: logins_per_seat is n/a. */
static void evaluate(const char *id, uint32_t logins)
{
    memset(&A, 0, sizeof A);
    struct cw_account_view *v = &A.in.view;
    v->account_id = id;
    v->today = DAY0;
    v->now_ms = NOON;
    v->first_day = DAY0 - 40;
    v->horizon = HORIZON;
    v->n_metrics = cfg->n_metrics;
    v->daily = A.daily;
    int m = cw_config_metric_index(cfg, "logins");
    cr_assert_geq(m, 0);
    A.daily[(size_t)m * HORIZON] = logins;
    A.users[0] = DAY0;
    v->user_last_day = A.users;
    v->n_users = 1;
    v->traits = &A.traits;
    v->last_seen_ms = NOON;
    for (size_t i = 0; i < CW_MAX_EVENT_TYPES; i++)
        A.type_last[i] = -1;
    v->type_last_ms = A.type_last;
    cw_evaluate(cfg, &A.in, &A.out);
    cr_assert(A.out.score.has_score);
}

static struct cw_feed_last last_at(double score, const char *grade)
{
    struct cw_feed_last l;
    memset(&l, 0, sizeof l);
    l.has = true;
    l.score = score;
    snprintf(l.grade, sizeof l.grade, "%s", grade);
    return l;
}

/* ---- the decision ---- */

TestSuite(feed_decide);

Test(feed_decide, the_first_score_is_published)
{
    struct cw_feed_last none;
    memset(&none, 0, sizeof none);
    cr_expect_eq(cw_feed_decide(&none, NOON, 5, 42.0, "C", ""), CW_FEED_FIRST);
    cr_expect_eq(cw_feed_decide(&none, NOON, 5, 0.0, "D", NULL), CW_FEED_FIRST);
    cr_expect_eq(cw_feed_decide(&none, NOON, 5, NAN, "D", NULL), 0u, "never a non-finite score");
}

Test(feed_decide, a_move_below_the_step_is_not_published)
{
    struct cw_feed_last l = last_at(50.0, "C");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 50.0, "C", ""), 0u, "nothing moved");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 54.99, "C", ""), 0u);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 45.01, "C", ""), 0u);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 54.994, "C", ""), 0u, "54.99 as published");
}

Test(feed_decide, a_move_of_the_step_either_way_is_published)
{
    struct cw_feed_last l = last_at(50.0, "C");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 55.0, "C", ""), CW_FEED_STEP);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 45.0, "C", ""), CW_FEED_STEP);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 54.996, "C", ""), CW_FEED_STEP, "55.00 as published");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 90.0, "C", ""), CW_FEED_STEP);
    /* Differences of 2-decimal scores that binary floating point does not hold exactly. */
    struct cw_feed_last k = last_at(47.35, "C");
    cr_expect_eq(cw_feed_decide(&k, NOON, 5, 52.35, "C", ""), CW_FEED_STEP);
    cr_expect_eq(cw_feed_decide(&k, NOON, 0.1, 47.45, "C", ""), CW_FEED_STEP);
    cr_expect_eq(cw_feed_decide(&k, NOON, 0.1, 47.44, "C", ""), 0u);
    struct cw_feed_last z = last_at(0.02, "D");
    cr_expect_eq(cw_feed_decide(&z, NOON, 0.1, 0.12, "D", ""), CW_FEED_STEP, "0.12 - 0.02 < 0.1");
    cr_expect_eq(cw_feed_decide(&z, NOON, 0.01, 0.03, "D", ""), CW_FEED_STEP, "0.03 - 0.02 < 0.01");
    struct cw_feed_last y = last_at(3.04, "D");
    cr_expect_eq(cw_feed_decide(&y, NOON, 5, 8.04, "D", ""), CW_FEED_STEP, "8.04 - 3.04 < 5");
}

Test(feed_decide, never_from_an_instant_before_the_last_one_published)
{
    /* A replay, a restart judging at its event-time floor, another instance behind: what
     * they see is older than what the feed already said. */
    struct cw_feed_last l = last_at(50.0, "C");
    l.observed_ms = NOON;
    cr_expect_eq(cw_feed_decide(&l, NOON - 1, 5, 20.0, "D", ""), 0u);
    cr_expect_eq(cw_feed_decide(&l, NOON - 1, 5, 50.0, "C", "p"), 0u);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 20.0, "D", ""), CW_FEED_STEP | CW_FEED_GRADE,
                 "the same instant is not older");
    cr_expect_eq(cw_feed_decide(&l, NOON + 1, 5, 20.0, "D", ""), CW_FEED_STEP | CW_FEED_GRADE);
}

Test(feed_decide, a_grade_or_profile_change_is_published_whatever_the_move)
{
    struct cw_feed_last l = last_at(40.01, "C");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 39.99, "D", ""), CW_FEED_GRADE);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 30.0, "D", ""), CW_FEED_GRADE | CW_FEED_STEP);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 40.01, "C", "enterprise"), CW_FEED_PROFILE);
    snprintf(l.profile, sizeof l.profile, "enterprise");
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 40.01, "C", "enterprise"), 0u);
    cr_expect_eq(cw_feed_decide(&l, NOON, 5, 40.01, "C", NULL), CW_FEED_PROFILE);
    cr_expect_eq(cw_feed_decide(&l, NOON, 100, 99.0, "A", "smb"), CW_FEED_GRADE | CW_FEED_PROFILE);
}

/* ---- the id ---- */

static bool is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return false;
    return true;
}

Test(feed_id, stable_and_distinct)
{
    char a[33], b[33];
    cw_score_id("acme", NOON, 52.5, a);
    cr_assert(is_hex32(a), "%s", a);
    cw_score_id("acme", NOON, 52.5, b);
    cr_expect_str_eq(a, b, "a redelivery carries the same id");
    cw_score_id("acme", NOON, 52.504, b);
    cr_expect_str_eq(a, b, "the score as published (52.50)");
    cw_score_id("acme", NOON, 52.51, b);
    cr_expect_str_neq(a, b);
    cw_score_id("acme", NOON + 1, 52.5, b);
    cr_expect_str_neq(a, b);
    cw_score_id("acm", NOON, 52.5, b);
    cr_expect_str_neq(a, b);
    char alert[33];
    cw_alert_id("acme", "x", NOON, alert);
    cr_expect_str_neq(a, alert, "another domain than alert ids");
}

/* ---- the stored state ---- */

Test(feed_state, round_trip)
{
    struct cw_feed_last l = last_at(52.5, "B|\xc3\xa9");
    snprintf(l.profile, sizeof l.profile, "enterprise");
    l.observed_ms = NOON;
    cw_score_id("acme", NOON, 52.5, l.score_id);
    l.n_contrib = 2;
    l.contrib[0] = (struct cw_feed_contrib){"logins", 12.25};
    l.contrib[1] = (struct cw_feed_contrib){"users", 40.25};
    size_t len = 0;
    char *s = cw_feed_last_encode(&l, &len);
    cr_assert_not_null(s);
    cr_expect_eq(len, strlen(s));
    cr_expect_null(strchr(s, '\n'));
    struct cw_feed_last back;
    cr_assert_eq(cw_feed_last_decode(s, len, &back), 0, "%s", s);
    cr_expect(back.has);
    cr_expect_eq(back.score, 52.5);
    cr_expect_str_eq(back.grade, l.grade);
    cr_expect_str_eq(back.profile, "enterprise");
    cr_expect_eq(back.observed_ms, NOON);
    cr_expect_str_eq(back.score_id, l.score_id);
    cr_assert_eq(back.n_contrib, 2);
    cr_expect_str_eq(back.contrib[1].name, "users");
    cr_expect_eq(back.contrib[1].points, 40.25);
    free(s);

    l.profile[0] = '\0';
    s = cw_feed_last_encode(&l, &len);
    cr_expect_null(strstr(s, "\"p\""), "no profile, no member: %s", s);
    cr_assert_eq(cw_feed_last_decode(s, len, &back), 0);
    cr_expect_str_eq(back.profile, "");
    free(s);
}

Test(feed_state, malformed_is_nothing_published)
{
    static const char *bad[] = {
        "",
        "F|1|0|0|1|ab",
        "[]",
        "{\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":{}}",                 /* no score */
        "{\"s\":\"50\",\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":{}}",    /* a string score */
        "{\"s\":50,\"t\":1,\"id\":\"x\",\"c\":{}}",                    /* no grade */
        "{\"s\":50,\"g\":\"ABCDEFGH\",\"t\":1,\"id\":\"x\",\"c\":{}}", /* too long */
        "{\"s\":50,\"g\":\"C\",\"t\":1.5,\"id\":\"x\",\"c\":{}}",
        "{\"s\":50,\"g\":\"C\",\"t\":1,\"c\":{}}",
        "{\"s\":50,\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":{\"m\":\"1\"}}",
        "{\"s\":50,\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":[]}",
        "{\"s\":50,\"s\":51,\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cw_feed_last l = last_at(1, "A");
        cr_expect_eq(cw_feed_last_decode(bad[i], strlen(bad[i]), &l), -1, "%s", bad[i]);
        cr_expect_not(l.has, "%s", bad[i]);
    }
    struct cw_feed_last l;
    const char *ok = "{\"s\":50,\"g\":\"C\",\"t\":1,\"id\":\"x\",\"c\":{},\"later\":true}";
    cr_expect_eq(cw_feed_last_decode(ok, strlen(ok), &l), 0, "unknown members are ignored");
}

Test(feed_state, of_an_evaluation, .init = setup, .fini = teardown)
{
    evaluate("acme", 5);
    struct cw_feed_last l;
    cw_feed_last_of(cfg, &A.out, "", "00112233445566778899aabbccddeeff", &l);
    cr_expect(l.has);
    cr_expect_eq(l.score, round(A.out.score.score * 100) / 100);
    cr_expect_str_eq(l.grade, A.out.score.grade);
    cr_expect_eq(l.observed_ms, NOON);
    cr_assert_eq(l.n_contrib, 2, "logins_per_seat is n/a: not kept");
    cr_expect_str_eq(l.contrib[0].name, "logins");
    cr_expect_str_eq(l.contrib[1].name, "users");
}

/* ---- the message ---- */

/* Encode and parse back; the caller json_decref()s. */
static json_t *message(const struct cw_feed_last *prev, unsigned why, const char *profile)
{
    size_t len = 0;
    char *text = cw_feed_message(cfg, &A.out, prev, why, "00112233445566778899aabbccddeeff",
                                 profile, NOON + 1500, &len);
    cr_assert_not_null(text);
    cr_assert_eq(len, strlen(text));
    cr_assert_null(strchr(text, '\n'), "one line");
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(root, "does not parse: %s: %s", err.text, text);
    free(text);
    return root;
}

static const char *str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

TestSuite(feed_message, .init = setup, .fini = teardown);

Test(feed_message, the_first_message)
{
    evaluate("acme", 6); /* logins 6 of 10: 30 points; users 1 of 2: 25 points */
    struct cw_feed_last none;
    memset(&none, 0, sizeof none);
    json_t *m = message(&none, CW_FEED_FIRST, "");
    const char *keys[] = {"schema", "score_id",    "account_id", "score",
                          "grade",  "triggers",    "components", "measures",
                          "moved",  "observed_at", "emitted_at"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        cr_assert_lt(i, sizeof keys / sizeof keys[0], "unexpected key %s", k);
        cr_expect_str_eq(k, keys[i], "key %zu", i);
        i++;
    }
    cr_expect_eq(i, sizeof keys / sizeof keys[0]);
    cr_expect_str_eq(str(m, "schema"), "churnwatch.score.v1");
    cr_expect_str_eq(str(m, "score_id"), "00112233445566778899aabbccddeeff");
    cr_expect_str_eq(str(m, "account_id"), "acme");
    cr_expect(json_is_real(json_object_get(m, "score")));
    cr_expect_eq(json_real_value(json_object_get(m, "score")), 55.0);
    cr_expect_str_eq(str(m, "grade"), "C");
    cr_expect_null(json_object_get(m, "previous_score"), "absent on the first");
    cr_expect_null(json_object_get(m, "previous_grade"));
    json_t *t = json_object_get(m, "triggers");
    cr_assert_eq(json_array_size(t), 1);
    cr_expect_str_eq(json_string_value(json_array_get(t, 0)), "first");
    json_t *c = json_object_get(m, "components");
    cr_expect_eq(json_real_value(json_object_get(c, "usage")), 0.6);
    cr_expect_eq(json_real_value(json_object_get(c, "people")), 0.5);
    cr_expect_str_eq(str(m, "observed_at"), "2025-11-22T12:00:00Z");
    cr_expect_str_eq(str(m, "emitted_at"), "2025-11-22T12:00:01.500Z");
    /* The first message: every contribution moved from nothing. */
    json_t *moved = json_object_get(m, "moved");
    cr_assert_eq(json_array_size(moved), 2);
    json_t *m0 = json_array_get(moved, 0), *m1 = json_array_get(moved, 1);
    cr_expect_str_eq(str(m0, "measure"), "logins", "the largest first");
    cr_expect_str_eq(str(m0, "component"), "usage");
    cr_expect_eq(json_real_value(json_object_get(m0, "points")), 30.0);
    cr_expect_eq(json_real_value(json_object_get(m0, "before")), 0.0);
    cr_expect_eq(json_real_value(json_object_get(m0, "after")), 30.0);
    cr_expect_str_eq(str(m1, "measure"), "users");
    cr_expect_eq(json_real_value(json_object_get(m1, "points")), 25.0);
    /* No traits: no owner, plan, segment, seats, renewal_at, profile. */
    const char *absent[] = {"owner",      "plan",      "segment", "seats",
                            "renewal_at", "parent_id", "profile"};
    for (size_t a = 0; a < sizeof absent / sizeof absent[0]; a++)
        cr_expect_null(json_object_get(m, absent[a]), "%s", absent[a]);
    json_decref(m);
}

Test(feed_message, measures_show_raw_target_contribution_and_na)
{
    evaluate("acme", 5);
    struct cw_feed_last none;
    memset(&none, 0, sizeof none);
    json_t *m = message(&none, CW_FEED_FIRST, "");
    json_t *ms = json_object_get(m, "measures");
    cr_assert_eq(json_object_size(ms), 3);
    json_t *logins = json_object_get(ms, "logins");
    cr_expect_str_eq(str(logins, "component"), "usage");
    cr_expect_eq(json_real_value(json_object_get(logins, "raw")), 5.0);
    cr_expect(json_is_integer(json_object_get(logins, "target")), "a whole target as written");
    cr_expect_eq(json_integer_value(json_object_get(logins, "target")), 10);
    cr_expect_eq(json_real_value(json_object_get(logins, "contribution")), 25.0);
    cr_expect(json_is_null(json_object_get(logins, "na")));
    json_t *na = json_object_get(ms, "logins_per_seat");
    cr_assert_not_null(na);
    cr_expect(json_is_null(json_object_get(na, "raw")), "n/a: no raw value");
    cr_expect(json_is_null(json_object_get(na, "contribution")));
    cr_expect_eq(json_integer_value(json_object_get(na, "target")), 2);
    cr_expect_str_eq(str(na, "na"), "n/a (seats unknown)");
    json_decref(m);
}

Test(feed_message, a_later_message_carries_the_last_one_published_and_what_moved)
{
    evaluate("acme", 10); /* logins 10 of 10: 50 points; users 1 of 2: 25 -> 75 */
    struct cw_feed_last prev = last_at(50.0, "C");
    prev.n_contrib = 2;
    prev.contrib[0] = (struct cw_feed_contrib){"logins", 25.0};
    prev.contrib[1] = (struct cw_feed_contrib){"users", 25.0};
    json_t *m = message(&prev, CW_FEED_STEP | CW_FEED_GRADE, "");
    cr_expect_eq(json_real_value(json_object_get(m, "score")), 75.0);
    cr_expect_str_eq(str(m, "grade"), "B");
    cr_expect(json_is_real(json_object_get(m, "previous_score")));
    cr_expect_eq(json_real_value(json_object_get(m, "previous_score")), 50.0);
    cr_expect_str_eq(str(m, "previous_grade"), "C");
    json_t *t = json_object_get(m, "triggers");
    cr_assert_eq(json_array_size(t), 2);
    cr_expect_str_eq(json_string_value(json_array_get(t, 0)), "step");
    cr_expect_str_eq(json_string_value(json_array_get(t, 1)), "grade");
    json_t *moved = json_object_get(m, "moved");
    cr_assert_eq(json_array_size(moved), 1, "users did not move");
    json_t *m0 = json_array_get(moved, 0);
    cr_expect_str_eq(str(m0, "measure"), "logins");
    cr_expect_eq(json_real_value(json_object_get(m0, "points")), 25.0);
    cr_expect_eq(json_real_value(json_object_get(m0, "before")), 25.0);
    cr_expect_eq(json_real_value(json_object_get(m0, "after")), 50.0);

    /* A measure the last state does not know (renamed since) counts from 0. */
    snprintf(prev.contrib[0].name, sizeof prev.contrib[0].name, "old_name");
    json_decref(m);
    m = message(&prev, CW_FEED_STEP, "");
    moved = json_object_get(m, "moved");
    cr_assert_eq(json_array_size(moved), 1);
    cr_expect_eq(json_real_value(json_object_get(json_array_get(moved, 0), "before")), 0.0);
    json_decref(m);
}

Test(feed_message, the_account_context_and_the_profile_when_known)
{
    evaluate("acme", 5);
    A.traits.has_seats = true;
    A.traits.seats = 31;
    snprintf(A.traits.owner, sizeof A.traits.owner, "ben@example.com");
    snprintf(A.traits.parent_id, sizeof A.traits.parent_id, "acme-group");
    snprintf(A.traits.plan, sizeof A.traits.plan, "standard");
    snprintf(A.traits.segment, sizeof A.traits.segment, "M");
    A.traits.has_renewal_at = true;
    A.traits.renewal_at_ms = INT64_C(1786617972447); /* 2026-08-13T10:46:12.447Z */
    cw_evaluate(cfg, &A.in, &A.out);
    struct cw_feed_last prev = last_at(50.0, "C");
    snprintf(prev.profile, sizeof prev.profile, "smb");
    json_t *m = message(&prev, CW_FEED_PROFILE, "enterprise");
    cr_expect_str_eq(str(m, "profile"), "enterprise");
    cr_expect_str_eq(str(m, "segment"), "M");
    cr_expect_str_eq(str(m, "owner"), "ben@example.com");
    cr_expect_str_eq(str(m, "plan"), "standard");
    cr_expect_eq(json_integer_value(json_object_get(m, "seats")), 31);
    cr_expect_str_eq(str(m, "renewal_at"), "2026-08-13T10:46:12.447Z");
    cr_expect_str_eq(str(m, "parent_id"), "acme-group");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(m, "triggers"), 0)),
                     "profile");
    /* Seats known: the per-seat measure has a value now. */
    json_t *ps = json_object_get(json_object_get(m, "measures"), "logins_per_seat");
    cr_expect(json_is_real(json_object_get(ps, "raw")));
    cr_expect(json_is_null(json_object_get(ps, "na")));
    json_decref(m);
}

Test(feed_message, hostile_account_ids_stay_one_valid_value)
{
    static const char *ids[] = {
        "evil\",\"score\":100,\"x\":\"", /* quotes: no forged member */
        "line\nbreak\ttab\\back",
        "bidi\xe2\x80\xae"
        "dir", /* U+202E kept as is */
        "bad\xff"
        "utf8\xc0\xaf", /* invalid UTF-8: U+FFFD */
        "{\"nested\":1}",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        evaluate(ids[i], 5);
        struct cw_feed_last none;
        memset(&none, 0, sizeof none);
        json_t *m = message(&none, CW_FEED_FIRST, "");
        const char *got = str(m, "account_id");
        if (i == 3)
            cr_expect_str_eq(got, "bad\xef\xbf\xbdutf8\xef\xbf\xbd\xef\xbf\xbd");
        else
            cr_expect_str_eq(got, ids[i]);
        cr_expect_eq(json_real_value(json_object_get(m, "score")), 50.0, "%s", ids[i]);
        cr_expect_str_eq(str(m, "schema"), "churnwatch.score.v1");
        json_decref(m);
    }
}

/* ---- the outbox fields ---- */

Test(feed_entry, field_round_trip_and_refusals)
{
    char f[CW_FEED_ENTRY_MAX];
    const char *id = "00112233445566778899aabbccddeeff";
    int n = cw_feed_entry_field(NOON, id, f, sizeof f);
    cr_assert_gt(n, 0);
    cr_expect_str_eq(f, ":feed:1763812800000:00112233445566778899aabbccddeeff");
    int64_t ms = 0;
    cr_expect_eq(cw_feed_entry_parse(f, (size_t)n, &ms), 0);
    cr_expect_eq(ms, NOON);
    cr_expect_gt(cw_feed_entry_field(INT64_MAX, id, f, sizeof f), 0, "the longest fits");
    cr_expect_gt(cw_feed_entry_field(INT64_MIN + 1, id, f, sizeof f), 0);
    cr_expect_eq(cw_feed_entry_parse(f, strlen(f), &ms), 0);
    cr_expect_eq(ms, INT64_MIN + 1);
    cr_expect_eq(cw_feed_entry_field(NOON, "00112233445566778899AABBCCDDEEFF", f, sizeof f), -1);
    cr_expect_eq(cw_feed_entry_field(NOON, "0011", f, sizeof f), -1);
    cr_expect_eq(cw_feed_entry_field(NOON, id, f, 20), -1, "too small");
    static const char *not_entries[] = {
        ":feed",
        "health_low",
        ":feed:",
        ":feed::00112233445566778899aabbccddeeff",
        ":feed:12:00112233445566778899aabbccddeef",
        ":feed:12:00112233445566778899aabbccddeefg",
        ":feed:1x:00112233445566778899aabbccddeeff",
        ":feed:12;00112233445566778899aabbccddeeff",
        ":feed:99999999999999999999:00112233445566778899aabbccddeeff",
        ":fees:12:00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof not_entries / sizeof not_entries[0]; i++)
        cr_expect_eq(cw_feed_entry_parse(not_entries[i], strlen(not_entries[i]), &ms), -1, "%s",
                     not_entries[i]);
}
