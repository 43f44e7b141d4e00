"""Replication details of the pipeline, checked on the real target: index and load state, and
kill -9 of milvus-cdc mid-stream (restart resumes from the checkpoint, no duplicate keys)."""
import os
import signal
import time

from pymilvus import Collection, utility

import cdc_server as cdc
from seed import FLAT_L2, rows, schema
from test_replication import eventually, target_ids


def test_index_and_load_state_replicate(replicating, source, target, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=1)
    eventually(lambda: utility.has_collection(name, using=target), f"collection {name}")
    c.create_index("vec", FLAT_L2, index_name="vec_idx")
    eventually(lambda: [i.index_name for i in Collection(name, using=target).indexes] ==
               ["vec_idx"], "index vec_idx")
    c.load()
    eventually(lambda: str(utility.load_state(name, using=target)).endswith("Loaded"),
               "load state Loaded")
    c.release()
    eventually(lambda: str(utility.load_state(name, using=target)).endswith("NotLoad"),
               "load state NotLoad")
    c.drop()


def _restart_killed(server):
    """kill -9 the session's milvus-cdc and start it again on the same config and port."""
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    args = server.proc.args
    server.proc = cdc.subprocess.Popen(args, stdout=server.log, stderr=cdc.subprocess.STDOUT)
    assert server.wait_ready(30) is None


def test_kill9_mid_stream_no_loss_no_duplicates(replicating, cdc_server, source, target, names):
    name = names("coll")
    c = Collection(name, schema(), using=source, shards_num=2)
    c.create_index("vec", FLAT_L2)
    c.load()
    eventually(lambda: utility.has_collection(name, using=target), f"collection {name}")
    expected = []
    for batch in range(6):
        ids = list(range(batch * 200, batch * 200 + 200))
        c.insert(rows(ids))
        expected += ids
        if batch in (1, 3):
            time.sleep(0.3)
            _restart_killed(cdc_server)
    eventually(lambda: Collection(name, using=target).num_entities >= 0 and
               len(target_ids(target, name)) >= len(expected), f"{len(expected)} rows")
    got = target_ids(target, name)
    assert len(got) == len(set(got)), f"duplicate primary keys on the target: {len(got)} rows"
    assert got == expected
    c.release()
    c.drop()
