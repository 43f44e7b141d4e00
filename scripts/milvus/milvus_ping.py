#!/usr/bin/env python3
"""Health check for one test Milvus standalone (run with the harness venv's python).

Healthy means: GET http://127.0.0.1:METRICS_PORT/healthz answers 200 with a JSON body whose
`detail` lists components (an empty list only means they have not registered yet), and the
proxy answers a pymilvus call (list_collections) on 127.0.0.1:PROXY_PORT.

    milvus_ping.py METRICS_PORT PROXY_PORT      exit 0 when healthy, 1 otherwise
"""
import json
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


def main():
    metrics_port, proxy_port = sys.argv[1], sys.argv[2]
    try:
        body = healthz(metrics_port)
        from pymilvus import connections, utility
        alias = "ping"
        connections.connect(alias, host="127.0.0.1", port=proxy_port, timeout=5)
        try:
            utility.list_collections(using=alias, timeout=5)
        finally:
            connections.disconnect(alias)
    except Exception as e:  # any failure means "not ready yet"; the caller retries
        print(f"milvus :{proxy_port}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"milvus :{proxy_port}: ok, healthz {body.get('state')}, "
          f"{len(body['detail'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
