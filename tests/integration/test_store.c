/* test_store.c - the Redis state store against a private redis-server */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account_mem.h"
#include "churnwatch/window.h"
#include "redis_conn.h"
#include "redis_server.h"
#include "store.h"
#include "store_internal.h"

#define DAY0 20400 /* a local day number */
#define MS0  ((int64_t)DAY0 * CW_MS_PER_DAY)

static struct redis_server rs;
static struct cw_config cfg;
static char err[512];

/* ---- a hand-built configuration --------------------------------------------------- */

static struct cw_window windows[] = {{"short", 7}, {"long", 28}};
static struct cw_metric metrics[] = {
    {"active_users", true, false}, {"logins", false, false},  {"apps", false, false},
    {"records", false, false},     {"seminars", false, true}, {"clicks", false, false},
    {"tickets", false, false},     {"help", false, false},    {"registrations", false, false},
};
enum { T_LOGIN, T_APP, T_RECORD, T_SEMINAR, T_CLICK, T_TICKET, T_HELP, T_REGISTER, T_TRAITS };
static char *login_alias[] = {"Signed In"};
static char *seminar_value[] = {"/minutes"}; /* seminars have values: minutes attended */
static struct cw_event_type types[] = {
    {"login", {login_alias, 1}, 1, false, {NULL, 0}},
    {"app_created", {NULL, 0}, 2, false, {NULL, 0}},
    {"record_written", {NULL, 0}, 3, false, {NULL, 0}},
    {"seminar_attended", {NULL, 0}, 4, false, {seminar_value, 1}},
    {"email_clicked", {NULL, 0}, 5, false, {NULL, 0}},
    {"support_ticket", {NULL, 0}, 6, false, {NULL, 0}},
    {"help_viewed", {NULL, 0}, 7, false, {NULL, 0}},
    {"user_registered", {NULL, 0}, 8, false, {NULL, 0}},
    {"account_updated", {NULL, 0}, -1, true, {NULL, 0}},
};
static struct cw_rule rules[] = {
    {.name = "health_low", .kind = CW_RULE_SCORE_BELOW},
    {.name = "silent", .kind = CW_RULE_INACTIVE},
};

static void config_init(const char *url)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.redis.url = (char *)url;
    cfg.redis.key_prefix = "cw:";
    cfg.timezone = "UTC";
    cfg.lateness_ms = 2 * CW_MS_PER_DAY;
    cfg.windows = windows;
    cfg.n_windows = 2;
    cfg.longest_window_days = 28;
    cfg.metrics = metrics;
    cfg.n_metrics = sizeof metrics / sizeof metrics[0];
    cfg.event_types = types;
    cfg.n_event_types = sizeof types / sizeof types[0];
    cfg.rules = rules;
    cfg.n_rules = 2;
}

/* CW_TEST_REDIS_TLS=1 (CTest's integration.test_store_tls): the store suite talks to the
 * server over TLS (rediss://, verified with a CA made for the run); the helper's own
 * commands keep the plain port. */
static char tls_dir[64];
static char tls_ca[128];

static void setup(void)
{
    const char *tls = getenv("CW_TEST_REDIS_TLS");
    if (tls && strcmp(tls, "1") == 0) {
        cr_assert_eq(redis_server_tls_certs(tls_dir, sizeof tls_dir), 0, "openssl failed");
        snprintf(tls_ca, sizeof tls_ca, "%s/ca.crt", tls_dir);
        rs.tls_dir = tls_dir;
    }
    cr_assert_eq(redis_server_start(&rs, NULL, 1), 0, "redis-server did not start");
    config_init(rs.tls_dir ? rs.tls_url : rs.url);
    if (rs.tls_dir)
        cfg.redis.tls =
            (struct cw_redis_tls_config){.ca_file = tls_ca, .verify = true, .configured = true};
}

static void teardown(void)
{
    redis_server_stop(&rs);
    redis_server_tls_certs_remove(tls_dir);
}

static cw_store *open_store(void)
{
    cw_store *st = cw_store_open(&cfg.redis, err, sizeof err);
    cr_assert_not_null(st, "open: %s", err);
    return st;
}

/* ---- building batches ----------------------------------------------------------------- */

struct batch_buf {
    struct cw_event ev[256];
    struct cw_store_event se[256];
    size_t n;
};

static void add_event(struct batch_buf *b, const char *acct, const char *user, int type,
                      int32_t day, int64_t ms_in_day, const char *topic, int32_t part,
                      int64_t offset)
{
    cr_assert_lt(b->n, 256);
    struct cw_event *ev = &b->ev[b->n];
    memset(ev, 0, sizeof *ev);
    snprintf(ev->account_id, sizeof ev->account_id, "%s", acct);
    snprintf(ev->user_id, sizeof ev->user_id, "%s", user ? user : "");
    snprintf(ev->type, sizeof ev->type, "%s", types[type].name);
    ev->type_index = type;
    ev->metric = types[type].metric;
    ev->ts_ms = (int64_t)day * CW_MS_PER_DAY + ms_in_day;
    struct cw_store_event *se = &b->se[b->n];
    se->day = day;
    se->topic = topic;
    se->partition = part;
    se->offset = offset;
    b->n++;
}

/* What the store takes of a decoded event (tests may change ev after add_event). */
static void store_event_of(struct cw_store_event *se, const struct cw_event *ev)
{
    se->user_id = ev->user_id;
    se->traits = ev->has_traits ? &ev->traits : NULL;
    se->ts_ms = ev->ts_ms;
    se->type_index = ev->type_index;
    se->metric = ev->metric;
    se->has_value = ev->has_value;
    se->value = ev->value;
}

/* A seminar's minutes: quarters of a minute 0..60, so that sums are exact in any order (the
 * paths group the same values differently). Some equal times, so `last` ties happen. */
static void seminar_value_of(struct cw_event *ev, uint64_t r)
{
    if (ev->type_index != T_SEMINAR)
        return;
    ev->has_value = true;
    ev->value = (double)(r % 241) / 4.0;
    if (r % 7 == 0)
        ev->ts_ms -= ev->ts_ms % 3600000; /* on the hour */
}

static struct cw_store_batch batch_of(struct batch_buf *b, const char *acct, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++)
        store_event_of(&b->se[i], &b->ev[i]);
    struct cw_store_batch sb = {.account_id = acct, .events = b->se + first, .n = n};
    return sb;
}

static size_t apply1(cw_store *st, struct batch_buf *b, const char *acct, size_t first, size_t n)
{
    struct cw_store_batch sb = batch_of(b, acct, first, n);
    cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "apply: %s", err);
    return sb.applied;
}

static void load1(cw_store *st, const char *acct, int32_t today, struct cw_account_data *d)
{
    const char *ids[1] = {acct};
    cr_assert_eq(cw_store_load(st, &cfg, ids, 1, today, d, err, sizeof err), 0, "load: %s", err);
}

static uint32_t daily(const struct cw_account_data *d, int metric, int32_t day)
{
    return d->daily[(size_t)metric * d->horizon + (size_t)(d->today - day)];
}

/* ---- tests ------------------------------------------------------------------------------ */

TestSuite(store, .init = setup, .fini = teardown, .timeout = 60);

Test(store, apply_load_round_trip)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    /* day0: 3 logins by 2 users, 1 app; day0+2: 2 records; day0+5: 1 login by u3 */
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 1000, "ev", 0, 10);
    add_event(&b, "acme", "u2", T_LOGIN, DAY0, 2000, "ev", 0, 11);
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 3000, "ev", 0, 12);
    add_event(&b, "acme", "u2", T_APP, DAY0, 4000, "ev", 0, 13);
    add_event(&b, "acme", "u1", T_RECORD, DAY0 + 2, 5000, "ev", 0, 14);
    add_event(&b, "acme", "u1", T_RECORD, DAY0 + 2, 6000, "ev", 0, 15);
    add_event(&b, "acme", "u3", T_LOGIN, DAY0 + 5, 7000, "ev", 0, 16);
    /* a traits event, later in event time than everything else: not activity */
    add_event(&b, "acme", "", T_TRAITS, DAY0 + 6, 100, "ev", 0, 17);
    b.ev[7].has_traits = true;
    b.ev[7].traits.has_seats = true;
    b.ev[7].traits.seats = 50;
    b.ev[7].traits.has_created_at = true;
    b.ev[7].traits.created_at_ms = MS0 - 10 * CW_MS_PER_DAY;
    snprintf(b.ev[7].traits.plan, sizeof b.ev[7].traits.plan, "standard");
    snprintf(b.ev[7].traits.segment, sizeof b.ev[7].traits.segment, "M|x");
    cr_assert_eq(apply1(st, &b, "acme", 0, b.n), 8);

    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    int32_t today = DAY0 + 6;
    load1(st, "acme", today, &d);
    cr_assert(d.exists);
    cr_assert_str_eq(d.account_id, "acme");
    cr_assert_eq(d.first_day, DAY0);
    cr_assert_eq(d.last_seen_ms, (int64_t)(DAY0 + 5) * CW_MS_PER_DAY + 7000);
    cr_assert_eq(d.horizon, 28);
    cr_assert_eq(d.n_metrics, cfg.n_metrics);
    cr_assert_eq(daily(&d, 1, DAY0), 3);
    cr_assert_eq(daily(&d, 2, DAY0), 1);
    cr_assert_eq(daily(&d, 3, DAY0), 0);
    cr_assert_eq(daily(&d, 3, DAY0 + 2), 2);
    cr_assert_eq(daily(&d, 1, DAY0 + 5), 1);
    cr_assert_eq(daily(&d, 1, DAY0 + 6), 0);
    uint64_t logins = 0;
    for (uint32_t i = 0; i < d.horizon; i++)
        logins += d.daily[1 * d.horizon + i];
    cr_assert_eq(logins, 4);
    cr_assert_eq(d.n_users, 3);
    cr_assert_eq(cw_window_distinct(d.user_last_day, d.n_users, today, 7), 3);
    cr_assert_eq(cw_window_distinct(d.user_last_day, d.n_users, today, 2), 1);
    cr_assert_eq(d.type_last_ms[T_LOGIN], (int64_t)(DAY0 + 5) * CW_MS_PER_DAY + 7000);
    cr_assert_eq(d.type_last_ms[T_APP], MS0 + 4000);
    cr_assert_eq(d.type_last_ms[T_SEMINAR], -1);
    cr_assert_eq(d.type_last_ms[T_TRAITS], (int64_t)(DAY0 + 6) * CW_MS_PER_DAY + 100);
    cr_assert(d.traits.has_seats);
    cr_assert_eq(d.traits.seats, 50);
    cr_assert(d.traits.has_created_at);
    cr_assert_eq(d.traits.created_at_ms, MS0 - 10 * CW_MS_PER_DAY);
    cr_assert_not(d.traits.has_renewal_at);
    cr_assert_str_eq(d.traits.plan, "standard");
    cr_assert_str_eq(d.traits.segment, "M|x");
    cr_assert_str_eq(d.traits.owner, "");
    cr_assert_str_eq(d.traits.parent_id, "");
    cr_assert_eq(d.n_rules, 2);
    cr_assert_eq(d.rules[0].status, CW_RULE_OK);
    cr_assert_str_eq(d.rule_raw[0], "");
    cr_assert_not(d.has_last_score);

    /* the view points into d */
    struct cw_account_view v;
    cw_account_data_view(&d, (int64_t)today * CW_MS_PER_DAY, &v);
    cr_assert_eq(v.daily, d.daily);
    cr_assert_eq(v.today, today);
    cr_assert_eq(v.first_day, DAY0);
    cr_assert_eq(v.traits->seats, 50);
    cr_assert_eq(v.n_users, 3);

    /* a partial traits update keeps the other traits; an unknown account does not exist */
    struct batch_buf b2 = {0};
    add_event(&b2, "acme", "", T_TRAITS, DAY0 + 6, 200, "ev", 0, 18);
    b2.ev[0].has_traits = true;
    snprintf(b2.ev[0].traits.owner, sizeof b2.ev[0].traits.owner, "csm@example.com");
    snprintf(b2.ev[0].traits.parent_id, sizeof b2.ev[0].traits.parent_id, "acme-group");
    cr_assert_eq(apply1(st, &b2, "acme", 0, 1), 1);
    const char *ids[2] = {"acme", "nobody"};
    struct cw_account_data two[2];
    memset(two, 0, sizeof two);
    cr_assert_eq(cw_store_load(st, &cfg, ids, 2, today, two, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(two[0].traits.owner, "csm@example.com");
    cr_assert_str_eq(two[0].traits.parent_id, "acme-group");
    cr_assert_str_eq(two[0].traits.plan, "standard");
    cr_assert_eq(two[0].traits.seats, 50);
    cr_assert_not(two[1].exists);
    cr_assert_eq(two[1].first_day, CW_DAY_NONE);
    cr_assert_eq(two[1].last_seen_ms, -1);
    cr_assert_eq(two[1].n_users, 0);
    cw_account_data_free(&two[0]);
    cw_account_data_free(&two[1]);
    cw_account_data_free(&d);
    cw_account_data_free(NULL);
    cw_store_close(st);
    cw_store_close(NULL);
}

static char *dump_prefix(const char *prefix);

/* docs/hierarchies.md "Detaching": a traits event with parent_id null clears the stored
 * parent on every path (one by one, coalesced, owned in memory), when it is not older than
 * the traits applied; the other traits it does not carry stay. */
Test(store, a_detach_clears_the_parent_on_every_path)
{
    static const char *const prefixes[3] = {"one:", "co:", "own:"};
    for (int path = 0; path < 3; path++) {
        cfg.redis.key_prefix = (char *)prefixes[path];
        cw_store *st = open_store();
        if (path == 2)
            cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0, "%s", err);
        struct batch_buf b = {0};
        add_event(&b, "kid", "", T_TRAITS, DAY0, 100, "ev", 0, 1);
        b.ev[0].has_traits = true;
        snprintf(b.ev[0].traits.parent_id, sizeof b.ev[0].traits.parent_id, "group");
        snprintf(b.ev[0].traits.plan, sizeof b.ev[0].traits.plan, "gold");
        add_event(&b, "kid", "", T_TRAITS, DAY0, 200, "ev", 0, 2); /* detach */
        b.ev[1].has_traits = true;
        b.ev[1].traits.parent_detach = true;
        add_event(&b, "kid", "", T_TRAITS, DAY0, 50, "ev", 0, 3); /* older: changes nothing */
        b.ev[2].has_traits = true;
        snprintf(b.ev[2].traits.parent_id, sizeof b.ev[2].traits.parent_id, "stale");
        struct cw_account_data d;
        for (size_t i = 0; i < 3; i++) {
            struct cw_store_batch sb = batch_of(&b, "kid", i, 1);
            memset(&d, 0, sizeof d);
            if (path == 0)
                cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "%s", err);
            else
                cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0,
                             "%s", err);
            cr_assert_eq(sb.applied, 1, "%s event %zu", prefixes[path], i);
            cw_account_data_free(&d);
            memset(&d, 0, sizeof d);
            load1(st, "kid", DAY0, &d);
            cr_assert_str_eq(d.traits.parent_id, i == 0 ? "group" : "", "%s event %zu",
                             prefixes[path], i);
            cr_assert_str_eq(d.traits.plan, "gold");
            cw_account_data_free(&d);
        }
        /* the whole batch at once (coalesced; one by one for path 0) on a fresh account */
        for (size_t i = 0; i < 3; i++)
            snprintf(b.ev[i].account_id, sizeof b.ev[i].account_id, "kid2");
        struct cw_store_batch sb = batch_of(&b, "kid2", 0, 3);
        memset(&d, 0, sizeof d);
        if (path == 0)
            cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "%s", err);
        else
            cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0, "%s",
                         err);
        cw_account_data_free(&d);
        memset(&d, 0, sizeof d);
        load1(st, "kid2", DAY0, &d);
        cr_assert_str_eq(d.traits.parent_id, "", "%s whole batch", prefixes[path]);
        cr_assert_str_eq(d.traits.plan, "gold");
        cw_account_data_free(&d);
        cw_store_close(st);
    }
    char *one = dump_prefix("one:"), *co = dump_prefix("co:"), *own = dump_prefix("own:");
    cr_expect_str_eq(co, one);
    cr_expect_str_eq(own, one);
    free(one);
    free(co);
    free(own);
}

