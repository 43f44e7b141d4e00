#!/usr/bin/env python3
"""Performs the fixed golden scenario on a fresh source Milvus and saves what CDC reads: the
etcd catalog under the source's root path (snapshots and the watch events) and the raw Kafka
records of its DML topics and its replicate topic. Run by scripts/capture-golden.sh, which starts
a fresh etcd + Kafka + milvus-source and passes their addresses in CDC_TEST_* variables.

    capture-golden.py OUT_DIR
"""
import base64
import json
import os
import subprocess
import sys
import time
import warnings

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import pymilvus  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from pymilvus import Collection, Partition, connections, db  # noqa: E402

from seed import rows, schema  # noqa: E402
from wire import describe_collection, msg_type_name  # noqa: E402

ETCD = os.environ["CDC_TEST_ETCD"]
KAFKA = os.environ["CDC_TEST_KAFKA"]
SOURCE = os.environ["CDC_TEST_MILVUS_SOURCE"]
ROOT = os.environ["CDC_TEST_MILVUS_SOURCE_ETCD_ROOT"]
PREFIX = os.environ["CDC_TEST_MILVUS_SOURCE_PREFIX"]
DB, COLL, PART = "golden_db", "golden_coll", "golden_part"


def b64(b):
    return base64.b64encode(b).decode() if b is not None else None


def etcdctl(*args):
    env = dict(os.environ, ETCDCTL_API="3")
    return subprocess.run(["etcdctl", "--endpoints", ETCD, *args], env=env, check=True,
                          capture_output=True).stdout


def etcd_snapshot():
    """Every key under the root path: etcdctl's JSON already carries key/value in base64."""
    out = json.loads(etcdctl("get", "--prefix", f"{ROOT}/", "-w", "json"))
    kvs = [{"key": kv["key"], "key_text": base64.b64decode(kv["key"]).decode(errors="replace"),
            "value": kv.get("value", ""), "create_revision": kv["create_revision"],
            "mod_revision": kv["mod_revision"], "version": kv["version"]}
           for kv in out.get("kvs", [])]
    return {"revision": out["header"]["revision"], "root_path": ROOT, "kvs": kvs}


def start_watch(rev):
    """etcdctl watch from rev on the meta subtree (what CDC watches), JSON lines on stdout."""
    env = dict(os.environ, ETCDCTL_API="3")
    return subprocess.Popen(["etcdctl", "--endpoints", ETCD, "watch", "--prefix", f"{ROOT}/meta/",
                             f"--rev={rev}", "--prev-kv", "-w", "json"], env=env,
                            stdout=subprocess.PIPE, text=True)


def stop_watch(proc):
    time.sleep(1)
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    events = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        resp = json.loads(line)
        for ev in resp.get("Events", []):
            kv = ev["kv"]
            events.append({  # etcdctl prints mvccpb types as numbers, PUT (0) omitted
                "type": "DELETE" if ev.get("type") in (1, "DELETE") else "PUT",
                "key": kv["key"], "key_text": base64.b64decode(kv["key"]).decode(errors="replace"),
                "value": kv.get("value", ""), "mod_revision": kv["mod_revision"],
                "prev_value": (ev.get("prev_kv") or {}).get("value"),
            })
    return events


def kafka_records(topics):
    consumer = Consumer({"bootstrap.servers": KAFKA, "group.id": "cdc-golden",
                         "enable.auto.commit": False, "fetch.max.bytes": 20 * 1024 * 1024})
    out = []
    for topic in topics:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        got, deadline = 0, time.monotonic() + 30
        while got < high - low and time.monotonic() < deadline:
            m = consumer.poll(1)
            if m is None or m.error() is not None:
                continue
            got += 1
            out.append({
                "topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
                "timestamp": m.timestamp()[1],
                "headers": [[k, b64(v)] for k, v in (m.headers() or [])],
                "msg_type": msg_type_name(m.value()), "value": b64(m.value()),
            })
        if got != high - low:
            sys.exit(f"read {got} of {high - low} records of {topic}")
    consumer.close()
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    host, port = SOURCE.rsplit(":", 1)
    connections.connect("default", host=host, port=port)
    steps = []

    def step(name, fn):
        fn()
        steps.append({"step": name, "unix_ms": int(time.time() * 1000)})

    start_rev = etcd_snapshot()["revision"] + 1
    watch = start_watch(start_rev)
    step("create_database golden_db", lambda: db.create_database(DB))
    db.using_database(DB)
    coll = None

    def create_collection():
        nonlocal coll
        coll = Collection(COLL, schema(), shards_num=1)

    step("create_collection golden_coll (id int64 pk, vec float_vector dim 8, 1 shard)",
         create_collection)
    step("create_partition golden_part", lambda: Partition(coll, PART))
    step("insert ids 1..5 into _default", lambda: coll.insert(rows(range(1, 6))))
    step("insert ids 101..103 into golden_part",
         lambda: coll.insert(rows(range(101, 104)), partition_name=PART))
    step("delete id in [2, 102]", lambda: coll.delete("id in [2, 102]"))
    step("create_index vec IVF_FLAT L2 nlist 8", lambda: coll.create_index(
        "vec", {"index_type": "IVF_FLAT", "metric_type": "L2", "params": {"nlist": 8}}))
    step("load", lambda: coll.load())
    step("release", lambda: coll.release())
    step("flush", lambda: coll.flush())
    desc = describe_collection(SOURCE, COLL, db_name=DB)
    ids = {"collection_id": desc.collectionID,
           "virtual_channels": list(desc.virtual_channel_names),
           "physical_channels": list(desc.physical_channel_names)}
    with open(os.path.join(out_dir, "etcd-before-drops.json"), "w") as f:
        json.dump(etcd_snapshot(), f, indent=1)
    step("drop_partition golden_part", lambda: coll.drop_partition(PART))
    step("drop_collection golden_coll", lambda: coll.drop())
    db.using_database("default")
    step("drop_database golden_db", lambda: db.drop_database(DB))
    time.sleep(3)  # let the last time ticks and replicate messages reach Kafka
    with open(os.path.join(out_dir, "etcd-final.json"), "w") as f:
        json.dump(etcd_snapshot(), f, indent=1)
    with open(os.path.join(out_dir, "etcd-events.json"), "w") as f:
        json.dump({"root_path": ROOT, "watch_prefix": f"{ROOT}/meta/", "from_revision": start_rev,
                   "events": stop_watch(watch)}, f, indent=1)

    topics = sorted(t for t in AdminClient({"bootstrap.servers": KAFKA}).list_topics(
        timeout=10).topics if t.startswith(f"{PREFIX}-"))
    recs = kafka_records(topics)
    replicate = f"{PREFIX}-replicate-msg"
    with open(os.path.join(out_dir, "kafka-dml.json"), "w") as f:
        json.dump([r for r in recs if r["topic"] != replicate], f, indent=1)
    with open(os.path.join(out_dir, "kafka-replicate.json"), "w") as f:
        json.dump([r for r in recs if r["topic"] == replicate], f, indent=1)
    manifest = {
        "milvus_version": os.environ.get("CDC_TEST_MILVUS_VERSION"),
        "pymilvus_version": pymilvus.__version__,
        "kafka_version": os.environ.get("CDC_KAFKA_VERSION", "3.9.1"),
        "etcd_root_path": ROOT, "channel_prefix": PREFIX, "topics": topics,
        "database": DB, "collection": COLL, "partition": PART, **ids, "steps": steps,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"captured {len(recs)} Kafka records from {len(topics)} topics into {out_dir}")


if __name__ == "__main__":
    main()
