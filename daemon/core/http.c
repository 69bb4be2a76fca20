/* http.c - the operations endpoint: /metrics, /healthz and /readyz over libmicrohttpd,
 * with the limits that keep it answering under slow or many clients */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "stats.h"
#include "wall_clock.h"

/* The limits a scraper or probe can expect (docs/operations.md, "The operations endpoint
 * under load"). */
#define HTTP_MAX_CONNECTIONS 1024 /* all clients together, within the fd budget below */
#define HTTP_FD_RESERVE      256  /* descriptors left for Kafka, Redis and files */
#define HTTP_MIN_CONNECTIONS 64   /* however low RLIMIT_NOFILE is */
#define HTTP_PER_CLIENT      128  /* connections one client address may hold */
/* a request's line, headers and body, from the connection's opening or the previous
 * response on a kept-alive connection */
#define HTTP_REQUEST_DEADLINE_MS 5000
#define HTTP_IDLE_TIMEOUT_S      5     /* nothing sent or received (a response not read) */
#define HTTP_WATCH_INTERVAL_MS   250   /* how often the deadline is checked */
#define HTTP_CLOSED_LOG_MS       10000 /* at most one "closed slow connections" line */

/* One open connection, from libmicrohttpd's connection notifications. waiting_since_ms is
 * when it started waiting for a request (opened, or its previous response was sent), -1
 * while a complete request is answered. */
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    int64_t waiting_since_ms;
    bool closing; /* shut down by the watchdog, libmicrohttpd still to notice */
};

struct cw_http {
    struct MHD_Daemon *mhd;
    struct cw_metrics *m;
    pthread_t watchdog; /* the request deadline's thread */
    bool watching;      /* it was started */
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t wake;
    struct http_conn *conns;
    bool stopping;
};

static const char prom_type[] = "text/plain; version=0.0.4; charset=utf-8";
static const char text_type[] = "text/plain; charset=utf-8";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                             const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status, const char *line,
                            const char *allow)
{
    char body[256];
    int n = snprintf(body, sizeof body, "%s\n", line);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
    return reply(conn, status, text_type, body, len, MHD_RESPMEM_MUST_COPY, allow);
}

/* The connection of conn, as the connection notification registered it (NULL if none). */
static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The whole request (headers and body) is in: its deadline no longer runs. */
static void request_complete(struct cw_http *h, struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    c->waiting_since_ms = -1;
    pthread_mutex_unlock(&h->mu);
}

/* The response went out (or the request ended otherwise): a kept-alive connection has
 * the deadline again for its next request. */
static void on_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    (void)con_cls;
    (void)toe;
    struct cw_http *h = cls;
    struct http_conn *c = conn_of(conn);
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    c->waiting_since_ms = cw_mono_ms();
    pthread_mutex_unlock(&h->mu);
}

/* Track each connection from its opening (the deadline starts) to its closing, which
 * libmicrohttpd notifies before it closes the descriptor: the watchdog only ever shuts
 * down a descriptor that is still this connection's. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct cw_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct http_conn *c = ci ? calloc(1, sizeof *c) : NULL;
        if (!c) { /* a connection without a deadline would defeat it: refuse it */
            if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
            return;
        }
        c->fd = ci->connect_fd;
        pthread_mutex_lock(&h->mu);
        c->waiting_since_ms = cw_mono_ms();
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        pthread_mutex_unlock(&h->mu);
        *socket_context = c;
        return;
    }
    struct http_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&h->mu);
    free(c);
    *socket_context = NULL;
}

/*
 * The request deadline. libmicrohttpd 0.9.75's connection timeout is an idle timeout that
 * a client sending one byte every few seconds resets for ever; this thread shuts down
 * (SHUT_RDWR) every connection still waiting for a complete request
 * HTTP_REQUEST_DEADLINE_MS after it began waiting, and libmicrohttpd then closes it as a
 * connection the client ended. One log line per HTTP_CLOSED_LOG_MS at most says how many.
 */
