/* console_children.c - the web console's view of a hierarchy (docs/hierarchies.md): a
 * parent's children with their scores and roll-up, as `churnwatch account` lists them */
#include <stdio.h>

#include "churnwatch/enum_names.h"
#include "cli.h"
#include "console.h"

void cw_console_children_section(struct cw_html *h, const struct cw_config *cfg,
                                 const struct cw_cli_children *ch)
{
    if (ch->n == 0 && ch->more == 0)
        return;
    cw_html_printf(h, "<section><h2>Children <small>%zu</small></h2><p class=\"headline\">",
                   ch->n + ch->more);
    cw_html_printf(h,
                   "Rolled up (%s): ", cw_enum_name(&cw_rollup_names, (int)cfg->hierarchy.rollup));
    if (ch->has_rollup)
        cw_html_printf(h, "<span class=\"big\" id=\"rollup\">%.1f</span> ", ch->rollup);
    else
        cw_html_raw(h, "<span class=\"big\" id=\"rollup\">n/a</span> ");
    cw_console_grade(h, ch->has_rollup, ch->rollup_grade, "rollup-grade");
    cw_html_raw(h, "</p><table id=\"children\"><thead><tr><th>Account</th><th>Score</th>"
                   "<th>Grade</th><th>Seats</th></tr></thead><tbody>");
    for (size_t i = 0; i < ch->n; i++) {
        const struct cw_cli_child *c = &ch->items[i];
        cw_html_raw(h, "<tr><td>");
        cw_console_account_link(h, c->id);
        if (c->has_score)
            cw_html_printf(h, "</td><td class=\"num\">%.1f</td><td>", c->score);
        else
            cw_html_raw(h, "</td><td class=\"num\">n/a</td><td>");
        cw_console_grade(h, c->has_score, c->grade, NULL);
        if (c->has_seats)
            cw_html_printf(h, "</td><td class=\"num\">%lld</td></tr>", (long long)c->seats);
        else
            cw_html_raw(h, "</td><td class=\"num\">-</td></tr>");
    }
    cw_html_raw(h, "</tbody></table>");
    if (ch->more)
        cw_html_printf(h,
                       "<p class=\"empty\">%zu more not listed nor rolled up (the first %d "
                       "are).</p>",
                       ch->more, CW_HIERARCHY_MAX_CHILDREN);
    cw_html_raw(h, "</section>");
}
