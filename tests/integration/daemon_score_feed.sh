#!/usr/bin/env bash
# daemon_score_feed.sh - the score feed (docs/scores.md) through the real daemon, on a seeded
# history and a fixed clock:
#   1. a backfill, killed with -9 halfway and restarted: every account with a score gets a
#      first message, then one per move of the step or change of grade, each carrying the
#      last one published as previous_*, never judged at an older instant than the one
#      before (no storm on replay), the last one within the step of the score the account
#      has now (no move missed); a redelivery has the id and the bytes of the original;
#   2. a rescore where nothing moved publishes nothing;
#   3. seven days later (a restart with the clock moved on): the start-up sweep publishes
#      the moves time made, and the daemon aborts right after the broker acknowledged them,
#      before the outbox was cleared (CW_DEBUG_CRASH_AT=after-alert-delivery:1);
#   4. restarted at the same instant with the accounts applied through Redis (cache_mb 0):
#      the same messages again (same ids, same bytes), nothing new, the outbox empty, and
#      the stored state of the feed is the last message of each account.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the history and every score judged on it never vary

SCORES=churnwatch-scores
STEP=5
redis_start
mock_start 4
mock_cmd "topic $SCORES 3"
cfg() { # cfg FILE [sed expressions...]: the shipped config with the score feed on
  write_config "$@"
  printf '\nscores:\n  topic: %s\n  step: %s\n' "$SCORES" "$STEP" >>"$1"
}
cfg "$WORK/cw.yaml"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw.yaml")"

"$CLI" gen --seed 11 --days 40 --rate-scale 0.3 --end "$TEST_NOW" \
  --fates healthy=3,declining=3,silent=2,underused=2,borderline=2,recovering=2 \
  --manifest "$WORK/manifest" -o "$WORK/events.jsonl" || fail "churnwatch gen"
N=$(wc -l <"$WORK/events.jsonl")
mapfile -t IDS < <(python3 -c 'import json,sys; [print(json.loads(l)["account_id"]) for l in open(sys.argv[1])]' "$WORK/manifest")
[ "${#IDS[@]}" -eq 14 ] || fail "manifest holds ${#IDS[@]} accounts"
# Produced whole before the daemon starts (docs/testing.md: a starved producer would let
# the clock go live halfway), keyed by user: every partition holds recent events, so the
# event-time floors a restarted daemon starts from are all near the end of the history.
cli -c "$WORK/cw.yaml" produce "$WORK/events.jsonl" --key user 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"

# feed_dump OUT: the scores topic, "partition offset key value" per message, in partition
# order (an account's messages are in order within its partition).
feed_dump() {
  kcat -C -b "$BOOTSTRAP" -t "$SCORES" -o beginning -e -q -f '%p\t%o\t%k\t%s\n' 2>/dev/null |
    sort -t "$(printf '\t')" -k1,1n -k2,2n >"$1"
}
# accounts DIR: every account's `churnwatch account --json` now, into DIR/ID.json.
accounts() {
  mkdir -p "$1"
  local id
  for id in "${IDS[@]}"; do
    cli -c "$WORK/cw.yaml" account "$id" --json >"$1/$id.json" || fail "churnwatch account $id"
  done
}

# check CMD ...: the checks below (python), failing the test with what they found.
check() {
  python3 - "$@" <<'PY' || fail "score feed check '$1' failed (see above)"
import json, os, re, sys

cmd, args = sys.argv[1], sys.argv[2:]
problems = []
def bad(msg):
    problems.append(msg)

GRADES = [("A", 80), ("B", 60), ("C", 40), ("D", 0)]
COMPONENTS = {"utilization", "engagement", "penetration"}
MEASURES = {"login_rate", "apps_created", "records_written", "seminars", "email_clicks",
            "help_views", "support_tickets", "nps", "webinar_minutes", "seat_coverage",
            "new_users"}
PROFILES = {"default", "onboarding"}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)

def grade_ok(score, grade):
    # the band of the exact score; the message carries it rounded to 2 decimals
    return grade in {next((g for g, lo in GRADES if score + d >= lo), "D") for d in (-0.005, 0.005)}

def load(path):
    """The dump's messages: (line, account key, message) in order, and per score_id its
    distinct values."""
    out, by_id = [], {}
    for i, line in enumerate(open(path)):
        part, off, key, value = line.rstrip("\n").split("\t", 3)
        try:
            m = json.loads(value)
        except ValueError as exc:
            bad(f"{path}:{i + 1}: not JSON ({exc})")
            continue
        out.append((value, key, m))
        by_id.setdefault(m.get("score_id"), set()).add(value)
    return out, by_id

