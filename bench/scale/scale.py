"""Scale benchmark (issue 8): milvus-cdc's memory and CPU with 1, 10 and 100 tasks at once,
each replicating its own collection under the same steady total traffic, then all tasks' target
down for a while (backlog in the broker) and back: RSS bound, catch-up time, nothing lost.

Collections are spread over 16 DML channels as in a Milvus with dmlChannelNum 16, so with 100
tasks each task reads a channel that also carries ~6 other collections (as upstream, a task
reads whole channels and filters). All tasks share one target (the recording sink of
bench_loadgen), each with its own collection name (src/task allows that).
Env: BENCH_OUT, BENCH_BUILD, BENCH_QUICK (see bench/README.md).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lag"))
import harness as h  # noqa: E402
from lag import warm_up, drained  # noqa: E402

ROWS = 100
RATE = 100  # insert messages per second over all active collections (10k rows/s, ~5 MB/s)


def main():
    out, logs, build, quick = h.settings("scale")
    rows = h.Rows("scale")
    counts = [1, 10, 100]
    steady_secs = 5 if quick else 30
    block_secs = int(os.environ.get("BENCH_SCALE_OUTAGE_S", 8 if quick else 90))
    env = h.Env(logs, "scale")
    root = h.run_root("scale")
    lg = cdc = sampler = None
    try:
        lg = h.Loadgen(build, env, logs, root, collections=max(counts), rows=ROWS)
        cdc = h.Cdc(build, env, logs, root, "scale")
        sampler = h.Sampler(cdc.proc.pid)
        t_idle = sampler.mark()
        time.sleep(1.5)
        idle = sampler.window(t_idle)
        if idle:
            rows.add("0 tasks", "cdc_rss", idle["rss_end_mb"], "MB", "server up, no task")
            rows.add("0 tasks", "cdc_threads", idle["threads"], "threads",
                     h.thread_kinds(cdc.proc.pid))
        tasks = 0
        for n in counts:
            t_create = time.monotonic()
            while tasks < n:
                cdc.create_task(lg.sink_port, lg.names[tasks])
                tasks += 1
            create_s = time.monotonic() - t_create
            warm_up(lg, n)
            case = f"{n} task{'s' if n > 1 else ''}, {RATE} msgs/s total"
            rows.add(case, "cdc_threads_idle", len(os.listdir(f"/proc/{cdc.proc.pid}/task")),
                     "threads", h.thread_kinds(cdc.proc.pid))
            t_quiet = sampler.mark()
            calls0 = lg.stats()["sink"]["replicate_calls"]
            time.sleep(2.0)
            quiet = sampler.window(t_quiet)
            idle_calls = (lg.stats()["sink"]["replicate_calls"] - calls0) / 2.0
            lg.post("/clear")
            before = lg.stats()
            t0 = sampler.mark()
            lg.produce(rate=RATE, seconds=steady_secs, collections=n)
            lg.wait_produced(steady_secs + 60)
            w = sampler.window(t0)
            produced = lg.stats()["producer"]["acked"] - before["producer"]["acked"]
            expect = before["sink"]["distinct_inserts"] + produced
            h.wait_until(lambda e=expect: drained(lg, e), 120, f"{case}: data at the target")
            acks, arr = lg.csv("/acks"), lg.csv("/arrivals")
            lost = sum(1 for m in acks if m not in arr)
            rows.add(case, "create_time", create_s, "s",
                     f"creating {n - (counts[counts.index(n) - 1] if n != counts[0] else 0)} "
                     "task(s), readiness probe included")
            if quiet:
                rows.add(case, "cdc_rss_idle", quiet["rss_end_mb"], "MB", "tasks running, no data")
                rows.add(case, "cdc_cpu_idle", quiet["cpu_pct"], "% of a core",
                         "time ticks only (every 200 ms per channel)")
                rows.add(case, "target_calls_idle", idle_calls, "calls/s",
                         "ReplicateMessage calls (time ticks) at the target with no data")
            if w:
                rows.add(case, "cdc_rss_avg", w["rss_avg_mb"], "MB",
                         f"{steady_secs} s of {RATE} msgs x {ROWS} rows x 128-dim per s")
                rows.add(case, "cdc_rss_peak", w["rss_peak_mb"], "MB")
                rows.add(case, "cdc_cpu", w["cpu_pct"], "% of a core")
                rows.add(case, "cdc_threads", w["threads"], "threads")
            rows.add(case, "lost", lost, "msgs", f"of {produced}")

        # Backlog with every task: the shared target down while all collections keep producing.
        n = tasks
        case = f"{n} tasks, target down {block_secs} s at {RATE} msgs/s"
        lg.post("/clear")
        before = lg.stats()
        t_pre = sampler.mark()
        time.sleep(1.0)
        pre = sampler.window(t_pre)
        lg.post("/block")
        t_block = sampler.mark()
        lg.produce(rate=RATE, seconds=block_secs, collections=n)
        lg.wait_produced(block_secs + 60)
        blocked = sampler.window(t_block)
        half = sampler.window(t_block, t_block + (time.monotonic() - t_block) / 2)
        produced = lg.stats()["producer"]["acked"] - before["producer"]["acked"]
        expect = before["sink"]["distinct_inserts"] + produced
        lg.post("/unblock")
        t_up = time.monotonic()
        t_up_s = sampler.mark()
        h.wait_until(lambda: drained(lg, expect), 180, "backlog at the target", interval=0.1)
        catch_up = time.monotonic() - t_up
        after = sampler.window(t_up_s)
        acks, arr = lg.csv("/acks"), lg.csv("/arrivals")
        lost = sum(1 for m in acks if m not in arr)
        rows.add(case, "backlog", produced, "msgs",
                 f"{produced * ROWS * 128 * 4 / 2**20:.0f} MB of vectors")
        if pre:
            rows.add(case, "cdc_rss_before", pre["rss_end_mb"], "MB")
        if blocked:
            if half:
                rows.add(case, "cdc_rss_mid_blocked", half["rss_end_mb"], "MB",
                         "halfway through the outage (equal to the end: a plateau)")
            rows.add(case, "cdc_rss_peak_blocked", blocked["rss_peak_mb"], "MB")
            rows.add(case, "cdc_rss_end_blocked", blocked["rss_end_mb"], "MB")
        if after:
            rows.add(case, "cdc_rss_peak_catch_up", after["rss_peak_mb"], "MB")
            rows.add(case, "cdc_cpu_catch_up", after["cpu_pct"], "% of a core")
        rows.add(case, "catch_up", catch_up, "s",
                 "target back -> every backlog message acknowledged (includes pending retry "
                 "backoff, up to 10 s)")
        rows.add(case, "lost", lost, "msgs", f"of {produced} produced while the target was down")
    finally:
        if sampler:
            sampler.close()
        if cdc:
            cdc.close()
        if lg:
            lg.close()
        env.close()
        rows.write(out, "scale")  # also the rows of a failed run


if __name__ == "__main__":
    main()
