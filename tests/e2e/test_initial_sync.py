"""Initial sync (issue 14): a task created with "initial_sync": true makes the target equal to
a source that already holds data, while writes go on, and nothing arrives twice.

The collections here are young (the test's queue still holds them from their first message), so
create picks the queue way: each is replayed from its create message. The target must then
equal the source through compare.py (schema, partitions, indexes, load state, count(*) and every
row), also when milvus-cdc is killed in the middle of the replay, and `get` must show each
collection's progress. Each test runs its own milvus-cdc and task, with the session's task
paused (both would write the same collections).
"""
import threading
import time

import pytest
from pymilvus import (Collection, CollectionSchema, DataType, FieldSchema, Partition, db,
                      utility)
from pymilvus.grpc_gen import milvus_pb2

import cdc_server as cdc
import compare
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import DIM, FLAT_L2, rows, schema
from test_replication import eventually
from test_verify import run_verify

WAIT = 180  # s for the target to equal the source


def _server(stack, label, extra_args=(), extra_yaml=None):
    """A milvus-cdc of the test's own, on a meta store root of its own (`label` is unique per
    run: a task left by an earlier run would replicate the same collections)."""
    server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, label, extra_yaml=extra_yaml)
    if why:
        pytest.fail(f"milvus-cdc for {label} did not start: {why}")
    if extra_args:
        server.stop_running()
        server.proc = cdc.subprocess.Popen(list(server.proc.args) + list(extra_args),
                                           stdout=server.log, stderr=cdc.subprocess.STDOUT)
        assert server.wait_ready(30) is None
    return server


def _create(server, stack, selection, initial_sync=True):
    """A task of the collection named `selection`, or of every collection of database
    `selection` when it starts with "db:"."""
    host, port = stack["target"].rsplit(":", 1)
    body = {
        "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
        "initial_sync": initial_sync,
    }
    if selection.startswith("db:"):
        body["db_collections"] = {selection[3:]: [{"name": "*"}]}
    else:
        body["collection_infos"] = [{"name": selection}]
    resp = server.post("create", body)
    assert resp.get("code") == 200, f"create: {resp}"
    return resp["data"]["task_id"]


def _task(server, task_id):
    resp = server.post("get", {"task_id": task_id})
    assert resp.get("code") == 200, resp
    return resp["data"]["task"]


def _assert_done(server, task, dbname, names, counted, min_rows):
    """The task runs and `get` shows initial sync done for each of `names`, with at least
    `min_rows` rows copied for `counted` (every insert of its history, deletes not subtracted)."""
    sync = {c["name"]: c for c in _task(server, task).get("initial_sync", [])}
    assert set(sync) == {f"{dbname}.{n}" for n in names}, sync
    for entry in sync.values():
        assert entry["phase"] == "done", sync
    assert sync[f"{dbname}.{counted}"]["rows_copied"] >= min_rows, sync
    assert _task(server, task)["state"] == "Running"


def _filled_source(conn, name, shards, n, partition=None):
    """A loaded collection with n rows (in batches, so its history is many messages), a few
    deleted, and optionally a partition with rows of its own."""
    c = Collection(name, schema(), using=conn, shards_num=shards)
    c.create_index("vec", FLAT_L2, index_name="vec_idx")
    for lo in range(0, n, 100):
        c.insert(rows(range(lo, min(lo + 100, n))))
    c.delete(f"id in {list(range(0, n, 17))}")
    if partition:
        p = Partition(c, partition)
        p.insert(rows(range(100000, 100050)))
    c.load()
    return c


def _writer(c, first, stop):
    """Inserts one row at a time from `first` on until `stop` is set; returns the thread."""
    def run():
        i = first
        while not stop.is_set():
            c.insert(rows([i]))
            i += 1
            time.sleep(0.02)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _scope(dbname, names):
    return lambda db, coll=None: db == dbname and (coll is None or coll in names)


def _equal(stack, dbname, names):
    src = compare.Server("isync_source", stack["source"])
    dst = compare.Server("isync_target", stack["target"])
    try:
        diffs = compare.wait_equal(src, dst, _scope(dbname, names), timeout=WAIT)
    finally:
        src.close()
        dst.close()
    assert not diffs, "\n".join(diffs)


