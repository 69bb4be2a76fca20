/* test_outbox.c - outbox keys: encoded, parsed in both formats, and an entry's rule */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/outbox.h"

#define ID "00112233445566778899aabbccddeeff"

static struct cw_rule rules[] = {
    {.name = "health_low", .kind = CW_RULE_SCORE_BELOW},
    {.name = "silent", .kind = CW_RULE_INACTIVE},
};
static const struct cw_config cfg = {.rules = rules, .n_rules = 2};

static struct cw_outbox_key key(const char *rule, enum cw_emit emit, int64_t ms)
{
    struct cw_outbox_key k = {.emit = emit, .reminder_ms = ms};
    snprintf(k.alert_id, sizeof k.alert_id, "%s", ID);
    snprintf(k.rule, sizeof k.rule, "%s", rule);
    return k;
}

static struct cw_outbox_key parsed(const char *s)
{
    struct cw_outbox_key k;
    cr_assert_eq(cw_outbox_key_parse(s, strlen(s), &k), 0, "%s", s);
    return k;
}

Test(outbox, keys_carry_the_rule_and_the_status)
{
    char out[CW_OUTBOX_KEY_MAX];
    struct cw_outbox_key k = key("silent", CW_EMIT_FIRING, 0);
    cr_assert_eq(cw_outbox_key_encode(&k, out, sizeof out), (int)strlen(ID ":silent:F"));
    cr_expect_str_eq(out, ID ":silent:F");
    k = key("health_low", CW_EMIT_RESOLVED, 0);
    cr_assert_gt(cw_outbox_key_encode(&k, out, sizeof out), 0);
    cr_expect_str_eq(out, ID ":health_low:R");
    k = key("health_low", CW_EMIT_REMINDER, 1764806400123);
    cr_assert_gt(cw_outbox_key_encode(&k, out, sizeof out), 0);
    cr_expect_str_eq(out, ID ":health_low:M1764806400123");
}

