/* test_account_mem.c - batches applied to an account's state in memory (account_mem.c) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_mem.h"
#include "churnwatch/window.h"

#define D0 20400 /* a local day number */

/* Rows of 28 days, 2 days of lateness: 32 days kept behind the newest day. */
static struct cw_window windows[] = {{"short", 7}, {"long", 28}};
static struct cw_metric metrics[] = {
    {"active_users", true, false}, {"logins", false, false}, {"apps", false, false}};
enum { T_LOGIN, T_APP, T_TRAITS, T_PROFILE };
static struct cw_event_type types[] = {
    {"login", {NULL, 0}, 1, false, {NULL, 0}},
    {"app_created", {NULL, 0}, 2, false, {NULL, 0}},
    {"account_updated", {NULL, 0}, -1, true, {NULL, 0}}, /* traits only: not activity */
    {"profile", {NULL, 0}, 1, true, {NULL, 0}},          /* counts as a login and carries traits */
};
/* Stable slots other than the metric indexes, as a store that saw other configs has. */
static const int slots[] = {-1, 3, 0};
static struct cw_config cfg;

static void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.lateness_ms = 2 * CW_MS_PER_DAY;
    cfg.windows = windows;
    cfg.n_windows = 2;
    cfg.longest_window_days = 28;
    cfg.metrics = metrics;
    cfg.n_metrics = 3;
    cfg.event_types = types;
    cfg.n_event_types = 4;
}

TestSuite(account_mem, .init = setup);

struct evs {
    struct cw_store_event e[64];
    struct cw_traits tr[64];
    size_t n;
};

static int64_t ms(int32_t day, int64_t in_day)
{
    return (int64_t)day * CW_MS_PER_DAY + in_day;
}

static struct cw_store_event *add(struct evs *v, const char *user, int type, int32_t day,
                                  int64_t in_day, int32_t partition, int64_t offset)
{
    cr_assert_lt(v->n, 64);
    struct cw_store_event *e = &v->e[v->n++];
    *e = (struct cw_store_event){.user_id = user,
                                 .ts_ms = ms(day, in_day),
                                 .day = day,
                                 .type_index = type,
                                 .metric = type < T_PROFILE + 1 ? types[type].metric : -1,
                                 .topic = "ev",
                                 .partition = partition,
                                 .offset = offset};
    return e;
}

static struct cw_traits *add_traits(struct evs *v, int type, int64_t ts_ms, int64_t offset)
{
    struct cw_store_event *e = add(v, "", type, D0, 0, 0, offset);
    e->ts_ms = ts_ms;
    struct cw_traits *t = &v->tr[v->n - 1];
    memset(t, 0, sizeof *t);
    e->traits = t;
    return t;
}

/* Apply events [first, first + n) of v as one batch; returns the batch's outcome. */
static struct cw_store_batch apply(struct cw_account_mem *a, struct evs *v, size_t first, size_t n,
                                   int32_t clock_day)
{
    struct cw_store_batch b = {
        .account_id = "acme", .events = v->e + first, .n = n, .clock_day = clock_day};
    cr_assert_eq(cw_account_mem_apply(a, &cfg, slots, &b), 0);
    return b;
}

static void fill(const struct cw_account_mem *a, int32_t today, struct cw_account_data *d)
{
    cr_assert_eq(cw_account_mem_fill(a, &cfg, slots, "acme", today, d), 0);
}

static uint32_t daily(const struct cw_account_data *d, int metric, int32_t day)
{
    cr_assert_leq(day, d->today);
    cr_assert_lt(d->today - day, (int32_t)d->horizon);
    return d->daily[(size_t)metric * d->horizon + (size_t)(d->today - day)];
}

static uint64_t daily_sum(const struct cw_account_data *d)
{
    uint64_t s = 0;
    for (size_t i = 0; i < d->n_metrics * d->horizon; i++)
        s += d->daily[i];
    return s;
}

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* The users' last days, sorted, as "d1 d2 ..." relative to D0. */
static const char *users(struct cw_account_data *d)
{
    static char out[256];
    qsort(d->user_last_day, d->n_users, sizeof *d->user_last_day, cmp_i32);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d->n_users; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%d", i ? " " : "",
                                d->user_last_day[i] - D0);
    return out;
}

