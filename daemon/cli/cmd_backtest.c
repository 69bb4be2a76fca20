/* cmd_backtest.c - `churnwatch backtest`: replay JSON Lines history through a config (and a
 * baseline) in memory, and write what its rules would have done (docs/backtest.md) */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest_replay.h"
#include "backtest_topic.h"
#include "churnwatch/backtest_report.h"
#include "churnwatch/event.h"
#include "cli.h"

static const char USAGE[] =
    "churnwatch [-c candidate.yaml] backtest [--baseline FILE] [--since 90d|DATE]\n"
    "           [--outcomes FILE | --churn-event TYPE] [--json] [--html OUT] [--batch N]\n"
    "           [--episodes OUT] --from-topic | FILE...";

#define PROGRESS_EVERY   (1u << 16) /* messages between two looks at the terminal's clock */
#define TOPIC_TIMEOUT_MS 10000      /* each metadata and offsets request of --from-topic */

struct bt_opts {
    const char *baseline;
    const char *since;
    const char *episodes; /* JSON Lines of every episode, "-" stdout */
    const char *outcomes; /* CSV account,churned_at */
    const char *churn_event;
    const char *html;
    bool json;
    bool from_topic; /* the config's input topics instead of FILE... */
    size_t batch_max;
};

/* --since: a duration back from now (90d), a local date of cfg's zone, or RFC 3339. */
static int parse_since(const char *text, const struct cw_config *cfg, int64_t *out)
{
    int64_t ms;
    if (cw_duration_parse(text, &ms) == 0 && ms > 0) {
        *out = cw_wall_ms() - ms;
        return 0;
    }
    if (cw_rfc3339_parse(text, strlen(text), out) == 0)
        return 0;
    int y;
    unsigned m, d;
    char tail;
    if (sscanf(text, "%4d-%2u-%2u%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12 && d >= 1 &&
        d <= 31) {
        char err[256];
        cw_tz *tz = cw_tz_open(cfg->timezone, err, sizeof err);
        if (!tz)
            return -1;
        *out = cw_tz_day_start(tz, cw_days_from_civil(y, m, d));
        cw_tz_free(tz);
        return 0;
    }
    return -1;
}

/* The replays (one per config) being fed, and the progress shown on a terminal. */
struct feed {
    struct cw_bt_replay **reps;
    size_t nrep;
    bool tty;
    int64_t next_progress;
};

/* One message to every replay. 0, or -1 after saying why (out of memory). */
static int feed_message(void *ctx, const void *value, size_t len, int64_t ts_ms, const char *source,
                        int32_t partition, int64_t offset)
{
    struct feed *fd = ctx;
    for (size_t k = 0; k < fd->nrep; k++)
        if (cw_bt_replay_message(fd->reps[k], value, len, ts_ms, source, partition, offset) < 0) {
            fprintf(stderr, "churnwatch: out of memory\n");
            return -1;
        }
    if (fd->tty && cw_bt_replay_messages(fd->reps[0]) % PROGRESS_EVERY == 0 &&
        cw_mono_ms() >= fd->next_progress) {
        char at[32] = "-";
        int64_t clock = cw_bt_replay_clock(fd->reps[0]);
        if (clock >= 0)
            cw_rfc3339_format(clock, at);
        fprintf(stderr, "\rbacktest: %" PRIu64 " messages, event time %s ",
                cw_bt_replay_messages(fd->reps[0]), at);
        fd->next_progress = cw_mono_ms() + 1000;
    }
    return 0;
}

/* Every line of the files to the replays. CW_EXIT_OK, or an exit code after saying why. */
static int feed_files(struct feed *fd, char **files, int nfiles)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = CW_EXIT_OK;
    for (int f = 0; f < nfiles && rc == CW_EXIT_OK; f++) {
        FILE *in = strcmp(files[f], "-") == 0 ? stdin : fopen(files[f], "r");
        if (!in) {
            fprintf(stderr, "churnwatch: %s: %m\n", cw_cli_text(files[f]));
            rc = CW_EXIT_USAGE;
            break;
        }
        ssize_t len;
        int64_t lineno = 0;
        while ((len = getline(&line, &cap, in)) >= 0) {
            lineno++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (len == 0) /* as `churnwatch produce` sends them */
                continue;
            if (feed_message(fd, line, (size_t)len, -1, files[f], 0, lineno) != 0) {
                rc = CW_EXIT_USAGE;
                break;
            }
        }
        if (ferror(in)) {
            fprintf(stderr, "churnwatch: %s: read error\n", cw_cli_text(files[f]));
            rc = CW_EXIT_USAGE;
        }
        if (in != stdin)
            fclose(in);
    }
    free(line);
    return rc;
}

