#!/usr/bin/env python3
# vary.py - makes the bench's alike accounts unlike, for timing the web console's pages
# (tests/bench/sweep.sh): prints Redis commands (RESP, for `redis-cli --pipe`) that write,
# in the layout the daemon keeps (docs/state.md "Keys"), for account i of acct-%07d:
#   - a score in the score index spread over the four grades (pseudo-random, fixed seed);
#   - traits: segment smb/mid/enterprise, owner owner-<i % 50>, or "needle" for 1 in 10,000;
#   - for 1 in 10 accounts: health_low firing, every other one of them silent pending too,
#     and five resolved episodes of health_low (fields :ep:<alert_id> ->
#     started|resolved|severity|rule of :r, the recent episodes of docs/state.md: the
#     console's pages read them with the rule states);
#   - for acct-0000003 besides: 400 days of score history.
#   python3 tests/bench/vary.py ACCOUNTS NOW_MS | redis-cli -p PORT --pipe
import hashlib
import random
import sys

n, now = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(11)
out = sys.stdout.buffer
DAY = 86400000


def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    out.write(b"".join(parts))


def alert_id(acct, rule, start):
    return hashlib.md5(("%s|%s|%d" % (acct, rule, start)).encode()).hexdigest()


for i in range(n):
    a = "acct-%07d" % i
    m = "cw:{%s}:m" % a
    owner = "needle" if i % 10000 == 4242 else "owner-%d" % (i % 50)
    cmd("HSET", m, "tr:segment", ("smb", "mid", "enterprise")[i % 3], "tr:owner", owner)
    cmd("ZADD", "cw:scores", "%.2f" % (rnd.random() * 100), a)
    if i % 10 != 3:
        continue
    r = "cw:{%s}:r" % a
    since = now - (i % 30 + 1) * DAY
    fields = ["health_low", "F|%d|0|%d|1|%s" % (since, since, alert_id(a, "health_low", since))]
    if i % 20 == 3:
        fields += ["silent", "P|%d|0|0|0|" % (now - 3600000)]
    for k in range(5):
        fired = since - (k + 1) * 10 * DAY
        fields += [":ep:" + alert_id(a, "health_low", fired),
                   "%d|%d|w|health_low" % (fired, fired + 3 * DAY)]
    cmd("HSET", r, *fields)
    if i == 3:
        h = "cw:{%s}:h" % a
        today = now // DAY
        days = []
        for d in range(400):
            days += [today - d, "%.4f" % (50 + 30 * rnd.random())]
        cmd("HSET", h, *days)
        cmd("HSET", m, "h_last", today)
