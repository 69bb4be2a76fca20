/* metrics.c - the daemon's counters as Prometheus text, and its health and readiness */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/reject.h"
#include "process_metrics.h"

#define LAG_RETRIES 100

static const char *const alert_status[3] = {"firing", "resolved", "reminder"};

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* Copy n names picked by get; NULL when out of memory. */
static char **names_copy(const void *base, size_t n, size_t stride, size_t offset)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = *(char *const *)((const char *)base + i * stride + offset);
        if (!(out[i] = strdup(name ? name : ""))) {
            names_free(out, i);
            return NULL;
        }
    }
    return out;
}

int cw_metrics_set_names(struct cw_metrics *m, const struct cw_config *cfg)
{
    size_t nt = cfg->n_event_types < CW_MAX_EVENT_TYPES ? cfg->n_event_types : CW_MAX_EVENT_TYPES;
    size_t nr = cfg->n_rules < CW_MAX_RULES ? cfg->n_rules : CW_MAX_RULES;
    char **types = names_copy(cfg->event_types, nt, sizeof *cfg->event_types,
                              offsetof(struct cw_event_type, name));
    char **rules = names_copy(cfg->rules, nr, sizeof *cfg->rules, offsetof(struct cw_rule, name));
    if (!types || !rules) {
        names_free(types, nt);
        names_free(rules, nr);
        return -1;
    }
    pthread_mutex_lock(&m->mu);
    char **old_types = m->types, **old_rules = m->rules;
    size_t old_nt = m->n_types, old_nr = m->n_rules;
    m->types = types;
    m->n_types = nt;
    m->rules = rules;
    m->n_rules = nr;
    pthread_mutex_unlock(&m->mu);
    names_free(old_types, old_nt);
    names_free(old_rules, old_nr);
    return 0;
}

int cw_metrics_init(struct cw_metrics *m, struct cw_stats *stats, const struct cw_config *cfg)
{
    memset(m, 0, sizeof *m);
    m->stats = stats;
    pthread_mutex_init(&m->mu, NULL);
    const struct cw_strlist *t = &cfg->kafka.topics;
    m->topics = names_copy(t->items, t->n, sizeof *t->items, 0);
    if (!m->topics)
        return -1;
    m->n_topics = t->n;
    return cw_metrics_set_names(m, cfg);
}

void cw_metrics_free(struct cw_metrics *m)
{
    if (!m->stats)
        return;
    names_free(m->types, m->n_types);
    names_free(m->rules, m->n_rules);
    names_free(m->topics, m->n_topics);
    pthread_mutex_destroy(&m->mu);
    memset(m, 0, sizeof *m);
}

