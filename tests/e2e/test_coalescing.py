"""Coalescing on the real target (docs/replication.md, "Coalescing"): runs of single-row
Inserts and Deletes of a source pack reach the target Milvus 2.3.5 as one message each, and the
target ends with exactly the source's rows, every row with its own timestamp.

The session's milvus-cdc runs with the default config, coalescing on. What Milvus 2.3.5 offers
to look at a row's timestamp: a query cannot read the target as of a timestamp between two
rows (2.3 ignores QueryRequest.travel_timestamp, tried on the test servers: a query with
travel_timestamp between two inserts returns both rows; guarantee_timestamp only makes the query
wait until the target has caught up to it). So the timestamps are checked where the target's
data and query nodes read them: the Insert messages the target's proxy wrote to its own DML
topics (the target runs on Kafka in both passes), against the timestamps the source answered
each insert with.
"""
import random
import re
import urllib.request

import pytest
from pymilvus import Collection
from pymilvus.grpc_gen import msg_pb2

import compare
from randomized import random_row
from seed import rows
from test_replication import eventually, loaded_source_collection, target_ids
from test_schemas import KINDS, _check_equal, create_and_fill, only
from wire import TopicReader, describe_collection, msg_type_name

INSERTS = 300  # single-row inserts, a single-row delete after every 10


def _metric(server, name, task):
    url = server.url.rsplit("/cdc", 1)[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'%s\{task_id="%s"\} (\d+)' % (name, task), text)
    return int(m.group(1)) if m else None


def _target_inserts(stack, name):
    """The InsertRequests of collection `name` on the target's DML topics, read from their
    start to their end."""
    pchannels = list(describe_collection(stack["target"], name).physical_channel_names)
    reader = TopicReader(stack["kafka"])
    out = []
    try:
        for topic in pchannels:
            end = reader.end_offset(topic)
            recs = reader.read(topic, lambda got, e=end: bool(got) and got[-1]["offset"] >= e - 1,
                               timeout=60)
            assert recs and recs[-1]["offset"] >= end - 1, f"{topic} not read to its end"
            for r in recs:
                if msg_type_name(r["value"]) == "Insert":
                    ins = msg_pb2.InsertRequest()
                    ins.ParseFromString(r["value"])
                    if ins.collection_name == name:
                        out.append(ins)
    finally:
        reader.close()
    return out


def test_single_row_inserts_and_deletes_coalesced_end_with_the_sources_rows(
        replicating, cdc_server, cdc_task, source, target, stack, names):
    name = names("coalesce")
    c = loaded_source_collection(source, name, shards_num=2)
    row_ts, expected = {}, set()
    for i in range(INSERTS):
        row_ts[i] = c.insert(rows([i])).timestamp
        expected.add(i)
        if (i + 1) % 10 == 0:
            c.delete(f"id in [{i - 5}]")
            expected.discard(i - 5)
    want = sorted(expected)
    eventually(lambda: target_ids(target, name) == want or len(target_ids(target, name)),
               f"{len(want)} rows")
    # count(*) does not merge rows by primary key: a row sent twice would count twice.
    counted = Collection(name, using=target).query(
        "", output_fields=["count(*)"], consistency_level="Eventually")[0]["count(*)"]
    assert counted == len(want), f"{counted} rows on the target, {len(want)} on the source"
    sample = [0, 1, 57, 150, INSERTS - 1]
    got = {r["id"]: r["vec"] for r in Collection(name, using=target).query(
        f"id in {sample}", output_fields=["vec"], consistency_level="Eventually")}
    src = {r["id"]: r["vec"] for r in c.query(f"id in {sample}", output_fields=["vec"],
                                              consistency_level="Strong")}
    assert got == src

    inserts = _target_inserts(stack, name)
    merged = [ins for ins in inserts if ins.num_rows > 1]
    assert merged, (f"no Insert of more than one row reached the target's topics "
                    f"({len(inserts)} Inserts): nothing was coalesced")
    seen = {}
    for ins in inserts:
        pk = next(f for f in ins.fields_data if f.field_name == "id")
        assert len(ins.timestamps) == ins.num_rows == len(pk.scalars.long_data.data)
        for key, ts in zip(pk.scalars.long_data.data, ins.timestamps):
            seen.setdefault(key, set()).add(ts)
    # Every row once, with the timestamp the source gave its insert.
    assert {k: {t} for k, t in row_ts.items()} == seen
    assert (_metric(cdc_server, "milvus_cdc_coalesced_messages_total", cdc_task) or 0) > 0
    assert _metric(cdc_server, "milvus_cdc_coalesce_fallbacks_total", cdc_task) == 0
    c.release()
    c.drop()


@pytest.mark.parametrize("kind", ["every_scalar_type", "binary_vector", "dynamic_field"])
def test_every_field_type_coalesced_equals_the_source(kind, replicating, stack, names):
    """Rows of every field type the schema tests use (scalars, VarChar keys, JSON, arrays of
    each element type, float and binary vectors, the dynamic field), inserted one at a time so
    that they are merged: the target equals the source row by row."""
    src = compare.Server("coalesce_source", stack["source"])
    dst = compare.Server("coalesce_target", stack["target"])
    s = KINDS[kind](names(kind))
    try:
        create_and_fill(src, s, random.Random(kind))  # 300 rows in one insert, upserts, deletes
        coll = Collection(s["name"], using=src.alias())
        rng = random.Random(kind + "-single")
        pk = next(f for f in s["fields"] if f.get("primary"))
        for i in range(40):
            key = 1000 + i if pk["type"] == "INT64" else f"single{i:03d}"
            coll.insert([random_row(rng, s, key)])
        _check_equal(src, dst, only("default", [s["name"]]), [s["name"]])
    finally:
        Collection(s["name"], using=src.alias()).drop()
        src.close()
        dst.close()
