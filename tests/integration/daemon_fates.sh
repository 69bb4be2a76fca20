#!/usr/bin/env bash
# daemon_fates.sh - a seeded 90-day history through the real daemon under the shipped
# config: every account's alerts tell the story of its fate (the generator's manifest),
# nothing flaps, every alert is a well-formed churnwatch.alert.v1 message; and the same
# history in the segment and cloudevents forms gives every account the same traits and
# metrics as the native form.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary

ROOT=$WORK
SEED=7
ACCOUNTS=40
DAYS=90
PARTITIONS=16 # the mock keeps ~5 MB per partition: spread the ~30 MB history
# the three forms describe the same history, ending at the test's fixed "now"
END=$TEST_NOW

gen() { # gen FORM -> ROOT/events.FORM (and ROOT/manifest for the native form)
  local form=$1 extra=()
  [ "$form" = native ] && extra=(--manifest "$ROOT/manifest")
  "$CLI" gen --seed "$SEED" --accounts "$ACCOUNTS" --days "$DAYS" --end "$END" \
    --form "$form" "${extra[@]}" -o "$ROOT/events.$form" || fail "churnwatch gen --form $form"
}

# run_form FORM: a fresh Redis, mock cluster and daemon (shipped config, input.preset FORM)
# fed the FORM history; once caught up, one sweep at the wall clock (`churnwatch rescore`),
# then every account's `churnwatch account --json` into WORK/accounts/ID.json and the
# alerts topic into WORK/alerts.jsonl. The daemon and the mock are stopped afterwards; Redis
# stays up (REDIS_PORTS[FORM]) for the final comparison of metrics.
declare -A REDIS_PORTS
run_form() {
  local form=$1 t0=$SECONDS n mark line id
  WORK=$ROOT/$form
  mkdir -p "$WORK/accounts"
  REDIS_PORT=""
  redis_start
  REDIS_PORTS[$form]=$REDIS_PORT
  mock_start "$PARTITIONS"
  write_config "$WORK/cw.yaml" "s/^  preset: native\$/  preset: $form/" \
    "s/^  listen: 127.0.0.1:9464\$/  listen: 127.0.0.1:$(free_port)/"
  grep -q "^  preset: $form\$" "$WORK/cw.yaml" || fail "could not set input.preset: $form"
  ! grep -q "^  listen: 127.0.0.1:9464\$" "$WORK/cw.yaml" || fail "could not set http.listen"
  n=$(wc -l <"$ROOT/events.$form")
  # Keyed by user, as RudderStack keys its Kafka destination: an account's events spread
  # over all partitions (docs/design.md). Unkeyed, the sticky partitioner piles thousands of
  # messages onto one partition at a time, beyond what the mock keeps.
  # Produced whole before the daemon starts: a producer starved of CPU while the daemon
  # reads every partition to its end would look caught up, the clock would go live at the
  # wall clock, and the rest of the history would be too late for it (docs/testing.md).
  cli -c "$WORK/cw.yaml" produce "$ROOT/events.$form" --key user 2>>"$WORK/produce.log" ||
    fail "$form: churnwatch produce"
  daemon_start "$WORK/cw.yaml"
  wait_processed "$n" 150
  # Caught up, the daemon's clock is the wall clock: a sweep finds the silent accounts.
  rescore_and_wait "$WORK/cw.yaml"
  sleep 1 # settle
  for id in "${IDS[@]}"; do
    cli -c "$WORK/cw.yaml" account "$id" --json >"$WORK/accounts/$id.json" ||
      fail "$form: churnwatch account $id"
  done
  topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
  [ -z "$(topic_dump usage-events-dlq | head -c 1)" ] || fail "$form: messages in the DLQ"
  # A clean stop, and nothing from the sanitizers (an ASan build logs there).
  local rc=0
  kill -TERM "$DAEMON_PID" 2>/dev/null || fail "$form: churnwatchd is no longer running"
  wait "$DAEMON_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "$form: churnwatchd exited with status $rc after SIGTERM"
  ! grep -qE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$WORK/daemon.log" ||
    fail "$form: sanitizer report in the daemon log"
  exec 7>&- # the mock serves until EOF on its stdin
  pass "$form: $n events processed, swept, $(wc -l <"$WORK/alerts.jsonl") alerts ($((SECONDS - t0))s)"
}

