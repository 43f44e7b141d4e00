"""Lag into a real target Milvus, for a sanity number beside the recording sink's (coarser: the
time until a query on the target sees the row, polled every 20 ms).

Runs in the harness venv (pymilvus). Waits for milvus-cdc to create the collection on the
target, creates a FLAT index and loads it there, then `samples` times: bench_loadgen produces
one Insert into the collection (index `--index` of its collections), and the first pk of that
insert is queried on the target (consistency Eventually) until it is visible. Prints one JSON
line: {"lags_ms": [...]} or {"error": "..."}. Every wait is bounded.
"""
import argparse
import json
import time
import urllib.request

from pymilvus import Collection, connections, utility


def ctl(url, path, method="GET"):
    req = urllib.request.Request(url + path, data=b"{}" if method == "POST" else None,
                                 method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def acks(url):
    return [tuple(int(x) for x in line.split(",")) for line in ctl(url, "/acks").splitlines()[1:]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--index", type=int, required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--samples", type=int, default=10)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    connections.connect(host=host, port=port, timeout=30)
    deadline = time.monotonic() + 90
    while not utility.has_collection(a.collection):
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"{a.collection} not created on the target in 90 s"}))
            return
        time.sleep(0.5)
    c = Collection(a.collection)
    c.create_index("vec", {"index_type": "FLAT", "metric_type": "L2", "params": {}})
    c.load(timeout=120)
    lags = []
    for _ in range(a.samples):
        ctl(a.ctl, "/clear", "POST")
        ctl(a.ctl, f"/produce?count=1&from={a.index}&collections=1", "POST")
        deadline = time.monotonic() + 30
        got = []
        while not got and time.monotonic() < deadline:
            got = acks(a.ctl)
            time.sleep(0.005)
        if not got:
            print(json.dumps({"error": "the insert was not acknowledged by Kafka in 30 s"}))
            return
        msg_id, ack_us = got[0]
        pk = msg_id * a.rows
        seen = None
        deadline = time.monotonic() + 60
        while seen is None and time.monotonic() < deadline:
            r = c.query(expr=f"id == {pk}", output_fields=["id"], consistency_level="Eventually")
            if r:
                seen = time.time()
            else:
                time.sleep(0.02)
        if seen is None:
            print(json.dumps({"error": f"pk {pk} not visible on the target in 60 s", "lags_ms": lags}))
            return
        lags.append((seen - ack_us / 1e6) * 1000.0)
        time.sleep(0.3)
    print(json.dumps({"lags_ms": lags}))


if __name__ == "__main__":
    main()
