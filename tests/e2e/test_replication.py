"""Replication through milvus-cdc, source -> target, checked on the target by query.

These need the replicating fixture: they skip with the reason until build/milvus-cdc serves
POST /cdc (set CDC_E2E_REQUIRE_CDC=1 to make that a failure instead), and all fail at once when
a probe collection does not reach the target."""
import time

import pytest
from pymilvus import Collection, MilvusException, Partition, db, utility

import compare
from seed import FLAT_L2, rows, schema

WAIT = 90  # seconds for a change to reach the target
# A collection and partitions created on the source are there on the target this soon after
# the source answered (bench/ddl measures how soon: tens of ms; the bound leaves room for a
# loaded machine).
OPEN_WITHIN = 2.0


def eventually(check, what, timeout=WAIT):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last is True:
                return
        except Exception as e:  # not there yet: the target is still catching up
            last = e
        time.sleep(1)
    pytest.fail(f"{what} not seen on the target within {timeout} s (last: {last!r})")


def target_ids(target, name, expr="id >= 0", partition_names=None):
    c = Collection(name, using=target)
    got = c.query(expr, output_fields=["id"], partition_names=partition_names,
                  consistency_level="Eventually")
    return sorted(r["id"] for r in got)


def loaded_source_collection(source, name, shards_num=1):
    c = Collection(name, schema(), using=source, shards_num=shards_num)
    c.create_index("vec", FLAT_L2)
    c.load()
    return c


def test_collection_insert_and_delete_replicate(replicating, source, target, names):
    name = names("coll")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(100)))  # at once: a script does not wait for the target
    eventually(lambda: target_ids(target, name) == list(range(100)), "100 inserted rows")
    # ttMsgEnabled=false: the target's msgstreams refuse normal producers, only CDC writes land.
    with pytest.raises(MilvusException, match="deny to write"):
        Collection(name, using=target).insert(rows([1000]))
    c.delete("id in [0, 1, 2]")
    eventually(lambda: target_ids(target, name) == list(range(3, 100)), "3 deleted rows")
    c.release()
    c.drop()
    eventually(lambda: not utility.has_collection(name, using=target), f"drop of {name}")


def test_partition_replicates(replicating, source, target, names):
    name, part = names("coll"), "p1"
    c = loaded_source_collection(source, name)
    c.release()
    p = Partition(c, part)
    p.insert(rows(range(10, 20)))
    c.load()
    eventually(lambda: target_ids(target, name, partition_names=[part]) == list(range(10, 20)),
               "10 rows in the partition")
    c.release()
    p.drop()
    eventually(lambda: not utility.has_partition(name, part, using=target), f"drop of {part}")
    c.drop()


def test_collection_and_partitions_open_on_target_at_once(replicating, source, target, stack,
                                                         names):
    """A client creates a collection and its partitions on the source and at once opens them on
    the target (a test of the Go server's own suite does): within OPEN_WITHIN s of the source's
    last answer the target describes the collection as the source does (schema, shards,
    consistency level, properties) with the same partitions. The collection's create message,
    read from its channels later, changes nothing there: rows then land in their partitions."""
    name = names("coll")
    src = compare.Server("open_source", stack["source"])
    dst = compare.Server("open_target", stack["target"])
    try:
        c = Collection(name, schema(), using=source, shards_num=2, consistency_level="Session")
        for part in ("p1", "p2"):
            c.create_partition(part)
        answered = time.monotonic()
        want = (compare.describe(src, "default", name),
                compare.list_partitions(src, "default", name))
        assert want[1] == ["_default", "p1", "p2"], want
        got = None
        while time.monotonic() - answered < OPEN_WITHIN:
            try:
                got = (compare.describe(dst, "default", name),
                       compare.list_partitions(dst, "default", name))
            except Exception as e:  # not there yet
                got = e
            if got == want:
                break
            time.sleep(0.01)
        waited = time.monotonic() - answered
        assert got == want, (f"{name} and its partitions not on the target as on the source "
                             f"{OPEN_WITHIN} s after the source answered: {got!r} != {want!r}")
        print(f"{name} with 2 partitions opened on the target {waited * 1000:.0f} ms after the "
              "source answered")
        c.create_index("vec", FLAT_L2)
        c.load()
        Partition(c, "p1").insert(rows(range(10)))
        Partition(c, "p2").insert(rows(range(10, 15)))
        eventually(lambda: target_ids(target, name, partition_names=["p1"]) ==
                   list(range(10)), "10 rows in p1")
        eventually(lambda: target_ids(target, name, partition_names=["p2"]) ==
                   list(range(10, 15)), "5 rows in p2")
        assert compare.describe(dst, "default", name) == want[0], "the target copy changed"
        c.release()
        c.drop()
    finally:
        src.close()
        dst.close()


def test_database_replicates(replicating, source, target, names):
    dbname = names("db")
    db.create_database(dbname, using=source)
    eventually(lambda: dbname in db.list_database(using=target), f"database {dbname}")
    db.drop_database(dbname, using=source)
    eventually(lambda: dbname not in db.list_database(using=target), f"drop of {dbname}")


def test_task_is_listed_running(cdc_server, cdc_task):
    resp = cdc_server.post("list")
    assert resp.get("code") == 200, resp
    tasks = {t["task_id"]: t for t in resp["data"]["tasks"]}
    assert tasks[cdc_task]["state"] == "Running"
