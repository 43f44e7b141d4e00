"""Proves the harness itself: both Milvus servers take pymilvus calls, the source's changes land
on the topics of its queue (Kafka, or Pulsar with CDC_E2E_MQ=pulsar; read by the topics
fixture), and ReplicateMessage behaves as CDC needs on target and source."""
import base64
import os
import sys
import time

import pytest
from pymilvus import Collection, db, utility
from pymilvus.grpc_gen import msg_pb2

from seed import FLAT_L2, rows, schema
from wire import describe_collection, msg_type_name, replicate_message

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "kafka"))
import kafka_ping  # noqa: E402


def test_source_creates_inserts_and_queries(source, names):
    c = Collection(names("coll"), schema(), using=source)
    assert c.insert(rows(range(10))).insert_count == 10
    c.create_index("vec", FLAT_L2)
    c.load()
    got = c.query("id >= 0", output_fields=["id"], consistency_level="Strong")
    assert sorted(r["id"] for r in got) == list(range(10))
    c.release()
    c.drop()


def test_target_takes_ddl(target, names):
    # No collection is made here by hand: nothing would write to its channels on a target with
    # ttMsgEnabled=false, and the target's datanode, which sets up channel watches one at a
    # time, then stalls every later watch and Flush for minutes. The refusal of plain inserts
    # is checked on a replicated collection (test_replication.py).
    name = names("db")
    db.create_database(name, using=target)
    assert name in db.list_database(using=target)
    db.drop_database(name, using=target)
    assert name not in db.list_database(using=target)


def test_source_dml_lands_on_its_dml_topic(source, stack, topics, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    pchans = list(describe_collection(stack["source"], name).physical_channel_names)
    assert len(pchans) == 1 and pchans[0].startswith(f"{stack['source_prefix']}-rootcoord-dml_")
    topic = pchans[0]
    topics.mark(topic)
    c.insert(rows([1, 2, 3]))
    c.delete("id in [2]")

    def done(recs):
        return {"Insert", "Delete"} <= {msg_type_name(r["value"]) for r in recs}

    recs = topics.read(topic, done)
    assert done(recs), f"types on {topic}: {[msg_type_name(r['value']) for r in recs]}"
    insert = msg_pb2.InsertRequest()
    insert.ParseFromString(next(r["value"] for r in recs if msg_type_name(r["value"]) == "Insert"))
    assert insert.collection_name == name
    assert insert.num_rows == 3
    assert insert.shardName.startswith(topic)  # the vchannel: <pchannel>_<collectionID>v0
    c.drop()


def test_source_ddl_lands_on_its_replicate_topic(source, stack, topics, names):
    topic = f"{stack['source_prefix']}-replicate-msg"
    topics.mark(topic)
    dbname, name = names("db"), names("coll")
    db.create_database(dbname, using=source)
    c = Collection(name, schema(), using=source)
    c.insert(rows([1, 2]))
    c.create_index("vec", FLAT_L2)
    c.load()
    c.release()
    c.flush()
    c.drop()
    db.drop_database(dbname, using=source)
    want = {"CreateDatabase", "CreateIndex", "LoadCollection", "ReleaseCollection", "Flush",
            "DropDatabase"}

    def done(recs):
        return want <= {msg_type_name(r["value"]) for r in recs}

    recs = topics.read(topic, done)
    assert done(recs), f"types on {topic}: {[msg_type_name(r['value']) for r in recs]}"


def test_target_answers_replicate_message_on_its_replicate_channel(stack):
    # The target runs on Kafka in both passes of the suite (only the source's queue varies).
    channel = f"{stack['target_prefix']}-replicate-msg"
    # A fresh target has never produced to its replicate topic; Milvus does not create topics,
    # the broker auto-creates them on a metadata request (as for any first producer).
    for _ in range(20):
        brokers, found = kafka_ping.metadata(stack["kafka"], channel)
        if found.get(channel, (1, []))[0] == 0:
            break
    # Milvus's own Kafka client caches topic metadata: until its next refresh it may still
    # answer "Unknown partition" for the topic the broker has just created. Bounded retry.
    deadline = time.monotonic() + 30
    while True:
        resp = replicate_message(stack["target"], channel)
        if "Unknown partition" not in resp.status.reason or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert resp.status.error_code == 0 and resp.status.code == 0, resp.status.reason
    assert len(base64.b64decode(resp.position)) == 8  # a Kafka message id: the int64 offset


def test_source_denies_replicate_message(stack):
    resp = replicate_message(stack["source"], f"{stack['source_prefix']}-replicate-msg")
    assert resp.status.code == 1900, resp.status
    assert "deny to use the replicate message" in resp.status.reason
