/* console_actions.c - the web console's guarded actions (docs/console.md "Actions"): the
 * operator token, the per-account CSRF tokens of the forms, and silence / unsilence */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "console.h"
#include "wall_clock.h"

#define TOKEN_MIN 16

/* out = hex HMAC-SHA256 under c's key of tag (with its NUL) and s; false (out "") when
 * OpenSSL failed: callers then refuse. */
static bool hmac_hex(const struct cw_console *c, const char *tag, const char *s,
                     char out[CW_CONSOLE_CSRF_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t tl = strlen(tag) + 1, sl = strlen(s); /* the tag and its NUL, then s */
    unsigned char *msg = malloc(tl + sl + 1);
    if (msg) {
        memcpy(msg, tag, tl);
        memcpy(msg + tl, s, sl);
        if (!HMAC(EVP_sha256(), c->key, (int)sizeof c->key, msg, tl + sl, md, &len))
            len = 0;
        free(msg);
    }
    memset(out, 0, CW_CONSOLE_CSRF_LEN + 1);
    for (unsigned i = 0; i < len && 2 * i + 1 < CW_CONSOLE_CSRF_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    return 2 * (size_t)len >= CW_CONSOLE_CSRF_LEN;
}

int cw_console_actions_init(struct cw_console *c, const char *token_file, char *err, size_t errsize)
{
    const char *env = getenv("CHURNWATCH_CONSOLE_TOKEN");
    char token[512] = "";
    if (token_file) {
        FILE *f = fopen(token_file, "r");
        struct stat sb;
        if (!f || fstat(fileno(f), &sb) != 0) {
            snprintf(err, errsize, "--token-file %s: %s", token_file, strerror(errno));
            if (f)
                fclose(f);
            return -1;
        }
        if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
            snprintf(err, errsize, "--token-file %s: readable by others (chmod 600 it)",
                     token_file);
            fclose(f);
            return -1;
        }
        if (!fgets(token, sizeof token, f))
            token[0] = '\0';
        fclose(f);
        token[strcspn(token, "\r\n")] = '\0';
    } else if (env) {
        snprintf(token, sizeof token, "%s", env);
    }
    if (RAND_bytes(c->key, sizeof c->key) != 1) {
        snprintf(err, errsize, "no random bytes for the CSRF key");
        return -1;
    }
    if (!token_file && !env)
        return 0; /* no token: strictly read-only */
    if (strlen(token) < TOKEN_MIN) {
        snprintf(err, errsize, "the operator token must be at least %d bytes", TOKEN_MIN);
        return -1;
    }
    bool ok = hmac_hex(c, "token", token, c->token_mac); /* only its MAC is kept */
    OPENSSL_cleanse(token, sizeof token);
    if (!ok) {
        snprintf(err, errsize, "HMAC-SHA256 failed");
        return -1;
    }
    c->actions = true;
    return 0;
}

void cw_console_csrf(const struct cw_console *c, const char *account_id,
                     char out[CW_CONSOLE_CSRF_LEN + 1])
{
    hmac_hex(c, "csrf", account_id, out);
}

/* Both MACs compared in constant time: neither the token's length nor a prefix leaks. */
static bool token_ok(const struct cw_console *c, const char *token)
{
    char mac[CW_CONSOLE_CSRF_LEN + 1];
    return hmac_hex(c, "token", token ? token : "", mac) &&
           CRYPTO_memcmp(mac, c->token_mac, CW_CONSOLE_CSRF_LEN) == 0;
}

static bool csrf_ok(const struct cw_console *c, const char *id, const char *csrf)
{
    char want[CW_CONSOLE_CSRF_LEN + 1];
    return hmac_hex(c, "csrf", id, want) && csrf && strlen(csrf) == CW_CONSOLE_CSRF_LEN &&
           CRYPTO_memcmp(want, csrf, CW_CONSOLE_CSRF_LEN) == 0;
}

static bool rule_known(const struct cw_config *cfg, const char *rule)
{
    for (size_t r = 0; r < cfg->n_rules; r++)
        if (strcmp(cfg->rules[r].name, rule) == 0)
            return true;
    return false;
}

unsigned cw_console_act(struct cw_console *c, const struct cw_console_action *a, char *msg,
                        size_t msgsize)
{
    if (!c->actions) {
        snprintf(msg, msgsize, "The console is read-only: no operator token is configured.");
        return 405;
    }
    if (!a->id || !*a->id || strlen(a->id) > CW_ID_MAX) {
        snprintf(msg, msgsize, "The form names no account.");
        return 400;
    }
    if (!csrf_ok(c, a->id, a->csrf)) {
        snprintf(msg, msgsize, "The form's CSRF token does not match: reload the page.");
        return 403;
    }
    if (!token_ok(c, a->token)) {
        snprintf(msg, msgsize, "Wrong operator token.");
        return 403;
    }
    const char *rule = a->rule ? a->rule : "";
    if (*rule && !rule_known(c->cfg, rule)) {
        snprintf(msg, msgsize, "No such rule.");
        return 400;
    }
    char err[512];
    if (!a->silence) {
        if (cw_store_silence_delete(c->st, a->id, rule, err, sizeof err) != 0) {
            snprintf(msg, msgsize, "%s", err);
            return 503;
        }
        return 303;
    }
    int64_t for_ms = 0;
    if (!a->duration || cw_duration_parse(a->duration, &for_ms) != 0 || for_ms <= 0) {
        snprintf(msg, msgsize, "The silence wants a duration such as 7d.");
        return 400;
    }
    if (!a->reason || !*a->reason) {
        snprintf(msg, msgsize, "The silence wants a reason.");
        return 400;
    }
    struct cw_silence s;
    memset(&s, 0, sizeof s);
    if (strlen(rule) >= sizeof s.rule || strlen(a->reason) >= sizeof s.reason) {
        snprintf(msg, msgsize, "The rule or the reason is too long.");
        return 400;
    }
    int64_t now = cw_wall_ms();
    snprintf(s.account_id, sizeof s.account_id, "%s", a->id);
    snprintf(s.rule, sizeof s.rule, "%s", rule);
    snprintf(s.reason, sizeof s.reason, "%s", a->reason);
    s.created_ms = now;
    s.until_ms = now + for_ms;
    if (cw_store_silence_set(c->st, &s, err, sizeof err) != 0) {
        snprintf(msg, msgsize, "%s", err);
        return 503;
    }
    return 303;
}
