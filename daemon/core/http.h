/* http.h - the operations endpoint: /metrics, /healthz and /readyz over libmicrohttpd */
#ifndef CHURNWATCH_HTTP_H
#define CHURNWATCH_HTTP_H

#include <netdb.h>
#include <stddef.h>

#include "metrics.h"

typedef struct cw_http cw_http;

/*
 * Listen on listen ("host:port" or "[addr]:port", as http.listen) and serve, from
 * libmicrohttpd's own thread, GET and HEAD of /metrics, /healthz and /readyz out of m
 * (which must outlive the server); any other path is 404, any other method 405.
 * Clients are bounded so that slow or numerous ones cannot keep the probes from
 * answering: connections in all (within RLIMIT_NOFILE) and per client address, a
 * deadline for each request to be complete, an idle timeout (docs/operations.md, "The
 * operations endpoint under load"); one more thread enforces the deadline.
 * Returns NULL with err filled when the address cannot be resolved or bound.
 */
cw_http *cw_http_start(const char *listen, struct cw_metrics *m, char *err, size_t errsize);

/* Split listen ("host:port" or "[addr]:port") and resolve it (numeric or by name), for
 * libmicrohttpd's MHD_OPTION_SOCK_ADDR; release with freeaddrinfo. NULL with err (which
 * starts with `what`, the setting's name) when it is malformed or does not resolve. */
struct addrinfo *cw_http_resolve(const char *listen, const char *what, char *err, size_t errsize);

/* Stop serving and release. cw_http_stop(NULL) is a no-op. */
void cw_http_stop(cw_http *h);

#endif /* CHURNWATCH_HTTP_H */
