#pragma once
// What a replica must hold like its source besides the rows: the collection's schema,
// partitions, indexes and load state, read from a Milvus and compared. ReadMeta talks to a
// MilvusReader (thread-safe if the reader is); CompareMeta is pure.
#include <map>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "verify/result.h"

namespace cdc::verify {

struct CollectionMeta {
  bool exists = false;  // false: the collection is not there (nothing else is read)
  target::CollectionDescription desc;
  std::vector<std::string> partitions;  // names, sorted
  std::vector<target::IndexInfo> indexes;
  target::commonpb::LoadState load = target::commonpb::LoadStateNotExist;
  // By partition name; empty for a partition-key collection (loaded as a whole).
  std::map<std::string, target::commonpb::LoadState> partition_load;
};

// Reads the collection's description, partitions, indexes and load states. A missing
// collection is a CollectionMeta with exists = false, not an error.
Result<CollectionMeta> ReadMeta(target::MilvusReader& reader, const std::string& db,
                                const std::string& collection);

// The differences between a source collection and its replica, with what each side holds:
// - "collection": missing on one side;
// - "schema": description, dynamic field, and per field (by position) name, id, type,
//   element type, primary key, auto id, partition key, dynamic, description, type params and
//   default value; shards, consistency level, partition count of partition-key collections
//   and properties;
// - "partitions": names;
// - "indexes": by index name, the field and the params (index_type, metric_type, params JSON
//   compared as JSON);
// - "load_state": the collection's and each common partition's.
// Ids and channel names are the target's own and never compared.
std::vector<Difference> CompareMeta(const CollectionMeta& source, const CollectionMeta& target);

// "LoadStateLoaded" -> "Loaded" etc.
std::string LoadStateName(target::commonpb::LoadState s);

}  // namespace cdc::verify
