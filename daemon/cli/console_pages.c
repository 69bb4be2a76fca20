/* console_pages.c - the web console's pages: accounts (filters, counts per grade, paging),
 * one account (trend chart, components and measures, what moved it, alerts, silences,
 * traits) and rules (open episodes per rule and segment), read from the state store as
 * `churnwatch top` and `churnwatch account` read it */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_eval.h"
#include "churnwatch/console_chart.h"
#include "churnwatch/event.h"
#include "cli.h"
#include "console.h"
#include "wall_clock.h"

#define MOVED_DAYS_MAX 7
#define MOVES_MAX      8
#define RULES_SCAN_MAX 100000 /* accounts the rules page counts over at most */
#define RULES_SEGMENTS 16     /* segments shown per rule; the rest count as "other" */
#define RULES_RECENT   20     /* most recent episode starts listed */
#define CHART_W        720
#define CHART_H        260

int cw_console_open(struct cw_console *c)
{
    c->accts = calloc(CW_CONSOLE_CHUNK, sizeof *c->accts);
    c->eval = calloc(1, sizeof *c->eval);
    if (!c->accts || !c->eval) {
        cw_console_close(c);
        return -1;
    }
    return 0;
}

void cw_console_close(struct cw_console *c)
{
    if (c->accts)
        for (size_t i = 0; i < CW_CONSOLE_CHUNK; i++)
            cw_account_data_free(&c->accts[i]);
    free(c->accts);
    free(c->eval);
    c->accts = NULL;
    c->eval = NULL;
}

/* ---- layout ------------------------------------------------------------------------- */

static void page_start(struct cw_html *h, const char *title, const char *active)
{
    cw_html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>");
    cw_html_text(h, title);
    cw_html_raw(h, " - churnwatch</title>"
                   "<link rel=\"stylesheet\" href=\"/static/console.css\"></head><body>"
                   "<header><span class=\"brand\">churnwatch</span><nav>");
    cw_html_printf(h, "<a href=\"/\"%s>Accounts</a>",
                   strcmp(active, "accounts") == 0 ? " class=\"on\"" : "");
    cw_html_printf(h, "<a href=\"/rules\"%s>Rules</a>",
                   strcmp(active, "rules") == 0 ? " class=\"on\"" : "");
    cw_html_raw(h, "</nav></header><main>");
}

static void page_end(struct cw_html *h, int64_t now)
{
    char ts[32];
    cw_rfc3339_format(now, ts);
    cw_html_printf(h, "</main><footer>as of %s &middot; churnwatch %s</footer></body></html>\n", ts,
                   CW_VERSION);
}

void cw_console_error(struct cw_html *out, unsigned status, const char *message)
{
    char title[32];
    snprintf(title, sizeof title, "%u", status);
    page_start(out, title, "");
    cw_html_printf(out, "<h1>%u</h1><p class=\"error\">", status);
    cw_html_text(out, message);
    cw_html_raw(out, "</p><p><a href=\"/\">Accounts</a></p>");
    page_end(out, cw_wall_ms());
}

static unsigned store_error(struct cw_html *out, const char *err)
{
    cw_html_free(out);
    *out = (struct cw_html){0};
    cw_console_error(out, 503, err);
    return 503;
}

void cw_console_grade(struct cw_html *h, bool has, const char *grade, const char *id)
{
    cw_html_raw(h, "<span class=\"grade g-");
    cw_html_url(h, has ? grade : "none");
    cw_html_raw(h, "\"");
    if (id)
        cw_html_printf(h, " id=\"%s\"", id);
    cw_html_raw(h, ">");
    cw_html_text(h, has ? grade : "-");
    cw_html_raw(h, "</span>");
}

static void score_cell(struct cw_html *h, const struct cw_account_eval *e)
{
    if (e->score.has_score)
        cw_html_printf(h, "<td class=\"num\">%.1f</td><td>", e->score.score);
    else
        cw_html_raw(h, "<td class=\"num\">n/a</td><td>");
    cw_console_grade(h, e->score.has_score, e->score.grade, NULL);
    cw_html_raw(h, "</td>");
}

void cw_console_account_link(struct cw_html *h, const char *id)
{
    cw_html_raw(h, "<a class=\"acct\" href=\"/account?id=");
    cw_html_url(h, id);
    cw_html_raw(h, "\">");
    cw_html_text(h, id);
    cw_html_raw(h, "</a>");
}

static void renewal_cell(struct cw_html *h, const struct cw_traits *t, int64_t now)
{
    if (!t->has_renewal_at) {
        cw_html_raw(h, "<td>-</td>");
        return;
    }
    char ts[32];
    cw_rfc3339_format(t->renewal_at_ms, ts);
    cw_html_printf(h, "<td title=\"%.10s\">%lld d</td>", ts,
                   (long long)cw_cli_days_until(now, t->renewal_at_ms));
}

/* ---- accounts ----------------------------------------------------------------------- */

