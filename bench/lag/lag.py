"""Lag benchmark (issue 8): source-available -> target-acknowledged latency at 50% of the
measured maximum rate, then a target outage with the source still producing (backlog):
milvus-cdc's RSS while blocked, catch-up time, and that no message was lost.

One task, one collection, Insert messages of ROWS rows of 128-dim float vectors; bench_loadgen
is both the source (Kafka, time ticks every 200 ms, broker ack time recorded per message) and
the target (a recording gRPC MilvusService; arrival time = acknowledgement time).
Env: BENCH_OUT, BENCH_BUILD, BENCH_QUICK (see bench/README.md).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

ROWS = 100


def warm_up(lg, collections, timeout=120):
    """Waits until every task created its target collection, then produces one insert per
    collection until one round of them all reaches the target (readers start at the latest
    message, so data produced before a reader started is not replicated)."""
    h.wait_until(lambda: lg.stats()["sink"]["collections"] >= collections, timeout,
                 f"{collections} collections created at the target", interval=0.5)
    deadline = time.monotonic() + timeout
    while True:
        lg.post("/clear")
        lg.produce(count=collections, collections=collections)  # from collection 0 on
        lg.wait_produced(30)
        def arrived():
            acks = lg.csv("/acks")
            return len(acks) >= collections and set(acks) <= set(lg.csv("/arrivals"))
        try:
            h.wait_until(arrived, 5, "warm-up inserts", interval=0.3)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def drained(lg, expect):
    return lg.stats()["sink"]["distinct_inserts"] >= expect


def measure_max(lg, count, rows):
    """Produces `count` inserts as fast as possible; max = count / (last arrival - first ack)."""
    lg.post("/clear")
    before = lg.stats()
    expect = before["sink"]["distinct_inserts"] + count
    t0 = time.monotonic()
    lg.produce(count=count, collections=1)
    lg.wait_produced(300)
    produce_s = time.monotonic() - t0
    h.wait_until(lambda: drained(lg, expect), 120, f"{count} inserts at the target")
    acks, arr = lg.csv("/acks"), lg.csv("/arrivals")
    first_ack = min(acks.values())
    last_arr = max(arr.values())
    secs = (last_arr - first_ack) / 1e6
    return count / secs, count / produce_s, secs


def latencies(lg, save_path=None):
    acks, arr = lg.csv("/acks"), lg.csv("/arrivals")
    if save_path:  # raw data beside the JSON, for a closer look
        with open(save_path, "w", encoding="utf-8") as f:
            f.write("msg_id,broker_ack_us,target_ack_us\n")
            for m, a in sorted(acks.items(), key=lambda x: x[1]):
                f.write(f"{m},{a},{arr.get(m, '')}\n")
    lat = sorted((arr[m] - a) / 1000.0 for m, a in acks.items() if m in arr)
    missing = sum(1 for m in acks if m not in arr)
    return lat, missing


def real_target(rows, cdc, lg, logs, samples):
    target, python = os.environ.get("CDC_TEST_MILVUS_TARGET"), os.environ.get("CDC_TEST_PYTHON")
    if not target or not python:
        h.log("no CDC_TEST_MILVUS_TARGET / CDC_TEST_PYTHON: no real-target lag")
        return
    cdc.create_task_milvus(target, lg.names[1])
    r = subprocess.run([python, os.path.join(os.path.dirname(__file__), "target_probe.py"),
                        "--target", target, "--collection", lg.names[1], "--index", "1",
                        "--ctl", lg.url, "--rows", str(ROWS), "--samples", str(samples)],
                       capture_output=True, text=True, timeout=600, check=False)
    with open(os.path.join(logs, "target_probe.log"), "w", encoding="utf-8") as f:
        f.write(r.stdout + r.stderr)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"error": f"target_probe.py exited {r.returncode} (log target_probe.log)"}
    lat = sorted(res.get("lags_ms", []))
    case = "1 task, real target Milvus, 1 insert at a time"
    if res.get("error"):
        h.log(f"real target: {res['error']}")
    if lat:
        note = (f"{len(lat)} inserts; broker ack to the row visible in a query on the target "
                "(polled every 20 ms; the target's own consume and tick handling included)")
        rows.add(case, "lag_p50", h.percentile(lat, 50), "ms", note)
        rows.add(case, "lag_max", lat[-1], "ms")


def main():
    out, logs, build, quick = h.settings("lag")
    rows = h.Rows("lag")
    max_count = 1000 if quick else 6000
    lag_secs = 8 if quick else 60
    block_secs = 8 if quick else 45
    env = h.Env(logs, "lag")
    root = h.run_root("lag")
    lg = cdc = sampler = None
    try:
        # Collection 0 goes to the recording sink, collection 1 to the real target Milvus (if any).
        lg = h.Loadgen(build, env, logs, root, collections=2, rows=ROWS)
        cdc = h.Cdc(build, env, logs, root, "lag")
        sampler = h.Sampler(cdc.proc.pid)
        cdc.create_task(lg.sink_port, lg.names[0])
        warm_up(lg, 1)
        mb_per_msg = ROWS * 128 * 4 / 2**20

        # 1. The maximum rate through milvus-cdc into the recording target.
        t_max = sampler.mark()
        mx, prod_rate, secs = measure_max(lg, max_count, ROWS)
        wmax = sampler.window(t_max)
        case = f"1 task, {ROWS} rows x 128-dim"
        rows.add(case, "max_rate", mx, "msgs/s",
                 f"{max_count} inserts as fast as possible; first broker ack to last target ack "
                 f"{secs:.1f} s; producer alone {prod_rate:.0f} msgs/s")
        rows.add(case, "max_rate_rows", mx * ROWS, "rows/s")
        rows.add(case, "max_rate_mb", mx * mb_per_msg, "MB/s", "vector payload only")
        if wmax:
            rows.add(case, "max_cdc_cpu", wmax["cpu_pct"], "% of a core",
                     "milvus-cdc while draining the burst (100 = one core busy)")
            rows.add(case, "max_cdc_rss_peak", wmax["rss_peak_mb"], "MB")

        # 2. Lag at 50% of the maximum.
        rate = mx / 2
        lg.post("/clear")
        t0 = sampler.mark()
        gauge = h.GaugeSampler(cdc, "milvus_cdc_channel_lag_ms")
        lg.produce(rate=rate, seconds=lag_secs, collections=1)
        lg.wait_produced(lag_secs + 60)
        w = sampler.window(t0)
        reported = gauge.close()
        expect = lg.stats()["producer"]["acked"]
        h.wait_until(lambda: drained(lg, expect), 60, "lag-phase inserts at the target")
        lat, missing = latencies(lg, os.path.join(logs, "lag-samples.csv"))
        case_lag = f"{case}, {rate:.0f} msgs/s (50% of max)"
        note = (f"{len(lat)} inserts over {lag_secs} s; broker ack of the insert to target ack; "
                "includes the wait for the next source time tick (every 200 ms)")
        rows.add(case_lag, "lag_p50", h.percentile(lat, 50), "ms", note)
        rows.add(case_lag, "lag_p99", h.percentile(lat, 99), "ms")
        rows.add(case_lag, "lag_max", lat[-1] if lat else float("nan"), "ms")
        rows.add(case_lag, "lost", missing, "msgs")
        if reported:  # milvus-cdc's own view, beside the measured one
            rows.add(case_lag, "reported_lag_p50", h.percentile(reported, 50), "ms",
                     f"milvus_cdc_channel_lag_ms on /metrics, polled every 100 ms "
                     f"({len(reported)} polls)")
            rows.add(case_lag, "reported_lag_max", reported[-1], "ms")
        if w:
            rows.add(case_lag, "cdc_cpu", w["cpu_pct"], "% of a core")
            rows.add(case_lag, "cdc_rss_avg", w["rss_avg_mb"], "MB")

        # 3. Backlog: target down for block_secs while the source keeps producing at `rate`.
        lg.post("/clear")
        before = lg.stats()
        t_pre = sampler.mark()
        time.sleep(1.0)
        pre = sampler.window(t_pre)
        lg.post("/block")
        t_block = sampler.mark()
        lg.produce(rate=rate, seconds=block_secs, collections=1)
        lg.wait_produced(block_secs + 60)
        blocked = sampler.window(t_block)
        half = sampler.window(t_block, t_block + (time.monotonic() - t_block) / 2)
        produced = lg.stats()["producer"]["acked"] - before["producer"]["acked"]
        expect = before["sink"]["distinct_inserts"] + produced
        lg.post("/unblock")
        t_up, t_up_wall = time.monotonic(), time.time()
        t_up_s = sampler.mark()
        h.wait_until(lambda: drained(lg, expect), 120, "backlog at the target", interval=0.05)
        catch_up = time.monotonic() - t_up
        after = sampler.window(t_up_s)
        acks, arr = lg.csv("/acks"), lg.csv("/arrivals")
        lost = sum(1 for m in acks if m not in arr)
        first_arr = min(arr.values()) / 1e6 if arr else float("nan")
        case_b = f"1 task, target down {block_secs} s at {rate:.0f} msgs/s"
        backlog_mb = produced * mb_per_msg
        rows.add(case_b, "backlog", produced, "msgs", f"{backlog_mb:.0f} MB of vectors")
        if pre:
            rows.add(case_b, "cdc_rss_before", pre["rss_end_mb"], "MB")
        if blocked:
            if half:
                rows.add(case_b, "cdc_rss_mid_blocked", half["rss_end_mb"], "MB",
                         "halfway through the outage (equal to the end: a plateau)")
            rows.add(case_b, "cdc_rss_peak_blocked", blocked["rss_peak_mb"], "MB")
            rows.add(case_b, "cdc_rss_end_blocked", blocked["rss_end_mb"], "MB")
        if after:
            rows.add(case_b, "cdc_rss_peak_catch_up", after["rss_peak_mb"], "MB")
        rows.add(case_b, "catch_up", catch_up, "s",
                 "target back -> every backlog message acknowledged; includes the retry "
                 "backoff still pending when the target came back (up to 10 s)")
        rows.add(case_b, "first_ack_after_up", first_arr - t_up_wall, "s")
        rows.add(case_b, "lost", lost, "msgs", f"of {produced} produced while the target was down")

        # 4. A sanity number against the real target Milvus (when the environment has one).
        real_target(rows, cdc, lg, logs, samples=5 if quick else 20)
    finally:
        if sampler:
            sampler.close()
        if cdc:
            cdc.close()
        if lg:
            lg.close()
        env.close()
        rows.write(out, "lag")  # also the rows of a failed run


if __name__ == "__main__":
    main()
