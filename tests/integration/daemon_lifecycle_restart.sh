#!/usr/bin/env bash
# daemon_lifecycle_restart.sh - the restart guarantees (docs/guarantees.md, docs/alerts.md), on a 90-day generated history:
#   1. kill -9 at several points while consuming, restarting each time, leaves every
#      aggregate (:d, :u and :m of every account, the metric slots, the account list and
#      `churnwatch account --json` .metrics) identical to an uninterrupted reference run,
#      and the alerts stay at-least-once and de-duplicable (nothing lost, no second
#      episode for one that is already firing);
#   2. a graceful restart never re-emits a firing alert (the reference run restarted and
#      swept with `churnwatch rescore`);
#   3. SIGTERM under load stops within a bounded time with exit code 0, commits what it
#      processed (the restart replays nothing) and the restart completes the stream with
#      aggregates identical to the reference.
# One mock cluster holds the stream; each run is its own consumer group with its own Redis
# and alerts topic, so every run reads exactly the same partitions and offsets.
#
# Pending prunes: the apply function drops :d days and :u users at or before
# min(last_day, the daemon's clock day) - horizon, and only when an account's last_day
# advances (docs/state.md). Which rows beyond the horizon are still waiting for that prune
# depends on where the event-time clock stood at each batch, so it differs between two
# uninterrupted runs as much as after a crash; such rows are outside every window and
# never read. The comparison therefore leaves out the rows at or before
# last_day - horizon; every row inside the horizon, every :m field (counters, traits,
# first/last day, last seen, per-type times and the o:* offset watermarks), the metric
# slots and the account list must be identical.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary

STOP_BOUND_S=15 # SIGTERM under load must stop within this
# The store horizon of the shipped config: longest window (28d) + lateness (2d) + 2 days.
HORIZON=32
grep -q '^  long: 28d$' "$CW_SOURCE_DIR/conf/churnwatch.yaml" &&
  grep -q '^lateness: 2d$' "$CW_SOURCE_DIR/conf/churnwatch.yaml" ||
  fail "conf/churnwatch.yaml changed its windows or lateness: update HORIZON"
T_START=$SECONDS

# ---- helpers ---------------------------------------------------------------------------

# redis_new NAME: a private redis-server; sets REDIS_PORT (so cli/daemon_start use it).
redis_new() {
  local name=$1 port
  port=$(free_port)
  mkdir -p "$WORK/redis-$name"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK/redis-$name" --save "" \
    --appendonly no --daemonize no >"$WORK/redis-$name.log" 2>&1 &
  PIDS+=("$!")
  wait_for 10 redis-cli -p "$port" ping || fail "redis-server $name did not start"
  REDIS_PORT=$port
}

# run_config NAME: the shipped config with its own group and alerts topic, and quick
# group membership so that a member killed with -9 is replaced in seconds.
run_config() {
  local name=$1
  write_config "$WORK/$name.yaml" \
    "s|^  group_id: churnwatch\$|  group_id: cw-$name|" \
    "s|^  alerts_topic: churnwatch-alerts\$|  alerts_topic: alerts-$name|" \
    's|^  properties: {}$|  properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "200"}|'
  grep -q "group_id: cw-$name" "$WORK/$name.yaml" && grep -q "alerts_topic: alerts-$name" \
    "$WORK/$name.yaml" && grep -q 'session.timeout.ms' "$WORK/$name.yaml" ||
    fail "could not adapt conf/churnwatch.yaml for run $name"
}

# wait_total_at_least N SECONDS: until this process has completed batches of N messages.
wait_total_at_least() {
  local want=$1 secs=$2 got
  local end=$((SECONDS + secs))
  while :; do
    got=$(processed_total)
    [ -n "$got" ] && [ "$got" -ge "$want" ] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited early ($DAEMON_LOG)"
    [ $SECONDS -lt $end ] || fail "daemon processed ${got:-0} of $want messages in ${secs}s"
    sleep 0.05
  done
}
# state_dump PORT [HORIZON]: the aggregates (rstate dump) without the scores index, which
# this test does not compare.
state_dump() { rstate dump "$@" | grep -v '^cw:scores '; }

