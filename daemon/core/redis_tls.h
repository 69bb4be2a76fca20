/* redis_tls.h - Redis over TLS: OpenSSL carries the bytes of hiredis' formatter and reader */
#ifndef CHURNWATCH_REDIS_TLS_H
#define CHURNWATCH_REDIS_TLS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "churnwatch/config.h"

/*
 * hiredis 0.14 has no TLS transport. A TLS connection keeps a hiredis context for its
 * output buffer (filled by redisAppendCommandArgv) and its reply reader, and moves the
 * bytes through an OpenSSL session on the context's socket instead of hiredis' own I/O.
 */

/* What every TLS connection of a store shares: trust anchors, client certificate, names. */
struct cw_tls_client;

/* One connection's TLS session. */
struct cw_tls_session;

/*
 * Build the client side from cfg: the CA file and/or directory (neither: the system trust
 * store), the client certificate and key (both or neither; the key unencrypted), the
 * server name to verify instead of each node's host, and whether to verify at all.
 * Returns NULL with err (naming the file and OpenSSL's reason) on failure.
 */
struct cw_tls_client *cw_tls_client_new(const struct cw_redis_tls_config *cfg, char *err,
                                        size_t errsize);
void cw_tls_client_free(struct cw_tls_client *cl);

/*
 * Run the TLS handshake on the connected socket of c for the server host (a name: SNI
 * and host name check; an address: checked against the certificate's IP addresses;
 * the client's server_name, when set, replaces it). Every wait is bounded by timeout_ms
 * (the same as the command timeout later). The socket becomes non-blocking. Returns the
 * session, or NULL with err (the verification failure, a timeout, OpenSSL's reason).
 */
struct cw_tls_session *cw_tls_handshake(const struct cw_tls_client *cl, redisContext *c,
                                        const char *host, int timeout_ms, char *err,
                                        size_t errsize);

/*
 * redisGetReply over the session: a reply already parsed is returned at once, else the
 * output buffer is written out and replies read until one is complete. REDIS_OK with
 * *reply set, or REDIS_ERR with c->err and c->errstr set (a timeout, a closed connection,
 * OpenSSL's reason); the connection is then unusable.
 */
int cw_tls_get_reply(struct cw_tls_session *s, redisContext *c, void **reply);

/* Send what c's output buffer holds through the session. REDIS_OK, or REDIS_ERR with c's
 * error set. */
int cw_tls_flush(struct cw_tls_session *s, redisContext *c);

/* Send close_notify (best effort, without waiting) and free the session. NULL: no-op. */
void cw_tls_session_free(struct cw_tls_session *s);

#endif /* CHURNWATCH_REDIS_TLS_H */
