/* cmd_console.c - `churnwatch console`: the web console (docs/console.md) served over
 * libmicrohttpd: routing, the security headers, the Host check, the posted silence forms,
 * start and stop */
#include <getopt.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "console.h"
#include "http.h"

#define CONSOLE_DEFAULT_LISTEN "127.0.0.1:9465"
#define CONSOLE_MAX_HOSTS      8
#define CONSOLE_CONNECTIONS    64
#define CONSOLE_IDLE_TIMEOUT_S 30

/* No script, no frame, nothing from elsewhere: the pages are HTML, inline SVG and one
 * stylesheet of this origin. */
#define CONSOLE_CSP                                                                                \
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "                   \
    "frame-ancestors 'none'; base-uri 'none'"

struct server {
    struct cw_console console;
    unsigned port;
    bool loopback;
    const char *hosts[CONSOLE_MAX_HOSTS]; /* --allow-host */
    size_t n_hosts;
};

static void usage(void)
{
    fprintf(stderr, "usage: churnwatch console [--listen HOST:PORT] [--allow-host NAME]... "
                    "[--token-file FILE]\n");
}

/* The Host header names this server: an --allow-host name, or (listening on loopback) a
 * loopback name with the port. Refusing others keeps a page elsewhere from reading the
 * console through DNS rebinding (docs/console.md, "Security"). */
static bool host_allowed(const struct server *s, const char *host)
{
    if (!host)
        return false;
    for (size_t i = 0; i < s->n_hosts; i++)
        if (strcasecmp(host, s->hosts[i]) == 0)
            return true;
    if (!s->loopback)
        return s->n_hosts == 0;
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s:%u", names[i], s->port);
        if (strcasecmp(host, want) == 0 || (s->port == 80 && strcasecmp(host, names[i]) == 0))
            return true;
    }
    return false;
}

static void add_headers(struct MHD_Response *r, const char *type, const char *cache,
                        const char *allow)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(r, "Content-Security-Policy", CONSOLE_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
}

static enum MHD_Result send_page(struct MHD_Connection *conn, unsigned status, struct cw_html *h,
                                 const char *type, const char *cache, const char *allow)
{
    if (h->oom) {
        cw_html_free(h);
        return MHD_NO;
    }
    size_t len = h->len;
    char *body = h->s ? h->s : strdup("");
    h->s = NULL; /* ownership moves to the response */
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    add_headers(r, type, cache, allow);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result error_page(struct MHD_Connection *conn, unsigned status, const char *msg,
                                  const char *allow)
{
    struct cw_html h = {0};
    cw_console_error(&h, status, msg);
    return send_page(conn, status, &h, "text/html; charset=utf-8", "no-store", allow);
}

/* A form being posted (/silence, /unsilence): its fields, gathered across the calls
 * libmicrohttpd makes as the body arrives. */
#define FIELD_MAX 512
static const char *const post_fields[] = {"id", "rule", "for", "reason", "token", "csrf"};
#define N_POST_FIELDS (sizeof post_fields / sizeof post_fields[0])
struct post {
    struct MHD_PostProcessor *pp;
    char value[N_POST_FIELDS][FIELD_MAX];
    bool seen[N_POST_FIELDS];
    bool too_long;
};

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *encoding, const char *data, uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)encoding;
    struct post *p = cls;
    for (size_t i = 0; i < N_POST_FIELDS; i++) {
        if (strcmp(key, post_fields[i]) != 0)
            continue;
        if (off + size >= FIELD_MAX) {
            p->too_long = true;
            return MHD_NO;
        }
        memcpy(p->value[i] + off, data, size);
        p->value[i][off + size] = '\0';
        p->seen[i] = true;
    }
    return MHD_YES;
}

static const char *field(const struct post *p, const char *name)
{
    for (size_t i = 0; i < N_POST_FIELDS; i++)
        if (strcmp(name, post_fields[i]) == 0)
            return p->seen[i] ? p->value[i] : NULL;
    return NULL;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct post *p = *state;
    if (!p)
        return;
    if (p->pp)
        MHD_destroy_post_processor(p->pp);
    OPENSSL_cleanse(p, sizeof *p); /* the operator token was in it */
    free(p);
    *state = NULL;
}

/* POST /silence or /unsilence: gather the form, then act and send the browser back to the
 * account's page. */
static enum MHD_Result handle_post(struct server *s, struct MHD_Connection *conn, bool silence,
                                   const char *upload, size_t *upload_size, void **state)
{
    struct post *p = *state;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        *state = p;
        p->pp = MHD_create_post_processor(conn, 4096, post_field, p);
        if (!p->pp) /* not application/x-www-form-urlencoded nor multipart */
            return error_page(conn, 400, "A form was expected.", NULL);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (p->pp && !p->too_long)
            MHD_post_process(p->pp, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!p->pp)
        return MHD_YES; /* the 400 is queued */
    if (p->too_long)
        return error_page(conn, 400, "A field of the form is too long.", NULL);
    struct cw_console_action a = {
        .silence = silence,
        .id = field(p, "id"),
        .rule = field(p, "rule"),
        .duration = field(p, "for"),
        .reason = field(p, "reason"),
        .token = field(p, "token"),
        .csrf = field(p, "csrf"),
    };
    char msg[512];
    unsigned status = cw_console_act(&s->console, &a, msg, sizeof msg);
    if (status != 303)
        return error_page(conn, status, msg, status == 405 ? "GET, HEAD" : NULL);
    struct cw_html loc = {0};
    cw_html_raw(&loc, "/account?id=");
    cw_html_url(&loc, a.id);
    struct cw_html body = {0};
    cw_html_raw(&body, "<!DOCTYPE html><title>done</title><a href=\"");
    cw_html_raw(&body, loc.s ? loc.s : "/");
    cw_html_raw(&body, "\">back to the account</a>\n");
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body.len, body.s ? body.s : "", body.s ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_NO;
    if (r && loc.s && !loc.oom && !body.oom) {
        add_headers(r, "text/html; charset=utf-8", "no-store", NULL);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc.s);
        rc = MHD_queue_response(conn, MHD_HTTP_SEE_OTHER, r);
    }
    if (r)
        MHD_destroy_response(r);
    cw_html_free(&loc);
    cw_html_free(&body);
    return rc;
}

