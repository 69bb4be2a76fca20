# harness.bash - shared helpers for the integration scripts: a private redis-server, the
# mock Kafka cluster (cw-kafka-mock), churnwatchd, and kcat to read topics. Source it;
# everything started is stopped by the EXIT trap.
set -euo pipefail

: "${CW_BUILD_DIR:?CW_BUILD_DIR must point at the build directory}"
: "${CW_SOURCE_DIR:?CW_SOURCE_DIR must point at the source tree}"
CLI="$CW_BUILD_DIR/daemon/churnwatch"
DAEMON="$CW_BUILD_DIR/daemon/churnwatchd"
MOCK="$CW_BUILD_DIR/daemon/cw-kafka-mock"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-it.XXXXXX")
PIDS=()

cleanup() {
  local rc=$?
  trap - ERR
  # newest first: the daemon stops while its broker and Redis are still up
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  if [ $rc -ne 0 ]; then
    echo "--- failed; logs in $WORK:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# A command that fails where errexit stops the script (a grep that matched nothing, a
# pipeline under pipefail, a helper that returned 1) says which command, where and in
# which functions, instead of ending the test with no reason given. Inherited by
# functions and subshells (-E); silent where errexit is off (command substitutions, set +e).
err_report() {
  local rc=$1 line=$2 cmd=$3 i stack=""
  [[ $- == *e* ]] || return 0
  for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
    stack+=" in ${FUNCNAME[$i]} (${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]})"
  done
  echo "FAIL: exit $rc at line $line: $cmd$stack" >&2
}
set -E
trap 'err_report $? $LINENO "$BASH_COMMAND"' ERR

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# cpu_s PID...: user + system CPU seconds the processes have used (from /proc; 0 for one
# that is gone).
cpu_s() {
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}

# metric SERIES [BASE]: the value of one unlabelled series on a daemon's /metrics (BASE: its
# HTTP address, default $URL); empty when the series is absent or nothing answers.
metric() { curl -s "${2:-$URL}/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# test_clock [INSTANT]: run this test at a fixed instant (RFC 3339; default CW_TEST_NOW, or
# Monday 2026-11-23 15:00 UTC): the daemon and the CLI see INSTANT as "now" from here on
# (CW_DEBUG_CLOCK_OFFSET_MS, daemon/core/wall_clock.h), and TEST_NOW holds it for
# `gen --end`. A history that ends "now" is then the same history at any time of day and on
# any day of the week, and so is every score and alert the test judges on it.
test_clock() {
  TEST_NOW=${1:-${CW_TEST_NOW:-2026-11-23T15:00:00Z}}
  local at
  at=$(date -u -d "$TEST_NOW" +%s%3N) || fail "test_clock: not an instant: $TEST_NOW"
  export CW_DEBUG_CLOCK_OFFSET_MS=$((at - $(date +%s%3N)))
}

# now_ms: the test's "now" in epoch milliseconds (the fixed instant's clock after test_clock).
now_ms() { echo $(($(date +%s%3N) + ${CW_DEBUG_CLOCK_OFFSET_MS:-0})); }

# REDIS_URL, when set, is the URL the daemon and the CLI use (default: redis:// on
# REDIS_PORT); the helpers here (rcli, rstate) keep the plain port.
REDIS_PORT=""
REDIS_PID=""
REDIS_URL=""
redis_start() {
  REDIS_PORT=${REDIS_PORT:-$(free_port)}
  mkdir -p "$WORK/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save "" \
    --appendonly "${REDIS_AOF:-no}" --daemonize no "$@" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for 10 redis-cli -p "$REDIS_PORT" ping || fail "redis-server did not start"
}
redis_stop() { kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

BOOTSTRAP=""
MOCK_IN=""
mock_start() { # mock_start PARTITIONS
  local parts=${1:-4}
  MOCK_IN="$WORK/mock.in"
  mkfifo "$MOCK_IN"
  "$MOCK" --brokers 1 --topic "usage-events:$parts" --topic churnwatch-alerts:1 \
    --topic usage-events-dlq:1 <"$MOCK_IN" >"$WORK/mock.out" 2>"$WORK/mock.log" &
  PIDS+=("$!")
  exec 7>"$MOCK_IN" # keep the fifo open: the tool serves until EOF
  wait_for 10 grep -q '^bootstrap=' "$WORK/mock.out" || fail "cw-kafka-mock did not start"
  BOOTSTRAP=$(sed -n 's/^bootstrap=//p' "$WORK/mock.out" | sed -n 1p)
}
# mock_cmd LINE: one command to cw-kafka-mock (a topic, a fault: see its --help); fails
# unless it answers "ok".
mock_answers() { grep -c -e '^ok' -e '^error' "$WORK/mock.out" || true; }
mock_answered() { [ "$(mock_answers)" -gt "$1" ]; }
mock_cmd() {
  local before
  before=$(mock_answers)
  echo "$1" >&7
  wait_for 10 mock_answered "$before" || fail "cw-kafka-mock did not answer '$1'"
  [ "$(tail -n1 "$WORK/mock.out")" = ok ] || fail "cw-kafka-mock: $1: $(tail -n1 "$WORK/mock.out")"
}
# topic_create NAME: one more topic, of one partition, on the mock.
topic_create() { mock_cmd "topic $1 1"; }

# write_config FILE [sed expressions...]: the shipped config pointed at our servers. Unless
# an expression set http.listen, the endpoint moves to a free port (tests run in parallel).
write_config() {
  local out=$1; shift
  cp "$CW_SOURCE_DIR/conf/churnwatch.yaml" "$out"
  chmod 600 "$out" # tests may plant secrets in it: the loader refuses readable ones
  for expr in "$@"; do sed -i -e "$expr" "$out"; done
  sed -i -e "s/^  listen: 127.0.0.1:9464\$/  listen: 127.0.0.1:$(free_port)/" "$out"
}

# The daemon's log is $WORK/daemon.log, or DAEMON_LOG once run_daemon gave a process its
# own file (scripts that restart the daemon: messages_total restarts at 0 in each).
DAEMON_PID=""
DAEMON_LOG=""
# DAEMON_ARGS (an array, when set): more options for churnwatchd (--batch-wait MS, ...).
daemon_start() { # daemon_start CONFIG [LOG [ENV=VALUE...]]
  local cfg=$1 log=${2:-$WORK/daemon.log}
  shift $(($# < 2 ? $# : 2))
  # The log exists before this returns: the redirection below is the background child's,
  # which a loaded box may not have run yet when the caller first reads the log.
  : >>"$log"
  env "$@" CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" \
    CHURNWATCH_REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" CHURNWATCH_LOG_LEVEL=debug \
    "$DAEMON" -c "$cfg" ${DAEMON_ARGS[@]+"${DAEMON_ARGS[@]}"} >>"$log" 2>&1 &
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
}
run_daemon() { # run_daemon CONFIG LOG [ENV=VALUE...]: daemon_start logging to LOG, emptied
  DAEMON_LOG=$2
  : >"$DAEMON_LOG"
  daemon_start "$@"
}
daemon_log() { echo "${DAEMON_LOG:-$WORK/daemon.log}"; }
log_count() { grep -c -- "$1" "$(daemon_log)" || true; }
# wait_log_count PATTERN N SECONDS: until the daemon's log has N lines matching PATTERN.
wait_log_count() {
  local pat=$1 want=$2 secs=$3
  local end=$((SECONDS + secs))
  until [ "$(log_count "$pat")" -ge "$want" ]; do
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited while waiting for '$pat' ($(daemon_log))"
    [ $SECONDS -lt $end ] || fail "no '$pat' (#$want) in $(daemon_log) within ${secs}s"
    sleep 0.1
  done
}
# wait_log_after LINE PATTERN SECONDS: until the daemon's log has a line matching PATTERN
# (a fixed string) after line LINE; prints that line's number.
wait_log_after() {
  local from=$1 pat=$2 secs=$3 n
  local end=$((SECONDS + secs))
  while :; do
    n=$(awk -v from="$from" -v pat="$pat" 'NR > from && index($0, pat) { print NR; exit }' \
      "$(daemon_log)")
    [ -n "$n" ] && { echo "$n"; return 0; }
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited while waiting for '$pat' ($(daemon_log))"
    [ $SECONDS -lt $end ] || fail "no '$pat' after line $from of $(daemon_log) within ${secs}s"
    sleep 0.2
  done
}
# rescore_and_wait CONFIG: `churnwatch -c CONFIG rescore`, then until the sweep that the
# request started has completed (a sweep already running when it came does not count). The
# sweep also publishes what the outboxes still hold.
rescore_and_wait() {
  local mark line
  mark=$(wc -l <"$(daemon_log)")
  cli -c "$1" rescore >/dev/null || fail "churnwatch rescore"
  line=$(wait_log_after "$mark" 'msg="rescore requested"' 60)
  wait_log_after "$line" 'msg="sweep completed"' 120 >/dev/null
}
daemon_stop() { # graceful
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
}
daemon_kill9() {
  kill -9 "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
}

cli() { # the CLI against our servers
  CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" \
    CHURNWATCH_REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" "$CLI" "$@"
}

# rstate CMD PORTS ...: churnwatch state in Redis (one node or every master of a cluster):
# dump, rules, applied, wait-applied (tests/integration/lib/rstate.py, see its header).
rstate() { python3 "$CW_SOURCE_DIR/tests/integration/lib/rstate.py" "$@"; }
# wait_applied PORTS N SECONDS: until Redis at PORTS holds N applied events of the stream
# (and the daemon started last, if any, is still running).
wait_applied() {
  local out
  out=$(rstate wait-applied "$1" "$2" "$3" ${DAEMON_PID:+"$DAEMON_PID"}) ||
    fail "waiting for $2 applied events: $out${DAEMON_PID:+ ($(daemon_log))}"
}

# topic_dump TOPIC: every message of TOPIC as one line (kcat, from the beginning).
topic_dump() { topic_read "$1" '%s\n'; }
# topic_dump_headers TOPIC: key, headers and value, tab-separated.
topic_dump_headers() { topic_read "$1" '%h\t%s\n'; }
# topic_read TOPIC FORMAT: kcat from the beginning to the end. A read that fails (the mock
# broker answering "leader not available" while a partition moves, say) is retried from
# the beginning, its partial output dropped; the third failure fails the test with kcat's
# own error.
topic_read() {
  local try out err
  out=$(mktemp "$WORK/kcat-read.XXXXXX") err=$(mktemp "$WORK/kcat-read.XXXXXX")
  for try in 1 2 3; do
    if kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q -f "$2" >"$out" 2>"$err"; then
      cat "$out" || true # a reader that wants only the first bytes closes the pipe early
      rm -f "$out" "$err"
      return 0
    fi
    sleep 1
  done
  fail "kcat could not read topic $1: $(tail -n 3 "$err")"
}

# judge_history EVENTS CONFIG: the whole history EVENTS (JSON Lines) in usage-events before
# the daemon starts (it judges it in event time), then the daemon on CONFIG, until it has
# processed every message and one sweep has run.
judge_history() {
  local n
  n=$(wc -l <"$1")
  kcat -P -b "$BOOTSTRAP" -t usage-events -l "$1" 2>>"$WORK/kcat.log" || fail "kcat produce"
  daemon_start "$2"
  wait_processed "$n" 120
  rescore_and_wait "$2"
}

# wait_processed N [SECONDS]: until the daemon has completed batches holding N messages in
# total (its debug log line "batch processed ... messages_total=N").
processed_total() {
  sed -n 's/.*msg="batch processed".*messages_total=\([0-9]*\).*/\1/p' "$(daemon_log)" | tail -n1
}
wait_processed() {
  local want=$1 secs=${2:-60}
  local end=$((SECONDS + secs))
  while :; do
    local got
    got=$(processed_total)
    [ -n "$got" ] && [ "$got" -ge "$want" ] && return 0
    [ $SECONDS -lt $end ] || fail "daemon processed ${got:-0} of $want messages in ${secs}s"
    sleep 0.2
  done
}

# tls_certs DIR: a private PKI for Redis TLS tests (files: tests/integration/lib/tls_certs.sh).
tls_certs() { bash "$CW_SOURCE_DIR/tests/integration/lib/tls_certs.sh" "$1" || fail "tls_certs.sh $1"; }
# redis_tls_args DIR PORT: redis-server arguments for TLS on PORT with DIR's server
# certificate, trusting DIR's CA for client certificates (optional).
redis_tls_args() {
  echo --tls-port "$2" --tls-cert-file "$1/server.crt" --tls-key-file "$1/server.key" \
    --tls-ca-cert-file "$1/ca.crt" --tls-auth-clients optional
}

# cluster_start N: a Redis Cluster of N masters (no replicas) on free loopback ports;
# sets CLUSTER_PORTS (array), CLUSTER_URL (redis-cluster://seeds) and CLUSTER_PIDS. With
# CLUSTER_TLS_DIR (a tls_certs directory) the nodes also serve TLS and speak it on the
# cluster bus (--tls-cluster yes): CLUSTER_TLS_PORTS and CLUSTER_TLS_URL
# (rediss-cluster://seeds) too.
CLUSTER_PORTS=()
CLUSTER_TLS_PORTS=()
CLUSTER_PIDS=()
CLUSTER_URL=""
CLUSTER_TLS_URL=""
cluster_start() {
  local n=${1:-3} i port bus tls_port tls=() addrs=() tls_addrs=()
  for ((i = 0; i < n; i++)); do
    port=$(free_port)
    bus=$(free_port) # cluster bus (default port + 10000 may be taken or above 65535)
    tls=()
    if [ -n "${CLUSTER_TLS_DIR:-}" ]; then
      tls_port=$(free_port)
      read -ra tls <<<"$(redis_tls_args "$CLUSTER_TLS_DIR" "$tls_port") --tls-cluster yes"
      CLUSTER_TLS_PORTS+=("$tls_port")
      tls_addrs+=("127.0.0.1:$tls_port")
    fi
    mkdir -p "$WORK/cluster-$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK/cluster-$port" --save "" \
      --appendonly no --cluster-enabled yes --cluster-config-file "$WORK/cluster-$port/nodes.conf" \
      --cluster-port "$bus" --cluster-node-timeout 2000 "${tls[@]}" --daemonize no \
      >"$WORK/cluster-$port.log" 2>&1 &
    PIDS+=("$!")
    CLUSTER_PIDS+=("$!")
    CLUSTER_PORTS+=("$port")
    addrs+=("127.0.0.1:$port")
  done
  for port in "${CLUSTER_PORTS[@]}"; do
    wait_for 10 redis-cli -p "$port" ping || fail "cluster redis-server :$port did not start"
  done
  # Over TLS the nodes meet at their TLS ports (the ports they announce with --tls-cluster).
  local create=("${addrs[@]}")
  [ ${#tls_addrs[@]} -eq 0 ] ||
    create=(--tls --cacert "$CLUSTER_TLS_DIR/ca.crt" "${tls_addrs[@]}")
  timeout 120 redis-cli --cluster create "${create[@]}" --cluster-replicas 0 --cluster-yes \
    >"$WORK/cluster-create.log" 2>&1 || fail "redis-cli --cluster create (see $WORK/cluster-create.log)"
  wait_for 30 cluster_ok || fail "the cluster did not reach cluster_state:ok"
  CLUSTER_URL="redis-cluster://$(
    IFS=,
    echo "${addrs[*]}"
  )"
  [ ${#tls_addrs[@]} -eq 0 ] || CLUSTER_TLS_URL="rediss-cluster://$(
    IFS=,
    echo "${tls_addrs[*]}"
  )"
}
cluster_ok() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$port" cluster info | grep '^cluster_state:ok' >/dev/null || return 1
  done
  # every node agrees on who owns every slot
  redis-cli --cluster check "127.0.0.1:${CLUSTER_PORTS[0]}" >/dev/null 2>&1
}

# Headless Chromium (Debian's chromium): browser_start makes a script SKIP (exit 77) when
# chromium is absent, else sets BROWSER (one profile directory, no sandbox: root in a
# container, no GPU). Waits are on the browser's exit, never on a sleep.
BROWSER=()
# console_start CONFIG [ARG...]: `churnwatch console` on a free port (PORT, BASE,
# CONSOLE_PID), waiting for its "serving" line; the ARGs are added to its command line. Not
# through cli(): $! must be the console itself, for a SIGTERM.
console_up() { grep '^churnwatch console: serving ' "$WORK/console.out" >/dev/null; }
console_start() {
  local cfg=$1
  shift
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  : >"$WORK/console.out"
  CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$CLI" -c "$cfg" console \
    --listen "127.0.0.1:$PORT" "$@" >"$WORK/console.out" 2>"$WORK/console.log" &
  CONSOLE_PID=$!
  PIDS+=("$CONSOLE_PID")
  wait_for 30 console_up || fail "the console did not start: $(cat "$WORK/console.log")"
}
browser_start() {
  command -v chromium >/dev/null || { echo "SKIP: no chromium (deploy/install-deps.sh)"; exit 77; }
  BROWSER=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
    --user-data-dir="$WORK/chromium" --no-first-run --hide-scrollbars)
}
dom() { # dom URL FILE: the DOM after load, as the browser built it
  timeout 120 "${BROWSER[@]}" --dump-dom "$1" >"$2" 2>>"$WORK/chromium.log" ||
    fail "chromium --dump-dom $1"
  grep -q '</html>' "$2" || fail "chromium dumped no document for $1"
}
shot() { # shot URL FILE W H: a PNG of the page in a W x H window
  rm -f "$2"
  timeout 120 "${BROWSER[@]}" --screenshot="$2" --window-size="$3,$4" "$1" \
    >>"$WORK/chromium.log" 2>&1 || fail "chromium --screenshot $1"
  [ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "no PNG for $1"
}
