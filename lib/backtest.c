/* backtest.c - freeing a backtest's runs and outcomes (churnwatch/backtest.h) */
#include "churnwatch/backtest.h"

#include <stdlib.h>
#include <string.h>

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cw_bt_run_free(struct cw_bt_run *run)
{
    if (!run)
        return;
    free(run->config_path);
    free_strings(run->rules, run->nrules);
    free_strings(run->accounts, run->naccounts);
    free(run->episodes);
    free(run->scores);
    memset(run, 0, sizeof *run);
}

void cw_bt_outcomes_free(struct cw_bt_outcomes *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].account);
    free(o->v);
    memset(o, 0, sizeof *o);
}