Test(store, replay_counts_once)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    for (int i = 0; i < 20; i++)
        add_event(&b, "acme", "u1", T_LOGIN, DAY0, i, "ev", 3, 100 + i);
    /* offsets 100..109, then the same again, then 105..119 (partial overlap) */
    cr_assert_eq(apply1(st, &b, "acme", 0, 10), 10);
    cr_assert_eq(apply1(st, &b, "acme", 0, 10), 0);
    cr_assert_eq(apply1(st, &b, "acme", 5, 15), 10);
    cr_assert_eq(apply1(st, &b, "acme", 0, 20), 0);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 20);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, partitions_have_their_own_watermarks)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    for (int i = 0; i < 5; i++)
        add_event(&b, "acme", "u1", T_APP, DAY0, i, "ev", 0, i);
    for (int i = 0; i < 5; i++)
        add_event(&b, "acme", "u2", T_APP, DAY0, 10 + i, "ev", 1, i);
    add_event(&b, "acme", "u2", T_APP, DAY0, 20, "other", 0, 2);
    cr_assert_eq(apply1(st, &b, "acme", 0, 11), 11);
    /* partition 1 replayed alone, interleaved with new partition 0 offsets */
    struct batch_buf r = {0};
    add_event(&r, "acme", "u2", T_APP, DAY0, 10, "ev", 1, 3);
    add_event(&r, "acme", "u1", T_APP, DAY0, 30, "ev", 0, 5);
    add_event(&r, "acme", "u2", T_APP, DAY0, 11, "ev", 1, 4);
    add_event(&r, "acme", "u2", T_APP, DAY0, 12, "ev", 1, 5);
    cr_assert_eq(apply1(st, &r, "acme", 0, 4), 2);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(daily(&d, 2, DAY0), 13);
    cr_assert_eq(d.n_users, 2);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, many_accounts_pipelined_and_large_batches)
{
    cw_store *st = open_store();
    /* 1500 accounts in one call (more than one round trip), plus one account with 3000
     * events (several cw_apply calls). */
    static struct cw_event ev[1500 + 3000];
    static struct cw_store_event se[1500 + 3000];
    static struct cw_store_batch sb[1501];
    static char ids[1500][24];
    for (int i = 0; i < 1500; i++) {
        snprintf(ids[i], sizeof ids[i], "acct-%04d", i);
        memset(&ev[i], 0, sizeof ev[i]);
        snprintf(ev[i].user_id, sizeof ev[i].user_id, "u");
        ev[i].type_index = T_LOGIN;
        ev[i].metric = 1;
        ev[i].ts_ms = MS0 + i;
        se[i] =
            (struct cw_store_event){.day = DAY0, .topic = "ev", .partition = i % 4, .offset = i};
        store_event_of(&se[i], &ev[i]);
        sb[i] = (struct cw_store_batch){.account_id = ids[i], .events = &se[i], .n = 1};
    }
    for (int i = 0; i < 3000; i++) {
        struct cw_event *e = &ev[1500 + i];
        memset(e, 0, sizeof *e);
        snprintf(e->user_id, sizeof e->user_id, "user-%d", i % 700);
        e->type_index = T_CLICK;
        e->metric = 5;
        e->ts_ms = MS0 - (i % 20) * CW_MS_PER_DAY;
        se[1500 + i] = (struct cw_store_event){
            .day = DAY0 - i % 20, .topic = "ev", .partition = 7, .offset = 1000 + i};
        store_event_of(&se[1500 + i], e);
    }
    sb[1500] = (struct cw_store_batch){.account_id = "big", .events = &se[1500], .n = 3000};
    cr_assert_eq(cw_store_apply(st, &cfg, sb, 1501, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 1500; i++)
        cr_assert_eq(sb[i].applied, 1);
    cr_assert_eq(sb[1500].applied, 3000);
    cr_assert_eq(redis_server_int(&rs, "ZCARD cw:accounts"), 1501);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "big", DAY0, &d);
    cr_assert_eq(daily(&d, 5, DAY0), 150);
    cr_assert_eq(daily(&d, 5, DAY0 - 19), 150);
    cr_assert_eq(d.n_users, 700);
    load1(st, "acct-0042", DAY0, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 1);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, function_flush_and_empty_restart_are_recovered)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    for (int i = 0; i < 6; i++)
        add_event(&b, "acme", "u1", T_LOGIN, DAY0, i, "ev", 0, i);
    cr_assert_eq(apply1(st, &b, "acme", 0, 2), 2);

    redisReply *r = redis_server_command(&rs, "FUNCTION FLUSH");
    cr_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    cr_assert_eq(apply1(st, &b, "acme", 0, 4), 2, "replays skipped after the reload");

    struct cw_store_result res = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    res.rule_changed[1] = true;
    res.rule_new[1].status = CW_RULE_PENDING;
    res.rule_new[1].since_ms = MS0;
    r = redis_server_command(&rs, "FUNCTION FLUSH");
    freeReplyObject(r);
    cr_assert_eq(cw_store_save(st, &cfg, &res, 1, err, sizeof err), 0, "%s", err);
    cr_assert(res.rule_won[1]);

    /* single calls (cw_silence_set here) reload and retry too */
    r = redis_server_command(&rs, "FUNCTION FLUSH");
    freeReplyObject(r);
    struct cw_silence s = {.account_id = "acme", .until_ms = (int64_t)time(NULL) * 1000 + 60000};
    cr_assert_eq(cw_store_silence_set(st, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:x"), 1);

    /* the server comes back empty: the first call may fail, the next reconnects and
     * reloads the library */
    cr_assert_eq(redis_server_restart(&rs), 0);
    if (cw_store_ping(st, err, sizeof err) != 0)
        cr_log_info("first ping after restart: %s", err);
    cr_assert_eq(cw_store_ping(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(apply1(st, &b, "acme", 0, 6), 6, "an empty server has no watermarks");
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 6);
    cw_account_data_free(&d);

    /* and an apply that is the first call after a restart succeeds on its retry */
    cr_assert_eq(redis_server_restart(&rs), 0);
    struct cw_store_batch sb = batch_of(&b, "acme", 0, 1);
    if (cw_store_apply(st, &cfg, &sb, 1, err, sizeof err) != 0) {
        cr_assert_null(strstr(err, "Function not found"), "%s", err);
        cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "%s", err);
    }
    cr_assert_eq(sb.applied, 1);
    cw_store_close(st);
}

Test(store, rule_state_compare_and_set)
{
    cw_store *a = open_store();
    cw_store *b = open_store();
    struct cw_account_data da, db;
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    load1(a, "acme", DAY0, &da);
    load1(b, "acme", DAY0, &db);

    /* both instances saw ok -> firing: exactly one wins */
    struct cw_rule_state firing = {.status = CW_RULE_FIRING,
                                   .since_ms = MS0 + 5,
                                   .last_sent_ms = MS0 + 6,
                                   .published = true,
                                   .alert_id = "00112233445566778899aabbccddeeff"};
    struct cw_store_result ra = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    ra.rule_changed[0] = true;
    ra.rule_new[0] = firing;
    ra.rule_expected_raw[0] = da.rule_raw[0];
    struct cw_store_result rb = ra;
    rb.rule_expected_raw[0] = db.rule_raw[0];
    rb.rule_new[0].since_ms = MS0 + 7;
    cr_assert_eq(cw_store_save(a, &cfg, &ra, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_save(b, &cfg, &rb, 1, err, sizeof err), 0, "%s", err);
    cr_assert(ra.rule_won[0]);
    cr_assert_not(rb.rule_won[0]);
    cr_assert_not(ra.rule_won[1]);

    /* the stored state is the winner's */
    load1(b, "acme", DAY0, &db);
    cr_assert_eq(db.rules[0].status, CW_RULE_FIRING);
    cr_assert_eq(db.rules[0].since_ms, MS0 + 5);
    cr_assert(db.rules[0].published);
    cr_assert_str_eq(db.rules[0].alert_id, firing.alert_id);
    char enc[160];
    cw_rule_state_encode(&firing, enc, sizeof enc);
    cr_assert_str_eq(db.rule_raw[0], enc);

    /* firing -> ok from the fresh load wins and deletes the field; the stale one loses */
    struct cw_store_result rc = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    rc.rule_changed[0] = true;
    rc.rule_expected_raw[0] = db.rule_raw[0];
    cr_assert_eq(cw_store_save(b, &cfg, &rc, 1, err, sizeof err), 0, "%s", err);
    cr_assert(rc.rule_won[0]);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r health_low"), 0);
    cr_assert_eq(cw_store_save(a, &cfg, &rc, 1, err, sizeof err), 0, "%s", err);
    cr_assert_not(rc.rule_won[0], "a stale expected state must lose");
    cw_account_data_free(&da);
    cw_account_data_free(&db);
    cw_store_close(a);
    cw_store_close(b);
}

/* Rule 0 of acme fires (episode k, at MS0 + k hours) and resolves an hour later (at
 * MS0 + k hours + 1h), each step a compare-and-set from a fresh load of st; the resolution
 * keeps its episode. The resolution's result (won or not). */
static bool fire_and_resolve(cw_store *st, int k)
{
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    struct cw_store_result r = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    r.rule_changed[0] = true;
    r.rule_expected_raw[0] = d.rule_raw[0];
    r.rule_new[0] = (struct cw_rule_state){
        .status = CW_RULE_FIRING, .since_ms = MS0 + k * 3600000LL, .published = true};
    snprintf(r.rule_new[0].alert_id, sizeof r.rule_new[0].alert_id,
             "00112233445566778899aabbccddee%02d", k);
    cr_assert_eq(cw_store_save(st, &cfg, &r, 1, err, sizeof err), 0, "%s", err);
    cr_assert(r.rule_won[0]);
    load1(st, "acme", DAY0, &d);
    struct cw_store_result z = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    z.rule_changed[0] = true;
    z.rule_expected_raw[0] = d.rule_raw[0];
    z.rule_resolves[0] = true;
    z.rule_episode[0] = (struct cw_episode){.started_ms = r.rule_new[0].since_ms,
                                            .resolved_ms = r.rule_new[0].since_ms + 3600000,
                                            .severity = CW_SEV_WARNING};
    memcpy(z.rule_episode[0].alert_id, r.rule_new[0].alert_id, sizeof z.rule_episode[0].alert_id);
    snprintf(z.rule_episode[0].rule, sizeof z.rule_episode[0].rule, "%s", cfg.rules[0].name);
    cr_assert_eq(cw_store_save(st, &cfg, &z, 1, err, sizeof err), 0, "%s", err);
    cw_account_data_free(&d);
    return z.rule_won[0];
}

/* The resolving compare-and-set keeps the episode in :r (":ep:<alert_id>"), five at most:
 * a sixth drops the oldest; the loaders return them newest first; a stale resolution that
 * loses writes no episode; a field of that prefix that does not parse is read past; the
 * earlier calling convention (6 arguments) still works. */
Test(store, recent_episodes_kept_by_the_resolving_compare_and_set_five_at_most)
{
    cw_store *st = open_store();
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(d.n_episodes, 0, "a store without episodes has none");
    for (int k = 0; k < 5; k++)
        cr_assert(fire_and_resolve(st, k));
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:r"), 5, "five episodes, no rule state");
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r :ep:00112233445566778899aabbccddee00"),
                 1);
    redisReply *v =
        redis_server_command(&rs, "HGET cw:{acme}:r :ep:00112233445566778899aabbccddee02");
    cr_assert(v && v->type == REDIS_REPLY_STRING);
    char want[80];
    snprintf(want, sizeof want, "%lld|%lld|w|%s", (long long)(MS0 + 7200000),
             (long long)(MS0 + 10800000), cfg.rules[0].name);
    cr_assert_str_eq(v->str, want, "the stored form docs/state.md gives");
    freeReplyObject(v);

    cr_assert(fire_and_resolve(st, 5));
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:r"), 5, "still five");
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r :ep:00112233445566778899aabbccddee00"),
                 0, "the sixth resolution dropped the oldest");
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r :ep:00112233445566778899aabbccddee05"),
                 1);
    cr_assert_gt(redis_server_int(&rs, "PTTL cw:{acme}:r"), 0, ":r keeps :m's lifetime");

    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:r :ep:damaged 1|2"), 1);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(d.n_episodes, 5);
    for (int k = 0; k < 5; k++) {
        char id[CW_ALERT_ID_LEN + 1];
        snprintf(id, sizeof id, "00112233445566778899aabbccddee%02d", 5 - k);
        cr_expect_str_eq(d.episodes[k].alert_id, id, "episodes[%d], newest first", k);
        cr_expect_str_eq(d.episodes[k].rule, cfg.rules[0].name);
        cr_expect_eq(d.episodes[k].resolved_ms - d.episodes[k].started_ms, 3600000);
        cr_expect_eq(d.episodes[k].severity, CW_SEV_WARNING);
    }
    cr_assert_eq(d.rules[0].status, CW_RULE_OK, "the rule state is read beside them");

    /* A resolution from a stale state loses and keeps nothing. */
    struct cw_store_result s = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    s.rule_changed[0] = true;
    s.rule_expected_raw[0] = "F|1|0|0|1|00112233445566778899aabbccddee99";
    s.rule_resolves[0] = true;
    s.rule_episode[0] = (struct cw_episode){
        .alert_id = "00112233445566778899aabbccddee99", .started_ms = MS0, .resolved_ms = MS0 + 1};
    snprintf(s.rule_episode[0].rule, sizeof s.rule_episode[0].rule, "%s", cfg.rules[0].name);
    cr_assert_eq(cw_store_save(st, &cfg, &s, 1, err, sizeof err), 0, "%s", err);
    cr_assert_not(s.rule_won[0]);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r :ep:00112233445566778899aabbccddee99"),
                 0);

    /* A daemon of an earlier version calls cw_rule_cas with its 6 arguments: it still
     * resolves, and the kept episodes stay as they were. */
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:r health_low F|1|0|0|1|%s",
                                  "00112233445566778899aabbccddee98"),
                 1);
    cr_assert_eq(redis_server_int(&rs,
                                  "FCALL cw_rule_cas 3 cw:{acme}:m cw:{acme}:r cw:{acme}:o "
                                  "health_low F|1|0|0|1|%s %s 100 %s %s",
                                  "00112233445566778899aabbccddee98", "", "", ""),
                 1);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r health_low"), 0);
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:r"), 6, "the 5 episodes and :ep:damaged");
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* cw_store_load_rules (the console's rules page) reads the traits and rule states as the
 * full load does, and nothing else: into a struct a full load of another account filled,
 * it leaves no day, user nor history point of that account behind. */
Test(store, load_rules_reads_traits_and_rule_states_only)
{
    cw_store *st = open_store();
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:m tr:segment smb tr:owner ann"), 2);
    cr_assert_eq(redis_server_int(
                     &rs, "HSET cw:{acme}:r health_low F|%lld|0|%lld|1|%s :ep:%s 1|2|c|health_low",
                     (long long)MS0, (long long)MS0, "00112233445566778899aabbccddeeff",
                     "ffeeddccbbaa99887766554433221100"),
                 2);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:h %d 55", DAY0), 1);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{other}:m tr:segment mid"), 1);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{other}:h %d 70", DAY0), 1);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{other}:u u-1 %d", DAY0), 1);
    struct cw_account_data full = {0}, light = {0};
    load1(st, "acme", DAY0, &full);
    load1(st, "other", DAY0, &light);
    cr_assert_eq(light.n_history, 1);
    cr_assert_eq(light.n_users, 1);
    const char *ids[2] = {"acme", "nobody"};
    struct cw_account_data two[2];
    memset(two, 0, sizeof two);
    two[0] = light; /* reused, as the console reuses its accounts */
    cr_assert_eq(cw_store_load_rules(st, &cfg, ids, 2, DAY0, two, err, sizeof err), 0, "%s", err);
    cr_assert(two[0].exists);
    cr_assert_str_eq(two[0].account_id, "acme");
    cr_assert_str_eq(two[0].traits.segment, "smb");
    cr_assert_str_eq(two[0].traits.owner, "ann");
    cr_assert_eq(two[0].n_rules, full.n_rules);
    cr_assert_eq(memcmp(two[0].rules, full.rules, sizeof full.rules), 0);
    cr_assert_eq(two[0].rules[0].status, CW_RULE_FIRING);
    cr_assert_str_eq(two[0].rule_raw[0], full.rule_raw[0]);
    cr_assert_eq(two[0].n_episodes, 1, "the recent episodes are read with the rule states");
    cr_assert_str_eq(two[0].episodes[0].alert_id, "ffeeddccbbaa99887766554433221100");
    cr_assert_eq(two[0].episodes[0].severity, CW_SEV_CRITICAL);
    cr_assert_eq(full.n_episodes, 1);
    cr_assert_eq(two[0].n_history, 0, "the history is not read");
    cr_assert_eq(two[0].n_users, 0, "the users are not read");
    cr_assert_not(two[1].exists);
    cw_account_data_free(&full);
    cw_account_data_free(&two[0]);
    cw_account_data_free(&two[1]);
    cw_store_close(st);
}

/* docs/hierarchies.md "Parent rules": a saved child enters its parent's index; the loader
 * reads the index back in id order with each child's saved score and seats, and leaves out a
 * child that moved to another parent since. */
