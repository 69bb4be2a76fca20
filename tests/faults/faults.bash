# faults.bash - shared by the fault-injection scenarios (tests/faults/*.sh): one seeded
# stream in one mock cluster, a reference run without faults, and the comparison of a run's
# Redis state, scores and alert episodes with the reference. Source it after setting
# nothing; it sources tests/integration/harness.bash (servers, daemon, EXIT trap).
#
# Every run reads the same partitions and offsets (one mock cluster holds the stream; each
# run has its own consumer group, Redis and alerts topic), so a run's state must equal the
# reference's byte for byte, except for what docs/guarantees.md lists as not compared:
#   - :d days and :u users already outside the store horizon and still waiting for their
#     prune (which rows wait depends on where the clock stood at each batch: it differs
#     between two uninterrupted runs too; such rows are never read);
#   - the :h daily score history and :r rule states' instants (written at the clock of each
#     evaluation; compared through the alert episodes instead).
source "$(dirname "${BASH_SOURCE[0]}")/../integration/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary

FAULTS_DIR="$CW_SOURCE_DIR/tests/faults"
SEED=${CW_FAULTS_SEED:-$(date +%s)}
echo "seed: $SEED (rerun with CW_FAULTS_SEED=$SEED)"
RANDOM=$SEED
T_START=$SECONDS
# The store horizon of the shipped config: longest window (28d) + lateness (2d) + 2 days.
HORIZON=32
grep -q '^  long: 28d$' "$CW_SOURCE_DIR/conf/churnwatch.yaml" &&
  grep -q '^lateness: 2d$' "$CW_SOURCE_DIR/conf/churnwatch.yaml" ||
  fail "conf/churnwatch.yaml changed its windows or lateness: update HORIZON"
PARTITIONS=8

# ---- servers ----------------------------------------------------------------------------

# redis_new NAME [ARGS...]: a private redis-server in $WORK/redis-NAME (ARGS are passed on,
# e.g. --appendonly yes); sets REDIS_PORT (used by cli/daemon_start) and REDIS_PID.
redis_new() {
  local name=$1 port
  shift
  port=${REDIS_REUSE_PORT:-$(free_port)}
  mkdir -p "$WORK/redis-$name"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK/redis-$name" --save "" \
    --appendonly no --daemonize no "$@" >>"$WORK/redis-$name.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for 10 redis-cli -p "$port" ping || fail "redis-server $name did not start"
  REDIS_PORT=$port
}

# mock_start PARTITIONS [BROKERS]: cw-kafka-mock with usage-events of PARTITIONS partitions
# on BROKERS brokers (default 1); sets BOOTSTRAP; fault commands go to fd 7 (mock_cmd).
mock_start() {
  local parts=$1 brokers=${2:-1}
  MOCK_IN="$WORK/mock.in"
  mkfifo "$MOCK_IN"
  "$MOCK" --brokers "$brokers" --topic "usage-events:$parts" --topic usage-events-dlq:1 \
    <"$MOCK_IN" >"$WORK/mock.out" 2>"$WORK/mock.log" &
  PIDS+=("$!")
  exec 7>"$MOCK_IN" # keep the fifo open: the tool serves until EOF
  wait_for 10 grep -q '^bootstrap=' "$WORK/mock.out" || fail "cw-kafka-mock did not start"
  BOOTSTRAP=$(sed -n 's/^bootstrap=//p' "$WORK/mock.out" | sed -n 1p)
}

# run_config NAME [EXTRA-PROPERTIES]: the shipped config with its own group and alerts
# topic (created here), quick group membership so that a member killed with -9 is replaced
# in seconds, and EXTRA-PROPERTIES (librdkafka, `key: "value", ...`); with RUN_LANES set,
# redis.lanes is that (else the shipped config's).
run_config() {
  local name=$1 extra=${2:+, $2}
  mock_cmd "topic alerts-$name 1"
  write_config "$WORK/$name.yaml" \
    "s|^  group_id: churnwatch\$|  group_id: cw-$name|" \
    "s|^  alerts_topic: churnwatch-alerts\$|  alerts_topic: alerts-$name|" \
    "s|^  properties: {}\$|  properties: {session.timeout.ms: \"3000\", heartbeat.interval.ms: \"200\"$extra}|" \
    ${RUN_LANES:+"s|^  lanes: [0-9]*\$|  lanes: $RUN_LANES|"} \
    's|^  listen: 127.0.0.1:9464$|  listen: ""|' # several members of a group share a config
  grep -q "group_id: cw-$name" "$WORK/$name.yaml" && grep -q "alerts_topic: alerts-$name" \
    "$WORK/$name.yaml" && grep -q 'session.timeout.ms' "$WORK/$name.yaml" &&
    grep -q "^  lanes: ${RUN_LANES:-[0-9]*}\$" "$WORK/$name.yaml" ||
    fail "could not adapt conf/churnwatch.yaml for run $name"
}