@pytest.mark.own_task
def test_existing_collections_are_copied_while_writes_go_on(stack, source, target, names):
    """A database with two collections holding rows, deletes, a partition, an index; one
    loaded, one not. Rows keep coming into the loaded one during and after create."""
    dbname, a, b = names("isyncdb"), "a", "b"
    src = compare.Server("isync_rows", stack["source"])
    # The session's task (every database) would copy them too: it is paused from the start.
    with paused_session_task():
        db.create_database(dbname, using=source)
        conn = src.alias(dbname)
        ca = _filled_source(conn, a, shards=2, n=1200, partition="p1")
        cb = Collection(b, schema(), using=conn, shards_num=1)
        cb.create_index("vec", FLAT_L2, index_name="b_idx")
        cb.insert(rows(range(300)))
        server = _server(stack, names("isync-copy"))
        stop = threading.Event()
        writer = _writer(ca, 200000, stop)
        try:
            task = _create(server, stack, f"db:{dbname}")
            time.sleep(3)
            stop.set()
            writer.join()
            _equal(stack, dbname, [a, b])
            dst = compare.Server("isync_state", stack["target"])
            try:
                state = compare.load_state(dst, dbname, b)
            finally:
                dst.close()
            assert state == "NotLoad", state
            # b's rows are there too: load it on the source, the load is replicated.
            cb.load()
            _equal(stack, dbname, [a, b])
            _assert_done(server, task, dbname, [a, b], a, 1250)
        finally:
            stop.set()
            server.stop()
        for c in (ca, cb):
            c.release()
            c.drop()
    src.close()


@pytest.mark.own_task
def test_a_crash_in_the_middle_of_the_copy_leaves_nothing_twice(stack, source, target, names):
    """milvus-cdc exits (like kill -9) right after the target acknowledged the first round of
    the replay and before its checkpoint; started again, it goes on: count(*) (which sees a
    second copy of a row) and every row equal the source."""
    a = names("isync_crash")
    with paused_session_task():
        ca = _filled_source(source, a, shards=2, n=3000)
        server = _server(stack, names("isync-crash"), ["--test-crash-after-ack"])
        try:
            _create(server, stack, a)
            deadline = time.monotonic() + 60
            while server.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert server.proc.returncode == 86, "milvus-cdc did not take the crash hook in 60 s"
            server.proc = cdc.subprocess.Popen(
                [a_ for a_ in server.proc.args if a_ != "--test-crash-after-ack"],
                stdout=server.log, stderr=cdc.subprocess.STDOUT)
            assert server.wait_ready(30) is None
            ca.insert(rows(range(50000, 50100)))
            _equal(stack, "default", [a])
        finally:
            server.stop()
    ca.release()
    ca.drop()


@pytest.mark.own_task
def test_without_initial_sync_rows_from_before_the_task_stay_behind(stack, source, target,
                                                                     names):
    """Upstream's behaviour stays the default: the collection is created, only new rows come."""
    a = names("isync_off")
    with paused_session_task():
        ca = _filled_source(source, a, shards=1, n=200)
        server = _server(stack, names("isync-off"))
        try:
            task = _create(server, stack, a, initial_sync=False)
            ca.insert(rows(range(70000, 70010)))
            # Its index and load state are not copied either: the test loads it to read it.
            eventually(lambda: utility.has_collection(a, using=target), f"{a} on the target")
            ct = Collection(a, using=target)
            ct.create_index("vec", FLAT_L2)
            ct.load()
            eventually(lambda: sorted(r["id"] for r in Collection(a, using=target).query(
                "id >= 0", output_fields=["id"], consistency_level="Eventually")) ==
                list(range(70000, 70010)), f"only the new rows of {a}")
            assert "initial_sync" not in _task(server, task)
        finally:
            server.stop()
    ca.release()
    ca.drop()


QUERY_WAY = """initialSync:
  way: query
  queryBatchRows: 500
"""


@pytest.mark.own_task
def test_the_query_way_copies_rows_while_writes_go_on(stack, source, target, names):
    """initialSync.way: query copies existing rows by primary-key pages from the source (as
    for a collection whose first messages the queue no longer holds), while inserts, deletes
    and upserts go on: the target ends equal (every row, count(*), partitions), nothing
    twice. Int64 keys in two partitions and two shards, and a VarChar-keyed partition-key
    collection with the dynamic field."""
    dbname = names("isyncq")
    src = compare.Server("isync_query", stack["source"])
    with paused_session_task():
        db.create_database(dbname, using=source)
        conn = src.alias(dbname)
        ca = _filled_source(conn, "a", shards=2, n=2400, partition="p1")
        cb = Collection("b", CollectionSchema([
            FieldSchema("pk", DataType.VARCHAR, is_primary=True, max_length=32),
            FieldSchema("tenant", DataType.INT64, is_partition_key=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM)], enable_dynamic_field=True),
            using=conn, num_partitions=4)
        cb.create_index("vec", FLAT_L2)
        cb.load()
        cb.insert([{"pk": f"k{i:05d}", "tenant": i % 7, "vec": [float(i)] * DIM,
                    "extra": f"v{i}"} for i in range(1500)])
        cb.delete('pk in ["k00001", "k00002"]')
        server = _server(stack, names("isync-query"), extra_yaml=QUERY_WAY)
        stop = threading.Event()
        writer = _writer(ca, 300000, stop)
        try:
            task = _create(server, stack, f"db:{dbname}")
            # Changes while the rows are copied: upserts of copied keys, deletes of copied
            # keys, inserts of new ones.
            ca.upsert(rows(range(5, 25)))
            ca.delete(f"id in {list(range(100, 140))}")
            cb.upsert([{"pk": f"k{i:05d}", "tenant": i % 7, "vec": [0.5] * DIM, "extra": "new"}
                       for i in range(10, 30)])
            time.sleep(3)
            stop.set()
            writer.join()
            _equal(stack, dbname, ["a", "b"])
            _assert_done(server, task, dbname, ["a", "b"], "a", 2000)
        finally:
            stop.set()
            server.stop()
        for c in (ca, cb):
            c.release()
            c.drop()
    src.close()


