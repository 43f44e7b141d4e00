"""Shared plumbing of the lag and scale benchmarks (bench/lag, bench/scale).

Starts what a run needs and cleans up only what it started: Kafka and etcd (reused from
CDC_TEST_KAFKA / CDC_TEST_ETCD when set, else a private `scripts/e2e-env.sh up etcd kafka` under
$BENCH_OUT), `bench_loadgen` (paced Milvus-format source + recording gRPC target) and the
`milvus-cdc` server from $BENCH_BUILD; samples the server's RSS and CPU from /proc; writes the
JSON rows of the bench contract ({"bench","case","metric","value","unit","note"}).
Every wait is bounded. Results are printed and written, never asserted.
"""
import collections
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.2):
    """Polls pred() until it returns a truthy value (returned) or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(interval)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


class Rows:
    """The JSON rows of one step, also printed as a table at the end."""

    def __init__(self, bench):
        self.bench = bench
        self.rows = []

    def add(self, case, metric, value, unit, note=None):
        row = {"bench": self.bench, "case": case, "metric": metric,
               "value": round(value, 3) if isinstance(value, float) else value, "unit": unit}
        if note:
            row["note"] = note
        self.rows.append(row)
        log(f"{case}: {metric} = {row['value']} {unit}" + (f" ({note})" if note else ""))

    def write(self, out_dir, step):
        path = os.path.join(out_dir, f"{step}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.rows, f, indent=1)
        print(f"{'case':<34} {'metric':<28} {'value':>12} unit")
        for r in self.rows:
            print(f"{r['case']:<34} {r['metric']:<28} {r['value']:>12} {r['unit']}")
        log(f"wrote {path}")


class Env:
    """etcd + Kafka: the caller's (CDC_TEST_ETCD/KAFKA) or a private e2e-env under out_dir."""

    def __init__(self, out_dir, name):
        self.own_dir = None
        self.etcd = os.environ.get("CDC_TEST_ETCD")
        self.kafka = os.environ.get("CDC_TEST_KAFKA")
        if self.etcd and self.kafka:
            return
        self.own_dir = os.path.join(out_dir, f"env-{name}")
        env = dict(os.environ, CDC_ENV_DIR=self.own_dir)
        log(f"starting etcd and kafka (scripts/e2e-env.sh, state in {self.own_dir})")
        subprocess.run([os.path.join(ROOT, "scripts", "e2e-env.sh"), "up", "etcd", "kafka"],
                       env=env, check=True, stdout=sys.stderr)
        with open(os.path.join(self.own_dir, "env.sh"), encoding="utf-8") as f:
            for line in f:
                k, _, v = line.replace("export ", "").strip().partition("=")
                if k == "CDC_TEST_ETCD":
                    self.etcd = v.strip("'")
                elif k == "CDC_TEST_KAFKA":
                    self.kafka = v.strip("'")

    def close(self):
        if self.own_dir:
            env = dict(os.environ, CDC_ENV_DIR=self.own_dir, STOP_WAIT="10")
            subprocess.run([os.path.join(ROOT, "scripts", "e2e-env.sh"), "down"], env=env,
                           stdout=sys.stderr, stderr=sys.stderr, check=False)


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


