/* test_cluster.c - CRC16 key slots, MOVED/ASK parsing and slot maps against Redis's own answers */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "churnwatch/cluster.h"

Test(cluster, crc16_spec_vector)
{
    /* Redis Cluster specification, appendix A: the CCITT/XMODEM check value. */
    cr_expect_eq(cw_crc16("123456789", 9), 0x31C3);
    cr_expect_eq(cw_crc16("", 0), 0);
}

/* Slots as `redis-cli CLUSTER KEYSLOT` of redis-server 7 answers them. */
static const struct {
    const char *key;
    int slot;
} SLOTS[] = {
    {"123456789", 12739},
    {"foo", 12182},
    {"bar", 5061},
    {"hello", 866},
    {"cw:{acme-001}:m", 8873},
    {"cw:{cw}accounts", 4105},
    {"foo{}{bar}", 8363},
    {"foo{{bar}}zap", 4015},
    {"foo{bar}{zap}", 5061},
    {"{user1000}.following", 3443},
    {"a{b", 13340},
    {"", 0},
};

Test(cluster, key_slots_match_redis)
{
    for (size_t i = 0; i < sizeof SLOTS / sizeof SLOTS[0]; i++)
        cr_expect_eq(cw_key_slot(SLOTS[i].key, strlen(SLOTS[i].key)), SLOTS[i].slot, "%s",
                     SLOTS[i].key);
}

Test(cluster, an_accounts_keys_share_its_slot)
{
    static const char *const sfx[] = {"m", "d", "u", "r", "h", "x", "o"};
    char k[64];
    snprintf(k, sizeof k, "cw:{%s}:%s", "acme-001", sfx[0]);
    int slot = cw_key_slot(k, strlen(k));
    for (size_t i = 1; i < 7; i++) {
        snprintf(k, sizeof k, "cw:{%s}:%s", "acme-001", sfx[i]);
        cr_expect_eq(cw_key_slot(k, strlen(k)), slot);
    }
    cr_expect_eq(slot, cw_crc16("acme-001", 8) % 16384);
}

Test(cluster, redirects)
{
    struct cw_redirect r;
    const char *m = "MOVED 3999 127.0.0.1:6381";
    cr_assert_eq(cw_redirect_parse(m, strlen(m), &r), CW_REDIRECT_MOVED);
    cr_expect_eq(r.slot, 3999);
    cr_expect_str_eq(r.host, "127.0.0.1");
    cr_expect_eq(r.port, 6381);
    m = "ASK 16383 ::1:7000";
    cr_assert_eq(cw_redirect_parse(m, strlen(m), &r), CW_REDIRECT_ASK);
    cr_expect_eq(r.slot, 16383);
    cr_expect_str_eq(r.host, "::1");
    cr_expect_eq(r.port, 7000);
    m = "MOVED 12 :7001"; /* the same host as the connection */
    cr_assert_eq(cw_redirect_parse(m, strlen(m), &r), CW_REDIRECT_MOVED);
    cr_expect_str_eq(r.host, "");
    cr_expect_eq(r.port, 7001);
    static const char *const bad[] = {
        "MOVED",       "MOVED 16384 h:1", "MOVED -1 h:1", "MOVED 1 h",
        "MOVED 1 h:0", "MOVED 1 h:70000", "ASK x h:1",    "ERR wrong",
        "TRYAGAIN x",  "MOVED 1 h:1x",    "MOVED  1 h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cw_redirect_parse(bad[i], strlen(bad[i]), &r), CW_REDIRECT_NONE, "%s", bad[i]);
}

Test(cluster, slot_map)
{
    static struct cw_slot_map m;
    char err[128];
    struct cw_slot_range r[] = {
        {0, 5460, "127.0.0.1", 7000},
        {5461, 10922, "127.0.0.1", 7001},
        {10923, 16383, "127.0.0.1", 7002},
        {100, 100, "127.0.0.1", 7003},
    };
    cr_assert_eq(cw_slot_map_build(&m, r, 3, err, sizeof err), 0, "%s", err);
    cr_expect_eq(m.n_masters, 3);
    cr_expect_eq(m.owner[0], 0);
    cr_expect_eq(m.owner[5461], 1);
    cr_expect_eq(m.owner[16383], 2);
    /* Two ranges of one master (after a reshard) are one master. */
    struct cw_slot_range r2[] = {
        {0, 99, "127.0.0.1", 7000},
        {100, 200, "127.0.0.1", 7001},
        {201, 16383, "127.0.0.1", 7000},
    };
    cr_assert_eq(cw_slot_map_build(&m, r2, 3, err, sizeof err), 0, "%s", err);
    cr_expect_eq(m.n_masters, 2);
    cr_expect_eq(m.owner[150], 1);
    cr_expect_eq(m.owner[300], 0);
    cr_expect_eq(m.masters[1], 1);
    /* Uncovered slots have no owner; overlaps and bad ranges are refused. */
    cr_assert_eq(cw_slot_map_build(&m, r, 1, err, sizeof err), 0);
    cr_expect_eq(m.owner[5461], -1);
    cr_expect_eq(cw_slot_map_build(&m, r, 4, err, sizeof err), -1);
    cr_expect(strstr(err, "slot 100") != NULL, "%s", err);
    struct cw_slot_range bad[] = {
        {5, 4, "h", 1}, {0, 16384, "h", 1}, {0, 1, "", 1}, {0, 1, "h", 0}};
    for (size_t i = 0; i < 4; i++)
        cr_expect_eq(cw_slot_map_build(&m, &bad[i], 1, err, sizeof err), -1);
}

Test(cluster, shares_cover_every_slot_once)
{
    for (int count = 1; count <= 7; count++) {
        int next = 0;
        for (int i = 0; i < count; i++) {
            int first, last;
            cw_slot_share(i, count, &first, &last);
            cr_expect_eq(first, next);
            cr_expect_geq(last, first);
            next = last + 1;
        }
        cr_expect_eq(next, CW_CLUSTER_SLOTS);
    }
}

Test(cluster, key_index)
{
    const char *fcall[] = {"FCALL", "cw_apply", "5", "cw:{a}:m"};
    cr_expect_eq(cw_command_key_index(fcall, 4), 3);
    const char *fcall0[] = {"fcall", "cw_version", "0"};
    cr_expect_eq(cw_command_key_index(fcall0, 3), -1);
    const char *fcall_bad[] = {"FCALL", "f", "x", "k"};
    cr_expect_eq(cw_command_key_index(fcall_bad, 4), -1);
    const char *zadd[] = {"ZADD", "cw:{cw}accounts", "GT", "1", "a"};
    cr_expect_eq(cw_command_key_index(zadd, 5), 1);
    const char *ping[] = {"PING"};
    cr_expect_eq(cw_command_key_index(ping, 1), -1);
    const char *fload[] = {"FUNCTION", "LOAD", "REPLACE", "x"};
    cr_expect_eq(cw_command_key_index(fload, 4), -1);
    cr_expect_eq(cw_command_key_index(NULL, 0), -1);
}