PACED_QUERY_WAY = """initialSync:
  way: query
  queryBatchRows: 2000
  queryRowsPerSecond: 20000
"""


def _sync_entry(server, task, name):
    """The task's initial_sync entry of `name` (None when `get` does not answer)."""
    try:
        sync = _task(server, task).get("initial_sync")
    except Exception:  # noqa: BLE001 - the server may be starting again
        return None
    # `true` (the task's setting) until the pipeline reports progress per collection.
    for entry in sync if isinstance(sync, list) else []:
        if entry["name"] == name:
            return entry
    return None


def _kill_during_copy(server, task, name, total, phase, after=0, restart_args=()):
    """Waits until the copy of `name` is under way (`phase` "copying" or "replaying", more than
    `after` rows copied, not all), then kills milvus-cdc with SIGKILL and starts it again (with
    `restart_args`; then without waiting until it answers). Returns the rows copied then."""
    deadline = time.monotonic() + 90
    entry, seen = None, []

    def under_way(e):
        # A replay goes in few large rounds (on a quiet machine 0 to all rows within 0.1 s):
        # it is killed whenever it is seen replaying, rows applied or not yet.
        least = after if phase == "replaying" else after + 1
        return e and e["phase"] == phase and least <= e["rows_copied"] < total

    while time.monotonic() < deadline:
        entry = _sync_entry(server, task, name)
        if entry not in seen:
            seen.append(entry)
        if under_way(entry):
            break
        time.sleep(0.1)
    assert under_way(entry), f"the copy of {name} was not under way within 90 s: {seen[-10:]}"
    server.proc.kill()
    server.proc.wait(10)
    if not hasattr(server, "base_args"):
        server.base_args = list(server.proc.args)
    server.proc = cdc.subprocess.Popen(server.base_args + list(restart_args), stdout=server.log,
                                       stderr=cdc.subprocess.STDOUT)
    if not restart_args:
        assert server.wait_ready(30) is None
    return entry["rows_copied"]


def _crash_after_first_ack(server):
    """Waits (60 s at most) until a milvus-cdc started with --test-crash-after-ack exits as its
    hook says (code 86: the target acknowledged the first round with data, its checkpoint was
    not written), then starts it again as usual."""
    try:
        code = server.proc.wait(60)
    except cdc.subprocess.TimeoutExpired:
        code = None
    assert code == 86, f"milvus-cdc did not take the crash hook in 60 s (exit code {code})"
    server.proc = cdc.subprocess.Popen(server.base_args, stdout=server.log,
                                       stderr=cdc.subprocess.STDOUT)
    assert server.wait_ready(30) is None


