/* test_redis_tls.c - rediss:// against a private redis-server with TLS: verification, client
 * certificates, timeouts and the errors an operator sees (the store suite itself runs over
 * TLS as integration.test_store_tls) */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "redis_server.h"
#include "store.h"

static struct redis_server rs;
static char certs[64];
static char err[1024];

/* A file of the test PKI (tests/integration/lib/tls_certs.sh). */
static const char *pki(const char *name)
{
    static char paths[8][160];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", certs, name);
    return p;
}

static void setup(void)
{
    cr_assert_eq(redis_server_tls_certs(certs, sizeof certs), 0, "openssl failed");
    rs.tls_dir = certs;
}

static void teardown(void)
{
    redis_server_stop(&rs);
    redis_server_tls_certs_remove(certs);
    memset(&rs, 0, sizeof rs);
}

static void start(const char *cert, const char *auth_clients)
{
    rs.tls_cert = cert;
    rs.tls_auth_clients = auth_clients;
    cr_assert_eq(redis_server_start(&rs, NULL, 0), 0, "redis-server did not start");
}

/* The redis section of a config: url, and TLS trusting the test CA unless ca says else. */
static struct cw_redis_config redis_cfg(const char *url, const char *ca)
{
    struct cw_redis_config rc = {.url = (char *)url, .key_prefix = "cw:"};
    rc.tls = (struct cw_redis_tls_config){
        .ca_file = (char *)pki(ca ? ca : "ca.crt"), .verify = true, .configured = true};
    return rc;
}

/* Open (and close) a store; 0, or -1 with err. */
static int try_open(const struct cw_redis_config *rc)
{
    err[0] = '\0';
    cw_store *st = cw_store_open(rc, err, sizeof err);
    if (!st)
        return -1;
    int rc_ping = cw_store_ping(st, err, sizeof err);
    cw_store_close(st);
    return rc_ping;
}

TestSuite(redis_tls, .init = setup, .fini = teardown, .timeout = 120);

Test(redis_tls, verified_by_ip_address_and_by_host_name)
{
    start(NULL, NULL);
    char url[160];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), 0, "by IP address: %s", err);
    snprintf(url, sizeof url, "rediss://localhost:%d/2", rs.tls_port);
    cr_assert_eq(try_open(&rc), 0, "by host name: %s", err);
    /* the CA as a hashed directory instead of a file */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/cadir && cp %s %s/cadir/ && openssl rehash %s/cadir",
             certs, pki("ca.crt"), certs, certs);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    rc.tls.ca_file = NULL;
    rc.tls.ca_dir = (char *)pki("cadir");
    cr_assert_eq(try_open(&rc), 0, "with ca_dir: %s", err);
}

Test(redis_tls, unknown_ca_is_a_verification_error)
{
    start(NULL, NULL);
    char url[160];
    snprintf(url, sizeof url, "rediss://:s3cretpw@127.0.0.1:%d/0", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, "other-ca.crt");
    cr_assert_eq(try_open(&rc), -1, "a server signed by another CA was accepted");
    cr_assert(strstr(err, "server certificate verification failed"), "%s", err);
    cr_assert(strstr(err, "127.0.0.1"), "the error names the server: %s", err);
    cr_assert_null(strstr(err, "s3cretpw"), "%s", err);
    /* the default trust store (no ca_file) does not know the test CA either */
    rc.tls.configured = false;
    cr_assert_eq(try_open(&rc), -1, "the system trust store accepted the test CA");
    cr_assert(strstr(err, "server certificate verification failed"), "%s", err);
    /* verify: false is the explicit way around it */
    rc = redis_cfg(url + 0, "other-ca.crt");
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.tls_port);
    rc.tls.verify = false;
    cr_assert_eq(try_open(&rc), 0, "verify: false: %s", err);
}

