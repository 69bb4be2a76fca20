/* cmd_demo.c - `churnwatch demo`: the real daemon on an embedded Kafka and a private Redis,
 * fed a generated 90-day history, alerts printed as they fire, then a table of accounts */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "churnwatch/gen.h"
#include "churnwatch/window.h"
#include "cli.h"
#include "config_check.h"
#include "kafka.h"

#define DEMO_PARTITIONS   16 /* the mock keeps ~5 MB per partition: spread the history */
#define START_TIMEOUT_S   20
#define CATCHUP_TIMEOUT_S 120
#define SWEEP_TIMEOUT_S   120  /* for the sweep the final rescore starts */
#define QUIET_MS          2500 /* no new alert for this long after that sweep: done */

struct demo {
    const struct cw_config *cfg;
    char dir[PATH_MAX];         /* scratch directory: redis data, daemon log */
    char config_path[PATH_MAX]; /* demo_config's copy of the config, when it made one */
    char daemon_path[PATH_MAX];
    int redis_port;
    int http_port; /* the daemon's /metrics, /healthz, /readyz */
    pid_t redis_pid, daemon_pid, console_pid;
    char bootstrap[256];
    cw_consumer *alerts;
    cw_producer *producer;
    size_t n_alerts[2];     /* firing, resolved */
    size_t n_opportunities; /* firings of opportunity rules (direction, docs/alerts.md) */
};

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* fork+exec argv with stdout/stderr to the given fds (-1: inherit). */
static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (out_fd >= 0)
        dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
        dup2(err_fd, STDERR_FILENO);
    execvp(argv[0], argv);
    fprintf(stderr, "churnwatch demo: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Run argv with its standard output on a pipe, read through the stream returned, and its
 * errors in the file log (0600); *pid is its pid. The pipe's ends stay out of the child's
 * other descendants. NULL when the pipe or the stream cannot be made. */
static FILE *spawn_piped(char *const argv[], const char *log, pid_t *pid)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return NULL;
    fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC); /* dup2 gives the child a copy without it */
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    *pid = spawn(argv, pipefd[1], fd);
    close(pipefd[1]);
    if (fd >= 0)
        close(fd);
    FILE *out = fdopen(pipefd[0], "r");
    if (!out)
        close(pipefd[0]);
    return out;
}

static void stop_child(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int start_redis(struct demo *d)
{
    d->redis_port = free_port();
    char port[16], dir[PATH_MAX + 8];
    snprintf(port, sizeof port, "%d", d->redis_port);
    snprintf(dir, sizeof dir, "%s", d->dir);
    char *argv[] = {"redis-server", "--bind", "127.0.0.1",    "--port", port, "--dir", dir,
                    "--save",       "",       "--appendonly", "no",     NULL};
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/redis.log", d->dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    d->redis_pid = spawn(argv, fd, fd);
    if (fd >= 0)
        close(fd);
    return d->redis_pid > 0 ? 0 : -1;
}

/* Start churnwatchd --embedded-kafka and read the bootstrap address it prints. */
static int start_daemon(struct demo *d, const char *config_path)
{
    char log[PATH_MAX + 16], url[64], parts[8];
    snprintf(log, sizeof log, "%s/churnwatchd.log", d->dir);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", d->redis_port);
    snprintf(parts, sizeof parts, "%d", DEMO_PARTITIONS);
    setenv("CHURNWATCH_REDIS_URL", url, 1);
    /* The endpoint on a free port, so the demo runs next to a daemon that holds 9464. */
    d->http_port = free_port();
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", d->http_port);
    setenv("CHURNWATCH_HTTP_LISTEN", listen, 1);
    /* The demo follows the sweep in the log (log_find): its lines are info. */
    setenv("CHURNWATCH_LOG_LEVEL", "info", 1);
    char *argv[] = {d->daemon_path, "-c", (char *)config_path, "--embedded-kafka", "--partitions",
                    parts,          NULL};
    FILE *out = spawn_piped(argv, log, &d->daemon_pid);
    if (!out)
        return -1;
    char line[512];
    int rc = -1;
    while (fgets(line, sizeof line, out)) {
        const char *p = strstr(line, "bootstrap=");
        if (p) {
            snprintf(d->bootstrap, sizeof d->bootstrap, "%s", p + 10);
            d->bootstrap[strcspn(d->bootstrap, "\r\n")] = '\0';
            rc = 0;
            break;
        }
    }
    fclose(out);
    if (rc != 0)
        fprintf(stderr, "churnwatch demo: churnwatchd did not start; see %s\n", log);
    return rc;
}

/* Print the alerts that arrived since the last call: a risk firing in red, an opportunity
 * firing in cyan with its direction, a resolution in green. */
static void print_alerts(struct demo *d, int timeout_ms)
{
    rd_kafka_message_t *msgs[256];
    bool fatal = false;
    size_t n = cw_consumer_poll(d->alerts, msgs, 256, timeout_ms, &fatal);
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *a = json_loadb(msgs[i]->payload, msgs[i]->len, 0, &jerr);
        if (a) {
            const char *status = json_string_value(json_object_get(a, "status"));
            const char *obs = json_string_value(json_object_get(a, "observed_at"));
            const char *dir = json_string_value(json_object_get(a, "direction"));
            bool resolved = status && strcmp(status, "resolved") == 0;
            bool opportunity = dir && strcmp(dir, "opportunity") == 0;
            d->n_alerts[resolved]++;
            if (opportunity && !resolved)
                d->n_opportunities++;
            printf("  %.10s  %s%-8s\033[0m %-18s %-22s %s%s\n", obs ? obs : "?",
                   resolved      ? "\033[32m"
                   : opportunity ? "\033[36m"
                                 : "\033[31m",
                   resolved ? "RESOLVED" : "FIRING",
                   cw_cli_text(json_string_value(json_object_get(a, "rule"))),
                   cw_cli_text(json_string_value(json_object_get(a, "account_id"))),
                   opportunity ? "opportunity: " : "",
                   cw_cli_text(json_string_value(json_object_get(a, "reason"))));
            json_decref(a);
        }
        rd_kafka_message_destroy(msgs[i]);
    }
    fflush(stdout);
}

