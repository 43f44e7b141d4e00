"""Idle tasks, by hand (not a bench/run.sh step): one milvus-cdc with N idle tasks (default 100,
each on its own collection of a 16-channel source, as the scale step), then over 10 s its CPU,
threads by kind, the target calls per second, and each thread kind's wake-ups per second
(voluntary context switches). `BENCH_PERF=1` also records a perf profile of 10 s.

    BENCH_BUILD=build N=100 BENCH_TIME_TICK_MS=500 python3 bench/scale/idle.py

Env: BENCH_BUILD (default build/), BENCH_OUT (default build/bench-out), N, BENCH_TIME_TICK_MS
(sourceConfig.timeTickInterval), BENCH_PERF; etcd and Kafka as the scale step (CDC_TEST_ETCD /
CDC_TEST_KAFKA, else started under BENCH_OUT).
"""
import collections
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lag"))
import harness as h  # noqa: E402
from lag import warm_up  # noqa: E402


def wakeups(pid, seconds):
    """Voluntary context switches per second and thread, averaged per thread kind."""
    def sample():
        out = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8") as f:
                    name = f.read().strip()
                with open(f"/proc/{pid}/task/{tid}/status", encoding="utf-8") as f:
                    v = int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", f.read()).group(1))
                out[tid] = (h.thread_kind(name), v)
            except (OSError, AttributeError):
                pass  # ended meanwhile
        return out
    a = sample()
    time.sleep(seconds)
    b = sample()
    total, threads = collections.Counter(), collections.Counter()
    for tid, (kind, v) in b.items():
        if tid in a:
            total[kind] += (v - a[tid][1]) / seconds
            threads[kind] += 1
    return ", ".join(f"{k} {total[k] / threads[k]:.1f}" for k, _ in total.most_common())


def main():
    out, logs, build, _ = h.settings("idle")
    build = os.path.abspath(build)
    n = int(os.environ.get("N", "100"))
    env = h.Env(logs, "idle")
    root = h.run_root("idle")
    lg = cdc = None
    try:
        lg = h.Loadgen(build, env, logs, root, collections=n, rows=100)
        cdc = h.Cdc(build, env, logs, root, "idle")
        for i in range(n):
            for attempt in range(10):  # a new topic may have no leader yet
                try:
                    cdc.create_task(lg.sink_port, lg.names[i])
                    break
                except RuntimeError:
                    if attempt == 9:
                        raise
                    time.sleep(1)
        warm_up(lg, n)
        time.sleep(3)
        sampler = h.Sampler(cdc.proc.pid)
        t = sampler.mark()
        calls0 = lg.stats()["sink"]["replicate_calls"]
        time.sleep(10)
        w = sampler.window(t)
        calls = (lg.stats()["sink"]["replicate_calls"] - calls0) / 10
        tick = os.environ.get("BENCH_TIME_TICK_MS", "500")
        print(f"{n} idle tasks, timeTickInterval {tick} ms: CPU {w['cpu_pct']:.1f}% of a core, "
              f"{w['threads']} threads, RSS {w['rss_end_mb']:.0f} MB, target calls {calls:.1f}/s")
        print(f"threads by kind: {h.thread_kinds(cdc.proc.pid)}")
        print(f"wake-ups per second and thread, by kind: {wakeups(cdc.proc.pid, 5)}")
        if os.environ.get("BENCH_PERF") == "1":
            data = os.path.join(logs, "perf.data")
            subprocess.run(["perf", "record", "-g", "-o", data, "-p", str(cdc.proc.pid), "--",
                            "sleep", "10"], check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            print(f"perf profile: {data}")
    finally:
        if cdc:
            cdc.close()
        if lg:
            lg.close()
        env.close()


if __name__ == "__main__":
    main()
