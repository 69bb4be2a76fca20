/* cmd_console.c - `churnwatch console`: the read-only web console (docs/console.md) served
 * over libmicrohttpd: routing, the security headers, the Host check, start and stop */
#include <getopt.h>
#include <microhttpd.h>
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
    fprintf(stderr, "usage: churnwatch console [--listen HOST:PORT] [--allow-host NAME]...\n");
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
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(r, "Content-Security-Policy", CONSOLE_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
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
    (void)upload;
    (void)upload_size;
    (void)state;
    struct server *s = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return error_page(conn, 405, "The console is read-only: GET and HEAD only.", "GET, HEAD");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host_allowed(s, host))
        return error_page(conn, 421, "This Host is not the console's (see --allow-host).", NULL);
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
                         (unsigned)CONSOLE_IDLE_TIMEOUT_S, MHD_OPTION_END);
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
    printf("churnwatch console: serving http://%s:%u/ (read-only; Ctrl-C stops it)\n", host,
           s->port);
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
        {NULL, 0, NULL, 0},
    };
    const char *listen = CONSOLE_DEFAULT_LISTEN;
    struct server s;
    memset(&s, 0, sizeof s);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
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
        if (cw_console_open(&s.console) != 0) {
            fprintf(stderr, "churnwatch: out of memory\n");
            rc = CW_EXIT_UNAVAILABLE;
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