# watermark_max DUMP: "partition max-applied-offset" over all accounts, sorted.
watermark_max() {
  sed -n 's/^cw:{.*}:m o:usage-events:\([0-9]*\)=\([0-9]*\)$/\1 \2/p' "$1" |
    sort -k1,1n -k2,2n | awk '{m[$1]=$2} END {for (p in m) print p, m[p]}' | sort -n
}

# metrics_dump PORT CONFIG ACCOUNTS-FILE: `churnwatch account ID --json` .metrics per account.
metrics_dump() {
  local port=$1 cfg=$2 ids=$3 id out
  while read -r id; do
    out=$(REDIS_PORT=$port cli -c "$cfg" account "$id" --json) || fail "churnwatch account $id"
    jq -c --arg id "$id" '{account: $id, metrics: .metrics}' <<<"$out"
  done <"$ids"
}

# compare_state NAME PORT CONFIG: the run's Redis equals the reference's.
compare_state() {
  local name=$1 port=$2 cfg=$3
  state_dump "$port" >"$WORK/$name.raw"
  state_dump "$port" "$HORIZON" >"$WORK/$name.dump"
  if ! diff -u "$WORK/ref.dump" "$WORK/$name.dump" >"$WORK/$name.diff"; then
    head -n 40 "$WORK/$name.diff" >&2
    fail "$name: aggregates differ from the uninterrupted run ($(grep -c '^[-+]cw' "$WORK/$name.diff") lines; see above)"
  fi
  metrics_dump "$port" "$cfg" "$WORK/accounts.txt" >"$WORK/$name.metrics"
  if ! diff -u "$WORK/ref.metrics" "$WORK/$name.metrics" >"$WORK/$name.metrics.diff"; then
    head -n 20 "$WORK/$name.metrics.diff" >&2
    fail "$name: churnwatch account --json .metrics differ from the uninterrupted run"
  fi
}

# alerts_tsv TOPIC: account, rule, status, alert_id per alert, in topic order.
alerts_tsv() {
  topic_dump "$1" | jq -r '[.account_id, .rule, .status, .alert_id] | @tsv'
}

# check_alerts NAME PORT MODE: the run's alerts topic against its Redis rule states.
# Consumers de-duplicate by alert_id (docs/alerts.md), so the distinct (alert_id, status) in
# topic order must, per (account, rule), alternate firing, resolved (with that firing's
# id), firing...; the episodes left open in that view must be exactly the published
# firing states in Redis (nothing lost, nothing left open). MODE strict (no crash
# involved): no message at all is published twice. MODE crash: redeliveries allowed.
check_alerts() {
  local name=$1 port=$2 mode=$3
  alerts_tsv "alerts-$name" >"$WORK/$name-alerts.tsv"
  rstate rules "$port" >"$WORK/$name-rules.tsv"
  python3 - "$WORK/$name-alerts.tsv" "$WORK/$name-rules.tsv" "$mode" <<'PY' >"$WORK/$name-alerts.check" ||
import sys
alerts = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
mode, bad, seen, open_, sent = sys.argv[3], [], set(), {}, {}
for acct, rule, status, aid in alerts:
    key = (aid, status)
    sent[key] = sent.get(key, 0) + 1
    if key in seen:
        continue
    seen.add(key)
    k = (acct, rule)
    if status == "firing":
        if open_.get(k):
            bad.append("%s/%s: second episode %s fired while %s is open" % (acct, rule, aid, open_[k]))
        open_[k] = aid
    elif status == "resolved":
        if open_.get(k) != aid:
            bad.append("%s/%s: resolved %s but the open episode is %r" % (acct, rule, aid, open_.get(k)))
        open_[k] = None
if mode == "strict":
    bad += ["%s %s published %d times" % (k[0], k[1], n) for k, n in sent.items() if n > 1]
redis = {}
for l in open(sys.argv[2]):
    acct, rule, st = l.rstrip("\n").split("\t")
    f = st.split("|")
    if f[0] == "F" and f[4] == "1":
        redis[(acct, rule)] = f[5]
view = {k: v for k, v in open_.items() if v}
for k in sorted(set(view) | set(redis)):
    if view.get(k) != redis.get(k):
        bad.append("%s/%s: consumers see %s open, Redis holds %s firing"
                   % (k[0], k[1], view.get(k) or "nothing", redis.get(k) or "nothing"))
for b in bad: print(b)
print("%d messages, %d open, %d redelivered" % (len(alerts), len(view), sum(n - 1 for n in sent.values())))
sys.exit(1 if bad else 0)
PY
    { cat "$WORK/$name-alerts.check" >&2; fail "$name run: alerts inconsistent (see above)"; }
  ALERT_SUMMARY=$(tail -n1 "$WORK/$name-alerts.check")
}