# ---- the daemon -------------------------------------------------------------------------

# applied PORT: events applied to Redis at PORT (sum over partitions of the highest
# applied offset + 1): monotonic across restarts, unlike a process's message count.
applied() { rstate applied "$1"; }

# ---- the stream and the reference run ---------------------------------------------------

# Five weeks of history for 200 accounts of every fate (alerts fire: declining, silent,
# stalled onboarding, under-used seats, borderline), ending now, keyed by user so that one
# account's events are spread over every partition.
GEN_ARGS=(--seed 7 --accounts 200 --days 35 --rate-scale 0.15 --end "$TEST_NOW")

# stream_setup [BROKERS]: the mock cluster with the stream in usage-events (N events).
stream_setup() {
  mock_start "$PARTITIONS" "${1:-1}"
  "$CLI" gen "${GEN_ARGS[@]}" -o "$WORK/events.jsonl" || fail "churnwatch gen"
  N=$(wc -l <"$WORK/events.jsonl")
  [ "$N" -gt 20000 ] || fail "generated only $N events"
  write_config "$WORK/produce.yaml"
  REDIS_PORT=${REDIS_PORT:-6379} cli -c "$WORK/produce.yaml" produce "$WORK/events.jsonl" --key user 2>"$WORK/produce.log" ||
    fail "churnwatch produce"
}

# finish_run NAME CONFIG: the running daemon has applied the whole stream; settle the
# alert state (a rescore: silent accounts are found by the sweep; what the outboxes still
# hold is published) and stop it gracefully.
finish_run() {
  wait_applied "$REDIS_PORT" "$N" 180
  rescore_and_wait "$2"
  kill -TERM "$DAEMON_PID"
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  [ $rc -eq 0 ] || fail "$1: the daemon exited with $rc on SIGTERM"
}

# snapshot NAME PORT CONFIG: the run's state in $WORK/NAME.*: .dump (aggregates within the
# horizon), .eval (per account: score, grade, components, metrics, open alerts by rule),
# .alerts (every message published), .episodes (per account and rule, the statuses of its
# distinct episodes: episodes.py, which also checks the run is consistent).
snapshot() {
  local name=$1 port=$2 cfg=$3 id out
  rstate dump "$port" "$HORIZON" | grep -v -e ':m h_last=' -e '^cw:scores ' -e "${DUMP_EXCLUDE:-^$}" \
    >"$WORK/$name.dump" || fail "$name: state dump"
  sed -n 's/^cw:accounts \(.*\)=.*/\1/p' "$WORK/$name.dump" >"$WORK/$name.accounts"
  : >"$WORK/$name.eval"
  while read -r id; do
    out=$(REDIS_PORT=$port cli -c "$cfg" account "$id" --json) || fail "churnwatch account $id"
    jq -c --arg id "$id" '{account: $id, score, grade, components, metrics,
      alerts: [.alerts[] | {rule, alert_id}]}' <<<"$out" >>"$WORK/$name.eval"
  done <"$WORK/$name.accounts"
  # alert ids (and the instants they hash) are compared within the run, not with the
  # reference: see episodes.py
  jq -c 'del(.alerts)' "$WORK/$name.eval" >"$WORK/$name.evalcmp"
  jq -r '.account as $a | .alerts[] | "\($a) \(.rule)"' "$WORK/$name.eval" | sort >"$WORK/$name.open"
  topic_dump "alerts-$name" | jq -r '[.account_id, .rule, .status, .alert_id] | @tsv' \
    >"$WORK/$name.alerts"
  python3 "$FAULTS_DIR/episodes.py" "$WORK/$name.alerts" "$WORK/$name.eval" \
    >"$WORK/$name.episodes" 2>"$WORK/$name.episodes.err" ||
    { cat "$WORK/$name.episodes.err" >&2; fail "$name: alerts topic inconsistent"; }
}

