#!/usr/bin/env python3
"""Health check for one test Milvus standalone (run with the harness venv's python).

Healthy means: GET http://127.0.0.1:METRICS_PORT/healthz answers 200 with a JSON body whose
`detail` lists components (an empty list only means they have not registered yet), and the
proxy answers a pymilvus call (list_collections) on 127.0.0.1:PROXY_PORT.

    milvus_ping.py METRICS_PORT PROXY_PORT [--config MILVUS_YAML]   exit 0 when healthy, 1 otherwise

With --config (the instance's rendered milvus.yaml) the call uses what the instance requires:
common.security.tlsMode 1 trusts tls.caPemPath (as server_pem_path) for server name localhost,
tlsMode 2 trusts it as ca_pem_path and adds the harness's client certificate (client.pem and
client.key beside caPemPath), and
common.security.authorizationEnabled logs in as root with the default password Milvus.
"""
import argparse
import json
import os
import sys
import urllib.request
import warnings

warnings.filterwarnings("ignore")


def healthz(metrics_port):
    req = urllib.request.Request(f"http://127.0.0.1:{metrics_port}/healthz",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3) as r:
        body = json.loads(r.read().decode() or "{}")
    if not body.get("detail"):
        raise RuntimeError(f"healthz has no component detail yet: {body}")
    return body


def connect_params(config_path):
    """pymilvus connect() keyword arguments for the instance configured by config_path."""
    if not config_path:
        return {}
    import yaml
    with open(config_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    security = doc.get("common", {}).get("security", {})
    params = {}
    mode = int(security.get("tlsMode") or 0)
    if mode > 0:
        ca = doc["tls"]["caPemPath"]
        params.update(secure=True, server_name="localhost")
        if mode == 2:  # pymilvus sends no client certificate when server_pem_path is set
            pki = os.path.dirname(ca)
            params.update(ca_pem_path=ca, client_pem_path=os.path.join(pki, "client.pem"),
                          client_key_path=os.path.join(pki, "client.key"))
        else:
            params.update(server_pem_path=ca)
    if security.get("authorizationEnabled"):
        params.update(user="root", password="Milvus")
    return params


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("metrics_port")
    ap.add_argument("proxy_port")
    ap.add_argument("--config", help="the instance's milvus.yaml (TLS and authentication)")
    args = ap.parse_args()
    try:
        body = healthz(args.metrics_port)
        from pymilvus import connections, utility
        alias = "ping"
        connections.connect(alias, host="127.0.0.1", port=args.proxy_port, timeout=5,
                            **connect_params(args.config))
        try:
            utility.list_collections(using=alias, timeout=5)
        finally:
            connections.disconnect(alias)
    except Exception as e:  # any failure means "not ready yet"; the caller retries
        print(f"milvus :{args.proxy_port}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"milvus :{args.proxy_port}: ok, healthz {body.get('state')}, "
          f"{len(body['detail'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
