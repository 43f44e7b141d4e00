"""HA benchmark (issue 16): three milvus-cdc servers on one etcd share one task that replicates
a collection of the real source Milvus into the real target while rows stream in (50 rows every
0.1 s). The owner of the task is killed with SIGKILL, again and again (the killed server is
started again each time). Failover time = from the kill to the first Insert the new owner's
target acknowledged (its milvus_cdc_replicated_messages_total{task_id} turning positive,
polled every 50 ms on every other server), per lease TTL. A check, not timed: at the end the
target holds exactly the source's rows (ids and count(*)).

Cost of ownership: etcd's own count of gRPC requests it handled (grpc_server_handled_total at
its /metrics), over 10 s with the three servers up and N tasks (Paused: no pipelines, so what
is left is the servers' polling and keep-alives), minus the same count over 10 s before the
servers started (the Milvus pair uses the same etcd), per server.
Env: BENCH_OUT, BENCH_BUILD, BENCH_QUICK, CDC_ENV_DIR / CDC_TEST_* (see bench/README.md).
"""
import os
import re
import signal
import statistics
import sys
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "lag"))
import harness as h  # noqa: E402
import cdc_server as cdc  # noqa: E402
from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, connections  # noqa: E402

DIM = 8


def stack():
    e = os.environ
    return {"etcd": e["CDC_TEST_ETCD"], "kafka": e["CDC_TEST_KAFKA"],
            "source": e["CDC_TEST_MILVUS_SOURCE"], "target": e["CDC_TEST_MILVUS_TARGET"],
            "source_prefix": e["CDC_TEST_MILVUS_SOURCE_PREFIX"],
            "source_etcd_root": e["CDC_TEST_MILVUS_SOURCE_ETCD_ROOT"]}


def ha_yaml(sid, ttl):
    return f"ha:\n  serverId: {sid}\n  leaseTTLSeconds: {ttl}\n  pollIntervalMs: 1000\n"


def metric(server, name, task):
    url = server.url.rsplit("/", 1)[0] + "/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    m = re.search(rf'^{name}{{task_id="{task}"[^}}]*}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def etcd_requests(etcd):
    with urllib.request.urlopen(f"http://{etcd}/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(r'^grpc_server_handled_total{[^}]*} (\S+)$', text,
                                            re.M))


class Servers:
    def __init__(self, st, logs, root, ttl, label):
        self.st, self.logs, self.root, self.ttl, self.label = st, logs, root, ttl, label
        self.by_id = {}

    def start(self, sid):
        server, why = cdc.start_own_server(ROOT, self.logs, self.st, f"{self.label}-{sid}",
                                           meta_root=self.root, extra_yaml=ha_yaml(sid, self.ttl))
        if why:
            raise RuntimeError(f"milvus-cdc {sid}: {why}")
        self.by_id[sid] = server
        return server

    def owner(self, task):
        for s in self.by_id.values():
            if s.proc.poll() is None:
                resp = s.post("get", {"task_id": task}, timeout=5)
                if resp.get("code") == 200:
                    return resp["data"]["task"].get("owner", "")
        return ""

    def stop(self):
        for s in self.by_id.values():
            s.stop()


def stream(coll, stop, count):
    n = 0
    while not stop.is_set():
        ids = list(range(n, n + 50))
        coll.insert([ids, [[float(i)] * DIM for i in ids]])
        n += 50
        count[0] = n
        time.sleep(0.1)


