"""DDL latency (issue 15 item 5): how long after the source answered a CreateCollection or a
CreatePartition the target Milvus has it.

Runs in the harness venv (pymilvus) against the real source and target Milvus of
scripts/e2e-env.sh. For each milvus-cdc binary given (label=path; default: the bench build's),
one after the other in the same run: a fresh server (etcd meta store under its own root), one
task replicating every collection of database default, a probe collection until the task
replicates; then `--count` times: a collection (1 shard) created on the source, then
`--partitions` partitions of it, as a client does; from each create's answer a watcher thread
asks the target (HasCollection / HasPartition, every pending one in turn, 2 ms apart) until it
has it. The collection is then dropped on the source and the next create waits until the drop
reached the target (so it does not queue behind it), plus 0.1-0.4 s at random (the creates fall
at any phase of the source's 200 ms tick). Last, the same creates made on the target directly
(the call's time: the floor no replicator can beat). Rows: collection and partition create
p50/p99/max (ms) per binary and for the target itself.
Env: BENCH_OUT, BENCH_BUILD, BENCH_QUICK (bench/README.md); every wait is bounded.
"""
import argparse
import json
import os
import random
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "lag"))

from pymilvus import Collection, MilvusException, connections, utility  # noqa: E402

import cdc_server as cdc  # noqa: E402
import harness as h  # noqa: E402
from seed import schema  # noqa: E402

WAIT = 30  # s: a create that does not reach the target in this time is a failure


def stack():
    need = {"etcd": "CDC_TEST_ETCD", "kafka": "CDC_TEST_KAFKA",
            "source": "CDC_TEST_MILVUS_SOURCE", "target": "CDC_TEST_MILVUS_TARGET",
            "source_prefix": "CDC_TEST_MILVUS_SOURCE_PREFIX",
            "source_etcd_root": "CDC_TEST_MILVUS_SOURCE_ETCD_ROOT"}
    missing = [v for v in need.values() if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"ddl bench: {', '.join(missing)} unset (scripts/e2e-env.sh up etcd "
                         "kafka milvus-source milvus-target; source .cache/env/env.sh)")
    return {"source_mq": "kafka", **{k: os.environ[v] for k, v in need.items()}}


def connect(alias, addr):
    host, port = addr.rsplit(":", 1)
    connections.connect(alias, host=host, port=port, timeout=30)


class Watcher(threading.Thread):
    """Asks the target for every pending collection/partition back to back (one at a time, no
    sleep) and records when each is first there, so the creates on the source go on meanwhile
    as a client's would."""

    def __init__(self):
        super().__init__(daemon=True)
        self.mu = threading.Lock()
        self.pending = []  # (name, partition or None, t0)
        self.done = []  # (partition is None, ms)
        self.stop = False

    def add(self, name, partition, t0):
        with self.mu:
            self.pending.append((name, partition, t0))

    def run(self):
        while not self.stop:
            with self.mu:
                items = list(self.pending)
            for item in items:
                name, part, t0 = item
                try:
                    there = utility.has_collection(name, using="target") if part is None \
                        else utility.has_partition(name, part, using="target")
                except MilvusException:  # the collection is not there yet
                    there = False
                if there:
                    seen = time.monotonic()
                    with self.mu:
                        self.pending.remove(item)
                        self.done.append((part is None, (seen - t0) * 1000))
            time.sleep(0.002)  # resolution a few ms; less load on the target and the CPUs

    def wait_idle(self, what):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.mu:
                if not self.pending:
                    return
            time.sleep(0.005)
        raise TimeoutError(f"{what}: {self.pending} not on the target within {WAIT} s")


def start_server(binary, st, work, label):
    port = cdc.free_port()
    cfg = os.path.join(work, f"cdc-{label}.yaml")
    cdc.write_config(cfg, port, st, meta_root=f"bench-ddl-{uuid.uuid4().hex[:8]}")
    server = cdc.CdcServer(binary, cfg, os.path.join(work, f"cdc-{label}.log"), port)
    why = server.wait_ready()
    if why:
        server.stop()
        raise RuntimeError(f"milvus-cdc {binary}: {why}")
    resp = server.create_task(st["target"], st["source_prefix"])
    if resp.get("code") != 200:
        server.stop()
        raise RuntimeError(f"create task: {resp}")
    return server