gen native
mapfile -t IDS < <(python3 -c 'import json,sys; [print(json.loads(l)["account_id"]) for l in open(sys.argv[1])]' "$ROOT/manifest")
[ "${#IDS[@]}" -eq "$ACCOUNTS" ] || fail "manifest holds ${#IDS[@]} accounts, expected $ACCOUNTS"
gen segment
gen cloudevents

# ---- 1. native: alerts against the manifest --------------------------------------------
run_form native
python3 - "$ROOT/manifest" "$ROOT/native" "$ROOT/events.native" "$END" <<'PY' || fail "alerts disagree with the manifest (see above)"
import datetime, json, os, re, sys
from collections import defaultdict

manifest_path, run, events_path, end_text = sys.argv[1:5]
problems = []
def bad(msg):
    problems.append(msg)

def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
END = ts(end_text)
DAY = datetime.timedelta(days=1)

# The shipped config (conf/churnwatch.yaml), as far as the checks need it.
KIND = {"health_low": "score_below", "health_drop": "score_drop", "silent": "inactive",
        "onboarding_stalled": "onboarding", "seat_underuse": "ratio_below",
        "renewal_risk": "renewal", "expansion": "ratio_above"}
SEVERITY = {"health_low": "critical", "health_drop": "warning", "silent": "warning",
            "onboarding_stalled": "warning", "seat_underuse": "info",
            "renewal_risk": "critical", "expansion": "info"}
THRESHOLD = {"health_low": 40, "health_drop": 20, "silent": 14, "onboarding_stalled": 30,
             "seat_underuse": 0.3, "renewal_risk": 50, "expansion": 0.97}
DIRECTION = {rule: "opportunity" if rule == "expansion" else "risk" for rule in KIND}
SEGMENT = {  # segment -> (touch, rule -> overridden threshold / severity / touch)
    "S": ("tech", {"silent": 21}, {}, {"expansion": "sales"}),
    "M": ("low", {}, {}, {"renewal_risk": "high", "expansion": "sales"}),
    "L": ("high", {"health_low": 50, "silent": 7, "seat_underuse": 0.4},
          {"seat_underuse": "warning"}, {"expansion": "sales"}),
}
RENEWAL_WITHIN = 90 * datetime.timedelta(days=1)
ALL_FATES = {"healthy", "onboarded", "declining", "silent", "stalled", "underused",
             "borderline", "recovering", "renewing", "expanding"}
COMPONENTS = {"utilization", "engagement", "penetration"}
GRADES = [("A", 80), ("B", 60), ("C", 40), ("D", 0)]
ONBOARDING_WITHIN = 30 * DAY

def stage_profile(m, at):
    """The lifecycle stage of manifest account m at instant at and the scorecard it selects
    (the shipped score.stages and score.profiles): onboarding for 90 days from created_at,
    then the 90 days before renewal_at, else adopted; only onboarding has its own profile."""
    created, renewal = ts(m["created_at"]), ts(m["renewal_at"])
    stage = ("onboarding" if created >= at or at - created < 90 * DAY else
             "renewal" if renewal >= at and renewal - at <= 90 * DAY else "adopted")
    return stage, "onboarding" if stage == "onboarding" else "default"

def threshold(rule, seg):
    return SEGMENT[seg][1].get(rule, THRESHOLD[rule])

accounts = {}
for line in open(manifest_path):
    m = json.loads(line)
    accounts[m["account_id"]] = m
# The default mix has every fate, so every rule's story is told through the daemon.
missing = ALL_FATES - {m["fate"] for m in accounts.values()}
if missing:
    bad(f"the manifest has no account of the fates {sorted(missing)}")