def failover_case(st, logs, rows, ttl, kills):
    root = f"bench-ha-{os.getpid()}-{ttl}"
    servers = Servers(st, logs, root, ttl, f"ttl{ttl}")
    name = f"bench_ha_{os.getpid()}_{ttl}"
    stop, count = threading.Event(), [0]
    t = None
    try:
        for i in range(3):
            servers.start(f"ha-{i}")
        any_server = next(iter(servers.by_id.values()))
        resp = cdc.create_task(any_server.url, st["target"], st["source_prefix"], (name,))
        assert resp.get("code") == 200, resp
        task = resp["data"]["task_id"]
        schema = CollectionSchema([FieldSchema("id", DataType.INT64, is_primary=True),
                                   FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM)])
        coll = Collection(name, schema, using="source", shards_num=1)
        coll.create_index("vec", {"index_type": "FLAT", "metric_type": "L2", "params": {}})
        coll.load()
        t = threading.Thread(target=stream, args=(coll, stop, count), daemon=True)
        t.start()
        h.wait_until(lambda: servers.owner(task), 30, "a first owner")
        times = []
        for k in range(kills):
            owner = h.wait_until(lambda: servers.owner(task), 30, "an owner")
            victim = servers.by_id[owner]
            h.wait_until(lambda: metric(victim, "milvus_cdc_replicated_messages_total", task) > 0,
                         30, "the owner writing")
            os.kill(victim.proc.pid, signal.SIGKILL)
            t0 = time.monotonic()
            victim.proc.wait()
            others = [s for sid, s in servers.by_id.items() if sid != owner]
            h.wait_until(lambda: any(metric(s, "milvus_cdc_replicated_messages_total", task) > 0
                                     for s in others), ttl + 30, "a new owner writing",
                         interval=0.05)
            took = time.monotonic() - t0
            times.append(took)
            h.log(f"TTL {ttl} s: kill {k + 1}/{kills} of {owner}: first write by the new owner "
                  f"after {took:.2f} s")
            victim.log.close()
            servers.start(owner)  # waits out its old lease for its server id
        stop.set()
        t.join(10)
        n = count[0]
        tgt = Collection(name, using="target")
        got = h.wait_until(lambda: (lambda c: c if c == n else None)(
            tgt.query("", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]),
            90, f"{n} rows on the target")
        case = f"TTL {ttl} s, 3 servers, {kills} kills"
        rows.add(case, "failover_p50", statistics.median(times), "s",
                 "kill -9 of the owner -> first write acknowledged by the new owner")
        rows.add(case, "failover_max", max(times), "s")
        rows.add(case, "lease_ttl", ttl, "s")
        rows.add(case, "target_count_equals_source", 1 if got == n else 0, "bool",
                 f"{n} rows inserted during the kills")
        coll.release()
        coll.drop()
    finally:
        stop.set()
        if t:
            t.join(10)
        servers.stop()


def cost_case(st, logs, rows, tasks):
    root = f"bench-ha-cost-{os.getpid()}"
    servers = Servers(st, logs, root, 10, "cost")
    try:
        base0 = etcd_requests(st["etcd"])
        time.sleep(10)
        base = (etcd_requests(st["etcd"]) - base0) / 10
        for i in range(3):
            servers.start(f"ha-{i}")
        s0 = servers.by_id["ha-0"]
        host, port = st["target"].rsplit(":", 1)
        for i in range(tasks):
            resp = s0.post("create", {
                "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
                "collection_infos": [{"name": f"bench_ha_idle_{os.getpid()}_{i}"}],
                "rpc_channel_info": {"name": f"{st['source_prefix']}-replicate-msg"},
                "disable_auto_start": True})
            assert resp.get("code") == 200, resp
        time.sleep(2)
        r0 = etcd_requests(st["etcd"])
        time.sleep(10)
        rate = (etcd_requests(st["etcd"]) - r0) / 10
        rows.add(f"{tasks} paused tasks, 3 servers, poll 1 s, TTL 10 s", "etcd_requests_per_server",
                 (rate - base) / 3, "req/s",
                 f"etcd grpc_server_handled_total rate {rate:.1f}/s minus {base:.1f}/s before the "
                 "servers (the Milvus pair)")
    finally:
        servers.stop()


def main():
    out, logs, build, quick = h.settings("ha")
    os.makedirs(os.path.join(logs, "logs"), exist_ok=True)
    os.environ.setdefault("CDC_BUILD_DIR", build)
    rows = h.Rows("ha")
    st = stack()
    host, port = st["source"].rsplit(":", 1)
    connections.connect("source", host=host, port=port, timeout=30)
    host, port = st["target"].rsplit(":", 1)
    connections.connect("target", host=host, port=port, timeout=30)
    try:
        for ttl in ([3] if quick else [3, 10]):
            failover_case(st, logs, rows, ttl, 3 if quick else 10)
        cost_case(st, logs, rows, 10 if quick else 100)
    finally:
        rows.write(out, "ha")


if __name__ == "__main__":
    main()
