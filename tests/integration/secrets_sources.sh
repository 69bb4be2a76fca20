#!/usr/bin/env bash
# secrets_sources.sh - secrets kept out of the config file (docs/configuration.md "Secrets"),
# with the real CLI and daemon, a redis-server with requirepass and the mock Kafka cluster:
#   1. the Redis password from redis.password_file, CHURNWATCH_REDIS_PASSWORD, and a systemd
#      credential ($CREDENTIALS_DIRECTORY, as the shipped unit passes it): the CLI reads
#      Redis with each, and fails without; the config stays world-readable (0644);
#   2. check-config: a missing secret file is reported at the key's file:line:col, a
#      world-readable or group-writable one is refused, a relative path outside systemd too;
#   3. the daemon authenticates to Redis with the password from a credential, and a SASL
#      password from the environment reaches librdkafka (the mock has no SASL: librdkafka
#      reports the failed handshake, with debug logging of the security layer on);
#   and no password ever appears in any output.
source "$(dirname "$0")/harness.bash"

T_START=$SECONDS
REDIS_PW="Pw-redis-5be1c4"
SASL_PW="Pw-sasl-0d93a7"
redis_start --requirepass "$REDIS_PW"
mock_start 2

SECRETS="$WORK/secrets"
CREDS="$WORK/credentials" # what systemd's LoadCredential= gives the service
mkdir -m 0700 "$SECRETS" "$CREDS"
printf '%s\n' "$REDIS_PW" >"$SECRETS/redis-password"
chmod 0600 "$SECRETS/redis-password"
printf '%s' "$REDIS_PW" >"$CREDS/churnwatch.redis-password"
chmod 0400 "$CREDS/churnwatch.redis-password"
printf '\n' >"$CREDS/churnwatch.kafka-sasl-password" # the unit's SetCredential= default
chmod 0400 "$CREDS/churnwatch.kafka-sasl-password"

# The shipped config at our servers: no secret in it, so it may stay world-readable.
CFG="$WORK/cw.yaml"
write_config "$CFG" "s|^  url: redis://127.0.0.1:6379/0\$|  url: redis://127.0.0.1:$REDIS_PORT/0|"
chmod 0644 "$CFG"
CFG_FILE="$WORK/cw-file.yaml"
sed "s|^  # password_file: /etc/churnwatch/redis-password\$|  password_file: $SECRETS/redis-password|" \
  "$CFG" >"$CFG_FILE"
chmod 0644 "$CFG_FILE"
grep -q "^  password_file: $SECRETS/redis-password\$" "$CFG_FILE" || fail "could not edit $CFG_FILE"
# its line:col, for the errors below
PF_LINE=$(grep -n '^  password_file: ' "$CFG_FILE" | cut -d: -f1)

# leaked FILE...: fail if any planted password is in a file
leaked() {
  local f
  for f in "$@"; do
    ! grep -qF -e "$REDIS_PW" -e "$SASL_PW" "$f" || fail "a password appears in $f"
  done
}
# cli_run NAME WANT_RC [ENV=VALUE...] -- ARGS...: the CLI with only the variables given
cli_run() {
  local name=$1 want=$2 rc=0
  shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env -u CHURNWATCH_REDIS_URL -u CHURNWATCH_REDIS_PASSWORD -u CHURNWATCH_REDIS_PASSWORD_FILE \
    -u CREDENTIALS_DIRECTORY "${envs[@]}" "$CLI" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  leaked "$WORK/$name.out" "$WORK/$name.err"
  [ "$rc" -eq "$want" ] || {
    sed 's/^/  /' "$WORK/$name.out" "$WORK/$name.err" >&2
    fail "$name: exit $rc, want $want"
  }
}

# ---- 1. the Redis password from each source --------------------------------------------------

cli_run none 2 -- -c "$CFG" top
grep -q 'NOAUTH' "$WORK/none.err" || fail "without a password: no NOAUTH error ($(cat "$WORK/none.err"))"
cli_run file 0 -- -c "$CFG_FILE" top
cli_run env 0 CHURNWATCH_REDIS_PASSWORD="$REDIS_PW" -- -c "$CFG" top
cli_run cred 0 CREDENTIALS_DIRECTORY="$CREDS" CHURNWATCH_REDIS_PASSWORD_FILE=churnwatch.redis-password \
  -- -c "$CFG" top
cli_run wrong 2 CHURNWATCH_REDIS_PASSWORD=not-it -- -c "$CFG_FILE" top
grep -q 'WRONGPASS\|invalid password' "$WORK/wrong.err" ||
  fail "the environment did not override the file ($(cat "$WORK/wrong.err"))"
pass "Redis password from password_file, CHURNWATCH_REDIS_PASSWORD, a credential; NOAUTH without; env overrides the file"

# ---- 2. check-config -------------------------------------------------------------------------

cli_run check-file 0 -- check-config "$CFG_FILE"
grep -q "^$CFG_FILE: ok " "$WORK/check-file.out" || fail "check-config: no ok line"
mv "$SECRETS/redis-password" "$SECRETS/moved"
cli_run check-missing 1 -- check-config "$CFG_FILE"
grep -qxF "$CFG_FILE:$PF_LINE:3: redis.password_file: $SECRETS/redis-password: No such file or directory" \
  "$WORK/check-missing.err" || { cat "$WORK/check-missing.err" >&2; fail "missing file: no file:line:col error"; }