@pytest.mark.own_task
@pytest.mark.parametrize("way", ["query", "queue"])
def test_initial_sync_survives_two_kills_during_the_copy(way, stack, source, target, names):
    """100k rows (in 200 inserts) and deletes exist before the task; a writer inserts, upserts
    and deletes all along; milvus-cdc is killed with SIGKILL twice while it copies them, and
    goes on from where its checkpoint says. By query (at a pace, initialSync.
    queryRowsPerSecond: killed twice in the middle of the pages) and by the queue (the
    collection's history replayed: killed when seen replaying, wherever the machine's speed
    has it; the restarted process replays again from its checkpoint and exits through
    --test-crash-after-ack right after the target acknowledged its first round, before that
    round's checkpoint: a replay can end within 0.1 s, too fast to be caught twice by polling).
    The target ends equal to the source (every row, count(*): nothing twice), the copy shows as
    done and verify says equal."""
    a, total = names(f"isync_kill_{way}"), 100000
    with paused_session_task():
        ca = Collection(a, schema(), using=source, shards_num=2)
        ca.create_index("vec", FLAT_L2, index_name="vec_idx")
        for lo in range(0, total, 500):
            ca.insert(rows(range(lo, lo + 500)))
        ca.delete(f"id in {list(range(0, 2000, 7))}")
        ca.load()
        server = _server(stack, names(f"isync-kill-{way}"),
                         extra_yaml=PACED_QUERY_WAY if way == "query" else None)
        phase = "copying" if way == "query" else "replaying"
        stop = threading.Event()
        writer = _writer(ca, 500000, stop)
        try:
            task = _create(server, stack, a)
            if way == "query":
                seen = [_kill_during_copy(server, task, f"default.{a}", total, phase)]
            else:
                seen = [_kill_during_copy(server, task, f"default.{a}", total, phase,
                                          restart_args=["--test-crash-after-ack"])]
                _crash_after_first_ack(server)
            ca.upsert(rows(range(50000, 50100)))  # keys copied already or still to come
            ca.delete(f"id in {list(range(60000, 60100))}")
            if way == "query":
                seen.append(_kill_during_copy(server, task, f"default.{a}", total, phase,
                                              after=seen[0]))
            else:
                seen.append(_sync_entry(server, task, f"default.{a}"))
            print(f"  {way}: killed with {seen} rows copied")
            stop.set()
            writer.join()
            _equal(stack, "default", [a])
            if way == "query":  # every row not deleted before the copy reached it
                _assert_done(server, task, "default", [a], a, total - 386)
            else:  # every insert of the history (deletes are not subtracted)
                _assert_done(server, task, "default", [a], a, total)
            job = run_verify(server, task, [a])
            assert job["equal"] is True, job
        finally:
            stop.set()
            server.stop()
    ca.release()
    ca.drop()


@pytest.mark.own_task
def test_the_query_way_copies_every_kind_of_schema(stack, source, target, names):
    """Every kind of collection of test_schemas.py (every scalar and array type, JSON, binary
    vectors, the dynamic field, partition keys, auto_id, default values, descriptions and
    properties, every consistency level) exists with rows, upserts and deletes before the task;
    the query way copies them all: each equals its source through compare.py (schema, indexes,
    load state, count(*) and every row)."""
    import random  # pylint: disable=import-outside-toplevel
    from test_schemas import KINDS, ORDER, create_and_fill  # pylint: disable=import-outside-toplevel
    dbname = names("isyncall")
    src = compare.Server("isync_kinds", stack["source"])
    specs = [KINDS[k](k) for k in ORDER]
    with paused_session_task():
        db.create_database(dbname, using=source)
        rng = random.Random(14)
        for s in specs:
            create_and_fill(src, s, rng, db=dbname)
        server = _server(stack, names("isync-kinds"), extra_yaml=QUERY_WAY)
        try:
            task = _create(server, stack, f"db:{dbname}")
            _equal(stack, dbname, [s["name"] for s in specs])
            _assert_done(server, task, dbname, [s["name"] for s in specs], specs[0]["name"], 1)
        finally:
            server.stop()
        for s in specs:
            src.stub(dbname).DropCollection(milvus_pb2.DropCollectionRequest(
                db_name=dbname, collection_name=s["name"]), timeout=30)
    src.close()


@pytest.mark.own_task
def test_the_query_way_copies_while_the_target_channels_tick(stack, source, target, names):
    """The target's channels are busy while rows are copied: another task (a 16-shard
    collection of another database) ticks every target channel, so the target's datanode
    watches each new collection at once and reads the copied pages live, after ticks newer
    than the pages' own timestamps. Every row still arrives (count(*) and every row)."""
    tickdb, dbname = names("isynctick"), names("isynclive")
    src = compare.Server("isync_live", stack["source"])
    with paused_session_task():
        db.create_database(tickdb, using=source)
        db.create_database(dbname, using=source)
        ticker_coll = Collection("t", schema(), using=src.alias(tickdb), shards_num=16)
        made = []
        for i in range(4):
            c = Collection(f"c{i}", schema(), using=src.alias(dbname), shards_num=1 + i % 2)
            c.create_index("vec", FLAT_L2, index_name="vec_idx")
            c.insert(rows(range(300)))
            c.delete(f"id in {list(range(0, 300, 29))}")
            c.load()
            made.append(c)
        ticker = _server(stack, names("isync-ticker"))
        server = None
        try:
            ticker_coll.create_index("vec", FLAT_L2, index_name="vec_idx")
            ticker_coll.load()
            _create(ticker, stack, f"db:{tickdb}")
            ticker_coll.insert(rows(range(10)))
            _equal(stack, tickdb, ["t"])  # its channels are watched and ticked by now
            server = _server(stack, names("isync-live"), extra_yaml=QUERY_WAY)
            task = _create(server, stack, f"db:{dbname}")
            _equal(stack, dbname, [c.name for c in made])
            _assert_done(server, task, dbname, [c.name for c in made], "c0", 1)
        finally:
            if server is not None:
                server.stop()
            ticker.stop()
        for c in made + [ticker_coll]:
            c.release()
            c.drop()
    src.close()
