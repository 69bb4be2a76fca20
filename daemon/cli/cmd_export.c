/* cmd_export.c - `churnwatch export`: every account's score, traits and score history as
 * JSON Lines or CSV, read and written a page of accounts at a time (constant memory) */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_eval.h"
#include "churnwatch/event.h"
#include "churnwatch/text_escape.h"
#include "churnwatch/window.h"
#include "cli.h"

static const char USAGE[] = "churnwatch export [--format jsonl|csv] [--history] [--spreadsheet]\n"
                            "                         [--segment S] [--owner O] [--grade G] "
                            "[-o FILE]";

enum format { FORMAT_JSONL, FORMAT_CSV };

struct export_opts {
    enum format format;
    bool history;     /* CSV: one row per (account, day) of the score history */
    bool spreadsheet; /* CSV: text that a spreadsheet would run as a formula made inert */
    const char *segment, *owner, *grade;
    const char *out_path; /* NULL: stdout */
};

struct export_state {
    const struct cw_config *cfg;
    const struct export_opts *o;
    FILE *f;
    int64_t now;
    char as_of[32];
    size_t accounts, rows, filtered;
    struct cw_account_eval *e; /* scratch of export_all */
};

static void day_text(int32_t day, char out[16])
{
    int y;
    unsigned m, d;
    cw_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", y, m, d);
}

static bool keep(const struct export_opts *o, const struct cw_account_data *a,
                 const struct cw_account_eval *e)
{
    if (o->segment && strcmp(a->traits.segment, o->segment) != 0)
        return false;
    if (o->owner && strcmp(a->traits.owner, o->owner) != 0)
        return false;
    if (o->grade && !(e->score.has_score && strcmp(e->score.grade, o->grade) == 0))
        return false;
    return true;
}

/* ---- JSON Lines ---- */

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *day_or_null(int32_t day)
{
    char d[16];
    if (day == CW_DAY_NONE)
        return json_null();
    day_text(day, d);
    return json_string(d);
}

static int write_jsonl(struct export_state *x, const struct cw_account_data *a,
                       const struct cw_account_eval *e)
{
    const struct cw_config *cfg = x->cfg;
    const struct cw_traits *t = &a->traits;
    json_t *o = json_object();
    json_object_set_new(o, "account_id", json_string(a->account_id));
    json_object_set_new(o, "score", cw_cli_json_number(e->score.has_score, e->score.score));
    json_object_set_new(o, "grade", e->score.has_score ? json_string(e->score.grade) : json_null());
    json_t *comps = json_object();
    for (size_t c = 0; c < cfg->score.n_components; c++)
        json_object_set_new(
            comps, cfg->score.components[c].name,
            cw_cli_json_number(e->score.components[c].has, e->score.components[c].value));
    json_object_set_new(o, "components", comps);
    json_object_set_new(o, "segment", text_or_null(t->segment));
    json_object_set_new(o, "plan", text_or_null(t->plan));
    json_object_set_new(o, "owner", text_or_null(t->owner));
    json_object_set_new(o, "parent_id", text_or_null(t->parent_id));
    json_object_set_new(o, "seats", t->has_seats ? json_integer(t->seats) : json_null());
    json_object_set_new(o, "created_at", cw_cli_json_time(t->has_created_at, t->created_at_ms));
    json_object_set_new(o, "renewal_at", cw_cli_json_time(t->has_renewal_at, t->renewal_at_ms));
    json_object_set_new(o, "first_seen", day_or_null(a->first_day));
    json_object_set_new(o, "last_seen", cw_cli_json_time(a->last_seen_ms >= 0, a->last_seen_ms));
    json_t *firing = json_array();
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++)
        if (a->rules[r].status == CW_RULE_FIRING)
            json_array_append_new(firing, json_string(cfg->rules[r].name));
    json_object_set_new(o, "firing", firing);
    json_t *history = json_array();
    for (size_t i = 0; i < a->n_history; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "day", day_or_null(a->history[i].day));
        json_object_set_new(p, "score", cw_cli_json_number(true, a->history[i].score));
        json_array_append_new(history, p);
    }
    json_object_set_new(o, "history", history);
    json_object_set_new(o, "as_of", json_string(x->as_of));
    int rc = json_dumpf(o, x->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    fputc('\n', x->f);
    json_decref(o);
    x->rows++;
    return rc;
}

/* ---- CSV ---- */

