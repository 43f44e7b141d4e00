"""The Kafka sink (docs/kafka-sink.md): a task with kafka_connect_param writes its collection's
changes to a topic of its own on the stack's Kafka as version 1 JSON envelopes; a consumer
reads them back. Runs on both passes (the sink broker is the stack's Kafka either way); about
25 s, most of it the two restarts of the session's milvus-cdc (a kill -9 in a stream of
inserts; an exit after Kafka's ack and before the checkpoint, the documented duplicate)."""
import json
import os
import signal
import time
import uuid

import pytest
from confluent_kafka import Consumer
from pymilvus import Collection

import cdc_server as cdc
from conftest import paused_session_task
from seed import DIM, FLAT_L2, rows, schema

WAIT = 60  # seconds for an envelope to reach the topic


def _start(server, extra_args=(), wait_ready=True):
    """Starts the session's milvus-cdc again (same config and port) once its process ended."""
    if not hasattr(server, "base_args"):
        server.base_args = list(server.proc.args)
    server.proc = cdc.subprocess.Popen(server.base_args + list(extra_args), stdout=server.log,
                                       stderr=cdc.subprocess.STDOUT)
    if wait_ready:
        assert server.wait_ready(30) is None


def _restart_killed(server):
    """kill -9 the session's milvus-cdc and start it again on the same config and port."""
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    _start(server)


class TopicView:
    """Every envelope of a topic, read from its start, and the de-duplicated view of them."""

    def __init__(self, brokers, topic):
        self.consumer = Consumer({"bootstrap.servers": brokers, "group.id": uuid.uuid4().hex,
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
        self.consumer.subscribe([topic])
        self.records = []  # (key, envelope) in topic order

    def read_until(self, done, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.consumer.poll(0.5)
            if m is not None and not m.error():
                self.records.append((m.key().decode(), json.loads(m.value())))
            if done(self.envelopes()):
                return
        ops = [e["op"] for e in self.envelopes()]
        pytest.fail(f"{what} not in the topic within {timeout} s (ops read: {ops})")

    def envelopes(self):
        """Envelopes without the repeats a restart may write: data by position, DDL by op and ts."""
        seen, out = set(), []
        for _, e in self.records:
            p = e["position"]
            key = (e["op"], p["channel"], p["msg_id"]) if p else (e["op"], e.get("partition"),
                                                                  e["ts"])
            if key not in seen:
                seen.add(key)
                out.append(e)
        return out

    def close(self):
        self.consumer.close()


def _ops(envelopes):
    return [e["op"] for e in envelopes]


def _ids(envelopes):
    """The primary keys left after the inserts and deletes, in topic order."""
    ids = {}
    for e in envelopes:
        if e["op"] == "insert":
            ids.update({r["id"]: r for r in e["rows"]})
        elif e["op"] == "delete":
            for k in e["primary_keys"]:
                ids.pop(k, None)
    return ids


def test_kafka_sink_envelopes_and_kill9_without_a_gap(cdc_server, stack, source, names):
    name = names("sink")
    topic = f"cdc-sink-{name}"
    resp = cdc_server.post("create", {
        "kafka_connect_param": {"address": stack["kafka"], "topic": topic},
        "collection_infos": [{"name": name}],
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
    })
    assert resp.get("code") == 200, f"create task: {resp}"
    task_id = resp["data"]["task_id"]
    view = TopicView(stack["kafka"], topic)
    try:
        with paused_session_task():  # the crash hook below is then this task's
            _run(cdc_server, source, name, view)
    finally:
        view.close()
        cdc_server.post("delete", {"task_id": task_id})


def _run(cdc_server, source, name, view):
    c = Collection(name, schema(), using=source, shards_num=1)
    c.insert(rows(range(0, 100)))
    c.delete("id in [0, 1]")
    c.create_index("vec", FLAT_L2)
    c.load()
    view.read_until(lambda es: {"delete", "create_index", "load"} <= set(_ops(es)),
                    "insert, delete, create_index and load")
    es = view.envelopes()
    assert es[0]["op"] == "create_collection", _ops(es)
    fields = {f["name"]: f for f in es[0]["schema"]["fields"]}
    assert fields["id"]["type"] == "Int64" and fields["id"]["primary_key"]
    assert fields["vec"]["type"] == "FloatVector" and fields["vec"]["params"]["dim"] == str(DIM)
    ins = next(e for e in es if e["op"] == "insert")
    assert ins["version"] == 1 and ins["database"] == "default" and ins["collection"] == name
    assert ins["partition"] == "_default" and ins["position"]["msg_id"]
    assert {"name": "vec", "type": "FloatVector", "dim": DIM} in ins["fields"]
    assert ins["rows"][5] == {"id": 5, "vec": [5.0] * DIM}
    dele = next(e for e in es if e["op"] == "delete")
    assert dele["primary_keys"] == [0, 1] and dele["pk_type"] == "Int64"
    assert _ops(es).index("insert") < _ops(es).index("delete")
    assert ins["ts"] < dele["ts"]
    idx = next(e for e in es if e["op"] == "create_index")
    assert idx["field"] == "vec" and idx["params"]["index_type"] == "FLAT", idx
    assert _ops(es).index("create_index") < _ops(es).index("load")
    assert all(k == f"default.{name}" for k, _ in view.records)

    # A stream of inserts with a kill -9 of milvus-cdc in the middle.
    for batch in range(1, 7):
        c.insert(rows(range(batch * 100, batch * 100 + 100)))
        if batch == 3:
            time.sleep(0.3)
            _restart_killed(cdc_server)
    view.read_until(lambda es: set(range(2, 700)) <= set(_ids(es)), "rows 2..699")

    # Exit right after Kafka acknowledged a pack and before its checkpoint: the restarted
    # server writes that pack again, with the same positions.
    cdc_server.stop_running()
    _start(cdc_server, ["--test-crash-after-ack"])
    c.insert(rows(range(700, 800)))
    deadline = time.monotonic() + 60
    while cdc_server.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cdc_server.proc.returncode == 86, "milvus-cdc did not take the crash hook in 60 s"
    _start(cdc_server)
    c.release()
    c.drop()
    view.read_until(lambda es: "drop_collection" in _ops(es), "drop_collection")
    es = view.envelopes()
    expected = set(range(2, 800))
    got = _ids(es)
    assert set(got) == expected, f"missing {sorted(expected - set(got))[:20]}"
    assert all(got[i]["vec"] == [float(i)] * DIM for i in (2, 350, 699))
    # Per collection in source order: inserts by ts, the drop after every insert.
    data_ts = [e["ts"] for e in es if e["op"] == "insert"]
    assert data_ts == sorted(data_ts)
    ops = _ops(es)
    assert len(ops) - 1 - ops[::-1].index("insert") < ops.index("drop_collection"), ops[-8:]
    positions = [json.dumps(e["position"]) for _, e in view.records
                 if e["op"] == "insert" and any(r["id"] >= 700 for r in e["rows"])]
    assert len(positions) > len(set(positions)), "the pack acked before the crash came once"
    print(f"{len(view.records)} records, {len(es)} after de-duplication")
