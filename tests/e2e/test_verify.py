"""`verify` on the real Milvus pair: it answers equal for replicated collections (several
partitions, a VarChar key, a dynamic field), also while rows are being written, and finds what
differs (a row on the target that the source never had, a collection dropped on the target),
naming the first differing keys. milvus-cdc reads the source through sourceConfig.milvus (the
harness config points it at the source's proxy)."""
import json
import random
import threading
import time
import urllib.request

from pymilvus import (Collection, CollectionSchema, DataType, FieldSchema, Partition,
                      utility)
from pymilvus.grpc_gen import common_pb2, milvus_pb2, msg_pb2, schema_pb2

from seed import DIM, FLAT_L2, rows, schema
from test_replication import eventually, loaded_source_collection
from wire import milvus_stub


def count(alias, name):
    got = Collection(name, using=alias).query("", output_fields=["count(*)"],
                                              consistency_level="Strong")
    return got[0]["count(*)"]


def replicated(source, target, name, rows_expected):
    """Waits until the target holds the collection loaded with the source's row count."""
    eventually(lambda: utility.has_collection(name, using=target), f"collection {name}")
    eventually(lambda: utility.load_state(name, using=target).name == "Loaded",
               f"{name} loaded on the target")
    eventually(lambda: count(target, name) == rows_expected,
               f"{rows_expected} rows of {name} on the target")
    assert count(source, name) == rows_expected


def run_verify(cdc_server, task_id, collections, timeout=300):
    """POST verify and follow the job (wait 60 s per call) until it is done."""
    resp = cdc_server.post("verify", {"task_id": task_id, "collections": collections,
                                      "wait": True, "wait_seconds": 60}, timeout=90)
    assert resp.get("code") == 200, resp
    job = resp["data"]["verify"]
    deadline = time.monotonic() + timeout
    while job["state"] != "done" and time.monotonic() < deadline:
        resp = cdc_server.post("verify", {"task_id": task_id, "action": "status",
                                          "wait": True, "wait_seconds": 60}, timeout=90)
        assert resp.get("code") == 200, resp
        job = resp["data"]["verify"]
    assert job["state"] == "done", f"verify still running after {timeout} s: {job}"
    assert "error" not in job, job
    return job


def result_of(job, name):
    return next(r for r in job["results"] if r["name"] == f"default.{name}")


