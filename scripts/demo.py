#!/usr/bin/env python3
"""The body of scripts/demo.sh (run with the harness venv's python): creates a CDC task over
HTTP and shows it, writes vectors into the source Milvus, prints source and target row counts
side by side until they match, then compares a sample of the copied rows field by field.

    demo.py CDC_URL [--cleanup]   addresses come from the CDC_TEST_* variables of
                                  .cache/env/env.sh; --cleanup deletes the task and drops the
                                  demo collection on both sides at the end

Exit code 0 only when every row arrived and the sample is identical.
"""
import argparse
import logging
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # "not loaded yet" while counting
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))

from pymilvus import Collection, connections, utility  # noqa: E402

from cdc_server import create_task, post  # noqa: E402
from seed import FLAT_L2, rows, schema  # noqa: E402

BATCHES, BATCH = 5, 200
WAIT = 120  # seconds for the target to catch up
SAMPLE = 5  # rows compared field by field


def count(alias, name, level):
    if not utility.has_collection(name, using=alias):
        return "-"
    try:
        res = Collection(name, using=alias).query("", output_fields=["count(*)"],
                                                  consistency_level=level, timeout=5)
        return res[0]["count(*)"]
    except Exception:  # exists but not loaded yet, or still catching up
        return "?"


def show_task(url, task_id):
    """Prints the task as `get` answers it: state, target, collections, channels and lag."""
    resp = post(url, "get", {"task_id": task_id})
    if resp.get("code") != 200:
        print(f"demo: get {task_id} failed: {resp}")
        return
    t = resp["data"]["task"]
    target = t.get("milvus_connect_param", {})
    names = [c["name"] for c in t.get("collection_infos") or []]
    print(f"demo: task {t['task_id']}: state {t['state']}"
          f"{', reason ' + t['reason'] if t.get('reason') else ''}")
    print(f"      target {target.get('uri') or target.get('host', '') + ':' + str(target.get('port'))}"
          f", collections {names}")
    for ch in t.get("channels") or []:
        print(f"      channel {ch['channel_name']}: checkpoint {ch.get('checkpoint_time', -1)} ms,"
              f" lag {ch.get('lag_ms', -1)} ms / {ch.get('lag_messages', -1)} messages")


def compare_sample(name, ids):
    """Reads `ids` from both sides; True if every row is present and equal."""
    expr = f"id in {list(ids)}"
    got = {}
    for alias, level in (("source", "Strong"), ("target", "Eventually")):
        res = Collection(name, using=alias).query(expr, output_fields=["id", "vec"],
                                                  consistency_level=level, timeout=10)
        got[alias] = {r["id"]: [round(float(x), 6) for x in r["vec"]] for r in res}
    print(f"{'id':>6}  {'source vec[:3]':<24}  {'target vec[:3]':<24}")
    for i in ids:
        s, t = got["source"].get(i), got["target"].get(i)
        print(f"{i:>6}  {str(s[:3] if s else None):<24}  {str(t[:3] if t else None):<24}")
    return all(got["source"].get(i) is not None and got["source"].get(i) == got["target"].get(i)
               for i in ids)


def run(url, name):
    src, tgt = os.environ["CDC_TEST_MILVUS_SOURCE"], os.environ["CDC_TEST_MILVUS_TARGET"]
    prefix = os.environ["CDC_TEST_MILVUS_SOURCE_PREFIX"]
    resp = create_task(url, tgt, prefix)
    if resp.get("code") != 200:
        print(f"demo: creating the CDC task failed: {resp}")
        return 1, None
    task_id = resp["data"]["task_id"]
    print(f"demo: POST {url} create -> task {task_id} replicates every collection {src} -> {tgt}")
    show_task(url, task_id)

    coll = Collection(name, schema(), using="source", shards_num=1)
    t0 = time.monotonic()
    # Index and load only once the new task replicates the collection: an index created within
    # about a second of a fresh task's first collection was lost (its LoadCollection then
    # failed on the target with "index not found", retried for ever).
    while not utility.has_collection(name, using="target"):
        if time.monotonic() - t0 > WAIT:
            print(f"demo: collection {name} did not appear on the target within {WAIT} s")
            show_task(url, task_id)
            return 1, task_id
        time.sleep(0.5)
    print(f"demo: collection {name} created on the source, on the target after "
          f"{time.monotonic() - t0:.1f} s")
    coll.create_index("vec", FLAT_L2)
    coll.load()
    print(f"demo: indexed and loaded {name} on the source")
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
            break
        time.sleep(2)
    else:
        print(f"demo: the target did not reach {total} rows within {WAIT} s "
              "(see the milvus-cdc log)")
        show_task(url, task_id)
        return 1, task_id
    sample = [0, total // 4, total // 2, 3 * total // 4, total - 1][:SAMPLE]
    if not compare_sample(name, sample):
        print("demo: the sampled rows differ between source and target")
        return 1, task_id
    print(f"demo: the {len(sample)} sampled rows are identical on both sides")
    show_task(url, task_id)
    return 0, task_id


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--cleanup", action="store_true")
    args = ap.parse_args()
    for alias, addr in (("source", os.environ["CDC_TEST_MILVUS_SOURCE"]),
                        ("target", os.environ["CDC_TEST_MILVUS_TARGET"])):
        h, p = addr.rsplit(":", 1)
        connections.connect(alias, host=h, port=p)
    name = f"demo_{int(time.time())}"
    rc, task_id = 1, None
    try:
        rc, task_id = run(args.url, name)
    finally:
        if args.cleanup:
            if task_id:
                post(args.url, "delete", {"task_id": task_id})
            for alias in ("source", "target"):
                if utility.has_collection(name, using=alias):
                    utility.drop_collection(name, using=alias)
            print(f"demo: deleted the task and dropped {name} on both sides")
    return rc


if __name__ == "__main__":
    sys.exit(main())
