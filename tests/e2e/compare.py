"""Compares what a user can observe on two Milvus servers (the source and the target of a task).

`snapshot(server, scope)` reads, for every database and collection in scope: the database list;
per collection its DescribeCollection (schema with every field's id, name, type, type and index
params, primary key, auto_id, partition key, dynamic flag, description, default value; the
collection's description, auto_id, dynamic field, properties, consistency level, shards_num,
num_partitions, aliases), its partitions, its indexes (name, field, params), its load state and
each partition's, and, when the collection is loaded there, `count(*)` per collection and per
partition and every primary key with its row (all output fields). `diff(a, b)`
answers a list of readable differences (empty when equal), at most a few keys per item.
`wait_equal` repeats both until they agree or a deadline passes.

Rows are read in primary key ranges of at most CHUNK rows, without relying on the order Milvus
returns them in: a range that answers CHUNK rows is split at the median key found and read again.
The source is read with consistency Strong; the target with consistency Customized and a
guarantee timestamp taken from the source once its reads are done, so a target that has not
applied everything up to that moment waits (or times out) instead of answering old data.
`count(*)` does not merge rows by primary key (a query does), so it catches duplicate rows.

Not compared (they differ between any two clusters): collection and partition ids, channel names,
creation timestamps, start positions, index ids and build progress.

Connections: one pymilvus alias per (server, database), made on first use; `Server.close()`
drops them. Not thread-safe: one thread uses a Server at a time.
"""
import json
import logging
import re
import time

from pymilvus import connections
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

# pymilvus logs every failed RPC at ERROR; failures here are answers (recorded, compared).
logging.getLogger("pymilvus.decorators").setLevel(logging.CRITICAL)

CHUNK = 4000  # rows per query
GUARANTEE_TIMEOUT = 60  # s a target query may wait for its guarantee timestamp
MAX_LISTED = 5  # keys shown per difference


class Server:
    """A Milvus at host:port, by a name used in messages and aliases (e.g. "source")."""

    def __init__(self, name, addr):
        self.name, self.addr = name, addr
        self._aliases = {}

    def alias(self, db="default"):
        """The pymilvus connection alias of database db on this server (made on first use)."""
        alias = self._aliases.get(db)
        if alias is None:
            alias = f"cmp_{self.name}_{id(self)}_{db}"
            host, port = self.addr.rsplit(":", 1)
            connections.connect(alias, host=host, port=port, db_name=db, timeout=30)
            self._aliases[db] = alias
        return alias

    def handler(self, db="default"):
        return connections._fetch_handler(self.alias(db))  # pylint: disable=protected-access

    def stub(self, db="default"):
        return self.handler(db)._stub  # pylint: disable=protected-access

    def close(self):
        for alias in self._aliases.values():
            connections.disconnect(alias)
            connections.remove_connection(alias)
        self._aliases.clear()


class MilvusError(Exception):
    pass


def _check(status, what):
    if status.code != 0 or status.error_code not in (0,):
        raise MilvusError(f"{what}: {status.reason} (code {status.code})")


def everything(db, collection=None):  # pylint: disable=unused-argument
    """The scope of a task `*`: every database and collection."""
    return True


def prefix_scope(prefix):
    """Databases named prefix*, and in `default` the collections named prefix*."""
    def scope(db, collection=None):
        if db.startswith(prefix):
            return True
        return db == "default" and (collection is None or collection.startswith(prefix))
    return scope


# ---------------------------------------------------------------- metadata


def _kv(pairs):
    return {p.key: p.value for p in pairs}


def _default_value(field):
    if not field.HasField("default_value"):
        return None
    which = field.default_value.WhichOneof("data")
    return None if which is None else [which, getattr(field.default_value, which)]


