#!/usr/bin/env bash
# deploy_systemd.sh - deploy/systemd/churnwatchd.service is a valid, hardened notify unit:
# `systemd-analyze verify` passes on a copy pointed at the built binary (and fails on a
# broken copy), the settings the daemon relies on are present, the Redis and Kafka SASL
# passwords come as credentials the daemon finds in $CREDENTIALS_DIRECTORY, and
# `systemd-analyze security --offline` rates it at or below exposure 2.0.
set -euo pipefail
: "${CW_BUILD_DIR:?}" "${CW_SOURCE_DIR:?}"
UNIT="$CW_SOURCE_DIR/deploy/systemd/churnwatchd.service"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-unit.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed (Debian package systemd)"

mkdir "$WORK/ok" "$WORK/bad"
sed -e "s|/usr/bin/churnwatchd|$CW_BUILD_DIR/daemon/churnwatchd|g" "$UNIT" >"$WORK/ok/churnwatchd.service"
grep -q "^ExecStart=$CW_BUILD_DIR/daemon/churnwatchd " "$WORK/ok/churnwatchd.service" ||
  fail "ExecStart is no longer /usr/bin/churnwatchd"
# --man=no: the man page in Documentation= is only there once installed
systemd-analyze verify --man=no "$WORK/ok/churnwatchd.service" 2>"$WORK/verify.txt" || {
  cat "$WORK/verify.txt" >&2
  fail "systemd-analyze verify"
}
[ ! -s "$WORK/verify.txt" ] || { cat "$WORK/verify.txt" >&2; fail "systemd-analyze verify warned"; }
pass "systemd-analyze verify: clean"

# the check can fail: a misspelt directive and a missing binary are caught
sed -e 's/^WatchdogSec=/WatchdogSecs=/' -e "s|$CW_BUILD_DIR/daemon/churnwatchd -c|/nonexistent/churnwatchd -c|" \
  "$WORK/ok/churnwatchd.service" >"$WORK/bad/churnwatchd.service"
if systemd-analyze verify --man=no "$WORK/bad/churnwatchd.service" >"$WORK/bad.txt" 2>&1; then
  fail "systemd-analyze verify accepted a broken unit"
fi
grep -q WatchdogSecs "$WORK/bad.txt" || { cat "$WORK/bad.txt" >&2; fail "the misspelt directive was not reported"; }
pass "a broken copy is rejected"

for want in '^Type=notify$' '^WatchdogSec=' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
  '^Restart=on-failure$' '^DynamicUser=yes$' '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' \
  '^CapabilityBoundingSet=$' '^TimeoutStopSec=' '^EnvironmentFile=-/etc/churnwatch/'; do
  grep -qE -- "$want" "$UNIT" || fail "the unit lacks $want"
done
# the stop bound is above the daemon's own (cw_options.shutdown_timeout_ms in main.c,
# spent at most twice: consumer close, producer flush)
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$UNIT")
bound_ms=$(sed -n 's/.*\.shutdown_timeout_ms = \([0-9]*\),.*/\1/p' "$CW_SOURCE_DIR/daemon/churnwatchd/main.c")
[ -n "$stop_s" ] && [ -n "$bound_ms" ] || fail "cannot read TimeoutStopSec or shutdown_timeout_ms"
[ $((stop_s * 1000)) -gt $((2 * bound_ms)) ] ||
  fail "TimeoutStopSec=${stop_s}s is not above 2 x shutdown_timeout_ms (${bound_ms} ms)"
pass "notify, watchdog, reload, restart, sandbox settings present; stop bound ${stop_s}s > 2 x ${bound_ms} ms"

# Secrets as credentials: each LoadCredential= has a SetCredential= default (so a missing
# /etc/credstore file does not fail the start) and the _FILE variable naming it. Then the
# daemon's check mode is run as systemd would run it: a credentials directory holding the
# defaults (unescaped) loads (an empty secret is unset), and a real password is read.
CREDS="$WORK/credentials"
mkdir -m 0700 "$CREDS"
creds=$(sed -n 's/^LoadCredential=\([^:]*\)$/\1/p' "$UNIT")
[ "$(wc -w <<<"$creds")" -eq 2 ] || fail "want 2 LoadCredential= lines (Redis, Kafka SASL), got: $creds"
envs=()
for id in $creds; do
  def=$(sed -n "s/^SetCredential=$id:\(.*\)\$/\1/p" "$UNIT")
  [ -n "$def" ] || fail "LoadCredential=$id has no SetCredential= default: a missing file would fail the start"
  printf '%b' "$def" >"$CREDS/$id"
  chmod 0400 "$CREDS/$id"
  var=$(sed -n "s/^Environment=\(CHURNWATCH_[A-Z_]*_FILE\)=$id\$/\1/p" "$UNIT")
  [ -n "$var" ] || fail "no Environment=CHURNWATCH_..._FILE=$id"
  envs+=("$var=$id")
done
printf '%s\n' "${envs[@]}" | grep -x 'CHURNWATCH_REDIS_PASSWORD_FILE=churnwatch.redis-password' >/dev/null &&
  printf '%s\n' "${envs[@]}" | grep -x 'CHURNWATCH_KAFKA_SASL_PASSWORD_FILE=churnwatch.kafka-sasl-password' >/dev/null ||
  fail "the credentials are not the Redis and Kafka SASL passwords: ${envs[*]}"
CONF="$WORK/churnwatch.yaml"
cp "$CW_SOURCE_DIR/conf/churnwatch.yaml" "$CONF"
chmod 0644 "$CONF" # no secret in it: world-readable, as DynamicUser needs
env CREDENTIALS_DIRECTORY="$CREDS" "${envs[@]}" "$CW_BUILD_DIR/daemon/churnwatchd" -c "$CONF" --check-config \
  >"$WORK/check.txt" 2>&1 || { cat "$WORK/check.txt" >&2; fail "--check-config with the unit's default credentials"; }
rm -f "$CREDS/churnwatch.redis-password"
env CREDENTIALS_DIRECTORY="$CREDS" "${envs[@]}" "$CW_BUILD_DIR/daemon/churnwatchd" -c "$CONF" --check-config \
  >"$WORK/check.txt" 2>&1 && fail "--check-config accepted a missing credential"
grep -q "CHURNWATCH_REDIS_PASSWORD_FILE: $CREDS/churnwatch.redis-password: No such file" "$WORK/check.txt" ||
  { cat "$WORK/check.txt" >&2; fail "a missing credential is not named"; }
pass "credentials: $(wc -w <<<"$creds") LoadCredential= with SetCredential= defaults and _FILE variables; --check-config passes with the defaults"

systemd-analyze security --offline=true --threshold=20 --no-pager "$WORK/ok/churnwatchd.service" \
  >"$WORK/security.txt" 2>&1 || { cat "$WORK/security.txt" >&2; fail "exposure above 2.0"; }
pass "$(grep -o 'Overall exposure level.*' "$WORK/security.txt")"