Test(redis_tls, host_name_and_address_are_checked)
{
    start("server-dns-only", NULL); /* a certificate for DNS:localhost only */
    char url[160];
    snprintf(url, sizeof url, "rediss://localhost:%d/0", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), 0, "localhost: %s", err);
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.tls_port);
    cr_assert_eq(try_open(&rc), -1, "an address missing from the certificate was accepted");
    cr_assert(strstr(err, "IP address mismatch"), "%s", err);
    /* server_name names the certificate's host for every node */
    rc.tls.server_name = "localhost";
    cr_assert_eq(try_open(&rc), 0, "server_name localhost: %s", err);
    rc.tls.server_name = "redis.example";
    cr_assert_eq(try_open(&rc), -1, "a wrong server name was accepted");
    cr_assert(strstr(err, "hostname mismatch"), "%s", err);
    cr_assert(strstr(err, "redis.example"), "the error names the name checked: %s", err);
}

Test(redis_tls, client_certificate_when_the_server_requires_one)
{
    start(NULL, "yes");
    char url[160];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), -1, "no client certificate, yet the store opened");
    cr_assert(strstr(err, "the server asked for a client certificate"), "%s", err);
    rc.tls.cert_file = (char *)pki("client.crt");
    rc.tls.key_file = (char *)pki("client.key");
    cr_assert_eq(try_open(&rc), 0, "with the client certificate: %s", err);
}

Test(redis_tls, auth_and_select_over_tls_never_show_the_password)
{
    const char *extra[] = {"--requirepass", "tls-pw-42", NULL};
    rs.admin_pass = "tls-pw-42";
    rs.tls_cert = NULL;
    cr_assert_eq(redis_server_start(&rs, extra, 0), 0);
    char url[160];
    snprintf(url, sizeof url, "rediss://:tls-pw-42@127.0.0.1:%d/4", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), 0, "AUTH and SELECT over TLS: %s", err);
    snprintf(url, sizeof url, "rediss://:n0t-the-pw@127.0.0.1:%d/4", rs.tls_port);
    cr_assert_eq(try_open(&rc), -1);
    cr_assert(strstr(err, "AUTH"), "%s", err);
    cr_assert_null(strstr(err, "n0t-the-pw"), "%s", err);
}

Test(redis_tls, a_server_that_never_answers_the_handshake_times_out)
{
    /* Listening, never accepting: the kernel completes the TCP handshake, nobody speaks TLS. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    char url[160];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", ntohs(a.sin_port));
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), -1);
    cr_assert(strstr(err, "TLS handshake: no answer from the server within"), "%s", err);
    close(fd);
}

Test(redis_tls, a_plain_port_is_not_mistaken_for_tls)
{
    start(NULL, NULL);
    char url[160];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.port);
    struct cw_redis_config rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), -1, "TLS to a plain port succeeded");
    cr_assert(strstr(err, "TLS handshake"), "%s", err);
}

Test(redis_tls, bad_tls_settings_are_clear_errors)
{
    start(NULL, NULL);
    char url[160];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", rs.tls_port);
    struct cw_redis_config rc = redis_cfg(url, "missing-ca.crt");
    cr_assert_eq(try_open(&rc), -1);
    cr_assert(strstr(err, "missing-ca.crt"), "the error names the CA file: %s", err);
    rc = redis_cfg(url, NULL);
    rc.tls.cert_file = (char *)pki("client.crt");
    rc.tls.key_file = (char *)pki("server.key");
    cr_assert_eq(try_open(&rc), -1);
    cr_assert(strstr(err, "server.key") && strstr(err, "match"), "%s", err);
    rc.tls.key_file = NULL;
    cr_assert_eq(try_open(&rc), -1);
    cr_assert(strstr(err, "cert_file and key_file go together"), "%s", err);
    /* A plain URL chosen over a file with redis.tls (CHURNWATCH_REDIS_URL): plain, with a
     * warning (the file alone cannot pair them: a config error, test_config) */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rs.port);
    rc = redis_cfg(url, NULL);
    cr_assert_eq(try_open(&rc), 0, "%s", err);
}
