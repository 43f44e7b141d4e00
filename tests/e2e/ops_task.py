"""A milvus-cdc of a test's own with one Running task that reads a source channel, for the
tests of the status page and of deploy/ (test_status_page.py, test_deploy.py)."""
import contextlib
import json
import time
import urllib.request

from pymilvus import Collection, utility

import cdc_server as cdc
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import schema


def post(server, request_type, data=None, token=None):
    """POST /cdc with an optional bearer token; the JSON answer (HTTP errors raise)."""
    body = {"request_type": request_type}
    if data is not None:
        body["request_data"] = data
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server.url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode())


def get_task(server, task_id, token=None):
    resp = post(server, "get", {"task_id": task_id}, token)
    assert resp.get("code") == 200, f"get {task_id}: {resp}"
    return resp["data"]["task"]


def wait_task(server, task_id, check, what, token=None, timeout=30):
    """The task once check(task) holds; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        task = get_task(server, task_id, token)
        if check(task):
            return task
        assert time.monotonic() < deadline, f"task {task_id}: not {what} within {timeout} s: {task}"
        time.sleep(0.3)


@contextlib.contextmanager
def running_task(stack, source, names, label, extra_yaml=None, token=None):
    """Yields (server, task_id) of a milvus-cdc of its own (config plus extra_yaml) with one
    task replicating a collection of its own, created on the source after the task, once `get`
    shows the task's source channel. The session's task is paused meanwhile; the collection is
    dropped on the source at the end."""
    with paused_session_task():
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, names(label),
                                           extra_yaml=extra_yaml)
        assert server is not None, f"milvus-cdc did not start: {why}"
        name = names(label.replace("-", "_"))
        try:
            host, port = stack["target"].rsplit(":", 1)
            resp = post(server, "create", {
                "milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
                "collection_infos": [{"name": name}],
                "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
            }, token)
            assert resp.get("code") == 200, f"create: {resp}"
            task_id = resp["data"]["task_id"]
            Collection(name, schema(), using=source, shards_num=1)
            wait_task(server, task_id, lambda t: t["state"] == "Running" and t["channels"],
                      "Running with a source channel", token)
            yield server, task_id
        finally:
            if utility.has_collection(name, using=source):
                utility.drop_collection(name, using=source)
            server.stop()
