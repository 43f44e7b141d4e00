"""`milvus-cdc task ...`, the command-line client (docs/cli.md), run as a user runs it: the real
binary against a real milvus-cdc server of the test's own and the real Milvus pair. A task
created with the CLI replicates a new database; list/get/position show it; pause and resume
change its state on the server; watch --count 2 prints two lines; delete removes it. Exit codes
1 (server error), 2 (usage) and 3 (unreachable) are checked on the way."""
import json
import os
import re
import subprocess

import pytest
from pymilvus import Collection, db, utility

import cdc_server as cdc
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import rows, schema
from test_replication import eventually


def run_cli(server_url, *args, timeout=60):
    """Runs `milvus-cdc task ARGS` against server_url; returns (exit code, stdout, stderr)."""
    binary = cdc.find_binary(ROOT)
    env = {**os.environ, "MILVUS_CDC_SERVER": server_url}
    env.pop("MILVUS_CDC_TOKEN", None)
    p = subprocess.run([binary, "task", *args], capture_output=True, text=True,
                       timeout=timeout, env=env, check=False)
    return p.returncode, p.stdout, p.stderr


def api_state(server, task_id):
    resp = server.post("get", {"task_id": task_id})
    assert resp.get("code") == 200, resp
    return resp["data"]["task"]["state"]


def drop_database(alias, dbname):
    """Drops the test's database with its collections and leaves the alias on default."""
    if dbname in db.list_database(using=alias):
        db.using_database(dbname, using=alias)
        for name in utility.list_collections(using=alias):
            utility.drop_collection(name, using=alias)
        db.using_database("default", using=alias)
        db.drop_database(dbname, using=alias)
    db.using_database("default", using=alias)


@pytest.mark.own_task
def test_cli_drives_a_task_through_its_life(stack, source, target, names, tmp_path):
    dbname = names("clidb")
    with paused_session_task():
        # Its own meta root: the server starts with no task, and list shows only this one.
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, "cli", meta_root=names("cdc-cli"))
        if why:
            pytest.fail(f"milvus-cdc for the CLI test did not start: {why}")
        base = server.url.rsplit("/cdc", 1)[0]
        try:
            token = tmp_path / "target.token"
            token.write_text("root:Milvus\n")
            code, out, err = run_cli(
                base, "create", "--target-uri", f"http://{stack['target']}",
                "--target-token-file", str(token), "--collections", f"{dbname}.*",
                "--rpc-channel", f"{stack['source_prefix']}-replicate-msg",
                "--connect-timeout", "10")
            assert code == 0, err
            task_id = out.strip()
            assert re.fullmatch(r"[0-9a-f]{32}", task_id), out

            # The task replicates: a collection of the new database reaches the target.
            db.create_database(dbname, using=source)
            db.using_database(dbname, using=source)
            Collection("c1", schema(), using=source, shards_num=1).insert(rows(range(10)))
            db.using_database(dbname, using=target)
            eventually(lambda: utility.has_collection("c1", using=target), f"{dbname}.c1")

            code, out, err = run_cli(base, "list")
            assert code == 0, err
            assert len(out.splitlines()) == 2, out  # the header and this task
            assert out.splitlines()[0].split() == ["TASK", "ID", "STATE", "TARGET", "COLLECTIONS",
                                                   "MAX", "LAG", "REASON"], out
            row = next(line for line in out.splitlines() if line.startswith(task_id))
            assert row.split()[1:4] == ["Running", f"http://{stack['target']}", f"{dbname}.*"]

            code, out, err = run_cli(base, "get", task_id)
            assert code == 0, err
            assert f"task          {task_id}\n" in out and "state         Running\n" in out, out
            assert "rootcoord-dml" in out, out  # the lag table names the source channels
            code, out, err = run_cli(base, "--json", "get", task_id)
            assert code == 0, err
            answer = json.loads(out)
            assert answer["code"] == 200 and answer["data"]["task"]["task_id"] == task_id
            assert "token" not in answer["data"]["task"]["milvus_connect_param"]
            assert "root:Milvus" not in out

            code, out, err = run_cli(base, "position", task_id)
            assert code == 0, err
            assert out.startswith("CHANNEL"), out

            code, out, err = run_cli(base, "pause", task_id)
            assert (code, out) == (0, f"paused {task_id}\n"), err
            assert api_state(server, task_id) == "Paused"
            code, out, err = run_cli(base, "pause", task_id)  # the server refuses: exit 1
            assert code == 1 and out == "", (code, out)
            assert err == ("pause: code 400: fail to handle the pause request, error: the task has "
                           f"paused, task_id: {task_id}\n"), err
            code, out, err = run_cli(base, "resume", task_id)
            assert (code, out) == (0, f"resumed {task_id}\n"), err
            assert api_state(server, task_id) == "Running"

            code, out, err = run_cli(base, "watch", task_id, "--count", "2", "--interval", "0.5")
            assert code == 0, err
            lines = out.splitlines()
            assert len(lines) == 2, out
            assert all(f"task={task_id} state=Running" in line for line in lines), out

            code, _, err = run_cli(base, "get")  # no ID: usage error, nothing sent
            assert code == 2 and "ID is required" in err, err
            code, _, err = run_cli(f"http://127.0.0.1:{cdc.free_port()}", "list", "--timeout", "3")
            assert code == 3 and "cannot reach the milvus-cdc server at http://127.0.0.1:" in err

            code, out, err = run_cli(base, "delete", task_id)
            assert (code, out) == (0, f"deleted {task_id}\n"), err
            resp = server.post("list")
            assert resp.get("code") == 200 and resp["data"]["tasks"] == [], resp
            code, _, err = run_cli(base, "get", task_id)
            assert code == 1 and "not found" in err, err
        finally:
            server.stop()
            for alias in (source, target):
                drop_database(alias, dbname)
