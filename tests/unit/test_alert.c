/* test_alert.c - the churnwatch.alert.v1 encoding: key order, values, nulls, escaping, times */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/alert.h"

static const struct cw_alert_component spec_components[] = {
    {"utilization", true, 0.31},
    {"engagement", true, 0.52},
    {"penetration", true, 0.40},
};

/* The example message of docs/alerts.md. */
static struct cw_alert spec_alert(void)
{
    struct cw_alert a;
    memset(&a, 0, sizeof a);
    a.alert_id = "5f0c8a3e9b2d4c71a6e8f0b1c2d3e4f5";
    a.account_id = "acme";
    a.rule = "health_low";
    a.kind = CW_RULE_SCORE_BELOW;
    a.severity = CW_SEV_CRITICAL;
    a.has_score = true;
    a.score = 37.5;
    a.has_previous_score = true;
    a.previous_score = 52.0;
    a.grade = "D";
    a.has_threshold = true;
    a.threshold = 40;
    a.has_value = true;
    a.value = 37.5;
    a.touch = "high";
    a.reason = "health score 37.5 fell below 40";
    a.n_components = 3;
    a.components = spec_components;
    a.observed_at_ms = INT64_C(1795338000000); /* 2026-11-22T09:00:00Z */
    a.emitted_at_ms = INT64_C(1795338001000);
    return a;
}

/* Encode and parse back; the caller json_decref()s. */
static json_t *roundtrip(const struct cw_alert *a, char **text_out)
{
    size_t len = 0;
    char *text = cw_alert_encode(a, &len);
    cr_assert_not_null(text);
    cr_assert_eq(len, strlen(text));
    cr_assert_null(strchr(text, '\n'), "one line");
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(root, "does not parse: %s: %s", err.text, text);
    cr_assert(json_is_object(root));
    if (text_out)
        *text_out = text;
    else
        free(text);
    return root;
}