def well_formed(key, m, where):
    before = len(problems)
    for field, ok in [
        ("schema", lambda v: v == "churnwatch.score.v1"),
        ("score_id", lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32}", v)),
        ("account_id", lambda v: v == key),
        ("score", lambda v: num(v) and 0 <= v <= 100),
        ("grade", lambda v: v in dict(GRADES)),
        ("triggers", lambda v: isinstance(v, list) and v and
            set(v) <= {"first", "step", "grade", "profile"}),
        ("components", lambda v: isinstance(v, dict) and set(v) == COMPONENTS and
            all(x is None or (num(x) and 0 <= x <= 1) for x in v.values())),
        ("measures", lambda v: isinstance(v, dict) and set(v) == MEASURES and all(
            set(x) == {"component", "raw", "target", "contribution", "na"} and
            x["component"] in COMPONENTS and num(x["target"]) and
            ((x["na"] is None and num(x["raw"]) and num(x["contribution"])) or
             (isinstance(x["na"], str) and x["na"].startswith("n/a") and x["raw"] is None
              and x["contribution"] is None)) for x in v.values())),
        ("moved", lambda v: isinstance(v, list) and all(
            x.get("measure") in MEASURES and num(x.get("points")) for x in v)),
        ("observed_at", lambda v: isinstance(v, str) and TIME.fullmatch(v)),
        ("emitted_at", lambda v: isinstance(v, str) and TIME.fullmatch(v)),
        ("profile", lambda v: v in PROFILES),
        ("segment", lambda v: isinstance(v, str) and v in ("S", "M", "L")),
        ("seats", lambda v: isinstance(v, int) and v > 0),
    ]:
        if field not in m:
            bad(f"{where}: no {field}")
        elif not ok(m[field]):
            bad(f"{where}: bad {field}: {m[field]!r}")
    if len(problems) == before and not grade_ok(m["score"], m["grade"]):
        bad(f"{where}: grade {m['grade']} for score {m['score']}")
    # the contributions add up to the score
    if len(problems) == before:
        total = sum(x["contribution"] or 0 for x in m["measures"].values())
        if abs(total - m["score"]) > 0.05:
            bad(f"{where}: contributions add up to {total}, score {m['score']}")
    return len(problems) == before

def chains(msgs, by_id, step):
    """Per account, its distinct messages in order, checked one after the other."""
    for sid, values in by_id.items():
        if len(values) > 1:
            bad(f"score_id {sid}: {len(values)} different messages under one id")
    seen, acct = set(), {}
    for value, key, m in msgs:
        if not well_formed(key, m, f"{key} {m.get('score_id')}"):
            continue
        if m["score_id"] in seen:
            continue  # a redelivery (checked identical above)
        seen.add(m["score_id"])
        acct.setdefault(key, []).append(m)
    for key, ms in acct.items():
        for k, m in enumerate(ms):
            where = f"{key} #{k} {m['score_id']}"
            if k == 0:
                if m["triggers"] != ["first"] or "previous_score" in m or "previous_grade" in m:
                    bad(f"{where}: the first message has triggers {m['triggers']}, "
                        f"previous {m.get('previous_score')}")
                continue
            p = ms[k - 1]
            if m.get("previous_score") != p["score"] or m.get("previous_grade") != p["grade"]:
                bad(f"{where}: previous {m.get('previous_score')}/{m.get('previous_grade')}, "
                    f"the message before says {p['score']}/{p['grade']} (one lost?)")
            moved = abs(m["score"] - p["score"]) + 1e-6 >= step
            want = (["step"] if moved else []) + (["grade"] if m["grade"] != p["grade"] else [])
            if m["triggers"] != want:
                bad(f"{where}: {p['score']}/{p['grade']} -> {m['score']}/{m['grade']}: "
                    f"triggers {m['triggers']}, the step {step} says {want}")
            if m["observed_at"] < p["observed_at"]:
                bad(f"{where}: observed_at {m['observed_at']} before the message before it "
                    f"({p['observed_at']}): judged at an older instant (a replay's storm)")
    return acct

def current(dirname):
    now = {}
    for f in os.listdir(dirname):
        a = json.load(open(os.path.join(dirname, f)))
        now[a["account_id"]] = a
    return now