static bool keep(const struct cw_console *c, const struct cw_console_query *q,
                 const struct cw_account_data *a, const struct cw_account_eval *e, int64_t now)
{
    struct cw_cli_filter f = {.grade = q->grade,
                              .segment = q->segment,
                              .owner = q->owner,
                              .stage = q->stage,
                              .renewal_within_ms = q->renewal_within_ms,
                              .created_within_ms = q->created_within_ms};
    if (!cw_cli_filter_keep(&f, a, e, now))
        return false;
    if (q->search && !strstr(a->account_id, q->search))
        return false;
    if (q->rule) {
        for (size_t r = 0; r < c->cfg->n_rules && r < a->n_rules; r++)
            if (a->rules[r].status == CW_RULE_FIRING && strcmp(c->cfg->rules[r].name, q->rule) == 0)
                return true;
        return false;
    }
    return true;
}

static void account_row(struct cw_html *h, const struct cw_config *cfg,
                        const struct cw_account_data *a, const struct cw_account_eval *e,
                        int64_t now)
{
    cw_html_raw(h, "<tr><td>");
    cw_console_account_link(h, a->account_id);
    cw_html_raw(h, "</td>");
    score_cell(h, e);
    cw_html_printf(h, "<td class=\"trend-%s\">%s</td><td>", cw_cli_trend(a, e), cw_cli_trend(a, e));
    cw_html_text(h, a->traits.segment[0] ? a->traits.segment : NULL);
    cw_html_raw(h, "</td><td>");
    cw_html_text(h, a->traits.owner[0] ? a->traits.owner : NULL);
    cw_html_raw(h, "</td><td>");
    cw_html_text(h, e->score.stage[0] ? e->score.stage : NULL);
    cw_html_raw(h, "</td>");
    renewal_cell(h, &a->traits, now);
    cw_html_raw(h, "<td class=\"alerts\">");
    size_t open = 0;
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
        if (a->rules[r].status != CW_RULE_FIRING)
            continue;
        cw_html_printf(h, "<span class=\"alert %s\">",
                       cfg->rules[r].direction == CW_DIR_OPPORTUNITY ? "opp" : "risk");
        cw_html_text(h, cfg->rules[r].name);
        cw_html_raw(h, "</span> ");
        open++;
    }
    if (open == 0)
        cw_html_raw(h, "-");
    cw_html_raw(h, "</td></tr>\n");
}

static void select_box(struct cw_html *h, const char *name, const char *label, const char *current,
                       const char *const *options, size_t n)
{
    cw_html_printf(h, "<label>%s <select name=\"%s\"><option value=\"\">any</option>", label, name);
    for (size_t i = 0; i < n; i++) {
        cw_html_raw(h, "<option value=\"");
        cw_html_text(h, options[i]);
        cw_html_raw(h, current && strcmp(current, options[i]) == 0 ? "\" selected>" : "\">");
        cw_html_text(h, options[i]);
        cw_html_raw(h, "</option>");
    }
    cw_html_raw(h, "</select></label>");
}

static void text_box(struct cw_html *h, const char *name, const char *label, const char *current,
                     const char *placeholder)
{
    cw_html_printf(h, "<label>%s <input type=\"text\" name=\"%s\" placeholder=\"%s\" value=\"",
                   label, name, placeholder);
    if (current)
        cw_html_text(h, current);
    cw_html_raw(h, "\"></label>");
}

static void filter_form(struct cw_html *h, const struct cw_config *cfg,
                        const struct cw_console_query *q)
{
    const char *names[CW_MAX_RULES + 16];
    cw_html_raw(h, "<form class=\"filters\" method=\"get\" action=\"/\">");
    text_box(h, "q", "Account", q->search, "id contains");
    size_t n = 0;
    for (size_t i = 0; i < cfg->score.n_grades && n < CW_MAX_RULES; i++)
        names[n++] = cfg->score.grades[i].name;
    select_box(h, "grade", "Grade", q->grade, names, n);
    text_box(h, "segment", "Segment", q->segment, "e.g. smb");
    text_box(h, "owner", "Owner", q->owner, "CSM");
    n = 0;
    for (size_t i = 0; i < cfg->score.n_stages && n < CW_MAX_RULES; i++)
        names[n++] = cfg->score.stages[i].name;
    if (n)
        select_box(h, "stage", "Stage", q->stage, names, n);
    text_box(h, "renewal_within", "Renewal within", q->renewal_text, "90d");
    text_box(h, "created_within", "Created within", q->created_text, "30d");
    n = 0;
    for (size_t i = 0; i < cfg->n_rules && n < CW_MAX_RULES; i++)
        names[n++] = cfg->rules[i].name;
    select_box(h, "rule", "Open alert", q->rule, names, n);
    if (q->size != CW_CONSOLE_PAGE_DEFAULT)
        cw_html_printf(h, "<input type=\"hidden\" name=\"n\" value=\"%zu\">", q->size);
    cw_html_raw(h, "<button type=\"submit\">Filter</button> <a href=\"/\">clear</a></form>");
}

