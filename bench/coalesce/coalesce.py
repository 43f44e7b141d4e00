#!/usr/bin/env python3
"""Coalescing step (bench/README.md): single-row inserts from a backlog into the real target
Milvus, milvus-cdc with `coalesce.enabled: false` and with coalescing on (the default), each
beside the ceiling (bench/ceiling: the messages of a pack in one ReplicateMessage, one target
message per source message), in the same run. The cases and their measures are the throughput
step's (bench/throughput/throughput.py), with the coalescing switch in each milvus-cdc's
cdc.yaml. The simulator's streams end at the time they are written (backdate): a stream from
now on (1 ms a message) would reach beyond what the target accepts and be paced by the clock.

Cases (full; quick takes a tenth of the inserts):
- sim, 128-dim, 3000 single-row inserts with a delete after every 10 (the throughput step's
  stream: a delete ends a run), off and on;
- sim, 128-dim, 3000 single-row inserts without deletes, off and on, and 30000 on (a longer
  stream, so that the start-up does not dominate the rate);
- real source Milvus, 128-dim, 6000 single-row pymilvus inserts with a delete after every 10,
  off and on, and 6000 without deletes, off and on; count(*) on the target checked after each.
BENCH_COALESCE_ONLY=<prefix> runs only the cases whose kind starts with it (e.g. "real").
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "throughput"))
import throughput as tp  # noqa: E402  (the cases and the row format)

tp.STEP = "coalesce"
tp.LOGDIR = os.path.join(tp.OUT, tp.STEP)
DIV = 10 if tp.QUICK else 1

CASES = [
    ("sim", dict(delete_every=10), 3000, False),
    ("sim", dict(delete_every=10), 3000, True),
    ("sim no-deletes", dict(delete_every=0), 3000, False),
    ("sim no-deletes", dict(delete_every=0), 3000, True),
    ("sim no-deletes", dict(delete_every=0), 30000, True),
    ("real", {}, 6000, False),
    ("real", {}, 6000, True),
    ("real no-deletes", dict(delete_every=0), 6000, False),
    ("real no-deletes", dict(delete_every=0), 6000, True),
]


def main():
    os.makedirs(tp.LOGDIR, exist_ok=True)
    failures = 0
    only = os.environ.get("BENCH_COALESCE_ONLY", "")  # a case prefix, e.g. "real no-deletes"
    for kind, kw, inserts, on in CASES:
        if not kind.startswith(only):
            continue
        n = max(20, inserts // DIV)
        label = f"{kind} x{n} coalesce={'on' if on else 'off'}"
        t = time.monotonic()
        try:
            if kind.startswith("sim"):
                tp.sim_case(128, 1, n, "milvus", tp.TARGET, label=label, coalesce=on,
                            backdate=True, **kw)
            else:
                tp.real_case(128, 1, n, "milvus", tp.TARGET, label=label, coalesce=on, **kw)
        except Exception as e:  # one failed case must not hide the others
            failures += 1
            print(f"{label} x{n} -> milvus: FAILED: {e}", flush=True)
        print(f"  ({time.monotonic() - t:.0f} s)", flush=True)
    tp.save()
    print("\n".join(["", "summary:"] + tp.summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