void cw_metrics_publish_lag(struct cw_metrics *m, const struct cw_partition_lag *lags, size_t n)
{
    struct cw_lag_table *t = &m->stats->lag;
    uint64_t seq = atomic_load_explicit(&t->seq, memory_order_relaxed);
    atomic_store_explicit(&t->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    uint32_t k = 0;
    for (size_t i = 0; i < n && k < CW_LAG_MAX; i++) {
        uint32_t topic = 0;
        while (topic < m->n_topics && strcmp(m->topics[topic], lags[i].topic) != 0)
            topic++;
        if (topic == m->n_topics)
            continue; /* not a configured topic (cannot happen: subscribed by name) */
        struct cw_lag_slot *s = &t->slot[k++];
        atomic_store_explicit(&s->topic, topic, memory_order_relaxed);
        atomic_store_explicit(&s->partition, lags[i].partition, memory_order_relaxed);
        atomic_store_explicit(&s->lag, lags[i].lag, memory_order_relaxed);
    }
    atomic_store_explicit(&t->n, k, memory_order_relaxed);
    atomic_store_explicit(&t->seq, seq + 2, memory_order_release);
}

void cw_metrics_count_reset(struct cw_metrics *m, const char *topic, int32_t partition,
                            uint64_t skipped)
{
    struct cw_reset_table *t = &m->stats->resets;
    uint32_t ti = 0;
    while (ti < m->n_topics && strcmp(m->topics[ti], topic) != 0)
        ti++;
    if (ti == m->n_topics)
        return;
    uint32_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
    uint32_t k = 0;
    while (k < n &&
           !(atomic_load_explicit(&t->slot[k].topic, memory_order_relaxed) == ti &&
             atomic_load_explicit(&t->slot[k].partition, memory_order_relaxed) == partition))
        k++;
    if (k == CW_RESET_MAX)
        return;
    struct cw_reset_slot *s = &t->slot[k];
    if (k == n) {
        atomic_store_explicit(&s->topic, ti, memory_order_relaxed);
        atomic_store_explicit(&s->partition, partition, memory_order_relaxed);
        atomic_store_explicit(&t->n, n + 1, memory_order_release);
    }
    cw_stat_add(&s->resets, 1);
    cw_stat_add(&s->skipped, skipped);
}

struct lag_entry {
    uint32_t topic;
    int32_t partition;
    int64_t lag;
};

/* A consistent copy of the lag table; 0 entries if the writer kept it busy throughout. */
static uint32_t lag_snapshot(struct cw_lag_table *t, struct lag_entry *out)
{
    for (int tries = 0; tries < LAG_RETRIES; tries++) {
        uint64_t s1 = atomic_load_explicit(&t->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        uint32_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
        if (n > CW_LAG_MAX)
            n = CW_LAG_MAX;
        for (uint32_t i = 0; i < n; i++) {
            struct cw_lag_slot *s = &t->slot[i];
            out[i].topic = atomic_load_explicit(&s->topic, memory_order_relaxed);
            out[i].partition = atomic_load_explicit(&s->partition, memory_order_relaxed);
            out[i].lag = atomic_load_explicit(&s->lag, memory_order_relaxed);
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&t->seq, memory_order_relaxed) == s1)
            return n;
    }
    return 0;
}

/* A label value with \, " and newline escaped. */
static void put_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f), fputc(*v, f);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP churnwatch_%s %s\n# TYPE churnwatch_%s %s\n", name, help, name, type);
}

static void counter(FILE *f, const char *name, const char *help, _Atomic uint64_t *c)
{
    family(f, name, "counter", help);
    fprintf(f, "churnwatch_%s %llu\n", name, (unsigned long long)cw_stat_get(c));
}

/* A gauge the main loop publishes as a whole number (struct cw_stats). */
static void gauge_u64(FILE *f, const char *name, const char *help, _Atomic uint64_t *g)
{
    family(f, name, "gauge", help);
    fprintf(f, "churnwatch_%s %llu\n", name, (unsigned long long)cw_stat_get(g));
}

