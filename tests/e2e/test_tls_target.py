"""Replication into real target Milvus instances with TLS and authentication.

The targets are two extra components of scripts/e2e-env.sh, started by this module and stopped
after it (they are not in the default stack): milvus-target-tls (common.security.tlsMode 1,
server TLS) and milvus-target-mtls (tlsMode 2, mutual TLS), both with authorizationEnabled
(user root, password Milvus) and ttMsgEnabled false, on certificates the harness made with
openssl in $CDC_TEST_TLS_DIR (a CA, a server certificate for 127.0.0.1 and localhost, a client
certificate). Tasks reach them through milvus_connect_param.dial_config and a token; rows are
checked on the TLS target by query; a wrong certificate, server name, client certificate or
token is refused at create with a message naming the target and what to check.

They run in the Kafka pass only: the source's queue does not matter to a target's TLS.
"""
import os
import subprocess
import time

import pytest
from pymilvus import Collection, connections, utility

from conftest import ENV_DIR, MQ, ROOT
from seed import FLAT_L2, rows, schema
from test_replication import eventually, target_ids

pytestmark = pytest.mark.skipif(
    MQ != "kafka", reason="the TLS target tests run in the Kafka pass only (the source's queue "
    "does not matter to a target's TLS)")

COMPONENTS = ("milvus-target-tls", "milvus-target-mtls")
TOKEN = "root:Milvus"  # a 2.3 target with authorizationEnabled starts with this user
CONNECT_TIMEOUT = 3  # seconds, for creates that must fail


def _env_file():
    """The exports of .cache/env/env.sh as a dict."""
    out = {}
    with open(os.path.join(ENV_DIR, "env.sh"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("export ") and "=" in line:
                key, value = line[len("export "):].rstrip("\n").split("=", 1)
                out[key] = value.strip("'")
    return out


def _e2e_env(*args, timeout):
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "e2e-env.sh"), *args], check=True,
                   timeout=timeout, env={**os.environ, "CDC_ENV_DIR": ENV_DIR})


@pytest.fixture(scope="module")
def tls_targets(stack):
    """Addresses and certificates of the two TLS targets, started here if they do not run."""
    started = [c for c in COMPONENTS
               if not os.path.exists(os.path.join(ENV_DIR, "pids", f"{c}.pid"))]
    t0 = time.monotonic()
    if started:
        _e2e_env("up", *started, timeout=600)
    print(f"\nTLS targets up in {time.monotonic() - t0:.1f} s (started: {started or 'none'})")
    env = _env_file()
    yield {
        "tls": env["CDC_TEST_MILVUS_TARGET_TLS"],
        "mtls": env["CDC_TEST_MILVUS_TARGET_MTLS"],
        "pki": env["CDC_TEST_TLS_DIR"],
    }
    if started:
        _e2e_env("down", *started, timeout=120)


@pytest.fixture(scope="module")
def stranger(tmp_path_factory):
    """A CA that signed nothing of the harness's, and a client certificate it signed."""
    d = tmp_path_factory.mktemp("stranger")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (["req", "-x509", *ec, "-days", "1", "-subj", "/CN=stranger CA",
                 "-keyout", "ca.key", "-out", "ca.pem"],
                ["req", *ec, "-subj", "/CN=stranger client", "-keyout", "client.key",
                 "-out", "client.csr"],
                ["x509", "-req", "-days", "1", "-in", "client.csr", "-CA", "ca.pem",
                 "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.pem"]):
        subprocess.run(["openssl", *cmd], cwd=d, check=True, capture_output=True, timeout=30)
    return str(d)


def _one_way(tls_targets, **overrides):
    """milvus_connect_param for the tlsMode 1 target: upstream's one-way TLS fields."""
    p = {"uri": f"https://{tls_targets['tls']}", "token": TOKEN, "connect_timeout": 10,
         "dial_config": {"server_pem_path": os.path.join(tls_targets["pki"], "server.pem"),
                         "server_name": "localhost"}}
    p.update(overrides)
    return p


def _mutual(tls_targets, **dial):
    """milvus_connect_param for the tlsMode 2 target: CA, client certificate and key."""
    pki = tls_targets["pki"]
    d = {"ca_pem_path": os.path.join(pki, "ca.pem"),
         "client_pem_path": os.path.join(pki, "client.pem"),
         "client_key_path": os.path.join(pki, "client.key")}
    d.update(dial)
    return {"uri": f"https://{tls_targets['mtls']}", "token": TOKEN, "connect_timeout": 10,
            "dial_config": d}


def _create(cdc_server, stack, param, collection):
    return cdc_server.post("create", {
        "milvus_connect_param": param,
        "collection_infos": [{"name": collection}],
        "rpc_channel_info": {"name": f"{stack['source_prefix']}-replicate-msg"},
    }, timeout=60)


def _connect(alias, addr, **tls):
    host, port = addr.rsplit(":", 1)
    connections.connect(alias, host=host, port=port, timeout=30, secure=True, user="root",
                        password="Milvus", **tls)
    return alias


