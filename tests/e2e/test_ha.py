"""High availability (issue 16): three milvus-cdc servers share the tasks of one etcd meta
store; each task runs on exactly one live server, a dead or frozen server's tasks move within
the lease TTL + 5 s and resume from their checkpoints (nothing lost, nothing twice), any server
answers the whole API, and SIGTERM hands a server's tasks to the others.

Each test runs its own servers (own rootPath, lease TTL 3 s, poll 500 ms) and tasks; conftest
runs them first (own_task), before the session's task exists. HA does not depend on the source's
queue: the tests run in the Kafka pass only.
"""
import os
import signal
import threading
import time
import urllib.request

import pytest
from pymilvus import Collection, utility

import cdc_server as cdc
from conftest import ENV_DIR, MQ, ROOT, paused_session_task
from seed import rows
from test_replication import eventually, loaded_source_collection, target_ids

pytestmark = [
    pytest.mark.own_task,
    pytest.mark.skipif(MQ != "kafka", reason="HA does not depend on the source's queue: the "
                       "Kafka pass covers it"),
]

TTL = 3  # s, ha.leaseTTLSeconds of the test servers
FAILOVER = TTL + 5  # s, the promised bound


def _ha_yaml(server_id):
    return f"""ha:
  serverId: {server_id}
  leaseTTLSeconds: {TTL}
  pollIntervalMs: 500
  drainTimeoutSeconds: 10
"""


