/* console.h - the web console's pages (console_pages.c, recent episodes in
 * console_episodes.c) over the store, and its embedded stylesheet (console_assets.c); served by
 * `churnwatch console` (cmd_console.c) */
#ifndef CHURNWATCH_CLI_CONSOLE_H
#define CHURNWATCH_CLI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "churnwatch/config.h"
#include "churnwatch/console_query.h"
#include "churnwatch/html.h"
#include "churnwatch/window.h"
#include "store.h"

#define CW_CONSOLE_CSRF_LEN 64 /* hex of an HMAC-SHA256 */

/* What the pages read: the config, the state store (the one `top` and `account` read) and
 * the time zone; scratch buffers for the accounts loaded per request. Used by one thread. */
struct cw_console {
    const struct cw_config *cfg;
    cw_store *st;
    cw_tz *tz;
    struct cw_account_data *accts; /* CW_CONSOLE_CHUNK, reused across requests */
    struct cw_account_eval *eval;
    /* Actions (console_actions.c): only with an operator token configured. */
    bool actions;
    unsigned char key[32];                   /* random per process: the MACs' key */
    char token_mac[CW_CONSOLE_CSRF_LEN + 1]; /* the token's MAC; the token is not kept */
};

/* Accounts loaded per round trip while a page is filled; ranks of the score index a filtered
 * page scans at most before it offers to continue (docs/console.md). */
#define CW_CONSOLE_CHUNK       200
#define CW_CONSOLE_SCAN_BUDGET 20000

/* cw_console_open allocates the scratch buffers (0, or -1 when memory is short);
 * cw_console_close releases them. */
int cw_console_open(struct cw_console *c);
void cw_console_close(struct cw_console *c);

/* Each page renders a whole HTML document into out and returns its HTTP status: 200, 404 (no
 * such account) or 503 (the store failed: the page says so). */
unsigned cw_console_accounts(struct cw_console *c, const struct cw_console_query *q,
                             struct cw_html *out);
unsigned cw_console_account(struct cw_console *c, const char *id, struct cw_html *out);
unsigned cw_console_rules(struct cw_console *c, struct cw_html *out);
/* A short page for an error of the request itself (400, 404, 405). */
void cw_console_error(struct cw_html *out, unsigned status, const char *message);
/* A link to the account's page, its id escaped. */
void cw_console_account_link(struct cw_html *h, const char *id);

/* Recent resolved episodes (console_episodes.c). The account page's table of a's, newest
 * first; the rules page's latest resolutions over the accounts it counts: add each loaded
 * account, then render (the CW_CONSOLE_RESOLUTIONS newest, each with its account). */
#define CW_CONSOLE_RESOLUTIONS 20
struct cw_console_resolutions {
    struct {
        struct cw_episode ep;
        char account[CW_ID_MAX + 1];
    } items[CW_CONSOLE_RESOLUTIONS];
    size_t n;
};
void cw_console_episodes_section(struct cw_html *h, const struct cw_account_data *a);
void cw_console_resolutions_add(struct cw_console_resolutions *r, const struct cw_account_data *a);
void cw_console_resolutions_html(struct cw_html *h, const struct cw_console_resolutions *r);

/* A grade badge: <span class="grade g-GRADE" [id="ID"]>GRADE</span>, or the "none" badge
 * ("-") when has is false (console_pages.c). */
void cw_console_grade(struct cw_html *h, bool has, const char *grade, const char *id);

/* The children of a parent (console_children.c): a section listing them with their scores
 * and the roll-up; nothing when ch has none. */
struct cw_cli_children;
void cw_console_children_section(struct cw_html *h, const struct cw_config *cfg,
                                 const struct cw_cli_children *ch);

/*
 * The operator token: read from token_file (its first line; the file must not be readable by
 * group or others) or else from CHURNWATCH_CONSOLE_TOKEN (at least 16 bytes). With neither
 * the console stays read-only (c->actions false). Also draws the process's random MAC key.
 * 0, or -1 with err.
 */
int cw_console_actions_init(struct cw_console *c, const char *token_file, char *err,
                            size_t errsize);

/* The CSRF token of the forms of one account's page (HMAC of the id under the key). */
void cw_console_csrf(const struct cw_console *c, const char *account_id,
                     char out[CW_CONSOLE_CSRF_LEN + 1]);

/* A posted form: silence (rule "" or NULL: all rules; duration; reason) or unsilence (rule
 * "" or NULL: every silence of the account). The strings are the caller's. */
struct cw_console_action {
    bool silence;
    const char *id, *rule, *duration, *reason, *token, *csrf;
};

/* Check the form's CSRF token and the operator token, then set or lift the silence as
 * `churnwatch silence` / `unsilence` do. Returns 303 (done: back to the account's page),
 * 400, 403, 405 (no token configured) or 503, with msg saying why. */
unsigned cw_console_act(struct cw_console *c, const struct cw_console_action *a, char *msg,
                        size_t msgsize);

/* The stylesheet, served at /static/console.css. */
extern const char cw_console_css[];

#endif /* CHURNWATCH_CLI_CONSOLE_H */
