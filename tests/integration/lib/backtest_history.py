#!/usr/bin/env python3
"""backtest_history.py - the fixture of the backtest report's tests (backtest_report.sh,
backtest_browser.sh): a small history whose rule firings and churn outcomes can be worked
out by hand, with a candidate and a baseline config that differ in one threshold.

Usage: backtest_history.py DIR [HOSTILE-ID]. Writes into DIR:
  events.jsonl    logins (one a day per active day, at 10:00 + the account's minute) and one
                  `churned` event per churned account, in time order;
  outcomes.csv    the same churns as CSV (account,churned_at), plus one account the history
                  never names;
  candidate.yaml  rules `silent` (no login for 10 days) and `health_low` (score below 40);
  baseline.yaml   the same with `silent` after 20 days.

With HOSTILE-ID, one more account of that id (markup, bidi controls: the HTML report must
show it inert) with b-gap's days: `silent` newly alerting for it, and retained.

Day 0 is 2026-09-01 (UTC); the score is 100 x logins over the last 7 days / 7. What the
tests derive from it is in backtest_report.sh.
"""
import datetime
import json
import os
import sys

T0 = datetime.datetime(2026, 9, 1, tzinfo=datetime.timezone.utc)

# account: (days it logs in, day it churns or None); the account's minute is its rank
ACCOUNTS = {
    "a-steady": (range(0, 60), None),                           # active throughout
    "b-gap": (list(range(0, 20)) + list(range(35, 60)), None),  # 15 days away, back
    "c-quiet": (range(0, 25), 50),                              # silent from day 25, churns
    "d-late": (range(0, 45), 48),                               # churns 3 days after its last login
    "e-active": (range(0, 60), 40),                             # churns while active
}

CONFIG = """\
event_types:
  login: {metric: logins}
  churned: {metric: churns}
score:
  components:
    usage:
      measures:
        - {name: logins, metric: logins, window: short, target: 7}
alerts:
  rules:
    - {name: silent, kind: inactive, after: AFTER, types: [login]}
    - {name: health_low, kind: score_below, enter: 40, exit: 50}
"""


def at(day, minute):
    t = T0 + datetime.timedelta(days=day, hours=10, minutes=minute)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def main(out, hostile=None):
    accounts = dict(ACCOUNTS)
    if hostile is not None:
        accounts[hostile] = ACCOUNTS["b-gap"]
    events = []
    churns = []
    for minute, (acct, (days, churn)) in enumerate(accounts.items()):
        for d in days:
            events.append((d, minute, {"account_id": acct, "user_id": "u1", "type": "login",
                                       "ts": at(d, minute)}))
        if churn is not None:
            events.append((churn, minute, {"account_id": acct, "user_id": "u1",
                                           "type": "churned", "ts": at(churn, minute)}))
            churns.append((acct, at(churn, minute)))
    events.sort(key=lambda e: (e[0], e[1]))
    with open(os.path.join(out, "events.jsonl"), "w") as f:
        for _, _, e in events:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(out, "outcomes.csv"), "w") as f:
        f.write("account,churned_at\n")
        for acct, ts in churns:
            f.write(f"{acct},{ts}\n")
        f.write("z-never-seen,2026-10-01\n")
    for name, after in (("candidate", "10d"), ("baseline", "20d")):
        with open(os.path.join(out, name + ".yaml"), "w") as f:
            f.write(CONFIG.replace("AFTER", after))


if __name__ == "__main__":
    main(*sys.argv[1:3])
