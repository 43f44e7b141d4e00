"""Real outages while a task replicates a stream of inserts and deletes (issue 12 item 7).

Each test streams inserts and deletes into a source collection, stops or restarts one server
with scripts/e2e-env.sh (its data and ports are kept, so clients reconnect to the same
address), and checks that the task stays Running, that its `reason` names the outage while it
lasts and stops naming it afterwards, that it catches up by itself (no resume), and that the
target then holds exactly the source's primary keys with an equal count(*) (a query merges
duplicate keys, count(*) does not). Timings are printed (run pytest with -s to see them).

- target Milvus down 60 s                 (Kafka pass; the target is the same on both passes)
- source queue broker restarted           (Kafka on the Kafka pass, Pulsar on the Pulsar pass)
- the harness etcd restarted              (Kafka pass: the source catalog, both Milvus and the
                                           session server's meta store live there)
- meta store restarted: MariaDB and a separate etcd (Kafka pass), each with its own
  milvus-cdc and task; these run first, before the session's task exists (see conftest).

The tests that stop a shared server run last (conftest orders them), so a server that does not
come back fails them and not the rest of the suite.
"""
import os
import re
import subprocess
import threading
import time

import pytest
from pymilvus import Collection

import cdc_server as cdc
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import rows
from test_replication import eventually, loaded_source_collection

ENV_SCRIPT = os.path.join(ROOT, "scripts", "e2e-env.sh")
BATCH = 10           # rows per insert
INTERVAL = 0.2       # seconds between writes
CATCH_UP = 180       # seconds for the target to equal the source after the outage
TARGET_DOWN = 60     # seconds the target Milvus stays down
BROKER_DOWN = 15     # seconds the queue broker stays down
ETCD_DOWN = 15       # seconds etcd stays down (a Milvus 2.3.5 rides out <= 20 s; see docs)
META_DOWN = 15       # seconds the meta store stays down
AFTER = 5            # seconds the stream goes on after the server is back


def harness(*args, timeout=300):
    """Runs scripts/e2e-env.sh ARGS (bounded); returns its run time in seconds."""
    t0 = time.monotonic()
    r = subprocess.run(["bash", ENV_SCRIPT, *args], capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, CDC_ENV_DIR=ENV_DIR))
    took = time.monotonic() - t0
    for line in r.stderr.strip().splitlines():
        print(f"    {line}")
    assert r.returncode == 0, f"e2e-env.sh {' '.join(args)} failed ({r.returncode}): {r.stderr}"
    return took


