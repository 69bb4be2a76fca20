# episodes.py - the alert episodes of one run, from its alerts topic and its open alerts.
#   python3 episodes.py ALERTS.tsv EVAL.jsonl
# ALERTS.tsv: account, rule, status, alert_id per published message, in topic order.
# EVAL.jsonl: one `churnwatch account --json` summary per account (with .alerts).
# Consumers de-duplicate by alert_id (docs/alerts.md): the distinct (alert_id, status) of each
# (account, rule), in topic order, must alternate firing, resolved with that firing's id,
# firing, ...; the episode left open must be the open alert the account shows (same
# alert_id). Prints one line per (account, rule): its sequence of statuses, e.g.
# "acme-0001 health_low firing resolved firing". alert_ids are not printed: they hash the
# instant an episode fired, which during a backfill is the event-time clock of the batch or
# sweep that saw it, and that depends on fetch interleaving even between two uninterrupted
# runs. Exit 1 (and the inconsistencies on stderr) when the run is not consistent.
import json, sys

seen, seq, open_, bad = set(), {}, {}, []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    acct, rule, status, aid = line.rstrip("\n").split("\t")
    if (aid, status) in seen:
        continue  # a redelivery (at-least-once)
    seen.add((aid, status))
    k = (acct, rule)
    if status == "firing":
        if open_.get(k):
            bad.append("%s/%s: episode %s fired while %s is open" % (acct, rule, aid, open_[k]))
        open_[k] = aid
    elif status == "resolved":
        if open_.get(k) != aid:
            bad.append("%s/%s: resolved %s but the open episode is %r" % (acct, rule, aid, open_.get(k)))
        open_[k] = None
    else:
        continue  # reminders repeat an open episode's id
    seq.setdefault(k, []).append(status)
shown = {}
for line in open(sys.argv[2]):
    e = json.loads(line)
    for a in e["alerts"]:
        shown[(e["account"], a["rule"])] = a["alert_id"]
topic_open = {k: v for k, v in open_.items() if v}
for k in sorted(set(topic_open) | set(shown)):
    if topic_open.get(k) != shown.get(k):
        bad.append("%s/%s: consumers see %s open, the account shows %s"
                   % (k[0], k[1], topic_open.get(k) or "nothing", shown.get(k) or "nothing"))
for k in sorted(seq):
    print("%s %s %s" % (k[0], k[1], " ".join(seq[k])))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
