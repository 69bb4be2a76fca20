/* test_episode.c - recent resolved episodes: their stored form (`:ep:` fields of `:r`),
 * values that must not parse, and the newest-first list capped at CW_EPISODES_KEPT. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/episode.h"

#define ID "00112233445566778899aabbccddeeff"

static struct cw_episode ep(const char *id, const char *rule, int64_t started, int64_t resolved,
                            enum cw_severity sev)
{
    struct cw_episode e = {.started_ms = started, .resolved_ms = resolved, .severity = sev};
    snprintf(e.alert_id, sizeof e.alert_id, "%s", id);
    snprintf(e.rule, sizeof e.rule, "%s", rule);
    return e;
}

/* An id of 32 hex characters ending in the two digits of k. */
static struct cw_episode ep_k(int k, int64_t resolved)
{
    char id[CW_ALERT_ID_LEN + 1];
    snprintf(id, sizeof id, "00112233445566778899aabbccddee%02d", k);
    return ep(id, "health_low", resolved - 1000, resolved, CW_SEV_WARNING);
}

Test(episode, encoded_compactly_and_decoded_back)
{
    char f[CW_EPISODE_FIELD_SIZE], v[CW_EPISODE_VALUE_SIZE];
    struct cw_episode e = ep(ID, "health_low", 1764806400123, 1765065600456, CW_SEV_CRITICAL);
    cr_assert_eq(cw_episode_encode(&e, f, sizeof f, v, sizeof v), 0);
    cr_expect_str_eq(f, ":ep:" ID);
    cr_expect_str_eq(v, "1764806400123|1765065600456|c|health_low");
    struct cw_episode d;
    memset(&d, 0x5a, sizeof d);
    cr_assert_eq(cw_episode_decode(f, strlen(f), v, strlen(v), &d), 0);
    cr_expect_str_eq(d.alert_id, ID);
    cr_expect_str_eq(d.rule, "health_low");
    cr_expect_eq(d.started_ms, 1764806400123);
    cr_expect_eq(d.resolved_ms, 1765065600456);
    cr_expect_eq(d.severity, CW_SEV_CRITICAL);
    const char *sev[] = {"1|2|i|r", "1|2|w|r", "1|2|c|r"};
    for (int s = 0; s < 3; s++) {
        cr_assert_eq(cw_episode_decode(f, strlen(f), sev[s], strlen(sev[s]), &d), 0, "%s", sev[s]);
        cr_expect_eq(d.severity, (enum cw_severity)s, "%s", sev[s]);
    }
}

Test(episode, what_cannot_be_stored_is_refused)
{
    char f[CW_EPISODE_FIELD_SIZE], v[CW_EPISODE_VALUE_SIZE];
    struct cw_episode bad[] = {
        ep("0011", "health_low", 1, 2, CW_SEV_INFO),          /* short id */
        ep("00112233445566778899AABBCCDDEEFF", "r", 1, 2, 0), /* upper-case id */
        ep(ID, "", 1, 2, CW_SEV_INFO),                        /* no rule */
        ep(ID, "a|b", 1, 2, CW_SEV_INFO),                     /* the separator */
        ep(ID, "health_low", 5, 2, CW_SEV_INFO),              /* resolved before it fired */
        ep(ID, "health_low", 1, 2, (enum cw_severity)7),      /* no such severity */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cw_episode_encode(&bad[i], f, sizeof f, v, sizeof v), -1, "case %zu", i);
    struct cw_episode ok = ep(ID, "health_low", 1, 2, CW_SEV_INFO);
    cr_expect_eq(cw_episode_encode(&ok, f, 10, v, sizeof v), -1, "field buffer too small");
    cr_expect_eq(cw_episode_encode(&ok, f, sizeof f, v, 8), -1, "value buffer too small");
}

