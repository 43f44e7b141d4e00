"""Fixtures of the end-to-end suite.

The stack (etcd, Kafka, source and target Milvus) is started once by tests/e2e/run.sh with
scripts/e2e-env.sh; its addresses come from the CDC_TEST_* variables of .cache/env/env.sh.
CDC_E2E_MQ picks the source's message queue: `kafka` (default; the milvus-source component) or
`pulsar` (milvus-source-pulsar on the pulsar component). The target stays on Kafka either way,
so every test runs unchanged on both; only the topics fixture differs.

Fixtures: stack (addresses, source_mq), source / target (pymilvus connection aliases), topics (a
TopicReader of the source's queue: wire.TopicReader on Kafka, wire_pulsar.PulsarTopicReader on
Pulsar), names (unique collection/database names), cdc_server (build/milvus-cdc running
on the stack; skips until the binary answers POST /cdc, or fails when
CDC_E2E_REQUIRE_CDC=1), cdc_task (one replication task source -> target for the session),
replicating (cdc_task, after a probe collection created on the source reached the target:
when it does not within 60 s every test using it fails at once with that reason instead of
each waiting out its own timeout).
"""
import contextlib
import itertools
import os
import time
import uuid
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)

from pymilvus import Collection, connections, utility  # noqa: E402

import cdc_server as cdc  # noqa: E402
from seed import schema  # noqa: E402
from wire import TopicReader  # noqa: E402
from wire_pulsar import PulsarTopicReader  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENV_DIR = os.environ.get("CDC_ENV_DIR", os.path.join(ROOT, ".cache", "env"))
MQ = os.environ.get("CDC_E2E_MQ", "kafka")
CDC_LOG = os.path.join(ENV_DIR, "logs", f"cdc-e2e-{MQ}.log")  # one per pass: both are kept

_SOURCE = {"kafka": "CDC_TEST_MILVUS_SOURCE", "pulsar": "CDC_TEST_MILVUS_SOURCE_PULSAR"}
REQUIRED = {
    "etcd": "CDC_TEST_ETCD",
    "kafka": "CDC_TEST_KAFKA",
    "source": _SOURCE.get(MQ, ""),
    "target": "CDC_TEST_MILVUS_TARGET",
    "source_prefix": f"{_SOURCE.get(MQ, '')}_PREFIX",
    "target_prefix": "CDC_TEST_MILVUS_TARGET_PREFIX",
    "source_etcd_root": f"{_SOURCE.get(MQ, '')}_ETCD_ROOT",
    "target_etcd_root": "CDC_TEST_MILVUS_TARGET_ETCD_ROOT",
}
if MQ == "pulsar":
    REQUIRED.update(pulsar="CDC_TEST_PULSAR", pulsar_web="CDC_TEST_PULSAR_WEB")


@pytest.fixture(scope="session")
def stack():
    if MQ not in _SOURCE:
        pytest.fail(f"CDC_E2E_MQ={MQ!r}: expected one of {sorted(_SOURCE)}")
    missing = [v for v in REQUIRED.values() if not os.environ.get(v)]
    if missing:
        pytest.fail(f"the test stack is not up ({', '.join(missing)} unset): run "
                    "`scripts/e2e-env.sh up` and `source .cache/env/env.sh`, or tests/e2e/run.sh")
    return {"source_mq": MQ, **{k: os.environ[v] for k, v in REQUIRED.items()}}


def _connect(alias, addr):
    host, port = addr.rsplit(":", 1)
    connections.connect(alias, host=host, port=port, timeout=30)
    return alias


@pytest.fixture(scope="session")
def source(stack):
    yield _connect("source", stack["source"])
    connections.disconnect("source")


@pytest.fixture(scope="session")
def target(stack):
    yield _connect("target", stack["target"])
    connections.disconnect("target")


@pytest.fixture
def topics(stack):
    reader = PulsarTopicReader(stack["pulsar_web"]) if stack["source_mq"] == "pulsar" else \
        TopicReader(stack["kafka"])
    yield reader
    reader.close()


_counter = itertools.count()
_run = uuid.uuid4().hex[:6]


@pytest.fixture
def names(request):
    """names("coll") -> a collection/database name unique in this run, e.g. coll_3f9a1c_7."""
    return lambda what: f"{what}_{_run}_{next(_counter)}"