static void histogram(FILE *f, const char *name, const char *help, struct cw_hist *h)
{
    family(f, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t b = 0; b <= CW_HIST_BUCKETS; b++) {
        cum += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
        if (b < CW_HIST_BUCKETS)
            fprintf(f, "churnwatch_%s_bucket{le=\"%g\"} %llu\n", name,
                    (double)cw_hist_bounds_us[b] / 1e6, (unsigned long long)cum);
        else
            fprintf(f, "churnwatch_%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    fprintf(f, "churnwatch_%s_sum %.6f\n", name,
            (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
    fprintf(f, "churnwatch_%s_count %llu\n", name, (unsigned long long)cum);
}

/* One series per partition that had an offset reset: its resets, then its skipped messages. */
static void render_resets(FILE *f, struct cw_metrics *m)
{
    struct cw_reset_table *t = &m->stats->resets;
    uint32_t n = atomic_load_explicit(&t->n, memory_order_acquire);
    if (n > CW_RESET_MAX)
        n = CW_RESET_MAX;
    for (int skipped = 0; skipped < 2; skipped++) {
        const char *name = skipped ? "messages_skipped_total" : "offset_resets_total";
        family(f, name, "counter",
               skipped ? "Messages never consumed because an offset reset skipped them (the log "
                         "no longer held them), per partition."
                       : "Consumer positions found out of range (past retention, or beyond a "
                         "truncated log) and reset, per partition.");
        for (uint32_t i = 0; i < n; i++) {
            struct cw_reset_slot *s = &t->slot[i];
            uint32_t ti = atomic_load_explicit(&s->topic, memory_order_relaxed);
            if (ti >= m->n_topics)
                continue;
            fprintf(f, "churnwatch_%s{topic=\"", name);
            put_label(f, m->topics[ti]);
            fprintf(f, "\",partition=\"%d\"} %llu\n",
                    (int)atomic_load_explicit(&s->partition, memory_order_relaxed),
                    (unsigned long long)cw_stat_get(skipped ? &s->skipped : &s->resets));
        }
    }
}

static void render_labelled(FILE *f, struct cw_metrics *m)
{
    struct cw_stats *s = m->stats;
    family(f, "events_consumed_total", "counter",
           "Events fully processed (applied to Redis), by event type; _unknown: of a type "
           "not configured, skipped.");
    for (size_t i = 0; i < m->n_types; i++) {
        fputs("churnwatch_events_consumed_total{type=\"", f);
        put_label(f, m->types[i]);
        fprintf(f, "\"} %llu\n", (unsigned long long)cw_stat_get(&s->consumed_by_type[i]));
    }
    fprintf(f, "churnwatch_events_consumed_total{type=\"_unknown\"} %llu\n",
            (unsigned long long)cw_stat_get(&s->consumed_unknown));

    family(f, "events_rejected_total", "counter",
           "Events rejected to the dead-letter topic, by error code.");
    for (int c = 1; c < CW_REJ__COUNT; c++)
        fprintf(f, "churnwatch_events_rejected_total{code=\"%s\"} %llu\n",
                cw_reject_name((enum cw_reject)c),
                (unsigned long long)cw_stat_get(&s->rejected[c]));

    family(f, "alerts_total", "counter", "Alerts published, by rule and status.");
    for (size_t r = 0; r < m->n_rules; r++)
        for (size_t k = 0; k < 3; k++) {
            fputs("churnwatch_alerts_total{rule=\"", f);
            put_label(f, m->rules[r]);
            fprintf(f, "\",status=\"%s\"} %llu\n", alert_status[k],
                    (unsigned long long)cw_stat_get(&s->alerts[r][k]));
        }

    static struct lag_entry lags[CW_LAG_MAX]; /* only the HTTP thread renders */
    uint32_t n = lag_snapshot(&s->lag, lags);
    family(f, "consumer_lag", "gauge",
           "Messages between the consumer's position and the high watermark, per assigned "
           "partition.");
    for (uint32_t i = 0; i < n; i++) {
        if (lags[i].topic >= m->n_topics || lags[i].lag < 0)
            continue;
        fputs("churnwatch_consumer_lag{topic=\"", f);
        put_label(f, m->topics[lags[i].topic]);
        fprintf(f, "\",partition=\"%d\"} %lld\n", (int)lags[i].partition, (long long)lags[i].lag);
    }
    render_resets(f, m);
}

char *cw_metrics_render(struct cw_metrics *m, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    struct cw_stats *s = m->stats;

    pthread_mutex_lock(&m->mu);
    render_labelled(f, m);
    pthread_mutex_unlock(&m->mu);

    counter(f, "batches_total", "Consumed batches completed.", &s->batches);
    counter(f, "batch_messages_total", "Messages in completed batches.", &s->messages);
    histogram(f, "batch_duration_seconds",
              "Time to process one gathered batch: DLQ, apply to Redis, rescore, publish.",
              &s->batch_seconds);
    histogram(f, "redis_command_duration_seconds",
              "Time of one Redis round trip (a command or a pipeline of commands).",
              &s->redis_seconds);
    counter(f, "accounts_scored_total", "Account scorings (after a batch or by the sweep).",
            &s->accounts_scored);
    counter(f, "parents_rescored_total",
            "Parents re-scored for their parent rules after a child was scored.",
            &s->parents_rescored);
    counter(f, "sweeps_total", "Sweeps over every account completed.", &s->sweeps_completed);
    counter(f, "sweep_skipped_total",
            "Accounts a sweep cycle left out: a batch had scored them since the cycle started.",
            &s->sweep_skipped);
    histogram(f, "sweep_duration_seconds", "Time of one complete sweep over every account.",
              &s->sweep_seconds);
    counter(f, "alerts_silenced_total", "Alerts held back by a silence.", &s->alerts_silenced);
    counter(f, "scores_published_total", "Score feed messages published.", &s->scores_published);
    counter(f, "replays_skipped_total", "Redelivered events already applied, skipped.",
            &s->replays_skipped);
    counter(f, "redis_errors_total", "Failed Redis operations (each retried).", &s->redis_errors);
    counter(f, "kafka_errors_total", "Failed DLQ, alert or score feed publications (each retried).",
            &s->kafka_errors);
    counter(f, "fetch_restarts_total",
            "Partitions restarted because their log grew but nothing was fetched.",
            &s->fetch_restarts);

    counter(f, "state_cache_hits_total",
            "Accounts of a batch found in the daemon's memory (redis.cache_mb).", &s->cache_hits);
    counter(f, "state_cache_misses_total", "Accounts of a batch loaded from Redis into memory.",
            &s->cache_misses);
    counter(f, "state_cache_evictions_total",
            "Accounts dropped from memory to stay within redis.cache_mb.", &s->cache_evictions);
    counter(f, "state_cache_conflicts_total",
            "Accounts found written by another writer since loaded: applied through Redis.",
            &s->cache_conflicts);
    counter(f, "state_txn_aborts_total",
            "Write-back transactions whose EXEC found a watched account moved: redone per account.",
            &s->txn_aborts);
    gauge_u64(f, "state_cache_bytes", "Memory the accounts held take (estimated).",
              &s->cache_bytes);
    gauge_u64(f, "state_cache_accounts", "Accounts held in memory.", &s->cache_accounts);
    gauge_u64(f, "state_cache_budget_bytes", "redis.cache_mb in bytes (0: none held).",
              &s->cache_budget);

    family(f, "config_reloads_total", "counter", "Configuration reloads (SIGHUP), by result.");
    fprintf(f, "churnwatch_config_reloads_total{result=\"ok\"} %llu\n",
            (unsigned long long)cw_stat_get(&s->reloads_ok));
    fprintf(f, "churnwatch_config_reloads_total{result=\"error\"} %llu\n",
            (unsigned long long)cw_stat_get(&s->reloads_error));

    family(f, "config_keys_pending_restart", "gauge",
           "Keys read only at start (kafka, redis, http.listen) whose value in the file, as of "
           "the last reload, differs from the running one; 0 after a restart.");
    fprintf(f, "churnwatch_config_keys_pending_restart %d\n",
            cw_gauge_get(&s->config_keys_pending_restart));

    char why[128];
    family(f, "ready", "gauge", "1 when /readyz answers 200 (Kafka assignment, Redis reachable).");
    fprintf(f, "churnwatch_ready %d\n", cw_metrics_ready(m, why, sizeof why) ? 1 : 0);
    family(f, "build_info", "gauge", "Always 1; the version in a label.");
    fprintf(f, "churnwatch_build_info{version=\"%s\"} 1\n", CW_VERSION);

    cw_process_metrics_render(f);

    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool cw_metrics_healthy(struct cw_metrics *m, char *reason, size_t size)
{
    int64_t tick = atomic_load_explicit(&m->stats->loop_tick_ms, memory_order_relaxed);
    int64_t now = (int64_t)(cw_mono_us() / 1000);
    if (tick == 0) {
        snprintf(reason, size, "main loop not started");
        return false;
    }
    if (now - tick > CW_HEALTH_STALE_MS) {
        snprintf(reason, size, "main loop stalled for %lld ms", (long long)(now - tick));
        return false;
    }
    snprintf(reason, size, "ok");
    return true;
}

bool cw_metrics_ready(struct cw_metrics *m, char *reason, size_t size)
{
    bool redis = cw_gauge_get(&m->stats->redis_ok) != 0;
    bool kafka = cw_gauge_get(&m->stats->kafka_assigned) != 0;
    if (!redis && !kafka)
        snprintf(reason, size, "redis unreachable; no kafka partitions assigned");
    else if (!redis)
        snprintf(reason, size, "redis unreachable");
    else if (!kafka)
        snprintf(reason, size, "no kafka partitions assigned");
    else
        snprintf(reason, size, "ok");
    return redis && kafka;
}