if cmd == "chain":  # chain DUMP ACCOUNTS_DIR STEP SUMMARY: the whole topic
    dump, acc_dir, step, summary = args[0], args[1], float(args[2]), args[3]
    msgs, by_id = load(dump)
    acct = chains(msgs, by_id, step)
    now = current(acc_dir)
    for key, a in now.items():
        ms = acct.get(key, [])
        if a["score"] is None:
            if ms:
                bad(f"{key}: no score now, yet {len(ms)} messages")
            continue
        if not ms:
            bad(f"{key}: scores {a['score']} but nothing was published")
            continue
        last = ms[-1]
        if abs(a["score"] - last["score"]) + 1e-6 >= step or a["grade"] != last["grade"]:
            bad(f"{key}: scores {a['score']}/{a['grade']} now, the last one published is "
                f"{last['score']}/{last['grade']} (a move missed)")
    for key in acct:
        if key not in now:
            bad(f"{key}: published but not an account")
    json.dump({"messages": len(msgs), "distinct": sum(len(v) for v in acct.values()),
               "last": {k: v[-1] for k, v in acct.items()},
               "ids": sorted(m["score_id"] for v in acct.values() for m in v)},
              open(summary, "w"))
    print(f"{len(msgs)} messages, {sum(len(v) for v in acct.values())} distinct, "
          f"{len(acct)} accounts")
elif cmd == "moves":  # moves BEFORE AFTER ACCOUNTS_DIR STEP: what time changed was published
    before, after = json.load(open(args[0])), json.load(open(args[1]))
    now, step = current(args[2]), float(args[3])
    new_ids = set(after["ids"]) - set(before["ids"])
    if set(before["ids"]) - set(after["ids"]):
        bad("messages disappeared")
    moved = quiet = 0
    for key, a in now.items():
        last = before["last"].get(key)
        if a["score"] is None or last is None:
            continue
        due = abs(a["score"] - last["score"]) + 1e-6 >= step or a["grade"] != last["grade"]
        published = after["last"][key]["score_id"] != last["score_id"]
        if due != published:
            bad(f"{key}: {last['score']}/{last['grade']} -> {a['score']}/{a['grade']} with a "
                f"step of {step}: {'published' if published else 'not published'}")
        if published:
            moved += 1
            if after["last"][key].get("previous_score") != last["score"]:
                bad(f"{key}: previous_score {after['last'][key].get('previous_score')}, "
                    f"published before: {last['score']}")
        else:
            quiet += 1
    if len(new_ids) != moved:
        bad(f"{len(new_ids)} new messages for {moved} accounts that moved")
    if moved == 0:
        bad("time moved no score by the step: the test proves nothing")
    print(f"{moved} accounts moved by the step or changed grade and were published, "
          f"{quiet} did not and were not")
elif cmd == "same":  # same BEFORE AFTER: no new message
    before, after = json.load(open(args[0])), json.load(open(args[1]))
    if before["ids"] != after["ids"]:
        bad(f"new messages: {sorted(set(after['ids']) - set(before['ids']))}")
elif cmd == "redelivered":  # redelivered DUMP IDS_FILE: each id at least twice, same bytes
    msgs, by_id = load(args[0])
    count = {}
    for value, key, m in msgs:
        count[m["score_id"]] = count.get(m["score_id"], 0) + 1
    ids = [l.strip() for l in open(args[1]) if l.strip()]
    if not ids:
        bad("nothing was to be redelivered")
    for sid in ids:
        if count.get(sid, 0) < 2:
            bad(f"{sid}: published {count.get(sid, 0)} time(s), not redelivered")
        if len(by_id.get(sid, ())) != 1:
            bad(f"{sid}: redelivered with other bytes")
    print(f"{len(ids)} messages redelivered with their ids and bytes")
for p in problems[:40]:
    print("  " + p, file=sys.stderr)
