# rstate.py - a minimal Redis client for the fault tests: dump the state, rule states,
# events applied (from the o:TOPIC:P watermarks; TOPIC from $CW_TOPIC, default
# usage-events), wait until N are applied. Usage: see faults.bash.
import os, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
f = s.makefile("rb")
def read():
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+": return rest
    if t == b"-": raise SystemExit("redis: " + rest.decode())
    if t == b":": return int(rest)
    if t == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [read() for _ in range(n)]
    raise SystemExit("redis: bad reply %r" % line)
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    return read()
def keys(pattern):
    out, cur = [], b"0"
    while True:
        cur, batch = cmd("SCAN", cur, "MATCH", pattern, "COUNT", 1000)
        out += batch
        if cur == b"0": return sorted(set(out))
def dump(horizon):
    lines, last_day = [], {}
    for k in keys("cw:{*}:m"):
        v = cmd("HGET", k, "last_day")
        if v is not None: last_day[k.decode("utf-8", "backslashreplace")[:-2]] = int(v)
    for k in keys("*"):
        ks = k.decode("utf-8", "backslashreplace")
        if ks.endswith((":d", ":u", ":m", ":o")) or ks == "cw:metrics":
            kv = cmd("HGETALL", k)
            for i in range(0, len(kv), 2):
                field, val = kv[i].decode("utf-8", "backslashreplace"), kv[i + 1]
                if ks.endswith(":m") and field == "h_last": continue  # follows :h (not compared)
                if horizon is not None and ks.endswith((":d", ":u")):
                    day = int(field if ks.endswith(":d") else val)
                    if day <= last_day.get(ks[:-2], day) - horizon: continue
                if ks.endswith(":d"):
                    c = list(struct.unpack("<%dI" % (len(val) // 4), val[: len(val) // 4 * 4]))
                    while c and c[-1] == 0: c.pop()   # the packed width is not content
                    v = ",".join(map(str, c))
                else:
                    v = val.decode("utf-8", "backslashreplace")
                lines.append("%s %s=%s" % (ks, field, v))
        elif ks == "cw:accounts":
            z = cmd("ZRANGE", k, 0, -1, "WITHSCORES")
            for i in range(0, len(z), 2):
                lines.append("%s %s=%s" % (ks, z[i].decode(), z[i + 1].decode()))
    for l in sorted(lines): print(l)
def applied():
    top = {}
    for k in keys("cw:{*}:m"):
        kv = cmd("HGETALL", k)
        for i in range(0, len(kv), 2):
            if kv[i].startswith(("o:%s:" % os.environ.get("CW_TOPIC", "usage-events")).encode()):
                p = kv[i]
                top[p] = max(top.get(p, -1), int(kv[i + 1]))
    return sum(v + 1 for v in top.values())
if sys.argv[1] == "dump":
    dump(int(sys.argv[3]) if len(sys.argv) > 3 else None)
elif sys.argv[1] == "rules":
    for k in keys("cw:{*}:r"):
        acct = k.decode()[4:-3]
        kv = cmd("HGETALL", k)
        for i in range(0, len(kv), 2):
            print("%s\t%s\t%s" % (acct, kv[i].decode(), kv[i + 1].decode()))
elif sys.argv[1] == "applied":
    print(applied())
elif sys.argv[1] == "wait-applied":
    want, end, pid = int(sys.argv[3]), time.time() + float(sys.argv[4]), int(sys.argv[5])
    while True:
        got = applied()
        if got >= want: sys.exit(0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("daemon exited with %d of %d events applied" % (got, want)); sys.exit(2)
        if time.time() > end:
            print("%d of %d events applied" % (got, want)); sys.exit(1)
        time.sleep(0.02)