class Cluster:
    """Three milvus-cdc servers ha-0..ha-2 on the stack's etcd under one rootPath."""

    def __init__(self, stack, label, n=3):
        self.stack, self.label = stack, label
        self.root = f"cdc-{label}-{os.getpid()}-{int(time.time())}"
        self.servers = {}
        for i in range(n):
            self.start(f"ha-{i}")

    def start(self, sid):
        server, why = cdc.start_own_server(ROOT, ENV_DIR, self.stack, f"{self.label}-{sid}",
                                           meta_root=self.root, extra_yaml=_ha_yaml(sid))
        if why:
            pytest.fail(f"milvus-cdc {sid} did not start: {why}")
        self.servers[sid] = server
        return server

    def alive(self):
        return {sid: s for sid, s in self.servers.items() if s.proc.poll() is None}

    def any(self, but=()):
        return next(s for sid, s in self.alive().items() if sid not in but)

    def owner(self, task, via=None):
        resp = (via or self.any()).post("get", {"task_id": task}, timeout=5)
        assert resp.get("code") == 200, f"get {task}: {resp}"
        return resp["data"]["task"].get("owner", "")

    def wait_owner(self, task, not_in=(), timeout=FAILOVER, via=None):
        """The owner of task once it is set and not in not_in; fails after timeout s."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                last = self.owner(task, via)
                if last and last not in not_in:
                    return last
            except (OSError, ValueError, AssertionError) as e:
                last = e
            time.sleep(0.2)
        pytest.fail(f"task {task} had no owner outside {list(not_in)} within {timeout} s "
                    f"(last: {last!r})")

    def stop(self):
        for s in self.servers.values():
            if s.proc.poll() is None:
                try:
                    os.kill(s.proc.pid, signal.SIGCONT)
                except OSError:
                    pass
            s.stop()


def _create(server, stack, name):
    host, port = stack["target"].rsplit(":", 1)
    resp = server.post("create", {
        "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
        "collection_infos": [{"name": name}],
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
    })
    assert resp.get("code") == 200, f"create: {resp}"
    return resp["data"]["task_id"]


def _count(conn, name):
    return Collection(name, using=conn).query(
        "", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]


def _metrics(server):
    url = server.url.rsplit("/", 1)[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("milvus_cdc_ha_"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def _metric(server, name, **labels):
    for key, value in _metrics(server).items():
        if key.startswith(name + "{") and all(f'{k}="{v}"' in key for k, v in labels.items()):
            return value
    return None


class Stream:
    """Inserts batches of 50 rows into each collection every 0.2 s on a thread until stopped;
    `ids[name]` holds every id inserted."""

    def __init__(self, collections):
        self.collections = collections
        self.ids = {c.name: [] for c in collections}
        self._stop = threading.Event()
        self._next = 0
        self.error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                for c in self.collections:
                    ids = list(range(self._next, self._next + 50))
                    c.insert(rows(ids))
                    self.ids[c.name] += ids
                self._next += 50
                time.sleep(0.2)
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self._stop.set()
        self._thread.join(30)
        assert self.error is None, f"inserting into the source failed: {self.error!r}"


def _assert_target_equals_source(target, stream):
    for name, ids in stream.ids.items():
        eventually(lambda: target_ids(target, name) == sorted(ids),
                   f"the {len(ids)} rows of {name}", timeout=90)
        assert _count(target, name) == len(ids), f"duplicate rows of {name} on the target"


def _drop(source, target, collections):
    for c in collections:
        c.release()
        c.drop()
    for c in collections:
        eventually(lambda: not utility.has_collection(c.name, using=target), f"drop of {c.name}")


def _loaded(target, name):
    return str(utility.load_state(name, using=target)).endswith("Loaded")


def _setup(stack, source, target, names, label, n=2):
    """Three servers; n tasks (one collection each, created after its task, with an index and
    loaded, so the target has it loaded too)."""
    cluster = Cluster(stack, label)
    coll_names = [names("ha") for _ in range(n)]
    tasks = [_create(cluster.any(), stack, name) for name in coll_names]
    colls = [loaded_source_collection(source, name) for name in coll_names]
    for c in colls:
        eventually(lambda: _loaded(target, c.name), f"{c.name} loaded on the target")
    owners = [cluster.wait_owner(t) for t in tasks]
    return cluster, colls, tasks, owners


def test_kill9_of_an_owner_moves_its_task_and_nothing_is_lost_or_doubled(
        stack, source, target, names):
    with paused_session_task():
        cluster, colls, tasks, owners = _setup(stack, source, target, names, "ha-kill")
        try:
            assert all(o in cluster.servers for o in owners), owners
            stream = Stream(colls)
            time.sleep(2)
            victim = owners[0]
            os.kill(cluster.servers[victim].proc.pid, signal.SIGKILL)
            cluster.servers[victim].proc.wait()
            killed = time.monotonic()
            new = cluster.wait_owner(tasks[0], not_in=(victim,))
            moved = time.monotonic() - killed
            print(f"    task moved from {victim} to {new} in {moved:.1f} s (TTL {TTL} s)")
            time.sleep(2)
            stream.stop()
            _assert_target_equals_source(target, stream)
            assert cluster.owner(tasks[1]) != victim
            _drop(source, target, colls)
        finally:
            cluster.stop()


def test_a_frozen_owner_loses_its_task_and_writes_nothing_after_it_wakes(
        stack, source, target, names):
    with paused_session_task():
        cluster, colls, tasks, owners = _setup(stack, source, target, names, "ha-stop")
        try:
            stream = Stream(colls)
            time.sleep(2)
            frozen = owners[0]
            proc = cluster.servers[frozen].proc
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                new = cluster.wait_owner(tasks[0], not_in=(frozen,),
                                         via=cluster.any(but=(frozen,)))
                time.sleep(1)
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            time.sleep(3)  # the woken server runs on while rows stream in
            stream.stop()
            _assert_target_equals_source(target, stream)
            # One owner, the same on every server; the woken one saw its lease had gone.
            seen = {sid: cluster.owner(tasks[0], via=s) for sid, s in cluster.alive().items()}
            assert set(seen.values()) == {new}, seen
            woken = cluster.servers[frozen]
            assert _metric(woken, "milvus_cdc_ha_lease_lost_total") >= 1
            held = _metric(woken, "milvus_cdc_ha_tasks_owned")
            expected = sum(1 for t in tasks if cluster.owner(t) == frozen)
            assert held == expected, f"{frozen} runs {held} task(s), owns {expected}"
            _drop(source, target, colls)
        finally:
            cluster.stop()


def test_any_server_answers_pause_resume_get_delete_for_the_owner(
        stack, source, target, names):
    with paused_session_task():
        cluster, (c,), (task,), (owner,) = _setup(stack, source, target, names, "ha-api", n=1)
        try:
            others = [s for sid, s in cluster.servers.items() if sid != owner]
            c.insert(rows(range(100)))
            eventually(lambda: target_ids(target, c.name) == list(range(100)), "100 rows")
            # list and get on every server show the task and its owner
            for s in cluster.servers.values():
                listed = s.post("list")["data"]["tasks"]
                assert [(t["task_id"], t.get("owner")) for t in listed] == [(task, owner)]
            # pause on a non-owner: the owner stops replicating
            assert others[0].post("pause", {"task_id": task}).get("code") == 200
            eventually(lambda: cluster.owner(task, via=cluster.servers[owner]) == "" and
                       cluster.servers[owner].post("get", {"task_id": task})["data"]["task"]
                       ["state"] == "Paused", "the pause on the owner", timeout=5)
            assert _metric(cluster.servers[owner], "milvus_cdc_ha_tasks_owned") == 0
            c.insert(rows(range(100, 200)))
            time.sleep(3)
            assert target_ids(target, c.name) == list(range(100)), "rows moved while paused"
            # a second pause answers as on the owner
            again = others[1].post("pause", {"task_id": task})
            assert again.get("code") != 200 and "paused" in again.get("message", ""), again
            # resume on the other non-owner: replication goes on from the checkpoint
            assert others[1].post("resume", {"task_id": task}).get("code") == 200
            eventually(lambda: target_ids(target, c.name) == list(range(200)), "200 rows")
            assert _count(target, c.name) == 200
            assert cluster.wait_owner(task) in cluster.servers
            # delete on a non-owner: gone everywhere, nothing runs it any more
            now_owner = cluster.owner(task)
            non_owner = next(s for sid, s in cluster.servers.items() if sid != now_owner)
            assert non_owner.post("delete", {"task_id": task}).get("code") == 200
            for s in cluster.servers.values():
                eventually(lambda: s.post("list")["data"]["tasks"] == [],
                           "the task gone from every server", timeout=5)
            eventually(lambda: _metric(cluster.servers[now_owner],
                                       "milvus_cdc_ha_tasks_owned") == 0,
                       "the owner stopped the deleted task", timeout=5)
            c.insert(rows(range(200, 250)))
            time.sleep(3)
            assert target_ids(target, c.name) == list(range(200)), "rows moved after delete"
            c.release()
            c.drop()
            utility.drop_collection(c.name, using=target)  # no task replicates the drop
        finally:
            cluster.stop()


def test_rolling_restart_by_sigterm_hands_tasks_over_and_loses_nothing(
        stack, source, target, names):
    with paused_session_task():
        cluster, colls, tasks, _ = _setup(stack, source, target, names, "ha-roll")
        try:
            stream = Stream(colls)
            for sid in sorted(cluster.servers):
                server = cluster.servers[sid]
                held = [t for t in tasks if cluster.owner(t) == sid]
                t0 = time.monotonic()
                server.stop()
                took = time.monotonic() - t0
                # drained: before it exited, other servers took its tasks (no lease expiry;
                # the servers asked show owners as of their last poll, 0.5 s)
                with open(server.log_path, encoding="utf-8", errors="replace") as f:
                    log = f.read()
                assert f"server '{sid}' draining: released {len(held)} task(s)" in log
                assert "not yet taken by another server" not in log
                for t in tasks:
                    cluster.wait_owner(t, not_in=(sid,), timeout=2)
                print(f"    {sid}: SIGTERM handed over {len(held)} task(s) in {took:.1f} s")
                assert took < TTL + 10
                cluster.start(sid)
                time.sleep(1)
            stream.stop()
            _assert_target_equals_source(target, stream)
            _drop(source, target, colls)
        finally:
            cluster.stop()


def test_a_killed_server_started_again_takes_its_tasks_back_without_waiting_for_its_lease(
        stack, source, target, names):
    """One server (default TTL 10 s), kill -9, started again on the same machine: the dead
    process cannot write, so the new one revokes its lease at once and replication goes on
    well before the TTL (the other kill -9 tests of the suite rely on it)."""
    with paused_session_task():
        root = f"cdc-ha-restart-{os.getpid()}-{int(time.time())}"
        yaml = "ha:\n  serverId: solo\n  leaseTTLSeconds: 10\n"
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, "ha-restart", meta_root=root,
                                           extra_yaml=yaml)
        if why:
            pytest.fail(f"milvus-cdc did not start: {why}")
        try:
            name = names("ha")
            task = _create(server, stack, name)
            c = loaded_source_collection(source, name)
            eventually(lambda: _loaded(target, name), f"{name} loaded on the target")
            c.insert(rows(range(100)))
            eventually(lambda: target_ids(target, name) == list(range(100)), "100 rows")
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
            t0 = time.monotonic()
            server.proc = cdc.subprocess.Popen(server.proc.args, stdout=server.log,
                                               stderr=cdc.subprocess.STDOUT)
            assert server.wait_ready(30) is None
            c.insert(rows(range(100, 200)))
            eventually(lambda: target_ids(target, name) == list(range(200)), "200 rows",
                       timeout=30)
            took = time.monotonic() - t0
            print(f"    restarted and replicating again in {took:.1f} s (TTL 10 s)")
            assert took < 10, f"the restart waited for the dead server's lease ({took:.1f} s)"
            with open(server.log_path, encoding="utf-8", errors="replace") as f:
                assert "is gone: its lease" in f.read()
            assert _count(target, name) == 200
            assert server.post("get", {"task_id": task})["data"]["task"]["owner"] == "solo"
            _drop(source, target, [c])
        finally:
            server.stop()
