"""Runs the milvus-cdc server binary for the end-to-end suite and talks to its HTTP API.

The API is the upstream one (zilliztech/milvus-cdc doc/cdc-usage.md): POST /cdc with
{"request_type": create|delete|pause|resume|get|list, "request_data": {...}}, answered by
{"code": 200, "message": "", "data": {...}}; create answers data.task_id.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, request_type, request_data=None, timeout=30):
    """POST {"request_type", "request_data"} to url (.../cdc); returns the JSON answer, also
    for HTTP errors (their body carries code and message)."""
    body = {"request_type": request_type}
    if request_data is not None:
        body["request_data"] = request_data
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return json.loads(text)
        except ValueError:
            return {"code": e.code, "message": text}


def _pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def wait_ready(url, proc=None, timeout=20.0, log_path="", pid=None):
    """None when POST /cdc list answers with a JSON code; else why it did not. The wait ends
    early when proc (a subprocess.Popen) or the process pid exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return f"exited with code {proc.returncode} (log {log_path})"
        if pid is not None and not _pid_alive(pid):
            return f"exited (log {log_path})"
        try:
            if "code" in post(url, "list", timeout=2):
                return None
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    return f"POST /cdc list got no JSON answer in {timeout:.0f} s (log {log_path})"


def create_task(url, target_addr, source_prefix, collections=("*",)):
    """Creates a task replicating collections (of database default; default "*": every
    collection) into the Milvus at target_addr (host:port, no auth, no TLS), reading the
    source's <prefix>-replicate-msg channel."""
    host, port = target_addr.rsplit(":", 1)
    return post(url, "create", {
        "milvus_connect_param": {
            "host": host, "port": int(port), "username": "", "password": "",
            "enable_tls": False, "connect_timeout": 10,
        },
        "collection_infos": [{"name": n} for n in collections],
        "rpc_channel_info": {"name": f"{source_prefix}-replicate-msg"},
    })


def source_mq_config(stack):
    """The sourceConfig lines of the source's queue: pulsar (upstream keys; milvus-cdc reads
    Pulsar when pulsar.address is set) or kafka (also when the stack names no queue)."""
    if stack.get("source_mq", "kafka") == "pulsar":
        web_host, web_port = stack["pulsar_web"].split("://", 1)[-1].rsplit(":", 1)
        return f"""  pulsar:
    address: {stack["pulsar"]}
    webAddress: {web_host}
    webPort: {web_port}
    tenant: public
    namespace: default
    maxMessageSize: 5242880
"""
    return f"""  kafka:
    address: {stack["kafka"]}
"""


def source_milvus_config(stack):
    """The sourceConfig.milvus lines: the source's proxy, which verify and initial sync's query
    way read (none when the stack does not name the source)."""
    if "source" not in stack:
        return ""
    return f"""  milvus:
    uri: http://{stack["source"]}
    connect_timeout: 10
"""


def write_config(path, port, stack, meta_root):
    """A cdc.yaml with the upstream keys, pointing at the test stack's etcd and the source's
    queue (stack["source_mq"], default kafka)."""
    etcd = stack["etcd"]
    text = f"""address: 127.0.0.1:{port}
maxTaskNum: 100
metaStoreConfig:
  storeType: etcd
  etcdEndpoints:
    - {etcd}
  rootPath: {meta_root}
sourceConfig:
  etcdAddress:
    - {etcd}
  etcdRootPath: {stack["source_etcd_root"]}
  etcdMetaSubPath: meta
  readChanLen: 10
  defaultPartitionName: _default
  replicateChan: {stack["source_prefix"]}-replicate-msg
{source_mq_config(stack)}{source_milvus_config(stack)}maxNameLength: 256
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def replace_meta_store(path, block):
    """Replaces the metaStoreConfig section of the cdc.yaml at path (as write_config wrote it)
    with block, a whole `metaStoreConfig:` section, e.g. a MySQL or another etcd store."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("metaStoreConfig:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")),
               len(lines))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines[:start]) + block.rstrip("\n") + "\n" + "".join(lines[end:]))


def start_own_server(root, env_dir, stack, label, meta_yaml=None, meta_root=None,
                     extra_yaml=None):
    """A milvus-cdc of a test's own (own port, config .cache/env/cdc-LABEL.yaml and log
    logs/cdc-e2e-LABEL.log), on the stack's etcd meta store under its own root, or on the
    given metaStoreConfig section; extra_yaml (top-level sections) is appended to the config.
    Returns (server, None) or (None, why it did not start)."""
    binary = find_binary(root)
    if binary is None:
        return None, "no milvus-cdc binary in the build directory"
    port = free_port()
    cfg = os.path.join(env_dir, f"cdc-{label}.yaml")
    write_config(cfg, port, stack, meta_root=meta_root or f"cdc-{label}")
    if meta_yaml:
        replace_meta_store(cfg, meta_yaml)
    if extra_yaml:
        with open(cfg, "a", encoding="utf-8") as f:
            f.write(extra_yaml.rstrip("\n") + "\n")
    server = CdcServer(binary, cfg, os.path.join(env_dir, "logs", f"cdc-e2e-{label}.log"), port)
    why = server.wait_ready()
    if why:
        server.stop()
        return None, why
    return server, None


class CdcServer:
    """One milvus-cdc process; stop() sends SIGTERM, then SIGKILL after 15 s."""

    def __init__(self, binary, config, log_path, port):
        self.url = f"http://127.0.0.1:{port}/cdc"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([binary, "--config", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def post(self, request_type, request_data=None, timeout=30):
        return post(self.url, request_type, request_data, timeout)

    def wait_ready(self, timeout=20.0):
        return wait_ready(self.url, self.proc, timeout, self.log_path)

    def create_task(self, target_addr, source_prefix, collections=("*",)):
        return create_task(self.url, target_addr, source_prefix, collections)

    def stop_running(self):
        """SIGTERM (SIGKILL after 15 s) and wait; the log stays open for a restart."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        self.stop_running()
        self.log.close()


def find_binary(root):
    build = os.environ.get("CDC_BUILD_DIR", os.path.join(root, "build"))
    path = os.path.join(build, "milvus-cdc")
    return path if os.access(path, os.X_OK) else None
