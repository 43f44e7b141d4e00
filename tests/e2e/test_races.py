"""Races a user's script runs into (issue 12): DDL and DML issued the moment `create` answered,
back to back with no wait, also while milvus-cdc is killed with SIGKILL and started again.

A task's start is fixed when `create` answers (the position of every source channel then), so
whatever the source writes after that reaches the target, however late the readers start: the
collection, its index, its load state and its rows. Each test runs its own milvus-cdc with a
task of its own; conftest runs them before the session's task exists (and pauses that task if
it does), since both would write the same collections.
"""
import os
import signal
import time

import pytest
from pymilvus import Collection, db, utility

import cdc_server as cdc
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import FLAT_L2, rows, schema
from test_replication import eventually, target_ids


def _server(stack, label):
    server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, label)
    if why:
        pytest.fail(f"milvus-cdc for {label} did not start: {why}")
    return server


def _create(server, stack, request_data):
    host, port = stack["target"].rsplit(":", 1)
    body = {
        "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
    }
    body.update(request_data)
    resp = server.post("create", body)
    assert resp.get("code") == 200, f"create: {resp}"
    return resp["data"]["task_id"]


def _index_names(conn, name):
    return [i.index_name for i in Collection(name, using=conn).indexes]


def _loaded(conn, name):
    return str(utility.load_state(name, using=conn)).endswith("Loaded")


def _count(conn, name):
    return Collection(name, using=conn).query(
        "", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]


@pytest.mark.own_task
def test_ddl_and_dml_at_once_after_create_reach_the_target(stack, source, target, names):
    """create, then at once: a 2-shard collection, its index, load, one row. Three times."""
    with paused_session_task():
        server = _server(stack, "race-create")
        try:
            for attempt in range(3):
                name = names("race")
                task = _create(server, stack, {"collection_infos": [{"name": name}]})
                c = Collection(name, schema(), using=source, shards_num=2)
                c.create_index("vec", FLAT_L2, index_name="vec_idx")
                c.load()
                c.insert(rows([attempt]))
                eventually(lambda: utility.has_collection(name, using=target) and
                           _index_names(target, name) == ["vec_idx"], f"index of {name}")
                eventually(lambda: _loaded(target, name), f"{name} loaded on the target")
                eventually(lambda: target_ids(target, name) == [attempt],
                           f"the row of {name} queryable on the target")
                c.release()
                c.drop()
                eventually(lambda: not utility.has_collection(name, using=target),
                           f"drop of {name}")
                assert server.post("delete", {"task_id": task}).get("code") == 200
        finally:
            server.stop()


def _kill_and_restart(server):
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.proc = cdc.subprocess.Popen(server.proc.args, stdout=server.log,
                                       stderr=cdc.subprocess.STDOUT)
    assert server.wait_ready(30) is None


@pytest.mark.own_task
def test_ddl_and_dml_right_after_create_survive_kill9_every_few_seconds(
        stack, source, target, names):
    """A task for a new database; right after create, three collections each get an index, a
    load and rows while milvus-cdc is killed (SIGKILL) and restarted every few seconds: at the
    end each has its index, is loaded, and holds exactly the source's rows."""
    dbname = names("racedb")
    with paused_session_task():
        server = _server(stack, "race-kill9")
        try:
            task = _create(server, stack, {"db_collections": {dbname: [{"name": "*"}]}})
            db.create_database(dbname, using=source)
            db.using_database(dbname, using=source)
            colls, expected = [], {}
            kills = 0
            for i in range(3):
                name = f"c{i}"
                c = Collection(name, schema(), using=source, shards_num=2)
                c.create_index("vec", FLAT_L2, index_name=f"idx{i}")
                c.load()
                colls.append(c)
                expected[name] = []
                for batch in range(4):
                    ids = list(range(i * 1000 + batch * 50, i * 1000 + batch * 50 + 50))
                    c.insert(rows(ids))
                    expected[name] += ids
                    if batch % 2 == 1:
                        _kill_and_restart(server)
                        kills += 1
                        time.sleep(1)
            c = colls[0]
            c.delete("id in [0, 1, 2]")
            expected["c0"] = expected["c0"][3:]
            eventually(lambda: db.using_database(dbname, using=target) is None, dbname)
            for i, name in enumerate(expected):
                eventually(lambda: utility.has_collection(name, using=target) and
                           _index_names(target, name) == [f"idx{i}"], f"index of {name}")
                eventually(lambda: _loaded(target, name), f"{name} loaded on the target")
                eventually(lambda: target_ids(target, name) == expected[name],
                           f"{len(expected[name])} rows of {name}")
                assert _count(target, name) == len(expected[name]), \
                    f"duplicate rows of {name} on the target"
            print(f"    {kills} kills; target equals source")
            for c in colls:
                c.release()
                c.drop()
            for name in expected:
                eventually(lambda: not utility.has_collection(name, using=target),
                           f"drop of {name}")
            db.using_database("default", using=source)
            db.using_database("default", using=target)
            db.drop_database(dbname, using=source)
            eventually(lambda: dbname not in db.list_database(using=target), f"drop of {dbname}")
            assert server.post("delete", {"task_id": task}).get("code") == 200
        finally:
            db.using_database("default", using=source)
            db.using_database("default", using=target)
            server.stop()
