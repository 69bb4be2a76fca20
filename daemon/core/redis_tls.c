/* redis_tls.c - the OpenSSL client of rediss:// connections: verification, handshake, I/O */
#include "redis_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wall_clock.h"

struct cw_tls_client {
    SSL_CTX *ctx;
    bool verify;
    char server_name[256]; /* "" = each node's own host */
};

struct cw_tls_session {
    SSL *ssl;
    int fd;
    int timeout_ms;
    bool cert_requested; /* the server asked for a client certificate we do not have */
};

/* OpenSSL's reason for the last error of this thread, or fallback. */
static const char *ossl_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : fallback;
}

/*
 * OpenSSL calls this only when the server asks for a client certificate and none is
 * configured. Continue without one (the server may accept that: tls-auth-clients
 * optional), but remember it: a server that insists closes the connection after the
 * handshake (TLS 1.3), and the error then says why.
 */
static int client_cert_missing(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct cw_tls_session *s = SSL_get_app_data(ssl);
    if (s)
        s->cert_requested = true;
    return 0;
}

/* Never prompt for a key passphrase on a terminal: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

struct cw_tls_client *cw_tls_client_new(const struct cw_redis_tls_config *cfg, char *err,
                                        size_t errsize)
{
    struct cw_tls_client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        snprintf(err, errsize, "redis tls: out of memory");
        return NULL;
    }
    ERR_clear_error();
    cl->ctx = SSL_CTX_new(TLS_client_method());
    if (!cl->ctx) {
        snprintf(err, errsize, "redis tls: cannot create a TLS context: %s",
                 ossl_reason("unknown error"));
        goto fail;
    }
    SSL_CTX_set_min_proto_version(cl->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(cl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(cl->ctx, no_passphrase);
    cl->verify = cfg->verify;
    if (cfg->server_name)
        snprintf(cl->server_name, sizeof cl->server_name, "%s", cfg->server_name);
    if (cfg->ca_file || cfg->ca_dir) {
        if (SSL_CTX_load_verify_locations(cl->ctx, cfg->ca_file, cfg->ca_dir) != 1) {
            snprintf(err, errsize, "redis tls: cannot load the CA certificates of %s%s%s: %s",
                     cfg->ca_file ? cfg->ca_file : "", cfg->ca_file && cfg->ca_dir ? " and " : "",
                     cfg->ca_dir ? cfg->ca_dir : "", ossl_reason("unreadable or not PEM"));
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(cl->ctx) != 1) {
        snprintf(err, errsize, "redis tls: cannot load the system trust store: %s",
                 ossl_reason("unknown error"));
        goto fail;
    }
    SSL_CTX_set_verify(cl->ctx, cl->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_client_cert_cb(cl->ctx, client_cert_missing);
    if ((cfg->cert_file != NULL) != (cfg->key_file != NULL)) {
        snprintf(err, errsize, "redis tls: cert_file and key_file go together");
        goto fail;
    }
    if (cfg->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(cl->ctx, cfg->cert_file) != 1) {
            snprintf(err, errsize, "redis tls: cannot load the client certificate %s: %s",
                     cfg->cert_file, ossl_reason("unreadable or not PEM"));
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(cl->ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
            snprintf(err, errsize,
                     "redis tls: cannot use the client key %s (an unencrypted PEM key matching "
                     "cert_file %s): %s",
                     cfg->key_file, cfg->cert_file, ossl_reason("unreadable or not PEM"));
            goto fail;
        }
        if (SSL_CTX_check_private_key(cl->ctx) != 1) {
            snprintf(err, errsize, "redis tls: the key %s does not match the certificate %s",
                     cfg->key_file, cfg->cert_file);
            goto fail;
        }
    }
    ERR_clear_error();
    return cl;
fail:
    ERR_clear_error();
    cw_tls_client_free(cl);
    return NULL;
}

void cw_tls_client_free(struct cw_tls_client *cl)
{
    if (!cl)
        return;
    SSL_CTX_free(cl->ctx);
    free(cl);
}

/* Wait until fd is readable (or writable) or until deadline_ms. 1 ready, 0 timed out, -1. */
static int wait_fd(int fd, bool for_write, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - cw_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = for_write ? POLLOUT : POLLIN};
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/*
 * After an SSL call returned ret <= 0: wait when OpenSSL wants to read or write (1 ready,
 * 0 timed out), else -1 with why filled.
 */
