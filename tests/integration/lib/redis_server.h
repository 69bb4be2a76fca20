/* redis_server.h - a private redis-server on a free loopback port, for integration tests */
#ifndef CHURNWATCH_TEST_REDIS_SERVER_H
#define CHURNWATCH_TEST_REDIS_SERVER_H

#include <hiredis/hiredis.h>
#include <sys/types.h>

#define REDIS_SERVER_MAX_ARGS 24

struct redis_server {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[64];   /* private temporary directory (--dir, log, unix socket) */
    char url[128];  /* redis://127.0.0.1:<port>/0 (no credentials) */
    char sock[128]; /* <dir>/redis.sock when started with unix socket enabled */
    /* TLS (set before redis_server_start, kept like the admin credentials): with
       tls_dir, the server also listens with TLS on tls_port, using tls_dir/<tls_cert>.crt
       and .key (default "server") and trusting tls_dir/ca.crt for client certificates,
       which tls_auth_clients ("no" by default, "yes", "optional") asks for */
    const char *tls_dir;
    const char *tls_cert;
    const char *tls_auth_clients;
    int tls_port;
    char tls_url[128]; /* rediss://127.0.0.1:<tls_port>/0 */
    /* credentials the helper's own commands use (NULL: none) */
    const char *admin_user;
    const char *admin_pass;
    int n_extra;
    char *extra[REDIS_SERVER_MAX_ARGS];
};

/*
 * Start `redis-server` bound to 127.0.0.1 on a free port (found by binding port 0),
 * without persistence, in a new temporary directory, with extra arguments appended
 * (NULL-terminated list, may be NULL; e.g. "--user", "alice", "on", ">pw", "~*", "+@all").
 * unix_socket != 0 also listens on <dir>/redis.sock. Waits until it answers PING.
 * admin_user/admin_pass, when set before the call, are kept (needed when the default
 * user is disabled). Returns 0, or -1 (with a message on stderr).
 */
int redis_server_start(struct redis_server *rs, const char *const *extra, int unix_socket);

/*
 * Make a private PKI for TLS tests in a new temporary directory dir (size bytes):
 * tests/integration/lib/tls_certs.sh lists its files (ca, server, server-dns-only, client,
 * other-ca). Returns 0, or -1 (with a message on stderr). Remove it with
 * redis_server_tls_certs_remove.
 */
int redis_server_tls_certs(char *dir, size_t size);
void redis_server_tls_certs_remove(const char *dir);

/* Stop the server (SIGTERM, no save) and start it again, empty, on the same port. */
int redis_server_restart(struct redis_server *rs);

/* Stop the server and remove its directory. No-op when not running. */
void redis_server_stop(struct redis_server *rs);

/* Run one command (redisCommand format) on a fresh connection, authenticating with the
 * admin credentials; returns the reply (caller frees) or NULL. */
redisReply *redis_server_command(struct redis_server *rs, const char *fmt, ...);

/* As redis_server_command, for commands answering an integer; -1 on any failure. */
long long redis_server_int(struct redis_server *rs, const char *fmt, ...);

#endif /* CHURNWATCH_TEST_REDIS_SERVER_H */
