"""What a Milvus 2.3.5 source's bulk insert (import) and compaction leave for milvus-cdc: nothing
on its channels. Imported rows are written straight into segments, so they never reach the
target (the README's stated limit); a compaction changes no row, so there is nothing to
replicate. Rows inserted after both still replicate as usual.
"""
import json
import os
import time

from pymilvus import utility

from conftest import ENV_DIR
from seed import DIM, rows
from test_replication import eventually, loaded_source_collection, target_ids


def source_ids(c):
    return sorted(r["id"] for r in c.query("id >= 0", output_fields=["id"],
                                           consistency_level="Strong"))


def test_bulk_insert_and_compaction_leave_nothing_on_the_stream(replicating, source, target,
                                                                names):
    name = names("bulk")
    c = loaded_source_collection(source, name)
    c.insert(rows(range(10)))
    eventually(lambda: target_ids(target, name) == list(range(10)), "10 inserted rows")

    c.compact()
    c.wait_for_compaction_completed(timeout=60)

    # The harness's source keeps its files on local storage: an absolute path imports.
    path = os.path.join(ENV_DIR, "milvus-source", "data", f"{name}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"rows": [{"id": i, "vec": [float(i)] * DIM} for i in range(100, 110)]}, f)
    job = utility.do_bulk_insert(name, files=[path], using=source)
    state = None
    for _ in range(120):
        state = utility.get_bulk_insert_state(job, using=source)
        if state.state_name in ("Completed", "Failed"):
            break
        time.sleep(0.5)
    assert state.state_name == "Completed", f"bulk insert on the source: {state}"
    eventually(lambda: len(source_ids(c)) == 20, "the imported rows visible on the source")

    # A row inserted after the import: once it is on the target, the stream has passed the
    # import, and the imported rows are not there.
    c.insert(rows([200]))
    eventually(lambda: 200 in target_ids(target, name), "the row inserted after the import")
    assert target_ids(target, name) == list(range(10)) + [200]
    os.remove(path)
    c.release()
    c.drop()