/* Counts per grade from the score index (the scores the daemon last saved). */
static int grade_counts(struct cw_console *c, const struct cw_console_query *q, struct cw_html *h,
                        char *err, size_t errsize)
{
    const struct cw_config *cfg = c->cfg;
    cw_html_raw(h, "<ul class=\"grades\">");
    for (size_t g = 0; g < cfg->score.n_grades; g++) {
        long long n = 0;
        double below = g == 0 ? HUGE_VAL : cfg->score.grades[g - 1].min_score;
        if (cw_store_count_scores(c->st, cfg->score.grades[g].min_score, below, &n, err, errsize) !=
            0)
            return -1;
        cw_html_raw(h, "<li><a href=\"");
        cw_console_query_href(h, q, 0, cfg->score.grades[g].name);
        cw_html_raw(h, "\">");
        cw_console_grade(h, true, cfg->score.grades[g].name, NULL);
        cw_html_printf(h, " <b class=\"count\" data-grade-count=\"%lld\">%lld</b></a></li>", n, n);
    }
    cw_html_raw(h, "</ul>");
    return 0;
}

/* Up to n accounts of the score index from rank on, lowest score first: their ids and
 * scores, and their state loaded into c->accts (rules_only: their traits and rule states
 * only, 2 reads an account instead of 7; idp: room for n pointers). The number read (0
 * past the end), or -1 with err set. */
static int read_chunk(struct cw_console *c, size_t rank, size_t n, bool rules_only, int32_t today,
                      char (*ids)[CW_ID_MAX + 1], double *scores, const char **idp, char *err,
                      size_t errsize)
{
    int got = cw_store_scores_range(c->st, rank, n, ids, scores, err, errsize);
    if (got <= 0)
        return got;
    for (int i = 0; i < got; i++)
        idp[i] = ids[i];
    int rc =
        rules_only
            ? cw_store_load_rules(c->st, c->cfg, idp, (size_t)got, today, c->accts, err, errsize)
            : cw_store_load(c->st, c->cfg, idp, (size_t)got, today, c->accts, err, errsize);
    return rc != 0 ? -1 : got;
}

unsigned cw_console_accounts(struct cw_console *c, const struct cw_console_query *q,
                             struct cw_html *out)
{
    const struct cw_config *cfg = c->cfg;
    char err[512];
    int64_t now = cw_wall_ms();
    int32_t today = cw_tz_day(c->tz, now);
    long long n_accounts = 0, n_scored = 0;
    if (cw_store_count_accounts(c->st, &n_accounts, &n_scored, err, sizeof err) != 0)
        return store_error(out, err);
    page_start(out, "Accounts", "accounts");
    cw_html_printf(out,
                   "<h1>Accounts <small>lowest score first</small></h1>"
                   "<p class=\"summary\"><b id=\"n-scored\">%lld</b> scored, "
                   "<b id=\"n-unscored\">%lld</b> not yet scored</p>",
                   n_scored, n_accounts > n_scored ? n_accounts - n_scored : 0);
    if (grade_counts(c, q, out, err, sizeof err) != 0)
        return store_error(out, err);
    filter_form(out, cfg, q);

    bool filtered = cw_console_query_filtered(q);
    struct cw_pager p;
    cw_pager_init(&p, q->from, q->size);
    struct cw_html rows = {0};
    char(*ids)[CW_ID_MAX + 1] = malloc(CW_CONSOLE_CHUNK * sizeof *ids);
    double *scores = malloc(CW_CONSOLE_CHUNK * sizeof *scores);
    const char **idp = malloc(CW_CONSOLE_CHUNK * sizeof *idp);
    bool partial = false, failed = false, done = false;
    size_t rank = q->from;
    if (!ids || !scores || !idp) {
        snprintf(err, sizeof err, "out of memory");
        failed = true;
        done = true;
    }
    /* unfiltered: the page and one more (is there a next page?); filtered: chunks */
    size_t chunk = filtered ? CW_CONSOLE_CHUNK : q->size + 1;
    if (chunk > CW_CONSOLE_CHUNK)
        chunk = CW_CONSOLE_CHUNK;
    while (!done) {
        int n = read_chunk(c, rank, chunk, false, today, ids, scores, idp, err, sizeof err);
        if (n < 0) {
            failed = true;
            break;
        }
        if (n == 0)
            break;
        for (int i = 0; i < n && !done; i++) {
            struct cw_account_data *a = &c->accts[i];
            bool match = false;
            if (a->exists) {
                cw_account_evaluate(cfg, a, now, c->eval);
                match = keep(c, q, a, c->eval, now);
            }
            switch (cw_pager_offer(&p, rank + (size_t)i, match)) {
            case CW_PAGE_TAKE:
                account_row(&rows, cfg, a, c->eval, now);
                break;
            case CW_PAGE_STOP:
                done = true;
                break;
            case CW_PAGE_SKIP:
                break;
            }
        }
        if (done)
            break;
        rank += (size_t)n;
        if (filtered && rank - q->from >= CW_CONSOLE_SCAN_BUDGET) {
            /* bounded work per request: the page so far, and a link to scan on */
            p.more = true;
            p.next = rank;
            partial = true;
            break;
        }
    }
    free(ids);
    free(scores);
    free(idp);
    if (failed || rows.oom) {
        cw_html_free(&rows);
        return store_error(out, rows.oom ? "out of memory" : err);
    }

