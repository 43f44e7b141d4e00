"""name_mapping (issue 17 item 1): a task created with a mapping puts the source's database and
collections under the mapped names on the target, for every operation, and nothing under the
source's names; `verify` compares each source collection with its mapped one; create refuses
two source collections mapped onto one target name, and a mapping onto names another task
writes.

The test runs its own milvus-cdc and task (the session's task, replicating every collection
under its own name, is paused while it runs); its databases have names unique to the run.
"""
import time

import pytest
from pymilvus import Collection, Partition, db, utility

import cdc_server as cdc
import compare
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import FLAT_L2, rows, schema
from test_replication import eventually
from test_verify import run_verify

WAIT = 60  # s for a change to reach the target


def _create(server, stack, body):
    host, port = stack["target"].rsplit(":", 1)
    body = {"milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
            "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"}, **body}
    return server.post("create", body)


def _ids(server, dbname, name, partitions=None):
    reader = compare.Reader(server)
    got = reader.query(dbname, name, "id >= 0", ["id"], partitions)
    return sorted(r["id"] for r in got)


def _same_collection(src, sdb, sname, dst, tdb, tname):
    """Differences between a source collection and its mapped target one (names aside)."""
    a = compare.collection_snapshot(src, sdb, sname, compare.Reader(src))
    b = compare.collection_snapshot(dst, tdb, tname,
                                    compare.Reader(dst, compare.source_ts(src)))
    for snap in (a, b):
        snap["describe"].pop("name")
        snap["describe"].pop("schema_name")
    return compare.diff({"databases": [], "collections": {sname: a}},
                        {"databases": [], "collections": {sname: b}})


@pytest.mark.own_task
def test_mapped_names_hold_every_change_and_the_source_names_stay_empty(stack, source,
                                                                        target, names):
    sdb, tdb = names("nm_src"), names("nm_dst")
    mapping = [{"source_db": sdb, "target_db": tdb,
                "collection_mapping": {"a": "a_mapped", "b": "b_mapped"}}]
    src = compare.Server("nm_source", stack["source"])
    dst = compare.Server("nm_target", stack["target"])
    with paused_session_task():
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, names("nm"))
        if why:
            pytest.fail(f"milvus-cdc did not start: {why}")
        try:
            resp = _create(server, stack, {"db_collections": {sdb: [{"name": "*"}]},
                                           "name_mapping": mapping})
            assert resp.get("code") == 200, f"create: {resp}"
            task_id = resp["data"]["task_id"]
            # Refused: two source collections onto one target name; a mapping onto the names
            # this task writes.
            bad = _create(server, stack, {
                "db_collections": {names("nm_other"): [{"name": "*"}]},
                "name_mapping": [{"source_db": "x", "target_db": "y",
                                  "collection_mapping": {"c1": "t", "c2": "t"}}]})
            assert bad.get("code") == 400, bad
            assert "two source collections, x.c1 and x.c2, are mapped to one target " \
                   "collection y.t" in bad["message"], bad
            other = names("nm_other")
            bad = _create(server, stack, {
                "db_collections": {other: [{"name": "*"}]},
                "name_mapping": [{"source_db": other, "target_db": tdb,
                                  "collection_mapping": {}}]})
            assert bad.get("code") == 400, bad
            assert f"where task {task_id} already writes {sdb}.* (as {tdb}.*)" in \
                bad["message"], bad

            db.create_database(sdb, using=source)
            conn = src.alias(sdb)
            ca = Collection("a", schema(), using=conn, shards_num=2)
            cb = Collection("b", schema(), using=conn, shards_num=1)
            cc = Collection("c", schema(), using=conn, shards_num=1)  # no entry: keeps its name
            for c in (ca, cb, cc):
                c.create_index("vec", FLAT_L2, index_name="vec_idx")
                c.load()
            ca.insert(rows(range(0, 100)))
            cb.insert(rows(range(1000, 1050)))
            cc.insert(rows(range(5)))
            ca.delete(f"id in {list(range(0, 100, 10))}")
            ca.upsert(rows(range(95, 110)))  # 5 replaced, 10 new
            part = Partition(ca, "p1")
            part.insert(rows(range(500, 520)))
            ca.flush()
            cb.release()

            # Every change lands under the mapped names.
            want_a = sorted(set(range(0, 110)) - set(range(0, 95, 10)) | set(range(500, 520)))
            eventually(lambda: _ids(dst, tdb, "a_mapped") == want_a, f"{tdb}.a_mapped rows",
                       WAIT)
            assert _ids(dst, tdb, "a_mapped", ["p1"]) == list(range(500, 520))
            assert compare.Reader(dst).count(tdb, "a_mapped") == len(want_a)
            eventually(lambda: compare.load_state(dst, tdb, "b_mapped") == "NotLoad",
                       f"{tdb}.b_mapped released", WAIT)
            assert compare.indexes(dst, tdb, "a_mapped")["vec_idx"]["field"] == "vec"
            assert compare.load_state(dst, tdb, "a_mapped") == "Loaded"
            eventually(lambda: _ids(dst, tdb, "c") == list(range(5)), f"{tdb}.c rows", WAIT)
            cb.load()
            eventually(lambda: not _same_collection(src, sdb, "a", dst, tdb, "a_mapped") and
                       not _same_collection(src, sdb, "b", dst, tdb, "b_mapped"),
                       "a and b equal to their mapped collections", WAIT)
            # Nothing under the source's names.
            assert sdb not in compare.list_databases(dst)
            assert sorted(compare.list_collections(dst, tdb)) == ["a_mapped", "b_mapped", "c"]

            # verify compares each with its mapped collection and names both.
            job = run_verify(server, task_id, [f"{sdb}.a", f"{sdb}.b"], timeout=60)
            got = {r["name"]: r for r in job["results"]}
            assert got[f"{sdb}.a"]["result"] == "equal", got
            assert got[f"{sdb}.a"]["target"] == f"{tdb}.a_mapped", got
            assert got[f"{sdb}.b"]["result"] == "equal", got
            assert got[f"{sdb}.a"]["target_rows"] == len(want_a), got
            # get shows the mapping.
            task = server.post("get", {"task_id": task_id})["data"]["task"]
            assert task["name_mapping"] == mapping, task

            # A collection drop, then the database drop, reach the mapped names.
            cc.release()
            cc.drop()
            eventually(lambda: "c" not in compare.list_collections(dst, tdb),
                       f"{tdb}.c dropped", WAIT)
            for c in (ca, cb):
                c.release()
                c.drop()
            db.drop_database(sdb, using=source)
            eventually(lambda: tdb not in compare.list_databases(dst), f"{tdb} dropped", WAIT)
            assert sdb not in compare.list_databases(dst)
        finally:
            server.stop()
            src.close()
            dst.close()


