"""http_siege.py - besiege churnwatchd's operations endpoint and check it keeps answering,
for tests/integration/daemon_http_siege.sh. Loopback addresses only; bounded in count and
time; stops by itself.

  http_siege.py PORT [options]

A slowloris first: --slow ADDR:COUNT,... connections bound to those source addresses, each
sending a request line and then one more header byte a second, never finishing its
headers; a connection the server closes is opened again on the next tick. Once every one
of them is connected and has sent its request line, while they keep trickling:
  - probes: --probes rounds of GET /healthz and GET /readyz, one at a time, each with a
    --probe-timeout second client timeout;
  - scrapers: --scrapes GET /metrics over --scrapers concurrent clients (a new connection
    each), each with a 30 s client timeout.
The siege ends when the probes and scrapers are done and the server has closed every slow
connection at least once (the request deadline; the idle timeout cannot do it, the
connections are never idle), or after --max-seconds (then no new probe or scrape is sent
and those left count as failed).

Exit 0 when every probe answered 200, every scrape was a complete 200 (Content-Length
bytes, ending with the build_info series) and every slow connection was closed by the
server; otherwise 1, with what went wrong. A summary line goes to stdout either way.
"""
import argparse, concurrent.futures, errno, http.client, selectors, socket, sys, threading, time

TICK = 1.0  # seconds between two header bytes of a slow connection


class Slow:
    """One slowloris connection slot: reopened whenever the server closes it."""

    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.sock = None
        self.connected = False
        self.sent_line = False
        self.started = False  # connected and sent its request line at least once
        self.closed_by_server = 0

    def open(self, sel):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((self.addr, 0))
        rc = s.connect_ex(("127.0.0.1", self.port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise SystemExit(f"slowloris: connect from {self.addr}: {errno.errorcode.get(rc, rc)}")
        self.sock, self.connected, self.sent_line = s, False, False
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def drop(self, sel, by_server):
        sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        if by_server:
            self.closed_by_server += 1

    def send(self, sel, data):
        try:
            self.sock.send(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.drop(sel, True)
            return False
        except BlockingIOError:
            return True  # the server stopped reading: the byte is simply not sent


def slowloris(slots, stop, ready, sel):
    request_line = b"GET /healthz HTTP/1.1\r\nHost: churnwatch\r\nX-Slow: "
    next_tick = time.monotonic()
    while not stop.is_set():
        for key, events in sel.select(timeout=0.1):
            slot = key.data
            if events & selectors.EVENT_WRITE and not slot.connected:
                err = slot.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    slot.drop(sel, True)
                    continue
                slot.connected = True
                sel.modify(slot.sock, selectors.EVENT_READ, slot)
                slot.sent_line = slot.send(sel, request_line)
                slot.started = slot.started or slot.sent_line
                continue
            if events & selectors.EVENT_READ:
                try:
                    data = slot.sock.recv(4096)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if not data:  # closed by the server (anything it said first is ignored)
                    slot.drop(sel, True)
        if all(s.started for s in slots):
            ready.set()
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + TICK
            for s in slots:
                if s.sock is None:
                    s.open(sel)
                elif s.connected and s.sent_line:
                    s.send(sel, b"a")
    for s in slots:
        if s.sock is not None:
            s.drop(sel, False)


def get(port, path, timeout):
    """(status, body, error): one GET on a new connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read()
        length = r.getheader("Content-Length")
        if length is not None and int(length) != len(body):
            return r.status, body, f"short body {len(body)}/{length}"
        return r.status, body, None
    except (OSError, http.client.HTTPException) as e:
        return None, b"", type(e).__name__ + (f" {e}" if str(e) else "")
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--slow", required=True, help="ADDR:COUNT,... (127.0.0.0/8 only)")
    ap.add_argument("--probes", type=int, default=30)
    ap.add_argument("--probe-timeout", type=float, default=5.0)
    ap.add_argument("--scrapers", type=int, default=100)
    ap.add_argument("--scrapes", type=int, default=2000)
    ap.add_argument("--max-seconds", type=float, default=150.0)
    a = ap.parse_args()

    slots = []
    for item in a.slow.split(","):
        addr, count = item.rsplit(":", 1)
        if not addr.startswith("127."):
            raise SystemExit(f"--slow {addr}: loopback (127.0.0.0/8) addresses only")
        slots += [Slow(addr, a.port) for _ in range(int(count))]

    deadline = time.monotonic() + a.max_seconds
    sel = selectors.DefaultSelector()
    stop, ready = threading.Event(), threading.Event()
    attacker = threading.Thread(target=slowloris, args=(slots, stop, ready, sel), daemon=True)
    attacker.start()
    problems = []
    if not ready.wait(timeout=max(0.0, deadline - time.monotonic())):
        problems.append("the slow connections were not all established")

    probe_fail = []

    def probes():
        for i in range(a.probes):
            for path in ("/healthz", "/readyz"):
                if time.monotonic() >= deadline:
                    probe_fail.append(f"{path} #{i + 1}: not sent, the siege's time is over")
                    continue
                status, _, err = get(a.port, path, a.probe_timeout)
                if status != 200:
                    probe_fail.append(f"{path} #{i + 1}: {err or status}")
            time.sleep(0.2)  # pacing, so the probes span the siege

    scrape_fail = []

    def scrape(_):
        if time.monotonic() >= deadline:
            scrape_fail.append("not sent, the siege's time is over")
            return
        status, body, err = get(a.port, "/metrics", 30.0)
        if err or status != 200 or b"\nchurnwatch_build_info{" not in body or not body.endswith(b"\n"):
            scrape_fail.append(err or f"status {status}, {len(body)} bytes")

    prober = threading.Thread(target=probes)
    prober.start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.scrapers) as pool:
        list(pool.map(scrape, range(a.scrapes)))
    prober.join()
    while any(s.closed_by_server == 0 for s in slots) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the attacker's counts, not synchronising with the server
    stop.set()
    attacker.join()

    never_closed = sum(1 for s in slots if s.closed_by_server == 0)
    closed = sum(s.closed_by_server for s in slots)
    print(f"siege: {len(slots)} slow connections (closed by the server {closed} times, "
          f"{never_closed} never); probes {2 * a.probes - len(probe_fail)}/{2 * a.probes} ok; "
          f"scrapes {a.scrapes - len(scrape_fail)}/{a.scrapes} complete 200")
    if probe_fail:
        problems.append(f"{len(probe_fail)} probes failed, first: {'; '.join(probe_fail[:5])}")
    if scrape_fail:
        problems.append(f"{len(scrape_fail)} scrapes failed, first: {'; '.join(scrape_fail[:5])}")
    if never_closed:
        problems.append(f"{never_closed} slow connections were never closed by the server "
                        f"within {a.max_seconds:.0f} s")
    for p in problems:
        print("siege: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
