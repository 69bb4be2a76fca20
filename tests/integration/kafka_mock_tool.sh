#!/usr/bin/env bash
# kafka_mock_tool.sh - cw-kafka-mock serves kcat (produce, consume) and answers fault commands
set -euo pipefail

: "${CW_BUILD_DIR:?CW_BUILD_DIR is not set}"
tool="$CW_BUILD_DIR/daemon/cw-kafka-mock"
[[ -x "$tool" ]] || { echo "FAIL: $tool not built" >&2; exit 1; }
command -v kcat >/dev/null || { echo "FAIL: kcat not installed" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    exec 3>&- 4>&- 2>/dev/null || true
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- cw-kafka-mock stderr:" >&2
    cat "$tmp"/*.err >&2 2>/dev/null || true
    exit 1
}

# Wait (at most 10 s) until file $1 has at least $2 lines.
wait_lines() {
    for _ in $(seq 1 100); do
        [[ -f "$1" && $(wc -l <"$1") -ge $2 ]] && return 0
        sleep 0.1
    done
    return 1
}

# Wait (at most 10 s) for pid $1 to exit; its status is returned.
wait_exit() {
    for _ in $(seq 1 100); do
        if ! kill -0 "$1" 2>/dev/null; then
            local rc=0
            wait "$1" || rc=$?
            return "$rc"
        fi
        sleep 0.1
    done
    fail "pid $1 still running after 10 s"
}

# --- a cluster driven through stdin, stopped by end of input ---------------------------
mkfifo "$tmp/in"
"$tool" --brokers 2 --topic events:3 --topic alerts:1 <"$tmp/in" >"$tmp/out" 2>"$tmp/a.err" &
pid=$!
pids+=("$pid")
exec 3>"$tmp/in"

wait_lines "$tmp/out" 1 || fail "no bootstrap line"
first=$(head -n 1 "$tmp/out")
[[ "$first" =~ ^bootstrap=127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] ||
    fail "first line is not a two-broker bootstrap list: $first"
bootstrap=${first#bootstrap=}

# Produce keyed lines, consume them back: the same set, nothing more.
for i in $(seq 1 50); do echo "acct-$((i % 7)):event-$i"; done >"$tmp/sent"
timeout 20 kcat -P -b "$bootstrap" -t events -K: <"$tmp/sent" || fail "kcat -P failed"
timeout 20 kcat -C -b "$bootstrap" -t events -e -q -f '%k:%s\n' >"$tmp/got" ||
    fail "kcat -C failed"
sort "$tmp/sent" >"$tmp/sent.sorted"
sort "$tmp/got" >"$tmp/got.sorted"
diff -u "$tmp/sent.sorted" "$tmp/got.sorted" >&2 || fail "consumed messages differ from produced"
# Per key, the order is kept (a key maps to one partition).
for k in $(seq 0 6); do
    diff <(grep "^acct-$k:" "$tmp/sent") <(grep "^acct-$k:" "$tmp/got") >&2 ||
        fail "order of key acct-$k not kept"
done

# Fault commands answer one line each, in order.
printf '%s\n' "rtt 1 5" "broker-down 2" "broker-up 2" "leader events 0 2" \
    "errors Produce 1 NOT_LEADER_FOR_PARTITION" "errors 1 2 6" "rtt 1 0" "topic late 2" \
    "no-such-command" "broker-down x" "errors Produce 1 NO_SUCH_ERROR" >&3
wait_lines "$tmp/out" 12 || fail "not every command was answered: $(tail -n +2 "$tmp/out")"
expected=$'ok\nok\nok\nok\nok\nok\nok\nok'
answers=$(sed -n '2,9p' "$tmp/out")
[[ "$answers" == "$expected" ]] || fail "answers: $answers"
[[ $(sed -n '10,12p' "$tmp/out" | grep -c '^error ') -eq 3 ]] || fail "bad commands: $(sed -n '10,12p' "$tmp/out")"

# The cluster still serves after the faults (the pushed errors are retried by kcat).
echo "acct-1:after-faults" | timeout 20 kcat -P -b "$bootstrap" -t alerts -K: ||
    fail "kcat -P after faults failed"
got=$(timeout 20 kcat -C -b "$bootstrap" -t alerts -e -q -f '%k:%s\n') || fail "kcat -C alerts"
[[ "$got" == "acct-1:after-faults" ]] || fail "alerts topic holds: $got"

exec 3>&- # end of input: the tool exits 0
wait_exit "$pid" || fail "exit status $? after end of input"

# --- SIGTERM stops a tool that still has open stdin ---------------------------------------
mkfifo "$tmp/in2"
"$tool" --topic x:1 <"$tmp/in2" >"$tmp/out2" 2>"$tmp/b.err" &
pid2=$!
pids+=("$pid2")
exec 4>"$tmp/in2"
wait_lines "$tmp/out2" 1 || fail "second instance: no bootstrap line"
kill -TERM "$pid2"
wait_exit "$pid2" || fail "exit status $? after SIGTERM"

# --- bad arguments are refused ---------------------------------------------------------------
if "$tool" --topic nopartitions </dev/null >/dev/null 2>&1; then
    fail "--topic without partitions accepted"
fi
echo "PASS"