def _replicate_and_check(cdc_server, stack, source, names, param, target_alias):
    name = names("tls")
    resp = _create(cdc_server, stack, param, name)
    assert resp.get("code") == 200, resp
    task_id = resp["data"]["task_id"]
    try:
        # The collection reaches the target first: MilvusReplicator does not fix a new task's
        # start at create yet (task::Replicator::FixStart is not overridden), so its pipeline
        # reads the source's replicate channel (index, load) from the latest message once it
        # is set up, which can be after an index made right after create answered.
        c = Collection(name, schema(), using=source, shards_num=1)
        eventually(lambda: utility.has_collection(name, using=target_alias), f"collection {name}")
        c.create_index("vec", FLAT_L2)
        c.load()
        c.insert(rows(range(50)))
        eventually(lambda: target_ids(target_alias, name) == list(range(50)), "50 rows")
        c.delete("id in [0, 1]")
        eventually(lambda: target_ids(target_alias, name) == list(range(2, 50)), "2 deleted rows")
        task = cdc_server.post("get", {"task_id": task_id})["data"]["task"]
        assert task["state"] == "Running", task
        assert "token" not in task["milvus_connect_param"], task  # never shown
        c.release()
        c.drop()
        eventually(lambda: not utility.has_collection(name, using=target_alias), f"drop of {name}")
    finally:
        assert cdc_server.post("delete", {"task_id": task_id}).get("code") == 200


def test_replicates_over_server_tls_with_a_token(cdc_server, stack, source, tls_targets, names):
    alias = _connect("tls_target", tls_targets["tls"], server_name="localhost",
                     server_pem_path=os.path.join(tls_targets["pki"], "ca.pem"))
    try:
        _replicate_and_check(cdc_server, stack, source, names, _one_way(tls_targets), alias)
    finally:
        connections.disconnect(alias)


def test_replicates_over_mutual_tls_with_a_token(cdc_server, stack, source, tls_targets, names):
    pki = tls_targets["pki"]
    alias = _connect("mtls_target", tls_targets["mtls"], server_name="localhost",
                     ca_pem_path=os.path.join(pki, "ca.pem"),
                     client_pem_path=os.path.join(pki, "client.pem"),
                     client_key_path=os.path.join(pki, "client.key"))
    try:
        # No server_name: the uri's 127.0.0.1 is checked against the certificate's IP SAN.
        _replicate_and_check(cdc_server, stack, source, names, _mutual(tls_targets), alias)
    finally:
        connections.disconnect(alias)


def _task_ids(cdc_server):
    return {t["task_id"] for t in cdc_server.post("list")["data"]["tasks"]}


def _refused(cdc_server, stack, param, names, *expected, code=500):
    """create with `param` fails with `code` (400: the target refused the token) within its
    connect timeout (plus margin), stores no task, and the message names the target and holds
    each of `expected`."""
    before = _task_ids(cdc_server)
    param = {**param, "connect_timeout": CONNECT_TIMEOUT}
    t0 = time.monotonic()
    resp = _create(cdc_server, stack, param, names("refused"))
    took = time.monotonic() - t0
    message = resp.get("message", "")
    assert resp.get("code") == code, resp
    assert message.startswith("fail to handle the create request"), resp
    target = param["uri"].split("://", 1)[1]
    assert f"milvus target {target}" in message, resp
    for text in expected:
        assert text in message, resp
    assert took < CONNECT_TIMEOUT + 5, f"create took {took:.1f} s: {resp}"
    assert _task_ids(cdc_server) == before
    print(f"\ncreate refused in {took:.1f} s: {message}")
    return message


def test_certificate_of_another_ca_is_refused_at_create(cdc_server, stack, tls_targets, names,
                                                        stranger):
    bad = _one_way(tls_targets, dial_config={
        "server_pem_path": os.path.join(stranger, "ca.pem"), "server_name": "localhost"})
    _refused(cdc_server, stack, bad, names, "(TLS): TLS handshake refused",
             "certificate verify failed",
             "not signed by a CA in dial_config.ca_pem_path / server_pem_path")


def test_wrong_server_name_is_refused_at_create(cdc_server, stack, tls_targets, names):
    bad = _one_way(tls_targets)
    bad["dial_config"] = {**bad["dial_config"], "server_name": "milvus.example"}
    _refused(cdc_server, stack, bad, names, "(TLS): TLS handshake refused",
             "set dial_config.server_name to a name it holds")


def test_wrong_or_missing_token_is_refused_at_create(cdc_server, stack, tls_targets, names):
    _refused(cdc_server, stack, _one_way(tls_targets, token="root:wrong"), names, "GetVersion",
             "auth check failure", "check the token in milvus_connect_param", code=400)
    _refused(cdc_server, stack, _one_way(tls_targets, token=""), names,
             "missing authorization", "check the token in milvus_connect_param", code=400)
    _refused(cdc_server, stack, _mutual(tls_targets) | {"token": "root:wrong"}, names,
             "check the token in milvus_connect_param", code=400)


def test_missing_or_foreign_client_certificate_is_refused_at_create(cdc_server, stack,
                                                                    tls_targets, names, stranger):
    hint = "check dial_config.client_pem_path and client_key_path"
    _refused(cdc_server, stack, _mutual(tls_targets, client_pem_path="", client_key_path=""),
             names, "(TLS)", hint)
    _refused(cdc_server, stack,
             _mutual(tls_targets, client_pem_path=os.path.join(stranger, "client.pem"),
                     client_key_path=os.path.join(stranger, "client.key")), names, "(TLS)", hint)


def test_plain_text_to_a_tls_target_is_refused_at_create(cdc_server, stack, tls_targets, names):
    plain = {"uri": f"http://{tls_targets['tls']}", "token": TOKEN}
    _refused(cdc_server, stack, plain, names, "use an https:// uri and dial_config")


def test_tls_to_a_plain_text_target_is_refused_at_create(cdc_server, stack, tls_targets, names):
    tls = {"uri": f"https://{stack['target']}", "token": TOKEN,
           "dial_config": {"ca_pem_path": os.path.join(tls_targets["pki"], "ca.pem")}}
    _refused(cdc_server, stack, tls, names, "(TLS): TLS handshake refused", "wrong version number",
             "use an http:// uri without dial_config")