Test(store, children_indexed_by_save_and_read_with_their_scores_and_seats)
{
    cw_store *st = open_store();
    static const char *const kids[] = {"kid-b", "kid-a", "kid-c"};
    static const double scores[] = {70, 30, -1}; /* kid-c: no score */
    struct cw_store_result res[3];
    for (size_t i = 0; i < 3; i++) {
        res[i] = (struct cw_store_result){.account_id = kids[i],
                                          .parent_id = "group",
                                          .today = DAY0,
                                          .has_score = scores[i] >= 0,
                                          .score = scores[i] >= 0 ? scores[i] : 0};
        redisReply *r = redis_server_command(&rs, "HSET cw:{%s}:m tr:parent_id group tr:seats %d",
                                             kids[i], (int)(10 * (i + 1)));
        freeReplyObject(r);
    }
    struct cw_store_result solo = {
        .account_id = "solo", .today = DAY0, .has_score = true, .score = 5};
    cr_assert_eq(cw_store_save(st, &cfg, res, 3, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_save(st, &cfg, &solo, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "SCARD cw:{group}:c"), 3);
    cr_assert_gt(redis_server_int(&rs, "TTL cw:{group}:c"), 300 * 86400, "the long lifetime");

    struct cw_account_data d[2];
    memset(d, 0, sizeof d);
    snprintf(d[0].account_id, sizeof d[0].account_id, "group");
    snprintf(d[1].account_id, sizeof d[1].account_id, "solo");
    cr_assert_eq(cw_store_load_children(st, d, 2, err, sizeof err), 0, "%s", err);
    cr_assert(d[0].children_loaded && d[1].children_loaded);
    cr_assert_eq(d[1].children.n, 0, "solo has no children");
    const struct cw_children *c = &d[0].children;
    cr_assert_eq(c->n, 3);
    cr_assert_str_eq(c->ids[0], "kid-a");
    cr_assert_str_eq(c->ids[1], "kid-b");
    cr_assert_str_eq(c->ids[2], "kid-c");
    cr_assert(c->child[0].has_score && c->child[0].score == 30);
    cr_assert(c->child[0].has_seats && c->child[0].seats == 20);
    cr_assert(c->child[1].has_score && c->child[1].score == 70);
    cr_assert(c->child[1].has_seats && c->child[1].seats == 10);
    cr_assert(!c->child[2].has_score, "kid-c was saved without a score");
    cr_assert_eq(c->left_out, 0);

    /* kid-b moves to another parent: left out, though still in group's index */
    redisReply *r = redis_server_command(&rs, "HSET cw:{kid-b}:m tr:parent_id other");
    freeReplyObject(r);
    cr_assert_eq(cw_store_load_children(st, d, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c->n, 2);
    cr_assert_str_eq(c->ids[0], "kid-a");
    cr_assert_str_eq(c->ids[1], "kid-c");
    cr_assert_eq(redis_server_int(&rs, "SCARD cw:{group}:c"), 3);

    cw_account_data_children_clear(&d[0]);
    cr_assert(!d[0].children_loaded && d[0].children.n == 0);
    cw_account_data_free(&d[0]);
    cw_account_data_free(&d[1]);
    cw_store_close(st);
}

Test(store, outbox_enqueued_only_by_the_winner_and_acknowledged)
{
    cw_store *a = open_store();
    cw_store *b = open_store();
    struct cw_account_data da, db;
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    load1(a, "acme", DAY0, &da);
    load1(b, "acme", DAY0, &db);
    cr_assert_eq(da.n_outbox, 0);

    struct cw_rule_state firing = {.status = CW_RULE_FIRING,
                                   .since_ms = MS0,
                                   .last_sent_ms = MS0,
                                   .published = true,
                                   .alert_id = "00112233445566778899aabbccddeeff"};
    struct cw_store_result ra = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    ra.rule_changed[0] = true;
    ra.rule_new[0] = firing;
    ra.rule_expected_raw[0] = da.rule_raw[0];
    ra.rule_alert_key[0] = "00112233445566778899aabbccddeeff:health_low:F";
    ra.rule_alert_json[0] = "{\"status\":\"firing\",\"from\":\"a\"}";
    struct cw_store_result rb = ra;
    rb.rule_expected_raw[0] = db.rule_raw[0];
    rb.rule_alert_json[0] = "{\"status\":\"firing\",\"from\":\"b\"}";
    cr_assert_eq(cw_store_save(a, &cfg, &ra, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_save(b, &cfg, &rb, 1, err, sizeof err), 0, "%s", err);
    cr_assert(ra.rule_won[0]);
    cr_assert_not(rb.rule_won[0]);

    /* only the winner's alert waits in the outbox, atomically with its state */
    load1(b, "acme", DAY0, &db);
    cr_assert_eq(db.n_outbox, 1);
    cr_assert_str_eq(db.outbox[0].key, "00112233445566778899aabbccddeeff:health_low:F");
    cr_assert_str_eq(db.outbox[0].json, ra.rule_alert_json[0]);
    cr_assert_eq(db.outbox[0].len, strlen(ra.rule_alert_json[0]));
    cr_assert_eq(db.outbox[0].rule, 0, "the rule comes from the key (the JSON names none)");
    cr_assert_eq(db.outbox[0].emit, CW_EMIT_FIRING);

    /* a reload keeps it until acknowledged; then it is gone */
    load1(b, "acme", DAY0, &db);
    cr_assert_eq(db.n_outbox, 1);
    struct cw_outbox_ack ack = {.account_id = "acme", .key = db.outbox[0].key};
    cr_assert_eq(cw_store_outbox_ack(b, &ack, 1, err, sizeof err), 0, "%s", err);
    load1(b, "acme", DAY0, &db);
    cr_assert_eq(db.n_outbox, 0);
    cr_assert_eq(redis_server_int(&rs, "EXISTS cw:{acme}:o"), 0);
    cw_account_data_free(&da);
    cw_account_data_free(&db);
    cw_store_close(a);
    cw_store_close(b);
}

/* Entries written before the rule was in the key ("<alert_id>:<status>", the rule only in
 * the JSON) are still loaded with their rule and status, and acknowledged by their key;
 * one call acknowledges entries of several accounts, both formats. */
Test(store, outbox_reads_the_previous_format_and_acknowledges_in_one_call)
{
    cw_store *st = open_store();
    redisReply *r = redis_server_command(
        &rs, "HSET cw:{acme}:o %s %s %s %s", "00112233445566778899aabbccddeeff:M1764806400123",
        "{\"alert_id\":\"00112233445566778899aabbccddeeff\",\"rule\":\"silent\"}",
        "ffeeddccbbaa99887766554433221100:health_low:R", "{\"status\":\"resolved\"}");
    cr_assert_not_null(r);
    freeReplyObject(r);
    r = redis_server_command(&rs, "HSET cw:{globex}:o %s %s %s %s",
                             "0123456789abcdef0123456789abcdef:R", "{\"rule\":\"health_low\"}",
                             "not-a-key", "{\"rule\":\"silent\"}");
    cr_assert_not_null(r);
    freeReplyObject(r);

    struct cw_account_data d[2];
    memset(d, 0, sizeof d);
    const char *ids[2] = {"acme", "globex"};
    cr_assert_eq(cw_store_load(st, &cfg, ids, 2, DAY0, d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d[0].n_outbox, 2);
    cr_assert_eq(d[1].n_outbox, 2);
    struct cw_outbox_ack acks[4];
    size_t n = 0;
    for (size_t a = 0; a < 2; a++)
        for (size_t k = 0; k < d[a].n_outbox; k++) {
            const struct cw_outbox_entry *o = &d[a].outbox[k];
            if (strcmp(o->key, "00112233445566778899aabbccddeeff:M1764806400123") == 0) {
                cr_expect_eq(o->rule, 1, "an old entry's rule comes from its JSON");
                cr_expect_eq(o->emit, CW_EMIT_REMINDER);
            } else if (strcmp(o->key, "ffeeddccbbaa99887766554433221100:health_low:R") == 0) {
                cr_expect_eq(o->rule, 0);
                cr_expect_eq(o->emit, CW_EMIT_RESOLVED);
            } else if (strcmp(o->key, "0123456789abcdef0123456789abcdef:R") == 0) {
                cr_expect_eq(o->rule, 0);
                cr_expect_eq(o->emit, CW_EMIT_RESOLVED);
            } else {
                cr_expect_str_eq(o->key, "not-a-key");
                cr_expect_eq(o->rule, -1, "a key of neither format is published, not counted");
                cr_expect_eq(o->emit, CW_EMIT_NONE);
                cr_expect_str_eq(o->json, "{\"rule\":\"silent\"}");
            }
            acks[n++] = (struct cw_outbox_ack){.account_id = ids[a], .key = o->key};
        }
    /* acknowledging all but one leaves that one */
    cr_assert_eq(cw_store_outbox_ack(st, acks, 3, err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:o"), 0);
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{globex}:o"), 1);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{globex}:o %s", acks[3].key), 1);
    /* again, with the last: deleting what is gone is harmless */
    cr_assert_eq(cw_store_outbox_ack(st, acks, 4, err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "EXISTS cw:{globex}:o"), 0);
    cr_assert_eq(cw_store_outbox_ack(st, acks, 0, err, sizeof err), 0, "%s", err);
    cw_account_data_free(&d[0]);
    cw_account_data_free(&d[1]);
    cw_store_close(st);
}

Test(store, rule_cas_stale_expected_loses)
{
    cw_store *st = open_store();
    struct cw_store_result r = {.account_id = "acme", .today = DAY0, .n_rules = 2};
    r.rule_changed[1] = true;
    r.rule_new[1].status = CW_RULE_PENDING;
    r.rule_new[1].since_ms = 42;
    r.rule_expected_raw[1] = "F|1|0|0|1|ab";
    cr_assert_eq(cw_store_save(st, &cfg, &r, 1, err, sizeof err), 0, "%s", err);
    cr_assert_not(r.rule_won[1]);
    r.rule_expected_raw[1] = NULL; /* absent */
    cr_assert_eq(cw_store_save(st, &cfg, &r, 1, err, sizeof err), 0, "%s", err);
    cr_assert(r.rule_won[1]);
    cr_assert_not(r.rule_won[0]);
    cw_store_close(st);
}

/* ---- the score feed (docs/state.md "Score feed") ----------------------------------- */

/* The feed's state and message of a score published at ms, into st (its stored form) and
 * key (its entry field); the message is `from` and the id. */
struct feed_msg {
    struct cw_feed_last last;
    char *state;
    char key[CW_FEED_ENTRY_MAX];
    char json[128];
};

static void feed_msg(struct feed_msg *m, const char *acct, double score, int64_t ms,
                     const char *from)
{
    memset(m, 0, sizeof *m);
    m->last.has = true;
    m->last.score = score;
    snprintf(m->last.grade, sizeof m->last.grade, "%s", score >= 60 ? "B" : "C");
    m->last.observed_ms = ms;
    cw_score_id(acct, ms, score, m->last.score_id);
    m->last.n_contrib = 1;
    m->last.contrib[0] = (struct cw_feed_contrib){"logins", score};
    m->state = cw_feed_last_encode(&m->last, NULL);
    cr_assert_not_null(m->state);
    cr_assert_gt(cw_feed_entry_field(ms, m->last.score_id, m->key, sizeof m->key), 0);
    snprintf(m->json, sizeof m->json, "{\"score_id\":\"%s\",\"from\":\"%s\"}", m->last.score_id,
             from);
}

static void feed_result(struct cw_store_result *r, const char *acct, const struct feed_msg *m,
                        const char *expected)
{
    memset(r, 0, sizeof *r);
    r->account_id = acct;
    r->has_score = true;
    r->score = m->last.score;
    r->grade = m->last.grade;
    r->today = DAY0;
    r->n_rules = 2;
    r->feed_expected_raw = expected;
    r->feed_state = m->state;
    r->feed_key = m->key;
    r->feed_json = m->json;
}

/* The feed's message enters the outbox and its state moves with the score, in one step,
 * for the instance whose loaded state is still the stored one; entries come back in the
 * order they were decided, beside the rule states, and go when acknowledged. */
Test(store, score_feed_saved_with_the_score_compare_and_set)
{
    cfg.scores.topic = "churnwatch-scores";
    cfg.scores.step = 5;
    cw_store *a = open_store();
    cw_store *b = open_store();
    struct cw_account_data da, db;
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:r health_low F|1|0|1|1|%s",
                                  "00112233445566778899aabbccddeeff"),
                 1);
    load1(a, "acme", DAY0, &da);
    load1(b, "acme", DAY0, &db);
    cr_assert_not(da.feed.has);
    cr_assert_str_eq(da.feed_raw ? da.feed_raw : "", "");
    cr_assert_eq(da.n_feed_outbox, 0);

    /* both saw the first score: exactly one message is saved, both scores are */
    struct feed_msg ma, mb;
    feed_msg(&ma, "acme", 52.5, MS0 + 1000, "a");
    feed_msg(&mb, "acme", 53.5, MS0 + 2000, "b");
    struct cw_store_result ra, rb;
    feed_result(&ra, "acme", &ma, da.feed_raw ? da.feed_raw : "");
    feed_result(&rb, "acme", &mb, db.feed_raw ? db.feed_raw : "");
    cr_assert_eq(cw_store_save(a, &cfg, &ra, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_save(b, &cfg, &rb, 1, err, sizeof err), 0, "%s", err);
    cr_assert(ra.feed_won);
    cr_assert_not(rb.feed_won, "a stale feed state must lose");
    redisReply *h = redis_server_command(&rs, "HGET cw:{acme}:h %d", DAY0);
    cr_assert(h && h->type == REDIS_REPLY_STRING);
    cr_expect_str_eq(h->str, "53.5", "the loser's score is saved all the same");
    freeReplyObject(h);
    cr_expect_gt(redis_server_int(&rs, "PTTL cw:{acme}:r"), 0, ":r has a lifetime");

    load1(b, "acme", DAY0, &db);
    cr_assert(db.feed.has);
    cr_expect_eq(db.feed.score, 52.5);
    cr_expect_str_eq(db.feed.score_id, ma.last.score_id);
    cr_expect_str_eq(db.feed_raw, ma.state);
    cr_assert_eq(db.n_feed_outbox, 1);
    cr_expect_str_eq(db.feed_outbox[0].key, ma.key);
    cr_expect_str_eq(db.feed_outbox[0].json, ma.json);
    cr_expect_eq(db.n_outbox, 0, "not an alert");
    cr_expect_eq(db.rules[0].status, CW_RULE_FIRING, "the rule state beside it is read as before");

    /* the next one, from the fresh load, wins; both wait until acknowledged, oldest first */
    struct feed_msg mc;
    feed_msg(&mc, "acme", 40.0, MS0 + 3000, "b");
    struct cw_store_result rc;
    feed_result(&rc, "acme", &mc, db.feed_raw);
    cr_assert_eq(cw_store_save(b, &cfg, &rc, 1, err, sizeof err), 0, "%s", err);
    cr_assert(rc.feed_won);
    load1(a, "acme", DAY0, &da);
    cr_expect_str_eq(da.feed_raw, mc.state);
    cr_assert_eq(da.n_feed_outbox, 2);
    cr_expect_str_eq(da.feed_outbox[0].key, ma.key);
    cr_expect_str_eq(da.feed_outbox[1].key, mc.key);

    /* entries written in another order come back in the order of their instants */
    struct feed_msg m0;
    feed_msg(&m0, "acme", 10.0, MS0 + 500, "early");
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:r %s %s", m0.key, m0.json), 1);
    cr_assert_eq(redis_server_int(&rs, "HSET cw:{acme}:r :feed:12:notanid x"), 1);
    load1(a, "acme", DAY0, &da);
    cr_assert_eq(da.n_feed_outbox, 3, "a field that is no entry is left alone");
    cr_expect_str_eq(da.feed_outbox[0].key, m0.key);
    cr_expect_str_eq(da.feed_outbox[1].key, ma.key);
    cr_expect_str_eq(da.feed_outbox[2].key, mc.key);

    /* the feed off: its fields are not read */
    cfg.scores.topic = NULL;
    load1(b, "acme", DAY0, &db);
    cr_expect_not(db.feed.has);
    cr_expect_eq(db.n_feed_outbox, 0);
    cfg.scores.topic = "churnwatch-scores";

    /* acknowledged: the entries go, the state and the rule state stay */
    struct cw_outbox_ack acks[3];
    for (size_t i = 0; i < 3; i++)
        acks[i] = (struct cw_outbox_ack){
            .account_id = "acme", .key = da.feed_outbox[i].key, .score_feed = true};
    cr_assert_eq(cw_store_outbox_ack(a, acks, 3, err, sizeof err), 0, "%s", err);
    load1(a, "acme", DAY0, &da);
    cr_expect_eq(da.n_feed_outbox, 0);
    cr_expect_str_eq(da.feed_raw, mc.state);
    cr_expect_eq(redis_server_int(&rs, "HLEN cw:{acme}:r"), 3, "health_low, :feed, the non-entry");
    cr_expect_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:r health_low"), 1);
    free(ma.state);
    free(mb.state);
    free(mc.state);
    free(m0.state);
    cw_account_data_free(&da);
    cw_account_data_free(&db);
    cw_store_close(a);
    cw_store_close(b);
}

Test(store, scores_history_and_lowest)
{
    cw_store *st = open_store();
    const char *names[5] = {"a", "b", "c", "d", "e"};
    double values[5] = {55.5, 12.25, 90, 40, 12.5};
    struct cw_store_result res[5];
    memset(res, 0, sizeof res);
    for (int i = 0; i < 5; i++) {
        res[i].account_id = names[i];
        res[i].has_score = true;
        res[i].score = values[i];
        res[i].today = DAY0;
    }
    cr_assert_eq(cw_store_save(st, &cfg, res, 5, err, sizeof err), 0, "%s", err);
    char ids[3][CW_ID_MAX + 1];
    double scores[3];
    int n = cw_store_lowest_scores(st, 3, ids, scores, err, sizeof err);
    cr_assert_eq(n, 3, "%s", err);
    cr_assert_str_eq(ids[0], "b");
    cr_assert_float_eq(scores[0], 12.25, 1e-9);
    cr_assert_str_eq(ids[1], "e");
    cr_assert_str_eq(ids[2], "d");
    cr_assert_float_eq(scores[2], 40, 1e-9);
    /* a page from rank 3 on: the rest, in order */
    n = cw_store_scores_range(st, 3, 3, ids, scores, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_assert_str_eq(ids[0], "a");
    cr_assert_str_eq(ids[1], "c");
    cr_assert_eq(cw_store_scores_range(st, 5, 3, ids, scores, err, sizeof err), 0);
    /* counts by score band: [40, 60) holds d and a; [0, 40) b and e; 80 up c */
    long long cnt = -1;
    cr_assert_eq(cw_store_count_scores(st, 40, 60, &cnt, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cnt, 2);
    cr_assert_eq(cw_store_count_scores(st, 0, 40, &cnt, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cnt, 2);
    cr_assert_eq(cw_store_count_scores(st, 80, HUGE_VAL, &cnt, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cnt, 1);

    /* no score: the account leaves the index */
    res[1].has_score = false;
    cr_assert_eq(cw_store_save(st, &cfg, &res[1], 1, err, sizeof err), 0, "%s", err);
    n = cw_store_lowest_scores(st, 3, ids, scores, err, sizeof err);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(ids[0], "e");

    /* history: one point per day, the last save of a day wins, trimmed at
     * longest window + 35 days */
    for (int day = 0; day < 80; day++) {
        struct cw_store_result h = {.account_id = "a", .has_score = true, .today = DAY0 + day};
        h.score = day;
        cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
        h.score = day + 0.5;
        cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
    }
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "a", DAY0 + 79, &d);
    cr_assert_eq(d.n_history, 28 + 35);
    cr_assert_eq(d.history[0].day, DAY0 + 79 - 28 - 35 + 1);
    for (size_t i = 1; i < d.n_history; i++)
        cr_assert_eq(d.history[i].day, d.history[i - 1].day + 1);
    cr_assert(d.has_last_score);
    cr_assert_float_eq(d.last_score, 79.5, 1e-9);
    cr_assert_gt(redis_server_int(&rs, "PTTL cw:{a}:h"), 0, "history must not live forever");
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* A seminar of minutes at ms_in_day of day into b. */
static void add_seminar(struct batch_buf *b, const char *acct, int32_t day, int64_t ms_in_day,
                        double minutes, int64_t offset)
{
    add_event(b, acct, "u1", T_SEMINAR, day, ms_in_day, "ev", 0, offset);
    b->ev[b->n - 1].has_value = true;
    b->ev[b->n - 1].value = minutes;
}

static char *hget(const char *key, const char *field)
{
    static char out[256];
    redisReply *r = redis_server_command(&rs, "HGET %s %s", key, field);
    snprintf(out, sizeof out, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
    freeReplyObject(r);
    return out;
}

Test(store, values_stored_per_day_the_same_by_every_path)
{
    /* the same events through the one-by-one apply, the coalesced apply and a store owning
     * the accounts in memory (each with its own prefix) */
    const char *prefixes[3] = {"one:", "co:", "own:"};
    char want_dump[3][4096];
    for (int path = 0; path < 3; path++) {
        cfg.redis.key_prefix = (char *)prefixes[path];
        cw_store *st = open_store();
        if (path == 2)
            cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0);
        struct batch_buf b = {0};
        /* DAY0: 30 at 10:00, 45.5 at 09:00 (older, arriving later), 10 at 10:00 (a tie: the
         * larger stays last); DAY0 + 1: 5; then a replay of the first two */
        add_seminar(&b, "acme", DAY0, 36000000, 30, 1);
        add_seminar(&b, "acme", DAY0, 32400000, 45.5, 2);
        add_seminar(&b, "acme", DAY0, 36000000, 10, 3);
        add_seminar(&b, "acme", DAY0 + 1, 0, 5, 4);
        add_event(&b, "acme", "u2", T_LOGIN, DAY0 + 1, 0, "ev", 0, 5);
        struct cw_account_data d;
        memset(&d, 0, sizeof d);
        for (int round = 0; round < 2; round++) { /* the second round is all replays */
            struct cw_store_batch sb = batch_of(&b, "acme", 0, 2);
            struct cw_store_batch sb2 = batch_of(&b, "acme", 2, 3);
            if (path == 0) {
                cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "%s", err);
                cr_assert_eq(cw_store_apply(st, &cfg, &sb2, 1, err, sizeof err), 0, "%s", err);
            } else {
                cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0 + 1, &d, err, sizeof err),
                             0, "%s", err);
                cr_assert_eq(cw_store_apply_load(st, &cfg, &sb2, 1, DAY0 + 1, &d, err, sizeof err),
                             0, "%s", err);
            }
            cr_assert_eq(sb.applied + sb2.applied, round == 0 ? 5 : 0, "path %d round %d", path,
                         round);
        }
        char key[64], f0[32], f1[32];
        snprintf(key, sizeof key, "%s{acme}:d", prefixes[path]);
        char mkey[32];
        snprintf(mkey, sizeof mkey, "%smetrics", prefixes[path]);
        int slot = atoi(hget(mkey, "seminars"));
        snprintf(f0, sizeof f0, "%d:%d", DAY0, slot);
        snprintf(f1, sizeof f1, "%d:%d", DAY0 + 1, slot);
        /* n promoters detractors sum min max last_ms last */
        snprintf(want_dump[path], sizeof want_dump[path], "%s|", hget(key, f0));
        snprintf(want_dump[path] + strlen(want_dump[path]),
                 sizeof want_dump[path] - strlen(want_dump[path]), "%s", hget(key, f1));
        char want0[128];
        snprintf(want0, sizeof want0, "3 3 0 85.5 10 45.5 %lld 30", (long long)(MS0 + 36000000));
        cr_expect_str_eq(hget(key, f0), want0, "path %d: %s", path, hget(key, f0));
        char want1[128];
        snprintf(want1, sizeof want1, "1 0 1 5 5 5 %lld 5", (long long)(MS0 + CW_MS_PER_DAY));
        cr_expect_str_eq(hget(key, f1), want1, "path %d: %s", path, hget(key, f1));

        /* loaded back into the rows, by metric */
        load1(st, "acme", DAY0 + 1, &d);
        cr_assert_not_null(d.values);
        const struct cw_value_day *v0 = &d.values[4 * d.horizon + 1];
        const struct cw_value_day *v1 = &d.values[4 * d.horizon + 0];
        cr_expect_eq(v0->n, 3);
        cr_expect_eq(v0->sum, 85.5);
        cr_expect_eq(v0->last, 30);
        cr_expect_eq(v1->n, 1);
        /* logins have no values: the only value fields (day:slot) are the seminars' two */
        redisReply *fields = redis_server_command(&rs, "HKEYS %s", key);
        cr_assert(fields && fields->type == REDIS_REPLY_ARRAY);
        size_t value_fields = 0;
        for (size_t k = 0; k < fields->elements; k++)
            value_fields += strchr(fields->element[k]->str, ':') != NULL;
        freeReplyObject(fields);
        cr_expect_eq(value_fields, 2, "path %d: %zu value fields", path, value_fields);
        cr_expect_eq(daily(&d, 4, DAY0), 3, "values are counted too");
        double got;
        cr_expect(cw_value_window(d.values + 4 * d.horizon, d.horizon, 7, CW_AGG_AVG, &got));
        cr_expect_eq(got, 90.5 / 4);

        /* 40 days on the old days' values are pruned with their counters */
        struct batch_buf late = {0};
        add_event(&late, "acme", "u1", T_LOGIN, DAY0 + 40, 0, "ev", 0, 6);
        struct cw_store_batch sl = batch_of(&late, "acme", 0, 1);
        sl.clock_day = DAY0 + 40;
        if (path == 0)
            cr_assert_eq(cw_store_apply(st, &cfg, &sl, 1, err, sizeof err), 0, "%s", err);
        else
            cr_assert_eq(cw_store_apply_load(st, &cfg, &sl, 1, DAY0 + 40, &d, err, sizeof err), 0,
                         "%s", err);
        cr_expect_str_eq(hget(key, f0), "(nil)", "path %d", path);
        cr_expect_str_eq(hget(key, f1), "(nil)", "path %d", path);
        cw_account_data_free(&d);
        cw_store_close(st);
    }
    cr_expect_str_eq(want_dump[1], want_dump[0]);
    cr_expect_str_eq(want_dump[2], want_dump[0]);
}

Test(store, horizon_prunes_old_days_and_users)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "old", T_LOGIN, DAY0, 0, "ev", 0, 1);
    add_event(&b, "acme", "new", T_LOGIN, DAY0 + 40, 0, "ev", 0, 2);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:d %d", DAY0), 1);
    cr_assert_eq(apply1(st, &b, "acme", 1, 1), 1);
    /* horizon = 28 + 2 (lateness) + 2 */
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:d %d", DAY0), 0);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:u old"), 0);
    cr_assert_eq(redis_server_int(&rs, "HLEN cw:{acme}:u"), 1);
    long long ttl_d = redis_server_int(&rs, "TTL cw:{acme}:d");
    long long ttl_m = redis_server_int(&rs, "TTL cw:{acme}:m");
    cr_assert(ttl_d > 30 * 86400 && ttl_d <= 33 * 86400, "ttl :d %lld", ttl_d);
    cr_assert(ttl_m > 399 * 86400 && ttl_m <= 400 * 86400, "ttl :m %lld", ttl_m);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0 + 40, &d);
    cr_assert_eq(d.first_day, DAY0);
    cr_assert_eq(daily(&d, 1, DAY0 + 40), 1);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, horizon_never_reaches_past_the_clock_day)
{
    /* A backfill applies an account's later events before the clock reaches them: the
     * days the clock still judges must survive. */
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "old", T_LOGIN, DAY0, 0, "ev", 0, 1);
    add_event(&b, "acme", "new", T_LOGIN, DAY0 + 40, 0, "ev", 0, 2);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    struct cw_store_batch sb = batch_of(&b, "acme", 1, 1);
    sb.clock_day = DAY0 + 10;
    cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), 0, "apply: %s", err);
    cr_assert_eq(sb.applied, 1);
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:d %d", DAY0), 1, "pruned past the clock");
    cr_assert_eq(redis_server_int(&rs, "HEXISTS cw:{acme}:u old"), 1);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0 + 10, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 1);
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* A test hook: the silence arg set through a connection of its own. */
static void silence_set_between(void *arg)
{
    cw_store *other = open_store();
    cr_assert_eq(cw_store_silence_set(other, arg, err, sizeof err), 0, "%s", err);
    cw_store_close(other);
}