# ---- the stream ------------------------------------------------------------------------

mock_start 16
for t in alerts-ref alerts-kill alerts-term; do topic_create "$t"; done
"$CLI" gen --end "$TEST_NOW" -o "$WORK/events.jsonl" || fail "churnwatch gen"
N=$(wc -l <"$WORK/events.jsonl")
[ "$N" -gt 50000 ] || fail "generated only $N events"
run_config ref
redis_new ref
REF_PORT=$REDIS_PORT
# keyed by user: deterministic partitions, and one account's events on many partitions
cli -c "$WORK/ref.yaml" produce "$WORK/events.jsonl" --key user 2>"$WORK/produce.log" ||
  fail "churnwatch produce"

# ---- reference: one uninterrupted run ----------------------------------------------------

run_daemon "$WORK/ref.yaml" "$WORK/ref-1.log"
wait_total_at_least "$N" 120
# silent accounts are found by the sweep: settle the alert state before the restart check
rescore_and_wait "$WORK/ref.yaml"
daemon_stop
state_dump "$REF_PORT" "$HORIZON" >"$WORK/ref.dump"
state_dump "$REF_PORT" >"$WORK/ref.raw"
watermark_max "$WORK/ref.dump" >"$WORK/ref.marks"
[ "$(wc -l <"$WORK/ref.marks")" -eq 16 ] || fail "reference: watermarks of 16 partitions expected"
applied=$(rstate applied "$REF_PORT")
[ "$applied" -eq "$N" ] || fail "reference: $applied of $N events applied"
grep -q ':o ' "$WORK/ref.dump" && fail "reference: outbox entries left after a graceful stop"
sed -n 's/^cw:accounts \(.*\)=.*/\1/p' "$WORK/ref.dump" >"$WORK/accounts.txt"
n_accounts=$(wc -l <"$WORK/accounts.txt")
[ "$n_accounts" -ge 30 ] || fail "reference: only $n_accounts accounts"
metrics_dump "$REF_PORT" "$WORK/ref.yaml" "$WORK/accounts.txt" >"$WORK/ref.metrics"
pass "reference run: $N events, $n_accounts accounts ($((SECONDS - T_START))s so far)"

# ---- 2. a graceful restart never re-emits a firing alert ---------------------------------

check_alerts ref "$REF_PORT" strict
cp "$WORK/ref-alerts.tsv" "$WORK/ref-alerts-1.tsv"
# (account, rule) -> alert_id of the episodes still firing
awk -F'\t' '{st[$1"\t"$2]=$3; id[$1"\t"$2]=$4} END {for (k in st) if (st[k]=="firing") print k"\t"id[k]}' \
  "$WORK/ref-alerts-1.tsv" | sort >"$WORK/ref-firing.tsv"