static void csv_text(struct export_state *x, const char *s)
{
    char buf[4 * CW_ID_MAX + 16];
    size_t n = cw_escape_csv(buf, sizeof buf, s, strlen(s), x->o->spreadsheet);
    if (n < sizeof buf) {
        fputs(buf, x->f);
        return;
    }
    char *big = malloc(n + 1); /* ids and traits are bounded: not expected */
    if (big) {
        cw_escape_csv(big, n + 1, s, strlen(s), x->o->spreadsheet);
        fputs(big, x->f);
        free(big);
    }
}

static void csv_number(struct export_state *x, bool has, double v)
{
    if (has && isfinite(v))
        fprintf(x->f, "%.15g", cw_cli_round2(v));
}

static void csv_time(struct export_state *x, bool has, int64_t ms)
{
    char t[32];
    if (!has)
        return;
    cw_rfc3339_format(ms, t);
    fputs(t, x->f);
}

static void write_csv_header(struct export_state *x)
{
    if (x->o->history) {
        fputs("account_id,day,score\n", x->f);
        return;
    }
    fputs("account_id,score,grade", x->f);
    for (size_t c = 0; c < x->cfg->score.n_components; c++) {
        fputs(",component_", x->f);
        fputs(x->cfg->score.components[c].name, x->f);
    }
    fputs(",segment,plan,owner,seats,created_at,renewal_at,first_seen,last_seen,firing,as_of,"
          "parent_id\n",
          x->f);
}

static int write_csv(struct export_state *x, const struct cw_account_data *a,
                     const struct cw_account_eval *e)
{
    const struct cw_config *cfg = x->cfg;
    if (x->o->history) {
        for (size_t i = 0; i < a->n_history; i++) {
            char day[16];
            day_text(a->history[i].day, day);
            csv_text(x, a->account_id);
            fprintf(x->f, ",%s,", day);
            csv_number(x, true, a->history[i].score);
            fputc('\n', x->f);
            x->rows++;
        }
        return 0;
    }
    const struct cw_traits *t = &a->traits;
    csv_text(x, a->account_id);
    fputc(',', x->f);
    csv_number(x, e->score.has_score, e->score.score);
    fputc(',', x->f);
    if (e->score.has_score)
        csv_text(x, e->score.grade);
    for (size_t c = 0; c < cfg->score.n_components; c++) {
        fputc(',', x->f);
        csv_number(x, e->score.components[c].has, e->score.components[c].value);
    }
    fputc(',', x->f);
    csv_text(x, t->segment);
    fputc(',', x->f);
    csv_text(x, t->plan);
    fputc(',', x->f);
    csv_text(x, t->owner);
    fputc(',', x->f);
    if (t->has_seats)
        fprintf(x->f, "%lld", (long long)t->seats);
    fputc(',', x->f);
    csv_time(x, t->has_created_at, t->created_at_ms);
    fputc(',', x->f);
    csv_time(x, t->has_renewal_at, t->renewal_at_ms);
    fputc(',', x->f);
    if (a->first_day != CW_DAY_NONE) {
        char day[16];
        day_text(a->first_day, day);
        fputs(day, x->f);
    }
    fputc(',', x->f);
    csv_time(x, a->last_seen_ms >= 0, a->last_seen_ms);
    fputc(',', x->f);
    char firing[CW_MAX_RULES * 65] = "";
    size_t used = 0;
    for (size_t r = 0; r < cfg->n_rules && r < a->n_rules; r++)
        if (a->rules[r].status == CW_RULE_FIRING && used < sizeof firing)
            used += (size_t)snprintf(firing + used, sizeof firing - used, "%s%s", used ? ";" : "",
                                     cfg->rules[r].name);
    csv_text(x, firing);
    fprintf(x->f, ",%s,", x->as_of);
    csv_text(x, t->parent_id);
    fputc('\n', x->f);
    x->rows++;
    return 0;
}

/* ---- the scan ---- */

/* One account of the scan: evaluated, filtered, written. 0, or 1 after a write error. */
static int export_one(void *ctx, const struct cw_account_data *a)
{
    struct export_state *x = ctx;
    cw_account_evaluate(x->cfg, a, x->now, x->e);
    if (!keep(x->o, a, x->e)) {
        x->filtered++;
        return 0;
    }
    x->accounts++;
    int wrc = x->o->format == FORMAT_JSONL ? write_jsonl(x, a, x->e) : write_csv(x, a, x->e);
    if (wrc != 0 || ferror(x->f)) {
        fprintf(stderr, "churnwatch: write error\n");
        return 1;
    }
    return 0;
}