Test(account_mem, counters_by_day_and_slot_users_and_times)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 1000, 0, 10);
    add(&v, "u2", T_LOGIN, D0, 5000, 0, 11);
    add(&v, "u1", T_LOGIN, D0, 3000, 0, 12);
    add(&v, "u2", T_APP, D0, 4000, 0, 13);
    add(&v, "u3", T_LOGIN, D0 - 2, 2000, 0, 14);
    add(&v, "", T_LOGIN, D0 - 2, 9000, 0, 15); /* no user: counted, no user */
    add(&v, "u9", T_TRAITS, D0, 99000, 0, 16); /* no traits carried: only its type's time */
    struct cw_store_batch b = apply(a, &v, 0, v.n, D0);
    cr_assert(b.coalesced);
    cr_assert_eq(b.applied, 7);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 0), 16);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 1), -1);

    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(a, D0, &d);
    cr_assert_str_eq(d.account_id, "acme");
    cr_assert(d.exists);
    cr_assert_eq(d.today, D0);
    cr_assert_eq(d.horizon, 28);
    cr_assert_eq(d.n_metrics, 3);
    cr_assert_eq(daily(&d, 1, D0), 3);
    cr_assert_eq(daily(&d, 2, D0), 1);
    cr_assert_eq(daily(&d, 1, D0 - 2), 2);
    cr_assert_eq(daily(&d, 0, D0), 0, "a built-in metric has no slot");
    cr_assert_eq(daily_sum(&d), 6);
    cr_assert_eq(d.first_day, D0 - 2);
    cr_assert_eq(d.last_seen_ms, ms(D0, 5000));
    cr_assert_str_eq(users(&d), "-2 0 0");
    cr_assert_eq(d.n_event_types, 4);
    cr_assert_eq(d.type_last_ms[T_LOGIN], ms(D0, 5000));
    cr_assert_eq(d.type_last_ms[T_APP], ms(D0, 4000));
    cr_assert_eq(d.type_last_ms[T_TRAITS], ms(D0, 99000));
    cr_assert_eq(d.type_last_ms[T_PROFILE], -1);
    cr_assert_not(d.traits.has_seats);

    /* A later batch adds to the same day and slot; u3's newest day moves, u1's does not
     * go back; rows are relative to the day asked for. */
    add(&v, "u3", T_LOGIN, D0, 100, 0, 17);
    add(&v, "u1", T_APP, D0 - 5, 100, 0, 18);
    b = apply(a, &v, 7, 2, D0);
    cr_assert(b.coalesced);
    cr_assert_eq(b.applied, 2);
    fill(a, D0 + 1, &d);
    cr_assert_eq(d.today, D0 + 1);
    cr_assert_eq(daily(&d, 1, D0), 4);
    cr_assert_eq(daily(&d, 2, D0 - 5), 1);
    cr_assert_eq(daily(&d, 1, D0 - 2), 2);
    cr_assert_eq(daily_sum(&d), 8);
    cr_assert_eq(d.first_day, D0 - 5);
    cr_assert_eq(d.last_seen_ms, ms(D0, 5000), "an older event does not move last_seen");
    cr_assert_str_eq(users(&d), "0 0 0");
    cr_assert_eq(d.type_last_ms[T_APP], ms(D0, 4000));

    /* Days after the one asked for are not in the rows. */
    fill(a, D0 - 1, &d);
    cr_assert_eq(daily_sum(&d), 3);
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

/* An account's event types are kept by name, with the config's index as a hint only: after a
 * reload that reorders the types, the times are filled by name, and an event of a type
 * still updates that type's time (no second entry for the name). */
