#!/usr/bin/env bash
# check_config.sh - `churnwatch check-config` and `churnwatchd --check-config` accept the
# shipped config and reject broken ones with file:line:col lines and exit status 1.
set -uo pipefail
: "${CW_BUILD_DIR:?}" "${CW_SOURCE_DIR:?}"
cli=$CW_BUILD_DIR/daemon/churnwatch
daemon=$CW_BUILD_DIR/daemon/churnwatchd
conf=$CW_SOURCE_DIR/conf/churnwatch.yaml
data=$CW_SOURCE_DIR/tests/data/config
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run NAME WANT_RC CMD...: run CMD, keep stdout/stderr in $tmp, check the exit status.
run() {
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, want $want"
    sed 's/^/  stdout: /' "$tmp/out" >&2
    sed 's/^/  stderr: /' "$tmp/err" >&2
  fi
}

# expect_line NAME FILE LINE: FILE (out or err) has exactly this line.
expect_line() {
  if ! grep -qxF -- "$3" "$tmp/$2"; then
    fail "$1: no line '$3' in std$2"
    sed 's/^/  got: /' "$tmp/$2" >&2
  fi
}

expect_lines() {
  local got
  got=$(wc -l <"$tmp/$2")
  [ "$got" -eq "$3" ] || fail "$1: $got lines on std$2, want $3"
}

# The shipped config is valid, with the CLI and the daemon, with and without -c.
run "cli ok" 0 env -u CHURNWATCH_LOG_LEVEL "$cli" check-config "$conf"
expect_line "cli ok" out "$conf: ok (8 rules, 11 measures in 3 components, 11 event types, 11 metrics, 2 windows, 3 segments, timezone UTC)"
expect_lines "cli ok" err 0
run "cli -c" 0 "$cli" -c "$conf" check-config --no-env
grep -q "^$conf: ok " "$tmp/out" || fail "cli -c: no ok line"
run "daemon ok" 0 "$daemon" -c "$conf" --check-config
grep -q "^$conf: ok " "$tmp/out" || fail "daemon ok: no ok line"
run "daemon -n" 0 "$daemon" -n -c "$conf"

# Broken files: every error, each as file:line:col: message, on stderr; nothing on stdout.
f=$data/bad_thresholds.yaml
for cmd in "$cli check-config $f" "$daemon -c $f --check-config"; do
  run "$cmd" 1 $cmd
  expect_line "$cmd" err "$f:13:7: alerts.rules[0].exit: must be above enter (40) for score_below"
  expect_line "$cmd" err "$f:17:7: alerts.rules[1].exit_points: must be below points (20)"
  expect_lines "$cmd" err 2
  expect_lines "$cmd" out 0
done

f=$data/bad_references.yaml
run "references" 1 "$cli" check-config "$f"
expect_line "references" err "$f:13:11: score.components.usage.measures[0].window: unknown window 'month'; windows: short, long"
expect_line "references" err "$f:17:41: alerts.rules[0].milestone: unknown event type 'app_created'; event types: login"
expect_line "references" err "$f:18:43: alerts.rules[1].metric: unknown metric 'seats'; metrics: active_users, logins"
expect_line "references" err "$f:22:7: segments.L.rules.health_low: unknown rule 'health_low'; rules: stalled, underuse"
expect_lines "references" err 4

f=$data/unknown_key.yaml
run "unknown key" 1 "$cli" check-config "$f"
expect_line "unknown key" err "$f:5:3: unknown key 'brokerz' in kafka; valid keys: brokers, group_id, topics, alerts_topic, dlq_topic, properties"

f=$data/tab_indent.yaml
run "tab" 1 "$daemon" --check-config -c "$f"
grep -q "^$f:4:1: invalid YAML: found a tab character" "$tmp/err" ||
  fail "tab: no libyaml error at 4:1"

