#!/usr/bin/env python3
"""The body of scripts/demo.sh (run with the harness venv's python): creates a CDC task over
HTTP, writes vectors into the source Milvus and prints source and target row counts side by
side until they match.

    demo.py CDC_URL        addresses come from the CDC_TEST_* variables of .cache/env/env.sh
"""
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))

from pymilvus import Collection, connections, utility  # noqa: E402

from cdc_server import create_task  # noqa: E402
from seed import FLAT_L2, rows, schema  # noqa: E402

BATCHES, BATCH = 5, 200
WAIT = 120  # seconds for the target to catch up


def count(alias, name, level):
    if not utility.has_collection(name, using=alias):
        return "-"
    try:
        res = Collection(name, using=alias).query("", output_fields=["count(*)"],
                                                  consistency_level=level, timeout=5)
        return res[0]["count(*)"]
    except Exception:  # exists but not loaded yet, or still catching up
        return "?"


def main():
    url = sys.argv[1]
    src, tgt = os.environ["CDC_TEST_MILVUS_SOURCE"], os.environ["CDC_TEST_MILVUS_TARGET"]
    prefix = os.environ["CDC_TEST_MILVUS_SOURCE_PREFIX"]
    resp = create_task(url, tgt, prefix)
    if resp.get("code") != 200:
        print(f"demo: creating the CDC task failed: {resp}")
        return 1
    print(f"demo: CDC task {resp['data']['task_id']} replicates {src} -> {tgt}")

    for alias, addr in (("source", src), ("target", tgt)):
        h, p = addr.rsplit(":", 1)
        connections.connect(alias, host=h, port=p)
    name = f"demo_{int(time.time())}"
    coll = Collection(name, schema(), using="source", shards_num=1)
    coll.create_index("vec", FLAT_L2)
    coll.load()
    print(f"demo: created, indexed and loaded collection {name} on the source")
    print(f"{'second':>6}  {'source rows':>11}  {'target rows':>11}")
    start = time.monotonic()
    for b in range(BATCHES):
        coll.insert(rows(range(b * BATCH, (b + 1) * BATCH)))
        print(f"{int(time.monotonic() - start):>6}  {count('source', name, 'Strong'):>11}  "
              f"{count('target', name, 'Eventually'):>11}")
        time.sleep(1)
    total = BATCHES * BATCH
    while time.monotonic() - start < WAIT:
        t = count("target", name, "Eventually")
        print(f"{int(time.monotonic() - start):>6}  {count('source', name, 'Strong'):>11}  {t:>11}")
        if t == total:
            print(f"demo: all {total} rows arrived in the target")
            return 0
        time.sleep(2)
    print(f"demo: the target did not reach {total} rows within {WAIT} s (see the milvus-cdc log)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