def metrics(cdc_server):
    url = cdc_server.url.rsplit("/cdc", 1)[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def partitioned_collection(source, name, n):
    c = Collection(name, schema(), using=source, shards_num=2)
    for p in ("p1", "p2"):
        Partition(c, p)
    c.create_index("vec", FLAT_L2)
    c.load()
    ids = list(range(n))
    random.Random(7).shuffle(ids)  # keys arrive out of order, in several inserts
    for part, chunk in (("_default", ids[: n // 3]), ("p1", ids[n // 3: 2 * n // 3]),
                        ("p2", ids[2 * n // 3:])):
        Partition(c, part).insert(rows(chunk))
    c.delete("id in [0, 1, 2, 3, 4]")
    return c, n - 5


def varchar_collection(source, name, n):
    s = CollectionSchema([FieldSchema("pk", DataType.VARCHAR, is_primary=True, max_length=64),
                          FieldSchema("score", DataType.DOUBLE),
                          FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM)])
    c = Collection(name, s, using=source)
    c.create_index("vec", FLAT_L2)
    c.load()
    keys = [f'k"{i:05d}\\' if i % 7 == 0 else f"k{i:05d}" for i in range(n)]
    c.insert([keys, [i / 3 for i in range(n)], [[float(i)] * DIM for i in range(n)]])
    return c, n


def dynamic_collection(source, name, n):
    s = CollectionSchema([FieldSchema("id", DataType.INT64, is_primary=True),
                          FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM)],
                         enable_dynamic_field=True)
    c = Collection(name, s, using=source)
    c.create_index("vec", FLAT_L2)
    c.load()
    c.insert([{"id": i, "vec": [float(i)] * DIM, "color": ["red", "blue"][i % 2],
               "tags": {"n": i, "even": i % 2 == 0}} for i in range(n)])
    return c, n


def test_verify_answers_equal_for_replicated_collections(replicating, cdc_server, source,
                                                         target, names):
    made = {}
    for kind, make, n in (("parts", partitioned_collection, 3000),
                          ("varchar", varchar_collection, 500),
                          ("dynamic", dynamic_collection, 300)):
        name = names(f"verify_{kind}")
        made[name] = make(source, name, n)
    for name, (_, n) in made.items():
        replicated(source, target, name, n)

    job = run_verify(cdc_server, replicating, [f"default.{n}" for n in made])
    assert job["equal"] is True, json.dumps(job, indent=1)
    assert job["collections_done"] == 3
    for name, (_, n) in made.items():
        r = result_of(job, name)
        assert r["result"] == "equal", r
        assert r["keys_compared"] == n, r
        assert r["source_rows"] == r["target_rows"] == n, r
        assert r["source_digest"] == r["target_digest"], r
        assert r["rows_sampled"] > 0, r
        assert r["first_differing_keys"] == [] and r["differences"] == [], r
    # One range per partition at least: the partitioned collection is compared per partition.
    assert result_of(job, next(iter(made)))["ranges"] >= 3

    got = cdc_server.post("get", {"task_id": replicating})
    summary = got["data"]["task"]["verify"]
    assert summary["equal"] is True and summary["state"] == "done", summary
    text = metrics(cdc_server)
    for name in made:
        line = (f'milvus_cdc_verify_equal{{task_id="{replicating}",'
                f'collection="default.{name}"}} 1')
        assert line in text, text
    for c, _ in made.values():
        c.release()
        c.drop()


def test_verify_while_rows_are_written_never_reports_a_difference(replicating, cdc_server,
                                                                   source, target, names):
    name = names("verify_busy")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(2000)))
    replicated(source, target, name, 2000)
    stop, written = threading.Event(), [2000]

    def writer():  # new keys at the top, deletes at the bottom, about 50 rows a second
        while not stop.is_set():
            k = written[0]
            c.insert(rows(range(k, k + 10)))
            c.delete(f"id in [{k - 2000}, {k - 1999}]")
            written[0] = k + 10
            time.sleep(0.2)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        job = run_verify(cdc_server, replicating, [name])
    finally:
        stop.set()
        t.join(10)
    r = result_of(job, name)
    # The source changes while it is read: a difference is re-read until the target has
    # applied the source's read, and only a key that differs every time counts.
    assert r["result"] in ("equal", "unsettled"), r
    assert r["first_differing_keys"] == [], r
    assert written[0] > 2000
    c.release()
    c.drop()


def now_ts():
    return int(time.time() * 1000) << 18


def inject_row(stack, name, key):
    """Adds row `key` to the target's copy of collection `name` through ReplicateMessage on the
    target's channel, as a replicated Insert the source never had."""
    stub = milvus_stub(stack["target"])
    desc = stub.DescribeCollection(milvus_pb2.DescribeCollectionRequest(collection_name=name),
                                   timeout=10)
    assert desc.status.code == 0, desc.status
    parts = stub.ShowPartitions(milvus_pb2.ShowPartitionsRequest(collection_name=name),
                                timeout=10)
    partition_id = dict(zip(parts.partition_names, parts.partitionIDs))["_default"]
    ts = now_ts()
    insert = msg_pb2.InsertRequest(
        base=common_pb2.MsgBase(msg_type=common_pb2.Insert, msgID=random.getrandbits(62),
                                timestamp=ts, sourceID=-1),
        shardName=desc.virtual_channel_names[0], db_name="default", collection_name=name,
        partition_name="_default", collectionID=desc.collectionID, partitionID=partition_id,
        timestamps=[ts], rowIDs=[key], num_rows=1, version=msg_pb2.ColumnBased)
    insert.fields_data.add(type=schema_pb2.Int64, field_name="id", field_id=100,
                           scalars=schema_pb2.ScalarField(
                               long_data=schema_pb2.LongArray(data=[key])))
    insert.fields_data.add(type=schema_pb2.FloatVector, field_name="vec", field_id=101,
                           vectors=schema_pb2.VectorField(
                               dim=DIM, float_vector=schema_pb2.FloatArray(data=[0.5] * DIM)))
    channel = desc.physical_channel_names[0]
    pos = msg_pb2.MsgPosition(channel_name=channel, msgID=b"\0" * 8, timestamp=ts)
    req = milvus_pb2.ReplicateMessageRequest(
        base=common_pb2.MsgBase(replicateInfo=common_pb2.ReplicateInfo(isReplicate=True)),
        channel_name=channel, BeginTs=ts, EndTs=ts, Msgs=[insert.SerializeToString()],
        StartPositions=[pos], EndPositions=[pos])
    resp = stub.ReplicateMessage(req, timeout=10)
    assert resp.status.code == 0, resp.status


def test_verify_names_a_row_the_source_never_had(replicating, cdc_server, stack, source,
                                                  target, names):
    name = names("verify_extra")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(300)))
    replicated(source, target, name, 300)
    inject_row(stack, name, 1_000_000)
    tc = Collection(name, using=target)
    eventually(lambda: len(tc.query("id == 1000000", consistency_level="Strong")) == 1,
               "the injected row on the target")

    job = run_verify(cdc_server, replicating, [name])
    r = result_of(job, name)
    assert job["equal"] is False
    assert r["result"] == "differs", r
    assert r["first_differing_keys"] == [
        {"key": 1_000_000, "kind": "extra_on_target", "partition": "_default"}], r
    assert r["ranges_differing"] == 1, r
    assert r["source_digest"] != r["target_digest"], r
    assert (r["source_rows"], r["target_rows"]) == (300, 301), r
    assert {"aspect": "row_count",
            "detail": "300 on the source, 301 on the target, the same gap in 3 reads"} \
        in r["differences"], r
    line = f'milvus_cdc_verify_equal{{task_id="{replicating}",collection="default.{name}"}} 0'
    assert line in metrics(cdc_server)
    c.release()
    c.drop()