/*
 * A store owning its accounts in memory reads the silences (`:x`) only of the batches not
 * marked unsilenced (cw_store_mark_unsilenced: the silences index does not list their
 * account): a silence set through cw_store_silence_set is seen by the next call, a `:x`
 * the index does not list is not read, and no interleaving of an account's removal from
 * the index with a new silence leaves it out.
 */
Test(store, held_accounts_read_the_silences_the_index_lists)
{
    cfg.redis.key_prefix = "own:";
    cw_store *st = open_store();
    cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0, "%s", err);
    int64_t now = (int64_t)time(NULL) * 1000;
    static struct batch_buf b;
    memset(&b, 0, sizeof b);
    const char *ids[2] = {"acme", "beta"};
    static struct cw_account_data d[2];
    memset(d, 0, sizeof d);
    for (int round = 0; round < 3; round++) {
        size_t first = b.n;
        for (int a = 0; a < 2; a++)
            add_event(&b, ids[a], "u1", T_LOGIN, DAY0, 1000 * round, "ev", 0, 1 + 2 * round + a);
        struct cw_store_batch sb[2] = {batch_of(&b, ids[0], first, 1),
                                       batch_of(&b, ids[1], first + 1, 1)};
        cr_assert_eq(cw_store_mark_unsilenced(st, sb, 2, err, sizeof err), 0, "%s", err);
        cr_assert_eq(sb[0].unsilenced, round != 1, "round %d: acme listed", round);
        cr_assert(sb[1].unsilenced, "round %d: beta never listed", round);
        cr_assert_eq(cw_store_apply_load(st, &cfg, sb, 2, DAY0, d, err, sizeof err), 0, "%s", err);
        if (round == 0) {
            cr_assert_eq(d[0].n_silences + d[1].n_silences, 0);
            struct cw_silence s = {.account_id = "acme", .rule = "", .created_ms = now};
            s.until_ms = now + 3600 * 1000;
            cr_assert_eq(cw_store_silence_set(st, &s, err, sizeof err), 0, "%s", err);
            struct cw_silence t = {.account_id = "beta", .rule = "", .created_ms = now};
            t.until_ms = now + 3600 * 1000;
            cr_assert_eq(cw_store_silence_set(st, &t, err, sizeof err), 0, "%s", err);
            /* beta's silence stays, the index forgets it: as no churnwatch writer leaves it */
            cr_assert_eq(redis_server_int(&rs, "SREM own:silences beta"), 1);
        } else if (round == 1) {
            cr_assert_eq(d[0].n_silences, 1, "acme: a listed account's silence is read");
            cr_assert(cw_account_data_silenced(&d[0], "health_low", now));
            cr_assert_eq(d[1].n_silences, 0, "beta: an unlisted :x is not read");
            cr_assert_eq(cw_store_silence_delete(st, "acme", NULL, err, sizeof err), 0, "%s", err);
            cr_assert_eq(redis_server_int(&rs, "SISMEMBER own:silences acme"), 0);
        } else {
            cr_assert_eq(d[0].n_silences, 0, "acme: silence deleted");
        }
    }

    /* Removal from the index when the last silence goes: a silence set between the check
     * that found none and the removal (the hook, as another CLI would) keeps it listed. */
    struct cw_silence s = {.account_id = "acme", .rule = "silent", .created_ms = now};
    s.until_ms = now + 3600 * 1000;
    cr_assert_eq(cw_store_silence_set(st, &s, err, sizeof err), 0, "%s", err);
    st->txn_hook = silence_set_between;
    st->txn_hook_arg = &s;
    cr_assert_eq(cw_store_silence_delete(st, "acme", "silent", err, sizeof err), 0, "%s", err);
    st->txn_hook = NULL;
    cr_assert_eq(redis_server_int(&rs, "HLEN own:{acme}:x"), 1, "the silence set meanwhile");
    cr_assert_eq(redis_server_int(&rs, "SISMEMBER own:silences acme"), 1, "listed again");
    cr_assert_eq(cw_store_silence_delete(st, "acme", "silent", err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "SISMEMBER own:silences acme"), 0, "none left: dropped");
    for (int a = 0; a < 2; a++)
        cw_account_data_free(&d[a]);
    cw_store_close(st);
}

