#!/usr/bin/env bash
# daemon_hostile_ids.sh - account ids built to forge log lines or reorder a terminal:
# `evil" level=error msg="pwned` and one with U+202E (right-to-left override). The daemon's
# lines about them (a `silent` alert each) parse, in logfmt and in JSON, with exactly
# one level and msg and the id intact as a value; `churnwatch top`, `account` and
# `silences` show the ids escaped, and `top --json` keeps them exact.
source "$(dirname "$0")/harness.bash"

EVIL='evil" level=error msg="pwned'
BIDI=$'acct-\u202eexe.txt'
BIDI_SHOWN='acct-\u202eexe.txt' # how the CLI tables show it (a literal backslash-u)

# Seats (so the account gets a score and is listed by `top`) and a login per id, 20 days
# before the run: once the daemon's clock is live (wall time), the
# sweep finds each account silent for 20 days and the `silent` rule (14d) fires. 20 days is
# far from both the rule's 14 days and the 30 days (longest window plus lateness) beyond
# which an event is too_late, so the outcome does not depend on the time of day.
TS=$(($(date +%s) * 1000 - 20 * 86400 * 1000))
events() {
  for id in "$EVIL" "$BIDI"; do
    jq -cn --arg a "$id" --argjson ts "$TS" \
      '{account_id: $a, type: "account_updated", ts: $ts, traits: {seats: 5}},
       {account_id: $a, user_id: "u1", type: "login", ts: $ts}'
  done
}

# check_log FORMAT LOG: every line parses with one ts/level/msg; the alert lines carry
# each id exactly, at level info. Prints what is wrong, if anything.
check_log() {
  python3 - "$1" "$2" "$EVIL" "$BIDI" <<'PY'
import json, re, sys
fmt, path, ids = sys.argv[1], sys.argv[2], set(sys.argv[3:])

def logfmt(line):
    """key=value pairs of one logfmt line: bare values, or quoted with JSON escapes."""
    pairs, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        m = re.match(r'[A-Za-z0-9_.\-]+=', line[i:])
        if not m:
            raise ValueError(f"no key= at {line[i:i+30]!r}")
        key, i = m.group()[:-1], i + m.end()
        if i < len(line) and line[i] == '"':
            j, out = i + 1, []
            while line[j] != '"':
                if line[j] == "\\":
                    c = line[j + 1]
                    if c == "u":
                        out.append(chr(int(line[j + 2:j + 6], 16))); j += 6; continue
                    if c == "x":
                        out.append(chr(int(line[j + 2:j + 4], 16))); j += 4; continue
                    out.append({"n": "\n", "r": "\r", "t": "\t"}.get(c, c)); j += 2; continue
                out.append(line[j]); j += 1
            val, i = "".join(out), j + 1
            if i < len(line) and line[i] != " ":
                raise ValueError(f"junk after a quoted value at {line[i:i+30]!r}")
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            val, i = line[i:j], j
            if '"' in val or "\\" in val:
                raise ValueError(f"quote in a bare value {val!r}")
        pairs.append((key, val))
    return pairs

bad, alerts = [], set()
for n, raw in enumerate(open(path, encoding="utf-8"), 1):
    line = raw.rstrip("\n")
    if "\u202e" in line or any(ord(c) < 0x20 for c in line):
        bad.append(f"line {n}: a raw control or bidi character: {line!r}")
    if not line.startswith("ts=" if fmt == "logfmt" else '{"ts":'):
        continue  # librdkafka or redis output before the logger is set up
    try:
        pairs = logfmt(line) if fmt == "logfmt" else json.loads(line, object_pairs_hook=list)
    except ValueError as e:
        bad.append(f"line {n}: does not parse: {e}: {line!r}")
        continue
    keys = [k for k, _ in pairs]
    for k in ("ts", "level", "msg"):
        if keys.count(k) != 1:
            bad.append(f"line {n}: {keys.count(k)} '{k}' keys: {line!r}")
    d = dict(pairs)
    if d.get("msg") == "alert published":
        if d.get("level") != "info":
            bad.append(f"line {n}: level {d.get('level')!r}")
        alerts.add((d.get("account"), d.get("rule")))
for i in ids:
    if (i, "silent") not in alerts:
        bad.append(f"no 'alert published' line with account={i!r} rule=silent")
print("\n".join(bad))
PY
}

