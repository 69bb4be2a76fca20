/* test_evaluate.c - one account evaluated at one instant (lib/evaluate.c): the score, the
 * history handed to the rules, stored states, silences, segment params and the alert JSON */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "churnwatch/window.h"

#define DAY     CW_MS_PER_DAY
#define DAY0    20414 /* 2025-11-22 */
#define HORIZON 64

/* Two rules on the score and one on the children; segment "big" judges "low" by stricter
 * thresholds and "group" by more children. One component,
 * active users over 7 days against 2: an account with its one user active today scores 50,
 * between the thresholds of "low" and of its override; one whose user was last seen long
 * ago scores 0. */
static const char yaml[] =
    "score:\n"
    "  components:\n"
    "    c: {measures: [{name: m, metric: active_users, window: short, target: 2}]}\n"
    "alerts:\n"
    "  defaults: {for: 0, severity: warning, touch: mail}\n"
    "  rules:\n"
    "    - {name: low, kind: score_below, enter: 40, exit: 50}\n"
    "    - {name: drop, kind: score_drop, points: 10, over: 7d}\n"
    "    - {name: group, kind: children_at_risk, enter: 40, exit: 50, children: 1}\n"
    "segments:\n"
    "  big:\n"
    "    rules:\n"
    "      low: {enter: 60, exit: 70}\n"
    "      group: {children: 2}\n";

enum { R_LOW, R_DROP, R_GROUP };

static struct cw_config *cfg;
static char errs[4096];

struct acct {
    struct cw_traits traits;
    uint32_t daily[CW_MAX_METRICS * HORIZON];
    int32_t users[4];
    int64_t type_last[CW_MAX_EVENT_TYPES];
    struct cw_score_point history[8];
    struct cw_rule_state rules[CW_MAX_RULES];
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

/* An account seen since 40 days before DAY0, its one user last active on user_day, judged
 * at noon UTC of DAY0. */
static void acct_init(int32_t user_day)
{
    memset(&A, 0, sizeof A);
    struct cw_account_view *v = &A.in.view;
    v->account_id = "acme";
    v->today = DAY0;
    v->now_ms = (int64_t)DAY0 * DAY + DAY / 2;
    v->first_day = DAY0 - 40;
    v->horizon = HORIZON;
    v->n_metrics = cfg->n_metrics;
    v->daily = A.daily;
    A.users[0] = user_day;
    v->user_last_day = A.users;
    v->n_users = 1;
    v->traits = &A.traits;
    v->last_seen_ms = (int64_t)user_day * DAY;
    for (size_t i = 0; i < CW_MAX_EVENT_TYPES; i++)
        A.type_last[i] = -1;
    v->type_last_ms = A.type_last;
    A.in.history = A.history;
    A.in.rules = A.rules;
}

static void add_history(int32_t day, double score)
{
    A.history[A.in.n_history++] = (struct cw_score_point){.day = day, .score = score};
}

/* A evaluated into A.out, and again with the reasons of alerts only
 * (cw_eval_input.alert_reasons_only), which must decide the same in every test of this
 * file: the same score, states and transitions, and every emitting rule's evaluation
 * whole, reason included; the others' reasons are left out. */
static void evaluate(void)
{
    cw_evaluate(cfg, &A.in, &A.out);
    static struct cw_account_eval lean;
    A.in.alert_reasons_only = true;
    cw_evaluate(cfg, &A.in, &lean);
    A.in.alert_reasons_only = false;
    cr_assert_eq(lean.score.has_score, A.out.score.has_score);
    cr_assert_eq(memcmp(&lean.score.score, &A.out.score.score, sizeof(double)), 0);
    cr_assert_eq(lean.n_rules, A.out.n_rules);
    for (size_t r = 0; r < A.out.n_rules; r++) {
        const struct cw_rule_state *n = &lean.next[r], *m = &A.out.next[r];
        cr_assert(n->status == m->status && n->since_ms == m->since_ms &&
                      n->cleared_ms == m->cleared_ms && n->last_sent_ms == m->last_sent_ms &&
                      n->published == m->published && strcmp(n->alert_id, m->alert_id) == 0,
                  "rule %zu", r);
        const struct cw_transition *u = &lean.trans[r], *v = &A.out.trans[r];
        cr_assert(u->emit == v->emit && u->publish == v->publish &&
                      strcmp(u->alert_id, v->alert_id) == 0,
                  "rule %zu", r);
        struct cw_rule_eval t;
        memcpy(&t, &lean.evals[r], sizeof t);
        /* judged (a parent rule is not, without its children): no reason unless it emits */
        bool judged = cfg->rules[r].kind != CW_RULE_CHILDREN_AT_RISK || A.in.children;
        if (judged && A.out.trans[r].emit == CW_EMIT_NONE) {
            cr_assert(t.reason_skipped, "rule %zu", r);
            cr_assert_str_empty(t.reason, "rule %zu", r);
            memcpy(t.reason, A.out.evals[r].reason, sizeof t.reason);
            t.reason_skipped = false;
        }
        cr_assert_eq(memcmp(&t, &A.out.evals[r], sizeof t), 0, "rule %zu: %s / %s", r,
                     lean.evals[r].reason, A.out.evals[r].reason);
    }
}

TestSuite(evaluate, .init = setup, .fini = teardown);

Test(evaluate, the_score_is_the_score_of_the_view_and_the_view_is_kept)
{
    acct_init(DAY0);
    evaluate();
    struct cw_score_result expect;
    cw_score_compute(cfg, &A.in.view, &expect);
    cr_assert(A.out.score.has_score);
    cr_expect_eq(A.out.score.score, expect.score);
    cr_expect_str_eq(A.out.score.grade, expect.grade);
    cr_expect_eq(A.out.score.score, 50, "one active user of 2");
    cr_expect_eq(A.out.now_ms, A.in.view.now_ms);
    cr_expect_str_eq(A.out.view.account_id, "acme");
    cr_expect_null(A.out.segment, "no segment trait");
    cr_expect_eq(A.out.n_rules, cfg->n_rules);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_NONE);
    cr_expect_eq(A.out.trans[R_DROP].emit, CW_EMIT_NONE);
}

