/* score.h - measures -> components -> 0..100 health score and grade, with explanation */
#ifndef CHURNWATCH_SCORE_H
#define CHURNWATCH_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "churnwatch/account.h"
#include "churnwatch/config.h"

/* Why a measure could not be computed. */
enum cw_na_reason {
    CW_NA_NONE = 0,
    CW_NA_NO_SEATS,       /* per_seat measure and no seats trait (or seats == 0) */
    CW_NA_NOT_OBSERVED,   /* window observed for fewer than min_observed_days */
    CW_NA_NOT_IN_PROFILE, /* the account's profile gives the measure weight 0 */
    CW_NA_NO_VALUES,      /* an aggregate of values (sum, avg, ...) and none in the window */
};

/* How an n/a measure is shown to people and in JSON: "n/a (seats unknown)",
 * "n/a (window not yet observed)" (CW_NA_NONE: "n/a"). */
const char *cw_score_na_text(enum cw_na_reason na);

struct cw_measure_result {
    bool has; /* false: n/a, left out and weights renormalised */
    enum cw_na_reason na;
    double raw; /* window value (scaled to the observed span, per seat) */
    double target;
    double normalized;      /* raw / target within 0..1 (a negative raw: 0) */
    double contribution;    /* points of the 0..100 score this measure supplies */
    uint32_t observed_days; /* days of the window actually observed */
};

struct cw_component_result {
    bool has;     /* false when all its measures are n/a, or its profile weight is 0 */
    double value; /* 0..1, weighted mean of its available measures */
    double share; /* effective (renormalised) weight in the score, 0..1 */
};

/* A score with its explanation. Arrays follow the config's order; measures are
 * numbered across components in order (component 0's measures first). */
struct cw_score_result {
    bool has_score;      /* false when no component can be computed */
    double score;        /* 0..100 */
    const char *grade;   /* points into the config's grade bands; "" without a score */
    const char *profile; /* the scorecard used: a profile's name or "default" (config's) */
    const char *stage;   /* the account's lifecycle stage, "" when none holds (config's) */
    size_t n_components;
    struct cw_component_result components[CW_MAX_COMPONENTS];
    size_t n_measures;
    struct cw_measure_result measures[CW_MAX_MEASURES];
};

/* Score one account under cfg, with the profile its segment and stage select (weights and
 * targets; out->profile, out->stage name them). Pure: reads only its arguments. */
void cw_score_compute(const struct cw_config *cfg, const struct cw_account_view *acct,
                      struct cw_score_result *out);

/* The lifecycle stage of the account at acct->now_ms: the index of the first of
 * cfg->score.stages that holds, or -1 (lib/score_profile.c). */
int cw_score_stage(const struct cw_config *cfg, const struct cw_account_view *acct);

/* The profile scoring the account (its segment trait and stage): the index of the first of
 * cfg->score.profiles that matches, or -1 for the base scorecard. */
int cw_score_profile(const struct cw_config *cfg, const struct cw_account_view *acct, int stage);

/* The grade band of a score under cfg. */
const char *cw_score_grade(const struct cw_config *cfg, double score);

/* The global index (into cw_score_result.measures) of measure m of component c. */
size_t cw_score_measure_index(const struct cw_config *cfg, size_t c, size_t m);

/* One line of "what moved it". */
struct cw_score_move {
    size_t measure; /* global measure index */
    size_t component;
    double before; /* contribution in points before (0 when n/a before) */
    double after;  /* contribution in points now (0 when n/a now) */
    double delta;  /* after - before */
};

/*
 * The measures whose contribution changed most between prev and cur (both computed under
 * cfg), largest |delta| first, ties by measure index; measures with |delta| < 0.05
 * points are left out. Writes at most max entries and returns how many. prev may be NULL
 * (no earlier score): every contribution then counts from 0.
 */
size_t cw_score_moves(const struct cw_config *cfg, const struct cw_score_result *prev,
                      const struct cw_score_result *cur, struct cw_score_move *out, size_t max);

#endif /* CHURNWATCH_SCORE_H */