Test(account_mem, event_types_found_by_name_after_a_reload_reorders_them)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 1000, 0, 10);
    add(&v, "u1", T_APP, D0, 2000, 0, 11);
    apply(a, &v, 0, v.n, D0);

    static struct cw_event_type reordered[] = {
        {"app_created", {NULL, 0}, 2, false, {NULL, 0}},
        {"profile", {NULL, 0}, 1, true, {NULL, 0}},
        {"login", {NULL, 0}, 1, false, {NULL, 0}},
        {"account_updated", {NULL, 0}, -1, true, {NULL, 0}},
    };
    cfg.event_types = reordered;
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(a, D0, &d);
    cr_assert_eq(d.type_last_ms[0], ms(D0, 2000), "app_created");
    cr_assert_eq(d.type_last_ms[1], -1, "profile");
    cr_assert_eq(d.type_last_ms[2], ms(D0, 1000), "login");
    cr_assert_eq(d.type_last_ms[3], -1, "account_updated");

    /* a login under the new order: index 2, where the hint says app_created's was 1 */
    struct cw_store_event *e = add(&v, "u2", T_LOGIN, D0, 5000, 0, 12);
    e->type_index = 2;
    apply(a, &v, 2, 1, D0);
    fill(a, D0, &d);
    cr_assert_eq(d.type_last_ms[2], ms(D0, 5000), "login moved on");
    cr_assert_eq(d.type_last_ms[0], ms(D0, 2000), "app_created did not");

    /* and back in the first order, both still found */
    cfg.event_types = types;
    fill(a, D0, &d);
    cr_assert_eq(d.type_last_ms[T_LOGIN], ms(D0, 5000));
    cr_assert_eq(d.type_last_ms[T_APP], ms(D0, 2000));
    struct cw_rcmd args = {0};
    cw_account_mem_put_args(a, false, &args);
    size_t logins = 0;
    for (size_t k = 0; k < args.n; k++)
        logins += strcmp(cw_rcmd_arg(&args, k), "t:login") == 0;
    cr_assert_eq(logins, 1, "one t:login field written");
    cw_rcmd_free(&args);
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, replays_are_skipped_whole_partly_and_per_source)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    for (int i = 0; i < 10; i++)
        add(&v, i % 2 ? "u1" : "u2", T_LOGIN, D0, i, 0, i);
    for (int i = 0; i < 4; i++)
        add(&v, "u3", T_APP, D0 - 1, i, 1, 100 + i);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);

    struct cw_store_batch b = apply(a, &v, 0, 5, D0); /* offsets 0..4 of partition 0 */
    cr_assert(b.coalesced);
    cr_assert_eq(b.applied, 5);
    b = apply(a, &v, 0, 5, D0); /* the same again: all applied before */
    cr_assert(b.coalesced);
    cr_assert_eq(b.applied, 0);
    fill(a, D0, &d);
    cr_assert_eq(daily(&d, 1, D0), 5);

    b = apply(a, &v, 3, 7, D0); /* 3..9: overlaps, one by one, 5 new */
    cr_assert_not(b.coalesced);
    cr_assert_eq(b.applied, 5);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 0), 9);
    fill(a, D0, &d);
    cr_assert_eq(daily(&d, 1, D0), 10);

    /* partition 0 all replayed, partition 1 all new: one by one too */
    b = apply(a, &v, 6, 8, D0);
    cr_assert_not(b.coalesced);
    cr_assert_eq(b.applied, 4);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 1), 103);
    fill(a, D0, &d);
    cr_assert_eq(daily(&d, 1, D0), 10);
    cr_assert_eq(daily(&d, 2, D0 - 1), 4);
    cr_assert_eq(daily_sum(&d), 14);
    cr_assert_str_eq(users(&d), "-1 0 0");

    /* Offsets below the watermark inside a partial batch are skipped one by one, and a
     * replayed event does not move the type's time. */
    struct evs w = {0};
    add(&w, "u4", T_APP, D0, 50000, 1, 102); /* replay (watermark 103) */
    add(&w, "u5", T_LOGIN, D0, 10, 1, 104);
    add(&w, "u6", T_APP, D0, 60000, 1, 101); /* replay */
    b = apply(a, &w, 0, w.n, D0);
    cr_assert_not(b.coalesced);
    cr_assert_eq(b.applied, 1);
    fill(a, D0, &d);
    cr_assert_eq(daily(&d, 1, D0), 11);
    cr_assert_eq(daily(&d, 2, D0), 0);
    cr_assert_eq(d.type_last_ms[T_APP], ms(D0 - 1, 3));
    cr_assert_str_eq(users(&d), "-1 0 0 0");
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 1), 104);
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, traits_newest_time_wins_fields_not_carried_are_kept)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    struct cw_traits *t = add_traits(&v, T_TRAITS, 2000, 1);
    t->has_seats = true;
    t->seats = 10;
    snprintf(t->plan, sizeof t->plan, "gold");
    t = add_traits(&v, T_TRAITS, 1000, 2); /* older than the last winner: ignored */
    snprintf(t->plan, sizeof t->plan, "silver");
    t->has_created_at = true;
    t->created_at_ms = 5;
    t = add_traits(&v, T_TRAITS, 2000, 3); /* as new: wins, carries only the segment */
    snprintf(t->segment, sizeof t->segment, "S");
    struct cw_store_batch b = apply(a, &v, 0, 3, D0);
    cr_assert(b.coalesced);
    cr_assert_eq(b.applied, 3);

    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(a, D0, &d);
    cr_assert(d.exists, "traits events alone make the account");
    cr_assert_eq(d.first_day, CW_DAY_NONE, "a traits-only event is not activity");
    cr_assert_eq(d.last_seen_ms, -1);
    cr_assert_eq(d.n_users, 0);
    cr_assert_eq(d.type_last_ms[T_TRAITS], 2000);
    cr_assert(d.traits.has_seats);
    cr_assert_eq(d.traits.seats, 10);
    cr_assert_str_eq(d.traits.plan, "gold");
    cr_assert_str_eq(d.traits.segment, "S");
    cr_assert_not(d.traits.has_created_at);

    /* A later batch: an older traits event loses, then a newer one with the owner, then
     * one with negative seats (stored, but a load keeps seats >= 0 only). */
    t = add_traits(&v, T_TRAITS, 1500, 4);
    snprintf(t->owner, sizeof t->owner, "old");
    t = add_traits(&v, T_PROFILE, 3000, 5); /* traits and a login */
    v.e[4].user_id = "u1";
    snprintf(t->owner, sizeof t->owner, "ann");
    t->has_renewal_at = true;
    t->renewal_at_ms = 77;
    b = apply(a, &v, 3, 2, D0);
    cr_assert_eq(b.applied, 2);
    fill(a, D0, &d);
    cr_assert_str_eq(d.traits.owner, "ann");
    cr_assert_str_eq(d.traits.plan, "gold");
    cr_assert(d.traits.has_renewal_at);
    cr_assert_eq(d.traits.renewal_at_ms, 77);
    cr_assert_eq(d.first_day, D0);
    cr_assert_eq(daily(&d, 1, D0), 1);
    cr_assert_eq(d.last_seen_ms, 3000);

    t = add_traits(&v, T_TRAITS, 4000, 6);
    t->has_seats = true;
    t->seats = -3;
    apply(a, &v, 5, 1, D0);
    fill(a, D0, &d);
    cr_assert_not(d.traits.has_seats);
    cr_assert_eq(d.traits.seats, 0);
    t = add_traits(&v, T_TRAITS, 4000, 7); /* the same time again: wins */
    snprintf(t->plan, sizeof t->plan, "free");
    apply(a, &v, 6, 1, D0);
    fill(a, D0, &d);
    cr_assert_str_eq(d.traits.plan, "free");
    cr_assert_not(d.traits.has_seats, "the negative seats were kept, not the older 10");
    cr_assert_str_eq(d.traits.owner, "ann");
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, horizon_prunes_days_and_users_when_the_last_day_moves)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 0, 0, 1);
    add(&v, "u2", T_LOGIN, D0 + 31, 0, 0, 2);
    add(&v, "u3", T_LOGIN, D0 + 32, 0, 0, 3);
    add(&v, "u4", T_LOGIN, D0 + 1, 0, 0, 4);
    add(&v, "u5", T_LOGIN, D0 - 5, 0, 0, 5);
    add(&v, "u6", T_APP, D0, 0, 0, 6);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);

    apply(a, &v, 0, 1, 0);
    apply(a, &v, 1, 1, 0); /* last day D0+31: oldest kept D0+31-32 = D0-1, D0 stays */
    fill(a, D0 + 27, &d);  /* rows D0..D0+27 */
    cr_assert_eq(daily(&d, 1, D0), 1);
    cr_assert_str_eq(users(&d), "0 31");

    apply(a, &v, 2, 1, 0); /* last day D0+32: D0 and u1 leave */
    fill(a, D0 + 27, &d);
    cr_assert_eq(daily(&d, 1, D0), 0);
    cr_assert_eq(daily_sum(&d), 0);
    cr_assert_str_eq(users(&d), "31 32");
    cr_assert_eq(d.first_day, D0, "first_day is never pruned");

    /* D0+1 is inside (> D0+32-32); D0 (the oldest day dropped) and D0-5 are outside: not
     * counted, no user, but the events are applied (watermark, first_day). */
    struct cw_store_batch b = apply(a, &v, 3, 3, 0);
    cr_assert_eq(b.applied, 3);
    fill(a, D0 + 28, &d);
    cr_assert_eq(daily(&d, 1, D0 + 1), 1);
    cr_assert_eq(daily_sum(&d), 1);
    cr_assert_str_eq(users(&d), "1 31 32");
    cr_assert_eq(d.first_day, D0 - 5);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 0), 6);
    fill(a, D0 + 20, &d);
    cr_assert_eq(daily(&d, 2, D0), 0);
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