def _field(f):
    return {
        "field_id": f.fieldID,
        "name": f.name,
        "data_type": schema_pb2.DataType.Name(f.data_type),
        "element_type": schema_pb2.DataType.Name(f.element_type),
        "is_primary_key": f.is_primary_key,
        "auto_id": f.autoID,
        "is_partition_key": f.is_partition_key,
        "is_dynamic": f.is_dynamic,
        "description": f.description,
        "type_params": _kv(f.type_params),
        "index_params": _kv(f.index_params),
        "default_value": _default_value(f),
        "state": schema_pb2.FieldState.Name(f.state),
    }


def describe(server, db, name):
    """The user-visible part of DescribeCollection as a dict."""
    resp = server.stub(db).DescribeCollection(
        milvus_pb2.DescribeCollectionRequest(db_name=db, collection_name=name), timeout=30)
    _check(resp.status, f"describe {db}.{name}")
    s = resp.schema
    return {
        "name": resp.collection_name,
        "schema_name": s.name,
        "description": s.description,
        "auto_id": s.autoID,
        "enable_dynamic_field": s.enable_dynamic_field,
        "fields": {f.name: _field(f) for f in s.fields},
        "field_order": [f.name for f in s.fields],
        "shards_num": resp.shards_num,
        "consistency_level": common_pb2.ConsistencyLevel.Name(resp.consistency_level),
        "properties": _kv(resp.properties),
        "num_partitions": resp.num_partitions,
        "aliases": sorted(resp.aliases),
    }


def _primary(desc):
    return next(f for f in desc["fields"].values() if f["is_primary_key"])


def list_databases(server):
    resp = server.stub().ListDatabases(milvus_pb2.ListDatabasesRequest(), timeout=30)
    _check(resp.status, "list databases")
    return sorted(resp.db_names)


def list_collections(server, db):
    resp = server.stub(db).ShowCollections(
        milvus_pb2.ShowCollectionsRequest(db_name=db), timeout=30)
    _check(resp.status, f"list collections of {db}")
    return sorted(resp.collection_names)


def list_partitions(server, db, name):
    resp = server.stub(db).ShowPartitions(
        milvus_pb2.ShowPartitionsRequest(db_name=db, collection_name=name), timeout=30)
    _check(resp.status, f"partitions of {db}.{name}")
    return sorted(resp.partition_names)


def indexes(server, db, name):
    """index name -> {field, params}; {} when the collection has none."""
    resp = server.stub(db).DescribeIndex(
        milvus_pb2.DescribeIndexRequest(db_name=db, collection_name=name, index_name=""),
        timeout=30)
    if resp.status.code == 700 or "index not found" in resp.status.reason:
        return {}
    _check(resp.status, f"indexes of {db}.{name}")
    return {i.index_name: {"field": i.field_name, "params": _kv(i.params)}
            for i in resp.index_descriptions}


def load_state(server, db, name, partitions=()):
    resp = server.stub(db).GetLoadState(milvus_pb2.GetLoadStateRequest(
        db_name=db, collection_name=name, partition_names=list(partitions)), timeout=30)
    _check(resp.status, f"load state of {db}.{name} {list(partitions) or ''}")
    return common_pb2.LoadState.Name(resp.state).replace("LoadState", "")


# ---------------------------------------------------------------- data


def source_ts(server):
    """A fresh timestamp from the server's TSO (AllocTimestamp, in Milvus since 2.3)."""
    resp = server.stub().AllocTimestamp(milvus_pb2.AllocTimestampRequest(), timeout=30)
    _check(resp.status, "allocate a timestamp")
    return resp.timestamp


def _literal(value):
    return json.dumps(value) if isinstance(value, str) else str(int(value))


def _range_expr(pk, lo, hi):
    """pk in [lo, hi); None = unbounded. An INT64 literal -2**63 does not parse in Milvus 2.3
    (it reads 2**63, then negates), so that bound is left out: nothing is below it anyway."""
    parts = []
    if lo is not None and lo != -2**63:
        parts.append(f"{pk} >= {_literal(lo)}")
    if hi is not None:
        parts.append(f"{pk} < {_literal(hi)}")
    return " and ".join(parts) or f"{pk} <= {2**63 - 1}"