    if (p.taken == 0) {
        cw_html_raw(out, "<p class=\"empty\" id=\"no-match\">No account matches.</p>");
    } else {
        cw_html_raw(out, "<table class=\"accounts\" id=\"accounts\"><thead><tr><th>Account</th>"
                         "<th>Score</th><th>Grade</th><th>Trend</th><th>Segment</th>"
                         "<th>Owner</th><th>Stage</th><th>Renewal</th><th>Open alerts</th></tr>"
                         "</thead><tbody>\n");
        cw_html_raw(out, rows.s);
        cw_html_raw(out, "</tbody></table>");
    }
    cw_html_free(&rows);
    cw_html_raw(out, "<nav class=\"pager\">");
    size_t prev;
    if (cw_pager_prev(&p, filtered, &prev)) {
        cw_html_raw(out, "<a rel=\"prev\" href=\"");
        cw_console_query_href(out, q, prev, NULL);
        cw_html_raw(out, filtered ? "\">&laquo; first page</a>" : "\">&laquo; previous</a>");
    }
    if (filtered)
        cw_html_printf(out,
                       "<span>%zu shown, scanned ranks %zu&ndash;%zu of the score index%s</span>",
                       p.taken, q->from + 1, p.more ? p.next : rank,
                       partial ? " (the scan stops here; go on for more)" : "");
    else if (p.taken > 0)
        cw_html_printf(out, "<span>%zu&ndash;%zu of %lld</span>", q->from + 1, q->from + p.taken,
                       n_scored);
    if (p.more) {
        cw_html_raw(out, "<a rel=\"next\" href=\"");
        cw_console_query_href(out, q, p.next, NULL);
        cw_html_raw(out, "\">next &raquo;</a>");
    }
    cw_html_raw(out, "</nav>");
    page_end(out, now);
    return 200;
}

/* ---- one account -------------------------------------------------------------------- */

static void trait_row(struct cw_html *h, const char *name, const char *value)
{
    cw_html_printf(h, "<tr><th>%s</th><td>", name);
    cw_html_text(h, value && *value ? value : NULL);
    cw_html_raw(h, "</td></tr>");
}

static void traits_table(struct cw_html *h, const struct cw_account_data *a,
                         const struct cw_account_eval *e, int64_t now)
{
    const struct cw_traits *t = &a->traits;
    char buf[96];
    cw_html_raw(h, "<section><h2>Traits</h2><table class=\"kv\" id=\"traits\">");
    trait_row(h, "Owner", t->owner);
    trait_row(h, "Segment", t->segment);
    trait_row(h, "Plan", t->plan);
    if (t->has_seats)
        snprintf(buf, sizeof buf, "%lld", (long long)t->seats);
    trait_row(h, "Seats", t->has_seats ? buf : NULL);
    if (t->has_created_at) {
        char ts[32];
        cw_rfc3339_format(t->created_at_ms, ts);
        snprintf(buf, sizeof buf, "%.10s", ts);
    }
    trait_row(h, "Created", t->has_created_at ? buf : NULL);
    if (t->has_renewal_at) {
        char ts[32];
        long long days = (long long)cw_cli_days_until(now, t->renewal_at_ms);
        cw_rfc3339_format(t->renewal_at_ms, ts);
        if (days >= 0)
            snprintf(buf, sizeof buf, "%.10s (in %lld day%s)", ts, days, days == 1 ? "" : "s");
        else
            snprintf(buf, sizeof buf, "%.10s (%lld day%s ago)", ts, -days, days == -1 ? "" : "s");
    }
    trait_row(h, "Renewal", t->has_renewal_at ? buf : NULL);
    trait_row(h, "Stage", e->score.stage);
    trait_row(h, "Profile", e->score.profile);
    if (t->parent_id[0]) { /* docs/hierarchies.md */
        cw_html_raw(h, "<tr><th>Parent</th><td id=\"parent\">");
        cw_console_account_link(h, t->parent_id);
        cw_html_raw(h, "</td></tr>");
    }
    cw_html_raw(h, "</table></section>");
}

static void chart_section(struct cw_html *h, const struct cw_config *cfg,
                          const struct cw_account_data *a, const struct cw_account_eval *e)
{
    struct cw_chart_band bands[16];
    struct cw_chart_line lines[CW_MAX_RULES];
    struct cw_chart ch = {.width = CHART_W, .height = CHART_H};
    for (size_t g = 0; g < cfg->score.n_grades && g < 16; g++)
        bands[ch.n_bands++] =
            (struct cw_chart_band){cfg->score.grades[g].name, cfg->score.grades[g].min_score};
    ch.bands = bands;
    /* the score thresholds of the rules that judge the score, as they apply to this account */
    for (size_t r = 0; r < cfg->n_rules && r < e->n_rules; r++) {
        enum cw_rule_kind k = cfg->rules[r].kind;
        if (k == CW_RULE_SCORE_BELOW || k == CW_RULE_SCORE_ABOVE || k == CW_RULE_RENEWAL)
            lines[ch.n_lines++] = (struct cw_chart_line){cfg->rules[r].name, e->params[r]->enter};
    }
    ch.lines = lines;
    ch.points = a->history;
    ch.n_points = a->n_history;
    ch.last_day = a->today;
    ch.first_day = a->n_history ? a->history[0].day : a->today - 1;
    if (a->n_history && a->history[a->n_history - 1].day > ch.last_day)
        ch.last_day = a->history[a->n_history - 1].day;
    cw_html_printf(h,
                   "<section><h2>Score trend <small>%zu day%s kept, one point a day; dashed: "
                   "the rules' thresholds</small></h2><div class=\"chart-box\" id=\"trend\" "
                   "data-points=\"%zu\">",
                   a->n_history, a->n_history == 1 ? "" : "s", a->n_history);
    cw_chart_svg(h, &ch);
    cw_html_raw(h, "</div></section>");
}