/* The bytes an account takes count each user's id while the user is held: two accounts fed
 * the same events, one with ids 100 bytes longer, differ by 100 bytes a user held, and by
 * nothing more once the users have been pruned. */
Test(account_mem, bytes_count_the_ids_of_the_users_held)
{
    struct cw_account_mem *shrt = cw_account_mem_new(), *lng = cw_account_mem_new();
    struct evs vs = {0}, vl = {0};
    char ids[3][2][128];
    for (int u = 0; u < 3; u++) {
        snprintf(ids[u][0], sizeof ids[u][0], "user-%d", u);
        snprintf(ids[u][1], sizeof ids[u][1], "user-%d-%099d", u, 0); /* 100 longer */
        add(&vs, ids[u][0], T_LOGIN, D0 + u, 0, 0, 1 + u);
        add(&vl, ids[u][1], T_LOGIN, D0 + u, 0, 0, 1 + u);
    }
    add(&vs, ids[0][0], T_LOGIN, D0 + 2, 5, 0, 4); /* user 0 again: no new id */
    add(&vl, ids[0][1], T_LOGIN, D0 + 2, 5, 0, 4);
    add(&vs, "late", T_LOGIN, D0 + 34, 0, 0, 5); /* pushes D0 .. D0+2 out */
    add(&vl, "late", T_LOGIN, D0 + 34, 0, 0, 5);

    apply(shrt, &vs, 0, 1, 0);
    apply(lng, &vl, 0, 1, 0);
    cr_assert_eq(cw_account_mem_bytes(lng) - cw_account_mem_bytes(shrt), 100);
    apply(shrt, &vs, 1, 3, 0);
    apply(lng, &vl, 1, 3, 0);
    cr_assert_eq(cw_account_mem_bytes(lng) - cw_account_mem_bytes(shrt), 300);
    apply(shrt, &vs, 4, 1, 0);
    apply(lng, &vl, 4, 1, 0);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(lng, D0 + 34, &d);
    cr_assert_str_eq(users(&d), "34", "the three users pruned");
    cr_assert_eq(cw_account_mem_bytes(lng), cw_account_mem_bytes(shrt));
    /* and the names of the sources and types held: a topic of 40 more bytes, a new type */
    struct evs more = {0};
    add(&more, "late", T_LOGIN, D0 + 34, 1, 0, 6)->topic =
        "ev-0123456789012345678901234567890123456789";
    size_t before = cw_account_mem_bytes(lng);
    apply(lng, &more, 0, 1, 0);
    cr_assert_eq(cw_account_mem_bytes(lng) - before, 43 + 1 + 16, "the new source's topic: %zu",
                 cw_account_mem_bytes(lng) - before);
    add(&more, "late", T_APP, D0 + 34, 2, 0, 7);
    before = cw_account_mem_bytes(lng);
    apply(lng, &more, 1, 1, 0);
    cr_assert_eq(cw_account_mem_bytes(lng) - before, strlen("app_created") + 1 + 16,
                 "the new type's name: %zu", cw_account_mem_bytes(lng) - before);
    cw_account_data_free(&d);
    cw_account_mem_free(shrt);
    cw_account_mem_free(lng);
}

