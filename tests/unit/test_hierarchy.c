/* test_hierarchy.c - the roll-up of children's scores and the parent map check
 * (lib/hierarchy.c) on hand-computed cases */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/hierarchy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Three scored children with 10, unknown and 30 seats, and one without a score. */
static const struct cw_rollup_child kids[] = {
    {.has_score = true, .score = 80, .has_seats = true, .seats = 10},
    {.has_score = true, .score = 40},
    {.has_score = false, .score = 0, .has_seats = true, .seats = 1000},
    {.has_score = true, .score = 60, .has_seats = true, .seats = 30},
};

Test(rollup, mean_of_the_scored_children)
{
    double s = -1;
    cr_assert(cw_rollup(CW_ROLLUP_MEAN, kids, N(kids), &s));
    cr_expect_float_eq(s, (80.0 + 40 + 60) / 3, 1e-9); /* 60 */
}

Test(rollup, seat_weighted_mean_counts_a_child_without_seats_as_one)
{
    double s = -1;
    cr_assert(cw_rollup(CW_ROLLUP_SEAT_WEIGHTED_MEAN, kids, N(kids), &s));
    /* (10*80 + 1*40 + 30*60) / (10 + 1 + 30) = 2640 / 41 */
    cr_expect_float_eq(s, 2640.0 / 41, 1e-9);
    /* 0 seats weighs 1 too: (1*20 + 1*50) / 2 */
    const struct cw_rollup_child zero[] = {
        {.has_score = true, .score = 20, .has_seats = true, .seats = 0},
        {.has_score = true, .score = 50},
    };
    cr_assert(cw_rollup(CW_ROLLUP_SEAT_WEIGHTED_MEAN, zero, N(zero), &s));
    cr_expect_float_eq(s, 35.0, 1e-9);
}

Test(rollup, minimum_skips_the_unscored)
{
    double s = -1;
    cr_assert(cw_rollup(CW_ROLLUP_MINIMUM, kids, N(kids), &s));
    cr_expect_float_eq(s, 40.0, 1e-9, "the unscored child's 0 is not a score");
}

Test(rollup, no_score_without_a_scored_child)
{
    const struct cw_rollup_child none[] = {{.has_score = false, .has_seats = true, .seats = 5},
                                           {.has_score = false}};
    double s = 12.5;
    for (int how = CW_ROLLUP_MEAN; how <= CW_ROLLUP_MINIMUM; how++) {
        cr_expect_not(cw_rollup((enum cw_rollup)how, none, N(none), &s));
        cr_expect_not(cw_rollup((enum cw_rollup)how, NULL, 0, &s), "no children");
    }
    cr_expect_float_eq(s, 12.5, 0, "left alone");
}

static char err[512];

static int check(const struct cw_parent_link *l, size_t n, unsigned depth)
{
    err[0] = 'x';
    return cw_hierarchy_check(l, n, depth, err, sizeof err);
}

Test(hierarchy_check, a_forest_within_the_depth_passes)
{
    /* r <- a <- b <- c <- d: d is 4 levels below r; x and y are children of r too. */
    const struct cw_parent_link l[] = {{"d", "c"}, {"c", "b"}, {"b", "a"}, {"a", "r"},
                                       {"x", "r"}, {"y", "x"}, {"r", ""},  {"lone", NULL}};
    cr_expect_eq(check(l, N(l), 4), 0, "%s", err);
    cr_expect_str_eq(err, "");
    cr_expect_eq(check(NULL, 0, 4), 0, "an empty map");
}

Test(hierarchy_check, a_cycle_of_three_is_named)
{
    const struct cw_parent_link l[] = {{"z", "a"}, {"a", "b"}, {"b", "c"}, {"c", "a"}};
    cr_assert_eq(check(l, N(l), 4), -1);
    cr_expect_str_eq(err, "parent_id cycle: a -> b -> c -> a");
}

Test(hierarchy_check, a_cycle_longer_than_the_depth_is_still_a_cycle)
{
    const struct cw_parent_link l[] = {{"a", "b"}, {"b", "c"}, {"c", "d"}, {"d", "e"},
                                       {"e", "f"}, {"f", "g"}, {"g", "a"}};
    cr_assert_eq(check(l, N(l), 2), -1);
    cr_expect_str_eq(err, "parent_id cycle: a -> b -> c -> d -> e -> f -> g -> a");
}

