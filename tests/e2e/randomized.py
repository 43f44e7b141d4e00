"""Seeded random operations on a real source Milvus 2.3, with a model of what exists there.

`random_spec` draws a collection schema of any kind a 2.3.5 source holds (every scalar type,
ARRAY, JSON, FLOAT_VECTOR or BINARY_VECTOR, INT64 or VARCHAR primary key, auto_id, partition key
with num_partitions, dynamic field, descriptions, default values, a TTL property, consistency
level, 1-4 shards); `create_request` turns it into a raw CreateCollection request (pymilvus 2.3.8
cannot send default values; the 2.3.5 server keeps them). `random_row` draws a row for it.

`Generator` issues operations back to back (no waits: loads, index builds and flushes are not
awaited) on the source: create/drop database, create/drop collection, create/drop partition,
create/drop index, load/release of collections and partitions, flush, insert, delete, upsert, and
`kill` (a callback: SIGKILL and restart of milvus-cdc). Which operation comes next, and with which
arguments, depends only on the seed and the model, so a seed replays the same sequence (the
values auto_id keys get and the moments milvus-cdc restarts at vary). The model (`Model`) tracks
databases, collections, partitions, indexes, load state and the primary keys of the rows, from
the operations the source accepted; the generator picks valid operations from it and, with a
small probability, one the source refuses (load without an index, a second index on a field,
dropping a loaded partition, ...): a refusal is recorded in the op log, and the model does not
change. Every operation is one line of the op log (`Generator.log`), refusals included.

Source rules checked on Milvus 2.3.5 (the model follows them): load needs an index on the
vector field; a field takes one index (the same one again is accepted); an index cannot be
dropped while the collection is loaded, nor a partition while it is loaded; a partition created
while the collection is loaded by LoadCollection is loaded too; a partition-key collection takes
no CreatePartition and no partition name on insert; upsert is refused on an auto_id collection
and replaces every copy of the key; a database is dropped only when empty, `default` never.
Scalar indexes: STL_SORT on numbers, Trie on VARCHAR, none on BOOL, JSON, ARRAY.
"""
import json
import random
import string
import time

from pymilvus import Collection
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

import compare

SCALARS = ["BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT", "DOUBLE", "VARCHAR", "JSON",
           "ARRAY"]
ARRAY_ELEMENTS = ["BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT", "DOUBLE", "VARCHAR"]
CONSISTENCY = ["Strong", "Session", "Bounded", "Eventually"]
PROTO_TYPE = {"BOOL": "Bool", "INT8": "Int8", "INT16": "Int16", "INT32": "Int32",
              "INT64": "Int64", "FLOAT": "Float", "DOUBLE": "Double", "VARCHAR": "VarChar",
              "JSON": "JSON", "ARRAY": "Array", "FLOAT_VECTOR": "FloatVector",
              "BINARY_VECTOR": "BinaryVector"}
INT_RANGE = {"INT8": 127, "INT16": 32767, "INT32": 2**31 - 1, "INT64": 2**62}
DEFAULT_ONEOF = {"BOOL": "bool_data", "INT8": "int_data", "INT16": "int_data",
                 "INT32": "int_data", "INT64": "long_data", "FLOAT": "float_data",
                 "DOUBLE": "double_data", "VARCHAR": "string_data"}

# Every feature the generator can leave out (CDC_RANDOM_EXCLUDE, to narrow a finding down).
# "back_to_back": without it, the generator sleeps CREATE_PAUSE s after each create of a
# database, collection or partition (to tell a finding from the known catalog-lag family).
FEATURES = ["dynamic", "partition_key", "auto_id", "varchar_pk", "defaults", "properties",
            "binary_vector", "array", "json", "partition_load", "upsert", "database", "kill",
            "invalid", "drop_collection", "drop_partition", "index", "flush", "delete",
            "back_to_back"]
CREATE_PAUSE = 2.0


# ---------------------------------------------------------------- schemas


def _word(rng, n=6):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def _scalar_field(rng, name, dtype, features):
    f = {"name": name, "type": dtype, "description": rng.choice(["", f"the {name} field"])}
    if dtype == "VARCHAR":
        f["max_length"] = rng.choice([8, 32, 256])
    if dtype == "ARRAY":
        f["element_type"] = rng.choice(ARRAY_ELEMENTS)
        f["max_capacity"] = rng.choice([1, 4, 16])
        if f["element_type"] == "VARCHAR":
            f["max_length"] = rng.choice([8, 32])
    if dtype in DEFAULT_ONEOF and "defaults" in features and rng.random() < 0.3:
        f["default"] = _value(rng, f)
    return f


