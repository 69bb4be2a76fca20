#!/usr/bin/env bash
# daemon_notify.sh - churnwatchd speaks systemd's notify protocol: a unix datagram socket
# given as NOTIFY_SOCKET (with WATCHDOG_USEC) receives STATUS= lines while Redis is down,
# READY=1 only once the daemon consumes (partitions assigned), WATCHDOG=1 repeatedly (also
# while waiting for Redis), RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary
T_START=$SECONDS

grep -q '^#define CW_HAVE_SYSTEMD\|CW_HAVE_SYSTEMD' "$CW_BUILD_DIR/compile_commands.json" ||
  fail "the build does not use libsystemd (install libsystemd-dev): nothing to test"

# The listener: one line per datagram, its fields joined by '|'.
SOCK="$WORK/notify.sock"
NOTES="$WORK/notify.txt"
python3 - "$SOCK" "$NOTES" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(4096).decode("utf-8", "replace")
        out.write(data.strip("\n").replace("\n", "|") + "\n")
PY
PIDS+=("$!")
wait_for 10 test -S "$SOCK" || fail "notify listener did not start"

notes() { grep -c -- "$1" "$NOTES" || true; }
wait_note() { # wait_note PATTERN COUNT SECONDS
  local end=$((SECONDS + $3))
  until [ "$(notes "$1")" -ge "$2" ]; do
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited while waiting for '$1' (#$2)"
    [ $SECONDS -lt $end ] || { cat "$NOTES" >&2; fail "no '$1' (#$2) on the notify socket in $3s"; }
    sleep 0.1
  done
}

# Redis is not up yet: the daemon must say so and not be READY.
REDIS_PORT=$(free_port)
mock_start 2
CFG="$WORK/cw.yaml"
write_config "$CFG"
NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=1000000 daemon_start "$CFG"
wait_note 'STATUS=Redis unavailable' 1 30
w0=$(notes '^WATCHDOG=1$')
wait_note '^WATCHDOG=1$' $((w0 + 2)) 20
[ "$(notes 'READY=1')" -eq 0 ] || fail "READY=1 sent while Redis is down"
pass "Redis down: 'STATUS=Redis unavailable…', WATCHDOG=1 keeps coming, no READY=1"

redis_start
wait_note '^READY=1' 1 60
grep -q 'msg="kafka partitions assigned"' "$WORK/daemon.log" ||
  fail "READY=1 before the partitions were assigned"
[ "$(notes '^READY=1')" -eq 1 ] || fail "more than one READY=1 at startup"
grep -q '^READY=1|STATUS=consuming' "$NOTES" || fail "READY=1 without a 'consuming' STATUS="
[ "$(notes '^STATUS=waiting for a Kafka partition assignment')" -ge 1 ] ||
  fail "no STATUS= while waiting for the assignment"
w1=$(notes '^WATCHDOG=1$')
wait_note '^WATCHDOG=1$' $((w1 + 3)) 20
pass "READY=1 after 'kafka partitions assigned'; WATCHDOG=1 repeats while consuming"

# The daemon consumes after READY: a few events are processed.
"$CLI" gen --end "$TEST_NOW" --fates healthy=1 -o "$WORK/events.jsonl" >/dev/null || fail "churnwatch gen"
n=$(wc -l <"$WORK/events.jsonl")
cli -c "$CFG" produce "$WORK/events.jsonl" >/dev/null 2>"$WORK/produce.log" || fail "churnwatch produce"
wait_processed "$n" 60
pass "consumed $n events after READY=1"

# SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1, in that order.
kill -HUP "$DAEMON_PID"
wait_note '^RELOADING=1|MONOTONIC_USEC=[0-9]' 1 20
wait_note '^READY=1' 2 20
r=$(grep -n '^RELOADING=1' "$NOTES" | sed -n 1p | cut -d: -f1)
y=$(grep -n '^READY=1' "$NOTES" | sed -n 2p | cut -d: -f1)
[ "$r" -lt "$y" ] || fail "READY=1 did not follow RELOADING=1"
grep -q '^READY=1|STATUS=consuming; configuration reloaded' "$NOTES" ||
  fail "no 'configuration reloaded' STATUS= with the second READY=1"
# a broken config: RELOADING=1, READY=1 again, and the status says the reload failed
echo 'alerts: [' >>"$CFG"
kill -HUP "$DAEMON_PID"
wait_note '^READY=1' 3 20
grep -q '^READY=1|STATUS=consuming; the last reload failed' "$NOTES" ||
  fail "a failed reload did not end in READY=1 with a 'reload failed' STATUS="
[ "$(notes '^RELOADING=1')" -eq 2 ] || fail "expected 2 RELOADING=1, got $(notes '^RELOADING=1')"
pass "SIGHUP: RELOADING=1 then READY=1, for a good and for a broken config"

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "SIGTERM: exit code $rc"
wait_for 5 grep -q '^STOPPING=1' "$NOTES" || fail "no STOPPING=1 at SIGTERM"
last=$(tail -n1 "$NOTES")
case $last in STOPPING=1*) ;; *) fail "datagrams after STOPPING=1: '$last'" ;; esac
pass "SIGTERM: STOPPING=1 and nothing after it"
pass "total $((SECONDS - T_START))s"