static int after_io(SSL *ssl, int fd, int ret, int64_t deadline_ms, char *why, size_t whysize)
{
    int e = SSL_get_error(ssl, ret);
    int saved = errno;
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: {
        int w = wait_fd(fd, e == SSL_ERROR_WANT_WRITE, deadline_ms);
        if (w < 0)
            snprintf(why, whysize, "poll: %s", strerror(errno));
        return w;
    }
    case SSL_ERROR_ZERO_RETURN:
        snprintf(why, whysize, "connection closed by the server (TLS close_notify)");
        return -1;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error())
            snprintf(why, whysize, "TLS: %s", ossl_reason("error"));
        else if (ret == 0 || saved == 0)
            snprintf(why, whysize, "connection closed by the server");
        else
            snprintf(why, whysize, "%s", strerror(saved));
        return -1;
    default:
        snprintf(why, whysize, "TLS: %s", ossl_reason("protocol error"));
        return -1;
    }
}

/* The name the server is verified against is an IP address (v4 or v6). */
static bool is_ip_address(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/*
 * SIGPIPE held back around every SSL call (any may write): a peer gone mid-write is an error,
 * not the death of the process (the CLI does not ignore SIGPIPE). A SIGPIPE raised in
 * between is consumed.
 */
struct pipe_hold {
    sigset_t set, old;
    bool was_pending;
};

static void pipe_hold_begin(struct pipe_hold *h)
{
    sigset_t pending;
    sigemptyset(&h->set);
    sigaddset(&h->set, SIGPIPE);
    sigpending(&pending);
    h->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &h->set, &h->old);
}

static void pipe_hold_end(struct pipe_hold *h)
{
    int saved = errno;
    sigset_t pending;
    sigpending(&pending);
    if (!h->was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&h->set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &h->old, NULL);
    errno = saved;
}

struct cw_tls_session *cw_tls_handshake(const struct cw_tls_client *cl, redisContext *c,
                                        const char *host, int timeout_ms, char *err, size_t errsize)
{
    const char *name = cl->server_name[0] ? cl->server_name : host;
    struct cw_tls_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "TLS: out of memory");
        return NULL;
    }
    s->fd = c->fd;
    s->timeout_ms = timeout_ms;
    ERR_clear_error();
    int fl = fcntl(s->fd, F_GETFL);
    if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errsize, "TLS: fcntl: %s", strerror(errno));
        goto fail;
    }
    if (!(s->ssl = SSL_new(cl->ctx)) || SSL_set_fd(s->ssl, s->fd) != 1) {
        snprintf(err, errsize, "TLS: %s", ossl_reason("cannot create a session"));
        goto fail;
    }
    SSL_set_app_data(s->ssl, s);
    if (cl->verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
        int ok = is_ip_address(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
                                     : SSL_set1_host(s->ssl, name);
        if (ok != 1) {
            snprintf(err, errsize, "TLS: cannot verify against the name %s", name);
            goto fail;
        }
    }
    if (!is_ip_address(name) && SSL_set_tlsext_host_name(s->ssl, name) != 1) {
        snprintf(err, errsize, "TLS: bad server name %s for SNI", name);
        goto fail;
    }
    int64_t deadline = cw_mono_ms() + timeout_ms;
    for (;;) {
        ERR_clear_error();
        struct pipe_hold h;
        pipe_hold_begin(&h);
        int r = SSL_connect(s->ssl);
        pipe_hold_end(&h);
        if (r == 1)
            break;
        char why[200];
        int w = after_io(s->ssl, s->fd, r, deadline, why, sizeof why);
        if (w > 0)
            continue;
        long v = SSL_get_verify_result(s->ssl);
        if (w == 0)
            snprintf(err, errsize,
                     "TLS handshake: no answer from the server within %d ms (is it a TLS port?)",
                     timeout_ms);
        else if (v != X509_V_OK)
            snprintf(err, errsize,
                     "TLS handshake: server certificate verification failed: %s "
                     "(name checked: %s; see redis.tls ca_file, ca_dir, server_name)",
                     X509_verify_cert_error_string(v), name);
        else
            snprintf(err, errsize, "TLS handshake: %s", why);
        goto fail;
    }
    ERR_clear_error();
    return s;
fail:
    ERR_clear_error();
    cw_tls_session_free(s);
    return NULL;
}

