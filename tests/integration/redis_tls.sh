#!/usr/bin/env bash
# redis_tls.sh - churnwatchd and the CLI over rediss:// (Redis TLS, verified with a CA made
# for the run): events applied and an alert published, `churnwatch top` and `account` read
# the same over TLS as over plain TCP, a server signed by another CA is a clear error in
# both, and the daemon on a Redis Cluster serving TLS (rediss-cluster://, --tls-cluster yes:
# the nodes named by CLUSTER SLOTS are reached with TLS too).
source "$(dirname "$0")/harness.bash"

PKI="$WORK/tls"
tls_certs "$PKI"
TLS_PORT=$(free_port)
# shellcheck disable=SC2046 # the arguments are words
redis_start $(redis_tls_args "$PKI" "$TLS_PORT")
mock_start 4

# tls_config FILE URL CA [sed...]: the shipped config on URL, trusting CA.
tls_config() {
  local out=$1 url=$2 ca=$3
  shift 3
  write_config "$out" "s#^  url: redis://127.0.0.1:6379/0\$#  url: $url\n  tls:\n    ca_file: $ca#" "$@"
  grep -q "^    ca_file: $ca\$" "$out" || fail "could not set redis.tls in $out"
}
CFG="$WORK/cw.yaml"
REDIS_URL="rediss://localhost:$TLS_PORT/0"
tls_config "$CFG" "$REDIS_URL" "$PKI/ca.crt"
cli check-config "$CFG" >/dev/null || fail "check-config refused the rediss:// config"
# check-config loads the TLS files: a missing CA is named.
tls_config "$WORK/no-ca.yaml" "$REDIS_URL" "$PKI/missing-ca.pem"
if cli check-config "$WORK/no-ca.yaml" >/dev/null 2>"$WORK/no-ca.err"; then
  fail "check-config accepted a missing redis.tls.ca_file"
fi
grep -q "no-ca.yaml: redis tls: cannot load the CA certificates of $PKI/missing-ca.pem" "$WORK/no-ca.err" ||
  fail "check-config, missing CA: $(cat "$WORK/no-ca.err")"
cli -c "$CFG" top >"$WORK/top-empty.txt" 2>&1 ||
  fail "churnwatch top over rediss:// (empty store): $(cat "$WORK/top-empty.txt")"

# A fixed history (deterministic): accounts of which some under-use their seats.
"$CLI" gen --seed 21 --fates healthy=4,underused=3,declining=3 --days 30 \
  --end 2026-05-01T00:00:00Z -o "$WORK/events.jsonl" || fail "churnwatch gen"
n=$(wc -l <"$WORK/events.jsonl")

daemon_start "$CFG"
cli -c "$CFG" produce "$WORK/events.jsonl" --key user 2>"$WORK/produce.log" ||
  fail "churnwatch produce"
wait_processed "$n" 300
wait_applied "$REDIS_PORT" "$n" 120
has_alerts() { [ -n "$(topic_dump churnwatch-alerts | head -c 1)" ]; }
wait_for 120 has_alerts || fail "no alert published over rediss://"
alerts=$(topic_dump churnwatch-alerts | wc -l)
! grep -q 'redis unavailable\|redis error' "$WORK/daemon.log" || fail "Redis errors in the daemon log"
pass "daemon over rediss://localhost:$TLS_PORT: $n events applied, $alerts alerts published"

# The CLI reads the same over TLS as over the plain port.
write_config "$WORK/plain.yaml"
plain() { REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" cli -c "$WORK/plain.yaml" "$@"; }
cli -c "$CFG" top --json >"$WORK/top-tls.json" || fail "churnwatch top over rediss://"
plain top --json >"$WORK/top-plain.json" || fail "churnwatch top over redis://"
[ -s "$WORK/top-tls.json" ] || fail "churnwatch top over rediss:// printed nothing"
cmp -s "$WORK/top-tls.json" "$WORK/top-plain.json" ||
  fail "churnwatch top differs over TLS: $(diff "$WORK/top-tls.json" "$WORK/top-plain.json" | head -5)"
id=$(jq -r '.accounts[0].account_id' "$WORK/top-tls.json")
[ -n "$id" ] && [ "$id" != null ] || fail "no account in churnwatch top --json"
cli -c "$CFG" account "$id" --json >"$WORK/account-tls.json" || fail "churnwatch account over rediss://"
plain account "$id" --json >"$WORK/account-plain.json" || fail "churnwatch account over redis://"
cmp -s "$WORK/account-tls.json" "$WORK/account-plain.json" || fail "churnwatch account $id differs over TLS"
pass "churnwatch top and account $id: the same over rediss:// as over redis://"

# A server signed by a CA the client does not trust: a clear error, at once.
tls_config "$WORK/wrong-ca.yaml" "$REDIS_URL" "$PKI/other-ca.crt"
if cli -c "$WORK/wrong-ca.yaml" top >/dev/null 2>"$WORK/wrong-ca.err"; then
  fail "churnwatch top trusted a server signed by another CA"
fi
grep -q 'TLS handshake: server certificate verification failed' "$WORK/wrong-ca.err" ||
  fail "unclear error for a wrong CA: $(cat "$WORK/wrong-ca.err")"
daemon_stop
run_daemon "$WORK/wrong-ca.yaml" "$WORK/daemon-wrong-ca.log"
wait_log_count 'server certificate verification failed' 1 60
daemon_stop
pass "wrong CA: $(sed 's/^churnwatch: //' "$WORK/wrong-ca.err")"

# Redis Cluster over TLS: the daemon on rediss-cluster://, its own consumer group.
CLUSTER_TLS_DIR=$PKI cluster_start 3
REDIS_URL=$CLUSTER_TLS_URL
tls_config "$WORK/cluster.yaml" "$CLUSTER_TLS_URL" "$PKI/ca.crt" \
  "s/^  group_id: churnwatch\$/  group_id: cw-cluster-tls/"
grep -q '^  group_id: cw-cluster-tls$' "$WORK/cluster.yaml" || fail "could not set kafka.group_id"
run_daemon "$WORK/cluster.yaml" "$WORK/daemon-cluster.log"
wait_applied "$(
  IFS=,
  echo "${CLUSTER_PORTS[*]}"
)" "$n" 300
for port in "${CLUSTER_PORTS[@]}"; do
  [ "$(redis-cli -p "$port" dbsize)" -gt 0 ] || fail "cluster node :$port holds no key"
done
cli -c "$WORK/cluster.yaml" account "$id" >/dev/null || fail "churnwatch account over rediss-cluster://"
! grep -q 'redis unavailable' "$WORK/daemon-cluster.log" || fail "Redis errors in the cluster daemon's log"
daemon_stop
pass "daemon over $CLUSTER_TLS_URL: $n events applied on 3 masters; churnwatch account reads them"
