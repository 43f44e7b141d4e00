"""Processes the throughput benchmark drives: milvus-cdc (one per case, own SQLite meta),
the recording sink, and /proc readings (CPU seconds, peak RSS) of a pid."""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from cdc_server import free_port, post, wait_ready  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of pid (all threads), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def peak_rss_mb(pid):
    """VmHWM of pid (its peak resident set so far), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stop_process(proc, wait_s):
    """SIGTERM, then SIGKILL after wait_s seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Cdc:
    """One milvus-cdc process with its own config and SQLite meta under logdir."""

    def __init__(self, binary, logdir, etcd, kafka, etcd_root, replicate_chan, extra_yaml=""):
        """extra_yaml: more config lines (e.g. initialSync), sourceConfig keys excluded."""
        os.makedirs(logdir, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/cdc"
        self.log_path = os.path.join(logdir, "milvus-cdc.log")
        config = os.path.join(logdir, "cdc.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"""address: 127.0.0.1:{self.port}
logLevel: warn
metaStoreConfig:
  storeType: sqlite
  sqlite:
    path: {os.path.join(logdir, "meta.db")}
  rootPath: bench
sourceConfig:
  etcd:
    address: [{etcd}]
    rootPath: {etcd_root}
    metaSubPath: meta
  replicateChan: {replicate_chan}
  kafka:
    address: {kafka}
""")
            if os.environ.get("BENCH_READ_BUFFER_MB"):  # sourceConfig.readBufferMB (experiments)
                f.write(f"  readBufferMB: {int(os.environ['BENCH_READ_BUFFER_MB'])}\n")
            f.write(extra_yaml)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "--config", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.perf = None
        err = wait_ready(self.url, self.proc, 30, self.log_path)
        if err:
            self.stop()
            raise RuntimeError(f"milvus-cdc did not start: {err}")
        if os.environ.get("BENCH_PERF") == "1":  # profile: perf report -i <logdir>/perf.data
            self.perf = subprocess.Popen(
                ["perf", "record", "-F", "499", "-g", "-p", str(self.pid), "-o",
                 os.path.join(logdir, "perf.data")], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

    @property
    def pid(self):
        return self.proc.pid

    def create(self, target, collection_infos, paused=False):
        host, port = target.rsplit(":", 1)
        resp = post(self.url, "create", {
            "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 20},
            "collection_infos": collection_infos,
            "disable_auto_start": paused,
        }, timeout=60)
        if resp.get("code") != 200:
            raise RuntimeError(f"create task: {resp}")
        return resp["data"]["task_id"]

    def resume(self, task):
        resp = post(self.url, "resume", {"task_id": task})
        if resp.get("code") != 200:
            raise RuntimeError(f"resume task: {resp}")

    def checkpoints(self, task):
        """[(collection_id, channel_name, time_ms)] of the task's data channels."""
        resp = post(self.url, "position", {"task_id": task}, timeout=5)
        data = resp.get("data") or {}
        return [(p["collection_id"], p["channel_name"], p["time"])
                for p in data.get("positions") or []]

    def reason(self, task):
        resp = post(self.url, "get", {"task_id": task}, timeout=5)
        t = (resp.get("data") or {}).get("task") or {}
        return t.get("reason", "")

    def wait_checkpoint(self, task, collection_id, end_ms, timeout):
        """Polls the task's checkpoint of collection_id every 20 ms until its time reaches
        end_ms. Returns [(monotonic s, time_ms)] samples; raises on timeout."""
        samples = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ms = max((t for c, _, t in self.checkpoints(task) if c == collection_id),
                         default=0)
            except OSError:
                ms = 0
            now = time.monotonic()
            samples.append((now, ms))
            if ms >= end_ms:
                return samples
            if self.proc.poll() is not None:
                raise RuntimeError(f"milvus-cdc exited (log {self.log_path})")
            time.sleep(0.02)
        raise RuntimeError(f"checkpoint did not reach {end_ms} in {timeout} s "
                           f"(reason: {self.reason(task)!r}; log {self.log_path})")

    def measure(self, task, collection_id, end_ms, timeout, start):
        """Calls start() and waits for the checkpoint to reach end_ms. Returns (samples,
        wall s, milvus-cdc CPU s since start, its peak RSS in MB)."""
        cpu0, t0 = cpu_seconds(self.pid), time.monotonic()
        start()
        samples = self.wait_checkpoint(task, collection_id, end_ms, timeout)
        return (samples, time.monotonic() - t0, cpu_seconds(self.pid) - cpu0,
                peak_rss_mb(self.pid))

    def stop(self):
        if self.perf:
            self.perf.send_signal(signal.SIGINT)
            self.perf.wait(30)
        stop_process(self.proc, 15)
        self.log.close()


class Sink:
    """The recording fake target (bench/sink)."""

    def __init__(self, binary, logdir):
        self.stats_path = os.path.join(logdir, "sink-stats.json")
        self.log = open(os.path.join(logdir, "sink.log"), "wb")
        self.proc = subprocess.Popen([binary, "--stats", self.stats_path],
                                     stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"milvus-sink did not start: {line!r}")
        self.addr = line.split()[-1]

    def stats(self):
        with open(self.stats_path, encoding="utf-8") as f:
            return json.load(f)

    def stop(self):
        stop_process(self.proc, 10)
        self.log.close()


def run_ceiling(binary, args, logpath, timeout):
    """Runs bench/ceiling with args; returns its JSON line as a dict."""
    with open(logpath, "wb") as log:
        r = subprocess.run([binary, *args, "--timeout", str(timeout)], stdout=subprocess.PIPE,
                           stderr=log, timeout=timeout + 30, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"replicate-ceiling failed (rc {r.returncode}, log {logpath})")
    return json.loads(r.stdout.decode().strip().splitlines()[-1])
