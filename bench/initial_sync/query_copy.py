#!/usr/bin/env python3
"""Initial sync step (bench/README.md): how fast the query way copies a collection that exists
before the task (initialSync.way: query), beside the ceiling of reading: the same rows read
from the source with the same pages (primary-key order, queryBatchRows rows, every field,
Strong) by bench_raw_read (the C++ pager the copy uses, doing nothing with the rows), and by
pymilvus for reference, in the same run.

Per dimension (128, 768): a source collection of N rows (an Int64 key and a float vector) is
filled, indexed and loaded; then (1) the raw reads, timed; (2) milvus-cdc: a fresh process with
its own SQLite meta creates a task with "initial_sync": true and the time until `get` shows the
copy done is taken, with its CPU seconds and peak RSS from /proc (the copy reads every page
and writes it to the target Milvus as a Delete and an Insert). The target collection is dropped
before each run.
"""
import json
import os
import subprocess
import sys
import time

from pymilvus import (Collection, CollectionSchema, DataType, FieldSchema, connections,
                      utility)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "throughput"))
from procs import Cdc, cpu_seconds, peak_rss_mb, post  # noqa: E402

OUT = os.environ["BENCH_OUT"]
BUILD = os.environ["BENCH_BUILD"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
ETCD, KAFKA = os.environ["CDC_TEST_ETCD"], os.environ["CDC_TEST_KAFKA"]
SOURCE, TARGET = os.environ["CDC_TEST_MILVUS_SOURCE"], os.environ["CDC_TEST_MILVUS_TARGET"]
SOURCE_PREFIX = os.environ.get("CDC_TEST_MILVUS_SOURCE_PREFIX", "by-dev")
SOURCE_ROOT = os.environ.get("CDC_TEST_MILVUS_SOURCE_ETCD_ROOT", SOURCE_PREFIX)
PAGE = 4000
CASES = [(128, 100000), (768, 40000)]  # (dim, rows); quick: a tenth
TIMEOUT = 600
rows_out = []


def row(case, metric, value, unit, note=""):
    r = {"bench": "initial_sync", "case": case, "metric": metric, "value": round(value, 4),
         "unit": unit}
    if note:
        r["note"] = note
    rows_out.append(r)


def fill(name, dim, n):
    c = Collection(name, CollectionSchema([
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=dim)]), using="source", shards_num=2)
    batch = max(1, 4_000_000 // (dim * 4) // 10)  # about 0.4 MB a call
    for lo in range(0, n, batch):
        ids = list(range(lo, min(lo + batch, n)))
        c.insert([ids, [[float(i % 97)] * dim for i in ids]])
    c.create_index("vec", {"index_type": "FLAT", "metric_type": "L2", "params": {}})
    c.load()
    return c


def raw_read_cpp(name):
    """(seconds, rows) of bench_raw_read over the collection."""
    out = subprocess.run([os.path.join(BUILD, "bench", "bench_raw_read"), "--uri", SOURCE,
                          "--collection", name, "--page", str(PAGE)], check=True,
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    r = json.loads(out)
    return r["seconds"], r["rows"]


def raw_read(c):
    """(seconds, rows) to read every row in pages as the query way does."""
    t0, last, total = time.monotonic(), None, 0
    while True:
        expr = "id >= 0" if last is None else f"id > {last}"
        page = c.query(expr, output_fields=["*"], limit=PAGE, consistency_level="Strong")
        if not page:
            break
        page.sort(key=lambda r: r["id"])
        total += len(page)
        last = page[-1]["id"]
        if len(page) < PAGE:
            break
    return time.monotonic() - t0, total


def copy_with_cdc(name, logdir):
    """(seconds from create until get shows the copy done, cpu s, peak RSS MB, rows copied)."""
    extra = f"""  milvus:
    uri: http://{SOURCE}
    connect_timeout: 10
initialSync:
  way: query
  queryBatchRows: {PAGE}
"""
    cdc = Cdc(os.path.join(BUILD, "milvus-cdc"), logdir, ETCD, KAFKA, SOURCE_ROOT,
              f"{SOURCE_PREFIX}-replicate-msg", extra_yaml=extra)
    try:
        host, port = TARGET.rsplit(":", 1)
        cpu0 = cpu_seconds(cdc.pid)
        t0 = time.monotonic()
        resp = post(cdc.url, "create", {
            "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 20},
            "collection_infos": [{"name": name}], "initial_sync": True}, timeout=60)
        if resp.get("code") != 200:
            raise RuntimeError(f"create: {resp}")
        task = resp["data"]["task_id"]
        deadline = t0 + TIMEOUT
        while time.monotonic() < deadline:
            sync = ((post(cdc.url, "get", {"task_id": task}, timeout=5).get("data") or {})
                    .get("task") or {}).get("initial_sync")
            done = [e for e in sync if e["phase"] == "done"] if isinstance(sync, list) else []
            if done:
                return (time.monotonic() - t0, cpu_seconds(cdc.pid) - cpu0,
                        peak_rss_mb(cdc.pid), done[0]["rows_copied"])
            time.sleep(0.1)
        raise RuntimeError(f"the copy of {name} was not done in {TIMEOUT} s ({cdc.log_path})")
    finally:
        cdc.stop()


def main():
    connections.connect("source", address=SOURCE)
    connections.connect("target", address=TARGET)
    stamp = time.strftime("%H%M%S")
    for dim, n in CASES:
        n = n // 10 if QUICK else n
        name = f"bench_isync_{dim}_{stamp}"
        case = f"query way dim={dim} rows={n} page={PAGE}"
        c = fill(name, dim, n)
        mb = n * (8 + dim * 4) / 1e6
        try:
            read_s, got = raw_read_cpp(name)
            row(case, "raw read rows/s", got / read_s, "rows/s",
                "bench_raw_read: the ceiling of reading")
            row(case, "raw read MB/s", mb / read_s, "MB/s")
            py_s, py_got = raw_read(c)
            row(case, "pymilvus read rows/s", py_got / py_s, "rows/s", "for reference")
            if utility.has_collection(name, using="target"):
                utility.drop_collection(name, using="target")
            secs, cpu, rss, copied = copy_with_cdc(name, os.path.join(OUT, "initial_sync", name))
            row(case, "copy rows/s", copied / secs, "rows/s", "create until done, target Milvus")
            row(case, "copy MB/s", mb / secs, "MB/s")
            row(case, "milvus-cdc CPU", cpu, "s")
            row(case, "milvus-cdc peak RSS", rss, "MB")
            print(f"  {case}: raw read {got / read_s:.0f} rows/s (pymilvus "
                  f"{py_got / py_s:.0f}); copy {copied} rows in {secs:.1f} s "
                  f"({copied / secs:.0f} rows/s), "
                  f"cpu {cpu:.1f} s, rss {rss:.0f} MB", flush=True)
        finally:
            c.release()
            utility.drop_collection(name, using="source")
            if utility.has_collection(name, using="target"):
                utility.drop_collection(name, using="target")
    with open(os.path.join(OUT, "initial_sync.json"), "w", encoding="utf-8") as f:
        json.dump(rows_out, f, indent=1)


if __name__ == "__main__":
    main()