QUERY_WAY = """initialSync:
  way: query
  queryBatchRows: 200
"""


@pytest.mark.own_task
def test_initial_sync_by_query_copies_into_the_mapped_names(stack, source, target, names):
    """Rows the source held before the task (copied by primary-key pages, the query way) and
    rows written after land in the mapped collection, with its index and load state."""
    sdb, tdb = names("nm_isrc"), names("nm_idst")
    src = compare.Server("nm_isync_source", stack["source"])
    dst = compare.Server("nm_isync_target", stack["target"])
    with paused_session_task():
        db.create_database(sdb, using=source)
        ca = Collection("a", schema(), using=src.alias(sdb), shards_num=2)
        ca.create_index("vec", FLAT_L2, index_name="vec_idx")
        ca.insert(rows(range(0, 600)))
        ca.delete(f"id in {list(range(0, 600, 7))}")
        ca.load()
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, names("nm-isync"),
                                           extra_yaml=QUERY_WAY)
        if why:
            pytest.fail(f"milvus-cdc did not start: {why}")
        try:
            resp = _create(server, stack, {
                "db_collections": {sdb: [{"name": "*"}]}, "initial_sync": True,
                "name_mapping": [{"source_db": sdb, "target_db": tdb,
                                  "collection_mapping": {"a": "a_copy"}}]})
            assert resp.get("code") == 200, f"create: {resp}"
            task_id = resp["data"]["task_id"]
            ca.insert(rows(range(1000, 1010)))
            want = sorted(set(range(600)) - set(range(0, 600, 7)) | set(range(1000, 1010)))
            eventually(lambda: _ids(dst, tdb, "a_copy") == want, f"{tdb}.a_copy rows", WAIT)
            assert not _same_collection(src, sdb, "a", dst, tdb, "a_copy")
            assert sdb not in compare.list_databases(dst)

            def sync_done():
                task = server.post("get", {"task_id": task_id})["data"]["task"]
                sync = task.get("initial_sync", [])
                return sync == [{**sync[0], "name": f"{sdb}.a", "target": f"{tdb}.a_copy",
                                 "phase": "done"}] or sync
            eventually(sync_done, "initial sync done, with both names in get", WAIT)
        finally:
            server.stop()
        ca.release()
        ca.drop()
        db.drop_database(sdb, using=source)
        # The task was stopped before the drops: the target's copy goes by hand.
        utility.drop_collection("a_copy", using=dst.alias(tdb))
        db.drop_database(tdb, using=target)
        src.close()
        dst.close()