def measure(label, count, partitions, run):
    """Creates `count` collections (+ partitions) on the source; latencies in ms."""
    w = Watcher()
    w.start()
    try:
        for i in range(count):
            name = f"ddl_{run}_{label}_{i}"
            c = Collection(name, schema(), using="source", shards_num=1)
            w.add(name, None, time.monotonic())
            for j in range(partitions):
                c.create_partition(f"p{j}")
                w.add(name, f"p{j}", time.monotonic())
            w.wait_idle(name)
            c.drop()
            # The next create does not wait behind this drop on the target (a drop is applied
            # once every channel passed it, then DropCollection on the target takes a while).
            h.wait_until(lambda: not utility.has_collection(name, using="target"), WAIT,
                         f"drop of {name} on the target", interval=0.01)
            time.sleep(random.uniform(0.1, 0.4))  # spread the creates over the tick phase
    finally:
        w.stop = True
        w.join(5)
    colls = sorted(ms for is_coll, ms in w.done if is_coll)
    parts = sorted(ms for is_coll, ms in w.done if not is_coll)
    return colls, parts


def target_itself(count, partitions, run):
    """The floor: the same creates made on the target directly, the time of each call (ms)."""
    colls, parts = [], []
    for i in range(count):
        name = f"ddl_{run}_direct_{i}"
        t0 = time.monotonic()
        c = Collection(name, schema(), using="target", shards_num=1)
        colls.append((time.monotonic() - t0) * 1000)
        for j in range(partitions):
            t0 = time.monotonic()
            c.create_partition(f"p{j}")
            parts.append((time.monotonic() - t0) * 1000)
        c.drop()
        time.sleep(random.uniform(0.1, 0.4))
    return sorted(colls), sorted(parts)


def add_rows(rows, label, colls, parts, note):
    for what, vals in (("collection create", colls), ("partition create", parts)):
        for p in (50, 99):
            rows.add(f"{label} {what}", f"p{p}", h.percentile(vals, p), "ms", note)
        rows.add(f"{label} {what}", "max", vals[-1], "ms", note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*", help="label=path of milvus-cdc (default: the bench "
                    "build's as 'cdc')")
    quick = os.environ.get("BENCH_QUICK") == "1"
    ap.add_argument("--count", type=int, default=10 if quick else 50)
    ap.add_argument("--partitions", type=int, default=2)
    a = ap.parse_args()
    st = stack()
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "results"))
    work = os.path.join(out, "ddl")
    os.makedirs(work, exist_ok=True)
    binaries = a.binaries or [f"cdc={os.path.join(os.environ['BENCH_BUILD'], 'milvus-cdc')}"]
    connect("source", st["source"])
    connect("target", st["target"])
    rows = h.Rows("ddl")
    run = uuid.uuid4().hex[:6]
    for spec in binaries:
        label, _, binary = spec.partition("=")
        h.log(f"{label}: {binary}")
        server = start_server(binary, st, work, label)
        try:
            probe = f"ddl_{run}_{label}_probe"
            Collection(probe, schema(), using="source", shards_num=1)
            h.wait_until(lambda: utility.has_collection(probe, using="target"), 60,
                         f"probe collection {probe} on the target")
            utility.drop_collection(probe, using="source")
            colls, parts = measure(label, a.count, a.partitions, run)
        finally:
            server.stop()
        add_rows(rows, label, colls, parts, f"{a.count} collections, {a.partitions} partitions "
                 "each; source answered .. the target has it")
    colls, parts = target_itself(a.count, a.partitions, run)
    add_rows(rows, "target itself", colls, parts,
             "the same creates made on the target directly: the call's time (a floor)")
    rows.write(out, "ddl")
    with open(os.path.join(work, "samples.json"), "w", encoding="utf-8") as f:
        json.dump(rows.rows, f)


if __name__ == "__main__":
    main()