# Last activity of every account (every native event but the traits event), for `silent`.
activity = defaultdict(list)
for line in open(events_path):
    e = json.loads(line)
    if e["type"] != "account_updated":
        activity[e["account_id"]].append(ts(e["ts"]))

# ---- every alert is a well-formed churnwatch.alert.v1 message (docs/alerts.md)
alerts = []
num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
for i, line in enumerate(open(os.path.join(run, "alerts.jsonl"))):
    try:
        a = json.loads(line)
    except ValueError as exc:
        bad(f"alert {i}: not JSON ({exc}): {line[:80]!r}")
        continue
    where = f"alert {i} ({a.get('account_id')}/{a.get('rule')}/{a.get('status')})"
    before = len(problems)
    for key, ok in [
        ("schema", lambda v: v == "churnwatch.alert.v1"),
        ("alert_id", lambda v: isinstance(v, str) and v != ""),
        ("account_id", lambda v: v in accounts),
        ("rule", lambda v: v in KIND),
        ("kind", lambda v: v == KIND.get(a.get("rule"))),
        ("status", lambda v: v in ("firing", "resolved")),
        ("severity", lambda v: v in ("info", "warning", "critical")),
        ("score", lambda v: num(v) and 0 <= v <= 100),
        ("previous_score", lambda v: v is None or (num(v) and 0 <= v <= 100)),
        ("grade", lambda v: isinstance(v, str) and v in dict(GRADES)),
        ("threshold", num),
        ("touch", lambda v: v in ("high", "low", "tech", "sales")),
        ("direction", lambda v: v == DIRECTION.get(a.get("rule"))),
        ("reason", lambda v: isinstance(v, str) and v != ""),
        ("components", lambda v: isinstance(v, dict) and set(v) == COMPONENTS and
            all(x is None or (num(x) and 0 <= x <= 1) for x in v.values())),
        ("observed_at", lambda v: isinstance(v, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", v) is not None),
        ("emitted_at", lambda v: isinstance(v, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", v) is not None),
    ]:
        if key not in a:
            bad(f"{where}: no field {key}")
        elif not ok(a[key]):
            bad(f"{where}: bad {key}: {a[key]!r}")
    try:
        a["_obs"], a["_emit"] = ts(a["observed_at"]), ts(a["emitted_at"])
    except (KeyError, TypeError, ValueError):
        bad(f"{where}: observed_at/emitted_at not RFC 3339")
    if len(problems) > before:
        continue
    seg = accounts[a["account_id"]]["segment"]
    rule = a["rule"]
    want_sev = SEGMENT[seg][2].get(rule, SEVERITY[rule])
    if a.get("severity") != want_sev:
        bad(f"{where}: severity {a.get('severity')}, the config says {want_sev}")
    # Documented precedence (docs/configuration.md): the segment's override of the rule,
    # then the segment's touch, before the rule's own.
    want_touch = SEGMENT[seg][3].get(rule, SEGMENT[seg][0])
    if a.get("touch") != want_touch:
        bad(f"{where}: touch {a.get('touch')}, segment {seg} says {want_touch}")
    # Who the account is (docs/alerts.md): the traits its history gave it.
    m = accounts[a["account_id"]]
    if (a.get("segment") != seg or a.get("seats") != m["seats"] or
            not isinstance(a.get("renewal_at"), str) or
            ts(a["renewal_at"]) != ts(m["renewal_at"]) or
            not isinstance(a.get("owner"), str) or not isinstance(a.get("plan"), str)):
        bad(f"{where}: account context segment={a.get('segment')} seats={a.get('seats')} "
            f"renewal_at={a.get('renewal_at')} owner={a.get('owner')} plan={a.get('plan')}; "
            f"the manifest says segment={seg} seats={m['seats']} renewal_at={m['renewal_at']}")
    stage, profile = stage_profile(m, a["_obs"])
    if a.get("stage") != stage or a.get("profile") != profile:
        bad(f"{where}: stage {a.get('stage')} profile {a.get('profile')} at {a['observed_at']}; "
            f"created_at {m['created_at']} and renewal_at {m['renewal_at']} make it stage "
            f"{stage} profile {profile}")
    if num(a.get("threshold")) and abs(a["threshold"] - threshold(rule, seg)) > 1e-9:
        bad(f"{where}: threshold {a['threshold']}, the config says {threshold(rule, seg)}")
    if num(a.get("score")) and a.get("grade") in dict(GRADES):
        # The grade is the band of the score itself, the alert carries it rounded to two
        # decimals (docs/alerts.md): 39.997 is sent as 40.0 with grade D.
        want = {next((g for g, lo in GRADES if a["score"] + d >= lo), GRADES[-1][0])
                for d in (-0.005, 0.005)}
        if a["grade"] not in want:
            bad(f"{where}: grade {a['grade']} for score {a['score']}")
    if a["_obs"] > a["_emit"] + datetime.timedelta(seconds=1):
        bad(f"{where}: observed_at {a['observed_at']} after emitted_at {a['emitted_at']}")
    alerts.append(a)

# ---- episodes per (account, rule): firing/resolved alternate, one alert_id per episode
# At-least-once delivery may repeat a message with its alert_id; such exact repeats are
# what consumers de-duplicate, so they are dropped (and counted) first.
seen, dups = set(), 0
episodes = defaultdict(list)  # (account, rule) -> [[firing alert, resolved alert or None]]
for a in alerts:
    k = (a["alert_id"], a["status"], bool(a.get("reminder")), a["account_id"], a["rule"])
    if k in seen:
        dups += 1
        continue
    seen.add(k)
    eps = episodes[(a["account_id"], a["rule"])]
    where = f"{a['account_id']}/{a['rule']}"
    if a.get("reminder"):
        if not eps or eps[-1][1] is not None or eps[-1][0]["alert_id"] != a["alert_id"]:
            bad(f"{where}: a reminder {a['alert_id']} outside its firing episode")
    elif a["status"] == "firing":
        if eps and eps[-1][1] is None:
            bad(f"{where}: firing {a['alert_id']} while {eps[-1][0]['alert_id']} still fires")
        if any(e[0]["alert_id"] == a["alert_id"] for e in eps):
            bad(f"{where}: alert_id {a['alert_id']} reused by a new episode")
        eps.append([a, None])
    else:
        if not eps or eps[-1][1] is not None:
            bad(f"{where}: resolved {a['alert_id']} without a firing episode")
        elif eps[-1][0]["alert_id"] != a["alert_id"]:
            bad(f"{where}: resolved carries {a['alert_id']}, the episode is "
                f"{eps[-1][0]['alert_id']}")
        else:
            eps[-1][1] = a
for (acct, rule), eps in episodes.items():
    if len(eps) > 2:
        bad(f"{acct}/{rule}: {len(eps)} firing episodes (flapping): " +
            ", ".join(e[0]["observed_at"][:10] for e in eps))

# ---- open alerts at the end: the account view and the topic agree
open_at_end = {}
for acct in accounts:
    view = json.load(open(os.path.join(run, "accounts", acct + ".json")))
    open_at_end[acct] = {o["rule"]: o["alert_id"] for o in view.get("alerts", [])}
    topic_open = {rule: eps[-1][0]["alert_id"] for (a, rule), eps in episodes.items()
                  if a == acct and eps[-1][1] is None}
    if open_at_end[acct] != topic_open:
        bad(f"{acct}: open alerts {open_at_end[acct]} in the account view, {topic_open} "
            f"by the alerts topic")
    if (view.get("stage"), view.get("profile")) != stage_profile(accounts[acct], END):
        bad(f"{acct}: the account view says stage {view.get('stage')} profile "
            f"{view.get('profile')}, the manifest makes it {stage_profile(accounts[acct], END)}")

stages_seen = {stage_profile(m, END)[0] for m in accounts.values()}
if not {"onboarding", "renewal", "adopted"} <= stages_seen:
    bad(f"the history exercises only the stages {sorted(stages_seen)}")

# ---- each account against its fate
fired = {acct: {rule for (a, rule) in episodes if a == acct} for acct in accounts}
relaxed = []
for acct, m in accounts.items():
    fate, seg = m["fate"], m["segment"]
    must_fire = set(m["fires"])
    must_be_firing = set(m["firing_at_end"])
    allowed = must_fire | set(m["may_fire"])
    quiet = END - max(activity[acct])
    # Calibration: the generator silences a `silent` account for the last 15-34 days
    # whatever its segment, but the shipped config waits 21 days for segment S
    # (segments.S.rules.silent.after): a shorter silence cannot fire. Required only when
    # the account was quiet for its segment's `after` at the end of the history.
    if fate == "silent" and quiet < threshold("silent", seg) * DAY:
        must_fire.discard("silent")
        must_be_firing.discard("silent")
        relaxed.append(f"{acct} ({seg}) quiet {quiet.days}d < {threshold('silent', seg)}d: "
                       f"silent not required")
    # Calibration: an onboarded account's users register in index order over ~10 days
    # (lib/gen.c plan_users), so its second week has 1-2 active seats and scores 8-35;
    # with score.min_observed_days: 7 (the most a 7d window allows) health_low fires then
    # and resolves once the users arrive. Allowed only as that early, resolved episode.
    if fate == "onboarded":
        created = ts(m["created_at"])
        for e in episodes.get((acct, "health_low"), []):
            if e[0]["_obs"] > created + 21 * DAY:
                bad(f"{acct}: onboarded, health_low fired {e[0]['observed_at']}, "
                    f"{(e[0]['_obs'] - created).days} days after created_at")
        allowed.add("health_low")
        if (acct, "health_low") in episodes:
            relaxed.append(f"{acct} (onboarded): health_low in its first weeks, resolved")
    # Calibration: a borderline account has 45% of its seats as users, so ~0.38 of the
    # seats are active over 28 days: under seat_underuse's enter 0.3 never, but under the
    # 0.4 of segment L (segments.L.rules.seat_underuse.enter).
    if fate == "borderline" and seg == "L":
        allowed.add("seat_underuse")
        if (acct, "seat_underuse") in episodes:
            relaxed.append(f"{acct} (borderline, L): seat_underuse")
    # Calibration (and a daemon limitation, see the test's report): the recovering dip
    # bottoms out at a score of ~35-45 depending on the weekday the history ends on, right
    # at health_low's enter 40; and during a backfill the daemon scores an account only
    # at the end of a batch that touched it (~1 day of event time per 2000-message batch),
    # so a trough of a day or two below 40 may be passed over. health_low may fire; if it
    # does, it must have resolved by the end (checked below).
    if fate == "recovering" and "health_low" in must_fire:
        must_fire.discard("health_low")
        allowed.add("health_low")
        if (acct, "health_low") not in episodes:
            relaxed.append(f"{acct} (recovering): health_low did not fire")
    for rule in sorted(must_fire - fired[acct]):
        bad(f"{acct} ({fate}, {seg}): {rule} never fired; fired: {sorted(fired[acct])}")
    for rule in sorted(must_be_firing - set(open_at_end[acct])):
        bad(f"{acct} ({fate}, {seg}): {rule} not firing at the end; open: "
            f"{sorted(open_at_end[acct])}")
    for rule in sorted(fired[acct] - allowed):
        eps = episodes[(acct, rule)]
        bad(f"{acct} ({fate}, {seg}): {rule} fired {eps[0][0]['observed_at']} "
            f"(score {eps[0][0]['score']}), not expected for this fate")
    if fate in ("recovering", "onboarded") and open_at_end[acct]:
        bad(f"{acct} ({fate}): still firing at the end: {sorted(open_at_end[acct])}")
    # silent fires only after `after` without activity, as of the daemon's clock
    for e in episodes.get((acct, "silent"), []):
        last = max((t for t in activity[acct] if t <= e[0]["_obs"]), default=None)
        if last is not None and e[0]["_obs"] - last < threshold("silent", seg) * DAY:
            bad(f"{acct}: silent fired {e[0]['observed_at']}, "
                f"{e[0]['_obs'] - last} after the last activity")
    # renewal_risk fires only while renewal_at lies ahead within 90 days, below enter (the
    # alert's numbers are rounded to 2 decimals: 49.997 is sent as 50.0)
    renewal = ts(m["renewal_at"])
    for e in episodes.get((acct, "renewal_risk"), []):
        if not renewal - RENEWAL_WITHIN <= e[0]["_obs"] < renewal or e[0]["score"] > 50:
            bad(f"{acct}: renewal_risk fired {e[0]['observed_at']} (score {e[0]['score']}), "
                f"renewal_at {m['renewal_at']}")
    # expansion fires only above 0.97 of the seats active over the long window (33 of 34
    # seats, 0.9706, is sent as 0.97)
    for e in episodes.get((acct, "expansion"), []):
        if not (num(e[0].get("value")) and e[0]["value"] >= 0.97):
            bad(f"{acct}: expansion fired at {e[0].get('value')!r} of the seats active")
    # onboarding_stalled fires only once `within` of created_at has passed
    for e in episodes.get((acct, "onboarding_stalled"), []):
        if e[0]["_obs"] < ts(m["created_at"]) + ONBOARDING_WITHIN:
            bad(f"{acct}: onboarding_stalled fired {e[0]['observed_at']}, before "
                f"created_at + 30d")

# ---- summary per fate
print(f"{len(alerts)} alerts ({dups} repeated deliveries), {len(episodes)} (account, rule) "
      f"pairs fired")
print(f"  {'fate':<11} {'n':>2}  rules fired (accounts) | open at the end (accounts)")
fates = defaultdict(list)
for acct, m in accounts.items():
    fates[m["fate"]].append(acct)
def tally(sets):
    count = defaultdict(int)
    for s in sets:
        for rule in s:
            count[rule] += 1
    return ", ".join(f"{r} {c}" for r, c in sorted(count.items())) or "-"
for fate, accts in sorted(fates.items()):
    print(f"  {fate:<11} {len(accts):>2}  {tally(fired[a] for a in accts)} | "
          f"{tally(open_at_end[a] for a in accts)}")
for line in relaxed:
    print(f"  relaxed: {line}")
for p in problems:
    print(f"FAIL: {p}")
sys.exit(1 if problems else 0)
PY
pass "native: alerts match every account's fate"

# ---- 2. the same history in the segment and cloudevents forms ----------------------------
run_form segment
run_form cloudevents
# Compare all three at once (the windows end today: one moment for all).
for form in native segment cloudevents; do
  REDIS_PORT=${REDIS_PORTS[$form]}
  for id in "${IDS[@]}"; do
    cli -c "$ROOT/$form/cw.yaml" account "$id" --json >"$ROOT/$form/accounts/$id.json" ||
      fail "$form: churnwatch account $id"
  done
done
python3 - "$ROOT" "${IDS[@]}" <<'PY' || fail "the preset forms disagree with the native form"
import json, os, sys
root, ids = sys.argv[1], sys.argv[2:]

def flat(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out

problems = 0
for form in ("segment", "cloudevents"):
    for acct in ids:
        load = lambda f: json.load(open(os.path.join(root, f, "accounts", acct + ".json")))
        a, b = load("native"), load(form)
        for key in ("metrics", "traits"):
            fa, fb = flat(a.get(key)), flat(b.get(key))
            diff = {k: (fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
                    if fa.get(k) != fb.get(k)}
            if not fa or diff:
                problems += 1
                print(f"FAIL: {form} {acct}: {key} (native, {form}): {diff or 'none'}")
sys.exit(1 if problems else 0)
PY
pass "segment and cloudevents forms: every account's metrics and traits equal the native form's"
WORK=$ROOT # success: the trap removes everything
