"""rstate.py - read churnwatch state from one Redis node or every master of a cluster, for
the integration tests, the fault suite and the scale-out benchmark (no client library
needed; the shell side is `rstate` in tests/integration/harness.bash).
PORTS: comma-separated loopback ports; keys are read on the node where SCAN finds them.
TOPIC: the usage topic whose o:TOPIC:P watermarks count as applied ($CW_TOPIC, default
usage-events).

  dump PORTS [HORIZON]  every account's :d (counters decoded, values fields day:slot as
                        stored), :u, :m, :o field, the metric
                        slots, the accounts index and the scores index, one sorted line
                        each, global keys named without the cluster's {cw} tag; with
                        HORIZON, without rows already outside the store horizon. The
                        version of :m (v) is left out: it counts writes, two runs that
                        store the same state write it differently (docs/state.md).
                        Callers drop with grep what they do not compare (e.g. ':m h_last=').
  rules PORTS           account, rule, stored state (tab-separated)
  applied PORTS         events applied: the sum over partitions of the highest applied
                        offset (+1) of any account
  wait-applied PORTS N SECONDS [PID]
                        until applied >= N (exit 0), PID dies (exit 2) or time runs out (1)
"""
import os, socket, struct, sys, time
class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+": return rest
        if t == b"-": raise SystemExit("redis: " + rest.decode())
        if t == b":": return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise SystemExit("redis: bad reply %r" % line)
    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()
conns = [Conn(int(p)) for p in sys.argv[2].split(",")]
def keys(pattern):
    out = []
    for c in conns:
        cur = b"0"
        while True:
            cur, batch = c.cmd("SCAN", cur, "MATCH", pattern, "COUNT", 1000)
            out += [(k, c) for k in batch]
            if cur == b"0": break
    return sorted(set(out), key=lambda kc: kc[0])
def name(k): return k.decode("utf-8", "backslashreplace").replace("{cw}", "")
def dump(horizon):
    lines, last_day = [], {}
    for k, c in keys("cw:{*}:m"):
        v = c.cmd("HGET", k, "last_day")
        if v is not None: last_day[name(k)[:-2]] = int(v)
    for k, c in keys("*"):
        ks = name(k)
        if ks.endswith((":d", ":u", ":m", ":o")) or ks == "cw:metrics":
            kv = c.cmd("HGETALL", k)
            for i in range(0, len(kv), 2):
                field, val = kv[i].decode("utf-8", "backslashreplace"), kv[i + 1]
                if field == "v" and ks.endswith(":m"): continue
                if horizon is not None and ks.endswith((":d", ":u")):
                    day = int(field.split(":")[0] if ks.endswith(":d") else val)
                    if day <= last_day.get(ks[:-2], day) - horizon: continue
                if ks.endswith(":d") and ":" in field:   # a metric's values of the day: text
                    v = val.decode()
                elif ks.endswith(":d"):
                    n = list(struct.unpack("<%dI" % (len(val) // 4), val[: len(val) // 4 * 4]))
                    while n and n[-1] == 0: n.pop()   # the packed width is not content
                    v = ",".join(map(str, n))
                else:
                    v = val.decode("utf-8", "backslashreplace")
                lines.append("%s %s=%s" % (ks, field, v))
        elif ks in ("cw:accounts", "cw:scores"):
            z = c.cmd("ZRANGE", k, 0, -1, "WITHSCORES")
            for i in range(0, len(z), 2):
                lines.append("%s %s=%s" % (ks, z[i].decode(), z[i + 1].decode()))
    for l in sorted(lines): print(l)
def applied():
    top, prefix = {}, ("o:%s:" % os.environ.get("CW_TOPIC", "usage-events")).encode()
    for k, c in keys("cw:{*}:m"):
        kv = c.cmd("HGETALL", k)
        for i in range(0, len(kv), 2):
            if kv[i].startswith(prefix):
                top[kv[i]] = max(top.get(kv[i], -1), int(kv[i + 1]))
    return sum(v + 1 for v in top.values())
if sys.argv[1] == "dump":
    dump(int(sys.argv[3]) if len(sys.argv) > 3 else None)
elif sys.argv[1] == "rules":
    for k, c in keys("cw:{*}:r"):
        acct = name(k)[4:-3]
        kv = c.cmd("HGETALL", k)
        for i in range(0, len(kv), 2):
            print("%s\t%s\t%s" % (acct, kv[i].decode(), kv[i + 1].decode()))
elif sys.argv[1] == "applied":
    print(applied())
elif sys.argv[1] == "wait-applied":
    want, end = int(sys.argv[3]), time.time() + float(sys.argv[4])
    pid = int(sys.argv[5]) if len(sys.argv) > 5 else None
    while True:
        got = applied()
        if got >= want: sys.exit(0)
        if pid is not None:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print("daemon exited with %d of %d events applied" % (got, want)); sys.exit(2)
        if time.time() > end:
            print("%d of %d events applied" % (got, want)); sys.exit(1)
        time.sleep(0.02)
else:
    raise SystemExit("rstate.py: unknown command %r (see its header)" % sys.argv[1])