Test(account_mem, horizon_never_reaches_past_the_clock_day)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 0, 0, 1);
    add(&v, "u2", T_LOGIN, D0 + 40, 0, 0, 2);
    add(&v, "u3", T_LOGIN, D0 + 41, 0, 0, 3);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    apply(a, &v, 0, 1, D0);
    /* ahead of the clock (D0+10): the reference is the clock day, D0 stays */
    apply(a, &v, 1, 1, D0 + 10);
    fill(a, D0 + 10, &d);
    cr_assert_eq(daily(&d, 1, D0), 1);
    cr_assert_str_eq(users(&d), "0 40");
    /* the clock reached D0+33: D0 leaves when the last day moves again */
    apply(a, &v, 2, 1, D0 + 33);
    fill(a, D0 + 10, &d);
    cr_assert_eq(daily(&d, 1, D0), 0);
    cr_assert_str_eq(users(&d), "40 41");
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, days_left_behind_stay_until_the_last_day_moves)
{
    /* Pruning happens only when the last day advances: a day the reference (min(clock
     * day, last day)) passed while the last day stood still is kept, though a new event
     * of that age is no longer counted. */
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 0, 0, 1);
    add(&v, "u2", T_LOGIN, D0 + 40, 0, 0, 2);
    add(&v, "u3", T_LOGIN, D0 + 39, 0, 0, 3);
    add(&v, "u4", T_LOGIN, D0 + 5, 0, 0, 4);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    apply(a, &v, 0, 1, D0);
    apply(a, &v, 1, 1, D0 + 10); /* reference D0+10: oldest kept D0-22 */
    apply(a, &v, 2, 2, D0 + 40); /* reference D0+40: D0+8, the last day did not move */
    fill(a, D0 + 20, &d);
    cr_assert_eq(daily(&d, 1, D0), 1);
    cr_assert_eq(daily(&d, 1, D0 + 5), 0);
    cr_assert_eq(daily_sum(&d), 1);
    cr_assert_str_eq(users(&d), "0 39 40");
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, unusable_events_change_nothing)
{
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 0, 0, -1);      /* no offset */
    add(&v, "u1", T_LOGIN, D0, 0, -1, 3);      /* no partition */
    add(&v, "u1", 7, D0, 0, 0, 4)->metric = 1; /* unknown type */
    add(&v, "u1", T_LOGIN, D0, 0, 0, 5)->topic = NULL;
    add(&v, "u1", T_LOGIN, D0, 0, 0, 6)->user_id = NULL;
    struct cw_store_batch b = apply(a, &v, 0, v.n, D0);
    cr_assert_eq(b.applied, 0);
    cr_assert_not(b.coalesced);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(a, D0, &d);
    cr_assert_not(d.exists);
    cr_assert_eq(d.first_day, CW_DAY_NONE);
    cr_assert_eq(d.last_seen_ms, -1);
    cr_assert_eq(daily_sum(&d), 0);
    cr_assert_eq(d.n_users, 0);
    for (size_t t = 0; t < d.n_event_types; t++)
        cr_assert_eq(d.type_last_ms[t], -1);
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 0), -1);

    /* the usable one among them is applied */
    add(&v, "u1", T_APP, D0, 7, 0, 8);
    b = apply(a, &v, 0, v.n, D0);
    cr_assert_eq(b.applied, 1);
    cr_assert(b.coalesced);
    fill(a, D0, &d);
    cr_assert(d.exists);
    cr_assert_eq(daily(&d, 2, D0), 1);
    cr_assert_eq(daily_sum(&d), 1);
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

