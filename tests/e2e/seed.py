"""The data every end-to-end test uses: an int64 primary key and an 8-dim float vector."""
from pymilvus import CollectionSchema, DataType, FieldSchema

DIM = 8
FLAT_L2 = {"index_type": "FLAT", "metric_type": "L2", "params": {}}


def schema():
    return CollectionSchema([
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
    ])


def rows(ids):
    """Column-wise rows for Collection.insert: ids and one vector per id."""
    return [list(ids), [[float(i)] * DIM for i in ids]]