/* The config's input topics, from their beginnings to their ends at the start, to the
 * replays. CW_EXIT_OK, or an exit code after saying why. */
static int feed_topic(struct feed *fd, const struct cw_config *cfg)
{
    char err[512];
    if (cw_bt_topic_read(cfg, TOPIC_TIMEOUT_MS, feed_message, fd, err, sizeof err) == 0)
        return CW_EXIT_OK;
    if (err[0]) {
        fprintf(stderr, "churnwatch: --from-topic: %s\n", err);
        return CW_EXIT_UNAVAILABLE;
    }
    return CW_EXIT_USAGE; /* feed_message said why */
}

static void write_episodes(FILE *out, const struct cw_bt_run *run)
{
    for (size_t i = 0; i < run->nepisodes; i++) {
        const struct cw_bt_episode *e = &run->episodes[i];
        json_t *o = json_object();
        json_object_set_new(o, "account_id", json_string(run->accounts[e->account]));
        json_object_set_new(o, "rule", json_string(run->rules[e->rule]));
        json_object_set_new(o, "alert_id", json_string(e->alert_id));
        json_object_set_new(o, "fired_at", cw_cli_json_time(true, e->fired_ms));
        json_object_set_new(o, "resolved_at", cw_cli_json_time(e->resolved_ms > 0, e->resolved_ms));
        json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(o);
    }
}

/* The whole of a file (NUL-terminated; a pipe will do), or NULL after saying why. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "churnwatch: %s: %m\n", cw_cli_text(path));
        return NULL;
    }
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    char chunk[1 << 16];
    size_t got;
    while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, mem);
    bool read_error = ferror(f) != 0; /* errno: fread's */
    if (read_error)
        fprintf(stderr, "churnwatch: %s: %m\n", cw_cli_text(path));
    fclose(f);
    bool mem_error = !mem;
    if (mem) {
        mem_error = ferror(mem) != 0;
        mem_error |= fclose(mem) != 0; /* after it, buf and *len are final */
    }
    if (mem_error && !read_error)
        fprintf(stderr, "churnwatch: out of memory\n");
    if (mem_error || read_error) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* An output named on the command line ("-" stdout), opened before the replay so that a
 * bad path is told before a long run. NULL after saying why. */
static FILE *open_out(const char *path)
{
    FILE *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!out)
        fprintf(stderr, "churnwatch: %s: %m\n", cw_cli_text(path));
    return out;
}

/* Close (or flush stdout) what open_out opened, after writing to it. CW_EXIT_OK, or
 * CW_EXIT_USAGE after saying why. */
static int close_out(FILE *out, const char *path)
{
    bool bad = ferror(out) != 0;
    bad |= (out != stdout ? fclose(out) : fflush(out)) != 0;
    if (bad) {
        fprintf(stderr, "churnwatch: %s: write error\n", cw_cli_text(path));
        return CW_EXIT_USAGE;
    }
    return CW_EXIT_OK;
}

/* The report as JSON, indented as every --json output of the CLI (CW_CLI_JSON_FLAGS). */
static int write_json(FILE *out, char *doc)
{
    json_error_t jerr;
    json_t *j = doc ? json_loads(doc, 0, &jerr) : NULL;
    free(doc);
    if (!j || json_dumpf(j, out, CW_CLI_JSON_FLAGS) != 0 || fputc('\n', out) == EOF) {
        json_decref(j);
        fprintf(stderr, "churnwatch: the report: out of memory or a write error\n");
        return CW_EXIT_USAGE;
    }
    json_decref(j);
    return CW_EXIT_OK;
}

