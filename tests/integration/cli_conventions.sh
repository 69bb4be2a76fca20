#!/usr/bin/env bash
# cli_conventions.sh - the churnwatch CLI as an operator meets it (docs/operations.md, "The
# CLI"): -h/--help on every command, -c/--config, `rescore` with and without a daemon,
# `produce` refusing the daemon's own topics and lines that are not JSON objects, `top`'s
# counts, --all and its errors for an unknown grade or segment, the silence checks (unknown
# account, max_silence, what a re-silence replaced, unsilence of nothing), `silences --json`,
# JSON numbers as the alert schema prints them, and a DLQ reason a person can read.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its scores never vary

# expect_fail CODE WHAT PATTERN CMD...: CMD exits CODE and its stderr matches PATTERN (ERE).
expect_fail() {
  local code=$1 what=$2 pattern=$3 rc=0
  shift 3
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  [ "$rc" = "$code" ] || fail "$what: exit $rc, not $code: $(cat "$WORK/err.txt")"
  grep -qE -- "$pattern" "$WORK/err.txt" || fail "$what: stderr lacks /$pattern/: $(cat "$WORK/err.txt")"
}

# --help on every command: usage on stdout, nothing on stderr, exit 0.
COMMANDS=$("$CLI" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p')
[ "$(echo "$COMMANDS" | wc -l)" -ge 10 ] || fail "cannot read the commands from churnwatch --help"
for cmd in $COMMANDS; do
  for flag in -h --help; do
    # the config does not exist: help must not need it
    "$CLI" -c "$WORK/absent.yaml" "$cmd" "$flag" >"$WORK/help.txt" 2>"$WORK/help.err" ||
      fail "churnwatch $cmd $flag exits $?"
    grep -q "usage: churnwatch.* $cmd" "$WORK/help.txt" || fail "churnwatch $cmd $flag: no usage on stdout"
    [ ! -s "$WORK/help.err" ] || fail "churnwatch $cmd $flag wrote to stderr: $(cat "$WORK/help.err")"
  done
done
pass "-h and --help of every command ($(echo $COMMANDS))"

redis_start
mock_start 1
topic_create scratch
CFG="$WORK/cw.yaml"
write_config "$CFG"

# -c and --config, as churnwatchd spells them
for spelling in "-c $CFG" "--config $CFG" "--config=$CFG"; do
  # shellcheck disable=SC2086
  "$CLI" $spelling check-config >/dev/null || fail "churnwatch $spelling check-config"
done
"$DAEMON" --config "$CFG" --check-config >/dev/null || fail "churnwatchd --config"
pass "-c PATH, --config PATH and --config=PATH on both binaries"

# rescore before any daemon ran: the request waits, and the CLI says so
cli -c "$CFG" rescore >"$WORK/rescore.txt" || fail "churnwatch rescore without a daemon"
grep -q "no daemon has polled the store.*waits an hour" "$WORK/rescore.txt" ||
  fail "rescore without a daemon: $(cat "$WORK/rescore.txt")"
[ "$(cli -c "$CFG" rescore --json | jq -c .)" = '{"requested":true,"daemon_alive":false}' ] ||
  fail "rescore --json without a daemon: $(cli -c "$CFG" rescore --json)"
pass "rescore without a daemon says the request waits for one"

# produce: not to the daemon's own topics, not a line that is not a JSON object
echo '{"account_id":"a","type":"login","ts":0}' >"$WORK/one.jsonl"
expect_fail 1 "produce to the alerts topic" "is the alert topic.*--force" \
  cli -c "$CFG" produce "$WORK/one.jsonl" --topic churnwatch-alerts
expect_fail 1 "produce to the DLQ topic" "is the DLQ topic.*--force" \
  cli -c "$CFG" produce "$WORK/one.jsonl" --topic usage-events-dlq
cp "$CFG" "$WORK/feed.yaml"
printf '\nscores:\n  topic: churnwatch-scores\n' >>"$WORK/feed.yaml"
expect_fail 1 "produce to the score feed's topic" "is the score feed topic.*--force" \
  cli -c "$WORK/feed.yaml" produce "$WORK/one.jsonl" --topic churnwatch-scores
printf '%s\n' '{"n":1}' 'not json' '{"n":3}' >"$WORK/mixed.jsonl"
expect_fail 1 "produce of a line that is not JSON" "line 2 is not a JSON object.*1 sent before it" \
  cli -c "$CFG" produce "$WORK/mixed.jsonl" --topic scratch
[ "$(topic_dump scratch)" = '{"n":1}' ] || fail "produce sent more than the lines before the bad one: $(topic_dump scratch)"
printf '%s\n' '[1]' >"$WORK/array.jsonl"
expect_fail 1 "produce of a JSON array" "line 1 is not a JSON object" \
  cli -c "$CFG" produce "$WORK/array.jsonl" --topic scratch
cli -c "$CFG" produce "$WORK/mixed.jsonl" --topic scratch --force 2>/dev/null ||
  fail "produce --force of a line that is not JSON"
[ "$(topic_dump scratch | wc -l)" = 4 ] || fail "produce --force: scratch holds $(topic_dump scratch | wc -l) messages, not 4"
pass "produce refuses the alert, DLQ and score feed topics and non-object lines unless --force"

# Three scored accounts, one without seats (not scored), one event far too late (DLQ).
"$CLI" gen --end "$TEST_NOW" --fates healthy=3 --days 35 --prefix cc- -o "$WORK/events.jsonl" ||
  fail "churnwatch gen"
NOW=$(now_ms)
jq -cn --argjson ts $((NOW - 86400000)) '{account_id: "noseats", user_id: "u1", type: "login", ts: $ts}' \
  >>"$WORK/events.jsonl"
echo '{"account_id":"late","user_id":"u1","type":"login","ts":"2020-01-01T00:00:00Z"}' >>"$WORK/events.jsonl"
cli -c "$CFG" produce "$WORK/events.jsonl" --key account 2>/dev/null || fail "churnwatch produce"
run_daemon "$CFG" "$WORK/daemon.log"
counts() { cli -c "$CFG" top --all --json | jq -c '[.scored, .not_scored, .shown]'; }
counts_are() { [ "$(counts)" = "$1" ]; }
wait_for 120 counts_are "[3,1,3]" || fail "top --all --json counts: $(counts), not [3,1,3]"
cli -c "$CFG" top --all --json >"$WORK/top.json" || fail "top --all --json"
[ "$(jq '.accounts | length' "$WORK/top.json")" = 3 ] || fail "top --all --json: not 3 accounts"
cli -c "$CFG" top --limit 1 >"$WORK/top.txt" 2>"$WORK/top.err" || fail "top --limit 1"
[ "$(wc -l <"$WORK/top.txt")" = 2 ] || fail "top --limit 1 shows: $(cat "$WORK/top.txt")"
grep -q "^3 scored, 1 shown, 1 not yet scored (--limit reached; --all shows every one)$" "$WORK/top.err" ||
  fail "top --limit 1 summary: $(cat "$WORK/top.err")"
pass "top says what it left out (scored, shown, not yet scored) and --all shows every one"

expect_fail 1 "top --grade Z" "unknown grade 'Z'; grades: A B C D$" cli -c "$CFG" top --grade Z
expect_fail 1 "top --segment nosuch" "unknown segment 'nosuch'; configured segments: .*; segments of scored accounts:" \
  cli -c "$CFG" top --segment nosuch
cli -c "$CFG" top --grade A >/dev/null 2>&1 || fail "top --grade A (a configured grade)"
pass "an unknown grade or segment is an error listing the valid ones"

# JSON numbers: at most two decimals, as in the alerts; never 0.17000000000000001
ID=$(jq -r '.accounts[0].account_id' "$WORK/top.json")
cli -c "$CFG" account "$ID" --json >"$WORK/account.json" || fail "account --json"
for f in "$WORK/top.json" "$WORK/account.json"; do
  # outside strings (times carry milliseconds), as the CLI printed them
  if sed -E 's/"([^"\\]|\\.)*"/""/g' "$f" | grep -nE '[0-9]\.[0-9]{3,}' >&2; then
    fail "$(basename "$f"): a number with more than 2 decimals"
  fi
done
jq -e '[.. | numbers | select(. != floor)] | length > 0' "$WORK/account.json" >/dev/null ||
  fail "account --json has no fractional number: the check above proves nothing"
pass "JSON numbers are rounded as the alert schema's (2 decimals)"

# the daemon polls for rescore requests: its heartbeat is there, and rescore says so
alive() { [ "$(rcli EXISTS cw:alive)" = 1 ]; }
wait_for 30 alive || fail "no cw:alive heartbeat with a daemon running"
cli -c "$CFG" rescore >"$WORK/rescore.txt" || fail "churnwatch rescore"
grep -q "^rescore requested: the running daemon rescores" "$WORK/rescore.txt" ||
  fail "rescore with a daemon: $(cat "$WORK/rescore.txt")"
[ "$(cli -c "$CFG" rescore --json | jq -c .)" = '{"requested":true,"daemon_alive":true}' ] ||
  fail "rescore --json with a daemon: $(cli -c "$CFG" rescore --json)"
pass "rescore with a live daemon (cw:alive) says it takes the request"

# silences
expect_fail 1 "silence longer than max_silence" "--for 91d is longer than max_silence \(90d\)" \
  cli -c "$CFG" silence "$ID" --for 91d --reason "too long"
expect_fail 0 "silence of an account never seen" "warning: the store has never seen account 'nobody'" \
  cli -c "$CFG" silence nobody --for 1d --reason typo
grep -q "^silenced nobody (all rules) until" "$WORK/out.txt" || fail "silence nobody: $(cat "$WORK/out.txt")"
cli -c "$CFG" silence "$ID" --for 1d --reason "first call" >"$WORK/s1.txt" 2>"$WORK/s1.err" || fail "silence"
[ ! -s "$WORK/s1.err" ] || fail "silence of a known account warned: $(cat "$WORK/s1.err")"
! grep -q replaced "$WORK/s1.txt" || fail "a first silence says it replaced one"
cli -c "$CFG" silence "$ID" --for 2d --reason "second call" >"$WORK/s2.txt" || fail "re-silence"
grep -q "^  replaced the silence until .*: first call$" "$WORK/s2.txt" || fail "re-silence: $(cat "$WORK/s2.txt")"
cli -c "$CFG" silence "$ID" --for 3d --reason "third call" --json >"$WORK/s3.json" || fail "silence --json"
jq -e --arg id "$ID" '.silence.account_id == $id and .silence.reason == "third call" and .silence.rule == null
  and (.replaced | length) == 1 and .replaced[0].reason == "second call" and .account_seen == true' \
  "$WORK/s3.json" >/dev/null || fail "silence --json: $(cat "$WORK/s3.json")"
cli -c "$CFG" silence "$ID" --for 2d --reason "second call" >/dev/null || fail "re-silence"
cli -c "$CFG" silences --json >"$WORK/silences.json" || fail "silences --json"
jq -e --arg id "$ID" '[.[] | select(.account_id == $id)] | length == 1 and .[0].reason == "second call"
  and .[0].rule == null' "$WORK/silences.json" >/dev/null || fail "silences --json: $(cat "$WORK/silences.json")"
expect_fail 1 "unsilence of a rule not silenced" "has no active silence \(health_low\): nothing to lift" \
  cli -c "$CFG" unsilence "$ID" --rule health_low
cli -c "$CFG" unsilence "$ID" >"$WORK/u.txt" || fail "unsilence"
grep -q "1 silence lifted" "$WORK/u.txt" || fail "unsilence: $(cat "$WORK/u.txt")"
cli -c "$CFG" unsilence nobody --json >"$WORK/u.json" || fail "unsilence --json"
[ "$(jq -c . "$WORK/u.json")" = '{"account_id":"nobody","rule":null,"lifted":1}' ] ||
  fail "unsilence --json: $(cat "$WORK/u.json")"
expect_fail 1 "unsilence of nothing" "has no active silence \(any rule\): nothing to lift" \
  cli -c "$CFG" unsilence "$ID"
pass "silence: max_silence, a warning for an unknown account, what a re-silence replaced; unsilence of nothing; --json of silence, silences and unsilence"

# the too_late event's DLQ reason reads as instants and days
wait_for 60 sh -c "kcat -C -b '$BOOTSTRAP' -t usage-events-dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep too_late >/dev/null" ||
  fail "no too_late event in the DLQ"
reason=$(topic_dump_headers usage-events-dlq | grep too_late | grep -o 'churnwatch-reason=[^,	]*')
echo "$reason" | grep -E '^churnwatch-reason=ts 2020-01-01T00:00:00Z is [0-9]+d [0-9]+h before the oldest accepted [0-9T:-]+(\.[0-9]+)?Z \(clock .* less longest window 28d and lateness 2d\)$' >/dev/null ||
  fail "too_late reason: $reason"
pass "DLQ reasons give instants and durations a person can read"
