/* console_episodes.c - the web console's recent resolved episodes (docs/state.md "Recent
 * episodes"): an account's table on its page, and the latest resolutions over the accounts
 * the rules page counts */
#include <stdio.h>
#include <string.h>

#include "churnwatch/event.h"
#include "console.h"

/* One row: resolved, rule, severity, started, duration, alert id (and the account). */
static void episode_row(struct cw_html *h, const struct cw_episode *ep, const char *account)
{
    char started[32], resolved[32], dur[CW_DURATION_TEXT_MAX];
    cw_rfc3339_format(ep->started_ms, started);
    cw_rfc3339_format(ep->resolved_ms, resolved);
    cw_duration_format(ep->resolved_ms - ep->started_ms, dur);
    cw_html_printf(h, "<tr><td>%s</td><td>", resolved);
    cw_html_text(h, ep->rule);
    cw_html_printf(h, "</td><td>%s</td><td>%s</td><td class=\"num\">%s</td><td><code>",
                   cw_severity_name(ep->severity), started, dur);
    cw_html_text(h, ep->alert_id);
    cw_html_raw(h, "</code></td>");
    if (account) {
        cw_html_raw(h, "<td>");
        cw_console_account_link(h, account);
        cw_html_raw(h, "</td>");
    }
    cw_html_raw(h, "</tr>");
}

static void table_start(struct cw_html *h, const char *id, bool with_account)
{
    cw_html_printf(h,
                   "<table id=\"%s\"><thead><tr><th>Resolved</th><th>Rule</th><th>Severity</th>"
                   "<th>Started</th><th>Lasted</th><th>Alert id</th>%s</tr></thead><tbody>",
                   id, with_account ? "<th>Account</th>" : "");
}

void cw_console_episodes_section(struct cw_html *h, const struct cw_account_data *a)
{
    cw_html_printf(h, "<h3>Recent episodes <small>the last %d resolved</small></h3>",
                   CW_EPISODES_KEPT);
    if (a->n_episodes == 0) {
        cw_html_raw(h, "<p class=\"empty\">None resolved recently.</p>");
        return;
    }
    table_start(h, "episodes", false);
    for (size_t i = 0; i < a->n_episodes; i++)
        episode_row(h, &a->episodes[i], NULL);
    cw_html_raw(h, "</tbody></table>");
}

void cw_console_resolutions_add(struct cw_console_resolutions *r, const struct cw_account_data *a)
{
    for (size_t k = 0; k < a->n_episodes; k++) {
        const struct cw_episode *ep = &a->episodes[k];
        size_t i = r->n;
        if (i == CW_CONSOLE_RESOLUTIONS) {
            if (r->items[i - 1].ep.resolved_ms >= ep->resolved_ms)
                return; /* a's episodes are newest first: the rest are older still */
            i--;
        } else {
            r->n++;
        }
        while (i > 0 && r->items[i - 1].ep.resolved_ms < ep->resolved_ms) {
            r->items[i] = r->items[i - 1];
            i--;
        }
        r->items[i].ep = *ep;
        snprintf(r->items[i].account, sizeof r->items[i].account, "%s", a->account_id);
    }
}

void cw_console_resolutions_html(struct cw_html *h, const struct cw_console_resolutions *r)
{
    cw_html_raw(h, "<h2>Latest resolutions</h2>");
    if (r->n == 0) {
        cw_html_raw(h, "<p class=\"empty\">No episode resolved recently.</p>");
        return;
    }
    table_start(h, "resolved", true);
    for (size_t i = 0; i < r->n; i++)
        episode_row(h, &r->items[i].ep, r->items[i].account);
    cw_html_raw(h, "</tbody></table>");
}