if len(problems) > 40:
    print(f"  ... {len(problems) - 40} more", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# ---- 1. the backfill, killed halfway ------------------------------------------------------
t0=$SECONDS
run_daemon "$WORK/cw.yaml" "$WORK/d1.log"
wait_processed $((N / 2)) 300
daemon_kill9
run_daemon "$WORK/cw.yaml" "$WORK/d2.log"
wait_applied "$REDIS_PORT" "$N" 300
wait_log_count 'msg="clock live"' 1 120 # caught up: the sweep judges at the wall clock
rescore_and_wait "$WORK/cw.yaml"
accounts "$WORK/acc1"
feed_dump "$WORK/feed1.tsv"
check chain "$WORK/feed1.tsv" "$WORK/acc1" "$STEP" "$WORK/sum1.json"
pass "backfill with a kill -9: one chain of moves per account, the last one current ($((SECONDS - t0))s)"

# ---- 2. nothing moved: nothing published --------------------------------------------------
before=$(metric churnwatch_scores_published_total)
rescore_and_wait "$WORK/cw.yaml"
feed_dump "$WORK/feed2.tsv"
check chain "$WORK/feed2.tsv" "$WORK/acc1" "$STEP" "$WORK/sum2.json"
check same "$WORK/sum1.json" "$WORK/sum2.json"
[ "$(metric churnwatch_scores_published_total)" = "$before" ] ||
  fail "scores_published_total moved from $before to $(metric churnwatch_scores_published_total)"
[ "$before" -gt 0 ] || fail "scores_published_total is '$before'"
pass "a rescore with nothing moved published nothing ($before messages counted by this process)"
daemon_stop

# ---- 3. seven days on: the moves time made, and an abort once they were acknowledged ------
export CW_DEBUG_CLOCK_OFFSET_MS=$((CW_DEBUG_CLOCK_OFFSET_MS + 7 * 86400000))
run_daemon "$WORK/cw.yaml" "$WORK/d3.log" CW_DEBUG_CRASH_AT=after-alert-delivery:1
# Until it knows it is caught up, a restarted daemon judges at its event-time floors, 7 days
# back, where the feed publishes nothing (never older than the last one published); once
# live, a sweep judges the accounts now.
wait_log_count 'msg="clock live"' 1 120
cli -c "$WORK/cw.yaml" rescore >/dev/null || fail "churnwatch rescore"
end=$((SECONDS + 120))
while kill -0 "$DAEMON_PID" 2>/dev/null; do
  [ $SECONDS -lt $end ] || fail "no abort after the first delivery within 120s ($(daemon_log))"
  sleep 0.2
done
rc=0
wait "$DAEMON_PID" 2>/dev/null || rc=$?
[ "$rc" -eq 134 ] || fail "churnwatchd exited with status $rc, not by its crash point's abort"
feed_dump "$WORK/feed3.tsv"
# What the aborted process had published: redelivered below, since it never cleared them.
python3 -c '
import json, sys
seen = {json.loads(l.split("\t", 3)[3])["score_id"] for l in open(sys.argv[1])}
new = [json.loads(l.split("\t", 3)[3])["score_id"] for l in open(sys.argv[2])]
print("\n".join(sorted({i for i in new if i not in seen})))' "$WORK/feed1.tsv" "$WORK/feed3.tsv" \
  >"$WORK/aborted.ids"
[ -s "$WORK/aborted.ids" ] || fail "the aborted process published no score"
pass "7 days on: $(wc -l <"$WORK/aborted.ids") scores published, then an abort before the clean-up"

# ---- 4. restarted there, through Redis alone: the same messages again, nothing more -------
cfg "$WORK/cw0.yaml" 's/^  cache_mb: 256$/  cache_mb: 0/'
grep -x '  cache_mb: 0' "$WORK/cw0.yaml" >/dev/null || fail "could not set redis.cache_mb: 0"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw0.yaml")"
run_daemon "$WORK/cw0.yaml" "$WORK/d4.log"
wait_log_count 'msg="clock live"' 1 120
rescore_and_wait "$WORK/cw0.yaml"
accounts "$WORK/acc4"
feed_dump "$WORK/feed4.tsv"
check chain "$WORK/feed4.tsv" "$WORK/acc4" "$STEP" "$WORK/sum4.json"
check redelivered "$WORK/feed4.tsv" "$WORK/aborted.ids"
check moves "$WORK/sum1.json" "$WORK/sum4.json" "$WORK/acc4" "$STEP"
rescore_and_wait "$WORK/cw0.yaml"
feed_dump "$WORK/feed5.tsv"
check chain "$WORK/feed5.tsv" "$WORK/acc4" "$STEP" "$WORK/sum5.json"
check same "$WORK/sum4.json" "$WORK/sum5.json"
pass "restarted: redelivered with the same ids and bytes, no new message, the step respected"

# Redis: no entry left waiting, and each account's stored state is its last message.
for id in "${IDS[@]}"; do
  fields=$(rcli HKEYS "cw:{$id}:r")
  ! grep '^:feed:' <<<"$fields" >/dev/null || fail "$id: entries still waiting: $fields"
  state=$(rcli HGET "cw:{$id}:r" :feed)
  want=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["last"].get(sys.argv[2]); print(l["score_id"] if l else "")' \
    "$WORK/sum5.json" "$id")
  got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"] if sys.argv[1] else "")' "$state")
  [ "$got" = "$want" ] || fail "$id: stored state $state, the last message is $want"
done
pass "the feed's outbox is empty and its state is each account's last message"
daemon_stop
# Nothing from the sanitizers (an ASan build logs there), in any of the four processes.
! grep -E "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$WORK"/d[1-4].log >/dev/null ||
  fail "sanitizer report in a daemon log: $(grep -lE "Sanitizer|runtime error:" "$WORK"/d[1-4].log)"
