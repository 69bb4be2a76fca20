#!/usr/bin/python3
"""diy_consumer.py - diy_consumer.c's DIY consumer in Python (confluent-kafka + redis-py).

The same work as diy_consumer.c (see its header): per event HINCRBY
diy:{account}:counts:DAY TYPE 1, PFADD diy:{account}:users:DAY USER, HSET diy:{account}
last_seen TS, in a redis-py pipeline (no MULTI) executed every --pipeline events (1,000) or
when a consume() brings nothing within 100 ms; then the consumed offsets are committed
asynchronously (the final commit synchronously): at-least-once. Stops after --count
messages and prints the same "messages=N ... rate=R ... rate_from_first=RF" line.

Debian 12: python3-confluent-kafka (1.7.0, on the system librdkafka 2.0.2) and
python3-redis (4.3.4); run it with /usr/bin/python3, where Debian installs them.
"""
import argparse
import json
import sys
import time

import redis
from confluent_kafka import Consumer, KafkaError, KafkaException


def redis_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text}: expected HOST:PORT")
    return host, int(port)


def positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text}: not a positive number")
    return int(text)


def append_event(pipe, value):
    """Queues the event's writes; False if the message is not an event (skipped)."""
    try:
        ev = json.loads(value)
    except (ValueError, TypeError):
        return False
    if not isinstance(ev, dict):
        return False
    account, etype, ts, user = (ev.get(k) for k in ("account_id", "type", "ts", "user_id"))
    if not all(isinstance(v, str) and v for v in (account, etype, ts)) or len(ts) < 10:
        return False
    day = ts[:10]  # the date of the RFC 3339 time, taken as written
    pipe.hincrby(f"diy:{{{account}}}:counts:{day}", etype, 1)
    if isinstance(user, str) and user:
        pipe.pfadd(f"diy:{{{account}}}:users:{day}", user)
    pipe.hset(f"diy:{{{account}}}", "last_seen", ts)
    return True


def main():
    p = argparse.ArgumentParser(description="the DIY consumer, in Python")
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--redis", required=True, type=redis_address, help="HOST:PORT")
    p.add_argument("--count", required=True, type=positive)
    p.add_argument("--group", default="diy-consumer-py")
    p.add_argument("--pipeline", default=1000, type=positive)
    p.add_argument("--idle-timeout", default=60, type=positive)
    a = p.parse_args()

    t0 = time.monotonic()
    r = redis.Redis(host=a.redis[0], port=a.redis[1])
    r.ping()
    commit_failures = 0

    def on_commit(err, _partitions):
        nonlocal commit_failures
        if err is not None and err.code() != KafkaError._NO_OFFSET:
            commit_failures += 1
            print(f"diy_consumer.py: offset commit failed: {err}", file=sys.stderr)

    consumer = Consumer({
        "bootstrap.servers": a.brokers,
        "group.id": a.group,
        "client.id": "diy-consumer-py",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # churnwatchd's fetch settings
        "max.partition.fetch.bytes": 262144,
        "queued.max.messages.kbytes": 8192,
        "fetch.wait.max.ms": 50,
        "on_commit": on_commit,
    })
    consumer.subscribe([a.topic])
    pipe = r.pipeline(transaction=False)
    messages = bad = commands = flushes = pending = 0
    first = None
    last = time.monotonic()

    def flush(final):
        nonlocal commands, flushes, pending
        commands += len(pipe.execute())
        pending = 0
        flushes += 1
        try:
            consumer.commit(asynchronous=not final)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:
                raise

    while messages < a.count:
        batch = consumer.consume(num_messages=min(a.pipeline - pending, a.count - messages),
                                 timeout=0.1)
        if not batch:
            if pending:  # nothing for 100 ms: acknowledge what is pending
                flush(False)
            if time.monotonic() - last > a.idle_timeout:
                sys.exit(f"diy_consumer.py: no message for {a.idle_timeout} s "
                         f"({messages} of {a.count} consumed)")
            continue
        last = time.monotonic()
        for m in batch:
            if m.error():
                if m.error().fatal():
                    raise KafkaException(m.error())
                print(f"diy_consumer.py: {m.error()}", file=sys.stderr)
                continue
            if first is None:
                first = last
            messages += 1
            if append_event(pipe, m.value()):
                pending += 1
            else:
                bad += 1
        if pending >= a.pipeline or messages >= a.count:
            flush(messages >= a.count)
    done = time.monotonic()
    print("command: " + " ".join(sys.argv))
    print(f"messages={messages} bad={bad} redis_commands={commands} flushes={flushes} "
          f"commit_failures={commit_failures} seconds={done - t0:.3f} rate={messages / (done - t0):.0f} "
          f"first_message_seconds={first - t0:.3f} "
          f"rate_from_first={messages / (done - first) if done > first else 0:.0f}")
    consumer.close()


if __name__ == "__main__":
    main()