Test(store, silences)
{
    cw_store *st = open_store();
    /* silence keys expire after until - created, in Redis' time: use the wall clock */
    int64_t now = (int64_t)time(NULL) * 1000;
    struct cw_silence s = {.account_id = "acme", .rule = "", .created_ms = now};
    s.until_ms = now + 3600 * 1000;
    snprintf(s.reason, sizeof s.reason, "CSM on the phone | call 2");
    cr_assert_eq(cw_store_silence_set(st, &s, err, sizeof err), 0, "%s", err);
    struct cw_silence one = {.account_id = "beta", .rule = "health_low", .created_ms = now};
    one.until_ms = now + 60 * 1000;
    cr_assert_eq(cw_store_silence_set(st, &one, err, sizeof err), 0, "%s", err);

    struct cw_silence *list = NULL;
    size_t n = 0;
    cr_assert_eq(cw_store_silence_list(st, now, &list, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 2);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].account_id, "acme") == 0) {
            cr_assert_str_eq(list[i].rule, "");
            cr_assert_str_eq(list[i].reason, "CSM on the phone | call 2");
            cr_assert_eq(list[i].until_ms, s.until_ms);
            cr_assert_eq(list[i].created_ms, now);
            found |= 1;
        } else {
            cr_assert_str_eq(list[i].account_id, "beta");
            cr_assert_str_eq(list[i].rule, "health_low");
            found |= 2;
        }
    }
    cr_assert_eq(found, 3);
    free(list);

    /* at a later instant the one-minute silence has expired */
    cr_assert_eq(cw_store_silence_list(st, now + 120 * 1000, &list, &n, err, sizeof err), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(list[0].account_id, "acme");
    free(list);

    /* loaded with the account, by rule */
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "beta", DAY0, &d);
    cr_assert_eq(d.n_silences, 1);
    cr_assert(cw_account_data_silenced(&d, "health_low", now));
    cr_assert_not(cw_account_data_silenced(&d, "silent", now));
    cr_assert_not(cw_account_data_silenced(&d, "health_low", now + 61 * 1000));
    load1(st, "acme", DAY0, &d);
    cr_assert(cw_account_data_silenced(&d, "silent", now));
    cr_assert(cw_account_data_silenced(&d, "health_low", now));

    /* the key expires with its last silence (in real time) */
    cr_assert_gt(redis_server_int(&rs, "PTTL cw:{beta}:x"), 0);
    struct cw_silence past = {.account_id = "gone", .rule = "silent", .created_ms = now};
    past.until_ms = now - 1000;
    cr_assert_eq(cw_store_silence_set(st, &past, err, sizeof err), 0, "%s", err);
    cr_assert_eq(redis_server_int(&rs, "EXISTS cw:{gone}:x"), 0);
    /* the lifetime counts from the setter's clock, not Redis': a silence set by a clock a
     * year behind the server's lives its hour all the same */
    int64_t behind = now - 365LL * 24 * 3600 * 1000;
    struct cw_silence skewed = {.account_id = "skew", .rule = "", .created_ms = behind};
    skewed.until_ms = behind + 3600 * 1000;
    cr_assert_eq(cw_store_silence_set(st, &skewed, err, sizeof err), 0, "%s", err);
    long long pttl = redis_server_int(&rs, "PTTL cw:{skew}:x");
    cr_assert(pttl > 3500 * 1000 && pttl <= 3600 * 1000, "PTTL %lld", pttl);
    cr_assert_eq(cw_store_silence_delete(st, "skew", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_silence_list(st, now, &list, &n, err, sizeof err), 0);
    cr_assert_eq(n, 2);
    free(list);
    cr_assert_eq(redis_server_int(&rs, "SISMEMBER cw:silences gone"), 0, "expired ids leave");

    /* delete one rule, then all */
    cr_assert_eq(cw_store_silence_delete(st, "beta", "health_low", err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_silence_delete(st, "acme", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_silence_list(st, now, &list, &n, err, sizeof err), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(list);
    cr_assert_eq(redis_server_int(&rs, "SCARD cw:silences"), 0);
    load1(st, "acme", DAY0, &d);
    cr_assert_not(cw_account_data_silenced(&d, "silent", now));
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* Page through the accounts index with pages of `page`; each id must come exactly once. */
static void scan_all(cw_store *st, size_t total, size_t page)
{
    char(*ids)[CW_ID_MAX + 1] = calloc(page, sizeof *ids);
    unsigned char *seen = calloc(total, 1);
    cr_assert(ids && seen);
    uint64_t cursor = 0;
    size_t count = 0, calls = 0;
    do {
        int n = cw_store_scan_accounts(st, &cursor, ids, page, err, sizeof err);
        cr_assert_geq(n, 0, "%s", err);
        cr_assert_leq((size_t)n, page);
        for (int i = 0; i < n; i++) {
            unsigned k;
            cr_assert_eq(sscanf(ids[i], "acct-%u", &k), 1);
            cr_assert_lt(k, total);
            cr_assert_eq(seen[k], 0, "%s returned twice", ids[i]);
            seen[k] = 1;
            count++;
        }
        cr_assert_lt(++calls, total + 10);
    } while (cursor != 0);
    cr_assert_eq(count, total);
    free(ids);
    free(seen);
}

static void add_accounts(size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(redis_server_int(&rs, "ZADD cw:accounts %d acct-%d", DAY0, (int)i), 1);
}

Test(store, scan_pages_through_1000_accounts)
{
    cw_store *st = open_store();
    add_accounts(1000);
    scan_all(st, 1000, 64);
    scan_all(st, 1000, 1000);
    cw_store_close(st);
}

Test(store, scan_small_index_in_small_pages)
{
    /* a small sorted set is answered whole by ZSCAN: pages are cut by the store */
    cw_store *st = open_store();
    add_accounts(10);
    scan_all(st, 10, 3);
    uint64_t cursor = 12345;
    char ids[1][CW_ID_MAX + 1];
    cr_assert_eq(cw_store_scan_accounts(st, &cursor, ids, 1, err, sizeof err), -1);
    cw_store_close(st);
    st = open_store();
    cursor = 0;
    cr_assert_eq(redis_server_int(&rs, "DEL cw:accounts"), 1);
    cr_assert_eq(cw_store_scan_accounts(st, &cursor, ids, 1, err, sizeof err), 0);
    cr_assert_eq(cursor, 0);
    cw_store_close(st);
}

Test(store, rescore_request_and_take)
{
    cw_store *st = open_store();
    cr_assert_eq(cw_store_rescore_take(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_rescore_request(st, 1234, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_rescore_take(st, err, sizeof err), 1, "%s", err);
    cr_assert_eq(cw_store_rescore_take(st, err, sizeof err), 0, "%s", err);
    /* every instance of a group sees the request once */
    cw_store *other = open_store();
    cr_assert_eq(cw_store_rescore_take(other, err, sizeof err), 1, "%s", err);
    cr_assert_eq(cw_store_rescore_take(other, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_rescore_request(other, 1234, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_rescore_take(st, err, sizeof err), 1, "%s", err);
    cr_assert_eq(cw_store_rescore_take(other, err, sizeof err), 1, "%s", err);
    cr_assert(redis_server_int(&rs, "PTTL cw:rescore") > 0);
    cw_store_close(other);
    cw_store_close(st);
}

/* Polling for a rescore request is the daemon's heartbeat, which expires by itself. */
Test(store, rescore_poll_is_the_heartbeat)
{
    cw_store *st = open_store();
    redis_server_int(&rs, "DEL cw:alive");
    cr_assert_eq(cw_store_daemon_alive(st, err, sizeof err), 0, "%s", err);
    cr_assert_geq(cw_store_rescore_take(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_daemon_alive(st, err, sizeof err), 1, "%s", err);
    long long ttl = redis_server_int(&rs, "PTTL cw:alive");
    cr_assert(ttl > 0 && ttl <= CW_STORE_ALIVE_TTL_MS, "PTTL %lld", ttl);
    cr_assert_eq(redis_server_int(&rs, "DEL cw:alive"), 1);
    cr_assert_eq(cw_store_daemon_alive(st, err, sizeof err), 0, "%s", err);
    cw_store_close(st);
}

/* `churnwatch top`'s summary: accounts known and accounts scored. */
Test(store, count_accounts_and_scores)
{
    cw_store *st = open_store();
    redis_server_int(&rs, "DEL cw:accounts cw:scores");
    long long accounts = -1, scored = -1;
    cr_assert_eq(cw_store_count_accounts(st, &accounts, &scored, err, sizeof err), 0, "%s", err);
    cr_assert_eq(accounts, 0);
    cr_assert_eq(scored, 0);
    cr_assert_eq(redis_server_int(&rs, "ZADD cw:accounts 1 a 1 b 1 c"), 3);
    cr_assert_eq(redis_server_int(&rs, "ZADD cw:scores 50 a 20 b"), 2);
    cr_assert_eq(cw_store_count_accounts(st, &accounts, &scored, err, sizeof err), 0, "%s", err);
    cr_assert_eq(accounts, 3);
    cr_assert_eq(scored, 2);
    cw_store_close(st);
}

Test(store, event_time_floors_only_rise)
{
    cw_store *st = open_store();
    struct cw_store_floor f[3] = {{"usage", 0, -1}, {"usage", 1, -1}, {"other.topic", 0, -1}};
    cr_assert_eq(cw_store_floors_load(st, f, 3, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(f[i].ms, -1, "nothing stored yet");
    cr_assert_eq(cw_store_floors_save(st, f, 3, err, sizeof err), 0, "unknown floors: no write");
    cr_assert_eq(redis_server_int(&rs, "EXISTS cw:floors"), 0);

    /* epoch milliseconds survive the sorted set's double scores exactly */
    struct cw_store_floor w[2] = {{"usage", 0, 1796296983123LL}, {"other.topic", 0, 5}};
    cr_assert_eq(cw_store_floors_save(st, w, 2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_floors_load(st, f, 3, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f[0].ms, 1796296983123LL);
    cr_assert_eq(f[1].ms, -1);
    cr_assert_eq(f[2].ms, 5);

    /* a lower floor (a member that lost the partition and has not noticed) changes nothing;
     * a higher one raises it */
    w[0].ms = 1796296983000LL;
    w[1].ms = 9;
    cr_assert_eq(cw_store_floors_save(st, w, 2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cw_store_floors_load(st, f, 3, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f[0].ms, 1796296983123LL);
    cr_assert_eq(f[2].ms, 9);

    /* a floors key of another type is an error, not a made-up floor */
    freeReplyObject(redis_server_command(&rs, "DEL cw:floors"));
    freeReplyObject(redis_server_command(&rs, "SET cw:floors x"));
    cr_assert_eq(cw_store_floors_load(st, f, 1, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "WRONGTYPE"), "%s", err);
    cw_store_close(st);
}

Test(store, wrong_types_are_errors_not_crashes)
{
    cw_store *st = open_store();
    redisReply *r = redis_server_command(&rs, "SET cw:{bad}:d x");
    freeReplyObject(r);
    r = redis_server_command(&rs, "SET cw:scores x");
    freeReplyObject(r);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    const char *ids[1] = {"bad"};
    cr_assert_eq(cw_store_load(st, &cfg, ids, 1, DAY0, &d, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "HGETALL cw:{bad}:d"), "%s", err);
    cr_assert_not_null(strstr(err, "WRONGTYPE"), "%s", err);
    struct batch_buf b = {0};
    add_event(&b, "bad", "u", T_LOGIN, DAY0, 0, "ev", 0, 1);
    struct cw_store_batch sb = batch_of(&b, "bad", 0, 1);
    cr_assert_eq(cw_store_apply(st, &cfg, &sb, 1, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "FCALL cw_apply cw:{bad}:m"), "%s", err);
    char top[2][CW_ID_MAX + 1];
    double sc[2];
    cr_assert_eq(cw_store_lowest_scores(st, 2, top, sc, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "cw:scores"), "%s", err);
    /* the connection is still usable */
    cr_assert_eq(cw_store_ping(st, err, sizeof err), 0, "%s", err);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, password_never_in_errors)
{
    struct cw_redis_config rc = {.url = "redis://u:s3cretpw@127.0.0.1:1/0", .key_prefix = "cw:"};
    err[0] = '\0';
    cw_store *st = cw_store_open(&rc, err, sizeof err);
    cr_assert_null(st);
    cr_assert_neq(err[0], '\0');
    cr_assert_null(strstr(err, "s3cretpw"), "%s", err);
    cr_assert_not_null(strstr(err, "127.0.0.1:1"), "%s", err);
    /* a wrong password against a live server */
    char url[200];
    snprintf(url, sizeof url, "redis://u:s3cretpw@127.0.0.1:%d/0", rs.port);
    rc.url = url;
    cr_assert_null(cw_store_open(&rc, err, sizeof err));
    cr_assert_null(strstr(err, "s3cretpw"), "%s", err);
    cr_assert_not_null(strstr(err, "AUTH"), "%s", err);
    rc.url = "redis://u:s3cret%2@127.0.0.1:1/0";
    cr_assert_null(cw_store_open(&rc, err, sizeof err));
    cr_assert_null(strstr(err, "s3cret"), "%s", err);
}

Test(store, unix_socket_and_db)
{
    char url[200];
    snprintf(url, sizeof url, "unix://%s?db=3", rs.sock);
    cfg.redis.url = url;
    struct cw_redis_tls_config tls = cfg.redis.tls; /* over TLS: the second store's */
    cfg.redis.tls = (struct cw_redis_tls_config){0};
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 0, "ev", 0, 1);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    redisReply *r = redis_server_command(&rs, "EXISTS cw:{acme}:m");
    cr_assert_eq(r->integer, 0, "db 0 must be untouched");
    freeReplyObject(r);
    cw_store_close(st);
    if (rs.tls_dir)
        snprintf(url, sizeof url, "rediss://127.0.0.1:%d/3", rs.tls_port);
    else
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", rs.port);
    cfg.redis.tls = tls;
    st = open_store();
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert(d.exists);
    cw_account_data_free(&d);
    cw_store_close(st);
}

Test(store, key_prefix_is_used)
{
    cfg.redis.key_prefix = "t1:";
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 0, "ev", 0, 1);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    cr_assert_eq(redis_server_int(&rs, "EXISTS t1:{acme}:m t1:{acme}:d t1:{acme}:u"), 3);
    cr_assert_eq(redis_server_int(&rs, "EXISTS cw:{acme}:m"), 0);
    cr_assert_eq(redis_server_int(&rs, "ZCARD t1:accounts"), 1);
    cr_assert_eq(redis_server_int(&rs, "HLEN t1:metrics"), 9, "8 slots + the counter field");
    cw_store_close(st);
}

Test(store, metric_slots_survive_config_changes)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "u1", T_HELP, DAY0, 0, "ev", 0, 1);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    cw_store_close(st);
    /* a new config with the metrics in another order and one more metric */
    struct cw_metric m2[] = {{"active_users", true, false},
                             {"help", false, false},
                             {"new_one", false, false},
                             {"logins", false, false}};
    struct cw_event_type t2[] = {{"help_viewed", {NULL, 0}, 1, false, {NULL, 0}},
                                 {"x", {NULL, 0}, 2, false, {NULL, 0}},
                                 {"login", {NULL, 0}, 3, false, {NULL, 0}}};
    cfg.metrics = m2;
    cfg.n_metrics = 4;
    cfg.event_types = t2;
    cfg.n_event_types = 3;
    st = open_store();
    struct batch_buf c = {0};
    add_event(&c, "acme", "u1", 1, DAY0, 1, "ev", 0, 2);
    c.ev[0].type_index = 1;
    c.ev[0].metric = 2;
    cr_assert_eq(apply1(st, &c, "acme", 0, 1), 1);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 1, "help keeps its slot");
    cr_assert_eq(daily(&d, 2, DAY0), 1);
    cr_assert_eq(daily(&d, 3, DAY0), 0);
    cr_assert_eq(d.type_last_ms[0], MS0);
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* ---- measurements (docs/state.md) ---------------------------------------------------------- */

static long long memory_usage(const char *key)
{
    redisReply *r = redis_server_command(&rs, "MEMORY USAGE %s SAMPLES 0", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Sum of the field counts of "cmdstat_*:calls=N" in INFO commandstats; *fcalls gets FCALL's. */
static long long command_calls(long long *fcalls)
{
    redisReply *r = redis_server_command(&rs, "INFO commandstats");
    cr_assert(r && r->type == REDIS_REPLY_STRING);
    long long total = 0;
    *fcalls = 0;
    for (const char *p = r->str; (p = strstr(p, "cmdstat_")) != NULL; p++) {
        char name[64];
        long long calls;
        if (sscanf(p, "cmdstat_%63[^:]:calls=%lld", name, &calls) != 2)
            continue;
        if (strcmp(name, "fcall") == 0)
            *fcalls = calls;
        if (strcmp(name, "info") != 0 && strcmp(name, "config|resetstat") != 0)
            total += calls;
    }
    freeReplyObject(r);
    return total;
}

Test(store, measure_memory_and_commands)
{
    cw_store *st = open_store();
    /* one account: 28 days x 8 metrics, 50 users, 28 history points, 2 rule states */
    static struct batch_buf b;
    memset(&b, 0, sizeof b);
    for (int day = 0; day < 28; day++)
        for (int m = 0; m < 8; m++) {
            char user[16];
            snprintf(user, sizeof user, "user-%02d", (day * 8 + m) % 50);
            add_event(&b, "acme-corporation", user, m, DAY0 - 27 + day, m, "usage-events", 0,
                      day * 8 + m);
        }
    cr_assert_eq(apply1(st, &b, "acme-corporation", 0, b.n), 224);
    for (int day = 0; day < 28; day++) {
        struct cw_store_result h = {.account_id = "acme-corporation",
                                    .has_score = true,
                                    .score = 61.234567 + day,
                                    .today = DAY0 - 27 + day,
                                    .n_rules = 2};
        if (day == 27) {
            h.rule_changed[0] = h.rule_changed[1] = true;
            h.rule_new[0] = (struct cw_rule_state){.status = CW_RULE_FIRING,
                                                   .since_ms = MS0,
                                                   .last_sent_ms = MS0,
                                                   .published = true,
                                                   .alert_id = "0123456789abcdef0123456789abcdef"};
            h.rule_new[1] = (struct cw_rule_state){.status = CW_RULE_PENDING, .since_ms = MS0};
        }
        cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
    }
    const char *suffix[] = {"m", "d", "u", "r", "h"};
    long long total = 0, core = 0;
    char line[256] = "";
    for (size_t i = 0; i < 5; i++) {
        char key[64];
        snprintf(key, sizeof key, "cw:{acme-corporation}:%s", suffix[i]);
        long long bytes = memory_usage(key);
        cr_assert_gt(bytes, 0, "%s", key);
        total += bytes;
        if (i < 3)
            core += bytes;
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, " %s=%lld", suffix[i], bytes);
    }
    redisReply *enc = redis_server_command(&rs, "OBJECT ENCODING cw:{acme-corporation}:d");
    cr_assert(enc && enc->type == REDIS_REPLY_STRING);
    cr_assert_str_eq(enc->str, "listpack");
    freeReplyObject(enc);
    fprintf(stderr,
            "store memory per account (MEMORY USAGE, bytes):%s core(m+d+u)=%lld total=%lld\n", line,
            core, total);
    cr_assert_lt(total, 8192, "an account should stay compact (listpack hashes)");

    /* Redis commands per account apply: 100 accounts x 10 events in one call */
    static struct batch_buf many[100];
    static char ids[100][24];
    struct cw_store_batch sb[100];
    for (int a = 0; a < 100; a++) {
        snprintf(ids[a], sizeof ids[a], "acct-%02d", a);
        memset(&many[a], 0, sizeof many[a]);
        for (int e = 0; e < 10; e++)
            add_event(&many[a], ids[a], e % 2 ? "u1" : "u2", e % 3, DAY0, e, "usage-events", a % 8,
                      1000 + e);
        sb[a] = batch_of(&many[a], ids[a], 0, 10);
    }
    redisReply *r = redis_server_command(&rs, "CONFIG RESETSTAT");
    freeReplyObject(r);
    cr_assert_eq(cw_store_apply(st, &cfg, sb, 100, err, sizeof err), 0, "%s", err);
    long long fcalls, calls = command_calls(&fcalls);
    cr_assert_eq(fcalls, 100, "one FCALL per account");
    fprintf(stderr,
            "store apply: %lld FCALL + %lld commands in all (inside functions included) for "
            "100 accounts x 10 events: %.1f per account\n",
            fcalls, calls, (double)calls / 100);

    /* The coalesced apply of the full account above, 5 new events at a time, with its
     * state loaded back: what the server spends per account and batch (printed only). */
    static struct batch_buf more;
    memset(&more, 0, sizeof more);
    static struct cw_account_data loaded;
    memset(&loaded, 0, sizeof loaded);
    for (int k = 0; k < 250; k++) {
        char user[16];
        snprintf(user, sizeof user, "user-%02d", k % 50);
        add_event(&more, "acme-corporation", user, k % 8, DAY0, k, "usage-events", 0, 10000 + k);
    }
    r = redis_server_command(&rs, "CONFIG RESETSTAT");
    freeReplyObject(r);
    for (int k = 0; k < 50; k++) {
        struct cw_store_batch one = batch_of(&more, "acme-corporation", (size_t)k * 5, 5);
        cr_assert_eq(cw_store_apply_load(st, &cfg, &one, 1, DAY0, &loaded, err, sizeof err), 0,
                     "%s", err);
        cr_assert(one.coalesced && one.applied == 5);
    }
    cr_assert_eq(loaded.n_users, 50);
    r = redis_server_command(&rs, "INFO commandstats");
    const char *fc = strstr(r->str, "cmdstat_fcall:");
    double usec = fc ? atof(strstr(fc, "usec_per_call=") + 14) : -1;
    fprintf(stderr,
            "store apply_load: %.1f us of server time per account and batch (full account, "
            "5 events, state returned)\n",
            usec);
    freeReplyObject(r);
    cw_account_data_free(&loaded);
    cw_store_close(st);
}

static int strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- coalesced apply (cw_store_apply_load) ----------------------------------------- */

/* A seeded stream for the coalesced-apply tests: accounts, users, three partitions, days
 * on both sides of the horizon, traits events among the others. */
#define DS_EVENTS   3000
#define DS_ACCOUNTS 25
static struct cw_event ds_ev[DS_EVENTS];
static struct cw_store_event ds_se[DS_EVENTS];
static char ds_acct[DS_ACCOUNTS][16];

static uint64_t ds_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void ds_generate(uint64_t seed)
{
    uint64_t x = seed;
    int64_t offset[3] = {0, 0, 0};
    for (int a = 0; a < DS_ACCOUNTS; a++)
        snprintf(ds_acct[a], sizeof ds_acct[a], "ds-%02d", a);
    for (int i = 0; i < DS_EVENTS; i++) {
        struct cw_event *ev = &ds_ev[i];
        memset(ev, 0, sizeof *ev);
        int a = (int)(ds_rand(&x) % DS_ACCOUNTS);
        snprintf(ev->account_id, sizeof ev->account_id, "%s", ds_acct[a]);
        int t = (int)(ds_rand(&x) % 10);
        if (t > T_TRAITS)
            t = T_LOGIN;
        ev->type_index = t;
        ev->metric = types[t].metric;
        if (ds_rand(&x) % 5 != 0)
            snprintf(ev->user_id, sizeof ev->user_id, "user-%d", (int)(ds_rand(&x) % 40));
        int32_t day = DAY0 - (int32_t)(ds_rand(&x) % 40);
        ev->ts_ms = (int64_t)day * CW_MS_PER_DAY + (int64_t)(ds_rand(&x) % CW_MS_PER_DAY);
        if (t == T_TRAITS || ds_rand(&x) % 50 == 0) {
            ev->has_traits = true;
            if (ds_rand(&x) % 2) {
                ev->traits.has_seats = true;
                ev->traits.seats = (int64_t)(ds_rand(&x) % 200);
            }
            if (ds_rand(&x) % 3 == 0)
                snprintf(ev->traits.plan, sizeof ev->traits.plan, "plan-%d",
                         (int)(ds_rand(&x) % 3));
            if (ds_rand(&x) % 3 == 0)
                snprintf(ev->traits.segment, sizeof ev->traits.segment, "%c",
                         "SML"[ds_rand(&x) % 3]);
        }
        seminar_value_of(ev, ds_rand(&x));
        int p = (int)(ds_rand(&x) % 3);
        ds_se[i] = (struct cw_store_event){
            .day = day, .topic = "ev", .partition = p, .offset = offset[p]++};
        store_event_of(&ds_se[i], ev);
    }
}

/* The events [first, end) grouped by account in order: sb[0..return), events in ev. */
static size_t ds_group(size_t first, size_t end, struct cw_store_event *ev,
                       struct cw_store_batch *sb)
{
    size_t n = 0, at = 0;
    for (int a = 0; a < DS_ACCOUNTS; a++) {
        size_t start = at;
        for (size_t i = first; i < end; i++)
            if (strcmp(ds_ev[i].account_id, ds_acct[a]) == 0)
                ev[at++] = ds_se[i];
        if (at > start)
            sb[n++] = (struct cw_store_batch){
                .account_id = ds_acct[a], .events = ev + start, .n = at - start, .clock_day = DAY0};
    }
    return n;
}

/* Every key of prefix as "key-without-prefix field value" lines, sorted. */
static char *dump_prefix(const char *prefix)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    char **lines = NULL;
    size_t n = 0, capl = 0;
    redisReply *keys = redis_server_command(&rs, "KEYS %s*", prefix);
    cr_assert(keys && keys->type == REDIS_REPLY_ARRAY);
    for (size_t k = 0; k < keys->elements; k++) {
        const char *key = keys->element[k]->str;
        if (strchr(key, '{'))
            cr_assert_gt(redis_server_int(&rs, "PTTL %s", key), 0, "%s has no lifetime", key);
        redisReply *t = redis_server_command(&rs, "TYPE %s", key);
        bool hash = strcmp(t->str, "hash") == 0;
        freeReplyObject(t);
        redisReply *v = hash ? redis_server_command(&rs, "HGETALL %s", key)
                             : redis_server_command(&rs, "ZRANGE %s 0 -1 WITHSCORES", key);
        for (size_t f = 0; f + 1 < v->elements; f += 2) {
            size_t kl = strlen(key);
            if (kl > 2 && strcmp(key + kl - 2, ":m") == 0 && strcmp(v->element[f]->str, "v") == 0)
                continue; /* the version: how many writes, not what they wrote */
            if (n == capl) {
                capl = capl ? 2 * capl : 1024;
                lines = realloc(lines, capl * sizeof *lines);
            }
            size_t l = strlen(key) + v->element[f]->len + v->element[f + 1]->len + 8;
            lines[n] = malloc(l * 4 + 1);
            char *w = lines[n++];
            w += sprintf(w, "%s %s ", key + strlen(prefix), v->element[f]->str);
            for (size_t b = 0; b < v->element[f + 1]->len; b++)
                w += sprintf(w, "%02x", (unsigned char)v->element[f + 1]->str[b]);
        }
        freeReplyObject(v);
    }
    freeReplyObject(keys);
    qsort(lines, n, sizeof *lines, strcmp_ptr);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        while (len + l + 2 > cap)
            out = realloc(out, cap *= 2);
        memcpy(out + len, lines[i], l);
        out[len + l] = '\n';
        len += l + 1;
        free(lines[i]);
    }
    out[len] = '\0';
    free(lines);
    return out;
}

/* The parts of a loaded account the score reads, as text. */
static int cmp_eng(const void *a, const void *b)
{
    return strcmp(((const struct cw_user_eng *)a)->id, ((const struct cw_user_eng *)b)->id);
}

/* The users' engagement of d as "user=day:points,...;" sorted by user (paths hold them in
 * different orders). */
static void eng_text(const struct cw_account_data *d, char *out, size_t size)
{
    size_t w = 0;
    out[0] = '\0';
    struct cw_user_eng *u = malloc((d->n_user_eng + 1) * sizeof *u);
    cr_assert_not_null(u);
    if (d->n_user_eng)
        memcpy(u, d->user_eng, d->n_user_eng * sizeof *u);
    qsort(u, d->n_user_eng, sizeof *u, cmp_eng);
    for (size_t i = 0; i < d->n_user_eng && w < size; i++) {
        char days[CW_ENG_TEXT_MAX];
        cw_eng_format(u[i].days, u[i].n_days, days, sizeof days);
        int k = snprintf(out + w, size - w, "%s=%s;", u[i].id, days);
        w += k > 0 ? (size_t)k : 0;
    }
    free(u);
}

static void describe_loaded(const struct cw_account_data *d, char *out, size_t size)
{
    int w = snprintf(out, size, "%s exists=%d first=%d seen=%lld seats=%d:%lld plan=%s seg=%s",
                     d->account_id, d->exists, d->first_day, (long long)d->last_seen_ms,
                     d->traits.has_seats, (long long)d->traits.seats, d->traits.plan,
                     d->traits.segment);
    uint64_t sum = 0, users = 0;
    for (size_t i = 0; i < d->n_metrics * d->horizon; i++)
        sum = sum * 31 + d->daily[i];
    for (size_t i = 0; i < d->n_users; i++)
        users += (uint64_t)d->user_last_day[i] * 7919u;
    for (size_t t = 0; t < d->n_event_types; t++)
        sum = sum * 17 + (uint64_t)d->type_last_ms[t];
    w += snprintf(out + w, size - (size_t)w, " daily=%llx users=%zu/%llx", (unsigned long long)sum,
                  d->n_users, (unsigned long long)users);
    /* the values of the seminars row, in their stored form */
    cr_assert_not_null(d->values, "a config with values loads them");
    for (size_t age = 0; age < d->horizon && (size_t)w < size; age++) {
        char text[CW_VALUE_DAY_TEXT_MAX] = "-";
        const struct cw_value_day *v = &d->values[4 * d->horizon + age];
        if (v->n)
            cw_value_day_format(v, text, sizeof text);
        w += snprintf(out + w, size - (size_t)w, " %s", text);
    }
    if ((size_t)w < size) {
        w += snprintf(out + w, size - (size_t)w, " eng=");
        if ((size_t)w < size)
            eng_text(d, out + w, size - (size_t)w);
    }
}

/* A history point the load already found (today_point) is overwritten with plain commands,
 * no function: the same point, no new day in h_last, and a lifetime when it had none. */
Test(store, known_today_point_saved_without_a_function)
{
    cw_store *st = open_store();
    struct cw_store_result h = {.account_id = "a", .has_score = true, .today = DAY0, .score = 10};
    cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
    long long fcalls0, fcalls1;
    (void)command_calls(&fcalls0);
    h.today_point = true;
    h.score = 42.5;
    cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
    (void)command_calls(&fcalls1);
    cr_assert_eq(fcalls1, fcalls0, "the known point is saved without FCALL");
    char key[64];
    snprintf(key, sizeof key, "%d", DAY0);
    cr_assert_str_eq(hget("cw:{a}:h", key), "42.5");
    cr_assert_str_eq(hget("cw:{a}:m", "h_last"), key);
    long long ttl = redis_server_int(&rs, "PTTL cw:{a}:h");
    cr_assert_gt(ttl, 0);
    /* a lifetime is kept as it is, and given to a history that has none */
    freeReplyObject(redis_server_command(&rs, "PERSIST cw:{a}:h"));
    cr_assert_eq(cw_store_save(st, &cfg, &h, 1, err, sizeof err), 0, "%s", err);
    cr_assert_gt(redis_server_int(&rs, "PTTL cw:{a}:h"), 0, "history must not live forever");

    /* loaded as the daemon loads it: the same point and score */
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    load1(st, "a", DAY0, &d);
    cr_assert_eq(d.n_history, 1);
    cr_assert_eq(d.history[0].day, DAY0);
    cr_assert(d.has_last_score);
    cr_assert_float_eq(d.last_score, 42.5, 1e-9);
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* A score of a new day after the history's newest is saved with plain commands too, and
 * stores what cw_save stores: the point, the days pushed out of the history deleted, h_last,
 * the lifetime. One writer saves through cw_save only (nothing loaded), the other as the
 * daemon does (the newest day of its loaded history and :m's h_last): its first score (an
 * empty history), daily for longer than the history keeps, once after its history was
 * deleted behind its back (h_last left: nothing loaded), then after a gap of 5 days, then
 * after one longer than CW_STORE_NEW_DAY_PLAIN (cw_save again, which reads the history to
 * prune it). */
Test(store, new_day_saved_without_a_function_as_cw_save_saves_it)
{
    cfg.redis.key_prefix = "ndf:";
    cw_store *f = open_store();
    cfg.redis.key_prefix = "ndp:";
    cw_store *p = open_store();
    static struct batch_buf b;
    for (int k = 0; k < 2; k++) { /* :m and the rows exist, with their lifetimes */
        b.n = 0;
        add_event(&b, "acme", "u1", T_LOGIN, DAY0, 1000, "ev", 0, 1);
        cr_assert_eq(apply1(k ? p : f, &b, "acme", 0, 1), 1);
    }
    int keep = (int)cw_store_row_days(&cfg) + CW_STORE_HISTORY_EXTRA;
    int steps = keep + 13;
    int32_t day = DAY0 - (keep + 11) - 5 - (CW_STORE_NEW_DAY_PLAIN + 1);
    long long plain_fcalls = 0, fcalls0, fcalls1;
    int32_t prev = CW_DAY_NONE; /* the day saved last: h_last */
    for (int step = 0; step < steps; step++) {
        if (step > 0)
            day += step == keep + 11 ? 5 : step == keep + 12 ? CW_STORE_NEW_DAY_PLAIN + 1 : 1;
        if (step == 20) { /* the history gone, :m's h_last left: no point is loaded */
            redis_server_int(&rs, "DEL ndf:{acme}:h");
            redis_server_int(&rs, "DEL ndp:{acme}:h");
        }
        struct cw_account_data d;
        memset(&d, 0, sizeof d);
        load1(p, "acme", day, &d);
        cr_assert(d.h_last_known, "step %d: the load read :m", step);
        cr_assert_eq(d.h_last, prev, "step %d: h_last %d", step, (int)d.h_last);
        struct cw_store_result rf = {.account_id = "acme",
                                     .has_score = true,
                                     .score = step + 0.25,
                                     .today = day,
                                     .history_last = CW_DAY_NONE};
        struct cw_store_result rp = rf;
        rp.history_last = d.n_history > 0 ? d.history[d.n_history - 1].day : CW_DAY_NONE;
        rp.h_last_known = d.h_last_known;
        rp.h_last = d.h_last;
        cw_account_data_free(&d);
        cr_assert_eq(cw_store_save(f, &cfg, &rf, 1, err, sizeof err), 0, "%s", err);
        (void)command_calls(&fcalls0);
        cr_assert_eq(cw_store_save(p, &cfg, &rp, 1, err, sizeof err), 0, "%s", err);
        (void)command_calls(&fcalls1);
        plain_fcalls += fcalls1 - fcalls0;
        char *x = dump_prefix("ndf:"), *y = dump_prefix("ndp:");
        cr_assert_str_eq(y, x, "step %d (day %d): the history differs from cw_save's", step,
                         (int)day);
        free(x);
        free(y);
        prev = day;
    }
    cr_expect_eq(plain_fcalls, 1, "cw_save after the long gap only (%lld)", plain_fcalls);
    redisReply *r = redis_server_command(&rs, "HLEN ndp:{acme}:h");
    cr_expect_eq(r->integer, 1, "the history after the long gap: its one new point");
    freeReplyObject(r);
    cw_store_close(f);
    cw_store_close(p);
}

/* The write-back of an account held in memory reads :m's h_last with the version and
 * hands it to the score pass with the history: the saves then go without a function, the
 * first point of an empty history and a new day whose history was deleted behind the
 * daemon's back (h_last left, no point loaded) too. */
Test(store, held_accounts_give_h_last_and_save_without_functions)
{
    cw_store *st = open_store();
    cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0, "%s", err);
    static struct batch_buf b;
    b.n = 0;
    for (int k = 0; k < 4; k++)
        add_event(&b, "acme", "u1", T_LOGIN, DAY0 + k, 1000, "ev", 0, k + 1);
    const int32_t want_last[4] = {CW_DAY_NONE, DAY0, DAY0 + 1, DAY0 + 2};
    for (int k = 0; k < 4; k++) {
        if (k == 3)
            redis_server_int(&rs, "DEL cw:{acme}:h");
        struct cw_store_batch sb = batch_of(&b, "acme", (size_t)k, 1);
        sb.clock_day = DAY0 + k;
        struct cw_account_data d;
        memset(&d, 0, sizeof d);
        cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0 + k, &d, err, sizeof err), 0, "%s",
                     err);
        cr_assert_eq(sb.applied, 1, "day %d", k);
        cr_assert(d.h_last_known, "day %d: h_last read with the version", k);
        cr_assert_eq(d.h_last, want_last[k], "day %d: h_last %d", k, (int)d.h_last);
        if (k == 3)
            cr_assert_eq(d.n_history, 0, "no point left to load");
        struct cw_store_result r = {.account_id = "acme",
                                    .has_score = true,
                                    .score = 50 + k,
                                    .today = DAY0 + k,
                                    .history_last = d.n_history > 0 ? d.history[d.n_history - 1].day
                                                                    : CW_DAY_NONE,
                                    .h_last_known = d.h_last_known,
                                    .h_last = d.h_last};
        cw_account_data_free(&d);
        long long fcalls0, fcalls1;
        (void)command_calls(&fcalls0);
        cr_assert_eq(cw_store_save(st, &cfg, &r, 1, err, sizeof err), 0, "%s", err);
        (void)command_calls(&fcalls1);
        cr_expect_eq(fcalls1 - fcalls0, 0, "day %d saved with a function", k);
        char want[16];
        snprintf(want, sizeof want, "%d", (int)(DAY0 + k));
        cr_expect_str_eq(hget("cw:{acme}:m", "h_last"), want, "day %d", k);
        cr_expect_gt(redis_server_int(&rs, "PTTL cw:{acme}:h"), 0, "day %d: :h lives", k);
    }
    cr_expect_eq(redis_server_int(&rs, "HLEN cw:{acme}:h"), 1, "the point saved since the DEL");
    cw_store_close(st);
}

/* The users section of the equivalence tests' second runs: engagement kept for at most a
 * few users (the ds stream has 40 per account), over a window shorter than its days. */
static void users_on(unsigned max_tracked)
{
    cfg.users =
        (struct cw_users_config){.enabled = true, .window_days = 14, .max_tracked = max_tracked};
    cfg.users.weight[T_LOGIN] = 1;
    cfg.users.weight[T_APP] = 5;
    cfg.users.weight[T_SEMINAR] = 10;
    cfg.users.weight[T_CLICK] = 2;
}

static void apply_load_equals_apply_one_by_one(void);

Test(store, apply_load_equals_apply_one_by_one)
{
    apply_load_equals_apply_one_by_one();
}

/* docs/users.md: the users' engagement through the three paths, with the bound reached. */
Test(store, apply_load_equals_apply_one_by_one_with_users)
{
    users_on(12);
    apply_load_equals_apply_one_by_one();
}

static void apply_load_equals_apply_one_by_one(void)
{
    ds_generate(0x9e3779b97f4a7c15ULL);
    cfg.redis.key_prefix = "one:";
    cw_store *one = open_store();
    cfg.redis.key_prefix = "co:";
    cw_store *co = open_store();
    cfg.redis.key_prefix = "own:"; /* accounts owned in memory (store_owned.c) */
    cw_store *own = open_store();
    cr_assert_eq(cw_store_set_cache(own, 1 << 20, err, sizeof err), 0);
    static struct cw_store_event ev_one[DS_EVENTS], ev_co[DS_EVENTS], ev_own[DS_EVENTS];
    static struct cw_store_batch sb_one[DS_ACCOUNTS], sb_co[DS_ACCOUNTS], sb_own[DS_ACCOUNTS];
    static struct cw_account_data loaded[DS_ACCOUNTS], loaded_own[DS_ACCOUNTS], want;
    memset(loaded, 0, sizeof loaded);
    memset(loaded_own, 0, sizeof loaded_own);
    memset(&want, 0, sizeof want);

    /* Batches of varying size in stream order, with replays as a crash or a rebalance
     * makes them: a whole batch again (skipped by the delta), and a range across two
     * earlier batches' boundaries (a partial replay, applied one by one). */
    uint64_t x = 42;
    size_t pos = 0, coalesced = 0, fallback = 0, replays = 0;
    while (pos < DS_EVENTS) {
        size_t len = 1 + ds_rand(&x) % 400, first = pos, end = pos + len;
        if (end > DS_EVENTS)
            end = DS_EVENTS;
        int kind = (int)(ds_rand(&x) % 6);
        if (kind == 0 && pos > 0) {
            first = pos - 1 - ds_rand(&x) % (pos < 300 ? pos : 300); /* overlaps the past */
        } else {
            pos = end;
        }
        size_t n1 = ds_group(first, end, ev_one, sb_one);
        size_t n2 = ds_group(first, end, ev_co, sb_co);
        size_t n3 = ds_group(first, end, ev_own, sb_own);
        cr_assert_eq(n1, n2);
        cr_assert_eq(n1, n3);
        cr_assert_eq(cw_store_apply(one, &cfg, sb_one, n1, err, sizeof err), 0, "%s", err);
        cr_assert_eq(cw_store_apply_load(co, &cfg, sb_co, n2, DAY0, loaded, err, sizeof err), 0,
                     "%s", err);
        cr_assert_eq(cw_store_apply_load(own, &cfg, sb_own, n3, DAY0, loaded_own, err, sizeof err),
                     0, "%s", err);
        for (size_t a = 0; a < n1; a++) {
            cr_assert_eq(sb_co[a].applied, sb_one[a].applied, "%s: applied %zu, one by one %zu",
                         sb_co[a].account_id, sb_co[a].applied, sb_one[a].applied);
            cr_assert_eq(sb_own[a].applied, sb_one[a].applied, "%s: owned applied %zu, %zu",
                         sb_own[a].account_id, sb_own[a].applied, sb_one[a].applied);
            cr_assert_eq(sb_own[a].coalesced, sb_co[a].coalesced, "%s: coalesced",
                         sb_own[a].account_id);
            coalesced += sb_co[a].coalesced;
            fallback += !sb_co[a].coalesced;
            replays += sb_co[a].applied < sb_co[a].n;
            /* The state returned is the state stored. */
            const char *id = sb_co[a].account_id;
            cr_assert_eq(cw_store_load(co, &cfg, &id, 1, DAY0, &want, err, sizeof err), 0, "%s",
                         err);
            char got_s[8192], want_s[8192];
            describe_loaded(&loaded[a], got_s, sizeof got_s);
            describe_loaded(&want, want_s, sizeof want_s);
            cr_assert_str_eq(got_s, want_s);
            describe_loaded(&loaded_own[a], got_s, sizeof got_s);
            cr_assert_str_eq(got_s, want_s, "owned in memory");
        }
    }
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(own, &cs);
    cr_assert_eq(cs.misses, DS_ACCOUNTS, "every account loaded once: %llu",
                 (unsigned long long)cs.misses);
    cr_assert_gt(cs.hits, 100);
    cr_assert_eq(cs.conflicts, 0);
    cr_assert_gt(coalesced, 100, "coalesced %zu", coalesced);
    cr_assert_gt(fallback, 0, "no partial replay was exercised");
    cr_assert_gt(replays, 0, "no replay was exercised");

    char *a = dump_prefix("one:"), *b = dump_prefix("co:");
    cr_assert_gt(strlen(a), 1000);
    if (strcmp(a, b) != 0) {
        FILE *f = fopen("apply_load.one.txt", "w");
        fputs(a, f);
        fclose(f);
        f = fopen("apply_load.co.txt", "w");
        fputs(b, f);
        fclose(f);
    }
    cr_assert(strcmp(a, b) == 0, "the stored state differs from the one-by-one apply "
                                 "(apply_load.one.txt, apply_load.co.txt)");
    char *c = dump_prefix("own:");
    if (strcmp(a, c) != 0) {
        FILE *f = fopen("apply_load.own.txt", "w");
        fputs(c, f);
        fclose(f);
    }
    cr_assert(strcmp(a, c) == 0, "the state written back from memory differs from the "
                                 "one-by-one apply (apply_load.one.txt, apply_load.own.txt)");
    if (cfg.users.enabled) { /* engagement was kept, up to the bound */
        long long most = 0, fewest = 1 << 30;
        for (int k = 0; k < DS_ACCOUNTS; k++) {
            long long n = redis_server_int(&rs, "HLEN one:{%s}:e", ds_acct[k]);
            most = n > most ? n : most;
            fewest = n < fewest ? n : fewest;
        }
        cr_assert_eq(most, (long long)cfg.users.max_tracked, "the bound was reached: %lld", most);
        cr_assert_gt(fewest, 0);
        cr_assert(strstr(a, ":e ") != NULL, "the dumps compare :e");
    }
    free(a);
    free(b);
    free(c);
    for (size_t i = 0; i < DS_ACCOUNTS; i++) {
        cw_account_data_free(&loaded[i]);
        cw_account_data_free(&loaded_own[i]);
    }
    cw_account_data_free(&want);
    cw_store_close(one);
    cw_store_close(co);
    cw_store_close(own);
}

/* The feed through both store paths (accounts owned in memory, and Redis alone): the same
 * batches, scores and acknowledgements leave the same stored state, and every load returns
 * the feed's state and entries as a plain load reads them. */
Test(store, score_feed_equal_with_accounts_owned_in_memory)
{
    ds_generate(0x853c49e6748fea9bULL);
    cfg.scores.topic = "churnwatch-scores";
    cfg.redis.key_prefix = "rf:";
    cw_store *rf = open_store();
    cfg.redis.key_prefix = "of:";
    cw_store *of = open_store();
    cr_assert_eq(cw_store_set_cache(of, 1 << 20, err, sizeof err), 0);
    static struct cw_store_event ev_r[DS_EVENTS], ev_o[DS_EVENTS];
    static struct cw_store_batch sb_r[DS_ACCOUNTS], sb_o[DS_ACCOUNTS];
    static struct cw_account_data l_r[DS_ACCOUNTS], l_o[DS_ACCOUNTS], want;
    static struct feed_msg msg[DS_ACCOUNTS];
    static struct cw_store_result res_r[DS_ACCOUNTS], res_o[DS_ACCOUNTS];
    memset(l_r, 0, sizeof l_r);
    memset(l_o, 0, sizeof l_o);
    memset(&want, 0, sizeof want);
    uint64_t x = 5;
    size_t pos = 0, round = 0, published = 0, quiet = 0, acked = 0, pending_seen = 0;
    while (pos < DS_EVENTS) {
        size_t first = pos, end = pos + 1 + ds_rand(&x) % 250;
        if (ds_rand(&x) % 6 == 0 && pos > 0)
            first = pos - 1 - ds_rand(&x) % (pos < 200 ? pos : 200); /* a replay */
        else
            pos = end < DS_EVENTS ? end : DS_EVENTS;
        if (end > DS_EVENTS)
            end = DS_EVENTS;
        size_t n = ds_group(first, end, ev_r, sb_r);
        cr_assert_eq(ds_group(first, end, ev_o, sb_o), n);
        cr_assert_eq(cw_store_apply_load(rf, &cfg, sb_r, n, DAY0, l_r, err, sizeof err), 0, "%s",
                     err);
        cr_assert_eq(cw_store_apply_load(of, &cfg, sb_o, n, DAY0, l_o, err, sizeof err), 0, "%s",
                     err);
        struct cw_outbox_ack acks_r[DS_ACCOUNTS * 8], acks_o[DS_ACCOUNTS * 8];
        size_t n_acks = 0;
        bool ack_now = round % 3 == 2;
        for (size_t i = 0; i < n; i++) {
            const char *id = sb_r[i].account_id;
            cr_assert_eq(cw_store_load(rf, &cfg, &id, 1, DAY0, &want, err, sizeof err), 0, "%s",
                         err);
            const char *raw = want.feed_raw ? want.feed_raw : "";
            cr_assert_str_eq(l_r[i].feed_raw ? l_r[i].feed_raw : "", raw, "%s", id);
            cr_assert_str_eq(l_o[i].feed_raw ? l_o[i].feed_raw : "", raw, "%s, owned", id);
            cr_assert_eq(l_r[i].n_feed_outbox, want.n_feed_outbox, "%s", id);
            cr_assert_eq(l_o[i].n_feed_outbox, want.n_feed_outbox, "%s, owned", id);
            for (size_t k = 0; k < want.n_feed_outbox; k++) {
                cr_assert_str_eq(l_r[i].feed_outbox[k].key, want.feed_outbox[k].key);
                cr_assert_str_eq(l_o[i].feed_outbox[k].key, want.feed_outbox[k].key);
                cr_assert_str_eq(l_o[i].feed_outbox[k].json, want.feed_outbox[k].json);
                if (ack_now) {
                    acks_r[n_acks] = (struct cw_outbox_ack){
                        .account_id = id, .key = l_r[i].feed_outbox[k].key, .score_feed = true};
                    acks_o[n_acks++] = (struct cw_outbox_ack){
                        .account_id = id, .key = l_o[i].feed_outbox[k].key, .score_feed = true};
                }
            }
            pending_seen += want.n_feed_outbox;
            /* A score that wanders 1.5 points a round and falls back every tenth: published
             * when it moved by 5 since the last one published. */
            int acct = atoi(id + 3);
            double score = 30.0 + (double)(acct * 3 % 40) + 1.5 * (double)(round % 10);
            const char *grade = score >= 60 ? "B" : "C";
            free(msg[i].state);
            msg[i].state = NULL;
            feed_result(&res_r[i], id, &msg[i], NULL);
            res_r[i].score = score;
            res_r[i].feed_state = NULL;
            if (cw_feed_decide(&want.feed, MS0 + (int64_t)round, 5, score, grade, "") != 0) {
                feed_msg(&msg[i], id, score, MS0 + (int64_t)round, "x");
                feed_result(&res_r[i], id, &msg[i], l_r[i].feed_raw ? l_r[i].feed_raw : "");
                published++;
            } else {
                quiet++;
            }
            res_o[i] = res_r[i];
            res_o[i].feed_expected_raw = l_o[i].feed_raw ? l_o[i].feed_raw : "";
        }
        cr_assert_eq(cw_store_save(rf, &cfg, res_r, n, err, sizeof err), 0, "%s", err);
        cr_assert_eq(cw_store_save(of, &cfg, res_o, n, err, sizeof err), 0, "%s", err);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(res_r[i].feed_won, res_r[i].feed_state != NULL, "%s", res_r[i].account_id);
            cr_assert_eq(res_o[i].feed_won, res_o[i].feed_state != NULL, "%s, owned",
                         res_o[i].account_id);
        }
        cr_assert_eq(cw_store_outbox_ack(rf, acks_r, n_acks, err, sizeof err), 0, "%s", err);
        cr_assert_eq(cw_store_outbox_ack(of, acks_o, n_acks, err, sizeof err), 0, "%s", err);
        acked += n_acks;
        round++;
    }
    cr_log_info("score feed: %zu rounds, %zu published, %zu quiet, %zu acknowledged", round,
                published, quiet, acked);
    cr_assert_gt(published, 50);
    cr_assert_gt(quiet, 10);
    cr_assert_gt(acked, 10);
    cr_assert_gt(pending_seen, acked, "entries waited across rounds");
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(of, &cs);
    cr_assert_gt(cs.hits, 100, "the owned path was taken");
    cr_assert_eq(cs.conflicts, 0);
    char *a = dump_prefix("rf:"), *b = dump_prefix("of:");
    cr_assert_not_null(strstr(a, ":feed"), "the feed is in the dump");
    cr_assert(strcmp(a, b) == 0, "the stored state differs between the two paths");
    free(a);
    free(b);
    for (size_t i = 0; i < DS_ACCOUNTS; i++) {
        free(msg[i].state);
        cw_account_data_free(&l_r[i]);
        cw_account_data_free(&l_o[i]);
    }
    cw_account_data_free(&want);
    cw_store_close(rf);
    cw_store_close(of);
}

/* Two daemons owning the same accounts in memory (a topic keyed by user read by two
 * instances, or an owner that lost its partitions and has not noticed yet): each finds
 * the other's writes by the version and applies through Redis, so the state stays what one
 * writer alone makes of the same batches. */
Test(store, owned_accounts_yield_to_another_writer)
{
    ds_generate(0x2545f4914f6cdd1dULL);
    cfg.redis.key_prefix = "ref:";
    cw_store *ref = open_store();
    cfg.redis.key_prefix = "two:";
    cw_store *owner[2] = {open_store(), open_store()};
    for (int k = 0; k < 2; k++)
        cr_assert_eq(cw_store_set_cache(owner[k], 1 << 20, err, sizeof err), 0);
    static struct cw_store_event ev_ref[DS_EVENTS], ev_two[DS_EVENTS];
    static struct cw_store_batch sb_ref[DS_ACCOUNTS], sb_two[DS_ACCOUNTS];
    static struct cw_account_data l_ref[DS_ACCOUNTS], l_two[DS_ACCOUNTS];
    memset(l_ref, 0, sizeof l_ref);
    memset(l_two, 0, sizeof l_two);
    uint64_t x = 99;
    size_t pos = 0;
    while (pos < DS_EVENTS) {
        size_t first = pos, end = pos + 1 + ds_rand(&x) % 300;
        if (ds_rand(&x) % 5 == 0 && pos > 0)
            first = pos - 1 - ds_rand(&x) % (pos < 200 ? pos : 200); /* a replay */
        else
            pos = end < DS_EVENTS ? end : DS_EVENTS;
        if (end > DS_EVENTS)
            end = DS_EVENTS;
        size_t n = ds_group(first, end, ev_ref, sb_ref);
        cr_assert_eq(ds_group(first, end, ev_two, sb_two), n);
        cw_store *w = owner[ds_rand(&x) % 2];
        cr_assert_eq(cw_store_apply_load(ref, &cfg, sb_ref, n, DAY0, l_ref, err, sizeof err), 0,
                     "%s", err);
        cr_assert_eq(cw_store_apply_load(w, &cfg, sb_two, n, DAY0, l_two, err, sizeof err), 0, "%s",
                     err);
        for (size_t a = 0; a < n; a++) {
            cr_assert_eq(sb_two[a].applied, sb_ref[a].applied, "%s: applied %zu, alone %zu",
                         sb_two[a].account_id, sb_two[a].applied, sb_ref[a].applied);
            char got_s[8192], want_s[8192];
            describe_loaded(&l_two[a], got_s, sizeof got_s);
            describe_loaded(&l_ref[a], want_s, sizeof want_s);
            cr_assert_str_eq(got_s, want_s);
        }
    }
    struct cw_store_cache_stats s0, s1;
    cw_store_cache_stats(owner[0], &s0);
    cw_store_cache_stats(owner[1], &s1);
    cr_log_info("two owners: conflicts %llu + %llu, hits %llu + %llu",
                (unsigned long long)s0.conflicts, (unsigned long long)s1.conflicts,
                (unsigned long long)s0.hits, (unsigned long long)s1.hits);
    cr_assert_gt(s0.conflicts + s1.conflicts, 50);
    char *a = dump_prefix("ref:"), *b = dump_prefix("two:");
    cr_assert_gt(strlen(a), 1000);
    cr_assert(strcmp(a, b) == 0, "two owners: the stored state differs from one writer's");
    free(a);
    free(b);
    for (size_t i = 0; i < DS_ACCOUNTS; i++) {
        cw_account_data_free(&l_ref[i]);
        cw_account_data_free(&l_two[i]);
    }
    cw_store_close(ref);
    cw_store_close(owner[0]);
    cw_store_close(owner[1]);
}

/* Another writer between a write-back transaction's WATCH round trip and its MULTI (the
 * store's test hook, called once per chunk): one event applied to account victim ("tx-b"
 * when NULL) through Redis on its own connection, and the same event to the reference, at
 * the hook's call fire_on (counted from 0) only. */
struct txn_writer {
    cw_store *other, *ref;
    const char *victim;
    int fire_on;
    int calls;
};

static void txn_write_between(void *arg)
{
    struct txn_writer *w = arg;
    if (w->calls++ != w->fire_on)
        return;
    const char *victim = w->victim ? w->victim : "tx-b";
    static struct batch_buf b;
    for (int k = 0; k < 2; k++) {
        b.n = 0;
        add_event(&b, victim, "u9", T_CLICK, DAY0, 7000, "ev", 1, 5);
        cr_assert_eq(apply1(k ? w->ref : w->other, &b, victim, 0, 1), 1);
    }
}

/* The owning store (a cache of cache_bytes, keys under own_prefix), another connection to
 * the same keys (the other writer), and the reference: one writer's state under ref_prefix. */
struct txn_stores {
    cw_store *ref, *own, *other;
};

static struct txn_stores txn_stores_open(char *ref_prefix, char *own_prefix, size_t cache_bytes)
{
    struct txn_stores t;
    cfg.redis.key_prefix = ref_prefix;
    t.ref = open_store();
    cfg.redis.key_prefix = own_prefix;
    t.own = open_store();
    t.other = open_store();
    cr_assert_eq(cw_store_set_cache(t.own, cache_bytes, err, sizeof err), 0);
    return t;
}

static void txn_stores_close(struct txn_stores *t)
{
    cw_store_close(t->ref);
    cw_store_close(t->own);
    cw_store_close(t->other);
}

/* Each of the n accounts the owner loaded equals the reference's, after round. */
static void loaded_equal(const struct cw_account_data *own, const struct cw_account_data *ref,
                         size_t n, int round)
{
    for (size_t a = 0; a < n; a++) {
        char got_s[8192], want_s[8192];
        describe_loaded(&own[a], got_s, sizeof got_s);
        describe_loaded(&ref[a], want_s, sizeof want_s);
        cr_assert_str_eq(got_s, want_s, "round %d %s:\n%s\n%s", round, ref[a].account_id, got_s,
                         want_s);
    }
}

/* Every key under own_prefix equals its twin under ref_prefix (lifetimes included), and
 * the reference holds at least min_len bytes of dump. */
static void stored_equal(const char *ref_prefix, const char *own_prefix, size_t min_len)
{
    char *x = dump_prefix(ref_prefix), *y = dump_prefix(own_prefix);
    cr_assert_gt(strlen(x), min_len);
    cr_assert_str_eq(y, x, "the stored state differs from one writer's");
    free(x);
    free(y);
}

Test(store, owned_write_back_transaction_aborted_by_another_writer)
{
    struct txn_stores t = txn_stores_open("txref:", "txn:", 1 << 20);
    cw_store *ref = t.ref, *own = t.own;
    static const char *const ids[] = {"tx-a", "tx-b", "tx-c"};
    static struct batch_buf b;
    static struct cw_account_data l_ref[3], l_own[3];
    memset(l_ref, 0, sizeof l_ref);
    memset(l_own, 0, sizeof l_own);
    struct txn_writer w = {.other = t.other, .ref = ref};
    uint64_t aborts = 0;
    /* Round 0 loads and holds the three accounts; in round 1 the hook's write moves tx-b's
     * version after the WATCH: the EXEC writes nothing, cw_put then writes tx-a and tx-c
     * and finds tx-b moved (dropped, applied through Redis); round 2 holds all three again. */
    for (int round = 0; round < 3; round++) {
        own->txn_hook = round == 1 ? txn_write_between : NULL;
        own->txn_hook_arg = &w;
        for (int k = 0; k < 2; k++) { /* the owner first: the hook writes before ref's round */
            cw_store *st = k ? ref : own;
            struct cw_store_batch sb[3];
            b.n = 0;
            for (size_t a = 0; a < 3; a++) {
                for (int e = 0; e < 2; e++)
                    add_event(&b, ids[a], e ? "u2" : "u1", e ? T_RECORD : T_LOGIN, DAY0 - 2 + round,
                              1000 * (e + 1), "ev", 0, 10 * round + e);
                sb[a] = batch_of(&b, ids[a], 2 * a, 2);
            }
            cr_assert_eq(
                cw_store_apply_load(st, &cfg, sb, 3, DAY0, k ? l_ref : l_own, err, sizeof err), 0,
                "%s", err);
            for (size_t a = 0; a < 3; a++)
                cr_assert_eq(sb[a].applied, 2, "round %d %s: applied %zu", round, ids[a],
                             sb[a].applied);
        }
        loaded_equal(l_own, l_ref, 3, round);
        if (round == 1) {
            aborts = own->txn_aborts;
            /* the accounts index too: the aborted EXEC held its ZADD, cw_put's path sends it */
            stored_equal("txref:", "txn:", 100);
        }
    }
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(own, &cs);
    cr_assert_eq(w.calls, 1);
    cr_assert_eq(aborts, 1, "the EXEC after the other write failed");
    cr_assert_eq(own->txn_aborts, 1, "no other EXEC failed");
    /* Only tx-b moved: had the failed EXEC written tx-a or tx-c, their cw_put would have
     * found their version moved too. */
    cr_assert_eq(cs.conflicts, 1);
    cr_assert_eq(cs.txn_aborts, 1, "the aborted EXEC, as the metrics read it");
    stored_equal("txref:", "txn:", 100);
    for (size_t a = 0; a < 3; a++) {
        cw_account_data_free(&l_ref[a]);
        cw_account_data_free(&l_own[a]);
    }
    txn_stores_close(&t);
}

/* A daemon that crashed between an account's write-back and the accounts index's ZADD left
 * the index behind what Redis holds. The restarted daemon replays the batch, cut
 * differently: the account is loaded by a call whose events are older than the ones
 * applied, and the newest day comes in the next call, when the account is held and its
 * newest day does not move. The load indexes the day it holds. */
Test(store, a_load_indexes_the_newest_day_a_crash_left_out_of_the_index)
{
    cfg.redis.key_prefix = "ix:";
    cw_store *st = open_store();
    cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0, "%s", err);
    static struct batch_buf b;
    b.n = 0;
    add_event(&b, "ix-a", "u1", T_LOGIN, DAY0 - 3, 1000, "ev", 0, 1);
    add_event(&b, "ix-a", "u1", T_LOGIN, DAY0, 1000, "ev", 0, 2);
    struct cw_store_batch sb = batch_of(&b, "ix-a", 0, 2);
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, NULL, err, sizeof err), 0, "%s", err);
    cw_store_close(st);
    redisReply *r = redis_server_command(&rs, "ZADD ix:accounts %d ix-a", (int)DAY0 - 3);
    freeReplyObject(r); /* the ZADD of DAY0 lost in the crash */

    st = open_store(); /* the restart: nothing held */
    cr_assert_eq(cw_store_set_cache(st, 1 << 20, err, sizeof err), 0, "%s", err);
    for (size_t k = 0; k < 2; k++) {
        sb = batch_of(&b, "ix-a", k, 1);
        cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, NULL, err, sizeof err), 0, "%s",
                     err);
        cr_assert_eq(sb.applied, 0, "a replay applies nothing");
    }
    r = redis_server_command(&rs, "ZSCORE ix:accounts ix-a");
    cr_assert(r && r->type == REDIS_REPLY_STRING);
    cr_expect_eq(atoi(r->str), DAY0, "indexed at day %s, not the newest day %d", r->str, (int)DAY0);
    freeReplyObject(r);
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(st, &cs);
    cr_expect_eq(cs.misses, 1, "the second call found the account held");
    cw_store_close(st);
}

/* Chunks of 200 accounts: a chunk's writes share their round trip with the next chunk's
 * reads (store_owned_txn.c). 450 accounts make three chunks; the other writer moves
 * mc-250's version after the second chunk's reads, which came with the first chunk's
 * writes: the second EXEC writes nothing, the first and third write theirs, and the state
 * equals one writer's. */
#define MC_ACCOUNTS 450
Test(store, owned_write_back_chunks_share_round_trips)
{
    struct txn_stores t = txn_stores_open("mcref:", "mc:", 64 << 20);
    cw_store *ref = t.ref, *own = t.own;
    static char ids[MC_ACCOUNTS][16];
    static struct cw_event ev[2 * MC_ACCOUNTS];
    static struct cw_store_event se[2 * MC_ACCOUNTS];
    static struct cw_store_batch sb[MC_ACCOUNTS];
    static struct cw_account_data l_ref[MC_ACCOUNTS], l_own[MC_ACCOUNTS];
    memset(l_ref, 0, sizeof l_ref);
    memset(l_own, 0, sizeof l_own);
    for (size_t a = 0; a < MC_ACCOUNTS; a++)
        snprintf(ids[a], sizeof ids[a], "mc-%03zu", a);
    struct txn_writer w = {.other = t.other, .ref = ref, .victim = "mc-250", .fire_on = 1};
    uint64_t aborts = 0;
    for (int round = 0; round < 3; round++) {
        own->txn_hook = round == 1 ? txn_write_between : NULL;
        own->txn_hook_arg = &w;
        for (int k = 0; k < 2; k++) { /* the owner first: the hook writes before ref's round */
            cw_store *st = k ? ref : own;
            for (size_t a = 0; a < MC_ACCOUNTS; a++) {
                for (int e = 0; e < 2; e++) {
                    struct cw_event *x = &ev[2 * a + (size_t)e];
                    int type = e ? T_RECORD : T_LOGIN;
                    memset(x, 0, sizeof *x);
                    snprintf(x->account_id, sizeof x->account_id, "%s", ids[a]);
                    snprintf(x->user_id, sizeof x->user_id, "%s", e ? "u2" : "u1");
                    snprintf(x->type, sizeof x->type, "%s", types[type].name);
                    x->type_index = type;
                    x->metric = types[type].metric;
                    x->ts_ms = (int64_t)(DAY0 - 2 + round) * CW_MS_PER_DAY + 1000 * (e + 1);
                    se[2 * a + (size_t)e] = (struct cw_store_event){.day = DAY0 - 2 + round,
                                                                    .topic = "ev",
                                                                    .partition = 0,
                                                                    .offset = 10 * round + e};
                    store_event_of(&se[2 * a + (size_t)e], x);
                }
                sb[a] = (struct cw_store_batch){.account_id = ids[a], .events = &se[2 * a], .n = 2};
            }
            cr_assert_eq(cw_store_apply_load(st, &cfg, sb, MC_ACCOUNTS, DAY0, k ? l_ref : l_own,
                                             err, sizeof err),
                         0, "%s", err);
            for (size_t a = 0; a < MC_ACCOUNTS; a++)
                cr_assert_eq(sb[a].applied, 2, "round %d %s: applied %zu", round, ids[a],
                             sb[a].applied);
        }
        loaded_equal(l_own, l_ref, MC_ACCOUNTS, round);
        if (round == 1) {
            aborts = own->txn_aborts;
            cr_assert_eq(w.calls, 3, "the hook runs once per chunk: %d", w.calls);
        }
    }
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(own, &cs);
    cr_assert_eq(aborts, 1, "the second chunk's EXEC failed, and only it");
    cr_assert_eq(own->txn_aborts, 1, "no other EXEC failed");
    /* Only mc-250 moved: had the failed EXEC written another account of its chunk, that
     * account's cw_put would have found its version moved too. */
    cr_assert_eq(cs.conflicts, 1);
    stored_equal("mcref:", "mc:", 1000);
    for (size_t a = 0; a < MC_ACCOUNTS; a++) {
        cw_account_data_free(&l_ref[a]);
        cw_account_data_free(&l_own[a]);
    }
    txn_stores_close(&t);
}

Test(store, apply_load_replay_partial_and_mixed_sources)
{
    cw_store *st = open_store();
    struct batch_buf b = {0};
    for (int i = 0; i < 10; i++)
        add_event(&b, "acme", i % 2 ? "u1" : "u2", T_LOGIN, DAY0, i, "ev", 0, i);
    for (int i = 0; i < 4; i++)
        add_event(&b, "acme", "u3", T_CLICK, DAY0 - 1, i, "ev", 1, 100 + i);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);

    /* 0..4 of partition 0, coalesced. */
    struct cw_store_batch sb = batch_of(&b, "acme", 0, 5);
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0, "%s", err);
    cr_assert(sb.coalesced);
    cr_assert_eq(sb.applied, 5);
    cr_assert_eq(daily(&d, 1, DAY0), 5);
    cr_assert_eq(d.n_users, 2);

    /* The same again: a replay, skipped whole, the state still returned. */
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0, "%s", err);
    cr_assert(sb.coalesced);
    cr_assert_eq(sb.applied, 0);
    cr_assert_eq(daily(&d, 1, DAY0), 5);

    /* 3..9: overlaps what was applied: one by one, 5 new. */
    sb = batch_of(&b, "acme", 3, 7);
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0, "%s", err);
    cr_assert_not(sb.coalesced);
    cr_assert_eq(sb.applied, 5);
    cr_assert_eq(daily(&d, 1, DAY0), 10);

    /* Partition 0 all replayed and partition 1 all new in one batch: one by one too. */
    sb = batch_of(&b, "acme", 6, 8);
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, &d, err, sizeof err), 0, "%s", err);
    cr_assert_not(sb.coalesced);
    cr_assert_eq(sb.applied, 4);
    cr_assert_eq(daily(&d, 1, DAY0), 10);
    cr_assert_eq(daily(&d, 5, DAY0 - 1), 4);
    cr_assert_eq(d.n_users, 3);
    cr_assert_eq(redis_server_int(&rs, "ZCOUNT cw:accounts %d %d", DAY0, DAY0), 1);

    /* Without a state wanted nothing is loaded, the effect is the same. */
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 99, "ev", 0, 10);
    sb = batch_of(&b, "acme", 14, 1);
    cr_assert_eq(cw_store_apply_load(st, &cfg, &sb, 1, DAY0, NULL, err, sizeof err), 0, "%s", err);
    cr_assert(sb.coalesced);
    cr_assert_eq(sb.applied, 1);
    load1(st, "acme", DAY0, &d);
    cr_assert_eq(daily(&d, 1, DAY0), 11);
    cw_account_data_free(&d);
    cw_store_close(st);
}