static void measures_section(struct cw_html *h, const struct cw_config *cfg,
                             const struct cw_account_eval *e)
{
    cw_html_raw(h, "<section><h2>Components and measures</h2><table class=\"measures\" "
                   "id=\"measures\"><thead><tr><th>Component / measure</th><th>Raw</th>"
                   "<th>Target</th><th>Contribution</th><th>Over</th></tr></thead><tbody>");
    for (size_t ci = 0; ci < cfg->score.n_components; ci++) {
        const struct cw_component *comp = &cfg->score.components[ci];
        const struct cw_component_result *cr = &e->score.components[ci];
        cw_html_raw(h, "<tr class=\"component\"><th>");
        cw_html_text(h, comp->name);
        if (cr->has)
            cw_html_printf(h,
                           "</th><td class=\"num\">%.2f</td><td></td><td class=\"num\">weight "
                           "%.0f%%</td><td></td></tr>",
                           cr->value, cr->share * 100);
        else
            cw_html_raw(h, "</th><td class=\"na\" colspan=\"4\">n/a</td></tr>");
        for (size_t m = 0; m < comp->n_measures; m++) {
            const struct cw_measure *ms = &comp->measures[m];
            const struct cw_measure_result *mr =
                &e->score.measures[cw_score_measure_index(cfg, ci, m)];
            cw_html_raw(h, "<tr><td class=\"measure\">");
            cw_html_text(h, ms->name);
            if (!mr->has) {
                cw_html_raw(h, "</td><td class=\"na\" colspan=\"3\">");
                cw_html_text(h, cw_score_na_text(mr->na));
            } else {
                cw_html_printf(h,
                               "</td><td class=\"num\">%.2f</td><td class=\"num\">%.4g</td>"
                               "<td class=\"num\">%.1f</td>",
                               mr->raw, mr->target, mr->contribution);
            }
            cw_html_raw(h, "</td><td>");
            cw_html_text(h, cfg->metrics[ms->metric].name);
            cw_html_raw(h, " over ");
            cw_html_text(h, cfg->windows[ms->window].name);
            cw_html_raw(h, ms->per_seat ? ", per seat</td></tr>" : "</td></tr>");
        }
    }
    cw_html_raw(h, "</tbody></table></section>");
}

static void moved_section(struct cw_html *h, const struct cw_config *cfg,
                          const struct cw_account_eval *e)
{
    struct cw_score_result before;
    uint32_t days = cw_account_moved_days(cfg, &e->view, MOVED_DAYS_MAX);
    cw_html_raw(h, "<section><h2>What moved it</h2>");
    if (!e->score.has_score || !cw_account_score_days_ago(cfg, &e->view, days, &before)) {
        cw_html_raw(h, "<p class=\"empty\">Not enough kept history to compare with.</p></section>");
        return;
    }
    struct cw_score_move moves[MOVES_MAX];
    size_t n = cw_score_moves(cfg, &before, &e->score, moves, MOVES_MAX);
    cw_html_printf(h, "<p>Against %u days ago%s</p>", days,
                   before.has_score ? "" : " (no score then)");
    if (n == 0) {
        cw_html_raw(h, "<p class=\"empty\">Nothing moved by more than 0.05 points.</p></section>");
        return;
    }
    cw_html_raw(h, "<table class=\"moves\" id=\"moves\"><thead><tr><th>Measure</th><th>Points</th>"
                   "<th>Then</th><th>Now</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct cw_component *comp = &cfg->score.components[moves[i].component];
        size_t base = cw_score_measure_index(cfg, moves[i].component, 0);
        cw_html_raw(h, "<tr><td>");
        cw_html_text(h, comp->measures[moves[i].measure - base].name);
        cw_html_printf(h,
                       "</td><td class=\"num %s\">%+.1f</td><td class=\"num\">%.1f</td>"
                       "<td class=\"num\">%.1f</td></tr>",
                       moves[i].delta < 0 ? "down" : "up", moves[i].delta, moves[i].before,
                       moves[i].after);
    }
    cw_html_raw(h, "</tbody></table></section>");
}

/* The hidden fields every action form carries: the account and its CSRF token. The
 * operator types the token into the form: it is never part of a page. */
