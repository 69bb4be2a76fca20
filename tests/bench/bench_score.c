/* bench_score.c - accounts scored/s (score plus every rule, cw_evaluate) from in-memory
 * aggregates, with every reason text and with the alerts' only */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "churnwatch/rules.h"
#include "churnwatch/score.h"
#include "churnwatch/window.h"

#define USERS_PER_ACCOUNT 50
#define HISTORY_DAYS      60

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One account's aggregates as the daemon holds them after loading from Redis. */
struct account {
    char id[32];
    uint32_t *daily;
    int32_t users[USERS_PER_ACCOUNT];
    int64_t *type_last_ms;
    struct cw_traits traits;
    struct cw_score_point history[HISTORY_DAYS];
    struct cw_rule_state rules[CW_MAX_RULES];
};

int main(int argc, char **argv)
{
    long accounts = 20000;
    long passes = 10;
    const char *config = CW_SOURCE_DIR "/conf/churnwatch.yaml";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--accounts") == 0 && i + 1 < argc)
            accounts = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else {
            fprintf(stderr, "usage: bench_score [--accounts N] [--passes N] [--config FILE]\n");
            return 2;
        }
    }
    if (accounts <= 0 || passes <= 0) {
        fprintf(stderr, "bench_score: --accounts and --passes must be positive\n");
        return 2;
    }
    printf("command: %s --accounts %ld --passes %ld --config %s\n", argv[0], accounts, passes,
           config);

    char errs[4096];
    struct cw_config *cfg = cw_config_load(config, NULL, errs, sizeof errs);
    if (!cfg) {
        fprintf(stderr, "bench_score: %s\n", errs);
        return 1;
    }
    if (cfg->n_rules > CW_MAX_RULES) {
        fprintf(stderr, "bench_score: too many rules\n");
        return 1;
    }
    const int64_t now_ms = INT64_C(1795338000000); /* 2026-11-22T09:00:00Z */
    const int32_t today = (int32_t)(now_ms / CW_MS_PER_DAY);
    const uint32_t horizon = cfg->longest_window_days;
    const size_t n_metrics = cfg->n_metrics;

    struct account *acct = calloc((size_t)accounts, sizeof *acct);
    if (!acct)
        return 1;
    /* Activity spread from dead to busy, so every rule and measure sees both sides. */
    for (long a = 0; a < accounts; a++) {
        struct account *x = &acct[a];
        snprintf(x->id, sizeof x->id, "acct-%06ld", a);
        x->daily = calloc(n_metrics * horizon, sizeof *x->daily);
        x->type_last_ms = calloc(cfg->n_event_types ? cfg->n_event_types : 1, sizeof(int64_t));
        if (!x->daily || !x->type_last_ms)
            return 1;
        uint32_t level = (uint32_t)(rng() % 40);
        for (size_t k = 0; k < n_metrics * horizon; k++)
            x->daily[k] = level ? (uint32_t)(rng() % level) : 0;
        for (int u = 0; u < USERS_PER_ACCOUNT; u++)
            x->users[u] = today - (int32_t)(rng() % 40);
        for (size_t t = 0; t < cfg->n_event_types; t++)
            x->type_last_ms[t] = now_ms - (int64_t)(rng() % (40 * (uint64_t)CW_MS_PER_DAY));
        x->traits.has_seats = true;
        x->traits.seats = 5 + (int64_t)(rng() % 100);
        x->traits.has_created_at = true;
        x->traits.created_at_ms = now_ms - (int64_t)(rng() % (400 * (uint64_t)CW_MS_PER_DAY));
        for (int d = 0; d < HISTORY_DAYS; d++)
            x->history[d] = (struct cw_score_point){.day = today - HISTORY_DAYS + d,
                                                    .score = (double)(rng() % 1000) / 10.0};
    }

    /* Twice over the same accounts from the same states: with every rule's reason text (the
     * CLI's `account`, the console) and with only the alerts' (the daemon's score pass,
     * cw_eval_input.alert_reasons_only). Both must decide the same. */
    static const char *const mode_name[2] = {"every reason", "alert reasons only (daemon)"};
    unsigned long fired[2] = {0, 0};
    static struct cw_account_eval out;
    for (int mode = -1; mode < 2; mode++) { /* -1: a pass untimed, to warm the caches */
        for (long a = 0; a < accounts; a++)
            memset(acct[a].rules, 0, sizeof acct[a].rules);
        double checksum = 0;
        double t0 = now_s();
        for (long p = 0; p < (mode < 0 ? 1 : passes); p++) {
            int64_t t = now_ms + p * 60000; /* one pass a minute, as a sweep would */
            for (long a = 0; a < accounts; a++) {
                struct account *x = &acct[a];
                struct cw_eval_input in = {
                    .view = {.account_id = x->id,
                             .now_ms = t,
                             .today = today,
                             .first_day = today - 400,
                             .horizon = horizon,
                             .n_metrics = n_metrics,
                             .daily = x->daily,
                             .user_last_day = x->users,
                             .n_users = USERS_PER_ACCOUNT,
                             .traits = &x->traits,
                             .last_seen_ms = x->type_last_ms[0],
                             .type_last_ms = x->type_last_ms},
                    .history = x->history,
                    .n_history = HISTORY_DAYS,
                    .rules = x->rules,
                    .n_rules = cfg->n_rules,
                    .alert_reasons_only = mode == 1,
                };
                cw_evaluate(cfg, &in, &out);
                checksum += out.score.has_score ? out.score.score : 0;
                for (size_t r = 0; r < cfg->n_rules; r++) {
                    x->rules[r] = out.next[r];
                    fired[mode < 0 ? 0 : mode] += mode >= 0 && out.trans[r].emit == CW_EMIT_FIRING;
                }
            }
        }
        double dt = now_s() - t0;
        if (mode < 0)
            continue;
        double rate = (double)accounts * (double)passes / dt;
        printf("score  %ld accounts x %ld passes, %zu rules, %-28s %10.0f accounts scored/s  "
               "(%.3f s, %.2f us/account, %lu firings, checksum %.0f)\n",
               accounts, passes, cfg->n_rules, mode_name[mode], rate, dt, 1e6 / rate, fired[mode],
               checksum);
    }
    int rc = 0;
    if (fired[0] != fired[1]) {
        fprintf(stderr, "bench_score: %lu firings with every reason, %lu with the alerts' only\n",
                fired[0], fired[1]);
        rc = 1;
    }

    for (long a = 0; a < accounts; a++) {
        free(acct[a].daily);
        free(acct[a].type_last_ms);
    }
    free(acct);
    cw_config_free(cfg);
    return rc;
}