n_firing=$(wc -l <"$WORK/ref-firing.tsv")
[ "$n_firing" -ge 5 ] || fail "reference run left only $n_firing alerts firing; expected several"
# the state in Redis agrees: rule state F with the same alert_id
while IFS=$'\t' read -r acct rule id; do
  st=$(redis-cli -p "$REF_PORT" HGET "cw:{$acct}:r" "$rule")
  [ "${st%%|*}" = F ] && [ "${st##*|}" = "$id" ] ||
    fail "$acct/$rule: topic says firing $id, Redis rule state is '$st'"
done <"$WORK/ref-firing.tsv"

REDIS_PORT=$REF_PORT
run_daemon "$WORK/ref.yaml" "$WORK/ref-2.log"
wait_log_count 'msg="kafka partitions assigned"' 1 30
rescore_and_wait "$WORK/ref.yaml"
sleep 1
daemon_stop
check_alerts ref "$REF_PORT" strict
tail -n +$(($(wc -l <"$WORK/ref-alerts-1.tsv") + 1)) "$WORK/ref-alerts.tsv" >"$WORK/ref-alerts-new.tsv"
while IFS=$'\t' read -r acct rule status id; do
  if grep -q "^$acct"$'\t'"$rule"$'\t' "$WORK/ref-firing.tsv" && [ "$status" = firing ]; then
    fail "restart re-emitted a firing alert for $acct/$rule (alert_id $id) that was already firing"
  fi
  echo "note: after the restart: $acct $rule $status $id" >&2
done <"$WORK/ref-alerts-new.tsv"
[ "$(processed_total)" = "" ] || fail "restart after a graceful stop replayed $(processed_total) messages"
pass "graceful restart + rescore: none of the $n_firing firing alerts re-emitted"

# ---- 1. kill -9 at several points, restart each time --------------------------------------

redis_new kill
KILL_PORT=$REDIS_PORT
run_config kill
kills=0
# kill points in events applied to Redis (monotonic across runs, unlike this process's
# message count, which includes the replays of what was applied but not committed)
# Each run completes a batch before it is killed: the previous run may have applied past
# this kill point already (an account's applied state reaches Redis when it is written back,
# and a run killed 0-90 ms after its point keeps writing), and a run killed right after
# its assignment would have judged nothing (the floor check below needs a batch per run).
# On a loaded box a run can also apply (and commit) the whole rest of the stream before
# its kill lands; the next run then has nothing to consume, so the kills stop there and
# a last run with nothing to do is not asked for a batch below.
for pct in 15 35 55 75; do
  if [ "$(rstate applied "$KILL_PORT")" -ge "$N" ]; then
    echo "note: the stream was applied in full before kill point $pct%; $kills kills" >&2
    break
  fi
  run_daemon "$WORK/kill.yaml" "$WORK/kill-$((kills + 1)).log"
  wait_total_at_least 1 90
  wait_applied "$KILL_PORT" $((N * pct / 100)) 90
  sleep "0.0$((RANDOM % 10))" # somewhere inside a batch, not just after one
  daemon_kill9
  kills=$((kills + 1))
done
last_had_work=1
[ "$(rstate applied "$KILL_PORT")" -lt "$N" ] || last_had_work=0
run_daemon "$WORK/kill.yaml" "$WORK/kill-$((kills + 1)).log"
wait_applied "$KILL_PORT" "$N" 120
rescore_and_wait "$WORK/kill.yaml" # publishes what the outboxes still hold
daemon_stop
grep -q 'messages_total=' "$WORK/kill-1.log" || fail "kill run 1 processed nothing"
# Each restart resumes the event-time clock at the floors the killed process saved (not
# at the replayed events' time): the first clock it judges by is at least the lowest.
for i in $(seq 2 $((kills + 1))); do
  log=$WORK/kill-$i.log
  floors=$(grep -m1 'msg="event-time floors loaded"' "$log") ||
    fail "kill run $i: no event-time floors loaded ($log)"
  stored=$(sed -n 's/.* stored=\([0-9]*\).*/\1/p' <<<"$floors")
  lowest=$(sed -n 's/.* lowest=\(-\?[0-9]*\).*/\1/p' <<<"$floors")
  [ "${stored:-0}" -gt 0 ] || fail "kill run $i: no floor stored by the killed run: $floors"
  clock=$(sed -n '/msg="batch processed"/s/.* clock=\([0-9][0-9]*\).*/\1/p' "$log" | sed -n 1p)
  # the last run may have found the stream applied and committed in full: no batch
  [ -z "$clock" ] && [ "$i" -eq $((kills + 1)) ] && [ "$last_had_work" = 0 ] && continue
  [ -n "$clock" ] || fail "kill run $i: no batch judged at a known clock ($log)"
  [ "$clock" -ge "$lowest" ] ||
    fail "kill run $i: the clock went back to $clock, below the saved floor $lowest ($log)"