Test(hierarchy_check, its_own_parent_is_a_cycle_of_one)
{
    const struct cw_parent_link l[] = {{"ok", "p"}, {"a", "a"}};
    cr_assert_eq(check(l, N(l), 4), -1);
    cr_expect_str_eq(err, "parent_id cycle: a -> a");
}

Test(hierarchy_check, one_level_more_than_max_depth_is_too_deep)
{
    /* e -> d -> c -> b -> a -> r: e is 5 levels below r. */
    const struct cw_parent_link l[] = {
        {"a", "r"}, {"b", "a"}, {"c", "b"}, {"d", "c"}, {"e", "d"},
    };
    cr_expect_eq(check(l, N(l) - 1, 4), 0, "d is 4 levels below r: %s", err);
    cr_assert_eq(check(l, N(l), 4), -1);
    cr_expect_str_eq(err, "e is 5 levels below r (e -> d -> c -> b -> a -> r), deeper than "
                          "hierarchy.max_depth 4");
    /* The same found walking down from the top first. */
    const struct cw_parent_link rev[] = {
        {"e", "d"}, {"d", "c"}, {"c", "b"}, {"b", "a"}, {"a", "r"},
    };
    cr_assert_eq(check(rev, N(rev), 4), -1);
    cr_expect_str_eq(err, "e is 5 levels below r (e -> d -> c -> b -> a -> r), deeper than "
                          "hierarchy.max_depth 4");
}

Test(hierarchy_check, two_parents_of_one_account)
{
    const struct cw_parent_link l[] = {{"a", "b"}, {"a", "b"}, {"a", "c"}};
    cr_assert_eq(check(l, N(l), 4), -1);
    cr_expect_str_eq(err, "account a has two parents: b and c");
}

Test(hierarchy_check, a_long_chain_ends_without_looping)
{
    /* 2,000 accounts in one chain, each the parent of the next: too deep, found at once. */
    enum { LEN = 2000 };
    static char ids[LEN][16]; /* room for any int: -Wformat-truncation in the ASan build */
    static struct cw_parent_link l[LEN];
    for (int i = 0; i < LEN; i++)
        snprintf(ids[i], sizeof ids[i], "n%d", i);
    for (int i = 0; i < LEN; i++)
        l[i] = (struct cw_parent_link){ids[i], i + 1 < LEN ? ids[i + 1] : ""};
    cr_assert_eq(check(l, LEN, 16), -1);
    cr_expect(strstr(err, "17 levels below") != NULL, "%s", err);
    l[LEN - 1].parent = ids[0]; /* closed into one cycle of 2,000 */
    cr_assert_eq(check(l, LEN, 16), -1);
    cr_expect_eq(strncmp(err, "parent_id cycle: n0 -> n1 -> ", 29), 0, "%s", err);
}

Test(hierarchy_check, an_error_is_cut_to_the_buffer)
{
    const struct cw_parent_link l[] = {{"aaaaaaaa", "bbbbbbbb"}, {"bbbbbbbb", "aaaaaaaa"}};
    char small[20];
    cr_assert_eq(cw_hierarchy_check(l, N(l), 4, small, sizeof small), -1);
    cr_expect_str_eq(small, "parent_id cycle: aa"); /* 19 bytes and the NUL */
}

/* ---- one new edge against a map read as needed ------------------------------------------ */

/* A parent map as the daemon reads it: pairs {id, parent}; an id not listed is unknown until
 * "read" (added by the test), and a lookup of it is counted. */
struct map {
    const char *pairs[16][2];
    size_t n;
    unsigned lookups;
};

static const char *map_lookup(void *ctx, const char *id, bool *known)
{
    struct map *m = ctx;
    m->lookups++;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->pairs[i][0], id) == 0) {
            *known = true;
            return m->pairs[i][1];
        }
    *known = false;
    return NULL;
}

static int edge(struct map *m, const char *child, const char *parent, unsigned depth,
                const char **need)
{
    err[0] = 'x';
    *need = NULL;
    return cw_hierarchy_edge_check(child, parent, depth, map_lookup, m, need, err, sizeof err);
}

Test(hierarchy_edge, asks_for_each_unknown_parent_then_accepts_a_tree)
{
    struct map m = {.n = 0};
    const char *need;
    cr_assert_eq(edge(&m, "acme-de", "acme", 4, &need), 1);
    cr_assert_str_eq(need, "acme");
    m.pairs[m.n][0] = "acme", m.pairs[m.n++][1] = "holding";
    cr_assert_eq(edge(&m, "acme-de", "acme", 4, &need), 1);
    cr_assert_str_eq(need, "holding");
    m.pairs[m.n][0] = "holding", m.pairs[m.n++][1] = ""; /* read: no parent */
    cr_assert_eq(edge(&m, "acme-de", "acme", 4, &need), 0, "%s", err);
    cr_assert_null(need);
}