Test(account_mem, a_large_partial_batch_crossing_the_horizon)
{
    /* One by one (a partial replay), the store sends 1024 events per call: here the
     * first call counts D0 and the second moves the last day 40 days on, pruning D0 and
     * the user seen only then. */
    struct cw_account_mem *a = cw_account_mem_new();
    static struct cw_store_event e[1100];
    for (int i = 0; i < 1100; i++)
        e[i] = (struct cw_store_event){.user_id = i == 6 ? "early" : "u",
                                       .ts_ms = ms(i < 1024 ? D0 : D0 + 40, i),
                                       .day = i < 1024 ? D0 : D0 + 40,
                                       .type_index = T_LOGIN,
                                       .metric = 1,
                                       .topic = "ev",
                                       .partition = 0,
                                       .offset = 10 + i};
    struct cw_store_batch b = {.account_id = "acme", .events = e + 5, .n = 1, .clock_day = D0};
    cr_assert_eq(cw_account_mem_apply(a, &cfg, slots, &b), 0);
    struct cw_account_data d;
    memset(&d, 0, sizeof d);
    fill(a, D0, &d);
    cr_assert_eq(daily(&d, 1, D0), 1);

    b = (struct cw_store_batch){.account_id = "acme", .events = e, .n = 1100, .clock_day = D0 + 40};
    cr_assert_eq(cw_account_mem_apply(a, &cfg, slots, &b), 0);
    cr_assert_not(b.coalesced);
    cr_assert_eq(b.applied, 1100 - 6, "offsets 10..15 were applied before");
    cr_assert_eq(cw_account_mem_watermark(a, "ev", 0), 1109);
    fill(a, D0 + 27, &d);
    cr_assert_eq(daily(&d, 1, D0), 0);
    cr_assert_eq(daily_sum(&d), 0);
    fill(a, D0 + 40, &d);
    cr_assert_eq(daily(&d, 1, D0 + 40), 1100 - 1024);
    cr_assert_eq(daily_sum(&d), 1100 - 1024);
    cr_assert_str_eq(users(&d), "40");
    cr_assert_eq(d.first_day, D0);
    cr_assert_eq(d.last_seen_ms, ms(D0 + 40, 1099));
    cw_account_data_free(&d);
    cw_account_mem_free(a);
}

