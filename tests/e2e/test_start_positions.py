"""Start positions (issue 17 item 4): a task created with `positions` (per source vchannel,
base64 MsgPosition, as upstream) and `rpc_channel_info.position` starts exactly there: it
replays what the source wrote after that point (rows, and the index and load requests) and
nothing before it. Bad positions are refused at create, naming the channel, and leave no task.

The point is taken as a user would: from the `position` answer of another task (T1) that had
replicated the first batch. T1 is then deleted and its copy dropped on the target; the task
given the positions (T2) creates the collection on the target itself (as for any collection it
selects) and replays the second batch into it. Runs its own milvus-cdc (the session's task is
paused meanwhile).
"""
import base64

import pytest
from pymilvus import Collection, utility

import cdc_server as cdc
import compare
from conftest import ENV_DIR, ROOT, paused_session_task
from seed import FLAT_L2, rows, schema
from test_replication import eventually
from wire import describe_collection

WAIT = 90  # s for a change to reach the target


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _msg_position(msg_id, channel=""):
    """base64 of MsgPosition{channel_name = 1, msgID = 2}."""
    raw = b""
    if channel:
        raw += b"\x0a" + _varint(len(channel)) + channel.encode()
    raw += b"\x12" + _varint(len(msg_id)) + msg_id
    return base64.b64encode(raw).decode()


def _far_future_id(mq):
    """A message id past the end of any test channel: Kafka offset 10^12 (8 bytes, little
    endian), or Pulsar MessageIdData{ledgerId = 2^40, entryId = 0}."""
    if mq == "kafka":
        return (10 ** 12).to_bytes(8, "little")
    return b"\x08" + _varint(1 << 40) + b"\x10\x00"


def _create(server, stack, body):
    host, port = stack["target"].rsplit(":", 1)
    body = {"milvus_connect_param": {"host": host, "port": int(port), "connect_timeout": 10},
            **body}
    body.setdefault("rpc_channel_info", {})["name"] = f"{stack['source_prefix']}-replicate-msg"
    return server.post("create", body)


def _ids(dst, name):
    got = compare.Reader(dst).query("default", name, "id >= 0", ["id"])
    return sorted(r["id"] for r in got)


def _checkpoint(server, task_id, collection_id, pchannels, after_ts):
    """T1's positions of the collection's pchannels and of the replicate channel, once its
    checkpoint covers `after_ts` on every pchannel; else None."""
    resp = server.post("position", {"task_id": task_id})
    assert resp.get("code") == 200, resp
    mine = {p["channel_name"]: p for p in resp["data"]["positions"] or []
            if p["collection_id"] == collection_id}
    if set(mine) != set(pchannels) or any(p["time"] <= after_ts >> 18 for p in mine.values()):
        return None
    rep = [p for p in resp["data"]["positions"] if p["collection_id"] == -10]
    return {ch: p["msg_id"] for ch, p in mine.items()}, rep[0]["msg_id"]


@pytest.mark.own_task
def test_positions_of_a_past_point_replay_exactly_what_came_after(stack, source, target, names):
    name = names("startpos")
    dst = compare.Server("startpos_target", stack["target"])
    with paused_session_task():
        server, why = cdc.start_own_server(ROOT, ENV_DIR, stack, names("startpos"))
        if why:
            pytest.fail(f"milvus-cdc did not start: {why}")
        try:
            c = Collection(name, schema(), using=source, shards_num=2)
            desc = describe_collection(stack["source"], name)
            cid = desc.collectionID
            vchannels = list(desc.virtual_channel_names)
            pchannels = list(desc.physical_channel_names)
            first = c.insert(rows(range(0, 100)))

            # T1 replicates the first batch; its checkpoint is the point.
            resp = _create(server, stack, {"collection_infos": [{"name": name}]})
            assert resp.get("code") == 200, f"create T1: {resp}"
            t1 = resp["data"]["task_id"]
            point = []
            eventually(lambda: point.append(_checkpoint(server, t1, cid, pchannels,
                                                        first.timestamp)) or
                       point[-1] is not None, "T1's checkpoint past the first batch", WAIT)
            by_pchannel, rpc_position = point[-1]
            positions = {v: by_pchannel[p] for v, p in zip(vchannels, pchannels)}
            assert server.post("delete", {"task_id": t1}).get("code") == 200
            utility.drop_collection(name, using=target)

            # After the point: the index, the load and the second batch.
            c.create_index("vec", FLAT_L2, index_name="vec_idx")
            c.load()
            c.insert(rows(range(1000, 1100)))

            # Bad positions: refused at create, naming the channel, keeping nothing.
            tasks_before = server.post("list", {})["data"]["tasks"]
            other = f"{pchannels[0]}_{cid + 1}v0"
            bad_cases = [
                ({**positions, vchannels[0]: "not base64!"},
                 f"[{vchannels[0]}]: decode position: not base64"),
                ({**positions, vchannels[0]: base64.b64encode(b"\xff\xff\xff").decode()},
                 f"[{vchannels[0]}]: decode position: base64 text is not a serialized "
                 "MsgPosition"),
                ({vchannels[1]: positions[vchannels[1]], other: positions[vchannels[0]]},
                 f"[{other}]: the vchannel belongs to collection id {cid + 1}, but "
                 f"default.{name} is collection id {cid}"),
                ({vchannels[0]: positions[vchannels[0]]},
                 f"no position of {vchannels[1]}; give one for every vchannel"),
                ({**positions, vchannels[0]: _msg_position(b"\x01\x02\x03")},
                 "is not a " + ("Kafka" if stack["source_mq"] == "kafka" else "Pulsar") +
                 " position"),
                ({**positions,
                  vchannels[0]: _msg_position(_far_future_id(stack["source_mq"]))},
                 f"on {pchannels[0]} ({pchannels[0]}@"),
                ({**positions,
                  vchannels[0]: _msg_position(_far_future_id(stack["source_mq"]))},
                 "is past the channel's end"),
            ]
            for bad, want in bad_cases:
                resp = _create(server, stack, {"collection_infos": [{"name": name,
                                                                     "positions": bad}]})
                assert resp.get("code") == 400, (bad, resp)
                assert want in resp["message"], (want, resp)
            resp = _create(server, stack, {"collection_infos": [{"name": name,
                                                                 "positions": positions}],
                                           "rpc_channel_info": {"position": "%%"}})
            assert resp.get("code") == 400, resp
            assert "rpc_channel_info.position: decode position: not base64" in resp["message"]
            assert server.post("list", {})["data"]["tasks"] == tasks_before

            # T2, given the point: exactly the second batch, with the index and the load.
            resp = _create(server, stack, {
                "collection_infos": [{"name": name, "positions": positions}],
                "rpc_channel_info": {"position": rpc_position}})
            assert resp.get("code") == 200, f"create T2: {resp}"
            eventually(lambda: compare.load_state(dst, "default", name) == "Loaded",
                       f"{name} created and loaded by T2", WAIT)
            want = list(range(1000, 1100))
            eventually(lambda: _ids(dst, name) == want, f"{name}: the second batch", WAIT)
            assert compare.Reader(dst).count("default", name) == 100
            assert compare.indexes(dst, "default", name)["vec_idx"]["field"] == "vec"
        finally:
            server.stop()
            dst.close()
        c.release()
        c.drop()
        if utility.has_collection(name, using=target):
            utility.drop_collection(name, using=target)