Test(evaluate, a_low_score_fires_from_a_fresh_state)
{
    acct_init(DAY0 - 30);
    evaluate();
    cr_assert(A.out.score.has_score);
    cr_assert_lt(A.out.score.score, 40);
    cr_expect_eq(A.out.evals[R_LOW].holds, true);
    cr_expect_eq(A.out.next[R_LOW].status, CW_RULE_FIRING);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_FIRING);
    cr_expect(A.out.trans[R_LOW].publish);
    cr_expect_eq(A.out.params[R_LOW], &cfg->rules[R_LOW].params);
}

Test(evaluate, the_stored_state_carries_over)
{
    acct_init(DAY0 - 30);
    evaluate();
    A.rules[R_LOW] = A.out.next[R_LOW];
    A.in.n_rules = 1;
    evaluate();
    cr_expect_eq(A.out.next[R_LOW].status, CW_RULE_FIRING);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_NONE, "already firing: nothing new");
}

Test(evaluate, rules_past_the_stored_ones_start_ok)
{
    acct_init(DAY0 - 30);
    /* garbage past n_rules is not read */
    A.rules[R_DROP].status = CW_RULE_FIRING;
    A.in.n_rules = 1;
    add_history(DAY0 - 7, 100);
    evaluate();
    cr_expect_eq(A.out.trans[R_DROP].emit, CW_EMIT_FIRING, "fired from ok, not already firing");
}

Test(evaluate, a_silenced_rule_changes_state_without_publishing)
{
    acct_init(DAY0 - 30);
    A.in.silenced[R_LOW] = true;
    evaluate();
    cr_expect_eq(A.out.next[R_LOW].status, CW_RULE_FIRING);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_FIRING);
    cr_expect_not(A.out.trans[R_LOW].publish);
}

Test(evaluate, the_rules_compare_the_stored_history_with_todays_score)
{
    acct_init(DAY0 - 30);
    add_history(DAY0 - 7, 100);
    evaluate();
    cr_assert_eq(A.out.score.score, 0);
    cr_expect(A.out.evals[R_DROP].holds, "a drop from 100 to 0 over 7 days");
    cr_expect_eq(A.out.evals[R_DROP].value, 100);
    cr_expect_eq(A.out.trans[R_DROP].emit, CW_EMIT_FIRING);
    cr_expect(A.out.evals[R_DROP].has_previous_score);
    cr_expect_eq(A.out.evals[R_DROP].previous_score, 100);

    acct_init(DAY0 - 30);
    add_history(DAY0 - 7, 5);
    evaluate();
    cr_expect_not(A.out.evals[R_DROP].holds, "a drop of 5 points");
    cr_expect_eq(A.out.evals[R_DROP].value, 5);
    cr_expect_eq(A.out.trans[R_DROP].emit, CW_EMIT_NONE);
}

