#!/usr/bin/env python3
"""Throughput step (bench/README.md): milvus-cdc beside the librdkafka -> ReplicateMessage
ceiling (bench/ceiling), on the same topic, into the same target.

Sources: the simulator (milvus-source-sim writes a backlog of inserts of 1, 100 or 1000 rows
of 128- or 768-dim float vectors, a delete after every 10 inserts, into a fresh topic; the
collection appears in a fresh etcd root once the task runs) and a real source Milvus
(pymilvus inserts; the task is created paused before the collection and resumed after the
inserts). Targets: the real target Milvus and the recording sink (bench/sink).

End to end = from the collection appearing (sim) or the resume (real) until the task's
checkpoint (written after the target acknowledged) reaches the last message's timestamp.
First checkpoint = until the checkpoint first shows progress; steady = the rate after it.
CPU seconds and peak RSS are milvus-cdc's own, from /proc (one fresh process per case).
"""
import json
import os
import re
import subprocess
import sys
import time

from procs import Cdc, Sink, run_ceiling

OUT = os.environ["BENCH_OUT"]
BUILD = os.environ["BENCH_BUILD"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
STEP = "throughput"  # the rows file and the log folder (bench/coalesce reuses the cases)
LOGDIR = os.path.join(OUT, STEP)
ETCD, KAFKA = os.environ["CDC_TEST_ETCD"], os.environ["CDC_TEST_KAFKA"]
SOURCE, TARGET = os.environ["CDC_TEST_MILVUS_SOURCE"], os.environ["CDC_TEST_MILVUS_TARGET"]
SOURCE_PREFIX = os.environ.get("CDC_TEST_MILVUS_SOURCE_PREFIX", "by-dev")
SOURCE_ROOT = os.environ.get("CDC_TEST_MILVUS_SOURCE_ETCD_ROOT", SOURCE_PREFIX)
CDC = os.path.join(BUILD, "milvus-cdc")
SIM = os.path.join(BUILD, "src", "tools", "milvus-source-sim")
SINK = os.path.join(BUILD, "bench", "milvus-sink")
CEILING = os.path.join(BUILD, "bench", "replicate-ceiling")
TIMEOUT = 300
STAMP = time.strftime("%H%M%S")

# (dim, rows per insert, inserts): full sizes; quick divides the inserts by 10.
SIM_CASES = [(128, 1, 2000), (128, 100, 400), (128, 1000, 100),
             (768, 1, 1000), (768, 100, 200), (768, 1000, 40)]
REAL_CASES = [(128, 1, 1000), (128, 100, 200), (768, 1000, 20)]
DELETE_EVERY = 10
SINK_SCALE = 5  # the sink takes data much faster: sim streams to it are 5 times longer

rows_out = []
summary = []


def row(bench, case, metric, value, unit, note=""):
    if value is None:
        return
    r = {"bench": bench, "case": case, "metric": metric, "value": round(value, 4), "unit": unit}
    if note:
        r["note"] = note
    rows_out.append(r)


def save():
    with open(os.path.join(OUT, f"{STEP}.json"), "w", encoding="utf-8") as f:
        json.dump(rows_out, f, indent=1)


def steady_rate(samples, first_ms, last_ms, rows):
    """(s until the checkpoint first moved, rows/s after that over the rest of the stream);
    the rate is None if the rest took under 0.1 s."""
    span = last_ms - first_ms
    t_start = samples[0][0]
    moving = [(t, (ms - first_ms) / span) for t, ms in samples if ms > first_ms]
    if span <= 0 or not moving:
        return None, None
    (t1, f1), (t2, _) = moving[0], samples[-1]
    if t2 - t1 < 0.1:
        return t1 - t_start, None
    return t1 - t_start, rows * (1 - f1) / (t2 - t1)


def report(src, dim, batch, tname, rows, mbytes, cdc_res, ceil_res):
    case = f"{src} dim={dim} batch={batch} -> {tname}"
    wall, cpu, rss, (startup, steady) = cdc_res
    row("cdc", case, "rows/s", rows / wall, "rows/s", f"{rows} rows, {mbytes:.1f} MB, e2e")
    row("cdc", case, "MB/s", mbytes / wall, "MB/s")
    row("cdc", case, "first checkpoint", startup, "s", "until the first checkpoint moved")
    row("cdc", case, "steady rows/s", steady, "rows/s", "after the first checkpoint")
    row("cdc", case, "CPU per GB", cpu / (mbytes / 1000), "cpu-s/GB")
    row("cdc", case, "peak RSS", rss, "MB")
    ratio = None
    if ceil_res:
        row("ceiling", case, "rows/s", rows / ceil_res["wall_s"], "rows/s")
        row("ceiling", case, "CPU per GB", ceil_res["cpu_s"] / (mbytes / 1000), "cpu-s/GB")
        ratio = ceil_res["wall_s"] / wall
        row("cdc/ceiling", case, "throughput ratio", ratio, "x", "end to end")
        if steady:
            row("cdc/ceiling", case, "steady ratio", steady * ceil_res["wall_s"] / rows, "x",
                "cdc after its startup")
    line = (f"{case:<34} {rows:>7} rows {mbytes:7.1f} MB | cdc {rows / wall:9.0f} rows/s "
            f"{mbytes / wall:6.1f} MB/s 1st ckpt {startup or 0:4.1f} s steady {steady or 0:9.0f} "
            f"cpu {cpu / (mbytes / 1000):6.1f} s/GB rss {rss:5.0f} MB")
    if ceil_res:
        line += (f" | ceiling {rows / ceil_res['wall_s']:9.0f} rows/s "
                 f"cpu {ceil_res['cpu_s'] / (mbytes / 1000):6.1f} s/GB | ratio {ratio:.2f}")
    summary.append(line)
    print(line, flush=True)
    save()


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {r.stderr.strip()[-400:]}")
    return r.stdout


def coalesce_yaml(coalesce):
    """cdc.yaml lines: coalescing on (the default) or off (None: the default config)."""
    return "" if coalesce is None else f"coalesce:\n  enabled: {str(coalesce).lower()}\n"


def sim_case(dim, batch, inserts, tname, taddr, label="sim", coalesce=None,
             delete_every=DELETE_EVERY, backdate=False):
    """backdate: the simulator's stream (1 ms a message) ends now instead of starting now. A
    target Milvus refuses rows whose ts lies beyond its segment allocation's expiry (about 2 s
    ahead: "getSegmentID failed"), so a long stream from now on would be paced by the clock."""
    tag = f"{STAMP}{tname[0]}{dim}b{batch}{re.sub('[^A-Za-z0-9]', '', label)}"[:48]
    root = f"bench-{tag}"
    topic = f"{root}-rootcoord-dml_0"
    name = f"bench_sim_{tag}"
    cid = int(time.time() * 1000) % 10**9 * 100 + dim + batch
    logdir = os.path.join(LOGDIR, f"{re.sub('[^A-Za-z0-9]+', '_', label)}-{tname}-{dim}-{batch}")
    cdc = Cdc(CDC, logdir, ETCD, KAFKA, root, f"{root}-replicate-msg", coalesce_yaml(coalesce))
    try:
        task = cdc.create(taddr, [{"name": "*"}])
        start_ms = int(time.time() * 1000)
        if backdate:
            per_tick = max(1, min(100, 1000 // batch))
            msgs = inserts + (inserts // delete_every if delete_every else 0) + inserts // per_tick
            start_ms -= msgs + 2000
        out = run([SIM, "produce", "--brokers", KAFKA, "--pchannel", topic, "--collection-id",
                   str(cid), "--collection-name", name, "--dim", str(dim), "--inserts",
                   str(inserts), "--rows", str(batch), "--inserts-per-tick",
                   str(max(1, min(100, 1000 // batch))), "--delete-every", str(delete_every),
                   "--start-ms", str(start_ms)])
        # "produced N messages (B bytes) to T; last ts X"
        words = out.split()
        nbytes, last_ts = int(words[3].lstrip("(")), int(words[-1])
        samples, wall, cpu, rss = cdc.measure(
            task, cid, last_ts >> 18, TIMEOUT,
            lambda: run([SIM, "catalog", "--etcd", ETCD, "--root", root, "--pchannel", topic,
                         "--collection-id", str(cid), "--collection-name", name, "--dim",
                         str(dim), "--start-offset", "0", "--create-ts", str(start_ms << 18)]))
    finally:
        cdc.stop()
    rows = batch * inserts
    steady = steady_rate(samples, start_ms, last_ts >> 18, rows)
    ceil = run_ceiling(CEILING, ["--brokers", KAFKA, "--topic", topic, "--target", taddr,
                                 "--collection", name], os.path.join(logdir, "ceiling.log"),
                       TIMEOUT)
    report(label, dim, batch, tname, rows, nbytes / 1e6, (wall, cpu, rss, steady), ceil)


def target_count(name, expected, timeout=90):
    """count(*) of collection `name` on the target Milvus after an index and a load (not timed;
    proves that a checkpoint at the end means the rows arrived). The last value seen."""
    from pymilvus import Collection, connections

    host, port = TARGET.rsplit(":", 1)
    connections.connect("bench-tgt", host=host, port=port)
    coll = Collection(name, using="bench-tgt")
    coll.create_index("vec", {"index_type": "FLAT", "metric_type": "L2", "params": {}})
    coll.load(timeout=timeout)
    deadline, count = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        res = coll.query("", output_fields=["count(*)"], consistency_level="Eventually",
                         timeout=10)
        count = res[0]["count(*)"]
        if count == expected:
            break
        time.sleep(1)
    coll.release()
    return count


def count_check(name, case, expected):
    try:
        got = target_count(name, expected)
    except Exception as e:  # a failed check is reported, the numbers stay
        print(f"count(*) on the target failed: {e}", flush=True)
        got = -1
    row("cdc", case, "target count(*)", got, "rows",
        f"expected {expected} (inserted minus deleted); after the run, not timed")


def real_case(dim, batch, inserts, tname, taddr, label="real", coalesce=None,
              delete_every=DELETE_EVERY):
    import numpy as np
    from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, connections

    tag = re.sub("[^A-Za-z0-9]+", "_", label)
    name = f"bench_{tag}_{STAMP}_{tname}_{dim}_{batch}"
    logdir = os.path.join(LOGDIR, f"{tag}-{tname}-{dim}-{batch}")
    host, port = SOURCE.rsplit(":", 1)
    connections.connect("bench-src", host=host, port=port)
    cdc = Cdc(CDC, logdir, ETCD, KAFKA, SOURCE_ROOT, f"{SOURCE_PREFIX}-replicate-msg",
              coalesce_yaml(coalesce))
    try:
        task = cdc.create(taddr, [{"name": name}], paused=True)
        schema = CollectionSchema([FieldSchema("pk", DataType.INT64, is_primary=True),
                                   FieldSchema("vec", DataType.FLOAT_VECTOR, dim=dim)])
        coll = Collection(name, schema, using="bench-src", shards_num=1)
        cid = coll.describe()["collection_id"]
        rng = np.random.default_rng(1)
        last_ts, first_ts, t_ins = 0, 0, time.monotonic()
        for i in range(inserts):
            pks = list(range(i * batch, (i + 1) * batch))
            r = coll.insert([pks, rng.random((batch, dim), dtype=np.float32)])
            first_ts = first_ts or r.timestamp
            last_ts = max(last_ts, r.timestamp)
            if delete_every and (i + 1) % delete_every == 0:
                last_ts = max(last_ts, coll.delete(f"pk in [{pks[0]}]").timestamp)
        ins_wall = time.monotonic() - t_ins
        samples, wall, cpu, rss = cdc.measure(task, cid, last_ts >> 18, TIMEOUT,
                                              lambda: cdc.resume(task))
        if tname == "milvus":  # while the task still ticks; before the ceiling re-sends
            count_check(name, f"{label} dim={dim} batch={batch} -> milvus",
                        batch * inserts - (inserts // delete_every if delete_every else 0))
    finally:
        cdc.stop()
    rows = batch * inserts
    ceil = run_ceiling(CEILING, ["--brokers", KAFKA, "--source", SOURCE, "--target", taddr,
                                 "--collection", name, "--end-ts", str(last_ts)],
                       os.path.join(logdir, "ceiling.log"), TIMEOUT)
    mbytes = ceil["bytes"] / 1e6  # the DML bytes on the topic (both forward the same)
    row("real-source", f"{label} dim={dim} batch={batch}", "pymilvus insert rows/s", rows / ins_wall,
        "rows/s", "how fast the source Milvus took the backlog")
    steady = steady_rate(samples, first_ts >> 18, last_ts >> 18, rows)
    report(label, dim, batch, tname, rows, mbytes, (wall, cpu, rss, steady), ceil)
    coll.drop()


def main():
    os.makedirs(LOGDIR, exist_ok=True)
    div = 10 if QUICK else 1
    only = os.environ.get("BENCH_THROUGHPUT_ONLY", "")  # e.g. "sim" or "real" (debugging)
    only_target = os.environ.get("BENCH_THROUGHPUT_TARGET", "")  # "milvus" or "sink"
    sink = Sink(SINK, LOGDIR)
    failures = 0
    try:
        targets = [t for t in (("milvus", TARGET), ("sink", sink.addr))
                   if only_target in ("", t[0])]
        cases = []
        if only in ("", "sim"):
            sims = SIM_CASES if not QUICK else [SIM_CASES[1], SIM_CASES[5]]
            cases += [("sim", c) for c in sims]
        if only in ("", "real"):
            reals = REAL_CASES if not QUICK else [REAL_CASES[1]]
            cases += [("real", c) for c in reals]
        for kind, (dim, batch, inserts) in cases:
            for tname, taddr in targets:
                n = max(2, inserts // div) * (SINK_SCALE if (kind, tname) == ("sim", "sink") else 1)
                t = time.monotonic()
                try:
                    (sim_case if kind == "sim" else real_case)(dim, batch, n, tname, taddr)
                except Exception as e:  # one failed case must not hide the others
                    failures += 1
                    print(f"{kind} dim={dim} batch={batch} -> {tname}: FAILED: {e}", flush=True)
                print(f"  ({time.monotonic() - t:.0f} s)", flush=True)
    finally:
        sink.stop()
        save()
    print("\n".join(["", "summary:"] + summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