def test_verify_finds_a_collection_dropped_on_the_target(replicating, cdc_server, stack,
                                                         source, target, names):
    name = names("verify_dropped")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(10)))
    # Dropped only once the task has replicated all of it: a drop while the task is still
    # creating it (between its CreateCollection and ShowPartitions) or writing its rows fails the
    # task's next call there, and the task creates it again from its checkpoint (as it should).
    replicated(source, target, name, 10)
    # A target with ttMsgEnabled false takes DDL only as replicated (with a replicate ts).
    req = milvus_pb2.DropCollectionRequest(
        base=common_pb2.MsgBase(msg_type=common_pb2.DropCollection,
                                replicateInfo=common_pb2.ReplicateInfo(isReplicate=True,
                                                                       msgTimestamp=now_ts())),
        collection_name=name)
    st = milvus_stub(stack["target"]).DropCollection(req, timeout=30)
    assert st.code == 0, st
    assert not utility.has_collection(name, using=target)

    job = run_verify(cdc_server, replicating, [name])
    r = result_of(job, name)
    assert r["result"] == "differs", r
    assert r["differences"] == [{"aspect": "collection", "detail": "missing on the target"}], r
    c.drop()


def test_verify_refuses_what_it_cannot_do(replicating, cdc_server):
    resp = cdc_server.post("verify", {"task_id": "no-such-task"})
    assert resp["code"] == 400 and "no-such-task" in resp["message"], resp
    resp = cdc_server.post("verify", {"task_id": replicating, "collections": ["a.b.c"]})
    assert resp["code"] == 400 and "is not a collection name" in resp["message"], resp
    resp = cdc_server.post("verify", {"task_id": replicating, "wait_seconds": 3600})
    assert resp["code"] == 500 and "wait_seconds" in resp["message"], resp
