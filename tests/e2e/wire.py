"""Low-level helpers of the end-to-end suite: raw gRPC calls to a Milvus proxy, decoding of the
messages Milvus writes to Kafka, and reading Kafka topics from a known offset.

Milvus 2.3 writes each msgstream message as one Kafka record on partition 0 of the channel's
topic; the value is the protobuf of the message (InsertRequest, DeleteRequest,
CreateCollectionRequest, TimeTickMsg, ...) whose field 1 is always common.MsgBase, and the
record headers carry its properties (trace context).
"""
import time

import grpc
from confluent_kafka import Consumer, KafkaException, TopicPartition
from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc


def milvus_stub(addr):
    """A MilvusService stub on host:port (raw gRPC, for calls pymilvus does not wrap)."""
    return milvus_pb2_grpc.MilvusServiceStub(grpc.insecure_channel(addr))


def replicate_message(addr, channel, msgs=(), timeout=10):
    """Calls MilvusService.ReplicateMessage; returns the ReplicateMessageResponse."""
    req = milvus_pb2.ReplicateMessageRequest(channel_name=channel, Msgs=list(msgs))
    return milvus_stub(addr).ReplicateMessage(req, timeout=timeout)


def describe_collection(addr, name, db_name=""):
    """Raw DescribeCollection (pymilvus hides the channel names)."""
    req = milvus_pb2.DescribeCollectionRequest(collection_name=name, db_name=db_name)
    resp = milvus_stub(addr).DescribeCollection(req, timeout=10)
    assert resp.status.error_code == 0, resp.status.reason
    return resp


def _field1(buf):
    """Bytes of the length-delimited protobuf field 1 at the start of buf, else None."""
    if not buf or buf[0] != 0x0A:  # field 1, wire type 2
        return None
    n, shift, i = 0, 0, 1
    while True:
        b = buf[i]
        n |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            break
        shift += 7
    return buf[i:i + n]


def msg_base(value):
    """The common.MsgBase of a Milvus msgstream record value, or None if it has none."""
    raw = _field1(value)
    if raw is None:
        return None
    base = common_pb2.MsgBase()
    base.ParseFromString(raw)
    return base


def msg_type_name(value):
    base = msg_base(value)
    return common_pb2.MsgType.Name(base.msg_type) if base is not None else None


class TopicReader:
    """Reads partition 0 of Kafka topics, remembering where each topic ended at mark() time so
    that a test sees only what its own actions produced."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": "cdc-e2e-reader",
            "enable.auto.commit": False,
            "allow.auto.create.topics": False,
            "fetch.max.bytes": 20 * 1024 * 1024,
        })
        self.start = {}

    def close(self):
        self.consumer.close()

    def end_offset(self, topic):
        try:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
            return high
        except KafkaException:  # the topic does not exist yet
            return 0

    def mark(self, *topics):
        for t in topics:
            self.start[t] = self.end_offset(t)

    def read(self, topic, until, timeout=30.0):
        """Records of topic from its mark (or 0) on, until until(records) is true or timeout.
        Returns the records as dicts: topic, partition, offset, timestamp, headers, value."""
        self.consumer.assign([TopicPartition(topic, 0, self.start.get(topic, 0))])
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.consumer.poll(0.5)
            if m is not None and m.error() is None:
                out.append({
                    "topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
                    "timestamp": m.timestamp()[1], "headers": m.headers() or [],
                    "value": m.value(),
                })
            if until(out):
                break
        self.consumer.unassign()
        return out
