"""Guarantees checked on the real target: lag per source channel (in messages and in time) in
`get`, `position` and /metrics, and no duplicates when milvus-cdc dies after the target
acknowledged a pack but before the checkpoint (the pack is sent a second time on restart)."""
import re
import time
import urllib.request

import pytest
from pymilvus import Collection, db

import cdc_server as cdc
import compare
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import FLAT_L2, rows, schema
from test_replication import eventually, loaded_source_collection, target_ids


def _task(server, task_id):
    resp = server.post("get", {"task_id": task_id})
    assert resp.get("code") == 200, resp
    return resp["data"]["task"]


def _lags(server, task_id):
    """channel -> lag_messages of the task, from `get`."""
    return {c["channel_name"]: c["lag_messages"] for c in _task(server, task_id)["channels"]}


def _metrics(server):
    url = server.url.rsplit("/cdc", 1)[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def test_lag_in_messages_grows_while_paused_and_returns_to_zero(replicating, cdc_server, cdc_task,
                                                                source, target, names):
    name = names("coll")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(10)))
    eventually(lambda: target_ids(target, name) == list(range(10)), "10 rows")
    # Every channel read by the task is caught up at some moment (ticks keep arriving).
    eventually(lambda: _lags(cdc_server, cdc_task) and
               all(v == 0 for v in _lags(cdc_server, cdc_task).values()) or
               _lags(cdc_server, cdc_task), "lag 0 on every channel", timeout=60)
    assert cdc_server.post("pause", {"task_id": cdc_task}).get("code") == 200
    try:
        c.insert(rows(range(10, 110)))
        # Paused: the lag comes from the stored checkpoint and the broker's latest offsets.
        eventually(lambda: any(v > 0 for v in _lags(cdc_server, cdc_task).values()) or
                   _lags(cdc_server, cdc_task), "lag > 0 while paused", timeout=30)
        channels = _task(cdc_server, cdc_task)["channels"]
        behind = [ch for ch in channels if ch["lag_messages"] > 0]
        assert all(ch["lag_ms"] > 0 and ch["checkpoint"] and ch["checkpoint_time"] > 0
                   for ch in behind), channels
        pos = cdc_server.post("position", {"task_id": cdc_task})
        assert any(ch["lag_messages"] > 0 for ch in pos["data"]["channels"]), pos
        text = _metrics(cdc_server)
        gauge = re.findall(r'milvus_cdc_channel_lag_messages\{task_id="%s",channel="[^"]+"\} (\d+)'
                           % cdc_task, text)
        assert gauge and max(int(v) for v in gauge) > 0, text
    finally:
        assert cdc_server.post("resume", {"task_id": cdc_task}).get("code") == 200
    eventually(lambda: target_ids(target, name) == list(range(110)), "catch-up after resume")
    eventually(lambda: all(v == 0 for v in _lags(cdc_server, cdc_task).values()) or
               _lags(cdc_server, cdc_task), "lag back to 0 after resume", timeout=60)
    c.release()
    c.drop()


def _restart(server, extra_args=(), wait_ready=True):
    """Starts the session's milvus-cdc again (same config and port) once its process ended;
    waits until it answers unless told not to (it may take a crash hook before that)."""
    if not hasattr(server, "base_args"):
        server.base_args = list(server.proc.args)
    server.proc = cdc.subprocess.Popen(server.base_args + list(extra_args), stdout=server.log,
                                       stderr=cdc.subprocess.STDOUT)
    if wait_ready:
        assert server.wait_ready(30) is None


def test_pack_sent_twice_after_a_crash_before_the_checkpoint_leaves_no_duplicates(
        replicating, cdc_server, source, target, names):
    """--test-crash-after-ack makes milvus-cdc exit right after the target acknowledged a pack
    and before the checkpoint: on restart the same pack goes to the target again."""
    name = names("coll")
    c = loaded_source_collection(source, name, shards_num=2)
    c.insert(rows(range(20)))
    eventually(lambda: target_ids(target, name) == list(range(20)), "20 rows")

    cdc_server.stop_running()
    _restart(cdc_server, ["--test-crash-after-ack"])
    c.insert(rows(range(20, 220)))
    deadline = time.monotonic() + 60
    while cdc_server.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cdc_server.proc.returncode == 86, "milvus-cdc did not take the crash hook in 60 s"
    _restart(cdc_server)

    c.delete("id in [0, 1]")
    expected = list(range(2, 220))
    eventually(lambda: target_ids(target, name) == expected, f"{len(expected)} rows")
    # count(*) does not merge rows by primary key: it sees a second copy of any row.
    counted = Collection(name, using=target).query(
        "", output_fields=["count(*)"], consistency_level="Eventually")[0]["count(*)"]
    assert counted == len(expected), f"duplicate rows on the target: {counted} rows"
    c.release()
    c.drop()