static const char *str_field(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static double num_field(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    cr_assert(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

Test(alert, spec_example_encodes_byte_for_byte)
{
    struct cw_alert a = spec_alert();
    char *text = cw_alert_encode(&a, NULL);
    cr_assert_not_null(text);
    cr_assert_str_eq(
        text,
        "{\"schema\":\"churnwatch.alert.v1\",\"alert_id\":\"5f0c8a3e9b2d4c71a6e8f0b1c2d3e4f5\","
        "\"account_id\":\"acme\",\"rule\":\"health_low\",\"kind\":\"score_below\","
        "\"status\":\"firing\",\"severity\":\"critical\",\"score\":37.5,"
        "\"previous_score\":52.0,\"grade\":\"D\",\"threshold\":40,\"touch\":\"high\","
        "\"reason\":\"health score 37.5 fell below 40\","
        "\"components\":{\"utilization\":0.31,\"engagement\":0.52,\"penetration\":0.4},"
        "\"observed_at\":\"2026-11-22T09:00:00Z\",\"emitted_at\":\"2026-11-22T09:00:01Z\","
        "\"value\":37.5,\"direction\":\"risk\"}");
    free(text);
}

Test(alert, parses_back_to_every_field)
{
    struct cw_alert a = spec_alert();
    json_t *root = roundtrip(&a, NULL);
    cr_assert_str_eq(str_field(root, "schema"), "churnwatch.alert.v1");
    cr_assert_str_eq(str_field(root, "alert_id"), a.alert_id);
    cr_assert_str_eq(str_field(root, "account_id"), "acme");
    cr_assert_str_eq(str_field(root, "rule"), "health_low");
    cr_assert_str_eq(str_field(root, "kind"), "score_below");
    cr_assert_str_eq(str_field(root, "status"), "firing");
    cr_assert_str_eq(str_field(root, "severity"), "critical");
    cr_assert_eq(num_field(root, "score"), 37.5);
    cr_assert_eq(num_field(root, "previous_score"), 52.0);
    cr_assert_str_eq(str_field(root, "grade"), "D");
    cr_assert_eq(num_field(root, "threshold"), 40.0);
    cr_assert_str_eq(str_field(root, "touch"), "high");
    cr_assert_str_eq(str_field(root, "reason"), a.reason);
    json_t *comps = json_object_get(root, "components");
    cr_assert(json_is_object(comps));
    cr_assert_eq(json_object_size(comps), 3);
    cr_assert_eq(json_number_value(json_object_get(comps, "utilization")), 0.31);
    cr_assert_eq(json_number_value(json_object_get(comps, "engagement")), 0.52);
    cr_assert_eq(json_number_value(json_object_get(comps, "penetration")), 0.40);
    cr_assert_str_eq(str_field(root, "observed_at"), "2026-11-22T09:00:00Z");
    cr_assert_str_eq(str_field(root, "emitted_at"), "2026-11-22T09:00:01Z");
    cr_assert_eq(num_field(root, "value"), 37.5);
    cr_assert_null(json_object_get(root, "segment"), "no segment: key omitted");
    cr_assert_null(json_object_get(root, "reminder"), "not a reminder: key omitted");
    json_decref(root);
}

Test(alert, keys_come_in_spec_order_then_extras)
{
    static const char *const order[] = {
        "schema",         "alert_id",   "account_id",       "rule",
        "kind",           "status",     "severity",         "score",
        "previous_score", "grade",      "threshold",        "touch",
        "reason",         "components", "observed_at",      "emitted_at",
        "value",          "direction",  "segment",          "owner",
        "plan",           "seats",      "renewal_at",       "parent_id",
        "profile",        "stage",      "children_at_risk", "rollup_score",
        "users",          "reminder",
    };
    struct cw_alert a = spec_alert();
    a.segment = "M";
    a.direction = CW_DIR_OPPORTUNITY;
    a.owner = "ben.okafor@example.com";
    a.plan = "standard";
    a.has_seats = true;
    a.seats = 31;
    a.has_renewal_at = true;
    a.renewal_at_ms = 1818153372447; /* 2027-08-13T10:36:12.447Z */
    a.parent_id = "acme-group";
    a.profile = "enterprise";
    a.stage = "renewal";
    static const char *const kids[] = {"acme-de", "acme-us"};
    a.children_at_risk = kids;
    a.n_children_at_risk = 2;
    a.has_rollup_score = true;
    a.rollup_score = 23.126;
    static const char *const named[] = {"ann", "bob"};
    a.users = named;
    a.n_users = 2;
    a.reminder = true;
    json_t *root = roundtrip(&a, NULL);
    size_t i = 0;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it), i++) {
        cr_assert_lt(i, sizeof order / sizeof order[0]);
        cr_assert_str_eq(json_object_iter_key(it), order[i], "key %zu", i);
    }
    cr_assert_eq(i, sizeof order / sizeof order[0]);
    cr_assert_str_eq(str_field(root, "segment"), "M");
    cr_assert_str_eq(str_field(root, "direction"), "opportunity");
    cr_assert_str_eq(str_field(root, "owner"), "ben.okafor@example.com");
    cr_assert_str_eq(str_field(root, "plan"), "standard");
    cr_assert(json_is_integer(json_object_get(root, "seats")), "seats: an integer");
    cr_assert_eq(json_integer_value(json_object_get(root, "seats")), 31);
    cr_assert_str_eq(str_field(root, "renewal_at"), "2027-08-13T10:36:12.447Z");
    cr_assert_str_eq(str_field(root, "parent_id"), "acme-group");
    cr_assert_str_eq(str_field(root, "profile"), "enterprise");
    cr_assert_str_eq(str_field(root, "stage"), "renewal");
    cr_assert(json_is_true(json_object_get(root, "reminder")));
    cr_assert_str_eq(str_field(root, "status"), "firing", "a reminder is still firing");
    json_t *ids = json_object_get(root, "children_at_risk");
    cr_assert(json_is_array(ids) && json_array_size(ids) == 2);
    cr_assert_str_eq(json_string_value(json_array_get(ids, 0)), "acme-de");
    cr_assert_str_eq(json_string_value(json_array_get(ids, 1)), "acme-us");
    cr_assert_float_eq(num_field(root, "rollup_score"), 23.13, 1e-9);
    json_t *us = json_object_get(root, "users");
    cr_assert(json_is_array(us) && json_array_size(us) == 2);
    cr_assert_str_eq(json_string_value(json_array_get(us, 1)), "bob");
    json_decref(root);

    /* a parent rule's alert with none at risk (its resolution) still has the list, empty */
    a = spec_alert();
    a.children_at_risk = kids;
    a.n_children_at_risk = 0;
    root = roundtrip(&a, NULL);
    ids = json_object_get(root, "children_at_risk");
    cr_assert(json_is_array(ids) && json_array_size(ids) == 0);
    cr_assert_null(json_object_get(root, "rollup_score"), "no roll-up: omitted");
    json_decref(root);
}

Test(alert, missing_values_are_null_never_zero)
{
    static const struct cw_alert_component comps[] = {
        {"utilization", true, 0.0},
        {"penetration", false, 0.7}, /* n/a: the value is not looked at */
    };
    struct cw_alert a = spec_alert();
    a.kind = CW_RULE_INACTIVE;
    a.resolved = true;
    a.severity = CW_SEV_INFO;
    a.has_score = false;
    a.has_previous_score = false;
    a.grade = "";
    a.has_threshold = false;
    a.has_value = false;
    a.touch = NULL;
    a.segment = "";
    a.owner = "";
    a.parent_id = "";
    a.plan = NULL;
    a.profile = NULL;
    a.stage = "";
    a.seats = 12; /* not known: not looked at */
    a.components = comps;
    a.n_components = 2;
    json_t *root = roundtrip(&a, NULL);
    cr_assert_str_eq(str_field(root, "status"), "resolved");
    cr_assert_str_eq(str_field(root, "kind"), "inactive");
    cr_assert_str_eq(str_field(root, "severity"), "info");
    cr_assert(json_is_null(json_object_get(root, "score")));
    cr_assert(json_is_null(json_object_get(root, "previous_score")));
    cr_assert(json_is_null(json_object_get(root, "grade")));
    cr_assert(json_is_null(json_object_get(root, "threshold")));
    cr_assert(json_is_null(json_object_get(root, "touch")));
    cr_assert(json_is_null(json_object_get(root, "value")));
    cr_assert_null(json_object_get(root, "segment"), "empty segment: omitted");
    for (const char *const *k = (const char *const[]){"owner", "plan", "seats", "renewal_at",
                                                      "parent_id", "profile", "stage", NULL};
         *k; k++)
        cr_assert_null(json_object_get(root, *k), "%s unknown: omitted", *k);
    json_t *c = json_object_get(root, "components");
    cr_assert(json_is_number(json_object_get(c, "utilization")));
    cr_assert_eq(json_number_value(json_object_get(c, "utilization")), 0.0);
    cr_assert(json_is_null(json_object_get(c, "penetration")));
    json_decref(root);
}

Test(alert, nan_and_infinity_are_never_emitted)
{
    static const struct cw_alert_component comps[] = {{"utilization", true, NAN}};
    struct cw_alert a = spec_alert();
    a.score = NAN;
    a.previous_score = INFINITY;
    a.threshold = -INFINITY;
    a.value = NAN;
    a.components = comps;
    a.n_components = 1;
    char *text = NULL;
    json_t *root = roundtrip(&a, &text);
    cr_assert_null(strstr(text, "nan"));
    cr_assert_null(strstr(text, "inf"));
    cr_assert(json_is_null(json_object_get(root, "score")));
    cr_assert(json_is_null(json_object_get(root, "previous_score")));
    cr_assert(json_is_null(json_object_get(root, "threshold")));
    cr_assert(json_is_null(json_object_get(root, "value")));
    cr_assert(json_is_null(json_object_get(json_object_get(root, "components"), "utilization")));
    free(text);
    json_decref(root);
}

Test(alert, numbers_are_rounded_to_two_decimals)
{
    struct cw_alert a = spec_alert();
    a.score = 37.456;
    a.previous_score = 52.0 + 1.0 / 3.0;
    a.threshold = 0.3;
    a.value = -0.001; /* rounds to zero: "0.0", never "-0.0" */
    char *text = NULL;
    json_t *root = roundtrip(&a, &text);
    cr_assert_eq(num_field(root, "score"), 37.46);
    cr_assert_eq(num_field(root, "previous_score"), 52.33);
    cr_assert_eq(num_field(root, "threshold"), 0.3);
    cr_assert(json_is_real(json_object_get(root, "threshold")));
    cr_assert_eq(num_field(root, "value"), 0.0);
    cr_assert_not_null(strstr(text, "\"score\":37.46,"), "%s", text);
    cr_assert_not_null(strstr(text, "\"threshold\":0.3,"), "%s", text);
    cr_assert_not_null(strstr(text, "\"value\":0.0"), "%s", text);
    cr_assert_null(strstr(text, "-0"), "%s", text);
    free(text);
    json_decref(root);
}

Test(alert, whole_scores_stay_reals_whole_thresholds_are_integers)
{
    struct cw_alert a = spec_alert();
    a.score = 40;
    a.threshold = 14;
    json_t *root = roundtrip(&a, NULL);
    cr_assert(json_is_real(json_object_get(root, "score")));
    cr_assert(json_is_real(json_object_get(root, "previous_score")));
    cr_assert(json_is_integer(json_object_get(root, "threshold")));
    cr_assert_eq(json_integer_value(json_object_get(root, "threshold")), 14);
    json_decref(root);
}

Test(alert, odd_account_ids_are_escaped_and_parse_back)
{
    static const char *const ids[] = {
        "a\"b\\c", "line\nbreak\ttab\x01", "株式会社アクメ", "emoji-\xF0\x9F\x9A\x80", "</script>",
        "",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct cw_alert a = spec_alert();
        a.account_id = ids[i];
        a.reason = ids[i];
        a.segment = ids[i];
        char *text = NULL;
        json_t *root = roundtrip(&a, &text);
        cr_assert_str_eq(str_field(root, "account_id"), ids[i], "id %zu: %s", i, text);
        cr_assert_str_eq(str_field(root, "reason"), ids[i]);
        if (*ids[i])
            cr_assert_str_eq(str_field(root, "segment"), ids[i]);
        for (const char *p = text; *p; p++)
            cr_assert((unsigned char)*p >= 0x20, "raw control byte in %s", text);
        free(text);
        json_decref(root);
    }
}

Test(alert, invalid_utf8_is_repaired_not_dropped)
{
    struct cw_alert a = spec_alert();
    a.account_id = "bad\xC3(id\xFF";
    a.reason = "cut \xE6\x97"; /* a truncated 3-byte sequence */
    json_t *root = roundtrip(&a, NULL);
    cr_assert_str_eq(str_field(root, "account_id"), "bad\xEF\xBF\xBD(id\xEF\xBF\xBD");
    cr_assert_str_eq(str_field(root, "reason"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    json_decref(root);
}

Test(alert, timestamps_are_rfc3339_utc)
{
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {INT64_C(1795338000123), "2026-11-22T09:00:00.123Z"},
        {INT64_C(1835481599999), "2028-02-29T23:59:59.999Z"}, /* leap day */
        {INT64_C(951782400000), "2000-02-29T00:00:00Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {INT64_C(253402300799000), "9999-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cw_alert a = spec_alert();
        a.observed_at_ms = cases[i].ms;
        a.emitted_at_ms = cases[i].ms;
        json_t *root = roundtrip(&a, NULL);
        cr_assert_str_eq(str_field(root, "observed_at"), cases[i].text);
        cr_assert_str_eq(str_field(root, "emitted_at"), cases[i].text);
        json_decref(root);
    }
    /* Year 10000 cannot be written in RFC 3339: null rather than a malformed string. */
    struct cw_alert a = spec_alert();
    a.emitted_at_ms = INT64_C(253402300800000);
    a.observed_at_ms = INT64_MIN;
    json_t *root = roundtrip(&a, NULL);
    cr_assert(json_is_null(json_object_get(root, "emitted_at")));
    cr_assert(json_is_null(json_object_get(root, "observed_at")));
    json_decref(root);
}

Test(alert, every_kind_and_severity_has_its_name)
{
    static const char *const kinds[] = {"score_below", "score_drop", "inactive", "onboarding",
                                        "ratio_below"};
    static const char *const sevs[] = {"info", "warning", "critical"};
    for (int k = 0; k < 5; k++) {
        struct cw_alert a = spec_alert();
        a.kind = (enum cw_rule_kind)k;
        a.severity = (enum cw_severity)(k % 3);
        json_t *root = roundtrip(&a, NULL);
        cr_assert_str_eq(str_field(root, "kind"), kinds[k]);
        cr_assert_str_eq(str_field(root, "severity"), sevs[k % 3]);
        json_decref(root);
    }
}

Test(alert, no_components_is_an_empty_object)
{
    struct cw_alert a = spec_alert();
    a.n_components = 0;
    a.components = NULL;
    char *text = NULL;
    json_t *root = roundtrip(&a, &text);
    cr_assert_not_null(strstr(text, "\"components\":{},"));
    free(text);
    json_decref(root);
}