Test(hierarchy_edge, an_edge_closing_a_cycle_is_named)
{
    /* b's parent is a, a's is r; a new edge r -> b closes r -> b -> a -> r */
    struct map m = {.pairs = {{"b", "a"}, {"a", "r"}, {"r", ""}}, .n = 3};
    const char *need;
    cr_assert_eq(edge(&m, "r", "b", 4, &need), -1);
    cr_expect_str_eq(err, "parent_id cycle: r -> b -> a -> r");
    /* a cycle already above the new edge's parent (p <-> q) rejects it too */
    struct map c = {.pairs = {{"p", "q"}, {"q", "p"}}, .n = 2};
    cr_assert_eq(edge(&c, "x", "p", 4, &need), -1);
    cr_expect_str_eq(err, "parent_id cycle: p -> q -> p");
    cr_expect_leq(c.lookups, 4, "walked at most max_depth steps: %u", c.lookups);
}

Test(hierarchy_edge, an_edge_making_a_tree_too_deep_is_refused_within_max_depth_lookups)
{
    /* d -> c -> b -> a -> r: a new child e under d is 5 levels below r */
    struct map m = {.pairs = {{"d", "c"}, {"c", "b"}, {"b", "a"}, {"a", "r"}, {"r", ""}}, .n = 5};
    const char *need;
    cr_assert_eq(edge(&m, "e", "c", 4, &need), 0, "4 levels: %s", err);
    m.lookups = 0;
    cr_assert_eq(edge(&m, "e", "d", 4, &need), -1);
    cr_expect_str_eq(err, "e is 5 levels below r (e -> d -> c -> b -> a -> r), deeper than "
                          "hierarchy.max_depth 4");
    cr_expect_eq(m.lookups, 4, "r's parent is never read: %u", m.lookups);
    /* the bound is clamped: 0 is 1, a chain of two is too deep */
    cr_assert_eq(edge(&m, "e", "a", 0, &need), -1);
    cr_expect_str_eq(err, "e is 2 levels below r (e -> a -> r), deeper than hierarchy.max_depth 1");
}

Test(hierarchy_edge, a_detach_is_accepted_without_a_lookup)
{
    /* p <-> q is a cycle in the map, yet detaching x reads nothing and closes nothing */
    struct map m = {.pairs = {{"p", "q"}, {"q", "p"}, {"x", "p"}}, .n = 3};
    const char *need;
    cr_assert_eq(edge(&m, "x", "", 4, &need), 0, "%s", err);
    cr_assert_eq(edge(&m, "x", NULL, 4, &need), 0, "%s", err);
    cr_expect_null(need);
    cr_expect_eq(m.lookups, 0);
}

/* ---- the accounts below a child that gets a parent ---------------------------------------- */

/* The children of an id in a map: the ids whose parent it is; unknown until the id is listed
 * in kids_read (the walk asks, the test "reads"); asked ids are counted and remembered. */
struct tree {
    struct map m;
    const char *kids_read[16];
    size_t n_read;
    const char *asked[16];
    size_t n_asked;
    const char *out[16];
};

static const char *const *tree_children(void *ctx, const char *id, size_t *n, bool *known)
{
    struct tree *t = ctx;
    *known = false;
    for (size_t i = 0; i < t->n_read && !*known; i++)
        *known = strcmp(t->kids_read[i], id) == 0;
    if (!*known) {
        t->asked[t->n_asked++] = id;
        return NULL;
    }
    *n = 0;
    for (size_t i = 0; i < t->m.n; i++)
        if (t->m.pairs[i][1] && strcmp(t->m.pairs[i][1], id) == 0)
            t->out[(*n)++] = t->m.pairs[i][0];
    return t->out;
}

static const char *tree_parent(void *ctx, const char *id, bool *known)
{
    return map_lookup(&((struct tree *)ctx)->m, id, known);
}

/* Run the subtree check, "reading" what it asks for, until it decides; the rounds in *rounds. */
static int subtree(struct tree *t, const char *child, const char *parent, unsigned depth,
                   int *rounds)
{
    const char *need;
    int rc;
    *rounds = 0;
    while ((rc = cw_hierarchy_subtree_check(child, parent, depth, tree_parent, tree_children, t,
                                            &need, err, sizeof err)) == 1) {
        cr_assert_not_null(need);
        cr_assert_lt(++*rounds, 10, "the walk does not end");
        for (size_t i = 0; i < t->n_asked; i++)
            t->kids_read[t->n_read++] = t->asked[i];
        t->n_asked = 0;
    }
    return rc;
}