Test(outbox, an_encoded_key_parses_back)
{
    const enum cw_emit emits[] = {CW_EMIT_FIRING, CW_EMIT_RESOLVED, CW_EMIT_REMINDER};
    char longest[CW_OUTBOX_RULE_MAX];
    memset(longest, 'r', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    const char *names[] = {"silent", "_x", longest};
    for (size_t e = 0; e < 3; e++)
        for (size_t n = 0; n < 3; n++) {
            char out[CW_OUTBOX_KEY_MAX];
            struct cw_outbox_key k = key(names[n], emits[e], e == 2 ? INT64_MAX : 0);
            cr_assert_gt(cw_outbox_key_encode(&k, out, sizeof out), 0, "%s %zu", names[n], e);
            struct cw_outbox_key back = parsed(out);
            cr_expect_str_eq(back.alert_id, ID);
            cr_expect_str_eq(back.rule, names[n]);
            cr_expect_eq(back.emit, emits[e]);
            cr_expect_eq(back.reminder_ms, k.reminder_ms);
        }
}

Test(outbox, keys_of_the_previous_format_parse_without_a_rule)
{
    struct cw_outbox_key k = parsed(ID ":F");
    cr_expect_str_eq(k.alert_id, ID);
    cr_expect_str_eq(k.rule, "");
    cr_expect_eq(k.emit, CW_EMIT_FIRING);
    k = parsed(ID ":R");
    cr_expect_str_eq(k.rule, "");
    cr_expect_eq(k.emit, CW_EMIT_RESOLVED);
    k = parsed(ID ":M1764806400123");
    cr_expect_str_eq(k.rule, "");
    cr_expect_eq(k.emit, CW_EMIT_REMINDER);
    cr_expect_eq(k.reminder_ms, 1764806400123);
}

Test(outbox, malformed_keys_are_refused)
{
    const char *bad[] = {
        "",
        ID,
        ID ":",
        ID "::F",       /* an empty rule */
        ID ":silent:",  /* no status */
        ID ":silent:X", /* an unknown status */
        ID ":silent:FF",
        ID ":silent:M", /* a reminder without its time */
        ID ":silent:M-1",
        ID ":silent:M12a",
        ID ":M99999999999999999999",          /* past int64 */
        ID ":a:b:F",                          /* a rule holding ':' */
        "00112233445566778899AABBCCDDEEFF:F", /* not lower-case hex */
        "0011223344556677:F",                 /* a short id */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cw_outbox_key k;
        memset(&k, 'x', sizeof k);
        cr_expect_eq(cw_outbox_key_parse(bad[i], strlen(bad[i]), &k), -1, "%s", bad[i]);
        cr_expect_str_eq(k.rule, "", "%s", bad[i]);
    }
    /* an embedded NUL, and a length that cuts the key */
    struct cw_outbox_key k;
    cr_expect_eq(cw_outbox_key_parse(ID ":F\0", sizeof(ID ":F\0") - 1, &k), -1);
    cr_expect_eq(cw_outbox_key_parse(ID ":silent:F", CW_ALERT_ID_LEN + 8, &k), -1);
    char rule[CW_OUTBOX_RULE_MAX + 1];
    memset(rule, 'r', sizeof rule - 1);
    rule[sizeof rule - 1] = '\0';
    char s[256];
    snprintf(s, sizeof s, "%s:%s:F", ID, rule); /* a rule one byte too long */
    cr_expect_eq(cw_outbox_key_parse(s, strlen(s), &k), -1);
}

Test(outbox, keys_that_cannot_be_encoded_are_refused)
{
    char out[CW_OUTBOX_KEY_MAX];
    struct cw_outbox_key k = key("", CW_EMIT_FIRING, 0);
    cr_expect_eq(cw_outbox_key_encode(&k, out, sizeof out), -1);
    k = key("a:b", CW_EMIT_FIRING, 0);
    cr_expect_eq(cw_outbox_key_encode(&k, out, sizeof out), -1);
    k = key("silent", CW_EMIT_NONE, 0);
    cr_expect_eq(cw_outbox_key_encode(&k, out, sizeof out), -1);
    k = key("silent", CW_EMIT_REMINDER, -5);
    cr_expect_eq(cw_outbox_key_encode(&k, out, sizeof out), -1);
    k = key("silent", CW_EMIT_FIRING, 0);
    k.alert_id[3] = 'G';
    cr_expect_eq(cw_outbox_key_encode(&k, out, sizeof out), -1);
    k = key("silent", CW_EMIT_FIRING, 0);
    cr_expect_eq(cw_outbox_key_encode(&k, out, CW_ALERT_ID_LEN + 8), -1, "too small");
    cr_expect_str_eq(out, "");
}

Test(outbox, the_rule_comes_from_the_key_or_from_an_old_entry_json)
{
    const char *json = "{\"alert_id\":\"" ID "\",\"rule\":\"health_low\",\"status\":\"firing\"}";
    /* the key wins: the JSON is not read */
    struct cw_outbox_key k = parsed(ID ":silent:F");
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, json, strlen(json)), 1);
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, NULL, 0), 1);
    /* a rule no longer configured */
    k = parsed(ID ":gone:F");
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, json, strlen(json)), -1);
    /* the previous format: the JSON's own "rule" member */
    k = parsed(ID ":F");
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, json, strlen(json)), 0);
    const char *nested = "{\"detail\":{\"rule\":\"health_low\"},\"rule\":\"silent\"}";
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, nested, strlen(nested)), 1);
    const char *prefix = "{\"rule\":\"health_low_2\"}"; /* a name starting like another */
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, prefix, strlen(prefix)), -1);
    const char *none[] = {"{}", "{\"rule\":7}", "not json", "[\"rule\",\"silent\"]"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        cr_expect_eq(cw_outbox_rule_index(&cfg, &k, none[i], strlen(none[i])), -1, "%s", none[i]);
    cr_expect_eq(cw_outbox_rule_index(&cfg, &k, NULL, 0), -1);
}