/* ---- the in-memory apply (account_mem.c) against the store ------------------------ */

/* A seeded stream for it: one busy account and a few others, four sources (two topics),
 * a clock that moves 60 days on (every horizon crossed), days late, ahead of the clock and
 * already outside the horizon, users that come and go, unknown types, traits of any age
 * (negative seats too). */
#define MS_EVENTS   9000
#define MS_ACCOUNTS 6
#define MS_SOURCES  4
static struct cw_event ms_ev[MS_EVENTS];
static struct cw_store_event ms_se[MS_EVENTS];
static int32_t ms_clock[MS_EVENTS]; /* the clock day when the event was read */
static char ms_acct[MS_ACCOUNTS][16];

static void ms_generate(uint64_t seed)
{
    uint64_t x = seed;
    int64_t offset[MS_SOURCES] = {0, 500, 7, 1000000};
    int32_t clock = DAY0 - 70;
    for (int a = 0; a < MS_ACCOUNTS; a++)
        snprintf(ms_acct[a], sizeof ms_acct[a], "mem-%d", a);
    for (int i = 0; i < MS_EVENTS; i++) {
        if (ds_rand(&x) % 150 == 0)
            clock += ds_rand(&x) % 10 == 0 ? 5 : 1;
        ms_clock[i] = clock;
        struct cw_event *ev = &ms_ev[i];
        memset(ev, 0, sizeof *ev);
        int a = ds_rand(&x) % 2 ? 0 : 1 + (int)(ds_rand(&x) % (MS_ACCOUNTS - 1));
        snprintf(ev->account_id, sizeof ev->account_id, "%s", ms_acct[a]);
        int t = (int)(ds_rand(&x) % 11);
        if (t == 9)
            t = T_LOGIN;
        ev->type_index = t == 10 ? 40 : t; /* 40: not a type of the config, skipped */
        ev->metric = t == 10 ? 1 : types[t].metric;
        if (ds_rand(&x) % 6 != 0)
            snprintf(ev->user_id, sizeof ev->user_id, "user-%d", /* users come and go */
                     (int)((clock - DAY0 + 100) / 8 * 2 + (int32_t)(ds_rand(&x) % 5)));
        int32_t day;
        switch (ds_rand(&x) % 20) {
        case 0: /* at and past the edge of the horizon */
            day = clock - 30 - (int32_t)(ds_rand(&x) % 14);
            break;
        case 1: /* ahead of the clock (a backfill) */
            day = clock + 1 + (int32_t)(ds_rand(&x) % 3);
            break;
        default:
            day = clock - (int32_t)(ds_rand(&x) % 8);
            break;
        }
        ev->ts_ms = (int64_t)day * CW_MS_PER_DAY + (int64_t)(ds_rand(&x) % CW_MS_PER_DAY);
        if (t == T_TRAITS || ds_rand(&x) % 40 == 0) {
            struct cw_traits *tr = &ev->traits;
            ev->has_traits = true;
            if (ds_rand(&x) % 2) /* on the hour: traits events of the same time */
                ev->ts_ms = (int64_t)day * CW_MS_PER_DAY + (int64_t)(ds_rand(&x) % 3) * 3600000;
            if (ds_rand(&x) % 2) {
                tr->has_seats = true;
                tr->seats = (int64_t)(ds_rand(&x) % 200) - 20;
            }
            if (ds_rand(&x) % 4 == 0) {
                tr->has_created_at = true;
                tr->created_at_ms = MS0 - (int64_t)(ds_rand(&x) % 1000) * CW_MS_PER_DAY;
            }
            if (ds_rand(&x) % 4 == 0) {
                tr->has_renewal_at = true;
                tr->renewal_at_ms = MS0 + (int64_t)(ds_rand(&x) % 1000) * CW_MS_PER_DAY;
            }
            if (ds_rand(&x) % 3 == 0)
                snprintf(tr->plan, sizeof tr->plan, "plan-%d", (int)(ds_rand(&x) % 4));
            if (ds_rand(&x) % 3 == 0)
                snprintf(tr->segment, sizeof tr->segment, "%c", "SML"[ds_rand(&x) % 3]);
            if (ds_rand(&x) % 5 == 0)
                snprintf(tr->owner, sizeof tr->owner, "owner-%d", (int)(ds_rand(&x) % 3));
            if (ds_rand(&x) % 3 == 0) { /* a parent, or a detach (parent_id null) */
                int k = (int)(ds_rand(&x) % 4);
                if (k == 3)
                    tr->parent_detach = true;
                else
                    snprintf(tr->parent_id, sizeof tr->parent_id, "parent-%d", k);
            }
        }
        seminar_value_of(ev, ds_rand(&x));
        int s = (int)(ds_rand(&x) % MS_SOURCES);
        ms_se[i] = (struct cw_store_event){.day = day,
                                           .topic = s == 3 ? "audit" : "ev",
                                           .partition = s == 3 ? 0 : s,
                                           .offset = offset[s]++};
        store_event_of(&ms_se[i], ev);
    }
}

