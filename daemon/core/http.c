/* http.c - the operations endpoint: /metrics, /healthz and /readyz over libmicrohttpd */
#include "http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define HTTP_CONNECTIONS 32 /* concurrent scrapers and probes */
#define HTTP_TIMEOUT_S   10 /* idle connection timeout */

struct cw_http {
    struct MHD_Daemon *mhd;
    struct cw_metrics *m;
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

/* Split "host:port" / "[addr]:port" and resolve it (numeric or by name). */
static struct addrinfo *resolve(const char *listen, char *err, size_t errsize)
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
        snprintf(err, errsize, "http.listen %s: expected host:port", listen);
        return NULL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errsize, "http.listen %s: %s", listen, gai_strerror(rc));
        return NULL;
    }
    return ai;
}

cw_http *cw_http_start(const char *listen, struct cw_metrics *m, char *err, size_t errsize)
{
    struct addrinfo *ai = resolve(listen, err, errsize);
    if (!ai)
        return NULL;
    cw_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    h->m = m;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* the logger first: messages about the other options go through it too */
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                              NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->mhd) {
        snprintf(err, errsize, "http.listen %s: cannot listen (address in use or not local?)",
                 listen);
        free(h);
        return NULL;
    }
    return h;
}

void cw_http_stop(cw_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    free(h);
}