Test(hierarchy_subtree, a_subtree_pushed_too_deep_is_refused_naming_its_deepest_account)
{
    /* r <- a <- b above; x <- y <- z below the child x, which gets parent b */
    struct tree t = {
        .m = {.pairs = {{"a", "r"}, {"b", "a"}, {"r", ""}, {"y", "x"}, {"z", "y"}, {"w", "x"}},
              .n = 6}};
    int rounds;
    cr_assert_eq(subtree(&t, "x", "b", 4, &rounds), -1);
    cr_expect_str_eq(err, "z would be 5 levels below r (z -> y -> x -> b -> a -> r), deeper "
                          "than hierarchy.max_depth 4");
    cr_expect_eq(rounds, 2, "a round per level read whole: %d", rounds);
    cr_assert_eq(subtree(&t, "x", "b", 5, &rounds), 0, "%s", err);
    cr_assert_eq(subtree(&t, "x", "a", 4, &rounds), 0, "%s", err);
    /* a detach reads nothing */
    struct tree e = {.m = {.n = 0}};
    cr_assert_eq(subtree(&e, "x", "", 4, &rounds), 0);
    cr_expect_eq(rounds, 0);
}

Test(hierarchy_subtree, asks_for_every_unknown_account_of_a_level_at_once)
{
    /* x has children c1, c2, c3, each with one child: the second level is asked whole */
    struct tree t = {.m = {.pairs = {{"c1", "x"},
                                     {"c2", "x"},
                                     {"c3", "x"},
                                     {"g1", "c1"},
                                     {"g2", "c2"},
                                     {"g3", "c3"},
                                     {"p", ""}},
                           .n = 7}};
    const char *need;
    cr_assert_eq(cw_hierarchy_subtree_check("x", "p", 4, tree_parent, tree_children, &t, &need, err,
                                            sizeof err),
                 1);
    cr_assert_eq(t.n_asked, 1);
    cr_expect_str_eq(t.asked[0], "x");
    t.kids_read[t.n_read++] = "x";
    t.n_asked = 0;
    cr_assert_eq(cw_hierarchy_subtree_check("x", "p", 4, tree_parent, tree_children, &t, &need, err,
                                            sizeof err),
                 1);
    cr_assert_eq(t.n_asked, 3, "c1, c2 and c3 in one round: %zu", t.n_asked);
}

Test(hierarchy_subtree, a_cycle_below_is_walked_once)
{
    /* below x: y <-> q (a cycle that got into the store), and the parent chain is clean */
    struct tree t = {.m = {.pairs = {{"y", "x"}, {"q", "y"}, {"y2", "q"}, {"p", ""}}, .n = 4}};
    t.m.pairs[t.m.n][0] = "x", t.m.pairs[t.m.n++][1] = "q"; /* q's child x: closes the loop */
    int rounds;
    cr_assert_eq(subtree(&t, "x", "p", 8, &rounds), 0, "%s", err);
    cr_expect_leq(rounds, 4);
}

/* ---- the children below a line, in the order a parent rule names them ------------------- */

Test(children_below, lowest_score_first_ties_by_id_the_unscored_and_the_line_left_out)
{
    static const char *const ids[] = {"c", "a", "b", "d", "e"};
    const struct cw_rollup_child ch[] = {
        {.has_score = true, .score = 31},   {.has_score = true, .score = 31},
        {.has_score = true, .score = 12.5}, {.has_score = false},
        {.has_score = true, .score = 40},
    };
    struct cw_children group = {.n = 5, .ids = ids, .child = ch};
    size_t n = 99;
    size_t *idx = cw_children_below(&group, 40, &n);
    cr_assert_not_null(idx);
    cr_assert_eq(n, 3, "40 is not below 40; d has no score");
    cr_expect_str_eq(ids[idx[0]], "b");
    cr_expect_str_eq(ids[idx[1]], "a", "a tie at 31: by id");
    cr_expect_str_eq(ids[idx[2]], "c");
    free(idx);
    struct cw_children none = {.n = 0};
    idx = cw_children_below(&none, 40, &n);
    cr_assert_not_null(idx);
    cr_expect_eq(n, 0);
    free(idx);
}