/* The events [first, end) grouped by account in order: sb[0..return), events in ev. */
static size_t ms_group(size_t first, size_t end, int32_t clock_day, struct cw_store_event *ev,
                       struct cw_store_batch *sb)
{
    size_t n = 0, at = 0;
    for (int a = 0; a < MS_ACCOUNTS; a++) {
        size_t start = at;
        for (size_t i = first; i < end; i++)
            if (strcmp(ms_ev[i].account_id, ms_acct[a]) == 0)
                ev[at++] = ms_se[i];
        if (at > start)
            sb[n++] = (struct cw_store_batch){.account_id = ms_acct[a],
                                              .events = ev + start,
                                              .n = at - start,
                                              .clock_day = clock_day};
    }
    return n;
}

static int cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* got (the in-memory apply) against want (the store), field by field: "" when equal,
 * else the first difference. Sorts both users' days (the order is the store's own). */
static const char *mem_differs(const struct cw_config *c, struct cw_account_data *got,
                               struct cw_account_data *want)
{
    static char why[512];
#define DIFF(cond, ...)                                                                            \
    do {                                                                                           \
        if (cond) {                                                                                \
            snprintf(why, sizeof why, __VA_ARGS__);                                                \
            return why;                                                                            \
        }                                                                                          \
    } while (0)
    DIFF(strcmp(got->account_id, want->account_id) != 0, "account_id");
    DIFF(got->exists != want->exists, "exists %d, store %d", got->exists, want->exists);
    DIFF(got->first_day != want->first_day, "first_day %d, store %d", got->first_day,
         want->first_day);
    DIFF(got->last_seen_ms != want->last_seen_ms, "last_seen %lld, store %lld",
         (long long)got->last_seen_ms, (long long)want->last_seen_ms);
    DIFF(got->today != want->today || got->horizon != want->horizon ||
             got->n_metrics != want->n_metrics,
         "rows");
    for (size_t m = 0; m < got->n_metrics; m++)
        for (size_t age = 0; age < got->horizon; age++) {
            uint32_t g = got->daily[m * got->horizon + age],
                     w = want->daily[m * want->horizon + age];
            DIFF(g != w, "metric %zu day %d: %u, store %u", m, got->today - (int32_t)age, g, w);
        }
    for (size_t m = 0; m < got->n_metrics; m++)
        for (size_t age = 0; age < got->horizon && c->metrics[m].valued; age++) {
            /* a count's row of values is never read (cw_account_data_values_reset) */
            char g[CW_VALUE_DAY_TEXT_MAX] = "-", w[CW_VALUE_DAY_TEXT_MAX] = "-";
            DIFF(!got->values != !want->values, "values held %d, store %d", !!got->values,
                 !!want->values);
            if (!got->values)
                break;
            if (got->values[m * got->horizon + age].n)
                cw_value_day_format(&got->values[m * got->horizon + age], g, sizeof g);
            if (want->values[m * want->horizon + age].n)
                cw_value_day_format(&want->values[m * want->horizon + age], w, sizeof w);
            DIFF(strcmp(g, w) != 0, "values of metric %zu day %d: %s, store %s", m,
                 got->today - (int32_t)age, g, w);
        }
    DIFF(got->n_users != want->n_users, "%zu users, store %zu", got->n_users, want->n_users);
    static char ge[16384], we[16384];
    eng_text(got, ge, sizeof ge);
    eng_text(want, we, sizeof we);
    DIFF(strcmp(ge, we) != 0, "engagement %.200s, store %.200s", ge, we);
    qsort(got->user_last_day, got->n_users, sizeof *got->user_last_day, cmp_day);
    qsort(want->user_last_day, want->n_users, sizeof *want->user_last_day, cmp_day);
    for (size_t u = 0; u < got->n_users; u++)
        DIFF(got->user_last_day[u] != want->user_last_day[u], "user %zu: day %d, store %d", u,
             got->user_last_day[u], want->user_last_day[u]);
    DIFF(got->n_event_types != want->n_event_types, "types");
    for (size_t t = 0; t < got->n_event_types; t++)
        DIFF(got->type_last_ms[t] != want->type_last_ms[t], "type %s: %lld, store %lld",
             types[t].name, (long long)got->type_last_ms[t], (long long)want->type_last_ms[t]);
    const struct cw_traits *g = &got->traits, *w = &want->traits;
    DIFF(g->has_seats != w->has_seats || g->seats != w->seats, "seats %d:%lld, store %d:%lld",
         g->has_seats, (long long)g->seats, w->has_seats, (long long)w->seats);
    DIFF(g->has_created_at != w->has_created_at || g->created_at_ms != w->created_at_ms,
         "created_at");
    DIFF(g->has_renewal_at != w->has_renewal_at || g->renewal_at_ms != w->renewal_at_ms,
         "renewal_at");
    DIFF(strcmp(g->plan, w->plan) != 0, "plan %s, store %s", g->plan, w->plan);
    DIFF(strcmp(g->segment, w->segment) != 0, "segment %s, store %s", g->segment, w->segment);
    DIFF(strcmp(g->owner, w->owner) != 0, "owner %s, store %s", g->owner, w->owner);
    DIFF(strcmp(g->parent_id, w->parent_id) != 0, "parent_id %.100s, store %.100s", g->parent_id,
         w->parent_id);
#undef DIFF
    return "";
}