/* A malloc'd document (freed here; NULL: out of memory) to out. */
static int write_doc(FILE *out, char *doc)
{
    if (!doc) {
        fprintf(stderr, "churnwatch: out of memory\n");
        return CW_EXIT_USAGE;
    }
    fputs(doc, out);
    free(doc);
    return CW_EXIT_OK;
}

static bool parse(int argc, char **argv, struct bt_opts *o)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"since", required_argument, NULL, 's'},
        {"batch", required_argument, NULL, 'B'},    {"episodes", required_argument, NULL, 'e'},
        {"outcomes", required_argument, NULL, 'o'}, {"churn-event", required_argument, NULL, 'C'},
        {"html", required_argument, NULL, 'H'},     {"json", no_argument, NULL, 'j'},
        {"from-topic", no_argument, NULL, 'T'},     {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->baseline = optarg;
            break;
        case 's':
            o->since = optarg;
            break;
        case 'e':
            o->episodes = optarg;
            break;
        case 'o':
            o->outcomes = optarg;
            break;
        case 'C':
            o->churn_event = optarg;
            break;
        case 'H':
            o->html = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'T':
            o->from_topic = true;
            break;
        case 'B': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 1000000) {
                fprintf(stderr, "churnwatch: --batch must be 1..1000000 (churnwatchd's --batch)\n");
                return false;
            }
            o->batch_max = (size_t)v;
            break;
        }
        default:
            return false;
        }
    }
    if (o->outcomes && o->churn_event) {
        fprintf(stderr, "churnwatch: backtest: --outcomes or --churn-event, not both\n");
        return false;
    }
    if (o->json && o->episodes && strcmp(o->episodes, "-") == 0) {
        fprintf(stderr, "churnwatch: backtest: --json and --episodes -: both would go to "
                        "stdout (give --episodes a file)\n");
        return false;
    }
    if (o->html && strcmp(o->html, "-") == 0) {
        fprintf(stderr, "churnwatch: backtest: --html takes a file, not stdout (the report "
                        "goes there)\n");
        return false;
    }
    if (o->from_topic && optind < argc) {
        fprintf(stderr, "churnwatch: backtest: --from-topic or FILE..., not both\n");
        return false;
    }
    if (!o->from_topic && optind >= argc) {
        fprintf(stderr, "churnwatch: backtest: no input FILE given (or --from-topic)\n");
        return false;
    }
    return true;
}