@pytest.fixture(scope="session")
def cdc_server(stack):
    binary = cdc.find_binary(ROOT)
    why = None
    if binary is None:
        why = "no milvus-cdc binary in the build directory"
    else:
        port = cdc.free_port()
        cfg = os.path.join(ENV_DIR, "cdc-e2e.yaml")
        cdc.write_config(cfg, port, stack, meta_root=f"cdc-e2e-{_run}")
        server = cdc.CdcServer(binary, cfg, CDC_LOG, port)
        why = server.wait_ready()
        if why is None:
            yield server
            server.stop()
            return
        server.stop()
    reason = f"milvus-cdc does not serve POST /cdc yet: {why}"
    if os.environ.get("CDC_E2E_REQUIRE_CDC") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cdc_task(cdc_server, stack):
    resp = cdc_server.create_task(stack["target"], stack["source_prefix"])
    assert resp.get("code") == 200, f"create task: {resp}"
    task_id = resp["data"]["task_id"]
    _session["task"] = (cdc_server, task_id)
    yield task_id
    _session.pop("task", None)
    cdc_server.post("delete", {"task_id": task_id})


_probe = {}


@pytest.fixture
def replicating(cdc_task, source, target):
    if "error" not in _probe or _probe.pop("recheck", False) and _probe["error"] is None:
        name = f"probe_{_run}_{next(_counter)}"
        Collection(name, schema(), using=source, shards_num=1)
        deadline = time.monotonic() + 60
        while not utility.has_collection(name, using=target) and time.monotonic() < deadline:
            time.sleep(1)
        arrived = utility.has_collection(name, using=target)
        _probe["error"] = None if arrived else (
            f"replication is not working: collection {name} created on the source did not "
            f"appear on the target within 60 s (milvus-cdc log {CDC_LOG}); "
            f"{session_task_state()}")
        utility.drop_collection(name, using=source)
    if _probe["error"]:
        pytest.fail(_probe["error"])
    return cdc_task


_session = {}  # (server, task id) of the session's task once cdc_task made it


def session_task_state():
    """One line on the session's task (state, reason, lag per channel) for a failure message."""
    server, task_id = _session.get("task", (None, None))
    if task_id is None:
        return "the session's task does not exist"
    try:
        task = server.post("get", {"task_id": task_id}, timeout=10)["data"]["task"]
    except Exception as e:  # the server itself is in trouble: that is the news
        return f"get of the session's task {task_id} failed: {e!r}"
    return (f"session task {task_id}: state {task.get('state')!r}, "
            f"reason {task.get('reason')!r}, full state {task}")


def _log_tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            kept = [ln for ln in f if "[warning]" in ln or "[error]" in ln]
    except OSError as e:
        return f"(no log: {e})"
    return "".join(kept[-lines:])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test of the session's task reports what the task says and the warnings of its
    milvus-cdc log, and makes the next test probe the task again first: when that probe does not
    reach the target either, every later test fails at once with the reason instead of each
    waiting out its own timeout (a stuck task would otherwise take the whole pass's time)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "cdc_task" not in item.fixturenames:
        return
    report.sections.append(("session task", session_task_state()))
    report.sections.append((f"warnings of {CDC_LOG}", _log_tail(CDC_LOG)))
    if "replicating" in item.fixturenames:
        _probe["recheck"] = True


@contextlib.contextmanager
def paused_session_task():
    """Pauses the session's task, if a test made it already, while a test runs its own
    milvus-cdc on the same source and target (both would write the same rows otherwise), and
    resumes it after."""
    server, task_id = _session.get("task", (None, None))
    if task_id is not None:
        resp = server.post("pause", {"task_id": task_id})
        assert resp.get("code") == 200, f"pause the session's task: {resp}"
    try:
        yield
    finally:
        if task_id is not None:
            resp = server.post("resume", {"task_id": task_id})
            assert resp.get("code") == 200, f"resume the session's task: {resp}"


def pytest_configure(config):
    config.addinivalue_line("markers", "own_task: runs its own milvus-cdc and task "
                            "(test_races.py); runs first, before the session's task exists")
    config.addinivalue_line("markers", "outage_own: stops a server only its own milvus-cdc "
                            "uses (test_outages.py); runs first, before the session's task exists")
    config.addinivalue_line("markers", "outage_shared: stops a server the whole suite shares "
                            "(test_outages.py); runs last, so one that does not come back fails "
                            "only these")


# After the other files (in this order), before the outage_shared tests: a collection the
# session's task cannot replicate (today: any with a dynamic field, issue 12) holds back every
# later change of that task, so a failure there must not take the other tests with it.
LATE = ("test_schemas.py", "test_randomized.py")


def pytest_collection_modifyitems(items):
    first = [i for i in items
             if i.get_closest_marker("outage_own") or i.get_closest_marker("own_task")]
    last = [i for i in items if i.get_closest_marker("outage_shared")]
    late = sorted((i for i in items if os.path.basename(str(i.fspath)) in LATE and
                   i not in first and i not in last),
                  key=lambda i: LATE.index(os.path.basename(str(i.fspath))))
    items[:] = first + [i for i in items if i not in first and i not in last and
                        i not in late] + late + last