/* ---- written back and loaded again ------------------------------------------------------- */

/* A hash as Redis holds it: fields and binary values. */
struct model_hash {
    char f[128][64];
    char v[128][64];
    size_t vlen[128];
    size_t n;
};

static void model_set(struct model_hash *h, const char *f, const char *v, size_t vlen)
{
    size_t i = 0;
    while (i < h->n && strcmp(h->f[i], f) != 0)
        i++;
    if (i == h->n) {
        cr_assert_lt(h->n, 128);
        snprintf(h->f[h->n++], sizeof h->f[0], "%s", f);
    }
    cr_assert_lt(vlen, sizeof h->v[0]);
    memcpy(h->v[i], v, vlen);
    h->vlen[i] = vlen;
}

static void model_del(struct model_hash *h, const char *f)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->f[i], f) == 0) {
            h->n--;
            memcpy(h->f[i], h->f[h->n], sizeof h->f[0]);
            memcpy(h->v[i], h->v[h->n], sizeof h->v[0]);
            h->vlen[i] = h->vlen[h->n];
            return;
        }
}

/* What cw_put does with the arguments (its version check aside). */
static void model_put(struct model_hash h[3], const struct cw_rcmd *c)
{
    size_t k = 0;
    for (int which = 0; which < 3; which++) { /* :m :d :u as field/value pairs */
        long n = atol(cw_rcmd_arg(c, k++));
        for (long i = 0; i < n; i++, k += 2)
            model_set(&h[which], cw_rcmd_arg(c, k), cw_rcmd_arg(c, k + 1), c->lens[k + 1]);
    }
    for (int which = 1; which < 3; which++) { /* the pruned days and users */
        long n = atol(cw_rcmd_arg(c, k++));
        for (long i = 0; i < n; i++)
            model_del(&h[which], cw_rcmd_arg(c, k++));
    }
    cr_assert_eq(k, c->n, "every argument consumed");
}

static struct cw_account_mem *model_load(const struct model_hash h[3])
{
    struct cw_account_mem *b = cw_account_mem_new();
    static const char names[] = {'m', 'd', 'u'};
    for (int which = 0; which < 3; which++)
        for (size_t i = 0; i < h[which].n; i++)
            cr_assert_eq(cw_account_mem_load_field(b, names[which], h[which].f[i],
                                                   strlen(h[which].f[i]), h[which].v[i],
                                                   h[which].vlen[i]),
                         0);
    cw_account_mem_loaded(b);
    return b;
}

/* :d and :u get an EXPIRE NX only when the write-back may create them: a new account, or
 * every held day (user) pruned; not while a field written or loaded before survives. */
Test(account_mem, lifetime_nx_only_for_a_hash_the_write_back_creates)
{
    const unsigned nx = CW_MEM_EXPIRE_DAYS_NX | CW_MEM_EXPIRE_USERS_NX;
    struct cw_account_mem *a = cw_account_mem_new();
    struct evs v = {0};
    add(&v, "u1", T_LOGIN, D0, 0, 0, 1);
    add(&v, "u2", T_LOGIN, D0, 10, 0, 2);     /* same day, a new user */
    add(&v, "u1", T_LOGIN, D0 + 1, 0, 0, 3);  /* a new day, a known user */
    add(&v, "u3", T_LOGIN, D0 + 40, 0, 0, 4); /* every earlier day and user pruned */

    apply(a, &v, 0, 1, 0);
    cr_assert_eq(cw_account_mem_expire(a) & nx, nx, "a new account creates both");
    cw_account_mem_written(a, 1);
    apply(a, &v, 1, 1, 0);
    cr_assert_eq(cw_account_mem_expire(a) & nx, 0, "D0 and u1 were written before");
    cw_account_mem_written(a, 2);
    apply(a, &v, 2, 1, 0);
    cr_assert_eq(cw_account_mem_expire(a) & nx, 0);
    cw_account_mem_written(a, 3);
    apply(a, &v, 3, 1, 0);
    cr_assert_eq(cw_account_mem_expire(a) & nx, nx, "the hashes are emptied and filled again");
    cw_account_mem_free(a);

    /* loaded from the store: its fields count as written */
    static struct model_hash h[3];
    memset(h, 0, sizeof h);
    model_set(&h[0], "v", "7", 1);
    char day[16];
    int n = snprintf(day, sizeof day, "%d", D0);
    model_set(&h[1], day, "\1\0\0\0", 4);
    model_set(&h[2], "u1", day, (size_t)n);
    struct cw_account_mem *b = model_load(h);
    apply(b, &v, 1, 1, 0);
    cr_assert_eq(cw_account_mem_expire(b) & nx, 0, "a loaded day and user survive");
    cw_account_mem_free(b);
}

