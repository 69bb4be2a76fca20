/* backtest_replay.h - a replay of input messages through the daemon's decode, apply, score
 * and rules code, in event time, against accounts held in memory (docs/backtest.md) */
#ifndef CHURNWATCH_BACKTEST_REPLAY_H
#define CHURNWATCH_BACKTEST_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "churnwatch/backtest.h"
#include "churnwatch/config.h"

/*
 * The replay gathers messages into batches as churnwatchd does while it catches up on a
 * backlog: polls of min(256, batch_max - pending) messages, each decoded and its event
 * times observed before its events are judged for lateness; a batch is processed when it
 * holds batch_max messages or when the event-time clock (the newest event time observed)
 * has crossed a local day since the batch began. Processing a batch applies each account's
 * events (cw_account_mem_apply) and scores the accounts it touched at the clock; then, when
 * the clock has crossed a local day (and after the first batch), every account is rescored
 * at the clock, as the daemon's sweep does in event time (docs/design.md). Score history
 * and rule states are kept as the store keeps them (scores rounded to 10 digits, rule
 * states through their stored encoding). Never touches Redis or Kafka.
 */
struct cw_bt_replay_opts {
    size_t batch_max;  /* churnwatchd's --batch; 0: its default, 200000 */
    int64_t report_ms; /* episodes fired and daily scores before it are not reported
                          (their state still is replayed); <= 0: all */
    int churn_type;    /* index of the event type whose first event per account is its
                          churn (--churn-event), -1 none */
};

struct cw_bt_replay;

/* A replay of cfg (which must outlive it). NULL with err on failure. */
struct cw_bt_replay *cw_bt_replay_new(const struct cw_config *cfg,
                                      const struct cw_bt_replay_opts *opts, char *err,
                                      size_t errsize);

/* cw_bt_replay_free(NULL) is a no-op. */
void cw_bt_replay_free(struct cw_bt_replay *r);

/*
 * One input message, in consumption order: its value (len bytes) and its Kafka timestamp
 * (-1: none, as for a line of a file). source/partition/offset name it as a consumer
 * would (offsets increasing within a partition). 0, or -1 when out of memory.
 */
int cw_bt_replay_message(struct cw_bt_replay *r, const void *value, size_t len, int64_t msg_ts_ms,
                         const char *source, int32_t partition, int64_t offset);

/* Messages given so far (for progress), and the event-time clock (-1 unknown). */
uint64_t cw_bt_replay_messages(const struct cw_bt_replay *r);
int64_t cw_bt_replay_clock(const struct cw_bt_replay *r);

/*
 * The end of the input: the last batch is processed and out is filled (config_path copied;
 * see churnwatch/backtest.h); churned, when not NULL, gets each account whose events
 * include one of opts->churn_type, churned at the first (the earliest) of them. The replay
 * is then spent. 0, or -1 when out of memory.
 */
int cw_bt_replay_finish(struct cw_bt_replay *r, const char *config_path, struct cw_bt_run *out,
                        struct cw_bt_outcomes *churned);

#endif /* CHURNWATCH_BACKTEST_REPLAY_H */