# run_with FORMAT: a daemon logging in FORMAT, in a consumer group of its own (it reads the
# events from the beginning, and never waits for the previous daemon's session to end);
# its log is checked.
run_with() {
  local fmt=$1 log="$WORK/daemon.$1.log"
  write_config "$WORK/$fmt.yaml" "s/^  format: logfmt\$/  format: $fmt/" \
    "s/^  group_id: churnwatch\$/  group_id: churnwatch-$fmt/" \
    's/^sweep_interval: 5m$/sweep_interval: 1s/'
  run_daemon "$WORK/$fmt.yaml" "$log"
  wait_log_count '"alert published".*rule[=":]*silent' 2 120
  local wrong
  wrong=$(check_log "$fmt" "$log")
  [ -z "$wrong" ] || fail "$fmt log: $wrong"
  [ "$(jq -Rr 'fromjson? | select(.msg == "alert published") | .account' "$log" 2>/dev/null |
    grep -xF -e "$EVIL" -e "$BIDI" | sort -u | wc -l)" -eq "$([ "$fmt" = json ] && echo 2 || echo 0)" ] ||
    fail "$fmt log: jq does not read both ids back ($log)"
  pass "$fmt log: one level and msg per line, both ids exact in 'alert published', no raw control or bidi character"
}

redis_start
mock_start 2
events | kcat -P -b "$BOOTSTRAP" -t usage-events 2>>"$WORK/kcat.log" || fail "kcat produce"
run_with logfmt
daemon_stop
rcli FLUSHALL >/dev/null # the same accounts alert again under the next daemon
run_with json

CFG="$WORK/json.yaml"
top=$(cli -c "$CFG" top --limit 100) || fail "churnwatch top"
grep -qF -- "$BIDI_SHOWN" <<<"$top" || fail "top does not show the bidi id escaped: $top"
grep -qF -- "$EVIL" <<<"$top" || fail "top does not show $EVIL as is: $top"
if grep -q $'\u202e' <<<"$top"; then fail "top prints a raw U+202E: $top"; fi
acct=$(cli -c "$CFG" account "$BIDI") || fail "churnwatch account"
grep -qxF -- "account $BIDI_SHOWN" <<<"$acct" || fail "account does not show the id escaped: $acct"
cli -c "$CFG" silence "$BIDI" --for 1h --reason $'ticket\u202e#1\n2' >/dev/null || fail "churnwatch silence"
sil=$(cli -c "$CFG" silences) || fail "churnwatch silences"
grep -qF -- "$BIDI_SHOWN" <<<"$sil" || fail "silences does not show the id escaped: $sil"
grep -qF -- 'ticket\u202e#1\n2' <<<"$sil" || fail "silences does not show the reason escaped: $sil"
[ "$(wc -l <<<"$sil")" -eq 2 ] || fail "silences: a reason broke the table: $sil"
if grep -q $'\u202e' <<<"$sil$acct"; then fail "a raw U+202E in account or silences output"; fi
pass "top, account and silences show control and bidi characters escaped"

cli -c "$CFG" top --limit 100 --json | jq -r '.accounts[].account_id' >"$WORK/top.ids" || fail "top --json"
grep -qxF -- "$BIDI" "$WORK/top.ids" && grep -qxF -- "$EVIL" "$WORK/top.ids" ||
  fail "top --json does not carry the ids exactly: $(cat "$WORK/top.ids")"
pass "top --json keeps the ids exact"
