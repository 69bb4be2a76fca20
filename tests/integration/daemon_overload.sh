#!/usr/bin/env bash
# daemon_overload.sh - bad input and a hot key at volume (issue: reliability):
#   - one seeded generated history, plus a hot account sending as many events as all the
#     other accounts together (50% of the good events), is run twice: once clean, once
#     with malformed messages of varied classes making up 30% of the messages, in random
#     places;
#   - the mixed run must put every bad message in the DLQ (count exact, bytes identical)
#     and give every account (hot one included) the same metrics, score and grade as the
#     clean run: the bad messages and the hot key change nothing for anyone else.
# Correctness only: no timing is asserted.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary

redis_start
mock_start 16
REDIS_CLEAN=$REDIS_PORT
REDIS_PORT=""
redis_start
REDIS_MIXED=$REDIS_PORT

# ---- the streams ------------------------------------------------------------------------
"$CLI" gen --seed 5 --accounts 40 --days 20 --rate-scale 0.6 --end "$TEST_NOW" -o "$WORK/base.jsonl" ||
  fail "churnwatch gen"
python3 - "$WORK" <<'PY' || fail "building the streams"
import json, random, sys
work = sys.argv[1]
rnd = random.Random(17)
base = [l.rstrip("\n") for l in open(work + "/base.jsonl")]
# The hot account: one event per base event, at the same instant, over 50 users.
good = []
for i, line in enumerate(base):
    good.append(line)
    ts = json.loads(line)["ts"]
    good.append(json.dumps({"event_id": "hot-%06d" % i, "account_id": "hot-0001",
                            "user_id": "hot-u%02d" % (i % 50),
                            "type": ("login", "record_written", "app_created")[i % 3],
                            "ts": ts}, separators=(",", ":")))
# Malformed classes (one line each, no newline inside), made unique by a counter.
classes = [
    lambda n: '{"account_id":"acme-%d","type":"login"' % n,              # invalid_json
    lambda n: 'not json %d' % n,                                          # invalid_json
    lambda n: '[%d,2,3]' % n,                                             # not_object
    lambda n: '{"type":"login","user_id":"u%d"}' % n,                     # missing_account_id
    lambda n: '{"account_id":"","type":"login","n":%d}' % n,              # missing_account_id
    lambda n: '{"account_id":"acme-%d"}' % n,                             # missing_type
    lambda n: '{"account_id":%d,"type":"login"}' % n,                     # wrong_field_type
    lambda n: '{"account_id":"acme-%d","type":"login","ts":"2026-02-30T00:00:00Z"}' % n,
    lambda n: '{"account_id":"acme-%d","type":"login","ts":"2099-01-01T00:00:00Z"}' % n,
    lambda n: '{"account_id":"acme-%d","type":"login","p":%s%s}' % (n, "[" * 40, "]" * 40),
]
n_bad = len(good) * 3 // 7  # 30% of all messages
bad = [classes[i % len(classes)](i) for i in range(n_bad)]
mixed = list(good)
for b in bad:
    mixed.insert(rnd.randrange(len(mixed) + 1), b)
open(work + "/clean.jsonl", "w").write("\n".join(good) + "\n")
open(work + "/mixed.jsonl", "w").write("\n".join(mixed) + "\n")
open(work + "/bad.jsonl", "w").write("\n".join(bad) + "\n")
PY
n_good=$(wc -l <"$WORK/clean.jsonl")
n_mixed=$(wc -l <"$WORK/mixed.jsonl")
n_bad=$(wc -l <"$WORK/bad.jsonl")
echo "good $n_good (hot account: $((n_good / 2))), malformed $n_bad, total $n_mixed"

for t in clean mixed; do
  echo "topic $t 16" >&7
  echo "topic dlq-$t 1" >&7
  echo "topic alerts-$t 1" >&7
done
wait_for 10 sh -c "[ \$(grep -c '^ok' '$WORK/mock.out') -ge 6 ]" || fail "cw-kafka-mock topics"

# run NAME REDIS_PORT: the daemon over topic NAME into its own Redis, until all is processed.
run() {
  local name=$1 port=$2 total
  write_config "$WORK/$name.yaml" \
    "s|^  group_id: churnwatch\$|  group_id: cw-$name|" \
    "s|^  topics: \[usage-events\]\$|  topics: [$name]|" \
    "s|^  alerts_topic: churnwatch-alerts\$|  alerts_topic: alerts-$name|" \
    "s|^  dlq_topic: usage-events-dlq\$|  dlq_topic: dlq-$name|"
  grep -q "topics: \[$name\]" "$WORK/$name.yaml" && grep -q "dlq_topic: dlq-$name" "$WORK/$name.yaml" ||
    fail "could not adapt the config for $name"
  # --force: the mixed stream holds malformed lines on purpose (produce refuses them otherwise)
  REDIS_PORT=$port cli -c "$WORK/$name.yaml" produce "$WORK/$name.jsonl" --key user --force \
    2>"$WORK/produce-$name.log" || fail "produce $name"
  total=$(wc -l <"$WORK/$name.jsonl")
  REDIS_PORT=$port
  : >"$WORK/daemon.log"
  daemon_start "$WORK/$name.yaml"
  wait_processed "$total" 300
  rescore_and_wait "$WORK/$name.yaml"
  daemon_stop
  # every account's evaluation, without the alert ids (instants differ between runs)
  while read -r id; do
    REDIS_PORT=$port cli -c "$WORK/$name.yaml" account "$id" --json |
      jq -c --arg id "$id" '{account: $id, score, grade, components, metrics}'
  done < <(redis-cli -p "$port" ZRANGE cw:accounts 0 -1) >"$WORK/$name.eval"
}
run clean "$REDIS_CLEAN"
run mixed "$REDIS_MIXED"

accounts=$(wc -l <"$WORK/clean.eval")
[ "$accounts" -eq 41 ] || fail "expected 41 accounts (40 + the hot one), got $accounts"
diff -u "$WORK/clean.eval" "$WORK/mixed.eval" >"$WORK/eval.diff" ||
  { head -n 20 "$WORK/eval.diff" >&2; fail "malformed messages changed an account's evaluation"; }
pass "$accounts accounts (hot one: 50% of the good events) evaluate identically with 30% malformed messages mixed in"

# The DLQ holds exactly the malformed messages, byte for byte.
topic_dump dlq-mixed | sort >"$WORK/dlq.sorted"
sort "$WORK/bad.jsonl" >"$WORK/bad.sorted"
cmp -s "$WORK/dlq.sorted" "$WORK/bad.sorted" ||
  fail "DLQ: $(wc -l <"$WORK/dlq.sorted") messages, expected the $n_bad malformed ones byte for byte"
[ -z "$(topic_dump dlq-clean)" ] || fail "the clean run sent something to its DLQ"
hot=$(jq -r 'select(.account == "hot-0001") | .metrics.short.active_users' "$WORK/mixed.eval")
[ "$hot" = 50 ] || fail "hot account: $hot active users, expected 50"
pass "all $n_bad malformed messages in the DLQ, bytes identical; the clean run's DLQ is empty"
