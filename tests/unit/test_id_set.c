/* test_id_set.c - the bounded set of account ids the sweep skips (daemon/core/id_set.c) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "id_set.h"

Test(id_set, add_has_and_duplicates)
{
    struct cw_id_set s;
    cw_id_set_init(&s, 100000);
    cr_assert_not(cw_id_set_has(&s, "acme"), "empty");
    cr_assert_eq(cw_id_set_add(&s, "acme"), 1);
    cr_assert_eq(cw_id_set_add(&s, "acme"), 0, "already there");
    cr_assert_eq(cw_id_set_add(&s, ""), 1, "the empty id is an id like another");
    cr_assert(cw_id_set_has(&s, "acme"));
    cr_assert(cw_id_set_has(&s, ""));
    cr_assert_not(cw_id_set_has(&s, "acm"));
    cr_assert_not(cw_id_set_has(&s, "acme "));
    /* Past several growths of the index, every id is still found, and no other. */
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "acct-%06d", i);
        cr_assert_eq(cw_id_set_add(&s, id), 1, "%s", id);
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "acct-%06d", i);
        cr_assert(cw_id_set_has(&s, id), "%s", id);
        snprintf(id, sizeof id, "acct-%06d", i + 20000);
        cr_assert_not(cw_id_set_has(&s, id), "%s", id);
    }
    cr_assert_eq(s.n, 20002);
    cw_id_set_free(&s);
}

Test(id_set, bounded)
{
    struct cw_id_set s;
    cw_id_set_init(&s, 3);
    cr_assert_eq(cw_id_set_add(&s, "a"), 1);
    cr_assert_eq(cw_id_set_add(&s, "b"), 1);
    cr_assert_eq(cw_id_set_add(&s, "c"), 1);
    cr_assert_eq(cw_id_set_add(&s, "d"), -1, "full: not added");
    cr_assert_not(cw_id_set_has(&s, "d"));
    cr_assert_eq(cw_id_set_add(&s, "b"), 0, "full, but already there");
    cw_id_set_free(&s);
}

Test(id_set, cleared_and_reused)
{
    struct cw_id_set s;
    cw_id_set_init(&s, 10);
    for (int round = 0; round < 3; round++) {
        char id[32];
        for (int i = 0; i < 10; i++) {
            snprintf(id, sizeof id, "r%d-%d", round, i);
            cr_assert_eq(cw_id_set_add(&s, id), 1, "%s", id);
        }
        cr_assert_eq(cw_id_set_add(&s, "one more"), -1);
        snprintf(id, sizeof id, "r%d-%d", round, 0);
        cr_assert(cw_id_set_has(&s, id));
        cw_id_set_clear(&s);
        cr_assert_not(cw_id_set_has(&s, id), "cleared");
        cr_assert_eq(s.n, 0);
    }
    cw_id_set_free(&s);
    cr_assert_eq(s.max, 10, "free keeps the bound: the set may be used again");
    cr_assert_eq(cw_id_set_add(&s, "again"), 1);
    cw_id_set_free(&s);
}