struct query_parse {
    struct cw_console_query *q;
    char err[128];
    bool bad;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct query_parse *qp = cls;
    if (!qp->bad && cw_console_query_set(qp->q, key, value, qp->err, sizeof qp->err) != 0)
        qp->bad = true;
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version;
    struct server *s = cls;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host_allowed(s, host))
        return error_page(conn, 421, "This Host is not the console's (see --allow-host).", NULL);
    bool post = strcmp(method, "POST") == 0;
    if (post && s->console.actions &&
        (strcmp(url, "/silence") == 0 || strcmp(url, "/unsilence") == 0))
        return handle_post(s, conn, strcmp(url, "/silence") == 0, upload, upload_size, state);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return error_page(conn, 405,
                          s->console.actions
                              ? "Only the silence forms are posted; pages are GET and HEAD."
                              : "The console is read-only: GET and HEAD only.",
                          "GET, HEAD");
    struct cw_html h = {0};
    unsigned status;
    if (strcmp(url, "/") == 0) {
        struct cw_console_query q;
        cw_console_query_init(&q);
        struct query_parse qp = {.q = &q};
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &qp);
        if (qp.bad)
            return error_page(conn, 400, qp.err, NULL);
        status = cw_console_accounts(&s->console, &q, &h);
    } else if (strcmp(url, "/account") == 0) {
        const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
        if (!id || !*id || strlen(id) > CW_ID_MAX)
            return error_page(conn, 400, "/account wants ?id=ACCOUNT", NULL);
        status = cw_console_account(&s->console, id, &h);
    } else if (strcmp(url, "/rules") == 0) {
        status = cw_console_rules(&s->console, &h);
    } else if (strcmp(url, "/static/console.css") == 0) {
        cw_html_raw(&h, cw_console_css);
        return send_page(conn, 200, &h, "text/css; charset=utf-8", "max-age=3600", NULL);
    } else {
        return error_page(conn, 404, "No such page.", NULL);
    }
    return send_page(conn, status, &h, "text/html; charset=utf-8", "no-store", NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fprintf(stderr, "churnwatch console: ");
    vfprintf(stderr, fmt, ap);
}

static bool is_loopback(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ai->ai_addr;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ai->ai_addr;
        return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return false;
}

/* Serve until SIGINT or SIGTERM. */
static int serve(struct server *s, const char *listen)
{
    char err[512];
    struct addrinfo *ai = cw_http_resolve(listen, "--listen", err, sizeof err);
    if (!ai) {
        fprintf(stderr, "churnwatch: %s\n", err);
        return CW_EXIT_USAGE;
    }
    s->loopback = is_loopback(ai);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* libmicrohttpd's thread inherits the mask */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* one thread: requests are answered one after the other, over one Redis connection */
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                         MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)CONSOLE_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)CONSOLE_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
                         request_done, NULL, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        fprintf(stderr, "churnwatch: console --listen %s: cannot listen (address in use?)\n",
                listen);
        return CW_EXIT_UNAVAILABLE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    char host[256];
    const char *colon = strrchr(listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    printf("churnwatch console: serving http://%s:%u/ (%s; Ctrl-C stops it)\n", host, s->port,
           s->console.actions ? "silences with the operator token" : "read-only");
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    return CW_EXIT_OK;
}

int cw_cmd_console(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"allow-host", required_argument, NULL, 'a'},
        {"token-file", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = CONSOLE_DEFAULT_LISTEN, *token_file = NULL;
    struct server s;
    memset(&s, 0, sizeof s);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 't':
            token_file = optarg;
            break;
        case 'a':
            if (s.n_hosts == CONSOLE_MAX_HOSTS) {
                fprintf(stderr, "churnwatch: at most %d --allow-host\n", CONSOLE_MAX_HOSTS);
                return CW_EXIT_USAGE;
            }
            s.hosts[s.n_hosts++] = optarg;
            break;
        default:
            usage();
            return CW_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage();
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    cw_tz *tz = NULL;
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        return rc;
    if ((rc = cw_cli_open_tz(cfg, &tz)) == CW_EXIT_OK &&
        (rc = cw_cli_open_store(cfg, &st)) == CW_EXIT_OK) {
        s.console = (struct cw_console){.cfg = cfg, .st = st, .tz = tz};
        char err[512];
        if (cw_console_open(&s.console) != 0) {
            fprintf(stderr, "churnwatch: out of memory\n");
            rc = CW_EXIT_UNAVAILABLE;
        } else if (cw_console_actions_init(&s.console, token_file, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: console: %s\n", err);
            rc = CW_EXIT_USAGE;
        } else {
            rc = serve(&s, listen);
        }
        cw_console_close(&s.console);
    }
    cw_store_close(st);
    cw_tz_free(tz);
    cw_config_free(cfg);
    return rc;
}