class Loadgen:
    """bench_loadgen: collections in the source etcd, paced inserts + ticks, recording sink."""

    def __init__(self, build, env, out_dir, root, collections, rows=100, dim=128, tick_ms=200):
        self.log_path = os.path.join(out_dir, f"loadgen-{root}.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [os.path.join(build, "bench", "lag", "bench_loadgen"), "--brokers", env.kafka,
             "--etcd", env.etcd, "--root", root, "--collections", str(collections),
             "--rows", str(rows), "--dim", str(dim), "--tick-ms", str(tick_ms),
             "--name-prefix", f"{root}_c"],
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError(f"bench_loadgen did not start (log {self.log_path})")
        ports = json.loads(line)
        self.sink_port = ports["sink_port"]
        self.url = f"http://127.0.0.1:{ports['ctl_port']}"
        # Names unique per run: a reused target Milvus must not already hold these rows.
        self.names = [f"{root}_c{i}" for i in range(collections)]
        self.rows = rows

    def stats(self):
        return json.loads(http("GET", self.url + "/stats"))

    def produce(self, rate=0, seconds=0, count=0, collections=0, first=0):
        q = f"rate={rate}&seconds={seconds}&count={count}&from={first}&collections={collections}"
        http("POST", f"{self.url}/produce?{q}", body={})

    def wait_produced(self, timeout):
        return wait_until(lambda: not self.stats()["producer"]["running"], timeout, "produce run")

    def post(self, path):
        http("POST", self.url + path, body={})

    def csv(self, path):
        out = {}
        for line in http("GET", self.url + path, timeout=120).splitlines()[1:]:
            mid, us = line.split(",")
            out.setdefault(int(mid), int(us))  # first arrival of a msg id counts
        return out

    def close(self):
        try:
            self.post("/quit")
        except (OSError, urllib.error.URLError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Cdc:
    """One milvus-cdc server with a generated cdc.yaml (SQLite meta store under out_dir)."""

    def __init__(self, build, env, out_dir, root, name):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = root
        work = os.path.join(out_dir, f"cdc-{name}")
        os.makedirs(work, exist_ok=True)
        cfg = os.path.join(work, "cdc.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(f"""address: 127.0.0.1:{self.port}
maxTaskNum: 100
logLevel: info
metaStoreConfig:
  storeType: sqlite
  sqlite:
    path: {work}/meta.db
  rootPath: {root}-cdc
sourceConfig:
  etcd:
    address: [{env.etcd}]
    rootPath: {root}
    metaSubPath: meta
  replicateChan: {root}-replicate-msg
  timeTickInterval: {os.environ.get("BENCH_TIME_TICK_MS", "500")}
  sharedReaders: {os.environ.get("BENCH_SHARED_READERS", "true")}
  kafka:
    address: {env.kafka}
coalesce:
  enabled: false
""")
        # Coalescing off: the recording sink times each insert by its msgID, which a merged
        # message replaces (bench/coalesce measures coalescing).
        self.log_path = os.path.join(work, "milvus-cdc.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([os.path.join(build, "milvus-cdc"), "--config", cfg],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=work)
        wait_until(self._ready, 30, f"milvus-cdc API (log {self.log_path})")

    def post(self, request_type, data=None):
        body = {"request_type": request_type}
        if data is not None:
            body["request_data"] = data
        return json.loads(http("POST", self.url + "/cdc", body=body, timeout=60))

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"milvus-cdc exited (log {self.log_path})")
        try:
            return "code" in self.post("list")
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def create_task(self, sink_port, collection, host="127.0.0.1"):
        r = self.post("create", {
            "milvus_connect_param": {"host": host, "port": int(sink_port), "username": "",
                                     "password": "", "enable_tls": False,
                                     "connect_timeout": 10},
            "collection_infos": [{"name": collection}],
            "rpc_channel_info": {"name": f"{self.root}-replicate-msg"},
        })
        if r.get("code") != 200:
            raise RuntimeError(f"create task for {collection}: {r}")
        return r["data"]["task_id"]

    def create_task_milvus(self, host_port, collection):
        host, port = host_port.rsplit(":", 1)
        return self.create_task(port, collection, host)

    def metrics(self):
        return http("GET", self.url + "/metrics")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class GaugeSampler:
    """Polls a Prometheus gauge of milvus-cdc's /metrics every `interval` s in a thread and
    keeps the largest value across label sets per poll (e.g. milvus_cdc_channel_lag_ms)."""

    def __init__(self, cdc, name, interval=0.1):
        self.values = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(cdc, name, interval), daemon=True)
        self._t.start()

    def _run(self, cdc, name, interval):
        while not self._stop.is_set():
            try:
                text = cdc.metrics()
            except (OSError, urllib.error.URLError):
                text = ""
            vals = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                    if line.startswith(name + "{")]
            if vals:
                self.values.append(max(vals))
            self._stop.wait(interval)

    def close(self):
        self._stop.set()
        self._t.join(2)
        return sorted(self.values)


def proc_sample(pid):
    """(rss_bytes, cpu_seconds, threads) of a live process."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ  # utime + stime
    threads = int(fields[17])
    rss = int(fields[21]) * PAGE
    return rss, cpu, threads


def thread_kind(name):
    """A thread's kind: its name up to the first '-', '_' or ':' ("task-0695c052fa" -> "task")."""
    return re.split(r"[-_:]", name, maxsplit=1)[0] or name


def thread_kinds(pid):
    """A live process's threads counted by kind: the name up to its first '-', '_' or ':'
    (milvus-cdc names its threads "task-<id>", "read-<channel>", "pump-<channel>", ...;
    librdkafka's are "rdk:main", "rdk:broker..."), most first, as "kind N, kind N, ..."."""
    kinds = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8", errors="replace") as f:
                name = f.read().strip()
        except OSError:
            continue  # ended meanwhile
        kinds[thread_kind(name)] += 1
    return ", ".join(f"{k} {n}" for k, n in kinds.most_common())


class Sampler:
    """Samples a process every `interval` s in a thread; window() summarises a time span."""

    def __init__(self, pid, interval=0.25):
        self.pid = pid
        self.samples = []  # (monotonic, rss, cpu, threads)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._t.start()

    def _run(self, interval):
        while not self._stop.is_set():
            try:
                rss, cpu, thr = proc_sample(self.pid)
            except OSError:
                return
            self.samples.append((time.monotonic(), rss, cpu, thr))
            self._stop.wait(interval)

    def mark(self):
        return time.monotonic()

    def window(self, t0, t1=None):
        t1 = t1 if t1 is not None else time.monotonic()
        s = [x for x in self.samples if t0 <= x[0] <= t1]
        if len(s) < 2:
            return None
        secs = s[-1][0] - s[0][0]
        return {
            "rss_avg_mb": sum(x[1] for x in s) / len(s) / 2**20,
            "rss_peak_mb": max(x[1] for x in s) / 2**20,
            "rss_end_mb": s[-1][1] / 2**20,
            "cpu_pct": 100.0 * (s[-1][2] - s[0][2]) / secs if secs > 0 else 0.0,
            "cpu_s": s[-1][2] - s[0][2],
            "threads": max(x[3] for x in s),
            "secs": secs,
        }

    def close(self):
        self._stop.set()
        self._t.join(2)


def run_root(step):
    """The source etcd root / topic prefix of one run, unique across runs."""
    return f"bench{step}{os.getpid()}t{int(time.time()) % 100000}"


def settings(step):
    """(rows dir, logs dir = $BENCH_OUT/<step>, build dir, quick) from the bench contract."""
    out = os.environ.get("BENCH_OUT") or os.path.join(ROOT, "build", "bench-out")
    build = os.environ.get("BENCH_BUILD") or os.path.join(ROOT, "build")
    quick = os.environ.get("BENCH_QUICK", "0") == "1"
    logs = os.path.join(out, step)
    os.makedirs(logs, exist_ok=True)
    return out, logs, build, quick
