"""Replication details of the pipeline, checked on the real target: index and load state, and
kill -9 of milvus-cdc mid-stream (restart resumes from the checkpoint, no duplicate keys)."""
import os
import signal
import time

import pytest
from pymilvus import Collection, Partition, connections, utility
from pymilvus.grpc_gen import common_pb2

import cdc_server as cdc
from seed import FLAT_L2, rows, schema
from test_replication import eventually, target_ids


def test_index_and_load_state_replicate(replicating, source, target, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    c.create_index("vec", FLAT_L2, index_name="vec_idx")  # at once, as a script does
    eventually(lambda: [i.index_name for i in Collection(name, using=target).indexes] ==
               ["vec_idx"], "index vec_idx")
    c.load()
    eventually(lambda: str(utility.load_state(name, using=target)).endswith("Loaded"),
               "load state Loaded")
    c.release()
    eventually(lambda: str(utility.load_state(name, using=target)).endswith("NotLoad"),
               "load state NotLoad")
    c.drop_index(index_name="vec_idx")
    eventually(lambda: Collection(name, using=target).indexes == [], "drop of index vec_idx")
    c.drop()


def _load_state(target, name, partitions=()):
    state = utility.load_state(name, partition_names=list(partitions) or None, using=target)
    return str(state).rsplit(".", 1)[-1]


def test_partition_load_and_release_replicate(replicating, source, target, names):
    # A Milvus 2.3.5 source writes no LoadPartitions/ReleasePartitions record to its replicate
    # channel; milvus-cdc follows the load state its query coordinator keeps in etcd.
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    p1, p2 = Partition(c, "p1"), Partition(c, "p2")
    p1.insert(rows(range(10)))
    p2.insert(rows(range(10, 20)))
    c.create_index("vec", FLAT_L2, index_name="vec_idx")  # just before the load, as a script does
    c.load(partition_names=["p1"])
    eventually(lambda: _load_state(target, name, ["p1"]) == "Loaded", "p1 loaded")
    assert _load_state(target, name, ["p2"]) == "NotLoad"
    assert _load_state(target, name, ["_default"]) == "NotLoad"
    assert utility.loading_progress(name, partition_names=["p1"],
                                    using=target)["loading_progress"] == "100%"
    eventually(lambda: target_ids(target, name, partition_names=["p1"]) == list(range(10)),
               "p1's rows queryable")
    c.load(partition_names=["p2"])
    eventually(lambda: _load_state(target, name, ["p2"]) == "Loaded", "p2 loaded")
    p1.release()
    eventually(lambda: _load_state(target, name, ["p1"]) == "NotLoad", "p1 released")
    assert _load_state(target, name, ["p2"]) == "Loaded"
    p2.release()  # the last one: the collection is released
    eventually(lambda: _load_state(target, name) == "NotLoad", "the collection released")
    # Loaded whole (LoadCollection, on the replicate channel), then one partition released.
    c.load()
    eventually(lambda: _load_state(target, name, ["p1", "p2", "_default"]) == "Loaded",
               "the collection loaded")
    p1.release()
    eventually(lambda: _load_state(target, name, ["p1"]) == "NotLoad",
               "p1 released from the collection loaded whole")
    assert _load_state(target, name, ["p2"]) == "Loaded"
    c.release()
    eventually(lambda: _load_state(target, name) == "NotLoad", "the collection released")
    c.drop()


def segment_states(conn, name):
    """{state name: rows} over the collection's persistent segments (datacoord's view)."""
    out = {}
    # pymilvus 2.3 has no public call for it; its connection handler has (GetPersistentSegmentInfo).
    for seg in connections._fetch_handler(conn).get_persistent_segment_infos(name):
        state = seg.state
        if isinstance(state, int):
            state = common_pb2.SegmentState.Name(state)
        out[str(state)] = out.get(str(state), 0) + seg.num_rows
    return out


def test_flush_replicates(replicating, source, target, names):
    # Milvus 2.3.5 writes no LoadPartitions/ReleasePartitions record to its replicate channel
    # (docs/replication.md), so partitions are loaded here with the collection.
    name, part = names("coll"), "p1"
    c = Collection(name, schema(), using=source, shards_num=1)
    c.create_index("vec", FLAT_L2)
    p = Partition(c, part)
    p.insert(rows(range(50)))
    c.load()
    eventually(lambda: target_ids(target, name, partition_names=[part]) == list(range(50)),
               "50 rows in the partition")
    # The target's rows sit in a growing segment (nothing seals it within minutes); a flush of
    # the source, replicated, seals and flushes it there.
    assert "Flushed" not in segment_states(target, name), segment_states(target, name)
    c.flush()
    eventually(lambda: segment_states(target, name) == {"Flushed": 50},
               "one flushed segment of 50 rows on the target")
    c.release()
    c.drop()


def test_flush_right_after_the_create_replicates(replicating, source, target, names):
    # Insert and flush right after the create, as a loading script does. The target takes the
    # Flush only once its datanode watches the new channel, and that watch waits for the time
    # ticks milvus-cdc sends after the Flush; the rows inserted after the Flush arrive meanwhile.
    # No wait for the collection on the target: the catalog covers the Flush's ts before it is
    # decided, so it cannot overtake the collection's first rows (docs/replication.md).
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    c.insert(rows(range(30)))
    c.flush()
    c.insert(rows(range(30, 40)))
    # The target's Flush seals at least the first 30 rows (all 40 when it ran after the rest came).
    eventually(lambda: segment_states(target, name).get("Flushed", 0) >= 30,
               "a flushed segment of the first 30 rows on the target")
    c.create_index("vec", FLAT_L2)
    c.load()
    eventually(lambda: target_ids(target, name) == list(range(40)), "all 40 rows")
    c.release()
    c.drop()


def _restart_killed(server):
    """kill -9 the session's milvus-cdc and start it again on the same config and port."""
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    args = server.proc.args
    server.proc = cdc.subprocess.Popen(args, stdout=server.log, stderr=cdc.subprocess.STDOUT)
    assert server.wait_ready(30) is None


def test_kill9_mid_stream_no_loss_no_duplicates(replicating, cdc_server, source, target, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=2)
    c.create_index("vec", FLAT_L2)
    c.load()
    expected = []
    for batch in range(6):
        ids = list(range(batch * 200, batch * 200 + 200))
        c.insert(rows(ids))
        expected += ids
        if batch in (1, 3):
            time.sleep(0.3)
            _restart_killed(cdc_server)
    eventually(lambda: len(target_ids(target, name)) >= len(expected), f"{len(expected)} rows")
    got = target_ids(target, name)
    assert got == expected
    # A query returns each primary key once even when the target holds it twice (Milvus 2.3
    # merges results by key), so duplicates are counted with count(*), which does not merge.
    counted = Collection(name, using=target).query(
        "", output_fields=["count(*)"], consistency_level="Eventually")[0]["count(*)"]
    assert counted == len(expected), f"duplicate rows on the target: {counted} rows"
    c.release()
    c.drop()


def test_pause_writes_resume_catches_up_exactly(replicating, cdc_server, cdc_task, source,
                                                target, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    c.create_index("vec", FLAT_L2)
    c.load()
    c.insert(rows(range(0, 50)))
    eventually(lambda: target_ids(target, name) == list(range(50)), "50 rows before pause")
    assert cdc_server.post("pause", {"task_id": cdc_task}).get("code") == 200
    try:
        c.insert(rows(range(50, 150)))
        c.delete("id in [0, 1]")
        time.sleep(3)
        assert target_ids(target, name) == list(range(50)), "paused task still replicated"
    finally:
        assert cdc_server.post("resume", {"task_id": cdc_task}).get("code") == 200
    eventually(lambda: target_ids(target, name) == list(range(2, 150)), "catch-up after resume")
    c.release()
    c.drop()


def test_create_refuses_a_normal_instance_as_target(cdc_server, stack):
    # The source runs with common.ttMsgEnabled true: it must be refused at once.
    resp = cdc_server.create_task(stack["source"], stack["source_prefix"])
    assert resp.get("code") != 200, resp
    assert "common.ttMsgEnabled: false" in resp.get("message", ""), resp


def test_target_frozen_then_back_catches_up(replicating, source, target, names):
    """SIGSTOP/SIGCONT of our own test target while the source takes writes."""
    pid_file = os.path.join(os.environ["CDC_ENV_DIR"], "pids", "milvus-target.pid")
    pid = int(open(pid_file).read().strip())
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    c.create_index("vec", FLAT_L2)
    c.load()
    eventually(lambda: utility.has_collection(name, using=target), f"collection {name}")
    os.kill(pid, signal.SIGSTOP)
    try:
        c.insert(rows(range(0, 300)))
        c.delete("id in [5, 6]")
        time.sleep(8)
    finally:
        os.kill(pid, signal.SIGCONT)
    expected = [i for i in range(300) if i not in (5, 6)]
    eventually(lambda: target_ids(target, name) == expected, "catch-up after the target froze")
    c.release()
    c.drop()


def test_collection_in_a_database_created_after_the_task(replicating, source, target, names):
    from pymilvus import db
    dbname, name = names("db"), names("coll")
    db.create_database(dbname, using=source)
    db.using_database(dbname, using=source)
    try:
        c = Collection(name, schema(), using=source, shards_num=1)
        c.create_index("vec", FLAT_L2)
        c.load()
        c.insert(rows(range(20)))
        # The database may reach the target a moment later (using_database fails until then).
        eventually(lambda: db.using_database(dbname, using=target) is None
                   and target_ids(target, name) == list(range(20)), f"20 rows in {dbname}")
        c.release()
        c.drop()
        eventually(lambda: not utility.has_collection(name, using=target), f"drop of {name}")
    finally:
        db.using_database("default", using=source)
        db.using_database("default", using=target)
    db.drop_database(dbname, using=source)
    eventually(lambda: dbname not in db.list_database(using=target), f"drop of {dbname}")


def test_position_shows_checkpoints_per_source_channel(replicating, cdc_server, cdc_task, source,
                                                       target, stack, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    c.create_index("vec", FLAT_L2)
    c.load()
    c.insert(rows(range(10)))
    eventually(lambda: target_ids(target, name) == list(range(10)), "10 rows")

    def has_positions():
        resp = cdc_server.post("position", {"task_id": cdc_task})
        assert resp.get("code") == 200, resp
        pos = resp["data"].get("positions") or []
        return any(p["channel_name"].startswith(f"{stack['source_prefix']}-rootcoord-dml_") and p["msg_id"] and
                   p["time"] > 0 for p in pos) or resp

    eventually(has_positions, "a checkpoint per source channel in `position`", timeout=30)
    c.release()
    c.drop()