static void set_error(struct cw_tls_session *s, redisContext *c, int type, const char *what)
{
    c->err = type;
    if (s->cert_requested)
        snprintf(c->errstr, sizeof c->errstr,
                 "%.40s; the server asked for a client certificate "
                 "(redis.tls cert_file, key_file)",
                 what);
    else
        snprintf(c->errstr, sizeof c->errstr, "%s", what);
}

/* Write c's whole output buffer. 0, or -1 with c's error set. */
static int flush(struct cw_tls_session *s, redisContext *c)
{
    while (sdslen(c->obuf) > 0) {
        size_t len = sdslen(c->obuf);
        int chunk = len > (1u << 20) ? 1 << 20 : (int)len;
        int64_t deadline = cw_mono_ms() + s->timeout_ms;
        for (;;) {
            ERR_clear_error();
            struct pipe_hold h;
            pipe_hold_begin(&h);
            int n = SSL_write(s->ssl, c->obuf, chunk);
            pipe_hold_end(&h);
            if (n > 0) {
                sdsrange(c->obuf, n, -1);
                break;
            }
            char why[120];
            int w = after_io(s->ssl, s->fd, n, deadline, why, sizeof why);
            if (w > 0)
                continue;
            if (w == 0)
                set_error(s, c, REDIS_ERR_IO, "TLS write timed out");
            else
                set_error(s, c, REDIS_ERR_IO, why);
            return -1;
        }
    }
    return 0;
}

/* Read what the server sent into c's reply reader. 0, or -1 with c's error set. */
static int fill(struct cw_tls_session *s, redisContext *c)
{
    char buf[16384];
    int64_t deadline = cw_mono_ms() + s->timeout_ms;
    for (;;) {
        ERR_clear_error();
        struct pipe_hold h;
        pipe_hold_begin(&h); /* a read may write too: an alert, a key update */
        int n = SSL_read(s->ssl, buf, (int)sizeof buf);
        pipe_hold_end(&h);
        if (n > 0) {
            if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
                set_error(s, c, c->reader->err ? c->reader->err : REDIS_ERR_OOM,
                          c->reader->err ? c->reader->errstr : "out of memory");
                return -1;
            }
            return 0;
        }
        char why[120];
        int w = after_io(s->ssl, s->fd, n, deadline, why, sizeof why);
        if (w > 0)
            continue;
        if (w == 0)
            set_error(s, c, REDIS_ERR_IO, "TLS read timed out");
        else
            set_error(s, c, strstr(why, "closed") ? REDIS_ERR_EOF : REDIS_ERR_IO, why);
        return -1;
    }
}

int cw_tls_get_reply(struct cw_tls_session *s, redisContext *c, void **reply)
{
    void *r = NULL;
    if (c->err || !s)
        return REDIS_ERR;
    if (redisGetReplyFromReader(c, &r) != REDIS_OK)
        return REDIS_ERR;
    if (!r) {
        if (flush(s, c) < 0)
            return REDIS_ERR;
        while (!r) {
            if (fill(s, c) < 0 || redisGetReplyFromReader(c, &r) != REDIS_OK)
                return REDIS_ERR;
        }
    }
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return REDIS_OK;
}

int cw_tls_flush(struct cw_tls_session *s, redisContext *c)
{
    if (c->err || !s)
        return REDIS_ERR;
    return flush(s, c) < 0 ? REDIS_ERR : REDIS_OK;
}

void cw_tls_session_free(struct cw_tls_session *s)
{
    if (!s)
        return;
    if (s->ssl) {
        ERR_clear_error();
        if (SSL_is_init_finished(s->ssl)) {
            struct pipe_hold h;
            pipe_hold_begin(&h);
            SSL_shutdown(s->ssl); /* non-blocking socket: sends close_notify, never waits */
            pipe_hold_end(&h);
        }
        SSL_free(s->ssl);
        ERR_clear_error();
    }
    free(s);
}
