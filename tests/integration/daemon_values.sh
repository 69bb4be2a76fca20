#!/usr/bin/env bash
# daemon_values.sh - event values through the real daemon (docs/configuration.md
# "event_types", measures' aggregate): NPS answers and webinar minutes are kept per day and
# the measures' raw values in `churnwatch account --json` equal hand-computed aggregates
# (nps, last, avg, per-seat sum), an older answer arriving later does not become the last,
# an account without answers has its NPS n/a, bad values reach the DLQ as bad_value with
# their bytes intact, and after a restart (state loaded back from Redis) a new answer
# updates every aggregate.
source "$(dirname "$0")/harness.bash"

test_clock
redis_start
mock_start 1
# two more measures of the same answers beside the shipped nps (last and average)
MEASURES='        - {name: nps_last, metric: nps, window: long, aggregate: last, target: 10, weight: 0.1}\
        - {name: nps_avg, metric: nps, window: long, aggregate: avg, target: 10, weight: 0.1}'
write_config "$WORK/cw.yaml" "/^        - {name: nps, metric: nps,/a\\$MEASURES"
grep -F -- "- {name: nps_avg" "$WORK/cw.yaml" >/dev/null || fail "measures not added to the config"
cli check-config "$WORK/cw.yaml" >/dev/null || fail "the test's config is invalid"

# acme (10 seats): a login a day for 29 days; NPS answers 3 (20 days ago), 10 (10 days ago),
# 8 (yesterday), then 9 (5 days ago) sent last; webinar minutes 12 (27 days ago), 30.5 (15
# days ago), 45 (3 days ago). quiet: logins only.
python3 - "$(now_ms)" >"$WORK/events.jsonl" <<'PY'
import json, sys
now = int(sys.argv[1])
DAY = 86400000
today = now - now % DAY
events = []
for acct in ("acme", "quiet"):
    events.append({"event_id": f"{acct}-t", "account_id": acct, "type": "account_updated",
                   "ts": today - 29 * DAY + 3600000,
                   "traits": {"seats": 10, "created_at": "2024-01-15T00:00:00Z"}})
    for d in range(29, 0, -1):
        events.append({"event_id": f"{acct}-l{d}", "account_id": acct, "user_id": "u1",
                       "type": "login", "ts": today - d * DAY + 7200000})
def nps(d, score, where):
    e = {"event_id": f"nps-{d}", "account_id": "acme", "user_id": "u1",
         "type": "nps_submitted", "ts": today - d * DAY + 10800000}
    if where == "properties":
        e["properties"] = {"score": score}
    else:
        e["score"] = score
    return e
def minutes(d, m, where):
    e = {"event_id": f"web-{d}", "account_id": "acme", "user_id": "u2",
         "type": "Webinar Watched", "ts": today - d * DAY + 14400000}
    if where == "properties":
        e["properties"] = {"minutes": m}
    else:
        e["minutes"] = m
    return e
events += [nps(20, 3, "properties"), nps(10, 10, "top"), nps(1, "8", "top"),
           minutes(27, 12, "properties"), minutes(15, 30.5, "top"), minutes(3, 45, "properties")]
events.sort(key=lambda e: e["ts"])
events.append(nps(5, 9, "properties"))  # older than the last answer, arriving after it
for e in events:
    print(json.dumps(e, separators=(",", ":")))
PY
# bad values, each of a valued type: to the DLQ as bad_value, bytes unchanged
today_ms=$(( $(now_ms) - $(now_ms) % 86400000 + 3600000 ))
cat >"$WORK/bad.jsonl" <<EOF2
{"event_id":"b1","account_id":"acme","type":"nps_submitted","ts":$today_ms,"score":"ten"}
{"event_id":"b2","account_id":"acme","type":"nps_submitted","ts":$today_ms,"properties":{"score":null}}
{"event_id":"b3","account_id":"acme","type":"webinar_watched","ts":$today_ms,"minutes":"NaN"}
{"event_id":"b4","account_id":"acme","type":"webinar_watched","ts":$today_ms,"minutes":1e400}
{"event_id":"b5","account_id":"acme","type":"nps_submitted","ts":$today_ms,"score":[9]}
EOF2
cat "$WORK/bad.jsonl" >>"$WORK/events.jsonl"
n=$(wc -l <"$WORK/events.jsonl")
kcat -P -b "$BOOTSTRAP" -t usage-events -l "$WORK/events.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
daemon_start "$WORK/cw.yaml"
wait_processed "$n" 120
rescore_and_wait "$WORK/cw.yaml"