Test(account_mem, written_back_and_loaded_again_is_the_same_account)
{
    static struct model_hash h[3];
    memset(h, 0, sizeof h);
    struct cw_account_mem *a = cw_account_mem_new();
    struct cw_account_data da = {0}, db = {0};
    struct cw_rcmd c = {0};
    struct evs v = {0};
    int32_t days[] = {D0, D0 + 1, D0 + 3, D0 + 40, D0 + 41};
    int64_t off = 100;
    for (size_t step = 0; step < 5; step++) {
        v.n = 0;
        int32_t day = days[step];
        add(&v, "u1", T_LOGIN, day, 1000, 0, off++);
        add(&v, step % 2 ? "u2" : "u3", T_APP, day - 1, 2000, 1, off++);
        struct cw_store_event *profile = add(&v, "u4", T_PROFILE, day, 3000, 0, off++);
        profile->traits = &v.tr[v.n - 1];
        memset(&v.tr[v.n - 1], 0, sizeof v.tr[0]);
        v.tr[v.n - 1].has_seats = true;
        v.tr[v.n - 1].seats = 10 + (int64_t)step;
        if (step == 2)
            snprintf(v.tr[v.n - 1].plan, sizeof v.tr[0].plan, "pro");
        struct cw_traits *t = add_traits(&v, T_TRAITS, ms(day, 5000), off++);
        t->has_renewal_at = true;
        t->renewal_at_ms = ms(D0 + 365, 0);
        apply(a, &v, 0, v.n, day);
        unsigned expire = cw_account_mem_expire(a);
        cr_assert(expire & CW_MEM_EXPIRE_ALL, "a traits event refreshes every lifetime");
        cw_rcmd_reset(&c);
        cr_assert(cw_account_mem_put_args(a, false, &c));
        model_put(h, &c);
        cw_account_mem_written(a, 1000 + step);
        cr_assert_eq(cw_account_mem_version(a), 1000 + step);
        cw_rcmd_reset(&c);
        cr_assert_not(cw_account_mem_put_args(a, false, &c), "nothing left to write");
        cr_assert_eq(cw_account_mem_expire(a), 0);

        char version[32];
        snprintf(version, sizeof version, "%zu", 1000 + step);
        model_set(&h[0], "v", version, strlen(version));
        model_set(&h[0], "h_last", "20400", 5); /* not the applied state: ignored */
        struct cw_account_mem *b = model_load(h);
        cr_assert_eq(cw_account_mem_version(b), 1000 + step);
        cr_assert_eq(cw_account_mem_watermark(b, "ev", 0), cw_account_mem_watermark(a, "ev", 0));
        cr_assert_eq(cw_account_mem_watermark(b, "ev", 1), cw_account_mem_watermark(a, "ev", 1));
        fill(a, day, &da);
        fill(b, day, &db);
        cr_assert_eq(da.first_day, db.first_day);
        cr_assert_eq(da.last_seen_ms, db.last_seen_ms);
        cr_assert_eq(daily_sum(&da), daily_sum(&db));
        cr_assert_eq(memcmp(da.daily, db.daily, da.n_metrics * da.horizon * sizeof *da.daily), 0);
        cr_assert_str_eq(users(&da), users(&db));
        cr_assert_eq(memcmp(da.type_last_ms, db.type_last_ms, cfg.n_event_types * sizeof(int64_t)),
                     0);
        cr_assert_eq(da.traits.seats, db.traits.seats);
        cr_assert_eq(da.traits.renewal_at_ms, db.traits.renewal_at_ms);
        cr_assert_str_eq(da.traits.plan, db.traits.plan);
        cr_assert_str_eq(db.traits.plan, step >= 2 ? "pro" : "");
        cw_account_mem_free(b);
    }
    /* The last day moved 37 days on: the first steps' days were pruned (u1..u4 came back). */
    cr_assert_eq(h[1].n, 3, "days kept: %zu", h[1].n); /* D0+39..41 */
    cr_assert_eq(h[2].n, 4, "users kept: %zu", h[2].n);
    cw_rcmd_free(&c);
    cw_account_data_free(&da);
    cw_account_data_free(&db);
    cw_account_mem_free(a);
}