# The score feed's keys: each error at its file:line:col, with the CLI and the daemon.
printf 'score:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\nscores:\n  topic: churnwatch-alerts\n  step: 0\n  stepp: 1\n' >"$tmp/scores.yaml"
for cmd in "$cli check-config $tmp/scores.yaml" "$daemon -c $tmp/scores.yaml --check-config"; do
  run "$cmd" 1 $cmd
  expect_line "$cmd" err "$tmp/scores.yaml:6:3: scores.step: 0 is out of range: must be above 0 and at most 100"
  expect_line "$cmd" err "$tmp/scores.yaml:7:3: unknown key 'stepp' in scores; valid keys: topic, step"
  expect_lines "$cmd" err 2
  expect_lines "$cmd" out 0
done
sed -i -e '/^  stepp: 1$/d' -e 's/^  step: 0$/  step: 2.5/' "$tmp/scores.yaml"
run "scores topic" 1 "$cli" check-config "$tmp/scores.yaml"
expect_line "scores topic" err "$tmp/scores.yaml:5:3: scores.topic: must differ from kafka.alerts_topic"
expect_lines "scores topic" err 1
sed -i 's/^  topic: churnwatch-alerts$/  topic: churnwatch-scores/' "$tmp/scores.yaml"
run "scores ok" 0 "$cli" check-config "$tmp/scores.yaml"

# Environment overrides are validated and named.
run "env" 1 env CHURNWATCH_LOG_LEVEL=loud "$cli" check-config "$conf"
expect_line "env" err "CHURNWATCH_LOG_LEVEL: invalid value 'loud' (environment override); valid values: error, warn, info, debug"
run "no-env" 0 env CHURNWATCH_LOG_LEVEL=loud "$cli" check-config --no-env "$conf"

# Secrets in a bad URL are not echoed.
printf 'redis:\n  url: "http://u:s3cret@db"\nscore:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n' >"$tmp/secret.yaml"
run "secret" 1 "$cli" check-config "$tmp/secret.yaml"
grep -q "^$tmp/secret.yaml:2:3: redis.url: unsupported URL scheme" "$tmp/err" || fail "secret: no url error"
grep -q s3cret "$tmp/err" && fail "secret: the password was printed"

# A valid file holding a secret is refused while group/world-readable, loads at 0600.
printf 'redis:\n  url: "redis://app:s3cret@127.0.0.1:6379/0"\nscore:\n  components:\n    c: {measures: [{name: m, metric: active_users, window: short, target: 1}]}\n' >"$tmp/private.yaml"
chmod 644 "$tmp/private.yaml"
run "secret mode" 1 "$cli" check-config "$tmp/private.yaml"
expect_line "secret mode" err "$tmp/private.yaml: holds a secret (redis.url has a password) but is readable by everyone (mode 0644): run chmod 600 on it, or move the secret out of the file (redis.password_file, CHURNWATCH_REDIS_PASSWORD)"
grep -q s3cret "$tmp/err" && fail "secret mode: the password was printed"
chmod 600 "$tmp/private.yaml"
run "secret private" 0 "$cli" check-config "$tmp/private.yaml"

# Missing file, usage errors, --help and --version.
run "missing" 1 "$cli" check-config "$tmp/nope.yaml"
expect_line "missing" err "$tmp/nope.yaml: cannot open: No such file or directory"
run "default path" 1 "$cli" -c "$tmp/nope.yaml" check-config
expect_line "default path" err "$tmp/nope.yaml: cannot open: No such file or directory"
run "two files" 1 "$cli" check-config "$conf" "$conf"
run "bad option" 1 "$cli" check-config --bogus "$conf"
run "no command" 1 "$cli"
run "unknown command" 1 "$cli" frobnicate
run "daemon bad option" 1 "$daemon" --bogus
run "cli help" 0 "$cli" --help
grep -q "check-config" "$tmp/out" || fail "cli help: check-config not listed"
run "cli version" 0 "$cli" --version
grep -qE '^churnwatch [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "cli version: bad output"
run "daemon help" 0 "$daemon" --help
grep -q -- "--check-config" "$tmp/out" || fail "daemon help: --check-config not listed"

if [ "$failures" -ne 0 ]; then
  echo "check_config: $failures failure(s)" >&2
  exit 1
fi
echo "check_config: all passed"
