#!/usr/bin/env bash
# daemon_dlq.sh - every malformed input class reaches the DLQ with its bytes intact and the
# three headers; good events around them are applied; nothing stalls.
source "$(dirname "$0")/harness.bash"

redis_start
mock_start 2
write_config "$WORK/cw.yaml"
daemon_start "$WORK/cw.yaml"

now_ms=$(($(date +%s) * 1000))
good() { printf '{"event_id":"g-%s","account_id":"acme","user_id":"u-%s","type":"login","ts":%s}' "$1" "$1" "$now_ms"; }

mkdir -p "$WORK/msgs"
i=0
add() { # add CODE FILE-CONTENT(printf format)
  i=$((i + 1))
  printf "$2" >"$WORK/msgs/$(printf %03d $i).$1"
}
add invalid_json '{"account_id":"acme","type":"login"'
add invalid_json 'not json at all'
add invalid_json '{"account_id":"acme","type":"login"} trailing'
add not_object '[1,2,3]'
add not_object '"just a string"'
add invalid_utf8 '{"account_id":"ac\xffme","type":"login"}'
add invalid_utf8 '{"account_id":"acme","type":"login","props":{"x":"\xc0\xaf"}}'
add missing_account_id '{"type":"login","user_id":"u1"}'
add missing_account_id '{"account_id":"","type":"login"}'
add missing_type '{"account_id":"acme"}'
add wrong_field_type '{"account_id":42,"type":"login"}'
add bad_timestamp '{"account_id":"acme","type":"login","ts":"2026-02-30T00:00:00Z"}'
add bad_timestamp '{"account_id":"acme","type":"login","ts":"yesterday"}'
add too_late '{"account_id":"acme","type":"login","ts":"2001-01-01T00:00:00Z"}'
add future_timestamp '{"account_id":"acme","type":"login","ts":"2099-01-01T00:00:00Z"}'
# time-valued traits are bounded to 1970..2199 (a renewal lies years ahead, year 9999 never)
add bad_traits '{"account_id":"acme","type":"account_updated","traits":{"created_at":"9999-12-31T00:00:00Z"}}'
add bad_traits '{"account_id":"acme","type":"account_updated","traits":{"renewal_at":253402214400000}}'
add bad_id "{\"account_id\":\"$(head -c 300 /dev/zero | tr '\0' a)\",\"type\":\"login\"}"
add too_deep "$(printf '{"account_id":"acme","type":"login","p":'; for _ in $(seq 40); do printf '['; done; for _ in $(seq 40); do printf ']'; done; printf '}')"
head -c 70000 /dev/zero | tr '\0' ' ' >"$WORK/msgs/$(printf %03d $((i + 1))).too_large"
i=$((i + 1))
# a message with a NUL byte inside a string value
printf '{"account_id":"ac\x00me","type":"login"}' >"$WORK/msgs/$(printf %03d $((i + 1))).invalid_json"
i=$((i + 1))
bad=$i
good 3 >"$WORK/msgs/$(printf %03d $((i + 1))).good"
total=$((bad + 3))

# One good event on each partition first, so the event-time clock is known (live) before
# the bad ones arrive: too_late is judged against it. (While the clock is unknown a
# partition's first batch is judged against its own newest event, and a lone 2001 event
# would be the newest.)
for p in 0 1; do
  printf "%s\n" "$(good $((p + 1)))" | kcat -P -b "$BOOTSTRAP" -t usage-events -p "$p" 2>>"$WORK/kcat.log" ||
    fail "kcat produce (partition $p)"
done
wait_processed 2 60
kcat -P -b "$BOOTSTRAP" -t usage-events "$WORK"/msgs/* 2>>"$WORK/kcat.log" || fail "kcat produce"
wait_processed "$total" 60

# Compare every DLQ message with what was sent: bytes and headers.
kcat -C -b "$BOOTSTRAP" -t usage-events-dlq -o beginning -c "$bad" -e -q \
  -f '%h\x1f%s\x1e' >"$WORK/dlq.bin" 2>/dev/null || true
python3 - "$WORK/msgs" "$WORK/dlq.bin" <<'PY' || fail "DLQ contents differ (see above)"
import os, sys
msgs, dump = sys.argv[1], open(sys.argv[2], "rb").read()
sent = {}
for name in sorted(os.listdir(msgs)):
    code = name.split(".", 1)[1]
    if code != "good":
        sent.setdefault(open(os.path.join(msgs, name), "rb").read(), []).append(code)
records = [r for r in dump.split(b"\x1e") if r]
ok = True
if len(records) != sum(len(v) for v in sent.values()):
    print(f"DLQ holds {len(records)} messages, expected {sum(len(v) for v in sent.values())}")
    ok = False
for rec in records:
    hdrs, _, value = rec.partition(b"\x1f")
    h = dict(kv.split(b"=", 1) for kv in hdrs.split(b",") if b"=" in kv)
    code = h.get(b"churnwatch-error", b"").decode()
    if value not in sent:
        print(f"DLQ value not among the sent bad messages: {value[:60]!r}")
        ok = False
        continue
    if code not in sent[value]:
        print(f"{value[:60]!r}: code {code}, expected {sent[value]}")
        ok = False
    if not h.get(b"churnwatch-reason"):
        print(f"{value[:60]!r}: no churnwatch-reason header")
        ok = False
    src = h.get(b"churnwatch-source", b"").decode()
    if not src.startswith("usage-events/"):
        print(f"{value[:60]!r}: churnwatch-source '{src}'")
        ok = False
sys.exit(0 if ok else 1)
PY
pass "$bad malformed messages in the DLQ with their bytes and headers"

# The good events around them were applied: 3 distinct users active today.
out=$(cli -c "$WORK/cw.yaml" account acme --json) || fail "churnwatch account acme"
users=$(jq -r '.metrics.short.active_users' <<<"$out")
[ "$users" = "3" ] || fail "expected 3 active users for acme, got $users"
pass "good events applied around the bad ones"
