/* config_free.c - releasing a configuration, whole or partly built */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

void cw_secret_free(char *secret)
{
    if (!secret)
        return;
    volatile char *p = secret; /* not optimised away before the free */
    for (size_t i = 0, n = strlen(secret); i < n; i++)
        p[i] = 0;
    free(secret);
}

void cw_strlist_free(struct cw_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void cw_rule_params_free(struct cw_rule_params *p)
{
    free(p->touch);
    p->touch = NULL;
}

void cw_config_free(struct cw_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);

    free(cfg->kafka.brokers);
    free(cfg->kafka.group_id);
    cw_strlist_free(&cfg->kafka.topics);
    free(cfg->kafka.alerts_topic);
    free(cfg->kafka.dlq_topic);
    for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
        free(cfg->kafka.properties[i].key);
        cw_secret_free(cfg->kafka.properties[i].value); /* any value may be a credential */
    }
    free(cfg->kafka.properties);

    free(cfg->redis.url);
    free(cfg->redis.password_file);
    cw_secret_free(cfg->redis.password);
    free(cfg->redis.key_prefix);
    free(cfg->redis.tls.ca_file);
    free(cfg->redis.tls.ca_dir);
    free(cfg->redis.tls.cert_file);
    free(cfg->redis.tls.key_file);
    free(cfg->redis.tls.server_name);
    free(cfg->timezone);

    for (size_t i = 0; i < cfg->n_windows; i++)
        free(cfg->windows[i].name);
    free(cfg->windows);

    cw_strlist_free(&cfg->input.account_id);
    cw_strlist_free(&cfg->input.user_id);
    cw_strlist_free(&cfg->input.type);
    cw_strlist_free(&cfg->input.ts);
    cw_strlist_free(&cfg->input.event_id);
    cw_strlist_free(&cfg->input.traits);

    for (size_t i = 0; i < cfg->n_metrics; i++)
        free(cfg->metrics[i].name);
    free(cfg->metrics);

    for (size_t i = 0; i < cfg->n_event_types; i++) {
        free(cfg->event_types[i].name);
        cw_strlist_free(&cfg->event_types[i].aliases);
        cw_strlist_free(&cfg->event_types[i].value);
    }
    free(cfg->event_types);

    for (size_t i = 0; i < cfg->users.n_ranks; i++)
        free(cfg->users.ranks[i].name);

    for (size_t c = 0; c < cfg->score.n_components; c++) {
        struct cw_component *comp = &cfg->score.components[c];
        free(comp->name);
        for (size_t m = 0; m < comp->n_measures; m++)
            free(comp->measures[m].name);
        free(comp->measures);
    }
    free(cfg->score.components);
    free(cfg->score.grades);
    for (size_t i = 0; i < cfg->score.n_stages; i++)
        free(cfg->score.stages[i].name);
    free(cfg->score.stages);
    for (size_t i = 0; i < cfg->score.n_profiles; i++) {
        free(cfg->score.profiles[i].name);
        cw_strlist_free(&cfg->score.profiles[i].segments);
        free(cfg->score.profiles[i].stages);
    }
    free(cfg->score.profiles);

    for (size_t s = 0; s < cfg->n_segments; s++) {
        struct cw_segment *seg = &cfg->segments[s];
        free(seg->name);
        free(seg->touch);
        if (seg->rule_params)
            for (size_t r = 0; r < cfg->n_rules; r++)
                cw_rule_params_free(&seg->rule_params[r]);
        free(seg->rule_params);
    }
    free(cfg->segments);

    for (size_t r = 0; r < cfg->n_rules; r++) {
        free(cfg->rules[r].name);
        cw_rule_params_free(&cfg->rules[r].params);
        free(cfg->rules[r].types);
        for (size_t k = 0; k < cfg->rules[r].n_when; k++)
            cw_strlist_free(&cfg->rules[r].when[k].names);
        free(cfg->rules[r].when);
    }
    free(cfg->rules);

    free(cfg->scores.topic);
    free(cfg->http_listen);
    free(cfg);
}
