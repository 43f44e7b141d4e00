#!/usr/bin/env python3
"""Health check for the test Kafka broker, Python standard library only.

Sends a Kafka Metadata request (v4) for one topic with allow_auto_topic_creation=true and
succeeds once the broker lists itself and the topic has a partition with a leader. That proves
the broker serves requests and auto-creates topics with a replication factor it can satisfy,
which Milvus relies on (it never creates topics itself).

    kafka_ping.py HOST:PORT [TOPIC]        exit 0 when healthy, 1 otherwise
"""
import socket
import struct
import sys


def _str(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode()
        self.pos += n
        return s


def metadata(addr, topic, timeout=5.0):
    host, port = addr.rsplit(":", 1)
    body = struct.pack(">i", 1) + _str(topic) + struct.pack(">b", 1)
    header = struct.pack(">hhi", 3, 4, 7) + _str("cdc-kafka-ping")
    req = header + body
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(struct.pack(">i", len(req)) + req)
        size = struct.unpack(">i", _recv(s, 4))[0]
        r = _Reader(_recv(s, size))
    assert r.take(">i") == 7, "correlation id mismatch"
    r.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(r.take(">i")):
        node = r.take(">i")
        h = r.string()
        p = r.take(">i")
        r.string()  # rack
        brokers.append((node, h, p))
    r.string()  # cluster id
    r.take(">i")  # controller id
    topics = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        name = r.string()
        r.take(">b")  # is_internal
        leaders = []
        for _ in range(r.take(">i")):
            r.take(">h")
            r.take(">i")
            leaders.append(r.take(">i"))
            for _ in range(2):  # replicas, isr
                for _ in range(r.take(">i")):
                    r.take(">i")
        topics[name] = (err, leaders)
    return brokers, topics


def _recv(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        out += chunk
    return out


def main():
    addr = sys.argv[1]
    topic = sys.argv[2] if len(sys.argv) > 2 else "cdc-test-health"
    try:
        brokers, topics = metadata(addr, topic)
    except (OSError, AssertionError, struct.error) as e:
        print(f"kafka {addr}: {e}", file=sys.stderr)
        return 1
    err, leaders = topics.get(topic, (-1, []))
    if not brokers or err != 0 or not leaders or min(leaders) < 0:
        print(f"kafka {addr}: brokers={brokers} topic {topic} error={err} leaders={leaders}",
              file=sys.stderr)
        return 1
    print(f"kafka {addr}: ok, brokers={brokers}, topic {topic} leaders={leaders}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
