/* account_eval.h - an account loaded from the store handed to lib's evaluation
 * (churnwatch/evaluate.h): the daemon's score pass and the CLI's top and account */
#ifndef CHURNWATCH_ACCOUNT_EVAL_H
#define CHURNWATCH_ACCOUNT_EVAL_H

#include <stdint.h>

#include "churnwatch/config.h"
#include "churnwatch/evaluate.h"
#include "store.h"

/*
 * cw_evaluate of d under cfg at now_ms (d loaded with today == the local day of now_ms):
 * its view, stored history, last score, rule states and the silences active at now_ms.
 * out points into d: keep d unchanged while out is used.
 */
void cw_account_evaluate(const struct cw_config *cfg, const struct cw_account_data *d,
                         int64_t now_ms, struct cw_account_eval *out);

#endif /* CHURNWATCH_ACCOUNT_EVAL_H */