mv "$SECRETS/moved" "$SECRETS/redis-password"
chmod 0644 "$SECRETS/redis-password"
cli_run check-0644 1 -- check-config "$CFG_FILE"
grep -qF "$CFG_FILE:$PF_LINE:3: redis.password_file: $SECRETS/redis-password: readable by everyone (mode 0644)" \
  "$WORK/check-0644.err" || { cat "$WORK/check-0644.err" >&2; fail "a 0644 secret file was not refused"; }
chmod 0620 "$SECRETS/redis-password"
cli_run check-0620 1 -- check-config "$CFG_FILE"
grep -qF "redis.password_file: $SECRETS/redis-password: writable by its group (mode 0620)" \
  "$WORK/check-0620.err" || { cat "$WORK/check-0620.err" >&2; fail "a group-writable secret file was not refused"; }
chmod 0640 "$SECRETS/redis-password" # group-readable: a Secret volume with fsGroup, a service group
cli_run check-0640 0 -- check-config "$CFG_FILE"
chmod 0600 "$SECRETS/redis-password"
# the daemon's check mode, and a credential name outside systemd
sed -i "s|^  password_file: .*|  password_file: churnwatch.redis-password|" "$CFG_FILE"
env -u CREDENTIALS_DIRECTORY "$DAEMON" -c "$CFG_FILE" --check-config >"$WORK/dcheck.out" 2>"$WORK/dcheck.err" &&
  fail "churnwatchd --check-config accepted a credential name without \$CREDENTIALS_DIRECTORY"
grep -qF "$CFG_FILE:$PF_LINE:3: redis.password_file: 'churnwatch.redis-password' names a systemd credential but \$CREDENTIALS_DIRECTORY is not set" \
  "$WORK/dcheck.err" || { cat "$WORK/dcheck.err" >&2; fail "credential name without \$CREDENTIALS_DIRECTORY"; }
CREDENTIALS_DIRECTORY="$CREDS" "$DAEMON" -c "$CFG_FILE" --check-config >"$WORK/dcheck.out" 2>"$WORK/dcheck.err" ||
  { cat "$WORK/dcheck.err" >&2; fail "churnwatchd --check-config with the credential"; }
# --no-env ignores the CHURNWATCH_* variables, not the credentials directory
cli_run check-noenv 0 CREDENTIALS_DIRECTORY="$CREDS" CHURNWATCH_REDIS_PASSWORD_FILE=/nonexistent \
  -- check-config --no-env "$CFG_FILE"
cli_run check-env-missing 1 CHURNWATCH_REDIS_PASSWORD_FILE=/nonexistent -- check-config "$CFG"
grep -qxF "CHURNWATCH_REDIS_PASSWORD_FILE: /nonexistent: No such file or directory (environment)" \
  "$WORK/check-env-missing.err" || { cat "$WORK/check-env-missing.err" >&2; fail "a missing _FILE is not named"; }
leaked "$WORK"/dcheck.*
pass "check-config: missing file at $PF_LINE:3, 0644 and 0620 refused, 0640 accepted, credential names need \$CREDENTIALS_DIRECTORY"

# ---- 3. the daemon: Redis from a credential, SASL from the environment -----------------------

# As the shipped unit runs it: credentials in $CREDENTIALS_DIRECTORY named by the _FILE
# variables; the Kafka credential left at the unit's default (a newline) is no password.
DLOG="$WORK/daemon-cred.log"
: >"$DLOG"
env -u CHURNWATCH_REDIS_URL CREDENTIALS_DIRECTORY="$CREDS" \
  CHURNWATCH_REDIS_PASSWORD_FILE=churnwatch.redis-password \
  CHURNWATCH_KAFKA_SASL_PASSWORD_FILE=churnwatch.kafka-sasl-password \
  CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$CFG" >>"$DLOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
DAEMON_LOG=$DLOG
wait_log_count 'msg="churnwatchd started"' 1 60
[ "$(log_count 'redis unavailable')" -eq 0 ] || fail "the daemon could not authenticate to Redis"
daemon_stop
leaked "$DLOG"
pass "churnwatchd authenticated to Redis with the credential"

# SASL: the mock cluster has no SASL, so the handshake fails; the password is handed to
# librdkafka (which logs its security layer at debug) and never shown.
CFG_SASL="$WORK/cw-sasl.yaml"
sed "s|^  properties: {}\$|  properties: {security.protocol: SASL_PLAINTEXT, sasl.mechanisms: PLAIN, sasl.username: cw, debug: \"security,broker,conf\"}|" \
  "$CFG" >"$CFG_SASL"
chmod 0644 "$CFG_SASL"
grep -q 'sasl.username: cw' "$CFG_SASL" || fail "could not edit $CFG_SASL"
DLOG="$WORK/daemon-sasl.log"
: >"$DLOG"
env -u CHURNWATCH_REDIS_URL CHURNWATCH_REDIS_PASSWORD="$REDIS_PW" CHURNWATCH_KAFKA_SASL_PASSWORD="$SASL_PW" \
  CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$CFG_SASL" >>"$DLOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
DAEMON_LOG=$DLOG
wait_log_count 'msg="churnwatchd started"' 1 60
wait_log_count 'SASL' 1 60
daemon_stop
grep -q 'sasl.password = ' "$DLOG" ||
  fail "librdkafka's conf has no sasl.password (only the environment gave one)"
leaked "$DLOG"
pass "a SASL password from the environment reaches librdkafka and is never logged"
pass "total $((SECONDS - T_START))s"