def test_coalesced_pack_sent_twice_after_a_crash_leaves_no_duplicates(
        replicating, cdc_server, cdc_task, source, target, names):
    """The same crash window with coalesced messages: single-row inserts and deletes written
    while milvus-cdc is down make packs of many messages, which go to the target merged; the
    process exits after the target acknowledged them and before the checkpoint, and the
    restarted one merges the same packs into the same messages (same bytes, same msgIDs), which
    the target drops as duplicates."""
    name = names("coll")
    c = loaded_source_collection(source, name, shards_num=2)
    c.insert(rows(range(20)))
    eventually(lambda: target_ids(target, name) == list(range(20)), "20 rows")

    cdc_server.stop_running()
    expected = set(range(20))
    for i in range(20, 220):  # the backlog the restarted process reads in its first round
        c.insert(rows([i]))
        expected.add(i)
        if i % 10 == 0:
            c.delete(f"id in [{i - 3}]")
            expected.discard(i - 3)
    # The backlog is there at once: the hook can fire before the server answers its first call.
    _restart(cdc_server, ["--test-crash-after-ack"], wait_ready=False)
    deadline = time.monotonic() + 60
    while cdc_server.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cdc_server.proc.returncode == 86, "milvus-cdc did not take the crash hook in 60 s"
    _restart(cdc_server)

    # The target held every row before the crash: the restarted process must first be seen
    # merging the re-sent packs again (it answers before its readers reach the backlog), and a
    # delete written after the backlog must be applied, before the count means anything.
    def merged():
        m = re.search(r'milvus_cdc_coalesced_messages_total\{task_id="%s"\} (\d+)' % cdc_task,
                      _metrics(cdc_server))
        return m is not None and int(m.group(1)) > 0
    eventually(merged, "the restarted process coalescing the re-sent packs")
    c.delete("id in [0]")
    expected.discard(0)
    expected = sorted(expected)
    eventually(lambda: target_ids(target, name) == expected, f"{len(expected)} rows")
    counted = Collection(name, using=target).query(
        "", output_fields=["count(*)"], consistency_level="Eventually")[0]["count(*)"]
    assert counted == len(expected), f"duplicate rows on the target: {counted} rows"
    c.release()
    c.drop()


@pytest.mark.own_task
def test_a_task_catching_up_behind_another_on_the_same_target_loses_nothing(stack, source,
                                                                             names):
    """Two tasks of one milvus-cdc on one target, a database each. One is paused while rows
    and deletes go to both; the other goes on ticking every target channel (its collection has
    16 shards). The paused one's collection is released and loaded again, and a new one is
    made, filled and loaded. Resumed, the first
    catches up with messages older than the other's ticks on the same target channels, and the
    target loads its collection again after them: the target still ends equal, every row and
    count(*)."""
    behind, ahead = names("behind"), names("ahead")
    src = compare.Server("two_tasks", stack["source"])
    with paused_session_task():
        db.create_database(behind, using=source)
        db.create_database(ahead, using=source)
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, names("two-tasks"))
        assert why is None, why
        try:
            task_b = _own_task(server, stack, behind)
            _own_task(server, stack, ahead)
            cb = Collection("c", schema(), using=src.alias(behind), shards_num=2)
            ca = Collection("c", schema(), using=src.alias(ahead), shards_num=16)
            for c in (cb, ca):
                c.create_index("vec", FLAT_L2, index_name="vec_idx")
                c.load()
                c.insert(rows(range(20)))
            _wait_equal(stack, [behind, ahead])
            assert server.post("pause", {"task_id": task_b}).get("code") == 200
            for lo in range(20, 620, 100):
                cb.insert(rows(range(lo, lo + 100)))
                ca.insert(rows(range(lo, lo + 100)))
                time.sleep(0.5)
            cb.delete(f"id in {list(range(0, 620, 13))}")
            # Loaded again, and a new collection: the target's query node reads their rows from
            # positions that the other task's ticks already moved past them.
            cb.release()
            cb.load()
            fresh = Collection("fresh", schema(), using=src.alias(behind), shards_num=2)
            fresh.create_index("vec", FLAT_L2, index_name="vec_idx")
            fresh.insert(rows(range(300)))
            fresh.load()
            fresh.insert(rows(range(300, 400)))
            time.sleep(3)  # the other task's ticks run well ahead of the paused one
            assert server.post("resume", {"task_id": task_b}).get("code") == 200
            _wait_equal(stack, [behind, ahead])
        finally:
            server.stop()
        for c in (cb, ca, fresh):
            c.release()
            c.drop()
    src.close()


def _own_task(server, stack, dbname):
    host, port = stack["target"].rsplit(":", 1)
    resp = server.post("create", {
        "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
        "db_collections": {dbname: [{"name": "*"}]},
    })
    assert resp.get("code") == 200, f"create: {resp}"
    return resp["data"]["task_id"]


def _wait_equal(stack, dbnames):
    s = compare.Server("two_tasks_source", stack["source"])
    t = compare.Server("two_tasks_target", stack["target"])
    try:
        diffs = compare.wait_equal(s, t, lambda d, c=None: d in dbnames, timeout=180)
    finally:
        s.close()
        t.close()
    assert not diffs, "\n".join(diffs)