Test(evaluate, a_segment_account_is_judged_by_its_segment_params)
{
    acct_init(DAY0);
    evaluate();
    cr_assert_eq(A.out.score.score, 50);
    cr_expect_eq(A.out.params[R_LOW], &cfg->rules[R_LOW].params);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_NONE, "50 is not below 40");

    strcpy(A.traits.segment, "big");
    evaluate();
    cr_expect_str_eq(A.out.segment, "big");
    int s = cw_config_segment_index(cfg, "big");
    cr_assert_geq(s, 0);
    cr_expect_eq(A.out.params[R_LOW], &cfg->segments[s].rule_params[R_LOW]);
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_FIRING, "50 is below the segment's 60");

    strcpy(A.traits.segment, "unknown-segment");
    evaluate();
    cr_expect_eq(A.out.params[R_LOW], &cfg->rules[R_LOW].params, "an unknown segment");
    cr_expect_eq(A.out.trans[R_LOW].emit, CW_EMIT_NONE);
}

static json_t *alert(size_t r, int64_t emitted_ms)
{
    size_t len = 0;
    char *s = cw_evaluate_alert_json(cfg, &A.out, r, emitted_ms, &len);
    cr_assert_not_null(s);
    cr_assert_eq(len, strlen(s));
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    cr_assert_not_null(j, "%s: %s", je.text, s);
    free(s);
    return j;
}

Test(evaluate, the_alert_carries_the_account_the_rule_and_both_instants)
{
    acct_init(DAY0 - 30);
    strcpy(A.traits.segment, "big");
    strcpy(A.traits.owner, "aiko.tanaka@example.com");
    strcpy(A.traits.plan, "starter");
    A.traits.has_seats = true;
    A.traits.seats = 20;
    A.traits.has_renewal_at = true;
    A.traits.renewal_at_ms = 1818153372447; /* 2027-08-13T10:36:12.447Z */
    add_history(DAY0 - 7, 100);
    evaluate();
    cr_assert_eq(A.out.trans[R_DROP].emit, CW_EMIT_FIRING);
    int64_t emitted = A.in.view.now_ms + 5000;
    json_t *j = alert(R_DROP, emitted);
    cr_expect_str_eq(json_string_value(json_object_get(j, "account_id")), "acme");
    cr_expect_str_eq(json_string_value(json_object_get(j, "rule")), "drop");
    cr_expect_str_eq(json_string_value(json_object_get(j, "kind")), "score_drop");
    cr_expect_str_eq(json_string_value(json_object_get(j, "severity")), "warning");
    cr_expect_str_eq(json_string_value(json_object_get(j, "segment")), "big");
    cr_expect_str_eq(json_string_value(json_object_get(j, "owner")), "aiko.tanaka@example.com");
    cr_expect_str_eq(json_string_value(json_object_get(j, "plan")), "starter");
    cr_expect_eq(json_integer_value(json_object_get(j, "seats")), 20);
    cr_expect_str_eq(json_string_value(json_object_get(j, "renewal_at")),
                     "2027-08-13T10:36:12.447Z");
    cr_expect_str_eq(json_string_value(json_object_get(j, "profile")), "default",
                     "no profiles configured: the base scorecard");
    cr_expect_null(json_object_get(j, "stage"), "no stages configured: no stage");
    cr_expect_str_eq(json_string_value(json_object_get(j, "alert_id")),
                     A.out.trans[R_DROP].alert_id);
    cr_expect_eq(json_number_value(json_object_get(j, "previous_score")), 100,
                 "the rule's reference score");
    cr_expect_str_eq(json_string_value(json_object_get(j, "observed_at")), "2025-11-22T12:00:00Z");
    cr_expect_str_eq(json_string_value(json_object_get(j, "emitted_at")), "2025-11-22T12:00:05Z");
    cr_expect_null(json_object_get(j, "children_at_risk"), "only a parent rule's alert has it");
    cr_expect_null(json_object_get(j, "rollup_score"));
    json_decref(j);
}