Test(episode, foreign_or_damaged_fields_do_not_parse)
{
    const char *f = ":ep:" ID;
    const char *bad_values[] = {
        "",
        "1|2|w",
        "1|2|w|",
        "1|2|x|r",
        "1|2||r",
        "a|2|w|r",
        "1|b|w|r",
        "1|2|wr",
        "5|2|w|r",
        "1|2|w|a|b",
        "1234567890123456789|2|w|r",
        "-|2|w|r",
        "1||w|r",
    };
    struct cw_episode d;
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        cr_expect_eq(cw_episode_decode(f, strlen(f), bad_values[i], strlen(bad_values[i]), &d), -1,
                     "value '%s'", bad_values[i]);
    const char *bad_fields[] = {":feed",
                                ":ep:",
                                ":ep:0011",
                                "ep:" ID,
                                ":ep:" ID "0",
                                ":EP:" ID,
                                ":ep:00112233445566778899aabbccddeefg"};
    for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++)
        cr_expect_eq(cw_episode_decode(bad_fields[i], strlen(bad_fields[i]), "1|2|w|r", 7, &d), -1,
                     "field '%s'", bad_fields[i]);
    /* A NUL inside the rule (a hash value is binary) is not a rule name. */
    cr_expect_eq(cw_episode_decode(f, strlen(f), "1|2|w|a\0b", 9, &d), -1);
}

Test(episode, the_list_keeps_the_five_newest_resolutions_newest_first)
{
    struct cw_episode list[CW_EPISODES_KEPT];
    size_t n = 0;
    /* Resolved at 10, 50, 30, 20, 40 s: arrival order is not list order. */
    const int64_t at[] = {10000, 50000, 30000, 20000, 40000};
    for (int k = 0; k < 5; k++) {
        struct cw_episode e = ep_k(k, at[k]);
        n = cw_episodes_keep(list, n, CW_EPISODES_KEPT, &e);
        cr_assert_eq(n, (size_t)k + 1);
    }
    const int64_t want[] = {50000, 40000, 30000, 20000, 10000};
    for (int k = 0; k < 5; k++)
        cr_expect_eq(list[k].resolved_ms, want[k], "list[%d]", k);
    /* A sixth, newer than all: the oldest (10 s) is dropped. */
    struct cw_episode sixth = ep_k(5, 60000);
    n = cw_episodes_keep(list, n, CW_EPISODES_KEPT, &sixth);
    cr_assert_eq(n, 5);
    cr_expect_str_eq(list[0].alert_id, sixth.alert_id);
    cr_expect_eq(list[4].resolved_ms, 20000, "the oldest went");
    /* One older than every kept one changes nothing. */
    struct cw_episode old = ep_k(6, 5000);
    n = cw_episodes_keep(list, n, CW_EPISODES_KEPT, &old);
    cr_assert_eq(n, 5);
    for (size_t k = 0; k < n; k++)
        cr_expect_str_neq(list[k].alert_id, old.alert_id);
    /* One in the middle: it takes its place, the oldest goes. */
    struct cw_episode mid = ep_k(7, 35000);
    n = cw_episodes_keep(list, n, CW_EPISODES_KEPT, &mid);
    const int64_t after[] = {60000, 50000, 40000, 35000, 30000};
    for (int k = 0; k < 5; k++)
        cr_expect_eq(list[k].resolved_ms, after[k], "list[%d] after the middle one", k);
}

Test(episode, equal_resolutions_are_ordered_by_alert_id_whatever_the_arrival)
{
    struct cw_episode a[2], b[2];
    struct cw_episode x = ep_k(1, 1000), y = ep_k(2, 1000);
    size_t na = cw_episodes_keep(a, 0, 2, &x);
    na = cw_episodes_keep(a, na, 2, &y);
    size_t nb = cw_episodes_keep(b, 0, 2, &y);
    nb = cw_episodes_keep(b, nb, 2, &x);
    cr_assert_eq(na, 2);
    cr_assert_eq(nb, 2);
    for (int k = 0; k < 2; k++)
        cr_expect_str_eq(a[k].alert_id, b[k].alert_id);
}