def env_value(name):
    """A value of .cache/env/env.sh as it is now (components started by a test add lines)."""
    with open(os.path.join(ENV_DIR, "env.sh"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(f"export {name}="):
                return line.split("=", 1)[1].strip().strip("'")
    return None


class Stream:
    """Inserts BATCH new ids every INTERVAL s, and every third write deletes 3 ids of an
    earlier batch, on a background thread until stop(). A write the source refuses (its own
    queue or etcd is down) is counted and skipped: the test compares the target with the
    source, not with what was attempted."""

    def __init__(self, collection):
        self.c = collection
        self.ok, self.failed, self.last_error = [], 0, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        batch = 0
        while not self._stop.is_set():
            try:
                if batch % 3 == 2 and batch >= 3:
                    base = (batch - 3) * BATCH
                    self.c.delete(f"id in {[base + 1, base + 4, base + 7]}", timeout=10)
                else:
                    self.c.insert(rows(range(batch * BATCH, (batch + 1) * BATCH)), timeout=10)
                self.ok.append(time.monotonic())
            except Exception as e:  # the source itself is affected by the outage
                self.failed += 1
                self.last_error = e
            batch += 1
            self._stop.wait(INTERVAL)

    def stop(self):
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the write stream did not stop within 30 s"

    def writes_between(self, t0, t1):
        return sum(1 for t in self.ok if t0 <= t <= t1)


class ReasonLog:
    """Polls `get` of one task every 0.5 s on a background thread: (time, state, reason)."""

    def __init__(self, server, task_id):
        self.server, self.task_id, self.seen = server, task_id, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                task = self.server.post("get", {"task_id": self.task_id}, timeout=5)["data"]["task"]
                self.seen.append((time.monotonic(), task["state"], task.get("reason", "")))
            except Exception as e:  # milvus-cdc must answer throughout; recorded as such
                self.seen.append((time.monotonic(), "no answer", repr(e)))
            self._stop.wait(0.5)

    def stop(self):
        self._stop.set()
        self._thread.join(10)

    def during(self, t0, t1):
        return [(s, r) for t, s, r in self.seen if t0 <= t <= t1]

    def timeline(self, t0):
        """Each change of (state, reason) from t0 on, with its time in s after t0."""
        out, prev = [], None
        for t, s, r in self.seen:
            if t >= t0 and (s, r) != prev:
                out.append((round(t - t0, 1), s, r))
                prev = (s, r)
        return out

    def distinct(self, t0, t1):
        """The distinct (state, reason) pairs in order, the backoff suffix left out."""
        out = []
        for s, r in self.during(t0, t1):
            r = re.sub(r" \(retrying in \d+ ms\)$", "", r)
            if (s, r) not in out:
                out.append((s, r))
        return out


def ids_and_count(conn, name, consistency):
    c = Collection(name, using=conn)
    ids = sorted(r["id"] for r in c.query("id >= 0", output_fields=["id"],
                                           consistency_level=consistency))
    count = c.query("", output_fields=["count(*)"], consistency_level=consistency)[0]["count(*)"]
    return ids, count


def explained(server, task_id, wait, *args, **kwargs):
    """Runs the wait (eventually(...) or a function using it); when it fails, the failure
    also shows the task's state and reason, so that a stuck task says why."""
    try:
        return wait(*args, **kwargs)
    except pytest.fail.Exception as e:
        try:
            task = server.post("get", {"task_id": task_id}, timeout=5)["data"]["task"]
            why = f"task {task['state']}, reason {task.get('reason', '')!r}"
        except Exception as g:  # noqa: BLE001 - the failure below matters more
            why = f"the task could not be read: {g!r}"
        pytest.fail(f"{e}; {why}")


def assert_target_equals_source(source, target, name):
    """Waits (CATCH_UP s) until the target has the source's keys and count(*); returns the
    seconds it took."""
    t0 = time.monotonic()
    want = {}

    def same():
        want["source"] = ids_and_count(source, name, "Strong")
        got = ids_and_count(target, name, "Eventually")
        return got == want["source"] or (f"target {len(got[0])} keys / count {got[1]}, source "
                                         f"{len(want['source'][0])} keys / count "
                                         f"{want['source'][1]}")

    eventually(same, f"target equal to the source in {name}", timeout=CATCH_UP)
    ids, count = want["source"]
    assert count == len(ids), f"the source itself holds duplicate keys: {count} rows, {len(ids)} keys"
    return time.monotonic() - t0


def check_outage(log, stream, window, names_it, what):
    """The task stayed Running and answered throughout, its reason named the outage (a reason
    containing one of names_it) while the server was down (window: from its stop until its
    start began), and no longer names it now."""
    t_down, t_back = window
    now = time.monotonic()
    print(f"  reasons from the stop on (s after it): {log.timeline(t_down)}")
    print(f"  stream: {len(stream.ok)} writes taken, {stream.failed} refused by the source "
          f"(last: {str(stream.last_error).splitlines()[0] if stream.last_error else None})")
    states = {s for s, _ in log.during(t_down, now)}
    assert states == {"Running"}, f"task states during and after {what}: {log.distinct(t_down, now)}"
    named = [t for t, _, r in log.seen if t >= t_down and any(n in r for n in names_it)]
    first = f"{named[0] - t_down:.1f} s after the stop" if named else "never"
    print(f"  a reason naming it: first {first} (down {t_back - t_down:.1f} s)")
    assert named and named[0] <= t_back, (
        f"the task's reason did not name {what} (one of {names_it}) while it was down "
        f"({t_back - t_down:.1f} s); first {first}; reasons while down: "
        f"{log.distinct(t_down, t_back)}")
    last = log.seen[-1][2]
    assert not any(n in last for n in names_it), (
        f"the reason still names {what}: {last!r}; reasons from the stop on (s after it): "
        f"{log.timeline(t_down)}")


def run_outage(server, task_id, source, target, name, outage, names_it, what, then=None):
    """Creates `name` on the source, streams into it, runs outage() -> ((down window), t_up)
    while the stream goes on, checks that the target equals the source, runs then() if given,
    and checks the reason last."""
    t_start = time.monotonic()
    c = loaded_source_collection(source, name, shards_num=2)
    stream = Stream(c).start()
    log = ReasonLog(server, task_id).start()
    try:
        explained(server, task_id, eventually,
                  lambda: len(ids_and_count(target, name, "Eventually")[0]) > 0,
                  f"first rows of {name} on the target (replication runs before the outage)",
                  timeout=60)
        window, t_up = outage()
        time.sleep(AFTER)
    finally:
        stream.stop()
    try:
        caught_up = explained(server, task_id, assert_target_equals_source, source, target, name)
        time.sleep(1)  # one more `get` after the catch-up
    finally:
        log.stop()
    print(f"  {what}: {t_up - window[0]:.1f} s from stop to healthy, target equal to the source "
          f"{caught_up:.1f} s after the stream ended, test {time.monotonic() - t_start:.1f} s")
    if then is not None:
        then()
    check_outage(log, stream, window, names_it, what)
    assert stream.writes_between(t_up, t_up + AFTER) > 0, "no write reached the source after the outage"
    c.release()
    c.drop()
    return stream, log


def stop_start(component, down_for):
    """The outage: stop COMPONENT, keep it down for down_for s, start it again. Returns the
    window it surely was down (stop issued, start issued) and when it was healthy again."""
    def outage():
        t_down = time.monotonic()
        took = harness("stop", component)
        time.sleep(max(0.0, down_for - took))
        t_start = time.monotonic()
        took = harness("start", component, timeout=400)
        print(f"  {component}: stopped for {t_start - t_down:.1f} s, back in {took:.1f} s")
        return (t_down, t_start), time.monotonic()
    return outage


def kafka_pass_only(stack, why):
    if stack["source_mq"] != "kafka":
        pytest.skip(f"runs on the Kafka pass only: {why}")


def address(var):
    return env_value(var) or os.environ[var]


@pytest.mark.outage_shared
def test_target_down_60s_catches_up(replicating, cdc_server, cdc_task, source, target, stack, names):
    kafka_pass_only(stack, "the target Milvus is the same on both passes")
    addr = stack["target"]
    run_outage(cdc_server, cdc_task, source, target, names("out_target"),
               stop_start("milvus-target", TARGET_DOWN), [addr], f"the target {addr} down")


@pytest.mark.outage_shared
def test_source_broker_restart_catches_up(replicating, cdc_server, cdc_task, source, target,
                                          stack, names):
    component = stack["source_mq"]  # kafka or pulsar: the component of that name
    broker = stack[component].split("://", 1)[-1]
    run_outage(cdc_server, cdc_task, source, target, names(f"out_{component}"),
               stop_start(component, BROKER_DOWN), [broker], f"the {component} broker {broker} down")


@pytest.mark.outage_shared
def test_source_etcd_restart_catches_up(replicating, cdc_server, cdc_task, source, target, stack,
                                        names):
    kafka_pass_only(stack, "the source catalog in etcd does not depend on the source's queue")
    etcd = stack["etcd"]

    def new_collection_replicates():
        # The source catalog is watched in etcd: a collection created after the restart must
        # still reach the target.
        name = names("after_etcd")
        c = loaded_source_collection(source, name)
        c.insert(rows(range(20)))
        explained(cdc_server, cdc_task, eventually,
                  lambda: ids_and_count(target, name, "Eventually") == (list(range(20)), 20),
                  f"20 rows of {name}, created after the etcd restart")
        c.release()
        c.drop()

    run_outage(cdc_server, cdc_task, source, target, names("out_etcd"),
               stop_start("etcd", ETCD_DOWN), [etcd], f"the source etcd {etcd} down",
               then=new_collection_replicates)


def _own_server(stack, meta_yaml, label):
    """A milvus-cdc of its own (own port, config and log) with the given metaStoreConfig."""
    server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, f"outage-{label}", meta_yaml,
                                       meta_root="unused")
    if why:
        pytest.fail(f"milvus-cdc with the {label} meta store did not start: {why}")
    return server


def _meta_store_outage(stack, source, target, names, component, meta_yaml, names_it, what):
    name = names(f"out_{component.replace('-', '_')}")
    with paused_session_task():
        server = _own_server(stack, meta_yaml, component)
        try:
            resp = server.create_task(stack["target"], stack["source_prefix"], collections=[name])
            assert resp.get("code") == 200, f"create task: {resp}"
            task_id = resp["data"]["task_id"]
            run_outage(server, task_id, source, target, name,
                       stop_start(component, META_DOWN), names_it, what)
            eventually(lambda: name not in _target_collections(target),
                       f"drop of {name} on the target")
            assert server.post("delete", {"task_id": task_id}).get("code") == 200
        finally:
            server.stop()


def _target_collections(target):
    from pymilvus import utility
    return utility.list_collections(using=target)


@pytest.mark.outage_own
def test_mysql_meta_store_restart_catches_up(stack, source, target, names):
    kafka_pass_only(stack, "the meta store does not depend on the source's queue")
    harness("up", "mariadb", timeout=300)
    dsn = address("CDC_TEST_MYSQL")
    host_port = dsn.split("tcp(", 1)[1].split(")", 1)[0]
    meta = f"""metaStoreConfig:
  storeType: mysql
  mysqlSourceUrl: {dsn}
  rootPath: cdc-outage-{names('m')}
"""
    _meta_store_outage(stack, source, target, names, "mariadb", meta, [host_port],
                       f"the MariaDB meta store {host_port} down")


@pytest.mark.outage_own
def test_etcd_meta_store_restart_catches_up(stack, source, target, names):
    kafka_pass_only(stack, "the meta store does not depend on the source's queue")
    harness("up", "etcd-meta", timeout=120)
    etcd = address("CDC_TEST_ETCD_META")
    meta = f"""metaStoreConfig:
  storeType: etcd
  etcd:
    address:
      - {etcd}
  rootPath: cdc-outage-{names('m')}
"""
    _meta_store_outage(stack, source, target, names, "etcd-meta", meta, [etcd],
                       f"the etcd meta store {etcd} down")