static void *watchdog(void *arg)
{
    struct cw_http *h = arg;
    uint64_t closed = 0;
    int64_t logged_ms = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec until = cw_mono_deadline(HTTP_WATCH_INTERVAL_MS);
        int rc = 0;
        while (!h->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&h->wake, &h->mu, &until);
        int64_t now = cw_mono_ms();
        for (struct http_conn *c = h->conns; c; c = c->next) {
            if (c->closing || c->waiting_since_ms < 0 ||
                now - c->waiting_since_ms < HTTP_REQUEST_DEADLINE_MS)
                continue;
            shutdown(c->fd, SHUT_RDWR);
            c->closing = true;
            closed++;
        }
        if (closed > 0 && (now - logged_ms >= HTTP_CLOSED_LOG_MS || h->stopping)) {
            pthread_mutex_unlock(&h->mu); /* the connections need not wait for stderr */
            cw_log_warn("http closed slow connections",
                        "count=%llu request_deadline_ms=%d reason=\"no complete request in time\"",
                        (unsigned long long)closed, HTTP_REQUEST_DEADLINE_MS);
            closed = 0;
            logged_ms = now;
            pthread_mutex_lock(&h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* All clients together may hold HTTP_MAX_CONNECTIONS, fewer when the process may not open
 * that many descriptors besides its own HTTP_FD_RESERVE. */
static unsigned connection_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= HTTP_MAX_CONNECTIONS + HTTP_FD_RESERVE)
        return HTTP_MAX_CONNECTIONS;
    if (rl.rlim_cur < HTTP_MIN_CONNECTIONS + HTTP_FD_RESERVE)
        return HTTP_MIN_CONNECTIONS;
    return (unsigned)(rl.rlim_cur - HTTP_FD_RESERVE);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct cw_http *h = cls;
    static int seen;
    if (!*con_cls) { /* headers only so far: answer once the request is complete */
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body nobody asked for: discard it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    request_complete(h, conn);
    bool known =
        strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
    if (!known)
        return text(conn, MHD_HTTP_NOT_FOUND, "not found", NULL);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", "GET, HEAD");

    char why[160];
    if (strcmp(url, "/healthz") == 0) {
        bool ok = cw_metrics_healthy(h->m, why, sizeof why);
        return text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, why, NULL);
    }
    if (strcmp(url, "/readyz") == 0) {
        bool ok = cw_metrics_ready(h->m, why, sizeof why);
        return text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, why, NULL);
    }
    size_t len = 0;
    char *body = cw_metrics_render(h->m, &len);
    if (!body)
        return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    return reply(conn, MHD_HTTP_OK, prom_type, body, len, MHD_RESPMEM_MUST_FREE, NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '"'))
        line[--n] = '\0';
    cw_log_warn("http server", "error=\"%s\"", line);
}

struct addrinfo *cw_http_resolve(const char *listen, const char *what, char *err, size_t errsize)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    const char *h = listen;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
        h = listen + 1;
        hl -= 2;
    }
    if (!colon || hl == 0 || hl >= sizeof host) {
        snprintf(err, errsize, "%s %s: expected host:port", what, listen);
        return NULL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errsize, "%s %s: %s", what, listen, gai_strerror(rc));
        return NULL;
    }
    return ai;
}

cw_http *cw_http_start(const char *listen, struct cw_metrics *m, char *err, size_t errsize)
{
    struct addrinfo *ai = cw_http_resolve(listen, "http.listen", err, errsize);
    if (!ai)
        return NULL;
    cw_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    h->m = m;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* epoll: no FD_SETSIZE bound on the descriptors; one thread, every socket non-blocking,
     * so a slow client never holds up another */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned budget = connection_budget();
    /* the logger first: messages about the other options go through it too */
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                              NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
                              budget, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_CLIENT,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                              MHD_OPTION_NOTIFY_COMPLETED, on_request_done, h, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->mhd) {
        snprintf(err, errsize, "http.listen %s: cannot listen (address in use or not local?)",
                 listen);
        goto fail;
    }
    int rc = pthread_create(&h->watchdog, NULL, watchdog, h);
    if (rc != 0) {
        snprintf(err, errsize, "http: cannot start the request deadline thread: %s", strerror(rc));
        MHD_stop_daemon(h->mhd);
        goto fail;
    }
    h->watching = true;
    cw_log_info("http endpoint limits",
                "connections=%u per_client=%d request_deadline_ms=%d idle_timeout_s=%d", budget,
                HTTP_PER_CLIENT, HTTP_REQUEST_DEADLINE_MS, HTTP_IDLE_TIMEOUT_S);
    return h;

fail:
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return NULL;
}

void cw_http_stop(cw_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    if (h->watching)
        pthread_join(h->watchdog, NULL);
    MHD_stop_daemon(h->mhd); /* closes every connection: each is notified and freed */
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