# reference_run: the stream through one uninterrupted daemon; $WORK/ref.* as by snapshot.
reference_run() {
  run_config ref
  redis_new ref
  REF_PORT=$REDIS_PORT
  run_daemon "$WORK/ref.yaml" "$WORK/ref.log"
  finish_run ref "$WORK/ref.yaml"
  snapshot ref "$REF_PORT" "$WORK/ref.yaml"
  N_ACCOUNTS=$(wc -l <"$WORK/ref.accounts")
  [ "$N_ACCOUNTS" -ge 150 ] || fail "reference: only $N_ACCOUNTS accounts"
  [ "$(applied "$REF_PORT")" -eq "$N" ] || fail "reference: not every event applied"
  N_EPISODES=$(grep -o ' firing' "$WORK/ref.episodes" | wc -l)
  [ "$N_EPISODES" -ge 10 ] || fail "reference: only $N_EPISODES alert episodes fired"
  [ "$(wc -l <"$WORK/ref.alerts")" -eq "$(sort -u "$WORK/ref.alerts" | wc -l)" ] ||
    fail "reference: an alert was published twice without any fault"
  pass "reference: $N events, $N_ACCOUNTS accounts, $N_EPISODES alert episodes ($((SECONDS - T_START))s)"
}

# compare NAME PORT CONFIG: the run NAME (stopped) against the reference. Asserted:
#   - every event applied, every aggregate equal (nothing lost, nothing counted twice);
#   - every account's score, grade, components and windowed metrics equal;
#   - the run's alerts topic consistent on its own (episodes.py: distinct (alert_id,
#     status) alternate firing/resolved per account and rule, resolved carries its
#     firing's id, the episodes left open are exactly the open alerts, same ids), with
#     redeliveries of the same (alert_id, status) allowed (at-least-once, docs/alerts.md).
# Measured, not asserted: (account, rule) pairs whose episode history, or whose open alert
# at the end, differ from the reference. Which intermediate states a backfill judges
# depends on batch boundaries and on the event-time clock of each batch, and with
# hysteresis (enter/exit) the state at the end depends on that path: two uninterrupted
# runs differ there too (kill9.sh's control run measures it; docs/guarantees.md).
# Appends one line to $WORK/summary.
compare() {
  local name=$1 port=$2 cfg=$3 dup missing extra open_missing open_extra
  snapshot "$name" "$port" "$cfg"
  [ "$(applied "$port")" -eq "$N" ] || fail "$name: $(applied "$port") of $N events applied"
  if ! diff -u "$WORK/ref.dump" "$WORK/$name.dump" >"$WORK/$name.dump.diff"; then
    head -n 30 "$WORK/$name.dump.diff" >&2
    fail "$name: aggregates differ from the reference ($(grep -c '^[-+]cw' "$WORK/$name.dump.diff") lines)"
  fi
  if ! diff -u "$WORK/ref.evalcmp" "$WORK/$name.evalcmp" >"$WORK/$name.eval.diff"; then
    head -n 20 "$WORK/$name.eval.diff" >&2
    fail "$name: scores or metrics differ from the reference"
  fi
  diff "$WORK/ref.episodes" "$WORK/$name.episodes" >"$WORK/$name.episodes.diff" || true
  missing=$(grep -c '^<' "$WORK/$name.episodes.diff" || true)
  extra=$(grep -c '^>' "$WORK/$name.episodes.diff" || true)
  [ "$missing$extra" = 00 ] || {
    echo "note: $name: episode histories differ from the reference for $missing/$extra (account, rule):" >&2
    grep '^[<>]' "$WORK/$name.episodes.diff" >&2
  }
  open_missing=$(comm -23 "$WORK/ref.open" "$WORK/$name.open" | wc -l)
  open_extra=$(comm -13 "$WORK/ref.open" "$WORK/$name.open" | wc -l)
  [ "$open_missing$open_extra" = 00 ] || {
    echo "note: $name: open alerts at the end differ from the reference ($open_missing/$open_extra):" >&2
    diff "$WORK/ref.open" "$WORK/$name.open" | grep "^[<>]" >&2 || true
  }
  dup=$(($(wc -l <"$WORK/$name.alerts") - $(sort -u "$WORK/$name.alerts" | wc -l)))
  echo "$name events=$N events_lost=0 double_counts=0 accounts_equal=$N_ACCOUNTS alerts_consistent=yes redelivered=$dup histories_differing=$missing/$extra open_differing=$open_missing/$open_extra (of $(wc -l <"$WORK/ref.episodes") histories, $(wc -l <"$WORK/ref.open") open)" >>"$WORK/summary"
  pass "$name: $N events, aggregates, scores and metrics of $N_ACCOUNTS accounts equal to the reference; alerts consistent ($dup redelivered)"
}

# summary: the figures of every scenario of this script.
summary() {
  echo "== summary (seed $SEED, $((SECONDS - T_START))s)"
  cat "$WORK/summary"
}
