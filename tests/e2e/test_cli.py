"""`milvus-cdc task ...`, the command-line client (docs/cli.md), run as a user runs it: the real
binary against a real milvus-cdc server of the test's own and the real Milvus pair. A task
created with the CLI replicates a new database; list/get/position show it; pause and resume
change its state on the server; watch --count 2 prints two lines; delete removes it. Exit codes
1 (server error), 2 (usage) and 3 (unreachable) are checked on the way."""
import hashlib
import json
import os
import re
import subprocess
import time

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
            # Replication is asynchronous: the database itself may reach the target a moment
            # after this point (using_database fails until then), so it is part of the wait.
            eventually(lambda: db.using_database(dbname, using=target) is None
                       and utility.has_collection("c1", using=target), f"{dbname}.c1")

            code, out, err = run_cli(base, "list")
            assert code == 0, err
            assert len(out.splitlines()) == 2, out  # the header and this task
            assert out.splitlines()[0].split() == ["TASK", "ID", "STATE", "TARGET", "COLLECTIONS",
                                                   "MAX", "LAG", "REASON"], out
            row = next(line for line in out.splitlines() if line.startswith(task_id))
            assert row.split()[1:4] == ["Running", f"http://{stack['target']}", f"{dbname}.*"]

            # The lag table names the source channels once the task reads c1's (the target
            # can have c1 a moment before).
            eventually(lambda: "rootcoord-dml" in run_cli(base, "get", task_id)[1],
                       "the channels in get's lag table")
            code, out, err = run_cli(base, "get", task_id)
            assert code == 0, err
            assert f"task          {task_id}\n" in out and "state         Running\n" in out, out
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


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in directory)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(directory / "key.pem"),
                    "-out", str(directory / "cert.pem")], check=True, capture_output=True, timeout=30)
    return directory / "cert.pem", directory / "key.pem"


@pytest.mark.own_task
def test_cli_on_a_secured_api_uses_https_and_tokens(stack, names, tmp_path):
    """A server with HTTPS and admin/read tokens (docs/security.md): the CLI reaches it with
    --ca-file and --token-file; no token, a read token on create, and an untrusted certificate
    each fail with the exit code and message docs/cli.md gives."""
    cert, key = make_cert(tmp_path)
    admin, read = "admin-" + names("t"), "read-" + names("t")
    (tmp_path / "admin.token").write_text(admin + "\n")
    (tmp_path / "read.token").write_text(read + "\n")
    sha = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
    extra = (f"api:\n  tls:\n    certPath: {cert}\n    keyPath: {key}\n  auth:\n"
             f"    adminTokenHashes: [{sha(admin)}]\n    readTokenHashes: [{sha(read)}]\n")
    port = cdc.free_port()
    cfg = os.path.join(ENV_DIR, "cdc-cli-tls.yaml")
    cdc.write_config(cfg, port, stack, meta_root=names("cdc-cli-tls"))
    with open(cfg, "a", encoding="utf-8") as f:
        f.write(extra)
    log = os.path.join(ENV_DIR, "logs", "cdc-e2e-cli-tls.log")
    server = cdc.CdcServer(cdc.find_binary(ROOT), cfg, log, port)
    try:
        url = f"https://127.0.0.1:{port}"
        ready = False
        for _ in range(40):  # bounded: 20 s for the server to answer over HTTPS
            code, _, _ = run_cli(url, "list", "--ca-file", str(cert),
                                 "--token-file", str(tmp_path / "read.token"), "--timeout", "2")
            if code == 0:
                ready = True
                break
            time.sleep(0.5)
        assert ready, f"the HTTPS server did not answer list in 20 s (log {log})"

        code, out, err = run_cli(url, "list", "--ca-file", str(cert),
                                 "--token-file", str(tmp_path / "admin.token"))
        assert (code, out) == (0, "no tasks\n"), err
        code, out, err = run_cli(url, "list", "--ca-file", str(cert))
        assert code == 1 and "code 401" in err and "--token-file" in err, (code, err)
        code, out, err = run_cli(
            url, "create", "--ca-file", str(cert), "--token-file", str(tmp_path / "read.token"),
            "--target-uri", f"http://{stack['target']}", "--collections", "*")
        assert code == 1 and "code 403" in err, (code, err)
        code, out, err = run_cli(url, "list", "--token-file", str(tmp_path / "admin.token"))
        assert code == 3 and "certificate is not trusted" in err, (code, err)
        code, out, err = run_cli(url.replace("https", "http"), "list", "--timeout", "3",
                                 "--token-file", str(tmp_path / "admin.token"))
        assert code == 3, (code, err)
    finally:
        server.stop()
