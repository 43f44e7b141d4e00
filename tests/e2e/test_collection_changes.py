"""Changes a Milvus 2.3 source keeps only in its catalog (no message on any channel): aliases
(create, alter, drop) and rename, checked on the target by describe; rows written after a
rename land in the renamed copy.

Properties (e.g. the TTL) too: a 2.3.5 source's AlterCollection rewrites the collection's
catalog key without them (they stay in its memory), so that write makes milvus-cdc ask the
source's proxy (sourceConfig.milvus) for them.
"""
from pymilvus import Collection, utility

from seed import rows
from test_replication import eventually, loaded_source_collection, target_ids

TTL = "collection.ttl.seconds"


def target_aliases(target, name):
    return sorted(utility.list_aliases(name, using=target))


def target_properties(target, name):
    return Collection(name, using=target).describe().get("properties") or {}


def test_aliases_properties_and_rename_replicate(replicating, source, target, names):
    c1, c2 = names("coll"), names("coll")
    a1, a2 = names("alias"), names("alias")
    renamed = c1 + "_r"
    src1 = loaded_source_collection(source, c1)
    loaded_source_collection(source, c2)
    src1.insert(rows(range(10)))
    eventually(lambda: target_ids(target, c1) == list(range(10)), f"the rows of {c1}")

    utility.create_alias(c1, a1, using=source)
    utility.create_alias(c1, a2, using=source)
    src1.set_properties({TTL: 3600})
    eventually(lambda: target_aliases(target, c1) == sorted([a1, a2]), f"aliases of {c1}")
    eventually(lambda: target_properties(target, c1).get(TTL) == "3600", f"the TTL of {c1}")

    # a2 moves to c2, a1 goes, the TTL changes and c1 gets another name.
    utility.alter_alias(c2, a2, using=source)
    utility.drop_alias(a1, using=source)
    src1.set_properties({TTL: 7200})
    utility.rename_collection(c1, renamed, using=source)
    eventually(lambda: utility.has_collection(renamed, using=target) and
               not utility.has_collection(c1, using=target), f"the rename of {c1}")
    eventually(lambda: target_aliases(target, c2) == [a2], f"alias {a2} on {c2}")
    assert target_aliases(target, renamed) == []
    eventually(lambda: target_properties(target, renamed).get(TTL) == "7200",
               f"the TTL of {renamed}")

    # The renamed collection keeps replicating, under its new name.
    Collection(renamed, using=source).insert(rows(range(10, 15)))
    eventually(lambda: target_ids(target, renamed) == list(range(15)), f"new rows of {renamed}")

    utility.drop_alias(a2, using=source)
    for name in (renamed, c2):
        c = Collection(name, using=source)
        c.release()
        c.drop()
    eventually(lambda: not utility.has_collection(renamed, using=target) and
               not utility.has_collection(c2, using=target), "the drops")