static void form_fields(struct cw_html *h, const struct cw_console *c, const char *id)
{
    char csrf[CW_CONSOLE_CSRF_LEN + 1];
    cw_console_csrf(c, id, csrf);
    cw_html_raw(h, "<input type=\"hidden\" name=\"id\" value=\"");
    cw_html_text(h, id);
    cw_html_printf(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
}

static void token_field(struct cw_html *h)
{
    cw_html_raw(h, "<label>Operator token <input type=\"password\" name=\"token\" "
                   "autocomplete=\"off\" required></label>");
}

static void silence_form(struct cw_html *h, const struct cw_console *c, const char *id)
{
    const struct cw_config *cfg = c->cfg;
    cw_html_raw(h, "<form class=\"action\" id=\"silence-form\" method=\"post\" "
                   "action=\"/silence\">");
    form_fields(h, c, id);
    cw_html_raw(h, "<label>Rule <select name=\"rule\"><option value=\"\">all rules</option>");
    for (size_t r = 0; r < cfg->n_rules; r++) {
        cw_html_raw(h, "<option value=\"");
        cw_html_text(h, cfg->rules[r].name);
        cw_html_raw(h, "\">");
        cw_html_text(h, cfg->rules[r].name);
        cw_html_raw(h, "</option>");
    }
    cw_html_raw(h, "</select></label><label>For <input type=\"text\" name=\"for\" "
                   "value=\"7d\" required></label><label>Reason <input type=\"text\" "
                   "name=\"reason\" required></label>");
    token_field(h);
    cw_html_raw(h, "<button type=\"submit\">Silence</button></form>");
}

static void alerts_section(struct cw_html *h, const struct cw_console *c,
                           const struct cw_account_data *a, const struct cw_account_eval *e,
                           int64_t now)
{
    const struct cw_config *cfg = c->cfg;
    cw_html_raw(h, "<section><h2>Alerts</h2>");
    size_t open = 0;
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
        const struct cw_rule_state *s = &a->rules[r];
        if (s->status == CW_RULE_OK)
            continue;
        if (open++ == 0)
            cw_html_raw(h, "<table id=\"alerts\"><thead><tr><th>Rule</th><th>Status</th>"
                           "<th>Severity</th><th>Since</th><th>Alert id</th></tr></thead><tbody>");
        char since[32];
        cw_rfc3339_format(s->since_ms, since);
        cw_html_raw(h, "<tr><td>");
        cw_html_text(h, cfg->rules[r].name);
        cw_html_printf(h, "%s</td><td class=\"st-%s\">%s</td><td>%s</td><td>%s</td><td><code>",
                       cfg->rules[r].direction == CW_DIR_OPPORTUNITY ? " (opportunity)" : "",
                       s->status == CW_RULE_FIRING ? "firing" : "pending",
                       s->status == CW_RULE_FIRING ? "firing" : "pending",
                       cw_severity_name(e->params[r]->severity), since);
        cw_html_text(h, s->status == CW_RULE_FIRING ? s->alert_id : NULL);
        cw_html_raw(h, "</code></td></tr>");
    }
    if (open == 0)
        cw_html_raw(h, "<p class=\"empty\">None open.</p>");
    else
        cw_html_raw(h, "</tbody></table>");
    cw_console_episodes_section(h, a);
    if (a->n_outbox > 0)
        cw_html_printf(h, "<p>%zu alert%s saved and not yet acknowledged by Kafka.</p>",
                       a->n_outbox, a->n_outbox == 1 ? "" : "s");
    cw_html_raw(h, "<h3>Silences</h3>");
    size_t active = 0;
    for (size_t i = 0; i < a->n_silences; i++) {
        const struct cw_silence *s = &a->silences[i];
        if (s->until_ms <= now)
            continue;
        char until[32];
        cw_rfc3339_format(s->until_ms, until);
        if (active++ == 0)
            cw_html_printf(h,
                           "<table id=\"silences\"><thead><tr><th>Rule</th><th>Until</th>"
                           "<th>Reason</th>%s</tr></thead><tbody>",
                           c->actions ? "<th></th>" : "");
        cw_html_raw(h, "<tr><td>");
        cw_html_text(h, s->rule[0] ? s->rule : "(all rules)");
        cw_html_printf(h, "</td><td>%s</td><td>", until);
        cw_html_text(h, s->reason);
        cw_html_raw(h, "</td>");
        if (c->actions) {
            cw_html_raw(h, "<td><form class=\"action\" method=\"post\" action=\"/unsilence\">");
            form_fields(h, c, a->account_id);
            cw_html_raw(h, "<input type=\"hidden\" name=\"rule\" value=\"");
            cw_html_text(h, s->rule);
            cw_html_raw(h, "\">");
            token_field(h);
            cw_html_raw(h, "<button type=\"submit\">Lift</button></form></td>");
        }
        cw_html_raw(h, "</tr>");
    }
    if (active == 0)
        cw_html_raw(h, "<p class=\"empty\">None active.</p>");
    else
        cw_html_raw(h, "</tbody></table>");
    if (c->actions)
        silence_form(h, c, a->account_id);
    cw_html_raw(h, "</section>");
}