def random_spec(rng, name, features=frozenset(FEATURES), **force):
    """A collection schema as a plain dict; force overrides any top-level choice, e.g.
    vector="BINARY_VECTOR", pk="VARCHAR", auto_id=True, dynamic=True, partition_key="INT64",
    num_partitions=8, shards=2, consistency="Strong", ttl=3600, scalars=[...]."""
    def pick(key, choose):
        return force[key] if key in force else choose()

    vector = pick("vector", lambda: "BINARY_VECTOR" if "binary_vector" in features and
                  rng.random() < 0.25 else "FLOAT_VECTOR")
    pk_type = pick("pk", lambda: "VARCHAR" if "varchar_pk" in features and rng.random() < 0.3
                   else "INT64")
    allowed = [t for t in SCALARS if t.lower() in features or t not in ("ARRAY", "JSON")]
    scalars = pick("scalars", lambda: rng.sample(allowed, rng.randint(0, 4)))
    pk = {"name": "pk", "type": pk_type, "primary": True,
          "auto_id": pick("auto_id", lambda: "auto_id" in features and rng.random() < 0.2),
          "description": rng.choice(["", "primary key"])}
    if pk_type == "VARCHAR":
        pk["max_length"] = 64
    fields = [pk]
    fields += [_scalar_field(rng, f"f_{t.lower()}_{i}", t, features) for i, t in
               enumerate(scalars)]
    fields.append({"name": "vec", "type": vector,
                   "dim": rng.choice([8, 16, 32] if vector == "BINARY_VECTOR" else [2, 4, 8]),
                   "description": rng.choice(["", "the vector"])})
    part_key = pick("partition_key", lambda: rng.choice(["INT64", "VARCHAR"]) if
                    "partition_key" in features and rng.random() < 0.2 else None)
    spec = {
        "name": name,
        "description": rng.choice(["", f"collection {name}", "ünïcode ✓ description"]),
        "fields": fields,
        "dynamic": pick("dynamic", lambda: "dynamic" in features and rng.random() < 0.3),
        "shards": pick("shards", lambda: rng.randint(1, 4)),
        "consistency": pick("consistency", lambda: rng.choice(CONSISTENCY)),
        "properties": {},
        "num_partitions": 0,
    }
    ttl = pick("ttl", lambda: rng.choice([3600, 86400]) if "properties" in features and
               rng.random() < 0.2 else None)
    if ttl:
        spec["properties"]["collection.ttl.seconds"] = str(ttl)
    if part_key:
        f = {"name": "part", "type": part_key, "partition_key": True, "description": ""}
        if part_key == "VARCHAR":
            f["max_length"] = 16
        fields.insert(1, f)
        spec["num_partitions"] = pick("num_partitions", lambda: rng.choice([1, 4, 16]))
    return spec


def _add_params(field_pb, f):
    for key in ("dim", "max_length", "max_capacity"):
        if key in f:
            field_pb.type_params.add(key=key, value=str(f[key]))


def spec_schema(spec):
    """The spec as a schema_pb2.CollectionSchema."""
    schema = schema_pb2.CollectionSchema(name=spec["name"], description=spec["description"],
                                         enable_dynamic_field=spec["dynamic"])
    for f in spec["fields"]:
        fp = schema.fields.add(name=f["name"], description=f.get("description", ""),
                               data_type=schema_pb2.DataType.Value(PROTO_TYPE[f["type"]]),
                               is_primary_key=f.get("primary", False),
                               autoID=f.get("auto_id", False),
                               is_partition_key=f.get("partition_key", False))
        if "element_type" in f:
            fp.element_type = schema_pb2.DataType.Value(PROTO_TYPE[f["element_type"]])
        _add_params(fp, f)
        if "default" in f:
            setattr(fp.default_value, DEFAULT_ONEOF[f["type"]], f["default"])
    if any(f.get("auto_id") for f in spec["fields"]):
        schema.autoID = True
    return schema


def create_request(spec, db):
    req = milvus_pb2.CreateCollectionRequest(
        db_name=db, collection_name=spec["name"], schema=spec_schema(spec).SerializeToString(),
        shards_num=spec["shards"],
        consistency_level=common_pb2.ConsistencyLevel.Value(spec["consistency"]),
        num_partitions=spec["num_partitions"])
    for k, v in spec["properties"].items():
        req.properties.add(key=k, value=v)
    return req