static void in_memory_apply_equals_apply_load(void);

Test(store, in_memory_apply_equals_apply_load)
{
    in_memory_apply_equals_apply_load();
}

Test(store, in_memory_apply_equals_apply_load_with_users)
{
    users_on(6);
    in_memory_apply_equals_apply_load();
}

static void in_memory_apply_equals_apply_load(void)
{
    ms_generate(0x5deece66dULL);
    cfg.redis.key_prefix = "mem:";
    cw_store *st = open_store();
    /* The same batches through stores owning the accounts in memory: one that holds them
     * all, one whose budget holds about one (evicted and loaded again all along). */
    cfg.redis.key_prefix = "own:";
    cw_store *own = open_store();
    cr_assert_eq(cw_store_set_cache(own, 1 << 20, err, sizeof err), 0);
    cfg.redis.key_prefix = "tiny:";
    cw_store *tiny = open_store();
    cr_assert_eq(cw_store_set_cache(tiny, 16000, err, sizeof err), 0);
    cfg.redis.key_prefix = "mem:";
    static struct cw_store_event ev[MS_EVENTS];
    static struct cw_store_batch sb[MS_ACCOUNTS], mb[MS_ACCOUNTS], ob[MS_ACCOUNTS];
    static struct cw_account_data loaded[MS_ACCOUNTS], loaded_own[MS_ACCOUNTS], got, want;
    memset(loaded_own, 0, sizeof loaded_own);
    memset(loaded, 0, sizeof loaded);
    memset(&got, 0, sizeof got);
    memset(&want, 0, sizeof want);
    struct cw_account_mem *mem[MS_ACCOUNTS];
    for (int a = 0; a < MS_ACCOUNTS; a++)
        cr_assert_not_null(mem[a] = cw_account_mem_new());
    int slots[sizeof metrics / sizeof metrics[0]];
    bool have_slots = false;

    /* Batches in stream order with replays as a crash or a rebalance makes them: the
     * previous batch again (skipped whole), and ranges across earlier boundaries
     * (partial: one by one), some with more than 1024 events of the busy account. */
    uint64_t x = 7;
    size_t pos = 0, prev_first = 0, prev_end = 0, n_batches = 0;
    size_t coalesced = 0, one_by_one = 0, skipped = 0, big_partial = 0, users_pruned = 0;
    size_t last_users[MS_ACCOUNTS] = {0};
    while (pos < MS_EVENTS) {
        size_t first = pos, end = pos + 1 + ds_rand(&x) % 300;
        int kind = (int)(ds_rand(&x) % 12);
        if (kind == 0 && pos > 0) {
            first = prev_first;
            end = prev_end;
        } else if (kind <= 2 && pos > 0) {
            first = pos - 1 - ds_rand(&x) % (pos < 400 ? pos : 400);
            if (kind == 2)
                end = first + 2600; /* the busy account's share exceeds one call */
        } else {
            pos = end < MS_EVENTS ? end : MS_EVENTS;
        }
        if (end > MS_EVENTS)
            end = MS_EVENTS;
        prev_first = first;
        prev_end = end;
        int32_t today = ms_clock[end - 1];
        int32_t clock_day = ds_rand(&x) % 10 == 0 ? 0 : today; /* sometimes unknown */
        size_t n = ms_group(first, end, clock_day, ev, sb);
        memcpy(mb, sb, n * sizeof *sb);
        memcpy(ob, sb, n * sizeof *sb);
        cr_assert_eq(cw_store_apply_load(st, &cfg, sb, n, today, loaded, err, sizeof err), 0, "%s",
                     err);
        cr_assert_eq(cw_store_apply_load(own, &cfg, ob, n, today, loaded_own, err, sizeof err), 0,
                     "%s", err);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(ob[i].applied, sb[i].applied, "batch %zu %s: owned applied %zu, %zu",
                         n_batches, sb[i].account_id, ob[i].applied, sb[i].applied);
            const char *why = mem_differs(&cfg, &loaded_own[i], &loaded[i]);
            cr_assert_str_eq(why, "", "batch %zu %s, owned: %s", n_batches, sb[i].account_id, why);
        }
        memcpy(ob, mb, n * sizeof *sb);
        cr_assert_eq(cw_store_apply_load(tiny, &cfg, ob, n, today, NULL, err, sizeof err), 0, "%s",
                     err);
        if (!have_slots) {
            redisReply *r = redis_server_command(&rs, "HGETALL mem:metrics");
            cr_assert(r && r->type == REDIS_REPLY_ARRAY);
            for (size_t m = 0; m < cfg.n_metrics; m++) {
                slots[m] = -1;
                for (size_t k = 0; k + 1 < r->elements; k += 2)
                    if (strcmp(r->element[k]->str, cfg.metrics[m].name) == 0)
                        slots[m] = atoi(r->element[k + 1]->str);
            }
            freeReplyObject(r);
            have_slots = true;
        }
        for (size_t i = 0; i < n; i++) {
            int a = mb[i].account_id[4] - '0';
            cr_assert_eq(cw_account_mem_apply(mem[a], &cfg, slots, &mb[i]), 0);
            cr_assert_eq(mb[i].applied, sb[i].applied, "batch %zu %s: applied %zu, store %zu",
                         n_batches, sb[i].account_id, mb[i].applied, sb[i].applied);
            cr_assert_eq(mb[i].coalesced, sb[i].coalesced, "batch %zu %s: coalesced", n_batches,
                         sb[i].account_id);
            coalesced += sb[i].coalesced && sb[i].applied > 0;
            skipped += sb[i].coalesced && sb[i].applied == 0;
            one_by_one += !sb[i].coalesced && sb[i].applied > 0;
            big_partial += !sb[i].coalesced && sb[i].applied > 0 && sb[i].n > 1024;
            cr_assert_eq(cw_account_mem_fill(mem[a], &cfg, slots, mb[i].account_id, today, &got),
                         0);
            const char *why = mem_differs(&cfg, &got, &loaded[i]);
            cr_assert_str_eq(why, "", "batch %zu (events %zu..%zu) %s: %s", n_batches, first, end,
                             sb[i].account_id, why);
        }
        /* Every account, rows on other days too (days the store keeps past the rows). */
        for (int a = 0; a < MS_ACCOUNTS; a++) {
            const int32_t days[] = {today - 20, today + 3};
            for (size_t k = 0; k < 2; k++) {
                const char *id = ms_acct[a];
                cr_assert_eq(cw_store_load(st, &cfg, &id, 1, days[k], &want, err, sizeof err), 0,
                             "%s", err);
                cr_assert_eq(cw_account_mem_fill(mem[a], &cfg, slots, id, days[k], &got), 0);
                const char *why = mem_differs(&cfg, &got, &want);
                cr_assert_str_eq(why, "", "after batch %zu, %s on day %d: %s", n_batches, id,
                                 days[k], why);
            }
            users_pruned += want.n_users < last_users[a];
            last_users[a] = want.n_users;
        }
        n_batches++;
    }
    cr_log_info("%zu batches: per account %zu applied whole, %zu one by one (%zu over one "
                "call), %zu skipped; %zu times users left the horizon",
                n_batches, coalesced, one_by_one, big_partial, skipped, users_pruned);
    cr_assert_gt(coalesced, 50, "coalesced %zu", coalesced);
    cr_assert_gt(one_by_one, 5, "one by one %zu", one_by_one);
    cr_assert_gt(skipped, 5, "skipped %zu", skipped);
    cr_assert_gt(big_partial, 0, "no partial batch over one call's events");
    cr_assert_gt(users_pruned, 0, "no user left the horizon");

    /* What the owning stores wrote back is what cw_apply_delta and cw_apply wrote. */
    char *want_dump = dump_prefix("mem:"), *own_dump = dump_prefix("own:"),
         *tiny_dump = dump_prefix("tiny:");
    cr_assert_gt(strlen(want_dump), 1000);
    cr_assert(strcmp(want_dump, own_dump) == 0, "owned in memory: the stored state differs");
    cr_assert(strcmp(want_dump, tiny_dump) == 0, "owned, tiny budget: the stored state differs");
    free(want_dump);
    free(own_dump);
    free(tiny_dump);
    struct cw_store_cache_stats cs;
    cw_store_cache_stats(own, &cs);
    cr_assert_eq(cs.misses, MS_ACCOUNTS);
    cr_assert_eq(cs.evictions, 0);
    cw_store_cache_stats(tiny, &cs);
    cr_log_info("tiny budget: %llu hits, %llu misses, %llu evictions, %zu entries",
                (unsigned long long)cs.hits, (unsigned long long)cs.misses,
                (unsigned long long)cs.evictions, cs.entries);
    cr_assert_gt(cs.evictions, 50);
    cr_assert_leq(cs.bytes, cs.budget + 40000); /* the pinned busy account may exceed it */
    cw_store_close(own);
    cw_store_close(tiny);
    for (size_t i = 0; i < MS_ACCOUNTS; i++)
        cw_account_data_free(&loaded_own[i]);
    for (int a = 0; a < MS_ACCOUNTS; a++)
        cw_account_mem_free(mem[a]);
    for (size_t i = 0; i < MS_ACCOUNTS; i++)
        cw_account_data_free(&loaded[i]);
    cw_account_data_free(&got);
    cw_account_data_free(&want);
    cw_store_close(st);
}

/* ---- authentication ------------------------------------------------------------------- */

TestSuite(store_auth, .fini = teardown, .timeout = 60);

Test(store_auth, acl_user)
{
    const char *acl[] = {"--user",   "default", "off", "--user", "alice", "on",
                         ">alicepw", "~*",      "&*",  "+@all",  NULL};
    rs.admin_user = "alice";
    rs.admin_pass = "alicepw";
    cr_assert_eq(redis_server_start(&rs, acl, 0), 0);
    char url[200];
    snprintf(url, sizeof url, "redis://alice:alicepw@127.0.0.1:%d/0", rs.port);
    config_init(url);
    cw_store *st = open_store();
    struct batch_buf b = {0};
    add_event(&b, "acme", "u1", T_LOGIN, DAY0, 0, "ev", 0, 1);
    cr_assert_eq(apply1(st, &b, "acme", 0, 1), 1);
    cr_assert_eq(cw_store_ping(st, err, sizeof err), 0, "%s", err);
    cw_store_close(st);

    /* no credentials: refused */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rs.port);
    cr_assert_null(cw_store_open(&cfg.redis, err, sizeof err));
    /* wrong password: refused, not shown */
    snprintf(url, sizeof url, "redis://alice:n0tThis@127.0.0.1:%d/0", rs.port);
    cr_assert_null(cw_store_open(&cfg.redis, err, sizeof err));
    cr_assert_null(strstr(err, "n0tThis"), "%s", err);
    cr_assert_not_null(strstr(err, "alice"), "%s", err);

    /* the configuration's resolved password (redis.password_file, CHURNWATCH_REDIS_PASSWORD)
     * overrides the URL's; a password the target cannot hold is refused, not shown */
    char pw[600] = "alicepw";
    cfg.redis.password = pw;
    cw_store *st2 = cw_store_open(&cfg.redis, err, sizeof err);
    cr_assert_not_null(st2, "%s", err);
    cw_store_close(st2);
    memset(pw, 'x', sizeof pw - 1);
    pw[sizeof pw - 1] = '\0';
    cr_assert_null(cw_store_open(&cfg.redis, err, sizeof err));
    cr_assert_not_null(strstr(err, "longer than"), "%s", err);
    cr_assert_null(strstr(err, "xxxx"), "%s", err);
    cfg.redis.password = NULL;
}

Test(store_auth, requirepass)
{
    const char *args[] = {"--requirepass", "onlypw", NULL};
    rs.admin_user = NULL;
    rs.admin_pass = "onlypw";
    cr_assert_eq(redis_server_start(&rs, args, 0), 0);
    char url[200];
    snprintf(url, sizeof url, "redis://:onlypw@127.0.0.1:%d/0", rs.port);
    config_init(url);
    cw_store *st = open_store();
    cr_assert_eq(cw_store_rescore_request(st, 1, err, sizeof err), 0, "%s", err);
    cw_store_close(st);
}

/* ---- pure parts: URL parser, codecs ------------------------------------------------------- */

Test(store_pure, url_parse)
{
    struct cw_redis_target t;
    cr_assert_eq(cw_redis_url_parse("redis://localhost", &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.host, "localhost");
    cr_assert_eq(t.port, 6379);
    cr_assert_eq(t.db, 0);
    cr_assert_not(t.has_password);
    cr_assert_eq(cw_redis_url_parse("redis://bob:p%40ss:w@h.example:7000/5", &t, err, sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(t.user, "bob");
    cr_assert_str_eq(t.password, "p@ss:w");
    cr_assert_str_eq(t.host, "h.example");
    cr_assert_eq(t.port, 7000);
    cr_assert_eq(t.db, 5);
    cr_assert_eq(cw_redis_url_parse("redis://:pw@[::1]:6380", &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.user, "");
    cr_assert_str_eq(t.password, "pw");
    cr_assert_str_eq(t.host, "::1");
    cr_assert_eq(t.port, 6380);
    cr_assert_eq(cw_redis_url_parse("unix:///run/redis.sock?db=2", &t, err, sizeof err), 0);
    cr_assert(t.unix_socket);
    cr_assert_str_eq(t.path, "/run/redis.sock");
    cr_assert_eq(t.db, 2);
    cr_assert_eq(cw_redis_url_parse("redis://h:6379/?db=4", &t, err, sizeof err), 0, "%s", err);
    cr_assert(!t.cluster);
    cr_assert_eq(t.db, 4);
    cr_assert_eq(
        cw_redis_url_parse("redis-cluster://u:s%40cret@a:7000,[::1]:7001,b", &t, err, sizeof err),
        0, "%s", err);
    cr_assert(t.cluster);
    cr_assert_eq(t.n_seeds, 3);
    cr_assert_str_eq(t.seeds[0].host, "a");
    cr_assert_eq(t.seeds[0].port, 7000);
    cr_assert_str_eq(t.seeds[1].host, "::1");
    cr_assert_eq(t.seeds[1].port, 7001);
    cr_assert_str_eq(t.seeds[2].host, "b");
    cr_assert_eq(t.seeds[2].port, 6379);
    cr_assert_str_eq(t.host, "a");
    cr_assert_str_eq(t.user, "u");
    cr_assert_str_eq(t.password, "s@cret");
    cr_assert(!t.tls);
    cr_assert_eq(cw_redis_url_parse("rediss://:pw@localhost:6380/2", &t, err, sizeof err), 0, "%s",
                 err);
    cr_assert(t.tls);
    cr_assert(!t.cluster);
    cr_assert_str_eq(t.host, "localhost");
    cr_assert_eq(t.port, 6380);
    cr_assert_eq(t.db, 2);
    cr_assert_eq(cw_redis_url_parse("rediss-cluster://a:7000,b:7001", &t, err, sizeof err), 0, "%s",
                 err);
    cr_assert(t.tls);
    cr_assert(t.cluster);
    cr_assert_eq(t.n_seeds, 2);

    const char *bad[] = {"",
                         "http://h",
                         "redis://",
                         "redis://h:0",
                         "redis://h:65536",
                         "redis://h:12x",
                         "redis://h/abc",
                         "redis://h?x=1",
                         "redis://[::1",
                         "unix://relative/path",
                         "unix://",
                         "rediss://",
                         "rediss-cluster://",
                         "rediss-cluster://h:1/0",
                         "redisss://h",
                         "redis-cluster://",
                         "redis-cluster://h:1,",
                         "redis-cluster://h:1,,h:2",
                         "redis-cluster://h:1/0",
                         "redis-cluster://h:1?db=1",
                         "redis-cluster://h:0",
                         "redis://u:bad%zzpw@h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(cw_redis_url_parse(bad[i], &t, err, sizeof err), -1, "accepted %s", bad[i]);
        cr_assert_neq(err[0], '\0');
        cr_assert_null(strstr(err, "zzpw"), "%s", err);
    }
}

Test(store_pure, rule_state_round_trip)
{
    struct cw_rule_state states[] = {
        {0},
        {.status = CW_RULE_PENDING, .since_ms = 1700000000123},
        {.status = CW_RULE_FIRING,
         .since_ms = 1,
         .cleared_ms = 2,
         .last_sent_ms = 3,
         .published = true,
         .alert_id = "0123456789abcdef0123456789abcdef"},
        {.status = CW_RULE_FIRING, .since_ms = INT64_MAX, .cleared_ms = -5, .alert_id = "ab"},
    };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        char enc[160];
        struct cw_rule_state back;
        cw_rule_state_encode(&states[i], enc, sizeof enc);
        cr_assert_eq(cw_rule_state_decode(enc, &back), 0, "%s", enc);
        cr_assert_eq(back.status, states[i].status);
        cr_assert_eq(back.since_ms, states[i].since_ms);
        cr_assert_eq(back.cleared_ms, states[i].cleared_ms);
        cr_assert_eq(back.last_sent_ms, states[i].last_sent_ms);
        cr_assert_eq(back.published, states[i].published);
        cr_assert_str_eq(back.alert_id, states[i].alert_id);
        cr_assert_lt(strlen(enc), 100);
    }
    char enc[160];
    cw_rule_state_encode(&states[2], enc, sizeof enc);
    cr_assert_str_eq(enc, "F|1|2|3|1|0123456789abcdef0123456789abcdef");
    const char *bad[] = {"",
                         "X|0|0|0|0|",
                         "F|0|0|0|0",
                         "F|a|0|0|0|",
                         "F|0|0|0|2|",
                         "F|0|0|0|0|XYZ",
                         "F|0|0|0|0|0123456789abcdef0123456789abcdef0",
                         "F|99999999999999999999|0|0|0|",
                         "O"};
    struct cw_rule_state s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cw_rule_state_decode(bad[i], &s), -1, "accepted %s", bad[i]);
}

Test(store_pure, silence_value_and_counters)
{
    struct cw_silence s = {.until_ms = 99, .created_ms = -1, .reason = "a|b|c"};
    char v[400];
    cw_silence_value_encode(&s, v, sizeof v);
    cr_assert_str_eq(v, "99|-1|a|b|c");
    struct cw_silence back;
    memset(&back, 0, sizeof back);
    cr_assert_eq(cw_silence_value_decode(v, strlen(v), &back), 0);
    cr_assert_eq(back.until_ms, 99);
    cr_assert_eq(back.created_ms, -1);
    cr_assert_str_eq(back.reason, "a|b|c");
    cr_assert_eq(cw_silence_value_decode("12|x|r", 6, &back), -1);
    cr_assert_eq(cw_silence_value_decode("12", 2, &back), -1);
    const char packed[8] = {1, 0, 0, 0, (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    cr_assert_eq(cw_counters_get(packed, 8, 0), 1);
    cr_assert_eq(cw_counters_get(packed, 8, 1), UINT32_MAX);
    cr_assert_eq(cw_counters_get(packed, 8, 2), 0);
    cr_assert_eq(cw_counters_get(packed, 7, 1), 0);
    cr_assert_eq(cw_counters_get(packed, 8, -1), 0);
}