done
pass "kill -9 restarts: each resumed its event-time clock at the saved floors"
compare_state kill "$KILL_PORT" "$WORK/kill.yaml"
pass "kill -9 x$kills while consuming: every aggregate identical to the uninterrupted run ($(wc -l <"$WORK/ref.dump") lines; $(diff "$WORK/ref.raw" "$WORK/kill.raw" | grep -c '^[<>]' || true) raw lines differ beyond the horizon)"

# alerts after the crashes: at-least-once and de-duplicable by alert_id
check_alerts kill "$KILL_PORT" crash
pass "kill -9 runs: alerts at-least-once and de-duplicable by alert_id ($ALERT_SUMMARY)"
# Not asserted: a backfill's episodes are path-dependent (docs/guarantees.md, "Not
# guaranteed"), and a process killed between a batch's apply and its floor save resumes
# at the previous batch's floors, judging a few rules at an earlier clock over later data:
# extra (consistent, de-duplicable) episodes are possible. Shown for the record.
episodes() { awk -F'\t' '$3 == "firing" {print $4}' "$1" | sort -u | wc -l; }
ref_ep=$(episodes "$WORK/ref-alerts-1.tsv") kill_ep=$(episodes "$WORK/kill-alerts.tsv")
[ "$kill_ep" -le $((ref_ep + ref_ep / 5)) ] ||
  echo "note: the kill -9 runs opened $kill_ep alert episodes, the uninterrupted run $ref_ep" >&2

# ---- 3. SIGTERM under load -------------------------------------------------------------

redis_new term
TERM_PORT=$REDIS_PORT
run_config term
run_daemon "$WORK/term.yaml" "$WORK/term-1.log"
wait_total_at_least 20000 90
t0=$(date +%s%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 0 ] || fail "SIGTERM under load: exit code $rc"
[ "$stop_ms" -lt $((STOP_BOUND_S * 1000)) ] || fail "SIGTERM under load: stopped after ${stop_ms} ms"
grep -q 'msg="stopped"' "$WORK/term-1.log" || fail "SIGTERM: no 'stopped' in the log"
first=$(processed_total)
[ "$first" -lt "$N" ] || fail "SIGTERM came too late: the whole stream was already processed"
run_daemon "$WORK/term.yaml" "$WORK/term-2.log"
wait_applied "$TERM_PORT" "$N" 120
second=$(processed_total)
rescore_and_wait "$WORK/term.yaml"
daemon_stop
[ $((first + ${second:-0})) -eq "$N" ] ||
  fail "SIGTERM: $first + ${second:-0} messages processed over two runs, expected $N (offsets of processed batches not committed at shutdown?)"
compare_state term "$TERM_PORT" "$WORK/term.yaml"
pass "SIGTERM under load: exit 0 in ${stop_ms} ms after $first messages; restart completed the stream, aggregates identical"
check_alerts term "$TERM_PORT" strict
pass "SIGTERM run: alerts published once each, consistent with Redis ($ALERT_SUMMARY)"
pass "total $((SECONDS - T_START))s"
