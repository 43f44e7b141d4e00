#pragma once
// What the catalog knows about a source Milvus: databases, collections, partitions, and the
// create/drop events between two states. Plain values, copied out to callers.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "milvus/etcd_meta.pb.h"
#include "source/position.h"

namespace cdc::source {

inline constexpr int64_t kDefaultDatabaseId = 1;  // Milvus's "default" database
inline constexpr char kDefaultDatabaseName[] = "default";

struct DatabaseMeta {
  int64_t id = 0;
  std::string name;
  int state = 0;  // etcd.DatabaseState
  uint64_t created_time = 0;
};

struct PartitionMeta {
  int64_t id = 0;
  std::string name;
  int64_t collection_id = 0;
  uint64_t created_ts = 0;
  int state = 0;  // etcd.PartitionState
};

struct CollectionMeta {
  int64_t db_id = 0;
  std::string db_name;
  bool legacy_key = false;  // read from root-coord/collection/{id} (pre-database layout)
  // As stored, with schema.fields filled from root-coord/fields/ (user fields, id >= 100) and
  // enable_dynamic_field set when a `$meta`/dynamic field exists.
  milvus::proto::etcd::CollectionInfo info;
  std::map<int64_t, PartitionMeta> partitions;  // by partition id
  std::vector<std::string> aliases;             // its live aliases, sorted
  int64_t key_revision = 0;  // etcd revision of the last write of its collection key

  int64_t id() const { return info.id(); }
  const std::string& name() const { return info.schema().name(); }
  // Where the collection's data begins in each physical channel: the MQ id of its
  // CreateCollection message (key = pchannel), with `ts` as the resume timestamp.
  std::map<std::string, MsgPosition> StartPositions(uint64_t ts) const;
  // Exact-name lookup; nullptr if absent.
  const PartitionMeta* FindPartition(const std::string& name) const;
};

// An index of a collection as the source's datacoord keeps it (field-index/ in etcd).
struct IndexMeta {
  int64_t field_id = 0;
  std::string name;
  // What the user asked for (user_index_params; index_params when a writer left it empty).
  std::vector<std::pair<std::string, std::string>> params;
};

// A collection's load state as the source's querycoord keeps it (querycoord-*-loadinfo/).
struct LoadMeta {
  bool loaded = false;        // loading or loaded
  bool by_partition = false;  // loaded with load(partition_names=...)
  int32_t replicas = 1;
  std::vector<int64_t> partitions;  // the loaded partitions, when by_partition
};

struct CatalogEvent {
  enum class Kind {
    kDatabaseCreated,
    kDatabaseDropped,
    kCollectionCreated,
    kCollectionDropped,
    kPartitionCreated,
    kPartitionDropped,
  };
  Kind kind;
  int64_t db_id = 0;
  std::string db_name;
  int64_t collection_id = 0;
  std::string collection_name;
  int64_t partition_id = 0;
  std::string partition_name;
  uint64_t ts = 0;       // create ts (collection/partition), else 0
  int64_t revision = 0;  // etcd revision of the change
};

std::string DescribeEvent(const CatalogEvent& e);

}  // namespace cdc::source
