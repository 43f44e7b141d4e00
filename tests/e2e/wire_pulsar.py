"""Reading the source Milvus's Pulsar topics in the end-to-end suite, through the broker's admin
REST API on its web port (no Pulsar client library in the harness venv).

Milvus 2.3 (its pulsar-client-go producer) publishes each msgstream message on
persistent://{tenant}/{namespace}/{channel}, batched and ZSTD-compressed: one entry holds a
batch of N single messages, each `[4-byte big-endian size][SingleMessageMetadata][payload]`.
The admin peek answers the decompressed batch with the entry's metadata in X-Pulsar-* headers;
the payload is the protobuf of the message (field 1 = common.MsgBase), as on Kafka.

PulsarTopicReader has the same mark()/read()/close() interface as wire.TopicReader: mark()
remembers a topic's last message id, read() creates a throw-away subscription on the topic and
peeks its messages one by one (never acknowledging), keeping those after the mark.
"""
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


def _varint(buf, i):
    n, shift = 0, 0
    while True:
        b = buf[i]
        n |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return n, i
        shift += 7


def _fields(buf):
    """(field number, value) pairs of a protobuf message: ints for varints and fixed-width
    fields, bytes for length-delimited ones."""
    i, out = 0, []
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wire == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        elif wire == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in a Pulsar batch")
        out.append((num, v))
    return out


def split_batch(body, count):
    """The (properties, payload) of each single message of a decompressed Pulsar batch.
    SingleMessageMetadata: 1 = properties (KeyValue: 1 key, 2 value), 3 = payload_size."""
    out, i = [], 0
    for _ in range(count):
        size = int.from_bytes(body[i:i + 4], "big")
        meta = _fields(body[i + 4:i + 4 + size])
        i += 4 + size
        props = []
        for num, v in meta:
            if num == 1:
                kv = dict(_fields(v))
                props.append((kv.get(1, b"").decode(), kv.get(2, b"")))
        payload_size = next(v for num, v in meta if num == 3)
        out.append((props, body[i:i + payload_size]))
        i += payload_size
    return out


def _message_id(text):
    """(ledger, entry) of an X-Pulsar-Message-ID header 'ledger:entry[:partition[:batch]]'."""
    parts = text.split(":")
    return int(parts[0]), int(parts[1])


class PulsarTopicReader:
    """Reads non-partitioned topics of one tenant/namespace through the admin REST API."""

    def __init__(self, web_url, tenant="public", namespace="default"):
        self.base = f"{web_url.rstrip('/')}/admin/v2/persistent/{tenant}/{namespace}"
        self.tenant, self.namespace = tenant, namespace
        self.start = {}

    def close(self):
        pass

    def _url(self, topic, *rest):
        return "/".join([self.base, urllib.parse.quote(topic, safe="")] + list(rest))

    def _call(self, method, url, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.headers, r.read()

    def last_message_id(self, topic):
        """(ledger, entry) of the topic's last message; None when the topic does not exist."""
        try:
            _, body = self._call("GET", self._url(topic, "lastMessageId"))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
        mid = json.loads(body)
        return mid["ledgerId"], mid["entryId"]

    def mark(self, *topics):
        for t in topics:
            self.start[t] = self.last_message_id(t)

    def _peek(self, topic, sub, n):
        """The n-th entry (1-based) after the subscription's cursor, or None if there is none
        yet: (headers, body)."""
        try:
            return self._call("GET", self._url(topic, "subscription", sub, "position", str(n)))
        except urllib.error.HTTPError as e:
            if e.code in (404, 412):  # no message at that position (yet)
                return None
            raise

    def read(self, topic, until, timeout=30.0):
        """Messages of topic after its mark (all if the topic had none), until until(records)
        is true or timeout. Returns dicts: topic, partition (-1), offset ('ledger:entry:index'),
        timestamp (publish time text), headers (properties), value (the payload bytes)."""
        mark = self.start.get(topic)
        sub = f"cdc-e2e-reader-{uuid.uuid4().hex[:8]}"
        # Start at the marked entry itself (or the earliest one): entries up to the mark are
        # skipped below by their ids, whatever the broker's inclusive/exclusive choice.
        at = {"ledgerId": mark[0], "entryId": max(mark[1], 0)} if mark else \
            {"ledgerId": -1, "entryId": -1}
        at["partitionIndex"] = -1
        self._call("PUT", self._url(topic, "subscription", sub), at)
        out, n, deadline = [], 1, time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not until(out):
                got = self._peek(topic, sub, n)
                if got is None:
                    time.sleep(0.3)
                    continue
                n += 1
                headers, body = got
                ledger, entry = _message_id(headers["X-Pulsar-Message-ID"])
                if mark is not None and (ledger, entry) <= mark:
                    continue
                batch = headers.get("X-Pulsar-num-batch-message")
                if batch is None:
                    singles = [(list(json.loads(headers.get("X-Pulsar-PROPERTY") or "{}")
                                     .items()), body)]
                else:
                    singles = split_batch(body, int(batch))
                for index, (props, payload) in enumerate(singles):
                    out.append({
                        "topic": topic, "partition": -1, "offset": f"{ledger}:{entry}:{index}",
                        "timestamp": headers.get("X-Pulsar-publish-time"), "headers": props,
                        "value": payload,
                    })
        finally:
            try:
                self._call("DELETE", self._url(topic, "subscription", sub))
            except urllib.error.URLError:
                pass  # a leftover subscription only retains messages the broker keeps anyway
        return out