class Reader:
    """Queries of one server: Strong, or Customized at a guarantee timestamp. After one query
    ran out of time (the server did not reach the guarantee), the others fail at once."""

    def __init__(self, server, guarantee=None):
        self.server, self.guarantee = server, guarantee
        self.stalled = None

    def query(self, db, name, expr, output_fields, partitions=None, limit=None):
        if self.stalled:
            raise MilvusError(self.stalled)
        kw = {"consistency_level": "Strong"}
        if self.guarantee is not None:
            kw = {"consistency_level": "Customized", "guarantee_timestamp": self.guarantee}
        if limit is not None:
            kw["limit"] = limit
        start = time.monotonic()
        try:
            return self.server.handler(db).query(name, expr, output_fields, partitions,
                                                 timeout=GUARANTEE_TIMEOUT, **kw)
        except Exception as e:
            if time.monotonic() - start >= GUARANTEE_TIMEOUT - 1:
                self.stalled = (f"{self.server.name} did not answer a query at timestamp "
                                f"{self.guarantee} within {GUARANTEE_TIMEOUT} s: {e}")
                raise MilvusError(self.stalled) from e
            raise

    def count(self, db, name, partitions=None):
        got = self.query(db, name, "", ["count(*)"], partitions)
        return got[0]["count(*)"]


def _json_default(value):
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _row_text(row, pk):
    """The row's values but its key, as canonical JSON (compared, and shown when they differ)."""
    body = {k: v for k, v in row.items() if k != pk}
    return json.dumps(body, sort_keys=True, default=_json_default)