/* The page of a parent with no events of its own: its children (docs/hierarchies.md). */
static void parent_only_page(struct cw_console *c, const char *id, const struct cw_cli_children *ch,
                             int64_t now, struct cw_html *out)
{
    page_start(out, id, "account");
    cw_html_raw(out, "<h1>Account <span class=\"acct-id\" id=\"account-id\">");
    cw_html_text(out, id);
    cw_html_raw(out, "</span></h1><p class=\"headline\" id=\"parent-only\">No events of its "
                     "own: the parent of the accounts below.</p>");
    cw_console_children_section(out, c->cfg, ch);
    page_end(out, now);
}

unsigned cw_console_account(struct cw_console *c, const char *id, struct cw_html *out)
{
    const struct cw_config *cfg = c->cfg;
    char err[512];
    int64_t now = cw_wall_ms();
    int32_t today = cw_tz_day(c->tz, now);
    struct cw_account_data *a = &c->accts[0];
    struct cw_cli_children ch = {0};
    if (cw_store_load(c->st, cfg, &id, 1, today, a, err, sizeof err) != 0 ||
        cw_cli_children_find(cfg, c->st, today, now, id, &ch, err, sizeof err) != 0 ||
        (a->exists && cw_config_has_parent_rules(cfg) &&
         cw_store_load_children(c->st, a, 1, err, sizeof err) != 0)) {
        cw_cli_children_free(&ch);
        return store_error(out, err);
    }
    if (!a->exists) {
        unsigned status = 200;
        if (ch.n == 0 && ch.more == 0) {
            cw_console_error(out, 404, "No such account in the state store.");
            status = 404;
        } else {
            parent_only_page(c, id, &ch, now, out);
        }
        cw_cli_children_free(&ch);
        return status;
    }
    struct cw_account_eval *e = c->eval;
    cw_account_evaluate(cfg, a, now, e);
    page_start(out, a->account_id, "account");
    cw_html_raw(out, "<h1>Account <span class=\"acct-id\" id=\"account-id\">");
    cw_html_text(out, a->account_id);
    cw_html_raw(out, "</span></h1><p class=\"headline\">");
    if (e->score.has_score)
        cw_html_printf(out, "<span class=\"big\" id=\"score\">%.1f</span> ", e->score.score);
    else
        cw_html_raw(out, "<span class=\"big\" id=\"score\">n/a</span> ");
    cw_console_grade(out, e->score.has_score, e->score.grade, "grade");
    cw_html_printf(out, " trend %s</p>", cw_cli_trend(a, e));
    chart_section(out, cfg, a, e);
    cw_html_raw(out, "<div class=\"cols\">");
    traits_table(out, a, e, now);
    alerts_section(out, c, a, e, now);
    cw_html_raw(out, "</div>");
    cw_console_children_section(out, cfg, &ch);
    moved_section(out, cfg, e);
    measures_section(out, cfg, e);
    page_end(out, now);
    cw_cli_children_free(&ch);
    return 200;
}

/* ---- rules -------------------------------------------------------------------------- */

struct rule_counts {
    size_t pending[CW_MAX_RULES], firing[CW_MAX_RULES];
    char segments[RULES_SEGMENTS][CW_TRAIT_MAX + 1]; /* "" : no segment */
    size_t n_segments;
    size_t by_segment[CW_MAX_RULES][RULES_SEGMENTS + 1]; /* open; [RULES_SEGMENTS]: other */
    struct recent {
        int64_t since_ms;
        size_t rule;
        bool firing;
        char account[CW_ID_MAX + 1];
    } recent[RULES_RECENT];
    size_t n_recent;
    struct cw_console_resolutions resolved;
};

static size_t segment_slot(struct rule_counts *rc, const char *segment)
{
    for (size_t i = 0; i < rc->n_segments; i++)
        if (strcmp(rc->segments[i], segment) == 0)
            return i;
    if (rc->n_segments == RULES_SEGMENTS)
        return RULES_SEGMENTS;
    snprintf(rc->segments[rc->n_segments], sizeof rc->segments[0], "%s", segment);
    return rc->n_segments++;
}

/* Keep the RULES_RECENT latest episode starts, newest first. */
static void recent_add(struct rule_counts *rc, const struct cw_account_data *a, size_t r)
{
    const struct cw_rule_state *s = &a->rules[r];
    size_t i = rc->n_recent;
    if (i == RULES_RECENT) {
        if (rc->recent[RULES_RECENT - 1].since_ms >= s->since_ms)
            return;
        i--;
    } else {
        rc->n_recent++;
    }
    while (i > 0 && rc->recent[i - 1].since_ms < s->since_ms) {
        rc->recent[i] = rc->recent[i - 1];
        i--;
    }
    rc->recent[i].since_ms = s->since_ms;
    rc->recent[i].rule = r;
    rc->recent[i].firing = s->status == CW_RULE_FIRING;
    snprintf(rc->recent[i].account, sizeof rc->recent[i].account, "%s", a->account_id);
}