def _value(rng, f, kind=None):
    kind = kind or f["type"]
    if kind == "BOOL":
        return rng.random() < 0.5
    if kind in INT_RANGE:
        top = INT_RANGE[kind]
        return rng.randint(-top - 1, top) if rng.random() < 0.2 else rng.randint(-100, 100)
    if kind in ("FLOAT", "DOUBLE"):
        return rng.randint(-4000, 4000) / 8  # exact in float32: compares equal on both ends
    if kind == "VARCHAR":
        return _word(rng, rng.randint(0, min(8, f.get("max_length", 8))))
    if kind == "JSON":
        return {"n": rng.randint(0, 9), "s": _word(rng, 3), "l": [rng.randint(0, 5), "x"],
                "o": {"b": rng.random() < 0.5}}
    if kind == "ARRAY":
        return [_value(rng, f, f["element_type"]) for _ in range(rng.randint(0, f["max_capacity"]))]
    if kind == "FLOAT_VECTOR":
        return [rng.randint(-64, 64) / 16 for _ in range(f["dim"])]
    if kind == "BINARY_VECTOR":
        return bytes(rng.randrange(256) for _ in range(f["dim"] // 8))
    raise ValueError(f"no values for type {kind}")


def random_row(rng, spec, pk=None):
    """One row (a dict) for spec; pk None leaves out an auto_id key."""
    row = {}
    for f in spec["fields"]:
        if f.get("primary"):
            if pk is not None:
                row[f["name"]] = pk
        else:
            row[f["name"]] = _value(rng, f)
    if spec["dynamic"] and rng.random() < 0.7:
        for key in rng.sample(["color", "n", "tags", "extra"], rng.randint(1, 3)):
            row[key] = _value(rng, {}, rng.choice(["INT64", "VARCHAR", "JSON", "BOOL"]))
    return row


def _field(spec, name):
    return next(f for f in spec["fields"] if f["name"] == name)


def pk_field(spec):
    return next(f for f in spec["fields"] if f.get("primary"))


def vector_field(spec):
    return next(f for f in spec["fields"] if f["type"].endswith("VECTOR"))


def index_choices(f):
    """Index params a 2.3.5 server takes on field f (a spec field); [] when none."""
    t = f["type"]
    if t == "FLOAT_VECTOR":
        metric = ["L2", "IP", "COSINE"]
        return [{"index_type": "FLAT", "metric_type": m, "params": {}} for m in metric] + [
            {"index_type": "IVF_FLAT", "metric_type": "L2", "params": {"nlist": 8}},
            {"index_type": "IVF_SQ8", "metric_type": "IP", "params": {"nlist": 4}},
            {"index_type": "HNSW", "metric_type": "COSINE",
             "params": {"M": 8, "efConstruction": 32}}]
    if t == "BINARY_VECTOR":
        return [{"index_type": "BIN_FLAT", "metric_type": "HAMMING", "params": {}},
                {"index_type": "BIN_FLAT", "metric_type": "JACCARD", "params": {}},
                {"index_type": "BIN_IVF_FLAT", "metric_type": "HAMMING", "params": {"nlist": 4}}]
    if t in ("INT8", "INT16", "INT32", "INT64", "FLOAT", "DOUBLE"):
        return [{"index_type": "STL_SORT"}]
    if t == "VARCHAR":
        return [{"index_type": "Trie"}]
    return []


# ---------------------------------------------------------------- model


class CollectionModel:
    """What the source holds for one collection, from the operations it accepted."""

    def __init__(self, spec):
        self.spec = spec
        self.partitions = {} if spec["num_partitions"] else {"_default": False}  # name: loaded
        self.load_type = None  # None, "collection" (LoadCollection) or "partitions"
        self.indexes = {}  # field name -> (index name, params)
        self.loaded_indexes = []  # fields with an index when it was loaded
        self.rows = {}  # pk -> partitions of its copies ("" for a partition-key collection)
        self.values = {}  # pk -> the row its copies hold
        self.next_pk = 0

    @property
    def loaded(self):
        return self.load_type is not None

    @property
    def partition_key(self):
        return bool(self.spec["num_partitions"])

    @property
    def auto_id(self):
        return pk_field(self.spec).get("auto_id", False)

    def new_pk(self):
        self.next_pk += 1
        if pk_field(self.spec)["type"] == "VARCHAR":
            return f"k{self.next_pk:06d}"
        return self.next_pk

    def count(self):
        return sum(len(v) for v in self.rows.values())


class Model:
    """Databases -> collection name -> CollectionModel, for the generator's scope only."""

    def __init__(self):
        self.dbs = {"default": {}}

    def collections(self):
        return [(db, name, c) for db in sorted(self.dbs)
                for name, c in sorted(self.dbs[db].items())]

    def expected(self):
        """What the source should show (compare.snapshot's shape, the parts the model knows)."""
        out = {}
        for db, name, c in self.collections():
            out[f"{db}.{name}"] = {
                "partitions": sorted(c.partitions) if not c.partition_key else None,
                "index_fields": sorted(c.indexes),
                "load": "Loaded" if c.loaded else "NotLoad",
                "count": c.count(),
                "pks": sorted(c.rows),
            }
        return out


def model_differences(model, snap):
    """Where the source (a compare.snapshot of the generator's scope) differs from the model:
    a harness mistake, not a CDC one."""
    out = []
    dbs = sorted(d for d in model.dbs if d != "default")
    got_dbs = sorted(d for d in snap["databases"] if d != "default")
    if dbs != got_dbs:
        out.append(f"model databases {dbs}, source {got_dbs}")
    exp = model.expected()
    got = snap["collections"]
    for key in sorted(set(exp) | set(got)):
        if key not in got or key not in exp:
            out.append(f"{key}: on the {'source' if key in got else 'model'} only")
            continue
        e, g = exp[key], got[key]
        if "error" in g:
            out.append(f"{key}: {g['error']}")
            continue
        facts = {"index_fields": sorted(i["field"] for i in g["indexes"].values()),
                 "load": g["load"].replace("Loading", "Loaded"),  # the model knows requests
                 "partitions": g["partitions"]}
        for k, v in facts.items():
            if e[k] is not None and e[k] != v:
                out.append(f"{key} {k}: model {e[k]}, source {v}")
        if "rows" in g:
            if e["count"] != g["count"]:
                out.append(f"{key} count(*): model {e['count']}, source {g['count']}")
            if e["pks"] != sorted(g["rows"]):
                out += compare.diff_sets(f"{key} pks (model vs source)", e["pks"], g["rows"],
                                         "keys")
    return out


# ---------------------------------------------------------------- operations


WEIGHTS = {
    "create_database": 2, "drop_database": 1, "create_collection": 6, "drop_collection": 2,
    "create_partition": 3, "drop_partition": 2, "create_index": 6, "drop_index": 2,
    "load": 5, "release": 2, "load_partitions": 2, "release_partitions": 2, "flush": 3,
    "insert": 24, "delete": 8, "upsert": 6, "kill": 2,
}
FEATURE_OF = {"create_database": "database", "drop_database": "database",
              "drop_collection": "drop_collection", "drop_partition": "drop_partition",
              "create_index": "index", "drop_index": "index", "load_partitions": "partition_load",
              "release_partitions": "partition_load", "flush": "flush", "delete": "delete",
              "upsert": "upsert", "kill": "kill"}
MAX_COLLECTIONS = 8
MAX_DATABASES = 3


class Refused(Exception):
    """The source refused an operation (recorded, not replicated)."""


def _status(resp):
    status = getattr(resp, "status", resp)
    if status.code != 0 or status.error_code != 0:
        raise Refused(f"{status.reason} (code {status.code or status.error_code})")


def _expr_in(pk_name, keys):
    return f"{pk_name} in {json.dumps(list(keys))}"


class Generator:
    """Random operations on `server` (a compare.Server for the source) within names starting
    with prefix; kill() is called for a `kill` operation."""

    def __init__(self, seed, server, prefix, kill=None, features=frozenset(FEATURES),
                 log=None):
        self.rng = random.Random(seed)
        self.server, self.prefix, self.kill_cb = server, prefix, kill
        self.features = frozenset(features)
        self.model = Model()
        self.log = log if log is not None else []
        self.counts = {"ok": 0, "refused": 0, "unexpected": 0}
        self._objects = {}  # (db, name) -> pymilvus Collection (for DML)
        self._serial = 0
        self._finishing = False
        self._flushes = []  # (op number, collection, future) of flushes not answered yet

    # -- helpers

    def _name(self, what):
        self._serial += 1
        return f"{self.prefix}{what}{self._serial}"

    def _coll(self, db, name):
        key = (db, name)
        if key not in self._objects:
            self._objects[key] = Collection(name, using=self.server.alias(db))
        return self._objects[key]

    def _stub(self, db):
        return self.server.stub(db)

    def _record(self, text, ok, expected_ok, error=""):
        tag = "ok" if ok else "refused"
        if ok != expected_ok:
            self.counts["unexpected"] += 1
            tag = "UNEXPECTED " + ("accepted" if ok else "refusal")
        self.counts["ok" if ok else "refused"] += 1
        line = f"#{len(self.log) + 1} {text}: {tag}" + (f" ({error})" if error else "")
        self.log.append(line)

    def _run(self, text, call, apply=None, valid=True):
        """Issues call(); on success applies the model change. Returns True on success."""
        try:
            call()
        except Exception as e:  # pylint: disable=broad-except
            self._record(text, False, valid, str(e).replace("\n", " ")[:300])
            return False
        if apply:
            apply()
        self._record(text, True, valid)
        if text.startswith("create ") and not text.startswith("create index") and \
                "back_to_back" not in self.features:
            time.sleep(CREATE_PAUSE)
        return True

    # -- choice

    def step(self):
        ops = self._candidates()
        names = sorted(ops)
        weights = [WEIGHTS[n] for n in names]
        if len(self.model.collections()) < 3 and "create_collection" in ops:  # spread out
            weights[names.index("create_collection")] *= 4
        op = self.rng.choices(names, weights)[0]
        getattr(self, "op_" + op)(ops[op])

    def _candidates(self):
        m, ops = self.model, {}
        colls = m.collections()
        n_colls = len(colls)

        def add(name, cands=True):
            feature = FEATURE_OF.get(name)
            if cands and (feature is None or feature in self.features):
                ops[name] = cands

        add("create_database", len(m.dbs) <= MAX_DATABASES)
        add("drop_database", [d for d in m.dbs if d != "default"])
        add("create_collection", n_colls < MAX_COLLECTIONS)
        add("drop_collection", colls)
        add("create_partition", [x for x in colls if not x[2].partition_key])
        add("drop_partition", [x for x in colls if not x[2].partition_key and
                               len(x[2].partitions) > 1])
        add("create_index", colls)
        add("drop_index", [x for x in colls if x[2].indexes])
        add("load", colls)
        add("release", colls)
        add("load_partitions", [x for x in colls if not x[2].partition_key and
                                self._has_vector_index(x[2])])
        add("release_partitions", [x for x in colls if not x[2].partition_key and x[2].loaded])
        add("flush", colls)
        add("insert", colls)
        add("delete", [x for x in colls if x[2].rows])
        add("upsert", [x for x in colls if not x[2].auto_id])
        add("kill", self.kill_cb is not None)
        if not ops:
            ops["create_collection"] = True
        return ops

    def _invalid(self):
        """Whether to issue an operation the source refuses instead (5%; never in finish)."""
        return "invalid" in self.features and not self._finishing and self.rng.random() < 0.05

    # -- databases

    def op_create_database(self, _):
        name = self._name("db")
        self._run(f"create database {name}",
                  lambda: _status(self._stub("default").CreateDatabase(
                      milvus_pb2.CreateDatabaseRequest(db_name=name), timeout=30)),
                  lambda: self.model.dbs.setdefault(name, {}))

    def op_drop_database(self, dbs):
        db = self.rng.choice(sorted(dbs))
        if self.model.dbs[db] and not self._invalid():
            for name in sorted(self.model.dbs[db]):  # back to back: drop them, then the db
                self._drop_collection(db, name)
        valid = not self.model.dbs[db]

        def apply():
            self.model.dbs.pop(db)
            for key in [k for k in self._objects if k[0] == db]:
                self._objects.pop(key)

        self._run(f"drop database {db}", lambda: _status(self._stub("default").DropDatabase(
            milvus_pb2.DropDatabaseRequest(db_name=db), timeout=30)), apply, valid)

    # -- collections

    def op_create_collection(self, _):
        db = self.rng.choice(sorted(self.model.dbs))
        spec = random_spec(self.rng, self._name("c"), self.features)
        if "partition_key" not in self.features:
            spec["num_partitions"] = 0
        text = f"create collection {db}.{spec['name']} {json.dumps(spec, sort_keys=True)}"
        self._run(text, lambda: _status(self._stub(db).CreateCollection(
            create_request(spec, db), timeout=30)),
            lambda: self.model.dbs[db].__setitem__(spec["name"], CollectionModel(spec)))

    def _drop_collection(self, db, name):
        def apply():
            self.model.dbs[db].pop(name)
            self._objects.pop((db, name), None)

        self._run(f"drop collection {db}.{name}", lambda: _status(self._stub(db).DropCollection(
            milvus_pb2.DropCollectionRequest(db_name=db, collection_name=name), timeout=30)),
            apply)

    def op_drop_collection(self, colls):
        db, name, _ = self.rng.choice(colls)
        self._drop_collection(db, name)

    # -- partitions

    def op_create_partition(self, colls):
        db, name, c = self.rng.choice(colls)
        if self._invalid():  # a partition-key collection refuses it; an existing name is fine
            pk_colls = [x for x in self.model.collections() if x[2].partition_key]
            if pk_colls:
                db, name, c = self.rng.choice(pk_colls)
        part = self._name("p")

        def apply():
            c.partitions[part] = c.load_type == "collection"

        self._run(f"create partition {db}.{name}/{part}", lambda: _status(
            self._stub(db).CreatePartition(milvus_pb2.CreatePartitionRequest(
                db_name=db, collection_name=name, partition_name=part), timeout=30)),
            apply, valid=not c.partition_key)

    def op_drop_partition(self, colls):
        db, name, c = self.rng.choice(colls)
        parts = sorted(p for p in c.partitions if p != "_default")
        part = self.rng.choice(parts)
        if c.partitions[part] and not self._invalid():
            self._release_partitions(db, name, c, [part])
        valid = not c.partitions[part]

        def apply():
            c.partitions.pop(part)
            c.rows = {k: [p for p in v if p != part] for k, v in c.rows.items()}
            c.rows = {k: v for k, v in c.rows.items() if v}
            c.values = {k: v for k, v in c.values.items() if k in c.rows}

        self._run(f"drop partition {db}.{name}/{part}", lambda: _status(
            self._stub(db).DropPartition(milvus_pb2.DropPartitionRequest(
                db_name=db, collection_name=name, partition_name=part), timeout=30)),
            apply, valid)

    # -- indexes

    def op_create_index(self, colls, field=None):
        """An index on a field without one (the vector field first, mostly); sometimes a
        second, different index on an indexed field (refused)."""
        db, name, c = self.rng.choice(colls)
        free = [f for f in c.spec["fields"] if index_choices(f) and f["name"] not in c.indexes]
        vec = vector_field(c.spec)
        valid = True
        if field is not None:
            f = field
        elif c.indexes and (not free or self._invalid()):
            f, valid = _field(c.spec, self.rng.choice(sorted(c.indexes))), False
        elif vec in free and self.rng.random() < 0.7:
            f = vec
        elif free:
            f = self.rng.choice(free)
        else:
            return
        choices = index_choices(f)
        if not valid:
            choices = [p for p in choices if p != c.indexes[f["name"]][1]]
            if not choices:
                return
        params = self.rng.choice(choices)
        index_name = self.rng.choice(["", f"idx_{f['name']}", f"{f['name']}_{_word(self.rng, 3)}"])
        req = milvus_pb2.CreateIndexRequest(db_name=db, collection_name=name,
                                            field_name=f["name"], index_name=index_name)
        for k, v in params.items():
            req.extra_params.add(key=k, value=json.dumps(v) if isinstance(v, dict) else v)
        # An empty name is the field's name on the server.
        self._run(f"create index {db}.{name}.{f['name']} {index_name!r} {json.dumps(params)}",
                  lambda: _status(self._stub(db).CreateIndex(req, timeout=30)),
                  lambda: c.indexes.__setitem__(f["name"], (index_name or f["name"], params)),
                  valid)

    def op_drop_index(self, colls):
        db, name, c = self.rng.choice(colls)
        field = self.rng.choice(sorted(c.indexes))
        if c.loaded and not self._invalid():
            self._release(db, name, c)
        index_name = c.indexes[field][0]
        self._run(f"drop index {db}.{name}.{field} {index_name!r}", lambda: _status(
            self._stub(db).DropIndex(milvus_pb2.DropIndexRequest(
                db_name=db, collection_name=name, field_name=field, index_name=index_name),
                timeout=30)),
            lambda: c.indexes.pop(field), valid=not c.loaded)

    # -- load state

    def _has_vector_index(self, c):
        return vector_field(c.spec)["name"] in c.indexes

    def _loadable(self, c):
        """A load is taken with an index on the vector field, and, while loaded, only with
        the indexes the collection was loaded with."""
        return self._has_vector_index(c) and (not c.loaded or
                                              c.loaded_indexes == sorted(c.indexes))

    def _prepare_load(self, db, name, c):
        """Unless an invalid load was drawn: the vector index, or a release (indexes changed)."""
        if self._invalid():
            return
        if not self._has_vector_index(c):
            self.op_create_index([(db, name, c)], vector_field(c.spec))
        if c.loaded and c.loaded_indexes != sorted(c.indexes):
            self._release(db, name, c)

    def op_load(self, colls):
        db, name, c = self.rng.choice(colls)
        self._prepare_load(db, name, c)

        def apply():
            c.load_type = "collection"
            c.loaded_indexes = sorted(c.indexes)
            for p in c.partitions:
                c.partitions[p] = True

        self._run(f"load {db}.{name}", lambda: _status(self._stub(db).LoadCollection(
            milvus_pb2.LoadCollectionRequest(db_name=db, collection_name=name,
                                             replica_number=1), timeout=30)),
            apply, valid=self._loadable(c))

    def _release(self, db, name, c):
        def apply():
            c.load_type = None
            for p in c.partitions:
                c.partitions[p] = False

        self._run(f"release {db}.{name}", lambda: _status(self._stub(db).ReleaseCollection(
            milvus_pb2.ReleaseCollectionRequest(db_name=db, collection_name=name),
            timeout=30)), apply)

    def op_release(self, colls):
        self._release(*self.rng.choice(colls))

    def _some_partitions(self, c):
        parts = sorted(c.partitions)
        return self.rng.sample(parts, self.rng.randint(1, len(parts))) if parts else []

    def op_load_partitions(self, colls):
        db, name, c = self.rng.choice(colls)
        parts = self._some_partitions(c)
        self._prepare_load(db, name, c)

        def apply():
            c.load_type = c.load_type or "partitions"
            c.loaded_indexes = sorted(c.indexes)
            for p in parts:
                c.partitions[p] = True

        self._run(f"load partitions {db}.{name} {parts}", lambda: _status(
            self._stub(db).LoadPartitions(milvus_pb2.LoadPartitionsRequest(
                db_name=db, collection_name=name, partition_names=parts, replica_number=1),
                timeout=30)), apply, valid=self._loadable(c))

    def _release_partitions(self, db, name, c, parts):
        def apply():
            for p in parts:
                c.partitions[p] = False
            if not any(c.partitions.values()):
                c.load_type = None

        self._run(f"release partitions {db}.{name} {parts}", lambda: _status(
            self._stub(db).ReleasePartitions(milvus_pb2.ReleasePartitionsRequest(
                db_name=db, collection_name=name, partition_names=parts), timeout=30)), apply)

    def op_release_partitions(self, colls):
        db, name, c = self.rng.choice(colls)
        parts = self._some_partitions(c)
        if parts:
            self._release_partitions(db, name, c, parts)

    def op_flush(self, colls):
        """Not awaited (a Flush answers once the segments are sealed, ~10 s here): the answer
        is collected by `flush_results`."""
        db, name, _ = self.rng.choice(colls)
        future = self._stub(db).Flush.future(
            milvus_pb2.FlushRequest(db_name=db, collection_names=[name]), timeout=120)
        self.log.append(f"#{len(self.log) + 1} flush {db}.{name}: issued")
        self._flushes.append((len(self.log), f"{db}.{name}", future))

    def flush_results(self):
        """Waits for the answers of the flushes issued and records them in the log."""
        for line, what, future in self._flushes:
            try:
                _status(future.result())
                self.log.append(f"(#{line}) flush {what}: ok")
            except Exception as e:  # pylint: disable=broad-except
                self.counts["refused"] += 1
                self.log.append(f"(#{line}) flush {what}: refused ({e})")
        self._flushes = []

    # -- data

    def _partition_for_write(self, c):
        if c.partition_key:
            return ""
        return self.rng.choice(sorted(c.partitions))

    def op_insert(self, colls):
        db, name, c = self.rng.choice(colls)
        part = self._partition_for_write(c)
        n = self.rng.choice([1, 1, 5, 20, 50, 200])
        if c.auto_id:
            keys = [None] * n
        else:  # mostly new keys, sometimes a key again (a second copy of the row)
            old = sorted(c.rows, key=str)
            keys = [self.rng.choice(old) if old and self.rng.random() < 0.03 else c.new_pk()
                    for _ in range(n)]
        # A key again gets the values of its copies: a query answers one copy of a key, and
        # which one is up to the server, so copies must not differ.
        rows = [dict(c.values[k]) if k in c.values else random_row(self.rng, c.spec, k)
                for k in keys]
        invalid = not c.partition_key and self._invalid()
        if invalid:
            part = self._name("missing")
        result = {}

        def call():
            result["r"] = self._coll(db, name).insert(rows, partition_name=part or None,
                                                      timeout=60)

        def apply():
            for k, row in zip(result["r"].primary_keys if c.auto_id else keys, rows):
                c.rows.setdefault(k, []).append(part)
                c.values.setdefault(k, row)

        shown = "auto_id" if c.auto_id else _short_keys(keys)
        self._run(f"insert {db}.{name}/{part or '-'} {n} rows {shown}", call, apply,
                  valid=not invalid)

    def op_delete(self, colls):
        db, name, c = self.rng.choice(colls)
        pk = pk_field(c.spec)["name"]
        keys = self.rng.sample(sorted(c.rows, key=str), min(len(c.rows), self.rng.choice(
            [1, 3, 10, 50])))
        if not c.auto_id and self.rng.random() < 0.2:
            keys.append(c.new_pk())  # a key that is not there
        part = ""
        if not c.partition_key and self.rng.random() < 0.2:
            part = self._partition_for_write(c)

        def apply():
            for k in keys:
                left = [p for p in c.rows.get(k, []) if part and p != part]
                if left:
                    c.rows[k] = left
                else:
                    c.rows.pop(k, None)
                    c.values.pop(k, None)

        self._run(f"delete {db}.{name}/{part or '*'} {_short_keys(keys)}", lambda: self._coll(
            db, name).delete(_expr_in(pk, keys), partition_name=part or None, timeout=60),
            apply)

    def op_upsert(self, colls):
        db, name, c = self.rng.choice(colls)
        part = self._partition_for_write(c)
        # Existing keys whose copies are all in that partition, and new keys.
        mine = sorted((k for k, v in c.rows.items() if set(v) == {part}), key=str)
        n = self.rng.choice([1, 5, 20])
        keys = self.rng.sample(mine, min(len(mine), n // 2 + 1)) + [c.new_pk() for _ in range(
            n - min(len(mine), n // 2 + 1))]
        rows = [random_row(self.rng, c.spec, k) for k in keys]

        def apply():
            for k, row in zip(keys, rows):
                c.rows[k] = [part]
                c.values[k] = row

        self._run(f"upsert {db}.{name}/{part or '-'} {_short_keys(keys)}", lambda: self._coll(
            db, name).upsert(rows, partition_name=part or None, timeout=60), apply)

    def op_kill(self, _):
        self.log.append(f"#{len(self.log) + 1} kill -9 milvus-cdc and restart it")
        self.kill_cb()

    # -- the end

    def finish(self):
        """Makes every collection queryable: a vector index and LoadCollection on each
        (issued like any operation, so they replicate too)."""
        self.flush_results()
        self._finishing = True
        for db, name, c in self.model.collections():
            if not self._has_vector_index(c):
                self.op_create_index([(db, name, c)], vector_field(c.spec))
            if c.loaded and c.loaded_indexes != sorted(c.indexes):
                self._release(db, name, c)
            if c.load_type != "collection" or not all(c.partitions.values()):
                self.op_load([(db, name, c)])

    def cleanup(self):
        """Drops what the generator made on the source (best effort)."""
        for db, name, _ in self.model.collections():
            try:
                self._stub(db).DropCollection(milvus_pb2.DropCollectionRequest(
                    db_name=db, collection_name=name), timeout=30)
            except Exception:  # pylint: disable=broad-except
                pass
        for db in sorted(self.model.dbs):
            if db != "default":
                try:
                    self._stub("default").DropDatabase(milvus_pb2.DropDatabaseRequest(
                        db_name=db), timeout=30)
                except Exception:  # pylint: disable=broad-except
                    pass


def _short_keys(keys):
    keys = list(keys)
    return json.dumps(keys if len(keys) <= 6 else keys[:3] + ["..."] + keys[-2:])

