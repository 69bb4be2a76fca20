/* bench_score.c - accounts scored/s (score plus every rule) from in-memory aggregates */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnwatch/config.h"
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

    unsigned long fired = 0;
    double checksum = 0;
    double t0 = now_s();
    for (long p = 0; p < passes; p++) {
        int64_t t = now_ms + p * 60000; /* one pass a minute, as a sweep would */
        for (long a = 0; a < accounts; a++) {
            struct account *x = &acct[a];
            struct cw_account_view view = {.account_id = x->id,
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
                                           .type_last_ms = x->type_last_ms};
            struct cw_score_result score;
            cw_score_compute(cfg, &view, &score);
            checksum += score.has_score ? score.score : 0;
            struct cw_rule_facts facts = {.account = &view,
                                          .score = &score,
                                          .history = x->history,
                                          .n_history = HISTORY_DAYS};
            for (size_t r = 0; r < cfg->n_rules; r++) {
                const struct cw_rule_params *rp = cw_config_rule_params(cfg, r, NULL);
                struct cw_rule_eval ev;
                cw_rule_evaluate(cfg, r, rp, &facts, x->rules[r].status == CW_RULE_FIRING, &ev);
                struct cw_rule_state next;
                struct cw_transition tr;
                cw_rule_step(rp, &x->rules[r], &ev, t, x->id, cfg->rules[r].name, false, &next,
                             &tr);
                x->rules[r] = next;
                fired += tr.emit == CW_EMIT_FIRING;
            }
        }
    }
    double dt = now_s() - t0;
    double rate = (double)accounts * (double)passes / dt;
    printf("score  %ld accounts x %ld passes, %zu rules: %10.0f accounts scored/s  "
           "(%.3f s, %.2f us/account, %lu firings, checksum %.0f)\n",
           accounts, passes, cfg->n_rules, rate, dt, 1e6 / rate, fired, checksum);

    for (long a = 0; a < accounts; a++) {
        free(acct[a].daily);
        free(acct[a].type_last_ms);
    }
    free(acct);
    cw_config_free(cfg);
    return 0;
}