unsigned cw_console_rules(struct cw_console *c, struct cw_html *out)
{
    const struct cw_config *cfg = c->cfg;
    char err[512];
    int64_t now = cw_wall_ms();
    int32_t today = cw_tz_day(c->tz, now);
    struct rule_counts *rc = calloc(1, sizeof *rc);
    char(*ids)[CW_ID_MAX + 1] = malloc(CW_CONSOLE_CHUNK * sizeof *ids);
    double *scores = malloc(CW_CONSOLE_CHUNK * sizeof *scores);
    const char **idp = malloc(CW_CONSOLE_CHUNK * sizeof *idp);
    size_t scanned = 0;
    bool failed = false, capped = false;
    long long n_accounts = 0, n_scored = 0;
    if (!rc || !ids || !scores || !idp) {
        snprintf(err, sizeof err, "out of memory");
        failed = true;
    } else if (cw_store_count_accounts(c->st, &n_accounts, &n_scored, err, sizeof err) != 0) {
        failed = true;
    }
    while (!failed) {
        if (scanned >= RULES_SCAN_MAX) {
            capped = true;
            break;
        }
        int n = read_chunk(c, scanned, CW_CONSOLE_CHUNK, true, today, ids, scores, idp, err,
                           sizeof err);
        if (n < 0) {
            failed = true;
            break;
        }
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            const struct cw_account_data *a = &c->accts[i];
            if (!a->exists)
                continue;
            cw_console_resolutions_add(&rc->resolved, a);
            size_t seg = segment_slot(rc, a->traits.segment);
            for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++) {
                if (a->rules[r].status == CW_RULE_OK)
                    continue;
                if (a->rules[r].status == CW_RULE_FIRING)
                    rc->firing[r]++;
                else
                    rc->pending[r]++;
                rc->by_segment[r][seg]++;
                recent_add(rc, a, r);
            }
        }
        scanned += (size_t)n;
    }
    free(ids);
    free(scores);
    free(idp);
    if (failed) {
        free(rc);
        return store_error(out, err);
    }

    page_start(out, "Rules", "rules");
    cw_html_printf(out,
                   "<h1>Rules <small>open episodes</small></h1><p class=\"summary\">Counted over "
                   "<b id=\"rules-scanned\">%zu</b> of %lld scored accounts%s.</p>",
                   scanned, n_scored,
                   capped ? " (the lowest scores; the rest are not counted here)" : "");
    cw_html_raw(out, "<table class=\"rules\" id=\"rules\"><thead><tr><th>Rule</th><th>Kind</th>"
                     "<th>Firing</th><th>Pending</th><th>Open by segment</th></tr></thead><tbody>");
    for (size_t r = 0; r < cfg->n_rules; r++) {
        const char *name = cfg->rules[r].name;
        cw_html_raw(out, "<tr><td><a href=\"/?rule=");
        cw_html_url(out, name);
        cw_html_raw(out, "\">");
        cw_html_text(out, name);
        cw_html_printf(out,
                       "</a></td><td>%s%s</td><td class=\"num firing\">%zu</td>"
                       "<td class=\"num\">%zu</td><td>",
                       cw_rule_kind_name(cfg->rules[r].kind),
                       cfg->rules[r].direction == CW_DIR_OPPORTUNITY ? " (opportunity)" : "",
                       rc->firing[r], rc->pending[r]);
        size_t shown = 0;
        for (size_t s = 0; s <= rc->n_segments && s <= RULES_SEGMENTS; s++) {
            size_t n = rc->by_segment[r][s];
            if (n == 0)
                continue;
            cw_html_raw(out, shown++ ? ", " : "");
            if (s == RULES_SEGMENTS)
                cw_html_raw(out, "other");
            else
                cw_html_text(out, rc->segments[s][0] ? rc->segments[s] : "(none)");
            cw_html_printf(out, " %zu", n);
        }
        cw_html_raw(out, shown ? "</td></tr>" : "-</td></tr>");
    }
    cw_html_raw(out, "</tbody></table><div class=\"cols\"><div><h2>Latest starts</h2>");
    if (rc->n_recent == 0)
        cw_html_raw(out, "<p class=\"empty\">No open episode.</p>");
    else
        cw_html_raw(out, "<table id=\"recent\"><thead><tr><th>Since</th><th>Rule</th>"
                         "<th>Status</th><th>Account</th></tr></thead><tbody>");
    for (size_t i = 0; i < rc->n_recent; i++) {
        char since[32];
        cw_rfc3339_format(rc->recent[i].since_ms, since);
        cw_html_printf(out, "<tr><td>%s</td><td>", since);
        cw_html_text(out, cfg->rules[rc->recent[i].rule].name);
        cw_html_printf(out, "</td><td class=\"st-%s\">%s</td><td>",
                       rc->recent[i].firing ? "firing" : "pending",
                       rc->recent[i].firing ? "firing" : "pending");
        cw_console_account_link(out, rc->recent[i].account);
        cw_html_raw(out, "</td></tr>");
    }
    if (rc->n_recent)
        cw_html_raw(out, "</tbody></table>");
    cw_html_raw(out, "</div><div>");
    cw_console_resolutions_html(out, &rc->resolved);
    cw_html_raw(out, "</div></div>");
    free(rc);
    page_end(out, now);
    return 200;
}