/* Every account of the store, a page at a time. */
static int export_all(struct export_state *x, cw_store *st, cw_tz *tz)
{
    char err[512];
    if (!(x->e = calloc(1, sizeof *x->e))) {
        fprintf(stderr, "churnwatch: out of memory\n");
        return CW_EXIT_USAGE;
    }
    if (x->o->format == FORMAT_CSV)
        write_csv_header(x);
    int rc =
        cw_cli_scan_accounts(x->cfg, st, cw_tz_day(tz, x->now), export_one, x, err, sizeof err);
    free(x->e);
    x->e = NULL;
    if (rc < 0)
        fprintf(stderr, "churnwatch: %s\n", err);
    return rc < 0 ? CW_EXIT_UNAVAILABLE : rc > 0 ? CW_EXIT_USAGE : CW_EXIT_OK;
}

static bool parse(int argc, char **argv, struct export_opts *o)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"history", no_argument, NULL, 'H'},
        {"spreadsheet", no_argument, NULL, 's'},  {"segment", required_argument, NULL, 'S'},
        {"owner", required_argument, NULL, 'O'},  {"grade", required_argument, NULL, 'g'},
        {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "jsonl") == 0) {
                o->format = FORMAT_JSONL;
            } else if (strcmp(optarg, "csv") == 0) {
                o->format = FORMAT_CSV;
            } else {
                fprintf(stderr, "churnwatch: --format %s: jsonl or csv\n", cw_cli_text(optarg));
                return false;
            }
            break;
        case 'H':
            o->history = true;
            break;
        case 's':
            o->spreadsheet = true;
            break;
        case 'S':
            o->segment = optarg;
            break;
        case 'O':
            o->owner = optarg;
            break;
        case 'g':
            o->grade = optarg;
            break;
        case 'o':
            o->out_path = optarg;
            break;
        default:
            return false;
        }
    }
    if (optind != argc)
        return false;
    if (o->format != FORMAT_CSV && (o->history || o->spreadsheet)) {
        fprintf(stderr, "churnwatch: --history and --spreadsheet go with --format csv (JSON "
                        "Lines always carry the history)\n");
        return false;
    }
    return true;
}

int cw_cmd_export(const struct cw_cli_opts *ctx, int argc, char **argv)
{
    struct export_opts o = {.format = FORMAT_JSONL};
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s\n", USAGE);
        return CW_EXIT_USAGE;
    }
    struct cw_config *cfg = NULL;
    cw_store *st = NULL;
    cw_tz *tz = NULL;
    FILE *f = stdout;
    char part[4096] = "";
    int rc = cw_cli_load_config(ctx, &cfg);
    if (rc != CW_EXIT_OK)
        goto out;
    if (o.grade && !cw_cli_grade_known(cfg, o.grade)) {
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if ((rc = cw_cli_open_tz(cfg, &tz)) != CW_EXIT_OK ||
        (rc = cw_cli_open_store(cfg, &st)) != CW_EXIT_OK)
        goto out;
    if (o.out_path) { /* written beside, renamed when complete: never a partial file */
        if ((size_t)snprintf(part, sizeof part, "%s.part", o.out_path) >= sizeof part ||
            !(f = fopen(part, "w"))) {
            fprintf(stderr, "churnwatch: cannot write %s.part\n", cw_cli_text(o.out_path));
            f = NULL;
            part[0] = '\0';
            rc = CW_EXIT_USAGE;
            goto out;
        }
    }
    struct export_state x = {.cfg = cfg, .o = &o, .f = f, .now = cw_wall_ms()};
    cw_rfc3339_format(x.now, x.as_of);
    rc = export_all(&x, st, tz);
    if (fflush(f) != 0 && rc == CW_EXIT_OK) {
        fprintf(stderr, "churnwatch: write error\n");
        rc = CW_EXIT_USAGE;
    }
    if (rc == CW_EXIT_OK && (o.segment || o.owner || o.grade))
        fprintf(stderr, "churnwatch: exported %zu accounts (%zu %s), %zu not matching\n",
                x.accounts, x.rows, o.format == FORMAT_JSONL ? "lines" : "rows", x.filtered);
    else if (rc == CW_EXIT_OK)
        fprintf(stderr, "churnwatch: exported %zu accounts (%zu %s)\n", x.accounts, x.rows,
                o.format == FORMAT_JSONL ? "lines" : "rows");
out:
    if (f && f != stdout) {
        bool ok = fclose(f) == 0 && rc == CW_EXIT_OK;
        if (ok && rename(part, o.out_path) != 0) {
            fprintf(stderr, "churnwatch: cannot rename %s.part to %s\n", cw_cli_text(o.out_path),
                    cw_cli_text(o.out_path));
            ok = false;
            rc = CW_EXIT_USAGE;
        }
        if (!ok)
            unlink(part);
    }
    cw_store_close(st);
    cw_tz_free(tz);
    cw_config_free(cfg);
    return rc;
}
