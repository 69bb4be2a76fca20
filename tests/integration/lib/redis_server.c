/* redis_server.c - start, restart, query and stop a private redis-server for tests */
#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port that was free a moment ago: bind 127.0.0.1:0 and read it back. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static redisContext *connect_admin(struct redis_server *rs)
{
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", rs->port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    if (rs->admin_pass) {
        redisReply *r = rs->admin_user
                            ? redisCommand(c, "AUTH %s %s", rs->admin_user, rs->admin_pass)
                            : redisCommand(c, "AUTH %s", rs->admin_pass);
        int ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Fork and exec redis-server; wait for PING. */
static int spawn(struct redis_server *rs)
{
    char port[16], log[128], tls_port[16], cert[300], key[300], ca[300];
    snprintf(port, sizeof port, "%d", rs->port);
    snprintf(tls_port, sizeof tls_port, "%d", rs->tls_port);
    snprintf(log, sizeof log, "%s/redis.log", rs->dir);
    const char *argv[32 + REDIS_SERVER_MAX_ARGS];
    int n = 0;
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = rs->dir;
    argv[n++] = "--logfile";
    argv[n++] = log;
    if (rs->tls_dir) {
        const char *base = rs->tls_cert ? rs->tls_cert : "server";
        snprintf(cert, sizeof cert, "%s/%s.crt", rs->tls_dir, base);
        snprintf(key, sizeof key, "%s/%s.key", rs->tls_dir, base);
        snprintf(ca, sizeof ca, "%s/ca.crt", rs->tls_dir);
        const char *tls[] = {
            "--tls-port",         tls_port,
            "--tls-cert-file",    cert,
            "--tls-key-file",     key,
            "--tls-ca-cert-file", ca,
            "--tls-auth-clients", rs->tls_auth_clients ? rs->tls_auth_clients : "no"};
        for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
            argv[n++] = tls[i];
    }
    for (int i = 0; i < rs->n_extra; i++)
        argv[n++] = rs->extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a crashed test */
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    rs->pid = pid;
    for (int i = 0; i < 250; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            rs->pid = 0;
            return -1; /* exited: port taken or bad arguments */
        }
        redisContext *c = connect_admin(rs);
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return 0;
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    rs->pid = 0;
    return -1;
}

int redis_server_start(struct redis_server *rs, const char *const *extra, int unix_socket)
{
    const char *admin_user = rs->admin_user, *admin_pass = rs->admin_pass;
    const char *tls_dir = rs->tls_dir, *tls_cert = rs->tls_cert,
               *tls_auth_clients = rs->tls_auth_clients;
    memset(rs, 0, sizeof *rs);
    rs->admin_user = admin_user;
    rs->admin_pass = admin_pass;
    rs->tls_dir = tls_dir;
    rs->tls_cert = tls_cert;
    rs->tls_auth_clients = tls_auth_clients;
    snprintf(rs->dir, sizeof rs->dir, "/tmp/cw-redis-XXXXXX");
    if (!mkdtemp(rs->dir)) {
        fprintf(stderr, "redis_server: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    if (unix_socket) {
        snprintf(rs->sock, sizeof rs->sock, "%s/redis.sock", rs->dir);
        rs->extra[rs->n_extra++] = strdup("--unixsocket");
        rs->extra[rs->n_extra++] = strdup(rs->sock);
    }
    for (size_t i = 0; extra && extra[i] && rs->n_extra < REDIS_SERVER_MAX_ARGS; i++)
        rs->extra[rs->n_extra++] = strdup(extra[i]);
    for (int attempt = 0; attempt < 5; attempt++) {
        rs->port = free_port();
        snprintf(rs->url, sizeof rs->url, "redis://127.0.0.1:%d/0", rs->port);
        if (rs->tls_dir) {
            do
                rs->tls_port = free_port();
            while (rs->tls_port == rs->port);
            snprintf(rs->tls_url, sizeof rs->tls_url, "rediss://127.0.0.1:%d/0", rs->tls_port);
        }
        if (rs->port > 0 && (!rs->tls_dir || rs->tls_port > 0) && spawn(rs) == 0)
            return 0;
    }
    fprintf(stderr, "redis_server: could not start redis-server (see %s/redis.log)\n", rs->dir);
    return -1;
}

static void terminate(struct redis_server *rs)
{
    if (rs->pid <= 0)
        return;
    kill(rs->pid, SIGTERM);
    for (int i = 0; i < 250; i++) {
        if (waitpid(rs->pid, NULL, WNOHANG) == rs->pid) {
            rs->pid = 0;
            return;
        }
        sleep_ms(20);
    }
    kill(rs->pid, SIGKILL);
    waitpid(rs->pid, NULL, 0);
    rs->pid = 0;
}

int redis_server_tls_certs(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/cw-tls-XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "redis_server: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/integration/lib/tls_certs.sh' '%s'", CW_SOURCE_DIR,
             dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "redis_server: %s failed\n", cmd);
        return -1;
    }
    return 0;
}

void redis_server_tls_certs_remove(const char *dir)
{
    if (!dir[0] || strncmp(dir, "/tmp/cw-tls-", 12) != 0)
        return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "redis_server: %s failed\n", cmd);
}

int redis_server_restart(struct redis_server *rs)
{
    terminate(rs);
    for (int attempt = 0; attempt < 20; attempt++) {
        if (spawn(rs) == 0)
            return 0;
        sleep_ms(50); /* the port may linger for a moment */
    }
    return -1;
}

void redis_server_stop(struct redis_server *rs)
{
    terminate(rs);
    if (rs->dir[0]) {
        char path[160];
        snprintf(path, sizeof path, "%s/redis.log", rs->dir);
        unlink(path);
        if (rs->sock[0])
            unlink(rs->sock);
        rmdir(rs->dir);
    }
    for (int i = 0; i < rs->n_extra; i++)
        free(rs->extra[i]);
    rs->n_extra = 0;
    rs->dir[0] = '\0';
}

static redisReply *vcommand(struct redis_server *rs, const char *fmt, va_list ap)
{
    redisContext *c = connect_admin(rs);
    if (!c)
        return NULL;
    redisReply *r = redisvCommand(c, fmt, ap);
    redisFree(c);
    return r;
}

redisReply *redis_server_command(struct redis_server *rs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcommand(rs, fmt, ap);
    va_end(ap);
    return r;
}

long long redis_server_int(struct redis_server *rs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcommand(rs, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}