def rows(reader, db, name, pk, string_pk):
    """pk -> the row's values (JSON), over every row of the collection, CHUNK keys per query."""
    out = {}
    ranges = [("" if string_pk else None, None)]
    while ranges:
        lo, hi = ranges.pop()
        expr = _range_expr(pk, lo, hi)
        got = reader.query(db, name, expr, ["*"], limit=CHUNK)
        if len(got) < CHUNK:
            for row in got:
                out[row[pk]] = _row_text(row, pk)
            continue
        keys = sorted(r[pk] for r in got)
        mid = keys[len(keys) // 2]
        ranges += [(lo, mid), (mid, hi)]
    return out


# ---------------------------------------------------------------- snapshot


def collection_snapshot(server, db, name, reader, data=True):
    desc = describe(server, db, name)
    parts = list_partitions(server, db, name)
    snap = {"describe": desc, "partitions": parts, "indexes": indexes(server, db, name),
            "load": load_state(server, db, name)}
    # A partition-key collection's partitions are not loaded one by one by users.
    snap["partition_load"] = {p: load_state(server, db, name, [p]) for p in parts}
    if not data:
        return snap
    if snap["load"] != "Loaded":
        snap["data"] = f"not loaded ({snap['load']})"
        return snap
    pk = _primary(desc)
    try:
        snap["count"] = reader.count(db, name)
        if not any(f["is_partition_key"] for f in desc["fields"].values()):
            # (a partition-key collection refuses queries naming partitions)
            snap["partition_count"] = {p: reader.count(db, name, [p]) for p in parts}
        snap["rows"] = rows(reader, db, name, pk["name"], pk["data_type"] == "VarChar")
    except Exception as e:  # pylint: disable=broad-except
        # Ids, node numbers and channel names differ between the two servers; the failure itself
        # must not.
        text = re.sub(r"for channel \S+", "for channel C", str(e))
        text = re.sub(r"(delegator|QueryNode ID =|node) \d+", r"\1 N", text)
        snap["data"] = "query failed: " + re.sub(r"\d{6,}", "ID", text)
    return snap


def snapshot(server, scope=everything, data=True, guarantee=None):
    """Everything in scope on server; data=False leaves out counts and rows."""
    reader = Reader(server, guarantee)
    dbs = [d for d in list_databases(server) if scope(d)]
    out = {"databases": dbs, "collections": {}}
    for db in dbs:
        try:
            names = list_collections(server, db)
        except Exception as e:  # pylint: disable=broad-except
            # e.g. dropped since it was listed: shown as a difference if the other side lists it
            out["collections"][f"{db}.*"] = {"error": f"cannot list collections: {e}"}
            continue
        for name in names:
            if scope(db, name):
                try:
                    out["collections"][f"{db}.{name}"] = collection_snapshot(
                        server, db, name, reader, data)
                except Exception as e:  # pylint: disable=broad-except
                    out["collections"][f"{db}.{name}"] = {"error": str(e)}
    return out


# ---------------------------------------------------------------- diff


def _short(items):
    items = sorted(items, key=repr)
    more = f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return ", ".join(repr(i) for i in items[:MAX_LISTED]) + more


def diff_sets(where, src, dst, what):
    out = []
    only_src, only_dst = set(src) - set(dst), set(dst) - set(src)
    if only_src:
        out.append(f"{where}: {len(only_src)} {what} only on the source: {_short(only_src)}")
    if only_dst:
        out.append(f"{where}: {len(only_dst)} {what} only on the target: {_short(only_dst)}")
    return out


def _diff_values(where, src, dst):
    if isinstance(src, dict) and isinstance(dst, dict):
        out = []
        for key in sorted(set(src) | set(dst), key=str):
            if key not in dst:
                out.append(f"{where}.{key}: only on the source ({src[key]!r})")
            elif key not in src:
                out.append(f"{where}.{key}: only on the target ({dst[key]!r})")
            else:
                out += _diff_values(f"{where}.{key}", src[key], dst[key])
        return out
    if src != dst:
        return [f"{where}: source {src!r}, target {dst!r}"]
    return []


def _diff_rows(where, src, dst):
    out = diff_sets(where, src, dst, "primary keys")
    changed = sorted((k for k in set(src) & set(dst) if src[k] != dst[k]), key=repr)
    if changed:
        out.append(f"{where}: {len(changed)} rows differ in their values: {_short(changed)}")
        for key in changed[:2]:  # which fields, for the first ones
            a, b = json.loads(src[key]), json.loads(dst[key])
            fields = {f: (a.get(f), b.get(f)) for f in sorted(set(a) | set(b))
                      if a.get(f) != b.get(f)}
            out.append(f"{where}: key {key!r}: " + "; ".join(
                f"{f} source {v[0]!r} target {v[1]!r}" for f, v in fields.items()))
    return out


def diff(src, dst):
    """Readable differences between two snapshots (source first); [] when equal."""
    out = diff_sets("databases", src["databases"], dst["databases"], "databases")
    sc, dc = src["collections"], dst["collections"]
    out += diff_sets("collections", sc, dc, "collections")
    for key in sorted(set(sc) & set(dc)):
        a, b = dict(sc[key]), dict(dc[key])
        ra, rb = a.pop("rows", None), b.pop("rows", None)
        if ra is not None and rb is not None:
            out += _diff_rows(f"{key} rows", ra, rb)
        elif (ra is None) != (rb is None):
            out.append(f"{key} rows: read on one side only "
                       f"(source {a.get('data', 'read')}, target {b.get('data', 'read')})")
        out += _diff_values(key, a, b)
    return out


def compare(source, target, scope=everything, data=True):
    """Differences between source and target now (source read first, Strong)."""
    src = snapshot(source, scope, data)
    dst = snapshot(target, scope, data, guarantee=source_ts(source) if data else None)
    return diff(src, dst)


def wait_equal(source, target, scope=everything, timeout=120, data=True, interval=2):
    """[] once source and target agree within timeout s, else the last differences."""
    deadline = time.monotonic() + timeout
    while True:
        diffs = compare(source, target, scope, data)
        if not diffs or time.monotonic() >= deadline:
            return diffs
        time.sleep(interval)