# check ACCOUNT MEASURE... (each "name=raw", raw "null" for n/a): exact values
check() {
  local acct=$1; shift
  cli -c "$WORK/cw.yaml" account "$acct" --json >"$WORK/$acct.json" || fail "churnwatch account $acct"
  python3 - "$WORK/$acct.json" "$@" <<'PY' || fail "$acct: measures differ (see above)"
import json, sys
acct = json.load(open(sys.argv[1]))
ok = True
for spec in sys.argv[2:]:
    name, want = spec.split("=")
    m = acct["measures"][name]
    got = m["raw"]
    if want == "null":
        if got is not None or m["na"] != "n/a (no values in the window)":
            print(f"{name}: {got} ({m['na']}), want n/a (no values in the window)")
            ok = False
    elif got is None or abs(got - float(want)) > 1e-9:
        print(f"{name}: {got} ({m['na']}), want {want}")
        ok = False
sys.exit(0 if ok else 1)
PY
}
# NPS of 3, 10, 8, 9: 2 promoters, 1 detractor of 4 = 25; the last by event time is 8
# (yesterday), not 9; avg 30 / 4; minutes 87.5 over 10 seats.
check acme nps=25 nps_last=8 nps_avg=7.5 webinar_minutes=8.75
check quiet nps=null nps_last=null nps_avg=null webinar_minutes=null
pass "aggregates of NPS answers and webinar minutes equal the hand-computed ones"
[ "$(jq -r '.measures.nps_last.aggregate' "$WORK/acme.json")" = last ] || fail "aggregate not in --json"
cli -c "$WORK/cw.yaml" account acme >"$WORK/acme.txt" || fail "churnwatch account acme"
grep -F "(last of nps over long)" "$WORK/acme.txt" >/dev/null || fail "the measure line names no aggregate: $(cat "$WORK/acme.txt")"
grep -F "(seminars over long, per seat)" "$WORK/acme.txt" >/dev/null || fail "a count's measure line changed"

# The bad values: in the DLQ as bad_value, bytes as sent, in order.
kcat -C -b "$BOOTSTRAP" -t usage-events-dlq -o beginning -c 5 -e -q \
  -f '%h\x1f%s\x1e' >"$WORK/dlq.bin" 2>/dev/null || true
python3 - "$WORK/bad.jsonl" "$WORK/dlq.bin" <<'PY' || fail "DLQ contents differ (see above)"
import sys
sent = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
recs = [r for r in open(sys.argv[2], "rb").read().split(b"\x1e") if r]
ok = len(recs) == len(sent)
if not ok:
    print(f"{len(recs)} DLQ messages, want {len(sent)}")
for want, rec in zip(sent, recs):
    hdrs, _, value = rec.partition(b"\x1f")
    h = dict(kv.split(b"=", 1) for kv in hdrs.split(b",") if b"=" in kv)
    if value != want:
        print(f"DLQ bytes {value!r}, sent {want!r}"); ok = False
    if h.get(b"churnwatch-error") != b"bad_value":
        print(f"{want!r}: code {h.get(b'churnwatch-error')}"); ok = False
    if b"value at" not in h.get(b"churnwatch-reason", b"") and b"no value" not in h.get(b"churnwatch-reason", b""):
        print(f"{want!r}: reason {h.get(b'churnwatch-reason')}"); ok = False
sys.exit(0 if ok else 1)
PY
pass "5 bad values in the DLQ as bad_value with their bytes"

# Restart: the state comes back from Redis; an answer of 0 today (a detractor, the newest)
# moves every aggregate: NPS 2 - 2 of 5 = 0, last 0, avg 30 / 5.
daemon_stop
printf '{"event_id":"nps-0","account_id":"acme","user_id":"u3","type":"nps_submitted","ts":%s,"score":0}\n' \
  "$(( $(now_ms) - 60000 ))" >"$WORK/more.jsonl"
kcat -P -b "$BOOTSTRAP" -t usage-events -l "$WORK/more.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
run_daemon "$WORK/cw.yaml" "$WORK/daemon2.log"
wait_processed 1 60
rescore_and_wait "$WORK/cw.yaml"
check acme nps=0 nps_last=0 nps_avg=6 webinar_minutes=8.75
pass "after a restart a new answer updates the aggregates kept in Redis"