Test(evaluate, previous_score_falls_back_to_the_last_saved_score)
{
    acct_init(DAY0 - 30);
    A.in.has_last_score = true;
    A.in.last_score = 77.5;
    evaluate();
    cr_assert_eq(A.out.trans[R_LOW].emit, CW_EMIT_FIRING);
    cr_assert_not(A.out.evals[R_LOW].has_previous_score);
    json_t *j = alert(R_LOW, A.in.view.now_ms);
    cr_expect_eq(json_number_value(json_object_get(j, "previous_score")), 77.5);
    json_decref(j);

    A.in.has_last_score = false;
    evaluate();
    j = alert(R_LOW, A.in.view.now_ms);
    cr_expect(json_is_null(json_object_get(j, "previous_score")), "none known");
    json_decref(j);
}

/* ---- a parent rule: judged only when the children were read ---------------------------- */

Test(evaluate, a_parent_rule_keeps_its_state_when_the_children_were_not_read)
{
    acct_init(DAY0);
    A.rules[R_GROUP] = (struct cw_rule_state){.status = CW_RULE_FIRING,
                                              .since_ms = (int64_t)(DAY0 - 2) * DAY,
                                              .last_sent_ms = (int64_t)(DAY0 - 2) * DAY,
                                              .published = true,
                                              .alert_id = "0123456789abcdef0123456789abcdef"};
    A.in.n_rules = 3;
    evaluate();
    cr_assert_eq(memcmp(&A.out.next[R_GROUP], &A.rules[R_GROUP], sizeof A.rules[R_GROUP]), 0,
                 "not resolved for want of children");
    cr_assert_eq(A.out.trans[R_GROUP].emit, CW_EMIT_NONE);
    cr_assert(!A.out.evals[R_GROUP].evaluable);
    cr_assert_str_eq(A.out.evals[R_GROUP].reason, "children not read in this scoring");

    /* read, and none at risk: resolved */
    static const char *const ids[] = {"kid"};
    struct cw_rollup_child ch = {.has_score = true, .score = 70};
    struct cw_children kids = {.n = 1, .ids = ids, .child = &ch};
    A.in.children = &kids;
    evaluate();
    cr_assert_eq(A.out.trans[R_GROUP].emit, CW_EMIT_RESOLVED);
    cr_assert_str_eq(A.out.evals[R_GROUP].reason, "0 of 1 children below 50 (exit) (fires at 1)");
}

Test(evaluate, a_parent_rule_fires_by_the_segment_s_number_of_children)
{
    static const char *const ids[] = {"kid-a", "kid-b"};
    struct cw_rollup_child ch[] = {{.has_score = true, .score = 20},
                                   {.has_score = true, .score = 60}};
    struct cw_children kids = {.n = 2, .ids = ids, .child = ch};
    acct_init(DAY0);
    A.in.children = &kids;
    evaluate();
    cr_assert_eq(A.out.trans[R_GROUP].emit, CW_EMIT_FIRING, "one child at risk fires by default");
    cr_assert_str_eq(A.out.evals[R_GROUP].reason, "1 of 2 children below 40: kid-a (20)");
    /* its alert names the children at risk and carries their roll-up (the seat-weighted
     * mean by default; no seats: each weighs 1) */
    json_t *root = alert(R_GROUP, A.in.view.now_ms);
    json_t *list = json_object_get(root, "children_at_risk");
    cr_assert(json_is_array(list) && json_array_size(list) == 1);
    cr_assert_str_eq(json_string_value(json_array_get(list, 0)), "kid-a");
    cr_assert_float_eq(json_real_value(json_object_get(root, "rollup_score")), 40, 1e-9);
    json_decref(root);

    acct_init(DAY0);
    A.in.children = &kids;
    snprintf(A.traits.segment, sizeof A.traits.segment, "big");
    evaluate();
    cr_assert_eq(A.out.trans[R_GROUP].emit, CW_EMIT_NONE, "segment big fires at two");
    cr_assert_str_eq(A.out.evals[R_GROUP].reason, "1 of 2 children below 40 (fires at 2)");
}
