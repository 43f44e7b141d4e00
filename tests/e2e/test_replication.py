"""Replication through milvus-cdc, source -> target, checked on the target by query.

These need the replicating fixture: they skip with the reason until build/milvus-cdc serves
POST /cdc (set CDC_E2E_REQUIRE_CDC=1 to make that a failure instead), and all fail at once when
a probe collection does not reach the target."""
import time

import pytest
from pymilvus import Collection, MilvusException, Partition, db, utility

from seed import FLAT_L2, rows, schema

WAIT = 90  # seconds for a change to reach the target


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