int cw_cmd_backtest(const struct cw_cli_opts *opts, int argc, char **argv)
{
    struct bt_opts o = {0};
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s\n", USAGE);
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfgs[2] = {NULL, NULL};
    const char *paths[2] = {opts->config_path, o.baseline};
    struct cw_bt_replay *reps[2] = {NULL, NULL};
    struct cw_bt_run runs[2];
    memset(runs, 0, sizeof runs);
    size_t n = o.baseline ? 2 : 1;
    int rc = CW_EXIT_OK;
    char err[512];
    for (size_t k = 0; k < n && rc == CW_EXIT_OK; k++) {
        struct cw_cli_opts one = {.config_path = paths[k]};
        rc = cw_cli_load_config(&one, &cfgs[k]);
    }
    int64_t report_ms = 0;
    if (rc == CW_EXIT_OK && o.since && parse_since(o.since, cfgs[0], &report_ms) != 0) {
        fprintf(stderr,
                "churnwatch: --since %s: a duration (90d), a date (YYYY-MM-DD) or an "
                "RFC 3339 time\n",
                cw_cli_text(o.since));
        rc = CW_EXIT_USAGE;
    }
    FILE *html = NULL, *episodes = NULL;
    if (rc == CW_EXIT_OK && o.html && !(html = open_out(o.html)))
        rc = CW_EXIT_USAGE;
    if (rc == CW_EXIT_OK && o.episodes && !(episodes = open_out(o.episodes)))
        rc = CW_EXIT_USAGE;
    struct cw_bt_outcomes outcomes = {0};
    bool have_outcomes = false;
    int churn_type = -1;
    if (rc == CW_EXIT_OK && o.churn_event) {
        churn_type = cw_config_event_type_index(cfgs[0], o.churn_event);
        if (churn_type < 0) {
            fprintf(stderr, "churnwatch: --churn-event %s: not an event type of %s (event_types:",
                    cw_cli_text(o.churn_event), cw_cli_text(paths[0]));
            for (size_t t = 0; t < cfgs[0]->n_event_types; t++)
                fprintf(stderr, " %s", cw_cli_text(cfgs[0]->event_types[t].name));
            fprintf(stderr, ")\n");
            rc = CW_EXIT_USAGE;
        }
    }
    if (rc == CW_EXIT_OK && o.outcomes) {
        size_t len = 0;
        char *text = slurp(o.outcomes, &len);
        if (!text) {
            rc = CW_EXIT_USAGE;
        } else if (cw_bt_outcomes_parse_csv(text, len, &outcomes, err, sizeof err) != 0) {
            fprintf(stderr, "churnwatch: %s: %s\n", cw_cli_text(o.outcomes), err);
            rc = CW_EXIT_USAGE;
        } else {
            have_outcomes = true;
        }
        free(text);
    }
    for (size_t k = 0; k < n && rc == CW_EXIT_OK; k++) {
        /* the churn type is an index into the candidate's event types: its replay alone
         * finds the churned accounts */
        struct cw_bt_replay_opts ro = {.batch_max = o.batch_max,
                                       .report_ms = report_ms,
                                       .churn_type = k == 0 ? churn_type : -1};
        if (!(reps[k] = cw_bt_replay_new(cfgs[k], &ro, err, sizeof err))) {
            fprintf(stderr, "churnwatch: %s: %s\n", cw_cli_text(paths[k]), err);
            rc = CW_EXIT_USAGE;
        }
    }
    struct feed fd = {.reps = reps,
                      .nrep = n,
                      .tty = isatty(STDERR_FILENO),
                      .next_progress = cw_mono_ms() + 1000};
    if (rc == CW_EXIT_OK)
        rc =
            o.from_topic ? feed_topic(&fd, cfgs[0]) : feed_files(&fd, argv + optind, argc - optind);
    if (fd.tty)
        fprintf(stderr, "\r\033[K");
    for (size_t k = 0; k < n && rc == CW_EXIT_OK; k++)
        if (cw_bt_replay_finish(reps[k], paths[k], &runs[k],
                                k == 0 && churn_type >= 0 ? &outcomes : NULL) != 0) {
            fprintf(stderr, "churnwatch: out of memory\n");
            rc = CW_EXIT_USAGE;
        }
    if (rc == CW_EXIT_OK && churn_type >= 0)
        have_outcomes = true;
    struct cw_bt_report_opts rep = {.candidate = &runs[0],
                                    .baseline = n == 2 ? &runs[1] : NULL,
                                    .outcomes = have_outcomes ? &outcomes : NULL};
    if (rc == CW_EXIT_OK)
        rc = o.json ? write_json(stdout, cw_bt_report_json(&rep))
                    : write_doc(stdout, cw_bt_report_text(&rep));
    if (rc == CW_EXIT_OK && html)
        rc = write_doc(html, cw_bt_report_html(&rep));
    if (rc == CW_EXIT_OK && episodes)
        write_episodes(episodes, &runs[0]);
    if (html && close_out(html, o.html) != CW_EXIT_OK)
        rc = CW_EXIT_USAGE;
    if (episodes && close_out(episodes, o.episodes) != CW_EXIT_OK)
        rc = CW_EXIT_USAGE;
    if (close_out(stdout, "stdout") != CW_EXIT_OK)
        rc = CW_EXIT_USAGE;
    /* a failed run leaves no partial report or episodes behind (they were opened early) */
    if (rc != CW_EXIT_OK && html)
        unlink(o.html);
    if (rc != CW_EXIT_OK && episodes && episodes != stdout)
        unlink(o.episodes);
    cw_bt_outcomes_free(&outcomes);
    for (size_t k = 0; k < 2; k++) {
        cw_bt_run_free(&runs[k]);
        cw_bt_replay_free(reps[k]);
        cw_config_free(cfgs[k]);
    }
    return rc;
}