/* Produce the generated history to the input topic, printing alerts meanwhile. */
static int stream_history(struct demo *d, const struct cw_gen_options *go, size_t *count)
{
    char err[256];
    cw_gen *gen = cw_gen_new(go, err, sizeof err);
    if (!gen) {
        fprintf(stderr, "churnwatch demo: %s\n", err);
        return -1;
    }
    char buf[4096];
    size_t len;
    int rc;
    *count = 0;
    const char *topic = d->cfg->kafka.topics.items[0];
    struct cw_gen_event ev;
    while ((rc = cw_gen_next(gen, buf, sizeof buf, &len, &ev)) == 1) {
        /* Keyed by account, as `churnwatch produce` does: without a key librdkafka's sticky
         * partitioner puts runs of thousands of messages on one partition, past what the
         * embedded broker keeps of a partition (docs/guarantees.md). */
        const char *key = cw_gen_account(gen, ev.account)->id;
        if (cw_producer_send(d->producer, topic, key, strlen(key), buf, len, NULL, 0, err,
                             sizeof err) != 0)
            break;
        if (++*count % 5000 == 0) {
            if (cw_producer_wait(d->producer, 30000, err, sizeof err) != 0)
                break;
            print_alerts(d, 0);
        }
    }
    cw_gen_free(gen);
    if (rc != 0 || cw_producer_wait(d->producer, 30000, err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch demo: producing failed: %s\n", rc < 0 ? "event too long" : err);
        return -1;
    }
    return 0;
}

/* True when the daemon's group has committed the end of every input partition. */
static bool caught_up(struct demo *d, rd_kafka_t *rk)
{
    const char *topic = d->cfg->kafka.topics.items[0];
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
    for (int p = 0; p < DEMO_PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    bool done = rd_kafka_committed(rk, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int p = 0; done && p < parts->cnt; p++) {
        int64_t lo, hi;
        if (cw_kafka_watermarks(rk, topic, p, &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            (hi > 0 && parts->elems[p].offset < hi))
            done = false;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return done;
}

static rd_kafka_t *offsets_client(struct demo *d)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", d->bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", d->cfg->kafka.group_id, err, sizeof err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

static int open_alert_consumer(struct demo *d)
{
    char err[256];
    struct cw_kafka_config kc = d->cfg->kafka;
    char group[64];
    snprintf(group, sizeof group, "churnwatch-demo-%ld", (long)getpid());
    char *topics[] = {kc.alerts_topic};
    kc.group_id = group;
    kc.topics.items = topics;
    kc.topics.n = 1;
    struct cw_kv props[] = {{"auto.offset.reset", "earliest"}};
    kc.properties = props;
    kc.n_properties = 1;
    d->alerts = cw_consumer_new(&kc, d->bootstrap, err, sizeof err);
    d->producer = cw_producer_new(&d->cfg->kafka, d->bootstrap, err, sizeof err);
    if (!d->alerts || !d->producer) {
        fprintf(stderr, "churnwatch demo: kafka: %s\n", err);
        return -1;
    }
    return 0;
}

/* Locate churnwatchd next to this binary, else on PATH. */
static void find_daemon(struct demo *d)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        snprintf(d->daemon_path, sizeof d->daemon_path, "%s/churnwatchd", dirname(self));
        if (access(d->daemon_path, X_OK) == 0)
            return;
    }
    snprintf(d->daemon_path, sizeof d->daemon_path, "churnwatchd");
}

/* The offset just past the first line of the daemon's log at or after offset from that
 * contains text, or -1 (none yet, or no log). */
static long log_find(const struct demo *d, long from, const char *text)
{
    char path[PATH_MAX + 16], line[1024];
    snprintf(path, sizeof path, "%s/churnwatchd.log", d->dir);
    FILE *f = fopen(path, "r");
    long found = -1;
    if (!f)
        return -1;
    if (fseek(f, from, SEEK_SET) == 0)
        while (found < 0 && fgets(line, sizeof line, f))
            if (strstr(line, text))
                found = ftell(f);
    fclose(f);
    return found;
}

/* The size of the daemon's log so far. */
static long log_size(const struct demo *d)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/churnwatchd.log", d->dir);
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Start `churnwatch console` (this binary) over the demo's Redis on a free port and print
 * its URL, read from the line it prints once it listens. */
static int start_console(struct demo *d, const char *config_path)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char listen[32], log[PATH_MAX + 16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", free_port());
    snprintf(log, sizeof log, "%s/console.log", d->dir);
    /* CHURNWATCH_REDIS_URL is the demo's (start_daemon) */
    char *argv[] = {self, "-c", (char *)config_path, "console", "--listen", listen, NULL};
    FILE *out = spawn_piped(argv, log, &d->console_pid);
    if (!out)
        return -1;
    char line[512];
    int rc = -1;
    if (fgets(line, sizeof line, out)) {
        const char *url = strstr(line, "http://");
        if (url) {
            printf("\nweb console: %.*s\n", (int)strcspn(url, " \r\n"), url);
            rc = 0;
        }
    }
    fclose(out);
    if (rc != 0)
        fprintf(stderr, "churnwatch demo: the console did not start; see %s\n", log);
    return rc;
}

static int run_demo(struct demo *d, const char *config_path, struct cw_gen_options *go)
{
    char err[256];
    printf("churnwatch demo: %zu accounts, %u days of history, the real daemon on an embedded "
           "Kafka and a private redis-server\n",
           go->accounts, go->days);
    if (start_redis(d) != 0)
        return CW_EXIT_UNAVAILABLE;
    if (start_daemon(d, config_path) != 0)
        return CW_EXIT_UNAVAILABLE;
    printf("  redis-server on 127.0.0.1:%d, embedded Kafka at %s, logs in %s\n", d->redis_port,
           d->bootstrap, d->dir);
    printf("  metrics at http://127.0.0.1:%d/metrics while it runs\n", d->http_port);
    if (open_alert_consumer(d) != 0)
        return CW_EXIT_UNAVAILABLE;

    printf("\nstreaming the history; alerts as they fire (date = event time):\n");
    size_t count = 0;
    if (stream_history(d, go, &count) != 0)
        return CW_EXIT_UNAVAILABLE;
    rd_kafka_t *rk = offsets_client(d);
    if (!rk)
        return CW_EXIT_UNAVAILABLE;
    int64_t deadline = cw_wall_ms() + CATCHUP_TIMEOUT_S * 1000;
    while (!caught_up(d, rk)) {
        if (cw_wall_ms() > deadline) {
            fprintf(stderr, "churnwatch demo: the daemon did not catch up; see %s\n", d->dir);
            rd_kafka_destroy(rk);
            return CW_EXIT_UNAVAILABLE;
        }
        print_alerts(d, 200);
    }
    rd_kafka_destroy(rk);

    /* Caught up: the daemon's clock is the wall clock now. A sweep finds the accounts
     * that went silent (no event arrives to rescore them). */
    struct cw_redis_config rc = d->cfg->redis;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", d->redis_port);
    rc.url = url;
    rc.tls = (struct cw_redis_tls_config){0}; /* the demo's own redis-server: plain */
    long mark = log_size(d);
    cw_store *st = cw_store_open(&rc, err, sizeof err);
    if (!st || cw_store_rescore_request(st, cw_wall_ms(), err, sizeof err) != 0) {
        fprintf(stderr, "churnwatch demo: redis: %s\n", err);
        cw_store_close(st);
        return CW_EXIT_UNAVAILABLE;
    }
    /* The table must show every account as that sweep left it: wait for the daemon to
     * take the request and complete the sweep it starts (a busy machine may need long). */
    int64_t sweep_deadline = cw_wall_ms() + SWEEP_TIMEOUT_S * 1000;
    for (;;) {
        long taken = log_find(d, mark, "rescore requested");
        if (taken >= 0 && log_find(d, taken, "sweep completed") >= 0)
            break;
        if (cw_wall_ms() > sweep_deadline) {
            fprintf(stderr,
                    "churnwatch demo: the daemon's final sweep did not complete within %d s; "
                    "the table may miss accounts (see %s)\n",
                    SWEEP_TIMEOUT_S, d->dir);
            break;
        }
        print_alerts(d, 200);
    }
    size_t before = d->n_alerts[0] + d->n_alerts[1];
    int64_t quiet_since = cw_wall_ms();
    while (cw_wall_ms() - quiet_since < QUIET_MS) {
        print_alerts(d, 200);
        if (d->n_alerts[0] + d->n_alerts[1] != before) {
            before = d->n_alerts[0] + d->n_alerts[1];
            quiet_since = cw_wall_ms();
        }
    }
    printf("\n%zu events streamed; %zu alerts fired (%zu of them opportunities), %zu "
           "resolved.\n\naccounts, lowest score first:\n",
           count, d->n_alerts[0], d->n_opportunities, d->n_alerts[1]);
    fflush(stdout);
    cw_store_close(st);
    return CW_EXIT_OK;
}

/* The users section the demo adds to a config without one (docs/users.md), so that its
 * accounts show their users' ranks: points for the shipped usage types. */
static const char demo_users[] =
    "\n# added by churnwatch demo, so that its accounts show their users' ranks "
    "(docs/users.md)\n"
    "users:\n"
    "  weights: {login: 1, app_created: 5, seminar_attended: 10, email_clicked: 2, "
    "help_viewed: 1}\n";

/* The config the demo runs: the one given, or, when it has no users section, a copy of it
 * with demo_users in the demo's directory (private, like the rest of it). A copy that does
 * not load (another config's event types, a path relative to the original's directory)
 * leaves the given one. Returns the path to use; *cfg is then its config. */
static const char *demo_config(struct demo *d, const char *path, struct cw_config **cfg)
{
    if ((*cfg)->users.enabled)
        return path;
    FILE *in = fopen(path, "rb");
    if (!in)
        return path;
    int w = snprintf(d->config_path, sizeof d->config_path, "%.*s/churnwatch.yaml",
                     (int)(sizeof d->config_path - sizeof "/churnwatch.yaml"), d->dir);
    int fd = w > 0 && (size_t)w < sizeof d->config_path
                 ? open(d->config_path, O_WRONLY | O_CREAT | O_EXCL, 0600)
                 : -1;
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    bool ok = out != NULL;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in) && fputs(demo_users, out) >= 0;
    fclose(in);
    if (out)
        ok = fclose(out) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    static char errs[4096];
    struct cw_config *with =
        ok ? cw_config_load(d->config_path, cw_process_getenv, errs, sizeof errs) : NULL;
    if (!with) {
        printf("(the config has no users section, and adding one failed: the demo shows no "
               "users' ranks)\n");
        return path;
    }
    cw_config_free(*cfg);
    *cfg = with;
    return d->config_path;
}

/* One group of the history (gen: the first of five healthy accounts, the parent of the four
 * after it) as `churnwatch account` and `churnwatch users` show it. */
static int show_group(const struct cw_cli_opts *opts, const struct cw_config *cfg,
                      const struct cw_gen_options *go)
{
    char err[256];
    cw_gen *g = cw_gen_new(go, err, sizeof err);
    char parent[CW_GEN_ID_MAX] = "";
    for (size_t i = 0; g && i < cw_gen_account_count(g) && !parent[0]; i++)
        snprintf(parent, sizeof parent, "%s", cw_gen_account(g, i)->parent_id);
    cw_gen_free(g);
    if (!parent[0])
        return CW_EXIT_OK; /* too few healthy accounts for a group */
    printf("\na group of accounts (docs/hierarchies.md): churnwatch account %s\n", parent);
    fflush(stdout);
    char *account_argv[] = {"account", parent, NULL};
    int rc = cw_cmd_account(opts, 2, account_argv);
    if (rc == CW_EXIT_OK && cfg->users.enabled) {
        printf("\nits users by engagement (docs/users.md): churnwatch users %s\n", parent);
        fflush(stdout);
        char *users_argv[] = {"users", parent, NULL};
        rc = cw_cmd_users(opts, 2, users_argv);
    }
    return rc;
}

int cw_cmd_demo(const struct cw_cli_opts *opts, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"accounts", required_argument, NULL, 'a'},
        {"days", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct cw_gen_options go;
    cw_gen_options_init(&go);
    char err[256];
    int c;
    optind = 1;
    bool keep = false;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'k') {
            keep = true;
            continue;
        }
        const char *key = c == 'a' ? "accounts" : c == 'd' ? "days" : c == 's' ? "seed" : NULL;
        if (!key || cw_gen_options_set(&go, key, optarg, err, sizeof err) != 0) {
            if (key)
                fprintf(stderr, "churnwatch demo: %s\n", err);
            fprintf(stderr,
                    "usage: churnwatch demo [--accounts N] [--days N] [--seed N] [--keep]\n");
            return CW_EXIT_USAGE;
        }
    }
    struct cw_config *cfg = NULL;
    int rc = cw_cli_load_config(opts, &cfg);
    if (rc != CW_EXIT_OK)
        return rc;
    go.end_ms = cw_wall_ms(); /* the history ends now: the daemon then goes live */

    struct demo d;
    memset(&d, 0, sizeof d);
    find_daemon(&d);
    snprintf(d.dir, sizeof d.dir, "%s/churnwatch-demo.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(d.dir)) {
        perror("churnwatch demo: mkdtemp");
        cw_config_free(cfg);
        return CW_EXIT_USAGE;
    }
    struct cw_cli_opts dopts = *opts; /* the demo's config, with users (demo_config) */
    dopts.config_path = demo_config(&d, opts->config_path, &cfg);
    d.cfg = cfg;
    rc = run_demo(&d, dopts.config_path, &go);
    if (rc == CW_EXIT_OK) {
        char limit[16];
        snprintf(limit, sizeof limit, "%zu", go.accounts);
        char *top_argv[] = {"top", "--limit", limit, NULL};
        rc = cw_cmd_top(&dopts, 3, top_argv);
    }
    if (rc == CW_EXIT_OK)
        rc = show_group(&dopts, cfg, &go);
    /* The web console over the same state: with --keep it stays up, with the daemon and
     * Redis, until Ctrl-C. */
    if (rc == CW_EXIT_OK && start_console(&d, dopts.config_path) != 0)
        rc = CW_EXIT_UNAVAILABLE;
    if (rc == CW_EXIT_OK && keep) {
        printf("kept up until Ctrl-C (or SIGTERM)\n");
        fflush(stdout);
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        int sig;
        sigwait(&stop, &sig);
    } else if (rc == CW_EXIT_OK) {
        printf("(it stops with the demo: `churnwatch demo --keep` keeps it up)\n");
    }
    stop_child(d.console_pid, 5000);
    cw_consumer_close(d.alerts, 5000);
    cw_producer_close(d.producer, 5000);
    stop_child(d.daemon_pid, 15000);
    stop_child(d.redis_pid, 5000);
    if (rc == CW_EXIT_OK)
        printf("\nstopped the console, churnwatchd and redis-server; logs kept in %s\n", d.dir);
    cw_config_free(cfg);
    return rc;
}
